/* JSON text with shortest exact numbers (src/util/json.c). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/json.h"
#include "support.h"

START_TEST(real_text_is_shortest_and_exact)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.45, "0.45"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {2.0, "2.0"},
        {-2.5, "-2.5"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {100000.0, "100000.0"},
        {1e16, "10000000000000000.0"},
        {1e17, "1e17"},
        {1.5e300, "1.5e300"},
        {1e-4, "0.0001"},
        {1.25e-5, "1.25e-5"},
        {-1e-7, "-1e-7"},
        {123456789012345680.0, "1.2345678901234568e17"},
        {5e-324, "5e-324"},
        {DBL_MAX, "1.7976931348623157e308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {0.8734567165374756, "0.8734567165374756"},
        {1714550352.123456, "1714550352.123456"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[ATT_JSON_REAL_TEXT];
        size_t n = att_json_real_text(cases[i].v, out);
        ck_assert_uint_eq(n, strlen(out));
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: %s, want %s", i, out, cases[i].want);
    }
    /* every text reads back exactly, and one digit fewer would not */
    unsigned long long x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v)) continue;
        char out[ATT_JSON_REAL_TEXT];
        att_json_real_text(v, out);
        ck_assert_msg(strtod(out, NULL) == v, "%s does not read back as %.17g", out, v);
        /* significant digits: no sign, point, leading zeros or trailing zeros of the mantissa */
        char m[ATT_JSON_REAL_TEXT];
        size_t nm = 0;
        for (const char *p = out; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && (nm > 0 || *p != '0')) m[nm++] = *p;
        while (nm > 1 && m[nm - 1] == '0') nm--;
        size_t digits = nm ? nm : 1;
        char shorter[64];
        for (int p = 1; p < 17; p++) {
            snprintf(shorter, sizeof shorter, "%.*e", p - 1, v);
            if (strtod(shorter, NULL) == v) {
                ck_assert_msg(digits <= (size_t)p, "%s is longer than %s", out, shorter);
                break;
            }
        }
    }
}
END_TEST

START_TEST(floats_print_as_floats)
{
    static const struct {
        float f;
        const char *want;
    } cases[] = {
        {0.8734567f, "0.8734567"},
        {0.45f, "0.45"},
        {1.0f, "1.0"},
        {-0.1f, "-0.1"},
        {FLT_MAX, "3.4028235e38"},
        {FLT_MIN, "1.1754944e-38"},
        {16777217.0f, "16777216.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = att_json_float(cases[i].f);
        ck_assert_ptr_nonnull(j);
        ck_assert((float)json_real_value(j) == cases[i].f);
        char *s = att_json_dumps(j, JSON_ENCODE_ANY);
        ck_assert_msg(strcmp(s, cases[i].want) == 0, "case %zu: %s, want %s", i, s, cases[i].want);
        free(s);
        json_decref(j);
    }
    ck_assert_ptr_null(att_json_float(NAN));
    ck_assert_ptr_null(att_json_float(INFINITY));
}
END_TEST

START_TEST(documents_keep_everything_but_real_digits)
{
    json_t *o = json_pack("{s:f, s:i, s:s, s:[f, f, I], s:{s:f}, s:n, s:b, s:s}", "similarity", 0.45, "n", 12, "name",
                          "0.45000000000000001 \"1.0e5\" \\ -3.25", "list", 0.1, -1e-7, (json_int_t)-9007199254740993LL,
                          "nested", "x", 1e300, "none", "ok", 1, "key\"1.10", "2.50");
    char *s = att_json_dumps(o, JSON_COMPACT);
    ck_assert_str_eq(s,
                     "{\"similarity\":0.45,\"n\":12,\"name\":\"0.45000000000000001 \\\"1.0e5\\\" \\\\ -3.25\","
                     "\"list\":[0.1,-1e-7,-9007199254740993],\"nested\":{\"x\":1e300},\"none\":null,\"ok\":true,"
                     "\"key\\\"1.10\":\"2.50\"}");
    free(s);
    s = att_json_dumps(o, JSON_INDENT(2));
    char *plain = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    ck_assert(strstr(s, "\"similarity\": 0.45,\n") && strstr(plain, "\"similarity\": 0.45000000000000001,\n"));
    free(plain);
    free(s);
    /* the result parses back to an equal document */
    s = att_json_dumps(o, JSON_COMPACT);
    json_t *back = json_loads(s, 0, NULL);
    ck_assert(json_equal(back, o));
    json_decref(back);
    free(s);
    json_decref(o);
    ck_assert_ptr_null(att_json_dumps(NULL, 0));
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    ts_tcase(s, "numbers", 0, NULL, NULL, real_text_is_shortest_and_exact, floats_print_as_floats,
             documents_keep_everything_but_real_digits, NULL);
    return s;
}
