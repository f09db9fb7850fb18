/* The analysis stage: N worker threads pop sampled frames from the capture queue, detect and align
 * faces, track them per camera, recognise undecided tracks and turn decisions into events.
 * Design and figures in docs/pipeline.md "Analysis pipeline". */
#ifndef ATTENDD_PIPELINE_H
#define ATTENDD_PIPELINE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/capture.h"
#include "attendd/errors.h"
#include "attendd/event_writer.h"
#include "attendd/gallery.h"
#include "attendd/metrics.h"
#include "attendd/rules.h"
#include "attendd/spool.h"
#include "attendd/tracker.h"
#include "attendd/uuid.h"
#include "attendd/vision.h"

#define PIPELINE_WORKERS_MAX 64
#define PIPELINE_MAX_FACES 32  /* faces per frame handed to the tracker (largest first) */
#define PIPELINE_CONFIRM_MAX 3 /* confirmations a track may ask for (trk_params.confirm_max) */

/* The current role of the camera a frame's tag stands for (camera_mgr_lookup in the daemon); the
 * camera's id comes with the frame. A tag stands for one camera for as long as it resolves (tags are
 * never reused). ATT_E_NOT_FOUND when the camera was removed: the frame is discarded and the
 * camera's state freed. Called from workers. */
typedef att_err (*pipeline_lookup_fn)(void *ud, uint64_t tag, enum camera_role *role);
/* The camera's capture status (camera_mgr_status), for the frames in / dropped / queue metrics.
 * Optional. Called from a worker's housekeeping about once a second, never under a metrics lock. */
typedef att_err (*pipeline_status_fn)(void *ud, const char *camera_id, struct cap_status *out);
/* n faces were detected in an analysed frame of this tag (camera_mgr_add_faces_seen). Optional. */
typedef att_err (*pipeline_faces_fn)(void *ud, uint64_t tag, uint64_t n);
/* What the camera of this tag needs and how far the analysis falls short (camera_mgr_set_analysis).
 * Optional. Called from housekeeping about once a second. */
typedef att_err (*pipeline_analysis_fn)(void *ud, uint64_t tag, const struct camera_analysis *a);

struct pipeline_cfg {
    int workers;                                /* analysis threads, 1..PIPELINE_WORKERS_MAX; 0 = online cores */
    int min_face_px;                            /* av_detect_opts.min_face_px (0 = whole-frame pass only) */
    int idle_ms;                                /* a camera with no undecided track is analysed at most every
                                   * idle_ms of capture time (other sampled frames are skipped
                                   * and counted), as is one with visitors only (served last);
                                   * 0 = every sampled frame */
    float match_threshold;                      /* gallery top-1 similarity that counts as that person */
    struct trk_params trk;                      /* per-camera tracker; sim_threshold is set from match_threshold */
    cap_frame_queue *queue;                     /* borrowed; closing it ends the workers once drained */
    pipeline_lookup_fn lookup;                  /* required */
    pipeline_status_fn status;                  /* may be NULL */
    pipeline_faces_fn faces_seen;               /* may be NULL */
    pipeline_analysis_fn analysis;              /* may be NULL */
    void *ud;                                   /* for lookup, status, faces_seen and analysis */
    const av_models *models;                    /* borrowed; one av_pipeline per worker is made from it */
    const av_confirm_models *confirm_models;    /* borrowed, or NULL: decisions are confirmed with the
                                   * confirming model (one av_confirm_net per worker, trk.confirm_max
                                   * PIPELINE_CONFIRM_MAX unless set); NULL = the tracker decides alone
                                   * (confirm_max 0) */
    gal *gallery;                               /* borrowed, thread-safe */
    rules *rules;                               /* borrowed, thread-safe; seed it before start */
    rules *(*rules_of)(void *ud, uint64_t tag); /* optional: a rules engine per camera (the
                                   * benchmark, whose N cameras show the same people at the same
                                   * time: with one engine the rules rightly merge them into one
                                   * pass); NULL = `rules` for every camera, as in the daemon */
    event_writer *events;                       /* borrowed; event_emit() target */
    metrics *metrics;                           /* may be NULL; per-camera series are added as cameras appear */
};

/* Fill defaults: workers 0, min_face_px 0, idle_ms 300, match_threshold AV_DEFAULT_THRESHOLD, trk defaults;
 * the pointers NULL. */
void pipeline_cfg_defaults(struct pipeline_cfg *c);

typedef struct pipeline pipeline;

/* Check cfg, make one vision pipeline per worker (ATT_E_INTERNAL with err on a model failure),
 * register the pipeline-wide metrics. Threads start with pipeline_start(). */
att_err pipeline_new(const struct pipeline_cfg *cfg, pipeline **out, char *err, size_t errlen);
/* Start the workers. ATT_E_CONFLICT if already started, ATT_E_INTERNAL if a thread failed. */
att_err pipeline_start(pipeline *p);
/* Wait for the workers to end: close the queue first (cap_queue_close), they finish the frames
 * still queued, then return. Idempotent; fine if never started. */
void pipeline_join(pipeline *p);
/* Join, unregister metrics, free everything. NULL ok. */
void pipeline_free(pipeline *p);

struct pipeline_stats {
    uint64_t frames;          /* frames analysed */
    uint64_t stale;           /* frames dropped because a newer frame of the camera was tracked first */
    uint64_t idle_skipped;    /* frames not analysed: no undecided track in view (idle_ms) */
    uint64_t still_skipped;   /* frames not detected: a static scene with nobody tracked */
    uint64_t deficit;         /* sampled frames lost by cameras that needed more than the idle rate */
    uint64_t deficit_visitor; /* of those, lost while the camera had visitors only */
    uint64_t unknown_camera;  /* frames of a camera that no longer exists */
    uint64_t faces;           /* faces detected */
    uint64_t recognitions;    /* crops embedded and searched */
    uint64_t decisions;       /* track decisions */
    uint64_t events;          /* events made durable */
    uint64_t suppressed;      /* decisions the rules turned into no event */
    uint64_t errors;          /* vision, tracker or emit failures (logged) */
    uint64_t confirms;        /* confirming embeddings run for tracks about to decide */
    uint64_t confirm_refused; /* confirmations that refused a decision (the track stayed undecided) */
    size_t cameras;           /* cameras with state */
};
void pipeline_get_stats(pipeline *p, struct pipeline_stats *out);

/* ---- attendance (src/attendance/attendance.c) -------------------------------------------- */

/* Seed r with each person's last punch: from the database (events since now - max_shift, c may be
 * NULL to skip) and from the events still in the spool (s may be NULL), the newer winning. counts
 * (may be NULL) receive how many punches came from each. ATT_E_DB / ATT_E_IO with err on failure;
 * seeding is idempotent, so a failed database seed can be retried later. */
att_err attendance_seed(rules *r, PGconn *c, spool *s, int64_t since_us, size_t *from_db, size_t *from_spool, char *err,
                        size_t errlen);

/* ---- in the daemon (src/attendance/pipeline_app.c) ------------------------------------------ */

struct app;
/* Seed the rules (database + spool) and start the workers on app->frames, once the models and the
 * gallery are ready. ATT_OK when running (also if it already was); ATT_E_NOT_READY / ATT_E_DB
 * while something it needs is not there yet: main retries. Other errors are logged. */
att_err pipeline_app_start(struct app *app);
/* After cap_queue_close(app->frames) and before the camera manager is freed (workers look cameras
 * up until they end) and before the event writer stops. NULL-safe on what never started. */
void pipeline_app_stop(struct app *app);

#endif
