/* Request-side helpers for handlers: path/query parameters, JSON bodies checked against a declared
 * field spec (400 malformed, 422 naming the field), the request's database connection, audit rows. */
#include "http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attendd/log.h"
#include "attendd/store_audit.h"

const char *http_param(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

const char *http_req_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static att_err req_db(struct http_request *req)
{
    if (req->db != NULL) return ATT_OK;
    if (req->app->db == NULL) return ATT_E_DB;
    return db_acquire(req->app->db, HTTP_DB_WAIT_MS, &req->db);
}

att_err http_req_db(struct http_request *req, struct http_response *resp, PGconn **out)
{
    att_err e = req_db(req);
    if (e == ATT_OK) {
        *out = req->db;
        return ATT_OK;
    }
    if (req->app->db == NULL) return http_problem(resp, ATT_E_DB, NULL, "no database is configured");
    if (e == ATT_E_UNAVAILABLE)
        return http_problem(resp, ATT_E_UNAVAILABLE, NULL, "no database connection became free within %d ms",
                            HTTP_DB_WAIT_MS);
    if (e == ATT_E_SCHEMA) return http_problem(resp, e, NULL, "the database schema is not up to date");
    return http_problem(resp, ATT_E_DB, NULL, "the database cannot be reached");
}

/* ---- JSON bodies ------------------------------------------------------------------------------ */

static const char *type_name(enum http_json_type t)
{
    switch (t) {
    case HJ_STRING: return "a string";
    case HJ_INTEGER: return "an integer";
    case HJ_NUMBER: return "a number";
    case HJ_BOOLEAN: return "a boolean";
    case HJ_OBJECT: return "an object";
    case HJ_ARRAY: return "an array";
    }
    return "?";
}

static bool has_type(const json_t *v, enum http_json_type t)
{
    switch (t) {
    case HJ_STRING: return json_is_string(v);
    case HJ_INTEGER: return json_is_integer(v);
    case HJ_NUMBER: return json_is_number(v);
    case HJ_BOOLEAN: return json_is_boolean(v);
    case HJ_OBJECT: return json_is_object(v);
    case HJ_ARRAY: return json_is_array(v);
    }
    return false;
}

/* Deepest nesting of containers, stopping as soon as it passes limit (so recursion stays shallow). */
static int depth(const json_t *v, int level, int limit)
{
    if (level > limit) return level;
    int max = level;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            int d = depth(c, level + 1, limit);
            if (d > max) max = d;
            if (max > limit) break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
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

static const struct http_json_field *spec_find(const struct http_json_field *spec, const char *name)
{
    for (; spec->name != NULL; spec++)
        if (strcmp(spec->name, name) == 0) return spec;
    return NULL;
}

static att_err check_field(struct http_response *resp, const struct http_json_field *f, json_t *v)
{
    if (json_is_null(v)) {
        if (f->nullable) return ATT_OK;
        return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be %s, not null", f->name, type_name(f->type));
    }
    if (!has_type(v, f->type))
        return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be %s", f->name, type_name(f->type));
    if (f->type == HJ_STRING) {
        size_t len = json_string_length(v);
        if (len < f->min_len)
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be at least %zu bytes long", f->name,
                                f->min_len);
        if (f->max_len > 0 && len > f->max_len)
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be at most %zu bytes long", f->name,
                                f->max_len);
        if (f->one_of != NULL) {
            const char *s = json_string_value(v);
            bool ok = false;
            char list[256] = "";
            size_t off = 0;
            for (const char *const *a = f->one_of; *a != NULL; a++) {
                if (strcmp(*a, s) == 0) ok = true;
                int n = snprintf(list + off, sizeof list - off, "%s\"%s\"", off ? ", " : "", *a);
                if (n > 0 && (size_t)n < sizeof list - off) off += (size_t)n;
            }
            if (!ok) return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be one of %s", f->name, list);
        }
    } else if (f->type == HJ_INTEGER && f->min < f->max) {
        json_int_t i = json_integer_value(v);
        if (i < f->min || i > f->max)
            return http_problem(resp, ATT_E_INVALID, f->name, "'%s' must be between %lld and %lld", f->name,
                                f->min, f->max);
    }
    return ATT_OK;
}

att_err http_json_media(const struct http_request *req, struct http_response *resp)
{
    if (!is_json_media_type(http_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return http_problem(resp, ATT_E_MEDIA_TYPE, NULL, "the request body must be application/json");
    return ATT_OK;
}

att_err http_json_body(const struct http_request *req, struct http_response *resp,
                       const struct http_json_field *spec, json_t **out)
{
    *out = NULL;
    att_err e = http_json_media(req, resp);
    if (e != ATT_OK) return e;
    return http_json_parse(resp, req->body, req->body_len, spec, out);
}

att_err http_json_parse(struct http_response *resp, const char *body, size_t len, const struct http_json_field *spec,
                        json_t **out)
{
    *out = NULL;
    if (len == 0) return http_problem(resp, ATT_E_BAD_JSON, NULL, "the request body is empty");

    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: {"role":"hr","role":"admin"} must not mean whatever the parser keeps */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return http_problem(resp, ATT_E_BAD_JSON, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    if (depth(root, 1, HTTP_JSON_MAX_DEPTH) > HTTP_JSON_MAX_DEPTH) {
        json_decref(root);
        return http_problem(resp, ATT_E_BAD_JSON, NULL, "JSON nested deeper than %d levels", HTTP_JSON_MAX_DEPTH);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return http_problem(resp, ATT_E_BAD_REQUEST, NULL, "the request body must be a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (spec_find(spec, key) == NULL) {
            att_err e = http_problem(resp, ATT_E_INVALID, key, "unknown field '%s'", key);
            json_decref(root);
            return e;
        }
    }
    for (const struct http_json_field *f = spec; f->name != NULL; f++) {
        v = json_object_get(root, f->name);
        att_err e = ATT_OK;
        if (v == NULL) {
            if (f->required) e = http_problem(resp, ATT_E_INVALID, f->name, "'%s' is required", f->name);
        } else {
            e = check_field(resp, f, v);
        }
        if (e != ATT_OK) {
            json_decref(root);
            return e;
        }
    }
    *out = root;
    return ATT_OK;
}

/* ---- query strings ---------------------------------------------------------------------------- */

static const char *query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

att_err http_query_int(const struct http_request *req, struct http_response *resp, const char *name,
                       long long min, long long max, long long dflt, long long *out)
{
    const char *s = query(req, name);
    if (s == NULL) {
        *out = dflt;
        return ATT_OK;
    }
    if (!http_parse_int(s, min, max, out))
        return http_problem(resp, ATT_E_BAD_PARAM, name, "query parameter '%s' must be an integer from %lld to %lld",
                            name, min, max);
    return ATT_OK;
}

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

att_err http_query_bool(const struct http_request *req, struct http_response *resp, const char *name, int dflt,
                        int *out)
{
    const char *s = query(req, name);
    if (s == NULL) {
        *out = dflt;
        return ATT_OK;
    }
    if (!http_parse_bool(s, out))
        return http_problem(resp, ATT_E_BAD_PARAM, name, "query parameter '%s' must be true or false", name);
    return ATT_OK;
}

att_err http_query_enum(const struct http_request *req, struct http_response *resp, const char *name,
                        const char *const *allowed, int dflt, int *out)
{
    const char *s = query(req, name);
    if (s == NULL) {
        *out = dflt;
        return ATT_OK;
    }
    char list[256] = "";
    size_t off = 0;
    for (int i = 0; allowed[i] != NULL; i++) {
        if (strcmp(allowed[i], s) == 0) {
            *out = i;
            return ATT_OK;
        }
        int n = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", allowed[i]);
        if (n > 0 && (size_t)n < sizeof list - off) off += (size_t)n;
    }
    return http_problem(resp, ATT_E_BAD_PARAM, name, "query parameter '%s' must be one of: %s", name, list);
}

att_err http_query_str(const struct http_request *req, struct http_response *resp, const char *name,
                       size_t max_len, const char **out)
{
    const char *s = query(req, name);
    if (s != NULL && strlen(s) > max_len)
        return http_problem(resp, ATT_E_BAD_PARAM, name, "query parameter '%s' is longer than %zu bytes", name,
                            max_len);
    *out = s;
    return ATT_OK;
}

/* ---- audit ---------------------------------------------------------------------------------- */

struct audit_actor http_actor(const struct http_request *req)
{
    return (struct audit_actor){req->token ? req->token->id : NULL, req->token ? req->token->name : "anonymous"};
}

att_err http_audit(struct http_request *req, const char *action, const char *target_type, const char *target_id,
                   const char *outcome, const char *detail_json)
{
    att_err e = req_db(req);
    if (e == ATT_OK) {
        struct audit_entry a = {
            .token_id = req->token ? req->token->id : NULL,
            .actor = req->token ? req->token->name : "anonymous",
            .action = action,
            .target_type = target_type,
            .target_id = target_id,
            .outcome = outcome,
            .detail_json = detail_json,
        };
        e = store_audit_insert(req->db, &a);
    }
    if (e != ATT_OK) log_error("http", "audit row for %s (%s) not written: %s", action, outcome, att_err_code(e));
    return e;
}
