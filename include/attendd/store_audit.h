/* Append-only audit log (table audit_log): every admin action and every read of personal data.
 * Rows cannot be updated or deleted (a trigger refuses it). */
#ifndef ATTENDD_STORE_AUDIT_H
#define ATTENDD_STORE_AUDIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

struct audit_entry {
    const char *token_id;    /* acting token's id, or NULL (CLI / system) */
    const char *actor;       /* token name, "attendctl", "system" */
    const char *action;      /* dotted verb: "token.create", "person.read", ... */
    const char *target_type; /* "token", "person", ... or NULL */
    const char *target_id;   /* id of the record acted on, or NULL */
    const char *outcome;     /* "ok" or an error code from errors.h */
    const char *detail_json; /* extra JSON object (no personal data, no secrets), or NULL */
};

att_err store_audit_insert(PGconn *c, const struct audit_entry *e);

/* Who performs a change: the token_id and actor of the audit rows the use cases write. */
struct audit_actor {
    const char *token_id; /* the acting API token's id, or NULL (attendctl, system) */
    const char *name;     /* the token's name, "attendctl" or "system" */
};

/* The "ok" audit row of a change by actor, in the caller's open transaction. */
att_err store_audit_ok(PGconn *c, const struct audit_actor *actor, const char *action, const char *target_type,
                       const char *target_id, const char *detail_json);

/* ---- listing (GET /audit) ------------------------------------------------------------------------ */

#define AUDIT_LIST_DEFAULT_LIMIT 50
#define AUDIT_LIST_MAX_LIMIT 500
/* A position in the newest-first walk: the sort key of the last row of a page. */
struct audit_pos {
    int64_t ts_us; /* the row's ts, µs since the epoch */
    int64_t id;    /* the row's id (ties on ts are ordered by id) */
};

struct audit_filter {
    size_t limit; /* 1..AUDIT_LIST_MAX_LIMIT, else ATT_E_INVALID */
    bool has_after;
    struct audit_pos after;  /* start after this position (the previous page's next) */
    const char *action;      /* an action or a dotted prefix of one ("person" matches "person" and
                                * "person.read"), or NULL */
    const char *target_type; /* exact, or NULL */
    const char *target_id;   /* exact, or NULL */
};

/* One audit row. Strings point into the same allocation as the array; NULL is SQL NULL. */
struct audit_row {
    int64_t id;
    const char *ts;       /* RFC 3339 UTC with microseconds: "2024-05-01T07:59:12.123456Z" */
    const char *token_id; /* NULL for attendctl / system */
    const char *actor;
    const char *action;
    const char *target_type; /* may be NULL */
    const char *target_id;   /* may be NULL */
    const char *outcome;
    const char *detail_json; /* JSON object text, or NULL */
};

/* Newest first (keyset on ts DESC, id DESC). *out is ONE malloc'd block: free(*out) frees everything;
 * *n rows; *more: a next page exists, starting after *next. ATT_E_INVALID for a limit out of range, a
 * filter that is empty or longer than 200 bytes, or one the database refuses as text (invalid UTF-8). */
att_err store_audit_list(PGconn *c, const struct audit_filter *f, struct audit_row **out, size_t *n,
                         struct audit_pos *next, bool *more);

/* Every audit row about one person (target, or the person's id in the detail), oldest first: fn is
 * called per row (strings valid during the call; NULL for SQL NULL); a non-ATT_OK return stops the
 * walk and is returned. */
typedef att_err (*store_audit_fn)(void *ud, const struct audit_row *row);
att_err store_audit_about_person(PGconn *c, const char *person_id, store_audit_fn fn, void *ud);

#endif
