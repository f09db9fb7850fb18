/* The report engine (src/attendance/report.c) against hand-computed values: TZif zones and DST, work
 * days around the cut-off, every status, late/early/overtime/break minutes, overnight and DST shifts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/report.h"
#include "attendd/time.h"
#include "attendd/tz.h"
#include "support.h"

#define H(h, m) ((int64_t)(h)*3600 + (int64_t)(m)*60)

static att_tz *zone(const char *name)
{
    att_tz *tz = NULL;
    ck_assert_msg(att_tz_load(name, NULL, &tz) == ATT_OK, "zone %s (is tzdata installed?)", name);
    return tz;
}

/* µs instant of a UTC wall time */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return (att_time_days_from_civil(y, mo, d) * 86400 + H(h, mi)) * 1000000;
}

static const struct report_shift day_shift = {
    .start_min = 8 * 60, .end_min = 16 * 60, .grace_late_min = 5, .grace_early_min = 5, .break_min = 30};
static const struct report_shift night_shift = {
    .start_min = 20 * 60, .end_min = 5 * 60, .grace_late_min = 5, .grace_early_min = 5, .break_min = 30};
static const struct report_shift dst_shift = {.start_min = 22 * 60, .end_min = 6 * 60};

/* Compute one work day (date y-m-d) with shift sh (also on the days around it: none) */
static struct report_day one(const att_tz *tz, int y, int m, int d, const struct report_shift *sh,
                             struct report_punch *p, size_t n)
{
    const struct report_shift *shifts[3] = {NULL, sh, NULL};
    struct report_input in = {.tz = tz,
                              .cutoff_min = 240,
                              .first_day = att_time_days_from_civil(y, m, d),
                              .ndays = 1,
                              .shifts = shifts,
                              .punches = p,
                              .npunches = n};
    struct report_day out;
    ck_assert_int_eq(report_compute(&in, &out), ATT_OK);
    return out;
}

#define P_IN(t)            \
    {                      \
        (t), EVENT_KIND_IN \
    }
#define P_OUT(t)            \
    {                       \
        (t), EVENT_KIND_OUT \
    }

START_TEST(tz_offsets_and_gaps)
{
    att_tz *b = zone("Europe/Berlin");
    /* 2026-03-29 01:00Z: CET -> CEST; 2026-10-25 01:00Z: CEST -> CET */
    int64_t spring = att_time_days_from_civil(2026, 3, 29) * 86400 + 3600,
            autumn = att_time_days_from_civil(2026, 10, 25) * 86400 + 3600;
    ck_assert_int_eq(att_tz_offset(b, spring - 1), 3600);
    ck_assert_int_eq(att_tz_offset(b, spring), 7200);
    ck_assert_int_eq(att_tz_offset(b, autumn - 1), 7200);
    ck_assert_int_eq(att_tz_offset(b, autumn), 3600);
    int64_t d29 = att_time_days_from_civil(2026, 3, 29), d25 = att_time_days_from_civil(2026, 10, 25);
    /* 23 h and 25 h local days */
    ck_assert_int_eq(att_tz_to_utc(b, (d29 + 1) * 86400) - att_tz_to_utc(b, d29 * 86400), 23 * 3600);
    ck_assert_int_eq(att_tz_to_utc(b, (d25 + 1) * 86400) - att_tz_to_utc(b, d25 * 86400), 25 * 3600);
    /* skipped 02:30 reads as 03:30 CEST = 01:30Z; repeated 02:30 is the first (CEST) one = 00:30Z */
    ck_assert_int_eq(att_tz_to_utc(b, d29 * 86400 + H(2, 30)), d29 * 86400 + H(1, 30));
    ck_assert_int_eq(att_tz_to_utc(b, d25 * 86400 + H(2, 30)), d25 * 86400 + H(0, 30));
    /* beyond the file's table (the POSIX footer): July 2040 is CEST, January 2040 CET */
    ck_assert_int_eq(att_tz_offset(b, att_time_days_from_civil(2040, 7, 1) * 86400), 7200);
    ck_assert_int_eq(att_tz_offset(b, att_time_days_from_civil(2040, 1, 1) * 86400), 3600);
    ck_assert_int_eq(att_tz_offset(b, att_time_days_from_civil(2040, 3, 25) * 86400 + 3600), 7200); /* last Sun */
    char s[32];
    att_tz_format(b, (spring - 60) * 1000000, s);
    ck_assert_str_eq(s, "2026-03-29T01:59:00+01:00");
    att_tz_format(b, spring * 1000000, s);
    ck_assert_str_eq(s, "2026-03-29T03:00:00+02:00");
    att_tz_free(b);
    att_tz *u = zone("UTC"), *ny = zone("America/New_York"), *k = zone("Asia/Kolkata");
    att_tz_format(u, utc(2026, 1, 31, 23, 59), s);
    ck_assert_str_eq(s, "2026-01-31T23:59:00+00:00");
    att_tz_format(ny, utc(2026, 7, 1, 12, 0), s);
    ck_assert_str_eq(s, "2026-07-01T08:00:00-04:00");
    att_tz_format(k, utc(2026, 7, 1, 12, 0), s);
    ck_assert_str_eq(s, "2026-07-01T17:30:00+05:30");
    att_tz_free(u);
    att_tz_free(ny);
    att_tz_free(k);
    att_tz *bad = NULL;
    ck_assert_int_eq(att_tz_load("../etc/passwd", NULL, &bad), ATT_E_INVALID);
    ck_assert_int_eq(att_tz_load("Mars/Olympus", NULL, &bad), ATT_E_NOT_FOUND);
    ck_assert_int_eq(att_tz_load("Europe/Berlin", "/nonexistent", &bad), ATT_E_NOT_FOUND);
    ck_assert_int_eq(att_tz_load("UTC", "/nonexistent", &bad), ATT_OK); /* built in */
    ck_assert_int_eq(att_tz_offset(bad, 1700000000), 0);
    att_tz_free(bad);
    bad = NULL;
    ck_assert_ptr_null(bad);
    int64_t dd;
    ck_assert(att_time_date_parse("2024-02-29", &dd));
    ck_assert(!att_time_date_parse("2026-02-29", &dd));
    ck_assert(!att_time_date_parse("2026-1-01", &dd));
    ck_assert(!att_time_date_parse("2026-01-01x", &dd));
}
END_TEST

/* The TZif reader against glibc localtime_r (TZ switched: this test is single-threaded) every
 * 433 minutes from 1970 to 2060 (past the files' tables: the POSIX footer), in zones with southern
 * DST, negative DST (Dublin), half-hour and 45-minute offsets and rule changes. */
START_TEST(tz_matches_glibc)
{
    static const char *const names[] = {
        "Europe/Berlin",   "America/New_York",  "Australia/Sydney",  "Europe/Dublin",       "Asia/Kolkata",
        "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca", "Australia/Lord_Howe", "UTC"};
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    for (size_t z = 0; z < sizeof names / sizeof names[0]; z++) {
        att_tz *tz = zone(names[z]);
        setenv("TZ", names[z], 1);
        tzset();
        size_t bad = 0;
        for (int64_t t = 0; t < att_time_days_from_civil(2060, 1, 1) * 86400; t += 433 * 60) {
            time_t tt = (time_t)t;
            struct tm tm;
            ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
            if (att_tz_offset(tz, t) != tm.tm_gmtoff && bad++ < 3)
                fprintf(stderr, "%s at %lld: %d, glibc %ld\n", names[z], (long long)t, att_tz_offset(tz, t),
                        tm.tm_gmtoff);
            /* and back: an existing, unambiguous local time maps to the same instant */
            int64_t local = t + tm.tm_gmtoff;
            int64_t back = att_tz_to_utc(tz, local);
            if (back != t && att_tz_offset(tz, local - 86400) == att_tz_offset(tz, local + 86400) && bad++ < 3)
                fprintf(stderr, "%s local %lld: %lld, expected %lld\n", names[z], (long long)local, (long long)back,
                        (long long)t);
        }
        ck_assert_msg(bad == 0, "%s: %zu disagreements with glibc", names[z], bad);
        att_tz_free(tz);
    }
    if (saved) setenv("TZ", saved, 1);
    else unsetenv("TZ");
    free(saved);
    tzset();
}
END_TEST

START_TEST(day_shift_cases)
{
    att_tz *u = zone("UTC");
    struct report_day d;
    /* on time: 07:58-16:02 = 484 min, minus 30 break = 454; net scheduled 450 -> 4 overtime */
    struct report_punch a[] = {P_OUT(utc(2026, 5, 4, 16, 2)), P_IN(utc(2026, 5, 4, 7, 58))};
    d = one(u, 2026, 5, 4, &day_shift, a, 2);
    ck_assert_str_eq(report_status_name(d.status), "present");
    ck_assert(d.scheduled && d.has_in && d.has_out);
    ck_assert_int_eq(d.first_in_us, utc(2026, 5, 4, 7, 58));
    ck_assert_int_eq(d.last_out_us, utc(2026, 5, 4, 16, 2));
    ck_assert_int_eq(d.worked_min, 454);
    ck_assert_int_eq(d.late_min, 0);
    ck_assert_int_eq(d.early_min, 0);
    ck_assert_int_eq(d.overtime_min, 4);
    /* late within grace (4 min <= 5) */
    struct report_punch b[] = {P_IN(utc(2026, 5, 4, 8, 4)), P_OUT(utc(2026, 5, 4, 16, 0))};
    d = one(u, 2026, 5, 4, &day_shift, b, 2);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    ck_assert_int_eq(d.late_min, 0);
    ck_assert_int_eq(d.worked_min, 446);
    ck_assert_int_eq(d.overtime_min, 0);
    /* late beyond grace: the whole 20 minutes count */
    struct report_punch c[] = {P_IN(utc(2026, 5, 4, 8, 20)), P_OUT(utc(2026, 5, 4, 16, 0))};
    d = one(u, 2026, 5, 4, &day_shift, c, 2);
    ck_assert_int_eq(d.status, REPORT_LATE);
    ck_assert_int_eq(d.late_min, 20);
    ck_assert_int_eq(d.worked_min, 430);
    /* early leave, with a mid-day out/in pair: 08:00-12:00 + 12:30-15:30 = 420 - 30 */
    struct report_punch e[] = {P_IN(utc(2026, 5, 4, 8, 0)), P_OUT(utc(2026, 5, 4, 12, 0)),
                               P_IN(utc(2026, 5, 4, 12, 30)), P_OUT(utc(2026, 5, 4, 15, 30))};
    d = one(u, 2026, 5, 4, &day_shift, e, 4);
    ck_assert_str_eq(report_status_name(d.status), "early_leave");
    ck_assert_int_eq(d.early_min, 30);
    ck_assert_int_eq(d.worked_min, 390);
    ck_assert_int_eq(d.first_in_us, utc(2026, 5, 4, 8, 0));
    /* early within grace */
    struct report_punch e2[] = {P_IN(utc(2026, 5, 4, 8, 0)), P_OUT(utc(2026, 5, 4, 15, 55))};
    d = one(u, 2026, 5, 4, &day_shift, e2, 2);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    ck_assert_int_eq(d.early_min, 0);
    /* late and early: status late, both counted */
    struct report_punch le[] = {P_IN(utc(2026, 5, 4, 9, 0)), P_OUT(utc(2026, 5, 4, 15, 0))};
    d = one(u, 2026, 5, 4, &day_shift, le, 2);
    ck_assert_int_eq(d.status, REPORT_LATE);
    ck_assert_int_eq(d.late_min, 60);
    ck_assert_int_eq(d.early_min, 60);
    /* overtime: 08:00-18:00 = 600 - 30 = 570, net 450 */
    struct report_punch o[] = {P_IN(utc(2026, 5, 4, 8, 0)), P_OUT(utc(2026, 5, 4, 18, 0))};
    d = one(u, 2026, 5, 4, &day_shift, o, 2);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    ck_assert_int_eq(d.overtime_min, 120);
    ck_assert_int_eq(d.worked_min, 570);
    /* absent: a shift and no clock-in (a lone clock-out does not count) */
    struct report_punch ab[] = {P_OUT(utc(2026, 5, 4, 16, 0))};
    d = one(u, 2026, 5, 4, &day_shift, ab, 1);
    ck_assert_str_eq(report_status_name(d.status), "absent");
    ck_assert(!d.has_in && d.has_out);
    ck_assert_int_eq(d.worked_min, 0);
    d = one(u, 2026, 5, 4, &day_shift, NULL, 0);
    ck_assert_int_eq(d.status, REPORT_ABSENT);
    /* off: no shift, no punches; with punches on a day off everything is overtime, no break */
    d = one(u, 2026, 5, 4, NULL, NULL, 0);
    ck_assert_str_eq(report_status_name(d.status), "off");
    ck_assert(!d.scheduled);
    struct report_punch off[] = {P_IN(utc(2026, 5, 4, 10, 0)), P_OUT(utc(2026, 5, 4, 12, 0))};
    d = one(u, 2026, 5, 4, NULL, off, 2);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    ck_assert_int_eq(d.worked_min, 120);
    ck_assert_int_eq(d.overtime_min, 120);
    /* missing_out: in, never out; lateness still shows, no worked time */
    struct report_punch mo[] = {P_IN(utc(2026, 5, 4, 8, 10))};
    d = one(u, 2026, 5, 4, &day_shift, mo, 1);
    ck_assert_str_eq(report_status_name(d.status), "missing_out");
    ck_assert_int_eq(d.late_min, 10);
    ck_assert_int_eq(d.worked_min, 0);
    ck_assert(!d.has_out);
    /* punches after the cut-off (04:00 next day) belong to the next work day */
    struct report_punch nx[] = {P_IN(utc(2026, 5, 5, 4, 30)), P_OUT(utc(2026, 5, 5, 5, 0))};
    d = one(u, 2026, 5, 4, &day_shift, nx, 2);
    ck_assert_int_eq(d.status, REPORT_ABSENT);
    att_tz_free(u);
}
END_TEST

START_TEST(overnight_month_boundary)
{
    att_tz *u = zone("UTC");
    /* Jan 31 20:00 - Feb 1 05:00; Feb 1 a day shift; out at 05:10 is past the 04:00 cut-off but
     * before the midpoint (06:30) between the two shifts, so it stays on Jan 31 */
    const struct report_shift *shifts[4] = {NULL, &night_shift, &day_shift, NULL};
    size_t idx[4] = {0, 7, 8, 0};
    struct report_punch p[] = {P_IN(utc(2026, 1, 31, 19, 55)), P_OUT(utc(2026, 2, 1, 5, 10)),
                               P_IN(utc(2026, 2, 1, 7, 0)), P_OUT(utc(2026, 2, 1, 16, 0))};
    struct report_input in = {.tz = u,
                              .cutoff_min = 240,
                              .first_day = att_time_days_from_civil(2026, 1, 31),
                              .ndays = 2,
                              .shifts = shifts,
                              .shift_index = idx,
                              .punches = p,
                              .npunches = 4};
    struct report_day d[2];
    ck_assert_int_eq(report_compute(&in, d), ATT_OK);
    ck_assert_int_eq(d[0].shift_index, 7);
    ck_assert_int_eq(d[0].sched_start_us, utc(2026, 1, 31, 20, 0));
    ck_assert_int_eq(d[0].sched_end_us, utc(2026, 2, 1, 5, 0));
    ck_assert_int_eq(d[0].first_in_us, utc(2026, 1, 31, 19, 55));
    ck_assert_int_eq(d[0].last_out_us, utc(2026, 2, 1, 5, 10));
    ck_assert_int_eq(d[0].worked_min, 555 - 30);
    ck_assert_int_eq(d[0].overtime_min, 15);
    ck_assert_int_eq(d[0].status, REPORT_PRESENT);
    ck_assert_int_eq(d[1].shift_index, 8);
    ck_assert_int_eq(d[1].first_in_us, utc(2026, 2, 1, 7, 0));
    ck_assert_int_eq(d[1].worked_min, 540 - 30);
    ck_assert_int_eq(d[1].overtime_min, 60);
    /* the boundaries: the cut-off before the evening shift, the midpoint between the two shifts, the
     * cut-off after the day shift */
    ck_assert_int_eq(d[0].from_us, utc(2026, 1, 31, 4, 0));
    ck_assert_int_eq(d[0].until_us, utc(2026, 2, 1, 6, 30));
    ck_assert_int_eq(d[1].from_us, utc(2026, 2, 1, 6, 30));
    ck_assert_int_eq(d[1].until_us, utc(2026, 2, 2, 4, 0));
    /* without a next-day shift the overnight day keeps punches up to 4 h after its end */
    const struct report_shift *s2[3] = {NULL, &night_shift, NULL};
    struct report_punch q[] = {P_IN(utc(2026, 1, 31, 20, 30)), P_OUT(utc(2026, 2, 1, 8, 59))};
    struct report_input in2 = {.tz = u,
                               .cutoff_min = 240,
                               .first_day = att_time_days_from_civil(2026, 1, 31),
                               .ndays = 1,
                               .shifts = s2,
                               .punches = q,
                               .npunches = 2};
    ck_assert_int_eq(report_compute(&in2, d), ATT_OK);
    ck_assert_int_eq(d[0].status, REPORT_LATE);
    ck_assert_int_eq(d[0].late_min, 30);
    ck_assert_int_eq(d[0].worked_min, 749 - 30);
    ck_assert_int_eq(d[0].overtime_min, 719 - 510);
    ck_assert_int_eq(d[0].from_us, utc(2026, 1, 31, 4, 0));
    ck_assert_int_eq(d[0].until_us, utc(2026, 2, 1, 9, 0));
    att_tz_free(u);
}
END_TEST

START_TEST(dst_nights)
{
    att_tz *b = zone("Europe/Berlin");
    char s[32];
    /* Sat 28 Mar 2026 22:00 CET (21:00Z) to Sun 06:00 CEST (04:00Z): a 7 h night */
    struct report_punch p[] = {P_IN(utc(2026, 3, 28, 21, 0)), P_OUT(utc(2026, 3, 29, 4, 0))};
    struct report_day d = one(b, 2026, 3, 28, &dst_shift, p, 2);
    ck_assert_int_eq(d.sched_start_us, utc(2026, 3, 28, 21, 0));
    ck_assert_int_eq(d.sched_end_us, utc(2026, 3, 29, 4, 0));
    ck_assert_int_eq(d.worked_min, 420);
    ck_assert_int_eq(d.overtime_min, 0);
    ck_assert_int_eq(d.early_min, 0);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    att_tz_format(b, d.first_in_us, s);
    ck_assert_str_eq(s, "2026-03-28T22:00:00+01:00");
    att_tz_format(b, d.last_out_us, s);
    ck_assert_str_eq(s, "2026-03-29T06:00:00+02:00");
    /* Sat 24 Oct 2026 22:00 CEST (20:00Z) to Sun 06:00 CET (05:00Z): a 9 h night, no overtime */
    struct report_punch q[] = {P_IN(utc(2026, 10, 24, 20, 0)), P_OUT(utc(2026, 10, 25, 5, 0))};
    d = one(b, 2026, 10, 24, &dst_shift, q, 2);
    ck_assert_int_eq(d.sched_end_us - d.sched_start_us, (int64_t)9 * 3600 * 1000000);
    ck_assert_int_eq(d.worked_min, 540);
    ck_assert_int_eq(d.overtime_min, 0);
    att_tz_format(b, d.last_out_us, s);
    ck_assert_str_eq(s, "2026-10-25T06:00:00+01:00");
    /* leaving at 05:00 CET (04:00Z) that night is an hour early, not on time */
    struct report_punch r[] = {P_IN(utc(2026, 10, 24, 20, 0)), P_OUT(utc(2026, 10, 25, 4, 0))};
    d = one(b, 2026, 10, 24, &dst_shift, r, 2);
    ck_assert_int_eq(d.status, REPORT_EARLY_LEAVE);
    ck_assert_int_eq(d.early_min, 60);
    /* a day shift on the 23 h Sunday: 08:00-16:00 CEST is 06:00Z-14:00Z */
    struct report_punch t[] = {P_IN(utc(2026, 3, 29, 6, 3)), P_OUT(utc(2026, 3, 29, 14, 0))};
    d = one(b, 2026, 3, 29, &day_shift, t, 2);
    ck_assert_int_eq(d.status, REPORT_PRESENT);
    ck_assert_int_eq(d.late_min, 0);
    ck_assert_int_eq(d.worked_min, 477 - 30);
    att_tz_free(b);
}
END_TEST

START_TEST(bad_input)
{
    att_tz *u = zone("UTC");
    struct report_shift bad = {.start_min = 1440, .end_min = 0};
    const struct report_shift *shifts[3] = {NULL, &bad, NULL};
    struct report_input in = {.tz = u, .cutoff_min = 240, .first_day = 0, .ndays = 1, .shifts = shifts};
    struct report_day d;
    ck_assert_int_eq(report_compute(&in, &d), ATT_E_INVALID);
    in.cutoff_min = 1440;
    shifts[1] = NULL;
    ck_assert_int_eq(report_compute(&in, &d), ATT_E_INVALID);
    in.tz = NULL;
    in.cutoff_min = 0;
    ck_assert_int_eq(report_compute(&in, &d), ATT_E_INVALID);
    att_tz_free(u);
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    ts_tcase(s, "engine", 120, NULL, NULL, tz_offsets_and_gaps, tz_matches_glibc, day_shift_cases,
             overnight_month_boundary, dst_nights, bad_input, NULL);
    return s;
}
