/* Camera definitions in PostgreSQL (table cameras): create, get, list, partial update, delete.
 * The url column holds the full source URL, credentials included; see docs/security.md. */
#ifndef ATTENDD_STORE_CAMERAS_H
#define ATTENDD_STORE_CAMERAS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/camera.h"
#include "attendd/errors.h"

#define CAMERA_TIME_MAX 32 /* "2024-05-01T07:59:12Z" + NUL, with room */

/* One stored camera. */
struct camera_row {
    struct camera_def def;            /* id, name, full url, role, fps, enabled, roi */
    char created_at[CAMERA_TIME_MAX]; /* RFC 3339 UTC */
    char updated_at[CAMERA_TIME_MAX];
};

/* A partial update: only the members marked present change. */
struct camera_patch {
    const char *name; /* NULL: unchanged */
    const char *url;  /* NULL: unchanged */
    bool set_role;
    enum camera_role role;
    bool set_fps;
    double analysis_fps;
    bool set_enabled;
    bool enabled;
    bool set_roi; /* change the roi: to roi when has_roi, else clear it */
    bool has_roi;
    struct camera_roi roi;
};

/* Insert def (def->id is ignored: the database makes it); *out receives the stored row.
 * ATT_E_CONFLICT: a camera with this name exists. ATT_E_INVALID: the database refused a value
 * (a check constraint). ATT_E_DB / ATT_E_DB_QUERY / ATT_E_SCHEMA as db_exec_prepared. */
att_err store_camera_create(PGconn *c, const struct camera_def *def, struct camera_row *out);
/* ATT_E_NOT_FOUND when no camera has this id (or id is not a uuid). */
att_err store_camera_get(PGconn *c, const char *id, struct camera_row *out);
/* Every camera, oldest first. *out is malloc'd (free(*out)), NULL when *n is 0. */
att_err store_camera_list(PGconn *c, struct camera_row **out, size_t *n);
/* Apply p to camera id; *out receives the row as stored afterwards. ATT_E_NOT_FOUND, ATT_E_CONFLICT
 * (the new name is taken), ATT_E_INVALID as above. */
att_err store_camera_update(PGconn *c, const char *id, const struct camera_patch *p, struct camera_row *out);
/* ATT_E_NOT_FOUND when no camera has this id. Events keep their rows (camera_id becomes NULL). */
att_err store_camera_delete(PGconn *c, const char *id);

#endif
