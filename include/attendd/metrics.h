/* Metrics registry: counters, gauges and fixed-bucket histograms with optional labels, updated
 * lock-free (atomics) from any thread and rendered in the Prometheus text exposition format. */
#ifndef ATTENDD_METRICS_H
#define ATTENDD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "attendd/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define METRICS_MAX_LABELS 4   /* label pairs per series */
#define METRICS_MAX_BUCKETS 32 /* finite histogram bounds (+Inf is implicit) */

enum metric_type { METRIC_COUNTER = 0, METRIC_GAUGE = 1, METRIC_HISTOGRAM = 2 };

/* The registry. Registration, removal and rendering take one mutex; updating a series never does. */
typedef struct metrics metrics;
/* One series: a family (name, type, help) plus one set of label values. */
typedef struct metric metric;

att_err metrics_new(metrics **out);
/* Frees every series still registered. NULL is a no-op. */
void metrics_free(metrics *m);

/* Register a series. name: [a-zA-Z_:][a-zA-Z0-9_:]*, counters should end in _total. help: one line.
 * labels: NULL, or a NULL-terminated list of name, value pairs ({"camera", id, NULL}); names
 * [a-zA-Z_][a-zA-Z0-9_]* (not "le", not "__*"), values any UTF-8 (escaped on output), at most
 * METRICS_MAX_LABELS pairs. Series of one name form one family: their type and help (and, for
 * histograms, bounds) must agree, else ATT_E_INVALID. The same name with the same label values twice
 * is ATT_E_CONFLICT. *out stays valid until metrics_remove or metrics_free. */
att_err metrics_counter(metrics *m, const char *name, const char *help, const char *const *labels, metric **out);
att_err metrics_gauge(metrics *m, const char *name, const char *help, const char *const *labels, metric **out);
/* bounds: strictly increasing finite upper bounds (n 1..METRICS_MAX_BUCKETS); +Inf is added. */
att_err metrics_histogram(metrics *m, const char *name, const char *help, const char *const *labels,
                          const double *bounds, size_t n, metric **out);
/* A counter or gauge whose value is read by fn(ud) at render time (spool depth, queue length): the
 * source keeps its own number, nothing is copied on the hot path. fn runs under the registry mutex:
 * it must be quick and must not call metrics_* itself. */
att_err metrics_callback(metrics *m, enum metric_type type, const char *name, const char *help,
                         const char *const *labels, double (*fn)(void *ud), void *ud, metric **out);

/* Unregister and free one series (a deleted camera). The caller guarantees no thread updates it any
 * more. NULL is a no-op. */
void metrics_remove(metrics *m, metric *s);

/* Updates: lock-free, any thread, NULL-safe (a module without a registry passes NULL handles).
 * Using a series of the wrong type is a no-op. */
void metric_inc(metric *s);                 /* counter += 1 */
void metric_add(metric *s, uint64_t n);     /* counter += n */
void metric_set(metric *s, double v);       /* gauge = v */
void metric_gauge_add(metric *s, double d); /* gauge += d (negative to decrease) */
void metric_observe(metric *s, double v);   /* histogram: one observation */

/* Current values, for tests and status answers. */
uint64_t metric_counter_value(const metric *s);
double metric_gauge_value(const metric *s);
/* Histogram: observations so far and their sum. */
void metric_histogram_value(const metric *s, uint64_t *count, double *sum);

/* Render every family in the Prometheus text format 0.0.4 (# HELP, # TYPE, samples; histograms as
 * cumulative _bucket{le=...}, _sum, _count). *out is malloc'd and NUL-terminated; *len its length. */
att_err metrics_render(metrics *m, char **out, size_t *len);

/* Content-Type of metrics_render's output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bucket bounds in seconds for stage latencies (1 ms .. 10 s). */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_n;

#ifdef __cplusplus
}
#endif

#endif
