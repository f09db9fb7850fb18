/* /api/v1/people/{id}/faces: enrol a photo as an encrypted template (the photo itself is never
 * kept), list template metadata, delete a template; the gallery follows each change at once. */
#include "http_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/store_faces.h"
#include "attendd/store_people.h"

/* Canonical lower-case copy of a uuid the caller has validated (db_uuid_valid). */
static void uuid_lower(const char *in, char out[UUID_STR_LEN])
{
    for (size_t i = 0; i < UUID_STR_LEN; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]);
}

/* The quality report of a checked photo, as far as the check got (NULL when no face was measured). */
static json_t *quality_json(const struct enrol_result *r)
{
    switch (r->outcome) {
    case ENROL_OK:
    case ENROL_TOO_BLURRY:
    case ENROL_NOT_FRONTAL:
    case ENROL_SPOOF_SUSPECTED:
        return json_pack("{s:f, s:f, s:f, s:f, s:f}", "size_px", (double)r->quality.size_px, "sharpness",
                         (double)r->quality.sharpness, "frontalness", (double)r->quality.frontalness, "yaw",
                         (double)r->quality.yaw, "liveness", (double)r->quality.liveness);
    case ENROL_FACE_TOO_SMALL:
        return json_pack("{s:f}", "size_px", (double)(r->face.box.y2 - r->face.box.y1));
    default:
        return NULL;
    }
}

/* ---- POST /api/v1/people/{id}/faces ---------------------------------------------------------------- */

/* Store the template of an accepted photo and add it to the gallery, in the order that keeps both
 * in step: row inserted, gallery updated, audit row, commit; a failure after the gallery step
 * takes the template out again. Holds the roster lock. */
static att_err store_template(struct http_request *req, struct http_response *resp, PGconn *c, const char *pid,
                              const struct enrol_result *r, const char *fid)
{
    struct app *app = req->app;
    unsigned char blob[TCRYPT_BLOB_BYTES];
    att_err e = tcrypt_encrypt(app->template_key, r->emb, pid, fid, ENROL_MODEL_ID, blob);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the template could not be encrypted");
    json_t *q = quality_json(r);
    char *qtext = q ? json_dumps(q, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(q);
    if (qtext == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);

    struct person p;
    e = db_begin(c);
    /* read under the transaction (and the roster lock): the gallery gets the active flag as committed */
    if (e == ATT_OK) e = store_person_get(c, pid, &p);
    if (e == ATT_OK)
        e = store_face_insert(c, pid, fid, ENROL_MODEL_ID, tcrypt_key_id(app->template_key), blob, sizeof blob, qtext);
    free(qtext);
    if (e != ATT_OK) {
        db_rollback(c);
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no person with this id");
        return http_problem(resp, e, NULL, "the template could not be stored");
    }
    e = gal_person_put(app->gallery, pid, p.active, NULL);
    if (e == ATT_OK) e = gal_face_add(app->gallery, pid, fid, r->emb);
    if (e != ATT_OK) {
        db_rollback(c);
        log_error("http", "face %s of person %s: gallery refused the template: %s", fid, pid, att_err_code(e));
        return http_problem(resp, e, NULL, "the template could not be added to the gallery; nothing was stored");
    }
    char detail[80];
    snprintf(detail, sizeof detail, "{\"face_id\":\"%s\"}", fid);
    e = http_audit_commit(req, resp, c, "face.enrol", pid, detail);
    if (e != ATT_OK) {
        att_err g = gal_face_remove(app->gallery, fid);
        if (g != ATT_OK) log_error("http", "face %s: not taken out of the gallery: %s", fid, att_err_code(g));
    }
    return e;
}

att_err http_faces_enrol(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "face.enrol";
    struct app *app = req->app;
    const char *id = http_param(req, "id");
    att_err e;
    if (!db_uuid_valid(id)) {
        http_problem(resp, ATT_E_NOT_FOUND, NULL, "no person with this id");
        return http_audit_refusal(req, action, NULL, ATT_E_NOT_FOUND);
    }
    char pid[UUID_STR_LEN];
    uuid_lower(id, pid);
    const void *img;
    size_t len;
    if ((e = http_image_body(req, resp, &img, &len)) != ATT_OK || (e = http_gallery_ready(req, resp)) != ATT_OK)
        return http_audit_refusal(req, action, pid, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    /* before the models run: an unknown person costs a query, not an analysis */
    struct person p;
    if ((e = store_person_get(c, pid, &p)) != ATT_OK) {
        http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the person could not be read");
        return http_audit_refusal(req, action, pid, e);
    }

    av_pipeline *vp;
    if ((e = http_vision_acquire(req, resp, &vp)) != ATT_OK) return http_audit_refusal(req, action, pid, e);
    struct enrol_result *r = sodium_malloc(sizeof *r); /* holds the template: guarded, wiped on free */
    if (r == NULL) {
        vpool_release(app->vision, vp);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    e = enrol_extract(vp, img, len, &app->enrol, r);
    vpool_release(app->vision, vp);
    if (e != ATT_OK) {
        sodium_free(r);
        http_problem(resp, e, NULL, "the photo could not be analysed");
        return http_audit_refusal(req, action, pid, e);
    }
    if (r->outcome != ENROL_OK) {
        e = http_enrol_error(r->outcome);
        json_t *q = quality_json(r);
        json_t *extra = q ? json_pack("{s:o}", "quality", q) : NULL;
        http_problem_ext(resp, e, NULL, extra, "%s", r->detail);
        sodium_free(r);
        return http_audit_refusal(req, action, pid, e);
    }

    char fid[UUID_STR_LEN];
    store_uuid_new(fid);
    http_roster_lock();
    e = store_template(req, resp, c, pid, r, fid);
    http_roster_unlock();
    json_t *q = quality_json(r);
    sodium_free(r); /* the plaintext template: only the gallery keeps it now */
    if (e != ATT_OK) {
        json_decref(q);
        return http_audit_refusal(req, action, pid, e);
    }
    log_info("http", "face %s enrolled for person %s by token %s", fid, pid, req->token->id);
    char location[128];
    snprintf(location, sizeof location, "/api/v1/people/%s/faces/%s", pid, fid);
    http_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_json(resp, MHD_HTTP_CREATED,
                     json_pack("{s:s, s:s, s:s, s:o}", "id", fid, "person_id", pid, "model_id", ENROL_MODEL_ID,
                               "quality", q ? q : json_object()));
}

/* ---- GET /api/v1/people/{id}/faces -------------------------------------------------------------- */

att_err http_faces_list(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "face.list";
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    struct face_meta *list = NULL;
    size_t n = 0;
    if ((e = store_face_list(c, id, &list, &n)) != ATT_OK) {
        http_problem(resp, e, NULL, e == ATT_E_NOT_FOUND ? "no person with this id" : "the faces could not be listed");
        return http_audit_refusal(req, action, id, e);
    }
    char pid[UUID_STR_LEN], detail[48];
    uuid_lower(id, pid);
    snprintf(detail, sizeof detail, "{\"count\":%zu}", n);
    if ((e = http_audit(req, action, "person", pid, "ok", detail)) != ATT_OK) {
        free(list);
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
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
    if (!db_uuid_valid(id) || !db_uuid_valid(face)) {
        http_problem(resp, ATT_E_NOT_FOUND, NULL, "this person has no face with this id");
        return http_audit_refusal(req, action, id, ATT_E_NOT_FOUND);
    }
    char pid[UUID_STR_LEN], fid[UUID_STR_LEN], detail[80];
    uuid_lower(id, pid);
    uuid_lower(face, fid);
    if ((e = http_gallery_ready(req, resp)) != ATT_OK) return http_audit_refusal(req, action, pid, e);
    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) return e;
    snprintf(detail, sizeof detail, "{\"face_id\":\"%s\"}", fid);
    http_roster_lock();
    e = db_begin(c);
    if (e == ATT_OK) e = store_face_delete(c, pid, fid);
    if (e != ATT_OK) {
        http_roster_unlock();
        db_rollback(c);
        http_problem(resp, e, NULL,
                     e == ATT_E_NOT_FOUND ? "this person has no face with this id" : "the face could not be deleted");
        return http_audit_refusal(req, action, pid, e);
    }
    e = http_audit_commit(req, resp, c, action, pid, detail);
    if (e == ATT_OK) {
        att_err g = gal_face_remove(req->app->gallery, fid);
        if (g != ATT_OK) log_error("http", "face %s: not removed from the gallery: %s", fid, att_err_code(g));
    }
    http_roster_unlock();
    if (e != ATT_OK) return e;
    log_info("http", "face %s of person %s deleted by token %s", fid, pid, req->token->id);
    return http_status(resp, MHD_HTTP_NO_CONTENT);
}
