/* The event path from the attendance rules to PostgreSQL: event_emit() gives an event its uuid and
 * makes it durable in the spool; one writer thread drains the spool into the events table in order,
 * riding out database outages. Behaviour in docs/pipeline.md "Event writer". */
#ifndef ATTENDD_EVENT_WRITER_H
#define ATTENDD_EVENT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/event.h"
#include "attendd/metrics.h"
#include "attendd/spool.h"
#include "attendd/store_events.h"

#define EVENT_WRITER_BATCH_DEFAULT 256
#define EVENT_WRITER_BACKOFF_MIN_MS 100
#define EVENT_WRITER_BACKOFF_MAX_MS 2000
#define EVENT_WRITER_BACKLOG_DEFAULT 4096 /* events held in memory while the spool cannot append */

/* Tunables; zero/NULL fields take the defaults. */
struct event_writer_opts {
    size_t batch_max;     /* records per transaction; default 256 */
    int backoff_min_ms;   /* first retry delay after a failure; default 100 ms, doubling */
    int backoff_max_ms;   /* retry delay cap; default 2000 ms */
    int idle_check_ms;    /* re-read the spool this often even without a notify; default 1000 ms */
    const char *app_name; /* PostgreSQL application_name; default "attendd-events" */
    size_t backlog_max;   /* events held in memory while the spool cannot append (disk full); default 4096 */
    /* Several instances: the cooldown and auto in/out are decided again in the database as events are
     * written (store_events_decide_batch), with these rules (copied); NULL: inserted as decided here. */
    const struct store_punch_rules *decide;
};

struct event_writer_stats {
    uint64_t emitted;         /* event_emit() successes (durable in the spool) */
    uint64_t emit_errors;     /* event_emit() failures: refused values, or spool and backlog both full */
    uint64_t written;         /* rows inserted */
    uint64_t duplicates;      /* records already in the database (a replay after a crash): ignored */
    uint64_t suppressed;      /* decided in the database: the same pass, captured earlier, is stored (not written) */
    uint64_t superseded;      /* decided in the database: stored later captures of the same pass voided */
    uint64_t rejected;        /* records the database refuses for good: logged in full, then acknowledged */
    uint64_t unlinked;        /* inserted with a NULL person/camera because that row no longer exists */
    uint64_t db_errors;       /* failed attempts: connect, insert, commit */
    uint64_t batches;         /* transactions committed */
    size_t spool_depth;       /* records waiting in the spool */
    bool connected;           /* the writer holds a working database connection */
    bool running;             /* the thread is running */
    char last_error[256];     /* latest failure ("" if none yet); kept after recovery */
    int64_t last_error_at;    /* its time, seconds since the epoch (0 if none) */
    size_t memory_backlog;    /* events held in memory because the spool could not append them */
    uint64_t held;            /* events that went to the memory backlog (spool append failed) */
    uint64_t backlog_spooled; /* held events later appended to the spool (space came back) */
    uint64_t backlog_direct;  /* held events written straight to the database */
    uint64_t lost;            /* events neither spooled nor written: backlog full, or held at stop */
    bool spool_writable;      /* false while spool appends fail */
};

typedef struct event_writer event_writer;

/* Create (not start) a writer for spool s (borrowed; must outlive the writer) and the database at
 * conninfo. The writer keeps its own connection, outside the API's pool: a burst of API requests
 * never delays an event, and the pool keeps all its slots. m (may be NULL) gets the writer's and
 * the spool's metrics (attendd_events_*, attendd_event_*, attendd_spool_*). ATT_E_INVALID for bad
 * opts, ATT_E_CONFLICT if m already holds these metrics. */
att_err event_writer_new(spool *s, const char *conninfo, const struct event_writer_opts *opts, metrics *m,
                         event_writer **out, char *err, size_t errlen);

/* Start the thread. Whatever is pending in the spool (left by a crash or an outage) is written first. */
att_err event_writer_start(event_writer *w);

/* Wake the thread: something was appended. event_emit() calls it; a producer appending to the spool
 * itself must call it after spool_append. Cheap, any thread, also before start. */
void event_writer_notify(event_writer *w);

/* Stop: the thread keeps writing (and retrying) until the spool and the memory backlog are empty or
 * timeout_ms has passed, then closes its connection. ATT_E_UNAVAILABLE if events remain in the spool
 * (they are written at the next start) or in the backlog (lost: each is logged in full at error);
 * ATT_OK when all were written. A database call under way at the deadline is
 * finished first (bounded by statement_timeout, 10 s). Idempotent; also fine if never started. */
att_err event_writer_stop(event_writer *w, int timeout_ms);

/* Stops (with no drain deadline left: 0 ms) if still running, unregisters the metrics, frees. NULL ok. */
void event_writer_free(event_writer *w);

void event_writer_get_stats(event_writer *w, struct event_writer_stats *out);

/* The single entry point of the attendance stage: give the event (person, camera, kind, ts,
 * similarity, liveness; its id and source are ignored) a new uuid (version 4) and the source
 * "camera", append it to the spool (durable), wake the writer. id_out (may be NULL) receives the uuid. When the spool cannot
 * append (disk full, I/O error) the event is held in a bounded memory backlog instead (logged at
 * error, attendd_events_memory_backlog): the writer moves it to the spool once space returns, or
 * straight to the database meanwhile; only a crash before then loses it. ATT_OK: spooled or held.
 * ATT_E_INVALID for a bad kind, a non-finite or out-of-range similarity/liveness or a ts outside
 * years 1970..9999; ATT_E_IO when the spool cannot append and the backlog is full (the event is NOT
 * recorded; err says why, and it is logged in full). Any thread, whether or not the writer runs. */
att_err event_emit(event_writer *w, const struct att_event *ev, att_uuid *id_out, char *err, size_t errlen);

#endif
