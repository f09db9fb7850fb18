/* Pay rules and exceptions (src/attendance/pay.c): pure, no I/O. A person's planned shifts, holidays,
 * leave and punches over a range of work days -> per day scheduled, worked, overtime per tier, night,
 * holiday and leave minutes, a status and the day's exceptions with their severity; and the period's
 * totals. Every rule is defined with an example in docs/reports.md ("Pay rules", "Exceptions"). */
#ifndef ATTENDD_PAY_H
#define ATTENDD_PAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/plan.h"
#include "attendd/shift.h"
#include "attendd/tz.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PAY_MAX_LEAVE_TYPES 16   /* leave types the totals count separately */
#define PAY_DEFAULT_MIN_REST 660 /* EU working-time directive: 11 h between shifts */

/* Whom a rounded punch favours. */
enum pay_favour {
    PAY_FAVOUR_EMPLOYEE = 0, /* clock-in rounded down, clock-out rounded up */
    PAY_FAVOUR_EMPLOYER,     /* clock-in rounded up, clock-out rounded down */
};
const char *pay_favour_name(enum pay_favour f); /* "employee", "employer" */

/* A shift definition with its pay rules. */
struct pay_shift {
    int start_min, end_min;       /* local minutes after midnight; end <= start: ends the next day (equal: 24 h) */
    int grace_late_min;           /* arriving up to this many minutes after start is not late */
    int grace_early_min;          /* leaving up to this many minutes before end is not early */
    int break_min;                /* unpaid break deducted once when the shift is worked */
    bool break_punched;           /* the break is punched (out, in): the gap is unpaid, nothing deducted */
    int round_min;                /* paid punches rounded to this many minutes of local time; 0 or 1: none */
    enum pay_favour round_favour; /* which way the rounding goes */
};

/* Rules of the whole site. */
struct pay_rules {
    int cutoff_min;          /* local day cut-off (minutes after midnight) */
    int daily_ot_after_min;  /* a day's overtime starts beyond max(scheduled net, this); 0: the scheduled net */
    int weekly_ot_after_min; /* regular minutes of a Monday-to-Sunday week beyond this are weekly overtime; 0: off */
    int night_start_min;     /* night-premium window, local; start == end: no night premium */
    int night_end_min;       /* end <= start: the window runs over midnight (22:00-06:00) */
    int min_rest_min;        /* rest between a clock-out and the next work day's first clock-in; 0: no check */
};
void pay_rules_defaults(struct pay_rules *r); /* cut-off 04:00, night 22:00-06:00, rest 11 h, no OT floors */

enum pay_status {
    PAY_OFF = 0,     /* no shift, no presence */
    PAY_PRESENT,     /* worked as planned */
    PAY_LATE,        /* a shift begun beyond its grace */
    PAY_EARLY_LEAVE, /* a shift left beyond its grace */
    PAY_ABSENT,      /* shifts, no presence, nothing excusing them */
    PAY_MISSING_OUT, /* a clock-in never followed by a clock-out on the work day */
    PAY_UNSCHEDULED, /* presence on a day without shifts */
    PAY_HOLIDAY,     /* a public holiday without presence */
    PAY_LEAVE,       /* approved leave without presence */
};
const char *pay_status_name(enum pay_status s);

enum pay_exception_kind {
    EXC_MISSING_OUT = 0,
    EXC_LATE,
    EXC_EARLY_LEAVE,
    EXC_ABSENT,
    EXC_UNSCHEDULED_PRESENCE,
    EXC_SHORT_REST,
    EXC_OVERTIME_UNAPPROVED,
    EXC__COUNT
};
const char *pay_exception_name(enum pay_exception_kind k); /* "missing_out", "late", ... */
bool pay_exception_parse(const char *s, enum pay_exception_kind *out);

enum pay_severity { SEV_INFO = 0, SEV_WARNING, SEV_CRITICAL };
const char *pay_severity_name(enum pay_severity s); /* "info", "warning", "critical" */
/* Each kind's fixed severity (docs/reports.md, "Exceptions"). */
enum pay_severity pay_exception_severity(enum pay_exception_kind k);

struct pay_exception {
    enum pay_exception_kind kind;
    enum pay_severity severity;
    int64_t minutes; /* late/early/overtime/absent minutes, the rest for short_rest; 0 otherwise */
};

/* What the engine knows of one day besides punches. */
struct pay_day_in {
    size_t nshifts;                                 /* 0: rest day */
    const struct pay_shift *shift[PLAN_MAX_SHIFTS]; /* this day's shifts */
    int shift_index[PLAN_MAX_SHIFTS];               /* copied to pay_day.shift_index */
    bool holiday;                                   /* a public holiday of the site */
    const struct leave_record *leave;               /* approved leave covering the day (leave_on), or NULL */
    bool overtime_approved;                         /* HR approved this day's overtime */
};

/* One person over work days first_day..first_day+ndays-1. days[] has ndays + 2 entries starting with the
 * day BEFORE first_day (so punches near the edges go to the right day). Punches in any order (sorted in
 * place); they should cover report_punch_window() of the range. */
struct pay_input {
    const att_tz *tz;
    const struct pay_rules *rules;
    int64_t first_day;
    size_t ndays;
    const struct pay_day_in *days;
    struct report_punch *punches;
    size_t npunches;
};

struct pay_day {
    int64_t day;                       /* the work day (local date, days since the epoch) */
    size_t nshifts;                    /* planned shifts */
    int shift_index[PLAN_MAX_SHIFTS];  /* from pay_day_in */
    int64_t start_us[PLAN_MAX_SHIFTS]; /* each planned shift's start and end instants, in time order */
    int64_t end_us[PLAN_MAX_SHIFTS];
    bool holiday;
    bool has_in, has_out;
    int64_t first_in_us, last_out_us;    /* as punched (when has_in / has_out) */
    int64_t scheduled_min;               /* sum of (shift length - break) */
    int64_t worked_min;                  /* paired, rounded intervals minus fixed breaks of worked shifts */
    int64_t regular_min;                 /* worked minus every overtime tier */
    int64_t ot_daily_min, ot_weekly_min; /* overtime tiers */
    int64_t ot_rest_day_min, ot_holiday_min;
    int64_t night_min;   /* worked minutes inside the night window (breaks not deducted) */
    int64_t holiday_min; /* worked minutes on a holiday */
    int64_t late_min, early_min;
    int64_t leave_min; /* minutes the approved leave credits */
    int leave_type;    /* the leave's type, -1 without leave */
    bool leave_paid;
    enum pay_status status;
    size_t nexc;
    struct pay_exception exc[EXC__COUNT]; /* at most one of each kind, in kind order */
};

/* Fill out[0..ndays-1]. ATT_E_INVALID for impossible input (bad minutes, NULL tz or rules). */
att_err pay_compute(const struct pay_input *in, struct pay_day *out);

/* The paid instant of a punch: ts rounded to a grid of round_min minutes of local time, clock-ins down
 * and clock-outs up for the employee, the other way for the employer. round_min <= 1: ts itself. */
int64_t pay_round(const att_tz *tz, int64_t ts_us, int round_min, enum pay_favour f, bool clock_in);

/* Minutes of [from_us, to_us) inside the rules' night window (whole minutes, floor). */
int64_t pay_night_minutes(const att_tz *tz, const struct pay_rules *r, int64_t from_us, int64_t to_us);

/* A person's totals over days. */
struct pay_totals {
    int64_t scheduled_min, worked_min, regular_min;
    int64_t ot_daily_min, ot_weekly_min, ot_rest_day_min, ot_holiday_min;
    int64_t night_min, holiday_min;
    int64_t leave_paid_min, leave_unpaid_min;
    int64_t leave_min[PAY_MAX_LEAVE_TYPES]; /* per leave type index */
    int64_t exceptions;                     /* exceptions of every kind */
    int64_t exceptions_by_kind[EXC__COUNT];
    int64_t absent_days;
};
/* Add day d to t; an exception in `resolved` (bit per kind; may be 0) is not counted. */
void pay_totals_add(struct pay_totals *t, const struct pay_day *d, unsigned resolved);

#ifdef __cplusplus
}
#endif

#endif
