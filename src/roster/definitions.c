/* Audited writes of roster patterns, overrides, holidays, leave, exception resolutions and pay periods:
 * the referents checked, the change, and its audit row in one transaction; a closed pay period refuses
 * the change inside the database (attendd_period_guard), so every writer is held to it alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/holiday_ics.h"
#include "attendd/json.h"
#include "attendd/timesheet.h"
#include "attendd/time.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_rosters.h"

struct def_tx {
    const struct audit_actor *actor; /* who writes */
    struct roster_def_write *w;      /* what */
};

static att_err run(PGconn *c, void *arg)
{
    struct def_tx *t = arg;
    struct roster_def_write *w = t->w;
    json_decref(w->row); /* a retried transaction starts over */
    w->row = NULL;
    w->missing[0] = '\0';
    att_err e = ATT_OK;
    if (w->refs_stmt) {
        e = store_missing_ref(c, w->refs_stmt, w->refs_n, w->refs_v, w->missing, sizeof w->missing);
        if (e == ATT_OK && w->missing[0]) e = ATT_E_NOT_FOUND;
    }
    if (e == ATT_OK) e = store_json_one(c, w->stmt, w->n, w->v, &w->row);
    if (e != ATT_OK) return e;
    const char *id = json_string_value(json_object_get(w->row, "id"));
    e = store_audit_ok(c, t->actor, w->action, w->target_type, id, w->detail);
    if (e != ATT_OK) log_error("roster", "audit row for %s not written: %s", w->action, att_err_code(e));
    return e;
}

att_err roster_def_write(PGconn *c, const struct audit_actor *a, struct roster_def_write *w)
{
    w->row = NULL;
    struct def_tx t = {.actor = a, .w = w};
    att_err e = db_transaction(c, run, NULL, &t);
    if (e != ATT_OK) {
        json_decref(w->row);
        w->row = NULL;
        return e;
    }
    app_data_version_bump();
    return ATT_OK;
}

struct import_tx {
    const struct audit_actor *actor;
    const struct holiday_item *items;
    size_t n;
    size_t added; /* out */
};

static att_err run_import(PGconn *c, void *arg)
{
    struct import_tx *t = arg;
    t->added = 0;
    att_err e = ATT_OK;
    for (size_t i = 0; e == ATT_OK && i < t->n; i++) {
        char date[ATT_DATE_TEXT];
        if (!att_time_date_format(t->items[i].day, date)) return ATT_E_INVALID;
        const char *v[2] = {date, t->items[i].name};
        json_t *r = NULL;
        e = store_json_one(c, "holiday_import_one", 2, v, &r);
        if (e == ATT_OK) t->added += (size_t)json_integer_value(json_object_get(r, "added"));
        json_decref(r);
    }
    if (e != ATT_OK) return e;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"given\":%zu,\"added\":%zu}", t->n, t->added);
    e = store_audit_ok(c, t->actor, "holiday.import", "holiday", NULL, detail);
    if (e != ATT_OK) log_error("roster", "audit row for holiday.import not written: %s", att_err_code(e));
    return e;
}

att_err roster_holidays_import(PGconn *c, const struct audit_actor *a, const struct holiday_item *items, size_t n,
                               size_t *added)
{
    struct import_tx t = {.actor = a, .items = items, .n = n};
    att_err e = db_transaction(c, run_import, NULL, &t);
    *added = e == ATT_OK ? t.added : 0;
    if (e == ATT_OK) app_data_version_bump();
    return e;
}

struct period_tx {
    const struct audit_actor *actor;
    const char *id, *detail;
    bool close;
    const att_tz *tz;
    const struct pay_rules *rules;
    json_t *row; /* out */
};

static att_err run_period(PGconn *c, void *arg)
{
    struct period_tx *t = arg;
    json_decref(t->row);
    t->row = NULL;
    const char *v[2] = {t->id, t->close ? "true" : "false"};
    att_err e = store_json_one(c, "period_set_closed", 2, v, &t->row);
    if (e == ATT_OK && t->close) {
        json_t *p = NULL, *rows = NULL;
        const char *pv[1] = {t->id};
        e = store_json_one(c, "period_get", 1, pv, &p);
        int64_t from = json_integer_value(json_object_get(p, "from")),
                to = json_integer_value(json_object_get(p, "to"));
        if (e == ATT_OK) e = timesheet_payroll_rows(c, t->tz, t->rules, from, to, NULL, &rows);
        char *txt = e == ATT_OK ? att_json_dumps(rows, JSON_COMPACT) : NULL;
        if (e == ATT_OK && !txt) e = ATT_E_NOMEM;
        if (e == ATT_OK) {
            const char *fv[2] = {t->id, txt};
            e = store_exec(c, "period_freeze", 2, fv);
        }
        free(txt);
        json_decref(rows);
        json_decref(p);
    }
    if (e != ATT_OK) return e;
    e = store_audit_ok(c, t->actor, t->close ? "period.close" : "period.reopen", "period", t->id, t->detail);
    if (e != ATT_OK) log_error("roster", "audit row for a period not written: %s", att_err_code(e));
    return e;
}

att_err roster_period_switch(PGconn *c, const struct audit_actor *a, const char *id, bool close, const char *detail,
                             const att_tz *tz, const struct pay_rules *rules, json_t **row)
{
    struct period_tx t = {.actor = a, .id = id, .detail = detail, .close = close, .tz = tz, .rules = rules};
    att_err e = db_transaction(c, run_period, NULL, &t);
    if (e != ATT_OK) {
        json_decref(t.row);
        *row = NULL;
        return e;
    }
    *row = t.row;
    app_data_version_bump();
    return ATT_OK;
}
