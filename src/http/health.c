/* Probes without authentication: /healthz (the process answers) and /readyz (it can do its job:
 * database reachable with the expected schema, models and gallery loaded, not stopping) for load
 * balancers and systemd/k8s checks. Neither names a person, a face or a key. */
#include "http_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "attendd/time.h"

/* /readyz needs no credentials, so anyone may call it in a loop: the database check it runs is
 * reused for READY_DB_TTL_S, and at most one caller runs it at a time. */
#define READY_DB_TTL_S 1.0

static struct {
    pthread_mutex_t lock; /* guards the members below; held while the check runs */
    const db_pool *db;    /* the pool the answer is for */
    double checked;       /* monotonic seconds of the last check; 0 = none */
    att_err result;       /* its answer */
    uint64_t checks;      /* database round trips made for /readyz (metric) */
} ready_db = {.lock = PTHREAD_MUTEX_INITIALIZER};

uint64_t http_ready_db_checks(void)
{
    pthread_mutex_lock(&ready_db.lock);
    uint64_t n = ready_db.checks;
    pthread_mutex_unlock(&ready_db.lock);
    return n;
}

static att_err db_check(db_pool *db)
{
    pthread_mutex_lock(&ready_db.lock);
    double now = att_time_mono_s();
    /* only a healthy answer is reused: a failing one is checked again so recovery shows at once */
    if (ready_db.db != db || ready_db.checked == 0 || ready_db.result != ATT_OK ||
        now - ready_db.checked >= READY_DB_TTL_S) {
        ready_db.result = db_ping(db);
        ready_db.checks++;
        ready_db.db = db;
        ready_db.checked = att_time_mono_s();
    }
    att_err e = ready_db.result;
    pthread_mutex_unlock(&ready_db.lock);
    return e;
}

att_err http_health_get(struct http_request *req, struct http_response *resp)
{
    (void)req;
    return http_json(resp, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

att_err http_ready_get(struct http_request *req, struct http_response *resp)
{
    const struct http_deps *d = req->deps;
    char detail[512] = "";
    size_t off = 0;
    json_t *reasons = json_array();
    if (reasons == NULL) return http_problem(resp, ATT_E_NOMEM, NULL, NULL);

        /* Each failing check adds a machine-readable reason and a sentence to the detail. */
#define NOT_READY(code, ...)                                                                       \
    do {                                                                                           \
        json_array_append_new(reasons, json_string(code));                                         \
        int n_ = snprintf(detail + off, sizeof detail - off, "%s", off ? "; " : "");               \
        if (n_ > 0 && (size_t)n_ < sizeof detail - off) off += (size_t)n_;                         \
        n_ = snprintf(detail + off, sizeof detail - off, __VA_ARGS__);                             \
        if (n_ > 0) off = (size_t)n_ < sizeof detail - off ? off + (size_t)n_ : sizeof detail - 1; \
    } while (0)

    if (atomic_load(d->stopping)) NOT_READY("stopping", "the daemon is stopping");
    att_err ping = d->db != NULL ? db_check(d->db) : ATT_E_DB;
    if (d->db == NULL) NOT_READY("database_unreachable", "no database is configured");
    else if (ping == ATT_E_SCHEMA) /* reachable, but without the tables this binary needs */
        NOT_READY("schema_mismatch", "the database schema does not match this binary: run `attendctl migrate`");
    else if (ping != ATT_OK) NOT_READY("database_unreachable", "the database is unreachable");
    if (!atomic_load(d->models_ready))
        NOT_READY("models_not_loaded", "models not loaded: %s",
                  d->models_error[0] ? d->models_error : "loading has not finished");
    if (!atomic_load(d->gallery_ready)) {
        /* the loader's reason may name a face or a key: the log has it, this answer only says which state */
        char why[512];
        d->gallery_error(d->gallery_error_ctx, why, sizeof why);
        NOT_READY("gallery_not_loaded", "face gallery not loaded: %s",
                  why[0] ? "loading failed (the daemon's log says why)" : "loading has not finished");
    } else if (atomic_load(d->gallery_unreadable) > 0) {
        /* everyone else is recognised, but someone would be missed: an operator must act (the log
         * names the faces; this unauthenticated answer names none) */
        NOT_READY("gallery_incomplete", "%zu stored face template(s) do not decrypt and are not recognised",
                  (size_t)atomic_load(d->gallery_unreadable));
    }
#undef NOT_READY

    if (json_array_size(reasons) == 0) {
        json_decref(reasons);
        return http_json(resp, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"));
    }
    json_t *extra = json_pack("{s:o}", "reasons", reasons);
    return http_problem_ext(resp, ATT_E_NOT_READY, NULL, extra, "%s", detail);
}
