/* Rendered-answer cache (src/http/rcache.h): fixed slots under one mutex; bodies are immutable and
 * reference-counted, so a hit hands libmicrohttpd the cached bytes without copying them. */
#include "rcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/store_tokens.h"

struct body {
    atomic_uint refs;
    size_t len;
    char data[];
};

struct slot {
    char etag[96];    /* "" = free */
    uint64_t version; /* data version when stored */
    uint64_t used;    /* tick of the last hit, for LRU */
    struct body *body;
    long long count;
    char audited[RCACHE_TOKENS][ATT_UUID_STR];
};

static struct slot slots[RCACHE_SLOTS];
static uint64_t tick;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Answers may hold names: wiped before the memory is returned. */
static void body_unref(void *cls)
{
    struct body *b = cls;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        sodium_memzero(b->data, b->len);
        free(b);
    }
}

static struct slot *find(const char *etag)
{
    for (size_t i = 0; i < RCACHE_SLOTS; i++)
        if (slots[i].etag[0] && strcmp(slots[i].etag, etag) == 0) return &slots[i];
    return NULL;
}

static bool has_token(const struct slot *s, const char *token_id)
{
    for (size_t i = 0; i < RCACHE_TOKENS; i++)
        if (strcmp(s->audited[i], token_id) == 0) return true;
    return false;
}

/* Add token_id to s's audited set; when full, later tokens are simply audited every time. */
static void add_token(struct slot *s, const char *token_id)
{
    if (!token_id[0] || strlen(token_id) >= ATT_UUID_STR || has_token(s, token_id)) return;
    for (size_t i = 0; i < RCACHE_TOKENS; i++)
        if (!s->audited[i][0]) {
            memcpy(s->audited[i], token_id, strlen(token_id) + 1);
            return;
        }
}

static void slot_clear(struct slot *s)
{
    body_unref(s->body);
    memset(s, 0, sizeof *s);
}

att_err http_rcache_get(const char *etag, const char *token_id, struct rcache_hit *hit)
{
    *hit = (struct rcache_hit){0};
    pthread_mutex_lock(&lock);
    struct slot *s = find(etag);
    struct body *b = NULL;
    if (s) {
        b = s->body;
        atomic_fetch_add(&b->refs, 1);
        s->used = ++tick;
        hit->count = s->count;
        hit->audited = has_token(s, token_id);
    }
    pthread_mutex_unlock(&lock);
    if (!b) return ATT_E_NOT_FOUND;
    hit->response = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, body_unref, b);
    if (!hit->response) {
        body_unref(b);
        return ATT_E_NOMEM;
    }
    return ATT_OK;
}

att_err http_rcache_put(const char *etag, uint64_t version, const char *body, size_t len, long long count,
                        const char *token_id)
{
    if (len > RCACHE_MAX_BODY || strlen(etag) >= sizeof slots[0].etag || version < app_data_version()) return ATT_OK;
    struct body *b = malloc(sizeof *b + len);
    if (!b) return ATT_E_NOMEM;
    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->data, body, len);
    pthread_mutex_lock(&lock);
    uint64_t now = app_data_version(); /* read under the lock: drop_stale cannot pass between */
    if (version < now) {               /* changed while it was copied */
        pthread_mutex_unlock(&lock);
        body_unref(b);
        return ATT_OK;
    }
    struct slot *s = find(etag), *victim = NULL;
    if (s) { /* two misses raced: keep the first, remember the token */
        add_token(s, token_id);
        pthread_mutex_unlock(&lock);
        body_unref(b);
        return ATT_OK;
    }
    /* answers of an older data version are never hit again (their ETag names it): wipe them all now,
     * so names changed or erased since do not linger in memory */
    for (size_t i = 0; i < RCACHE_SLOTS; i++)
        if (slots[i].etag[0] && slots[i].version < now) slot_clear(&slots[i]);
    for (size_t i = 0; i < RCACHE_SLOTS && !victim; i++)
        if (!slots[i].etag[0]) victim = &slots[i];
    if (!victim) {
        victim = &slots[0];
        for (size_t i = 1; i < RCACHE_SLOTS; i++)
            if (slots[i].used < victim->used) victim = &slots[i];
    }
    slot_clear(victim);
    memcpy(victim->etag, etag, strlen(etag) + 1);
    victim->version = now;
    victim->used = ++tick;
    victim->body = b;
    victim->count = count;
    add_token(victim, token_id);
    pthread_mutex_unlock(&lock);
    return ATT_OK;
}

void http_rcache_audited(const char *etag, const char *token_id)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(etag);
    if (s) add_token(s, token_id);
    pthread_mutex_unlock(&lock);
}

void http_rcache_drop_stale(void)
{
    pthread_mutex_lock(&lock);
    uint64_t now = app_data_version();
    for (size_t i = 0; i < RCACHE_SLOTS; i++)
        if (slots[i].etag[0] && slots[i].version < now) slot_clear(&slots[i]);
    pthread_mutex_unlock(&lock);
}

bool http_rcache_holds(const void *needle, size_t len)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < RCACHE_SLOTS && !found && len > 0; i++)
        if (slots[i].etag[0] && memmem(slots[i].body->data, slots[i].body->len, needle, len) != NULL) found = true;
    pthread_mutex_unlock(&lock);
    return found;
}
