/* Timesheets (include/attendd/timesheet.h): definitions read as one JSON document, turned into the
 * engines' structs once; schedules count as one-day rotations of their level, so a person's own
 * schedule, pattern or override beats the department's in one precedence. */
#include "attendd/timesheet.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/report.h"
#include "attendd/store_rosters.h"
#include "attendd/time.h"

struct ts_pattern {
    const char *person;     /* "" when a department's */
    const char *department; /* "" when a person's */
    struct plan_pattern p;
};

struct ts_override {
    const char *person;
    struct plan_override o;
};

struct ts_leave {
    const char *person;
    struct leave_record l;
};

struct ts_resolution {
    const char *person;
    int64_t day;
    unsigned kinds;   /* bit per exception kind */
    bool ot_approved; /* an "approve_overtime" resolution */
};

struct timesheet {
    const att_tz *tz;
    struct pay_rules rules;
    int64_t from, calc_from; /* calc_from: the Monday on or before from, for the weekly tier */
    size_t ndays, ncalc;
    json_t *defs; /* owns every string below */
    struct timesheet_shift *shifts;
    size_t nshifts;
    struct ts_pattern *pat;
    size_t npat;
    struct plan_day *cycles; /* every pattern's cycle, one block */
    struct ts_override *ov;
    size_t nov;
    int64_t *hol;
    size_t nhol;
    struct ts_leave *leave;
    size_t nleave;
    struct ts_resolution *res;
    size_t nres;
    const char *leave_codes[PAY_MAX_LEAVE_TYPES];
    struct rep_person *people;
    size_t npeople;
    struct rep_punch *punches;
    size_t npunches;
    /* scratch for one person */
    struct plan_pattern *sp_person, *sp_dept;
    struct plan_override *sov;
    struct leave_record *sleave;
    struct pay_day_in *din;
    struct pay_day *dout;
    struct report_punch *pp;
    unsigned *sres;
};

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool jint(json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

static int shift_index(const timesheet *t, const char *id)
{
    for (size_t i = 0; i < t->nshifts; i++)
        if (strcmp(t->shifts[i].id, id) == 0) return (int)i;
    return -1;
}

/* A day's shift ids (JSON array of strings) into d. */
static bool day_of(const timesheet *t, json_t *ids, struct plan_day *d)
{
    if (!json_is_array(ids) || json_array_size(ids) > PLAN_MAX_SHIFTS) return false;
    d->n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        int k = shift_index(t, json_string_value(v) ? json_string_value(v) : "");
        if (k < 0) return false;
        d->shift[d->n++] = k;
    }
    return true;
}

static att_err load_shifts(timesheet *t)
{
    json_t *a = json_object_get(t->defs, "shifts");
    t->nshifts = json_array_size(a);
    t->shifts = calloc(t->nshifts ? t->nshifts : 1, sizeof *t->shifts);
    if (!t->shifts) return ATT_E_NOMEM;
    for (size_t i = 0; i < t->nshifts; i++) {
        json_t *o = json_array_get(a, i);
        struct timesheet_shift *s = &t->shifts[i];
        int64_t st, en, gl, ge, br, rd;
        if (!jint(o, "start", &st) || !jint(o, "end", &en) || !jint(o, "grace_late", &gl) ||
            !jint(o, "grace_early", &ge) || !jint(o, "break", &br) || !jint(o, "round", &rd))
            return ATT_E_INVALID;
        s->id = jstr(o, "id");
        s->name = jstr(o, "name");
        s->rule = (struct pay_shift){.start_min = (int)st,
                                     .end_min = (int)en,
                                     .grace_late_min = (int)gl,
                                     .grace_early_min = (int)ge,
                                     .break_min = (int)br,
                                     .break_punched = json_is_true(json_object_get(o, "break_punched")),
                                     .round_min = (int)rd,
                                     .round_favour = strcmp(jstr(o, "favour"), "employer") == 0 ? PAY_FAVOUR_EMPLOYER
                                                                                                : PAY_FAVOUR_EMPLOYEE};
    }
    return ATT_OK;
}

/* Patterns and schedules (a schedule: a rotation of one day from its first day). */
static att_err load_patterns(timesheet *t)
{
    json_t *pa = json_object_get(t->defs, "patterns"), *sc = json_object_get(t->defs, "schedules");
    size_t np = json_array_size(pa), ns = json_array_size(sc), ncycle = ns;
    for (size_t i = 0; i < np; i++) ncycle += json_array_size(json_object_get(json_array_get(pa, i), "cycle"));
    t->npat = np + ns;
    t->pat = calloc(t->npat ? t->npat : 1, sizeof *t->pat);
    t->cycles = calloc(ncycle ? ncycle : 1, sizeof *t->cycles);
    if (!t->pat || !t->cycles) return ATT_E_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < t->npat; i++) {
        bool sched = i >= np;
        json_t *o = sched ? json_array_get(sc, i - np) : json_array_get(pa, i);
        struct ts_pattern *p = &t->pat[i];
        p->person = jstr(o, "person_id");
        p->department = jstr(o, "department");
        int64_t from, to = PLAN_OPEN_END, anchor = 0;
        if (!jint(o, "from", &from)) return ATT_E_INVALID;
        if (!json_is_null(json_object_get(o, "to")) && !jint(o, "to", &to)) return ATT_E_INVALID;
        p->p.valid_from = from;
        p->p.valid_to = to;
        p->p.cycle = &t->cycles[used];
        if (sched) {
            p->p.kind = PLAN_ROTATION;
            p->p.anchor_day = from;
            p->p.cycle_len = 1;
            int k = shift_index(t, jstr(o, "shift"));
            if (k < 0) return ATT_E_INVALID;
            t->cycles[used] = (struct plan_day){.n = 1, .shift = {k}};
            used++;
        } else {
            bool weekly = strcmp(jstr(o, "kind"), "weekly") == 0;
            p->p.kind = weekly ? PLAN_WEEKLY : PLAN_ROTATION;
            if (!weekly && !jint(o, "anchor", &anchor)) return ATT_E_INVALID;
            p->p.anchor_day = anchor;
            json_t *cy = json_object_get(o, "cycle");
            p->p.cycle_len = json_array_size(cy);
            for (size_t k = 0; k < p->p.cycle_len; k++)
                if (!day_of(t, json_array_get(cy, k), &t->cycles[used++])) return ATT_E_INVALID;
        }
        if (plan_pattern_check(&p->p) != ATT_OK) return ATT_E_INVALID;
    }
    return ATT_OK;
}

static att_err load_rest(timesheet *t)
{
    json_t *a = json_object_get(t->defs, "overrides");
    t->nov = json_array_size(a);
    t->ov = calloc(t->nov ? t->nov : 1, sizeof *t->ov);
    if (!t->ov) return ATT_E_NOMEM;
    for (size_t i = 0; i < t->nov; i++) {
        json_t *o = json_array_get(a, i);
        t->ov[i].person = jstr(o, "person_id");
        if (!jint(o, "day", &t->ov[i].o.day) || !day_of(t, json_object_get(o, "shifts"), &t->ov[i].o.plan))
            return ATT_E_INVALID;
    }
    a = json_object_get(t->defs, "holidays");
    t->nhol = json_array_size(a);
    t->hol = calloc(t->nhol ? t->nhol : 1, sizeof *t->hol);
    if (!t->hol) return ATT_E_NOMEM;
    for (size_t i = 0; i < t->nhol; i++) t->hol[i] = json_integer_value(json_array_get(a, i));
    a = json_object_get(t->defs, "leave");
    t->nleave = json_array_size(a);
    t->leave = calloc(t->nleave ? t->nleave : 1, sizeof *t->leave);
    if (!t->leave) return ATT_E_NOMEM;
    for (size_t i = 0; i < t->nleave; i++) {
        json_t *o = json_array_get(a, i);
        struct leave_record *l = &t->leave[i].l;
        int64_t type, s = 0, e = 0;
        t->leave[i].person = jstr(o, "person_id");
        if (!jint(o, "type", &type) || !jint(o, "from", &l->from_day) || !jint(o, "to", &l->to_day))
            return ATT_E_INVALID;
        l->type = (int)type;
        l->paid = json_is_true(json_object_get(o, "paid"));
        l->state = LEAVE_APPROVED;
        l->part_day = jint(o, "start", &s) && jint(o, "end", &e);
        l->from_min = (int)s;
        l->to_min = (int)e;
        if (leave_check(l) != ATT_OK) return ATT_E_INVALID;
    }
    a = json_object_get(t->defs, "leave_types");
    for (size_t i = 0; i < json_array_size(a); i++) {
        int64_t pos;
        json_t *o = json_array_get(a, i);
        if (jint(o, "position", &pos) && pos >= 0 && pos < PAY_MAX_LEAVE_TYPES) t->leave_codes[pos] = jstr(o, "code");
    }
    a = json_object_get(t->defs, "resolutions");
    t->nres = json_array_size(a);
    t->res = calloc(t->nres ? t->nres : 1, sizeof *t->res);
    if (!t->res) return ATT_E_NOMEM;
    for (size_t i = 0; i < t->nres; i++) {
        json_t *o = json_array_get(a, i);
        enum pay_exception_kind k;
        t->res[i].person = jstr(o, "person_id");
        if (!jint(o, "day", &t->res[i].day) || !pay_exception_parse(jstr(o, "kind"), &k)) return ATT_E_INVALID;
        t->res[i].kinds = 1u << k;
        t->res[i].ot_approved = strcmp(jstr(o, "action"), "approve_overtime") == 0;
    }
    return ATT_OK;
}

/* The site's pay rule set (sql/010_pay_rules.sql) over the caller's defaults; the cut-off stays the
 * configured one. */
static att_err load_rules(timesheet *t)
{
    json_t *o = json_object_get(t->defs, "pay_rules");
    if (json_is_null(o) || !o) return ATT_OK;
    int64_t ns, ne, da, wa, mr;
    if (!jint(o, "night_start", &ns) || !jint(o, "night_end", &ne) || !jint(o, "daily_ot_after", &da) ||
        !jint(o, "weekly_ot_after", &wa) || !jint(o, "min_rest", &mr))
        return ATT_E_INVALID;
    t->rules.night_start_min = (int)ns;
    t->rules.night_end_min = (int)ne;
    t->rules.daily_ot_after_min = (int)da;
    t->rules.weekly_ot_after_min = (int)wa;
    t->rules.min_rest_min = (int)mr;
    return ATT_OK;
}

att_err timesheet_load(PGconn *c, const att_tz *tz, const struct pay_rules *rules, int64_t from, int64_t to,
                       const char *department, const att_uuid *person, bool with_punches, timesheet **out)
{
    *out = NULL;
    if (to < from) return ATT_E_INVALID;
    timesheet *t = calloc(1, sizeof *t);
    if (!t) return ATT_E_NOMEM;
    t->tz = tz;
    t->rules = *rules;
    t->from = from;
    t->ndays = (size_t)(to - from + 1);
    t->calc_from = from - (att_time_weekday(from) + 6) % 7; /* Monday on or before */
    t->ncalc = (size_t)(to - t->calc_from + 1);
    char f[24], e[24];
    snprintf(f, sizeof f, "%" PRId64, t->calc_from - 1);
    snprintf(e, sizeof e, "%" PRId64, to + 1);
    const char *v[2] = {f, e};
    att_err rc = store_json_one(c, "roster_definitions", 2, v, &t->defs);
    if (rc == ATT_OK) rc = load_rules(t);
    if (rc == ATT_OK) rc = load_shifts(t);
    if (rc == ATT_OK) rc = load_patterns(t);
    if (rc == ATT_OK) rc = load_rest(t);
    if (rc == ATT_OK) rc = store_report_people(c, department, person, &t->people, &t->npeople);
    if (rc == ATT_OK && with_punches) {
        int64_t wf, wt;
        report_punch_window(tz, t->calc_from, to, &wf, &wt);
        rc = store_report_punches(c, wf, wt, department, person, &t->punches, &t->npunches);
    }
    size_t nd = t->ncalc + 2;
    if (rc == ATT_OK) {
        t->sp_person = calloc(t->npat ? t->npat : 1, sizeof *t->sp_person);
        t->sp_dept = calloc(t->npat ? t->npat : 1, sizeof *t->sp_dept);
        t->sov = calloc(t->nov ? t->nov : 1, sizeof *t->sov);
        t->sleave = calloc(t->nleave ? t->nleave : 1, sizeof *t->sleave);
        t->din = calloc(nd, sizeof *t->din);
        t->dout = calloc(t->ncalc, sizeof *t->dout);
        t->sres = calloc(nd, sizeof *t->sres);
        t->pp = calloc(t->npunches ? t->npunches : 1, sizeof *t->pp);
        if (!t->sp_person || !t->sp_dept || !t->sov || !t->sleave || !t->din || !t->dout || !t->sres || !t->pp)
            rc = ATT_E_NOMEM;
    }
    if (rc != ATT_OK) {
        timesheet_free(t);
        return rc;
    }
    *out = t;
    return ATT_OK;
}

void timesheet_free(timesheet *t)
{
    if (!t) return;
    json_decref(t->defs);
    free(t->shifts);
    free(t->pat);
    free(t->cycles);
    free(t->ov);
    free(t->hol);
    free(t->leave);
    free(t->res);
    free(t->people);
    free(t->punches);
    free(t->sp_person);
    free(t->sp_dept);
    free(t->sov);
    free(t->sleave);
    free(t->din);
    free(t->dout);
    free(t->sres);
    free(t->pp);
    free(t);
}

size_t timesheet_people(const timesheet *t) { return t->npeople; }
const struct rep_person *timesheet_person(const timesheet *t, size_t i) { return &t->people[i]; }
size_t timesheet_days(const timesheet *t) { return t->ndays; }
const struct timesheet_shift *timesheet_shift_at(const timesheet *t, int index)
{
    return index >= 0 && (size_t)index < t->nshifts ? &t->shifts[index] : NULL;
}
const char *timesheet_leave_code(const timesheet *t, int position)
{
    return position >= 0 && position < PAY_MAX_LEAVE_TYPES ? t->leave_codes[position] : NULL;
}

/* First punch of person id in the array sorted by person id. */
static size_t punches_from(const struct rep_punch *a, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(a[mid].person_id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

att_err timesheet_compute(timesheet *t, size_t i, struct timesheet_day *out)
{
    const struct rep_person *p = &t->people[i];
    struct plan_inputs in = {.overrides = t->sov, .person = t->sp_person, .department = t->sp_dept};
    for (size_t k = 0; k < t->npat; k++) {
        const struct ts_pattern *x = &t->pat[k];
        if (x->person[0] && strcmp(x->person, p->id) == 0) t->sp_person[in.nperson++] = x->p;
        else if (x->department[0] && p->department[0] && strcmp(x->department, p->department) == 0)
            t->sp_dept[in.ndepartment++] = x->p;
    }
    for (size_t k = 0; k < t->nov; k++)
        if (strcmp(t->ov[k].person, p->id) == 0) t->sov[in.noverrides++] = t->ov[k].o;
    size_t nl = 0;
    for (size_t k = 0; k < t->nleave; k++)
        if (strcmp(t->leave[k].person, p->id) == 0) t->sleave[nl++] = t->leave[k].l;
    size_t nd = t->ncalc + 2;
    enum plan_source *src = calloc(nd, sizeof *src);
    if (!src) return ATT_E_NOMEM;
    for (size_t k = 0; k < nd; k++) {
        int64_t day = t->calc_from - 1 + (int64_t)k;
        struct plan_day pd;
        plan_resolve(&in, day, &pd, &src[k]);
        struct pay_day_in *d = &t->din[k];
        memset(d, 0, sizeof *d);
        d->nshifts = pd.n;
        for (size_t s = 0; s < pd.n; s++) {
            d->shift[s] = &t->shifts[pd.shift[s]].rule;
            d->shift_index[s] = pd.shift[s];
        }
        d->holiday = holiday_on(t->hol, t->nhol, day);
        d->leave = leave_on(t->sleave, nl, day);
        t->sres[k] = 0;
    }
    for (size_t k = 0; k < t->nres; k++) {
        const struct ts_resolution *r = &t->res[k];
        int64_t idx = r->day - (t->calc_from - 1);
        if (idx < 0 || idx >= (int64_t)nd || strcmp(r->person, p->id) != 0) continue;
        t->sres[idx] |= r->kinds;
        if (r->ot_approved) t->din[idx].overtime_approved = true;
    }
    size_t first = punches_from(t->punches, t->npunches, p->id), last = first;
    while (last < t->npunches && strcmp(t->punches[last].person_id, p->id) == 0) last++;
    for (size_t k = first; k < last; k++) t->pp[k - first] = t->punches[k].p;
    struct pay_input pin = {.tz = t->tz,
                            .rules = &t->rules,
                            .first_day = t->calc_from,
                            .ndays = t->ncalc,
                            .days = t->din,
                            .punches = t->pp,
                            .npunches = last - first};
    att_err e = pay_compute(&pin, t->dout);
    size_t lead = t->ncalc - t->ndays;
    for (size_t k = 0; e == ATT_OK && k < t->ndays; k++) {
        out[k].pay = t->dout[lead + k];
        out[k].source = src[lead + k + 1];
        out[k].resolved = t->sres[lead + k + 1];
    }
    free(src);
    return e;
}

att_err timesheet_pseudonyms(PGconn *c, json_t **keys)
{
    return store_json_one(c, "payroll_pseudonyms", 0, NULL, keys);
}

att_err timesheet_payroll_row(timesheet *t, size_t i, json_t *keys, struct timesheet_day *days, json_t **row)
{
    *row = NULL;
    att_err e = timesheet_compute(t, i, days);
    if (e != ATT_OK) return e;
    struct pay_totals tt = {0};
    for (size_t k = 0; k < t->ndays; k++) pay_totals_add(&tt, &days[k].pay, days[k].resolved);
    const struct rep_person *p = timesheet_person(t, i);
    json_t *leave = json_object();
    for (int k = 0; leave && k < PAY_MAX_LEAVE_TYPES; k++)
        if (t->leave_codes[k]) json_object_set_new(leave, t->leave_codes[k], json_integer(tt.leave_min[k]));
    const char *key = json_string_value(json_object_get(keys, p->id));
    *row = json_pack(
        "{s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I}", "person_id",
        p->id, "person_key", key ? json_string(key) : json_null(), "employee_no", p->employee_no, "name", p->name,
        "department", p->department[0] ? json_string(p->department) : json_null(), "scheduled",
        (json_int_t)tt.scheduled_min, "worked", (json_int_t)tt.worked_min, "regular", (json_int_t)tt.regular_min,
        "ot_daily", (json_int_t)tt.ot_daily_min, "ot_weekly", (json_int_t)tt.ot_weekly_min, "ot_rest_day",
        (json_int_t)tt.ot_rest_day_min, "ot_holiday", (json_int_t)tt.ot_holiday_min, "night", (json_int_t)tt.night_min,
        "holiday", (json_int_t)tt.holiday_min, "leave_paid", (json_int_t)tt.leave_paid_min, "leave_unpaid",
        (json_int_t)tt.leave_unpaid_min, "leave", leave ? leave : json_null(), "exceptions", (json_int_t)tt.exceptions,
        "absent_days", (json_int_t)tt.absent_days);
    return *row ? ATT_OK : ATT_E_NOMEM;
}

att_err timesheet_payroll_rows(PGconn *c, const att_tz *tz, const struct pay_rules *rules, int64_t from, int64_t to,
                               const char *department, json_t **rows)
{
    *rows = NULL;
    json_t *keys = NULL;
    att_err e = timesheet_pseudonyms(c, &keys);
    if (e != ATT_OK) return e;
    timesheet *t;
    if ((e = timesheet_load(c, tz, rules, from, to, department, NULL, true, &t)) != ATT_OK) {
        json_decref(keys);
        return e;
    }
    struct timesheet_day *days = calloc(timesheet_days(t), sizeof *days);
    json_t *out = json_array();
    if (!days || !out) e = ATT_E_NOMEM;
    for (size_t i = 0; e == ATT_OK && i < timesheet_people(t); i++) {
        json_t *o;
        if ((e = timesheet_payroll_row(t, i, keys, days, &o)) == ATT_OK && json_array_append_new(out, o) != 0)
            e = ATT_E_NOMEM;
    }
    free(days);
    timesheet_free(t);
    json_decref(keys);
    if (e != ATT_OK) {
        json_decref(out);
        return e;
    }
    *rows = out;
    return ATT_OK;
}
