/* Manual punches, the corrections typed at a desk: add one (with its reason) and void one. Called
 * alike by the HTTP handlers and attendctl; each change commits with its audit row (target type
 * "event") in one transaction and then moves the data version. A refused call changes nothing and
 * writes no audit row: auditing the refusal is the caller's. */
#ifndef ATTENDD_PUNCH_H
#define ATTENDD_PUNCH_H

#include <libpq-fe.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/store_audit.h"
#include "attendd/uuid.h"

/* A correction may not be dated more than this after "now": clocks differ a little, a typo by a day
 * must not pass. */
#define PUNCH_MAX_FUTURE_S 300

/* A manual punch as typed. */
struct punch_new {
    const char *person_id; /* uuid of a person who is not erased */
    const char *kind;      /* "in" or "out" */
    const char *ts;        /* when, RFC 3339 as given (the audit row keeps it) */
    int64_t ts_us;         /* ... parsed: µs since the epoch, from 0 to now + PUNCH_MAX_FUTURE_S */
    const char *reason;    /* why the punch is added: not blank */
};

/* Add p on behalf of a (whose name is kept as the punch's author). ATT_E_INVALID for a value outside
 * the rules above, ATT_E_NOT_FOUND when no such person (or an erased one). id: the new event's id.
 * Audit "punch.create" with person, kind and ts. */
att_err punch_add(PGconn *c, const struct audit_actor *a, const struct punch_new *p, char id[ATT_UUID_STR]);

/* Void manual punch id (the row stays, voided). ATT_E_NOT_FOUND (also for a malformed id),
 * ATT_E_NOT_MANUAL for a camera event, ATT_E_CONFLICT when voided already. Audit "punch.void". */
att_err punch_void(PGconn *c, const struct audit_actor *a, const char *id);

#endif
