/* attendd: the daemon's entry point — configuration, signals, sd_notify, start and stop order.
 * Start: config → keys → database → models → cameras → event spool + writer → analysis (once models
 * and gallery are ready) → HTTP → READY.
 * Stop: STOPPING → HTTP drain → frame queue closed → analysis drained → cameras → event writer drain →
 * database → spool. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attendd/app.h"
#include "attendd/camera_mgr.h"
#include "attendd/camera_seed.h"
#include "attendd/capture.h"
#include "attendd/cluster.h"
#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/event_writer.h"
#include "attendd/http.h"
#include "attendd/log.h"
#include "attendd/migrations.h"
#include "attendd/retention.h"
#include "attendd/gallery_loader.h"
#include "attendd/photo.h"
#include "attendd/metrics.h"
#include "attendd/pipeline.h"
#include "attendd/sdnotify.h"
#include "attendd/time.h"
#include "attendd/store_cameras.h"
#include "attendd/token.h"
#include "config.h"
#include "src/daemon/retention_job.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attendd [--config FILE] [--check-config] [--help] [--version]\n\n"
            "Face-recognition attendance daemon. Configuration: --config FILE (or $ATTENDD_CONFIG),\n"
            "then ATTENDD_<KEY> environment variables. Keys and defaults:\n\n");
    struct att_config d;
    cfg_defaults(&d);
    for (size_t i = 0; i < cfg_key_count(); i++) {
        char v[CFG_STR_MAX];
        cfg_key_value(&d, i, v, sizeof v);
        fprintf(f, "  %-22s %-28s %s\n", cfg_key_name(i), v[0] ? v : "\"\"", cfg_key_help(i));
    }
    fprintf(f, "\nSignals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration.\n");
}

/* Read the configuration from defaults, the file (if any) and the environment. */
static att_err load_config(const char *path, struct att_config *cfg, char *err, size_t errlen)
{
    cfg_defaults(cfg);
    if (path && cfg_load_file(cfg, path, err, errlen) != ATT_OK) return ATT_E_CONFIG;
    if (cfg_apply_env(cfg, err, errlen) != ATT_OK) return ATT_E_CONFIG;
    if (cfg_validate(cfg, err, errlen) != ATT_OK) return ATT_E_CONFIG;
    if (cfg->database_url[0] == '\0') {
        snprintf(err, errlen, "database_url is not set (config file or ATTENDD_DATABASE_URL)");
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}

/* Check (and, with the database reachable, bring up to date) the schema. A database newer than this
 * binary is fatal; an unreachable one is not: the daemon starts not-ready and readyz says why. */
static att_err check_schema(struct app *app)
{
    PGconn *c;
    att_err e = db_acquire(app->db, 5000, &c);
    if (e != ATT_OK) {
        log_warn("main", "database not reachable at start-up; starting not-ready");
        return ATT_OK;
    }
    char err[512];
    int applied = 0;
    e = db_migrate(c, &applied, err, sizeof err);
    db_release(app->db, c);
    if (e != ATT_OK) {
        log_error("main", "database schema: %s", err);
        return e;
    }
    if (applied) log_notice("main", "applied %d database migration(s)", applied);
    return ATT_OK;
}

static void set_gallery_error(struct app *app, const char *msg)
{
    pthread_mutex_lock(&app->status_lock);
    snprintf(app->gallery_error, sizeof app->gallery_error, "%s", msg);
    pthread_mutex_unlock(&app->status_lock);
}

/* Models and the pipelines API requests borrow. A failure leaves the daemon running, not ready. */
static void load_models(struct app *app)
{
    av_err e;
    char err[256];
    /* one pipeline per request thread: OpenCV's own pool would only oversubscribe the cores */
    if (av_set_num_threads(1, &e) != AV_OK || av_models_load(app->cfg.models_dir, 0, &app->models, &e) != AV_OK) {
        snprintf(app->models_error, sizeof app->models_error, "%s", e.msg);
    } else if (app->cfg.track_confirm &&
               av_confirm_models_load(app->cfg.models_dir, 0, &app->confirm_models, &e) != AV_OK) {
        /* no silent fallback to the first model alone: that is the operator's explicit choice */
        snprintf(app->models_error, sizeof app->models_error,
                 "confirming model: %.160s (track_confirm = false runs without it)", e.msg);
    } else if (vpool_new(app->models, app->cfg.vision_workers, &app->vision, err, sizeof err) != ATT_OK) {
        snprintf(app->models_error, sizeof app->models_error, "%s", err);
    } else if (app->confirm_models && vpool_confirm_new(app->vision, app->confirm_models, err, sizeof err) != ATT_OK) {
        /* enrolment and identification fuse both models' scores with these networks */
        snprintf(app->models_error, sizeof app->models_error, "%s", err);
    } else {
        atomic_store(&app->models_ready, true);
        return;
    }
    log_error("main", "models: %s", app->models_error);
}

/* Fill the gallery from the database; retried from the main loop while the database is away. */
static void load_gallery(struct app *app)
{
    PGconn *c;
    char err[512];
    if (db_acquire(app->db, 2000, &c) != ATT_OK) {
        set_gallery_error(app, "database unreachable");
        return;
    }
    size_t n = 0, unreadable = 0;
    att_err e =
        gallery_load(app->gallery, c, app->template_key, app->template_key_old, &n, &unreadable, err, sizeof err);
    db_release(app->db, c);
    if (e == ATT_OK && n == 0 && unreadable > 0) {
        /* not one row decrypts: the key is wrong, not a row; recognising nobody is no partial gallery */
        snprintf(err, sizeof err, "none of the %zu stored template(s) decrypts with the configured template key",
                 unreadable);
        e = ATT_E_CRYPTO;
    }
    if (e != ATT_OK) {
        set_gallery_error(app, err);
        log_error("main", "gallery: %s", err);
        /* start again from empty on the next try rather than keep a partial gallery */
        gal_free(app->gallery);
        app->gallery = gal_new();
        return;
    }
    log_notice("main", "gallery: %zu template(s) loaded, memory %s", n,
               gal_locked(app->gallery) ? "locked" : "NOT locked (raise LimitMEMLOCK)");
    if (unreadable)
        log_error("main", "gallery: %zu stored template(s) do not decrypt and are not recognised (faces named above)",
                  unreadable);
    atomic_store(&app->gallery_unreadable, unreadable);
    atomic_store(&app->gallery_ready, true);
}

#define FRAME_LANE_CAPACITY 2 /* frames waiting per camera: one being replaced while one waits */

/* The frame queue and the camera manager (no camera yet: load_cameras adds them). */
static att_err start_cameras(struct app *app)
{
    att_err e = cap_queue_new(FRAME_LANE_CAPACITY, &app->frames);
    if (e == ATT_OK) e = camera_mgr_new(app->frames, &app->cameras);
    if (e != ATT_OK) log_error("main", "cameras: %s", att_err_code(e));
    return e;
}

/* Write cfg's camera.NAME lines into the database, then run every camera defined there (added, changed
 * and removed ones restart or stop; unchanged ones keep streaming). At start, retried from the main
 * loop while the database is away; on SIGHUP with the new configuration. API writes to cameras wait
 * for the first load (camera_mgr_loaded) and are kept out meanwhile by the manager's write lock. */
static void load_cameras(struct app *app, const struct att_config *cfg)
{
    PGconn *c;
    if (db_acquire(app->db, 2000, &c) != ATT_OK) {
        if (camera_mgr_loaded(app->cameras)) log_error("main", "cameras: database unreachable; not re-applied");
        return;
    }
    struct camera_row *rows = NULL;
    size_t n = 0, seed_failed = 0;
    char err[1024];
    att_err e = ATT_OK;
    camera_mgr_write_lock(app->cameras);
    /* always: lines removed while the daemon was stopped remove their cameras too */
    if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, sizeof err, "state_dir %s: %s", cfg->state_dir, strerror(errno));
        e = ATT_E_IO;
    } else {
        e = camera_seed(c, cfg, &seed_failed, err, sizeof err);
    }
    if (e != ATT_OK) log_error("main", "cameras from the configuration: %s", err);
    if (e != ATT_E_DB) e = store_camera_list(c, &rows, &n); /* the database's cameras run regardless */
    db_release(app->db, c);
    if (e != ATT_OK) {
        camera_mgr_write_unlock(app->cameras);
        log_error("main", "cameras: cannot read their definitions: %s", att_err_code(e));
        return;
    }
    struct camera_def *defs = n ? calloc(n, sizeof *defs) : NULL;
    if (n && !defs) {
        camera_mgr_write_unlock(app->cameras);
        free(rows);
        log_error("main", "cameras: out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) defs[i] = rows[i].def;
    free(rows);
    size_t failed = 0;
    (void)camera_mgr_sync(app->cameras, defs, n, &failed); /* each failure is logged and shown by the API */
    camera_mgr_set_loaded(app->cameras);
    camera_mgr_write_unlock(app->cameras);
    free(defs);
    log_notice("main", "cameras: %zu defined, %zu started%s%s", n, n - failed,
               seed_failed ? ", configuration lines not applied" : "",
               failed || seed_failed ? " (see errors above)" : "");
}

/* The watchdog ping says the daemon works, not just that its main loop turns: it is withheld while
 * the analysis stage takes no frame although frames wait (every worker stuck), and the camera
 * manager is asked for its list under its lock (a lock held forever stops the loop, so the pings). */
#define ANALYSIS_STALL_S 30

struct watch {
    uint64_t popped;    /* frames taken from the queue at the last progress */
    uint64_t pushed;    /* frames offered to the queue at the last check */
    time_t progress_at; /* when the analysis was last seen taking frames, or idle (none offered) */
    bool stalled;       /* logged once per stall */
};

static bool pipeline_healthy(struct app *app, struct watch *w)
{
    (void)camera_mgr_list(app->cameras, NULL, 0);
    time_t now = time(NULL);
    struct cap_queue_stats st;
    cap_queue_get_stats(app->frames, &st);
    /* idle: nothing waits and nothing new came (a camera that reconnects flushes its frames, so an
     * empty queue alone would hide workers that take none of the frames still arriving) */
    bool idle = st.depth == 0 && st.pushed == w->pushed;
    w->pushed = st.pushed;
    if (!app->pipeline || idle || st.popped != w->popped) {
        w->popped = st.popped;
        w->progress_at = now;
        if (w->stalled) log_notice("main", "analysis is taking frames again; watchdog pings resume");
        w->stalled = false;
        return true;
    }
    if (now - w->progress_at < ANALYSIS_STALL_S) return true;
    if (!w->stalled)
        log_error("main", "analysis stalled: frames arriving, none taken for %ld s; withholding the watchdog ping",
                  (long)(now - w->progress_at));
    w->stalled = true;
    return false;
}

#define EVENTS_STOP_MS 5000 /* drain bound for the event writer at stop; what is left stays spooled */

static double ready_gauge(void *ud) { return atomic_load((atomic_bool *)ud) ? 1 : 0; }
static double count_gauge(void *ud) { return (double)atomic_load((atomic_size_t *)ud); }

/* The event path: the metrics registry, the spool in <state_dir>/spool (0700) and the writer thread,
 * which first writes whatever a crash or a database outage left in the spool. */
static att_err start_events(struct app *app)
{
    char err[1024], dir[CFG_PATH_MAX + 8];
    const char *version[] = {"version", ATTENDD_VERSION, NULL};
    metric *info, *m;
    if (metrics_new(&app->metrics) != ATT_OK ||
        metrics_gauge(app->metrics, "attendd_build_info", "attendd version (value always 1)", version, &info) !=
            ATT_OK ||
        metrics_callback(app->metrics, METRIC_GAUGE, "attendd_models_ready", "1 when the face models are loaded", NULL,
                         ready_gauge, &app->models_ready, &m) != ATT_OK ||
        metrics_callback(app->metrics, METRIC_GAUGE, "attendd_gallery_ready", "1 when the gallery is loaded", NULL,
                         ready_gauge, &app->gallery_ready, &m) != ATT_OK ||
        metrics_callback(app->metrics, METRIC_GAUGE, "attendd_gallery_templates_unreadable",
                         "stored templates that did not decrypt at load (their faces are not recognised)", NULL,
                         count_gauge, &app->gallery_unreadable, &m) != ATT_OK) {
        log_error("main", "metrics: out of memory");
        return ATT_E_NOMEM;
    }
    metric_set(info, 1);
    if (mkdir(app->cfg.state_dir, 0700) != 0 && errno != EEXIST) {
        log_error("main", "state_dir %s: %s", app->cfg.state_dir, strerror(errno));
        return ATT_E_IO;
    }
    snprintf(dir, sizeof dir, "%s/spool", app->cfg.state_dir);
    if (spool_open(dir, NULL, &app->spool, err, sizeof err) != ATT_OK) {
        log_error("main", "event spool (state_dir %s): %s", app->cfg.state_dir, err);
        return ATT_E_IO;
    }
    /* several instances: the cooldown and auto in/out are settled in the database as events are written */
    struct store_punch_rules rules = {.cooldown_us = (int64_t)app->cfg.cooldown_s * 1000000,
                                      .max_shift_us = (int64_t)app->cfg.max_shift_h * 3600 * 1000000};
    struct event_writer_opts wo = {.decide = app->cfg.cluster ? &rules : NULL};
    if (event_writer_new(app->spool, app->cfg.database_url, &wo, app->metrics, &app->events, err, sizeof err) !=
            ATT_OK ||
        event_writer_start(app->events) != ATT_OK) {
        log_error("main", "event writer: %s", err);
        return ATT_E_INTERNAL;
    }
    return ATT_OK;
}

/* SIGHUP: re-read the file; keys that can change live are applied, the rest are reported. */
static void reload(struct app *app, const char *path, http_server *srv)
{
    http_server_reload(srv);
    struct att_config next;
    char err[1024];
    sdn_notify("RELOADING=1");
    if (load_config(path, &next, err, sizeof err) != ATT_OK) {
        log_error("main", "reload refused, keeping the running configuration: %s", err);
    } else {
        for (size_t i = 0; i < cfg_key_count(); i++) {
            char a[CFG_STR_MAX], b[CFG_STR_MAX];
            cfg_key_value(&app->cfg, i, a, sizeof a);
            cfg_key_value(&next, i, b, sizeof b);
            if (strcmp(a, b) != 0 && strcmp(cfg_key_name(i), "log_level") != 0)
                log_warn("main", "reload: %s changed; takes effect after a restart", cfg_key_name(i));
        }
        app->cfg.log_level = next.log_level;
        log_set_level(next.log_level);
        /* camera.NAME lines apply live; the running state_dir keeps the record of what was seeded */
        app->cfg.n_cameras = next.n_cameras;
        memcpy(app->cfg.cameras, next.cameras, sizeof next.cameras);
        if (camera_mgr_loaded(app->cameras)) load_cameras(app, &app->cfg); /* else the start-up retry does it */
        log_notice("main", "configuration reloaded");
    }
    sdn_notify("READY=1");
}

/* Keys, templates, photos and frames live in this process's memory: no core file may carry them, and
 * no process of the same user may read the memory (ptrace, /proc/PID/mem) without CAP_SYS_PTRACE. */
/* Undo a failed start: free whatever was started, downstream after upstream as at shutdown (capture
 * and analysis stop before the event writer they feed); what was never made is NULL and skipped. */
static void unwind_start(struct app *app)
{
    cluster_quiesce(app->cluster); /* no lease change reaches the cameras any more */
    cap_queue_close(app->frames);  /* the analysis workers pop from it: stop them before it is freed */
    pipeline_app_stop(app);
    camera_mgr_free(app->cameras);
    cluster_free(app->cluster);
    app->cluster = NULL;
    app->cameras = NULL;
    cap_queue_free(app->frames);
    app->frames = NULL;
    event_writer_free(app->events);
    app->events = NULL;
    spool_close(app->spool);
    app->spool = NULL;
    db_pool_close(app->db);
    app->db = NULL;
}

/* http_deps.gallery_error: the reason lives under app->status_lock. */
static void gallery_error(void *ctx, char *out, size_t len) { app_gallery_error(ctx, out, len); }

/* What the HTTP layer reaches: pointers into app, whose fields reloads and gallery retries change
 * in place (a copy would go stale; atomics stay atomics). */
static struct http_deps http_deps_of(struct app *app)
{
    return (struct http_deps){
        .cfg = &app->cfg,
        .db = app->db,
        .token_key = &app->token_key,
        .template_key = app->template_key,
        .enrol = &app->enrol,
        .cameras = app->cameras,
        .metrics = app->metrics,
        .vision = app->vision,
        .gallery = &app->gallery,
        .models_ready = &app->models_ready,
        .models_error = app->models_error,
        .gallery_ready = &app->gallery_ready,
        .gallery_unreadable = &app->gallery_unreadable,
        .stopping = &app->stopping,
        .gallery_error = gallery_error,
        .gallery_error_ctx = app,
    };
}

static att_err no_core_dumps(char *err, size_t errlen)
{
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        snprintf(err, errlen, "setrlimit(RLIMIT_CORE, 0): %s", strerror(errno));
        return ATT_E_IO;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        snprintf(err, errlen, "prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
        return ATT_E_IO;
    }
    return ATT_OK;
}

int main(int argc, char **argv)
{
    const char *conf = getenv("ATTENDD_CONFIG");
    bool check_only = false;
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check-config", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c': conf = optarg; break;
        case 'C': check_only = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("attendd %s\n", ATTENDD_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "attendd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    static struct app app; /* static: large, and lives for the whole process */
    char err[1024];
    if (no_core_dumps(err, sizeof err) != ATT_OK) {
        log_error("main", "%s", err);
        return 1;
    }
    if (load_config(conf, &app.cfg, err, sizeof err) != ATT_OK) {
        log_error("main", "configuration: %s", err);
        return 2;
    }
    log_set_level(app.cfg.log_level);
    if (check_only) {
        printf("configuration OK\n");
        return 0;
    }
    if (sodium_init() < 0) {
        log_error("main", "libsodium initialisation failed");
        return 1;
    }
    /* before any thread exists: it may setenv() the FFmpeg capture options */
    if (cap_global_init(err, sizeof err) != ATT_OK) {
        log_error("main", "capture: %s", err);
        return 1;
    }
    if (cap_allow_set(app.cfg.camera_allow, err, sizeof err) != ATT_OK) {
        log_error("main", "configuration: camera_allow: %s", err);
        return 2;
    }

    /* Signals are taken synchronously by the main thread; block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (token_key_load(app.cfg.token_key_file, &app.token_key, err, sizeof err) != ATT_OK) {
        log_error("main", "token key: %s", err);
        return 1;
    }
    if (db_pool_open(app.cfg.database_url, app.cfg.db_pool_size, &app.db, err, sizeof err) != ATT_OK) {
        log_error("main", "database: %s", err);
        return 1;
    }
    db_pool_set_statement_timeout(app.db, app.cfg.db_statement_timeout_ms);
    if (check_schema(&app) != ATT_OK) {
        unwind_start(&app);
        return 1;
    }
    if (tcrypt_key_load(app.cfg.template_key_file, &app.template_key, err, sizeof err) != ATT_OK) {
        log_error("main", "template key: %s", err);
        unwind_start(&app);
        return 1;
    }
    /* the key `attendctl key rotate` retired, if any: templates enrolled during a rotation use it */
    char old_path[CFG_PATH_MAX + 8];
    snprintf(old_path, sizeof old_path, "%s.old", app.cfg.template_key_file);
    if (access(old_path, F_OK) == 0 && tcrypt_key_load(old_path, &app.template_key_old, err, sizeof err) != ATT_OK) {
        log_error("main", "previous template key: %s", err);
        unwind_start(&app);
        return 1;
    }
    enrol_policy_default(&app.enrol);
    app.enrol.min_face_px = app.cfg.enrol_min_face_px;
    app.enrol.min_sharpness = (float)app.cfg.enrol_min_sharpness;
    app.enrol.max_yaw_deg = (float)app.cfg.enrol_max_yaw_deg;
    app.enrol.max_pitch_deg = (float)app.cfg.enrol_max_pitch_deg;
    app.enrol.min_liveness = (float)app.cfg.enrol_min_liveness;
    app.enrol.max_pixels = (uint64_t)app.cfg.max_image_pixels;
    pthread_mutex_init(&app.status_lock, NULL);
    load_models(&app);
    if (!(app.gallery = gal_new())) {
        log_error("main", "gallery: out of memory");
        unwind_start(&app);
        return 1;
    }
    load_gallery(&app);
    if (start_cameras(&app) != ATT_OK) {
        unwind_start(&app);
        return 1;
    }
    cluster_app_gate(&app);
    load_cameras(&app, &app.cfg);
    if (start_events(&app) != ATT_OK || cluster_app_start(&app) != ATT_OK) {
        unwind_start(&app);
        return 1;
    }

    (void)pipeline_app_start(&app); /* not ready yet (models, gallery, database): retried below */

    http_server *srv;
    struct http_deps deps = http_deps_of(&app);
    if (http_server_start(&deps, &srv, err, sizeof err) != ATT_OK) {
        log_error("main", "http: %s", err);
        unwind_start(&app);
        return 1;
    }
    app.http = srv;
    if (app.cluster && cluster_start(app.cluster) != ATT_OK) {
        log_error("main", "cluster: the lease and change feed thread did not start");
        http_server_quiesce(srv);
        (void)http_server_stop(srv, 0);
        unwind_start(&app);
        return 1;
    }
    log_notice("main", "attendd %s listening on %s:%u", ATTENDD_VERSION, app.cfg.listen_address,
               (unsigned)http_server_port(srv));
    sdn_notify("READY=1\nSTATUS=serving");

    uint64_t wd_usec = sdn_watchdog_usec();
    struct watch watch = {.progress_at = time(NULL)};
    long tick_ms = app.cfg.watchdog_interval_s > 0 ? app.cfg.watchdog_interval_s * 1000L
        : wd_usec                                  ? (long)(wd_usec / 2000)
                                                   : 1000;
    time_t gallery_retry_at = time(NULL) + 5, cameras_retry_at = time(NULL) + 5, pipeline_retry_at = time(NULL) + 1;
    int64_t retention_at = retention_next_run(att_time_wall_us(), app.cfg.retention_hour_utc); /* daily */
    for (;;) {
        struct timespec ts = {.tv_sec = tick_ms / 1000, .tv_nsec = (tick_ms % 1000) * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGHUP) {
            reload(&app, conf, srv);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_notice("main", "received %s; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        } else if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            log_error("main", "sigtimedwait: %s", strerror(errno));
            break;
        }
        /* retry a failed gallery load every few seconds (database back, key file fixed) */
        if (!atomic_load(&app.gallery_ready) && time(NULL) >= gallery_retry_at) {
            load_gallery(&app);
            gallery_retry_at = time(NULL) + 5;
        }
        if (!app.pipeline && time(NULL) >= pipeline_retry_at) {
            (void)pipeline_app_start(&app);
            pipeline_retry_at = time(NULL) + 5;
        }
        if (!camera_mgr_loaded(app.cameras) && time(NULL) >= cameras_retry_at) {
            load_cameras(&app, &app.cfg);
            cameras_retry_at = time(NULL) + 5;
        }
        if (att_time_wall_us() >= retention_at) {
            retention_job_run(&app);
            retention_at = retention_next_run(att_time_wall_us(), app.cfg.retention_hour_utc);
        }
        if (wd_usec && pipeline_healthy(&app, &watch)) sdn_notify("WATCHDOG=1");
    }

    sdn_notify("STOPPING=1");
    atomic_store(&app.stopping, true);
    /* A second signal during the drain means "now": restore default dispositions. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    cluster_quiesce(app.cluster); /* before the server goes: the change feed reaches into it */
    http_server_quiesce(srv);
    att_err e = http_server_stop(srv, app.cfg.shutdown_timeout_s * 1000);
    if (e != ATT_OK) log_warn("main", "connections still open at the shutdown deadline were closed");
    /* capture first (data flows one way): no new frames; the queue is closed so its poppers drain
     * what is left and stop, and freed only after them (they hold no reference of their own) */
    cap_queue_close(app.frames); /* capture's pushes are refused from here on */
    pipeline_app_stop(&app);     /* workers analyse what was queued (looking cameras up), then end */
    camera_mgr_free(app.cameras);
    app.cameras = NULL;
    cluster_leave(app.cluster); /* our cameras are stopped: the others take them over at once */
    /* no request can emit or read any more: drain the spool (bounded), then close it */
    int drain_ms =
        app.cfg.shutdown_timeout_s * 1000 < EVENTS_STOP_MS ? app.cfg.shutdown_timeout_s * 1000 : EVENTS_STOP_MS;
    (void)event_writer_stop(app.events, drain_ms); /* logs what stays spooled */
    event_writer_free(app.events);
    spool_close(app.spool);
    cap_queue_free(app.frames);
    cluster_free(app.cluster);
    db_pool_close(app.db);
    vpool_free(app.vision);
    av_models_free(app.models);
    av_confirm_models_free(app.confirm_models);
    gal_free(app.gallery); /* wipes the templates */
    tcrypt_key_free(app.template_key);
    tcrypt_key_free(app.template_key_old);
    sodium_memzero(&app.token_key, sizeof app.token_key);
    metrics_free(app.metrics);
    log_notice("main", "stopped");
    return 0;
}
