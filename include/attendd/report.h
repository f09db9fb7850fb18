/* The attendance report engine (src/attendance/report.c): pure computation, no I/O. Punches +
 * assigned shifts + time zone (attendd/tz.h) -> per work day status and durations. docs/reports.md. */
#ifndef ATTENDD_REPORT_H
#define ATTENDD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/shift.h"
#include "attendd/time.h"
#include "attendd/tz.h"

#ifdef __cplusplus
extern "C" {
#endif

#define REPORT_SLACK_MIN 240 /* punches up to this long after an overnight shift's end stay on its day */

/* ---- the engine -------------------------------------------------------------------------------------- */

enum report_status {
    REPORT_OFF, /* no shift and no punches */
    REPORT_PRESENT,
    REPORT_LATE,
    REPORT_EARLY_LEAVE,
    REPORT_ABSENT,      /* a shift and no clock-in */
    REPORT_MISSING_OUT, /* a clock-in never followed by a clock-out on that work day */
};
const char *report_status_name(enum report_status s);

struct report_day {
    int64_t day;            /* the work day, days since the epoch (local calendar date) */
    bool scheduled;         /* a shift applies (shift_index valid) */
    size_t shift_index;     /* caller's index of the shift (from report_input.shift_index) */
    int64_t sched_start_us; /* scheduled start/end instants (when scheduled) */
    int64_t sched_end_us;
    int64_t from_us; /* the work day's punches lie in [from_us, until_us): its boundaries (docs/reports.md) */
    int64_t until_us;
    bool has_in, has_out;
    int64_t first_in_us; /* earliest clock-in of the work day (when has_in) */
    int64_t last_out_us; /* latest clock-out of the work day (when has_out) */
    int64_t worked_min;  /* paired in->out time, break deducted, whole minutes */
    int64_t late_min;
    int64_t early_min;
    int64_t overtime_min;
    enum report_status status;
};

/* One person's input: work days first_day..first_day+ndays-1, shift per day (NULL = off; index i is
 * first_day+i; the array also needs entries for day -1 and day ndays: pass ndays+2 entries starting
 * with the day BEFORE first_day, so punches near the edges go to the right day), punches in any order
 * (they are sorted in place). Punches outside the range's work days are ignored. */
struct report_input {
    const att_tz *tz;
    int cutoff_min; /* local day cut-off, minutes after midnight */
    int64_t first_day;
    size_t ndays;
    const struct report_shift *const *shifts; /* ndays + 2 entries, see above */
    const size_t *shift_index;                /* ndays + 2 entries: copied to report_day.shift_index; may be NULL */
    struct report_punch *punches;
    size_t npunches;
};

/* Where work day D ends and D+1 begins (docs/reports.md, "Work days"), for the report and the pay
 * engine alike: cutoff_us is D+1 at the day cut-off; has_d / has_next whether D / D+1 have a shift,
 * end_d D's (last) scheduled end, start_next D+1's (first) scheduled start. */
int64_t report_day_boundary(int64_t cutoff_us, bool has_d, int64_t end_d, bool has_next, int64_t start_next);

/* Fill out[0..ndays-1]. ATT_E_INVALID for an impossible input (bad minutes, NULL tz). */
att_err report_compute(const struct report_input *in, struct report_day *out);

/* The UTC window [*from_us, *to_us) of punches that can belong to work days first..last: ask the
 * database for these (it covers the cut-off and overnight slack on both sides). */
void report_punch_window(const att_tz *tz, int64_t first_day, int64_t last_day, int64_t *from_us, int64_t *to_us);

#ifdef __cplusplus
}
#endif

#endif
