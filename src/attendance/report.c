/* The attendance report engine (include/attendd/report.h): work-day windows around shifts and the day
 * cut-off in the zone's local time, per-day status and minutes. */
#include "attendd/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_US 60000000LL

/* ---- the engine -------------------------------------------------------------------------------------- */

const char *report_status_name(enum report_status s)
{
    switch (s) {
    case REPORT_OFF: return "off";
    case REPORT_PRESENT: return "present";
    case REPORT_LATE: return "late";
    case REPORT_EARLY_LEAVE: return "early_leave";
    case REPORT_ABSENT: return "absent";
    case REPORT_MISSING_OUT: return "missing_out";
    }
    return "?";
}

int64_t report_day_boundary(int64_t cutoff_us, bool has_d, int64_t end_d, bool has_next, int64_t start_next)
{
    const int64_t slack = (int64_t)REPORT_SLACK_MIN * MIN_US;
    if ((!has_d || end_d <= cutoff_us) && (!has_next || cutoff_us <= start_next)) return cutoff_us;
    if (has_d && has_next) return end_d + (start_next - end_d) / 2;
    return has_d ? end_d + slack : start_next - slack;
}

/* µs instant of local wall time `min` minutes after midnight of day `day` */
static int64_t local_us(const att_tz *tz, int64_t day, int64_t min)
{
    return att_tz_to_utc(tz, day * ATT_DAY_S + min * 60) * 1000000;
}

static int cmp_punch(const void *a, const void *b)
{
    const struct report_punch *x = a, *y = b;
    if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
    return (int)x->kind - (int)y->kind; /* same instant: in before out */
}

static bool shift_ok(const struct report_shift *s)
{
    return s->start_min >= 0 && s->start_min < 1440 && s->end_min >= 0 && s->end_min < 1440 && s->grace_late_min >= 0 &&
        s->grace_late_min <= 1440 && s->grace_early_min >= 0 && s->grace_early_min <= 1440 && s->break_min >= 0 &&
        s->break_min <= 1440;
}

void report_punch_window(const att_tz *tz, int64_t first_day, int64_t last_day, int64_t *from_us, int64_t *to_us)
{
    *from_us = local_us(tz, first_day - 2, 0);
    *to_us = local_us(tz, last_day + 3, 0);
}

static void one_day(const struct report_shift *sh, int64_t s, int64_t e, const struct report_punch *p, size_t n,
                    struct report_day *d)
{
    int64_t worked = 0, open = 0;
    bool is_open = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i].kind == EVENT_KIND_IN) {
            if (!d->has_in) d->first_in_us = p[i].ts_us;
            d->has_in = true;
            if (!is_open) open = p[i].ts_us, is_open = true; /* a repeated clock-in keeps the first */
        } else {
            d->has_out = true;
            d->last_out_us = p[i].ts_us;
            if (is_open) worked += p[i].ts_us - open, is_open = false; /* a lone clock-out pairs with nothing */
        }
    }
    int64_t wmin = worked / MIN_US;
    if (sh) wmin = wmin > sh->break_min ? wmin - sh->break_min : 0;
    d->worked_min = wmin;
    if (!sh) {
        d->status = !d->has_in ? REPORT_OFF : is_open ? REPORT_MISSING_OUT : REPORT_PRESENT;
        d->overtime_min = is_open ? 0 : wmin;
        return;
    }
    if (!d->has_in) {
        d->status = REPORT_ABSENT;
        return;
    }
    int64_t late = d->first_in_us - s;
    if (late > (int64_t)sh->grace_late_min * MIN_US) d->late_min = late / MIN_US;
    if (is_open) {
        d->status = REPORT_MISSING_OUT;
        return;
    }
    int64_t early = d->has_out ? e - d->last_out_us : 0;
    if (early > (int64_t)sh->grace_early_min * MIN_US) d->early_min = early / MIN_US;
    int64_t net = (e - s) / MIN_US - sh->break_min;
    if (net < 0) net = 0;
    d->overtime_min = wmin > net ? wmin - net : 0;
    d->status = d->late_min > 0 ? REPORT_LATE : d->early_min > 0 ? REPORT_EARLY_LEAVE : REPORT_PRESENT;
}

att_err report_compute(const struct report_input *in, struct report_day *out)
{
    if (!in || !in->tz || !in->shifts || in->cutoff_min < 0 || in->cutoff_min >= 1440 || (in->npunches && !in->punches))
        return ATT_E_INVALID;
    size_t nd = in->ndays + 2; /* index k is day first_day - 1 + k */
    for (size_t k = 0; k < nd; k++)
        if (in->shifts[k] && !shift_ok(in->shifts[k])) return ATT_E_INVALID;
    int64_t *s = calloc(nd, sizeof *s), *e = calloc(nd, sizeof *e), *bound = calloc(nd, sizeof *bound);
    if (!s || !e || !bound) {
        free(s), free(e), free(bound);
        return ATT_E_NOMEM;
    }
    for (size_t k = 0; k < nd; k++) {
        const struct report_shift *sh = in->shifts[k];
        if (!sh) continue;
        int64_t day = in->first_day - 1 + (int64_t)k;
        s[k] = local_us(in->tz, day, sh->start_min);
        e[k] = local_us(in->tz, sh->end_min <= sh->start_min ? day + 1 : day, sh->end_min);
    }
    /* bound[k]: where work day k ends and k+1 begins */
    for (size_t k = 0; k + 1 < nd; k++) {
        int64_t day = in->first_day - 1 + (int64_t)k;
        bound[k] = report_day_boundary(local_us(in->tz, day + 1, in->cutoff_min), in->shifts[k] != NULL, e[k],
                                       in->shifts[k + 1] != NULL, s[k + 1]);
    }
    if (in->npunches) qsort(in->punches, in->npunches, sizeof *in->punches, cmp_punch);
    size_t pi = 0;
    for (size_t i = 0; i < in->ndays; i++) {
        size_t k = i + 1;
        int64_t lo = bound[k - 1], hi = bound[k];
        while (pi < in->npunches && in->punches[pi].ts_us < lo) pi++;
        size_t pe = pi;
        while (pe < in->npunches && in->punches[pe].ts_us < hi) pe++;
        struct report_day *d = &out[i];
        *d = (struct report_day){.day = in->first_day + (int64_t)i, .from_us = lo, .until_us = hi};
        const struct report_shift *sh = in->shifts[k];
        if (sh) {
            d->scheduled = true;
            d->shift_index = in->shift_index ? in->shift_index[k] : 0;
            d->sched_start_us = s[k];
            d->sched_end_us = e[k];
        }
        one_day(sh, s[k], e[k], in->punches + pi, pe - pi, d);
        pi = pe;
    }
    free(s), free(e), free(bound);
    return ATT_OK;
}
