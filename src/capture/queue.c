/* Refcounted BGR frames and the capture queue: one small drop-oldest lane per camera, served
 * round-robin by cap_queue_pop() (or in the consumer's rank order, round-robin among equals, by
 * cap_queue_pop_ranked()), so no camera pushes out another's frames (see capture.h). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture_internal.h"

#define FRAME_DIM_MAX 16384 /* refuse absurd frame sizes before allocating */
#define FRAME_ALIGN 64      /* pixel rows start cache-line aligned (SIMD-friendly) */
#define LANE_CAP_MAX 64

/* ---- frames ----------------------------------------------------------------------------- */

struct frame_impl {
    cap_frame pub; /* first: a cap_frame * is a struct frame_impl * */
    atomic_uint refs;
};

#define HDR_BYTES ((sizeof(struct frame_impl) + FRAME_ALIGN - 1) / FRAME_ALIGN * FRAME_ALIGN)

cap_frame *cap_frame_alloc(int width, int height)
{
    if (width <= 0 || height <= 0 || width > FRAME_DIM_MAX || height > FRAME_DIM_MAX) return NULL;
    size_t stride = (size_t)width * 3;
    size_t bytes = HDR_BYTES + stride * (size_t)height;
    bytes = (bytes + FRAME_ALIGN - 1) / FRAME_ALIGN * FRAME_ALIGN;
    struct frame_impl *fi = aligned_alloc(FRAME_ALIGN, bytes);
    if (!fi) return NULL;
    memset(fi, 0, sizeof *fi);
    atomic_init(&fi->refs, 1);
    fi->pub.width = width;
    fi->pub.height = height;
    fi->pub.stride = stride;
    fi->pub.bgr = (uint8_t *)fi + HDR_BYTES;
    return &fi->pub;
}

att_err cap_frame_new(int width, int height, cap_frame **out)
{
    if (!out) return ATT_E_INVALID;
    *out = NULL;
    if (width <= 0 || height <= 0 || width > FRAME_DIM_MAX || height > FRAME_DIM_MAX) return ATT_E_INVALID;
    *out = cap_frame_alloc(width, height);
    return *out ? ATT_OK : ATT_E_NOMEM;
}

cap_frame *cap_frame_ref(cap_frame *f)
{
    if (f) atomic_fetch_add_explicit(&((struct frame_impl *)f)->refs, 1, memory_order_relaxed);
    return f;
}

void cap_frame_free(cap_frame *f)
{
    if (!f) return;
    struct frame_impl *fi = (struct frame_impl *)f;
    if (atomic_fetch_sub_explicit(&fi->refs, 1, memory_order_acq_rel) == 1) free(fi);
}

/* ---- queue ------------------------------------------------------------------------------ */

struct cap_lane {
    cap_frame_queue *q;
    cap_lane *prev, *next; /* circular list of the queue's lanes */
    cap_frame **ring;      /* lane_cap slots, oldest at head */
    size_t head, count;
    struct cap_queue_stats st; /* this lane's counters (depth = count) */
};

struct cap_frame_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled on push and close */
    size_t lane_cap;
    cap_lane *cursor; /* next lane pop looks at first; NULL when no lanes */
    size_t nlanes, depth;
    unsigned refs; /* the owner's + one per lane */
    bool closed;
    struct cap_queue_stats st; /* totals over all lanes, past and present */
};

att_err cap_queue_new(size_t lane_capacity, cap_frame_queue **out)
{
    if (!out) return ATT_E_INVALID;
    *out = NULL;
    if (lane_capacity < 1 || lane_capacity > LANE_CAP_MAX) return ATT_E_INVALID;
    cap_frame_queue *q = calloc(1, sizeof *q);
    if (!q) return ATT_E_NOMEM;
    if (att_time_cond_init(&q->cv) != 0) {
        free(q);
        return ATT_E_NOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    q->lane_cap = lane_capacity;
    q->refs = 1;
    *out = q;
    return ATT_OK;
}

/* Called with q->mu held; returns true if the caller must destroy q after unlocking. */
static bool queue_unref_locked(cap_frame_queue *q) { return --q->refs == 0; }

static void queue_destroy(cap_frame_queue *q)
{
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void cap_queue_close(cap_frame_queue *q)
{
    if (!q) return;
    att_time_cond_raise(&q->mu, &q->cv, &q->closed);
}

void cap_queue_free(cap_frame_queue *q)
{
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->cv);
    bool last = queue_unref_locked(q);
    pthread_mutex_unlock(&q->mu);
    if (last) queue_destroy(q);
}

att_err cap_lane_new(cap_frame_queue *q, cap_lane **out)
{
    if (!q || !out) return ATT_E_INVALID;
    *out = NULL;
    cap_lane *l = calloc(1, sizeof *l);
    if (!l) return ATT_E_NOMEM;
    l->ring = calloc(q->lane_cap, sizeof *l->ring);
    if (!l->ring) {
        free(l);
        return ATT_E_NOMEM;
    }
    l->q = q;
    l->st.lanes = 1;
    pthread_mutex_lock(&q->mu);
    if (!q->cursor) {
        l->prev = l->next = l;
        q->cursor = l;
    } else { /* insert just before the cursor: served last in the current round */
        l->next = q->cursor;
        l->prev = q->cursor->prev;
        l->prev->next = l;
        l->next->prev = l;
    }
    q->nlanes++;
    q->refs++;
    pthread_mutex_unlock(&q->mu);
    *out = l;
    return ATT_OK;
}

void cap_lane_free(cap_lane *l)
{
    if (!l) return;
    cap_frame_queue *q = l->q;
    cap_frame *left[LANE_CAP_MAX];
    size_t n = 0;
    pthread_mutex_lock(&q->mu);
    while (l->count) {
        left[n++] = l->ring[l->head];
        l->head = (l->head + 1) % q->lane_cap;
        l->count--;
    }
    q->depth -= n;
    q->st.discarded += n;
    if (l->next == l) {
        q->cursor = NULL;
    } else {
        if (q->cursor == l) q->cursor = l->next;
        l->prev->next = l->next;
        l->next->prev = l->prev;
    }
    q->nlanes--;
    bool last = queue_unref_locked(q);
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < n; i++) cap_frame_free(left[i]);
    free(l->ring);
    free(l);
    if (last) queue_destroy(q);
}

att_err cap_queue_push(cap_lane *l, cap_frame *f, int *dropped)
{
    if (dropped) *dropped = 0;
    if (!l || !f) {
        cap_frame_free(f);
        return ATT_E_INVALID;
    }
    cap_frame_queue *q = l->q;
    cap_frame *old = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        l->st.discarded++;
        q->st.discarded++;
        pthread_mutex_unlock(&q->mu);
        cap_frame_free(f);
        return ATT_E_UNAVAILABLE;
    }
    if (l->count == q->lane_cap) { /* full: the oldest goes, the newest waits */
        old = l->ring[l->head];
        l->head = (l->head + 1) % q->lane_cap;
        l->count--;
        q->depth--;
        l->st.dropped++;
        q->st.dropped++;
    }
    l->ring[(l->head + l->count) % q->lane_cap] = f;
    l->count++;
    q->depth++;
    l->st.pushed++;
    q->st.pushed++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (old) {
        cap_frame_free(old); /* outside the lock: freeing 3-6 MB can take a while */
        if (dropped) *dropped = 1;
    }
    return ATT_OK;
}

#define SKIP_BATCH 64 /* frames skipped in one pop, freed after the lock is released */

/* Remove the oldest frame of l. Queue lock held. */
static cap_frame *lane_take(cap_frame_queue *q, cap_lane *l)
{
    cap_frame *f = l->ring[l->head];
    l->ring[l->head] = NULL;
    l->head = (l->head + 1) % q->lane_cap;
    l->count--;
    q->depth--;
    l->st.popped++;
    q->st.popped++;
    return f;
}

/* The oldest frame of the lane ranked lowest (the first such lane from the cursor: round-robin
 * among equals); frames ranked CAP_RANK_SKIP go to skip[] on the way (up to SKIP_BATCH; past that
 * they are served last instead). The cursor moves past the lane served. Queue lock held. */
static cap_frame *take_locked(cap_frame_queue *q, const struct cap_ranker *rk, cap_frame **skip, size_t *n_skip)
{
    if (q->depth == 0 || !q->cursor) return NULL;
    cap_lane *best = NULL, *l = q->cursor;
    int best_rank = 0;
    for (size_t i = 0; i < q->nlanes; i++, l = l->next) {
        while (l->count) {
            int r = rk ? rk->rank(rk->ud, l->ring[l->head]) : 0;
            if (r == CAP_RANK_SKIP && *n_skip < SKIP_BATCH) {
                cap_frame *f = lane_take(q, l);
                l->st.skipped++;
                q->st.skipped++;
                if (rk->taken) rk->taken(rk->ud, f, true);
                skip[(*n_skip)++] = f;
                continue;
            }
            if (r < 0) r = INT_MAX; /* a skip that did not fit: last */
            if (!best || r < best_rank) {
                best = l;
                best_rank = r;
            }
            break;
        }
        if (best && best_rank == 0) break; /* nothing ranks lower: the first from the cursor wins */
    }
    if (!best) return NULL;
    cap_frame *f = lane_take(q, best);
    if (rk && rk->taken) rk->taken(rk->ud, f, false);
    q->cursor = best->next;
    return f;
}

att_err cap_queue_pop_ranked(cap_frame_queue *q, int timeout_ms, const struct cap_ranker *ranker, cap_frame **out)
{
    if (!q || !out || (ranker && !ranker->rank)) return ATT_E_INVALID;
    *out = NULL;
    struct timespec until = att_time_timespec(att_time_deadline((int64_t)timeout_ms * 1000));
    cap_frame *skip[SKIP_BATCH];
    size_t n_skip = 0;
    att_err rc = ATT_OK;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        cap_frame *f = take_locked(q, ranker, skip, &n_skip);
        if (f) {
            *out = f;
            break;
        }
        if (q->closed) {
            rc = ATT_E_UNAVAILABLE;
            break;
        }
        if (timeout_ms == 0 || n_skip == SKIP_BATCH) break;
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->cv, &q->mu);
        } else if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT) {
            *out = take_locked(q, ranker, skip, &n_skip);
            break;
        }
    }
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < n_skip; i++) cap_frame_free(skip[i]); /* outside the lock: megabytes each */
    return rc;
}

att_err cap_queue_pop(cap_frame_queue *q, int timeout_ms, cap_frame **out)
{
    return cap_queue_pop_ranked(q, timeout_ms, NULL, out);
}

void cap_queue_get_stats(cap_frame_queue *q, struct cap_queue_stats *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    *st = q->st;
    st->depth = q->depth;
    st->lanes = q->nlanes;
    pthread_mutex_unlock(&q->mu);
}

void cap_lane_get_stats(cap_lane *l, struct cap_queue_stats *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!l) return;
    pthread_mutex_lock(&l->q->mu);
    *st = l->st;
    st->depth = l->count;
    st->lanes = 1;
    pthread_mutex_unlock(&l->q->mu);
}
