/* Console sessions through the real daemon: sign-in with the cookie's attributes, the session acting
 * on the API, every CSRF refusal (no token, a wrong one, another origin, a cross-site fetch, no
 * Origin), sign-out, bad sign-in bodies, account lock-out, TOTP (required, wrong, replayed), idle and
 * absolute timeouts, a manager limited to their wards, the audit rows, bearer tokens unchanged, and console
 * accounts created, listed and disabled through the API. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "attendd/console.h"
#include "attendd/db.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_api.h"

static struct ts_daemon D;
static char conninfo[600];
static PGconn *db;
static int ready;
static char origin[80]; /* this daemon's origin, as a browser on its page sends it */

static void start(const char *extra)
{
    ready = 0;
    if (ts_db_new(conninfo, sizeof conninfo) != 0) return;
    memset(&D, 0, sizeof D);
    if (ts_daemon_start(&D, conninfo, extra) != 0) return;
    char err[512];
    if (db_connect(conninfo, "attendd-test", &db, err, sizeof err) != ATT_OK) return;
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d", D.port);
    ready = 1;
}
/* the per-address limiter is tested elsewhere (abuse suite): here the account's own lock-out */
static void setup(void) { start("auth_fail_limit = 1000\n"); }
static void setup_short(void)
{
    start("auth_fail_limit = 1000\nconsole_session_idle_s = 3\nconsole_session_max_s = 7\n");
}

static void teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    if (db) PQfinish(db);
    db = NULL;
    ts_db_drop(conninfo);
}

/* One request with the headers a browser would send. cookie: the session secret or NULL; org: the
 * Origin header or NULL; csrf: X-CSRF-Token or NULL; extra: one more header line or NULL. */
struct req {
    const char *cookie, *origin, *csrf, *extra, *token, *content_type;
};

static size_t header_sink(char *p, size_t sz, size_t n, void *arg)
{
    struct ts_resp *r = arg;
    size_t len = sz * n, old = r->headers ? strlen(r->headers) : 0;
    char *h = realloc(r->headers, old + len + 1);
    if (!h) return 0;
    memcpy(h + old, p, len);
    h[old + len] = '\0';
    r->headers = h;
    return len;
}

static long call(const char *method, const char *path, const struct req *q, const char *body, struct ts_resp *out)
{
    memset(out, 0, sizeof *out);
    out->body = calloc(1, 1);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    struct curl_slist *h = NULL;
    char line[4][256];
    if (q && q->cookie) {
        snprintf(line[0], sizeof line[0], "Cookie: theme=dark; %s=%s", CONSOLE_COOKIE_NAME, q->cookie);
        h = curl_slist_append(h, line[0]);
    }
    if (q && q->origin) {
        snprintf(line[1], sizeof line[1], "Origin: %s", q->origin);
        h = curl_slist_append(h, line[1]);
    }
    if (q && q->csrf) {
        snprintf(line[2], sizeof line[2], "X-CSRF-Token: %s", q->csrf);
        h = curl_slist_append(h, line[2]);
    }
    if (q && q->token) {
        snprintf(line[3], sizeof line[3], "Authorization: Bearer %s", q->token);
        h = curl_slist_append(h, line[3]);
    }
    if (q && q->extra) h = curl_slist_append(h, q->extra);
    h = curl_slist_append(h, q && q->content_type ? q->content_type : "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, ts_url(&D, path));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ts_resp_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_sink);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return out->status;
}

/* status of a request whose answer is not read further */
static long status_of(const char *method, const char *path, const struct req *q, const char *body)
{
    struct ts_resp r;
    long st = call(method, path, q, body, &r);
    ts_resp_free(&r);
    return st;
}

/* A problem answer with the expected status, code and (when given) field. */
static void expect_problem(const char *method, const char *path, const struct req *q, const char *body, long want,
                           const char *code, const char *field)
{
    struct ts_resp r;
    long st = call(method, path, q, body, &r);
    ts_expect_problem(ts_json_body(r.body, r.len), st, want, code, field);
    ts_resp_free(&r);
}

/* `attendctl user create`: the generated password (first stdout line) into pw, the TOTP URI's
 * secret (base32) into b32 when totp. */
static void make_user(const char *username, const char *role, const char *dept, bool totp, char *pw, size_t pwlen,
                      char *b32, size_t b32len)
{
    ck_assert_msg(ready, "daemon or database did not start");
    char out[512];
    const char *args[12] = {"user", "create", "--username", username, "--role", role, "--name", "Test User"};
    int n = 8;
    if (dept) {
        args[n++] = "--department";
        args[n++] = dept;
    }
    if (totp) args[n++] = "--totp";
    args[n] = NULL;
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, args), 0);
    char *nl = strchr(out, '\n');
    if (nl) *nl = '\0';
    ck_assert_uint_ge(strlen(out), 16);
    snprintf(pw, pwlen, "%s", out);
    if (totp) {
        ck_assert_ptr_nonnull(nl);
        const char *s = strstr(nl + 1, "secret=");
        ck_assert_ptr_nonnull(s);
        snprintf(b32, b32len, "%.*s", (int)strcspn(s + 7, "&"), s + 7);
    }
}

/* Sign in; returns the status. On 201 the cookie's secret into secret and the CSRF token into csrf. */
static long sign_in(const char *user, const char *pw, const char *totp, char *secret, char *csrf)
{
    json_t *b = json_pack("{s:s, s:s}", "username", user, "password", pw);
    if (totp) json_object_set_new(b, "totp", json_string(totp));
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct req q = {.origin = origin};
    struct ts_resp r;
    long st = call("POST", "/api/v1/session", &q, body, &r);
    free(body);
    if (st == 201) {
        char sc[512];
        ck_assert_ptr_nonnull(ts_resp_header(&r, "Set-Cookie", sc, sizeof sc));
        const char *v = strstr(sc, CONSOLE_COOKIE_NAME "=");
        ck_assert_ptr_nonnull(v);
        v += strlen(CONSOLE_COOKIE_NAME) + 1;
        snprintf(secret, TOKEN_STR_MAX, "%.*s", (int)strcspn(v, ";"), v);
        json_t *j = ts_json_body(r.body, r.len);
        snprintf(csrf, CONSOLE_CSRF_MAX, "%s", ts_jstr(j, "csrf_token"));
        json_decref(j);
    }
    ts_resp_free(&r);
    return st;
}

static long long audit_count(const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE %s", where);
    return ts_q_int(db, sql);
}

START_TEST(signin_cookie_session_and_signout)
{
    char pw[64], secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX];
    make_user("admin", "admin", NULL, false, pw, sizeof pw, NULL, 0);
    /* the cookie carries every attribute */
    json_t *b = json_pack("{s:s, s:s}", "username", "admin", "password", pw);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct req q = {.origin = origin};
    struct ts_resp r;
    ck_assert_int_eq(call("POST", "/api/v1/session", &q, body, &r), 201);
    free(body);
    char sc[512];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Set-Cookie", sc, sizeof sc));
    ck_assert_msg(strstr(sc, "; HttpOnly") && strstr(sc, "; Secure") && strstr(sc, "; SameSite=Strict") &&
                      strstr(sc, "; Path=/") && strstr(sc, "; Max-Age=43200"),
                  "cookie attributes: %s", sc);
    json_t *j = ts_json_body(r.body, r.len);
    ck_assert_str_eq(ts_jstr(json_object_get(j, "user"), "username"), "admin");
    ck_assert_str_eq(ts_jstr(json_object_get(j, "user"), "role"), "admin");
    ck_assert_int_eq(ts_jint(j, "idle_timeout_s"), 1800);
    json_decref(j);
    ts_resp_free(&r);

    ck_assert_int_eq(sign_in("admin", pw, NULL, secret, csrf), 201);
    /* the session acts on the API as its account */
    struct req s = {.cookie = secret};
    ck_assert_int_eq(call("GET", "/api/v1/whoami", &s, NULL, &r), 200);
    j = ts_json_body(r.body, r.len);
    ck_assert_str_eq(ts_jstr(j, "name"), "user:admin");
    ck_assert_str_eq(ts_jstr(j, "role"), "admin");
    json_decref(j);
    ts_resp_free(&r);
    ck_assert_int_eq(call("GET", "/api/v1/session", &s, NULL, &r), 200);
    j = ts_json_body(r.body, r.len);
    ck_assert_str_eq(ts_jstr(j, "csrf_token"), csrf);
    json_decref(j);
    ts_resp_free(&r);

    /* a state-changing request: refused without each of its guards, accepted with all */
    char person[ATT_UUID_STR], punch[256];
    ts_q_text(db, "INSERT INTO people (employee_no, name) VALUES ('E-1', 'Ada') RETURNING id", person, sizeof person);
    char ts[40];
    time_t now = time(NULL) - 60;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(punch, sizeof punch, "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"%s\",\"reason\":\"forgot badge\"}",
             person, ts);
    struct req no_csrf = {.cookie = secret, .origin = origin};
    expect_problem("POST", "/api/v1/punches", &no_csrf, punch, 403, "forbidden", NULL);
    struct req bad_csrf = {.cookie = secret, .origin = origin, .csrf = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    expect_problem("POST", "/api/v1/punches", &bad_csrf, punch, 403, "forbidden", NULL);
    struct req other_origin = {.cookie = secret, .origin = "http://evil.example", .csrf = csrf};
    expect_problem("POST", "/api/v1/punches", &other_origin, punch, 403, "forbidden", NULL);
    struct req no_origin = {.cookie = secret, .csrf = csrf};
    expect_problem("POST", "/api/v1/punches", &no_origin, punch, 403, "forbidden", NULL);
    struct req cross = {.cookie = secret, .origin = origin, .csrf = csrf, .extra = "Sec-Fetch-Site: cross-site"};
    expect_problem("POST", "/api/v1/punches", &cross, punch, 403, "forbidden", NULL);
    struct req form = {.cookie = secret,
                       .origin = "http://evil.example",
                       .content_type = "Content-Type: application/x-www-form-urlencoded"};
    expect_problem("POST", "/api/v1/punches", &form, "person_id=x&kind=in", 403, "forbidden", NULL);
    ck_assert_int_eq(ts_q_int(db, "SELECT count(*) FROM events"), 0);
    ck_assert_int_eq(audit_count("action = 'auth.csrf' AND outcome = 'forbidden' AND actor = 'user:admin'"), 6);
    struct req good = {.cookie = secret, .origin = origin, .csrf = csrf, .extra = "Sec-Fetch-Site: same-origin"};
    ck_assert_int_eq(status_of("POST", "/api/v1/punches", &good, punch), 201);
    ck_assert_int_eq(audit_count("action = 'punch.create' AND actor = 'user:admin'"), 1);

    /* sign-out needs the CSRF token too; afterwards the cookie is worthless */
    expect_problem("DELETE", "/api/v1/session", &no_csrf, NULL, 403, "forbidden", NULL);
    struct req out_ok = {.cookie = secret, .origin = origin, .csrf = csrf};
    ck_assert_int_eq(call("DELETE", "/api/v1/session", &out_ok, NULL, &r), 204);
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Set-Cookie", sc, sizeof sc));
    ck_assert_ptr_nonnull(strstr(sc, "Max-Age=0"));
    ts_resp_free(&r);
    expect_problem("GET", "/api/v1/whoami", &s, NULL, 401, "unauthorized", NULL);
    expect_problem("GET", "/api/v1/session", &s, NULL, 401, "unauthorized", NULL);
    ck_assert_int_eq(audit_count("action = 'session.create' AND outcome = 'ok' AND target_id = 'admin'"), 2);
    ck_assert_int_eq(audit_count("action = 'session.delete' AND outcome = 'ok' AND target_id = 'admin'"), 1);

    /* bearer tokens work as before, and one is not a session */
    struct req bearer = {.token = D.admin_token};
    ck_assert_int_eq(status_of("GET", "/api/v1/whoami", &bearer, NULL), 200);
    expect_problem("GET", "/api/v1/session", &bearer, NULL, 404, "not_found", NULL);
    /* a malformed cookie is no session */
    struct req junk = {.cookie = "not-a-session"};
    expect_problem("GET", "/api/v1/whoami", &junk, NULL, 401, "unauthorized", NULL);
}
END_TEST

START_TEST(signin_refusals_and_lockout)
{
    char pw[64], secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX];
    make_user("nurse.lee", "hr", NULL, false, pw, sizeof pw, NULL, 0);
    struct req q = {.origin = origin};
    /* bad bodies name their field */
    expect_problem("POST", "/api/v1/session", &q, "{\"password\":\"x\"}", 422, "invalid_field", "username");
    expect_problem("POST", "/api/v1/session", &q, "{\"username\":\"nurse.lee\"}", 422, "invalid_field", "password");
    expect_problem("POST", "/api/v1/session", &q, "{\"username\":\"nurse.lee\",\"password\":\"x\",\"totp\":\"12ab56\"}",
                   422, "invalid_field", "totp");
    expect_problem("POST", "/api/v1/session", &q, "{\"username\":\"nurse.lee\",\"password\":\"x\",\"role\":\"admin\"}",
                   422, "invalid_field", "role");
    expect_problem("POST", "/api/v1/session", &q, "{\"username\":", 400, "malformed_json", NULL);
    struct req form = {.origin = origin, .content_type = "Content-Type: application/x-www-form-urlencoded"};
    expect_problem("POST", "/api/v1/session", &form, "username=nurse.lee", 415, "unsupported_media_type", NULL);
    /* a sign-in from another site's page, or without an Origin */
    struct req evil = {.origin = "http://evil.example"};
    expect_problem("POST", "/api/v1/session", &evil, "{\"username\":\"nurse.lee\",\"password\":\"x\"}", 403,
                   "forbidden", NULL);
    expect_problem("POST", "/api/v1/session", NULL, "{\"username\":\"nurse.lee\",\"password\":\"x\"}", 403, "forbidden",
                   NULL);
    /* an unknown user and a wrong password get the same answer */
    struct ts_resp r1, r2;
    ck_assert_int_eq(
        call("POST", "/api/v1/session", &q, "{\"username\":\"nobody\",\"password\":\"wrong password\"}", &r1), 401);
    ck_assert_int_eq(
        call("POST", "/api/v1/session", &q, "{\"username\":\"nurse.lee\",\"password\":\"wrong password\"}", &r2), 401);
    json_t *j1 = ts_json_body(r1.body, r1.len), *j2 = ts_json_body(r2.body, r2.len);
    ck_assert_str_eq(ts_jstr(j1, "detail"), ts_jstr(j2, "detail"));
    json_decref(j1);
    json_decref(j2);
    ts_resp_free(&r1);
    ts_resp_free(&r2);
    /* four more wrong passwords (five in a row) lock the account: the right one is refused then */
    for (int i = 0; i < 4; i++) ck_assert_int_eq(sign_in("nurse.lee", "wrong password", NULL, secret, csrf), 401);
    struct ts_resp r;
    json_t *b = json_pack("{s:s, s:s}", "username", "nurse.lee", "password", pw);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    ck_assert_int_eq(call("POST", "/api/v1/session", &q, body, &r), 429);
    char ra[32];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_int_gt(atoi(ra), 800);
    ts_expect_problem(ts_json_body(r.body, r.len), r.status, 429, "too_many_auth_failures", NULL);
    ts_resp_free(&r);
    free(body);
    /* every attempt is audited with its reason; the lock shows in the row that set it */
    ck_assert_int_eq(audit_count("action = 'session.create' AND detail->>'reason' = 'unknown_user'"), 1);
    ck_assert_int_eq(audit_count("action = 'session.create' AND detail->>'reason' = 'bad_password'"), 5);
    ck_assert_int_eq(audit_count("action = 'session.create' AND detail->>'locked' = 'true'"), 1);
    ck_assert_int_eq(audit_count("action = 'session.create' AND outcome = 'too_many_auth_failures'"), 1);
    /* an admin's new password unlocks it */
    char out[128];
    const char *args[] = {"user", "password", "nurse.lee", NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, args), 0);
    ck_assert_int_eq(sign_in("nurse.lee", out, NULL, secret, csrf), 201);
    /* an hr account may not use admin routes */
    struct req s = {.cookie = secret};
    expect_problem("GET", "/api/v1/tokens", &s, NULL, 403, "forbidden", NULL);
}
END_TEST

/* RFC 4648 base32 (no padding) into out; its length. */
static size_t base32_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned buf = 0;
    int bits = 0;
    for (; *s; s++) {
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(a, *s);
        ck_assert_ptr_nonnull(p);
        buf = (buf << 5) | (unsigned)(p - a);
        bits += 5;
        if (bits >= 8) {
            ck_assert_uint_lt(n, cap);
            out[n++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return n;
}

START_TEST(totp_second_factor)
{
    char pw[64], b32[64], secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX], code[8], wrong[8];
    make_user("dr.wu", "admin", NULL, true, pw, sizeof pw, b32, sizeof b32);
    unsigned char key[CONSOLE_TOTP_SECRET_BYTES];
    ck_assert_uint_eq(base32_decode(b32, key, sizeof key), CONSOLE_TOTP_SECRET_BYTES);
    /* the password alone: 401 asking for the code (not a failure, not a session) */
    struct req q = {.origin = origin};
    struct ts_resp r;
    json_t *b = json_pack("{s:s, s:s}", "username", "dr.wu", "password", pw);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    ck_assert_int_eq(call("POST", "/api/v1/session", &q, body, &r), 401);
    free(body);
    json_t *j = ts_json_body(r.body, r.len);
    ck_assert(json_is_true(json_object_get(j, "totp_required")));
    ck_assert_str_eq(ts_jstr(j, "field"), "totp");
    json_decref(j);
    ts_resp_free(&r);
    int64_t step = (int64_t)time(NULL) / CONSOLE_TOTP_STEP_S;
    snprintf(code, sizeof code, "%06u", console_totp_at(key, sizeof key, CONSOLE_TOTP_SHA256, step, 6));
    snprintf(wrong, sizeof wrong, "%06u",
             (console_totp_at(key, sizeof key, CONSOLE_TOTP_SHA256, step, 6) + 500000) % 1000000);
    /* a wrong code with the right password is a failure; a code without the right password is too */
    ck_assert_int_eq(sign_in("dr.wu", pw, wrong, secret, csrf), 401);
    ck_assert_int_eq(sign_in("dr.wu", "wrong password", code, secret, csrf), 401);
    ck_assert_int_eq(sign_in("dr.wu", pw, code, secret, csrf), 201);
    /* the same code a second time: refused */
    ck_assert_int_eq(sign_in("dr.wu", pw, code, secret, csrf), 401);
    ck_assert_int_eq(audit_count("action = 'session.create' AND detail->>'reason' = 'totp_required'"), 1);
    ck_assert_int_eq(audit_count("action = 'session.create' AND detail->>'reason' = 'bad_totp'"), 2);
    ck_assert_int_eq(audit_count("action = 'session.create' AND outcome = 'ok' AND target_id = 'dr.wu'"), 1);
}
END_TEST

/* A manager is limited to their wards exactly like a token limited to departments: the API shows them
 * only people of those wards and their events; anyone else is answered as if there were no such person. */
START_TEST(manager_sees_only_its_wards)
{
    ck_assert_msg(ready, "daemon or database did not start");
    char out[512], pw[64], secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX];
    const char *create[] = {"user",         "create", "--username",   "ward.head", "--role", "manager",
                            "--department", "Ward 3", "--department", "Ward 4",    NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, create), 0);
    *strchrnul(out, '\n') = '\0';
    ck_assert_uint_lt(strlen(out), sizeof pw);
    memcpy(pw, out, strlen(out) + 1);
    ck_assert_int_eq(sign_in("ward.head", pw, NULL, secret, csrf), 201);
    struct req s = {.cookie = secret}, admin = {.token = D.admin_token};
    char ids[3][40];
    const char *people[] = {"{\"employee_no\":\"W3\",\"name\":\"Three\",\"department\":\"Ward 3\"}",
                            "{\"employee_no\":\"W4\",\"name\":\"Four\",\"department\":\"Ward 4\"}",
                            "{\"employee_no\":\"W5\",\"name\":\"Five\",\"department\":\"Ward 5\"}"};
    for (int i = 0; i < 3; i++) {
        struct ts_resp r;
        ck_assert_int_eq(call("POST", "/api/v1/people", &admin, people[i], &r), 201);
        json_t *j = ts_json_body(r.body, r.len);
        snprintf(ids[i], sizeof ids[i], "%s", ts_jstr(j, "id"));
        json_decref(j);
        ts_resp_free(&r);
    }
    struct ts_resp r;
    ck_assert_int_eq(call("GET", "/api/v1/session", &s, NULL, &r), 200);
    json_t *j = ts_json_body(r.body, r.len);
    json_t *wards = json_object_get(json_object_get(j, "user"), "departments");
    ck_assert_uint_eq(json_array_size(wards), 2);
    ck_assert_str_eq(json_string_value(json_array_get(wards, 0)), "Ward 3");
    json_decref(j);
    ts_resp_free(&r);
    /* the people list: its two wards, with identities, and nobody else */
    ck_assert_int_eq(call("GET", "/api/v1/people", &s, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, ids[0]));
    ck_assert_ptr_nonnull(strstr(r.body, "Four"));
    ck_assert_ptr_null(strstr(r.body, ids[2]));
    ck_assert_ptr_null(strstr(r.body, "Ward 5"));
    ts_resp_free(&r);
    ck_assert_int_eq(status_of("GET", "/api/v1/events", &s, NULL), 200);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/people/%s", ids[1]);
    ck_assert_int_eq(status_of("GET", path, &s, NULL), 200);
    snprintf(path, sizeof path, "/api/v1/people/%s", ids[2]);
    expect_problem("GET", path, &s, NULL, 404, "not_found", NULL);
    /* installation administration stays closed to a manager */
    expect_problem("GET", "/api/v1/tokens", &s, NULL, 403, "forbidden", NULL);
    expect_problem("GET", "/api/v1/audit", &s, NULL, 403, "forbidden", NULL);
    /* a manager needs a ward */
    const char *args[] = {"user", "create", "--username", "m2", "--role", "manager", NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, args), 2);
}
END_TEST

/* idle 3 s, absolute 7 s (setup_short) */
START_TEST(session_idle_and_absolute_timeouts)
{
    char pw[64], secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX], secret2[TOKEN_STR_MAX];
    make_user("clerk", "hr", NULL, false, pw, sizeof pw, NULL, 0);
    ck_assert_int_eq(sign_in("clerk", pw, NULL, secret, csrf), 201);
    ck_assert_int_eq(sign_in("clerk", pw, NULL, secret2, csrf), 201);
    struct req s = {.cookie = secret}, s2 = {.cookie = secret2};
    /* unused for longer than the idle timeout: ended */
    ts_sleep_ms(4500);
    expect_problem("GET", "/api/v1/whoami", &s2, NULL, 401, "unauthorized", NULL);
    /* used every second: still ends at the absolute timeout */
    ck_assert_int_eq(sign_in("clerk", pw, NULL, secret, csrf), 201);
    double t0 = ts_now_s(); /* the session began before this */
    while (ts_now_s() - t0 < 4.0) {
        ck_assert_int_eq(status_of("GET", "/api/v1/whoami", &s, NULL), 200);
        ts_sleep_ms(1000);
    }
    /* 3.5 s past its idle timeout... but used every second: past 7 s it ends all the same */
    while (ts_now_s() - t0 < 8.5) {
        (void)status_of("GET", "/api/v1/whoami", &s, NULL);
        ts_sleep_ms(1000);
    }
    expect_problem("GET", "/api/v1/whoami", &s, NULL, 401, "unauthorized", NULL);
}
END_TEST

/* The page and its assets: security headers, gzip when accepted, hashed names cached for a year,
 * revalidation, no inline script, and 404 for an unknown asset. */
START_TEST(console_page_and_assets)
{
    ck_assert_msg(ready, "daemon or database did not start");
    struct ts_resp r;
    struct req plain = {.extra = "Accept-Encoding: identity"};
    ck_assert_int_eq(call("GET", "/", &plain, NULL, &r), 200);
    char v[512], etag[128];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Content-Type", v, sizeof v));
    ck_assert_str_eq(v, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(ts_resp_header(&r, "X-Frame-Options", v, sizeof v));
    ck_assert_str_eq(v, "DENY");
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Content-Security-Policy", v, sizeof v));
    ck_assert_msg(strstr(v, "script-src 'self';") && strstr(v, "default-src 'none'") &&
                      strstr(v, "frame-ancestors 'none'") && !strstr(v, "unsafe"),
                  "CSP: %s", v);
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Cache-Control", v, sizeof v));
    ck_assert_str_eq(v, "no-cache");
    ck_assert_ptr_null(ts_resp_header(&r, "Content-Encoding", v, sizeof v));
    ck_assert_ptr_nonnull(ts_resp_header(&r, "ETag", etag, sizeof etag));
    /* no inline script: every script element has a src under /assets/ */
    ck_assert_ptr_null(strstr(r.body, "<script>"));
    ck_assert_ptr_null(strstr(r.body, "style="));
    const char *js = strstr(r.body, "<script src=\"/assets/app.");
    ck_assert_ptr_nonnull(js);
    char asset[128];
    snprintf(asset, sizeof asset, "%.*s", (int)strcspn(js + 13, "\""), js + 13);
    ts_resp_free(&r);
    /* revalidation of the page */
    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    struct req cond = {.extra = inm};
    ck_assert_int_eq(status_of("GET", "/", &cond, NULL), 304);
    /* the asset, gzip'd, cached for a year */
    struct req gz = {.extra = "Accept-Encoding: gzip, deflate"};
    ck_assert_int_eq(call("GET", asset, &gz, NULL, &r), 200);
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Content-Encoding", v, sizeof v));
    ck_assert_str_eq(v, "gzip");
    ck_assert_uint_ge(r.len, 2);
    ck_assert_int_eq((unsigned char)r.body[0], 0x1f);
    ck_assert_int_eq((unsigned char)r.body[1], 0x8b);
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Cache-Control", v, sizeof v));
    ck_assert_str_eq(v, "public, max-age=31536000, immutable");
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Content-Type", v, sizeof v));
    ck_assert_str_eq(v, "text/javascript; charset=utf-8");
    ts_resp_free(&r);
    struct req no_gz = {.extra = "Accept-Encoding: gzip;q=0"};
    ck_assert_int_eq(call("GET", asset, &no_gz, NULL, &r), 200);
    ck_assert_ptr_null(ts_resp_header(&r, "Content-Encoding", v, sizeof v));
    ck_assert_ptr_nonnull(strstr(r.body, "use strict"));
    ts_resp_free(&r);
    expect_problem("GET", "/assets/app.000000000000.js", NULL, NULL, 404, "not_found", NULL);
    expect_problem("POST", "/", NULL, "{}", 405, "method_not_allowed", NULL);
}
END_TEST

START_TEST(accounts_api)
{
    ck_assert_msg(ready, "daemon or database did not start");
    struct req a = {.token = D.admin_token};
    /* every bad form names its field */
    expect_problem("POST", "/api/v1/users", &a, "{\"display_name\":\"X\",\"role\":\"hr\"}", 422, "invalid_field",
                   "username");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\"Bad Name\",\"display_name\":\"X\",\"role\":\"hr\"}",
                   422, "invalid_field", "username");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\".dot\",\"display_name\":\"X\",\"role\":\"hr\"}", 422,
                   "invalid_field", "username");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\"ok.name\",\"role\":\"hr\"}", 422, "invalid_field",
                   "display_name");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\"ok.name\",\"display_name\":\"\",\"role\":\"hr\"}", 422,
                   "invalid_field", "display_name");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"root\"}",
                   422, "invalid_field", "role");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":\"ok.name\",\"display_name\":\"X\"}", 422,
                   "invalid_field", "role");
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"manager\"}", 422, "invalid_field",
                   "departments");
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"hr\",\"departments\":[\"\"]}", 422,
                   "invalid_field", "departments");
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"manager\",\"departments\":[]}", 422,
                   "invalid_field", "departments");
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"hr\",\"departments\":\"Ward 3\"}", 422,
                   "invalid_field", "departments");
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ok.name\",\"display_name\":\"X\",\"role\":\"hr\",\"password\":\"mine\"}", 422,
                   "invalid_field", "password");
    expect_problem("POST", "/api/v1/users", &a, "{\"username\":", 400, "malformed_json", NULL);
    struct req form = {.token = D.admin_token, .content_type = "Content-Type: application/x-www-form-urlencoded"};
    expect_problem("POST", "/api/v1/users", &form, "username=x", 415, "unsupported_media_type", NULL);
    ck_assert_int_eq(ts_q_int(db, "SELECT count(*) FROM console_users"), 0);

    /* created with a one-time password that signs in */
    struct ts_resp r;
    ck_assert_int_eq(call("POST", "/api/v1/users", &a,
                          "{\"username\":\"ward.clerk\",\"display_name\":\"Ward Clerk\",\"role\":\"manager\","
                          "\"departments\":[\"Ward 3\",\"Ward 4\"]}",
                          &r),
                     201);
    char hdr[256];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Cache-Control", hdr, sizeof hdr));
    ck_assert_str_eq(hdr, "no-store");
    json_t *j = ts_json_body(r.body, r.len);
    char id[ATT_UUID_STR], pw[64];
    snprintf(id, sizeof id, "%s", ts_jstr(j, "id"));
    snprintf(pw, sizeof pw, "%s", ts_jstr(j, "password"));
    ck_assert_uint_eq(strlen(pw), 22);
    ck_assert_str_eq(ts_jstr(j, "role"), "manager");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "departments")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "departments"), 1)), "Ward 4");
    ck_assert(json_is_false(json_object_get(j, "disabled")));
    json_decref(j);
    char loc[128], want[128];
    snprintf(want, sizeof want, "/api/v1/users/%s", id);
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Location", loc, sizeof loc));
    ck_assert_str_eq(loc, want);
    ts_resp_free(&r);
    expect_problem("POST", "/api/v1/users", &a,
                   "{\"username\":\"ward.clerk\",\"display_name\":\"Again\",\"role\":\"hr\"}", 409, "conflict",
                   "username");
    char secret[TOKEN_STR_MAX], csrf[CONSOLE_CSRF_MAX];
    ck_assert_int_eq(sign_in("ward.clerk", pw, NULL, secret, csrf), 201);

    /* listed without secrets; not for a manager's session */
    ck_assert_int_eq(call("GET", "/api/v1/users", &a, NULL, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "password"));
    j = ts_json_body(r.body, r.len);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(items, 0), "username"), "ward.clerk");
    ck_assert_ptr_nonnull(ts_jstr(json_array_get(items, 0), "created_at"));
    json_decref(j);
    ts_resp_free(&r);
    struct req m = {.cookie = secret};
    expect_problem("GET", "/api/v1/users", &m, NULL, 403, "forbidden", NULL);

    /* disabled: its session ends, it cannot sign in, and a second disable is a conflict */
    expect_problem("DELETE", "/api/v1/users/not-a-uuid", &a, NULL, 404, "not_found", NULL);
    expect_problem("DELETE", "/api/v1/users/6f1c1e0e-8d5a-4a53-9f55-2f0f3f0b7a11", &a, NULL, 404, "not_found", NULL);
    ck_assert_int_eq(status_of("DELETE", want, &a, NULL), 204);
    expect_problem("GET", "/api/v1/session", &m, NULL, 401, "unauthorized", NULL);
    ck_assert_int_eq(sign_in("ward.clerk", pw, NULL, secret, csrf), 401);
    expect_problem("DELETE", want, &a, NULL, 409, "conflict", NULL);
    ck_assert_int_eq(ts_q_int(db,
                              "SELECT count(*) FROM console_sessions WHERE ended_at IS NULL AND user_id = "
                              "(SELECT id FROM console_users WHERE username = 'ward.clerk')"),
                     0);

    /* an administrator cannot disable their own account */
    char apw[64], asecret[TOKEN_STR_MAX], acsrf[CONSOLE_CSRF_MAX];
    make_user("it.admin", "admin", NULL, false, apw, sizeof apw, NULL, 0);
    ck_assert_int_eq(sign_in("it.admin", apw, NULL, asecret, acsrf), 201);
    char self[ATT_UUID_STR + 20];
    ts_q_text(db, "SELECT '/api/v1/users/' || id FROM console_users WHERE username = 'it.admin'", self, sizeof self);
    struct req s = {.cookie = asecret, .origin = origin, .csrf = acsrf};
    expect_problem("DELETE", self, &s, NULL, 409, "conflict", NULL);
    struct req no_csrf = {.cookie = asecret, .origin = origin};
    expect_problem("POST", "/api/v1/users", &no_csrf, "{\"username\":\"x1\",\"display_name\":\"X\",\"role\":\"hr\"}",
                   403, "forbidden", NULL);
    ck_assert_int_eq(
        status_of("POST", "/api/v1/users", &s, "{\"username\":\"x1\",\"display_name\":\"X\",\"role\":\"hr\"}"), 201);

    /* audited, the password never */
    ck_assert_int_eq(audit_count("action = 'user.create' AND outcome = 'ok' AND target_type = 'user'"), 3);
    ck_assert_int_eq(audit_count("action = 'user.create' AND actor = 'user:it.admin' AND outcome = 'ok'"), 1);
    ck_assert_int_eq(audit_count("action = 'user.create' AND outcome = 'conflict'"), 1);
    ck_assert_int_eq(audit_count("action = 'user.disable' AND outcome = 'ok'"), 1);
    ck_assert_int_eq(audit_count("action = 'user.disable' AND outcome = 'conflict'"), 2);
    ck_assert_int_eq(audit_count("action = 'user.list' AND outcome = 'ok'"), 1);
    char q[200];
    snprintf(q, sizeof q, "detail::text LIKE '%%%s%%'", pw);
    ck_assert_int_eq(audit_count(q), 0);
}
END_TEST

Suite *console_session_suite(void)
{
    Suite *s = suite_create("console_session");
    TCase *t = ts_tcase(s, "session", 300, NULL, NULL, signin_cookie_session_and_signout, signin_refusals_and_lockout,
                        totp_second_factor, manager_sees_only_its_wards, console_page_and_assets, accounts_api, NULL);
    tcase_add_checked_fixture(t, setup, teardown);
    TCase *t2 = ts_tcase(s, "timeouts", 120, NULL, NULL, session_idle_and_absolute_timeouts, NULL);
    tcase_add_checked_fixture(t2, setup_short, teardown);
    return s;
}
