/* Time for every module: the two clocks in µs, deadlines, RFC 3339 text and civil-date arithmetic. */
#ifndef ATTENDD_TIME_H
#define ATTENDD_TIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATT_TIME_TEXT_MAX 64                       /* longest RFC 3339 text parsed, NUL included */
#define ATT_DATE_TEXT 11                           /* "YYYY-MM-DD" + NUL */
#define ATT_TIME_MIN_US (-62135596800LL * 1000000) /* 0001-01-01T00:00:00Z: timestamptz text keeps 4-digit years */
#define ATT_TIME_MAX_US (253402300799LL * 1000000) /* 9999-12-31T23:59:59Z */
#define ATT_DAY_S 86400

/* ---- clocks and deadlines ------------------------------------------------------------------------ */

/* CLOCK_MONOTONIC in µs: for intervals and deadlines (never steps). */
int64_t att_time_mono_us(void);
/* CLOCK_REALTIME in µs since 1970-01-01T00:00:00Z: for timestamps that leave the process. */
int64_t att_time_wall_us(void);
/* The monotonic clock in seconds, for rates and intervals kept as doubles. */
double att_time_mono_s(void);

/* A deadline is a monotonic instant in µs. timeout_us < 0 counts as 0 (already due). */
int64_t att_time_deadline(int64_t timeout_us);
/* µs left until the deadline, 0 once it has passed. */
int64_t att_time_remaining_us(int64_t deadline);
bool att_time_expired(int64_t deadline);
/* µs as the timespec of pthread_cond_timedwait: a deadline for a CLOCK_MONOTONIC condition, a wall
 * instant for one on the default clock. */
struct timespec att_time_timespec(int64_t mono_us);
/* Initialise cv so pthread_cond_timedwait takes att_time_timespec deadlines (CLOCK_MONOTONIC: a
 * wall-clock step must not stretch or cut a wait). 0, or the error number pthread_cond_init gives. */
int att_time_cond_init(pthread_cond_t *cv);
/* Set *flag under mu and wake every waiter on cv: how a waiting thread is told to stop or look again. */
void att_time_cond_raise(pthread_mutex_t *mu, pthread_cond_t *cv, bool *flag);

/* ---- civil dates (proleptic Gregorian; days count from 1970-01-01) ---------------------------- */

bool att_time_leap_year(int y);
/* Days of month m (1..12) of year y. */
int att_time_month_days(int y, int m);
int64_t att_time_days_from_civil(int y, int m, int d);
void att_time_civil_from_days(int64_t days, int *y, int *m, int *d);
/* 0 = Sunday .. 6 = Saturday. */
int att_time_weekday(int64_t days);
/* The calendar date n days after (n < 0: before) *y-*m-*d, in place. */
void att_time_add_days(int *y, int *m, int *d, int64_t n);
/* Integer division rounding towards minus infinity (b > 0): the day of an instant before 1970. */
int64_t att_time_floor_div(int64_t a, int64_t b);

/* ---- text ------------------------------------------------------------------------------------------ */

/* RFC 3339 date-time ("2024-05-01T07:59:12Z", "2024-05-01T09:59:12.5+02:00"; 'T'/'Z' in either
 * case; fraction up to 9 digits; seconds 00-60; offsets up to ±23:59; years 0001-9999; at most
 * ATT_TIME_TEXT_MAX - 1 bytes) to µs since the epoch (fraction truncated to µs; a leap second counts
 * as the next second, as PostgreSQL reads it). The instant must lie within ATT_TIME_MIN_US ..
 * ATT_TIME_MAX_US. false for anything else, including dates that do not exist and trailing bytes. */
bool att_time_parse(const char *s, int64_t *us);
/* "YYYY-MM-DD" (years 0001-9999, a date that exists) -> days since the epoch. */
bool att_time_date_parse(const char *s, int64_t *days);
/* "HH:MM" (00:00..23:59) -> minutes after midnight. */
bool att_time_hhmm_parse(const char *s, int *min);

enum att_time_form {
    ATT_TIME_OFFSET,  /* RFC 3339 to the second with the offset: "2026-03-29T07:58:00+02:00" */
    ATT_TIME_UTC_MS,  /* RFC 3339 UTC with milliseconds: "2024-05-01T07:59:12.123Z" */
    ATT_TIME_SQL_UTC, /* PostgreSQL timestamptz input: "2024-05-01 07:59:12.123456+00" */
    ATT_TIME_HTTP,    /* HTTP date (RFC 9110 IMF-fixdate), any locale: "Wed, 01 May 2024 07:59:12 GMT" */
};
/* Instant us (µs since the epoch) shown at offset_s seconds east of UTC (ATT_TIME_OFFSET only; the
 * UTC forms ignore it). false (out = "") when the local year is outside 1..9999 or out is too small. */
bool att_time_format(int64_t us, int32_t offset_s, enum att_time_form form, char *out, size_t outlen);
/* Days since the epoch as "YYYY-MM-DD"; false (out = "") outside years 1..9999. */
bool att_time_date_format(int64_t days, char out[ATT_DATE_TEXT]);

#ifdef __cplusplus
}
#endif

#endif
