/* A small in-memory cache of rendered answers to polled GETs (events pages), keyed by their ETag, which
 * already names the data version, the query, the pseudonymity and the representation. Not installed. */
#ifndef ATTENDD_HTTP_RCACHE_H
#define ATTENDD_HTTP_RCACHE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#define RCACHE_SLOTS 32              /* answers kept; a dashboard polls a handful of queries */
#define RCACHE_MAX_BODY (512 * 1024) /* bigger answers are not kept (a 500-event page is ~170 KB) */
#define RCACHE_TOKENS 8              /* tokens remembered per answer as audited already */

/* What a hit gives: an MHD response over the cached bytes (no copy; the cache's reference is held
 * until libmicrohttpd destroys it), the item count stored with it, and whether token_id already has an
 * audit row for exactly this answer. */
struct rcache_hit {
    struct MHD_Response *response;
    long long count;
    bool audited;
};

/* ATT_OK with *hit filled, ATT_E_NOT_FOUND when etag is not cached, ATT_E_NOMEM. */
att_err http_rcache_get(const char *etag, const char *token_id, struct rcache_hit *hit);

/* Keep a copy of body (len bytes) under etag, with its item count, token_id audited for it. version:
 * the data version read before the answer's query; an answer older than the current version is not
 * kept (a change committed while it was read, an erasure say, must not linger in it). Entries from
 * older data versions are wiped first; when no slot is free the least recently used goes. A body over
 * RCACHE_MAX_BODY is not kept (ATT_OK). ATT_E_NOMEM. */
att_err http_rcache_put(const char *etag, uint64_t version, const char *body, size_t len, long long count,
                        const char *token_id);

/* Wipe every answer rendered under an older data version than the current one: after an erasure
 * (which bumps the version) no cached page names the person. */
void http_rcache_drop_stale(void);

/* Whether any cached answer holds the len bytes at needle (a name, an id): what erasure must leave
 * nowhere. */
bool http_rcache_holds(const void *needle, size_t len);

/* Remember that token_id's read of etag is audited (after a hit with audited false). */
void http_rcache_audited(const char *etag, const char *token_id);

#endif
