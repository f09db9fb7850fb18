/* test_pose.c: head pose in degrees (av_head_pose, fr_pose.onnx) on ../shared/data: frontal
 * portraits near 0, a portrait and its mirror image opposite, LFW photos turned about 20 and 45
 * degrees where the pose net and the landmark frontalness disagree on what is acceptable.
 * Needs ATTENDD_DATA and ATTENDD_MODELS_DIR (set by `make test`). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "attendd/pose.h"
#include "attendd/vision.h"
#include "support.h"

struct pt_ctx {
    av_models *models;
    av_pipeline *pipe;
};

static void pt_open(struct pt_ctx *c)
{
    av_err e;
    ck_assert_int_eq(av_set_num_threads(1, &e), AV_OK);
    ck_assert_msg(av_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &c->models, &e) == AV_OK, "models: %s", e.msg);
    ck_assert_msg(av_pipeline_new(c->models, 0, &c->pipe, &e) == AV_OK, "pipeline: %s", e.msg);
}

static void pt_close(struct pt_ctx *c)
{
    av_pipeline_free(c->pipe);
    av_models_free(c->models);
}

/* The pose and landmark quality of the largest face of the photo at path. */
static av_pose pt_measure(struct pt_ctx *c, const char *path, av_quality *q)
{
    av_err e;
    av_image *img = NULL;
    ck_assert_msg(av_image_load(path, 0, &img, &e) == AV_OK, "%s: %s", path, e.msg);
    av_face f;
    size_t n = 0;
    ck_assert_msg(av_detect(c->pipe, img, NULL, NULL, &f, 1, &n, &e) == AV_OK, "%s", e.msg);
    ck_assert_msg(n >= 1, "%s: no face", path);
    av_pose p = {0};
    ck_assert_msg(av_head_pose(c->pipe, img, &f, 1, &p, &e) == AV_OK, "%s: %s", path, e.msg);
    if (q) {
        av_crop crop;
        ck_assert_int_eq(av_align(img, &f, &crop, &e), AV_OK);
        ck_assert_int_eq(av_quality_assess(img, &f, &crop, q, &e), AV_OK);
    }
    av_image_free(img);
    printf("pose: %s yaw %+.1f pitch %+.1f roll %+.1f\n", path, (double)p.yaw_deg, (double)p.pitch_deg,
           (double)p.roll_deg);
    return p;
}

static av_pose pt_data(struct pt_ctx *c, const char *rel, av_quality *q)
{
    char *path = ts_data_path(rel);
    av_pose p = pt_measure(c, path, q);
    free(path);
    return p;
}

START_TEST(test_pose_frontal_near_zero)
{
    struct pt_ctx c;
    pt_open(&c);
    const char *frontal[] = {"faces/img1.jpg", "faces/img8.jpg", "faces/img22.jpg"};
    for (size_t i = 0; i < sizeof frontal / sizeof frontal[0]; i++) {
        av_pose p = pt_data(&c, frontal[i], NULL);
        ck_assert_msg(fabsf(p.yaw_deg) < 10.f, "%s: yaw %.1f", frontal[i], (double)p.yaw_deg);
        ck_assert_msg(fabsf(p.pitch_deg) < 20.f, "%s: pitch %.1f", frontal[i], (double)p.pitch_deg);
    }
    pt_close(&c);
}
END_TEST

/* A real face turned about 25 degrees (spoof/image_T1.jpg) and its mirror image: the yaw changes
 * sign, keeps its size, and the pitch stays. */
START_TEST(test_pose_mirror_turns_yaw)
{
    struct pt_ctx c;
    pt_open(&c);
    char dir[] = "/tmp/attendd-pose-XXXXXX", mirror[64], cmd[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(mirror, sizeof mirror, "%s/mirror.png", dir);
    char *src = ts_data_path("spoof/image_T1.jpg");
    snprintf(cmd, sizeof cmd, "ffmpeg -loglevel error -y -i '%s' -vf hflip '%s'", src, mirror);
    ck_assert_int_eq(system(cmd), 0);
    av_pose a = pt_measure(&c, src, NULL), b = pt_measure(&c, mirror, NULL);
    free(src);
    unlink(mirror);
    rmdir(dir);
    ck_assert_msg(a.yaw_deg < -15.f && a.yaw_deg > -30.f, "yaw %.1f", (double)a.yaw_deg);
    ck_assert_msg(b.yaw_deg > 15.f && b.yaw_deg < 30.f, "mirrored yaw %.1f", (double)b.yaw_deg);
    ck_assert_msg(fabsf(a.yaw_deg + b.yaw_deg) < 6.f, "yaw %.1f, mirrored %.1f", (double)a.yaw_deg, (double)b.yaw_deg);
    ck_assert_msg(fabsf(a.pitch_deg - b.pitch_deg) < 6.f, "pitch %.1f, mirrored %.1f", (double)a.pitch_deg,
                  (double)b.pitch_deg);
    pt_close(&c);
}
END_TEST

/* LFW portraits chosen by their measured yaw (docs/vision.md "Head pose"): turned about 20 degrees,
 * which the landmark frontalness already calls not frontal (< 0.6), and about 45 degrees. */
START_TEST(test_pose_lfw_turned)
{
    struct pt_ctx c;
    pt_open(&c);
    av_quality q;
    av_pose p = pt_data(&c, "lfw/images/Lyle_Vanclief/Lyle_Vanclief_0001.jpg", &q);
    ck_assert_msg(p.yaw_deg > 15.f && p.yaw_deg < 25.f, "yaw %.1f", (double)p.yaw_deg);
    ck_assert_msg(q.frontalness < 0.6f, "frontalness %.2f", (double)q.frontalness);
    p = pt_data(&c, "lfw/images/Richard_Myers/Richard_Myers_0002.jpg", &q);
    ck_assert_msg(p.yaw_deg > 15.f && p.yaw_deg < 28.f, "yaw %.1f", (double)p.yaw_deg);
    ck_assert_msg(q.frontalness < 0.6f, "frontalness %.2f", (double)q.frontalness);
    p = pt_data(&c, "lfw/images/Victoria_Clarke/Victoria_Clarke_0001.jpg", NULL);
    ck_assert_msg(p.yaw_deg > 38.f, "yaw %.1f", (double)p.yaw_deg);
    p = pt_data(&c, "lfw/images/Lee_Tae-sik/Lee_Tae-sik_0002.jpg", NULL);
    ck_assert_msg(p.yaw_deg < -38.f, "yaw %.1f", (double)p.yaw_deg);
    pt_close(&c);
}
END_TEST

START_TEST(test_pose_args)
{
    struct pt_ctx c;
    pt_open(&c);
    av_err e;
    char *path = ts_data_path("faces/img8.jpg");
    av_image *img = NULL;
    ck_assert_int_eq(av_image_load(path, 0, &img, &e), AV_OK);
    free(path);
    av_face f = {.box = {10, 10, 10, 40}};
    av_pose p;
    ck_assert_int_eq(av_head_pose(NULL, img, &f, 1, &p, &e), AV_E_ARG);
    ck_assert_int_eq(av_head_pose(c.pipe, img, NULL, 1, &p, &e), AV_E_ARG);
    ck_assert_int_eq(av_head_pose(c.pipe, img, &f, 1, &p, &e), AV_E_ARG); /* empty box */
    f.box = (av_box){-500, -500, -400, -400};
    ck_assert_int_eq(av_head_pose(c.pipe, img, &f, 1, &p, &e), AV_E_ARG); /* outside the image */
    ck_assert_int_eq(av_head_pose(c.pipe, img, NULL, 0, NULL, &e), AV_OK);
    av_image_free(img);
    pt_close(&c);
}
END_TEST

Suite *pose_suite(void)
{
    Suite *s = suite_create("pose");
    ts_tcase(s, "pose", 180, NULL, NULL, test_pose_frontal_near_zero, test_pose_mirror_turns_yaw, test_pose_lfw_turned,
             test_pose_args, NULL);
    return s;
}
