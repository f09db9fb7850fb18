/* Camera definitions in PostgreSQL (include/attendd/store_cameras.h): one prepared statement per
 * operation, rows decoded into struct camera_row. Values are checked by the caller (API) first. */
#include "attendd/store_cameras.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/uuid.h"
#include "src/store/statements.h"

#define CAMERA_NCOLS 12 /* CAMERA_COLS in statements.c */

static bool int_col(const PGresult *r, int row, int col, int *out)
{
    char *end;
    long v = strtol(PQgetvalue(r, row, col), &end, 10);
    if (*end != '\0' || v < 0 || v > 65535) return false;
    *out = (int)v;
    return true;
}

/* One row of CAMERA_COLS into *out. */
static att_err fill_row(const PGresult *r, int row, void *dst)
{
    struct camera_row *out = dst;
    memset(out, 0, sizeof *out);
    struct camera_def *d = &out->def;
    char *end;
    bool ok = PQnfields(r) == CAMERA_NCOLS && db_copy_text(d->id, sizeof d->id, PQgetvalue(r, row, 0)) &&
        db_copy_text(d->name, sizeof d->name, PQgetvalue(r, row, 1)) &&
        db_copy_text(d->url, sizeof d->url, PQgetvalue(r, row, 2)) &&
        camera_role_parse(PQgetvalue(r, row, 3), &d->role) == ATT_OK &&
        db_copy_text(out->created_at, sizeof out->created_at, PQgetvalue(r, row, 10)) &&
        db_copy_text(out->updated_at, sizeof out->updated_at, PQgetvalue(r, row, 11));
    if (ok) {
        d->analysis_fps = strtod(PQgetvalue(r, row, 4), &end);
        ok = *end == '\0' && isfinite(d->analysis_fps);
    }
    if (ok) {
        d->enabled = PQgetvalue(r, row, 5)[0] == 't';
        d->has_roi = !PQgetisnull(r, row, 6);
        if (d->has_roi)
            ok = int_col(r, row, 6, &d->roi.x) && int_col(r, row, 7, &d->roi.y) && int_col(r, row, 8, &d->roi.w) &&
                int_col(r, row, 9, &d->roi.h);
    }
    if (!ok) {
        log_error("db", "cameras row does not fit camera_row (a name or url longer than the API accepts?)");
        return ATT_E_INTERNAL;
    }
    return ATT_OK;
}

/* A statement returning at most one CAMERA_COLS row: ATT_E_NOT_FOUND when none. */
static att_err one_row(PGconn *c, const char *stmt, int nparams, const char *const *values, struct camera_row *out)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, stmt, nparams, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 0) rc = ATT_E_NOT_FOUND;
    else if (PQntuples(r) != 1) rc = ATT_E_INTERNAL;
    else rc = out ? fill_row(r, 0, out) : ATT_OK;
    PQclear(r);
    return rc;
}

static void roi_text(bool has, const struct camera_roi *roi, char v[4][16], const char *out[4])
{
    const int n[4] = {roi->x, roi->y, roi->w, roi->h};
    for (int i = 0; i < 4; i++) {
        snprintf(v[i], sizeof v[i], "%d", n[i]);
        out[i] = has ? v[i] : NULL;
    }
}

att_err store_camera_create(PGconn *c, const struct camera_def *def, struct camera_row *out)
{
    if (!c || !def || !out) return ATT_E_INVALID;
    char fps[32], roi[4][16];
    const char *rv[4];
    snprintf(fps, sizeof fps, "%.9g", def->analysis_fps);
    roi_text(def->has_roi, &def->roi, roi, rv);
    const char *values[9] = {
        def->name, def->url, camera_role_name(def->role), fps, def->enabled ? "true" : "false", rv[0], rv[1],
        rv[2],     rv[3]};
    return one_row(c, "camera_insert", 9, values, out);
}

att_err store_camera_get(PGconn *c, const char *id, struct camera_row *out)
{
    if (!c || !id || !out) return ATT_E_INVALID;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {id};
    return one_row(c, "camera_get", 1, values, out);
}

att_err store_camera_list(PGconn *c, struct camera_row **out, size_t *n)
{
    if (!c || !out || !n) return ATT_E_INVALID;
    *out = NULL;
    *n = 0;
    void *rows;
    att_err rc = db_list_rows(c, "camera_list", 0, NULL, sizeof(struct camera_row), fill_row, &rows, n);
    *out = rows;
    return rc;
}

att_err store_camera_update(PGconn *c, const char *id, const struct camera_patch *p, struct camera_row *out)
{
    if (!c || !id || !p || !out) return ATT_E_INVALID;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    char fps[32], roi[4][16];
    const char *rv[4];
    snprintf(fps, sizeof fps, "%.9g", p->analysis_fps);
    roi_text(p->set_roi && p->has_roi, &p->roi, roi, rv);
    const char *values[11] = {id,
                              p->name,
                              p->url,
                              p->set_role ? camera_role_name(p->role) : NULL,
                              p->set_fps ? fps : NULL,
                              p->set_enabled ? (p->enabled ? "true" : "false") : NULL,
                              p->set_roi ? "true" : "false",
                              rv[0],
                              rv[1],
                              rv[2],
                              rv[3]};
    return one_row(c, "camera_update", 11, values, out);
}

att_err store_camera_delete(PGconn *c, const char *id)
{
    if (!c || !id) return ATT_E_INVALID;
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {id};
    return one_row(c, "camera_delete", 1, values, NULL);
}
