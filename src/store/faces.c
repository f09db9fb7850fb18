/* Encrypted face templates (faces): insert, metadata listing, delete, the gallery's start-up stream
 * (single-row mode) and key rotation's re-encryption. Blobs pass through; plaintext never does. */
#include "attendd/store_faces.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/uuid.h"
#include "src/store/statements.h"

#define REKEY_BATCH 500 /* rows fetched per round: memory ~ 500 x 4 KB however large the table */

static bool model_ok(const char *m)
{
    if (!m) return false;
    size_t n = strnlen(m, FACE_MODEL_ID_MAX);
    if (n == 0 || n >= FACE_MODEL_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] < 0x21 || (unsigned char)m[i] > 0x7e) return false; /* printable ASCII */
    return true;
}

/* Why face_insert inserted nothing for person_id: no such person, or no consent, or opted out. */
static att_err insert_refusal(PGconn *c, const char *person_id)
{
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "face_insert_refusal", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) != 1) rc = ATT_E_NOT_FOUND;
    else if (strcmp(PQgetvalue(r, 0, 0), "given") != 0) rc = ATT_E_CONSENT_REQUIRED;
    else if (PQgetvalue(r, 0, 1)[0] != 't') rc = ATT_E_BIOMETRIC_OFF;
    else rc = ATT_E_NOT_FOUND; /* changed again meanwhile: refuse rather than guess */
    PQclear(r);
    return rc;
}

att_err store_face_insert(PGconn *c, const char *person_id, const char *face_id, const char *model_id, uint32_t key_id,
                          const unsigned char *blob, size_t len, const char *quality_json)
{
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    uint32_t blob_key;
    if (!att_uuid_valid(face_id) || !model_ok(model_id) || !blob || len > INT32_MAX ||
        tcrypt_blob_key_id(blob, len, &blob_key) != ATT_OK || blob_key != key_id)
        return ATT_E_INVALID;
    char kid[16];
    snprintf(kid, sizeof kid, "%" PRIu32, key_id);
    const char *values[6] = {person_id, face_id, model_id, kid, (const char *)blob, quality_json};
    const int lengths[6] = {0, 0, 0, 0, (int)len, 0};
    const int formats[6] = {0, 0, 0, 0, 1, 0};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "face_insert", 6, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc; /* duplicate face id -> CONFLICT; bad quality JSON -> INVALID */
    bool inserted = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return inserted ? ATT_OK : insert_refusal(c, person_id);
}

att_err store_face_set_confirm(PGconn *c, const char *person_id, const char *face_id, const char *model_id,
                               uint32_t key_id, const unsigned char *blob, size_t len)
{
    if (!att_uuid_valid(person_id) || !att_uuid_valid(face_id)) return ATT_E_NOT_FOUND;
    uint32_t blob_key;
    if (!model_ok(model_id) || !blob || len != TCRYPT_CONFIRM_BLOB_BYTES ||
        tcrypt_blob_key_id(blob, len, &blob_key) != ATT_OK || blob_key != key_id)
        return ATT_E_INVALID;
    char kid[16];
    snprintf(kid, sizeof kid, "%" PRIu32, key_id);
    const char *values[5] = {person_id, face_id, model_id, (const char *)blob, kid};
    const int lengths[5] = {0, 0, 0, (int)len, 0};
    const int formats[5] = {0, 0, 0, 1, 0};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "face_set_confirm", 5, values, lengths, formats, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (strcmp(PQcmdTuples(r), "1") != 0) rc = ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_face_list(PGconn *c, const char *person_id, struct face_meta **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!att_uuid_valid(person_id)) return ATT_E_NOT_FOUND;
    const char *values[1] = {person_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "face_list", 1, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    int rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return ATT_E_NOT_FOUND;
    }
    if (rows == 1 && PQgetisnull(r, 0, 0)) rows = 0; /* the person, without faces */
    /* one block: the array, then every quality text */
    size_t bytes = (size_t)rows * sizeof(struct face_meta);
    for (int i = 0; i < rows; i++) bytes += (size_t)PQgetlength(r, i, 3) + 1;
    struct face_meta *v = calloc(1, bytes ? bytes : 1);
    if (!v) {
        PQclear(r);
        return ATT_E_NOMEM;
    }
    char *strings = (char *)(v + rows);
    for (int i = 0; i < rows; i++) {
        const char *id = PQgetvalue(r, i, 0), *model = PQgetvalue(r, i, 1), *ts = PQgetvalue(r, i, 2);
        if (strlen(id) >= sizeof v[i].id || strlen(model) >= sizeof v[i].model_id ||
            strlen(ts) >= sizeof v[i].created_at) {
            rc = ATT_E_INTERNAL;
            break;
        }
        strcpy(v[i].id, id);
        strcpy(v[i].model_id, model);
        strcpy(v[i].created_at, ts);
        size_t ql = (size_t)PQgetlength(r, i, 3);
        memcpy(strings, PQgetvalue(r, i, 3), ql + 1);
        v[i].quality_json = strings;
        strings += ql + 1;
    }
    PQclear(r);
    if (rc != ATT_OK) {
        log_error("db", "faces row does not fit struct face_meta");
        free(v);
        return rc;
    }
    *out = v;
    *n = (size_t)rows;
    return ATT_OK;
}

att_err store_face_delete(PGconn *c, const char *person_id, const char *face_id)
{
    if (!att_uuid_valid(person_id) || !att_uuid_valid(face_id)) return ATT_E_NOT_FOUND;
    const char *values[2] = {person_id, face_id};
    PGresult *r;
    att_err rc = db_exec_prepared(c, "face_delete", 2, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (strcmp(PQcmdTuples(r), "1") != 0) rc = ATT_E_NOT_FOUND;
    PQclear(r);
    return rc;
}

att_err store_faces_count(PGconn *c, size_t *n)
{
    int64_t count;
    att_err rc = db_query_int64(c, "faces_count", &count);
    *n = (size_t)count;
    return rc;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

/* Map a failed result of the streamed query the way db_exec_prepared would. */
static att_err stream_failure(PGconn *c, const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    log_error("db", "statement faces_load failed (SQLSTATE %s): %s", st ? st : "-", msg ? msg : PQerrorMessage(c));
    if (PQstatus(c) != CONNECTION_OK) return ATT_E_DB;
    if (st && strcmp(st, "26000") == 0) return ATT_E_SCHEMA;
    return ATT_E_DB_QUERY;
}

static att_err load_rows(PGconn *c, const char *stmt, int nparams, const char *const *values, store_face_cb cb,
                         void *arg, size_t *count);

att_err store_faces_load(PGconn *c, store_face_cb cb, void *arg, size_t *count)
{
    return load_rows(c, "faces_load", 0, NULL, cb, arg, count);
}

att_err store_faces_load_person(PGconn *c, const char *person_id, store_face_cb cb, void *arg, size_t *count)
{
    if (count) *count = 0;
    if (!att_uuid_valid(person_id)) return ATT_E_INVALID;
    const char *v[1] = {person_id};
    return load_rows(c, "faces_load_person", 1, v, cb, arg, count);
}

static att_err load_rows(PGconn *c, const char *stmt, int nparams, const char *const *values, store_face_cb cb,
                         void *arg, size_t *count)
{
    if (count) *count = 0;
    if (!c) return ATT_E_DB;
    if (!cb || !db_statement_find(stmt)) return ATT_E_INTERNAL;
    /* binary results so templates arrive as raw bytes; text columns are their bytes, NUL-terminated */
    if (!PQsendQueryPrepared(c, stmt, nparams, values, NULL, NULL, 1)) {
        log_error("db", "statement %s: %s", stmt, PQerrorMessage(c));
        return PQstatus(c) == CONNECTION_OK ? ATT_E_DB_QUERY : ATT_E_DB;
    }
    if (!PQsetSingleRowMode(c)) log_warn("db", "%s: single-row mode refused; buffering the result", stmt);

    att_err rc = ATT_OK;
    size_t delivered = 0;
    bool stop = false; /* the callback or a bad row said stop: drain without calling back */
    PGresult *r;
    while ((r = PQgetResult(c))) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE || s == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(r) && !stop; i++) {
                struct face_row row = {
                    .person_id = PQgetvalue(r, i, 0),
                    .active = strcmp(PQgetvalue(r, i, 1), "true") == 0,
                    .employee_no = PQgetvalue(r, i, 2),
                    .name = PQgetvalue(r, i, 3),
                    .face_id = PQgetvalue(r, i, 4),
                    .model_id = PQgetvalue(r, i, 5),
                    .blob = (const unsigned char *)PQgetvalue(r, i, 7),
                    .len = (size_t)PQgetlength(r, i, 7),
                };
                bool shape = PQnfields(r) == 10 && PQgetisnull(r, i, 8) == PQgetisnull(r, i, 9);
                if (shape && !PQgetisnull(r, i, 9)) {
                    row.confirm_model_id = PQgetvalue(r, i, 8);
                    row.confirm_blob = (const unsigned char *)PQgetvalue(r, i, 9);
                    row.confirm_len = (size_t)PQgetlength(r, i, 9);
                }
                if (!shape || !parse_u32(PQgetvalue(r, i, 6), &row.key_id)) {
                    log_error("db", "%s: unexpected row shape", stmt);
                    rc = ATT_E_INTERNAL;
                    stop = true;
                    break;
                }
                att_err cbrc = cb(arg, &row);
                if (cbrc != ATT_OK) {
                    rc = cbrc;
                    stop = true;
                } else {
                    delivered++;
                }
            }
            if (stop && s == PGRES_SINGLE_TUPLE) {
                /* ask the server to stop sending; the rest is drained below */
                PGcancel *cn = PQgetCancel(c);
                char buf[256];
                if (cn) {
                    (void)PQcancel(cn, buf, sizeof buf);
                    PQfreeCancel(cn);
                }
            }
        } else if (!stop && rc == ATT_OK) {
            rc = stream_failure(c, r);
        }
        PQclear(r);
    }
    if (rc == ATT_OK && PQstatus(c) != CONNECTION_OK) rc = ATT_E_DB;
    if (count) *count = delivered;
    return rc;
}

/* ---- key rotation ------------------------------------------------------------------------------ */

static const tcrypt_key *find_key(const tcrypt_key *const *keys, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i] && tcrypt_key_id(keys[i]) == id) return keys[i];
    return NULL;
}

/* Re-encrypt one row of a faces_rekey_batch result (binary format); err names the face on failure. */
static att_err rekey_row(PGconn *c, const PGresult *r, int i, const tcrypt_key *const *old_keys, size_t n_old,
                         const tcrypt_key *new_key, char *err, size_t errlen)
{
    const char *face = PQgetvalue(r, i, 0), *person = PQgetvalue(r, i, 1), *model = PQgetvalue(r, i, 2);
    const unsigned char *blob = (const unsigned char *)PQgetvalue(r, i, 4);
    size_t len = (size_t)PQgetlength(r, i, 4);
    uint32_t col_id, blob_id;
    if (!parse_u32(PQgetvalue(r, i, 3), &col_id) || tcrypt_blob_key_id(blob, len, &blob_id) != ATT_OK) {
        snprintf(err, errlen, "face %s: template is not a version-%d encrypted blob", face, TCRYPT_VERSION);
        return ATT_E_CRYPTO;
    }
    if (col_id != blob_id) {
        snprintf(err, errlen, "face %s: key_id column (%" PRIu32 ") disagrees with its blob (%" PRIu32 ")", face,
                 col_id, blob_id);
        return ATT_E_CRYPTO;
    }
    const tcrypt_key *old = find_key(old_keys, n_old, blob_id);
    if (!old) {
        snprintf(err, errlen,
                 "face %s is encrypted under key id %" PRIu32 ", which is neither the new key (%" PRIu32
                 ") nor an old key given",
                 face, blob_id, tcrypt_key_id(new_key));
        return ATT_E_CRYPTO;
    }
    unsigned char out[TCRYPT_BLOB_BYTES];
    att_err rc = tcrypt_reencrypt(old, new_key, blob, len, person, face, model, out);
    if (rc != ATT_OK) {
        snprintf(err, errlen, "face %s: template fails to decrypt under key id %" PRIu32 " (%s)", face, blob_id,
                 att_err_title(rc));
        return ATT_E_CRYPTO;
    }
    /* the confirming template, when the face has one, moves to the new key with the first */
    unsigned char cout[TCRYPT_CONFIRM_BLOB_BYTES];
    bool has_confirm = !PQgetisnull(r, i, 6);
    if (has_confirm) {
        const unsigned char *cblob = (const unsigned char *)PQgetvalue(r, i, 6);
        size_t clen = (size_t)PQgetlength(r, i, 6);
        uint32_t cid;
        rc = PQgetisnull(r, i, 5) || tcrypt_blob_key_id(cblob, clen, &cid) != ATT_OK || cid != blob_id
            ? ATT_E_CRYPTO
            : tcrypt_confirm_reencrypt(old, new_key, cblob, clen, person, face, PQgetvalue(r, i, 5), cout);
        if (rc != ATT_OK) {
            snprintf(err, errlen, "face %s: confirming template fails to decrypt under key id %" PRIu32 " (%s)", face,
                     blob_id, att_err_title(rc));
            return ATT_E_CRYPTO;
        }
    }
    char kid[16];
    snprintf(kid, sizeof kid, "%" PRIu32, tcrypt_key_id(new_key));
    const char *values[4] = {face, (const char *)out, kid, has_confirm ? (const char *)cout : NULL};
    const int lengths[4] = {0, (int)sizeof out, 0, has_confirm ? (int)sizeof cout : 0};
    const int formats[4] = {0, 1, 0, 1};
    PGresult *u;
    rc = db_exec_prepared(c, "faces_rekey_update", 4, values, lengths, formats, &u, NULL);
    if (rc == ATT_OK) {
        if (strcmp(PQcmdTuples(u), "1") != 0) rc = ATT_E_INTERNAL;
        PQclear(u);
    }
    if (rc != ATT_OK)
        snprintf(err, errlen, "face %s: storing the re-encrypted template failed: %s", face, att_err_title(rc));
    return rc;
}

/* All rows of faces (under the rotation's table lock, so the number holds until commit). */
static att_err faces_total(PGconn *c, size_t *out)
{
    PGresult *r;
    att_err rc = db_exec_prepared(c, "faces_total", 0, NULL, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    *out = PQntuples(r) == 1 ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return ATT_OK;
}

att_err store_faces_rekey(PGconn *c, const tcrypt_key *const *old_keys, size_t n_old, const tcrypt_key *new_key,
                          struct rekey_stats *stats, char *err, size_t errlen)
{
    struct rekey_stats st = {0, 0};
    if (stats) *stats = st;
    if (errlen) err[0] = '\0';
    if (!c) return ATT_E_DB;
    if (!new_key || (n_old && !old_keys)) {
        snprintf(err, errlen, "no new key");
        return ATT_E_INVALID;
    }
    if (PQtransactionStatus(c) != PQTRANS_INTRANS) {
        snprintf(err, errlen, "key rotation must run inside an open transaction");
        return ATT_E_INVALID;
    }
    /* reads (the daemon loading its gallery) go on; enrolments and deletions wait for the commit */
    att_err rc = db_exec_simple(c, "SET LOCAL lock_timeout = '30s'");
    if (rc == ATT_OK) rc = db_exec_simple(c, "LOCK TABLE faces IN SHARE ROW EXCLUSIVE MODE");
    if (rc != ATT_OK) {
        snprintf(err, errlen, "cannot lock the faces table (busy for more than 30 s?)");
        return rc;
    }
    char kid[16], lim[16];
    snprintf(kid, sizeof kid, "%" PRIu32, tcrypt_key_id(new_key));
    snprintf(lim, sizeof lim, "%d", REKEY_BATCH);
    const char *values[2] = {kid, lim};
    /* every round re-keys what it fetched, so the next round fetches the next rows */
    for (;;) {
        PGresult *r;
        rc = db_exec_prepared_fmt(c, "faces_rekey_batch", 2, values, NULL, NULL, 1, &r, NULL);
        if (rc != ATT_OK) {
            snprintf(err, errlen, "reading templates failed: %s", att_err_title(rc));
            return rc;
        }
        int rows = PQntuples(r);
        for (int i = 0; i < rows && rc == ATT_OK; i++) {
            rc = rekey_row(c, r, i, old_keys, n_old, new_key, err, errlen);
            if (rc == ATT_OK) st.reencrypted++;
        }
        PQclear(r);
        if (rc != ATT_OK) return rc;
        if (rows < REKEY_BATCH) break;
    }
    size_t total = 0;
    rc = faces_total(c, &total);
    if (rc != ATT_OK) {
        snprintf(err, errlen, "counting templates failed: %s", att_err_title(rc));
        return rc;
    }
    st.skipped = total >= st.reencrypted ? total - st.reencrypted : 0;
    if (stats) *stats = st;
    return ATT_OK;
}
