/* JSON request bodies read through a spec (src/http/request_spec.h): syntax, shape and every member's
 * type and rules checked, typed values filled, the first bad member named in a 422 problem. */
#include "request_spec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attendd/capture.h"
#include "attendd/text.h"
#include "attendd/time.h"
#include "http_internal.h"
#include "spec_value.h"

const char *const http_formats[] = {"json", "csv", NULL};

/* ---- one value, shared with the query string (spec_value.h) --------------------------------------- */

void spec_list(const char *const *values, bool quoted, char *out, size_t outlen)
{
    size_t off = 0;
    out[0] = '\0';
    for (const char *const *a = values; *a != NULL; a++) {
        int n = snprintf(out + off, outlen - off, quoted ? "%s\"%s\"" : "%s%s", off ? ", " : "", *a);
        if (n > 0 && (size_t)n < outlen - off) off += (size_t)n;
    }
}

enum spec_fault spec_text_value(const struct http_field *f, const char *s, size_t len)
{
    if (f->type != HV_TEXT || f->max_chars > 0) {
        if (strlen(s) != len) return SPEC_BAD_VALUE; /* an embedded NUL: never a valid uuid, date, name... */
    }
    if (len < f->min_len) return SPEC_TOO_SHORT;
    if (f->max_len > 0 && len > f->max_len) return SPEC_TOO_LONG;
    switch (f->type) {
    case HV_TEXT:
        if (f->max_chars > 0 && !text_ok(s, f->min_len > 0 ? 1 : 0, f->max_chars)) return SPEC_BAD_VALUE;
        if (f->text) *f->text = s;
        return SPEC_OK;
    case HV_UUID: {
        att_uuid u;
        if (!att_uuid_parse(s, &u)) return SPEC_BAD_VALUE;
        if (f->uuid) *f->uuid = u;
        break;
    }
    case HV_DATE: {
        int64_t d;
        if (!att_time_date_parse(s, &d)) return SPEC_BAD_VALUE;
        if (f->days) *f->days = d;
        break;
    }
    case HV_TIME: {
        int m;
        if (!att_time_hhmm_parse(s, &m)) return SPEC_BAD_VALUE;
        if (f->minutes) *f->minutes = m;
        break;
    }
    case HV_TIMESTAMP: {
        int64_t us;
        if (!att_time_parse(s, &us)) return SPEC_BAD_VALUE;
        if (f->us) *f->us = us;
        break;
    }
    case HV_URL:
        if (cap_url_validate(s, NULL, NULL, 0) != ATT_OK) return SPEC_BAD_VALUE;
        break;
    case HV_CURSOR: {
        struct cursor_pos pos;
        if (!cursor_decode(s, f->cursor_kind, f->cursor_keylen, &pos)) return SPEC_BAD_VALUE;
        if (f->pos) *f->pos = pos;
        break;
    }
    case HV_ENUM: {
        int i = 0;
        while (f->one_of[i] != NULL && strcmp(f->one_of[i], s) != 0) i++;
        if (f->one_of[i] == NULL) return SPEC_BAD_VALUE;
        if (f->index) *f->index = i;
        break;
    }
    default: return SPEC_BAD_VALUE; /* not a string type */
    }
    if (f->text) *f->text = s;
    return SPEC_OK;
}

bool spec_is_string(enum http_vtype t)
{
    return t == HV_TEXT || t == HV_UUID || t == HV_DATE || t == HV_TIME || t == HV_TIMESTAMP || t == HV_URL ||
        t == HV_ENUM || t == HV_CURSOR;
}

/* What a value of type t must be, after "'name' " or "query parameter 'name' ". */
void spec_rule(const struct http_field *f, char *out, size_t outlen)
{
    char list[256];
    if (f->rule) {
        snprintf(out, outlen, "%s", f->rule);
        return;
    }
    switch (f->type) {
    case HV_TEXT:
        if (f->max_chars > 0)
            snprintf(out, outlen, "must be %d to %ld characters of printable text (no control characters)",
                     f->min_len > 0 ? 1 : 0, f->max_chars);
        else snprintf(out, outlen, "must be a string");
        return;
    case HV_UUID: snprintf(out, outlen, "must be a uuid"); return;
    case HV_DATE: snprintf(out, outlen, "must be a date YYYY-MM-DD"); return;
    case HV_TIME: snprintf(out, outlen, "must be a time of day HH:MM"); return;
    case HV_TIMESTAMP: snprintf(out, outlen, "must be an RFC 3339 date-time such as 2024-05-01T07:00:00Z"); return;
    case HV_URL: snprintf(out, outlen, "must be an rtsp://, http(s):// or file URL capture accepts"); return;
    case HV_CURSOR: snprintf(out, outlen, "is not a cursor this API returned"); return;
    case HV_ENUM:
        spec_list(f->one_of, true, list, sizeof list);
        snprintf(out, outlen, "must be one of %s", list);
        return;
    case HV_BOOL: snprintf(out, outlen, "must be true or false"); return;
    case HV_INT:
        if (f->min < f->max) snprintf(out, outlen, "must be an integer from %lld to %lld", f->min, f->max);
        else snprintf(out, outlen, "must be an integer");
        return;
    case HV_NUMBER:
        if (f->fmin < f->fmax) snprintf(out, outlen, "must be a number from %g to %g", f->fmin, f->fmax);
        else snprintf(out, outlen, "must be a number");
        return;
    case HV_OBJECT: snprintf(out, outlen, "must be an object"); return;
    case HV_ARRAY: snprintf(out, outlen, "must be an array"); return;
    }
    snprintf(out, outlen, "is not acceptable");
}

/* ---- JSON bodies ------------------------------------------------------------------------------------ */

static const char *json_type_name(enum http_vtype t)
{
    switch (t) {
    case HV_BOOL: return "a boolean";
    case HV_INT: return "an integer";
    case HV_NUMBER: return "a number";
    case HV_OBJECT: return "an object";
    case HV_ARRAY: return "an array";
    default: return "a string";
    }
}

static bool json_type_ok(const json_t *v, enum http_vtype t)
{
    switch (t) {
    case HV_BOOL: return json_is_boolean(v);
    case HV_INT: return json_is_integer(v);
    case HV_NUMBER: return json_is_number(v);
    case HV_OBJECT: return json_is_object(v);
    case HV_ARRAY: return json_is_array(v);
    default: return json_is_string(v);
    }
}

/* Deepest nesting of containers, stopping as soon as it passes limit (so recursion stays shallow). */
static int depth(const json_t *v, int level, int limit)
{
    if (level > limit) return level;
    int max = level;
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, c)
        {
            int d = depth(c, level + 1, limit);
            if (d > max) max = d;
            if (max > limit) break;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c)
        {
            int d = depth(c, level + 1, limit);
            if (d > max) max = d;
            if (max > limit) break;
        }
    }
    return max;
}

/* "application/json" with optional parameters (charset), case-insensitive. */
static bool is_json_media_type(const char *ct)
{
    if (ct == NULL) return false;
    while (*ct == ' ' || *ct == '\t') ct++;
    size_t n = strcspn(ct, "; \t");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static const struct http_field *spec_find(const struct http_field *spec, const char *name)
{
    for (; spec->name != NULL; spec++)
        if (strcmp(spec->name, name) == 0) return spec;
    return NULL;
}

static att_err invalid(struct http_response *resp, const struct http_field *f)
{
    char rule[320];
    spec_rule(f, rule, sizeof rule);
    return http_problem(resp, ATT_E_INVALID, f->name, "'%s' %s", f->name, rule);
}

/* Check one present member and fill its outputs. */
static att_err body_value(struct http_response *resp, const struct http_field *f, json_t *v)
{
    if (f->seen) *f->seen = true;
    if (json_is_null(v)) {
        if (!f->nullable)
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be %s, not null", f->name,
                                json_type_name(f->type));
        if (f->null) *f->null = true;
        if (f->text) *f->text = NULL;
        return ATT_OK;
    }
    if (!json_type_ok(v, f->type))
        return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be %s", f->name, json_type_name(f->type));
    if (spec_is_string(f->type)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        switch (spec_text_value(f, s, len)) {
        case SPEC_OK: return ATT_OK;
        case SPEC_TOO_SHORT:
            if (f->rule || f->max_chars > 0) return invalid(resp, f);
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be at least %zu bytes long", f->name,
                                f->min_len);
        case SPEC_TOO_LONG:
            if (f->rule || f->max_chars > 0) return invalid(resp, f);
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be at most %zu bytes long", f->name,
                                f->max_len);
        case SPEC_BAD_VALUE:
            if (f->type == HV_URL && !f->rule) {
                char why[160] = "is not a URL capture accepts";
                if (strlen(s) != len)
                    return http_problem(resp, ATT_E_INVALID, f->name, "'%s' contains control characters", f->name);
                (void)cap_url_validate(s, NULL, why, sizeof why); /* why never repeats the URL */
                return http_problem(resp, ATT_E_INVALID, f->name, "'%s' %s", f->name, why);
            }
            return invalid(resp, f);
        }
        return invalid(resp, f);
    }
    switch (f->type) {
    case HV_BOOL:
        if (f->flag) *f->flag = json_is_true(v);
        break;
    case HV_INT: {
        json_int_t i = json_integer_value(v);
        if (f->min < f->max && (i < f->min || i > f->max))
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be between %lld and %lld", f->name, f->min,
                                f->max);
        if (f->integer) *f->integer = i;
        break;
    }
    case HV_NUMBER: {
        double d = json_number_value(v);
        if (!isfinite(d) || (f->fmin < f->fmax && (d < f->fmin || d > f->fmax))) return invalid(resp, f);
        if (f->number) *f->number = d;
        break;
    }
    case HV_OBJECT:
    case HV_ARRAY:
        if (f->json) *f->json = v;
        break;
    default: break;
    }
    return ATT_OK;
}

att_err http_body_media(const struct http_request *req, struct http_response *resp)
{
    if (!is_json_media_type(http_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return http_problem(resp, ATT_E_MEDIA_TYPE, NULL, "the request body must be application/json");
    return ATT_OK;
}

att_err http_body_parse(struct http_response *resp, const char *body, size_t len, const struct http_field *spec,
                        json_t **doc)
{
    *doc = NULL;
    if (len == 0) return http_problem(resp, ATT_E_BAD_JSON, NULL, "the request body is empty");

    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: {"role":"hr","role":"admin"} must not mean whatever the parser keeps */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return http_problem(resp, ATT_E_BAD_JSON, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    att_err e = ATT_OK;
    const char *key;
    json_t *v;
    if (depth(root, 1, HTTP_JSON_MAX_DEPTH) > HTTP_JSON_MAX_DEPTH) {
        e = http_problem(resp, ATT_E_BAD_JSON, NULL, "JSON nested deeper than %d levels", HTTP_JSON_MAX_DEPTH);
    } else if (!json_is_object(root)) {
        e = http_problem(resp, ATT_E_BAD_REQUEST, NULL, "the request body must be a JSON object");
    } else {
        json_object_foreach(root, key, v)
        {
            if (spec_find(spec, key) == NULL) {
                e = http_problem(resp, ATT_E_INVALID, key, "unknown field '%s'", key);
                break;
            }
        }
    }
    for (const struct http_field *f = spec; e == ATT_OK && f->name != NULL; f++) {
        v = json_object_get(root, f->name);
        if (v != NULL) e = body_value(resp, f, v);
        else if (f->required) e = http_problem(resp, ATT_E_INVALID, f->name, "'%s' is required", f->name);
    }
    if (e != ATT_OK) {
        json_decref(root);
        return e;
    }
    *doc = root;
    return ATT_OK;
}

att_err http_body_read(const struct http_request *req, struct http_response *resp, const struct http_field *spec,
                       json_t **doc)
{
    *doc = NULL;
    att_err e = http_body_media(req, resp);
    if (e != ATT_OK) return e;
    return http_body_parse(resp, req->body, req->body_len, spec, doc);
}
