/* Cooperation between instances (include/attendd/cluster.h): one thread with its own connection that
 * heartbeats, balances the camera leases by capacity and listens to the change feed. */
#include "attendd/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "attendd/store_instances.h"
#include "attendd/time.h"
#include "src/store/statements.h"

#define MOD "cluster"
#define RECONNECT_MS 1000 /* between connection attempts while the database is away */
#define STATEMENT_TIMEOUT "SET statement_timeout = '5s'"

struct cluster {
    char id[ATT_UUID_STR];
    char *conninfo, *name, *host;
    int capacity, lease_s;
    struct cluster_hooks hooks;
    int wake[2]; /* self-pipe: stop */

    pthread_mutex_t lock;       /* guards held/n_held */
    char (*held)[ATT_UUID_STR]; /* cameras this instance holds (sorted) */
    size_t n_held;
    atomic_bool stop, started;
    bool left; /* cluster_leave ran */
    pthread_t thread;

    PGconn *conn;       /* the thread's; NULL while disconnected */
    int64_t renewed_at; /* monotonic µs of the last successful renewal (0: never) */

    metrics *metrics;
    metric *m_series[6];
    size_t m_count;
    metric *m_moves, *m_lag, *m_notes, *m_resyncs;
    _Atomic size_t held_count;
};

static void disconnect(cluster *cl);

/* ---- the instance id -------------------------------------------------------------------------------- */

static att_err id_load(const char *path, char out[ATT_UUID_STR], char *err, size_t errlen)
{
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (att_uuid_canonical(buf, out)) return ATT_OK;
        snprintf(err, errlen, "%s does not hold an instance id (remove it to make a new one)", path);
        return ATT_E_CONFIG;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    att_uuid_new_text(out);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && dprintf(fd, "%s\n", out) > 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    return ATT_OK;
}

/* ---- metrics -------------------------------------------------------------------------------------------- */

static double held_gauge(void *ud) { return (double)atomic_load(&((cluster *)ud)->held_count); }

static att_err register_metrics(cluster *cl)
{
    metrics *m = cl->metrics;
    if (!m) return ATT_OK;
    att_err e = metrics_callback(m, METRIC_GAUGE, "attendd_instance_leases_held", "Camera leases this instance holds",
                                 NULL, held_gauge, cl, &cl->m_series[0]);
    if (e == ATT_OK) cl->m_count++;
    if (e == ATT_OK &&
        (e = metrics_counter(m, "attendd_instance_lease_moves_total",
                             "Camera leases this instance took over from another instance", NULL, &cl->m_moves)) ==
            ATT_OK)
        cl->m_series[cl->m_count++] = cl->m_moves;
    if (e == ATT_OK &&
        (e = metrics_gauge(m, "attendd_sync_lag_seconds",
                           "Time from a change on any instance to this instance hearing of it (latest change)", NULL,
                           &cl->m_lag)) == ATT_OK)
        cl->m_series[cl->m_count++] = cl->m_lag;
    if (e == ATT_OK &&
        (e = metrics_counter(m, "attendd_sync_notifications_total", "Changes heard from the change feed", NULL,
                             &cl->m_notes)) == ATT_OK)
        cl->m_series[cl->m_count++] = cl->m_notes;
    if (e == ATT_OK &&
        (e = metrics_counter(m, "attendd_sync_resyncs_total",
                             "Full resynchronisations after (re)connecting to the change feed", NULL,
                             &cl->m_resyncs)) == ATT_OK)
        cl->m_series[cl->m_count++] = cl->m_resyncs;
    return e;
}

/* ---- life cycle ------------------------------------------------------------------------------------------ */

att_err cluster_new(const struct cluster_cfg *cfg, cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg || !cfg->conninfo || !cfg->name || !*cfg->name || !cfg->host || !cfg->id_path || cfg->capacity < 1 ||
        cfg->lease_s < 1) {
        snprintf(err, errlen, "cluster: missing or invalid setting");
        return ATT_E_INVALID;
    }
    cluster *cl = calloc(1, sizeof *cl);
    if (!cl) {
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    cl->wake[0] = cl->wake[1] = -1;
    att_err e = id_load(cfg->id_path, cl->id, err, errlen);
    if (e != ATT_OK) {
        free(cl);
        return e;
    }
    cl->conninfo = strdup(cfg->conninfo);
    cl->name = strdup(cfg->name);
    cl->host = strdup(cfg->host[0] ? cfg->host : "localhost");
    cl->capacity = cfg->capacity;
    cl->lease_s = cfg->lease_s;
    cl->hooks = cfg->hooks;
    cl->metrics = cfg->metrics;
    pthread_mutex_init(&cl->lock, NULL);
    if (!cl->conninfo || !cl->name || !cl->host || pipe2(cl->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
        register_metrics(cl) != ATT_OK) {
        snprintf(err, errlen, "cluster: out of resources");
        cluster_free(cl);
        return ATT_E_NOMEM;
    }
    *out = cl;
    return ATT_OK;
}

void cluster_free(cluster *cl)
{
    if (!cl) return;
    cluster_quiesce(cl);
    disconnect(cl);
    for (size_t i = 0; i < cl->m_count; i++) metrics_remove(cl->metrics, cl->m_series[i]);
    if (cl->wake[0] >= 0) close(cl->wake[0]);
    if (cl->wake[1] >= 0) close(cl->wake[1]);
    pthread_mutex_destroy(&cl->lock);
    free(cl->held);
    free(cl->conninfo);
    free(cl->name);
    free(cl->host);
    free(cl);
}

bool cluster_holds(cluster *cl, const char *camera_id)
{
    if (!cl || !camera_id) return false;
    pthread_mutex_lock(&cl->lock);
    bool found = false;
    for (size_t i = 0; i < cl->n_held && !found; i++) found = strcmp(cl->held[i], camera_id) == 0;
    pthread_mutex_unlock(&cl->lock);
    return found;
}

size_t cluster_held(cluster *cl) { return cl ? atomic_load(&cl->held_count) : 0; }

void cluster_id(const cluster *cl, char out[ATT_UUID_STR]) { memcpy(out, cl->id, ATT_UUID_STR); }

/* ---- the held set ---------------------------------------------------------------------------------------- */

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

/* Replace the held set with ids (taken over, sorted here); the leases hook runs when it changed. */
static void set_held(cluster *cl, char (*ids)[ATT_UUID_STR], size_t n)
{
    if (n) qsort(ids, n, sizeof *ids, id_cmp);
    pthread_mutex_lock(&cl->lock);
    bool same = n == cl->n_held && (n == 0 || memcmp(ids, cl->held, n * sizeof *ids) == 0);
    free(cl->held);
    cl->held = ids;
    cl->n_held = n;
    pthread_mutex_unlock(&cl->lock);
    atomic_store(&cl->held_count, n);
    if (!same && cl->hooks.leases) cl->hooks.leases(cl->hooks.ud);
}

/* ---- the connection -------------------------------------------------------------------------------------- */

static void disconnect(cluster *cl)
{
    if (cl->conn) PQfinish(cl->conn);
    cl->conn = NULL;
}

static att_err connect_db(cluster *cl)
{
    char err[512];
    PGconn *c;
    att_err e = db_connect(cl->conninfo, "attendd-cluster", &c, err, sizeof err);
    if (e == ATT_OK && (e = db_prepare_all(c, err, sizeof err)) != ATT_OK) PQfinish(c);
    if (e == ATT_OK &&
        ((e = db_exec_simple(c, STATEMENT_TIMEOUT)) != ATT_OK ||
         (e = db_exec_simple(c, "LISTEN attendd_sync")) != ATT_OK)) {
        snprintf(err, sizeof err, "LISTEN failed: %s", PQerrorMessage(c));
        PQfinish(c);
    }
    if (e == ATT_OK &&
        (e = store_instance_register(c, cl->id, cl->name, cl->host, cl->capacity, cl->lease_s)) != ATT_OK) {
        snprintf(err, sizeof err, "registering the instance failed: %s", att_err_code(e));
        PQfinish(c);
    }
    if (e != ATT_OK) {
        log_debug(MOD, "%s", err);
        return e;
    }
    cl->conn = c;
    return ATT_OK;
}

/* ---- balancing -------------------------------------------------------------------------------------------- */

/* This instance's fair share of the enabled cameras: by capacity, rounded up (so together the shares
 * cover every camera), never above its own capacity. */
static int64_t share_of(const cluster *cl, const struct lease_census *cs)
{
    if (cs->capacity <= 0) return cl->capacity;
    int64_t s = (cs->cameras * cl->capacity + cs->capacity - 1) / cs->capacity;
    return s > cl->capacity ? cl->capacity : s;
}

/* One round: heartbeat, renew, then take up to the share or hand one lease back above it (one a round,
 * so an instance that returns gets its cameras back gradually, not in a stampede). */
static att_err tick(cluster *cl)
{
    PGconn *c = cl->conn;
    att_err e = store_instance_heartbeat(c, cl->id);
    if (e == ATT_E_NOT_FOUND) e = store_instance_register(c, cl->id, cl->name, cl->host, cl->capacity, cl->lease_s);
    if (e == ATT_OK) e = store_leases_fill(c);
    char(*held)[ATT_UUID_STR] = NULL;
    size_t n = 0;
    if (e == ATT_OK) e = store_leases_renew(c, cl->id, cl->lease_s, &held, &n);
    if (e != ATT_OK) return e;
    cl->renewed_at = att_time_mono_us();
    struct lease_census cs;
    e = store_leases_census(c, &cs);
    int64_t share = e == ATT_OK ? share_of(cl, &cs) : (int64_t)n;
    if (e == ATT_OK && (int64_t)n < share) {
        char(*taken)[ATT_UUID_STR] = NULL;
        size_t k = 0, moved = 0;
        e = store_leases_take(c, cl->id, cl->lease_s, (int)(share - (int64_t)n), &taken, &k, &moved);
        if (e == ATT_OK && k) {
            char(*all)[ATT_UUID_STR] = realloc(held, (n + k) * sizeof *all);
            if (!all) {
                e = ATT_E_NOMEM; /* the leases are ours in the database; the next round picks them up */
            } else {
                held = all;
                memcpy(held[n], taken, k * sizeof *taken);
                n += k;
                if (cl->m_moves) metric_add(cl->m_moves, moved);
                log_info(MOD, "took %zu camera lease(s)%s; holding %zu of %lld camera(s) (share %lld)", k,
                         moved ? " from other instances" : "", n, (long long)cs.cameras, (long long)share);
            }
        }
        free(taken);
    } else if (e == ATT_OK && (int64_t)n > share) {
        char cam[ATT_UUID_STR];
        e = store_leases_release_one(c, cl->id, cam);
        if (e == ATT_OK && cam[0]) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(held[i], cam) == 0) {
                    memmove(held[i], held[i + 1], (n - i - 1) * sizeof *held);
                    n--;
                    break;
                }
            log_info(MOD, "handed camera %s back for balancing; holding %zu (share %lld)", cam, n, (long long)share);
            e = store_leases_announce(c, cl->id);
        }
    }
    set_held(cl, held, n);
    return e;
}

/* ---- the change feed ------------------------------------------------------------------------------------- */

/* "<what>:<id>:<µs>" */
static void dispatch(cluster *cl, const char *payload, bool *lease_round)
{
    char what[16], id[64];
    long long at_us = 0;
    if (sscanf(payload, "%15[a-z]:%63[^:]:%lld", what, id, &at_us) < 2) {
        log_warn(MOD, "unknown change notification '%.80s' ignored", payload);
        return;
    }
    if (cl->m_notes) metric_inc(cl->m_notes);
    if (cl->m_lag && at_us > 0) {
        double lag = (double)(att_time_wall_us() - at_us) / 1e6;
        metric_set(cl->m_lag, lag > 0 ? lag : 0);
    }
    const struct cluster_hooks *h = &cl->hooks;
    if (strcmp(what, "lease") == 0) {
        if (strcmp(id, cl->id) != 0) *lease_round = true;
    } else if (strcmp(what, "person") == 0) {
        if (h->person) h->person(h->ud, id);
    } else if (strcmp(what, "camera") == 0) {
        *lease_round = true; /* a new or re-enabled camera needs a holder */
        if (h->camera) h->camera(h->ud, id);
    } else if (strcmp(what, "token") == 0) {
        if (h->token) h->token(h->ud, id);
    }
}

/* Read what the socket holds; false when the connection is lost. */
static bool drain(cluster *cl, bool *lease_round)
{
    if (!PQconsumeInput(cl->conn)) return false;
    PGnotify *nt;
    while ((nt = PQnotifies(cl->conn))) {
        dispatch(cl, nt->extra, lease_round);
        PQfreemem(nt);
    }
    return PQstatus(cl->conn) == CONNECTION_OK;
}

/* Interval between rounds: a third of the lease time, ±10 % so instances do not beat in step. */
static int64_t round_us(const cluster *cl)
{
    int64_t base = (int64_t)cl->lease_s * 1000000 / 3;
    return base - base / 10 + (int64_t)((uint64_t)random() % (uint64_t)(base / 5 + 1));
}

static void *cluster_main(void *arg)
{
    cluster *cl = arg;
    int64_t next_round = 0, retry_at = 0;
    bool down_logged = false;
    while (!atomic_load(&cl->stop)) {
        int64_t now = att_time_mono_us();
        if (!cl->conn && now >= retry_at) {
            if (connect_db(cl) == ATT_OK) {
                log_notice(MOD, "instance %s (\"%s\", capacity %d) registered; listening for changes", cl->id, cl->name,
                           cl->capacity);
                down_logged = false;
                if (cl->m_resyncs) metric_inc(cl->m_resyncs);
                if (cl->hooks.resync) cl->hooks.resync(cl->hooks.ud);
                next_round = now;
            } else {
                if (!down_logged) log_warn(MOD, "database unreachable; leases and the change feed wait for it");
                down_logged = true;
                retry_at = now + RECONNECT_MS * 1000;
            }
        }
        /* leases not renewed within their time belong to the others by now: stop their cameras here */
        if (cl->renewed_at && now - cl->renewed_at >= (int64_t)cl->lease_s * 1000000 &&
            atomic_load(&cl->held_count) > 0) {
            log_warn(MOD, "leases could not be renewed for %d s; their cameras stop here", cl->lease_s);
            set_held(cl, NULL, 0);
        }
        if (cl->conn && now >= next_round) {
            att_err e = tick(cl);
            if (e != ATT_OK) {
                log_warn(MOD, "lease round failed: %s", att_err_code(e));
                if (PQstatus(cl->conn) != CONNECTION_OK || e == ATT_E_DB) disconnect(cl);
            }
            next_round = att_time_mono_us() + round_us(cl);
        }
        int64_t until = cl->conn ? next_round : retry_at;
        int64_t wait_us = until - att_time_mono_us();
        if (wait_us < 0) wait_us = 0;
        struct pollfd p[2] = {{.fd = cl->wake[0], .events = POLLIN},
                              {.fd = cl->conn ? PQsocket(cl->conn) : -1, .events = POLLIN}};
        int rc = poll(p, 2, (int)((wait_us + 999) / 1000));
        if (rc > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && cl->conn) {
            bool lease_round = false;
            if (!drain(cl, &lease_round)) {
                log_warn(MOD, "change feed connection lost; reconnecting");
                disconnect(cl);
                retry_at = 0;
            } else if (lease_round) {
                next_round = att_time_mono_us(); /* the others announced free leases or a camera changed */
            }
        }
    }
    return NULL;
}

att_err cluster_start(cluster *cl)
{
    if (atomic_load(&cl->started)) return ATT_OK;
    srandom((unsigned)att_time_mono_us() ^ (unsigned)getpid());
    if (pthread_create(&cl->thread, NULL, cluster_main, cl) != 0) return ATT_E_INTERNAL;
    atomic_store(&cl->started, true);
    return ATT_OK;
}

void cluster_quiesce(cluster *cl)
{
    if (!cl || !atomic_load(&cl->started)) return;
    atomic_store(&cl->stop, true);
    ssize_t w = write(cl->wake[1], "x", 1);
    (void)w;
    pthread_join(cl->thread, NULL);
    atomic_store(&cl->started, false);
}

void cluster_leave(cluster *cl)
{
    if (!cl) return;
    cluster_quiesce(cl);
    if (cl->left) return;
    cl->left = true;
    /* hand the leases over at once instead of letting them expire: the others hear the announcement */
    if (!cl->conn) (void)connect_db(cl);
    size_t released = 0;
    att_err e = cl->conn ? store_instance_stop(cl->conn, cl->id, &released) : ATT_E_DB;
    if (e == ATT_OK && released) e = store_leases_announce(cl->conn, cl->id);
    if (e == ATT_OK) log_notice(MOD, "instance stopped; %zu camera lease(s) handed over", released);
    else log_warn(MOD, "leases could not be handed over (%s); they expire after %d s", att_err_code(e), cl->lease_s);
    disconnect(cl);
    pthread_mutex_lock(&cl->lock);
    free(cl->held);
    cl->held = NULL;
    cl->n_held = 0;
    pthread_mutex_unlock(&cl->lock);
    atomic_store(&cl->held_count, 0);
}
