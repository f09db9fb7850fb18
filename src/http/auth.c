/* Bearer-token authentication: lock-out check, syntax check, keyed hash, lookup (cached for a few
 * seconds so polling dashboards do not cost a database round trip per request), role check (admin ⊇ hr). */
#include "http_internal.h"

#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "attendd/log.h"
#include "attendd/time.h"
#include "attendd/uuid.h"

/* Cache of hash → token info. Only successful lookups are cached (an attacker's guesses must not
 * evict real entries); entries live HTTP_AUTH_CACHE_TTL_S seconds, so a token revoked by another
 * process (attendctl) stops working within that time; one revoked through this API is dropped at
 * once (http_auth_forget). 64 entries: far more live tokens than a site has dashboards.
 * A lookup that started before a revocation must not put its (now stale) answer in the cache after
 * it: every revocation bumps a generation, and an answer is cached only if the generation it was
 * read under is still the current one. */
#define CACHE_SLOTS 64

struct cache_entry {
    unsigned char hash[TOKEN_HASH_BYTES]; /* keyed hash of the token (never the token itself) */
    struct token_info info;               /* as read from the database */
    att_uuid id;                          /* info.id parsed: revocation compares values, not text */
    double expires;                       /* monotonic seconds; 0 = free slot */
};

static struct cache_entry cache[CACHE_SLOTS];
static uint64_t revocations; /* generation: revocations seen by this process; guarded by cache_lock */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t http_auth_generation(void)
{
    pthread_mutex_lock(&cache_lock);
    uint64_t g = revocations;
    pthread_mutex_unlock(&cache_lock);
    return g;
}

bool http_auth_cache_get(const unsigned char hash[TOKEN_HASH_BYTES], struct token_info *out)
{
    double now = att_time_mono_s();
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].expires <= now) continue;
        if (sodium_memcmp(cache[i].hash, hash, TOKEN_HASH_BYTES) == 0) {
            *out = cache[i].info;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

bool http_auth_cache_put(const unsigned char hash[TOKEN_HASH_BYTES], const struct token_info *info, uint64_t generation)
{
    att_uuid id;
    if (!att_uuid_parse(info->id, &id)) return false; /* the store hands out uuids only */
    double now = att_time_mono_s();
    pthread_mutex_lock(&cache_lock);
    if (generation != revocations) { /* a revocation ran since this answer was read: it may be stale */
        pthread_mutex_unlock(&cache_lock);
        return false;
    }
    size_t victim = 0; /* a free/expired slot, else the one expiring first */
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].expires <= now || sodium_memcmp(cache[i].hash, hash, TOKEN_HASH_BYTES) == 0) {
            victim = i;
            break;
        }
        if (cache[i].expires < cache[victim].expires) victim = i;
    }
    memcpy(cache[victim].hash, hash, TOKEN_HASH_BYTES);
    cache[victim].info = *info;
    cache[victim].id = id;
    cache[victim].expires = now + HTTP_AUTH_CACHE_TTL_S;
    pthread_mutex_unlock(&cache_lock);
    return true;
}

void http_auth_forget(const att_uuid *token_id)
{
    pthread_mutex_lock(&cache_lock);
    revocations++;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].expires > 0 && att_uuid_eq(&cache[i].id, token_id)) cache[i].expires = 0;
    pthread_mutex_unlock(&cache_lock);
}

void http_auth_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    sodium_memzero(cache, sizeof cache);
    pthread_mutex_unlock(&cache_lock);
}

static const struct sockaddr *client_sockaddr(struct http_request *req)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci != NULL ? ci->client_addr : NULL;
}

/* The audit detail of a lock-out: the limit and the window it applies (NULL when out of memory: the
 * row is still written, without its detail). */
static char *lockout_detail(const struct att_config *cfg)
{
    return http_json_text(
        json_pack("{s:i, s:i}", "failures", cfg->auth_fail_limit, "window_s", cfg->auth_fail_window_s));
}

/* A failed authentication with credentials presented counts against the client address; the one
 * that starts a lock-out is logged and audited (one row per lock-out, so a guesser cannot turn its
 * guesses into database writes). A request without credentials is not a guess and is not counted. */
static void count_failure(struct http_request *req, const char *addr, const unsigned char *token_hash)
{
    http_rl *rl = http_rl_global();
    if (rl == NULL) return;
    const struct att_config *cfg = req->deps->cfg;
    double now = att_time_mono_s();
    if (token_hash != NULL && http_rl_token_fail(rl, token_hash, now)) {
        log_notice("http", "a presented token is locked out for %d s after %d failed authentications",
                   cfg->auth_fail_window_s, cfg->auth_fail_limit);
        char *detail = lockout_detail(cfg);
        (void)http_audit(req, "auth.lockout", "token", NULL, att_err_code(ATT_E_AUTH_LOCKED), detail);
        free(detail);
    }
    if (!http_rl_fail(rl, client_sockaddr(req), now)) return;
    log_notice("http", "%s locked out for %d s after %d failed authentications", addr, cfg->auth_fail_window_s,
               cfg->auth_fail_limit);
    char *detail = lockout_detail(cfg);
    (void)http_audit(req, "auth.lockout", "address", addr, att_err_code(ATT_E_AUTH_LOCKED),
                     detail); /* a failed insert is logged; the 401 stands */
    free(detail);
}

/* token_hash: the presented token's keyed hash when it was well formed (counted per token too), else NULL */
static att_err unauthorized(struct http_request *req, struct http_response *resp, bool invalid_token, bool presented,
                            const unsigned char *token_hash, const char *why)
{
    char addr[64];
    http_client_addr(req->conn, addr, sizeof addr);
    /* never the token itself: the reason says what was wrong with it */
    log_notice("http", "401 %s %s from %s: %s", req->method, req->path, addr, why);
    if (presented) count_failure(req, addr, token_hash);
    /* RFC 6750 §3: the challenge names the scheme; error="invalid_token" when one was presented */
    http_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                invalid_token ? "Bearer realm=\"attendd\", error=\"invalid_token\"" : "Bearer realm=\"attendd\"");
    return http_problem(resp, ATT_E_UNAUTHORIZED, NULL, "%s", why);
}

att_err http_auth(struct http_request *req, struct http_response *resp, enum att_role min_role, struct token_info *out)
{
    /* An address locked out after too many failures is refused before its credentials are looked
     * at (cheap, and the same answer for a right and a wrong token: no oracle while locked). */
    http_rl *rl = http_rl_global();
    int retry_after;
    if (rl != NULL && http_rl_locked(rl, client_sockaddr(req), att_time_mono_s(), &retry_after)) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        return http_problem(resp, ATT_E_AUTH_LOCKED, NULL,
                            "too many failed authentications from this address; retry in %d s", retry_after);
    }
    const char *h = http_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    /* a browser of the console: its session cookie instead of a bearer token (session.c) */
    if (h == NULL && http_req_header(req, "Cookie") != NULL) {
        char probe[TOKEN_STR_MAX];
        bool has = http_session_cookie(req, probe, sizeof probe);
        sodium_memzero(probe, sizeof probe);
        if (has) return http_session_auth(req, resp, min_role, out);
    }
    if (h == NULL) return unauthorized(req, resp, false, false, NULL, "an Authorization: Bearer token is required");
    while (*h == ' ') h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return unauthorized(req, resp, false, true, NULL, "the Authorization scheme must be Bearer");
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    size_t len = strlen(tok);
    while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) len--;
    if (len == 0 || len >= TOKEN_STR_MAX || !token_well_formed(tok, len))
        return unauthorized(req, resp, true, true, NULL, "the bearer token is malformed");

    unsigned char hash[TOKEN_HASH_BYTES];
    token_hash(req->deps->token_key, tok, len, hash);
    /* a token that failed too often (from any addresses) is refused before the database is asked */
    if (rl != NULL && http_rl_token_locked(rl, hash, att_time_mono_s(), &retry_after)) {
        sodium_memzero(hash, sizeof hash);
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        return http_problem(resp, ATT_E_AUTH_LOCKED, NULL,
                            "too many failed authentications with this token; retry in %d s", retry_after);
    }

    struct token_info info;
    if (!http_auth_cache_get(hash, &info)) {
        uint64_t generation = http_auth_generation(); /* read before the database answers */
        PGconn *c;
        att_err e = http_req_db(req, resp, &c);
        if (e != ATT_OK) return e;
        e = store_token_lookup(c, hash, &info);
        if (e == ATT_E_NOT_FOUND) return unauthorized(req, resp, true, true, hash, "unknown or revoked token");
        if (e != ATT_OK) return http_problem(resp, e, NULL, "the token could not be checked");
        if (info.revoked) return unauthorized(req, resp, true, true, hash, "unknown or revoked token");
        /* last_used_at is refreshed only on cache misses, i.e. at most every TTL seconds per token;
         * the store limits it further. A failed touch must not refuse a valid token. */
        att_err te = store_token_touch(c, info.id);
        if (te != ATT_OK) log_warn("http", "token %s: last_used_at not updated: %s", info.id, att_err_code(te));
        (void)http_auth_cache_put(hash, &info, generation); /* not cached: the next request asks again */
    }
    sodium_memzero(hash, sizeof hash);

    if (info.role < min_role) {
        log_notice("http", "403 %s %s: token %s has role %s, needs %s", req->method, req->path, info.id,
                   role_name(info.role), role_name(min_role));
        *out = info;
        return http_problem(resp, ATT_E_FORBIDDEN, NULL, "this route needs the %s role; the token has %s",
                            role_name(min_role), role_name(info.role));
    }
    *out = info;
    return ATT_OK;
}
