/* /api/v1/people: the roster. Create, list (filters, cursor pagination), get, patch and erasure;
 * every call, refused ones included, leaves an audit row; changes reach the gallery at once. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_people.h"

struct roster_deps http_roster_deps(const struct http_request *req, PGconn *c)
{
    const struct app *app = req->app;
    return (struct roster_deps){
        .db = c,
        .gallery = app->gallery,
        .template_key = app->template_key,
        .vision = atomic_load(&app->models_ready) ? app->vision : NULL,
        .vision_wait_ms = HTTP_VISION_WAIT_MS,
        .enrol = &app->enrol,
        .max_image_pixels = (uint64_t)app->cfg.max_image_pixels,
        .match_threshold = app->cfg.match_threshold,
    };
}

/* The problem for a roster write refused after its change: the audit row or the commit failed. */
static att_err unaudited(struct http_response *resp, att_err e)
{
    return http_problem(resp, e, NULL, "the change and its audit row could not be committed; nothing was changed");
}

att_err http_audit_refusal(struct http_request *req, const char *action, const char *target_id, att_err err)
{
    /* a malformed id from the URL is not worth keeping (and may not fit the column); a valid one is
     * kept in lower case, as every other row names it, so a filter on the id finds them all */
    char id[UUID_STR_LEN];
    bool valid = target_id && db_uuid_valid(target_id);
    for (size_t i = 0; valid && i < sizeof id; i++)
        id[i] = (char)(target_id[i] >= 'A' && target_id[i] <= 'F' ? target_id[i] - 'A' + 'a' : target_id[i]);
    (void)http_audit(req, action, "person", valid ? id : NULL, att_err_code(err), NULL);
    return err;
}

att_err http_gallery_ready(struct http_request *req, struct http_response *resp)
{
    if (atomic_load(&req->app->gallery_ready)) return ATT_OK; /* never goes back to false */
    char why[512];
    app_gallery_error(req->app, why, sizeof why);
    return http_problem(resp, ATT_E_NOT_READY, NULL, "the face gallery is not loaded yet (%s); retry shortly",
                        why[0] ? why : "loading");
}

/* A read succeeded: its audit row must be written before the data goes out (fail closed). */
static att_err audit_read(struct http_request *req, struct http_response *resp, const char *action,
                          const char *target_id, const char *detail_json)
{
    att_err e = http_audit(req, action, "person", target_id, "ok", detail_json);
    if (e != ATT_OK)
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
    return ATT_OK;
}

static json_t *person_json(const struct person *p)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s}", "id", p->id, "employee_no", p->employee_no, "name",
                     p->name, "department", p->department[0] ? json_string(p->department) : json_null(), "title",
                     p->title[0] ? json_string(p->title) : json_null(), "active", p->active, "created_at",
                     p->created_at, "updated_at", p->updated_at);
}

/* ---- POST /api/v1/people ---------------------------------------------------------------------- */

static const struct http_json_field create_spec[] = {
    {.name = "employee_no", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = PERSON_EMPLOYEE_NO_BUF - 1},
    {.name = "name", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "department", .type = HJ_STRING, .required = true, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "title", .type = HJ_STRING, .nullable = true, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "active", .type = HJ_BOOLEAN},
    {NULL},
};

/* A field the store refuses (too many characters, control characters, invalid UTF-8). */
static att_err bad_field(struct http_response *resp, const char *field)
{
    return http_problem(resp, ATT_E_INVALID, field,
                        "'%s' must be 1 to %d characters of UTF-8 text without control characters", field,
                        strcmp(field, "employee_no") == 0 ? PERSON_EMPLOYEE_NO_CHARS : PERSON_TEXT_CHARS);
}

att_err http_people_create_body(struct http_response *resp, const char *buf, size_t len, json_t **json,
                                struct person_new *out)
{
    json_t *body;
    att_err e = http_json_parse(resp, buf, len, create_spec, &body);
    if (e != ATT_OK) return e;
    json_t *active = json_object_get(body, "active");
    *out = (struct person_new){
        .employee_no = json_string_value(json_object_get(body, "employee_no")),
        .name = json_string_value(json_object_get(body, "name")),
        .department = json_string_value(json_object_get(body, "department")),
        .title = json_string_value(json_object_get(body, "title")), /* NULL when absent or null */
        .active = active == NULL || json_is_true(active),
    };
    const char *field = person_new_invalid_field(out);
    if (field != NULL) {
        json_decref(body);
        return bad_field(resp, field);
    }
    *json = body;
    return ATT_OK;
}

att_err http_people_create(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.create";
    json_t *body;
    struct person_new pn;
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_people_create_body(resp, req->body, req->body_len, &body, &pn);
    if (e != ATT_OK) return http_audit_refusal(req, action, NULL, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    char id[ATT_UUID_STR];
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    e = roster_person_create(&deps, &actor, &pn, id);
    json_decref(body);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL) return unaudited(resp, e);
    if (e != ATT_OK) {
        if (e == ATT_E_CONFLICT)
            http_problem(resp, e, NULL, "a person with this employee_no already exists");
        else if (e == ATT_E_INVALID)
            http_problem(resp, e, NULL, "the person was refused by the database");
        else
            http_problem(resp, e, NULL, "the person could not be created");
        return http_audit_refusal(req, action, NULL, e);
    }
    log_info("http", "person %s created by token %s", id, req->token->id);

    struct person p;
    if ((e = store_person_get(c, id, &p)) != ATT_OK)
        return http_problem(resp, e, NULL, "the person was created (id %s) but could not be read back", id);
    char location[80];
    snprintf(location, sizeof location, "/api/v1/people/%s", id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED, person_json(&p));
}

/* ---- GET /api/v1/people ----------------------------------------------------------------------- */

att_err http_people_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.list";
    long long limit;
    int active;
    const char *department, *q, *cursor;
    att_err e;
    if ((e = http_query_int(req, resp, "limit", 1, PERSON_LIST_MAX_LIMIT, PERSON_LIST_DEFAULT_LIMIT, &limit)) != ATT_OK ||
        (e = http_query_str(req, resp, "department", PERSON_TEXT_BUF - 1, &department)) != ATT_OK ||
        (e = http_query_str(req, resp, "q", PERSON_TEXT_BUF - 1, &q)) != ATT_OK ||
        (e = http_query_bool(req, resp, "active", -1, &active)) != ATT_OK ||
        (e = http_query_str(req, resp, "cursor", STORE_CURSOR_MAX - 1, &cursor)) != ATT_OK)
        return http_audit_refusal(req, action, NULL, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;

    struct person_filter f = {
        .department = department && *department ? department : NULL,
        .q = q,
        .active = active < 0 ? PERSON_ACTIVE_ANY : active ? PERSON_ACTIVE_ONLY : PERSON_INACTIVE_ONLY,
        .limit = (size_t)limit,
        .cursor = cursor,
    };
    struct person *list = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_MAX];
    e = store_person_list(c, &f, &list, &n, next);
    if (e == ATT_E_BAD_PARAM) {
        /* the store checks department and q like the fields they search, and decodes the cursor */
        struct person_patch dep = {.department = f.department}, name = {.name = q && *q ? q : NULL};
        if (person_patch_invalid_field(&dep) != NULL)
            http_problem(resp, e, "department", "query parameter 'department' must be 1 to %d characters of text",
                         PERSON_TEXT_CHARS);
        else if (person_patch_invalid_field(&name) != NULL)
            http_problem(resp, e, "q", "query parameter 'q' must be at most %d characters of text", PERSON_TEXT_CHARS);
        else
            http_problem(resp, e, "cursor", "query parameter 'cursor' is not a cursor this list returned");
        return http_audit_refusal(req, action, NULL, e);
    }
    if (e != ATT_OK) {
        http_problem(resp, e, NULL, "the roster could not be listed");
        return http_audit_refusal(req, action, NULL, e);
    }
    char detail[48];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", n);
    if ((e = audit_read(req, resp, action, NULL, detail)) != ATT_OK) {
        free(list);
        return e;
    }
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, person_json(&list[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(list);
    if (items == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK,
                     json_pack("{s:o, s:o}", "items", items, "next_cursor", next[0] ? json_string(next) : json_null()));
}

/* ---- GET /api/v1/people/{id} ------------------------------------------------------------------ */

att_err http_people_get(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.read";
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct person p;
    e = store_person_get(c, id, &p);
    if (e != ATT_OK) {
        if (e == ATT_E_NOT_FOUND) http_problem(resp, e, NULL, "no person with this id");
        else http_problem(resp, e, NULL, "the person could not be read");
        return http_audit_refusal(req, action, id, e);
    }
    if ((e = audit_read(req, resp, action, p.id, NULL)) != ATT_OK) return e;
    return http_json(resp, MHD_HTTP_OK, person_json(&p));
}

/* ---- PATCH /api/v1/people/{id} ---------------------------------------------------------------- */

static const struct http_json_field patch_spec[] = {
    {.name = "employee_no", .type = HJ_STRING, .min_len = 1, .max_len = PERSON_EMPLOYEE_NO_BUF - 1},
    {.name = "name", .type = HJ_STRING, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "department", .type = HJ_STRING, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "title", .type = HJ_STRING, .nullable = true, .min_len = 1, .max_len = PERSON_TEXT_BUF - 1},
    {.name = "active", .type = HJ_BOOLEAN},
    {NULL},
};

att_err http_people_update_body(struct http_response *resp, const char *buf, size_t len, json_t **json,
                                struct person_patch *out)
{
    json_t *body;
    att_err e = http_json_parse(resp, buf, len, patch_spec, &body);
    if (e != ATT_OK) return e;
    json_t *title = json_object_get(body, "title"), *active = json_object_get(body, "active");
    *out = (struct person_patch){
        .employee_no = json_string_value(json_object_get(body, "employee_no")),
        .name = json_string_value(json_object_get(body, "name")),
        .department = json_string_value(json_object_get(body, "department")),
        .title = json_string_value(title),
        .clear_title = json_is_null(title),
        .set_active = active != NULL,
        .active = json_is_true(active),
    };
    const char *field = person_patch_invalid_field(out);
    if (field != NULL) {
        json_decref(body);
        return bad_field(resp, field);
    }
    *json = body;
    return ATT_OK;
}

att_err http_people_update(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.update";
    const char *id = http_param(req, "id");
    json_t *body;
    struct person_patch pp;
    att_err e = http_json_media(req, resp);
    if (e == ATT_OK) e = http_people_update_body(resp, req->body, req->body_len, &body, &pp);
    if (e != ATT_OK) return http_audit_refusal(req, action, id, e);
    if (pp.set_active && (e = http_gallery_ready(req, resp)) != ATT_OK) {
        json_decref(body);
        return http_audit_refusal(req, action, id, e);
    }
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    struct person p;
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    e = roster_person_update(&deps, &actor, id, &pp, &p);
    json_decref(body);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL) return unaudited(resp, e);
    if (e != ATT_OK) {
        if (e == ATT_E_NOT_FOUND) http_problem(resp, e, NULL, "no person with this id");
        else if (e == ATT_E_CONFLICT) http_problem(resp, e, NULL, "another person has this employee_no");
        else http_problem(resp, e, NULL, "the person could not be updated");
        return http_audit_refusal(req, action, id, e);
    }
    log_info("http", "person %s updated by token %s", p.id, req->token->id);
    return http_json(resp, MHD_HTTP_OK, person_json(&p));
}

/* ---- DELETE /api/v1/people/{id}: erasure ------------------------------------------------------ */

att_err http_people_erase(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.erase";
    const char *id = http_param(req, "id");
    att_err e = http_gallery_ready(req, resp);
    if (e != ATT_OK) return http_audit_refusal(req, action, id, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    size_t faces = 0;
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    e = roster_person_erase(&deps, &actor, id, &faces);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL) return unaudited(resp, e);
    if (e != ATT_OK) {
        if (e == ATT_E_NOT_FOUND) http_problem(resp, e, NULL, "no person with this id");
        else http_problem(resp, e, NULL, "the person could not be erased");
        return http_audit_refusal(req, action, id, e);
    }
    log_notice("http", "person %s erased (%zu templates) by token %s", id, faces, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
