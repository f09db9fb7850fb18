/* Need-based order of the analysis stage: which camera's sampled frame a free worker takes next,
 * which frames are not worth analysing, and how many frames cameras that needed analysis lost.
 * Internal to src/analysis (and its tests). */
#ifndef ATTENDD_SCHEDULE_H
#define ATTENDD_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "attendd/capture.h"
#include "attendd/errors.h"
#include "attendd/metrics.h"
#include "attendd/tracker.h"

/* What a camera needs from the analysis, most urgent first. Under overload the workers serve them
 * in this order, so the frames lost are the visitors' before anyone else's. */
enum sched_need {
    NEED_DECIDING = 0, /* an undecided track whose face looks enrolled (best_sim >= near_sim) and
                         * that is still young (fewer than fresh_max recognitions): a few more
                         * frames make its decision */
    NEED_NEW,          /* an undecided track not yet recognised (or not clearly a visitor yet) */
    NEED_VISITOR,      /* undecided tracks, all lulled: nobody enrolled, most likely */
    NEED_IDLE,         /* nobody in view, or only decided or not-live tracks */
    NEED_COUNT
};
/* "deciding", "new", "visitor", "idle". */
const char *sched_need_name(enum sched_need n);

/* A camera's need from its live tracks (trk_tracks). near_sim: the similarity from which a face
 * looks enrolled (the tracker's lull_sim); fresh_max: recognitions after which a face that still
 * has not decided is no longer "about to" (it stays near the threshold without reaching it) and
 * competes as a new face, so it cannot starve the cameras with new faces. */
enum sched_need sched_need_of(const struct trk_track_info *ti, size_t n, float near_sim, int fresh_max);

/* Rank of a frame (cap_ranker), lowest served first: the camera served longest ago (in its own
 * stream time) first, a face about to decide as if it had waited 400 ms longer, a visitors' camera
 * 300 ms less; idle and visitors' cameras only at the idle rate (idle_ms of stream time since their
 * last analysed frame), their other frames skipped. A camera not seen yet comes first. Under
 * overload the visitors lose first and a face about to decide last, and nobody starves. */

typedef struct sched sched;

/* idle_ms: the idle rate (one frame per idle_ms of stream time; 0 = every frame). */
att_err sched_new(int idle_ms, sched **out);
void sched_free(sched *s);
/* The ranker for cap_queue_pop_ranked(); valid while s lives. */
void sched_ranker(sched *s, struct cap_ranker *out);
/* After analysing a frame of tag: what the camera needs now. */
void sched_set_need(sched *s, uint64_t tag, enum sched_need need);
/* The camera is gone: forget it. */
void sched_forget(sched *s, uint64_t tag);

#define SCHED_WINDOW_TICKS 10 /* the deficit rate is over the last this many ticks (seconds) */

/* Once a second (housekeeping): move the deficit rate window on. */
void sched_tick(sched *s);

/* Register the pipeline-wide series: attendd_analysis_deficit (gauge: frames per second the
 * analysis fell short by, all cameras, over the last SCHED_WINDOW_TICKS ticks),
 * attendd_analysis_frames_total{need} and attendd_analysis_deficit_frames_total{need}. Up to
 * 1 + 2 * NEED_COUNT series go to out[*n...] (for removal); a failure is logged and skipped. */
void sched_metrics(sched *s, metrics *m, metric **out, size_t *n);

struct sched_cam_stats {
    enum sched_need need;
    uint64_t taken;     /* frames handed to a worker */
    uint64_t skipped;   /* frames not analysed: idle, not due */
    uint64_t deficit;   /* sampled frames lost (dropped by the lane) while the camera needed more
                       * than the idle rate: what the analysis fell short by */
    double deficit_fps; /* deficit per second over the last SCHED_WINDOW_TICKS ticks */
};
/* ATT_E_NOT_FOUND for a camera no frame of which was ranked yet. */
att_err sched_cam_stats(sched *s, uint64_t tag, struct sched_cam_stats *out);

struct sched_stats {
    uint64_t taken[NEED_COUNT];   /* frames handed to workers, by the camera's need then */
    uint64_t deficit[NEED_COUNT]; /* frames lost, by the camera's need when they were lost */
    uint64_t skipped;             /* idle frames not analysed */
    double deficit_fps;           /* all cameras' deficit per second over the window */
};
void sched_get_stats(sched *s, struct sched_stats *out);

#endif
