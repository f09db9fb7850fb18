/* Roster resolution (src/attendance/plan.c): pure, no I/O. Weekly patterns and rotating cycles for a
 * person or a department, dated overrides, holidays and leave -> the plan of one person for one day.
 * Precedence: person override > person pattern > department pattern (docs/reports.md, "Rosters"). */
#ifndef ATTENDD_PLAN_H
#define ATTENDD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAN_MAX_SHIFTS 4       /* shifts in one day: split shifts, an on-call block next to a shift */
#define PLAN_MAX_CYCLE 366      /* longest rotation, in days */
#define PLAN_OPEN_END INT64_MAX /* valid_to of an open-ended pattern */

/* The shifts of one day, as indices into the caller's shift table; n == 0 is a day off. */
struct plan_day {
    size_t n;                   /* shifts this day, 0..PLAN_MAX_SHIFTS */
    int shift[PLAN_MAX_SHIFTS]; /* caller's shift indices, in the order given */
};

enum plan_kind {
    PLAN_WEEKLY,   /* cycle[0..6] = Monday .. Sunday */
    PLAN_ROTATION, /* cycle of cycle_len days; anchor_day is cycle[0] */
};

/* A pattern, for one person or one department, in force valid_from..valid_to (inclusive). */
struct plan_pattern {
    enum plan_kind kind;
    int64_t valid_from, valid_to; /* days since 1970-01-01; valid_to PLAN_OPEN_END = open-ended */
    int64_t anchor_day;           /* rotation: the day that is cycle[0] (days before it wrap backwards) */
    size_t cycle_len;             /* weekly: 7; rotation: 1..PLAN_MAX_CYCLE */
    const struct plan_day *cycle; /* cycle_len entries */
};

/* A dated override for one person: the whole day's plan (n == 0: the day off). */
struct plan_override {
    int64_t day;
    struct plan_day plan;
};

/* Where a day's plan came from. */
enum plan_source {
    PLAN_SRC_NONE = 0,   /* nothing applies: a rest day */
    PLAN_SRC_DEPARTMENT, /* the department's pattern */
    PLAN_SRC_PERSON,     /* the person's own pattern */
    PLAN_SRC_OVERRIDE,   /* a dated override */
};
const char *plan_source_name(enum plan_source s); /* "none", "department", "person", "override" */

/* One person's definitions. Among several patterns of one level in force on a day, the one with the
 * latest valid_from wins (so a new pattern can start while an open-ended one runs on). */
struct plan_inputs {
    const struct plan_override *overrides; /* the person's overrides, any order */
    size_t noverrides;
    const struct plan_pattern *person; /* the person's patterns */
    size_t nperson;
    const struct plan_pattern *department; /* the patterns of the person's department */
    size_t ndepartment;
};

/* ATT_E_INVALID for a pattern that cannot be read (cycle_len 0 or over PLAN_MAX_CYCLE, a weekly one not
 * of 7, NULL cycle, valid_to before valid_from, a day of more than PLAN_MAX_SHIFTS). */
att_err plan_pattern_check(const struct plan_pattern *p);

/* The plan of `day`: *out and *src. Patterns must have passed plan_pattern_check. */
void plan_resolve(const struct plan_inputs *in, int64_t day, struct plan_day *out, enum plan_source *src);

/* The cycle entry a pattern gives `day` (valid range not checked): weekly by weekday, rotation by
 * (day - anchor_day) mod cycle_len. */
size_t plan_cycle_index(const struct plan_pattern *p, int64_t day);

/* ---- holidays and leave -------------------------------------------------------------------------- */

enum leave_state {
    LEAVE_REQUESTED = 0, /* not yet decided: does not excuse */
    LEAVE_APPROVED,      /* excuses the time it covers */
    LEAVE_REJECTED,      /* does not excuse */
};
const char *leave_state_name(enum leave_state s); /* "requested", "approved", "rejected" */
/* "requested" / "approved" / "rejected" -> state; false otherwise. */
bool leave_state_parse(const char *s, enum leave_state *out);

/* A leave record of one person. */
struct leave_record {
    int64_t from_day, to_day; /* inclusive */
    int type;                 /* caller's leave-type index */
    bool paid;                /* the type counts as paid time */
    enum leave_state state;
    bool part_day;        /* false: whole days; true: from_min..to_min local on each day */
    int from_min, to_min; /* part day: local minutes, 0 <= from < to <= 1440 */
};

/* ATT_E_INVALID for impossible values (to_day before from_day, bad part-day minutes). */
att_err leave_check(const struct leave_record *l);

/* The approved leave covering `day` among n records, or NULL; a whole-day record beats a part-day one,
 * then the first given. */
const struct leave_record *leave_on(const struct leave_record *l, size_t n, int64_t day);

/* Whether `day` is in the sorted (ascending) array of holiday days. */
bool holiday_on(const int64_t *days, size_t n, int64_t day);

#ifdef __cplusplus
}
#endif

#endif
