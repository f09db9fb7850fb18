/* Enrolment checks: from one uploaded photo to one template, or a precise reason for refusal
 * (no_face, multiple_faces, face_too_small, too_blurry, not_frontal, spoof_suspected, bad_image). */
#ifndef ATTENDD_ENROL_H
#define ATTENDD_ENROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/fuse.h"
#include "attendd/pose.h"
#include "attendd/vision.h"

struct enrol_policy {
    int min_face_px;     /* shortest acceptable face box height, image px */
    float min_sharpness; /* av_quality.sharpness floor (variance of Laplacian on the crop) */
    float max_yaw_deg;   /* largest accepted head turn, |av_pose.yaw_deg|, degrees */
    float max_pitch_deg; /* largest accepted head tilt up or down, |av_pose.pitch_deg|, degrees */
    float min_liveness;  /* P(real) floor */
    uint64_t max_pixels; /* decoded-size limit checked on the header before decoding */
};

/* Default pose limits, degrees (docs/vision.md "Head pose"): a studio portrait is turned 15-25
 * degrees; beyond 30 one ear and cheek leave the picture. */
#define ENROL_MAX_YAW_DEG 30.0f
#define ENROL_MAX_PITCH_DEG 25.0f

void enrol_policy_default(struct enrol_policy *p);

/* Model id bound into every template made by this embedding network: the associated data of its
 * encryption (template_crypto.h) and faces.model_id. The feature network's name and SHA-256 prefix,
 * so templates of another network can never be taken for (or compared with) these. */
#define ENROL_MODEL_ID "fr_feature-87aacdfe57510db2"
/* The same for the confirming model's templates (faces.confirm_model_id): dlib's network, its SHA-256
 * prefix and the chip alignment (AV_CONFIRM_ALIGN_SHIPPED), since chips aligned otherwise give
 * templates that must not be compared with these. */
#define ENROL_CONFIRM_MODEL_ID                                                                \
    (AV_CONFIRM_ALIGN_SHIPPED == AV_CONFIRM_ALIGN_SP5 ? "dlib_resnet_v1-55533b28a95800a5-sp5" \
                                                      : "dlib_resnet_v1-55533b28a95800a5-lm68")

typedef enum enrol_outcome {
    ENROL_OK = 0,
    ENROL_BAD_IMAGE,
    ENROL_NO_FACE,
    ENROL_MULTIPLE_FACES,
    ENROL_FACE_TOO_SMALL,
    ENROL_TOO_BLURRY,
    ENROL_NOT_FRONTAL,
    ENROL_SPOOF_SUSPECTED,
} enrol_outcome;

/* Stable API code for an outcome ("no_face", ...). Never NULL. */
const char *enrol_outcome_code(enrol_outcome o);
/* The registry error for an outcome (ATT_E_NO_FACE, ...; ATT_OK for ENROL_OK). */
att_err enrol_outcome_error(enrol_outcome o);

struct enrol_result {
    enrol_outcome outcome;
    char detail[256];              /* human-readable reason when refused (no personal data) */
    av_face face;                  /* the face used (valid when a face was found) */
    av_quality quality;            /* its quality report, liveness filled in */
    av_pose pose;                  /* its head pose (valid from ENROL_NOT_FRONTAL's check on) */
    float emb[AV_EMBED_DIM];       /* the template when outcome == ENROL_OK; wipe after use */
    bool has_confirm;              /* confirm holds the confirming template (ENROL_OK with a network given) */
    float confirm[AV_CONFIRM_DIM]; /* the same face's confirming template (photo_confirm); wipe after use */
};

/* Decode the photo and apply the policy. ATT_OK means the check ran (see out->outcome);
 * another att_err means the check itself failed (out of memory, model failure). With cn (may be
 * NULL), an accepted face also gets its confirming template (out->has_confirm). */
att_err enrol_extract(av_pipeline *p, av_confirm_net *cn, const void *buf, size_t len, const struct enrol_policy *pol,
                      struct enrol_result *out);

#endif
