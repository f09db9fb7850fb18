// align.cpp: 5-point similarity alignment of a face onto the standard 112x112 template
// (closed-form least squares, deterministic; no RANSAC needed for 5 reliable points).
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>

namespace
{

// Reference positions of left eye, right eye, nose tip, mouth left, mouth right in 112x112.
const float kRef[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f}, {41.5493f, 92.3655f}, {70.7299f, 92.2041f}};

// Least-squares similarity (rotation, uniform scale, translation) mapping src onto kRef:
// [u v]' = [a -b; b a] [x y]' + t. Returns false for degenerate (coincident) points.
bool similarity(const av_point *src, double m[2][3])
{
    double mx = 0, my = 0, mu = 0, mv = 0;
    for (int i = 0; i < 5; i++) {
        mx += src[i].x;
        my += src[i].y;
        mu += kRef[i][0];
        mv += kRef[i][1];
    }
    mx /= 5;
    my /= 5;
    mu /= 5;
    mv /= 5;
    double sxx = 0, num_a = 0, num_b = 0;
    for (int i = 0; i < 5; i++) {
        const double x = src[i].x - mx, y = src[i].y - my;
        const double u = kRef[i][0] - mu, v = kRef[i][1] - mv;
        sxx += x * x + y * y;
        num_a += x * u + y * v;
        num_b += x * v - y * u;
    }
    if (!(sxx > 1e-6) || !std::isfinite(sxx)) return false;
    const double a = num_a / sxx, b = num_b / sxx;
    m[0][0] = a;
    m[0][1] = -b;
    m[0][2] = mu - (a * mx - b * my);
    m[1][0] = b;
    m[1][1] = a;
    m[1][2] = mv - (b * mx + a * my);
    return true;
}

} // namespace

extern "C" av_status av_align(const av_image *img, const av_face *face, av_crop *out, av_err *err)
{
    AV_TRY
    {
        if (!img || !face || !out) return avi::fail(err, AV_E_ARG, "av_align: image, face and out are required");
        if (!face->has_landmarks) return avi::fail(err, AV_E_ARG, "av_align: face has no landmarks");
        double m[2][3];
        if (!similarity(face->pts5, m)) return avi::fail(err, AV_E_ARG, "av_align: landmarks are degenerate");
        const cv::Mat M(2, 3, CV_64F, m);
        cv::Mat dst(AV_CROP_SIZE, AV_CROP_SIZE, CV_8UC3, out->bgr);
        cv::warpAffine(img->bgr, dst, M, dst.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        CV_Assert(dst.data == out->bgr); // written in place, no reallocation
        return avi::ok(err);
    }
    AV_CATCH(err, "av_align")
}
