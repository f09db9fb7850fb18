/* Enrolment policy: exactly one usable face (size, sharpness, liveness, head pose) per photo,
 * checked in that order so the reason given is the first thing the photographer must fix. */
#include "attendd/enrol.h"

#include "attendd/photo.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const outcome_codes[] = {
    [ENROL_OK] = "ok",
    [ENROL_BAD_IMAGE] = "bad_image",
    [ENROL_NO_FACE] = "no_face",
    [ENROL_MULTIPLE_FACES] = "multiple_faces",
    [ENROL_FACE_TOO_SMALL] = "face_too_small",
    [ENROL_TOO_BLURRY] = "too_blurry",
    [ENROL_NOT_FRONTAL] = "not_frontal",
    [ENROL_SPOOF_SUSPECTED] = "spoof_suspected",
};

const char *enrol_outcome_code(enrol_outcome o)
{
    if ((int)o < 0 || (size_t)o >= sizeof outcome_codes / sizeof outcome_codes[0]) return "internal_error";
    return outcome_codes[o];
}

att_err enrol_outcome_error(enrol_outcome o)
{
    switch (o) {
    case ENROL_OK: return ATT_OK;
    case ENROL_BAD_IMAGE: return ATT_E_BAD_IMAGE;
    case ENROL_NO_FACE: return ATT_E_NO_FACE;
    case ENROL_MULTIPLE_FACES: return ATT_E_MULTIPLE_FACES;
    case ENROL_FACE_TOO_SMALL: return ATT_E_FACE_TOO_SMALL;
    case ENROL_TOO_BLURRY: return ATT_E_TOO_BLURRY;
    case ENROL_NOT_FRONTAL: return ATT_E_NOT_FRONTAL;
    case ENROL_SPOOF_SUSPECTED: return ATT_E_SPOOF;
    }
    return ATT_E_INTERNAL;
}

void enrol_policy_default(struct enrol_policy *p)
{
    p->min_face_px = 80;
    p->min_sharpness = 20.0f;
    p->max_yaw_deg = ENROL_MAX_YAW_DEG;
    p->max_pitch_deg = ENROL_MAX_PITCH_DEG;
    p->min_liveness = AV_LIVE_THRESHOLD;
    p->max_pixels = AV_DEFAULT_MAX_PIXELS;
}

static att_err from_av(av_status s) { return s == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL; }

static bool is_image_error(av_status s)
{
    return s == AV_E_IMG_EMPTY || s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT || s == AV_E_IMG_TOO_LARGE ||
        s == AV_E_IMG_NOT_IMAGE || s == AV_E_IMG_UNSUPPORTED;
}

__attribute__((format(printf, 3, 4))) static void refuse(struct enrol_result *out, enrol_outcome o, const char *fmt,
                                                         ...)
{
    out->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
}

#define ENROL_DETECT_DIV 10 /* smallest face searched: short side of the photo / this (at least) */
#define ENROL_MAX_PASSES 64 /* detector runs per photo */

att_err enrol_extract(av_pipeline *p, av_confirm_net *cn, const void *buf, size_t len, const struct enrol_policy *pol,
                      struct enrol_result *out)
{
    memset(out, 0, sizeof *out);
    av_err e;
    av_image *img = NULL;
    av_status s = av_image_decode(buf, len, pol->max_pixels, &img, &e);
    if (s != AV_OK) {
        if (!is_image_error(s)) return from_av(s);
        out->outcome = ENROL_BAD_IMAGE;
        snprintf(out->detail, sizeof out->detail, "%.40s: %.200s", av_status_name(s), e.msg);
        return ATT_OK;
    }

    /* look for faces somewhat smaller than acceptable, so a small face is reported as too small
     * rather than as absent, and a small second face still counts as a second person.
     * An enrolment photo is a portrait: search no finer than ENROL_DETECT_DIV of its short side.
     * Finer tiles find parts of a large face and of the body (chin, pendant, collar) as faces of
     * their own with scores up to 0.99: at 1/24 four of the ten enrolment photos of
     * ../shared/data/faces were refused as multiple_faces, at 1/10 none of the 61 single-person
     * photos was. */
    const struct photo_search search = {
        .floor_px = pol->min_face_px / 2 > 20 ? pol->min_face_px / 2 : 20,
        .div = ENROL_DETECT_DIV,
        .max_passes = ENROL_MAX_PASSES,
    };
    av_face faces[PHOTO_MAX_FACES];
    size_t n = 0;
    int min_px = 0;
    s = photo_find_faces(p, img, &search, faces, &n, &min_px, &e);
    att_err rc = ATT_OK;
    if (s != AV_OK) {
        rc = from_av(s);
        goto done;
    }
    if (n == 0) {
        refuse(out, ENROL_NO_FACE, "no face of at least %d px found in the photo", (int)(0.8f * (float)min_px));
        goto done;
    }
    size_t usable = 0;
    for (size_t i = 0; i < n; i++)
        if (faces[i].box.y2 - faces[i].box.y1 >= (float)pol->min_face_px) usable++;
    out->face = faces[0]; /* largest first */
    float h = faces[0].box.y2 - faces[0].box.y1;
    if (usable > 1) {
        refuse(out, ENROL_MULTIPLE_FACES, "%zu faces of enrolment size in the photo; exactly one is required", usable);
        goto done;
    }
    if (h < (float)pol->min_face_px) {
        refuse(out, ENROL_FACE_TOO_SMALL, "face is %.0f px tall; at least %d px required", (double)h, pol->min_face_px);
        goto done;
    }
    if (!faces[0].has_landmarks) {
        rc = ATT_E_INTERNAL;
        goto done;
    }

    av_crop crop;
    if ((s = av_align(img, &faces[0], &crop, &e)) != AV_OK ||
        (s = av_quality_assess(img, &faces[0], &crop, &out->quality, &e)) != AV_OK ||
        (s = av_liveness(p, img, &faces[0], 1, &out->quality.liveness, &e)) != AV_OK) {
        rc = from_av(s);
        goto done;
    }
    if (out->quality.sharpness < pol->min_sharpness) {
        refuse(out, ENROL_TOO_BLURRY, "sharpness %.1f is below %.1f", (double)out->quality.sharpness,
               (double)pol->min_sharpness);
        goto done;
    }
    /* Liveness before pose: it is a security decision, judged as soon as the face is sharp enough
     * to judge. A print or screen refused as not_frontal would invite a re-shoot of the same spoof
     * at a better angle, and the audit log would not show the attempt (spoof/image_F1.jpg, a
     * poster of a turned face: P(real) 0.000, frontalness 0.25). */
    if (out->quality.liveness < pol->min_liveness) {
        refuse(out, ENROL_SPOOF_SUSPECTED, "liveness %.2f is below %.2f", (double)out->quality.liveness,
               (double)pol->min_liveness);
        goto done;
    }
    /* Pose in degrees from the pose net, not the landmark yaw: that ratio is about 0.4 at 16 degrees
     * and refused ordinary studio portraits (docs/vision.md "Head pose"). */
    if ((s = av_head_pose(p, img, &faces[0], 1, &out->pose, &e)) != AV_OK) {
        rc = from_av(s);
        goto done;
    }
    if (fabsf(out->pose.yaw_deg) > pol->max_yaw_deg) {
        refuse(out, ENROL_NOT_FRONTAL, "head turned %.0f degrees (yaw) towards the image's %s; at most %.0f accepted",
               (double)fabsf(out->pose.yaw_deg), out->pose.yaw_deg > 0 ? "left" : "right", (double)pol->max_yaw_deg);
        goto done;
    }
    if (fabsf(out->pose.pitch_deg) > pol->max_pitch_deg) {
        refuse(out, ENROL_NOT_FRONTAL, "head tilted %.0f degrees (pitch) %s; at most %.0f accepted",
               (double)fabsf(out->pose.pitch_deg), out->pose.pitch_deg > 0 ? "up" : "down", (double)pol->max_pitch_deg);
        goto done;
    }
    if ((s = av_embed(p, &crop, 1, out->emb, &e)) != AV_OK) {
        rc = from_av(s);
        goto done;
    }
    /* the confirming template of the very face the first template came from */
    if (cn && (s = photo_confirm(cn, img, &faces[0], out->confirm, &e)) != AV_OK) {
        rc = from_av(s);
        goto done;
    }
    out->has_confirm = cn != NULL;
    out->outcome = ENROL_OK;
done:
    av_image_free(img);
    return rc;
}
