/* attendctl backup-check: do the database, the key files and the event spool agree, so that a backup
 * of them restores? Read-only; prints one line per check and exits 0 only when every check passes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/migrations.h"
#include "attendd/spool.h"
#include "attendd/store_faces.h"
#include "attendd/template_crypto.h"
#include "attendd/token.h"
#include "attendd/uuid.h"
#include "cli.h"

#define SEG_FILE_MAX (64u << 20) /* a segment rotates at 4 MiB; anything this large is not ours */

/* ---- templates ------------------------------------------------------------------------------------ */

struct tpl_check {
    const tcrypt_key *key, *old; /* old: <template_key_file>.old, NULL if absent */
    float *plain;                /* sodium_malloc'ed: decrypted templates never touch ordinary memory */
    size_t ok, old_ok, other_key, altered;
    char first_other[ATT_UUID_STR], first_altered[ATT_UUID_STR];
};

/* Whether both templates of a row (the confirming one when present) open under key. */
static bool row_opens(const struct tpl_check *t, const tcrypt_key *key, const struct face_row *row)
{
    return tcrypt_decrypt(key, row->blob, row->len, row->person_id, row->face_id, row->model_id, t->plain) == ATT_OK &&
        (!row->confirm_blob ||
         tcrypt_confirm_decrypt(key, row->confirm_blob, row->confirm_len, row->person_id, row->face_id,
                                row->confirm_model_id, t->plain) == ATT_OK);
}

/* Decrypt one row to authenticate it, then wipe the plaintext at once: only the counts leave here. */
static att_err check_row(void *arg, const struct face_row *row)
{
    struct tpl_check *t = arg;
    if (row_opens(t, t->key, row)) {
        t->ok++;
    } else if (t->old && row_opens(t, t->old, row)) {
        t->old_ok++;
    } else {
        /* the blob names its key: under a key we do not hold, or under ours but altered */
        uint32_t id;
        bool ours = tcrypt_blob_key_id(row->blob, row->len, &id) == ATT_OK &&
            (id == tcrypt_key_id(t->key) || (t->old && id == tcrypt_key_id(t->old)));
        if (ours && t->altered++ == 0) snprintf(t->first_altered, sizeof t->first_altered, "%s", row->face_id);
        if (!ours && t->other_key++ == 0) snprintf(t->first_other, sizeof t->first_other, "%s", row->face_id);
    }
    sodium_memzero(t->plain, TCRYPT_DIM * sizeof(float));
    return ATT_OK;
}

/* Every stored template must open with the configured key. Returns the number of problems. */
static int check_templates(PGconn *c)
{
    const char *path = cli_config()->template_key_file;
    char err[1024], old_path[CFG_PATH_MAX + 8];
    tcrypt_key *key = NULL, *old = NULL;
    if (tcrypt_key_load(path, &key, err, sizeof err) != ATT_OK) {
        printf("FAIL template key: %s\n", err);
        return 1;
    }
    snprintf(old_path, sizeof old_path, "%s.old", path);
    if (access(old_path, F_OK) == 0 && tcrypt_key_load(old_path, &old, err, sizeof err) != ATT_OK) {
        printf("FAIL template key: previous key %s\n", err);
        tcrypt_key_free(key);
        return 1;
    }
    struct tpl_check t = {.key = key, .old = old};
    int problems = 0;
    t.plain = sodium_malloc(TCRYPT_DIM * sizeof(float));
    size_t n = 0;
    att_err rc = t.plain ? store_faces_load(c, check_row, &t, &n) : ATT_E_NOMEM;
    if (rc != ATT_OK) {
        printf("FAIL templates: cannot read them: %s\n", att_err_title(rc));
        problems++;
    } else {
        size_t failed = t.other_key + t.altered;
        printf("%s templates: %zu of %zu decrypt with the template key\n", failed ? "FAIL" : "ok  ", t.ok, n);
        if (t.other_key) {
            printf("FAIL templates: %zu encrypted under another key than %s (wrong template key for this "
                   "database?), first face %s\n",
                   t.other_key, path, t.first_other);
            problems++;
        }
        if (t.altered) {
            printf("FAIL templates: %zu corrupt (fail to decrypt under their own key: row altered), first face %s\n",
                   t.altered, t.first_altered);
            problems++;
        }
        if (t.old_ok) {
            /* the daemon loads them, but a backup with template.key alone would not restore them */
            printf("FAIL templates: %zu only decrypt with %s: finish the rotation (attendctl key rotate)\n", t.old_ok,
                   old_path);
            problems++;
        }
    }
    sodium_free(t.plain);
    tcrypt_key_free(key);
    tcrypt_key_free(old);
    return problems;
}

/* ---- database ------------------------------------------------------------------------------------- */

static int check_database(void)
{
    char err[1024];
    PGconn *c;
    if (cli_config()->database_url[0] == '\0') {
        printf("FAIL database: database_url is not configured\n");
        printf("FAIL templates: not checked (no database)\n");
        return 2;
    }
    if (db_connect(cli_config()->database_url, "attendctl", &c, err, sizeof err) != ATT_OK) {
        printf("FAIL database: not reachable: %s\n", err);
        printf("FAIL templates: not checked (no database)\n");
        return 2;
    }
    int version = 0, problems = 0;
    if (db_schema_check(c, &version, err, sizeof err) != ATT_OK) {
        printf("FAIL database: %s (this attendctl knows schema %d)\n", err, db_schema_latest());
        printf("FAIL templates: not checked (schema)\n");
        problems = 2;
    } else if (db_prepare_all(c, err, sizeof err) != ATT_OK) {
        printf("FAIL database: %s\n", err);
        printf("FAIL templates: not checked (schema)\n");
        problems = 2;
    } else {
        printf("ok   database: reachable, schema version %d (this attendctl's)\n", version);
        problems = check_templates(c);
    }
    PQfinish(c);
    return problems;
}

/* ---- token key ------------------------------------------------------------------------------------ */

static int check_token_key(void)
{
    char err[1024];
    struct token_key k;
    if (token_key_load(cli_config()->token_key_file, &k, err, sizeof err) != ATT_OK) {
        printf("FAIL token key: %s\n", err);
        return 1;
    }
    sodium_memzero(&k, sizeof k);
    printf("ok   token key: %s is a valid key file\n", cli_config()->token_key_file);
    return 0;
}

/* ---- spool ---------------------------------------------------------------------------------------- */

struct seg_result {
    size_t records, corrupt, torn;
};

/* Walk one segment record by record as the daemon's recovery does; read-only, so it works while the
 * daemon runs and holds the spool's lock. A bad region followed by a good record is corruption; bad
 * bytes up to the end of the newest segment are a torn tail (an append that never returned). */
static int check_segment(const char *path, bool newest, struct seg_result *r, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > SEG_FILE_MAX) {
        snprintf(err, errlen, "%s: not a spool segment (not a regular file, or too large)", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(size ? size : 1);
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != size) {
        snprintf(err, errlen, "%s: %s", path, buf ? "short read" : "out of memory");
        free(buf);
        return -1;
    }
    size_t pos = 0;
    while (pos < size) {
        struct att_event ev;
        size_t len = 0;
        if (spool_record_decode(buf + pos, size - pos, &len, &ev) == ATT_OK) {
            r->records++;
            pos += len;
            continue;
        }
        if (len > 0) { /* sound frame, unreadable payload */
            r->corrupt++;
            pos += len;
            continue;
        }
        size_t next = pos + 1;
        while (next < size && spool_record_decode(buf + next, size - next, &len, &ev) != ATT_OK) next++;
        if (next >= size && newest) r->torn++;
        else r->corrupt++;
        pos = next;
    }
    free(buf);
    return 0;
}

static int seg_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_segment_name(const char *n)
{
    if (strlen(n) != 20 || strcmp(n + 16, ".seg") != 0) return false;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", n[i])) return false;
    return true;
}

static int check_spool(void)
{
    char dir[CFG_PATH_MAX + 8], err[1024 + CFG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/spool", cli_config()->state_dir);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) { /* the daemon has not run here yet: nothing pending, nothing to lose */
            printf("ok   spool: %s does not exist (no events spooled)\n", dir);
            return 0;
        }
        printf("FAIL spool: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    int problems = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_segment_name(e->d_name)) continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown || !(grown[n] = strdup(e->d_name))) {
            names = grown ? grown : names;
            printf("FAIL spool: out of memory\n");
            problems = 1;
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, seg_name_cmp);
    struct seg_result r = {0, 0, 0};
    for (size_t i = 0; i < n && !problems; i++) {
        char path[sizeof dir + 32];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t before = r.corrupt;
        if (check_segment(path, i + 1 == n, &r, err, sizeof err) != 0) {
            printf("FAIL spool: %s\n", err);
            problems = 1;
        } else if (r.corrupt > before) {
            printf("FAIL spool: %s: %zu corrupt region(s) (checksum or payload)\n", path, r.corrupt - before);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (problems) return problems;
    printf("%s spool: %zu segment(s), %zu record(s) verified, %zu corrupt%s\n", r.corrupt ? "FAIL" : "ok  ", n,
           r.records, r.corrupt, r.torn ? ", a torn tail (an append cut by a crash; dropped at the next start)" : "");
    return r.corrupt ? 1 : 0;
}

int cmd_backup_check(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: attendctl backup-check\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "attendctl: libsodium initialisation failed\n");
        return 1;
    }
    int problems = check_database();
    problems += check_token_key();
    problems += check_spool();
    if (problems) {
        printf("backup-check: %d problem%s: the database, keys and spool do not agree\n", problems,
               problems == 1 ? "" : "s");
        return 1;
    }
    printf("backup-check: all checks passed\n");
    return 0;
}
