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

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 512


/* Registry fixtures for the first n applicants of a run (CONTRACT
 * "Registry fixtures"): most live in the settlement and are citizens;
 * every 10th is not a citizen, every 10th+5 lives elsewhere, every 7th
 * sold a fit dwelling two years ago — so every kind of outcome occurs;
 * each is a WWII participant in the social status registry (the wwii
 * category the applications claim). */
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
        /* the veterans' record of the wwii category claimed (issue 22) */
        fprintf(f, "{\"kind\":\"social_status\",\"iin\":\"%s\","
                "\"status\":\"wwii_participant\",\"group\":null,"
                "\"since\":\"2000-01-01\",\"until\":null}\n", iin);
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

struct submit {
    const char *auth, *authority, *settlement;
    int seed;
    long next_id;
    struct client {
        char body[1024];
        char hdr[512];
    } cl[MAX_CLIENTS];
};

/* The next application, with a fresh IIN and Idempotency-Key. */
static void prepare(void *ctx, int i, struct bench_req *r)
{
    struct submit *s = ctx;
    struct client *c = &s->cl[i];
    char iin[13];
    bench_iin(s->next_id++, iin);
    snprintf(c->body, sizeof(c->body),
        "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"Bench\","
        "\"given_name\":\"Load\"},\"settlement_id\":\"%s\","
        "\"authority_id\":\"%s\",\"fund\":\"communal\","
        "\"category\":\"wwii\",\"need_grounds\":[1],"
        "\"documents\":[{\"code\":\"application_form\"}]}",
        iin, s->settlement, s->authority);
    snprintf(c->hdr, sizeof(c->hdr),
             "%sContent-Type: application/json\r\n"
             "Idempotency-Key: bench-%d-%ld\r\n", s->auth, s->seed,
             s->next_id);
    r->method = "POST";
    snprintf(r->path, sizeof(r->path), "/v1/applications");
    r->headers = c->hdr;
    r->body = c->body;
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
    char auth[300];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
    static struct submit sub;
    sub.auth = auth;
    sub.authority = authority;
    sub.settlement = settlement;
    sub.seed = seed;
    sub.next_id = (long)seed * 1000000;
    struct bench_load b = {.url = url, .clients = clients, .duration = duration,
                           .rate = rate, .want_code = 202,
                           .prepare = prepare, .ctx = &sub};
    bench_drive(&b);
    printf("{\"sent\":%ld,\"accepted\":%ld,\"errors\":%ld,"
           "\"seconds\":%.2f,\"apps_per_s\":%.0f,\"clients\":%d,"
           "\"latency_ms\":{\"p50\":%.2f,\"p95\":%.2f,\"p99\":%.2f,"
           "\"max\":%.2f}}\n", b.sent, b.ok, b.errors, b.seconds,
           b.ok / b.seconds, clients, bench_pct(&b, 0.5), bench_pct(&b, 0.95),
           bench_pct(&b, 0.99), bench_pct(&b, 1.0));
    free(b.lat);
    return 0;
}
