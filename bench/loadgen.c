/* bench-loadgen — submits applications over HTTP with keep-alive and
 * measures how many are accepted per second.
 *
 *   bench-loadgen --url http://127.0.0.1:8080 --token TOKEN
 *                 [--clients 16] [--duration 10] [--rate 0]
 *                 [--authority a-01-02 --settlement s-01-02] [--seed 1]
 *
 * Closed loop (default): each of N clients sends the next application
 * as soon as the previous one is answered. Open loop (--rate R): R
 * submissions per second are started on schedule whatever the answers.
 * Each application has a fresh valid IIN and Idempotency-Key. Prints
 * one JSON line: accepted, errors, apps_per_s and latency percentiles
 * (ms). A token of the office of --authority is needed (office
 * submissions name their authority). */
#include "benchkit.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 512

struct client {
    CURL *h;
    struct curl_slist *hdr;
    char body[1024];
    char key_hdr[96];
    double started;
    bool busy;
};

/* Registry fixtures for the first n applicants of a run (CONTRACT
 * "Registry fixtures"): most live in the settlement and are citizens;
 * every 10th is not a citizen, every 10th+5 lives elsewhere, every 7th
 * sold a fit dwelling two years ago — so every kind of outcome occurs. */
static int write_registry(const char *path, long n, int seed,
                          const char *settlement)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        char iin[13];
        long id = (long)seed * 1000000 + i;
        bench_iin(id, iin);
        char birth[11];
        snprintf(birth, sizeof(birth), "19%c%c-%c%c-%c%c", iin[0], iin[1],
                 iin[2], iin[3], iin[4], iin[5]);
        fprintf(f, "{\"kind\":\"person\",\"iin\":\"%s\",\"surname\":"
                "\"Bench\",\"given_name\":\"Load\",\"birth_date\":\"%s\","
                "\"citizen\":%s,\"settlement_id\":\"%s\","
                "\"registered_since\":\"2001-01-01\","
                "\"disability_group\":null}\n", iin, birth,
                i % 10 == 0 ? "false" : "true",
                i % 10 == 5 ? "s-01-03" : settlement);
        if (i % 7 == 3)
            fprintf(f, "{\"kind\":\"property\",\"owner_iin\":\"%s\","
                    "\"dwelling_id\":\"d-%ld\",\"settlement_id\":\"%s\","
                    "\"acquired\":\"2010-01-01\",\"alienated\":"
                    "\"2024-06-01\",\"alienation\":\"sale\",\"fit\":true,"
                    "\"emergency\":false,\"damaged_on\":null}\n", iin, id,
                    settlement);
    }
    fclose(f);
    return 0;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

int main(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *token = NULL;
    const char *authority = "a-01-02", *settlement = "s-01-02";
    int clients = 16, duration = 10, seed = 1;
    long registry_n = 0;
    const char *registry_file = NULL;
    double rate = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration")) duration = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--authority")) authority = argv[i + 1];
        else if (!strcmp(argv[i], "--settlement")) settlement = argv[i + 1];
        else if (!strcmp(argv[i], "--seed")) seed = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--write-registry") && i + 2 < argc) {
            registry_n = atol(argv[i + 1]);
            registry_file = argv[i + 2];
            i++;
        }
        else {
            fprintf(stderr, "bench-loadgen: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (registry_file)
        return write_registry(registry_file, registry_n, seed, settlement);
    if (!token || clients < 1 || clients > MAX_CLIENTS || duration < 1) {
        fprintf(stderr, "usage: bench-loadgen --token TOKEN [--url U] "
                        "[--clients 1-512] [--duration S] [--rate R]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    char endpoint[256], auth[300];
    snprintf(endpoint, sizeof(endpoint), "%s/v1/applications", url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    static struct client cl[MAX_CLIENTS];
    size_t cap = 1 << 20, nlat = 0;
    double *lat = malloc(cap * sizeof(double));
    long sent = 0, accepted = 0, errors = 0, next_id = (long)seed * 1000000;
    double t0 = bench_now(), end = t0 + duration, next_due = t0;
    for (int i = 0; i < clients; i++) {
        cl[i].h = curl_easy_init();
        curl_easy_setopt(cl[i].h, CURLOPT_URL, endpoint);
        curl_easy_setopt(cl[i].h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(cl[i].h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(cl[i].h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(cl[i].h, CURLOPT_PRIVATE, &cl[i]);
    }
    for (;;) {
        double now = bench_now();
        for (int i = 0; i < clients && now < end; i++) {
            if (cl[i].busy || (rate > 0 && now < next_due))
                continue;
            char iin[13];
            bench_iin(next_id++, iin);
            snprintf(cl[i].body, sizeof(cl[i].body),
                "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"Bench\","
                "\"given_name\":\"Load\"},\"settlement_id\":\"%s\","
                "\"authority_id\":\"%s\",\"fund\":\"communal\","
                "\"category\":\"wwii\",\"need_grounds\":[1],"
                "\"documents\":[{\"code\":\"application_form\"}]}",
                iin, settlement, authority);
            snprintf(cl[i].key_hdr, sizeof(cl[i].key_hdr),
                     "Idempotency-Key: bench-%d-%ld", seed, next_id);
            curl_slist_free_all(cl[i].hdr);
            cl[i].hdr = curl_slist_append(NULL, auth);
            cl[i].hdr = curl_slist_append(cl[i].hdr,
                                          "Content-Type: application/json");
            cl[i].hdr = curl_slist_append(cl[i].hdr, cl[i].key_hdr);
            curl_easy_setopt(cl[i].h, CURLOPT_HTTPHEADER, cl[i].hdr);
            curl_easy_setopt(cl[i].h, CURLOPT_POSTFIELDS, cl[i].body);
            cl[i].started = now;
            cl[i].busy = true;
            curl_multi_add_handle(m, cl[i].h);
            sent++;
            if (rate > 0)
                next_due += 1.0 / rate;
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct client *c;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code == 202) {
                accepted++;
                if (nlat < cap)
                    lat[nlat++] = (bench_now() - c->started) * 1000;
            } else {
                errors++;
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            c->busy = false;
        }
        if (bench_now() >= end && running == 0)
            break;
        curl_multi_poll(m, NULL, 0, 1, NULL);
    }
    double secs = bench_now() - t0;
    qsort(lat, nlat, sizeof(double), bench_cmp_double);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] : 0.0)
    printf("{\"sent\":%ld,\"accepted\":%ld,\"errors\":%ld,\"seconds\":%.2f,"
           "\"apps_per_s\":%.0f,\"clients\":%d,\"latency_ms\":{\"p50\":%.2f,"
           "\"p95\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
           sent, accepted, errors, secs, accepted / secs, clients, PCT(0.5),
           PCT(0.95), PCT(0.99), nlat ? lat[nlat - 1] : 0.0);
    for (int i = 0; i < clients; i++) {
        curl_slist_free_all(cl[i].hdr);
        curl_easy_cleanup(cl[i].h);
    }
    curl_multi_cleanup(m);
    free(lat);
    return 0;
}
