/* Acceptance: a month of a real-looking ward (March 2026, Europe/Berlin) built through the API — 30 staff
 * on a rotation of three shift types, a night across the month end and one across the DST change, two
 * holidays, five leave records, three split on-call days, two overrides — and its payroll export equal to
 * the expected table committed in tests/fixtures/ward-2026-03.csv (worked out from the scenario by
 * tests/tools/ward_expected.py with Python's own time zones). The closed month's export stays byte for
 * byte the same after later changes. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/time.h"
#include "support.h"
#include "support_api.h"

#define STAFF 30

static char conninfo[600];
static struct ts_daemon D;
static char shift_ids[5][40]; /* E L N AM PM */
static char person_ids[STAFF][40];

#define url(...) ts_urlf(&D, __VA_ARGS__)

static const struct {
    const char *name;
    int start, end; /* hours */
} shifts[5] = {{"E", 6, 14}, {"L", 14, 22}, {"N", 22, 6}, {"AM", 7, 11}, {"PM", 17, 21}};

/* the scenario of tests/tools/ward_expected.py */
static const int cycle[10] = {0, 0, 1, 1, 2, 2, -1, -1, -1, -1};
static const struct {
    int person, day; /* day of March */
    int n, s[2];
} overrides[5] = {{1, 17, 2, {3, 4}}, {2, 7, 2, {3, 4}}, {3, 25, 2, {3, 4}}, {6, 9, 1, {1}}, {7, 22, 1, {0}}};
static const struct {
    int person;
    const char *type;
    int from, to; /* days of March */
} leave[5] = {
    {0, "annual", 10, 11}, {5, "annual", 16, 17}, {10, "annual", 20, 20}, {15, "annual", 3, 4}, {20, "sick", 24, 25}};

static json_t *call(const char *method, const char *path, const char *token, const char *body, long *st)
{
    return ts_call(method, url("%s", path), token, body, st);
}

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

/* The plan of person i on day d (days since the epoch): shift count and indices. */
static int plan(int i, int64_t d, int s[2])
{
    int y, m, dm;
    att_time_civil_from_days(d, &y, &m, &dm);
    for (int k = 0; k < 5; k++)
        if (overrides[k].person == i && m == 3 && overrides[k].day == dm) {
            s[0] = overrides[k].s[0];
            s[1] = overrides[k].s[1];
            return overrides[k].n;
        }
    int64_t k = (d - (att_time_days_from_civil(2026, 3, 1) - i)) % 10;
    if (k < 0) k += 10;
    if (cycle[k] < 0) return 0;
    s[0] = cycle[k];
    return 1;
}

static bool on_leave(int i, int64_t d)
{
    int y, m, dm;
    att_time_civil_from_days(d, &y, &m, &dm);
    for (int k = 0; k < 5; k++)
        if (leave[k].person == i && m == 3 && dm >= leave[k].from && dm <= leave[k].to) return true;
    return false;
}

/* "(gen_random_uuid(), 'id', 'kind', timestamp 'Y-M-D HH:MM' AT TIME ZONE 'Europe/Berlin', 'camera')," */
static int nvalues; /* values in the statement being built */

static void value(char *sql, size_t cap, const char *id, const char *kind, int64_t day, int min)
{
    int y, m, d;
    att_time_civil_from_days(day + min / 1440, &y, &m, &d);
    min %= 1440;
    size_t n = strlen(sql);
    snprintf(sql + n, cap - n,
             "%s(gen_random_uuid(), '%s', '%s', timestamp '%04d-%02d-%02d %02d:%02d' AT TIME ZONE 'Europe/Berlin',"
             " 'camera')",
             nvalues++ ? "," : "", id, kind, y, m, d, min / 60, min % 60);
}

static void fx_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(
        ts_daemon_start(&D, conninfo, "timezone = Europe/Berlin\nday_cutoff = 04:00\nreport_max_days = 62\n"), 0);
    char b[2048];
    for (int k = 0; k < 5; k++) {
        snprintf(b, sizeof b,
                 "{\"name\":\"%s\",\"start\":\"%02d:00\",\"end\":\"%02d:00\",\"grace_late_min\":5,"
                 "\"grace_early_min\":5}",
                 shifts[k].name, shifts[k].start, shifts[k].end);
        ok("POST", "/api/v1/shifts", D.admin_token, b, 201, shift_ids[k]);
    }
    for (int i = 0; i < STAFF; i++) {
        snprintf(b, sizeof b, "{\"employee_no\":\"W%02d\",\"name\":\"Nurse %02d\",\"department\":\"Ward 3\"}", i + 1,
                 i + 1);
        ok("POST", "/api/v1/people", D.admin_token, b, 201, person_ids[i]);
        int64_t anchor = att_time_days_from_civil(2026, 3, 1) - i;
        char anchor_s[ATT_DATE_TEXT];
        ck_assert(att_time_date_format(anchor, anchor_s));
        const char *E = shift_ids[0], *L = shift_ids[1], *N = shift_ids[2];
        snprintf(b, sizeof b,
                 "{\"person_id\":\"%s\",\"kind\":\"rotation\",\"anchor\":\"%s\",\"valid_from\":\"2026-01-01\","
                 "\"cycle\":[[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[\"%s\"],[],[],[],[]]}",
                 person_ids[i], anchor_s, E, E, L, L, N, N);
        ok("POST", "/api/v1/roster/patterns", D.admin_token, b, 201, NULL);
    }
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-03-19\",\"name\":\"Founders' day\"}", 201, NULL);
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-03-27\",\"name\":\"Spring holiday\"}", 201, NULL);
    for (int k = 0; k < 5; k++) {
        snprintf(b, sizeof b,
                 "{\"person_id\":\"%s\",\"type\":\"%s\",\"from\":\"2026-03-%02d\",\"to\":\"2026-03-%02d\","
                 "\"state\":\"approved\"}",
                 person_ids[leave[k].person], leave[k].type, leave[k].from, leave[k].to);
        ok("POST", "/api/v1/leave", D.hr_token, b, 201, NULL);
    }
    for (int k = 0; k < 5; k++) {
        if (overrides[k].n == 2)
            snprintf(b, sizeof b,
                     "{\"person_id\":\"%s\",\"date\":\"2026-03-%02d\",\"shift_ids\":[\"%s\",\"%s\"],"
                     "\"reason\":\"split on-call day\"}",
                     person_ids[overrides[k].person], overrides[k].day, shift_ids[overrides[k].s[0]],
                     shift_ids[overrides[k].s[1]]);
        else
            snprintf(b, sizeof b,
                     "{\"person_id\":\"%s\",\"date\":\"2026-03-%02d\",\"shift_ids\":[\"%s\"],\"reason\":\"swap\"}",
                     person_ids[overrides[k].person], overrides[k].day, shift_ids[overrides[k].s[0]]);
        ok("POST", "/api/v1/roster/overrides", D.admin_token, b, 201, NULL);
    }
    /* punches at every planned start and end from 27 February to 31 March, with three deviations */
    static char sql[65536];
    for (int i = 0; i < STAFF; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO events (id, person_id, kind, ts, source) VALUES ");
        nvalues = 0;
        for (int64_t d = att_time_days_from_civil(2026, 2, 27); d <= att_time_days_from_civil(2026, 3, 31); d++) {
            int s[2] = {0, 0};
            int n = plan(i, d, s);
            if (on_leave(i, d)) continue;
            int y, m, dm;
            att_time_civil_from_days(d, &y, &m, &dm);
            if (i == 11 && m == 3 && dm == 8) { /* rest-day presence */
                value(sql, sizeof sql, person_ids[i], "in", d, 600);
                value(sql, sizeof sql, person_ids[i], "out", d, 720);
            }
            for (int k = 0; k < n; k++) {
                int st = shifts[s[k]].start * 60, en = shifts[s[k]].end * 60;
                if (en <= st) en += 1440;
                if (i == 8 && m == 3 && dm == 3) st += 12; /* late 12 minutes */
                value(sql, sizeof sql, person_ids[i], "in", d, st);
                if (!(i == 9 && m == 3 && dm == 5)) value(sql, sizeof sql, person_ids[i], "out", d, en); /* forgot */
            }
        }
        ts_sql(conninfo, sql);
    }
}

static void fx_stop(void)
{
    if (D.pid > 0) ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    ts_db_drop(conninfo);
}

static void get_text(const char *path, struct ts_resp *r)
{
    ck_assert_int_eq(ts_http("GET", url("%s", path), D.hr_token, NULL, 0, NULL, r), 0);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
}

START_TEST(ward_month_matches_the_expected_table)
{
    char pid[40], path[160];
    ok("POST", "/api/v1/periods", D.admin_token, "{\"name\":\"March\",\"from\":\"2026-03-01\",\"to\":\"2026-03-31\"}",
       201, pid);
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=json&department=Ward%%203", pid);
    long st;
    json_t *j = call("GET", path, D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), STAFF);

    char fx[1024];
    snprintf(fx, sizeof fx, "%s/tests/fixtures/ward-2026-03.csv", ts_env("ATTENDD_SRCDIR"));
    FILE *f = fopen(fx, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    static const char *const cols[] = {"scheduled", "worked",       "ot_daily",   "ot_rest_day", "night",
                                       "holiday",   "leave:annual", "leave:sick", "exceptions",  "absent_days"};
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char emp[8];
        long long v[10];
        ck_assert_int_eq(sscanf(line, "%7[^,],%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld", emp, &v[0], &v[1],
                                &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]),
                         11);
        json_t *row = NULL;
        size_t i;
        json_t *r;
        json_array_foreach(items, i, r)
        {
            if (strcmp(ts_jstr(r, "employee_no"), emp) == 0) row = r;
        }
        ck_assert_msg(row != NULL, "no payroll row for %s", emp);
        for (int k = 0; k < 10; k++)
            ck_assert_msg(ts_jint(row, cols[k]) == v[k], "%s %s: %lld, expected %lld", emp, cols[k],
                          ts_jint(row, cols[k]), v[k]);
        ck_assert_int_eq(ts_jint(row, "ot_weekly"), 0);
        ck_assert_int_eq(ts_jint(row, "ot_holiday"), 0);
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, STAFF);
    json_decref(j);

    /* no absent on rest days, holidays or leave anywhere in the month; the rest-day punch is unscheduled */
    j = call("GET", "/api/v1/exceptions?from=2026-03-01&to=2026-03-31&department=Ward%203", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    size_t i;
    json_t *r;
    int kinds = 0;
    json_array_foreach(json_object_get(j, "items"), i, r)
    {
        ck_assert_msg(strcmp(ts_jstr(r, "kind"), "absent") != 0, "absent: %s on %s", ts_jstr(r, "employee_no"),
                      ts_jstr(r, "date"));
        if (!strcmp(ts_jstr(r, "employee_no"), "W12") && !strcmp(ts_jstr(r, "date"), "2026-03-08") &&
            !strcmp(ts_jstr(r, "kind"), "unscheduled_presence"))
            kinds++;
        if (!strcmp(ts_jstr(r, "employee_no"), "W09") && !strcmp(ts_jstr(r, "kind"), "late")) {
            ck_assert_int_eq(ts_jint(r, "minutes"), 12);
            kinds++;
        }
    }
    ck_assert_int_eq(kinds, 2);
    json_decref(j);

    /* the DST night and the night across the month end as the roster shows them */
    j = call("GET", "/api/v1/roster?from=2026-03-28&to=2026-03-31&department=Ward%203", D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    int seen = 0;
    json_array_foreach(json_object_get(j, "items"), i, r)
    {
        const char *emp = ts_jstr(r, "employee_no");
        json_t *days = json_object_get(r, "days");
        if (!strcmp(emp, "W08")) { /* i = 7: N on 03-28 */
            json_t *sh = json_array_get(json_object_get(json_array_get(days, 0), "shifts"), 0);
            ck_assert_str_eq(ts_jstr(sh, "start"), "2026-03-28T22:00:00+01:00");
            ck_assert_str_eq(ts_jstr(sh, "end"), "2026-03-29T06:00:00+02:00");
            ck_assert_int_eq(ts_jint(json_array_get(days, 0), "scheduled_minutes"), 420);
            seen++;
        }
        if (!strcmp(emp, "W05")) { /* i = 4: N on 03-31 */
            json_t *sh = json_array_get(json_object_get(json_array_get(days, 3), "shifts"), 0);
            ck_assert_str_eq(ts_jstr(sh, "end"), "2026-04-01T06:00:00+02:00");
            seen++;
        }
    }
    ck_assert_int_eq(seen, 2);
    json_decref(j);

    /* closed, the export stays byte for byte after later changes */
    snprintf(path, sizeof path, "/api/v1/periods/%s/payroll?format=csv", pid);
    struct ts_resp a, b;
    char cpath[160];
    snprintf(cpath, sizeof cpath, "/api/v1/periods/%s/close", pid);
    ok("POST", cpath, D.admin_token, "{\"reason\":\"March paid\"}", 200, NULL);
    get_text(path, &a);
    ok("POST", "/api/v1/holidays", D.admin_token, "{\"date\":\"2026-04-02\",\"name\":\"Later\"}", 201, NULL);
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source) SELECT gen_random_uuid(), id, 'in',"
           " timestamp '2026-03-15 12:00' AT TIME ZONE 'Europe/Berlin', 'camera' FROM people");
    get_text(path, &b);
    ck_assert_str_eq(a.body, b.body);
    ts_resp_free(&a);
    ts_resp_free(&b);
}
END_TEST

Suite *ward_month_suite(void)
{
    Suite *s = suite_create("ward_month");
    ts_tcase(s, "acceptance", 600, fx_start, fx_stop, ward_month_matches_the_expected_table, NULL);
    return s;
}
