/* Kiosk credentials of people on the roster: setting a PIN (hashed with argon2id before the
 * transaction; the failure count and the lock start over) with its audit row in one transaction. */
#include <stdbool.h>
#include <sodium.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/punch.h"
#include "attendd/roster.h"
#include "attendd/store_kiosk.h"
#include "src/roster/roster_internal.h"

struct pin_write {
    const struct audit_actor *actor;
    const char *id;   /* canonical */
    const char *hash; /* the PIN's argon2id string */
    bool changed;     /* the hash is stored: a later failure is the audit row's */
};

static att_err run_pin_set(PGconn *c, void *arg)
{
    struct pin_write *w = arg;
    w->changed = false;
    att_err e = store_kiosk_pin_set(c, w->id, w->hash);
    if (e != ATT_OK) return e;
    w->changed = true;
    e = store_audit_ok(c, w->actor, "person.pin_set", "person", w->id, NULL);
    if (e != ATT_OK) log_error("roster", "audit row for person.pin_set not written: %s", att_err_code(e));
    return e;
}

att_err roster_person_pin_set(const struct roster_deps *d, const struct audit_actor *a, const char *id, const char *pin)
{
    att_uuid u;
    if (!att_uuid_parse(id, &u)) return ATT_E_NOT_FOUND;
    if (!kiosk_pin_ok(pin)) return ATT_E_INVALID;
    char pid[ATT_UUID_STR], hash[KIOSK_PIN_HASH_BUF];
    att_uuid_format(&u, pid);
    att_err e = kiosk_pin_hash(pin, hash, sizeof hash);
    if (e != ATT_OK) return e;
    struct pin_write w = {.actor = a, .id = pid, .hash = hash};
    e = db_transaction(d->db, run_pin_set, NULL, &w);
    sodium_memzero(hash, sizeof hash);
    if (e != ATT_OK) return w.changed ? roster_unaudited(e) : e;
    app_data_version_bump();
    return ATT_OK;
}
