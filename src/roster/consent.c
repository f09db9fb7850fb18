/* The consent register's use cases: add a consent text version, record a person's consent. A
 * withdrawal deletes the person's templates in the same transaction as the record and its audit
 * row, and the gallery forgets the person at once. */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_consent.h"
#include "src/roster/roster_internal.h"

struct text_write {
    const struct audit_actor *actor;
    const char *language, *body;
    struct consent_text **out;
    bool changed; /* the text is stored: a later failure is the audit row's */
};

static att_err run_text_add(PGconn *c, void *arg)
{
    struct text_write *w = arg;
    w->changed = false;
    free(*w->out);
    *w->out = NULL;
    att_err e = store_consent_text_add(c, w->language, w->body, w->actor->name, w->out);
    if (e != ATT_OK) return e;
    w->changed = true;
    char target[16];
    snprintf(target, sizeof target, "%d", (*w->out)->version);
    json_t *o = json_pack("{s:s}", "language", w->language);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    e = detail ? store_audit_ok(c, w->actor, "consent_text.create", "consent_text", target, detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) log_error("roster", "audit row for consent_text.create not written: %s", att_err_code(e));
    return e;
}

att_err roster_consent_text_add(const struct roster_deps *d, const struct audit_actor *a, const char *language,
                                const char *body, struct consent_text **out)
{
    *out = NULL;
    if (!consent_language_ok(language) || !consent_body_ok(body)) return ATT_E_INVALID;
    struct text_write w = {.actor = a, .language = language, .body = body, .out = out};
    att_err e = db_transaction(d->db, run_text_add, NULL, &w);
    if (e != ATT_OK) {
        free(*out);
        *out = NULL;
        return w.changed ? roster_unaudited(e) : e;
    }
    return ATT_OK;
}

struct consent_write {
    const struct audit_actor *actor;
    const char *person_id; /* canonical */
    enum consent_state state;
    int text_version;
    size_t faces; /* templates deleted (a withdrawal) */
    bool changed; /* the record is stored: a later failure is the audit row's */
};

static att_err run_record(PGconn *c, void *arg)
{
    struct consent_write *w = arg;
    w->changed = false;
    w->faces = 0;
    att_err e = store_consent_record(c, w->person_id, w->state, w->text_version, w->actor->token_id, w->actor->name);
    /* the templates go with the consent, in this transaction: never a moment with one and not the other */
    if (e == ATT_OK && w->state != CONSENT_GIVEN) e = store_person_faces_delete(c, w->person_id, &w->faces);
    if (e != ATT_OK) return e;
    w->changed = true;
    json_t *o = w->state == CONSENT_GIVEN
        ? json_pack("{s:i}", "text_version", w->text_version)
        : json_pack("{s:o, s:I}", "text_version", w->text_version > 0 ? json_integer(w->text_version) : json_null(),
                    "faces_deleted", (json_int_t)w->faces);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    const char *action = w->state == CONSENT_GIVEN ? "consent.give" : "consent.withdraw";
    e = detail ? store_audit_ok(c, w->actor, action, "person", w->person_id, detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) log_error("roster", "audit row for %s not written: %s", action, att_err_code(e));
    return e;
}

att_err roster_consent_record(const struct roster_deps *d, const struct audit_actor *a, const char *person_id,
                              enum consent_state state, int text_version, size_t *faces_deleted)
{
    if (faces_deleted) *faces_deleted = 0;
    att_uuid u;
    if (!att_uuid_parse(person_id, &u)) return ATT_E_NOT_FOUND;
    if ((state != CONSENT_GIVEN && state != CONSENT_WITHDRAWN) || text_version < 0 ||
        (state == CONSENT_GIVEN && text_version < 1))
        return ATT_E_INVALID;
    char pid[ATT_UUID_STR];
    att_uuid_format(&u, pid);
    struct consent_write w = {.actor = a, .person_id = pid, .state = state, .text_version = text_version};
    roster_lock();
    att_err e = db_transaction(d->db, run_record, NULL, &w);
    if (e == ATT_OK && state != CONSENT_GIVEN && d->gallery) {
        /* at once: the next search, by the API or a camera, must no longer find this person */
        att_err g = gal_person_remove(d->gallery, pid);
        if (g != ATT_OK && g != ATT_E_NOT_FOUND)
            log_error("roster", "person %s: templates not removed from the gallery: %s", pid, att_err_code(g));
    }
    roster_unlock();
    if (e != ATT_OK) return w.changed ? roster_unaudited(e) : e;
    if (faces_deleted) *faces_deleted = w.faces;
    app_data_version_bump();
    return ATT_OK;
}
