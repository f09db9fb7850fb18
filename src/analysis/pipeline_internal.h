/* Internals shared by the analysis stage's files: per-camera state (pipeline_cams.c), recognition of
 * track crops (recognize.c) and decision -> rules -> event (decide.c). Not a public interface. */
#ifndef ATTENDD_PIPELINE_INTERNAL_H
#define ATTENDD_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "attendd/pipeline.h"
#include "attendd/time.h"
#include "attendd/uuid.h"
#include "motion.h"
#include "schedule.h"

#define SHORTAGE_LOG_US (60 * 1000000LL) /* cameras short of analysis are logged this often */

/* One camera as the analysis stage sees it. The table owns it; workers hold a reference while they
 * work on one of its frames. */
struct cam_state {
    uint64_t tag;          /* the frames' tag */
    att_uuid id_bin;       /* camera uuid (the frames' camera_id), for events */
    char id[ATT_UUID_STR]; /* the same as text: logs, metrics label */
    pthread_mutex_t lock;  /* serialises tracker, recognition and decisions of this camera */
    pthread_cond_t turn;   /* signalled when a frame leaves `inflight` */
    trk_tracker *trk;
    struct motion motion;                    /* the last sampled frame's grey cells (camera lock) */
    int64_t last_ts_us;                      /* last time fed to the tracker (kept non-decreasing) */
    uint64_t last_seq;                       /* last frame seq tracked; an older frame is stale */
    uint64_t inflight[PIPELINE_WORKERS_MAX]; /* seqs popped and not yet tracked, so that frames
                                                detected in parallel are tracked in order */
    size_t n_inflight;
    uint32_t session; /* capture session of the origin estimate */
    double origin_s;  /* min(wall - stream position) in this session, seconds */
    int refs;         /* workers using it (table lock) */
    bool dead;        /* camera gone: freed when refs drops to 0 */
    struct cam_state *next;
    /* cached capture and scheduling status, refreshed by housekeeping, read by metrics callbacks */
    _Atomic uint64_t st_in, st_dropped, st_depth, stale, st_idle_skipped, st_deficit;
    _Atomic uint64_t st_deficit_mfps; /* frames per second lost lately (sched), x1000 */
    uint64_t deficit_logged;          /* deficit at the last shortage log (hk_lock) */
    metric *m[20];                    /* every series of this camera (for removal) */
    size_t n_m;
    metric *analysed, *still, *faces, *recogs, *decisions, *events, *origin;
    metric *h_detect, *h_recog, *h_event;
};

struct pipeline {
    struct pipeline_cfg cfg;
    int n_workers;
    av_pipeline *vp[PIPELINE_WORKERS_MAX];
    av_confirm_net *cn[PIPELINE_WORKERS_MAX]; /* each worker's confirming network (NULL: no confirmation) */
    pthread_t threads[PIPELINE_WORKERS_MAX];
    int started, joined;
    atomic_bool quit;           /* workers end at their next pop timeout (failed start only) */
    pthread_mutex_t table_lock; /* guards cams and every cam_state's refs/dead/next */
    struct cam_state *cams;
    pthread_mutex_t hk_lock;    /* one worker does housekeeping at a time */
    _Atomic int64_t hk_next_us; /* monotonic time of the next housekeeping */
    int64_t log_next_us;        /* monotonic time of the next shortage log (hk_lock) */
    sched *sched;               /* which camera's frame a worker takes next */
    struct cap_ranker ranker;   /* sched's, for cap_queue_pop_ranked */
    metric *g_metrics[6 + 2 * NEED_COUNT];
    metric *m_confirms, *m_confirm_refused; /* confirmations run / refused (NULL without metrics) */
    size_t n_g;
    _Atomic uint64_t frames, stale, still_skipped, unknown_camera, faces, recognitions, decisions, events, suppressed,
        errors;
    _Atomic uint64_t confirms, confirm_refused; /* confirming embeddings run; decisions they refused */
};

/* ---- pipeline_cams.c ---- */
/* The state for (tag, id), created on first sight (tracker + metrics), with a reference taken. */
att_err cams_acquire(struct pipeline *p, uint64_t tag, const att_uuid *id, struct cam_state **out);
void cams_release(struct pipeline *p, struct cam_state *c);
/* About once a second: forget removed cameras, refresh cached capture status. */
void cams_housekeeping(struct pipeline *p);
/* Free every state (workers joined). */
void cams_free_all(struct pipeline *p);
size_t cams_count(struct pipeline *p);

/* ---- recognize.c ---- */
/* Align, embed (one batch) and search the gallery for n faces (with landmarks) of img; liveness
 * only for faces whose top-1 reaches live_min_sim (others: liveness -1, not measured); out[i]
 * receives faces[i]'s recognition. */
att_err recog_faces(av_pipeline *vp, const av_image *img, const av_face *faces, size_t n, gal *g, float live_min_sim,
                    struct trk_recog *out, char *err, size_t errlen);

/* ---- confirm.c ---- */
/* Answer a track's confirmation request for face (with landmarks) of img: one confirming embedding
 * (*ran) when the person (and a look-alike's runner-up) carry confirming templates, the fused scores
 * into out. ATT_E_INTERNAL / gallery errors with err: the caller refuses the confirmation. */
att_err confirm_face(av_confirm_net *cn, const av_image *img, const av_face *face, gal *g,
                     const struct trk_confirm_req *rq, struct trk_confirmation *out, bool *ran, char *err,
                     size_t errlen);
/* Its two steps (the benchmark replays cached embeddings through them): whether an embedding is
 * needed at all (out filled for the case it is not), and the fused scores of embedding v. */
att_err confirm_need(gal *g, const struct trk_confirm_req *rq, struct trk_confirmation *out, bool *need);
att_err confirm_fuse(gal *g, const struct trk_confirm_req *rq, const float v[AV_CONFIRM_DIM],
                     struct trk_confirmation *out);

/* ---- decide.c ---- */
/* One track decision on camera (id, role): rules, then event_emit on RULES_EMIT. *emitted tells
 * which. ATT_E_IO etc. with err when the event could not be made durable. */
att_err attend_decision(rules *r, event_writer *w, const att_uuid *camera, enum camera_role role,
                        const struct trk_decision *d, struct rules_result *res, bool *emitted, char *err,
                        size_t errlen);

#endif
