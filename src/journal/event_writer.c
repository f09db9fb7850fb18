/* The event writer (include/attendd/event_writer.h): event_emit() makes an event durable in the
 * spool (or, while the spool cannot append, holds it in the memory backlog, src/journal/backlog.c);
 * one thread moves spooled records to PostgreSQL in order, one transaction per batch
 * (store_events_insert_batch), then acknowledges them; it backs off and retries while the database is
 * away and never skips a record the database could still take. */
#include "attendd/event_writer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/store_events.h"
#include "attendd/time.h"
#include "attendd/uuid.h"
#include "src/journal/backlog.h"

#define MOD "events"
#define TIMING_RING 1024 /* appends whose spool-to-database time is measured */

/* When an append happened, to measure how long the record stayed in the spool. */
struct timing {
    struct spool_pos pos;
    int64_t at_us; /* att_time_mono_us() */
};

struct event_writer {
    spool *spool; /* borrowed */
    char *conninfo;
    char app_name[64];
    size_t batch_max;
    int backoff_min_ms, backoff_max_ms, idle_check_ms;
    struct spool_record *batch;         /* batch_max records read from the spool */
    struct att_event *events;           /* batch_max: the events of the batch being written */
    struct store_event_result *results; /* batch_max: what the database did with each */
    bool decide;                        /* opts.decide was given: rules applied in the database */
    struct store_punch_rules rules;     /* its copy */

    pthread_mutex_t lock;  /* guards everything down to last_error_at */
    pthread_cond_t cv;     /* notify, stop */
    bool kick;             /* appended since the thread last looked */
    bool stop;             /* stop requested */
    int64_t stop_deadline; /* monotonic µs: give up draining after this */
    bool started, joined;
    pthread_t thread;
    struct timing ring[TIMING_RING]; /* appends in (roughly) position order, oldest at ring_head */
    size_t ring_head, ring_len;
    char last_error[256];
    int64_t last_error_at;
    char spool_error[256]; /* why the latest spool append failed */
    /* Events the spool could not append (disk full); only the thread removes them. While it is not
     * empty, new events queue behind it, so the order stays the order of emits. */
    struct backlog backlog;

    PGconn *conn; /* the thread's own; NULL while disconnected */
    atomic_bool connected, running, spool_writable;
    _Atomic uint64_t held, backlog_spooled, backlog_direct, lost;
    _Atomic uint64_t emitted, emit_errors, written, duplicates, rejected, unlinked, db_errors, batches;
    _Atomic uint64_t suppressed, superseded;

    metrics *metrics;     /* borrowed; NULL: no metrics */
    metric *m_series[20]; /* registered here, removed at free */
    size_t m_count;
    metric *m_spool_latency;   /* append → committed and acknowledged */
    metric *m_capture_latency; /* capture time → committed (new rows only) */
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static bool pos_le(struct spool_pos a, struct spool_pos b)
{
    return a.seg < b.seg || (a.seg == b.seg && a.off <= b.off);
}

static void set_error(event_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t backlog_drop(event_writer *w);

/* Remember a failure for the stats (kept after recovery, with its time). */
static void set_error(event_writer *w, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&w->lock);
    va_start(ap, fmt);
    vsnprintf(w->last_error, sizeof w->last_error, fmt, ap);
    va_end(ap);
    w->last_error_at = (int64_t)time(NULL);
    pthread_mutex_unlock(&w->lock);
}

/* ---- metrics -------------------------------------------------------------------------------------- */

#define STAT_FN(field) \
    static double stat_##field(void *ud) { return (double)atomic_load(&((event_writer *)ud)->field); }
STAT_FN(emitted)
STAT_FN(emit_errors)
STAT_FN(written)
STAT_FN(duplicates)
STAT_FN(rejected)
STAT_FN(unlinked)
STAT_FN(db_errors)
STAT_FN(lost)
STAT_FN(suppressed)
STAT_FN(superseded)
#undef STAT_FN

static double stat_backlog(void *ud) { return (double)backlog_len(&((event_writer *)ud)->backlog); }

static double stat_spool_writable(void *ud) { return atomic_load(&((event_writer *)ud)->spool_writable) ? 1 : 0; }

static double stat_connected(void *ud) { return atomic_load(&((event_writer *)ud)->connected) ? 1 : 0; }
static double stat_depth(void *ud) { return (double)spool_depth(((event_writer *)ud)->spool); }

static double stat_append_errors(void *ud)
{
    struct spool_stats st;
    spool_get_stats(((event_writer *)ud)->spool, &st);
    return (double)st.append_errors;
}

static double stat_corrupt(void *ud)
{
    struct spool_stats st;
    spool_get_stats(((event_writer *)ud)->spool, &st);
    return (double)st.corrupt_skipped;
}

static att_err register_metrics(event_writer *w, metrics *m)
{
    static const struct {
        enum metric_type type;
        const char *name, *help;
        double (*fn)(void *);
    } cb[] = {
        {METRIC_COUNTER, "attendd_events_emitted_total", "Attendance events made durable in the spool", stat_emitted},
        {METRIC_COUNTER, "attendd_events_emit_errors_total",
         "Attendance events that could not be spooled (refused values, disk full)", stat_emit_errors},
        {METRIC_COUNTER, "attendd_events_written_total", "Attendance events inserted into the database", stat_written},
        {METRIC_COUNTER, "attendd_events_duplicate_total",
         "Spooled events already in the database (replays after a crash), ignored", stat_duplicates},
        {METRIC_COUNTER, "attendd_events_rejected_total",
         "Spooled events the database refused for good (logged in full, then dropped)", stat_rejected},
        {METRIC_COUNTER, "attendd_events_unlinked_total",
         "Events inserted with a NULL person or camera because that row no longer exists", stat_unlinked},
        {METRIC_COUNTER, "attendd_event_db_errors_total",
         "Failed database attempts of the event writer (connect, insert, commit)", stat_db_errors},
        {METRIC_GAUGE, "attendd_event_writer_connected", "1 when the event writer holds a database connection",
         stat_connected},
        {METRIC_GAUGE, "attendd_spool_depth", "Events in the spool not yet acknowledged by the database", stat_depth},
        {METRIC_COUNTER, "attendd_spool_append_errors_total", "Failed spool appends (disk full, I/O error)",
         stat_append_errors},
        {METRIC_COUNTER, "attendd_spool_corrupt_total", "Corrupt spool records or regions skipped", stat_corrupt},
        {METRIC_GAUGE, "attendd_spool_writable", "0 while spool appends fail (disk full, I/O error)",
         stat_spool_writable},
        {METRIC_GAUGE, "attendd_events_memory_backlog",
         "Events held in memory (not crash-safe) because the spool could not append them", stat_backlog},
        {METRIC_COUNTER, "attendd_events_suppressed_total",
         "Events not written because the database holds an earlier capture of the same pass (another instance's)",
         stat_suppressed},
        {METRIC_COUNTER, "attendd_events_superseded_total",
         "Stored events voided because an earlier capture of the same pass arrived later", stat_superseded},
        {METRIC_COUNTER, "attendd_events_lost_total",
         "Events neither spooled nor written (memory backlog full, or held at stop); each is logged", stat_lost},
    };
    for (size_t i = 0; i < sizeof cb / sizeof cb[0]; i++) {
        att_err rc =
            metrics_callback(m, cb[i].type, cb[i].name, cb[i].help, NULL, cb[i].fn, w, &w->m_series[w->m_count]);
        if (rc != ATT_OK) return rc;
        w->m_count++;
    }
    att_err rc = metrics_histogram(m, "attendd_event_spool_seconds",
                                   "Time from spool append to database commit and acknowledgement", NULL,
                                   metrics_latency_buckets, metrics_latency_buckets_n, &w->m_spool_latency);
    if (rc != ATT_OK) return rc;
    w->m_series[w->m_count++] = w->m_spool_latency;
    rc = metrics_histogram(m, "attendd_event_capture_to_db_seconds",
                           "Time from the deciding frame's capture to the event's database commit", NULL,
                           metrics_latency_buckets, metrics_latency_buckets_n, &w->m_capture_latency);
    if (rc != ATT_OK) return rc;
    w->m_series[w->m_count++] = w->m_capture_latency;
    return ATT_OK;
}

static void unregister_metrics(event_writer *w)
{
    for (size_t i = 0; i < w->m_count; i++) metrics_remove(w->metrics, w->m_series[i]);
    w->m_count = 0;
    w->m_spool_latency = w->m_capture_latency = NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------------ */

att_err event_writer_new(spool *s, const char *conninfo, const struct event_writer_opts *opts, metrics *m,
                         event_writer **out, char *err, size_t errlen)
{
    *out = NULL;
    struct event_writer_opts o = opts ? *opts : (struct event_writer_opts){0};
    if (!o.batch_max) o.batch_max = EVENT_WRITER_BATCH_DEFAULT;
    if (!o.backoff_min_ms) o.backoff_min_ms = EVENT_WRITER_BACKOFF_MIN_MS;
    if (!o.backoff_max_ms) o.backoff_max_ms = EVENT_WRITER_BACKOFF_MAX_MS;
    if (!o.idle_check_ms) o.idle_check_ms = 1000;
    if (!o.app_name) o.app_name = "attendd-events";
    if (!o.backlog_max) o.backlog_max = EVENT_WRITER_BACKLOG_DEFAULT;
    if (!s || !conninfo || !*conninfo || o.batch_max > 100000 || o.backlog_max > 1000000 || o.backoff_min_ms < 1 ||
        o.backoff_max_ms < o.backoff_min_ms || o.idle_check_ms < 1 || strlen(o.app_name) >= 64) {
        snprintf(err, errlen, "event writer: invalid arguments");
        return ATT_E_INVALID;
    }
    event_writer *w = calloc(1, sizeof *w);
    if (!w) goto nomem;
    w->spool = s;
    w->batch_max = o.batch_max;
    w->backoff_min_ms = o.backoff_min_ms;
    w->backoff_max_ms = o.backoff_max_ms;
    w->idle_check_ms = o.idle_check_ms;
    snprintf(w->app_name, sizeof w->app_name, "%s", o.app_name);
    if (o.decide) {
        w->decide = true;
        w->rules = *o.decide;
    }
    w->conninfo = strdup(conninfo);
    w->batch = calloc(o.batch_max, sizeof *w->batch);
    w->events = calloc(o.batch_max, sizeof *w->events);
    w->results = calloc(o.batch_max, sizeof *w->results);
    atomic_store(&w->spool_writable, true);
    if (!w->conninfo || !w->batch || !w->events || !w->results || backlog_init(&w->backlog, o.backlog_max) != ATT_OK)
        goto nomem;
    if (att_time_cond_init(&w->cv) != 0) goto nomem; /* a wall-clock step must not stretch a backoff */
    pthread_mutex_init(&w->lock, NULL);
    if (m) {
        w->metrics = m;
        att_err rc = register_metrics(w, m);
        if (rc != ATT_OK) {
            snprintf(err, errlen, "event writer: registering metrics failed: %s", att_err_code(rc));
            event_writer_free(w);
            return rc;
        }
    }
    *out = w;
    return ATT_OK;
nomem:
    if (w) {
        free(w->conninfo);
        free(w->batch);
        free(w->events);
        free(w->results);
        backlog_destroy(&w->backlog);
        free(w);
    }
    snprintf(err, errlen, "event writer: out of memory");
    return ATT_E_NOMEM;
}

static void *writer_main(void *arg);

att_err event_writer_start(event_writer *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->started) {
        pthread_mutex_unlock(&w->lock);
        return ATT_E_INVALID;
    }
    w->stop = false;
    atomic_store(&w->running, true);
    int e = pthread_create(&w->thread, NULL, writer_main, w);
    if (e != 0) {
        atomic_store(&w->running, false);
        pthread_mutex_unlock(&w->lock);
        log_error(MOD, "cannot start the event writer thread: %s", strerror(e));
        return ATT_E_INTERNAL;
    }
    w->started = true;
    pthread_mutex_unlock(&w->lock);
    return ATT_OK;
}

void event_writer_notify(event_writer *w)
{
    if (!w) return;
    att_time_cond_raise(&w->lock, &w->cv, &w->kick);
}

att_err event_writer_stop(event_writer *w, int timeout_ms)
{
    pthread_mutex_lock(&w->lock);
    bool join = w->started && !w->joined;
    if (join) {
        w->stop = true;
        w->stop_deadline = att_time_deadline((int64_t)timeout_ms * 1000);
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->lock);
    if (join) {
        pthread_join(w->thread, NULL);
        pthread_mutex_lock(&w->lock);
        w->joined = true;
        pthread_mutex_unlock(&w->lock);
    }
    size_t left = spool_depth(w->spool);
    size_t lost = join ? backlog_drop(w) : 0;
    if (left == 0 && lost == 0 && backlog_len(&w->backlog) == 0) return ATT_OK;
    if (join && left) log_warn(MOD, "%zu event(s) left in the spool; they are written at the next start", left);
    return ATT_E_UNAVAILABLE;
}

void event_writer_free(event_writer *w)
{
    if (!w) return;
    (void)event_writer_stop(w, 0);
    (void)backlog_drop(w); /* never started: held events can go nowhere either */
    unregister_metrics(w);
    if (w->conn) PQfinish(w->conn);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->lock);
    free(w->batch);
    free(w->events);
    free(w->results);
    backlog_destroy(&w->backlog);
    free(w->conninfo);
    free(w);
}

void event_writer_get_stats(event_writer *w, struct event_writer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->emitted = atomic_load(&w->emitted);
    out->emit_errors = atomic_load(&w->emit_errors);
    out->written = atomic_load(&w->written);
    out->duplicates = atomic_load(&w->duplicates);
    out->suppressed = atomic_load(&w->suppressed);
    out->superseded = atomic_load(&w->superseded);
    out->rejected = atomic_load(&w->rejected);
    out->unlinked = atomic_load(&w->unlinked);
    out->db_errors = atomic_load(&w->db_errors);
    out->batches = atomic_load(&w->batches);
    out->connected = atomic_load(&w->connected);
    out->running = atomic_load(&w->running);
    out->spool_depth = spool_depth(w->spool);
    out->held = atomic_load(&w->held);
    out->backlog_spooled = atomic_load(&w->backlog_spooled);
    out->backlog_direct = atomic_load(&w->backlog_direct);
    out->lost = atomic_load(&w->lost);
    out->spool_writable = atomic_load(&w->spool_writable);
    out->memory_backlog = backlog_len(&w->backlog);
    pthread_mutex_lock(&w->lock);
    snprintf(out->last_error, sizeof out->last_error, "%s", w->last_error);
    out->last_error_at = w->last_error_at;
    pthread_mutex_unlock(&w->lock);
}

/* ---- emit ------------------------------------------------------------------------------------------ */

/* An event that leaves attendd without reaching the spool or the database: logged in full at error
 * (ids and numbers, no names) so an operator can re-enter it by hand. */
static void log_lost(const struct att_event *ev, const char *why)
{
    char payload[SPOOL_PAYLOAD_MAX + 1];
    size_t len = 0;
    if (spool_event_encode(ev, payload, sizeof payload, &len) != ATT_OK) snprintf(payload, sizeof payload, "?");
    log_error(MOD, "event LOST (%s): %s", why, payload);
}

att_err event_emit(event_writer *w, const struct att_event *ev, att_uuid *id_out, char *err, size_t errlen)
{
    /* Refuse here what the database would refuse later: a spooled record must be writable. */
    const char *why = NULL;
    if (ev->kind != EVENT_KIND_IN && ev->kind != EVENT_KIND_OUT) why = "kind must be in or out";
    else if (!isfinite(ev->similarity) || ev->similarity < -1.0f || ev->similarity > 1.0f)
        why = "similarity must be within -1..1";
    else if (!isfinite(ev->liveness) || ev->liveness < 0.0f || ev->liveness > 1.0f)
        why = "liveness must be within 0..1";
    else if (ev->ts_us <= 0 || ev->ts_us > ATT_TIME_MAX_US) why = "ts out of range";
    if (why) {
        atomic_fetch_add(&w->emit_errors, 1);
        if (err && errlen) snprintf(err, errlen, "event refused: %s", why);
        log_error(MOD, "event refused: %s", why);
        return ATT_E_INVALID;
    }
    struct att_event se = {.person = ev->person,
                           .camera = ev->camera,
                           .kind = ev->kind,
                           .ts_us = ev->ts_us,
                           .similarity = ev->similarity,
                           .liveness = ev->liveness};
    att_uuid_new(&se.id);
    snprintf(se.source, sizeof se.source, "camera");
    struct spool_pos pos;
    int64_t t = att_time_mono_us();
    bool behind = backlog_len(&w->backlog) > 0; /* a backlog exists: queue behind it, keeping the emit order */
    char reason[256] = "";
    if (!behind) {
        att_err rc = spool_append(w->spool, &se, &pos, reason, sizeof reason); /* logs its own failure */
        if (rc == ATT_OK) {
            atomic_store(&w->spool_writable, true);
            atomic_fetch_add(&w->emitted, 1);
            if (id_out) *id_out = se.id;
            pthread_mutex_lock(&w->lock);
            if (w->ring_len < TIMING_RING) { /* full (a long outage): those appends are simply not timed */
                w->ring[(w->ring_head + w->ring_len) % TIMING_RING] = (struct timing){pos, t};
                w->ring_len++;
            }
            w->kick = true;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->lock);
            return ATT_OK;
        }
        if (rc != ATT_E_IO) { /* a refused event or no memory: nothing a retry would change */
            atomic_fetch_add(&w->emit_errors, 1);
            if (err && errlen) snprintf(err, errlen, "%s", reason);
            return rc;
        }
        atomic_store(&w->spool_writable, false);
    }
    /* The spool cannot take it (disk full, I/O error): hold it in memory for the thread, which
     * spools it once space returns or writes it to the database meanwhile. */
    pthread_mutex_lock(&w->lock);
    if (reason[0]) snprintf(w->spool_error, sizeof w->spool_error, "%s", reason);
    else snprintf(reason, sizeof reason, "%s", w->spool_error); /* queued behind: the latest failure */
    pthread_mutex_unlock(&w->lock);
    size_t held;
    bool room = backlog_push(&w->backlog, &se, &held);
    if (room) event_writer_notify(w);
    if (!room) {
        atomic_fetch_add(&w->emit_errors, 1);
        atomic_fetch_add(&w->lost, 1);
        log_lost(&se, "the spool cannot append and the memory backlog is full");
        if (err && errlen)
            snprintf(err, errlen,
                     "event not recorded: the spool cannot append (%s) and %zu event(s) already wait in "
                     "memory",
                     reason, held);
        return ATT_E_IO;
    }
    atomic_fetch_add(&w->held, 1);
    if (id_out) *id_out = se.id;
    if (!behind) {
        char id[ATT_UUID_STR];
        att_uuid_format(&se.id, id);
        log_error(MOD,
                  "event %s held in memory (not crash-safe; %zu held) until the spool or the database takes it: "
                  "%s",
                  id, held, reason);
    }
    return ATT_OK;
}

/* ---- the thread ------------------------------------------------------------------------------------- */

/* Stop requested and its deadline passed: nothing more may be tried. Called with the lock held. */
static bool must_quit_locked(event_writer *w)
{
    if (!w->stop) return false;
    return att_time_expired(w->stop_deadline);
}

/* Wait ms (a backoff): notifications do not cut it short, or a busy producer would turn an outage
 * into a reconnect storm; a stop shortens it to the stop deadline. */
static void backoff_wait(event_writer *w, int ms)
{
    int64_t until = att_time_deadline((int64_t)ms * 1000);
    pthread_mutex_lock(&w->lock);
    for (;;) {
        int64_t end = w->stop && w->stop_deadline < until ? w->stop_deadline : until;
        if (att_time_expired(end)) break;
        struct timespec ts = att_time_timespec(end);
        pthread_cond_timedwait(&w->cv, &w->lock, &ts);
    }
    pthread_mutex_unlock(&w->lock);
}

static void disconnect(event_writer *w)
{
    if (w->conn) PQfinish(w->conn);
    w->conn = NULL;
    atomic_store(&w->connected, false);
}

/* Connect, prepare the statements, bound every statement. */
static att_err connect_db(event_writer *w, char *err, size_t errlen)
{
    PGconn *c;
    att_err rc = db_connect(w->conninfo, w->app_name, &c, err, errlen);
    if (rc != ATT_OK) return rc;
    rc = store_events_session(c, err, errlen); /* statements bounded: a hung server must not hold a stop */
    if (rc != ATT_OK) {
        PQfinish(c);
        return rc;
    }
    w->conn = c;
    atomic_store(&w->connected, true);
    return ATT_OK;
}

static void log_rejected(const struct att_event *ev, att_err why)
{
    char payload[SPOOL_PAYLOAD_MAX + 1];
    size_t len = 0;
    if (spool_event_encode(ev, payload, sizeof payload, &len) != ATT_OK) snprintf(payload, sizeof payload, "?");
    /* the full record (ids and numbers, no names), so an operator can re-enter it by hand */
    log_error(MOD, "event refused by the database (%s); dropped from the spool: %s", att_err_code(why), payload);
}

/* Insert events[0..n) in one transaction. On ATT_E_INVALID, *bad_at is the refused event (all
 * rolled back). Counts and timings only after the commit. */
static att_err write_batch(event_writer *w, const struct att_event *events, size_t n, size_t *bad_at)
{
    struct store_event_result *res = w->results;
    att_err rc = w->decide ? store_events_decide_batch(w->conn, events, n, &w->rules, res, bad_at)
                           : store_events_insert_batch(w->conn, events, n, res, bad_at);
    if (rc != ATT_OK) return rc;
    uint64_t fresh = 0, dup = 0, unlinked = 0, suppressed = 0, superseded = 0;
    int64_t now_us = att_time_wall_us();
    for (size_t i = 0; i < n; i++) {
        superseded += res[i].superseded;
        if (res[i].suppressed) {
            suppressed++;
        } else if (res[i].inserted) {
            fresh++;
            /* capture-to-commit, for the new rows only (a replay says nothing) */
            metric_observe(w->m_capture_latency, (double)(now_us - events[i].ts_us) / 1e6);
        } else {
            dup++;
        }
        if (res[i].person_missing || res[i].camera_missing) {
            unlinked++;
            char id[ATT_UUID_STR];
            att_uuid_format(&events[i].id, id);
            log_warn(MOD, "event %s stored without its %s: no such row any more", id,
                     res[i].person_missing && res[i].camera_missing ? "person and camera"
                         : res[i].person_missing                    ? "person"
                                                                    : "camera");
        }
    }
    atomic_fetch_add(&w->written, fresh);
    atomic_fetch_add(&w->duplicates, dup);
    atomic_fetch_add(&w->suppressed, suppressed);
    atomic_fetch_add(&w->superseded, superseded);
    if (suppressed || superseded)
        log_info(MOD, "%llu event(s) already punched by an earlier capture, %llu later capture(s) voided",
                 (unsigned long long)suppressed, (unsigned long long)superseded);
    atomic_fetch_add(&w->unlinked, unlinked);
    atomic_fetch_add(&w->batches, 1);
    if (fresh) app_data_version_bump(); /* ETags and SSE streams see the new rows */
    if (dup) log_info(MOD, "%llu event(s) were already in the database (replay)", (unsigned long long)dup);
    return ATT_OK;
}

/* Acknowledge through pos; time the appends it covers. */
static att_err ack_through(event_writer *w, struct spool_pos pos)
{
    char err[256];
    att_err rc = spool_ack(w->spool, pos, err, sizeof err);
    if (rc != ATT_OK) {
        set_error(w, "%s", err);
        log_error(MOD,
                  "acknowledging the spool failed (the records are written again later; the database "
                  "ignores them): %s",
                  err);
        return rc;
    }
    int64_t now = att_time_mono_us();
    pthread_mutex_lock(&w->lock);
    while (w->ring_len > 0 && pos_le(w->ring[w->ring_head].pos, pos)) {
        metric_observe(w->m_spool_latency, (double)(now - w->ring[w->ring_head].at_us) / 1e6);
        w->ring_head = (w->ring_head + 1) % TIMING_RING;
        w->ring_len--;
    }
    pthread_mutex_unlock(&w->lock);
    return ATT_OK;
}

/* ---- the memory backlog (events the spool could not append) ------------------------------------------ */

/* Append held events to the spool, oldest first, while it takes them; *moved counts them. True once
 * none is left. */
static bool backlog_to_spool(event_writer *w, size_t *moved)
{
    struct att_event ev;
    *moved = 0;
    while (backlog_peek(&w->backlog, &ev, 1) == 1) {
        char err[256];
        if (spool_append(w->spool, &ev, NULL, err, sizeof err) != ATT_OK) { /* logs its own failure */
            set_error(w, "%s", err);
            pthread_mutex_lock(&w->lock);
            snprintf(w->spool_error, sizeof w->spool_error, "%s", err);
            pthread_mutex_unlock(&w->lock);
            return false;
        }
        backlog_pop(&w->backlog, 1);
        atomic_fetch_add(&w->backlog_spooled, 1);
        (*moved)++;
    }
    return true;
}

/* At stop: what is still held can go nowhere; each event is logged in full. Returns the count. */
static size_t backlog_drop(event_writer *w)
{
    struct att_event ev;
    size_t n = 0;
    while (backlog_peek(&w->backlog, &ev, 1) == 1) {
        log_lost(&ev, "held in memory at stop: the spool could not append it and the database did not take it");
        backlog_pop(&w->backlog, 1);
        atomic_fetch_add(&w->lost, 1);
        n++;
    }
    return n;
}

static int next_backoff(const event_writer *w, int cur)
{
    return cur ? (cur * 2 > w->backoff_max_ms ? w->backoff_max_ms : cur * 2) : w->backoff_min_ms;
}

static void *writer_main(void *arg)
{
    event_writer *w = arg;
    int backoff = 0;     /* current retry delay, 0 after a success */
    bool outage = false; /* a failure was logged; the recovery is logged once too */
    size_t cap = w->batch_max;
    char err[512];
    int spool_backoff = 0;      /* paces retries of a failing spool append (held events) */
    int64_t spool_retry_at = 0; /* monotonic µs */
    size_t pending_at_start = spool_depth(w->spool);
    if (pending_at_start) log_notice(MOD, "%zu spooled event(s) pending from before; writing them", pending_at_start);

    for (;;) {
        pthread_mutex_lock(&w->lock);
        bool quit = must_quit_locked(w);
        w->kick = false; /* whatever was appended before this point is seen by spool_pending below */
        pthread_mutex_unlock(&w->lock);
        if (quit) break;

        /* Held events go back to the spool first (space may have returned), paced while it fails. */
        if (backlog_len(&w->backlog) > 0) {
            if (att_time_expired(spool_retry_at)) {
                size_t moved = 0;
                bool all = backlog_to_spool(w, &moved);
                if (moved) log_notice(MOD, "the spool takes appends again; %zu event(s) held in memory spooled", moved);
                if (all) {
                    atomic_store(&w->spool_writable, true);
                    spool_backoff = 0;
                } else {
                    atomic_store(&w->spool_writable, false);
                    spool_backoff = next_backoff(w, spool_backoff);
                    spool_retry_at = att_time_deadline((int64_t)spool_backoff * 1000);
                }
            }
        }

        size_t n = 0, want = cap;
        att_err rc = spool_pending(w->spool, w->batch, cap, &n, err, sizeof err);
        cap = w->batch_max;
        if (rc != ATT_OK) {
            /* the spool could not be read (I/O error): keep trying, the records are still on disk */
            set_error(w, "%s", err);
            backoff = next_backoff(w, backoff);
            backoff_wait(w, backoff);
            continue;
        }
        /* The spool is written out and the disk is still full: held events go straight to the database. */
        bool direct = false;
        if (n == 0) {
            n = backlog_peek(&w->backlog, w->events, want);
            direct = n > 0;
        } else {
            for (size_t i = 0; i < n; i++) w->events[i] = w->batch[i].ev;
        }
        if (n == 0) {
            pthread_mutex_lock(&w->lock);
            if (w->stop) { /* drained */
                pthread_mutex_unlock(&w->lock);
                break;
            }
            if (!w->kick) {
                struct timespec until = att_time_timespec(att_time_deadline((int64_t)w->idle_check_ms * 1000));
                pthread_cond_timedwait(&w->cv, &w->lock, &until);
            }
            pthread_mutex_unlock(&w->lock);
            continue;
        }

        size_t bad_at = 0;
        const char *what = "connect";
        if (!w->conn) rc = connect_db(w, err, sizeof err);
        if (rc == ATT_OK) {
            what = "write";
            rc = write_batch(w, w->events, n, &bad_at);
            if (rc != ATT_OK && rc != ATT_E_INVALID)
                snprintf(err, sizeof err, "writing %zu event(s) failed: %s%s%s", n, att_err_code(rc),
                         w->conn && PQstatus(w->conn) != CONNECTION_OK ? ": " : "",
                         w->conn && PQstatus(w->conn) != CONNECTION_OK ? "connection lost" : "");
        }
        if (rc == ATT_OK) {
            if (outage) log_notice(MOD, "database writes resumed; %zu event(s) still spooled", spool_depth(w->spool));
            outage = false;
            backoff = 0;
            if (direct) {
                backlog_pop(&w->backlog, n);
                atomic_fetch_add(&w->backlog_direct, n);
                log_info(MOD, "%zu event(s) held in memory written straight to the database (the spool cannot append)",
                         n);
            } else if (ack_through(w, w->batch[n - 1].pos) != ATT_OK) {
                backoff_wait(w, w->backoff_max_ms);
            }
            continue;
        }
        if (rc == ATT_E_INVALID && strcmp(what, "write") == 0) {
            /* One record the database refuses whatever we do. Write the ones before it first (next
             * round); when it is at the head, log it in full and acknowledge it, so it cannot block
             * every later event forever. */
            if (bad_at > 0) {
                cap = bad_at;
                continue;
            }
            atomic_fetch_add(&w->rejected, 1);
            set_error(w, "an event was refused by the database and dropped (see the log)");
            log_rejected(&w->events[0], rc);
            if (direct) backlog_pop(&w->backlog, 1);
            else (void)ack_through(w, w->batch[0].pos);
            continue;
        }
        /* Transient: the database is away, restarting, not migrated, or timed out. Retry the same
         * records, in the same order, after a growing delay. */
        atomic_fetch_add(&w->db_errors, 1);
        set_error(w, "%s", err);
        if (!outage)
            log_warn(MOD, "database %s failed; %zu event(s) stay spooled and are retried: %s", what,
                     spool_depth(w->spool), err);
        else log_debug(MOD, "database %s failed again: %s", what, err);
        outage = true;
        if (rc == ATT_E_DB || rc == ATT_E_SCHEMA || (w->conn && PQstatus(w->conn) != CONNECTION_OK)) disconnect(w);
        backoff = next_backoff(w, backoff);
        backoff_wait(w, backoff);
    }
    disconnect(w);
    atomic_store(&w->running, false);
    return NULL;
}
