/* Sending answers: a handler's response to libmicrohttpd with the headers every answer carries, and
 * the 413 written to the socket of an upload that is still arriving. */
#include "server_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attendd/log.h"

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
enum MHD_Result http_queue(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
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
    if (resp->content_type != NULL)
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) == MHD_YES;
    for (size_t i = 0; i < resp->nheaders; i++)
        ok &= MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value) == MHD_YES;
    /* API answers may carry personal data: no shared or browser cache keeps them unless a handler
     * says otherwise; and no content sniffing of JSON. */
    if (!has_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL))
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    /* while stopping, keep-alive clients must not send another request on this connection */
    if (atomic_load(&srv->quiesced) || atomic_load(srv->deps.stopping))
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
    if (!ok) log_warn("http", "could not add all response headers");
    rc->status = resp->status;
    enum MHD_Result q = MHD_queue_response(conn, resp->status, r);
    MHD_destroy_response(r);
    http_response_clear(resp);
    return q;
}

/* Queue a problem response built with the helpers. */
enum MHD_Result http_queue_problem(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                                   struct http_response *resp)
{
    if (resp->status == 0) http_problem(resp, ATT_E_INTERNAL, NULL, NULL);
    return http_queue(srv, rc, conn, resp);
}

/* libmicrohttpd 0.9.75 refuses MHD_queue_response while the body is being received, so a chunked
 * upload that crosses the limit cannot be answered through it until the client has sent
 * everything. Instead the 413 is written to the socket here (nothing else is in flight on the
 * connection: the previous response and any 100 Continue are fully sent before body data arrives),
 * and the connection is closed once the client stops sending. Plain HTTP only: under TLS the body
 * is discarded and the 413 queued after its end (never buffered either way). */
bool http_send_raw_413(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL) return false;
    struct http_response resp = {0};
    http_problem(&resp, ATT_E_TOO_LARGE, NULL, "the request body exceeds %ld bytes", srv->deps.cfg->max_body_bytes);
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
