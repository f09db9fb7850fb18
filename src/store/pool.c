/* PostgreSQL connection pool: a fixed set of slots guarded by a mutex and a condition variable;
 * connections are opened lazily, checked and reset when broken, and prepared on (re)connect. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/time.h"
#include "src/store/statements.h"

#define POOL_MAX_SIZE 1024
#define POOL_APP_NAME "attendd"

struct db_slot {
    PGconn *conn;  /* NULL until first use or after a failed (re)connect */
    bool busy;     /* borrowed by a caller */
    bool prepared; /* the registry's statements exist in this session */
};

struct db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled whenever a slot is given back */
    char *conninfo;    /* as configured; parsed again by db_connect */
    int size;
    struct db_slot *slots;
    bool down;                /* last connect failed: log the next failure at debug, the recovery at notice */
    bool unprepared;          /* last prepare found no schema: warned once, until it works */
    int statement_timeout_ms; /* set on every session of the pool (0: the server's default) */
};

/* Server NOTICEs (e.g. "relation already exists, skipping") would go to stderr unformatted. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    int n = (int)strlen(message);
    while (n > 0 && message[n - 1] == '\n') n--;
    log_debug("db", "server: %.*s", n, message);
}

/* PQerrorMessage without its trailing newline(s), into buf. */
static void conn_error(PGconn *c, const char *what, char *err, size_t errlen)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    int n = (int)strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' ')) n--;
    snprintf(err, errlen, "%s: %.*s", what, n, m);
}

/* Per-session state a new or reset connection needs. app_name goes in as a bound parameter. */
static att_err session_init(PGconn *c, const char *app_name, char *err, size_t errlen)
{
    const char *params[1] = {app_name};
    PGresult *r =
        PQexecParams(c, "SELECT set_config('application_name', $1::text, false)", 1, NULL, params, NULL, NULL, 0);
    bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
        conn_error(c, "setting application_name failed", err, errlen);
        return PQstatus(c) == CONNECTION_OK ? ATT_E_DB_QUERY : ATT_E_DB;
    }
    return ATT_OK;
}

/* Parse a configured connection string: *opts for the caller to PQconninfoFree, or a reason. */
static att_err conninfo_parse(const char *conninfo, PQconninfoOption **opts, char *err, size_t errlen)
{
    if (!conninfo || !*conninfo) {
        snprintf(err, errlen, "no database configured (database_url is empty)");
        return ATT_E_CONFIG;
    }
    char *perr = NULL;
    *opts = PQconninfoParse(conninfo, &perr);
    if (!*opts) {
        int n = perr ? (int)strlen(perr) : 0;
        while (n > 0 && perr[n - 1] == '\n') n--;
        snprintf(err, errlen, "invalid database_url: %.*s", n, perr ? perr : "out of memory");
        att_err rc = perr ? ATT_E_CONFIG : ATT_E_NOMEM;
        PQfreemem(perr);
        return rc;
    }
    return ATT_OK;
}

att_err db_connect(const char *conninfo, const char *app_name, PGconn **out, char *err, size_t errlen)
{
    *out = NULL;
    PQconninfoOption *opts;
    att_err pe = conninfo_parse(conninfo, &opts, err, errlen);
    if (pe != ATT_OK) return pe;
    /* Keywords the caller set, plus a connect_timeout so a down database fails fast (the daemon
     * must still start and answer /readyz) and a fallback application name for early log lines. */
    size_t n = 0;
    bool has_timeout = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        n++;
        if (strcmp(o->keyword, "connect_timeout") == 0) has_timeout = true;
    }
    const char **keys = calloc(n + 3, sizeof *keys);
    const char **vals = calloc(n + 3, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        PQconninfoFree(opts);
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val) {
            keys[k] = o->keyword;
            vals[k++] = o->val;
        }
    char timeout[16];
    if (!has_timeout) {
        snprintf(timeout, sizeof timeout, "%d", DB_CONNECT_TIMEOUT_S);
        keys[k] = "connect_timeout";
        vals[k++] = timeout;
    }
    keys[k] = "fallback_application_name";
    vals[k++] = app_name ? app_name : POOL_APP_NAME;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    free(keys);
    free(vals);
    PQconninfoFree(opts);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        conn_error(c, "cannot connect to the database", err, errlen);
        PQfinish(c);
        return c ? ATT_E_DB : ATT_E_NOMEM;
    }
    PQsetNoticeProcessor(c, notice_to_log, NULL);
    att_err rc = session_init(c, app_name ? app_name : POOL_APP_NAME, err, errlen);
    if (rc != ATT_OK) {
        PQfinish(c);
        return rc;
    }
    *out = c;
    return ATT_OK;
}

att_err db_pool_open(const char *conninfo, int size, db_pool **out, char *err, size_t errlen)
{
    *out = NULL;
    /* Parse now so a typo is a start-up error, not an endless "database unavailable". */
    PQconninfoOption *opts;
    att_err pe = conninfo_parse(conninfo, &opts, err, errlen);
    if (pe != ATT_OK) return pe;
    PQconninfoFree(opts);
    if (size < 1 || size > POOL_MAX_SIZE) {
        snprintf(err, errlen, "database pool size %d out of range 1..%d", size, POOL_MAX_SIZE);
        return ATT_E_CONFIG;
    }

    db_pool *p = calloc(1, sizeof *p);
    if (!p) goto nomem;
    p->size = size;
    p->conninfo = strdup(conninfo);
    p->slots = calloc((size_t)size, sizeof *p->slots);
    if (!p->conninfo || !p->slots) goto nomem;
    if (att_time_cond_init(&p->cv) != 0) goto nomem;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        pthread_cond_destroy(&p->cv);
        goto nomem;
    }
    *out = p;
    return ATT_OK;
nomem:
    if (p) {
        free(p->conninfo);
        free(p->slots);
        free(p);
    }
    snprintf(err, errlen, "out of memory");
    return ATT_E_NOMEM;
}

void db_pool_close(db_pool *pool)
{
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    for (int i = 0; i < pool->size; i++) {
        if (pool->slots[i].busy) {
            /* finishing it would pull the connection from under its borrower: leak it instead */
            log_error("db", "pool closed while a connection is still borrowed");
            continue;
        }
        PQfinish(pool->slots[i].conn);
        pool->slots[i].conn = NULL;
    }
    pthread_mutex_unlock(&pool->mu);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool->slots);
    free(pool->conninfo);
    free(pool);
}

/* An idle connection should have nothing to read. If the server went away (restart, terminated
 * backend) the socket holds its FATAL message and EOF: consuming them flips PQstatus to BAD, so the
 * connection is reset here instead of failing the caller's first query. One poll() when healthy. */
static void check_idle(PGconn *c)
{
    for (int i = 0; i < 8 && PQstatus(c) == CONNECTION_OK; i++) {
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0) return;
        if (!PQconsumeInput(c)) return;
        PGnotify *nt;
        while ((nt = PQnotifies(c))) PQfreemem(nt); /* nobody LISTENs on pooled connections */
    }
}

/* Bring a borrowed slot's connection to "connected", and prepared if the schema allows; on failure
 * *cp is NULL. A database without the schema still yields a connection (the daemon migrates through
 * the pool), with *prepared false: store calls then answer ATT_E_SCHEMA and db_ping says so too. */
static att_err slot_ready(db_pool *pool, PGconn **cp, bool *prepared)
{
    char err[512] = "";
    PGconn *c = *cp;
    att_err rc = ATT_OK;
    if (c) {
        check_idle(c);
        if (PQstatus(c) != CONNECTION_OK) {
            log_warn("db", "connection lost; reconnecting");
            *prepared = false; /* a reset is a new session: no statements, no settings */
            PQreset(c);        /* same parameters, including connect_timeout */
            if (PQstatus(c) != CONNECTION_OK) {
                conn_error(c, "cannot reconnect to the database", err, sizeof err);
                rc = ATT_E_DB;
            } else {
                rc = session_init(c, POOL_APP_NAME, err, sizeof err);
            }
        }
    } else {
        *prepared = false;
        rc = db_connect(pool->conninfo, POOL_APP_NAME, &c, err, sizeof err);
    }
    /* a new session (or one whose statements are not prepared yet) gets the pool's statement timeout:
     * one slow query must not hold a pooled connection, and the request behind it, for ever */
    if (rc == ATT_OK && !*prepared && pool->statement_timeout_ms > 0) {
        char ms[24];
        snprintf(ms, sizeof ms, "%d", pool->statement_timeout_ms);
        const char *params[1] = {ms};
        PGresult *r =
            PQexecParams(c, "SELECT set_config('statement_timeout', $1::text, false)", 1, NULL, params, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
            conn_error(c, "setting statement_timeout failed", err, sizeof err);
            rc = PQstatus(c) == CONNECTION_OK ? ATT_E_DB_QUERY : ATT_E_DB;
        }
        PQclear(r);
    }
    bool schema_missing = false;
    if (rc == ATT_OK && !*prepared) {
        att_err prc = db_prepare_all(c, err, sizeof err);
        if (prc == ATT_OK) *prepared = true;
        else if (prc == ATT_E_SCHEMA) schema_missing = true;
        else rc = prc;
    }

    pthread_mutex_lock(&pool->mu);
    bool was_down = pool->down, was_unprepared = pool->unprepared;
    pool->down = rc != ATT_OK;
    if (rc == ATT_OK) pool->unprepared = schema_missing;
    pthread_mutex_unlock(&pool->mu);
    if (rc != ATT_OK) {
        /* readiness probes retry every few seconds: one warning per outage, not one per probe */
        if (was_down) log_debug("db", "%s", err);
        else log_warn("db", "%s", err);
        PQfinish(c);
        *cp = NULL;
        *prepared = false;
        return rc;
    }
    if (was_down) log_notice("db", "database connection established");
    if (schema_missing && !was_unprepared) log_warn("db", "%s", err);
    if (!schema_missing && was_unprepared) log_notice("db", "database schema present; statements prepared");
    *cp = c;
    return ATT_OK;
}

/* Borrow a slot; *prepared tells whether its statements exist (see slot_ready). */
static att_err pool_acquire(db_pool *pool, int timeout_ms, PGconn **out, bool *prepared)
{
    *out = NULL;
    *prepared = false;
    if (!pool) return ATT_E_INTERNAL;
    if (timeout_ms < 0) timeout_ms = 0;
    struct timespec deadline = att_time_timespec(att_time_deadline((int64_t)timeout_ms * 1000));

    pthread_mutex_lock(&pool->mu);
    int idx;
    for (;;) {
        /* prefer a slot that already holds a connection: connecting is the slow part */
        idx = -1;
        for (int i = 0; i < pool->size && idx < 0; i++)
            if (!pool->slots[i].busy && pool->slots[i].conn) idx = i;
        for (int i = 0; i < pool->size && idx < 0; i++)
            if (!pool->slots[i].busy) idx = i;
        if (idx >= 0) break;
        int wrc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
        if (wrc == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->mu);
            return ATT_E_UNAVAILABLE;
        }
    }
    pool->slots[idx].busy = true;
    PGconn *c = pool->slots[idx].conn;
    bool prep = pool->slots[idx].prepared;
    pthread_mutex_unlock(&pool->mu);

    /* Connecting happens outside the lock so other borrowers are not held up by a slow server. */
    att_err rc = slot_ready(pool, &c, &prep);

    pthread_mutex_lock(&pool->mu);
    pool->slots[idx].conn = c;
    pool->slots[idx].prepared = prep;
    if (rc != ATT_OK) {
        pool->slots[idx].busy = false;
        pthread_cond_signal(&pool->cv);
    }
    pthread_mutex_unlock(&pool->mu);
    if (rc == ATT_OK) {
        *out = c;
        *prepared = prep;
    }
    return rc;
}

att_err db_acquire(db_pool *pool, int timeout_ms, PGconn **out)
{
    bool prepared;
    return pool_acquire(pool, timeout_ms, out, &prepared);
}

void db_release(db_pool *pool, PGconn *conn)
{
    if (!pool || !conn) return;
    pthread_mutex_lock(&pool->mu);
    int idx = -1;
    for (int i = 0; i < pool->size; i++)
        if (pool->slots[i].busy && pool->slots[i].conn == conn) idx = i;
    pthread_mutex_unlock(&pool->mu);
    if (idx < 0) {
        log_error("db", "db_release: connection does not belong to this pool");
        return;
    }

    /* The slot is still ours: bring the session back to idle before anyone else sees it. */
    bool drop = false;
    switch (PQtransactionStatus(conn)) {
    case PQTRANS_IDLE: break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        log_warn("db", "connection returned inside a transaction; rolling back");
        db_rollback(conn);
        drop = PQtransactionStatus(conn) != PQTRANS_IDLE;
        break;
    case PQTRANS_ACTIVE: /* results not consumed: the protocol state is unknown, start afresh */
    case PQTRANS_UNKNOWN:
    default:
        drop = PQstatus(conn) == CONNECTION_OK; /* a BAD one is reset by the next db_acquire */
        break;
    }

    pthread_mutex_lock(&pool->mu);
    if (drop) {
        PQfinish(conn);
        pool->slots[idx].conn = NULL;
        pool->slots[idx].prepared = false;
    }
    pool->slots[idx].busy = false;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

void db_pool_set_statement_timeout(db_pool *pool, int ms)
{
    pthread_mutex_lock(&pool->mu);
    pool->statement_timeout_ms = ms > 0 ? ms : 0;
    pthread_mutex_unlock(&pool->mu);
}

att_err db_ping(db_pool *pool)
{
    PGconn *c;
    bool prepared;
    att_err rc = pool_acquire(pool, 2000, &c, &prepared);
    if (rc != ATT_OK) return rc;
    /* answering is not enough: without the schema the daemon cannot serve anything */
    rc = prepared ? db_exec_simple(c, "SELECT 1") : ATT_E_SCHEMA;
    db_release(pool, c);
    return rc;
}
