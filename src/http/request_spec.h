/* Request specs: the one way a handler reads a JSON body or a query string. A spec lists the members
 * (or parameters) a route accepts, each with a value type and its rules; parsing checks every one
 * and fills the handler's typed variables, or writes the problem naming the first bad field. */
#ifndef ATTENDD_HTTP_REQUEST_SPEC_H
#define ATTENDD_HTTP_REQUEST_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/cursor.h"
#include "attendd/errors.h"
#include "attendd/uuid.h"

struct http_request;
struct http_response;

/* What a field holds and which output pointer of struct http_field receives it. */
enum http_vtype {
    HV_TEXT,      /* string of min_len..max_len bytes -> text (into the document or the query) */
    HV_UUID,      /* canonical uuid text -> uuid (and text) */
    HV_DATE,      /* YYYY-MM-DD, a date that exists -> days (since 1970-01-01) (and text) */
    HV_TIME,      /* HH:MM, 00:00..23:59 -> minutes (of the day) (and text) */
    HV_TIMESTAMP, /* RFC 3339 date-time -> us (microseconds since the epoch) (and text) */
    HV_URL,       /* a camera source URL that capture accepts -> text */
    HV_ENUM,      /* one of one_of -> index (and text) */
    HV_BOOL,      /* JSON true/false; in a query true, false, 1 or 0 -> flag */
    HV_INT,       /* integer in [min, max] when min < max -> integer */
    HV_NUMBER,    /* finite number in [fmin, fmax] when fmin < fmax -> number */
    HV_CURSOR,    /* a cursor this API returned for list cursor_kind (cursor_keylen key bytes) -> pos */
    HV_OBJECT,    /* body only: any JSON object -> json (borrowed from the document) */
    HV_ARRAY,     /* body only: any JSON array -> json (borrowed from the document) */
};

/* One member of a JSON body or one query parameter. A spec is an array ended by {NULL}. Every
 * output pointer may be NULL (the value is only checked); outputs of an absent field are left as
 * the caller preset them, so defaults are set before parsing. */
struct http_field {
    const char *name; /* member or parameter name; the problem's "field" */
    enum http_vtype type;
    bool required;                /* absent: 422 (body) / 400 (query) "'name' is required" */
    bool nullable;                /* body only: JSON null accepted (PATCH "clear this"); *null set */
    size_t min_len, max_len;      /* text-like values: length bounds in bytes (max_len 0 = no bound) */
    long max_chars;               /* HV_TEXT: > 0 asks for display text (src/util/text.c: UTF-8, no
                                    control characters, no NUL) of 1..max_chars characters */
    const char *const *one_of;    /* HV_ENUM: allowed values, NULL-terminated */
    long long min, max;           /* HV_INT bounds when min < max */
    double fmin, fmax;            /* HV_NUMBER bounds when fmin < fmax */
    enum cursor_kind cursor_kind; /* HV_CURSOR: the list it walks */
    size_t cursor_keylen;         /* HV_CURSOR: key bytes of that list's position */
    const char *rule;             /* what a bad value breaks, for the problem detail ("must be ..."); NULL:
                                    the type's own wording */

    /* outputs: the one matching type is written (text also for the string types) */
    const char **text; /* the string (points into the JSON document or the query string) */
    att_uuid *uuid;
    int64_t *days;
    int *minutes;
    int64_t *us;
    int *index;
    bool *flag;
    long long *integer;
    double *number;
    struct cursor_pos *pos;
    json_t **json;
    bool *seen; /* true when the field is present (a value or, body only, null) */
    bool *null; /* body only: true when the field is present as null */
};

/* ---- JSON bodies ------------------------------------------------------------------------------ */

/* The 415 check: the request's Content-Type must be application/json (parameters allowed). */
att_err http_body_media(const struct http_request *req, struct http_response *resp);

/* Parse body[0..len) as a JSON object checked against spec and fill its outputs. Problems: 400
 * malformed_json (bad syntax, duplicate keys, nesting deeper than HTTP_JSON_MAX_DEPTH, empty body),
 * 400 bad_request when not an object, 422 invalid_field naming the member for an unknown, missing,
 * ill-typed or out-of-rule one. On success *doc is the document (json_decref it after the last use
 * of an output that points into it); on failure *doc is NULL and nothing is left to free. */
att_err http_body_parse(struct http_response *resp, const char *body, size_t len, const struct http_field *spec,
                        json_t **doc);

/* http_body_media then http_body_parse of the request's body. */
att_err http_body_read(const struct http_request *req, struct http_response *resp, const struct http_field *spec,
                       json_t **doc);

/* ---- query strings ------------------------------------------------------------------------------ */

enum http_query_mode {
    HTTP_QUERY_OPEN,   /* parameters outside the spec are ignored; a repeated one counts once (first value) */
    HTTP_QUERY_CLOSED, /* 400 naming a parameter outside the spec or given twice: a misspelt filter must
                          not silently widen the answer, and a repeated one is ambiguous */
};

/* One query parameter as received (percent-decoded). */
struct http_query_arg {
    const char *name, *value;
};

/* Check the request's query string against spec (at most 32 fields) and fill its outputs. A bad
 * value is a 400 bad_parameter problem naming the parameter. Outputs of type text point into the
 * connection's storage, valid for the whole request. A request without a connection (a route's
 * query parser under test) reads req->query instead. */
att_err http_query_read(const struct http_request *req, struct http_response *resp, const struct http_field *spec,
                        enum http_query_mode mode);

/* The same on a list of n parameters (unit tests and fuzzing). */
att_err http_query_parse(struct http_response *resp, const struct http_query_arg *args, size_t n,
                         const struct http_field *spec, enum http_query_mode mode);

/* The query parameter `format` of the routes that answer JSON or CSV; *index: 0 json, 1 csv, as
 * preset when absent (http_negotiate_csv then asks the Accept header). */
extern const char *const http_formats[];
/* An optional uuid query parameter: bytes into *u, its text into *t, *seen when present. */
#define HTTP_UUID_PARAM(fname, u, seen_, t)                                                        \
    {                                                                                              \
        .name = (fname), .type = HV_UUID, .max_len = 36, .uuid = (u), .seen = (seen_), .text = (t) \
    }

#define HTTP_FORMAT_FIELD(out)                                                    \
    {                                                                             \
        .name = "format", .type = HV_ENUM, .one_of = http_formats, .index = (out) \
    }

#endif
