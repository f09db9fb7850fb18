/* Attendance rules: turns one recognition decision (person, camera role, capture time) into a
 * clock-in, a clock-out or "no event". Pure: no I/O, no clock reads; time comes with the decision. */
#ifndef ATTENDD_RULES_H
#define ATTENDD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/event.h"
#include "attendd/uuid.h"

/* Why rules_apply() did or did not emit an event. */
enum rules_reason {
    RULES_EMIT = 0,         /* an event was emitted */
    RULES_COOLDOWN,         /* same camera, within the cooldown of the person's last punch */
    RULES_DUPLICATE_CAMERA, /* another camera, within the cooldown (the same pass seen twice) */
    RULES_NOT_LIVE,         /* the decision was not judged live; never punches */
    RULES_LATE,             /* older than the person's last punch by more than the cooldown */
};

/* Tunables. Zero fields take the defaults in rules_config_defaults(). */
struct rules_config {
    int64_t cooldown_us;  /* one punch per person per this window; default 120 s */
    int64_t max_shift_us; /* an open clock-in older than this no longer counts; default 16 h */
    size_t max_persons;   /* hard cap on tracked persons; default 200000 */
};

/* One recognition decision from the tracker/recognition stage. */
struct rules_decision {
    att_uuid person;       /* recognised person */
    att_uuid camera;       /* camera that saw the deciding frame */
    enum camera_role role; /* that camera's role */
    int64_t ts_us;         /* capture time of the deciding frame, µs since epoch UTC */
    float similarity;      /* carried through for the event; the rules do not use it */
    float liveness;        /* idem */
    bool live;             /* the recognition stage judged the face live */
};

/* Outcome of rules_apply(). */
struct rules_result {
    enum rules_reason reason;  /* RULES_EMIT when an event is due */
    enum event_kind kind;      /* EVENT_KIND_IN/OUT when emitted, EVENT_KIND_NONE otherwise */
    int64_t closes_in_ts_us;   /* kind OUT: the open clock-in it closes; 0 if none was open */
    int64_t missing_out_ts_us; /* kind IN: an earlier clock-in left without clock-out (expired by
                                * max shift, or superseded by this `in`); 0 if none */
    int64_t last_ts_us;        /* suppressed: the punch that suppressed it; 0 otherwise */
};

/* State of a person's shift as seen by rules_open_shift(). */
enum rules_shift_state {
    RULES_SHIFT_NONE = 0,    /* unknown person, or last punch an `out` */
    RULES_SHIFT_OPEN,        /* last punch an `in`, younger than max shift */
    RULES_SHIFT_MISSING_OUT, /* last punch an `in`, older than max shift: missing its clock-out */
};

struct rules_shift {
    enum rules_shift_state state;
    int64_t in_ts_us; /* the clock-in for OPEN / MISSING_OUT, 0 for NONE */
};

/* Counters for metrics and tests. */
struct rules_stats {
    size_t persons;          /* persons currently held */
    uint64_t emitted;        /* events emitted */
    uint64_t suppressed;     /* decisions that produced no event (any reason) */
    uint64_t late;           /* of which RULES_LATE */
    uint64_t evicted;        /* persons dropped because their last punch aged out */
    uint64_t evicted_forced; /* persons dropped because max_persons was reached (oldest first) */
};

/* The rules engine. Thread-safe: every call takes one internal mutex. */
typedef struct rules rules;

void rules_config_defaults(struct rules_config *cfg);

/* cfg may be NULL (defaults). ATT_E_INVALID for negative values or cooldown > max shift. */
att_err rules_new(const struct rules_config *cfg, rules **out);
void rules_free(rules *r);

/* Load a person's last event from the database at start-up (kind IN or OUT, ts in µs). When called
 * twice for one person the newer ts wins. ATT_E_INVALID for a bad kind. */
att_err rules_seed(rules *r, const att_uuid *person, enum event_kind kind, int64_t ts_us);

/* Apply one decision. On RULES_EMIT the person's state moves to the new punch; otherwise it is
 * unchanged. ATT_E_INVALID for a bad role; ATT_E_NOMEM if the state could not grow. */
att_err rules_apply(rules *r, const struct rules_decision *d, struct rules_result *out);

/* A person's shift as of now_us (the caller's clock or the capture time being processed). */
att_err rules_open_shift(rules *r, const att_uuid *person, int64_t now_us, struct rules_shift *out);

/* Drop persons whose last punch is older than max(cooldown, max shift) at now_us: they can no
 * longer affect a decision. rules_apply() also does this by itself about once a minute of capture
 * time. Returns the number dropped. */
size_t rules_evict(rules *r, int64_t now_us);

void rules_get_stats(rules *r, struct rules_stats *out);

const char *rules_reason_name(enum rules_reason r); /* "emit", "cooldown", ... */

#endif
