/* Cheap polling through the real daemon: ETag/If-None-Match → 304 without the database (cluster
 * stopped), new ETags after changes and restarts, no audit row for a 304; the SSE feed (live
 * events, Last-Event-ID resume, heartbeats, stream limit, prompt stop with a stream open, the end of
 * a stream whose token is revoked or whose console session ends). */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "attendd/console.h"
#include "attendd/db.h"
#include "attendd/token.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_poll.h"

/* not_modified_without_database stops PostgreSQL: it runs on a private cluster, not the run's */
static struct ts_pg pg;
static int own_cluster;
static struct ts_daemon D;
static char conninfo[600];
static PGconn *db;
static char person[ATT_UUID_STR];
static int ready;
static const char *daemon_conf = "sse_ping_s = 1\nsse_max_streams = 2\nshutdown_timeout_s = 20";

static char *url(const char *pq) { return ts_url(&D, pq); }

static void setup_on(int own)
{
    ready = 0;
    own_cluster = own;
    if (own ? ts_pg_start(&pg) != 0 || ts_pg_new_db(&pg, conninfo, sizeof conninfo) != 0
            : ts_db_new(conninfo, sizeof conninfo) != 0)
        return;
    memset(&D, 0, sizeof D);
    D.keep_dir = 1;
    if (ts_daemon_start(&D, conninfo, daemon_conf) != 0) return;
    char err[512];
    if (db_connect(conninfo, "attendd-test", &db, err, sizeof err) != ATT_OK) return;
    ts_q_text(db, "INSERT INTO people (employee_no, name) VALUES ('N-1', 'Ada') RETURNING id", person, sizeof person);
    ready = 1;
}

static void teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    if (db) PQfinish(db);
    db = NULL;
    if (D.dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", D.dir);
        (void)system(cmd);
    }
    if (own_cluster) ts_pg_stop(&pg);
    else ts_db_drop(conninfo);
}

static void setup(void) { setup_on(0); }
static void setup_own_cluster(void) { setup_on(1); }

/* A manual punch for person at minute m of 2024-05-01; returns its id in id (ATT_UUID_STR bytes). */
static void punch(int m, char *id)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"%s\",\"ts\":\"2024-05-01T08:%02d:00Z\",\"reason\":\"test %d\"}", person,
             m % 2 ? "out" : "in", m % 60, m);
    struct tp_resp r;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/punches"), D.hr_token, body, NULL, &r), 0);
    ck_assert_msg(r.status == 201, "punch: %ld %s", r.status, r.body);
    json_t *j = tp_json(&r);
    if (id) snprintf(id, 37, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    tp_resp_free(&r);
}

static long get(const char *pq, const char *token, const char *inm, struct tp_resp *r)
{
    char h[200];
    if (inm) snprintf(h, sizeof h, "If-None-Match: %s", inm);
    ck_assert_int_eq(tp_http("GET", url(pq), token, NULL, inm ? h : NULL, r), 0);
    return r->status;
}

START_TEST(etag_and_304)
{
    ck_assert_msg(ready, "daemon or database did not start");
    punch(1, NULL);
    struct tp_resp a, b, c;
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, NULL, &a), 200);
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, NULL, &b), 200);
    ck_assert_msg(a.etag[0] == '"', "ETag missing: %s", a.headers);
    ck_assert(a.last_modified[0] != '\0');
    ck_assert_str_eq(a.etag, b.etag);
    ck_assert_str_eq(a.body, b.body);
    tp_resp_free(&b);
    /* another token of the same kind shares it; another query or a pseudonymous view does not */
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.admin_token, NULL, &b), 200);
    ck_assert_str_eq(a.etag, b.etag);
    tp_resp_free(&b);
    ck_assert_int_eq(get("/api/v1/events?limit=11", D.hr_token, NULL, &b), 200);
    ck_assert_str_ne(a.etag, b.etag);
    tp_resp_free(&b);

    /* If-None-Match → 304, no body, same ETag, and no audit row */
    long long audits = ts_q_int(db, "SELECT count(*) FROM audit_log WHERE action = 'event.list'");
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, a.etag, &c), 304);
    ck_assert_int_eq((long)c.len, 0);
    ck_assert_str_eq(c.etag, a.etag);
    tp_resp_free(&c);
    char list[300];
    snprintf(list, sizeof list, "\"nope\", W/%s", a.etag);
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, list, &c), 304);
    tp_resp_free(&c);
    ck_assert_int_eq(ts_q_int(db, "SELECT count(*) FROM audit_log WHERE action = 'event.list'"), audits);

    /* a change: a new ETag and a 200 for the old one; voiding changes it again */
    char id[ATT_UUID_STR];
    punch(2, id);
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, a.etag, &b), 200);
    ck_assert_str_ne(b.etag, a.etag);
    ck_assert_ptr_nonnull(strstr(b.body, id));
    char del[128];
    snprintf(del, sizeof del, "/api/v1/punches/%s", id);
    ck_assert_int_eq(tp_http("DELETE", url(del), D.hr_token, NULL, NULL, &c), 0);
    ck_assert_int_eq(c.status, 204);
    tp_resp_free(&c);
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, b.etag, &c), 200);
    ck_assert_str_ne(c.etag, b.etag);
    tp_resp_free(&c);
    tp_resp_free(&b);

    /* a restart starts the counter again, but never serves an old ETag */
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 30), 0);
    ck_assert_int_eq(ts_daemon_restart(&D), 0);
    ck_assert_int_eq(get("/api/v1/events?limit=10", D.hr_token, a.etag, &b), 200);
    ck_assert_str_ne(b.etag, a.etag);
    tp_resp_free(&b);
    tp_resp_free(&a);
}
END_TEST

START_TEST(not_modified_without_database)
{
    ck_assert_msg(ready, "daemon or database did not start");
    punch(3, NULL);
    /* a fresh token: its first use fills the auth cache, so the next seconds need no lookup */
    struct tp_resp r;
    ck_assert_int_eq(
        tp_http("POST", url("/api/v1/tokens"), D.admin_token, "{\"name\":\"dash\",\"role\":\"hr\"}", NULL, &r), 0);
    ck_assert_int_eq(r.status, 201);
    json_t *t = tp_json(&r);
    tp_resp_free(&r);
    char tok[64];
    snprintf(tok, sizeof tok, "%s", json_string_value(json_object_get(t, "token")));
    json_decref(t);
    struct tp_resp a;
    ck_assert_int_eq(get("/api/v1/events", tok, NULL, &a), 200);

    PQfinish(db);
    db = NULL;
    ts_pg_cluster(&pg, "stop");
    ck_assert_int_eq(get("/api/v1/events", tok, a.etag, &r), 304); /* answered from memory */
    tp_resp_free(&r);
    /* the same answer again to the same token comes from the rendered-page cache (audited once
     * already, like the 304); another answer, or another token's first read, needs the database */
    ck_assert_int_eq(get("/api/v1/events", tok, NULL, &r), 200);
    ck_assert_str_eq(r.etag, a.etag);
    tp_resp_free(&r);
    ck_assert_int_eq(get("/api/v1/events?limit=7", tok, NULL, &r), 503);
    tp_resp_free(&r);
    ck_assert_int_eq(get("/api/v1/events", D.hr_token, NULL, &r), 503); /* first read: audit row needed */
    tp_resp_free(&r);
    tp_resp_free(&a);
    ts_pg_cluster(&pg, "start");
}
END_TEST

/* ---- SSE ------------------------------------------------------------------------------------------- */

struct stream {
    pthread_t th;
    char last_id[32]; /* Last-Event-ID to send, "" for none */
    pthread_mutex_t lock;
    char *buf; /* everything received */
    size_t len;
    atomic_bool abort; /* the test is done with it */
    atomic_bool ended; /* curl returned */
    long status;
    double ended_at;
    char token[64];             /* bearer token of the stream */
    char cookie[TOKEN_STR_MAX]; /* or this console session secret (sent as the session cookie) */
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    struct stream *s = ud;
    if (atomic_load(&s->abort)) return 0;
    pthread_mutex_lock(&s->lock);
    char *nb = realloc(s->buf, s->len + sz * n + 1);
    if (nb) {
        memcpy(nb + s->len, p, sz * n);
        s->buf = nb;
        s->len += sz * n;
        nb[s->len] = '\0';
    }
    pthread_mutex_unlock(&s->lock);
    return nb ? sz * n : 0;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((struct stream *)ud)->abort) ? 1 : 0;
}

static void *stream_main(void *arg)
{
    struct stream *s = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[160], lid[80];
    if (s->cookie[0]) snprintf(auth, sizeof auth, "Cookie: %s=%s", CONSOLE_COOKIE_NAME, s->cookie);
    else snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
    h = curl_slist_append(h, auth);
    if (s->last_id[0]) {
        snprintf(lid, sizeof lid, "Last-Event-ID: %s", s->last_id);
        h = curl_slist_append(h, lid);
    }
    curl_easy_setopt(c, CURLOPT_URL, url("/api/v1/events/stream"));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK && !atomic_load(&s->abort)) fprintf(stderr, "stream: %s\n", curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    s->ended_at = ts_now_s();
    atomic_store(&s->ended, true);
    return NULL;
}

/* A stream as token (bearer) or, when cookie is not NULL, as the console session with that secret. */
static void stream_start(struct stream *s, const char *last_id, const char *token, const char *cookie)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    snprintf(s->token, sizeof s->token, "%s", token ? token : "");
    snprintf(s->cookie, sizeof s->cookie, "%s", cookie ? cookie : "");
    snprintf(s->last_id, sizeof s->last_id, "%s", last_id ? last_id : "");
    ck_assert_int_eq(pthread_create(&s->th, NULL, stream_main, s), 0);
}

static void stream_open_as(struct stream *s, const char *last_id, const char *token)
{
    stream_start(s, last_id, token, NULL);
}

static void stream_open(struct stream *s, const char *last_id) { stream_open_as(s, last_id, D.hr_token); }

static void stream_open_session(struct stream *s, const char *secret) { stream_start(s, NULL, NULL, secret); }

static void stream_close(struct stream *s)
{
    atomic_store(&s->abort, true);
    pthread_join(s->th, NULL);
    free(s->buf);
    pthread_mutex_destroy(&s->lock);
}

/* Wait until the received text contains needle; true if it did within timeout_s. */
static bool stream_wait(struct stream *s, const char *needle, double timeout_s)
{
    double t0 = ts_now_s();
    while (ts_now_s() - t0 < timeout_s) {
        pthread_mutex_lock(&s->lock);
        bool hit = s->buf && strstr(s->buf, needle);
        pthread_mutex_unlock(&s->lock);
        if (hit) return true;
        if (atomic_load(&s->ended)) return false;
        usleep(20000);
    }
    return false;
}

/* The id: line of the event whose data holds event_id. */
static void stream_id_of(struct stream *s, const char *event_id, char *out, size_t len)
{
    pthread_mutex_lock(&s->lock);
    const char *d = strstr(s->buf, event_id);
    ck_assert_ptr_nonnull(d);
    const char *idl = NULL;
    for (const char *p = s->buf; p && p < d; p = strstr(p + 1, "id: ")) idl = p;
    ck_assert_ptr_nonnull(idl);
    snprintf(out, len, "%.*s", (int)strcspn(idl + 4, "\n"), idl + 4);
    pthread_mutex_unlock(&s->lock);
}

START_TEST(sse_feed)
{
    ck_assert_msg(ready, "daemon or database did not start");
    char old[ATT_UUID_STR], p1[ATT_UUID_STR], p2[ATT_UUID_STR], p3[ATT_UUID_STR];
    punch(10, old); /* before the stream: not sent without Last-Event-ID */
    struct stream s;
    stream_open(&s, NULL);
    if (!stream_wait(&s, "retry: ", 10)) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "grep -a -i -v 'healthz' '%s' | tail -n 12 >&2", D.log);
        (void)system(cmd);
    }
    ck_assert_msg(stream_wait(&s, "retry: ", 10), "no stream preamble: status %ld ended %d: %s", s.status,
                  (int)atomic_load(&s.ended), s.buf ? s.buf : "(nothing)");
    punch(11, p1);
    punch(12, p2);
    ck_assert_msg(stream_wait(&s, p1, 10), "first punch not streamed: %s", s.buf);
    ck_assert_msg(stream_wait(&s, p2, 10), "second punch not streamed: %s", s.buf);
    ck_assert_msg(stream_wait(&s, ": ping", 5), "no heartbeat");
    pthread_mutex_lock(&s.lock);
    ck_assert_ptr_null(strstr(s.buf, old));
    ck_assert_ptr_nonnull(strstr(s.buf, "\"source\":\"manual\""));
    pthread_mutex_unlock(&s.lock);
    char id1[32];
    stream_id_of(&s, p1, id1, sizeof id1);
    stream_close(&s);

    /* resume after the first: the second and a newer one, never the first or the old one */
    punch(13, p3);
    stream_open(&s, id1);
    ck_assert_msg(stream_wait(&s, p3, 10), "resume: newest missing: %s", s.buf);
    ck_assert_msg(stream_wait(&s, p2, 1), "resume: second missing");
    pthread_mutex_lock(&s.lock);
    ck_assert_ptr_null(strstr(s.buf, p1));
    ck_assert_ptr_null(strstr(s.buf, old));
    pthread_mutex_unlock(&s.lock);
    stream_close(&s);

    /* a bad Last-Event-ID is a 400 */
    struct tp_resp r;
    ck_assert_int_eq(tp_http("GET", url("/api/v1/events/stream"), D.hr_token, NULL, "Last-Event-ID: x1", &r), 0);
    ck_assert_int_eq(r.status, 400);
    tp_resp_free(&r);
    ck_assert_int_eq(tp_http("GET", url("/api/v1/events/stream"), NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    tp_resp_free(&r);
}
END_TEST

START_TEST(sse_limit_and_prompt_stop)
{
    ck_assert_msg(ready, "daemon or database did not start");
    struct stream a, b;
    stream_open(&a, NULL);
    stream_open(&b, NULL);
    ck_assert(stream_wait(&a, "retry: ", 10) && stream_wait(&b, "retry: ", 10));
    struct tp_resp r; /* sse_max_streams = 2 */
    ck_assert_int_eq(tp_http("GET", url("/api/v1/events/stream"), D.hr_token, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 503);
    tp_resp_free(&r);
    /* ordinary requests still work beside open streams */
    ck_assert_int_eq(get("/api/v1/events", D.hr_token, NULL, &r), 200);
    tp_resp_free(&r);

    /* the daemon stops promptly with streams open (shutdown_timeout_s is 20) */
    double t0 = ts_now_s();
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 30), 0);
    double took = ts_now_s() - t0;
    ck_assert_msg(took < 5, "stop took %.1f s with streams open", took);
    double w0 = ts_now_s();
    while (!(atomic_load(&a.ended) && atomic_load(&b.ended)) && ts_now_s() - w0 < 5) usleep(20000);
    ck_assert(atomic_load(&a.ended) && atomic_load(&b.ended));
    ck_assert_int_eq(a.status, 200);
    stream_close(&a);
    stream_close(&b);
}
END_TEST

/* A new hr token through the API: its secret into token (64 bytes) and its id into id (37 bytes). */
static void new_token(const char *name, char *token, char *id)
{
    char body[160];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"hr\"}", name);
    struct tp_resp r;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/tokens"), D.admin_token, body, NULL, &r), 0);
    ck_assert_msg(r.status == 201, "token: %ld %s", r.status, r.body);
    json_t *j = tp_json(&r);
    snprintf(token, 64, "%s", json_string_value(json_object_get(j, "token")));
    snprintf(id, 37, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    tp_resp_free(&r);
}

static void revoke_token(const char *id)
{
    struct tp_resp r;
    ck_assert_int_eq(tp_http("DELETE", ts_urlf(&D, "/api/v1/tokens/%s", id), D.admin_token, NULL, NULL, &r), 0);
    ck_assert_msg(r.status == 204, "revoke: %ld %s", r.status, r.body);
    tp_resp_free(&r);
}

/* Revoking a token ends its open event stream within 1 s, and nothing committed after the
 * revocation reaches it (heartbeats would otherwise keep it open for ever). */
START_TEST(sse_revoked_token_stream_ends)
{
    ck_assert_msg(ready, "daemon or database did not start");
    char tok[64], id[37], before[37], after[37];
    new_token("wall screen", tok, id);
    struct stream s;
    stream_open_as(&s, NULL, tok);
    ck_assert_msg(stream_wait(&s, "retry: ", 10), "no stream preamble: %ld", s.status);
    punch(30, before);
    ck_assert_msg(stream_wait(&s, before, 10), "the stream does not work before the revocation");
    double t0 = ts_now_s();
    revoke_token(id);
    punch(31, after); /* committed after the revocation: must never arrive */
    while (!atomic_load(&s.ended) && ts_now_s() - t0 < 5) usleep(10000);
    ck_assert_msg(atomic_load(&s.ended), "the revoked token's stream is still open 5 s later");
    ck_assert_msg(s.ended_at - t0 < 1.0, "the revoked token's stream ended %.2f s after the revocation",
                  s.ended_at - t0);
    pthread_mutex_lock(&s.lock);
    ck_assert_msg(strstr(s.buf, after) == NULL, "an event after the revocation was streamed");
    pthread_mutex_unlock(&s.lock);
    stream_close(&s);
    /* and the token cannot open another one */
    struct tp_resp r;
    ck_assert_int_eq(tp_http("GET", url("/api/v1/events/stream"), tok, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    tp_resp_free(&r);
}
END_TEST

/* A new hr console account through the API, signed in: its id into id (ATT_UUID_STR bytes) and the
 * session cookie's secret into secret (TOKEN_STR_MAX bytes). */
static void console_signed_in(const char *username, char *id, char *secret)
{
    char body[200];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"display_name\":\"Wall screen\",\"role\":\"hr\"}", username);
    struct tp_resp r;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/users"), D.admin_token, body, NULL, &r), 0);
    ck_assert_msg(r.status == 201, "account: %ld %s", r.status, r.body);
    json_t *j = tp_json(&r);
    snprintf(id, ATT_UUID_STR, "%s", json_string_value(json_object_get(j, "id")));
    json_t *b = json_pack("{s:s, s:O}", "username", username, "password", json_object_get(j, "password"));
    json_decref(j);
    tp_resp_free(&r);
    char *signin = json_dumps(b, JSON_COMPACT), origin[64];
    json_decref(b);
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d", D.port);
    ck_assert_int_eq(tp_http("POST", url("/api/v1/session"), NULL, signin, origin, &r), 0);
    free(signin);
    ck_assert_msg(r.status == 201, "sign-in: %ld %s", r.status, r.body);
    const char *v = strstr(r.headers, CONSOLE_COOKIE_NAME "=");
    ck_assert_ptr_nonnull(v);
    v += strlen(CONSOLE_COOKIE_NAME) + 1;
    snprintf(secret, TOKEN_STR_MAX, "%.*s", (int)strcspn(v, ";\r\n"), v);
    tp_resp_free(&r);
}

/* A console session's open event stream ends within SESSION_CHECK_S (2 s) and a hub tick when its
 * account is disabled through the API or deleted in the database, though heartbeats (sse_ping_s 1)
 * would keep it open and no request of the session comes to be refused. */
START_TEST(sse_session_stream_ends_with_its_account)
{
    ck_assert_msg(ready, "daemon or database did not start");
    char disabled_id[ATT_UUID_STR], disabled_secret[TOKEN_STR_MAX], deleted_id[ATT_UUID_STR],
        deleted_secret[TOKEN_STR_MAX], before[37];
    console_signed_in("wall.one", disabled_id, disabled_secret);
    console_signed_in("wall.two", deleted_id, deleted_secret);
    struct stream a, b;
    stream_open_session(&a, disabled_secret);
    stream_open_session(&b, deleted_secret);
    ck_assert_msg(stream_wait(&a, "retry: ", 10) && stream_wait(&b, "retry: ", 10), "no stream preamble: %ld %ld",
                  a.status, b.status);
    punch(40, before);
    ck_assert_msg(stream_wait(&a, before, 10) && stream_wait(&b, before, 10),
                  "the session streams do not work before the accounts go");
    /* open past several heartbeats and session checks while the accounts stand */
    ts_sleep_ms(3000);
    ck_assert(!atomic_load(&a.ended) && !atomic_load(&b.ended));

    double t0 = ts_now_s();
    struct tp_resp r;
    ck_assert_int_eq(tp_http("DELETE", ts_urlf(&D, "/api/v1/users/%s", disabled_id), D.admin_token, NULL, NULL, &r), 0);
    ck_assert_msg(r.status == 204, "disable: %ld %s", r.status, r.body);
    tp_resp_free(&r);
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM console_users WHERE id = '%s'", deleted_id);
    ts_q_exec(db, sql);
    while (!(atomic_load(&a.ended) && atomic_load(&b.ended)) && ts_now_s() - t0 < 10) usleep(10000);
    ck_assert_msg(atomic_load(&a.ended), "the disabled account's stream is still open 10 s later");
    ck_assert_msg(atomic_load(&b.ended), "the deleted account's stream is still open 10 s later");
    ck_assert_msg(a.ended_at - t0 < 3.0, "the disabled account's stream ended %.2f s later", a.ended_at - t0);
    ck_assert_msg(b.ended_at - t0 < 3.0, "the deleted account's stream ended %.2f s later", b.ended_at - t0);
    stream_close(&a);
    stream_close(&b);
    /* and neither session opens another one */
    struct stream again;
    stream_open_session(&again, disabled_secret);
    while (!atomic_load(&again.ended) && ts_now_s() - t0 < 20) usleep(10000);
    ck_assert_int_eq(again.status, 401);
    stream_close(&again);
}
END_TEST

/* Read from fd until needle was seen (in what was read: appended to *buf) or EOF/timeout. */
static bool sock_read_until(int fd, char **buf, size_t *len, const char *needle, size_t max_bytes, double timeout_s)
{
    double t0 = ts_now_s();
    while (ts_now_s() - t0 < timeout_s) {
        if (*buf && needle && strstr(*buf, needle)) return true;
        if (*len >= max_bytes) return true;
        char chunk[1024];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        char *nb = realloc(*buf, *len + (size_t)n + 1);
        ck_assert_ptr_nonnull(nb);
        memcpy(nb + *len, chunk, (size_t)n);
        *len += (size_t)n;
        nb[*len] = '\0';
        *buf = nb;
    }
    return false;
}

/* A CSV export that is still being sent stops when its token is revoked: the client reads slowly
 * (a small receive buffer), the token is revoked early on, and the chunked body never ends. */
START_TEST(export_revoked_token_stops)
{
    ck_assert_msg(ready, "daemon or database did not start");
    enum { ROWS = 40000 };
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source, reason, created_by)"
             " SELECT gen_random_uuid(), '%s', 'in', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',"
             " 'manual', 'a long enough reason to make each exported row take some room', 'test'"
             " FROM generate_series(1, %d) g",
             person, ROWS);
    ts_q_exec(db, sql);
    char tok[64], id[37];
    new_token("exporter", tok, id);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    int small = 4096;
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)D.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char rq[400];
    int n = snprintf(rq, sizeof rq,
                     "GET /api/v1/events?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n",
                     tok);
    ck_assert_int_eq(send(fd, rq, (size_t)n, 0), n);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_msg(sock_read_until(fd, &buf, &len, "\r\n\r\n", 1 << 20, 10), "no answer");
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "export: %.80s", buf);
    sock_read_until(fd, &buf, &len, NULL, 16384, 10); /* the export is under way */
    revoke_token(id);
    usleep(200000);
    /* read whatever comes until the server ends the connection */
    while (sock_read_until(fd, &buf, &len, NULL, len + 65536, 10)) {
    }
    close(fd);
    size_t rows = 0;
    for (char *p = buf; (p = strstr(p, "a long enough reason")) != NULL; p++) rows++;
    bool complete = len >= 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0;
    free(buf);
    ck_assert_msg(!complete && rows < ROWS, "the export ran to its end (%zu of %d rows) after its token was revoked",
                  rows, ROWS);
}
END_TEST

/* One token cannot hold every event stream: beyond sse_max_streams_per_token it gets 503 while
 * another token still opens one. */
START_TEST(sse_per_token_cap)
{
    ck_assert_msg(ready, "daemon or database did not start");
    struct stream a, b, c;
    stream_open(&a, NULL);
    stream_open(&b, NULL);
    ck_assert(stream_wait(&a, "retry: ", 10) && stream_wait(&b, "retry: ", 10));
    struct tp_resp r; /* sse_max_streams = 3, sse_max_streams_per_token = 2 */
    ck_assert_int_eq(tp_http("GET", url("/api/v1/events/stream"), D.hr_token, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_msg(strstr(r.body, "sse_max_streams_per_token") != NULL, "%s", r.body);
    tp_resp_free(&r);
    stream_open_as(&c, NULL, D.admin_token);
    ck_assert_msg(stream_wait(&c, "retry: ", 10), "another token could not open a stream: %ld", c.status);
    stream_close(&a);
    stream_close(&b);
    stream_close(&c);
}
END_TEST

/* A Last-Event-ID of 19 digits beyond the largest seq is refused with a 400 naming it, not wrapped
 * into a negative position that replays everything. */
START_TEST(sse_last_event_id_overflow)
{
    ck_assert_msg(ready, "daemon or database did not start");
    struct tp_resp r;
    ck_assert_int_eq(
        tp_http("GET", url("/api/v1/events/stream"), D.hr_token, NULL, "Last-Event-ID: 9999999999999999999", &r), 0);
    ck_assert_msg(r.status == 400, "19 digits: %ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "Last-Event-ID"));
    tp_resp_free(&r);
}
END_TEST

static void setup_tokens(void)
{
    daemon_conf = "sse_ping_s = 1\nsse_max_streams = 3\nsse_max_streams_per_token = 2\nshutdown_timeout_s = 20";
    setup();
}

/* The attendance report polls the same way: same ETag twice, 304 on If-None-Match, and a shift
 * write (which changes what the report computes) gives a new ETag. */
START_TEST(attendance_etag)
{
    const char *q = "/api/v1/attendance?from=2024-05-01&to=2024-05-02";
    struct tp_resp a, b;
    ck_assert_int_eq(get(q, D.hr_token, NULL, &a), 200);
    ck_assert_msg(a.etag[0] == '"', "ETag missing: %s", a.headers);
    ck_assert_int_eq(get(q, D.hr_token, NULL, &b), 200);
    ck_assert_str_eq(a.etag, b.etag);
    tp_resp_free(&b);
    ck_assert_int_eq(get(q, D.hr_token, a.etag, &b), 304);
    ck_assert_uint_eq(b.len, 0);
    tp_resp_free(&b);
    /* another query, another ETag */
    ck_assert_int_eq(get("/api/v1/attendance?from=2024-05-01&to=2024-05-03", D.hr_token, NULL, &b), 200);
    ck_assert_str_ne(a.etag, b.etag);
    tp_resp_free(&b);
    /* a new shift: the 304 no longer holds */
    struct tp_resp w;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/shifts"), D.admin_token,
                             "{\"name\":\"etag-day\",\"start\":\"08:00\",\"end\":\"16:00\"}", NULL, &w),
                     0);
    ck_assert_msg(w.status == 201, "shift: %ld %s", w.status, w.body);
    tp_resp_free(&w);
    ck_assert_int_eq(get(q, D.hr_token, a.etag, &b), 200);
    ck_assert_str_ne(a.etag, b.etag);
    tp_resp_free(&b);
    tp_resp_free(&a);
}
END_TEST

Suite *polling_suite(void)
{
    Suite *s = suite_create("polling");
    TCase *tc = ts_tcase(s, "api", 300, NULL, NULL, etag_and_304, attendance_etag, sse_feed, sse_limit_and_prompt_stop,
                         sse_last_event_id_overflow, NULL);
    tcase_add_checked_fixture(tc, setup, teardown);
    TCase *outage = ts_tcase(s, "outage", 300, NULL, NULL, not_modified_without_database, NULL);
    tcase_add_checked_fixture(outage, setup_own_cluster, teardown);
    TCase *tokens = ts_tcase(s, "tokens", 300, NULL, NULL, sse_revoked_token_stream_ends, export_revoked_token_stops,
                             sse_per_token_cap, sse_session_stream_ends_with_its_account, NULL);
    tcase_add_checked_fixture(tokens, setup_tokens, teardown);
    return s;
}
