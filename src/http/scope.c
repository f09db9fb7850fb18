/* Need-to-know: a principal (API token or console account) limited to departments sees and edits only
 * people of those departments and whatever names them: lists, reports, exports and streams leave the
 * others out, and a person, event, schedule, pattern, override or leave outside is answered exactly
 * like one that does not exist (no existence oracle). Only routes that apply the limit are open to
 * such a principal: the others refuse it (403), so a route added later cannot leak by forgetting it. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "attendd/store_people.h"
#include "attendd/store_rosters.h"

/* The handlers that apply the limit (or show nothing about people), by what they serve. */
static const struct {
    const char *serves;        /* what the handlers serve */
    http_handler handlers[14]; /* the first NULL ends them */
} aware[] = {
    {"identity and the console session: nothing about people",
     {http_whoami_get, http_session_get, http_session_delete}},
    {"people, their faces, consent, PIN, export and look-alikes",
     {http_people_list, http_people_create, http_people_get, http_people_update, http_people_erase, http_people_pin_set,
      http_people_export, http_people_lookalikes, http_faces_list, http_faces_enrol, http_faces_delete,
      http_consent_get, http_consent_record}},
    {"identification", {http_identify}},
    {"consent texts and the retention policy: nothing about people",
     {http_consent_texts_list, http_consent_texts_get, http_retention_get}},
    {"events, their stream, manual and kiosk punches",
     {http_events_list, http_events_stream, http_events_misidentified, http_punches_create, http_punches_void,
      http_kiosk_punch}},
    {"cameras and instances: nothing about people", {http_cameras_list, http_cameras_get, http_instances_list}},
    {"shifts and schedules",
     {http_shifts_list, http_shifts_get, http_schedules_list, http_schedules_get, http_schedules_create,
      http_schedules_update, http_schedules_delete}},
    {"attendance, roster, exceptions, pay periods and payroll",
     {http_attendance_get, http_roster_get, http_exceptions_list, http_exceptions_resolve, http_periods_list,
      http_payroll_get}},
    {"patterns, overrides, holidays and leave",
     {http_patterns_list, http_patterns_create, http_patterns_delete, http_overrides_list, http_overrides_create,
      http_overrides_delete, http_holidays_list, http_leave_list, http_leave_types_list, http_leave_create,
      http_leave_update, http_leave_delete}},
};

bool http_route_scoped_ok(const struct http_route *r)
{
    for (size_t i = 0; i < sizeof aware / sizeof aware[0]; i++)
        for (size_t k = 0; k < sizeof aware[i].handlers / sizeof aware[i].handlers[0] && aware[i].handlers[k]; k++)
            if (r->handler == aware[i].handlers[k]) return true;
    return false;
}

bool http_scoped(const struct http_request *req) { return req->token != NULL && req->token->n_departments > 0; }

bool http_sees_department(const struct http_request *req, const char *dept)
{
    return req->token == NULL || token_sees_department(req->token, dept);
}

att_err http_scope_departments(const struct http_request *req, struct http_response *resp, char **out)
{
    *out = NULL;
    if (!http_scoped(req)) return ATT_OK;
    bool nomem = false;
    *out = token_departments_json(req->token, &nomem);
    return nomem ? http_problem(resp, ATT_E_NOMEM, NULL, NULL) : ATT_OK;
}

att_err http_person_visible(struct http_request *req, PGconn *c, const char *id, struct person *out)
{
    att_err e = store_person_get(c, id, out);
    if (e != ATT_OK) return e;
    if (!http_sees_department(req, out->department)) {
        memset(out, 0, sizeof *out);
        return ATT_E_NOT_FOUND; /* outside the principal's departments: as if there were no such person */
    }
    return ATT_OK;
}

att_err http_person_load(struct http_request *req, struct http_response *resp, const char *action, const char *id,
                         PGconn **c, struct person *out)
{
    att_err e = http_req_db(req, resp, c);
    if (e != ATT_OK) return e;
    if ((e = http_person_visible(req, *c, id, out)) == ATT_OK) return ATT_OK;
    http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the person could not be read");
    return http_audit_refusal(req, action, id, e);
}

att_err http_person_check(struct http_request *req, struct http_response *resp, const char *action, const char *id)
{
    if (!http_scoped(req)) return ATT_OK;
    PGconn *c;
    struct person p;
    return http_person_load(req, resp, action, id, &c, &p);
}

/* The statement answering the department (a JSON string, "" for none) of what an id of each kind names. */
static const char *const owner_stmts[] = {
    [SCOPE_PERSON] = "scope_person_department",     [SCOPE_EVENT] = "scope_event_department",
    [SCOPE_SCHEDULE] = "scope_schedule_department", [SCOPE_PATTERN] = "scope_pattern_department",
    [SCOPE_OVERRIDE] = "scope_override_department", [SCOPE_LEAVE] = "scope_leave_department",
};

att_err http_scope_hidden(const struct http_request *req, PGconn *c, enum scope_owner kind, const char *id,
                          bool *hidden)
{
    *hidden = false;
    if (!http_scoped(req) || id == NULL || !att_uuid_valid(id)) return ATT_OK;
    json_t *dept = NULL;
    const char *v[1] = {id};
    att_err e = store_json_one(c, owner_stmts[kind], 1, v, &dept);
    if (e == ATT_E_NOT_FOUND) return ATT_OK; /* nothing there: the route answers its own 404 */
    if (e != ATT_OK) return e;
    *hidden = !http_sees_department(req, json_is_string(dept) ? json_string_value(dept) : "");
    json_decref(dept);
    return ATT_OK;
}

/* Whether item names only what the principal may see: its person (by id, in ids) or its department. */
static bool item_visible(const struct http_request *req, json_t *item, json_t *ids)
{
    static const char *const person_keys[] = {"person_id", "person_a", "person_b", NULL};
    bool names_one = false;
    for (size_t k = 0; person_keys[k]; k++) {
        const char *pid = json_string_value(json_object_get(item, person_keys[k]));
        if (pid == NULL) continue;
        names_one = true;
        if (json_object_get(ids, pid) == NULL) return false;
    }
    if (names_one) return true;
    json_t *d = json_object_get(item, "department");
    return json_is_string(d) && http_sees_department(req, json_string_value(d));
}

att_err http_scope_items(const struct http_request *req, struct http_response *resp, PGconn *c, json_t *items)
{
    if (!http_scoped(req) || json_array_size(items) == 0) return ATT_OK;
    char *deps;
    att_err e = http_scope_departments(req, resp, &deps);
    if (e != ATT_OK) return e;
    json_t *ids = NULL;
    const char *v[1] = {deps};
    e = store_json_one(c, "scope_people_ids", 1, v, &ids);
    free(deps);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the list could not be read");
    for (size_t i = json_array_size(items); i-- > 0;)
        if (!item_visible(req, json_array_get(items, i), ids)) json_array_remove(items, i);
    json_decref(ids);
    return ATT_OK;
}
