/* Fault tests of the event path: PostgreSQL restarted under load (events, API readers,
 * manual punches), the spool on a really full file system, corrupt spool records next to good ones,
 * SIGTERM with events in flight. Each checks that no event is lost or stored twice. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/event_writer.h"
#include "attendd/metrics.h"
#include "attendd/migrations.h"
#include "attendd/spool.h"
#include "attendd/store_events.h"
#include "attendd/uuid.h"
#include "src/store/cursor.h"
#include "support.h"
#include "support_store.h"

/* ---- helpers ---------------------------------------------------------------------------------------- */

static char tmpdir[256], spooldir[300];
static void tmp_setup(void)
{
    ts_mkdtemp(tmpdir, sizeof tmpdir, "faults");
    snprintf(spooldir, sizeof spooldir, "%s/spool", tmpdir);
}

static void tmp_teardown(void)
{
    umount2(tmpdir, MNT_DETACH); /* only the disk-full test mounts; harmless otherwise */
    ts_rm_rf(tmpdir);
    char log[300];
    snprintf(log, sizeof log, "%s.log", tmpdir);
    unlink(log);
    /* a test that failed while the cluster was stopped must not fail the next ones */
    if (ts_own_pg_ok && ts_pg_ctl(&ts_own_pg, "start") != 0)
        fprintf(stderr, "faults: could not restart the test cluster\n");
}

/* The person and camera every event names. */
static att_uuid P1, CAM;

static void add_roster(PGconn *c)
{
    char id[64];
    ts_q_text(c, "INSERT INTO people (employee_no, name) VALUES ('F-1', 'Fault Tester') RETURNING id", id, sizeof id);
    ck_assert(att_uuid_parse(id, &P1));
    ts_q_text(c, "INSERT INTO cameras (name, url) VALUES ('ward 9', 'rtsp://127.0.0.1:1/x') RETURNING id", id,
              sizeof id);
    ck_assert(att_uuid_parse(id, &CAM));
}

/* A fresh migrated database with the roster; its conninfo in conninfo. */
static PGconn *fresh_db(char *conninfo, size_t len)
{
    ck_assert_msg(ts_own_pg_ok, "test PostgreSQL cluster did not start");
    ck_assert_int_eq(ts_pg_new_db(&ts_own_pg, conninfo, len), 0);
    PGconn *c = ts_db_connect(conninfo, "attendd-faults", false);
    char err[512] = "";
    int applied = 0;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "migrate: %s", err);
    add_roster(c);
    return c;
}

static struct att_event ev_at(int64_t ts_us)
{
    struct att_event e = {.kind = EVENT_KIND_IN, .ts_us = ts_us, .similarity = 0.62f, .liveness = 0.97f};
    e.person = P1;
    e.camera = CAM;
    return e;
}

static spool *spool_ok(void)
{
    spool *s = NULL;
    char err[256] = "";
    ck_assert_msg(spool_open(spooldir, NULL, &s, err, sizeof err) == ATT_OK, "spool_open: %s", err);
    return s;
}

static event_writer *writer_m(spool *s, const char *conninfo, size_t backlog_max, metrics *m)
{
    event_writer *w = NULL;
    char err[256] = "";
    struct event_writer_opts o = {.backoff_max_ms = 300, .backlog_max = backlog_max};
    ck_assert_msg(event_writer_new(s, conninfo, &o, m, &w, err, sizeof err) == ATT_OK, "writer: %s", err);
    return w;
}

static event_writer *writer_ok(spool *s, const char *conninfo, size_t backlog_max)
{
    return writer_m(s, conninfo, backlog_max, NULL);
}

/* The exposition line "name value" is in the rendered metrics. */
static bool metric_is(metrics *m, const char *line)
{
    char *text;
    size_t len;
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    char want[200];
    snprintf(want, sizeof want, "\n%s\n", line);
    bool ok = strstr(text, want) != NULL;
    if (!ok) fprintf(stderr, "faults: no '%s' in the metrics\n", line);
    free(text);
    return ok;
}

/* A set of event ids (hex text), to compare with what the database holds. */
struct idset {
    char (*ids)[ATT_UUID_STR];
    size_t n, cap;
    pthread_mutex_t lock;
};

static void idset_init(struct idset *s, size_t cap)
{
    s->ids = calloc(cap, sizeof *s->ids);
    ck_assert_ptr_nonnull(s->ids);
    s->n = 0;
    s->cap = cap;
    pthread_mutex_init(&s->lock, NULL);
}

static void idset_add(struct idset *s, const att_uuid *id)
{
    pthread_mutex_lock(&s->lock);
    if (s->n < s->cap) att_uuid_format(id, s->ids[s->n++]);
    pthread_mutex_unlock(&s->lock);
}

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

/* Every id in want is in the database exactly once, and the database holds no other camera event. */
static void assert_exactly(PGconn *c, struct idset *want)
{
    qsort(want->ids, want->n, sizeof *want->ids, cmp_id);
    for (size_t i = 1; i < want->n; i++) ck_assert_msg(strcmp(want->ids[i - 1], want->ids[i]) != 0, "uuid reused");
    PGresult *r = PQexec(c, "SELECT id::text FROM events WHERE source = 'camera' ORDER BY 1");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    size_t rows = (size_t)PQntuples(r);
    size_t missing = 0, extra = 0, i = 0, j = 0;
    while (i < want->n || j < rows) {
        int cmp = i == want->n ? 1 : j == rows ? -1 : strcmp(want->ids[i], PQgetvalue(r, (int)j, 0));
        if (cmp == 0) i++, j++;
        else if (cmp < 0) missing++, i++;
        else extra++, j++;
    }
    PQclear(r);
    ck_assert_msg(missing == 0 && extra == 0, "%zu event(s) accepted: %zu missing from the database, %zu extra rows",
                  want->n, missing, extra);
    /* events.id is the primary key; this is the belt to its braces */
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) - count(DISTINCT id) FROM events"), 0);
}

static bool wait_until(bool (*cond)(void *), void *ud, double timeout_s)
{
    double t0 = ts_now_s();
    while (ts_now_s() - t0 < timeout_s) {
        if (cond(ud)) return true;
        usleep(10000);
    }
    return cond(ud);
}

static bool spool_empty(void *ud) { return spool_depth(ud) == 0; }

static bool backlog_empty(void *ud)
{
    struct event_writer_stats st;
    event_writer_get_stats(ud, &st);
    return st.memory_backlog == 0;
}

/* stderr into a file for the rest of the test (check runs each test in its own process); beside
 * tmpdir, not in it, so a full file system there cannot swallow the log. */
static char logpath[400];

static void capture_stderr(void)
{
    snprintf(logpath, sizeof logpath, "%s.log", tmpdir);
    fflush(stderr);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);
}

/* The captured log, NUL-terminated (caller frees). */
static char *captured_log(void)
{
    fflush(stderr);
    FILE *f = fopen(logpath, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- 1. PostgreSQL restart under load ------------------------------------------------------------------ */

static atomic_bool g_stop;
static atomic_int g_bad_status, g_reads_ok, g_reads_503, g_emit_fail;
static char g_bad_detail[512];
static struct ts_daemon D;
static struct idset g_ids;
static event_writer *g_w;

static void *producer(void *arg)
{
    int64_t base = ts_wall_us() - 3600LL * 1000000 + (int64_t)(intptr_t)arg * 1000;
    for (int64_t i = 0; !atomic_load(&g_stop) && i < 5000; i++) {
        struct att_event e = ev_at(base + i * 10000);
        att_uuid id;
        char err[256];
        if (event_emit(g_w, &e, &id, err, sizeof err) == ATT_OK) idset_add(&g_ids, &id);
        else atomic_fetch_add(&g_emit_fail, 1);
        if (i % 20 == 19) usleep(20000); /* a few hundred events a second in all */
    }
    return NULL;
}

/* GET /api/v1/events in a loop: only a JSON 200, or a 503 problem, is acceptable. */
static void *reader(void *arg)
{
    (void)arg;
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/events?limit=50", D.url);
    while (!atomic_load(&g_stop)) {
        struct ts_resp r;
        if (ts_http("GET", url, D.hr_token, NULL, 0, NULL, &r) != 0) {
            ts_resp_free(&r);
            atomic_fetch_add(&g_bad_status, 1);
            snprintf(g_bad_detail, sizeof g_bad_detail, "no HTTP response (the daemon died?)");
            break;
        }
        json_error_t je;
        json_t *j = json_loads(r.body, 0, &je);
        bool ok = false;
        if (r.status == 200) {
            ok = j && json_is_array(json_object_get(j, "items")) && strstr(r.content_type, "application/json");
            if (ok) atomic_fetch_add(&g_reads_ok, 1);
        } else if (r.status == 503) {
            ok = j && json_integer_value(json_object_get(j, "status")) == 503 &&
                json_is_string(json_object_get(j, "code")) && strstr(r.content_type, "application/problem+json");
            if (ok) atomic_fetch_add(&g_reads_503, 1);
        }
        if (!ok) {
            atomic_fetch_add(&g_bad_status, 1);
            snprintf(g_bad_detail, sizeof g_bad_detail, "%ld %s: %.300s", r.status, r.content_type, r.body);
        }
        json_decref(j);
        ts_resp_free(&r);
        usleep(5000);
    }
    return NULL;
}

/* Manual punches over HTTP (straight to the database, not through the spool): a 201 names the new
 * punch; a 503 problem is the only other acceptable answer. */
static struct idset g_punches;
static atomic_int g_punch_503;

static void *puncher(void *arg)
{
    const char *person = arg;
    char url[128], body[512], ts[32];
    snprintf(url, sizeof url, "%s/api/v1/punches", D.url);
    time_t t = time(NULL) - 7200;
    while (!atomic_load(&g_stop)) {
        struct tm tm;
        gmtime_r(&t, &tm);
        t++;
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(body, sizeof body, "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"%s\",\"reason\":\"fault test\"}",
                 person, ts);
        struct ts_resp r;
        if (ts_http("POST", url, D.hr_token, body, strlen(body), "application/json", &r) != 0) {
            ts_resp_free(&r);
            atomic_fetch_add(&g_bad_status, 1);
            snprintf(g_bad_detail, sizeof g_bad_detail, "punch: no HTTP response (the daemon died?)");
            break;
        }
        json_t *j = json_loads(r.body, 0, NULL);
        att_uuid id;
        if (r.status == 201 && j && att_uuid_parse(json_string_value(json_object_get(j, "id")), &id)) {
            idset_add(&g_punches, &id);
        } else if (r.status == 503 && j && strstr(r.content_type, "application/problem+json")) {
            atomic_fetch_add(&g_punch_503, 1); /* may have been stored before the failure: counted */
        } else {
            atomic_fetch_add(&g_bad_status, 1);
            snprintf(g_bad_detail, sizeof g_bad_detail, "punch: %ld %s: %.300s", r.status, r.content_type, r.body);
        }
        json_decref(j);
        ts_resp_free(&r);
        usleep(50000);
    }
    return NULL;
}

static bool daemon_ready(void *ud)
{
    (void)ud;
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", D.url);
    struct ts_resp r;
    int got = ts_http("GET", url, NULL, NULL, 0, NULL, &r);
    bool ok = got == 0 && r.status == 200;
    ts_resp_free(&r);
    return ok;
}

START_TEST(pg_restart_under_load)
{
    ck_assert_msg(ts_own_pg_ok, "test PostgreSQL cluster did not start");
    char conninfo[600];
    ck_assert_int_eq(ts_pg_new_db(&ts_own_pg, conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, NULL), 0); /* migrates the schema */
    PGconn *c = ts_db_connect(conninfo, "attendd-faults", false);
    add_roster(c);
    ck_assert_msg(wait_until(daemon_ready, NULL, 120), "daemon not ready before the fault");

    spool *s = spool_ok();
    g_w = writer_ok(s, conninfo, 0);
    ck_assert_int_eq(event_writer_start(g_w), ATT_OK);
    idset_init(&g_ids, 4 * 5000);
    idset_init(&g_punches, 5000);
    char person[ATT_UUID_STR];
    att_uuid_format(&P1, person);
    atomic_store(&g_stop, false);
    pthread_t prod[4], rd[2], pu;
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&prod[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&rd[i], NULL, reader, NULL), 0);
    ck_assert_int_eq(pthread_create(&pu, NULL, puncher, person), 0);

    /* events flowing and being written, then the cluster restarts under them */
    double t0 = ts_now_s();
    struct event_writer_stats st;
    do {
        usleep(50000);
        event_writer_get_stats(g_w, &st);
    } while (st.written < 300 && ts_now_s() - t0 < 60);
    ck_assert_uint_ge(st.written, 300);
    ts_pg_cluster(&ts_own_pg, "stop");
    usleep(1500 * 1000); /* events keep coming while it is down */
    size_t depth_down = spool_depth(s);
    ts_pg_cluster(&ts_own_pg, "start");
    usleep(1500 * 1000);
    atomic_store(&g_stop, true);
    for (int i = 0; i < 4; i++) pthread_join(prod[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
    pthread_join(pu, NULL);

    ck_assert_msg(wait_until(spool_empty, s, 60), "spool not drained after the restart");
    event_writer_get_stats(g_w, &st);
    ck_assert_int_eq(atomic_load(&g_emit_fail), 0);
    ck_assert_uint_gt(depth_down, 0);   /* the outage really held events back... */
    ck_assert_uint_ge(st.db_errors, 1); /* ...and the writer saw it */
    ck_assert_uint_eq(st.emitted, g_ids.n);
    ck_assert_uint_eq(st.held, 0);
    ck_assert_uint_eq(st.written + st.duplicates, g_ids.n);
    ck_assert_uint_ge(g_ids.n, 1000);
    ck_assert_msg(atomic_load(&g_bad_status) == 0, "%d bad API answer(s), e.g. %s", atomic_load(&g_bad_status),
                  g_bad_detail);
    ck_assert_int_gt(atomic_load(&g_reads_ok), 0);
    PQfinish(c);
    c = ts_db_connect(conninfo, "attendd-faults", false); /* the old connection died with the restart */
    assert_exactly(c, &g_ids);
    /* every acknowledged punch is there once; a punch answered 503 may or may not have been stored */
    ck_assert_uint_gt(g_punches.n, 0);
    char sql[160];
    for (size_t i = 0; i < g_punches.n; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE id = '%s' AND source = 'manual'",
                 g_punches.ids[i]);
        ck_assert_int_eq(ts_q_int(c, sql), 1);
    }
    long long manual = ts_q_int(c, "SELECT count(*) FROM events WHERE source = 'manual'");
    ck_assert_int_ge(manual, (long long)g_punches.n);
    ck_assert_int_le(manual, (long long)g_punches.n + atomic_load(&g_punch_503));
    fprintf(stderr,
            "faults: %zu events, %zu spooled during the restart; readers: %d ok, %d 503; punches: %zu 201, "
            "%d 503\n",
            g_ids.n, depth_down, atomic_load(&g_reads_ok), atomic_load(&g_reads_503), g_punches.n,
            atomic_load(&g_punch_503));

    /* the daemon came back by itself */
    ck_assert_msg(wait_until(daemon_ready, NULL, 60), "daemon not ready after the restart");
    ck_assert_int_eq(event_writer_stop(g_w, 5000), ATT_OK);
    event_writer_free(g_w);
    spool_close(s);
    PQfinish(c);
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    free(g_ids.ids);
    free(g_punches.ids);
}
END_TEST

/* ---- 2. spool on a full file system --------------------------------------------------------------------- */

static char fillpath[400];
static bool g_real_fs;     /* the spool is on a small tmpfs of its own */
static atomic_bool g_full; /* no tmpfs (mount not permitted): the spool's write hook plays ENOSPC */

/* Fallback only: like pwrite on a full file system, a write that needs new space stores what fits
 * of the first half and fails with ENOSPC; overwriting existing bytes (the ack slots) still works. */
static ssize_t full_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    struct stat sb;
    if (atomic_load(&g_full) && fstat(fd, &sb) == 0 && off + (off_t)n > sb.st_size) {
        ssize_t w = pwrite(fd, buf, n / 2, off);
        if (w < 0) return w;
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, buf, n, off);
}

/* Take every free block of the spool's file system. */
static void fill_disk(void)
{
    if (!g_real_fs) {
        atomic_store(&g_full, true);
        return;
    }
    snprintf(fillpath, sizeof fillpath, "%s/filler", tmpdir);
    int fd = open(fillpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    ck_assert_int_ge(fd, 0);
    char block[4096];
    memset(block, 0x5a, sizeof block);
    ssize_t w;
    while ((w = write(fd, block, sizeof block)) > 0) {
    }
    ck_assert_int_eq(errno, ENOSPC);
    while ((w = write(fd, block, 1)) > 0) {
    }
    close(fd);
}

static void free_disk(void)
{
    if (!g_real_fs) atomic_store(&g_full, false);
    else ck_assert_int_eq(unlink(fillpath), 0);
}

static bool mount_small_fs(void)
{
    /* a private mount namespace: the mount vanishes with this test's process, whatever happens */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", tmpdir, "tmpfs", 0, "size=256k,mode=0755") != 0) {
        fprintf(stderr, "faults: tmpfs mount not permitted (%s); ENOSPC comes from the spool's write hook\n",
                strerror(errno));
        return false;
    }
    return true;
}

/* Emit n events; returns how many were accepted (ids into set); the first refusal's text in err. */
static int emit_n(event_writer *w, int n, int64_t *ts, struct idset *set, char *err, size_t errlen)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        struct att_event e = ev_at((*ts += 1000000));
        att_uuid id;
        char e_[256] = "";
        att_err rc = event_emit(w, &e, &id, e_, sizeof e_);
        if (rc == ATT_OK) {
            idset_add(set, &id);
            ok++;
        } else {
            ck_assert_int_eq(rc, ATT_E_IO);
            if (err && !err[0]) snprintf(err, errlen, "%s", e_);
        }
    }
    return ok;
}

START_TEST(spool_disk_full)
{
    /* ATTENDD_FAULTS_NO_MOUNT=1 runs the fallback where mounting is allowed (to check the fallback) */
    g_real_fs = !getenv("ATTENDD_FAULTS_NO_MOUNT") && mount_small_fs();
    fprintf(stderr, "faults: disk full via %s\n", g_real_fs ? "a 256 KiB tmpfs" : "the spool's write hook");
    char conninfo[600];
    PGconn *c = fresh_db(conninfo, sizeof conninfo);
    capture_stderr();
    spool *s = NULL;
    char serr[256] = "";
    struct spool_opts so = {.pwrite_fn = g_real_fs ? NULL : full_pwrite};
    ck_assert_msg(spool_open(spooldir, &so, &s, serr, sizeof serr) == ATT_OK, "spool_open: %s", serr);
    metrics *m;
    ck_assert_int_eq(metrics_new(&m), ATT_OK);
    event_writer *w = writer_m(s, conninfo, 150, m);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    struct idset ids;
    idset_init(&ids, 1000);
    int64_t ts = ts_wall_us() - 7200LL * 1000000;
    char err[256] = "";
    struct event_writer_stats st;

    /* the disk fills while the database is away: events are held in memory, none refused */
    ts_pg_cluster(&ts_own_pg, "stop");
    fill_disk();
    ck_assert_int_eq(emit_n(w, 80, &ts, &ids, err, sizeof err), 80);
    event_writer_get_stats(w, &st);
    ck_assert_uint_gt(st.held, 0);
    ck_assert_uint_eq(st.held + st.emitted, 80);
    ck_assert(!st.spool_writable);
    ck_assert_uint_gt(st.memory_backlog, 0);

    /* space returns (database still away): the backlog goes to the spool, in order */
    free_disk();
    ck_assert_msg(wait_until(backlog_empty, w, 30), "held events not spooled once space returned");
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.backlog_spooled, st.held);
    ck_assert(st.spool_writable);
    ck_assert_uint_eq(spool_depth(s), 80);

    /* full again: the backlog holds 150, the rest is refused with the reason (not silently) */
    fill_disk();
    int accepted = emit_n(w, 180, &ts, &ids, err, sizeof err);
    ck_assert_int_lt(accepted, 180);
    ck_assert_int_ge(accepted, 150);
    ck_assert_msg(strstr(err, "No space left on device") && strstr(err, "not recorded"), "%s", err);
    event_writer_get_stats(w, &st);
    ck_assert_uint_eq(st.lost, (uint64_t)(180 - accepted));
    ck_assert_uint_eq(st.memory_backlog, 150);
    /* what the operator's dashboard shows */
    ck_assert(metric_is(m, "attendd_spool_writable 0"));
    ck_assert(metric_is(m, "attendd_events_memory_backlog 150"));
    char line[96];
    snprintf(line, sizeof line, "attendd_events_lost_total %d", 180 - accepted);
    ck_assert(metric_is(m, line));

    /* the database returns, the disk stays full: spooled events are written, held ones go straight in */
    ts_pg_cluster(&ts_own_pg, "start");
    ck_assert_msg(wait_until(spool_empty, s, 60), "spool not drained");
    ck_assert_msg(wait_until(backlog_empty, w, 60), "backlog not written to the database");
    event_writer_get_stats(w, &st);
    ck_assert_uint_gt(st.backlog_direct, 0);
    ck_assert_int_eq(emit_n(w, 10, &ts, &ids, NULL, 0), 10); /* still full: straight to the database */
    ck_assert_msg(wait_until(backlog_empty, w, 30), "backlog not written to the database");

    /* space returns: events are spooled again */
    free_disk();
    ck_assert_int_eq(emit_n(w, 10, &ts, &ids, NULL, 0), 10);
    ck_assert_msg(wait_until(spool_empty, s, 30), "spool not drained");
    event_writer_get_stats(w, &st);
    ck_assert(st.spool_writable);
    ck_assert(metric_is(m, "attendd_spool_writable 1"));
    ck_assert(metric_is(m, "attendd_events_memory_backlog 0"));
    ck_assert_uint_eq(st.emitted + st.held, ids.n);                     /* every accepted event went one way... */
    ck_assert_uint_eq(st.backlog_spooled + st.backlog_direct, st.held); /* ...and every held one left memory */
    ck_assert_uint_eq(st.written, ids.n);
    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    metrics_free(m);
    spool_close(s);

    PQfinish(c);
    c = ts_db_connect(conninfo, "attendd-faults", false);
    assert_exactly(c, &ids);
    ck_assert_uint_eq(ids.n, (size_t)(80 + accepted + 20));
    /* no half record was left to poison the spool */
    s = spool_ok();
    struct spool_stats ss;
    spool_get_stats(s, &ss);
    ck_assert_uint_eq(ss.depth, 0);
    ck_assert_uint_eq(ss.torn_truncated + ss.corrupt_skipped, 0);
    spool_close(s);
    /* and the operator was told: the append failure, the held events, each refused one in full */
    char *log = captured_log();
    ck_assert_ptr_nonnull(strstr(log, "No space left on device (disk full: not appended)"));
    ck_assert_ptr_nonnull(strstr(log, "held in memory (not crash-safe"));
    ck_assert_ptr_nonnull(
        strstr(log, "event LOST (the spool cannot append and the memory backlog is full): {\"v\":1,"));
    ck_assert_ptr_nonnull(strstr(log, "the spool takes appends again"));
    free(log);
    PQfinish(c);
    free(ids.ids);
}
END_TEST

/* ---- 3. corrupt records among good ones ------------------------------------------------------------------ */

START_TEST(corrupt_records_skipped_neighbours_written)
{
    char conninfo[600];
    PGconn *c = fresh_db(conninfo, sizeof conninfo);
    /* five events spooled by a writer whose thread never ran (the daemon died before writing) */
    spool *s = spool_ok();
    event_writer *w = writer_ok(s, conninfo, 0);
    att_uuid id[5];
    struct spool_record recs[5];
    int64_t ts = ts_wall_us() - 3600LL * 1000000;
    for (int i = 0; i < 5; i++) {
        struct att_event e = ev_at(ts + i * 1000000);
        char err[256] = "";
        ck_assert_msg(event_emit(w, &e, &id[i], err, sizeof err) == ATT_OK, "%s", err);
    }
    size_t n = 0;
    ck_assert_int_eq(spool_pending(s, recs, 5, &n, NULL, 0), ATT_OK);
    ck_assert_uint_eq(n, 5);
    event_writer_free(w);
    spool_close(s);

    /* one bit flipped in the middle record's payload, and the last record cut short (torn tail) */
    char seg[400];
    snprintf(seg, sizeof seg, "%s/%016llx.seg", spooldir, (unsigned long long)recs[0].pos.seg);
    int fd = open(seg, O_RDWR);
    ck_assert_int_ge(fd, 0);
    struct stat sb;
    ck_assert_int_eq(fstat(fd, &sb), 0);
    off_t flip = (off_t)recs[2].pos.off + 12 + 30;
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, flip), 1);
    b ^= 0x04;
    ck_assert_int_eq(pwrite(fd, &b, 1, flip), 1);
    off_t cut = (off_t)recs[4].pos.off + (sb.st_size - (off_t)recs[4].pos.off) / 2;
    ck_assert_int_eq(ftruncate(fd, cut), 0);
    close(fd);

    capture_stderr();
    s = spool_ok();
    struct spool_stats ss;
    spool_get_stats(s, &ss);
    ck_assert_uint_eq(ss.corrupt_skipped, 1);
    ck_assert_uint_eq(ss.torn_truncated, 1);
    ck_assert_uint_eq(ss.depth, 3);
    w = writer_ok(s, conninfo, 0);
    ck_assert_int_eq(event_writer_start(w), ATT_OK);
    ck_assert_msg(wait_until(spool_empty, s, 30), "spool not drained");
    ck_assert_int_eq(event_writer_stop(w, 5000), ATT_OK);
    event_writer_free(w);
    spool_close(s);

    /* the neighbours of the bad record are in the database, exactly once; the bad ones are not */
    struct idset want;
    idset_init(&want, 5);
    idset_add(&want, &id[0]);
    idset_add(&want, &id[1]);
    idset_add(&want, &id[3]);
    assert_exactly(c, &want);
    free(want.ids);

    /* loud: an error naming the file and the byte offset of the skipped region; the tail a warning */
    char *log = captured_log();
    char expect[600];
    snprintf(expect, sizeof expect, "%s: CORRUPT bytes %llu..%llu", seg, (unsigned long long)recs[2].pos.off,
             (unsigned long long)recs[3].pos.off);
    char *at = strstr(log, expect);
    ck_assert_msg(at != NULL, "no '%s' in the log:\n%s", expect, log);
    char *bol = at;
    while (bol > log && bol[-1] != '\n') bol--;
    ck_assert_msg(strstr(bol, " error ") != NULL && strstr(bol, " error ") < at, "not an error: %.200s", bol);
    snprintf(expect, sizeof expect, "%s: torn tail of %llu bytes at offset %llu truncated", seg,
             (unsigned long long)(cut - (off_t)recs[4].pos.off), (unsigned long long)recs[4].pos.off);
    ck_assert_msg(strstr(log, expect) != NULL, "no '%s' in the log:\n%s", expect, log);
    free(log);
    PQfinish(c);
}
END_TEST

/* ---- 4. SIGTERM with events in flight --------------------------------------------------------------------- */

START_TEST(sigterm_with_events_in_flight)
{
    ck_assert_msg(ts_own_pg_ok, "test PostgreSQL cluster did not start");
    char conninfo[600];
    ck_assert_int_eq(ts_pg_new_db(&ts_own_pg, conninfo, sizeof conninfo), 0);
    D.keep_dir = 1;
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, NULL), 0);
    PGconn *c = ts_db_connect(conninfo, "attendd-faults", false);
    add_roster(c);
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);

    /* 400 events wait in the daemon's spool (as an outage or a crash would leave them) */
    snprintf(spooldir, sizeof spooldir, "%s/state/spool", D.dir);
    spool *s = spool_ok();
    struct idset ids;
    idset_init(&ids, 400);
    struct att_event first;
    for (int i = 0; i < 400; i++) {
        struct att_event ev = {.kind = EVENT_KIND_OUT,
                               .ts_us = ts_wall_us() - 600LL * 1000000 + i * 1000,
                               .similarity = 0.7f,
                               .liveness = 0.9f};
        att_uuid_new(&ev.id);
        ev.person = P1;
        ev.camera = CAM;
        snprintf(ev.source, sizeof ev.source, "camera");
        ck_assert_int_eq(spool_append(s, &ev, NULL, NULL, 0), ATT_OK);
        idset_add(&ids, &ev.id);
        if (i == 0) first = ev;
    }
    spool_close(s);

    /* The database is slow: an open transaction of the test holds the first event's id, so the writer's
     * INSERT ... ON CONFLICT waits on it (reads elsewhere are not blocked). */
    PGconn *blocker = ts_db_connect(conninfo, "attendd-faults", false);
    char err[512] = "";
    ck_assert_msg(db_prepare_all(blocker, err, sizeof err) == ATT_OK, "%s", err);
    ts_q_exec(blocker, "BEGIN");
    struct store_event_result res;
    ck_assert_int_eq(store_event_insert(blocker, &first, &res), ATT_OK);

    ck_assert_int_eq(ts_daemon_restart(&D), 0);
    double t0 = ts_now_s();
    long long waiting = 0;
    while (waiting == 0 && ts_now_s() - t0 < 60) {
        usleep(50000);
        waiting = ts_q_int(c,
                           "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'attendd-events'"
                           " AND wait_event_type = 'Lock'");
    }
    ck_assert_msg(waiting == 1, "the daemon's event writer never blocked on the held row");

    /* SIGTERM while the batch is in flight; the row stays locked past the writer's drain deadline */
    double t1 = ts_now_s();
    int rc = ts_daemon_stop(&D, SIGTERM, 90);
    double took = ts_now_s() - t1;
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(took < 60, "stop took %.1f s", took);
    ts_q_exec(blocker, "ROLLBACK");
    PQfinish(blocker);
    /* the cancelled batch left nothing behind; everything is still spooled, and the log says so */
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM events"), 0);
    snprintf(logpath, sizeof logpath, "%s", D.log);
    char *log = captured_log();
    ck_assert_msg(strstr(log, "400 event(s) left in the spool; they are written at the next start"), "%s", log);
    free(log);
    fprintf(stderr, "faults: SIGTERM with 400 events in flight: stopped in %.1f s\n", took);

    /* after a restart every event is in the database exactly once */
    ck_assert_int_eq(ts_daemon_restart(&D), 0);
    t0 = ts_now_s();
    while (ts_q_int(c, "SELECT count(*) FROM events") < 400 && ts_now_s() - t0 < 60) usleep(50000);
    assert_exactly(c, &ids);
    D.keep_dir = 0;
    ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    PQfinish(c);
    free(ids.ids);
}
END_TEST

Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = ts_tcase(s, "faults", 300, ts_own_pg_up, ts_own_pg_down, corrupt_records_skipped_neighbours_written,
                         spool_disk_full, sigterm_with_events_in_flight, pg_restart_under_load, NULL);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    return s;
}
