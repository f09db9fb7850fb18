/* The HTTP server's life: start (TLS files, limits, listener, libmicrohttpd daemon), quiesce, stop
 * after the requests in flight finish, reload. */
#include "attendd/http.h"

#include "server_internal.h"
#include "tls.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attendd/log.h"
#include "attendd/time.h"

/* libmicrohttpd's own messages: errors while starting go to the caller; afterwards they are
 * mostly client misbehaviour (closed early, bad request line), so debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    if (srv->start_err != NULL) {
        snprintf(srv->start_err, srv->start_errlen, "libmicrohttpd: %s", msg);
        log_warn("http", "libmicrohttpd: %s", msg);
    } else {
        log_debug("http", "libmicrohttpd: %s", msg);
    }
}

static double ready_checks(void *ud)
{
    (void)ud;
    return (double)http_ready_db_checks();
}

att_err http_server_start(const struct http_deps *deps, http_server **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not be initialised");
        return ATT_E_CRYPTO;
    }
    const struct att_config *cfg = deps->cfg;
    struct http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    srv->deps = *deps;
    srv->tls = cfg->tls_cert_file[0] != '\0';
    srv->raw_413 = !srv->tls; /* see send_raw_413 */
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->idle, &ca);
    pthread_condattr_destroy(&ca);

    /* Files first, so a bad certificate or key stops the start before anything listens. Read once:
     * a renewed certificate takes a restart (docs/security.md). */
    struct http_tls tls = {0};
    att_err e = ATT_OK;
    if (srv->tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen,
                     "tls_cert_file is set, but this libmicrohttpd was built without TLS (GnuTLS) support");
            e = ATT_E_CONFIG;
            goto fail;
        }
        if ((e = http_tls_load(cfg->tls_cert_file, cfg->tls_key_file, &tls, err, errlen)) != ATT_OK) goto fail;
    }
    if ((e = http_raise_fd_limit(cfg, err, errlen)) != ATT_OK) goto fail;
    if (cfg->auth_fail_limit > 0 &&
        (e = http_rl_new(cfg->auth_fail_limit, cfg->auth_fail_window_s, &srv->auth_rl)) != ATT_OK) {
        snprintf(err, errlen, "the authentication-failure table could not be made: %s", att_err_code(e));
        goto fail;
    }

    if (deps->metrics != NULL &&
        (e = metrics_callback(
             deps->metrics, METRIC_COUNTER, "attendd_readyz_db_checks_total",
             "database round trips made by /readyz (one per second at most, however often it is called)", NULL,
             ready_checks, NULL, &srv->m_ready_checks)) != ATT_OK) {
        snprintf(err, errlen, "the HTTP metrics could not be registered: %s", att_err_code(e));
        goto fail;
    }
    e = http_listen(cfg->listen_address, cfg->port, &srv->listen_fd, &srv->port, err, errlen);
    if (e != ATT_OK) goto fail;
    if ((e = http_sse_open(&srv->deps)) != ATT_OK) {
        snprintf(err, errlen, "the SSE hub could not start (is another HTTP server running in this process?)");
        close(srv->listen_fd);
        goto fail;
    }
    if ((e = http_vqueue_start(srv, err, errlen)) != ATT_OK) {
        http_sse_close();
        close(srv->listen_fd);
        goto fail;
    }

    /* Per-IP cap: one client (a runaway script) cannot take every slot, while a reverse proxy on
     * the same host still gets most of them. */
    /* 0 = no per-address limit (a reverse proxy on the same host is one address) */
    unsigned per_ip = (unsigned)cfg->max_connections_per_ip;
    /* MHD_USE_ITC: required by MHD_quiesce_daemon with internal threads */
    /* MHD_ALLOW_SUSPEND_RESUME: SSE streams (sse.c) suspend while they have nothing to send */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
        MHD_ALLOW_SUSPEND_RESUME | (srv->tls ? MHD_USE_TLS : 0);
    /* TLS 1.2 and 1.3 only; GnuTLS copies certificate and key during MHD_start_daemon */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, tls.cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, tls.key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->start_err = err;
    srv->start_errlen = errlen;
    if (errlen > 0) err[0] = '\0';
    http_rl_set_global(srv->auth_rl); /* before the first request can arrive */
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        srv, /* first, or early messages bypass it */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
        http_on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, srv, MHD_OPTION_ARRAY,
        srv->tls ? tls_opts : &tls_opts[3], MHD_OPTION_END);
    srv->start_err = NULL;
    http_tls_free(&tls); /* the key is wiped whether or not the daemon started */
    if (srv->daemon == NULL) {
        if (errlen > 0 && err[0] == '\0') snprintf(err, errlen, "libmicrohttpd did not start");
        e = ATT_E_INTERNAL;
        close(srv->listen_fd);
        http_vqueue_stop(srv);
        http_sse_close();
        http_rl_set_global(NULL);
        goto fail;
    }
    log_info("http", "listening on %s port %u, %s (%d threads, %d connections, %d per address, body limit %ld bytes)",
             cfg->listen_address, srv->port, srv->tls ? "HTTPS" : "plain HTTP", cfg->http_threads, cfg->max_connections,
             cfg->max_connections_per_ip, cfg->max_body_bytes);
    *out = srv;
    return ATT_OK;
fail:
    metrics_remove(deps->metrics, srv->m_ready_checks);
    http_tls_free(&tls);
    http_rl_free(srv->auth_rl);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    return e;
}

uint16_t http_server_port(const http_server *srv) { return srv->port; }

void http_server_quiesce(http_server *srv)
{
    if (srv == NULL || atomic_exchange(&srv->quiesced, true)) return;
    http_sse_shutdown(); /* open event streams end now: they would hold the drain to its deadline */
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd == MHD_INVALID_SOCKET) {
        log_warn("http", "could not quiesce: new connections are accepted until the stop");
        return;
    }
    /* Stop listening now, so connecting clients are refused instead of queued until the stop.
     * The descriptor stays open (a worker may still be about to call accept on it) and is
     * closed after MHD_stop_daemon. */
    shutdown(fd, SHUT_RDWR);
    srv->fd_returned = true;
    pthread_mutex_lock(&srv->lock);
    unsigned n = srv->inflight;
    pthread_mutex_unlock(&srv->lock);
    log_info("http", "no longer accepting connections; %u requests in flight", n);
}

att_err http_server_stop(http_server *srv, int timeout_ms)
{
    if (srv == NULL) return ATT_OK;
    http_server_quiesce(srv);
    struct timespec deadline = att_time_timespec(att_time_deadline((int64_t)timeout_ms * 1000));
    pthread_mutex_lock(&srv->lock);
    while (srv->inflight > 0)
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) == ETIMEDOUT) break;
    unsigned left = srv->inflight;
    pthread_mutex_unlock(&srv->lock);
    if (left > 0) log_warn("http", "stop: %u requests still running after %d ms are cut", left, timeout_ms);
    unsigned idle = atomic_load(&srv->connections);
    http_vqueue_stop(srv);        /* no connection may stay suspended past MHD_stop_daemon */
    MHD_stop_daemon(srv->daemon); /* closes the remaining (idle keep-alive) connections */
    http_sse_close();
    http_rl_set_global(NULL); /* no request runs any more */
    http_rl_free(srv->auth_rl);
    metrics_remove(srv->deps.metrics, srv->m_ready_checks);
    if (srv->fd_returned) close(srv->listen_fd); /* otherwise MHD_stop_daemon closed it */
    log_info("http", "stopped (%u connections were open)", idle);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    return left > 0 ? ATT_E_UNAVAILABLE : ATT_OK;
}

void http_server_reload(http_server *srv)
{
    (void)srv;
    http_auth_cache_clear();
}

void http_server_token_revoked(http_server *srv, const char *token_id)
{
    (void)srv;
    att_uuid id;
    if (!att_uuid_parse(token_id, &id)) return;
    http_auth_forget(&id);
    unsigned ended = http_live_revoke(&id);
    if (ended) log_info("http", "token %s revoked elsewhere: %u open response(s) ended", token_id, ended);
}
