/* Holiday calendars in iCalendar (RFC 5545) through libical (src/attendance/holiday_ics.c): pure, no
 * I/O. Every VEVENT's all-day date (DTSTART;VALUE=DATE, or a date-time's date) with its SUMMARY, its
 * RRULE expanded within a window of days, becomes one holiday. */
#ifndef ATTENDD_HOLIDAY_ICS_H
#define ATTENDD_HOLIDAY_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#define HOLIDAY_ICS_MAX 2000 /* holidays one import may hold */
#define HOLIDAY_NAME_MAX 200 /* characters kept of a SUMMARY (holidays_name_len) */

struct holiday_item {
    int64_t day;                         /* days since 1970-01-01 */
    char name[HOLIDAY_NAME_MAX * 4 + 1]; /* SUMMARY, UTF-8; "Holiday" when the event has none */
};

/* Parse text (len bytes, need not be NUL-terminated) and fill *out (caller frees) with the holidays on
 * days from..to (inclusive), sorted by day, one per day (of two events on one day, the name first in byte order). ATT_E_INVALID
 * with why (for people) for text that is not an iCalendar VCALENDAR, an event without DTSTART, or more
 * than HOLIDAY_ICS_MAX holidays; ATT_E_NOMEM. */
att_err holiday_ics_parse(const char *text, size_t len, int64_t from, int64_t to, struct holiday_item **out, size_t *n,
                          char *why, size_t whylen);

#endif
