/* Shifts, schedules and GET /api/v1/attendance through the real daemon and a throwaway database: a
 * month of punches (day, evening, overnight shifts; DST; month boundary; voided events), every report
 * field of chosen rows against hand-computed values, a CSV round trip, and bad parameters. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "support_api.h"

static char conninfo[600];
static struct ts_daemon D;

/* people (fixed ids, inserted by SQL) */
#define A_ID "a0000000-0000-4000-8000-00000000000a" /* ICU, department day shift */
#define B_ID "b0000000-0000-4000-8000-00000000000b" /* ICU, own night shift */
#define C_ID "c0000000-0000-4000-8000-00000000000c" /* ER, department evening shift */
#define D_ID "d0000000-0000-4000-8000-00000000000d" /* Lab, no schedule */
#define A_NAME "M\xc3\xbcller, Anna \"Ann\""
#define B_NAME "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e" /* 山田 太郎 */

#define url(...) ts_urlf(&D, __VA_ARGS__)

/* POST json to path as admin expecting want; returns the "id" member into id (if given). */
static void post_ok(const char *path, const char *json, long want, char *id)
{
    long st;
    json_t *j = ts_call("POST", url("%s", path), D.admin_token, json, &st);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : strdup("");
    ck_assert_msg(st == want, "POST %s %s: %ld %s", path, json, st, txt);
    if (id) snprintf(id, 40, "%s", ts_jstr(j, "id"));
    free(txt);
    json_decref(j);
}

/* ---- fixture: database, daemon (Berlin, 04:00 cut-off), shifts, schedules and a month of punches ---------- */

static char day_id[40], night_id[40], eve_id[40];

/* one event at a Berlin wall time */
static void punch(const char *person, const char *kind, const char *local)
{
    char s[512];
    snprintf(s, sizeof s,
             "INSERT INTO events (id, person_id, kind, ts, source) VALUES (gen_random_uuid(), '%s', '%s',"
             " timestamp '%s' AT TIME ZONE 'Europe/Berlin', 'camera')",
             person, kind, local);
    ts_sql(conninfo, s);
}

/* kind punches at time t (local) on each day of [from, to], except the listed days; plus_day: next day */
static void series(const char *person, const char *kind, const char *from, const char *to, const char *t, int plus_day,
                   const char *except)
{
    char s[1024];
    snprintf(s, sizeof s,
             "INSERT INTO events (id, person_id, kind, ts, source) SELECT gen_random_uuid(), '%s', '%s',"
             " ((d::date + %d) + time '%s') AT TIME ZONE 'Europe/Berlin', 'camera'"
             " FROM generate_series(date '%s', date '%s', interval '1 day') d WHERE d::date NOT IN (%s)",
             person, kind, plus_day, t, from, to, except);
    ts_sql(conninfo, s);
}

static void fx_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(
        ts_daemon_start(&D, conninfo, "timezone = Europe/Berlin\nday_cutoff = 04:00\nreport_max_days = 62\n"), 0);
    ts_sql(conninfo,
           "INSERT INTO people (id, employee_no, name, department) VALUES"
           " ('" A_ID "', 'E-A', '" A_NAME "', 'ICU'), ('" B_ID "', 'E-B', '" B_NAME "', 'ICU'),"
           " ('" C_ID "', 'E-C', 'Evening, Eve', 'ER'), ('" D_ID "', 'E-D', 'Lab Person', 'Lab')");
    post_ok("/api/v1/shifts",
            "{\"name\":\"Day\",\"start\":\"08:00\",\"end\":\"16:00\",\"grace_late_min\":5,"
            "\"grace_early_min\":5,\"break_min\":30}",
            201, day_id);
    post_ok("/api/v1/shifts",
            "{\"name\":\"Night\",\"start\":\"20:00\",\"end\":\"05:00\",\"grace_late_min\":5,"
            "\"grace_early_min\":5,\"break_min\":30}",
            201, night_id);
    post_ok("/api/v1/shifts",
            "{\"name\":\"Evening\",\"start\":\"14:00\",\"end\":\"22:00\",\"grace_late_min\":10,"
            "\"grace_early_min\":10}",
            201, eve_id);
    char b[512];
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"department\":\"ICU\",\"valid_from\":\"2026-02-01\"}", day_id);
    post_ok("/api/v1/schedules", b, 201, NULL);
    snprintf(b, sizeof b,
             "{\"shift_id\":\"%s\",\"person_id\":\"" B_ID "\",\"valid_from\":\"2026-02-01\","
             "\"valid_to\":\"2026-12-31\"}",
             night_id);
    post_ok("/api/v1/schedules", b, 201, NULL);
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"department\":\"ER\",\"valid_from\":\"2026-01-01\",\"valid_to\":null}",
             eve_id);
    post_ok("/api/v1/schedules", b, 201, NULL);

    /* A: 07:55-16:05 every day; 10th absent, 11th late, 12th early, 13th no clock-out */
    series(A_ID, "in", "2026-02-27", "2026-04-02", "07:55", 0, "'2026-03-10','2026-03-11'");
    series(A_ID, "out", "2026-02-27", "2026-04-02", "16:05", 0, "'2026-03-10','2026-03-12','2026-03-13'");
    punch(A_ID, "in", "2026-03-11 08:20");
    punch(A_ID, "out", "2026-03-12 15:00");
    /* B: nights 19:50-05:05 from Feb 28 on; the 15th clocks in at 20:30 and never out */
    series(B_ID, "in", "2026-02-28", "2026-04-01", "19:50", 0, "'2026-03-15'");
    series(B_ID, "out", "2026-02-28", "2026-04-01", "05:05", 1, "'2026-03-15'");
    punch(B_ID, "in", "2026-03-15 20:30");
    /* C: evenings 13:58-22:03; 20th absent, 21st within grace both ends, 23rd late and early;
     * on the 22nd a voided clock-out at 18:00 must not count */
    series(C_ID, "in", "2026-02-27", "2026-04-02", "13:58", 0, "'2026-03-20','2026-03-21','2026-03-23'");
    series(C_ID, "out", "2026-02-27", "2026-04-02", "22:03", 0, "'2026-03-20','2026-03-21','2026-03-23'");
    punch(C_ID, "in", "2026-03-21 14:09");
    punch(C_ID, "out", "2026-03-21 21:52");
    punch(C_ID, "in", "2026-03-23 14:30");
    punch(C_ID, "out", "2026-03-23 21:30");
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source, voided_at) VALUES (gen_random_uuid(), '" C_ID
           "', 'out',"
           " timestamp '2026-03-22 18:00' AT TIME ZONE 'Europe/Berlin', 'camera', now())");
    /* D: no schedule, works 10:00-12:00 on the 7th */
    punch(D_ID, "in", "2026-03-07 10:00");
    punch(D_ID, "out", "2026-03-07 12:00");
}

static void fx_stop(void)
{
    if (D.pid > 0) ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    ts_db_drop(conninfo);
}

/* ---- report helpers ---------------------------------------------------------------------------------------- */

static json_t *report(const char *query, long *st)
{
    return ts_call("GET", url("/api/v1/attendance?%s", query), D.hr_token, NULL, st);
}

static json_t *find_row(json_t *items, const char *person, const char *date)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        if (strcmp(ts_jstr(r, "person_id"), person) == 0 && strcmp(ts_jstr(r, "date"), date) == 0) return r;
    }
    ck_abort_msg("no row for %s on %s", person, date);
    return NULL;
}

static void eq_str_or_null(json_t *r, const char *k, const char *want)
{
    json_t *v = json_object_get(r, k);
    if (!want) {
        ck_assert_msg(json_is_null(v), "%s: expected null", k);
        return;
    }
    ck_assert_msg(json_is_string(v), "%s: expected a string", k);
    ck_assert_msg(strcmp(json_string_value(v), want) == 0, "%s on %s: %s, expected %s", k, ts_jstr(r, "date"),
                  json_string_value(v), want);
}

/* Check a row: shift name (NULL: none), scheduled start/end, first in, last out, minutes, status. */
static void expect_row(json_t *items, const char *person, const char *date, const char *shift, const char *s_start,
                       const char *s_end, const char *in, const char *out, long long worked, long long late,
                       long long early, long long over, const char *status)
{
    json_t *r = find_row(items, person, date);
    json_t *sh = json_object_get(r, "shift");
    if (shift) ck_assert_str_eq(ts_jstr(sh, "name"), shift);
    else ck_assert(json_is_null(sh));
    eq_str_or_null(r, "scheduled_start", s_start);
    eq_str_or_null(r, "scheduled_end", s_end);
    eq_str_or_null(r, "first_in", in);
    eq_str_or_null(r, "last_out", out);
    ck_assert_msg(ts_jint(r, "worked_minutes") == worked, "%s %s worked %lld, expected %lld", person, date,
                  ts_jint(r, "worked_minutes"), worked);
    ck_assert_msg(ts_jint(r, "late_minutes") == late, "%s %s late %lld", person, date, ts_jint(r, "late_minutes"));
    ck_assert_msg(ts_jint(r, "early_leave_minutes") == early, "%s %s early %lld", person, date,
                  ts_jint(r, "early_leave_minutes"));
    ck_assert_msg(ts_jint(r, "overtime_minutes") == over, "%s %s overtime %lld", person, date,
                  ts_jint(r, "overtime_minutes"));
    ck_assert_msg(strcmp(ts_jstr(r, "status"), status) == 0, "%s %s status %s, expected %s", person, date,
                  ts_jstr(r, "status"), status);
}

/* The report for query must be this problem. */
static void bad(const char *query, long want, const char *code, const char *field)
{
    long st;
    json_t *j = report(query, &st);
    ts_expect_problem(j, st, want, code, field);
}

/* ---- tests --------------------------------------------------------------------------------------------------- */

START_TEST(month_report)
{
    long st;
    json_t *j = report("from=2026-03-01&to=2026-04-01", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "timezone"), "Europe/Berlin");
    json_t *items = json_object_get(j, "items");
    ck_assert_int_eq(json_array_size(items), 4 * 32);
    /* A, day shift (department's) */
    expect_row(items, A_ID, "2026-03-02", "Day", "2026-03-02T08:00:00+01:00", "2026-03-02T16:00:00+01:00",
               "2026-03-02T07:55:00+01:00", "2026-03-02T16:05:00+01:00", 460, 0, 0, 10, "present");
    expect_row(items, A_ID, "2026-03-30", "Day", "2026-03-30T08:00:00+02:00", "2026-03-30T16:00:00+02:00",
               "2026-03-30T07:55:00+02:00", "2026-03-30T16:05:00+02:00", 460, 0, 0, 10, "present");
    expect_row(items, A_ID, "2026-03-10", "Day", "2026-03-10T08:00:00+01:00", "2026-03-10T16:00:00+01:00", NULL, NULL,
               0, 0, 0, 0, "absent");
    expect_row(items, A_ID, "2026-03-11", "Day", "2026-03-11T08:00:00+01:00", "2026-03-11T16:00:00+01:00",
               "2026-03-11T08:20:00+01:00", "2026-03-11T16:05:00+01:00", 435, 20, 0, 0, "late");
    expect_row(items, A_ID, "2026-03-12", "Day", "2026-03-12T08:00:00+01:00", "2026-03-12T16:00:00+01:00",
               "2026-03-12T07:55:00+01:00", "2026-03-12T15:00:00+01:00", 395, 0, 60, 0, "early_leave");
    expect_row(items, A_ID, "2026-03-13", "Day", "2026-03-13T08:00:00+01:00", "2026-03-13T16:00:00+01:00",
               "2026-03-13T07:55:00+01:00", NULL, 0, 0, 0, 0, "missing_out");
    /* B, own night shift beats the department's day shift; Feb 28's night stays off March 1 */
    expect_row(items, B_ID, "2026-03-01", "Night", "2026-03-01T20:00:00+01:00", "2026-03-02T05:00:00+01:00",
               "2026-03-01T19:50:00+01:00", "2026-03-02T05:05:00+01:00", 525, 0, 0, 15, "present");
    /* the 23 h night: 19:50 CET to 05:05 CEST is 8 h 15 min */
    expect_row(items, B_ID, "2026-03-28", "Night", "2026-03-28T20:00:00+01:00", "2026-03-29T05:00:00+02:00",
               "2026-03-28T19:50:00+01:00", "2026-03-29T05:05:00+02:00", 465, 0, 0, 15, "present");
    /* its boundaries: midway between consecutive nights, across the DST change */
    json_t *night = find_row(items, B_ID, "2026-03-28");
    eq_str_or_null(night, "day_from", "2026-03-28T12:30:00+01:00");
    eq_str_or_null(night, "day_until", "2026-03-29T12:30:00+02:00");
    /* a day shift's work day runs from cut-off to cut-off */
    json_t *day = find_row(items, A_ID, "2026-03-11");
    eq_str_or_null(day, "day_from", "2026-03-11T04:00:00+01:00");
    eq_str_or_null(day, "day_until", "2026-03-12T04:00:00+01:00");
    /* across the month boundary, and past the report's last day */
    expect_row(items, B_ID, "2026-03-31", "Night", "2026-03-31T20:00:00+02:00", "2026-04-01T05:00:00+02:00",
               "2026-03-31T19:50:00+02:00", "2026-04-01T05:05:00+02:00", 525, 0, 0, 15, "present");
    expect_row(items, B_ID, "2026-04-01", "Night", "2026-04-01T20:00:00+02:00", "2026-04-02T05:00:00+02:00",
               "2026-04-01T19:50:00+02:00", "2026-04-02T05:05:00+02:00", 525, 0, 0, 15, "present");
    expect_row(items, B_ID, "2026-03-15", "Night", "2026-03-15T20:00:00+01:00", "2026-03-16T05:00:00+01:00",
               "2026-03-15T20:30:00+01:00", NULL, 0, 30, 0, 0, "missing_out");
    /* C, evening shift without a break */
    expect_row(items, C_ID, "2026-03-02", "Evening", "2026-03-02T14:00:00+01:00", "2026-03-02T22:00:00+01:00",
               "2026-03-02T13:58:00+01:00", "2026-03-02T22:03:00+01:00", 485, 0, 0, 5, "present");
    expect_row(items, C_ID, "2026-03-20", "Evening", "2026-03-20T14:00:00+01:00", "2026-03-20T22:00:00+01:00", NULL,
               NULL, 0, 0, 0, 0, "absent");
    expect_row(items, C_ID, "2026-03-21", "Evening", "2026-03-21T14:00:00+01:00", "2026-03-21T22:00:00+01:00",
               "2026-03-21T14:09:00+01:00", "2026-03-21T21:52:00+01:00", 463, 0, 0, 0, "present");
    expect_row(items, C_ID, "2026-03-22", "Evening", "2026-03-22T14:00:00+01:00", "2026-03-22T22:00:00+01:00",
               "2026-03-22T13:58:00+01:00", "2026-03-22T22:03:00+01:00", 485, 0, 0, 5, "present");
    expect_row(items, C_ID, "2026-03-23", "Evening", "2026-03-23T14:00:00+01:00", "2026-03-23T22:00:00+01:00",
               "2026-03-23T14:30:00+01:00", "2026-03-23T21:30:00+01:00", 420, 30, 30, 0, "late");
    expect_row(items, C_ID, "2026-03-29", "Evening", "2026-03-29T14:00:00+02:00", "2026-03-29T22:00:00+02:00",
               "2026-03-29T13:58:00+02:00", "2026-03-29T22:03:00+02:00", 485, 0, 0, 5, "present");
    /* D: no schedule */
    expect_row(items, D_ID, "2026-03-07", NULL, NULL, NULL, "2026-03-07T10:00:00+01:00", "2026-03-07T12:00:00+01:00",
               120, 0, 0, 120, "present");
    expect_row(items, D_ID, "2026-03-08", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, "off");
    json_t *r = find_row(items, A_ID, "2026-03-02");
    ck_assert_str_eq(ts_jstr(r, "name"), A_NAME);
    ck_assert_str_eq(ts_jstr(r, "employee_no"), "E-A");
    ck_assert_str_eq(ts_jstr(r, "department"), "ICU");
    json_decref(j);

    /* filters */
    j = report("from=2026-03-01&to=2026-03-31&department=ICU", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 2 * 31);
    json_decref(j);
    j = report("from=2026-03-28&to=2026-03-28&person_id=" B_ID, &st);
    ck_assert_int_eq(st, 200);
    items = json_object_get(j, "items");
    ck_assert_int_eq(json_array_size(items), 1);
    expect_row(items, B_ID, "2026-03-28", "Night", "2026-03-28T20:00:00+01:00", "2026-03-29T05:00:00+02:00",
               "2026-03-28T19:50:00+01:00", "2026-03-29T05:05:00+02:00", 465, 0, 0, 15, "present");
    json_decref(j);

    /* every read is audited */
    char out[64];
    ck_assert_int_eq(ts_psql(conninfo,
                             "SELECT count(*) FROM audit_log WHERE action = 'attendance.read' AND outcome = 'ok'", out,
                             sizeof out),
                     0);
    ck_assert_int_ge(atoi(out), 3);
    ck_assert_int_eq(
        ts_psql(conninfo, "SELECT count(*) FROM audit_log WHERE action = 'attendance.read' AND target_id = '" B_ID "'",
                out, sizeof out),
        0);
    ck_assert_int_eq(atoi(out), 1);
}
END_TEST

/* ---- CSV ---------------------------------------------------------------------------------------------------- */

/* RFC 4180 parser: rows of fields (malloc'd); returns the row count. */
struct csv {
    char ***rows;
    size_t *nf;
    size_t n;
};

static void csv_parse(const char *s, size_t len, struct csv *c)
{
    memset(c, 0, sizeof *c);
    size_t i = 0;
    while (i < len) {
        char **fields = NULL;
        size_t nf = 0;
        for (;;) {
            char *f = malloc(len + 1);
            size_t fl = 0;
            if (s[i] == '"') {
                i++;
                for (;;) {
                    ck_assert_msg(i < len, "unterminated quoted field");
                    if (s[i] == '"') {
                        if (i + 1 < len && s[i + 1] == '"') {
                            f[fl++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    f[fl++] = s[i++];
                }
            } else {
                while (i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
                    ck_assert_msg(s[i] != '"', "bare quote in an unquoted field");
                    f[fl++] = s[i++];
                }
            }
            f[fl] = '\0';
            fields = realloc(fields, (nf + 1) * sizeof *fields);
            fields[nf++] = f;
            if (i < len && s[i] == ',') {
                i++;
                continue;
            }
            ck_assert_msg(i + 1 < len + 1 && s[i] == '\r' && s[i + 1] == '\n', "record not ended by CRLF at %zu", i);
            i += 2;
            break;
        }
        c->rows = realloc(c->rows, (c->n + 1) * sizeof *c->rows);
        c->nf = realloc(c->nf, (c->n + 1) * sizeof *c->nf);
        c->rows[c->n] = fields;
        c->nf[c->n++] = nf;
    }
}

static void csv_free(struct csv *c)
{
    for (size_t r = 0; r < c->n; r++) {
        for (size_t f = 0; f < c->nf[r]; f++) free(c->rows[r][f]);
        free(c->rows[r]);
    }
    free(c->rows);
    free(c->nf);
}

static const char *csv_get(const struct csv *c, size_t row, const char *col)
{
    for (size_t f = 0; f < c->nf[0]; f++)
        if (strcmp(c->rows[0][f], col) == 0) return c->rows[row][f];
    ck_abort_msg("no column %s", col);
    return NULL;
}

static size_t csv_find(const struct csv *c, const char *person, const char *date)
{
    for (size_t r = 1; r < c->n; r++)
        if (strcmp(csv_get(c, r, "person_id"), person) == 0 && strcmp(csv_get(c, r, "date"), date) == 0) return r;
    ck_abort_msg("no CSV row for %s %s", person, date);
    return 0;
}

/* GET with an Accept header (ts_http sends none). */
static void get_accept(const char *u, const char *accept, struct ts_resp *r)
{
    char acc[160];
    snprintf(acc, sizeof acc, "Accept: %s", accept);
    ck_assert_int_eq(ts_http_ex(&(struct ts_http_opts){.header = acc}, "GET", u, D.hr_token, NULL, 0, NULL, r), 0);
}

static void check_csv(const struct ts_resp *r, size_t want_rows)
{
    ck_assert_int_eq(r->status, 200);
    ck_assert_msg(strncmp(r->content_type, "text/csv", 8) == 0, "content type %s", r->content_type);
    struct csv c;
    csv_parse(r->body, r->len, &c);
    ck_assert_int_eq(c.n, want_rows + 1);
    ck_assert_str_eq(c.rows[0][0], "person_id");
    ck_assert_int_eq(c.nf[0], 15);
    for (size_t i = 1; i < c.n; i++) ck_assert_int_eq(c.nf[i], 15);
    size_t a = csv_find(&c, A_ID, "2026-03-11");
    ck_assert_str_eq(csv_get(&c, a, "name"), A_NAME);
    ck_assert_str_eq(csv_get(&c, a, "employee_no"), "E-A");
    ck_assert_str_eq(csv_get(&c, a, "shift"), "Day");
    ck_assert_str_eq(csv_get(&c, a, "first_in"), "2026-03-11T08:20:00+01:00");
    ck_assert_str_eq(csv_get(&c, a, "last_out"), "2026-03-11T16:05:00+01:00");
    ck_assert_str_eq(csv_get(&c, a, "worked_minutes"), "435");
    ck_assert_str_eq(csv_get(&c, a, "late_minutes"), "20");
    ck_assert_str_eq(csv_get(&c, a, "status"), "late");
    size_t b = csv_find(&c, B_ID, "2026-03-28");
    ck_assert_str_eq(csv_get(&c, b, "name"), B_NAME);
    ck_assert_str_eq(csv_get(&c, b, "last_out"), "2026-03-29T05:05:00+02:00");
    ck_assert_str_eq(csv_get(&c, b, "overtime_minutes"), "15");
    size_t m = csv_find(&c, A_ID, "2026-03-13");
    ck_assert_str_eq(csv_get(&c, m, "last_out"), "");
    ck_assert_str_eq(csv_get(&c, m, "status"), "missing_out");
    csv_free(&c);
}

START_TEST(csv_round_trip)
{
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url("/api/v1/attendance?from=2026-03-01&to=2026-03-31&department=ICU&format=csv"),
                             D.hr_token, NULL, 0, NULL, &r),
                     0);
    check_csv(&r, 62);
    ts_resp_free(&r);
    get_accept(url("/api/v1/attendance?from=2026-03-01&to=2026-03-31&department=ICU"), "text/csv", &r);
    check_csv(&r, 62);
    ts_resp_free(&r);
    /* format=json wins over Accept */
    get_accept(url("/api/v1/attendance?from=2026-03-01&to=2026-03-01&format=json"), "text/csv", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(r.content_type, "application/json", 16) == 0, "%s", r.content_type);
    ts_resp_free(&r);
}
END_TEST

START_TEST(bad_parameters)
{
    long st;
    bad("to=2026-03-01", 400, "bad_parameter", "from");
    bad("from=2026-13-01&to=2026-03-01", 400, "bad_parameter", "from");
    bad("from=2026-03-01&to=March", 400, "bad_parameter", "to");
    bad("from=2026-02-30&to=2026-03-01", 400, "bad_parameter", "from");
    bad("from=2026-03-02&to=2026-03-01", 422, "invalid_field", "to");
    bad("from=2026-01-01&to=2026-03-04", 422, "invalid_field", "to"); /* 63 days */
    bad("from=2026-03-01&to=2026-03-01&department=Nowhere", 422, "invalid_field", "department");
    bad("from=2026-03-01&to=2026-03-01&person_id=x", 400, "bad_parameter", "person_id");
    bad("from=2026-03-01&to=2026-03-01&person_id=e0000000-0000-4000-8000-00000000000e", 422, "invalid_field",
        "person_id");
    bad("from=2026-03-01&to=2026-03-01&dept=ICU", 400, "bad_parameter", "dept");
    bad("from=2026-03-01&to=2026-03-01&format=xml", 400, "bad_parameter", "format");
    json_t *j = report("from=2026-01-01&to=2026-03-03", &st); /* exactly 62 days */
    ck_assert_int_eq(st, 200);
    json_decref(j);
    j = ts_call("GET", url("/api/v1/attendance?from=2026-03-01&to=2026-03-01"), NULL, NULL, &st);
    ck_assert_int_eq(st, 401);
    json_decref(j);
}
END_TEST

START_TEST(shift_and_schedule_api)
{
    long st;
    char b[512], id[40], sid[40];
    /* the list holds the three fixture shifts (hr may read it) */
    json_t *l = ts_call("GET", url("/api/v1/shifts"), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_t *items = json_object_get(l, "items");
    ck_assert_int_ge(json_array_size(items), 3);
    int named = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *nm = json_string_value(json_object_get(json_array_get(items, i), "name"));
        named += nm && (!strcmp(nm, "Day") || !strcmp(nm, "Night") || !strcmp(nm, "Evening"));
    }
    ck_assert_int_eq(named, 3);
    json_decref(l);
    /* duplicates and bad input */
    json_t *j = ts_call("POST", url("/api/v1/shifts"), D.admin_token,
                        "{\"name\":\"Day\",\"start\":\"07:00\",\"end\":\"15:00\"}", &st);
    ts_expect_problem(j, st, 409, "conflict", "name");
    j = ts_call("POST", url("/api/v1/shifts"), D.admin_token, "{\"name\":\"X\",\"start\":\"24:00\",\"end\":\"15:00\"}",
                &st);
    ts_expect_problem(j, st, 422, "invalid_field", "start");
    j = ts_call("POST", url("/api/v1/shifts"), D.admin_token, "{\"name\":\"X\",\"start\":\"07:00\",\"end\":\"7:5 \"}",
                &st);
    ts_expect_problem(j, st, 422, "invalid_field", "end");
    j = ts_call("POST", url("/api/v1/shifts"), D.admin_token,
                "{\"name\":\"X\",\"start\":\"07:00\",\"end\":\"15:00\",\"break_min\":-1}", &st);
    ts_expect_problem(j, st, 422, "invalid_field", "break_min");
    j = ts_call("POST", url("/api/v1/shifts"), D.admin_token, "{\"start\":\"07:00\",\"end\":\"15:00\"}", &st);
    ts_expect_problem(j, st, 422, "invalid_field", "name");
    j = ts_call("POST", url("/api/v1/shifts"), D.hr_token, "{\"name\":\"X\",\"start\":\"07:00\",\"end\":\"15:00\"}",
                &st);
    ck_assert_int_eq(st, 403);
    json_decref(j);
    /* create, read (hr), patch, delete */
    post_ok("/api/v1/shifts", "{\"name\":\"Early \\u65e9\",\"start\":\"06:00\",\"end\":\"14:00\"}", 201, id);
    j = ts_call("GET", url("/api/v1/shifts/%s", id), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "name"), "Early \xe6\x97\xa9");
    ck_assert_str_eq(ts_jstr(j, "start"), "06:00");
    ck_assert(json_is_false(json_object_get(j, "overnight")));
    json_decref(j);
    j = ts_call("PATCH", url("/api/v1/shifts/%s", id), D.admin_token, "{\"end\":\"02:00\",\"grace_late_min\":7}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "end"), "02:00");
    ck_assert(json_is_true(json_object_get(j, "overnight")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "grace_late_min")), 7);
    json_decref(j);
    j = ts_call("PATCH", url("/api/v1/shifts/%s", id), D.admin_token, "{\"name\":\"Night\"}", &st);
    ts_expect_problem(j, st, 409, "conflict", "name");
    j = ts_call("GET", url("/api/v1/shifts"), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
    /* schedules: exactly one target, dates, overlap, unknown references */
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"valid_from\":\"2026-05-01\"}", id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 422, "invalid_field", "department");
    snprintf(b, sizeof b,
             "{\"shift_id\":\"%s\",\"department\":\"ICU\",\"person_id\":\"" A_ID "\",\"valid_from\":\"2026-05-01\"}",
             id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 422, "invalid_field", "person_id");
    snprintf(b, sizeof b,
             "{\"shift_id\":\"%s\",\"person_id\":\"" A_ID
             "\",\"valid_from\":\"2026-05-10\",\"valid_to\":\"2026-05-01\"}",
             id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 422, "invalid_field", "valid_to");
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"person_id\":\"" A_ID "\",\"valid_from\":\"2026-02-30\"}", id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 422, "invalid_field", "valid_from");
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token,
                "{\"shift_id\":\"f0000000-0000-4000-8000-00000000000f\",\"person_id\":\"" A_ID
                "\",\"valid_from\":\"2026-05-01\"}",
                &st);
    ts_expect_problem(j, st, 422, "invalid_field", "shift_id");
    snprintf(
        b, sizeof b,
        "{\"shift_id\":\"%s\",\"person_id\":\"e0000000-0000-4000-8000-00000000000e\",\"valid_from\":\"2026-05-01\"}",
        id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 422, "invalid_field", "person_id");
    snprintf(b, sizeof b,
             "{\"shift_id\":\"%s\",\"department\":\"ER\",\"valid_from\":\"2026-06-01\",\"valid_to\":\"2026-06-30\"}",
             id);
    j = ts_call("POST", url("/api/v1/schedules"), D.admin_token, b, &st);
    ts_expect_problem(j, st, 409, "conflict", NULL); /* ER's evening schedule is open-ended */
    snprintf(b, sizeof b,
             "{\"shift_id\":\"%s\",\"person_id\":\"" A_ID
             "\",\"valid_from\":\"2027-01-01\",\"valid_to\":\"2027-01-31\"}",
             id);
    post_ok("/api/v1/schedules", b, 201, sid);
    j = ts_call("GET", url("/api/v1/schedules?person_id=" A_ID), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    j = ts_call("PATCH", url("/api/v1/schedules/%s", sid), D.admin_token, "{\"valid_to\":null}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_null(json_object_get(j, "valid_to")));
    json_decref(j);
    j = ts_call("PATCH", url("/api/v1/schedules/%s", sid), D.admin_token,
                "{\"valid_from\":\"2028-01-01\",\"valid_to\":\"2027-01-01\"}", &st);
    ts_expect_problem(j, st, 422, "invalid_field", "valid_to");
    /* a shift in use cannot go */
    j = ts_call("DELETE", url("/api/v1/shifts/%s", id), D.admin_token, NULL, &st);
    ts_expect_problem(j, st, 409, "conflict", NULL);
    j = ts_call("DELETE", url("/api/v1/schedules/%s", sid), D.admin_token, NULL, &st);
    ck_assert_int_eq(st, 204);
    json_decref(j);
    j = ts_call("DELETE", url("/api/v1/shifts/%s", id), D.admin_token, NULL, &st);
    ck_assert_int_eq(st, 204);
    json_decref(j);
    j = ts_call("GET", url("/api/v1/shifts/%s", id), D.hr_token, NULL, &st);
    ts_expect_problem(j, st, 404, "not_found", NULL);
    char out[64];
    ck_assert_int_eq(ts_psql(conninfo,
                             "SELECT count(*) FROM audit_log WHERE action LIKE 'shift.%' OR action LIKE 'schedule.%'",
                             out, sizeof out),
                     0);
    ck_assert_int_ge(atoi(out), 3 + 3 + 2 + 2 + 2);
}
END_TEST

/* Item 4 meets the report: a manual clock-out fixes a missing_out day; voiding it restores it. */
START_TEST(manual_correction_recomputes)
{
    long st;
    const char *q = "from=2026-03-13&to=2026-03-13&person_id=" A_ID;
    json_t *j = ts_call("POST", url("/api/v1/punches"), D.hr_token,
                        "{\"person_id\":\"" A_ID "\",\"kind\":\"out\",\"ts\":\"2026-03-13T16:00:00+01:00\","
                        "\"reason\":\"forgot to clock out\"}",
                        &st);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : strdup("");
    ck_assert_msg(st == 201, "manual punch: %ld %s", st, txt);
    free(txt);
    char id[40];
    snprintf(id, sizeof id, "%s", ts_jstr(j, "id"));
    json_decref(j);
    j = report(q, &st);
    ck_assert_int_eq(st, 200);
    expect_row(json_object_get(j, "items"), A_ID, "2026-03-13", "Day", "2026-03-13T08:00:00+01:00",
               "2026-03-13T16:00:00+01:00", "2026-03-13T07:55:00+01:00", "2026-03-13T16:00:00+01:00", 485 - 30, 0, 0, 5,
               "present");
    json_decref(j);
    j = ts_call("DELETE", url("/api/v1/punches/%s", id), D.hr_token, "{\"reason\":\"entered by mistake\"}", &st);
    ck_assert_msg(st == 200 || st == 204, "void: %ld", st);
    json_decref(j);
    j = report(q, &st);
    ck_assert_int_eq(st, 200);
    expect_row(json_object_get(j, "items"), A_ID, "2026-03-13", "Day", "2026-03-13T08:00:00+01:00",
               "2026-03-13T16:00:00+01:00", "2026-03-13T07:55:00+01:00", NULL, 0, 0, 0, 0, "missing_out");
    json_decref(j);
}
END_TEST

/* First column of the first row of a query, as an integer. */
static long long count(const char *q)
{
    char out[64];
    ck_assert_msg(ts_psql(conninfo, q, out, sizeof out) == 0, "psql failed: %.300s", q);
    return atoll(out);
}

/* A write answered with an error (5xx). */
static void expect_refused(const char *method, const char *path, const char *json)
{
    long st;
    json_t *j = ts_call(method, url("%s", path), D.admin_token, json, &st);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : strdup("(no body)");
    ck_assert_msg(st == 500, "%s %s: %ld %s", method, path, st, txt);
    free(txt);
    json_decref(j);
}

/* A shift or schedule change whose audit row cannot be written does not happen: the change and its
 * audit row commit together or not at all. A trigger makes the audit insert fail for these actions. */
START_TEST(write_without_audit_row_rolls_back)
{
    char sid[40], spare[40], scid[40], b[512], q[256];
    post_ok("/api/v1/shifts", "{\"name\":\"Audited\",\"start\":\"09:00\",\"end\":\"17:00\"}", 201, sid);
    post_ok("/api/v1/shifts", "{\"name\":\"Spare\",\"start\":\"10:00\",\"end\":\"18:00\"}", 201, spare);
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"person_id\":\"%s\",\"valid_from\":\"2027-01-01\"}", sid, D_ID);
    post_ok("/api/v1/schedules", b, 201, scid);
    ts_sql(conninfo,
           "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
           "IF NEW.action ~ '^(shift|schedule)[.]' THEN RAISE EXCEPTION 'audit row refused by the test'; END IF; "
           "RETURN NEW; END$$");
    ts_sql(conninfo,
           "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION "
           "test_refuse_audit()");
    long long audits = count("SELECT count(*) FROM audit_log WHERE action ~ '^(shift|schedule)[.]'");

    expect_refused("POST", "/api/v1/shifts", "{\"name\":\"Unaudited\",\"start\":\"09:00\",\"end\":\"17:00\"}");
    ck_assert_int_eq(count("SELECT count(*) FROM shifts WHERE name = 'Unaudited'"), 0);
    snprintf(b, sizeof b, "/api/v1/shifts/%s", sid);
    expect_refused("PATCH", b, "{\"name\":\"Renamed\",\"break_min\":30}");
    snprintf(q, sizeof q, "SELECT count(*) FROM shifts WHERE id = '%s' AND name = 'Audited' AND break_min = 0", sid);
    ck_assert_int_eq(count(q), 1);
    snprintf(b, sizeof b, "/api/v1/shifts/%s", spare);
    expect_refused("DELETE", b, NULL);
    snprintf(q, sizeof q, "SELECT count(*) FROM shifts WHERE id = '%s'", spare);
    ck_assert_int_eq(count(q), 1);

    char body[256];
    snprintf(body, sizeof body, "{\"shift_id\":\"%s\",\"department\":\"Unaudited\",\"valid_from\":\"2027-01-01\"}",
             sid);
    expect_refused("POST", "/api/v1/schedules", body);
    ck_assert_int_eq(count("SELECT count(*) FROM schedules WHERE department = 'Unaudited'"), 0);
    snprintf(b, sizeof b, "/api/v1/schedules/%s", scid);
    expect_refused("PATCH", b, "{\"valid_from\":\"2027-02-01\",\"valid_to\":\"2027-12-31\"}");
    snprintf(q, sizeof q,
             "SELECT count(*) FROM schedules WHERE id = '%s' AND valid_from = '2027-01-01' AND valid_to IS NULL", scid);
    ck_assert_int_eq(count(q), 1);
    expect_refused("DELETE", b, NULL);
    snprintf(q, sizeof q, "SELECT count(*) FROM schedules WHERE id = '%s'", scid);
    ck_assert_int_eq(count(q), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action ~ '^(shift|schedule)[.]'"), audits);

    /* with the audit log writable again the same writes go through, each with its row */
    ts_sql(conninfo, "DROP TRIGGER test_refuse_audit ON audit_log");
    ts_sql(conninfo, "DROP FUNCTION test_refuse_audit()");
    long st;
    json_t *j = ts_call("DELETE", url("%s", b), D.admin_token, NULL, &st);
    ck_assert_int_eq(st, 204);
    json_decref(j);
    const char *ids[] = {sid, spare};
    for (int i = 0; i < 2; i++) {
        j = ts_call("DELETE", url("/api/v1/shifts/%s", ids[i]), D.admin_token, NULL, &st);
        ck_assert_int_eq(st, 204);
        json_decref(j);
    }
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action ~ '^(shift|schedule)[.]'"), audits + 3);
}
END_TEST

Suite *attendance_api_suite(void)
{
    Suite *s = suite_create("attendance_api");
    ts_tcase(s, "report", 600, fx_start, fx_stop, month_report, csv_round_trip, bad_parameters, shift_and_schedule_api,
             manual_correction_recomputes, write_without_audit_row_rolls_back, NULL);
    return s;
}
