/* Roster resolution (src/attendance/plan.c) against tables of hand-resolved days: weekly patterns with
 * days off, rotating cycles before and after their anchor, split and on-call days, overrides and the
 * precedence person override > person pattern > department pattern, holidays and leave. */
#include <check.h>

#include "attendd/plan.h"
#include "attendd/time.h"
#include "support.h"

enum { E = 0, L = 1, N = 2, D = 3, AM = 4, PM = 5, ONCALL = 6 }; /* shift indices of the tables */

#define OFF      \
    {            \
        0, { 0 } \
    }
#define ONE(a)   \
    {            \
        1, { a } \
    }
#define TWO(a, b)   \
    {               \
        2, { a, b } \
    }

static int64_t day(int y, int m, int d) { return att_time_days_from_civil(y, m, d); }

/* Monday-to-Friday day worker, the weekend off. */
static const struct plan_day weekdays[7] = {ONE(D), ONE(D), ONE(D), ONE(D), ONE(D), OFF, OFF};
/* E E L L N N - - - -: a ten-day rotation. */
static const struct plan_day rota[10] = {ONE(E), ONE(E), ONE(L), ONE(L), ONE(N), ONE(N), OFF, OFF, OFF, OFF};
/* A split-shift week: mornings and evenings on Tuesday, a 24 h on-call block on Saturday. */
static const struct plan_day split[7] = {ONE(D), TWO(AM, PM), ONE(D), ONE(D), ONE(D), ONE(ONCALL), OFF};

START_TEST(weekly_and_rotation_table)
{
    const struct plan_pattern weekly = {.kind = PLAN_WEEKLY,
                                        .valid_from = day(2026, 1, 1),
                                        .valid_to = PLAN_OPEN_END,
                                        .cycle_len = 7,
                                        .cycle = weekdays};
    const struct plan_pattern rot = {.kind = PLAN_ROTATION,
                                     .valid_from = day(2026, 1, 1),
                                     .valid_to = PLAN_OPEN_END,
                                     .anchor_day = day(2026, 3, 2),
                                     .cycle_len = 10,
                                     .cycle = rota};
    ck_assert_int_eq(plan_pattern_check(&weekly), ATT_OK);
    ck_assert_int_eq(plan_pattern_check(&rot), ATT_OK);
    static const struct {
        int y, m, d;
        bool rotation;
        size_t n;
        int shift;
    } cases[] = {
        {2026, 3, 2, false, 1, D},  /* Monday */
        {2026, 3, 6, false, 1, D},  /* Friday */
        {2026, 3, 7, false, 0, 0},  /* Saturday off */
        {2026, 3, 8, false, 0, 0},  /* Sunday off */
        {2026, 3, 9, false, 1, D},  /* Monday again */
        {2026, 3, 2, true, 1, E},   /* the anchor: cycle[0] */
        {2026, 3, 4, true, 1, L},   /* day 2 */
        {2026, 3, 7, true, 1, N},   /* day 5 */
        {2026, 3, 8, true, 0, 0},   /* day 6: off */
        {2026, 3, 12, true, 1, E},  /* day 10 wraps to cycle[0] */
        {2026, 3, 1, true, 0, 0},   /* the day before the anchor is cycle[9] (off) */
        {2026, 2, 26, true, 0, 0},  /* anchor - 4: -4 mod 10 = 6 -> cycle[6] off */
        {2026, 2, 27, true, 0, 0},  /* -3 -> cycle[7] off */
        {2026, 2, 20, true, 1, E},  /* -10 -> cycle[0] */
        {2026, 12, 31, true, 1, N}, /* 304 days later: 304 mod 10 = 4 -> N */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct plan_inputs in = {.person = cases[i].rotation ? &rot : &weekly, .nperson = 1};
        struct plan_day out;
        enum plan_source src;
        int64_t dd = day(cases[i].y, cases[i].m, cases[i].d);
        plan_resolve(&in, dd, &out, &src);
        size_t want_n = cases[i].n;
        int want_shift = cases[i].shift;
        ck_assert_msg(out.n == want_n, "case %zu: %zu shifts, want %zu", i, out.n, want_n);
        if (want_n)
            ck_assert_msg(out.shift[0] == want_shift, "case %zu: shift %d, want %d", i, out.shift[0], want_shift);
        ck_assert_int_eq(src, PLAN_SRC_PERSON);
    }
    /* the cycle index by itself */
    ck_assert_uint_eq(plan_cycle_index(&rot, day(2026, 3, 1)), 9);
    ck_assert_uint_eq(plan_cycle_index(&rot, day(2026, 2, 26)), 6);
    ck_assert_uint_eq(plan_cycle_index(&weekly, day(2026, 3, 8)), 6); /* Sunday */
}
END_TEST

START_TEST(split_and_on_call_days)
{
    const struct plan_pattern p = {.kind = PLAN_WEEKLY,
                                   .valid_from = day(2026, 3, 1),
                                   .valid_to = day(2026, 3, 31),
                                   .cycle_len = 7,
                                   .cycle = split};
    struct plan_inputs in = {.department = &p, .ndepartment = 1};
    struct plan_day out;
    enum plan_source src;
    plan_resolve(&in, day(2026, 3, 3), &out, &src); /* Tuesday: two shifts */
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(out.shift[0], AM);
    ck_assert_int_eq(out.shift[1], PM);
    ck_assert_int_eq(src, PLAN_SRC_DEPARTMENT);
    plan_resolve(&in, day(2026, 3, 7), &out, &src); /* Saturday: on call */
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(out.shift[0], ONCALL);
    plan_resolve(&in, day(2026, 4, 7), &out, &src); /* after valid_to: nothing */
    ck_assert_uint_eq(out.n, 0);
    ck_assert_int_eq(src, PLAN_SRC_NONE);
    ck_assert_str_eq(plan_source_name(PLAN_SRC_NONE), "none");
}
END_TEST

START_TEST(precedence_table)
{
    const struct plan_pattern dept = {.kind = PLAN_WEEKLY,
                                      .valid_from = day(2026, 1, 1),
                                      .valid_to = PLAN_OPEN_END,
                                      .cycle_len = 7,
                                      .cycle = weekdays};
    /* the person's own rotation for March only, and a newer open-ended one from 20 March */
    const struct plan_pattern own[2] = {
        {.kind = PLAN_ROTATION,
         .valid_from = day(2026, 3, 1),
         .valid_to = day(2026, 3, 31),
         .anchor_day = day(2026, 3, 2),
         .cycle_len = 10,
         .cycle = rota},
        {.kind = PLAN_ROTATION,
         .valid_from = day(2026, 3, 20),
         .valid_to = PLAN_OPEN_END,
         .anchor_day = day(2026, 3, 20),
         .cycle_len = 10,
         .cycle = rota},
    };
    const struct plan_override ov[2] = {
        {.day = day(2026, 3, 3), .plan = ONE(L)}, /* a swapped Tuesday */
        {.day = day(2026, 3, 4), .plan = OFF},    /* a day given off */
    };
    struct plan_inputs in = {
        .overrides = ov, .noverrides = 2, .person = own, .nperson = 2, .department = &dept, .ndepartment = 1};
    static const struct {
        int m, d;
        size_t n;
        int shift;
        enum plan_source src;
    } cases[] = {
        {2, 27, 1, D, PLAN_SRC_DEPARTMENT}, /* before the person's pattern: the department's (Friday) */
        {2, 28, 0, 0, PLAN_SRC_DEPARTMENT}, /* the department's Saturday off still decides */
        {3, 2, 1, E, PLAN_SRC_PERSON},      /* the person's pattern beats the department's */
        {3, 3, 1, L, PLAN_SRC_OVERRIDE},    /* the override beats the person's pattern (E) */
        {3, 4, 0, 0, PLAN_SRC_OVERRIDE},    /* an override to a day off */
        {3, 19, 0, 0, PLAN_SRC_PERSON},     /* day 17 of the first rotation: off */
        {3, 20, 1, E, PLAN_SRC_PERSON},     /* the later valid_from wins from its first day */
        {4, 1, 1, L, PLAN_SRC_PERSON},      /* day 12 of the rotation from 03-20: cycle[2] */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct plan_day out;
        enum plan_source src;
        plan_resolve(&in, day(2026, cases[i].m, cases[i].d), &out, &src);
        size_t want_n = cases[i].n;
        int want = cases[i].shift;
        ck_assert_msg(out.n == want_n, "case %zu: %zu shifts, want %zu", i, out.n, want_n);
        if (want_n) ck_assert_msg(out.shift[0] == want, "case %zu: shift %d want %d", i, out.shift[0], want);
        ck_assert_msg(src == cases[i].src, "case %zu: source %s", i, plan_source_name(src));
    }
}
END_TEST

START_TEST(pattern_check_table)
{
    struct plan_day big = {PLAN_MAX_SHIFTS + 1, {0}};
    struct plan_day week_bad[7] = {OFF, OFF, OFF, OFF, OFF, OFF, OFF};
    week_bad[3] = big;
    const struct plan_pattern cases[] = {
        {.kind = PLAN_WEEKLY, .valid_from = 0, .valid_to = 10, .cycle_len = 6, .cycle = weekdays},
        {.kind = PLAN_ROTATION, .valid_from = 0, .valid_to = 10, .cycle_len = 0, .cycle = rota},
        {.kind = PLAN_ROTATION, .valid_from = 0, .valid_to = 10, .cycle_len = PLAN_MAX_CYCLE + 1, .cycle = rota},
        {.kind = PLAN_ROTATION, .valid_from = 0, .valid_to = 10, .cycle_len = 10, .cycle = NULL},
        {.kind = PLAN_ROTATION, .valid_from = 10, .valid_to = 9, .cycle_len = 10, .cycle = rota},
        {.kind = PLAN_WEEKLY, .valid_from = 0, .valid_to = 10, .cycle_len = 7, .cycle = week_bad},
        {.kind = (enum plan_kind)7, .valid_from = 0, .valid_to = 10, .cycle_len = 7, .cycle = weekdays},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(plan_pattern_check(&cases[i]) == ATT_E_INVALID, "case %zu accepted", i);
    ck_assert_int_eq(plan_pattern_check(NULL), ATT_E_INVALID);
}
END_TEST

START_TEST(holidays_and_leave_table)
{
    const int64_t hol[3] = {day(2026, 1, 1), day(2026, 4, 3), day(2026, 12, 25)};
    ck_assert(holiday_on(hol, 3, day(2026, 4, 3)));
    ck_assert(holiday_on(hol, 3, day(2026, 12, 25)));
    ck_assert(!holiday_on(hol, 3, day(2026, 4, 4)));
    ck_assert(!holiday_on(hol, 0, day(2026, 1, 1)));

    const struct leave_record l[4] = {
        {.from_day = day(2026, 3, 10), .to_day = day(2026, 3, 12), .type = 0, .paid = true, .state = LEAVE_APPROVED},
        {.from_day = day(2026, 3, 11),
         .to_day = day(2026, 3, 11),
         .type = 2,
         .state = LEAVE_APPROVED,
         .part_day = true,
         .from_min = 480,
         .to_min = 720},
        {.from_day = day(2026, 3, 20), .to_day = day(2026, 3, 20), .type = 1, .state = LEAVE_REQUESTED},
        {.from_day = day(2026, 3, 21), .to_day = day(2026, 3, 21), .type = 1, .state = LEAVE_REJECTED},
    };
    static const struct {
        int d;
        int want; /* index into l, -1 none */
    } cases[] = {{9, -1}, {10, 0}, {11, 0}, {12, 0}, {13, -1}, {20, -1}, {21, -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct leave_record *r = leave_on(l, 4, day(2026, 3, cases[i].d));
        if (cases[i].want < 0) ck_assert_msg(r == NULL, "day %d has leave", cases[i].d);
        else ck_assert_msg(r == &l[cases[i].want], "day %d: wrong leave", cases[i].d);
    }
    /* a part-day record alone is found */
    ck_assert_ptr_eq(leave_on(&l[1], 1, day(2026, 3, 11)), &l[1]);

    for (size_t i = 0; i < 4; i++) ck_assert_int_eq(leave_check(&l[i]), ATT_OK);
    const struct leave_record bad[3] = {
        {.from_day = 5, .to_day = 4},
        {.from_day = 5, .to_day = 5, .part_day = true, .from_min = 600, .to_min = 600},
        {.from_day = 5, .to_day = 5, .part_day = true, .from_min = 0, .to_min = 1441},
    };
    for (size_t i = 0; i < 3; i++) ck_assert_msg(leave_check(&bad[i]) == ATT_E_INVALID, "bad leave %zu", i);

    enum leave_state st;
    ck_assert(leave_state_parse("approved", &st) && st == LEAVE_APPROVED);
    ck_assert(leave_state_parse("requested", &st) && st == LEAVE_REQUESTED);
    ck_assert(!leave_state_parse("Approved", &st));
    ck_assert(!leave_state_parse(NULL, &st));
    ck_assert_str_eq(leave_state_name(LEAVE_REJECTED), "rejected");
}
END_TEST

Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    ts_tcase(s, "resolve", 30, NULL, NULL, weekly_and_rotation_table, split_and_on_call_days, precedence_table,
             pattern_check_table, holidays_and_leave_table, NULL);
    return s;
}
