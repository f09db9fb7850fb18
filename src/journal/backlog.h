/* Internal to src/journal: the memory backlog, a bounded FIFO of events the spool could not append
 * (disk full, I/O error), oldest first. Not crash-safe: it only bridges the time until the spool or
 * the database takes the events. Thread-safe; only one consumer removes (the writer thread, or the
 * writer's stop once the thread has ended), so what it peeked is still what it pops. */
#ifndef ATTENDD_JOURNAL_BACKLOG_H
#define ATTENDD_JOURNAL_BACKLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/event.h"

struct backlog {
    pthread_mutex_t lock;   /* guards everything below */
    struct att_event *ring; /* cap slots; live entries are ring[(head + i) % cap], i < len */
    size_t head, len, cap;
};

/* Room for cap events. ATT_E_NOMEM. */
att_err backlog_init(struct backlog *b, size_t cap);
/* Wipe and free; the backlog must be unused. */
void backlog_destroy(struct backlog *b);

size_t backlog_len(struct backlog *b);
/* Append ev; false when full. *held receives the number of events held afterwards (when full: held
 * already). */
bool backlog_push(struct backlog *b, const struct att_event *ev, size_t *held);
/* Copy up to max of the oldest events into out, oldest first; returns how many. */
size_t backlog_peek(struct backlog *b, struct att_event *out, size_t max);
/* Drop the n oldest events (n no more than the last peek returned). */
void backlog_pop(struct backlog *b, size_t n);

#endif
