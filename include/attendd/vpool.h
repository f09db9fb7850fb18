/* A fixed pool of vision pipelines (one set of networks each) shared by request threads:
 * cv::dnn::Net is not safe to run from two threads at once, so a thread borrows one. */
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
/* Free all pipelines; none may be borrowed. Accepts NULL. */
void vpool_free(vpool *pool);

#endif
