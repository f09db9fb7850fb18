/* Need-based analysis order: the capture queue popped by rank (lowest first, round-robin among
 * equals, skipped frames freed and counted) and the analysis scheduler on it. The overload case is
 * deterministic: the test is the frame source (one frame per camera per round) and the one worker
 * (a fixed number of frames per round), with real trackers deciding what each camera needs. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/capture.h"
#include "attendd/metrics.h"
#include "attendd/tracker.h"
#include "src/analysis/schedule.h"
#include "support.h"

static cap_frame *frame(uint64_t tag, uint64_t seq, int64_t stream_ms)
{
    cap_frame *f = NULL;
    ck_assert_int_eq(cap_frame_new(4, 2, &f), ATT_OK);
    f->tag = tag;
    f->seq = seq;
    f->stream_ms = stream_ms;
    f->session = 1;
    return f;
}

/* ---- the queue's ranked pop --------------------------------------------------------------------- */

struct fixed_rank {
    int rank[8];    /* by tag */
    int taken[8];   /* taken() calls by tag, not skipped */
    int skipped[8]; /* taken() calls by tag, skipped */
};
static int fixed_rank_of(void *ud, const cap_frame *f) { return ((struct fixed_rank *)ud)->rank[f->tag]; }
static void fixed_taken(void *ud, const cap_frame *f, bool skipped)
{
    struct fixed_rank *r = ud;
    if (skipped) r->skipped[f->tag]++;
    else r->taken[f->tag]++;
}

START_TEST(ranked_pop_lowest_first_equals_round_robin)
{
    cap_frame_queue *q;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_lane *l[5];
    for (int i = 1; i <= 4; i++) ck_assert_int_eq(cap_lane_new(q, &l[i]), ATT_OK);
    /* tag 1 and 3 rank 2, tag 2 rank 0, tag 4 is skipped */
    struct fixed_rank fr = {.rank = {0, 2, 0, 2, CAP_RANK_SKIP}};
    struct cap_ranker rk = {fixed_rank_of, fixed_taken, &fr};
    for (int i = 1; i <= 4; i++)
        for (uint64_t s = 1; s <= 2; s++)
            ck_assert_int_eq(cap_queue_push(l[i], frame((uint64_t)i, s, 0), NULL), ATT_OK);
    uint64_t order[6];
    for (int k = 0; k < 6; k++) {
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop_ranked(q, 0, &rk, &f), ATT_OK);
        ck_assert_ptr_nonnull(f);
        order[k] = f->tag;
        cap_frame_free(f);
    }
    /* both frames of tag 2 first (in order), then 1 and 3 taking turns */
    ck_assert_uint_eq(order[0], 2);
    ck_assert_uint_eq(order[1], 2);
    ck_assert(order[2] != order[3] && order[2] != 2 && order[3] != 2);
    ck_assert_uint_eq(order[4], order[2]);
    ck_assert_uint_eq(order[5], order[3]);
    cap_frame *f = NULL;
    ck_assert_int_eq(cap_queue_pop_ranked(q, 0, &rk, &f), ATT_OK);
    ck_assert_ptr_null(f); /* tag 4's frames were skipped, never handed out */
    struct cap_queue_stats st, l4;
    cap_queue_get_stats(q, &st);
    cap_lane_get_stats(l[4], &l4);
    ck_assert_uint_eq(st.skipped, 2);
    ck_assert_uint_eq(l4.skipped, 2);
    ck_assert_uint_eq(l4.popped, 2); /* they left the lane through the consumer */
    ck_assert_uint_eq(st.pushed, st.popped + st.dropped + st.discarded + st.depth);
    ck_assert_int_eq(fr.skipped[4], 2);
    ck_assert_int_eq(fr.taken[4], 0);
    ck_assert_int_eq(fr.taken[1] + fr.taken[2] + fr.taken[3], 6);
    /* no ranker: plain round-robin, as cap_queue_pop */
    for (int i = 1; i <= 3; i++) ck_assert_int_eq(cap_queue_push(l[i], frame((uint64_t)i, 9, 0), NULL), ATT_OK);
    int seen[4] = {0};
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(cap_queue_pop_ranked(q, 0, NULL, &f), ATT_OK);
        ck_assert_ptr_nonnull(f);
        seen[f->tag]++;
        cap_frame_free(f);
    }
    ck_assert(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
    struct cap_ranker bad = {NULL, NULL, NULL};
    ck_assert_int_eq(cap_queue_pop_ranked(q, 0, &bad, &f), ATT_E_INVALID);
    for (int i = 1; i <= 4; i++) cap_lane_free(l[i]);
    cap_queue_free(q);
}
END_TEST

/* ---- what a camera needs ------------------------------------------------------------------------ */

START_TEST(need_of_tracks)
{
    struct trk_track_info t[3];
    memset(t, 0, sizeof t);
    ck_assert_int_eq(sched_need_of(t, 0, 0.3f, 10), NEED_IDLE); /* nobody in view */
    t[0].decided = true;
    t[0].best_sim = 0.9f;
    t[1].not_live = true;
    t[1].best_sim = 0.9f;
    ck_assert_int_eq(sched_need_of(t, 2, 0.3f, 10), NEED_IDLE); /* decided, not live: nothing to do */
    t[2].lulled = true;
    t[2].best_sim = 0.1f;
    ck_assert_int_eq(sched_need_of(t, 3, 0.3f, 10), NEED_VISITOR);
    t[2].lulled = false;
    ck_assert_int_eq(sched_need_of(t, 3, 0.3f, 10), NEED_NEW); /* not recognised enough to tell */
    t[2].best_sim = 0.34f;
    ck_assert_int_eq(sched_need_of(t, 3, 0.3f, 10), NEED_DECIDING); /* looks enrolled */
    t[2].recognitions = 10; /* near, but not deciding after two windows: no longer first */
    ck_assert_int_eq(sched_need_of(t, 3, 0.3f, 10), NEED_NEW);
    ck_assert_str_eq(sched_need_name(NEED_DECIDING), "deciding");
    ck_assert_str_eq(sched_need_name(NEED_VISITOR), "visitor");
}
END_TEST

/* ---- overload ------------------------------------------------------------------------------------ */

#define CAMS 12     /* 1-4 a track about to decide, 5-8 a visitor, 9-12 nobody in view */
#define PER_ROUND 6 /* frames the one worker analyses per round: fewer than the cameras need */
#define ROUNDS 60   /* 10 s of stream at 6 sampled fps */
#define STEP_MS 167
#define IDLE_MS 500 /* every 3rd frame of a camera with nobody undecided in view */

/* Sample of `name{need="<need>"}` in Prometheus text; -1 when absent. */
static double need_sample(const char *text, const char *name, const char *need)
{
    char key[160];
    snprintf(key, sizeof key, "%s{need=\"%s\"} ", name, need);
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1;
}

static double plain_sample(const char *text, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1;
}

START_TEST(overload_serves_deciding_before_visitors)
{
    sched *s;
    ck_assert_int_eq(sched_new(IDLE_MS, &s), ATT_OK);
    struct cap_ranker rk;
    sched_ranker(s, &rk);
    metrics *m;
    ck_assert_int_eq(metrics_new(&m), ATT_OK);
    metric *series[1 + 2 * NEED_COUNT];
    size_t n_series = 0;
    sched_metrics(s, m, series, &n_series);
    ck_assert_uint_eq(n_series, 1 + 2 * NEED_COUNT);

    cap_frame_queue *q;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_lane *lane[CAMS + 1];
    trk_tracker *trk[CAMS + 1];
    struct trk_params tp;
    trk_params_defaults(&tp);
    tp.sim_threshold = 0.40f;
    for (int c = 1; c <= CAMS; c++) {
        ck_assert_int_eq(cap_lane_new(q, &lane[c]), ATT_OK);
        ck_assert_int_eq(trk_new(&tp, &trk[c]), ATT_OK);
    }
    /* the walkers' recognitions: near the threshold with liveness not measured (about to decide,
     * never deciding, so the need stays), and a visitor far from anyone enrolled */
    struct trk_recog near = {.matched = true, .similarity = 0.38f, .liveness = -1.0f, .quality = 0.8f};
    struct trk_recog far = {.matched = true, .similarity = 0.10f, .liveness = -1.0f, .quality = 0.8f};
    near.person.b[0] = 1;
    far.person.b[0] = 2;

    int taken_at[ROUNDS][CAMS + 1];
    memset(taken_at, 0, sizeof taken_at);
    double vis_deficit_mid = -1, dec_deficit_mid = -1;
    uint64_t lost_warm[CAMS + 1] = {0};
    double rate_max = 0; /* the deficit rate (per tick) at its highest after the first rounds */
    for (int r = 0; r < ROUNDS; r++) {
        /* every camera samples a frame */
        for (int c = 1; c <= CAMS; c++)
            ck_assert_int_eq(cap_queue_push(lane[c], frame((uint64_t)c, (uint64_t)r + 1, (int64_t)r * STEP_MS), NULL),
                             ATT_OK);
        /* the one worker analyses PER_ROUND of them, in the scheduler's order */
        for (int k = 0; k < PER_ROUND; k++) {
            cap_frame *f = NULL;
            ck_assert_int_eq(cap_queue_pop_ranked(q, 0, &rk, &f), ATT_OK);
            if (!f) break;
            int c = (int)f->tag;
            taken_at[r][c] = k + 1; /* position in this round */
            if (c <= 8) {           /* a face in view: track it and recognise it, as the pipeline does */
                struct trk_det d = {.x = 300, .y = 100, .w = 90, .h = 90, .score = 0.9f};
                struct trk_assign a;
                ck_assert_int_eq(trk_update(trk[c], f->stream_ms * 1000 + 1, &d, 1, &a), ATT_OK);
                if (a.want_recog)
                    ck_assert_int_eq(
                        trk_add_recognition(trk[c], a.track_id, f->stream_ms * 1000 + 1, c <= 4 ? &near : &far),
                        ATT_OK);
            } else {
                ck_assert_int_eq(trk_update(trk[c], f->stream_ms * 1000 + 1, NULL, 0, NULL), ATT_OK);
            }
            struct trk_track_info ti[8];
            size_t n = trk_tracks(trk[c], ti, 8);
            /* fresh_max past the test's length: the near faces stay about to decide throughout */
            sched_set_need(s, (uint64_t)c, sched_need_of(ti, n, tp.lull_sim, 1000));
            cap_frame_free(f);
        }
        sched_tick(s); /* one tick per round: the rate window in rounds */
        struct sched_stats ss;
        sched_get_stats(s, &ss);
        if (r >= 20 && ss.deficit_fps > rate_max) rate_max = ss.deficit_fps;
        if (r == 19) {
            for (int c = 1; c <= CAMS; c++) {
                struct sched_cam_stats cs;
                ck_assert_int_eq(sched_cam_stats(s, (uint64_t)c, &cs), ATT_OK);
                lost_warm[c] = cs.deficit; /* the first rounds, while every camera was still new */
            }
            char *text;
            size_t len;
            ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
            vis_deficit_mid = need_sample(text, "attendd_analysis_deficit_frames_total", "visitor");
            dec_deficit_mid = need_sample(text, "attendd_analysis_deficit_frames_total", "deciding");
            free(text);
        }
    }

    /* once the first analysed frames told what each camera needs (20 rounds), the cameras with a
     * track about to decide are served in every round, mostly first, and lose nothing */
    int first = 0;
    for (int r = 20; r < ROUNDS; r++)
        for (int c = 1; c <= 4; c++) {
            ck_assert_msg(taken_at[r][c] >= 1, "round %d: camera %d not served", r, c);
            first += taken_at[r][c] <= 4;
        }
    ck_assert_int_ge(first, 4 * (ROUNDS - 20) * 3 / 4);
    uint64_t vis_lost = 0;
    for (int c = 1; c <= CAMS; c++) {
        struct sched_cam_stats cs;
        ck_assert_int_eq(sched_cam_stats(s, (uint64_t)c, &cs), ATT_OK);
        fprintf(stderr, "schedule: camera %d (%s): %llu taken, %llu skipped, %llu lost\n", c, sched_need_name(cs.need),
                (unsigned long long)cs.taken, (unsigned long long)cs.skipped, (unsigned long long)cs.deficit);
        if (c <= 4) {
            ck_assert_int_eq(cs.need, NEED_DECIDING);
            ck_assert_uint_eq(cs.deficit, lost_warm[c]);
        } else if (c <= 8) {
            ck_assert_int_eq(cs.need, NEED_VISITOR);
            ck_assert_uint_gt(cs.deficit, 0); /* the visitors lose first ... */
            vis_lost += cs.deficit;
            ck_assert_uint_ge(cs.taken, 8);          /* ... what is left over is theirs */
            ck_assert_uint_lt(cs.taken, ROUNDS / 2); /* far less than the deciding cameras (every frame) */
        } else {
            ck_assert_int_eq(cs.need, NEED_IDLE);
            ck_assert_uint_eq(cs.deficit, lost_warm[c]); /* nobody there: the idle rate is kept */
            ck_assert_uint_gt(cs.skipped, 0);
            ck_assert_uint_ge(cs.taken, ROUNDS / 3 - 4); /* one every 3 rounds, but in the first rounds */
        }
    }
    ck_assert_uint_gt(vis_lost, 0);
    /* the metrics show it: the visitors' deficit rises, the deciding tracks' does not move */
    char *text;
    size_t len;
    ck_assert_int_eq(metrics_render(m, &text, &len), ATT_OK);
    double vis_end = need_sample(text, "attendd_analysis_deficit_frames_total", "visitor");
    double dec_end = need_sample(text, "attendd_analysis_deficit_frames_total", "deciding");
    double rate = plain_sample(text, "attendd_analysis_deficit");
    double taken_dec = need_sample(text, "attendd_analysis_frames_total", "deciding");
    free(text);
    ck_assert(vis_deficit_mid >= 0 && dec_deficit_mid >= 0);
    ck_assert_msg(vis_end > vis_deficit_mid, "visitor deficit %.0f -> %.0f", vis_deficit_mid, vis_end);
    ck_assert_msg(dec_end == dec_deficit_mid, "deciding deficit %.0f -> %.0f", dec_deficit_mid, dec_end);
    ck_assert_msg(rate_max > 0, "the deficit rate never rose");
    struct sched_stats end;
    sched_get_stats(s, &end);
    ck_assert_msg(rate >= 0 && fabs(rate - end.deficit_fps) < 1e-6, "attendd_analysis_deficit %.3f, rate %.3f", rate,
                  end.deficit_fps);
    ck_assert_double_ge(taken_dec, 4 * (ROUNDS - 20));

    for (int c = 1; c <= CAMS; c++) {
        cap_lane_free(lane[c]);
        trk_free(trk[c]);
    }
    cap_queue_free(q);
    for (size_t i = 0; i < n_series; i++) metrics_remove(m, series[i]);
    metrics_free(m);
    sched_free(s);
}
END_TEST

/* Without overload nothing is lost and the deficit stays 0; a camera forgotten is gone. */
START_TEST(no_overload_no_deficit)
{
    sched *s;
    ck_assert_int_eq(sched_new(IDLE_MS, &s), ATT_OK);
    struct cap_ranker rk;
    sched_ranker(s, &rk);
    cap_frame_queue *q;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_lane *lane[3];
    for (int c = 1; c <= 2; c++) ck_assert_int_eq(cap_lane_new(q, &lane[c]), ATT_OK);
    sched_set_need(s, 1, NEED_DECIDING);
    sched_set_need(s, 2, NEED_VISITOR);
    for (int r = 0; r < 30; r++) {
        for (int c = 1; c <= 2; c++)
            ck_assert_int_eq(cap_queue_push(lane[c], frame((uint64_t)c, (uint64_t)r + 1, (int64_t)r * STEP_MS), NULL),
                             ATT_OK);
        cap_frame *f;
        while (cap_queue_pop_ranked(q, 0, &rk, &f) == ATT_OK && f) cap_frame_free(f);
        sched_tick(s);
    }
    struct sched_stats st;
    sched_get_stats(s, &st);
    for (int i = 0; i < NEED_COUNT; i++) ck_assert_uint_eq(st.deficit[i], 0);
    ck_assert_uint_eq(st.taken[NEED_DECIDING], 30);
    ck_assert_uint_eq(st.taken[NEED_VISITOR], 10); /* a visitor's camera at the idle rate: every 3rd frame */
    ck_assert_uint_eq(st.skipped, 20);
    ck_assert(st.deficit_fps == 0);
    struct sched_cam_stats cs;
    sched_forget(s, 2);
    ck_assert_int_eq(sched_cam_stats(s, 2, &cs), ATT_E_NOT_FOUND);
    ck_assert_int_eq(sched_cam_stats(s, 1, &cs), ATT_OK);
    for (int c = 1; c <= 2; c++) cap_lane_free(lane[c]);
    cap_queue_free(q);
    sched_free(s);
}
END_TEST

Suite *schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    ts_tcase(s, "core", 0, NULL, NULL, ranked_pop_lowest_first_equals_round_robin, need_of_tracks,
             overload_serves_deciding_before_visitors, no_overload_no_deficit, NULL);
    return s;
}
