/* /api/v1/cameras (admin writes, hr reads): camera definitions with their live capture status.
 * Writes go to the database with an audit row, then to the running cameras (camera_mgr) at once.
 * URLs leave this file only redacted (no credentials), in answers, audit rows and logs alike. */
#include "http_internal.h"
#include "request_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/camera_mgr.h"
#include "attendd/log.h"
#include "attendd/store_cameras.h"
#include "attendd/store_instances.h"
#include "attendd/time.h"

#define DEFAULT_FPS 6.0                   /* the column default in sql/001_initial.sql */
#define NAME_MAX_CHARS 100                /* cameras_name_len in sql/001_initial.sql */
#define FPS_RANGE_TEXT "0.5 and 30"       /* CAP_FPS_MIN and CAP_FPS_MAX */
#define URL_SAFE_MAX (2 * CAMERA_URL_MAX) /* redaction may lengthen a very short secret to "***" */

static const char *const role_names[] = {"in", "out", "auto", NULL};

/* ---- checking a definition -------------------------------------------------------------------- */

/* The region of interest: exactly x, y, w, h, integers, inside a 65535-pixel frame. */
static att_err read_roi(struct http_response *resp, json_t *v, struct camera_roi *out)
{
    static const char *const keys[4] = {"x", "y", "w", "h"};
    json_int_t n[4];
    const char *k;
    json_t *m;
    json_object_foreach(v, k, m)
    {
        bool known = false;
        for (int i = 0; i < 4; i++) known = known || strcmp(k, keys[i]) == 0;
        if (!known)
            return http_problem(resp, ATT_E_INVALID, "roi", "'roi' has an unknown member '%s' (expected x, y, w, h)",
                                k);
    }
    for (int i = 0; i < 4; i++) {
        m = json_object_get(v, keys[i]);
        if (!json_is_integer(m))
            return http_problem(resp, ATT_E_INVALID, "roi", "'roi.%s' is required and must be an integer", keys[i]);
        n[i] = json_integer_value(m);
    }
    if (n[0] < 0 || n[1] < 0 || n[2] <= 0 || n[3] <= 0 || n[0] > 65535 - n[2] || n[1] > 65535 - n[3])
        return http_problem(resp, ATT_E_INVALID, "roi", "'roi' needs x, y >= 0 and w, h > 0 (pixels), within 65535");
    *out = (struct camera_roi){(int)n[0], (int)n[1], (int)n[2], (int)n[3]};
    return ATT_OK;
}

/* ---- answers ------------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* Several instances: which instance holds the camera and since when (null: none holds it). */
static json_t *holder_json(const struct lease_row *leases, size_t n, const char *camera_id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(leases[i].camera_id, camera_id) == 0)
            return json_pack("{s:s, s:s, s:s}", "id", leases[i].instance_id, "name", leases[i].instance_name, "since",
                             leases[i].since);
    return json_null();
}

/* The camera as the API shows it: definition (URL redacted) and live status. With cfg.cluster also
 * its holder among leases (n of them; a camera running on another instance is "remote" here). */
static json_t *camera_json(const struct http_deps *deps, const struct camera_row *r, const struct lease_row *leases,
                           size_t n_leases)
{
    const struct camera_def *d = &r->def;
    char url[URL_SAFE_MAX];
    cap_url_redact(d->url, url, sizeof url);
    struct cap_status st = {0};
    uint64_t faces = 0;
    struct camera_analysis an = {0};
    att_err e = deps->cameras ? camera_mgr_status(deps->cameras, d->id, &st) : ATT_E_NOT_FOUND;
    if (e == ATT_OK) {
        (void)camera_mgr_faces_seen(deps->cameras, d->id, &faces);
        (void)camera_mgr_analysis(deps->cameras, d->id, &an);
    } else {
        st.state = CAP_ERROR;
        snprintf(st.last_error, sizeof st.last_error, "%s",
                 camera_mgr_loaded(deps->cameras)
                     ? "not running"
                     : "not started yet: camera definitions are loaded once the database answers (retried every 5 s)");
    }
    char last[64] = ""; /* "" (null in the answer) until a frame arrived */
    if (st.last_frame_wall_us > 0) (void)att_time_format(st.last_frame_wall_us, 0, ATT_TIME_UTC_MS, last, sizeof last);
    json_t *roi = d->has_roi
        ? json_pack("{s:i, s:i, s:i, s:i}", "x", d->roi.x, "y", d->roi.y, "w", d->roi.w, "h", d->roi.h)
        : json_null();
    json_t *holder = NULL;
    const char *state = cap_state_name(st.state);
    if (deps->cfg->cluster) {
        holder = holder_json(leases, n_leases, d->id);
        if (e != ATT_OK && json_is_object(holder)) { /* runs on the instance named by "instance" */
            state = "remote";
            st.last_error[0] = '\0';
        } else if (e != ATT_OK && d->enabled) {
            snprintf(st.last_error, sizeof st.last_error, "%s", "no live instance holds this camera yet");
        }
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:f, s:b, s:o, s:s, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:o, s:o}", "id",
                          d->id, "name", d->name, "url", url, "role", camera_role_name(d->role), "analysis_fps",
                          d->analysis_fps, "enabled", d->enabled, "roi", roi, "created_at", r->created_at, "updated_at",
                          r->updated_at, "state", state, "input_fps", round(st.input_fps * 10) / 10, "frames_in",
                          (json_int_t)st.frames_in, "frames_analysed", (json_int_t)st.frames_taken, "frames_dropped",
                          (json_int_t)st.frames_dropped, "faces_seen", (json_int_t)faces, "last_error",
                          str_or_null(st.last_error), "last_frame_time", str_or_null(last));
    /* what the analysis gives the camera: its need, and the sampled frames per second it lost while
     * it needed them (last 10 s) and in total; above 0, the analysis is short (add an instance) */
    if (j &&
        json_object_set_new(j, "analysis",
                            json_pack("{s:o, s:f, s:I}", "need", str_or_null(an.need), "deficit_fps",
                                      round(an.deficit_fps * 100) / 100, "deficit_frames", (json_int_t)an.deficit)) !=
            0) {
        json_decref(j);
        json_decref(holder);
        return NULL;
    }
    if (j && holder && json_object_set_new(j, "instance", holder) != 0) {
        json_decref(j);
        return NULL;
    }
    if (!j) json_decref(holder);
    return j;
}

/* With cfg.cluster: every camera's lease holder, for camera_json; ATT_OK with none otherwise. */
static att_err leases_of(struct http_request *req, struct http_response *resp, PGconn *c, struct lease_row **out,
                         size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!req->deps->cfg->cluster) return ATT_OK;
    att_err e = store_leases_list(c, out, n);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the camera leases could not be read");
    return ATT_OK;
}

/* Audit detail: the definition without secrets (URL redacted), as compact JSON; NULL on no memory. */
static char *audit_detail(const struct camera_def *d, const char *changed)
{
    char url[URL_SAFE_MAX];
    cap_url_redact(d->url, url, sizeof url);
    json_t *j = json_pack("{s:s, s:s, s:s, s:f, s:b}", "name", d->name, "url", url, "role", camera_role_name(d->role),
                          "analysis_fps", d->analysis_fps, "enabled", d->enabled);
    if (j && changed && json_object_set_new(j, "changed", json_string(changed)) != 0) {
        json_decref(j);
        return NULL;
    }
    return http_json_text(j);
}

/* Writes need the running cameras to be loaded first (see camera_mgr_set_loaded). */
static att_err writable(struct http_request *req, struct http_response *resp)
{
    if (!req->deps->cameras) return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "camera capture is not running");
    if (!camera_mgr_loaded(req->deps->cameras))
        return http_problem(resp, ATT_E_NOT_READY, NULL,
                            "camera definitions are not loaded yet (the database was unreachable at start-up)");
    return ATT_OK;
}

/* After the commit: make the running cameras follow. A failure is logged and shown by GET as state
 * "error" with the reason; the definition itself is stored. */
static void apply_now(struct http_request *req, const struct camera_def *d)
{
    char err[CAP_ERR_MAX];
    if (camera_mgr_apply(req->deps->cameras, d, err, sizeof err) != ATT_OK)
        log_error("http", "camera %s saved but not started: %s", d->id, err);
}

/* Map a store failure of a write to its answer. */
/* Commit a camera write whose audit insert answered *e, then apply it to capture (d, or NULL for a
 * delete of id). False when the audit row or the commit failed: rolled back, *e says why. */
static bool commit_and_apply(struct http_request *req, PGconn *c, att_err *e, const struct camera_def *d,
                             const char *id)
{
    if (*e == ATT_OK) *e = db_commit(c);
    if (*e != ATT_OK) {
        db_rollback(c);
        return false;
    }
    if (d) {
        apply_now(req, d);
        return true;
    }
    att_err r = camera_mgr_remove(req->deps->cameras, id);
    if (r != ATT_OK && r != ATT_E_NOT_FOUND)
        log_error("http", "camera %s deleted but not stopped: %s", id, att_err_code(r));
    return true;
}

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

att_err http_cameras_body(struct http_response *resp, const char *buf, size_t len, bool create, struct camera_def *d,
                          struct camera_patch *p, char *changed, size_t changed_len)
{
    const char *name = NULL, *url = NULL, *role = NULL;
    json_t *roi = NULL;
    const struct http_field spec[] = {
        /* names appear in logs and listings: printable text */
        {.name = "name",
         .type = HV_TEXT,
         .required = create,
         .min_len = 1,
         .max_len = CAMERA_NAME_MAX - 1,
         .max_chars = NAME_MAX_CHARS,
         .text = &name},
        {.name = "url", .type = HV_URL, .required = create, .min_len = 1, .max_len = CAMERA_URL_MAX - 1, .text = &url},
        {.name = "role", .type = HV_ENUM, .one_of = role_names, .text = &role, .seen = &p->set_role},
        {.name = "analysis_fps",
         .type = HV_NUMBER,
         .fmin = CAP_FPS_MIN,
         .fmax = CAP_FPS_MAX,
         .rule = "must be between " FPS_RANGE_TEXT,
         .number = &d->analysis_fps,
         .seen = &p->set_fps},
        {.name = "enabled", .type = HV_BOOL, .flag = &d->enabled, .seen = &p->set_enabled},
        {.name = "roi", .type = HV_OBJECT, .nullable = true, .json = &roi, .seen = &p->set_roi},
        {NULL},
    };
    json_t *body;
    att_err e = http_body_parse(resp, buf, len, spec, &body);
    if (e != ATT_OK) return e;
    if (changed && changed_len) {
        changed[0] = '\0';
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v)
        {
            size_t used = strlen(changed);
            snprintf(changed + used, changed_len - used, "%s%s", used ? "," : "", k);
        }
    }
    if (role && camera_role_parse(role, &d->role) != ATT_OK) /* the spec allows only valid ones */
        e = http_problem(resp, ATT_E_INVALID, "role", "'role' must be one of \"in\", \"out\", \"auto\"");
    if (e == ATT_OK && p->set_roi) {
        d->has_roi = roi != NULL;
        if (roi) e = read_roi(resp, roi, &d->roi);
    }
    if (e == ATT_OK) {
        /* copies in d outlive the document */
        if (name) snprintf(d->name, sizeof d->name, "%s", name);
        if (url) snprintf(d->url, sizeof d->url, "%s", url);
        p->name = name ? d->name : NULL;
        p->url = url ? d->url : NULL;
        p->role = d->role;
        p->analysis_fps = d->analysis_fps;
        p->enabled = d->enabled;
        p->has_roi = d->has_roi;
        p->roi = d->roi;
    }
    json_decref(body);
    return e;
}

att_err http_cameras_create(struct http_request *req, struct http_response *resp)
{
    struct camera_def d = {.role = CAMERA_ROLE_AUTO, .analysis_fps = DEFAULT_FPS, .enabled = true};
    struct camera_patch p = {0};
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_cameras_body(resp, req->body, req->body_len, true, &d, &p, NULL, 0);
    if (e != ATT_OK) return e;
    if ((e = writable(req, resp)) != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;

    struct camera_row row;
    char *detail = audit_detail(&d, NULL);
    if (!detail) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    bool audit_broke = false;
    camera_mgr_write_lock(req->deps->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_create(c, &d, &row);
    if (e == ATT_OK) {
        e = http_audit(req, "camera.create", "camera", row.def.id, "ok", detail);
        audit_broke = !commit_and_apply(req, c, &e, &row.def, NULL);
    } else {
        db_rollback(c);
        (void)http_audit(req, "camera.create", "camera", NULL, att_err_code(e), detail);
    }
    camera_mgr_write_unlock(req->deps->cameras);
    free(detail);
    if (audit_broke) return http_audit_failed(resp, e);
    if (e != ATT_OK) return write_problem(resp, e, "created");
    log_info("http", "camera %s \"%s\" created by token %s", row.def.id, row.def.name, req->token->id);
    json_t *out = camera_json(req->deps, &row, NULL, 0);
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
    size_t n = 0, n_leases = 0;
    struct lease_row *leases = NULL;
    if ((e = store_camera_list(c, &rows, &n)) != ATT_OK)
        return http_problem(resp, e, NULL, "the cameras could not be listed");
    if ((e = leases_of(req, resp, c, &leases, &n_leases)) != ATT_OK) {
        free(rows);
        return e;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        json_t *o = camera_json(req->deps, &rows[i], leases, n_leases);
        if (!o || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(rows);
    free(leases);
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
    struct lease_row *leases = NULL;
    size_t n_leases = 0;
    if ((e = leases_of(req, resp, c, &leases, &n_leases)) != ATT_OK) return e;
    json_t *out = camera_json(req->deps, &row, leases, n_leases);
    free(leases);
    if (!out) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, out);
}

att_err http_cameras_update(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    struct camera_def d = {0}; /* scratch: only the members present are read back, through p */
    struct camera_patch p = {0};
    char changed[96] = "";
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_cameras_body(resp, req->body, req->body_len, false, &d, &p, changed, sizeof changed);
    if (e != ATT_OK) return e;
    if ((e = writable(req, resp)) != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    if (!att_uuid_valid(id)) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no camera with this id");

    struct camera_row row;
    char *detail = NULL;
    bool audit_broke = false;
    camera_mgr_write_lock(req->deps->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_update(c, id, &p, &row);
    if (e == ATT_OK) {
        detail = audit_detail(&row.def, changed);
        e = detail ? http_audit(req, "camera.update", "camera", id, "ok", detail) : ATT_E_NOMEM;
        audit_broke = !commit_and_apply(req, c, &e, &row.def, NULL);
    } else {
        db_rollback(c);
        char *fail = http_json_text(json_pack("{s:s}", "changed", changed));
        (void)http_audit(req, "camera.update", "camera", id, att_err_code(e), fail);
        free(fail);
    }
    camera_mgr_write_unlock(req->deps->cameras);
    free(detail);
    if (audit_broke) return http_audit_failed(resp, e);
    if (e != ATT_OK) return write_problem(resp, e, "updated");
    log_info("http", "camera %s \"%s\" updated (%s) by token %s", id, row.def.name, changed, req->token->id);
    json_t *out = camera_json(req->deps, &row, NULL, 0);
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
    if (!att_uuid_valid(id)) {
        (void)http_audit(req, "camera.delete", "camera", NULL, att_err_code(ATT_E_NOT_FOUND), NULL);
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no camera with this id");
    }
    bool audit_broke = false;
    camera_mgr_write_lock(req->deps->cameras);
    e = db_begin(c);
    if (e == ATT_OK) e = store_camera_delete(c, id);
    if (e == ATT_OK) {
        e = http_audit(req, "camera.delete", "camera", id, "ok", NULL);
        audit_broke = !commit_and_apply(req, c, &e, NULL, id);
    } else {
        db_rollback(c);
        (void)http_audit(req, "camera.delete", "camera", id, att_err_code(e), NULL);
    }
    camera_mgr_write_unlock(req->deps->cameras);
    if (audit_broke) return http_audit_failed(resp, e);
    if (e != ATT_OK) return write_problem(resp, e, "deleted");
    log_info("http", "camera %s deleted by token %s", id, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
