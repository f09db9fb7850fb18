/* Console sessions over HTTP: sign-in (POST /api/v1/session), the signed-in account and its CSRF
 * token (GET), sign-out (DELETE), and authentication of a request by its session cookie, where every
 * state-changing request must come from this origin and carry the session's CSRF token. */
#include "http_internal.h"

#include "ratelimit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "attendd/config.h"
#include "attendd/console_signin.h"
#include "attendd/log.h"
#include "attendd/time.h"

#define CSRF_HEADER "X-CSRF-Token"

bool http_session_cookie(const struct http_request *req, char *out, size_t outlen)
{
    const char *h = http_req_header(req, "Cookie");
    if (h == NULL) return false;
    static const char name[] = CONSOLE_COOKIE_NAME "=";
    for (const char *p = h; *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > sizeof name - 1 && strncmp(p, name, sizeof name - 1) == 0) {
            size_t vl = n - (sizeof name - 1);
            while (vl > 0 && p[sizeof name - 1 + vl - 1] == ' ') vl--;
            if (vl >= outlen) return false;
            memcpy(out, p + sizeof name - 1, vl);
            out[vl] = '\0';
            return true;
        }
        p += n;
    }
    return false;
}

/* The token_info a session acts as: its id (audit rows name the session), the account as the actor,
 * the role's API rights and its departments. A manager has hr rights limited to their wards: the same
 * need-to-know limit as a token's departments, applied by the same code (scope.c). */
static void session_as_token(const struct console_session *s, struct token_info *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, s->id, sizeof out->id);
    console_actor_name(s->user.username, out->name, sizeof out->name);
    out->role = s->user.role == CONSOLE_ADMIN ? ROLE_ADMIN : ROLE_HR;
    out->n_departments = s->user.n_departments;
    memcpy(out->departments, s->user.departments, sizeof out->departments);
}

/* A browser's state-changing request must come from a page of this server: Sec-Fetch-Site (when the
 * browser sends it) says same-origin, and Origin names this host. */
static bool same_origin(const struct http_request *req, const char **why)
{
    const char *site = http_req_header(req, "Sec-Fetch-Site");
    if (site != NULL && strcmp(site, "same-origin") != 0) {
        *why = "a cross-site request may not change anything";
        return false;
    }
    const char *origin = http_req_header(req, "Origin");
    const char *host = http_req_header(req, MHD_HTTP_HEADER_HOST);
    if (origin == NULL || host == NULL) {
        *why = "a request that changes something must carry an Origin header";
        return false;
    }
    /* the scheme is not compared: behind a TLS-terminating proxy the browser's is https */
    const char *sep = strstr(origin, "://");
    if (sep == NULL || strcasecmp(sep + 3, host) != 0) {
        *why = "the request's Origin is not this server";
        return false;
    }
    return true;
}

/* Audit a refused console request (the session is known: it is the actor). */
static void audit_refusal(struct http_request *req, const struct token_info *t, const char *action, att_err e,
                          const char *why)
{
    char addr[64];
    http_client_addr(req->conn, addr, sizeof addr);
    log_notice("http", "403 %s %s from %s: %s", req->method, req->path, addr, why);
    const struct token_info *saved = req->token;
    req->token = t;
    char *detail =
        http_json_text(json_pack("{s:s, s:s, s:s}", "method", req->method, "path", req->path, "address", addr));
    (void)http_audit(req, action, NULL, NULL, att_err_code(e), detail);
    free(detail);
    req->token = saved;
}

att_err http_session_auth(struct http_request *req, struct http_response *resp, enum att_role min_role,
                          struct token_info *out)
{
    char secret[TOKEN_STR_MAX];
    if (!http_session_cookie(req, secret, sizeof secret) || !token_well_formed(secret, strlen(secret))) {
        sodium_memzero(secret, sizeof secret);
        return http_problem(resp, ATT_E_UNAUTHORIZED, NULL, "the session cookie is malformed; sign in again");
    }
    unsigned char hash[TOKEN_HASH_BYTES];
    token_hash(req->deps->token_key, secret, strlen(secret), hash);
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e == ATT_OK) {
        const struct att_config *cfg = req->deps->cfg;
        e = store_console_session_lookup(c, hash, cfg->console_session_idle_s, cfg->console_session_max_s,
                                         &req->session);
        if (e == ATT_E_NOT_FOUND)
            e = http_problem(resp, ATT_E_UNAUTHORIZED, NULL, "the session has ended; sign in again");
        else if (e != ATT_OK) e = http_problem(resp, e, NULL, "the session could not be checked");
    }
    sodium_memzero(hash, sizeof hash);
    if (e == ATT_OK) {
        req->console = true;
        session_as_token(&req->session, out);
        /* cross-site request forgery: a state-changing request needs this origin and the CSRF token */
        bool reads = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
        const char *why = NULL;
        if (!reads && !same_origin(req, &why)) {
            audit_refusal(req, out, "auth.csrf", ATT_E_FORBIDDEN, why);
            e = http_problem(resp, ATT_E_FORBIDDEN, NULL, "%s", why);
        } else if (!reads &&
                   !console_csrf_ok(req->deps->token_key, secret, strlen(secret), http_req_header(req, CSRF_HEADER))) {
            why = "the " CSRF_HEADER " header is missing or does not belong to this session";
            audit_refusal(req, out, "auth.csrf", ATT_E_FORBIDDEN, why);
            e = http_problem(resp, ATT_E_FORBIDDEN, NULL, "%s", why);
        } else if (out->role < min_role) {
            e = http_problem(resp, ATT_E_FORBIDDEN, NULL, "this route needs the %s role; the account is %s",
                             role_name(min_role), console_role_name(req->session.user.role));
        }
    }
    sodium_memzero(secret, sizeof secret);
    return e;
}

/* The account as the console shows it. */
static json_t *user_json(const struct console_user *u)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", u->id, "username", u->username, "display_name",
                          u->display_name, "role", console_role_name(u->role), "totp", u->totp);
    json_t *d = u->n_departments > 0 ? json_array() : NULL;
    for (size_t i = 0; d && i < u->n_departments; i++) json_array_append_new(d, json_string(u->departments[i]));
    if (j != NULL && d != NULL) json_object_set_new(j, "departments", d);
    else json_decref(d);
    return j;
}

/* {user, csrf_token, idle_timeout_s, max_age_s} for the session with this secret. */
static json_t *session_json(const struct http_request *req, const struct console_session *s, const char *secret)
{
    char csrf[CONSOLE_CSRF_MAX];
    console_csrf_token(req->deps->token_key, secret, strlen(secret), csrf);
    const struct att_config *cfg = req->deps->cfg;
    /* timezone: the console shows times on the hospital's wall clock */
    json_t *j = json_pack("{s:s, s:o, s:s, s:i, s:i, s:s}", "id", s->id, "user", user_json(&s->user), "csrf_token",
                          csrf, "idle_timeout_s", cfg->console_session_idle_s, "max_age_s", cfg->console_session_max_s,
                          "timezone", cfg->timezone[0] ? cfg->timezone : "UTC");
    sodium_memzero(csrf, sizeof csrf);
    return j;
}

static att_err set_cookie(struct http_response *resp, const char *secret, int max_age)
{
    char v[256];
    /* Secure: browsers keep and send it over https, and over plain http to loopback addresses only
     * (localhost is a secure context), which is what `make run` serves. */
    snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict", CONSOLE_COOKIE_NAME, secret,
             max_age);
    att_err e = http_header(resp, "Set-Cookie", v);
    sodium_memzero(v, sizeof v);
    return e;
}

att_err http_session_create(struct http_request *req, struct http_response *resp)
{
    char addr[64];
    http_client_addr(req->conn, addr, sizeof addr);
    const char *why = NULL;
    /* a sign-in is a state change too: a page of another site must not sign a browser in */
    if (!same_origin(req, &why)) {
        log_notice("http", "403 %s %s from %s: %s", req->method, req->path, addr, why);
        return http_problem(resp, ATT_E_FORBIDDEN, NULL, "%s", why);
    }
    http_rl *rl = http_rl_global();
    const struct sockaddr *sa = NULL;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL) sa = ci->client_addr;
    int retry;
    char ra[16];
    if (rl != NULL && http_rl_locked(rl, sa, att_time_mono_s(), &retry)) {
        snprintf(ra, sizeof ra, "%d", retry);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        return http_problem(resp, ATT_E_AUTH_LOCKED, NULL,
                            "too many failed authentications from this address; retry in %d s", retry);
    }

    const char *username = NULL, *password = NULL, *totp = NULL;
    const struct http_field spec[] = {
        {.name = "username", .type = HV_TEXT, .required = true, .min_len = 1, .max_len = 64, .text = &username},
        {.name = "password",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = CONSOLE_PASSWORD_MAX,
         .text = &password},
        {.name = "totp",
         .type = HV_TEXT,
         .min_len = 6,
         .max_len = 6,
         .rule = "must be the 6-digit code",
         .text = &totp},
        {NULL},
    };
    json_t *doc;
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    if (totp != NULL && strspn(totp, "0123456789") != 6) {
        json_decref(doc);
        return http_problem(resp, ATT_E_INVALID, "totp", "'totp' must be the 6-digit code");
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(doc);
        return e;
    }
    const struct att_config *cfg = req->deps->cfg;
    struct console_policy pol = {cfg->console_lockout_failures, cfg->console_lockout_s};
    struct console_signin_req in = {username, password, totp, addr, (int64_t)time(NULL)};
    struct console_signin_result r;
    e = console_sign_in(c, req->deps->token_key, &pol, &in, &r);
    json_decref(doc);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the sign-in could not be checked");
    switch (r.outcome) {
    case SIGNIN_OK: break;
    case SIGNIN_LOCKED:
        snprintf(ra, sizeof ra, "%d", r.retry_after_s);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        return http_problem(resp, ATT_E_AUTH_LOCKED, NULL,
                            "this account is locked after repeated failed sign-ins; retry in %d s", r.retry_after_s);
    case SIGNIN_TOTP_REQUIRED:
        return http_problem_ext(resp, ATT_E_UNAUTHORIZED, "totp", json_pack("{s:b}", "totp_required", 1),
                                "this account asks for the 6-digit code of its authenticator app");
    case SIGNIN_BAD_CREDENTIALS:
        if (rl != NULL && http_rl_fail(rl, sa, att_time_mono_s()))
            log_notice("http", "%s locked out for %d s after %d failed authentications", addr, cfg->auth_fail_window_s,
                       cfg->auth_fail_limit);
        return http_problem(resp, ATT_E_UNAUTHORIZED, NULL, "the username, password or code is wrong");
    }
    json_t *body = session_json(req, &r.session, r.secret);
    e = set_cookie(resp, r.secret, cfg->console_session_max_s);
    sodium_memzero(r.secret, sizeof r.secret);
    if (e != ATT_OK) {
        json_decref(body);
        return http_problem(resp, ATT_E_INTERNAL, NULL, "the session cookie could not be set");
    }
    return http_json(resp, MHD_HTTP_CREATED, body);
}

/* The signed-in account and its CSRF token (the console asks after a reload). A bearer token is not
 * a session: 404. */
att_err http_session_get(struct http_request *req, struct http_response *resp)
{
    if (!req->console) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "this request carries no console session");
    char secret[TOKEN_STR_MAX];
    if (!http_session_cookie(req, secret, sizeof secret)) return http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    json_t *body = session_json(req, &req->session, secret);
    sodium_memzero(secret, sizeof secret);
    return http_json(resp, MHD_HTTP_OK, body);
}

att_err http_session_delete(struct http_request *req, struct http_response *resp)
{
    if (!req->console) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "this request carries no console session");
    char addr[64];
    http_client_addr(req->conn, addr, sizeof addr);
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    e = console_sign_out(c, &req->session, addr);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the session could not be ended");
    att_uuid id;
    if (att_uuid_parse(req->session.id, &id) && http_live_revoke(&id) > 0) http_sse_kick(); /* its feeds end now */
    if ((e = set_cookie(resp, "", 0)) != ATT_OK) return http_problem(resp, e, NULL, NULL);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
