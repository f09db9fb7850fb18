/* The memory backlog of the event journal (src/journal/backlog.h): a mutex-guarded ring of events. */
#include "src/journal/backlog.h"

#include <stdlib.h>
#include <string.h>

att_err backlog_init(struct backlog *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->ring = calloc(cap ? cap : 1, sizeof *b->ring);
    if (!b->ring) return ATT_E_NOMEM;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b->ring);
        b->ring = NULL;
        return ATT_E_NOMEM;
    }
    b->cap = cap;
    return ATT_OK;
}

void backlog_destroy(struct backlog *b)
{
    if (!b->ring) return;
    pthread_mutex_destroy(&b->lock);
    free(b->ring);
    b->ring = NULL;
}

size_t backlog_len(struct backlog *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->len;
    pthread_mutex_unlock(&b->lock);
    return n;
}

bool backlog_push(struct backlog *b, const struct att_event *ev, size_t *held)
{
    pthread_mutex_lock(&b->lock);
    bool room = b->len < b->cap;
    if (room) {
        b->ring[(b->head + b->len) % b->cap] = *ev;
        b->len++;
    }
    *held = b->len;
    pthread_mutex_unlock(&b->lock);
    return room;
}

size_t backlog_peek(struct backlog *b, struct att_event *out, size_t max)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->len < max ? b->len : max;
    for (size_t i = 0; i < n; i++) out[i] = b->ring[(b->head + i) % b->cap];
    pthread_mutex_unlock(&b->lock);
    return n;
}

void backlog_pop(struct backlog *b, size_t n)
{
    pthread_mutex_lock(&b->lock);
    if (n > b->len) n = b->len;
    b->head = (b->head + n) % b->cap;
    b->len -= n;
    pthread_mutex_unlock(&b->lock);
}
