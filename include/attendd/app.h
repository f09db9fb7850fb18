/* The daemon's shared context: what HTTP handlers and pipeline stages may reach (config, database
 * pool, keys, readiness). Owned by src/main.c; modules receive a pointer and never free it. */
#ifndef ATTENDD_APP_H
#define ATTENDD_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/token.h"

struct app {
    struct att_config cfg;         /* effective configuration (read-only after start except on reload) */
    db_pool *db;                   /* PostgreSQL connection pool */
    struct token_key token_key;    /* keyed-hash key for API tokens */
    atomic_bool models_ready;      /* vision models loaded and verified */
    char models_error[256];        /* why models are not ready (written once at start) */
    atomic_bool stopping;          /* graceful stop in progress: readyz answers 503 */
};

#endif
