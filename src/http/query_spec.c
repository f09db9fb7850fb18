/* Query strings read through a spec (src/http/request_spec.h): unknown or repeated parameters refused
 * on closed routes, every value typed and checked, the first bad parameter named in a 400 problem. */
#include "request_spec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "http_internal.h"
#include "spec_value.h"

#define QUERY_SPEC_MAX 32 /* fields per query spec (bits of a uint32_t) */

bool http_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || isspace((unsigned char)*s) || v < min || v > max) return false;
    *out = v;
    return true;
}

bool http_parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = 1;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
    } else {
        return false;
    }
    return true;
}

static size_t spec_index(const struct http_field *spec, const char *name)
{
    size_t i = 0;
    while (spec[i].name != NULL && strcmp(spec[i].name, name) != 0) i++;
    return i;
}

static att_err bad_param(struct http_response *resp, const struct http_field *f)
{
    char rule[320];
    if (f->type == HV_ENUM && !f->rule) {
        char list[256];
        spec_list(f->one_of, false, list, sizeof list);
        snprintf(rule, sizeof rule, "must be one of: %s", list);
    } else {
        spec_rule(f, rule, sizeof rule);
    }
    return http_problem(resp, ATT_E_BAD_PARAM, f->name, "query parameter '%s' %s", f->name, rule);
}

/* One parameter's text as a value of f's type; fills f's outputs on success. */
static att_err query_value(struct http_response *resp, const struct http_field *f, const char *s)
{
    if (f->seen) *f->seen = true;
    size_t len = strlen(s);
    if (f->max_len > 0 && len > f->max_len)
        return http_problem(resp, ATT_E_BAD_PARAM, f->name, "query parameter '%s' is longer than %zu bytes", f->name,
                            f->max_len);
    if (spec_is_string(f->type)) {
        enum spec_fault fault = spec_text_value(f, s, len);
        if (fault == SPEC_OK) return ATT_OK;
        if (fault == SPEC_TOO_SHORT && !f->rule && f->max_chars <= 0)
            return http_problem(resp, ATT_E_BAD_PARAM, f->name, "query parameter '%s' must be at least %zu bytes long",
                                f->name, f->min_len);
        return bad_param(resp, f);
    }
    switch (f->type) {
    case HV_BOOL: {
        int b;
        if (!http_parse_bool(s, &b)) return bad_param(resp, f);
        if (f->flag) *f->flag = b == 1;
        break;
    }
    case HV_INT: {
        long long v;
        if (!http_parse_int(s, f->min < f->max ? f->min : LLONG_MIN, f->min < f->max ? f->max : LLONG_MAX, &v))
            return bad_param(resp, f);
        if (f->integer) *f->integer = v;
        break;
    }
    case HV_NUMBER: {
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(d) ||
            (f->fmin < f->fmax && (d < f->fmin || d > f->fmax)))
            return bad_param(resp, f);
        if (f->number) *f->number = d;
        break;
    }
    default: /* objects and arrays have no query form */
        return http_problem(resp, ATT_E_INTERNAL, f->name, "query parameter '%s' has no text form", f->name);
    }
    return ATT_OK;
}

/* The parameters as received, reduced to the first value of each spec field; the first parameter
 * outside the spec and the first repeated one. */
struct query_walk {
    const struct http_field *spec;
    const char *value[QUERY_SPEC_MAX]; /* NULL: absent, or given without a value ("?a") */
    uint32_t given;                    /* bit i: spec[i] appeared */
    const char *unknown, *repeated;
};

static bool walk_arg(struct query_walk *w, const char *name, const char *value)
{
    size_t i = spec_index(w->spec, name);
    if (w->spec[i].name == NULL) {
        if (!w->unknown) w->unknown = name;
        return true;
    }
    if (i >= QUERY_SPEC_MAX) return false; /* finish() refuses such a spec */
    if (w->given & UINT32_C(1) << i) {
        if (!w->repeated) w->repeated = w->spec[i].name;
        return true;
    }
    w->given |= UINT32_C(1) << i;
    w->value[i] = value;
    return true;
}

static att_err finish(struct http_response *resp, struct query_walk *w, enum http_query_mode mode)
{
    const struct http_field *spec = w->spec;
    size_t n = spec_index(spec, "\x01"); /* the spec's length: no field has that name */
    if (n > QUERY_SPEC_MAX)
        return http_problem(resp, ATT_E_INTERNAL, NULL, "a query spec has more than %d fields", QUERY_SPEC_MAX);
    if (mode == HTTP_QUERY_CLOSED && w->repeated)
        return http_problem(resp, ATT_E_BAD_PARAM, w->repeated, "query parameter '%s' is given more than once",
                            w->repeated);
    if (mode == HTTP_QUERY_CLOSED && w->unknown) {
        char list[256] = "";
        size_t off = 0;
        for (size_t i = 0; spec[i].name; i++) {
            int k = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", spec[i].name);
            if (k > 0 && (size_t)k < sizeof list - off) off += (size_t)k;
        }
        return http_problem(resp, ATT_E_BAD_PARAM, w->unknown, "unknown query parameter; accepted: %s", list);
    }
    for (size_t i = 0; i < n; i++) {
        const struct http_field *f = &spec[i];
        if (w->value[i]) {
            att_err e = query_value(resp, f, w->value[i]);
            if (e != ATT_OK) return e;
        } else if (f->required) {
            if (f->rule)
                return http_problem(resp, ATT_E_BAD_PARAM, f->name, "query parameter '%s' %s", f->name, f->rule);
            return http_problem(resp, ATT_E_BAD_PARAM, f->name, "query parameter '%s' is required", f->name);
        }
    }
    return ATT_OK;
}

att_err http_query_parse(struct http_response *resp, const struct http_query_arg *args, size_t n,
                         const struct http_field *spec, enum http_query_mode mode)
{
    struct query_walk w = {.spec = spec};
    for (size_t i = 0; i < n; i++) walk_arg(&w, args[i].name, args[i].value);
    return finish(resp, &w, mode);
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    walk_arg(cls, key, value);
    return MHD_YES;
}

att_err http_query_read(const struct http_request *req, struct http_response *resp, const struct http_field *spec,
                        enum http_query_mode mode)
{
    if (!req->conn) return http_query_parse(resp, req->query, req->nquery, spec, mode);
    struct query_walk w = {.spec = spec};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect, &w);
    return finish(resp, &w, mode);
}
