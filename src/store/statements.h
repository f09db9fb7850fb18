/* Internal to src/store: the one registry of named prepared statements every pooled connection
 * prepares, and a helper that runs one of them and maps failures onto att_err. */
#ifndef ATTENDD_STORE_STATEMENTS_H
#define ATTENDD_STORE_STATEMENTS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

struct db_statement {
    const char *name; /* PREPARE name, "<module>_<verb>" */
    const char *sql;  /* parameters $1..$n; cast them ($1::uuid) so types never depend on inference */
    int nparams;      /* number of $n parameters; checked on every execution */
};

extern const struct db_statement db_statements[];
extern const size_t db_statements_count;

/* Registry entry by name, or NULL. */
const struct db_statement *db_statement_find(const char *name);

/* Run registered statement `name` with nparams text (or binary, per formats) parameters; values[i]
 * NULL is SQL NULL; lengths/formats may be NULL (all text). On ATT_OK *res holds a COMMAND_OK or
 * TUPLES_OK result the caller PQclear()s. On failure *res is NULL and sqlstate (if not NULL)
 * receives the five-character SQLSTATE ("" when the server sent none). Failures map to:
 * connection lost -> ATT_E_DB; statement not prepared (schema was missing when the connection was
 * lent) -> ATT_E_SCHEMA; unique or foreign key violation -> ATT_E_CONFLICT; check / not-null
 * violation or bad input syntax -> ATT_E_INVALID; anything else -> ATT_E_DB_QUERY. The server's
 * primary message is logged (never the parameters, never its DETAIL, which may quote values). */
att_err db_exec_prepared(PGconn *c, const char *name, int nparams, const char *const *values, const int *lengths,
                         const int *formats, PGresult **res, char sqlstate[6]);

/* As db_exec_prepared, with the result in text (0) or binary (1) format. Binary suits bytea columns;
 * cast every other column to text (its binary form is its bytes, NUL-terminated by libpq). */
att_err db_exec_prepared_fmt(PGconn *c, const char *name, int nparams, const char *const *values, const int *lengths,
                             const int *formats, int result_format, PGresult **res, char sqlstate[6]);

/* The SQLSTATE of the calling thread's first failed command since db_failure_clear, as the
 * transaction helper reads it: db_failure_retryable is true when it was a serialization failure
 * (40001) or a deadlock (40P01), after which the whole transaction may simply run again. */
void db_failure_clear(void);
bool db_failure_retryable(void);

/* Run registered parameterless statement `name` that yields one row of one integer column (a count or
 * a maximum) into *out (0 on failure); ATT_E_INTERNAL when it yields other than one row, else as
 * db_exec_prepared. */
att_err db_query_int64(PGconn *c, const char *name, int64_t *out);

/* Copy column text src into dst (dstlen bytes with its NUL); false, dst untouched, when it does not fit. */
bool db_copy_text(char *dst, size_t dstlen, const char *src);

/* Fills the element at dst from row `row` of r; ATT_E_INTERNAL when the row does not fit. */
typedef att_err (*db_row_fill)(const PGresult *r, int row, void *dst);

/* Run registered statement `name` (text parameters) and fill one `size`-byte element per result row
 * into a calloc'd array; *out (caller frees, NULL for no rows) and *n are set on ATT_OK, NULL and 0
 * otherwise. ATT_E_NOMEM, the fill's error, or as db_exec_prepared. */
att_err db_list_rows(PGconn *c, const char *name, int nparams, const char *const *values, size_t size, db_row_fill fill,
                     void **out, size_t *n);

/* Run a fixed SQL command (no parameters, no user data: BEGIN, COMMIT, ROLLBACK...). */
att_err db_exec_simple(PGconn *c, const char *sql);

#endif
