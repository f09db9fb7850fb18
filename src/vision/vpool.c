/* Pipeline pool: a stack of free av_pipeline pointers behind a mutex and condition variable. */
#include "attendd/vpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "attendd/time.h"

struct vpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;     /* signalled when a pipeline comes back */
    av_pipeline **all;        /* every pipeline, for freeing */
    av_pipeline **idle;       /* stack of free pipelines */
    av_confirm_net **confirm; /* confirm[i]: the confirming network paired with all[i] (NULL: none) */
    int n, nidle;
};

att_err vpool_new(const av_models *m, int n, vpool **out, char *err, size_t errlen)
{
    if (n < 1) {
        snprintf(err, errlen, "vision pool size must be >= 1");
        return ATT_E_CONFIG;
    }
    vpool *p = calloc(1, sizeof *p);
    if (!p || !(p->all = calloc((size_t)n, sizeof *p->all)) || !(p->idle = calloc((size_t)n, sizeof *p->idle))) {
        if (p) free(p->all);
        free(p);
        return ATT_E_NOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < n; i++) {
        av_err e;
        if (av_pipeline_new(m, 0, &p->all[i], &e) != AV_OK) {
            snprintf(err, errlen, "vision pipeline %d: %s", i, e.msg);
            p->n = i;
            p->nidle = i;
            vpool_free(p);
            return e.code == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL;
        }
        p->idle[i] = p->all[i];
    }
    p->n = p->nidle = n;
    *out = p;
    return ATT_OK;
}

att_err vpool_acquire(vpool *pool, int timeout_ms, av_pipeline **out)
{
    struct timespec dl = att_time_timespec(att_time_deadline((int64_t)timeout_ms * 1000));
    pthread_mutex_lock(&pool->lock);
    while (pool->nidle == 0) {
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &dl) == ETIMEDOUT && pool->nidle == 0) {
            pthread_mutex_unlock(&pool->lock);
            return ATT_E_UNAVAILABLE;
        }
    }
    *out = pool->idle[--pool->nidle];
    pthread_mutex_unlock(&pool->lock);
    return ATT_OK;
}

void vpool_release(vpool *pool, av_pipeline *p)
{
    pthread_mutex_lock(&pool->lock);
    pool->idle[pool->nidle++] = p;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

void vpool_free(vpool *pool)
{
    if (!pool) return;
    for (int i = 0; i < pool->n; i++) {
        av_pipeline_free(pool->all[i]);
        if (pool->confirm) av_confirm_net_free(pool->confirm[i]);
    }
    free(pool->confirm);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->lock);
    free(pool->all);
    free(pool->idle);
    free(pool);
}

att_err vpool_confirm_new(vpool *pool, const av_confirm_models *cm, char *err, size_t errlen)
{
    if (!pool || !cm || pool->confirm) {
        snprintf(err, errlen, "confirming networks: no pool or models, or made already");
        return ATT_E_INVALID;
    }
    av_confirm_net **nets = calloc((size_t)pool->n, sizeof *nets);
    if (!nets) return ATT_E_NOMEM;
    for (int i = 0; i < pool->n; i++) {
        av_err e;
        if (av_confirm_net_new(cm, &nets[i], &e) != AV_OK) {
            snprintf(err, errlen, "confirming network %d: %s", i, e.msg);
            for (int j = 0; j < i; j++) av_confirm_net_free(nets[j]);
            free(nets);
            return e.code == AV_E_NOMEM ? ATT_E_NOMEM : ATT_E_INTERNAL;
        }
    }
    pool->confirm = nets;
    return ATT_OK;
}

av_confirm_net *vpool_confirm(const vpool *pool, const av_pipeline *p)
{
    if (!pool || !pool->confirm) return NULL;
    for (int i = 0; i < pool->n; i++)
        if (pool->all[i] == p) return pool->confirm[i];
    return NULL;
}
