/* test_vision.c: the vision core against ../shared/data — safe decoding of bad images, liveness on
 * the spoof samples, detection in corridor frame 50 against tests/fixtures/corridor-frame50.json,
 * verification on master.csv and leave-one-out identification on identities.json (computed, not
 * stored), the embedding batch quirk, and the attendctl detect/embed/compare commands.
 * Needs ATTENDD_DATA and ATTENDD_MODELS_DIR (set by `make test`); ATTENDD_BUILD for the CLI case. */
#include <check.h>
#include <pthread.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attendd/photo.h"
#include "attendd/fuse.h"
#include "attendd/vision.h"
#include "support.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static unsigned char *vt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct vt_ctx {
    av_models *models;
    av_pipeline *pipe;
};

static void vt_open(struct vt_ctx *c, unsigned flags)
{
    av_err e;
    ck_assert_int_eq(av_set_num_threads(1, &e), AV_OK);
    ck_assert_msg(av_models_load(ts_env("ATTENDD_MODELS_DIR"), 0, &c->models, &e) == AV_OK, "models: %s", e.msg);
    ck_assert_msg(av_pipeline_new(c->models, flags, &c->pipe, &e) == AV_OK, "pipeline: %s", e.msg);
}

static void vt_close(struct vt_ctx *c)
{
    av_pipeline_free(c->pipe);
    av_models_free(c->models);
}

static av_image *vt_load(const char *rel)
{
    char *p = ts_data_path(rel);
    av_err e;
    av_image *img = NULL;
    ck_assert_msg(av_image_load(p, 0, &img, &e) == AV_OK, "%s: %s", p, e.msg);
    free(p);
    return img;
}

/* ---- a tiny PNG writer (stored deflate blocks), so the tests need no encoder ------------- */

static uint32_t vt_crc32(const unsigned char *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void vt_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk to buf at *len (buf must have room). */
static void vt_chunk(unsigned char *buf, size_t *len, const char *type, const unsigned char *data, uint32_t n)
{
    unsigned char *c = buf + *len;
    vt_be32(c, n);
    memcpy(c + 4, type, 4);
    if (n) memcpy(c + 8, data, n);
    vt_be32(c + 8 + n, vt_crc32(c + 4, 4 + (size_t)n, 0));
    *len += 12 + n;
}

/* An 8-bit RGB PNG of w x h filled with grey `v`; declared size may differ from the data when
 * decl_w/decl_h are nonzero (the decompression-bomb header). with_data=0: IHDR + IEND only. */
static unsigned char *vt_png(uint32_t w, uint32_t h, uint32_t decl_w, uint32_t decl_h, int with_data, unsigned char v,
                             size_t *len)
{
    size_t raw_n = (size_t)h * (1 + 3 * (size_t)w);
    unsigned char *raw = malloc(raw_n);
    ck_assert_ptr_nonnull(raw);
    for (size_t y = 0; y < h; y++) {
        raw[y * (1 + 3 * w)] = 0; /* filter: none */
        memset(raw + y * (1 + 3 * w) + 1, v, 3 * (size_t)w);
    }
    size_t nblocks = raw_n / 65535 + 1;
    size_t z_n = 2 + raw_n + 5 * nblocks + 4;
    unsigned char *z = malloc(z_n);
    ck_assert_ptr_nonnull(z);
    size_t zl = 0, off = 0;
    z[zl++] = 0x78;
    z[zl++] = 0x01;
    do {
        size_t n = raw_n - off > 65535 ? 65535 : raw_n - off;
        z[zl++] = (off + n == raw_n) ? 1 : 0;
        z[zl++] = (unsigned char)n;
        z[zl++] = (unsigned char)(n >> 8);
        z[zl++] = (unsigned char)~n;
        z[zl++] = (unsigned char)(~n >> 8);
        memcpy(z + zl, raw + off, n);
        zl += n;
        off += n;
    } while (off < raw_n);
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < raw_n; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    vt_be32(z + zl, b << 16 | a);
    zl += 4;

    unsigned char *png = malloc(8 + 25 + 12 + zl + 12);
    ck_assert_ptr_nonnull(png);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memcpy(png, sig, 8);
    *len = 8;
    unsigned char ihdr[13];
    vt_be32(ihdr, decl_w ? decl_w : w);
    vt_be32(ihdr + 4, decl_h ? decl_h : h);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 2; /* RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    vt_chunk(png, len, "IHDR", ihdr, 13);
    if (with_data) vt_chunk(png, len, "IDAT", z, (uint32_t)zl);
    vt_chunk(png, len, "IEND", NULL, 0);
    free(raw);
    free(z);
    return png;
}

static av_status vt_decode(const void *buf, size_t len, uint64_t max_pixels, av_err *e)
{
    av_image *img = NULL;
    av_status s = av_image_decode(buf, len, max_pixels, &img, e);
    ck_assert_int_eq(e->code, s);
    if (s == AV_OK) ck_assert_ptr_nonnull(img);
    else ck_assert_ptr_null(img);
    av_image_free(img);
    return s;
}

/* ---- decoding ------------------------------------------------------------------------------ */

START_TEST(test_decode_bad_images)
{
    av_err e;
    size_t jlen;
    char *jp = ts_data_path("spoof/image_T1.jpg");
    unsigned char *jpeg = vt_read(jp, &jlen);
    free(jp);

    /* five bad inputs, each refused with its own code */
    static const char text[] = "name,badge\nAda Lovelace,1815\n";
    unsigned char rnd[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof rnd; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        rnd[i] = (unsigned char)x;
    }
    rnd[0] = 0x42; /* no image signature by construction */
    size_t blen;
    unsigned char *bomb = vt_png(1, 1, 100000, 100000, 0, 0, &blen);

    av_status s_empty = vt_decode(jpeg, 0, 0, &e);
    av_status s_trunc = vt_decode(jpeg, jlen / 2, 0, &e);
    av_status s_bomb = vt_decode(bomb, blen, 0, &e);
    av_status s_rand = vt_decode(rnd, sizeof rnd, 0, &e);
    av_status s_text = vt_decode(text, sizeof text - 1, 0, &e);
    ck_assert_int_eq(s_empty, AV_E_IMG_EMPTY);
    ck_assert_int_eq(s_trunc, AV_E_IMG_TRUNCATED);
    ck_assert_int_eq(s_bomb, AV_E_IMG_TOO_LARGE);
    ck_assert_int_eq(s_rand, AV_E_IMG_NOT_IMAGE);
    ck_assert_int_eq(s_text, AV_E_IMG_NOT_IMAGE);
    ck_assert_msg(strstr(e.msg, "not a JPEG") != NULL, "message: %s", e.msg);
    ck_assert_str_ne(av_status_name(s_trunc), av_status_name(s_bomb));
    free(bomb);

    /* the bomb with a complete structure, and a JPEG frame header claiming 65500x65500 */
    bomb = vt_png(1, 1, 100000, 100000, 1, 0, &blen);
    ck_assert_int_eq(vt_decode(bomb, blen, 0, &e), AV_E_IMG_TOO_LARGE);
    free(bomb);
    unsigned char *big = malloc(jlen);
    ck_assert_ptr_nonnull(big);
    memcpy(big, jpeg, jlen);
    int patched = 0;
    for (size_t i = 2; i + 9 < jlen; i++)
        if (big[i] == 0xFF && (big[i + 1] == 0xC0 || big[i + 1] == 0xC2)) {
            big[i + 5] = big[i + 7] = 0xFF;
            big[i + 6] = big[i + 8] = 0xDC;
            patched = 1;
            break;
        }
    ck_assert(patched);
    ck_assert_int_eq(vt_decode(big, jlen, 0, &e), AV_E_IMG_TOO_LARGE);
    free(big);

    /* the same JPEG is fine, and refused under a smaller pixel limit */
    ck_assert_int_eq(vt_decode(jpeg, jlen, 0, &e), AV_OK);
    ck_assert_int_eq(vt_decode(jpeg, jlen, 1000, &e), AV_E_IMG_TOO_LARGE);

    /* other formats and fragments */
    ck_assert_int_eq(vt_decode("GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14, 0, &e), AV_E_IMG_UNSUPPORTED);
    ck_assert_int_eq(vt_decode("\xFF\xD8", 2, 0, &e), AV_E_IMG_TRUNCATED);
    ck_assert_int_eq(vt_decode("\x89PNG", 4, 0, &e), AV_E_IMG_TRUNCATED);
    ck_assert_int_eq(av_image_decode(NULL, 10, 0, NULL, &e), AV_E_ARG);
    free(jpeg);
}
END_TEST

/* A well-formed progressive JPEG skeleton of 8x8 gray with n scans of one entropy byte each, into
 * buf (at least 17 + 11 * n bytes); its length. */
static size_t vt_jpeg_scans(unsigned char *buf, int n)
{
    static const unsigned char head[] = {0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x00,
                                         0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00};
    static const unsigned char scan[] = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    size_t len = 0;
    memcpy(buf, head, sizeof head);
    len += sizeof head;
    for (int i = 0; i < n; i++) {
        memcpy(buf + len, scan, sizeof scan);
        len += sizeof scan;
    }
    buf[len++] = 0xFF;
    buf[len++] = 0xD9;
    return len;
}

/* The pre-parser bounds the number of scans: AV_JPEG_MAX_SCANS pass its structure check, one more is
 * refused before any decoding, with a message that says why. */
START_TEST(test_decode_jpeg_scan_bound)
{
    unsigned char *buf = malloc(17 + 11 * (AV_JPEG_MAX_SCANS + 1));
    ck_assert_ptr_nonnull(buf);
    av_image_info info;
    av_err e;
    size_t len = vt_jpeg_scans(buf, AV_JPEG_MAX_SCANS);
    ck_assert_msg(av_image_probe(buf, len, &info, &e) == AV_OK, "%d scans: %s", AV_JPEG_MAX_SCANS, e.msg);
    ck_assert_int_eq(info.format, AV_FMT_JPEG);
    len = vt_jpeg_scans(buf, AV_JPEG_MAX_SCANS + 1);
    ck_assert_int_eq(av_image_probe(buf, len, &info, &e), AV_E_IMG_UNSUPPORTED);
    ck_assert_msg(strstr(e.msg, "scans") != NULL, "message: %s", e.msg);
    av_image *img = NULL;
    ck_assert_int_eq(av_image_decode(buf, len, 0, &img, &e), AV_E_IMG_UNSUPPORTED);
    ck_assert_ptr_null(img);
    free(buf);
}
END_TEST

START_TEST(test_decode_png_and_prefixes)
{
    av_err e;
    size_t plen;
    unsigned char *png = vt_png(37, 23, 0, 0, 1, 200, &plen);
    av_image *img = NULL;
    ck_assert_msg(av_image_decode(png, plen, 0, &img, &e) == AV_OK, "%s", e.msg);
    ck_assert_int_eq(av_image_width(img), 37);
    ck_assert_int_eq(av_image_height(img), 23);
    av_image_free(img);
    av_image_info info;
    ck_assert_int_eq(av_image_probe(png, plen, &info, &e), AV_OK);
    ck_assert_int_eq(info.format, AV_FMT_PNG);
    ck_assert_uint_eq(info.width, 37);

    /* every proper prefix is refused without a crash, never decoded */
    for (size_t n = 1; n < plen; n++) {
        av_status s = vt_decode(png, n, 0, &e);
        ck_assert_msg(s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT, "PNG prefix %zu: %s", n, av_status_name(s));
    }
    free(png);

    size_t jlen;
    char *jp = ts_data_path("spoof/image_F1.jpg");
    unsigned char *jpeg = vt_read(jp, &jlen);
    free(jp);
    for (size_t n = 1; n < jlen; n += 97) {
        av_status s = vt_decode(jpeg, n, 0, &e);
        ck_assert_msg(s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT, "JPEG prefix %zu: %s", n, av_status_name(s));
    }
    /* flipped bytes inside the compressed data: decoded or refused, never a crash */
    unsigned char *m = malloc(jlen);
    ck_assert_ptr_nonnull(m);
    uint32_t x = 88172645u;
    for (int round = 0; round < 40; round++) {
        memcpy(m, jpeg, jlen);
        for (int k = 0; k < 8; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            m[600 + x % (uint32_t)(jlen - 600)] ^= (unsigned char)(1u << (x % 8));
        }
        av_status s = vt_decode(m, jlen, 0, &e);
        ck_assert_msg(s == AV_OK || s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT || s == AV_E_IMG_TOO_LARGE ||
                          s == AV_E_IMG_UNSUPPORTED,
                      "mutant %d: %s", round, av_status_name(s));
    }
    free(m);
    free(jpeg);
}
END_TEST

START_TEST(test_models_checked)
{
    av_err e;
    av_models *m = NULL;
    ck_assert_int_eq(av_models_load("/nonexistent-attendd-models", 0, &m, &e), AV_E_MODEL);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(e.msg, "fr_detect.onnx") != NULL, "message: %s", e.msg);

    /* a directory where one model differs by one byte is refused by its digest */
    char dir[] = "/tmp/attendd-vision-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *names[] = {"fr_detect.onnx", "fr_landmark.onnx", "fr_feature.onnx", "fr_liveness.onnx"};
    for (int i = 0; i < 4; i++) {
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "%s/%s", ts_env("ATTENDD_MODELS_DIR"), names[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
        if (i != 1) {
            ck_assert_int_eq(symlink(src, dst), 0);
            continue;
        }
        size_t n;
        unsigned char *b = vt_read(src, &n);
        b[n / 2] ^= 1;
        FILE *f = fopen(dst, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(b, 1, n, f), n);
        fclose(f);
        free(b);
    }
    ck_assert_int_eq(av_models_load(dir, 0, &m, &e), AV_E_MODEL);
    ck_assert_msg(strstr(e.msg, "SHA-256") != NULL, "message: %s", e.msg);
    for (int i = 0; i < 4; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}
END_TEST

/* ---- liveness ------------------------------------------------------------------------------- */

static float vt_live(struct vt_ctx *c, const char *rel)
{
    av_image *img = vt_load(rel);
    av_face f;
    size_t n = 0;
    av_err e;
    ck_assert_msg(av_detect(c->pipe, img, NULL, NULL, &f, 1, &n, &e) == AV_OK, "%s", e.msg);
    ck_assert_msg(n >= 1, "%s: no face", rel);
    float p = -1;
    ck_assert_int_eq(av_liveness(c->pipe, img, &f, 1, &p, &e), AV_OK);
    av_image_free(img);
    printf("vision: liveness %s P(real)=%.3f\n", rel, p);
    return p;
}

START_TEST(test_liveness_spoof)
{
    struct vt_ctx c;
    vt_open(&c, 0);
    ck_assert_float_lt(vt_live(&c, "spoof/image_F1.jpg"), AV_LIVE_THRESHOLD);
    ck_assert_float_lt(vt_live(&c, "spoof/image_F2.jpg"), AV_LIVE_THRESHOLD);
    ck_assert_float_ge(vt_live(&c, "spoof/image_T1.jpg"), AV_LIVE_THRESHOLD);
    vt_close(&c);
}
END_TEST

/* ---- detection -------------------------------------------------------------------------------- */

static float vt_iou(const av_box *a, const float b[4])
{
    float ix = fmaxf(0.f, fminf(a->x2, b[2]) - fmaxf(a->x1, b[0]));
    float iy = fmaxf(0.f, fminf(a->y2, b[3]) - fmaxf(a->y1, b[1]));
    float inter = ix * iy;
    float u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0.f;
}

START_TEST(test_detect_corridor_frame50)
{
    char fx[1024];
    snprintf(fx, sizeof fx, "%s/tests/fixtures/corridor-frame50.json",
             getenv("ATTENDD_SRCDIR") ? getenv("ATTENDD_SRCDIR") : ".");
    json_error_t je;
    json_t *root = json_load_file(fx, 0, &je);
    ck_assert_msg(root != NULL, "%s: %s", fx, je.text);
    json_t *faces = json_object_get(root, "faces");
    ck_assert(json_is_array(faces));
    ck_assert_int_ge(json_array_size(faces), 6);

    struct vt_ctx c;
    vt_open(&c, 0);
    char *vp = ts_data_path(json_string_value(json_object_get(root, "video")));
    av_image *img = NULL;
    av_err e;
    ck_assert_msg(av_image_from_video(vp, (long)json_integer_value(json_object_get(root, "frame")), &img, &e) == AV_OK,
                  "%s", e.msg);
    free(vp);
    ck_assert_int_eq(av_image_width(img), 1920);
    ck_assert_int_eq(av_image_height(img), 1080);

    av_detect_opts o;
    av_detect_opts_init(&o);
    ck_assert_int_eq(o.min_face_px, (int)json_integer_value(json_object_get(root, "min_face_px")));
    av_face found[64];
    size_t n = 0;
    ck_assert_msg(av_detect(c.pipe, img, NULL, &o, found, 64, &n, &e) == AV_OK, "%s", e.msg);
    printf("vision: corridor frame 50: %zu detections in %d passes, %zu faces in the fixture\n", n,
           av_detect_plan(1920, 1080, &o), json_array_size(faces));
    char used[64] = {0};
    size_t i;
    json_t *f;
    json_array_foreach(faces, i, f)
    {
        float b[4];
        for (int k = 0; k < 4; k++)
            b[k] = (float)json_number_value(json_array_get(json_object_get(f, "box"), (size_t)k));
        int best = -1;
        float best_iou = 0.f;
        for (size_t d = 0; d < n && d < 64; d++) {
            float v = vt_iou(&found[d].box, b);
            if (!used[d] && v > best_iou) {
                best_iou = v;
                best = (int)d;
            }
        }
        ck_assert_msg(best >= 0 && best_iou >= 0.4f, "face '%s' not detected (best IoU %.2f)",
                      json_string_value(json_object_get(f, "label")), best_iou);
        used[best] = 1;
        ck_assert(found[best].has_landmarks);
    }
    /* a region of interest around the boy finds him alone, in one pass */
    av_box roi = {880, 600, 1120, 900};
    ck_assert_int_eq(av_detect(c.pipe, img, &roi, &o, found, 64, &n, &e), AV_OK);
    ck_assert_uint_ge(n, 1);
    ck_assert_float_ge(found[0].box.x1, 880.f);
    ck_assert_float_le(found[0].box.x2, 1120.f);
    av_image_free(img);
    vt_close(&c);
    json_decref(root);
}
END_TEST

START_TEST(test_detect_plan_and_args)
{
    av_detect_opts o;
    av_detect_opts_init(&o);
    int p1080 = av_detect_plan(1920, 1080, &o), p720 = av_detect_plan(1280, 720, &o);
    ck_assert_int_gt(p1080, p720);
    ck_assert_int_gt(p720, 1);
    ck_assert_int_eq(av_detect_plan(320, 240, &o), 1);
    o.min_face_px = 0;
    ck_assert_int_eq(av_detect_plan(1920, 1080, &o), 1);
    o.nms_iou = 0;
    ck_assert_int_eq(av_detect_plan(1920, 1080, &o), -1);

    av_err e;
    size_t n = 1;
    ck_assert_int_eq(av_detect(NULL, NULL, NULL, NULL, NULL, 0, &n, &e), AV_E_ARG);
    ck_assert_int_eq(av_set_num_threads(0, &e), AV_E_ARG);
    ck_assert_int_eq(av_align(NULL, NULL, NULL, &e), AV_E_ARG);
    for (int s = 0; s < AV_E__COUNT; s++)
        for (int t = s + 1; t < AV_E__COUNT; t++)
            ck_assert_str_ne(av_status_name((av_status)s), av_status_name((av_status)t));
}
END_TEST

/* ---- embeddings ------------------------------------------------------------------------------- */

START_TEST(test_embed_batch_matches_single)
{
    struct vt_ctx c, stock;
    vt_open(&c, 0);
    vt_open(&stock, AV_PIPE_STOCK_LAYERS);
    const char *rel[3] = {"faces/img1.jpg", "faces/img3.jpg", "faces/img8.jpg"};
    av_crop *crops = malloc(3 * sizeof *crops);
    ck_assert_ptr_nonnull(crops);
    av_err e;
    for (int i = 0; i < 3; i++) {
        av_image *img = vt_load(rel[i]);
        av_face f;
        size_t n = 0;
        ck_assert_int_eq(av_detect(c.pipe, img, NULL, NULL, &f, 1, &n, &e), AV_OK);
        ck_assert_uint_ge(n, 1);
        ck_assert_int_eq(av_align(img, &f, &crops[i], &e), AV_OK);
        av_quality q;
        ck_assert_int_eq(av_quality_assess(img, &f, &crops[i], &q, &e), AV_OK);
        ck_assert_float_gt(q.sharpness, 0.f);
        ck_assert_float_ge(q.frontalness, 0.f);
        ck_assert_float_le(q.frontalness, 1.f);
        ck_assert_float_eq(q.liveness, -1.f);
        av_image_free(img);
    }
    static float batch[3 * AV_EMBED_DIM], single[AV_EMBED_DIM], ref[AV_EMBED_DIM];
    ck_assert_int_eq(av_embed(c.pipe, crops, 3, batch, &e), AV_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(av_embed(c.pipe, &crops[i], 1, single, &e), AV_OK);
        ck_assert_int_eq(av_embed(stock.pipe, &crops[i], 1, ref, &e), AV_OK);
        float maxd = 0.f;
        for (int k = 0; k < AV_EMBED_DIM; k++) maxd = fmaxf(maxd, fabsf(batch[i * AV_EMBED_DIM + k] - single[k]));
        ck_assert_msg(maxd < 1e-4f, "face %d: batched and single embeddings differ by %g", i, maxd);
        ck_assert_float_gt(av_similarity(&batch[i * AV_EMBED_DIM], &batch[i * AV_EMBED_DIM]), 0.999f);
        /* attendd's depthwise layer computes what OpenCV's own layer computes */
        ck_assert_float_gt(av_similarity(single, ref), 0.99999f);
    }
    ck_assert_float_lt(av_similarity(&batch[0], &batch[AV_EMBED_DIM]), AV_DEFAULT_THRESHOLD);
    free(crops);
    vt_close(&stock);
    vt_close(&c);
}
END_TEST

/* Two worker threads, one pipeline each over one shared av_models, give the single-thread answer. */
struct vt_worker {
    const av_models *models;
    av_image *img;
    float emb[AV_EMBED_DIM];
    int rounds;
    av_status st;
};

static void *vt_worker_main(void *arg)
{
    struct vt_worker *w = arg;
    av_pipeline *p = NULL;
    av_err e;
    w->st = av_pipeline_new(w->models, 0, &p, &e);
    for (int r = 0; r < w->rounds && w->st == AV_OK; r++) w->st = av_face_template(p, w->img, w->emb, NULL, &e);
    av_pipeline_free(p);
    return NULL;
}

START_TEST(test_two_workers)
{
    struct vt_ctx c;
    vt_open(&c, 0);
    av_image *img[2] = {vt_load("faces/img1.jpg"), vt_load("spoof/image_T1.jpg")};
    static float ref[2][AV_EMBED_DIM];
    av_err e;
    for (int i = 0; i < 2; i++) ck_assert_int_eq(av_face_template(c.pipe, img[i], ref[i], NULL, &e), AV_OK);
    static struct vt_worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct vt_worker){.models = c.models, .img = img[i], .rounds = 3};
        ck_assert_int_eq(pthread_create(&th[i], NULL, vt_worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(w[i].st, AV_OK);
        ck_assert_float_gt(av_similarity(w[i].emb, ref[i]), 0.99999f);
    }
    av_image_free(img[0]);
    av_image_free(img[1]);
    vt_close(&c);
}
END_TEST

/* ---- the subject of a photo -------------------------------------------------------------- */

/* Box and landmarks flag for photo_choose, which looks at nothing else. */
static av_face vt_face_at(float x1, float y1, float side)
{
    av_face f;
    memset(&f, 0, sizeof f);
    f.box = (av_box){x1, y1, x1 + side, y1 + side};
    f.has_landmarks = 1;
    f.score = 0.99f;
    return f;
}

START_TEST(test_photo_choose_rule)
{
    av_face f[4];
    /* a large bystander at the edge, the subject in the middle at 60% of its height */
    f[0] = vt_face_at(0, 100, 200);
    f[1] = vt_face_at(340, 180, 120);
    ck_assert_uint_eq(photo_choose(f, 2, 800, 480), 1);
    /* a face under half the tallest is no subject, however central */
    f[1] = vt_face_at(360, 200, 90);
    ck_assert_uint_eq(photo_choose(f, 2, 800, 480), 0);
    /* faces without landmarks neither win nor set the scale */
    f[0].has_landmarks = 0;
    ck_assert_uint_eq(photo_choose(f, 2, 800, 480), 1);
    f[1].has_landmarks = 0;
    ck_assert_uint_eq(photo_choose(f, 2, 800, 480), 2);
    ck_assert_uint_eq(photo_choose(f, 0, 800, 480), 0);
    /* a weak detection under a large face is no subject (faces/img11.jpg: a 0.91 box below the face) */
    f[0] = vt_face_at(150, 40, 350);
    f[1] = vt_face_at(190, 330, 230);
    f[1].score = 0.91f;
    ck_assert_uint_eq(photo_choose(f, 2, 600, 800), 0);
    /* when no face is sure enough, the largest with landmarks */
    f[0].score = 0.9f;
    ck_assert_uint_eq(photo_choose(f, 2, 600, 800), 0);
    /* equally far from the centre: the larger (earlier) face stays */
    f[0] = vt_face_at(100, 190, 100);
    f[1] = vt_face_at(610, 200, 80);
    ck_assert_uint_eq(photo_choose(f, 2, 800, 480), 0);
}
END_TEST

/* Paste a 112x112 BGR crop scaled to side x side at (x0, y0) of a w-wide BGR canvas (nearest
 * neighbour). */
static void vt_paste(uint8_t *canvas, int w, const av_crop *c, int x0, int y0, int side)
{
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            const uint8_t *s = &c->bgr[((y * AV_CROP_SIZE / side) * AV_CROP_SIZE + x * AV_CROP_SIZE / side) * 3];
            memcpy(&canvas[((size_t)(y0 + y) * (size_t)w + (size_t)(x0 + x)) * 3], s, 3);
        }
}

/* A composed photo: person A's face large at the left edge, person B's smaller in the middle.
 * compare/embed (av_face_template) must take B, the subject. */
START_TEST(test_photo_choose_centre)
{
    struct vt_ctx c;
    vt_open(&c, 0);
    const char *names[2] = {"faces/img1.jpg", "faces/img16.jpg"}; /* id01, id05 */
    av_crop crop[2];
    float own[2][AV_EMBED_DIM];
    for (int i = 0; i < 2; i++) {
        av_image *img = vt_load(names[i]);
        av_face face;
        av_err e;
        ck_assert_msg(av_face_template(c.pipe, img, own[i], &face, &e) == AV_OK, "%s: %s", names[i], e.msg);
        ck_assert_int_eq(av_align(img, &face, &crop[i], &e), AV_OK);
        av_image_free(img);
    }
    enum { W = 960, H = 480 };
    uint8_t *canvas = malloc((size_t)W * H * 3);
    ck_assert_ptr_nonnull(canvas);
    memset(canvas, 128, (size_t)W * H * 3);
    vt_paste(canvas, W, &crop[0], 0, 60, 336);            /* A: 3x, at the left edge */
    vt_paste(canvas, W, &crop[1], W / 2 - 112, 128, 224); /* B: 2x, centred */
    av_image *img = NULL;
    av_err e;
    ck_assert_int_eq(av_image_from_bgr(canvas, W, H, (size_t)W * 3, &img, &e), AV_OK);
    float emb[AV_EMBED_DIM];
    av_face face;
    ck_assert_msg(av_face_template(c.pipe, img, emb, &face, &e) == AV_OK, "composed: %s", e.msg);
    float sa = av_similarity(emb, own[0]), sb = av_similarity(emb, own[1]);
    printf("vision: composed photo: subject box x %.0f-%.0f, similarity to B %.3f, to A %.3f\n", (double)face.box.x1,
           (double)face.box.x2, (double)sb, (double)sa);
    ck_assert_float_gt(0.5f * (face.box.x1 + face.box.x2), W / 2 - 112);
    ck_assert_float_lt(0.5f * (face.box.x1 + face.box.x2), W / 2 + 112);
    ck_assert_float_ge(sb, AV_DEFAULT_THRESHOLD);
    ck_assert_float_lt(sa, AV_DEFAULT_THRESHOLD);
    /* the larger face is really there: the detector finds both */
    av_face faces[PHOTO_MAX_FACES];
    size_t n = 0;
    ck_assert_int_eq(photo_find_faces(c.pipe, img, &photo_search_template, faces, &n, NULL, &e), AV_OK);
    ck_assert_uint_ge(n, 2);
    ck_assert_float_lt(0.5f * (faces[0].box.x1 + faces[0].box.x2), W / 4);
    av_image_free(img);
    free(canvas);
    vt_close(&c);
}
END_TEST

/* Templates for every photo named in identities.json and master.csv, via av_face_template(). */
struct vt_gallery {
    int n;
    char name[128][32];
    int id[128]; /* identity index, -1 if not in identities.json */
    float emb[128][AV_EMBED_DIM];
};

static int vt_find(struct vt_gallery *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->name[i], name)) return i;
    ck_assert_int_lt(g->n, 128);
    snprintf(g->name[g->n], sizeof g->name[0], "%s", name);
    g->id[g->n] = -1;
    return g->n++;
}

static void vt_templates(struct vt_ctx *c, struct vt_gallery *g)
{
    for (int i = 0; i < g->n; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "faces/%s", g->name[i]);
        av_image *img = vt_load(rel);
        av_err e;
        ck_assert_msg(av_face_template(c->pipe, img, g->emb[i], NULL, &e) == AV_OK, "%s: %s", rel, e.msg);
        av_image_free(img);
    }
}

START_TEST(test_master_csv_accuracy)
{
    static struct vt_gallery g;
    g.n = 0;
    char *csv = ts_data_path("faces/master.csv");
    FILE *f = fopen(csv, "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int pairs[400][3], np = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char a[64], b[64], d[16];
        if (sscanf(line, "%63[^,],%63[^,],%15s", a, b, d) != 3) continue;
        ck_assert_int_lt(np, 400);
        pairs[np][0] = vt_find(&g, a);
        pairs[np][1] = vt_find(&g, b);
        pairs[np][2] = !strcmp(d, "Yes");
        np++;
    }
    fclose(f);
    free(csv);
    ck_assert_int_eq(np, 300);

    struct vt_ctx c;
    vt_open(&c, 0);
    vt_templates(&c, &g);
    int right = 0, fa = 0, fr = 0;
    for (int i = 0; i < np; i++) {
        int match = av_similarity(g.emb[pairs[i][0]], g.emb[pairs[i][1]]) >= AV_DEFAULT_THRESHOLD;
        if (match == pairs[i][2]) right++;
        else if (match) fa++;
        else fr++;
    }
    printf("vision: master.csv at threshold %.2f: %d/%d right (%.2f%%), %d false accepts, %d false rejects\n",
           AV_DEFAULT_THRESHOLD, right, np, 100.0 * right / np, fa, fr);
    ck_assert_msg(right * 100 >= np * 99, "master.csv: only %d/%d right", right, np);
    vt_close(&c);
}
END_TEST

START_TEST(test_identities_leave_one_out)
{
    static struct vt_gallery g;
    g.n = 0;
    char *path = ts_data_path("faces/identities.json");
    json_error_t je;
    json_t *ids = json_load_file(path, 0, &je);
    ck_assert_msg(ids != NULL, "%s: %s", path, je.text);
    free(path);
    const char *key;
    json_t *list;
    int nid = 0;
    json_object_foreach(ids, key, list)
    {
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            int k = vt_find(&g, json_string_value(v));
            g.id[k] = nid;
        }
        nid++;
    }
    json_decref(ids);
    ck_assert_int_eq(nid, 13);

    struct vt_ctx c;
    vt_open(&c, 0);
    vt_templates(&c, &g);
    int right = 0;
    for (int i = 0; i < g.n; i++) {
        int best = -1;
        float bs = -2.f;
        for (int j = 0; j < g.n; j++) {
            if (j == i) continue;
            float s = av_similarity(g.emb[i], g.emb[j]);
            if (s > bs) {
                bs = s;
                best = j;
            }
        }
        if (g.id[best] == g.id[i]) right++;
        else printf("vision: leave-one-out miss: %s -> %s (%.3f)\n", g.name[i], g.name[best], bs);
    }
    printf("vision: identities.json leave-one-out rank-1: %d/%d (%.1f%%)\n", right, g.n, 100.0 * right / g.n);
    ck_assert_int_eq(g.n, 61);
    ck_assert_msg(right * 100 >= g.n * 98, "rank-1 only %d/%d", right, g.n);
    vt_close(&c);
}
END_TEST

/* ---- the CLI ------------------------------------------------------------------------------------ */

/* Runs attendctl with args; captures stdout into out (NUL-terminated). Returns the exit status. */
static int vt_cli(char *out, size_t outlen, const char *a1, const char *a2, const char *a3)
{
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/attendctl", ts_env("ATTENDD_BUILD"));
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(bin, bin, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd[0], out + got, outlen - 1 - got)) > 0) got += (size_t)r;
    out[got] = '\0';
    close(fd[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(test_cli)
{
    const char *build = getenv("ATTENDD_BUILD");
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/attendctl", build ? build : "");
    if (!build || access(bin, X_OK) != 0) {
        printf("vision: attendctl not built, CLI case skipped\n");
        return;
    }
    static char out[1 << 16];
    char *a = ts_data_path("faces/img1.jpg"), *b = ts_data_path("faces/img2.jpg");
    ck_assert_int_eq(vt_cli(out, sizeof out, "compare", a, b), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "compare output is not JSON: %s", out);
    double s = json_real_value(json_object_get(j, "similarity"));
    ck_assert(json_is_true(json_object_get(j, "match")));
    ck_assert_double_eq_tol(json_real_value(json_object_get(j, "threshold")), AV_DEFAULT_THRESHOLD, 1e-6);
    /* the confirming model's similarity and the fused score of both beside it */
    double cs = json_real_value(json_object_get(j, "confirm_similarity"));
    double fused = json_real_value(json_object_get(j, "fused"));
    ck_assert_msg(cs > 0.5 && cs <= 1.0, "confirm_similarity %f", cs);
    ck_assert_double_eq_tol(fused, av_fuse_scores((float)s, (float)cs), 1e-3);
    ck_assert(json_is_true(json_object_get(j, "fused_match")) == (fused >= AV_FUSED_VERIFY_THRESHOLD));
    ck_assert_double_eq_tol(json_real_value(json_object_get(j, "fused_threshold")), AV_FUSED_VERIFY_THRESHOLD, 1e-6);
    json_decref(j);

    /* the same figure through the library */
    struct vt_ctx c;
    vt_open(&c, 0);
    static float ea[AV_EMBED_DIM], eb[AV_EMBED_DIM];
    av_err e;
    av_image *ia = vt_load("faces/img1.jpg"), *ib = vt_load("faces/img2.jpg");
    ck_assert_int_eq(av_face_template(c.pipe, ia, ea, NULL, &e), AV_OK);
    ck_assert_int_eq(av_face_template(c.pipe, ib, eb, NULL, &e), AV_OK);
    ck_assert_double_eq_tol(s, av_similarity(ea, eb), 1e-4);
    av_image_free(ia);
    av_image_free(ib);
    vt_close(&c);

    ck_assert_int_eq(vt_cli(out, sizeof out, "embed", a, NULL), 0);
    j = json_loads(out, 0, &je);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "embedding")), AV_EMBED_DIM);
    json_decref(j);

    char *sp = ts_data_path("spoof/image_F1.jpg");
    ck_assert_int_eq(vt_cli(out, sizeof out, "detect", sp, NULL), 0);
    j = json_loads(out, 0, &je);
    ck_assert_ptr_nonnull(j);
    json_t *f0 = json_array_get(json_object_get(j, "faces"), 0);
    ck_assert_ptr_nonnull(f0);
    ck_assert_uint_eq(json_array_size(json_object_get(f0, "landmarks5")), 5);
    ck_assert(json_is_false(json_object_get(f0, "live")));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(f0, "quality"), "sharpness"));
    json_decref(j);
    free(sp);

    /* bad input and no face: non-zero exit, nothing on stdout */
    char tmp[] = "/tmp/attendd-vision-XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    size_t plen;
    unsigned char *png = vt_png(64, 64, 0, 0, 1, 128, &plen);
    ck_assert_int_eq(write(fd, png, plen), (ssize_t)plen);
    close(fd);
    free(png);
    ck_assert_int_eq(vt_cli(out, sizeof out, "embed", tmp, NULL), 1);
    ck_assert_str_eq(out, "");
    FILE *t = fopen(tmp, "w");
    ck_assert_ptr_nonnull(t);
    fputs("not an image\n", t);
    fclose(t);
    ck_assert_int_eq(vt_cli(out, sizeof out, "compare", a, tmp), 3);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(vt_cli(out, sizeof out, "compare", a, NULL), 2);
    unlink(tmp);
    free(a);
    free(b);
}
END_TEST

Suite *vision_suite(void)
{
    Suite *s = suite_create("vision");
    ts_tcase(s, "decode", 60, NULL, NULL, test_decode_bad_images, test_decode_jpeg_scan_bound,
             test_decode_png_and_prefixes, test_models_checked, test_detect_plan_and_args, NULL);
    ts_tcase(s, "pipeline", 120, NULL, NULL, test_liveness_spoof, test_detect_corridor_frame50,
             test_embed_batch_matches_single, test_two_workers, test_photo_choose_rule, test_photo_choose_centre, NULL);
    ts_tcase(s, "accuracy", 240, NULL, NULL, test_master_csv_accuracy, test_identities_leave_one_out, NULL);
    ts_tcase(s, "cli", 120, NULL, NULL, test_cli, NULL);
    return s;
}
