/* Face templates encrypted at rest: XChaCha20-Poly1305 (libsodium) with the person, face and model
 * ids in the associated data, so a blob copied to another row, person or model fails to decrypt.
 * Two forms share one format and one implementation: the fr_feature template (512 floats,
 * tcrypt_encrypt ...) and the confirming model's template (128 floats, tcrypt_confirm_encrypt ...).
 *
 * Blob (TCRYPT_BLOB_BYTES, TCRYPT_CONFIRM_BLOB_BYTES): version (1 byte, 1) | key id (uint32 LE) |
 * nonce (24 random bytes) | ciphertext of the little-endian float32 values | Poly1305 tag (16 bytes).
 * Associated data: version | key id | "attendd-template-v1|<person uuid>|<face uuid>|<model id>",
 * uuids in lower case, so the header cannot be altered either; the model ids of the two forms differ,
 * so one form never opens as the other. */
#ifndef ATTENDD_TEMPLATE_CRYPTO_H
#define ATTENDD_TEMPLATE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#define TCRYPT_DIM 512
#define TCRYPT_VERSION 1
#define TCRYPT_NONCE_BYTES 24
#define TCRYPT_TAG_BYTES 16
#define TCRYPT_HEADER_BYTES (1 + 4 + TCRYPT_NONCE_BYTES)
#define TCRYPT_BLOB_BYTES_FOR(dim) (TCRYPT_HEADER_BYTES + (dim)*4 + TCRYPT_TAG_BYTES)
#define TCRYPT_BLOB_BYTES TCRYPT_BLOB_BYTES_FOR(TCRYPT_DIM)                 /* 2093 */
#define TCRYPT_CONFIRM_DIM 128                                              /* the confirming model's template */
#define TCRYPT_CONFIRM_BLOB_BYTES TCRYPT_BLOB_BYTES_FOR(TCRYPT_CONFIRM_DIM) /* 557 */
#define TCRYPT_MODEL_MAX 255                                                /* longest model id, bytes */

/* A loaded key, kept in sodium_malloc'ed (guarded, locked, read-only) memory. Thread-safe to share. */
typedef struct tcrypt_key tcrypt_key;

/* Load a key file (see attendd/keyfile.h: 0600, raw 32 bytes or 64 hex). On failure *out is NULL
 * and err names the file and reason (ATT_E_CONFIG, ATT_E_IO, ATT_E_NOMEM). */
att_err tcrypt_key_load(const char *path, tcrypt_key **out, char *err, size_t errlen);
/* A key from 32 raw bytes (tests, systemd credentials read by the caller). */
att_err tcrypt_key_from_bytes(const unsigned char raw[32], tcrypt_key **out);
/* Wipe and free. NULL is a no-op. */
void tcrypt_key_free(tcrypt_key *key);
/* The key's id, written into each blob: 31 bits of a keyed BLAKE2b fingerprint of the key (no
 * configuration to keep in step; rotation tells old blobs from new by it; fits faces.key_id, an
 * integer >= 0). */
uint32_t tcrypt_key_id(const tcrypt_key *key);

/* Encrypt a template. person/face are canonical uuid text (any case), model a non-empty id of at most
 * TCRYPT_MODEL_MAX bytes (e.g. the feature model's sha256 prefix). ATT_E_INVALID for bad arguments;
 * out is zeroed on any failure. */
att_err tcrypt_encrypt(const tcrypt_key *key, const float vec[TCRYPT_DIM], const char *person, const char *face,
                       const char *model, unsigned char out[TCRYPT_BLOB_BYTES]);
/* Decrypt and authenticate. ATT_E_CRYPTO if the blob is malformed (size, version), was made with
 * another key, was altered, or belongs to other ids; ATT_E_INVALID for bad arguments. On failure out
 * is all zeros, never partial plaintext. The caller wipes out after use (sodium_memzero). */
att_err tcrypt_decrypt(const tcrypt_key *key, const unsigned char *blob, size_t len, const char *person,
                       const char *face, const char *model, float out[TCRYPT_DIM]);
/* Key rotation: decrypt with old_key, encrypt under new_key (fresh nonce); plaintext is wiped.
 * Errors as tcrypt_decrypt; out is zeroed on failure. */
att_err tcrypt_reencrypt(const tcrypt_key *old_key, const tcrypt_key *new_key, const unsigned char *blob, size_t len,
                         const char *person, const char *face, const char *model, unsigned char out[TCRYPT_BLOB_BYTES]);
/* Key id of a blob without decrypting (to find rows still under an old key). ATT_E_CRYPTO if the
 * blob is not a version-1 blob of either form's size. The id is not authenticated until decryption. */
att_err tcrypt_blob_key_id(const unsigned char *blob, size_t len, uint32_t *id);

/* The same three operations for the confirming model's template (TCRYPT_CONFIRM_DIM floats, blobs of
 * TCRYPT_CONFIRM_BLOB_BYTES), with the same arguments, errors and wiping. */
att_err tcrypt_confirm_encrypt(const tcrypt_key *key, const float vec[TCRYPT_CONFIRM_DIM], const char *person,
                               const char *face, const char *model, unsigned char out[TCRYPT_CONFIRM_BLOB_BYTES]);
att_err tcrypt_confirm_decrypt(const tcrypt_key *key, const unsigned char *blob, size_t len, const char *person,
                               const char *face, const char *model, float out[TCRYPT_CONFIRM_DIM]);
att_err tcrypt_confirm_reencrypt(const tcrypt_key *old_key, const tcrypt_key *new_key, const unsigned char *blob,
                                 size_t len, const char *person, const char *face, const char *model,
                                 unsigned char out[TCRYPT_CONFIRM_BLOB_BYTES]);

#endif
