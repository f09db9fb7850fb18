/* multipart/form-data (RFC 7578) reduced to what photo uploads need: find the one file part of a
 * request body, bounds-checked, without copying it. Not installed; unit-tested in tests/unit/test_multipart.c. */
#ifndef ATTENDD_HTTP_MULTIPART_H
#define ATTENDD_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"

#define MP_BOUNDARY_MAX 70       /* RFC 2046: 1..70 characters */
#define MP_PART_HEADERS_MAX 4096 /* bytes of one part's header block (curl sends ~150) */
#define MP_PARTS_MAX 16          /* parts per body, files and fields together */
#define MP_TYPE_MAX 128          /* longest Content-Type kept for a part */

/* The file part of a body: data points into the body passed to mp_find_file. */
struct mp_file {
    const char *data; /* file bytes (not NUL-terminated) */
    size_t len;
    char content_type[MP_TYPE_MAX]; /* the part's media type, lower case, without parameters;
                                         "" when the part has no Content-Type */
};

/* The boundary parameter of a Content-Type header value ("multipart/form-data; boundary=xyz",
 * token or quoted-string). out: MP_BOUNDARY_MAX + 1 bytes. ATT_E_BAD_REQUEST (err says why) when
 * the parameter is missing, empty, longer than MP_BOUNDARY_MAX or has characters RFC 2046 does not allow. */
att_err mp_boundary(const char *content_type, char out[MP_BOUNDARY_MAX + 1], char *err, size_t errlen);

/* Find the single file part (a part whose Content-Disposition has a filename) of a multipart body.
 * Delimiter lines end in CRLF; a preamble before the first delimiter and an epilogue after the
 * closing one are ignored; other (field) parts are skipped. Never reads outside [body, body+len).
 * ATT_E_BAD_REQUEST: malformed (no first delimiter, missing closing delimiter, a header block
 *   without its blank line or over MP_PART_HEADERS_MAX, a header line without a colon, a part
 *   without Content-Disposition: form-data, more than MP_PARTS_MAX parts);
 * ATT_E_INVALID: well-formed but no file part, or more than one.
 * err says which, in English, naming no client data beyond lengths. */
att_err mp_find_file(const char *body, size_t len, const char *boundary, struct mp_file *out, char *err, size_t errlen);

/* True for a media type (with or without parameters) equal to type/subtype, case-insensitive. */
bool mp_media_type_is(const char *value, const char *type_subtype);

#endif
