/* GET /api/v1/cameras/{id}/snapshot (admin): the camera's latest frame as JPEG with its region of
 * interest drawn. Encoded in memory from the capture stage's frame, never written anywhere, the
 * encoded answer wiped when it has been sent; every request leaves an audit row naming the camera. */
#include "http_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/camera_mgr.h"
#include "attendd/log.h"
#include "attendd/store_cameras.h"
#include "attendd/store_instances.h"
#include "attendd/vision.h"

#define SNAPSHOT_QUALITY 85  /* JPEG quality: readable faces at a few hundred kB for 1080p */
#define SNAPSHOT_RETRY_S "2" /* Retry-After while the camera has no frame: it samples at >= 0.5 fps */
#define SNAPSHOT_ACTION "camera.snapshot"

/* The JPEG shows faces: wiped (its whole length) once libmicrohttpd has sent it. */
struct jpeg_body {
    unsigned char *data; /* malloc'd by av_jpeg_encode */
    size_t len;          /* bytes */
};

static void jpeg_body_free(void *cls)
{
    struct jpeg_body *b = cls;
    if (b == NULL) return;
    sodium_memzero(b->data, b->len);
    free(b->data);
    free(b);
}

/* Audit the refusal or failure e of a request for camera id (NULL when the id is no uuid). */
static void audit_refusal(struct http_request *req, const char *id, att_err e)
{
    (void)http_audit(req, SNAPSHOT_ACTION, "camera", id, att_err_code(e), NULL);
}

/* The camera does not run here. With cfg.cluster: 409 naming the instance that holds it (this one
 * does not proxy), or 503 while none does; without: 503 (it is not streaming yet). */
static att_err not_here(struct http_request *req, struct http_response *resp, PGconn *c, const char *id)
{
    if (req->deps->cfg->cluster) {
        struct lease_row *leases = NULL;
        size_t n = 0;
        att_err e = store_leases_list(c, &leases, &n);
        if (e != ATT_OK) {
            audit_refusal(req, id, e);
            return http_problem(resp, e, NULL, "the camera leases could not be read");
        }
        const struct lease_row *h = NULL;
        for (size_t i = 0; i < n && !h; i++)
            if (strcmp(leases[i].camera_id, id) == 0 && leases[i].instance_id[0] != '\0') h = &leases[i];
        if (h) {
            json_t *holder = json_pack("{s:{s:s, s:s, s:s}}", "instance", "id", h->instance_id, "name",
                                       h->instance_name, "since", h->since);
            audit_refusal(req, id, ATT_E_CONFLICT);
            e = http_problem_ext(resp, ATT_E_CONFLICT, NULL, holder,
                                 "the camera is processed by instance \"%s\" (%s): ask that instance for its snapshot",
                                 h->instance_name, h->instance_id);
            free(leases);
            return e;
        }
        free(leases);
        audit_refusal(req, id, ATT_E_UNAVAILABLE);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, SNAPSHOT_RETRY_S);
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "no live instance holds this camera yet");
    }
    audit_refusal(req, id, ATT_E_UNAVAILABLE);
    http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, SNAPSHOT_RETRY_S);
    return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "the camera is not running yet");
}

att_err http_cameras_snapshot(struct http_request *req, struct http_response *resp)
{
    const char *id = http_param(req, "id");
    PGconn *c;
    att_err e = http_req_db(req, resp, &c);
    if (e != ATT_OK) return e;
    if (!att_uuid_valid(id)) {
        audit_refusal(req, NULL, ATT_E_NOT_FOUND);
        return http_problem(resp, ATT_E_NOT_FOUND, NULL, "no camera with this id");
    }
    struct camera_row row;
    if ((e = store_camera_get(c, id, &row)) != ATT_OK) {
        audit_refusal(req, e == ATT_E_NOT_FOUND ? NULL : id, e);
        if (e == ATT_E_NOT_FOUND) return http_problem(resp, e, NULL, "no camera with this id");
        return http_problem(resp, e, NULL, "the camera could not be read");
    }
    if (!row.def.enabled) {
        audit_refusal(req, id, ATT_E_CONFLICT);
        return http_problem(resp, ATT_E_CONFLICT, NULL, "the camera is disabled: it has no current frame");
    }
    if (!req->deps->cameras) {
        audit_refusal(req, id, ATT_E_UNAVAILABLE);
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "camera capture is not running");
    }
    cap_frame *f = NULL;
    e = camera_mgr_latest_frame(req->deps->cameras, id, &f);
    if (e == ATT_E_NOT_FOUND) return not_here(req, resp, c, id);
    if (e != ATT_OK) {
        audit_refusal(req, id, ATT_E_UNAVAILABLE);
        http_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, SNAPSHOT_RETRY_S);
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "the camera has no frame yet (connecting or reconnecting)");
    }
    /* the frame is shared with the analysis stage: the box is drawn on the encoder's own copy,
     * which it wipes */
    av_box box = {(float)f->roi.x, (float)f->roi.y, (float)(f->roi.x + f->roi.w), (float)(f->roi.y + f->roi.h)};
    struct jpeg_body *b = calloc(1, sizeof *b);
    av_err ve = {0};
    av_status vs = b ? av_jpeg_encode(f->bgr, f->width, f->height, f->stride, f->has_roi ? &box : NULL,
                                      SNAPSHOT_QUALITY, &b->data, &b->len, &ve)
                     : AV_E_NOMEM;
    int w = f->width, h = f->height;
    cap_frame_free(f);
    if (vs != AV_OK) {
        free(b);
        e = vs == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL;
        audit_refusal(req, id, e);
        log_error("http", "snapshot of camera %s not encoded: %s", id, ve.msg);
        return http_problem(resp, e, NULL, "the frame could not be encoded");
    }
    /* the audit row comes first: no picture leaves without it */
    char detail[64];
    snprintf(detail, sizeof detail, "{\"width\":%d,\"height\":%d}", w, h);
    if ((e = http_audit(req, SNAPSHOT_ACTION, "camera", id, "ok", detail)) != ATT_OK) {
        jpeg_body_free(b);
        return http_problem(resp, e == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }
    resp->stream = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, jpeg_body_free, b);
    if (resp->stream == NULL) {
        jpeg_body_free(b);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    resp->status = MHD_HTTP_OK;
    resp->content_type = "image/jpeg";
    return ATT_OK;
}
