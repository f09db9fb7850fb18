/* Store side of the roster against a throwaway PostgreSQL cluster: people (conflicts,
 * filters, keyset pagination, patch, erasure), encrypted faces, the gallery stream, key rotation
 * (store function and `attendctl key rotate`), audit listing, and a pg_dump free of plaintext. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/migrations.h"
#include "attendd/store_audit.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"
#include "src/store/cursor.h"
#include "src/store/statements.h"
#include "support.h"
#include "support_store.h"

#define MODEL "fr_feature:87aacdfe"

/* First value of a query with up to two text parameters, into out ("" for NULL); false if it failed. */
static bool query_p(PGconn *c, const char *sql, const char *p1, const char *p2, char *out, size_t len)
{
    const char *v[2] = {p1, p2};
    int n = p2 ? 2 : p1 ? 1 : 0;
    PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    if (ok) snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

static int query_int_p(PGconn *c, const char *sql, const char *p1)
{
    char buf[64];
    ck_assert_msg(query_p(c, sql, p1, NULL, buf, sizeof buf), "query failed: %s: %s", sql, PQerrorMessage(c));
    return atoi(buf);
}

static void add_person(PGconn *c, const char *emp, const char *name, const char *dep, bool active,
                       char id[ATT_UUID_STR])
{
    struct person_new p = {.employee_no = emp, .name = name, .department = dep, .active = active};
    att_err rc = store_person_create(c, &p, id);
    ck_assert_msg(rc == ATT_OK, "create %s: %s", emp, att_err_code(rc));
}

static tcrypt_key *key_of(unsigned char fill)
{
    unsigned char raw[32];
    memset(raw, fill, sizeof raw);
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    return k;
}

static void embedding(float v[TCRYPT_DIM], int seed)
{
    for (int d = 0; d < TCRYPT_DIM; d++) v[d] = sinf((float)(d + 1) * 0.37f + (float)seed) * 0.0441f;
}

/* Encrypt embedding(seed) for (person, new face) and store it; face id out. */
static void add_face(PGconn *c, const tcrypt_key *k, const char *person, int seed, char face[ATT_UUID_STR])
{
    float v[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    embedding(v, seed);
    att_uuid_new_text(face);
    ck_assert_int_eq(tcrypt_encrypt(k, v, person, face, MODEL, blob), ATT_OK);
    struct person p;
    ck_assert_int_eq(store_person_get(c, person, &p), ATT_OK);
    if (strcmp(p.consent, "given") != 0) ts_consent_given(c, person);
    att_err rc = store_face_insert(c, person, face, MODEL, tcrypt_key_id(k), blob, sizeof blob, "{\"sharpness\":0.9}");
    ck_assert_msg(rc == ATT_OK, "face insert: %s", att_err_code(rc));
}

/* ---- people ---------------------------------------------------------------------------------------- */

START_TEST(person_create_get_conflict)
{
    char ci[600], id[ATT_UUID_STR], id2[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct person_new p = {
        .employee_no = "E-001", .name = "Ada Lovelace", .department = "Cardiology", .title = "Nurse", .active = true};
    ck_assert_int_eq(store_person_create(c, &p, id), ATT_OK);
    ck_assert(att_uuid_valid(id));
    struct person got;
    ck_assert_int_eq(store_person_get(c, id, &got), ATT_OK);
    ck_assert_str_eq(got.id, id);
    ck_assert_str_eq(got.employee_no, "E-001");
    ck_assert_str_eq(got.name, "Ada Lovelace");
    ck_assert_str_eq(got.department, "Cardiology");
    ck_assert_str_eq(got.title, "Nurse");
    ck_assert(got.active && !got.erased);
    ck_assert_int_eq((int)strlen(got.created_at), 20);
    ck_assert(got.created_at[10] == 'T' && got.created_at[19] == 'Z');

    /* duplicate employee number, different everything else */
    struct person_new dup = {.employee_no = "E-001", .name = "Someone Else", .active = true};
    ck_assert_int_eq(store_person_create(c, &dup, id2), ATT_E_CONFLICT);
    ck_assert_str_eq(id2, "");
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM people", NULL), 1);

    /* invalid fields, named */
    struct person_new bad = {.employee_no = "E-9", .name = "", .active = true};
    ck_assert_str_eq(person_new_invalid_field(&bad), "name");
    ck_assert_int_eq(store_person_create(c, &bad, id2), ATT_E_INVALID);
    bad = (struct person_new){.employee_no = NULL, .name = "X"};
    ck_assert_str_eq(person_new_invalid_field(&bad), "employee_no");
    char long_no[80];
    memset(long_no, '7', 65);
    long_no[65] = '\0';
    bad = (struct person_new){.employee_no = long_no, .name = "X"};
    ck_assert_str_eq(person_new_invalid_field(&bad), "employee_no");
    long_no[64] = '\0'; /* 64 characters: the limit */
    bad.employee_no = long_no;
    ck_assert_ptr_null(person_new_invalid_field(&bad));
    bad = (struct person_new){.employee_no = "E-10", .name = "X", .department = "Ward\n3"};
    ck_assert_str_eq(person_new_invalid_field(&bad), "department");
    bad = (struct person_new){.employee_no = "E-10", .name = "X", .title = "\xc3\x28"};
    ck_assert_str_eq(person_new_invalid_field(&bad), "title");
    /* 200 two-byte characters fit (limits are characters, not bytes) */
    char wide[401];
    for (int i = 0; i < 200; i++) memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[400] = '\0';
    struct person_new ok = {.employee_no = "E-11", .name = wide, .active = false};
    ck_assert_int_eq(store_person_create(c, &ok, id2), ATT_OK);
    ck_assert_int_eq(store_person_get(c, id2, &got), ATT_OK);
    ck_assert_str_eq(got.name, wide);
    ck_assert_str_eq(got.department, "");
    ck_assert(!got.active);

    /* not found: unknown, malformed */
    ck_assert_int_eq(store_person_get(c, "00000000-0000-4000-8000-000000000000", &got), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_person_get(c, "nope", &got), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_person_get(c, "'; DROP TABLE people; --", &got), ATT_E_NOT_FOUND);
    PQfinish(c);
}
END_TEST

/* Run a list and collect the employee numbers, comma-joined in order. */
static size_t list_nos(PGconn *c, const struct person_filter *f, char *out, size_t len)
{
    struct person *v;
    size_t n;
    char next[STORE_CURSOR_MAX];
    att_err rc = store_person_list(c, f, &v, &n, next);
    ck_assert_msg(rc == ATT_OK, "list: %s", att_err_code(rc));
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ck_assert(!v[i].erased);
        strncat(out, v[i].employee_no, len - strlen(out) - 2);
        if (i + 1 < n) strcat(out, ",");
    }
    free(v);
    return n;
}

START_TEST(person_list_filters)
{
    char ci[600], id[ATT_UUID_STR], got[1024];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    /* one transaction, so created_at ties and the id breaks them: order checked as a set below */
    add_person(c, "A1", "Alice Martin", "Cardiology", true, id);
    add_person(c, "A_2", "Bob 100% Sure", "Cardiology", true, id);
    add_person(c, "B3", "Carol Smith", "Radiology", false, id);
    add_person(c, "B4", "dave O'Brien", "Radiology", true, id);
    add_person(c, "C5", "Eve Ander\\son", NULL, true, id);
    char erased[ATT_UUID_STR];
    add_person(c, "Z9", "Zed Erased", "Cardiology", true, erased);
    ck_assert_int_eq(store_person_erase(c, erased, NULL), ATT_OK);

    struct person_filter f = {.limit = 100};
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 5);

    f.department = "Cardiology";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 2);
    ck_assert_str_eq(got, "A1,A_2");
    f.department = "cardiology"; /* exact */
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 0);
    f.department = NULL;

    f.q = "%";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "A_2");
    f.q = "_";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "A_2");
    f.q = "\\";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "C5");
    f.q = "'";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "B4");
    f.q = "SMITH"; /* case-insensitive, substring of the name */
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "B3");
    f.q = "b"; /* employee numbers B3, B4 and names Bob, O'Brien */
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 3);
    f.q = "zed"; /* the erased person's old name is gone */
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 0);
    f.q = "";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 5);
    f.q = NULL;

    f.active = PERSON_ACTIVE_ONLY;
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 4);
    f.active = PERSON_INACTIVE_ONLY; /* the erased (inactive) tombstone is not listed */
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "B3");
    f.department = "Radiology";
    f.active = PERSON_ACTIVE_ONLY;
    f.q = "o'b";
    ck_assert_int_eq(list_nos(c, &f, got, sizeof got), 1);
    ck_assert_str_eq(got, "B4");

    /* bad parameters */
    struct person *v;
    size_t n;
    char next[STORE_CURSOR_MAX];
    struct person_filter bad = {.limit = 0};
    ck_assert_int_eq(store_person_list(c, &bad, &v, &n, next), ATT_E_BAD_PARAM);
    bad.limit = PERSON_LIST_MAX_LIMIT + 1;
    ck_assert_int_eq(store_person_list(c, &bad, &v, &n, next), ATT_E_BAD_PARAM);
    bad = (struct person_filter){.limit = 10, .q = "\xff"};
    ck_assert_int_eq(store_person_list(c, &bad, &v, &n, next), ATT_E_BAD_PARAM);
    bad = (struct person_filter){.limit = 10, .active = 7};
    ck_assert_int_eq(store_person_list(c, &bad, &v, &n, next), ATT_E_BAD_PARAM);
    PQfinish(c);
}
END_TEST

START_TEST(person_list_pagination)
{
    char ci[600], id[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    /* 15 in one transaction (identical created_at: only the id orders them), 10 more one by one */
    ck_assert(ts_q_ok(c, "BEGIN"));
    for (int i = 0; i < 15; i++) {
        char no[16];
        snprintf(no, sizeof no, "P%02d", i);
        add_person(c, no, "Same Time", i % 2 ? "Odd" : "Even", true, id);
    }
    ck_assert(ts_q_ok(c, "COMMIT"));
    for (int i = 15; i < 25; i++) {
        char no[16];
        snprintf(no, sizeof no, "P%02d", i);
        add_person(c, no, "Later", i % 2 ? "Odd" : "Even", true, id);
    }
    bool seen[25] = {false};
    char cursor[STORE_CURSOR_MAX] = "", prev_created[STORE_TS_LEN] = "";
    int pages = 0, total = 0;
    do {
        struct person_filter f = {.limit = 10, .cursor = cursor};
        struct person *v;
        size_t n;
        char next[STORE_CURSOR_MAX];
        ck_assert_int_eq(store_person_list(c, &f, &v, &n, next), ATT_OK);
        pages++;
        ck_assert_uint_eq(n, pages < 3 ? 10 : 5);
        for (size_t i = 0; i < n; i++) {
            int k = atoi(v[i].employee_no + 1);
            ck_assert_msg(!seen[k], "%s listed twice", v[i].employee_no);
            seen[k] = true;
            ck_assert(strcmp(v[i].created_at, prev_created) >= 0); /* oldest first */
            snprintf(prev_created, sizeof prev_created, "%s", v[i].created_at);
            total++;
        }
        free(v);
        ck_assert(pages < 3 ? next[0] != '\0' : next[0] == '\0');
        ck_assert_uint_lt(strlen(next), STORE_CURSOR_MAX);
        snprintf(cursor, sizeof cursor, "%s", next);
    } while (cursor[0] && pages < 10);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(total, 25);
    for (int k = 0; k < 25; k++) ck_assert_msg(seen[k], "P%02d missing", k);

    /* exactly one page's worth: no next cursor */
    struct person_filter f = {.limit = 25};
    struct person *v;
    size_t n;
    char next[STORE_CURSOR_MAX];
    ck_assert_int_eq(store_person_list(c, &f, &v, &n, next), ATT_OK);
    ck_assert_uint_eq(n, 25);
    ck_assert_str_eq(next, "");
    free(v);

    /* a filter with pagination: 12 "Odd", pages of 5 */
    int odd = 0;
    cursor[0] = '\0';
    pages = 0;
    do {
        struct person_filter g = {.limit = 5, .department = "Odd", .cursor = cursor};
        ck_assert_int_eq(store_person_list(c, &g, &v, &n, next), ATT_OK);
        for (size_t i = 0; i < n; i++) ck_assert_str_eq(v[i].department, "Odd");
        odd += (int)n;
        free(v);
        snprintf(cursor, sizeof cursor, "%s", next);
    } while (cursor[0] && ++pages < 10);
    ck_assert_int_eq(odd, 12);

    /* malformed cursors */
    const char *bad[] = {"x",
                         "!!!!",
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "not a cursor at all, clearly",
                         "UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                         "UAAF"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct person_filter g = {.limit = 10, .cursor = bad[i]};
        ck_assert_msg(store_person_list(c, &g, &v, &n, next) == ATT_E_BAD_PARAM, "cursor %s accepted", bad[i]);
        ck_assert_ptr_null(v);
    }
    /* an audit cursor is not a people cursor */
    char acur[64];
    unsigned char key8[8] = {0, 0, 0, 0, 0, 0, 0, 5};
    ck_assert(cursor_encode(CURSOR_AUDIT, 1700000000000000LL, key8, 8, acur, sizeof acur));
    struct person_filter g = {.limit = 10, .cursor = acur};
    ck_assert_int_eq(store_person_list(c, &g, &v, &n, next), ATT_E_BAD_PARAM);
    PQfinish(c);
}
END_TEST

START_TEST(person_update_patch)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    add_person(c, "U1", "Ann", "ICU", true, a);
    add_person(c, "U2", "Ben", "ICU", true, b);
    struct person before, after;
    ck_assert_int_eq(store_person_get(c, a, &before), ATT_OK);
    ck_assert(ts_q_ok(c, "SELECT pg_sleep(0.01)"));

    struct person_patch p = {.name = "Ann Smith", .title = "Charge nurse", .set_active = true, .active = false};
    ck_assert_int_eq(store_person_update(c, a, &p, &after), ATT_OK);
    ck_assert_str_eq(after.name, "Ann Smith");
    ck_assert_str_eq(after.employee_no, "U1");
    ck_assert_str_eq(after.department, "ICU");
    ck_assert_str_eq(after.title, "Charge nurse");
    ck_assert(!after.active);

    /* clear a nullable field; others untouched */
    p = (struct person_patch){.clear_department = true};
    ck_assert_int_eq(store_person_update(c, a, &p, NULL), ATT_OK);
    ck_assert_int_eq(store_person_get(c, a, &after), ATT_OK);
    ck_assert_str_eq(after.department, "");
    ck_assert_str_eq(after.title, "Charge nurse");
    ck_assert(!after.active);

    /* conflict on employee_no, nothing changed */
    p = (struct person_patch){.employee_no = "U2", .name = "Renamed"};
    ck_assert_int_eq(store_person_update(c, a, &p, &after), ATT_E_CONFLICT);
    ck_assert_int_eq(store_person_get(c, a, &after), ATT_OK);
    ck_assert_str_eq(after.employee_no, "U1");
    ck_assert_str_eq(after.name, "Ann Smith");
    /* own number again is no conflict */
    p = (struct person_patch){.employee_no = "U1"};
    ck_assert_int_eq(store_person_update(c, a, &p, NULL), ATT_OK);

    /* invalid */
    p = (struct person_patch){.name = ""};
    ck_assert_str_eq(person_patch_invalid_field(&p), "name");
    ck_assert_int_eq(store_person_update(c, a, &p, NULL), ATT_E_INVALID);
    p = (struct person_patch){.title = "x", .clear_title = true};
    ck_assert_str_eq(person_patch_invalid_field(&p), "title");

    /* empty patch: a read, updated_at unchanged */
    struct person r1, r2;
    ck_assert_int_eq(store_person_get(c, b, &r1), ATT_OK);
    p = (struct person_patch){0};
    ck_assert_int_eq(store_person_update(c, b, &p, &r2), ATT_OK);
    ck_assert_str_eq(r1.updated_at, r2.updated_at);
    ck_assert_str_eq(r2.name, "Ben");

    /* not found */
    p = (struct person_patch){.name = "X"};
    ck_assert_int_eq(store_person_update(c, "00000000-0000-4000-8000-000000000000", &p, NULL), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_person_update(c, "zzz", &p, NULL), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_person_erase(c, b, NULL), ATT_OK);
    ck_assert_int_eq(store_person_update(c, b, &p, NULL), ATT_E_NOT_FOUND);
    p = (struct person_patch){0};
    ck_assert_int_eq(store_person_update(c, b, &p, NULL), ATT_E_NOT_FOUND);
    PQfinish(c);
}
END_TEST

START_TEST(person_erasure)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR], f1[ATT_UUID_STR], f2[ATT_UUID_STR], fb[ATT_UUID_STR], buf[256];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(3);
    add_person(c, "R1", "Rita Erase", "Oncology", true, a);
    add_person(c, "R2", "Sam Keep", "Oncology", true, b);
    ck_assert(ts_q_ok(c, "UPDATE people SET title = 'Doctor'"));
    add_face(c, k, a, 1, f1);
    add_face(c, k, a, 2, f2);
    add_face(c, k, b, 3, fb);
    char pseudonym[64];
    ck_assert(
        query_p(c, "SELECT pseudonym::text FROM people WHERE id = $1::uuid", a, NULL, pseudonym, sizeof pseudonym));
    /* two punches for the person to erase, one for the other */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (id, person_id, kind, ts, similarity, source) VALUES "
             "(gen_random_uuid(), '%s', 'in', now() - interval '8 hours', 0.8, 'camera'),"
             "(gen_random_uuid(), '%s', 'out', now(), 0.8, 'camera'),"
             "(gen_random_uuid(), '%s', 'in', now(), 0.7, 'camera')",
             a, a, b);
    ck_assert(ts_q_ok(c, sql));

    /* inside a caller's transaction that rolls back: nothing happens */
    ck_assert(ts_q_ok(c, "BEGIN"));
    size_t gone = 0;
    ck_assert_int_eq(store_person_erase(c, a, &gone), ATT_OK);
    ck_assert_uint_eq(gone, 2);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    struct person p;
    ck_assert_int_eq(store_person_get(c, a, &p), ATT_OK);
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM faces WHERE person_id = $1::uuid", a), 2);

    /* for real (own transaction) */
    ck_assert_int_eq(store_person_erase(c, a, &gone), ATT_OK);
    ck_assert_uint_eq(gone, 2);
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM faces WHERE person_id = $1::uuid", a), 0);
    ck_assert(
        query_p(c,
                "SELECT concat_ws('|', coalesce(employee_no, '-'), coalesce(name, '-'), coalesce(department, '-'),"
                " coalesce(title, '-'), active, erased_at IS NOT NULL, pseudonym) FROM people WHERE id = $1::uuid",
                a, NULL, buf, sizeof buf));
    char want[128];
    snprintf(want, sizeof want, "-|-|-|-|f|t|%s", pseudonym);
    ck_assert_str_eq(buf, want);
    /* nothing of the person's identity is left anywhere in the row */
    ck_assert_int_eq(
        query_int_p(c, "SELECT count(*) FROM people p WHERE p::text LIKE '%Rita%' OR p::text LIKE '%R1%'", NULL), 0);
    /* events stay, still keyed by the (now anonymous) person: they keep counting */
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM events WHERE person_id = $1::uuid", a), 2);
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM events", NULL), 3);

    /* gone for every store path */
    ck_assert_int_eq(store_person_get(c, a, &p), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_person_erase(c, a, &gone), ATT_E_NOT_FOUND);
    ck_assert_uint_eq(gone, 0);
    struct face_meta *fm;
    size_t n;
    ck_assert_int_eq(store_face_list(c, a, &fm, &n), ATT_E_NOT_FOUND);
    char f3[ATT_UUID_STR];
    float v[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    embedding(v, 9);
    att_uuid_new_text(f3);
    ck_assert_int_eq(tcrypt_encrypt(k, v, a, f3, MODEL, blob), ATT_OK);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, tcrypt_key_id(k), blob, sizeof blob, NULL), ATT_E_NOT_FOUND);
    size_t total = 0;
    ck_assert_int_eq(store_faces_count(c, &total), ATT_OK);
    ck_assert_uint_eq(total, 1);
    /* the employee number is free again */
    char again[ATT_UUID_STR];
    add_person(c, "R1", "New Hire", NULL, true, again);
    /* the other person is untouched */
    ck_assert_int_eq(store_person_get(c, b, &p), ATT_OK);
    ck_assert_str_eq(p.name, "Sam Keep");
    ck_assert_int_eq(store_face_list(c, b, &fm, &n), ATT_OK);
    ck_assert_uint_eq(n, 1);
    free(fm);
    ck_assert_int_eq(store_person_erase(c, "bad-id", NULL), ATT_E_NOT_FOUND);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* An enrolment racing an erasure must not leave a template behind the tombstone. */
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
    float v[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    char face[ATT_UUID_STR];
    embedding(v, 1);
    att_uuid_new_text(face);
    tcrypt_encrypt(ra->key, v, ra->person, face, MODEL, blob);
    ra->rc = store_face_insert(c, ra->person, face, MODEL, tcrypt_key_id(ra->key), blob, sizeof blob, NULL);
    PQfinish(c);
    return NULL;
}

START_TEST(erasure_blocks_concurrent_enrolment)
{
    char ci[600], a[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(8);
    add_person(c, "X1", "Racer", NULL, true, a);
    ts_consent_given(c, a);
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_person_erase(c, a, NULL), ATT_OK); /* uncommitted: holds the person's row lock */
    struct race_arg ra = {ci, a, k, ATT_E_INTERNAL};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, race_insert, &ra), 0);
    usleep(300 * 1000); /* the insert is now waiting on the lock */
    ck_assert(ts_q_ok(c, "COMMIT"));
    pthread_join(t, NULL);
    ck_assert_int_eq(ra.rc, ATT_E_NOT_FOUND);
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM faces", NULL), 0);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- faces ----------------------------------------------------------------------------------------- */

START_TEST(face_insert_list_delete)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR], f1[ATT_UUID_STR], f2[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(4);
    add_person(c, "F1", "Face One", NULL, true, a);
    add_person(c, "F2", "Face Two", NULL, true, b);

    struct face_meta *fm;
    size_t n;
    ck_assert_int_eq(store_face_list(c, a, &fm, &n), ATT_OK); /* a person without faces */
    ck_assert_uint_eq(n, 0);
    free(fm);

    add_face(c, k, a, 1, f1);
    add_face(c, k, a, 2, f2);
    ck_assert_int_eq(store_face_list(c, a, &fm, &n), ATT_OK);
    ck_assert_uint_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        ck_assert(strcmp(fm[i].id, f1) == 0 || strcmp(fm[i].id, f2) == 0);
        ck_assert_str_eq(fm[i].model_id, MODEL);
        ck_assert_str_eq(fm[i].quality_json, "{\"sharpness\": 0.9}");
        ck_assert_int_eq((int)strlen(fm[i].created_at), 20);
    }
    free(fm);
    /* metadata only: the listing statement never reads the template column */
    const struct db_statement *st = db_statement_find("face_list");
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_null(strstr(st->sql, "template"));

    /* wrong inputs */
    float v[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    char f3[ATT_UUID_STR];
    embedding(v, 3);
    att_uuid_new_text(f3);
    ck_assert_int_eq(tcrypt_encrypt(k, v, a, f3, MODEL, blob), ATT_OK);
    uint32_t kid = tcrypt_key_id(k);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, kid + 1, blob, sizeof blob, NULL), ATT_E_INVALID);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, kid, blob, sizeof blob - 1, NULL), ATT_E_INVALID);
    ck_assert_int_eq(store_face_insert(c, a, f3, "", kid, blob, sizeof blob, NULL), ATT_E_INVALID);
    ck_assert_int_eq(store_face_insert(c, a, "f3", MODEL, kid, blob, sizeof blob, NULL), ATT_E_INVALID);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, kid, blob, sizeof blob, "[1]"), ATT_E_INVALID);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, kid, blob, sizeof blob, "{bad"), ATT_E_INVALID);
    ck_assert_int_eq(
        store_face_insert(c, "00000000-0000-4000-8000-000000000000", f3, MODEL, kid, blob, sizeof blob, NULL),
        ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_insert(c, a, f1, MODEL, kid, blob, sizeof blob, NULL), ATT_E_CONFLICT);
    ck_assert_int_eq(store_face_insert(c, a, f3, MODEL, kid, blob, sizeof blob, NULL), ATT_OK);
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM faces WHERE quality = '{}'", NULL), 1);
    /* the whole uint32 key id range fits the column (blob formats carry 32 bits) */
    char f4[ATT_UUID_STR];
    att_uuid_new_text(f4);
    blob[1] = 0xf0, blob[2] = 0xff, blob[3] = 0xff, blob[4] = 0xff;
    ck_assert_int_eq(store_face_insert(c, a, f4, MODEL, 0xfffffff0u, blob, sizeof blob, NULL), ATT_OK);
    char kbuf[32];
    ck_assert(query_p(c, "SELECT key_id::text FROM faces WHERE id = $1::uuid", f4, NULL, kbuf, sizeof kbuf));
    ck_assert_str_eq(kbuf, "4294967280");
    ck_assert_int_eq(store_face_delete(c, a, f4), ATT_OK);

    /* delete: only the owner's face, once */
    ck_assert_int_eq(store_face_delete(c, b, f1), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_delete(c, a, f1), ATT_OK);
    ck_assert_int_eq(store_face_delete(c, a, f1), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_delete(c, a, "x"), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_list(c, a, &fm, &n), ATT_OK);
    ck_assert_uint_eq(n, 2);
    free(fm);
    ck_assert_int_eq(store_face_list(c, "zz", &fm, &n), ATT_E_NOT_FOUND);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

struct load_seen {
    const tcrypt_key *key;
    int rows, active, decrypted, stop_after;
    char names[512];
};

static att_err load_cb(void *arg, const struct face_row *row)
{
    struct load_seen *s = arg;
    if (s->stop_after && s->rows == s->stop_after) return ATT_E_CRYPTO;
    s->rows++;
    if (row->active) s->active++;
    float v[TCRYPT_DIM];
    if (row->key_id == tcrypt_key_id(s->key) &&
        tcrypt_decrypt(s->key, row->blob, row->len, row->person_id, row->face_id, row->model_id, v) == ATT_OK)
        s->decrypted++;
    if (!strstr(s->names, row->name)) {
        strncat(s->names, row->name, sizeof s->names - strlen(s->names) - 2);
        strcat(s->names, ";");
    }
    sodium_memzero(v, sizeof v);
    return ATT_OK;
}

START_TEST(faces_load_stream)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR], e[ATT_UUID_STR], f[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(6);
    add_person(c, "L1", "Load One", NULL, true, a);
    add_person(c, "L2", "Load Two", NULL, false, b);
    add_person(c, "L3", "Load Erased", NULL, true, e);
    for (int i = 0; i < 30; i++) add_face(c, k, i % 3 ? a : b, i, f);
    add_face(c, k, e, 99, f);
    ck_assert_int_eq(store_person_erase(c, e, NULL), ATT_OK);
    size_t total = 0;
    ck_assert_int_eq(store_faces_count(c, &total), ATT_OK);
    ck_assert_uint_eq(total, 30);

    struct load_seen s = {.key = k};
    size_t count = 0;
    ck_assert_int_eq(store_faces_load(c, load_cb, &s, &count), ATT_OK);
    ck_assert_uint_eq(count, 30);
    ck_assert_int_eq(s.rows, 30);
    ck_assert_int_eq(s.active, 20);
    ck_assert_int_eq(s.decrypted, 30);
    ck_assert_ptr_nonnull(strstr(s.names, "Load One;"));
    ck_assert_ptr_null(strstr(s.names, "Erased"));

    /* the callback stops the load; the connection is fine afterwards */
    struct load_seen s2 = {.key = k, .stop_after = 7};
    ck_assert_int_eq(store_faces_load(c, load_cb, &s2, &count), ATT_E_CRYPTO);
    ck_assert_uint_eq(count, 7);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ck_assert_int_eq(store_faces_count(c, &total), ATT_OK);
    ck_assert_uint_eq(total, 30);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* Fetch one face's blob (binary) into out; returns its length. */
static size_t fetch_blob(PGconn *c, const char *face, unsigned char *out, size_t cap)
{
    const char *v[1] = {face};
    PGresult *r = PQexecParams(c, "SELECT template FROM faces WHERE id = $1::uuid", 1, NULL, v, NULL, NULL, 1);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(r), 1);
    size_t len = (size_t)PQgetlength(r, 0, 0);
    ck_assert_uint_le(len, cap);
    memcpy(out, PQgetvalue(r, 0, 0), len);
    PQclear(r);
    return len;
}

START_TEST(swapped_template_fails_to_decrypt)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR], fa[ATT_UUID_STR], fb[ATT_UUID_STR], fa2[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(5);
    add_person(c, "S1", "Swap One", NULL, true, a);
    add_person(c, "S2", "Swap Two", NULL, true, b);
    add_face(c, k, a, 1, fa);
    add_face(c, k, b, 2, fb);
    add_face(c, k, a, 3, fa2);
    /* an attacker with write access copies A's template onto B's row and onto A's other face */
    char sql[400];
    snprintf(sql, sizeof sql,
             "UPDATE faces SET template = (SELECT template FROM faces WHERE id = '%s') WHERE id IN ('%s', '%s')", fa,
             fb, fa2);
    ck_assert(ts_q_ok(c, sql));
    unsigned char blob[4096];
    float v[TCRYPT_DIM];
    size_t len = fetch_blob(c, fb, blob, sizeof blob);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, len, b, fb, MODEL, v), ATT_E_CRYPTO);
    len = fetch_blob(c, fa2, blob, sizeof blob);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, len, a, fa2, MODEL, v), ATT_E_CRYPTO);
    len = fetch_blob(c, fa, blob, sizeof blob);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, len, a, fa, MODEL, v), ATT_OK);
    /* moving a whole row to another person fails too */
    snprintf(sql, sizeof sql, "UPDATE faces SET person_id = '%s' WHERE id = '%s'", b, fa);
    ck_assert(ts_q_ok(c, sql));
    struct load_seen s = {.key = k};
    ck_assert_int_eq(store_faces_load(c, load_cb, &s, NULL), ATT_OK);
    ck_assert_int_eq(s.rows, 3);
    ck_assert_int_eq(s.decrypted, 0);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- key rotation ------------------------------------------------------------------------------------ */

/* How many of the person's-faces rows decrypt under k (through the gallery stream). */
static int decryptable(PGconn *c, const tcrypt_key *k)
{
    struct load_seen s = {.key = k};
    ck_assert_int_eq(store_faces_load(c, load_cb, &s, NULL), ATT_OK);
    return s.decrypted;
}

START_TEST(rekey_store)
{
    char ci[600], a[ATT_UUID_STR], f[ATT_UUID_STR], err[512];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k1 = key_of(11), *k2 = key_of(12), *k3 = key_of(13);
    add_person(c, "K1", "Key One", NULL, true, a);
    for (int i = 0; i < 12; i++) add_face(c, k1, a, i, f);
    ck_assert_int_eq(decryptable(c, k1), 12);
    const tcrypt_key *olds[1] = {k1};
    struct rekey_stats st;

    /* outside a transaction: refused */
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k2, &st, err, sizeof err), ATT_E_INVALID);

    /* rolled back: nothing changed, byte for byte */
    char before[64], after[64];
    ck_assert(query_p(c, "SELECT md5(string_agg(template::text, ',' ORDER BY id)) FROM faces", NULL, NULL, before,
                      sizeof before));
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k2, &st, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(st.reencrypted, 12);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    ck_assert(query_p(c, "SELECT md5(string_agg(template::text, ',' ORDER BY id)) FROM faces", NULL, NULL, after,
                      sizeof after));
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(decryptable(c, k1), 12);

    /* committed: old key no longer decrypts, new one does, key_id column follows */
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k2, &st, err, sizeof err), ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
    ck_assert_uint_eq(st.reencrypted, 12);
    ck_assert_uint_eq(st.skipped, 0);
    ck_assert_int_eq(decryptable(c, k1), 0);
    ck_assert_int_eq(decryptable(c, k2), 12);
    char kid[16];
    snprintf(kid, sizeof kid, "%" PRIu32, tcrypt_key_id(k2));
    ck_assert_int_eq(query_int_p(c, "SELECT count(*) FROM faces WHERE key_id = $1::bigint", kid), 12);

    /* rerun (crash between commit and key install): 0 re-encrypted, all skipped */
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k2, &st, err, sizeof err), ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
    ck_assert_uint_eq(st.reencrypted, 0);
    ck_assert_uint_eq(st.skipped, 12);

    /* a row under neither key: hard error naming it, nothing changed */
    char stray[ATT_UUID_STR];
    add_face(c, k3, a, 77, stray);
    const tcrypt_key *olds2[1] = {k2};
    tcrypt_key *k4 = key_of(14);
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds2, 1, k4, &st, err, sizeof err), ATT_E_CRYPTO);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    ck_assert_msg(strstr(err, stray) != NULL, "error does not name the face: %s", err);
    ck_assert_int_eq(decryptable(c, k2), 12);

    /* a tampered row under a known key: hard error naming it */
    char sql[300];
    snprintf(sql, sizeof sql, "DELETE FROM faces WHERE id = '%s'", stray);
    ck_assert(ts_q_ok(c, sql));
    ck_assert(ts_q_ok(c,
                      "UPDATE faces SET template = overlay(template placing '\\x00'::bytea from 100) "
                      "WHERE id = (SELECT id FROM faces ORDER BY id LIMIT 1)"));
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds2, 1, k4, &st, err, sizeof err), ATT_E_CRYPTO);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    ck_assert_msg(strstr(err, "fails to decrypt") != NULL, "%s", err);
    tcrypt_key_free(k1);
    tcrypt_key_free(k2);
    tcrypt_key_free(k3);
    tcrypt_key_free(k4);
    PQfinish(c);
}
END_TEST

/* A temp dir with attendctl's config (database, key files) for the rotate CLI. */
struct rot_env {
    char dir[128], conf[200], tpl[200], tok[200];
    struct ts_daemon d; /* only .conf is used by ts_attendctl */
};

static void rot_env_init(struct rot_env *e, const char *conninfo, unsigned char tpl_fill)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/attendd-rot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    snprintf(e->conf, sizeof e->conf, "%s/attendd.conf", e->dir);
    snprintf(e->tpl, sizeof e->tpl, "%s/template.key", e->dir);
    snprintf(e->tok, sizeof e->tok, "%s/token.key", e->dir);
    unsigned char raw[32];
    memset(raw, tpl_fill, sizeof raw);
    ts_write_file(e->tpl, raw, sizeof raw, 0600);
    memset(raw, 0x77, sizeof raw);
    ts_write_file(e->tok, raw, sizeof raw, 0600);
    FILE *f = fopen(e->conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "database_url = \"%s\"\ntemplate_key_file = %s\ntoken_key_file = %s\nmodels_dir = %s\nstate_dir = %s/state\n",
        conninfo, e->tpl, e->tok, ts_env("ATTENDD_MODELS_DIR"), e->dir);
    fclose(f);
    snprintf(e->d.conf, sizeof e->d.conf, "%s", e->conf);
}

static void rot_env_free(struct rot_env *e)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void key_file(const struct rot_env *e, const char *name, unsigned char fill, char path[256])
{
    snprintf(path, 256, "%s/%s", e->dir, name);
    unsigned char raw[32];
    memset(raw, fill, sizeof raw);
    ts_write_file(path, raw, sizeof raw, 0600);
}

/* The key file at path holds the key made of fill bytes, mode 0600. */
static void assert_key_file(const char *path, unsigned char fill)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq((int)st.st_size, 32);
    unsigned char raw[32], want[32];
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fread(raw, 1, 32, f), 32);
    fclose(f);
    memset(want, fill, sizeof want);
    ck_assert_msg(memcmp(raw, want, 32) == 0, "%s does not hold key %u", path, fill);
}

START_TEST(rotate_cli_resumes)
{
    char ci[600], a[ATT_UUID_STR], f[ATT_UUID_STR], out[256], err[512], path2[256], path3[256], old[256];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct rot_env e;
    rot_env_init(&e, ci, 21);
    snprintf(old, sizeof old, "%s.old", e.tpl);
    tcrypt_key *k1 = key_of(21), *k2 = key_of(22), *k3 = key_of(23);
    add_person(c, "C1", "Cli One", NULL, true, a);
    for (int i = 0; i < 5; i++) add_face(c, k1, a, i, f);

    /* 1. a normal rotation k1 -> k2 */
    key_file(&e, "new2.key", 22, path2);
    const char *args[] = {"key", "rotate", "--new-key", path2, NULL};
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, args), 0);
    assert_key_file(e.tpl, 22);
    assert_key_file(old, 21);
    ck_assert_int_eq(decryptable(c, k1), 0);
    ck_assert_int_eq(decryptable(c, k2), 5);
    ck_assert_int_eq(query_int_p(c,
                                 "SELECT count(*) FROM audit_log WHERE action = 'key.rotate' AND outcome = 'ok'"
                                 " AND (detail->>'reencrypted')::int = 5",
                                 NULL),
                     1);

    /* 2. k2 -> k3 interrupted between commit and key install: the database is under k3, the file k2 */
    const tcrypt_key *olds[1] = {k2};
    struct rekey_stats st;
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k3, &st, err, sizeof err), ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
    ck_assert_int_eq(decryptable(c, k3), 5);
    assert_key_file(e.tpl, 22);
    /* the rerun re-encrypts nothing and completes the install */
    key_file(&e, "new3.key", 23, path3);
    const char *args3[] = {"key", "rotate", "--new-key", path3, NULL};
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, args3), 0);
    assert_key_file(e.tpl, 23);
    assert_key_file(old, 22);
    ck_assert_int_eq(decryptable(c, k3), 5);
    ck_assert_int_eq(query_int_p(c,
                                 "SELECT count(*) FROM audit_log WHERE action = 'key.rotate' AND outcome = 'ok'"
                                 " AND (detail->>'reencrypted')::int = 0 AND (detail->>'skipped')::int = 5",
                                 NULL),
                     1);

    /* 3. a straggler enrolled under the previous key by a daemon not yet restarted: a rerun with the
     * same new key catches it through <file>.old */
    add_face(c, k2, a, 50, f);
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, args3), 0);
    assert_key_file(e.tpl, 23);
    assert_key_file(old, 22);
    ck_assert_int_eq(decryptable(c, k3), 6);

    /* 4. a template under an unknown key: refused, nothing changed, files untouched */
    tcrypt_key *k9 = key_of(29);
    char stray[ATT_UUID_STR];
    add_face(c, k9, a, 51, stray);
    char path4[256];
    key_file(&e, "new4.key", 24, path4);
    const char *args4[] = {"key", "rotate", "--new-key", path4, NULL};
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, args4), 1);
    assert_key_file(e.tpl, 23);
    assert_key_file(old, 22);
    ck_assert_int_eq(decryptable(c, k3), 6);
    ck_assert_int_eq(
        query_int_p(c, "SELECT count(*) FROM audit_log WHERE action = 'key.rotate' AND outcome = 'crypto_error'", NULL),
        1);

    /* usage errors */
    const char *bad[] = {"key", "rotate", NULL};
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, bad), 2);
    const char *missing[] = {"key", "rotate", "--new-key", "/nonexistent/key", NULL};
    ck_assert_int_eq(ts_attendctl(&e.d, out, sizeof out, missing), 1);

    tcrypt_key_free(k1);
    tcrypt_key_free(k2);
    tcrypt_key_free(k3);
    tcrypt_key_free(k9);
    rot_env_free(&e);
    PQfinish(c);
}
END_TEST

/* ---- audit listing ------------------------------------------------------------------------------------ */

START_TEST(audit_list_pagination)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    const char *actions[] = {"person.read", "person.update", "personnel.read", "token.create", "person"};
    /* 10 in one transaction (same ts), 15 one by one */
    ck_assert(ts_q_ok(c, "BEGIN"));
    for (int i = 0; i < 25; i++) {
        if (i == 10) ck_assert(ts_q_ok(c, "COMMIT"));
        char target[16], detail[32];
        snprintf(target, sizeof target, "t%d", i % 4);
        snprintf(detail, sizeof detail, "{\"i\": %d}", i);
        struct audit_entry e = {NULL, "tester", actions[i % 5], "person", target, "ok", detail};
        ck_assert_int_eq(store_audit_insert(c, &e), ATT_OK);
    }
    bool seen[25] = {false};
    struct audit_pos after;
    bool more = false;
    int pages = 0, total = 0;
    int64_t last_id = INT64_MAX;
    do {
        struct audit_filter f = {.limit = 10, .has_after = pages > 0, .after = after};
        struct audit_row *v;
        size_t n;
        ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &after, &more), ATT_OK);
        pages++;
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_lt(v[i].id, last_id); /* newest first (ids grow with time here) */
            last_id = v[i].id;
            ck_assert_ptr_null(v[i].token_id);
            ck_assert_str_eq(v[i].actor, "tester");
            ck_assert_ptr_nonnull(v[i].detail_json);
            int k = atoi(strchr(v[i].detail_json, ':') + 1);
            ck_assert(!seen[k]);
            seen[k] = true;
            ck_assert_int_eq((int)strlen(v[i].ts), 27);
            total++;
        }
        free(v);
    } while (more && pages < 10);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(total, 25);

    /* filters */
    struct audit_filter f = {.limit = 100, .action = "person"};
    struct audit_row *v;
    size_t n;
    struct audit_pos next;
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 15); /* person.read, person.update, person; not personnel.read */
    for (size_t i = 0; i < n; i++) ck_assert(strncmp(v[i].action, "personnel", 9) != 0);
    free(v);
    f = (struct audit_filter){.limit = 100, .action = "person.read"};
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 5);
    free(v);
    f = (struct audit_filter){.limit = 100, .action = "person_"}; /* no wildcard */
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 0);
    free(v);
    f = (struct audit_filter){.limit = 3, .target_type = "person", .target_id = "t1"};
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(more);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(v[i].target_id, "t1");
    free(v);
    f.has_after = true;
    f.after = next;
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_OK);
    ck_assert_uint_eq(n, 3); /* t1: i = 1, 5, 9, 13, 17, 21 */
    ck_assert(!more);
    free(v);

    /* bad filters; a malformed cursor or one of another list never becomes a position */
    f = (struct audit_filter){.limit = 0};
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_E_INVALID);
    struct cursor_pos pos;
    ck_assert(!cursor_decode("garbage", CURSOR_AUDIT, 8, &pos));
    char pcur[64];
    unsigned char key16[16] = {1};
    ck_assert(cursor_encode(CURSOR_PEOPLE, 1700000000000000LL, key16, 16, pcur, sizeof pcur));
    ck_assert(!cursor_decode(pcur, CURSOR_AUDIT, 8, &pos));
    f = (struct audit_filter){.limit = 10, .action = "\xff\xfe"};
    ck_assert_int_eq(store_audit_list(c, &f, &v, &n, &next, &more), ATT_E_INVALID);
    PQfinish(c);
}
END_TEST

/* ---- no plaintext in a dump ------------------------------------------------------------------------------ */

/* pg_dump conninfo into a malloc'd NUL-terminated buffer. */
static char *pg_dump(const char *conninfo, size_t *len)
{
    char bin[512];
    snprintf(bin, sizeof bin, "%s/pg_dump", ts_env("ATTENDD_PG_BINDIR"));
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(bin, bin, "--no-owner", "-d", conninfo, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (cap - used < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        ssize_t n = read(fds[0], buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
    }
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pg_dump failed");
    buf[used] = '\0';
    *len = used;
    return buf;
}

static bool contains(const char *hay, size_t n, const void *needle, size_t m)
{
    return memmem(hay, n, needle, m) != NULL;
}

START_TEST(dump_has_no_plaintext_embedding)
{
    char ci[600], a[ATT_UUID_STR], f[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(31);
    add_person(c, "D1", "Dump One", NULL, true, a);
    add_face(c, k, a, 5, f);
    float v[TCRYPT_DIM];
    embedding(v, 5);
    size_t len;
    char *dump = pg_dump(ci, &len);

    /* sanity: the dump really holds the row and its (encrypted) template as hex */
    ck_assert(contains(dump, len, f, strlen(f)));
    unsigned char blob[4096];
    size_t blen = fetch_blob(c, f, blob, sizeof blob);
    char hex[2 * 64 + 1];
    sodium_bin2hex(hex, sizeof hex, blob + TCRYPT_HEADER_BYTES, 64);
    ck_assert_msg(contains(dump, len, hex, strlen(hex)), "ciphertext not in the dump: the search proves nothing");
    (void)blen;

    /* the embedding: little-endian float bytes (raw and hex), in windows of 4 floats, and as text */
    unsigned char le[TCRYPT_DIM * 4];
    for (int d = 0; d < TCRYPT_DIM; d++) {
        uint32_t u;
        memcpy(&u, &v[d], 4);
        for (int b = 0; b < 4; b++) le[4 * d + b] = (unsigned char)(u >> (8 * b));
    }
    for (int d = 0; d + 4 <= TCRYPT_DIM; d += 4) {
        ck_assert_msg(!contains(dump, len, le + 4 * d, 16), "raw float bytes of dims %d.. in the dump", d);
        char h[33];
        sodium_bin2hex(h, sizeof h, le + 4 * d, 16);
        ck_assert_msg(!contains(dump, len, h, 32), "hex float bytes of dims %d.. in the dump", d);
    }
    for (int d = 0; d < 16; d++) {
        for (int i = 0; i < 4; i++) {
            char t[48];
            double x = (double)v[d];
            if (i == 0) snprintf(t, sizeof t, "%.9g", x);
            else if (i == 1) snprintf(t, sizeof t, "%.6g", x);
            else if (i == 2) snprintf(t, sizeof t, "%.6f", x);
            else snprintf(t, sizeof t, "%.17g", x);
            if (strlen(t) < 7) continue; /* short numbers could occur by chance */
            ck_assert_msg(!contains(dump, len, t, strlen(t)), "float text %s of dim %d in the dump", t, d);
        }
    }
    free(dump);
    tcrypt_key_free(k);
    PQfinish(c);
}
END_TEST

/* ---- pure ---------------------------------------------------------------------------------------------- */

START_TEST(uuid_new_and_cursor)
{
    char a[ATT_UUID_STR], b[ATT_UUID_STR];
    att_uuid_new_text(a);
    att_uuid_new_text(b);
    ck_assert(att_uuid_valid(a) && att_uuid_valid(b));
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(a[14], '4');
    ck_assert(strchr("89ab", a[19]) != NULL);
    for (int i = 0; i < 36; i++) ck_assert(a[i] == '-' || (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));

    att_uuid u;
    unsigned char key[16];
    ck_assert(att_uuid_parse(a, &u));
    memcpy(key, u.b, sizeof key);
    char again[ATT_UUID_STR];
    att_uuid_format(&u, again);
    ck_assert_str_eq(again, a);
    ck_assert(!att_uuid_parse("0000000-0000-4000-8000-0000000000000", &u));

    char cur[64], ts[CURSOR_TS_TEXT];
    struct cursor_pos back;
    ck_assert(cursor_encode(CURSOR_PEOPLE, 1700000000123456LL, key, 16, cur, sizeof cur));
    ck_assert(cursor_decode(cur, CURSOR_PEOPLE, 16, &back));
    ck_assert(cursor_ts_text(back.micros, ts));
    ck_assert_str_eq(ts, "2023-11-14 22:13:20.123456+00");
    ck_assert_mem_eq(key, back.key, 16);
    ck_assert(!cursor_decode(cur, CURSOR_AUDIT, 16, &back));
    ck_assert(!cursor_decode(cur, CURSOR_PEOPLE, 8, &back));
    /* before 1970 */
    ck_assert(cursor_encode(CURSOR_PEOPLE, -1, key, 16, cur, sizeof cur));
    ck_assert(cursor_decode(cur, CURSOR_PEOPLE, 16, &back));
    ck_assert(cursor_ts_text(back.micros, ts));
    ck_assert_str_eq(ts, "1969-12-31 23:59:59.999999+00");
    /* out of range times are malformed */
    ck_assert(cursor_encode(CURSOR_PEOPLE, INT64_MAX, key, 16, cur, sizeof cur));
    ck_assert(!cursor_decode(cur, CURSOR_PEOPLE, 16, &back));
    /* one character changed to padding / outside the alphabet */
    ck_assert(cursor_encode(CURSOR_PEOPLE, 5, key, 16, cur, sizeof cur));
    cur[3] = '+';
    ck_assert(!cursor_decode(cur, CURSOR_PEOPLE, 16, &back));
    ck_assert(!cursor_decode("", CURSOR_PEOPLE, 16, &back));
}
END_TEST

Suite *roster_store_suite(void)
{
    Suite *s = suite_create("roster_store");
    ts_tcase(s, "db", 120, NULL, NULL, person_create_get_conflict, person_list_filters, person_list_pagination,
             person_update_patch, person_erasure, erasure_blocks_concurrent_enrolment, face_insert_list_delete,
             faces_load_stream, swapped_template_fails_to_decrypt, rekey_store, rotate_cli_resumes,
             audit_list_pagination, dump_has_no_plaintext_embedding, NULL);
    ts_tcase(s, "pure", 0, NULL, NULL, uuid_new_and_cursor, NULL);
    return s;
}
