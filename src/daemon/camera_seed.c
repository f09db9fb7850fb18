/* Config-seeded cameras (include/attendd/camera_seed.h): camera.NAME lines to cameras rows, by name,
 * with the names seeded last time kept in <state_dir>/seeded-cameras so a removed line removes its row. */
#include "attendd/camera_seed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/capture.h"
#include "attendd/event.h"
#include "attendd/log.h"
#include "attendd/store_cameras.h"

#define SEEDED_FILE "seeded-cameras"

static bool configured(const struct att_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->n_cameras; i++)
        if (strcmp(cfg->cameras[i].name, name) == 0) return true;
    return false;
}

static const struct camera_row *by_name(const struct camera_row *rows, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].def.name, name) == 0) return &rows[i];
    return NULL;
}

/* Create or update one configured camera. ATT_E_DB ends the seed; other errors are this camera's. */
static att_err seed_one(PGconn *c, const struct cfg_camera *cc, const struct camera_row *row)
{
    char why[256], safe[CAP_URL_MAX + 1];
    cap_url_redact(cc->url, safe, sizeof safe);
    struct camera_def d = {.analysis_fps = cc->fps, .enabled = cc->enabled};
    snprintf(d.name, sizeof d.name, "%s", cc->name);
    snprintf(d.url, sizeof d.url, "%s", cc->url);
    att_err e = camera_role_parse(cc->role, &d.role);
    if (e == ATT_OK) e = cap_url_validate(cc->url, NULL, why, sizeof why);
    else snprintf(why, sizeof why, "bad role");
    if (e != ATT_OK) {
        log_error("main", "camera.%s (%s) in the configuration: %s; not applied", cc->name, safe, why);
        return e;
    }
    struct camera_row out;
    if (!row) {
        e = store_camera_create(c, &d, &out);
        if (e == ATT_OK) log_info("main", "camera.%s (%s) from the configuration: created", cc->name, safe);
    } else {
        struct camera_patch p = {.set_role = row->def.role != d.role,
                                 .role = d.role,
                                 .set_fps = row->def.analysis_fps != d.analysis_fps,
                                 .analysis_fps = d.analysis_fps,
                                 .set_enabled = row->def.enabled != d.enabled,
                                 .enabled = d.enabled};
        if (strcmp(row->def.url, d.url) != 0) p.url = d.url;
        if (!p.url && !p.set_role && !p.set_fps && !p.set_enabled) return ATT_OK; /* unchanged: keeps running */
        e = store_camera_update(c, row->def.id, &p, &out);
        if (e == ATT_OK) log_info("main", "camera.%s (%s) from the configuration: updated", cc->name, safe);
    }
    if (e != ATT_OK && e != ATT_E_DB)
        log_error("main", "camera.%s (%s) in the configuration: %s; not applied", cc->name, safe, att_err_code(e));
    return e;
}

/* Names seeded last time, one per line; a missing file is an empty list. */
static att_err read_seeded(const char *path, char (**names)[CFG_CAMERA_NAME_MAX], size_t *n, char *err, size_t errlen)
{
    *names = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return ATT_OK;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    char line[CFG_CAMERA_NAME_MAX + 2];
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        if (len == 0 || len >= CFG_CAMERA_NAME_MAX) continue; /* not a name this version writes */
        line[len] = '\0';
        char(*grown)[CFG_CAMERA_NAME_MAX] = realloc(*names, (*n + 1) * sizeof **names);
        if (!grown) {
            fclose(f);
            snprintf(err, errlen, "out of memory");
            return ATT_E_NOMEM;
        }
        *names = grown;
        memcpy((*names)[(*n)++], line, len + 1);
    }
    fclose(f);
    return ATT_OK;
}

/* The configured names, written to a temporary file and renamed over path. */
static att_err write_seeded(const char *path, const struct att_config *cfg, char *err, size_t errlen)
{
    char tmp[CFG_PATH_MAX + 48];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL;
    for (int i = 0; ok && i < cfg->n_cameras; i++) ok = fprintf(f, "%s\n", cfg->cameras[i].name) > 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        (void)remove(tmp);
        return ATT_E_IO;
    }
    return ATT_OK;
}

att_err camera_seed(PGconn *c, const struct att_config *cfg, size_t *failed, char *err, size_t errlen)
{
    *failed = 0;
    char path[CFG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" SEEDED_FILE, cfg->state_dir);
    char(*seeded)[CFG_CAMERA_NAME_MAX] = NULL;
    size_t n_seeded = 0, n = 0;
    struct camera_row *rows = NULL;
    att_err e = read_seeded(path, &seeded, &n_seeded, err, errlen);
    if (e == ATT_OK && (e = store_camera_list(c, &rows, &n)) != ATT_OK)
        snprintf(err, errlen, "cannot read the cameras: %s", att_err_code(e));
    /* removed lines first, so a camera renamed in the file never runs twice */
    for (size_t i = 0; e == ATT_OK && i < n_seeded; i++) {
        const struct camera_row *row = by_name(rows, n, seeded[i]);
        if (configured(cfg, seeded[i]) || !row) continue;
        att_err d = store_camera_delete(c, row->def.id);
        if (d == ATT_OK) log_info("main", "camera.%s is no longer in the configuration: deleted", seeded[i]);
        else if (d == ATT_E_DB) e = d;
        else if (d != ATT_E_NOT_FOUND) (*failed)++;
    }
    for (int i = 0; e == ATT_OK && i < cfg->n_cameras; i++) {
        att_err one = seed_one(c, &cfg->cameras[i], by_name(rows, n, cfg->cameras[i].name));
        if (one == ATT_E_DB) e = one;
        else if (one != ATT_OK) (*failed)++;
    }
    if (e == ATT_E_DB) snprintf(err, errlen, "database connection lost");
    if (e == ATT_OK) e = write_seeded(path, cfg, err, errlen);
    free(rows);
    free(seeded);
    return e;
}
