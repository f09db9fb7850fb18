/* The HTTP API server (libmicrohttpd): one route table, bearer-token auth with roles, problem+json
 * errors, body limits. Handlers live in src/http/, one file per resource. */
#ifndef ATTENDD_HTTP_H
#define ATTENDD_HTTP_H

#include <stdint.h>

#include "attendd/app.h"
#include "attendd/errors.h"

typedef struct http_server http_server;

/* Bind cfg.listen_address:cfg.port and start serving. err says why on failure (e.g. port in use). */
att_err http_server_start(struct app *app, http_server **out, char *err, size_t errlen);
/* The bound port (useful when cfg.port was 0). */
uint16_t http_server_port(const http_server *srv);
/* SIGHUP: forget cached token lookups, so revocations made elsewhere take effect at once. */
void http_server_reload(http_server *srv);
/* Stop accepting new connections; requests in flight go on. */
void http_server_quiesce(http_server *srv);
/* Wait up to timeout_ms for in-flight requests to finish, then stop and free the server.
 * ATT_E_UNAVAILABLE if connections had to be cut at the deadline. */
att_err http_server_stop(http_server *srv, int timeout_ms);

#endif
