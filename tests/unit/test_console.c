/* Console sign-in crypto without a database: TOTP against the RFC 6238 test vectors (SHA-256 and
 * SHA-512), the accepted window and replay refusal, base32 against RFC 4648, argon2id password
 * hashes and the password rule, session-bound CSRF tokens, usernames and roles. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "attendd/console.h"
#include "attendd/store_console.h"
#include "support.h"

/* RFC 6238 appendix B: seeds are the ASCII digits repeated to the hash's length, codes 8 digits. */
static const char seed32[] = "12345678901234567890123456789012";
static const char seed64[] = "1234567890123456789012345678901234567890123456789012345678901234";
static const struct {
    long long t;
    unsigned sha256, sha512;
} rfc6238[] = {
    {59, 46119246, 90693936},         {1111111109, 68084774, 25091201}, {1111111111, 67062674, 99943326},
    {1234567890, 91819424, 93441116}, {2000000000, 90698825, 38618901}, {20000000000LL, 77737706, 47863826},
};

START_TEST(totp_rfc6238_vectors)
{
    for (size_t i = 0; i < sizeof rfc6238 / sizeof rfc6238[0]; i++) {
        int64_t step = rfc6238[i].t / 30;
        ck_assert_uint_eq(console_totp_at((const unsigned char *)seed32, 32, CONSOLE_TOTP_SHA256, step, 8),
                          rfc6238[i].sha256);
        ck_assert_uint_eq(console_totp_at((const unsigned char *)seed64, 64, CONSOLE_TOTP_SHA512, step, 8),
                          rfc6238[i].sha512);
    }
}
END_TEST

/* The check accepts the current step and one either side, never a code twice, never a malformed one. */
START_TEST(totp_window_and_replay)
{
    unsigned char secret[CONSOLE_TOTP_SECRET_BYTES];
    console_totp_secret(secret);
    int64_t now = 1700000000, step = -1;
    char code[8];
    for (int d = -1; d <= 1; d++) {
        snprintf(code, sizeof code, "%06u",
                 console_totp_at(secret, sizeof secret, CONSOLE_TOTP_SHA256, now / 30 + d, 6));
        ck_assert_msg(console_totp_check(secret, sizeof secret, now, code, -1, &step), "step %d refused", d);
        ck_assert_int_eq(step, now / 30 + d);
        /* the same code once its step was accepted: refused */
        ck_assert(!console_totp_check(secret, sizeof secret, now, code, step, &step));
    }
    snprintf(code, sizeof code, "%06u", console_totp_at(secret, sizeof secret, CONSOLE_TOTP_SHA256, now / 30 + 3, 6));
    ck_assert(!console_totp_check(secret, sizeof secret, now, code, -1, &step));
    snprintf(code, sizeof code, "%06u", console_totp_at(secret, sizeof secret, CONSOLE_TOTP_SHA256, now / 30 - 3, 6));
    ck_assert(!console_totp_check(secret, sizeof secret, now, code, -1, &step));
    ck_assert(!console_totp_check(secret, sizeof secret, now, "12345", -1, &step));
    ck_assert(!console_totp_check(secret, sizeof secret, now, "1234567", -1, &step));
    ck_assert(!console_totp_check(secret, sizeof secret, now, "12a456", -1, &step));
    ck_assert(!console_totp_check(secret, sizeof secret, now, NULL, -1, &step));
}
END_TEST

START_TEST(base32_rfc4648_vectors)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    char out[32];
    for (size_t i = 0; i < 7; i++) {
        ck_assert(console_base32((const unsigned char *)in[i], strlen(in[i]), out, sizeof out));
        ck_assert_str_eq(out, want[i]);
    }
    ck_assert(!console_base32((const unsigned char *)"foobar", 6, out, 10)); /* no room for 10 + NUL */
}
END_TEST

START_TEST(password_hash_and_rule)
{
    char hash[CONSOLE_PASSWORD_HASH_MAX], hash2[CONSOLE_PASSWORD_HASH_MAX];
    ck_assert_int_eq(console_password_hash("correct horse battery", hash), ATT_OK);
    ck_assert_int_eq(console_password_hash("correct horse battery", hash2), ATT_OK);
    ck_assert_msg(strncmp(hash, "$argon2id$", 10) == 0, "not an argon2id hash: %s", hash);
    ck_assert_str_ne(hash, hash2); /* salted */
    ck_assert(console_password_verify(hash, "correct horse battery"));
    ck_assert(!console_password_verify(hash, "correct horse batterY"));
    ck_assert(!console_password_verify(hash, ""));
    ck_assert(!console_password_verify(NULL, "correct horse battery"));
    ck_assert(console_password_ok("twelve chars"));
    ck_assert(!console_password_ok("eleven char"));
    ck_assert(!console_password_ok("tab\there long enough"));
    ck_assert(!console_password_ok(NULL));
}
END_TEST

START_TEST(csrf_bound_to_session_and_key)
{
    struct token_key k1, k2;
    memset(k1.k, 1, sizeof k1.k);
    memset(k2.k, 2, sizeof k2.k);
    char a[CONSOLE_CSRF_MAX], b[CONSOLE_CSRF_MAX], c[CONSOLE_CSRF_MAX];
    console_csrf_token(&k1, "att_sessionA", 12, a);
    console_csrf_token(&k1, "att_sessionB", 12, b);
    console_csrf_token(&k2, "att_sessionA", 12, c);
    ck_assert_uint_eq(strlen(a), 43);
    ck_assert_str_ne(a, b);
    ck_assert_str_ne(a, c);
    ck_assert(console_csrf_ok(&k1, "att_sessionA", 12, a));
    ck_assert(!console_csrf_ok(&k1, "att_sessionA", 12, b));
    ck_assert(!console_csrf_ok(&k1, "att_sessionB", 12, a));
    ck_assert(!console_csrf_ok(&k1, "att_sessionA", 12, ""));
    ck_assert(!console_csrf_ok(&k1, "att_sessionA", 12, NULL));
    a[42] = a[42] == 'A' ? 'B' : 'A';
    ck_assert(!console_csrf_ok(&k1, "att_sessionA", 12, a));
}
END_TEST

START_TEST(usernames_and_roles)
{
    ck_assert(console_username_ok("admin"));
    ck_assert(console_username_ok("m.chen-2"));
    ck_assert(!console_username_ok(""));
    ck_assert(!console_username_ok("Admin"));
    ck_assert(!console_username_ok(".admin"));
    ck_assert(!console_username_ok("a b"));
    ck_assert(!console_username_ok(NULL));
    char longname[70];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    ck_assert(!console_username_ok(longname));
    longname[64] = '\0';
    ck_assert(console_username_ok(longname));
    enum console_role r;
    ck_assert(console_role_parse("manager", &r) && r == CONSOLE_MANAGER);
    ck_assert(console_role_parse("admin", &r) && r == CONSOLE_ADMIN);
    ck_assert(!console_role_parse("root", &r));
    ck_assert_str_eq(console_role_name(CONSOLE_HR), "hr");
}
END_TEST

Suite *console_suite(void)
{
    Suite *s = suite_create("console");
    ts_tcase(s, "crypto", 60, NULL, NULL, totp_rfc6238_vectors, totp_window_and_replay, base32_rfc4648_vectors,
             password_hash_and_rule, csrf_bound_to_session_and_key, usernames_and_roles, NULL);
    return s;
}
