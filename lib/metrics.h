/* metrics — a process-wide Prometheus registry.
 *
 * Metrics are created once (lookups return the same metric for the same
 * name and labels) and updated lock-free from any thread. labels is the
 * text inside the braces, e.g. `consumer="queue"`, or NULL. */
#ifndef KEZEK_METRICS_H
#define KEZEK_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metric metric_t;

metric_t *metrics_counter(const char *name, const char *help,
                          const char *labels);
metric_t *metrics_gauge(const char *name, const char *help,
                        const char *labels);
/* Seconds-oriented default buckets when buckets is NULL. */
metric_t *metrics_histogram(const char *name, const char *help,
                            const char *labels, const double *buckets,
                            size_t nbuckets);

/* A label value as the exposition format wants it (\\, \" and \n
 * escaped), for values that come from data; out is cut to cap. */
const char *metrics_label_escape(char *out, size_t cap, const char *value);

/* At most METRICS_MAX_SERIES series: a lookup past it returns a metric
 * that is updated but never rendered, and counts
 * kezek_metrics_series_dropped_total. */
#define METRICS_MAX_SERIES 5000

void metric_add(metric_t *m, uint64_t n);
#define metric_inc(m) metric_add((m), 1)
void metric_set(metric_t *m, double v);
void metric_observe(metric_t *m, double v);
double metric_value(metric_t *m); /* counter or gauge; for tests */

/* The exposition text; caller frees. */
char *metrics_render(void);

#endif
