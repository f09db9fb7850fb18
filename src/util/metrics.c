/* Metrics registry (include/attendd/metrics.h): families of labelled series whose values are plain
 * atomics, so hot paths (capture, detection, the event writer) never take a lock to count. */
#include "attendd/metrics.h"
#include "attendd/text_buf.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One metric name: what # HELP and # TYPE say once for all of its series. */
struct family {
    char *name;
    char *help;
    enum metric_type type;
    double bounds[METRICS_MAX_BUCKETS]; /* histograms: finite upper bounds, increasing */
    size_t nbounds;
    struct metric *head, *tail; /* series in registration order */
    struct family *next;
};

struct metric {
    struct family *fam;
    char *labels;         /* rendered `a="x",b="y"`, or "" */
    double (*fn)(void *); /* callback series: value read at render time */
    void *ud;
    _Atomic uint64_t value;    /* counter: the count; gauge: the bits of a double */
    _Atomic uint64_t sum_bits; /* histogram: bits of the double sum */
    _Atomic uint64_t *buckets; /* histogram: per-bucket (not cumulative) counts, nbounds+1 */
    struct metric *next;
};

struct metrics {
    pthread_mutex_t lock; /* guards the lists; never taken by updates */
    struct family *head, *tail;
};

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const size_t metrics_latency_buckets_n = sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

/* ---- doubles in atomics ------------------------------------------------------------------------ */

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Add to a double kept as bits: compare-and-swap until no other thread got in between. */
static void atomic_add_double(_Atomic uint64_t *a, double d)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, d2u(u2d(old) + d), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

/* ---- validation -------------------------------------------------------------------------------- */

static bool name_ok(const char *s, bool colon)
{
    if (!s || !*s) return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return strlen(s) <= 200;
}

/* The exposition format's escapes: \\ and \n everywhere, \" inside label values. */
static void buf_escaped(struct text_buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\') text_buf_str(b, "\\\\");
        else if (*s == '\n') text_buf_str(b, "\\n");
        else if (quote && *s == '"') text_buf_str(b, "\\\"");
        else text_buf_add(b, s, 1);
    }
}

/* Render labels to `a="x",b="y"` (malloc'd), checking names and the pair count. */
static att_err render_labels(const char *const *labels, char **out)
{
    *out = NULL;
    struct text_buf b = {0};
    text_buf_str(&b, "");
    size_t pairs = 0;
    for (const char *const *l = labels; l && l[0]; l += 2) {
        if (!l[1] || ++pairs > METRICS_MAX_LABELS || !name_ok(l[0], false) || strcmp(l[0], "le") == 0 ||
            strncmp(l[0], "__", 2) == 0) {
            free(b.p);
            return ATT_E_INVALID;
        }
        /* each name once: Prometheus refuses a series with a repeated label */
        for (const char *const *k = labels; k != l; k += 2)
            if (strcmp(k[0], l[0]) == 0) {
                free(b.p);
                return ATT_E_INVALID;
            }
        if (pairs > 1) text_buf_str(&b, ",");
        text_buf_str(&b, l[0]);
        text_buf_str(&b, "=\"");
        buf_escaped(&b, l[1], true);
        text_buf_str(&b, "\"");
    }
    if (b.oom) {
        free(b.p);
        return ATT_E_NOMEM;
    }
    *out = b.p;
    return ATT_OK;
}

/* ---- registry ---------------------------------------------------------------------------------- */

att_err metrics_new(metrics **out)
{
    *out = NULL;
    metrics *m = calloc(1, sizeof *m);
    if (!m) return ATT_E_NOMEM;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return ATT_E_INTERNAL;
    }
    *out = m;
    return ATT_OK;
}

static void series_free(metric *s)
{
    free(s->labels);
    free(s->buckets);
    free(s);
}

void metrics_free(metrics *m)
{
    if (!m) return;
    struct family *f = m->head;
    while (f) {
        struct family *fn = f->next;
        metric *s = f->head;
        while (s) {
            metric *sn = s->next;
            series_free(s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static att_err add_series(metrics *m, enum metric_type type, const char *name, const char *help,
                          const char *const *labels, const double *bounds, size_t nb, double (*fn)(void *), void *ud,
                          metric **out)
{
    *out = NULL;
    if (!m || !name_ok(name, true) || !help || strchr(help, '\n')) return ATT_E_INVALID;
    if (type == METRIC_HISTOGRAM) {
        if (!bounds || nb < 1 || nb > METRICS_MAX_BUCKETS) return ATT_E_INVALID;
        for (size_t i = 0; i < nb; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) return ATT_E_INVALID;
    }
    metric *s = calloc(1, sizeof *s);
    if (!s) return ATT_E_NOMEM;
    att_err rc = render_labels(labels, &s->labels);
    if (rc != ATT_OK) {
        free(s);
        return rc;
    }
    s->fn = fn;
    s->ud = ud;
    if (type == METRIC_HISTOGRAM) {
        s->buckets = calloc(nb + 1, sizeof *s->buckets);
        if (!s->buckets) {
            series_free(s);
            return ATT_E_NOMEM;
        }
        for (size_t i = 0; i <= nb; i++) atomic_init(&s->buckets[i], 0);
        atomic_init(&s->sum_bits, d2u(0.0));
    }
    atomic_init(&s->value, type == METRIC_GAUGE ? d2u(0.0) : 0);

    pthread_mutex_lock(&m->lock);
    struct family *f = m->head;
    while (f && strcmp(f->name, name) != 0) f = f->next;
    if (f) {
        bool same = f->type == type && strcmp(f->help, help) == 0 &&
            (type != METRIC_HISTOGRAM || (f->nbounds == nb && memcmp(f->bounds, bounds, nb * sizeof *bounds) == 0));
        if (!same) rc = ATT_E_INVALID;
        for (metric *o = f->head; rc == ATT_OK && o; o = o->next)
            if (strcmp(o->labels, s->labels) == 0) rc = ATT_E_CONFLICT;
    } else {
        f = calloc(1, sizeof *f);
        if (f) {
            f->name = strdup(name);
            f->help = strdup(help);
            f->type = type;
            f->nbounds = type == METRIC_HISTOGRAM ? nb : 0;
            if (f->nbounds) memcpy(f->bounds, bounds, nb * sizeof *bounds);
        }
        if (!f || !f->name || !f->help) {
            if (f) {
                free(f->name);
                free(f->help);
                free(f);
            }
            rc = ATT_E_NOMEM;
        } else {
            if (m->tail) m->tail->next = f;
            else m->head = f;
            m->tail = f;
        }
    }
    if (rc == ATT_OK) {
        s->fam = f;
        if (f->tail) f->tail->next = s;
        else f->head = s;
        f->tail = s;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != ATT_OK) {
        series_free(s);
        return rc;
    }
    *out = s;
    return ATT_OK;
}

att_err metrics_counter(metrics *m, const char *name, const char *help, const char *const *labels, metric **out)
{
    return add_series(m, METRIC_COUNTER, name, help, labels, NULL, 0, NULL, NULL, out);
}

att_err metrics_gauge(metrics *m, const char *name, const char *help, const char *const *labels, metric **out)
{
    return add_series(m, METRIC_GAUGE, name, help, labels, NULL, 0, NULL, NULL, out);
}

att_err metrics_histogram(metrics *m, const char *name, const char *help, const char *const *labels,
                          const double *bounds, size_t n, metric **out)
{
    return add_series(m, METRIC_HISTOGRAM, name, help, labels, bounds, n, NULL, NULL, out);
}

att_err metrics_callback(metrics *m, enum metric_type type, const char *name, const char *help,
                         const char *const *labels, double (*fn)(void *ud), void *ud, metric **out)
{
    if ((type != METRIC_COUNTER && type != METRIC_GAUGE) || !fn) {
        *out = NULL;
        return ATT_E_INVALID;
    }
    return add_series(m, type, name, help, labels, NULL, 0, fn, ud, out);
}

void metrics_remove(metrics *m, metric *s)
{
    if (!m || !s) return;
    pthread_mutex_lock(&m->lock);
    struct family *f = s->fam, *fprev = NULL;
    for (struct family *x = m->head; x && x != f; x = x->next) fprev = x;
    metric *prev = NULL;
    for (metric *x = f->head; x && x != s; x = x->next) prev = x;
    if (prev) prev->next = s->next;
    else f->head = s->next;
    if (f->tail == s) f->tail = prev;
    if (!f->head) { /* the last series of its family: the family goes too */
        if (fprev) fprev->next = f->next;
        else m->head = f->next;
        if (m->tail == f) m->tail = fprev;
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_unlock(&m->lock);
    series_free(s);
}

/* ---- updates ------------------------------------------------------------------------------------ */

static enum metric_type type_of(const metric *s) { return s->fam->type; }

void metric_inc(metric *s) { metric_add(s, 1); }

void metric_add(metric *s, uint64_t n)
{
    if (s && !s->fn && type_of(s) == METRIC_COUNTER) atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void metric_set(metric *s, double v)
{
    if (s && !s->fn && type_of(s) == METRIC_GAUGE) atomic_store_explicit(&s->value, d2u(v), memory_order_relaxed);
}

void metric_gauge_add(metric *s, double d)
{
    if (s && !s->fn && type_of(s) == METRIC_GAUGE) atomic_add_double(&s->value, d);
}

void metric_observe(metric *s, double v)
{
    if (!s || type_of(s) != METRIC_HISTOGRAM || isnan(v)) return;
    const struct family *f = s->fam;
    size_t lo = 0, hi = f->nbounds; /* first bound >= v; nbounds is +Inf */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->bounds[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    atomic_add_double(&s->sum_bits, v);
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
}

uint64_t metric_counter_value(const metric *s)
{
    if (!s || type_of(s) != METRIC_COUNTER) return 0;
    if (s->fn) return (uint64_t)s->fn(s->ud);
    return atomic_load_explicit(&((metric *)s)->value, memory_order_relaxed);
}

double metric_gauge_value(const metric *s)
{
    if (!s || type_of(s) != METRIC_GAUGE) return 0;
    if (s->fn) return s->fn(s->ud);
    return u2d(atomic_load_explicit(&((metric *)s)->value, memory_order_relaxed));
}

void metric_histogram_value(const metric *s, uint64_t *count, double *sum)
{
    *count = 0;
    *sum = 0;
    if (!s || type_of(s) != METRIC_HISTOGRAM) return;
    for (size_t i = 0; i <= s->fam->nbounds; i++)
        *count += atomic_load_explicit(&((metric *)s)->buckets[i], memory_order_relaxed);
    *sum = u2d(atomic_load_explicit(&((metric *)s)->sum_bits, memory_order_relaxed));
}

/* ---- exposition ---------------------------------------------------------------------------------- */

/* Go-style float text: integers without exponent, otherwise the shortest form that reads back. */
static void fmt_double(double v, char out[40])
{
    if (isnan(v)) snprintf(out, 40, "NaN");
    else if (isinf(v)) snprintf(out, 40, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(out, 40, "%.0f", v);
    else {
        snprintf(out, 40, "%.15g", v);
        if (strtod(out, NULL) != v) snprintf(out, 40, "%.17g", v);
    }
}

static void sample(struct text_buf *b, const char *name, const char *suffix, const char *labels, const char *extra,
                   const char *value)
{
    text_buf_str(b, name);
    text_buf_str(b, suffix);
    if (*labels || extra) {
        text_buf_str(b, "{");
        text_buf_str(b, labels);
        if (extra) {
            if (*labels) text_buf_str(b, ",");
            text_buf_str(b, extra);
        }
        text_buf_str(b, "}");
    }
    text_buf_str(b, " ");
    text_buf_str(b, value);
    text_buf_str(b, "\n");
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

att_err metrics_render(metrics *m, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!m) return ATT_E_INVALID;
    struct text_buf b = {0};
    text_buf_str(&b, "");
    char v[40], le[64];
    pthread_mutex_lock(&m->lock);
    for (struct family *f = m->head; f; f = f->next) {
        text_buf_str(&b, "# HELP ");
        text_buf_str(&b, f->name);
        text_buf_str(&b, " ");
        buf_escaped(&b, f->help, false);
        text_buf_str(&b, "\n# TYPE ");
        text_buf_str(&b, f->name);
        text_buf_str(&b, " ");
        text_buf_str(&b, type_name(f->type));
        text_buf_str(&b, "\n");
        for (metric *s = f->head; s; s = s->next) {
            if (f->type == METRIC_COUNTER && !s->fn) {
                snprintf(v, sizeof v, "%llu",
                         (unsigned long long)atomic_load_explicit(&s->value, memory_order_relaxed));
                sample(&b, f->name, "", s->labels, NULL, v);
            } else if (f->type != METRIC_HISTOGRAM) {
                fmt_double(s->fn ? s->fn(s->ud) : u2d(atomic_load_explicit(&s->value, memory_order_relaxed)), v);
                sample(&b, f->name, "", s->labels, NULL, v);
            } else {
                /* Read each bucket once and derive the running total and _count from the same
                 * reads, so the exposition is consistent (cumulative, +Inf == _count) even while
                 * other threads observe. */
                uint64_t cum = 0;
                for (size_t i = 0; i <= f->nbounds; i++) {
                    cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
                    char bound[40];
                    if (i < f->nbounds) fmt_double(f->bounds[i], bound);
                    else snprintf(bound, sizeof bound, "+Inf");
                    snprintf(le, sizeof le, "le=\"%s\"", bound);
                    snprintf(v, sizeof v, "%llu", (unsigned long long)cum);
                    sample(&b, f->name, "_bucket", s->labels, le, v);
                }
                fmt_double(u2d(atomic_load_explicit(&s->sum_bits, memory_order_relaxed)), v);
                sample(&b, f->name, "_sum", s->labels, NULL, v);
                snprintf(v, sizeof v, "%llu", (unsigned long long)cum);
                sample(&b, f->name, "_count", s->labels, NULL, v);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (b.oom) {
        free(b.p);
        return ATT_E_NOMEM;
    }
    *out = b.p;
    *len = b.len;
    return ATT_OK;
}
