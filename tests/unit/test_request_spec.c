/* Request specs (src/http/request_spec.c, query_spec.c): every value type's good and bad forms in a
 * JSON body and in a query string, the typed values filled, the problem's status, code and field. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "src/http/http_internal.h"
#include "src/http/request_spec.h"
#include "support.h"

/* The problem in resp: status, code and field (NULL: no field member). */
static void expect_problem(struct http_response *resp, unsigned status, const char *code, const char *field)
{
    ck_assert_uint_eq(resp->status, status);
    json_t *p = json_loads(resp->body, 0, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(json_string_value(json_object_get(p, "code")), code);
    const char *f = json_string_value(json_object_get(p, "field"));
    if (field) {
        ck_assert_msg(f && strcmp(f, field) == 0, "field %s, expected %s", f ? f : "(none)", field);
    } else {
        ck_assert_ptr_null(f);
    }
    ck_assert(strlen(json_string_value(json_object_get(p, "detail"))) > 0);
    json_decref(p);
    http_response_clear(resp);
    *resp = (struct http_response){0};
}

static att_err body(struct http_response *resp, const char *text, const struct http_field *spec, json_t **doc)
{
    return http_body_parse(resp, text, strlen(text), spec, doc);
}

/* One member "v" of spec f: accepted (with *f->text equal to text when both are given, checked while
 * the document it points into lives) or refused with a 422 naming "v". */
static void body_text_case(const struct http_field *f, const char *member_json, bool accept, const char *text_out)
{
    struct http_field spec[2] = {*f, {NULL}};
    spec[0].name = "v";
    char text[512];
    snprintf(text, sizeof text, "{\"v\": %s}", member_json);
    struct http_response resp = {0};
    json_t *doc = NULL;
    att_err e = body(&resp, text, spec, &doc);
    if (accept) {
        ck_assert_msg(e == ATT_OK, "%s refused: %s", member_json, resp.body ? resp.body : "");
        ck_assert_ptr_nonnull(doc);
        ck_assert_uint_eq(resp.status, 0);
        if (text_out) ck_assert_str_eq(*f->text, text_out);
        json_decref(doc);
    } else {
        ck_assert_msg(e == ATT_E_INVALID, "%s accepted", member_json);
        ck_assert_ptr_null(doc);
        expect_problem(&resp, 422, "invalid_field", "v");
    }
}

static void body_case(const struct http_field *f, const char *member_json, bool accept)
{
    body_text_case(f, member_json, accept, NULL);
}

/* The same through a query string ?v=value: accepted, or a 400 bad_parameter naming "v". */
static void query_case(const struct http_field *f, const char *value, bool accept)
{
    struct http_field spec[2] = {*f, {NULL}};
    spec[0].name = "v";
    struct http_query_arg arg = {"v", value};
    struct http_response resp = {0};
    att_err e = http_query_parse(&resp, &arg, 1, spec, HTTP_QUERY_CLOSED);
    if (accept) {
        ck_assert_msg(e == ATT_OK, "?v=%s refused: %s", value, resp.body ? resp.body : "");
    } else {
        ck_assert_msg(e == ATT_E_BAD_PARAM, "?v=%s accepted", value);
        expect_problem(&resp, 400, "bad_parameter", "v");
    }
}

START_TEST(text_bounds_and_display_rules)
{
    const char *s = NULL;
    struct http_field plain = {.type = HV_TEXT, .min_len = 2, .max_len = 4, .text = &s};
    body_case(&plain, "\"abc\"", true);
    body_case(&plain, "\"a\"", false);
    body_case(&plain, "\"abcde\"", false);
    body_case(&plain, "12", false);
    query_case(&plain, "abcd", true);
    ck_assert_str_eq(s, "abcd");
    query_case(&plain, "a", false);
    query_case(&plain, "abcde", false);

    struct http_field display = {.type = HV_TEXT, .min_len = 1, .max_len = 400, .max_chars = 3, .text = &s};
    body_text_case(&display, "\"张伟\"", true, "张伟");
    body_case(&display, "\"four\"", false);  /* 4 characters */
    body_case(&display, "\"a\\tb\"", false); /* control character */
    body_case(&display, "\"\"", false);
    query_case(&display, "ICU", true);
    query_case(&display, "a\x7f", false);
    query_case(&display, "\xc3", false); /* invalid UTF-8 */
}
END_TEST

START_TEST(uuid_date_time_timestamp)
{
    att_uuid u = {{0}};
    const char *s = NULL;
    struct http_field fu = {.type = HV_UUID, .uuid = &u, .text = &s};
    body_text_case(&fu, "\"0A1B2C3D-0000-4000-8000-00000000000F\"", true, "0A1B2C3D-0000-4000-8000-00000000000F");
    ck_assert_uint_eq(u.b[0], 0x0a);
    ck_assert_uint_eq(u.b[15], 0x0f);
    body_case(&fu, "\"0a1b2c3d-0000-4000-8000-00000000000\"", false);
    body_case(&fu, "\"0a1b2c3d00004000800000000000000f\"", false);
    query_case(&fu, "0a1b2c3d-0000-4000-8000-00000000000f", true);
    query_case(&fu, "not-a-uuid", false);
    query_case(&fu, "", false);

    int64_t days = -1;
    struct http_field fd = {.type = HV_DATE, .days = &days};
    body_case(&fd, "\"1970-01-02\"", true);
    ck_assert_int_eq(days, 1);
    body_case(&fd, "\"2024-02-30\"", false);
    body_case(&fd, "\"2024-2-3\"", false);
    query_case(&fd, "2024-02-29", true);
    ck_assert_int_eq(days, 19782);
    query_case(&fd, "2023-02-29", false);

    int minutes = -1;
    struct http_field ft = {.type = HV_TIME, .minutes = &minutes};
    body_case(&ft, "\"07:30\"", true);
    ck_assert_int_eq(minutes, 450);
    body_case(&ft, "\"24:00\"", false);
    body_case(&ft, "\"7:30\"", false);
    query_case(&ft, "23:59", true);
    ck_assert_int_eq(minutes, 1439);
    query_case(&ft, "12:60", false);

    int64_t us = 0;
    struct http_field fts = {.type = HV_TIMESTAMP, .us = &us};
    body_case(&fts, "\"1970-01-01T00:00:01.5Z\"", true);
    ck_assert_int_eq(us, 1500000);
    body_case(&fts, "\"1970-01-01T02:00:00+02:00\"", true);
    ck_assert_int_eq(us, 0);
    body_case(&fts, "\"2024-05-01 07:00\"", false);
    body_case(&fts, "\"2024-13-01T00:00:00Z\"", false);
    query_case(&fts, "2024-05-01T07:00:00Z", true);
    query_case(&fts, "yesterday", false);
}
END_TEST

START_TEST(url_enum_bool)
{
    const char *s = NULL;
    struct http_field fu = {.type = HV_URL, .min_len = 1, .max_len = 500, .text = &s};
    body_text_case(&fu, "\"rtsp://cam.example:554/stream\"", true, "rtsp://cam.example:554/stream");
    body_case(&fu, "\"gopher://cam.example/\"", false);
    body_case(&fu, "\"\"", false);

    static const char *const kinds[] = {"in", "out", NULL};
    int idx = -1;
    struct http_field fe = {.type = HV_ENUM, .one_of = kinds, .index = &idx};
    body_case(&fe, "\"out\"", true);
    ck_assert_int_eq(idx, 1);
    body_case(&fe, "\"OUT\"", false);
    query_case(&fe, "in", true);
    ck_assert_int_eq(idx, 0);
    query_case(&fe, "sideways", false);

    bool flag = false;
    struct http_field fb = {.type = HV_BOOL, .flag = &flag};
    body_case(&fb, "true", true);
    ck_assert(flag);
    body_case(&fb, "\"true\"", false);
    body_case(&fb, "1", false);
    query_case(&fb, "0", true);
    ck_assert(!flag);
    query_case(&fb, "true", true);
    ck_assert(flag);
    query_case(&fb, "yes", false);
}
END_TEST

START_TEST(integer_and_number_ranges)
{
    long long i = 0;
    struct http_field fi = {.type = HV_INT, .min = 1, .max = 500, .integer = &i};
    body_case(&fi, "500", true);
    ck_assert_int_eq(i, 500);
    body_case(&fi, "0", false);
    body_case(&fi, "501", false);
    body_case(&fi, "2.5", false);
    body_case(&fi, "\"7\"", false);
    query_case(&fi, "1", true);
    ck_assert_int_eq(i, 1);
    query_case(&fi, "501", false);
    query_case(&fi, " 7", false);
    query_case(&fi, "7x", false);
    query_case(&fi, "", false);

    double d = 0;
    struct http_field fn = {.type = HV_NUMBER, .fmin = 0.5, .fmax = 30, .number = &d};
    body_case(&fn, "2.5", true);
    ck_assert(d == 2.5);
    body_case(&fn, "30", true); /* an integer is a number */
    ck_assert(d == 30);
    body_case(&fn, "0.4", false);
    body_case(&fn, "\"6\"", false);
    query_case(&fn, "0.5", true);
    query_case(&fn, "31", false);
    query_case(&fn, "nan", false);
}
END_TEST

START_TEST(required_optional_and_null)
{
    const char *name = "preset", *title = "preset";
    bool name_seen = false, title_seen = false, title_null = false;
    const struct http_field spec[] = {
        {.name = "name",
         .type = HV_TEXT,
         .required = true,
         .min_len = 1,
         .max_len = 10,
         .text = &name,
         .seen = &name_seen},
        {.name = "title",
         .type = HV_TEXT,
         .nullable = true,
         .max_len = 10,
         .text = &title,
         .seen = &title_seen,
         .null = &title_null},
        {NULL},
    };
    struct http_response resp = {0};
    json_t *doc = NULL;
    ck_assert_int_eq(body(&resp, "{\"name\": \"Ada\"}", spec, &doc), ATT_OK);
    ck_assert_str_eq(name, "Ada");
    ck_assert(name_seen && !title_seen && !title_null);
    ck_assert_str_eq(title, "preset"); /* absent: left as preset */
    json_decref(doc);

    ck_assert_int_eq(body(&resp, "{\"name\": \"Ada\", \"title\": null}", spec, &doc), ATT_OK);
    ck_assert(title_seen && title_null);
    ck_assert_ptr_null(title);
    json_decref(doc);

    ck_assert_int_eq(body(&resp, "{\"title\": \"RN\"}", spec, &doc), ATT_E_INVALID);
    expect_problem(&resp, 422, "invalid_field", "name");
    ck_assert_int_eq(body(&resp, "{\"name\": null}", spec, &doc), ATT_E_INVALID);
    expect_problem(&resp, 422, "invalid_field", "name");
    ck_assert_int_eq(body(&resp, "{\"name\": \"Ada\", \"age\": 3}", spec, &doc), ATT_E_INVALID);
    expect_problem(&resp, 422, "invalid_field", "age");
    ck_assert_ptr_null(doc);

    /* a required query parameter, and an absent optional one left as preset */
    long long limit = 100;
    bool limit_seen = false;
    const struct http_field q[] = {
        {.name = "from", .type = HV_DATE, .required = true, .rule = "is required: a date YYYY-MM-DD"},
        {.name = "limit", .type = HV_INT, .min = 1, .max = 500, .integer = &limit, .seen = &limit_seen},
        {NULL},
    };
    ck_assert_int_eq(http_query_parse(&resp, NULL, 0, q, HTTP_QUERY_CLOSED), ATT_E_BAD_PARAM);
    expect_problem(&resp, 400, "bad_parameter", "from");
    struct http_query_arg from = {"from", "2024-05-01"};
    ck_assert_int_eq(http_query_parse(&resp, &from, 1, q, HTTP_QUERY_CLOSED), ATT_OK);
    ck_assert_int_eq(limit, 100);
    ck_assert(!limit_seen);
}
END_TEST

START_TEST(body_shape_problems)
{
    const struct http_field spec[] = {{.name = "a", .type = HV_OBJECT}, {NULL}};
    struct http_response resp = {0};
    json_t *doc = NULL;
    ck_assert_int_eq(http_body_parse(&resp, "", 0, spec, &doc), ATT_E_BAD_JSON);
    expect_problem(&resp, 400, "malformed_json", NULL);
    ck_assert_int_eq(body(&resp, "{\"a\": {}, \"a\": {}}", spec, &doc), ATT_E_BAD_JSON);
    expect_problem(&resp, 400, "malformed_json", NULL);
    ck_assert_int_eq(body(&resp, "{\"a\": ", spec, &doc), ATT_E_BAD_JSON);
    expect_problem(&resp, 400, "malformed_json", NULL);
    /* an embedded NUL never reaches a value (it could cut a name or pass as a shorter enum value) */
    ck_assert_int_eq(body(&resp, "{\"a\": \"in\\u0000x\"}", spec, &doc), ATT_E_BAD_JSON);
    expect_problem(&resp, 400, "malformed_json", NULL);
    ck_assert_int_eq(body(&resp, "[1]", spec, &doc), ATT_E_BAD_REQUEST);
    expect_problem(&resp, 400, "bad_request", NULL);
    char deep[256] = "{\"a\": ";
    for (int i = 0; i < HTTP_JSON_MAX_DEPTH; i++) strcat(deep, "[");
    for (int i = 0; i < HTTP_JSON_MAX_DEPTH; i++) strcat(deep, "]");
    strcat(deep, "}");
    ck_assert_int_eq(body(&resp, deep, spec, &doc), ATT_E_BAD_JSON);
    expect_problem(&resp, 400, "malformed_json", NULL);
    ck_assert_int_eq(body(&resp, "{\"a\": []}", spec, &doc), ATT_E_INVALID);
    expect_problem(&resp, 422, "invalid_field", "a");

    json_t *obj = NULL;
    const struct http_field spec2[] = {{.name = "a", .type = HV_OBJECT, .json = &obj}, {NULL}};
    ck_assert_int_eq(body(&resp, "{\"a\": {\"x\": 1}}", spec2, &doc), ATT_OK);
    ck_assert(json_is_object(obj) && json_integer_value(json_object_get(obj, "x")) == 1);
    json_decref(doc);
}
END_TEST

START_TEST(query_unknown_and_repeated)
{
    long long limit = 0;
    const struct http_field spec[] = {
        {.name = "limit", .type = HV_INT, .min = 1, .max = 9, .integer = &limit},
        {.name = "q", .type = HV_TEXT, .max_len = 8},
        {NULL},
    };
    struct http_response resp = {0};
    struct http_query_arg unknown[] = {{"limit", "3"}, {"limt", "4"}};
    ck_assert_int_eq(http_query_parse(&resp, unknown, 2, spec, HTTP_QUERY_CLOSED), ATT_E_BAD_PARAM);
    expect_problem(&resp, 400, "bad_parameter", "limt");
    ck_assert_int_eq(http_query_parse(&resp, unknown, 2, spec, HTTP_QUERY_OPEN), ATT_OK);
    ck_assert_int_eq(limit, 3);

    struct http_query_arg twice[] = {{"limit", "3"}, {"limit", "5"}};
    ck_assert_int_eq(http_query_parse(&resp, twice, 2, spec, HTTP_QUERY_CLOSED), ATT_E_BAD_PARAM);
    expect_problem(&resp, 400, "bad_parameter", "limit");
    ck_assert_int_eq(http_query_parse(&resp, twice, 2, spec, HTTP_QUERY_OPEN), ATT_OK);
    ck_assert_int_eq(limit, 3); /* the first value */

    struct http_query_arg no_value[] = {{"limit", NULL}};
    limit = 42;
    ck_assert_int_eq(http_query_parse(&resp, no_value, 1, spec, HTTP_QUERY_CLOSED), ATT_OK);
    ck_assert_int_eq(limit, 42); /* "?limit" carries no value: absent */

    int fmt = -1;
    const struct http_field formats[] = {HTTP_FORMAT_FIELD(&fmt), {NULL}};
    struct http_query_arg csv = {"format", "csv"}, xml = {"format", "xml"};
    ck_assert_int_eq(http_query_parse(&resp, &csv, 1, formats, HTTP_QUERY_CLOSED), ATT_OK);
    ck_assert_int_eq(fmt, 1);
    ck_assert_int_eq(http_query_parse(&resp, &xml, 1, formats, HTTP_QUERY_CLOSED), ATT_E_BAD_PARAM);
    expect_problem(&resp, 400, "bad_parameter", "format");
}
END_TEST

Suite *request_spec_suite(void)
{
    Suite *s = suite_create("request_spec");
    ts_tcase(s, "values", 0, NULL, NULL, text_bounds_and_display_rules, uuid_date_time_timestamp, url_enum_bool,
             integer_and_number_ranges, required_optional_and_null, body_shape_problems, query_unknown_and_repeated,
             NULL);
    return s;
}
