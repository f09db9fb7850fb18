// quality.cpp: per-face quality report from the box, the aligned crop (sharpness as variance of
// the Laplacian) and the landmarks (yaw from nose-to-jaw symmetry, roll from the eye line).
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

extern "C" av_status av_quality_assess(const av_image *img, const av_face *face, const av_crop *crop, av_quality *q,
                                       av_err *err)
{
    AV_TRY
    {
        if (!img || !face || !crop || !q)
            return avi::fail(err, AV_E_ARG, "av_quality_assess: all arguments are required");
        if (!face->has_landmarks) return avi::fail(err, AV_E_ARG, "av_quality_assess: face has no landmarks");
        q->size_px = face->box.y2 - face->box.y1;
        q->liveness = -1.f;

        const cv::Mat c(AV_CROP_SIZE, AV_CROP_SIZE, CV_8UC3, const_cast<uint8_t *>(crop->bgr));
        cv::Mat grey, lap;
        cv::cvtColor(c, grey, cv::COLOR_BGR2GRAY);
        cv::Laplacian(grey, lap, CV_32F);
        cv::Scalar mean, sd;
        cv::meanStdDev(lap, mean, sd);
        q->sharpness = (float)(sd[0] * sd[0]);

        // Distances from the nose tip to the two jaw ends (points 0 and 16), measured along the
        // eye line: equal when frontal; the nose moves towards the side the head turns to.
        const av_point l = face->pts5[0], r = face->pts5[1], nose = face->lm68[30];
        const float ex = r.x - l.x, ey = r.y - l.y;
        const float el = std::sqrt(ex * ex + ey * ey);
        q->roll_deg = (float)(std::atan2(ey, ex) * 180.0 / M_PI);
        float yaw = 0.f;
        if (el > 1e-3f) {
            const float ux = ex / el, uy = ey / el;
            const float dl = (nose.x - face->lm68[0].x) * ux + (nose.y - face->lm68[0].y) * uy;
            const float dr = (face->lm68[16].x - nose.x) * ux + (face->lm68[16].y - nose.y) * uy;
            if (dl + dr > 1e-3f) yaw = (dl - dr) / (dl + dr);
            else yaw = dl > dr ? 1.f : -1.f;
        }
        q->yaw = std::clamp(yaw, -1.f, 1.f);
        q->frontalness = 1.f - std::fabs(q->yaw);
        return avi::ok(err);
    }
    AV_CATCH(err, "av_quality_assess")
}
