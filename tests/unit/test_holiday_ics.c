/* Holiday calendars in iCalendar (src/attendance/holiday_ics.c) against a Bavarian calendar fixture
 * (tests/fixtures/holidays-bavaria-2026.ics: yearly RRULEs with and without UNTIL and BYMONTHDAY lists,
 * one-off all-day events, a timed event, escaped text, UTF-8, CRLF lines) and text that is not one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/holiday_ics.h"
#include "attendd/time.h"
#include "support.h"

static char *fixture(size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/holidays-bavaria-2026.ics", ts_env("ATTENDD_SRCDIR"));
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[16384];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(*len, 0);
    return buf;
}

static int64_t day(int y, int m, int d) { return att_time_days_from_civil(y, m, d); }

START_TEST(bavarian_year)
{
    size_t len, n;
    const char *text = fixture(&len);
    struct holiday_item *h;
    char why[128];
    ck_assert_int_eq(holiday_ics_parse(text, len, day(2026, 1, 1), day(2026, 12, 31), &h, &n, why, sizeof why), ATT_OK);
    static const struct {
        int m, d;
        const char *name;
    } want[] = {
        {1, 1, "Neujahr"},        {1, 6, "Heilige Drei K\xc3\xb6nige"},
        {4, 3, "Karfreitag"},     {4, 6, "Ostermontag"},
        {5, 1, "Tag der Arbeit"}, {11, 20, "Betriebsfeier, Station 7"},
        {12, 25, "Weihnachten"},  {12, 26, "Weihnachten"},
    };
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(h[i].day == day(2026, want[i].m, want[i].d), "holiday %zu on the wrong day", i);
        ck_assert_str_eq(h[i].name, want[i].name);
    }
    free(h);
    /* 2031: the yearly rules go on, Tag der Arbeit ended with its UNTIL, the one-offs were in 2026 */
    ck_assert_int_eq(holiday_ics_parse(text, len, day(2031, 1, 1), day(2031, 12, 31), &h, &n, why, sizeof why), ATT_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(h[0].day == day(2031, 1, 1) && h[1].day == day(2031, 1, 6));
    ck_assert(h[2].day == day(2031, 12, 25) && h[3].day == day(2031, 12, 26));
    free(h);
    /* a window of one day */
    ck_assert_int_eq(holiday_ics_parse(text, len, day(2026, 4, 6), day(2026, 4, 6), &h, &n, why, sizeof why), ATT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(h[0].name, "Ostermontag");
    free(h);
}
END_TEST

START_TEST(not_a_calendar)
{
    struct holiday_item *h = (struct holiday_item *)1;
    size_t n = 7;
    char why[128];
    static const char *const bad[] = {
        "hello",
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nSUMMARY:x\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(holiday_ics_parse(bad[i], strlen(bad[i]), 0, 100000, &h, &n, why, sizeof why) == ATT_E_INVALID,
                      "case %zu accepted", i);
        ck_assert_ptr_null(h);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_gt(strlen(why), 0);
    }
    ck_assert_int_eq(holiday_ics_parse("", 0, 0, 1, &h, &n, why, sizeof why), ATT_E_INVALID);
    ck_assert_int_eq(holiday_ics_parse("BEGIN\0", 6, 0, 1, &h, &n, why, sizeof why), ATT_E_INVALID);
    /* an empty calendar is no holidays */
    const char *empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n";
    ck_assert_int_eq(holiday_ics_parse(empty, strlen(empty), 0, 100000, &h, &n, why, sizeof why), ATT_OK);
    ck_assert_uint_eq(n, 0);
    free(h);
}
END_TEST

Suite *holiday_ics_suite(void)
{
    Suite *s = suite_create("holiday_ics");
    ts_tcase(s, "parse", 30, NULL, NULL, bavarian_year, not_a_calendar, NULL);
    return s;
}
