/* JSON API helpers of the test suites (see support_api.h), on the HTTP client of support.c. */
#include "support_api.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

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
