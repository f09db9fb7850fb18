/* Manual corrections and pseudonymous tokens through the real daemon: POST/DELETE /api/v1/punches
 * (source, created_by, reason, audit rows, voiding rules, 422 per field, 401/403) and what a
 * pseudonymous token may see. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_poll.h"

static struct ts_daemon D;
static char conninfo[600];
static PGconn *db;
static char people[3][ATT_UUID_STR], cam[ATT_UUID_STR], cam_event[ATT_UUID_STR];
static int ready;

static char *url(const char *pq) { return ts_url(&D, pq); }

static void setup(void)
{
    ready = 0;
    if (ts_db_new(conninfo, sizeof conninfo) != 0) return;
    memset(&D, 0, sizeof D);
    if (ts_daemon_start(&D, conninfo, NULL) != 0) return; /* migrates the schema */
    char err[512];
    if (db_connect(conninfo, "attendd-test", &db, err, sizeof err) != ATT_OK) return;
    ready = 1;
}

static void teardown(void)
{
    if (D.pid > 0) ts_daemon_stop(&D, SIGTERM, 30);
    if (db) PQfinish(db);
    db = NULL;
    ts_db_drop(conninfo);
}

/* Roster and one camera event by SQL (the people and pipeline APIs are tested elsewhere). */
static void seed(void)
{
    ck_assert_msg(ready, "daemon or database did not start");
    const char *names[3] = {"Florence Nightingale", "Mary Seacole", "Erased Person"};
    for (int i = 0; i < 3; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO people (employee_no, name) VALUES ('P-%d', '%s') RETURNING id", i,
                 names[i]);
        ts_q_text(db, sql, people[i], sizeof people[i]);
    }
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE people SET employee_no = NULL, name = NULL, active = false, erased_at = now() WHERE id = '%s'",
             people[2]);
    ts_q_exec(db, sql);
    ts_q_text(db, "INSERT INTO cameras (name, url) VALUES ('ward 1', 'rtsp://127.0.0.1:1/a') RETURNING id", cam,
              sizeof cam);
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source)"
             " VALUES (gen_random_uuid(), '%s', '%s', 'in', '2024-05-01T07:00:00Z', 0.6, 0.9, 'camera') RETURNING id",
             people[0], cam);
    ts_q_text(db, sql, cam_event, sizeof cam_event);
}

static long post_punch(const char *token, const char *body, json_t **out)
{
    struct tp_resp r;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/punches"), token, body, NULL, &r), 0);
    long st = r.status;
    if (out) *out = r.body[0] ? tp_json(&r) : NULL;
    tp_resp_free(&r);
    return st;
}

static void expect_422(const char *body, const char *field)
{
    json_t *j;
    long st = post_punch(D.hr_token, body, &j);
    ck_assert_msg(st == 422, "%s: status %ld", body, st);
    const char *f = json_string_value(json_object_get(j, "field"));
    ck_assert_msg(f && strcmp(f, field) == 0, "%s: field %s, want %s", body, f ? f : "(none)", field);
    json_decref(j);
}

static json_t *find_event(json_t *items, const char *id)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *e = json_array_get(items, i);
        if (!strcmp(json_string_value(json_object_get(e, "id")), id)) return e;
    }
    return NULL;
}

static json_t *list_events(const char *token, const char *query)
{
    struct tp_resp r;
    char pq[256];
    snprintf(pq, sizeof pq, "/api/v1/events%s", query ? query : "");
    ck_assert_int_eq(tp_http("GET", url(pq), token, NULL, NULL, &r), 0);
    ck_assert_msg(r.status == 200, "GET %s: %ld %s", pq, r.status, r.body);
    json_t *j = tp_json(&r);
    tp_resp_free(&r);
    return j;
}

static long do_delete(const char *token, const char *id, json_t **out)
{
    struct tp_resp r;
    char pq[128];
    snprintf(pq, sizeof pq, "/api/v1/punches/%s", id);
    ck_assert_int_eq(tp_http("DELETE", url(pq), token, NULL, NULL, &r), 0);
    long st = r.status;
    if (out) *out = r.body[0] ? tp_json(&r) : NULL;
    tp_resp_free(&r);
    return st;
}

START_TEST(punch_create_list_void)
{
    seed();
    char body[512], sql[512];
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"out\",\"ts\":\"2024-05-01T17:30:00+02:00\",\"reason\":\"forgot to badge "
             "out\"}",
             people[0]);
    json_t *p;
    ck_assert_int_eq(post_punch(D.hr_token, body, &p), 201);
    char id[ATT_UUID_STR];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(p, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "source")), "manual");
    ck_assert_str_eq(json_string_value(json_object_get(p, "created_by")), "test-hr");
    ck_assert_str_eq(json_string_value(json_object_get(p, "reason")), "forgot to badge out");
    ck_assert_str_eq(json_string_value(json_object_get(p, "kind")), "out");
    ck_assert_str_eq(json_string_value(json_object_get(p, "ts")), "2024-05-01T15:30:00.000000Z");
    ck_assert_str_eq(json_string_value(json_object_get(p, "person_id")), people[0]);
    ck_assert(json_is_null(json_object_get(p, "camera_id")));
    json_decref(p);

    /* listed with source, created_by and reason; the camera event has neither */
    json_t *l = list_events(D.admin_token, NULL);
    json_t *items = json_object_get(l, "items");
    json_t *e = find_event(items, id);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(json_string_value(json_object_get(e, "source")), "manual");
    ck_assert_str_eq(json_string_value(json_object_get(e, "created_by")), "test-hr");
    ck_assert_str_eq(json_string_value(json_object_get(e, "reason")), "forgot to badge out");
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "Florence Nightingale");
    json_t *ce = find_event(items, cam_event);
    ck_assert_ptr_nonnull(ce);
    ck_assert_str_eq(json_string_value(json_object_get(ce, "source")), "camera");
    ck_assert_ptr_null(json_object_get(ce, "created_by"));
    ck_assert_ptr_null(json_object_get(ce, "reason"));
    json_decref(l);

    /* written with its audit row, by the hr token */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'punch.create' AND target_id = '%s' AND outcome = 'ok'"
             " AND actor = 'test-hr'",
             id);
    ck_assert_int_eq(ts_q_int(db, sql), 1);

    /* void: gone from the list, the row stays with voided_at, audited */
    ck_assert_int_eq(do_delete(D.admin_token, id, NULL), 204);
    l = list_events(D.admin_token, NULL);
    ck_assert_ptr_null(find_event(json_object_get(l, "items"), id));
    ck_assert_ptr_nonnull(find_event(json_object_get(l, "items"), cam_event));
    json_decref(l);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM events WHERE id = '%s' AND voided_at IS NOT NULL AND source = 'manual'", id);
    ck_assert_int_eq(ts_q_int(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'punch.void' AND target_id = '%s' AND outcome = 'ok'", id);
    ck_assert_int_eq(ts_q_int(db, sql), 1);

    /* twice: 409; a camera event: 409 not_manual_punch and untouched; unknown ids: 404 */
    json_t *j;
    ck_assert_int_eq(do_delete(D.hr_token, id, &j), 409);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "conflict");
    json_decref(j);
    ck_assert_int_eq(do_delete(D.hr_token, cam_event, &j), 409);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_manual_punch");
    json_decref(j);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE id = '%s' AND voided_at IS NULL", cam_event);
    ck_assert_int_eq(ts_q_int(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'punch.void' AND target_id = '%s' AND outcome = "
             "'not_manual_punch'",
             cam_event);
    ck_assert_int_eq(ts_q_int(db, sql), 1);
    ck_assert_int_eq(do_delete(D.hr_token, "00000000-0000-4000-8000-000000000000", NULL), 404);
    ck_assert_int_eq(do_delete(D.hr_token, "not-a-uuid", NULL), 404);
}
END_TEST

START_TEST(punch_bad_input_and_auth)
{
    seed();
    char body[512];
    /* unknown person, erased person, not a uuid */
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"x\"}",
             "00000000-0000-4000-8000-000000000000");
    expect_422(body, "person_id");
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"x\"}", people[2]);
    expect_422(body, "person_id");
    expect_422("{\"person_id\":\"nobody\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"x\"}",
               "person_id");
    /* kind, ts (unparsable, impossible date, far future), reason (empty, blank, missing) */
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"sideways\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"x\"}",
             people[0]);
    expect_422(body, "kind");
    snprintf(body, sizeof body, "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"yesterday\",\"reason\":\"x\"}",
             people[0]);
    expect_422(body, "ts");
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-02-30T07:00:00Z\",\"reason\":\"x\"}", people[0]);
    expect_422(body, "ts");
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2099-01-01T07:00:00Z\",\"reason\":\"x\"}", people[0]);
    expect_422(body, "ts");
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"\"}", people[0]);
    expect_422(body, "reason");
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\" \\t \"}", people[0]);
    expect_422(body, "reason");
    snprintf(body, sizeof body, "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\"}", people[0]);
    expect_422(body, "reason");
    ck_assert_int_eq(ts_q_int(db, "SELECT count(*) FROM events WHERE source = 'manual'"), 0);

    /* 401 without or with a bad token */
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T07:00:00Z\",\"reason\":\"x\"}", people[0]);
    ck_assert_int_eq(post_punch(NULL, body, NULL), 401);
    ck_assert_int_eq(post_punch("att_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", body, NULL), 401);
    ck_assert_int_eq(do_delete(NULL, cam_event, NULL), 401);
    /* 403 for a pseudonymous token, which may not correct anybody's time */
    struct tp_resp r;
    ck_assert_int_eq(tp_http("POST", url("/api/v1/tokens"), D.admin_token,
                             "{\"name\":\"analytics\",\"role\":\"hr\",\"pseudonymous\":true}", NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    json_t *t = tp_json(&r);
    tp_resp_free(&r);
    ck_assert(json_is_true(json_object_get(t, "pseudonymous")));
    ck_assert_int_eq(post_punch(json_string_value(json_object_get(t, "token")), body, NULL), 403);
    ck_assert_int_eq(do_delete(json_string_value(json_object_get(t, "token")), cam_event, NULL), 403);
    json_decref(t);
    /* and a good one still works */
    ck_assert_int_eq(post_punch(D.admin_token, body, NULL), 201);
}
END_TEST

START_TEST(pseudonymous_token)
{
    seed();
    char body[512], tok[64];
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"in\",\"ts\":\"2024-05-01T06:59:00Z\",\"reason\":\"badge at home, said "
             "Mary\"}",
             people[1]);
    ck_assert_int_eq(post_punch(D.hr_token, body, NULL), 201);
    /* attendctl token create --pseudonymous */
    const char *args[] = {"token", "create", "--role", "hr", "--name", "research", "--pseudonymous", NULL};
    ck_assert_int_eq(ts_attendctl(&D, tok, sizeof tok, args), 0);
    tok[strcspn(tok, "\n")] = '\0';

    struct tp_resp r;
    ck_assert_int_eq(tp_http("GET", url("/api/v1/whoami"), tok, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *w = tp_json(&r);
    ck_assert(json_is_true(json_object_get(w, "pseudonymous")));
    json_decref(w);
    tp_resp_free(&r);

    char pseudo0[64], pseudo1[64], sql[256];
    snprintf(sql, sizeof sql, "SELECT pseudonym FROM people WHERE id = '%s'", people[0]);
    ts_q_text(db, sql, pseudo0, sizeof pseudo0);
    snprintf(sql, sizeof sql, "SELECT pseudonym FROM people WHERE id = '%s'", people[1]);
    ts_q_text(db, sql, pseudo1, sizeof pseudo1);

    char first[4096] = "";
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(tp_http("GET", url("/api/v1/events"), tok, NULL, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        /* nothing that identifies anybody: no ids, names, employee numbers, free text */
        ck_assert_ptr_null(strstr(r.body, people[0]));
        ck_assert_ptr_null(strstr(r.body, people[1]));
        ck_assert_ptr_null(strstr(r.body, "Florence"));
        ck_assert_ptr_null(strstr(r.body, "Mary"));
        ck_assert_ptr_null(strstr(r.body, "P-0"));
        ck_assert_ptr_null(strstr(r.body, "test-hr"));
        json_t *j = tp_json(&r);
        json_t *items = json_object_get(j, "items");
        ck_assert_int_eq(json_array_size(items), 2);
        for (size_t i = 0; i < 2; i++) {
            json_t *e = json_array_get(items, i);
            ck_assert_ptr_null(json_object_get(e, "person_id"));
            ck_assert_ptr_null(json_object_get(e, "name"));
            ck_assert_ptr_null(json_object_get(e, "employee_no"));
            ck_assert_ptr_null(json_object_get(e, "reason"));
            const char *key = json_string_value(json_object_get(e, "person_key"));
            const char *src = json_string_value(json_object_get(e, "source"));
            ck_assert_str_eq(key, strcmp(src, "manual") == 0 ? pseudo1 : pseudo0);
        }
        json_decref(j);
        /* stable across requests */
        if (round == 0) snprintf(first, sizeof first, "%s", r.body);
        else ck_assert_str_eq(r.body, first);
        tp_resp_free(&r);
    }

    /* 403 on identities and the audit log; a person filter is refused too */
    const char *forbidden[] = {"/api/v1/people", "/api/v1/audit", "/api/v1/cameras", NULL};
    for (int i = 0; forbidden[i]; i++) {
        ck_assert_int_eq(tp_http("GET", url(forbidden[i]), tok, NULL, NULL, &r), 0);
        ck_assert_msg(r.status == 403, "%s: %ld", forbidden[i], r.status);
        tp_resp_free(&r);
    }
    snprintf(sql, sizeof sql, "/api/v1/people/%s", people[0]);
    ck_assert_int_eq(tp_http("GET", url(sql), tok, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    tp_resp_free(&r);
    snprintf(sql, sizeof sql, "/api/v1/people/%s/faces", people[0]);
    ck_assert_int_eq(tp_http("GET", url(sql), tok, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    tp_resp_free(&r);
    snprintf(sql, sizeof sql, "/api/v1/events?person_id=%s", people[0]);
    ck_assert_int_eq(tp_http("GET", url(sql), tok, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    tp_resp_free(&r);
    /* the identified hr token still sees names */
    ck_assert_int_eq(tp_http("GET", url("/api/v1/people"), D.hr_token, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    tp_resp_free(&r);
}
END_TEST

Suite *punches_suite(void)
{
    Suite *s = suite_create("punches");
    TCase *api =
        ts_tcase(s, "api", 300, NULL, NULL, punch_create_list_void, punch_bad_input_and_auth, pseudonymous_token, NULL);
    tcase_add_checked_fixture(api, setup, teardown);
    return s;
}
