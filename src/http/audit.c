/* GET /api/v1/audit (admin): the append-only audit log, newest first, with cursor pagination and
 * filters. Read-only by design: no route changes or deletes an audit row. */
#include "http_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/store_audit.h"

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* The query as a typed filter; 400 naming the parameter. */
static att_err read_query(struct http_request *req, struct http_response *resp, struct audit_filter *f)
{
    long long limit = AUDIT_LIST_DEFAULT_LIMIT;
    struct cursor_pos after;
    const char *act = NULL, *ttype = NULL, *tid = NULL;
    const struct http_field spec[] = {
        {.name = "limit", .type = HV_INT, .min = 1, .max = AUDIT_LIST_MAX_LIMIT, .integer = &limit},
        {.name = "cursor",
         .type = HV_CURSOR,
         .max_len = CURSOR_TEXT_MAX - 1,
         .cursor_kind = CURSOR_AUDIT,
         .cursor_keylen = 8,
         .rule = "is not a cursor this list returned",
         .pos = &after,
         .seen = &f->has_after},
        {.name = "action", .type = HV_TEXT, .max_len = 100, .text = &act},
        {.name = "target_type", .type = HV_TEXT, .max_len = 50, .text = &ttype},
        {.name = "target_id", .type = HV_TEXT, .max_len = 200, .text = &tid},
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_OPEN);
    if (e != ATT_OK) return e;
    f->limit = (size_t)limit;
    /* an empty filter is no filter */
    f->action = act && *act ? act : NULL;
    f->target_type = ttype && *ttype ? ttype : NULL;
    f->target_id = tid && *tid ? tid : NULL;
    if (f->has_after) {
        uint64_t id = 0;
        for (int i = 0; i < 8; i++) id = id << 8 | after.key[i];
        if (id > INT64_MAX)
            return http_problem(resp, ATT_E_BAD_PARAM, "cursor",
                                "query parameter 'cursor' is not a cursor this list returned");
        f->after = (struct audit_pos){.ts_us = after.micros, .id = (int64_t)id};
    }
    return ATT_OK;
}

att_err http_audit_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "audit.list";
    struct audit_filter f = {0};
    att_err e = read_query(req, resp, &f);
    if (e != ATT_OK) {
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct audit_row *rows = NULL;
    size_t n = 0;
    struct audit_pos next;
    bool more;
    e = store_audit_list(c, &f, &rows, &n, &next, &more);
    if (e != ATT_OK) {
        if (e == ATT_E_INVALID) {
            e = ATT_E_BAD_PARAM;
            http_problem(resp, e, NULL, "a filter is not valid text");
        } else {
            http_problem(resp, e, NULL, "the audit log could not be read");
        }
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++) {
        const struct audit_row *a = &rows[i];
        json_t *detail = a->detail_json ? json_loads(a->detail_json, 0, NULL) : NULL;
        json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:o}", "id", (json_int_t)a->id, "ts", a->ts,
                              "token_id", str_or_null(a->token_id), "actor", a->actor, "action", a->action,
                              "target_type", str_or_null(a->target_type), "target_id", str_or_null(a->target_id),
                              "outcome", a->outcome, "detail", detail ? detail : json_null());
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(rows);
    if (items == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    /* reading the log is itself an admin action; written after the page so it is not on it */
    char *detail = http_json_text(json_pack("{s:I}", "count", (json_int_t)n));
    e = detail ? http_audit(req, action, NULL, NULL, "ok", detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        json_decref(items);
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }
    char cursor[CURSOR_TEXT_MAX];
    if (more) {
        unsigned char key[8];
        for (int i = 0; i < 8; i++) key[i] = (unsigned char)((uint64_t)next.id >> (56 - 8 * i));
        if (!cursor_encode(CURSOR_AUDIT, next.ts_us, key, sizeof key, cursor, sizeof cursor)) {
            json_decref(items);
            return http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
        }
    }
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:o, s:o}", "items", items, "next_cursor", more ? json_string(cursor) : json_null()));
}
