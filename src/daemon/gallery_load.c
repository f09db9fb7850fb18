/* Gallery start-up load: stream templates from PostgreSQL, decrypt, add, wipe the plaintext; a
 * template that does not decrypt is logged and counted, and the others still load. */
#include "attendd/gallery_loader.h"

#include <sodium.h>
#include <stdio.h>

#include "attendd/log.h"
#include "attendd/store_faces.h"

struct load_ctx {
    gal *g;
    const tcrypt_key *key;
    const tcrypt_key *old_key; /* may be NULL */
    size_t unreadable;         /* templates skipped because they did not decrypt */
    char *err;
    size_t errlen;
};

static att_err add_row(void *arg, const struct face_row *row)
{
    struct load_ctx *ctx = arg;
    float vec[512];
    att_err e = gal_person_put(ctx->g, row->person_id, row->active, NULL);
    if (e != ATT_OK) {
        snprintf(ctx->err, ctx->errlen, "gallery: person %s: %s", row->person_id, att_err_code(e));
        return e;
    }
    const tcrypt_key *k = ctx->key;
    if (ctx->old_key && row->key_id == tcrypt_key_id(ctx->old_key) && row->key_id != tcrypt_key_id(ctx->key))
        k = ctx->old_key;
    e = tcrypt_decrypt(k, row->blob, row->len, row->person_id, row->face_id, row->model_id, vec);
    if (e != ATT_OK) {
        /* one row anyone with write access to the table can spoil must not blind every camera:
         * skip it, say which one in the operator's log, and let the count reach metrics and readyz */
        sodium_memzero(vec, sizeof vec);
        ctx->unreadable++;
        log_error("gallery",
                  "template of face %s does not decrypt with the configured template key (key id %u in the row, "
                  "%u configured): wrong key file, or the row was altered or moved; that face is not recognised",
                  row->face_id, (unsigned)row->key_id, (unsigned)tcrypt_key_id(ctx->key));
        return ATT_OK;
    }
    e = gal_face_add(ctx->g, row->person_id, row->face_id, vec);
    sodium_memzero(vec, sizeof vec);
    if (e != ATT_OK) snprintf(ctx->err, ctx->errlen, "gallery: face %s: %s", row->face_id, att_err_code(e));
    return e;
}

att_err gallery_load(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key, size_t *loaded,
                     size_t *unreadable, char *err, size_t errlen)
{
    *unreadable = 0;
    size_t n = 0;
    att_err e = store_faces_count(c, &n);
    if (e != ATT_OK) {
        snprintf(err, errlen, "counting templates: %s", att_err_code(e));
        return e;
    }
    if (n && (e = gal_reserve(g, n)) != ATT_OK) {
        snprintf(err, errlen, "reserving gallery memory for %zu templates: %s", n, att_err_code(e));
        return e;
    }
    err[0] = '\0';
    struct load_ctx ctx = {g, key, old_key, 0, err, errlen};
    size_t rows = 0;
    e = store_faces_load(c, add_row, &ctx, &rows);
    if (e != ATT_OK && err[0] == '\0') snprintf(err, errlen, "loading templates: %s", att_err_code(e));
    *loaded = rows - ctx.unreadable;
    *unreadable = ctx.unreadable;
    return e;
}
