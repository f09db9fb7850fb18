/* GET /api/v1/events (hr, admin): attendance events newest first with time, person and camera
 * filters, as JSON pages (cursor pagination; repeats served from the rendered-page cache) or one
 * streamed CSV export of every match; ETag/304 polling; reads are audited (ids and counts, never names). */
#include "csv.h"
#include "json_text.h"
#include "negotiate.h"
#include "http_internal.h"
#include "rcache.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/store_events.h"

#define UNTIL_RULE "must be an RFC 3339 date-time such as 2024-05-01T19:00:00Z, not before since"

att_err http_events_query(const struct http_request *req, struct http_response *resp, struct events_query *q)
{
    long long limit = EVENTS_LIST_DEFAULT_LIMIT;
    struct cursor_pos after;
    *q = (struct events_query){.format = -1};
    struct event_filter *f = &q->f;
    const struct http_field spec[] = {
        {.name = "since",
         .type = HV_TIMESTAMP,
         .max_len = EVENTS_TIME_MAX - 1,
         .rule = "must be an RFC 3339 date-time such as 2024-05-01T07:00:00Z",
         .us = &f->since_us,
         .seen = &f->has_since,
         .text = &q->since},
        {.name = "until",
         .type = HV_TIMESTAMP,
         .max_len = EVENTS_TIME_MAX - 1,
         .rule = UNTIL_RULE,
         .us = &f->until_us,
         .seen = &f->has_until,
         .text = &q->until},
        HTTP_UUID_PARAM("person_id", &f->person_id, &f->has_person, &q->person_id),
        HTTP_UUID_PARAM("camera_id", &f->camera_id, &f->has_camera, &q->camera_id),
        {.name = "limit",
         .type = HV_INT,
         .min = 1,
         .max = EVENTS_LIST_MAX_LIMIT,
         .integer = &limit,
         .seen = &q->limit_given},
        {.name = "cursor",
         .type = HV_CURSOR,
         .max_len = CURSOR_TEXT_MAX - 1,
         .cursor_kind = CURSOR_EVENTS,
         .cursor_keylen = ATT_UUID_BYTES,
         .pos = &after,
         .seen = &f->has_after},
        HTTP_FORMAT_FIELD(&q->format),
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e != ATT_OK) return e;
    if (f->has_since && f->has_until && f->until_us < f->since_us)
        return http_problem(resp, ATT_E_BAD_PARAM, "until", "query parameter 'until' " UNTIL_RULE);
    f->limit = (size_t)limit;
    if (f->has_after) {
        f->after.ts_us = after.micros;
        memcpy(f->after.id.b, after.key, ATT_UUID_BYTES);
    }
    return ATT_OK;
}

/* The next page's cursor: "" on the last page. */
static void next_cursor(bool more, const struct event_pos *next, char out[CURSOR_TEXT_MAX])
{
    if (!more || !cursor_encode(CURSOR_EVENTS, next->ts_us, next->id.b, ATT_UUID_BYTES, out, CURSOR_TEXT_MAX))
        out[0] = '\0';
}

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *http_event_json(const struct event_row *e, bool pseudonymous)
{
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:s}", "id", e->id, "camera_id", str_or_null(e->camera_id),
                          "kind", e->kind, "ts", e->ts, "similarity", num_or_null(e->similarity), "liveness",
                          num_or_null(e->liveness), "source", e->source);
    if (!o) return NULL;
    int bad = 0;
    if (pseudonymous) {
        bad |= json_object_set_new(o, "person_key", str_or_null(e->pseudonym));
    } else {
        bad |= json_object_set_new(o, "person_id", str_or_null(e->person_id));
        bad |= json_object_set_new(o, "employee_no", str_or_null(e->employee_no));
        bad |= json_object_set_new(o, "name", str_or_null(e->name));
        if (strcmp(e->source, "manual") == 0) {
            bad |= json_object_set_new(o, "created_by", str_or_null(e->created_by));
            bad |= json_object_set_new(o, "reason", str_or_null(e->reason));
        }
    }
    if (e->voided_at) bad |= json_object_set_new(o, "voided_at", json_string(e->voided_at));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- JSON page ------------------------------------------------------------------------------------------- */

static void member(struct text_buf *b, const char *key, const char *val)
{
    text_buf_add(b, ",\"", 2);
    text_buf_add(b, key, strlen(key));
    text_buf_add(b, "\":", 2);
    json_text(b, val);
}

/* A real in its shortest exact form, as att_json_dumps writes it; NaN (a NULL column) is null. */
static void num_member(struct text_buf *b, const char *key, double v)
{
    text_buf_add(b, ",\"", 2);
    text_buf_add(b, key, strlen(key));
    text_buf_add(b, "\":", 2);
    char t[ATT_JSON_REAL_TEXT];
    if (isnan(v)) text_buf_add(b, "null", 4);
    else text_buf_add(b, t, att_json_real_text(v, t));
}

/* The members of http_event_json, in the same order. */
void http_event_text(struct text_buf *b, const struct event_row *e, bool pseudo)
{
    text_buf_add(b, "{\"id\":", 6);
    json_text(b, e->id);
    member(b, "camera_id", e->camera_id);
    member(b, "kind", e->kind);
    member(b, "ts", e->ts);
    num_member(b, "similarity", e->similarity);
    num_member(b, "liveness", e->liveness);
    member(b, "source", e->source);
    if (pseudo) {
        member(b, "person_key", e->pseudonym);
    } else {
        member(b, "person_id", e->person_id);
        member(b, "employee_no", e->employee_no);
        member(b, "name", e->name);
        if (strcmp(e->source, "manual") == 0) {
            member(b, "created_by", e->created_by);
            member(b, "reason", e->reason);
        }
    }
    if (e->voided_at) member(b, "voided_at", e->voided_at);
    text_buf_add(b, "}", 1);
}

/* {"items":[...],"next_cursor":...} written directly: a page is the hot path of polling dashboards. */
static void page_json(struct text_buf *b, const struct event_row *rows, size_t n, bool pseudo, const char *next)
{
    text_buf_add(b, "{\"items\":[", 10);
    for (size_t i = 0; i < n; i++) {
        if (i) text_buf_add(b, ",", 1);
        http_event_text(b, &rows[i], pseudo);
    }
    text_buf_add(b, "],\"next_cursor\":", 16);
    json_text(b, next[0] ? next : NULL);
    text_buf_add(b, "}", 1);
}

/* The audit row of a listing: who read which person's events, how many (ids and counts, no personal
 * fields). count < 0: a CSV export, whose size is not known before its first byte is sent. */
static att_err audit_list(struct http_request *req, const struct events_query *q, long long count, const char *outcome)
{
    json_t *detail = json_pack("{s:o, s:o, s:o, s:o, s:s}", "person_id", str_or_null(q->person_id), "camera_id",
                               str_or_null(q->camera_id), "since", str_or_null(q->since), "until",
                               str_or_null(q->until), "format", count < 0 ? "csv" : "json");
    if (detail && count >= 0 && json_object_set_new(detail, "count", json_integer(count)) != 0) {
        json_decref(detail);
        detail = NULL;
    }
    char *detail_txt = http_json_text(detail);
    att_err e = detail_txt
        ? http_audit(req, "event.list", q->person_id ? "person" : NULL, q->person_id, outcome, detail_txt)
        : ATT_E_NOMEM;
    free(detail_txt);
    return e;
}

/* ---- CSV export ------------------------------------------------------------------------------------------ */

/* Columns mirror the JSON members; a pseudonymous token gets person_key instead of the identities. */
static const char *const csv_cols[] = {"id",         "person_id", "employee_no", "name",     "camera_id",
                                       "kind",       "ts",        "similarity",  "liveness", "source",
                                       "created_by", "reason",    NULL};
static const char *const csv_cols_pseudo[] = {"id",         "person_key", "camera_id", "kind", "ts",
                                              "similarity", "liveness",   "source",    NULL};

/* One export in flight, owned by the libmicrohttpd callback response. Each batch borrows a pooled
 * connection only for its query, so a slow reader never holds one. */
struct export
{
    const struct http_deps *deps; /* the server's, which outlives every response */
    struct http_live live;        /* registered under the token: revoking it cuts the export */
    struct event_filter f;        /* f.after: the position after the rows produced so far */
    bool pseudo;
    char *departments;   /* f.departments: need to know, owned here */
    bool done;           /* the last batch is in out */
    struct text_buf out; /* CSV produced and not yet sent */
    size_t off;
};

/* Event rows name people: wiped before they are freed. */
static void rows_free(struct event_row *rows, size_t n)
{
    if (rows) sodium_memzero(rows, n * sizeof *rows);
    free(rows);
}

static void export_free(void *cls)
{
    struct export *x = cls;
    if (!x) return;
    http_live_remove(&x->live);
    text_buf_free(&x->out);
    free(x->departments);
    free(x);
}

static void num_field(struct text_buf *b, double v)
{
    char t[32] = "";
    if (!isnan(v)) snprintf(t, sizeof t, "%.15g", v); /* ≤ 15 digits: the database's real text exactly */
    csv_field(b, t, false);
}

static void export_rows(struct export *x, const struct event_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct event_row *e = &rows[i];
        csv_field(&x->out, e->id, false);
        if (x->pseudo) {
            csv_field(&x->out, e->pseudonym, false);
        } else {
            csv_field(&x->out, e->person_id, false);
            csv_field(&x->out, e->employee_no, false);
            csv_field(&x->out, e->name, false);
        }
        csv_field(&x->out, e->camera_id, false);
        csv_field(&x->out, e->kind, false);
        csv_field(&x->out, e->ts, false);
        num_field(&x->out, e->similarity);
        num_field(&x->out, e->liveness);
        bool manual = strcmp(e->source, "manual") == 0;
        csv_field(&x->out, e->source, x->pseudo);
        if (!x->pseudo) {
            csv_field(&x->out, manual ? e->created_by : NULL, false);
            csv_field(&x->out, manual ? e->reason : NULL, true);
        }
    }
}

/* The next batch after x->f.after into x->out. */
static att_err export_batch(struct export *x, PGconn *c)
{
    struct event_row *rows = NULL;
    size_t n = 0;
    bool more;
    att_err e = store_events_export_batch(c, &x->f, EVENTS_EXPORT_BATCH, &rows, &n, &x->f.after, &more);
    if (e != ATT_OK) return e;
    export_rows(x, rows, n);
    rows_free(rows, n);
    x->f.has_after = more;
    x->done = !more;
    return x->out.oom ? ATT_E_NOMEM : ATT_OK;
}

/* libmicrohttpd pulls the body: when the produced text is sent, the next batch is read. */
static ssize_t export_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct export *x = cls;
    if (http_live_revoked(&x->live)) { /* cut: the client sees an incomplete chunked body */
        log_notice("http", "GET /api/v1/events CSV export cut: its token was revoked");
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    while (x->off == x->out.len) {
        if (x->done) return MHD_CONTENT_READER_END_OF_STREAM;
        x->out.len = x->off = 0;
        PGconn *c;
        att_err e = db_acquire(x->deps->db, HTTP_DB_WAIT_MS, &c);
        if (e == ATT_OK) {
            e = export_batch(x, c);
            db_release(x->deps->db, c);
        }
        if (e != ATT_OK) { /* the client sees a cut chunked body, never a silently short file */
            log_warn("http", "GET /api/v1/events CSV export cut: %s", att_err_code(e));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = x->out.len - x->off < max ? x->out.len - x->off : max;
    memcpy(buf, x->out.p + x->off, n);
    x->off += n;
    return (ssize_t)n;
}

/* Every event matching f (limit ignored; cursor: start after it), streamed. The first batch is read
 * here, so a bad filter or a database failure is still an ordinary problem answer. */
static att_err export_csv(struct http_request *req, struct http_response *resp, PGconn *c, const struct events_query *q,
                          bool pseudo, struct http_response *tag)
{
    struct export *x = calloc(1, sizeof *x);
    if (!x) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    x->deps = req->deps;
    x->pseudo = pseudo;
    x->f = q->f;
    if (q->f.departments && !(x->departments = strdup(q->f.departments))) {
        free(x);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    x->f.departments = x->departments; /* the export outlives this request */
    const char *const *cols = pseudo ? csv_cols_pseudo : csv_cols;
    for (size_t i = 0; cols[i]; i++) csv_field(&x->out, cols[i], cols[i + 1] == NULL);

    att_err e = export_batch(x, c);
    if (e != ATT_OK) {
        (void)audit_list(req, q, -1, att_err_code(e));
        export_free(x);
        return http_problem(resp, e, NULL, "the events could not be listed");
    }
    att_err ae = audit_list(req, q, -1, "ok");
    if (ae != ATT_OK) { /* fail closed: no unaudited read of personal data */
        export_free(x);
        return http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }
    if (req->token) (void)http_live_add(&x->live, req->token); /* not registered: it cannot be revoked */
    resp->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, export_reader, x, export_free);
    if (!resp->stream) {
        export_free(x);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    resp->status = MHD_HTTP_OK;
    resp->content_type = "text/csv; charset=utf-8";
    for (size_t i = 0; i < tag->nheaders; i++) http_header(resp, tag->headers[i].name, tag->headers[i].value);
    return http_header(resp, "Content-Disposition", "attachment; filename=\"events.csv\"");
}

/* A cached page: its first read by this token is audited like a fresh one (fail closed); a repeat
 * of the same answer to the same token, like a 304, discloses nothing new and is not audited again. */
static att_err from_cache(struct http_request *req, struct http_response *resp, const struct events_query *q,
                          const char *etag, struct rcache_hit *hit, struct http_response *tag)
{
    if (!hit->audited) {
        att_err ae = audit_list(req, q, hit->count, "ok");
        if (ae != ATT_OK) {
            MHD_destroy_response(hit->response);
            return http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                                "the audit log could not be written");
        }
        http_rcache_audited(etag, req->token ? req->token->id : "");
    }
    resp->stream = hit->response;
    resp->status = MHD_HTTP_OK;
    resp->content_type = "application/json";
    for (size_t i = 0; i < tag->nheaders; i++) http_header(resp, tag->headers[i].name, tag->headers[i].value);
    return ATT_OK;
}

/* ---- the route ------------------------------------------------------------------------------------------- */

att_err http_events_list(struct http_request *req, struct http_response *resp)
{
    struct events_query q;
    bool csv;
    att_err e = http_events_query(req, resp, &q);
    if (e == ATT_OK) e = http_negotiate_csv(req, resp, q.format, &csv);
    if (e != ATT_OK) return e;
    /* an export is every matching event: a page size there would silently cut the file */
    if (csv && q.limit_given)
        return http_problem(resp, ATT_E_BAD_PARAM, "limit",
                            "query parameter 'limit' does not apply to the CSV export, which holds every"
                            " matching event");
    bool pseudo = req->token && req->token->pseudonymous;
    if (pseudo && q.f.has_person)
        return http_problem(resp, ATT_E_FORBIDDEN, "person_id", "a pseudonymous token may not filter by person_id");
    if (q.f.has_person && (e = http_person_check(req, resp, "event.list", q.person_id)) != ATT_OK) return e;

    /* conditional GET: answered from memory, before the database (the token check before it is
     * normally served by the auth cache) */
    struct http_response tag = {0};
    bool not_modified;
    uint64_t version = app_data_version(); /* before the query: what the cached page may claim */
    if ((e = http_etag_check(req, csv ? "csv" : "json", &tag, &not_modified)) != ATT_OK || not_modified) {
        http_response_clear(resp);
        *resp = tag;
        return e;
    }

    PGconn *c;
    char *departments; /* need to know: only the events of the principal's people */
    if ((e = http_scope_departments(req, resp, &departments)) != ATT_OK) return e;
    q.f.departments = departments;
    if (csv) {
        if ((e = http_req_db(req, resp, &c)) == ATT_OK) e = export_csv(req, resp, c, &q, pseudo, &tag);
        free(departments);
        return e;
    }
    /* the same answer rendered since the last write: no query */
    const char *etag = NULL, *token_id = req->token ? req->token->id : "";
    for (size_t i = 0; i < tag.nheaders; i++)
        if (strcmp(tag.headers[i].name, MHD_HTTP_HEADER_ETAG) == 0) etag = tag.headers[i].value;
    struct rcache_hit hit;
    if (!etag) e = http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    else if ((e = http_rcache_get(etag, token_id, &hit)) == ATT_OK) e = from_cache(req, resp, &q, etag, &hit, &tag);
    else if (e != ATT_E_NOT_FOUND) e = http_problem(resp, e, NULL, NULL);
    else if ((e = http_req_db(req, resp, &c)) == ATT_OK) e = ATT_E_NOT_FOUND; /* not cached: query below */
    if (e != ATT_E_NOT_FOUND) {
        free(departments);
        return e;
    }
    struct event_row *rows = NULL;
    size_t n = 0;
    struct event_pos pos;
    bool more;
    e = store_events_list(c, &q.f, &rows, &n, &pos, &more);
    free(departments);
    if (e != ATT_OK) {
        (void)audit_list(req, &q, (long long)n, att_err_code(e));
        return http_problem(resp, e, NULL, "the events could not be listed");
    }
    att_err ae = audit_list(req, &q, (long long)n, "ok");
    if (ae != ATT_OK) { /* fail closed: no unaudited read of personal data */
        rows_free(rows, n);
        return http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }

    char next[CURSOR_TEXT_MAX];
    next_cursor(more, &pos, next);
    struct text_buf page = {0};
    page_json(&page, rows, n, pseudo, next);
    rows_free(rows, n);
    if (page.oom) {
        text_buf_free(&page);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    att_err ce = http_rcache_put(etag, version, page.p, page.len, (long long)n, token_id);
    if (ce != ATT_OK) log_warn("http", "GET /api/v1/events: answer not cached: %s", att_err_code(ce));
    for (size_t i = 0; i < tag.nheaders; i++) http_header(resp, tag.headers[i].name, tag.headers[i].value);
    resp->body = page.p; /* the server frees it */
    resp->body_len = page.len;
    resp->content_type = "application/json";
    resp->status = MHD_HTTP_OK;
    return ATT_OK;
}
