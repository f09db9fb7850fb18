/* Template encryption (src/gallery/template_crypto.c) and key files (src/util/keyfile.c): round trip,
 * refusal of wrong keys, swapped ids, tampering and truncation, and key-file checks. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/keyfile.h"
#include "attendd/template_crypto.h"
#include "support.h"

#define P1 "6f1c1e1a-3a55-4c8e-9b1e-0d2f6a7b8c90"
#define P2 "6f1c1e1a-3a55-4c8e-9b1e-0d2f6a7b8c91"
#define F1 "a0000000-0000-4000-8000-000000000001"
#define F2 "a0000000-0000-4000-8000-000000000002"
#define M1 "fr_feature:87aacdfe"
#define M2 "fr_feature:00000000"

static tcrypt_key *key_of(unsigned char fill)
{
    unsigned char raw[32];
    memset(raw, fill, sizeof raw);
    tcrypt_key *k = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &k), ATT_OK);
    ck_assert_ptr_nonnull(k);
    return k;
}

static void sample(float v[TCRYPT_DIM])
{
    for (int d = 0; d < TCRYPT_DIM; d++) v[d] = sinf((float)d * 0.37f) * 0.05f;
    v[0] = -0.0f;
    v[1] = 1e-40f; /* subnormal: bit-exact round trip, not just approximately */
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

START_TEST(round_trip)
{
    tcrypt_key *k = key_of(1);
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES], blob2[TCRYPT_BLOB_BYTES];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob), ATT_OK);
    ck_assert_int_eq(blob[0], TCRYPT_VERSION);
    uint32_t id = 0;
    ck_assert_int_eq(tcrypt_blob_key_id(blob, sizeof blob, &id), ATT_OK);
    ck_assert_uint_eq(id, tcrypt_key_id(k));
    /* no plaintext float appears in the blob */
    ck_assert_ptr_null(memmem(blob, sizeof blob, &v[5], sizeof(float) * 4));
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P1, F1, M1, out), ATT_OK);
    ck_assert_int_eq(memcmp(v, out, sizeof v), 0);
    /* uuids in upper case are the same ids */
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, "6F1C1E1A-3A55-4C8E-9B1E-0D2F6A7B8C90", F1, M1, out), ATT_OK);
    /* fresh nonce each time */
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob2), ATT_OK);
    ck_assert_int_ne(memcmp(blob + 5, blob2 + 5, TCRYPT_NONCE_BYTES), 0);
    ck_assert_uint_eq(TCRYPT_BLOB_BYTES, 2093);
    tcrypt_key_free(k);
}
END_TEST

START_TEST(wrong_key_fails)
{
    tcrypt_key *k1 = key_of(1), *k2 = key_of(2);
    ck_assert_uint_ne(tcrypt_key_id(k1), tcrypt_key_id(k2));
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k1, v, P1, F1, M1, blob), ATT_OK);
    memset(out, 0x55, sizeof out);
    ck_assert_int_eq(tcrypt_decrypt(k2, blob, sizeof blob, P1, F1, M1, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    /* a blob claiming k2's id is still not decryptable with k2 */
    uint32_t id2 = tcrypt_key_id(k2);
    for (int i = 0; i < 4; i++) blob[1 + i] = (unsigned char)(id2 >> (8 * i));
    ck_assert_int_eq(tcrypt_decrypt(k2, blob, sizeof blob, P1, F1, M1, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    tcrypt_key_free(k1);
    tcrypt_key_free(k2);
}
END_TEST

START_TEST(swapped_ids_fail)
{
    tcrypt_key *k = key_of(3);
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P2, F1, M1, out), ATT_E_CRYPTO); /* other person */
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P1, F2, M1, out), ATT_E_CRYPTO); /* other row */
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P1, F1, M2, out), ATT_E_CRYPTO); /* other model */
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, F1, P1, M1, out), ATT_E_CRYPTO); /* ids swapped */
    ck_assert(all_zero(out, sizeof out));
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P1, F1, M1, out), ATT_OK);
    tcrypt_key_free(k);
}
END_TEST

START_TEST(tampered_and_truncated_fail)
{
    tcrypt_key *k = key_of(4);
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES], bad[TCRYPT_BLOB_BYTES + 1];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob), ATT_OK);
    /* one flipped bit anywhere (header, nonce, ciphertext, tag) is refused; key-id bytes included */
    static const size_t where[] = {0, 1, 4, 5, 28, 29, 100, 2076, 2077, TCRYPT_BLOB_BYTES - 1};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        memcpy(bad, blob, sizeof blob);
        bad[where[i]] ^= 0x01;
        memset(out, 0x55, sizeof out);
        ck_assert_int_eq(tcrypt_decrypt(k, bad, sizeof blob, P1, F1, M1, out), ATT_E_CRYPTO);
        ck_assert(all_zero(out, sizeof out));
    }
    static const size_t lens[] = {0,
                                  1,
                                  5,
                                  TCRYPT_HEADER_BYTES,
                                  TCRYPT_HEADER_BYTES + TCRYPT_TAG_BYTES,
                                  TCRYPT_BLOB_BYTES - 1,
                                  TCRYPT_BLOB_BYTES + 1};
    memcpy(bad, blob, sizeof blob);
    bad[TCRYPT_BLOB_BYTES] = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(out, 0x55, sizeof out);
        ck_assert_int_eq(tcrypt_decrypt(k, bad, lens[i], P1, F1, M1, out), ATT_E_CRYPTO);
        ck_assert(all_zero(out, sizeof out));
    }
    ck_assert_int_eq(tcrypt_decrypt(k, NULL, 0, P1, F1, M1, out), ATT_E_CRYPTO);
    uint32_t id;
    ck_assert_int_eq(tcrypt_blob_key_id(blob, sizeof blob - 1, &id), ATT_E_CRYPTO);
    tcrypt_key_free(k);
}
END_TEST

START_TEST(bad_arguments)
{
    tcrypt_key *k = key_of(5);
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    char long_model[TCRYPT_MODEL_MAX + 2];
    memset(long_model, 'm', sizeof long_model - 1);
    long_model[sizeof long_model - 1] = '\0';
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k, v, "not-a-uuid", F1, M1, blob), ATT_E_INVALID);
    ck_assert(all_zero(blob, sizeof blob));
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, P1 "0", M1, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, "", blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, NULL, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, long_model, blob), ATT_E_INVALID);
    long_model[TCRYPT_MODEL_MAX] = '\0'; /* exactly the maximum is fine */
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, long_model, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, P1, F1, long_model, out), ATT_OK);
    ck_assert_int_eq(tcrypt_encrypt(NULL, v, P1, F1, M1, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_decrypt(k, blob, sizeof blob, NULL, F1, M1, out), ATT_E_INVALID);
    tcrypt_key_free(k);
    tcrypt_key_free(NULL);
}
END_TEST

START_TEST(rotation)
{
    tcrypt_key *old = key_of(6), *new = key_of(7);
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES], rot[TCRYPT_BLOB_BYTES];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(old, v, P1, F1, M1, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_reencrypt(old, new, blob, sizeof blob, P1, F1, M1, rot), ATT_OK);
    uint32_t id;
    ck_assert_int_eq(tcrypt_blob_key_id(rot, sizeof rot, &id), ATT_OK);
    ck_assert_uint_eq(id, tcrypt_key_id(new));
    ck_assert_int_eq(tcrypt_decrypt(old, rot, sizeof rot, P1, F1, M1, out), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_decrypt(new, rot, sizeof rot, P1, F1, M1, out), ATT_OK);
    ck_assert_int_eq(memcmp(v, out, sizeof v), 0);
    /* re-encrypting an already rotated blob with the old key fails and leaves no output */
    memset(blob, 0x55, sizeof blob);
    ck_assert_int_eq(tcrypt_reencrypt(old, new, rot, sizeof rot, P1, F1, M1, blob), ATT_E_CRYPTO);
    ck_assert(all_zero(blob, sizeof blob));
    tcrypt_key_free(old);
    tcrypt_key_free(new);
}
END_TEST

/* ---- key files --------------------------------------------------------------------------- */

static char tmpdir[64];

static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attendd-tcrypt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(key_files)
{
    mk_tmpdir();
    char path[128], err[256];
    tcrypt_key *k = NULL, *k2 = NULL;

    /* created: 0600, loads, and is not overwritten */
    snprintf(path, sizeof path, "%s/new.key", tmpdir);
    ck_assert_int_eq(keyfile_create(path, err, sizeof err), ATT_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 32);
    ck_assert_int_eq(tcrypt_key_load(path, &k, err, sizeof err), ATT_OK);
    ck_assert_int_ne(keyfile_create(path, err, sizeof err), ATT_OK);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(tcrypt_key_id(k), tcrypt_key_id(k2));
    tcrypt_key_free(k2);
    k2 = NULL;
    unlink(path);

    /* hex form (with newline) gives the same key as the raw form */
    unsigned char raw[32];
    char hex[66];
    for (int i = 0; i < 32; i++) raw[i] = (unsigned char)(i * 7 + 1);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    strcat(hex, "\n");
    snprintf(path, sizeof path, "%s/raw.key", tmpdir);
    ts_write_file(path, raw, sizeof raw, 0600);
    tcrypt_key_free(k);
    ck_assert_int_eq(tcrypt_key_load(path, &k, err, sizeof err), ATT_OK);
    unlink(path);
    snprintf(path, sizeof path, "%s/hex.key", tmpdir);
    ts_write_file(path, hex, strlen(hex), 0400);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_OK);
    ck_assert_uint_eq(tcrypt_key_id(k), tcrypt_key_id(k2));
    tcrypt_key_free(k2);
    k2 = NULL;

    /* group- or other-readable: refused, and the message says why */
    ts_write_file(path, hex, strlen(hex), 0640);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_null(k2);
    ck_assert_ptr_nonnull(strstr(err, path));
    ts_write_file(path, hex, strlen(hex), 0604);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_CONFIG);
    /* wrong sizes and encodings */
    ts_write_file(path, raw, 31, 0600);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_CONFIG);
    hex[10] = 'g';
    ts_write_file(path, hex, strlen(hex), 0600);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_CONFIG);
    ts_write_file(path, "", 0, 0600);
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_CONFIG);
    unlink(path);
    /* missing file, directory */
    ck_assert_int_eq(tcrypt_key_load(path, &k2, err, sizeof err), ATT_E_IO);
    ck_assert_int_ne(tcrypt_key_load(tmpdir, &k2, err, sizeof err), ATT_OK);
    ck_assert_ptr_null(k2);
    unsigned char buf[32];
    memset(buf, 0x55, sizeof buf);
    ck_assert_int_ne(keyfile_load(path, buf, err, sizeof err), ATT_OK);
    ck_assert(all_zero(buf, sizeof buf));

    /* blobs from a key loaded from a file decrypt with the same key from bytes */
    tcrypt_key *kb = NULL;
    ck_assert_int_eq(tcrypt_key_from_bytes(raw, &kb), ATT_OK);
    ck_assert_uint_eq(tcrypt_key_id(kb), tcrypt_key_id(k));
    float v[TCRYPT_DIM], out[TCRYPT_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES];
    sample(v);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_decrypt(kb, blob, sizeof blob, P1, F1, M1, out), ATT_OK);
    tcrypt_key_free(kb);
    tcrypt_key_free(k);
    rmdir(tmpdir);
}
END_TEST

/* ---- the confirming model's form (128 floats) -------------------------------------------------- */

#define MC "dlib-resnet-v1-55533b28a95800a5-lm68"

static void sample_confirm(float v[TCRYPT_CONFIRM_DIM])
{
    for (int d = 0; d < TCRYPT_CONFIRM_DIM; d++) v[d] = cosf((float)d * 0.61f) * 0.09f;
    v[2] = -0.0f;
}

START_TEST(confirm_round_trip_and_refusals)
{
    ck_assert_uint_eq(TCRYPT_CONFIRM_BLOB_BYTES, 557);
    tcrypt_key *k = key_of(8), *other = key_of(9);
    float v[TCRYPT_CONFIRM_DIM], out[TCRYPT_CONFIRM_DIM];
    unsigned char blob[TCRYPT_CONFIRM_BLOB_BYTES], copy[TCRYPT_CONFIRM_BLOB_BYTES];
    sample_confirm(v);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, v, P1, F1, MC, blob), ATT_OK);
    uint32_t id = 0;
    ck_assert_int_eq(tcrypt_blob_key_id(blob, sizeof blob, &id), ATT_OK);
    ck_assert_uint_eq(id, tcrypt_key_id(k));
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, F1, MC, out), ATT_OK);
    ck_assert_int_eq(memcmp(v, out, sizeof v), 0); /* bit-exact, -0.0 included */
    /* wrong key, another person, another face, another model: nothing, and no partial plaintext */
    ck_assert_int_eq(tcrypt_confirm_decrypt(other, blob, sizeof blob, P1, F1, MC, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P2, F1, MC, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, F2, MC, out), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, F1, M1, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    /* every byte altered, one at a time, breaks it */
    for (size_t i = 0; i < sizeof blob; i++) {
        memcpy(copy, blob, sizeof blob);
        copy[i] ^= 0x01;
        ck_assert_msg(tcrypt_confirm_decrypt(k, copy, sizeof copy, P1, F1, MC, out) == ATT_E_CRYPTO, "byte %zu", i);
        ck_assert(all_zero(out, sizeof out));
    }
    /* truncated or extended, or NULL */
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob - 1, P1, F1, MC, out), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, NULL, sizeof blob, P1, F1, MC, out), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_blob_key_id(blob, sizeof blob - 1, &id), ATT_E_CRYPTO);
    tcrypt_key_free(k);
    tcrypt_key_free(other);
}
END_TEST

START_TEST(confirm_forms_do_not_mix)
{
    tcrypt_key *k = key_of(10);
    float v[TCRYPT_DIM], out[TCRYPT_DIM], c[TCRYPT_CONFIRM_DIM], cout[TCRYPT_CONFIRM_DIM];
    unsigned char blob[TCRYPT_BLOB_BYTES], cblob[TCRYPT_CONFIRM_BLOB_BYTES];
    sample(v);
    sample_confirm(c);
    ck_assert_int_eq(tcrypt_encrypt(k, v, P1, F1, M1, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, F1, M1, cblob), ATT_OK);
    /* same ids and model: still the size tells the forms apart, and neither opens as the other */
    ck_assert_int_eq(tcrypt_decrypt(k, cblob, sizeof cblob, P1, F1, M1, out), ATT_E_CRYPTO);
    ck_assert(all_zero(out, sizeof out));
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, F1, M1, cout), ATT_E_CRYPTO);
    ck_assert(all_zero(cout, sizeof cout));
    /* the first 557 bytes of a 512-float blob are no confirming template either */
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, TCRYPT_CONFIRM_BLOB_BYTES, P1, F1, M1, cout), ATT_E_CRYPTO);
    tcrypt_key_free(k);
}
END_TEST

START_TEST(confirm_bad_arguments)
{
    tcrypt_key *k = key_of(11);
    float c[TCRYPT_CONFIRM_DIM], out[TCRYPT_CONFIRM_DIM];
    unsigned char blob[TCRYPT_CONFIRM_BLOB_BYTES];
    sample_confirm(c);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, "not-a-uuid", F1, MC, blob), ATT_E_INVALID);
    ck_assert(all_zero(blob, sizeof blob));
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, "x", MC, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, F1, "", blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, F1, NULL, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(NULL, c, P1, F1, MC, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, NULL, P1, F1, MC, blob), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, F1, MC, NULL), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_encrypt(k, c, P1, F1, MC, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_confirm_decrypt(NULL, blob, sizeof blob, P1, F1, MC, out), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, NULL, MC, out), ATT_E_INVALID);
    ck_assert_int_eq(tcrypt_confirm_decrypt(k, blob, sizeof blob, P1, F1, MC, NULL), ATT_E_INVALID);
    tcrypt_key_free(k);
}
END_TEST

START_TEST(confirm_rotation)
{
    tcrypt_key *old = key_of(12), *new = key_of(13);
    float c[TCRYPT_CONFIRM_DIM], out[TCRYPT_CONFIRM_DIM];
    unsigned char blob[TCRYPT_CONFIRM_BLOB_BYTES], rot[TCRYPT_CONFIRM_BLOB_BYTES];
    sample_confirm(c);
    ck_assert_int_eq(tcrypt_confirm_encrypt(old, c, P1, F1, MC, blob), ATT_OK);
    ck_assert_int_eq(tcrypt_confirm_reencrypt(old, new, blob, sizeof blob, P1, F1, MC, rot), ATT_OK);
    uint32_t id;
    ck_assert_int_eq(tcrypt_blob_key_id(rot, sizeof rot, &id), ATT_OK);
    ck_assert_uint_eq(id, tcrypt_key_id(new));
    ck_assert_int_eq(tcrypt_confirm_decrypt(old, rot, sizeof rot, P1, F1, MC, out), ATT_E_CRYPTO);
    ck_assert_int_eq(tcrypt_confirm_decrypt(new, rot, sizeof rot, P1, F1, MC, out), ATT_OK);
    ck_assert_int_eq(memcmp(c, out, sizeof c), 0);
    /* under the wrong ids the rotation refuses and writes nothing */
    memset(blob, 0x55, sizeof blob);
    ck_assert_int_eq(tcrypt_confirm_reencrypt(new, old, rot, sizeof rot, P2, F1, MC, blob), ATT_E_CRYPTO);
    ck_assert(all_zero(blob, sizeof blob));
    tcrypt_key_free(old);
    tcrypt_key_free(new);
}
END_TEST

Suite *template_crypto_suite(void)
{
    Suite *s = suite_create("template_crypto");
    ts_tcase(s, "core", 0, NULL, NULL, round_trip, wrong_key_fails, swapped_ids_fail, tampered_and_truncated_fail,
             bad_arguments, rotation, key_files, confirm_round_trip_and_refusals, confirm_forms_do_not_mix,
             confirm_bad_arguments, confirm_rotation, NULL);
    return s;
}
