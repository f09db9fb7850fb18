/* JSON API helpers of the test suites (see support_api.h), on the HTTP client of support.c. */
#include "support_api.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

json_t *ts_json_body(const char *body, size_t len)
{
    if (len == 0) return NULL;
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    ck_assert_msg(j != NULL, "not JSON (%s): %.300s", e.text, body);
    return j;
}

const char *ts_jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_string(v), "member '%s' missing or not a string", k);
    return json_string_value(v);
}

const char *ts_jstr_opt(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long ts_jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_integer(v), "member '%s' missing or not an integer", k);
    return json_integer_value(v);
}

json_t *ts_call(const char *method, const char *url, const char *token, const char *json, long *status)
{
    struct ts_resp r;
    ck_assert_int_eq(ts_http(method, url, token, json, json ? strlen(json) : 0, json ? "application/json" : NULL, &r),
                     0);
    *status = r.status;
    json_t *j = ts_json_body(r.body, r.len);
    ts_resp_free(&r);
    return j;
}

void ts_expect_problem(json_t *j, long status, long want, const char *code, const char *field)
{
    char *txt = j ? json_dumps(j, JSON_COMPACT) : strdup("(no body)");
    ck_assert_msg(status == want, "status %ld, expected %ld: %s", status, want, txt);
    ck_assert_msg(j != NULL, "no problem body");
    if (code) {
        ck_assert_msg(strcmp(ts_jstr(j, "code"), code) == 0, "code %s, expected %s: %s", ts_jstr(j, "code"), code, txt);
        char type[160];
        snprintf(type, sizeof type, "https://attendd.example/problems/%s", code);
        ck_assert_str_eq(ts_jstr(j, "type"), type);
    }
    ck_assert(strlen(ts_jstr(j, "title")) > 0);
    ck_assert(strlen(ts_jstr(j, "detail")) > 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), want);
    if (field)
        ck_assert_msg(strcmp(ts_jstr(j, "field"), field) == 0, "field %s, expected %s: %s", ts_jstr(j, "field"), field,
                      txt);
    free(txt);
    json_decref(j);
}

int ts_api_consent_text(const char *base_url, const char *admin_token)
{
    char u[512];
    snprintf(u, sizeof u, "%s/api/v1/consent-texts", base_url);
    long st;
    json_t *j = ts_call("GET", u, admin_token, NULL, &st);
    ck_assert_msg(st == 200, "GET consent-texts: %ld", st);
    json_t *items = json_object_get(j, "items");
    size_t n = json_array_size(items);
    int version = n ? (int)json_integer_value(json_object_get(json_array_get(items, n - 1), "version")) : 0;
    json_decref(j);
    if (version > 0) return version;
    j = ts_call("POST", u, admin_token,
                "{\"language\":\"en\",\"text\":\"I agree that my face is used to record my attendance.\"}", &st);
    ck_assert_msg(st == 201, "POST consent-texts: %ld", st);
    version = (int)ts_jint(j, "version");
    json_decref(j);
    return version;
}

void ts_api_consent_given(const char *base_url, const char *admin_token, const char *person_id)
{
    int version = ts_api_consent_text(base_url, admin_token);
    char u[512], body[64];
    snprintf(u, sizeof u, "%s/api/v1/people/%s/consent", base_url, person_id);
    snprintf(body, sizeof body, "{\"state\":\"given\",\"text_version\":%d}", version);
    long st;
    json_t *j = ts_call("POST", u, admin_token, body, &st);
    ck_assert_msg(st == 200, "consent for %s: %ld", person_id, st);
    ck_assert_str_eq(ts_jstr(j, "state"), "given");
    json_decref(j);
}

const char *ts_face_photo(const char *file)
{
    static char buf[4][512];
    static int i;
    char *p = buf[i++ & 3], *d = ts_data_path("faces");
    snprintf(p, 512, "%s/%s", d, file);
    free(d);
    return p;
}

long ts_api_wait_ready(const char *base_url)
{
    char u[512];
    snprintf(u, sizeof u, "%s/readyz", base_url);
    long st = 0;
    for (int i = 0; i < 600 && st != 200; i++) {
        struct ts_resp r;
        if (ts_http("GET", u, NULL, NULL, 0, NULL, &r) == 0) st = r.status;
        ts_resp_free(&r);
        if (st != 200) usleep(100000);
    }
    return st;
}

void ts_api_whoami_id(const char *base_url, const char *token, char *id, size_t len)
{
    char u[512];
    snprintf(u, sizeof u, "%s/api/v1/whoami", base_url);
    long st;
    json_t *j = ts_call("GET", u, token, NULL, &st);
    ck_assert_int_eq(st, 200);
    snprintf(id, len, "%s", ts_jstr(j, "id"));
    json_decref(j);
}

void ts_api_create_person(const char *base_url, const char *admin_token, const char *employee_no, const char *name,
                          const char *dept, char id[40])
{
    char u[512];
    snprintf(u, sizeof u, "%s/api/v1/people", base_url);
    json_t *b = json_pack("{s:s, s:s, s:s}", "employee_no", employee_no, "name", name, "department", dept);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    ck_assert_ptr_nonnull(body);
    long st;
    json_t *j = ts_call("POST", u, admin_token, body, &st);
    ck_assert_msg(st == 201, "create %s: %ld", employee_no, st);
    snprintf(id, 40, "%s", ts_jstr(j, "id"));
    json_decref(j);
    free(body);
}

json_t *ts_post_file(const char *url, const char *token, const char *path, const char *ctype, long *status)
{
    size_t len;
    char *b = ts_slurp(path, &len);
    struct ts_resp r;
    ck_assert_int_eq(ts_http("POST", url, token, b, len, ctype, &r), 0);
    free(b);
    *status = r.status;
    json_t *j = ts_json_body(r.body, r.len);
    ts_resp_free(&r);
    return j;
}

json_t *ts_api_identify_largest(const char *base_url, const char *token, const char *path)
{
    char u[512];
    snprintf(u, sizeof u, "%s/api/v1/identify", base_url);
    long st;
    json_t *j = ts_post_file(u, token, path, "image/jpeg", &st);
    ck_assert_msg(st == 200, "identify %s: %ld", path, st);
    json_t *faces = json_object_get(j, "faces"), *best = NULL, *f;
    ck_assert(json_is_array(faces));
    double best_area = -1;
    size_t i;
    json_array_foreach(faces, i, f)
    {
        json_t *b = json_object_get(f, "box");
        double area =
            (double)json_integer_value(json_object_get(b, "w")) * (double)json_integer_value(json_object_get(b, "h"));
        if (area > best_area) {
            best_area = area;
            best = f;
        }
    }
    json_incref(best);
    json_decref(j);
    return best;
}

const char *ts_face_match_id(json_t *face)
{
    json_t *m = face ? json_object_get(face, "match") : NULL;
    return json_is_object(m) ? json_string_value(json_object_get(m, "person_id")) : NULL;
}
