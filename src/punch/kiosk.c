/* Kiosk punches, the alternative to the face: an employee number with a PIN (argon2id, counted and
 * locked after too many wrong ones) or a badge; the event and its audit row commit together, and a
 * refusal commits its count and audit row just the same. */
#include "attendd/punch.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/store_kiosk.h"

bool kiosk_pin_ok(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n < KIOSK_PIN_MIN || n > KIOSK_PIN_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < '0' || pin[i] > '9') return false;
    return true;
}

att_err kiosk_pin_hash(const char *pin, char *out, size_t len)
{
    if (len < crypto_pwhash_STRBYTES) return ATT_E_INTERNAL;
    if (!kiosk_pin_ok(pin)) return ATT_E_INVALID;
    if (sodium_init() < 0) return ATT_E_CRYPTO;
    if (crypto_pwhash_str(out, pin, strlen(pin), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ATT_E_NOMEM; /* the only way it fails: the memory limit could not be allocated */
    return ATT_OK;
}

/* A valid hash of no PIN anyone has: an unknown employee number costs the same verification as a
 * known one, so the answer's time does not tell which numbers exist. */
static char decoy[crypto_pwhash_STRBYTES];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;
static void decoy_make(void)
{
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    if (crypto_pwhash_str(decoy, (const char *)r, sizeof r, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        decoy[0] = '\0';
}

struct kiosk_write {
    const struct audit_actor *actor;
    const struct kiosk_punch *p;
    int max_failures;
    struct kiosk_outcome *out;
    att_err refused; /* the refusal committed with its audit row (ATT_OK: the punch went in) */
};

static att_err audit(PGconn *c, const struct kiosk_write *w, const char *action, const char *target,
                     const char *outcome, json_t *detail)
{
    char *d = detail ? att_json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    struct audit_entry e = {w->actor->token_id, w->actor->name, action, "person", target, outcome, d};
    att_err rc = store_audit_insert(c, &e);
    free(d);
    if (rc != ATT_OK) log_error("punch", "audit row for %s not written: %s", action, att_err_code(rc));
    return rc;
}

static att_err run_kiosk(PGconn *c, void *arg)
{
    struct kiosk_write *w = arg;
    const struct kiosk_punch *p = w->p;
    bool by_badge = p->badge_id != NULL;
    const char *method = by_badge ? "badge" : "pin";
    w->refused = ATT_OK;
    struct kiosk_person k;
    att_err e = store_kiosk_person(c, by_badge, by_badge ? p->badge_id : p->employee_no, &k);
    if (e != ATT_OK && e != ATT_E_NOT_FOUND) return e;
    /* a person outside a limited kiosk's departments is unknown to it: no oracle, no count, no lock */
    bool outside = e == ATT_OK && p->kiosk && !token_sees_department(p->kiosk, k.department);
    bool known = e == ATT_OK && !outside;
    if (known && !by_badge && k.pin_locked) {
        w->refused = ATT_E_CREDENTIAL_LOCKED;
        return audit(c, w, "kiosk.punch", k.id, att_err_code(w->refused), json_pack("{s:s}", "method", method));
    }
    bool ok = known && k.active;
    if (!by_badge) {
        pthread_once(&decoy_once, decoy_make);
        const char *hash = known && k.pin_hash[0] ? k.pin_hash : decoy;
        ok = crypto_pwhash_str_verify(hash, p->pin, strlen(p->pin)) == 0 && ok && k.pin_hash[0];
    }
    if (!ok) {
        w->refused = ATT_E_INVALID;
        if (outside)
            return audit(c, w, "kiosk.punch", k.id, att_err_code(w->refused),
                         json_pack("{s:s, s:b}", "method", method, "outside_departments", 1));
        if (!known)
            return audit(c, w, "kiosk.punch", NULL, att_err_code(w->refused), json_pack("{s:s}", "method", method));
        if (!by_badge && k.pin_hash[0]) {
            e = store_kiosk_pin_failed(c, k.id, w->max_failures, &w->out->failures, &w->out->locked);
            if (e != ATT_OK) return e;
        }
        e = audit(c, w, "kiosk.punch", k.id, att_err_code(w->refused),
                  json_pack("{s:s, s:i}", "method", method, "failures", w->out->failures));
        if (e == ATT_OK && w->out->locked)
            e = audit(c, w, "kiosk.lock", k.id, "ok", json_pack("{s:i}", "failures", w->out->failures));
        return e;
    }
    if (!by_badge && (e = store_kiosk_pin_ok(c, k.id)) != ATT_OK) return e;
    if ((e = store_kiosk_punch_insert(c, k.id, p->kind, w->actor->name, w->out->event_id)) != ATT_OK) return e;
    memcpy(w->out->person_id, k.id, ATT_UUID_STR);
    return audit(c, w, "kiosk.punch", k.id, "ok",
                 json_pack("{s:s, s:s, s:s}", "method", method, "kind", p->kind, "event_id", w->out->event_id));
}

att_err punch_kiosk(PGconn *c, const struct audit_actor *a, const struct kiosk_punch *p, int max_failures,
                    struct kiosk_outcome *out)
{
    memset(out, 0, sizeof *out);
    bool pin = p->employee_no != NULL && p->pin != NULL, badge = p->badge_id != NULL;
    if (pin == badge || (p->employee_no == NULL) != (p->pin == NULL) || !p->kind ||
        (strcmp(p->kind, "in") != 0 && strcmp(p->kind, "out") != 0) || max_failures < 1)
        return ATT_E_INVALID;
    if (sodium_init() < 0) return ATT_E_CRYPTO;
    struct kiosk_write w = {.actor = a, .p = p, .max_failures = max_failures, .out = out};
    att_err e = db_transaction(c, run_kiosk, NULL, &w);
    if (e != ATT_OK) return e;
    if (w.refused != ATT_OK) return w.refused;
    app_data_version_bump(); /* a new event: lists and reports change */
    return ATT_OK;
}
