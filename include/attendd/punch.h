/* Manual punches, the corrections typed at a desk: add one (with its reason) and void one. Called
 * alike by the HTTP handlers and attendctl; each change commits with its audit row (target type
 * "event") in one transaction and then moves the data version. A refused call changes nothing and
 * writes no audit row: auditing the refusal is the caller's. */
#ifndef ATTENDD_PUNCH_H
#define ATTENDD_PUNCH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"
#include "attendd/store_audit.h"
#include "attendd/store_tokens.h"
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

/* ---- kiosk punches: the alternative to the face ------------------------------------------------- */

#define KIOSK_PIN_MIN 4 /* a PIN is 4 to 12 decimal digits */
#define KIOSK_PIN_MAX 12

/* Whether pin is 4..12 decimal digits. */
bool kiosk_pin_ok(const char *pin);
/* The argon2id string (libsodium crypto_pwhash_str, interactive limits) of a PIN kiosk_pin_ok
 * accepts, into out (KIOSK_PIN_HASH_BUF bytes). ATT_E_INVALID for a bad PIN, ATT_E_NOMEM when the
 * hash's memory cannot be had. */
att_err kiosk_pin_hash(const char *pin, char *out, size_t len);

/* One punch at a kiosk: an employee number with a PIN, or a badge id (exactly one of the two). */
struct kiosk_punch {
    const char *employee_no, *pin; /* together */
    const char *badge_id;          /* or this */
    const char *kind;              /* "in" or "out" */
    /* the kiosk token (NULL: none): one limited to departments serves only their people, and any
     * other person is answered and counted exactly as one who does not exist */
    const struct token_info *kiosk;
};

/* What a kiosk punch came to. */
struct kiosk_outcome {
    char event_id[ATT_UUID_STR];  /* the new event (on success) */
    char person_id[ATT_UUID_STR]; /* who punched (on success) */
    int failures;                 /* a wrong PIN: wrong PINs in a row now */
    bool locked;                  /* a wrong PIN locked the PIN (the max_failures-th) */
};

/* Record a kiosk punch by kiosk token a (its name is the punch's created_by): the person is found by
 * employee number or badge under a row lock, the PIN checked (argon2id), the event (source "kiosk",
 * now) and its audit row committed together. Refusals, each committed with its own audit row
 * ("kiosk.punch" with the outcome) so that counting and locking survive: ATT_E_INVALID for an unknown
 * employee number or badge, a person without a PIN, an inactive person or a wrong PIN (one answer for
 * all: no oracle) — a wrong PIN counts, and the max_failures-th in a row locks the PIN ("kiosk.lock");
 * ATT_E_CREDENTIAL_LOCKED for a locked PIN (not checked, not counted). Audit target: the person when
 * known. */
att_err punch_kiosk(PGconn *c, const struct audit_actor *a, const struct kiosk_punch *p, int max_failures,
                    struct kiosk_outcome *out);

#endif
