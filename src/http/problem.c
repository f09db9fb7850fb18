/* Response building: JSON bodies, bare statuses, extra headers, and RFC 9457 problem bodies
 * (application/problem+json) whose status, code and title come from the error registry. */
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/json.h"
#include "attendd/log.h"

void http_response_clear(struct http_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    resp->status = 0;
    resp->nheaders = 0;
    if (resp->stream != NULL) MHD_destroy_response(resp->stream); /* never queued */
    resp->stream = NULL;
}

/* Replace the body with the compact serialisation of v (stolen). */
static att_err set_json_body(struct http_response *resp, unsigned int status, json_t *v, const char *ctype)
{
    if (v == NULL) return ATT_E_NOMEM;
    char *text = att_json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (text == NULL) return ATT_E_NOMEM;
    free(resp->body);
    resp->body = text;
    resp->body_len = strlen(text);
    resp->content_type = ctype;
    resp->status = status;
    return ATT_OK;
}

att_err http_json(struct http_response *resp, unsigned int status, json_t *body)
{
    att_err e = set_json_body(resp, status, body, "application/json");
    if (e != ATT_OK) return http_problem(resp, e, NULL, NULL);
    return ATT_OK;
}

att_err http_json_items(struct http_response *resp, const void *rows, size_t n, size_t elem_size,
                        json_t *(*to_json)(const void *row))
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, to_json((const char *)rows + i * elem_size)) != 0)
            json_decref(items), items = NULL;
    if (!items) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

att_err http_status(struct http_response *resp, unsigned int status)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    resp->status = status;
    return ATT_OK;
}

att_err http_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders >= HTTP_MAX_HEADERS || strlen(name) >= sizeof resp->headers[0].name ||
        strlen(value) >= sizeof resp->headers[0].value) {
        log_error("http", "response header %s does not fit", name);
        return ATT_E_INTERNAL;
    }
    struct http_header *h = &resp->headers[resp->nheaders++];
    memcpy(h->name, name, strlen(name) + 1);
    memcpy(h->value, value, strlen(value) + 1);
    return ATT_OK;
}

static att_err vproblem(struct http_response *resp, att_err err, const char *field, json_t *extra, const char *fmt,
                        va_list ap)
{
    if (err == ATT_OK || (int)err < 0 || err >= ATT_ERR__COUNT) err = ATT_E_INTERNAL;
    int status = att_err_http_status(err);
    const char *code = att_err_code(err);
    char detail[512];
    if (fmt != NULL) vsnprintf(detail, sizeof detail, fmt, ap);
    else snprintf(detail, sizeof detail, "%s", att_err_title(err));
    char type[160];
    snprintf(type, sizeof type, "%s%s", HTTP_PROBLEM_TYPE_BASE, code);

    json_t *o = json_object();
    if (o == NULL) goto oom;
    /* json_string rejects invalid UTF-8 (a detail quoting client bytes, or cut mid-character by
     * the buffer): fall back to the title rather than lose the whole body. */
    json_t *d = json_string(detail);
    if (d == NULL) d = json_string(att_err_title(err));
    if (json_object_set_new(o, "type", json_string(type)) ||
        json_object_set_new(o, "title", json_string(att_err_title(err))) ||
        json_object_set_new(o, "status", json_integer(status)) || json_object_set_new(o, "detail", d) ||
        json_object_set_new(o, "code", json_string(code))) {
        json_decref(o);
        goto oom;
    }
    if (field != NULL) {
        json_t *f = json_string(field);
        if (f == NULL) f = json_string("?");
        json_object_set_new(o, "field", f);
    }
    if (extra != NULL) {
        json_object_update_missing(o, extra); /* registry members win over extensions */
        json_decref(extra);
        extra = NULL;
    }
    if (set_json_body(resp, (unsigned)status, o, "application/problem+json") != ATT_OK) goto oom_noextra;
    return err;
oom:
    json_decref(extra);
oom_noextra:
    /* last resort without allocation through jansson: a static body still in the problem shape */
    http_status(resp, 500);
    static const char fallback[] = "{\"type\":\"" HTTP_PROBLEM_TYPE_BASE "out_of_memory\",\"title\":\"Out of "
                                   "memory\",\"status\":500,\"detail\":\"Out of memory\",\"code\":\"out_of_memory\"}";
    resp->body = strdup(fallback);
    resp->body_len = resp->body ? strlen(fallback) : 0;
    resp->content_type = resp->body ? "application/problem+json" : NULL;
    return ATT_E_NOMEM;
}

att_err http_problem(struct http_response *resp, att_err err, const char *field, const char *detail, ...)
{
    va_list ap;
    va_start(ap, detail);
    att_err r = vproblem(resp, err, field, NULL, detail, ap);
    va_end(ap);
    return r;
}

att_err http_problem_ext(struct http_response *resp, att_err err, const char *field, json_t *extra, const char *detail,
                         ...)
{
    va_list ap;
    va_start(ap, detail);
    att_err r = vproblem(resp, err, field, extra, detail, ap);
    va_end(ap);
    return r;
}

char *http_json_text(json_t *j)
{
    char *s = att_json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}
