/* attendctl administration: `migrate`, `token create|list|revoke`, `key create|rotate`. Data changes
 * write an audit row (actor "attendctl") in the same transaction as the change. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/keyfile.h"
#include "attendd/migrations.h"
#include "attendd/path.h"
#include "attendd/store_audit.h"
#include "attendd/store_faces.h"
#include "attendd/store_tokens.h"
#include "attendd/template_crypto.h"
#include "attendd/token.h"
#include "attendd/uuid.h"
#include "cli.h"

#define ACTOR "attendctl"

/* Exit statuses shared with attendctl.c: 0 done, 1 failed, 2 bad usage. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Audit detail as a JSON object text (jansson escapes whatever the values hold); NULL on OOM. */
static char *detail_json(json_t *obj)
{
    if (!obj) return NULL;
    char *s = att_json_dumps(obj, JSON_COMPACT);
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
    if (cli_db_open(false, &c) != EXIT_OK) return EXIT_FAIL;
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
    fprintf(stderr,
            "usage: attendctl token create --role admin|hr|kiosk --name NAME [--pseudonymous]\n"
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
    bool pseudonymous = false;
    for (int i = 2; i < argc; i++) {
        if (take_opt(argc, argv, &i, "--role", &role_s) || take_opt(argc, argv, &i, "--name", &name)) continue;
        if (strcmp(argv[i], "--pseudonymous") == 0) {
            pseudonymous = true;
            continue;
        }
        fprintf(stderr, "attendctl: token create: unexpected argument '%s'\n", argv[i]);
        return token_usage();
    }
    enum att_role role;
    if (!role_s || role_parse(role_s, &role) != 0) {
        fprintf(stderr, "attendctl: token create: --role must be admin, hr or kiosk\n");
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
    if (cli_db_open(true, &c) != EXIT_OK) {
        sodium_memzero(&key, sizeof key);
        return EXIT_FAIL;
    }
    char token[TOKEN_STR_MAX], id[ATT_UUID_STR];
    char *detail = detail_json(json_pack("{s:s, s:b}", "role", role_name(role), "pseudonymous", pseudonymous));
    att_err rc = detail ? db_begin(c) : ATT_E_NOMEM;
    if (rc == ATT_OK) {
        rc = store_token_create_ex(c, &key, name, role, pseudonymous, NULL, token, id);
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
        else fprintf(stderr, "attendctl: token create failed: %s\n", att_err_title(rc));
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
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
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
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "id", v[i].id, "name", v[i].name, "role", role_name(v[i].role),
                      "created_at", v[i].created_at, "last_used_at",
                      v[i].last_used_at[0] ? json_string(v[i].last_used_at) : json_null(), "revoked", v[i].revoked);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(v);
    char *s = att_json_dumps(arr, JSON_INDENT(2));
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
    if (!att_uuid_valid(id)) {
        fprintf(stderr, "attendctl: token revoke: '%s' is not a token id (uuid)\n", id);
        return EXIT_USAGE;
    }
    PGconn *c;
    if (cli_db_open(true, &c) != EXIT_OK) return EXIT_FAIL;
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
    fprintf(stderr,
            "usage: attendctl key create FILE\n"
            "       attendctl key rotate --new-key FILE\n");
    return EXIT_USAGE;
}

/* ---- key rotate ------------------------------------------------------------------------------------
 * 1. Load the current key (template_key_file), <template_key_file>.old if present (a previous rotation's
 *    key: templates enrolled under it by a daemon not yet restarted get re-encrypted too) and the new key.
 * 2. One transaction: lock faces, re-encrypt every row under an old key (rows under the new key are
 *    skipped), audit row "key.rotate", commit. Interrupted here: nothing changed.
 * 3. Install: current key -> <file>.old, new key -> <file>, each written to a temp file, fsync'ed and
 *    renamed (the file always holds a whole key). Interrupted here: the rerun re-encrypts 0 rows and
 *    installs. A rerun after completion finds the new key installed and only catches stragglers. */

/* Write 32 raw key bytes to path atomically: temp file (0600, owner/group copied from like_path if
 * given), fsync, rename, fsync the directory. */
static int write_key_atomic(const char *path, const unsigned char key[KEYFILE_BYTES], const char *like_path)
{
    char tmp[CFG_PATH_MAX + 16], dir[CFG_PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "attendctl: key path too long: %s\n", path);
        return -1;
    }
    (void)unlink(tmp); /* a stale temp file from an interrupted run */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "attendctl: creating %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    int rc = fchmod(fd, 0600);
    struct stat st;
    /* the daemon's user must still be able to read the key when attendctl runs as root */
    if (rc == 0 && like_path && stat(like_path, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) != 0 &&
        (st.st_uid != geteuid()))
        fprintf(stderr, "attendctl: warning: cannot give %s the owner of %s: %s\n", path, like_path, strerror(errno));
    size_t off = 0;
    while (rc == 0 && off < KEYFILE_BYTES) {
        ssize_t w = write(fd, key + off, KEYFILE_BYTES - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) rc = -1;
        else off += (size_t)w;
    }
    if (rc == 0) rc = fsync(fd);
    if (close(fd) != 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    if (rc != 0) {
        fprintf(stderr, "attendctl: writing %s: %s\n", path, strerror(errno));
        (void)unlink(tmp);
        return -1;
    }
    /* the rename itself must survive a crash */
    att_path_parent(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int key_rotate(int argc, char **argv)
{
    const char *new_path = NULL;
    for (int i = 2; i < argc; i++) {
        if (take_opt(argc, argv, &i, "--new-key", &new_path)) continue;
        fprintf(stderr, "attendctl: key rotate: unexpected argument '%s'\n", argv[i]);
        return key_usage();
    }
    if (!new_path || !*new_path) {
        fprintf(stderr, "attendctl: key rotate: --new-key FILE is required\n");
        return key_usage();
    }
    const char *cur_path = cli_config()->template_key_file;
    char old_path[CFG_PATH_MAX + 8];
    if (snprintf(old_path, sizeof old_path, "%s.old", cur_path) >= (int)sizeof old_path) {
        fprintf(stderr, "attendctl: template_key_file path too long\n");
        return EXIT_FAIL;
    }

    char err[1024];
    int status = EXIT_FAIL;
    unsigned char cur_raw[KEYFILE_BYTES], new_raw[KEYFILE_BYTES];
    tcrypt_key *cur = NULL, *prev = NULL, *next = NULL;
    PGconn *c = NULL;
    char *detail = NULL;
    if (keyfile_load(cur_path, cur_raw, err, sizeof err) != ATT_OK ||
        keyfile_load(new_path, new_raw, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: key rotate: %s\n", err);
        goto out;
    }
    if (tcrypt_key_from_bytes(cur_raw, &cur) != ATT_OK || tcrypt_key_from_bytes(new_raw, &next) != ATT_OK) {
        fprintf(stderr, "attendctl: key rotate: cannot set up the keys\n");
        goto out;
    }
    if (access(old_path, F_OK) == 0 && tcrypt_key_load(old_path, &prev, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: key rotate: %s\n", err);
        goto out;
    }
    uint32_t new_id = tcrypt_key_id(next), cur_id = tcrypt_key_id(cur);
    const tcrypt_key *olds[2];
    size_t n_old = 0;
    if (cur_id != new_id) olds[n_old++] = cur;
    if (prev && tcrypt_key_id(prev) != new_id && tcrypt_key_id(prev) != cur_id) olds[n_old++] = prev;

    if (cli_db_open(true, &c) != EXIT_OK) goto out;
    struct rekey_stats st = {0, 0};
    att_err rc = db_begin(c);
    if (rc == ATT_OK) {
        rc = store_faces_rekey(c, olds, n_old, next, &st, err, sizeof err);
        if (rc == ATT_OK) {
            detail = detail_json(json_pack("{s:I, s:I, s:I}", "reencrypted", (json_int_t)st.reencrypted, "skipped",
                                           (json_int_t)st.skipped, "new_key_id", (json_int_t)new_id));
            char target[16];
            snprintf(target, sizeof target, "%" PRIu32, new_id);
            struct audit_entry e = {NULL, ACTOR, "key.rotate", "template_key", target, "ok", detail};
            rc = detail ? store_audit_insert(c, &e) : ATT_E_NOMEM;
            if (rc != ATT_OK) snprintf(err, sizeof err, "writing the audit row failed: %s", att_err_title(rc));
        }
        if (rc == ATT_OK) {
            rc = db_commit(c);
            if (rc != ATT_OK) snprintf(err, sizeof err, "commit failed: %s", att_err_title(rc));
        } else {
            db_rollback(c);
        }
    } else {
        snprintf(err, sizeof err, "cannot start a transaction: %s", att_err_title(rc));
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: key rotate: %s; nothing was changed\n", err);
        if (rc == ATT_E_CRYPTO)
            fprintf(stderr,
                    "attendctl: if an earlier rotation committed but did not finish, rerun it with the "
                    "same --new-key\n");
        struct audit_entry e = {NULL, ACTOR, "key.rotate", "template_key", NULL, att_err_code(rc), NULL};
        (void)store_audit_insert(c, &e); /* the refused attempt is an admin action too */
        goto out;
    }
    fprintf(stderr, "re-encrypted %zu template%s (%zu already under the new key)\n", st.reencrypted,
            st.reencrypted == 1 ? "" : "s", st.skipped);

    if (cur_id == new_id) {
        fprintf(stderr, "the new key is already installed as %s\n", cur_path);
    } else {
        /* the old key first: at every instant each key is in a file */
        if (write_key_atomic(old_path, cur_raw, cur_path) != 0 || write_key_atomic(cur_path, new_raw, cur_path) != 0) {
            fprintf(stderr,
                    "attendctl: key rotate: the templates are re-encrypted but the new key is not "
                    "installed: rerun `attendctl key rotate --new-key %s`\n",
                    new_path);
            goto out;
        }
        fprintf(stderr, "installed the new key as %s (previous key kept as %s)\n", cur_path, old_path);
    }
    fprintf(stderr, "restart attendd now so it loads the new key\n");
    status = EXIT_OK;
out:
    sodium_memzero(cur_raw, sizeof cur_raw);
    sodium_memzero(new_raw, sizeof new_raw);
    tcrypt_key_free(cur);
    tcrypt_key_free(prev);
    tcrypt_key_free(next);
    free(detail);
    if (c) PQfinish(c);
    return status;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2) return key_usage();
    if (strcmp(argv[1], "rotate") == 0) return key_rotate(argc, argv);
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
