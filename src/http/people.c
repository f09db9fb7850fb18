/* /api/v1/people: the roster. Create, list (filters, cursor pagination), get, patch and erasure;
 * every call, refused ones included, leaves an audit row; changes reach the gallery at once. */
#include "http_internal.h"
#include "rcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/roster.h"
#include "attendd/store_people.h"

struct roster_deps http_roster_deps(const struct http_request *req, PGconn *c)
{
    const struct http_deps *d = req->deps;
    return (struct roster_deps){
        .db = c,
        .gallery = *d->gallery,
        .template_key = d->template_key,
        .vision = atomic_load(d->models_ready) ? d->vision : NULL,
        .vision_wait_ms = HTTP_VISION_WAIT_MS,
        .enrol = d->enrol,
        .max_image_pixels = (uint64_t)d->cfg->max_image_pixels,
        .match_threshold = d->cfg->match_threshold,
        .max_templates = d->cfg->max_templates_per_person,
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
    char id[ATT_UUID_STR];
    bool valid = att_uuid_canonical(target_id, id);
    (void)http_audit(req, action, "person", valid ? id : NULL, att_err_code(err), NULL);
    return err;
}

att_err http_gallery_ready(struct http_request *req, struct http_response *resp)
{
    if (atomic_load(req->deps->gallery_ready)) return ATT_OK; /* never goes back to false */
    char why[512];
    req->deps->gallery_error(req->deps->gallery_error_ctx, why, sizeof why);
    return http_problem(resp, ATT_E_NOT_READY, NULL, "the face gallery is not loaded yet (%s); retry shortly",
                        why[0] ? why : "loading");
}

/* A read succeeded: its audit row must be written before the data goes out (fail closed). */
static att_err audit_read(struct http_request *req, struct http_response *resp, const char *action,
                          const char *target_id, const char *detail_json)
{
    att_err e = http_audit(req, action, "person", target_id, "ok", detail_json);
    if (e != ATT_OK)
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    return ATT_OK;
}

json_t *http_person_json(const struct person *p)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:b, s:o, s:b}", "id", p->id, "employee_no",
                     p->employee_no, "name", p->name, "department",
                     p->department[0] ? json_string(p->department) : json_null(), "title",
                     p->title[0] ? json_string(p->title) : json_null(), "active", p->active, "created_at",
                     p->created_at, "updated_at", p->updated_at, "consent", p->consent, "biometric", p->biometric,
                     "badge_id", p->badge_id[0] ? json_string(p->badge_id) : json_null(), "pin_set", p->has_pin);
}

/* ---- POST /api/v1/people ---------------------------------------------------------------------- */

#define EMPLOYEE_NO_RULE "must be 1 to 64 characters of UTF-8 text without control characters"
#define TEXT_RULE "must be 1 to 200 characters of UTF-8 text without control characters"

/* A display-text member of a person: 1..chars characters in a buffer of buf bytes. */
static struct http_field person_text(const char *name, bool required, size_t buf, long chars, const char *rule,
                                     const char **out)
{
    return (struct http_field){.name = name,
                               .type = HV_TEXT,
                               .required = required,
                               .min_len = 1,
                               .max_len = buf - 1,
                               .max_chars = chars,
                               .rule = rule,
                               .text = out};
}

/* The members a person body may have; create: the POST form (required members, no clearing). */
static void person_spec(struct http_field spec[6], bool create, const char **employee_no, const char **name,
                        const char **department, const char **title, bool *title_null, bool *active, bool *active_seen)
{
    spec[0] = person_text("employee_no", create, PERSON_EMPLOYEE_NO_BUF, PERSON_EMPLOYEE_NO_CHARS, EMPLOYEE_NO_RULE,
                          employee_no);
    spec[1] = person_text("name", create, PERSON_TEXT_BUF, PERSON_TEXT_CHARS, TEXT_RULE, name);
    spec[2] = person_text("department", create, PERSON_TEXT_BUF, PERSON_TEXT_CHARS, TEXT_RULE, department);
    spec[3] = person_text("title", false, PERSON_TEXT_BUF, PERSON_TEXT_CHARS, TEXT_RULE, title);
    spec[3].nullable = true;
    spec[3].null = title_null;
    spec[4] = (struct http_field){.name = "active", .type = HV_BOOL, .flag = active, .seen = active_seen};
    spec[5] = (struct http_field){NULL};
}

att_err http_people_create_body(struct http_response *resp, const char *buf, size_t len, json_t **doc,
                                struct person_new *out)
{
    *out = (struct person_new){.active = true};
    bool title_null = false, active_seen = false;
    struct http_field spec[6];
    person_spec(spec, true, &out->employee_no, &out->name, &out->department, &out->title, &title_null, &out->active,
                &active_seen);
    return http_body_parse(resp, buf, len, spec, doc); /* title NULL when absent or null */
}

att_err http_people_create(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.create";
    json_t *body;
    struct person_new pn;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_people_create_body(resp, req->body, req->body_len, &body, &pn);
    if (e == ATT_OK && !http_sees_department(req, pn.department)) { /* need to know: only into its departments */
        json_decref(body);
        e = http_problem(resp, ATT_E_INVALID, "department", "'department' is outside this token's departments");
    }
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
        if (e == ATT_E_CONFLICT) http_problem(resp, e, NULL, "a person with this employee_no already exists");
        else if (e == ATT_E_INVALID) http_problem(resp, e, NULL, "the person was refused by the database");
        else http_problem(resp, e, NULL, "the person could not be created");
        return http_audit_refusal(req, action, NULL, e);
    }
    log_info("http", "person %s created by token %s", id, req->token->id);

    struct person p;
    if ((e = store_person_get(c, id, &p)) != ATT_OK)
        return http_problem(resp, e, NULL, "the person was created (id %s) but could not be read back", id);
    char location[80];
    snprintf(location, sizeof location, "/api/v1/people/%s", id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED, http_person_json(&p));
}

/* ---- GET /api/v1/people ----------------------------------------------------------------------- */

att_err http_people_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.list";
    long long limit = PERSON_LIST_DEFAULT_LIMIT;
    bool active = false, active_seen = false;
    const char *department = NULL, *q = NULL, *cursor = NULL;
    const struct http_field spec[] = {
        {.name = "limit", .type = HV_INT, .min = 1, .max = PERSON_LIST_MAX_LIMIT, .integer = &limit},
        /* searched like the fields they match; empty: no filter */
        {.name = "department",
         .type = HV_TEXT,
         .max_len = PERSON_TEXT_BUF - 1,
         .max_chars = PERSON_TEXT_CHARS,
         .rule = "must be 1 to 200 characters of text",
         .text = &department},
        {.name = "q",
         .type = HV_TEXT,
         .max_len = PERSON_TEXT_BUF - 1,
         .max_chars = PERSON_TEXT_CHARS,
         .rule = "must be at most 200 characters of text",
         .text = &q},
        {.name = "active", .type = HV_BOOL, .flag = &active, .seen = &active_seen},
        {.name = "cursor",
         .type = HV_CURSOR,
         .max_len = STORE_CURSOR_MAX - 1,
         .cursor_kind = CURSOR_PEOPLE,
         .cursor_keylen = ATT_UUID_BYTES,
         .rule = "is not a cursor this list returned",
         .text = &cursor},
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_OPEN);
    if (e != ATT_OK) return http_audit_refusal(req, action, NULL, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;

    struct person_filter f = {
        .department = department && *department ? department : NULL,
        .q = q,
        .active = !active_seen ? PERSON_ACTIVE_ANY
            : active           ? PERSON_ACTIVE_ONLY
                               : PERSON_INACTIVE_ONLY,
        .limit = (size_t)limit,
        .cursor = cursor,
    };
    struct person *list = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_MAX];
    char *departments; /* need to know: only its people */
    if ((e = http_scope_departments(req, resp, &departments)) != ATT_OK) return e;
    f.departments = departments;
    e = store_person_list(c, &f, &list, &n, next);
    free(departments);
    if (e != ATT_OK) {
        http_problem(resp, e, NULL, "the roster could not be listed");
        return http_audit_refusal(req, action, NULL, e);
    }
    char *detail = http_json_text(json_pack("{s:I}", "count", (json_int_t)n));
    e = detail ? audit_read(req, resp, action, NULL, detail)
               : http_problem(resp, ATT_E_NOMEM, NULL, "the audit log could not be written");
    free(detail);
    if (e != ATT_OK) {
        free(list);
        return e;
    }
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, http_person_json(&list[i])) != 0) {
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
    struct person p;
    att_err e = http_person_load(req, resp, action, id, &c, &p);
    if (e != ATT_OK) return e;
    if ((e = audit_read(req, resp, action, p.id, NULL)) != ATT_OK) return e;
    return http_json(resp, MHD_HTTP_OK, http_person_json(&p));
}

/* ---- PATCH /api/v1/people/{id} ---------------------------------------------------------------- */

att_err http_people_update_body(struct http_response *resp, const char *buf, size_t len, json_t **doc,
                                struct person_patch *out)
{
    *out = (struct person_patch){0};
    struct http_field spec[8];
    person_spec(spec, false, &out->employee_no, &out->name, &out->department, &out->title, &out->clear_title,
                &out->active, &out->set_active);
    /* the alternative to the face: opting out, and the kiosk badge */
    spec[5] =
        (struct http_field){.name = "biometric", .type = HV_BOOL, .flag = &out->biometric, .seen = &out->set_biometric};
    spec[6] = (struct http_field){.name = "badge_id",
                                  .type = HV_TEXT,
                                  .nullable = true,
                                  .min_len = 1,
                                  .max_len = PERSON_BADGE_CHARS,
                                  .rule = "must be 1 to 64 printable ASCII characters without spaces",
                                  .text = &out->badge_id,
                                  .null = &out->clear_badge};
    spec[7] = (struct http_field){NULL};
    att_err e = http_body_parse(resp, buf, len, spec, doc);
    if (e != ATT_OK || out->badge_id == NULL || person_badge_ok(out->badge_id)) return e;
    json_decref(*doc);
    *doc = NULL;
    return http_problem(resp, ATT_E_INVALID, "badge_id",
                        "'badge_id' must be 1 to 64 printable ASCII characters without spaces");
}

att_err http_people_update(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.update";
    const char *id = http_param(req, "id");
    json_t *body;
    struct person_patch pp;
    att_err e = http_body_media(req, resp);
    if (e == ATT_OK) e = http_people_update_body(resp, req->body, req->body_len, &body, &pp);
    if (e != ATT_OK) return http_audit_refusal(req, action, id, e);
    if ((e = http_person_check(req, resp, action, id)) != ATT_OK) {
        json_decref(body);
        return e;
    }
    if (pp.department && !token_sees_department(req->token, pp.department)) {
        json_decref(body);
        http_problem(resp, ATT_E_INVALID, "department", "'department' is outside this token's departments");
        return http_audit_refusal(req, action, id, ATT_E_INVALID);
    }
    if ((pp.set_active || pp.set_biometric) && (e = http_gallery_ready(req, resp)) != ATT_OK) {
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
        else if (e == ATT_E_CONFLICT) http_problem(resp, e, NULL, "another person has this employee_no or badge_id");
        else if (e == ATT_E_CONSENT_REQUIRED)
            http_problem(resp, e, "biometric", "the person's consent is not given: record it before biometric: true");
        else http_problem(resp, e, NULL, "the person could not be updated");
        return http_audit_refusal(req, action, id, e);
    }
    log_info("http", "person %s updated by token %s", p.id, req->token->id);
    return http_json(resp, MHD_HTTP_OK, http_person_json(&p));
}

/* ---- DELETE /api/v1/people/{id}: erasure ------------------------------------------------------ */

att_err http_people_erase(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "person.erase";
    const char *id = http_param(req, "id");
    att_err e = http_person_check(req, resp, action, id);
    if (e != ATT_OK) return e;
    if ((e = http_gallery_ready(req, resp)) != ATT_OK) return http_audit_refusal(req, action, id, e);
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
    /* the erasure bumped the data version: every cached page rendered before it (the ones that can
     * name the person) is wiped now, not when the cache next stores a page */
    http_rcache_drop_stale();
    log_notice("http", "person %s erased (%zu templates) by token %s", id, faces, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
