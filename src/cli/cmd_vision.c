/* cmd_vision.c: offline face tools — `attendctl detect IMAGE`, `embed IMAGE`,
 * `compare IMAGE1 IMAGE2` (both models' similarities and the fused score) — printing JSON on stdout; templates as enrolment and identification make
 * them (attendd/photo.h). Exit status: 0 success, 1 no face, 2 usage, 3 bad or unreadable image,
 * 4 models or internal failure. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/photo.h"
#include "attendd/json.h"
#include "attendd/pose.h"
#include "attendd/vision.h"
#include "cli.h"

enum { EX_OK = 0, EX_NOFACE = 1, EX_USAGE = 2, EX_IMAGE = 3, EX_MODELS = 4 };

#define MAX_FACES 256

struct vopts {
    const char *models;  /* --models DIR */
    int threads;         /* --threads N, 0 = OpenCV default */
    int min_face;        /* --min-face PX (detect), -1 = default */
    const char *args[2]; /* positional IMAGE arguments */
    int nargs;
};

struct vctx {
    av_models *models;
    av_pipeline *pipe;
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* Parses argv (argv[0] is the subcommand) expecting exactly `want` positional arguments. */
static int parse_args(int argc, char **argv, int want, const char *usage, struct vopts *o)
{
    memset(o, 0, sizeof *o);
    o->min_face = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--models") && i + 1 < argc) {
            o->models = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 64, &o->threads) != 0) {
                fprintf(stderr, "attendctl %s: --threads takes 1..64\n", argv[0]);
                return -1;
            }
        } else if (!strcmp(a, "--min-face") && i + 1 < argc) {
            if (parse_int(argv[++i], 0, 10000, &o->min_face) != 0) {
                fprintf(stderr, "attendctl %s: --min-face takes 0..10000 (pixels)\n", argv[0]);
                return -1;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: attendctl %s\n", usage);
            exit(EX_OK);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "attendctl %s: unknown option %s\nusage: attendctl %s\n", argv[0], a, usage);
            return -1;
        } else if (o->nargs < want) {
            o->args[o->nargs++] = a;
        } else {
            fprintf(stderr, "attendctl %s: too many arguments\nusage: attendctl %s\n", argv[0], usage);
            return -1;
        }
    }
    if (o->nargs != want) {
        fprintf(stderr, "usage: attendctl %s\n", usage);
        return -1;
    }
    return 0;
}

static int has_models(const char *dir)
{
    char p[1024];
    if (snprintf(p, sizeof p, "%s/fr_detect.onnx", dir) >= (int)sizeof p) return 0;
    return access(p, R_OK) == 0;
}

/* --models, then $ATTENDD_MODELS_DIR, then ./models when it holds the files, then the
 * configured models_dir (the installed path unless the config file says otherwise). */
static const char *models_dir(const struct vopts *o)
{
    if (o->models) return o->models;
    const char *env = getenv("ATTENDD_MODELS_DIR");
    if (env && *env) return env;
    if (has_models("models")) return "models";
    return cli_config()->models_dir;
}

static void vctx_free(struct vctx *c)
{
    av_pipeline_free(c->pipe);
    av_models_free(c->models);
}

static int vctx_open(const char *cmd, const struct vopts *o, struct vctx *c)
{
    av_err err;
    memset(c, 0, sizeof *c);
    const char *dir = models_dir(o);
    if (o->threads > 0 && av_set_num_threads(o->threads, &err) != AV_OK) {
        fprintf(stderr, "attendctl %s: %s\n", cmd, err.msg);
        return EX_USAGE;
    }
    if (av_models_load(dir, 0, &c->models, &err) != AV_OK || av_pipeline_new(c->models, 0, &c->pipe, &err) != AV_OK) {
        fprintf(stderr, "attendctl %s: models in %s: %s (run models/fetch, or pass --models DIR)\n", cmd, dir, err.msg);
        vctx_free(c);
        return EX_MODELS;
    }
    return EX_OK;
}

static int exit_for(av_status s)
{
    switch (s) {
    case AV_OK: return EX_OK;
    case AV_E_NO_FACE: return EX_NOFACE;
    case AV_E_IO:
    case AV_E_IMG_EMPTY:
    case AV_E_IMG_TRUNCATED:
    case AV_E_IMG_CORRUPT:
    case AV_E_IMG_TOO_LARGE:
    case AV_E_IMG_NOT_IMAGE:
    case AV_E_IMG_UNSUPPORTED: return EX_IMAGE;
    default: return EX_MODELS;
    }
}

static int report(const char *cmd, const char *path, const av_err *err)
{
    fprintf(stderr, "attendctl %s: %s: %s (%s)\n", cmd, path, err->msg, av_status_name(err->code));
    return exit_for(err->code);
}

static json_t *json_box(const av_box *b)
{
    return json_pack("[oooo]", att_json_float(b->x1), att_json_float(b->y1), att_json_float(b->x2),
                     att_json_float(b->y2));
}

static int print_json(json_t *root)
{
    if (!root) {
        fprintf(stderr, "attendctl: out of memory building JSON\n");
        return EX_MODELS;
    }
    char *text = att_json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        fprintf(stderr, "attendctl: out of memory building JSON\n");
        return EX_MODELS;
    }
    int rc = fputs(text, stdout);
    free(text);
    if (rc == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "attendctl: cannot write to stdout\n");
        return EX_MODELS;
    }
    return EX_OK;
}

/* One face's JSON object: box, score, landmarks5, quality, liveness. */
static json_t *face_json(av_pipeline *pipe, const av_image *img, const av_face *f, av_err *err)
{
    av_crop crop;
    av_quality q;
    av_pose pose;
    float live;
    if (av_align(img, f, &crop, err) != AV_OK || av_quality_assess(img, f, &crop, &q, err) != AV_OK ||
        av_liveness(pipe, img, f, 1, &live, err) != AV_OK || av_head_pose(pipe, img, f, 1, &pose, err) != AV_OK)
        return NULL;
    q.liveness = live;
    json_t *pts = json_array();
    for (int k = 0; k < 5; k++)
        json_array_append_new(pts, json_pack("[oo]", att_json_float(f->pts5[k].x), att_json_float(f->pts5[k].y)));
    return json_pack("{s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o}, s:o, s:b, s:{s:o, s:o, s:o}}", "box",
                     json_box(&f->box), "score", att_json_float(f->score), "landmarks5", pts, "quality", "size_px",
                     att_json_float(q.size_px), "sharpness", att_json_float(q.sharpness), "yaw", att_json_float(q.yaw),
                     "roll_deg", att_json_float(q.roll_deg), "frontalness", att_json_float(q.frontalness), "liveness",
                     att_json_float(q.liveness), "live", q.liveness >= AV_LIVE_THRESHOLD, "pose", "yaw_deg",
                     att_json_float(pose.yaw_deg), "pitch_deg", att_json_float(pose.pitch_deg), "roll_deg",
                     att_json_float(pose.roll_deg));
}

int cmd_detect(int argc, char **argv)
{
    static const char usage[] = "detect [--models DIR] [--threads N] [--min-face PX] IMAGE";
    struct vopts o;
    if (parse_args(argc, argv, 1, usage, &o) != 0) return EX_USAGE;
    struct vctx c;
    int rc = vctx_open("detect", &o, &c);
    if (rc != EX_OK) return rc;

    av_err err;
    av_image *img = NULL;
    av_face *faces = calloc(MAX_FACES, sizeof *faces);
    size_t n = 0;
    json_t *arr = NULL;
    if (!faces) {
        fprintf(stderr, "attendctl detect: out of memory\n");
        rc = EX_MODELS;
        goto out;
    }
    if (av_image_load(o.args[0], 0, &img, &err) != AV_OK) {
        rc = report("detect", o.args[0], &err);
        goto out;
    }
    av_detect_opts dopt;
    if (o.min_face >= 0) {
        av_detect_opts_init(&dopt);
        dopt.min_face_px = o.min_face;
    } else {
        /* a large photo would need too many tiles for 40 px faces: the photo search rule looks for
         * larger ones; say so */
        const struct photo_search every_face = {.floor_px = 40, .div = 0, .max_passes = 64};
        int w = av_image_width(img), h = av_image_height(img);
        photo_detect_opts(&every_face, w, h, &dopt);
        if (dopt.min_face_px != every_face.floor_px)
            fprintf(stderr,
                    "attendctl detect: %s is %dx%d: looking for faces of %d px and more (--min-face to change)\n",
                    o.args[0], w, h, dopt.min_face_px);
    }
    if (av_detect(c.pipe, img, NULL, &dopt, faces, MAX_FACES, &n, &err) != AV_OK) {
        rc = report("detect", o.args[0], &err);
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "attendctl detect: %s: no face found\n", o.args[0]);
        rc = EX_NOFACE;
        goto out;
    }
    if (n > MAX_FACES) n = MAX_FACES;
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *f = face_json(c.pipe, img, &faces[i], &err);
        if (!f) {
            rc = report("detect", o.args[0], &err);
            goto out;
        }
        json_array_append_new(arr, f);
    }
    rc = print_json(json_pack("{s:s, s:i, s:i, s:o}", "image", o.args[0], "width", av_image_width(img), "height",
                              av_image_height(img), "faces", arr));
    arr = NULL;
out:
    json_decref(arr);
    free(faces);
    av_image_free(img);
    vctx_free(&c);
    return rc;
}

int cmd_embed(int argc, char **argv)
{
    static const char usage[] = "embed [--models DIR] [--threads N] IMAGE";
    struct vopts o;
    if (parse_args(argc, argv, 1, usage, &o) != 0) return EX_USAGE;
    struct vctx c;
    int rc = vctx_open("embed", &o, &c);
    if (rc != EX_OK) return rc;

    av_err err;
    av_image *img = NULL;
    float emb[AV_EMBED_DIM];
    av_face face;
    if (av_image_load(o.args[0], 0, &img, &err) != AV_OK || av_face_template(c.pipe, img, emb, &face, &err) != AV_OK) {
        rc = report("embed", o.args[0], &err);
    } else {
        json_t *v = json_array();
        for (int k = 0; k < AV_EMBED_DIM; k++) json_array_append_new(v, att_json_float(emb[k]));
        rc = print_json(json_pack("{s:s, s:o, s:o, s:o}", "image", o.args[0], "box", json_box(&face.box), "score",
                                  att_json_float(face.score), "embedding", v));
    }
    av_image_free(img);
    vctx_free(&c);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    static const char usage[] = "compare [--models DIR] [--threads N] IMAGE1 IMAGE2";
    struct vopts o;
    if (parse_args(argc, argv, 2, usage, &o) != 0) return EX_USAGE;
    struct vctx c;
    int rc = vctx_open("compare", &o, &c);
    if (rc != EX_OK) return rc;
    /* the confirming model as identification uses it: the subject face, the shipped alignment */
    av_confirm_models *cm = NULL;
    av_confirm_net *cn = NULL;
    av_err err;
    if (av_confirm_models_load(models_dir(&o), PHOTO_CONFIRM_LOAD_FLAGS, &cm, &err) != AV_OK ||
        av_confirm_net_new(cm, &cn, &err) != AV_OK) {
        fprintf(stderr, "attendctl compare: confirming model in %s: %s (run models/fetch, or pass --models DIR)\n",
                models_dir(&o), err.msg);
        rc = EX_MODELS;
    }

    float emb[2][AV_EMBED_DIM], conf[2][AV_CONFIRM_DIM];
    for (int i = 0; i < 2 && rc == EX_OK; i++) {
        av_image *img = NULL;
        av_face face;
        if (av_image_load(o.args[i], 0, &img, &err) != AV_OK ||
            av_face_template(c.pipe, img, emb[i], &face, &err) != AV_OK ||
            photo_confirm(cn, img, &face, conf[i], &err) != AV_OK)
            rc = report("compare", o.args[i], &err);
        av_image_free(img);
    }
    if (rc == EX_OK) {
        float s = av_similarity(emb[0], emb[1]), cs = av_confirm_similarity(conf[0], conf[1]);
        float fused = av_fuse_scores(s, cs);
        rc = print_json(json_pack("{s:o, s:b, s:o, s:o, s:o, s:b, s:o}", "similarity", att_json_float(s), "match",
                                  s >= AV_DEFAULT_THRESHOLD, "threshold", att_json_float(AV_DEFAULT_THRESHOLD),
                                  "confirm_similarity", att_json_float(cs), "fused", att_json_float(fused),
                                  "fused_match", fused >= AV_FUSED_VERIFY_THRESHOLD, "fused_threshold",
                                  att_json_float(AV_FUSED_VERIFY_THRESHOLD)));
    }
    av_confirm_net_free(cn);
    av_confirm_models_free(cm);
    vctx_free(&c);
    return rc;
}
