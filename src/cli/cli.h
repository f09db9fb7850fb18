/* attendctl internals: the loaded configuration and helpers shared by subcommands. */
#ifndef ATTENDD_CLI_H
#define ATTENDD_CLI_H

#include <libpq-fe.h>

#include "attendd/config.h"

/* The configuration attendctl loaded (--config FILE / $ATTENDD_CONFIG, then ATTENDD_* overrides). */
const struct att_config *cli_config(void);
/* Connect to cfg.database_url; on failure prints the reason to stderr and returns non-zero. */
int cli_db_connect(PGconn **out);

/* Subcommands: argv[0] is the subcommand name; return the process exit status. */
int cmd_migrate(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_backup_check(int argc, char **argv);

#endif
