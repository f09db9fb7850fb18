/* Shifts, schedules and the report's reads in PostgreSQL (tables shifts, schedules; sql/005_shifts.sql):
 * CRUD for /api/v1/shifts and /api/v1/schedules, and the three reads behind GET /api/v1/attendance. */
#ifndef ATTENDD_STORE_SHIFTS_H
#define ATTENDD_STORE_SHIFTS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/shift.h"
#include "attendd/uuid.h"

#define SHIFT_NAME_MAX 401 /* 100 characters of UTF-8 + NUL */
#define SHIFT_TIME_MAX 32  /* RFC 3339 UTC + NUL, with room */
#define SCHED_DEPT_MAX 801 /* 200 characters of UTF-8 + NUL */

struct shift_row {
    char id[ATT_UUID_STR];
    char name[SHIFT_NAME_MAX];
    char start[6], end[6]; /* "HH:MM" local wall time */
    int grace_late_min, grace_early_min, break_min;
    char created_at[SHIFT_TIME_MAX], updated_at[SHIFT_TIME_MAX];
    int round_min;        /* pay rule: punches rounded to this many minutes (0: none) */
    char round_favour[9]; /* "employee" or "employer" */
    bool break_punched;   /* pay rule: the break is punched, not deducted */
};

/* A partial update: NULL / false leaves a column as it is. */
struct shift_patch {
    const char *name, *start, *end;
    bool set_grace_late, set_grace_early, set_break;
    int grace_late_min, grace_early_min, break_min;
    bool set_round, set_break_punched; /* pay rules */
    int round_min;
    const char *round_favour; /* NULL: unchanged */
    bool break_punched;
};

/* ATT_E_CONFLICT: the name is taken; ATT_E_INVALID: the database refused a value. */
att_err store_shift_create(PGconn *c, const char *name, const char *start, const char *end, int grace_late,
                           int grace_early, int break_min, struct shift_row *out);
att_err store_shift_get(PGconn *c, const char *id, struct shift_row *out); /* ATT_E_NOT_FOUND */
att_err store_shift_list(PGconn *c, struct shift_row **out, size_t *n);    /* by name; free(*out) */
att_err store_shift_update(PGconn *c, const char *id, const struct shift_patch *p, struct shift_row *out);
/* ATT_E_NOT_FOUND; ATT_E_CONFLICT while a schedule still uses the shift. */
att_err store_shift_delete(PGconn *c, const char *id);

struct schedule_row {
    char id[ATT_UUID_STR];
    char shift_id[ATT_UUID_STR];
    char department[SCHED_DEPT_MAX];   /* "" when the schedule is a person's */
    char person_id[ATT_UUID_STR];      /* "" when the schedule is a department's */
    char valid_from[11], valid_to[11]; /* "YYYY-MM-DD"; valid_to "" = open-ended */
    char created_at[SHIFT_TIME_MAX], updated_at[SHIFT_TIME_MAX];
};

struct schedule_patch {
    const char *shift_id;   /* NULL: unchanged */
    const char *valid_from; /* NULL: unchanged */
    bool set_valid_to;      /* change valid_to, to valid_to (NULL = open-ended) */
    const char *valid_to;
};

/* Exactly one of department / person_id non-NULL (checked by the caller). ATT_E_NOT_FOUND with *bad
 * = "shift_id" or "person_id" when that row does not exist; ATT_E_CONFLICT when the target already has
 * a schedule overlapping the dates; ATT_E_INVALID when the database refused a value. */
att_err store_schedule_create(PGconn *c, const char *shift_id, const char *department, const char *person_id,
                              const char *valid_from, const char *valid_to, struct schedule_row *out, const char **bad);
att_err store_schedule_get(PGconn *c, const char *id, struct schedule_row *out);
/* Filters may be NULL. Ordered by valid_from. free(*out). */
att_err store_schedule_list(PGconn *c, const char *department, const att_uuid *person_id, struct schedule_row **out,
                            size_t *n);
/* As create for the errors (ATT_E_NOT_FOUND without *bad: no such schedule). */
att_err store_schedule_update(PGconn *c, const char *id, const struct schedule_patch *p, struct schedule_row *out,
                              const char **bad);
att_err store_schedule_delete(PGconn *c, const char *id);

/* ---- the report's reads ------------------------------------------------------------------------------ */

struct rep_person {
    char id[ATT_UUID_STR];
    const char *employee_no, *name, *department; /* into the same block; department "" when none */
};

struct rep_schedule {
    char person_id[ATT_UUID_STR]; /* "" for a department's */
    const char *department;       /* NULL for a person's */
    int64_t from_day, to_day;     /* inclusive, days since the epoch; to_day INT64_MAX when open */
    char shift_id[ATT_UUID_STR];
    const char *shift_name;
    struct report_shift shift;
};

struct rep_punch {
    char person_id[ATT_UUID_STR];
    struct report_punch p;
};

/* Does any person or schedule name this department? */
att_err store_report_department_known(PGconn *c, const char *department, bool *known);
/* Non-erased people, filtered (NULLs = all), by name. One block: free(*out). */
att_err store_report_people(PGconn *c, const char *department, const att_uuid *person_id, struct rep_person **out,
                            size_t *n);
/* Schedules overlapping [from_day, to_day], with their shifts. One block: free(*out). */
att_err store_report_schedules(PGconn *c, int64_t from_day, int64_t to_day, struct rep_schedule **out, size_t *n);
/* Non-voided punches in [from_us, to_us) of people matching the filters, by person then time. free(*out). */
att_err store_report_punches(PGconn *c, int64_t from_us, int64_t to_us, const char *department,
                             const att_uuid *person_id, struct rep_punch **out, size_t *n);

#endif
