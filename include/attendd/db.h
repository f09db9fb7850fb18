/* PostgreSQL connection pool (libpq). Every connection prepares the project's named statements
 * when it connects; callers borrow a connection, run prepared statements, and give it back. */
#ifndef ATTENDD_DB_H
#define ATTENDD_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"

typedef struct db_pool db_pool;

/* Create a pool of `size` connections to `conninfo`. Connects lazily: opening succeeds even if the
 * database is down (the daemon must start and report not-ready); err is set only on bad arguments. */
att_err db_pool_open(const char *conninfo, int size, db_pool **out, char *err, size_t errlen);
void db_pool_close(db_pool *pool);
/* Every session the pool opens from now on runs with this statement_timeout (ms; 0 = the server's
 * default): a statement that runs longer is cancelled (SQLSTATE 57014). Call before the first acquire. */
void db_pool_set_statement_timeout(db_pool *pool, int ms);

/* Borrow a live connection, waiting up to timeout_ms for a free one; reconnects a broken one.
 * ATT_E_DB if the database cannot be reached, ATT_E_UNAVAILABLE on timeout. */
att_err db_acquire(db_pool *pool, int timeout_ms, PGconn **out);
/* Give a connection back. If it is in a failed state it is reset before reuse. */
void db_release(db_pool *pool, PGconn *conn);

/* Round trip to the database (borrow, SELECT 1, release). ATT_OK when it answers. */
att_err db_ping(db_pool *pool);

/* ---- additions by the store layer ---------------------------------------------------------- */

/* A database without the schema (not migrated yet) still lends connections, so the daemon can
 * migrate through the pool; until the schema is there, store calls on them answer ATT_E_SCHEMA and
 * db_ping answers ATT_E_SCHEMA. Each borrow retries the preparation, so this recovers by itself. */

/* Seconds libpq waits for a connection when the conninfo does not say (connect_timeout). */
#define DB_CONNECT_TIMEOUT_S 3

/* Open one connection outside any pool (attendctl, migrations, tests): connect_timeout applied
 * unless conninfo sets one, `SET application_name` run, server notices routed to the log. Prepares
 * nothing, because the schema may not exist yet: call db_prepare_all() once db_schema_check() is
 * happy. ATT_E_CONFIG for an unparsable conninfo, ATT_E_DB if the server cannot be reached; err says
 * why (never the password). *out is NULL on failure; PQfinish() it when done. */
att_err db_connect(const char *conninfo, const char *app_name, PGconn **out, char *err, size_t errlen);

/* Prepare every statement of the store's registry (src/store/statements.c) on c. ATT_E_SCHEMA when
 * the schema lacks a table or column a statement needs (not migrated), ATT_E_DB if the connection
 * is lost, ATT_E_DB_QUERY otherwise; err names the statement. */
att_err db_prepare_all(PGconn *c, char *err, size_t errlen);

/* Transaction control on a borrowed connection. db_rollback is best effort: if it fails the
 * connection is broken and db_release/db_acquire reset it. */
att_err db_begin(PGconn *c);
att_err db_commit(PGconn *c);
void db_rollback(PGconn *c);

/* Times db_transaction runs a transaction the server aborted for a serialization failure or a
 * deadlock (SQLSTATE 40001, 40P01) before it gives up with that error. */
#define DB_TX_ATTEMPTS 4

/* The statements of one transaction. run issues them on c (no BEGIN/COMMIT of its own) and returns
 * ATT_OK to commit; on an error it has undone whatever it changed outside the database. undo (may be
 * NULL) reverses run's changes outside the database when run succeeded but the commit failed. */
typedef att_err (*db_tx_run)(PGconn *c, void *arg);
typedef void (*db_tx_undo)(void *arg);

/* BEGIN, run, COMMIT on c (idle: no transaction open); ROLLBACK when run or COMMIT fails. A
 * serialization failure or deadlock anywhere in it runs the whole transaction again, up to
 * DB_TX_ATTEMPTS times, after a short randomised pause. Returns run's error, or the commit's. */
att_err db_transaction(PGconn *c, db_tx_run run, db_tx_undo undo, void *arg);

#endif
