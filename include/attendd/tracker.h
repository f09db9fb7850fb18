/* Face tracker, one per camera: per-frame detections -> tracks (greedy IoU, centre-distance
 * fallback, optional embedding veto), and one recognition decision per track when K of the last M
 * recognitions agree on one person, each by a margin over the second-best person, and the median
 * liveness of the window says live. With confirmation on, a window that would decide (or agrees on
 * a person only short of the margin) asks the caller for the confirming model's fused score first
 * (trk_pop_confirm -> trk_confirm). Pure data structure: no threads, no I/O, no model; the caller
 * serialises all calls for one camera. */
#ifndef ATTENDD_TRACKER_H
#define ATTENDD_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/uuid.h"

#define TRK_EMB_DIM 512    /* fr_feature.onnx output, L2-normalised */
#define TRK_WINDOW_MAX 16  /* upper bound for trk_params.window_m */
#define TRK_CONFIRM_MAX 16 /* upper bound for trk_params.confirm_max */
/* Fused-score lead over the runner-up that resolves a look-alike window (docs/pipeline.md
 * "Confirmation"). */
#define TRK_CONFIRM_MARGIN 1.0f

/* Tunables; trk_params_defaults() gives values measured to suit 5-8 fps analysis of a corridor. */
struct trk_params {
    float iou_min;                 /* least IoU (against the motion-predicted box) to associate; 0.25 */
    float centre_max;              /* fallback: centre distance / track box size (max(w,h)) to
                              * associate a box no IoU claimed (fast walkers, low fps); 2.0 */
    float size_ratio_max;          /* fallback only: area ratio bound between box and track; 2.5 */
    float emb_min;                 /* both embeddings known: cosine below this vetoes a pairing; 0.25 */
    float min_score;               /* detections below this score are ignored (track id 0); 0.5 */
    int max_missed;                /* a track ends after this many consecutive frames unseen; 10 */
    int64_t max_unseen_us;         /* ... or after this long unseen, whichever first; 2 s */
    float sim_threshold;           /* a recognition counts for its person at or above this; 0.45 */
    float live_threshold;          /* a recognition is live at or above this (class-0 prob.); 0.5 */
    int agree_k;                   /* decide when agree_k of ...; 3 */
    int window_m;                  /* ... the last window_m recognitions agree (<= TRK_WINDOW_MAX); 5 */
    int spoof_m;                   /* a track whose last spoof_m measured recognitions are mostly
                              * clear spoofs (more than half under spoof_live: their median, for
                              * odd spoof_m) is judged not live for good (<= TRK_WINDOW_MAX); 7 */
    float spoof_live;              /* P(real) under which a recognition is clearly not live; 0.05 */
    float margin_min;              /* a recognition counts for its person only when its similarity beats
                              * the best other person's by this much; 0.10 */
    int lull_after;                /* budget: after this many recognitions in a row below lull_sim (a
                              * visitor, most likely) a track wants recognition only on every
                              * lull_every-th frame, until one reaches lull_sim again; 5 (0 = off) */
    int lull_every;                /* 3 */
    float lull_sim;                /* "clearly nobody enrolled": well under sim_threshold; 0.30 */
    int confirm_max;               /* > 0: a decision waits for the confirming model (trk_pop_confirm,
                              * trk_confirm), asked at most this many times per track; 0 = the
                              * tracker decides alone (no confirming model); 0 */
    float confirm_fused;           /* fused score (av_fuse_scores) a confirmation needs for the person:
                              * the first model already named P, so this verifies one claim (1:1);
                              * AV_FUSED_VERIFY_THRESHOLD */
    float confirm_margin;          /* look-alike window (agreement short of margin_min): fused score the
                              * person needs over the runner-up; TRK_CONFIRM_MARGIN */
    float confirm_lookalike_fused; /* look-alike window: fused score the person needs (the first model
                              * alone did not separate them: the single-photo bar);
                              * AV_FUSED_THRESHOLD */
    size_t max_tracks;             /* live tracks per camera; detections beyond are not tracked; 64 */
    size_t max_dets;               /* detections per frame accepted by trk_update(); 64 */
    size_t max_decisions;          /* decisions queued for trk_pop_decision(); oldest dropped; 64 */
};

/* Output of the recognition stage for one face crop. */
struct trk_recog {
    bool matched;           /* gallery returned a top-1 person */
    att_uuid person;        /* that person (ignored when !matched) */
    float similarity;       /* top-1 cosine similarity */
    float second;           /* best similarity of any other person; -1 when there is none */
    att_uuid second_person; /* that other person (ignored when second < 0) */
    float liveness;         /* probability of a real face, 0..1; negative = not
                                        * measured (never counts, neither live nor a spoof) */
    float quality;          /* crop quality, 0..1; informational (kept in history) */
};

/* One detected face in a frame. */
struct trk_det {
    float x, y, w, h;              /* box in pixels, top-left origin */
    float score;                   /* detector confidence */
    const float *embedding;        /* optional TRK_EMB_DIM L2-normalised floats, borrowed for
                                        * the call only; NULL if not computed */
    const struct trk_recog *recog; /* optional recognition of this face in this frame */
};

/* Per detection, what trk_update() did with it. */
struct trk_assign {
    uint32_t track_id; /* 0 = not tracked (low score, or max_tracks reached) */
    bool want_recog;   /* the track is still undecided and not judged not live:
                                        * worth running recognition on this crop */
};

/* The single decision a track makes. */
struct trk_decision {
    uint32_t track_id;
    att_uuid person;  /* the person agreed on */
    int64_t ts_us;    /* frame time of the recognition that completed agreement */
    float similarity; /* mean over the agreeing recognitions */
    float liveness;   /* mean over the agreeing recognitions */
    int agreeing;     /* how many agreed (>= agree_k) */
    bool confirmed;   /* the confirming model accepted it (fused holds its score) */
    float fused;      /* fused score of the confirmation; 0 when not confirmed */
    float x, y, w, h; /* track box at the deciding frame */
};

/* Read-only view of a live track (tests, diagnostics). */
struct trk_track_info {
    uint32_t id;
    float x, y, w, h;              /* last box */
    int64_t born_us, last_seen_us; /* frame times */
    int hits;                      /* frames associated */
    int recognitions;              /* recognitions received in total */
    bool decided;                  /* has emitted its decision */
    bool not_live;                 /* judged not live: will never decide */
    bool lulled;                   /* recognised only every lull_every-th frame for now */
    bool pending;                  /* waiting for a confirmation (trk_confirm) */
    float best_sim;                /* highest top-1 similarity of a matched recognition in the
                                        * window (0 when none): how enrolled the face looks */
};

struct trk_stats {
    uint64_t tracks_born;
    uint64_t tracks_ended;
    uint64_t decisions;
    uint64_t ended_undecided;   /* visitors, too short passes, spoofs */
    uint64_t spoof_tracks;      /* tracks judged not live */
    uint64_t untracked_dets;    /* detections dropped by max_tracks */
    uint64_t decisions_dropped; /* decision queue overflow (caller not polling) */
    uint64_t confirm_requests;  /* confirmations asked for (trk_pop_confirm) */
    uint64_t confirm_refused;   /* of those, refused: the track stayed undecided */
    uint64_t confirm_lookalike; /* look-alike windows a confirmation resolved into a decision */
};

typedef struct trk_tracker trk_tracker;

void trk_params_defaults(struct trk_params *p);

/* p may be NULL (defaults). ATT_E_INVALID names no field: check agree_k <= window_m <=
 * TRK_WINDOW_MAX, 1 <= spoof_m <= TRK_WINDOW_MAX, thresholds in [0,1], positive limits. */
att_err trk_new(const struct trk_params *p, trk_tracker **out);
void trk_free(trk_tracker *t);

/* One analysed frame at ts_us (frame times must not go backwards: ATT_E_INVALID). Associates
 * dets[0..n) to tracks, starts tracks for the rest, ends stale tracks, then applies each
 * detection's recog (if any) to its track. assign (n entries, may be NULL) receives the track of
 * each detection. ATT_E_INVALID if n > max_dets. A frame with n = 0 still ages tracks. */
att_err trk_update(trk_tracker *t, int64_t ts_us, const struct trk_det *dets, size_t n, struct trk_assign *assign);

/* Recognition that arrives after trk_update() for a frame at ts_us (the crop was sent to the
 * recognition stage). ATT_E_NOT_FOUND if the track has ended meanwhile. */
att_err trk_add_recognition(trk_tracker *t, uint32_t track_id, int64_t ts_us, const struct trk_recog *rec);

/* What a confirmation is asked for. */
enum trk_confirm_kind {
    TRK_CONFIRM_DECIDE,   /* the window decides for person unless the confirming model disagrees */
    TRK_CONFIRM_LOOKALIKE /* the window agrees on person only short of margin_min: decided only if the
                             fused score names person clearly over runner_up */
};

/* A track about to decide, waiting for trk_confirm(). The crop to confirm is the track's face in the
 * frame of the recognition that completed the window (ts_us): the caller's current frame. */
struct trk_confirm_req {
    uint32_t track_id;
    enum trk_confirm_kind kind;
    att_uuid person;            /* whom the window names */
    float similarity;           /* the newest recognition's similarity to person */
    att_uuid runner_up;         /* LOOKALIKE: the newest recognition's second-best person */
    float runner_up_similarity; /* LOOKALIKE: its similarity */
    int64_t ts_us;              /* frame time of the newest recognition */
};

/* The caller's answer: fused scores (av_fuse_scores of the first model's and the confirming
 * model's similarity) of the crop against person and, for a look-alike, the runner-up. */
struct trk_confirmation {
    bool has_template;           /* person carries a confirming template */
    float fused;                 /* against person (when has_template) */
    bool runner_up_has_template; /* LOOKALIKE: the runner-up carries one */
    float runner_up_fused;       /* LOOKALIKE: against the runner-up */
};

/* Next track waiting for a confirmation; false when none. Each request is handed out once and must
 * be answered with trk_confirm() (in the same frame: the track neither decides nor asks again
 * meanwhile). */
bool trk_pop_confirm(trk_tracker *t, struct trk_confirm_req *out);
/* Resolve a track's pending confirmation. DECIDE: decides when the person has no confirming
 * template (the rule alone) or fused >= confirm_fused. LOOKALIKE: decides only when both carry one,
 * fused >= confirm_lookalike_fused and fused - runner_up_fused >= confirm_margin. Otherwise refused: the track
 * stays undecided and a later window may ask again (confirm_max per track). c NULL = the
 * confirmation could not be made: refused. *decided (may be NULL) tells which. ATT_E_NOT_FOUND
 * when the track has ended or waits for nothing. */
att_err trk_confirm(trk_tracker *t, uint32_t track_id, const struct trk_confirmation *c, bool *decided);

/* Next queued decision, oldest first; false when none. */
bool trk_pop_decision(trk_tracker *t, struct trk_decision *out);

/* Live tracks: fills up to max infos, returns how many live tracks there are. */
size_t trk_tracks(const trk_tracker *t, struct trk_track_info *out, size_t max);
void trk_get_stats(const trk_tracker *t, struct trk_stats *out);

#endif
