/* The event path against a real throwaway PostgreSQL: metrics registry and exposition format, the
 * writer (order, exactly once, outage, crash and SIGKILL replay, refused records, stop deadline),
 * the events store, and GET /api/v1/events and GET /metrics through the real daemon. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/event_writer.h"
#include "attendd/metrics.h"
#include "attendd/migrations.h"
#include "attendd/spool.h"
#include "attendd/store_events.h"
#include "attendd/time.h"
#include "attendd/uuid.h"
#include "src/http/http_internal.h"
#include "src/store/cursor.h"
#include "support.h"
#include "support_store.h"

/* ---- helpers ---------------------------------------------------------------------------------------- */

static void rm_tree(const char *dir)
{
    if (dir[0]) ts_rm_rf(dir);
}

/* Per test: a temp directory holding the spool (tmpdir/spool). */
static char tmpdir[256], spooldir[300];

static void tmp_setup(void)
{
    ts_mkdtemp(tmpdir, sizeof tmpdir, "events");
    snprintf(spooldir, sizeof spooldir, "%s/spool", tmpdir);
}

static void tmp_teardown(void) { rm_tree(tmpdir); }

static spool *spool_ok(void)
{
    spool *s = NULL;
    char err[256] = "";
    ck_assert_msg(spool_open(spooldir, NULL, &s, err, sizeof err) == ATT_OK, "spool_open: %s", err);
    return s;
}

static event_writer *writer_ok(spool *s, const char *conninfo, metrics *m)
{
    event_writer *w = NULL;
    char err[256] = "";
    /* a short backoff cap keeps the outage test quick; the default (2 s) is exercised by the daemon */
    struct event_writer_opts o = {.backoff_max_ms = 500};
    ck_assert_msg(event_writer_new(s, conninfo, &o, m, &w, err, sizeof err) == ATT_OK, "writer: %s", err);
    return w;
}

/* Rows in insertion order (ctid: a fresh heap only ever appends) with strictly increasing ts. */
static bool rows_in_order(PGconn *c)
{
    return ts_q_int(c,
                    "SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY ctid) AS back FROM events) x"
                    " WHERE back") == 0;
}

/* A fresh migrated database with one person and one camera; their ids as bytes. On the outage tcase's
 * private cluster while it is up, else on the run's. */
static att_uuid P1, CAM;

static PGconn *fresh_db(char *conninfo, size_t len)
{
    ck_assert_int_eq(ts_own_pg_ok ? ts_pg_new_db(&ts_own_pg, conninfo, len) : ts_db_new(conninfo, len), 0);
    PGconn *c = ts_db_connect(conninfo, "attendd-test", false);
    char err[512] = "";
    int applied = 0;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "migrate: %s", err);
    ck_assert_msg(db_prepare_all(c, err, sizeof err) == ATT_OK, "prepare: %s", err);
    char id[64];
    ts_q_text(c, "INSERT INTO people (employee_no, name) VALUES ('E-1', 'Ada Lovelace') RETURNING id", id, sizeof id);
    ck_assert(att_uuid_parse(id, &P1));
    ts_q_text(c, "INSERT INTO cameras (name, url) VALUES ('ward 3', 'rtsp://127.0.0.1:1/x') RETURNING id", id,
              sizeof id);
    ck_assert(att_uuid_parse(id, &CAM));
    return c;
}

static struct att_event ev_at(int64_t ts_us, enum event_kind kind)
{
    struct att_event e = {.kind = kind, .ts_us = ts_us, .similarity = 0.62f, .liveness = 0.97f};
    e.person = P1;
    e.camera = CAM;
    return e;
}

static void emit_ok(event_writer *w, int64_t ts_us, att_uuid *id)
{
    char err[256] = "";
    struct att_event e = ev_at(ts_us, EVENT_KIND_IN);
    ck_assert_msg(event_emit(w, &e, id, err, sizeof err) == ATT_OK, "emit: %s", err);
}

/* Wait (polling) until the spool is empty; seconds taken, or -1 at the timeout. */
static double wait_drained(spool *s, double timeout_s)
{
    double t0 = ts_now_s();
    while (ts_now_s() - t0 < timeout_s) {
        if (spool_depth(s) == 0) return ts_now_s() - t0;
        usleep(2000);
    }
    return -1;
}

/* ---- Prometheus text format check --------------------------------------------------------------------- */

/* Every sample line belongs to the family whose # TYPE came last (families are contiguous), each
 * family is declared once with HELP and TYPE, values parse, histogram buckets have increasing le
 * and cumulative counts ending in +Inf == _count. Returns the number of samples. */
static int check_exposition(const char *text)
{
    char fam[256] = "", type[32] = "", declared[8192] = " ";
    char last_series[512] = "";
    bool in_series = false; /* inside one histogram series (its buckets, _sum, _count) */
    double last_le = -INFINITY, last_cum = 0, inf_cum = -1;
    int samples = 0;
    const char *p = text;
    ck_assert_msg(text[0] && text[strlen(text) - 1] == '\n', "exposition must end with a newline");
    while (*p) {
        const char *nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        char line[2048];
        size_t n = (size_t)(nl - p);
        ck_assert_uint_lt(n, sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl + 1;
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[256];
            ck_assert_int_eq(sscanf(line + 7, "%255s", name), 1);
            char key[260];
            snprintf(key, sizeof key, " %s ", name);
            ck_assert_msg(strstr(declared, key) == NULL, "family %s declared twice", name);
            snprintf(fam, sizeof fam, "%s", name);
            type[0] = '\0';
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[256];
            ck_assert_int_eq(sscanf(line + 7, "%255s %31s", name, type), 2);
            ck_assert_msg(strcmp(name, fam) == 0, "TYPE %s without its HELP first", name);
            ck_assert_msg(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "histogram"), "type %s",
                          type);
            size_t dl = strlen(declared);
            snprintf(declared + dl, sizeof declared - dl, "%s ", name);
            in_series = false;
            continue;
        }
        ck_assert_msg(line[0] != '#' && line[0] != '\0', "unexpected line '%s'", line);
        /* name{labels} value */
        char *sp = strrchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        *sp = '\0';
        const char *val = sp + 1;
        char *end;
        double v = strtod(val, &end);
        ck_assert_msg(*end == '\0' || !strcmp(val, "+Inf") || !strcmp(val, "NaN"), "value '%s'", val);
        char *brace = strchr(line, '{');
        char name[256], labels[512] = "";
        if (brace) {
            ck_assert_msg(line[strlen(line) - 1] == '}', "labels of '%s'", line);
            snprintf(name, sizeof name, "%.*s", (int)(brace - line), line);
            snprintf(labels, sizeof labels, "%.*s", (int)(strlen(brace) - 2), brace + 1);
        } else {
            snprintf(name, sizeof name, "%.255s", line);
        }
        ck_assert_msg(fam[0] && type[0], "sample %s before any TYPE", name);
        samples++;
        if (strcmp(type, "histogram") != 0) {
            ck_assert_msg(strcmp(name, fam) == 0, "sample %s outside its family (current %s)", name, fam);
            continue;
        }
        size_t fl = strlen(fam);
        ck_assert_msg(strncmp(name, fam, fl) == 0, "sample %s outside histogram %s", name, fam);
        const char *suffix = name + fl;
        /* the series key: labels without le */
        char base[512];
        snprintf(base, sizeof base, "%s", labels);
        char *le = strstr(base, "le=\"");
        double lev = 0;
        if (le) {
            char *q = strchr(le + 4, '"');
            ck_assert_ptr_nonnull(q);
            *q = '\0';
            lev = !strcmp(le + 4, "+Inf") ? INFINITY : strtod(le + 4, NULL);
            if (le > base && le[-1] == ',') le--;
            *le = '\0';
        }
        if (!strcmp(suffix, "_bucket")) {
            ck_assert_ptr_nonnull(le);
            if (!in_series || strcmp(base, last_series) != 0) { /* a new series: its lowest bucket first */
                in_series = true;
                snprintf(last_series, sizeof last_series, "%s", base);
                last_le = -INFINITY;
                last_cum = 0;
                inf_cum = -1;
            }
            ck_assert_msg(lev > last_le, "le not increasing in %s{%s}", fam, base);
            ck_assert_msg(v >= last_cum, "buckets not cumulative in %s{%s}", fam, base);
            last_le = lev;
            last_cum = v;
            if (isinf(lev)) inf_cum = v;
        } else if (!strcmp(suffix, "_sum")) {
            ck_assert_msg(in_series && strcmp(base, last_series) == 0 && inf_cum >= 0, "_sum before the +Inf bucket");
        } else if (!strcmp(suffix, "_count")) {
            ck_assert_msg(in_series && strcmp(base, last_series) == 0, "_count of another series");
            ck_assert_msg(v == inf_cum, "%s_count %g != +Inf bucket %g", fam, v, inf_cum);
            in_series = false;
        } else {
            ck_abort_msg("histogram sample %s", name);
        }
    }
    return samples;
}

/* ---- metrics registry ----------------------------------------------------------------------------------- */

static double seven(void *ud)
{
    (void)ud;
    return 7;
}

struct hammer {
    metric *c, *g, *h;
};

static void *hammer_thread(void *arg)
{
    struct hammer *hm = arg;
    for (int i = 0; i < 100000; i++) {
        metric_inc(hm->c);
        metric_gauge_add(hm->g, 1);
        metric_observe(hm->h, (i % 100) / 1000.0);
    }
    return NULL;
}

START_TEST(metrics_registry)
{
    metrics *m;
    ck_assert_int_eq(metrics_new(&m), ATT_OK);
    metric *c1, *c2, *g, *h, *h2, *cb, *x;
    const char *cam1[] = {"camera", "5b1c", NULL};
    const char *cam2[] = {"camera", "a\"b\\c\nd", NULL}; /* escaped on output */
    ck_assert_int_eq(metrics_counter(m, "t_frames_total", "Frames in", cam1, &c1), ATT_OK);
    ck_assert_int_eq(metrics_counter(m, "t_frames_total", "Frames in", cam2, &c2), ATT_OK);
    ck_assert_int_eq(metrics_counter(m, "t_frames_total", "Frames in", cam1, &x), ATT_E_CONFLICT);
    ck_assert_int_eq(metrics_gauge(m, "t_frames_total", "Frames in", NULL, &x), ATT_E_INVALID); /* type differs */
    ck_assert_int_eq(metrics_counter(m, "t_frames_total", "Other help", NULL, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_counter(m, "9bad", "x", NULL, &x), ATT_E_INVALID);
    const char *le[] = {"le", "1", NULL}, *dup[] = {"a", "1", "a", "2", NULL}, *odd[] = {"a", NULL};
    ck_assert_int_eq(metrics_counter(m, "t_x_total", "x", le, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_counter(m, "t_x_total", "x", dup, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_counter(m, "t_x_total", "x", odd, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_gauge(m, "t_queue_depth", "Queue depth", cam1, &g), ATT_OK);
    double bounds[] = {0.01, 0.05, 0.1};
    double bad_bounds[] = {0.1, 0.05};
    ck_assert_int_eq(metrics_histogram(m, "t_h_seconds", "x", NULL, bad_bounds, 2, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_histogram(m, "t_latency_seconds", "Stage latency", cam1, bounds, 3, &h), ATT_OK);
    ck_assert_int_eq(metrics_histogram(m, "t_latency_seconds", "Stage latency", cam2, bounds, 2, &x), ATT_E_INVALID);
    ck_assert_int_eq(metrics_histogram(m, "t_latency_seconds", "Stage latency", cam2, bounds, 3, &h2), ATT_OK);
    ck_assert_int_eq(metrics_callback(m, METRIC_GAUGE, "t_seven", "Always seven", NULL, seven, NULL, &cb), ATT_OK);

    metric_add(c1, 41);
    metric_inc(c1);
    metric_set(g, 2.5);
    metric_inc(g);           /* wrong type: ignored */
    metric_inc(NULL);        /* NULL-safe */
    metric_observe(h, 0.01); /* on a bound: counts in that bucket (le is inclusive) */
    metric_observe(h, 0.07);
    metric_observe(h, 3);
    ck_assert_uint_eq(metric_counter_value(c1), 42);
    ck_assert(metric_gauge_value(g) == 2.5);
    ck_assert(metric_gauge_value(cb) == 7);

    char *text;
    size_t len;
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    ck_assert_uint_eq(len, strlen(text));
    ck_assert_int_gt(check_exposition(text), 10);
    ck_assert_ptr_nonnull(strstr(text, "# HELP t_frames_total Frames in\n# TYPE t_frames_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_frames_total{camera=\"5b1c\"} 42\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_frames_total{camera=\"a\\\"b\\\\c\\nd\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_queue_depth{camera=\"5b1c\"} 2.5\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_bucket{camera=\"5b1c\",le=\"0.01\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_bucket{camera=\"5b1c\",le=\"0.05\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_bucket{camera=\"5b1c\",le=\"0.1\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_bucket{camera=\"5b1c\",le=\"+Inf\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_sum{camera=\"5b1c\"} 3.08")); /* 3.08 or 3.0800000000000001 */
    ck_assert_ptr_nonnull(strstr(text, "t_latency_seconds_count{camera=\"5b1c\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, "t_seven 7\n"));
    free(text);

    /* removal: the family goes with its last series */
    metrics_remove(m, c2);
    metrics_remove(m, c1);
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    ck_assert_ptr_null(strstr(text, "t_frames_total"));
    check_exposition(text);
    free(text);
    ck_assert_int_eq(metrics_counter(m, "t_frames_total", "Frames in", cam1, &c1), ATT_OK);

    /* lock-free updates from 4 threads while rendering: exact totals, every rendering well-formed */
    struct hammer hm;
    ck_assert_int_eq(metrics_counter(m, "t_hammer_total", "x", NULL, &hm.c), ATT_OK);
    ck_assert_int_eq(metrics_gauge(m, "t_hammer_gauge", "x", NULL, &hm.g), ATT_OK);
    ck_assert_int_eq(
        metrics_histogram(m, "t_hammer_seconds", "x", NULL, metrics_latency_buckets, metrics_latency_buckets_n, &hm.h),
        ATT_OK);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_thread, &hm), 0);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
        check_exposition(text);
        free(text);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    ck_assert_uint_eq(metric_counter_value(hm.c), 400000);
    ck_assert(metric_gauge_value(hm.g) == 400000);
    uint64_t count;
    double sum;
    metric_histogram_value(hm.h, &count, &sum);
    ck_assert_uint_eq(count, 400000);
    ck_assert(fabs(sum - 4 * 1000 * 4.95) < 1e-3); /* 4 threads x 1000 rounds x sum(0..99)/1000 */
    metrics_free(m);
}
END_TEST

START_TEST(rfc3339_parse)
{
    int64_t us;
    ck_assert(att_time_parse("1970-01-01T00:00:00Z", &us) && us == 0);
    ck_assert(att_time_parse("2024-05-01T07:59:12Z", &us) && us == 1714550352000000LL);
    ck_assert(att_time_parse("2024-05-01T09:59:12.5+02:00", &us) && us == 1714550352500000LL);
    ck_assert(att_time_parse("2024-05-01t07:59:12.123456789z", &us) && us == 1714550352123456LL);
    ck_assert(att_time_parse("2024-02-29T00:00:00-00:30", &us));
    ck_assert(att_time_parse("2016-12-31T23:59:60Z", &us) && us == 1483228800000000LL);
    const char *bad[] = {"",
                         "2024-05-01",
                         "2024-05-01T07:59:12",
                         "2024-05-01 07:59:12Z",
                         "2023-02-29T00:00:00Z",
                         "2024-13-01T00:00:00Z",
                         "2024-04-31T00:00:00Z",
                         "2024-05-01T24:00:00Z",
                         "2024-05-01T07:60:00Z",
                         "2024-05-01T07:59:61Z",
                         "2024-05-01T07:59:12.Z",
                         "2024-05-01T07:59:12.1234567890Z",
                         "2024-05-01T07:59:12+0200",
                         "2024-05-01T07:59:12+24:00",
                         "0000-01-01T00:00:00Z",
                         "2024-05-01T07:59:12Zjunk",
                         "now",
                         "+2024-05-01T07:59:12Z",
                         "2024-05-01T07:59:12 Z",
                         "2024-05-01T07:59:12.5+02:00'; DROP TABLE events;--"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!att_time_parse(bad[i], &us), "accepted '%s'", bad[i]);
}
END_TEST

/* ---- the writer ----------------------------------------------------------------------------------------- */

START_TEST(writer_in_order_exactly_once)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    metrics *m;
    ck_assert_int_eq(metrics_new(&m), ATT_OK);
    spool *s = spool_ok();
    event_writer *w = writer_ok(s, ci, m);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);

    /* latency of single events into an idle writer: emit, then poll until the row is there */
    double worst = 0, total = 0;
    int64_t base = ts_wall_us() - 3600LL * 1000000;
    for (int i = 0; i < 10; i++) {
        att_uuid id;
        double t0 = ts_now_s();
        emit_ok(w, base + i, &id);
        struct event_writer_stats st;
        do {
            event_writer_get_stats(w, &st);
            usleep(200);
        } while (st.written < (uint64_t)i + 1 && ts_now_s() - t0 < 10);
        double dt = ts_now_s() - t0;
        ck_assert_msg(st.written == (uint64_t)i + 1, "event %d not written within 10 s", i);
        if (dt > worst) worst = dt;
        total += dt;
        usleep(20000); /* idle again: the writer waits on its condition variable */
    }
    fprintf(stderr, "events: emit-to-commit latency, idle writer: mean %.1f ms, worst %.1f ms (10 events)\n",
            total / 10 * 1e3, worst * 1e3);
    ck_assert_msg(worst < 2.0, "an event took %.2f s to reach the database", worst);

    /* a burst from 4 "cameras" at once: all, once each, in spool order */
    enum { N = 400 };
    double t0 = ts_now_s();
    for (int i = 0; i < N; i++) emit_ok(w, base + 1000 + i, NULL);
    double drained = wait_drained(s, 60);
    ck_assert_msg(drained >= 0, "spool not drained within 60 s");
    fprintf(stderr, "events: burst of %d: spooled and written in %.2f s\n", N, ts_now_s() - t0);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events"), N + 10);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(DISTINCT id) FROM events"), N + 10);
    ck_assert(rows_in_order(c));
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.emitted, N + 10);
    ck_assert_uint_eq(st.written, N + 10);
    ck_assert_uint_eq(st.duplicates, 0);
    ck_assert_uint_eq(st.db_errors, 0);
    ck_assert(st.connected && st.running);

    /* stored values: person, camera, kind, exact µs ts, the float values */
    char buf[256], sql[400];
    snprintf(sql, sizeof sql,
             "SELECT person_id::text || ' ' || camera_id::text || ' ' || kind || ' ' || source || ' ' ||"
             " similarity || ' ' || liveness || ' ' || (extract(epoch FROM ts) * 1000000)::bigint"
             " FROM events ORDER BY ts LIMIT 1");
    ts_q_text(c, sql, buf, sizeof buf);
    char p1[ATT_UUID_STR], cam[ATT_UUID_STR], want[256];
    att_uuid_format(&P1, p1);
    att_uuid_format(&CAM, cam);
    snprintf(want, sizeof want, "%s %s in camera 0.62 0.97 %" PRId64, p1, cam, base);
    ck_assert_str_eq(buf, want);

    /* the metrics the writer registered */
    char *text;
    size_t len;
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    check_exposition(text);
    snprintf(want, sizeof want, "attendd_events_written_total %d\n", N + 10);
    ck_assert_ptr_nonnull(strstr(text, want));
    ck_assert_ptr_nonnull(strstr(text, "attendd_spool_depth 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "attendd_event_writer_connected 1\n"));
    snprintf(want, sizeof want, "attendd_event_spool_seconds_count %d\n", N + 10);
    ck_assert_ptr_nonnull(strstr(text, want));
    free(text);

    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    /* the writer took its series away again */
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    ck_assert_ptr_null(strstr(text, "attendd_events_written_total"));
    free(text);
    metrics_free(m);
    spool_close(s);
    PQfinish(c);
}
END_TEST

/* Commit done, acknowledgement lost (a crash in between): the replay inserts nothing twice. */
START_TEST(replay_after_crash_is_idempotent)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    spool *s = spool_ok();
    event_writer *w = writer_ok(s, ci, NULL); /* never started: events only reach the spool */
    enum { N = 60 };
    int64_t base = ts_wall_us() - 7200LL * 1000000;
    for (int i = 0; i < N; i++) emit_ok(w, base + i * 1000, NULL);
    ck_assert_uint_eq(spool_depth(s), N);
    /* the first half made it to the database before the "crash", unacknowledged */
    struct spool_record *recs = calloc(N, sizeof *recs);
    size_t n = 0;
    char err[256];
    ck_assert_int_eq(spool_pending(s, recs, N, &n, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(n, N);
    for (int i = 0; i < N / 2; i++) {
        struct store_event_result res;
        ck_assert_int_eq(store_event_insert(c, &recs[i].ev, &res), ATT_OK);
        ck_assert(res.inserted && !res.person_missing && !res.camera_missing);
    }
    struct store_event_result res;
    ck_assert_int_eq(store_event_insert(c, &recs[0].ev, &res), ATT_OK); /* again: reported as not new */
    ck_assert(!res.inserted);
    free(recs);
    event_writer_free(w);
    spool_close(s);

    /* "restart": reopen the spool, start a writer: it replays everything */
    s = spool_ok();
    ck_assert_uint_eq(spool_depth(s), N);
    w = writer_ok(s, ci, NULL);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    ck_assert_msg(wait_drained(s, 60) >= 0, "replay not done within 60 s");
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.written, N / 2);
    ck_assert_uint_eq(st.duplicates, N / 2);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events"), N);
    ck_assert(rows_in_order(c));
    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    spool_close(s);
    PQfinish(c);
}
END_TEST

/* A process emitting (and writing) events is SIGKILLed at a random moment; every event whose
 * event_emit returned is in the database exactly once after the restart. */
START_TEST(sigkill_then_restart)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int64_t base = ts_wall_us() - 3 * 3600LL * 1000000;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        spool *s = NULL;
        event_writer *w = NULL;
        char err[256];
        struct event_writer_opts o = {.batch_max = 8};
        if (spool_open(spooldir, NULL, &s, err, sizeof err) != ATT_OK ||
            event_writer_new(s, ci, &o, NULL, &w, err, sizeof err) != ATT_OK || event_writer_start(w) != ATT_OK)
            _exit(3);
        for (int i = 0;; i++) {
            struct att_event e = ev_at(base + i * 1000, EVENT_KIND_OUT);
            att_uuid id;
            if (event_emit(w, &e, &id, err, sizeof err) != ATT_OK) _exit(4);
            if (write(fds[1], id.b, sizeof id.b) != (ssize_t)sizeof id.b) _exit(5); /* only after it is durable */
            if (i % 16 == 0) usleep(1000);
        }
    }
    close(fds[1]);
    /* let it run a little (some events written, some in flight), then kill it without warning */
    enum { MAX = 4096 };
    att_uuid *ids = calloc(MAX, sizeof *ids);
    size_t got = 0;
    double t0 = ts_now_s();
    while (got < 300 && ts_now_s() - t0 < 60) {
        ssize_t r = read(fds[0], ids[got].b, 16);
        ck_assert_int_eq(r, 16);
        got++;
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st));
    /* ids reported before the kill landed are durable too */
    ssize_t r;
    while (got < MAX && (r = read(fds[0], ids[got].b, 16)) == 16) got++;
    close(fds[0]);
    long long before = ts_q_int(c, "SELECT count(*) FROM events");

    spool *s = spool_ok();
    size_t pending = spool_depth(s);
    fprintf(stderr, "events: SIGKILL after %zu durable emits: %lld already in the database, %zu spooled\n", got, before,
            pending);
    event_writer *w = writer_ok(s, ci, NULL);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    ck_assert_msg(wait_drained(s, 60) >= 0, "replay not done within 60 s");
    struct event_writer_stats wst;
    event_writer_get_stats(w, &wst);
    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    spool_close(s);

    /* all reported ids exactly once; at most one more row (appended, killed before it was reported) */
    long long rows = ts_q_int(c, "SELECT count(*) FROM events");
    ck_assert_int_eq(ts_q_int(c, "SELECT count(DISTINCT id) FROM events"), rows);
    ck_assert_msg(rows >= (long long)got && rows <= (long long)got + 1, "rows %lld, reported %zu", rows, got);
    for (size_t i = 0; i < got; i++) {
        char id[ATT_UUID_STR], sql[128];
        att_uuid_format(&ids[i], id);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE id = '%s'", id);
        ck_assert_int_eq(ts_q_int(c, sql), 1);
    }
    ck_assert(rows_in_order(c));
    ck_assert_uint_eq(wst.written + wst.duplicates, pending); /* each spooled record: new or a replay */
    ck_assert_uint_eq(wst.rejected, 0);
    free(ids);
    PQfinish(c);
}
END_TEST

/* The database refuses a record whatever we do (here: a "manual" source without a reason): it is
 * logged and dropped so it cannot block the events after it. A deleted camera does not block either. */
START_TEST(refused_record_does_not_block)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    spool *s = spool_ok();
    event_writer *w = writer_ok(s, ci, NULL);
    int64_t base = ts_wall_us() - 3600LL * 1000000;
    emit_ok(w, base, NULL);
    struct att_event bad = {.kind = EVENT_KIND_IN, .ts_us = base + 1, .similarity = 0.5f, .liveness = 0.9f};
    bad.person = P1;
    bad.camera = CAM;
    bad.id.b[0] = 0x42;
    bad.id.b[6] = 0x40;
    bad.id.b[8] = 0x80;
    snprintf(bad.source, sizeof bad.source, "manual");
    char err[256];
    ck_assert_int_eq(spool_append(s, &bad, NULL, err, sizeof err), ATT_OK);
    emit_ok(w, base + 2, NULL);
    struct att_event gone = ev_at(base + 3, EVENT_KIND_OUT);
    gone.camera.b[0] ^= 0xff; /* no such camera */
    ck_assert_int_eq(event_emit(w, &gone, NULL, err, sizeof err), ATT_OK);
    emit_ok(w, base + 4, NULL);

    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    ck_assert_msg(wait_drained(s, 60) >= 0, "not drained");
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.written, 4);
    ck_assert_uint_eq(st.rejected, 1);
    ck_assert_uint_eq(st.unlinked, 1);
    ck_assert_ptr_nonnull(strstr(st.last_error, "refused"));
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events"), 4);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events WHERE camera_id IS NULL"), 1);
    ck_assert(rows_in_order(c));
    event_writer_free(w);
    spool_close(s);
    PQfinish(c);
}
END_TEST

START_TEST(emit_refuses_bad_values)
{
    spool *s = spool_ok();
    event_writer *w = writer_ok(s, "host=/nonexistent dbname=x", NULL);
    char err[256];
    struct att_event e = ev_at(ts_wall_us(), EVENT_KIND_IN);
    struct att_event bad[5] = {e, e, e, e, e};
    bad[0].similarity = NAN;
    bad[1].liveness = 1.5f;
    bad[2].kind = EVENT_KIND_NONE;
    bad[3].ts_us = 0;
    bad[4].similarity = -1.01f;
    for (int i = 0; i < 5; i++) {
        err[0] = '\0';
        ck_assert_int_eq(event_emit(w, &bad[i], NULL, err, sizeof err), ATT_E_INVALID);
        ck_assert_ptr_nonnull(strstr(err, "refused"));
    }
    ck_assert_uint_eq(spool_depth(s), 0);
    att_uuid id1, id2;
    ck_assert_int_eq(event_emit(w, &e, &id1, err, sizeof err), ATT_OK);
    ck_assert_int_eq(event_emit(w, &e, &id2, err, sizeof err), ATT_OK);
    ck_assert(memcmp(id1.b, id2.b, 16) != 0);
    ck_assert_int_eq(id1.b[6] >> 4, 4); /* version 4 uuid */
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.emit_errors, 5);
    ck_assert_uint_eq(st.emitted, 2);
    ck_assert(!st.running);
    event_writer_free(w);
    spool_close(s);
}
END_TEST

/* A stop with the database away gives up at its deadline; the events stay spooled. */
START_TEST(stop_deadline_with_database_away)
{
    spool *s = spool_ok();
    char ci[512];
    snprintf(ci, sizeof ci, "host=%s/nosock port=5432 user=attendd dbname=none connect_timeout=2", tmpdir);
    event_writer *w = writer_ok(s, ci, NULL);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    for (int i = 0; i < 3; i++) emit_ok(w, ts_wall_us() - 1000 + i, NULL);
    usleep(300000);
    double t0 = ts_now_s();
    ck_assert_int_eq(event_writer_stop(w, 700), ATT_E_UNAVAILABLE);
    double took = ts_now_s() - t0;
    ck_assert_msg(took < 5, "stop took %.2f s", took);
    ck_assert_uint_eq(spool_depth(s), 3);
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_gt(st.db_errors, 0);
    ck_assert(!st.connected && !st.running);
    ck_assert_str_ne(st.last_error, "");
    ck_assert_int_eq(event_writer_stop(w, 0), ATT_E_UNAVAILABLE); /* idempotent */
    event_writer_free(w);
    spool_close(s);
}
END_TEST

/* Stop PostgreSQL, emit, start it again: everything arrives, in order, once. */
START_TEST(database_outage)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    PQfinish(c);
    metrics *m;
    ck_assert_int_eq(metrics_new(&m), ATT_OK);
    spool *s = spool_ok();
    event_writer *w = NULL;
    char err[256];
    /* default options: the backoff cap (2 s) bounds how long after its return the database waits */
    ck_assert_int_eq(event_writer_new(s, ci, NULL, m, &w, err, sizeof err), ATT_OK);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    int64_t base = ts_wall_us() - 3600LL * 1000000;
    for (int i = 0; i < 20; i++) emit_ok(w, base + i, NULL);
    ck_assert_msg(wait_drained(s, 30) >= 0, "not drained before the outage");

    ts_pg_cluster(&ts_own_pg, "stop");
    for (int i = 20; i < 70; i++) {
        emit_ok(w, base + i, NULL);
        if (i % 10 == 0) usleep(100000);
    }
    sleep(2);
    struct event_writer_stats st;
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.spool_depth, 50);
    ck_assert_uint_eq(st.written, 20);
    ck_assert_uint_gt(st.db_errors, 0);
    ck_assert(!st.connected);
    char *text;
    size_t len;
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    ck_assert_ptr_nonnull(strstr(text, "attendd_spool_depth 50\n"));
    ck_assert_ptr_nonnull(strstr(text, "attendd_event_writer_connected 0\n"));
    ck_assert_ptr_null(strstr(text, "attendd_event_db_errors_total 0\n"));
    free(text);

    double t0 = ts_now_s();
    ts_pg_cluster(&ts_own_pg, "start");
    double started = ts_now_s() - t0;
    double drained = wait_drained(s, 60);
    ck_assert_msg(drained >= 0, "spool not drained within 60 s of the database's return");
    fprintf(stderr,
            "events: outage: 50 events spooled; cluster start took %.2f s, all written %.2f s after it "
            "returned\n",
            started, drained);
    ck_assert_msg(drained < 2.0 + DB_CONNECT_TIMEOUT_S + 5, "recovery took %.2f s", drained); /* loose: slow CI */
    c = ts_db_connect(ci, "attendd-test", false);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events"), 70);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(DISTINCT id) FROM events"), 70);
    ck_assert(rows_in_order(c));
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.written, 70);
    ck_assert_uint_eq(st.duplicates, 0);
    ck_assert(st.connected);
    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    metrics_free(m);
    spool_close(s);
    PQfinish(c);
}
END_TEST

/* ---- the store: listing and the rules seed ------------------------------------------------------------------ */

struct seen {
    int n;
    char last_kind[4];
    int64_t last_ts;
};

static att_err seed_cb(void *ud, const att_uuid *person, enum event_kind kind, int64_t ts_us)
{
    struct seen *s = ud;
    ck_assert(memcmp(person->b, P1.b, 16) == 0);
    s->n++;
    snprintf(s->last_kind, sizeof s->last_kind, "%s", event_kind_name(kind));
    s->last_ts = ts_us;
    return ATT_OK;
}

/* The events route refuses this query with a 400 bad_parameter naming param. */
static void expect_query_refused(const struct http_query_arg *args, size_t n, const char *param)
{
    struct http_request req = {.query = args, .nquery = n};
    struct http_response resp = {0};
    struct events_query q;
    ck_assert_int_eq(http_events_query(&req, &resp, &q), ATT_E_BAD_PARAM);
    ck_assert_uint_eq(resp.status, 400);
    json_t *p = json_loads(resp.body, 0, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(json_string_value(json_object_get(p, "field")), param);
    json_decref(p);
    http_response_clear(&resp);
}

START_TEST(store_last_per_person_and_list_checks)
{
    char ci[600];
    PGconn *c = fresh_db(ci, sizeof ci);
    char p1[ATT_UUID_STR], sql[512];
    att_uuid_format(&P1, p1);
    /* in at 08:00, out at 16:00 (voided), in at 20:00 on 2024-05-01; another person earlier */
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source, reason, created_by, voided_at) VALUES"
             " (gen_random_uuid(), '%s', 'in', '2024-05-01T08:00:00Z', 'manual', 'r', 'u', NULL),"
             " (gen_random_uuid(), '%s', 'out', '2024-05-01T21:00:00Z', 'manual', 'r', 'u', now()),"
             " (gen_random_uuid(), '%s', 'in', '2024-05-01T20:00:00.000001Z', 'manual', 'r', 'u', NULL)",
             p1, p1, p1);
    ts_q_exec(c, sql);
    struct seen sn = {0};
    ck_assert_int_eq(store_events_last_per_person(c, 0, seed_cb, &sn), ATT_OK);
    ck_assert_int_eq(sn.n, 1);
    ck_assert_str_eq(sn.last_kind, "in");
    ck_assert_int_eq(sn.last_ts, 1714593600000001LL);
    sn = (struct seen){0};
    ck_assert_int_eq(store_events_last_per_person(c, 1714593600000002LL, seed_cb, &sn), ATT_OK);
    ck_assert_int_eq(sn.n, 0);

    /* listing: the route's filters are checked before any SQL, each failure naming its parameter */
    static const struct {
        struct http_query_arg args[2];
        size_t n;
        const char *param;
    } bad[] = {
        {{{"since", "yesterday"}}, 1, "since"},
        {{{"until", "2024-05-01T25:00:00Z"}}, 1, "until"},
        {{{"since", "2024-05-02T00:00:00Z"}, {"until", "2024-05-01T00:00:00Z"}}, 2, "until"},
        {{{"person_id", "not-a-uuid"}}, 1, "person_id"},
        {{{"camera_id", "5b1c"}}, 1, "camera_id"},
        {{{"limit", "0"}}, 1, "limit"},
        {{{"limit", "501"}}, 1, "limit"},
        {{{"cursor", "AAAA"}}, 1, "cursor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_query_refused(bad[i].args, bad[i].n, bad[i].param);
    /* a people cursor is not an events cursor */
    char pc[CURSOR_TEXT_MAX];
    ck_assert(cursor_encode(CURSOR_PEOPLE, 0, P1.b, 16, pc, sizeof pc));
    struct http_query_arg people_cursor = {"cursor", pc};
    expect_query_refused(&people_cursor, 1, "cursor");
    /* since == until is an empty window, not an error; the voided event is not listed */
    struct event_filter f = {.has_since = true, .has_until = true, .limit = 10};
    ck_assert(att_time_parse("2024-05-01T08:00:00Z", &f.since_us));
    f.until_us = f.since_us;
    struct event_row *rows;
    size_t n;
    struct event_pos next;
    bool more = true;
    ck_assert_int_eq(store_events_list(c, &f, &rows, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 0);
    free(rows);
    f = (struct event_filter){.limit = 10};
    ck_assert_int_eq(store_events_list(c, &f, &rows, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(rows[0].ts, "2024-05-01T20:00:00.000001Z");
    ck_assert_str_eq(rows[0].source, "manual");
    ck_assert(isnan(rows[0].similarity) && rows[0].camera_id == NULL);
    ck_assert_str_eq(rows[0].name, "Ada Lovelace");
    ck_assert(!more); /* the last page: no next cursor */
    free(rows);
    PQfinish(c);
}
END_TEST

/* ---- through the daemon ---------------------------------------------------------------------------------- */

static struct ts_daemon D;
static char d_conninfo[600], d_state[256];
static char persons[3][ATT_UUID_STR], cams[2][ATT_UUID_STR];

static char *url(const char *pq) { return ts_url(&D, pq); }

static json_t *get_json(const char *pq, const char *token, long want_status)
{
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url(pq), token, NULL, 0, NULL, &r), 0);
    ck_assert_msg(r.status == want_status, "GET %s: status %ld, want %ld: %s", pq, r.status, want_status, r.body);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    ck_assert_msg(j != NULL, "GET %s: not JSON: %s", pq, r.body);
    ts_resp_free(&r);
    return j;
}

static void expect_bad_param(const char *pq, const char *field)
{
    json_t *j = get_json(pq, D.hr_token, 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
    ck_assert_msg(json_is_string(json_object_get(j, "field")) &&
                      !strcmp(json_string_value(json_object_get(j, "field")), field),
                  "GET %s: field %s expected", pq, field);
    json_decref(j);
}

/* A fresh database and a state_dir outside the daemon's temp dir, so restarts share the spool. */
static void api_setup(void)
{
    ck_assert_int_eq(ts_db_new(d_conninfo, sizeof d_conninfo), 0);
    snprintf(d_state, sizeof d_state, "/tmp/attendd-evstate-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d_state));
}

static void api_teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    rm_tree(d_state);
    ts_db_drop(d_conninfo);
}

static void start_daemon(void)
{
    char extra[400];
    snprintf(extra, sizeof extra, "state_dir = %s/state", d_state);
    memset(&D, 0, sizeof D);
    ck_assert_int_eq(ts_daemon_start(&D, d_conninfo, extra), 0);
}

/* Emit n events into the daemon's spool while it is not running. */
static void spool_offline(int n, int64_t base_us, att_uuid *ids)
{
    char dir[400], err[256];
    snprintf(dir, sizeof dir, "%s/state", d_state);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/state/spool", d_state);
    spool *s = NULL;
    ck_assert_msg(spool_open(dir, NULL, &s, err, sizeof err) == ATT_OK, "%s", err);
    event_writer *w = writer_ok(s, d_conninfo, NULL);
    for (int i = 0; i < n; i++) emit_ok(w, base_us + i, ids ? &ids[i] : NULL);
    event_writer_free(w);
    spool_close(s);
}

static void wait_rows(PGconn *c, long long want)
{
    double t0 = ts_now_s();
    long long got = -1;
    while (ts_now_s() - t0 < 30 && (got = ts_q_int(c, "SELECT count(*) FROM events")) != want) usleep(20000);
    ck_assert_msg(got == want, "events rows %lld, want %lld", got, want);
}

START_TEST(api_events_and_metrics)
{
    /* a first start migrates the schema; the roster goes in by SQL (the people API is elsewhere) */
    start_daemon();
    PGconn *c = ts_db_connect(d_conninfo, "attendd-test", false);
    const char *names[3] = {"Grace Hopper", "Alan Turing", "Erased Person"};
    for (int i = 0; i < 3; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO people (employee_no, name) VALUES ('N-%d', '%s') RETURNING id", i,
                 names[i]);
        ts_q_text(c, sql, persons[i], sizeof persons[i]);
    }
    for (int i = 0; i < 2; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO cameras (name, url) VALUES ('cam %d', 'rtsp://127.0.0.1:1/c%d') RETURNING id", i, i);
        ts_q_text(c, sql, cams[i], sizeof cams[i]);
    }
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 30), 0);

    /* events left in the spool by an earlier run (persons[0], cams[0]) are written at start-up */
    ck_assert(att_uuid_parse(persons[0], &P1) && att_uuid_parse(cams[0], &CAM));
    att_uuid early[5];
    spool_offline(5, 1714550400000000LL /* 2024-05-01T08:00:00Z */, early);
    start_daemon();
    wait_rows(c, 5);

    /* 250 events: person i%3, camera i%2, one a minute from 2024-05-02T00:00:00Z; one voided */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source)"
             " SELECT gen_random_uuid(), (ARRAY['%s','%s','%s']::uuid[])[1 + i %% 3],"
             " (ARRAY['%s','%s']::uuid[])[1 + i %% 2], CASE WHEN i %% 2 = 0 THEN 'in' ELSE 'out' END::event_kind,"
             " '2024-05-02T00:00:00Z'::timestamptz + i * interval '1 minute', 0.5, 0.9, 'camera'"
             " FROM generate_series(0, 249) i",
             persons[0], persons[1], persons[2], cams[0], cams[1]);
    ts_q_exec(c, sql);
    ts_q_exec(c, "UPDATE events SET voided_at = now() WHERE ts = '2024-05-02T00:10:00Z'");
    snprintf(sql, sizeof sql,
             "UPDATE people SET employee_no = NULL, name = NULL, title = NULL, active = false, erased_at = now()"
             " WHERE id = '%s'",
             persons[2]);
    ts_q_exec(c, sql);

    /* auth: no token, a bad token → 401 (every valid role may read, so there is no 403 here) */
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url("/api/v1/events"), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ck_assert_int_eq(
        ts_http("GET", url("/api/v1/events"), "att_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ck_assert_int_eq(ts_http("POST", url("/api/v1/events"), D.admin_token, "{}", 2, "application/json", &r), 0);
    ck_assert_int_eq(r.status, 405);
    ts_resp_free(&r);

    /* all pages, admin token: 254 listed (250 + 5 - 1 voided), newest first, no repeats */
    char pq[512], next[128] = "";
    int total = 0, pages = 0;
    char prev_ts[64] = "9999", prev_id[64] = "";
    do {
        snprintf(pq, sizeof pq, "/api/v1/events?limit=100%s%s", next[0] ? "&cursor=" : "", next);
        json_t *j = get_json(pq, D.admin_token, 200);
        json_t *items = json_object_get(j, "items");
        pages++;
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *e = json_array_get(items, i);
            const char *ts = json_string_value(json_object_get(e, "ts"));
            const char *id = json_string_value(json_object_get(e, "id"));
            int cmp = strcmp(ts, prev_ts);
            ck_assert_msg(cmp < 0 || (cmp == 0 && strcmp(id, prev_id) < 0), "order at %s", ts);
            snprintf(prev_ts, sizeof prev_ts, "%s", ts);
            snprintf(prev_id, sizeof prev_id, "%s", id);
            ck_assert_int_eq(json_object_size(e), 10);
            ck_assert_str_ne(ts, "2024-05-02T00:10:00.000000Z");
            total++;
        }
        json_t *nc = json_object_get(j, "next_cursor");
        if (json_is_string(nc)) snprintf(next, sizeof next, "%s", json_string_value(nc));
        else next[0] = '\0';
        json_decref(j);
    } while (next[0] && pages < 10);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(total, 254);

    /* one item in full: the newest, persons[249 % 3 = 0], cams[1], out */
    json_t *j = get_json("/api/v1/events?limit=1", D.hr_token, 200);
    json_t *e = json_array_get(json_object_get(j, "items"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "person_id")), persons[0]);
    ck_assert_str_eq(json_string_value(json_object_get(e, "employee_no")), "N-0");
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "Grace Hopper");
    ck_assert_str_eq(json_string_value(json_object_get(e, "camera_id")), cams[1]);
    ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "out");
    ck_assert_str_eq(json_string_value(json_object_get(e, "ts")), "2024-05-02T04:09:00.000000Z");
    ck_assert(json_real_value(json_object_get(e, "similarity")) == 0.5);
    ck_assert(json_real_value(json_object_get(e, "liveness")) == 0.9);
    ck_assert_str_eq(json_string_value(json_object_get(e, "source")), "camera");
    ck_assert(json_is_string(json_object_get(j, "next_cursor")));
    json_decref(j);

    /* the replayed spool events: ours, with the ids event_emit gave them */
    j = get_json("/api/v1/events?until=2024-05-02T00:00:00Z", D.hr_token, 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_int_eq(json_array_size(items), 5);
    char id0[ATT_UUID_STR];
    att_uuid_format(&early[4], id0);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "id")), id0);
    ck_assert(fabs(json_real_value(json_object_get(json_array_get(items, 0), "similarity")) - 0.62) < 1e-6);
    ck_assert(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);

    /* filters: the erased person's events are listed de-identified */
    snprintf(pq, sizeof pq, "/api/v1/events?person_id=%s&limit=500", persons[2]);
    j = get_json(pq, D.hr_token, 200);
    items = json_object_get(j, "items");
    ck_assert_int_eq(json_array_size(items), 83); /* i % 3 == 2 for i < 250 */
    for (size_t i = 0; i < json_array_size(items); i++) {
        e = json_array_get(items, i);
        ck_assert(json_is_null(json_object_get(e, "employee_no")) && json_is_null(json_object_get(e, "name")));
        ck_assert_str_eq(json_string_value(json_object_get(e, "person_id")), persons[2]);
    }
    json_decref(j);
    snprintf(pq, sizeof pq, "/api/v1/events?camera_id=%s&person_id=%s&limit=500", cams[0], persons[1]);
    j = get_json(pq, D.hr_token, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 40); /* i ≡ 4 (mod 6), i < 250, not i = 10 */
    json_decref(j);
    /* since inclusive, until exclusive, offsets understood: 00:05 .. 00:15 UTC minus the voided one */
    j = get_json("/api/v1/events?since=2024-05-02T02:05:00%2B02:00&until=2024-05-02T00:15:00Z", D.hr_token, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 9);
    json_decref(j);

    /* bad parameters: 400 naming each */
    expect_bad_param("/api/v1/events?since=yesterday", "since");
    expect_bad_param("/api/v1/events?since=2024-05-02", "since");
    expect_bad_param("/api/v1/events?until=2024-02-30T00:00:00Z", "until");
    expect_bad_param("/api/v1/events?since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z", "until");
    expect_bad_param("/api/v1/events?person_id=42", "person_id");
    expect_bad_param("/api/v1/events?camera_id=%27%3B--", "camera_id");
    expect_bad_param("/api/v1/events?limit=0", "limit");
    expect_bad_param("/api/v1/events?limit=501", "limit");
    expect_bad_param("/api/v1/events?limit=ten", "limit");
    expect_bad_param("/api/v1/events?cursor=bm90LWEtY3Vyc29y", "cursor");
    expect_bad_param("/api/v1/events?person=abc", "person");

    /* audit: every successful read, ids and counts only, never a name */
    ck_assert_int_ge(ts_q_int(c, "SELECT count(*) FROM audit_log WHERE action = 'event.list' AND outcome = 'ok'"), 8);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'event.list' AND target_type = 'person'"
             " AND target_id = '%s' AND (detail->>'count')::int = 83",
             persons[2]);
    ck_assert_int_eq(ts_q_int(c, sql), 1);
    ck_assert_int_eq(ts_q_int(c,
                              "SELECT count(*) FROM audit_log WHERE action = 'event.list' AND (detail::text LIKE "
                              "'%Grace%' OR detail::text LIKE '%Turing%' OR detail::text LIKE '%N-0%')"),
                     0);

    /* /metrics: a token is needed; the text is well-formed and shows the writer */
    ck_assert_int_eq(ts_http("GET", url("/metrics"), NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ck_assert_int_eq(ts_http("GET", url("/metrics"), D.hr_token, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_int_gt(check_exposition(r.body), 20);
    ck_assert_ptr_nonnull(strstr(r.body, "\nattendd_events_written_total 5\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nattendd_spool_depth 0\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nattendd_event_writer_connected 1\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "attendd_build_info{version=\""));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE attendd_event_capture_to_db_seconds histogram\n"));
    ts_resp_free(&r);

    /* SIGKILL, then more events spooled while it is down: the restart writes them, once */
    ck_assert_int_eq(ts_daemon_stop(&D, SIGKILL, 10), 128 + SIGKILL);
    spool_offline(7, 1714636800000000LL - 3600LL * 1000000, NULL); /* 2024-05-01T23:00:00Z.. */
    start_daemon();
    wait_rows(c, 255 + 7);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(DISTINCT id) FROM events"), 255 + 7);
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 30), 0);
    PQfinish(c);
}
END_TEST

/* The daemon refuses to start with an unusable state_dir, saying why. */
START_TEST(daemon_state_dir_unusable)
{
    char extra[400], path[300];
    snprintf(path, sizeof path, "%s/not-a-dir", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(extra, sizeof extra, "state_dir = %s", path);
    struct ts_daemon d = {.no_tokens = 1};
    char ci[600];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    ck_assert_int_ne(ts_daemon_start(&d, ci, extra), 0); /* exits before serving; its log is printed */
}
END_TEST

Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *unit = ts_tcase(s, "unit", 120, NULL, NULL, metrics_registry, rfc3339_parse, emit_refuses_bad_values,
                           stop_deadline_with_database_away, NULL);
    tcase_add_checked_fixture(unit, tmp_setup, tmp_teardown);
    TCase *db = ts_tcase(s, "writer", 300, NULL, NULL, writer_in_order_exactly_once, replay_after_crash_is_idempotent,
                         sigkill_then_restart, refused_record_does_not_block, store_last_per_person_and_list_checks,
                         daemon_state_dir_unusable, NULL);
    tcase_add_checked_fixture(db, tmp_setup, tmp_teardown);
    /* a private cluster, not the run's: the case stops and starts it */
    TCase *outage = ts_tcase(s, "outage", 300, ts_own_pg_up, ts_own_pg_down, database_outage, NULL);
    tcase_add_checked_fixture(outage, tmp_setup, tmp_teardown);
    ts_tcase(s, "api", 300, api_setup, api_teardown, api_events_and_metrics, NULL);
    return s;
}
