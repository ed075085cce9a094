/* lib/metrics: Prometheus text exposition — the channel through which
 * operators watch terms (p.7) and the appendix 4 indicators (p.18). */
#include "metrics.h"

#include <criterion/criterion.h>
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
