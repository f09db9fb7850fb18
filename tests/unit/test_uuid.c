/* The uuid type (src/util/uuid.c): canonical text in either case, every malformed form refused,
 * lower-case formatting, round trips, and the version and variant bits of new uuids. */
#include <check.h>
#include <string.h>

#include "attendd/uuid.h"

static const att_uuid SAMPLE = {
    {0x6f, 0x1c, 0x1a, 0x1e, 0x8c, 0x5b, 0x4a, 0x55, 0x9a, 0x0e, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}};

START_TEST(parses_canonical_text)
{
    att_uuid u;
    ck_assert(att_uuid_parse("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f", &u));
    ck_assert_mem_eq(u.b, SAMPLE.b, ATT_UUID_BYTES);
    ck_assert(att_uuid_parse("6F1C1A1E-8C5B-4A55-9A0E-0A0B0C0D0E0F", &u)); /* upper case */
    ck_assert_mem_eq(u.b, SAMPLE.b, ATT_UUID_BYTES);
    ck_assert(att_uuid_parse("6f1C1a1E-8c5B-4a55-9A0e-0a0B0c0D0e0F", &u)); /* mixed */
    ck_assert_mem_eq(u.b, SAMPLE.b, ATT_UUID_BYTES);
    ck_assert(att_uuid_parse("00000000-0000-0000-0000-000000000000", &u));
    ck_assert(att_uuid_is_nil(&u));
    ck_assert(att_uuid_parse("ffffffff-ffff-ffff-ffff-ffffffffffff", &u));
    for (int i = 0; i < ATT_UUID_BYTES; i++) ck_assert_uint_eq(u.b[i], 0xff);
    ck_assert(att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f"));
    ck_assert(att_uuid_valid("6F1C1A1E-8C5B-4A55-9A0E-0A0B0C0D0E0F"));
}
END_TEST

START_TEST(refuses_every_other_form)
{
    static const char *const bad[] = {
        "",                                               /* empty */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0",            /* one digit short */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f0",          /* one digit long */
        "6f1c1a1e8c5b4a559a0e0a0b0c0d0e0f",               /* no hyphens */
        "6f1c1a1e8-c5b-4a55-9a0e-0a0b0c0d0e0f",           /* hyphen one place late */
        "6f1c1a1-e8c5b-4a55-9a0e-0a0b0c0d0e0f",           /* hyphen one place early */
        "6f1c1a1e-8c5b-4a559-a0e-0a0b0c0d0e0f",           /* third hyphen misplaced */
        "6f1c1a1e-8c5b-4a55-9a0e0-a0b0c0d0e0f",           /* fourth hyphen misplaced */
        "6f1c1a1e-8c5b-4a55-9a0e_0a0b0c0d0e0f",           /* another separator */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0-",           /* hyphen in a digit's place */
        "{6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f}",         /* braces */
        "gf1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f",           /* non-hex letter first */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0g",           /* non-hex letter last */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0 ",           /* space */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0\n",          /* newline instead of a digit */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f\n",         /* trailing newline */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f ",          /* trailing space */
        " 6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f",          /* leading space */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f-",          /* trailing hyphen */
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f0000000000", /* trailing bytes */
        "' OR 1=1 --",
        "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e\xc3\xa9", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        att_uuid u;
        ck_assert_msg(!att_uuid_parse(bad[i], &u), "case %zu parsed", i);
        ck_assert_msg(!att_uuid_valid(bad[i]), "case %zu valid", i);
    }
    /* a NUL inside the text ends it: what follows is not read as part of the uuid */
    static const char embedded[] = "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0\0f";
    att_uuid u;
    ck_assert(!att_uuid_parse(embedded, &u));
    ck_assert(!att_uuid_parse(NULL, &u));
    ck_assert(!att_uuid_valid(NULL));
    char out[ATT_UUID_STR];
    ck_assert(!att_uuid_canonical(NULL, out));
    ck_assert(!att_uuid_canonical("6f1c1a1e8c5b4a559a0e0a0b0c0d0e0f", out));
}
END_TEST

START_TEST(formats_lower_case_and_round_trips)
{
    char text[ATT_UUID_STR];
    memset(text, 'x', sizeof text);
    att_uuid_format(&SAMPLE, text);
    ck_assert_str_eq(text, "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f");
    ck_assert_uint_eq(strlen(text), ATT_UUID_STR - 1);
    att_uuid back;
    ck_assert(att_uuid_parse(text, &back));
    ck_assert(att_uuid_eq(&back, &SAMPLE));
    /* upper case in, lower case out */
    ck_assert(att_uuid_canonical("6F1C1A1E-8C5B-4A55-9A0E-0A0B0C0D0E0F", text));
    ck_assert_str_eq(text, "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f");
    /* every byte value in every position survives text and back */
    for (int v = 0; v < 256; v++) {
        att_uuid u;
        for (int i = 0; i < ATT_UUID_BYTES; i++) u.b[i] = (uint8_t)(v + 37 * i);
        att_uuid_format(&u, text);
        ck_assert(att_uuid_parse(text, &back));
        ck_assert(att_uuid_eq(&u, &back));
        for (int i = 0; i < ATT_UUID_STR - 1; i++)
            ck_assert(text[i] == '-' || (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'));
    }
    att_uuid other = SAMPLE;
    other.b[15] ^= 1;
    ck_assert(!att_uuid_eq(&other, &SAMPLE));
    ck_assert(!att_uuid_is_nil(&SAMPLE));
}
END_TEST

START_TEST(new_uuids_are_version_4_rfc_4122)
{
    att_uuid seen[64];
    for (int n = 0; n < 64; n++) {
        att_uuid_new(&seen[n]);
        ck_assert_uint_eq(seen[n].b[6] >> 4, 4); /* version 4 */
        ck_assert_uint_eq(seen[n].b[8] >> 6, 2); /* RFC 4122 variant (10xx) */
        ck_assert(!att_uuid_is_nil(&seen[n]));
        for (int k = 0; k < n; k++) ck_assert(!att_uuid_eq(&seen[k], &seen[n]));
    }
    char text[ATT_UUID_STR];
    att_uuid_new_text(text);
    ck_assert(att_uuid_valid(text));
    ck_assert_int_eq(text[14], '4');
    ck_assert(strchr("89ab", text[19]) != NULL);
}
END_TEST

/* Hash tables mask the low bits: uuids differing in one byte, at either end, must still spread. */
START_TEST(hash_spreads_uuids_differing_in_one_byte)
{
    ck_assert_uint_eq(att_uuid_hash(&SAMPLE), att_uuid_hash(&SAMPLE));
    for (int at = 0; at < ATT_UUID_BYTES; at += ATT_UUID_BYTES - 1) {
        bool bucket[256] = {false};
        int used = 0;
        for (int v = 0; v < 256; v++) {
            att_uuid u = SAMPLE;
            u.b[at] = (uint8_t)v;
            size_t b = (size_t)(att_uuid_hash(&u) & 255);
            if (!bucket[b]) used++;
            bucket[b] = true;
        }
        ck_assert_int_ge(used, 128); /* 256 random keys fill ~162 of 256 buckets */
    }
}
END_TEST

Suite *uuid_suite(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("uuid");
    tcase_add_test(tc, parses_canonical_text);
    tcase_add_test(tc, refuses_every_other_form);
    tcase_add_test(tc, formats_lower_case_and_round_trips);
    tcase_add_test(tc, new_uuids_are_version_4_rfc_4122);
    tcase_add_test(tc, hash_spreads_uuids_differing_in_one_byte);
    suite_add_tcase(s, tc);
    return s;
}
