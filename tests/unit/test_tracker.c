/* Tracker (src/track/tracker.c): one walker = one track = one decision, crossing walkers,
 * visitors and spoofs never decide, K-of-M agreement, track death, fast walkers, and the
 * confirmation of a decision by the confirming model's fused score. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "attendd/tracker.h"
#include "attendd/uuid.h"
#include "support.h"

#define FPS 6
#define FRAME_US (1000000LL / FPS)
#define T0 1709510400000000LL

static void pid(att_uuid *u, unsigned n)
{
    memset(u->b, 0, sizeof u->b);
    u->b[0] = 0x77;
    u->b[15] = (uint8_t)n;
}

static struct trk_recog rec(unsigned person, float sim, float live)
{
    struct trk_recog r = {.matched = person != 0, .similarity = sim, .liveness = live, .quality = 0.8f};
    if (person) pid(&r.person, person);
    return r;
}

static trk_tracker *mk(const struct trk_params *p)
{
    trk_tracker *t = NULL;
    ck_assert_int_eq(trk_new(p, &t), ATT_OK);
    return t;
}

static size_t drain(trk_tracker *t, struct trk_decision *out, size_t max)
{
    size_t n = 0;
    struct trk_decision d;
    while (trk_pop_decision(t, &d))
        if (n < max) out[n++] = d;
    return n;
}

START_TEST(one_walker_one_track_one_decision)
{
    trk_tracker *t = mk(NULL);
    struct trk_recog r = rec(1, 0.62f, 0.96f);
    uint32_t id = 0;
    for (int f = 0; f < 30; f++) {
        /* walking towards the camera: drifting right, growing */
        struct trk_det d = {.x = 200 + 6.0f * f,
                            .y = 150 + 2.0f * f,
                            .w = 60 + 2.0f * f,
                            .h = 60 + 2.0f * f,
                            .score = 0.93f,
                            .recog = &r};
        struct trk_assign a;
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, &d, 1, &a), ATT_OK);
        ck_assert_uint_ne(a.track_id, 0);
        if (f == 0) id = a.track_id;
        ck_assert_uint_eq(a.track_id, id);
        /* recognition is wanted until the track has decided (3rd frame) */
        ck_assert(a.want_recog == (f < 2));
    }
    struct trk_decision dec[4];
    ck_assert_uint_eq(drain(t, dec, 4), 1);
    ck_assert_uint_eq(dec[0].track_id, id);
    ck_assert_int_eq(dec[0].ts_us, T0 + 2 * FRAME_US); /* the frame that completed 3 of 5 */
    att_uuid p1;
    pid(&p1, 1);
    ck_assert_mem_eq(dec[0].person.b, p1.b, 16);
    ck_assert_int_eq(dec[0].agreeing, 3);
    ck_assert(fabsf(dec[0].similarity - 0.62f) < 1e-6f);

    /* the walker leaves: the track ends after max_missed empty frames */
    for (int f = 30; f < 30 + 10; f++) ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, NULL, 0, NULL), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, NULL, 0), 0);
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.tracks_born, 1);
    ck_assert_uint_eq(st.tracks_ended, 1);
    ck_assert_uint_eq(st.decisions, 1);
    ck_assert_uint_eq(st.ended_undecided, 0);
    trk_free(t);
}
END_TEST

/* Two walkers crossing in opposite directions, overlapping boxes at the crossing. */
static void run_crossing(bool with_embeddings)
{
    trk_tracker *t = mk(NULL);
    static float ea[TRK_EMB_DIM], eb[TRK_EMB_DIM];
    ea[0] = 1.0f;
    eb[1] = 1.0f;
    struct trk_recog ra = rec(1, 0.7f, 0.95f), rb = rec(2, 0.66f, 0.97f);
    uint32_t ida = 0, idb = 0;
    for (int f = 0; f < 30; f++) {
        struct trk_det d[2] = {
            {.x = 100 + 20.0f * f, .y = 200, .w = 80, .h = 80, .score = 0.9f, .recog = &ra},
            {.x = 680 - 20.0f * f, .y = 230, .w = 80, .h = 80, .score = 0.9f, .recog = &rb},
        };
        if (with_embeddings) {
            d[0].embedding = ea;
            d[1].embedding = eb;
        }
        /* detector output order is arbitrary: swap it every other frame */
        struct trk_det in[2] = {d[f % 2], d[1 - f % 2]};
        struct trk_assign a[2];
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, in, 2, a), ATT_OK);
        uint32_t got_a = a[f % 2].track_id, got_b = a[1 - f % 2].track_id;
        if (f == 0) {
            ida = got_a;
            idb = got_b;
            ck_assert_uint_ne(ida, idb);
        }
        ck_assert_msg(got_a == ida && got_b == idb, "frame %d: identities swapped (%u,%u)", f, got_a, got_b);
    }
    struct trk_decision dec[4];
    ck_assert_uint_eq(drain(t, dec, 4), 2);
    att_uuid p1, p2;
    pid(&p1, 1);
    pid(&p2, 2);
    for (int i = 0; i < 2; i++) {
        if (dec[i].track_id == ida) ck_assert_mem_eq(dec[i].person.b, p1.b, 16);
        else if (dec[i].track_id == idb) ck_assert_mem_eq(dec[i].person.b, p2.b, 16);
        else ck_abort_msg("decision from an unknown track");
    }
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.tracks_born, 2);
    trk_free(t);
}

START_TEST(two_walkers_crossing)
{
    run_crossing(false); /* motion prediction alone */
    run_crossing(true);  /* with the appearance veto */
}
END_TEST

START_TEST(embedding_veto_keeps_identities_apart)
{
    /* Two people swap places between frames (boxes overlap heavily): the appearance veto stops
     * the tracks from following the wrong face. */
    trk_tracker *t = mk(NULL);
    static float ea[TRK_EMB_DIM], eb[TRK_EMB_DIM];
    ea[0] = 1.0f;
    eb[1] = 1.0f;
    struct trk_det d0[2] = {{.x = 100, .y = 100, .w = 80, .h = 80, .score = 0.9f, .embedding = ea},
                            {.x = 140, .y = 100, .w = 80, .h = 80, .score = 0.9f, .embedding = eb}};
    struct trk_assign a[2], b[2];
    ck_assert_int_eq(trk_update(t, T0, d0, 2, a), ATT_OK);
    struct trk_det d1[2] = {{.x = 140, .y = 100, .w = 80, .h = 80, .score = 0.9f, .embedding = ea},
                            {.x = 100, .y = 100, .w = 80, .h = 80, .score = 0.9f, .embedding = eb}};
    ck_assert_int_eq(trk_update(t, T0 + FRAME_US, d1, 2, b), ATT_OK);
    ck_assert_uint_eq(b[0].track_id, a[0].track_id);
    ck_assert_uint_eq(b[1].track_id, a[1].track_id);
    trk_free(t);
}
END_TEST

START_TEST(visitor_never_decides)
{
    trk_tracker *t = mk(NULL);
    /* best gallery match far below threshold, or no match at all */
    struct trk_recog weak = rec(3, 0.29f, 0.97f), none = rec(0, 0.0f, 0.97f);
    for (int f = 0; f < 30; f++) {
        struct trk_det d = {
            .x = 300, .y = 100 + 3.0f * f, .w = 90, .h = 90, .score = 0.9f, .recog = (f % 2) ? &weak : &none};
        struct trk_assign a;
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, &d, 1, &a), ATT_OK);
        /* budget: after lull_after (5) recognitions below threshold, every lull_every-th (3rd)
         * frame only (this frame's recognition is the (f+1)-th) */
        ck_assert_msg(a.want_recog == (f < 4 || (f - 3) % 3 == 0), "frame %d: want_recog %d", f, a.want_recog);
        struct trk_track_info info;
        ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
        ck_assert(info.lulled == (f >= 4));
    }
    for (int f = 30; f < 45; f++) trk_update(t, T0 + f * FRAME_US, NULL, 0, NULL);
    struct trk_decision d;
    ck_assert(!trk_pop_decision(t, &d));
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.tracks_born, 1);
    ck_assert_uint_eq(st.ended_undecided, 1);
    trk_free(t);
}
END_TEST

/* A lulled track (a late face that finally matches) is back at full rate after one good match and
 * still decides; a near miss (>= lull_sim, < sim_threshold, like id02's 0.34-0.39 frames in
 * shift-change.mp4) never starts a lull. */
START_TEST(lull_ends_on_a_match)
{
    trk_tracker *t = mk(NULL);
    struct trk_recog far = rec(2, 0.1f, -1.0f), good = rec(1, 0.7f, 0.95f);
    struct trk_assign a;
    struct trk_decision d;
    int f = 0;
    for (; f < 8; f++) {
        struct trk_det det = {.x = 300, .y = 100, .w = 90, .h = 90, .score = 0.9f, .recog = &far};
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, &det, 1, &a), ATT_OK);
    }
    struct trk_track_info info;
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.lulled);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + f * FRAME_US, &good), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(!info.lulled);
    for (int k = 0; k < 2; k++, f++) {
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US,
                                    &(struct trk_det){.x = 300, .y = 100, .w = 90, .h = 90, .score = 0.9f}, 1, &a),
                         ATT_OK);
        ck_assert(a.want_recog); /* every frame again */
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + f * FRAME_US, &good), ATT_OK);
    }
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.agreeing, 3);
    trk_free(t);

    t = mk(NULL);
    struct trk_recog near = rec(1, 0.35f, -1.0f);
    for (f = 0; f < 12; f++) {
        struct trk_det det = {.x = 300, .y = 100, .w = 90, .h = 90, .score = 0.9f, .recog = &near};
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, &det, 1, &a), ATT_OK);
        ck_assert(a.want_recog);
    }
    trk_free(t);
}
END_TEST

START_TEST(not_live_never_decides)
{
    trk_tracker *t = mk(NULL);
    /* a photo of an enrolled person: matches well, liveness low */
    struct trk_recog spoof = rec(1, 0.8f, 0.02f);
    struct trk_assign a;
    for (int f = 0; f < 30; f++) {
        struct trk_det d = {.x = 300, .y = 200, .w = 90, .h = 90, .score = 0.95f, .recog = &spoof};
        ck_assert_int_eq(trk_update(t, T0 + f * FRAME_US, &d, 1, &a), ATT_OK);
    }
    ck_assert(!a.want_recog); /* judged not live: no point recognising it further */
    struct trk_track_info info;
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.not_live);
    ck_assert(!info.decided);
    struct trk_decision d;
    ck_assert(!trk_pop_decision(t, &d));

    /* spoof and live frames, spoofs in the majority: no window holds 3 live ones before the 7th
     * measured recognition, which condemns the track first; the convincing frames that follow
     * (enough for 3 of 5 and a live median) change nothing */
    trk_tracker *u = mk(NULL);
    struct trk_recog live = rec(1, 0.8f, 0.95f);
    struct trk_assign ua;
    ck_assert_int_eq(trk_update(u, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &ua),
                     ATT_OK);
    const struct trk_recog *seq[] = {&spoof, &spoof, &live, &spoof, &live, &spoof, &live};
    struct trk_track_info ui;
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(trk_add_recognition(u, ua.track_id, T0 + i, seq[i]), ATT_OK);
        ck_assert(!trk_pop_decision(u, &d));
        ck_assert_uint_eq(trk_tracks(u, &ui, 1), 1);
        ck_assert(ui.not_live == (i == 6)); /* judged only once 7 measured are in */
    }
    for (int i = 7; i < 17; i++) ck_assert_int_eq(trk_add_recognition(u, ua.track_id, T0 + i, &live), ATT_OK);
    ck_assert(!trk_pop_decision(u, &d));
    ck_assert_uint_eq(trk_tracks(u, &ui, 1), 1);
    ck_assert(ui.not_live);
    ck_assert(!ui.decided);
    struct trk_stats st;
    trk_get_stats(u, &st);
    ck_assert_uint_eq(st.spoof_tracks, 1);
    ck_assert_uint_eq(st.decisions, 0);
    trk_free(u);
    trk_free(t);
}
END_TEST

/* A real face whose liveness scores a few frames as clear spoofs (a small face far from the camera:
 * on ward-rush.mp4 a walker's 55-74 px faces score P(real) 0.003-0.04 on three samples in a row
 * before reaching 0.4-0.9) is not condemned by them: it decides once 3 of 5 agree with a live
 * median. */
START_TEST(a_few_clear_spoofs_do_not_condemn_a_real_face)
{
    struct trk_recog live = rec(1, 0.8f, 0.95f), spoof = rec(1, 0.8f, 0.01f);
    struct trk_assign a;
    struct trk_decision d;
    struct trk_track_info info;

    /* two clear spoofs among live frames */
    trk_tracker *t = mk(NULL);
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    const struct trk_recog *seq[] = {&live, &spoof, &live, &spoof, &live};
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
        ck_assert(!info.not_live);
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, seq[i]), ATT_OK);
        if (i < 4) ck_assert(!trk_pop_decision(t, &d));
    }
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.ts_us, T0 + 4);
    ck_assert_int_eq(d.agreeing, 3); /* the spoof frames never count for the person */
    ck_assert(fabsf(d.liveness - 0.95f) < 1e-5f);
    trk_free(t);

    /* the first three measured are clear spoofs, then the face comes closer and scores live */
    t = mk(NULL);
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    const struct trk_recog *far[] = {&spoof, &spoof, &spoof, &live, &live, &live};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, far[i]), ATT_OK);
        if (i < 5) ck_assert(!trk_pop_decision(t, &d)); /* fewer than 3 live ones agree yet */
    }
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.ts_us, T0 + 5);
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.spoof_tracks, 0);
    trk_free(t);

    /* the same with spoof_m 5: three clear spoofs of the first five measured condemn it */
    struct trk_params p;
    trk_params_defaults(&p);
    p.spoof_m = 5;
    t = mk(&p);
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    for (int i = 0; i < 6; i++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, far[i]), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d));
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.not_live);
    trk_free(t);
}
END_TEST

/* A replay: clear spoofs in the majority over the whole pass with convincing frames scattered in;
 * it never decides, and once judged it stays judged whatever follows. A liveness not measured
 * (NaN) counts as a clear spoof. */
START_TEST(replay_with_convincing_frames_stays_condemned)
{
    struct trk_recog live = rec(1, 0.8f, 0.97f), spoof = rec(1, 0.8f, 0.0f), nan_live = rec(1, 0.8f, NAN);
    trk_tracker *t = mk(NULL);
    struct trk_assign a;
    struct trk_decision d;
    struct trk_track_info info;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    /* a convincing first frame (as person-b's replay shows), then mostly spoofs */
    const struct trk_recog *seq[] = {&live, &spoof, &spoof, &live, &nan_live, &spoof, &live};
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, seq[i]), ATT_OK);
        ck_assert(!trk_pop_decision(t, &d));
    }
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.not_live);
    /* a burst of convincing frames: 5 of 5 agree and live, still nothing */
    for (int i = 7; i < 20; i++) {
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, &live), ATT_OK);
        ck_assert(!trk_pop_decision(t, &d));
    }
    struct trk_det det = {.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f, .recog = &live};
    ck_assert_int_eq(trk_update(t, T0 + FRAME_US, &det, 1, &a), ATT_OK);
    ck_assert(!a.want_recog); /* judged: no point recognising it further */
    ck_assert(!trk_pop_decision(t, &d));
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.not_live);
    ck_assert(!info.decided);
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.spoof_tracks, 1);
    trk_free(t);
}
END_TEST

/* The pipeline measures liveness only for crops whose match could count (liveness < 0 = not
 * measured): such recognitions neither condemn a track nor help it decide. */
START_TEST(unmeasured_liveness_is_neither_live_nor_spoof)
{
    trk_tracker *t = mk(NULL);
    struct trk_assign a;
    struct trk_decision d;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    /* small faces first: no match above threshold, liveness not measured; 8 of them would be a
     * majority of spoofs in the last spoof_m (7) if "not measured" counted as not live */
    struct trk_recog far = rec(1, 0.2f, -1.0f), live = rec(1, 0.8f, 0.95f), unmeasured_match = rec(1, 0.8f, -1.0f);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, &far), ATT_OK);
    /* a match whose liveness was not measured must not count towards the decision */
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 10, &unmeasured_match), ATT_OK);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 11, &live), ATT_OK);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 12, &live), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d));
    struct trk_track_info info;
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(!info.not_live);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 13, &live), ATT_OK);
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.ts_us, T0 + 13);
    ck_assert_int_eq(d.agreeing, 3);
    ck_assert(fabsf(d.liveness - 0.95f) < 1e-5f);
    trk_free(t);
}
END_TEST

START_TEST(k_of_m_agreement)
{
    trk_tracker *t = mk(NULL); /* 3 of 5 */
    struct trk_assign a;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    struct trk_recog P = rec(1, 0.6f, 0.9f), P2 = rec(1, 0.7f, 0.9f), Q = rec(2, 0.9f, 0.9f), N = rec(0, 0.1f, 0.9f),
                     Plow = rec(1, 0.40f, 0.9f);
    /* 1:P 2:Q 3:Q 4:P 5:N 6:Plow 7:P -> window 3..7 = Q,P,N,Plow,P: only 2 count for P */
    const struct trk_recog *seq[] = {&P, &Q, &Q, &P, &N, &Plow, &P};
    struct trk_decision d;
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 1000 * (i + 1), seq[i]), ATT_OK);
        ck_assert_msg(!trk_pop_decision(t, &d), "decided too early at %d", i + 1);
    }
    /* 8:P2 -> window 4..8 = P,N,Plow,P,P2: three for P */
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 8000, &P2), ATT_OK);
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.ts_us, T0 + 8000);
    ck_assert_int_eq(d.agreeing, 3);
    ck_assert(fabsf(d.similarity - (0.6f + 0.6f + 0.7f) / 3) < 1e-5f);
    /* one decision per track, whatever follows */
    for (int i = 0; i < 10; i++) trk_add_recognition(t, a.track_id, T0 + 9000 + i, &Q);
    ck_assert(!trk_pop_decision(t, &d));
    ck_assert_int_eq(trk_add_recognition(t, 9999, T0, &P), ATT_E_NOT_FOUND);
    trk_free(t);

    /* stricter parameters: 4 of 6 */
    struct trk_params p;
    trk_params_defaults(&p);
    p.agree_k = 4;
    p.window_m = 6;
    t = mk(&p);
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    for (int i = 0; i < 3; i++) trk_add_recognition(t, a.track_id, T0 + i, &P);
    ck_assert(!trk_pop_decision(t, &d));
    trk_add_recognition(t, a.track_id, T0 + 3, &P);
    ck_assert(trk_pop_decision(t, &d));
    trk_free(t);
}
END_TEST

START_TEST(track_death_and_rebirth)
{
    trk_tracker *t = mk(NULL);
    struct trk_det d = {.x = 100, .y = 100, .w = 80, .h = 80, .score = 0.9f};
    struct trk_assign a, b;
    ck_assert_int_eq(trk_update(t, T0, &d, 1, &a), ATT_OK);
    /* unseen for longer than max_unseen (2 s): the same place now is a new face */
    ck_assert_int_eq(trk_update(t, T0 + 2500000, &d, 1, &b), ATT_OK);
    ck_assert_uint_ne(b.track_id, a.track_id);
    /* a few missed frames are tolerated (occlusion) */
    for (int f = 1; f <= 5; f++) trk_update(t, T0 + 2500000 + f * FRAME_US, NULL, 0, NULL);
    ck_assert_int_eq(trk_update(t, T0 + 2500000 + 6 * FRAME_US, &d, 1, &a), ATT_OK);
    ck_assert_uint_eq(a.track_id, b.track_id);
    /* low-score detections are not tracked */
    struct trk_det weak = {.x = 500, .y = 100, .w = 80, .h = 80, .score = 0.2f};
    ck_assert_int_eq(trk_update(t, T0 + 2500000 + 7 * FRAME_US, &weak, 1, &a), ATT_OK);
    ck_assert_uint_eq(a.track_id, 0);
    /* time must not go backwards */
    ck_assert_int_eq(trk_update(t, T0, &d, 1, &a), ATT_E_INVALID);
    trk_free(t);
}
END_TEST

START_TEST(fast_walker_at_low_fps)
{
    /* 3 fps, a 60-px face moving 100 px per analysed frame: no IoU between frames at all */
    trk_tracker *t = mk(NULL);
    uint32_t id = 0;
    for (int f = 0; f < 8; f++) {
        struct trk_det d = {.x = 50 + 100.0f * f, .y = 300, .w = 60, .h = 60, .score = 0.9f};
        struct trk_assign a;
        ck_assert_int_eq(trk_update(t, T0 + f * 333333LL, &d, 1, &a), ATT_OK);
        if (f == 0) id = a.track_id;
        ck_assert_msg(a.track_id == id, "frame %d: new track %u", f, a.track_id);
    }
    trk_free(t);
}
END_TEST

START_TEST(parameters_validated)
{
    struct trk_params p;
    trk_tracker *t = NULL;
    trk_params_defaults(&p);
    p.agree_k = 6; /* more than window_m */
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    trk_params_defaults(&p);
    p.window_m = TRK_WINDOW_MAX + 1;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    trk_params_defaults(&p);
    p.sim_threshold = 1.5f;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    trk_params_defaults(&p);
    p.lull_every = 0;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    const int bad_spoof_m[] = {0, -1, TRK_WINDOW_MAX + 1};
    for (size_t i = 0; i < sizeof bad_spoof_m / sizeof bad_spoof_m[0]; i++) {
        trk_params_defaults(&p);
        p.spoof_m = bad_spoof_m[i];
        ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    }
    trk_params_defaults(&p);
    p.spoof_live = 0.6f; /* above live_threshold: a clear spoof could count as live */
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    trk_params_defaults(&p);
    p.spoof_m = TRK_WINDOW_MAX; /* longer than the agreement window is fine */
    t = mk(&p);
    trk_free(t);
    trk_params_defaults(&p);
    p.max_dets = 2;
    t = mk(&p);
    struct trk_det d[3] = {{.w = 1, .h = 1, .score = 1}, {.w = 1, .h = 1, .score = 1}, {.w = 1, .h = 1, .score = 1}};
    ck_assert_int_eq(trk_update(t, T0, d, 3, NULL), ATT_E_INVALID);
    d[0].w = 0;
    ck_assert_int_eq(trk_update(t, T0, d, 1, NULL), ATT_E_INVALID);
    trk_free(t);
    trk_free(NULL);
}
END_TEST

/* best_sim tells how enrolled a face looks: the best matched similarity in the window, 0 before any
 * match; an unmatched recognition (no gallery hit) does not raise it. */
START_TEST(track_info_best_sim)
{
    trk_tracker *t = mk(NULL);
    struct trk_assign a;
    struct trk_track_info info;
    struct trk_det det = {.x = 300, .y = 100, .w = 90, .h = 90, .score = 0.9f};
    ck_assert_int_eq(trk_update(t, T0, &det, 1, &a), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.best_sim == 0.0f);
    struct trk_recog none = rec(0, 0.9f, 0.9f), near = rec(1, 0.36f, -1.0f), low = rec(1, 0.2f, -1.0f);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0, &none), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.best_sim == 0.0f);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0, &near), ATT_OK);
    ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0, &low), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert_float_eq_tol(info.best_sim, 0.36f, 1e-6f);
    /* the window (5) moves past the near match: only the low ones are left */
    for (int k = 0; k < 5; k++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0, &low), ATT_OK);
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert_float_eq_tol(info.best_sim, 0.2f, 1e-6f);
    trk_free(t);
}
END_TEST

/* A real face close to the camera: P(real) dips under 0.5 on some frames (0.2-0.3) but the median
 * of the window stays high. */
START_TEST(median_liveness_keeps_a_real_face)
{
    trk_tracker *t = mk(NULL);
    struct trk_assign a;
    struct trk_decision d;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    /* three agree after the third frame, but the median P(real) is 0.25 then; after the fourth it
     * is (0.25 + 0.9) / 2 */
    const float live[] = {0.95f, 0.25f, 0.22f, 0.9f};
    for (int i = 0; i < 4; i++) {
        struct trk_recog r = rec(1, 0.8f, live[i]);
        ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, &r), ATT_OK);
        if (i < 3) ck_assert(!trk_pop_decision(t, &d));
    }
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.agreeing, 4);
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.spoof_tracks, 0);
    trk_free(t);

    /* every frame at 0.3: never clearly a spoof, never live either */
    t = mk(NULL);
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    struct trk_recog dim = rec(1, 0.8f, 0.3f);
    for (int i = 0; i < 12; i++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, &dim), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d));
    struct trk_track_info info;
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(!info.not_live);
    trk_free(t);
}
END_TEST

/* A look-alike scores high against two people at once: no margin, no decision. */
START_TEST(margin_over_second_best_person)
{
    trk_tracker *t = mk(NULL);
    struct trk_assign a;
    struct trk_decision d;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    struct trk_recog close = rec(1, 0.55f, 0.95f);
    close.second = 0.50f;
    for (int i = 0; i < 8; i++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + i, &close), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d));
    /* the same person clear of everybody else by the margin decides */
    struct trk_recog clear = rec(1, 0.55f, 0.95f);
    clear.second = 0.45f;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, a.track_id, T0 + 10 + i, &clear), ATT_OK);
    ck_assert(trk_pop_decision(t, &d));
    ck_assert_int_eq(d.agreeing, 3);
    trk_free(t);
}
END_TEST

/* ---- confirmation by the confirming model -------------------------------------------------- */

static trk_tracker *mk_confirming(void)
{
    struct trk_params p;
    trk_params_defaults(&p);
    p.confirm_max = 2;
    p.confirm_fused = 3.5f;
    p.confirm_margin = 1.0f;
    p.confirm_lookalike_fused = 4.1f;
    return mk(&p);
}

/* One face in view; returns its track. */
static uint32_t one_face(trk_tracker *t)
{
    struct trk_assign a;
    ck_assert_int_eq(trk_update(t, T0, &(struct trk_det){.x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9f}, 1, &a),
                     ATT_OK);
    ck_assert_uint_ne(a.track_id, 0);
    return a.track_id;
}

/* A window that would decide waits for the confirmation instead, asks once, and decides only when
 * the fused score reaches confirm_fused; a refusal leaves the track undecided, a later window asks
 * again, and after confirm_max refusals the track asks no more. */
START_TEST(confirmation_refused_then_accepted)
{
    trk_tracker *t = mk_confirming();
    uint32_t id = one_face(t);
    struct trk_recog r = rec(1, 0.62f, 0.95f);
    struct trk_confirm_req rq;
    struct trk_decision d;
    struct trk_track_info ti;
    bool decided = true;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &r), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d)); /* no decision before the confirmation */
    ck_assert_uint_eq(trk_tracks(t, &ti, 1), 1);
    ck_assert(ti.pending);
    ck_assert(trk_pop_confirm(t, &rq));
    struct trk_confirm_req again;
    ck_assert(!trk_pop_confirm(t, &again)); /* handed out once */
    ck_assert_uint_eq(rq.track_id, id);
    ck_assert_int_eq(rq.kind, TRK_CONFIRM_DECIDE);
    att_uuid p1;
    pid(&p1, 1);
    ck_assert(att_uuid_eq(&rq.person, &p1));
    ck_assert_float_eq(rq.similarity, 0.62f);
    ck_assert_int_eq(rq.ts_us, T0 + 2);
    /* while waiting, more agreeing recognitions neither decide nor ask again */
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 3, &r), ATT_OK);
    ck_assert(!trk_pop_confirm(t, &rq));
    /* refused: the fused score is under confirm_fused */
    ck_assert_int_eq(trk_confirm(t, id, &(struct trk_confirmation){.has_template = true, .fused = 3.4f}, &decided),
                     ATT_OK);
    ck_assert(!decided);
    ck_assert(!trk_pop_decision(t, &d));
    ck_assert_int_eq(trk_confirm(t, id, NULL, &decided), ATT_E_NOT_FOUND); /* nothing pending any more */
    /* the next agreeing window asks again and is accepted */
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 4, &r), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(trk_confirm(t, id, &(struct trk_confirmation){.has_template = true, .fused = 3.5f}, &decided),
                     ATT_OK);
    ck_assert(decided);
    ck_assert_uint_eq(drain(t, &d, 1), 1);
    ck_assert(d.confirmed);
    ck_assert_float_eq(d.fused, 3.5f);
    ck_assert(att_uuid_eq(&d.person, &p1));
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.confirm_requests, 2);
    ck_assert_uint_eq(st.confirm_refused, 1);
    ck_assert_uint_eq(st.decisions, 1);
    trk_free(t);

    /* bounded: two refusals (confirm_max 2) and the track never asks again */
    t = mk_confirming();
    id = one_face(t);
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &r), ATT_OK);
        while (trk_pop_confirm(t, &rq)) ck_assert_int_eq(trk_confirm(t, rq.track_id, NULL, &decided), ATT_OK);
    }
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.confirm_requests, 2);
    ck_assert_uint_eq(st.confirm_refused, 2);
    ck_assert(!trk_pop_decision(t, &d));
    trk_free(t);
}
END_TEST

/* A person without a confirming template is decided by the tracker's rule alone; a window that does
 * not agree asks nothing; a track judged not live meanwhile is refused whatever the score. */
START_TEST(confirmation_without_template_and_spoof)
{
    trk_tracker *t = mk_confirming();
    uint32_t id = one_face(t);
    struct trk_recog r = rec(1, 0.62f, 0.95f), other = rec(2, 0.62f, 0.95f);
    struct trk_confirm_req rq;
    struct trk_decision d;
    bool decided;
    ck_assert_int_eq(trk_add_recognition(t, id, T0, &r), ATT_OK);
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 1, &other), ATT_OK);
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 2, &r), ATT_OK);
    ck_assert(!trk_pop_confirm(t, &rq)); /* 2 of 5 agree: nothing to confirm */
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 3, &r), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(trk_confirm(t, id, &(struct trk_confirmation){.has_template = false}, &decided), ATT_OK);
    ck_assert(decided);
    ck_assert_uint_eq(drain(t, &d, 1), 1);
    ck_assert(!d.confirmed);
    ck_assert_int_eq(d.agreeing, 3);
    trk_free(t);

    t = mk_confirming();
    id = one_face(t);
    struct trk_recog spoof = rec(1, 0.62f, 0.01f);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &r), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    /* clear spoofs while the confirmation is pending: 4 of the last 7 measured judge it not live */
    for (int i = 3; i < 7; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &spoof), ATT_OK);
    struct trk_track_info info;
    ck_assert_uint_eq(trk_tracks(t, &info, 1), 1);
    ck_assert(info.not_live);
    ck_assert_int_eq(trk_confirm(t, id, &(struct trk_confirmation){.has_template = true, .fused = 9.0f}, &decided),
                     ATT_OK);
    ck_assert(!decided);
    ck_assert(!trk_pop_decision(t, &d));
    trk_free(t);
}
END_TEST

/* A look-alike window (agreement on one person, each short of margin_min over the runner-up) decides
 * nothing alone; with confirmation it asks about both people and decides only when the fused score
 * clears confirm_fused and leads the runner-up's by confirm_margin. */
START_TEST(confirmation_resolves_lookalike_by_fused_margin)
{
    struct trk_recog la = rec(1, 0.48f, 0.95f);
    la.second = 0.44f; /* 0.04 over the runner-up: under margin_min 0.10 */
    pid(&la.second_person, 2);
    struct trk_confirm_req rq;
    struct trk_decision d;
    bool decided;

    /* the tracker alone (no confirmation): never decides */
    trk_tracker *t = mk(NULL);
    uint32_t id = one_face(t);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &la), ATT_OK);
    ck_assert(!trk_pop_decision(t, &d));
    ck_assert(!trk_pop_confirm(t, &rq));
    trk_free(t);

    /* confirmed: the request names both; a lead under confirm_margin is refused */
    t = mk_confirming();
    id = one_face(t);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &la), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(rq.kind, TRK_CONFIRM_LOOKALIKE);
    att_uuid p1, p2;
    pid(&p1, 1);
    pid(&p2, 2);
    ck_assert(att_uuid_eq(&rq.person, &p1));
    ck_assert(att_uuid_eq(&rq.runner_up, &p2));
    ck_assert_float_eq(rq.runner_up_similarity, 0.44f);
    ck_assert_int_eq(
        trk_confirm(t, id,
                    &(struct trk_confirmation){
                        .has_template = true, .fused = 5.0f, .runner_up_has_template = true, .runner_up_fused = 4.5f},
                    &decided),
        ATT_OK);
    ck_assert(!decided);
    /* the runner-up without a template cannot be compared: refused too */
    ck_assert_int_eq(trk_add_recognition(t, id, T0 + 3, &la), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(trk_confirm(t, id, &(struct trk_confirmation){.has_template = true, .fused = 9.0f}, &decided),
                     ATT_OK);
    ck_assert(!decided);
    ck_assert(!trk_pop_decision(t, &d));
    trk_free(t);

    /* a clear fused lead decides for the person the window named */
    t = mk_confirming();
    id = one_face(t);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &la), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(
        trk_confirm(t, id,
                    &(struct trk_confirmation){
                        .has_template = true, .fused = 5.0f, .runner_up_has_template = true, .runner_up_fused = 3.9f},
                    &decided),
        ATT_OK);
    ck_assert(decided);
    ck_assert_uint_eq(drain(t, &d, 1), 1);
    ck_assert(att_uuid_eq(&d.person, &p1));
    ck_assert(d.confirmed);
    ck_assert_int_eq(d.agreeing, 3);
    struct trk_stats st;
    trk_get_stats(t, &st);
    ck_assert_uint_eq(st.confirm_lookalike, 1);
    /* but a fused score under confirm_lookalike_fused is refused whatever the lead */
    trk_free(t);
    t = mk_confirming();
    id = one_face(t);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(trk_add_recognition(t, id, T0 + i, &la), ATT_OK);
    ck_assert(trk_pop_confirm(t, &rq));
    ck_assert_int_eq(
        trk_confirm(t, id,
                    &(struct trk_confirmation){
                        .has_template = true, .fused = 4.0f, .runner_up_has_template = true, .runner_up_fused = -1.0f},
                    &decided),
        ATT_OK);
    ck_assert(!decided);
    trk_free(t);

    /* the parameters are checked */
    struct trk_params p;
    trk_params_defaults(&p);
    ck_assert_int_eq(p.confirm_max, 0);
    p.confirm_max = TRK_CONFIRM_MAX + 1;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    p.confirm_max = 1;
    p.confirm_margin = -0.5f;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
    p.confirm_margin = 1.0f;
    p.confirm_fused = NAN;
    ck_assert_int_eq(trk_new(&p, &t), ATT_E_INVALID);
}
END_TEST

Suite *tracker_suite(void)
{
    Suite *s = suite_create("tracker");
    ts_tcase(s, "core", 0, NULL, NULL, one_walker_one_track_one_decision, two_walkers_crossing,
             embedding_veto_keeps_identities_apart, visitor_never_decides, lull_ends_on_a_match, not_live_never_decides,
             unmeasured_liveness_is_neither_live_nor_spoof, k_of_m_agreement, track_death_and_rebirth,
             fast_walker_at_low_fps, parameters_validated, track_info_best_sim, median_liveness_keeps_a_real_face,
             a_few_clear_spoofs_do_not_condemn_a_real_face, replay_with_convincing_frames_stays_condemned,
             margin_over_second_best_person, confirmation_refused_then_accepted,
             confirmation_without_template_and_spoof, confirmation_resolves_lookalike_by_fused_margin, NULL);
    return s;
}
