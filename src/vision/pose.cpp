// pose.cpp: head pose (fr_pose.onnx, a HopeNet-style net): the detector box squared and widened by
// kPoseMargin, padded with edge pixels, 224x224 RGB normalised with the ImageNet mean and deviation;
// three heads of 66 bins of 3 degrees (yaw, pitch, roll), each decoded as the softmax expectation.
#include "attendd/pose.h"
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace
{

constexpr int kPoseSize = 224;
constexpr int kPoseBins = 66;
// Side of the square crop over the larger side of the detector box. Measured on the 59 portraits
// of ../shared/data/faces with each photo and its mirror image (whose yaw must be the opposite):
// 1.0 to 1.2 give a mean |yaw + mirrored yaw| of 5-6 degrees, 1.6 gives 12, 2.0 gives 37.
constexpr float kPoseMargin = 1.2f;
constexpr float kMean[3] = {0.485f, 0.456f, 0.406f}; // ImageNet, R G B
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};

// The square around the box, padded with replicated edge pixels where it leaves the image.
void square_crop(const cv::Mat &m, const av_box &b, cv::Mat &out)
{
    const float side = std::max(b.x2 - b.x1, b.y2 - b.y1) * kPoseMargin;
    const float cx = (b.x1 + b.x2) * 0.5f, cy = (b.y1 + b.y2) * 0.5f;
    const cv::Rect r((int)std::floor(cx - side * 0.5f), (int)std::floor(cy - side * 0.5f), (int)std::lround(side),
                     (int)std::lround(side));
    const cv::Rect in = r & cv::Rect(0, 0, m.cols, m.rows);
    const int top = in.y - r.y, left = in.x - r.x;
    const int bottom = r.y + r.height - (in.y + in.height), right = r.x + r.width - (in.x + in.width);
    cv::Mat padded;
    cv::copyMakeBorder(m(in), padded, top, bottom, left, right, cv::BORDER_REPLICATE);
    cv::resize(padded, out, cv::Size(kPoseSize, kPoseSize), 0, 0, cv::INTER_LINEAR);
}

// Degrees from one head's 66 logits: the softmax expectation of the bin index, 3 degrees a bin,
// bin 33 at 0.
float bins_to_degrees(const cv::Mat &logits)
{
    const float *l = logits.ptr<float>();
    const float mx = *std::max_element(l, l + kPoseBins);
    double sum = 0, expect = 0;
    for (int i = 0; i < kPoseBins; i++) {
        const double e = std::exp((double)(l[i] - mx));
        sum += e;
        expect += e * i;
    }
    return (float)(expect / sum * 3.0 - 99.0);
}

} // namespace

extern "C" av_status av_head_pose(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, av_pose *out,
                                  av_err *err)
{
    AV_TRY
    {
        if (!p || !img || (n && (!faces || !out)))
            return avi::fail(err, AV_E_ARG, "av_head_pose: pipeline, image, faces and out are required");
        const cv::Mat &m = img->bgr;
        cv::dnn::Net &net = p->net[AVM_POSE];
        // the graph's outputs in the order yaw, pitch, roll (as exported; names from the ONNX file)
        static const std::vector<cv::String> kOuts = {"output", "617", "618"};
        const int shape[4] = {1, 3, kPoseSize, kPoseSize};
        cv::Mat crop;
        for (size_t i = 0; i < n; i++) { // the graph is fixed to batch 1
            const av_box &b = faces[i].box;
            if (!(b.x2 - b.x1 >= 1.f && b.y2 - b.y1 >= 1.f))
                return avi::fail(err, AV_E_ARG, "av_head_pose: face %zu has an empty box", i);
            if (!(b.x2 > 0 && b.y2 > 0 && b.x1 < (float)m.cols && b.y1 < (float)m.rows))
                return avi::fail(err, AV_E_ARG, "av_head_pose: face %zu lies outside the image", i);
            square_crop(m, b, crop);
            p->blob.create(4, shape, CV_32F);
            float *dst = p->blob.ptr<float>();
            const size_t plane = (size_t)kPoseSize * kPoseSize;
            for (int y = 0; y < kPoseSize; y++) {
                const uint8_t *s = crop.ptr<uint8_t>(y);
                for (int x = 0; x < kPoseSize; x++) {
                    const size_t o = (size_t)y * kPoseSize + x;
                    for (int c = 0; c < 3; c++) // BGR pixel -> R, G, B planes
                        dst[c * plane + o] = ((float)s[3 * x + 2 - c] / 255.f - kMean[c]) / kStd[c];
                }
            }
            net.setInput(p->blob);
            p->outs.clear();
            net.forward(p->outs, kOuts);
            if (p->outs.size() != 3)
                return avi::fail(err, AV_E_INTERNAL, "pose net returned %zu outputs", p->outs.size());
            for (const cv::Mat &o : p->outs)
                if (o.total() != (size_t)kPoseBins || o.type() != CV_32F)
                    return avi::fail(err, AV_E_INTERNAL, "pose net returned %zu values per angle", o.total());
            out[i].yaw_deg = bins_to_degrees(p->outs[0]);
            out[i].pitch_deg = bins_to_degrees(p->outs[1]);
            out[i].roll_deg = bins_to_degrees(p->outs[2]);
        }
        return avi::ok(err);
    }
    AV_CATCH(err, "av_head_pose")
}
