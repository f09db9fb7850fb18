/* Pay rules and exceptions (src/attendance/pay.c) against tables of hand-computed days (Europe/Berlin):
 * grace, rounding either way, fixed and punched breaks, overtime tiers (daily, weekly, rest day,
 * holiday), night minutes across midnight, month end and both DST changes, split shifts, 24 h on call,
 * holidays, whole- and part-day leave, short rest, and every exception with its severity. */
#include <check.h>
#include <string.h>

#include "attendd/pay.h"
#include "attendd/time.h"
#include "attendd/tz.h"
#include "support.h"

#define HM(h, m) ((h)*60 + (m))
#define NOX 0xffffffffu /* no expectation on the exception set */

static att_tz *berlin;

static void setup(void) { ck_assert_int_eq(att_tz_load("Europe/Berlin", NULL, &berlin), ATT_OK); }
static void teardown(void) { att_tz_free(berlin); }

static int64_t day(int y, int m, int d) { return att_time_days_from_civil(y, m, d); }

/* µs instant of local Berlin wall time on y-m-d, minutes after midnight (may exceed 1440) */
static int64_t at(int y, int m, int d, int min)
{
    return att_tz_to_utc(berlin, day(y, m, d) * ATT_DAY_S + (int64_t)min * 60) * 1000000;
}

static const struct pay_shift day8 = {
    .start_min = HM(8, 0), .end_min = HM(16, 0), .grace_late_min = 5, .grace_early_min = 5, .break_min = 30};
static const struct pay_shift round_emp = {.start_min = HM(8, 0),
                                           .end_min = HM(16, 0),
                                           .grace_late_min = 5,
                                           .grace_early_min = 5,
                                           .break_min = 30,
                                           .round_min = 15};
static const struct pay_shift round_er = {.start_min = HM(8, 0),
                                          .end_min = HM(16, 0),
                                          .grace_late_min = 5,
                                          .grace_early_min = 5,
                                          .break_min = 30,
                                          .round_min = 15,
                                          .round_favour = PAY_FAVOUR_EMPLOYER};
static const struct pay_shift punched = {
    .start_min = HM(8, 0), .end_min = HM(16, 0), .break_min = 30, .break_punched = true};
static const struct pay_shift night = {.start_min = HM(22, 0), .end_min = HM(6, 0)};
static const struct pay_shift late_sh = {.start_min = HM(14, 0), .end_min = HM(22, 0)};
static const struct pay_shift am = {.start_min = HM(7, 0), .end_min = HM(11, 0), .grace_late_min = 5};
static const struct pay_shift pm = {.start_min = HM(17, 0), .end_min = HM(21, 0), .grace_late_min = 5};
static const struct pay_shift oncall = {.start_min = HM(8, 0), .end_min = HM(8, 0)};

#define MAXP 8

/* One case: a work day (and what comes with it), local punches as minutes from that day's midnight
 * (positive: in, negative: out; an out at midnight is written -1440 - 0, so use OUT()). */
struct pcase {
    const char *name;
    const struct pay_shift *sh[2]; /* the day's shifts (NULL: fewer) */
    bool holiday, ot_ok;
    const struct leave_record *leave;
    int np;
    int kind[MAXP]; /* 1 in, 0 out */
    int min[MAXP];  /* minutes after the day's local midnight */
    /* expected */
    int64_t scheduled, worked, ot_daily, ot_rest, ot_holiday, night, holiday_min, late, early, leave_min;
    enum pay_status status;
    unsigned exc; /* bit per exception kind */
};

#define B(k) (1u << (k))

static const struct leave_record annual = {.type = 0, .paid = true, .state = LEAVE_APPROVED};
static const struct leave_record morning_off = {
    .type = 2, .paid = false, .state = LEAVE_APPROVED, .part_day = true, .from_min = HM(8, 0), .to_min = HM(12, 0)};

static const struct pcase cases[] = {
    /* day shift 08:00-16:00, grace 5/5, break 30: net 450 */
    {"early in, late out",
     {&day8},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(7, 55), HM(16, 5)},
     450,
     460,
     10,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     B(EXC_OVERTIME_UNAPPROVED)},
    {"same, overtime approved",
     {&day8},
     false,
     true,
     NULL,
     2,
     {1, 0},
     {HM(7, 55), HM(16, 5)},
     450,
     460,
     10,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    {"within grace", {&day8}, false, false, NULL, 2, {1, 0}, {HM(8, 4), HM(16, 0)}, 450, 446, 0, 0, 0, 0, 0, 0, 0, 0,
     PAY_PRESENT,    0},
    {"late beyond grace counts whole",
     {&day8},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(8, 20), HM(16, 5)},
     450,
     435,
     0,
     0,
     0,
     0,
     0,
     20,
     0,
     0,
     PAY_LATE,
     B(EXC_LATE)},
    {"early leave",
     {&day8},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(7, 55), HM(15, 0)},
     450,
     395,
     0,
     0,
     0,
     0,
     0,
     0,
     60,
     0,
     PAY_EARLY_LEAVE,
     B(EXC_EARLY_LEAVE)},
    {"missing out",   {&day8},           false, false, NULL, 1, {1}, {HM(7, 55)}, 450, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     PAY_MISSING_OUT, B(EXC_MISSING_OUT)},
    {"absent", {&day8}, false, false, NULL, 0, {0}, {0}, 450, 0, 0, 0, 0, 0, 0, 0, 0, 0, PAY_ABSENT, B(EXC_ABSENT)},
    {"a lone out is no presence",
     {&day8},
     false,
     false,
     NULL,
     1,
     {0},
     {HM(16, 0)},
     450,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_ABSENT,
     B(EXC_ABSENT)},
    {"early start into the night window",
     {&day8},
     false,
     true,
     NULL,
     2,
     {1, 0},
     {HM(5, 0), HM(16, 0)},
     450,
     630,
     180,
     0,
     0,
     60,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    /* rounding to 15 minutes; late and early are measured on the punches as made */
    {"round for the employee",
     {&round_emp},
     false,
     true,
     NULL,
     2,
     {1, 0},
     {HM(7, 53), HM(16, 7)},
     450,
     480,
     30,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    {"round for the employer",
     {&round_er},
     false,
     true,
     NULL,
     2,
     {1, 0},
     {HM(7, 53), HM(16, 7)},
     450,
     450,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    {"rounding does not hide lateness",
     {&round_emp},
     false,
     true,
     NULL,
     2,
     {1, 0},
     {HM(8, 7), HM(15, 53)},
     450,
     450,
     0,
     0,
     0,
     0,
     0,
     7,
     7,
     0,
     PAY_LATE,
     B(EXC_LATE) | B(EXC_EARLY_LEAVE)},
    /* a punched break: the gap is unpaid, nothing else is deducted */
    {"punched break",
     {&punched},
     false,
     true,
     NULL,
     4,
     {1, 0, 1, 0},
     {HM(8, 0), HM(12, 0), HM(12, 40), HM(16, 0)},
     450,
     440,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    /* split shift 07:00-11:00 + 17:00-21:00 */
    {"split shift, late for the second",
     {&am, &pm},
     false,
     false,
     NULL,
     4,
     {1, 0, 1, 0},
     {HM(6, 58), HM(11, 2), HM(17, 10), HM(21, 0)},
     480,
     474,
     0,
     0,
     0,
     0,
     0,
     10,
     0,
     0,
     PAY_LATE,
     B(EXC_LATE)},
    {"split shift, second missed",
     {&am, &pm},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(7, 0), HM(11, 0)},
     480,
     240,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     B(EXC_ABSENT)},
    /* 24 h on call 08:00-08:00 */
    {"24 h on call",
     {&oncall},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(7, 55), 1440 + HM(8, 5)},
     1440,
     1450,
     10,
     0,
     0,
     480,
     0,
     0,
     0,
     0,
     PAY_PRESENT,
     B(EXC_OVERTIME_UNAPPROVED)},
    /* rest days, holidays, leave */
    {"rest day presence",
     {NULL},
     false,
     false,
     NULL,
     2,
     {1, 0},
     {HM(10, 0), HM(12, 0)},
     0,
     120,
     0,
     120,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_UNSCHEDULED,
     B(EXC_UNSCHEDULED_PRESENCE) | B(EXC_OVERTIME_UNAPPROVED)},
    {"rest day", {NULL}, false, false, NULL, 0, {0}, {0}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PAY_OFF, 0},
    {"holiday, shift, not worked",
     {&day8},
     true,
     false,
     NULL,
     0,
     {0},
     {0},
     450,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_HOLIDAY,
     0},
    {"holiday worked as planned",
     {&day8},
     true,
     false,
     NULL,
     2,
     {1, 0},
     {HM(8, 0), HM(16, 0)},
     450,
     450,
     0,
     0,
     0,
     0,
     450,
     0,
     0,
     0,
     PAY_PRESENT,
     0},
    {"holiday without shift worked",
     {NULL},
     true,
     true,
     NULL,
     2,
     {1, 0},
     {HM(9, 0), HM(11, 0)},
     0,
     120,
     0,
     0,
     120,
     0,
     120,
     0,
     0,
     0,
     PAY_UNSCHEDULED,
     B(EXC_UNSCHEDULED_PRESENCE)},
    {"holiday without shift", {NULL}, true, false, NULL, 0, {0}, {0}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PAY_HOLIDAY, 0},
    {"annual leave on a shift day",
     {&day8},
     false,
     false,
     &annual,
     0,
     {0},
     {0},
     450,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     450,
     PAY_LEAVE,
     0},
    {"annual leave on a rest day",
     {NULL},
     false,
     false,
     &annual,
     0,
     {0},
     {0},
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     PAY_LEAVE,
     0},
    {"morning off, in at noon",
     {&day8},
     false,
     false,
     &morning_off,
     2,
     {1, 0},
     {HM(12, 0), HM(16, 0)},
     450,
     210,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     240,
     PAY_PRESENT,
     0},
    {"morning off, in late after it",
     {&day8},
     false,
     false,
     &morning_off,
     2,
     {1, 0},
     {HM(12, 30), HM(16, 0)},
     450,
     180,
     0,
     0,
     0,
     0,
     0,
     30,
     0,
     240,
     PAY_LATE,
     B(EXC_LATE)},
};

static void run_case(const struct pcase *c, int y, int m, int d)
{
    struct pay_rules r;
    pay_rules_defaults(&r);
    struct pay_day_in days[3];
    memset(days, 0, sizeof days);
    for (int i = 0; i < 2 && c->sh[i]; i++) {
        days[1].shift[i] = c->sh[i];
        days[1].shift_index[i] = i;
        days[1].nshifts++;
    }
    days[1].holiday = c->holiday;
    days[1].overtime_approved = c->ot_ok;
    struct leave_record lv;
    if (c->leave) {
        lv = *c->leave;
        lv.from_day = lv.to_day = day(y, m, d);
        days[1].leave = &lv;
    }
    struct report_punch p[MAXP];
    for (int i = 0; i < c->np; i++)
        p[i] =
            (struct report_punch){.ts_us = at(y, m, d, c->min[i]), .kind = c->kind[i] ? EVENT_KIND_IN : EVENT_KIND_OUT};
    struct pay_input in = {.tz = berlin,
                           .rules = &r,
                           .first_day = day(y, m, d),
                           .ndays = 1,
                           .days = days,
                           .punches = p,
                           .npunches = (size_t)c->np};
    struct pay_day o;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_OK);
#define EQ(f, want) \
    ck_assert_msg(o.f == (want), "%s: " #f " = %lld, want %lld", c->name, (long long)o.f, (long long)(want))
    EQ(scheduled_min, c->scheduled);
    EQ(worked_min, c->worked);
    EQ(ot_daily_min, c->ot_daily);
    EQ(ot_rest_day_min, c->ot_rest);
    EQ(ot_holiday_min, c->ot_holiday);
    EQ(ot_weekly_min, 0);
    EQ(night_min, c->night);
    EQ(holiday_min, c->holiday_min);
    EQ(late_min, c->late);
    EQ(early_min, c->early);
    EQ(leave_min, c->leave_min);
    EQ(regular_min, c->worked - c->ot_daily - c->ot_rest - c->ot_holiday);
    ck_assert_msg(o.status == c->status, "%s: status %s, want %s", c->name, pay_status_name(o.status),
                  pay_status_name(c->status));
    unsigned got = 0;
    for (size_t i = 0; i < o.nexc; i++) {
        got |= B(o.exc[i].kind);
        ck_assert_int_eq(o.exc[i].severity, pay_exception_severity(o.exc[i].kind));
        if (i > 0) ck_assert_int_lt(o.exc[i - 1].kind, o.exc[i].kind);
    }
    if (c->exc != NOX) ck_assert_msg(got == c->exc, "%s: exceptions %#x, want %#x", c->name, got, c->exc);
#undef EQ
}

START_TEST(day_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 2026, 3, 10); /* a Tuesday, CET */
}
END_TEST

/* The same table in summer time (CEST) gives the same minutes: the rules work on local wall time. */
START_TEST(day_table_summer)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 2026, 7, 14);
}
END_TEST

/* Night shifts 22:00-06:00 across both DST changes and the month end: real elapsed minutes. */
START_TEST(night_dst_and_month_end)
{
    static const struct {
        int y, m, d;
        int in_min, out_min; /* local minutes from the work day's midnight */
        int64_t scheduled, worked, ot, night;
    } nights[] = {
        {2026, 3, 28, HM(21, 55), 1440 + HM(6, 5), 420, 430, 10, 420},  /* into summer time: 7 h night */
        {2026, 10, 24, HM(22, 0), 1440 + HM(6, 0), 540, 540, 0, 540},   /* into winter time: 9 h night */
        {2026, 3, 31, HM(22, 0), 1440 + HM(6, 0), 480, 480, 0, 480},    /* across the month end */
        {2026, 12, 31, HM(21, 50), 1440 + HM(6, 0), 480, 490, 10, 480}, /* across the year end */
    };
    struct pay_rules r;
    pay_rules_defaults(&r);
    for (size_t i = 0; i < sizeof nights / sizeof nights[0]; i++) {
        struct pay_day_in days[3];
        memset(days, 0, sizeof days);
        days[1].nshifts = 1;
        days[1].shift[0] = &night;
        days[1].overtime_approved = true;
        int64_t d0 = day(nights[i].y, nights[i].m, nights[i].d);
        struct report_punch p[2] = {
            {.ts_us = at(nights[i].y, nights[i].m, nights[i].d, nights[i].in_min), .kind = EVENT_KIND_IN},
            {.ts_us = at(nights[i].y, nights[i].m, nights[i].d, nights[i].out_min), .kind = EVENT_KIND_OUT}};
        struct pay_input in = {
            .tz = berlin, .rules = &r, .first_day = d0, .ndays = 1, .days = days, .punches = p, .npunches = 2};
        struct pay_day o;
        ck_assert_int_eq(pay_compute(&in, &o), ATT_OK);
        ck_assert_msg(o.scheduled_min == nights[i].scheduled, "night %zu scheduled %lld", i,
                      (long long)o.scheduled_min);
        ck_assert_msg(o.worked_min == nights[i].worked, "night %zu worked %lld", i, (long long)o.worked_min);
        ck_assert_msg(o.ot_daily_min == nights[i].ot, "night %zu ot %lld", i, (long long)o.ot_daily_min);
        ck_assert_msg(o.night_min == nights[i].night, "night %zu night %lld", i, (long long)o.night_min);
        ck_assert_int_eq(o.status, PAY_PRESENT);
        ck_assert_int_eq(o.end_us[0] - o.start_us[0], nights[i].scheduled * 60000000LL);
    }
}
END_TEST

/* A week of day shifts with a weekly floor of 40 h, a late shift followed by an early day shift
 * (short rest), and the period totals. */
START_TEST(week_tiers_rest_and_totals)
{
    struct pay_rules r;
    pay_rules_defaults(&r);
    r.weekly_ot_after_min = 2400;
    const int64_t mon = day(2026, 3, 9);
    enum { ND = 8 }; /* Monday 9 .. Monday 16 March */
    struct pay_day_in days[ND + 2];
    memset(days, 0, sizeof days);
    for (int k = 1; k <= 6; k++) { /* Monday..Saturday day shifts; Tuesday a late shift instead */
        days[k].nshifts = 1;
        days[k].shift[0] = k == 2 ? &late_sh : &day8;
        days[k].overtime_approved = true;
    }
    days[8].nshifts = 1; /* the next Monday: a new week */
    days[8].shift[0] = &day8;
    struct report_punch p[2 * ND];
    size_t np = 0;
    for (int k = 1; k <= ND; k++) {
        if (k == 7) continue; /* Sunday off */
        int64_t dd = mon + k - 1;
        int y, m, d;
        att_time_civil_from_days(dd, &y, &m, &d);
        bool lt = k == 2;
        p[np++] = (struct report_punch){at(y, m, d, lt ? HM(14, 0) : HM(8, 0)), EVENT_KIND_IN};
        p[np++] = (struct report_punch){at(y, m, d, lt ? HM(22, 30) : HM(16, 0)), EVENT_KIND_OUT};
    }
    struct pay_input in = {
        .tz = berlin, .rules = &r, .first_day = mon, .ndays = ND, .days = days, .punches = p, .npunches = np};
    struct pay_day o[ND];
    ck_assert_int_eq(pay_compute(&in, o), ATT_OK);
    /* Tuesday: late shift 14:00-22:30, 30 min daily overtime; Wednesday 08:00 after 22:30: 570 min rest */
    ck_assert_int_eq(o[1].ot_daily_min, 30);
    ck_assert_int_eq(o[1].night_min, 30);
    ck_assert_int_eq(o[2].nexc, 1);
    ck_assert_int_eq(o[2].exc[0].kind, EXC_SHORT_REST);
    ck_assert_int_eq(o[2].exc[0].minutes, 570);
    ck_assert_int_eq(o[2].exc[0].severity, SEV_CRITICAL);
    /* regular minutes: Mon 450, Tue 480, Wed..Fri 450 = 2280; Saturday has 120 of room left */
    ck_assert_int_eq(o[5].regular_min, 120);
    ck_assert_int_eq(o[5].ot_weekly_min, 330);
    ck_assert_int_eq(o[6].status, PAY_OFF);
    ck_assert_int_eq(o[7].ot_weekly_min, 0); /* Monday: the count starts again */
    ck_assert_int_eq(o[7].regular_min, 450);
    ck_assert_int_eq(o[7].nexc, 0); /* Sunday rest: no short rest */

    struct pay_totals t = {0};
    for (int i = 0; i < ND; i++) pay_totals_add(&t, &o[i], 0);
    ck_assert_int_eq(t.worked_min, 450 * 6 + 510);
    ck_assert_int_eq(t.ot_daily_min, 30);
    ck_assert_int_eq(t.ot_weekly_min, 330);
    ck_assert_int_eq(t.regular_min, t.worked_min - 30 - 330);
    ck_assert_int_eq(t.exceptions, 1);
    ck_assert_int_eq(t.exceptions_by_kind[EXC_SHORT_REST], 1);
    struct pay_totals t2 = {0};
    for (int i = 0; i < ND; i++) pay_totals_add(&t2, &o[i], B(EXC_SHORT_REST));
    ck_assert_int_eq(t2.exceptions, 0);
}
END_TEST

START_TEST(rounding_table)
{
    static const struct {
        int min;  /* local punch, minutes after midnight */
        int grid; /* round_min */
        enum pay_favour f;
        bool in;
        int want; /* local minutes after rounding */
    } cases[] = {
        {HM(7, 53), 15, PAY_FAVOUR_EMPLOYEE, true, HM(7, 45)},   {HM(7, 53), 15, PAY_FAVOUR_EMPLOYER, true, HM(8, 0)},
        {HM(16, 7), 15, PAY_FAVOUR_EMPLOYEE, false, HM(16, 15)}, {HM(16, 7), 15, PAY_FAVOUR_EMPLOYER, false, HM(16, 0)},
        {HM(8, 0), 15, PAY_FAVOUR_EMPLOYER, true, HM(8, 0)},     {HM(8, 0), 15, PAY_FAVOUR_EMPLOYEE, false, HM(8, 0)},
        {HM(8, 1), 6, PAY_FAVOUR_EMPLOYEE, false, HM(8, 6)},     {HM(23, 58), 5, PAY_FAVOUR_EMPLOYEE, false, 1440},
        {HM(8, 7), 0, PAY_FAVOUR_EMPLOYER, true, HM(8, 7)},      {HM(8, 7), 1, PAY_FAVOUR_EMPLOYER, true, HM(8, 7)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int summer = 0; summer < 2; summer++) {
            int m = summer ? 7 : 1;
            int64_t got = pay_round(berlin, at(2026, m, 15, cases[i].min), cases[i].grid, cases[i].f, cases[i].in);
            ck_assert_msg(got == at(2026, m, 15, cases[i].want), "rounding case %zu (month %d)", i, m);
        }
    }
    ck_assert_str_eq(pay_favour_name(PAY_FAVOUR_EMPLOYER), "employer");
}
END_TEST

START_TEST(names_and_bad_input)
{
    for (int k = 0; k < EXC__COUNT; k++) {
        enum pay_exception_kind back;
        ck_assert(pay_exception_parse(pay_exception_name((enum pay_exception_kind)k), &back));
        ck_assert_int_eq(back, k);
    }
    enum pay_exception_kind x;
    ck_assert(!pay_exception_parse("lateness", &x));
    ck_assert_str_eq(pay_exception_name(EXC_UNSCHEDULED_PRESENCE), "unscheduled_presence");
    ck_assert_str_eq(pay_severity_name(pay_exception_severity(EXC_UNSCHEDULED_PRESENCE)), "info");
    ck_assert_str_eq(pay_status_name(PAY_HOLIDAY), "holiday");

    struct pay_rules r;
    pay_rules_defaults(&r);
    struct pay_day_in days[3];
    memset(days, 0, sizeof days);
    struct pay_input in = {.tz = berlin, .rules = &r, .first_day = day(2026, 3, 10), .ndays = 1, .days = days};
    struct pay_day o;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_OK);
    struct pay_shift bad = day8;
    bad.start_min = 1440;
    days[1].nshifts = 1;
    days[1].shift[0] = &bad;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    bad = day8;
    bad.round_min = 61;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    days[1].shift[0] = NULL;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    days[1].nshifts = PLAN_MAX_SHIFTS + 1;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    days[1].nshifts = 0;
    r.cutoff_min = -1;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    pay_rules_defaults(&r);
    r.weekly_ot_after_min = 7 * 1440 + 1;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    pay_rules_defaults(&r);
    in.tz = NULL;
    ck_assert_int_eq(pay_compute(&in, &o), ATT_E_INVALID);
    /* a night window of no length */
    r.night_start_min = r.night_end_min = 0;
    ck_assert_int_eq(pay_night_minutes(berlin, &r, at(2026, 3, 10, 0), at(2026, 3, 11, 0)), 0);
    pay_rules_defaults(&r);
    ck_assert_int_eq(pay_night_minutes(berlin, &r, at(2026, 3, 10, 0), at(2026, 3, 11, 0)), 480);
}
END_TEST

/* The site's rule set (night window, daily and weekly floors, minimum rest) over one pair of days:
 * Wednesday 2026-03-11 a late shift worked 14:00-22:00 (480 regular), Thursday a day shift (net 450)
 * worked 08:00-18:00 (570) after 600 minutes of rest. Each row: the rules and Thursday's figures. */
START_TEST(rule_set_table)
{
    static const struct {
        const char *name;
        int night_start, night_end, daily_after, weekly_after, min_rest;
        int64_t night, ot_daily, ot_weekly, regular;
        bool short_rest;
    } rows[] = {
        {"defaults", HM(22, 0), HM(6, 0), 0, 0, 660, 0, 120, 0, 450, true},
        {"night 15:00-17:00", HM(15, 0), HM(17, 0), 0, 0, 660, 120, 120, 0, 450, true},
        {"night 17:00-09:00 over midnight", HM(17, 0), HM(9, 0), 0, 0, 660, 120, 120, 0, 450, true},
        {"night window of no length", HM(0, 0), HM(0, 0), 0, 0, 660, 0, 120, 0, 450, true},
        {"daily floor above the scheduled net", HM(22, 0), HM(6, 0), 540, 0, 660, 0, 30, 0, 540, true},
        {"daily floor of a whole day", HM(22, 0), HM(6, 0), 1440, 0, 660, 0, 0, 0, 570, true},
        {"daily floor below the scheduled net", HM(22, 0), HM(6, 0), 300, 0, 660, 0, 120, 0, 450, true},
        {"weekly floor 600", HM(22, 0), HM(6, 0), 0, 600, 660, 0, 120, 330, 120, true},
        {"weekly floor 600 over daily floor 540", HM(22, 0), HM(6, 0), 540, 600, 660, 0, 30, 420, 120, true},
        {"weekly floor not reached", HM(22, 0), HM(6, 0), 0, 2400, 660, 0, 120, 0, 450, true},
        {"minimum rest 8 h", HM(22, 0), HM(6, 0), 0, 0, 480, 0, 120, 0, 450, false},
        {"minimum rest exactly the rest", HM(22, 0), HM(6, 0), 0, 0, 600, 0, 120, 0, 450, false},
        {"minimum rest one minute more", HM(22, 0), HM(6, 0), 0, 0, 601, 0, 120, 0, 450, true},
        {"no rest check", HM(22, 0), HM(6, 0), 0, 0, 0, 0, 120, 0, 450, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct pay_rules r;
        pay_rules_defaults(&r);
        r.night_start_min = rows[i].night_start;
        r.night_end_min = rows[i].night_end;
        r.daily_ot_after_min = rows[i].daily_after;
        r.weekly_ot_after_min = rows[i].weekly_after;
        r.min_rest_min = rows[i].min_rest;
        struct pay_day_in days[4];
        memset(days, 0, sizeof days);
        days[1].nshifts = days[2].nshifts = 1;
        days[1].shift[0] = &late_sh;
        days[2].shift[0] = &day8;
        days[1].overtime_approved = days[2].overtime_approved = true;
        struct report_punch p[4] = {{at(2026, 3, 11, HM(14, 0)), EVENT_KIND_IN},
                                    {at(2026, 3, 11, HM(22, 0)), EVENT_KIND_OUT},
                                    {at(2026, 3, 12, HM(8, 0)), EVENT_KIND_IN},
                                    {at(2026, 3, 12, HM(18, 0)), EVENT_KIND_OUT}};
        struct pay_input in = {.tz = berlin,
                               .rules = &r,
                               .first_day = day(2026, 3, 11),
                               .ndays = 2,
                               .days = days,
                               .punches = p,
                               .npunches = 4};
        struct pay_day o[2];
        ck_assert_msg(pay_compute(&in, o) == ATT_OK, "%s: refused", rows[i].name);
        const struct pay_day *t = &o[1];
        ck_assert_msg(o[0].regular_min == 480, "%s: Wednesday regular %lld", rows[i].name, (long long)o[0].regular_min);
        ck_assert_msg(t->worked_min == 570, "%s: worked %lld", rows[i].name, (long long)t->worked_min);
        ck_assert_msg(t->night_min == rows[i].night, "%s: night %lld", rows[i].name, (long long)t->night_min);
        ck_assert_msg(t->ot_daily_min == rows[i].ot_daily, "%s: daily %lld", rows[i].name, (long long)t->ot_daily_min);
        ck_assert_msg(t->ot_weekly_min == rows[i].ot_weekly, "%s: weekly %lld", rows[i].name,
                      (long long)t->ot_weekly_min);
        ck_assert_msg(t->regular_min == rows[i].regular, "%s: regular %lld", rows[i].name, (long long)t->regular_min);
        bool sr = false;
        for (size_t k = 0; k < t->nexc; k++)
            if (t->exc[k].kind == EXC_SHORT_REST) sr = t->exc[k].minutes == 600;
        ck_assert_msg(sr == rows[i].short_rest, "%s: short_rest %d", rows[i].name, sr);
    }
}
END_TEST

Suite *pay_suite(void)
{
    Suite *s = suite_create("pay");
    TCase *tc = ts_tcase(s, "rules", 60, setup, teardown, day_table, day_table_summer, night_dst_and_month_end,
                         week_tiers_rest_and_totals, rounding_table, names_and_bad_input, rule_set_table, NULL);
    (void)tc;
    return s;
}
