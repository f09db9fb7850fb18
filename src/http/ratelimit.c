/* Failed-authentication limiter (see ratelimit.h): fixed memory, O(1) per call, one mutex.
 * Addresses hash (keyed SipHash, so a client cannot aim at a bucket) into 8-way buckets. */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 8
#define BUCKETS (HTTP_RL_SLOTS / WAYS)

struct rl_entry {
    unsigned char key[17]; /* family byte + IPv4 address or IPv6 /64 prefix, zero-padded */
    bool used;
    unsigned count;      /* failures in the current window */
    double window_start; /* monotonic seconds of the window's first failure */
    double locked_until; /* > now: locked out */
    double last;         /* last failure: eviction picks the oldest */
};

struct http_rl {
    pthread_mutex_t lock;
    unsigned limit;
    double window;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    struct rl_entry slot[HTTP_RL_SLOTS];
};

static _Atomic(http_rl *) global_rl;

void http_rl_set_global(http_rl *rl) { atomic_store(&global_rl, rl); }
http_rl *http_rl_global(void) { return atomic_load(&global_rl); }

att_err http_rl_new(int limit, int window_s, http_rl **out)
{
    *out = NULL;
    if (limit < 1 || window_s < 1) return ATT_E_CONFIG;
    if (sodium_init() < 0) return ATT_E_CRYPTO;
    http_rl *rl = calloc(1, sizeof *rl);
    if (rl == NULL) return ATT_E_NOMEM;
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl);
        return ATT_E_INTERNAL;
    }
    rl->limit = (unsigned)limit;
    rl->window = window_s;
    crypto_shorthash_keygen(rl->hkey);
    *out = rl;
    return ATT_OK;
}

void http_rl_free(http_rl *rl)
{
    if (rl == NULL) return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* The table key of an address. IPv6 by /64: one host usually owns a whole /64, so counting single
 * IPv6 addresses would give it 2^64 fresh starts. IPv4-mapped IPv6 counts as the IPv4 address. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[17])
{
    memset(key, 0, 17);
    if (sa == NULL) return false;
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 8);
        }
        return true;
    }
    return false;
}

static struct rl_entry *bucket(http_rl *rl, const unsigned char key[17])
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, 17, rl->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return &rl->slot[(v % BUCKETS) * WAYS];
}

/* The entry of key, or NULL. Caller holds the lock. */
static struct rl_entry *find(struct rl_entry *b, const unsigned char key[17])
{
    for (int i = 0; i < WAYS; i++)
        if (b[i].used && memcmp(b[i].key, key, 17) == 0) return &b[i];
    return NULL;
}

static bool key_locked(http_rl *rl, const unsigned char key[17], double now, int *retry_after_s)
{
    bool locked = false;
    pthread_mutex_lock(&rl->lock);
    struct rl_entry *e = find(bucket(rl, key), key);
    if (e != NULL && e->locked_until > now) {
        locked = true;
        double left = e->locked_until - now;
        int s = (int)left;
        *retry_after_s = s < left ? s + 1 : s; /* round up: retrying at the advertised time works */
        if (*retry_after_s < 1) *retry_after_s = 1;
    }
    pthread_mutex_unlock(&rl->lock);
    return locked;
}

static bool key_fail(http_rl *rl, const unsigned char key[17], double now)
{
    bool starts = false;
    pthread_mutex_lock(&rl->lock);
    struct rl_entry *b = bucket(rl, key), *e = find(b, key);
    if (e == NULL) {
        /* a free slot, else the entry whose last failure is oldest, preferring one not locked out:
         * pushing a locked address out of the table takes WAYS - 1 other locked-out addresses in its
         * bucket, which the keyed hash turns into thousands of addresses */
        e = &b[0];
        for (int i = 0; i < WAYS; i++) {
            if (!b[i].used) {
                e = &b[i];
                break;
            }
            bool li = b[i].locked_until > now, le = e->locked_until > now;
            if ((le && !li) || (li == le && b[i].last < e->last)) e = &b[i];
        }
        memset(e, 0, sizeof *e);
        memcpy(e->key, key, 17);
        e->used = true;
        e->window_start = now;
    }
    if (e->locked_until > now) {
        /* a failure while locked out (a request that passed the check just before): the lock stands */
    } else {
        if (now - e->window_start >= rl->window || e->locked_until > 0) {
            e->window_start = now; /* window over, or the lock-out just ended: start afresh */
            e->count = 0;
            e->locked_until = 0;
        }
        if (++e->count >= rl->limit) {
            e->locked_until = now + rl->window;
            starts = true;
        }
    }
    e->last = now;
    pthread_mutex_unlock(&rl->lock);
    return starts;
}

bool http_rl_locked(http_rl *rl, const struct sockaddr *addr, double now, int *retry_after_s)
{
    unsigned char key[17];
    return rl != NULL && addr_key(addr, key) && key_locked(rl, key, now, retry_after_s);
}

bool http_rl_fail(http_rl *rl, const struct sockaddr *addr, double now)
{
    unsigned char key[17];
    return rl != NULL && addr_key(addr, key) && key_fail(rl, key, now);
}

/* Tokens share the table under their own key family ('T'), so they cannot collide with addresses. */
static void token_key(const unsigned char hash[HTTP_RL_TOKEN_BYTES], unsigned char key[17])
{
    key[0] = 'T';
    memcpy(key + 1, hash, HTTP_RL_TOKEN_BYTES);
}

bool http_rl_token_locked(http_rl *rl, const unsigned char hash[HTTP_RL_TOKEN_BYTES], double now, int *retry_after_s)
{
    unsigned char key[17];
    if (rl == NULL) return false;
    token_key(hash, key);
    return key_locked(rl, key, now, retry_after_s);
}

bool http_rl_token_fail(http_rl *rl, const unsigned char hash[HTTP_RL_TOKEN_BYTES], double now)
{
    unsigned char key[17];
    if (rl == NULL) return false;
    token_key(hash, key);
    return key_fail(rl, key, now);
}
