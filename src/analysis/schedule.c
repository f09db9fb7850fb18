/* Need-based order of the analysis: ranks each camera's oldest waiting frame by what the camera
 * needs (a track about to decide first, visitors last, idle cameras at the idle rate) and counts
 * the frames lost by cameras that needed them. Its lock is a leaf: the queue calls in under its own
 * lock, so nothing here calls out. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "schedule.h"

struct sched_cam {
    uint64_t tag;
    enum sched_need need;
    uint64_t last_seq;                 /* newest sampled frame that left the lane through us (0 = none yet) */
    bool analysed_once;                /* last_ms and session are set */
    uint32_t session;                  /* capture session of last_ms */
    int64_t last_ms;                   /* stream position of the last frame taken at the idle rate */
    int64_t step_ms;                   /* the camera's sampling interval, as seen */
    int64_t prev_ms;                   /* stream position of the last frame that left through us */
    uint64_t overdue;                  /* idle intervals missed since last_ms, already counted in st.deficit */
    int64_t taken_ms;                  /* stream position of the last frame taken at any rate */
    uint64_t ring[SCHED_WINDOW_TICKS]; /* st.deficit at each of the last ticks */
    uint64_t ticks;                    /* ticks seen (the ring's fill) */
    struct sched_cam_stats st;
};

/* What a pipeline-wide series reads. */
struct sched_series {
    sched *s;
    int kind; /* 0 deficit rate, 1 frames taken, 2 deficit frames */
    enum sched_need need;
};

struct sched {
    pthread_mutex_t mu; /* leaf lock: guards everything below */
    int idle_ms;
    struct sched_cam *cams;
    size_t n, cap;
    struct sched_stats st;
    struct sched_series series[1 + 2 * NEED_COUNT];
};

static const char *const NEED_NAMES[NEED_COUNT] = {"deciding", "new", "visitor", "idle"};

const char *sched_need_name(enum sched_need n) { return n < NEED_COUNT ? NEED_NAMES[n] : "?"; }

enum sched_need sched_need_of(const struct trk_track_info *ti, size_t n, float near_sim, int fresh_max)
{
    enum sched_need need = NEED_IDLE;
    for (size_t i = 0; i < n; i++) {
        const struct trk_track_info *t = &ti[i];
        if (t->decided || t->not_live) continue;
        enum sched_need k = t->best_sim >= near_sim && t->recognitions < fresh_max ? NEED_DECIDING
            : t->lulled                                                            ? NEED_VISITOR
                                                                                   : NEED_NEW;
        if (k < need) need = k;
    }
    return need;
}

att_err sched_new(int idle_ms, sched **out)
{
    *out = NULL;
    if (idle_ms < 0) return ATT_E_INVALID;
    sched *s = calloc(1, sizeof *s);
    if (!s) return ATT_E_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->idle_ms = idle_ms;
    *out = s;
    return ATT_OK;
}

void sched_free(sched *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    free(s->cams);
    free(s);
}

/* The camera's entry, made on first sight (NULL only when out of memory). Lock held. */
static struct sched_cam *cam_of(sched *s, uint64_t tag, bool create)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->cams[i].tag == tag) return &s->cams[i];
    if (!create) return NULL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct sched_cam *c = realloc(s->cams, cap * sizeof *c);
        if (!c) return NULL;
        s->cams = c;
        s->cap = cap;
    }
    struct sched_cam *c = &s->cams[s->n++];
    memset(c, 0, sizeof *c);
    c->tag = tag;
    c->need = NEED_NEW; /* nothing known yet: look */
    c->st.need = NEED_NEW;
    return c;
}

static bool idle_due(const sched *s, const struct sched_cam *c, const cap_frame *f)
{
    return s->idle_ms == 0 || !c->analysed_once || f->session != c->session || f->stream_ms < c->last_ms ||
        f->stream_ms - c->last_ms >= s->idle_ms;
}

/* A camera at the idle rate: count each whole idle interval that passed without an analysed frame
 * (once, whether its frames wait, are dropped or never get a turn). Lock held. */
static void count_overdue(sched *s, struct sched_cam *c, const cap_frame *f)
{
    if (c->need < NEED_VISITOR || s->idle_ms <= 0 || !c->analysed_once || f->session != c->session || c->step_ms <= 0 ||
        f->stream_ms <= c->taken_ms)
        return;
    /* the idle rate as the sampling allows it: the first sampled frame at or past idle_ms after the
     * last frame analysed (at any rate: a camera just back to idle owes nothing yet) */
    int64_t due = (s->idle_ms + c->step_ms - 1) / c->step_ms * c->step_ms;
    uint64_t missed = (uint64_t)((f->stream_ms - c->taken_ms) / due);
    missed = missed ? missed - 1 : 0;
    if (missed > c->overdue) {
        c->st.deficit += missed - c->overdue;
        s->st.deficit[c->need] += missed - c->overdue;
        c->overdue = missed;
    }
}

#define RANK_WAIT_MAX 999999 /* ms of waiting a rank tells apart (~17 min) */
#define LEAD_DECIDING_MS 400 /* a face about to decide is served as if it had waited this much longer */
#define LEAD_VISITOR_MS -300 /* a visitors' camera as if it had waited this much less */

static int rank(void *ud, const cap_frame *f)
{
    sched *s = ud;
    pthread_mutex_lock(&s->mu);
    struct sched_cam *c = cam_of(s, f->tag, true);
    int r = 1; /* out of memory: serve it as a new camera */
    if (c) {
        count_overdue(s, c, f);
        /* one queue for all, the camera served longest ago (in its own stream time) first, a need's
         * lead added to its wait: strict classes would starve someone under overload (new faces
         * behind faces about to decide; idle cameras, whose decided tracks would then expire and
         * decide again), while a pass needs only a few frames. Frames not due are skipped. */
        int64_t lead = 0;
        bool due = true;
        switch (c->need) {
        case NEED_DECIDING: lead = LEAD_DECIDING_MS; break;
        case NEED_NEW: break;
        case NEED_IDLE: due = idle_due(s, c, f); break;
        default: due = idle_due(s, c, f), lead = LEAD_VISITOR_MS; break;
        }
        int64_t wait = (f->stream_ms > c->taken_ms ? f->stream_ms - c->taken_ms : 0) + lead;
        if (!c->analysed_once) wait = RANK_WAIT_MAX; /* never served: first */
        wait = wait < 0 ? 0 : wait > RANK_WAIT_MAX ? RANK_WAIT_MAX : wait;
        r = due ? (int)(RANK_WAIT_MAX - wait) : CAP_RANK_SKIP;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void taken(void *ud, const cap_frame *f, bool skipped)
{
    sched *s = ud;
    pthread_mutex_lock(&s->mu);
    struct sched_cam *c = cam_of(s, f->tag, true);
    if (c) {
        /* what the camera lost: every sampled frame the full lane dropped while it needed all of
         * them; at the idle rate (visitors, nobody in view), each idle interval that passed
         * without an analysed frame */
        uint64_t lost = 0;
        if (f->seq > c->last_seq && c->last_seq && f->stream_ms > c->prev_ms)
            c->step_ms = (f->stream_ms - c->prev_ms) / (int64_t)(f->seq - c->last_seq);
        if (c->need <= NEED_NEW) lost = c->last_seq && f->seq > c->last_seq + 1 ? f->seq - c->last_seq - 1 : 0;
        else count_overdue(s, c, f);
        if (lost) {
            c->st.deficit += lost;
            s->st.deficit[c->need] += lost;
        }
        if (f->seq > c->last_seq) {
            c->last_seq = f->seq;
            c->prev_ms = f->stream_ms;
        }
        if (skipped) {
            c->st.skipped++;
            s->st.skipped++;
        } else {
            c->st.taken++;
            s->st.taken[c->need]++;
            c->taken_ms = f->stream_ms;
            c->overdue = 0;
            /* the idle clock runs from the last frame taken at the idle rate: after a busy spell the
             * first idle frame is due at once */
            if (c->need >= NEED_VISITOR || !c->analysed_once || f->session != c->session) {
                c->analysed_once = true;
                c->session = f->session;
                c->last_ms = f->stream_ms;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
}

void sched_ranker(sched *s, struct cap_ranker *out) { *out = (struct cap_ranker){rank, taken, s}; }

void sched_set_need(sched *s, uint64_t tag, enum sched_need need)
{
    pthread_mutex_lock(&s->mu);
    struct sched_cam *c = cam_of(s, tag, true);
    if (c) c->need = c->st.need = need;
    pthread_mutex_unlock(&s->mu);
}

void sched_tick(sched *s)
{
    pthread_mutex_lock(&s->mu);
    double total = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct sched_cam *c = &s->cams[i];
        size_t at = c->ticks % SCHED_WINDOW_TICKS;
        /* the oldest sample in the ring (before it is overwritten): window ticks ago, or the first */
        uint64_t old = c->ticks >= SCHED_WINDOW_TICKS ? c->ring[at] : c->ticks ? c->ring[0] : c->st.deficit;
        double span = c->ticks >= SCHED_WINDOW_TICKS ? SCHED_WINDOW_TICKS : c->ticks ? (double)c->ticks : 1;
        c->ring[at] = c->st.deficit;
        c->ticks++;
        c->st.deficit_fps = (double)(c->st.deficit - old) / span;
        total += c->st.deficit_fps;
    }
    s->st.deficit_fps = total;
    pthread_mutex_unlock(&s->mu);
}

static double series_read(void *ud)
{
    struct sched_series *r = ud;
    pthread_mutex_lock(&r->s->mu);
    double v = r->kind == 0 ? r->s->st.deficit_fps
        : r->kind == 1      ? (double)r->s->st.taken[r->need]
                            : (double)r->s->st.deficit[r->need];
    pthread_mutex_unlock(&r->s->mu);
    return v;
}

void sched_metrics(sched *s, metrics *m, metric **out, size_t *n)
{
    if (!m) return;
    size_t k = 0;
    s->series[k] = (struct sched_series){s, 0, NEED_IDLE};
    metric *x;
    if (metrics_callback(m, METRIC_GAUGE, "attendd_analysis_deficit",
                         "Sampled frames per second the analysis fell short by (lost by cameras that needed more than "
                         "the idle rate), all cameras, over the last 10 s: above 0, add an analysis instance",
                         NULL, series_read, &s->series[k], &x) == ATT_OK)
        out[(*n)++] = x;
    else log_warn("pipeline", "metric attendd_analysis_deficit not registered");
    k++;
    for (int kind = 1; kind <= 2; kind++)
        for (int need = 0; need < NEED_COUNT; need++, k++) {
            s->series[k] = (struct sched_series){s, kind, (enum sched_need)need};
            const char *lb[] = {"need", NEED_NAMES[need], NULL};
            const char *name = kind == 1 ? "attendd_analysis_frames_total" : "attendd_analysis_deficit_frames_total";
            const char *help = kind == 1 ? "Sampled frames handed to the analysis workers, by what their camera needed"
                                         : "Sampled frames lost (dropped unanalysed) by cameras that needed more than "
                                           "the idle rate, by what the camera needed";
            if (metrics_callback(m, METRIC_COUNTER, name, help, lb, series_read, &s->series[k], &x) == ATT_OK)
                out[(*n)++] = x;
            else log_warn("pipeline", "metric %s{need=\"%s\"} not registered", name, NEED_NAMES[need]);
        }
}

void sched_forget(sched *s, uint64_t tag)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++)
        if (s->cams[i].tag == tag) {
            s->cams[i] = s->cams[--s->n];
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

att_err sched_cam_stats(sched *s, uint64_t tag, struct sched_cam_stats *out)
{
    pthread_mutex_lock(&s->mu);
    struct sched_cam *c = cam_of(s, tag, false);
    if (c) *out = c->st;
    pthread_mutex_unlock(&s->mu);
    return c ? ATT_OK : ATT_E_NOT_FOUND;
}

void sched_get_stats(sched *s, struct sched_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}
