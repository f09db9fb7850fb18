/* Shift and schedule writes: each change and its audit row commit in one transaction, then the data
 * version moves (attendance reports read shifts and schedules, so their ETags must change). */
#include <stdbool.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/roster.h"

/* One write: which store call, its inputs and outputs, and its audit row. */
struct write {
    att_err (*store)(PGconn *c, struct write *w); /* the change */
    const struct audit_actor *actor;
    const char *action;      /* "shift.create", ... */
    const char *target_type; /* "shift" or "schedule" */
    const char *id;          /* the row acted on (update, delete) */
    const char *target;      /* the audit row's target id, set by the store call */
    const struct shift_new *shift_new;
    const struct shift_patch *shift_patch;
    struct shift_row *shift_out;
    const struct schedule_new *sched_new;
    const struct schedule_patch *sched_patch;
    struct schedule_row *sched_out;
    const char **bad; /* schedules: the missing referent */
};

static att_err run_shift_create(PGconn *c, struct write *w)
{
    const struct shift_new *s = w->shift_new;
    att_err e = store_shift_create(c, s->name, s->start, s->end, s->grace_late_min, s->grace_early_min, s->break_min,
                                   w->shift_out);
    w->target = w->shift_out->id;
    if (e == ATT_OK && s->pay) e = store_shift_update(c, w->shift_out->id, s->pay, w->shift_out);
    return e;
}

static att_err run_shift_update(PGconn *c, struct write *w)
{
    att_err e = store_shift_update(c, w->id, w->shift_patch, w->shift_out);
    w->target = w->shift_out->id;
    return e;
}

static att_err run_schedule_create(PGconn *c, struct write *w)
{
    const struct schedule_new *s = w->sched_new;
    att_err e = store_schedule_create(c, s->shift_id, s->department, s->person_id, s->valid_from, s->valid_to,
                                      w->sched_out, w->bad);
    w->target = w->sched_out->id;
    return e;
}

static att_err run_schedule_update(PGconn *c, struct write *w)
{
    att_err e = store_schedule_update(c, w->id, w->sched_patch, w->sched_out, w->bad);
    w->target = w->sched_out->id;
    return e;
}

static att_err run_shift_delete(PGconn *c, struct write *w)
{
    w->target = w->id;
    return store_shift_delete(c, w->id);
}

static att_err run_schedule_delete(PGconn *c, struct write *w)
{
    w->target = w->id;
    return store_schedule_delete(c, w->id);
}

/* The transaction body: the store call, then the audit row. */
static att_err run(PGconn *c, void *arg)
{
    struct write *w = arg;
    att_err e = w->store(c, w);
    if (e != ATT_OK) return e;
    e = store_audit_ok(c, w->actor, w->action, w->target_type, w->target, NULL);
    if (e != ATT_OK) log_error("roster", "audit row for %s not written: %s", w->action, att_err_code(e));
    return e;
}

static att_err commit(PGconn *c, struct write *w)
{
    if (w->bad) *w->bad = NULL;
    att_err e = db_transaction(c, run, NULL, w);
    if (e == ATT_OK) app_data_version_bump();
    return e;
}

att_err roster_shift_create(PGconn *c, const struct audit_actor *a, const struct shift_new *s, struct shift_row *out)
{
    struct write w = {.actor = a,
                      .store = run_shift_create,
                      .action = "shift.create",
                      .target_type = "shift",
                      .shift_new = s,
                      .shift_out = out};
    return commit(c, &w);
}

att_err roster_shift_update(PGconn *c, const struct audit_actor *a, const char *id, const struct shift_patch *p,
                            struct shift_row *out)
{
    struct write w = {.actor = a,
                      .store = run_shift_update,
                      .action = "shift.update",
                      .target_type = "shift",
                      .id = id,
                      .shift_patch = p,
                      .shift_out = out};
    return commit(c, &w);
}

att_err roster_shift_delete(PGconn *c, const struct audit_actor *a, const char *id)
{
    struct write w = {
        .actor = a, .store = run_shift_delete, .action = "shift.delete", .target_type = "shift", .id = id};
    return commit(c, &w);
}

att_err roster_schedule_create(PGconn *c, const struct audit_actor *a, const struct schedule_new *s,
                               struct schedule_row *out, const char **bad)
{
    struct write w = {.actor = a,
                      .store = run_schedule_create,
                      .action = "schedule.create",
                      .target_type = "schedule",
                      .sched_new = s,
                      .sched_out = out,
                      .bad = bad};
    return commit(c, &w);
}

att_err roster_schedule_update(PGconn *c, const struct audit_actor *a, const char *id, const struct schedule_patch *p,
                               struct schedule_row *out, const char **bad)
{
    struct write w = {.actor = a,
                      .store = run_schedule_update,
                      .action = "schedule.update",
                      .target_type = "schedule",
                      .id = id,
                      .sched_patch = p,
                      .sched_out = out,
                      .bad = bad};
    return commit(c, &w);
}

att_err roster_schedule_delete(PGconn *c, const struct audit_actor *a, const char *id)
{
    struct write w = {
        .actor = a, .store = run_schedule_delete, .action = "schedule.delete", .target_type = "schedule", .id = id};
    return commit(c, &w);
}
