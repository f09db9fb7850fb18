/* Per-camera face tracker and per-track decision rule (see include/attendd/tracker.h and
 * docs/pipeline.md "Tracker"). All memory is allocated in trk_new(); trk_update() never allocates. */
#include "attendd/tracker.h"
#include "attendd/fuse.h"
#include "attendd/uuid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Weight of the newest displacement in the velocity estimate: high enough to follow a walker who
 * speeds up, low enough that one jittery box does not throw the prediction off. */
#define TRK_VEL_ALPHA 0.5f

/* One recognition in a track's history. */
struct trk_hist {
    bool matched; /* counts for `person` if similarity passes too */
    att_uuid person;
    float similarity;
    float second;           /* best other person's similarity */
    att_uuid second_person; /* that person (when second >= 0) */
    float liveness;
    float quality;
    int64_t ts_us; /* frame time of the crop */
};

struct trk_track {
    bool used;                     /* slot holds a live track */
    uint32_t id;                   /* never 0 */
    float x, y, w, h;              /* last associated box */
    float vx, vy;                  /* centre velocity, pixels per second */
    bool have_vel;                 /* vx/vy measured at least once */
    int64_t born_us, last_seen_us; /* frame times */
    int missed;                    /* consecutive frames without a detection */
    int hits;                      /* frames associated */
    bool have_emb;                 /* emb holds the last embedding seen */
    float emb[TRK_EMB_DIM];
    struct trk_hist hist[TRK_WINDOW_MAX]; /* ring of the last window_m recognitions */
    int hist_head;                        /* next write index */
    int hist_n;                           /* valid entries, <= window_m */
    int recognitions;                     /* total received */
    bool decided;                         /* emitted its one decision */
    bool not_live;                        /* judged not live: never decides */
    float live_ring[TRK_WINDOW_MAX];      /* P(real) of the last spoof_m measured recognitions */
    int live_head;                        /* next write index in live_ring */
    int live_n;                           /* valid entries, <= spoof_m */
    int unmatched_run;                    /* recognitions in a row below lull_sim */
    int lull_tick;                        /* frames seen while lulled */
    int confirms;                         /* confirmations asked for so far */
    int pending;                          /* PEND_*: waiting for trk_confirm */
    struct trk_confirm_req req;           /* the pending request */
    struct trk_decision pend_d;           /* the decision it would make */
    float px, py;                         /* scratch: predicted top-left for this frame */
};

enum { PEND_NONE, PEND_ASKED, PEND_HANDED }; /* trk_track.pending */

/* Candidate pairing for the greedy passes. */
struct trk_pair {
    float key;       /* IoU (pass 1, larger first) or distance (pass 2, smaller first) */
    uint32_t ti, di; /* track slot, detection index */
};

struct trk_tracker {
    struct trk_params p;        /* validated parameters */
    struct trk_track *tracks;   /* p.max_tracks slots */
    struct trk_pair *pairs;     /* scratch, max_tracks * max_dets */
    int32_t *det_track;         /* scratch, per detection: slot or -1 */
    bool *track_taken;          /* scratch, per slot */
    struct trk_decision *queue; /* ring of p.max_decisions */
    size_t q_head, q_n;
    uint32_t next_id;
    int64_t last_ts_us; /* newest frame time seen */
    bool have_ts;
    struct trk_stats stats;
};

void trk_params_defaults(struct trk_params *p)
{
    p->iou_min = 0.25f;
    p->centre_max = 2.0f;
    p->size_ratio_max = 2.5f;
    p->emb_min = 0.25f;
    p->min_score = 0.5f;
    p->max_missed = 10;
    p->max_unseen_us = 2000000;
    p->sim_threshold = 0.45f;
    p->live_threshold = 0.5f;
    p->agree_k = 3;
    p->window_m = 5;
    p->spoof_m = 7;
    p->spoof_live = 0.05f;
    p->margin_min = 0.10f;
    p->lull_after = 5;
    p->lull_every = 3;
    p->lull_sim = 0.30f;
    p->confirm_max = 0;
    p->confirm_fused = AV_FUSED_VERIFY_THRESHOLD;
    p->confirm_margin = TRK_CONFIRM_MARGIN;
    p->confirm_lookalike_fused = AV_FUSED_THRESHOLD;
    p->max_tracks = 64;
    p->max_dets = 64;
    p->max_decisions = 64;
}

static bool unit(float v) { return v >= 0.0f && v <= 1.0f; }

static att_err validate(const struct trk_params *p)
{
    if (!unit(p->iou_min) || !unit(p->sim_threshold) || !unit(p->live_threshold) || !unit(p->min_score))
        return ATT_E_INVALID;
    if (!(p->emb_min >= -1.0f && p->emb_min <= 1.0f)) return ATT_E_INVALID;
    if (!(p->centre_max >= 0.0f) || !(p->size_ratio_max >= 1.0f)) return ATT_E_INVALID;
    if (p->agree_k < 1 || p->window_m < p->agree_k || p->window_m > TRK_WINDOW_MAX) return ATT_E_INVALID;
    if (p->spoof_m < 1 || p->spoof_m > TRK_WINDOW_MAX) return ATT_E_INVALID;
    if (!unit(p->spoof_live) || p->spoof_live > p->live_threshold || !unit(p->margin_min)) return ATT_E_INVALID;
    if (p->lull_after < 0 || p->lull_after > 1000 || p->lull_every < 1 || p->lull_every > 100 || !unit(p->lull_sim))
        return ATT_E_INVALID;
    if (p->max_missed < 1 || p->max_unseen_us <= 0) return ATT_E_INVALID;
    if (p->max_tracks < 1 || p->max_tracks > 4096 || p->max_dets < 1 || p->max_dets > 4096) return ATT_E_INVALID;
    if (p->max_decisions < 1) return ATT_E_INVALID;
    if (p->confirm_max < 0 || p->confirm_max > TRK_CONFIRM_MAX || !isfinite(p->confirm_fused) ||
        !isfinite(p->confirm_lookalike_fused) || !(p->confirm_margin >= 0.0f && isfinite(p->confirm_margin)))
        return ATT_E_INVALID;
    return ATT_OK;
}

att_err trk_new(const struct trk_params *p, trk_tracker **out)
{
    struct trk_params prm;
    if (p) prm = *p;
    else trk_params_defaults(&prm);
    att_err e = validate(&prm);
    if (e != ATT_OK) return e;

    trk_tracker *t = calloc(1, sizeof *t);
    if (!t) return ATT_E_NOMEM;
    t->p = prm;
    t->tracks = calloc(prm.max_tracks, sizeof *t->tracks);
    t->pairs = calloc(prm.max_tracks * prm.max_dets, sizeof *t->pairs);
    t->det_track = calloc(prm.max_dets, sizeof *t->det_track);
    t->track_taken = calloc(prm.max_tracks, sizeof *t->track_taken);
    t->queue = calloc(prm.max_decisions, sizeof *t->queue);
    if (!t->tracks || !t->pairs || !t->det_track || !t->track_taken || !t->queue) {
        trk_free(t);
        return ATT_E_NOMEM;
    }
    t->next_id = 1;
    *out = t;
    return ATT_OK;
}

void trk_free(trk_tracker *t)
{
    if (!t) return;
    free(t->tracks);
    free(t->pairs);
    free(t->det_track);
    free(t->track_taken);
    free(t->queue);
    free(t);
}

static float iou(float ax, float ay, float aw, float ah, float bx, float by, float bw, float bh)
{
    float x1 = fmaxf(ax, bx), y1 = fmaxf(ay, by);
    float x2 = fminf(ax + aw, bx + bw), y2 = fminf(ay + ah, by + bh);
    float iw = x2 - x1, ih = y2 - y1;
    if (iw <= 0.0f || ih <= 0.0f) return 0.0f;
    float inter = iw * ih;
    float uni = aw * ah + bw * bh - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

static float dot(const float *a, const float *b)
{
    float s = 0.0f;
    for (int i = 0; i < TRK_EMB_DIM; i++) s += a[i] * b[i];
    return s;
}

/* Appearance veto: two faces that clearly are different people never share a track, which is
 * what keeps two crossing walkers apart when their boxes overlap. */
static bool vetoed(const trk_tracker *t, const struct trk_track *tr, const struct trk_det *d)
{
    return tr->have_emb && d->embedding && dot(tr->emb, d->embedding) < t->p.emb_min;
}

static int cmp_desc(const void *a, const void *b)
{
    const struct trk_pair *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    /* ties broken by slot and index so the result never depends on qsort's order */
    if (x->ti != y->ti) return x->ti < y->ti ? -1 : 1;
    return x->di < y->di ? -1 : (x->di > y->di);
}

static int cmp_asc(const void *a, const void *b) { return cmp_desc(b, a); }

static void end_track(trk_tracker *t, struct trk_track *tr)
{
    if (!tr->decided) t->stats.ended_undecided++;
    t->stats.tracks_ended++;
    tr->used = false;
}

static void push_decision(trk_tracker *t, const struct trk_decision *d)
{
    if (t->q_n == t->p.max_decisions) {
        /* the caller stopped polling; keep the newest, count the loss */
        t->q_head = (t->q_head + 1) % t->p.max_decisions;
        t->q_n--;
        t->stats.decisions_dropped++;
    }
    t->queue[(t->q_head + t->q_n) % t->p.max_decisions] = *d;
    t->q_n++;
}

/* A recognition names its person: at or above the threshold, clear of the second-best person by
 * the margin (a look-alike scores high against several people at once), liveness measured and not
 * clearly a spoof. Whether the face is live is judged over the window (window_live), not frame by
 * frame. */
static bool counts_for(const trk_tracker *t, const struct trk_hist *h)
{
    return h->matched && h->similarity >= t->p.sim_threshold && h->similarity - h->second >= t->p.margin_min &&
        h->liveness >= t->p.spoof_live;
}

/* The same short of the margin: a look-alike's recognition, which only the confirming model may
 * settle. */
static bool names(const trk_tracker *t, const struct trk_hist *h)
{
    return h->matched && h->similarity >= t->p.sim_threshold && h->liveness >= t->p.spoof_live;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The median P(real) of the measured recognitions in the window reaches live_threshold. One
 * frame's score moves with the box, the light and the pose (a real face close to the camera dips to
 * 0.1-0.3 now and then); a screen or a print stays low on nearly every frame. */
static bool window_live(const trk_tracker *t, const struct trk_track *tr)
{
    float v[TRK_WINDOW_MAX];
    int n = 0;
    for (int i = 0; i < tr->hist_n; i++)
        if (tr->hist[i].liveness >= 0.0f) v[n++] = tr->hist[i].liveness;
    if (n == 0) return false;
    qsort(v, (size_t)n, sizeof v[0], cmp_float);
    float med = n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
    return med >= t->p.live_threshold;
}

/* Add a measured P(real) (NaN counts as a clear spoof) to the track's last spoof_m and tell whether
 * clear spoofs are now more than half of a full ring. One frame's verdict on a real face can be a
 * clear spoof (a small face, a photo-like backdrop behind it: a run of three at 6 fps happens), while
 * a screen or a print is a clear spoof on nearly every frame; so the track is judged on the
 * distribution of its scores, and only once spoof_m of them are in. */
static bool judged_spoof(const trk_tracker *t, struct trk_track *tr, float liveness)
{
    tr->live_ring[tr->live_head] = liveness;
    tr->live_head = (tr->live_head + 1) % t->p.spoof_m;
    if (tr->live_n < t->p.spoof_m) tr->live_n++;
    if (tr->live_n < t->p.spoof_m) return false;
    int spoofs = 0;
    for (int i = 0; i < tr->live_n; i++)
        if (!(tr->live_ring[i] >= t->p.spoof_live)) spoofs++;
    return 2 * spoofs > tr->live_n;
}

/* Record one recognition and decide if the window now agrees. */
static void recognise(trk_tracker *t, struct trk_track *tr, int64_t ts_us, const struct trk_recog *rec)
{
    tr->recognitions++;
    if (tr->decided || tr->not_live) return;

    struct trk_hist *h = &tr->hist[tr->hist_head];
    h->matched = rec->matched;
    h->person = rec->person;
    h->similarity = rec->similarity;
    h->second = rec->second;
    h->second_person = rec->second_person;
    h->liveness = rec->liveness;
    h->quality = rec->quality;
    h->ts_us = ts_us;
    tr->hist_head = (tr->hist_head + 1) % t->p.window_m;
    if (tr->hist_n < t->p.window_m) tr->hist_n++;
    if (h->matched && h->similarity >= t->p.lull_sim) { /* near someone: every frame counts */
        tr->unmatched_run = 0;
        tr->lull_tick = 0;
    } else {
        tr->unmatched_run++;
    }

    if (!(rec->liveness < 0.0f) && judged_spoof(t, tr, rec->liveness)) {
        /* sticky: a presentation attack may show a few convincing frames; one judged attack
         * spoils the whole pass */
        tr->not_live = true;
        t->stats.spoof_tracks++;
        return;
    }

    /* Only the newest recognition can complete an agreement that did not exist before; a track
     * waiting for its confirmation neither decides nor asks again until it is answered. */
    if (tr->pending != PEND_NONE || !names(t, h)) return;
    bool confirm = t->p.confirm_max > 0;
    int agree = 0, loose = 0;
    float sim = 0.0f, live = 0.0f, lsim = 0.0f, llive = 0.0f;
    for (int i = 0; i < tr->hist_n; i++) {
        const struct trk_hist *o = &tr->hist[i];
        if (!names(t, o) || !att_uuid_eq(&o->person, &h->person)) continue;
        loose++;
        lsim += o->similarity;
        llive += o->liveness;
        if (counts_for(t, o)) {
            agree++;
            sim += o->similarity;
            live += o->liveness;
        }
    }
    enum trk_confirm_kind kind;
    if (counts_for(t, h) && agree >= t->p.agree_k) {
        kind = TRK_CONFIRM_DECIDE;
    } else if (confirm && loose >= t->p.agree_k && h->second >= 0.0f) {
        /* the window names one person, but by less than the margin over someone else: the
         * confirming model compares the crop with both */
        kind = TRK_CONFIRM_LOOKALIKE;
        agree = loose;
        sim = lsim;
        live = llive;
    } else {
        return;
    }
    if (!window_live(t, tr)) return;

    struct trk_decision d;
    memset(&d, 0, sizeof d);
    d.track_id = tr->id;
    d.person = h->person;
    d.ts_us = ts_us;
    d.similarity = sim / (float)agree;
    d.liveness = live / (float)agree;
    d.agreeing = agree;
    d.x = tr->x;
    d.y = tr->y;
    d.w = tr->w;
    d.h = tr->h;
    if (!confirm) {
        tr->decided = true;
        t->stats.decisions++;
        push_decision(t, &d);
        return;
    }
    if (tr->confirms >= t->p.confirm_max) return; /* asked enough: this pass does not decide */
    tr->confirms++;
    tr->pending = PEND_ASKED;
    tr->pend_d = d;
    tr->req = (struct trk_confirm_req){
        .track_id = tr->id,
        .kind = kind,
        .person = h->person,
        .similarity = h->similarity,
        .runner_up = h->second_person,
        .runner_up_similarity = h->second,
        .ts_us = ts_us,
    };
    if (kind != TRK_CONFIRM_LOOKALIKE) {
        memset(&tr->req.runner_up, 0, sizeof tr->req.runner_up);
        tr->req.runner_up_similarity = -1.0f;
    }
}

/* A track that has not come near any enrolled person for a while is most likely a visitor: it
 * keeps being tracked, but its crops are worth recognising only now and then. */
static bool lulled(const trk_tracker *t, const struct trk_track *tr)
{
    return t->p.lull_after > 0 && tr->unmatched_run >= t->p.lull_after;
}

static void greedy(trk_tracker *t, size_t np)
{
    for (size_t k = 0; k < np; k++) {
        const struct trk_pair *pr = &t->pairs[k];
        if (t->track_taken[pr->ti] || t->det_track[pr->di] >= 0) continue;
        t->track_taken[pr->ti] = true;
        t->det_track[pr->di] = (int32_t)pr->ti;
    }
}

static void follow(struct trk_track *tr, int64_t ts_us, const struct trk_det *d)
{
    float dt = (float)(ts_us - tr->last_seen_us) / 1e6f;
    if (dt > 0.0f) {
        float mvx = ((d->x + d->w / 2) - (tr->x + tr->w / 2)) / dt;
        float mvy = ((d->y + d->h / 2) - (tr->y + tr->h / 2)) / dt;
        if (tr->have_vel) {
            tr->vx = TRK_VEL_ALPHA * mvx + (1 - TRK_VEL_ALPHA) * tr->vx;
            tr->vy = TRK_VEL_ALPHA * mvy + (1 - TRK_VEL_ALPHA) * tr->vy;
        } else {
            tr->vx = mvx;
            tr->vy = mvy;
            tr->have_vel = true;
        }
    }
    tr->x = d->x;
    tr->y = d->y;
    tr->w = d->w;
    tr->h = d->h;
    tr->last_seen_us = ts_us;
    tr->missed = 0;
    tr->hits++;
    if (d->embedding) {
        memcpy(tr->emb, d->embedding, sizeof tr->emb);
        tr->have_emb = true;
    }
}

static struct trk_track *birth(trk_tracker *t, int64_t ts_us, const struct trk_det *d)
{
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        if (tr->used) continue;
        memset(tr, 0, sizeof *tr);
        tr->used = true;
        tr->id = t->next_id++;
        if (t->next_id == 0) t->next_id = 1; /* 0 means "not tracked" */
        tr->born_us = ts_us;
        tr->last_seen_us = ts_us;
        follow(tr, ts_us, d);
        t->stats.tracks_born++;
        return tr;
    }
    t->stats.untracked_dets++;
    return NULL;
}

att_err trk_update(trk_tracker *t, int64_t ts_us, const struct trk_det *dets, size_t n, struct trk_assign *assign)
{
    if (n > t->p.max_dets) return ATT_E_INVALID;
    if (t->have_ts && ts_us < t->last_ts_us) return ATT_E_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!(dets[i].w > 0.0f) || !(dets[i].h > 0.0f)) return ATT_E_INVALID;
    t->last_ts_us = ts_us;
    t->have_ts = true;

    /* Tracks unseen for too long cannot claim a box: that face is gone. */
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        t->track_taken[i] = false;
        if (!tr->used) continue;
        if (ts_us - tr->last_seen_us > t->p.max_unseen_us) {
            end_track(t, tr);
            continue;
        }
        float dt = (float)(ts_us - tr->last_seen_us) / 1e6f;
        tr->px = tr->x + (tr->have_vel ? tr->vx * dt : 0.0f);
        tr->py = tr->y + (tr->have_vel ? tr->vy * dt : 0.0f);
    }
    for (size_t d = 0; d < n; d++) t->det_track[d] = -1;

    /* Pass 1: greedy on IoU against the motion-predicted box. */
    size_t np = 0;
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        const struct trk_track *tr = &t->tracks[i];
        if (!tr->used) continue;
        for (size_t d = 0; d < n; d++) {
            const struct trk_det *dt = &dets[d];
            if (dt->score < t->p.min_score) continue;
            float v = iou(tr->px, tr->py, tr->w, tr->h, dt->x, dt->y, dt->w, dt->h);
            if (v < t->p.iou_min || v <= 0.0f || vetoed(t, tr, dt)) continue;
            t->pairs[np++] = (struct trk_pair){v, (uint32_t)i, (uint32_t)d};
        }
    }
    qsort(t->pairs, np, sizeof *t->pairs, cmp_desc);
    greedy(t, np);

    /* Pass 2: centre distance, for boxes that moved further than their own size between two
     * analysed frames (fast walker, low analysis fps), if the sizes are compatible. */
    np = 0;
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        const struct trk_track *tr = &t->tracks[i];
        if (!tr->used || t->track_taken[i]) continue;
        float tcx = tr->px + tr->w / 2, tcy = tr->py + tr->h / 2;
        float scale = fmaxf(tr->w, tr->h);
        for (size_t d = 0; d < n; d++) {
            const struct trk_det *dt = &dets[d];
            if (t->det_track[d] >= 0 || dt->score < t->p.min_score) continue;
            float ratio = (dt->w * dt->h) / (tr->w * tr->h);
            if (ratio > t->p.size_ratio_max || ratio * t->p.size_ratio_max < 1.0f) continue;
            float dist = hypotf(dt->x + dt->w / 2 - tcx, dt->y + dt->h / 2 - tcy) / scale;
            if (dist > t->p.centre_max || vetoed(t, tr, dt)) continue;
            t->pairs[np++] = (struct trk_pair){dist, (uint32_t)i, (uint32_t)d};
        }
    }
    qsort(t->pairs, np, sizeof *t->pairs, cmp_asc);
    greedy(t, np);

    for (size_t d = 0; d < n; d++)
        if (t->det_track[d] >= 0) follow(&t->tracks[t->det_track[d]], ts_us, &dets[d]);

    /* Unmatched tracks age; they end after max_missed frames in a row. */
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        if (!tr->used || t->track_taken[i]) continue;
        if (++tr->missed >= t->p.max_missed) end_track(t, tr);
    }

    for (size_t d = 0; d < n; d++) {
        struct trk_track *tr = NULL;
        if (t->det_track[d] >= 0) tr = &t->tracks[t->det_track[d]];
        else if (dets[d].score >= t->p.min_score) tr = birth(t, ts_us, &dets[d]);
        if (tr && dets[d].recog) recognise(t, tr, ts_us, dets[d].recog);
        if (assign) {
            assign[d].track_id = tr ? tr->id : 0;
            bool want = tr && !tr->decided && !tr->not_live;
            if (want && lulled(t, tr)) want = ++tr->lull_tick % t->p.lull_every == 0;
            assign[d].want_recog = want;
        }
    }
    return ATT_OK;
}

att_err trk_add_recognition(trk_tracker *t, uint32_t track_id, int64_t ts_us, const struct trk_recog *rec)
{
    if (track_id == 0) return ATT_E_NOT_FOUND;
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        if (tr->used && tr->id == track_id) {
            recognise(t, tr, ts_us, rec);
            return ATT_OK;
        }
    }
    return ATT_E_NOT_FOUND;
}

bool trk_pop_confirm(trk_tracker *t, struct trk_confirm_req *out)
{
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        if (!tr->used || tr->pending != PEND_ASKED) continue;
        tr->pending = PEND_HANDED;
        t->stats.confirm_requests++;
        *out = tr->req;
        return true;
    }
    return false;
}

/* The rule of trk_confirm (tracker.h). */
static bool confirmed(const trk_tracker *t, const struct trk_track *tr, const struct trk_confirmation *c)
{
    if (!c || tr->not_live) return false;
    if (tr->req.kind == TRK_CONFIRM_DECIDE) return !c->has_template || c->fused >= t->p.confirm_fused;
    return c->has_template && c->runner_up_has_template && c->fused >= t->p.confirm_lookalike_fused &&
        c->fused - c->runner_up_fused >= t->p.confirm_margin;
}

att_err trk_confirm(trk_tracker *t, uint32_t track_id, const struct trk_confirmation *c, bool *decided)
{
    if (decided) *decided = false;
    if (track_id == 0) return ATT_E_NOT_FOUND;
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        struct trk_track *tr = &t->tracks[i];
        if (!tr->used || tr->id != track_id) continue;
        if (tr->pending == PEND_NONE) return ATT_E_NOT_FOUND;
        tr->pending = PEND_NONE;
        if (!confirmed(t, tr, c)) {
            t->stats.confirm_refused++;
            return ATT_OK;
        }
        struct trk_decision d = tr->pend_d;
        if (c->has_template) {
            d.confirmed = true;
            d.fused = c->fused;
        }
        if (tr->req.kind == TRK_CONFIRM_LOOKALIKE) t->stats.confirm_lookalike++;
        tr->decided = true;
        t->stats.decisions++;
        push_decision(t, &d);
        if (decided) *decided = true;
        return ATT_OK;
    }
    return ATT_E_NOT_FOUND;
}

bool trk_pop_decision(trk_tracker *t, struct trk_decision *out)
{
    if (t->q_n == 0) return false;
    *out = t->queue[t->q_head];
    t->q_head = (t->q_head + 1) % t->p.max_decisions;
    t->q_n--;
    return true;
}

size_t trk_tracks(const trk_tracker *t, struct trk_track_info *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->p.max_tracks; i++) {
        const struct trk_track *tr = &t->tracks[i];
        if (!tr->used) continue;
        if (out && n < max) {
            float best = 0.0f;
            for (int k = 0; k < tr->hist_n; k++)
                if (tr->hist[k].matched && tr->hist[k].similarity > best) best = tr->hist[k].similarity;
            out[n] = (struct trk_track_info){
                .id = tr->id,
                .x = tr->x,
                .y = tr->y,
                .w = tr->w,
                .h = tr->h,
                .born_us = tr->born_us,
                .last_seen_us = tr->last_seen_us,
                .hits = tr->hits,
                .recognitions = tr->recognitions,
                .decided = tr->decided,
                .not_live = tr->not_live,
                .lulled = lulled(t, tr),
                .pending = tr->pending != PEND_NONE,
                .best_sim = best,
            };
        }
        n++;
    }
    return n;
}

void trk_get_stats(const trk_tracker *t, struct trk_stats *out) { *out = t->stats; }
