/* Face templates of people on the roster: enrol a photo (analysed, encrypted, stored with its audit
 * row, added to the gallery; the gallery put back when the commit fails) and delete a template. */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/fuse.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_faces.h"
#include "src/roster/roster_internal.h"

json_t *roster_quality_json(const struct roster_enrolment *r)
{
    switch (r->outcome) {
    case ENROL_OK:
    case ENROL_TOO_BLURRY:
    case ENROL_NOT_FRONTAL:
    case ENROL_SPOOF_SUSPECTED: {
        json_t *q = json_pack("{s:f, s:f, s:f, s:f, s:f}", "size_px", (double)r->quality.size_px, "sharpness",
                              (double)r->quality.sharpness, "frontalness", (double)r->quality.frontalness, "yaw",
                              (double)r->quality.yaw, "liveness", (double)r->quality.liveness);
        /* the pose is measured after liveness: only a photo that got that far has one */
        if (q && (r->outcome == ENROL_OK || r->outcome == ENROL_NOT_FRONTAL) &&
            (json_object_set_new(q, "yaw_deg", json_real((double)r->pose.yaw_deg)) != 0 ||
             json_object_set_new(q, "pitch_deg", json_real((double)r->pose.pitch_deg)) != 0)) {
            json_decref(q);
            return NULL;
        }
        return q;
    }
    case ENROL_FACE_TOO_SMALL: return json_pack("{s:f}", "size_px", (double)(r->face.box.y2 - r->face.box.y1));
    default: return NULL;
    }
}

/* A score of a warning, or null (judged on fr_feature alone: no confirming side to fuse). */
static json_t *score(bool present, float v) { return present ? att_json_float(v) : json_null(); }

/* One warning: its code, the scores it was judged on and why, in words (person_id for a look-alike). */
static json_t *warning_json(const char *code, const char *person_id, const struct roster_warning_score *w,
                            const char *detail)
{
    bool c = w->confirmed;
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "code", code, "similarity", att_json_float(w->similarity),
                          "confirm_similarity", score(c, w->confirm_similarity), "fused", score(c, w->fused),
                          "threshold", att_json_float((float)w->threshold), "detail", detail);
    if (o && person_id && json_object_set_new(o, "person_id", json_string(person_id)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The scores of w in words: "fused 1.23 (similarity 0.31, confirming 0.87)" or "0.31". */
static void score_words(const struct roster_warning_score *w, char *buf, size_t len)
{
    if (w->confirmed)
        snprintf(buf, len, "fused %.2f (similarity %.2f, confirming %.2f)", (double)w->fused, (double)w->similarity,
                 (double)w->confirm_similarity);
    else snprintf(buf, len, "%.2f", (double)w->similarity);
}

json_t *roster_enrol_warnings_json(const struct roster_enrolment *r)
{
    json_t *a = json_array();
    if (a == NULL) return NULL;
    char detail[320], scores[96];
    if (r->unlike_own) {
        score_words(&r->own, scores, sizeof scores);
        snprintf(detail, sizeof detail,
                 "the photo scores %s against the person's %zu other template(s), below the %s %.2f: check that it "
                 "shows this person",
                 scores, r->own_templates,
                 r->own.confirmed ? "one-to-one fused threshold" : "match threshold (no confirming template to fuse)",
                 r->own.threshold);
        if (json_array_append_new(a, warning_json("unlike_own_templates", NULL, &r->own, detail)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    if (r->look_alike) {
        score_words(&r->alike, scores, sizeof scores);
        snprintf(detail, sizeof detail,
                 "the photo scores %s against another person, at or above the %s %.2f: a look-alike the cameras may "
                 "confuse, or that person's photo",
                 scores,
                 r->alike.confirmed ? "fused identification threshold"
                                    : "match threshold (no confirming template to fuse)",
                 r->alike.threshold);
        if (json_array_append_new(a, warning_json("look_alike", r->look_alike_id, &r->alike, detail)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Fail with e and a reason in out->detail. */
#define REFUSE(out, e, ...) att_fail((e), (out)->detail, sizeof(out)->detail, __VA_ARGS__)

/* ATT_E_CONFLICT (out->detail says why) when the person already has d->max_templates templates. */
static att_err check_template_room(PGconn *c, const struct roster_deps *d, struct roster_enrolment *out)
{
    struct face_meta *list = NULL;
    size_t n = 0;
    att_err e = store_face_list(c, out->person_id, &list, &n);
    free(list);
    if (e != ATT_OK) return e;
    if (n >= (size_t)d->max_templates)
        return REFUSE(out, ATT_E_CONFLICT,
                      "the person already has %zu templates, as many as max_templates_per_person (%d) allows; delete "
                      "one first",
                      n, d->max_templates);
    return ATT_OK;
}

/* The scores of f held against threshold. */
static struct roster_warning_score warning_score(const struct gal_fused *f, double threshold)
{
    return (struct roster_warning_score){.similarity = f->similarity,
                                         .confirm_similarity = f->confirmed ? f->confirm_similarity : 0.0f,
                                         .fused = f->confirmed ? f->fused : 0.0f,
                                         .confirmed = f->confirmed,
                                         .threshold = threshold};
}

/* People besides the enrolled one that the look-alike check weighs: as many as identification
 * re-ranks, so a look-alike is whoever identification could name from this photo. */
#define LOOK_ALIKE_CANDIDATES 5

/* The accepted photo r against the gallery before it joins it, each side judged on the fused score
 * of both models when the photo and that person both carry a confirming template, else on
 * fr_feature alone at match_threshold (a person enrolled without the confirming model):
 * - the person's own templates, as one claimed person (1:1, as a track's confirmation is judged):
 *   unlike_own below AV_FUSED_VERIFY_THRESHOLD;
 * - everyone else, as identification judges a photo (roster_identifies): fr_feature's best few
 *   re-ranked, look_alike for the best one identification would name. */
static att_err enrol_warnings(const struct roster_deps *d, const struct enrol_result *r, struct roster_enrolment *out)
{
    if (d->gallery == NULL) return ATT_OK;
    const float *confirm = r->has_confirm ? r->confirm : NULL;
    struct gal_fused f;
    att_err e =
        gal_person_fused(d->gallery, out->person_id, &(struct gal_face_probe){.fr = r->emb, .confirm = confirm}, &f);
    if (e != ATT_OK && e != ATT_E_NOT_FOUND) return e; /* not found: the person's first template (f zeroed) */
    out->own_templates = f.templates;
    if (f.templates > 0) {
        out->own = warning_score(&f, f.confirmed ? (double)AV_FUSED_VERIFY_THRESHOLD : d->match_threshold);
        out->unlike_own = f.confirmed ? f.fused < AV_FUSED_VERIFY_THRESHOLD : (double)f.similarity < d->match_threshold;
    }
    struct gal_match m[LOOK_ALIKE_CANDIDATES + 1]; /* the person may be among fr_feature's best */
    size_t nm = 0;
    if ((e = gal_topk(d->gallery, r->emb, LOOK_ALIKE_CANDIDATES + 1, m, &nm)) != ATT_OK) return e;
    float best_key = -INFINITY;
    for (size_t i = 0; i < nm; i++) {
        char pid[ATT_UUID_STR];
        att_uuid_format(&m[i].person, pid);
        if (strcmp(pid, out->person_id) == 0) continue;
        e = gal_person_fused(d->gallery, pid,
                             &(struct gal_face_probe){.fr_similarity = m[i].similarity, .confirm = confirm}, &f);
        if (e == ATT_E_NOT_FOUND) continue; /* removed meanwhile */
        if (e != ATT_OK) return e;
        float key;
        if (!roster_identifies(&f, d->match_threshold, &key) || key <= best_key) continue;
        best_key = key;
        out->look_alike = true;
        snprintf(out->look_alike_id, sizeof out->look_alike_id, "%s", pid);
        out->alike = warning_score(&f, f.confirmed ? roster_fused_threshold(d->match_threshold) : d->match_threshold);
    }
    return ATT_OK;
}

/* The transaction of an accepted photo, in the order that keeps database and gallery in step: row
 * inserted, gallery updated, audit row; a failure after the gallery step takes the template out. */
struct enrol_write {
    const struct roster_deps *d;
    const struct audit_actor *actor;
    struct roster_enrolment *out;
    const float *emb;           /* the plaintext template */
    const unsigned char *blob;  /* ... encrypted */
    const float *confirm;       /* the plaintext confirming template, or NULL when the face has none */
    const unsigned char *cblob; /* ... encrypted */
    const char *quality;        /* its quality report, JSON text */
    bool in_gallery;            /* the gallery holds the template (taken out again on failure) */
    bool changed;               /* row and gallery done: a later failure is the audit row's */
};

static void enrol_undo(void *arg)
{
    struct enrol_write *w = arg;
    if (!w->in_gallery) return;
    att_err g = gal_face_remove(w->d->gallery, w->out->face_id);
    if (g != ATT_OK) log_error("roster", "face %s: not taken out of the gallery: %s", w->out->face_id, att_err_code(g));
    w->in_gallery = false;
}

static att_err enrol_run(PGconn *c, void *arg)
{
    struct enrol_write *w = arg;
    struct roster_enrolment *out = w->out;
    const char *pid = out->person_id, *fid = out->face_id;
    w->changed = false;
    struct person p;
    /* read under the transaction (and the roster lock): the gallery gets the active flag as committed */
    att_err e = store_person_get(c, pid, &p);
    /* again, under the lock: two enrolments cannot both take the last place */
    if (e == ATT_OK && (e = check_template_room(c, w->d, out)) == ATT_E_CONFLICT) return e;
    if (e == ATT_OK)
        e = store_face_insert(c, pid, fid, ENROL_MODEL_ID, tcrypt_key_id(w->d->template_key), w->blob,
                              TCRYPT_BLOB_BYTES, w->quality);
    if (e == ATT_OK && w->cblob)
        e = store_face_set_confirm(c, pid, fid, ENROL_CONFIRM_MODEL_ID, tcrypt_key_id(w->d->template_key), w->cblob,
                                   TCRYPT_CONFIRM_BLOB_BYTES);
    if (e != ATT_OK)
        return REFUSE(out, e, "%s",
                      e == ATT_E_NOT_FOUND              ? "no person with this id"
                          : e == ATT_E_CONSENT_REQUIRED ? "consent was withdrawn while the photo was analysed"
                          : e == ATT_E_BIOMETRIC_OFF    ? "the person opted out of face recognition meanwhile"
                                                        : "the template could not be stored");
    if (w->d->gallery) {
        e = gal_person_put(w->d->gallery, pid, p.active, NULL);
        if (e == ATT_OK) e = gal_face_add(w->d->gallery, pid, fid, w->emb);
        if (e == ATT_OK) w->in_gallery = true;
        if (e == ATT_OK && w->confirm) e = gal_face_set_confirm(w->d->gallery, fid, w->confirm);
        if (e != ATT_OK) {
            log_error("roster", "face %s of person %s: gallery refused the template: %s", fid, pid, att_err_code(e));
            return REFUSE(out, e, "the template could not be added to the gallery; nothing was stored");
        }
        w->in_gallery = true;
    }
    w->changed = true;
    json_t *o = json_pack("{s:s}", "face_id", fid);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    e = detail ? store_audit_ok(c, w->actor, "face.enrol", "person", pid, detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        log_error("roster", "audit row for face.enrol not written: %s", att_err_code(e));
        enrol_undo(w);
    }
    return e;
}

/* Encrypt the accepted template r and commit it under the roster lock. */
static att_err enrol_store(const struct roster_deps *d, const struct audit_actor *a, const struct enrol_result *r,
                           struct roster_enrolment *out)
{
    unsigned char blob[TCRYPT_BLOB_BYTES], cblob[TCRYPT_CONFIRM_BLOB_BYTES];
    att_err e = tcrypt_encrypt(d->template_key, r->emb, out->person_id, out->face_id, ENROL_MODEL_ID, blob);
    if (e == ATT_OK && r->has_confirm)
        e = tcrypt_confirm_encrypt(d->template_key, r->confirm, out->person_id, out->face_id, ENROL_CONFIRM_MODEL_ID,
                                   cblob);
    if (e != ATT_OK) return REFUSE(out, e, "the template could not be encrypted");
    json_t *q = roster_quality_json(out);
    char *quality = q ? json_dumps(q, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(q);
    if (quality == NULL) return REFUSE(out, ATT_E_NOMEM, "out of memory");
    struct enrol_write w = {.d = d,
                            .actor = a,
                            .out = out,
                            .emb = r->emb,
                            .blob = blob,
                            .confirm = r->has_confirm ? r->confirm : NULL,
                            .cblob = r->has_confirm ? cblob : NULL,
                            .quality = quality};
    roster_lock();
    e = db_transaction(d->db, enrol_run, enrol_undo, &w);
    roster_unlock();
    free(quality);
    if (e != ATT_OK && w.changed) {
        e = roster_unaudited(e);
        REFUSE(out, e, "the change and its audit row could not be committed; nothing was changed");
    }
    if (e == ATT_OK) app_data_version_bump();
    return e;
}

att_err roster_face_enrol(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                          const void *photo, size_t len, struct roster_enrolment *out)
{
    memset(out, 0, sizeof *out);
    att_uuid u;
    if (!att_uuid_parse(person_id, &u)) return REFUSE(out, ATT_E_NOT_FOUND, "no person with this id");
    att_uuid_format(&u, out->person_id);
    /* before the models run: an unknown person costs a query, not an analysis */
    struct person p;
    att_err e = store_person_get(d->db, out->person_id, &p);
    if (e != ATT_OK)
        return REFUSE(out, e, "%s", e == ATT_E_NOT_FOUND ? "no person with this id" : "the person could not be read");
    /* no photo of a person is analysed without their consent (checked again under the row lock) */
    if (strcmp(p.consent, "given") != 0)
        return REFUSE(out, ATT_E_CONSENT_REQUIRED,
                      "the person's consent to biometric processing is %s: record it as given first", p.consent);
    if (!p.biometric)
        return REFUSE(out, ATT_E_BIOMETRIC_OFF, "the person does not use face recognition (biometric is false)");
    /* a person with a full set of templates costs a query, not an analysis */
    if ((e = check_template_room(d->db, d, out)) != ATT_OK) {
        if (e != ATT_E_CONFLICT) REFUSE(out, e, "the person's templates could not be counted");
        return e;
    }
    if (d->vision == NULL) return REFUSE(out, ATT_E_NOT_READY, "the face models are not loaded");
    av_pipeline *vp;
    if ((e = vpool_acquire(d->vision, d->vision_wait_ms, &vp)) != ATT_OK) {
        if (e == ATT_E_UNAVAILABLE)
            return REFUSE(out, e, "no face pipeline became free within %d ms; retry later", d->vision_wait_ms);
        return REFUSE(out, e, "no face pipeline could be borrowed");
    }
    struct enrol_result *r = sodium_malloc(sizeof *r); /* holds the template: guarded, wiped on free */
    if (r == NULL) {
        vpool_release(d->vision, vp);
        return REFUSE(out, ATT_E_NOMEM, "out of memory");
    }
    e = enrol_extract(vp, vpool_confirm(d->vision, vp), photo, len, d->enrol, r);
    vpool_release(d->vision, vp);
    if (e != ATT_OK) {
        sodium_free(r);
        return REFUSE(out, e, "the photo could not be analysed");
    }
    out->outcome = r->outcome;
    out->face = r->face;
    out->quality = r->quality;
    out->pose = r->pose;
    if (r->outcome != ENROL_OK) {
        snprintf(out->detail, sizeof out->detail, "%s", r->detail);
        sodium_free(r);
        return enrol_outcome_error(out->outcome);
    }
    if ((e = enrol_warnings(d, r, out)) != ATT_OK) {
        sodium_free(r);
        return REFUSE(out, e, "the photo could not be compared with the gallery");
    }
    att_uuid f;
    att_uuid_new(&f);
    att_uuid_format(&f, out->face_id);
    e = enrol_store(d, a, r, out);
    sodium_free(r); /* the plaintext template: only the gallery keeps it now */
    return e;
}

/* ---- delete --------------------------------------------------------------------------------------- */

struct face_delete {
    const struct audit_actor *actor;
    const char *person_id, *face_id; /* canonical */
    bool changed;                    /* the row is gone: a later failure is the audit row's */
};

static att_err delete_run(PGconn *c, void *arg)
{
    struct face_delete *w = arg;
    w->changed = false;
    att_err e = store_face_delete(c, w->person_id, w->face_id);
    if (e != ATT_OK) return e;
    w->changed = true;
    json_t *o = json_pack("{s:s}", "face_id", w->face_id);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    e = detail ? store_audit_ok(c, w->actor, "face.delete", "person", w->person_id, detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) log_error("roster", "audit row for face.delete not written: %s", att_err_code(e));
    return e;
}

att_err roster_face_delete(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                           const char *face_id)
{
    att_uuid pu, fu;
    if (!att_uuid_parse(person_id, &pu) || !att_uuid_parse(face_id, &fu)) return ATT_E_NOT_FOUND;
    char pid[ATT_UUID_STR], fid[ATT_UUID_STR];
    att_uuid_format(&pu, pid);
    att_uuid_format(&fu, fid);
    struct face_delete w = {.actor = a, .person_id = pid, .face_id = fid};
    roster_lock();
    att_err e = db_transaction(d->db, delete_run, NULL, &w);
    if (e == ATT_OK && d->gallery) {
        att_err g = gal_face_remove(d->gallery, fid);
        if (g != ATT_OK) log_error("roster", "face %s: not removed from the gallery: %s", fid, att_err_code(g));
    }
    roster_unlock();
    if (e != ATT_OK) return w.changed ? roster_unaudited(e) : e;
    app_data_version_bump();
    return ATT_OK;
}
