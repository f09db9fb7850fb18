/* /api/v1/people/{id}/faces: enrol a photo as an encrypted template (the photo itself is never
 * kept), list template metadata, delete a template; the gallery follows each change at once. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"
#include "attendd/uuid.h"

/* ---- POST /api/v1/people/{id}/faces ---------------------------------------------------------------- */

att_err http_faces_enrol(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "face.enrol";
    const char *id = http_param(req, "id");
    att_err e;
    if (!att_uuid_valid(id)) {
        http_problem(resp, ATT_E_NOT_FOUND, NULL, "no person with this id");
        return http_audit_refusal(req, action, NULL, ATT_E_NOT_FOUND);
    }
    if ((e = http_person_check(req, resp, action, id)) != ATT_OK) return e;
    const void *img;
    size_t len;
    if ((e = http_image_body(req, resp, &img, &len)) != ATT_OK || (e = http_gallery_ready(req, resp)) != ATT_OK)
        return http_audit_refusal(req, action, id, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    struct roster_enrolment r;
    e = roster_face_enrol(&deps, &actor, id, img, len, &r);
    json_t *q = roster_quality_json(&r);
    if (e == ATT_E_NOT_READY) {
        json_decref(q);
        http_problem(resp, e, NULL, "the face models are not loaded: %s",
                     req->deps->models_error[0] ? req->deps->models_error : "loading has not finished");
        return http_audit_refusal(req, action, id, e);
    }
    if (e != ATT_OK) {
        /* a photo the policy refused: the quality report says what to fix */
        json_t *extra = NULL;
        if (q != NULL && r.outcome != ENROL_OK) extra = json_pack("{s:o}", "quality", q);
        else json_decref(q);
        if (e == ATT_E_CONFLICT && extra == NULL) /* the person's templates are full */
            extra = json_pack("{s:i}", "max_templates_per_person", req->deps->cfg->max_templates_per_person);
        http_problem_ext(resp, e, e == ATT_E_BAD_IMAGE || e == ATT_E_CONFLICT ? "file" : NULL, extra, "%s", r.detail);
        return http_audit_refusal(req, action, id, e);
    }
    log_info("http", "face %s enrolled for person %s by token %s", r.face_id, r.person_id, req->token->id);
    char location[128];
    snprintf(location, sizeof location, "/api/v1/people/%s/faces/%s", r.person_id, r.face_id);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    json_t *warnings = roster_enrol_warnings_json(&r);
    if (warnings && json_array_size(warnings))
        log_warn("http", "face %s of person %s enrolled with %zu warning(s)", r.face_id, r.person_id,
                 json_array_size(warnings));
    return http_json(resp, MHD_HTTP_CREATED,
                     json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", r.face_id, "person_id", r.person_id, "model_id",
                               ENROL_MODEL_ID, "quality", q ? q : json_object(), "warnings",
                               warnings ? warnings : json_array()));
}

/* ---- GET /api/v1/people/{id}/faces -------------------------------------------------------------- */

att_err http_faces_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "face.list";
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_person_check(req, resp, action, id);
    if (e != ATT_OK || (e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct face_meta *list = NULL;
    size_t n = 0;
    if ((e = store_face_list(c, id, &list, &n)) != ATT_OK) {
        http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the faces could not be listed");
        return http_audit_refusal(req, action, id, e);
    }
    char pid[ATT_UUID_STR];
    att_uuid u;
    if (!att_uuid_parse(id, &u)) { /* the store found the person: cannot happen */
        free(list);
        return http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    }
    att_uuid_format(&u, pid);
    char *detail = http_json_text(json_pack("{s:I}", "count", (json_int_t)n));
    e = detail ? http_audit(req, action, "person", pid, "ok", detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        free(list);
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++) {
        /* metadata only: the template never leaves the database through the API */
        json_t *q = json_loads(list[i].quality_json, 0, NULL);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "id", list[i].id, "model_id", list[i].model_id, "created_at",
                              list[i].created_at, "quality", q ? q : json_object());
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(list);
    if (items == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:s, s:o}", "person_id", pid, "items", items));
}

/* ---- DELETE /api/v1/people/{id}/faces/{face_id} ---------------------------------------------------- */

att_err http_faces_delete(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "face.delete";
    const char *id = http_param(req, "id"), *face = http_param(req, "face_id");
    att_err e;
    if (!att_uuid_valid(id) || !att_uuid_valid(face)) {
        http_problem(resp, ATT_E_NOT_FOUND, NULL, "this person has no face with this id");
        return http_audit_refusal(req, action, id, ATT_E_NOT_FOUND);
    }
    if ((e = http_person_check(req, resp, action, id)) != ATT_OK) return e;
    if ((e = http_gallery_ready(req, resp)) != ATT_OK) return http_audit_refusal(req, action, id, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    struct roster_deps deps = http_roster_deps(req, c);
    struct audit_actor actor = http_actor(req);
    e = roster_face_delete(&deps, &actor, id, face);
    if (e == ATT_E_DB || e == ATT_E_INTERNAL)
        return http_problem(resp, e, NULL, "the change and its audit row could not be committed; nothing was changed");
    if (e != ATT_OK) {
        http_problem(resp, e, NULL,
                     e == ATT_E_NOT_FOUND ? "this person has no face with this id" : "the face could not be deleted");
        return http_audit_refusal(req, action, id, e);
    }
    log_info("http", "face %s of person %s deleted by token %s", face, id, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
