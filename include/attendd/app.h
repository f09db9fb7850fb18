/* The daemon's shared context: what HTTP handlers and pipeline stages may reach (config, database
 * pool, keys, readiness). Owned by src/main.c; modules receive a pointer and never free it. */
#ifndef ATTENDD_APP_H
#define ATTENDD_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "attendd/camera_mgr.h"
#include "attendd/capture.h"
#include "attendd/config.h"
#include "attendd/db.h"
#include "attendd/enrol.h"
#include "attendd/event_writer.h"
#include "attendd/gallery.h"
#include "attendd/metrics.h"
#include "attendd/spool.h"
#include "attendd/template_crypto.h"
#include "attendd/token.h"
#include "attendd/vision.h"
#include "attendd/vpool.h"

struct app {
    struct att_config cfg;        /* effective configuration (read-only after start except on reload) */
    db_pool *db;                  /* PostgreSQL connection pool */
    struct token_key token_key;   /* keyed-hash key for API tokens */
    tcrypt_key *template_key;     /* encrypts templates at rest */
    tcrypt_key *template_key_old; /* previous key after a rotation (decrypt only), or NULL */
    av_models *models;            /* the four ONNX models, verified (NULL if they failed to load) */
    vpool *vision;                /* pipelines borrowed by API requests (NULL without models) */
    av_confirm_models *
        confirm_models; /* the confirming model (NULL when track_confirm is off); each pipeline of vision has a network of it */
    struct enrol_policy enrol;        /* enrolment checks, from the configuration */
    gal *gallery;                     /* decrypted templates of enrolled people, in locked memory */
    atomic_bool models_ready;         /* vision models loaded and verified */
    char models_error[256];           /* why models are not ready (written once at start) */
    atomic_bool gallery_ready;        /* the gallery is loaded: every stored template that decrypts */
    atomic_size_t gallery_unreadable; /* stored templates that did not decrypt at load (not recognised) */
    pthread_mutex_t status_lock;      /* guards gallery_error */
    char gallery_error[512];          /* why the gallery is not ready; read with app_gallery_error */
    atomic_bool stopping;             /* graceful stop in progress: readyz answers 503 */
    metrics *metrics;                 /* registry behind GET /metrics; stages register their series */
    spool *spool;                     /* durable event spool in <state_dir>/spool */
    event_writer *events;             /* drains the spool into PostgreSQL; stages call event_emit(app->events) */
    cap_frame_queue *frames;          /* sampled camera frames, one lane per camera; the pipeline pops */
    camera_mgr *cameras;              /* running cameras (capture threads); API writes apply through it */
    struct pipeline *pipeline;        /* analysis workers (src/attendance/pipeline_app.c); NULL until started */
    struct rules *rules;              /* attendance rules, seeded at pipeline start */
    struct cluster *cluster;          /* leases and the change feed (cfg.cluster), else NULL */
    struct http_server *http;         /* the API server once started (the change feed revokes tokens in it) */
};

/* Several instances (src/daemon/cluster_app.c). With cfg.cluster: cameras run only while this
 * instance holds their lease (the gate, set before the first camera load); cluster_app_start makes
 * app->cluster (before HTTP serves), which main starts once app->http is set. Both do nothing
 * without cfg.cluster. */
void cluster_app_gate(struct app *app);
att_err cluster_app_start(struct app *app);
/* Run exactly the held cameras: the stored definitions, through the gate. */
void cluster_app_cameras(struct app *app);

/* Copy the reason the gallery is not loaded (thread-safe). */
void app_gallery_error(struct app *app, char *out, size_t len);

#endif
