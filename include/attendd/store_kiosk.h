/* The alternative to the face in PostgreSQL: kiosk PINs (libsodium argon2id strings, a failure
 * count and a lock on people), badges, and kiosk punches (events of source "kiosk"). */
#ifndef ATTENDD_STORE_KIOSK_H
#define ATTENDD_STORE_KIOSK_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "attendd/errors.h"
#include "attendd/store_people.h"
#include "attendd/uuid.h"

#define KIOSK_PIN_HASH_BUF 256 /* crypto_pwhash_STRBYTES (128) with room */

/* A person as a kiosk sees them: enough to check a PIN, never the identity. */
struct kiosk_person {
    char id[ATT_UUID_STR];
    char pin_hash[KIOSK_PIN_HASH_BUF]; /* "" when no PIN is set */
    int pin_failures;                  /* wrong PINs in a row */
    bool pin_locked;                   /* locked after too many; an admin sets a new PIN */
    bool active;
    char department[PERSON_TEXT_BUF]; /* "" when not set: who a kiosk limited to departments serves */
};

/* Set (hash) or remove (NULL) a person's PIN; the failure count and the lock start over.
 * ATT_E_NOT_FOUND for no such (or an erased) person. */
att_err store_kiosk_pin_set(PGconn *c, const char *person_id, const char *pin_hash);
/* The person with this employee number (by_badge false) or badge id, row-locked until the caller's
 * transaction ends (attempts on one person are serialised). ATT_E_NOT_FOUND when there is none. */
att_err store_kiosk_person(PGconn *c, bool by_badge, const char *key, struct kiosk_person *out);
/* One more wrong PIN; locks the PIN when the count reaches max_failures. *failures and *locked: the
 * state after it. */
att_err store_kiosk_pin_failed(PGconn *c, const char *person_id, int max_failures, int *failures, bool *locked);
/* A right PIN: the failure count starts over. */
att_err store_kiosk_pin_ok(PGconn *c, const char *person_id);
/* A punch now, source "kiosk", created_by the kiosk token's name. id_out: the event's id. */
att_err store_kiosk_punch_insert(PGconn *c, const char *person_id, const char *kind, const char *created_by,
                                 char id_out[ATT_UUID_STR]);

#endif
