/* Holiday calendars in iCalendar (include/attendd/holiday_ics.h): libical parses, RRULEs expand from each
 * event's DTSTART, and the window bounds the expansion so a yearly rule without end stays finite. */
#include "attendd/holiday_ics.h"

#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/time.h"

#define MAX_TEXT (4u << 20) /* a national calendar for decades is a few hundred KiB */

static int cmp_item(const void *a, const void *b)
{
    const struct holiday_item *x = a, *y = b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return strcmp(x->name, y->name);
}

struct acc {
    struct holiday_item *v;
    size_t n, cap;
    bool full; /* over HOLIDAY_ICS_MAX */
};

static bool add(struct acc *a, int64_t day, const char *name)
{
    if (a->n == HOLIDAY_ICS_MAX) {
        a->full = true;
        return true;
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 32;
        struct holiday_item *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv) return false;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n].day = day;
    snprintf(a->v[a->n].name, sizeof a->v[a->n].name, "%s", name && *name ? name : "Holiday");
    a->n++;
    return true;
}

static int64_t day_of(struct icaltimetype t) { return att_time_days_from_civil(t.year, t.month, t.day); }

att_err holiday_ics_parse(const char *text, size_t len, int64_t from, int64_t to, struct holiday_item **out, size_t *n,
                          char *why, size_t whylen)
{
    *out = NULL;
    *n = 0;
    why[0] = '\0';
    if (len == 0 || len > MAX_TEXT || memchr(text, '\0', len)) {
        snprintf(why, whylen, "the body is not iCalendar text");
        return ATT_E_INVALID;
    }
    char *s = malloc(len + 1);
    if (!s) return ATT_E_NOMEM;
    memcpy(s, text, len);
    s[len] = '\0';
    icalcomponent *cal = icalparser_parse_string(s);
    free(s);
    if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
        if (cal) icalcomponent_free(cal);
        snprintf(why, whylen, "the body is not an iCalendar VCALENDAR");
        return ATT_E_INVALID;
    }
    struct acc a = {0};
    att_err e = ATT_OK;
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev && e == ATT_OK;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
        struct icaltimetype start = icalcomponent_get_dtstart(ev);
        if (icaltime_is_null_time(start) || !icaltime_is_valid_time(start)) {
            snprintf(why, whylen, "an event (%s) has no DTSTART",
                     icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "unnamed");
            e = ATT_E_INVALID;
            break;
        }
        const char *name = icalcomponent_get_summary(ev);
        icalproperty *rr = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
        if (!rr) {
            int64_t d = day_of(start);
            if (d >= from && d <= to && !add(&a, d, name)) e = ATT_E_NOMEM;
            continue;
        }
        icalrecur_iterator *it = icalrecur_iterator_new(icalproperty_get_rrule(rr), start);
        if (!it) {
            snprintf(why, whylen, "the RRULE of an event (%s) cannot be expanded", name ? name : "unnamed");
            e = ATT_E_INVALID;
            break;
        }
        for (struct icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
             t = icalrecur_iterator_next(it)) {
            int64_t d = day_of(t);
            if (d > to || a.full) break;
            if (d >= from && !add(&a, d, name)) {
                e = ATT_E_NOMEM;
                break;
            }
        }
        icalrecur_iterator_free(it);
    }
    icalcomponent_free(cal);
    if (e == ATT_OK && a.full) {
        snprintf(why, whylen, "more than %d holidays", HOLIDAY_ICS_MAX);
        e = ATT_E_INVALID;
    }
    if (e != ATT_OK) {
        free(a.v);
        return e;
    }
    if (a.n > 1) qsort(a.v, a.n, sizeof *a.v, cmp_item); /* an empty calendar has no array to sort */
    size_t k = 0; /* one per day: the name first in byte order, so the answer never depends on the sort */
    for (size_t i = 0; i < a.n; i++)
        if (k == 0 || a.v[k - 1].day != a.v[i].day) a.v[k++] = a.v[i];
    *out = a.v;
    *n = k;
    return ATT_OK;
}
