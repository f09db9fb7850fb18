/* The confirming model's templates at rest and in matching: enrolment stores both encrypted blobs of
 * a face bound to its ids, key rotation moves both, the gallery loader refuses a spoiled one, erasure
 * leaves nothing of either, identification answers with the fused score of both models and accepts
 * on it, a face without a confirming template still matches on fr_feature alone, and the store
 * refuses every bad form of a confirming template. */
#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/enrol.h"
#include "attendd/fuse.h"
#include "attendd/gallery.h"
#include "attendd/gallery_loader.h"
#include "attendd/roster.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"
#include "attendd/vision.h"
#include "support.h"
#include "support_api.h"
#include "support_store.h"

#define CT_MODEL "fr_feature:test"
#define CT_CONFIRM_MODEL "confirm:test"

static tcrypt_key *key_of(unsigned char fill)
{
    unsigned char raw[32];
    memset(raw, fill, sizeof raw);
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    return k;
}

/* A unit vector of n values from seed. */
static void unit(float *v, size_t n, int seed)
{
    double s = 0;
    for (size_t d = 0; d < n; d++) {
        v[d] = sinf((float)(d + 1) * 0.37f + (float)seed);
        s += (double)v[d] * v[d];
    }
    for (size_t d = 0; d < n; d++) v[d] /= (float)sqrt(s);
}

static void add_person(PGconn *c, const char *emp, char id[ATT_UUID_STR])
{
    struct person_new p = {.employee_no = emp, .name = emp, .active = true};
    ck_assert_int_eq(store_person_create(c, &p, id), ATT_OK);
    ts_consent_given(c, id);
}

/* A face with both templates (seed for each) under key k, stored as enrolment stores it. */
static void add_face2(PGconn *c, const tcrypt_key *k, const char *person, int seed, char face[ATT_UUID_STR])
{
    float v[TCRYPT_DIM], cv[TCRYPT_CONFIRM_DIM];
    unit(v, TCRYPT_DIM, seed);
    unit(cv, TCRYPT_CONFIRM_DIM, seed + 1000);
    unsigned char blob[TCRYPT_BLOB_BYTES], cblob[TCRYPT_CONFIRM_BLOB_BYTES];
    att_uuid_new_text(face);
    ck_assert_int_eq(tcrypt_encrypt(k, v, person, face, CT_MODEL, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, cv, person, face, CT_CONFIRM_MODEL, cblob), ATT_OK);
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_face_insert(c, person, face, CT_MODEL, tcrypt_key_id(k), blob, sizeof blob, NULL), ATT_OK);
    ck_assert_int_eq(store_face_set_confirm(c, person, face, CT_CONFIRM_MODEL, tcrypt_key_id(k), cblob, sizeof cblob),
                     ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
}

/* The two blobs of a face, in binary, and its ids; false when the face has no row. */
struct row2 {
    char person[ATT_UUID_STR], model[80], cmodel[80];
    uint32_t key_id;
    unsigned char blob[TCRYPT_BLOB_BYTES + 1], cblob[TCRYPT_CONFIRM_BLOB_BYTES + 1];
    size_t len, clen; /* clen 0: no confirming template */
};

static bool read_row(PGconn *c, const char *face, struct row2 *out)
{
    memset(out, 0, sizeof *out);
    const char *v[1] = {face};
    PGresult *r =
        PQexecParams(c,
                     "SELECT person_id::text, model_id, key_id::text, template, coalesce(confirm_model_id, ''),"
                     " confirm_template FROM faces WHERE id = $1::uuid",
                     1, NULL, v, NULL, NULL, 1);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    bool found = PQntuples(r) == 1;
    if (found) {
        snprintf(out->person, sizeof out->person, "%s", PQgetvalue(r, 0, 0));
        snprintf(out->model, sizeof out->model, "%s", PQgetvalue(r, 0, 1));
        out->key_id = (uint32_t)strtoul(PQgetvalue(r, 0, 2), NULL, 10);
        out->len = (size_t)PQgetlength(r, 0, 3);
        ck_assert_uint_le(out->len, sizeof out->blob);
        memcpy(out->blob, PQgetvalue(r, 0, 3), out->len);
        snprintf(out->cmodel, sizeof out->cmodel, "%s", PQgetvalue(r, 0, 4));
        if (!PQgetisnull(r, 0, 5)) {
            out->clen = (size_t)PQgetlength(r, 0, 5);
            ck_assert_uint_le(out->clen, sizeof out->cblob);
            memcpy(out->cblob, PQgetvalue(r, 0, 5), out->clen);
        }
    }
    PQclear(r);
    return found;
}

/* ---- the store ---------------------------------------------------------------------------------- */

START_TEST(set_confirm_bad_forms)
{
    char ci[600], a[ATT_UUID_STR], b[ATT_UUID_STR], f[ATT_UUID_STR], g[ATT_UUID_STR];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(21), *other = key_of(22);
    add_person(c, "C1", a);
    add_person(c, "C2", b);
    ts_add_face(c, a, k, f); /* a face without a confirming template */
    float cv[TCRYPT_CONFIRM_DIM];
    unit(cv, TCRYPT_CONFIRM_DIM, 3);
    unsigned char cblob[TCRYPT_CONFIRM_BLOB_BYTES], wrong_key[TCRYPT_CONFIRM_BLOB_BYTES];
    unsigned char big[TCRYPT_BLOB_BYTES] = {0};
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, cv, a, f, CT_CONFIRM_MODEL, cblob), ATT_OK);
    ck_assert_int_eq(tcrypt_confirm_encrypt(other, cv, a, f, CT_CONFIRM_MODEL, wrong_key), ATT_OK);
    uint32_t kid = tcrypt_key_id(k);
    char long_model[80];
    memset(long_model, 'm', 65);
    long_model[65] = '\0';

    ck_assert_int_eq(store_face_set_confirm(c, "not-a-uuid", f, CT_CONFIRM_MODEL, kid, cblob, sizeof cblob),
                     ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_set_confirm(c, a, "not-a-uuid", CT_CONFIRM_MODEL, kid, cblob, sizeof cblob),
                     ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, "", kid, cblob, sizeof cblob), ATT_E_INVALID);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, NULL, kid, cblob, sizeof cblob), ATT_E_INVALID);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, "with space", kid, cblob, sizeof cblob), ATT_E_INVALID);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, long_model, kid, cblob, sizeof cblob), ATT_E_INVALID);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, kid, NULL, sizeof cblob), ATT_E_INVALID);
    ck_assert_int_eq(store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, kid, cblob, sizeof cblob - 1), ATT_E_INVALID);
    /* a first-form blob is no confirming template, whatever its header says */
    big[0] = TCRYPT_VERSION;
    ck_assert_int_eq(store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, kid, big, sizeof big), ATT_E_INVALID);
    /* the blob's key must be the one named, and the one named must be the row's */
    ck_assert_int_eq(store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, kid, wrong_key, sizeof wrong_key),
                     ATT_E_INVALID);
    ck_assert_int_eq(
        store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, tcrypt_key_id(other), wrong_key, sizeof wrong_key),
        ATT_E_NOT_FOUND);
    /* another person's face, an unknown face */
    ck_assert_int_eq(store_face_set_confirm(c, b, f, CT_CONFIRM_MODEL, kid, cblob, sizeof cblob), ATT_E_NOT_FOUND);
    att_uuid_new_text(g);
    ck_assert_int_eq(store_face_set_confirm(c, a, g, CT_CONFIRM_MODEL, kid, cblob, sizeof cblob), ATT_E_NOT_FOUND);
    struct row2 r;
    ck_assert(read_row(c, f, &r));
    ck_assert_uint_eq(r.clen, 0);
    ck_assert_str_eq(r.cmodel, "");

    ck_assert_int_eq(store_face_set_confirm(c, a, f, CT_CONFIRM_MODEL, kid, cblob, sizeof cblob), ATT_OK);
    ck_assert(read_row(c, f, &r));
    ck_assert_uint_eq(r.clen, TCRYPT_CONFIRM_BLOB_BYTES);
    ck_assert_str_eq(r.cmodel, CT_CONFIRM_MODEL);
    /* the schema holds both or neither, and a plausible blob */
    char sql[300];
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_template = NULL WHERE id = '%s'", f);
    ck_assert(!ts_q_ok(c, sql));
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_model_id = NULL WHERE id = '%s'", f);
    ck_assert(!ts_q_ok(c, sql));
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_template = '\\x00'::bytea WHERE id = '%s'", f);
    ck_assert(!ts_q_ok(c, sql));
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_model_id = '' WHERE id = '%s'", f);
    ck_assert(!ts_q_ok(c, sql));
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_model_id = NULL, confirm_template = NULL WHERE id = '%s'", f);
    ck_assert(ts_q_ok(c, sql));
    tcrypt_key_free(k);
    tcrypt_key_free(other);
    PQfinish(c);
    ts_db_drop(ci);
}
END_TEST

START_TEST(rekey_moves_both_blobs)
{
    char ci[600], a[ATT_UUID_STR], f[ATT_UUID_STR], legacy[ATT_UUID_STR], err[512];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k1 = key_of(31), *k2 = key_of(32);
    add_person(c, "R1", a);
    add_face2(c, k1, a, 1, f);
    ts_add_face(c, a, k1, legacy); /* no confirming template: rotated all the same */
    struct row2 before, after;
    ck_assert(read_row(c, f, &before));
    ck_assert_uint_eq(before.clen, TCRYPT_CONFIRM_BLOB_BYTES);

    const tcrypt_key *olds[1] = {k1};
    struct rekey_stats st;
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds, 1, k2, &st, err, sizeof err), ATT_OK);
    ck_assert(ts_q_ok(c, "COMMIT"));
    ck_assert_uint_eq(st.reencrypted, 2);
    ck_assert(read_row(c, f, &after));
    ck_assert_uint_eq(after.key_id, tcrypt_key_id(k2));
    uint32_t id;
    ck_assert_int_eq(tcrypt_blob_key_id(after.cblob, after.clen, &id), ATT_OK);
    ck_assert_uint_eq(id, tcrypt_key_id(k2));
    ck_assert(memcmp(before.cblob, after.cblob, after.clen) != 0);
    float cv[TCRYPT_CONFIRM_DIM], want[TCRYPT_CONFIRM_DIM];
    unit(want, TCRYPT_CONFIRM_DIM, 1 + 1000);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k1, after.cblob, after.clen, a, f, CT_CONFIRM_MODEL, cv), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k2, after.cblob, after.clen, a, f, CT_CONFIRM_MODEL, cv), ATT_OK);
    ck_assert_int_eq(memcmp(cv, want, sizeof cv), 0);
    float v[TCRYPT_DIM];
    ck_assert_int_eq(tcrypt_decrypt(k2, after.blob, after.len, a, f, CT_MODEL, v), ATT_OK);
    struct row2 l;
    ck_assert(read_row(c, legacy, &l));
    ck_assert_uint_eq(l.key_id, tcrypt_key_id(k2));
    ck_assert_uint_eq(l.clen, 0);

    /* a spoiled confirming template stops the rotation, naming the face; nothing changes */
    tcrypt_key *k3 = key_of(33);
    const tcrypt_key *olds2[1] = {k2};
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE faces SET confirm_template = overlay(confirm_template placing '\\x00'::bytea from 100) "
             "WHERE id = '%s'",
             f);
    ck_assert(ts_q_ok(c, sql));
    ck_assert(ts_q_ok(c, "BEGIN"));
    ck_assert_int_eq(store_faces_rekey(c, olds2, 1, k3, &st, err, sizeof err), ATT_E_CRYPTO);
    ck_assert(ts_q_ok(c, "ROLLBACK"));
    ck_assert_msg(strstr(err, f) != NULL && strstr(err, "confirming") != NULL, "%s", err);
    ck_assert(read_row(c, f, &before));
    ck_assert_uint_eq(before.key_id, tcrypt_key_id(k2));
    tcrypt_key_free(k1);
    tcrypt_key_free(k2);
    tcrypt_key_free(k3);
    PQfinish(c);
    ts_db_drop(ci);
}
END_TEST

START_TEST(loader_attaches_and_refuses_spoiled)
{
    char ci[600], a[ATT_UUID_STR], f1[ATT_UUID_STR], f2[ATT_UUID_STR], err[512];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    tcrypt_key *k = key_of(41);
    add_person(c, "L1", a);
    add_face2(c, k, a, 5, f1);
    add_face2(c, k, a, 6, f2);
    /* the loader attaches confirming templates of the shipped model only (the model id is in the
     * associated data: encrypt them again under it) */
    char sql[400];
    float cv[TCRYPT_CONFIRM_DIM];
    unsigned char cblob[TCRYPT_CONFIRM_BLOB_BYTES];
    const char *faces[2] = {f1, f2};
    for (int i = 0; i < 2; i++) {
        unit(cv, TCRYPT_CONFIRM_DIM, 5 + i + 1000);
        ck_assert_int_eq(tcrypt_confirm_encrypt(k, cv, a, faces[i], ENROL_CONFIRM_MODEL_ID, cblob), ATT_OK);
        ck_assert(ts_q_ok(c, "BEGIN"));
        ck_assert_int_eq(
            store_face_set_confirm(c, a, faces[i], ENROL_CONFIRM_MODEL_ID, tcrypt_key_id(k), cblob, sizeof cblob),
            ATT_OK);
        ck_assert(ts_q_ok(c, "COMMIT"));
    }
    gal *g = gal_new();
    size_t loaded = 0, unreadable = 0, n = 0;
    ck_assert_int_eq(gallery_load(g, c, k, NULL, &loaded, &unreadable, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(loaded, 2);
    ck_assert_uint_eq(unreadable, 0);
    float best = -2;
    unit(cv, TCRYPT_CONFIRM_DIM, 5 + 1000);
    ck_assert_int_eq(gal_person_confirm_similarity(g, a, cv, &best, &n), ATT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_float_eq_tol(best, 1.0f, 2e-3f);
    gal_free(g);

    /* one face's confirming template spoiled: that face is not loaded, the other is, with its own */
    snprintf(sql, sizeof sql,
             "UPDATE faces SET confirm_template = overlay(confirm_template placing '\\x01'::bytea from 60) "
             "WHERE id = '%s'",
             f1);
    ck_assert(ts_q_ok(c, sql));
    g = gal_new();
    ck_assert_int_eq(gallery_load(g, c, k, NULL, &loaded, &unreadable, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(loaded, 1);
    ck_assert_uint_eq(unreadable, 1);
    ck_assert_int_eq(gal_person_confirm_similarity(g, a, cv, &best, &n), ATT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_float_lt(best, 0.999f); /* f2's template, not f1's */
    gal_free(g);

    /* a confirming template of another model is not compared: the face loads on its first template */
    snprintf(sql, sizeof sql, "DELETE FROM faces WHERE id = '%s'", f1);
    ck_assert(ts_q_ok(c, sql));
    add_face2(c, k, a, 7, f1);
    g = gal_new();
    ck_assert_int_eq(gallery_load(g, c, k, NULL, &loaded, &unreadable, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(loaded, 2);
    ck_assert_uint_eq(unreadable, 0);
    ck_assert_int_eq(gal_person_confirm_similarity(g, a, cv, &best, &n), ATT_OK);
    ck_assert_uint_eq(n, 1);
    gal_free(g);
    tcrypt_key_free(k);
    PQfinish(c);
    ts_db_drop(ci);
}
END_TEST

/* The operator's one threshold moves the fused one: the calibrated value at the default, lower below. */
START_TEST(fused_threshold_follows_match_threshold)
{
    ck_assert_double_eq_tol(roster_fused_threshold(AV_DEFAULT_THRESHOLD), AV_FUSED_THRESHOLD, 1e-5);
    ck_assert_double_lt(roster_fused_threshold(0.40), roster_fused_threshold(0.45));
    ck_assert_double_lt(roster_fused_threshold(0.45), AV_FUSED_THRESHOLD);
    ck_assert_double_gt(roster_fused_threshold(0.60), AV_FUSED_THRESHOLD);
}
END_TEST

/* ---- through the daemon ------------------------------------------------------------------------- */

static json_t *identify(const struct ts_daemon *d, const char *file)
{
    return ts_api_identify_largest(d->url, d->hr_token, ts_face_photo(file));
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_number(v), "%s is not a number", k);
    return json_number_value(v);
}

START_TEST(enrol_identify_rotate_erase)
{
    char ci[600], a[40], b[40], fa[40], fb[40], path[400], err[256];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    struct ts_daemon d = {.keep_dir = 1};
    ck_assert_int_eq(ts_daemon_start(&d, ci, NULL), 0);
    ck_assert_int_eq(ts_api_wait_ready(d.url), 200);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);

    /* enrolment stores both templates, encrypted, bound to the face's ids */
    ts_api_create_person(d.url, d.admin_token, "CT-1", "Confirm One", "Ward 1", a);
    ts_api_create_person(d.url, d.admin_token, "CT-2", "Legacy Two", "Ward 1", b);
    const char *who[2] = {a, b}, *photo[2] = {"img1.jpg", "img13.jpg"};
    char *fid[2] = {fa, fb};
    for (int i = 0; i < 2; i++) {
        ts_api_consent_given(d.url, d.admin_token, who[i]);
        long st;
        json_t *j = ts_post_file(ts_urlf(&d, "/api/v1/people/%s/faces", who[i]), d.admin_token, ts_face_photo(photo[i]),
                                 "image/jpeg", &st);
        ck_assert_msg(st == 201, "enrol %s: %ld", photo[i], st);
        snprintf(fid[i], 40, "%s", ts_jstr(j, "id"));
        json_decref(j);
    }
    snprintf(path, sizeof path, "%s/template.key", d.dir);
    tcrypt_key *key = NULL;
    ck_assert_int_eq(tcrypt_key_load(path, &key, err, sizeof err), ATT_OK);
    struct row2 r;
    ck_assert(read_row(c, fa, &r));
    ck_assert_str_eq(r.cmodel, ENROL_CONFIRM_MODEL_ID);
    ck_assert_uint_eq(r.clen, TCRYPT_CONFIRM_BLOB_BYTES);
    ck_assert_uint_eq(r.key_id, tcrypt_key_id(key));
    float cv[TCRYPT_CONFIRM_DIM];
    ck_assert_int_eq(tcrypt_confirm_decrypt(key, r.cblob, r.clen, a, fa, r.cmodel, cv), ATT_OK);
    double norm = 0;
    for (int i = 0; i < TCRYPT_CONFIRM_DIM; i++) norm += (double)cv[i] * cv[i];
    ck_assert_double_eq_tol(norm, 1.0, 1e-3);
    /* neither blob opens under another face's or person's ids */
    ck_assert_int_eq(tcrypt_confirm_decrypt(key, r.cblob, r.clen, a, fb, r.cmodel, cv), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(key, r.cblob, r.clen, b, fa, r.cmodel, cv), ATT_E_CRYPTO);
    float v[TCRYPT_DIM];
    ck_assert_int_eq(tcrypt_decrypt(key, r.blob, r.len, a, fa, r.model, v), ATT_OK);
    ck_assert_int_eq(tcrypt_decrypt(key, r.blob, r.len, a, fb, r.model, v), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_decrypt(key, r.blob, r.len, b, fa, r.model, v), ATT_E_CRYPTO);

    /* another photo of the person: accepted on the fused score, all three numbers reported */
    json_t *f = identify(&d, "img2.jpg");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(ts_face_match_id(f), a);
    double s = jnum(f, "similarity"), cs = jnum(f, "confirm_similarity"), fused = jnum(f, "fused");
    ck_assert_double_ge(fused, AV_FUSED_THRESHOLD);
    ck_assert_double_eq_tol(fused, av_fuse_scores((float)s, (float)cs), 1e-3);
    json_t *m = json_object_get(f, "match");
    ck_assert_double_eq_tol(jnum(m, "fused"), fused, 1e-6);
    ck_assert_double_eq_tol(jnum(m, "confirm_similarity"), cs, 1e-6);
    fprintf(stderr, "confirm_templates: img2 as Confirm One: similarity %.4f, confirm %.4f, fused %.3f\n", s, cs,
            fused);
    json_decref(f);
    /* a stranger: nobody, and no score */
    f = identify(&d, "img29.jpg");
    ck_assert_ptr_nonnull(f);
    ck_assert(json_is_null(json_object_get(f, "match")));
    ck_assert(json_is_null(json_object_get(f, "fused")));
    ck_assert(json_is_null(json_object_get(f, "confirm_similarity")));
    json_decref(f);

    /* a face enrolled without a confirming template matches on fr_feature alone at the fr threshold */
    char sql[300];
    snprintf(sql, sizeof sql, "UPDATE faces SET confirm_model_id = NULL, confirm_template = NULL WHERE id = '%s'", fb);
    ck_assert(ts_q_ok(c, sql));
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    ck_assert_int_eq(ts_api_wait_ready(d.url), 200);
    f = identify(&d, "img14.jpg");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(ts_face_match_id(f) && strcmp(ts_face_match_id(f), b) == 0, "legacy face not matched");
    ck_assert_double_ge(jnum(f, "similarity"), 0.5);
    ck_assert(json_is_null(json_object_get(f, "fused")));
    ck_assert(json_is_null(json_object_get(json_object_get(f, "match"), "confirm_similarity")));
    json_decref(f);

    /* key rotation through attendctl re-encrypts both blobs: the old key opens neither */
    char out[4096], new_path[400];
    snprintf(new_path, sizeof new_path, "%s/new-template.key", d.dir);
    static const char hex[] = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\n";
    ts_write_file(new_path, hex, sizeof hex - 1, 0600);
    const char *rotate[] = {"key", "rotate", "--new-key", new_path, NULL};
    ck_assert_int_eq(ts_attendctl(&d, out, sizeof out, rotate), 0);
    tcrypt_key *nkey = NULL;
    ck_assert_int_eq(tcrypt_key_load(path, &nkey, err, sizeof err), ATT_OK);
    ck_assert_uint_ne(tcrypt_key_id(nkey), tcrypt_key_id(key));
    ck_assert(read_row(c, fa, &r));
    ck_assert_uint_eq(r.key_id, tcrypt_key_id(nkey));
    ck_assert_int_eq(tcrypt_confirm_decrypt(key, r.cblob, r.clen, a, fa, r.cmodel, cv), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(nkey, r.cblob, r.clen, a, fa, r.cmodel, cv), ATT_OK);
    ck_assert_int_eq(tcrypt_decrypt(key, r.blob, r.len, a, fa, r.model, v), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_decrypt(nkey, r.blob, r.len, a, fa, r.model, v), ATT_OK);
    /* after a restart the gallery opens both under the new key: still a fused match */
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ck_assert_int_eq(ts_daemon_restart(&d), 0);
    ck_assert_int_eq(ts_api_wait_ready(d.url), 200);
    f = identify(&d, "img2.jpg");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(ts_face_match_id(f), a);
    ck_assert_double_ge(jnum(f, "fused"), AV_FUSED_THRESHOLD);
    json_decref(f);

    /* erasure: nothing of either template of the person is left */
    long st;
    json_decref(ts_call("DELETE", ts_urlf(&d, "/api/v1/people/%s", a), d.admin_token, NULL, &st));
    ck_assert_int_eq(st, 204);
    ck_assert(!read_row(c, fa, &r));
    ck_assert_int_eq(ts_sql_intf(ci, "SELECT count(*) FROM faces WHERE person_id = '%s'", a), 0);
    ck_assert_int_eq(ts_sql_int(ci, "SELECT count(*) FROM faces WHERE confirm_template IS NOT NULL"), 0);
    f = identify(&d, "img2.jpg");
    ck_assert(f == NULL || ts_face_match_id(f) == NULL || strcmp(ts_face_match_id(f), a) != 0);
    json_decref(f);

    tcrypt_key_free(key);
    tcrypt_key_free(nkey);
    PQfinish(c);
    d.keep_dir = 0;
    ck_assert_int_eq(ts_daemon_stop(&d, SIGTERM, 60), 0);
    ts_db_drop(ci);
}
END_TEST

Suite *confirm_templates_suite(void)
{
    Suite *s = suite_create("confirm_templates");
    ts_tcase(s, "store", 120, NULL, NULL, set_confirm_bad_forms, rekey_moves_both_blobs,
             loader_attaches_and_refuses_spoiled, fused_threshold_follows_match_threshold, NULL);
    ts_tcase(s, "daemon", 600, NULL, NULL, enrol_identify_rotate_erase, NULL);
    return s;
}
