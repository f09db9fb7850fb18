/* The consent register in PostgreSQL: versioned consent texts (consent_texts), each person's current
 * state (people.consent) and its history (consent_records). */
#ifndef ATTENDD_STORE_CONSENT_H
#define ATTENDD_STORE_CONSENT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/store_people.h"
#include "attendd/uuid.h"

#define CONSENT_TEXT_MAX_CHARS 20000 /* a consent text's body */
#define CONSENT_LANG_BUF 36          /* BCP 47 tag: "de", "zh-Hans-CN", ... */

enum consent_state { CONSENT_NONE = 0, CONSENT_GIVEN, CONSENT_WITHDRAWN };

const char *consent_state_name(enum consent_state s);
/* "none", "given", "withdrawn"; -1 on anything else. */
int consent_state_parse(const char *s, enum consent_state *out);

/* One version of the consent text. Strings of a list point into the same allocation as the array. */
struct consent_text {
    int version;            /* 1, 2, ... in the order they were added */
    const char *language;   /* BCP 47 tag */
    const char *body;       /* the text the person agrees to, word for word */
    const char *created_at; /* RFC 3339 UTC */
    const char *created_by; /* the actor that added it */
};

/* Whether language is a BCP 47-shaped tag (2-3 letters, then -subtags of 1-8 alphanumerics, < 36
 * bytes) and body 1..CONSENT_TEXT_MAX_CHARS characters of text (newlines allowed). */
bool consent_language_ok(const char *language);
bool consent_body_ok(const char *body);

/* Add the next version; *out is ONE malloc'd block (free(*out)). ATT_E_INVALID for a bad language
 * or body. */
att_err store_consent_text_add(PGconn *c, const char *language, const char *body, const char *created_by,
                               struct consent_text **out);
/* Every version, oldest first; *out one malloc'd block (free it; NULL when none), *n rows. */
att_err store_consent_text_list(PGconn *c, struct consent_text **out, size_t *n);
/* One version; ATT_E_NOT_FOUND when there is none. *out one malloc'd block. */
att_err store_consent_text_get(PGconn *c, int version, struct consent_text **out);

/* One entry of a person's consent history. */
struct consent_record {
    char state[12];                 /* "given" or "withdrawn" */
    int text_version;               /* 0 when none was named (a withdrawal) */
    char token_id[ATT_UUID_STR];    /* the recording token, "" for attendctl */
    char actor[201];                /* its name, or "attendctl" */
    char recorded_at[STORE_TS_LEN]; /* RFC 3339 UTC with microseconds */
};

/* Record a new state for a person, in the caller's open transaction: the person's row (state, when,
 * and the method: given turns biometric on, withdrawn off) and a history row. text_version: the
 * text agreed to (required for CONSENT_GIVEN, optional otherwise: 0 for none). ATT_E_NOT_FOUND (no
 * such person, erased, malformed id), ATT_E_INVALID (state none, or given without a text),
 * ATT_E_CONFLICT when text_version names no consent text. */
att_err store_consent_record(PGconn *c, const char *person_id, enum consent_state state, int text_version,
                             const char *token_id, const char *actor);
/* The person's history, oldest first; *out malloc'd (free; NULL when empty), *n rows.
 * ATT_E_NOT_FOUND is not returned for a person without history (an empty list): callers check the
 * person first. */
att_err store_consent_history(PGconn *c, const char *person_id, struct consent_record **out, size_t *n);
/* Delete every template of a person (withdrawal, opt-out, retention), in the caller's transaction;
 * *deleted: how many. */
att_err store_person_faces_delete(PGconn *c, const char *person_id, size_t *deleted);

#endif
