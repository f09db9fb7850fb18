/* Running registered statements and transaction control, with one mapping from server errors
 * (SQLSTATE) to att_err for the whole store layer. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "src/store/statements.h"

static bool state_is(const char *st, const char *want) { return st && strcmp(st, want) == 0; }

/* SQLSTATE of this thread's first failed command since db_failure_clear: lets the transaction helper
 * tell a serialization failure or deadlock from the att_err a store function mapped it to. The first,
 * because every later statement of the aborted transaction fails with 25P02. */
static _Thread_local char last_failure[6];

static void remember_failure(const char *st)
{
    if (last_failure[0] == '\0') snprintf(last_failure, sizeof last_failure, "%s", st ? st : "?");
}

void db_failure_clear(void) { last_failure[0] = '\0'; }

bool db_failure_retryable(void) { return state_is(last_failure, "40001") || state_is(last_failure, "40P01"); }
static bool state_class(const char *st, const char *cls) { return st && strncmp(st, cls, 2) == 0; }

/* Map a failed result to att_err; connection-level failures first, since after a lost connection
 * any SQLSTATE is incidental. */
static att_err map_failure(PGconn *c, const PGresult *res, const char *st)
{
    if (!res || PQstatus(c) != CONNECTION_OK) return ATT_E_DB;
    if (state_class(st, "08") || state_class(st, "57")) return ATT_E_DB; /* connection / operator intervention */
    /* statement missing from the session: the pool lent it before the schema existed */
    if (state_is(st, "26000")) return ATT_E_SCHEMA;
    if (state_is(st, "23505") || state_is(st, "23503")) return ATT_E_CONFLICT;
    if (state_is(st, "AT409")) return ATT_E_PERIOD_CLOSED; /* attendd_period_guard(), sql/006_rosters.sql */
    if (state_is(st, "23514") || state_is(st, "23502") || state_class(st, "22")) return ATT_E_INVALID;
    return ATT_E_DB_QUERY;
}

att_err db_exec_prepared(PGconn *c, const char *name, int nparams, const char *const *values, const int *lengths,
                         const int *formats, PGresult **res, char sqlstate[6])
{
    return db_exec_prepared_fmt(c, name, nparams, values, lengths, formats, 0, res, sqlstate);
}

att_err db_exec_prepared_fmt(PGconn *c, const char *name, int nparams, const char *const *values, const int *lengths,
                             const int *formats, int result_format, PGresult **res, char sqlstate[6])
{
    *res = NULL;
    if (sqlstate) sqlstate[0] = '\0';
    const struct db_statement *s = db_statement_find(name);
    if (!s || s->nparams != nparams) {
        /* a programming error, not a database one: say so loudly */
        log_error("db", "statement %s: %s", name, s ? "wrong parameter count" : "not in the registry");
        return ATT_E_INTERNAL;
    }
    if (!c) return ATT_E_DB;
    PGresult *r = PQexecPrepared(c, name, nparams, values, lengths, formats, result_format ? 1 : 0);
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        *res = r;
        return ATT_OK;
    }
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    remember_failure(st);
    if (!msg) msg = PQerrorMessage(c);
    if (sqlstate && st) {
        strncpy(sqlstate, st, 5);
        sqlstate[5] = '\0';
    }
    att_err rc = map_failure(c, r, st);
    /* Constraint and syntax messages can quote the offending value: keep them out of normal logs. */
    if (rc == ATT_E_INVALID || rc == ATT_E_CONFLICT)
        log_debug("db", "statement %s refused (SQLSTATE %s): %s", name, st ? st : "-", msg);
    else if (rc == ATT_E_SCHEMA) log_warn("db", "statement %s is not prepared: database schema not migrated", name);
    else log_error("db", "statement %s failed (SQLSTATE %s): %s", name, st ? st : "-", msg);
    PQclear(r);
    return rc;
}

bool db_copy_text(char *dst, size_t dstlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstlen) return false;
    memcpy(dst, src, n + 1);
    return true;
}

att_err db_query_int64(PGconn *c, const char *name, int64_t *out)
{
    *out = 0;
    PGresult *r;
    att_err rc = db_exec_prepared(c, name, 0, NULL, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    if (PQntuples(r) == 1) *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else rc = ATT_E_INTERNAL;
    PQclear(r);
    return rc;
}

att_err db_list_rows(PGconn *c, const char *name, int nparams, const char *const *values, size_t size, db_row_fill fill,
                     void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *r;
    att_err rc = db_exec_prepared(c, name, nparams, values, NULL, NULL, &r, NULL);
    if (rc != ATT_OK) return rc;
    size_t rows = (size_t)PQntuples(r);
    unsigned char *v = rows ? calloc(rows, size) : NULL;
    if (rows && !v) rc = ATT_E_NOMEM;
    for (size_t i = 0; rc == ATT_OK && i < rows; i++) rc = fill(r, (int)i, v + i * size);
    PQclear(r);
    if (rc != ATT_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = rows;
    return ATT_OK;
}

att_err db_exec_simple(PGconn *c, const char *sql)
{
    if (!c) return ATT_E_DB;
    PGresult *r = PQexec(c, sql);
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(r);
        return ATT_OK;
    }
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    remember_failure(st);
    log_error("db", "%s failed (SQLSTATE %s): %s", sql, st ? st : "-", msg ? msg : PQerrorMessage(c));
    att_err rc = map_failure(c, r, st);
    PQclear(r);
    return rc == ATT_E_DB ? ATT_E_DB : ATT_E_DB_QUERY;
}

att_err db_begin(PGconn *c) { return db_exec_simple(c, "BEGIN"); }
att_err db_commit(PGconn *c) { return db_exec_simple(c, "COMMIT"); }

void db_rollback(PGconn *c)
{
    /* Nothing to undo outside a transaction; after a lost connection ROLLBACK cannot help either. */
    if (!c || PQstatus(c) != CONNECTION_OK) return;
    PGTransactionStatusType ts = PQtransactionStatus(c);
    if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR) return;
    (void)db_exec_simple(c, "ROLLBACK"); /* a failure is logged and leaves c broken: release resets it */
}
