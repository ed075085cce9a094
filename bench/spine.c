/* bench-spine — events per second the spine moves end to end: outbox ->
 * relay (gapless seq) -> bus -> consumer applying one effect row per
 * event and committing its offset with it. Runs batch size 1 (the
 * baseline) and the default batch size in the same run and prints both
 * and their ratio.
 *
 * usage: bench-spine CONNINFO [EVENTS] [BATCH]   (a scratch database:
 * it is migrated and its event tables are emptied). bench/run-spine
 * starts a throwaway Postgres and runs this. */
#include "consumer.h"
#include "log.h"
#include "outbox.h"
#include "relay.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *conninfo;

static enum handle_rc effect(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen)
{
    (void)ctx;
    (void)why;
    (void)whylen;
    char seq[24];
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->seq);
    const char *p[2] = {seq, ev->key};
    return pg_defer(conn, "bench_effect", 2, p, NULL, NULL) ? HANDLE_OK
                                                            : HANDLE_ERROR;
}

static const struct pg_stmt bench_stmts[] = {
    {"bench_effect", "INSERT INTO bench_effect VALUES ($1, $2)"
                     " ON CONFLICT DO NOTHING"},
    {NULL, NULL},
};

struct run {
    struct consumer_cfg cfg;
    volatile sig_atomic_t stop;
};

static void *consume(void *arg)
{
    struct run *r = arg;
    consumer_run(&r->cfg, &r->stop);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r)
                 ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

/* One measured run; returns events per second. */
static double measure(PGconn *c, int events, int batch, int port)
{
    if (!pg_exec(c, "TRUNCATE event_log, event_outbox, consumer_offset,"
                    " dead_letter, bench_effect") ||
        !pg_exec(c, "BEGIN"))
        exit(1);
    for (int i = 0; i < events; i++) {
        char key[32];
        snprintf(key, sizeof(key), "app-%d", i);
        if (!outbox_add(c, "bench", KEZEK__EVENT_TYPE__DECISION_MADE, key,
                        (const uint8_t *)"payload-bytes", 13))
            exit(1);
    }
    if (!pg_exec(c, "COMMIT"))
        exit(1);

    char ep[64], err[256];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
    volatile sig_atomic_t stop = 0;
    double t0 = now_s();
    relay_t *relay = relay_start(conninfo, ep, 1000, 5, &stop, err,
                                 sizeof(err));
    if (!relay) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct run r = {.cfg = {.name = "bench", .conninfo = conninfo,
                            .stmts = bench_stmts, .bus_endpoints = ep,
                            .batch_size = batch, .idle_poll_ms = 5,
                            .handle = effect}};
    pthread_t t;
    pthread_create(&t, NULL, consume, &r);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT last_seq FROM consumer_offset"
                               " WHERE consumer = 'bench'");
    while (scalar(c, sql) < events)
        usleep(2000);
    double secs = now_s() - t0;
    r.stop = 1;
    stop = 1;
    pthread_join(t, NULL);
    relay_destroy(&relay);
    if (scalar(c, "SELECT count(*) FROM bench_effect") != events) {
        fprintf(stderr, "bench: effects missing\n");
        exit(1);
    }
    return events / secs;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-spine CONNINFO [EVENTS] [BATCH]\n");
        return 2;
    }
    conninfo = argv[1];
    pg_common_stmts(spine_stmts);
    int events = argc > 2 ? atoi(argv[2]) : 20000;
    int batch = argc > 3 ? atoi(argv[3]) : 100;
    log_init("bench", LOG_WARN);
    char err[512];
    PGconn *c = pg_connect_plain(conninfo, err, sizeof(err));
    if (!c || !pg_migrate(c, err, sizeof(err)) ||
        !pg_exec(c, "CREATE TABLE IF NOT EXISTS bench_effect"
                    " (seq bigint PRIMARY KEY, key text NOT NULL)")) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    PQfinish(c);
    c = pg_connect(conninfo, NULL, err, sizeof(err));
    int base_events = events / 4 > 0 ? events / 4 : 1;
    double base = measure(c, base_events, 1, 5591);
    double fast = measure(c, events, batch, 5592);
    printf("spine end to end (outbox -> relay -> bus -> consumer):\n"
           "  batch size 1:   %8.0f events/s  (%d events)\n"
           "  batch size %-3d  %8.0f events/s  (%d events)\n"
           "  ratio:          %8.1fx\n",
           base, base_events, batch, fast, events, fast / base);
    PQfinish(c);
    return 0;
}
