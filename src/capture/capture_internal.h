/* Capture internals shared by the C files and the C++ shim: the video source wrapper (one open
 * stream: open, grab, retrieve, close) and the frame allocator. Not part of the public API. */
#ifndef ATTENDD_CAPTURE_INTERNAL_H
#define ATTENDD_CAPTURE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "attendd/capture.h"
#include "attendd/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cap_source cap_source;

struct cap_source_info {
    double fps;        /* nominal frame rate, 0 if the stream does not say */
    int width, height; /* as announced at open, 0 if unknown */
};

/* Open url of the given kind (already validated). Blocks up to open_timeout_ms for network
 * sources. Errors: ATT_E_IO with a redacted one-line reason. */
att_err cap_source_open(const char *url, enum cap_source_kind kind, int open_timeout_ms, int read_timeout_ms,
                        cap_source **out, struct cap_source_info *info, char *err, size_t errlen);
/* Decode the next frame (no colour conversion). ATT_OK with *pos_ms = the frame's timestamp
 * in ms (< 0 when the stream gave none); ATT_E_IO when no frame came (end of stream, stall past
 * the read timeout, connection lost): the caller tells which by elapsed time and kind. */
att_err cap_source_grab(cap_source *s, double *pos_ms, char *err, size_t errlen);
/* Convert the grabbed frame to BGR into a new frame (refcount 1). */
att_err cap_source_retrieve(cap_source *s, cap_frame **out, char *err, size_t errlen);
/* Close (RTSP TEARDOWN) and free. Accepts NULL. */
void cap_source_close(cap_source *s);

/* Route FFmpeg's log lines through log.h at debug level with URLs redacted, instead of FFmpeg
 * printing them (possibly with credentials) to stderr. Idempotent, thread-safe. */
void cap_ffmpeg_log_install(void);

/* Returns nonzero when a blocking step should give up (camera stopping or disabled). */
typedef int (*cap_cancel_fn)(void *arg);

/* RTSP pre-flight (probe.c): resolve, TCP-connect and send OPTIONS within timeout_ms, outside
 * OpenCV's global open lock. ATT_OK when an RTSP server answered (rtsps: when TCP connected);
 * ATT_E_IO with a reason; ATT_E_UNAVAILABLE if cancelled. */
att_err cap_rtsp_probe(const char *url, int timeout_ms, cap_cancel_fn cancelled, void *arg, char *err, size_t errlen);

/* camera_allow (allow.c): whether a resolved address may be connected to; whether an RTSP host is
 * acceptable (an address literal must be inside; a name is checked once resolved). */
bool cap_allow_sockaddr(const struct sockaddr *sa);
att_err cap_allow_host(const char *host, char *err, size_t errlen);
/* An RTSP url's host resolved now: ATT_E_IO unless every address is inside camera_allow. */
att_err cap_allow_url_resolved(const char *url, char *err, size_t errlen);
/* A file source at open: a regular file, outside /proc, /sys and /dev once links are resolved (no
 * FIFO, device or process file). ATT_E_IO with "cannot open: ..." otherwise. */
att_err cap_file_source_check(const char *path, char *err, size_t errlen);

/* Frame allocation with the pixel buffer in the same block (see queue.c). */
cap_frame *cap_frame_alloc(int width, int height);

#ifdef __cplusplus
}
#endif

#endif
