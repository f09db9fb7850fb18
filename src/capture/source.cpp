// source.cpp: the one C++ part of capture: an open video stream over cv::VideoCapture (FFmpeg
// backend for RTSP and files, V4L2 for /dev/videoN) behind a C API, and FFmpeg's log redirected.
//
// OpenCV 4.6 facts this relies on (checked on Debian 12):
//  - CAP_PROP_OPEN_TIMEOUT_MSEC / CAP_PROP_READ_TIMEOUT_MSEC are "open-only": they work only in
//    the params vector given to open(); FFmpeg's interrupt callback enforces them (default 30 s).
//  - OPENCV_FFMPEG_CAPTURE_OPTIONS ("key;value|key;value") is read with getenv() at every open
//    and passed to avformat_open_input(). Unset, OpenCV asks for TCP itself (seen: one TCP
//    connection, no UDP sockets); set, it REPLACES that default, so it must carry
//    rtsp_transport;tcp. cap_global_init() sets it once, before threads exist (setenv() is not
//    thread-safe), adding fpsprobesize;0: RTSP opens drop from ~0.9 s to ~0.1 s with the same
//    fps, size and timestamps (the SDP carries a=framerate).
//  - All FFmpeg opens in the process run under one OpenCV mutex (4.6 has no opt-out), so a dead
//    camera inside its open timeout would stall every other camera's (re)connect; probe.c
//    checks RTSP servers before VideoCapture is involved.
//  - grab() decodes; retrieve() converts to BGR (sws_scale), so unsampled frames skip the
//    conversion. CAP_PROP_POS_MSEC is the decoded picture's pts relative to the stream start;
//    for RTSP the first picture has none (reported as 0) and the rest are offset by the B-frame
//    delay, hence the rebasing in camera.c.
//  - OpenCV sets FFmpeg's log level to "error" and leaves FFmpeg's default callback printing to
//    stderr; errors may quote URLs, so we install our own callback (redacting) from libavutil,
//    which OpenCV links, found with dlsym so the build needs no FFmpeg headers.
#include "capture_internal.h"

#include "attendd/log.h"

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <dlfcn.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

struct cap_source {
    cv::VideoCapture cap;
    cap_source_kind kind;
};

namespace
{

// FFmpeg log levels (libavutil/log.h), stable ABI.
constexpr int kAvLogError = 16;

// The last FFmpeg error logged on this thread while it opened or read a stream: the most precise
// reason there is ("Connection refused", "method DESCRIBE failed: 404 Not Found").
thread_local char tl_ff_error[192];

void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    char raw[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    cap_text_redact(raw, err, errlen);
    for (char *c = err; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
}

att_err from_exception(char *err, size_t errlen, const char *where) noexcept
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        set_err(err, errlen, "%s: out of memory", where);
        return ATT_E_NOMEM;
    } catch (const cv::Exception &e) {
        set_err(err, errlen, "%s: OpenCV: %s", where, e.err.c_str());
        return ATT_E_IO;
    } catch (const std::exception &e) {
        set_err(err, errlen, "%s: %s", where, e.what());
        return ATT_E_INTERNAL;
    } catch (...) {
        set_err(err, errlen, "%s: unknown exception", where);
        return ATT_E_INTERNAL;
    }
}

// av_log callback: one line per message, class name as prefix, URLs redacted, at debug level
// (stream start-up and packet-loss chatter would flood the log otherwise; the camera's own
// state changes carry the reasons at info/warning).
void ff_log(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > kAvLogError + 8) return; // warnings and worse only
    char raw[512], safe[512];
    vsnprintf(raw, sizeof raw, fmt, vl);
    size_t n = strlen(raw);
    while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r')) raw[--n] = '\0';
    if (!n) return;
    for (char *c = raw; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    cap_text_redact(raw, safe, sizeof safe);
    // An AVClass-bearing context starts with a pointer to its AVClass, whose first field is
    // the class name.
    const char *cls = "ffmpeg";
    if (avcl && *(void **)avcl) {
        const char *name = **(const char *const *const *)avcl;
        if (name) cls = name;
    }
    if (level <= kAvLogError) {
        size_t k = strnlen(safe, sizeof tl_ff_error - 1);
        memcpy(tl_ff_error, safe, k);
        tl_ff_error[k] = '\0';
    }
    log_debug("ffmpeg", "[%s] %s", cls, safe);
}

using av_log_cb = void (*)(void *, int, const char *, va_list);
using av_log_set_callback_fn = void (*)(av_log_cb);

av_log_set_callback_fn find_set_callback()
{
    static std::once_flag once;
    static av_log_set_callback_fn fn;
    std::call_once(once, [] {
        fn = reinterpret_cast<av_log_set_callback_fn>(dlsym(RTLD_DEFAULT, "av_log_set_callback"));
        if (!fn)
            log_warn("capture",
                     "av_log_set_callback not found (OpenCV without a linked FFmpeg?): "
                     "FFmpeg messages are not redirected and may reach stderr");
    });
    return fn;
}

} // namespace

extern "C" void cap_ffmpeg_log_install(void)
{
    try {
        // A plain pointer store inside FFmpeg; repeated after opens because OpenCV installs its
        // own callback on first use when OPENCV_FFMPEG_DEBUG/LOGLEVEL are set.
        if (auto fn = find_set_callback()) fn(ff_log);
    } catch (...) {
        log_warn("capture", "could not install the FFmpeg log callback");
    }
}

// OPENCV_FFMPEG_CAPTURE_OPTIONS as cap_global_init() (or the operator) left it, captured at the
// first open, and the lock under which it is rewritten for each open.
static std::mutex &options_lock()
{
    static std::mutex m;
    return m;
}

// Point OPENCV_FFMPEG_CAPTURE_OPTIONS at the base options plus this open's protocol whitelist. The
// variable exists from cap_global_init() on, so glibc's setenv() swaps the value in place (no
// reallocation of the environment that a concurrent getenv() could see freed), and it never frees
// a value it handed out; opens themselves are serialised by this lock (OpenCV serialises them too).
static void set_open_options(const char *protocols)
{
    static std::string base;
    static bool have_base = false;
    if (!have_base) {
        const char *o = getenv("OPENCV_FFMPEG_CAPTURE_OPTIONS");
        base = o ? o : CAP_FFMPEG_OPTIONS;
        have_base = true;
    }
    std::string opts = base + (base.empty() ? "" : "|") + "protocol_whitelist;" + protocols;
    const char *now = getenv("OPENCV_FFMPEG_CAPTURE_OPTIONS");
    if (!now || opts != now) setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", opts.c_str(), 1);
}

extern "C" att_err cap_source_open(const char *url, enum cap_source_kind kind, int open_timeout_ms, int read_timeout_ms,
                                   cap_source **out, struct cap_source_info *info, char *err, size_t errlen)
{
    try {
        if (!url || !out) {
            set_err(err, errlen, "cap_source_open: missing argument");
            return ATT_E_INVALID;
        }
        *out = nullptr;
        cap_ffmpeg_log_install();
        tl_ff_error[0] = '\0';
        std::unique_ptr<cap_source> s(new cap_source);
        s->kind = kind;
        bool ok;
        const auto t0 = std::chrono::steady_clock::now();
        if (kind == CAP_SRC_V4L2) {
            // FFmpeg would need the v4l2 demuxer named explicitly, which VideoCapture cannot
            // pass; OpenCV's own V4L2 backend reads the device (its select() timeout comes from
            // OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT, 10 s by default; the params below do not apply).
            int index = atoi(url + strlen("/dev/video"));
            ok = s->cap.open(index, cv::CAP_V4L2);
        } else {
            // the last check before FFmpeg resolves and connects on its own
            att_err e = kind == CAP_SRC_FILE ? cap_file_source_check(url, err, errlen)
                                             : cap_allow_url_resolved(url, err, errlen);
            if (e != ATT_OK) return e;
            const std::vector<int> params = {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms,
                                             cv::CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms};
            // OpenCV reads the options at open: set them for this kind and open under one lock
            std::lock_guard<std::mutex> lock(options_lock());
            set_open_options(kind == CAP_SRC_FILE ? CAP_FFMPEG_PROTOCOLS_FILE : CAP_FFMPEG_PROTOCOLS_RTSP);
            ok = s->cap.open(url, cv::CAP_FFMPEG, params);
        }
        cap_ffmpeg_log_install();
        const long long waited_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        if (!ok || !s->cap.isOpened()) {
            if ((kind == CAP_SRC_FILE || kind == CAP_SRC_V4L2) && access(url, R_OK) != 0)
                set_err(err, errlen, "cannot open: %s", strerror(errno));
            else if (tl_ff_error[0]) set_err(err, errlen, "cannot open: %s", tl_ff_error);
            else if (kind == CAP_SRC_RTSP && waited_ms >= open_timeout_ms * 9 / 10)
                set_err(err, errlen, "cannot open: no RTSP answer within %d ms (open timeout)", open_timeout_ms);
            else if (kind == CAP_SRC_RTSP) set_err(err, errlen, "cannot open: not an RTSP stream with video");
            else set_err(err, errlen, "cannot open: not a video OpenCV can decode");
            return ATT_E_IO;
        }
        if (info) {
            double fps = s->cap.get(cv::CAP_PROP_FPS);
            info->fps = (fps > 0 && fps < 1000) ? fps : 0;
            info->width = (int)s->cap.get(cv::CAP_PROP_FRAME_WIDTH);
            info->height = (int)s->cap.get(cv::CAP_PROP_FRAME_HEIGHT);
        }
        *out = s.release();
        return ATT_OK;
    } catch (...) {
        return from_exception(err, errlen, "open");
    }
}

extern "C" att_err cap_source_grab(cap_source *s, double *pos_ms, char *err, size_t errlen)
{
    try {
        if (!s || !pos_ms) {
            set_err(err, errlen, "cap_source_grab: missing argument");
            return ATT_E_INVALID;
        }
        tl_ff_error[0] = '\0';
        if (!s->cap.grab()) {
            if (tl_ff_error[0]) set_err(err, errlen, "%s", tl_ff_error);
            else set_err(err, errlen, "no frame");
            return ATT_E_IO;
        }
        *pos_ms = s->cap.get(cv::CAP_PROP_POS_MSEC);
        return ATT_OK;
    } catch (...) {
        return from_exception(err, errlen, "grab");
    }
}

extern "C" att_err cap_source_retrieve(cap_source *s, cap_frame **out, char *err, size_t errlen)
{
    cap_frame *f = nullptr;
    try {
        if (!s || !out) {
            set_err(err, errlen, "cap_source_retrieve: missing argument");
            return ATT_E_INVALID;
        }
        *out = nullptr;
        int w = (int)s->cap.get(cv::CAP_PROP_FRAME_WIDTH);
        int h = (int)s->cap.get(cv::CAP_PROP_FRAME_HEIGHT);
        cv::Mat m;
        if (w > 0 && h > 0 && (f = cap_frame_alloc(w, h)) != nullptr)
            m = cv::Mat(h, w, CV_8UC3, f->bgr, f->stride); // retrieve straight into the frame
        if (!s->cap.retrieve(m) || m.empty()) {
            cap_frame_free(f);
            set_err(err, errlen, "no picture for the decoded frame");
            return ATT_E_IO;
        }
        if (m.type() != CV_8UC3) {
            cap_frame_free(f);
            set_err(err, errlen, "unexpected pixel format (type %d)", m.type());
            return ATT_E_IO;
        }
        if (!f || m.data != f->bgr) {
            // The size differed from what the stream announced (rotation metadata, a resolution
            // change): OpenCV reallocated; copy into a frame of the right size.
            cap_frame_free(f);
            f = cap_frame_alloc(m.cols, m.rows);
            if (!f) {
                set_err(err, errlen, "cannot allocate a %dx%d frame", m.cols, m.rows);
                return ATT_E_NOMEM;
            }
            cv::Mat dst(m.rows, m.cols, CV_8UC3, f->bgr, f->stride);
            m.copyTo(dst);
        }
        *out = f;
        return ATT_OK;
    } catch (...) {
        cap_frame_free(f);
        return from_exception(err, errlen, "retrieve");
    }
}

extern "C" void cap_source_close(cap_source *s)
{
    try {
        delete s; // VideoCapture's destructor releases the stream (RTSP TEARDOWN)
    } catch (...) {
        log_warn("capture", "exception while closing a video source");
    }
}
