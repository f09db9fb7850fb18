/* Pipeline benchmark (bench/pipeline.sh): N RTSP copies of a walk-by clip through capture ->
 * analysis -> rules -> spool -> PostgreSQL in one process; prints one table row per run.
 * Usage: bench_pipeline --clip CLIP.mp4 --url-base rtsp://127.0.0.1:PORT/cam --n N --conninfo CI
 *        [--offsets O1,O2,... (seconds: camera i's copy starts at clip time Oi and wraps round;
 *        the list repeats over the cameras; none = every copy from 0, synchronous)] [--decode-only]
 *        [--fps F] [--threshold T] [--workers W] [--lane FRAMES (per camera, 2 as in the daemon)] [--header]
 *        [--debug (per-crop log lines on stderr)] [--label TEXT (printed at the end of the row)]
 *        [--replay C: no RTSP and no real time; the clip's sampled frames are decoded once, and at each
 *        tick of a virtual clock (1/F s) every camera queues its next frame and the analysis (one
 *        worker unless --workers) takes C frames before the next tick, whatever the machine's load:
 *        an analysis stage with a fixed capacity of C x F frames per second for all cameras. Latency
 *        is then the deciding frame's time - t_end (no inserted_at)]
 * The ground truth is CLIP.json beside the clip: walkers (label, t, t_end), enrol (label -> photo;
 * a path with a '/' is relative to $ATTENDD_DATA, a bare file name is in $ATTENDD_DATA/faces),
 * duration (s). */
#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "attendd/capture.h"
#include "attendd/db.h"
#include "attendd/event_writer.h"
#include "attendd/log.h"
#include "attendd/metrics.h"
#include "attendd/migrations.h"
#include "attendd/pipeline.h"
#include "attendd/store_people.h"
#include "attendd/uuid.h"
#include "src/capture/capture_internal.h"

#define MAX_CAMS 64
#define MAX_WALKERS 64
#define MAX_ENROL 64
#define LABEL_MAX 64 /* people.employee_no holds up to 64 characters */

struct walker {
    char label[LABEL_MAX];
    double t, t_end; /* in the clip as it is on disk */
};
static struct walker g_w[MAX_WALKERS];
static size_t g_nw;
static struct {
    char label[LABEL_MAX];
    char path[512]; /* as the JSON gives it */
} g_enrol[MAX_ENROL];
static size_t g_ne;
static double g_duration; /* clip length, seconds */

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
        ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_pipeline: %s: %s\n", what, why);
    exit(1);
}

static void truth_load(const char *clip)
{
    char path[1024];
    const char *dot = strrchr(clip, '.');
    if (!dot || (size_t)(dot - clip) + 6 > sizeof path)
        die(clip, "the clip needs an extension (CLIP.json is its truth)");
    snprintf(path, sizeof path, "%.*s.json", (int)(dot - clip), clip);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) die(path, je.text);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "walkers"), i, v)
    {
        if (g_nw == MAX_WALKERS) die(path, "too many walkers");
        const char *label = json_string_value(json_object_get(v, "label"));
        if (!label || strlen(label) >= LABEL_MAX) die(path, "a walker's label is missing or too long");
        snprintf(g_w[g_nw].label, LABEL_MAX, "%s", label);
        g_w[g_nw].t = json_number_value(json_object_get(v, "t"));
        g_w[g_nw].t_end = json_number_value(json_object_get(v, "t_end"));
        g_nw++;
    }
    const char *k;
    json_object_foreach(json_object_get(root, "enrol"), k, v)
    {
        const char *file = json_string_value(v);
        if (g_ne == MAX_ENROL || strlen(k) >= LABEL_MAX || !file || strlen(file) >= sizeof g_enrol[0].path)
            die(path, "enrol: too many entries, or a label or path too long");
        snprintf(g_enrol[g_ne].label, LABEL_MAX, "%s", k);
        snprintf(g_enrol[g_ne].path, sizeof g_enrol[0].path, "%s", file);
        g_ne++;
    }
    g_duration = json_number_value(json_object_get(root, "duration"));
    if (!(g_duration > 0)) die(path, "duration (s) is required");
    json_decref(root);
}

static bool is_enrolled(const char *label)
{
    for (size_t i = 0; i < g_ne; i++)
        if (!strcmp(g_enrol[i].label, label)) return true;
    return false;
}

/* People in the database (for the events' foreign key) and their templates in the gallery. */
static void enrol(PGconn *c, const char *data, const av_models *m, gal *g)
{
    av_pipeline *vp;
    av_err ve;
    if (av_pipeline_new(m, 0, &vp, &ve) != AV_OK) die("vision", ve.msg);
    for (size_t i = 0; i < g_ne; i++) {
        char id[ATT_UUID_STR], face[ATT_UUID_STR], path[2200], name[96];
        snprintf(name, sizeof name, "Walker %.63s", g_enrol[i].label);
        struct person_new pn = {.employee_no = g_enrol[i].label, .name = name, .active = true};
        if (store_person_create(c, &pn, id) != ATT_OK) die("enrol", "person insert failed");
        /* ward-rush.json names paths under the data directory; shift-change.json bare photos of faces/ */
        if (strchr(g_enrol[i].path, '/')) snprintf(path, sizeof path, "%s/%s", data, g_enrol[i].path);
        else snprintf(path, sizeof path, "%s/faces/%s", data, g_enrol[i].path);
        av_image *img;
        float emb[AV_EMBED_DIM];
        if (av_image_load(path, 0, &img, &ve) != AV_OK || av_face_template(vp, img, emb, NULL, &ve) != AV_OK)
            die(path, ve.msg);
        av_image_free(img);
        att_uuid_new_text(face);
        if (gal_face_add(g, id, face, emb) != ATT_OK) die("enrol", "gallery add failed");
    }
    av_pipeline_free(vp);
}

struct cams {
    size_t n;
    uint64_t tag0;
    char id[MAX_CAMS][ATT_UUID_STR];
    cap_camera *cam[MAX_CAMS];
    rules *r[MAX_CAMS];
};
/* One rules engine per camera: the copies show the same people at the same moment, which one
 * engine rightly merges into one pass (with a tiny cooldown it would drop a camera's decision as
 * `late` whenever another camera's later frame of the same person was decided first). */
static rules *rules_of(void *ud, uint64_t tag)
{
    struct cams *c = ud;
    return c->r[tag - c->tag0];
}
static att_err lookup(void *ud, uint64_t tag, enum camera_role *role)
{
    struct cams *c = ud;
    if (tag < c->tag0 || tag >= c->tag0 + c->n) return ATT_E_NOT_FOUND;
    *role = CAMERA_ROLE_AUTO;
    return ATT_OK;
}
static att_err status(void *ud, const char *id, struct cap_status *st)
{
    struct cams *c = ud;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->id[i], id) && c->cam[i]) return cap_camera_get_status(c->cam[i], st);
    return ATT_E_NOT_FOUND;
}

/* ---- replay: a virtual clock and an analysis of fixed capacity --------------------------------- */

struct sample {
    cap_frame *f;  /* decoded BGR */
    double clip_s; /* its time in the clip */
};

/* The clip's frames sampled at fps on its own clock (as a camera samples them). */
static size_t samples_load(const char *clip, double fps, struct sample **out)
{
    char err[256];
    cap_source *src;
    struct cap_source_info info;
    if (cap_source_open(clip, CAP_SRC_FILE, 10000, 10000, &src, &info, err, sizeof err) != ATT_OK) die(clip, err);
    size_t n = 0, cap = 0;
    struct sample *v = NULL;
    double next_ms = 0, pos_ms, last_ms = -1;
    while (cap_source_grab(src, &pos_ms, err, sizeof err) == ATT_OK) {
        if (pos_ms < 0) pos_ms = last_ms + 40; /* no timestamp on the first picture: one interval on */
        last_ms = pos_ms;
        if (pos_ms + 1e-6 < next_ms) continue;
        next_ms += 1000.0 / fps;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            v = realloc(v, cap * sizeof *v);
            if (!v) die("replay", "out of memory");
        }
        if (cap_source_retrieve(src, &v[n].f, err, sizeof err) != ATT_OK) die(clip, err);
        v[n].clip_s = pos_ms / 1000.0;
        n++;
    }
    cap_source_close(src);
    if (!n) die(clip, "no frame decoded");
    *out = v;
    return n;
}

/* Frames analysed (or dropped as stale, or failed) so far, and those done with without analysis. */
static uint64_t analysed_count(pipeline *p, uint64_t *not_analysed)
{
    struct pipeline_stats ps;
    pipeline_get_stats(p, &ps);
    if (not_analysed) *not_analysed = ps.idle_skipped + ps.still_skipped + ps.unknown_camera;
    return ps.frames + ps.stale + ps.errors;
}

/* Play every camera's copy tick by tick; after each tick wait until the analysis took `capacity`
 * frames, or has nothing left to take. Returns the virtual origin (wall time of stream position 0). */
static double replay_run(struct cams *cams, cap_lane **lanes, pipeline *p, cap_frame_queue *q, const struct sample *sm,
                         size_t ns, const double *off, double fps, int capacity, uint64_t *dropped)
{
    double origin = floor(now_s()) - 3600; /* any fixed wall time: every clock below is virtual */
    size_t start[MAX_CAMS];
    for (size_t i = 0; i < cams->n; i++) {
        size_t j = 0; /* the sample nearest the copy's offset */
        while (j + 1 < ns && sm[j + 1].clip_s <= off[i] + 1e-6) j++;
        start[i] = j;
    }
    *dropped = 0;
    for (size_t k = 0; k < ns; k++) {
        int64_t stream_ms = (int64_t)llround((double)k * 1000.0 / fps);
        for (size_t i = 0; i < cams->n; i++) {
            const cap_frame *src = sm[(start[i] + k) % ns].f;
            cap_frame *f;
            if (cap_frame_new(src->width, src->height, &f) != ATT_OK) die("replay", "out of memory");
            memcpy(f->bgr, src->bgr, src->stride * (size_t)src->height);
            if (!att_uuid_parse(cams->id[i], &f->camera_id)) die("replay", "camera id");
            f->tag = cams->tag0 + i;
            f->session = 1;
            f->frame_no = k;
            f->seq = k + 1;
            f->stream_ms = stream_ms;
            f->wall_us = (int64_t)llround(origin * 1e6) + stream_ms * 1000;
            f->mono_us = f->wall_us;
            int d = 0;
            if (cap_queue_push(lanes[i], f, &d) != ATT_OK) die("replay", "queue closed");
            *dropped += (uint64_t)d;
        }
        uint64_t target = analysed_count(p, NULL) + (uint64_t)capacity;
        for (;;) {
            uint64_t other, a = analysed_count(p, &other); /* before the queue: in flight is never undercounted */
            if (a >= target) break;
            struct cap_queue_stats qs;
            cap_queue_get_stats(q, &qs);
            if (qs.depth == 0 && qs.popped <= a + other) break; /* nothing waiting, nothing in flight */
            usleep(500);
        }
    }
    return origin;
}

/* Origin gauge of camera id from the registry's text. */
static double origin_of(const char *text, const char *id)
{
    char key[128];
    snprintf(key, sizeof key, "attendd_camera_stream_origin_seconds{camera=\"%s\"} ", id);
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : 0;
}

/* CPU seconds of this process's threads by kind: capture ("cap:"; FFmpeg's decoder threads inherit
 * the name) and analysis workers ("analysis-"). CPU time, not wall time, so the split holds on a
 * machine shared with other jobs. Polled during the run: a thread's time leaves /proc when it ends
 * (FFmpeg's threads end with their stream), so the last value seen per thread is kept. */
#define MAX_TIDS 2048
static struct {
    int tid, kind;
    double sec;
} g_tids[MAX_TIDS];
static size_t g_ntids;

static void thread_cpu_poll(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return;
    long tck = sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *l = strchr(buf, '('), *r = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        /* after the name: state, then fields 4..13; utime and stime are fields 14 and 15 */
        if (!l || !r || sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) continue;
        int tid = atoi(e->d_name), kind = !strncmp(l + 1, "cap:", 4) ? 1 : !strncmp(l + 1, "analysis-", 9) ? 2 : 0;
        size_t i = 0;
        while (i < g_ntids && g_tids[i].tid != tid) i++;
        if (i == g_ntids) {
            if (g_ntids == MAX_TIDS) continue;
            g_ntids++;
        }
        g_tids[i].tid = tid;
        g_tids[i].kind = kind;
        g_tids[i].sec = (double)(ut + st) / (double)tck;
    }
    closedir(d);
}

static double thread_cpu(int kind)
{
    double s = 0;
    for (size_t i = 0; i < g_ntids; i++)
        if (g_tids[i].kind == kind) s += g_tids[i].sec;
    return s;
}

/* Sample of a per-camera series (stage "" = none) from the registry's text, 0 when absent. */
static double series_of(const char *text, const char *name, const char *id, const char *stage)
{
    char key[256];
    if (*stage) snprintf(key, sizeof key, "%s{camera=\"%s\",stage=\"%s\"} ", name, id, stage);
    else snprintf(key, sizeof key, "%s{camera=\"%s\"} ", name, id);
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : 0;
}

/* Walker j in a copy that starts at clip time off and wraps round at the clip's end: its pass in the
 * copy's time, false when the wrap cuts it (neither a pass to find nor a false event). */
static bool pass_in_copy(size_t j, double off, double *t, double *t_end)
{
    const struct walker *w = &g_w[j];
    if (off <= 0) {
        *t = w->t;
        *t_end = w->t_end;
        return true;
    }
    if (w->t < off && w->t_end > off) return false;
    double shift = w->t >= off ? -off : g_duration - off;
    *t = w->t + shift;
    *t_end = w->t_end + shift;
    return true;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url_base = NULL, *conninfo = NULL, *clip = NULL, *offsets = NULL, *label = "";
    int n = 1, decode_only = 0, workers = 0, replay = 0, header = 0, debug = 0, lane = 2;
    double fps = 6, threshold = 0.40;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url-base") && i + 1 < argc) url_base = argv[++i];
        else if (!strcmp(argv[i], "--conninfo") && i + 1 < argc) conninfo = argv[++i];
        else if (!strcmp(argv[i], "--clip") && i + 1 < argc) clip = argv[++i];
        else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
        else if (!strcmp(argv[i], "--replay") && i + 1 < argc) replay = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--offsets") && i + 1 < argc) offsets = argv[++i];
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fps") && i + 1 < argc) fps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) threshold = atof(argv[++i]);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode-only")) decode_only = 1;
        else if (!strcmp(argv[i], "--header")) header = 1;
        else if (!strcmp(argv[i], "--debug")) debug = 1;
        else if (!strcmp(argv[i], "--lane") && i + 1 < argc) lane = atoi(argv[++i]);
        else die("usage", "see the comment at the top of bench/bench_pipeline.c");
    }
    if (header) {
        printf("%-4s %-8s %8s %8s %9s %6s %8s %8s %8s | %7s %7s %7s %7s %6s %6s %7s %7s %7s %6s %11s %5s\n", "N",
               "mode", "fps/cam", "dropped", "passes", "false", "cpu/cam", "lat_p50", "lat_p95", "dec/cam", "anl/cam",
               "ceiling", "anl/s", "idle%", "still%", "cpu_ms", "det_ms", "rec/cam", "rec_ms", "short/vis", "load");
        return 0;
    }
    if ((!url_base && !replay) || !clip || n < 1 || n > MAX_CAMS || replay < 0 || (replay && decode_only))
        die("usage", "--clip, --url-base (or --replay C >= 1, not with --decode-only) and --n 1..64 are required");
    if (replay && !workers) workers = 1; /* one worker: the order of the analysis is the scheduler's alone */
    /* camera i's copy starts at clip time off[i] (the list repeats over the cameras) */
    double off[MAX_CAMS] = {0}, given[MAX_CAMS];
    size_t n_given = 0;
    for (const char *o = offsets; o && *o && n_given < MAX_CAMS;) {
        char *end;
        given[n_given++] = strtod(o, &end);
        if (end == o || given[n_given - 1] < 0) die("--offsets", "a comma-separated list of seconds >= 0");
        o = *end == ',' ? end + 1 : end;
    }
    for (int i = 0; i < n && n_given; i++) off[i] = given[(size_t)i % n_given];
    const char *data = getenv("ATTENDD_DATA"), *models_dir = getenv("ATTENDD_MODELS_DIR");
    if (!data || !models_dir) die("environment", "ATTENDD_DATA and ATTENDD_MODELS_DIR must be set");
    log_set_level(debug ? LOG_DEBUG_LVL : LOG_WARN_LVL);
    char err[512];
    if (cap_global_init(err, sizeof err) != ATT_OK) die("capture", err);
    truth_load(clip);
    for (int i = 0; i < n; i++)
        if (off[i] >= g_duration) die("--offsets", "an offset is past the clip's end");

    cap_frame_queue *q = NULL;
    pipeline *p = NULL;
    metrics *m = NULL;
    spool *sp = NULL;
    event_writer *w = NULL;
    gal *g = NULL;
    av_models *models = NULL;
    PGconn *c = NULL;
    struct cams cams = {.n = (size_t)n, .tag0 = 1};
    char spool_dir[] = "/tmp/attendd-bench-spool-XXXXXX";
    if (!decode_only) {
        if (!conninfo) die("usage", "--conninfo is required unless --decode-only");
        int applied;
        if (db_connect(conninfo, "bench", &c, err, sizeof err) != ATT_OK) die("database", err);
        if (db_migrate(c, &applied, err, sizeof err) != ATT_OK || db_prepare_all(c, err, sizeof err) != ATT_OK)
            die("database", err);
        PQclear(PQexec(c, "DELETE FROM events; DELETE FROM cameras; DELETE FROM faces; DELETE FROM people"));
        av_err ve;
        if (av_set_num_threads(1, &ve) != AV_OK || av_models_load(models_dir, 0, &models, &ve) != AV_OK)
            die("models", ve.msg);
        g = gal_new();
        enrol(c, data, models, g);
        for (int i = 0; i < n; i++) {
            char sql[128];
            snprintf(sql, sizeof sql, "INSERT INTO cameras (name, url) VALUES ('bench-%d', 'rtsp://x/%d') RETURNING id",
                     i, i);
            PGresult *res = PQexec(c, sql);
            if (PQresultStatus(res) != PGRES_TUPLES_OK) die("database", PQerrorMessage(c));
            snprintf(cams.id[i], ATT_UUID_STR, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
        }
        if (!mkdtemp(spool_dir)) die("spool", "mkdtemp failed");
        if (metrics_new(&m) != ATT_OK || spool_open(spool_dir, NULL, &sp, err, sizeof err) != ATT_OK ||
            event_writer_new(sp, conninfo, NULL, m, &w, err, sizeof err) != ATT_OK || event_writer_start(w) != ATT_OK)
            die("events", err);
        struct rules_config rc;
        rules_config_defaults(&rc);
        /* per camera, a 1 µs cooldown: each decision becomes a row, so a split track shows up as a
         * false (second) event */
        rc.cooldown_us = 1;
        for (int i = 0; i < n; i++)
            if (rules_new(&rc, &cams.r[i]) != ATT_OK) die("rules", "refused");
        if (cap_queue_new((size_t)lane, &q) != ATT_OK) die("queue", "lane capacity 1..64");
        struct pipeline_cfg pc;
        pipeline_cfg_defaults(&pc);
        pc.workers = workers;
        pc.match_threshold = (float)threshold;
        pc.queue = q;
        pc.lookup = lookup;
        pc.status = status;
        pc.ud = &cams;
        pc.models = models;
        pc.gallery = g;
        pc.rules = cams.r[0];
        pc.rules_of = rules_of;
        pc.events = w;
        pc.metrics = m;
        if (pipeline_new(&pc, &p, err, sizeof err) != ATT_OK || pipeline_start(p) != ATT_OK) die("pipeline", err);
    } else {
        for (int i = 0; i < n; i++) att_uuid_new_text(cams.id[i]);
    }

    double cpu0 = cpu_s();
    double t_start = now_s();
    double first_seen[MAX_CAMS] = {0};
    int done = 0;
    struct cap_status st[MAX_CAMS];
    memset(st, 0, sizeof st);
    double cpu, wall, cpu_cap, cpu_anl, fps_sum = 0;
    uint64_t dropped = 0, in = 0;
    if (replay) {
        struct sample *sm;
        size_t ns = samples_load(clip, fps, &sm);
        cap_lane *lanes[MAX_CAMS];
        for (int i = 0; i < n; i++)
            if (cap_lane_new(q, &lanes[i]) != ATT_OK) die("replay", "lane");
        cpu0 = cpu_s();
        t_start = now_s();
        thread_cpu_poll();
        double anl0 = thread_cpu(2);
        (void)replay_run(&cams, lanes, p, q, sm, ns, off, fps, replay, &dropped);
        thread_cpu_poll(); /* while the workers still run: an ended thread leaves /proc */
        cap_queue_close(q);
        pipeline_join(p);
        cpu = cpu_s() - cpu0;
        wall = now_s() - t_start;
        cpu_cap = 0;
        cpu_anl = thread_cpu(2) - anl0;
        for (int i = 0; i < n; i++) cap_lane_free(lanes[i]);
        for (size_t j = 0; j < ns; j++) cap_frame_free(sm[j].f);
        free(sm);
        wall = (double)ns / fps; /* rates per second of the virtual clock */
    } else {
        for (int i = 0; i < n; i++) {
            char url[256];
            snprintf(url, sizeof url, "%s%d", url_base, i + 1);
            struct cap_camera_cfg cc;
            cap_camera_cfg_init(&cc);
            cc.url = url;
            cc.tag = cams.tag0 + (uint64_t)i;
            cc.analysis_fps = fps;
            if (!att_uuid_parse(cams.id[i], &cc.id)) die("camera", "id is not a uuid");
            if (cap_camera_new(&cc, q, &cams.cam[i], err, sizeof err) != ATT_OK ||
                cap_camera_start(cams.cam[i], err, sizeof err) != ATT_OK)
                die("camera", err);
        }
        /* until every copy played to its end (--once: no replay), at most 90 s */
        thread_cpu_poll(); /* baseline: time the workers spent before the cameras started */
        double anl0 = thread_cpu(2);
        while (!done && now_s() - t_start < 90) {
            usleep(100000);
            thread_cpu_poll();
            done = 1;
            for (int i = 0; i < n; i++) {
                cap_camera_get_status(cams.cam[i], &st[i]);
                if (st[i].frames_in > 0 && first_seen[i] == 0) first_seen[i] = now_s();
                if (!(st[i].sessions >= 1 && st[i].state != CAP_STREAMING && st[i].frames_in > 0)) done = 0;
            }
        }
        cpu = cpu_s() - cpu0;
        wall = now_s() - t_start;
        thread_cpu_poll();
        cpu_cap = thread_cpu(1);
        cpu_anl = thread_cpu(2) - anl0;
        for (int i = 0; i < n; i++) {
            double span = (double)st[i].last_frame_wall_us / 1e6 - first_seen[i] + 0.1; /* first poll lags <= 0.1 s */
            fps_sum += span > 0 ? (double)st[i].frames_in / span : 0;
            dropped += st[i].frames_dropped;
            in += st[i].frames_in;
        }
        for (int i = 0; i < n; i++) cap_camera_stop(cams.cam[i]);
    }

    int passes = 0, want = 0, falses = 0;
    double lat[MAX_CAMS * MAX_WALKERS];
    size_t nl = 0;
    int missed[MAX_WALKERS] = {0};              /* per walker pass: cameras without its event */
    char missed_on[MAX_WALKERS][MAX_CAMS * 12]; /* which ones: "camera(its copy's offset)" */
    for (size_t j = 0; j < MAX_WALKERS; j++) missed_on[j][0] = '\0';
    /* where the analysis time went, summed over cameras */
    double analysed = 0, idle = 0, still = 0, det_s = 0, det_n = 0, rec_s = 0, recs = 0;
    char short_s[32] = "-"; /* sampled frames lost while needed, all / while the camera had visitors only */
    if (!decode_only) {
        char *text;
        size_t len;
        cap_queue_close(q);
        pipeline_join(p); /* the frames still queued are analysed; the camera states stay (replay: done) */
        if (metrics_render(m, &text, &len) != ATT_OK) die("metrics", "render failed");
        struct pipeline_stats ps;
        pipeline_get_stats(p, &ps);
        dropped += ps.stale;
        event_writer_stop(w, 10000);
        double lost = 0, lost_vis = -1;
        static const char *needs[] = {"deciding", "new", "visitor", "idle"};
        for (size_t k = 0; k < 4; k++) {
            char key[128];
            snprintf(key, sizeof key, "attendd_analysis_deficit_frames_total{need=\"%s\"} ", needs[k]);
            const char *at = strstr(text, key);
            if (!at) continue;
            double v = atof(at + strlen(key));
            lost += v;
            if (k == 2) lost_vis = v;
        }
        if (lost_vis >= 0) snprintf(short_s, sizeof short_s, "%.0f/%.0f", lost, lost_vis);
        for (int i = 0; i < n; i++) {
            const char *id = cams.id[i];
            analysed += series_of(text, "attendd_camera_frames_analysed_total", id, "");
            idle += series_of(text, "attendd_camera_frames_idle_skipped_total", id, "");
            still += series_of(text, "attendd_camera_frames_still_total", id, "");
            det_s += series_of(text, "attendd_camera_stage_seconds_sum", id, "detect");
            det_n += series_of(text, "attendd_camera_stage_seconds_count", id, "detect");
            rec_s += series_of(text, "attendd_camera_stage_seconds_sum", id, "recognize");
            recs += series_of(text, "attendd_camera_recognitions_total", id, "");
        }
        for (int i = 0; i < n; i++) {
            double origin = origin_of(text, cams.id[i]);
            char sql[512];
            snprintf(sql, sizeof sql,
                     "SELECT p.employee_no, extract(epoch FROM e.ts)::float8, extract(epoch FROM e.inserted_at)::float8"
                     " FROM events e JOIN people p ON p.id = e.person_id WHERE e.camera_id = '%s' ORDER BY e.ts",
                     cams.id[i]);
            PGresult *res = PQexec(c, sql);
            if (PQresultStatus(res) != PGRES_TUPLES_OK) die("database", PQerrorMessage(c));
            int hit[MAX_WALKERS] = {0};
            for (int k = 0; k < PQntuples(res); k++) {
                const char *label = PQgetvalue(res, k, 0);
                double ts = atof(PQgetvalue(res, k, 1)) - origin, ins = atof(PQgetvalue(res, k, 2));
                int found = -1;
                bool cut = false; /* this label's pass is cut by the copy's wrap: not counted either way */
                double t = 0, t_end = 0;
                for (size_t j = 0; j < g_nw; j++) {
                    if (strcmp(g_w[j].label, label) != 0) continue;
                    if (!pass_in_copy(j, off[i], &t, &t_end)) {
                        cut = true;
                        continue;
                    }
                    if (ts >= t - 0.25 && ts <= t_end + 0.25) found = (int)j;
                }
                if (found < 0 && cut) continue;
                if (found < 0 || hit[found]) {
                    falses++; /* which one, for the next person to look at it */
                    fprintf(stderr,
                            "bench_pipeline: N=%d: false event: %s at %.2f s (copy time) on camera %d(+%.2f)%s\n", n,
                            label, ts, i + 1, off[i], found >= 0 ? ", a second one for its pass" : "");
                    continue;
                }
                hit[found] = 1;
                passes++;
                (void)pass_in_copy((size_t)found, off[i], &t, &t_end);
                lat[nl++] = (replay ? ts + origin : ins) - (origin + t_end); /* replay: no real time */
            }
            PQclear(res);
            for (size_t j = 0; j < g_nw; j++) {
                double t, t_end;
                if (!is_enrolled(g_w[j].label) || !pass_in_copy(j, off[i], &t, &t_end)) continue;
                want++;
                if (hit[j]) continue;
                missed[j]++;
                size_t used = strlen(missed_on[j]);
                snprintf(missed_on[j] + used, sizeof missed_on[j] - used, " %d(+%.2f)", i + 1, off[i]);
            }
        }
        free(text);
    }
    qsort(lat, nl, sizeof lat[0], cmp_d);
    char passes_s[32], p50[16] = "-", p95[16] = "-";
    if (decode_only) snprintf(passes_s, sizeof passes_s, "-");
    else snprintf(passes_s, sizeof passes_s, "%d/%d", passes, want);
    if (nl) {
        snprintf(p50, sizeof p50, "%+.2fs", lat[nl / 2]);
        snprintf(p95, sizeof p95, "%+.2fs", lat[(size_t)ceil(0.95 * (double)nl) - 1]);
    }
    char false_s[16] = "-";
    if (!decode_only) snprintf(false_s, sizeof false_s, "%d", falses);
    double cpu_cam = 100.0 * cpu / wall / n, dec_cam = 100.0 * cpu_cap / wall / n;
    char anl_cam[16] = "-", ceiling[16] = "-", anl[16] = "-", idle_s[16] = "-", still_s[16] = "-", cpu_ms[16] = "-",
         det[16] = "-", rc[16] = "-", rms[16] = "-";
    if (decode_only) {
        /* cameras the whole machine could decode at this cost per camera */
        snprintf(ceiling, sizeof ceiling, "%.0f", sysconf(_SC_NPROCESSORS_ONLN) * 100.0 / cpu_cam);
    } else {
        snprintf(anl_cam, sizeof anl_cam, "%.1f%%", 100.0 * cpu_anl / wall / n);
        snprintf(anl, sizeof anl, "%.2f", analysed / n / wall);
        snprintf(idle_s, sizeof idle_s, "%.0f", analysed + idle > 0 ? 100.0 * idle / (analysed + idle + still) : 0);
        snprintf(still_s, sizeof still_s, "%.0f", analysed + still > 0 ? 100.0 * still / (analysed + idle + still) : 0);
        if (analysed > 0) snprintf(cpu_ms, sizeof cpu_ms, "%.2f", 1e3 * cpu_anl / (analysed + still));
        if (det_n > 0) snprintf(det, sizeof det, "%.2f", 1e3 * det_s / det_n);
        snprintf(rc, sizeof rc, "%.0f", recs / n);
        if (recs > 0) snprintf(rms, sizeof rms, "%.2f", 1e3 * rec_s / recs);
    }
    double load[1] = {0}; /* the machine's 1-minute load average at the end: the figures depend on it */
    if (getloadavg(load, 1) != 1) load[0] = -1;
    printf(
        "%-4d %-8s %8.1f %8llu %9s %6s %7.1f%% %8s %8s | %6.1f%% %7s %7s %7s %6s %6s %7s %7s %7s %6s %11s %5.1f %s\n",
        n,
        decode_only   ? "decode"
            : replay  ? (n_given ? "r-offset" : "r-sync")
            : n_given ? "offset"
                      : "sync",
        fps_sum / n, (unsigned long long)dropped, passes_s, false_s, cpu_cam, p50, p95, dec_cam, anl_cam, ceiling, anl,
        idle_s, still_s, cpu_ms, det, rc, rms, short_s, load[0], label);
    fflush(stdout);
    for (size_t j = 0; j < g_nw; j++) /* which passes, for the next person to look at it */
        if (missed[j])
            fprintf(stderr, "bench_pipeline: N=%d: pass %s [%.1f, %.1f] (clip time) missed on %d camera(s):%s\n", n,
                    g_w[j].label, g_w[j].t, g_w[j].t_end, missed[j], missed_on[j]);
    (void)in;
    for (int i = 0; i < n; i++) cap_camera_free(cams.cam[i]);
    pipeline_free(p);
    cap_queue_free(q);
    event_writer_free(w);
    spool_close(sp);
    for (int i = 0; i < n; i++) rules_free(cams.r[i]);
    gal_free(g);
    av_models_free(models);
    metrics_free(m);
    if (c) PQfinish(c);
    if (!decode_only) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", spool_dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_pipeline: could not remove %s\n", spool_dir);
    }
    return 0;
}
