/* Encrypted face templates in PostgreSQL (table faces): insert, list metadata, delete, stream all
 * of them to the gallery at start-up, and re-encrypt them under a new key (key rotation). The blobs
 * are made and opened by attendd/template_crypto.h; this layer never sees a plaintext embedding. */
#ifndef ATTENDD_STORE_FACES_H
#define ATTENDD_STORE_FACES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/store_people.h"
#include "attendd/template_crypto.h"
#include "attendd/uuid.h"

#define FACE_MODEL_ID_MAX 65 /* model_id: 1..64 characters (ASCII in practice) + NUL */

/* Metadata of one face; never the template. */
struct face_meta {
    char id[ATT_UUID_STR];
    char model_id[FACE_MODEL_ID_MAX];
    char created_at[STORE_TS_LEN]; /* RFC 3339 UTC */
    const char *quality_json;      /* JSON object text; points into the same allocation */
};

/* Store one template. face_id comes from the caller (att_uuid_new_text in attendd/uuid.h) because it is
 * bound into the blob's associated data before the row exists. key_id must equal the blob's key id.
 * quality_json: a JSON object text, or NULL for {}. ATT_E_NOT_FOUND if the person does not exist or is
 * erased (also for a malformed person id); ATT_E_CONSENT_REQUIRED unless the person's consent is
 * "given", ATT_E_BIOMETRIC_OFF when the person opted out of the face; ATT_E_CONFLICT if face_id is taken; ATT_E_INVALID for a
 * malformed face id, model id, blob or quality. Safe against a concurrent erasure (the person row is
 * share-locked, so a consent withdrawal committing meanwhile is seen). */
att_err store_face_insert(PGconn *c, const char *person_id, const char *face_id, const char *model_id, uint32_t key_id,
                          const unsigned char *blob, size_t len, const char *quality_json);
/* Attach the confirming model's encrypted template to a face stored by store_face_insert in the same
 * transaction. key_id must equal the row's key id and the blob's (one key per row: rotation
 * re-encrypts both blobs together). ATT_E_NOT_FOUND when that person has no such face under key_id
 * (or an id is malformed); ATT_E_INVALID for a malformed model id or blob. */
att_err store_face_set_confirm(PGconn *c, const char *person_id, const char *face_id, const char *model_id,
                               uint32_t key_id, const unsigned char *blob, size_t len);
/* A person's faces, oldest first. *out is ONE malloc'd block (free(*out) frees the strings too); *n rows.
 * ATT_E_NOT_FOUND if the person does not exist or is erased (an existing person may have 0 faces). */
att_err store_face_list(PGconn *c, const char *person_id, struct face_meta **out, size_t *n);
/* Delete one face of one person. ATT_E_NOT_FOUND if that person has no such face (or an id is malformed). */
att_err store_face_delete(PGconn *c, const char *person_id, const char *face_id);

/* One row for the gallery loader. Every pointer is valid only during the callback. */
struct face_row {
    const char *person_id;
    bool active;             /* the person's active flag */
    const char *employee_no; /* the person's identity, for match answers */
    const char *name;
    const char *face_id;
    const char *model_id;
    uint32_t key_id;
    const unsigned char *blob;
    size_t len;
    const char *confirm_model_id;      /* the confirming template's model id; NULL when the face has none */
    const unsigned char *confirm_blob; /* ... and its blob under key_id (NULL when none) */
    size_t confirm_len;
};
/* Return ATT_OK to continue; anything else stops the load and is returned by store_faces_load. */
typedef att_err (*store_face_cb)(void *arg, const struct face_row *row);

/* Number of faces of non-erased people (to size the gallery before loading). */
att_err store_faces_count(PGconn *c, size_t *n);
/* Stream every face of every non-erased person (one query, single-row mode: memory stays flat at
 * 100k+ rows), ordered by person. count (may be NULL) receives the rows delivered. When the callback
 * stops the load, the query is cancelled and drained (inside a transaction that aborts it). */
att_err store_faces_load(PGconn *c, store_face_cb cb, void *arg, size_t *count);
/* The same for one person's faces (none when the person is erased or unknown). ATT_E_INVALID for a
 * malformed id. */
att_err store_faces_load_person(PGconn *c, const char *person_id, store_face_cb cb, void *arg, size_t *count);

/* ---- key rotation ------------------------------------------------------------------------------ */

struct rekey_stats {
    size_t reencrypted; /* rows moved from an old key to the new one */
    size_t skipped;     /* rows already under the new key */
};

/* Re-encrypt every template under new_key (both blobs of a row: the fr_feature template and the
 * confirming one when present). MUST run inside a transaction the caller opened (and then
 * commits, after its audit row, or rolls back): takes `LOCK faces IN SHARE ROW EXCLUSIVE MODE` (reads
 * go on; inserts, updates and deletes wait), then re-encrypts rows under any of old_keys in batches
 * (SELECT ... FOR UPDATE). Rows already under new_key are skipped, so a rerun is idempotent and a
 * rolled-back run changed nothing. A row under none of the keys, or one that fails to decrypt, is a
 * hard error (ATT_E_CRYPTO) and err names the face id. ATT_E_INVALID without an open transaction. */
att_err store_faces_rekey(PGconn *c, const tcrypt_key *const *old_keys, size_t n_old, const tcrypt_key *new_key,
                          struct rekey_stats *stats, char *err, size_t errlen);

#endif
