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

#define NAME_MAX_CHARS 100  /* shifts_name_len in sql/005_shifts.sql */
#define DEPT_MAX_CHARS 200  /* schedules_department_len */
#define MINUTES_MAX 720     /* grace and break bounds in sql/005_shifts.sql */

static const struct http_json_field shift_create_spec[] = {
    {.name = "name", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = SHIFT_NAME_MAX - 1},
    {.name = "start", .type = HJ_STRING, .required = true, .min_len = 5, .max_len = 5},
    {.name = "end", .type = HJ_STRING, .required = true, .min_len = 5, .max_len = 5},
    {.name = "grace_late_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {.name = "grace_early_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {.name = "break_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {NULL},
};

static const struct http_json_field shift_patch_spec[] = {
    {.name = "name", .type = HJ_STRING, .min_len = 1, .max_len = SHIFT_NAME_MAX - 1},
    {.name = "start", .type = HJ_STRING, .min_len = 5, .max_len = 5},
    {.name = "end", .type = HJ_STRING, .min_len = 5, .max_len = 5},
    {.name = "grace_late_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {.name = "grace_early_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {.name = "break_min", .type = HJ_INTEGER, .min = 0, .max = MINUTES_MAX},
    {NULL},
};

static const struct http_json_field schedule_create_spec[] = {
    {.name = "shift_id", .type = HJ_STRING, .required = true, .min_len = 36, .max_len = 36},
    {.name = "department", .type = HJ_STRING, .min_len = 1, .max_len = SCHED_DEPT_MAX - 1},
    {.name = "person_id", .type = HJ_STRING, .min_len = 36, .max_len = 36},
    {.name = "valid_from", .type = HJ_STRING, .required = true, .min_len = 10, .max_len = 10},
    {.name = "valid_to", .type = HJ_STRING, .nullable = true, .min_len = 10, .max_len = 10},
    {NULL},
};

static const struct http_json_field schedule_patch_spec[] = {
    {.name = "shift_id", .type = HJ_STRING, .min_len = 36, .max_len = 36},
    {.name = "valid_from", .type = HJ_STRING, .min_len = 10, .max_len = 10},
    {.name = "valid_to", .type = HJ_STRING, .nullable = true, .min_len = 10, .max_len = 10},
    {NULL},
};

/* Printable UTF-8 (no control characters, no NUL) of 1..max characters. */
static bool text_ok(json_t *v, size_t max_chars)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v)) return false;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) return false;
        if ((*p & 0xc0) != 0x80) chars++; /* jansson guarantees valid UTF-8 */
    }
    return chars >= 1 && chars <= max_chars;
}

/* "HH:MM", 00:00..23:59 */
static bool hhmm_ok(const char *s)
{
    return s && strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
           s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] - '0') * 10 + (s[1] - '0') < 24;
}

static json_t *shift_json(const struct shift_row *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:s}", "id", s->id, "name", s->name, "start",
                     s->start, "end", s->end, "overnight", strcmp(s->end, s->start) <= 0, "grace_late_min",
                     s->grace_late_min, "grace_early_min", s->grace_early_min, "break_min", s->break_min,
                     "created_at", s->created_at, "updated_at", s->updated_at);
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

/* Check the members of a shift body; 422 naming the first bad one. */
static att_err check_shift(struct http_response *resp, json_t *b)
{
    json_t *v;
    if ((v = json_object_get(b, "name")) && !text_ok(v, NAME_MAX_CHARS))
        return http_problem(resp, ATT_E_INVALID, "name", "'name' must be 1 to %d printable characters", NAME_MAX_CHARS);
    if ((v = json_object_get(b, "start")) && !hhmm_ok(json_string_value(v)))
        return http_problem(resp, ATT_E_INVALID, "start", "'start' must be a local time HH:MM (00:00 to 23:59)");
    if ((v = json_object_get(b, "end")) && !hhmm_ok(json_string_value(v)))
        return http_problem(resp, ATT_E_INVALID, "end", "'end' must be a local time HH:MM (00:00 to 23:59); "
                                                        "an end not after start ends the next day");
    return ATT_OK;
}

static int int_member(json_t *b, const char *k, int dflt)
{
    json_t *v = json_object_get(b, k);
    return v ? (int)json_integer_value(v) : dflt;
}

att_err http_shifts_body(struct http_response *resp, const char *buf, size_t len, bool create, json_t **json)
{
    json_t *b;
    att_err e = http_json_parse(resp, buf, len, create ? shift_create_spec : shift_patch_spec, &b);
    if (e != ATT_OK) return e;
    if ((e = check_shift(resp, b)) != ATT_OK) {
        json_decref(b);
        return e;
    }
    *json = b;
    return ATT_OK;
}

att_err http_shifts_create(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_shifts_body(resp, req->body, req->body_len, true, &b);
    if (e != ATT_OK) return e;
    PGconn *c;
    struct shift_row row;
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        struct shift_new sn = {
            .name = json_string_value(json_object_get(b, "name")),
            .start = json_string_value(json_object_get(b, "start")),
            .end = json_string_value(json_object_get(b, "end")),
            .grace_late_min = int_member(b, "grace_late_min", 0),
            .grace_early_min = int_member(b, "grace_early_min", 0),
            .break_min = int_member(b, "break_min", 0),
        };
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
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_shifts_body(resp, req->body, req->body_len, false, &b);
    if (e != ATT_OK) return e;
    struct shift_patch p = {
        .name = json_string_value(json_object_get(b, "name")),
        .start = json_string_value(json_object_get(b, "start")),
        .end = json_string_value(json_object_get(b, "end")),
        .set_grace_late = json_object_get(b, "grace_late_min") != NULL,
        .grace_late_min = int_member(b, "grace_late_min", 0),
        .set_grace_early = json_object_get(b, "grace_early_min") != NULL,
        .grace_early_min = int_member(b, "grace_early_min", 0),
        .set_break = json_object_get(b, "break_min") != NULL,
        .break_min = int_member(b, "break_min", 0),
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

static att_err check_schedule(struct http_response *resp, json_t *b, const char **vto)
{
    json_t *v;
    int64_t from = 0, to = 0;
    if ((v = json_object_get(b, "shift_id")) && !db_uuid_valid(json_string_value(v)))
        return http_problem(resp, ATT_E_INVALID, "shift_id", "'shift_id' must be a uuid");
    if ((v = json_object_get(b, "person_id")) && !db_uuid_valid(json_string_value(v)))
        return http_problem(resp, ATT_E_INVALID, "person_id", "'person_id' must be a uuid");
    if ((v = json_object_get(b, "department")) && !text_ok(v, DEPT_MAX_CHARS))
        return http_problem(resp, ATT_E_INVALID, "department", "'department' must be 1 to %d printable characters",
                            DEPT_MAX_CHARS);
    if ((v = json_object_get(b, "valid_from")) && !att_time_date_parse(json_string_value(v), &from))
        return http_problem(resp, ATT_E_INVALID, "valid_from", "'valid_from' must be a date YYYY-MM-DD");
    *vto = NULL;
    if ((v = json_object_get(b, "valid_to")) && !json_is_null(v)) {
        if (!att_time_date_parse(json_string_value(v), &to))
            return http_problem(resp, ATT_E_INVALID, "valid_to", "'valid_to' must be a date YYYY-MM-DD or null");
        if (json_object_get(b, "valid_from") && to < from)
            return http_problem(resp, ATT_E_INVALID, "valid_to", "'valid_to' must not be before 'valid_from'");
        *vto = json_string_value(v);
    }
    return ATT_OK;
}

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

att_err http_schedules_body(struct http_response *resp, const char *buf, size_t len, bool create, json_t **json,
                            const char **vto)
{
    json_t *b;
    att_err e = http_json_parse(resp, buf, len, create ? schedule_create_spec : schedule_patch_spec, &b);
    if (e != ATT_OK) return e;
    const char *dept = json_string_value(json_object_get(b, "department"));
    const char *person = json_string_value(json_object_get(b, "person_id"));
    if ((e = check_schedule(resp, b, vto)) == ATT_OK && create && (dept == NULL) == (person == NULL))
        e = http_problem(resp, ATT_E_INVALID, dept ? "person_id" : "department",
                         "exactly one of 'department' and 'person_id' is required");
    if (e != ATT_OK) {
        json_decref(b);
        return e;
    }
    *json = b;
    return ATT_OK;
}

att_err http_schedules_create(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    const char *vto = NULL, *bad = NULL;
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_schedules_body(resp, req->body, req->body_len, true, &b, &vto);
    if (e != ATT_OK) return e;
    const char *dept = json_string_value(json_object_get(b, "department"));
    const char *person = json_string_value(json_object_get(b, "person_id"));
    PGconn *c;
    struct schedule_row row;
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct audit_actor actor = http_actor(req);
        struct schedule_new sn = {.shift_id = json_string_value(json_object_get(b, "shift_id")),
                                  .department = dept,
                                  .person_id = person,
                                  .valid_from = json_string_value(json_object_get(b, "valid_from")),
                                  .valid_to = vto};
        e = roster_schedule_create(c, &actor, &sn, &row, &bad);
        if (e != ATT_OK) e = schedule_store_problem(resp, e, bad);
        else e = http_json(resp, MHD_HTTP_CREATED, schedule_json(&row));
    }
    json_decref(b);
    return e;
}

static const char *const list_params[] = {"department", "person_id", NULL};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    for (const char *const *k = list_params; *k; k++)
        if (strcmp(*k, key) == 0) return MHD_YES;
    *(const char **)cls = key;
    return MHD_NO;
}

att_err http_schedules_list(struct http_request *req, struct http_response *resp)
{
    const char *unknown = NULL, *dept = NULL, *person = NULL;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &unknown);
    if (unknown)
        return http_problem(resp, ATT_E_BAD_PARAM, unknown, "unknown query parameter; accepted: department, person_id");
    att_err e;
    if ((e = http_query_str(req, resp, "department", SCHED_DEPT_MAX - 1, &dept)) != ATT_OK ||
        (e = http_query_str(req, resp, "person_id", 36, &person)) != ATT_OK)
        return e;
    if (person && !db_uuid_valid(person))
        return http_problem(resp, ATT_E_BAD_PARAM, "person_id", "query parameter 'person_id' must be a uuid");
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct schedule_row *rows;
    size_t n;
    if ((e = store_schedule_list(c, dept, person, &rows, &n)) != ATT_OK) return store_problem(resp, e, "schedule");
    e = http_json_items(resp, rows, n, sizeof *rows, schedule_item);
    free(rows);
    return e;
}

att_err http_schedules_get(struct http_request *req, struct http_response *resp)
{
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct schedule_row row;
    if ((e = store_schedule_get(c, http_param(req, "id"), &row)) != ATT_OK) return store_problem(resp, e, "schedule");
    return http_json(resp, MHD_HTTP_OK, schedule_json(&row));
}

att_err http_schedules_update(struct http_request *req, struct http_response *resp)
{
    json_t *b;
    const char *vto = NULL, *bad = NULL;
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_schedules_body(resp, req->body, req->body_len, false, &b, &vto);
    if (e != ATT_OK) return e;
    PGconn *c;
    struct schedule_row row;
    if ((e = http_req_db(req, resp, &c)) == ATT_OK) {
        struct schedule_patch p = {.shift_id = json_string_value(json_object_get(b, "shift_id")),
                                   .valid_from = json_string_value(json_object_get(b, "valid_from")),
                                   .set_valid_to = json_object_get(b, "valid_to") != NULL,
                                   .valid_to = vto};
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
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    const char *id = http_param(req, "id");
    struct audit_actor actor = http_actor(req);
    if ((e = roster_schedule_delete(c, &actor, id)) != ATT_OK) return store_problem(resp, e, "schedule");
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
