/* Roster resolution (include/attendd/plan.h): which shifts a person has on a day, from overrides,
 * the person's patterns and the department's, and which holiday or leave covers the day. */
#include "attendd/plan.h"

#include <string.h>

#include "attendd/time.h"

const char *plan_source_name(enum plan_source s)
{
    switch (s) {
    case PLAN_SRC_NONE: return "none";
    case PLAN_SRC_DEPARTMENT: return "department";
    case PLAN_SRC_PERSON: return "person";
    case PLAN_SRC_OVERRIDE: return "override";
    }
    return "?";
}

att_err plan_pattern_check(const struct plan_pattern *p)
{
    if (!p || !p->cycle || p->cycle_len == 0 || p->cycle_len > PLAN_MAX_CYCLE) return ATT_E_INVALID;
    if (p->kind == PLAN_WEEKLY && p->cycle_len != 7) return ATT_E_INVALID;
    if (p->kind != PLAN_WEEKLY && p->kind != PLAN_ROTATION) return ATT_E_INVALID;
    if (p->valid_to < p->valid_from) return ATT_E_INVALID;
    for (size_t i = 0; i < p->cycle_len; i++)
        if (p->cycle[i].n > PLAN_MAX_SHIFTS) return ATT_E_INVALID;
    return ATT_OK;
}

size_t plan_cycle_index(const struct plan_pattern *p, int64_t day)
{
    if (p->kind == PLAN_WEEKLY) return (size_t)((att_time_weekday(day) + 6) % 7); /* Monday = 0 */
    int64_t n = (int64_t)p->cycle_len, k = (day - p->anchor_day) % n;
    return (size_t)(k < 0 ? k + n : k);
}

/* The pattern in force on day with the latest valid_from, or NULL. */
static const struct plan_pattern *in_force(const struct plan_pattern *p, size_t n, int64_t day)
{
    const struct plan_pattern *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (day >= p[i].valid_from && day <= p[i].valid_to && (!best || p[i].valid_from > best->valid_from))
            best = &p[i];
    return best;
}

void plan_resolve(const struct plan_inputs *in, int64_t day, struct plan_day *out, enum plan_source *src)
{
    memset(out, 0, sizeof *out);
    *src = PLAN_SRC_NONE;
    for (size_t i = 0; i < in->noverrides; i++)
        if (in->overrides[i].day == day) {
            *out = in->overrides[i].plan;
            *src = PLAN_SRC_OVERRIDE;
            return;
        }
    const struct plan_pattern *p = in_force(in->person, in->nperson, day);
    *src = PLAN_SRC_PERSON;
    if (!p) {
        p = in_force(in->department, in->ndepartment, day);
        *src = PLAN_SRC_DEPARTMENT;
    }
    if (!p) {
        *src = PLAN_SRC_NONE;
        return;
    }
    *out = p->cycle[plan_cycle_index(p, day)];
}

/* ---- holidays and leave -------------------------------------------------------------------------- */

const char *leave_state_name(enum leave_state s)
{
    switch (s) {
    case LEAVE_REQUESTED: return "requested";
    case LEAVE_APPROVED: return "approved";
    case LEAVE_REJECTED: return "rejected";
    }
    return "?";
}

bool leave_state_parse(const char *s, enum leave_state *out)
{
    static const enum leave_state all[] = {LEAVE_REQUESTED, LEAVE_APPROVED, LEAVE_REJECTED};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, leave_state_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

att_err leave_check(const struct leave_record *l)
{
    if (l->to_day < l->from_day) return ATT_E_INVALID;
    if (l->part_day && (l->from_min < 0 || l->from_min >= l->to_min || l->to_min > 1440)) return ATT_E_INVALID;
    if (l->state != LEAVE_REQUESTED && l->state != LEAVE_APPROVED && l->state != LEAVE_REJECTED) return ATT_E_INVALID;
    return ATT_OK;
}

const struct leave_record *leave_on(const struct leave_record *l, size_t n, int64_t day)
{
    const struct leave_record *part = NULL;
    for (size_t i = 0; i < n; i++) {
        if (l[i].state != LEAVE_APPROVED || day < l[i].from_day || day > l[i].to_day) continue;
        if (!l[i].part_day) return &l[i];
        if (!part) part = &l[i];
    }
    return part;
}

bool holiday_on(const int64_t *days, size_t n, int64_t day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (days[mid] < day) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && days[lo] == day;
}
