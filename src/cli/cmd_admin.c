/* attendctl administration: `migrate`, `token create|list|revoke`, `key create`. Data changes
 * write an audit row (actor "attendctl") in the same transaction as the change. */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/migrations.h"
#include "attendd/store_audit.h"
#include "attendd/store_tokens.h"
#include "attendd/token.h"
#include "cli.h"

#define ACTOR "attendctl"

/* Exit statuses shared with attendctl.c: 0 done, 1 failed, 2 bad usage. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Connect with the store's connection setup (connect_timeout, application_name). prepared: also
 * require the current schema and prepare the statements the store functions run. */
static int admin_connect(bool prepared, PGconn **out)
{
    char err[1024];
    *out = NULL;
    PGconn *c;
    att_err rc = db_connect(cli_config()->database_url, ACTOR, &c, err, sizeof err);
    if (rc == ATT_OK && prepared) {
        rc = db_schema_check(c, NULL, err, sizeof err);
        if (rc == ATT_OK) rc = db_prepare_all(c, err, sizeof err);
        if (rc != ATT_OK) PQfinish(c);
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: %s\n", err);
        return EXIT_FAIL;
    }
    *out = c;
    return EXIT_OK;
}

/* Audit detail as a JSON object text (jansson escapes whatever the values hold); NULL on OOM. */
static char *detail_json(json_t *obj)
{
    if (!obj) return NULL;
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return s;
}

static att_err audit(PGconn *c, const char *action, const char *target_id, att_err outcome, const char *detail)
{
    struct audit_entry e = {
        .token_id = NULL,
        .actor = ACTOR,
        .action = action,
        .target_type = "token",
        .target_id = target_id,
        .outcome = att_err_code(outcome),
        .detail_json = detail,
    };
    return store_audit_insert(c, &e);
}

/* ---- migrate ------------------------------------------------------------------------------------ */

static att_err audit_migrate(PGconn *c, int applied, int version, char *err, size_t errlen)
{
    att_err rc = db_prepare_all(c, err, errlen);
    if (rc != ATT_OK) return rc;
    char *detail = detail_json(json_pack("{s:i, s:i}", "applied", applied, "version", version));
    if (!detail) {
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    struct audit_entry e = {NULL, ACTOR, "schema.migrate", "schema", NULL, "ok", detail};
    rc = store_audit_insert(c, &e);
    free(detail);
    if (rc != ATT_OK) snprintf(err, errlen, "migrated, but writing the audit row failed: %s", att_err_title(rc));
    return rc;
}

int cmd_migrate(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: attendctl migrate\n");
        return EXIT_USAGE;
    }
    PGconn *c;
    if (admin_connect(false, &c) != EXIT_OK) return EXIT_FAIL;
    char err[1024];
    int applied = 0, version = 0;
    att_err rc = db_migrate(c, &applied, err, sizeof err);
    if (rc == ATT_OK) rc = db_schema_check(c, &version, err, sizeof err);
    /* the audit statement exists only now that the schema does */
    if (rc == ATT_OK && applied > 0) rc = audit_migrate(c, applied, version, err, sizeof err);
    PQfinish(c);
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: %s\n", err);
        return EXIT_FAIL;
    }
    printf("schema version %d (%d migration%s applied)\n", version, applied, applied == 1 ? "" : "s");
    return EXIT_OK;
}

/* ---- token ---------------------------------------------------------------------------------------- */

static int token_usage(void)
{
    fprintf(stderr, "usage: attendctl token create --role admin|hr --name NAME\n"
                    "       attendctl token list\n"
                    "       attendctl token revoke ID\n");
    return EXIT_USAGE;
}

/* "--opt VALUE" or "--opt=VALUE" at argv[*i]; advances *i past what it used. */
static bool take_opt(int argc, char **argv, int *i, const char *opt, const char **val)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0) return false;
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

static int token_create(int argc, char **argv)
{
    const char *role_s = NULL, *name = NULL;
    for (int i = 2; i < argc; i++) {
        if (take_opt(argc, argv, &i, "--role", &role_s) || take_opt(argc, argv, &i, "--name", &name)) continue;
        fprintf(stderr, "attendctl: token create: unexpected argument '%s'\n", argv[i]);
        return token_usage();
    }
    enum att_role role;
    if (!role_s || role_parse(role_s, &role) != 0) {
        fprintf(stderr, "attendctl: token create: --role must be admin or hr\n");
        return token_usage();
    }
    if (!name || !*name) {
        fprintf(stderr, "attendctl: token create: --name is required\n");
        return token_usage();
    }

    char err[1024];
    struct token_key key;
    if (token_key_load(cli_config()->token_key_file, &key, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: token_key_file: %s\n", err);
        return EXIT_FAIL;
    }
    PGconn *c;
    if (admin_connect(true, &c) != EXIT_OK) {
        sodium_memzero(&key, sizeof key);
        return EXIT_FAIL;
    }
    char token[TOKEN_STR_MAX], id[UUID_STR_LEN];
    char *detail = detail_json(json_pack("{s:s}", "role", role_name(role)));
    att_err rc = detail ? db_begin(c) : ATT_E_NOMEM;
    if (rc == ATT_OK) {
        rc = store_token_create(c, &key, name, role, NULL, token, id);
        if (rc == ATT_OK) rc = audit(c, "token.create", id, ATT_OK, detail);
        if (rc == ATT_OK) rc = db_commit(c);
        else db_rollback(c);
    }
    sodium_memzero(&key, sizeof key);
    free(detail);
    PQfinish(c);
    if (rc != ATT_OK) {
        if (rc == ATT_E_INVALID)
            fprintf(stderr, "attendctl: token create: invalid name (1-127 bytes of printable UTF-8)\n");
        else
            fprintf(stderr, "attendctl: token create failed: %s\n", att_err_title(rc));
        sodium_memzero(token, sizeof token);
        return EXIT_FAIL;
    }
    /* the secret alone on stdout, so `TOKEN=$(attendctl token create ...)` just works */
    printf("%s\n", token);
    fflush(stdout);
    sodium_memzero(token, sizeof token);
    fprintf(stderr, "%s\n", id);
    return EXIT_OK;
}

static int token_list(int argc, char **argv)
{
    (void)argv;
    if (argc != 2) return token_usage();
    PGconn *c;
    if (admin_connect(true, &c) != EXIT_OK) return EXIT_FAIL;
    struct token_info *v;
    size_t n;
    att_err rc = store_token_list(c, &v, &n);
    PQfinish(c);
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: token list failed: %s\n", att_err_title(rc));
        return EXIT_FAIL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "id", v[i].id, "name", v[i].name, "role",
                              role_name(v[i].role), "created_at", v[i].created_at, "last_used_at",
                              v[i].last_used_at[0] ? json_string(v[i].last_used_at) : json_null(), "revoked",
                              v[i].revoked);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(v);
    char *s = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
    json_decref(arr);
    if (!s) {
        fprintf(stderr, "attendctl: token list: out of memory\n");
        return EXIT_FAIL;
    }
    printf("%s\n", s);
    free(s);
    return EXIT_OK;
}

static int token_revoke(int argc, char **argv)
{
    if (argc != 3) return token_usage();
    const char *id = argv[2];
    if (!db_uuid_valid(id)) {
        fprintf(stderr, "attendctl: token revoke: '%s' is not a token id (uuid)\n", id);
        return EXIT_USAGE;
    }
    PGconn *c;
    if (admin_connect(true, &c) != EXIT_OK) return EXIT_FAIL;
    att_err rc = db_begin(c);
    att_err result = ATT_OK;
    if (rc == ATT_OK) {
        result = rc = store_token_revoke(c, id);
        if (rc == ATT_OK) rc = audit(c, "token.revoke", id, ATT_OK, NULL);
        if (rc == ATT_OK) rc = db_commit(c);
        else db_rollback(c);
    }
    /* a refused revoke is an admin action too: record it outside the rolled-back transaction */
    if (result == ATT_E_NOT_FOUND) (void)audit(c, "token.revoke", id, result, NULL);
    PQfinish(c);
    if (rc == ATT_E_NOT_FOUND) {
        fprintf(stderr, "attendctl: token revoke: no live token with id %s\n", id);
        return EXIT_FAIL;
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: token revoke failed: %s\n", att_err_title(rc));
        return EXIT_FAIL;
    }
    fprintf(stderr, "revoked %s\n", id);
    return EXIT_OK;
}

int cmd_token(int argc, char **argv)
{
    if (argc < 2) return token_usage();
    if (strcmp(argv[1], "create") == 0) return token_create(argc, argv);
    if (strcmp(argv[1], "list") == 0) return token_list(argc, argv);
    if (strcmp(argv[1], "revoke") == 0) return token_revoke(argc, argv);
    fprintf(stderr, "attendctl: token: unknown action '%s'\n", argv[1]);
    return token_usage();
}

/* ---- key ------------------------------------------------------------------------------------------ */

static int key_usage(void)
{
    fprintf(stderr, "usage: attendctl key create FILE\n");
    return EXIT_USAGE;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2) return key_usage();
    if (strcmp(argv[1], "create") == 0) {
        if (argc != 3) return key_usage();
        char err[1024];
        if (token_key_create(argv[2], err, sizeof err) != ATT_OK) {
            fprintf(stderr, "attendctl: %s\n", err);
            return EXIT_FAIL;
        }
        fprintf(stderr, "wrote a new %d-byte key to %s (mode 0600)\n", TOKEN_KEY_BYTES, argv[2]);
        return EXIT_OK;
    }
    fprintf(stderr, "attendctl: key: unknown action '%s'\n", argv[1]);
    return key_usage();
}
