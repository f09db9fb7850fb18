/* Attendance events in PostgreSQL (table events): the idempotent insert the spool writer uses, the
 * newest-first listing behind GET /api/v1/events, and each person's last punch to seed the rules. */
#ifndef ATTENDD_STORE_EVENTS_H
#define ATTENDD_STORE_EVENTS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/event.h"
#include "attendd/time.h"
#include "attendd/uuid.h"

#define EVENTS_LIST_DEFAULT_LIMIT 100
#define EVENTS_LIST_MAX_LIMIT 500
#define EVENTS_EXPORT_BATCH 1000          /* rows per query of a CSV export (one page of the keyset walk) */
#define EVENTS_TIME_MAX ATT_TIME_TEXT_MAX /* longest RFC 3339 text accepted as a filter */

/* What store_event_insert did. */
struct store_event_result {
    bool inserted;       /* a new row; false: the id was already there (a replay) or suppressed */
    bool suppressed;     /* store_events_decide_batch: an earlier capture of the same pass is stored */
    unsigned superseded; /* store_events_decide_batch: later captures of the same pass it voided */
    bool person_missing; /* inserted with person_id NULL: no such person row (see below) */
    bool camera_missing; /* inserted with camera_id NULL: the camera was deleted meanwhile */
};

/* INSERT ... ON CONFLICT (id) DO NOTHING, so replaying the spool stores each event exactly once.
 * A person or camera id with no row is stored as NULL instead of failing the foreign key: it is what
 * ON DELETE SET NULL would have done had the row been written a moment earlier, and a spooled event
 * must never be blocked forever by a deleted camera. ATT_E_INVALID when the database refuses the
 * values themselves (source not "camera", similarity outside -1..1, liveness outside 0..1): retrying
 * cannot help. ATT_E_DB when the connection is lost; ATT_E_SCHEMA when not migrated. */
att_err store_event_insert(PGconn *c, const struct att_event *ev, struct store_event_result *res);

/* Insert events[0..n) in one transaction, each as store_event_insert (res[i] receives what happened
 * to events[i]), and commit. On a failure everything is rolled back; with ATT_E_INVALID *bad_at is
 * the event the database refused for good. Other errors as store_event_insert, or the BEGIN/COMMIT's. */
att_err store_events_insert_batch(PGconn *c, const struct att_event *events, size_t n, struct store_event_result *res,
                                  size_t *bad_at);

/* The attendance rules as the database applies them among several instances. */
struct store_punch_rules {
    int64_t cooldown_us;  /* one punch per person per this window (cooldown_s) */
    int64_t max_shift_us; /* an open clock-in older than this no longer counts (max_shift_h) */
};

/* As store_events_insert_batch, with the cooldown and the auto in/out decided in the database, so
 * that instances deciding in their own memory cannot punch one pass twice: each person is locked for
 * the transaction (in id order, so two writers never deadlock); an event with a live camera punch of
 * the same person within the cooldown that was captured earlier (ties: the smaller id) is not stored
 * (suppressed); one captured earlier than such punches is stored and voids them (superseded: the
 * earliest capture wins whatever order the instances write in). The kind of every punch from an
 * `auto` camera from the event's capture time on is then derived again in capture-time order (an
 * open clock-in younger than max_shift_us makes it an out), so a spool written late changes nothing
 * a timely one would not have. */
att_err store_events_decide_batch(PGconn *c, const struct att_event *events, size_t n,
                                  const struct store_punch_rules *rules, struct store_event_result *res,
                                  size_t *bad_at);

/* Ready a dedicated connection (db_connect) for store_events_insert_batch: prepare every statement,
 * and bound each one by a statement timeout so that a hung server cannot hold the caller forever.
 * err says which step failed. */
att_err store_events_session(PGconn *c, char *err, size_t errlen);

/* A position in the newest-first walk: the sort key of the last row of a page. */
struct event_pos {
    int64_t ts_us; /* the row's ts, µs since the epoch */
    att_uuid id;   /* the row's id (ties on ts are ordered by id) */
};

/* Which events a listing returns. Every member is a checked value: the API parses its query string
 * into this; the store checks only what SQL needs. */
struct event_filter {
    bool has_since;
    int64_t since_us; /* inclusive, µs since the epoch */
    bool has_until;
    int64_t until_us; /* exclusive; not before since_us */
    bool has_person;
    att_uuid person_id;
    bool has_camera;
    att_uuid camera_id;
    const char *departments; /* need to know: a JSON array of departments, only their people's events; NULL: all */
    bool has_after;
    struct event_pos after; /* start after this position (the previous page's next) */
    size_t limit;           /* 1..EVENTS_LIST_MAX_LIMIT */
};

/* One listed event. Strings point into the same allocation as the array. */
struct event_row {
    const char *id;
    const char *person_id;   /* NULL when the event is not linked to a person row */
    const char *employee_no; /* NULL for an erased person (de-identified) or no person */
    const char *name;        /* idem */
    const char *camera_id;   /* NULL for a manual punch or a deleted camera */
    const char *kind;        /* "in" / "out" */
    const char *ts;          /* RFC 3339 UTC with microseconds: "2024-05-01T07:59:12.123456Z" */
    double similarity;       /* NAN when NULL (manual punches) */
    double liveness;         /* idem */
    const char *source;      /* "camera" / "manual" */
    const char *reason;      /* manual punches: why; NULL for camera events */
    const char *created_by;  /* manual punches: the API token's name; NULL for camera events */
    const char *pseudonym;   /* people.pseudonym of the person, NULL when not linked */
    int64_t seq;             /* commit-ordered position (events.seq): the SSE feed's id */
    const char *voided_at;   /* RFC 3339 UTC when voided, else NULL (lists never hold voided rows) */
};

/* Events not voided, newest first (keyset on ts DESC, id DESC), with the person's employee_no and
 * name. *out is ONE malloc'd block (free(*out)). *more: a next page exists, starting after *next.
 * ATT_E_INVALID for a filter outside its documented range (limit, until before since). */
att_err store_events_list(PGconn *c, const struct event_filter *f, struct event_row **out, size_t *n,
                          struct event_pos *next, bool *more);

/* The same walk for a CSV export: like store_events_list but with a batch of 1..EVENTS_EXPORT_BATCH
 * rows instead of f->limit (ignored); call again with f->after = *next while *more. */
att_err store_events_export_batch(PGconn *c, const struct event_filter *f, size_t batch, struct event_row **out,
                                  size_t *n, struct event_pos *next, bool *more);

/* One event by id, voided or not. *out ONE malloc'd row (free). ATT_E_NOT_FOUND (also for a non-uuid). */
att_err store_event_get(PGconn *c, const char *id, struct event_row **out);

/* Live (non-voided) events with seq > after, in seq order, at most limit. departments: a JSON array,
 * only the events of their people; NULL: all. *out ONE block (free). */
att_err store_events_since_seq(PGconn *c, int64_t after, size_t limit, const char *departments, struct event_row **out,
                               size_t *n);
/* Every event of one person, voided ones too, oldest first (a subject access export). *out ONE block
 * (free; NULL when none). */
att_err store_events_of_person(PGconn *c, const char *person_id, struct event_row **out, size_t *n);
/* Highest seq so far (0 for none). */
att_err store_events_max_seq(PGconn *c, int64_t *out);

/* A manual punch (source "manual") for a person who is not erased, ts in µs since the epoch. Run
 * in the caller's transaction, with its audit row. ATT_E_NOT_FOUND: no such (or an erased) person;
 * ATT_E_INVALID: bad kind, empty reason or created_by, or refused by a CHECK. id_out: the new id. */
att_err store_punch_insert(PGconn *c, const char *person_id, const char *kind, int64_t ts_us, const char *reason,
                           const char *created_by, char id_out[ATT_UUID_STR]);
/* Void a manual punch (voided_at = now(); the row stays). person_out: its person id or "".
 * ATT_E_NOT_FOUND: no such event; ATT_E_NOT_MANUAL: a camera event (never voided through the API);
 * ATT_E_CONFLICT: voided already. */
att_err store_punch_void(PGconn *c, const char *id, char person_out[ATT_UUID_STR]);

/* Called once per person with their latest non-voided event at or after since_us; a non-ATT_OK return
 * stops the walk and is returned. */
typedef att_err (*store_events_last_fn)(void *ud, const att_uuid *person, enum event_kind kind, int64_t ts_us);

/* Each person's last punch since since_us (µs since the epoch), for rules_seed() at start-up. Events
 * still in the spool are not in the database yet: seed from spool_pending() too (the newer wins). */
att_err store_events_last_per_person(PGconn *c, int64_t since_us, store_events_last_fn fn, void *ud);

#endif
