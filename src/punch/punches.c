/* Manual punches: a correction added or voided with its audit row in one transaction, then the data
 * version bumped (event lists and attendance reports change). */
#include "attendd/json.h"
#include "attendd/punch.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/data_version.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/store_events.h"
#include "attendd/time.h"

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

/* Whether p obeys the rules of struct punch_new at wall-clock second now_s. */
static bool punch_ok(const struct punch_new *p, int64_t now_s)
{
    return p->person_id && att_uuid_valid(p->person_id) && p->kind &&
        (strcmp(p->kind, "in") == 0 || strcmp(p->kind, "out") == 0) && p->ts && p->ts_us >= 0 &&
        p->ts_us / 1000000 <= now_s + PUNCH_MAX_FUTURE_S && p->reason && !blank(p->reason);
}

static char *detail_text(json_t *o)
{
    char *s = att_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

struct punch_write {
    const struct audit_actor *actor;
    const struct punch_new *add; /* add: the punch */
    const char *detail;          /* its audit detail */
    char *id;                    /* add: the new id; void: the punch */
};

static att_err audited(PGconn *c, const struct punch_write *w, const char *action, const char *detail)
{
    att_err e = store_audit_ok(c, w->actor, action, "event", w->id, detail);
    if (e != ATT_OK) log_error("punch", "audit row for %s not written: %s", action, att_err_code(e));
    return e;
}

static att_err run_add(PGconn *c, void *arg)
{
    struct punch_write *w = arg;
    const struct punch_new *p = w->add;
    att_err e = store_punch_insert(c, p->person_id, p->kind, p->ts_us, p->reason, w->actor->name, w->id);
    return e == ATT_OK ? audited(c, w, "punch.create", w->detail) : e;
}

att_err punch_add(PGconn *c, const struct audit_actor *a, const struct punch_new *p, char id[ATT_UUID_STR])
{
    id[0] = '\0';
    if (!punch_ok(p, att_time_wall_us() / 1000000)) return ATT_E_INVALID;
    char *detail = detail_text(json_pack("{s:s, s:s, s:s}", "person_id", p->person_id, "kind", p->kind, "ts", p->ts));
    if (detail == NULL) return ATT_E_NOMEM;
    struct punch_write w = {.actor = a, .add = p, .detail = detail, .id = id};
    att_err e = db_transaction(c, run_add, NULL, &w);
    free(detail);
    if (e != ATT_OK) {
        id[0] = '\0';
        return e;
    }
    app_data_version_bump();
    return ATT_OK;
}

static att_err run_void(PGconn *c, void *arg)
{
    struct punch_write *w = arg;
    char person[ATT_UUID_STR];
    att_err e = store_punch_void(c, w->id, person);
    if (e != ATT_OK) return e;
    char *detail = detail_text(json_pack("{s:o}", "person_id", person[0] ? json_string(person) : json_null()));
    e = detail ? audited(c, w, "punch.void", detail) : ATT_E_NOMEM;
    free(detail);
    return e;
}

att_err punch_void(PGconn *c, const struct audit_actor *a, const char *id)
{
    if (!att_uuid_valid(id)) return ATT_E_NOT_FOUND;
    char pid[ATT_UUID_STR];
    memcpy(pid, id, sizeof pid);
    struct punch_write w = {.actor = a, .id = pid};
    att_err e = db_transaction(c, run_void, NULL, &w);
    if (e == ATT_OK) app_data_version_bump();
    return e;
}
