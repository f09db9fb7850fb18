/* Store layer against a throwaway PostgreSQL cluster: migrations, the connection pool, the
 * statement registry, API tokens, the append-only audit log and uuid validation. */
#include <check.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/migrations.h"
#include "attendd/store_audit.h"
#include "attendd/store_tokens.h"
#include "attendd/token.h"
#include "attendd/uuid.h"
#include "src/store/statements.h"
#include "support.h"
#include "support_store.h"

/* First column of the first row of a fixed query, into out; false if the query failed. */
static bool query1(PGconn *c, const char *sql, char *out, size_t len)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    if (ok) snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

static int query_int(PGconn *c, const char *sql)
{
    char buf[64];
    ck_assert_msg(query1(c, sql, buf, sizeof buf), "query failed: %s: %s", sql, PQerrorMessage(c));
    return atoi(buf);
}

/* A digest of everything migrations create plus the version rows: equal digests, same schema. */
static const char schema_digest_sql[] =
    "SELECT count(*) || ' ' || md5(string_agg(x, E'\\n' ORDER BY x)) FROM ("
    " SELECT 'rel ' || relname || ' ' || relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    " UNION ALL SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' ' ||"
    "   format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull"
    "   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    "   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped"
    " UNION ALL SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
    "   WHERE connamespace = 'public'::regnamespace"
    " UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'"
    " UNION ALL SELECT 'trg ' || tgname FROM pg_trigger WHERE NOT tgisinternal"
    " UNION ALL SELECT 'typ ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace"
    " UNION ALL SELECT 'fn ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    " UNION ALL SELECT 'ver ' || version || ' ' || name || ' ' || applied_at FROM attendd_schema"
    ") s(x)";

/* ---- migrations ------------------------------------------------------------------------------ */

START_TEST(migrate_applies_in_order)
{
    char ci[600], err[512] = "", buf[256];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);
    int applied = -1;
    ck_assert_int_gt((int)db_migrations_count, 0);
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_int_eq(applied, (int)db_migrations_count);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM attendd_schema"), (int)db_migrations_count);
    PGresult *r = PQexec(c, "SELECT version, name FROM attendd_schema ORDER BY applied_at, version");
    ck_assert_int_eq(PQntuples(r), (int)db_migrations_count);
    for (int i = 0; i < PQntuples(r); i++) {
        ck_assert_int_eq(atoi(PQgetvalue(r, i, 0)), db_migrations[i].version);
        ck_assert_str_eq(PQgetvalue(r, i, 1), db_migrations[i].name);
    }
    PQclear(r);
    ck_assert_int_eq(db_schema_latest(), db_migrations[db_migrations_count - 1].version);
    /* every table of the initial schema is there */
    const char *tables[] = {"people", "faces", "cameras", "events", "api_tokens", "audit_log"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT to_regclass('%s') IS NOT NULL", tables[i]);
        ck_assert(query1(c, sql, buf, sizeof buf));
        ck_assert_msg(strcmp(buf, "t") == 0, "table %s missing", tables[i]);
    }
    int v = -1;
    ck_assert_int_eq(db_schema_check(c, &v, err, sizeof err), ATT_OK);
    ck_assert_int_eq(v, db_schema_latest());
    PQfinish(c);
}
END_TEST

START_TEST(migrate_twice_changes_nothing)
{
    char ci[600], err[512] = "", before[128], after[128];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);
    int applied = -1;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert(query1(c, schema_digest_sql, before, sizeof before));
    PQfinish(c);

    /* a second process (new session) finds nothing to do */
    c = ts_db_connect(ci, "attendd-test", false);
    applied = -1;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_int_eq(applied, 0);
    ck_assert(query1(c, schema_digest_sql, after, sizeof after));
    ck_assert_str_eq(before, after);
    ck_assert_int_gt(atoi(before), 50); /* the digest really covers the schema */
    PQfinish(c);
}
END_TEST

START_TEST(migrate_refuses_newer_database)
{
    char ci[600], err[512] = "", sql[200];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    snprintf(sql, sizeof sql, "INSERT INTO attendd_schema (version, name) VALUES (%d, '999_from_the_future')",
             db_schema_latest() + 1);
    ck_assert(ts_q_ok(c, sql));
    int applied = -1;
    ck_assert_int_eq(db_migrate(c, &applied, err, sizeof err), ATT_E_SCHEMA);
    ck_assert_int_eq(applied, 0);
    ck_assert_msg(strstr(err, "newer") != NULL, "message: %s", err);
    int v = 0;
    err[0] = '\0';
    ck_assert_int_eq(db_schema_check(c, &v, err, sizeof err), ATT_E_SCHEMA);
    ck_assert_int_eq(v, db_schema_latest() + 1);
    ck_assert_msg(strstr(err, "newer") != NULL, "message: %s", err);
    /* the lock was given back: another session can take it at once */
    PGconn *c2 = ts_db_connect(ci, "attendd-test", false);
    char got[8];
    ck_assert(query1(c2, "SELECT pg_try_advisory_lock(27431116007695460)", got, sizeof got));
    ck_assert_str_eq(got, "t");
    PQfinish(c2);
    PQfinish(c);
}
END_TEST

START_TEST(migrate_refuses_diverged_history)
{
    char ci[600], err[512] = "";
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    ck_assert(ts_q_ok(c, "UPDATE attendd_schema SET name = '001_something_else' WHERE version = 1"));
    int applied = -1;
    ck_assert_int_eq(db_migrate(c, &applied, err, sizeof err), ATT_E_SCHEMA);
    ck_assert_msg(strstr(err, "001_something_else") != NULL, "message: %s", err);
    PQfinish(c);
}
END_TEST

START_TEST(migrate_failure_rolls_back)
{
    char ci[600], err[512] = "";
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);
    /* a clashing object makes 001 fail half-way: nothing of it may stay */
    ck_assert(ts_q_ok(c, "CREATE TABLE audit_log (x int)"));
    int applied = -1;
    ck_assert_int_eq(db_migrate(c, &applied, err, sizeof err), ATT_E_DB_QUERY);
    ck_assert_int_eq(applied, 0);
    ck_assert_msg(strstr(err, db_migrations[0].name) != NULL, "message: %s", err);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM attendd_schema"), 0);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM pg_class WHERE relname IN ('people', 'events')"), 0);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    PQfinish(c);
}
END_TEST

START_TEST(schema_check_unmigrated)
{
    char ci[600], err[512] = "";
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);
    int v = -1;
    ck_assert_int_eq(db_schema_check(c, &v, err, sizeof err), ATT_E_SCHEMA);
    ck_assert_int_eq(v, 0);
    ck_assert_msg(strstr(err, "attendctl migrate") != NULL, "message: %s", err);
    /* statements need the schema: a clear ATT_E_SCHEMA, not a generic query error */
    ck_assert_int_eq(db_prepare_all(c, err, sizeof err), ATT_E_SCHEMA);
    PQfinish(c);
}
END_TEST

struct migrator {
    const char *conninfo;
    int applied;
    att_err rc;
    char err[512];
};

static void *migrate_thread(void *arg)
{
    struct migrator *m = arg;
    PGconn *c = NULL;
    m->rc = db_connect(m->conninfo, "attendd-test", &c, m->err, sizeof m->err);
    if (m->rc == ATT_OK) m->rc = db_migrate(c, &m->applied, m->err, sizeof m->err);
    PQfinish(c);
    return NULL;
}

START_TEST(migrate_concurrent_processes_serialise)
{
    char ci[600];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    struct migrator m[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        m[i] = (struct migrator){.conninfo = ci};
        ck_assert_int_eq(pthread_create(&t[i], NULL, migrate_thread, &m[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(m[i].rc == ATT_OK, "migrator %d: %s", i, m[i].err);
        total += m[i].applied;
    }
    ck_assert_int_eq(total, (int)db_migrations_count);
}
END_TEST

/* ---- statements -------------------------------------------------------------------------------- */

START_TEST(statements_registry_consistent)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    for (size_t i = 0; i < db_statements_count; i++) {
        for (size_t j = i + 1; j < db_statements_count; j++)
            ck_assert_msg(strcmp(db_statements[i].name, db_statements[j].name) != 0, "duplicate %s",
                          db_statements[i].name);
        /* the declared parameter count is what the server parsed */
        PGresult *r = PQdescribePrepared(c, db_statements[i].name);
        ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
        ck_assert_msg(PQnparams(r) == db_statements[i].nparams, "%s: server sees %d parameters, registry says %d",
                      db_statements[i].name, PQnparams(r), db_statements[i].nparams);
        PQclear(r);
        ck_assert_ptr_eq(db_statement_find(db_statements[i].name), &db_statements[i]);
    }
    ck_assert_ptr_null(db_statement_find("no_such_statement"));
    /* preparing twice on one session is fine */
    char err[512] = "";
    ck_assert_msg(db_prepare_all(c, err, sizeof err) == ATT_OK, "%s", err);
    /* a wrong parameter count is a programming error caught before the server */
    PGresult *r = (PGresult *)1;
    ck_assert_int_eq(db_exec_prepared(c, "token_list", 1, NULL, NULL, NULL, &r, NULL), ATT_E_INTERNAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(db_exec_prepared(c, "nope", 0, NULL, NULL, NULL, &r, NULL), ATT_E_INTERNAL);
    PQfinish(c);
}
END_TEST

START_TEST(connect_sets_application_name)
{
    char ci[600], buf[64];
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    PGconn *c = ts_db_connect(ci, "attendd-test", false);
    ck_assert(query1(c, "SELECT current_setting('application_name')", buf, sizeof buf));
    ck_assert_str_eq(buf, "attendd-test");
    PQfinish(c);

    char err[256] = "";
    c = (PGconn *)1;
    ck_assert_int_eq(db_connect("definitely_not_a_keyword=1", "x", &c, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "database_url") != NULL, "%s", err);
    ck_assert_int_eq(db_connect("", "x", &c, err, sizeof err), ATT_E_CONFIG);
}
END_TEST

/* ---- pool ---------------------------------------------------------------------------------------- */

START_TEST(pool_bad_arguments)
{
    db_pool *p = (db_pool *)1;
    char err[256] = "";
    ck_assert_int_eq(db_pool_open("definitely_not_a_keyword=1", 2, &p, err, sizeof err), ATT_E_CONFIG);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(db_pool_open("dbname=x", 0, &p, err, sizeof err), ATT_E_CONFIG);
    ck_assert_int_eq(db_pool_open("", 2, &p, err, sizeof err), ATT_E_CONFIG);
}
END_TEST

START_TEST(pool_database_down_fails_fast)
{
    db_pool *p;
    char err[256] = "";
    /* lazily connecting: opening works although nothing listens there */
    ck_assert_int_eq(db_pool_open("host=/nonexistent/attendd-sock dbname=x", 2, &p, err, sizeof err), ATT_OK);
    PGconn *c = (PGconn *)1;
    double t0 = ts_now_s();
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_E_DB);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(db_ping(p), ATT_E_DB);
    ck_assert_double_lt(ts_now_s() - t0, 3.0);
    db_pool_close(p);

    /* an address nobody answers: connect_timeout bounds the wait (or the network says no at once) */
    ck_assert_int_eq(db_pool_open("host=192.0.2.1 port=5432 dbname=x", 1, &p, err, sizeof err), ATT_OK);
    t0 = ts_now_s();
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_E_DB);
    ck_assert_double_lt(ts_now_s() - t0, DB_CONNECT_TIMEOUT_S + 3.0);
    db_pool_close(p);
}
END_TEST

START_TEST(pool_unmigrated_then_migrated)
{
    char ci[600], err[512] = "";
    ck_assert_int_eq(ts_db_new(ci, sizeof ci), 0);
    db_pool *p;
    ck_assert_int_eq(db_pool_open(ci, 2, &p, err, sizeof err), ATT_OK);
    /* not ready while the schema is missing, and store calls say why */
    ck_assert_int_eq(db_ping(p), ATT_E_SCHEMA);
    PGconn *c;
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_OK);
    struct token_info *v;
    size_t n;
    ck_assert_int_eq(store_token_list(c, &v, &n), ATT_E_SCHEMA);
    /* the daemon migrates through the pool */
    int applied = 0;
    ck_assert_msg(db_migrate(c, &applied, err, sizeof err) == ATT_OK, "%s", err);
    ck_assert_int_eq(applied, (int)db_migrations_count);
    db_release(p, c);
    /* readiness recovers by itself, on every connection */
    ck_assert_int_eq(db_ping(p), ATT_OK);
    PGconn *c2;
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_OK);
    ck_assert_int_eq(db_acquire(p, 1000, &c2), ATT_OK);
    char buf[64];
    ck_assert(query1(c, "SELECT current_setting('application_name')", buf, sizeof buf));
    ck_assert_str_eq(buf, "attendd");
    ck_assert_int_eq(store_token_list(c, &v, &n), ATT_OK);
    free(v);
    ck_assert_int_eq(store_token_list(c2, &v, &n), ATT_OK);
    free(v);
    db_release(p, c);
    db_release(p, c2);
    db_pool_close(p);
}
END_TEST

START_TEST(pool_waits_then_times_out)
{
    char ci[600], err[512] = "";
    PGconn *m = ts_db_migrated(ci, sizeof ci);
    PQfinish(m);
    db_pool *p;
    ck_assert_int_eq(db_pool_open(ci, 1, &p, err, sizeof err), ATT_OK);
    PGconn *a, *b = (PGconn *)1;
    ck_assert_int_eq(db_acquire(p, 1000, &a), ATT_OK);
    double t0 = ts_now_s();
    ck_assert_int_eq(db_acquire(p, 200, &b), ATT_E_UNAVAILABLE);
    ck_assert_ptr_null(b);
    double waited = ts_now_s() - t0;
    ck_assert_double_ge(waited, 0.15);
    ck_assert_double_lt(waited, 2.0);
    /* a connection given back inside a transaction is rolled back before reuse */
    ck_assert(ts_q_ok(a, "BEGIN"));
    ck_assert(ts_q_ok(a, "CREATE TABLE left_behind (x int)"));
    db_release(p, a);
    ck_assert_int_eq(db_acquire(p, 1000, &b), ATT_OK);
    ck_assert_ptr_eq(a, b); /* the connection is kept, not reopened */
    ck_assert_int_eq(PQtransactionStatus(b), PQTRANS_IDLE);
    ck_assert_int_eq(query_int(b, "SELECT count(*) FROM pg_class WHERE relname = 'left_behind'"), 0);
    db_release(p, b);
    db_pool_close(p);
}
END_TEST

START_TEST(pool_reconnects_after_backend_dies)
{
    char ci[600], err[512] = "", pid[32], sql[160];
    PGconn *m = ts_db_migrated(ci, sizeof ci);
    db_pool *p;
    ck_assert_int_eq(db_pool_open(ci, 1, &p, err, sizeof err), ATT_OK);
    PGconn *c;
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_OK);
    ck_assert(query1(c, "SELECT pg_backend_pid()", pid, sizeof pid));
    db_release(p, c);

    /* kill the pooled session from outside, as a server restart would */
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s, 5000)", pid);
    ck_assert(ts_q_ok(m, sql));
    /* the next borrower gets a working connection, without a failed query first */
    ck_assert_int_eq(db_acquire(p, 1000, &c), ATT_OK);
    char pid2[32];
    ck_assert_msg(query1(c, "SELECT pg_backend_pid()", pid2, sizeof pid2), "%s", PQerrorMessage(c));
    ck_assert_str_ne(pid, pid2);
    struct token_info *v;
    size_t n;
    ck_assert_int_eq(store_token_list(c, &v, &n), ATT_OK); /* prepared again after the reset */
    free(v);

    /* and if the session dies while borrowed, the failed query's connection is reset on reuse */
    ck_assert(query1(c, "SELECT pg_backend_pid()", pid, sizeof pid));
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s, 5000)", pid);
    ck_assert(ts_q_ok(m, sql));
    ck_assert(!ts_q_ok(c, "SELECT 1"));
    db_release(p, c);
    ck_assert_int_eq(db_ping(p), ATT_OK);
    db_pool_close(p);
    PQfinish(m);
}
END_TEST

struct pool_worker {
    db_pool *pool;
    int failures;
};

static void *pool_worker(void *arg)
{
    struct pool_worker *w = arg;
    for (int i = 0; i < 25; i++) {
        PGconn *c;
        if (db_acquire(w->pool, 5000, &c) != ATT_OK) {
            w->failures++;
            continue;
        }
        struct token_info *v;
        size_t n;
        if (store_token_list(c, &v, &n) != ATT_OK) w->failures++;
        else free(v);
        db_release(w->pool, c);
    }
    return NULL;
}

START_TEST(pool_shared_by_threads)
{
    char ci[600], err[512] = "";
    PGconn *m = ts_db_migrated(ci, sizeof ci);
    PQfinish(m);
    db_pool *p;
    ck_assert_int_eq(db_pool_open(ci, 3, &p, err, sizeof err), ATT_OK);
    struct pool_worker w[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct pool_worker){.pool = p};
        ck_assert_int_eq(pthread_create(&t[i], NULL, pool_worker, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    /* never more sessions than the pool size */
    m = ts_db_connect(ci, "attendd-test", false);
    ck_assert_int_le(query_int(m, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'attendd'"), 3);
    PQfinish(m);
    db_pool_close(p);
}
END_TEST

/* ---- tokens ----------------------------------------------------------------------------------------- */

static void test_key(struct token_key *k, unsigned char fill) { memset(k->k, fill, sizeof k->k); }

START_TEST(tokens_create_lookup_revoke_list)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct token_key key;
    test_key(&key, 7);
    char tok_a[TOKEN_STR_MAX], id_a[ATT_UUID_STR], tok_h[TOKEN_STR_MAX], id_h[ATT_UUID_STR];
    ck_assert_int_eq(store_token_create(c, &key, "ops admin", ROLE_ADMIN, NULL, tok_a, id_a), ATT_OK);
    ck_assert(token_well_formed(tok_a, strlen(tok_a)));
    ck_assert(att_uuid_valid(id_a));
    ck_assert_int_eq(store_token_create(c, &key, "HR Büro", ROLE_HR, id_a, tok_h, id_h), ATT_OK);
    ck_assert_str_ne(tok_a, tok_h);

    /* lookup by the keyed hash of the presented secret */
    unsigned char h[TOKEN_HASH_BYTES];
    struct token_info ti;
    token_hash(&key, tok_h, strlen(tok_h), h);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_OK);
    ck_assert_str_eq(ti.id, id_h);
    ck_assert_str_eq(ti.name, "HR Büro");
    ck_assert_int_eq(ti.role, ROLE_HR);
    ck_assert(!ti.revoked);
    ck_assert_str_eq(ti.last_used_at, "");
    ck_assert_int_eq((int)strlen(ti.created_at), 20); /* 2024-01-02T03:04:05Z */
    ck_assert_int_eq(ti.created_at[19], 'Z');

    /* the database holds the hash, never the token */
    char sql[256], hex[2 * TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE hash = '\\x%s'::bytea", hex);
    ck_assert_int_eq(query_int(c, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE position(convert_to('%s', 'UTF8') IN hash) > 0",
             tok_h + 4);
    ck_assert_int_eq(query_int(c, sql), 0);
    snprintf(sql, sizeof sql, "SELECT created_by::text = '%s' FROM api_tokens WHERE id = '%s'", id_a, id_h);
    char b[8];
    ck_assert(query1(c, sql, b, sizeof b));
    ck_assert_str_eq(b, "t");

    /* touch records use */
    ck_assert_int_eq(store_token_touch(c, id_h), ATT_OK);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_OK);
    ck_assert_int_eq((int)strlen(ti.last_used_at), 20);
    ck_assert_int_eq(store_token_touch(c, id_h), ATT_OK); /* within the minute: no-op, still fine */
    ck_assert_int_eq(store_token_touch(c, "xyz"), ATT_E_INVALID);

    /* list: newest first, both roles */
    struct token_info *v;
    size_t n;
    ck_assert_int_eq(store_token_list(c, &v, &n), ATT_OK);
    ck_assert_int_eq((int)n, 2);
    ck_assert_str_eq(v[0].id, id_h);
    ck_assert_str_eq(v[1].id, id_a);
    ck_assert_int_eq(v[1].role, ROLE_ADMIN);
    free(v);

    /* revoke: lookup stops working, the row stays listed as revoked */
    ck_assert_int_eq(store_token_revoke(c, id_h), ATT_OK);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_token_revoke(c, id_h), ATT_E_NOT_FOUND);
    ck_assert_int_eq(store_token_list(c, &v, &n), ATT_OK);
    ck_assert_int_eq((int)n, 2);
    ck_assert(v[0].revoked);
    ck_assert(!v[1].revoked);
    free(v);
    /* the other token is untouched */
    token_hash(&key, tok_a, strlen(tok_a), h);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_OK);
    ck_assert_int_eq(ti.role, ROLE_ADMIN);
    PQfinish(c);
}
END_TEST

START_TEST(tokens_wrong_hash_not_found)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct token_key key, other;
    test_key(&key, 1);
    test_key(&other, 2);
    char tok[TOKEN_STR_MAX], id[ATT_UUID_STR];
    ck_assert_int_eq(store_token_create(c, &key, "t", ROLE_ADMIN, NULL, tok, id), ATT_OK);
    unsigned char h[TOKEN_HASH_BYTES];
    struct token_info ti;
    /* same token, other key */
    token_hash(&other, tok, strlen(tok), h);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_E_NOT_FOUND);
    /* other token, same key */
    char tok2[TOKEN_STR_MAX];
    ck_assert_int_eq(token_generate(tok2), ATT_OK);
    token_hash(&key, tok2, strlen(tok2), h);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_E_NOT_FOUND);
    /* all zeros */
    memset(h, 0, sizeof h);
    ck_assert_int_eq(store_token_lookup(c, h, &ti), ATT_E_NOT_FOUND);
    PQfinish(c);
}
END_TEST

START_TEST(tokens_invalid_input)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct token_key key;
    test_key(&key, 3);
    char tok[TOKEN_STR_MAX], id[ATT_UUID_STR], longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(store_token_create(c, &key, "", ROLE_ADMIN, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, NULL, ROLE_ADMIN, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, longname, ROLE_ADMIN, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, "tab\there", ROLE_ADMIN, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, "bad \xc3\x28 utf8", ROLE_ADMIN, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, "x", ROLE_NONE, NULL, tok, id), ATT_E_INVALID);
    ck_assert_int_eq(store_token_create(c, &key, "x", ROLE_HR, "not-a-uuid", tok, id), ATT_E_INVALID);
    /* a well-formed creator that does not exist */
    ck_assert_int_eq(store_token_create(c, &key, "x", ROLE_HR, "00000000-0000-0000-0000-000000000000", tok, id),
                     ATT_E_INVALID);
    ck_assert_str_eq(tok, "");
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM api_tokens"), 0);
    /* bad ids never reach the server as errors */
    ck_assert_int_eq(store_token_revoke(c, "1; DROP TABLE api_tokens"), ATT_E_INVALID);
    ck_assert_int_eq(store_token_revoke(c, NULL), ATT_E_INVALID);
    ck_assert_int_eq(store_token_revoke(c, "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f"), ATT_E_NOT_FOUND);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    PQfinish(c);
}
END_TEST

/* ---- audit ------------------------------------------------------------------------------------------- */

START_TEST(audit_insert_and_append_only)
{
    char ci[600], buf[256];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct audit_entry e = {
        .token_id = "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f",
        .actor = "ops admin",
        .action = "person.read",
        .target_type = "person",
        .target_id = "0b8e4b8e-2c4f-4b0e-9e8a-1b2c3d4e5f60",
        .outcome = "ok",
        .detail_json = "{\"fields\": [\"name\"], \"quote\": \"it's\"}",
    };
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_OK);
    struct audit_entry minimal = {.actor = "system", .action = "schema.migrate", .outcome = "ok"};
    ck_assert_int_eq(store_audit_insert(c, &minimal), ATT_OK);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log"), 2);
    ck_assert(query1(c,
                     "SELECT token_id || '|' || actor || '|' || action || '|' || target_type || '|' || target_id"
                     " || '|' || outcome || '|' || (detail->>'quote') || '|' || (ts <= now()) FROM audit_log"
                     " ORDER BY id LIMIT 1",
                     buf, sizeof buf));
    ck_assert_str_eq(buf,
                     "6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f|ops admin|person.read|person|"
                     "0b8e4b8e-2c4f-4b0e-9e8a-1b2c3d4e5f60|ok|it's|true");

    /* nothing can change or remove a row: not even statements that match no row */
    const char *refused[] = {
        "UPDATE audit_log SET outcome = 'forged'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE false",
        "TRUNCATE audit_log",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(ts_psql(ci, refused[i], NULL, 0) != 0, "allowed: %s", refused[i]);
        ck_assert_msg(!ts_q_ok(c, refused[i]), "allowed: %s", refused[i]);
    }
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log WHERE outcome = 'ok'"), 2);
    PQfinish(c);
}
END_TEST

/* A transaction body for db_transaction: the first `fail` attempts end with server error `state`
 * after an audit row is written; later ones write the row and succeed. undo counts commit failures. */
struct tx_case {
    int fail;          /* attempts that fail */
    const char *state; /* SQLSTATE they fail with */
    int runs, undos;   /* what db_transaction did */
};

static att_err tx_run(PGconn *c, void *arg)
{
    struct tx_case *t = arg;
    t->runs++;
    struct audit_entry a = {.actor = "system", .action = "tx.test", .outcome = "ok"};
    att_err e = store_audit_insert(c, &a);
    if (e != ATT_OK || t->runs > t->fail) return e;
    char sql[160];
    snprintf(sql, sizeof sql, "DO $$BEGIN RAISE EXCEPTION 'test failure' USING ERRCODE = '%s'; END$$", t->state);
    return db_exec_simple(c, sql);
}

static void tx_undo(void *arg) { ((struct tx_case *)arg)->undos++; }

START_TEST(transaction_retries_serialization_failures)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    /* serialization failures and deadlocks: the whole transaction runs again, the last attempt commits */
    struct tx_case t = {.fail = 2, .state = "40001"};
    ck_assert_int_eq(db_transaction(c, tx_run, tx_undo, &t), ATT_OK);
    ck_assert_int_eq(t.runs, 3);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log WHERE action = 'tx.test'"), 1);
    t = (struct tx_case){.fail = 1, .state = "40P01"};
    ck_assert_int_eq(db_transaction(c, tx_run, tx_undo, &t), ATT_OK);
    ck_assert_int_eq(t.runs, 2);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log WHERE action = 'tx.test'"), 2);
    /* bounded: a transaction that keeps failing gives up after DB_TX_ATTEMPTS runs, nothing committed */
    t = (struct tx_case){.fail = 100, .state = "40001"};
    ck_assert_int_eq(db_transaction(c, tx_run, tx_undo, &t), ATT_E_DB_QUERY);
    ck_assert_int_eq(t.runs, DB_TX_ATTEMPTS);
    /* any other error is final at once */
    t = (struct tx_case){.fail = 1, .state = "23514"};
    ck_assert_int_eq(db_transaction(c, tx_run, tx_undo, &t), ATT_E_DB_QUERY);
    ck_assert_int_eq(t.runs, 1);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log WHERE action = 'tx.test'"), 2);
    ck_assert_int_eq(t.undos, 0);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    /* a failed commit (a deferred constraint trigger) calls undo: run's changes outside the database go back */
    ck_assert(ts_q_ok(c,
                      "CREATE FUNCTION tx_check() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
                      "RAISE EXCEPTION 'refused at commit' USING ERRCODE = '23514'; END$$"));
    ck_assert(ts_q_ok(c,
                      "CREATE CONSTRAINT TRIGGER tx_at_commit AFTER INSERT ON audit_log DEFERRABLE INITIALLY "
                      "DEFERRED FOR EACH ROW EXECUTE FUNCTION tx_check()"));
    t = (struct tx_case){.fail = 0, .state = "00000"};
    ck_assert_int_eq(db_transaction(c, tx_run, tx_undo, &t), ATT_E_DB_QUERY);
    ck_assert_int_eq(t.runs, 1);
    ck_assert_int_eq(t.undos, 1);
    ck_assert(ts_q_ok(c, "DROP TRIGGER tx_at_commit ON audit_log"));
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log WHERE action = 'tx.test'"), 2);
    PQfinish(c);
}
END_TEST

START_TEST(audit_invalid_input)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    struct audit_entry ok = {.actor = "a", .action = "token.create", .outcome = "ok"};
    struct audit_entry e;
    e = ok;
    e.actor = NULL;
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    e = ok;
    e.action = "";
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    e = ok;
    e.token_id = "not-a-uuid";
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    e = ok;
    e.detail_json = "{not json";
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    e = ok;
    e.detail_json = "[1, 2]"; /* detail is an object */
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    e = ok;
    e.action = "Drop Table";
    ck_assert_int_eq(store_audit_insert(c, &e), ATT_E_INVALID);
    ck_assert_int_eq(store_audit_insert(c, NULL), ATT_E_INVALID);
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM audit_log"), 0);
    ck_assert_int_eq(store_audit_insert(c, &ok), ATT_OK);
    PQfinish(c);
}
END_TEST

/* ---- schema constraints the other modules rely on ------------------------------------------------------ */

START_TEST(schema_constraints)
{
    char ci[600];
    PGconn *c = ts_db_migrated(ci, sizeof ci);
    ck_assert(ts_q_ok(c, "INSERT INTO people (employee_no, name, department) VALUES ('E1', 'Ann', 'ICU')"));
    ck_assert(!ts_q_ok(c, "INSERT INTO people (employee_no, name) VALUES ('E1', 'Bob')")); /* unique */
    ck_assert(!ts_q_ok(c, "INSERT INTO people (employee_no, name) VALUES ('', 'Bob')"));
    /* erasure must clear every personal field at once */
    ck_assert(!ts_q_ok(c, "UPDATE people SET erased_at = now(), active = false"));
    ck_assert(ts_q_ok(c,
                      "UPDATE people SET erased_at = now(), active = false, employee_no = NULL, name = NULL,"
                      " title = NULL"));
    ck_assert(!ts_q_ok(c, "INSERT INTO cameras (name, url, analysis_fps) VALUES ('c', 'rtsp://x', 0)"));
    ck_assert(!ts_q_ok(c, "INSERT INTO cameras (name, url, roi_x) VALUES ('c', 'rtsp://x', 1)"));
    ck_assert(ts_q_ok(c, "INSERT INTO cameras (name, url, role) VALUES ('c', 'rtsp://x', 'in')"));
    /* events: id from the daemon, replay is a no-op, manual punches need a reason */
    ck_assert(!ts_q_ok(c, "INSERT INTO events (kind, ts, source) VALUES ('in', now(), 'camera')"));
    const char *ev = "INSERT INTO events (id, person_id, kind, ts, source, similarity)"
                     " SELECT '11111111-1111-1111-1111-111111111111', id, 'in', now(), 'camera', 0.8 FROM people"
                     " ON CONFLICT DO NOTHING";
    ck_assert(ts_q_ok(c, ev));
    ck_assert(ts_q_ok(c, ev));
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM events"), 1);
    ck_assert(
        !ts_q_ok(c, "INSERT INTO events (id, kind, ts, source) VALUES (gen_random_uuid(), 'out', now(), 'manual')"));
    ck_assert(!ts_q_ok(c,
                       "INSERT INTO events (id, kind, ts, source, similarity) VALUES (gen_random_uuid(), 'out',"
                       " now(), 'camera', 1.5)"));
    /* deleting a person keeps the events, de-identified */
    ck_assert(ts_q_ok(c, "DELETE FROM people"));
    ck_assert_int_eq(query_int(c, "SELECT count(*) FROM events WHERE person_id IS NULL"), 1);
    /* templates are never tiny (nonce + tag at least) */
    ck_assert(ts_q_ok(c, "INSERT INTO people (employee_no, name) VALUES ('E2', 'Cy')"));
    ck_assert(!ts_q_ok(c,
                       "INSERT INTO faces (person_id, model_id, key_id, template)"
                       " SELECT id, 'm', 0, '\\x00'::bytea FROM people"));
    PQfinish(c);
}
END_TEST

/* ---- uuid ---------------------------------------------------------------------------------------------- */

START_TEST(uuid_validation)
{
    ck_assert(att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f"));
    ck_assert(att_uuid_valid("6F1C1A1E-8C5B-4A55-9A0E-0A0B0C0D0E0F"));
    ck_assert(att_uuid_valid("00000000-0000-0000-0000-000000000000"));
    ck_assert(!att_uuid_valid(NULL));
    ck_assert(!att_uuid_valid(""));
    ck_assert(!att_uuid_valid("6f1c1a1e8c5b4a559a0e0a0b0c0d0e0f"));
    ck_assert(!att_uuid_valid("{6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f}"));
    ck_assert(!att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f0"));
    ck_assert(!att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0"));
    ck_assert(!att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e_0a0b0c0d0e0f"));
    ck_assert(!att_uuid_valid("gf1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0f"));
    ck_assert(!att_uuid_valid("6f1c1a1e-8c5b-4a55-9a0e-0a0b0c0d0e0\n"));
    ck_assert(!att_uuid_valid("' OR 1=1 --"));
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    ts_tcase(s, "db", 60, NULL, NULL, migrate_applies_in_order, migrate_twice_changes_nothing,
             migrate_refuses_newer_database, migrate_refuses_diverged_history, migrate_failure_rolls_back,
             schema_check_unmigrated, migrate_concurrent_processes_serialise, statements_registry_consistent,
             connect_sets_application_name, pool_bad_arguments, pool_database_down_fails_fast,
             pool_unmigrated_then_migrated, pool_waits_then_times_out, pool_reconnects_after_backend_dies,
             pool_shared_by_threads, tokens_create_lookup_revoke_list, tokens_wrong_hash_not_found,
             tokens_invalid_input, audit_insert_and_append_only, audit_invalid_input,
             transaction_retries_serialization_failures, schema_constraints, NULL);
    ts_tcase(s, "pure", 0, NULL, NULL, uuid_validation, NULL);
    return s;
}
