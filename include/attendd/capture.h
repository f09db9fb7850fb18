/* Camera capture: one thread per camera decoding at stream rate (RTSP, a video file played in real
 * time, /dev/videoN), sampling frames at the analysis rate into a fair, bounded, drop-oldest queue.
 *
 * Plain C over a small C++ shim (src/capture/source.cpp, OpenCV VideoCapture); no exception
 * crosses this header. Fallible functions return att_err and, where a reason helps, write a
 * one-line message into the caller's buffer (never a URL with its credentials).
 *
 * Queue fairness: one cap_frame_queue is the single pop point for the detection pool, but inside it
 * each camera has its own small lane (capacity per lane). A full lane drops its OWN oldest frame,
 * and pop serves the lanes round-robin, so a busy camera can neither push out nor starve another
 * camera's frames, and what waits is always the most recent picture of each camera. A consumer that
 * knows which cameras need analysis most pops by rank instead (cap_queue_pop_ranked): lower ranks
 * first, round-robin among equals, and frames it does not need at all skipped.
 *
 * Lifetimes: frames are refcounted (cap_frame_ref / cap_frame_free). A camera holds a reference on
 * its queue, so the queue may be "freed" by its owner first; memory goes with the last user.
 */
#ifndef ATTENDD_CAPTURE_H
#define ATTENDD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/camera.h"
#include "attendd/errors.h"
#include "attendd/uuid.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAP_URL_MAX 2048 /* longest accepted source URL or path, bytes (excl. NUL) */
#define CAP_NAME_MAX 64  /* camera name kept for logs, bytes incl. NUL (longer: cut) */
#define CAP_ERR_MAX 256  /* last_error text, bytes incl. NUL */
#define CAP_FPS_MIN 0.5  /* analysis_fps range */
#define CAP_FPS_MAX 30.0

/* ---- process set-up ------------------------------------------------------------------------ */

/* FFmpeg options for every capture open, unless the operator set OPENCV_FFMPEG_CAPTURE_OPTIONS:
 * RTSP over TCP (no loss on a busy network) and no frame-rate probing, which cuts an RTSP open
 * from ~0.9 s to ~0.1 s. That matters because OpenCV 4.6 opens FFmpeg captures one at a time,
 * under a process-wide lock: 16 cameras (re)connect in ~1.5 s instead of ~15 s. avdiscard;nonref
 * makes the decoder skip pictures no other picture refers to (most B-frames): analysis samples a
 * few fps anyway, the pictures decoded are bit-exact, and a 720p IBBBP stream costs ~1/3 less CPU
 * (no effect on streams without B-frames). */
#define CAP_FFMPEG_OPTIONS "rtsp_transport;tcp|fpsprobesize;0|avdiscard;nonref"
/* FFmpeg protocols each kind of source may use (protocol_whitelist, added to the options of every
 * open): RTSP its transports, a file the file system only (no playlist or SDP reaching the network). */
#define CAP_FFMPEG_PROTOCOLS_RTSP "rtsp,rtsps,rtp,srtp,udp,tcp,tls"
#define CAP_FFMPEG_PROTOCOLS_FILE "file"

/* Call once from main() BEFORE any thread starts: exports CAP_FFMPEG_OPTIONS as
 * OPENCV_FFMPEG_CAPTURE_OPTIONS when unset (OpenCV reads only that variable, and setenv() is not
 * thread-safe), and routes FFmpeg's log through log.h with URLs redacted. Without it cameras
 * still work, with slow opens; the first open logs a warning saying so. */
att_err cap_global_init(char *err, size_t errlen);

/* Where cameras may be, for the whole process: the CIDR ranges of the camera_allow setting (until
 * this is called, CFG_CAMERA_ALLOW_DEFAULT: loopback and private ranges). Call from main() before
 * any camera starts. An RTSP URL whose host is an address outside is refused by cap_url_validate(),
 * and the RTSP pre-flight connects to no resolved address outside (a host name is checked there).
 * ATT_E_CONFIG for a bad list, the policy unchanged. */
att_err cap_allow_set(const char *cidrs, char *err, size_t errlen);

/* ---- URLs ----------------------------------------------------------------------------------- */

enum cap_source_kind {
    CAP_SRC_RTSP = 1, /* rtsp:// or rtsps:// */
    CAP_SRC_FILE = 2, /* absolute path to a video file, played at its native rate */
    CAP_SRC_V4L2 = 3  /* /dev/videoN */
};

/* A camera source split once. Validation, redaction, the network policy and the RTSP pre-flight all
 * read this one split, so they cannot disagree about where the credentials or the host are. */
struct cap_url {
    enum cap_source_kind kind;         /* what the source is */
    int tls;                           /* rtsps:// */
    size_t userinfo_len;               /* bytes of "user[:password]" after "://" (0: none); ends at the URL's
                                    last '@', and holds no '/', '?', '#', '@' or other reserved byte */
    size_t hostport_off, hostport_len; /* "host[:port]" as written (RTSP) */
    size_t rest_off;                   /* where the path and query start (RTSP; == strlen when none) */
    char host[256];                    /* host name or address, IPv6 without its brackets (RTSP) */
    char port[6];                      /* port digits, the scheme's default (554, rtsps 322) when absent */
};

/* Split and check a camera source: rtsp://[user[:pass]@]host[:port][/path][?query] (rtsps:// too), an
 * absolute file path (not under /dev/ other than /dev/videoN), or /dev/videoN. Refused: control
 * characters, whitespace, non-ASCII, quotes and angle brackets, '#' anywhere, a user part holding
 * '/', '?', '@' or another reserved character (percent-encode them), an empty user name, a '%' that
 * is no %HH escape; a file path under /proc or /sys; at most CAP_URL_MAX bytes. ATT_E_INVALID (the API's 422) with a reason in err
 * that never repeats the URL. */
att_err cap_url_parse(const char *url, struct cap_url *out, char *err, size_t errlen);
/* cap_url_parse(), and an RTSP host that is an address must be inside camera_allow (cap_allow_set);
 * kind (may be NULL) receives the source kind. */
att_err cap_url_validate(const char *url, enum cap_source_kind *kind, char *err, size_t errlen);

/* Copy url into out with credentials masked: everything between "://" and the last '@' becomes
 * "***" (the user part of every URL cap_url_parse accepts, and more of a malformed one), and so do
 * the values of name=value pieces of the path and query whose name, percent-decoded, looks secret
 * (p, u, pw, user, pass, pwd, token, auth, key, secret, sig...). Always NUL-terminates (out of at
 * least 1 byte); returns ATT_E_TOO_LARGE if the result was cut (still safe to print), ATT_E_INVALID
 * for NULL arguments. */
att_err cap_url_redact(const char *url, char *out, size_t outlen);

/* The same masking applied to every "scheme://..." found in free text (an FFmpeg or OpenCV
 * message, say). Returns like cap_url_redact(). */
att_err cap_text_redact(const char *text, char *out, size_t outlen);

/* ---- frames --------------------------------------------------------------------------------- */

typedef struct cap_frame {
    att_uuid camera_id; /* the camera's id (cfg.id), opaque to capture */
    uint64_t tag;       /* cfg.tag: an integer the owner chose (e.g. its slot number) */
    uint32_t session;   /* 1 for the camera's first successful open, +1 per reconnect */
    uint64_t frame_no;  /* decoded frame number in this session, 0 = first */
    uint64_t seq;       /* sampled-frame number on this camera, 1, 2, ... (all sessions) */
    int64_t stream_ms;  /* stream position, ms since the first frame of this session
                                    (from the stream's timestamps; keeps growing across file loops) */
    int64_t mono_us;    /* CLOCK_MONOTONIC when decoded, µs */
    int64_t wall_us;    /* CLOCK_REALTIME when decoded, µs since the epoch UTC */
    int width, height;  /* pixels */
    size_t stride;      /* bytes per row, >= width * 3 */
    uint8_t *bgr;       /* 8-bit BGR, owned by the frame (av_image_wrap_bgr() it) */
    int has_roi;        /* roi valid (the camera's ROI when the frame was sampled,
                                    clipped to the frame) */
    struct camera_roi roi;
} cap_frame;

/* Allocate a frame with an owned w x h BGR buffer (uninitialised), refcount 1. For tests and
 * tools; cameras make their own. */
att_err cap_frame_new(int width, int height, cap_frame **out);
/* Take another reference (e.g. to keep a frame past the detection stage). Returns f. */
cap_frame *cap_frame_ref(cap_frame *f);
/* Drop a reference; the last one frees the frame and its pixels. Accepts NULL. */
void cap_frame_free(cap_frame *f);

/* ---- queue ---------------------------------------------------------------------------------- */

typedef struct cap_frame_queue cap_frame_queue;
typedef struct cap_lane cap_lane; /* one producer's (camera's) part of a queue */

/* lane_capacity: frames each lane holds before dropping its oldest (1..64; 2 suggested: one being
 * replaced while one waits keeps latency lowest and memory at 2 frames per camera). */
att_err cap_queue_new(size_t lane_capacity, cap_frame_queue **out);
/* Close (poppers wake up; pushes are refused) and drop the owner's reference. Frames still
 * queued are freed with the last reference. Accepts NULL. */
void cap_queue_free(cap_frame_queue *q);
/* Close without freeing: cap_queue_pop() returns what is left, then ATT_E_UNAVAILABLE. */
void cap_queue_close(cap_frame_queue *q);

/* A lane for one producer. Cameras make their own; tests and tools may make lanes directly. */
att_err cap_lane_new(cap_frame_queue *q, cap_lane **out);
/* Remove the lane; its queued frames are freed (counted as discarded). Accepts NULL. */
void cap_lane_free(cap_lane *l);

/* Queue a frame, taking the caller's reference. Never blocks. When the lane is full its oldest
 * frame is freed and counted as dropped (*dropped, may be NULL, gets 1). ATT_E_UNAVAILABLE if
 * the queue is closed (the frame is freed, not counted as dropped). */
att_err cap_queue_push(cap_lane *l, cap_frame *f, int *dropped);

/* Take the oldest frame of the next non-empty lane (round-robin), waiting up to timeout_ms
 * (< 0: no limit, 0: don't wait). ATT_OK with *out = NULL on timeout; ATT_E_UNAVAILABLE once the
 * queue is closed and empty. The caller owns the frame (cap_frame_free()). */
att_err cap_queue_pop(cap_frame_queue *q, int timeout_ms, cap_frame **out);

/* Need-based order for cap_queue_pop_ranked(): the consumer ranks each lane's oldest frame. */
#define CAP_RANK_SKIP (-1) /* not worth analysing: removed at once and counted as skipped */
struct cap_ranker {
    /* Rank of f, the oldest frame of its lane: >= 0, lower is served first (equal ranks
     * round-robin), or CAP_RANK_SKIP. Called under the queue's lock: cheap, and it must not call
     * back into the queue or take a lock that is ever held while calling the queue. */
    int (*rank)(void *ud, const cap_frame *f);
    /* f leaves its lane: taken by this pop (skipped = false) or skipped. Same lock rules. May be
     * NULL. */
    void (*taken)(void *ud, const cap_frame *f, bool skipped);
    void *ud;
};

/* cap_queue_pop() by rank: the lowest-ranked oldest frame of all lanes, equal ranks served
 * round-robin as cap_queue_pop() does; frames ranked CAP_RANK_SKIP are freed on the way and
 * counted (`skipped`, and `popped`: they left the lane through the consumer). ranker NULL =
 * cap_queue_pop(). Waits and returns like cap_queue_pop(). */
att_err cap_queue_pop_ranked(cap_frame_queue *q, int timeout_ms, const struct cap_ranker *ranker, cap_frame **out);

struct cap_queue_stats {
    uint64_t pushed;    /* frames accepted by push */
    uint64_t popped;    /* frames handed to consumers, skipped ones included */
    uint64_t skipped;   /* of those, ranked CAP_RANK_SKIP by the consumer (not analysed) */
    uint64_t dropped;   /* oldest frames dropped because a lane was full */
    uint64_t discarded; /* frames freed with their lane, or refused after close */
    size_t depth;       /* frames waiting now */
    size_t lanes;       /* lanes attached */
};
void cap_queue_get_stats(cap_frame_queue *q, struct cap_queue_stats *st);
/* A lane's own counters (pushed, popped, dropped, discarded, depth; lanes = 1). */
void cap_lane_get_stats(cap_lane *l, struct cap_queue_stats *st);

/* ---- cameras -------------------------------------------------------------------------------- */

enum cap_state {
    CAP_CONNECTING = 0, /* first open since start/enable in progress */
    CAP_STREAMING,      /* frames arriving */
    CAP_RECONNECTING,   /* stream ended, stalled or could not be opened: backing off and
                                    retrying (last_error says why); also a non-looping file that
                                    reached its end (ended = 1, no retry) */
    CAP_DISABLED,       /* enabled = 0: no connection held */
    CAP_ERROR           /* error_after attempts in a row failed to produce a frame; still
                                    retrying with backoff, last_error says why */
};
/* "connecting", "streaming", "reconnecting", "disabled", "error". Never NULL. */
const char *cap_state_name(enum cap_state s);

struct cap_camera_cfg {
    const char *url;     /* required; validated by cap_url_validate(); copied */
    const char *name;    /* for logs and thread names; NULL = "camera"; copied */
    att_uuid id;         /* copied into every frame */
    uint64_t tag;        /* copied into every frame */
    double analysis_fps; /* frames per second handed to the queue, CAP_FPS_MIN..MAX (5) */
    int enabled;         /* 0: created disabled (1) */
    int has_roi;         /* pass roi along with every frame (0) */
    struct camera_roi roi;
    int loop;               /* file sources: restart at the end instead of ending (0) */
    int open_timeout_ms;    /* connect + probe limit (5000; 100..600000) */
    int read_timeout_ms;    /* no frame for this long = stalled, reconnect (5000; 100..600000) */
    int backoff_initial_ms; /* first retry delay (500; 10..600000) */
    int backoff_max_ms;     /* delay cap (8000; >= initial). Below 10 s so a camera is back
                                    within 10 s of its server's return */
    int stable_ms;          /* a session streaming this long resets the backoff (5000) */
    int error_after;        /* consecutive failed attempts before state error (3; >= 1) */
};
/* Fill the defaults shown above (url NULL, id zero). */
void cap_camera_cfg_init(struct cap_camera_cfg *c);

typedef struct cap_camera cap_camera;

/* Validate cfg (ATT_E_INVALID naming the field: "url: ...", "analysis_fps: ...", "roi: ..."),
 * copy it and attach a lane on q. q NULL = decode only (frames are counted, none retrieved or
 * queued: the decode-ceiling benchmark). The thread starts with cap_camera_start(). */
att_err cap_camera_new(const struct cap_camera_cfg *cfg, cap_frame_queue *q, cap_camera **out, char *err,
                       size_t errlen);
/* Start the capture thread. ATT_E_CONFLICT if already started, ATT_E_INTERNAL if no thread. */
att_err cap_camera_start(cap_camera *c, char *err, size_t errlen);
/* Ask the thread to stop; returns at once (the thread ends after its current open/read, bounded
 * by the open/read timeouts, usually within a frame). Lets a caller stop many cameras in
 * parallel before freeing them. Accepts NULL. */
void cap_camera_stop(cap_camera *c);
/* Stop, wait for the thread (see cap_camera_stop for the bound), free the lane with its queued
 * frames, free the camera. Accepts NULL. */
void cap_camera_free(cap_camera *c);

/* Take effect at once (the next frame or, when disabling, after the current read). */
att_err cap_camera_set_enabled(cap_camera *c, int enabled);
att_err cap_camera_set_analysis_fps(cap_camera *c, double fps);          /* ATT_E_INVALID out of range */
att_err cap_camera_set_roi(cap_camera *c, const struct camera_roi *roi); /* NULL = none */

struct cap_status {
    enum cap_state state;
    int ended;                    /* a non-looping file played to its end */
    char last_error[CAP_ERR_MAX]; /* why the last attempt/stream failed, "" if never; redacted */
    int64_t last_error_wall_us;   /* when, 0 if never */
    uint64_t frames_in;           /* stream frames received (all sessions): decoded, or skipped
                                  * by the decoder as non-reference (avdiscard) */
    uint64_t frames_sampled;      /* frames handed to the queue */
    uint64_t frames_dropped;      /* of those, dropped by the queue (lane full, oldest first) */
    uint64_t frames_taken;        /* of those, popped by consumers */
    uint64_t timestamp_fixups;    /* frames without a usable timestamp, placed one interval on */
    uint32_t sessions;            /* successful opens */
    uint32_t failures;            /* failed attempts or lost streams since the last stable stream */
    double input_fps;             /* frames_in per second, smoothed; 0 unless streaming */
    double stream_fps;            /* the stream's nominal rate (container/SDP), 0 if unknown */
    int width, height;            /* last decoded frame size, 0 before the first */
    int64_t last_frame_wall_us;   /* wall time of the last decoded frame, 0 if none yet */
    int64_t last_frame_mono_us;
};
att_err cap_camera_get_status(cap_camera *c, struct cap_status *st);

/* The last frame sampled in the current streaming session (a new reference: cap_frame_free() it;
 * treat it as read-only, other holders share it). ATT_E_UNAVAILABLE when there is none: not
 * streaming yet, between sessions, disabled or stopped. Only frames handed to the queue are
 * offered, so a decode-only camera (q NULL) has none. */
att_err cap_camera_latest_frame(cap_camera *c, cap_frame **out);

#ifdef __cplusplus
}
#endif

#endif
