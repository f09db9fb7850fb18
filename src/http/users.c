/* /api/v1/users (admin): console accounts listed, created (the one-time password is shown once) and
 * disabled; every call leaves an audit row. */
#include "http_internal.h"
#include "request_spec.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/console_accounts.h"
#include "attendd/log.h"
#include "attendd/text.h"

static const char *const console_roles[] = {"admin", "hr", "manager", NULL};

/* An account as the API shows it (never its password hash or TOTP secret). */
static json_t *account_json(const void *row)
{
    const struct console_user *u = row;
    json_t *deps = json_array();
    for (size_t i = 0; deps && i < u->n_departments; i++) json_array_append_new(deps, json_string(u->departments[i]));
    if (deps == NULL) return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:s}", "id", u->id, "username", u->username, "display_name",
                     u->display_name, "role", console_role_name(u->role), "departments", deps, "totp", u->totp,
                     "disabled", u->disabled, "created_at", u->created_at);
}

static att_err load_accounts(PGconn *c, void **rows, size_t *n)
{
    struct console_user *list = NULL;
    att_err e = store_console_user_list(c, &list, n);
    *rows = list;
    return e;
}

static const struct http_audited_list account_list = {
    .action = "user.list",
    .target_type = "user",
    .member = "items",
    .failed = "the accounts could not be listed",
    .row_size = sizeof(struct console_user),
    .load = load_accounts,
    .render = account_json,
};

att_err http_users_list(struct http_request *req, struct http_response *resp)
{
    return http_audited_list(req, resp, &account_list);
}

att_err http_users_create(struct http_request *req, struct http_response *resp)
{
    const char *username = NULL, *display = NULL;
    int role = 0;
    json_t *doc, *departments = NULL;
    const struct http_field spec[] = {
        {.name = "username",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 64,
         .rule = "must be 1 to 64 of a-z 0-9 . _ - starting with a letter or digit",
         .text = &username},
        {.name = "display_name",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 800,
         .max_chars = 200,
         .text = &display},
        {.name = "role", .type = HV_ENUM, .required = true, .one_of = console_roles, .index = &role},
        {.name = "departments", .type = HV_ARRAY, .json = &departments}, /* a manager's wards */
        {NULL},
    };
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_body_parse(resp, req->body, req->body_len, spec, &doc);
    if (e != ATT_OK) return e;
    enum console_role r = CONSOLE_ADMIN;
    if (!console_role_parse(console_roles[role], &r)) e = http_problem(resp, ATT_E_INVALID, "role", "unknown role");
    else if (!console_username_ok(username))
        e = http_problem(resp, ATT_E_INVALID, "username",
                         "'username' must be 1 to 64 of a-z 0-9 . _ - starting with a letter or digit");
    const char *deps[TOKEN_DEPARTMENTS_MAX];
    size_t n = departments ? json_array_size(departments) : 0;
    bool deps_ok = departments == NULL || (n >= 1 && n <= TOKEN_DEPARTMENTS_MAX);
    for (size_t i = 0; deps_ok && i < n; i++) {
        deps[i] = json_string_value(json_array_get(departments, i));
        deps_ok = deps[i] != NULL && text_ok(deps[i], 1, 200);
    }
    if (e == ATT_OK && !deps_ok)
        e = http_problem(resp, ATT_E_INVALID, "departments",
                         "'departments' must be an array of 1 to %d ward names (1 to 200 characters each)",
                         TOKEN_DEPARTMENTS_MAX);
    else if (e == ATT_OK && r == CONSOLE_MANAGER && n == 0)
        e = http_problem(resp, ATT_E_INVALID, "departments", "a manager needs 'departments' (the wards they manage)");
    PGconn *c = NULL;
    if (e == ATT_OK) e = http_req_db(req, resp, &c);
    if (e != ATT_OK) {
        json_decref(doc);
        return e;
    }
    struct console_account_req in = {
        .username = username, .display_name = display, .role = r, .departments = deps, .n_departments = n};
    struct audit_actor actor = http_actor(req);
    struct console_user u;
    char pw[CONSOLE_NEW_PASSWORD_MAX];
    e = console_account_create(c, &actor, &in, pw, &u);
    if (e != ATT_OK) {
        (void)http_audit(req, "user.create", "user", NULL, att_err_code(e), NULL);
        json_decref(doc);
        if (e == ATT_E_CONFLICT) return http_problem(resp, e, "username", "the username is taken");
        if (e == ATT_E_INVALID) return http_problem(resp, e, "display_name", "the account is not acceptable");
        return http_problem(resp, e, NULL, "the account could not be created");
    }
    json_decref(doc);
    log_info("http", "console account %s (%s) created by %s", u.username, console_role_name(u.role), actor.name);
    json_t *out = account_json(&u);
    if (out == NULL || json_object_set_new(out, "password", json_string(pw)) != 0) {
        sodium_memzero(pw, sizeof pw);
        json_decref(out);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    sodium_memzero(pw, sizeof pw);
    /* the password is in this body: no cache anywhere may keep it */
    http_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    char location[80];
    snprintf(location, sizeof location, "/api/v1/users/%s", u.id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED, out);
}

att_err http_users_delete(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    att_uuid uid;
    if (!att_uuid_parse(id, &uid)) {
        (void)http_audit(req, "user.disable", "user", NULL, att_err_code(ATT_E_NOT_FOUND), NULL);
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no account with this id");
    }
    char canon[ATT_UUID_STR];
    att_uuid_format(&uid, canon);
    /* an administrator cannot shut themselves out */
    if (req->console && strcmp(req->session.user.id, canon) == 0) {
        (void)http_audit(req, "user.disable", "user", canon, att_err_code(ATT_E_CONFLICT), NULL);
        return http_problem(resp, ATT_E_CONFLICT, NULL, "an account cannot disable itself");
    }
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct audit_actor actor = http_actor(req);
    struct console_user u;
    e = console_account_disable(c, &actor, canon, &u);
    if (e != ATT_OK) {
        (void)http_audit(req, "user.disable", "user", canon, att_err_code(e), NULL);
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no account with id %s", canon);
        if (e == ATT_E_CONFLICT) return http_problem(resp, e, NULL, "the account is disabled already");
        return http_problem(resp, e, NULL, "the account could not be disabled");
    }
    log_info("http", "console account %s disabled by %s", u.username, actor.name);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
