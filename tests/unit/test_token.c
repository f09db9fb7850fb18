/* Token crypto (src/util/token.c): key files, random tokens, keyed hashes, syntax checks, roles. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/token.h"
#include "support.h"

static char g_dir[64];

static void dir_setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/attendd-token-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void dir_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
}

/* Write len bytes to DIR/name with exactly `mode` (umask bypassed by fchmod); returns the path. */
static const char *write_in_dir(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    ts_write_file(path, data, len, mode);
    return path;
}

static void raw_bytes(unsigned char *k)
{
    for (int i = 0; i < TOKEN_KEY_BYTES; i++) k[i] = (unsigned char)(i * 7 + 3);
}

START_TEST(key_load_raw)
{
    unsigned char raw[TOKEN_KEY_BYTES];
    raw_bytes(raw);
    struct token_key k;
    char err[256] = "";
    ck_assert_msg(token_key_load(write_in_dir("raw.key", raw, sizeof raw, 0600), &k, err, sizeof err) == ATT_OK, "%s",
                  err);
    ck_assert_mem_eq(k.k, raw, sizeof raw);
    /* owner read-only is fine too */
    ck_assert_int_eq(token_key_load(write_in_dir("ro.key", raw, sizeof raw, 0400), &k, err, sizeof err), ATT_OK);
}
END_TEST

START_TEST(key_load_hex)
{
    unsigned char raw[TOKEN_KEY_BYTES];
    raw_bytes(raw);
    char hex[2 * TOKEN_KEY_BYTES + 2];
    for (int i = 0; i < TOKEN_KEY_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    struct token_key k;
    char err[256] = "";
    ck_assert_int_eq(token_key_load(write_in_dir("hex.key", hex, 64, 0600), &k, err, sizeof err), ATT_OK);
    ck_assert_mem_eq(k.k, raw, sizeof raw);
    /* with a trailing newline, as `echo` or an editor leaves it; upper case too */
    for (int i = 0; i < 64; i++)
        if (hex[i] >= 'a') hex[i] = (char)(hex[i] - 32);
    hex[64] = '\n';
    memset(&k, 0, sizeof k);
    ck_assert_msg(token_key_load(write_in_dir("hexnl.key", hex, 65, 0600), &k, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_mem_eq(k.k, raw, sizeof raw);
    /* 64 characters that are not hex */
    hex[10] = 'z';
    ck_assert_int_eq(token_key_load(write_in_dir("nothex.key", hex, 64, 0600), &k, err, sizeof err), ATT_E_CONFIG);
}
END_TEST

START_TEST(key_load_wrong_length)
{
    unsigned char buf[200];
    memset(buf, 'a', sizeof buf);
    struct token_key k;
    char err[256] = "";
    const size_t bad[] = {0, 1, 31, 33, 63, 66, 100, 200};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(token_key_load(write_in_dir("len.key", buf, bad[i], 0600), &k, err, sizeof err) == ATT_E_CONFIG,
                      "length %zu accepted", bad[i]);
        ck_assert_msg(strstr(err, "len.key") != NULL, "message does not name the file: %s", err);
    }
}
END_TEST

START_TEST(key_load_refuses_open_modes)
{
    unsigned char raw[TOKEN_KEY_BYTES];
    raw_bytes(raw);
    struct token_key k;
    char err[256] = "";
    const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0610, 0666};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(token_key_load(write_in_dir("open.key", raw, sizeof raw, bad[i]), &k, err, sizeof err) ==
                          ATT_E_CONFIG,
                      "mode %o accepted", (unsigned)bad[i]);
        ck_assert_msg(strstr(err, "chmod 600") != NULL, "unhelpful message: %s", err);
    }
}
END_TEST

START_TEST(key_load_missing_and_not_regular)
{
    struct token_key k;
    char err[256] = "", path[128];
    snprintf(path, sizeof path, "%s/missing.key", g_dir);
    ck_assert_int_eq(token_key_load(path, &k, err, sizeof err), ATT_E_IO);
    ck_assert_msg(strstr(err, "missing.key") != NULL, "%s", err);
    ck_assert_int_eq(token_key_load(g_dir, &k, err, sizeof err), ATT_E_CONFIG); /* a directory */
    ck_assert_int_eq(token_key_load("", &k, err, sizeof err), ATT_E_CONFIG);
    ck_assert_int_eq(token_key_load(NULL, &k, err, sizeof err), ATT_E_CONFIG);
}
END_TEST

START_TEST(key_create)
{
    char err[256] = "", path[128];
    snprintf(path, sizeof path, "%s/new.key", g_dir);
    mode_t old = umask(0); /* a careless umask must not make the key readable */
    att_err rc = token_key_create(path, err, sizeof err);
    umask(old);
    ck_assert_msg(rc == ATT_OK, "%s", err);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_size, TOKEN_KEY_BYTES);
    struct token_key a, b;
    ck_assert_int_eq(token_key_load(path, &a, err, sizeof err), ATT_OK);
    /* never overwritten */
    ck_assert_int_eq(token_key_create(path, err, sizeof err), ATT_E_IO);
    ck_assert_int_eq(token_key_load(path, &b, err, sizeof err), ATT_OK);
    ck_assert_mem_eq(a.k, b.k, TOKEN_KEY_BYTES);
    /* two keys differ */
    snprintf(path, sizeof path, "%s/second.key", g_dir);
    ck_assert_int_eq(token_key_create(path, err, sizeof err), ATT_OK);
    ck_assert_int_eq(token_key_load(path, &b, err, sizeof err), ATT_OK);
    ck_assert(memcmp(a.k, b.k, TOKEN_KEY_BYTES) != 0);
    snprintf(path, sizeof path, "%s/no/such/dir.key", g_dir);
    ck_assert_int_eq(token_key_create(path, err, sizeof err), ATT_E_IO);
}
END_TEST

START_TEST(generate_well_formed_unique)
{
    char a[TOKEN_STR_MAX], b[TOKEN_STR_MAX];
    ck_assert_int_eq(token_generate(a), ATT_OK);
    ck_assert_int_eq(token_generate(b), ATT_OK);
    ck_assert_int_eq((int)strlen(a), 47);
    ck_assert(strncmp(a, "att_", 4) == 0);
    ck_assert(token_well_formed(a, strlen(a)));
    ck_assert(token_well_formed(b, strlen(b)));
    ck_assert_str_ne(a, b);
    for (size_t i = 4; i < strlen(a); i++) ck_assert(strchr("=+/", a[i]) == NULL);
}
END_TEST

START_TEST(well_formed_rejects)
{
    char t[TOKEN_STR_MAX];
    ck_assert_int_eq(token_generate(t), ATT_OK);
    size_t n = strlen(t);
    ck_assert(!token_well_formed(NULL, 0));
    ck_assert(!token_well_formed("", 0));
    ck_assert(!token_well_formed(t, n - 1));
    char longer[TOKEN_STR_MAX + 1];
    snprintf(longer, sizeof longer, "%sA", t);
    ck_assert(!token_well_formed(longer, n + 1));
    char bad[TOKEN_STR_MAX];
    memcpy(bad, t, n + 1);
    bad[0] = 'A';
    ck_assert(!token_well_formed(bad, n));
    memcpy(bad, t, n + 1);
    bad[10] = '=';
    ck_assert(!token_well_formed(bad, n));
    memcpy(bad, t, n + 1);
    bad[20] = '\0';
    ck_assert(!token_well_formed(bad, n));
    memcpy(bad, t, n + 1);
    bad[30] = '/';
    ck_assert(!token_well_formed(bad, n));
    ck_assert(token_well_formed("att_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_", 47));
}
END_TEST

START_TEST(hash_deterministic_and_keyed)
{
    struct token_key k1, k2;
    memset(k1.k, 1, sizeof k1.k);
    memset(k2.k, 1, sizeof k2.k);
    k2.k[31] = 2; /* one bit of key changes everything */
    char t[TOKEN_STR_MAX], u[TOKEN_STR_MAX];
    ck_assert_int_eq(token_generate(t), ATT_OK);
    ck_assert_int_eq(token_generate(u), ATT_OK);
    unsigned char h1[TOKEN_HASH_BYTES], h1b[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES], hu[TOKEN_HASH_BYTES];
    token_hash(&k1, t, strlen(t), h1);
    token_hash(&k1, t, strlen(t), h1b);
    token_hash(&k2, t, strlen(t), h2);
    token_hash(&k1, u, strlen(u), hu);
    ck_assert_mem_eq(h1, h1b, TOKEN_HASH_BYTES);
    ck_assert(memcmp(h1, h2, TOKEN_HASH_BYTES) != 0);
    ck_assert(memcmp(h1, hu, TOKEN_HASH_BYTES) != 0);
    /* the length is part of what is hashed */
    token_hash(&k1, t, strlen(t) - 1, h2);
    ck_assert(memcmp(h1, h2, TOKEN_HASH_BYTES) != 0);
    /* a known answer pins the construction (BLAKE2b-256 keyed), so stored hashes stay valid */
    unsigned char z[TOKEN_HASH_BYTES];
    struct token_key k0;
    memset(k0.k, 0, sizeof k0.k);
    token_hash(&k0, "att_x", 5, z);
    char hex[2 * TOKEN_HASH_BYTES + 1];
    for (int i = 0; i < TOKEN_HASH_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", z[i]);
    ck_assert_str_eq(hex, "d9588eeb7ebcabd91eef7ba15423a2b2204968df4701c69d489cfc985b2c7b3e");
}
END_TEST

START_TEST(roles)
{
    enum att_role r = ROLE_NONE;
    ck_assert_int_eq(role_parse("admin", &r), 0);
    ck_assert_int_eq(r, ROLE_ADMIN);
    ck_assert_int_eq(role_parse("hr", &r), 0);
    ck_assert_int_eq(r, ROLE_HR);
    ck_assert_int_eq(role_parse("Admin", &r), -1);
    ck_assert_int_eq(role_parse("", &r), -1);
    ck_assert_int_eq(role_parse(NULL, &r), -1);
    ck_assert_str_eq(role_name(ROLE_ADMIN), "admin");
    ck_assert_str_eq(role_name(ROLE_HR), "hr");
    ck_assert_int_eq(role_parse("kiosk", &r), 0);
    ck_assert_int_eq(r, ROLE_KIOSK);
    ck_assert_str_eq(role_name(ROLE_KIOSK), "kiosk");
    /* a kiosk token is below hr: every route that needs hr refuses it */
    ck_assert_int_lt(ROLE_KIOSK, ROLE_HR);
    ck_assert_int_gt(ROLE_KIOSK, ROLE_NONE);
    ck_assert(ROLE_ADMIN > ROLE_HR && ROLE_HR > ROLE_NONE);
}
END_TEST

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *keys = ts_tcase(s, "keys", 0, NULL, NULL, key_load_raw, key_load_hex, key_load_wrong_length,
                           key_load_refuses_open_modes, key_load_missing_and_not_regular, key_create, NULL);
    tcase_add_checked_fixture(keys, dir_setup, dir_teardown);
    ts_tcase(s, "tokens", 0, NULL, NULL, generate_well_formed_unique, well_formed_rejects, hash_deterministic_and_keyed,
             roles, NULL);
    return s;
}
