/* The roster in PostgreSQL (table people): create, get, list with filters and keyset pagination,
 * patch, and erasure (personal fields and templates destroyed; the row stays as a pseudonymous tombstone). */
#ifndef ATTENDD_STORE_PEOPLE_H
#define ATTENDD_STORE_PEOPLE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

/* Field limits in characters (the schema's CHECKs); buffers hold that many UTF-8 characters. */
#define PERSON_EMPLOYEE_NO_CHARS 64
#define PERSON_TEXT_CHARS 200 /* name, department, title */
#define PERSON_EMPLOYEE_NO_BUF (4 * PERSON_EMPLOYEE_NO_CHARS + 1)
#define PERSON_TEXT_BUF (4 * PERSON_TEXT_CHARS + 1)
#define PERSON_BADGE_CHARS 64 /* kiosk badge id: 1..64 printable ASCII characters */
#define PERSON_BADGE_BUF (PERSON_BADGE_CHARS + 1)
#define STORE_TS_LEN 40     /* RFC 3339 UTC text "2024-05-01T07:59:12Z" + room */
#define STORE_CURSOR_MAX 64 /* opaque pagination cursor (base64url) + NUL */

#define PERSON_LIST_DEFAULT_LIMIT 50
#define PERSON_LIST_MAX_LIMIT 500

struct person {
    char id[ATT_UUID_STR];
    char employee_no[PERSON_EMPLOYEE_NO_BUF];
    char name[PERSON_TEXT_BUF];
    char department[PERSON_TEXT_BUF]; /* "" when not set (SQL NULL) */
    char title[PERSON_TEXT_BUF];      /* "" when not set (SQL NULL) */
    bool active;
    char created_at[STORE_TS_LEN]; /* RFC 3339 UTC, seconds */
    char updated_at[STORE_TS_LEN];
    bool erased;                     /* always false for what get/list return (erased = not found) */
    char consent[12];                /* "none", "given" or "withdrawn" (the consent register) */
    char consent_at[STORE_TS_LEN];   /* when the current state was recorded; "" for "none" */
    bool biometric;                  /* false: never enrolled, never matched (punches at a kiosk) */
    bool has_pin;                    /* a kiosk PIN is set */
    char badge_id[PERSON_BADGE_BUF]; /* kiosk badge, "" when none */
};

/* A new person. employee_no and name are required; department and title may be NULL. Every text
 * field: valid UTF-8, no control characters, 1..64 (employee_no) or 1..200 characters. */
struct person_new {
    const char *employee_no;
    const char *name;
    const char *department;
    const char *title;
    bool active;
};

/* A partial update: NULL pointers leave a field unchanged. clear_department / clear_title set that
 * field to NULL (JSON null); set_active applies `active`. */
struct person_patch {
    const char *employee_no;
    const char *name;
    const char *department;
    const char *title;
    bool clear_department;
    bool clear_title;
    bool set_active;
    bool active;
    bool set_biometric; /* apply `biometric` (false: the person stops using the face) */
    bool biometric;
    const char *badge_id; /* kiosk badge: 1..64 printable ASCII characters, unique; NULL: unchanged */
    bool clear_badge;     /* remove the badge (JSON null) */
};

enum person_active_filter { PERSON_ACTIVE_ANY = 0, PERSON_ACTIVE_ONLY, PERSON_INACTIVE_ONLY };

struct person_filter {
    const char *department; /* exact match, or NULL */
    const char *q;          /* case-insensitive substring of name or employee_no, or NULL/"";
                                      * taken literally (% and _ are not wildcards) */
    enum person_active_filter active;
    size_t limit;            /* 1..PERSON_LIST_MAX_LIMIT, else ATT_E_BAD_PARAM */
    const char *cursor;      /* next_cursor of the previous page, or NULL/"" for the first */
    const char *departments; /* need to know: a JSON array of departments, only their people; NULL: all */
};

/* Name of the first field of p that the store would refuse ("employee_no", "name", "department",
 * "title"), or NULL when all are acceptable. The create/update functions answer ATT_E_INVALID in that
 * case; the API uses this to name the field in its 422. */
const char *person_new_invalid_field(const struct person_new *p);
/* Whether s is a badge id: 1..PERSON_BADGE_CHARS printable ASCII characters (no space). */
bool person_badge_ok(const char *s);
const char *person_patch_invalid_field(const struct person_patch *p);

/* ATT_E_CONFLICT on a duplicate employee_no, ATT_E_INVALID on a bad field. id_out: the new uuid. */
att_err store_person_create(PGconn *c, const struct person_new *p, char id_out[ATT_UUID_STR]);
/* ATT_E_NOT_FOUND for an unknown id, a malformed id and an erased person. */
att_err store_person_get(PGconn *c, const char *id, struct person *out);
/* One page, oldest first (keyset on created_at, id). *out malloc'd (free()), *n rows; next_cursor is
 * "" on the last page. ATT_E_BAD_PARAM for a bad limit or a malformed cursor. Erased people never appear. */
att_err store_person_list(PGconn *c, const struct person_filter *f, struct person **out, size_t *n,
                          char next_cursor[STORE_CURSOR_MAX]);
/* Apply a patch; out (may be NULL) receives the updated person. ATT_E_NOT_FOUND (unknown, malformed
 * or erased id), ATT_E_CONFLICT (employee_no taken), ATT_E_INVALID (bad field). An empty patch is a
 * read. */
att_err store_person_update(PGconn *c, const char *id, const struct person_patch *p, struct person *out);
/* Erasure, atomically: delete every face, NULL employee_no/name/department/title, active=false,
 * erased_at=now(). The row stays (id and pseudonym), so events keep counting but name no one. Runs in
 * its own BEGIN/COMMIT when c is idle, or inside the caller's open transaction (to add an audit row;
 * the caller commits). ATT_E_NOT_FOUND if missing, malformed or already erased. faces_deleted (may be
 * NULL) receives how many templates went (the caller then removes the person from the gallery). */
att_err store_person_erase(PGconn *c, const char *id, size_t *faces_deleted);

#endif
