/* POST /api/v1/identify: every face in a photo with its box, liveness and best match among the
 * active enrolled people (or null), for kiosks and for checking an enrolment. Nothing is stored;
 * the read is audited with the ids it named. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/json.h"
#include "attendd/log.h"
#include "attendd/roster.h"

/* A score of the match, or null (no match, or no confirming template behind it). */
static json_t *score(bool present, float v) { return present ? att_json_float(v) : json_null(); }

/* One face as the API answers it. */
static json_t *face_json(const struct roster_face_match *f)
{
    const av_box *b = &f->box;
    bool c = f->matched && f->confirmed;
    json_t *match = f->matched
        ? json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "person_id", f->person.id, "employee_no", f->person.employee_no,
                    "name", f->person.name, "similarity", att_json_float(f->similarity), "confirm_similarity",
                    score(c, f->confirm_similarity), "fused", score(c, f->fused))
        : json_null();
    return json_pack("{s:{s:i, s:i, s:i, s:i}, s:o, s:b, s:o, s:o, s:o, s:o}", "box", "x", (int)(b->x1 + 0.5f), "y",
                     (int)(b->y1 + 0.5f), "w", (int)(b->x2 - b->x1 + 0.5f), "h", (int)(b->y2 - b->y1 + 0.5f),
                     "liveness", att_json_float(f->liveness), "live", f->liveness >= AV_LIVE_THRESHOLD, "similarity",
                     score(f->matched, f->similarity), "confirm_similarity", score(c, f->confirm_similarity), "fused",
                     score(c, f->fused), "match", match);
}

att_err http_identify(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "identify";
    const struct http_deps *hd = req->deps;
    const void *img;
    size_t len;
    att_err e;
    PGconn *c;
    if ((e = http_image_body(req, resp, &img, &len)) != ATT_OK || (e = http_gallery_ready(req, resp)) != ATT_OK ||
        (e = http_req_db(req, resp, &c)) != ATT_OK) {
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    struct roster_identification *r = malloc(sizeof *r);
    if (r == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    struct roster_deps deps = http_roster_deps(req, c);
    json_t *faces = NULL, *ids = NULL;
    if ((e = roster_identify(&deps, img, len, r)) != ATT_OK) {
        if (e == ATT_E_NOT_READY)
            http_problem(resp, e, NULL, "the face models are not loaded: %s",
                         hd->models_error[0] ? hd->models_error : "loading has not finished");
        else http_problem(resp, e, e == ATT_E_BAD_IMAGE ? "file" : NULL, "%s", r->detail);
        goto out;
    }
    for (size_t i = 0; i < r->n; i++) /* need to know: a person outside the principal's departments matched nobody */
        if (r->faces[i].matched && !http_sees_department(req, r->faces[i].person.department)) {
            r->faces[i].matched = false;
            r->faces[i].similarity = r->faces[i].confirm_similarity = r->faces[i].fused = 0;
            r->faces[i].confirmed = false;
            memset(&r->faces[i].person, 0, sizeof r->faces[i].person);
        }
    faces = json_array();
    ids = json_array();
    for (size_t i = 0; faces != NULL && ids != NULL && i < r->n; i++) {
        json_t *o = face_json(&r->faces[i]);
        if (o == NULL || json_array_append_new(faces, o) != 0 ||
            (r->faces[i].matched && json_array_append_new(ids, json_string(r->faces[i].person.id)) != 0)) {
            json_decref(faces);
            faces = NULL;
        }
    }
    if (faces == NULL || ids == NULL) {
        e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        goto out;
    }
    /* the audit row says which people were named, by id only */
    json_t *d = json_pack("{s:I, s:O}", "faces", (json_int_t)r->n, "matched", ids);
    char *detail = att_json_dumps(d, JSON_COMPACT);
    json_decref(d);
    e = detail ? http_audit(req, action, NULL, NULL, "ok", detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
        goto out;
    }
    e = http_json(resp, MHD_HTTP_OK,
                  json_pack("{s:{s:i, s:i}, s:f, s:o, s:O}", "image", "width", r->width, "height", r->height,
                            "threshold", hd->cfg->match_threshold, "fused_threshold",
                            att_json_float((float)roster_fused_threshold(hd->cfg->match_threshold)), "faces", faces));
out:
    if (e != ATT_OK) (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
    json_decref(faces);
    json_decref(ids);
    free(r); /* match results only: the probes' templates never left the use case */
    return e;
}
