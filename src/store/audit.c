/* Append-only audit log (audit_log): one INSERT per entry, every field a bound parameter, and a
 * newest-first keyset-paginated listing. The table's trigger refuses UPDATE, DELETE and TRUNCATE. */
#include "attendd/store_audit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/uuid.h"
#include "src/store/cursor.h"
#include "src/store/statements.h"

#define AUDIT_NCOLS 10 /* audit_list's columns; the last is ts in microseconds, for the cursor */

static bool nonempty(const char *s) { return s && *s; }

att_err store_audit_insert(PGconn *c, const struct audit_entry *e)
{
    if (!e || !nonempty(e->actor) || !nonempty(e->action) || !nonempty(e->outcome) ||
        (e->token_id && !att_uuid_valid(e->token_id)) || (e->target_type && !*e->target_type) ||
        (e->target_id && !*e->target_id))
        return ATT_E_INVALID;
    const char *values[7] = {e->token_id,  e->actor,   e->action,     e->target_type,
                             e->target_id, e->outcome, e->detail_json};
    PGresult *r;
    /* bad detail JSON or an action outside the CHECK pattern come back as ATT_E_INVALID */
    att_err rc = db_exec_prepared(c, "audit_insert", 7, values, NULL, NULL, &r, NULL);
    if (rc == ATT_OK) PQclear(r);
    return rc;
}

att_err store_audit_ok(PGconn *c, const struct audit_actor *actor, const char *action, const char *target_type,
                       const char *target_id, const char *detail_json)
{
    if (!actor) return ATT_E_INVALID;
    struct audit_entry a = {actor->token_id, actor->name, action, target_type, target_id, "ok", detail_json};
    return store_audit_insert(c, &a);
}

/* Filter values are compared with = only, so any text is safe; just keep them sane and bounded. */
static bool filter_ok(const char *s) { return !s || (*s && strlen(s) <= 200); }

att_err store_audit_about_person(PGconn *c, const char *person_id, store_audit_fn fn, void *ud)
{
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "audit_about_person", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    for (int i = 0; rc == ATT_OK && i < PQntuples(r); i++) {
        const char *col[9];
        for (int k = 1; k < 9; k++) col[k] = PQgetvalue(r, i, k)[0] ? PQgetvalue(r, i, k) : NULL;
        struct audit_row row = {.id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
                                .ts = col[1],
                                .token_id = col[2],
                                .actor = col[3],
                                .action = col[4],
                                .target_type = col[5],
                                .target_id = col[6],
                                .outcome = col[7],
                                .detail_json = col[8]};
        rc = fn(ud, &row);
    }
    PQclear(r);
    return rc;
}

att_err store_audit_list(PGconn *c, const struct audit_filter *f, struct audit_row **out, size_t *n,
                         struct audit_pos *next, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    if (!f || f->limit < 1 || f->limit > AUDIT_LIST_MAX_LIMIT || !filter_ok(f->action) || !filter_ok(f->target_type) ||
        !filter_ok(f->target_id))
        return ATT_E_INVALID;
    char ts[CURSOR_TS_TEXT], after_id[24];
    if (f->has_after) {
        if (!cursor_ts_text(f->after.ts_us, ts)) return ATT_E_INVALID;
        snprintf(after_id, sizeof after_id, "%" PRId64, f->after.id);
    }
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", f->limit + 1);
    const char *values[6] = {
        f->action, f->target_type, f->target_id, f->has_after ? ts : NULL, f->has_after ? after_id : NULL, limit};
    PGresult *r;
    /* invalid UTF-8 in a filter comes back as ATT_E_INVALID */
    att_err rc = db_exec_prepared(c, "audit_list", 6, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQnfields(r) != AUDIT_NCOLS) {
        PQclear(r);
        return ATT_E_INTERNAL;
    }
    size_t rows = (size_t)PQntuples(r), take = rows > f->limit ? f->limit : rows;
    /* one block: the array, then the strings of columns 1..8 */
    size_t bytes = take * sizeof(struct audit_row);
    for (size_t i = 0; i < take; i++)
        for (int k = 1; k <= 8; k++)
            if (!PQgetisnull(r, (int)i, k)) bytes += (size_t)PQgetlength(r, (int)i, k) + 1;
    struct audit_row *v = calloc(1, bytes ? bytes : 1);
    if (!v) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    char *p = (char *)(v + take);
    int64_t micros = 0;
    for (size_t i = 0; i < take; i++) {
        const char *col[9] = {NULL};
        for (int k = 1; k <= 8; k++) {
            if (PQgetisnull(r, (int)i, k)) continue;
            size_t len = (size_t)PQgetlength(r, (int)i, k);
            memcpy(p, PQgetvalue(r, (int)i, k), len + 1);
            col[k] = p;
            p += len + 1;
        }
        v[i] = (struct audit_row){
            .id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10),
            .ts = col[1],
            .token_id = col[2],
            .actor = col[3],
            .action = col[4],
            .target_type = col[5],
            .target_id = col[6],
            .outcome = col[7],
            .detail_json = col[8],
        };
        micros = strtoll(PQgetvalue(r, (int)i, 9), NULL, 10);
    }
    PQclear(r);
    if (rows > take) {
        *next = (struct audit_pos){.ts_us = micros, .id = v[take - 1].id};
        *more = true;
    }
    *out = v;
    *n = take;
    return ATT_OK;
}
