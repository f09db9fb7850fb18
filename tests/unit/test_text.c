/* User display-text validation (src/util/text.c): UTF-8 forms, control characters, counting. */
#include <check.h>

#include "attendd/text.h"
#include "support.h"

START_TEST(valid_text_counts_characters)
{
    ck_assert_int_eq(text_chars(""), 0);
    ck_assert_int_eq(text_chars("Nurse Ward 3"), 12);
    ck_assert_int_eq(text_chars("张伟"), 2);             /* 3-byte forms */
    ck_assert_int_eq(text_chars("Zoë, \"RN\""), 9);      /* 2-byte form, punctuation */
    ck_assert_int_eq(text_chars("\xf0\x9f\x98\x80"), 1); /* 4-byte form (emoji) */
    ck_assert(text_ok("ICU", 1, 3));
    ck_assert(!text_ok("ICU", 1, 2));
    ck_assert(!text_ok("", 1, 10));
    ck_assert(!text_ok(NULL, 0, 10));
}
END_TEST

START_TEST(invalid_text_rejected)
{
    static const char *const bad[] = {
        "tab\there",
        "nl\n",
        "del\x7f",
        "c1\xc2\x85", /* C0, DEL, C1 (NEL) */
        "\xc0\xaf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf", /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
        "\xe4\xb8",
        "\x80",
        "\xff",
        "a\xc3", /* truncated, stray continuation, invalid */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(text_chars(bad[i]) == -1, "case %zu accepted", i);
}
END_TEST

Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    ts_tcase(s, "utf8", 0, NULL, NULL, valid_text_counts_characters, invalid_text_rejected, NULL);
    return s;
}
