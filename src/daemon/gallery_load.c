/* Gallery start-up load: stream templates from PostgreSQL, decrypt, add, wipe the plaintext; a
 * template that does not decrypt is logged and counted, and the others still load. */
#include "attendd/gallery_loader.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/enrol.h"
#include "attendd/log.h"
#include "attendd/store_faces.h"

struct load_ctx {
    gal *g;
    const tcrypt_key *key;
    const tcrypt_key *old_key; /* may be NULL */
    size_t unreadable;         /* templates skipped because they did not decrypt */
    char *err;
    size_t errlen;
    bool replace;            /* drop what g holds of a person before their first row */
    char last[ATT_UUID_STR]; /* the person of the previous row ("" before the first) */
    att_uuid *seen;          /* people loaded, for the resync (NULL: not kept) */
    size_t n_seen, cap_seen;
};

static att_err add_row(void *arg, const struct face_row *row)
{
    struct load_ctx *ctx = arg;
    float vec[512];
    if (ctx->replace && strcmp(ctx->last, row->person_id) != 0) {
        snprintf(ctx->last, sizeof ctx->last, "%s", row->person_id);
        (void)gal_person_remove(ctx->g, row->person_id); /* not held yet: nothing to drop */
        if (ctx->seen) {
            if (ctx->n_seen == ctx->cap_seen) {
                size_t nc = ctx->cap_seen ? ctx->cap_seen * 2 : 256;
                att_uuid *ns = realloc(ctx->seen, nc * sizeof *ns);
                if (!ns) {
                    snprintf(ctx->err, ctx->errlen, "gallery: out of memory");
                    return ATT_E_NOMEM;
                }
                ctx->seen = ns;
                ctx->cap_seen = nc;
            }
            (void)att_uuid_parse(row->person_id, &ctx->seen[ctx->n_seen++]);
        }
    }
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
    /* the confirming template opens under the same key; one that does not is a spoiled row like the first */
    float cvec[TCRYPT_CONFIRM_DIM];
    bool confirm = row->confirm_blob && strcmp(row->confirm_model_id, ENROL_CONFIRM_MODEL_ID) == 0;
    if (row->confirm_blob && !confirm)
        log_warn("gallery",
                 "face %s: confirming template of model %s, not %s: that face is matched by its first template alone",
                 row->face_id, row->confirm_model_id, ENROL_CONFIRM_MODEL_ID);
    if (confirm &&
        tcrypt_confirm_decrypt(k, row->confirm_blob, row->confirm_len, row->person_id, row->face_id,
                               row->confirm_model_id, cvec) != ATT_OK) {
        sodium_memzero(vec, sizeof vec);
        sodium_memzero(cvec, sizeof cvec);
        ctx->unreadable++;
        log_error("gallery",
                  "confirming template of face %s does not decrypt with the key of its row (key id %u): the row was "
                  "altered or moved; that face is not recognised",
                  row->face_id, (unsigned)row->key_id);
        return ATT_OK;
    }
    e = gal_face_add(ctx->g, row->person_id, row->face_id, vec);
    sodium_memzero(vec, sizeof vec);
    if (e == ATT_OK && confirm) e = gal_face_set_confirm(ctx->g, row->face_id, cvec);
    sodium_memzero(cvec, sizeof cvec);
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
    struct load_ctx ctx = {.g = g, .key = key, .old_key = old_key, .err = err, .errlen = errlen};
    size_t rows = 0;
    e = store_faces_load(c, add_row, &ctx, &rows);
    if (e != ATT_OK && err[0] == '\0') snprintf(err, errlen, "loading templates: %s", att_err_code(e));
    *loaded = rows - ctx.unreadable;
    *unreadable = ctx.unreadable;
    return e;
}

att_err gallery_reload_person(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key,
                              const char *person_id, size_t *loaded, char *err, size_t errlen)
{
    *loaded = 0;
    err[0] = '\0';
    struct load_ctx ctx = {.g = g, .key = key, .old_key = old_key, .err = err, .errlen = errlen, .replace = true};
    size_t rows = 0;
    att_err e = store_faces_load_person(c, person_id, add_row, &ctx, &rows);
    if (e == ATT_OK && rows == 0) {
        e = gal_person_remove(g, person_id); /* erased, or no face left */
        if (e == ATT_E_NOT_FOUND) e = ATT_OK;
    }
    if (e != ATT_OK && err[0] == '\0') snprintf(err, errlen, "reloading person %s: %s", person_id, att_err_code(e));
    *loaded = rows - ctx.unreadable;
    return e;
}

static int uuid_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(att_uuid)); }

att_err gallery_resync(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key, size_t *loaded,
                       size_t *dropped, char *err, size_t errlen)
{
    *loaded = *dropped = 0;
    err[0] = '\0';
    struct load_ctx ctx = {.g = g, .key = key, .old_key = old_key, .err = err, .errlen = errlen, .replace = true};
    ctx.seen = malloc(sizeof *ctx.seen); /* non-NULL: the loader records who it loaded */
    if (!ctx.seen) return ATT_E_NOMEM;
    ctx.cap_seen = 1;
    size_t rows = 0;
    att_err e = store_faces_load(c, add_row, &ctx, &rows);
    if (e != ATT_OK && err[0] == '\0') snprintf(err, errlen, "resynchronising the gallery: %s", att_err_code(e));
    if (e == ATT_OK) {
        /* whoever g holds and the database no longer gave a face for was erased or lost their faces */
        size_t n = gal_person_ids(g, NULL, 0);
        att_uuid *held = n ? calloc(n, sizeof *held) : NULL;
        if (n && !held) {
            free(ctx.seen);
            return ATT_E_NOMEM;
        }
        n = n ? gal_person_ids(g, held, n) : 0;
        if (ctx.n_seen) qsort(ctx.seen, ctx.n_seen, sizeof *ctx.seen, uuid_cmp);
        for (size_t i = 0; i < n; i++) {
            if (ctx.n_seen && bsearch(&held[i], ctx.seen, ctx.n_seen, sizeof *ctx.seen, uuid_cmp)) continue;
            char id[ATT_UUID_STR];
            att_uuid_format(&held[i], id);
            if (gal_person_remove(g, id) == ATT_OK) (*dropped)++;
        }
        free(held);
    }
    free(ctx.seen);
    *loaded = rows - ctx.unreadable;
    return e;
}
