/* An admin list whose reading leaves an audit row: load, audit (fail closed), render, no-store. */
#include "http_internal.h"

#include <stdlib.h>

att_err http_audit_failed(struct http_response *resp, att_err e)
{
    return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
}

att_err http_audited_list(struct http_request *req, struct http_response *resp, const struct http_audited_list *l)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    void *rows = NULL;
    size_t n = 0;
    e = l->load(c, &rows, &n);
    if (e != ATT_OK) {
        (void)http_audit(req, l->action, l->target_type, NULL, att_err_code(e), NULL);
        return http_problem(resp, e, NULL, "%s", l->failed);
    }
    /* nothing is shown that the audit log does not record */
    if ((e = http_audit(req, l->action, l->target_type, NULL, "ok", NULL)) != ATT_OK) {
        free(rows);
        return http_audit_failed(resp, e);
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        json_t *o = l->render((const char *)rows + i * l->row_size);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(rows);
    if (arr == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    /* a list of accounts or credentials: no cache anywhere may keep it */
    http_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", l->member, arr));
}
