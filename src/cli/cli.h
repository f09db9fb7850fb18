/* attendctl internals: the loaded configuration and helpers shared by subcommands. */
#ifndef ATTENDD_CLI_H
#define ATTENDD_CLI_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "attendd/config.h"

/* The configuration attendctl loaded (--config FILE / $ATTENDD_CONFIG, then ATTENDD_* overrides). */
const struct att_config *cli_config(void);
/* Connect to cfg.database_url; on failure prints the reason to stderr and returns non-zero. */
int cli_db_connect(PGconn **out);
/* The same with the store's connection setup (connect_timeout, application_name); prepared: also
 * require the current schema and prepare the statements the store functions run. 0 or 1 (failed,
 * reason printed). */
int cli_db_open(bool prepared, PGconn **out);

/* Subcommands: argv[0] is the subcommand name; return the process exit status. */
int cmd_migrate(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_backup_check(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_dpia(int argc, char **argv);

#endif
