/* A fixed pool of vision pipelines (one set of networks each, and optionally a confirming network
 * each) shared by request threads: neither cv::dnn::Net nor a dlib network is safe to run from two
 * threads at once, so a thread borrows one pipeline and the confirming network that goes with it. */
#ifndef ATTENDD_VPOOL_H
#define ATTENDD_VPOOL_H

#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/vision.h"

typedef struct vpool vpool;

/* Build n pipelines over m (m must outlive the pool). err says which failed and why. */
att_err vpool_new(const av_models *m, int n, vpool **out, char *err, size_t errlen);
/* Borrow a pipeline, waiting up to timeout_ms; ATT_E_UNAVAILABLE on timeout (caller answers 503). */
att_err vpool_acquire(vpool *pool, int timeout_ms, av_pipeline **out);
void vpool_release(vpool *pool, av_pipeline *p);
/* Pair every pipeline with a confirming network made from cm (cm must outlive the pool). Call once,
 * before the pool is shared. ATT_E_INVALID when called twice; err says which network failed. */
att_err vpool_confirm_new(vpool *pool, const av_confirm_models *cm, char *err, size_t errlen);
/* The confirming network paired with p, a pipeline borrowed from pool (only its borrower may use it);
 * NULL when the pool has none. */
av_confirm_net *vpool_confirm(const vpool *pool, const av_pipeline *p);
/* Free all pipelines (and their confirming networks); none may be borrowed. Accepts NULL. */
void vpool_free(vpool *pool);

#endif
