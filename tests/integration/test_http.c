/* HTTP layer integration tests: the real attendd on a throwaway PostgreSQL, spoken to with libcurl.
 * Probes, auth (401/403), body limits (413 by Content-Length and chunked), problem bodies (404/405,
 * 400/415/422), token routes with their audit rows, and graceful shutdown with a request in flight. */
#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "support_api.h"
#include "src/http/http_internal.h"

/* ---- a libcurl client that also keeps response headers and can stream a chunked body ---------- */

struct slow_body { /* a request body handed out piece by piece */
    const char *data;
    size_t len, off;
    size_t piece;        /* bytes per read callback */
    size_t repeat;       /* 0: data holds len bytes; else data is a pattern this long */
    useconds_t pause_us; /* sleep before each piece after the first */
    atomic_int pieces_sent;
    atomic_bool abort; /* set by the test: the callback aborts the transfer */
};

struct resp {
    long status;
    char body[16384];
    size_t len;
    char headers[4096];
    size_t hlen;
    CURLcode curl;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t add = sz * n, take = add < sizeof r->body - 1 - r->len ? add : sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t add = sz * n;
    if (add >= 9 && strncmp(p, "HTTP/", 5) == 0) r->hlen = 0; /* 100 Continue, then the final status */
    size_t take = add < sizeof r->headers - 1 - r->hlen ? add : sizeof r->headers - 1 - r->hlen;
    memcpy(r->headers + r->hlen, p, take);
    r->hlen += take;
    r->headers[r->hlen] = '\0';
    return add;
}

static size_t on_read(char *buf, size_t sz, size_t n, void *ud)
{
    struct slow_body *b = ud;
    if (atomic_load(&b->abort)) return CURL_READFUNC_ABORT;
    if (b->off >= b->len) return 0;
    if (atomic_load(&b->pieces_sent) > 0 && b->pause_us) usleep(b->pause_us);
    if (atomic_load(&b->abort)) return CURL_READFUNC_ABORT;
    size_t take = b->len - b->off;
    if (take > b->piece) take = b->piece;
    if (take > sz * n) take = sz * n;
    if (b->repeat) { /* data is a pattern of `repeat` bytes, sent over and over */
        for (size_t i = 0; i < take; i++) buf[i] = b->data[(b->off + i) % b->repeat];
    } else {
        memcpy(buf, b->data + b->off, take);
    }
    b->off += take;
    atomic_fetch_add(&b->pieces_sent, 1);
    return take;
}

/* One request. body: fixed bytes (Content-Length) unless slow is given (chunked, streamed). */
static int req_full(const char *method, const char *url, const char *token, const char *ctype, const void *body,
                    size_t len, struct slow_body *slow, struct resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c) return -1;
    struct curl_slist *h = NULL;
    char auth[200], ct[160];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: %s", token);
        h = curl_slist_append(h, auth);
    }
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (slow) {
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, slow);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        h = curl_slist_append(h, "Expect:");
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 90L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    out->curl = curl_easy_perform(c);
    if (out->curl == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return out->curl == CURLE_OK ? 0 : -1;
}

/* GET on a handle kept between calls, so libcurl reuses its connection. */
static void keep_get(CURL *c, const char *u, struct resp *out)
{
    memset(out, 0, sizeof *out);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    out->curl = curl_easy_perform(c);
    if (out->curl == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
}

/* Value of response header name (case-insensitive), trimmed, into buf; NULL if absent. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    for (const char *l = r->headers; *l;) {
        const char *e = strchr(l, '\n');
        size_t ll = e ? (size_t)(e - l) : strlen(l);
        if (ll > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ') v++;
            size_t vl = ll - (size_t)(v - l);
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' ')) vl--;
            snprintf(buf, len, "%.*s", (int)vl, v);
            return buf;
        }
        if (!e) break;
        l = e + 1;
    }
    return NULL;
}

/* ---- fixture: one cluster and one daemon for the "api" case ----------------------------------- */

static char conninfo[600];
static struct ts_daemon D;
static char admin_id[40], hr_id[40];

#define BODY_LIMIT 4096

#define url ts_url

static const char *bearer(const char *tok)
{
    static __thread char buf[4][160];
    static __thread int i;
    char *b = buf[i++ & 3];
    snprintf(b, 160, "Bearer %s", tok);
    return b;
}

static json_t *parse(const struct resp *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    ck_assert_msg(j != NULL, "response is not JSON (%s): %s", e.text, r->body);
    return j;
}

/* Check a problem body: content type, every RFC 9457 member, the stable code, optional field. */
static void expect_problem(const struct resp *r, long status, const char *code, const char *field)
{
    char ct[128];
    ck_assert_msg(r->status == status, "status %ld, expected %ld: %s", r->status, status, r->body);
    ck_assert_ptr_nonnull(header(r, "Content-Type", ct, sizeof ct));
    ck_assert_str_eq(ct, "application/problem+json");
    ts_expect_problem(parse(r), r->status, status, code, field);
}

static void whoami_id(const char *token, char *id, size_t len)
{
    struct resp r;
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = parse(&r);
    snprintf(id, len, "%s", ts_jstr(j, "id"));
    json_decref(j);
}

static void api_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, "max_body_bytes = 4096\nhttp_threads = 3\n"), 0);
    whoami_id(D.admin_token, admin_id, sizeof admin_id);
    whoami_id(D.hr_token, hr_id, sizeof hr_id);
}

static void api_teardown(void)
{
    if (D.pid > 0) ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    ts_db_drop(conninfo);
}

/* ---- probes ------------------------------------------------------------------------------------ */

START_TEST(healthz_and_readyz)
{
    struct resp r;
    char v[128];
    ck_assert_int_eq(req_full("GET", url(&D, "/healthz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Type", v, sizeof v), "application/json");
    json_t *j = parse(&r);
    ck_assert_str_eq(ts_jstr(j, "status"), "ok");
    json_decref(j);

    ck_assert_int_eq(req_full("HEAD", url(&D, "/healthz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.len, 0);

    /* the fixture has a migrated database and the verified models */
    ck_assert_int_eq(req_full("GET", url(&D, "/readyz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_msg(r.status == 200, "readyz: %ld %s", r.status, r.body);
    j = parse(&r);
    ck_assert_str_eq(ts_jstr(j, "status"), "ready");
    json_decref(j);
}
END_TEST

/* A metric's value from GET /metrics ("\nNAME VALUE\n"); the test fails if it is absent. */
static double metric_value(const char *name)
{
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url(&D, "/metrics"), D.hr_token, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(r.body, key);
    ck_assert_msg(p != NULL, "no %s in /metrics", name);
    double v = strtod(p + strlen(key), NULL);
    ts_resp_free(&r);
    return v;
}

/* /readyz needs no token, so its database check is reused: any number of calls within a second make
 * at most one database round trip (attendd_readyz_db_checks_total counts them). */
START_TEST(readyz_database_check_cached)
{
    struct ts_resp r;
    ts_sleep_ms(1100); /* the last check has expired: the next call makes one */
    double before = metric_value("attendd_readyz_db_checks_total");
    ck_assert_int_eq(ts_http("GET", url(&D, "/readyz"), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    ck_assert_msg(metric_value("attendd_readyz_db_checks_total") == before + 1, "the counter did not count the check");

    ts_sleep_ms(1100);
    before = metric_value("attendd_readyz_db_checks_total");
    double t0 = ts_now_s();
    int calls = 0;
    while (ts_now_s() - t0 < 0.9 && calls < 200) {
        ck_assert_int_eq(ts_http("GET", url(&D, "/readyz"), NULL, NULL, 0, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ts_resp_free(&r);
        calls++;
    }
    double spent = ts_now_s() - t0;
    double checks = metric_value("attendd_readyz_db_checks_total") - before;
    ck_assert_msg(calls >= 10, "only %d /readyz calls in %.2f s", calls, spent);
    if (spent < 1.0) /* a window shorter than the reuse period holds one check at most */
        ck_assert_msg(checks <= 1, "%d unauthenticated /readyz calls in %.2f s made %.0f database checks", calls, spent,
                      checks);
    ck_assert_msg(checks >= 1 && checks <= 1 + spent, "%.0f database checks for %d calls in %.2f s", checks, calls,
                  spent);
}
END_TEST

/* ---- authentication and roles -------------------------------------------------------------------- */

static void expect_401(const char *auth_header)
{
    struct resp r;
    char v[128];
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), auth_header, NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 401, "unauthorized", NULL);
    ck_assert_ptr_nonnull(header(&r, "WWW-Authenticate", v, sizeof v));
    ck_assert_msg(strncmp(v, "Bearer", 6) == 0, "WWW-Authenticate: %s", v);
}

START_TEST(auth_401_paths)
{
    expect_401(NULL);                 /* no Authorization header */
    expect_401("Basic dXNlcjpwYXNz"); /* another scheme */
    expect_401("Bearer");             /* scheme without token */
    expect_401("Bearer not-a-token"); /* malformed */
    expect_401("Bearer att_short");   /* right prefix, wrong length */
    char tok[80];
    snprintf(tok, sizeof tok, "%s", D.admin_token);
    tok[10] = tok[10] == 'A' ? 'B' : 'A'; /* well-formed, unknown */
    expect_401(bearer(tok));
    expect_401("Bearer att_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"); /* bad alphabet */
}
END_TEST

START_TEST(roles_403_and_200)
{
    struct resp r;
    /* hr may read whoami but not manage tokens */
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(D.hr_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = parse(&r);
    ck_assert_str_eq(ts_jstr(j, "role"), "hr");
    ck_assert_str_eq(ts_jstr(j, "name"), "test-hr");
    json_decref(j);

    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens"), bearer(D.hr_token), NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 403, "forbidden", NULL);
    const char *b = "{\"name\":\"x\",\"role\":\"admin\"}";
    ck_assert_int_eq(
        req_full("POST", url(&D, "/api/v1/tokens"), bearer(D.hr_token), "application/json", b, strlen(b), NULL, &r), 0);
    expect_problem(&r, 403, "forbidden", NULL);
    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens/00000000-0000-0000-0000-000000000000"),
                              bearer(D.hr_token), NULL, NULL, 0, NULL, &r),
                     0);
    expect_problem(&r, 403, "forbidden", NULL);

    /* admin ⊇ hr */
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char v[64];
    ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v), "no-store");
    /* listings never carry secrets or hashes */
    ck_assert_ptr_null(strstr(r.body, "att_"));
    ck_assert_ptr_null(strstr(r.body, "hash"));
    j = parse(&r);
    json_t *list = json_object_get(j, "tokens");
    ck_assert(json_array_size(list) >= 2);
    size_t i;
    json_t *t;
    int seen = 0;
    json_array_foreach(list, i, t)
    {
        if (!strcmp(ts_jstr(t, "id"), admin_id)) {
            seen++;
            ck_assert_str_eq(ts_jstr(t, "role"), "admin");
            ck_assert(json_is_false(json_object_get(t, "revoked")));
            ck_assert(strlen(ts_jstr(t, "created_at")) == 20);
        }
    }
    ck_assert_int_eq(seen, 1);
    json_decref(j);
}
END_TEST

/* Create a token through the API; returns its id and secret. */
static void create_token(const char *name, const char *role, char *id, size_t idlen, char *tok, size_t toklen)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"%s\"}", name, role);
    struct resp r;
    ck_assert_int_eq(req_full("POST", url(&D, "/api/v1/tokens"), bearer(D.admin_token), "application/json", body,
                              strlen(body), NULL, &r),
                     0);
    ck_assert_msg(r.status == 201, "create: %ld %s", r.status, r.body);
    char v[128];
    ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v), "no-store");
    json_t *j = parse(&r);
    ck_assert_str_eq(ts_jstr(j, "name"), name);
    ck_assert_str_eq(ts_jstr(j, "role"), role);
    ck_assert_int_eq(strncmp(ts_jstr(j, "token"), "att_", 4), 0);
    ck_assert(json_is_false(json_object_get(j, "pseudonymous"))); /* shown, off by default */
    ck_assert_int_eq(json_object_size(j), 5);
    snprintf(id, idlen, "%s", ts_jstr(j, "id"));
    snprintf(tok, toklen, "%s", ts_jstr(j, "token"));
    json_decref(j);
}

START_TEST(token_create_use_revoke_audit)
{
    char id[40], tok[80], sql[512], out[256];
    create_token("kiosk ward 3", "hr", id, sizeof id, tok, sizeof tok);

    struct resp r;
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(tok), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = parse(&r);
    ck_assert_str_eq(ts_jstr(j, "id"), id);
    ck_assert_str_eq(ts_jstr(j, "role"), "hr");
    json_decref(j);

    /* the secret is nowhere in the database, only its keyed hash */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE id = '%s' AND octet_length(hash) = 32", id);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, sizeof out), 0);
    ck_assert_str_eq(out, "1");

    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens/"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404); /* trailing slash is not the collection */

    char path[128];
    snprintf(path, sizeof path, "/api/v1/tokens/%s", id);
    ck_assert_int_eq(req_full("DELETE", url(&D, path), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_msg(r.status == 204, "revoke: %ld %s", r.status, r.body);
    ck_assert_int_eq(r.len, 0);
    /* revoked through the API: refused at once (no waiting for the auth cache) */
    expect_401(bearer(tok));
    /* a second revoke, an unknown id and a non-uuid are all 404 */
    ck_assert_int_eq(req_full("DELETE", url(&D, path), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 404, "not_found", NULL);
    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens/8c9b1d1e-0000-4000-8000-000000000000"),
                              bearer(D.admin_token), NULL, NULL, 0, NULL, &r),
                     0);
    expect_problem(&r, 404, "not_found", NULL);
    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens/nope"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r),
                     0);
    expect_problem(&r, 404, "not_found", NULL);

    /* audit rows name the acting token (id and name) */
    snprintf(
        sql, sizeof sql,
        "SELECT count(*) FROM audit_log WHERE token_id = '%s' AND actor = 'test-admin' AND target_type = 'token' "
        "AND target_id = '%s' AND ((action = 'token.create' AND detail->>'role' = 'hr') OR action = 'token.revoke') "
        "AND outcome = 'ok'",
        admin_id, id);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, sizeof out), 0);
    ck_assert_str_eq(out, "2");
    snprintf(
        sql, sizeof sql,
        "SELECT count(*) FROM audit_log WHERE token_id = '%s' AND action = 'token.revoke' AND outcome = 'not_found'",
        admin_id);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, sizeof out), 0);
    ck_assert_int_ge(atoi(out), 3);
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE token_id = '%s' AND action = 'token.list'",
             admin_id);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, sizeof out), 0);
    ck_assert_int_ge(atoi(out), 1);
    /* the secret never reaches the audit log either */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%%%s%%'", tok + 4);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, sizeof out), 0);
    ck_assert_str_eq(out, "0");
}
END_TEST

START_TEST(admin_token_can_create_admin)
{
    char id[40], tok[80];
    create_token("second admin", "admin", id, sizeof id, tok, sizeof tok);
    struct resp r;
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens"), bearer(tok), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

/* ---- routing problems --------------------------------------------------------------------------- */

START_TEST(not_found_and_method_not_allowed)
{
    struct resp r;
    char v[128];
    ck_assert_int_eq(req_full("GET", url(&D, "/nope"), NULL, NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 404, "not_found", NULL);
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens/a/b"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 404, "not_found", NULL);
    /* routing comes before authentication: 404 without a token too */
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/nothing"), NULL, NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 404, "not_found", NULL);

    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens"), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 405, "method_not_allowed", NULL);
    ck_assert_str_eq(header(&r, "Allow", v, sizeof v), "GET, HEAD, POST");
    ck_assert_int_eq(req_full("POST", url(&D, "/healthz"), NULL, "application/json", "{}", 2, NULL, &r), 0);
    expect_problem(&r, 405, "method_not_allowed", NULL);
    ck_assert_str_eq(header(&r, "Allow", v, sizeof v), "GET, HEAD");
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/tokens/8c9b1d1e-0000-4000-8000-000000000000"),
                              bearer(D.admin_token), NULL, NULL, 0, NULL, &r),
                     0);
    expect_problem(&r, 405, "method_not_allowed", NULL);
    ck_assert_str_eq(header(&r, "Allow", v, sizeof v), "DELETE");
}
END_TEST

/* ---- request bodies ------------------------------------------------------------------------------ */

static void post_tokens(const char *ctype, const char *body, struct resp *r)
{
    ck_assert_int_eq(
        req_full("POST", url(&D, "/api/v1/tokens"), bearer(D.admin_token), ctype, body, strlen(body), NULL, r), 0);
}

START_TEST(json_body_validation)
{
    struct resp r;
    post_tokens("application/json", "{\"name\":\"a\",", &r);
    expect_problem(&r, 400, "malformed_json", NULL);
    post_tokens("application/json", "", &r);
    expect_problem(&r, 400, "malformed_json", NULL);
    post_tokens("application/json", "{\"name\":\"a\",\"name\":\"b\",\"role\":\"hr\"}", &r);
    expect_problem(&r, 400, "malformed_json", NULL); /* duplicate keys */
    post_tokens("application/json", "[1,2]", &r);
    expect_problem(&r, 400, "bad_request", NULL);
    char deep[200] = "{\"name\":";
    for (int i = 0; i < 20; i++) strcat(deep, "[");
    for (int i = 0; i < 20; i++) strcat(deep, "]");
    strcat(deep, ",\"role\":\"hr\"}");
    post_tokens("application/json", deep, &r);
    expect_problem(&r, 400, "malformed_json", NULL);

    post_tokens("text/plain", "{\"name\":\"a\",\"role\":\"hr\"}", &r);
    expect_problem(&r, 415, "unsupported_media_type", NULL);
    post_tokens("application/json; charset=utf-8", "{\"name\":\"a\",\"role\":\"hr\",\"extra\":1}", &r);
    expect_problem(&r, 422, "invalid_field", "extra");
    post_tokens("application/json", "{\"role\":\"hr\"}", &r);
    expect_problem(&r, 422, "invalid_field", "name");
    post_tokens("application/json", "{\"name\":\"a\"}", &r);
    expect_problem(&r, 422, "invalid_field", "role");
    post_tokens("application/json", "{\"name\":42,\"role\":\"hr\"}", &r);
    expect_problem(&r, 422, "invalid_field", "name");
    post_tokens("application/json", "{\"name\":null,\"role\":\"hr\"}", &r);
    expect_problem(&r, 422, "invalid_field", "name");
    post_tokens("application/json", "{\"name\":\"\",\"role\":\"hr\"}", &r);
    expect_problem(&r, 422, "invalid_field", "name");
    post_tokens("application/json", "{\"name\":\"a\",\"role\":\"root\"}", &r);
    expect_problem(&r, 422, "invalid_field", "role");
    post_tokens("application/json", "{\"name\":\"tab\\there\",\"role\":\"hr\"}", &r);
    expect_problem(&r, 422, "invalid_field", "name"); /* control character: refused by the store */
    char longname[300] = "{\"name\":\"";
    for (int i = 0; i < 128; i++) strcat(longname, "n");
    strcat(longname, "\",\"role\":\"hr\"}");
    post_tokens("application/json", longname, &r);
    expect_problem(&r, 422, "invalid_field", "name");
}
END_TEST

START_TEST(body_limit_content_length)
{
    struct resp r;
    /* exactly the limit is accepted: a valid body padded with JSON whitespace */
    char *body = malloc(BODY_LIMIT + 2);
    const char *core = "{\"name\":\"padded\",\"role\":\"hr\"}";
    memset(body, ' ', BODY_LIMIT);
    memcpy(body, core, strlen(core));
    body[BODY_LIMIT] = '\0';
    post_tokens("application/json", body, &r);
    ck_assert_msg(r.status == 201, "at the limit: %ld %s", r.status, r.body);
    /* one byte more: 413, answered from the headers */
    body[BODY_LIMIT] = ' ';
    body[BODY_LIMIT + 1] = '\0';
    post_tokens("application/json", body, &r);
    expect_problem(&r, 413, "payload_too_large", NULL);
    free(body);

    /* a large declared body is refused before it is sent (Expect: 100-continue) or read */
    size_t big = 8u << 20;
    char *b = malloc(big);
    memset(b, 'x', big);
    CURL *c = curl_easy_init();
    struct resp rr;
    memset(&rr, 0, sizeof rr);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", D.admin_token);
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, url(&D, "/api/v1/tokens"));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)big);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rr);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &rr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rr.status);
    curl_off_t sent = 0;
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(b);
    expect_problem(&rr, 413, "payload_too_large", NULL);
    ck_assert_msg(sent < (curl_off_t)big, "the whole body was sent (%ld bytes)", (long)sent);

    /* a stranger's body is not read either: 401 straight from the headers */
    ck_assert_int_eq(req_full("POST", url(&D, "/api/v1/tokens"), NULL, "application/json", "x", 1, NULL, &r), 0);
    expect_problem(&r, 401, "unauthorized", NULL);

    /* the daemon is still fine */
    ck_assert_int_eq(req_full("GET", url(&D, "/healthz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(body_limit_chunked)
{
    /* a small chunked body is accepted */
    const char *ok = "{\"name\":\"chunked\",\"role\":\"hr\"}";
    struct slow_body sb = {.data = ok, .len = strlen(ok), .piece = 7};
    struct resp r;
    ck_assert_int_eq(
        req_full("POST", url(&D, "/api/v1/tokens"), bearer(D.admin_token), "application/json", NULL, 0, &sb, &r), 0);
    ck_assert_msg(r.status == 201, "chunked small: %ld %s", r.status, r.body);

    /* 256 MiB in 1 KiB chunks (more than any socket buffers hold): the 413 must come as soon as
     * the limit is crossed, so the client stops long before the end */
    static const char pattern[] = "{                                                               ";
    size_t big = (size_t)256 << 20;
    struct slow_body sb2 = {.data = pattern, .repeat = sizeof pattern - 1, .len = big, .piece = 1024};
    req_full("POST", url(&D, "/api/v1/tokens"), bearer(D.admin_token), "application/json", NULL, 0, &sb2, &r);
    ck_assert_msg(r.curl == CURLE_OK, "curl: %s", curl_easy_strerror(r.curl));
    expect_problem(&r, 413, "payload_too_large", NULL);
    ck_assert_msg(sb2.off < big, "the whole chunked body was sent");
    char v[32];
    ck_assert_str_eq(header(&r, "Connection", v, sizeof v), "close");

    ck_assert_int_eq(req_full("GET", url(&D, "/healthz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

/* Revocation names the token by value: an id in upper case revokes it in this process's auth cache
 * too (the next request is refused at once, not after the cache lifetime). */
START_TEST(token_revoke_upper_case_id)
{
    char id[40], tok[80], path[128];
    create_token("kiosk upper", "hr", id, sizeof id, tok, sizeof tok);
    struct resp r;
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(tok), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200); /* now in the auth cache */
    for (char *p = id; *p; p++) *p = (char)toupper((unsigned char)*p);
    snprintf(path, sizeof path, "/api/v1/tokens/%s", id);
    ck_assert_int_eq(req_full("DELETE", url(&D, path), bearer(D.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_msg(r.status == 204, "revoke: %ld %s", r.status, r.body);
    expect_401(bearer(tok));
}
END_TEST

/* GET, HEAD and DELETE take no body: one small enough for max_body_bytes is refused from the
 * headers all the same, and the connection is not kept. */
START_TEST(no_body_on_get_head_delete)
{
    char body[2000];
    memset(body, ' ', sizeof body);
    struct resp r;
    ck_assert_int_eq(
        req_full("GET", url(&D, "/api/v1/whoami"), bearer(D.hr_token), "application/json", body, sizeof body, NULL, &r),
        0);
    expect_problem(&r, 413, "payload_too_large", NULL);
    char v[32];
    ck_assert_str_eq(header(&r, "Connection", v, sizeof v), "close");
    ck_assert_int_eq(req_full("DELETE", url(&D, "/api/v1/tokens/8c9b1d1e-0000-4000-8000-000000000000"),
                              bearer(D.admin_token), "application/json", body, sizeof body, NULL, &r),
                     0);
    expect_problem(&r, 413, "payload_too_large", NULL);
    /* without a body both are what they always were */
    ck_assert_int_eq(req_full("GET", url(&D, "/api/v1/whoami"), bearer(D.hr_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

/* ---- body policy with the default size limit: a 5 MB body on a GET, a trickled upload ---------- */

static struct ts_daemon B;

static char body_ci[600]; /* B's database */

static void body_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(body_ci, sizeof body_ci), 0);
    ck_assert_int_eq(ts_daemon_start(&B, body_ci, "body_deadline_s = 2\ndb_statement_timeout_ms = 500\n"), 0);
}

static void body_teardown(void)
{
    if (B.pid > 0) ck_assert_int_eq(ts_daemon_stop(&B, SIGTERM, 60), 0);
    ts_db_drop(body_ci);
}

START_TEST(get_with_5mb_body_refused_unread)
{
    size_t big = 5u << 20; /* under max_body_bytes (10 MiB): only the route's policy refuses it */
    char *b = malloc(big);
    memset(b, ' ', big);
    CURL *c = curl_easy_init();
    struct resp rr;
    memset(&rr, 0, sizeof rr);
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", B.hr_token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url(&B, "/api/v1/whoami"));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)big);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rr);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &rr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rr.status);
    curl_off_t sent = 0;
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(b);
    expect_problem(&rr, 413, "payload_too_large", NULL);
    ck_assert_msg(sent < (curl_off_t)big, "the whole 5 MB body was sent (%ld bytes)", (long)sent);
}
END_TEST

/* A body trickled a byte at a time (each byte well within the idle timeout) is cut at
 * body_deadline_s (2 s here), not read for as long as the client cares to send. */
START_TEST(trickled_body_cut_at_deadline)
{
    static const char core[] = "{\"name\":\"trickle\",\"role\":\"hr\"}";
    char body[64];
    memset(body, ' ', sizeof body);
    memcpy(body, core, sizeof core - 1);
    struct slow_body sb = {.data = body, .len = sizeof body, .piece = 1, .pause_us = 250000}; /* 16 s in all */
    struct resp r;
    double t0 = ts_now_s();
    req_full("POST", url(&B, "/api/v1/tokens"), bearer(B.admin_token), "application/json", NULL, 0, &sb, &r);
    double took = ts_now_s() - t0;
    ck_assert_msg(r.status != 201, "the trickled body was read to its end and answered %ld", r.status);
    ck_assert_msg(sb.off < sb.len, "the whole trickled body was sent");
    ck_assert_msg(took < 6.0, "the trickle was cut after %.1f s (deadline 2 s)", took);
    /* the daemon is fine, and an ordinary upload still works */
    ck_assert_int_eq(req_full("POST", url(&B, "/api/v1/tokens"), bearer(B.admin_token), "application/json", core,
                              sizeof core - 1, NULL, &r),
                     0);
    ck_assert_msg(r.status == 201, "ordinary upload: %ld %s", r.status, r.body);
}
END_TEST

static void q_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* A statement of a pooled session that runs longer than db_statement_timeout_ms (500 ms here) is
 * cancelled: a request stuck behind a lock fails in about that time instead of holding its
 * connection until the lock goes. */
START_TEST(statement_timeout_cuts_blocked_query)
{
    PGconn *c = PQconnectdb(body_ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    q_exec(c, "BEGIN");
    q_exec(c, "LOCK TABLE people IN ACCESS EXCLUSIVE MODE");
    struct resp r;
    double t0 = ts_now_s();
    req_full("GET", url(&B, "/api/v1/people"), bearer(B.admin_token), NULL, NULL, 0, NULL, &r);
    double took = ts_now_s() - t0;
    q_exec(c, "ROLLBACK");
    PQfinish(c);
    ck_assert_msg(r.curl == CURLE_OK && r.status >= 500, "blocked list: curl %d status %ld", (int)r.curl, r.status);
    ck_assert_msg(took < 5.0, "the blocked request took %.1f s", took);
    /* the pool is fine afterwards */
    ck_assert_int_eq(req_full("GET", url(&B, "/api/v1/people"), bearer(B.admin_token), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

/* ---- the auth cache and revocations that race a lookup ------------------------------------------ */

/* A lookup that read the database before a revocation must not cache the token after it: the
 * interleaving lookup → revoke → cache insert leaves the token out of the cache. */
START_TEST(auth_cache_lookup_racing_revocation)
{
    http_auth_cache_clear();
    unsigned char hash[TOKEN_HASH_BYTES];
    memset(hash, 0x5a, sizeof hash);
    struct token_info info = {.role = ROLE_HR};
    snprintf(info.id, sizeof info.id, "%s", "8c9b1d1e-aaaa-4bbb-8ccc-0123456789ab");
    att_uuid id;
    ck_assert(att_uuid_parse(info.id, &id));
    struct token_info out;

    uint64_t g = http_auth_generation();             /* the request misses the cache and asks the database */
    http_auth_forget(&id);                           /* meanwhile the token is revoked */
    ck_assert(!http_auth_cache_put(hash, &info, g)); /* the stale answer is not cached */
    ck_assert(!http_auth_cache_get(hash, &out));

    /* an answer read after the revocation is cached as usual */
    ck_assert(http_auth_cache_put(hash, &info, http_auth_generation()));
    ck_assert(http_auth_cache_get(hash, &out));
    ck_assert_str_eq(out.id, info.id);
    /* and revoking it by its id in upper case drops it */
    char upper[40];
    snprintf(upper, sizeof upper, "%s", info.id);
    for (char *p = upper; *p; p++) *p = (char)toupper((unsigned char)*p);
    att_uuid uid;
    ck_assert(att_uuid_parse(upper, &uid));
    http_auth_forget(&uid);
    ck_assert(!http_auth_cache_get(hash, &out));
    http_auth_cache_clear();
}
END_TEST

/* ---- readiness failures ---------------------------------------------------------------------- */

/* readyz answers 503 with reason first and, when given, also_reason (a consequence: without a
 * database the gallery cannot load either), and no other. */
static void expect_not_ready(const struct ts_daemon *d, const char *reason, const char *also_reason,
                             const char *detail_part)
{
    struct resp r;
    ck_assert_int_eq(req_full("GET", url(d, "/readyz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    expect_problem(&r, 503, "not_ready", NULL);
    json_t *j = parse(&r);
    json_t *reasons = json_object_get(j, "reasons");
    ck_assert_int_eq(json_array_size(reasons), also_reason ? 2 : 1);
    ck_assert_str_eq(json_string_value(json_array_get(reasons, 0)), reason);
    if (also_reason) ck_assert_str_eq(json_string_value(json_array_get(reasons, 1)), also_reason);
    ck_assert_msg(strstr(ts_jstr(j, "detail"), detail_part), "detail: %s", ts_jstr(j, "detail"));
    json_decref(j);
}

START_TEST(readyz_database_unreachable)
{
    /* nothing listens on this port: the daemon starts, is alive, and not ready */
    struct ts_daemon d = {.no_tokens = 1};
    char ci[200];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=9 dbname=none user=none connect_timeout=2");
    ck_assert_int_eq(ts_daemon_start(&d, ci, NULL), 0);
    struct resp r;
    ck_assert_int_eq(req_full("GET", url(&d, "/healthz"), NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    expect_not_ready(&d, "database_unreachable", "gallery_not_loaded", "database");
    /* a well-formed token cannot be checked: 503, not 401 */
    ck_assert_int_eq(req_full("GET", url(&d, "/api/v1/whoami"),
                              "Bearer att_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, 0, NULL, &r),
                     0);
    expect_problem(&r, 503, "database_unavailable", NULL);
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
}
END_TEST

START_TEST(readyz_models_missing)
{
    char ci[600], extra[400], dir[] = "/tmp/attendd-nomodels-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(extra, sizeof extra, "models_dir = %s\n", dir);
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    struct ts_daemon d = {.no_tokens = 1};
    /* ATTENDD_MODELS_DIR (set by make) would override the file: point it at the empty dir too */
    char saved[512];
    snprintf(saved, sizeof saved, "%s", ts_env("ATTENDD_MODELS_DIR"));
    setenv("ATTENDD_MODELS_DIR", dir, 1);
    int started = ts_daemon_start(&d, ci, extra);
    setenv("ATTENDD_MODELS_DIR", saved, 1);
    ck_assert_int_eq(started, 0);
    expect_not_ready(&d, "models_not_loaded", NULL, "models not loaded");
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ts_db_drop(ci);
    rmdir(dir);
}
END_TEST

/* ---- graceful shutdown ----------------------------------------------------------------------- */

struct upload {
    const struct ts_daemon *d;
    struct slow_body body;
    struct resp r;
};

static void *upload_thread(void *arg)
{
    struct upload *u = arg;
    req_full("POST", url(u->d, "/api/v1/tokens"), bearer(u->d->admin_token), "application/json", NULL, 0, &u->body,
             &u->r);
    return NULL;
}

/* Wait for pid with a bound; returns the exit status or -1 (then it is killed). */
static int wait_exit(struct ts_daemon *d, int timeout_s, double *took_s)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st;
    for (int i = 0; i < timeout_s * 20; i++) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            *took_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            d->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(50000);
    }
    ts_daemon_stop(d, SIGKILL, 5);
    return -1;
}

START_TEST(shutdown_waits_for_request_in_flight)
{
    char ci[600];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    struct ts_daemon d = {0};
    ck_assert_int_eq(ts_daemon_start(&d, ci, "shutdown_timeout_s = 30\n"), 0);

    /* a body dribbled over ~4 s */
    static const char body[] = "{\"name\":\"in flight\",                   \"role\":\"hr\"}";
    struct upload u = {.d = &d, .body = {.data = body, .len = strlen(body), .piece = 4, .pause_us = 300000}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, upload_thread, &u), 0);
    while (atomic_load(&u.body.pieces_sent) < 2) usleep(10000);

    /* a client with a kept-alive connection, opened before the stop */
    CURL *k = curl_easy_init();
    struct resp kr;
    keep_get(k, url(&d, "/healthz"), &kr);
    ck_assert_int_eq(kr.status, 200);

    const int total_pieces = (int)((u.body.len + u.body.piece - 1) / u.body.piece);
#define UPLOADING() (atomic_load(&u.body.pieces_sent) < total_pieces)
    ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
    /* the listener closes: a new connection is refused while the upload is still going */
    bool refused = false;
    for (int i = 0; i < 100 && !refused && UPLOADING(); i++) {
        struct resp r;
        if (req_full("GET", url(&d, "/healthz"), NULL, NULL, NULL, 0, NULL, &r) != 0) refused = true;
        else usleep(20000);
    }
    ck_assert_msg(refused || !UPLOADING(), "new connections still accepted during the drain");
    /* the kept-alive connection is still served during the drain: not ready, and told to close */
    if (refused && UPLOADING()) {
        keep_get(k, url(&d, "/readyz"), &kr);
        if (kr.curl == CURLE_OK || UPLOADING()) {
            ck_assert_msg(kr.curl == CURLE_OK, "kept-alive connection: %s", curl_easy_strerror(kr.curl));
            expect_problem(&kr, 503, "not_ready", NULL);
            ck_assert_ptr_nonnull(strstr(kr.body, "\"stopping\""));
            char c[32];
            ck_assert_str_eq(header(&kr, "Connection", c, sizeof c), "close");
        }
    }
#undef UPLOADING
    curl_easy_cleanup(k);

    double took = 0;
    int rc = wait_exit(&d, 60, &took);
    pthread_join(th, NULL);
    ck_assert_msg(u.r.curl == CURLE_OK, "in-flight request failed: %s", curl_easy_strerror(u.r.curl));
    ck_assert_msg(u.r.status == 201, "in-flight request: %ld %s", u.r.status, u.r.body);
    json_t *j = parse(&u.r);
    ck_assert_str_eq(ts_jstr(j, "name"), "in flight");
    json_decref(j);
    char v[32];
    ck_assert_str_eq(header(&u.r, "Connection", v, sizeof v), "close");
    ck_assert_int_eq(rc, 0);
    ts_db_drop(ci);
}
END_TEST

START_TEST(shutdown_deadline_cuts_stuck_request)
{
    char ci[600];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    struct ts_daemon d = {0};
    ck_assert_int_eq(ts_daemon_start(&d, ci, "shutdown_timeout_s = 2\n"), 0);

    /* a client that would take ~60 s: the stop must not wait for it beyond the bound */
    static char body[64];
    memset(body, ' ', sizeof body - 1);
    body[0] = '{';
    struct upload u = {.d = &d, .body = {.data = body, .len = sizeof body - 1, .piece = 1, .pause_us = 1000000}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, upload_thread, &u), 0);
    while (atomic_load(&u.body.pieces_sent) < 2) usleep(10000);
    ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
    double took = 0;
    int rc = wait_exit(&d, 60, &took);
    atomic_store(&u.body.abort, true);
    pthread_join(th, NULL);
    ck_assert_int_eq(rc, 0);
    /* 2 s bound plus generous slack for a loaded machine, far below the client's 60 s */
    ck_assert_msg(took < 30.0, "stop took %.1f s", took);
    ck_assert_msg(u.r.status != 201, "the stuck request cannot have completed");
    ts_db_drop(ci);
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    ts_tcase(s, "api", 120, api_setup, api_teardown, healthz_and_readyz, readyz_database_check_cached, auth_401_paths,
             roles_403_and_200, token_create_use_revoke_audit, admin_token_can_create_admin,
             not_found_and_method_not_allowed, json_body_validation, body_limit_content_length, body_limit_chunked,
             token_revoke_upper_case_id, no_body_on_get_head_delete, NULL);
    ts_tcase(s, "body_policy", 120, body_setup, body_teardown, get_with_5mb_body_refused_unread,
             trickled_body_cut_at_deadline, statement_timeout_cuts_blocked_query, NULL);
    ts_tcase(s, "auth_cache", 0, NULL, NULL, auth_cache_lookup_racing_revocation, NULL);
    ts_tcase(s, "readiness", 180, NULL, NULL, readyz_database_unreachable, readyz_models_missing, NULL);
    ts_tcase(s, "shutdown", 240, NULL, NULL, shutdown_waits_for_request_in_flight, shutdown_deadline_cuts_stuck_request,
             NULL);
    return s;
}
