/* Schema migrations: sql/NNN_name.sql compiled into the binary (scripts/embed-sql), applied in
 * order, each exactly once inside its own transaction, recorded in attendd_schema. */
#ifndef ATTENDD_MIGRATIONS_H
#define ATTENDD_MIGRATIONS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "attendd/errors.h"

struct db_migration {
    int version;      /* NNN from the file name */
    const char *name; /* file name without .sql */
    const char *sql;  /* whole file */
};

extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

/* Highest version this binary knows. */
int db_schema_latest(void);

/* Apply every pending migration in order (serialised across processes with an advisory lock).
 * *applied = number applied now. Fails with ATT_E_SCHEMA if the database is newer than this binary. */
att_err db_migrate(PGconn *conn, int *applied, char *err, size_t errlen);

/* Read the database's schema version; ATT_E_SCHEMA (with a message) if it is newer than this binary
 * or older (pending migrations), ATT_OK when equal. *version may be NULL. */
att_err db_schema_check(PGconn *conn, int *version, char *err, size_t errlen);

#endif
