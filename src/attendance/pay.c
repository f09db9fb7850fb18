/* Pay rules and exceptions (include/attendd/pay.h): work-day windows around a day's shifts, paired and
 * rounded punches, breaks, overtime tiers, night minutes, holidays, leave and the day's exceptions. */
#include "attendd/pay.h"

#include <stdlib.h>
#include <string.h>

#include "attendd/report.h"
#include "attendd/time.h"

#define MIN_US 60000000LL

void pay_rules_defaults(struct pay_rules *r)
{
    *r = (struct pay_rules){
        .cutoff_min = 240, .night_start_min = 22 * 60, .night_end_min = 6 * 60, .min_rest_min = PAY_DEFAULT_MIN_REST};
}

const char *pay_favour_name(enum pay_favour f) { return f == PAY_FAVOUR_EMPLOYER ? "employer" : "employee"; }

const char *pay_status_name(enum pay_status s)
{
    switch (s) {
    case PAY_OFF: return "off";
    case PAY_PRESENT: return "present";
    case PAY_LATE: return "late";
    case PAY_EARLY_LEAVE: return "early_leave";
    case PAY_ABSENT: return "absent";
    case PAY_MISSING_OUT: return "missing_out";
    case PAY_UNSCHEDULED: return "unscheduled";
    case PAY_HOLIDAY: return "holiday";
    case PAY_LEAVE: return "leave";
    }
    return "?";
}

static const char *const exc_names[EXC__COUNT] = {"missing_out",          "late",       "early_leave",        "absent",
                                                  "unscheduled_presence", "short_rest", "overtime_unapproved"};

const char *pay_exception_name(enum pay_exception_kind k) { return (unsigned)k < EXC__COUNT ? exc_names[k] : "?"; }

bool pay_exception_parse(const char *s, enum pay_exception_kind *out)
{
    for (int k = 0; s && k < EXC__COUNT; k++)
        if (strcmp(s, exc_names[k]) == 0) {
            *out = (enum pay_exception_kind)k;
            return true;
        }
    return false;
}

const char *pay_severity_name(enum pay_severity s)
{
    switch (s) {
    case SEV_INFO: return "info";
    case SEV_WARNING: return "warning";
    case SEV_CRITICAL: return "critical";
    }
    return "?";
}

enum pay_severity pay_exception_severity(enum pay_exception_kind k)
{
    switch (k) {
    case EXC_MISSING_OUT: /* the day cannot be paid until someone says when they left */
    case EXC_ABSENT:      /* a ward short of staff */
    case EXC_SHORT_REST: /* a breach of the working-time rule */ return SEV_CRITICAL;
    case EXC_LATE:
    case EXC_EARLY_LEAVE:
    case EXC_OVERTIME_UNAPPROVED: return SEV_WARNING;
    case EXC_UNSCHEDULED_PRESENCE:
    case EXC__COUNT: break;
    }
    return SEV_INFO;
}

/* µs instant of local wall time `min` minutes after midnight of day `day` */
static int64_t local_us(const att_tz *tz, int64_t day, int64_t min)
{
    return att_tz_to_utc(tz, day * ATT_DAY_S + min * 60) * 1000000;
}

static bool minute_ok(int m) { return m >= 0 && m < 1440; }
static bool span_ok(int m) { return m >= 0 && m <= 1440; }

static bool shift_ok(const struct pay_shift *s)
{
    return minute_ok(s->start_min) && minute_ok(s->end_min) && span_ok(s->grace_late_min) &&
        span_ok(s->grace_early_min) && span_ok(s->break_min) && s->round_min >= 0 && s->round_min <= 60 &&
        (s->round_favour == PAY_FAVOUR_EMPLOYEE || s->round_favour == PAY_FAVOUR_EMPLOYER);
}

static bool rules_ok(const struct pay_rules *r)
{
    return minute_ok(r->cutoff_min) && r->daily_ot_after_min >= 0 && r->daily_ot_after_min <= 1440 &&
        r->weekly_ot_after_min >= 0 && r->weekly_ot_after_min <= 7 * 1440 && minute_ok(r->night_start_min) &&
        minute_ok(r->night_end_min) && r->min_rest_min >= 0 && r->min_rest_min <= 1440;
}

int64_t pay_round(const att_tz *tz, int64_t ts_us, int round_min, enum pay_favour f, bool clock_in)
{
    if (round_min <= 1) return ts_us;
    int64_t off = (int64_t)att_tz_offset(tz, att_time_floor_div(ts_us, 1000000)) * 1000000;
    int64_t local = ts_us + off, grid = (int64_t)round_min * MIN_US;
    int64_t down = att_time_floor_div(local, grid) * grid;
    bool up = (f == PAY_FAVOUR_EMPLOYEE) != clock_in; /* employee: in down, out up; employer: the reverse */
    int64_t r = up && down != local ? down + grid : down;
    return r - off;
}

int64_t pay_night_minutes(const att_tz *tz, const struct pay_rules *r, int64_t from_us, int64_t to_us)
{
    if (r->night_start_min == r->night_end_min || to_us <= from_us) return 0;
    int64_t d0 = att_time_floor_div(from_us / 1000000 + att_tz_offset(tz, from_us / 1000000), ATT_DAY_S) - 1;
    int64_t d1 = att_time_floor_div(to_us / 1000000 + att_tz_offset(tz, to_us / 1000000), ATT_DAY_S);
    bool wraps = r->night_end_min < r->night_start_min;
    int64_t total = 0;
    for (int64_t d = d0; d <= d1; d++) {
        int64_t ws = local_us(tz, d, r->night_start_min), we = local_us(tz, wraps ? d + 1 : d, r->night_end_min);
        int64_t a = ws > from_us ? ws : from_us, b = we < to_us ? we : to_us;
        if (b > a) total += b - a;
    }
    return total / MIN_US;
}

static int cmp_punch(const void *a, const void *b)
{
    const struct report_punch *x = a, *y = b;
    if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
    return (int)x->kind - (int)y->kind; /* same instant: in before out */
}

/* A day's shifts as instants, in time order. */
struct seg {
    int64_t s, e; /* start, end instants */
    const struct pay_shift *sh;
    int index; /* caller's shift index */
};

struct segs {
    size_t n;
    struct seg v[PLAN_MAX_SHIFTS];
};

static void day_segs(const att_tz *tz, int64_t day, const struct pay_day_in *d, struct segs *out)
{
    out->n = d->nshifts;
    for (size_t i = 0; i < d->nshifts; i++) {
        const struct pay_shift *sh = d->shift[i];
        out->v[i] = (struct seg){.s = local_us(tz, day, sh->start_min),
                                 .e = local_us(tz, sh->end_min <= sh->start_min ? day + 1 : day, sh->end_min),
                                 .sh = sh,
                                 .index = d->shift_index[i]};
    }
    for (size_t i = 1; i < out->n; i++) /* insertion sort: at most PLAN_MAX_SHIFTS */
        for (size_t j = i; j > 0 && out->v[j].s < out->v[j - 1].s; j--) {
            struct seg t = out->v[j];
            out->v[j] = out->v[j - 1];
            out->v[j - 1] = t;
        }
}

/* A worked interval: as punched and as paid. */
struct ival {
    int64_t in, out;         /* as punched; out = INT64_MAX while open */
    int64_t pay_in, pay_out; /* rounded */
};

#define MAX_IVALS 64 /* pairs on one work day beyond this are merged into the last one */

/* The shift whose start (clock-in) or end (clock-out) lies nearest to ts, for its rounding. */
static const struct pay_shift *nearest(const struct segs *g, int64_t ts, bool clock_in)
{
    const struct pay_shift *best = NULL;
    int64_t bd = 0;
    for (size_t i = 0; i < g->n; i++) {
        int64_t d = (clock_in ? g->v[i].s : g->v[i].e) - ts;
        if (d < 0) d = -d;
        if (!best || d < bd) best = g->v[i].sh, bd = d;
    }
    return best;
}

static int64_t paid(const att_tz *tz, const struct segs *g, int64_t ts, bool clock_in)
{
    const struct pay_shift *sh = nearest(g, ts, clock_in);
    return sh ? pay_round(tz, ts, sh->round_min, sh->round_favour, clock_in) : ts;
}

static void add_exc(struct pay_day *d, enum pay_exception_kind k, int64_t minutes)
{
    for (size_t i = 0; i < d->nexc; i++)
        if (d->exc[i].kind == k) {
            d->exc[i].minutes += minutes;
            return;
        }
    d->exc[d->nexc++] = (struct pay_exception){.kind = k, .severity = pay_exception_severity(k), .minutes = minutes};
}

static int cmp_exc(const void *a, const void *b)
{
    const struct pay_exception *x = a, *y = b;
    return (int)x->kind - (int)y->kind;
}

/* Part-day leave as instants on day. */
static void leave_window(const att_tz *tz, int64_t day, const struct leave_record *l, int64_t *a, int64_t *b)
{
    *a = local_us(tz, day, l->from_min);
    *b = local_us(tz, day, l->to_min);
}

/* Everything of one work day but the weekly tier and the overtime approval, which need the week. */
static void one_day(const struct pay_input *in, const struct pay_day_in *di, const struct segs *g,
                    const struct report_punch *p, size_t n, int64_t prev_out, struct pay_day *d)
{
    const att_tz *tz = in->tz;
    const struct pay_rules *r = in->rules;
    d->nshifts = g->n;
    for (size_t i = 0; i < g->n; i++) {
        d->shift_index[i] = g->v[i].index;
        d->start_us[i] = g->v[i].s;
        d->end_us[i] = g->v[i].e;
        int64_t net = (g->v[i].e - g->v[i].s) / MIN_US - g->v[i].sh->break_min;
        d->scheduled_min += net > 0 ? net : 0;
    }
    d->holiday = di->holiday;
    d->leave_type = -1;

    /* pair the punches: an in opens (a second in while open is ignored), the next out closes */
    struct ival iv[MAX_IVALS];
    size_t ni = 0;
    bool open = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i].kind == EVENT_KIND_IN) {
            if (!d->has_in) d->first_in_us = p[i].ts_us;
            d->has_in = true;
            if (open) continue;
            if (ni == MAX_IVALS) ni--, iv[ni].out = INT64_MAX; /* reopen the last one */
            else iv[ni] = (struct ival){.in = p[i].ts_us, .out = INT64_MAX, .pay_in = paid(tz, g, p[i].ts_us, true)};
            ni++;
            open = true;
        } else {
            d->has_out = true;
            d->last_out_us = p[i].ts_us;
            if (!open) continue; /* a lone clock-out pairs with nothing */
            iv[ni - 1].out = p[i].ts_us;
            iv[ni - 1].pay_out = paid(tz, g, p[i].ts_us, false);
            if (iv[ni - 1].pay_out < iv[ni - 1].pay_in) iv[ni - 1].pay_out = iv[ni - 1].pay_in;
            open = false;
        }
    }

    /* worked and night minutes from the closed, paid intervals */
    int64_t worked_us = 0, night = 0;
    for (size_t i = 0; i < ni; i++) {
        if (iv[i].out == INT64_MAX) continue;
        worked_us += iv[i].pay_out - iv[i].pay_in;
        night += pay_night_minutes(tz, r, iv[i].pay_in, iv[i].pay_out);
    }
    int64_t worked = worked_us / MIN_US;

    /* per shift: attended (an interval overlaps it), arrival and leaving as punched */
    const struct leave_record *lv = di->leave;
    int64_t la = 0, lb = 0;
    if (lv && lv->part_day) leave_window(tz, d->day, lv, &la, &lb);
    int64_t breaks = 0, missed_min = 0;
    size_t attended = 0, excused = 0;
    for (size_t k = 0; k < g->n; k++) {
        const struct seg *s = &g->v[k];
        int64_t arrive = INT64_MAX, leave = INT64_MIN;
        bool any = false, still_open = false;
        for (size_t i = 0; i < ni; i++) {
            if (iv[i].in >= s->e || iv[i].out <= s->s) continue;
            any = true;
            if (iv[i].in < arrive) arrive = iv[i].in;
            if (iv[i].out == INT64_MAX) still_open = true;
            else if (iv[i].out > leave) leave = iv[i].out;
        }
        bool covered = di->holiday || (lv && !lv->part_day) || (lv && lv->part_day && la <= s->s && lb >= s->e);
        if (!any) {
            if (covered) excused++;
            else missed_min += (s->e - s->s) / MIN_US - s->sh->break_min;
            continue;
        }
        attended++;
        if (!s->sh->break_punched) breaks += s->sh->break_min;
        /* part-day leave moves the expected arrival or departure to its edge */
        int64_t want_in = s->s, want_out = s->e;
        if (lv && lv->part_day && la <= s->s && lb > s->s) want_in = lb;
        if (lv && lv->part_day && lb >= s->e && la < s->e) want_out = la;
        if (arrive - want_in > (int64_t)s->sh->grace_late_min * MIN_US) d->late_min += (arrive - want_in) / MIN_US;
        if (!still_open && leave != INT64_MIN && want_out - leave > (int64_t)s->sh->grace_early_min * MIN_US)
            d->early_min += (want_out - leave) / MIN_US;
    }
    d->worked_min = worked > breaks ? worked - breaks : 0;
    d->night_min = night;

    /* leave credit */
    if (lv) {
        d->leave_type = lv->type;
        d->leave_paid = lv->paid;
        d->leave_min = lv->part_day ? lv->to_min - lv->from_min : d->scheduled_min;
    }

    /* overtime tiers (the weekly one comes later) */
    bool closed = !open;
    if (di->holiday) d->holiday_min = d->worked_min;
    if (closed) {
        if (g->n == 0 && !di->holiday) {
            d->ot_rest_day_min = d->worked_min;
        } else {
            int64_t floor = d->scheduled_min > r->daily_ot_after_min ? d->scheduled_min : r->daily_ot_after_min;
            int64_t ot = d->worked_min > floor ? d->worked_min - floor : 0;
            if (g->n == 0) ot = d->worked_min; /* a holiday without shifts: all of it */
            if (di->holiday) d->ot_holiday_min = ot;
            else d->ot_daily_min = ot;
        }
    }
    d->regular_min = d->worked_min - d->ot_daily_min - d->ot_rest_day_min - d->ot_holiday_min;

    /* status and exceptions */
    if (open) add_exc(d, EXC_MISSING_OUT, 0);
    if (d->has_in && g->n == 0) add_exc(d, EXC_UNSCHEDULED_PRESENCE, 0);
    if (d->late_min > 0) add_exc(d, EXC_LATE, d->late_min);
    if (d->early_min > 0) add_exc(d, EXC_EARLY_LEAVE, d->early_min);
    if (missed_min > 0 || (g->n > 0 && attended == 0 && excused < g->n)) add_exc(d, EXC_ABSENT, missed_min);
    if (d->has_in && r->min_rest_min > 0 && prev_out != INT64_MIN && d->first_in_us > prev_out &&
        d->first_in_us - prev_out < (int64_t)r->min_rest_min * MIN_US)
        add_exc(d, EXC_SHORT_REST, (d->first_in_us - prev_out) / MIN_US);

    if (!d->has_in) {
        if (g->n > 0 && excused < g->n) d->status = PAY_ABSENT;
        else if (di->holiday) d->status = PAY_HOLIDAY;
        else if (lv && (g->n > 0 || !lv->part_day)) d->status = PAY_LEAVE;
        else d->status = PAY_OFF;
    } else if (open) {
        d->status = PAY_MISSING_OUT;
    } else if (g->n == 0) {
        d->status = PAY_UNSCHEDULED;
    } else {
        d->status = d->late_min > 0 ? PAY_LATE : d->early_min > 0 ? PAY_EARLY_LEAVE : PAY_PRESENT;
    }
}

/* The latest clock-out before instant t among sorted punches p[0..n), or INT64_MIN. */
static int64_t last_out_before(const struct report_punch *p, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].ts_us < t) lo = mid + 1;
        else hi = mid;
    }
    while (lo > 0) {
        lo--;
        if (p[lo].kind == EVENT_KIND_OUT) return p[lo].ts_us;
    }
    return INT64_MIN;
}

att_err pay_compute(const struct pay_input *in, struct pay_day *out)
{
    if (!in || !in->tz || !in->rules || !in->days || !rules_ok(in->rules) || (in->npunches && !in->punches))
        return ATT_E_INVALID;
    size_t nd = in->ndays + 2; /* index k is day first_day - 1 + k */
    for (size_t k = 0; k < nd; k++) {
        if (in->days[k].nshifts > PLAN_MAX_SHIFTS) return ATT_E_INVALID;
        for (size_t i = 0; i < in->days[k].nshifts; i++)
            if (!in->days[k].shift[i] || !shift_ok(in->days[k].shift[i])) return ATT_E_INVALID;
        if (in->days[k].leave && leave_check(in->days[k].leave) != ATT_OK) return ATT_E_INVALID;
    }
    struct segs *g = calloc(nd, sizeof *g);
    int64_t *bound = calloc(nd, sizeof *bound);
    if (!g || !bound) {
        free(g), free(bound);
        return ATT_E_NOMEM;
    }
    for (size_t k = 0; k < nd; k++) day_segs(in->tz, in->first_day - 1 + (int64_t)k, &in->days[k], &g[k]);
    /* bound[k]: where work day k ends and k+1 begins, by the report's rule with a day's first shift
     * start and last shift end */
    for (size_t k = 0; k + 1 < nd; k++) {
        int64_t day = in->first_day - 1 + (int64_t)k;
        bool b = g[k + 1].n > 0;
        int64_t ek = INT64_MIN, sk1 = b ? g[k + 1].v[0].s : 0;
        for (size_t i = 0; i < g[k].n; i++)
            if (g[k].v[i].e > ek) ek = g[k].v[i].e;
        bound[k] = report_day_boundary(local_us(in->tz, day + 1, in->rules->cutoff_min), g[k].n > 0, ek, b, sk1);
    }
    if (in->npunches) qsort(in->punches, in->npunches, sizeof *in->punches, cmp_punch);
    size_t pi = 0;
    for (size_t i = 0; i < in->ndays; i++) {
        size_t k = i + 1;
        int64_t lo = bound[k - 1], hi = bound[k];
        while (pi < in->npunches && in->punches[pi].ts_us < lo) pi++;
        size_t pe = pi;
        while (pe < in->npunches && in->punches[pe].ts_us < hi) pe++;
        struct pay_day *d = &out[i];
        *d = (struct pay_day){.day = in->first_day + (int64_t)i};
        int64_t prev_out = last_out_before(in->punches, in->npunches, lo);
        one_day(in, &in->days[k], &g[k], in->punches + pi, pe - pi, prev_out, d);
        pi = pe;
    }
    /* weekly tier: regular minutes of a Monday-to-Sunday week beyond the floor, in day order */
    int64_t week = INT64_MIN, acc = 0;
    for (size_t i = 0; i < in->ndays; i++) {
        struct pay_day *d = &out[i];
        int64_t w = att_time_floor_div(d->day - 4, 7); /* 1970-01-05 was a Monday */
        if (w != week) week = w, acc = 0;
        if (in->rules->weekly_ot_after_min > 0) {
            int64_t room = in->rules->weekly_ot_after_min - acc;
            if (room < 0) room = 0;
            if (d->regular_min > room) {
                d->ot_weekly_min = d->regular_min - room;
                d->regular_min = room;
            }
        }
        acc += d->regular_min;
        int64_t ot = d->ot_daily_min + d->ot_weekly_min + d->ot_rest_day_min + d->ot_holiday_min;
        if (ot > 0 && !in->days[i + 1].overtime_approved) add_exc(d, EXC_OVERTIME_UNAPPROVED, ot);
        qsort(d->exc, d->nexc, sizeof d->exc[0], cmp_exc);
    }
    free(g), free(bound);
    return ATT_OK;
}

void pay_totals_add(struct pay_totals *t, const struct pay_day *d, unsigned resolved)
{
    t->scheduled_min += d->scheduled_min;
    t->worked_min += d->worked_min;
    t->regular_min += d->regular_min;
    t->ot_daily_min += d->ot_daily_min;
    t->ot_weekly_min += d->ot_weekly_min;
    t->ot_rest_day_min += d->ot_rest_day_min;
    t->ot_holiday_min += d->ot_holiday_min;
    t->night_min += d->night_min;
    t->holiday_min += d->holiday_min;
    if (d->leave_type >= 0) {
        if (d->leave_paid) t->leave_paid_min += d->leave_min;
        else t->leave_unpaid_min += d->leave_min;
        if (d->leave_type < PAY_MAX_LEAVE_TYPES) t->leave_min[d->leave_type] += d->leave_min;
    }
    for (size_t i = 0; i < d->nexc; i++) {
        if (resolved & (1u << d->exc[i].kind)) continue;
        t->exceptions++;
        t->exceptions_by_kind[d->exc[i].kind]++;
    }
    if (d->status == PAY_ABSENT) t->absent_days++;
}
