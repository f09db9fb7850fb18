/* /api/v1/punches (hr, admin): manual corrections typed at a desk. POST adds an in/out with a reason,
 * DELETE voids a manual punch; each is one transaction with its audit row, then bumps the data version. */
#include "http_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/log.h"
#include "attendd/punch.h"
#include "attendd/time.h"

static const char *const kinds[] = {"in", "out", NULL};

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

/* Best-effort audit of a refused request (the refusal stands even if this fails; it is logged). */
static att_err refused(struct http_request *req, const char *action, const char *target, att_err e)
{
    (void)http_audit(req, action, "event", target, att_err_code(e), NULL);
    return e;
}

att_err http_punches_body(struct http_response *resp, const char *buf, size_t len, int64_t now_s, json_t **doc,
                          struct punch_body *out)
{
    *out = (struct punch_body){0};
    const struct http_field spec[] = {
        {.name = "person_id",
         .type = HV_UUID,
         .required = true,
         .max_len = 64,
         .rule = "must be the uuid of a person",
         .text = &out->person_id},
        {.name = "kind", .type = HV_ENUM, .required = true, .one_of = kinds, .text = &out->kind},
        {.name = "ts",
         .type = HV_TIMESTAMP,
         .required = true,
         .max_len = EVENTS_TIME_MAX - 1,
         .rule = "must be an RFC 3339 date-time such as 2024-05-01T07:00:00Z",
         .us = &out->ts_us,
         .text = &out->ts},
        {.name = "reason", .type = HV_TEXT, .required = true, .max_len = 1000, .text = &out->reason},
        {NULL},
    };
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK) return e;
    if (out->ts_us / 1000000 > now_s + PUNCH_MAX_FUTURE_S)
        e = http_problem(resp, ATT_E_INVALID, "ts", "'ts' is in the future");
    else if (out->ts_us < 0) e = http_problem(resp, ATT_E_INVALID, "ts", "'ts' is before 1970");
    else if (blank(out->reason))
        e = http_problem(resp, ATT_E_INVALID, "reason", "'reason' must say why the punch is added");
    if (e != ATT_OK) {
        json_decref(*doc);
        *doc = NULL;
    }
    return e;
}

att_err http_punches_create(struct http_request *req, struct http_response *resp)
{
    json_t *body;
    struct punch_body pb;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_punches_body(resp, req->body, req->body_len, att_time_wall_us() / 1000000, &body, &pb);
    if (e != ATT_OK) return e;
    const char *person = pb.person_id, *kind = pb.kind, *ts = pb.ts;

    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    char id[ATT_UUID_STR] = "";
    struct audit_actor actor = http_actor(req);
    struct punch_new pn = {.person_id = person, .kind = kind, .ts = ts, .ts_us = pb.ts_us, .reason = pb.reason};
    bool hidden; /* need to know: a person outside the principal's departments is no such person */
    if ((e = http_scope_hidden(req, c, SCOPE_PERSON, person, &hidden)) == ATT_OK)
        e = hidden ? ATT_E_NOT_FOUND : punch_add(c, &actor, &pn, id);
    if (e != ATT_OK) {
        char *detail = http_json_text(json_pack("{s:s, s:s, s:s}", "person_id", person, "kind", kind, "ts", ts));
        json_decref(body);
        (void)http_audit(req, "punch.create", "event", NULL, att_err_code(e), detail);
        free(detail);
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, ATT_E_INVALID, "person_id", "no such person");
        if (e == ATT_E_INVALID) return http_problem(resp, e, "reason", "the punch was refused by the database");
        return http_problem(resp, e, NULL, "the punch could not be recorded");
    }
    log_info("http", "manual punch %s (%s) added by token %s", id, kind, req->token->id);
    json_decref(body);

    struct event_row *row = NULL;
    if ((e = store_event_get(c, id, &row)) != ATT_OK)
        return http_problem(resp, e, NULL, "the punch was recorded but could not be read back");
    json_t *out = http_event_json(row, false);
    free(row);
    char location[80];
    snprintf(location, sizeof location, "/api/v1/punches/%s", id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED, out);
}

att_err http_punches_void(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    if (!att_uuid_valid(id)) return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no event with this id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct audit_actor actor = http_actor(req);
    bool hidden; /* need to know: an event of a person outside the principal's departments is no such event */
    if ((e = http_scope_hidden(req, c, SCOPE_EVENT, id, &hidden)) == ATT_OK)
        e = hidden ? ATT_E_NOT_FOUND : punch_void(c, &actor, id);
    if (e != ATT_OK) {
        refused(req, "punch.void", id, e);
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no event with id %s", id);
        if (e == ATT_E_NOT_MANUAL)
            return http_problem(resp, e, NULL, "event %s comes from a camera: camera events are never voided", id);
        if (e == ATT_E_CONFLICT) return http_problem(resp, e, NULL, "punch %s is voided already", id);
        return http_problem(resp, e, NULL, "the punch could not be voided");
    }
    log_info("http", "manual punch %s voided by token %s", id, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
