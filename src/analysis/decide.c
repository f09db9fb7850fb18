/* The attendance step of the analysis stage: one track decision -> rules -> durable event, and the
 * rules' start-up state from the database and the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/store_events.h"
#include "attendd/uuid.h"
#include "pipeline_internal.h"

att_err attend_decision(rules *r, event_writer *w, const att_uuid *camera, enum camera_role role,
                        const struct trk_decision *d, struct rules_result *res, bool *emitted, char *err, size_t errlen)
{
    struct rules_decision rd = {.person = d->person,
                                .camera = *camera,
                                .role = role,
                                .ts_us = d->ts_us,
                                .similarity = d->similarity,
                                .liveness = d->liveness,
                                /* the tracker decides only for live faces (the window's median liveness
                                 * reaches live_threshold, never once clear spoofs are the majority of
                                 * its last spoof_m measured recognitions), so a
                                 * decision is live by construction */
                                .live = true};
    *emitted = false;
    att_err e = rules_apply(r, &rd, res);
    if (e != ATT_OK) {
        snprintf(err, errlen, "rules: %s", att_err_code(e));
        return e;
    }
    if (res->reason != RULES_EMIT) return ATT_OK;
    struct att_event ev = {.person = d->person,
                           .camera = *camera,
                           .kind = res->kind,
                           .ts_us = d->ts_us,
                           .similarity = d->similarity,
                           .liveness = d->liveness};
    if (ev.similarity > 1.0f) ev.similarity = 1.0f; /* int8/fp16 search may overshoot by 0.001 */
    e = event_emit(w, &ev, NULL, err, errlen);
    if (e == ATT_OK) *emitted = true;
    return e;
}

struct seed_ctx {
    rules *r;
    size_t n;
};

static att_err seed_one(void *ud, const att_uuid *person, enum event_kind kind, int64_t ts_us)
{
    struct seed_ctx *s = ud;
    att_err e = rules_seed(s->r, person, kind, ts_us);
    if (e == ATT_OK) s->n++;
    return e;
}

att_err attendance_seed(rules *r, PGconn *c, spool *s, int64_t since_us, size_t *from_db, size_t *from_spool, char *err,
                        size_t errlen)
{
    struct seed_ctx ctx = {r, 0};
    if (from_db) *from_db = 0;
    if (from_spool) *from_spool = 0;
    if (s) {
        /* spool_pending reads from the oldest record only, so take them all at once; the spool holds
         * what an outage left (tens of bytes per event in memory, bounded by the disk) */
        size_t depth = spool_depth(s), n = 0;
        if (depth) {
            struct spool_record *recs = malloc(depth * sizeof *recs);
            if (!recs) {
                snprintf(err, errlen, "out of memory reading %zu spooled events", depth);
                return ATT_E_NOMEM;
            }
            att_err e = spool_pending(s, recs, depth, &n, err, errlen);
            for (size_t i = 0; e == ATT_OK && i < n; i++)
                if (recs[i].ev.ts_us >= since_us)
                    e = seed_one(&ctx, &recs[i].ev.person, recs[i].ev.kind, recs[i].ev.ts_us);
            free(recs);
            if (e != ATT_OK) {
                if (!err[0]) snprintf(err, errlen, "seeding from the spool: %s", att_err_code(e));
                return e;
            }
        }
        if (from_spool) *from_spool = ctx.n;
    }
    if (c) {
        ctx.n = 0;
        att_err e = store_events_last_per_person(c, since_us, seed_one, &ctx);
        if (e != ATT_OK) {
            snprintf(err, errlen, "seeding from the database: %s", att_err_code(e));
            return e;
        }
        if (from_db) *from_db = ctx.n;
    }
    return ATT_OK;
}
