/* Template encryption at rest (include/attendd/template_crypto.h): XChaCha20-Poly1305 blobs of either
 * form (fr_feature, confirming model) bound to person, face and model ids; keys in guarded libsodium memory; plaintext copies always wiped. */
#include "attendd/template_crypto.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "attendd/keyfile.h"
#include "attendd/uuid.h"

#define AD_LABEL "attendd-template-v1"
#define AD_MAX (5 + sizeof AD_LABEL + 2 * 37 + TCRYPT_MODEL_MAX + 1)
#define PT_MAX (TCRYPT_DIM * 4) /* plaintext bytes of the larger form */

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == TCRYPT_NONCE_BYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == TCRYPT_TAG_BYTES, "tag size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == KEYFILE_BYTES, "key size");

struct tcrypt_key {
    uint32_t id;                                                  /* fingerprint written into blobs */
    unsigned char k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES]; /* the secret */
};

att_err tcrypt_key_from_bytes(const unsigned char raw[32], tcrypt_key **out)
{
    *out = NULL;
    if (sodium_init() < 0) return ATT_E_CRYPTO;
    tcrypt_key *key = sodium_malloc(sizeof *key); /* guard pages, mlock, wiped by sodium_free */
    if (!key) return ATT_E_NOMEM;
    memcpy(key->k, raw, sizeof key->k);
    /* keyed hash of a constant: identifies the key without revealing anything about it */
    static const unsigned char label[] = "attendd template key id";
    unsigned char fp[crypto_generichash_BYTES_MIN];
    crypto_generichash(fp, sizeof fp, label, sizeof label - 1, key->k, sizeof key->k);
    /* 31 bits: the id also goes into faces.key_id, a PostgreSQL integer constrained to >= 0 */
    key->id = ((uint32_t)fp[0] | (uint32_t)fp[1] << 8 | (uint32_t)fp[2] << 16 | (uint32_t)fp[3] << 24) & 0x7fffffffu;
    sodium_mprotect_readonly(key);
    *out = key;
    return ATT_OK;
}

att_err tcrypt_key_load(const char *path, tcrypt_key **out, char *err, size_t errlen)
{
    *out = NULL;
    unsigned char raw[KEYFILE_BYTES];
    att_err e = keyfile_load(path, raw, err, errlen);
    if (e == ATT_OK) {
        e = tcrypt_key_from_bytes(raw, out);
        if (e != ATT_OK) snprintf(err, errlen, "key file %s: %s", path, att_err_title(e));
    }
    sodium_memzero(raw, sizeof raw);
    return e;
}

void tcrypt_key_free(tcrypt_key *key)
{
    if (key) sodium_free(key);
}

uint32_t tcrypt_key_id(const tcrypt_key *key) { return key->id; }

/* Associated data for a blob header; returns its length or 0 for bad ids. */
static size_t build_ad(unsigned char ad[AD_MAX], const unsigned char header[5], const char *person, const char *face,
                       const char *model)
{
    char p[ATT_UUID_STR], f[ATT_UUID_STR];
    if (!att_uuid_canonical(person, p) || !att_uuid_canonical(face, f) || !model) return 0;
    size_t ml = strnlen(model, TCRYPT_MODEL_MAX + 1);
    if (ml == 0 || ml > TCRYPT_MODEL_MAX) return 0;
    memcpy(ad, header, 5);
    int n = snprintf((char *)ad + 5, AD_MAX - 5, AD_LABEL "|%s|%s|%s", p, f, model);
    return n > 0 && (size_t)n < AD_MAX - 5 ? 5 + (size_t)n : 0;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The one implementation of both forms: dim floats (TCRYPT_DIM or TCRYPT_CONFIRM_DIM) into a blob
 * of TCRYPT_BLOB_BYTES_FOR(dim) bytes. */
static att_err encrypt_dim(const tcrypt_key *key, const float *vec, size_t dim, const char *person, const char *face,
                           const char *model, unsigned char *out)
{
    if (!out) return ATT_E_INVALID;
    const size_t blob_bytes = TCRYPT_BLOB_BYTES_FOR(dim), pt_bytes = dim * 4;
    memset(out, 0, blob_bytes);
    if (!key || !vec) return ATT_E_INVALID;
    unsigned char header[5], ad[AD_MAX];
    header[0] = TCRYPT_VERSION;
    put_u32le(header + 1, key->id);
    size_t adlen = build_ad(ad, header, person, face, model);
    if (!adlen) return ATT_E_INVALID;

    /* little-endian float32 whatever the host order, so blobs move between machines */
    unsigned char pt[PT_MAX];
    for (size_t d = 0; d < dim; d++) {
        uint32_t u;
        memcpy(&u, &vec[d], 4);
        put_u32le(pt + 4 * d, u);
    }
    memcpy(out, header, 5);
    unsigned char *nonce = out + 5;
    randombytes_buf(nonce, TCRYPT_NONCE_BYTES); /* 192-bit random nonces never collide in practice */
    unsigned long long clen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(out + TCRYPT_HEADER_BYTES, &clen, pt, pt_bytes, ad, adlen, NULL,
                                                        nonce, key->k);
    sodium_memzero(pt, sizeof pt);
    if (rc != 0 || clen != pt_bytes + TCRYPT_TAG_BYTES) {
        sodium_memzero(out, blob_bytes);
        return ATT_E_CRYPTO;
    }
    return ATT_OK;
}

att_err tcrypt_blob_key_id(const unsigned char *blob, size_t len, uint32_t *id)
{
    if (!blob || (len != TCRYPT_BLOB_BYTES && len != TCRYPT_CONFIRM_BLOB_BYTES) || blob[0] != TCRYPT_VERSION)
        return ATT_E_CRYPTO;
    *id = get_u32le(blob + 1);
    return ATT_OK;
}

static att_err decrypt_dim(const tcrypt_key *key, const unsigned char *blob, size_t len, const char *person,
                           const char *face, const char *model, size_t dim, float *out)
{
    if (!out) return ATT_E_INVALID;
    memset(out, 0, dim * sizeof *out);
    if (!key) return ATT_E_INVALID;
    /* the header as stored goes into the AD: altering the version or key id breaks the tag */
    unsigned char header[5] = {0}, ad[AD_MAX];
    if (blob && len >= sizeof header) memcpy(header, blob, sizeof header);
    size_t adlen = build_ad(ad, header, person, face, model);
    if (!adlen) return ATT_E_INVALID;
    uint32_t id;
    if (len != TCRYPT_BLOB_BYTES_FOR(dim) || tcrypt_blob_key_id(blob, len, &id) != ATT_OK || id != key->id)
        return ATT_E_CRYPTO;

    const size_t pt_bytes = dim * 4;
    unsigned char pt[PT_MAX];
    unsigned long long plen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, blob + TCRYPT_HEADER_BYTES,
                                                        len - TCRYPT_HEADER_BYTES, ad, adlen, blob + 5, key->k);
    if (rc == 0 && plen == pt_bytes) {
        for (size_t d = 0; d < dim; d++) {
            uint32_t u = get_u32le(pt + 4 * d);
            memcpy(&out[d], &u, 4);
        }
    }
    sodium_memzero(pt, sizeof pt);
    return rc == 0 && plen == pt_bytes ? ATT_OK : ATT_E_CRYPTO;
}

static att_err reencrypt_dim(const tcrypt_key *old_key, const tcrypt_key *new_key, const unsigned char *blob,
                             size_t len, const char *person, const char *face, const char *model, size_t dim,
                             unsigned char *out)
{
    if (!out) return ATT_E_INVALID;
    memset(out, 0, TCRYPT_BLOB_BYTES_FOR(dim));
    float vec[TCRYPT_DIM];
    att_err e = decrypt_dim(old_key, blob, len, person, face, model, dim, vec);
    if (e == ATT_OK) e = encrypt_dim(new_key, vec, dim, person, face, model, out);
    sodium_memzero(vec, sizeof vec);
    return e;
}

att_err tcrypt_encrypt(const tcrypt_key *key, const float vec[TCRYPT_DIM], const char *person, const char *face,
                       const char *model, unsigned char out[TCRYPT_BLOB_BYTES])
{
    return encrypt_dim(key, vec, TCRYPT_DIM, person, face, model, out);
}

att_err tcrypt_decrypt(const tcrypt_key *key, const unsigned char *blob, size_t len, const char *person,
                       const char *face, const char *model, float out[TCRYPT_DIM])
{
    return decrypt_dim(key, blob, len, person, face, model, TCRYPT_DIM, out);
}

att_err tcrypt_reencrypt(const tcrypt_key *old_key, const tcrypt_key *new_key, const unsigned char *blob, size_t len,
                         const char *person, const char *face, const char *model, unsigned char out[TCRYPT_BLOB_BYTES])
{
    return reencrypt_dim(old_key, new_key, blob, len, person, face, model, TCRYPT_DIM, out);
}

att_err tcrypt_confirm_encrypt(const tcrypt_key *key, const float vec[TCRYPT_CONFIRM_DIM], const char *person,
                               const char *face, const char *model, unsigned char out[TCRYPT_CONFIRM_BLOB_BYTES])
{
    return encrypt_dim(key, vec, TCRYPT_CONFIRM_DIM, person, face, model, out);
}

att_err tcrypt_confirm_decrypt(const tcrypt_key *key, const unsigned char *blob, size_t len, const char *person,
                               const char *face, const char *model, float out[TCRYPT_CONFIRM_DIM])
{
    return decrypt_dim(key, blob, len, person, face, model, TCRYPT_CONFIRM_DIM, out);
}

att_err tcrypt_confirm_reencrypt(const tcrypt_key *old_key, const tcrypt_key *new_key, const unsigned char *blob,
                                 size_t len, const char *person, const char *face, const char *model,
                                 unsigned char out[TCRYPT_CONFIRM_BLOB_BYTES])
{
    return reencrypt_dim(old_key, new_key, blob, len, person, face, model, TCRYPT_CONFIRM_DIM, out);
}
