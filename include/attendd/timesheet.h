/* Timesheets (src/roster/timesheet.c): the definitions, people and punches of a date range loaded from
 * the database once, then each person's days computed by the roster and pay engines (attendd/plan.h,
 * attendd/pay.h) when asked for. Serves GET /api/v1/roster and GET /api/v1/exceptions. */
#ifndef ATTENDD_TIMESHEET_H
#define ATTENDD_TIMESHEET_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/pay.h"
#include "attendd/plan.h"
#include "attendd/store_shifts.h"
#include "attendd/tz.h"
#include "attendd/uuid.h"

/* A shift as the engines and the answers need it. */
struct timesheet_shift {
    const char *id, *name; /* into the loaded definitions */
    struct pay_shift rule; /* hours and pay rules */
};

/* One computed day of one person. */
struct timesheet_day {
    struct pay_day pay;      /* the engine's result */
    enum plan_source source; /* where the plan came from */
    unsigned resolved;       /* bit per exception kind HR has resolved */
};

typedef struct timesheet timesheet;

/* Load days from..to (inclusive) for the people of department (NULL: all) or one person (NULL: all).
 * with_punches false: only the plan (punch-dependent fields stay empty). ATT_E_INVALID for a stored
 * definition the engines cannot read; store errors. rules: the cut-off and the defaults; the site's stored pay rule set (PATCH /api/v1/pay/rules) replaces
 * their night window, overtime floors and minimum rest. */
att_err timesheet_load(PGconn *c, const att_tz *tz, const struct pay_rules *rules, int64_t from, int64_t to,
                       const char *department, const att_uuid *person, bool with_punches, timesheet **out);
void timesheet_free(timesheet *t);

size_t timesheet_people(const timesheet *t);
const struct rep_person *timesheet_person(const timesheet *t, size_t i);
size_t timesheet_days(const timesheet *t);
const struct timesheet_shift *timesheet_shift_at(const timesheet *t, int index);
/* Leave type code of a position, or NULL. */
const char *timesheet_leave_code(const timesheet *t, int position);

/* Compute person i's days into out[0..timesheet_days-1]. */
att_err timesheet_compute(timesheet *t, size_t i, struct timesheet_day *out);

/* Every person's (of department, or all) totals over from..to as JSON rows: person_id, person_key,
 * employee_no, name, department, the minutes of each pay field (scheduled, worked, regular, ot_daily,
 * ot_weekly, ot_rest_day, ot_holiday, night, holiday, leave_paid, leave_unpaid), leave {code: minutes},
 * exceptions (open ones), absent_days. What the payroll export renders and a closed period keeps. */
/* Every person's pseudonym as {person_id: pseudonym} (for the person_key member). */
att_err timesheet_pseudonyms(PGconn *c, json_t **keys);

/* Person i's payroll row (as below) into *row (a new reference); days: timesheet_days scratch entries;
 * keys: from timesheet_pseudonyms. */
att_err timesheet_payroll_row(timesheet *t, size_t i, json_t *keys, struct timesheet_day *days, json_t **row);

att_err timesheet_payroll_rows(PGconn *c, const att_tz *tz, const struct pay_rules *rules, int64_t from, int64_t to,
                               const char *department, json_t **rows);

#endif
