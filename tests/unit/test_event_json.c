/* The fast event encoder (http_event_text) writes byte for byte what jansson writes for the same event
 * (att_json_dumps of http_event_json): names with quotes, backslashes, control characters, CJK and
 * emoji, null fields, both token views. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/json.h"
#include "attendd/store_events.h"
#include "src/http/http_internal.h"
#include "attendd/text_buf.h"
#include "support.h"

#define ID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define PID "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define CAM "9a0b6a1c-6f3e-4d4b-8a43-2a7a1d5c9e10"
#define TS "2024-05-01T07:59:12.123456Z"

START_TEST(fast_encoder_matches_jansson)
{
    static const struct event_row rows[] = {
        {ID, PID, "E-1", "Ada Lovelace", CAM, "in", TS, 0.45, 0.9, "camera", NULL, NULL, "pk-1", 1, NULL},
        {ID, PID, "E-2", "Zoë \"Doc\" O'Brien \\ Ward 3", CAM, "out", TS, 0.8734567, 0.5, "camera", NULL, NULL, "pk-2",
         2, NULL},
        {ID, PID, "E-3", "tab\there\nnew\rline\bback\fform\x01\x1f\x7f", CAM, "in", TS, 1.0, 0.0, "camera", NULL, NULL,
         NULL, 3, NULL},
        {ID, PID, "护士-7", "张伟 李娜", CAM, "in", TS, 0.30000000000000004, 1.0 / 3.0, "camera", NULL, NULL, "p", 4,
         NULL},
        {ID, PID, "E-5", "😀 Émilie 👩‍⚕️", NULL, "out", TS, 1e-7, 123456.5, "camera", NULL, NULL, "q", 5,
         NULL},
        {ID, NULL, NULL, NULL, NULL, "in", TS, NAN, NAN, "manual", "forgot to \"clock\" in\n", "hr \\ desk", NULL, 6,
         NULL},
        {ID, PID, "E-7", "Manual Mo", NULL, "out", TS, NAN, NAN, "manual", NULL, NULL, "pk-7", 7,
         "2024-05-02T08:00:00.000000Z"},
        {ID, PID, "", "", CAM, "in", TS, -0.0, 2.0, "camera", NULL, NULL, "", 8, NULL},
        {ID, PID, "E-9", "slash / and </script>", CAM, "in", TS, 0.1, 0.7, "camera", NULL, NULL, "pk/9", 9, NULL},
    };
    int compared = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int pseudo = 0; pseudo <= 1; pseudo++) {
            json_t *j = http_event_json(&rows[i], pseudo);
            ck_assert_msg(j != NULL, "row %zu: jansson refused it", i);
            char *want = att_json_dumps(j, JSON_COMPACT);
            json_decref(j);
            struct text_buf b = {0};
            http_event_text(&b, &rows[i], pseudo);
            ck_assert(!b.oom);
            ck_assert_msg(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0,
                          "row %zu (%s):\n fast %.*s\n jansson %s", i, pseudo ? "pseudonymous" : "named", (int)b.len,
                          b.p, want);
            /* and it is JSON that reads back as the same object */
            json_t *back = json_loadb(b.p, b.len, 0, NULL);
            ck_assert_ptr_nonnull(back);
            json_decref(back);
            text_buf_free(&b);
            free(want);
            compared++;
        }
    }
    ck_assert_int_eq(compared, 18);
}
END_TEST

Suite *event_json_suite(void)
{
    Suite *s = suite_create("event_json");
    ts_tcase(s, "encoders", 30, NULL, NULL, fast_encoder_matches_jansson, NULL);
    return s;
}
