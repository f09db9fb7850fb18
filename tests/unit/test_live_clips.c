/* test_live_clips.c: liveness judged over tracks on real clips (../shared/data/spoof-video): each
 * clip's frames at 6 fps through detection, recognition (recog_faces: gallery top-2 and liveness)
 * and the tracker with its default rules, both people enrolled from their enrol.jpg. A live clip
 * and a close-up crop of it (made here with ffmpeg: the face ~440 px of a 720-high frame) give one
 * decision; the screen replays give none. Needs ffmpeg, ATTENDD_DATA and ATTENDD_MODELS_DIR. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attendd/gallery.h"
#include "attendd/tracker.h"
#include "attendd/vision.h"
#include "src/analysis/pipeline_internal.h"
#include "support.h"

#define FPS 6
#define MAXF 16

static void run(char *const argv[])
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed", argv[0]);
}

/* Frames of clip (relative to ATTENDD_DATA) at FPS into dir as f0001.jpg..., cropped by vf
 * (ffmpeg filter, NULL = none) first. */
static void frames(const char *rel, const char *vf, const char *dir)
{
    char *src = ts_data_path(rel);
    char filter[256], pattern[300];
    snprintf(filter, sizeof filter, "%s%sfps=%d", vf ? vf : "", vf ? "," : "", FPS);
    snprintf(pattern, sizeof pattern, "%s/f%%04d.jpg", dir);
    char *argv[] = {"ffmpeg", "-v", "error", "-y", "-i", src, "-vf", filter, "-q:v", "3", pattern, NULL};
    run(argv);
    free(src);
}

struct lc_ctx {
    av_models *models;
    av_pipeline *pipe;
    gal *g;
};

static void enrol(struct lc_ctx *c, const char *person_id, const char *face_id, const char *rel)
{
    char *path = ts_data_path(rel);
    av_image *img;
    av_err e;
    float emb[AV_EMBED_DIM];
    ck_assert_msg(av_image_load(path, 0, &img, &e) == AV_OK, "%s: %s", path, e.msg);
    ck_assert_msg(av_face_template(c->pipe, img, emb, NULL, &e) == AV_OK, "%s: %s", path, e.msg);
    av_image_free(img);
    free(path);
    ck_assert_int_eq(gal_person_put(c->g, person_id, true, NULL), ATT_OK);
    ck_assert_int_eq(gal_face_add(c->g, person_id, face_id, emb), ATT_OK);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Decisions the tracker makes on the frames in dir (label names them in the output). */
static int decisions(struct lc_ctx *c, const char *dir, const char *label)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char *names[1024];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024)
        if (de->d_name[0] == 'f') names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_name);

    struct trk_params tp;
    trk_params_defaults(&tp);
    tp.sim_threshold = 0.40f; /* track_match_threshold's default, as the daemon sets it */
    trk_tracker *t;
    ck_assert_int_eq(trk_new(&tp, &t), ATT_OK);
    av_detect_opts o;
    av_detect_opts_init(&o);
    o.min_face_px = 0; /* whole-frame pass: these faces are large */
    int made = 0, measured = 0, live = 0;
    for (size_t i = 0; i < n; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        av_image *img;
        av_err e;
        ck_assert_msg(av_image_load(path, 0, &img, &e) == AV_OK, "%s: %s", path, e.msg);
        av_face faces[MAXF];
        size_t nf = 0;
        ck_assert_int_eq(av_detect(c->pipe, img, NULL, &o, faces, MAXF, &nf, &e), AV_OK);
        if (nf > MAXF) nf = MAXF;
        size_t k = 0;
        for (size_t j = 0; j < nf; j++)
            if (faces[j].has_landmarks) faces[k++] = faces[j];
        struct trk_recog rec[MAXF];
        struct trk_det det[MAXF];
        char err[256];
        ck_assert_msg(recog_faces(c->pipe, img, faces, k, c->g, tp.sim_threshold, rec, err, sizeof err) == ATT_OK, "%s",
                      err);
        for (size_t j = 0; j < k; j++) {
            det[j] = (struct trk_det){.x = faces[j].box.x1,
                                      .y = faces[j].box.y1,
                                      .w = faces[j].box.x2 - faces[j].box.x1,
                                      .h = faces[j].box.y2 - faces[j].box.y1,
                                      .score = faces[j].score,
                                      .recog = &rec[j]};
            if (rec[j].liveness >= 0.0f) measured++, live += rec[j].liveness >= AV_LIVE_THRESHOLD;
        }
        ck_assert_int_eq(trk_update(t, (int64_t)i * 1000000 / FPS, det, k, NULL), ATT_OK);
        struct trk_decision dd;
        while (trk_pop_decision(t, &dd)) made++;
        av_image_free(img);
    }
    printf("live_clips: %s: %zu frames, %d recognitions with liveness measured (%d of them >= %.1f), %d decisions\n",
           label, n, measured, live, (double)AV_LIVE_THRESHOLD, made);
    trk_free(t);
    return made;
}

static char tmp[32];
static struct lc_ctx C;

/* Called in each test's own process: the gallery's template memory is not inherited across fork. */
static void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/attendd-live-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    av_err e;
    ck_assert_int_eq(av_set_num_threads(1, &e), AV_OK);
    ck_assert_msg(av_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &C.models, &e) == AV_OK, "%s", e.msg);
    ck_assert_msg(av_pipeline_new(C.models, 0, &C.pipe, &e) == AV_OK, "%s", e.msg);
    C.g = gal_new();
    ck_assert_ptr_nonnull(C.g);
    enrol(&C, "0b1a4c1e-0000-4000-8000-00000000000a", "0b1a4c1e-0000-4000-8000-0000000000fa",
          "spoof-video/person-a/enrol.jpg");
    enrol(&C, "0b1a4c1e-0000-4000-8000-00000000000b", "0b1a4c1e-0000-4000-8000-0000000000fb",
          "spoof-video/person-b/enrol.jpg");
}

static void teardown(void)
{
    gal_free(C.g);
    av_pipeline_free(C.pipe);
    av_models_free(C.models);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

/* One clip's decisions, its frames extracted into a directory of its own. */
static int clip(const char *rel, const char *vf, const char *label)
{
    setup();
    char dir[200];
    snprintf(dir, sizeof dir, "%s/%s", tmp, label);
    char *argv[] = {"mkdir", "-p", dir, NULL};
    run(argv);
    frames(rel, vf, dir);
    int made = decisions(&C, dir, label);
    teardown();
    return made;
}

START_TEST(live_clip_decides_once)
{
    ck_assert_int_eq(clip("spoof-video/person-a/live.mp4", NULL, "a-live"), 1);
    ck_assert_int_eq(clip("spoof-video/person-b/live.mp4", NULL, "b-live"), 1);
}
END_TEST

/* Close-ups: the face about 440 px of a 720-high frame, so the 2.7x liveness context cannot fit
 * and is padded, not shifted off the face. */
START_TEST(close_up_live_clip_decides_once)
{
    ck_assert_int_eq(clip("spoof-video/person-a/live.mp4", "crop=368:490:0:40,scale=540:720", "a-close"), 1);
    ck_assert_int_eq(clip("spoof-video/person-b/live.mp4", "crop=600:400:140:60,scale=1080:720", "b-close"), 1);
}
END_TEST

START_TEST(replays_never_decide)
{
    ck_assert_int_eq(clip("spoof-video/person-a/replay.mp4", NULL, "a-replay"), 0);
    ck_assert_int_eq(clip("spoof-video/person-b/replay.mp4", NULL, "b-replay"), 0);
}
END_TEST

Suite *live_clips_suite(void)
{
    Suite *s = suite_create("live_clips");
    ts_tcase(s, "clips", 300, NULL, NULL, live_clip_decides_once, close_up_live_clip_decides_once, replays_never_decide,
             NULL);
    return s;
}
