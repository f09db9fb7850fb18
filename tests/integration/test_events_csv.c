/* GET /api/v1/events as CSV through the real daemon: hard names round-trip through python3's csv
 * module, every matching event across several internal batches, filters, pseudonymous tokens, the
 * limit/format/Accept refusals, distinct ETags for the two representations, and cached JSON pages that
 * are never stale after a write and audited once per token. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "attendd/store_events.h"
#include "support.h"
#include "support_api.h"

static char conninfo[600];
static struct ts_daemon D;

#define P_COMMA "a1000000-0000-4000-8000-000000000001"
#define P_NEWLINE "a1000000-0000-4000-8000-000000000002"
#define P_CJK "a1000000-0000-4000-8000-000000000003"
#define CAM1 "c1000000-0000-4000-8000-000000000001"
#define CAM2 "c1000000-0000-4000-8000-000000000002"
#define N_COMMA "Smith, John \"JJ\""
#define N_NEWLINE "Line one\r\nline two\nthree"
#define N_CJK \
    "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e, \xe7\x9c\x8b\xe8\xad\xb7\xe5\xb8\xab" /* 山田 太郎, 看護師 */
/* P_COMMA's camera events: more than two export batches */
#define BULK (2 * EVENTS_EXPORT_BATCH + 345)

static char etag_seen[128];

static char vary_seen[128];

/* GET path (after the base URL) with token and an optional Accept header; its ETag and Vary headers
 * into etag_seen and vary_seen ("" when absent). */
static void get(const char *path, const char *token, const char *accept, struct ts_resp *r)
{
    char acc[200];
    snprintf(acc, sizeof acc, "Accept: %s", accept ? accept : "");
    struct ts_http_opts o = {.header = accept ? acc : NULL, .timeout_ms = 60000};
    ck_assert_msg(ts_http_ex(&o, "GET", ts_url(&D, path), token, NULL, 0, NULL, r) == 0, "GET %s failed", path);
    if (!ts_resp_header(r, "ETag", etag_seen, sizeof etag_seen)) etag_seen[0] = '\0';
    if (!ts_resp_header(r, "Vary", vary_seen, sizeof vary_seen)) vary_seen[0] = '\0';
}

/* The body parsed by python3's csv module (strict), as a JSON array of rows of strings. */
static json_t *parse_csv(const struct ts_resp *r)
{
    char path[] = "/tmp/attendd-csv-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, r->body, r->len), (ssize_t)r->len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import csv, json, sys\n"
             "with open(sys.argv[1], newline=\"\", encoding=\"utf-8\", errors=\"strict\") as f:\n"
             "    json.dump(list(csv.reader(f, strict=True)), sys.stdout)' %s",
             path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    json_error_t e;
    json_t *j = json_loadf(p, 0, &e);
    int st = pclose(p);
    unlink(path);
    ck_assert_msg(st == 0 && j != NULL, "python3 csv could not parse the body (%d): %s", st, e.text);
    ck_assert(json_is_array(j));
    return j;
}

static const char *cell(json_t *rows, size_t row, const char *col)
{
    json_t *head = json_array_get(rows, 0);
    for (size_t i = 0; i < json_array_size(head); i++)
        if (strcmp(json_string_value(json_array_get(head, i)), col) == 0) {
            json_t *r = json_array_get(rows, row);
            ck_assert_int_eq(json_array_size(r), json_array_size(head));
            return json_string_value(json_array_get(r, i));
        }
    ck_abort_msg("no column %s", col);
    return NULL;
}

static json_t *get_csv(const char *path, const char *token)
{
    struct ts_resp r;
    get(path, token, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s: %ld %.300s", path, r.status, r.body);
    ck_assert_msg(strncmp(r.content_type, "text/csv", 8) == 0, "content type %s", r.content_type);
    json_t *rows = parse_csv(&r);
    ts_resp_free(&r);
    return rows;
}

static void expect_problem(const char *path, const char *accept, long status, const char *code, const char *field)
{
    struct ts_resp r;
    get(path, D.hr_token, accept, &r);
    ck_assert_msg(r.status == status, "GET %s: %ld %.300s", path, r.status, r.body);
    ck_assert_msg(strncmp(r.content_type, "application/problem+json", 24) == 0, "content type %s", r.content_type);
    ts_expect_problem(ts_json_body(r.body, r.len), r.status, status, code, field);
    ts_resp_free(&r);
}

/* ---- fixture ----------------------------------------------------------------------------------------------- */

static void fx_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, NULL), 0);
    ts_sql(conninfo,
           "INSERT INTO people (id, employee_no, name, department) VALUES"
           " ('" P_COMMA "', 'E,1', '" N_COMMA "', 'ICU'), ('" P_NEWLINE "', 'E\"2', '" N_NEWLINE "', 'ICU'),"
           " ('" P_CJK "', '\xe7\xb7\xa8\xe5\x8f\xb7-3', '" N_CJK "', 'ER')");
    ts_sql(conninfo,
           "INSERT INTO cameras (id, name, url, enabled) VALUES ('" CAM1 "', 'ward 1', 'rtsp://127.0.0.1:1/a', false),"
           " ('" CAM2 "', 'ward 2', 'rtsp://127.0.0.1:1/b', false)");
    char s[1024];
    /* BULK camera events of P_COMMA, one a minute from 2026-01-01, alternating cameras */
    snprintf(s, sizeof s,
             "INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source)"
             " SELECT gen_random_uuid(), '" P_COMMA "', CASE WHEN g %% 2 = 0 THEN '" CAM1 "'::uuid ELSE '" CAM2
             "'::uuid END, CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END::event_kind,"
             " timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', 0.625, 0.96875, 'camera'"
             " FROM generate_series(1, %d) g",
             BULK);
    ts_sql(conninfo, s);
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source) VALUES"
           " (gen_random_uuid(), '" P_NEWLINE "', '" CAM1
           "', 'in', '2026-02-01 07:00:00.123456+00', 0.5, 0.9, 'camera'),"
           " (gen_random_uuid(), '" P_CJK "', '" CAM2 "', 'in', '2026-02-01 07:01:00+00', 0.75, 0.875, 'camera')");
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source, reason, created_by) VALUES"
           " (gen_random_uuid(), '" P_CJK "', 'out', '2026-02-01 15:00:00+00', 'manual', 'badge, \"forgot\"\nat home',"
           " 'test-hr')");
    /* a voided punch is in no export */
    ts_sql(conninfo,
           "INSERT INTO events (id, person_id, kind, ts, source, reason, created_by, voided_at) VALUES"
           " (gen_random_uuid(), '" P_CJK "', 'in', '2026-02-01 16:00:00+00', 'manual', 'typo', 'test-hr', now())");
}

static void fx_stop(void)
{
    ts_daemon_stop(&D, SIGTERM, 10);
    ts_db_drop(conninfo);
    curl_global_cleanup();
}

/* ---- tests ------------------------------------------------------------------------------------------------- */

START_TEST(names_round_trip)
{
    json_t *rows = get_csv("/api/v1/events?format=csv&since=2026-02-01T00:00:00Z", D.hr_token);
    ck_assert_int_eq(json_array_size(rows), 1 + 3);
    const char *want_head[] = {"id", "person_id",  "employee_no", "name",   "camera_id",  "kind",
                               "ts", "similarity", "liveness",    "source", "created_by", "reason"};
    json_t *head = json_array_get(rows, 0);
    ck_assert_int_eq(json_array_size(head), 12);
    for (size_t i = 0; i < 12; i++) ck_assert_str_eq(json_string_value(json_array_get(head, i)), want_head[i]);
    /* newest first: the manual punch, the CJK camera event, the newline one */
    ck_assert_str_eq(cell(rows, 1, "person_id"), P_CJK);
    ck_assert_str_eq(cell(rows, 1, "name"), N_CJK);
    ck_assert_str_eq(cell(rows, 1, "employee_no"), "\xe7\xb7\xa8\xe5\x8f\xb7-3");
    ck_assert_str_eq(cell(rows, 1, "source"), "manual");
    ck_assert_str_eq(cell(rows, 1, "kind"), "out");
    ck_assert_str_eq(cell(rows, 1, "camera_id"), "");
    ck_assert_str_eq(cell(rows, 1, "similarity"), "");
    ck_assert_str_eq(cell(rows, 1, "reason"), "badge, \"forgot\"\nat home");
    ck_assert_str_eq(cell(rows, 1, "created_by"), "test-hr");
    ck_assert_str_eq(cell(rows, 1, "ts"), "2026-02-01T15:00:00.000000Z");
    ck_assert_str_eq(cell(rows, 2, "camera_id"), CAM2);
    ck_assert_str_eq(cell(rows, 2, "similarity"), "0.75");
    ck_assert_str_eq(cell(rows, 2, "liveness"), "0.875");
    ck_assert_str_eq(cell(rows, 2, "reason"), "");
    ck_assert_str_eq(cell(rows, 3, "name"), N_NEWLINE);
    ck_assert_str_eq(cell(rows, 3, "employee_no"), "E\"2");
    ck_assert_str_eq(cell(rows, 3, "ts"), "2026-02-01T07:00:00.123456Z");
    json_decref(rows);

    /* same rows as the JSON pages: ids in the same order */
    rows = get_csv("/api/v1/events?format=csv&person_id=" P_COMMA "&until=2026-01-01T00:10:00Z", D.hr_token);
    ck_assert_int_eq(json_array_size(rows), 1 + 9);
    ck_assert_str_eq(cell(rows, 1, "name"), N_COMMA);
    ck_assert_str_eq(cell(rows, 1, "employee_no"), "E,1");
    ck_assert_str_eq(cell(rows, 1, "ts"), "2026-01-01T00:09:00.000000Z");
    ck_assert_str_eq(cell(rows, 9, "ts"), "2026-01-01T00:01:00.000000Z");
    struct ts_resp r;
    get("/api/v1/events?person_id=" P_COMMA "&until=2026-01-01T00:10:00Z", D.hr_token, "application/json", &r);
    ck_assert_int_eq(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *items = json_object_get(j, "items");
    ck_assert_int_eq(json_array_size(items), 9);
    for (size_t i = 0; i < 9; i++)
        ck_assert_str_eq(cell(rows, i + 1, "id"), json_string_value(json_object_get(json_array_get(items, i), "id")));
    json_decref(j);
    ts_resp_free(&r);
    json_decref(rows);
}
END_TEST

START_TEST(every_event_across_batches_and_filters)
{
    /* Accept: text/csv, no filter: every live event, each once, newest first */
    struct ts_resp r;
    get("/api/v1/events", D.hr_token, "text/csv", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(r.content_type, "text/csv", 8) == 0, "content type %s", r.content_type);
    json_t *rows = parse_csv(&r);
    ts_resp_free(&r);
    long long live = ts_sql_int(conninfo, "SELECT count(*) FROM events WHERE voided_at IS NULL");
    ck_assert_int_gt(live, 2 * EVENTS_EXPORT_BATCH);
    ck_assert_int_eq((long long)json_array_size(rows) - 1, live);
    char s[256];
    for (size_t i = 1; i + 1 < json_array_size(rows); i++) /* strictly descending (ts, id): no repeats */
        ck_assert_msg(strcmp(cell(rows, i, "ts"), cell(rows, i + 1, "ts")) > 0 ||
                          (strcmp(cell(rows, i, "ts"), cell(rows, i + 1, "ts")) == 0 &&
                           strcmp(cell(rows, i, "id"), cell(rows, i + 1, "id")) > 0),
                      "row %zu out of order", i);
    ck_assert_str_eq(cell(rows, json_array_size(rows) - 1, "ts"), "2026-01-01T00:01:00.000000Z");
    json_decref(rows);

    /* camera filter spanning batches */
    rows = get_csv("/api/v1/events?format=csv&camera_id=" CAM1, D.hr_token);
    ck_assert_int_eq(
        (long long)json_array_size(rows) - 1,
        ts_sql_int(conninfo, "SELECT count(*) FROM events WHERE voided_at IS NULL AND camera_id = '" CAM1 "'"));
    ck_assert_int_gt(json_array_size(rows), EVENTS_EXPORT_BATCH);
    for (size_t i = 1; i < json_array_size(rows); i++) ck_assert_str_eq(cell(rows, i, "camera_id"), CAM1);
    json_decref(rows);

    /* since/until: [since, until) exactly */
    rows = get_csv("/api/v1/events?format=csv&since=2026-01-01T10:00:00Z&until=2026-01-02T03:00:00Z", D.hr_token);
    snprintf(s, sizeof s,
             "SELECT count(*) FROM events WHERE voided_at IS NULL AND ts >= '2026-01-01T10:00:00Z'"
             " AND ts < '2026-01-02T03:00:00Z'");
    ck_assert_int_eq((long long)json_array_size(rows) - 1, ts_sql_int(conninfo, s));
    ck_assert_int_eq(json_array_size(rows) - 1, 17 * 60);
    ck_assert_str_eq(cell(rows, 1, "ts"), "2026-01-02T02:59:00.000000Z");
    ck_assert_str_eq(cell(rows, json_array_size(rows) - 1, "ts"), "2026-01-01T10:00:00.000000Z");
    json_decref(rows);

    /* person filter: only that person */
    rows = get_csv("/api/v1/events?format=csv&person_id=" P_CJK, D.hr_token);
    ck_assert_int_eq(json_array_size(rows) - 1, 2);
    for (size_t i = 1; i < json_array_size(rows); i++) ck_assert_str_eq(cell(rows, i, "person_id"), P_CJK);
    json_decref(rows);

    /* a cursor from a JSON page: the export continues after it */
    get("/api/v1/events?limit=3", D.hr_token, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    ts_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/events?format=csv&cursor=%s",
             json_string_value(json_object_get(j, "next_cursor")));
    json_decref(j);
    rows = get_csv(path, D.hr_token);
    ck_assert_int_eq((long long)json_array_size(rows) - 1, live - 3);
    json_decref(rows);
    /* each export is audited, format named */
    ck_assert_int_ge(
        ts_sql_int(conninfo,
                   "SELECT count(*) FROM audit_log WHERE action = 'event.list' AND detail->>'format' = 'csv'"
                   " AND outcome = 'ok'"),
        6);
}
END_TEST

START_TEST(pseudonymous_sees_no_names)
{
    char tok[64];
    const char *args[] = {"token", "create", "--role", "hr", "--name", "research", "--pseudonymous", NULL};
    ck_assert_int_eq(ts_attendctl(&D, tok, sizeof tok, args), 0);
    tok[strcspn(tok, "\n")] = '\0';
    struct ts_resp r;
    get("/api/v1/events?format=csv&since=2026-02-01T00:00:00Z", tok, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    const char *secrets[] = {P_CJK,  P_NEWLINE, "Line one", "\xe5\xb1\xb1\xe7\x94\xb0",
                             "E\"2", "forgot",  "test-hr",  NULL};
    for (int i = 0; secrets[i]; i++) ck_assert_msg(!strstr(r.body, secrets[i]), "'%s' in the export", secrets[i]);
    json_t *rows = parse_csv(&r);
    ts_resp_free(&r);
    json_t *head = json_array_get(rows, 0);
    ck_assert_int_eq(json_array_size(head), 8);
    ck_assert_str_eq(json_string_value(json_array_get(head, 1)), "person_key");
    ck_assert_int_eq(json_array_size(rows), 4);
    char want[64];
    ck_assert_int_eq(ts_psql(conninfo, "SELECT pseudonym FROM people WHERE id = '" P_CJK "'", want, sizeof want), 0);
    want[strcspn(want, "\n")] = '\0';
    ck_assert_str_eq(cell(rows, 1, "person_key"), want);
    ck_assert_str_eq(cell(rows, 2, "person_key"), want);
    ck_assert_str_eq(cell(rows, 1, "source"), "manual");
    json_decref(rows);
    /* the whole history, several batches: still no person id or name anywhere */
    get("/api/v1/events", tok, "text/csv", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, P_COMMA));
    ck_assert_ptr_null(strstr(r.body, "Smith"));
    ck_assert_ptr_null(strstr(r.body, "E,1"));
    ts_resp_free(&r);
}
END_TEST

START_TEST(refusals_and_etags)
{
    expect_problem("/api/v1/events?format=xml", NULL, 400, "bad_parameter", "format");
    expect_problem("/api/v1/events?format=", NULL, 400, "bad_parameter", "format");
    expect_problem("/api/v1/events", "image/png", 406, "not_acceptable", "Accept");
    expect_problem("/api/v1/events", "text/csv;q=0, application/json;q=0", 406, "not_acceptable", "Accept");
    expect_problem("/api/v1/events?format=csv&limit=10", NULL, 400, "bad_parameter", "limit");
    expect_problem("/api/v1/events?format=csv&since=yesterday", NULL, 400, "bad_parameter", "since");
    expect_problem("/api/v1/events?format=csv&cursor=AAAA", NULL, 400, "bad_parameter", "cursor");
    /* a repeated filter is ambiguous (and would share an ETag and a cached page across its orders) */
    expect_problem("/api/v1/events?person_id=" P_CJK "&person_id=" P_COMMA, NULL, 400, "bad_parameter", "person_id");

    /* negotiation: JSON for application/json and the wildcards, CSV by q */
    struct ts_resp r;
    const char *json_accepts[] = {"application/json", "*/*", "text/html, application/*;q=0.9",
                                  "text/csv;q=0.5, application/json", NULL};
    for (int i = 0; json_accepts[i]; i++) {
        get("/api/v1/events?limit=1", D.hr_token, json_accepts[i], &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strncmp(r.content_type, "application/json", 16) == 0, "%s: %s", json_accepts[i], r.content_type);
        ts_resp_free(&r);
    }
    get("/api/v1/events?since=2026-02-01T00:00:00Z", D.hr_token, "application/json;q=0.4, text/csv", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(r.content_type, "text/csv", 8) == 0, "%s", r.content_type);
    char csv_tag[128];
    snprintf(csv_tag, sizeof csv_tag, "%s", etag_seen);
    ts_resp_free(&r);
    /* format=json overrides Accept */
    get("/api/v1/events?since=2026-02-01T00:00:00Z&format=json", D.hr_token, "text/csv", &r);
    ck_assert_msg(strncmp(r.content_type, "application/json", 16) == 0, "%s", r.content_type);
    ts_resp_free(&r);
    get("/api/v1/events?since=2026-02-01T00:00:00Z", D.hr_token, "application/json", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(csv_tag[0] && etag_seen[0]);
    ck_assert_msg(strcmp(csv_tag, etag_seen) != 0, "JSON and CSV share the ETag %s", csv_tag);
    ck_assert_str_eq(vary_seen, "Accept");
    ts_resp_free(&r);
}
END_TEST

/* ---- the rendered-answer cache (src/http/rcache.c) ------------------------------------------------------- */

static void send_json(const char *method, const char *path, const char *json, long want)
{
    char u[512];
    snprintf(u, sizeof u, "%s%s", D.url, path);
    struct ts_resp r;
    ck_assert_int_eq(ts_http(method, u, D.admin_token, json, strlen(json), "application/json", &r), 0);
    ck_assert_msg(r.status == want, "%s %s: %ld %.300s", method, path, r.status, r.body);
    ts_resp_free(&r);
}

static long long audit_reads(void)
{
    return ts_sql_int(conninfo,
                      "SELECT count(*) FROM audit_log WHERE action = 'event.list' AND detail->>'format' = 'json'");
}

/* the JSON page of the question below, as text */
#define POLL "/api/v1/events?since=2026-02-01T00:00:00Z&limit=10"
static char *poll_page(const char *token)
{
    struct ts_resp r;
    get(POLL, token, NULL, &r);
    ck_assert_msg(r.status == 200, "%ld %.300s", r.status, r.body);
    ck_assert_msg(strncmp(r.content_type, "application/json", 16) == 0, "%s", r.content_type);
    char *b = strdup(r.body);
    ts_resp_free(&r);
    return b;
}

START_TEST(cached_pages_never_stale)
{
    /* a repeat is served from memory: the same bytes, one audit row for the token, not two */
    char *first = poll_page(D.hr_token);
    long long audited = audit_reads();
    char *again = poll_page(D.hr_token);
    ck_assert_str_eq(again, first);
    ck_assert_int_eq(audit_reads(), audited);
    free(again);
    /* another token reading the same cached answer is audited for it */
    again = poll_page(D.admin_token);
    ck_assert_str_eq(again, first);
    ck_assert_int_eq(audit_reads(), audited + 1);
    free(again);

    /* a write (a manual punch): the next poll shows it at once */
    send_json("POST", "/api/v1/punches",
              "{\"person_id\":\"" P_NEWLINE "\",\"kind\":\"out\",\"ts\":\"2026-03-01T12:00:00Z\","
              "\"reason\":\"cache check\"}",
              201);
    char *after = poll_page(D.hr_token);
    ck_assert_ptr_nonnull(strstr(after, "cache check"));
    ck_assert_ptr_nonnull(strstr(after, "2026-03-01T12:00:00.000000Z"));
    ck_assert_int_eq(audit_reads(), audited + 2); /* a new answer: audited again */
    free(after);

    /* a rename: no cached page keeps the old name */
    after = poll_page(D.hr_token);
    ck_assert_ptr_nonnull(strstr(after, "Line one"));
    free(after);
    send_json("PATCH", "/api/v1/people/" P_NEWLINE, "{\"name\":\"Renamed Person\"}", 200);
    after = poll_page(D.hr_token);
    ck_assert_ptr_null(strstr(after, "Line one"));
    ck_assert_ptr_nonnull(strstr(after, "Renamed Person"));
    free(after);

    /* the same question from a pseudonymous token never gets the identified answer */
    char tok[64];
    const char *args[] = {"token", "create", "--role", "hr", "--name", "research-2", "--pseudonymous", NULL};
    ck_assert_int_eq(ts_attendctl(&D, tok, sizeof tok, args), 0);
    tok[strcspn(tok, "\n")] = '\0';
    after = poll_page(tok);
    ck_assert_ptr_null(strstr(after, "Renamed Person"));
    ck_assert_ptr_null(strstr(after, P_NEWLINE));
    ck_assert_ptr_nonnull(strstr(after, "person_key"));
    free(after);
    free(first);
}
END_TEST

Suite *events_csv_suite(void)
{
    Suite *s = suite_create("events_csv");
    /* cached_pages_never_stale last: it writes */
    ts_tcase(s, "api", 120, fx_start, fx_stop, names_round_trip, every_event_across_batches_and_filters,
             pseudonymous_sees_no_names, refusals_and_etags, cached_pages_never_stale, NULL);
    return s;
}
