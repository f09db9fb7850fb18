/* The daemon's part among several instances: a camera runs here only while this instance holds its
 * lease, and a change heard from another instance (enrolment, erasure, camera, revocation) applies to
 * this one's gallery, cameras and token cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/app.h"
#include "attendd/cluster.h"
#include "attendd/gallery_loader.h"
#include "attendd/http.h"
#include "attendd/log.h"
#include "attendd/store_cameras.h"

#define MOD "cluster"

static bool gate(void *ud, const char *camera_id)
{
    struct app *app = ud;
    return app->cluster && cluster_holds(app->cluster, camera_id);
}

void cluster_app_gate(struct app *app)
{
    if (app->cfg.cluster) camera_mgr_set_gate(app->cameras, gate, app);
}

void cluster_app_cameras(struct app *app)
{
    if (!camera_mgr_loaded(app->cameras)) return; /* the start-up load (retried by main) comes first */
    PGconn *c;
    if (db_acquire(app->db, 2000, &c) != ATT_OK) {
        log_warn(MOD, "cameras: database unreachable; held cameras not re-applied");
        return;
    }
    struct camera_row *rows = NULL;
    size_t n = 0;
    att_err e = store_camera_list(c, &rows, &n);
    db_release(app->db, c);
    struct camera_def *defs = e == ATT_OK && n ? calloc(n, sizeof *defs) : NULL;
    if (e != ATT_OK || (n && !defs)) {
        log_error(MOD, "cameras: cannot read their definitions: %s", att_err_code(e == ATT_OK ? ATT_E_NOMEM : e));
        free(rows);
        return;
    }
    for (size_t i = 0; i < n; i++) defs[i] = rows[i].def;
    free(rows);
    size_t failed = 0;
    camera_mgr_write_lock(app->cameras);
    (void)camera_mgr_sync(app->cameras, defs, n, &failed); /* the gate keeps the others' cameras off */
    camera_mgr_write_unlock(app->cameras);
    free(defs);
    log_info(MOD, "cameras: %zu held here of %zu defined", cluster_held(app->cluster), n);
}

/* ---- hooks (the cluster thread) ------------------------------------------------------------------- */

static void on_leases(void *ud) { cluster_app_cameras(ud); }

static void on_camera(void *ud, const char *id)
{
    (void)id;
    cluster_app_cameras(ud);
}

static void on_person(void *ud, const char *id)
{
    struct app *app = ud;
    if (!atomic_load(&app->gallery_ready)) return; /* the pending full load reads the change too */
    PGconn *c;
    char err[512];
    if (db_acquire(app->db, 2000, &c) != ATT_OK) {
        log_warn(MOD, "gallery: database unreachable; person %s is reloaded at the next resynchronisation", id);
        return;
    }
    size_t n = 0;
    att_err e =
        gallery_reload_person(app->gallery, c, app->template_key, app->template_key_old, id, &n, err, sizeof err);
    db_release(app->db, c);
    if (e != ATT_OK) log_error(MOD, "gallery: %s", err);
    else log_debug(MOD, "gallery: person %s now has %zu face(s) here", id, n);
}

static void on_token(void *ud, const char *id)
{
    struct app *app = ud;
    if (app->http) http_server_token_revoked(app->http, id);
}

static void on_resync(void *ud)
{
    struct app *app = ud;
    if (app->http) http_server_reload(app->http); /* revocations missed meanwhile */
    if (atomic_load(&app->gallery_ready)) {
        PGconn *c;
        char err[512];
        if (db_acquire(app->db, 2000, &c) == ATT_OK) {
            size_t loaded = 0, dropped = 0;
            att_err e = gallery_resync(app->gallery, c, app->template_key, app->template_key_old, &loaded, &dropped,
                                       err, sizeof err);
            db_release(app->db, c);
            if (e != ATT_OK) log_error(MOD, "gallery: %s", err);
            else log_info(MOD, "gallery resynchronised: %zu face(s), %zu person(s) dropped", loaded, dropped);
        } else {
            log_warn(MOD, "gallery: database unreachable; not resynchronised");
        }
    }
    cluster_app_cameras(app);
}

att_err cluster_app_start(struct app *app)
{
    if (!app->cfg.cluster) return ATT_OK;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    char id_path[CFG_PATH_MAX + 16], err[512];
    snprintf(id_path, sizeof id_path, "%s/instance-id", app->cfg.state_dir);
    struct cluster_cfg cc = {
        .conninfo = app->cfg.database_url,
        .name = app->cfg.instance_name[0] ? app->cfg.instance_name : host,
        .host = host,
        .capacity = app->cfg.instance_capacity,
        .lease_s = app->cfg.lease_timeout_s,
        .id_path = id_path,
        .metrics = app->metrics,
        .hooks = {.leases = on_leases,
                  .person = on_person,
                  .camera = on_camera,
                  .token = on_token,
                  .resync = on_resync,
                  .ud = app},
    };
    cluster *cl;
    att_err e = cluster_new(&cc, &cl, err, sizeof err);
    if (e != ATT_OK) {
        log_error(MOD, "%s", err);
        return e;
    }
    app->cluster = cl; /* before HTTP serves: camera writes consult the gate */
    return ATT_OK;
}
