/* GET /api/v1/events/stream (hr, admin): Server-Sent Events feed of new events in commit order
 * (id = events.seq, Last-Event-ID resumes), heartbeats, bounded streams, prompt end at shutdown, at
 * the revocation of its token and at the end of its console session. */
#include "http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/data_version.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/time.h"

/* How it works: each stream is a libmicrohttpd callback response. When its callback has nothing to
 * send it suspends its connection (no thread, no poll); the hub thread checks the suspended streams
 * every HUB_TICK_MS and resumes one when the data version moved, its heartbeat is due, or the daemon
 * stops. The resumed callback reads the new rows (seq > the stream's cursor) on a pooled connection,
 * sends them, and suspends again. */
#define HUB_TICK_MS 200
#define PAGE_ROWS 200   /* rows read per query; a longer backlog takes several turns */
#define DB_WAIT_MS 1000 /* a stream waits this long for a pooled connection, then retries later */
#define RETRY_S 1.0     /* after a failed query */
#define OPENING_MAX 64  /* streams being opened at once; more wait for the next try (503) */
/* A console session can end where this process does not see it (an account disabled or deleted, a
 * sign-out on another instance): a stream of a session asks the database this often whether its
 * session still stands, and ends when it does not. */
#define SESSION_CHECK_S 2.0

struct sse_stream {
    struct MHD_Connection *conn;
    struct http_live live;      /* registered under the token: revoking it ends the stream */
    att_uuid token;             /* the token that opened it (per-token stream cap) */
    bool pseudonymous;          /* the token's view (http_event_json) */
    char *departments;          /* need to know: a JSON array, only their people's events; NULL: all */
    char session[ATT_UUID_STR]; /* the console session it answers to; "" for an API token */
    double session_check;       /* monotonic seconds: the session's next check */
    int64_t cursor;             /* seq of the last event sent (or the start position) */
    uint64_t seen_version;      /* data version when the last query ran */
    bool need_query;            /* query whatever the version (first turn, a full page) */
    double next_ping;           /* monotonic seconds: heartbeat due */
    double retry_at;            /* monotonic seconds: no query before (after a failure) */
    char *buf;                  /* bytes to send: buf[off..len) */
    size_t len, off, cap;
    bool suspended;                 /* guarded by hub.lock: the hub may resume it */
    struct sse_stream *prev, *next; /* hub list, guarded by hub.lock */
};

static struct {
    pthread_mutex_t lock; /* guards everything below but the atomics */
    pthread_cond_t cv;    /* wakes the hub thread (stop) */
    pthread_t thread;
    bool running;                  /* the thread exists */
    bool quit;                     /* the thread should end */
    atomic_bool stopping;          /* daemon stopping: streams end, new ones are refused */
    const struct http_deps *deps;  /* the server's (outlives the hub) */
    unsigned count;                /* streams open or being opened */
    att_uuid opening[OPENING_MAX]; /* tokens of the streams being opened (slot reserved, not listed) */
    unsigned opening_n;
    struct sse_stream *head;
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A stream of token is no longer being opened (listed or failed). hub.lock held. */
static void opening_drop(const att_uuid *token)
{
    for (unsigned i = 0; i < hub.opening_n; i++)
        if (att_uuid_eq(&hub.opening[i], token)) {
            hub.opening[i] = hub.opening[--hub.opening_n];
            return;
        }
}

void http_sse_kick(void)
{
    pthread_mutex_lock(&hub.lock);
    pthread_cond_broadcast(&hub.cv);
    pthread_mutex_unlock(&hub.lock);
}

static double ping_interval(void)
{
    int p = hub.deps->cfg->sse_ping_s, half = hub.deps->cfg->connection_timeout_s / 2;
    if (half < 1) half = 1;
    return p < half ? p : half;
}

static bool append(struct sse_stream *s, const char *data, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n) cap *= 2;
        /* not realloc: the old block holds events with names, wiped before it is freed */
        char *b = malloc(cap);
        if (!b) return false;
        if (s->buf) {
            memcpy(b, s->buf, s->len);
            sodium_memzero(s->buf, s->cap);
            free(s->buf);
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return true;
}

/* Read what was committed after the cursor into the buffer. version: read before the query. */
static att_err fetch(struct sse_stream *s, uint64_t version)
{
    PGconn *c;
    att_err e = db_acquire(hub.deps->db, DB_WAIT_MS, &c);
    if (e != ATT_OK) return e;
    struct event_row *rows = NULL;
    size_t n = 0;
    e = store_events_since_seq(c, s->cursor, PAGE_ROWS, s->departments, &rows, &n);
    db_release(hub.deps->db, c);
    if (e != ATT_OK) return e;
    for (size_t i = 0; e == ATT_OK && i < n; i++) {
        json_t *o = http_event_json(&rows[i], s->pseudonymous);
        char *txt = att_json_dumps(o, JSON_COMPACT); /* one line: no newline inside */
        json_decref(o);
        char head[40];
        int hl = snprintf(head, sizeof head, "id: %" PRId64 "\ndata: ", rows[i].seq);
        if (!txt || !append(s, head, (size_t)hl) || !append(s, txt, strlen(txt)) || !append(s, "\n\n", 2))
            e = ATT_E_NOMEM;
        else s->cursor = rows[i].seq;
        if (txt) sodium_memzero(txt, strlen(txt));
        free(txt);
    }
    if (rows) sodium_memzero(rows, n * sizeof *rows);
    free(rows);
    if (e != ATT_OK) return e;
    s->need_query = n == PAGE_ROWS;
    s->seen_version = version;
    return ATT_OK;
}

static ssize_t drain(struct sse_stream *s, char *out, size_t max)
{
    size_t n = s->len - s->off;
    if (n > max) n = max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    if (s->off == s->len) s->off = s->len = 0;
    return (ssize_t)n;
}

/* Whether the stream's console session still stands, asked when its check is due (true until
 * then, and while the database cannot answer: asked again after RETRY_S). */
static bool session_stands(struct sse_stream *s, double now)
{
    if (!s->session[0] || now < s->session_check) return true;
    PGconn *c;
    bool open = true;
    att_err e = db_acquire(hub.deps->db, DB_WAIT_MS, &c);
    if (e == ATT_OK) {
        e = store_console_session_open(c, s->session, &open);
        db_release(hub.deps->db, c);
    }
    if (e != ATT_OK) {
        log_debug("http", "event stream: session check failed (%s); retrying", att_err_code(e));
        s->session_check = now + RETRY_S;
        return true;
    }
    s->session_check = now + SESSION_CHECK_S;
    if (!open) log_info("http", "event stream of console session %s ended: the session has ended", s->session);
    return open;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse_stream *s = cls;
    if (http_live_revoked(&s->live)) return MHD_CONTENT_READER_END_WITH_ERROR; /* nothing more, even buffered */
    double now = att_time_mono_s();
    if (!session_stands(s, now)) return MHD_CONTENT_READER_END_WITH_ERROR; /* likewise */
    if (s->off < s->len) return drain(s, out, max);
    if (atomic_load(&hub.stopping) || atomic_load(hub.deps->stopping)) return MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t v = app_data_version();
    if ((s->need_query || v != s->seen_version) && now >= s->retry_at) {
        att_err e = fetch(s, v);
        if (e != ATT_OK) {
            log_debug("http", "event stream: query failed (%s); retrying", att_err_code(e));
            s->retry_at = now + RETRY_S;
        }
    }
    /* a revocation while the rows were read: they may be newer than it, so they are not sent */
    if (http_live_revoked(&s->live)) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (s->len == 0 && now >= s->next_ping && !append(s, ": ping\n\n", 8)) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (s->len > 0) {
        s->next_ping = now + ping_interval();
        return drain(s, out, max);
    }
    /* nothing to send: park the connection until the hub resumes it */
    pthread_mutex_lock(&hub.lock);
    if (atomic_load(&hub.stopping)) {
        pthread_mutex_unlock(&hub.lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (http_live_revoked(&s->live)) { /* the hub wakes revoked streams; do not park past one */
        pthread_mutex_unlock(&hub.lock);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&hub.lock);
    return 0;
}

static void stream_free(void *cls)
{
    struct sse_stream *s = cls;
    pthread_mutex_lock(&hub.lock);
    if (s->prev) s->prev->next = s->next;
    else if (hub.head == s) hub.head = s->next;
    if (s->next) s->next->prev = s->prev;
    hub.count--;
    pthread_mutex_unlock(&hub.lock);
    http_live_remove(&s->live);
    if (s->buf) sodium_memzero(s->buf, s->cap); /* events sent or not yet sent name people */
    free(s->buf);
    free(s->departments);
    free(s);
}

/* Resume the suspended streams that have something to do (all of them when stopping). hub.lock held. */
static void wake_due(bool all)
{
    double now = att_time_mono_s();
    uint64_t v = app_data_version();
    for (struct sse_stream *s = hub.head; s; s = s->next) {
        if (!s->suspended) continue;
        if (all || http_live_revoked(&s->live) || now >= s->next_ping || (s->session[0] && now >= s->session_check) ||
            ((s->need_query || v != s->seen_version) && now >= s->retry_at)) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    }
}

static void *hub_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hub.lock);
    while (!hub.quit) {
        struct timespec dl = att_time_timespec(att_time_wall_us() + HUB_TICK_MS * 1000L); /* cv: default clock */
        pthread_cond_timedwait(&hub.cv, &hub.lock, &dl);
        wake_due(atomic_load(&hub.stopping) || atomic_load(hub.deps->stopping));
    }
    pthread_mutex_unlock(&hub.lock);
    return NULL;
}

att_err http_sse_open(const struct http_deps *deps)
{
    pthread_mutex_lock(&hub.lock);
    if (hub.running) {
        pthread_mutex_unlock(&hub.lock);
        return ATT_E_INTERNAL; /* one HTTP server per process */
    }
    hub.deps = deps;
    hub.quit = false;
    atomic_store(&hub.stopping, false);
    int rc = pthread_create(&hub.thread, NULL, hub_main, NULL);
    hub.running = rc == 0;
    pthread_mutex_unlock(&hub.lock);
    return rc == 0 ? ATT_OK : ATT_E_INTERNAL;
}

void http_sse_shutdown(void)
{
    pthread_mutex_lock(&hub.lock);
    atomic_store(&hub.stopping, true);
    unsigned n = hub.count;
    if (hub.running) wake_due(true);
    pthread_mutex_unlock(&hub.lock);
    if (n) log_info("http", "ending %u event stream(s)", n);
}

void http_sse_close(void)
{
    pthread_mutex_lock(&hub.lock);
    atomic_store(&hub.stopping, true);
    bool running = hub.running;
    hub.quit = true;
    pthread_cond_broadcast(&hub.cv);
    pthread_mutex_unlock(&hub.lock);
    if (running) pthread_join(hub.thread, NULL);
    pthread_mutex_lock(&hub.lock);
    hub.running = false;
    if (hub.count) log_warn("http", "%u event stream(s) still registered after the stop", hub.count);
    pthread_mutex_unlock(&hub.lock);
}

/* Last-Event-ID: a decimal seq this feed sent (a value beyond int64 is no seq: refused, never wrapped). */
static bool parse_last_id(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 19) return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

att_err http_events_stream(struct http_request *req, struct http_response *resp)
{
    const char *last = http_req_header(req, "Last-Event-ID");
    int64_t cursor = 0;
    if (last && !parse_last_id(last, &cursor))
        return http_problem(resp, ATT_E_BAD_PARAM, "Last-Event-ID", "Last-Event-ID must be an id this feed sent");
    if (atomic_load(&hub.stopping) || atomic_load(req->deps->stopping))
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "the daemon is stopping");

    att_uuid token;
    if (!req->token || !att_uuid_parse(req->token->id, &token))
        return http_problem(resp, ATT_E_INTERNAL, NULL, "the event stream has no token to answer to");

    /* reserve a slot first: the limits hold however many requests race for them */
    const struct att_config *cfg = req->deps->cfg;
    pthread_mutex_lock(&hub.lock);
    unsigned mine = 0; /* streams of this token (one token must not take every slot) */
    for (struct sse_stream *o = hub.head; o; o = o->next)
        if (att_uuid_eq(&o->token, &token) && !http_live_revoked(&o->live)) mine++;
    for (unsigned i = 0; i < hub.opening_n; i++)
        if (att_uuid_eq(&hub.opening[i], &token)) mine++;
    bool off = !hub.running, full = hub.count >= (unsigned)cfg->sse_max_streams;
    bool token_full = mine >= (unsigned)cfg->sse_max_streams_per_token;
    bool reserved = !off && !full && !token_full && hub.opening_n < OPENING_MAX;
    if (reserved) {
        hub.count++;
        hub.opening[hub.opening_n++] = token;
    }
    pthread_mutex_unlock(&hub.lock);
    if (off) return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "event streams are not available");
    if (!reserved) {
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "10");
        if (token_full && !full)
            return http_problem(resp, ATT_E_UNAVAILABLE, NULL,
                                "this token has too many event streams open (sse_max_streams_per_token = %d)",
                                cfg->sse_max_streams_per_token);
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "too many event streams are open (sse_max_streams = %d)",
                            cfg->sse_max_streams);
    }

    att_err e;
    PGconn *c;
    struct sse_stream *s = NULL;
    struct MHD_Response *r = NULL;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) goto fail;
    if (!last && (e = store_events_max_seq(c, &cursor)) != ATT_OK) {
        http_problem(resp, e, NULL, "the event stream could not start");
        goto fail;
    }
    /* opening a feed of personal data is audited, like a list read */
    char *detail = http_json_text(json_pack("{s:I}", "after", (json_int_t)cursor));
    e = detail ? http_audit(req, "event.stream", NULL, NULL, "ok", detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        goto fail;
    }
    s->conn = req->conn;
    s->token = token;
    s->pseudonymous = req->token && req->token->pseudonymous;
    if ((e = http_scope_departments(req, resp, &s->departments)) != ATT_OK) {
        free(s);
        goto fail;
    }
    s->cursor = cursor;
    s->need_query = true;
    s->next_ping = att_time_mono_s() + ping_interval();
    if (req->console) { /* the session was checked by this request: next in SESSION_CHECK_S */
        memcpy(s->session, req->session.id, sizeof s->session);
        s->session_check = att_time_mono_s() + SESSION_CHECK_S;
    }
    /* the browser's EventSource reconnects after this many ms; sent at once so headers go out now */
    if (!append(s, "retry: 3000\n\n", 13)) {
        free(s->departments);
        free(s);
        e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        goto fail;
    }
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, stream_free);
    if (!r) {
        free(s->buf);
        free(s->departments);
        free(s);
        e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        goto fail;
    }
    /* from here stream_free (called by libmicrohttpd) unlinks and gives the slot back */
    (void)http_live_add(&s->live, req->token); /* the token's id was parsed above */
    pthread_mutex_lock(&hub.lock);
    opening_drop(&token);
    s->next = hub.head;
    if (hub.head) hub.head->prev = s;
    hub.head = s;
    pthread_mutex_unlock(&hub.lock);
    http_header(resp, "X-Accel-Buffering", "no"); /* a reverse proxy must pass events on at once */
    log_debug("http", "event stream opened after seq %" PRId64, cursor);
    resp->stream = r;
    resp->status = MHD_HTTP_OK;
    resp->content_type = "text/event-stream";
    return ATT_OK;
fail:
    pthread_mutex_lock(&hub.lock);
    opening_drop(&token);
    hub.count--;
    pthread_mutex_unlock(&hub.lock);
    return e;
}
