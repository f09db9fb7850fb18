/* attendctl console accounts: `user create|password|totp|list`. New passwords are generated and shown
 * once; each change writes its audit row (actor "attendctl") in the same transaction. */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/console.h"
#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/store_audit.h"
#include "attendd/store_console.h"
#include "attendd/text.h"
#include "cli.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static int usage(void)
{
    fprintf(stderr,
            "usage: attendctl user create --username NAME --role admin|hr|manager [--name DISPLAY]\n"
            "                              [--department WARD]... [--totp]\n"
            "         a manager sees only people of the wards given (one --department each, at most 16)\n"
            "       attendctl user password USERNAME   a new generated password (the account is unlocked)\n"
            "       attendctl user totp USERNAME       a new TOTP secret (otpauth URI on stdout)\n"
            "       attendctl user list\n");
    return EXIT_USAGE;
}

static bool opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return false;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return true;
    }
    if (argv[*i][n] == '\0' && *i + 1 < argc) {
        *val = argv[++*i];
        return true;
    }
    return false;
}

static att_err audit(PGconn *c, const char *action, const char *username, json_t *detail)
{
    char *d = detail ? att_json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    struct audit_actor a = {NULL, "attendctl"};
    att_err rc = store_audit_ok(c, &a, action, "user", username, d);
    free(d);
    return rc;
}

/* The otpauth:// URI of secret for username (what an authenticator app scans). */
static void otpauth_uri(const char *username, const unsigned char *secret, char *out, size_t len)
{
    char b32[CONSOLE_TOTP_BASE32_MAX];
    console_base32(secret, CONSOLE_TOTP_SECRET_BYTES, b32, sizeof b32);
    snprintf(out, len, "otpauth://totp/attendd:%s?secret=%s&issuer=attendd&algorithm=SHA256&digits=%d&period=%d",
             username, b32, CONSOLE_TOTP_DIGITS, CONSOLE_TOTP_STEP_S);
    sodium_memzero(b32, sizeof b32);
}

static int end(PGconn *c, att_err rc, const char *what)
{
    if (rc == ATT_OK) rc = db_commit(c);
    else db_rollback(c);
    PQfinish(c);
    if (rc == ATT_E_CONFLICT) fprintf(stderr, "attendctl: user %s: that username is taken\n", what);
    else if (rc == ATT_E_NOT_FOUND) fprintf(stderr, "attendctl: user %s: no such user\n", what);
    else if (rc != ATT_OK) fprintf(stderr, "attendctl: user %s failed: %s\n", what, att_err_title(rc));
    return rc == ATT_OK ? EXIT_OK : EXIT_FAIL;
}

static int user_create(int argc, char **argv)
{
    const char *username = NULL, *display = NULL, *role_s = NULL, *dept = NULL;
    const char *depts[TOKEN_DEPARTMENTS_MAX];
    size_t ndepts = 0;
    bool totp = false, dept_ok = true;
    for (int i = 2; i < argc; i++) {
        if (opt(argc, argv, &i, "--department", &dept)) { /* repeatable: one ward each */
            if (ndepts < TOKEN_DEPARTMENTS_MAX && text_ok(dept, 1, 200)) depts[ndepts++] = dept;
            else dept_ok = false;
            continue;
        }
        if (opt(argc, argv, &i, "--username", &username) || opt(argc, argv, &i, "--name", &display) ||
            opt(argc, argv, &i, "--role", &role_s))
            continue;
        if (strcmp(argv[i], "--totp") == 0) {
            totp = true;
            continue;
        }
        fprintf(stderr, "attendctl: user create: unexpected argument '%s'\n", argv[i]);
        return usage();
    }
    enum console_role role;
    if (!console_username_ok(username)) {
        fprintf(stderr, "attendctl: user create: --username must be 1-64 of a-z 0-9 . _ - (starting a-z 0-9)\n");
        return usage();
    }
    if (!role_s || !console_role_parse(role_s, &role)) {
        fprintf(stderr, "attendctl: user create: --role must be admin, hr or manager\n");
        return usage();
    }
    if (!display) display = username;
    if (!text_ok(display, 1, 200) || !dept_ok) {
        fprintf(stderr,
                "attendctl: user create: --name and --department are 1-200 characters of text"
                " (at most 16 departments)\n");
        return usage();
    }
    if (role == CONSOLE_MANAGER && ndepts == 0) {
        fprintf(stderr, "attendctl: user create: a manager needs --department (the ward they manage)\n");
        return usage();
    }
    char pw[CONSOLE_NEW_PASSWORD_MAX], hash[CONSOLE_PASSWORD_HASH_MAX], id[ATT_UUID_STR];
    unsigned char secret[CONSOLE_TOTP_SECRET_BYTES];
    if (totp) console_totp_secret(secret);
    if (console_password_new(pw, hash) != ATT_OK) {
        fprintf(stderr, "attendctl: user create: the password could not be hashed (out of memory)\n");
        return EXIT_FAIL;
    }
    PGconn *c;
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
    att_err rc = db_begin(c);
    if (rc == ATT_OK)
        rc = store_console_user_create(c, username, display, role, depts, ndepts, hash, totp ? secret : NULL, id);
    json_t *dl = json_array();
    for (size_t i = 0; dl && i < ndepts; i++) json_array_append_new(dl, json_string(depts[i]));
    if (rc == ATT_OK)
        rc = audit(c, "user.create", username,
                   json_pack("{s:s, s:b, s:o}", "role", console_role_name(role), "totp", totp, "departments",
                             dl ? dl : json_null()));
    else json_decref(dl);
    int status = end(c, rc, "create");
    if (status == EXIT_OK) {
        /* the password alone on stdout's first line, so `PW=$(attendctl user create ... | head -n 1)` works */
        printf("%s\n", pw);
        if (totp) {
            char uri[256];
            otpauth_uri(username, secret, uri, sizeof uri);
            printf("%s\n", uri);
            sodium_memzero(uri, sizeof uri);
        }
        fprintf(stderr, "%s\n", id);
    }
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(secret, sizeof secret);
    return status;
}

static int user_password(int argc, char **argv)
{
    if (argc != 3) return usage();
    char pw[CONSOLE_NEW_PASSWORD_MAX], hash[CONSOLE_PASSWORD_HASH_MAX], id[ATT_UUID_STR];
    if (console_password_new(pw, hash) != ATT_OK) return EXIT_FAIL;
    PGconn *c;
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
    att_err rc = db_begin(c);
    if (rc == ATT_OK) rc = store_console_user_set_password(c, argv[2], hash, id);
    if (rc == ATT_OK) rc = audit(c, "user.password", argv[2], NULL);
    int status = end(c, rc, "password");
    if (status == EXIT_OK) printf("%s\n", pw);
    sodium_memzero(pw, sizeof pw);
    return status;
}

static int user_totp(int argc, char **argv)
{
    if (argc != 3) return usage();
    unsigned char secret[CONSOLE_TOTP_SECRET_BYTES];
    console_totp_secret(secret);
    char id[ATT_UUID_STR];
    PGconn *c;
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
    att_err rc = db_begin(c);
    if (rc == ATT_OK) rc = store_console_user_set_totp(c, argv[2], secret, id);
    if (rc == ATT_OK) rc = audit(c, "user.totp", argv[2], NULL);
    int status = end(c, rc, "totp");
    if (status == EXIT_OK) {
        char uri[256];
        otpauth_uri(argv[2], secret, uri, sizeof uri);
        printf("%s\n", uri);
        sodium_memzero(uri, sizeof uri);
    }
    sodium_memzero(secret, sizeof secret);
    return status;
}

static int user_list(int argc, char **argv)
{
    (void)argv;
    if (argc != 2) return usage();
    PGconn *c;
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
    struct console_user *v;
    size_t n;
    att_err rc = store_console_user_list(c, &v, &n);
    PQfinish(c);
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: user list failed: %s\n", att_err_title(rc));
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s\t%s\t%s%s\n", v[i].username, console_role_name(v[i].role), v[i].display_name,
               v[i].totp ? "totp" : "-", v[i].disabled ? "\tdisabled" : "");
    free(v);
    return EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
    if (argc < 2) return usage();
    if (strcmp(argv[1], "create") == 0) return user_create(argc, argv);
    if (strcmp(argv[1], "password") == 0) return user_password(argc, argv);
    if (strcmp(argv[1], "totp") == 0) return user_totp(argc, argv);
    if (strcmp(argv[1], "list") == 0) return user_list(argc, argv);
    return usage();
}
