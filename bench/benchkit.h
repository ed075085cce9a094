/* benchkit — small helpers shared by the bench programs. */
#ifndef KEZEK_BENCHKIT_H
#define KEZEK_BENCHKIT_H

#include "iin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* An HTTP/1.1 load over keep-alive connections: clients connections,
 * closed loop (each sends again once answered) or open loop (rate > 0:
 * requests start on schedule when a connection is free), for duration
 * seconds. prepare fills the next request of a client. Counts answers
 * with want_code as ok and keeps their latencies (ms, sorted on return);
 * anything else — another status, a malformed or oversized answer, a
 * refused or dropped connection (reconnected for the next request), no
 * answer 30 s after the window — is an error.
 *
 * A plain epoll client rather than libcurl: the generator shares the
 * two cores with the stack it measures, and curl's per-transfer work
 * (poll over every handle, signal handlers, header parsing into
 * structures) took a third of the CPU of a look-up run. */
struct bench_req {
    const char *method;   /* "GET", "POST" */
    char path[256];
    const char *headers;  /* "Name: value\r\n"…, or NULL */
    const char *body;     /* or NULL */
};

struct bench_load {
    const char *url; /* http://host:port */
    int clients;
    double duration, rate;
    long want_code;
    void (*prepare)(void *ctx, int client, struct bench_req *r);
    void *ctx;
    long sent, ok, errors;
    double seconds;
    double *lat;
    size_t nlat;
};

struct bench_conn {
    int fd;
    bool busy;
    double started;
    size_t olen, osent, ilen;
    char out[4096];
    char in[65536]; /* the answer so far, NUL-terminated */
};

static inline bool bench_addr(const char *url, struct sockaddr_in *sa)
{
    char host[64];
    unsigned port = 80;
    if (sscanf(url, "http://%63[^:/]:%u", host, &port) < 1)
        return false;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

static inline void bench_close(int ep, struct bench_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

/* Writes what is left of the request; false on a broken connection. */
static inline bool bench_flush(int ep, struct bench_conn *c, int i)
{
    while (c->osent < c->olen) {
        ssize_t n = send(c->fd, c->out + c->osent, c->olen - c->osent,
                         MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        c->osent += (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (c->osent < c->olen)
        ev.events |= EPOLLOUT;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

/* Starts client i's next request; false if it could not be sent. */
static inline bool bench_start(struct bench_load *b, int ep,
                        const struct sockaddr_in *sa, struct bench_conn *c,
                        int i)
{
    struct bench_req r = {.method = "GET"};
    b->prepare(b->ctx, i, &r);
    size_t blen = r.body ? strlen(r.body) : 0;
    int n = snprintf(c->out, sizeof(c->out),
                     "%s %s HTTP/1.1\r\nHost: bench\r\n%s"
                     "Content-Length: %zu\r\n\r\n%s", r.method, r.path,
                     r.headers ? r.headers : "", blen, r.body ? r.body : "");
    if (n < 0 || (size_t)n >= sizeof(c->out))
        return false;
    c->olen = (size_t)n;
    c->osent = c->ilen = 0;
    if (c->fd < 0) {
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (c->fd < 0 ||
            (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
             errno != EINPROGRESS) ||
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            return false;
    }
    return bench_flush(ep, c, i);
}

/* The answer's status once it is complete, 0 while incomplete, -1 if
 * malformed. *keep is false if the server closes the connection. */
static inline int bench_answer(const struct bench_conn *c, bool *keep)
{
    const char *p = c->in, *end = c->in + c->ilen;
    const char *hend = memmem(p, c->ilen, "\r\n\r\n", 4);
    if (!hend)
        return c->ilen == sizeof(c->in) - 1 ? -1 : 0;
    int status;
    if (sscanf(p, "HTTP/1.%*1[01] %3d", &status) != 1)
        return -1;
    long clen = status == 204 || status == 304 ? 0 : -1;
    *keep = true;
    for (const char *l = strstr(p, "\r\n") + 2; l < hend;
         l = strstr(l, "\r\n") + 2) {
        if (!strncasecmp(l, "Content-Length:", 15))
            clen = strtol(l + 15, NULL, 10);
        else if (!strncasecmp(l, "Connection: close", 17))
            *keep = false;
    }
    if (clen < 0)
        return -1;
    long have = (long)(end - (hend + 4));
    return have < clen ? (c->ilen == sizeof(c->in) - 1 ? -1 : 0)
                       : have == clen ? status : -1;
}

static inline void bench_drive(struct bench_load *b)
{
    struct sockaddr_in sa;
    size_t cap = 1 << 22;
    b->lat = malloc(cap * sizeof(double));
    b->nlat = 0;
    struct bench_conn *cs = calloc((size_t)b->clients, sizeof(*cs));
    int ep = epoll_create1(0);
    if (!b->lat || !cs || ep < 0 || !bench_addr(b->url, &sa)) {
        fprintf(stderr, "bench: cannot start (url %s)\n", b->url);
        exit(1);
    }
    for (int i = 0; i < b->clients; i++)
        cs[i].fd = -1;
    int busy = 0;
    double t0 = bench_now(), end = t0 + b->duration, due = t0;
    for (;;) {
        double now = bench_now();
        for (int i = 0; i < b->clients && now < end; i++) {
            struct bench_conn *c = &cs[i];
            if (c->busy || (b->rate > 0 && now < due))
                continue;
            b->sent++;
            if (b->rate > 0)
                due += 1.0 / b->rate;
            c->started = now;
            if (bench_start(b, ep, &sa, c, i)) {
                c->busy = true;
                busy++;
            } else {
                b->errors++;
                bench_close(ep, c);
            }
        }
        if (now >= end && (busy == 0 || now > end + 30))
            break;
        /* sleep until an answer, the next start of the open loop or the
         * window's end */
        double wait = now >= end ? 0.1 : busy == b->clients ? end - now
                      : b->rate > 0 ? due - now : 0;
        if (wait > end - now && now < end)
            wait = end - now;
        if (wait < 0)
            wait = 0;
        struct timespec ts = {(time_t)wait,
                              (long)((wait - (double)(time_t)wait) * 1e9)};
        struct epoll_event evs[256];
        int n = epoll_pwait2(ep, evs, 256, &ts, NULL);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            struct bench_conn *c = &cs[i];
            if (!c->busy)
                continue;
            bool ok = true, keep = true;
            int status = 0;
            if (evs[k].events & EPOLLOUT)
                ok = bench_flush(ep, c, i);
            while (ok && status == 0 &&
                   (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                ssize_t got = recv(c->fd, c->in + c->ilen,
                                   sizeof(c->in) - 1 - c->ilen, 0);
                if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (got <= 0) {
                    ok = false;
                    break;
                }
                c->ilen += (size_t)got;
                c->in[c->ilen] = '\0';
                status = bench_answer(c, &keep);
                ok = status >= 0;
            }
            if (ok && status == 0)
                continue; /* more to come */
            c->busy = false;
            busy--;
            if (ok && status == b->want_code) {
                b->ok++;
                if (b->nlat < cap)
                    b->lat[b->nlat++] = (bench_now() - c->started) * 1000;
            } else {
                b->errors++;
            }
            if (!ok || !keep)
                bench_close(ep, c);
        }
    }
    b->errors += busy; /* never answered */
    b->seconds = bench_now() - t0;
    qsort(b->lat, b->nlat, sizeof(double), bench_cmp_double);
    for (int i = 0; i < b->clients; i++)
        bench_close(ep, &cs[i]);
    close(ep);
    free(cs);
}

/* The p-th quantile (0..1) of sorted latencies. */
static inline double bench_pct(const struct bench_load *b, double p)
{
    return b->nlat ? b->lat[(size_t)((double)(b->nlat - 1) * p)] : 0.0;
}

#endif
