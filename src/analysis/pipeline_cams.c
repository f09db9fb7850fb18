/* Per-camera state of the analysis stage: created on a camera's first frame (tracker + metrics),
 * freed once the camera is gone; housekeeping refreshes the capture figures the metrics show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/uuid.h"
#include "pipeline_internal.h"

static double read_u64(void *ud) { return (double)atomic_load((_Atomic uint64_t *)ud); }
static double read_milli(void *ud) { return (double)atomic_load((_Atomic uint64_t *)ud) / 1000.0; }

static void cam_metrics(struct pipeline *p, struct cam_state *c)
{
    metrics *m = p->cfg.metrics;
    if (!m) return;
    const char *lb[] = {"camera", c->id, NULL};
    struct {
        enum metric_type t;
        const char *name, *help;
        _Atomic uint64_t *src;
        metric **out;
    } defs[] = {
        {METRIC_COUNTER, "attendd_camera_frames_in_total", "Frames decoded by the camera's capture thread", &c->st_in,
         NULL},
        {METRIC_COUNTER, "attendd_camera_frames_dropped_total",
         "Sampled frames not analysed: dropped by the full queue lane, or stale", &c->st_dropped, NULL},
        {METRIC_GAUGE, "attendd_camera_queue_depth", "Frames of this camera waiting for analysis", &c->st_depth, NULL},
        {METRIC_COUNTER, "attendd_camera_frames_analysed_total", "Frames run through detection and tracking", NULL,
         &c->analysed},
        {METRIC_COUNTER, "attendd_camera_frames_idle_skipped_total",
         "Sampled frames not analysed because the camera had no undecided track (analysis_idle_ms)",
         &c->st_idle_skipped, NULL},
        {METRIC_COUNTER, "attendd_camera_analysis_deficit_frames_total",
         "Sampled frames the camera lost (dropped unanalysed) while it needed more than the idle rate", &c->st_deficit,
         NULL},
        {METRIC_COUNTER, "attendd_camera_frames_still_total",
         "Sampled frames not run through detection: a static scene with nobody tracked", NULL, &c->still},
        {METRIC_COUNTER, "attendd_camera_faces_total", "Faces detected (one per face per analysed frame)", NULL,
         &c->faces},
        {METRIC_COUNTER, "attendd_camera_recognitions_total", "Face crops embedded and searched in the gallery", NULL,
         &c->recogs},
        {METRIC_COUNTER, "attendd_camera_decisions_total", "Tracks that decided on a person", NULL, &c->decisions},
        {METRIC_COUNTER, "attendd_camera_events_total", "Attendance events made durable for this camera", NULL,
         &c->events},
        {METRIC_GAUGE, "attendd_camera_stream_origin_seconds",
         "Wall-clock time of the current capture session's first frame (frame time - stream position)", NULL,
         &c->origin},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        metric *s = NULL;
        att_err e = defs[i].src
            ? metrics_callback(m, defs[i].t, defs[i].name, defs[i].help, lb, read_u64, defs[i].src, &s)
            : defs[i].t == METRIC_COUNTER ? metrics_counter(m, defs[i].name, defs[i].help, lb, &s)
                                          : metrics_gauge(m, defs[i].name, defs[i].help, lb, &s);
        if (e != ATT_OK) {
            log_warn("pipeline", "camera %s: metric %s not registered: %s", c->id, defs[i].name, att_err_code(e));
            continue;
        }
        if (defs[i].out) *defs[i].out = s;
        c->m[c->n_m++] = s;
    }
    metric *d = NULL;
    if (metrics_callback(m, METRIC_GAUGE, "attendd_camera_analysis_deficit",
                         "Sampled frames per second the camera lost while it needed them, over the last 10 s", lb,
                         read_milli, &c->st_deficit_mfps, &d) == ATT_OK)
        c->m[c->n_m++] = d;
    else log_warn("pipeline", "camera %s: metric attendd_camera_analysis_deficit not registered", c->id);
    static const char *stages[] = {"detect", "recognize", "frame_to_event"};
    metric **hs[] = {&c->h_detect, &c->h_recog, &c->h_event};
    for (size_t i = 0; i < 3; i++) {
        const char *hl[] = {"camera", c->id, "stage", stages[i], NULL};
        metric *s = NULL;
        att_err e = metrics_histogram(m, "attendd_camera_stage_seconds",
                                      "Analysis latency per stage: detection per frame, recognition (landmarks, "
                                      "align, embed, liveness, search) per batch, deciding frame's decode to "
                                      "durable event",
                                      hl, metrics_latency_buckets, metrics_latency_buckets_n, &s);
        if (e != ATT_OK) {
            log_warn("pipeline", "camera %s: stage histogram not registered: %s", c->id, att_err_code(e));
            continue;
        }
        *hs[i] = s;
        c->m[c->n_m++] = s;
    }
}

static void cam_free(struct pipeline *p, struct cam_state *c)
{
    for (size_t i = 0; i < c->n_m; i++) metrics_remove(p->cfg.metrics, c->m[i]);
    trk_free(c->trk);
    motion_free(&c->motion);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->turn);
    free(c);
}

/* Unlink and free dead states nobody uses. Table lock held. */
static void reap(struct pipeline *p)
{
    for (struct cam_state **pp = &p->cams; *pp;) {
        struct cam_state *c = *pp;
        if (c->dead && c->refs == 0) {
            *pp = c->next;
            sched_forget(p->sched, c->tag);
            log_info("pipeline", "camera %s: analysis state freed", c->id);
            cam_free(p, c);
        } else {
            pp = &c->next;
        }
    }
}

att_err cams_acquire(struct pipeline *p, uint64_t tag, const att_uuid *id, struct cam_state **out)
{
    pthread_mutex_lock(&p->table_lock);
    for (struct cam_state *c = p->cams; c; c = c->next) {
        if (c->dead) continue;
        if (c->tag == tag && att_uuid_eq(&c->id_bin, id)) {
            c->refs++;
            pthread_mutex_unlock(&p->table_lock);
            *out = c;
            return ATT_OK;
        }
        /* the tag now stands for another camera, or the camera got another tag: a new life */
        if (c->tag == tag || att_uuid_eq(&c->id_bin, id)) c->dead = true;
    }
    reap(p); /* so that a re-added camera's metric names are free again */
    struct cam_state *c = calloc(1, sizeof *c);
    att_err e = ATT_E_NOMEM;
    if (!c) {
        pthread_mutex_unlock(&p->table_lock);
        return e;
    }
    if ((e = trk_new(&p->cfg.trk, &c->trk)) != ATT_OK) {
        free(c);
        pthread_mutex_unlock(&p->table_lock);
        return e;
    }
    c->tag = tag;
    c->id_bin = *id;
    att_uuid_format(id, c->id);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->turn, NULL);
    c->origin_s = 0;
    cam_metrics(p, c);
    c->refs = 1;
    c->next = p->cams;
    p->cams = c;
    pthread_mutex_unlock(&p->table_lock);
    log_info("pipeline", "camera %s: analysis started", c->id);
    *out = c;
    return ATT_OK;
}

void cams_release(struct pipeline *p, struct cam_state *c)
{
    pthread_mutex_lock(&p->table_lock);
    c->refs--;
    if (c->dead && c->refs == 0) reap(p);
    pthread_mutex_unlock(&p->table_lock);
}

/* Once a minute: name the cameras that lost frames they needed since the last time, so an operator
 * knows the analysis is short (add an instance, or lower analysis_fps). hk_lock held. */
static void shortage_log(struct pipeline *p)
{
    char list[1024];
    size_t used = 0, short_n = 0, all = 0;
    uint64_t lost_all = 0;
    list[0] = '\0';
    pthread_mutex_lock(&p->table_lock);
    for (struct cam_state *c = p->cams; c; c = c->next) {
        if (c->dead) continue;
        all++;
        uint64_t d = atomic_load(&c->st_deficit), lost = d - c->deficit_logged;
        c->deficit_logged = d;
        if (!lost) continue;
        short_n++;
        lost_all += lost;
        if (used < sizeof list - 64) {
            int w = snprintf(list + used, sizeof list - used, "%s%s (%llu)", used ? ", " : "", c->id,
                             (unsigned long long)lost);
            if (w > 0) used += (size_t)w < sizeof list - used ? (size_t)w : sizeof list - used - 1;
        } else if (used < sizeof list - 8) {
            used += (size_t)snprintf(list + used, sizeof list - used, ", ...");
        }
    }
    pthread_mutex_unlock(&p->table_lock);
    if (short_n)
        log_warn("pipeline",
                 "analysis short on %zu of %zu camera(s) in the last minute: %llu sampled frame(s) lost while needed; "
                 "camera (frames): %s. Add an analysis instance or lower analysis_fps",
                 short_n, all, (unsigned long long)lost_all, list);
}

void cams_housekeeping(struct pipeline *p)
{
    int64_t now = att_time_mono_us();
    if (now < atomic_load(&p->hk_next_us) || pthread_mutex_trylock(&p->hk_lock) != 0) return;
    atomic_store(&p->hk_next_us, now + 1000000);
    sched_tick(p->sched);
    /* snapshot (tag, id) under the table lock; call out (camera manager locks) without it */
    struct snap {
        uint64_t tag;
        char id[ATT_UUID_STR];
    } *s = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&p->table_lock);
    for (struct cam_state *c = p->cams; c; c = c->next) cap++;
    s = cap ? malloc(cap * sizeof *s) : NULL;
    for (struct cam_state *c = p->cams; s && c; c = c->next)
        if (!c->dead) {
            s[n].tag = c->tag;
            memcpy(s[n].id, c->id, sizeof c->id);
            n++;
        }
    pthread_mutex_unlock(&p->table_lock);
    for (size_t i = 0; i < n; i++) {
        enum camera_role role;
        struct cap_status st;
        struct sched_cam_stats ss;
        bool gone = p->cfg.lookup(p->cfg.ud, s[i].tag, &role) == ATT_E_NOT_FOUND;
        bool have = !gone && p->cfg.status && p->cfg.status(p->cfg.ud, s[i].id, &st) == ATT_OK;
        bool have_ss = sched_cam_stats(p->sched, s[i].tag, &ss) == ATT_OK;
        if (have_ss && !gone && p->cfg.analysis) {
            struct camera_analysis a = {.deficit_fps = ss.deficit_fps, .deficit = ss.deficit};
            snprintf(a.need, sizeof a.need, "%s", sched_need_name(ss.need));
            (void)p->cfg.analysis(p->cfg.ud, s[i].tag, &a); /* NOT_FOUND: removed meanwhile */
        }
        pthread_mutex_lock(&p->table_lock);
        for (struct cam_state *c = p->cams; c; c = c->next) {
            if (c->dead || c->tag != s[i].tag || strcmp(c->id, s[i].id) != 0) continue;
            if (gone) {
                c->dead = true;
            } else if (have) {
                uint64_t waiting = st.frames_sampled - st.frames_dropped - st.frames_taken;
                atomic_store(&c->st_in, st.frames_in);
                atomic_store(&c->st_dropped, st.frames_dropped + atomic_load(&c->stale));
                atomic_store(&c->st_depth, st.frames_sampled >= st.frames_dropped + st.frames_taken ? waiting : 0);
            }
            if (!gone && have_ss) {
                atomic_store(&c->st_idle_skipped, ss.skipped);
                atomic_store(&c->st_deficit, ss.deficit);
                atomic_store(&c->st_deficit_mfps, (uint64_t)(ss.deficit_fps * 1000.0 + 0.5));
            }
        }
        pthread_mutex_unlock(&p->table_lock);
    }
    pthread_mutex_lock(&p->table_lock);
    reap(p);
    pthread_mutex_unlock(&p->table_lock);
    free(s);
    if (now >= p->log_next_us) {
        if (p->log_next_us) shortage_log(p);
        p->log_next_us = now + SHORTAGE_LOG_US;
    }
    pthread_mutex_unlock(&p->hk_lock);
}

void cams_free_all(struct pipeline *p)
{
    pthread_mutex_lock(&p->table_lock);
    while (p->cams) {
        struct cam_state *c = p->cams;
        p->cams = c->next;
        cam_free(p, c);
    }
    pthread_mutex_unlock(&p->table_lock);
}

size_t cams_count(struct pipeline *p)
{
    size_t n = 0;
    pthread_mutex_lock(&p->table_lock);
    for (struct cam_state *c = p->cams; c; c = c->next) n += !c->dead;
    pthread_mutex_unlock(&p->table_lock);
    return n;
}
