/* The registry of named prepared statements: every connection prepares all of them once, and
 * store code runs them by name only. Modules add their statements here, in their own section. */
#include "src/store/statements.h"

#include <stdio.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/log.h"

/* Timestamps leave the database as RFC 3339 UTC text, so C never parses time zones. */
#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define TOKEN_COLS                                                                          \
    "id::text, name, role::text, " RFC3339("created_at") ", coalesce(" RFC3339("last_used_at") \
    ", ''), revoked_at IS NOT NULL"

const struct db_statement db_statements[] = {
    /* ---- api tokens (src/store/tokens.c) ---- */
    {"token_insert",
     "INSERT INTO api_tokens (name, role, hash, created_by) "
     "VALUES ($1::text, $2::token_role, $3::bytea, $4::uuid) RETURNING id::text",
     4},
    {"token_lookup", "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = $1::bytea AND revoked_at IS NULL", 1},
    {"token_list", "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY created_at DESC, id DESC", 0},
    {"token_revoke", "UPDATE api_tokens SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL", 1},
    /* at most one write a minute per token: a busy client must not turn every request into an UPDATE */
    {"token_touch",
     "UPDATE api_tokens SET last_used_at = now() WHERE id = $1::uuid "
     "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
     1},

    /* ---- audit log (src/store/audit.c) ---- */
    {"audit_insert",
     "INSERT INTO audit_log (token_id, actor, action, target_type, target_id, outcome, detail) "
     "VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb)",
     7},
};

const size_t db_statements_count = sizeof db_statements / sizeof db_statements[0];

const struct db_statement *db_statement_find(const char *name)
{
    for (size_t i = 0; i < db_statements_count; i++)
        if (strcmp(db_statements[i].name, name) == 0) return &db_statements[i];
    return NULL;
}

/* SQLSTATEs meaning "the schema does not have what this statement names": not migrated (or a
 * binary newer than the database), not a bug in the statement. */
static bool sqlstate_is_missing_object(const char *st)
{
    return st && (strcmp(st, "42P01") == 0     /* undefined_table */
                  || strcmp(st, "42703") == 0  /* undefined_column */
                  || strcmp(st, "42704") == 0  /* undefined_object (enum types) */
                  || strcmp(st, "42883") == 0); /* undefined_function */
}

att_err db_prepare_all(PGconn *c, char *err, size_t errlen)
{
    if (!c) {
        snprintf(err, errlen, "no connection");
        return ATT_E_INTERNAL;
    }
    /* Idempotent: after a PQreset the session is new anyway, but a second call on a live session
     * must not fail on duplicate names. */
    att_err rc = db_exec_simple(c, "DEALLOCATE ALL");
    if (rc != ATT_OK) {
        snprintf(err, errlen, "DEALLOCATE ALL failed: %s", PQerrorMessage(c));
        return rc;
    }
    for (size_t i = 0; i < db_statements_count; i++) {
        const struct db_statement *s = &db_statements[i];
        PGresult *res = PQprepare(c, s->name, s->sql, s->nparams, NULL);
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            continue;
        }
        const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg) msg = PQerrorMessage(c);
        if (PQstatus(c) != CONNECTION_OK || !res) rc = ATT_E_DB;
        else if (sqlstate_is_missing_object(st)) rc = ATT_E_SCHEMA;
        else rc = ATT_E_DB_QUERY;
        if (rc == ATT_E_SCHEMA)
            snprintf(err, errlen, "database schema lacks what statement %s needs (%s): run `attendctl migrate`",
                     s->name, msg);
        else
            snprintf(err, errlen, "preparing statement %s failed: %s", s->name, msg);
        PQclear(res);
        return rc;
    }
    return ATT_OK;
}
