/* The analysis pipeline inside the daemon: rules seeded from the database and the spool, frames'
 * camera looked up in the camera manager, started once models and gallery are ready. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attendd/app.h"
#include "attendd/log.h"
#include "attendd/pipeline.h"

static att_err lookup(void *ud, uint64_t tag, enum camera_role *role)
{
    return camera_mgr_lookup(((struct app *)ud)->cameras, tag, NULL, role);
}

static att_err status(void *ud, const char *id, struct cap_status *out)
{
    return camera_mgr_status(((struct app *)ud)->cameras, id, out);
}

static att_err faces_seen(void *ud, uint64_t tag, uint64_t n)
{
    return camera_mgr_add_faces_seen(((struct app *)ud)->cameras, tag, n);
}

static att_err analysis(void *ud, uint64_t tag, const struct camera_analysis *a)
{
    return camera_mgr_set_analysis(((struct app *)ud)->cameras, tag, a);
}

att_err pipeline_app_start(struct app *app)
{
    if (app->pipeline) return ATT_OK;
    /* a gallery that is not loaded yet may still be replaced (main's retry), and a pipeline without
     * templates would only see visitors: wait for both */
    if (!atomic_load(&app->models_ready) || !atomic_load(&app->gallery_ready)) return ATT_E_NOT_READY;
    char err[512] = "";
    att_err e;
    if (!app->rules) {
        struct rules_config rc;
        rules_config_defaults(&rc);
        rc.cooldown_us = (int64_t)app->cfg.cooldown_s * 1000000;
        rc.max_shift_us = (int64_t)app->cfg.max_shift_h * 3600 * 1000000;
        if ((e = rules_new(&rc, &app->rules)) != ATT_OK) {
            log_error("pipeline", "attendance rules: %s", att_err_code(e));
            return e;
        }
        /* last punches: without them a restart would clock a person in twice. The database and the
         * spool are read before any decision; a failure is retried (seeding is idempotent) */
        PGconn *c;
        if ((e = db_acquire(app->db, 2000, &c)) != ATT_OK) {
            log_warn("pipeline", "analysis waits for the database (last punches to seed the rules)");
            rules_free(app->rules);
            app->rules = NULL;
            return e;
        }
        size_t n_db, n_spool;
        int64_t since = (int64_t)time(NULL) * 1000000 - rc.max_shift_us;
        e = attendance_seed(app->rules, c, app->spool, since, &n_db, &n_spool, err, sizeof err);
        db_release(app->db, c);
        if (e != ATT_OK) {
            log_error("pipeline", "attendance rules: %s", err);
            rules_free(app->rules);
            app->rules = NULL;
            return e;
        }
        log_notice("pipeline", "attendance rules seeded: %zu last punch(es) from the database, %zu from the spool",
                   n_db, n_spool);
    }
    struct pipeline_cfg pc;
    pipeline_cfg_defaults(&pc);
    pc.workers = app->cfg.analysis_workers;
    pc.min_face_px = app->cfg.detect_min_face_px;
    pc.idle_ms = app->cfg.analysis_idle_ms;
    pc.match_threshold = (float)app->cfg.track_match_threshold;
    pc.trk.agree_k = app->cfg.track_agree_k;
    pc.trk.window_m = app->cfg.track_window_m;
    pc.queue = app->frames;
    pc.lookup = lookup;
    pc.status = status;
    pc.faces_seen = faces_seen;
    pc.analysis = analysis;
    pc.ud = app;
    pc.models = app->models;
    pc.confirm_models = app->confirm_models; /* NULL when track_confirm is off */
    pc.gallery = app->gallery;
    pc.rules = app->rules;
    pc.events = app->events;
    pc.metrics = app->metrics;
    if ((e = pipeline_new(&pc, &app->pipeline, err, sizeof err)) != ATT_OK) {
        log_error("pipeline", "%s", err);
        return e;
    }
    if ((e = pipeline_start(app->pipeline)) != ATT_OK) {
        pipeline_free(app->pipeline);
        app->pipeline = NULL;
        log_error("pipeline", "analysis workers did not start");
    }
    return e;
}

void pipeline_app_stop(struct app *app)
{
    /* the queue is closed by the caller: workers finish the frames still queued, then end */
    pipeline_free(app->pipeline);
    app->pipeline = NULL;
    rules_free(app->rules);
    app->rules = NULL;
}
