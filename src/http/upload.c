/* Photo uploads shared by enrolment and identification: the image from a raw image/jpeg|png body or
 * from the one file part of a multipart/form-data body, and a vision pipeline borrowed for the request. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>

#include "src/http/multipart.h"

static bool is_image_type(const char *ct)
{
    return mp_media_type_is(ct, "image/jpeg") || mp_media_type_is(ct, "image/png");
}

att_err http_image_body(const struct http_request *req, struct http_response *resp, const void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    const char *ct = http_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (is_image_type(ct)) {
        /* the decoder checks the bytes against their signature; the declared type only routes */
        *data = req->body;
        *len = req->body_len;
        return ATT_OK;
    }
    if (!mp_media_type_is(ct, "multipart/form-data"))
        return http_problem(
            resp, ATT_E_MEDIA_TYPE, NULL,
            "the photo must be sent as image/jpeg, image/png or multipart/form-data with one file part");
    char boundary[MP_BOUNDARY_MAX + 1], err[160];
    att_err e = mp_boundary(ct, boundary, err, sizeof err);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "%s", err);
    struct mp_file f;
    e = mp_find_file(req->body, req->body_len, boundary, &f, err, sizeof err);
    if (e == ATT_E_INVALID) return http_problem(resp, e, "file", "%s; exactly one is required", err);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "%s", err);
    if (!is_image_type(f.content_type))
        return http_problem(resp, ATT_E_MEDIA_TYPE, "file", "the file part must be image/jpeg or image/png, not %s",
                            f.content_type[0] ? f.content_type : "untyped");
    *data = f.data;
    *len = f.len;
    return ATT_OK;
}

att_err http_vision_acquire(struct http_request *req, struct http_response *resp, av_pipeline **out)
{
    *out = NULL;
    const struct http_deps *d = req->deps;
    if (!atomic_load(d->models_ready) || d->vision == NULL)
        return http_problem(resp, ATT_E_NOT_READY, NULL, "the face models are not loaded: %s",
                            d->models_error[0] ? d->models_error : "loading has not finished");
    att_err e = vpool_acquire(d->vision, HTTP_VISION_WAIT_MS, out);
    if (e == ATT_E_UNAVAILABLE)
        return http_problem(resp, e, NULL, "no face pipeline became free within %d ms; retry later",
                            HTTP_VISION_WAIT_MS);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "no face pipeline could be borrowed");
    return ATT_OK;
}
