/* The attendance report engine (src/attendance/report.c): pure computation, no I/O besides reading a
 * tzfile once. Punches + assigned shifts + time zone -> per work day status and durations. docs/reports.md. */
#ifndef ATTENDD_REPORT_H
#define ATTENDD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define REPORT_SLACK_MIN 240 /* punches up to this long after an overnight shift's end stay on its day */

/* ---- time zones: thread-safe UTC <-> local for one IANA zone, from its TZif file ------------------- */

typedef struct report_tz report_tz; /* immutable once loaded: share freely between threads */

/* Load zone name ("Europe/Berlin", "UTC") from dir (NULL: $TZDIR or /usr/share/zoneinfo). Names with
 * "..", a leading '/' or characters outside [A-Za-z0-9/_+-] are refused (ATT_E_INVALID); a missing or
 * malformed file gives ATT_E_NOT_FOUND / ATT_E_INVALID ("UTC" and "Etc/UTC" work without the files).
 * *out: free with report_tz_free. */
att_err report_tz_load(const char *name, const char *dir, report_tz **out);
void report_tz_free(report_tz *tz);
/* UTC offset in seconds (east positive) in force at instant utc_s (seconds since the epoch). */
int32_t report_tz_offset(const report_tz *tz, int64_t utc_s);
/* The instant of local wall time local_s (seconds since the epoch as if the wall clock were UTC).
 * A time skipped by a spring-forward gap is read with the offset before the gap (02:30 -> 03:30 CEST);
 * a repeated autumn time is its first occurrence. */
int64_t report_tz_to_utc(const report_tz *tz, int64_t local_s);

/* Days since 1970-01-01 of a Gregorian date, and back. */
int64_t report_days_from_civil(int y, int m, int d);
void report_civil_from_days(int64_t days, int *y, int *m, int *d);
/* "YYYY-MM-DD" -> days since the epoch; false if it does not parse or does not exist. */
bool report_date_parse(const char *s, int64_t *days);
/* "HH:MM" (00:00..23:59) -> minutes after midnight. */
bool report_hhmm_parse(const char *s, int *min);
/* RFC 3339 with the zone's offset, to the second: "2026-03-29T07:58:00+02:00". out >= 32 bytes. */
void report_format_time(const report_tz *tz, int64_t utc_us, char out[32]);

/* ---- the engine -------------------------------------------------------------------------------------- */

struct report_shift {
    int start_min;        /* local minutes after midnight, 0..1439 */
    int end_min;          /* 0..1439; end <= start: the shift ends the next calendar day (overnight) */
    int grace_late_min;   /* arriving up to this many minutes after start is not late */
    int grace_early_min;  /* leaving up to this many minutes before end is not early */
    int break_min;        /* deducted once from the worked time */
};

enum report_kind { REPORT_IN, REPORT_OUT };

struct report_punch {
    int64_t ts_us;         /* µs since the epoch (UTC) */
    enum report_kind kind;
};

enum report_status {
    REPORT_OFF,          /* no shift and no punches */
    REPORT_PRESENT,
    REPORT_LATE,
    REPORT_EARLY_LEAVE,
    REPORT_ABSENT,       /* a shift and no clock-in */
    REPORT_MISSING_OUT,  /* a clock-in never followed by a clock-out on that work day */
};
const char *report_status_name(enum report_status s);

struct report_day {
    int64_t day;              /* the work day, days since the epoch (local calendar date) */
    bool scheduled;           /* a shift applies (shift_index valid) */
    size_t shift_index;       /* caller's index of the shift (from report_input.shift_index) */
    int64_t sched_start_us;   /* scheduled start/end instants (when scheduled) */
    int64_t sched_end_us;
    bool has_in, has_out;
    int64_t first_in_us;      /* earliest clock-in of the work day (when has_in) */
    int64_t last_out_us;      /* latest clock-out of the work day (when has_out) */
    int64_t worked_min;       /* paired in->out time, break deducted, whole minutes */
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
    const report_tz *tz;
    int cutoff_min;                          /* local day cut-off, minutes after midnight */
    int64_t first_day;
    size_t ndays;
    const struct report_shift *const *shifts; /* ndays + 2 entries, see above */
    const size_t *shift_index;               /* ndays + 2 entries: copied to report_day.shift_index; may be NULL */
    struct report_punch *punches;
    size_t npunches;
};

/* Fill out[0..ndays-1]. ATT_E_INVALID for an impossible input (bad minutes, NULL tz). */
att_err report_compute(const struct report_input *in, struct report_day *out);

/* The UTC window [*from_us, *to_us) of punches that can belong to work days first..last: ask the
 * database for these (it covers the cut-off and overnight slack on both sides). */
void report_punch_window(const report_tz *tz, int64_t first_day, int64_t last_day, int64_t *from_us, int64_t *to_us);

#ifdef __cplusplus
}
#endif

#endif
