/* Roster patterns, overrides, holidays, leave and pay periods (admin writes, hr reads; leave and exception
 * resolutions: hr writes), the resolved roster (GET /api/v1/roster) and the open exceptions
 * (GET /api/v1/exceptions). Every write and its audit row commit together (src/roster/definitions.c);
 * a closed pay period refuses a change inside it with 409 period_closed. */
#include "csv.h"
#include "http_internal.h"
#include "negotiate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attendd/db.h"
#include "attendd/holiday_ics.h"
#include "attendd/json.h"
#include "attendd/payroll.h"
#include "attendd/payroll_source.h"
#include "attendd/log.h"
#include "attendd/text_buf.h"
#include "attendd/roster.h"
#include "attendd/store_rosters.h"
#include "attendd/store_shifts.h"
#include "attendd/time.h"
#include "attendd/timesheet.h"
#include "attendd/tz.h"

#define REASON_MAX 1000 /* *_reason_len in sql/006_rosters.sql */

/* ---- shared ------------------------------------------------------------------------------------------ */

/* The problem for a failed definition write; conflict_field names the member a 409 is about. */
static att_err def_problem(struct http_response *resp, att_err e, const struct roster_def_write *w, const char *what,
                           const char *conflict_field)
{
    if (e == ATT_E_NOT_FOUND && w->missing[0])
        return http_problem(resp, ATT_E_INVALID, w->missing, "'%s' names nothing that exists", w->missing);
    if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no %s with this id", what);
    if (e == ATT_E_PERIOD_CLOSED)
        return http_problem(resp, e, NULL, "a closed pay period covers this %s: reopen it first", what);
    if (e == ATT_E_CONFLICT) return http_problem(resp, e, conflict_field, "this %s exists already", what);
    if (e == ATT_E_INVALID) return http_problem(resp, e, NULL, "the database refused a value of this %s", what);
    return http_problem(resp, e, NULL, "the %s could not be stored", what);
}

/* Need to know: what a write names (the route's row or a person in its body) whose department the
 * principal may not see is answered exactly as if it did not exist. */
struct def_scope {
    enum scope_owner kind; /* what id names */
    const char *id;        /* the route's id or the body's person id; NULL: nothing to check */
    const char *field;     /* the body member naming it (422 as a missing referent); NULL: the route's id (404) */
};

/* Run w for the request and answer its row with status, or the problem. scope: NULL or what to check. */
static att_err def_answer(struct http_request *req, struct http_response *resp, struct roster_def_write *w,
                          unsigned status, const char *what, const char *conflict_field, const struct def_scope *scope)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    bool hidden = false;
    if (scope && (e = http_scope_hidden(req, c, scope->kind, scope->id, &hidden)) != ATT_OK)
        return http_problem(resp, e, NULL, "the %s could not be read", what);
    if (hidden) {
        if (scope->field) snprintf(w->missing, sizeof w->missing, "%s", scope->field);
        (void)http_audit_refusal(req, w->action, scope->field ? NULL : scope->id, ATT_E_NOT_FOUND);
        return def_problem(resp, ATT_E_NOT_FOUND, w, what, NULL);
    }
    struct audit_actor actor = http_actor(req);
    e = roster_def_write(c, &actor, w);
    if (e != ATT_OK) return def_problem(resp, e, w, what, conflict_field);
    if (status == MHD_HTTP_NO_CONTENT) {
        json_decref(w->row);
        return http_status(resp, status);
    }
    return http_json(resp, status, w->row);
}

/* owner: the kind of row, when people own it (need to know), else NULL. */
static att_err def_delete(struct http_request *req, struct http_response *resp, const char *stmt, const char *action,
                          const char *type, const char *what, const enum scope_owner *owner)
{
    const char *id = http_param(req, "id");
    if (!att_uuid_valid(id)) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no %s with this id", what);
    const char *v[1] = {id};
    struct roster_def_write w = {.action = action, .target_type = type, .stmt = stmt, .n = 1, .v = v};
    struct def_scope scope = {.kind = owner ? *owner : SCOPE_PERSON, .id = id};
    return def_answer(req, resp, &w, MHD_HTTP_NO_CONTENT, what, NULL, owner ? &scope : NULL);
}

/* A list statement's JSON array as {"items": [...]}. people: its items name people or departments (need
 * to know leaves out those of other departments). */
static att_err list_answer(struct http_request *req, struct http_response *resp, const char *stmt, int n,
                           const char *const *v, bool people)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    json_t *items;
    if ((e = store_json_one(c, stmt, n, v, &items)) != ATT_OK)
        return http_problem(resp, e, NULL, "the list could not be read");
    if (people && (e = http_scope_items(req, resp, c, items)) != ATT_OK) {
        json_decref(items);
        return e;
    }
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* from/to query parameters (required, to not before from, at most 366 days). */
static att_err range_query(struct http_request *req, struct http_response *resp, struct http_field *extra,
                           int64_t *from, int64_t *to, const char **from_s, const char **to_s)
{
    struct http_field spec[8] = {
        {.name = "from", .type = HV_DATE, .required = true, .max_len = 10, .days = from, .text = from_s},
        {.name = "to", .type = HV_DATE, .required = true, .max_len = 10, .days = to, .text = to_s},
    };
    size_t n = 2;
    while (extra && extra->name && n < 7) spec[n++] = *extra++;
    spec[n] = (struct http_field){NULL};
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e != ATT_OK) return e;
    if (*to < *from) return http_problem(resp, ATT_E_INVALID, "to", "query parameter 'to' must not be before 'from'");
    if (*to - *from >= 366) return http_problem(resp, ATT_E_INVALID, "to", "query parameter 'to': at most 366 days");
    return ATT_OK;
}

static void date_text(int64_t days, char out[ATT_DATE_TEXT]) { (void)att_time_date_format(days, out); }

/* ---- patterns ------------------------------------------------------------------------------------------ */

static const char *const pattern_kinds[] = {"weekly", "rotation", NULL};

/* cycle: an array of days, each an array of at most PLAN_MAX_SHIFTS shift uuids. */
static bool cycle_ok(json_t *cy, int kind, char *why, size_t whylen)
{
    size_t n = json_array_size(cy);
    if (kind == 0 && n != 7) {
        snprintf(why, whylen, "a weekly cycle has 7 days, Monday to Sunday");
        return false;
    }
    if (n < 1 || n > PLAN_MAX_CYCLE) {
        snprintf(why, whylen, "a rotation has 1 to %d days", PLAN_MAX_CYCLE);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(cy, i);
        if (!json_is_array(d) || json_array_size(d) > PLAN_MAX_SHIFTS) {
            snprintf(why, whylen, "day %zu must be an array of at most %d shift ids", i, PLAN_MAX_SHIFTS);
            return false;
        }
        for (size_t k = 0; k < json_array_size(d); k++)
            if (!att_uuid_valid(json_string_value(json_array_get(d, k)))) {
                snprintf(why, whylen, "day %zu: shift ids must be uuids", i);
                return false;
            }
    }
    return true;
}

att_err http_patterns_create(struct http_request *req, struct http_response *resp)
{
    const char *dept = NULL, *person = NULL, *from_s = NULL, *to_s = NULL, *anchor_s = NULL, *kind_s = NULL;
    int64_t from = 0, to = 0, anchor = 0;
    int kind = 0;
    json_t *cycle = NULL, *doc;
    const struct http_field spec[] = {
        {.name = "department",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = SCHED_DEPT_MAX - 1,
         .max_chars = 200,
         .rule = "must be 1 to 200 printable characters",
         .text = &dept},
        {.name = "person_id", .type = HV_UUID, .text = &person},
        {.name = "kind", .type = HV_ENUM, .required = true, .one_of = pattern_kinds, .index = &kind, .text = &kind_s},
        {.name = "anchor", .type = HV_DATE, .days = &anchor, .text = &anchor_s},
        {.name = "valid_from", .type = HV_DATE, .required = true, .days = &from, .text = &from_s},
        {.name = "valid_to", .type = HV_DATE, .nullable = true, .days = &to, .text = &to_s},
        {.name = "cycle", .type = HV_ARRAY, .required = true, .json = &cycle},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    char why[128];
    if ((dept == NULL) == (person == NULL))
        e = http_problem(resp, ATT_E_INVALID, dept ? "person_id" : "department",
                         "exactly one of 'department' and 'person_id' is required");
    else if (to_s && to < from)
        e = http_problem(resp, ATT_E_INVALID, "valid_to", "'valid_to' must not be before 'valid_from'");
    else if (kind == 1 && !anchor_s)
        e = http_problem(resp, ATT_E_INVALID, "anchor", "a rotation needs 'anchor': the date of its first day");
    else if (!cycle_ok(cycle, kind, why, sizeof why)) e = http_problem(resp, ATT_E_INVALID, "cycle", "'cycle' %s", why);
    else if (dept && !http_sees_department(req, dept))
        e = http_problem(resp, ATT_E_INVALID, "department", "'department' is outside this token's departments");
    char *cy = e == ATT_OK ? att_json_dumps(cycle, JSON_COMPACT) : NULL;
    if (e == ATT_OK && !cy) e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    if (e == ATT_OK) {
        const char *rv[2] = {person, cy};
        const char *v[7] = {dept, person, kind_s, kind == 1 ? anchor_s : NULL, from_s, to_s, cy};
        struct roster_def_write w = {.action = "roster_pattern.create",
                                     .target_type = "roster_pattern",
                                     .refs_stmt = "roster_pattern_refs",
                                     .refs_n = 2,
                                     .refs_v = rv,
                                     .stmt = "roster_pattern_insert",
                                     .n = 7,
                                     .v = v};
        struct def_scope scope = {.kind = SCOPE_PERSON, .id = person, .field = "person_id"};
        e = def_answer(req, resp, &w, MHD_HTTP_CREATED, "pattern", NULL, &scope);
    }
    free(cy);
    json_decref(doc);
    return e;
}

att_err http_patterns_list(struct http_request *req, struct http_response *resp)
{
    const char *dept = NULL, *person = NULL;
    const struct http_field spec[] = {
        {.name = "department", .type = HV_TEXT, .min_len = 1, .max_len = SCHED_DEPT_MAX - 1, .text = &dept},
        {.name = "person_id", .type = HV_UUID, .max_len = 36, .text = &person},
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e != ATT_OK) return e;
    const char *v[2] = {dept, person};
    return list_answer(req, resp, "roster_pattern_list", 2, v, true);
}

att_err http_patterns_delete(struct http_request *req, struct http_response *resp)
{
    static const enum scope_owner owner = SCOPE_PATTERN;
    return def_delete(req, resp, "roster_pattern_delete", "roster_pattern.delete", "roster_pattern", "pattern", &owner);
}

/* ---- overrides ------------------------------------------------------------------------------------------ */

att_err http_overrides_create(struct http_request *req, struct http_response *resp)
{
    const char *person = NULL, *date_s = NULL, *reason = NULL;
    int64_t day = 0;
    json_t *shifts = NULL, *doc;
    const struct http_field spec[] = {
        {.name = "person_id", .type = HV_UUID, .required = true, .text = &person},
        {.name = "date", .type = HV_DATE, .required = true, .days = &day, .text = &date_s},
        {.name = "shift_ids", .type = HV_ARRAY, .required = true, .json = &shifts},
        {.name = "reason",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = 4 * REASON_MAX,
         .max_chars = REASON_MAX,
         .rule = "must be 1 to 1000 printable characters",
         .text = &reason},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    bool ok = json_array_size(shifts) <= PLAN_MAX_SHIFTS;
    for (size_t i = 0; ok && i < json_array_size(shifts); i++)
        ok = att_uuid_valid(json_string_value(json_array_get(shifts, i)));
    if (!ok) e = http_problem(resp, ATT_E_INVALID, "shift_ids", "'shift_ids' must be an array of at most 4 shift ids");
    char *ids = e == ATT_OK ? att_json_dumps(shifts, JSON_COMPACT) : NULL;
    if (e == ATT_OK && !ids) e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    if (e == ATT_OK) {
        const char *rv[2] = {person, ids};
        const char *v[4] = {person, date_s, ids, reason};
        struct roster_def_write w = {.action = "roster_override.create",
                                     .target_type = "roster_override",
                                     .refs_stmt = "roster_override_refs",
                                     .refs_n = 2,
                                     .refs_v = rv,
                                     .stmt = "roster_override_insert",
                                     .n = 4,
                                     .v = v};
        struct def_scope scope = {.kind = SCOPE_PERSON, .id = person, .field = "person_id"};
        e = def_answer(req, resp, &w, MHD_HTTP_CREATED, "override", "date", &scope);
    }
    free(ids);
    json_decref(doc);
    return e;
}

att_err http_overrides_list(struct http_request *req, struct http_response *resp)
{
    int64_t from, to;
    const char *from_s = NULL, *to_s = NULL, *person = NULL;
    struct http_field extra[] = {{.name = "person_id", .type = HV_UUID, .max_len = 36, .text = &person}, {NULL}};
    att_err e = range_query(req, resp, extra, &from, &to, &from_s, &to_s);
    if (e != ATT_OK) return e;
    const char *v[3] = {from_s, to_s, person};
    return list_answer(req, resp, "roster_override_list", 3, v, true);
}

att_err http_overrides_delete(struct http_request *req, struct http_response *resp)
{
    static const enum scope_owner owner = SCOPE_OVERRIDE;
    return def_delete(req, resp, "roster_override_delete", "roster_override.delete", "roster_override", "override",
                      &owner);
}

/* ---- holidays ------------------------------------------------------------------------------------------- */

att_err http_holidays_create(struct http_request *req, struct http_response *resp)
{
    const char *date_s = NULL, *name = NULL;
    int64_t day;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "date", .type = HV_DATE, .required = true, .days = &day, .text = &date_s},
        {.name = "name",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 800,
         .max_chars = 200,
         .rule = "must be 1 to 200 printable characters",
         .text = &name},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    const char *v[2] = {date_s, name};
    struct roster_def_write w = {
        .action = "holiday.create", .target_type = "holiday", .stmt = "holiday_insert", .n = 2, .v = v};
    e = def_answer(req, resp, &w, MHD_HTTP_CREATED, "holiday", "date", NULL);
    json_decref(doc);
    return e;
}

att_err http_holidays_list(struct http_request *req, struct http_response *resp)
{
    int64_t from, to;
    const char *from_s = NULL, *to_s = NULL;
    att_err e = range_query(req, resp, NULL, &from, &to, &from_s, &to_s);
    if (e != ATT_OK) return e;
    const char *v[2] = {from_s, to_s};
    return list_answer(req, resp, "holiday_list", 2, v, false);
}

att_err http_holidays_delete(struct http_request *req, struct http_response *resp)
{
    return def_delete(req, resp, "holiday_delete", "holiday.delete", "holiday", "holiday", NULL);
}

/* ---- leave ------------------------------------------------------------------------------------------------ */

static const char *const leave_states[] = {"requested", "approved", "rejected", NULL};

att_err http_leave_create(struct http_request *req, struct http_response *resp)
{
    const char *person = NULL, *type = NULL, *from_s = NULL, *to_s = NULL, *start = NULL, *end = NULL,
               *state = "requested";
    int64_t from = 0, to = 0;
    int smin = 0, emin = 0;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "person_id", .type = HV_UUID, .required = true, .text = &person},
        {.name = "type",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 32,
         .rule = "must name a leave type (GET /api/v1/leave/types)",
         .text = &type},
        {.name = "from", .type = HV_DATE, .required = true, .days = &from, .text = &from_s},
        {.name = "to", .type = HV_DATE, .required = true, .days = &to, .text = &to_s},
        {.name = "start", .type = HV_TIME, .minutes = &smin, .text = &start},
        {.name = "end", .type = HV_TIME, .minutes = &emin, .text = &end},
        {.name = "state", .type = HV_ENUM, .one_of = leave_states, .text = &state},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    if (to < from) e = http_problem(resp, ATT_E_INVALID, "to", "'to' must not be before 'from'");
    else if ((start == NULL) != (end == NULL))
        e = http_problem(resp, ATT_E_INVALID, start ? "end" : "start", "a part day needs both 'start' and 'end'");
    else if (start && emin <= smin) e = http_problem(resp, ATT_E_INVALID, "end", "'end' must be after 'start'");
    if (e == ATT_OK) {
        const char *rv[2] = {person, type};
        const char *v[7] = {person, type, from_s, to_s, start, end, state};
        struct roster_def_write w = {.action = "leave.create",
                                     .target_type = "leave",
                                     .refs_stmt = "leave_refs",
                                     .refs_n = 2,
                                     .refs_v = rv,
                                     .stmt = "leave_insert",
                                     .n = 7,
                                     .v = v};
        struct def_scope scope = {.kind = SCOPE_PERSON, .id = person, .field = "person_id"};
        e = def_answer(req, resp, &w, MHD_HTTP_CREATED, "leave", NULL, &scope);
    }
    json_decref(doc);
    return e;
}

att_err http_leave_list(struct http_request *req, struct http_response *resp)
{
    int64_t from, to;
    const char *from_s = NULL, *to_s = NULL, *person = NULL;
    struct http_field extra[] = {{.name = "person_id", .type = HV_UUID, .max_len = 36, .text = &person}, {NULL}};
    att_err e = range_query(req, resp, extra, &from, &to, &from_s, &to_s);
    if (e != ATT_OK) return e;
    const char *v[3] = {from_s, to_s, person};
    return list_answer(req, resp, "leave_list", 3, v, true);
}

/* PATCH {"state": ...}: approve or reject. */
att_err http_leave_update(struct http_request *req, struct http_response *resp)
{
    const char *state = NULL;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "state", .type = HV_ENUM, .required = true, .one_of = leave_states, .text = &state}, {NULL}};
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    if (!att_uuid_valid(id)) e = http_problem(resp, ATT_E_NOT_FOUND, NULL, "no leave with this id");
    if (e == ATT_OK) {
        const char *v[2] = {id, state};
        char detail[64];
        snprintf(detail, sizeof detail, "{\"state\":\"%s\"}", state); /* one of leave_states: no escaping */
        struct roster_def_write w = {.action = "leave.update",
                                     .target_type = "leave",
                                     .stmt = "leave_set_state",
                                     .n = 2,
                                     .v = v,
                                     .detail = detail};
        struct def_scope scope = {.kind = SCOPE_LEAVE, .id = id};
        e = def_answer(req, resp, &w, MHD_HTTP_OK, "leave", NULL, &scope);
    }
    json_decref(doc);
    return e;
}

att_err http_leave_types_list(struct http_request *req, struct http_response *resp)
{
    return list_answer(req, resp, "leave_type_list", 0, NULL, false);
}

/* POST /api/v1/leave/types {"code", "paid"}: a new leave type (at most PAY_MAX_LEAVE_TYPES). */
att_err http_leave_types_create(struct http_request *req, struct http_response *resp)
{
    const char *code = NULL;
    bool paid = false;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "code",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 32,
         .rule = "must be 1 to 32 of a-z, 0-9 and _, starting with a letter",
         .text = &code},
        {.name = "paid", .type = HV_BOOL, .required = true, .flag = &paid},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    bool ok = code[0] >= 'a' && code[0] <= 'z';
    for (const char *p = code; ok && *p; p++) ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok)
        e = http_problem(resp, ATT_E_INVALID, "code",
                         "'code' must be 1 to 32 of a-z, 0-9 and _, starting with a letter");
    if (e == ATT_OK) {
        char detail[96];
        snprintf(detail, sizeof detail, "{\"code\":\"%s\",\"paid\":%s}", code, paid ? "true" : "false");
        const char *v[2] = {code, paid ? "true" : "false"};
        struct roster_def_write w = {.action = "leave_type.create",
                                     .target_type = "leave_type",
                                     .stmt = "leave_type_insert",
                                     .n = 2,
                                     .v = v,
                                     .detail = detail};
        PGconn *c;
        if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
            struct audit_actor actor = http_actor(req);
            e = roster_def_write(c, &actor, &w);
            if (e == ATT_E_NOT_FOUND)
                e = http_problem(resp, ATT_E_INVALID, "code", "there are %d leave types already", PAY_MAX_LEAVE_TYPES);
            else if (e != ATT_OK) e = def_problem(resp, e, &w, "leave type", "code");
            else e = http_json(resp, MHD_HTTP_CREATED, w.row);
        }
    }
    json_decref(doc);
    return e;
}

att_err http_leave_delete(struct http_request *req, struct http_response *resp)
{
    static const enum scope_owner owner = SCOPE_LEAVE;
    return def_delete(req, resp, "leave_delete", "leave.delete", "leave", "leave", &owner);
}

/* ---- pay periods ------------------------------------------------------------------------------------------ */

att_err http_periods_create(struct http_request *req, struct http_response *resp)
{
    const char *name = NULL, *from_s = NULL, *to_s = NULL;
    int64_t from = 0, to = 0;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "name",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 400,
         .max_chars = 100,
         .rule = "must be 1 to 100 printable characters",
         .text = &name},
        {.name = "from", .type = HV_DATE, .required = true, .days = &from, .text = &from_s},
        {.name = "to", .type = HV_DATE, .required = true, .days = &to, .text = &to_s},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    const att_tz *tz;
    if (to < from || to - from >= 62)
        e = http_problem(resp, ATT_E_INVALID, "to", "'to' must be 0 to 61 days after 'from'");
    else if (http_zone_get(req->deps->cfg->timezone, &tz) != ATT_OK)
        e = http_problem(resp, ATT_E_CONFIG, NULL, "the configured timezone is not usable");
    if (e == ATT_OK) {
        char fts[24], tts[24];
        snprintf(fts, sizeof fts, "%" PRId64, att_tz_to_utc(tz, from * ATT_DAY_S) * 1000000);
        snprintf(tts, sizeof tts, "%" PRId64, att_tz_to_utc(tz, (to + 1) * ATT_DAY_S) * 1000000);
        const char *v[5] = {name, from_s, to_s, fts, tts};
        struct roster_def_write w = {
            .action = "period.create", .target_type = "period", .stmt = "period_insert", .n = 5, .v = v};
        e = def_answer(req, resp, &w, MHD_HTTP_CREATED, "period", "from", NULL);
    }
    json_decref(doc);
    return e;
}

att_err http_periods_list(struct http_request *req, struct http_response *resp)
{
    return list_answer(req, resp, "period_list", 0, NULL, false);
}

/* Close or reopen: a reason is required, and goes to the audit row. */
static att_err period_switch(struct http_request *req, struct http_response *resp, bool close)
{
    const char *reason = NULL;
    json_t *doc;
    const struct http_field spec[] = {{.name = "reason",
                                       .type = HV_TEXT,
                                       .required = true,
                                       .min_len = 1,
                                       .max_len = 4 * REASON_MAX,
                                       .max_chars = REASON_MAX,
                                       .rule = "must say why, 1 to 1000 printable characters",
                                       .text = &reason},
                                      {NULL}};
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    json_t *d = json_pack("{s:s}", "reason", reason);
    char *detail = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (!att_uuid_valid(id)) e = http_problem(resp, ATT_E_NOT_FOUND, NULL, "no period with this id");
    else if (!detail) e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    const struct att_config *cfg = req->deps->cfg;
    struct pay_rules rules;
    pay_rules_defaults(&rules);
    const att_tz *tz = NULL;
    if (e == ATT_OK &&
        (!att_time_hhmm_parse(cfg->day_cutoff, &rules.cutoff_min) || http_zone_get(cfg->timezone, &tz) != ATT_OK))
        e = http_problem(resp, ATT_E_CONFIG, NULL, "the configured timezone or day_cutoff is not usable");
    PGconn *c = NULL;
    if (e == ATT_OK) e = http_req_db(req, resp, &c);
    if (e == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        json_t *row = NULL;
        e = roster_period_switch(c, &actor, id, close, detail, tz, &rules, &row);
        if (e == ATT_E_NOT_FOUND) {
            json_t *x = NULL;
            const char *pv[1] = {id};
            att_err k = store_json_one(c, "period_exists", 1, pv, &x);
            json_decref(x);
            e = k == ATT_OK
                ? http_problem(resp, ATT_E_CONFLICT, NULL, "the period is %s already", close ? "closed" : "open")
                : http_problem(resp, ATT_E_NOT_FOUND, NULL, "no period with this id");
        } else if (e != ATT_OK) {
            e = http_problem(resp, e, NULL, "the period could not be %s", close ? "closed" : "reopened");
        } else {
            e = http_json(resp, MHD_HTTP_OK, row);
        }
    }
    free(detail);
    json_decref(doc);
    return e;
}

att_err http_periods_close(struct http_request *req, struct http_response *resp)
{
    return period_switch(req, resp, true);
}
att_err http_periods_reopen(struct http_request *req, struct http_response *resp)
{
    return period_switch(req, resp, false);
}

/* ---- the site's pay rule set ------------------------------------------------------------------------------ */

att_err http_pay_rules_get(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    json_t *row;
    if ((e = store_json_one(c, "pay_rules_get", 0, NULL, &row)) != ATT_OK)
        return http_problem(resp, e, NULL, "the pay rules could not be read");
    return http_json(resp, MHD_HTTP_OK, row);
}

/* PATCH {"night_start", "night_end", "daily_overtime_after_minutes", "weekly_overtime_after_minutes",
 * "min_rest_minutes"}: the members given change, the others stay. */
att_err http_pay_rules_update(struct http_request *req, struct http_response *resp)
{
    const char *ns = NULL, *ne = NULL;
    long long daily = 0, weekly = 0, rest = 0;
    bool has_daily = false, has_weekly = false, has_rest = false;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "night_start", .type = HV_TIME, .text = &ns},
        {.name = "night_end", .type = HV_TIME, .text = &ne},
        {.name = "daily_overtime_after_minutes",
         .type = HV_INT,
         .min = 0,
         .max = 1440,
         .rule = "must be 0 (the scheduled net) to 1440 minutes",
         .integer = &daily,
         .seen = &has_daily},
        {.name = "weekly_overtime_after_minutes",
         .type = HV_INT,
         .min = 0,
         .max = 7 * 1440,
         .rule = "must be 0 (no weekly tier) to 10080 minutes",
         .integer = &weekly,
         .seen = &has_weekly},
        {.name = "min_rest_minutes",
         .type = HV_INT,
         .min = 0,
         .max = 1440,
         .rule = "must be 0 (no check) to 1440 minutes",
         .integer = &rest,
         .seen = &has_rest},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    char d[24], w[24], r[24];
    snprintf(d, sizeof d, "%lld", daily);
    snprintf(w, sizeof w, "%lld", weekly);
    snprintf(r, sizeof r, "%lld", rest);
    const char *v[5] = {ns, ne, has_daily ? d : NULL, has_weekly ? w : NULL, has_rest ? r : NULL};
    char *detail = att_json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS); /* times and integers only */
    struct roster_def_write wr = {.action = "pay_rules.update",
                                  .target_type = "pay_rules",
                                  .stmt = "pay_rules_set",
                                  .n = 5,
                                  .v = v,
                                  .detail = detail};
    e = detail ? def_answer(req, resp, &wr, MHD_HTTP_OK, "pay rule set", NULL, NULL)
               : http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    free(detail);
    json_decref(doc);
    return e;
}

/* ---- the resolved roster and the exceptions ------------------------------------------------------------ */

struct sheet_query {
    int64_t from, to;
    const char *from_s, *to_s, *department, *person_id;
    bool has_person;
    att_uuid person;
};

/* The query, the zone and the loaded timesheet; writes the problem on failure. */
static att_err sheet_open(struct http_request *req, struct http_response *resp, bool punches, struct sheet_query *q,
                          const att_tz **tz, PGconn **c, timesheet **out)
{
    *out = NULL;
    struct http_field extra[] = {
        {.name = "department",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = SCHED_DEPT_MAX - 1,
         .rule = "must not be empty",
         .text = &q->department},
        HTTP_UUID_PARAM("person_id", &q->person, &q->has_person, &q->person_id),
        {NULL},
    };
    att_err e = range_query(req, resp, extra, &q->from, &q->to, &q->from_s, &q->to_s);
    if (e != ATT_OK) return e;
    const struct att_config *cfg = req->deps->cfg;
    if (q->to - q->from + 1 > cfg->report_max_days)
        return http_problem(resp, ATT_E_INVALID, "to",
                            "query parameter 'to': the range is over %d days (report_max_days)", cfg->report_max_days);
    struct pay_rules rules;
    pay_rules_defaults(&rules);
    if (!att_time_hhmm_parse(cfg->day_cutoff, &rules.cutoff_min) || http_zone_get(cfg->timezone, tz) != ATT_OK)
        return http_problem(resp, ATT_E_CONFIG, NULL, "the configured timezone or day_cutoff is not usable");
    if ((e = http_req_db(req, resp, c)) != ATT_OK) return e;
    if (q->department) {
        bool known = false; /* need to know: a department outside the principal's is answered as unknown */
        if ((e = store_report_department_known(*c, q->department, &known)) != ATT_OK)
            return http_problem(resp, e, NULL, "the roster could not be read");
        if (!known || !http_sees_department(req, q->department))
            return http_problem(resp, ATT_E_INVALID, "department",
                                "query parameter 'department' names no department of any person or schedule");
    }
    e = timesheet_load(*c, *tz, &rules, q->from, q->to, q->department, q->has_person ? &q->person : NULL, punches, out);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the roster could not be read");
    if (q->has_person &&
        (timesheet_people(*out) == 0 || !http_sees_department(req, timesheet_person(*out, 0)->department))) {
        timesheet_free(*out);
        *out = NULL;
        return http_problem(resp, ATT_E_INVALID, "person_id", "query parameter 'person_id' names no person");
    }
    return ATT_OK;
}

static json_t *person_members(const struct rep_person *p)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "person_id", p->id, "employee_no", p->employee_no, "name", p->name,
                     "department", p->department[0] ? json_string(p->department) : json_null());
}

/* Audit a read of people's roster or exceptions; fail closed when the row cannot be written. */
static att_err audit_read(struct http_request *req, struct http_response *resp, const char *action,
                          const struct sheet_query *q, size_t rows)
{
    json_t *d = json_pack("{s:s, s:s, s:o, s:o, s:I}", "from", q->from_s, "to", q->to_s, "department",
                          q->department ? json_string(q->department) : json_null(), "person_id",
                          q->person_id ? json_string(q->person_id) : json_null(), "rows", (json_int_t)rows);
    char *txt = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    att_err e = txt ? http_audit(req, action, q->person_id ? "person" : NULL, q->person_id, "ok", txt) : ATT_E_NOMEM;
    free(txt);
    if (e != ATT_OK)
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    return ATT_OK;
}

att_err http_roster_get(struct http_request *req, struct http_response *resp)
{
    struct sheet_query q = {0};
    const att_tz *tz;
    PGconn *c;
    timesheet *t;
    att_err e = sheet_open(req, resp, false, &q, &tz, &c, &t);
    if (e != ATT_OK) return e;
    size_t nd = timesheet_days(t), np = timesheet_people(t);
    struct timesheet_day *days = calloc(nd, sizeof *days);
    json_t *items = json_array();
    if (!days || !items) e = ATT_E_NOMEM;
    for (size_t i = 0; e == ATT_OK && i < np; i++) {
        if (!http_sees_department(req, timesheet_person(t, i)->department)) continue; /* need to know */
        if ((e = timesheet_compute(t, i, days)) != ATT_OK) break;
        json_t *o = person_members(timesheet_person(t, i)), *dl = json_array();
        for (size_t k = 0; o && dl && k < nd; k++) {
            const struct pay_day *d = &days[k].pay;
            char date[ATT_DATE_TEXT], s[ATT_TZ_TEXT], en[ATT_TZ_TEXT];
            date_text(d->day, date);
            json_t *sh = json_array();
            for (size_t x = 0; sh && x < d->nshifts; x++) {
                const struct timesheet_shift *ts = timesheet_shift_at(t, d->shift_index[x]);
                att_tz_format(tz, d->start_us[x], s);
                att_tz_format(tz, d->end_us[x], en);
                json_array_append_new(
                    sh, json_pack("{s:s, s:s, s:s, s:s}", "id", ts->id, "name", ts->name, "start", s, "end", en));
            }
            const char *lc = d->leave_type >= 0 ? timesheet_leave_code(t, d->leave_type) : NULL;
            json_array_append_new(dl,
                                  json_pack("{s:s, s:s, s:o, s:b, s:o, s:I}", "date", date, "source",
                                            plan_source_name(days[k].source), "shifts", sh ? sh : json_null(),
                                            "holiday", d->holiday, "leave", lc ? json_string(lc) : json_null(),
                                            "scheduled_minutes", (json_int_t)d->scheduled_min));
        }
        if (!o || !dl || json_object_set_new(o, "days", dl) != 0 || json_array_append_new(items, o) != 0)
            e = ATT_E_NOMEM;
    }
    free(days);
    timesheet_free(t);
    if (e != ATT_OK) {
        json_decref(items);
        return http_problem(resp, e, NULL, "the roster could not be computed");
    }
    if ((e = audit_read(req, resp, "roster.read", &q, np * nd)) != ATT_OK) {
        json_decref(items);
        return e;
    }
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:s, s:s, s:s, s:o}", "from", q.from_s, "to", q.to_s, "timezone",
                               req->deps->cfg->timezone, "items", items));
}

att_err http_exceptions_list(struct http_request *req, struct http_response *resp)
{
    struct sheet_query q = {0};
    const att_tz *tz;
    PGconn *c;
    timesheet *t;
    att_err e = sheet_open(req, resp, true, &q, &tz, &c, &t);
    if (e != ATT_OK) return e;
    size_t nd = timesheet_days(t), np = timesheet_people(t), rows = 0;
    struct timesheet_day *days = calloc(nd, sizeof *days);
    json_t *items = json_array();
    if (!days || !items) e = ATT_E_NOMEM;
    for (size_t i = 0; e == ATT_OK && i < np; i++) {
        const struct rep_person *p = timesheet_person(t, i);
        if (!http_sees_department(req, p->department)) continue; /* need to know */
        if ((e = timesheet_compute(t, i, days)) != ATT_OK) break;
        for (size_t k = 0; e == ATT_OK && k < nd; k++) {
            const struct pay_day *d = &days[k].pay;
            for (size_t x = 0; x < d->nexc; x++) {
                if (days[k].resolved & (1u << d->exc[x].kind)) continue;
                char date[ATT_DATE_TEXT];
                date_text(d->day, date);
                json_t *o = person_members(p);
                if (!o ||
                    json_object_update_new(
                        o,
                        json_pack("{s:s, s:s, s:s, s:I, s:s}", "date", date, "kind", pay_exception_name(d->exc[x].kind),
                                  "severity", pay_severity_name(d->exc[x].severity), "minutes",
                                  (json_int_t)d->exc[x].minutes, "status", pay_status_name(d->status))) != 0 ||
                    json_array_append_new(items, o) != 0) {
                    e = ATT_E_NOMEM;
                    break;
                }
                rows++;
            }
        }
    }
    free(days);
    timesheet_free(t);
    if (e != ATT_OK) {
        json_decref(items);
        return http_problem(resp, e, NULL, "the exceptions could not be computed");
    }
    if ((e = audit_read(req, resp, "exceptions.read", &q, rows)) != ATT_OK) {
        json_decref(items);
        return e;
    }
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:s, s:s, s:o}", "from", q.from_s, "to", q.to_s, "items", items));
}

static const char *const exc_kinds[] = {"missing_out",          "late",       "early_leave",         "absent",
                                        "unscheduled_presence", "short_rest", "overtime_unapproved", NULL};
static const char *const exc_actions[] = {"accept", "approve_overtime", "corrected", "mark_leave", NULL};

att_err http_exceptions_resolve(struct http_request *req, struct http_response *resp)
{
    const char *person = NULL, *date_s = NULL, *kind = NULL, *action = NULL, *reason = NULL;
    int64_t day;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "person_id", .type = HV_UUID, .required = true, .text = &person},
        {.name = "date", .type = HV_DATE, .required = true, .days = &day, .text = &date_s},
        {.name = "kind", .type = HV_ENUM, .required = true, .one_of = exc_kinds, .text = &kind},
        {.name = "action", .type = HV_ENUM, .required = true, .one_of = exc_actions, .text = &action},
        {.name = "reason",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 4 * REASON_MAX,
         .max_chars = REASON_MAX,
         .rule = "must say why, 1 to 1000 printable characters",
         .text = &reason},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    if (strcmp(action, "approve_overtime") == 0 && strcmp(kind, "overtime_unapproved") != 0)
        e = http_problem(resp, ATT_E_INVALID, "action", "'approve_overtime' resolves only 'overtime_unapproved'");
    if (e == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "date", date_s, "kind", kind, "action", action, "reason", reason);
        char *detail = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        const char *rv[1] = {person};
        const char *v[6] = {person, date_s, kind, action, reason, actor.name};
        struct roster_def_write w = {.action = "exception.resolve",
                                     .target_type = "exception",
                                     .refs_stmt = "exception_refs",
                                     .refs_n = 1,
                                     .refs_v = rv,
                                     .stmt = "exception_resolve",
                                     .n = 6,
                                     .v = v,
                                     .detail = detail};
        struct def_scope scope = {.kind = SCOPE_PERSON, .id = person, .field = "person_id"};
        e = detail ? def_answer(req, resp, &w, MHD_HTTP_CREATED, "resolution", "kind", &scope)
                   : http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        free(detail);
    }
    json_decref(doc);
    return e;
}

/* ---- holiday calendar import ---------------------------------------------------------------------------- */

/* text/calendar, parameters allowed ("text/calendar; charset=utf-8"), any case. */
static bool is_calendar(const char *ct)
{
    static const char want[] = "text/calendar";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0) return false;
    char c = ct[sizeof want - 1];
    return c == '\0' || c == ';' || c == ' ';
}

/* POST /api/v1/holidays/import?from=&to=: the calendar's holidays on those days (RRULEs expanded within
 * them) that are not holidays yet. */
att_err http_holidays_import(struct http_request *req, struct http_response *resp)
{
    int64_t from, to;
    const char *from_s = NULL, *to_s = NULL;
    att_err e = range_query(req, resp, NULL, &from, &to, &from_s, &to_s);
    if (e != ATT_OK) return e;
    if (!is_calendar(http_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return http_problem(resp, ATT_E_MEDIA_TYPE, NULL, "the request body must be text/calendar (iCalendar)");
    struct holiday_item *items;
    size_t n, added = 0;
    char why[160];
    e = holiday_ics_parse(req->body ? req->body : "", req->body_len, from, to, &items, &n, why, sizeof why);
    if (e == ATT_E_INVALID) return http_problem(resp, e, "body", "%s", why);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the calendar could not be read");
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        e = roster_holidays_import(c, &actor, items, n, &added);
        if (e == ATT_E_PERIOD_CLOSED)
            e = http_problem(resp, e, NULL, "a closed pay period covers a holiday of this calendar: reopen it first");
        else if (e != ATT_OK) e = http_problem(resp, e, NULL, "the holidays could not be stored");
        else
            e = http_json(resp, MHD_HTTP_OK,
                          json_pack("{s:s, s:s, s:I, s:I}", "from", from_s, "to", to_s, "holidays", (json_int_t)n,
                                    "added", (json_int_t)added));
    }
    free(items);
    return e;
}

/* ---- payroll export ------------------------------------------------------------------------------------- */

/* One value of a payroll row for column c (text into buf for numbers). */
static const char *payroll_cell(const struct payroll_column *col, json_t *row, bool pseudo, char *buf, size_t len)
{
    switch (col->field) {
    case PF_PERSON: return json_string_value(json_object_get(row, pseudo ? "person_key" : "person_id"));
    case PF_EMPLOYEE_NO: return json_string_value(json_object_get(row, "employee_no"));
    case PF_NAME: return json_string_value(json_object_get(row, "name"));
    case PF_DEPARTMENT: return json_string_value(json_object_get(row, "department"));
    case PF_LEAVE:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(json_object_get(row, "leave"), col->leave_code)));
        return buf;
    default: break;
    }
    static const char *const names[] = {
        [PF_SCHEDULED] = "scheduled",       [PF_WORKED] = "worked",
        [PF_REGULAR] = "regular",           [PF_OT_DAILY] = "ot_daily",
        [PF_OT_WEEKLY] = "ot_weekly",       [PF_OT_REST_DAY] = "ot_rest_day",
        [PF_OT_HOLIDAY] = "ot_holiday",     [PF_NIGHT] = "night",
        [PF_HOLIDAY] = "holiday",           [PF_LEAVE_PAID] = "leave_paid",
        [PF_LEAVE_UNPAID] = "leave_unpaid", [PF_EXCEPTIONS] = "exceptions",
        [PF_ABSENT_DAYS] = "absent_days",
    };
    snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(row, names[col->field])));
    return buf;
}

/* One export in flight, owned by the libmicrohttpd callback response: the rows are made and rendered
 * person by person as the client takes them; the database was read when the export opened. */
struct payroll_run {
    struct http_live live; /* registered under the token: revoking it cuts the export */
    payroll_source *src;
    struct payroll_column cols[PAYROLL_MAX_COLUMNS];
    size_t ncols, last;  /* last: the last column shown */
    bool pseudo;         /* person_key for person, no identity columns */
    bool csv;            /* else JSON */
    bool ended;          /* the closing text is produced */
    size_t emitted;      /* rows produced so far */
    struct text_buf out; /* text produced and not yet sent */
    size_t off;
};

static void payroll_run_free(void *cls)
{
    struct payroll_run *r = cls;
    if (!r) return;
    http_live_remove(&r->live);
    payroll_source_free(r->src);
    text_buf_free(&r->out);
    free(r);
}

static bool column_shown(const struct payroll_run *r, size_t k) { return !r->pseudo || !payroll_identity(&r->cols[k]); }

static const char *column_header(const struct payroll_run *r, size_t k)
{
    return r->cols[k].field == PF_PERSON && r->pseudo ? "person_key" : r->cols[k].header;
}

/* One row as a CSV record or a JSON array element. */
static att_err payroll_render(struct payroll_run *r, json_t *row)
{
    if (r->csv) {
        for (size_t k = 0; k < r->ncols; k++) {
            if (!column_shown(r, k)) continue;
            char buf[32];
            const char *v = payroll_cell(&r->cols[k], row, r->pseudo, buf, sizeof buf);
            csv_field(&r->out, v ? v : "", k == r->last);
        }
    } else {
        json_t *o = json_object();
        for (size_t k = 0; o && k < r->ncols; k++) {
            if (!column_shown(r, k)) continue;
            char buf[32];
            const char *v = payroll_cell(&r->cols[k], row, r->pseudo, buf, sizeof buf);
            bool text = r->cols[k].field <= PF_DEPARTMENT;
            json_object_set_new(o, column_header(r, k),
                                !v         ? json_null()
                                    : text ? json_string(v)
                                           : json_integer(strtoll(v, NULL, 10)));
        }
        char *txt = o ? att_json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!txt) return ATT_E_NOMEM;
        if (r->emitted > 0) text_buf_add(&r->out, ",", 1);
        text_buf_add(&r->out, txt, strlen(txt));
        free(txt);
    }
    r->emitted++;
    return r->out.oom ? ATT_E_NOMEM : ATT_OK;
}

/* libmicrohttpd pulls the body: each time the produced text is sent, the next person's row is made. */
static ssize_t payroll_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct payroll_run *r = cls;
    if (http_live_revoked(&r->live)) return MHD_CONTENT_READER_END_WITH_ERROR; /* its token was revoked */
    while (r->off == r->out.len) {
        r->out.len = r->off = 0;
        if (r->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        json_t *row;
        att_err e = payroll_source_next(r->src, &row);
        if (e == ATT_OK && row) e = payroll_render(r, row);
        json_decref(row);
        if (e != ATT_OK) { /* the client sees a cut chunked body, never a silently short file */
            log_warn("http", "payroll export cut: %s", att_err_code(e));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (!row) {
            if (!r->csv) text_buf_add(&r->out, "]}", 2);
            r->ended = true;
            if (r->out.oom) return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = r->out.len - r->off < max ? r->out.len - r->off : max;
    memcpy(buf, r->out.p + r->off, n);
    r->off += n;
    return (ssize_t)n;
}

/* The text before the rows: the CSV header, or the JSON members with the items array left open. */
static att_err payroll_head(struct payroll_run *r, const char *id)
{
    if (r->csv) {
        for (size_t k = 0; k < r->ncols; k++)
            if (column_shown(r, k)) csv_field(&r->out, column_header(r, k), k == r->last);
        return r->out.oom ? ATT_E_NOMEM : ATT_OK;
    }
    const json_t *p = payroll_source_period(r->src);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:b}", "period_id", id, "from", json_string_value(json_object_get(p, "from_date")), "to",
        json_string_value(json_object_get(p, "to_date")), "closed", json_is_true(json_object_get(p, "closed")));
    char *txt = doc ? att_json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!txt) return ATT_E_NOMEM;
    text_buf_add(&r->out, txt, strlen(txt) - 1); /* without its closing brace */
    text_buf_add(&r->out, ",\"items\":[", 10);
    free(txt);
    return r->out.oom ? ATT_E_NOMEM : ATT_OK;
}

/* GET /api/v1/periods/{id}/payroll[?department=][&format=csv|json]: per person the period's totals in the
 * configured pay-code columns; a closed period answers the totals kept at its close. Streamed. */
att_err http_payroll_get(struct http_request *req, struct http_response *resp)
{
    const char *dept = NULL;
    int format = -1;
    const struct http_field spec[] = {
        {.name = "department", .type = HV_TEXT, .min_len = 1, .max_len = SCHED_DEPT_MAX - 1, .text = &dept},
        HTTP_FORMAT_FIELD(&format),
        {NULL},
    };
    bool csv = false;
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e == ATT_OK) e = http_negotiate_csv(req, resp, format, &csv);
    if (e != ATT_OK) return e;
    const struct att_config *cfg = req->deps->cfg;
    struct payroll_run *r = calloc(1, sizeof *r);
    if (!r) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    r->csv = csv;
    r->pseudo = req->token && req->token->pseudonymous;
    char why[160];
    if (payroll_columns_parse(cfg->payroll_columns, r->cols, PAYROLL_MAX_COLUMNS, &r->ncols, why, sizeof why) !=
        ATT_OK) {
        payroll_run_free(r);
        return http_problem(resp, ATT_E_CONFIG, NULL, "payroll_columns: %s", why);
    }
    for (size_t k = 0; k < r->ncols; k++)
        if (column_shown(r, k)) r->last = k;
    struct pay_rules rules;
    pay_rules_defaults(&rules);
    const att_tz *tz;
    const char *id = http_param(req, "id");
    PGconn *c = NULL;
    if (!att_time_hhmm_parse(cfg->day_cutoff, &rules.cutoff_min) || http_zone_get(cfg->timezone, &tz) != ATT_OK)
        e = http_problem(resp, ATT_E_CONFIG, NULL, "the configured timezone or day_cutoff is not usable");
    else if (!att_uuid_valid(id)) e = http_problem(resp, ATT_E_NOT_FOUND, NULL, "no period with this id");
    else e = http_req_db(req, resp, &c);
    if (e == ATT_OK) {
        /* need to know: a token limited to departments gets only their people's rows */
        json_t *only = NULL;
        for (size_t k = 0; req->token && k < req->token->n_departments; k++) {
            if (!only) only = json_array();
            json_array_append_new(only, json_string(req->token->departments[k]));
        }
        e = payroll_source_open(c, tz, &rules, id, dept, only, &r->src);
        json_decref(only);
        if (e == ATT_E_NOT_FOUND) e = http_problem(resp, e, NULL, "no period with this id");
        else if (e != ATT_OK) e = http_problem(resp, e, NULL, "the payroll could not be computed");
    }
    if (e == ATT_OK && payroll_head(r, id) != ATT_OK) e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    if (e == ATT_OK) {
        char detail[160];
        snprintf(detail, sizeof detail, "{\"period_id\":\"%s\",\"format\":\"%s\",\"rows\":%zu}", id,
                 csv ? "csv" : "json", payroll_source_count(r->src));
        att_err ae = http_audit(req, "payroll.read", "period", id, "ok", detail);
        if (ae != ATT_OK) /* fail closed: no unaudited read of personal data */
            e = http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                             "the audit log could not be written");
    }
    char disp[160] = "";
    if (e == ATT_OK && csv)
        snprintf(disp, sizeof disp, "attachment; filename=\"payroll-%s.csv\"",
                 json_string_value(json_object_get(payroll_source_period(r->src), "from_date")));
    if (e != ATT_OK) {
        payroll_run_free(r);
        return e;
    }
    if (req->token) (void)http_live_add(&r->live, req->token); /* not registered: it cannot be revoked */
    resp->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, payroll_reader, r, payroll_run_free);
    if (!resp->stream) {
        payroll_run_free(r);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    resp->status = MHD_HTTP_OK;
    resp->content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    return csv ? http_header(resp, "Content-Disposition", disp) : ATT_OK;
}

/* ---- misidentified camera events and look-alikes --------------------------------------------------------- */

/* POST /api/v1/events/{id}/misidentified {"reason", "actual_person_id"}: the camera event is voided (it
 * leaves every report and export) and, given who it really was, the two people's score is kept. */
att_err http_events_misidentified(struct http_request *req, struct http_response *resp)
{
    const char *reason = NULL, *actual = NULL;
    json_t *doc;
    const struct http_field spec[] = {
        {.name = "reason",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 4 * REASON_MAX,
         .max_chars = REASON_MAX,
         .rule = "must say why, 1 to 1000 printable characters",
         .text = &reason},
        {.name = "actual_person_id", .type = HV_UUID, .text = &actual},
        {NULL},
    };
    att_err e = http_body_read(req, resp, spec, &doc);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    PGconn *c = NULL;
    if (!att_uuid_valid(id)) e = http_problem(resp, ATT_E_NOT_FOUND, NULL, "no event with this id");
    if (e == ATT_OK) e = http_req_db(req, resp, &c);
    bool hidden = false, actual_hidden = false; /* need to know: as if it did not exist */
    if (e == ATT_OK &&
        ((e = http_scope_hidden(req, c, SCOPE_EVENT, id, &hidden)) != ATT_OK ||
         (e = http_scope_hidden(req, c, SCOPE_PERSON, actual, &actual_hidden)) != ATT_OK))
        e = http_problem(resp, e, NULL, "the event could not be read");
    if (e == ATT_OK && (hidden || actual_hidden)) {
        (void)http_audit_refusal(req, "event.misidentified", id, ATT_E_NOT_FOUND);
        e = hidden
            ? http_problem(resp, ATT_E_NOT_FOUND, NULL, "no event with this id")
            : http_problem(resp, ATT_E_INVALID, "actual_person_id", "'actual_person_id' names nothing that exists");
    }
    if (e == ATT_OK) {
        json_t *d =
            json_pack("{s:s, s:o}", "reason", reason, "actual_person_id", actual ? json_string(actual) : json_null());
        char *detail = d ? att_json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        const char *rv[1] = {actual};
        const char *v[3] = {id, reason, actual};
        struct roster_def_write w = {.action = "event.misidentified",
                                     .target_type = "event",
                                     .refs_stmt = "event_misidentify_refs",
                                     .refs_n = 1,
                                     .refs_v = rv,
                                     .stmt = "event_misidentify",
                                     .n = 3,
                                     .v = v,
                                     .detail = detail};
        struct audit_actor actor = http_actor(req);
        e = detail ? roster_def_write(c, &actor, &w) : ATT_E_NOMEM;
        free(detail);
        if (e == ATT_E_NOT_FOUND && !w.missing[0]) {
            json_t *st = NULL;
            const char *sv[1] = {id};
            att_err k = store_json_one(c, "event_state_json", 1, sv, &st);
            if (k == ATT_E_NOT_FOUND) e = http_problem(resp, k, NULL, "no event with this id");
            else if (k != ATT_OK) e = http_problem(resp, k, NULL, "the event could not be read");
            else if (json_is_true(json_object_get(st, "voided")))
                e = http_problem(resp, ATT_E_CONFLICT, NULL, "the event is voided already");
            else e = http_problem(resp, ATT_E_CONFLICT, NULL, "only camera events can be misidentified");
            json_decref(st);
        } else if (e != ATT_OK) {
            e = def_problem(resp, e, &w, "event", NULL);
        } else {
            e = http_json(resp, MHD_HTTP_OK, w.row);
        }
    }
    json_decref(doc);
    return e;
}

/* GET /api/v1/people/{id}/lookalikes: the people a camera took for this one, by score (ids and scores). */
att_err http_people_lookalikes(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    if (!att_uuid_valid(id)) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no person with this id");
    att_err e = http_person_check(req, resp, "person.lookalikes", id);
    if (e != ATT_OK) return e;
    const char *v[1] = {id};
    return list_answer(req, resp, "person_lookalikes", 1, v, true);
}
