#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metric_kind { M_COUNTER, M_GAUGE, M_HISTOGRAM };

#define HIST_MAX 16

struct metric {
    enum metric_kind kind;
    char name[96];
    char help[160];
    char labels[160];
    _Atomic uint64_t count;       /* counter value / histogram count */
    _Atomic uint64_t gauge_bits;  /* gauge value / histogram sum */
    size_t nbuckets;
    double bounds[HIST_MAX];
    _Atomic uint64_t buckets[HIST_MAX];
    struct metric *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *reg_head, *reg_tail;
static int reg_count;
static struct metric overflow; /* the sink past METRICS_MAX_SERIES */
static struct metric *dropped;

const char *metrics_label_escape(char *out, size_t cap, const char *value)
{
    size_t n = 0;
    for (const char *v = value; *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[n++] = '\\';
            out[n++] = *v;
        } else if (*v == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *v;
        }
    }
    out[n] = '\0';
    return out;
}

static const double default_buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    2.5, 5, 10};

static metric_t *metrics_get(enum metric_kind kind, const char *name,
                             const char *help, const char *labels,
                             const double *b, size_t nb)
{
    pthread_mutex_lock(&reg_lock);
    struct metric *m;
    for (m = reg_head; m; m = m->next)
        if (strcmp(m->name, name) == 0 &&
            strcmp(m->labels, labels ? labels : "") == 0)
            goto out;
    if (reg_count >= METRICS_MAX_SERIES) {
        if (dropped)
            atomic_fetch_add(&dropped->count, 1);
        m = &overflow;
        goto out;
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    reg_count++;
    m->kind = kind;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->help, sizeof(m->help), "%s", help);
    snprintf(m->labels, sizeof(m->labels), "%s", labels ? labels : "");
    if (kind == M_HISTOGRAM) {
        if (!b) {
            b = default_buckets;
            nb = sizeof(default_buckets) / sizeof(default_buckets[0]);
        }
        m->nbuckets = nb > HIST_MAX ? HIST_MAX : nb;
        memcpy(m->bounds, b, m->nbuckets * sizeof(double));
    }
    /* keep a family's series together: insert after its last one */
    struct metric *after = NULL;
    for (struct metric *x = reg_head; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            after = x;
    if (!after)
        after = reg_tail;
    if (after) {
        m->next = after->next;
        after->next = m;
    } else {
        reg_head = m;
    }
    if (!m->next)
        reg_tail = m;
    if (!dropped && strcmp(name, "kezek_metrics_series_dropped_total") == 0)
        dropped = m;
out:
    pthread_mutex_unlock(&reg_lock);
    return m;
}

metric_t *metrics_counter(const char *name, const char *help,
                          const char *labels)
{
    return metrics_get(M_COUNTER, name, help, labels, NULL, 0);
}

metric_t *metrics_gauge(const char *name, const char *help,
                        const char *labels)
{
    return metrics_get(M_GAUGE, name, help, labels, NULL, 0);
}

metric_t *metrics_histogram(const char *name, const char *help,
                            const char *labels, const double *buckets,
                            size_t nbuckets)
{
    return metrics_get(M_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

void metric_add(metric_t *m, uint64_t n)
{
    atomic_fetch_add(&m->count, n);
}

void metric_set(metric_t *m, double v)
{
    atomic_store(&m->gauge_bits, double_to_bits(v));
}

void metric_observe(metric_t *m, double v)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        if (v <= m->bounds[i])
            atomic_fetch_add(&m->buckets[i], 1);
    atomic_fetch_add(&m->count, 1);
    uint64_t old = atomic_load(&m->gauge_bits);
    while (!atomic_compare_exchange_weak(&m->gauge_bits, &old,
               double_to_bits(bits_to_double(old) + v)))
        ;
}

double metric_value(metric_t *m)
{
    if (m->kind == M_GAUGE)
        return bits_to_double(atomic_load(&m->gauge_bits));
    return (double)atomic_load(&m->count);
}

struct sbuf {
    char *p;
    size_t n, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)k + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
}

/* name{labels,extra} with the right commas. */
static void sb_series(struct sbuf *b, const char *name, const char *suffix,
                      const char *labels, const char *extra)
{
    sb_printf(b, "%s%s", name, suffix);
    if (*labels || extra) {
        sb_printf(b, "{%s%s%s}", labels, (*labels && extra) ? "," : "",
                  extra ? extra : "");
    }
}

char *metrics_render(void)
{
    struct sbuf b = {malloc(4096), 0, 4096};
    if (!b.p)
        abort();
    b.p[0] = '\0';
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&reg_lock);
    for (struct metric *m = reg_head; m; m = m->next) {
        /* TYPE once per family: first series of that name */
        struct metric *f = reg_head;
        while (strcmp(f->name, m->name) != 0)
            f = f->next;
        if (f == m)
            sb_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
                      m->name, kinds[m->kind]);
        if (m->kind == M_COUNTER) {
            sb_series(&b, m->name, "", m->labels, NULL);
            sb_printf(&b, " %llu\n",
                      (unsigned long long)atomic_load(&m->count));
        } else if (m->kind == M_GAUGE) {
            sb_series(&b, m->name, "", m->labels, NULL);
            sb_printf(&b, " %.17g\n",
                      bits_to_double(atomic_load(&m->gauge_bits)));
        } else {
            char le[48];
            for (size_t i = 0; i < m->nbuckets; i++) {
                snprintf(le, sizeof(le), "le=\"%g\"", m->bounds[i]);
                sb_series(&b, m->name, "_bucket", m->labels, le);
                sb_printf(&b, " %llu\n",
                          (unsigned long long)atomic_load(&m->buckets[i]));
            }
            sb_series(&b, m->name, "_bucket", m->labels, "le=\"+Inf\"");
            sb_printf(&b, " %llu\n",
                      (unsigned long long)atomic_load(&m->count));
            sb_series(&b, m->name, "_sum", m->labels, NULL);
            sb_printf(&b, " %.17g\n",
                      bits_to_double(atomic_load(&m->gauge_bits)));
            sb_series(&b, m->name, "_count", m->labels, NULL);
            sb_printf(&b, " %llu\n",
                      (unsigned long long)atomic_load(&m->count));
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return b.p;
}
