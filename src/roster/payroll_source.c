/* Payroll rows one person at a time (include/attendd/payroll_source.h): a closed period's kept rows
 * filtered by department, or an open period's timesheet computed person by person, so no export holds
 * more than one person's row at once beside its inputs. */
#include "attendd/payroll_source.h"

#include <stdlib.h>
#include <string.h>

#include "attendd/store_rosters.h"
#include "attendd/timesheet.h"

struct payroll_source {
    json_t *period;             /* period_get's row; owns the kept rows of a closed period */
    json_t *frozen;             /* the kept rows (borrowed from period), or NULL when computed */
    char *department;           /* NULL: everyone */
    json_t *only;               /* the departments a limited reader sees, or NULL */
    timesheet *t;               /* an open period's inputs */
    json_t *keys;               /* person id -> pseudonym */
    struct timesheet_day *days; /* scratch of one person */
    size_t next, count;         /* next position (frozen index or timesheet person), rows in all */
};

void payroll_source_free(payroll_source *s)
{
    if (!s) return;
    json_decref(s->period);
    free(s->department);
    json_decref(s->only);
    timesheet_free(s->t);
    json_decref(s->keys);
    free(s->days);
    free(s);
}

static bool shown(const payroll_source *s, const char *d)
{
    if (s->department && (!d || strcmp(d, s->department) != 0)) return false;
    if (!s->only) return true;
    size_t i;
    json_t *x;
    json_array_foreach(s->only, i, x)
    {
        if (d && *d && strcmp(json_string_value(x), d) == 0) return true;
    }
    return false;
}

static bool in_department(const payroll_source *s, json_t *row)
{
    return shown(s, json_string_value(json_object_get(row, "department")));
}

att_err payroll_source_open(PGconn *c, const att_tz *tz, const struct pay_rules *rules, const char *id,
                            const char *department, const json_t *only, payroll_source **out)
{
    *out = NULL;
    payroll_source *s = calloc(1, sizeof *s);
    if (!s) return ATT_E_NOMEM;
    const char *pv[1] = {id};
    att_err e = store_json_one(c, "period_get", 1, pv, &s->period);
    if (e == ATT_OK && department && !(s->department = strdup(department))) e = ATT_E_NOMEM;
    if (e == ATT_OK && only && !(s->only = json_deep_copy(only))) e = ATT_E_NOMEM;
    json_t *frozen = e == ATT_OK ? json_object_get(s->period, "frozen") : NULL;
    if (e == ATT_OK && json_is_array(frozen)) {
        s->frozen = frozen;
        size_t i;
        json_t *row;
        json_array_foreach(frozen, i, row) s->count += in_department(s, row);
    } else if (e == ATT_OK) {
        e = timesheet_pseudonyms(c, &s->keys);
        if (e == ATT_OK)
            e = timesheet_load(c, tz, rules, json_integer_value(json_object_get(s->period, "from")),
                               json_integer_value(json_object_get(s->period, "to")), department, NULL, true, &s->t);
        if (e == ATT_OK && !(s->days = calloc(timesheet_days(s->t), sizeof *s->days))) e = ATT_E_NOMEM;
        for (size_t i = 0; e == ATT_OK && i < timesheet_people(s->t); i++)
            s->count += shown(s, timesheet_person(s->t, i)->department);
    }
    if (e != ATT_OK) {
        payroll_source_free(s);
        return e;
    }
    *out = s;
    return ATT_OK;
}

const json_t *payroll_source_period(const payroll_source *s) { return s->period; }
size_t payroll_source_count(const payroll_source *s) { return s->count; }

att_err payroll_source_next(payroll_source *s, json_t **row)
{
    *row = NULL;
    if (s->frozen) {
        while (s->next < json_array_size(s->frozen)) {
            json_t *r = json_array_get(s->frozen, s->next++);
            if (in_department(s, r)) {
                *row = json_incref(r);
                return ATT_OK;
            }
        }
        return ATT_OK;
    }
    while (s->next < timesheet_people(s->t) && !shown(s, timesheet_person(s->t, s->next)->department)) s->next++;
    if (s->next >= timesheet_people(s->t)) return ATT_OK;
    return timesheet_payroll_row(s->t, s->next++, s->keys, s->days, row);
}
