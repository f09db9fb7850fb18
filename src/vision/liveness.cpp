// liveness.cpp: anti-spoofing (fr_liveness.onnx): the detector box scaled 2.7x around its centre,
// shifted to stay inside the image, or padded when it cannot fit; 128x128 BGR raw 0-255; softmax
// class 0 = real.
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace
{

// The context box: the detector box scaled kLiveScale around its centre, shifted to lie inside the
// image (as the network was trained); the factor shrinks to what fits when the image is too small.
// A face so close to the camera that the factor would shrink below kLiveMinScale keeps the full
// factor, centred on the face, and the part outside the image is padded (*pad): a tight crop of a
// large face is what a screen replay looks like to the net. Measured (P(real) per frame, 6 fps):
// person-a's live clip cropped so the face is 440 px of 720 gave 0.09-0.99 (five of nineteen frames
// under 0.5) shrunk and shifted, 0.97-1.00 padded; spoof/image_T1.jpg (face 258 px of 640, factor
// 2.4 fits) stays on the shifted path, 0.82.
cv::Rect context_box(const av_box &b, int w, int h, bool *pad)
{
    const float bw = b.x2 - b.x1, bh = b.y2 - b.y1;
    const float fit = std::min((float)(h - 1) / bh, (float)(w - 1) / bw);
    *pad = fit < avi::kLiveMinScale;
    const float scale = *pad ? avi::kLiveScale : std::min(avi::kLiveScale, fit);
    const float nw = bw * scale, nh = bh * scale;
    const float cx = b.x1 + bw * 0.5f, cy = b.y1 + bh * 0.5f;
    float x1 = cx - nw * 0.5f, y1 = cy - nh * 0.5f, x2 = cx + nw * 0.5f, y2 = cy + nh * 0.5f;
    if (*pad) return cv::Rect((int)std::floor(x1), (int)std::floor(y1), (int)std::lround(nw), (int)std::lround(nh));
    if (x1 < 0) {
        x2 -= x1;
        x1 = 0;
    }
    if (y1 < 0) {
        y2 -= y1;
        y1 = 0;
    }
    if (x2 > w - 1) {
        x1 -= x2 - (w - 1);
        x2 = (float)(w - 1);
    }
    if (y2 > h - 1) {
        y1 -= y2 - (h - 1);
        y2 = (float)(h - 1);
    }
    const int ix1 = std::max(0, (int)x1), iy1 = std::max(0, (int)y1);
    const int ix2 = std::min(w - 1, (int)x2), iy2 = std::min(h - 1, (int)y2);
    return cv::Rect(ix1, iy1, ix2 - ix1 + 1, iy2 - iy1 + 1);
}

// The r part of m, r possibly reaching outside m: the outside repeats the image's edge pixels. A
// black border is a screen's bezel to the net (spoof/image_T1.jpg, real: P(real) 0.05 with black,
// 0.82 with the edge repeated; the close-up live clip of person-a: 0.61-1.00 against 0.00-0.03).
void padded_crop(const cv::Mat &m, const cv::Rect &r, cv::Mat &out)
{
    const cv::Rect in = r & cv::Rect(0, 0, m.cols, m.rows);
    const int top = in.y - r.y, left = in.x - r.x;
    const int bottom = r.y + r.height - (in.y + in.height), right = r.x + r.width - (in.x + in.width);
    cv::copyMakeBorder(m(in), out, top, bottom, left, right, cv::BORDER_REPLICATE);
}

} // namespace

extern "C" av_status av_liveness(av_pipeline *p, const av_image *img, const av_face *faces, size_t n, float *p_real,
                                 av_err *err)
{
    AV_TRY
    {
        if (!p || !img || (n && (!faces || !p_real)))
            return avi::fail(err, AV_E_ARG,
                             "av_liveness: pipeline, image, faces and p_real are "
                             "required");
        const cv::Mat &m = img->bgr;
        const int S = avi::kLiveSize;
        cv::Mat small(S, S, CV_8UC3);
        const int shape[4] = {1, 3, S, S};
        cv::dnn::Net &net = p->net[AVM_LIVENESS];
        for (size_t i = 0; i < n; i++) { // the net's graph is fixed to batch 1
            const av_box &b = faces[i].box;
            if (!(b.x2 - b.x1 >= 1.f && b.y2 - b.y1 >= 1.f) || m.cols < 2 || m.rows < 2)
                return avi::fail(err, AV_E_ARG, "av_liveness: face %zu has an empty box", i);
            bool pad;
            const cv::Rect r = context_box(b, m.cols, m.rows, &pad);
            if ((r & cv::Rect(0, 0, m.cols, m.rows)).area() < 4 || r.width < 2 || r.height < 2)
                return avi::fail(err, AV_E_ARG, "av_liveness: face %zu lies outside the image", i);
            if (pad) {
                padded_crop(m, r, p->live_pad);
                cv::resize(p->live_pad, small, small.size(), 0, 0, cv::INTER_LINEAR);
            } else {
                cv::resize(m(r), small, small.size(), 0, 0, cv::INTER_LINEAR);
            }
            p->blob.create(4, shape, CV_32F);
            avi::bgr_to_planar(small, p->blob.ptr<float>(), 0.f, 1.f, false);
            net.setInput(p->blob);
            cv::Mat o = net.forward();
            if (o.total() != 3 || o.type() != CV_32F)
                return avi::fail(err, AV_E_INTERNAL, "liveness net returned %zu values", o.total());
            const float *l = o.ptr<float>();
            const float mx = std::max({l[0], l[1], l[2]});
            const double e0 = std::exp(l[0] - mx), e1 = std::exp(l[1] - mx), e2 = std::exp(l[2] - mx);
            p_real[i] = (float)(e0 / (e0 + e1 + e2));
        }
        return avi::ok(err);
    }
    AV_CATCH(err, "av_liveness")
}
