/* Conditional GET for polled lists (ETag / If-None-Match → 304 without touching the database), keyed
 * on the in-memory data version, a per-boot epoch, and the normalised request. */
#include "http_internal.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/time.h"

#define QUERY_MAX_ARGS 32 /* more arguments than any route accepts: hashed as "too many" */

struct qargs {
    const char *kv[QUERY_MAX_ARGS][2];
    size_t n;
    bool overflow;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct qargs *q = cls;
    if (q->n == QUERY_MAX_ARGS) {
        q->overflow = true;
        return MHD_NO;
    }
    q->kv[q->n][0] = key;
    q->kv[q->n][1] = value ? value : "";
    q->n++;
    return MHD_YES;
}

static int cmp_kv(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    int c = strcmp(x[0], y[0]);
    return c ? c : strcmp(x[1], y[1]);
}

/* Length-prefixed, so "a=b&c" and "a=b&c=" never hash alike. */
static void hash_str(crypto_generichash_state *st, const char *s)
{
    uint64_t n = strlen(s);
    crypto_generichash_update(st, (const unsigned char *)&n, sizeof n);
    crypto_generichash_update(st, (const unsigned char *)s, n);
}

/* Does the If-None-Match list name etag? "*" matches; weak (W/) tags compare weakly (RFC 9110 13.1.2). */
static bool none_match_hits(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p == '\0') break;
        if (*p == '*') return true;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        const char *end = p;
        if (*p == '"') {
            end = strchr(p + 1, '"');
            if (end == NULL) return false;
            end++;
        } else {
            while (*end && *end != ',') end++;
        }
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0) return true;
        p = end;
    }
    return false;
}

att_err http_etag_check(struct http_request *req, const char *variant, struct http_response *resp, bool *not_modified)
{
    *not_modified = false;
    /* version first: a change committed while the answer is built gives the next poll a 200 */
    uint64_t version = app_data_version();
    struct qargs q = {.n = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
    qsort(q.kv, q.n, sizeof q.kv[0], cmp_kv);

    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    hash_str(&st, req->path);
    for (size_t i = 0; i < q.n; i++) {
        hash_str(&st, q.kv[i][0]);
        hash_str(&st, q.kv[i][1]);
    }
    hash_str(&st, q.overflow ? "overflow" : "");
    hash_str(&st, req->token && req->token->pseudonymous ? "pseudonymous" : "identified");
    /* need to know: a principal limited to departments gets its own answer (and cached page) */
    for (size_t i = 0; http_scoped(req) && i < req->token->n_departments; i++)
        hash_str(&st, req->token->departments[i]);
    hash_str(&st, http_scoped(req) ? "limited" : "every department");
    /* JSON and CSV of the same query are different representations (Accept may pick one) */
    hash_str(&st, variant ? variant : "");
    crypto_generichash_final(&st, h, sizeof h);

    char etag[80];
    snprintf(etag, sizeof etag, "\"%016" PRIx64 "-%" PRIu64 "-%02x%02x%02x%02x%02x%02x%02x%02x\"", app_data_epoch(),
             version, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    char lm[64];
    (void)att_time_format((int64_t)app_data_last_modified() * 1000000, 0, ATT_TIME_HTTP, lm, sizeof lm);
    att_err e = http_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (e == ATT_OK) e = http_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
    if (e == ATT_OK && variant) e = http_header(resp, MHD_HTTP_HEADER_VARY, "Accept"); /* Accept may pick it */
    if (e != ATT_OK) return http_problem(resp, e, NULL, NULL);

    const char *inm = http_req_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm != NULL && none_match_hits(inm, etag)) {
        *not_modified = true;
        return http_status(resp, MHD_HTTP_NOT_MODIFIED);
    }
    return ATT_OK;
}
