/* test_confirm.c: the confirming model (dlib's face-recognition ResNet behind av_confirm_*): its file is
 * verified by digest, a bad file or bad arguments come back as error codes (nothing thrown crosses the
 * shim), two photos of one LFW person score above the threshold and two people below it, with either
 * alignment, and the fused score orders the pairs the same way; the mirror-averaged chip is a unit vector
 * near the plain one that keeps the pairs apart, and unknown bits in the chip choice are refused.
 * Needs ATTENDD_DATA and ATTENDD_MODELS_DIR (set by `make test`). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/fuse.h"
#include "attendd/vision.h"
#include "support.h"

struct ct_face {
    float fr[AV_EMBED_DIM];     /* fr_feature template */
    float lm68[AV_CONFIRM_DIM]; /* confirming embedding, chip from the 68 landmarks */
    float sp5[AV_CONFIRM_DIM];  /* confirming embedding, chip from dlib's 5-point predictor */
};

static void ct_embed(av_pipeline *p, av_confirm_net *n, const char *rel, struct ct_face *out)
{
    char *path = ts_data_path(rel);
    av_err e;
    av_image *img = NULL;
    ck_assert_msg(av_image_load(path, 0, &img, &e) == AV_OK, "%s: %s", path, e.msg);
    av_face face;
    ck_assert_msg(av_face_template(p, img, out->fr, &face, &e) == AV_OK, "%s: %s", rel, e.msg);
    ck_assert_msg(av_confirm_embed(n, img, &face, AV_CONFIRM_ALIGN_LM68, out->lm68, &e) == AV_OK, "%s: %s", rel, e.msg);
    ck_assert_msg(av_confirm_embed(n, img, &face, AV_CONFIRM_ALIGN_SP5, out->sp5, &e) == AV_OK, "%s: %s", rel, e.msg);
    float norm = 0;
    for (int k = 0; k < AV_CONFIRM_DIM; k++) norm += out->lm68[k] * out->lm68[k];
    ck_assert_float_eq_tol(norm, 1.0f, 1e-4f);
    av_image_free(img);
    free(path);
}

START_TEST(test_confirm_scores)
{
    av_err e;
    av_models *m = NULL;
    av_pipeline *p = NULL;
    av_confirm_models *cm = NULL;
    av_confirm_net *n = NULL;
    ck_assert_int_eq(av_set_num_threads(1, &e), AV_OK);
    ck_assert_msg(av_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &m, &e) == AV_OK, "models: %s", e.msg);
    ck_assert_msg(av_pipeline_new(m, 0, &p, &e) == AV_OK, "pipeline: %s", e.msg);
    ck_assert_msg(av_confirm_models_load(ts_env("ATTENDD_MODELS_DIR"), AV_CONFIRM_LOAD_SP5, &cm, &e) == AV_OK,
                  "confirming model: %s", e.msg);
    ck_assert_msg(av_confirm_net_new(cm, &n, &e) == AV_OK, "confirming net: %s", e.msg);

    static struct ct_face a, b, x;
    ct_embed(p, n, "lfw/images/Colin_Powell/Colin_Powell_0001.jpg", &a);
    ct_embed(p, n, "lfw/images/Colin_Powell/Colin_Powell_0002.jpg", &b);
    ct_embed(p, n, "lfw/images/Dalai_Lama/Dalai_Lama_0001.jpg", &x);

    /* the impostor pair scores at least two of its model's impostor standard deviations below the genuine one */
    float same = av_confirm_similarity(a.lm68, b.lm68), diff = av_confirm_similarity(a.lm68, x.lm68);
    ck_assert_msg(same >= AV_CONFIRM_THRESHOLD && diff < AV_CONFIRM_THRESHOLD && same - diff > 2 * AV_FUSE_CONFIRM_SD,
                  "lm68: same %.3f, different %.3f", (double)same, (double)diff);
    float same5 = av_confirm_similarity(a.sp5, b.sp5), diff5 = av_confirm_similarity(a.sp5, x.sp5);
    ck_assert_msg(same5 >= AV_CONFIRM_THRESHOLD && diff5 < AV_CONFIRM_THRESHOLD &&
                      same5 - diff5 > 2 * AV_FUSE_CONFIRM_SD,
                  "sp5: same %.3f, different %.3f", (double)same5, (double)diff5);
    float fs = av_fuse_scores(av_similarity(a.fr, b.fr), same), fd = av_fuse_scores(av_similarity(a.fr, x.fr), diff);
    ck_assert_msg(fs >= AV_FUSED_THRESHOLD && fd < AV_FUSED_THRESHOLD, "fused: same %.3f, different %.3f", (double)fs,
                  (double)fd);

    /* bad arguments: error codes, no crash, no exception */
    float out[AV_CONFIRM_DIM];
    av_face bare = {.box = {10, 10, 90, 90}, .score = 0.9f};
    char *path = ts_data_path("lfw/images/Dalai_Lama/Dalai_Lama_0001.jpg");
    av_image *img = NULL;
    ck_assert_int_eq(av_image_load(path, 0, &img, &e), AV_OK);
    ck_assert_int_eq(av_confirm_embed(n, img, &bare, AV_CONFIRM_ALIGN_LM68, out, &e), AV_E_ARG);
    ck_assert_msg(strstr(e.msg, "landmarks") != NULL, "message: %s", e.msg);
    ck_assert_int_eq(av_confirm_embed(n, img, &bare, (av_confirm_align)7, out, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_embed(NULL, img, &bare, AV_CONFIRM_ALIGN_SP5, out, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_embed(n, NULL, &bare, AV_CONFIRM_ALIGN_SP5, out, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_embed(n, img, NULL, AV_CONFIRM_ALIGN_SP5, out, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_embed(n, img, &bare, AV_CONFIRM_ALIGN_SP5, NULL, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_net_new(NULL, &n, &e), AV_E_ARG);
    ck_assert_float_eq(av_confirm_similarity(NULL, out), 0.0f);
    av_confirm_net_free(n);
    av_confirm_models_free(cm);

    /* a net whose models lack the 5-point predictor refuses that alignment */
    ck_assert_int_eq(av_confirm_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &cm, &e), AV_OK);
    ck_assert_int_eq(av_confirm_net_new(cm, &n, &e), AV_OK);
    ck_assert_int_eq(av_confirm_embed(n, img, &bare, AV_CONFIRM_ALIGN_SP5, out, &e), AV_E_ARG);
    ck_assert_msg(strstr(e.msg, "5-point") != NULL, "message: %s", e.msg);
    av_confirm_net_free(n);
    av_confirm_models_free(cm);
    av_image_free(img);
    free(path);
    av_pipeline_free(p);
    av_models_free(m);
}
END_TEST

/* The confirming embedding of rel's subject face: plain and mirror-averaged chips from the 68 landmarks. */
static void ct_embed_flip(av_pipeline *p, av_confirm_net *n, const char *rel, float plain[AV_CONFIRM_DIM],
                          float flip[AV_CONFIRM_DIM])
{
    char *path = ts_data_path(rel);
    av_err e;
    av_image *img = NULL;
    ck_assert_msg(av_image_load(path, 0, &img, &e) == AV_OK, "%s: %s", path, e.msg);
    av_face face;
    float fr[AV_EMBED_DIM];
    ck_assert_msg(av_face_template(p, img, fr, &face, &e) == AV_OK, "%s: %s", rel, e.msg);
    ck_assert_msg(av_confirm_embed(n, img, &face, AV_CONFIRM_ALIGN_LM68, plain, &e) == AV_OK, "%s: %s", rel, e.msg);
    ck_assert_msg(
        av_confirm_embed(n, img, &face, (av_confirm_align)(AV_CONFIRM_ALIGN_LM68 | AV_CONFIRM_FLIP), flip, &e) == AV_OK,
        "%s: %s", rel, e.msg);
    /* unknown bits beside the flip are refused, the output untouched */
    float keep = flip[0];
    ck_assert_int_eq(av_confirm_embed(n, img, &face, (av_confirm_align)(AV_CONFIRM_FLIP | 6), flip, &e), AV_E_ARG);
    ck_assert_int_eq(av_confirm_embed(n, img, &face, (av_confirm_align)(AV_CONFIRM_FLIP << 1), flip, &e), AV_E_ARG);
    ck_assert_float_eq(flip[0], keep);
    av_image_free(img);
    free(path);
}

START_TEST(test_confirm_flip)
{
    av_err e;
    av_models *m = NULL;
    av_pipeline *p = NULL;
    av_confirm_models *cm = NULL;
    av_confirm_net *n = NULL;
    ck_assert_int_eq(av_set_num_threads(1, &e), AV_OK);
    ck_assert_msg(av_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &m, &e) == AV_OK, "models: %s", e.msg);
    ck_assert_msg(av_pipeline_new(m, 0, &p, &e) == AV_OK, "pipeline: %s", e.msg);
    ck_assert_msg(av_confirm_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &cm, &e) == AV_OK, "confirming model: %s",
                  e.msg);
    ck_assert_msg(av_confirm_net_new(cm, &n, &e) == AV_OK, "confirming net: %s", e.msg);
    static float a[AV_CONFIRM_DIM], af[AV_CONFIRM_DIM], b[AV_CONFIRM_DIM], bf[AV_CONFIRM_DIM], x[AV_CONFIRM_DIM],
        xf[AV_CONFIRM_DIM];
    ct_embed_flip(p, n, "lfw/images/Colin_Powell/Colin_Powell_0001.jpg", a, af);
    ct_embed_flip(p, n, "lfw/images/Colin_Powell/Colin_Powell_0002.jpg", b, bf);
    ct_embed_flip(p, n, "lfw/images/Dalai_Lama/Dalai_Lama_0001.jpg", x, xf);
    /* a unit vector, not the plain embedding (the mirror image was embedded too) but near it: one face */
    ck_assert_float_eq_tol(av_confirm_similarity(af, af), 1.0f, 1e-4f);
    float self = av_confirm_similarity(a, af);
    ck_assert_msg(self < 0.9999f && self > 1.0f - 4 * AV_FUSE_CONFIRM_SD, "plain against mirror-averaged: %.5f",
                  (double)self);
    /* and it keeps one person's photos together and two people apart */
    float same = av_confirm_similarity(af, bf), diff = av_confirm_similarity(af, xf);
    ck_assert_msg(same >= AV_CONFIRM_THRESHOLD && diff < AV_CONFIRM_THRESHOLD && same - diff > 2 * AV_FUSE_CONFIRM_SD,
                  "mirror-averaged: same %.3f, different %.3f", (double)same, (double)diff);
    av_confirm_net_free(n);
    av_confirm_models_free(cm);
    av_pipeline_free(p);
    av_models_free(m);
}
END_TEST

START_TEST(test_confirm_model_checked)
{
    av_err e;
    av_confirm_models *cm = NULL;
    ck_assert_int_eq(av_confirm_models_load("/nonexistent-attendd-models", 0, &cm, &e), AV_E_MODEL);
    ck_assert_ptr_null(cm);
    ck_assert_msg(strstr(e.msg, AV_CONFIRM_MODEL_FILE) != NULL, "message: %s", e.msg);
    ck_assert_int_eq(av_confirm_models_load(NULL, 0, &cm, &e), AV_E_ARG);

    /* a file that is not the pinned one: refused by digest, and when not verified, refused by dlib
     * as an error code (dlib throws; nothing crosses the shim) */
    char dir[256];
    ts_mkdtemp(dir, sizeof dir, "confirm");
    char file[512];
    snprintf(file, sizeof file, "%s/%s", dir, AV_CONFIRM_MODEL_FILE);
    const char junk[] = "not a dlib network, just some bytes";
    ts_write_file(file, junk, sizeof junk, 0644);
    ck_assert_int_eq(av_confirm_models_load(dir, 0, &cm, &e), AV_E_MODEL);
    ck_assert_msg(strstr(e.msg, "SHA-256") != NULL, "message: %s", e.msg);
    ck_assert_int_eq(av_confirm_models_load(dir, AV_MODELS_NO_VERIFY, &cm, &e), AV_OK);
    av_confirm_net *n = NULL;
    ck_assert_int_eq(av_confirm_net_new(cm, &n, &e), AV_E_MODEL);
    ck_assert_ptr_null(n);
    av_confirm_models_free(cm);
    /* the 5-point predictor is required only when asked for */
    ck_assert_int_eq(av_confirm_models_load(dir, AV_MODELS_NO_VERIFY | AV_CONFIRM_LOAD_SP5, &cm, &e), AV_E_MODEL);
    ck_assert_msg(strstr(e.msg, AV_CONFIRM_SP5_FILE) != NULL, "message: %s", e.msg);
    ts_rm_rf(dir);
}
END_TEST

Suite *confirm_suite(void)
{
    Suite *s = suite_create("confirm");
    TCase *tc = tcase_create("confirm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_confirm_model_checked);
    tcase_add_test(tc, test_confirm_scores);
    tcase_add_test(tc, test_confirm_flip);
    suite_add_tcase(s, tc);
    return s;
}
