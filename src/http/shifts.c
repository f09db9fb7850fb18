/* /api/v1/shifts and /api/v1/schedules (admin writes, hr reads): named shifts in local wall time and
 * their assignment to a department or a person for a date range; every write is audited. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/roster.h"
#include "attendd/store_shifts.h"
#include "attendd/time.h"

#define NAME_MAX_CHARS 100 /* shifts_name_len in sql/005_shifts.sql */
#define NAME_MAX_TEXT "100"
#define DEPT_MAX_CHARS 200 /* schedules_department_len */
#define DEPT_MAX_TEXT "200"
#define MINUTES_MAX 720 /* grace and break bounds in sql/005_shifts.sql */

static json_t *shift_json(const struct shift_row *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:i, s:s, s:b}", "id", s->id, "name", s->name,
                     "start", s->start, "end", s->end, "overnight", strcmp(s->end, s->start) <= 0, "grace_late_min",
                     s->grace_late_min, "grace_early_min", s->grace_early_min, "break_min", s->break_min, "created_at",
                     s->created_at, "updated_at", s->updated_at, "round_min", s->round_min, "round_favour",
                     s->round_favour, "break_punched", s->break_punched);
}

static const char *const favours[] = {"employee", "employer", NULL};

/* The pay rules of a body as a patch; false when the body names none. */
static bool pay_patch(const struct shift_body *b, struct shift_patch *p)
{
    *p = (struct shift_patch){.set_round = b->set_round,
                              .round_min = (int)b->round_min,
                              .round_favour = b->round_favour,
                              .set_break_punched = b->set_break_punched,
                              .break_punched = b->break_punched};
    return b->set_round || b->round_favour || b->set_break_punched;
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *schedule_json(const struct schedule_row *s)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:s, s:s}", "id", s->id, "shift_id", s->shift_id, "department",
                     str_or_null(s->department), "person_id", str_or_null(s->person_id), "valid_from", s->valid_from,
                     "valid_to", str_or_null(s->valid_to), "created_at", s->created_at, "updated_at", s->updated_at);
}

/* Adapters for http_json_items. */
static json_t *shift_item(const void *r) { return shift_json(r); }
static json_t *schedule_item(const void *r) { return schedule_json(r); }

static att_err store_problem(struct http_response *resp, att_err e, const char *what)
{
    if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no %s with this id", what);
    if (e == ATT_E_INVALID) return http_problem(resp, e, NULL, "the database refused a value of this %s", what);
    return http_problem(resp, e, NULL, "the %s could not be stored or read", what);
}

/* ---- shifts ---------------------------------------------------------------------------------------- */

att_err http_shifts_body(struct http_response *resp, const char *buf, size_t len, bool create, json_t **doc,
                         struct shift_body *out)
{
    *out = (struct shift_body){0};
    const struct http_field spec[] = {
        {.name = "name",
         .type = HV_TEXT,
         .required = create,
         .min_len = 1,
         .max_len = SHIFT_NAME_MAX - 1,
         .max_chars = NAME_MAX_CHARS,
         .rule = "must be 1 to " NAME_MAX_TEXT " printable characters",
         .text = &out->name},
        {.name = "start",
         .type = HV_TIME,
         .required = create,
         .rule = "must be a local time HH:MM (00:00 to 23:59)",
         .text = &out->start},
        {.name = "end",
         .type = HV_TIME,
         .required = create,
         .rule = "must be a local time HH:MM (00:00 to 23:59); an end not after start ends the next day",
         .text = &out->end},
        {.name = "grace_late_min",
         .type = HV_INT,
         .min = 0,
         .max = MINUTES_MAX,
         .integer = &out->grace_late_min,
         .seen = &out->set_grace_late},
        {.name = "grace_early_min",
         .type = HV_INT,
         .min = 0,
         .max = MINUTES_MAX,
         .integer = &out->grace_early_min,
         .seen = &out->set_grace_early},
        {.name = "break_min",
         .type = HV_INT,
         .min = 0,
         .max = MINUTES_MAX,
         .integer = &out->break_min,
         .seen = &out->set_break},
        {.name = "round_min",
         .type = HV_INT,
         .min = 0,
         .max = 60,
         .rule = "must be minutes 0 to 60 (0: punches are not rounded)",
         .integer = &out->round_min,
         .seen = &out->set_round},
        {.name = "round_favour", .type = HV_ENUM, .one_of = favours, .text = &out->round_favour},
        {.name = "break_punched", .type = HV_BOOL, .flag = &out->break_punched, .seen = &out->set_break_punched},
        {NULL},
    };
    return http_body_parse(resp, buf, len, spec, doc);
}

att_err http_shifts_create(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    struct shift_body sb;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_shifts_body(resp, req->body, req->body_len, true, &b, &sb);
    if (e != ATT_OK) return e;
    PGconn *c;
    struct shift_row row;
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        struct shift_new sn = {
            .name = sb.name,
            .start = sb.start,
            .end = sb.end,
            .grace_late_min = (int)sb.grace_late_min,
            .grace_early_min = (int)sb.grace_early_min,
            .break_min = (int)sb.break_min,
        };
        struct shift_patch pay;
        if (pay_patch(&sb, &pay)) sn.pay = &pay;
        e = roster_shift_create(c, &actor, &sn, &row);
        if (e == ATT_E_CONFLICT) e = http_problem(resp, e, "name", "a shift with this name already exists");
        else if (e != ATT_OK) e = store_problem(resp, e, "shift");
        else e = http_json(resp, MHD_HTTP_CREATED, shift_json(&row));
    }
    json_decref(b);
    return e;
}

att_err http_shifts_list(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct shift_row *rows;
    size_t n;
    if ((e = store_shift_list(c, &rows, &n)) != ATT_OK) return store_problem(resp, e, "shift");
    e = http_json_items(resp, rows, n, sizeof *rows, shift_item);
    free(rows);
    return e;
}

att_err http_shifts_get(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct shift_row row;
    if ((e = store_shift_get(c, http_param(req, "id"), &row)) != ATT_OK) return store_problem(resp, e, "shift");
    return http_json(resp, MHD_HTTP_OK, shift_json(&row));
}

att_err http_shifts_update(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    struct shift_body sb;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_shifts_body(resp, req->body, req->body_len, false, &b, &sb);
    if (e != ATT_OK) return e;
    struct shift_patch p;
    (void)pay_patch(&sb, &p);
    p = (struct shift_patch){
        .set_round = p.set_round,
        .round_min = p.round_min,
        .round_favour = p.round_favour,
        .set_break_punched = p.set_break_punched,
        .break_punched = p.break_punched,
        .name = sb.name,
        .start = sb.start,
        .end = sb.end,
        .set_grace_late = sb.set_grace_late,
        .grace_late_min = (int)sb.grace_late_min,
        .set_grace_early = sb.set_grace_early,
        .grace_early_min = (int)sb.grace_early_min,
        .set_break = sb.set_break,
        .break_min = (int)sb.break_min,
    };
    PGconn *c;
    struct shift_row row;
    const char *id = http_param(req, "id");
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        e = roster_shift_update(c, &actor, id, &p, &row);
        if (e == ATT_E_CONFLICT) e = http_problem(resp, e, "name", "a shift with this name already exists");
        else if (e != ATT_OK) e = store_problem(resp, e, "shift");
        else e = http_json(resp, MHD_HTTP_OK, shift_json(&row));
    }
    json_decref(b);
    return e;
}

att_err http_shifts_delete(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    struct audit_actor actor = http_actor(req);
    e = roster_shift_delete(c, &actor, id);
    if (e == ATT_E_CONFLICT) return http_problem(resp, e, NULL, "the shift is still used by a schedule");
    if (e != ATT_OK) return store_problem(resp, e, "shift");
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}

/* ---- schedules ---------------------------------------------------------------------------------------- */

static att_err schedule_store_problem(struct http_response *resp, att_err e, const char *bad)
{
    if (e == ATT_E_NOT_FOUND && bad)
        return http_problem(resp, ATT_E_INVALID, bad, "'%s' names no existing %s", bad,
                            strcmp(bad, "shift_id") == 0 ? "shift" : "person");
    if (e == ATT_E_CONFLICT)
        return http_problem(resp, e, "valid_from", "this target already has a schedule overlapping these dates");
    if (e == ATT_E_INVALID) return http_problem(resp, e, "valid_to", "'valid_to' must not be before 'valid_from'");
    return store_problem(resp, e, "schedule");
}

att_err http_schedules_body(struct http_response *resp, const char *buf, size_t len, bool create, json_t **doc,
                            struct schedule_body *out)
{
    *out = (struct schedule_body){0};
    int64_t from = 0, to = 0;
    bool has_from = false;
    const struct http_field shift_id = {
        .name = "shift_id", .type = HV_UUID, .required = create, .text = &out->shift_id};
    const struct http_field valid_from = {.name = "valid_from",
                                          .type = HV_DATE,
                                          .required = create,
                                          .days = &from,
                                          .seen = &has_from,
                                          .text = &out->valid_from};
    const struct http_field valid_to = {.name = "valid_to",
                                        .type = HV_DATE,
                                        .nullable = true,
                                        .rule = "must be a date YYYY-MM-DD or null",
                                        .days = &to,
                                        .seen = &out->set_valid_to,
                                        .text = &out->valid_to};
    /* a patch moves a schedule to another shift or other dates, never to another target */
    const struct http_field create_spec[] = {
        shift_id,
        {.name = "department",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = SCHED_DEPT_MAX - 1,
         .max_chars = DEPT_MAX_CHARS,
         .rule = "must be 1 to " DEPT_MAX_TEXT " printable characters",
         .text = &out->department},
        {.name = "person_id", .type = HV_UUID, .text = &out->person_id},
        valid_from,
        valid_to,
        {NULL},
    };
    const struct http_field patch_spec[] = {shift_id, valid_from, valid_to, {NULL}};
    att_err e = http_body_parse(resp, buf, len, create ? create_spec : patch_spec, doc);
    if (e != ATT_OK) return e;
    if (out->valid_to && has_from && to < from)
        e = http_problem(resp, ATT_E_INVALID, "valid_to", "'valid_to' must not be before 'valid_from'");
    else if (create && (out->department == NULL) == (out->person_id == NULL))
        e = http_problem(resp, ATT_E_INVALID, out->department ? "person_id" : "department",
                         "exactly one of 'department' and 'person_id' is required");
    if (e != ATT_OK) {
        json_decref(*doc);
        *doc = NULL;
    }
    return e;
}

att_err http_schedules_create(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    struct schedule_body sb;
    const char *bad = NULL;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_schedules_body(resp, req->body, req->body_len, true, &b, &sb);
    if (e != ATT_OK) return e;
    PGconn *c;
    struct schedule_row row;
    bool hidden = false; /* need to know: a person outside the principal's departments is no such person */
    if (sb.department && !http_sees_department(req, sb.department))
        e = http_problem(resp, ATT_E_INVALID, "department", "'department' is outside this token's departments");
    else e = http_req_db(req, resp, &c);
    if (e == ATT_OK && (e = http_scope_hidden(req, c, SCOPE_PERSON, sb.person_id, &hidden)) != ATT_OK)
        e = store_problem(resp, e, "person");
    else if (e == ATT_OK && hidden) e = schedule_store_problem(resp, ATT_E_NOT_FOUND, "person_id");
    else if (e == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        struct schedule_new sn = {.shift_id = sb.shift_id,
                                  .department = sb.department,
                                  .person_id = sb.person_id,
                                  .valid_from = sb.valid_from,
                                  .valid_to = sb.valid_to};
        e = roster_schedule_create(c, &actor, &sn, &row, &bad);
        if (e != ATT_OK) e = schedule_store_problem(resp, e, bad);
        else e = http_json(resp, MHD_HTTP_CREATED, schedule_json(&row));
    }
    json_decref(b);
    return e;
}

att_err http_schedules_list(struct http_request *req, struct http_response *resp)
{
    const char *dept = NULL;
    bool has_person = false;
    att_uuid person;
    const struct http_field spec[] = {
        {.name = "department", .type = HV_TEXT, .max_len = SCHED_DEPT_MAX - 1, .text = &dept},
        HTTP_UUID_PARAM("person_id", &person, &has_person, NULL),
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e != ATT_OK) return e;
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct schedule_row *rows;
    size_t n;
    if ((e = store_schedule_list(c, dept, has_person ? &person : NULL, &rows, &n)) != ATT_OK)
        return store_problem(resp, e, "schedule");
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, schedule_item(&rows[i])) != 0) json_decref(items), items = NULL;
    free(rows);
    if (!items) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    if ((e = http_scope_items(req, resp, c, items)) != ATT_OK) { /* need to know: only its people and departments */
        json_decref(items);
        return e;
    }
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* The connection, with the schedule of the route's id answered as missing when it is outside the
 * principal's departments (need to know). */
static att_err schedule_reach(struct http_request *req, struct http_response *resp, PGconn **c)
{
    att_err e = http_req_db(req, resp, c);
    if (e != ATT_OK) return e;
    bool hidden;
    if ((e = http_scope_hidden(req, *c, SCOPE_SCHEDULE, http_param(req, "id"), &hidden)) != ATT_OK)
        return store_problem(resp, e, "schedule");
    return hidden ? store_problem(resp, ATT_E_NOT_FOUND, "schedule") : ATT_OK;
}

att_err http_schedules_get(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = schedule_reach(req, resp, &c);
    if (e != ATT_OK) return e;
    struct schedule_row row;
    if ((e = store_schedule_get(c, http_param(req, "id"), &row)) != ATT_OK) return store_problem(resp, e, "schedule");
    return http_json(resp, MHD_HTTP_OK, schedule_json(&row));
}

att_err http_schedules_update(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    struct schedule_body sb;
    const char *bad = NULL;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_schedules_body(resp, req->body, req->body_len, false, &b, &sb);
    if (e != ATT_OK) return e;
    PGconn *c;
    struct schedule_row row;
    if ((e = schedule_reach(req, resp, &c)) == ATT_OK) {
        struct schedule_patch p = {.shift_id = sb.shift_id,
                                   .valid_from = sb.valid_from,
                                   .set_valid_to = sb.set_valid_to,
                                   .valid_to = sb.valid_to};
        struct audit_actor actor = http_actor(req);
        e = roster_schedule_update(c, &actor, http_param(req, "id"), &p, &row, &bad);
        if (e != ATT_OK) e = schedule_store_problem(resp, e, bad);
        else e = http_json(resp, MHD_HTTP_OK, schedule_json(&row));
    }
    json_decref(b);
    return e;
}

att_err http_schedules_delete(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = schedule_reach(req, resp, &c);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    struct audit_actor actor = http_actor(req);
    if ((e = roster_schedule_delete(c, &actor, id)) != ATT_OK) return store_problem(resp, e, "schedule");
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
