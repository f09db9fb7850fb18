/* /api/v1/tokens (admin): create (the secret is shown once), list (never hashes or secrets),
 * revoke; every call leaves an audit row. /api/v1/whoami: the presented token's identity. */
#include "http_internal.h"
#include "request_spec.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/text.h"

/* Action and audit row in one transaction: a token never exists without its audit row. On a
 * failed action the transaction is rolled back and the failure is audited on its own. */

static const char *const role_names[] = {"admin", "hr", "kiosk", NULL};

/* Add a limited token's departments to o (an unlimited token has no such member); o returned. */
static json_t *with_departments(json_t *o, const struct token_info *t)
{
    if (o == NULL || t->n_departments == 0) return o;
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->n_departments; i++) json_array_append_new(a, json_string(t->departments[i]));
    if (a == NULL || json_object_set_new(o, "departments", a) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

att_err http_tokens_body(struct http_response *resp, const char *buf, size_t len, json_t **doc,
                         struct token_request *out)
{
    const char *role = NULL;
    json_t *departments = NULL;
    *out = (struct token_request){0};
    const struct http_field spec[] = {
        {.name = "name",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = sizeof(((struct token_info *)0)->name) - 1,
         .text = &out->name},
        {.name = "role", .type = HV_ENUM, .required = true, .one_of = role_names, .text = &role},
        {.name = "pseudonymous", .type = HV_BOOL, .flag = &out->pseudonymous}, /* sees pseudonyms, not identities */
        {.name = "departments", .type = HV_ARRAY, .json = &departments},       /* need to know: only these people */
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK) return e;
    size_t n = departments ? json_array_size(departments) : 0;
    bool ok = departments == NULL || (n >= 1 && n <= TOKEN_DEPARTMENTS_MAX);
    for (size_t i = 0; ok && i < n; i++) {
        const char *d = json_string_value(json_array_get(departments, i));
        ok = d != NULL && text_ok(d, 1, 200);
        out->departments[i] = d;
    }
    out->n_departments = ok ? n : 0;
    if (!ok) {
        json_decref(*doc);
        *doc = NULL;
        return http_problem(resp, ATT_E_INVALID, "departments",
                            "'departments' must be an array of 1 to %d department names (1 to 200 characters each)",
                            TOKEN_DEPARTMENTS_MAX);
    }
    if (role_parse(role, &out->role) != 0) { /* the spec allows only valid ones */
        json_decref(*doc);
        *doc = NULL;
        return http_problem(resp, ATT_E_INVALID, "role", "'role' must be \"admin\", \"hr\" or \"kiosk\"");
    }
    return ATT_OK;
}

att_err http_tokens_create(struct http_request *req, struct http_response *resp)
{
    json_t *body;
    struct token_request t;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_tokens_body(resp, req->body, req->body_len, &body, &t);
    if (e != ATT_OK) return e;
    const char *name = t.name;
    enum att_role role = t.role;
    bool pseudo = t.pseudonymous;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    char *detail = http_json_text(json_pack("{s:s, s:b, s:I}", "role", role_name(role), "pseudonymous", pseudo,
                                            "departments", (json_int_t)t.n_departments));
    if (!detail) {
        json_decref(body);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }

    char token[TOKEN_STR_MAX], id[ATT_UUID_STR];
    e = db_begin(c);
    if (e == ATT_OK)
        e = store_token_create_scoped(c, req->deps->token_key, name, role, pseudo, t.departments, t.n_departments,
                                      req->token->id, token, id);
    if (e == ATT_OK) {
        e = http_audit(req, "token.create", "token", id, "ok", detail);
        if (e == ATT_OK) e = db_commit(c);
        if (e != ATT_OK) {
            db_rollback(c);
            sodium_memzero(token, sizeof token);
            free(detail);
            json_decref(body);
            return http_audit_failed(resp, e);
        }
        free(detail);
    } else {
        db_rollback(c);
        (void)http_audit(req, "token.create", "token", NULL, att_err_code(e), detail);
        free(detail);
        json_decref(body);
        if (e == ATT_E_INVALID) return http_problem(resp, e, "name", "'name' is not acceptable for a token");
        return http_problem(resp, e, NULL, "the token could not be created");
    }
    log_info("http", "token %s (%s) created by token %s", id, role_name(role), req->token->id);

    json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", id, "name", name, "role", role_name(role),
                            "pseudonymous", pseudo, "token", token);
    if (out && t.n_departments) { /* only a limited token has the member */
        json_t *deps = json_array();
        for (size_t i = 0; deps && i < t.n_departments; i++) json_array_append_new(deps, json_string(t.departments[i]));
        json_object_set_new(out, "departments", deps ? deps : json_null());
    }
    sodium_memzero(token, sizeof token);
    json_decref(body);
    /* the secret is in this body: no cache anywhere may keep it */
    http_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    char location[80];
    snprintf(location, sizeof location, "/api/v1/tokens/%s", id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED, out);
}

/* A token's row in the list: never its hash or secret. */
static json_t *token_row(const void *row)
{
    const struct token_info *t = row;
    return with_departments(json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b}", "id", t->id, "name", t->name, "role",
                                      role_name(t->role), "created_at", t->created_at, "last_used_at",
                                      t->last_used_at[0] ? json_string(t->last_used_at) : json_null(), "revoked",
                                      t->revoked, "pseudonymous", t->pseudonymous),
                            t);
}

static att_err load_tokens(PGconn *c, void **rows, size_t *n)
{
    struct token_info *list = NULL;
    att_err e = store_token_list(c, &list, n);
    *rows = list;
    return e;
}

static const struct http_audited_list token_list = {
    .action = "token.list",
    .target_type = "token",
    .member = "tokens",
    .failed = "the tokens could not be listed",
    .row_size = sizeof(struct token_info),
    .load = load_tokens,
    .render = token_row,
};

att_err http_tokens_list(struct http_request *req, struct http_response *resp)
{
    return http_audited_list(req, resp, &token_list);
}

att_err http_tokens_delete(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    att_uuid uid;
    if (!att_uuid_parse(id, &uid)) {
        (void)http_audit(req, "token.revoke", "token", NULL, att_err_code(ATT_E_NOT_FOUND), NULL);
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no token with this id");
    }
    e = db_begin(c);
    if (e == ATT_OK) e = store_token_revoke(c, id);
    if (e == ATT_OK) {
        e = http_audit(req, "token.revoke", "token", id, "ok", NULL);
        if (e == ATT_OK) e = db_commit(c);
        if (e != ATT_OK) {
            db_rollback(c);
            return http_audit_failed(resp, e);
        }
    } else {
        db_rollback(c);
        (void)http_audit(req, "token.revoke", "token", id, att_err_code(e), NULL);
        if (e == ATT_E_NOT_FOUND || e == ATT_E_INVALID)
            return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no live token with id %s", id);
        return http_problem(resp, e, NULL, "the token could not be revoked");
    }
    /* effective now in this process, not after the cache TTL: the next request is refused, and the
     * streams and exports the token still reads end before they send anything more */
    http_auth_forget(&uid);
    unsigned ended = http_live_revoke(&uid);
    if (ended) http_sse_kick();
    log_info("http", "token %s revoked by token %s (%u open response(s) ended)", id, req->token->id, ended);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}

att_err http_whoami_get(struct http_request *req, struct http_response *resp)
{
    const struct token_info *t = req->token;
    return http_json(resp, MHD_HTTP_OK,
                     with_departments(json_pack("{s:s, s:s, s:s, s:b}", "id", t->id, "name", t->name, "role",
                                                role_name(t->role), "pseudonymous", t->pseudonymous),
                                      t));
}
