/* One capture thread per camera: open, decode every frame at stream rate (files paced to real
 * time), sample at analysis_fps into the camera's queue lane, and reconnect with backoff. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/log.h"
#include "attendd/uuid.h"
#include "capture_internal.h"

#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 600000
#define DEFAULT_FRAME_MS 40.0   /* a stream that announces no rate: assume 25 fps */
#define TS_JUMP_MAX_MS 10000    /* a timestamp this far ahead of the last is not believed */
#define PACE_LAG_MAX_US 1000000 /* a file more than 1 s behind real time re-anchors, no burst */
#define SKIPPED_RUN_MAX 8       /* most stream frames one decoded picture may stand for */

struct cap_camera {
    /* fixed at creation */
    char *url;
    char url_safe[320]; /* redacted, for logs */
    char name[CAP_NAME_MAX];
    enum cap_source_kind kind;
    att_uuid id;
    uint64_t tag;
    int loop, open_timeout_ms, read_timeout_ms, backoff_initial_ms, backoff_max_ms, stable_ms, error_after;
    cap_lane *lane; /* NULL: decode only */
    pthread_t thread;
    bool started;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; wakes sleeps on stop/enable changes */
    /* control (under mu) */
    bool stop, enabled;
    double analysis_fps;
    bool has_roi;
    struct camera_roi roi;
    /* status (under mu); frames_dropped/taken come from the lane */
    struct cap_status st;
    int64_t fps_win_start_us;
    uint64_t fps_win_frames;
    unsigned fps_windows; /* windows completed in this streaming spell */
    uint64_t seq;         /* last sampled-frame number */
    uint64_t rng;         /* xorshift state for backoff jitter */
    cap_frame *latest;    /* a reference on the last sampled frame of the current session, for
                             cap_camera_latest_frame; NULL between sessions */
};

static atomic_int g_init_done; /* cap_global_init() ran (or its absence was reported) */

const char *cap_state_name(enum cap_state s)
{
    switch (s) {
    case CAP_CONNECTING: return "connecting";
    case CAP_STREAMING: return "streaming";
    case CAP_RECONNECTING: return "reconnecting";
    case CAP_DISABLED: return "disabled";
    case CAP_ERROR: return "error";
    }
    return "error";
}

void cap_camera_cfg_init(struct cap_camera_cfg *c)
{
    if (!c) return;
    memset(c, 0, sizeof *c);
    c->analysis_fps = 5.0;
    c->enabled = 1;
    c->open_timeout_ms = 5000;
    c->read_timeout_ms = 5000;
    c->backoff_initial_ms = 500;
    c->backoff_max_ms = 8000;
    c->stable_ms = 5000;
    c->error_after = 5;
}

static bool fps_ok(double fps) { return isfinite(fps) && fps >= CAP_FPS_MIN && fps <= CAP_FPS_MAX; }

static bool roi_ok(const struct camera_roi *r)
{
    return r->x >= 0 && r->y >= 0 && r->w > 0 && r->h > 0 && r->x <= 65535 - r->w && r->y <= 65535 - r->h;
}

static bool ms_in(int v, int lo, int hi) { return v >= lo && v <= hi; }

att_err cap_camera_new(const struct cap_camera_cfg *cfg, cap_frame_queue *q, cap_camera **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!cfg || !out) return att_fail(ATT_E_INVALID, err, errlen, "cap_camera_new: missing argument");
    *out = NULL;
    enum cap_source_kind kind;
    char why[160];
    if (cap_url_validate(cfg->url, &kind, why, sizeof why) != ATT_OK)
        return att_fail(ATT_E_INVALID, err, errlen, "url: %s", why);
    if (!fps_ok(cfg->analysis_fps))
        return att_fail(ATT_E_INVALID, err, errlen, "analysis_fps: must be between %.1f and %.0f", CAP_FPS_MIN,
                        CAP_FPS_MAX);
    if (cfg->has_roi && !roi_ok(&cfg->roi))
        return att_fail(ATT_E_INVALID, err, errlen, "roi: x, y >= 0 and w, h > 0 within 65535 pixels");
    if (!ms_in(cfg->open_timeout_ms, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS))
        return att_fail(ATT_E_INVALID, err, errlen, "open_timeout_ms: must be %d..%d", TIMEOUT_MIN_MS, TIMEOUT_MAX_MS);
    if (!ms_in(cfg->read_timeout_ms, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS))
        return att_fail(ATT_E_INVALID, err, errlen, "read_timeout_ms: must be %d..%d", TIMEOUT_MIN_MS, TIMEOUT_MAX_MS);
    if (!ms_in(cfg->backoff_initial_ms, 10, TIMEOUT_MAX_MS))
        return att_fail(ATT_E_INVALID, err, errlen, "backoff_initial_ms: must be 10..%d", TIMEOUT_MAX_MS);
    if (!ms_in(cfg->backoff_max_ms, cfg->backoff_initial_ms, TIMEOUT_MAX_MS))
        return att_fail(ATT_E_INVALID, err, errlen, "backoff_max_ms: must be backoff_initial_ms..%d", TIMEOUT_MAX_MS);
    if (!ms_in(cfg->stable_ms, 0, TIMEOUT_MAX_MS))
        return att_fail(ATT_E_INVALID, err, errlen, "stable_ms: must be 0..%d", TIMEOUT_MAX_MS);
    if (cfg->error_after < 1) return att_fail(ATT_E_INVALID, err, errlen, "error_after: must be >= 1");

    cap_camera *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(cfg->url))) {
        free(c);
        return ATT_E_NOMEM;
    }
    if (att_time_cond_init(&c->cv) != 0) {
        free(c->url);
        free(c);
        return ATT_E_NOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    cap_url_redact(c->url, c->url_safe, sizeof c->url_safe);
    snprintf(c->name, sizeof c->name, "%s", cfg->name && *cfg->name ? cfg->name : "camera");
    c->kind = kind;
    c->id = cfg->id;
    c->tag = cfg->tag;
    c->loop = cfg->loop;
    c->open_timeout_ms = cfg->open_timeout_ms;
    c->read_timeout_ms = cfg->read_timeout_ms;
    c->backoff_initial_ms = cfg->backoff_initial_ms;
    c->backoff_max_ms = cfg->backoff_max_ms;
    c->stable_ms = cfg->stable_ms;
    c->error_after = cfg->error_after;
    c->enabled = cfg->enabled != 0;
    c->analysis_fps = cfg->analysis_fps;
    c->has_roi = cfg->has_roi != 0;
    if (c->has_roi) c->roi = cfg->roi;
    c->st.state = c->enabled ? CAP_CONNECTING : CAP_DISABLED;
    c->rng = (uint64_t)att_time_mono_us() ^ ((uint64_t)(uintptr_t)c << 17) ^ 0x9e3779b97f4a7c15ull;
    if (q) {
        att_err e = cap_lane_new(q, &c->lane);
        if (e != ATT_OK) {
            pthread_cond_destroy(&c->cv);
            pthread_mutex_destroy(&c->mu);
            free(c->url);
            free(c);
            return e;
        }
    }
    if (!atomic_exchange(&g_init_done, 1))
        log_warn("capture",
                 "cap_global_init() was not called before the first camera: RTSP opens "
                 "probe the frame rate (~0.9 s each, one camera at a time)");
    *out = c;
    return ATT_OK;
}

att_err cap_global_init(char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    const char *o = getenv("OPENCV_FFMPEG_CAPTURE_OPTIONS");
    if (!o) {
        if (setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", CAP_FFMPEG_OPTIONS, 0) != 0) {
            if (err && errlen) snprintf(err, errlen, "setenv: %s", strerror(errno));
            return ATT_E_INTERNAL;
        }
    } else {
        char safe[512];
        cap_text_redact(o, safe, sizeof safe); /* a proxy option could carry credentials */
        log_notice("capture", "FFmpeg capture options from OPENCV_FFMPEG_CAPTURE_OPTIONS: %s", safe);
        if (!strstr(o, "rtsp_transport"))
            log_warn("capture",
                     "OPENCV_FFMPEG_CAPTURE_OPTIONS has no rtsp_transport: RTSP runs over "
                     "UDP (lossy); add rtsp_transport;tcp");
    }
    cap_ffmpeg_log_install();
    atomic_store(&g_init_done, 1);
    return ATT_OK;
}

/* ---- helpers for the thread ------------------------------------------------------------ */

/* Sleep up to us, waking early on stop or an enable change. Called with mu held. */
static void wait_locked(cap_camera *c, int64_t us)
{
    struct timespec until = att_time_timespec(att_time_deadline(us));
    bool was_enabled = c->enabled;
    while (!c->stop && c->enabled == was_enabled)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT) break;
}

static bool should_leave(cap_camera *c)
{
    pthread_mutex_lock(&c->mu);
    bool r = c->stop || !c->enabled;
    pthread_mutex_unlock(&c->mu);
    return r;
}

static int cancelled(void *arg) { return should_leave(arg); }

/* Record a failure reason (already redacted by the source, redacted again to be sure). */
static void set_error_locked(cap_camera *c, const char *reason)
{
    cap_text_redact(reason, c->st.last_error, sizeof c->st.last_error);
    c->st.last_error_wall_us = att_time_wall_us();
}

/* Backoff with "equal jitter": uniform in [d/2, d], d = initial * 2^k capped, so many cameras
 * that lost one server do not reconnect in lockstep. */
static int64_t backoff_us(cap_camera *c, unsigned k)
{
    double d = c->backoff_initial_ms * pow(2.0, k > 30 ? 30 : k);
    if (d > c->backoff_max_ms) d = c->backoff_max_ms;
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    double u = (double)(c->rng >> 11) / (double)(1ull << 53);
    return (int64_t)(d * (0.5 + 0.5 * u) * 1000.0);
}

/* Stream position of each decoded frame, from the stream's own timestamps (see source.cpp):
 * the second frame fixes the base (the first one of an RTSP session carries no pts), a frame
 * whose timestamp goes backwards, repeats or jumps ahead > 10 s is placed one frame interval on
 * (counted as a fixup) and the base follows it. */
struct stream_clock {
    double frame_ms; /* nominal interval */
    double base;     /* pos_ms - base = position within this pass */
    double offset;   /* added: earlier passes of a looping file */
    double last;     /* last position given */
    uint64_t n;      /* frames in this pass */
};

static double clock_next(struct stream_clock *k, double pos, uint64_t *fixups)
{
    double ms;
    if (k->n == 0) {
        ms = k->offset;
    } else {
        if (k->n == 1 && pos >= 0) k->base = pos - k->frame_ms;
        ms = k->offset + (pos - k->base);
        if (pos < 0 || ms <= k->last || ms > k->last + TS_JUMP_MAX_MS) {
            ms = k->last + k->frame_ms;
            k->base = pos - (ms - k->offset);
            (*fixups)++;
        }
    }
    k->last = ms;
    k->n++;
    return ms;
}

/* Stream frames a decoded picture stands for. With avdiscard;nonref (CAP_FFMPEG_OPTIONS) the
 * decoder drops the non-reference pictures whose packets it was sent, so the position advances by
 * more than one interval; those frames were received all the same. Capped, so that a real gap in
 * the stream is not counted as frames. */
static uint64_t frames_covered(double prev_ms, double ms, double frame_ms)
{
    double k = floor((ms - prev_ms) / frame_ms + 0.5);
    return k < 1 ? 1 : k > SKIPPED_RUN_MAX ? SKIPPED_RUN_MAX : (uint64_t)k;
}

struct session_result {
    bool opened;
    bool ended;  /* non-looping file at its end */
    bool stable; /* streamed at least stable_ms */
    char reason[CAP_ERR_MAX];
};

static void clip_roi(const struct camera_roi *r, int w, int h, struct camera_roi *o, int *has)
{
    int x1 = r->x < w ? r->x : w, y1 = r->y < h ? r->y : h;
    int x2 = r->x + r->w < w ? r->x + r->w : w, y2 = r->y + r->h < h ? r->y + r->h : h;
    *has = x2 > x1 && y2 > y1;
    *o = (struct camera_roi){x1, y1, *has ? x2 - x1 : 0, *has ? y2 - y1 : 0};
}

/* One connection: open, stream until it fails, stops or ends. */
static void run_session(cap_camera *c, struct session_result *r)
{
    memset(r, 0, sizeof *r);
    cap_source *src = NULL;
    struct cap_source_info info = {0};
    char why[CAP_ERR_MAX - 40]; /* room for the prefixes added to r->reason */
    if (c->kind == CAP_SRC_RTSP &&
        cap_rtsp_probe(c->url, c->open_timeout_ms, cancelled, c, why, sizeof why) != ATT_OK) {
        snprintf(r->reason, sizeof r->reason, "cannot open: %s", why);
        return;
    }
    if (cap_source_open(c->url, c->kind, c->open_timeout_ms, c->read_timeout_ms, &src, &info, why, sizeof why) !=
        ATT_OK) {
        snprintf(r->reason, sizeof r->reason, "%s", why);
        return;
    }
    r->opened = true;
    pthread_mutex_lock(&c->mu);
    uint32_t session = ++c->st.sessions;
    c->st.stream_fps = info.fps;
    pthread_mutex_unlock(&c->mu);
    log_info("capture", "camera %s (%s): opened, %dx%d at %.2f fps (session %u)", c->name, c->url_safe, info.width,
             info.height, info.fps, session);

    struct stream_clock clk = {.frame_ms = info.fps > 0 ? 1000.0 / info.fps : DEFAULT_FRAME_MS};
    double next_sample_ms = -1;
    int64_t first_us = 0, pace_t0_us = 0;
    uint64_t frame_no = 0, fixups = 0;
    double prev_ms = 0;
    bool real_time = c->kind == CAP_SRC_FILE;

    /* How long recent grabs waited. After a read timeout OpenCV drains the decoder's delayed
     * frames (frame threads, B-frame reordering) before it reports failure, so the grab that
     * fails returns at once and the wait shows a few grabs earlier. */
    int64_t waits_us[16] = {0};
    unsigned wi = 0;

    for (;;) {
        if (should_leave(c)) break;
        int64_t t_before = att_time_mono_us();
        double pos = -1;
        att_err ge = cap_source_grab(src, &pos, why, sizeof why);
        waits_us[wi++ % 16] = att_time_mono_us() - t_before;
        if (ge != ATT_OK) {
            int64_t waited_ms = 0;
            for (unsigned i = 0; i < 16; i++)
                if (waits_us[i] / 1000 > waited_ms) waited_ms = waits_us[i] / 1000;
            if (c->kind == CAP_SRC_FILE && c->loop && clk.n > 0) {
                /* loop: reopen (more robust than seeking) and continue the stream clock */
                cap_source_close(src);
                src = NULL;
                if (cap_source_open(c->url, c->kind, c->open_timeout_ms, c->read_timeout_ms, &src, &info, why,
                                    sizeof why) != ATT_OK) {
                    snprintf(r->reason, sizeof r->reason, "reopening to loop: %s", why);
                    break;
                }
                clk.offset = clk.last + clk.frame_ms;
                clk.n = 0;
                continue;
            }
            if (c->kind == CAP_SRC_FILE) {
                snprintf(r->reason, sizeof r->reason, "end of file after %llu frames", (unsigned long long)frame_no);
                r->ended = !c->loop;
            } else if (waited_ms >= c->read_timeout_ms * 9 / 10) {
                snprintf(r->reason, sizeof r->reason, "stalled: no frame for %lld ms (read timeout)",
                         (long long)waited_ms);
            } else {
                snprintf(r->reason, sizeof r->reason, "stream ended (%s)",
                         strcmp(why, "no frame") == 0 ? "connection closed or end of stream" : why);
            }
            break;
        }
        double ms = clock_next(&clk, pos, &fixups);
        uint64_t covered = frame_no == 0 ? 1 : frames_covered(prev_ms, ms, clk.frame_ms);
        prev_ms = ms;
        if (real_time) {
            /* play the file at its native rate: frame at position ms is due at t0 + ms */
            int64_t now = att_time_mono_us();
            if (frame_no == 0) pace_t0_us = now - (int64_t)(ms * 1000.0);
            int64_t due = pace_t0_us + (int64_t)(ms * 1000.0);
            if (now - due > PACE_LAG_MAX_US) {
                pace_t0_us = now - (int64_t)(ms * 1000.0);
            } else if (due > now) {
                pthread_mutex_lock(&c->mu);
                wait_locked(c, due - now);
                pthread_mutex_unlock(&c->mu);
                if (should_leave(c)) break;
            }
        }
        int64_t now_mono = att_time_mono_us(), now_wall = att_time_wall_us();
        if (frame_no == 0) first_us = now_mono;

        pthread_mutex_lock(&c->mu);
        c->st.frames_in += covered;
        c->st.timestamp_fixups += fixups;
        fixups = 0;
        c->st.last_frame_mono_us = now_mono;
        c->st.last_frame_wall_us = now_wall;
        if (c->st.state != CAP_STREAMING) {
            c->st.state = CAP_STREAMING;
            c->st.ended = 0;
            c->fps_win_start_us = now_mono;
            c->fps_win_frames = 0;
            c->fps_windows = 0;
            c->st.input_fps = 0;
            pthread_mutex_unlock(&c->mu);
            log_info("capture", "camera %s (%s): streaming (session %u)", c->name, c->url_safe, session);
            pthread_mutex_lock(&c->mu);
        } else {
            c->fps_win_frames += covered; /* frames after the window's first, over its time */
        }
        int64_t win = now_mono - c->fps_win_start_us;
        if (win >= 1000000) {
            /* EWMA over 1 s windows, weight 0.3 for the newest. The first window is skipped: an
             * RTSP session delivers what was buffered during the open in one burst. */
            double rate = (double)c->fps_win_frames * 1e6 / (double)win;
            if (c->fps_windows++ > 0) c->st.input_fps = c->st.input_fps > 0 ? 0.7 * c->st.input_fps + 0.3 * rate : rate;
            c->fps_win_start_us = now_mono;
            c->fps_win_frames = 0;
        }
        double afps = c->analysis_fps;
        bool has_roi = c->has_roi;
        struct camera_roi roi = c->roi;
        pthread_mutex_unlock(&c->mu);

        /* sample on the stream clock, so files and live streams sample alike */
        double step = 1000.0 / afps;
        bool sample = c->lane && (next_sample_ms < 0 || ms + clk.frame_ms / 2 >= next_sample_ms);
        if (sample) {
            next_sample_ms = next_sample_ms < 0 ? ms + step : next_sample_ms + step;
            if (next_sample_ms <= ms) next_sample_ms = ms + step;
            cap_frame *f = NULL;
            if (cap_source_retrieve(src, &f, why, sizeof why) != ATT_OK) {
                snprintf(r->reason, sizeof r->reason, "converting a frame: %s", why);
                break;
            }
            f->camera_id = c->id;
            f->tag = c->tag;
            f->session = session;
            f->frame_no = frame_no;
            f->stream_ms = (int64_t)llround(ms);
            f->mono_us = now_mono;
            f->wall_us = now_wall;
            if (has_roi) clip_roi(&roi, f->width, f->height, &f->roi, &f->has_roi);
            pthread_mutex_lock(&c->mu);
            f->seq = ++c->seq;
            c->st.frames_sampled++;
            c->st.width = f->width;
            c->st.height = f->height;
            cap_frame *older = c->latest;
            c->latest = cap_frame_ref(f);
            pthread_mutex_unlock(&c->mu);
            cap_frame_free(older);            /* outside the lock: megabytes */
            cap_queue_push(c->lane, f, NULL); /* drop-oldest inside; refusal after close counted
                                                  by the lane as discarded */
        } else if (frame_no == 0 && info.width > 0) {
            pthread_mutex_lock(&c->mu);
            c->st.width = info.width;
            c->st.height = info.height;
            pthread_mutex_unlock(&c->mu);
        }
        frame_no++;
    }
    if (first_us) r->stable = (att_time_mono_us() - first_us) / 1000 >= c->stable_ms;
    cap_source_close(src);
    /* no picture outlives its session: a stopped, disabled or lost camera offers none */
    pthread_mutex_lock(&c->mu);
    cap_frame *last = c->latest;
    c->latest = NULL;
    pthread_mutex_unlock(&c->mu);
    cap_frame_free(last);
}

static void set_state_locked(cap_camera *c, enum cap_state s)
{
    if (c->st.state == s) return;
    c->st.state = s;
    if (s != CAP_STREAMING) c->st.input_fps = 0;
}

static void *camera_main(void *arg)
{
    cap_camera *c = arg;
    char tname[16] = "cap:"; /* the kernel keeps 15 bytes */
    size_t nl = strnlen(c->name, sizeof tname - 5);
    memcpy(tname + 4, c->name, nl);
    tname[4 + nl] = '\0';
    pthread_setname_np(pthread_self(), tname);

    unsigned k = 0;    /* backoff exponent */
    bool fresh = true; /* next attempt is the first since start/enable */
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        if (!c->enabled) {
            if (c->st.state != CAP_DISABLED) log_info("capture", "camera %s: disabled", c->name);
            set_state_locked(c, CAP_DISABLED);
            c->st.ended = 0;
            c->st.failures = 0;
            fresh = true;
            k = 0;
            while (!c->stop && !c->enabled) pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        if (c->st.ended) { /* a non-looping file is done: wait for a re-enable or stop */
            while (!c->stop && c->enabled) pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        if (fresh) set_state_locked(c, CAP_CONNECTING);
        pthread_mutex_unlock(&c->mu);

        struct session_result r;
        run_session(c, &r);

        pthread_mutex_lock(&c->mu);
        if (c->stop) break;
        if (!c->enabled) continue;
        fresh = false;
        set_error_locked(c, r.reason);
        if (r.ended) {
            c->st.ended = 1;
            set_state_locked(c, CAP_RECONNECTING);
            pthread_mutex_unlock(&c->mu);
            log_info("capture", "camera %s (%s): %s; not looping, stays ended", c->name, c->url_safe, c->st.last_error);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        if (r.stable) {
            k = 0;
            c->st.failures = 0;
        }
        c->st.failures++;
        enum cap_state next = c->st.failures >= (uint32_t)c->error_after ? CAP_ERROR : CAP_RECONNECTING;
        bool escalated = next == CAP_ERROR && c->st.state != CAP_ERROR;
        set_state_locked(c, next);
        int64_t delay = backoff_us(c, k);
        if (k < 31) k++;
        uint32_t fails = c->st.failures;
        char reason[CAP_ERR_MAX];
        memcpy(reason, c->st.last_error, sizeof reason);
        pthread_mutex_unlock(&c->mu);
        if (escalated)
            log_error("capture", "camera %s (%s): %u attempts failed in a row, last: %s; retrying in %.1f s", c->name,
                      c->url_safe, fails, reason, delay / 1e6);
        else if (fails == 1 || next == CAP_RECONNECTING)
            log_warn("capture", "camera %s (%s): %s; reconnecting in %.1f s", c->name, c->url_safe, reason,
                     delay / 1e6);
        else log_debug("capture", "camera %s (%s): %s; retrying in %.1f s", c->name, c->url_safe, reason, delay / 1e6);
        pthread_mutex_lock(&c->mu);
        wait_locked(c, delay);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- control and status ----------------------------------------------------------------- */

att_err cap_camera_start(cap_camera *c, char *err, size_t errlen)
{
    if (!c) return att_fail(ATT_E_INVALID, err, errlen, "cap_camera_start: no camera");
    if (c->started) {
        if (err && errlen) snprintf(err, errlen, "camera already started");
        return ATT_E_CONFLICT;
    }
    int rc = pthread_create(&c->thread, NULL, camera_main, c);
    if (rc != 0) {
        if (err && errlen) snprintf(err, errlen, "cannot start the capture thread: %s", strerror(rc));
        return ATT_E_INTERNAL;
    }
    c->started = true;
    return ATT_OK;
}

void cap_camera_stop(cap_camera *c)
{
    if (!c) return;
    att_time_cond_raise(&c->mu, &c->cv, &c->stop);
}

void cap_camera_free(cap_camera *c)
{
    if (!c) return;
    cap_camera_stop(c);
    if (c->started) pthread_join(c->thread, NULL);
    cap_lane_free(c->lane);
    cap_frame_free(c->latest);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->url);
    free(c);
}

att_err cap_camera_set_enabled(cap_camera *c, int enabled)
{
    if (!c) return ATT_E_INVALID;
    pthread_mutex_lock(&c->mu);
    c->enabled = enabled != 0;
    if (!c->started) c->st.state = c->enabled ? CAP_CONNECTING : CAP_DISABLED;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return ATT_OK;
}

att_err cap_camera_set_analysis_fps(cap_camera *c, double fps)
{
    if (!c || !fps_ok(fps)) return ATT_E_INVALID;
    pthread_mutex_lock(&c->mu);
    c->analysis_fps = fps;
    pthread_mutex_unlock(&c->mu);
    return ATT_OK;
}

att_err cap_camera_set_roi(cap_camera *c, const struct camera_roi *roi)
{
    if (!c || (roi && !roi_ok(roi))) return ATT_E_INVALID;
    pthread_mutex_lock(&c->mu);
    c->has_roi = roi != NULL;
    if (roi) c->roi = *roi;
    pthread_mutex_unlock(&c->mu);
    return ATT_OK;
}

att_err cap_camera_latest_frame(cap_camera *c, cap_frame **out)
{
    if (!c || !out) return ATT_E_INVALID;
    pthread_mutex_lock(&c->mu);
    *out = c->latest ? cap_frame_ref(c->latest) : NULL;
    pthread_mutex_unlock(&c->mu);
    return *out ? ATT_OK : ATT_E_UNAVAILABLE;
}

att_err cap_camera_get_status(cap_camera *c, struct cap_status *st)
{
    if (!c || !st) return ATT_E_INVALID;
    pthread_mutex_lock(&c->mu);
    *st = c->st;
    if (st->state != CAP_STREAMING) st->input_fps = 0;
    pthread_mutex_unlock(&c->mu);
    if (c->lane) {
        struct cap_queue_stats ls;
        cap_lane_get_stats(c->lane, &ls);
        st->frames_dropped = ls.dropped;
        st->frames_taken = ls.popped;
    }
    return ATT_OK;
}
