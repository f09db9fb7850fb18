/* The analysis worker pool: pop a sampled frame, detect + landmarks (in parallel, no lock), then per
 * camera and in frame order track, recognise undecided tracks and hand decisions to attendance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/log.h"
#include "attendd/uuid.h"
#include "pipeline_internal.h"

#define POP_TIMEOUT_MS 500 /* idle workers still run housekeeping this often */

void pipeline_cfg_defaults(struct pipeline_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->match_threshold = AV_DEFAULT_THRESHOLD;
    c->idle_ms = 300;
    trk_params_defaults(&c->trk);
}

static double queue_depth(void *ud)
{
    struct cap_queue_stats st;
    cap_queue_get_stats(ud, &st);
    return (double)st.depth;
}

att_err pipeline_new(const struct pipeline_cfg *cfg, pipeline **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg || !cfg->queue || !cfg->lookup || !cfg->models || !cfg->gallery || !cfg->rules || !cfg->events) {
        snprintf(err, errlen, "pipeline: queue, lookup, models, gallery, rules and events are required");
        return ATT_E_INVALID;
    }
    if (cfg->workers < 0 || cfg->workers > PIPELINE_WORKERS_MAX || cfg->min_face_px < 0 || cfg->idle_ms < 0 ||
        !(cfg->match_threshold >= 0 && cfg->match_threshold <= 1)) {
        snprintf(err, errlen, "pipeline: workers 0..%d, min_face_px >= 0, idle_ms >= 0, match_threshold 0..1",
                 PIPELINE_WORKERS_MAX);
        return ATT_E_INVALID;
    }
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "pipeline: out of memory");
        return ATT_E_NOMEM;
    }
    p->cfg = *cfg;
    p->cfg.trk.sim_threshold = cfg->match_threshold;
    if (!cfg->confirm_models) p->cfg.trk.confirm_max = 0; /* nothing to confirm with */
    else if (p->cfg.trk.confirm_max == 0) p->cfg.trk.confirm_max = PIPELINE_CONFIRM_MAX;
    trk_tracker *probe;
    att_err e = trk_new(&p->cfg.trk, &probe); /* tracker parameters are checked once, here */
    if (e != ATT_OK) {
        snprintf(err, errlen, "pipeline: tracker parameters refused");
        free(p);
        return e;
    }
    trk_free(probe);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->n_workers = cfg->workers ? cfg->workers
                                : (int)(cores < 1                          ? 1
                                            : cores > PIPELINE_WORKERS_MAX ? PIPELINE_WORKERS_MAX
                                                                           : cores);
    pthread_mutex_init(&p->table_lock, NULL);
    pthread_mutex_init(&p->hk_lock, NULL);
    if (sched_new(cfg->idle_ms, &p->sched) != ATT_OK) {
        snprintf(err, errlen, "pipeline: out of memory");
        pipeline_free(p);
        return ATT_E_NOMEM;
    }
    sched_ranker(p->sched, &p->ranker);
    for (int i = 0; i < p->n_workers; i++) {
        av_err ve;
        if (av_pipeline_new(cfg->models, 0, &p->vp[i], &ve) != AV_OK) {
            snprintf(err, errlen, "pipeline: vision worker %d: %s", i, ve.msg);
            pipeline_free(p);
            return ATT_E_INTERNAL;
        }
        if (cfg->confirm_models && av_confirm_net_new(cfg->confirm_models, &p->cn[i], &ve) != AV_OK) {
            snprintf(err, errlen, "pipeline: confirming network of worker %d: %s", i, ve.msg);
            pipeline_free(p);
            return ATT_E_INTERNAL;
        }
    }
    if (cfg->metrics) {
        metric *s;
        if (metrics_callback(cfg->metrics, METRIC_GAUGE, "attendd_analysis_queue_depth",
                             "Frames of all cameras waiting for an analysis worker", NULL, queue_depth, cfg->queue,
                             &s) == ATT_OK)
            p->g_metrics[p->n_g++] = s;
        if (metrics_gauge(cfg->metrics, "attendd_analysis_workers", "Analysis worker threads", NULL, &s) == ATT_OK) {
            metric_set(s, p->n_workers);
            p->g_metrics[p->n_g++] = s;
        }
        sched_metrics(p->sched, cfg->metrics, p->g_metrics, &p->n_g);
        if (metrics_counter(cfg->metrics, "attendd_analysis_confirmations_total",
                            "Confirming embeddings run for tracks about to decide", NULL, &s) == ATT_OK)
            p->g_metrics[p->n_g++] = p->m_confirms = s;
        if (metrics_counter(cfg->metrics, "attendd_analysis_confirmations_refused_total",
                            "Track decisions the confirming model refused (the track stayed undecided)", NULL,
                            &s) == ATT_OK)
            p->g_metrics[p->n_g++] = p->m_confirm_refused = s;
    }
    *out = p;
    return ATT_OK;
}

/* Remove seq from the camera's in-flight set and wake the frames waiting behind it. Camera lock held. */
static void inflight_done(struct cam_state *c, uint64_t seq)
{
    for (size_t i = 0; i < c->n_inflight; i++)
        if (c->inflight[i] == seq) {
            c->inflight[i] = c->inflight[--c->n_inflight];
            break;
        }
    pthread_cond_broadcast(&c->turn);
}

static bool older_inflight(const struct cam_state *c, uint64_t seq)
{
    for (size_t i = 0; i < c->n_inflight; i++)
        if (c->inflight[i] < seq) return true;
    return false;
}

/* Answer every confirmation the tracker asks for in this frame; want/track are the frame's crops
 * that were recognised. Camera lock held. */
static void confirm_frame(struct pipeline *p, av_confirm_net *cn, struct cam_state *c, const av_image *img,
                          const av_face *want, const uint32_t *track, size_t nw)
{
    struct trk_confirm_req rq;
    while (trk_pop_confirm(c->trk, &rq)) {
        char err[256];
        struct trk_confirmation cf;
        bool ran = false;
        size_t i;
        for (i = 0; i < nw && track[i] != rq.track_id; i++) {
        }
        att_err e = ATT_E_INTERNAL;
        if (i < nw) e = confirm_face(cn, img, &want[i], p->cfg.gallery, &rq, &cf, &ran, err, sizeof err);
        else snprintf(err, sizeof err, "no crop of the track in this frame");
        if (e != ATT_OK) {
            /* never a decision the confirming model could not check */
            log_error("pipeline", "camera %s: track %u: confirmation: %s", c->id, (unsigned)rq.track_id, err);
            atomic_fetch_add(&p->errors, 1);
        }
        if (ran) {
            metric_inc(p->m_confirms);
            atomic_fetch_add(&p->confirms, 1);
        }
        bool decided;
        bool answered = e == ATT_OK;
        e = trk_confirm(c->trk, rq.track_id, answered ? &cf : NULL, &decided);
        if (e != ATT_OK) {
            log_error("pipeline", "camera %s: track %u: %s", c->id, (unsigned)rq.track_id, att_err_code(e));
        } else if (!decided) {
            metric_inc(p->m_confirm_refused);
            atomic_fetch_add(&p->confirm_refused, 1);
            log_debug("pipeline", "camera %s: track %u: decision refused by the confirming model (fused %.2f)", c->id,
                      (unsigned)rq.track_id, answered ? cf.fused : 0.0f);
        }
    }
}

/* Track, recognise and decide for one detected frame. Camera lock held, frame's turn. */
static void track_frame(struct pipeline *p, av_pipeline *vp, av_confirm_net *cn, struct cam_state *c,
                        enum camera_role role, const cap_frame *f, const av_image *img, const av_face *faces, size_t n)
{
    char err[256];
    int64_t ts = f->wall_us > c->last_ts_us ? f->wall_us : c->last_ts_us; /* tracker time never goes back */
    struct trk_det dets[PIPELINE_MAX_FACES];
    struct trk_assign as[PIPELINE_MAX_FACES];
    for (size_t i = 0; i < n; i++)
        dets[i] = (struct trk_det){.x = faces[i].box.x1,
                                   .y = faces[i].box.y1,
                                   .w = faces[i].box.x2 - faces[i].box.x1,
                                   .h = faces[i].box.y2 - faces[i].box.y1,
                                   .score = faces[i].score};
    att_err e = trk_update(c->trk, ts, dets, n, as);
    if (e != ATT_OK) {
        log_error("pipeline", "camera %s: tracker: %s", c->id, att_err_code(e));
        atomic_fetch_add(&p->errors, 1);
        return;
    }
    c->last_ts_us = ts;
    c->last_seq = f->seq;

    /* crops of tracks still undecided (and not judged a spoof, not lulled): one batch. Landmarks
     * only for these: the tracker needs boxes alone, and most faces in view belong to tracks that
     * have decided already */
    av_face want[PIPELINE_MAX_FACES];
    uint32_t track[PIPELINE_MAX_FACES];
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        if (as[i].track_id && as[i].want_recog) {
            want[nw] = faces[i];
            track[nw++] = as[i].track_id;
        }
    if (nw) {
        struct trk_recog rec[PIPELINE_MAX_FACES];
        int64_t t0 = att_time_mono_us();
        av_err ve;
        if (av_landmarks(vp, img, want, nw, &ve) != AV_OK) {
            log_error("pipeline", "camera %s: landmarks: %s", c->id, ve.msg);
            atomic_fetch_add(&p->errors, 1);
            return;
        }
        e = recog_faces(vp, img, want, nw, p->cfg.gallery, p->cfg.trk.sim_threshold, rec, err, sizeof err);
        metric_observe(c->h_recog, (double)(att_time_mono_us() - t0) / 1e6);
        if (e != ATT_OK) {
            log_error("pipeline", "camera %s: recognition: %s", c->id, err);
            atomic_fetch_add(&p->errors, 1);
            return;
        }
        metric_add(c->recogs, nw);
        atomic_fetch_add(&p->recognitions, nw);
        for (size_t i = 0; i < nw; i++) {
            /* a face that matched no one (a patient, a visitor) leaves no trace, not even at debug level */
            if (rec[i].matched && log_get_level() <= LOG_DEBUG_LVL) {
                char who[ATT_UUID_STR];
                att_uuid_format(&rec[i].person, who);
                log_debug("pipeline", "camera %s: track %u: %.0f px, top-1 %s similarity %.3f, liveness %.3f", c->id,
                          (unsigned)track[i], want[i].box.y2 - want[i].box.y1, who, rec[i].similarity, rec[i].liveness);
            }
            e = trk_add_recognition(c->trk, track[i], ts, &rec[i]);
            if (e != ATT_OK && e != ATT_E_NOT_FOUND)
                log_error("pipeline", "camera %s: track %u: %s", c->id, (unsigned)track[i], att_err_code(e));
        }
        if (cn) confirm_frame(p, cn, c, img, want, track, nw);
    }

    struct trk_decision d;
    while (trk_pop_decision(c->trk, &d)) {
        struct rules_result res;
        bool emitted;
        char person[ATT_UUID_STR];
        att_uuid_format(&d.person, person);
        metric_inc(c->decisions);
        atomic_fetch_add(&p->decisions, 1);
        rules *r = p->cfg.rules_of ? p->cfg.rules_of(p->cfg.ud, c->tag) : p->cfg.rules;
        e = attend_decision(r, p->cfg.events, &c->id_bin, role, &d, &res, &emitted, err, sizeof err);
        if (e != ATT_OK) {
            /* the spool refused it (disk full): the reason is logged, the punch is lost, never silently */
            log_error("pipeline", "camera %s: person %s: event NOT recorded: %s", c->id, person, err);
            atomic_fetch_add(&p->errors, 1);
        } else if (emitted) {
            metric_inc(c->events);
            atomic_fetch_add(&p->events, 1);
            metric_observe(c->h_event, (double)(att_time_mono_us() - f->mono_us) / 1e6);
            log_info("pipeline",
                     "camera %s: person %s clock-%s (track %u, similarity %.3f, liveness %.3f, %d agreeing)", c->id,
                     person, event_kind_name(res.kind), (unsigned)d.track_id, d.similarity, d.liveness, d.agreeing);
        } else {
            atomic_fetch_add(&p->suppressed, 1);
            log_debug("pipeline", "camera %s: person %s: no event (%s)", c->id, person, rules_reason_name(res.reason));
        }
    }
}

/* What the camera needs from the analysis now (schedule.h), from its tracks. Camera lock held. */
static enum sched_need cam_need(const struct pipeline *p, const struct cam_state *c)
{
    struct trk_track_info ti[PIPELINE_MAX_FACES];
    size_t n = trk_tracks(c->trk, ti, PIPELINE_MAX_FACES);
    if (n > PIPELINE_MAX_FACES) return NEED_NEW; /* more than we can look at: stay at full rate */
    /* a face near the threshold decides within a window or two when it can (3 of 5 at 6 fps) */
    return sched_need_of(ti, n, p->cfg.trk.lull_sim, 2 * p->cfg.trk.window_m);
}

static void process(struct pipeline *p, av_pipeline *vp, av_confirm_net *cn, cap_frame *f)
{
    enum camera_role role;
    att_err e = p->cfg.lookup(p->cfg.ud, f->tag, &role);
    if (e != ATT_OK) {
        atomic_fetch_add(&p->unknown_camera, 1); /* removed since the frame was queued */
        return;
    }
    struct cam_state *c;
    if ((e = cams_acquire(p, f->tag, &f->camera_id, &c)) != ATT_OK) {
        char id[ATT_UUID_STR];
        att_uuid_format(&f->camera_id, id);
        log_error("pipeline", "camera %s: no analysis state: %s", id, att_err_code(e));
        atomic_fetch_add(&p->errors, 1);
        return;
    }
    pthread_mutex_lock(&c->lock);
    /* origin of the stream clock: decode delays only add, so the smallest difference is the best */
    double origin = (double)f->wall_us / 1e6 - (double)f->stream_ms / 1e3;
    bool new_session = f->session != c->session;
    if (new_session || origin < c->origin_s) {
        c->session = f->session;
        c->origin_s = origin;
        metric_set(c->origin, origin);
    }
    /* a static scene with nobody tracked has nothing new to detect: no detector pass (a face can
     * only come into view by moving; a full pass still runs every MOTION_FULL_EVERY frames) */
    size_t moved = 0;
    e = motion_update(&c->motion, f->bgr, f->width, f->height, f->stride, &moved);
    if (e != ATT_OK) {
        log_error("pipeline", "camera %s: motion: %s", c->id, att_err_code(e));
        atomic_fetch_add(&p->errors, 1);
    } else if (motion_skip_detect(&c->motion, moved, trk_tracks(c->trk, NULL, 0))) {
        metric_inc(c->still);
        atomic_fetch_add(&p->still_skipped, 1);
        pthread_mutex_unlock(&c->lock);
        cams_release(p, c);
        return;
    }
    if (c->n_inflight < PIPELINE_WORKERS_MAX) c->inflight[c->n_inflight++] = f->seq;
    pthread_mutex_unlock(&c->lock);

    av_image *img = NULL;
    av_face faces[PIPELINE_MAX_FACES];
    size_t found = 0;
    av_err ve;
    av_detect_opts o;
    av_detect_opts_init(&o);
    o.min_face_px = p->cfg.min_face_px;
    o.landmarks = 0; /* later, for the faces recognition wants (track_frame) */
    av_box roi = {(float)f->roi.x, (float)f->roi.y, (float)(f->roi.x + f->roi.w), (float)(f->roi.y + f->roi.h)};
    int64_t t0 = att_time_mono_us();
    bool ok = av_image_wrap_bgr(f->bgr, f->width, f->height, f->stride, &img, &ve) == AV_OK &&
        av_detect(vp, img, f->has_roi ? &roi : NULL, &o, faces, PIPELINE_MAX_FACES, &found, &ve) == AV_OK;
    int64_t t1 = att_time_mono_us();
    size_t n = found < PIPELINE_MAX_FACES ? found : PIPELINE_MAX_FACES;

    pthread_mutex_lock(&c->lock);
    while (older_inflight(c, f->seq)) pthread_cond_wait(&c->turn, &c->lock);
    if (!ok) {
        log_error("pipeline", "camera %s: detection: %s", c->id, ve.msg);
        atomic_fetch_add(&p->errors, 1);
    } else if (f->seq <= c->last_seq) {
        /* a newer frame of this camera was tracked first (popped by another worker a moment
         * earlier): tracking must not go back in time */
        atomic_fetch_add(&c->stale, 1);
        atomic_fetch_add(&p->stale, 1);
    } else {
        metric_observe(c->h_detect, (double)(t1 - t0) / 1e6);
        metric_inc(c->analysed);
        metric_add(c->faces, n);
        if (n && p->cfg.faces_seen) (void)p->cfg.faces_seen(p->cfg.ud, f->tag, n); /* NOT_FOUND: removed meanwhile */
        atomic_fetch_add(&p->frames, 1);
        atomic_fetch_add(&p->faces, n);
        track_frame(p, vp, cn, c, role, f, img, faces, n);
        sched_set_need(p->sched, c->tag, cam_need(p, c));
    }
    inflight_done(c, f->seq);
    pthread_mutex_unlock(&c->lock);
    av_image_free(img);
    cams_release(p, c);
}

static void *worker(void *arg)
{
    struct pipeline *p = ((void **)arg)[0];
    av_pipeline *vp = ((void **)arg)[1];
    av_confirm_net *cn = ((void **)arg)[2];
    free(arg);
    for (;;) {
        cap_frame *f = NULL;
        att_err e = cap_queue_pop_ranked(p->cfg.queue, POP_TIMEOUT_MS, &p->ranker, &f);
        if (e == ATT_E_UNAVAILABLE || atomic_load(&p->quit)) { /* closed and drained, or failed start */
            cap_frame_free(f);
            break;
        }
        if (f) {
            process(p, vp, cn, f);
            cap_frame_free(f);
        }
        cams_housekeeping(p);
    }
    return NULL;
}

att_err pipeline_start(pipeline *p)
{
    if (p->started) return ATT_E_CONFLICT;
    for (int i = 0; i < p->n_workers; i++) {
        void **arg = malloc(3 * sizeof *arg);
        if (!arg) return ATT_E_NOMEM;
        arg[0] = p;
        arg[1] = p->vp[i];
        arg[2] = p->cn[i];
        if (pthread_create(&p->threads[i], NULL, worker, arg) != 0) {
            free(arg);
            log_error("pipeline", "cannot start analysis worker %d", i);
            p->started = i; /* end and join what did start; the queue stays open for its owner */
            atomic_store(&p->quit, true);
            pipeline_join(p);
            return ATT_E_INTERNAL;
        }
        char name[16];
        snprintf(name, sizeof name, "analysis-%u", (unsigned)i % 1000u); /* 15 chars max */
        pthread_setname_np(p->threads[i], name);
    }
    p->started = p->n_workers;
    log_notice("pipeline", "%d analysis worker(s) started (min face %d px, threshold %.2f, %s)", p->n_workers,
               p->cfg.min_face_px, p->cfg.match_threshold,
               p->cfg.trk.confirm_max ? "decisions confirmed by the confirming model" : "no confirming model");
    return ATT_OK;
}

void pipeline_join(pipeline *p)
{
    if (!p || p->joined) return;
    for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
    p->joined = 1;
}

void pipeline_free(pipeline *p)
{
    if (!p) return;
    pipeline_join(p);
    cams_free_all(p);
    for (size_t i = 0; i < p->n_g; i++) metrics_remove(p->cfg.metrics, p->g_metrics[i]);
    for (int i = 0; i < p->n_workers; i++) {
        av_pipeline_free(p->vp[i]);
        av_confirm_net_free(p->cn[i]);
    }
    sched_free(p->sched);
    pthread_mutex_destroy(&p->table_lock);
    pthread_mutex_destroy(&p->hk_lock);
    free(p);
}

void pipeline_get_stats(pipeline *p, struct pipeline_stats *o)
{
    o->frames = atomic_load(&p->frames);
    o->stale = atomic_load(&p->stale);
    struct sched_stats ss;
    sched_get_stats(p->sched, &ss);
    o->idle_skipped = ss.skipped;
    o->still_skipped = atomic_load(&p->still_skipped);
    o->deficit = 0;
    for (int i = 0; i < NEED_COUNT; i++) o->deficit += ss.deficit[i];
    o->deficit_visitor = ss.deficit[NEED_VISITOR];
    o->unknown_camera = atomic_load(&p->unknown_camera);
    o->faces = atomic_load(&p->faces);
    o->recognitions = atomic_load(&p->recognitions);
    o->decisions = atomic_load(&p->decisions);
    o->events = atomic_load(&p->events);
    o->suppressed = atomic_load(&p->suppressed);
    o->errors = atomic_load(&p->errors);
    o->confirms = atomic_load(&p->confirms);
    o->confirm_refused = atomic_load(&p->confirm_refused);
    o->cameras = cams_count(p);
}
