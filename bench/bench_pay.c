/* Roster and pay engines over a hospital month: 2,000 people in 8 departments, each on a 10-day rotation
 * (E E L L N N - - - -, offset per person) with a weekly department pattern for a fifth of them, overrides,
 * holidays and leave, two punches per worked shift with jitter, in Europe/Berlin across the March DST
 * change. Prints the time to resolve every roster day, to compute every work day (the report) and to add
 * up the period totals (the export), best of 5 runs. Target: the whole hospital under 1 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/pay.h"
#include "attendd/plan.h"
#include "attendd/time.h"
#include "attendd/tz.h"

#define PEOPLE 2000
#define DAYS 31

static const struct pay_shift shifts[4] = {
    {.start_min = 6 * 60, .end_min = 14 * 60, .grace_late_min = 5, .grace_early_min = 5, .break_min = 30},
    {.start_min = 14 * 60, .end_min = 22 * 60, .grace_late_min = 5, .grace_early_min = 5, .break_min = 30},
    {.start_min = 22 * 60, .end_min = 6 * 60, .grace_late_min = 5, .grace_early_min = 5, .break_min = 30},
    {.start_min = 8 * 60, .end_min = 16 * 60, .grace_late_min = 5, .break_min = 30, .round_min = 15},
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    att_tz *tz;
    if (att_tz_load("Europe/Berlin", NULL, &tz) != ATT_OK) {
        fprintf(stderr, "bench_pay: Europe/Berlin not found (tzdata)\n");
        return 1;
    }
    struct pay_rules rules;
    pay_rules_defaults(&rules);
    rules.weekly_ot_after_min = 2400;
    const int64_t first = att_time_days_from_civil(2026, 3, 1);
    static const struct plan_day rota[10] = {{1, {0}}, {1, {0}}, {1, {1}}, {1, {1}}, {1, {2}},
                                             {1, {2}}, {0, {0}}, {0, {0}}, {0, {0}}, {0, {0}}};
    static const struct plan_day week[7] = {{1, {3}}, {1, {3}}, {1, {3}}, {1, {3}}, {1, {3}}, {0, {0}}, {0, {0}}};
    const int64_t holidays[2] = {first + 18, first + 30};
    size_t nd = DAYS + 2;
    struct pay_day_in *din = calloc(nd, sizeof *din);
    struct pay_day *out = calloc(DAYS, sizeof *out);
    struct report_punch *p = calloc(2 * nd, sizeof *p);
    struct plan_day *plans = calloc((size_t)PEOPLE * nd, sizeof *plans);
    if (!din || !out || !p || !plans) return 1;
    double best_roster = 1e9, best_report = 1e9, best_total = 1e9;
    int64_t check = 0;
    for (int run = 0; run < 5; run++) {
        double t0 = now_s();
        for (int i = 0; i < PEOPLE; i++) {
            struct plan_pattern person = {.kind = PLAN_ROTATION,
                                          .valid_from = first - 400,
                                          .valid_to = PLAN_OPEN_END,
                                          .anchor_day = first - (i % 10),
                                          .cycle_len = 10,
                                          .cycle = rota};
            struct plan_pattern dept = {.kind = PLAN_WEEKLY,
                                        .valid_from = first - 400,
                                        .valid_to = PLAN_OPEN_END,
                                        .cycle_len = 7,
                                        .cycle = week};
            struct plan_override ov = {.day = first + (i % DAYS), .plan = {1, {1}}};
            struct plan_inputs in = {.overrides = &ov,
                                     .noverrides = 1,
                                     .person = &person,
                                     .nperson = i % 5 != 0,
                                     .department = &dept,
                                     .ndepartment = 1};
            for (size_t k = 0; k < nd; k++) {
                enum plan_source src;
                plan_resolve(&in, first - 1 + (int64_t)k, &plans[(size_t)i * nd + k], &src);
            }
        }
        double t1 = now_s();
        struct pay_totals total = {0};
        double t_total = 0;
        for (int i = 0; i < PEOPLE; i++) {
            struct leave_record lv = {.from_day = first + (i % 20),
                                      .to_day = first + (i % 20) + 1,
                                      .type = 0,
                                      .paid = true,
                                      .state = LEAVE_APPROVED};
            size_t np = 0;
            for (size_t k = 0; k < nd; k++) {
                const struct plan_day *pd = &plans[(size_t)i * nd + k];
                int64_t day = first - 1 + (int64_t)k;
                memset(&din[k], 0, sizeof din[k]);
                din[k].nshifts = pd->n;
                for (size_t s = 0; s < pd->n; s++) din[k].shift[s] = &shifts[pd->shift[s]];
                din[k].holiday = holiday_on(holidays, 2, day);
                din[k].leave = i % 7 == 0 ? leave_on(&lv, 1, day) : NULL;
                if (pd->n && !din[k].leave && (i + (int)k) % 23 != 0) {
                    const struct pay_shift *sh = din[k].shift[0];
                    int jitter = (i * 7 + (int)k * 3) % 11 - 5;
                    int64_t in_l = day * ATT_DAY_S + (sh->start_min + jitter) * 60;
                    int64_t out_l =
                        (sh->end_min <= sh->start_min ? day + 1 : day) * ATT_DAY_S + (sh->end_min - jitter) * 60;
                    p[np++] = (struct report_punch){att_tz_to_utc(tz, in_l) * 1000000, EVENT_KIND_IN};
                    p[np++] = (struct report_punch){att_tz_to_utc(tz, out_l) * 1000000, EVENT_KIND_OUT};
                }
            }
            struct pay_input pin = {.tz = tz,
                                    .rules = &rules,
                                    .first_day = first,
                                    .ndays = DAYS,
                                    .days = din,
                                    .punches = p,
                                    .npunches = np};
            if (pay_compute(&pin, out) != ATT_OK) return 1;
            double ta = now_s();
            for (int k = 0; k < DAYS; k++) pay_totals_add(&total, &out[k], 0);
            t_total += now_s() - ta;
        }
        double t2 = now_s();
        check = total.worked_min;
        if (t1 - t0 < best_roster) best_roster = t1 - t0;
        if (t2 - t1 - t_total < best_report) best_report = t2 - t1 - t_total;
        if (t_total < best_total) best_total = t_total;
    }
    printf("bench_pay: %d people x %d days (Europe/Berlin, March 2026 with its DST change)\n", PEOPLE, DAYS);
    printf("  roster resolution   %8.1f ms\n", best_roster * 1e3);
    printf("  report (pay engine) %8.1f ms\n", best_report * 1e3);
    printf("  export totals       %8.1f ms\n", best_total * 1e3);
    printf("  whole hospital      %8.1f ms (target < 1000 ms); worked minutes %lld\n",
           (best_roster + best_report + best_total) * 1e3, (long long)check);
    free(din), free(out), free(p), free(plans);
    att_tz_free(tz);
    return 0;
}
