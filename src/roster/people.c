/* People on the roster: create, update (the active flag reaching the gallery at once) and erase, each
 * change with its audit row in one transaction; the roster lock that orders gallery updates. */
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_consent.h"
#include "src/roster/roster_internal.h"

/* Two writes on one person (an enrolment and a deactivation, say) must reach the gallery in the order
 * their transactions committed. The writes are rare admin actions; holding it across a commit costs
 * nothing that matters. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void roster_lock(void) { pthread_mutex_lock(&lock); }
void roster_unlock(void) { pthread_mutex_unlock(&lock); }

/* One person write: inputs, outputs, and whether the change itself went through. */
struct person_write {
    const struct audit_actor *actor;
    const char *id;               /* the person (update, erase), canonical */
    const struct person_new *new; /* create */
    const struct person_patch *patch;
    const char *detail; /* the audit row's detail (update) */
    char *new_id;       /* create: the new id */
    struct person *out; /* update: the person as committed */
    size_t faces;       /* erase: templates deleted */
    bool changed;       /* the store call succeeded: a later failure is the audit row's */
};

static att_err audited(PGconn *c, struct person_write *w, const char *action, const char *target, const char *detail)
{
    w->changed = true;
    att_err e = store_audit_ok(c, w->actor, action, "person", target, detail);
    if (e != ATT_OK) log_error("roster", "audit row for %s not written: %s", action, att_err_code(e));
    return e;
}

/* The result of db_transaction for a person write: a failure after the change is the audit row's or
 * the commit's, and nothing was changed. */
static att_err finish(att_err e, const struct person_write *w)
{
    if (e != ATT_OK) return w->changed ? roster_unaudited(e) : e;
    app_data_version_bump(); /* names and erasures show in event lists and reports: new ETags */
    return ATT_OK;
}

static att_err run_create(PGconn *c, void *arg)
{
    struct person_write *w = arg;
    w->changed = false;
    att_err e = store_person_create(c, w->new, w->new_id);
    return e == ATT_OK ? audited(c, w, "person.create", w->new_id, NULL) : e;
}

att_err roster_person_create(const struct roster_deps *d, const struct audit_actor *a, const struct person_new *p,
                             char id[ATT_UUID_STR])
{
    if (person_new_invalid_field(p) != NULL) return ATT_E_INVALID;
    struct person_write w = {.actor = a, .new = p, .new_id = id};
    return finish(db_transaction(d->db, run_create, NULL, &w), &w);
}

/* {"fields":[...]}: the names of the fields a patch sets, never their values. */
static char *fields_detail(const struct person_patch *p)
{
    json_t *f = json_array();
    if (f == NULL) return NULL;
    if (p->employee_no) json_array_append_new(f, json_string("employee_no"));
    if (p->name) json_array_append_new(f, json_string("name"));
    if (p->department || p->clear_department) json_array_append_new(f, json_string("department"));
    if (p->title || p->clear_title) json_array_append_new(f, json_string("title"));
    if (p->set_active) json_array_append_new(f, json_string("active"));
    if (p->set_biometric) json_array_append_new(f, json_string("biometric"));
    if (p->badge_id || p->clear_badge) json_array_append_new(f, json_string("badge_id"));
    json_t *o = json_pack("{s:o}", "fields", f);
    char *s = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static att_err run_update(PGconn *c, void *arg)
{
    struct person_write *w = arg;
    const struct person_patch *p = w->patch;
    w->changed = false;
    w->faces = 0;
    att_err e;
    if (p->set_biometric && p->biometric) { /* back to the face: only with consent given */
        struct person cur;
        if ((e = store_person_get(c, w->id, &cur)) != ATT_OK) return e;
        if (strcmp(cur.consent, "given") != 0) return ATT_E_CONSENT_REQUIRED;
    }
    if ((e = store_person_update(c, w->id, p, w->out)) != ATT_OK) return e;
    if (!(p->set_biometric && !p->biometric)) return audited(c, w, "person.update", w->out->id, w->detail);
    /* an opt-out destroys the templates with the change: never matched again */
    if ((e = store_person_faces_delete(c, w->id, &w->faces)) != ATT_OK) return e;
    json_t *o = json_loads(w->detail, 0, NULL);
    if (o == NULL || json_object_set_new(o, "faces_deleted", json_integer((json_int_t)w->faces)) != 0) {
        json_decref(o);
        return ATT_E_NOMEM;
    }
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    e = detail ? audited(c, w, "person.update", w->out->id, detail) : ATT_E_NOMEM;
    free(detail);
    return e;
}

att_err roster_person_update(const struct roster_deps *d, const struct audit_actor *a, const char *id,
                             const struct person_patch *p, struct person *out)
{
    att_uuid u;
    if (!att_uuid_parse(id, &u)) return ATT_E_NOT_FOUND;
    if (person_patch_invalid_field(p) != NULL) return ATT_E_INVALID;
    char pid[ATT_UUID_STR];
    att_uuid_format(&u, pid);
    char *detail = fields_detail(p);
    if (detail == NULL) return ATT_E_NOMEM;
    struct person_write w = {.actor = a, .id = pid, .patch = p, .detail = detail, .out = out};
    roster_lock();
    att_err e = finish(db_transaction(d->db, run_update, NULL, &w), &w);
    if (e == ATT_OK && p->set_biometric && !p->biometric && d->gallery) {
        att_err g = gal_person_remove(d->gallery, pid);
        if (g != ATT_OK && g != ATT_E_NOT_FOUND)
            log_error("roster", "person %s: templates not removed from the gallery: %s", pid, att_err_code(g));
    }
    if (e == ATT_OK && p->set_active && d->gallery) {
        /* a person without faces is not in the gallery: nothing to change there */
        att_err g = gal_person_set_active(d->gallery, out->id, out->active);
        if (g != ATT_OK && g != ATT_E_NOT_FOUND)
            log_error("roster", "person %s: gallery active flag not updated: %s", out->id, att_err_code(g));
    }
    roster_unlock();
    free(detail);
    return e;
}

static att_err run_erase(PGconn *c, void *arg)
{
    struct person_write *w = arg;
    w->changed = false;
    att_err e = store_person_erase(c, w->id, &w->faces);
    if (e != ATT_OK) return e;
    json_t *o = json_pack("{s:I}", "faces_deleted", (json_int_t)w->faces);
    char *detail = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (detail == NULL) return ATT_E_NOMEM;
    e = audited(c, w, "person.erase", w->id, detail);
    free(detail);
    return e;
}

att_err roster_person_erase(const struct roster_deps *d, const struct audit_actor *a, const char *id, size_t *faces)
{
    if (faces) *faces = 0;
    att_uuid u;
    if (!att_uuid_parse(id, &u)) return ATT_E_NOT_FOUND;
    char pid[ATT_UUID_STR]; /* canonical lower case, as the gallery and the audit log hold ids */
    att_uuid_format(&u, pid);
    struct person_write w = {.actor = a, .id = pid};
    roster_lock();
    att_err e = finish(db_transaction(d->db, run_erase, NULL, &w), &w);
    if (e == ATT_OK && d->gallery) {
        /* at once: the next search, by the API or a camera, must no longer find this person */
        att_err g = gal_person_remove(d->gallery, pid);
        if (g != ATT_OK && g != ATT_E_NOT_FOUND)
            log_error("roster", "person %s: templates not removed from the gallery: %s", pid, att_err_code(g));
    }
    roster_unlock();
    if (e == ATT_OK && faces) *faces = w.faces;
    return e;
}
