/* The HTTP API server (libmicrohttpd): one route table, bearer-token auth with roles, problem+json
 * errors, body limits. Handlers live in src/http/, one file per resource. */
#ifndef ATTENDD_HTTP_H
#define ATTENDD_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/camera_mgr.h"
#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/enrol.h"
#include "attendd/errors.h"
#include "attendd/gallery.h"
#include "attendd/metrics.h"
#include "attendd/template_crypto.h"
#include "attendd/token.h"
#include "attendd/vpool.h"

typedef struct http_server http_server;

/* What the handlers reach, built by the daemon and outliving the server; nothing here is owned or
 * freed by the HTTP layer. The daemon changes some of it while serving (reloads rewrite *cfg in
 * place, a failed gallery load replaces *gallery, readiness flips), so those are pointers to the
 * daemon's own fields and atomics are read with atomic_load. */
struct http_deps {
    const struct att_config *cfg;            /* effective configuration (rewritten in place on reload) */
    db_pool *db;                             /* PostgreSQL connection pool, or NULL: 503 on every query */
    const struct token_key *token_key;       /* keyed-hash key for API tokens */
    tcrypt_key *template_key;                /* encrypts enrolled templates at rest */
    const struct enrol_policy *enrol;        /* enrolment checks */
    camera_mgr *cameras;                     /* running cameras, or NULL when capture is not running */
    metrics *metrics;                        /* registry behind GET /metrics, or NULL */
    vpool *vision;                           /* face pipelines for API requests (NULL without models) */
    gal *const *gallery;                     /* the daemon's gallery slot: replaced while not yet ready */
    const atomic_bool *models_ready;         /* vision models loaded and verified */
    const char *models_error;                /* why models are not ready (written once, before serving) */
    const atomic_bool *gallery_ready;        /* gallery loaded; never goes back to false */
    const atomic_size_t *gallery_unreadable; /* stored templates that did not decrypt at load */
    const atomic_bool *stopping;             /* graceful stop in progress: readyz answers 503 */
    /* Copy why the gallery is not ready into out (thread-safe: the loader writes it under a lock). */
    void (*gallery_error)(void *ctx, char *out, size_t len);
    void *gallery_error_ctx; /* first argument of gallery_error */
};

/* Bind cfg.listen_address:cfg.port and start serving with deps (copied; what it points at must
 * outlive the server). err says why on failure (e.g. port in use). */
att_err http_server_start(const struct http_deps *deps, http_server **out, char *err, size_t errlen);
/* The bound port (useful when cfg.port was 0). */
uint16_t http_server_port(const http_server *srv);
/* SIGHUP: forget cached token lookups, so revocations made elsewhere take effect at once. */
void http_server_reload(http_server *srv);
/* A token was revoked through another instance: forget its cached lookups and end its open responses
 * (event streams, exports) here too. A malformed id is ignored. */
void http_server_token_revoked(http_server *srv, const char *token_id);
/* Stop accepting new connections; requests in flight go on. */
void http_server_quiesce(http_server *srv);
/* Wait up to timeout_ms for in-flight requests to finish, then stop and free the server.
 * ATT_E_UNAVAILABLE if connections had to be cut at the deadline. */
att_err http_server_stop(http_server *srv, int timeout_ms);

#endif
