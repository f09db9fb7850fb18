/* Clocks, deadlines, RFC 3339 parse and format, and civil dates (src/util/time.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attendd/time.h"
#include "support.h"

#define S 1000000LL /* µs per second */

START_TEST(rfc3339_accepted_forms)
{
    static const struct {
        const char *text;
        int64_t us;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.000001Z", 1},
        {"1969-12-31T23:59:59.999999Z", -1},
        {"2024-05-01T07:59:12Z", 1714550352 * S},
        {"2024-05-01T09:59:12.5+02:00", 1714550352 * S + 500000},
        {"2024-05-01t07:59:12.123456789z", 1714550352 * S + 123456}, /* lower case; fraction truncated */
        {"2024-05-01T02:29:12-05:30", 1714550352 * S},
        {"2024-05-01T07:59:12+00:00", 1714550352 * S},
        {"2024-05-01T07:59:12-00:00", 1714550352 * S},
        {"2024-05-02T07:58:12+23:59", 1714550352 * S}, /* largest offset */
        {"2024-02-29T00:00:00Z", 1709164800 * S},      /* leap year */
        {"2000-02-29T12:00:00Z", 951825600 * S},       /* divisible by 400 */
        {"2016-12-31T23:59:60Z", 1483228800 * S},      /* leap second = the next second */
        {"0001-01-01T00:00:00Z", ATT_TIME_MIN_US},
        {"9999-12-31T23:59:59Z", ATT_TIME_MAX_US},
        {"2038-01-19T03:14:08Z", 2147483648LL * S}, /* past 32-bit time_t */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t us = 42;
        ck_assert_msg(att_time_parse(ok[i].text, &us), "refused '%s'", ok[i].text);
        ck_assert_msg(us == ok[i].us, "'%s': %lld, want %lld", ok[i].text, (long long)us, (long long)ok[i].us);
    }
}
END_TEST

START_TEST(rfc3339_refused_forms)
{
    static const char *const bad[] = {
        "",
        "now",
        "2024-05-01",
        "2024-05-01T07:59:12",
        "2024-05-01 07:59:12Z",
        "2024-05-01_07:59:12Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", /* not leap years */
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-05-00T00:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T07:60:00Z",
        "2024-05-01T07:59:61Z",
        "2024-05-01T07:59:12.Z",
        "2024-05-01T07:59:12.1234567890Z",
        "2024-05-01T07:59:12,5Z",
        "2024-05-01T07:59:12+0200",
        "2024-05-01T07:59:12+24:00",
        "2024-05-01T07:59:12+02:60",
        "2024-05-01T07:59:12+2:00",
        "2024-05-01T07:59:12+02",
        "2024-05-01T07:59:12+02:0",
        "2024-05-01T07:59:12 +02:00",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01", /* before year 1 UTC */
        "9999-12-31T23:59:60Z",
        "9999-12-31T23:59:59-00:01",
        "9999-12-31T23:59:59.5Z", /* past the last second */
        "10000-01-01T00:00:00Z",
        "+2024-05-01T07:59:12Z",
        "-2024-05-01T07:59:12Z",
        " 2024-05-01T07:59:12Z",
        "2024-05-01T07:59:12Zjunk",
        "2024-05-01T07:59:12Z ",
        "2024-05-01T07:59:12 Z",
        "2024-05-01T07:59:12ZZ",
        "2024-05-01T07:59:12+02:00Z",
        "2024-05-01T07:59:12.5+02:00'; DROP TABLE events;--",
        "2024-5-01T07:59:12Z",
        "2024-05-1T07:59:12Z",
        "2024-05-01T7:59:12Z",
        "２０２４-05-01T07:59:12Z",
        "2024-05-01T07:59:12.000000000000000000000000000000000000000000000000000Z", /* longer than 63 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        ck_assert_msg(!att_time_parse(bad[i], &us), "accepted '%s'", bad[i]);
        ck_assert_msg(us == 42, "'%s' wrote the output", bad[i]);
    }
    int64_t us;
    ck_assert(!att_time_parse(NULL, &us));
    /* embedded NUL: the text ends there, so what follows is not read */
    ck_assert(att_time_parse("2024-05-01T07:59:12Z\0junk", &us) && us == 1714550352 * S);
    /* the longest form: 9 fraction digits and an offset */
    ck_assert(att_time_parse("2024-05-01T13:29:12.123456789+05:30", &us) && us == 1714550352 * S + 123456);
}
END_TEST

START_TEST(format_forms)
{
    static const struct {
        int64_t us;
        int32_t off;
        enum att_time_form form;
        const char *want;
    } cases[] = {
        {0, 0, ATT_TIME_UTC_MS, "1970-01-01T00:00:00.000Z"},
        {1714550352 * S + 123456, 0, ATT_TIME_UTC_MS, "2024-05-01T07:59:12.123Z"},
        {1714550352 * S + 123456, 7200, ATT_TIME_UTC_MS, "2024-05-01T07:59:12.123Z"}, /* UTC forms ignore it */
        {-1, 0, ATT_TIME_UTC_MS, "1969-12-31T23:59:59.999Z"},
        {1714550352 * S + 123456, 0, ATT_TIME_SQL_UTC, "2024-05-01 07:59:12.123456+00"},
        {-1, 0, ATT_TIME_SQL_UTC, "1969-12-31 23:59:59.999999+00"},
        {ATT_TIME_MIN_US, 0, ATT_TIME_SQL_UTC, "0001-01-01 00:00:00.000000+00"},
        {ATT_TIME_MAX_US + 999999, 0, ATT_TIME_SQL_UTC, "9999-12-31 23:59:59.999999+00"},
        {1714550352 * S + 999999, 7200, ATT_TIME_OFFSET, "2024-05-01T09:59:12+02:00"},
        {1714550352 * S, -19800, ATT_TIME_OFFSET, "2024-05-01T02:29:12-05:30"},
        {1714550352 * S, 0, ATT_TIME_OFFSET, "2024-05-01T07:59:12+00:00"},
        {1714550352 * S, 20700, ATT_TIME_OFFSET, "2024-05-01T13:44:12+05:45"},
        {1709164800 * S, 0, ATT_TIME_HTTP, "Thu, 29 Feb 2024 00:00:00 GMT"},
        {784111777 * S, 0, ATT_TIME_HTTP, "Sun, 06 Nov 1994 08:49:37 GMT"}, /* RFC 9110's example */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[ATT_TIME_TEXT_MAX];
        ck_assert_msg(att_time_format(cases[i].us, cases[i].off, cases[i].form, out, sizeof out), "case %zu", i);
        ck_assert_str_eq(out, cases[i].want);
    }
    /* outside years 1..9999, or too small a buffer: false and "" */
    char out[ATT_TIME_TEXT_MAX] = "x";
    ck_assert(!att_time_format(ATT_TIME_MIN_US - 1, 0, ATT_TIME_SQL_UTC, out, sizeof out));
    ck_assert_str_eq(out, "");
    ck_assert(!att_time_format(ATT_TIME_MAX_US + S, 0, ATT_TIME_UTC_MS, out, sizeof out));
    ck_assert(!att_time_format(ATT_TIME_MAX_US, 60, ATT_TIME_OFFSET, out, sizeof out)); /* local year 10000 */
    ck_assert(!att_time_format(0, 0, ATT_TIME_UTC_MS, out, 24));                        /* needs 25 bytes */
    ck_assert_str_eq(out, "");
    ck_assert(att_time_format(0, 0, ATT_TIME_UTC_MS, out, 25));
}
END_TEST

/* What the formats write, the parser reads back to the same instant (to their precision). */
START_TEST(format_parse_round_trip)
{
    static const int64_t instants[] = {
        0, 1, -1, 1714550352 * S + 123456, 951825600 * S, ATT_TIME_MIN_US, ATT_TIME_MAX_US, 4102444800LL * S - 1};
    static const int32_t offs[] = {0, 3600, -3600, 19800, -34200, 86340, -86340};
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int64_t us = instants[i], back, sec = us - ((us % S) + S) % S;
        char out[ATT_TIME_TEXT_MAX];
        ck_assert(att_time_format(us, 0, ATT_TIME_UTC_MS, out, sizeof out));
        ck_assert_msg(att_time_parse(out, &back) && back == sec + ((us - sec) / 1000) * 1000, "%s", out);
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
            if (!att_time_format(us, offs[k], ATT_TIME_OFFSET, out, sizeof out)) continue; /* local year 0/10000 */
            ck_assert_msg(att_time_parse(out, &back) && back == sec, "%s", out);
        }
    }
}
END_TEST

START_TEST(civil_dates)
{
    static const struct {
        int y, m, d;
        int64_t days;
        int wday;
    } cases[] = {
        {1970, 1, 1, 0, 4},      {1969, 12, 31, -1, 3},      {2000, 2, 29, 11016, 2}, {2000, 3, 1, 11017, 3},
        {2024, 2, 29, 19782, 4}, {2024, 3, 1, 19783, 5},     {1900, 3, 1, -25508, 4}, {2100, 3, 1, 47541, 1},
        {1, 1, 1, -719162, 1},   {9999, 12, 31, 2932896, 5}, {2038, 1, 19, 24855, 2}, {1600, 2, 29, -135081, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(att_time_days_from_civil(cases[i].y, cases[i].m, cases[i].d), cases[i].days);
        int y, m, d;
        att_time_civil_from_days(cases[i].days, &y, &m, &d);
        ck_assert(y == cases[i].y && m == cases[i].m && d == cases[i].d);
        ck_assert_int_eq(att_time_weekday(cases[i].days), cases[i].wday);
    }
    /* every day from 1600 to 2400 against the month lengths, in order */
    int64_t n = att_time_days_from_civil(1600, 1, 1);
    for (int y = 1600; y < 2400; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= att_time_month_days(y, m); d++, n++) {
                int yy, mm, dd;
                att_time_civil_from_days(n, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d || att_time_days_from_civil(y, m, d) != n)
                    ck_abort_msg("%04d-%02d-%02d vs day %lld", y, m, d, (long long)n);
            }
    ck_assert(att_time_leap_year(2024) && att_time_leap_year(2000) && !att_time_leap_year(1900) &&
              !att_time_leap_year(2023));
    ck_assert_int_eq(att_time_month_days(2024, 2), 29);
    ck_assert_int_eq(att_time_month_days(2100, 2), 28);
    ck_assert_int_eq(att_time_month_days(2024, 4), 30);
    /* adding days crosses months, years and leap days both ways */
    static const struct {
        int y, m, d;
        int64_t n;
        int wy, wm, wd;
    } adds[] = {
        {2024, 2, 28, 1, 2024, 2, 29},  {2023, 2, 28, 1, 2023, 3, 1},    {2024, 12, 31, 1, 2025, 1, 1},
        {2025, 1, 1, -1, 2024, 12, 31}, {2024, 3, 1, -1, 2024, 2, 29},   {1970, 1, 1, -719162, 1, 1, 1},
        {2024, 5, 1, 0, 2024, 5, 1},    {2024, 1, 31, 366, 2025, 1, 31},
    };
    for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++) {
        int y = adds[i].y, m = adds[i].m, d = adds[i].d;
        att_time_add_days(&y, &m, &d, adds[i].n);
        ck_assert_msg(y == adds[i].wy && m == adds[i].wm && d == adds[i].wd, "add %zu: %d-%d-%d", i, y, m, d);
    }
    ck_assert_int_eq(att_time_floor_div(-1, 86400), -1);
    ck_assert_int_eq(att_time_floor_div(-86400, 86400), -1);
    ck_assert_int_eq(att_time_floor_div(86399, 86400), 0);
}
END_TEST

START_TEST(date_and_hhmm_text)
{
    static const struct {
        const char *text;
        bool ok;
        int64_t days;
    } dates[] = {
        {"1970-01-01", true, 0},
        {"2024-02-29", true, 19782},
        {"0001-01-01", true, -719162},
        {"9999-12-31", true, 2932896},
        {"2026-02-29", false, 0},
        {"1900-02-29", false, 0},
        {"0000-01-01", false, 0},
        {"2026-1-01", false, 0},
        {"2026-01-01x", false, 0},
        {"2026-13-01", false, 0},
        {"2026-04-31", false, 0},
        {"2026/01/01", false, 0},
        {"", false, 0},
        {"2026-01-0a", false, 0},
        {" 2026-01-01", false, 0},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int64_t d = -7;
        ck_assert_msg(att_time_date_parse(dates[i].text, &d) == dates[i].ok, "'%s'", dates[i].text);
        if (dates[i].ok) {
            ck_assert_int_eq(d, dates[i].days);
            char back[ATT_DATE_TEXT];
            ck_assert(att_time_date_format(d, back));
            ck_assert_str_eq(back, dates[i].text);
        } else {
            ck_assert_int_eq(d, -7);
        }
    }
    char out[ATT_DATE_TEXT];
    ck_assert(!att_time_date_format(-719163, out)); /* 0000-12-31 */
    ck_assert(!att_time_date_format(2932897, out)); /* 10000-01-01 */
    ck_assert(!att_time_date_parse(NULL, &(int64_t){0}));
    static const struct {
        const char *text;
        int min; /* -1: refused */
    } hm[] = {
        {"00:00", 0},     {"04:00", 240}, {"23:59", 1439}, {"24:00", -1}, {"23:60", -1}, {"4:00", -1},
        {"04:00:00", -1}, {"04-00", -1},  {"", -1},        {"0a:00", -1}, {"04:0", -1},
    };
    for (size_t i = 0; i < sizeof hm / sizeof hm[0]; i++) {
        int m = -7;
        ck_assert_msg(att_time_hhmm_parse(hm[i].text, &m) == (hm[i].min >= 0), "'%s'", hm[i].text);
        ck_assert_int_eq(m, hm[i].min >= 0 ? hm[i].min : -7);
    }
    ck_assert(!att_time_hhmm_parse(NULL, &(int){0}));
}
END_TEST

START_TEST(clocks_and_deadlines)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wall = att_time_wall_us(), sys = (int64_t)ts.tv_sec * S + ts.tv_nsec / 1000;
    ck_assert(wall >= sys && wall - sys < 5 * S);
    int64_t a = att_time_mono_us(), b = att_time_mono_us();
    ck_assert(a > 0 && b >= a);
    double s = att_time_mono_s();
    ck_assert(s * 1e6 >= (double)b - 1 && s * 1e6 < (double)b + 5e6);

    int64_t dl = att_time_deadline(50000); /* 50 ms */
    ck_assert(!att_time_expired(dl));
    int64_t left = att_time_remaining_us(dl);
    ck_assert(left > 0 && left <= 50000);
    struct timespec pause = {0, 60 * 1000000L};
    nanosleep(&pause, NULL);
    ck_assert(att_time_expired(dl));
    ck_assert_int_eq(att_time_remaining_us(dl), 0);
    /* a negative timeout is already due */
    ck_assert(att_time_expired(att_time_deadline(-5 * S)));
    ck_assert_int_eq(att_time_remaining_us(att_time_deadline(-5 * S)), 0);

    struct timespec t = att_time_timespec(1234567890123456LL);
    ck_assert(t.tv_sec == 1234567890 && t.tv_nsec == 123456000L);
    t = att_time_timespec(-1);
    ck_assert(t.tv_sec == -1 && t.tv_nsec == 999999000L);
    t = att_time_timespec(0);
    ck_assert(t.tv_sec == 0 && t.tv_nsec == 0);
}
END_TEST

Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    ts_tcase(s, "text", 0, NULL, NULL, rfc3339_accepted_forms, rfc3339_refused_forms, format_forms,
             format_parse_round_trip, date_and_hhmm_text, NULL);
    ts_tcase(s, "calendar", 0, NULL, NULL, civil_dates, NULL);
    ts_tcase(s, "clocks", 0, NULL, NULL, clocks_and_deadlines, NULL);
    return s;
}
