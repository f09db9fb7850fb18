/* The libmicrohttpd daemon: binds cfg.listen_address (HTTPS when a certificate is configured),
 * enforces connection and body limits, runs route → auth → body → handler for each request, counts
 * requests in flight so a stop can let them finish. */
#include "attendd/http.h"

#include "http_internal.h"
#include "ratelimit.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attendd/log.h"
#include "attendd/time.h"

#define LINGER_BYTES (1u << 20) /* body bytes read and dropped after an early 413 before closing */

struct http_server {
    struct app *app;              /* shared context (not owned) */
    struct MHD_Daemon *daemon;
    int listen_fd;                /* ours: bound here so bind errors are exact and the port known */
    uint16_t port;                /* bound port */
    bool raw_413;                 /* 413 mid-upload written to the socket directly (plain HTTP only) */
    bool tls;                     /* HTTPS */
    http_rl *auth_rl;             /* failed-authentication lock-outs (NULL: auth_fail_limit = 0) */
    pthread_mutex_t lock;         /* guards inflight */
    pthread_cond_t idle;          /* signalled when inflight drops to 0 */
    unsigned inflight;            /* requests from their headers to their completion */
    atomic_uint connections;      /* open connections */
    atomic_bool quiesced;         /* no new connections; responses carry Connection: close */
    bool fd_returned;             /* MHD_quiesce_daemon gave listen_fd back: we close it */
    char *start_err;              /* during start: where libmicrohttpd's messages go */
    size_t start_errlen;
};

/* Per-request state, created on the first access-handler call, freed on completion. */
struct req_ctx {
    struct http_request req;      /* what the handler sees */
    struct token_info token;      /* authenticated token (req.token points here) */
    const struct http_route *route;
    char *body;                   /* received bytes (+ NUL), at most cfg.max_body_bytes */
    size_t len, cap;
    size_t declared;              /* Content-Length, 0 if none (chunked) */
    bool answered_early;          /* a response was queued on the first call; the body is unread */
    bool has_body;                /* Content-Length > 0 or chunked */
    struct http_response refusal; /* refusal of a body-less request, sent at its last call */
    bool too_large;               /* the body crossed the limit: the rest is discarded */
    bool raw_replied;             /* the 413 went to the socket directly; close when the client stops */
    size_t discarded;             /* bytes dropped after the limit was crossed */
    unsigned status;              /* status sent, for the request log */
    int64_t started_us;
};

/* ---- small helpers ---------------------------------------------------------------------------- */

void http_client_addr(struct MHD_Connection *conn, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, len, "?");
    if (ci == NULL || ci->client_addr == NULL) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
}

/* Response bodies may hold secrets (a new token): wipe before freeing. */
static void free_body(void *p)
{
    if (p == NULL) return;
    sodium_memzero(p, strlen(p));
    free(p);
}

static bool has_header(const struct http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0) return true;
    return false;
}

/* Hand resp to libmicrohttpd (body ownership moves to it). */
static enum MHD_Result queue(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                             struct http_response *resp)
{
    struct MHD_Response *r;
    if (resp->stream != NULL) {
        r = resp->stream; /* SSE: a callback response; we drop our reference below */
        resp->stream = NULL;
    } else if (resp->body != NULL) {
        r = MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body, free_body);
        if (r != NULL) resp->body = NULL;
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        http_response_clear(resp);
        return MHD_NO;
    }
    bool ok = true;
    if (resp->content_type != NULL) ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) == MHD_YES;
    for (size_t i = 0; i < resp->nheaders; i++)
        ok &= MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value) == MHD_YES;
    /* API answers may carry personal data: no shared or browser cache keeps them unless a handler
     * says otherwise; and no content sniffing of JSON. */
    if (!has_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL))
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    /* while stopping, keep-alive clients must not send another request on this connection */
    if (atomic_load(&srv->quiesced) || atomic_load(&srv->app->stopping))
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
    if (!ok) log_warn("http", "could not add all response headers");
    rc->status = resp->status;
    enum MHD_Result q = MHD_queue_response(conn, resp->status, r);
    MHD_destroy_response(r);
    http_response_clear(resp);
    return q;
}

/* Queue a problem response built with the helpers. */
static enum MHD_Result queue_problem(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                                     struct http_response *resp)
{
    if (resp->status == 0) http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    return queue(srv, rc, conn, resp);
}

static void release_db(struct req_ctx *rc)
{
    if (rc->req.db != NULL) {
        db_release(rc->req.app->db, rc->req.db);
        rc->req.db = NULL;
    }
}

/* libmicrohttpd 0.9.75 refuses MHD_queue_response while the body is being received, so a chunked
 * upload that crosses the limit cannot be answered through it until the client has sent
 * everything. Instead the 413 is written to the socket here (nothing else is in flight on the
 * connection: the previous response and any 100 Continue are fully sent before body data arrives),
 * and the connection is closed once the client stops sending. Plain HTTP only: under TLS the body
 * is discarded and the 413 queued after its end (never buffered either way). */
static bool send_raw_413(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL) return false;
    struct http_response resp = {0};
    http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes", srv->app->cfg.max_body_bytes);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/problem+json\r\n"
                      "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                      "Connection: close\r\n\r\n",
                      resp.body_len);
    bool ok = false;
    char *msg = malloc((size_t)hl + resp.body_len);
    if (msg != NULL && resp.body != NULL) {
        memcpy(msg, head, (size_t)hl);
        memcpy(msg + hl, resp.body, resp.body_len);
        size_t total = (size_t)hl + resp.body_len, off = 0;
        /* a few hundred bytes into an empty socket buffer: one send normally does it */
        for (int tries = 0; off < total && tries < 100; tries++) {
            ssize_t w = send(ci->connect_fd, msg + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                off += (size_t)w;
            } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                usleep(1000);
            } else {
                break;
            }
        }
        ok = off == total;
    }
    free(msg);
    http_response_clear(&resp);
    rc->status = 413;
    return ok;
}

/* ---- the request state machine ---------------------------------------------------------------- */

/* Refuse a request from its headers. With a body coming, answer now so the body is never read
 * (libmicrohttpd then closes the connection); without one, answer at the request's last call,
 * which keeps the connection alive (a dashboard polling with an expired token, a 404). */
static enum MHD_Result refuse(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                              struct http_response *resp)
{
    if (rc->has_body) {
        rc->answered_early = true;
        return queue_problem(srv, rc, conn, resp);
    }
    rc->refusal = *resp;
    if (rc->refusal.status == 0) http_problem(&rc->refusal, ATT_E_INTERNAL, NULL, NULL);
    return MHD_YES;
}

/* First call: headers are in, the body (if any) is not. Route, size and auth checks happen here
 * so a request that will be refused never gets its body read. */
static enum MHD_Result begin(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    struct http_request *req = &rc->req;
    struct http_response resp = {0};
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    rc->has_body = (cl != NULL && strcmp(cl, "0") != 0) ||
                   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    char allow[128];
    switch (http_route_find(req->method, req->path, req, &rc->route, allow, sizeof allow)) {
    case HTTP_MATCH_OK:
        break;
    case HTTP_MATCH_NO_PATH:
        http_problem(&resp, ATT_E_NOT_FOUND, NULL, "no resource at this path");
        return refuse(srv, rc, conn, &resp);
    case HTTP_MATCH_BAD_METHOD:
        http_problem(&resp, ATT_E_METHOD, NULL, "%s is not supported here; allowed: %s", req->method, allow);
        http_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
        return refuse(srv, rc, conn, &resp);
    }

    /* Declared size over the limit: answer before a byte of the body is read. (libmicrohttpd has
     * already refused a malformed Content-Length with 400.) */
    unsigned long long declared = 0;
    if (cl != NULL) {
        char *end;
        errno = 0;
        declared = strtoull(cl, &end, 10);
        if (errno != 0 || end == cl || declared > (unsigned long long)srv->app->cfg.max_body_bytes) {
            http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes",
                         srv->app->cfg.max_body_bytes);
            rc->answered_early = true;
            return queue_problem(srv, rc, conn, &resp);
        }
    }

    if (rc->route->min_role != ROLE_NONE) {
        att_err e = http_auth(req, &resp, rc->route->min_role, &rc->token);
        release_db(rc); /* never hold a pooled connection while a slow client uploads */
        if (e != ATT_OK) return refuse(srv, rc, conn, &resp);
        req->token = &rc->token;
        /* fail closed: a pseudonymous token reaches only routes marked safe for it */
        if (rc->token.pseudonymous && !rc->route->pseudonym_ok) {
            log_notice("http", "403 %s %s: token %s is pseudonymous", req->method, req->path, rc->token.id);
            http_problem(&resp, ATT_E_FORBIDDEN, NULL, "a pseudonymous token may not use this route");
            return refuse(srv, rc, conn, &resp);
        }
    }

    rc->declared = (size_t)declared;
    return MHD_YES;
}

/* A piece of the body. Never keeps more than cfg.max_body_bytes. */
static enum MHD_Result body_data(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                                 const char *data, size_t n)
{
    size_t max = (size_t)srv->app->cfg.max_body_bytes;
    if (rc->too_large) {
        rc->discarded += n;
        /* After the early 413, read on for a while: closing with unread data sends a reset that
         * can destroy the answer before the client reads it. Not forever, though. */
        if (rc->raw_replied && rc->discarded > (max > LINGER_BYTES ? max : LINGER_BYTES)) return MHD_NO;
        return MHD_YES;
    }
    if (n > max - rc->len) {
        rc->too_large = true;
        rc->discarded = n;
        if (rc->body != NULL) sodium_memzero(rc->body, rc->cap); /* a photo's first megabytes */
        free(rc->body);
        rc->body = NULL;
        rc->len = rc->cap = 0;
        char addr[64];
        http_client_addr(conn, addr, sizeof addr);
        log_notice("http", "413 %s %s from %s: body over %zu bytes", rc->req.method, rc->req.path, addr, max);
        if (srv->raw_413) {
            if (!send_raw_413(srv, rc, conn)) return MHD_NO;
            rc->raw_replied = true;
        }
        return MHD_YES;
    }
    if (rc->len + n > rc->cap) {
        /* grow with what arrives, not with what was announced: a header claiming 10 MB costs
         * nothing until the bytes come */
        size_t limit = rc->declared ? rc->declared : max;
        size_t cap = rc->cap ? rc->cap : 16384;
        while (cap < rc->len + n) cap *= 2;
        if (cap > limit) cap = limit;
        if (cap < rc->len + n) cap = rc->len + n;
        /* not realloc: a moved block would leave a copy of the body (a photo, a token) in freed memory */
        char *b = malloc(cap + 1);
        if (b == NULL) return MHD_NO;
        if (rc->body != NULL) {
            memcpy(b, rc->body, rc->len);
            sodium_memzero(rc->body, rc->cap);
            free(rc->body);
        }
        rc->body = b;
        rc->cap = cap;
    }
    memcpy(rc->body + rc->len, data, n);
    rc->len += n;
    return MHD_YES;
}

/* Last call: the whole body is in. Run the handler and queue its response. */
static enum MHD_Result finish(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    struct http_response resp = {0};
    if (rc->raw_replied) return MHD_NO; /* answered already; closing is all that is left */
    if (rc->refusal.status != 0) {
        resp = rc->refusal;
        rc->refusal = (struct http_response){0};
        return queue(srv, rc, conn, &resp);
    }
    if (rc->too_large) {
        http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes", srv->app->cfg.max_body_bytes);
        return queue_problem(srv, rc, conn, &resp);
    }
    if (rc->body != NULL) rc->body[rc->len] = '\0';
    rc->req.body = rc->body ? rc->body : "";
    rc->req.body_len = rc->len;

    att_err e = rc->route->handler(&rc->req, &resp);
    release_db(rc);
    if (resp.status == 0) {
        if (e == ATT_OK) {
            log_error("http", "%s %s: handler produced no response", rc->req.method, rc->req.path);
            e = ATT_E_INTERNAL;
        } else {
            log_warn("http", "%s %s: handler returned %s without a response", rc->req.method, rc->req.path,
                     att_err_code(e));
        }
        http_problem(&resp, e, NULL, NULL);
    }
    return queue(srv, rc, conn, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct http_server *srv = cls;
    struct req_ctx *rc = *req_cls;
    if (rc == NULL) {
        rc = calloc(1, sizeof *rc);
        if (rc == NULL) return MHD_NO;
        rc->started_us = att_time_mono_us();
        rc->req.app = srv->app;
        rc->req.conn = conn;
        rc->req.method = method; /* both live as long as the request (connection memory pool) */
        rc->req.path = url;
        *req_cls = rc;
        pthread_mutex_lock(&srv->lock);
        srv->inflight++;
        pthread_mutex_unlock(&srv->lock);
        return begin(srv, rc, conn);
    }
    if (rc->answered_early) return MHD_YES; /* response queued; libmicrohttpd skips the body */
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rc->refusal.status != 0) return MHD_YES; /* framing said no body; drop it */
        return body_data(srv, rc, conn, upload_data, n);
    }
    return finish(srv, rc, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct req_ctx *rc = *req_cls;
    if (rc == NULL) return;
    *req_cls = NULL;
    release_db(rc);
    http_response_clear(&rc->refusal);
    double ms = (double)(att_time_mono_us() - rc->started_us) / 1e3;
    /* never the query string: it may hold names (?q=...) */
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !rc->raw_replied)
        log_info("http", "%s %s %u aborted (%d) after %.1f ms", rc->req.method, rc->req.path, rc->status, (int)toe, ms);
    else if (rc->status >= 500)
        log_warn("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    else if (rc->status >= 400)
        log_info("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    else
        log_debug("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    if (rc->body != NULL) sodium_memzero(rc->body, rc->cap);
    free(rc->body);
    free(rc);
    pthread_mutex_lock(&srv->lock);
    if (srv->inflight > 0 && --srv->inflight == 0) pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&srv->connections, 1);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub(&srv->connections, 1);
}

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

/* ---- start / stop ----------------------------------------------------------------------------- */

/* Create, bind and listen on addr:port (IPv4 or IPv6 literal, brackets optional). */
static att_err open_listener(const char *addr, int port, int *fd_out, uint16_t *port_out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    char host[64];
    size_t al = strlen(addr);
    if (al >= 2 && addr[0] == '[' && addr[al - 1] == ']' && al - 2 < sizeof host) {
        memcpy(host, addr + 1, al - 2);
        host[al - 2] = '\0';
    } else {
        snprintf(host, sizeof host, "%s", addr);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        snprintf(err, errlen, "listen_address '%s' is not an IPv4 or IPv6 address literal", addr);
        return ATT_E_CONFIG;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return ATT_E_IO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* restart while old sockets linger */
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one); /* exactly this address */
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", addr, port, strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    *port_out = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
    *fd_out = fd;
    return ATT_OK;
}

/* Descriptors the daemon needs besides its HTTP connections: database pool, cameras, epoll and
 * inter-thread pipes, spool, logs. Generous: running out only refuses connections. */
#define FD_RESERVE 256

/* Raise the soft RLIMIT_NOFILE to the hard one (systemd starts services at 1024 soft) and check
 * that max_connections fit; otherwise accept() would fail with EMFILE under load, well below the
 * configured limit, and that is the moment not to find out. */
static att_err raise_fd_limit(const struct att_config *cfg, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return ATT_E_IO;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)rl.rlim_max,
                     strerror(errno));
            return ATT_E_IO;
        }
        log_info("http", "open-file limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_cur);
    }
    rlim_t need = (rlim_t)cfg->max_connections + FD_RESERVE + (rlim_t)cfg->db_pool_size;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        snprintf(err, errlen,
                 "max_connections %d needs about %llu open files, but the hard limit (RLIMIT_NOFILE) is %llu: "
                 "raise it (LimitNOFILE= in the unit, ulimit -Hn) or lower max_connections",
                 cfg->max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}

att_err http_server_start(struct app *app, http_server **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not be initialised");
        return ATT_E_CRYPTO;
    }
    const struct att_config *cfg = &app->cfg;
    struct http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    srv->app = app;
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
            snprintf(err, errlen, "tls_cert_file is set, but this libmicrohttpd was built without TLS (GnuTLS) support");
            e = ATT_E_CONFIG;
            goto fail;
        }
        if ((e = http_tls_load(cfg->tls_cert_file, cfg->tls_key_file, &tls, err, errlen)) != ATT_OK) goto fail;
    }
    if ((e = raise_fd_limit(cfg, err, errlen)) != ATT_OK) goto fail;
    if (cfg->auth_fail_limit > 0 &&
        (e = http_rl_new(cfg->auth_fail_limit, cfg->auth_fail_window_s, &srv->auth_rl)) != ATT_OK) {
        snprintf(err, errlen, "the authentication-failure table could not be made: %s", att_err_code(e));
        goto fail;
    }

    e = open_listener(cfg->listen_address, cfg->port, &srv->listen_fd, &srv->port, err, errlen);
    if (e != ATT_OK) goto fail;
    if ((e = http_sse_open(app)) != ATT_OK) {
        snprintf(err, errlen, "the SSE hub could not start (is another HTTP server running in this process?)");
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
        flags, 0, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, /* first, or early messages bypass it */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_ARRAY, srv->tls ? tls_opts : &tls_opts[3],
        MHD_OPTION_END);
    srv->start_err = NULL;
    http_tls_free(&tls); /* the key is wiped whether or not the daemon started */
    if (srv->daemon == NULL) {
        if (errlen > 0 && err[0] == '\0') snprintf(err, errlen, "libmicrohttpd did not start");
        e = ATT_E_INTERNAL;
        close(srv->listen_fd);
        http_sse_close();
        http_rl_set_global(NULL);
        goto fail;
    }
    log_info("http", "listening on %s port %u, %s (%d threads, %d connections, %d per address, body limit %ld bytes)",
             cfg->listen_address, srv->port, srv->tls ? "HTTPS" : "plain HTTP", cfg->http_threads,
             cfg->max_connections, cfg->max_connections_per_ip, cfg->max_body_bytes);
    *out = srv;
    return ATT_OK;
fail:
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
    if (left > 0)
        log_warn("http", "stop: %u requests still running after %d ms are cut", left, timeout_ms);
    unsigned idle = atomic_load(&srv->connections);
    MHD_stop_daemon(srv->daemon); /* closes the remaining (idle keep-alive) connections */
    http_sse_close();
    http_rl_set_global(NULL); /* no request runs any more */
    http_rl_free(srv->auth_rl);
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
