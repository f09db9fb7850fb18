/* Schema migrations: apply the embedded sql/NNN_name.sql files in order, each with its
 * attendd_schema row in one transaction, serialised across processes by an advisory lock. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/migrations.h"
#include "src/store/statements.h"

/* Session advisory lock key: "attendd" in ASCII, so other applications sharing the database are
 * unlikely to pick it. */
#define MIGRATE_LOCK_SQL_LOCK "SELECT pg_advisory_lock(27431116007695460)"
#define MIGRATE_LOCK_SQL_UNLOCK "SELECT pg_advisory_unlock(27431116007695460)"

static const char schema_table_sql[] = "CREATE TABLE IF NOT EXISTS attendd_schema ("
                                       " version integer PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

int db_schema_latest(void) { return db_migrations_count ? db_migrations[db_migrations_count - 1].version : 0; }

/* The generated table must be strictly increasing: the build sorts file names, so a duplicate
 * or badly numbered file is caught here rather than half-applied. */
static att_err check_embedded(char *err, size_t errlen)
{
    for (size_t i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        if (m->version <= 0 || !m->name || !m->sql || (i > 0 && m->version <= db_migrations[i - 1].version)) {
            snprintf(err, errlen, "embedded migrations are not strictly increasing at %s",
                     m->name ? m->name : "(unnamed)");
            return ATT_E_INTERNAL;
        }
    }
    return ATT_OK;
}

/* Primary message and SQLSTATE of a failed result, for err. */
static void result_error(PGconn *c, const PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!msg) msg = PQerrorMessage(c);
    int n = (int)strlen(msg);
    while (n > 0 && msg[n - 1] == '\n') n--;
    snprintf(err, errlen, "%s: %.*s%s%s%s", what, n, msg, st ? " (SQLSTATE " : "", st ? st : "", st ? ")" : "");
}

static att_err fail_code(PGconn *c) { return PQstatus(c) == CONNECTION_OK ? ATT_E_DB_QUERY : ATT_E_DB; }

/* Run one fixed statement; on failure fill err and return the code. */
static att_err run(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        PQclear(r);
        return ATT_OK;
    }
    result_error(c, r, what, err, errlen);
    PQclear(r);
    return fail_code(c);
}

/* Applied (version, name) rows in order; *rows is the result (PQclear it). */
static att_err read_applied(PGconn *c, PGresult **rows, char *err, size_t errlen)
{
    *rows = PQexec(c, "SELECT version, name FROM attendd_schema ORDER BY version");
    if (*rows && PQresultStatus(*rows) == PGRES_TUPLES_OK) return ATT_OK;
    result_error(c, *rows, "reading attendd_schema failed", err, errlen);
    PQclear(*rows);
    *rows = NULL;
    return fail_code(c);
}

/* What is applied must be exactly a prefix of what this binary embeds: a newer version means a
 * newer attendd migrated this database; a different name or a gap means the histories diverged.
 * *done = how many of db_migrations[] are already applied. */
static att_err check_history(const PGresult *rows, size_t *done, char *err, size_t errlen)
{
    int n = PQntuples(rows);
    int latest = db_schema_latest();
    if (n > 0) {
        int maxv = atoi(PQgetvalue(rows, n - 1, 0));
        if (maxv > latest) {
            snprintf(err, errlen,
                     "database schema version %d is newer than this attendd knows (latest %d): "
                     "upgrade attendd, or use a database made for this version",
                     maxv, latest);
            return ATT_E_SCHEMA;
        }
    }
    for (int i = 0; i < n; i++) {
        int v = atoi(PQgetvalue(rows, i, 0));
        const char *name = PQgetvalue(rows, i, 1);
        if ((size_t)i >= db_migrations_count || db_migrations[i].version != v) {
            snprintf(err, errlen, "database has migration %d (%s) where this attendd expects %s", v, name,
                     (size_t)i < db_migrations_count ? db_migrations[i].name : "nothing");
            return ATT_E_SCHEMA;
        }
        if (strcmp(db_migrations[i].name, name) != 0) {
            snprintf(err, errlen, "database migration %d is named %s but this attendd's is %s", v, name,
                     db_migrations[i].name);
            return ATT_E_SCHEMA;
        }
    }
    *done = (size_t)n;
    return ATT_OK;
}

static att_err apply_one(PGconn *c, const struct db_migration *m, char *err, size_t errlen)
{
    char what[160];
    att_err rc = run(c, "BEGIN", "BEGIN failed", err, errlen);
    if (rc != ATT_OK) return rc;
    snprintf(what, sizeof what, "migration %s failed", m->name);
    rc = run(c, m->sql, what, err, errlen);
    if (rc == ATT_OK) {
        char ver[16];
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *params[2] = {ver, m->name};
        PGresult *r = PQexecParams(c, "INSERT INTO attendd_schema (version, name) VALUES ($1::integer, $2::text)", 2,
                                   NULL, params, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(what, sizeof what, "recording migration %s failed", m->name);
            result_error(c, r, what, err, errlen);
            rc = fail_code(c);
        }
        PQclear(r);
    }
    if (rc == ATT_OK) rc = run(c, "COMMIT", "COMMIT failed", err, errlen);
    if (rc != ATT_OK) {
        /* nothing of a failed migration stays: its DDL and its row go together */
        PGresult *r = PQexec(c, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

att_err db_migrate(PGconn *conn, int *applied, char *err, size_t errlen)
{
    if (applied) *applied = 0;
    att_err rc = check_embedded(err, errlen);
    if (rc != ATT_OK) return rc;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "no database connection");
        return ATT_E_DB;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        snprintf(err, errlen, "db_migrate called inside a transaction");
        return ATT_E_INTERNAL;
    }
    /* A second migrator waits here until the first is done, then finds nothing pending. */
    rc = run(conn, MIGRATE_LOCK_SQL_LOCK, "taking the migration lock failed", err, errlen);
    if (rc != ATT_OK) return rc;

    rc = run(conn, schema_table_sql, "creating attendd_schema failed", err, errlen);
    PGresult *rows = NULL;
    if (rc == ATT_OK) rc = read_applied(conn, &rows, err, errlen);
    size_t done = 0;
    if (rc == ATT_OK) rc = check_history(rows, &done, err, errlen);
    PQclear(rows);
    for (size_t i = done; rc == ATT_OK && i < db_migrations_count; i++) {
        rc = apply_one(conn, &db_migrations[i], err, errlen);
        if (rc == ATT_OK) {
            log_info("db", "applied migration %s", db_migrations[i].name);
            if (applied) (*applied)++;
        }
    }

    /* On a lost connection the lock went with the session; otherwise give it back explicitly,
     * keeping the first error's message. */
    if (PQstatus(conn) == CONNECTION_OK) {
        char uerr[256];
        att_err urc = run(conn, MIGRATE_LOCK_SQL_UNLOCK, "releasing the migration lock failed", uerr, sizeof uerr);
        if (urc != ATT_OK && rc == ATT_OK) {
            snprintf(err, errlen, "%s", uerr);
            rc = urc;
        }
    }
    return rc;
}

att_err db_schema_check(PGconn *conn, int *version, char *err, size_t errlen)
{
    if (version) *version = 0;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "no database connection");
        return ATT_E_DB;
    }
    int latest = db_schema_latest();
    PGresult *r = PQexec(conn, "SELECT to_regclass('attendd_schema') IS NOT NULL");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        result_error(conn, r, "reading the schema version failed", err, errlen);
        PQclear(r);
        return fail_code(conn);
    }
    bool exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    int v = 0;
    if (exists) {
        r = PQexec(conn, "SELECT coalesce(max(version), 0) FROM attendd_schema");
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            result_error(conn, r, "reading the schema version failed", err, errlen);
            PQclear(r);
            return fail_code(conn);
        }
        v = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (version) *version = v;
    if (v > latest) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this attendd knows (latest %d): upgrade attendd", v, latest);
        return ATT_E_SCHEMA;
    }
    if (v < latest) {
        snprintf(err, errlen, "database schema version %d is older than this attendd's %d: run `attendctl migrate`", v,
                 latest);
        return ATT_E_SCHEMA;
    }
    return ATT_OK;
}
