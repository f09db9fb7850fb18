/* Attendance events in PostgreSQL (include/attendd/store_events.h): idempotent insert from the
 * spool, the newest-first keyset listing by typed filters, and the rules seed. */
#include "attendd/store_events.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/time.h"
#include "attendd/uuid.h"
#include "src/store/cursor.h"
#include "src/store/statements.h"

#define LIST_NCOLS 16 /* EVENT_COLS (statements.c); column 10 is ts in µs, for the cursor */

/* ---- insert -------------------------------------------------------------------------------------- */

att_err store_event_insert(PGconn *c, const struct att_event *ev, struct store_event_result *res)
{
    *res = (struct store_event_result){0};
    if (ev->kind != EVENT_KIND_IN && ev->kind != EVENT_KIND_OUT) return ATT_E_INVALID;
    char id[ATT_UUID_STR], person[ATT_UUID_STR], camera[ATT_UUID_STR], ts[24], sim[32], live[32],
        source[EVENT_SOURCE_MAX];
    att_uuid_format(&ev->id, id);
    att_uuid_format(&ev->person, person);
    att_uuid_format(&ev->camera, camera);
    snprintf(ts, sizeof ts, "%" PRId64, ev->ts_us);
    /* %.9g reproduces a float exactly; NaN/Inf would be refused by the CHECKs anyway */
    snprintf(sim, sizeof sim, "%.9g", (double)ev->similarity);
    snprintf(live, sizeof live, "%.9g", (double)ev->liveness);
    snprintf(source, sizeof source, "%s", ev->source);
    const char *values[8] = {id, person, camera, event_kind_name(ev->kind), ts, sim, live, source};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_insert", 8, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1 && PQnfields(r) == 2) {
        res->inserted = true;
        res->person_missing = PQgetvalue(r, 0, 0)[0] == 't';
        res->camera_missing = PQgetvalue(r, 0, 1)[0] == 't';
    } else if (PQntuples(r) != 0) {
        rc = ATT_E_INTERNAL;
    }
    PQclear(r);
    return rc;
}

/* Rows [0, take) of an EVENT_COLS result as ONE malloc'd block; *last_us: ts (µs) of the last row. */
static att_err rows_from_result(const PGresult *r, size_t take, struct event_row **out, int64_t *last_us)
{
    *out = NULL;
    if (PQnfields(r) != LIST_NCOLS) return ATT_E_INTERNAL;
    /* one block: the array, then the strings (text columns only; similarity/liveness are numbers) */
    static const int text_cols[] = {0, 1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15};
    size_t bytes = take * sizeof(struct event_row);
    for (size_t i = 0; i < take; i++)
        for (size_t k = 0; k < sizeof text_cols / sizeof text_cols[0]; k++)
            if (!PQgetisnull(r, (int)i, text_cols[k])) bytes += (size_t)PQgetlength(r, (int)i, text_cols[k]) + 1;
    struct event_row *v = calloc(1, bytes ? bytes : 1);
    if (!v) return ATT_E_NOMEM;
    char *p = (char *)(v + take);
    for (size_t i = 0; i < take; i++) {
        const char *col[LIST_NCOLS] = {NULL};
        for (size_t k = 0; k < sizeof text_cols / sizeof text_cols[0]; k++) {
            int cn = text_cols[k];
            if (PQgetisnull(r, (int)i, cn)) continue;
            size_t len = (size_t)PQgetlength(r, (int)i, cn);
            memcpy(p, PQgetvalue(r, (int)i, cn), len + 1);
            col[cn] = p;
            p += len + 1;
        }
        v[i] = (struct event_row){
            .id = col[0],
            .person_id = col[1],
            .employee_no = col[2],
            .name = col[3],
            .camera_id = col[4],
            .kind = col[5],
            .ts = col[6],
            .similarity = PQgetisnull(r, (int)i, 7) ? NAN : strtod(PQgetvalue(r, (int)i, 7), NULL),
            .liveness = PQgetisnull(r, (int)i, 8) ? NAN : strtod(PQgetvalue(r, (int)i, 8), NULL),
            .source = col[9],
            .reason = col[11],
            .created_by = col[12],
            .pseudonym = col[13],
            .seq = col[14] ? strtoll(col[14], NULL, 10) : 0,
            .voided_at = col[15],
        };
        *last_us = strtoll(PQgetvalue(r, (int)i, 10), NULL, 10);
    }
    *out = v;
    return ATT_OK;
}

att_err store_events_insert_batch(PGconn *c, const struct att_event *events, size_t n, struct store_event_result *res,
                                  size_t *bad_at)
{
    att_err rc = db_begin(c);
    if (rc != ATT_OK) return rc;
    for (size_t i = 0; i < n; i++) {
        rc = store_event_insert(c, &events[i], &res[i]);
        if (rc != ATT_OK) {
            db_rollback(c);
            *bad_at = i;
            return rc;
        }
    }
    return db_commit(c);
}

/* ---- decided in the database (several instances) ------------------------------------------------ */

static int uuid_order(const void *a, const void *b) { return memcmp(a, b, sizeof(att_uuid)); }

/* One-row statement: *found, and column col of the row (as text) into out when found. */
static att_err one_value(PGconn *c, const char *stmt, int n, const char *const *v, bool *found, char *out,
                         size_t outlen, int64_t *num, int num_col)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, n, v, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *found = PQntuples(r) > 0;
    if (*found && out && !db_copy_text(out, outlen, PQgetvalue(r, 0, 0))) rc = ATT_E_INTERNAL;
    if (*found && num) *num = strtoll(PQgetvalue(r, 0, num_col), NULL, 10);
    PQclear(r);
    return rc;
}

/* Derive the kind of the person's auto-camera punches from ts on again, in capture-time order. */
static att_err rechain(PGconn *c, const char *person, const char *ts, int64_t max_shift_us)
{
    const char *v[2] = {person, ts};
    char prev_kind[8] = "";
    int64_t prev_ts = 0;
    bool have = false;
    att_err rc = one_value(c, "punch_before", 2, v, &have, prev_kind, sizeof prev_kind, &prev_ts, 1);
    if (rc != ATT_OK) return rc;
    if (!have) prev_kind[0] = '\0';
    PGresult *r;
    if ((rc = db_exec_prepared(c, "punch_chain", 2, v, NULL, NULL, &r, NULL)) != ATT_OK) return rc;
    for (int i = 0; rc == ATT_OK && i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *kind = PQgetvalue(r, i, 1), *role = PQgetvalue(r, i, 3);
        int64_t at = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        const char *want = kind;
        if (strcmp(role, "auto") == 0)
            want = strcmp(prev_kind, "in") == 0 && at - prev_ts < max_shift_us ? "out" : "in";
        if (strcmp(want, kind) != 0) {
            const char *sv[2] = {id, want};
            PGresult *u;
            rc = db_exec_prepared(c, "punch_set_kind", 2, sv, NULL, NULL, &u, NULL);
            PQclear(u);
        }
        snprintf(prev_kind, sizeof prev_kind, "%s", want);
        prev_ts = at;
    }
    PQclear(r);
    return rc;
}

/* One event under its person's lock. */
static att_err decide_one(PGconn *c, const struct att_event *ev, const struct store_punch_rules *rules,
                          struct store_event_result *res)
{
    *res = (struct store_event_result){0};
    char id[ATT_UUID_STR], person[ATT_UUID_STR], ts[24], cool[24];
    att_uuid_format(&ev->id, id);
    att_uuid_format(&ev->person, person);
    snprintf(ts, sizeof ts, "%" PRId64, ev->ts_us);
    snprintf(cool, sizeof cool, "%" PRId64, rules->cooldown_us);
    bool found;
    const char *iv[1] = {id};
    att_err rc = one_value(c, "event_exists", 1, iv, &found, NULL, 0, NULL, 0);
    if (rc != ATT_OK || found) return rc; /* a replay: stored before */
    char near_id[ATT_UUID_STR];
    int64_t near_ts = 0;
    const char *nv[3] = {person, ts, cool};
    if ((rc = one_value(c, "punch_nearby", 3, nv, &found, near_id, sizeof near_id, &near_ts, 1)) != ATT_OK) return rc;
    if (found && (near_ts < ev->ts_us || (near_ts == ev->ts_us && strcmp(near_id, id) < 0))) {
        res->suppressed = true; /* the same pass, captured earlier, is stored */
        return ATT_OK;
    }
    if (found) {
        const char *sv[4] = {person, ts, cool, id};
        PGresult *r;
        if ((rc = db_exec_prepared(c, "punch_supersede", 4, sv, NULL, NULL, &r, NULL)) != ATT_OK) return rc;
        res->superseded = (unsigned)strtoul(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    unsigned superseded = res->superseded;
    if ((rc = store_event_insert(c, ev, res)) != ATT_OK) return rc;
    res->superseded = superseded;
    if (!res->inserted || res->person_missing) return ATT_OK;
    return rechain(c, person, ts, rules->max_shift_us);
}

att_err store_events_decide_batch(PGconn *c, const struct att_event *events, size_t n,
                                  const struct store_punch_rules *rules, struct store_event_result *res, size_t *bad_at)
{
    *bad_at = 0;
    att_uuid *people = n ? malloc(n * sizeof *people) : NULL;
    if (n && !people) return ATT_E_NOMEM;
    for (size_t i = 0; i < n; i++) people[i] = events[i].person;
    if (n) qsort(people, n, sizeof *people, uuid_order);
    att_err rc = db_begin(c);
    for (size_t i = 0; rc == ATT_OK && i < n; i++) {
        if (i > 0 && att_uuid_eq(&people[i], &people[i - 1])) continue;
        char p[ATT_UUID_STR];
        att_uuid_format(&people[i], p);
        const char *v[1] = {p};
        PGresult *r;
        rc = db_exec_prepared(c, "punch_lock", 1, v, NULL, NULL, &r, NULL);
        PQclear(r);
    }
    free(people);
    for (size_t i = 0; rc == ATT_OK && i < n; i++) {
        rc = decide_one(c, &events[i], rules, &res[i]);
        if (rc != ATT_OK) *bad_at = i;
    }
    if (rc != ATT_OK) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c);
}

att_err store_events_session(PGconn *c, char *err, size_t errlen)
{
    att_err rc = db_prepare_all(c, err, errlen);
    if (rc != ATT_OK) return rc;
    rc = db_exec_simple(c, "SET statement_timeout = '10s'");
    if (rc != ATT_OK) snprintf(err, errlen, "setting statement_timeout failed");
    return rc;
}

/* ---- listing ------------------------------------------------------------------------------------- */

/* A page of at most limit rows (1..max_limit). */
static att_err list_page(PGconn *c, const struct event_filter *f, size_t limit, size_t max_limit,
                         struct event_row **out, size_t *n, struct event_pos *next, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    if (!f || limit < 1 || limit > max_limit || (f->has_since && f->has_until && f->until_us < f->since_us))
        return ATT_E_INVALID;
    /* timestamps as canonical UTC text, so the database compares exactly the instants asked for */
    char since[CURSOR_TS_TEXT], until[CURSOR_TS_TEXT], after_ts[CURSOR_TS_TEXT];
    char person[ATT_UUID_STR], camera[ATT_UUID_STR], after_id[ATT_UUID_STR];
    if ((f->has_since && !cursor_ts_text(f->since_us, since)) ||
        (f->has_until && !cursor_ts_text(f->until_us, until)) ||
        (f->has_after && !cursor_ts_text(f->after.ts_us, after_ts)))
        return ATT_E_INVALID;
    if (f->has_person) att_uuid_format(&f->person_id, person);
    if (f->has_camera) att_uuid_format(&f->camera_id, camera);
    if (f->has_after) att_uuid_format(&f->after.id, after_id);
    char limit_txt[24];
    snprintf(limit_txt, sizeof limit_txt, "%zu", limit + 1); /* one more tells whether a next page exists */
    const char *values[8] = {f->has_since ? since : NULL,
                             f->has_until ? until : NULL,
                             f->has_person ? person : NULL,
                             f->has_camera ? camera : NULL,
                             f->has_after ? after_ts : NULL,
                             f->has_after ? after_id : NULL,
                             limit_txt,
                             f->departments};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_list", 8, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    size_t rows = (size_t)PQntuples(r), take = rows > limit ? limit : rows;
    struct event_row *v;
    int64_t last_us = 0;
    rc = rows_from_result(r, take, &v, &last_us);
    PQclear(r);
    if (rc != ATT_OK) return rc;
    if (rows > take) {
        if (!att_uuid_parse(v[take - 1].id, &next->id)) {
            free(v);
            return ATT_E_INTERNAL;
        }
        next->ts_us = last_us;
        *more = true;
    }
    *out = v;
    *n = take;
    return ATT_OK;
}

att_err store_events_list(PGconn *c, const struct event_filter *f, struct event_row **out, size_t *n,
                          struct event_pos *next, bool *more)
{
    return list_page(c, f, f ? f->limit : 0, EVENTS_LIST_MAX_LIMIT, out, n, next, more);
}

att_err store_events_export_batch(PGconn *c, const struct event_filter *f, size_t batch, struct event_row **out,
                                  size_t *n, struct event_pos *next, bool *more)
{
    return list_page(c, f, batch, EVENTS_EXPORT_BATCH, out, n, next, more);
}

/* ---- rules seed ---------------------------------------------------------------------------------- */

att_err store_events_last_per_person(PGconn *c, int64_t since_us, store_events_last_fn fn, void *ud)
{
    char since[24];
    snprintf(since, sizeof since, "%" PRId64, since_us);
    const char *values[1] = {since};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_last_per_person", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQnfields(r) != 3) {
        PQclear(r);
        return ATT_E_INTERNAL;
    }
    for (int i = 0; rc == ATT_OK && i < PQntuples(r); i++) {
        att_uuid person;
        const char *kind = PQgetvalue(r, i, 1);
        if (!att_uuid_parse(PQgetvalue(r, i, 0), &person)) {
            rc = ATT_E_INTERNAL;
            break;
        }
        enum event_kind k = strcmp(kind, "in") == 0 ? EVENT_KIND_IN : EVENT_KIND_OUT;
        rc = fn(ud, &person, k, strtoll(PQgetvalue(r, i, 2), NULL, 10));
    }
    PQclear(r);
    return rc;
}

/* ---- one event, the feed, manual punches ------------------------------------------------------------- */

att_err store_event_get(PGconn *c, const char *id, struct event_row **out)
{
    *out = NULL;
    if (!id || !att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_get", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int64_t last;
    rc = PQntuples(r) == 1 ? rows_from_result(r, 1, out, &last) : ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_events_since_seq(PGconn *c, int64_t after, size_t limit, const char *departments, struct event_row **out,
                               size_t *n)
{
    *out = NULL;
    *n = 0;
    char a[24], l[24];
    snprintf(a, sizeof a, "%" PRId64, after);
    snprintf(l, sizeof l, "%zu", limit);
    const char *values[3] = {a, l, departments};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_since_seq", 3, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int64_t last;
    size_t rows = (size_t)PQntuples(r);
    rc = rows_from_result(r, rows, out, &last);
    PQclear(r);
    if (rc == ATT_OK) *n = rows;
    return rc;
}

att_err store_events_of_person(PGconn *c, const char *person_id, struct event_row **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "event_of_person", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int64_t last_us;
    size_t rows = (size_t)PQntuples(r);
    rc = rows ? rows_from_result(r, rows, out, &last_us) : ATT_OK;
    PQclear(r);
    if (rc == ATT_OK) *n = rows;
    return rc;
}

att_err store_events_max_seq(PGconn *c, int64_t *out) { return db_query_int64(c, "event_max_seq", out); }

att_err store_punch_insert(PGconn *c, const char *person_id, const char *kind, int64_t ts_us, const char *reason,
                           const char *created_by, char id_out[ATT_UUID_STR])
{
    id_out[0] = '\0';
    if (!person_id || !att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    if (!kind || (strcmp(kind, "in") != 0 && strcmp(kind, "out") != 0) || !reason || !*reason || !created_by ||
        !*created_by)
        return ATT_E_INVALID;
    char ts[24];
    snprintf(ts, sizeof ts, "%" PRId64, ts_us);
    const char *values[5] = {person_id, kind, ts, reason, created_by};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "punch_insert", 5, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 36) memcpy(id_out, PQgetvalue(r, 0, 0), ATT_UUID_STR);
    else rc = PQntuples(r) == 0 ? ATT_E_NOT_FOUND : ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err store_punch_void(PGconn *c, const char *id, char person_out[ATT_UUID_STR])
{
    person_out[0] = '\0';
    if (!id || !att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "punch_void", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    bool done = PQntuples(r) == 1;
    if (done && !PQgetisnull(r, 0, 0)) snprintf(person_out, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (done) return ATT_OK;
    /* why not: no such event, a camera event, or voided already */
    rc = db_exec_prepared(c, "event_state", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else if (strcmp(PQgetvalue(r, 0, 0), "manual") != 0) rc = ATT_E_NOT_MANUAL;
    else rc = ATT_E_CONFLICT; /* voided already */
    PQclear(r);
    return rc;
}
