/* Attendance rules (see include/attendd/rules.h and docs/pipeline.md "Attendance rules"): the one
 * place that decides whether a recognition is a clock-in, a clock-out or nothing. */
#include "attendd/rules.h"
#include "attendd/uuid.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RULES_DEFAULT_COOLDOWN_US (120LL * 1000000)
#define RULES_DEFAULT_MAX_SHIFT_US (16LL * 3600 * 1000000)
#define RULES_DEFAULT_MAX_PERSONS ((size_t)200000)
/* Age sweeps run from rules_apply() at most this often (capture time), so the cost stays O(1)
 * amortised while memory stays bounded by the persons punching within one max shift. */
#define RULES_SWEEP_EVERY_US (60LL * 1000000)
#define RULES_MIN_CAPACITY ((size_t)64)

/* One person's state: the last punch is all the rules need (it tells both the cooldown and
 * whether a shift is open), which is also exactly what the database can seed. */
struct rules_entry {
    att_uuid person;           /* key */
    att_uuid camera;           /* camera of the last punch (nil when seeded) */
    int64_t last_ts_us;        /* capture time of the last punch */
    enum event_kind last_kind; /* EVENT_KIND_NONE marks a free slot */
};

struct rules {
    pthread_mutex_t lock;      /* guards everything below */
    struct rules_config cfg;   /* validated tunables */
    struct rules_entry *slots; /* open addressing, linear probing, no tombstones */
    size_t cap;                /* power of two */
    size_t count;              /* used slots */
    int64_t hwm_us;            /* newest capture time seen (decisions and seeds) */
    int64_t last_sweep_us;     /* hwm at the last age sweep */
    bool have_hwm;             /* hwm_us is meaningful */
    struct rules_stats stats;  /* counters (persons is filled on read) */
};

void rules_config_defaults(struct rules_config *cfg)
{
    cfg->cooldown_us = RULES_DEFAULT_COOLDOWN_US;
    cfg->max_shift_us = RULES_DEFAULT_MAX_SHIFT_US;
    cfg->max_persons = RULES_DEFAULT_MAX_PERSONS;
}

static struct rules_entry *find(rules *r, const att_uuid *person)
{
    size_t mask = r->cap - 1;
    for (size_t i = att_uuid_hash(person) & mask;; i = (i + 1) & mask) {
        struct rules_entry *e = &r->slots[i];
        if (e->last_kind == EVENT_KIND_NONE) return NULL;
        if (att_uuid_eq(&e->person, person)) return e;
    }
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_slot(rules *r, size_t i)
{
    size_t mask = r->cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (r->slots[j].last_kind == EVENT_KIND_NONE) break;
        size_t home = att_uuid_hash(&r->slots[j].person) & mask;
        /* move j into the hole i unless its home lies cyclically in (i, j] */
        bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            r->slots[i] = r->slots[j];
            i = j;
        }
    }
    memset(&r->slots[i], 0, sizeof r->slots[i]);
    r->count--;
}

static void place(struct rules_entry *slots, size_t cap, const struct rules_entry *e)
{
    size_t mask = cap - 1;
    size_t i = att_uuid_hash(&e->person) & mask;
    while (slots[i].last_kind != EVENT_KIND_NONE) i = (i + 1) & mask;
    slots[i] = *e;
}

static att_err grow(rules *r)
{
    size_t ncap = r->cap * 2;
    struct rules_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns) return ATT_E_NOMEM;
    for (size_t i = 0; i < r->cap; i++)
        if (r->slots[i].last_kind != EVENT_KIND_NONE) place(ns, ncap, &r->slots[i]);
    free(r->slots);
    r->slots = ns;
    r->cap = ncap;
    return ATT_OK;
}

static size_t sweep_locked(rules *r, int64_t now_us)
{
    /* After max(cooldown, max shift) a punch can neither suppress a decision nor hold a shift
     * open, so forgetting it changes no future outcome (only the missing-out report, which the
     * database keeps anyway). */
    int64_t horizon = r->cfg.max_shift_us > r->cfg.cooldown_us ? r->cfg.max_shift_us : r->cfg.cooldown_us;
    size_t dropped = 0;
    size_t i = 0;
    while (i < r->cap) {
        struct rules_entry *e = &r->slots[i];
        if (e->last_kind != EVENT_KIND_NONE && now_us - e->last_ts_us >= horizon) {
            /* Backward shift may move a not-yet-seen entry into i: look at i again. Entries it
             * moves into the wrapped front of the table were already seen and kept. */
            remove_slot(r, i);
            dropped++;
            continue;
        }
        i++;
    }
    r->stats.evicted += dropped;
    r->last_sweep_us = now_us;
    return dropped;
}

static void note_time(rules *r, int64_t ts_us)
{
    if (!r->have_hwm || ts_us > r->hwm_us) {
        if (!r->have_hwm) r->last_sweep_us = ts_us;
        r->hwm_us = ts_us;
        r->have_hwm = true;
    }
}

/* Insert a new person; makes room first (age sweep, then the oldest punch) at the hard cap. */
static att_err insert(rules *r, const att_uuid *person, struct rules_entry **out)
{
    if (r->count >= r->cfg.max_persons) {
        if (r->have_hwm) sweep_locked(r, r->hwm_us);
        if (r->count >= r->cfg.max_persons) {
            size_t oldest = r->cap;
            for (size_t i = 0; i < r->cap; i++)
                if (r->slots[i].last_kind != EVENT_KIND_NONE &&
                    (oldest == r->cap || r->slots[i].last_ts_us < r->slots[oldest].last_ts_us))
                    oldest = i;
            if (oldest < r->cap) {
                remove_slot(r, oldest);
                r->stats.evicted_forced++;
            }
        }
    }
    /* keep the load under 0.7 so probe chains stay short */
    if ((r->count + 1) * 10 > r->cap * 7) {
        att_err e = grow(r);
        if (e != ATT_OK) return e;
    }
    struct rules_entry ne;
    memset(&ne, 0, sizeof ne);
    ne.person = *person;
    ne.last_kind = EVENT_KIND_OUT; /* placeholder so place() sees the slot as used */
    place(r->slots, r->cap, &ne);
    r->count++;
    *out = find(r, person);
    return ATT_OK;
}

att_err rules_new(const struct rules_config *cfg, rules **out)
{
    struct rules_config c;
    rules_config_defaults(&c);
    if (cfg) {
        if (cfg->cooldown_us < 0 || cfg->max_shift_us < 0) return ATT_E_INVALID;
        if (cfg->cooldown_us) c.cooldown_us = cfg->cooldown_us;
        if (cfg->max_shift_us) c.max_shift_us = cfg->max_shift_us;
        if (cfg->max_persons) c.max_persons = cfg->max_persons;
    }
    /* a cooldown longer than a shift would make a shift impossible to close */
    if (c.cooldown_us > c.max_shift_us) return ATT_E_INVALID;

    rules *r = calloc(1, sizeof *r);
    if (!r) return ATT_E_NOMEM;
    r->cfg = c;
    r->cap = RULES_MIN_CAPACITY;
    r->slots = calloc(r->cap, sizeof *r->slots);
    if (!r->slots) {
        free(r);
        return ATT_E_NOMEM;
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r->slots);
        free(r);
        return ATT_E_INTERNAL;
    }
    *out = r;
    return ATT_OK;
}

void rules_free(rules *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    free(r->slots);
    free(r);
}

att_err rules_seed(rules *r, const att_uuid *person, enum event_kind kind, int64_t ts_us)
{
    if (kind != EVENT_KIND_IN && kind != EVENT_KIND_OUT) return ATT_E_INVALID;
    pthread_mutex_lock(&r->lock);
    att_err err = ATT_OK;
    struct rules_entry *e = find(r, person);
    if (!e) {
        err = insert(r, person, &e);
        if (err != ATT_OK) goto out;
    } else if (e->last_ts_us >= ts_us) {
        goto out; /* keep the newer punch already held */
    }
    e->last_kind = kind;
    e->last_ts_us = ts_us;
    e->camera = (att_uuid){0}; /* unknown: any camera counts as "another" one */
    note_time(r, ts_us);
out:
    pthread_mutex_unlock(&r->lock);
    return err;
}

static bool shift_open(const rules *r, const struct rules_entry *e, int64_t at_us)
{
    return e && e->last_kind == EVENT_KIND_IN && at_us - e->last_ts_us < r->cfg.max_shift_us;
}

static void suppress(rules *r, struct rules_result *out, enum rules_reason why, int64_t last_ts)
{
    out->reason = why;
    out->last_ts_us = last_ts;
    r->stats.suppressed++;
    if (why == RULES_LATE) r->stats.late++;
}

att_err rules_apply(rules *r, const struct rules_decision *d, struct rules_result *out)
{
    if (d->role != CAMERA_ROLE_IN && d->role != CAMERA_ROLE_OUT && d->role != CAMERA_ROLE_AUTO) return ATT_E_INVALID;
    memset(out, 0, sizeof *out);
    out->kind = EVENT_KIND_NONE;

    pthread_mutex_lock(&r->lock);
    att_err err = ATT_OK;
    if (!d->live) {
        suppress(r, out, RULES_NOT_LIVE, 0);
        goto out;
    }

    struct rules_entry *e = find(r, &d->person);
    if (e) {
        int64_t dt = d->ts_us - e->last_ts_us; /* negative for a decision arriving late */
        if (dt > -r->cfg.cooldown_us && dt < r->cfg.cooldown_us) {
            bool same = att_uuid_eq(&e->camera, &d->camera);
            suppress(r, out, same ? RULES_COOLDOWN : RULES_DUPLICATE_CAMERA, e->last_ts_us);
            goto out;
        }
        if (dt <= -r->cfg.cooldown_us) {
            /* The state only moves forward in capture time: replaying an older pass would change
             * the meaning of the punches after it (auto toggling), so it is dropped. */
            suppress(r, out, RULES_LATE, e->last_ts_us);
            goto out;
        }
    } else if (r->have_hwm && d->ts_us <= r->hwm_us - r->cfg.max_shift_us) {
        /* Older than anything eviction may have forgotten: the person's real last punch could
         * be newer than this decision, so it is treated like any late decision. */
        suppress(r, out, RULES_LATE, 0);
        goto out;
    }

    enum event_kind kind;
    switch (d->role) {
    case CAMERA_ROLE_IN: kind = EVENT_KIND_IN; break;
    case CAMERA_ROLE_OUT: kind = EVENT_KIND_OUT; break;
    default: kind = shift_open(r, e, d->ts_us) ? EVENT_KIND_OUT : EVENT_KIND_IN; break;
    }

    if (kind == EVENT_KIND_OUT && shift_open(r, e, d->ts_us)) out->closes_in_ts_us = e->last_ts_us;
    if (kind == EVENT_KIND_IN && e && e->last_kind == EVENT_KIND_IN) out->missing_out_ts_us = e->last_ts_us;

    if (!e) {
        err = insert(r, &d->person, &e);
        if (err != ATT_OK) goto out;
    }
    e->last_kind = kind;
    e->last_ts_us = d->ts_us;
    e->camera = d->camera;
    out->reason = RULES_EMIT;
    out->kind = kind;
    r->stats.emitted++;
    note_time(r, d->ts_us);
    if (r->hwm_us - r->last_sweep_us >= RULES_SWEEP_EVERY_US) sweep_locked(r, r->hwm_us);
out:
    pthread_mutex_unlock(&r->lock);
    return err;
}

att_err rules_open_shift(rules *r, const att_uuid *person, int64_t now_us, struct rules_shift *out)
{
    pthread_mutex_lock(&r->lock);
    const struct rules_entry *e = find(r, person);
    out->state = RULES_SHIFT_NONE;
    out->in_ts_us = 0;
    if (e && e->last_kind == EVENT_KIND_IN) {
        out->state = shift_open(r, e, now_us) ? RULES_SHIFT_OPEN : RULES_SHIFT_MISSING_OUT;
        out->in_ts_us = e->last_ts_us;
    }
    pthread_mutex_unlock(&r->lock);
    return ATT_OK;
}

size_t rules_evict(rules *r, int64_t now_us)
{
    pthread_mutex_lock(&r->lock);
    size_t n = sweep_locked(r, now_us);
    pthread_mutex_unlock(&r->lock);
    return n;
}

void rules_get_stats(rules *r, struct rules_stats *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    out->persons = r->count;
    pthread_mutex_unlock(&r->lock);
}

const char *rules_reason_name(enum rules_reason r)
{
    switch (r) {
    case RULES_EMIT: return "emit";
    case RULES_COOLDOWN: return "cooldown";
    case RULES_DUPLICATE_CAMERA: return "duplicate_camera";
    case RULES_NOT_LIVE: return "not_live";
    case RULES_LATE: return "late";
    }
    return "?";
}
