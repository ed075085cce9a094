/* bench-lookups — position look-ups over HTTP against a list of SIZE
 * entries generated directly in Postgres, after timing the Redis
 * rebuild of the view (issue 6 benchmark).
 *
 *   bench-lookups CONNINFO REDIS QUEUE_URL OPS_TOKEN SIZE
 *                 [CLIENTS=32] [SECONDS=10]
 *
 * Uses the synthetic authority "bench-lookups" (no reference row, so it
 * never mixes with real lists) and replaces its wwii list each run.
 * Prints one JSON line. */
#include "benchkit.h"
#include "log.h"
#include "pg.h"
#include "queue_view.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>

#define AUTH "bench-lookups"

static bool populate(PGconn *c, long size)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "DELETE FROM queue_entry WHERE authority_id = '" AUTH "';"
             "DELETE FROM queue_list WHERE authority_id = '" AUTH "';"
             "INSERT INTO queue_list VALUES ('" AUTH "', 'wwii', %ld);"
             "COPY queue_entry (authority_id, list, number, application_id,"
             " applicant_iin, accepted_seq) FROM STDIN", size);
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

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

struct client {
    CURL *h;
    double started;
    bool busy;
    char url[256];
};

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench-lookups CONNINFO REDIS QUEUE_URL "
                        "OPS_TOKEN SIZE [CLIENTS] [SECONDS]\n");
        return 2;
    }
    long size = atol(argv[5]);
    int clients = argc > 6 ? atoi(argv[6]) : 32;
    int seconds = argc > 7 ? atoi(argv[7]) : 10;
    if (size < 1 || clients < 1 || clients > 256 || seconds < 1)
        return 2;
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

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    char auth[300];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argv[4]);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    struct client *cl = calloc((size_t)clients, sizeof(*cl));
    size_t cap = 1 << 22, nlat = 0;
    double *lat = malloc(cap * sizeof(double));
    long ok = 0, bad = 0;
    unsigned seed = 42;
    for (int i = 0; i < clients; i++) {
        cl[i].h = curl_easy_init();
        curl_easy_setopt(cl[i].h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(cl[i].h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(cl[i].h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(cl[i].h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(cl[i].h, CURLOPT_PRIVATE, &cl[i]);
    }
    double start = bench_now(), end = start + seconds;
    for (;;) {
        double now = bench_now();
        for (int i = 0; i < clients && now < end; i++) {
            if (cl[i].busy)
                continue;
            char iin[13];
            bench_iin(rand_r(&seed) % size + 1, iin);
            snprintf(cl[i].url, sizeof(cl[i].url),
                     "%s/v1/queue/" AUTH "/wwii/entries/%s", argv[3], iin);
            curl_easy_setopt(cl[i].h, CURLOPT_URL, cl[i].url);
            cl[i].started = now;
            cl[i].busy = true;
            curl_multi_add_handle(m, cl[i].h);
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct client *x;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code == 200) {
                ok++;
                if (nlat < cap)
                    lat[nlat++] = (bench_now() - x->started) * 1000;
            } else {
                bad++;
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            x->busy = false;
        }
        if (bench_now() >= end && running == 0)
            break;
        curl_multi_poll(m, NULL, 0, 1, NULL);
    }
    double secs = bench_now() - start;
    qsort(lat, nlat, sizeof(double), bench_cmp_double);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] : 0.0)
    printf("{\"entries\":%ld,\"rebuild_s\":%.2f,\"lookups\":%ld,"
           "\"errors\":%ld,\"lookups_per_s\":%.0f,\"clients\":%d,"
           "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
           size, rebuild_s, ok, bad, ok / secs, clients, PCT(0.5),
           PCT(0.99), nlat ? lat[nlat - 1] : 0.0);
    for (int i = 0; i < clients; i++)
        curl_easy_cleanup(cl[i].h);
    curl_slist_free_all(hdr);
    curl_multi_cleanup(m);
    kredis_destroy(&r);
    PQfinish(c);
    free(lat);
    free(cl);
    return 0;
}
