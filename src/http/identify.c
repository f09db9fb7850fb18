/* POST /api/v1/identify: every face in a photo with its box, liveness and best match among the
 * active enrolled people (or null), for kiosks and for checking an enrolment. Nothing is stored. */
#include "http_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/store_people.h"

#define ID_MIN_FACE_PX 40   /* smallest face looked for: the embedding is poor below this anyway */
#define ID_DETECT_DIV 16    /* ... and no finer than this fraction of the photo's short side: finer
                               tiles report parts of large faces as faces (docs/vision.md) */
#define ID_MAX_PASSES 24    /* detector runs per request (~5 ms each), whatever the photo size */

static bool is_image_error(av_status s)
{
    return s == AV_E_IMG_EMPTY || s == AV_E_IMG_TRUNCATED || s == AV_E_IMG_CORRUPT || s == AV_E_IMG_TOO_LARGE ||
           s == AV_E_IMG_NOT_IMAGE || s == AV_E_IMG_UNSUPPORTED;
}

/* What the models said about the faces of one photo. */
struct found {
    size_t n;
    av_face faces[ENROL_MAX_FACES];
    float live[ENROL_MAX_FACES];
    float *emb;                 /* n x AV_EMBED_DIM, sodium_malloc'ed (probes are biometric data too) */
    int width, height;
};

/* Decode, detect, align, embed (one batch) and judge liveness. ATT_E_BAD_IMAGE with a problem
 * written for an unusable photo; other errors without one. */
static att_err analyse(struct app *app, av_pipeline *p, const void *buf, size_t len, struct found *f,
                       struct http_response *resp)
{
    av_err ae;
    av_image *img = NULL;
    av_status s = av_image_decode(buf, len, (uint64_t)app->cfg.max_image_pixels, &img, &ae);
    if (s != AV_OK) {
        if (is_image_error(s))
            return http_problem(resp, ATT_E_BAD_IMAGE, NULL, "%s: %s", av_status_name(s), ae.msg);
        return s == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL;
    }
    f->width = av_image_width(img);
    f->height = av_image_height(img);
    av_detect_opts o;
    av_detect_opts_init(&o);
    int shortest = f->width < f->height ? f->width : f->height;
    o.min_face_px = shortest / ID_DETECT_DIV > ID_MIN_FACE_PX ? shortest / ID_DETECT_DIV : ID_MIN_FACE_PX;
    o.max_passes = ID_MAX_PASSES;
    while (av_detect_plan(f->width, f->height, &o) > o.max_passes) o.min_face_px += o.min_face_px / 2 + 1;
    size_t n = 0;
    att_err rc = ATT_OK;
    av_crop *crops = NULL;
    s = av_detect(p, img, NULL, &o, f->faces, ENROL_MAX_FACES, &n, &ae);
    if (s != AV_OK) goto fail;
    n = enrol_drop_nested(f->faces, n < ENROL_MAX_FACES ? n : ENROL_MAX_FACES);
    size_t k = 0; /* faces without landmarks cannot be aligned: leave them out */
    for (size_t i = 0; i < n; i++)
        if (f->faces[i].has_landmarks) f->faces[k++] = f->faces[i];
    f->n = k;
    if (k == 0) goto done;
    crops = sodium_malloc(k * sizeof *crops);
    f->emb = sodium_malloc(k * AV_EMBED_DIM * sizeof *f->emb);
    if (crops == NULL || f->emb == NULL) {
        rc = ATT_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < k; i++)
        if ((s = av_align(img, &f->faces[i], &crops[i], &ae)) != AV_OK) goto fail;
    if ((s = av_embed(p, crops, k, f->emb, &ae)) != AV_OK || (s = av_liveness(p, img, f->faces, k, f->live, &ae)) != AV_OK)
        goto fail;
    goto done;
fail:
    log_error("http", "identify: %s: %s", av_status_name(s), ae.msg);
    rc = s == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL;
done:
    if (crops != NULL) sodium_free(crops);
    av_image_free(img);
    return rc;
}

/* The answer for face i: its match only at or above the threshold, for a person who is still on
 * the roster and active. Below the threshold only the similarity is given: the nearest stranger is
 * nobody's business. *matched receives the person id of a match. */
static att_err face_json(struct app *app, PGconn *c, const struct found *f, size_t i, json_t **out,
                         char matched[UUID_STR_LEN])
{
    matched[0] = '\0';
    const av_box *b = &f->faces[i].box;
    json_t *sim = json_null(), *match = json_null();
    struct gal_match m;
    att_err e = gal_top1(app->gallery, f->emb + i * AV_EMBED_DIM, &m);
    if (e == ATT_OK) {
        sim = json_real((double)m.similarity);
        if ((double)m.similarity >= app->cfg.match_threshold) {
            struct person p;
            e = store_person_get(c, m.person_id, &p);
            if (e == ATT_OK && p.active) {
                match = json_pack("{s:s, s:s, s:s, s:f}", "person_id", p.id, "employee_no", p.employee_no, "name",
                                  p.name, "similarity", (double)m.similarity);
                snprintf(matched, UUID_STR_LEN, "%s", p.id);
            } else if (e != ATT_OK && e != ATT_E_NOT_FOUND) {
                json_decref(sim);
                return e; /* erased meanwhile (NOT_FOUND) is simply no match */
            }
        }
    } else if (e != ATT_E_NOT_FOUND) { /* NOT_FOUND: nobody enrolled and active */
        return e;
    }
    *out = json_pack("{s:{s:i, s:i, s:i, s:i}, s:f, s:b, s:o, s:o}", "box", "x", (int)(b->x1 + 0.5f), "y",
                     (int)(b->y1 + 0.5f), "w", (int)(b->x2 - b->x1 + 0.5f), "h", (int)(b->y2 - b->y1 + 0.5f),
                     "liveness", (double)f->live[i], "live", f->live[i] >= AV_LIVE_THRESHOLD, "similarity", sim,
                     "match", match);
    return *out ? ATT_OK : ATT_E_NOMEM;
}

att_err http_identify(struct http_request *req, struct http_response *resp)
{
    static const char action[] = "identify";
    struct app *app = req->app;
    const void *img;
    size_t len;
    att_err e;
    if ((e = http_image_body(req, resp, &img, &len)) != ATT_OK || (e = http_gallery_ready(req, resp)) != ATT_OK) {
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    av_pipeline *vp;
    if ((e = http_vision_acquire(req, resp, &vp)) != ATT_OK) {
        (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
        return e;
    }
    struct found *f = calloc(1, sizeof *f);
    if (f == NULL) {
        vpool_release(app->vision, vp);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    e = analyse(app, vp, img, len, f, resp);
    vpool_release(app->vision, vp);

    PGconn *c = NULL;
    json_t *faces = NULL, *ids = NULL;
    if (e != ATT_OK) {
        if (resp->status == 0) http_problem(resp, e, NULL, "the photo could not be analysed");
        goto out;
    }
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) goto out;
    faces = json_array();
    ids = json_array();
    if (faces == NULL || ids == NULL) {
        e = http_problem(resp, ATT_E_NOMEM, NULL, NULL);
        goto out;
    }
    for (size_t i = 0; i < f->n; i++) {
        json_t *o;
        char matched[UUID_STR_LEN];
        if ((e = face_json(app, c, f, i, &o, matched)) != ATT_OK) {
            http_problem(resp, e, NULL, "the faces could not be looked up");
            goto out;
        }
        json_array_append_new(faces, o);
        if (matched[0]) json_array_append_new(ids, json_string(matched));
    }
    /* the audit row says which people were named, by id only */
    json_t *d = json_pack("{s:I, s:O}", "faces", (json_int_t)f->n, "matched", ids);
    char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    e = detail ? http_audit(req, action, NULL, NULL, "ok", detail) : ATT_E_NOMEM;
    free(detail);
    if (e != ATT_OK) {
        http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL, "the audit log could not be written");
        goto out;
    }
    e = http_json(resp, MHD_HTTP_OK,
                  json_pack("{s:{s:i, s:i}, s:f, s:O}", "image", "width", f->width, "height", f->height, "threshold",
                            app->cfg.match_threshold, "faces", faces));
out:
    if (e != ATT_OK) (void)http_audit(req, action, NULL, NULL, att_err_code(e), NULL);
    json_decref(faces);
    json_decref(ids);
    if (f->emb != NULL) sodium_free(f->emb);
    free(f);
    return e;
}
