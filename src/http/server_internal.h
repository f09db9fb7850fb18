/* Internal to the HTTP server: the server and per-request state shared by the listener, the request
 * state machine, response sending and start/stop (server.c, listener.c, connection.c, respond.c). */
#ifndef ATTENDD_HTTP_SERVER_INTERNAL_H
#define ATTENDD_HTTP_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "attendd/config.h"
#include "attendd/metrics.h"
#include "http_internal.h"
#include "ratelimit.h"

#define LINGER_BYTES (1u << 20) /* body bytes read and dropped after an early 413 before closing */

struct http_server {
    struct http_deps deps; /* what handlers reach (copied at start; points at the daemon's) */
    struct MHD_Daemon *daemon;
    int listen_fd;           /* ours: bound here so bind errors are exact and the port known */
    uint16_t port;           /* bound port */
    bool raw_413;            /* 413 mid-upload written to the socket directly (plain HTTP only) */
    bool tls;                /* HTTPS */
    http_rl *auth_rl;        /* failed-authentication lock-outs (NULL: auth_fail_limit = 0) */
    pthread_mutex_t lock;    /* guards inflight */
    pthread_cond_t idle;     /* signalled when inflight drops to 0 */
    unsigned inflight;       /* requests from their headers to their completion */
    atomic_uint connections; /* open connections */
    atomic_bool quiesced;    /* no new connections; responses carry Connection: close */
    bool fd_returned;        /* MHD_quiesce_daemon gave listen_fd back: we close it */
    char *start_err;         /* during start: where libmicrohttpd's messages go */
    size_t start_errlen;
    struct http_vqueue *vq; /* the vision queue: photo routes' handlers run on its workers */
    metric *m_ready_checks; /* attendd_readyz_db_checks_total */
};

/* Per-request state, created on the first access-handler call, freed on completion. */
struct req_ctx {
    struct http_request req; /* what the handler sees */
    struct token_info token; /* authenticated token (req.token points here) */
    const struct http_route *route;
    char *body; /* received bytes (+ NUL), at most cfg.max_body_bytes */
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
    atomic_int vstate;          /* vision queue: VJ_NONE, VJ_QUEUED (connection suspended), VJ_DONE */
    struct http_response vresp; /* the answer a vision worker wrote, queued on the next call */
    struct req_ctx *vnext;      /* vision queue order; guarded by the queue's lock */
};

enum { VJ_NONE, VJ_QUEUED, VJ_DONE };

/* Run the route's handler for rc (body complete) into resp, release its database connection, and make
 * sure resp holds an answer (the registry's problem when the handler wrote none). connection.c. */
void http_run_handler(struct req_ctx *rc, struct http_response *resp);

/* ---- vqueue.c: the vision queue ----------------------------------------------------------------------- */

/* Start cfg.vision_workers threads serving a queue of at most cfg.vision_queue requests (running or
 * waiting). */
att_err http_vqueue_start(struct http_server *srv, char *err, size_t errlen);
/* Hand rc's request (body complete) to the queue: the connection is suspended and a worker runs the
 * handler, stores the answer in rc->vresp, sets VJ_DONE and resumes the connection. ATT_E_BUSY (nothing
 * taken, connection not suspended) when the queue holds cfg.vision_queue requests already. Called from
 * the access handler only. */
att_err http_vqueue_submit(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn);
/* Before MHD_stop_daemon: requests still waiting are answered 503 and resumed, running ones finish,
 * the workers end. NULL-safe. */
void http_vqueue_stop(struct http_server *srv);

/* ---- respond.c ---------------------------------------------------------------------------------- */

/* Hand resp to libmicrohttpd (body ownership moves to it); records the status in rc. */
enum MHD_Result http_queue(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                           struct http_response *resp);
/* The same for a problem built with the helpers (500 if none was written). */
enum MHD_Result http_queue_problem(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn,
                                   struct http_response *resp);
/* Write the 413 straight to the socket of a plain-HTTP upload still arriving; false if it could not. */
bool http_send_raw_413(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn);

/* ---- connection.c: libmicrohttpd's callbacks ------------------------------------------------------ */

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe);
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                        enum MHD_ConnectionNotificationCode toe);

/* ---- listener.c ------------------------------------------------------------------------------------ */

/* Create, bind and listen on addr:port (IPv4 or IPv6 literal, brackets optional). */
att_err http_listen(const char *addr, int port, int *fd_out, uint16_t *port_out, char *err, size_t errlen);
/* Raise the soft open-file limit to the hard one; ATT_E_CONFIG when max_connections cannot fit. */
att_err http_raise_fd_limit(const struct att_config *cfg, char *err, size_t errlen);

#endif
