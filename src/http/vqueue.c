/* The vision queue: enrolment and identification (decode, detect, embed a photo) run on threads of
 * their own, never on libmicrohttpd's, so a burst of slow photos holds no connection but its own; a
 * bounded number is accepted at once and one more is refused at once (503 busy). */
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/log.h"
#include "attendd/metrics.h"

struct http_vqueue {
    pthread_mutex_t lock;        /* guards everything below */
    pthread_cond_t work;         /* signalled when a request is queued or the queue stops */
    struct req_ctx *head, *tail; /* waiting requests, oldest first */
    unsigned held;               /* requests accepted and not answered yet (waiting + running) */
    unsigned cap;                /* cfg.vision_queue */
    bool stopping;               /* no new requests; workers end once the waiting ones are answered */
    pthread_t *threads;
    int nthreads;   /* threads started */
    metric *m_held; /* gauge: held, read when /metrics renders */
    metric *m_busy; /* counter: requests refused 503 busy */
};

static double held_now(void *ud)
{
    struct http_vqueue *q = ud;
    pthread_mutex_lock(&q->lock);
    unsigned n = q->held;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Hand the answer to the connection's next access-handler call. */
static void answer(struct req_ctx *rc)
{
    struct MHD_Connection *conn = rc->req.conn; /* rc may be freed once the connection runs again */
    atomic_store(&rc->vstate, VJ_DONE);
    MHD_resume_connection(conn);
}

static void *worker(void *arg)
{
    struct http_vqueue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (q->head == NULL && !q->stopping) pthread_cond_wait(&q->work, &q->lock);
        struct req_ctx *rc = q->head;
        if (rc == NULL) { /* stopping and nothing left */
            pthread_mutex_unlock(&q->lock);
            return NULL;
        }
        q->head = rc->vnext;
        if (q->head == NULL) q->tail = NULL;
        rc->vnext = NULL;
        pthread_mutex_unlock(&q->lock);

        http_run_handler(rc, &rc->vresp);
        pthread_mutex_lock(&q->lock);
        q->held--;
        pthread_mutex_unlock(&q->lock);
        answer(rc);
    }
}

att_err http_vqueue_start(struct http_server *srv, char *err, size_t errlen)
{
    const struct att_config *cfg = srv->deps.cfg;
    struct http_vqueue *q = calloc(1, sizeof *q);
    if (q != NULL) q->threads = calloc((size_t)cfg->vision_workers, sizeof *q->threads);
    if (q == NULL || q->threads == NULL) {
        free(q);
        snprintf(err, errlen, "out of memory");
        return ATT_E_NOMEM;
    }
    q->cap = (unsigned)cfg->vision_queue;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    srv->vq = q;
    if (srv->deps.metrics != NULL &&
        (metrics_callback(srv->deps.metrics, METRIC_GAUGE, "attendd_vision_queue_requests",
                          "enrolments and identifications accepted and not answered yet (running or waiting)", NULL,
                          held_now, q, &q->m_held) != ATT_OK ||
         metrics_counter(srv->deps.metrics, "attendd_vision_queue_busy_total",
                         "enrolments and identifications refused 503 busy: the vision queue was full", NULL,
                         &q->m_busy) != ATT_OK)) {
        snprintf(err, errlen, "the vision queue's metrics could not be registered");
        http_vqueue_stop(srv);
        return ATT_E_INTERNAL;
    }
    for (int i = 0; i < cfg->vision_workers; i++) {
        int rc = pthread_create(&q->threads[i], NULL, worker, q);
        if (rc != 0) {
            snprintf(err, errlen, "the vision queue's threads could not start: %s", strerror(rc));
            http_vqueue_stop(srv);
            return ATT_E_INTERNAL;
        }
        q->nthreads++;
    }
    return ATT_OK;
}

att_err http_vqueue_submit(struct http_server *srv, struct req_ctx *rc, struct MHD_Connection *conn)
{
    struct http_vqueue *q = srv->vq;
    pthread_mutex_lock(&q->lock);
    if (q->stopping || q->held >= q->cap) {
        unsigned held = q->held;
        pthread_mutex_unlock(&q->lock);
        metric_inc(q->m_busy);
        log_notice("http", "%s %s: the vision queue holds %u requests (vision_queue); 503 busy", rc->req.method,
                   rc->req.path, held);
        return ATT_E_BUSY;
    }
    q->held++; /* the slot is ours; the request joins the queue once its connection is suspended */
    pthread_mutex_unlock(&q->lock);

    atomic_store(&rc->vstate, VJ_QUEUED);
    MHD_suspend_connection(conn); /* before a worker can resume it */
    pthread_mutex_lock(&q->lock);
    rc->vnext = NULL;
    bool stopped = q->stopping; /* the stop took the waiting requests meanwhile: answer this one here */
    if (stopped) {
        q->held--;
    } else {
        if (q->tail != NULL) q->tail->vnext = rc;
        else q->head = rc;
        q->tail = rc;
        pthread_cond_signal(&q->work);
    }
    pthread_mutex_unlock(&q->lock);
    if (stopped) {
        http_problem(&rc->vresp, ATT_E_UNAVAILABLE, NULL, "the daemon is stopping");
        answer(rc);
    }
    return ATT_OK;
}

void http_vqueue_stop(struct http_server *srv)
{
    struct http_vqueue *q = srv->vq;
    if (q == NULL) return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    struct req_ctx *waiting = q->head;
    q->head = q->tail = NULL;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->lock);
    /* requests no worker took: answered, so no connection stays suspended past MHD_stop_daemon */
    for (struct req_ctx *rc = waiting, *next; rc != NULL; rc = next) {
        next = rc->vnext;
        rc->vnext = NULL;
        http_problem(&rc->vresp, ATT_E_UNAVAILABLE, NULL, "the daemon is stopping");
        pthread_mutex_lock(&q->lock);
        q->held--;
        pthread_mutex_unlock(&q->lock);
        answer(rc);
    }
    for (int i = 0; i < q->nthreads; i++) pthread_join(q->threads[i], NULL); /* running requests finish */
    metrics_remove(srv->deps.metrics, q->m_held);
    metrics_remove(srv->deps.metrics, q->m_busy);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q);
    srv->vq = NULL;
}
