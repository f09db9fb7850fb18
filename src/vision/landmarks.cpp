// landmarks.cpp: 68 facial landmarks for detected faces (one batched run of fr_landmark.onnx on
// square 64x64 grey crops) and the 5 alignment points derived from them.
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace
{

// Square box of side = box height around the box centre, clipped to the image.
cv::Rect square_crop(const av_box &b, int w, int h)
{
    const float side = b.y2 - b.y1;
    const float cx = 0.5f * (b.x1 + b.x2), cy = 0.5f * (b.y1 + b.y2);
    const int x1 = std::max(0, (int)std::floor(cx - 0.5f * side));
    const int y1 = std::max(0, (int)std::floor(cy - 0.5f * side));
    const int x2 = std::min(w, (int)std::ceil(cx + 0.5f * side));
    const int y2 = std::min(h, (int)std::ceil(cy + 0.5f * side));
    return cv::Rect(x1, y1, std::max(0, x2 - x1), std::max(0, y2 - y1));
}

av_point mean_of(const av_point *p, int from, int to)
{
    av_point m{0.f, 0.f};
    for (int i = from; i <= to; i++) {
        m.x += p[i].x;
        m.y += p[i].y;
    }
    m.x /= (float)(to - from + 1);
    m.y /= (float)(to - from + 1);
    return m;
}

} // namespace

extern "C" av_status av_landmarks(av_pipeline *p, const av_image *img, av_face *faces, size_t n, av_err *err)
{
    AV_TRY
    {
        if (!p || !img || (n && !faces))
            return avi::fail(err, AV_E_ARG, "av_landmarks: pipeline, image and faces are required");
        if (n == 0) return avi::ok(err);
        if (n > 4096) return avi::fail(err, AV_E_ARG, "av_landmarks: %zu faces is too many for one call", n);
        const cv::Mat &m = img->bgr;
        const int S = avi::kLmkSize;
        std::vector<cv::Rect> rects(n);
        const int shape[4] = {(int)n, 1, S, S};
        p->blob.create(4, shape, CV_32F);
        cv::Mat small(S, S, CV_8UC3), grey(S, S, CV_8U);
        for (size_t i = 0; i < n; i++) {
            faces[i].has_landmarks = 0;
            rects[i] = square_crop(faces[i].box, m.cols, m.rows);
            if (rects[i].width < 2 || rects[i].height < 2)
                return avi::fail(err, AV_E_ARG, "av_landmarks: face %zu lies outside the image", i);
            cv::resize(m(rects[i]), small, small.size(), 0, 0, cv::INTER_LINEAR);
            cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
            float *dst = p->blob.ptr<float>() + i * (size_t)S * S;
            for (int y = 0; y < S; y++) {
                const uint8_t *s = grey.ptr<uint8_t>(y);
                for (int x = 0; x < S; x++) dst[y * S + x] = (float)s[x] * (1.f / 256.f);
            }
        }
        cv::dnn::Net &net = p->net[AVM_LANDMARK];
        net.setInput(p->blob);
        cv::Mat out = net.forward();
        if (out.total() != n * 2 * AV_N_LANDMARKS)
            return avi::fail(err, AV_E_INTERNAL, "landmark net returned %zu values for %zu faces", out.total(), n);
        const float *o = out.ptr<float>();
        for (size_t i = 0; i < n; i++) {
            av_face &f = faces[i];
            const cv::Rect &r = rects[i];
            for (int k = 0; k < AV_N_LANDMARKS; k++) {
                f.lm68[k].x = (float)r.x + o[i * 136 + 2 * k] * (float)r.width;
                f.lm68[k].y = (float)r.y + o[i * 136 + 2 * k + 1] * (float)r.height;
            }
            f.pts5[0] = mean_of(f.lm68, 36, 41); // eye on the image's left
            f.pts5[1] = mean_of(f.lm68, 42, 47);
            f.pts5[2] = f.lm68[30]; // nose tip
            f.pts5[3] = f.lm68[48]; // mouth corners
            f.pts5[4] = f.lm68[54];
            f.has_landmarks = 1;
        }
        return avi::ok(err);
    }
    AV_CATCH(err, "av_landmarks")
}
