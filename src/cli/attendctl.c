/* attendctl: admin tasks without the API (tokens, migrations, keys, offline face tools).
 * Loads the same configuration as the daemon, then dispatches to one subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/migrations.h"
#include "cli.h"
#include "config.h"

static struct att_config g_cfg;

const struct att_config *cli_config(void) { return &g_cfg; }

int cli_db_connect(PGconn **out)
{
    if (g_cfg.database_url[0] == '\0') {
        fprintf(stderr, "attendctl: database_url is not configured (use --config FILE or ATTENDD_DATABASE_URL)\n");
        return 1;
    }
    char err[512];
    PGconn *c;
    if (db_connect(g_cfg.database_url, "attendctl", &c, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: cannot connect to the database: %s\n", err);
        return 1;
    }
    *out = c;
    return 0;
}

int cli_db_open(bool prepared, PGconn **out)
{
    char err[1024];
    *out = NULL;
    PGconn *c;
    att_err rc = db_connect(g_cfg.database_url, "attendctl", &c, err, sizeof err);
    if (rc == ATT_OK && prepared) {
        rc = db_schema_check(c, NULL, err, sizeof err);
        if (rc == ATT_OK) rc = db_prepare_all(c, err, sizeof err);
        if (rc != ATT_OK) PQfinish(c);
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: %s\n", err);
        return 1;
    }
    *out = c;
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("attendctl %s\n", ATTENDD_VERSION);
    return 0;
}

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *usage;
};

static const struct command commands[] = {
    {"version", cmd_version, "version                         print the version"},
    {"migrate", cmd_migrate, "migrate                         apply pending database migrations"},
    {"token", cmd_token, "token create --role admin|hr|kiosk --name NAME [--pseudonymous] | list | revoke ID"},
    {"key", cmd_key, "key create FILE | key rotate --new-key FILE   new key file (0600) | re-encrypt all templates"},
    {"user", cmd_user, "user create --username NAME --role admin|hr|manager [--totp] | password|totp NAME | list"},
    {"person", cmd_person, "person erase|activate|deactivate ID   erase a person, or switch recognition on or off"},
    {"detect", cmd_detect, "detect IMAGE                    faces as JSON (box, score, landmarks5, quality, liveness)"},
    {"embed", cmd_embed, "embed IMAGE                     512-d embedding of the largest face as JSON"},
    {"compare", cmd_compare, "compare IMAGE1 IMAGE2           both models' similarities, the fused score, matches"},
    {"backup-check", cmd_backup_check,
     "backup-check                    do database, key files and spool agree (exit 0 if so)"},
    {"retention", cmd_retention, "retention show | run [--as-of TIME]   the retention policy, or run it now"},
    {"dpia", cmd_dpia, "dpia                            the facts of a DPIA from the configuration and database"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: attendctl [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f, "\nThe configuration is read from --config FILE or $ATTENDD_CONFIG, then ATTENDD_* variables.\n");
}

int main(int argc, char **argv)
{
    const char *conf = getenv("ATTENDD_CONFIG");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            conf = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            return cmd_version(0, NULL);
        } else {
            fprintf(stderr, "attendctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }

    char err[1024];
    cfg_defaults(&g_cfg);
    if (conf && cfg_load_file(&g_cfg, conf, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: %s\n", err);
        return 2;
    }
    if (cfg_apply_env(&g_cfg, err, sizeof err) != ATT_OK) {
        fprintf(stderr, "attendctl: %s\n", err);
        return 2;
    }
    log_set_level(g_cfg.log_level > LOG_WARN_LVL ? g_cfg.log_level : LOG_WARN_LVL);

    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(argv[i], commands[c].name)) return commands[c].fn(argc - i, argv + i);
    fprintf(stderr, "attendctl: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
