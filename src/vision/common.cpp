// common.cpp: status names, error reporting into the caller's av_err, exception translation,
// thread-count control, and small helpers shared by the vision stages.
#include "internal.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

namespace
{

struct status_text {
    const char *name;
    const char *text;
};

const status_text kStatus[AV_E__COUNT] = {
    {"ok", "success"},
    {"invalid_argument", "invalid argument"},
    {"out_of_memory", "out of memory"},
    {"io_error", "file could not be read"},
    {"model_error", "face model missing, altered or unreadable"},
    {"image_empty", "image is empty"},
    {"image_truncated", "image is truncated"},
    {"image_corrupt", "image is corrupt"},
    {"image_too_large", "image is too large"},
    {"not_an_image", "not an image"},
    {"image_unsupported", "image format not supported (JPEG, PNG or WebP only)"},
    {"no_face", "no face found"},
    {"video_error", "video could not be read"},
    {"internal_error", "internal error in the vision module"},
};

} // namespace

extern "C" const char *av_status_name(av_status s)
{
    return (unsigned)s < AV_E__COUNT ? kStatus[s].name : "internal_error";
}

extern "C" const char *av_status_text(av_status s)
{
    return (unsigned)s < AV_E__COUNT ? kStatus[s].text : "unknown vision status";
}

av_status avi::fail(av_err *err, av_status code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        for (char *c = err->msg; *c; c++) // keep it one line
            if (*c == '\n' || *c == '\r') *c = ' ';
    }
    return code;
}

av_status avi::ok(av_err *err)
{
    if (err) {
        err->code = AV_OK;
        err->msg[0] = '\0';
    }
    return AV_OK;
}

av_status avi::from_exception(av_err *err, const char *where) noexcept
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return fail(err, AV_E_NOMEM, "%s: out of memory", where);
    } catch (const cv::Exception &e) {
        if (e.code == cv::Error::StsNoMem) return fail(err, AV_E_NOMEM, "%s: out of memory (OpenCV)", where);
        return fail(err, AV_E_INTERNAL, "%s: OpenCV: %s", where, e.err.c_str());
    } catch (const std::exception &e) {
        return fail(err, AV_E_INTERNAL, "%s: %s", where, e.what());
    } catch (...) {
        return fail(err, AV_E_INTERNAL, "%s: unknown exception", where);
    }
}

extern "C" av_status av_set_num_threads(int n, av_err *err)
{
    AV_TRY
    {
        if (n < 1 || n > 256) return avi::fail(err, AV_E_ARG, "thread count %d out of range 1..256", n);
        cv::setNumThreads(n);
        return avi::ok(err);
    }
    AV_CATCH(err, "av_set_num_threads")
}

void avi::bgr_to_planar(const cv::Mat &bgr, float *dst, float mean, float scale, bool swap_rb)
{
    CV_Assert(bgr.type() == CV_8UC3);
    const int h = bgr.rows, w = bgr.cols;
    const size_t plane = (size_t)h * w;
    float *p0 = dst, *p1 = dst + plane, *p2 = dst + 2 * plane;
    if (swap_rb) std::swap(p0, p2); // BGR pixel order -> planes R, G, B
    for (int y = 0; y < h; y++) {
        const uint8_t *s = bgr.ptr<uint8_t>(y);
        const size_t o = (size_t)y * w;
        for (int x = 0; x < w; x++) {
            p0[o + x] = ((float)s[3 * x] - mean) * scale;
            p1[o + x] = ((float)s[3 * x + 1] - mean) * scale;
            p2[o + x] = ((float)s[3 * x + 2] - mean) * scale;
        }
    }
}

void avi::sort_faces_by_area(std::vector<av_face> &faces)
{
    std::stable_sort(faces.begin(), faces.end(), [](const av_face &a, const av_face &b) {
        return (a.box.x2 - a.box.x1) * (a.box.y2 - a.box.y1) > (b.box.x2 - b.box.x1) * (b.box.y2 - b.box.y1);
    });
}
