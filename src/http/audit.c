/* GET /api/v1/audit (admin): the append-only audit log, newest first, with cursor pagination and
 * filters. Read-only by design: no route changes or deletes an audit row. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/store_audit.h"

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

att_err http_audit_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "audit.list";
    long long limit;
    const char *cursor, *act, *ttype, *tid;
    att_err e;
    if ((e = http_query_int(req, resp, "limit", 1, AUDIT_LIST_MAX_LIMIT, AUDIT_LIST_DEFAULT_LIMIT, &limit)) != ATT_OK ||
        (e = http_query_str(req, resp, "cursor", AUDIT_CURSOR_MAX - 1, &cursor)) != ATT_OK ||
        (e = http_query_str(req, resp, "action", 100, &act)) != ATT_OK ||
        (e = http_query_str(req, resp, "target_type", 50, &ttype)) != ATT_OK ||
        (e = http_query_str(req, resp, "target_id", 200, &tid)) != ATT_OK) {
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct audit_filter f = {
        .limit = (size_t)limit,
        .cursor = cursor,
        .action = act && *act ? act : NULL,
        .target_type = ttype && *ttype ? ttype : NULL,
        .target_id = tid && *tid ? tid : NULL,
    };
    struct audit_row *rows = NULL;
    size_t n = 0;
    char next[AUDIT_CURSOR_MAX];
    e = store_audit_list(c, &f, &rows, &n, next);
    if (e != ATT_OK) {
        if (e == ATT_E_BAD_PARAM)
            http_problem(resp, e, f.cursor && *f.cursor ? "cursor" : NULL,
                         "%s", f.cursor && *f.cursor ? "query parameter 'cursor' is not a cursor this list returned"
                                                     : "a filter is not valid text");
        else
            http_problem(resp, e, NULL, "the audit log could not be read");
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
    char detail[48];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", n);
    if ((e = http_audit(req, action, NULL, NULL, "ok", detail)) != ATT_OK) {
        json_decref(items);
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
    }
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:o, s:o}", "items", items, "next_cursor", next[0] ? json_string(next) : json_null()));
}
