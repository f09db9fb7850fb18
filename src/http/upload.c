/* Photo uploads shared by enrolment and identification: the image from a raw image/jpeg|png body or
 * from the one file part of a multipart/form-data body, and a vision pipeline borrowed for the request. */
#include "http_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "src/http/multipart.h"

static bool is_image_type(const char *ct)
{
    return mp_media_type_is(ct, "image/jpeg") || mp_media_type_is(ct, "image/png");
}

/* The image format another than JPEG or PNG whose signature starts b, or NULL. The library reads
 * some of them (WebP for the vision corpus); the API takes JPEG and PNG only, so no other decoder is
 * reachable from the network. Bytes of no image format at all are left to the decoder (422 bad_image). */
static const char *other_image_format(const unsigned char *b, size_t len)
{
    if (len >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return "WebP";
    if (len >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) return "GIF";
    if (len >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0)) return "TIFF";
    if (len >= 12 && memcmp(b + 4, "ftyp", 4) == 0) return "HEIF/AVIF";
    if (len >= 12 && memcmp(b, "\0\0\0\x0CjP  ", 8) == 0) return "JPEG 2000";
    if (len >= 26 && b[0] == 'B' && b[1] == 'M' &&
        ((uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24) == len)
        return "BMP"; /* its header's file size: two letters alone are too common */
    return NULL;
}

/* 415 naming the photo's field when its bytes are another image format than the declared JPEG/PNG. */
static att_err check_format(struct http_response *resp, const void *data, size_t len)
{
    const char *other = other_image_format(data, len);
    if (other == NULL) return ATT_OK;
    return http_problem(resp, ATT_E_MEDIA_TYPE, "file", "the photo is a %s image; only JPEG and PNG are accepted",
                        other);
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
        return check_format(resp, *data, *len);
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
    return check_format(resp, *data, *len);
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
