/* pose.h: head pose in degrees (yaw, pitch, roll) from fr_pose.onnx, for the enrolment gate and the
 * quality report. Part of the vision shim (src/vision/pose.cpp); conventions as in vision.h. */
#ifndef ATTENDD_POSE_H
#define ATTENDD_POSE_H

#include <stddef.h>

#include "attendd/vision.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct av_pose {
    float yaw_deg;   /* left-right turn: 0 frontal, positive when the face turns towards the image's
                        left (the subject's right), -99..99 */
    float pitch_deg; /* up-down tilt: 0 level, positive chin up, -99..99 */
    float roll_deg;  /* in-plane tilt of the head, -99..99 */
} av_pose;

/* Head pose of each of n detected faces into out[n]: the box widened to a square of AV_POSE_MARGIN
 * times its larger side (padded with the edge pixels where it leaves the image), 224x224 RGB with the
 * ImageNet mean and deviation; each angle is the expectation over 66 bins of 3 degrees. Accurate to
 * about 5 degrees up to 60 degrees of yaw (docs/vision.md "Head pose"). */
av_status av_head_pose(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, av_pose *out, av_err *err);

#ifdef __cplusplus
}
#endif

#endif
