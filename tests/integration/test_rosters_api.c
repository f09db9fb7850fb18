/* Rosters through the real daemon and a throwaway database (Europe/Berlin): a department weekly pattern,
 * a person's rotation with a night across the month end, a split day, an override, a holiday and leave;
 * GET /api/v1/roster and GET /api/v1/exceptions against hand-resolved days; resolving an exception;
 * a closed pay period refusing every kind of change with 409 period_closed until reopened (audited);
 * and the bad forms of every new body, each naming its field. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "support_api.h"

static char conninfo[600];
static struct ts_daemon D;

#define W_ID "a1000000-0000-4000-8000-00000000000a" /* Ward 7, department weekly pattern */
#define N_ID "b1000000-0000-4000-8000-00000000000b" /* Ward 7, own E E L L N N - - rotation */
#define S_ID "c1000000-0000-4000-8000-00000000000c" /* Ward 7, split shifts on Tuesdays (own weekly) */

#define url(...) ts_urlf(&D, __VA_ARGS__)

static char day_id[40], early_id[40], late_id[40], night_id[40], am_id[40], pm_id[40];

static json_t *call(const char *method, const char *path, const char *token, const char *body, long *st)
{
    return ts_call(method, url("%s", path), token, body, st);
}

/* method path body as token expecting want; the "id" member into id (if given). */
static void ok(const char *method, const char *path, const char *token, const char *body, long want, char *id)
{
    long st;
    json_t *j = call(method, path, token, body, &st);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : strdup("");
    ck_assert_msg(st == want, "%s %s %s: %ld %s", method, path, body ? body : "", st, txt);
    if (id) snprintf(id, 40, "%s", ts_jstr(j, "id"));
    free(txt);
    json_decref(j);
}

static void bad(const char *method, const char *path, const char *token, const char *body, long want, const char *code,
                const char *field)
{
    long st;
    json_t *j = call(method, path, token, body, &st);
    ts_expect_problem(j, st, want, code, field);
}

static void punch(const char *person, const char *kind, const char *local)
{
    char s[512];
    snprintf(s, sizeof s,
             "INSERT INTO events (id, person_id, kind, ts, source) VALUES (gen_random_uuid(), '%s', '%s',"
             " timestamp '%s' AT TIME ZONE 'Europe/Berlin', 'camera')",
             person, kind, local);
    ts_sql(conninfo, s);
}

static void shift(const char *name, const char *start, const char *end, char *id)
{
    char b[256];
    snprintf(b, sizeof b,
             "{\"name\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"grace_late_min\":5,\"grace_early_min\":5}", name,
             start, end);
    ok("POST", "/api/v1/shifts", D.admin_token, b, 201, id);
}

static void fx_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(
        ts_daemon_start(&D, conninfo, "timezone = Europe/Berlin\nday_cutoff = 04:00\nreport_max_days = 62\n"), 0);
    ts_sql(conninfo,
           "INSERT INTO people (id, employee_no, name, department) VALUES"
           " ('" W_ID "', 'W-1', 'Weekday, Wanda', 'Ward 7'), ('" N_ID "', 'N-1', 'Nights, Nora', 'Ward 7'),"
           " ('" S_ID "', 'S-1', 'Split, Sam', 'Ward 7')");
    shift("Day", "08:00", "16:00", day_id);
    shift("Early", "06:00", "14:00", early_id);
    shift("Late", "14:00", "22:00", late_id);
    shift("Night", "22:00", "06:00", night_id);
    shift("AM", "07:00", "11:00", am_id);
    shift("PM", "17:00", "21:00", pm_id);
    char b[1024];
    /* the department: Monday to Friday days */
    snprintf(b, sizeof b,
             "{\"department\":\"Ward 7\",\"kind\":\"weekly\",\"valid_from\":\"2026-01-01\",\"cycle\":"
             "[[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[],[]]}",
             day_id, day_id, day_id, day_id, day_id);
    ok("POST", "/api/v1/roster/patterns", D.admin_token, b, 201, NULL);
    /* Nora: E E L L N N - - from Friday 2026-03-27 (nights 03-31 and 04-01: the first crosses the month end) */
    snprintf(b, sizeof b,
             "{\"person_id\":\"" N_ID
             "\",\"kind\":\"rotation\",\"anchor\":\"2026-03-27\",\"valid_from\":\"2026-03-01\","
             "\"valid_to\":null,\"cycle\":[[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[],[]]}",
             early_id, early_id, late_id, late_id, night_id, night_id);
    ok("POST", "/api/v1/roster/patterns", D.admin_token, b, 201, NULL);
    /* Sam: days, Tuesdays split AM + PM */
    snprintf(b, sizeof b,
             "{\"person_id\":\"" S_ID "\",\"kind\":\"weekly\",\"valid_from\":\"2026-03-01\",\"cycle\":"
             "[[\"%s\"],[\"%s\",\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[],[]]}",
             day_id, am_id, pm_id, day_id, day_id, day_id);
    ok("POST", "/api/v1/roster/patterns", D.admin_token, b, 201, NULL);
    /* Wanda swaps Thursday 03-26 to a late shift; Good Friday 2026-04-03 is a holiday; Wanda has
     * annual leave 03-30..03-31 */
    snprintf(b, sizeof b,
             "{\"person_id\":\"" W_ID "\",\"date\":\"2026-03-26\",\"shift_ids\":[\"%s\"],\"reason\":\"swap\"}",
             late_id);
    ok("POST", "/api/v1/roster/overrides", D.admin_token, b, 201, NULL);
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-04-03\",\"name\":\"Good Friday\"}", 201, NULL);
    ok("POST", "/api/v1/leave", D.hr_token,
       "{\"person_id\":\"" W_ID
       "\",\"type\":\"annual\",\"from\":\"2026-03-30\",\"to\":\"2026-03-31\",\"state\":\"approved\"}",
       201, NULL);
    /* punches: Wanda works 03-23..03-27 as planned (Thursday late), and on Saturday 03-28 10:00-12:00 */
    punch(W_ID, "in", "2026-03-23 08:00");
    punch(W_ID, "out", "2026-03-23 16:00");
    punch(W_ID, "in", "2026-03-24 08:20"); /* late 20 */
    punch(W_ID, "out", "2026-03-24 16:00");
    punch(W_ID, "in", "2026-03-25 08:00");
    punch(W_ID, "out", "2026-03-25 16:00");
    punch(W_ID, "in", "2026-03-26 14:00");
    punch(W_ID, "out", "2026-03-26 22:00");
    punch(W_ID, "in", "2026-03-27 08:00"); /* 10 h after the late shift: short rest; no clock-out */
    punch(W_ID, "in", "2026-03-28 10:00");
    punch(W_ID, "out", "2026-03-28 12:00");
    /* Nora: the night of 03-31 into April */
    punch(N_ID, "in", "2026-03-31 21:55");
    punch(N_ID, "out", "2026-04-01 06:00");
    /* Sam: Tuesday 03-24 split, late for the evening half */
    punch(S_ID, "in", "2026-03-24 07:00");
    punch(S_ID, "out", "2026-03-24 11:00");
    punch(S_ID, "in", "2026-03-24 17:15");
    punch(S_ID, "out", "2026-03-24 21:00");
}

static void fx_stop(void)
{
    if (D.pid > 0) ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    ts_db_drop(conninfo);
}

static json_t *find_person(json_t *items, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        if (strcmp(ts_jstr(r, "person_id"), id) == 0) return r;
    }
    ck_abort_msg("no person %s", id);
    return NULL;
}

static json_t *day_of(json_t *person, const char *date)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(person, "days"), i, d)
    {
        if (strcmp(ts_jstr(d, "date"), date) == 0) return d;
    }
    ck_abort_msg("no day %s", date);
    return NULL;
}

/* The day's shift names joined with '+', the source, the leave code or "-", holiday flag. */
static void expect_day(json_t *person, const char *date, const char *shifts, const char *source, const char *leave,
                       bool holiday)
{
    json_t *d = day_of(person, date);
    char got[128] = "";
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(d, "shifts"), i, s)
    {
        if (i) strcat(got, "+");
        strncat(got, ts_jstr(s, "name"), sizeof got - strlen(got) - 2);
    }
    ck_assert_msg(strcmp(got, shifts) == 0, "%s %s: shifts '%s', want '%s'", ts_jstr(person, "name"), date, got,
                  shifts);
    ck_assert_msg(strcmp(ts_jstr(d, "source"), source) == 0, "%s %s: source %s", ts_jstr(person, "name"), date,
                  ts_jstr(d, "source"));
    const char *lv = ts_jstr_opt(d, "leave");
    ck_assert_msg(strcmp(lv ? lv : "-", leave) == 0, "%s %s: leave %s", ts_jstr(person, "name"), date, lv ? lv : "-");
    ck_assert_int_eq(json_is_true(json_object_get(d, "holiday")), holiday);
}

START_TEST(roster_resolves)
{
    long st;
    json_t *j = call("GET", "/api/v1/roster?from=2026-03-23&to=2026-04-05&department=Ward%207", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 3);
    json_t *w = find_person(items, W_ID), *n = find_person(items, N_ID), *s = find_person(items, S_ID);
    expect_day(w, "2026-03-23", "Day", "department", "-", false);
    expect_day(w, "2026-03-26", "Late", "override", "-", false);
    expect_day(w, "2026-03-28", "", "department", "-", false);
    expect_day(w, "2026-03-30", "Day", "department", "annual", false);
    expect_day(w, "2026-04-03", "Day", "department", "-", true);
    expect_day(n, "2026-03-24", "Night", "person", "-", false); /* before the anchor: -3 mod 8 = entry 5 */
    expect_day(n, "2026-03-25", "", "person", "-", false);
    expect_day(n, "2026-03-27", "Early", "person", "-", false);
    expect_day(n, "2026-03-31", "Night", "person", "-", false);
    expect_day(n, "2026-04-02", "", "person", "-", false);
    expect_day(s, "2026-03-24", "AM+PM", "person", "-", false);
    /* the night's times cross into April in summer time */
    json_t *night = json_array_get(json_object_get(day_of(n, "2026-03-31"), "shifts"), 0);
    ck_assert_str_eq(ts_jstr(night, "start"), "2026-03-31T22:00:00+02:00");
    ck_assert_str_eq(ts_jstr(night, "end"), "2026-04-01T06:00:00+02:00");
    json_decref(j);
}
END_TEST

/* The open exception of person on date of kind, or NULL. */
static json_t *find_exc(json_t *items, const char *person, const char *date, const char *kind)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        if (!strcmp(ts_jstr(r, "person_id"), person) && !strcmp(ts_jstr(r, "date"), date) &&
            !strcmp(ts_jstr(r, "kind"), kind))
            return r;
    }
    return NULL;
}

static void expect_exc(json_t *items, const char *person, const char *date, const char *kind, long long minutes,
                       const char *severity)
{
    json_t *r = find_exc(items, person, date, kind);
    ck_assert_msg(r != NULL, "no %s for %s on %s", kind, person, date);
    ck_assert_msg(ts_jint(r, "minutes") == minutes, "%s %s %s: %lld minutes, want %lld", person, date, kind,
                  ts_jint(r, "minutes"), minutes);
    ck_assert_str_eq(ts_jstr(r, "severity"), severity);
}

static json_t *exceptions(void)
{
    long st;
    json_t *j = call("GET", "/api/v1/exceptions?from=2026-03-23&to=2026-04-05", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    return j;
}

START_TEST(exceptions_and_resolution)
{
    json_t *j = exceptions(), *items = json_object_get(j, "items");
    /* rest days, leave and holidays are never absent */
    static const char *const quiet[] = {"2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31", "2026-04-03"};
    for (size_t i = 0; i < 5; i++) ck_assert_msg(!find_exc(items, W_ID, quiet[i], "absent"), "absent on %s", quiet[i]);
    ck_assert(!find_exc(items, W_ID, "2026-03-23", "overtime_unapproved"));
    expect_exc(items, W_ID, "2026-03-24", "late", 20, "warning");
    expect_exc(items, W_ID, "2026-03-27", "short_rest", 600, "critical");
    expect_exc(items, W_ID, "2026-03-27", "missing_out", 0, "critical");
    expect_exc(items, W_ID, "2026-03-28", "unscheduled_presence", 0, "info");
    expect_exc(items, W_ID, "2026-03-28", "overtime_unapproved", 120, "warning");
    expect_exc(items, W_ID, "2026-04-01", "absent", 480, "critical");
    expect_exc(items, N_ID, "2026-03-31", "overtime_unapproved", 5, "warning");
    ck_assert(!find_exc(items, N_ID, "2026-03-31", "absent"));
    expect_exc(items, N_ID, "2026-04-01", "absent", 480, "critical");
    expect_exc(items, S_ID, "2026-03-24", "late", 15, "warning");
    json_decref(j);

    ok("POST", "/api/v1/exceptions/resolve", D.hr_token,
       "{\"person_id\":\"" W_ID "\",\"date\":\"2026-03-24\",\"kind\":\"late\",\"action\":\"accept\","
       "\"reason\":\"tram strike\"}",
       201, NULL);
    ok("POST", "/api/v1/exceptions/resolve", D.hr_token,
       "{\"person_id\":\"" N_ID "\",\"date\":\"2026-03-31\",\"kind\":\"overtime_unapproved\","
       "\"action\":\"approve_overtime\",\"reason\":\"handover\"}",
       201, NULL);
    bad("POST", "/api/v1/exceptions/resolve", D.hr_token,
        "{\"person_id\":\"" W_ID
        "\",\"date\":\"2026-03-24\",\"kind\":\"late\",\"action\":\"accept\",\"reason\":\"again\"}",
        409, "conflict", "kind");
    j = exceptions();
    items = json_object_get(j, "items");
    ck_assert(!find_exc(items, W_ID, "2026-03-24", "late"));
    ck_assert(!find_exc(items, N_ID, "2026-03-31", "overtime_unapproved"));
    expect_exc(items, S_ID, "2026-03-24", "late", 15, "warning");
    json_decref(j);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'exception.resolve'"
                                " AND detail::text LIKE '%tram strike%'"),
                     1);
    ck_assert_int_eq(ts_sql_int(conninfo, "SELECT count(*) FROM audit_log WHERE action = 'exceptions.read'"), 2);
}
END_TEST

START_TEST(period_close_refuses_changes)
{
    char pid[40], path[128], lid[40], b[512];
    ok("POST", "/api/v1/periods", D.admin_token, "{\"name\":\"2026-03\",\"from\":\"2026-03-01\",\"to\":\"2026-03-31\"}",
       201, pid);
    ok("POST", "/api/v1/leave", D.hr_token,
       "{\"person_id\":\"" S_ID "\",\"type\":\"sick\",\"from\":\"2026-03-05\",\"to\":\"2026-03-05\"}", 201, lid);
    snprintf(path, sizeof path, "/api/v1/periods/%s/close", pid);
    bad("POST", path, D.admin_token, "{}", 422, "invalid_field", "reason");
    ok("POST", path, D.admin_token, "{\"reason\":\"March payroll sent\"}", 200, NULL);
    bad("POST", path, D.admin_token, "{\"reason\":\"twice\"}", 409, "conflict", NULL);
    /* every kind of change inside March */
    bad("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-03-19\",\"name\":\"St Joseph\"}", 409,
        "period_closed", NULL);
    bad("POST", "/api/v1/leave", D.hr_token,
        "{\"person_id\":\"" S_ID "\",\"type\":\"sick\",\"from\":\"2026-03-31\",\"to\":\"2026-04-02\"}", 409,
        "period_closed", NULL);
    snprintf(path, sizeof path, "/api/v1/leave/%s", lid);
    bad("PATCH", path, D.hr_token, "{\"state\":\"approved\"}", 409, "period_closed", NULL);
    bad("DELETE", path, D.hr_token, NULL, 409, "period_closed", NULL);
    snprintf(b, sizeof b, "{\"person_id\":\"" S_ID "\",\"date\":\"2026-03-10\",\"shift_ids\":[]}");
    bad("POST", "/api/v1/roster/overrides", D.admin_token, b, 409, "period_closed", NULL);
    snprintf(b, sizeof b,
             "{\"person_id\":\"" S_ID
             "\",\"kind\":\"weekly\",\"valid_from\":\"2026-03-15\",\"cycle\":[[],[],[],[],[],[],[]]}");
    bad("POST", "/api/v1/roster/patterns", D.admin_token, b, 409, "period_closed", NULL);
    bad("POST", "/api/v1/exceptions/resolve", D.hr_token,
        "{\"person_id\":\"" S_ID "\",\"date\":\"2026-03-24\",\"kind\":\"late\",\"action\":\"accept\",\"reason\":\"x\"}",
        409, "period_closed", NULL);
    bad("POST", "/api/v1/punches", D.hr_token,
        "{\"person_id\":\"" S_ID "\",\"kind\":\"in\",\"ts\":\"2026-03-10T08:00:00+01:00\",\"reason\":\"forgot\"}", 409,
        "period_closed", NULL);
    /* outside it, changes go on */
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-04-06\",\"name\":\"Easter Monday\"}", 201, NULL);
    snprintf(path, sizeof path, "/api/v1/periods/%s/reopen", pid);
    ok("POST", path, D.admin_token, "{\"reason\":\"late correction\"}", 200, NULL);
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-03-19\",\"name\":\"St Joseph\"}", 201, NULL);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'period.close'"
                                " AND detail::text LIKE '%March payroll sent%'"),
                     1);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'period.reopen'"
                                " AND detail::text LIKE '%late correction%'"),
                     1);
}
END_TEST

START_TEST(bad_forms)
{
    const char *a = D.admin_token, *h = D.hr_token;
    char b[512];
    /* patterns */
    bad("POST", "/api/v1/roster/patterns", a, "{\"department\":\"X\",\"valid_from\":\"2026-05-01\",\"cycle\":[]}", 422,
        "invalid_field", "kind");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"person_id\":\"" S_ID "\",\"kind\":\"weekly\",\"valid_from\":\"2026-05-01\","
        "\"cycle\":[[],[],[],[],[],[],[]]}",
        422, "invalid_field", "person_id");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"weekly\",\"valid_from\":\"2026-05-01\",\"cycle\":[[],[],[],[],[],[]]}", 422,
        "invalid_field", "cycle");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"rotation\",\"valid_from\":\"2026-05-01\",\"cycle\":[[]]}", 422,
        "invalid_field", "anchor");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"rotation\",\"anchor\":\"2026-05-01\",\"valid_from\":\"2026-05-01\","
        "\"cycle\":[[\"nope\"]]}",
        422, "invalid_field", "cycle");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"rotation\",\"anchor\":\"2026-05-01\",\"valid_from\":\"2026-05-01\","
        "\"cycle\":[[\"e0000000-0000-4000-8000-00000000000e\"]]}",
        422, "invalid_field", "cycle");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"person_id\":\"e0000000-0000-4000-8000-00000000000e\",\"kind\":\"rotation\",\"anchor\":\"2026-05-01\","
        "\"valid_from\":\"2026-05-01\",\"cycle\":[[]]}",
        422, "invalid_field", "person_id");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"weekly\",\"valid_from\":\"2026-05-01\",\"valid_to\":\"2026-04-01\","
        "\"cycle\":[[],[],[],[],[],[],[]]}",
        422, "invalid_field", "valid_to");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"daily\",\"valid_from\":\"2026-05-01\",\"cycle\":[[]]}", 422, "invalid_field",
        "kind");
    bad("POST", "/api/v1/roster/patterns", a,
        "{\"department\":\"X\",\"kind\":\"weekly\",\"valid_from\":\"2026-05-01\",\"cycle\":[[],[],[],[],[],[],[]],"
        "\"colour\":\"red\"}",
        422, "invalid_field", "colour");
    bad("POST", "/api/v1/roster/patterns", h,
        "{\"department\":\"X\",\"kind\":\"weekly\",\"valid_from\":\"2026-05-01\",\"cycle\":[[],[],[],[],[],[],[]]}",
        403, "forbidden", NULL);
    bad("DELETE", "/api/v1/roster/patterns/e0000000-0000-4000-8000-00000000000e", a, NULL, 404, "not_found", NULL);
    /* overrides */
    bad("POST", "/api/v1/roster/overrides", a, "{\"person_id\":\"" S_ID "\",\"date\":\"2026-02-30\",\"shift_ids\":[]}",
        422, "invalid_field", "date");
    snprintf(b, sizeof b,
             "{\"person_id\":\"" S_ID "\",\"date\":\"2026-05-04\",\"shift_ids\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]}",
             day_id, day_id, day_id, day_id, day_id);
    bad("POST", "/api/v1/roster/overrides", a, b, 422, "invalid_field", "shift_ids");
    bad("POST", "/api/v1/roster/overrides", a,
        "{\"person_id\":\"e0000000-0000-4000-8000-00000000000e\",\"date\":\"2026-05-04\",\"shift_ids\":[]}", 422,
        "invalid_field", "person_id");
    bad("POST", "/api/v1/roster/overrides", a, "{\"person_id\":\"" W_ID "\",\"date\":\"2026-03-26\",\"shift_ids\":[]}",
        409, "conflict", "date");
    /* holidays */
    bad("POST", "/api/v1/holidays", a, "{\"date\":\"2026-05-01\"}", 422, "invalid_field", "name");
    bad("POST", "/api/v1/holidays", a, "{\"date\":\"2026-04-03\",\"name\":\"again\"}", 409, "conflict", "date");
    bad("GET", "/api/v1/holidays?from=2026-05-01", h, NULL, 400, "bad_parameter", "to");
    /* leave */
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"" S_ID "\",\"type\":\"sabbatical\",\"from\":\"2026-05-04\",\"to\":\"2026-05-04\"}", 422,
        "invalid_field", "type");
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"" S_ID "\",\"type\":\"annual\",\"from\":\"2026-05-04\",\"to\":\"2026-05-03\"}", 422,
        "invalid_field", "to");
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"" S_ID
        "\",\"type\":\"annual\",\"from\":\"2026-05-04\",\"to\":\"2026-05-04\",\"start\":\"08:00\"}",
        422, "invalid_field", "end");
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"" S_ID
        "\",\"type\":\"annual\",\"from\":\"2026-05-04\",\"to\":\"2026-05-04\",\"start\":\"12:00\","
        "\"end\":\"08:00\"}",
        422, "invalid_field", "end");
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"" S_ID
        "\",\"type\":\"annual\",\"from\":\"2026-05-04\",\"to\":\"2026-05-04\",\"state\":\"maybe\"}",
        422, "invalid_field", "state");
    bad("POST", "/api/v1/leave", h,
        "{\"person_id\":\"e0000000-0000-4000-8000-00000000000e\",\"type\":\"annual\",\"from\":\"2026-05-04\","
        "\"to\":\"2026-05-04\"}",
        422, "invalid_field", "person_id");
    bad("PATCH", "/api/v1/leave/e0000000-0000-4000-8000-00000000000e", h, "{\"state\":\"approved\"}", 404, "not_found",
        NULL);
    /* exceptions */
    bad("POST", "/api/v1/exceptions/resolve", h,
        "{\"person_id\":\"" S_ID
        "\",\"date\":\"2026-05-04\",\"kind\":\"bogus\",\"action\":\"accept\",\"reason\":\"x\"}",
        422, "invalid_field", "kind");
    bad("POST", "/api/v1/exceptions/resolve", h,
        "{\"person_id\":\"" S_ID "\",\"date\":\"2026-05-04\",\"kind\":\"late\",\"action\":\"accept\"}", 422,
        "invalid_field", "reason");
    bad("POST", "/api/v1/exceptions/resolve", h,
        "{\"person_id\":\"" S_ID "\",\"date\":\"2026-05-04\",\"kind\":\"late\",\"action\":\"approve_overtime\","
        "\"reason\":\"x\"}",
        422, "invalid_field", "action");
    bad("GET", "/api/v1/exceptions?to=2026-03-01", h, NULL, 400, "bad_parameter", "from");
    bad("GET", "/api/v1/exceptions?from=2026-03-02&to=2026-03-01", h, NULL, 422, "invalid_field", "to");
    /* the roster */
    bad("GET", "/api/v1/roster?from=2026-03-01&to=2026-03-01&department=Nowhere", h, NULL, 422, "invalid_field",
        "department");
    bad("GET", "/api/v1/roster?from=2026-01-01&to=2026-03-31", h, NULL, 422, "invalid_field", "to");
    bad("GET", "/api/v1/roster?from=2026-03-01&to=2026-03-01&dept=x", h, NULL, 400, "bad_parameter", "dept");
    /* periods */
    bad("POST", "/api/v1/periods", a, "{\"name\":\"bad\",\"from\":\"2026-05-10\",\"to\":\"2026-05-01\"}", 422,
        "invalid_field", "to");
    bad("POST", "/api/v1/periods/e0000000-0000-4000-8000-00000000000e/close", a, "{\"reason\":\"x\"}", 404, "not_found",
        NULL);
}
END_TEST

START_TEST(leave_types)
{
    ok("POST", "/api/v1/leave/types", D.admin_token, "{\"code\":\"parental\",\"paid\":false}", 201, NULL);
    bad("POST", "/api/v1/leave/types", D.admin_token, "{\"code\":\"parental\",\"paid\":true}", 409, "conflict", "code");
    bad("POST", "/api/v1/leave/types", D.admin_token, "{\"code\":\"Parental\",\"paid\":true}", 422, "invalid_field",
        "code");
    bad("POST", "/api/v1/leave/types", D.admin_token, "{\"code\":\"x\"}", 422, "invalid_field", "paid");
    bad("POST", "/api/v1/leave/types", D.hr_token, "{\"code\":\"y\",\"paid\":true}", 403, "forbidden", NULL);
    long st;
    json_t *j = call("GET", "/api/v1/leave/types", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 5);
    ck_assert_str_eq(ts_jstr(json_array_get(items, 4), "code"), "parental");
    ck_assert(json_is_false(json_object_get(json_array_get(items, 4), "paid")));
    json_decref(j);
    /* the new type is a leave type like the others: its minutes are unpaid */
    ok("POST", "/api/v1/leave", D.hr_token,
       "{\"person_id\":\"" S_ID "\",\"type\":\"parental\",\"from\":\"2026-06-01\",\"to\":\"2026-06-30\"}", 201, NULL);
    /* at most 16 */
    char b[128];
    for (int i = 0; i < 11; i++) {
        snprintf(b, sizeof b, "{\"code\":\"extra_%d\",\"paid\":true}", i);
        ok("POST", "/api/v1/leave/types", D.admin_token, b, 201, NULL);
    }
    bad("POST", "/api/v1/leave/types", D.admin_token, "{\"code\":\"one_too_many\",\"paid\":true}", 422, "invalid_field",
        "code");
}
END_TEST

START_TEST(shift_pay_rules)
{
    long st;
    json_t *j = call("POST", "/api/v1/shifts", D.admin_token,
                     "{\"name\":\"Rounded\",\"start\":\"07:00\",\"end\":\"15:00\",\"round_min\":15,"
                     "\"round_favour\":\"employer\",\"break_punched\":true}",
                     &st);
    ck_assert_int_eq(st, 201);
    ck_assert_int_eq(ts_jint(j, "round_min"), 15);
    ck_assert_str_eq(ts_jstr(j, "round_favour"), "employer");
    ck_assert(json_is_true(json_object_get(j, "break_punched")));
    char path[96];
    snprintf(path, sizeof path, "/api/v1/shifts/%s", ts_jstr(j, "id"));
    json_decref(j);
    j = call("PATCH", path, D.admin_token, "{\"round_favour\":\"employee\",\"break_punched\":false}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(ts_jint(j, "round_min"), 15);
    ck_assert_str_eq(ts_jstr(j, "round_favour"), "employee");
    ck_assert(json_is_false(json_object_get(j, "break_punched")));
    json_decref(j);
    /* a plain shift has none */
    j = call("GET", "/api/v1/shifts", D.hr_token, NULL, &st);
    json_t *first = json_array_get(json_object_get(j, "items"), 0);
    ck_assert(json_is_integer(json_object_get(first, "round_min")));
    json_decref(j);
    bad("POST", "/api/v1/shifts", D.admin_token,
        "{\"name\":\"R2\",\"start\":\"07:00\",\"end\":\"15:00\",\"round_min\":61}", 422, "invalid_field", "round_min");
    bad("POST", "/api/v1/shifts", D.admin_token,
        "{\"name\":\"R2\",\"start\":\"07:00\",\"end\":\"15:00\",\"round_favour\":\"boss\"}", 422, "invalid_field",
        "round_favour");
    bad("PATCH", path, D.admin_token, "{\"break_punched\":\"yes\"}", 422, "invalid_field", "break_punched");
}
END_TEST

/* A request with a raw body of a content type; the answer in r (ts_resp_free it). */
static void raw(const char *method, const char *path, const char *token, const char *body, size_t len, const char *type,
                struct ts_resp *r)
{
    ck_assert_int_eq(ts_http(method, url("%s", path), token, body, len, type, r), 0);
}

START_TEST(holiday_import)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/holidays-bavaria-2026.ics", ts_env("ATTENDD_SRCDIR"));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char ics[16384];
    size_t len = fread(ics, 1, sizeof ics, f);
    fclose(f);
    struct ts_resp r;
    raw("POST", "/api/v1/holidays/import?from=2026-01-01&to=2026-12-31", D.admin_token, ics, len, "text/calendar", &r);
    ck_assert_msg(r.status == 200, "import: %ld %s", r.status, r.body);
    json_t *j = ts_json_body(r.body, r.len);
    ck_assert_int_eq(ts_jint(j, "holidays"), 8);
    ck_assert_int_eq(ts_jint(j, "added"), 6); /* Good Friday and Easter Monday were there already */
    json_decref(j);
    ts_resp_free(&r);
    raw("POST", "/api/v1/holidays/import?from=2026-01-01&to=2026-12-31", D.admin_token, ics, len,
        "text/calendar; charset=utf-8", &r);
    j = ts_json_body(r.body, r.len);
    ck_assert_int_eq(ts_jint(j, "added"), 0);
    json_decref(j);
    ts_resp_free(&r);
    long st;
    j = call("GET", "/api/v1/holidays?from=2026-12-01&to=2026-12-31", D.hr_token, NULL, &st);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 2);
    ck_assert_str_eq(ts_jstr(json_array_get(items, 0), "name"), "Weihnachten");
    ck_assert_str_eq(ts_jstr(json_array_get(items, 0), "date"), "2026-12-25");
    json_decref(j);
    j = call("GET", "/api/v1/holidays?from=2026-01-06&to=2026-01-06", D.hr_token, NULL, &st);
    ck_assert_str_eq(ts_jstr(json_array_get(json_object_get(j, "items"), 0), "name"), "Heilige Drei K\xc3\xb6nige");
    json_decref(j);
    ck_assert_int_eq(ts_sql_int(conninfo, "SELECT count(*) FROM audit_log WHERE action = 'holiday.import'"), 2);
    /* bad forms */
    raw("POST", "/api/v1/holidays/import?from=2026-01-01&to=2026-12-31", D.admin_token, ics, len, "application/json",
        &r);
    ts_expect_problem(ts_json_body(r.body, r.len), r.status, 415, "unsupported_media_type", NULL);
    ts_resp_free(&r);
    raw("POST", "/api/v1/holidays/import?from=2026-01-01&to=2026-12-31", D.admin_token, "not a calendar", 14,
        "text/calendar", &r);
    ts_expect_problem(ts_json_body(r.body, r.len), r.status, 422, "invalid_field", "body");
    ts_resp_free(&r);
    raw("POST", "/api/v1/holidays/import?from=2026-01-01", D.admin_token, ics, len, "text/calendar", &r);
    ts_expect_problem(ts_json_body(r.body, r.len), r.status, 400, "bad_parameter", "to");
    ts_resp_free(&r);
    raw("POST", "/api/v1/holidays/import?from=2026-01-01&to=2026-12-31", D.hr_token, ics, len, "text/calendar", &r);
    ck_assert_int_eq(r.status, 403);
    ts_resp_free(&r);
}
END_TEST

static json_t *payroll_row(json_t *items, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        const char *p = ts_jstr_opt(r, "person");
        if (p && strcmp(p, id) == 0) return r;
    }
    ck_abort_msg("no payroll row for %s", id);
    return NULL;
}

static void get_text(const char *path, const char *token, struct ts_resp *r)
{
    ck_assert_int_eq(ts_http("GET", url("%s", path), token, NULL, 0, NULL, r), 0);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
}

START_TEST(payroll_export)
{
    char pid[40], path[160];
    ok("POST", "/api/v1/periods", D.admin_token,
       "{\"name\":\"2026-04a\",\"from\":\"2026-04-01\",\"to\":\"2026-04-05\"}", 201, pid);
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=json", pid);
    long st;
    json_t *j = call("GET", path, D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 3);
    /* Wanda: days Wed-Fri, Friday Good Friday: 3 x 480 scheduled, absent Wed and Thu */
    json_t *w = payroll_row(items, W_ID);
    ck_assert_int_eq(ts_jint(w, "scheduled"), 1440);
    ck_assert_int_eq(ts_jint(w, "worked"), 0);
    ck_assert_int_eq(ts_jint(w, "absent_days"), 2);
    ck_assert_int_eq(ts_jint(w, "exceptions"), 2);
    ck_assert_int_eq(ts_jint(w, "leave:annual"), 0);
    ck_assert_str_eq(ts_jstr(w, "name"), "Weekday, Wanda");
    /* Nora: N on 04-01, off 02-03, E E on the weekend: all absent */
    json_t *n = payroll_row(items, N_ID);
    ck_assert_int_eq(ts_jint(n, "scheduled"), 1440);
    ck_assert_int_eq(ts_jint(n, "absent_days"), 3);
    json_decref(j);

    /* CSV: the configured columns; the period closed, later changes do not touch its export */
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=csv&department=Ward%%207", pid);
    struct ts_resp a, b, c;
    get_text(path, D.hr_token, &a);
    ck_assert_ptr_nonnull(strstr(a.body, "person,employee_no,name,department,scheduled,worked,regular,ot_daily,"));
    ck_assert_ptr_nonnull(
        strstr(a.body, W_ID ",W-1,\"Weekday, Wanda\",Ward 7,1440,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2\r\n"));
    char cpath[160];
    snprintf(cpath, sizeof cpath, "/api/v1/periods/%s/close", pid);
    ok("POST", cpath, D.admin_token, "{\"reason\":\"April week paid\"}", 200, NULL);
    get_text(path, D.hr_token, &b);
    ck_assert_str_eq(a.body, b.body);
    /* a late camera punch inside the period, a holiday after it: the closed export stays byte for byte */
    punch(W_ID, "in", "2026-04-02 08:00");
    punch(W_ID, "out", "2026-04-02 16:00");
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-04-07\",\"name\":\"Staff day\"}", 201, NULL);
    get_text(path, D.hr_token, &c);
    ck_assert_str_eq(a.body, c.body);
    ts_resp_free(&b);
    ts_resp_free(&c);
    /* reopened, it is computed again: Wanda worked Thursday */
    snprintf(cpath, sizeof cpath, "/api/v1/periods/%s/reopen", pid);
    ok("POST", cpath, D.admin_token, "{\"reason\":\"late punches\"}", 200, NULL);
    get_text(path, D.hr_token, &c);
    ck_assert_str_ne(a.body, c.body);
    ck_assert_ptr_nonnull(strstr(c.body, W_ID ",W-1,\"Weekday, Wanda\",Ward 7,1440,480,480,"));
    ts_resp_free(&a);
    ts_resp_free(&c);

    /* a pseudonymous token gets person_key and no names */
    char tok[64];
    const char *args[] = {"token", "create", "--role", "hr", "--name", "payroll-research", "--pseudonymous", NULL};
    ck_assert_int_eq(ts_attendctl(&D, tok, sizeof tok, args), 0);
    tok[strcspn(tok, "\n")] = '\0';
    get_text(path, tok, &a);
    ck_assert_ptr_nonnull(strstr(a.body, "person_key,department,scheduled,"));
    ck_assert_ptr_null(strstr(a.body, "Wanda"));
    ck_assert_ptr_null(strstr(a.body, W_ID));
    ck_assert_ptr_null(strstr(a.body, "W-1"));
    ts_resp_free(&a);
    ck_assert_int_ge(ts_sql_int(conninfo, "SELECT count(*) FROM audit_log WHERE action = 'payroll.read'"), 5);
    /* bad forms */
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=xml", pid);
    bad("GET", path, D.hr_token, NULL, 400, "bad_parameter", "format");
    bad("GET", "/api/v1/periods/e0000000-0000-4000-8000-00000000000e/payroll", D.hr_token, NULL, 404, "not_found",
        NULL);
}
END_TEST

START_TEST(misidentified_event)
{
    const char *ev = "e2000000-0000-4000-8000-0000000000e2";
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source, similarity) VALUES ('e2000000-0000-4000-8000-"
           "0000000000e2', '" W_ID "', 'in', timestamp '2026-04-10 10:00' AT TIME ZONE 'Europe/Berlin',"
           " 'camera', 0.71)");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/events/%s/misidentified", ev);
    bad("POST", path, D.hr_token, "{\"actual_person_id\":\"" S_ID "\"}", 422, "invalid_field", "reason");
    bad("POST", path, D.hr_token, "{\"reason\":\"x\",\"actual_person_id\":\"e0000000-0000-4000-8000-00000000000e\"}",
        422, "invalid_field", "actual_person_id");
    long st;
    json_t *j;
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM events WHERE id = 'e2000000-0000-4000-8000-0000000000e2'"
                                " AND voided_at IS NULL"),
                     1);
    ok("POST", path, D.hr_token, "{\"reason\":\"it was Sam\",\"actual_person_id\":\"" S_ID "\"}", 200, NULL);
    bad("POST", path, D.hr_token, "{\"reason\":\"again\"}", 409, "conflict", NULL);
    bad("POST", "/api/v1/events/e0000000-0000-4000-8000-00000000000e/misidentified", D.hr_token, "{\"reason\":\"x\"}",
        404, "not_found", NULL);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM events WHERE id = 'e2000000-0000-4000-8000-0000000000e2'"
                                " AND voided_at IS NOT NULL AND misidentified AND void_reason = 'it was Sam'"),
                     1);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'event.misidentified'"
                                " AND target_id = 'e2000000-0000-4000-8000-0000000000e2'"),
                     1);
    /* both people see the other, with the score and nothing else */
    j = call("GET", "/api/v1/people/" W_ID "/lookalikes", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *it = json_array_get(json_object_get(j, "items"), 0);
    ck_assert_str_eq(ts_jstr(it, "person_id"), S_ID);
    ck_assert(fabs(json_number_value(json_object_get(it, "score")) - 0.71) < 1e-4);
    ck_assert_int_eq(ts_jint(it, "times"), 1);
    ck_assert_uint_eq(json_object_size(it), 3);
    json_decref(j);
    j = call("GET", "/api/v1/people/" S_ID "/lookalikes", D.hr_token, NULL, &st);
    ck_assert_str_eq(ts_jstr(json_array_get(json_object_get(j, "items"), 0), "person_id"), W_ID);
    json_decref(j);
    /* the voided punch left the exceptions: Friday 04-10 is Wanda's shift day with no presence again */
    j = call("GET", "/api/v1/exceptions?from=2026-04-10&to=2026-04-10&person_id=" W_ID, D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert(find_exc(json_object_get(j, "items"), W_ID, "2026-04-10", "absent") != NULL);
    ck_assert(find_exc(json_object_get(j, "items"), W_ID, "2026-04-10", "missing_out") == NULL);
    json_decref(j);
    /* a score is derived from both faces: erasing either person removes the pair (a person of its own,
     * so the people the later cases share stay as they are) */
    char xid[40], q[256];
    ok("POST", "/api/v1/people", D.admin_token, "{\"employee_no\":\"X-1\",\"name\":\"Xena\",\"department\":\"Ward 7\"}",
       201, xid);
    snprintf(q, sizeof q,
             "INSERT INTO person_lookalikes (person_a, person_b, score) SELECT least(a, b), greatest(a, b), 0.6"
             " FROM (VALUES ('%s'::uuid, '" W_ID "'::uuid)) v(a, b)",
             xid);
    ts_sql(conninfo, q);
    snprintf(path, sizeof path, "/api/v1/people/%s", xid);
    ok("DELETE", path, D.admin_token, NULL, 204, NULL);
    snprintf(q, sizeof q, "SELECT count(*) FROM person_lookalikes WHERE '%s' IN (person_a, person_b)", xid);
    ck_assert_int_eq(ts_sql_int(conninfo, q), 0);
    j = call("GET", "/api/v1/people/" W_ID "/lookalikes", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
}
END_TEST

/* The id of the period named name. */
static void period_named(const char *name, char *id)
{
    long st;
    json_t *j = call("GET", "/api/v1/periods", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    size_t i;
    json_t *p;
    id[0] = '\0';
    json_array_foreach(json_object_get(j, "items"), i, p)
    {
        if (strcmp(ts_jstr(p, "name"), name) == 0) snprintf(id, 40, "%s", ts_jstr(p, "id"));
    }
    json_decref(j);
    ck_assert_msg(id[0], "no period %s", name);
}

/* Wanda's payroll row of the April week (she worked Thursday 2026-04-02 08:00-16:00). */
static json_t *wanda_april(const char *pid)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=json&department=Ward%%207", pid);
    long st;
    json_t *j = call("GET", path, D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *w = json_incref(payroll_row(json_object_get(j, "items"), W_ID));
    json_decref(j);
    return w;
}

/* The site's pay rule set: the defaults, each member's bad forms, and a changed night window and
 * weekly floor reaching the payroll of an open period. */
START_TEST(pay_rules)
{
    long st;
    json_t *j = call("GET", "/api/v1/pay/rules", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "night_start"), "22:00");
    ck_assert_str_eq(ts_jstr(j, "night_end"), "06:00");
    ck_assert_int_eq(ts_jint(j, "daily_overtime_after_minutes"), 0);
    ck_assert_int_eq(ts_jint(j, "weekly_overtime_after_minutes"), 0);
    ck_assert_int_eq(ts_jint(j, "min_rest_minutes"), 660);
    json_decref(j);
    static const struct {
        const char *body, *field;
    } bads[] = {
        {"{\"night_start\":\"25:00\"}", "night_start"},
        {"{\"night_end\":\"6\"}", "night_end"},
        {"{\"night_start\":null}", "night_start"},
        {"{\"daily_overtime_after_minutes\":1441}", "daily_overtime_after_minutes"},
        {"{\"daily_overtime_after_minutes\":\"8h\"}", "daily_overtime_after_minutes"},
        {"{\"weekly_overtime_after_minutes\":-1}", "weekly_overtime_after_minutes"},
        {"{\"weekly_overtime_after_minutes\":10081}", "weekly_overtime_after_minutes"},
        {"{\"min_rest_minutes\":1441}", "min_rest_minutes"},
        {"{\"min_rest_minutes\":1.5}", "min_rest_minutes"},
        {"{\"night_window\":\"22-6\"}", "night_window"},
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        bad("PATCH", "/api/v1/pay/rules", D.admin_token, bads[i].body, 422, "invalid_field", bads[i].field);
    bad("PATCH", "/api/v1/pay/rules", D.hr_token, "{\"night_start\":\"21:00\"}", 403, "forbidden", NULL);

    char pid[40];
    period_named("2026-04a", pid);
    json_t *w = wanda_april(pid);
    ck_assert_int_eq(ts_jint(w, "worked"), 480);
    ck_assert_int_eq(ts_jint(w, "night"), 0);
    ck_assert_int_eq(ts_jint(w, "ot_weekly"), 0);
    json_decref(w);
    /* night 15:00-17:00: her last hour is night time; a weekly floor of 4 h: half her Thursday is weekly
     * overtime (her Monday and Tuesday were leave) */
    j = call("PATCH", "/api/v1/pay/rules", D.admin_token,
             "{\"night_start\":\"15:00\",\"night_end\":\"17:00\",\"weekly_overtime_after_minutes\":240}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "night_start"), "15:00");
    ck_assert_int_eq(ts_jint(j, "weekly_overtime_after_minutes"), 240);
    ck_assert_int_eq(ts_jint(j, "min_rest_minutes"), 660); /* not given: kept */
    json_decref(j);
    w = wanda_april(pid);
    ck_assert_int_eq(ts_jint(w, "night"), 60);
    ck_assert_int_eq(ts_jint(w, "ot_weekly"), 240);
    ck_assert_int_eq(ts_jint(w, "regular"), 240);
    json_decref(w);
    /* a daily floor of 7 h over a scheduled 8 h changes nothing; the defaults back */
    ok("PATCH", "/api/v1/pay/rules", D.admin_token,
       "{\"night_start\":\"22:00\",\"night_end\":\"06:00\",\"weekly_overtime_after_minutes\":0,"
       "\"daily_overtime_after_minutes\":420}",
       200, NULL);
    w = wanda_april(pid);
    ck_assert_int_eq(ts_jint(w, "night"), 0);
    ck_assert_int_eq(ts_jint(w, "ot_daily"), 0);
    ck_assert_int_eq(ts_jint(w, "regular"), 480);
    json_decref(w);
    ok("PATCH", "/api/v1/pay/rules", D.admin_token, "{\"daily_overtime_after_minutes\":0}", 200, NULL);
    ck_assert_int_eq(ts_sql_int(conninfo,
                                "SELECT count(*) FROM audit_log WHERE action = 'pay_rules.update'"
                                " AND detail::text LIKE '%weekly_overtime_after_minutes%'"),
                     2);
}
END_TEST

/* 2,000 more people: both formats of the export are streamed (chunked, no Content-Length), whole, and
 * a closed period's JSON export equals its open one byte for byte. */
START_TEST(large_export)
{
    enum { NP = 2000 };
    char sql[512], b[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO people (id, employee_no, name, department) SELECT gen_random_uuid(), 'L-' || i,"
             " 'Large, ' || i, 'Ward 9' FROM generate_series(1, %d) i",
             NP);
    ts_sql(conninfo, sql);
    snprintf(b, sizeof b,
             "{\"department\":\"Ward 9\",\"kind\":\"weekly\",\"valid_from\":\"2026-01-01\",\"cycle\":"
             "[[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[],[]]}",
             day_id, day_id, day_id, day_id, day_id);
    ok("POST", "/api/v1/roster/patterns", D.admin_token, b, 201, NULL);
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source) SELECT gen_random_uuid(), id, k::event_kind,"
           " (timestamp '2026-04-02 08:00' + (CASE WHEN k = 'in' THEN 0 ELSE 8 END) * interval '1 hour')"
           " AT TIME ZONE 'Europe/Berlin', 'camera' FROM people, (VALUES ('in'), ('out')) v(k)"
           " WHERE department = 'Ward 9'");
    char pid[40], path[200];
    period_named("2026-04a", pid);
    struct ts_resp csv, a, c;
    char te[64];
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=csv&department=Ward%%209", pid);
    get_text(path, D.hr_token, &csv);
    ck_assert_ptr_null(ts_resp_header(&csv, "Content-Length", te, sizeof te));
    ck_assert_ptr_nonnull(ts_resp_header(&csv, "Transfer-Encoding", te, sizeof te));
    ck_assert_str_eq(te, "chunked");
    size_t lines = 0, full = 0;
    for (const char *p = csv.body; (p = strstr(p, "\r\n")); p += 2) lines++;
    for (const char *p = csv.body; (p = strstr(p, ",Ward 9,1440,480,480,")); p++)
        full++; /* Wednesday to Friday planned, Thursday worked */
    ck_assert_uint_eq(lines, NP + 1);
    ck_assert_uint_eq(full, NP);
    ts_resp_free(&csv);

    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=json&department=Ward%%209", pid);
    get_text(path, D.hr_token, &a);
    ck_assert_ptr_null(ts_resp_header(&a, "Content-Length", te, sizeof te));
    json_error_t err;
    json_t *j = json_loads(a.body, 0, &err);
    ck_assert_msg(j, "JSON export: %s", err.text);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), NP);
    ck_assert_str_eq(ts_jstr(j, "period_id"), pid);
    ck_assert(json_is_false(json_object_get(j, "closed")));
    json_decref(j);
    char cpath[160];
    snprintf(cpath, sizeof cpath, "/api/v1/periods/%s/close", pid);
    ok("POST", cpath, D.admin_token, "{\"reason\":\"large week paid\"}", 200, NULL);
    get_text(path, D.hr_token, &c);
    ck_assert_ptr_nonnull(strstr(c.body, "\"closed\":true"));
    /* the same bytes but for the closed flag */
    char *open_txt = strdup(a.body);
    char *at = strstr(open_txt, "\"closed\":false");
    ck_assert_ptr_nonnull(at);
    memmove(at + 13, at + 14, strlen(at + 14) + 1);
    memcpy(at, "\"closed\":true", 13);
    ck_assert_str_eq(open_txt, c.body);
    free(open_txt);
    ts_resp_free(&a);
    ts_resp_free(&c);
    snprintf(cpath, sizeof cpath, "/api/v1/periods/%s/reopen", pid);
    ok("POST", cpath, D.admin_token, "{\"reason\":\"large week again\"}", 200, NULL);
}
END_TEST

Suite *rosters_api_suite(void)
{
    Suite *s = suite_create("rosters_api");
    ts_tcase(s, "rosters", 600, fx_start, fx_stop, roster_resolves, exceptions_and_resolution, bad_forms,
             period_close_refuses_changes, holiday_import, payroll_export, misidentified_event, shift_pay_rules,
             leave_types, pay_rules, large_export, NULL);
    return s;
}
