/* GET /api/v1/events (hr, admin): attendance events newest first with time, person and camera
 * filters and cursor pagination; ETag/304 polling; every 200 is audited (ids and counts, never names). */
#include "http_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/store_events.h"

static const char *const known_params[] = {"since", "until", "person_id", "camera_id", "limit", "cursor", NULL};

/* A misspelt filter (?person=...) must not silently widen the answer to everyone's events. */
static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    const char **unknown = cls;
    for (const char *const *k = known_params; *k; k++)
        if (strcmp(*k, key) == 0) return MHD_YES;
    *unknown = key;
    return MHD_NO;
}

static const char *param_rule(const char *name)
{
    if (strcmp(name, "since") == 0) return "must be an RFC 3339 date-time such as 2024-05-01T07:00:00Z";
    if (strcmp(name, "until") == 0)
        return "must be an RFC 3339 date-time such as 2024-05-01T19:00:00Z, not before since";
    if (strcmp(name, "person_id") == 0 || strcmp(name, "camera_id") == 0) return "must be a uuid";
    if (strcmp(name, "cursor") == 0) return "is not a cursor this API returned";
    return "is not acceptable";
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

att_err http_events_list(struct http_request *req, struct http_response *resp)
{
    const char *unknown = NULL;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &unknown);
    if (unknown)
        return http_problem(resp, ATT_E_BAD_PARAM, unknown,
                            "unknown query parameter; accepted: since, until, person_id, camera_id, limit, cursor");

    struct event_filter f = {0};
    long long limit;
    att_err e;
    if ((e = http_query_str(req, resp, "since", EVENTS_TIME_MAX - 1, &f.since)) != ATT_OK ||
        (e = http_query_str(req, resp, "until", EVENTS_TIME_MAX - 1, &f.until)) != ATT_OK ||
        (e = http_query_str(req, resp, "person_id", 36, &f.person_id)) != ATT_OK ||
        (e = http_query_str(req, resp, "camera_id", 36, &f.camera_id)) != ATT_OK ||
        (e = http_query_str(req, resp, "cursor", EVENTS_CURSOR_MAX - 1, &f.cursor)) != ATT_OK ||
        (e = http_query_int(req, resp, "limit", 1, EVENTS_LIST_MAX_LIMIT, EVENTS_LIST_DEFAULT_LIMIT, &limit)) != ATT_OK)
        return e;
    f.limit = (size_t)limit;
    bool pseudo = req->token && req->token->pseudonymous;
    if (pseudo && f.person_id)
        return http_problem(resp, ATT_E_FORBIDDEN, "person_id", "a pseudonymous token may not filter by person_id");

    /* conditional GET: answered from memory, before the database (the token check before it is
     * normally served by the auth cache) */
    struct http_response tag = {0};
    bool not_modified;
    if ((e = http_etag_check(req, &tag, &not_modified)) != ATT_OK || not_modified) {
        http_response_clear(resp);
        *resp = tag;
        return e;
    }

    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct event_row *rows = NULL;
    size_t n = 0;
    char next[EVENTS_CURSOR_MAX];
    const char *bad = NULL;
    e = store_events_list(c, &f, &rows, &n, next, &bad);
    if (e == ATT_E_BAD_PARAM)
        return http_problem(resp, e, bad ? bad : "?", "query parameter '%s' %s", bad ? bad : "?",
                            param_rule(bad ? bad : "?"));

    /* Audit: who read which person's events, and how many (ids and counts, no personal fields). */
    json_t *detail = json_pack("{s:o, s:o, s:o, s:o, s:I}", "person_id", str_or_null(f.person_id), "camera_id",
                               str_or_null(f.camera_id), "since", str_or_null(f.since), "until",
                               str_or_null(f.until), "count", (json_int_t)n);
    char *detail_txt = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    const char *ttype = f.person_id ? "person" : NULL, *tid = f.person_id;
    if (e != ATT_OK) {
        (void)http_audit(req, "event.list", ttype, tid, att_err_code(e), detail_txt);
        free(detail_txt);
        return http_problem(resp, e, NULL, "the events could not be listed");
    }
    att_err ae = detail_txt ? http_audit(req, "event.list", ttype, tid, "ok", detail_txt) : ATT_E_NOMEM;
    free(detail_txt);
    if (ae != ATT_OK) { /* fail closed: no unaudited read of personal data */
        free(rows);
        return http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }

    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        json_t *o = http_event_json(&rows[i], pseudo);
        if (!o || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(rows);
    if (!items) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    for (size_t i = 0; i < tag.nheaders; i++) http_header(resp, tag.headers[i].name, tag.headers[i].value);
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:o, s:o}", "items", items, "next_cursor", next[0] ? json_string(next) : json_null()));
}
