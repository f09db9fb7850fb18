/* Registry of long-lived responses (event streams, exports) by the token that opened them, so that
 * revoking a token ends what it is still reading instead of only refusing its next request. */
#include "http_internal.h"

#include <pthread.h>

/* Tokens revoked lately: a response whose request was authenticated just before its token's
 * revocation registers just after it, and must be born revoked. A revoked token stays revoked, and
 * the window is microseconds, so the last few revocations are all that needs remembering. */
#define RECENT 64

static struct {
    pthread_mutex_t lock; /* guards everything here */
    struct http_live *head;
    att_uuid recent[RECENT]; /* the last revoked tokens, a ring */
    unsigned recent_n;       /* entries filled (at most RECENT) */
    unsigned recent_next;    /* where the next revocation goes */
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool recently_revoked(const att_uuid *token) /* reg.lock held */
{
    for (unsigned i = 0; i < reg.recent_n; i++)
        if (att_uuid_eq(&reg.recent[i], token)) return true;
    return false;
}

bool http_live_add(struct http_live *l, const struct token_info *token)
{
    *l = (struct http_live){0};
    atomic_init(&l->revoked, false);
    if (token == NULL || !att_uuid_parse(token->id, &l->token)) return false;
    pthread_mutex_lock(&reg.lock);
    if (recently_revoked(&l->token)) atomic_store(&l->revoked, true);
    l->next = reg.head;
    if (reg.head) reg.head->prev = l;
    reg.head = l;
    l->linked = true;
    pthread_mutex_unlock(&reg.lock);
    return true;
}

void http_live_remove(struct http_live *l)
{
    pthread_mutex_lock(&reg.lock);
    if (l->linked) {
        if (l->prev) l->prev->next = l->next;
        else reg.head = l->next;
        if (l->next) l->next->prev = l->prev;
        l->linked = false;
        l->prev = l->next = NULL;
    }
    pthread_mutex_unlock(&reg.lock);
}

bool http_live_revoked(const struct http_live *l) { return atomic_load(&l->revoked); }

unsigned http_live_revoke(const att_uuid *token)
{
    unsigned n = 0;
    pthread_mutex_lock(&reg.lock);
    if (!recently_revoked(token)) {
        reg.recent[reg.recent_next] = *token;
        reg.recent_next = (reg.recent_next + 1) % RECENT;
        if (reg.recent_n < RECENT) reg.recent_n++;
    }
    for (struct http_live *l = reg.head; l; l = l->next)
        if (att_uuid_eq(&l->token, token) && !atomic_exchange(&l->revoked, true)) n++;
    pthread_mutex_unlock(&reg.lock);
    return n;
}
