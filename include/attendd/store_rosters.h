/* Rosters, holidays, leave, resolved exceptions and pay periods in PostgreSQL (sql/006_rosters.sql):
 * statements that answer one JSON text (a row, a list, or every definition the engines need). */
#ifndef ATTENDD_STORE_ROSTERS_H
#define ATTENDD_STORE_ROSTERS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "attendd/errors.h"

/* Run registered statement stmt (n text parameters, NULL = SQL NULL) that yields at most one row of one
 * JSON text column; *out is the parsed value (caller json_decref's). ATT_E_NOT_FOUND for no row (*out
 * NULL); ATT_E_PERIOD_CLOSED when a closed pay period refuses the change; else as db_exec_prepared. */
att_err store_json_one(PGconn *c, const char *stmt, int n, const char *const *v, json_t **out);

/* Run registered statement stmt that yields no rows (an UPDATE); as db_exec_prepared. */
att_err store_exec(PGconn *c, const char *stmt, int n, const char *const *v);

/* Run registered statement stmt that yields one text column naming the first missing referent of a
 * write ("" when none) into missing (missing_len bytes). */
att_err store_missing_ref(PGconn *c, const char *stmt, int n, const char *const *v, char *missing, size_t missing_len);

#endif
