/* One request on a connection: route, body policy, size and auth checks from the headers, the body
 * received within its size limit and deadline, the handler run, the request logged; connections and requests in flight counted. */
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attendd/log.h"
#include "attendd/time.h"

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

static void release_db(struct req_ctx *rc)
{
    if (rc->req.db != NULL) {
        db_release(rc->req.deps->db, rc->req.db);
        rc->req.db = NULL;
    }
}

/* Refuse a request from its headers. With a body coming, answer now so the body is never read
 * (libmicrohttpd then closes the connection); without one, answer at the request's last call,
 * which keeps the connection alive (a dashboard polling with an expired token, a 404). */
static enum MHD_Result refuse(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                              struct http_response *resp)
{
    if (rc->has_body) {
        rc->answered_early = true;
        return http_queue_problem(srv, rc, conn, resp);
    }
    rc->refusal = *resp;
    if (rc->refusal.status == 0) http_problem(&rc->refusal, ATT_E_INTERNAL, NULL, NULL);
    return MHD_YES;
}

/* The body policy: GET and HEAD read none; DELETE only where its route reads one (a reason). */
static bool takes_body(const char *method, const struct http_route *route)
{
    if (strcmp(method, "DELETE") == 0) return route->delete_body;
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Seconds left of the body's deadline (body_deadline_s from the request's headers), at least 0. */
static double upload_left(const struct http_server *srv, const struct req_ctx *rc)
{
    double spent = (double)(att_time_mono_us() - rc->started_us) / 1e6;
    double left = srv->deps.cfg->body_deadline_s - spent;
    return left > 0 ? left : 0;
}

/* While a body arrives, the connection's idle timeout is what is left of its deadline (each byte
 * restarts libmicrohttpd's idle timer, so the timer alone would let a trickle run for ever). */
static void upload_timeout(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    unsigned idle = (unsigned)srv->deps.cfg->connection_timeout_s;
    unsigned left = (unsigned)upload_left(srv, rc) + 1;
    (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, left < idle ? left : idle);
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
    case HTTP_MATCH_OK: break;
    case HTTP_MATCH_NO_PATH:
        http_problem(&resp, ATT_E_NOT_FOUND, NULL, "no resource at this path");
        return refuse(srv, rc, conn, &resp);
    case HTTP_MATCH_BAD_METHOD:
        http_problem(&resp, ATT_E_METHOD, NULL, "%s is not supported here; allowed: %s", req->method, allow);
        http_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
        return refuse(srv, rc, conn, &resp);
    }

    /* GET, HEAD and most DELETEs take no body: one announced is refused from the headers, before a
     * byte of it is read, and the connection closes (nobody parks megabytes on a route that reads none). */
    if (rc->has_body && !takes_body(req->method, rc->route)) {
        http_problem(&resp, ATT_E_TOO_LARGE, NULL, "%s %s takes no request body", req->method, req->path);
        rc->answered_early = true;
        return http_queue_problem(srv, rc, conn, &resp);
    }

    /* Declared size over the limit: answer before a byte of the body is read. (libmicrohttpd has
     * already refused a malformed Content-Length with 400.) */
    unsigned long long declared = 0;
    if (cl != NULL) {
        char *end;
        errno = 0;
        declared = strtoull(cl, &end, 10);
        if (errno != 0 || end == cl || declared > (unsigned long long)srv->deps.cfg->max_body_bytes) {
            http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes",
                         srv->deps.cfg->max_body_bytes);
            rc->answered_early = true;
            return http_queue_problem(srv, rc, conn, &resp);
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
        /* fail closed: a token limited to departments reaches only routes that apply the limit */
        if (rc->token.n_departments > 0 && !http_route_scoped_ok(rc->route)) {
            log_notice("http", "403 %s %s: token %s is limited to departments", req->method, req->path, rc->token.id);
            http_problem(&resp, ATT_E_FORBIDDEN, NULL, "a token limited to departments may not use this route");
            return refuse(srv, rc, conn, &resp);
        }
    }

    rc->declared = (size_t)declared;
    if (rc->has_body) upload_timeout(srv, rc, conn); /* the idle timeout no longer outlasts the deadline */
    return MHD_YES;
}

/* A piece of the body. Never keeps more than cfg.max_body_bytes. */
static enum MHD_Result body_data(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                                 const char *data, size_t n)
{
    size_t max = (size_t)srv->deps.cfg->max_body_bytes;
    if (!rc->too_large && upload_left(srv, rc) <= 0) { /* a trickle: cut at the deadline */
        char addr[64];
        http_client_addr(conn, addr, sizeof addr);
        log_notice("http", "%s %s from %s: body not complete within %d s (body_deadline_s); connection closed",
                   rc->req.method, rc->req.path, addr, srv->deps.cfg->body_deadline_s);
        return MHD_NO;
    }
    if (!rc->too_large) upload_timeout(srv, rc, conn);
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
            if (!http_send_raw_413(srv, rc, conn)) return MHD_NO;
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
        return http_queue(srv, rc, conn, &resp);
    }
    if (rc->too_large) {
        http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes", srv->deps.cfg->max_body_bytes);
        return http_queue_problem(srv, rc, conn, &resp);
    }
    if (rc->has_body) /* the body is in: the ordinary idle timeout again (a slow reader of the answer) */
        (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                        (unsigned)srv->deps.cfg->connection_timeout_s);
    if (rc->body != NULL) rc->body[rc->len] = '\0';
    rc->req.body = rc->body ? rc->body : "";
    rc->req.body_len = rc->len;

    if (http_route_vision(rc->route)) { /* a photo: analysed on the vision queue, this thread moves on */
        if (http_vqueue_submit(srv, rc, conn) == ATT_OK) return MHD_YES;
        char after[16];
        snprintf(after, sizeof after, "%d", HTTP_BUSY_RETRY_S);
        http_problem(&resp, ATT_E_BUSY, NULL,
                     "%d photos are being analysed or waiting already (vision_queue); retry later",
                     srv->deps.cfg->vision_queue);
        http_header(&resp, MHD_HTTP_HEADER_RETRY_AFTER, after);
        return http_queue(srv, rc, conn, &resp);
    }
    http_run_handler(rc, &resp);
    return http_queue(srv, rc, conn, &resp);
}

void http_run_handler(struct req_ctx *rc, struct http_response *resp)
{
    int delay = rc->req.deps->cfg->test_vision_delay_ms;
    if (http_route_vision(rc->route) && delay > 0) { /* test hook (docs/configuration.md): slow vision work */
        struct timespec ts = {.tv_sec = delay / 1000, .tv_nsec = (long)(delay % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        }
    }
    att_err e = rc->route->handler(&rc->req, resp);
    release_db(rc);
    if (resp->status == 0) {
        if (e == ATT_OK) {
            log_error("http", "%s %s: handler produced no response", rc->req.method, rc->req.path);
            e = ATT_E_INTERNAL;
        } else {
            log_warn("http", "%s %s: handler returned %s without a response", rc->req.method, rc->req.path,
                     att_err_code(e));
        }
        http_problem(resp, e, NULL, NULL);
    }
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    struct http_server *srv = cls;
    struct req_ctx *rc = *req_cls;
    if (rc == NULL) {
        rc = calloc(1, sizeof *rc);
        if (rc == NULL) return MHD_NO;
        rc->started_us = att_time_mono_us();
        rc->req.deps = &srv->deps;
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
    int vstate = atomic_load(&rc->vstate);
    if (vstate == VJ_DONE) { /* a vision worker answered and resumed the connection */
        struct http_response resp = rc->vresp;
        rc->vresp = (struct http_response){0};
        atomic_store(&rc->vstate, VJ_NONE);
        return http_queue(srv, rc, conn, &resp);
    }
    if (vstate == VJ_QUEUED) return MHD_YES; /* still with the queue */
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rc->refusal.status != 0) return MHD_YES; /* framing said no body; drop it */
        return body_data(srv, rc, conn, upload_data, n);
    }
    return finish(srv, rc, conn);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct req_ctx *rc = *req_cls;
    if (rc == NULL) return;
    *req_cls = NULL;
    release_db(rc);
    http_response_clear(&rc->refusal);
    http_response_clear(&rc->vresp);
    double ms = (double)(att_time_mono_us() - rc->started_us) / 1e3;
    /* never the query string: it may hold names (?q=...) */
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !rc->raw_replied)
        log_info("http", "%s %s %u aborted (%d) after %.1f ms", rc->req.method, rc->req.path, rc->status, (int)toe, ms);
    else if (rc->status >= 500) log_warn("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    else if (rc->status >= 400) log_info("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    else log_debug("http", "%s %s %u %.1f ms", rc->req.method, rc->req.path, rc->status, ms);
    if (rc->body != NULL) sodium_memzero(rc->body, rc->cap);
    free(rc->body);
    free(rc);
    pthread_mutex_lock(&srv->lock);
    if (srv->inflight > 0 && --srv->inflight == 0) pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&srv->connections, 1);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) atomic_fetch_sub(&srv->connections, 1);
}
