/* Request-side helpers for handlers: path parameters, headers, the request's database connection,
 * audit rows. Bodies and query strings are read through request specs (request_spec.c, query_spec.c). */
#include "http_internal.h"

#include <string.h>

#include "attendd/log.h"
#include "attendd/store_audit.h"

const char *http_param(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

const char *http_req_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static att_err req_db(struct http_request *req)
{
    if (req->db != NULL) return ATT_OK;
    if (req->deps->db == NULL) return ATT_E_DB;
    return db_acquire(req->deps->db, HTTP_DB_WAIT_MS, &req->db);
}

att_err http_req_db(struct http_request *req, struct http_response *resp, PGconn **out)
{
    att_err e = req_db(req);
    if (e == ATT_OK) {
        *out = req->db;
        return ATT_OK;
    }
    if (req->deps->db == NULL) return http_problem(resp, ATT_E_DB, NULL, "no database is configured");
    if (e == ATT_E_UNAVAILABLE)
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "no database connection became free within %d ms",
                            HTTP_DB_WAIT_MS);
    if (e == ATT_E_SCHEMA) return http_problem(resp, e, NULL, "the database schema is not up to date");
    return http_problem(resp, ATT_E_DB, NULL, "the database cannot be reached");
}

/* ---- audit ---------------------------------------------------------------------------------- */

struct audit_actor http_actor(const struct http_request *req)
{
    return (struct audit_actor){req->token ? req->token->id : NULL, req->token ? req->token->name : "anonymous"};
}

att_err http_audit(struct http_request *req, const char *action, const char *target_type, const char *target_id,
                   const char *outcome, const char *detail_json)
{
    att_err e = req_db(req);
    if (e == ATT_OK) {
        struct audit_entry a = {
            .token_id = req->token ? req->token->id : NULL,
            .actor = req->token ? req->token->name : "anonymous",
            .action = action,
            .target_type = target_type,
            .target_id = target_id,
            .outcome = outcome,
            .detail_json = detail_json,
        };
        e = store_audit_insert(req->db, &a);
    }
    if (e != ATT_OK) log_error("http", "audit row for %s (%s) not written: %s", action, outcome, att_err_code(e));
    return e;
}
