/* lib/metrics: Prometheus text exposition — the channel through which
 * operators watch terms (p.7) and the appendix 4 indicators (p.18). */
#include "metrics.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(metrics, counters_gauges_histograms_render)
{
    metric_t *a = metrics_counter("t_events_total", "Events", "c=\"a\"");
    metric_t *g = metrics_gauge("t_lag", "Lag", NULL);
    metric_t *b = metrics_counter("t_events_total", "Events", "c=\"b\"");
    metric_t *h = metrics_histogram("t_secs", "Seconds", NULL,
                                    (const double[]){0.1, 1}, 2);
    cr_assert_eq(a, metrics_counter("t_events_total", "Events", "c=\"a\""));
    metric_add(a, 3);
    metric_inc(b);
    metric_set(g, 7);
    metric_observe(h, 0.05);
    metric_observe(h, 0.5);
    metric_observe(h, 5);
    char *text = metrics_render();
    cr_assert(strstr(text, "# TYPE t_events_total counter\n"
                           "t_events_total{c=\"a\"} 3\n"
                           "t_events_total{c=\"b\"} 1\n"),
              "families must be contiguous:\n%s", text);
    cr_assert(strstr(text, "t_lag 7\n"));
    cr_assert(strstr(text, "t_secs_bucket{le=\"0.1\"} 1\n"));
    cr_assert(strstr(text, "t_secs_bucket{le=\"1\"} 2\n"));
    cr_assert(strstr(text, "t_secs_bucket{le=\"+Inf\"} 3\n"));
    cr_assert(strstr(text, "t_secs_count 3\n"));
    free(text);
}

/* Issue 21: what comes from data is escaped in a label value, and the
 * series are capped — a flood of distinct values cannot grow the
 * registry (or the exposition) without bound. */
Test(metrics, label_values_escaped_and_series_capped)
{
    char v[64], l[96];
    snprintf(l, sizeof(l), "authority=\"%s\"",
             metrics_label_escape(v, sizeof(v), "a\"b\\c\nd"));
    metric_inc(metrics_counter("t_escaped_total", "Escaped", l));
    metrics_counter("kezek_metrics_series_dropped_total", "Dropped", NULL);
    char *text = metrics_render();
    cr_assert(strstr(text, "t_escaped_total{authority=\"a\\\"b\\\\c\\nd\"} 1"),
              "%s", text);
    free(text);
    for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
        snprintf(l, sizeof(l), "n=\"%d\"", i);
        metric_inc(metrics_counter("t_flood_total", "Flood", l));
    }
    text = metrics_render();
    cr_assert_null(strstr(text, "t_flood_total{n=\"4999\"}"),
                   "series past the cap are not rendered");
    cr_assert_geq(metric_value(metrics_counter(
                      "kezek_metrics_series_dropped_total", "Dropped",
                      NULL)), 10);
    free(text);
}
