/* Motion gating of detection: a static scene with nobody tracked goes without a detector pass,
 * anything that moves (a newcomer) brings detection back on that very frame, and a static scene
 * still gets a full detection every MOTION_FULL_EVERY frames. Synthetic frames, deterministic. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "src/analysis/motion.h"
#include "support.h"

#define W 320
#define H 240

static unsigned g_seed;
static int noise(void) /* -5..5: codec noise */
{
    g_seed = g_seed * 1103515245u + 12345u;
    return (int)((g_seed >> 16) % 11) - 5;
}

/* A textured corridor: every pixel its own value, plus fresh noise each frame. */
static void scene(uint8_t *bgr)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int v = 60 + (x * 7 + y * 3 + c * 40) % 120 + noise();
                bgr[(y * W + x) * 3 + c] = (uint8_t)v;
            }
}

/* A person's face of side px at (x, y): brighter than what it covers by `contrast`. */
static void face(uint8_t *bgr, int x0, int y0, int px, int contrast)
{
    for (int y = y0; y < y0 + px && y < H; y++)
        for (int x = x0; x < x0 + px && x < W; x++)
            for (int c = 0; c < 3; c++) {
                int v = bgr[(y * W + x) * 3 + c] + contrast;
                bgr[(y * W + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
            }
}

/* One sampled frame through the gate: true when it is detected. */
static bool detected(struct motion *m, const uint8_t *bgr, size_t tracks)
{
    size_t moved = 0;
    ck_assert_int_eq(motion_update(m, bgr, W, H, (size_t)W * 3, &moved), ATT_OK);
    return !motion_skip_detect(m, moved, tracks);
}

START_TEST(static_scene_is_not_detected_but_for_the_periodic_pass)
{
    uint8_t *f = malloc((size_t)W * H * 3);
    struct motion m = {0};
    g_seed = 1;
    scene(f);
    ck_assert(detected(&m, f, 0)); /* the first frame: nothing to compare with */
    int detections = 0;
    for (int i = 1; i <= 3 * MOTION_FULL_EVERY; i++) {
        scene(f); /* the same corridor, new noise */
        bool d = detected(&m, f, 0);
        /* static: only every MOTION_FULL_EVERY-th frame gets the full pass */
        ck_assert_msg(d == (i % MOTION_FULL_EVERY == 0), "frame %d detected %d", i, d);
        detections += d;
    }
    ck_assert_int_eq(detections, 3);
    motion_free(&m);
    free(f);
}
END_TEST

START_TEST(newcomer_is_detected_on_the_frame_it_appears)
{
    uint8_t *f = malloc((size_t)W * H * 3);
    struct motion m = {0};
    g_seed = 2;
    /* wherever it comes in, from the smallest face the whole-frame pass finds at 720p (56 px) down
     * to 40 px, off the cell grid */
    static const int at[][3] = {{3, 5, 40}, {277, 195, 40}, {150, 101, 56}, {0, 0, 56}};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        scene(f);
        (void)detected(&m, f, 0);
        for (int i = 0; i < 4; i++) {
            scene(f);
            (void)detected(&m, f, 0);
        }
        scene(f);
        face(f, at[k][0], at[k][1], at[k][2], 60);
        ck_assert_msg(detected(&m, f, 0), "a %d px newcomer at (%d,%d) not detected", at[k][2], at[k][0], at[k][1]);
        scene(f); /* it leaves: that moves too */
        ck_assert(detected(&m, f, 0));
    }
    motion_free(&m);
    free(f);
}
END_TEST

START_TEST(motionless_face_is_found_within_full_every)
{
    uint8_t *f = malloc((size_t)W * H * 3);
    struct motion m = {0};
    g_seed = 3;
    scene(f);
    (void)detected(&m, f, 0);
    /* a face that came in too faint to register as motion (it stays put): the periodic full pass
     * runs within MOTION_FULL_EVERY frames of its arrival, whenever it arrives */
    for (int start = 0; start < MOTION_FULL_EVERY; start++) {
        for (int i = 0; i < start; i++) {
            scene(f);
            (void)detected(&m, f, 0);
        }
        int waited = 0;
        for (;;) {
            scene(f);
            face(f, 100, 80, 64, 8);
            waited++;
            if (detected(&m, f, 0)) break;
            ck_assert_int_lt(waited, MOTION_FULL_EVERY);
        }
        ck_assert_int_le(waited, MOTION_FULL_EVERY);
    }
    motion_free(&m);
    free(f);
}
END_TEST

START_TEST(tracked_camera_is_always_detected)
{
    uint8_t *f = malloc((size_t)W * H * 3);
    struct motion m = {0};
    g_seed = 4;
    for (int i = 0; i < 2 * MOTION_FULL_EVERY; i++) {
        scene(f);
        ck_assert(detected(&m, f, 1)); /* someone tracked (decided or not): the tracker needs every box */
    }
    motion_free(&m);
    free(f);
}
END_TEST

START_TEST(bad_frames_and_size_change)
{
    uint8_t *f = calloc((size_t)W * H * 3, 1);
    struct motion m = {0};
    size_t moved = 99;
    ck_assert_int_eq(motion_update(&m, f, 7, 100, 21, &moved), ATT_E_INVALID);
    ck_assert_uint_eq(moved, 0);
    ck_assert_int_eq(motion_update(&m, f, 100, 7, 300, &moved), ATT_E_INVALID);
    ck_assert_int_eq(motion_update(&m, f, 100, 100, 299, &moved), ATT_E_INVALID); /* stride under a row */
    ck_assert_int_eq(motion_update(&m, NULL, 100, 100, 300, &moved), ATT_E_INVALID);
    ck_assert_int_eq(motion_update(&m, f, W, H, (size_t)W * 3, &moved), ATT_OK);
    ck_assert_uint_eq(moved, (size_t)(W / 8) * (H / 8)); /* first frame: all of it */
    ck_assert_int_eq(motion_update(&m, f, W, H, (size_t)W * 3, &moved), ATT_OK);
    ck_assert_uint_eq(moved, 0);
    /* another size (the camera's stream changed): nothing to compare with again */
    ck_assert_int_eq(motion_update(&m, f, W / 2, H / 2, (size_t)W * 3, &moved), ATT_OK);
    ck_assert_uint_eq(moved, (size_t)(W / 16) * (H / 16));
    motion_free(&m);
    free(f);
}
END_TEST

Suite *motion_suite(void)
{
    Suite *s = suite_create("motion");
    ts_tcase(s, "core", 0, NULL, NULL, static_scene_is_not_detected_but_for_the_periodic_pass,
             newcomer_is_detected_on_the_frame_it_appears, motionless_face_is_found_within_full_every,
             tracked_camera_is_always_detected, bad_frames_and_size_change, NULL);
    return s;
}
