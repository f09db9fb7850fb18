// encode.cpp: a BGR frame to JPEG in memory, with an optional box drawn on a private copy; every
// pixel copy made on the way is wiped (a camera frame shows faces: biometric data).
#include "internal.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace
{

const cv::Scalar BOX_BGR(0, 255, 0); // the region of interest, drawn in green

// Wipes the pixels of a private copy and the encoder's output vector when they go out of scope.
struct Wipe {
    cv::Mat &m;
    std::vector<uchar> &v;
    ~Wipe()
    {
        if (!m.empty() && m.isContinuous()) explicit_bzero(m.data, m.total() * m.elemSize());
        if (!v.empty()) explicit_bzero(v.data(), v.size());
    }
};

} // namespace

extern "C" av_status av_jpeg_encode(const uint8_t *bgr, int width, int height, size_t stride, const av_box *box,
                                    int quality, unsigned char **out, size_t *len, av_err *err)
{
    AV_TRY
    {
        if (!bgr || !out || !len || width <= 0 || height <= 0 || stride < (size_t)width * 3 || quality < 1 ||
            quality > 100)
            return avi::fail(err, AV_E_ARG, "av_jpeg_encode: frame, size, stride, quality (1..100) and out required");
        *out = nullptr;
        *len = 0;
        cv::Mat copy;
        std::vector<uchar> buf;
        Wipe wipe{copy, buf};
        cv::Mat(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), stride).copyTo(copy);
        if (box) {
            // a line about 1/300 of the frame's width, at least 2 px, visible on a thumbnail
            int t = std::max(2, width / 300);
            cv::rectangle(copy, cv::Point((int)box->x1, (int)box->y1), cv::Point((int)box->x2 - 1, (int)box->y2 - 1),
                          BOX_BGR, t);
        }
        if (!cv::imencode(".jpg", copy, buf, {cv::IMWRITE_JPEG_QUALITY, quality}) || buf.empty())
            return avi::fail(err, AV_E_INTERNAL, "the JPEG encoder refused a %dx%d frame", width, height);
        unsigned char *p = (unsigned char *)malloc(buf.size());
        if (!p) return avi::fail(err, AV_E_NOMEM, "no memory for a %zu-byte JPEG", buf.size());
        memcpy(p, buf.data(), buf.size());
        *out = p;
        *len = buf.size();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_jpeg_encode")
}
