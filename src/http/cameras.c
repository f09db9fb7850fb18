/* /api/v1/cameras (admin writes, hr reads): camera definitions with their live capture status.
 * Writes go to the database with an audit row, then to the running cameras (camera_mgr) at once.
 * URLs leave this file only redacted (no credentials), in answers, audit rows and logs alike. */
#include "http_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/camera_mgr.h"
#include "attendd/text.h"
#include "attendd/log.h"
#include "attendd/store_cameras.h"
#include "attendd/time.h"

#define DEFAULT_FPS 6.0      /* the column default in sql/001_initial.sql */
#define NAME_MAX_CHARS 100   /* cameras_name_len in sql/001_initial.sql */
#define URL_SAFE_MAX (2 * CAMERA_URL_MAX) /* redaction may lengthen a very short secret to "***" */

static const char *const role_names[] = {"in", "out", "auto", NULL};

static const struct http_json_field create_spec[] = {
    {.name = "name", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = CAMERA_NAME_MAX - 1},
    {.name = "url", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = CAMERA_URL_MAX - 1},
    {.name = "role", .type = HJ_STRING, .one_of = role_names},
    {.name = "analysis_fps", .type = HJ_NUMBER},
    {.name = "enabled", .type = HJ_BOOLEAN},
    {.name = "roi", .type = HJ_OBJECT, .nullable = true},
    {NULL},
};

static const struct http_json_field patch_spec[] = {
    {.name = "name", .type = HJ_STRING, .min_len = 1, .max_len = CAMERA_NAME_MAX - 1},
    {.name = "url", .type = HJ_STRING, .min_len = 1, .max_len = CAMERA_URL_MAX - 1},
    {.name = "role", .type = HJ_STRING, .one_of = role_names},
    {.name = "analysis_fps", .type = HJ_NUMBER},
    {.name = "enabled", .type = HJ_BOOLEAN},
    {.name = "roi", .type = HJ_OBJECT, .nullable = true},
    {NULL},
};

static const char *role_text(enum rules_role r)
{
    return r == RULES_ROLE_IN ? "in" : r == RULES_ROLE_OUT ? "out" : "auto";
}

/* ---- checking a definition -------------------------------------------------------------------- */

/* Names appear in logs and listings: valid UTF-8, no control characters, at most NAME_MAX_CHARS. */
static bool name_ok(const char *s, size_t bytes)
{
    return strlen(s) == bytes /* no embedded \u0000 */ && text_ok(s, 1, NAME_MAX_CHARS);
}

/* Check the members present in body and copy them into d (a full definition) and p (what changed).
 * Writes a 422 naming the field on the first bad one. */
static att_err read_fields(struct http_response *resp, json_t *body, struct camera_def *d, struct camera_patch *p)
{
    json_t *v;
    if ((v = json_object_get(body, "name"))) {
        const char *s = json_string_value(v);
        if (!name_ok(s, json_string_length(v)))
            return http_problem(resp, ATT_E_INVALID, "name",
                                "'name' must be 1 to %d characters of printable text (no control characters)",
                                NAME_MAX_CHARS);
        snprintf(d->name, sizeof d->name, "%s", s);
        p->name = json_string_value(v);
    }
    if ((v = json_object_get(body, "url"))) {
        const char *s = json_string_value(v);
        char why[160];
        if (strlen(s) != json_string_length(v))
            return http_problem(resp, ATT_E_INVALID, "url", "'url' contains control characters");
        if (cap_url_validate(s, NULL, why, sizeof why) != ATT_OK) /* why never repeats the URL */
            return http_problem(resp, ATT_E_INVALID, "url", "'url' %s", why);
        snprintf(d->url, sizeof d->url, "%s", s);
        p->url = s;
    }
    if ((v = json_object_get(body, "role"))) {
        if (rules_role_parse(json_string_value(v), &d->role) != ATT_OK) /* the spec allows only valid ones */
            return http_problem(resp, ATT_E_INVALID, "role", "'role' must be one of \"in\", \"out\", \"auto\"");
        p->set_role = true;
        p->role = d->role;
    }
    if ((v = json_object_get(body, "analysis_fps"))) {
        double fps = json_number_value(v);
        if (!isfinite(fps) || fps < CAP_FPS_MIN || fps > CAP_FPS_MAX)
            return http_problem(resp, ATT_E_INVALID, "analysis_fps", "'analysis_fps' must be between %.1f and %.0f",
                                CAP_FPS_MIN, CAP_FPS_MAX);
        d->analysis_fps = fps;
        p->set_fps = true;
        p->analysis_fps = fps;
    }
    if ((v = json_object_get(body, "enabled"))) {
        d->enabled = json_is_true(v);
        p->set_enabled = true;
        p->enabled = d->enabled;
    }
    if ((v = json_object_get(body, "roi"))) {
        p->set_roi = true;
        d->has_roi = p->has_roi = !json_is_null(v);
        if (d->has_roi) {
            static const char *const keys[4] = {"x", "y", "w", "h"};
            json_int_t n[4];
            const char *k;
            json_t *m;
            json_object_foreach(v, k, m) {
                bool known = false;
                for (int i = 0; i < 4; i++) known = known || strcmp(k, keys[i]) == 0;
                if (!known)
                    return http_problem(resp, ATT_E_INVALID, "roi",
                                        "'roi' has an unknown member '%s' (expected x, y, w, h)", k);
            }
            for (int i = 0; i < 4; i++) {
                m = json_object_get(v, keys[i]);
                if (!json_is_integer(m))
                    return http_problem(resp, ATT_E_INVALID, "roi", "'roi.%s' is required and must be an integer",
                                        keys[i]);
                n[i] = json_integer_value(m);
            }
            if (n[0] < 0 || n[1] < 0 || n[2] <= 0 || n[3] <= 0 || n[0] > 65535 - n[2] || n[1] > 65535 - n[3])
                return http_problem(resp, ATT_E_INVALID, "roi",
                                    "'roi' needs x, y >= 0 and w, h > 0 (pixels), within 65535");
            d->roi = (struct cap_roi){(int)n[0], (int)n[1], (int)n[2], (int)n[3]};
            p->roi = d->roi;
        }
    }
    return ATT_OK;
}

/* ---- answers ------------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* The camera as the API shows it: definition (URL redacted) and live status. */
static json_t *camera_json(struct app *app, const struct camera_row *r)
{
    const struct camera_def *d = &r->def;
    char url[URL_SAFE_MAX];
    cap_url_redact(d->url, url, sizeof url);
    struct cap_status st = {0};
    uint64_t faces = 0;
    att_err e = app->cameras ? camera_mgr_status(app->cameras, d->id, &st) : ATT_E_NOT_FOUND;
    if (e == ATT_OK) {
        (void)camera_mgr_faces_seen(app->cameras, d->id, &faces);
    } else {
        st.state = CAP_ERROR;
        snprintf(st.last_error, sizeof st.last_error, "%s",
                 camera_mgr_loaded(app->cameras)
                     ? "not running"
                     : "not started yet: camera definitions are loaded once the database answers (retried every 5 s)");
    }
    char last[64] = ""; /* "" (null in the answer) until a frame arrived */
    if (st.last_frame_wall_us > 0) (void)att_time_format(st.last_frame_wall_us, 0, ATT_TIME_UTC_MS, last, sizeof last);
    json_t *roi = d->has_roi ? json_pack("{s:i, s:i, s:i, s:i}", "x", d->roi.x, "y", d->roi.y, "w", d->roi.w, "h",
                                         d->roi.h)
                             : json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:b, s:o, s:s, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:o, s:o}", "id",
                     d->id, "name", d->name, "url", url, "role", role_text(d->role), "analysis_fps", d->analysis_fps,
                     "enabled", d->enabled, "roi", roi, "created_at", r->created_at, "updated_at", r->updated_at,
                     "state", cap_state_name(st.state), "input_fps", round(st.input_fps * 10) / 10, "frames_in",
                     (json_int_t)st.frames_in, "frames_analysed", (json_int_t)st.frames_taken, "frames_dropped",
                     (json_int_t)st.frames_dropped, "faces_seen", (json_int_t)faces, "last_error",
                     str_or_null(st.last_error), "last_frame_time", str_or_null(last));
}

/* Audit detail: the definition without secrets (URL redacted), as compact JSON; NULL on no memory. */
static char *audit_detail(const struct camera_def *d, const char *changed)
{
    char url[URL_SAFE_MAX];
    cap_url_redact(d->url, url, sizeof url);
    json_t *j = json_pack("{s:s, s:s, s:s, s:f, s:b}", "name", d->name, "url", url, "role", role_text(d->role),
                          "analysis_fps", d->analysis_fps, "enabled", d->enabled);
    if (j && changed) json_object_set_new(j, "changed", json_string(changed));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static att_err audit_failed(struct http_response *resp, att_err e)
{
    return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
}

/* Writes need the running cameras to be loaded first (see camera_mgr_set_loaded). */
static att_err writable(struct http_request *req, struct http_response *resp)
{
    if (!req->app->cameras) return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "camera capture is not running");
    if (!camera_mgr_loaded(req->app->cameras))
        return http_problem(resp, ATT_E_NOT_READY, NULL,
                            "camera definitions are not loaded yet (the database was unreachable at start-up)");
    return ATT_OK;
}

/* After the commit: make the running cameras follow. A failure is logged and shown by GET as state
 * "error" with the reason; the definition itself is stored. */
static void apply_now(struct http_request *req, const struct camera_def *d)
{
    char err[CAP_ERR_MAX];
    if (camera_mgr_apply(req->app->cameras, d, err, sizeof err) != ATT_OK)
        log_error("http", "camera %s saved but not started: %s", d->id, err);
}

/* Map a store failure of a write to its answer. */
static att_err write_problem(struct http_response *resp, att_err e, const char *what)
{
    if (e == ATT_E_CONFLICT) return http_problem(resp, e, "name", "a camera with this name already exists");
    if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no camera with this id");
    if (e == ATT_E_INVALID) return http_problem(resp, e, NULL, "the database refused a value of this camera");
    return http_problem(resp, e, NULL, "the camera could not be %s", what);
}

static void location(struct http_response *resp, const char *id)
{
    char loc[80];
    snprintf(loc, sizeof loc, "/api/v1/cameras/%s", id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
}

/* ---- handlers -------------------------------------------------------------------------------------- */

att_err http_cameras_body(struct http_response *resp, const char *buf, size_t len, bool create,
                          struct camera_def *d, struct camera_patch *p, char *changed, size_t changed_len)
{
    json_t *body;
    att_err e = http_json_parse(resp, buf, len, create ? create_spec : patch_spec, &body);
    if (e != ATT_OK) return e;
    if (changed && changed_len) {
        changed[0] = '\0';
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            size_t used = strlen(changed);
            snprintf(changed + used, changed_len - used, "%s%s", used ? "," : "", k);
        }
    }
    e = read_fields(resp, body, d, p);
    if (e == ATT_OK) {
        /* p points into body: keep copies in d and repoint */
        if (p->name) p->name = d->name;
        if (p->url) p->url = d->url;
    }
    json_decref(body);
    return e;
}

att_err http_cameras_create(struct http_request *req, struct http_response *resp)
{
    struct camera_def d = {.role = RULES_ROLE_AUTO, .analysis_fps = DEFAULT_FPS, .enabled = true};
    struct camera_patch p = {0};
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_cameras_body(resp, req->body, req->body_len, true, &d, &p, NULL, 0);
    if (e != ATT_OK) return e;
    if ((e = writable(req, resp)) != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;

    struct camera_row row;
    char *detail = audit_detail(&d, NULL);
    if (!detail) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    camera_mgr_write_lock(req->app->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_create(c, &d, &row);
    if (e == ATT_OK) {
        e = http_audit(req, "camera.create", "camera", row.def.id, "ok", detail);
        if (e == ATT_OK) e = db_commit(c);
        if (e != ATT_OK) {
            db_rollback(c);
            camera_mgr_write_unlock(req->app->cameras);
            free(detail);
            return audit_failed(resp, e);
        }
        apply_now(req, &row.def);
    } else {
        db_rollback(c);
        (void)http_audit(req, "camera.create", "camera", NULL, att_err_code(e), detail);
    }
    camera_mgr_write_unlock(req->app->cameras);
    free(detail);
    if (e != ATT_OK) return write_problem(resp, e, "created");
    log_info("http", "camera %s \"%s\" created by token %s", row.def.id, row.def.name, req->token->id);
    json_t *out = camera_json(req->app, &row);
    if (!out) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    location(resp, row.def.id);
    return http_json(resp, MHD_HTTP_CREATED, out);
}

att_err http_cameras_list(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct camera_row *rows = NULL;
    size_t n = 0;
    if ((e = store_camera_list(c, &rows, &n)) != ATT_OK)
        return http_problem(resp, e, NULL, "the cameras could not be listed");
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        json_t *o = camera_json(req->app, &rows[i]);
        if (!o || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(rows);
    if (!items) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

att_err http_cameras_get(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct camera_row row;
    if ((e = store_camera_get(c, id, &row)) != ATT_OK) {
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no camera with this id");
        return http_problem(resp, e, NULL, "the camera could not be read");
    }
    json_t *out = camera_json(req->app, &row);
    if (!out) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, out);
}

att_err http_cameras_update(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    struct camera_def d = {0}; /* scratch: only the members present are read back, through p */
    struct camera_patch p = {0};
    char changed[96] = "";
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_cameras_body(resp, req->body, req->body_len, false, &d, &p, changed, sizeof changed);
    if (e != ATT_OK) return e;
    if ((e = writable(req, resp)) != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    if (!db_uuid_valid(id)) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no camera with this id");

    struct camera_row row;
    char *detail = NULL;
    camera_mgr_write_lock(req->app->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_update(c, id, &p, &row);
    if (e == ATT_OK) {
        detail = audit_detail(&row.def, changed);
        e = detail ? http_audit(req, "camera.update", "camera", id, "ok", detail) : ATT_E_NOMEM;
        if (e == ATT_OK) e = db_commit(c);
        if (e != ATT_OK) {
            db_rollback(c);
            camera_mgr_write_unlock(req->app->cameras);
            free(detail);
            return audit_failed(resp, e);
        }
        apply_now(req, &row.def);
    } else {
        db_rollback(c);
        char fail[160];
        snprintf(fail, sizeof fail, "{\"changed\":\"%s\"}", changed); /* member names only: [a-z_,] */
        (void)http_audit(req, "camera.update", "camera", id, att_err_code(e), fail);
    }
    camera_mgr_write_unlock(req->app->cameras);
    free(detail);
    if (e != ATT_OK) return write_problem(resp, e, "updated");
    log_info("http", "camera %s \"%s\" updated (%s) by token %s", id, row.def.name, changed, req->token->id);
    json_t *out = camera_json(req->app, &row);
    if (!out) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, out);
}

att_err http_cameras_delete(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    att_err e = writable(req, resp);
    if (e != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    if (!db_uuid_valid(id)) {
        (void)http_audit(req, "camera.delete", "camera", NULL, att_err_code(ATT_E_NOT_FOUND), NULL);
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no camera with this id");
    }
    camera_mgr_write_lock(req->app->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_delete(c, id);
    if (e == ATT_OK) {
        e = http_audit(req, "camera.delete", "camera", id, "ok", NULL);
        if (e == ATT_OK) e = db_commit(c);
        if (e != ATT_OK) {
            db_rollback(c);
            camera_mgr_write_unlock(req->app->cameras);
            return audit_failed(resp, e);
        }
        att_err r = camera_mgr_remove(req->app->cameras, id);
        if (r != ATT_OK && r != ATT_E_NOT_FOUND) log_error("http", "camera %s deleted but not stopped: %s", id,
                                                           att_err_code(r));
    } else {
        db_rollback(c);
        (void)http_audit(req, "camera.delete", "camera", id, att_err_code(e), NULL);
    }
    camera_mgr_write_unlock(req->app->cameras);
    if (e != ATT_OK) return write_problem(resp, e, "deleted");
    log_info("http", "camera %s deleted by token %s", id, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
