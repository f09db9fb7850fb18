/* The roster's use cases, called alike by the HTTP handlers and attendctl: people (create, update,
 * activate/deactivate, erase), their face templates (enrol, delete), shifts and schedules. Each runs
 * its whole sequence: checks of the values, one transaction holding the change and its audit row,
 * the gallery kept in step (and put back when the commit fails), the data-version bump. A refused
 * call changes nothing and writes no audit row: auditing the refusal is the caller's. */
#ifndef ATTENDD_ROSTER_H
#define ATTENDD_ROSTER_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/enrol.h"
#include "attendd/errors.h"
#include "attendd/gallery.h"
#include "attendd/photo.h"
#include "attendd/store_audit.h"
#include "attendd/store_consent.h"
#include "attendd/store_people.h"
#include "attendd/store_shifts.h"
#include "attendd/template_crypto.h"
#include "attendd/tz.h"
#include "attendd/uuid.h"
#include "attendd/vpool.h"

/* What the people and face use cases work with; members a use case does not need may be NULL. */
struct roster_deps {
    PGconn *db;                       /* the caller's connection, no transaction open */
    gal *gallery;                     /* the loaded in-memory gallery, or NULL in a process without one
                                         (attendctl: the daemon picks the change up when it next loads) */
    const tcrypt_key *template_key;   /* encrypts new templates (enrolment) */
    vpool *vision;                    /* face pipelines (enrolment); NULL while the models are not loaded */
    int vision_wait_ms;               /* how long enrolment waits for a free pipeline */
    const struct enrol_policy *enrol; /* enrolment checks */
    uint64_t max_image_pixels;        /* identification: decoded-size limit of a photo */
    double match_threshold;           /* identification: similarity a match needs */
    int max_templates;                /* templates a person may have; enrolling one more is ATT_E_CONFLICT */
};

/* Roster writes that change the gallery hold this lock from their transaction to the gallery
 * update, so the gallery applies them in the order they committed. Exposed for tests. */
void roster_lock(void);
void roster_unlock(void);

/* ---- people ------------------------------------------------------------------------------------ */

/* ATT_E_INVALID for a field person_new_invalid_field refuses (or the database refuses),
 * ATT_E_CONFLICT when the employee_no is taken. id: the new person's id. Audit "person.create". */
att_err roster_person_create(const struct roster_deps *d, const struct audit_actor *a, const struct person_new *p,
                             char id[ATT_UUID_STR]);

/* Apply a patch; set_active switches the person's faces in or out of gallery searches at once;
 * biometric false (the opt-out) deletes the person's templates in the same transaction and takes
 * them out of the gallery, biometric true needs consent given (ATT_E_CONSENT_REQUIRED otherwise).
 * ATT_E_NOT_FOUND (no such person, or a malformed id), ATT_E_INVALID, ATT_E_CONFLICT (employee_no
 * or badge_id taken). out: the person as committed. Audit "person.update" naming the fields, never
 * their values (and faces_deleted for an opt-out). */
att_err roster_person_update(const struct roster_deps *d, const struct audit_actor *a, const char *id,
                             const struct person_patch *p, struct person *out);

/* Erase a person: faces deleted, personal fields cleared, the tombstone kept for past events; the
 * gallery forgets the person at once. ATT_E_NOT_FOUND. faces: how many templates went (may be
 * NULL). Audit "person.erase" with the count. */
att_err roster_person_erase(const struct roster_deps *d, const struct audit_actor *a, const char *id, size_t *faces);

/* ---- the consent register ----------------------------------------------------------------------- */

/* Add the next consent text version (language: BCP 47 tag; body: the text, word for word). *out:
 * the stored text, one malloc'd block (free it). ATT_E_INVALID for a bad language or body. Audit
 * "consent_text.create" (target type "consent_text", the version). */
att_err roster_consent_text_add(const struct roster_deps *d, const struct audit_actor *a, const char *language,
                                const char *body, struct consent_text **out);

/* Record a person's consent: CONSENT_GIVEN to consent text text_version (the person may then be
 * enrolled; biometric turns on), CONSENT_WITHDRAWN (text_version 0 or the text withdrawn from): every
 * template of the person is deleted in the same transaction, biometric turns off (the person punches
 * at a kiosk) and the gallery forgets the person at once. ATT_E_NOT_FOUND (no such person),
 * ATT_E_INVALID, ATT_E_CONFLICT (no consent text text_version). faces_deleted (may be NULL): how many
 * templates went. Audit "consent.give" / "consent.withdraw" with the version and the count. */
att_err roster_consent_record(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                              enum consent_state state, int text_version, size_t *faces_deleted);

/* Set a person's kiosk PIN (4 to 12 digits; stored as an argon2id string, never the PIN); a locked
 * PIN is unlocked and its failure count starts over. ATT_E_NOT_FOUND, ATT_E_INVALID (not a PIN).
 * Audit "person.pin_set" (no detail: nothing about the PIN). */
att_err roster_person_pin_set(const struct roster_deps *d, const struct audit_actor *a, const char *id,
                              const char *pin);

/* ---- face templates ---------------------------------------------------------------------------- */

/* How an accepted photo scored against one person it is warned about. */
struct roster_warning_score {
    float similarity;         /* fr_feature: the best similarity to the person's templates */
    float confirm_similarity; /* the confirming model's best (when confirmed; else 0) */
    float fused;              /* both fused, av_fuse_scores (when confirmed; else 0) */
    bool confirmed;           /* judged on fused: the photo and the person both carry a confirming
                                 template; false: judged on similarity alone */
    double threshold;         /* what the judged score was held against (fused or similarity units) */
};

/* What enrolment reports about a photo, accepted or not; the template itself never leaves the use
 * case (it goes encrypted to the database and in clear only to the gallery). */
struct roster_enrolment {
    char person_id[ATT_UUID_STR]; /* canonical (lower-case) person id */
    char face_id[ATT_UUID_STR];   /* the new template's id (on success) */
    enrol_outcome outcome;        /* the policy's verdict (ENROL_OK on success) */
    av_face face;                 /* the face judged (when one was found) */
    av_quality quality;           /* its quality report (from ENROL_TOO_BLURRY on) */
    av_pose pose;                 /* its head pose, degrees (ENROL_OK and ENROL_NOT_FRONTAL) */
    char detail[256];             /* on failure: the reason, for people (no personal data) */
    /* an accepted photo measured against the gallery before it was added (no gallery: not measured) */
    size_t own_templates;              /* the person's templates already held */
    struct roster_warning_score own;   /* against them (when own_templates > 0) */
    bool unlike_own;                   /* below the 1:1 threshold: likely someone else's photo */
    bool look_alike;                   /* another person reaches the identification threshold */
    char look_alike_id[ATT_UUID_STR];  /* that person */
    struct roster_warning_score alike; /* and how (when look_alike) */
};

/* Enrol one photo for a person (one more template, up to d->max_templates; one more is ATT_E_CONFLICT,
 * checked before the analysis and again under the lock): person checked (ATT_E_CONSENT_REQUIRED unless the person's consent is
 * given, ATT_E_BIOMETRIC_OFF when the person opted out; both checked again under the person's row
 * lock when the template is stored, so a withdrawal during the analysis wins), photo analysed under
 * d->enrol, template encrypted with d->template_key and stored with its audit row ("face.enrol"), added to d->gallery. Errors:
 * ATT_E_NOT_FOUND (no such person), ATT_E_NOT_READY (no models), ATT_E_UNAVAILABLE (no pipeline
 * free in time), the outcome's error (enrol_outcome_error) for a photo the policy refuses, store and
 * gallery errors; out->detail says why in every case. */
att_err roster_face_enrol(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                          const void *photo, size_t len, struct roster_enrolment *out);

/* The quality report of a judged photo as far as the check got, as stored with the template and
 * answered by the API; NULL when no face was measured (or out of memory). */
json_t *roster_quality_json(const struct roster_enrolment *e);
/* The warnings about an accepted photo, an array (empty when none; NULL when out of memory): code
 * "unlike_own_templates" (the photo is not verified as the person against the templates the person
 * already has: likely the wrong photo) and "look_alike" (another person, person_id, would be
 * identified from it), each with similarity, confirm_similarity and fused (null when judged on
 * fr_feature alone), the threshold judged at, and a detail for people. */
json_t *roster_enrol_warnings_json(const struct roster_enrolment *e);

/* Delete one template of a person; it leaves the gallery at once. ATT_E_NOT_FOUND when the person
 * has no such face (or an id is malformed). Audit "face.delete". */
att_err roster_face_delete(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                           const char *face_id);

/* ---- identification ------------------------------------------------------------------------------ */

/* One face of an identified photo. */
struct roster_face_match {
    av_box box;               /* where, image px */
    float liveness;           /* P(real face) */
    bool matched;             /* accepted (fused score, or fr_feature alone, at its threshold) and the person is
                                 on the roster, active */
    float similarity;         /* fr_feature's similarity of the match (when matched; 0 otherwise: no score below
                                 the threshold) */
    bool confirmed;           /* the match was judged on the fused score: probe and person have confirming
                                 templates (false: fr_feature alone at the fr threshold) */
    float confirm_similarity; /* the confirming model's best similarity of the match (when confirmed; else 0) */
    float fused;              /* av_fuse_scores of both (when confirmed; else 0), at least the fused threshold */
    struct person person;     /* the match (when matched) */
};

/* Every face of a photo with its best match (nothing is stored; auditing the read is the caller's). */
struct roster_identification {
    int width, height; /* the photo's size */
    size_t n;          /* faces found (with landmarks), largest first */
    struct roster_face_match faces[PHOTO_MAX_FACES];
    char detail[256]; /* on failure: why, for people */
};

/* Whether a face's scores f against a person reach identification: the fused score at
 * roster_fused_threshold(match_threshold) when f is confirmed, else fr_feature alone at
 * match_threshold. *key (always set) ranks accepted people: the fused score, or fr_feature's
 * z-score (the fused score's units) for one judged alone. */
bool roster_identifies(const struct gal_fused *f, double match_threshold, float *key);

/* The fused score a match needs when the fr threshold is match_threshold: AV_FUSED_THRESHOLD (the
 * calibrated value, docs/vision.md) scaled by match_threshold's z-score over AV_DEFAULT_THRESHOLD's,
 * so the one threshold an operator sets moves both (at the default, exactly AV_FUSED_THRESHOLD). */
double roster_fused_threshold(double match_threshold);

/* Find, embed and match every face of photo against d->gallery: fr_feature's five best people
 * re-ranked by the fused score of both models, accepted at roster_fused_threshold(d->match_threshold); a person
 * without confirming templates is judged by fr_feature alone at d->match_threshold. Below the
 * thresholds nothing is given, neither who was nearest nor how near: no score a caller could tune an image against. Errors: ATT_E_BAD_IMAGE (an
 * unusable photo), ATT_E_NOT_READY (no models), ATT_E_UNAVAILABLE (no pipeline free in time), store
 * and vision errors; out->detail says why. */
att_err roster_identify(const struct roster_deps *d, const void *photo, size_t len, struct roster_identification *out);

/* ---- shifts and schedules ------------------------------------------------------------------------ */

/* A new shift: name, "HH:MM" local start and end (an end not after start ends the next day). */
struct shift_new {
    const char *name, *start, *end;
    int grace_late_min, grace_early_min, break_min;
    const struct shift_patch *pay; /* pay rules (round_min, round_favour, break_punched) set at once; or NULL */
};

/* Errors as store_shift_create / _update / _delete (ATT_E_CONFLICT: name taken, or for delete the
 * shift is still scheduled; ATT_E_NOT_FOUND; ATT_E_INVALID). Audit "shift.create" / "shift.update" /
 * "shift.delete" (target type "shift") in the same transaction. */
att_err roster_shift_create(PGconn *c, const struct audit_actor *a, const struct shift_new *s, struct shift_row *out);
att_err roster_shift_update(PGconn *c, const struct audit_actor *a, const char *id, const struct shift_patch *p,
                            struct shift_row *out);
att_err roster_shift_delete(PGconn *c, const struct audit_actor *a, const char *id);

/* A new schedule: a shift for exactly one of a department or a person, from valid_from
 * ("YYYY-MM-DD") to valid_to (inclusive; NULL = open-ended). */
struct schedule_new {
    const char *shift_id, *department, *person_id, *valid_from, *valid_to;
};

/* Errors as store_schedule_create / _update / _delete; *bad names the missing referent
 * ("shift_id", "person_id") of an ATT_E_NOT_FOUND. Audit "schedule.create" / "schedule.update" /
 * "schedule.delete" (target type "schedule") in the same transaction. */
att_err roster_schedule_create(PGconn *c, const struct audit_actor *a, const struct schedule_new *s,
                               struct schedule_row *out, const char **bad);
att_err roster_schedule_update(PGconn *c, const struct audit_actor *a, const char *id, const struct schedule_patch *p,
                               struct schedule_row *out, const char **bad);
att_err roster_schedule_delete(PGconn *c, const struct audit_actor *a, const char *id);

/* ---- roster definitions, holidays, leave, exceptions and pay periods ------------------------------------ */

/* One audited write of a definition (src/roster/definitions.c): an optional check naming a missing
 * referent, then the statement that changes one row and answers it as JSON, and the audit row, in one
 * transaction. */
struct roster_def_write {
    const char *action;      /* audit action, "roster_pattern.create", ... */
    const char *target_type; /* audit target type; the target id is the row's "id" */
    const char *refs_stmt;   /* statement naming a missing referent ("" none), or NULL */
    int refs_n;              /* its parameters */
    const char *const *refs_v;
    const char *stmt;     /* the change: yields the row as JSON text */
    int n;                /* parameters of stmt */
    const char *const *v; /* text parameters (NULL = SQL NULL) */
    const char *detail;   /* audit detail JSON text (ids and reasons, no names), or NULL */
    json_t *row;          /* out: the row as committed (caller json_decref's) */
    char missing[32];     /* out: on ATT_E_NOT_FOUND from the check, the field naming nothing */
};

/* ATT_E_NOT_FOUND (no such row, or w->missing set), ATT_E_CONFLICT (unique), ATT_E_INVALID (the database
 * refused a value), ATT_E_PERIOD_CLOSED (a closed pay period covers the change), store errors. Bumps the
 * data version on success. */
att_err roster_def_write(PGconn *c, const struct audit_actor *a, struct roster_def_write *w);

struct pay_rules;
/* Close (close true) or reopen a pay period with its audit row ("period.close" / "period.reopen", detail
 * JSON text with the reason) in one transaction. Closing computes every person's totals over the period
 * (timesheet_payroll_rows, in tz with rules) and keeps them: the period's export is served from them while
 * it is closed. ATT_E_NOT_FOUND when no period has this id or it is in that state already (*row NULL);
 * store errors. *row: the period as committed. */
att_err roster_period_switch(PGconn *c, const struct audit_actor *a, const char *id, bool close, const char *detail,
                             const att_tz *tz, const struct pay_rules *rules, json_t **row);

struct holiday_item;
/* Add the holidays of an imported calendar whose days are not holidays yet, with one audit row
 * "holiday.import" (detail: days given and added), in one transaction. *added: how many were new.
 * ATT_E_PERIOD_CLOSED when a new one falls in a closed pay period (nothing is added); store errors. */
att_err roster_holidays_import(PGconn *c, const struct audit_actor *a, const struct holiday_item *items, size_t n,
                               size_t *added);

#endif
