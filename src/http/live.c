/* Registry of long-lived responses (event streams, exports) by the token that opened them, so that
 * revoking a token ends what it is still reading instead of only refusing its next request. */
#include "http_internal.h"

#include <pthread.h>

static struct {
    pthread_mutex_t lock;     /* guards the list */
    struct http_live *head;
    unsigned revoked;         /* responses ended by revocation (for the log and tests) */
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool http_live_add(struct http_live *l, const struct token_info *token)
{
    *l = (struct http_live){0};
    atomic_init(&l->revoked, false);
    if (token == NULL || !att_uuid_parse(token->id, &l->token)) return false;
    pthread_mutex_lock(&reg.lock);
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
    for (struct http_live *l = reg.head; l; l = l->next)
        if (att_uuid_eq(&l->token, token) && !atomic_exchange(&l->revoked, true)) n++;
    pthread_mutex_unlock(&reg.lock);
    return n;
}

unsigned http_live_count(const att_uuid *token)
{
    unsigned n = 0;
    pthread_mutex_lock(&reg.lock);
    for (struct http_live *l = reg.head; l; l = l->next)
        if (att_uuid_eq(&l->token, token) && !atomic_load(&l->revoked)) n++;
    pthread_mutex_unlock(&reg.lock);
    return n;
}
