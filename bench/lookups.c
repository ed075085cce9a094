/* bench-lookups — position look-ups over HTTP against a list of SIZE
 * entries generated directly in Postgres, after timing the Redis
 * rebuild of the view (issue 6 benchmark).
 *
 *   bench-lookups CONNINFO REDIS QUEUE_URL OPS_TOKEN SIZE
 *                 [CLIENTS=32] [SECONDS=10] [FEW_CLIENTS=0]
 *
 * With FEW_CLIENTS, a second run of SECONDS with that many clients
 * follows: on two shared cores, 32 clients measure mostly their own
 * queueing (the same look-ups per second at 4 clients, a tenth of the
 * latency), so the latency of the service is read there.
 *
 *   bench-lookups --floor QUEUE_URL [CLIENTS=32] [SECONDS=10]
 *
 * measures the floor instead: the same client against a path no route
 * serves (404 from the router: libmicrohttpd, the router and a small JSON
 * body; no token, Redis, Postgres or audit row). No look-up can be
 * faster on this machine with this client; bench/run reports look-ups
 * against it, as it reports applications against pgbench.
 *
 * Uses the synthetic authority "bench-lookups" (no reference row, so it
 * never mixes with real lists) and replaces its wwii list each run.
 * Prints one JSON line. */
#include "benchkit.h"
#include "log.h"
#include "pg.h"
#include "queue_view.h"

#include <stdbool.h>
#include <stdlib.h>

#define AUTH "bench-lookups"

static bool populate(PGconn *c, long size)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "DELETE FROM queue_entry WHERE authority_id = '" AUTH "';"
             "DELETE FROM queue_list WHERE authority_id = '" AUTH "';"
             "INSERT INTO queue_list VALUES ('" AUTH "', 'wwii', %ld, %ld);"
             "COPY queue_entry (authority_id, list, number, application_id,"
             " applicant_iin, accepted_seq) FROM STDIN", size, size);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "populate: %s", PQerrorMessage(c));
        PQclear(r);
        return false;
    }
    PQclear(r);
    char line[128], iin[13];
    for (long i = 1; i <= size; i++) {
        bench_iin(i, iin);
        int n = snprintf(line, sizeof(line),
                         AUTH "\twwii\t%ld\tbench-%ld\t%s\t%ld\n", i, i, iin,
                         1000000000L + i);
        if (PQputCopyData(c, line, n) != 1)
            return false;
    }
    if (PQputCopyEnd(c, NULL) != 1)
        return false;
    r = PQgetResult(c);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok && pg_exec(c, "ANALYZE queue_entry");
}

struct lookup {
    long size;
    unsigned seed;
    const char *hdr; /* the ops token */
};

/* A random entry of the list. */
static void prepare(void *ctx, int i, struct bench_req *r)
{
    (void)i;
    struct lookup *l = ctx;
    char iin[13];
    bench_iin(rand_r(&l->seed) % l->size + 1, iin);
    snprintf(r->path, sizeof(r->path), "/v1/queue/" AUTH "/wwii/entries/%s",
             iin);
    r->headers = l->hdr;
}

/* The floor's request: a path no route serves. */
static void prepare_floor(void *ctx, int i, struct bench_req *r)
{
    (void)ctx;
    (void)i;
    snprintf(r->path, sizeof(r->path), "/v1/bench-floor");
    r->headers = NULL;
}

/* One run of look-ups (lk), or of the floor (lk NULL); prints its JSON
 * fields. */
static void look_up(const char *url, int clients, int seconds,
                    struct lookup *lk)
{
    struct bench_load b = {.url = url, .clients = clients,
                           .duration = seconds,
                           .want_code = lk ? 200 : 404,
                           .prepare = lk ? prepare : prepare_floor,
                           .ctx = lk};
    bench_drive(&b);
    printf("\"clients\":%d,\"lookups\":%ld,\"errors\":%ld,"
           "\"lookups_per_s\":%.0f,\"latency_ms\":{\"p50\":%.3f,"
           "\"p99\":%.3f,\"max\":%.3f}", clients, b.ok, b.errors,
           b.ok / b.seconds, bench_pct(&b, 0.5), bench_pct(&b, 0.99),
           bench_pct(&b, 1.0));
    free(b.lat);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-lookups CONNINFO REDIS QUEUE_URL "
                    "OPS_TOKEN SIZE [CLIENTS 1-256] [SECONDS >= 1] "
                    "[FEW_CLIENTS 0-256]\n"
                    "       bench-lookups --floor QUEUE_URL "
                    "[CLIENTS 1-256] [SECONDS >= 1]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--floor") == 0) {
        int clients = argc > 3 ? atoi(argv[3]) : 32;
        int seconds = argc > 4 ? atoi(argv[4]) : 10;
        if (clients < 1 || clients > 256 || seconds < 1)
            return usage();
        printf("{");
        look_up(argv[2], clients, seconds, NULL);
        printf("}\n");
        return 0;
    }
    if (argc < 6)
        return usage();
    long size = atol(argv[5]);
    int clients = argc > 6 ? atoi(argv[6]) : 32;
    int seconds = argc > 7 ? atoi(argv[7]) : 10;
    int few = argc > 8 ? atoi(argv[8]) : 0;
    if (size < 1 || clients < 1 || clients > 256 || seconds < 1 ||
        few < 0 || few > 256)
        return usage();
    log_init("bench", LOG_WARN);
    char err[512];
    PGconn *c = pg_connect_plain(argv[1], err, sizeof(err));
    if (!c || !populate(c, size)) {
        fprintf(stderr, "bench-lookups: cannot populate: %s\n", err);
        return 1;
    }
    kredis_t *r = kredis_new(argv[2]);
    struct queue_view_report rep;
    double t0 = bench_now();
    if (!queue_view_rebuild(c, r, AUTH, false, &rep)) {
        fprintf(stderr, "bench-lookups: rebuild failed\n");
        return 1;
    }
    double rebuild_s = bench_now() - t0;

    char auth[300];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", argv[4]);
    struct lookup lk = {.size = size, .seed = 42, .hdr = auth};
    printf("{\"entries\":%ld,\"rebuild_s\":%.2f,", size, rebuild_s);
    look_up(argv[3], clients, seconds, &lk);
    if (few > 0) {
        printf(",\"few\":{");
        look_up(argv[3], few, seconds, &lk);
        printf("}");
    }
    printf("}\n");
    kredis_destroy(&r);
    PQfinish(c);
    return 0;
}
