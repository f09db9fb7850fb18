/* docs/openapi.json: structurally OpenAPI 3 (also checked by JSON::Validator, Debian's
 * libjson-validator-perl), and in step with the real route table and error registry. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attendd/errors.h"
#include "src/http/http_internal.h"
#include "support.h"

static const char *const op_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace", NULL};

static char *spec_path(void)
{
    char *p;
    ck_assert(asprintf(&p, "%s/docs/openapi.json", ts_env("ATTENDD_SRCDIR")) > 0);
    return p;
}

static json_t *load_spec(void)
{
    char *p = spec_path();
    json_error_t err;
    json_t *doc = json_load_file(p, JSON_REJECT_DUPLICATES, &err);
    ck_assert_msg(doc != NULL, "%s:%d: %s", p, err.line, err.text);
    free(p);
    return doc;
}

/* RFC 6901 pointer "#/a/b~1c" inside doc; NULL if it leads nowhere. */
static json_t *resolve_ref(json_t *doc, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0) return NULL; /* the file must stand alone: no external refs */
    json_t *cur = doc;
    const char *s = ref + 2;
    while (cur != NULL) {
        char tok[256];
        size_t n = 0;
        for (; *s != '\0' && *s != '/'; s++) {
            char c = *s;
            if (c == '~') {
                c = s[1] == '1' ? '/' : s[1] == '0' ? '~' : '\0';
                if (c == '\0') return NULL;
                s++;
            }
            if (n + 1 >= sizeof tok) return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) cur = json_object_get(cur, tok);
        else if (json_is_array(cur)) cur = json_array_get(cur, strtoul(tok, NULL, 10));
        else cur = NULL;
        if (*s == '\0') return cur;
        s++;
    }
    return NULL;
}

/* Follow a $ref (one level is all the file uses, but chains are followed). */
static json_t *deref(json_t *doc, json_t *v)
{
    for (int i = 0; i < 8 && json_is_object(v) && json_object_get(v, "$ref"); i++)
        v = resolve_ref(doc, json_string_value(json_object_get(v, "$ref")));
    return v;
}

/* Every "$ref" anywhere in v; counts them and reports the first that does not resolve. */
static void check_refs(json_t *doc, json_t *v, const char *where, int *nrefs)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m)
        {
            if (strcmp(k, "$ref") == 0) {
                ck_assert_msg(json_is_string(m), "%s: $ref is not a string", where);
                ck_assert_msg(resolve_ref(doc, json_string_value(m)) != NULL, "%s: $ref %s does not resolve", where,
                              json_string_value(m));
                (*nrefs)++;
            } else {
                check_refs(doc, m, k, nrefs);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) check_refs(doc, m, where, nrefs);
    }
}

START_TEST(structure_is_openapi3)
{
    json_t *doc = load_spec();
    const char *ver = json_string_value(json_object_get(doc, "openapi"));
    ck_assert_msg(ver != NULL && strncmp(ver, "3.", 2) == 0, "openapi must be a 3.x version string");
    json_t *info = json_object_get(doc, "info");
    ck_assert_msg(json_string_length(json_object_get(info, "title")) > 0, "info.title missing");
    ck_assert_msg(json_string_length(json_object_get(info, "version")) > 0, "info.version missing");
    json_t *paths = json_object_get(doc, "paths");
    ck_assert_msg(json_is_object(paths) && json_object_size(paths) > 0, "paths must be a non-empty object");

    int nops = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        ck_assert_msg(path[0] == '/', "path %s must start with /", path);
        for (const char *const *m = op_methods; *m; m++) {
            json_t *op = json_object_get(item, *m);
            if (!op) continue;
            nops++;
            json_t *r = json_object_get(op, "responses");
            ck_assert_msg(json_is_object(r) && json_object_size(r) > 0, "%s %s has no responses", *m, path);
            ck_assert_msg(json_string_length(json_object_get(op, "summary")) > 0, "%s %s has no summary", *m, path);
            const char *code;
            json_t *resp;
            json_object_foreach(r, code, resp)
            {
                json_t *d = deref(doc, resp);
                ck_assert_msg(json_is_string(json_object_get(d, "description")),
                              "%s %s: response %s has no description", *m, path, code);
            }
        }
    }
    ck_assert_int_gt(nops, 0);

    int nrefs = 0;
    check_refs(doc, doc, "/", &nrefs);
    ck_assert_int_gt(nrefs, 0);
    json_decref(doc);
}
END_TEST

START_TEST(ref_checker_catches_a_dangling_ref)
{
    /* the checker itself: a pointer to nothing, an escaped segment, an external ref */
    json_t *doc = json_pack("{s:{s:{s:{s:s}, s:{s:s}}}}", "components", "schemas", "A/B", "type", "object", "C", "type",
                            "string");
    ck_assert_ptr_nonnull(resolve_ref(doc, "#/components/schemas/A~1B"));
    ck_assert_ptr_nonnull(resolve_ref(doc, "#/components/schemas/C/type"));
    ck_assert_ptr_null(resolve_ref(doc, "#/components/schemas/D"));
    ck_assert_ptr_null(resolve_ref(doc, "#/components/schemas/A/B"));
    ck_assert_ptr_null(resolve_ref(doc, "other.json#/components/schemas/C"));
    json_decref(doc);
}
END_TEST

/* Parameters of an operation plus those of its path item, dereferenced. */
static bool has_path_param(json_t *doc, json_t *list, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        p = deref(doc, p);
        const char *in = json_string_value(json_object_get(p, "in")),
                   *nm = json_string_value(json_object_get(p, "name"));
        if (in && nm && strcmp(in, "path") == 0 && strcmp(nm, name) == 0) {
            ck_assert_msg(json_is_true(json_object_get(p, "required")), "path parameter %s must be required", name);
            return true;
        }
    }
    return false;
}

START_TEST(path_parameters_are_declared)
{
    json_t *doc = load_spec();
    const char *path;
    json_t *item;
    int checked = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (const char *const *m = op_methods; *m; m++) {
            json_t *op = json_object_get(item, *m);
            if (!op) continue;
            json_t *plist = json_object_get(op, "parameters"), *ilist = json_object_get(item, "parameters");
            int in_template = 0;
            /* every {name} of the template is declared ... */
            for (const char *s = strchr(path, '{'); s; s = strchr(s + 1, '{')) {
                const char *e = strchr(s, '}');
                ck_assert_msg(e != NULL && e > s + 1, "%s: malformed template", path);
                char name[64];
                ck_assert_uint_lt((size_t)(e - s - 1), sizeof name);
                memcpy(name, s + 1, (size_t)(e - s - 1));
                name[e - s - 1] = '\0';
                ck_assert_msg(has_path_param(doc, plist, name) || has_path_param(doc, ilist, name),
                              "%s %s: path parameter {%s} is not declared", *m, path, name);
                in_template++;
                checked++;
            }
            /* ... and nothing else is declared as a path parameter */
            int declared = 0;
            size_t i;
            json_t *p;
            json_array_foreach(plist, i, p)
            {
                p = deref(doc, p);
                ck_assert_msg(p != NULL, "%s %s: a parameter $ref does not resolve", *m, path);
                const char *in = json_string_value(json_object_get(p, "in"));
                if (in && strcmp(in, "path") == 0) declared++;
            }
            ck_assert_msg(declared <= in_template, "%s %s declares a path parameter not in the template", *m, path);
        }
    }
    ck_assert_int_gt(checked, 0);
    json_decref(doc);
}
END_TEST

static const char *role_text(enum att_role r)
{
    return r == ROLE_NONE ? "none" : r == ROLE_ADMIN ? "admin" : r == ROLE_KIOSK ? "kiosk" : "hr";
}

static void lower(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

/* Routes in the table must be operations in the file (same role, same pseudonym rule, security)
 * and every operation in the file must be a route: a missing or stale entry fails naming it. */
START_TEST(operations_equal_route_table)
{
    json_t *doc = load_spec();
    json_t *paths = json_object_get(doc, "paths");
    json_t *global_sec = json_object_get(doc, "security");
    ck_assert_msg(json_array_size(global_sec) > 0, "top-level security (bearer) missing");
    ck_assert_uint_gt(http_route_count(), 0);
    ck_assert_ptr_null(http_route_at(http_route_count()));

    char missing[4096] = "", buf[256];
    for (size_t i = 0; i < http_route_count(); i++) {
        const struct http_route *r = http_route_at(i);
        char m[16];
        lower(r->method, m, sizeof m);
        /* the router's {name} segments are OpenAPI path templates already */
        json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
        if (!op) {
            snprintf(buf, sizeof buf, " %s %s;", r->method, r->pattern);
            strncat(missing, buf, sizeof missing - strlen(missing) - 1);
            continue;
        }
        const char *role = json_string_value(json_object_get(op, "x-attendd-role"));
        ck_assert_msg(role && strcmp(role, role_text(r->min_role)) == 0,
                      "%s %s: x-attendd-role is %s, the table says %s", r->method, r->pattern, role ? role : "(none)",
                      role_text(r->min_role));
        json_t *ps = json_object_get(op, "x-attendd-pseudonymous");
        ck_assert_msg(json_is_boolean(ps) && json_is_true(ps) == r->pseudonym_ok,
                      "%s %s: x-attendd-pseudonymous must be %s", r->method, r->pattern,
                      r->pseudonym_ok ? "true" : "false");
        json_t *sec = json_object_get(op, "security");
        if (r->min_role == ROLE_NONE)
            ck_assert_msg(json_is_array(sec) && json_array_size(sec) == 0, "%s %s needs no token: security must be []",
                          r->method, r->pattern);
        else
            ck_assert_msg(sec == NULL || json_array_size(sec) > 0, "%s %s needs a token: security must not be []",
                          r->method, r->pattern);
    }
    ck_assert_msg(missing[0] == '\0', "routes without an operation in docs/openapi.json:%s", missing);

    char extra[4096] = "";
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        for (const char *const *m = op_methods; *m; m++) {
            if (!json_object_get(item, *m)) continue;
            bool found = false;
            for (size_t i = 0; i < http_route_count() && !found; i++) {
                const struct http_route *r = http_route_at(i);
                char rm[16];
                lower(r->method, rm, sizeof rm);
                found = strcmp(rm, *m) == 0 && strcmp(r->pattern, path) == 0;
            }
            if (!found) {
                snprintf(buf, sizeof buf, " %s %s;", *m, path);
                strncat(extra, buf, sizeof extra - strlen(extra) - 1);
            }
        }
    }
    ck_assert_msg(extra[0] == '\0', "operations in docs/openapi.json without a route:%s", extra);
    json_decref(doc);
}
END_TEST

/* The Problem schema's code enum is the error registry, no more, no less. */
START_TEST(problem_codes_equal_registry)
{
    json_t *doc = load_spec();
    json_t *problem = resolve_ref(doc, "#/components/schemas/Problem");
    ck_assert_msg(problem != NULL, "components.schemas.Problem missing");
    json_t *code = deref(doc, json_object_get(json_object_get(problem, "properties"), "code"));
    json_t *en = json_object_get(code, "enum");
    ck_assert_msg(json_is_array(en), "Problem.code needs an enum of the registry's codes");
    for (int e = ATT_OK + 1; e < ATT_ERR__COUNT; e++) {
        bool found = false;
        size_t i;
        json_t *v;
        json_array_foreach(en, i, v) found = found || strcmp(json_string_value(v), att_err_code((att_err)e)) == 0;
        ck_assert_msg(found, "error code %s (include/attendd/errors.h) is not in Problem.code",
                      att_err_code((att_err)e));
    }
    ck_assert_msg(json_array_size(en) == (size_t)(ATT_ERR__COUNT - 1),
                  "Problem.code lists %zu codes, the registry has %d", json_array_size(en), ATT_ERR__COUNT - 1);
    json_decref(doc);
}
END_TEST

/* JSON::Validator checks the file against the OpenAPI 3.0 schema from Debian's
 * openapi-specification package, offline; exit status 0 only without errors. */
static int validate(const char *file, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "perl -MJSON::Validator::Schema::OpenAPIv3 -e 'my $s = JSON::Validator::Schema::OpenAPIv3->new(shift); "
             "my @e = @{$s->errors}; print \"$_\\n\" for @e; exit(@e ? 1 : 0)' '%s' 2>&1",
             file);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    return pclose(f);
}

START_TEST(validator_accepts_the_file)
{
    ck_assert_msg(system("perl -MJSON::Validator::Schema::OpenAPIv3 -e 1 2>/dev/null") == 0,
                  "JSON::Validator is missing: scripts/install-deps installs libjson-validator-perl");
    char *p = spec_path(), out[4096];
    int st = validate(p, out, sizeof out);
    ck_assert_msg(st == 0, "docs/openapi.json is not valid OpenAPI 3.0:\n%s", out);
    free(p);

    /* and the validator does reject a broken document (so a pass above means something) */
    json_t *doc = load_spec();
    json_object_del(json_object_get(doc, "info"), "version");
    char tmp[] = "/tmp/attendd-openapi-XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(json_dump_file(doc, tmp, 0), 0);
    json_decref(doc);
    st = validate(tmp, out, sizeof out);
    unlink(tmp);
    ck_assert_msg(st != 0 && strstr(out, "/info/version") != NULL,
                  "validator accepted a document without info.version: %s", out);
}
END_TEST

Suite *openapi_suite(void)
{
    Suite *s = suite_create("openapi");
    ts_tcase(s, "spec", 60, NULL, NULL, structure_is_openapi3, ref_checker_catches_a_dangling_ref,
             path_parameters_are_declared, operations_equal_route_table, problem_codes_equal_registry,
             validator_accepts_the_file, NULL);
    return s;
}
