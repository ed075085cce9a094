/* service — what every Kezek process does the same way: command line,
 * config with KEZEK_* overrides, JSON logs, signals, the relay thread,
 * the HTTP server with /healthz and /metrics, a Postgres pool. */
#ifndef KEZEK_SERVICE_H
#define KEZEK_SERVICE_H

#include "config.h"
#include "http.h"
#include "pg.h"
#include "relay.h"

#include <signal.h>

typedef struct service {
    const char *name;          /* "intake" */
    config_t *cfg;
    const char *conninfo;      /* "pg", as the role kezek_<name> unless
                                * it names a user */
    const char *redis_addr;
    const char *bus_endpoints;
    /* run on each connection of the HTTP pool (NULL: nothing), set
     * before service_http */
    const char *pool_setup;
    int batch_size;
    int batch_linger_ms;       /* under load: wait this long to fill a batch */
    int gauge_seconds;         /* gauges that count whole tables: how often */
    /* GET /readyz beyond Postgres (the queue: Redis); set before
     * service_http; may be NULL */
    bool (*ready)(struct service *svc, char *detail, size_t len);
    char *conninfo_owned;
    pgpool_t *pool;
    relay_t *relay;
    http_server_t *http;
} service_t;

extern volatile sig_atomic_t service_stop;

/* Parses argv (--config FILE, --help), loads the config, sets up logs
 * and signals and starts the relay. Returns 0 to go on, 1 when --help
 * was printed (exit 0), -1 on error (logged; exit 1). */
int service_init(service_t *svc, const char *name, int argc, char **argv,
                 const char *usage);

/* Creates the Postgres pool (pg_pool connections: http_threads + 1, or
 * 33 with a thread per connection; each with stmts prepared, and
 * pool_setup run) and starts the HTTP server on the configured port
 * (default_port) with http_threads workers (default_threads; 0: a
 * thread per connection). /healthz
 * reports Postgres reachable through the pool. ctx is passed to every
 * handler. */
int service_http(service_t *svc, int default_port, int default_threads,
                 const struct pg_stmt *stmts,
                 const struct http_route *routes, void *ctx);

/* For a loop that ticks every 100 ms: whether this tick refreshes the
 * gauges that count whole tables — the first a few seconds after the
 * start, then every gauge_seconds. */
bool service_gauge_tick(const service_t *svc, long tick);

/* The common tail of a service's main(): starts watch(watch_arg) on a
 * thread of its own (NULL: none) for the service's background work
 * (sweeps, gauges, the mailer), runs the consumer group cc until
 * service_stop, then stops and joins the watcher. cc's conninfo,
 * bus_endpoints, batch_size and linger_ms come from the service when
 * unset (zero), idle_poll_ms is 250 unless set. Returns 0 when the
 * consumer ended cleanly, -1 when it failed or a thread could not be
 * started (logged). The caller then frees its own and calls
 * service_fini. */
struct consumer_cfg;
int service_run(service_t *svc, struct consumer_cfg *cc,
                void *(*watch)(void *), void *watch_arg);

/* Stops HTTP and the relay, frees everything. */
void service_fini(service_t *svc);

/* Reads an int setting; logs and returns false if it is invalid. */
bool service_int(service_t *svc, const char *key, long def, long min,
                 long max, long *out) __attribute__((warn_unused_result));

#endif
