/* Privacy by construction through the real daemon and the store: the consent register (versioned
 * texts, each person's state and history, enrolment refused without consent, a withdrawal erasing
 * the templates at once and winning over an enrolment in flight). */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/store_consent.h"
#include "attendd/store_faces.h"
#include "attendd/retention.h"
#include "attendd/store_people.h"
#include "attendd/time.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"
#include "support.h"
#include "support_api.h"
#include "support_rtsp.h"
#include "support_store.h"

/* ---- fixture: a database and a daemon per tcase ------------------------------------------------- */

static char conninfo[600];
static struct ts_daemon D;
static char admin_id[40];

#define url(...) ts_urlf(&D, __VA_ARGS__)

static void fx_start(void)
{
    memset(&D, 0, sizeof D);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, "kiosk_pin_max_failures = 3\nkiosk_person_attempts_per_min = 50\n"),
                     0);
    ck_assert_int_eq(ts_api_wait_ready(D.url), 200); /* the gallery loads before writes that change it */
    ts_api_whoami_id(D.url, D.admin_token, admin_id, sizeof admin_id);
}

static void fx_stop(void)
{
    if (D.pid > 0) ck_assert_int_eq(ts_daemon_stop(&D, SIGTERM, 60), 0);
    ts_db_drop(conninfo);
}

/* ---- helpers ------------------------------------------------------------------------------------- */

#define count(...) ts_sql_intf(conninfo, __VA_ARGS__)

static void create_person(const char *employee_no, const char *dept, char id[40])
{
    char name[64];
    snprintf(name, sizeof name, "Person %s", employee_no);
    ts_api_create_person(D.url, D.admin_token, employee_no, name, dept, id);
}

/* A request whose answer must be the problem want/code (field: the member it names, or NULL). */
static void refused(const char *method, const char *u, const char *token, const char *body, long want, const char *code,
                    const char *field)
{
    long st;
    json_t *j = ts_call(method, u, token, body, &st);
    ts_expect_problem(j, st, want, code, field);
}

/* The same for a photo upload. */
static json_t *post_photo(const char *u, const char *token, const char *path, long *status)
{
    return ts_post_file(u, token, path, "image/jpeg", status);
}
static void photo_refused(const char *u, const char *token, const char *path, long want, const char *code)
{
    long st;
    json_t *j = post_photo(u, token, path, &st);
    ts_expect_problem(j, st, want, code, NULL);
}

/* The person id the largest face of photo path matches, into out ("" for none). */
static void identify(const char *path, char out[40])
{
    json_t *f = ts_api_identify_largest(D.url, D.hr_token, path);
    const char *id = ts_face_match_id(f);
    snprintf(out, 40, "%s", id ? id : "");
    json_decref(f);
}

/* ---- consent texts --------------------------------------------------------------------------------- */

START_TEST(consent_texts_versioned)
{
    long st;
    json_t *j = ts_call("GET", url("/api/v1/consent-texts"), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    j = ts_call("POST", url("/api/v1/consent-texts"), D.admin_token,
                "{\"language\":\"en\",\"text\":\"First text.\\nSecond paragraph.\"}", &st);
    ck_assert_int_eq(st, 201);
    ck_assert_int_eq(ts_jint(j, "version"), 1);
    ck_assert_str_eq(ts_jstr(j, "text"), "First text.\nSecond paragraph.");
    json_decref(j);
    j = ts_call("POST", url("/api/v1/consent-texts"), D.admin_token, "{\"language\":\"zh-Hans\",\"text\":\"同意\"}",
                &st);
    ck_assert_int_eq(st, 201);
    ck_assert_int_eq(ts_jint(j, "version"), 2);
    ck_assert_str_eq(ts_jstr(j, "language"), "zh-Hans");
    json_decref(j);
    j = ts_call("GET", url("/api/v1/consent-texts/1"), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "language"), "en");
    json_decref(j);
    j = ts_call("GET", url("/api/v1/consent-texts"), D.hr_token, NULL, &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);

    /* refusals: unknown versions, bad bodies, the wrong role; none stores anything */
    refused("GET", url("/api/v1/consent-texts/3"), D.hr_token, NULL, 404, "not_found", NULL);
    refused("GET", url("/api/v1/consent-texts/x"), D.hr_token, NULL, 404, "not_found", NULL);
    static const struct {
        const char *body, *field;
        long status;
    } bad[] = {
        {"{\"text\":\"t\"}", "language", 422},
        {"{\"language\":\"E\",\"text\":\"t\"}", "language", 422},
        {"{\"language\":\"en_GB\",\"text\":\"t\"}", "language", 422},
        {"{\"language\":\"en\"}", "text", 422},
        {"{\"language\":\"en\",\"text\":\"\"}", "text", 422},
        {"{\"language\":\"en\",\"text\":\"bell\\u0007\"}", "text", 422},
        {"{\"language\":\"en\",\"text\":7}", "text", 422},
        {"{\"language\":\"en\",\"text\":\"t\",\"version\":9}", "version", 422},
        {"{\"language\":", NULL, 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused("POST", url("/api/v1/consent-texts"), D.admin_token, bad[i].body, bad[i].status,
                bad[i].status == 422 ? "invalid_field" : NULL, bad[i].field);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("POST", url("/api/v1/consent-texts"), D.admin_token, "{}", 2, "text/plain", &r), 0);
    ck_assert_int_eq(r.status, 415);
    ts_resp_free(&r);
    refused("POST", url("/api/v1/consent-texts"), D.hr_token, "{\"language\":\"en\",\"text\":\"t\"}", 403, "forbidden",
            NULL);
    ck_assert_int_eq(count("SELECT count(*) FROM consent_texts"), 2);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'consent_text.create' AND outcome = 'ok' "
                           "AND token_id = '%s'",
                           admin_id),
                     2);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'consent_text.create' AND outcome = "
                           "'invalid_field'"),
                     8);
}
END_TEST

/* ---- consent before enrolment; withdrawal erases ----------------------------------------------------- */

START_TEST(enrolment_needs_consent_and_withdrawal_erases)
{
    char p[40], other[40], got[40];
    create_person("C-1", "Ward 1", p);
    create_person("C-2", "Ward 1", other);
    long st;
    json_t *j = ts_call("GET", url("/api/v1/people/%s/consent", p), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "state"), "none");
    ck_assert(json_is_null(json_object_get(j, "since")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "history")), 0);
    json_decref(j);

    /* no consent: refused before any analysis, audited, nothing stored */
    photo_refused(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), 409, "consent_required");
    ck_assert_int_eq(count("SELECT count(*) FROM faces"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'face.enrol' AND outcome = 'consent_required'"
                           " AND target_id = '%s'",
                           p),
                     1);

    /* recording consent: every bad form refused, named */
    int v = ts_api_consent_text(D.url, D.admin_token);
    char body[128];
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"state\":\"given\"}", "text_version"},
        {"{\"state\":\"given\",\"text_version\":99}", "text_version"},
        {"{\"state\":\"given\",\"text_version\":0}", "text_version"},
        {"{\"state\":\"given\",\"text_version\":\"1\"}", "text_version"},
        {"{\"state\":\"maybe\",\"text_version\":1}", "state"},
        {"{\"state\":\"none\",\"text_version\":1}", "state"},
        {"{\"text_version\":1}", "state"},
        {"{\"state\":\"given\",\"text_version\":1,\"by\":\"x\"}", "by"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused("POST", url("/api/v1/people/%s/consent", p), D.admin_token, bad[i].body, 422, "invalid_field",
                bad[i].field);
    snprintf(body, sizeof body, "{\"state\":\"given\",\"text_version\":%d}", v);
    refused("POST", url("/api/v1/people/00000000-0000-4000-8000-000000000000/consent"), D.admin_token, body, 404,
            "not_found", NULL);
    refused("POST", url("/api/v1/people/nope/consent"), D.admin_token, body, 404, "not_found", NULL);
    refused("POST", url("/api/v1/people/%s/consent", p), D.hr_token, body, 403, "forbidden", NULL);
    refused("GET", url("/api/v1/people/00000000-0000-4000-8000-000000000000/consent"), D.hr_token, NULL, 404,
            "not_found", NULL);
    ck_assert_int_eq(count("SELECT count(*) FROM consent_records"), 0);

    /* given: enrolment works, the person is recognised */
    j = ts_call("POST", url("/api/v1/people/%s/consent", p), D.admin_token, body, &st);
    char *txt = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(st == 200, "consent: %ld %s", st, txt);
    free(txt);
    ck_assert_str_eq(ts_jstr(j, "state"), "given");
    ck_assert_int_eq(ts_jint(j, "text_version"), v);
    ck_assert(json_is_true(json_object_get(j, "biometric")));
    json_decref(j);
    json_decref(post_photo(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), &st));
    ck_assert_int_eq(st, 201);
    json_decref(post_photo(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img2.jpg"), &st));
    ck_assert_int_eq(st, 201);
    ts_api_consent_given(D.url, D.admin_token, other);
    json_decref(post_photo(url("/api/v1/people/%s/faces", other), D.admin_token, ts_face_photo("img8.jpg"), &st));
    ck_assert_int_eq(st, 201);
    identify(ts_face_photo("img4.jpg"), got);
    ck_assert_str_eq(got, p);

    /* withdrawn: the templates go at once (the gallery too), the person turns to the kiosk */
    j = ts_call("POST", url("/api/v1/people/%s/consent", p), D.admin_token, "{\"state\":\"withdrawn\"}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "state"), "withdrawn");
    ck_assert(json_is_false(json_object_get(j, "biometric")));
    ck_assert_ptr_nonnull(ts_jstr(j, "since"));
    json_t *hist = json_object_get(j, "history");
    ck_assert_uint_eq(json_array_size(hist), 2);
    ck_assert_str_eq(ts_jstr(json_array_get(hist, 0), "state"), "given");
    ck_assert_int_eq(ts_jint(json_array_get(hist, 0), "text_version"), v);
    ck_assert_str_eq(ts_jstr(json_array_get(hist, 0), "token_id"), admin_id);
    ck_assert_str_eq(ts_jstr(json_array_get(hist, 1), "state"), "withdrawn");
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", p), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", other), 1);
    identify(ts_face_photo("img4.jpg"), got);
    ck_assert_str_eq(got, "");
    /* the withdrawal, its erasure count and its record were committed together */
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log a JOIN consent_records r ON r.person_id::text = a.target_id"
                           " AND r.state = 'withdrawn' WHERE a.action = 'consent.withdraw' AND a.outcome = 'ok'"
                           " AND a.target_id = '%s' AND (a.detail->>'faces_deleted')::int = 2"
                           " AND a.token_id = '%s'",
                           p, admin_id),
                     1);
    j = ts_call("GET", url("/api/v1/people/%s", p), D.hr_token, NULL, &st);
    ck_assert_str_eq(ts_jstr(j, "consent"), "withdrawn");
    ck_assert(json_is_false(json_object_get(j, "biometric")));
    json_decref(j);
    /* and no new enrolment until consent is given again */
    photo_refused(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), 409, "consent_required");
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", p), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'consent.read' AND outcome = 'ok'"), 1);
}
END_TEST

/* ---- a withdrawal committing while an enrolment waits on the person's row ---------------------------- */

struct race_arg {
    const char *conninfo, *person;
    const tcrypt_key *key;
    att_err rc;
};

static void *race_insert(void *p)
{
    struct race_arg *ra = p;
    PGconn *c = NULL;
    char err[256];
    if (db_connect(ra->conninfo, "race", &c, err, sizeof err) != ATT_OK ||
        db_prepare_all(c, err, sizeof err) != ATT_OK) {
        ra->rc = ATT_E_DB;
        PQfinish(c);
        return NULL;
    }
    float v[TCRYPT_DIM] = {1.0f};
    unsigned char blob[TCRYPT_BLOB_BYTES];
    char face_id[ATT_UUID_STR];
    att_uuid_new_text(face_id);
    tcrypt_encrypt(ra->key, v, ra->person, face_id, "test-model", blob);
    ra->rc = store_face_insert(c, ra->person, face_id, "test-model", tcrypt_key_id(ra->key), blob, sizeof blob, NULL);
    PQfinish(c);
    return NULL;
}

START_TEST(withdrawal_wins_over_enrolment_in_flight)
{
    char ci[600], a[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    unsigned char raw[32] = {7};
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    struct person_new pn = {.employee_no = "W-1", .name = "Withdrawer", .active = true};
    ck_assert_int_eq(store_person_create(c, &pn, a), ATT_OK);
    /* before consent: the store itself refuses */
    float v[TCRYPT_DIM] = {1.0f};
    unsigned char blob[TCRYPT_BLOB_BYTES];
    char f[ATT_UUID_STR];
    att_uuid_new_text(f);
    ck_assert_int_eq(tcrypt_encrypt(k, v, a, f, "test-model", blob), ATT_OK);
    ck_assert_int_eq(store_face_insert(c, a, f, "test-model", tcrypt_key_id(k), blob, sizeof blob, NULL),
                     ATT_E_CONSENT_REQUIRED);
    ts_consent_given(c, a);
    ts_add_face(c, a, k, f);
    /* the withdrawal holds the person's row; the insert waits on it, then sees the withdrawal */
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_consent_record(c, a, CONSENT_WITHDRAWN, 0, NULL, "attendd-test"), ATT_OK);
    size_t gone = 0;
    ck_assert_int_eq(store_person_faces_delete(c, a, &gone), ATT_OK);
    ck_assert_uint_eq(gone, 1);
    struct race_arg ra = {ci, a, k, ATT_E_INTERNAL};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, race_insert, &ra), 0);
    usleep(300 * 1000);
    ck_assert(ts_q_ok(c, "COMMIT"));
    pthread_join(t, NULL);
    ck_assert_int_eq(ra.rc, ATT_E_CONSENT_REQUIRED);
    ck_assert_int_eq(ts_q_int(c, "SELECT count(*) FROM faces"), 0);
    /* given again (with biometric back on), then an opt-out alone refuses too */
    ts_consent_given(c, a);
    ck_assert(ts_q_ok(c, "UPDATE people SET biometric = false"));
    att_uuid_new_text(f);
    ck_assert_int_eq(tcrypt_encrypt(k, v, a, f, "test-model", blob), ATT_OK);
    ck_assert_int_eq(store_face_insert(c, a, f, "test-model", tcrypt_key_id(k), blob, sizeof blob, NULL),
                     ATT_E_BIOMETRIC_OFF);
    /* store-level refusals of a record */
    ck_assert_int_eq(store_consent_record(c, a, CONSENT_GIVEN, 0, NULL, "x"), ATT_E_INVALID);
    ck_assert_int_eq(store_consent_record(c, a, CONSENT_NONE, 1, NULL, "x"), ATT_E_INVALID);
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_consent_record(c, a, CONSENT_GIVEN, 42, NULL, "x"), ATT_E_CONFLICT);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    ck_assert_int_eq(store_consent_record(c, "00000000-0000-4000-8000-000000000000", CONSENT_GIVEN, 1, NULL, "x"),
                     ATT_E_NOT_FOUND);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- the alternative to the face: opt-out, PINs, badges, kiosk tokens --------------------------------- */

/* A kiosk token made through the API; its secret into tok. */
static void kiosk_token(const char *name, char tok[80])
{
    char body[128];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"kiosk\"}", name);
    long st;
    json_t *j = ts_call("POST", url("/api/v1/tokens"), D.admin_token, body, &st);
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(ts_jstr(j, "role"), "kiosk");
    snprintf(tok, 80, "%s", ts_jstr(j, "token"));
    json_decref(j);
}

static long punch(const char *tok, const char *body, json_t **out)
{
    long st;
    json_t *j = ts_call("POST", url("/api/v1/kiosk/punch"), tok, body, &st);
    if (out) *out = j;
    else json_decref(j);
    return st;
}

START_TEST(biometric_opt_out_erases_and_refuses)
{
    char p[40], q[40], got[40];
    create_person("O-1", "Ward 2", p);
    create_person("O-2", "Ward 2", q);
    ts_api_consent_given(D.url, D.admin_token, p);
    long st;
    json_decref(post_photo(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), &st));
    ck_assert_int_eq(st, 201);
    identify(ts_face_photo("img4.jpg"), got);
    ck_assert_str_eq(got, p);
    /* opting out: the templates go with the change, the gallery forgets at once */
    json_t *j = ts_call("PATCH", url("/api/v1/people/%s", p), D.admin_token, "{\"biometric\":false}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_false(json_object_get(j, "biometric")));
    ck_assert_str_eq(ts_jstr(j, "consent"), "given");
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", p), 0);
    identify(ts_face_photo("img4.jpg"), got);
    ck_assert_str_eq(got, "");
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'person.update' AND target_id = '%s' AND "
                           "(detail->>'faces_deleted')::int = 1 AND detail->'fields' ? 'biometric'",
                           p),
                     1);
    /* never enrolled while opted out */
    photo_refused(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), 409,
                  "biometric_opt_out");
    /* back to the face only with consent given */
    refused("PATCH", url("/api/v1/people/%s", q), D.admin_token, "{\"biometric\":true}", 409, "consent_required",
            "biometric");
    refused("PATCH", url("/api/v1/people/%s", q), D.admin_token, "{\"biometric\":\"no\"}", 422, "invalid_field",
            "biometric");
    j = ts_call("PATCH", url("/api/v1/people/%s", p), D.admin_token, "{\"biometric\":true}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_true(json_object_get(j, "biometric")));
    json_decref(j);
    json_decref(post_photo(url("/api/v1/people/%s/faces", p), D.admin_token, ts_face_photo("img1.jpg"), &st));
    ck_assert_int_eq(st, 201);
}
END_TEST

START_TEST(kiosk_pin_badge_and_lock)
{
    char p[40], q[40], tok[80];
    create_person("K-1", "Ward 3", p);
    create_person("K-2", "Ward 3", q);
    kiosk_token("entrance kiosk", tok);
    long st;
    /* the kiosk token may punch and nothing else */
    static const struct {
        const char *method, *path;
        long status;
    } other[] = {
        {"GET", "/api/v1/whoami", 403},
        {"GET", "/api/v1/people", 403},
        {"POST", "/api/v1/people", 403},
        {"GET", "/api/v1/events", 403},
        {"GET", "/metrics", 403},
        {"GET", "/api/v1/audit", 403},
        {"GET", "/api/v1/consent-texts", 403},
        {"POST", "/api/v1/punches", 403},
        {"GET", "/api/v1/cameras", 403},
        {"GET", "/api/v1/attendance", 403},
        {"GET", "/api/v1/kiosk/nothing", 404},
        {"GET", "/api/v1/tokens", 403},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        long want = other[i].status;
        json_t *j =
            ts_call(other[i].method, url("%s", other[i].path), tok, other[i].method[0] == 'P' ? "{}" : NULL, &st);
        ck_assert_msg(st == want, "%s %s with a kiosk token: %ld", other[i].method, other[i].path, st);
        json_decref(j);
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/people/%s/faces", p);
    photo_refused(url("%s", path), tok, ts_face_photo("img1.jpg"), 403, "forbidden");

    /* PINs: set by an admin, bad forms named */
    static const char *const bad_pins[] = {
        "{\"pin\":\"123\"}",         "{\"pin\":\"12a4\"}", "{\"pin\":\"1234567890123\"}", "{\"pin\":1234}", "{}",
        "{\"pin\":\"1234\",\"x\":1}"};
    static const char *const bad_fields[] = {"pin", "pin", "pin", "pin", "pin", "x"};
    for (size_t i = 0; i < sizeof bad_pins / sizeof bad_pins[0]; i++)
        refused("PUT", url("/api/v1/people/%s/pin", p), D.admin_token, bad_pins[i], 422, "invalid_field",
                bad_fields[i]);
    refused("PUT", url("/api/v1/people/00000000-0000-4000-8000-000000000000/pin"), D.admin_token, "{\"pin\":\"2468\"}",
            404, "not_found", NULL);
    refused("PUT", url("/api/v1/people/%s/pin", p), D.hr_token, "{\"pin\":\"2468\"}", 403, "forbidden", NULL);
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", p), D.admin_token, "{\"pin\":\"2468\"}", &st));
    ck_assert_int_eq(st, 204);
    ck_assert_int_eq(count("SELECT count(*) FROM people WHERE id = '%s' AND pin_hash LIKE '$argon2id$%%'"
                           " AND pin_hash NOT LIKE '%%2468%%'",
                           p),
                     1);
    json_t *j = ts_call("GET", url("/api/v1/people/%s", p), D.hr_token, NULL, &st);
    ck_assert(json_is_true(json_object_get(j, "pin_set")));
    json_decref(j);

    /* a punch with the right PIN: an event of source kiosk, made by the kiosk token */
    ck_assert_int_eq(punch(tok, "{\"employee_no\":\"K-1\",\"pin\":\"2468\",\"kind\":\"in\"}", &j), 201);
    ck_assert_str_eq(ts_jstr(j, "source"), "kiosk");
    ck_assert_str_eq(ts_jstr(j, "person_id"), p);
    char ev[40];
    snprintf(ev, sizeof ev, "%s", ts_jstr(j, "id"));
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE id = '%s' AND source = 'kiosk' AND person_id = '%s'"
                           " AND created_by = 'entrance kiosk' AND camera_id IS NULL",
                           ev, p),
                     1);
    j = ts_call("GET", url("/api/v1/events?person_id=%s", p), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(json_array_get(json_object_get(j, "items"), 0), "source"), "kiosk");
    json_decref(j);

    /* bad forms */
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"employee_no\":\"K-1\",\"pin\":\"2468\"}", "kind"},
        {"{\"employee_no\":\"K-1\",\"pin\":\"2468\",\"kind\":\"sideways\"}", "kind"},
        {"{\"employee_no\":\"K-1\",\"kind\":\"in\"}", "pin"},
        {"{\"pin\":\"2468\",\"kind\":\"in\"}", "employee_no"},
        {"{\"kind\":\"in\"}", "employee_no"},
        {"{\"employee_no\":\"K-1\",\"pin\":\"24x8\",\"kind\":\"in\"}", "pin"},
        {"{\"employee_no\":\"K-1\",\"pin\":\"2468\",\"badge_id\":\"B1\",\"kind\":\"in\"}", "badge_id"},
        {"{\"badge_id\":\"a b\",\"kind\":\"in\"}", "badge_id"},
        {"{\"employee_no\":\"K-1\",\"pin\":\"2468\",\"kind\":\"in\",\"ts\":\"x\"}", "ts"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused("POST", url("/api/v1/kiosk/punch"), tok, bad[i].body, 422, "invalid_field", bad[i].field);

    /* an unknown employee number answers as a wrong PIN (no oracle), and counts nothing */
    refused("POST", url("/api/v1/kiosk/punch"), tok, "{\"employee_no\":\"NOPE\",\"pin\":\"2468\",\"kind\":\"in\"}", 422,
            "invalid_field", "pin");
    /* wrong PIN kiosk_pin_max_failures (3) times: locked; then even the right PIN is refused */
    for (int i = 0; i < 3; i++)
        refused("POST", url("/api/v1/kiosk/punch"), tok, "{\"employee_no\":\"K-1\",\"pin\":\"1111\",\"kind\":\"out\"}",
                422, "invalid_field", "pin");
    refused("POST", url("/api/v1/kiosk/punch"), tok, "{\"employee_no\":\"K-1\",\"pin\":\"2468\",\"kind\":\"out\"}", 423,
            "credential_locked", "pin");
    ck_assert_int_eq(
        count("SELECT count(*) FROM people WHERE id = '%s' AND pin_failures = 3 AND pin_locked_at IS NOT NULL", p), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'kiosk.lock' AND target_id = '%s'", p), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'kiosk.punch' AND target_id = '%s' AND "
                           "outcome = 'invalid_field'",
                           p),
                     3);
    ck_assert_int_eq(
        count("SELECT count(*) FROM audit_log WHERE action = 'kiosk.punch' AND outcome = 'credential_locked'"), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE person_id = '%s'", p), 1);
    /* a new PIN from an admin unlocks */
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", p), D.admin_token, "{\"pin\":\"97531\"}", &st));
    ck_assert_int_eq(st, 204);
    ck_assert_int_eq(punch(tok, "{\"employee_no\":\"K-1\",\"pin\":\"97531\",\"kind\":\"out\"}", NULL), 201);

    /* badges: set by PATCH, unique, punch without a PIN */
    refused("PATCH", url("/api/v1/people/%s", q), D.admin_token, "{\"badge_id\":\"a b\"}", 422, "invalid_field",
            "badge_id");
    refused("PATCH", url("/api/v1/people/%s", q), D.admin_token, "{\"badge_id\":\"\"}", 422, "invalid_field",
            "badge_id");
    j = ts_call("PATCH", url("/api/v1/people/%s", q), D.admin_token, "{\"badge_id\":\"B-100\"}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(ts_jstr(j, "badge_id"), "B-100");
    json_decref(j);
    refused("PATCH", url("/api/v1/people/%s", p), D.admin_token, "{\"badge_id\":\"B-100\"}", 409, "conflict", NULL);
    ck_assert_int_eq(punch(tok, "{\"badge_id\":\"B-100\",\"kind\":\"in\"}", &j), 201);
    ck_assert_str_eq(ts_jstr(j, "person_id"), q);
    json_decref(j);
    refused("POST", url("/api/v1/kiosk/punch"), tok, "{\"badge_id\":\"B-999\",\"kind\":\"in\"}", 422, "invalid_field",
            "badge_id");
    /* an erased person's badge and PIN go with the erasure */
    json_decref(ts_call("DELETE", url("/api/v1/people/%s", q), D.admin_token, NULL, &st));
    ck_assert_int_eq(st, 204);
    refused("POST", url("/api/v1/kiosk/punch"), tok, "{\"badge_id\":\"B-100\",\"kind\":\"in\"}", 422, "invalid_field",
            "badge_id");
    ck_assert_int_eq(count("SELECT count(*) FROM people WHERE id = '%s' AND badge_id IS NULL AND pin_hash IS NULL", q),
                     1);
}
END_TEST

/* Attempts per kiosk and per person are limited (kiosk_attempts_per_min 4, kiosk_person_attempts_per_min 2). */
START_TEST(kiosk_rate_limits)
{
    char p[40], q[40], tok[80];
    create_person("R-1", "Ward 5", p);
    create_person("R-2", "Ward 5", q);
    long st;
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", p), D.admin_token, "{\"pin\":\"1357\"}", &st));
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", q), D.admin_token, "{\"pin\":\"8642\"}", &st));
    kiosk_token("ward 5 kiosk", tok);
    const char *a = "{\"employee_no\":\"R-1\",\"pin\":\"1357\",\"kind\":\"in\"}";
    const char *b = "{\"employee_no\":\"R-2\",\"pin\":\"8642\",\"kind\":\"in\"}";
    ck_assert_int_eq(punch(tok, a, NULL), 201);
    ck_assert_int_eq(punch(tok, a, NULL), 201);
    refused("POST", url("/api/v1/kiosk/punch"), tok, a, 429, "too_many_requests", NULL); /* the person's limit */
    ck_assert_int_eq(punch(tok, b, NULL), 201);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("POST", url("/api/v1/kiosk/punch"), tok, b, strlen(b), "application/json", &r), 0);
    ck_assert_int_eq(r.status, 429); /* the kiosk's limit */
    char ra[16];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_int_gt(atoi(ra), 0);
    ts_resp_free(&r);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE source = 'kiosk'"), 3);
    ck_assert_int_eq(
        count("SELECT count(*) FROM audit_log WHERE action = 'kiosk.punch' AND outcome = 'too_many_requests'"), 2);
}
END_TEST

/* ---- retention ---------------------------------------------------------------------------------------- */

START_TEST(retention_schedule)
{
    const int64_t h = 3600LL * 1000000LL, day = 24 * h;
    ck_assert_int_eq(retention_next_run(0, 3), 3 * h);
    ck_assert_int_eq(retention_next_run(3 * h - 1, 3), 3 * h);
    ck_assert_int_eq(retention_next_run(3 * h, 3), day + 3 * h); /* strictly after: one run per day */
    ck_assert_int_eq(retention_next_run(20000 * day + 5 * h, 3), 20001 * day + 3 * h);
    ck_assert_int_eq(retention_next_run(20000 * day + 5 * h, 23), 20000 * day + 23 * h);
    ck_assert_int_eq(retention_next_run(20000 * day, 0), 20001 * day);
}
END_TEST

/* A person's face rows as the hex of their encrypted templates, joined (for the dump scan). */
static void template_hex(const char *person, char *out, size_t len)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT string_agg(encode(template, 'hex'), ',') FROM faces WHERE person_id = '%s'",
             person);
    ck_assert_int_eq(ts_psql(conninfo, sql, out, len), 0);
    ck_assert_int_gt((int)strlen(out), 100);
}

static char *pg_dump(void)
{
    char path[256], cmd[1400];
    snprintf(path, sizeof path, "/tmp/attendd-retention-dump-%d.sql", (int)getpid());
    snprintf(cmd, sizeof cmd, "'%s/pg_dump' --no-owner -d '%s' > '%s'", ts_env("ATTENDD_PG_BINDIR"), conninfo, path);
    ck_assert_msg(system(cmd) == 0, "pg_dump failed");
    char *dump = ts_slurp(path, NULL);
    unlink(path);
    return dump;
}

START_TEST(retention_runs_on_a_moved_clock)
{
    char gone[40], stays[40], later[40];
    create_person("T-1", "Ward 7", gone);  /* departed 400 days ago */
    create_person("T-2", "Ward 7", stays); /* active */
    create_person("T-3", "Ward 7", later); /* departed today */
    PGconn *c = ts_db_connect(conninfo, "attendd-test", true);
    unsigned char raw[32] = {9};
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    char f[ATT_UUID_STR];
    const char *who[3] = {gone, stays, later};
    for (int i = 0; i < 3; i++) {
        ts_add_face(c, who[i], k, f);
        ts_add_face(c, who[i], k, f);
    }
    long st;
    json_decref(ts_call("PATCH", url("/api/v1/people/%s", gone), D.admin_token, "{\"active\":false}", &st));
    json_decref(ts_call("PATCH", url("/api/v1/people/%s", later), D.admin_token, "{\"active\":false}", &st));
    ck_assert_int_eq(st, 200);
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE people SET inactive_since = now() - interval '400 days' WHERE id = '%s'", gone);
    ts_q_exec(c, sql);
    /* events: one seven years old (past the 6 of the policy), one of yesterday; a manual one, old */
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source, similarity) VALUES"
             " (gen_random_uuid(), '%s', 'in', now() - interval '7 years', 'camera', 0.8),"
             " (gen_random_uuid(), '%s', 'in', now() - interval '1 day', 'camera', 0.8)",
             stays, stays);
    ts_q_exec(c, sql);
    snprintf(
        sql, sizeof sql,
        "INSERT INTO events (id, person_id, kind, ts, source, reason, created_by) VALUES"
        " (gen_random_uuid(), '%s', 'out', now() - interval '8 years', 'manual', 'forgot badge, said Tomas', 'hr')",
        stays);
    ts_q_exec(c, sql);
    /* audit rows: eleven years old (past the 10), two years old (kept) */
    ts_q_exec(c,
              "INSERT INTO audit_log (ts, actor, action, outcome) VALUES (now() - interval '11 years', 'old', "
              "'test.ancient', 'ok'), (now() - interval '2 years', 'old', 'test.recent', 'ok')");
    char gone_hex[8192], stays_hex[8192], later_hex[8192];
    template_hex(gone, gone_hex, sizeof gone_hex);
    template_hex(stays, stays_hex, sizeof stays_hex);
    template_hex(later, later_hex, sizeof later_hex);

    /* the audit log stays append-only outside the job */
    ck_assert_int_ne(ts_psql(conninfo, "DELETE FROM audit_log WHERE action = 'test.ancient'", NULL, 0), 0);
    ck_assert_int_ne(ts_psql(conninfo,
                             "BEGIN; SELECT set_config('attendd.audit_prune_before', now()::text, true);"
                             " DELETE FROM audit_log WHERE action = 'test.recent'; COMMIT",
                             NULL, 0),
                     0);

    /* a run now: the long-departed person's templates go; the others stay */
    char out[1024];
    const char *run_now[] = {"retention", "run", NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, run_now), 0);
    ck_assert_msg(strstr(out, "templates_deleted 2") && strstr(out, "events_deidentified 2") &&
                      strstr(out, "audit_pruned 1"),
                  "%s", out);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", gone), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", later), 2);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", stays), 2);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE person_id IS NULL AND similarity IS NULL"), 2);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE person_id = '%s'", stays), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE reason LIKE '%%Tomas%%'"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'test.ancient'"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'test.recent'"), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'retention.run' AND outcome = 'ok'"
                           " AND actor = 'attendctl' AND (detail->>'templates_deleted')::int = 2"
                           " AND (detail->>'people_affected')::int = 1 AND (detail->>'events_deidentified')::int = 2"
                           " AND (detail->>'audit_pruned')::int = 1"),
                     1);
    /* the database holds no template of the departed person: not one byte of it in a full dump */
    char *dump = pg_dump();
    char *tok = strtok(gone_hex, ",");
    for (; tok; tok = strtok(NULL, ","))
        ck_assert_msg(strstr(dump, tok) == NULL, "a destroyed template is in the dump");
    ck_assert_msg(strstr(dump, strtok(stays_hex, ",")) != NULL, "the dump scan would not find a template");
    free(dump);

    /* the clock moved forward a year and a day: the person departed today is past the period too */
    int64_t later_us = ts_wall_us() + 366LL * 86400 * 1000000;
    char as_of[64];
    time_t t = (time_t)(later_us / 1000000);
    strftime(as_of, sizeof as_of, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    const char *run_later[] = {"retention", "run", "--as-of", as_of, NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, run_later), 0);
    ck_assert_msg(strstr(out, "templates_deleted 2"), "%s", out);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", later), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", stays), 2);
    dump = pg_dump();
    for (tok = strtok(later_hex, ","); tok; tok = strtok(NULL, ","))
        ck_assert_msg(strstr(dump, tok) == NULL, "a destroyed template is in the dump");
    free(dump);
    ck_assert_int_eq(
        count("SELECT count(*) FROM audit_log WHERE action = 'retention.run' AND detail->>'as_of' = '%s'", as_of), 1);
    const char *bad[] = {"retention", "run", "--as-of", "tomorrow", NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, bad), 2);

    /* the API shows the policy, the last run and the next */
    json_t *j = ts_call("GET", url("/api/v1/retention"), D.hr_token, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(ts_jint(j, "templates_inactive_days"), 365);
    ck_assert_int_eq(ts_jint(j, "events_years"), 6);
    ck_assert_str_eq(ts_jstr(j, "events_action"), "deidentify");
    ck_assert_int_eq(ts_jint(j, "audit_years"), 10);
    ck_assert_ptr_nonnull(ts_jstr(j, "last_run"));
    int64_t next;
    ck_assert(att_time_parse(ts_jstr(j, "next_run"), &next));
    ck_assert(next > ts_wall_us() && next <= ts_wall_us() + 86400LL * 1000000);
    json_decref(j);
    const char *show[] = {"retention", "show", NULL};
    ck_assert_int_eq(ts_attendctl(&D, out, sizeof out, show), 0);
    ck_assert_msg(strstr(out, "365 days") && strstr(out, "next run: "), "%s", out);

    /* the DPIA facts come from the running configuration and the database */
    static char dpia[16384];
    const char *dp[] = {"dpia", NULL};
    ck_assert_int_eq(ts_attendctl(&D, dpia, sizeof dpia, dp), 0);
    char key[400];
    snprintf(key, sizeof key, "| template encryption key | %s/template.key |", D.dir);
    ck_assert_msg(strstr(dpia, key), "no template key location in:\n%s", dpia);
    ck_assert_msg(strstr(dpia, "| face templates of an inactive person | 365 days after deactivation | destroyed |") &&
                      strstr(dpia, "| attendance events | 6 years | de-identified") &&
                      strstr(dpia, "| audit log | 10 years | pruned |") && strstr(dpia, "| admin |") &&
                      strstr(dpia, "| kiosk |") && strstr(dpia, "| (none defined) |") &&
                      strstr(dpia, "daily at 03:00 UTC"),
                  "%s", dpia);
    ck_assert_ptr_null(strstr(dpia, "password"));
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- subject access export ------------------------------------------------------------------------- */

/* POST json to path as admin, the new resource's id into id (40 bytes). */
static void created(const char *path, const char *json, char *id)
{
    long st;
    json_t *j = ts_call("POST", url("%s", path), D.admin_token, json, &st);
    char *t = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(st == 201, "POST %s: %ld %s", path, st, t);
    free(t);
    snprintf(id, 40, "%s", ts_jstr(j, "id"));
    json_decref(j);
}

START_TEST(subject_export_holds_everything_and_no_one_else)
{
    char a[40], b[40], ev_a[40], ev_b[40], punch_a[40], shift[40], sched[40], body[512];
    create_person("X-1", "Ward 8", a);
    create_person("X-2", "Ward 8", b);
    ts_api_consent_given(D.url, D.admin_token, a);
    ts_api_consent_given(D.url, D.admin_token, b);
    PGconn *c = ts_db_connect(conninfo, "attendd-test", true);
    unsigned char raw[32] = {5};
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    char fa[ATT_UUID_STR], fb[ATT_UUID_STR], hex[8192];
    ts_add_face(c, a, k, fa);
    ts_add_face(c, b, k, fb);
    template_hex(a, hex, sizeof hex);
    /* events: a camera event each, a manual punch of a (with its reason), voided; leave-like schedule */
    att_uuid_new_text(ev_a);
    att_uuid_new_text(ev_b);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source, similarity) VALUES ('%s', '%s', 'in', now() - "
             "interval '2 hours', 'camera', 0.7), ('%s', '%s', 'in', now() - interval '2 hours', 'camera', 0.6)",
             ev_a, a, ev_b, b);
    ts_q_exec(c, sql);
    time_t t = time(NULL) - 600;
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"kind\":\"out\",\"ts\":\"%s\",\"reason\":\"left by the back door\"}", a, ts);
    created("/api/v1/punches", body, punch_a);
    long st;
    json_decref(ts_call("DELETE", url("/api/v1/punches/%s", punch_a), D.hr_token, "{\"reason\":\"typed twice\"}", &st));
    created("/api/v1/shifts", "{\"name\":\"Early\",\"start\":\"06:00\",\"end\":\"14:00\"}", shift);
    snprintf(body, sizeof body, "{\"shift_id\":\"%s\",\"person_id\":\"%s\",\"valid_from\":\"2026-01-01\"}", shift, a);
    created("/api/v1/schedules", body, sched);
    /* leave, a weekly pattern, an override and a resolved exception, for a and for b */
    char lv_a[40], lv_b[40], pat_a[40], pat_b[40], ov_a[40], ov_b[40], res_a[40], res_b[40];
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"type\":\"sick\",\"from\":\"2026-02-02\",\"to\":\"2026-02-02\","
             "\"start\":\"09:00\",\"end\":\"12:30\",\"state\":\"approved\"}",
             a);
    created("/api/v1/leave", body, lv_a);
    snprintf(body, sizeof body,
             "{\"person_id\":\"%s\",\"type\":\"annual\",\"from\":\"2026-02-03\",\"to\":\"2026-02-06\"}", b);
    created("/api/v1/leave", body, lv_b);
    const char *who[2] = {a, b};
    char *pats[2] = {pat_a, pat_b}, *ovs[2] = {ov_a, ov_b}, *res[2] = {res_a, res_b};
    for (int w = 0; w < 2; w++) {
        snprintf(body, sizeof body,
                 "{\"person_id\":\"%s\",\"kind\":\"weekly\",\"valid_from\":\"2026-03-02\",\"cycle\":"
                 "[[\"%s\"],[],[],[],[],[],[]]}",
                 who[w], shift);
        created("/api/v1/roster/patterns", body, pats[w]);
        snprintf(body, sizeof body,
                 "{\"person_id\":\"%s\",\"date\":\"2026-03-0%d\",\"shift_ids\":[],\"reason\":\"swap %s\"}", who[w],
                 3 + w, w == 0 ? "with the night nurse" : "for the course");
        created("/api/v1/roster/overrides", body, ovs[w]);
        att_uuid_new_text(res[w]);
        snprintf(sql, sizeof sql,
                 "INSERT INTO exception_resolutions (id, person_id, day, kind, action, reason, resolved_by) VALUES "
                 "('%s', '%s', '2026-02-0%d', 'absent', 'mark_leave', '%s', 'hr desk')",
                 res[w], who[w], 2 + w, w == 0 ? "rang in sick" : "on a course");
        ts_q_exec(c, sql);
    }
    json_decref(ts_call("GET", url("/api/v1/people/%s", a), D.hr_token, NULL, &st));
    json_decref(ts_call("GET", url("/api/v1/people/%s", b), D.hr_token, NULL, &st));

    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url("/api/v1/people/%s/export", a), D.admin_token, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char cc[64];
    ck_assert_ptr_nonnull(ts_resp_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    json_t *j = ts_json_body(r.body, r.len);
    /* each part is there */
    json_t *person = json_object_get(j, "person");
    ck_assert_str_eq(ts_jstr(person, "id"), a);
    ck_assert_str_eq(ts_jstr(person, "employee_no"), "X-1");
    ck_assert_str_eq(ts_jstr(json_object_get(j, "consent"), "state"), "given");
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(j, "consent"), "history")), 1);
    json_t *faces = json_object_get(j, "faces");
    ck_assert_uint_eq(json_array_size(faces), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(faces, 0), "id"), fa);
    json_t *events = json_object_get(j, "events");
    ck_assert_uint_eq(json_array_size(events), 2);
    bool camera = false, manual = false;
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        if (strcmp(ts_jstr(e, "id"), ev_a) == 0) camera = true;
        if (strcmp(ts_jstr(e, "id"), punch_a) == 0) {
            manual = true;
            ck_assert_str_eq(ts_jstr(e, "reason"), "left by the back door");
            ck_assert_ptr_nonnull(ts_jstr(e, "voided_at"));
        }
    }
    ck_assert(camera && manual);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "schedules")), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(json_object_get(j, "schedules"), 0), "id"), sched);
    /* the person's leave with its type, dates, part day and state */
    json_t *leave = json_object_get(j, "leave");
    ck_assert_uint_eq(json_array_size(leave), 1);
    json_t *l = json_array_get(leave, 0);
    ck_assert_str_eq(ts_jstr(l, "id"), lv_a);
    ck_assert_str_eq(ts_jstr(l, "type"), "sick");
    ck_assert_str_eq(ts_jstr(l, "from"), "2026-02-02");
    ck_assert_str_eq(ts_jstr(l, "to"), "2026-02-02");
    ck_assert_str_eq(ts_jstr(l, "start"), "09:00");
    ck_assert_str_eq(ts_jstr(l, "end"), "12:30");
    ck_assert_str_eq(ts_jstr(l, "state"), "approved");
    /* the person's own pattern and override (with its reason), and the resolved exception's reason */
    json_t *pats_j = json_object_get(j, "patterns");
    ck_assert_uint_eq(json_array_size(pats_j), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(pats_j, 0), "id"), pat_a);
    ck_assert_str_eq(ts_jstr(json_array_get(pats_j, 0), "kind"), "weekly");
    json_t *ovs_j = json_object_get(j, "overrides");
    ck_assert_uint_eq(json_array_size(ovs_j), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(ovs_j, 0), "id"), ov_a);
    ck_assert_str_eq(ts_jstr(json_array_get(ovs_j, 0), "date"), "2026-03-03");
    ck_assert_str_eq(ts_jstr(json_array_get(ovs_j, 0), "reason"), "swap with the night nurse");
    json_t *res_j = json_object_get(j, "exception_resolutions");
    ck_assert_uint_eq(json_array_size(res_j), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(res_j, 0), "id"), res_a);
    ck_assert_str_eq(ts_jstr(json_array_get(res_j, 0), "reason"), "rang in sick");
    json_t *audit = json_object_get(j, "audit");
    bool read = false, gave = false, exported = false, punched = false;
    json_array_foreach(audit, i, e)
    {
        const char *act = ts_jstr(e, "action");
        read |= strcmp(act, "person.read") == 0;
        gave |= strcmp(act, "consent.give") == 0;
        exported |= strcmp(act, "person.export") == 0;
        punched |= strcmp(act, "punch.create") == 0; /* names the person in its detail */
    }
    ck_assert(read && gave && exported && punched);
    /* nothing of anyone else, and never a template */
    ck_assert_ptr_null(strstr(r.body, b));
    ck_assert_ptr_null(strstr(r.body, "X-2"));
    ck_assert_ptr_null(strstr(r.body, fb));
    ck_assert_ptr_null(strstr(r.body, ev_b));
    ck_assert_ptr_null(strstr(r.body, lv_b));
    ck_assert_ptr_null(strstr(r.body, pat_b));
    ck_assert_ptr_null(strstr(r.body, ov_b));
    ck_assert_ptr_null(strstr(r.body, res_b));
    ck_assert_ptr_null(strstr(r.body, "for the course"));
    ck_assert_ptr_null(strstr(r.body, "on a course"));
    ck_assert_ptr_null(strstr(r.body, "template"));
    ck_assert_ptr_null(strstr(r.body, strtok(hex, ",")));
    json_decref(j);
    ts_resp_free(&r);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'person.export' AND target_id = '%s' AND "
                           "outcome = 'ok'",
                           a),
                     1);
    /* refusals */
    refused("GET", url("/api/v1/people/00000000-0000-4000-8000-000000000000/export"), D.admin_token, NULL, 404,
            "not_found", NULL);
    refused("GET", url("/api/v1/people/nope/export"), D.admin_token, NULL, 404, "not_found", NULL);
    refused("GET", url("/api/v1/people/%s/export", a), D.hr_token, NULL, 403, "forbidden", NULL);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'person.export' AND outcome = 'not_found'"),
                     2);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- need to know: tokens limited to departments ----------------------------------------------------------- */

/* A route template with its person id (at the first space, or the end) and face id (a second space). */
static void route_path(char *out, size_t len, const char *t, const char *person, const char *face_id)
{
    const char *sp = strchr(t, ' ');
    size_t pre = sp ? (size_t)(sp - t) : strlen(t);
    snprintf(out, len, "%.*s%s", (int)pre, t, person);
    if (!sp) return;
    const char *sp2 = strchr(sp + 1, ' ');
    size_t mid = sp2 ? (size_t)(sp2 - sp - 1) : strlen(sp + 1), used = strlen(out);
    snprintf(out + used, len - used, "%.*s%s", (int)mid, sp + 1, sp2 ? face_id : "");
}

START_TEST(department_scoped_token_sees_only_its_people)
{
    char pa[40], pb[40], ev_a[40], ev_b[40], tok[80];
    create_person("S-A", "Ward A", pa);
    create_person("S-B", "Ward B", pb);
    PGconn *c = ts_db_connect(conninfo, "attendd-test", true);
    unsigned char raw[32] = {3};
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    char fa[ATT_UUID_STR], fb[ATT_UUID_STR];
    ts_add_face(c, pa, k, fa);
    ts_add_face(c, pb, k, fb);
    att_uuid_new_text(ev_a);
    att_uuid_new_text(ev_b);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, source) VALUES ('%s', '%s', 'in', now() - interval '1 hour',"
             " 'camera'), ('%s', '%s', 'in', now() - interval '1 hour', 'camera')",
             ev_a, pa, ev_b, pb);
    ts_q_exec(c, sql);

    /* the token: bad forms first */
    static const char *const bad[] = {
        "{\"name\":\"w\",\"role\":\"admin\",\"departments\":[]}",
        "{\"name\":\"w\",\"role\":\"admin\",\"departments\":[\"Ward A\",\"\"]}",
        "{\"name\":\"w\",\"role\":\"admin\",\"departments\":[1]}",
        "{\"name\":\"w\",\"role\":\"admin\",\"departments\":\"Ward A\"}",
        "{\"name\":\"w\",\"role\":\"admin\",\"departments\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\","
        "\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused("POST", url("/api/v1/tokens"), D.admin_token, bad[i], 422, "invalid_field", "departments");
    long st;
    json_t *j = ts_call("POST", url("/api/v1/tokens"), D.admin_token,
                        "{\"name\":\"ward A manager\",\"role\":\"admin\",\"departments\":[\"Ward A\"]}", &st);
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "departments"), 0)), "Ward A");
    snprintf(tok, sizeof tok, "%s", ts_jstr(j, "token"));
    json_decref(j);
    j = ts_call("GET", url("/api/v1/whoami"), tok, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "departments")), 1);
    json_decref(j);

    /* every route that takes a person id: 404 for the other department's person, as for no person */
    const char *photo = ts_face_photo("img1.jpg");
    struct {
        const char *method, *path, *body;
    } routes[] = {
        {"GET", "/api/v1/people/", NULL},
        {"PATCH", "/api/v1/people/", "{\"title\":\"Charge nurse\"}"},
        {"DELETE", "/api/v1/people/", NULL},
        {"GET", "/api/v1/people/ /faces", NULL},
        {"POST", "/api/v1/people/ /faces", NULL}, /* a photo */
        {"DELETE", "/api/v1/people/ /faces/ ", NULL},
        {"GET", "/api/v1/people/ /consent", NULL},
        {"POST", "/api/v1/people/ /consent", "{\"state\":\"withdrawn\"}"},
        {"PUT", "/api/v1/people/ /pin", "{\"pin\":\"1234\"}"},
        {"GET", "/api/v1/people/ /export", NULL},
        {"GET", "/api/v1/events?person_id=", NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char path[256], full[300];
        route_path(path, sizeof path, routes[i].path, pb, fb);
        if (strcmp(routes[i].method, "GET") == 0) { /* the same read of its own person works: the path is right */
            char own[256];
            route_path(own, sizeof own, routes[i].path, pa, fa);
            json_decref(ts_call("GET", url("%s", own), tok, NULL, &st));
            ck_assert_msg(st == 200, "GET %s for its own department: %ld", own, st);
        }
        snprintf(full, sizeof full, "%s", url("%s", path));
        if (strcmp(routes[i].method, "POST") == 0 && strstr(path, "/faces")) {
            j = post_photo(full, tok, photo, &st);
        } else {
            j = ts_call(routes[i].method, full, tok, routes[i].body, &st);
        }
        char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
        ck_assert_msg(st == 404, "%s %s for another department: %ld %s", routes[i].method, path, st, txt ? txt : "");
        free(txt);
        ts_expect_problem(j, st, 404, "not_found", NULL);
    }
    /* nothing of the other department's person changed */
    ck_assert_int_eq(count("SELECT count(*) FROM people WHERE id = '%s' AND title IS NULL AND erased_at IS NULL"
                           " AND consent = 'given' AND pin_hash IS NULL",
                           pb),
                     1);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id = '%s'", pb), 1);
    /* the same routes work for its own people */
    j = ts_call("GET", url("/api/v1/people/%s", pa), tok, NULL, &st);
    ck_assert_int_eq(st, 200);
    json_decref(j);
    json_decref(ts_call("PATCH", url("/api/v1/people/%s", pa), tok, "{\"title\":\"Charge nurse\"}", &st));
    ck_assert_int_eq(st, 200);
    json_decref(ts_call("GET", url("/api/v1/people/%s/faces", pa), tok, NULL, &st));
    ck_assert_int_eq(st, 200);
    json_decref(ts_call("GET", url("/api/v1/people/%s/consent", pa), tok, NULL, &st));
    ck_assert_int_eq(st, 200);
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", pa), tok, "{\"pin\":\"1234\"}", &st));
    ck_assert_int_eq(st, 204);
    json_decref(ts_call("GET", url("/api/v1/people/%s/export", pa), tok, NULL, &st));
    ck_assert_int_eq(st, 200);
    json_decref(ts_call("DELETE", url("/api/v1/people/%s/faces/%s", pa, fa), tok, NULL, &st));
    ck_assert_int_eq(st, 204);
    /* moving one of its people out of its departments is refused */
    refused("PATCH", url("/api/v1/people/%s", pa), tok, "{\"department\":\"Ward B\"}", 422, "invalid_field",
            "department");
    /* lists hold only its people and their events */
    j = ts_call("GET", url("/api/v1/people"), tok, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    ck_assert_str_eq(ts_jstr(json_array_get(json_object_get(j, "items"), 0), "id"), pa);
    json_decref(j);
    j = ts_call("GET", url("/api/v1/people?department=Ward%%20B"), tok, NULL, &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    j = ts_call("GET", url("/api/v1/events"), tok, NULL, &st);
    ck_assert_int_eq(st, 200);
    char *txt = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strstr(txt, ev_a) && !strstr(txt, ev_b) && !strstr(txt, pb), "%s", txt);
    free(txt);
    json_decref(j);
    /* the unlimited token still sees both */
    j = ts_call("GET", url("/api/v1/people"), D.hr_token, NULL, &st);
    ck_assert_uint_ge(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
    /* installation administration is closed to it */
    static const char *const closed[] = {"/api/v1/audit", "/api/v1/tokens", "/metrics"};
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++) {
        j = ts_call("GET", url("%s", closed[i]), tok, NULL, &st);
        ck_assert_msg(st == 403, "%s with a limited token: %ld", closed[i], st);
        json_decref(j);
    }
    refused("POST", url("/api/v1/cameras"), tok, "{\"name\":\"x\",\"url\":\"rtsp://127.0.0.1/x\"}", 403, "forbidden",
            NULL);
    refused("POST", url("/api/v1/shifts"), tok, "{\"name\":\"x\",\"start\":\"08:00\",\"end\":\"16:00\"}", 403,
            "forbidden", NULL);
    /* it adds people to its own departments only */
    json_decref(ts_call("POST", url("/api/v1/people"), tok,
                        "{\"employee_no\":\"S-C\",\"name\":\"C\",\"department\":\"Ward A\"}", &st));
    ck_assert_int_eq(st, 201);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- need to know on every route: the table walk ------------------------------------------------------------ */

/* t with each "{id}" replaced by id, "{id2}" by id2 and "{own}" by own. */
static void fill(char *out, size_t len, const char *t, const char *id, const char *id2, const char *own)
{
    size_t n = 0;
    while (*t && n + 1 < len) {
        const char *v = NULL;
        size_t skip = 0;
        if (strncmp(t, "{id}", 4) == 0) v = id, skip = 4;
        else if (strncmp(t, "{id2}", 5) == 0) v = id2, skip = 5;
        else if (strncmp(t, "{own}", 5) == 0) v = own, skip = 5;
        if (v) {
            n += (size_t)snprintf(out + n, len - n, "%s", v);
            t += skip;
        } else out[n++] = *t++;
    }
    out[n < len ? n : len - 1] = '\0';
}

/* Both absent, or equal. */
static bool same(json_t *a, json_t *b) { return (a == NULL && b == NULL) || json_equal(a, b); }

/* A created row's id (POST by the admin token). */
static void make(const char *path, const char *body, char id[40])
{
    long st;
    json_t *j = ts_call("POST", url("%s", path), D.admin_token, body, &st);
    ck_assert_msg(st == 201, "POST %s %s: %ld", path, body, st);
    snprintf(id, 40, "%s", ts_jstr(j, "id"));
    json_decref(j);
}

/* For person p of department dept: a schedule, a pattern, an override, a leave, a camera event, a manual punch. */
struct owned {
    char sched[40], pattern[40], override[40], leave[40], event[40], punch[40];
};
static void own_things(const char *p, const char *shift, struct owned *o)
{
    char b[512];
    snprintf(b, sizeof b, "{\"shift_id\":\"%s\",\"person_id\":\"%s\",\"valid_from\":\"2026-02-01\"}", shift, p);
    make("/api/v1/schedules", b, o->sched);
    snprintf(b, sizeof b,
             "{\"person_id\":\"%s\",\"kind\":\"weekly\",\"valid_from\":\"2026-03-01\",\"cycle\":"
             "[[\"%s\"],[\"%s\"],[],[],[],[],[]]}",
             p, shift, shift);
    make("/api/v1/roster/patterns", b, o->pattern);
    snprintf(b, sizeof b, "{\"person_id\":\"%s\",\"date\":\"2026-03-04\",\"shift_ids\":[],\"reason\":\"swap\"}", p);
    make("/api/v1/roster/overrides", b, o->override);
    snprintf(b, sizeof b, "{\"person_id\":\"%s\",\"type\":\"annual\",\"from\":\"2026-03-05\",\"to\":\"2026-03-06\"}",
             p);
    make("/api/v1/leave", b, o->leave);
    att_uuid_new_text(o->event);
    snprintf(b, sizeof b,
             "INSERT INTO events (id, person_id, kind, ts, source) VALUES ('%s', '%s', 'in', '2026-03-02 08:10+00',"
             " 'camera')",
             o->event, p);
    ts_sql(conninfo, b);
    snprintf(b, sizeof b,
             "{\"person_id\":\"%s\",\"kind\":\"out\",\"ts\":\"2026-03-02T16:00:00Z\",\"reason\":\"forgot to punch\"}",
             p);
    make("/api/v1/punches", b, o->punch);
}

START_TEST(need_to_know_on_every_route)
{
    char pa[40], pb[40], shift[40], tok[80], none[40];
    create_person("N-A", "Ward A", pa);
    create_person("N-B", "Ward B", pb);
    make("/api/v1/shifts",
         "{\"name\":\"Day\",\"start\":\"08:00\",\"end\":\"16:00\",\"grace_late_min\":5,"
         "\"grace_early_min\":5}",
         shift);
    struct owned a, b;
    own_things(pa, shift, &a);
    own_things(pb, shift, &b);
    char sql[512], dept_sched[40], fb[ATT_UUID_STR];
    snprintf(sql, sizeof sql, "{\"shift_id\":\"%s\",\"department\":\"Ward B\",\"valid_from\":\"2026-02-01\"}", shift);
    make("/api/v1/schedules", sql, dept_sched);
    PGconn *c = ts_db_connect(conninfo, "attendd-test", true);
    unsigned char raw[32] = {3};
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    ts_add_face(c, pb, k, fb);
    snprintf(sql, sizeof sql, "INSERT INTO person_lookalikes (person_a, person_b, score) VALUES ('%s', '%s', 0.5)",
             strcmp(pa, pb) < 0 ? pa : pb, strcmp(pa, pb) < 0 ? pb : pa);
    ts_q_exec(c, sql);
    char period[40];
    make("/api/v1/periods", "{\"name\":\"2026-03\",\"from\":\"2026-03-01\",\"to\":\"2026-03-31\"}", period);
    long st;
    json_t *j = ts_call("POST", url("/api/v1/tokens"), D.admin_token,
                        "{\"name\":\"ward A\",\"role\":\"admin\",\"departments\":[\"Ward A\"]}", &st);
    ck_assert_int_eq(st, 201);
    snprintf(tok, sizeof tok, "%s", ts_jstr(j, "token"));
    json_decref(j);
    att_uuid_new_text(none);

    /* Every route naming something of Ward B answers exactly as for something that does not exist:
     * {id} is Ward B's (then a fresh uuid), {id2} likewise, {own} stays Ward A's. */
#define RANGE "from=2026-03-01&to=2026-03-07"
    struct {
        const char *method, *path, *body, *id, *id2;
        long want;
    } routes[] = {
        {"GET", "/api/v1/people/{id}", NULL, pb, NULL, 404},
        {"PATCH", "/api/v1/people/{id}", "{\"title\":\"Charge nurse\"}", pb, NULL, 404},
        {"GET", "/api/v1/people/{id}/faces", NULL, pb, NULL, 404},
        {"DELETE", "/api/v1/people/{id}/faces/{id2}", NULL, pb, fb, 404},
        {"GET", "/api/v1/people/{id}/consent", NULL, pb, NULL, 404},
        {"POST", "/api/v1/people/{id}/consent", "{\"state\":\"withdrawn\"}", pb, NULL, 404},
        {"PUT", "/api/v1/people/{id}/pin", "{\"pin\":\"1234\"}", pb, NULL, 404},
        {"GET", "/api/v1/people/{id}/export", NULL, pb, NULL, 404},
        {"GET", "/api/v1/people/{id}/lookalikes", NULL, pb, NULL, 404},
        {"GET", "/api/v1/events?person_id={id}", NULL, pb, NULL, 404},
        {"GET", "/api/v1/events?format=csv&person_id={id}", NULL, pb, NULL, 404},
        {"POST", "/api/v1/punches",
         "{\"person_id\":\"{id}\",\"kind\":\"in\",\"ts\":\"2026-03-03T08:00:00Z\",\"reason\":\"forgot\"}", pb, NULL,
         422},
        {"DELETE", "/api/v1/punches/{id}", "{\"reason\":\"typo\"}", b.punch, NULL, 404},
        {"POST", "/api/v1/events/{id}/misidentified", "{\"reason\":\"not her\"}", b.event, NULL, 404},
        {"POST", "/api/v1/events/{own}/misidentified", "{\"reason\":\"not her\",\"actual_person_id\":\"{id}\"}", pb,
         NULL, 422},
        {"POST", "/api/v1/schedules", "{\"shift_id\":\"{id2}\",\"person_id\":\"{id}\",\"valid_from\":\"2026-02-01\"}",
         pb, shift, 422},
        {"GET", "/api/v1/schedules/{id}", NULL, b.sched, NULL, 404},
        {"GET", "/api/v1/schedules/{id}", NULL, dept_sched, NULL, 404},
        {"PATCH", "/api/v1/schedules/{id}", "{\"valid_to\":\"2026-12-31\"}", b.sched, NULL, 404},
        {"DELETE", "/api/v1/schedules/{id}", NULL, dept_sched, NULL, 404},
        {"POST", "/api/v1/roster/patterns",
         "{\"person_id\":\"{id}\",\"kind\":\"weekly\",\"valid_from\":\"2026-01-01\",\"cycle\":[[],[],[],[],[],[],[]]}",
         pb, NULL, 422},
        {"DELETE", "/api/v1/roster/patterns/{id}", NULL, b.pattern, NULL, 404},
        {"POST", "/api/v1/roster/overrides",
         "{\"person_id\":\"{id}\",\"date\":\"2026-03-09\",\"shift_ids\":[],\"reason\":\"swap\"}", pb, NULL, 422},
        {"DELETE", "/api/v1/roster/overrides/{id}", NULL, b.override, NULL, 404},
        {"POST", "/api/v1/leave",
         "{\"person_id\":\"{id}\",\"type\":\"annual\",\"from\":\"2026-03-10\",\"to\":\"2026-03-11\"}", pb, NULL, 422},
        {"PATCH", "/api/v1/leave/{id}", "{\"state\":\"approved\"}", b.leave, NULL, 404},
        {"DELETE", "/api/v1/leave/{id}", NULL, b.leave, NULL, 404},
        {"POST", "/api/v1/exceptions/resolve",
         "{\"person_id\":\"{id}\",\"date\":\"2026-03-02\",\"kind\":\"late\",\"action\":\"accept\",\"reason\":\"tram\"}",
         pb, NULL, 422},
        {"GET", "/api/v1/roster?" RANGE "&person_id={id}", NULL, pb, NULL, 422},
        {"GET", "/api/v1/exceptions?" RANGE "&person_id={id}", NULL, pb, NULL, 422},
        {"GET", "/api/v1/attendance?" RANGE "&person_id={id}", NULL, pb, NULL, 422},
        {"GET", "/api/v1/roster?" RANGE "&department={id}", NULL, "Ward%20B", NULL, 422},
        {"GET", "/api/v1/exceptions?" RANGE "&department={id}", NULL, "Ward%20B", NULL, 422},
        {"GET", "/api/v1/attendance?" RANGE "&department={id}", NULL, "Ward%20B", NULL, 422},
        {"DELETE", "/api/v1/people/{id}", NULL, pb, NULL, 404},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char path[512], body[512] = "", mpath[512], mbody[512] = "";
        const char *missing = routes[i].id[0] == 'W' ? "Nowhere" : none;
        fill(path, sizeof path, routes[i].path, routes[i].id, routes[i].id2 ? routes[i].id2 : "", a.event);
        fill(mpath, sizeof mpath, routes[i].path, missing, routes[i].id2 ? routes[i].id2 : none, a.event);
        if (routes[i].body) {
            fill(body, sizeof body, routes[i].body, routes[i].id, routes[i].id2 ? routes[i].id2 : "", a.event);
            fill(mbody, sizeof mbody, routes[i].body, missing, routes[i].id2 ? routes[i].id2 : none, a.event);
        }
        struct ts_resp r, m;
        ck_assert_int_eq(ts_http(routes[i].method, url("%s", path), tok, routes[i].body ? body : NULL, strlen(body),
                                 routes[i].body ? "application/json" : NULL, &r),
                         0);
        ck_assert_int_eq(ts_http(routes[i].method, url("%s", mpath), tok, routes[i].body ? mbody : NULL, strlen(mbody),
                                 routes[i].body ? "application/json" : NULL, &m),
                         0);
        ck_assert_msg(r.status == routes[i].want, "%s %s for Ward B: %ld %s", routes[i].method, path, r.status, r.body);
        json_t *rj = json_loads(r.body, 0, NULL), *mj = json_loads(m.body, 0, NULL);
        ck_assert_msg(m.status == r.status && same(json_object_get(rj, "code"), json_object_get(mj, "code")) &&
                          same(json_object_get(rj, "field"), json_object_get(mj, "field")),
                      "%s %s: Ward B answers %ld %s, nothing answers %ld %s", routes[i].method, path, r.status, r.body,
                      m.status, m.body);
        ck_assert_ptr_null(strstr(r.body, "Ward B"));
        json_decref(rj);
        json_decref(mj);
        ts_resp_free(&r);
        ts_resp_free(&m);
    }
    /* Ward B's rows are all still there, untouched */
    ck_assert_int_eq(count("SELECT count(*) FROM people WHERE id = '%s' AND title IS NULL AND erased_at IS NULL"
                           " AND pin_hash IS NULL",
                           pb),
                     1);
    ck_assert_int_eq(count("SELECT (SELECT count(*) FROM schedules WHERE id IN ('%s', '%s') AND valid_to IS NULL)"
                           " + (SELECT count(*) FROM roster_patterns WHERE id = '%s')"
                           " + (SELECT count(*) FROM roster_overrides WHERE id = '%s')"
                           " + (SELECT count(*) FROM leave WHERE id = '%s' AND state = 'requested')"
                           " + (SELECT count(*) FROM events WHERE id IN ('%s', '%s') AND voided_at IS NULL)"
                           " + (SELECT count(*) FROM faces WHERE id = '%s')",
                           b.sched, dept_sched, b.pattern, b.override, b.leave, b.event, b.punch, fb),
                     8);
    /* a department outside in a write body is refused */
    snprintf(sql, sizeof sql, "{\"shift_id\":\"%s\",\"department\":\"Ward B\",\"valid_from\":\"2027-02-01\"}", shift);
    refused("POST", url("/api/v1/schedules"), tok, sql, 422, "invalid_field", "department");
    refused("POST", url("/api/v1/people"), tok, "{\"employee_no\":\"N-C\",\"name\":\"C\",\"department\":\"Ward B\"}",
            422, "invalid_field", "department");

    /* lists, reports, exports and the stream: Ward A's people only (the unlimited token sees Ward B's too) */
    char lookalikes[128], payroll[128];
    snprintf(lookalikes, sizeof lookalikes, "/api/v1/people/%s/lookalikes", pa);
    snprintf(payroll, sizeof payroll, "/api/v1/periods/%s/payroll", period);
    const char *lists[] = {
        "/api/v1/people",
        "/api/v1/events",
        "/api/v1/events?format=csv",
        "/api/v1/schedules",
        "/api/v1/roster/patterns",
        "/api/v1/roster/overrides?" RANGE,
        "/api/v1/leave?" RANGE,
        "/api/v1/roster?" RANGE,
        "/api/v1/exceptions?" RANGE,
        "/api/v1/attendance?" RANGE,
        "/api/v1/attendance?format=csv&" RANGE,
        payroll,
        lookalikes,
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct ts_resp r;
        ck_assert_int_eq(ts_http("GET", url("%s", lists[i]), tok, NULL, 0, NULL, &r), 0);
        ck_assert_msg(r.status == 200, "GET %s: %ld %s", lists[i], r.status, r.body);
        ck_assert_msg(!strstr(r.body, pb) && !strstr(r.body, "Ward B") && !strstr(r.body, "N-B") &&
                          !strstr(r.body, b.event) && !strstr(r.body, b.sched) && !strstr(r.body, dept_sched),
                      "GET %s shows Ward B: %s", lists[i], r.body);
        if (lists[i] != lookalikes) ck_assert_msg(strstr(r.body, pa), "GET %s misses Ward A: %s", lists[i], r.body);
        ts_resp_free(&r);
        ck_assert_int_eq(ts_http("GET", url("%s", lists[i]), D.admin_token, NULL, 0, NULL, &r), 0);
        ck_assert_msg(r.status == 200 && strstr(r.body, pb), "GET %s unlimited: %ld %s", lists[i], r.status, r.body);
        ts_resp_free(&r);
    }
    /* the live stream from the start: Ward A's events, never Ward B's */
    struct ts_http_opts o = {.timeout_ms = 3000, .header = "Last-Event-ID: 0"};
    struct ts_resp r = {0};
    (void)ts_http_ex(&o, "GET", url("/api/v1/events/stream"), tok, NULL, 0, NULL, &r); /* ends at the timeout */
    ck_assert_msg(r.body && strstr(r.body, a.event) && strstr(r.body, a.punch), "stream: %s", r.body ? r.body : "");
    ck_assert_msg(!strstr(r.body, b.event) && !strstr(r.body, b.punch) && !strstr(r.body, pb), "stream: %s", r.body);
    ts_resp_free(&r);
    struct ts_resp ra = {0};
    (void)ts_http_ex(&o, "GET", url("/api/v1/events/stream"), D.admin_token, NULL, 0, NULL, &ra);
    ck_assert_msg(ra.body && strstr(ra.body, b.event), "unlimited stream: %s", ra.body ? ra.body : "");
    ts_resp_free(&ra);

    /* installation administration stays closed to a limited principal */
    static const char *const closed[] = {"/api/v1/audit", "/api/v1/tokens", "/metrics"};
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
        refused("GET", url("%s", closed[i]), tok, NULL, 403, "forbidden", NULL);
    refused("POST", url("/api/v1/holidays"), tok, "{\"date\":\"2026-12-25\",\"name\":\"X\"}", 403, "forbidden", NULL);
    refused("POST", url("/api/v1/periods/%s/close", period), tok, "{\"reason\":\"x\"}", 403, "forbidden", NULL);

    /* a kiosk limited to Ward A: Ward B's people (by PIN, right or wrong, or by badge) are answered
     * byte for byte as nobody, and nothing of theirs is counted, locked or punched */
    char kiosk[80];
    j = ts_call("POST", url("/api/v1/tokens"), D.admin_token,
                "{\"name\":\"ward A kiosk\",\"role\":\"kiosk\",\"departments\":[\"Ward A\"]}", &st);
    ck_assert_int_eq(st, 201);
    snprintf(kiosk, sizeof kiosk, "%s", ts_jstr(j, "token"));
    json_decref(j);
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", pa), D.admin_token, "{\"pin\":\"2468\"}", &st));
    ck_assert_int_eq(st, 204);
    json_decref(ts_call("PUT", url("/api/v1/people/%s/pin", pb), D.admin_token, "{\"pin\":\"1357\"}", &st));
    ck_assert_int_eq(st, 204);
    json_decref(ts_call("PATCH", url("/api/v1/people/%s", pb), D.admin_token, "{\"badge_id\":\"NB-1\"}", &st));
    ck_assert_int_eq(st, 200);
    static const char *const kiosk_pairs[][2] = {
        /* Ward B's, then nobody's */
        {"{\"employee_no\":\"N-B\",\"pin\":\"1357\",\"kind\":\"in\"}",
         "{\"employee_no\":\"N-Z\",\"pin\":\"1357\",\"kind\":\"in\"}"},
        {"{\"employee_no\":\"N-B\",\"pin\":\"9999\",\"kind\":\"in\"}",
         "{\"employee_no\":\"N-Z\",\"pin\":\"9999\",\"kind\":\"in\"}"},
        {"{\"employee_no\":\"N-B\",\"pin\":\"9999\",\"kind\":\"out\"}",
         "{\"employee_no\":\"N-Z\",\"pin\":\"9999\",\"kind\":\"out\"}"},
        {"{\"employee_no\":\"N-B\",\"pin\":\"9999\",\"kind\":\"in\"}",
         "{\"employee_no\":\"N-Z\",\"pin\":\"9999\",\"kind\":\"in\"}"},
        {"{\"badge_id\":\"NB-1\",\"kind\":\"in\"}", "{\"badge_id\":\"NB-9\",\"kind\":\"in\"}"}};
    for (size_t i = 0; i < sizeof kiosk_pairs / sizeof kiosk_pairs[0]; i++) {
        struct ts_resp kb, kn;
        ck_assert_int_eq(ts_http("POST", url("/api/v1/kiosk/punch"), kiosk, kiosk_pairs[i][0],
                                 strlen(kiosk_pairs[i][0]), "application/json", &kb),
                         0);
        ck_assert_int_eq(ts_http("POST", url("/api/v1/kiosk/punch"), kiosk, kiosk_pairs[i][1],
                                 strlen(kiosk_pairs[i][1]), "application/json", &kn),
                         0);
        ck_assert_msg(kb.status == 422 && kn.status == 422 && kb.body && kn.body && strcmp(kb.body, kn.body) == 0 &&
                          strcmp(kb.content_type, kn.content_type) == 0,
                      "kiosk %s: Ward B answers %ld %s, nobody answers %ld %s", kiosk_pairs[i][0], kb.status, kb.body,
                      kn.status, kn.body);
        ts_resp_free(&kb);
        ts_resp_free(&kn);
    }
    ck_assert_int_eq(
        count("SELECT count(*) FROM people WHERE id = '%s' AND pin_failures = 0 AND pin_locked_at IS NULL", pb), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM events WHERE person_id = '%s' AND source = 'kiosk'", pb), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE action = 'kiosk.punch' AND target_id = '%s' AND"
                           " outcome = 'invalid_field' AND (detail->>'outside_departments')::boolean",
                           pb),
                     5);
    /* its own people punch as ever; the unlimited kiosk still serves Ward B */
    json_t *kp = NULL;
    ck_assert_int_eq(punch(kiosk, "{\"employee_no\":\"N-A\",\"pin\":\"2468\",\"kind\":\"in\"}", &kp), 201);
    ck_assert_str_eq(ts_jstr(kp, "person_id"), pa);
    json_decref(kp);
    char open_kiosk[80];
    kiosk_token("every ward kiosk", open_kiosk);
    ck_assert_int_eq(punch(open_kiosk, "{\"badge_id\":\"NB-1\",\"kind\":\"in\"}", &kp), 201);
    ck_assert_str_eq(ts_jstr(kp, "person_id"), pb);
    json_decref(kp);
#undef RANGE
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- bystanders: zero retention ------------------------------------------------------------------------------ */

/* Every uuid written as text in buf (the spool's records are JSON, the log and metrics text). */
static size_t uuids_in(const char *buf, char out[][ATT_UUID_STR], size_t max)
{
    size_t n = 0;
    for (const char *p = buf; *p && n < max; p++) {
        char cand[ATT_UUID_STR];
        size_t k = 0;
        while (k < 36 && p[k] && ((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f') || p[k] == '-')) k++;
        if (k != 36) continue;
        memcpy(cand, p, 36);
        cand[36] = '\0';
        if (!att_uuid_valid(cand)) continue;
        memcpy(out[n++], cand, ATT_UUID_STR);
        p += 35;
    }
    return n;
}

static bool known(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(id, ids[i]) == 0) return true;
    return false;
}

/* Every file under dir, concatenated (a test directory: small). */
static void slurp_tree(const char *dir, char **acc, size_t *len)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -type f -print0 | xargs -0 -r cat", dir);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *acc = realloc(*acc, *len + n + 1);
        memcpy(*acc + *len, buf, n);
        *len += n;
        (*acc)[*len] = '\0';
    }
    pclose(f);
    if (*acc == NULL) *acc = calloc(1, 1);
}

START_TEST(bystanders_leave_no_trace)
{
    /* a partial gallery: of the clip's walkers only id01 and id02 are enrolled; id03..id13 walk past
     * as strangers (../shared/data/video/shift-change.json) */
    char p1[40], p2[40], cam[40], body[512];
    create_person("B-01", "Ward 7", p1);
    create_person("B-02", "Ward 7", p2);
    ts_api_consent_given(D.url, D.admin_token, p1);
    ts_api_consent_given(D.url, D.admin_token, p2);
    long st;
    json_decref(post_photo(url("/api/v1/people/%s/faces", p1), D.admin_token, ts_face_photo("img1.jpg"), &st));
    ck_assert_int_eq(st, 201);
    json_decref(post_photo(url("/api/v1/people/%s/faces", p2), D.admin_token, ts_face_photo("img3.jpg"), &st));
    ck_assert_int_eq(st, 201);
    struct ts_rtsp srv;
    char *clip = ts_data_path("video/shift-change.mp4"), rtsp[128];
    ck_assert_int_eq(ts_rtsp_start_once(&srv, clip, 0, 0), 0);
    free(clip);
    ts_rtsp_url(&srv, 0, rtsp, sizeof rtsp);
    snprintf(body, sizeof body, "{\"name\":\"ward-7\",\"url\":\"%s\",\"role\":\"auto\"}", rtsp);
    created("/api/v1/cameras", body, cam);
    /* the clip plays once (33 s); then its last decisions land */
    double t0 = ts_now_s();
    while (ts_now_s() - t0 < 45) ts_sleep_ms(500);
    ts_rtsp_stop(&srv);

    /* the database: events of the two enrolled people only, nothing else about anyone */
    ck_assert_int_eq(
        count("SELECT count(*) FROM events WHERE person_id IS NULL OR person_id NOT IN ('%s', '%s')", p1, p2), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM people"), 2);
    ck_assert_int_eq(count("SELECT count(*) FROM faces WHERE person_id NOT IN ('%s', '%s')", p1, p2), 0);
    char evs[8192];
    ck_assert_int_eq(ts_psql(conninfo, "SELECT coalesce(string_agg(id::text, ','), '') FROM events", evs, sizeof evs),
                     0);
    const char *ids[256] = {p1, p2, cam, admin_id};
    size_t nids = 4;
    for (char *t = strtok(evs, ","); t && nids < 256; t = strtok(NULL, ",")) ids[nids++] = t;
    /* tokens (the audit log and the log name them) */
    char toks[4096];
    ck_assert_int_eq(
        ts_psql(conninfo, "SELECT coalesce(string_agg(id::text, ','), '') FROM api_tokens", toks, sizeof toks), 0);
    for (char *t = strtok(toks, ","); t && nids < 256; t = strtok(NULL, ",")) ids[nids++] = t;
    char faces_ids[1024];
    ck_assert_int_eq(
        ts_psql(conninfo, "SELECT coalesce(string_agg(id::text, ','), '') FROM faces", faces_ids, sizeof faces_ids), 0);
    for (char *t = strtok(faces_ids, ","); t && nids < 256; t = strtok(NULL, ",")) ids[nids++] = t;

    /* the state directory (spool and all), the debug log, the metrics: no id but those */
    static char found[4096][ATT_UUID_STR];
    char state[320];
    snprintf(state, sizeof state, "%s/state", D.dir);
    char *all = NULL;
    size_t len = 0;
    slurp_tree(state, &all, &len);
    size_t n = uuids_in(all, found, 4096);
    for (size_t i = 0; i < n; i++) ck_assert_msg(known(found[i], ids, nids), "state dir holds unknown id %s", found[i]);
    free(all);
    char *log = ts_slurp(D.log, NULL);
    ck_assert_ptr_nonnull(strstr(log, " debug ")); /* it is the debug level */
    n = uuids_in(log, found, 4096);
    for (size_t i = 0; i < n; i++) ck_assert_msg(known(found[i], ids, nids), "the log names unknown id %s", found[i]);
    /* a recognition line is written for a match only: never for a stranger's face */
    for (const char *l = strstr(log, "top-1"); l; l = strstr(l + 1, "top-1"))
        ck_assert_msg(strncmp(l, "top-1 -", 7) != 0, "a stranger's recognition is in the log");
    free(log);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("GET", url("/metrics"), D.hr_token, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    n = uuids_in(r.body, found, 4096);
    for (size_t i = 0; i < n; i++) ck_assert_msg(strcmp(found[i], cam) == 0, "a metric label names %s", found[i]);
    ck_assert_ptr_null(strstr(r.body, p1));
    /* the camera saw and searched many faces, strangers among them (the test would prove nothing otherwise) */
    const char *rec = strstr(r.body, "\nattendd_camera_recognitions_total{");
    ck_assert_ptr_nonnull(rec);
    ck_assert_double_gt(strtod(strchr(rec, '}') + 1, NULL), 20);
    ts_resp_free(&r);
}
END_TEST

static void fx_kiosk(void)
{
    memset(&D, 0, sizeof D);
    ck_assert_int_eq(ts_db_new(conninfo, sizeof conninfo), 0);
    ck_assert_int_eq(ts_daemon_start(&D, conninfo, "kiosk_attempts_per_min = 4\nkiosk_person_attempts_per_min = 2\n"),
                     0);
}

Suite *privacy_suite(void)
{
    Suite *s = suite_create("privacy");
    ts_tcase(s, "consent", 900, fx_start, fx_stop, consent_texts_versioned,
             enrolment_needs_consent_and_withdrawal_erases, NULL);
    ts_tcase(s, "consent_store", 120, NULL, NULL, withdrawal_wins_over_enrolment_in_flight, NULL);
    ts_tcase(s, "alternative", 900, fx_start, fx_stop, biometric_opt_out_erases_and_refuses, kiosk_pin_badge_and_lock,
             NULL);
    ts_tcase(s, "kiosk_limits", 300, fx_kiosk, fx_stop, kiosk_rate_limits, NULL);
    ts_tcase(s, "retention", 300, fx_start, fx_stop, retention_schedule, retention_runs_on_a_moved_clock, NULL);
    ts_tcase(s, "export", 300, fx_start, fx_stop, subject_export_holds_everything_and_no_one_else, NULL);
    ts_tcase(s, "scope", 300, fx_start, fx_stop, department_scoped_token_sees_only_its_people, NULL);
    ts_tcase(s, "scope_routes", 300, fx_start, fx_stop, need_to_know_on_every_route, NULL);
    ts_tcase(s, "bystanders", 300, fx_start, fx_stop, bystanders_leave_no_trace, NULL);
    return s;
}
