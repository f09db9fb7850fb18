/* Store helpers of the test suites (see support_store.h). */
#include "support_store.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/migrations.h"
#include "attendd/store_consent.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "support.h"

PGconn *ts_db_connect(const char *conninfo, const char *app_name, bool prepared)
{
    PGconn *c = NULL;
    char err[512] = "";
    ck_assert_msg(db_connect(conninfo, app_name, &c, err, sizeof err) == ATT_OK, "db_connect: %s", err);
    if (prepared) ck_assert_msg(db_prepare_all(c, err, sizeof err) == ATT_OK, "db_prepare_all: %s", err);
    return c;
}

PGconn *ts_db_migrated(char *conninfo, size_t len)
{
    ck_assert_int_eq(ts_db_new(conninfo, len), 0);
    PGconn *c = ts_db_connect(conninfo, "attendd-test", false);
    char err[512] = "";
    int applied = -1;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "db_migrate: %s", err);
    ck_assert_msg(db_prepare_all(c, err, sizeof err) == ATT_OK, "db_prepare_all: %s", err);
    return c;
}

bool ts_q_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

void ts_consent_given(PGconn *c, const char *person)
{
    struct consent_text *texts = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_consent_text_list(c, &texts, &n), ATT_OK);
    int version = n ? texts[n - 1].version : 0;
    free(texts);
    if (version == 0) {
        struct consent_text *t = NULL;
        ck_assert_int_eq(store_consent_text_add(c, "en", "I agree that my face is used to record my attendance.",
                                                "attendd-test", &t),
                         ATT_OK);
        version = t->version;
        free(t);
    }
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_consent_record(c, person, CONSENT_GIVEN, version, NULL, "attendd-test"), ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
}

void ts_add_face(PGconn *c, const char *person, const tcrypt_key *k, char face[37])
{
    struct person p;
    ck_assert_int_eq(store_person_get(c, person, &p), ATT_OK);
    if (strcmp(p.consent, "given") != 0) ts_consent_given(c, person);
    float v[TCRYPT_DIM];
    double n = 0;
    for (int i = 0; i < TCRYPT_DIM; i++) {
        v[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < TCRYPT_DIM; i++) v[i] /= (float)__builtin_sqrt(n);
    att_uuid_new_text(face);
    unsigned char blob[TCRYPT_BLOB_BYTES];
    ck_assert_int_eq(tcrypt_encrypt(k, v, person, face, "test-model", blob), ATT_OK);
    ck_assert_int_eq(store_face_insert(c, person, face, "test-model", tcrypt_key_id(k), blob, sizeof blob, NULL),
                     ATT_OK);
}
