#include "service.h"

#include "audit.h"
#include "auth.h"
#include "bus.h"
#include "consumer.h"
#include "log.h"
#include "outbox.h"
#include "redis.h"

#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

volatile sig_atomic_t service_stop;

static void on_signal(int sig)
{
    (void)sig;
    service_stop = 1;
}

bool service_int(service_t *svc, const char *key, long def, long min,
                 long max, long *out)
{
    char err[256];
    if (config_int(svc->cfg, key, def, min, max, out, err, sizeof(err)))
        return true;
    log_error("config.invalid", "%s", err);
    return false;
}

static void print_usage(const char *name, const char *usage)
{
    printf("usage: kezek-%s [--config FILE]\n\n%s\n"
           "Common settings (file key / environment):\n"
           "  pg / KEZEK_PG                 libpq conninfo "
           "(dbname=kezek)\n"
           "  pg_user                       the role, unless pg "
           "names one (kezek_<service>)\n"
           "  redis / KEZEK_REDIS           host:port or "
           "unix:/path (127.0.0.1:6379)\n"
           "  http_port / KEZEK_HTTP_PORT   HTTP port\n"
           "  http_threads                  worker threads (4); 0: "
           "a thread per connection (intake)\n"
           "  http_max_inflight             requests served at "
           "once; past it 429 (256)\n"
           "  http_max_connections          open connections; past "
           "it 503 (1000)\n"
           "  http_per_ip_connections       connections from one "
           "address (128)\n"
           "  http_request_seconds          a request must arrive "
           "whole within (10)\n"
           "  http_trusted_proxies          the edge's addresses: "
           "their X-Forwarded-For\n"
           "                                names the client (none)\n"
           "  pg_pool                       Postgres connections "
           "for HTTP (http_threads + 1; 33 with 0)\n"
           "  redis_password_file           Redis's password (HA: TCP)\n"
           "  bus_bind / KEZEK_BUS_BIND     this service's PUB "
           "endpoint (its events, its relay's)\n"
           "  bus_endpoints                 every service's PUB "
           "endpoint, comma-separated,\n"
           "                                each name@tcp://…\n"
           "  bus_keys_dir                  CURVE keys of the "
           "services (<name>.key, *.pub);\n"
           "                                unset: a plain, "
           "unauthenticated bus\n"
           "  batch_size                    events per "
           "transaction (100)\n"
           "  batch_linger_ms               under load, wait "
           "this long for a fuller batch (5; 0: never)\n"
           "  gauge_seconds                 refresh of the gauges "
           "that count whole tables (300)\n"
           "  log_level                     debug|info|warn|error\n",
           name, usage);
}

/* --config FILE (else KEZEK_CONFIG) and --help: 1 help printed, -1 a bad
 * argument, 0 go on with *path. */
static int parse_args(const char *name, int argc, char **argv,
                      const char *usage, const char **path)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(name, usage);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *path = argv[++i];
        } else {
            fprintf(stderr, "kezek-%s: unknown argument (try --help)\n",
                    name);
            return -1;
        }
    }
    if (!*path)
        *path = getenv("KEZEK_CONFIG");
    return 0;
}

/* The process: malloc arenas, libsodium, signals. */
static bool process_setup(void)
{
    /* a service's threads (HTTP workers, consumer, relay) share two
     * malloc arenas: one arena per thread kept each its own free memory
     * and grew the resident size with the thread count */
    mallopt(M_ARENA_MAX, 2);
    if (sodium_init() < 0) {
        log_error("sodium.init", "libsodium failed to initialise");
        return false;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return true;
}

/* The common settings: Postgres as the service's role, Redis, the bus,
 * batching; false after logging what is wrong. */
static bool read_settings(service_t *svc)
{
    char role[48], err[512];
    snprintf(role, sizeof(role), "kezek_%s", svc->name);
    svc->conninfo_owned = pg_conninfo_user(
        config_str(svc->cfg, "pg", "dbname=kezek"),
        config_str(svc->cfg, "pg_user", role), err, sizeof(err));
    if (!svc->conninfo_owned) {
        log_error("config.invalid", "pg: %s", err);
        return false;
    }
    svc->conninfo = svc->conninfo_owned;
    pg_common_stmts(spine_stmts);
    svc->redis_addr = config_str(svc->cfg, "redis", "127.0.0.1:6379");
    const char *rpass = config_str(svc->cfg, "redis_password_file", NULL);
    if (rpass && !kredis_password_file(rpass, err, sizeof(err))) {
        log_error("config.invalid", "redis_password_file: %s", err);
        return false;
    }
    svc->bus_endpoints = config_str(svc->cfg, "bus_endpoints",
        "tcp://127.0.0.1:5571,tcp://127.0.0.1:5572,"
        "tcp://127.0.0.1:5573,tcp://127.0.0.1:5574");
    long batch, linger, gauge;
    if (!service_int(svc, "batch_size", 100, 1, 10000, &batch) ||
        !service_int(svc, "batch_linger_ms", 5, 0, 1000, &linger) ||
        !service_int(svc, "gauge_seconds", 300, 10, 86400, &gauge))
        return false;
    svc->batch_size = (int)batch;
    svc->batch_linger_ms = (int)linger;
    svc->gauge_seconds = (int)gauge;
    return true;
}

/* The bus's keys and the relay (this service's PUB socket). */
static bool start_bus(service_t *svc)
{
    char err[512];
    const char *keys = config_str(svc->cfg, "bus_keys_dir", NULL);
    if (keys && *keys && !bus_auth_set(keys, svc->name, err, sizeof(err))) {
        log_error("bus.auth", "%s", err);
        return false;
    }
    if (!keys || !*keys)
        log_warn("bus.auth", "bus_keys_dir not set: the bus is neither "
                 "authenticated nor encrypted");
    const char *bind = config_str(svc->cfg, "bus_bind", NULL);
    if (bind && *bind && strcmp(bind, "none") != 0) {
        svc->relay = relay_start(svc->conninfo, bind, 1000,
                                 svc->batch_linger_ms, &service_stop, err,
                                 sizeof(err));
        if (!svc->relay) {
            log_error("relay.start", "%s", err);
            return false;
        }
        outbox_set_publisher(relay_bus(svc->relay));
    }
    return true;
}

int service_init(service_t *svc, const char *name, int argc, char **argv,
                 const char *usage)
{
    memset(svc, 0, sizeof(*svc));
    svc->name = name;
    const char *path;
    int rc = parse_args(name, argc, argv, usage, &path);
    if (rc)
        return rc;
    char err[512];
    svc->cfg = config_load(path, err, sizeof(err));
    log_init(name, log_level_parse(config_str(svc->cfg, "log_level",
                                              "info")));
    if (!svc->cfg) {
        log_error("config.load", "%s", err);
        return -1;
    }
    if (!process_setup() || !read_settings(svc) || !start_bus(svc))
        return -1;
    /* error messages in Kazakh and Russian (Accept-Language, issue 23) */
    char texts[600];
    snprintf(texts, sizeof(texts), "%s/errors.json",
             config_str(svc->cfg, "templates_dir", "templates"));
    if (!http_error_texts_load(texts, err, sizeof(err)))
        log_warn("http.error_texts", "%s: error messages stay in English",
                 err);
    if (!audit_start(svc->conninfo, &service_stop))
        return -1; /* no read may be served unrecorded (p.17) */
    if (!auth_listen_start(svc->conninfo, &service_stop))
        return -1;
    log_info("service.start", "kezek-%s starting", name);
    return 0;
}

bool service_gauge_tick(const service_t *svc, long tick)
{
    return tick % ((long)svc->gauge_seconds * 10) == 50;
}

/* healthz: Postgres reachable through the pool. */
static bool pg_health(void *ctx, char *detail, size_t len)
{
    service_t *svc = ctx;
    char err[256];
    PGconn *c = pgpool_acquire(svc->pool, err, sizeof(err));
    if (!c) {
        snprintf(detail, len, "postgres unreachable");
        return false;
    }
    bool ok = pg_exec(c, "SELECT 1");
    pgpool_release(svc->pool, c);
    if (!ok)
        snprintf(detail, len, "postgres not answering");
    return ok;
}

/* readyz: Postgres answers, and whatever else the service needs. */
static bool ready(void *ctx, char *detail, size_t len)
{
    service_t *svc = ctx;
    if (!pg_health(svc, detail, len))
        return false;
    return !svc->ready || svc->ready(svc, detail, len);
}

int service_http(service_t *svc, int default_port, int default_threads,
                 const struct pg_stmt *stmts,
                 const struct http_route *routes, void *ctx)
{
    long port, threads, inflight, conns, per_ip, req_s, pool;
    if (!service_int(svc, "http_port", default_port, 1, 65535, &port) ||
        !service_int(svc, "http_threads", default_threads, 0, 256,
                     &threads) ||
        !service_int(svc, "http_max_inflight", 256, 1, 100000, &inflight) ||
        !service_int(svc, "http_max_connections", 1000, 1, 100000,
                     &conns) ||
        !service_int(svc, "http_per_ip_connections", 128, 1, 100000,
                     &per_ip) ||
        !service_int(svc, "http_request_seconds", 10, 1, 3600, &req_s) ||
        !service_int(svc, "pg_pool", threads > 0 ? threads + 1 : 33, 1,
                     150, &pool))
        return -1;
    http_set_trusted_proxies(config_str(svc->cfg, "http_trusted_proxies",
                                        ""));
    struct http_hooks hooks = {.health = pg_health, .ready = ready,
                               .health_ctx = svc,
                               .before = pg_clear_state,
                               .retry_read = pg_lost_here};
    struct http_limits lim = {.threads = (int)threads,
                              .max_inflight = (int)inflight,
                              .max_connections = (int)conns,
                              .per_ip = (int)per_ip,
                              .request_seconds = (int)req_s};
    svc->pool = pgpool_new(svc->conninfo, (int)pool, stmts);
    if (svc->pool && svc->pool_setup)
        pgpool_set_setup(svc->pool, svc->pool_setup);
    char err[256];
    svc->http = http_start(config_str(svc->cfg, "http_bind", "127.0.0.1"),
                           (int)port, &lim, routes, &hooks, ctx, err,
                           sizeof(err));
    if (!svc->http) {
        log_error("http.start", "%s", err);
        return -1;
    }
    log_info("http.listen", "listening on port %ld", port);
    return 0;
}

int service_run(service_t *svc, struct consumer_cfg *cc,
                void *(*watch)(void *), void *watch_arg)
{
    if (!cc->conninfo)
        cc->conninfo = svc->conninfo;
    if (!cc->bus_endpoints)
        cc->bus_endpoints = svc->bus_endpoints;
    if (!cc->batch_size)
        cc->batch_size = svc->batch_size;
    if (!cc->linger_ms)
        cc->linger_ms = svc->batch_linger_ms;
    if (!cc->idle_poll_ms)
        cc->idle_poll_ms = 250;
    pthread_t watcher;
    bool watching = false;
    if (watch) {
        int e = pthread_create(&watcher, NULL, watch, watch_arg);
        if (e != 0) {
            log_error("service.thread", "cannot start the background "
                      "thread: %s", strerror(e));
            return -1;
        }
        watching = true;
    }
    int rc = consumer_run(cc, &service_stop);
    service_stop = 1;
    if (watching)
        pthread_join(watcher, NULL);
    return rc == 0 ? 0 : -1;
}

void service_fini(service_t *svc)
{
    service_stop = 1;
    http_stop(&svc->http);
    relay_destroy(&svc->relay);
    auth_listen_stop();
    audit_stop();
    pgpool_destroy(&svc->pool);
    log_info("service.stop", "kezek-%s stopped", svc->name);
    config_destroy(&svc->cfg);
    free(svc->conninfo_owned);
    svc->conninfo_owned = NULL;
}
