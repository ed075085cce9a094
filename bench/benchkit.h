/* benchkit — small helpers shared by the bench programs. */
#ifndef KEZEK_BENCHKIT_H
#define KEZEK_BENCHKIT_H

#include "iin.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The n-th IIN of a generator: birth dates 1950–1998, serials, the
 * check digit iin_valid accepts (serials without one are skipped). */
static inline void bench_iin(long n, char *out)
{
    for (long k = n * 3;; k++) {
        int day = (int)(k / 9000 % 28) + 1;
        int month = (int)(k / 252000 % 12) + 1;
        int year = 50 + (int)(k / 3024000 % 49);
        char s[32];
        for (int check = 0; check <= 9; check++) {
            snprintf(s, sizeof(s), "%02d%02d%02d3%04d%d", year % 100,
                     month % 100, day % 100, (int)(k % 9000 + 1000), check);
            if (iin_valid(s, NULL)) {
                memcpy(out, s, 13);
                return;
            }
        }
    }
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* An HTTP load over keep-alive connections: clients handles, closed
 * loop (each sends again once answered) or open loop (rate > 0: starts
 * on schedule), for duration seconds. prepare sets the next request on
 * a client's handle. Counts answers with want_code as ok and keeps
 * their latencies (ms, sorted on return). */
struct bench_load {
    int clients;
    double duration, rate;
    long want_code;
    void (*prepare)(void *ctx, int client, CURL *h);
    void *ctx;
    long sent, ok, errors;
    double seconds;
    double *lat;
    size_t nlat;
};

static size_t bench_discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static inline void bench_drive(struct bench_load *b)
{
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)b->clients, sizeof(CURL *));
    double *started = calloc((size_t)b->clients, sizeof(double));
    bool *busy = calloc((size_t)b->clients, sizeof(bool));
    size_t cap = 1 << 22;
    b->lat = malloc(cap * sizeof(double));
    b->nlat = 0;
    for (int i = 0; i < b->clients; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, bench_discard);
        curl_easy_setopt(h[i], CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h[i], CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, (char *)(intptr_t)i);
    }
    double t0 = bench_now(), end = t0 + b->duration, due = t0;
    for (;;) {
        double now = bench_now();
        for (int i = 0; i < b->clients && now < end; i++) {
            if (busy[i] || (b->rate > 0 && now < due))
                continue;
            b->prepare(b->ctx, i, h[i]);
            started[i] = now;
            busy[i] = true;
            curl_multi_add_handle(m, h[i]);
            b->sent++;
            if (b->rate > 0)
                due += 1.0 / b->rate;
        }
        int running, left;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
                              &code);
            int i = (int)(intptr_t)priv;
            if (msg->data.result == CURLE_OK && code == b->want_code) {
                b->ok++;
                if (b->nlat < cap)
                    b->lat[b->nlat++] = (bench_now() - started[i]) * 1000;
            } else {
                b->errors++;
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            busy[i] = false;
        }
        if (bench_now() >= end && running == 0)
            break;
        curl_multi_poll(m, NULL, 0, 1, NULL);
    }
    b->seconds = bench_now() - t0;
    qsort(b->lat, b->nlat, sizeof(double), bench_cmp_double);
    for (int i = 0; i < b->clients; i++)
        curl_easy_cleanup(h[i]);
    curl_multi_cleanup(m);
    free(h);
    free(started);
    free(busy);
}

/* The p-th quantile (0..1) of sorted latencies. */
static inline double bench_pct(const struct bench_load *b, double p)
{
    return b->nlat ? b->lat[(size_t)((double)(b->nlat - 1) * p)] : 0.0;
}

#endif
