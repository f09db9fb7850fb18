/* Capture (src/capture/): URL validation and redaction, the fair drop-oldest queue, file sources
 * in real time, RTSP from a real server that is stopped and restarted, and dead URLs. */
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attendd/capture.h"
#include "support.h"
#include "support_rtsp.h"

/* ---- URLs ----------------------------------------------------------------------------------- */

START_TEST(url_validate_accepts)
{
    static const struct {
        const char *url;
        enum cap_source_kind kind;
    } ok[] = {
        {"rtsp://127.0.0.1:8554/cam", CAP_SRC_RTSP},
        {"rtsp://admin:p%40ss@cam-3.ward.local/Streaming/Channels/101", CAP_SRC_RTSP},
        {"RTSP://cam/stream?channel=1&subtype=0", CAP_SRC_RTSP},
        {"rtsps://[::1]:322/x", CAP_SRC_RTSP},
        {"rtsp://host", CAP_SRC_RTSP},
        {"/srv/clips/shift change.mp4", CAP_SRC_FILE},
        {"/dev/video0", CAP_SRC_V4L2},
        {"/dev/video12", CAP_SRC_V4L2},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        enum cap_source_kind k = 0;
        char err[160];
        ck_assert_msg(cap_url_validate(ok[i].url, &k, err, sizeof err) == ATT_OK, "%s: %s", ok[i].url, err);
        ck_assert_int_eq(k, ok[i].kind);
    }
}
END_TEST

START_TEST(url_validate_rejects)
{
    static const char *const bad[] = {
        "http://user:hunter2@cam/x",
        "https://cam/x",
        "rtmp://cam/live",
        "file:///srv/a.mp4",
        "",
        "relative/clip.mp4",
        "clip.mp4",
        "rtsp://",
        "rtsp:///path",
        "rtsp://:554/x",
        "rtsp://user:hunter2@/x",
        "rtsp://host:0/",
        "rtsp://host:99999/",
        "rtsp://host:12ab/",
        "rtsp://ho st/x",
        "rtsp://host/x\n",
        "rtsp://host/\x01x",
        "/srv/a\x7f.mp4",
        "/dev/sda",
        "/dev/video",
        "/dev/videoX",
        "/srv/clips/",
        "rtsp://[zz::1]/x",
        "rtsp://ho$t/x",
        "javascript:alert(1)",
        "rtsp://user:hunter2@host:bad/x",
        "/tmp/../dev/sda",
        "/srv/./a.mp4",
        "//dev/sda",
        "/srv/clips/..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[160] = "";
        ck_assert_msg(cap_url_validate(bad[i], NULL, err, sizeof err) == ATT_E_INVALID, "accepted bad url #%zu", i);
        ck_assert_msg(err[0] != '\0', "no reason for bad url #%zu", i);
        ck_assert_msg(!strstr(err, "hunter2"), "reason repeats a password: %s", err);
    }
    char err[160];
    ck_assert_int_eq(cap_url_validate(NULL, NULL, err, sizeof err), ATT_E_INVALID);
    char *huge = malloc(CAP_URL_MAX + 16);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'a', CAP_URL_MAX + 15);
    memcpy(huge, "rtsp://", 7);
    huge[CAP_URL_MAX + 15] = '\0';
    ck_assert_int_eq(cap_url_validate(huge, NULL, err, sizeof err), ATT_E_INVALID);
    free(huge);
    /* the scheme is named, the rest of the URL is not */
    cap_url_validate("http://user:hunter2@cam/x", NULL, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "'http'"));
}
END_TEST

/* The one URL model: whatever cap_url_parse accepts, cap_url_redact and cap_text_redact mask the
 * password of (each URL below hides "S3c" where a naive parser would not look), and the two forms
 * that once leaked ('#' or '?' inside the password) are refused. */
START_TEST(url_model_validator_and_redactor_agree)
{
    static const char *const urls[] = {
        "rtsp://admin:12345#S3cret@10.0.0.7/live",
        "rtsp://admin:554?pw=S3cret@10.0.0.7/live",
        "rtsp://admin:S3cret@10.0.0.7/live",
        "rtsp://admin:S3c%40ret@10.0.0.7/live",
        "rtsp://admin:S3c%3Aret@10.0.0.7/x",
        "rtsp://:S3cret@10.0.0.7/x",
        "rtsp://admin:S3c/ret@10.0.0.7/x",
        "rtsp://admin:S3c@ret@10.0.0.7/x",
        "rtsp://admin:S3cret@[fd00::7]:554/x",
        "rtsp://[::1]:S3cret@h/x",
        "rtsp://h/x?p=S3cret",
        "rtsp://h/x?u=a&pw=S3cret",
        "rtsp://h/x?P%57=S3cret",
        "rtsp://h/x;auth=S3cret",
        "rtsp://h/user=admin_password=S3cret_channel=1",
        "rtsp://a:S3cret@h/x?n=rtsp://u:S3cret@i/",
        "rtsp://admin:S3cret\"@h/x",
        "rtsp://admin:S3c%zzret@h/x",
        "rtsp://admin:S3cret@h:9@other/x",
        "rtsp://h/x?token=S3cret#f",
        "RTSPS://admin:S3cret@h/x",
    };
    size_t ok = 0;
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        char err[256] = "", out[512], text[600];
        att_err e = cap_url_validate(urls[i], NULL, err, sizeof err);
        ck_assert_msg(!strstr(err, "S3c"), "reason repeats the password: %s", err);
        if (e != ATT_OK) continue;
        ok++;
        ck_assert_int_eq(cap_url_redact(urls[i], out, sizeof out), ATT_OK);
        ck_assert_msg(!strstr(out, "S3c"), "accepted %s, redacted to %s", urls[i], out);
        snprintf(text, sizeof text, "opening '%s' failed", urls[i]);
        ck_assert_int_eq(cap_text_redact(text, out, sizeof out), ATT_OK);
        ck_assert_msg(!strstr(out, "S3c"), "accepted %s, text redacted to %s", urls[i], out);
    }
    ck_assert_int_gt(ok, 5);
    char err[256];
    ck_assert_int_eq(cap_url_validate(urls[0], NULL, err, sizeof err), ATT_E_INVALID);
    ck_assert_int_eq(cap_url_validate(urls[1], NULL, err, sizeof err), ATT_E_INVALID);
    /* the split the pre-flight and the network policy use */
    struct cap_url u;
    ck_assert_int_eq(cap_url_parse("rtsp://a%40b:p%3Aw@[fd00::7]:8554/x?y=1", &u, err, sizeof err), ATT_OK);
    ck_assert_str_eq(u.host, "fd00::7");
    ck_assert_str_eq(u.port, "8554");
    ck_assert_int_eq(u.userinfo_len, strlen("a%40b:p%3Aw"));
    ck_assert_int_eq(cap_url_parse("rtsps://cam.local/x", &u, err, sizeof err), ATT_OK);
    ck_assert_str_eq(u.host, "cam.local");
    ck_assert_str_eq(u.port, "322");
}
END_TEST

START_TEST(url_redact_masks_credentials)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"rtsp://admin:hunter2@10.0.0.7:554/live", "rtsp://***@10.0.0.7:554/live"},
        {"rtsp://admin@10.0.0.7/live", "rtsp://***@10.0.0.7/live"},
        {"rtsp://10.0.0.7/live", "rtsp://10.0.0.7/live"},
        {"rtsp://u:pa/ss@host/x", "rtsp://***@host/x"}, /* unescaped '/' in password */
        {"rtsp://u:p@ss@host/x", "rtsp://***@host/x"},  /* unescaped '@' in password */
        {"rtsp://host/x?channel=1&password=hunter2&user=bob", "rtsp://host/x?channel=1&password=***&user=***"},
        {"rtsps://h/x?token=abc#frag", "rtsps://h/x?token=***#frag"},
        {"/srv/clips/a.mp4", "/srv/clips/a.mp4"},
        {"", ""},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(cap_url_redact(cases[i].in, out, sizeof out), ATT_OK);
        ck_assert_str_eq(out, cases[i].out);
    }
    /* a short buffer cuts the masked text, never exposes the password */
    for (size_t n = 1; n < 40; n++) {
        char small[40];
        att_err e = cap_url_redact("rtsp://admin:hunter2@10.0.0.7:554/live", small, n);
        ck_assert(e == ATT_OK || e == ATT_E_TOO_LARGE);
        ck_assert_uint_lt(strlen(small), n);
        ck_assert(!strstr(small, "hunter") && !strstr(small, "admin"));
    }
    ck_assert_int_eq(cap_url_redact(NULL, out, sizeof out), ATT_E_INVALID);

    ck_assert_int_eq(cap_text_redact("Connection to rtsp://admin:hunter2@10.0.0.7/x failed; retry "
                                     "'rtsps://u:p@h/y' now",
                                     out, sizeof out),
                     ATT_OK);
    ck_assert_str_eq(out, "Connection to rtsp://***@10.0.0.7/x failed; retry 'rtsps://***@h/y' now");
    ck_assert_int_eq(cap_text_redact("tcp://127.0.0.1:1?timeout=0 refused", out, sizeof out), ATT_OK);
    ck_assert_str_eq(out, "tcp://127.0.0.1:1?timeout=0 refused");
}
END_TEST

/* ---- queue ---------------------------------------------------------------------------------- */

static cap_frame *tiny(uint64_t seq, uint64_t tag)
{
    cap_frame *f = NULL;
    ck_assert_int_eq(cap_frame_new(4, 2, &f), ATT_OK);
    f->seq = seq;
    f->tag = tag;
    memset(f->bgr, (int)(seq & 0xff), f->stride * (size_t)f->height);
    return f;
}

struct producer {
    cap_lane *lane;
    int n;
    int dropped_seen;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 1; i <= p->n; i++) {
        int d = 0;
        ck_assert_int_eq(cap_queue_push(p->lane, tiny((uint64_t)i, 1), &d), ATT_OK);
        p->dropped_seen += d;
        ts_sleep_ms(1);
    }
    return NULL;
}

START_TEST(queue_drop_oldest_slow_consumer)
{
    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(3, &q), ATT_OK);
    struct producer p = {.n = 300};
    ck_assert_int_eq(cap_lane_new(q, &p.lane), ATT_OK);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, produce, &p), 0);

    uint64_t last = 0, popped = 0;
    for (;;) {
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop(q, 200, &f), ATT_OK);
        if (!f) break;                   /* producer done and queue drained */
        ck_assert_uint_gt(f->seq, last); /* order kept, only the oldest are dropped */
        last = f->seq;
        popped++;
        cap_frame_free(f);
        struct cap_queue_stats st;
        cap_queue_get_stats(q, &st);
        ck_assert_uint_eq(st.pushed, st.popped + st.dropped + st.depth);
        ts_sleep_ms(4); /* slow consumer */
    }
    pthread_join(th, NULL);
    struct cap_queue_stats st, ls;
    cap_queue_get_stats(q, &st);
    cap_lane_get_stats(p.lane, &ls);
    ck_assert_uint_eq(st.pushed, 300);
    ck_assert_uint_eq(st.popped, popped);
    ck_assert_uint_eq(st.depth, 0);
    ck_assert_uint_eq(st.pushed, st.popped + st.dropped + st.depth); /* in = popped + dropped + left */
    ck_assert_uint_gt(st.dropped, 50);                               /* the consumer was slow */
    ck_assert_uint_eq(st.dropped, (uint64_t)p.dropped_seen);
    ck_assert_uint_eq(ls.dropped, st.dropped);
    ck_assert_uint_eq(last, 300); /* the newest frame is never the one dropped */
    cap_lane_free(p.lane);
    cap_queue_free(q);
}
END_TEST

START_TEST(queue_round_robin_no_starvation)
{
    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_lane *busy = NULL, *quiet = NULL, *third = NULL;
    ck_assert_int_eq(cap_lane_new(q, &busy), ATT_OK);
    ck_assert_int_eq(cap_lane_new(q, &quiet), ATT_OK);
    for (int i = 1; i <= 50; i++) cap_queue_push(busy, tiny((uint64_t)i, 1), NULL);
    cap_queue_push(quiet, tiny(1, 2), NULL);
    /* the busy camera only pushed out its own frames */
    struct cap_queue_stats bs, qs;
    cap_lane_get_stats(busy, &bs);
    cap_lane_get_stats(quiet, &qs);
    ck_assert_uint_eq(bs.dropped, 48);
    ck_assert_uint_eq(qs.dropped, 0);
    ck_assert_uint_eq(bs.depth, 2);
    /* the quiet camera's frame is served within one round */
    cap_frame *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(cap_queue_pop(q, 0, &a), ATT_OK);
    ck_assert_int_eq(cap_queue_pop(q, 0, &b), ATT_OK);
    ck_assert_int_eq(cap_queue_pop(q, 0, &c), ATT_OK);
    ck_assert(a && b && c);
    ck_assert_uint_ne(a->tag, b->tag);
    ck_assert_uint_eq(a->tag + b->tag, 3);
    ck_assert_uint_eq(c->tag, 1);
    cap_frame_free(a);
    cap_frame_free(b);
    cap_frame_free(c);
    /* lanes added and removed while frames wait */
    ck_assert_int_eq(cap_lane_new(q, &third), ATT_OK);
    for (int i = 0; i < 3; i++) cap_queue_push(third, tiny((uint64_t)i, 3), NULL);
    cap_queue_push(busy, tiny(99, 1), NULL);
    cap_lane_free(quiet);
    int seen1 = 0, seen3 = 0;
    cap_frame *f;
    while (cap_queue_pop(q, 0, &f) == ATT_OK && f) {
        seen1 += f->tag == 1;
        seen3 += f->tag == 3;
        cap_frame_free(f);
    }
    ck_assert_int_eq(seen1, 1);
    ck_assert_int_eq(seen3, 2);
    /* frames left in a lane that goes are discarded, not leaked (ASan checks) */
    cap_queue_push(third, tiny(7, 3), NULL);
    cap_lane_free(third);
    struct cap_queue_stats st;
    cap_queue_get_stats(q, &st);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.lanes, 1);
    ck_assert_uint_eq(st.pushed, st.popped + st.dropped + st.discarded + st.depth);
    /* the owner may free the queue before the last lane: it lives until the lane goes */
    cap_queue_free(q);
    ck_assert_int_eq(cap_queue_push(busy, tiny(100, 1), NULL), ATT_E_UNAVAILABLE);
    cap_lane_free(busy);
}
END_TEST

START_TEST(queue_timeout_close_and_refs)
{
    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(0, &q), ATT_E_INVALID);
    ck_assert_int_eq(cap_queue_new(65, &q), ATT_E_INVALID);
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_lane *l = NULL;
    ck_assert_int_eq(cap_lane_new(q, &l), ATT_OK);
    long long t0 = ts_now_ms();
    cap_frame *f = (cap_frame *)1;
    ck_assert_int_eq(cap_queue_pop(q, 150, &f), ATT_OK);
    ck_assert_ptr_null(f);
    ck_assert_int_ge(ts_now_ms() - t0, 140);
    /* a frame kept past the queue (ref) survives the consumer's free */
    cap_frame *kept = tiny(5, 1);
    cap_frame_ref(kept);
    cap_queue_push(l, kept, NULL);
    ck_assert_int_eq(cap_queue_pop(q, 0, &f), ATT_OK);
    ck_assert_ptr_eq(f, kept);
    cap_frame_free(f);
    ck_assert_uint_eq(kept->seq, 5);
    ck_assert_uint_eq(kept->bgr[0], 5);
    cap_frame_free(kept);
    /* close: what is queued still comes out, then "unavailable" */
    cap_queue_push(l, tiny(6, 1), NULL);
    cap_queue_close(q);
    ck_assert_int_eq(cap_queue_pop(q, -1, &f), ATT_OK);
    ck_assert_uint_eq(f->seq, 6);
    cap_frame_free(f);
    ck_assert_int_eq(cap_queue_pop(q, -1, &f), ATT_E_UNAVAILABLE);
    ck_assert_int_eq(cap_queue_push(l, tiny(7, 1), NULL), ATT_E_UNAVAILABLE);
    cap_lane_free(l);
    cap_queue_free(q);
    ck_assert_int_eq(cap_frame_new(0, 10, &f), ATT_E_INVALID);
}
END_TEST

/* ---- cameras: helpers -------------------------------------------------------------------------- */

static struct cap_status status(cap_camera *c)
{
    struct cap_status st;
    ck_assert_int_eq(cap_camera_get_status(c, &st), ATT_OK);
    return st;
}

/* Poll until the camera is in state want (and, if ended >= 0, ended matches); ms waited or -1. */
static long long wait_state(cap_camera *c, enum cap_state want, int ended, int timeout_ms)
{
    long long t0 = ts_now_ms();
    for (;;) {
        struct cap_status st = status(c);
        if (st.state == want && (ended < 0 || st.ended == ended)) return ts_now_ms() - t0;
        if (ts_now_ms() - t0 > timeout_ms) return -1;
        ts_sleep_ms(20);
    }
}

/* A camera's tag in these tests: FNV-1a of its name. */
static uint64_t tag_of(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

static cap_camera *mk_camera(const char *url, const char *name, double fps, cap_frame_queue *q,
                             void (*tweak)(struct cap_camera_cfg *))
{
    static int init_done;
    if (!init_done) { /* each test runs in its own process; the first camera comes before threads */
        char err[128];
        ck_assert_msg(cap_global_init(err, sizeof err) == ATT_OK, "cap_global_init: %s", err);
        init_done = 1;
    }
    struct cap_camera_cfg cfg;
    cap_camera_cfg_init(&cfg);
    cfg.url = url;
    cfg.name = name;
    cfg.analysis_fps = fps;
    cfg.tag = tag_of(name);
    memset(cfg.id.b, 0x5a, sizeof cfg.id.b);
    if (tweak) tweak(&cfg);
    cap_camera *c = NULL;
    char err[256];
    ck_assert_msg(cap_camera_new(&cfg, q, &c, err, sizeof err) == ATT_OK, "camera_new: %s", err);
    return c;
}

static void start(cap_camera *c)
{
    char err[256];
    ck_assert_msg(cap_camera_start(c, err, sizeof err) == ATT_OK, "start: %s", err);
}

static char tmpdir[] = "/tmp/attendd-capture-XXXXXX";
static char short_clip[300];

/* A 3-second cut of shift-change.mp4 (stream copy: fast, same codec and timestamps). */
static void make_short_clip(void)
{
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char *src = ts_data_path("video/shift-change.mp4");
    snprintf(short_clip, sizeof short_clip, "%s/short.mp4", tmpdir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execlp("ffmpeg", "ffmpeg", "-v", "error", "-y", "-i", src, "-t", "3", "-c", "copy", "-an", short_clip,
               (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    free(src);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ffmpeg could not cut the clip");
}

static void rm_short_clip(void)
{
    unlink(short_clip);
    rmdir(tmpdir);
}

/* ---- cameras: configuration ------------------------------------------------------------------ */

START_TEST(camera_rejects_bad_config)
{
    struct cap_camera_cfg cfg;
    cap_camera *c = NULL;
    char err[256];
    static const struct {
        const char *url;
        double fps;
        int roi_w;
        const char *field;
    } bad[] = {
        {"http://cam/x", 5, 0, "url:"},          {"", 5, 0, "url:"},
        {"rtsp://h/x", 0.4, 0, "analysis_fps:"}, {"rtsp://h/x", 30.5, 0, "analysis_fps:"},
        {"rtsp://h/x", NAN, 0, "analysis_fps:"}, {"rtsp://h/x", 5, -1, "roi:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cap_camera_cfg_init(&cfg);
        cfg.url = bad[i].url;
        cfg.analysis_fps = bad[i].fps;
        if (bad[i].roi_w) cfg.has_roi = 1, cfg.roi = (struct camera_roi){0, 0, 0, 10};
        ck_assert_int_eq(cap_camera_new(&cfg, NULL, &c, err, sizeof err), ATT_E_INVALID);
        ck_assert_msg(strncmp(err, bad[i].field, strlen(bad[i].field)) == 0, "#%zu: %s", i, err);
        ck_assert_ptr_null(c);
    }
    cap_camera_cfg_init(&cfg);
    cfg.url = "rtsp://h/x";
    cfg.backoff_max_ms = 100; /* below the initial 500 */
    ck_assert_int_eq(cap_camera_new(&cfg, NULL, &c, err, sizeof err), ATT_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "backoff_max_ms"));
    /* a camera never started frees cleanly; setters check their ranges */
    cfg.backoff_max_ms = 8000;
    ck_assert_int_eq(cap_camera_new(&cfg, NULL, &c, err, sizeof err), ATT_OK);
    ck_assert_int_eq(cap_camera_set_analysis_fps(c, 31), ATT_E_INVALID);
    ck_assert_int_eq(cap_camera_set_analysis_fps(c, 0.5), ATT_OK);
    struct camera_roi r = {10, 10, 0, 5};
    ck_assert_int_eq(cap_camera_set_roi(c, &r), ATT_E_INVALID);
    ck_assert_int_eq(cap_camera_set_roi(c, NULL), ATT_OK);
    ck_assert_int_eq(cap_camera_set_enabled(c, 0), ATT_OK);
    ck_assert_int_eq(status(c).state, CAP_DISABLED);
    ck_assert_str_eq(cap_state_name(CAP_RECONNECTING), "reconnecting");
    cap_camera_free(c);
}
END_TEST

/* ---- cameras: files --------------------------------------------------------------------------- */

START_TEST(file_plays_in_real_time_then_ends)
{
    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(32, &q), ATT_OK); /* 3 s at 5 fps fits: nothing dropped */
    cap_camera *c = mk_camera(short_clip, "file", 5, q, NULL);
    start(c);
    long long t_stream = wait_state(c, CAP_STREAMING, -1, 10000);
    ck_assert_int_ge(t_stream, 0);
    long long t0 = ts_now_ms();
    long long t_end = wait_state(c, CAP_RECONNECTING, 1, 20000);
    ck_assert_int_ge(t_end, 0);
    long long played = ts_now_ms() - t0;
    struct cap_status st = status(c);
    /* 3 s of 25 fps, played at its own pace (loose: a slow, shared machine) */
    ck_assert_msg(played >= 2300 && played <= 9000, "played in %lld ms", played);
    ck_assert_msg(st.frames_in >= 70 && st.frames_in <= 80, "frames_in %llu", (unsigned long long)st.frames_in);
    ck_assert_msg(st.frames_sampled >= 13 && st.frames_sampled <= 17, "sampled %llu",
                  (unsigned long long)st.frames_sampled);
    ck_assert_ptr_nonnull(strstr(st.last_error, "end of file"));
    ck_assert_int_eq(st.sessions, 1);
    ck_assert_int_eq(st.width, 1280);
    ck_assert_int_eq(st.height, 720);
    ck_assert(st.input_fps == 0); /* not streaming any more */
    ck_assert_uint_eq(st.frames_dropped, 0);

    cap_frame *f, *first = NULL, *last = NULL;
    int n = 0;
    while (cap_queue_pop(q, 0, &f) == ATT_OK && f) {
        ck_assert_int_eq(f->width, 1280);
        ck_assert_uint_eq(f->camera_id.b[0], 0x5a);
        ck_assert_uint_eq(f->session, 1);
        ck_assert_uint_eq(f->seq, (uint64_t)n + 1);
        if (last) {
            long long step = f->stream_ms - last->stream_ms;
            ck_assert_msg(step >= 160 && step <= 240, "sample step %lld ms", step); /* 5 fps */
            ck_assert_int_gt(f->wall_us, last->wall_us);
            cap_frame_free(last);
        } else {
            first = cap_frame_ref(f);
            ck_assert_int_eq(f->stream_ms, 0);
            ck_assert_uint_eq(f->frame_no, 0);
        }
        last = f;
        n++;
    }
    ck_assert_ptr_nonnull(last);
    /* real time: wall clock between samples follows the stream position */
    long long wall_ms = (last->wall_us - first->wall_us) / 1000;
    long long stream = last->stream_ms - first->stream_ms;
    ck_assert_msg(stream >= 2500 && llabs(wall_ms - stream) < 700, "stream %lld ms over %lld ms wall", stream, wall_ms);
    cap_frame_free(first);
    cap_frame_free(last);
    /* ended stays ended: no replay */
    ts_sleep_ms(1000);
    ck_assert_uint_eq(status(c).frames_in, st.frames_in);
    /* disable + enable replays it (session 2) */
    cap_camera_set_enabled(c, 0);
    ck_assert_int_ge(wait_state(c, CAP_DISABLED, -1, 3000), 0);
    cap_camera_set_enabled(c, 1);
    ck_assert_int_ge(wait_state(c, CAP_STREAMING, -1, 5000), 0);
    ck_assert_int_eq(status(c).sessions, 2);
    cap_camera_free(c);
    cap_queue_free(q);
}
END_TEST

static void set_loop(struct cap_camera_cfg *cfg) { cfg->loop = 1; }

START_TEST(file_loops_with_a_continuous_clock)
{
    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(4, &q), ATT_OK);
    cap_camera *c = mk_camera(short_clip, "loop", 10, q, set_loop);
    start(c);
    ck_assert_int_ge(wait_state(c, CAP_STREAMING, -1, 10000), 0);
    long long t0 = ts_now_ms();
    int64_t last_ms = -1;
    while (last_ms < 4500) {
        ck_assert_msg(ts_now_ms() - t0 < 15000, "the loop did not get past 4.5 s of stream");
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop(q, 3000, &f), ATT_OK);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_gt(f->stream_ms, last_ms);
        if (last_ms >= 0) ck_assert_int_le(f->stream_ms - last_ms, 250); /* 10 fps, no gap at the seam */
        ck_assert_uint_eq(f->session, 1);
        last_ms = f->stream_ms;
        cap_frame_free(f);
    }
    struct cap_status st = status(c);
    ck_assert_int_eq(st.state, CAP_STREAMING);
    ck_assert_int_eq(st.sessions, 1);
    ck_assert_str_eq(st.last_error, "");
    cap_camera_free(c);
    cap_queue_free(q);
}
END_TEST

static void fast_retry(struct cap_camera_cfg *cfg)
{
    cfg->backoff_initial_ms = 50;
    cfg->backoff_max_ms = 200;
    cfg->error_after = 3;
    cfg->open_timeout_ms = 1000;
    cfg->read_timeout_ms = 1000;
}

START_TEST(file_missing_goes_to_error_with_reason)
{
    cap_camera *c = mk_camera("/nonexistent/attendd/clip.mp4", "missing", 5, NULL, fast_retry);
    ck_assert_int_eq(status(c).state, CAP_CONNECTING);
    start(c);
    ck_assert_int_ge(wait_state(c, CAP_ERROR, -1, 10000), 0);
    struct cap_status st = status(c);
    ck_assert_msg(strstr(st.last_error, "No such file"), "last_error: %s", st.last_error);
    ck_assert_uint_ge(st.failures, 3);
    ck_assert_int_eq(st.sessions, 0);
    ck_assert_int_gt(st.last_error_wall_us, 0);
    cap_camera_free(c);
}
END_TEST

START_TEST(decode_only_camera)
{
    cap_camera *c = mk_camera(short_clip, "decode-only", 5, NULL, set_loop);
    start(c);
    ck_assert_int_ge(wait_state(c, CAP_STREAMING, -1, 10000), 0);
    ts_sleep_ms(2500); /* input_fps skips the first 1 s window */
    struct cap_status st = status(c);
    ck_assert_uint_gt(st.frames_in, 40);
    ck_assert_uint_eq(st.frames_sampled, 0);
    ck_assert_msg(st.input_fps > 12 && st.input_fps < 40, "input fps %.1f", st.input_fps);
    cap_camera_free(c);
}
END_TEST

/* ---- cameras: RTSP ---------------------------------------------------------------------------- */

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
        (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void rtsp_timeouts(struct cap_camera_cfg *cfg)
{
    cfg->open_timeout_ms = 5000;
    cfg->read_timeout_ms = 3000;
}

START_TEST(rtsp_streams_survives_server_restart)
{
    char *clip = ts_data_path("video/shift-change.mp4");
    struct ts_rtsp srv;
    ck_assert_int_eq(ts_rtsp_start(&srv, clip, 0, 0), 0);
    free(clip);
    char url[128];
    ts_rtsp_url(&srv, 0, url, sizeof url);

    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(4, &q), ATT_OK);
    cap_camera *c = mk_camera(url, "ward-3", 5, q, rtsp_timeouts);
    ck_assert_int_eq(status(c).state, CAP_CONNECTING);
    start(c);
    long long t_conn = wait_state(c, CAP_STREAMING, -1, 15000);
    ck_assert_msg(t_conn >= 0, "not streaming: %s", status(c).last_error);

    /* frames arrive with increasing stream positions from the first frame of the stream */
    int64_t prev = -1;
    for (int i = 0; i < 10; i++) {
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop(q, 5000, &f), ATT_OK);
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(f->session, 1);
        ck_assert_int_gt(f->stream_ms, prev);
        if (i == 0) ck_assert_int_lt(f->stream_ms, 1000);
        ck_assert_int_eq(f->width, 1280);
        prev = f->stream_ms;
        cap_frame_free(f);
    }
    /* decode cost: this process only decodes (the server is another process) */
    struct cap_status a = status(c);
    double cpu0 = cpu_ms();
    long long w0 = ts_now_ms();
    ts_sleep_ms(4000);
    struct cap_status b = status(c);
    double cpu = cpu_ms() - cpu0;
    uint64_t frames = b.frames_in - a.frames_in;
    ck_assert_msg(b.input_fps > 15 && b.input_fps < 40, "input fps %.1f", b.input_fps);
    ck_assert_uint_gt(frames, 60);
    fprintf(stderr,
            "capture: RTSP 720p25: %.1f fps in, %.2f ms CPU per decoded frame (5 fps converted "
            "to BGR), %.0f%% of a core, %llu sampled frames dropped by the idle consumer\n",
            frames * 1000.0 / (double)(ts_now_ms() - w0), cpu / (double)frames,
            cpu / (double)(ts_now_ms() - w0) * 100.0, (unsigned long long)b.frames_dropped);
    ck_assert_uint_gt(b.frames_dropped, 0); /* nobody popped for 4 s: lane of 4 dropped the oldest */

    /* the server goes away mid-stream */
    ck_assert_int_eq(ts_rtsp_stop(&srv), 0);
    long long t_lost = wait_state(c, CAP_RECONNECTING, -1, 10000);
    struct cap_status st = status(c);
    ck_assert_msg(t_lost >= 0, "state %s", cap_state_name(st.state));
    ck_assert_msg(st.last_error[0], "no reason given");
    fprintf(stderr, "capture: server stopped -> reconnecting in %lld ms: %s\n", t_lost, st.last_error);
    ts_sleep_ms(2000); /* a few refused attempts */
    st = status(c);
    ck_assert(st.state == CAP_RECONNECTING || st.state == CAP_ERROR);
    ck_assert_uint_ge(st.failures, 2);

    /* it comes back on the same port: streaming again within 10 s */
    ck_assert_int_eq(ts_rtsp_restart(&srv), 0);
    long long t_back = wait_state(c, CAP_STREAMING, -1, 10000);
    ck_assert_msg(t_back >= 0, "not streaming 10 s after the server returned: %s", status(c).last_error);
    fprintf(stderr, "capture: server back -> streaming in %lld ms\n", t_back);
    ck_assert_int_eq(status(c).sessions, 2);
    /* session 2 starts its stream clock again from its own first frame */
    for (;;) {
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop(q, 5000, &f), ATT_OK);
        ck_assert_ptr_nonnull(f);
        uint32_t s = f->session;
        int64_t ms = f->stream_ms;
        cap_frame_free(f);
        if (s == 2) {
            ck_assert_int_lt(ms, 3000);
            break;
        }
    }
    cap_camera_free(c);
    cap_queue_free(q);
    ts_rtsp_stop(&srv);
}
END_TEST

static void stall_timeouts(struct cap_camera_cfg *cfg)
{
    cfg->open_timeout_ms = 2000;
    cfg->read_timeout_ms = 1500;
}

/* A server that keeps the connection but stops sending (SIGSTOP) is a stall: the read timeout
 * ends the session, and the camera is back once the server runs again. */
START_TEST(rtsp_stall_detected_by_read_timeout)
{
    char *clip = ts_data_path("video/shift-change.mp4");
    struct ts_rtsp srv;
    ck_assert_int_eq(ts_rtsp_start(&srv, clip, 0, 0), 0);
    free(clip);
    char url[128];
    ts_rtsp_url(&srv, 0, url, sizeof url);
    cap_camera *c = mk_camera(url, "stall", 5, NULL, stall_timeouts);
    start(c);
    ck_assert_int_ge(wait_state(c, CAP_STREAMING, -1, 15000), 0);
    ts_sleep_ms(1000);
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    long long t = wait_state(c, CAP_RECONNECTING, -1, 8000);
    struct cap_status st = status(c);
    ck_assert_msg(t >= 0, "state %s after the stall", cap_state_name(st.state));
    ck_assert_msg(strstr(st.last_error, "stalled"), "last_error: %s", st.last_error);
    fprintf(stderr, "capture: stall -> reconnecting in %lld ms: %s\n", t, st.last_error);
    ts_sleep_ms(1000);
    ck_assert_int_eq(kill(srv.pid, SIGCONT), 0);
    ck_assert_msg(wait_state(c, CAP_STREAMING, -1, 10000) >= 0, "not back: %s", status(c).last_error);
    ck_assert_uint_ge(status(c).sessions, 2);
    cap_camera_free(c);
    ts_rtsp_stop(&srv);
}
END_TEST

/* --once: the second client is refused with 404, and FFmpeg's reason reaches last_error. */
START_TEST(rtsp_once_serves_one_client)
{
    char *clip = ts_data_path("video/shift-change.mp4");
    struct ts_rtsp srv;
    ck_assert_int_eq(ts_rtsp_start_once(&srv, clip, 0, 0), 0);
    free(clip);
    char url[128];
    ts_rtsp_url(&srv, 0, url, sizeof url);
    cap_camera *a = mk_camera(url, "first", 5, NULL, stall_timeouts);
    start(a);
    ck_assert_int_ge(wait_state(a, CAP_STREAMING, -1, 15000), 0);
    ts_sleep_ms(500);
    cap_camera *b = mk_camera(url, "second", 5, NULL, stall_timeouts);
    start(b);
    ck_assert_int_ge(wait_state(b, CAP_RECONNECTING, -1, 10000), 0);
    struct cap_status st = status(b);
    ck_assert_msg(strstr(st.last_error, "404"), "last_error: %s", st.last_error);
    ck_assert_int_eq(status(a).state, CAP_STREAMING);
    cap_camera_stop(a);
    cap_camera_stop(b);
    cap_camera_free(a);
    cap_camera_free(b);
    ts_rtsp_stop(&srv);
}
END_TEST

static void dead_timeouts(struct cap_camera_cfg *cfg)
{
    /* long enough that a camera blocked behind OpenCV's global open lock would notice */
    cfg->open_timeout_ms = 6000;
    cfg->read_timeout_ms = 1000;
    cfg->backoff_initial_ms = 100;
    cfg->backoff_max_ms = 400;
    cfg->error_after = 3;
}

START_TEST(rtsp_dead_urls_do_not_affect_others)
{
    char *clip = ts_data_path("video/shift-change.mp4");
    struct ts_rtsp srv;
    ck_assert_int_eq(ts_rtsp_start(&srv, clip, 0, 0), 0);
    free(clip);
    int refused_port = ts_free_port(), silent_port = 0;
    int silent_fd = ts_silent_listener(&silent_port);
    ck_assert_int_gt(refused_port, 0);
    ck_assert_int_ge(silent_fd, 0);
    char url_ok[128], url_refused[128], url_silent[128];
    ts_rtsp_url(&srv, 0, url_ok, sizeof url_ok);
    snprintf(url_refused, sizeof url_refused, "rtsp://admin:hunter2@127.0.0.1:%d/x", refused_port);
    snprintf(url_silent, sizeof url_silent, "rtsp://127.0.0.1:%d/x", silent_port);

    cap_frame_queue *q = NULL;
    ck_assert_int_eq(cap_queue_new(2, &q), ATT_OK);
    cap_camera *refused = mk_camera(url_refused, "refused", 5, q, dead_timeouts);
    cap_camera *silent = mk_camera(url_silent, "silent", 5, q, dead_timeouts);
    cap_camera *good = mk_camera(url_ok, "good", 5, q, rtsp_timeouts);
    start(refused);
    start(silent);
    ts_sleep_ms(300); /* the silent camera is now inside its 6 s open */
    start(good);
    long long t_good = wait_state(good, CAP_STREAMING, -1, 15000);
    ck_assert_int_ge(t_good, 0);
    fprintf(stderr, "capture: good camera streaming %lld ms after start, beside a silent one\n", t_good);
    ck_assert_msg(t_good < 4500, "the good camera waited %lld ms: blocked by the silent one's open", t_good);

    /* one consumer for all three: the good camera's frames keep coming at its rate */
    uint64_t good_frames = 0, other = 0;
    long long t0 = ts_now_ms();
    while (ts_now_ms() - t0 < 6000) {
        cap_frame *f = NULL;
        ck_assert_int_eq(cap_queue_pop(q, 2000, &f), ATT_OK);
        ck_assert_msg(f != NULL, "no frame for 2 s");
        if (f->tag == tag_of("good")) good_frames++;
        else other++;
        cap_frame_free(f);
    }
    ck_assert_uint_eq(other, 0);
    ck_assert_msg(good_frames >= 20, "good camera delivered %llu frames in 6 s", (unsigned long long)good_frames);
    struct cap_status g = status(good), r = status(refused), s = status(silent);
    ck_assert_int_eq(g.state, CAP_STREAMING);
    ck_assert_msg(g.input_fps > 15, "good camera at %.1f fps", g.input_fps);
    ck_assert_uint_eq(g.frames_dropped, 0);
    ck_assert(r.state == CAP_RECONNECTING || r.state == CAP_ERROR);
    ck_assert(s.state == CAP_RECONNECTING || s.state == CAP_ERROR);
    ck_assert_uint_ge(r.failures, 3);
    ck_assert_uint_ge(s.failures, 1);
    ck_assert_int_eq(r.sessions, 0);
    ck_assert_int_eq(s.sessions, 0);
    /* FFmpeg's "Connection refused" comes from av_strerror(); garbage here means a symbol of
     * ours named av_strerror interposes FFmpeg's (it fills no buffer: uninitialised stack). */
    ck_assert_msg(strstr(r.last_error, "refused"), "refused: %s", r.last_error);
    ck_assert_msg(s.last_error[0], "silent: no reason");
    ck_assert_msg(!strstr(r.last_error, "hunter2"), "password in last_error: %s", r.last_error);
    fprintf(stderr, "capture: refused -> %s [%s]; silent -> %s [%s]\n", cap_state_name(r.state), r.last_error,
            cap_state_name(s.state), s.last_error);

    /* stopping all three is quick even while one is inside a 1 s open */
    long long t_stop = ts_now_ms();
    cap_camera_stop(refused);
    cap_camera_stop(silent);
    cap_camera_stop(good);
    cap_camera_free(refused);
    cap_camera_free(silent);
    cap_camera_free(good);
    ck_assert_int_lt(ts_now_ms() - t_stop, 3000);
    close(silent_fd);
    cap_queue_free(q);
    ts_rtsp_stop(&srv);
}
END_TEST

/* FFmpeg's own error texts ("Connection refused") reach last_error and the log through its
 * av_strerror(); a function of ours with that name would replace it for FFmpeg too (the
 * executable's symbol wins), and FFmpeg would print an uninitialised stack buffer instead. */
START_TEST(ffmpeg_symbols_not_interposed)
{
    void *set_cb = dlsym(RTLD_DEFAULT, "av_log_set_callback");
    ck_assert_msg(set_cb != NULL, "libavutil is not loaded");
    Dl_info info;
    ck_assert(dladdr(set_cb, &info) != 0 && info.dli_fname);
    void *avutil = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(avutil);
    static const char *const names[] = {"av_strerror", "av_log",         "av_malloc",    "av_free",
                                        "av_dict_set", "av_image_alloc", "av_image_copy"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        void *theirs = dlsym(avutil, names[i]);
        void *seen = dlsym(RTLD_DEFAULT, names[i]);
        ck_assert_msg(!theirs || seen == theirs, "%s is defined by attendd and overrides FFmpeg's (%s): rename ours",
                      names[i], info.dli_fname);
    }
    dlclose(avutil);
}
END_TEST

Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    ts_tcase(s, "url", 0, NULL, NULL, url_validate_accepts, url_validate_rejects, url_redact_masks_credentials,
             url_model_validator_and_redactor_agree, NULL);
    ts_tcase(s, "ffmpeg", 0, NULL, NULL, ffmpeg_symbols_not_interposed, NULL);
    ts_tcase(s, "queue", 30, NULL, NULL, queue_drop_oldest_slow_consumer, queue_round_robin_no_starvation,
             queue_timeout_close_and_refs, NULL);
    ts_tcase(s, "file", 60, make_short_clip, rm_short_clip, camera_rejects_bad_config,
             file_plays_in_real_time_then_ends, file_loops_with_a_continuous_clock,
             file_missing_goes_to_error_with_reason, decode_only_camera, NULL);
    ts_tcase(s, "rtsp", 120, NULL, NULL, rtsp_streams_survives_server_restart, rtsp_stall_detected_by_read_timeout,
             rtsp_once_serves_one_client, rtsp_dead_urls_do_not_affect_others, NULL);
    return s;
}
