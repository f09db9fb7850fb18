/* The retention run: one transaction destroys the templates of people inactive past the period,
 * de-identifies or deletes old events, prunes old audit rows (the only deletion the audit log lets
 * through) and writes the run's audit row with the counts; the gallery follows after the commit. */
#include "attendd/retention.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_retention.h"

#define DAY_US (86400LL * 1000000LL)

struct retention_policy retention_policy_of(const struct att_config *cfg)
{
    return (struct retention_policy){
        .templates_days = cfg->retention_templates_days,
        .events_years = cfg->retention_events_years,
        .events_delete = strcmp(cfg->retention_events_action, "delete") == 0,
        .audit_years = cfg->retention_audit_years,
        .hour_utc = cfg->retention_hour_utc,
    };
}

int64_t retention_next_run(int64_t now_us, int hour_utc)
{
    int64_t day = now_us >= 0 ? now_us / DAY_US : (now_us - DAY_US + 1) / DAY_US;
    int64_t at = day * DAY_US + (int64_t)hour_utc * 3600 * 1000000LL;
    return at > now_us ? at : at + DAY_US;
}

/* One run: its inputs, its counts, and the face ids it deleted (the gallery forgets them after the
 * commit). */
struct run {
    const struct retention_policy *p;
    const struct audit_actor *actor;
    int64_t now_us;
    struct retention_counts *out;
    char (*faces)[ATT_UUID_STR];
    size_t nfaces;
};

static att_err run_retention(PGconn *c, void *arg)
{
    struct run *w = arg;
    memset(w->out, 0, sizeof *w->out);
    free(w->faces);
    w->faces = NULL;
    w->nfaces = 0;
    att_err e =
        store_retention_templates(c, w->now_us, w->p->templates_days, &w->faces, &w->nfaces, &w->out->people_affected);
    if (e != ATT_OK) return e;
    w->out->templates_deleted = w->nfaces;
    if (w->p->events_years > 0 &&
        (e = store_retention_events(c, w->now_us, w->p->events_years, w->p->events_delete, &w->out->events)) != ATT_OK)
        return e;
    if ((e = store_retention_audit(c, w->now_us, w->p->audit_years, &w->out->audit_pruned)) != ATT_OK) return e;

    time_t t = (time_t)(w->now_us / 1000000);
    char as_of[32];
    strftime(as_of, sizeof as_of, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:i, s:i, s:i}", "as_of", as_of, "templates_deleted",
                          (json_int_t)w->out->templates_deleted, "people_affected", (json_int_t)w->out->people_affected,
                          w->p->events_delete ? "events_deleted" : "events_deidentified", (json_int_t)w->out->events,
                          "events_action", w->p->events_delete ? "delete" : "deidentify", "audit_pruned",
                          (json_int_t)w->out->audit_pruned, "templates_days", w->p->templates_days, "events_years",
                          w->p->events_years, "audit_years", w->p->audit_years);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    e = detail ? store_audit_ok(c, w->actor, "retention.run", NULL, NULL, detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) log_error("retention", "audit row for retention.run not written: %s", att_err_code(e));
    return e;
}

att_err retention_run(PGconn *c, gal *gallery, const struct audit_actor *a, const struct retention_policy *p,
                      int64_t now_us, struct retention_counts *out)
{
    memset(out, 0, sizeof *out);
    if (p->templates_days < 1 || p->events_years < 0 || p->audit_years < RETENTION_AUDIT_MIN_YEARS || now_us < 0)
        return ATT_E_INVALID;
    struct run w = {.p = p, .actor = a, .now_us = now_us, .out = out};
    roster_lock(); /* the gallery applies the deletions in commit order with the roster's writes */
    att_err e = db_transaction(c, run_retention, NULL, &w);
    for (size_t i = 0; e == ATT_OK && gallery && i < w.nfaces; i++) {
        att_err g = gal_face_remove(gallery, w.faces[i]);
        if (g != ATT_OK && g != ATT_E_NOT_FOUND)
            log_error("retention", "face %s: not removed from the gallery: %s", w.faces[i], att_err_code(g));
    }
    roster_unlock();
    free(w.faces);
    if (e != ATT_OK) {
        memset(out, 0, sizeof *out);
        return e;
    }
    if (out->templates_deleted || out->events) app_data_version_bump();
    log_notice("retention",
               "run as of %" PRId64 ": %zu templates of %zu people destroyed, %zu events %s, %zu audit rows pruned",
               now_us / 1000000, out->templates_deleted, out->people_affected, out->events,
               p->events_delete ? "deleted" : "de-identified", out->audit_pruned);
    return ATT_OK;
}

att_err retention_last_run(PGconn *c, int64_t *at_us) { return store_retention_last(c, at_us); }
