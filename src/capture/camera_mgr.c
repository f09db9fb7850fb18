/* Cameras at run time (include/attendd/camera_mgr.h): one cap_camera per defined camera on the
 * shared frame queue, changed in place or replaced as definitions change; tag -> (id, role) lookups. */
#include "attendd/camera_mgr.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/uuid.h"

/* Locking: `ops` serialises apply/remove/sync/free (the only code that adds, replaces or frees
 * cameras), so it may read the list and call into a cap_camera without `rw`. `rw` guards the list
 * and each entry's role/def/cap pointer against lookup/status/list readers; it is held only for
 * short copies, never across a capture thread's join. `write` is the callers' outer lock
 * (camera_mgr_write_lock). Order: write -> ops -> rw. */

struct counters {
    uint64_t frames_in, frames_sampled, frames_dropped, frames_taken, timestamp_fixups;
};

struct cam_entry {
    struct camera_def def;           /* as last applied (full URL: it may hold credentials) */
    char url_safe[CAP_URL_MAX + 1];  /* def.url redacted, for logs */
    uint64_t tag;                    /* frame tag; never reused in this process */
    att_uuid id_bytes;               /* def.id as bytes (cap_frame.camera_id) */
    cap_camera *cap;                 /* NULL when the last apply failed (why: fail) */
    char fail[CAP_ERR_MAX];          /* reason the camera is not running, "" when it is */
    struct counters base;            /* counters of capture instances replaced by URL changes */
    _Atomic uint64_t faces_seen;     /* reported by the analysis stage */
    struct camera_analysis analysis; /* reported by the analysis stage (under rw, written) */
};

struct camera_mgr {
    cap_frame_queue *q;    /* shared queue (not owned) */
    pthread_mutex_t write; /* camera_mgr_write_lock */
    pthread_mutex_t ops;   /* see above */
    pthread_rwlock_t rw;   /* guards v/n and the entries' mutable fields */
    struct cam_entry **v;  /* cameras in the order they were added */
    size_t n, cap;
    uint64_t next_tag;    /* last tag handed out (under ops) */
    atomic_bool loaded;   /* camera_mgr_set_loaded() */
    camera_mgr_gate gate; /* NULL: every camera runs here */
    void *gate_ud;        /* its argument */
};

static bool admitted(camera_mgr *m, const char *id) { return !m->gate || m->gate(m->gate_ud, id); }

/* ---- helpers ------------------------------------------------------------------------------------ */

static bool roi_ok(const struct camera_roi *r)
{
    return r->x >= 0 && r->y >= 0 && r->w > 0 && r->h > 0 && r->x <= 65535 - r->w && r->y <= 65535 - r->h;
}

/* Check a definition completely before anything changes; err names the field like cap_camera_new. */
static att_err def_check(const struct camera_def *d, att_uuid *id, char *err, size_t errlen)
{
    char why[160];
    if (!att_uuid_parse(d->id, id)) {
        snprintf(err, errlen, "id: not a uuid");
        return ATT_E_INVALID;
    }
    if (d->name[0] == '\0' || strnlen(d->name, CAMERA_NAME_MAX) >= CAMERA_NAME_MAX) {
        snprintf(err, errlen, "name: must be 1 to %d bytes", CAMERA_NAME_MAX - 1);
        return ATT_E_INVALID;
    }
    if (strnlen(d->url, CAMERA_URL_MAX) >= CAMERA_URL_MAX) {
        snprintf(err, errlen, "url: longer than %d bytes", CAMERA_URL_MAX - 1);
        return ATT_E_INVALID;
    }
    if (cap_url_validate(d->url, NULL, why, sizeof why) != ATT_OK) {
        snprintf(err, errlen, "url: %s", why);
        return ATT_E_INVALID;
    }
    if (d->role != CAMERA_ROLE_IN && d->role != CAMERA_ROLE_OUT && d->role != CAMERA_ROLE_AUTO) {
        snprintf(err, errlen, "role: must be in, out or auto");
        return ATT_E_INVALID;
    }
    if (!isfinite(d->analysis_fps) || d->analysis_fps < CAP_FPS_MIN || d->analysis_fps > CAP_FPS_MAX) {
        snprintf(err, errlen, "analysis_fps: must be between %.1f and %.0f", CAP_FPS_MIN, CAP_FPS_MAX);
        return ATT_E_INVALID;
    }
    if (d->has_roi && !roi_ok(&d->roi)) {
        snprintf(err, errlen, "roi: x, y >= 0 and w, h > 0 within 65535 pixels");
        return ATT_E_INVALID;
    }
    return ATT_OK;
}

/* Entry by id; caller holds ops or rw. */
static struct cam_entry *find_id(camera_mgr *m, const char *id, size_t *idx)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i]->def.id, id) == 0) {
            if (idx) *idx = i;
            return m->v[i];
        }
    return NULL;
}

static struct cam_entry *find_tag(camera_mgr *m, uint64_t tag)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i]->tag == tag) return m->v[i];
    return NULL;
}

/* A capture instance for def (validated), started. */
static att_err cap_for(camera_mgr *m, const struct camera_def *d, const att_uuid *id, uint64_t tag, cap_camera **out,
                       char *err, size_t errlen)
{
    struct cap_camera_cfg cfg;
    cap_camera_cfg_init(&cfg);
    cfg.url = d->url;
    cfg.name = d->name;
    cfg.id = *id;
    cfg.tag = tag;
    cfg.analysis_fps = d->analysis_fps;
    cfg.enabled = d->enabled;
    cfg.has_roi = d->has_roi;
    if (d->has_roi) cfg.roi = d->roi;
    cap_camera *c = NULL;
    att_err e = cap_camera_new(&cfg, m->q, &c, err, errlen);
    if (e == ATT_OK) e = cap_camera_start(c, err, errlen);
    if (e != ATT_OK) {
        cap_camera_free(c);
        return e;
    }
    *out = c;
    return ATT_OK;
}

static void add_counters(struct counters *b, const struct cap_status *st)
{
    b->frames_in += st->frames_in;
    b->frames_sampled += st->frames_sampled;
    b->frames_dropped += st->frames_dropped;
    b->frames_taken += st->frames_taken;
    b->timestamp_fixups += st->timestamp_fixups;
}

/* ---- life cycle --------------------------------------------------------------------------------- */

att_err camera_mgr_new(cap_frame_queue *q, camera_mgr **out)
{
    if (!q || !out) return ATT_E_INVALID;
    *out = NULL;
    camera_mgr *m = calloc(1, sizeof *m);
    if (!m) return ATT_E_NOMEM;
    if (pthread_rwlock_init(&m->rw, NULL) != 0) {
        free(m);
        return ATT_E_NOMEM;
    }
    pthread_mutex_init(&m->write, NULL);
    pthread_mutex_init(&m->ops, NULL);
    m->q = q;
    *out = m;
    return ATT_OK;
}

void camera_mgr_free(camera_mgr *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->ops);
    /* ask every thread to stop first, so they wind down in parallel, then join them one by one */
    for (size_t i = 0; i < m->n; i++) cap_camera_stop(m->v[i]->cap);
    for (size_t i = 0; i < m->n; i++) {
        cap_camera_free(m->v[i]->cap);
        free(m->v[i]);
    }
    free(m->v);
    pthread_mutex_unlock(&m->ops);
    pthread_rwlock_destroy(&m->rw);
    pthread_mutex_destroy(&m->ops);
    pthread_mutex_destroy(&m->write);
    free(m);
}

/* ---- changes ------------------------------------------------------------------------------------ */

/* A new camera (ops held). On a capture failure the entry is still added, not running, with the
 * reason, so status shows why instead of "unknown". start false: add it not running, reason err. */
static att_err add_locked(camera_mgr *m, const struct camera_def *d, const att_uuid *id, bool start, char *err,
                          size_t errlen)
{
    struct cam_entry *e = calloc(1, sizeof *e);
    if (!e) return ATT_E_NOMEM;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        pthread_rwlock_wrlock(&m->rw); /* readers may be walking the old array */
        struct cam_entry **nv = realloc(m->v, nc * sizeof *nv);
        if (nv) {
            m->v = nv;
            m->cap = nc;
        }
        pthread_rwlock_unlock(&m->rw);
        if (!nv) {
            free(e);
            return ATT_E_NOMEM;
        }
    }
    e->def = *d;
    e->id_bytes = *id;
    cap_url_redact(d->url, e->url_safe, sizeof e->url_safe);
    e->tag = ++m->next_tag;
    atomic_init(&e->faces_seen, 0);
    att_err rc = start ? cap_for(m, d, id, e->tag, &e->cap, err, errlen) : ATT_E_INVALID;
    if (rc != ATT_OK) snprintf(e->fail, sizeof e->fail, "not running: %s", err);
    pthread_rwlock_wrlock(&m->rw);
    m->v[m->n++] = e;
    pthread_rwlock_unlock(&m->rw);
    if (rc == ATT_OK)
        log_info("camera", "camera %s \"%s\" (%s) added: role %s, %.1f fps%s%s", d->id, d->name, e->url_safe,
                 camera_role_name(d->role), d->analysis_fps, d->has_roi ? ", with roi" : "",
                 d->enabled ? "" : ", disabled");
    else log_error("camera", "camera %s \"%s\" (%s) could not be started: %s", d->id, d->name, e->url_safe, err);
    return rc;
}

/* Replace the capture instance (URL change, or a previous failure): ops held. On failure the old
 * capture is stopped anyway: it must not keep streaming a definition the caller has replaced. */
static att_err replace_locked(camera_mgr *m, struct cam_entry *e, const struct camera_def *d, char *err, size_t errlen)
{
    cap_camera *nc = NULL;
    att_err rc = cap_for(m, d, &e->id_bytes, e->tag, &nc, err, errlen);
    cap_camera *old = e->cap;
    struct cap_status st;
    pthread_rwlock_wrlock(&m->rw);
    if (old && cap_camera_get_status(old, &st) == ATT_OK) add_counters(&e->base, &st);
    e->cap = nc;
    e->def = *d;
    cap_url_redact(d->url, e->url_safe, sizeof e->url_safe);
    if (rc == ATT_OK) e->fail[0] = '\0';
    else snprintf(e->fail, sizeof e->fail, "not running: %s", err);
    pthread_rwlock_unlock(&m->rw);
    cap_camera_free(old); /* joins its thread: outside rw */
    return rc;
}

att_err camera_mgr_apply(camera_mgr *m, const struct camera_def *def, char *err, size_t errlen)
{
    char ebuf[CAP_ERR_MAX];
    if (!err || errlen == 0) {
        err = ebuf;
        errlen = sizeof ebuf;
    }
    err[0] = '\0';
    if (!m || !def) {
        snprintf(err, errlen, "camera_mgr_apply: missing argument");
        return ATT_E_INVALID;
    }
    att_uuid id;
    att_err rc = def_check(def, &id, err, errlen);
    if (rc != ATT_OK) return rc;
    if (!admitted(m, def->id)) { /* another instance runs it */
        (void)camera_mgr_remove(m, def->id);
        return ATT_OK;
    }

    pthread_mutex_lock(&m->ops);
    struct cam_entry *e = find_id(m, def->id, NULL);
    if (!e) {
        rc = add_locked(m, def, &id, true, err, errlen);
        pthread_mutex_unlock(&m->ops);
        return rc;
    }
    bool url_changed = strcmp(e->def.url, def->url) != 0;
    if (url_changed || !e->cap) {
        char was[sizeof e->url_safe];
        memcpy(was, e->url_safe, sizeof was);
        rc = replace_locked(m, e, def, err, errlen);
        if (rc == ATT_OK)
            log_info("camera", "camera %s \"%s\": %s (%s -> %s)", def->id, def->name,
                     url_changed ? "source changed, reopening" : "restarted", was, e->url_safe);
        else
            log_error("camera", "camera %s \"%s\" (%s) could not be started: %s", def->id, def->name, e->url_safe, err);
        pthread_mutex_unlock(&m->ops);
        return rc;
    }
    /* in place: all three were validated above, so none of them can fail half-way */
    if (e->def.enabled != def->enabled) cap_camera_set_enabled(e->cap, def->enabled);
    if (e->def.analysis_fps != def->analysis_fps) cap_camera_set_analysis_fps(e->cap, def->analysis_fps);
    if (e->def.has_roi != def->has_roi || (def->has_roi && memcmp(&e->def.roi, &def->roi, sizeof def->roi) != 0))
        cap_camera_set_roi(e->cap, def->has_roi ? &def->roi : NULL);
    struct camera_def was = e->def;
    pthread_rwlock_wrlock(&m->rw);
    e->def = *def;
    pthread_rwlock_unlock(&m->rw);
    pthread_mutex_unlock(&m->ops);
    if (strcmp(was.name, def->name) != 0 || was.role != def->role || was.enabled != def->enabled ||
        was.analysis_fps != def->analysis_fps || was.has_roi != def->has_roi ||
        memcmp(&was.roi, &def->roi, sizeof def->roi) != 0)
        log_info("camera", "camera %s \"%s\" changed: role %s, %.1f fps%s%s", def->id, def->name,
                 camera_role_name(def->role), def->analysis_fps, def->has_roi ? ", with roi" : "",
                 def->enabled ? "" : ", disabled");
    return ATT_OK;
}

att_err camera_mgr_remove(camera_mgr *m, const char *id)
{
    if (!m || !id) return ATT_E_INVALID;
    pthread_mutex_lock(&m->ops);
    size_t i;
    struct cam_entry *e = find_id(m, id, &i);
    if (!e) {
        pthread_mutex_unlock(&m->ops);
        return ATT_E_NOT_FOUND;
    }
    pthread_rwlock_wrlock(&m->rw);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof m->v[0]);
    m->n--;
    pthread_rwlock_unlock(&m->rw);
    cap_camera_free(e->cap); /* frames still queued go with its lane; popped ones no longer resolve */
    log_info("camera", "camera %s \"%s\" (%s) removed", e->def.id, e->def.name, e->url_safe);
    free(e);
    pthread_mutex_unlock(&m->ops);
    return ATT_OK;
}

att_err camera_mgr_sync(camera_mgr *m, const struct camera_def *defs, size_t n, size_t *failed)
{
    if (failed) *failed = 0;
    if (!m || (n && !defs)) return ATT_E_INVALID;
    att_err first = ATT_OK;
    /* first drop what is no longer defined, so a renamed/replaced set never runs twice */
    char(*ids)[ATT_UUID_STR] = NULL;
    pthread_mutex_lock(&m->ops);
    size_t have = m->n;
    if (have && !(ids = malloc(have * sizeof *ids))) {
        pthread_mutex_unlock(&m->ops);
        return ATT_E_NOMEM;
    }
    for (size_t i = 0; i < have; i++) memcpy(ids[i], m->v[i]->def.id, ATT_UUID_STR);
    pthread_mutex_unlock(&m->ops);
    for (size_t i = 0; i < have; i++) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++) keep = strcmp(defs[k].id, ids[i]) == 0;
        if (!keep) (void)camera_mgr_remove(m, ids[i]);
    }
    free(ids);
    for (size_t k = 0; k < n; k++) {
        char err[CAP_ERR_MAX];
        att_uuid id;
        att_err e = def_check(&defs[k], &id, err, sizeof err);
        if (e == ATT_OK) {
            e = camera_mgr_apply(m, &defs[k], err, sizeof err); /* logs its own failures */
        } else if (att_uuid_parse(defs[k].id, &id) && admitted(m, defs[k].id)) {
            /* a stored definition this build refuses: listed as not running, with the reason */
            pthread_mutex_lock(&m->ops);
            if (!find_id(m, defs[k].id, NULL)) (void)add_locked(m, &defs[k], &id, false, err, sizeof err);
            pthread_mutex_unlock(&m->ops);
        }
        if (e == ATT_OK) continue;
        if (failed) (*failed)++;
        if (first == ATT_OK) first = e;
    }
    return first;
}

/* ---- queries ------------------------------------------------------------------------------------ */

att_err camera_mgr_status(camera_mgr *m, const char *id, struct cap_status *out)
{
    if (!m || !id || !out) return ATT_E_INVALID;
    att_err rc = ATT_OK;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_id(m, id, NULL);
    if (!e) {
        rc = ATT_E_NOT_FOUND;
    } else if (!e->cap) {
        memset(out, 0, sizeof *out);
        out->state = CAP_ERROR;
        snprintf(out->last_error, sizeof out->last_error, "%s", e->fail);
    } else {
        rc = cap_camera_get_status(e->cap, out);
    }
    if (e && rc == ATT_OK) {
        out->frames_in += e->base.frames_in;
        out->frames_sampled += e->base.frames_sampled;
        out->frames_dropped += e->base.frames_dropped;
        out->frames_taken += e->base.frames_taken;
        out->timestamp_fixups += e->base.timestamp_fixups;
    }
    pthread_rwlock_unlock(&m->rw);
    return rc;
}

att_err camera_mgr_latest_frame(camera_mgr *m, const char *id, cap_frame **out)
{
    if (!m || !id || !out) return ATT_E_INVALID;
    *out = NULL;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_id(m, id, NULL);
    att_err rc = !e ? ATT_E_NOT_FOUND : !e->cap ? ATT_E_UNAVAILABLE : cap_camera_latest_frame(e->cap, out);
    pthread_rwlock_unlock(&m->rw);
    return rc;
}

att_err camera_mgr_lookup(camera_mgr *m, uint64_t tag, att_uuid *id_out, enum camera_role *role)
{
    if (!m) return ATT_E_INVALID;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_tag(m, tag);
    if (e) {
        if (id_out) *id_out = e->id_bytes;
        if (role) *role = e->def.role;
    }
    pthread_rwlock_unlock(&m->rw);
    return e ? ATT_OK : ATT_E_NOT_FOUND;
}

size_t camera_mgr_list(camera_mgr *m, char (*ids)[ATT_UUID_STR], size_t max)
{
    if (!m) return 0;
    pthread_rwlock_rdlock(&m->rw);
    size_t n = m->n;
    for (size_t i = 0; ids && i < n && i < max; i++) memcpy(ids[i], m->v[i]->def.id, ATT_UUID_STR);
    pthread_rwlock_unlock(&m->rw);
    return n;
}

att_err camera_mgr_add_faces_seen(camera_mgr *m, uint64_t tag, uint64_t n)
{
    if (!m) return ATT_E_INVALID;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_tag(m, tag);
    if (e) atomic_fetch_add(&e->faces_seen, n);
    pthread_rwlock_unlock(&m->rw);
    return e ? ATT_OK : ATT_E_NOT_FOUND;
}

att_err camera_mgr_faces_seen(camera_mgr *m, const char *id, uint64_t *out)
{
    if (!m || !id || !out) return ATT_E_INVALID;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_id(m, id, NULL);
    if (e) *out = atomic_load(&e->faces_seen);
    pthread_rwlock_unlock(&m->rw);
    return e ? ATT_OK : ATT_E_NOT_FOUND;
}

att_err camera_mgr_set_analysis(camera_mgr *m, uint64_t tag, const struct camera_analysis *a)
{
    if (!m || !a) return ATT_E_INVALID;
    pthread_rwlock_wrlock(&m->rw);
    struct cam_entry *e = find_tag(m, tag);
    if (e) e->analysis = *a;
    pthread_rwlock_unlock(&m->rw);
    return e ? ATT_OK : ATT_E_NOT_FOUND;
}

att_err camera_mgr_analysis(camera_mgr *m, const char *id, struct camera_analysis *out)
{
    if (!m || !id || !out) return ATT_E_INVALID;
    pthread_rwlock_rdlock(&m->rw);
    struct cam_entry *e = find_id(m, id, NULL);
    if (e) *out = e->analysis;
    pthread_rwlock_unlock(&m->rw);
    return e ? ATT_OK : ATT_E_NOT_FOUND;
}

void camera_mgr_set_loaded(camera_mgr *m)
{
    if (m) atomic_store(&m->loaded, true);
}

bool camera_mgr_loaded(camera_mgr *m) { return m && atomic_load(&m->loaded); }

void camera_mgr_set_gate(camera_mgr *m, camera_mgr_gate gate, void *ud)
{
    m->gate = gate;
    m->gate_ud = ud;
}

void camera_mgr_write_lock(camera_mgr *m) { pthread_mutex_lock(&m->write); }
void camera_mgr_write_unlock(camera_mgr *m) { pthread_mutex_unlock(&m->write); }
