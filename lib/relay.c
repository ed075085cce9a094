#include "relay.h"

#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "pg.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAY_LOCK "7405002"

struct relay {
    char *conninfo;
    bus_t *bus;
    int batch, linger_ms;
    volatile sig_atomic_t *stop;
    pthread_t thread;
};

static int by_seq(const void *a, const void *b)
{
    const event_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int relay_pass(PGconn *conn, void *bus, int batch)
{
    char batch_s[16];
    snprintf(batch_s, sizeof(batch_s), "%d", batch);
    const char *p[1] = {batch_s};
    if (!pg_exec(conn, "BEGIN"))
        return -1;
    PGresult *r = PQexecPrepared(conn, "relay_move", 1, p, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error("relay.move", "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (!pg_lost(conn) && !pg_exec(conn, "ROLLBACK"))
            log_error("relay.rollback", "rollback failed");
        return -1;
    }
    if (!pg_exec(conn, "COMMIT")) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    /* committed already: a frame we cannot build is only a missed
     * doorbell, and consumers read event_log anyway */
    event_t *evs = calloc((size_t)(n ? n : 1), sizeof(event_t));
    for (int i = 0; evs && i < n; i++)
        if (!outbox_row_event(r, i, &evs[i]))
            evs[i].seq = 0;
    PQclear(r);
    if (!evs)
        return n;
    qsort(evs, (size_t)n, sizeof(event_t), by_seq);
    for (int i = 0; i < n; i++) {
        if (bus && evs[i].seq)
            bus_publish(bus, &evs[i]);
        event_clear(&evs[i]);
    }
    free(evs);
    return n;
}

/* Waits for a NOTIFY on conn for up to ms; drains notifications. */
static void wait_doorbell(PGconn *conn, int ms)
{
    PGnotify *n;
    bool rang = false;
    PQconsumeInput(conn);
    while ((n = PQnotifies(conn)) != NULL) {
        PQfreemem(n);
        rang = true;
    }
    if (rang)
        return;
    struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
    if (pfd.fd >= 0 && poll(&pfd, 1, ms) > 0)
        PQconsumeInput(conn);
    while ((n = PQnotifies(conn)) != NULL)
        PQfreemem(n);
}

static void *relay_main(void *arg)
{
    relay_t *self = arg;
    metric_t *moved = metrics_counter("kezek_relay_events_total",
        "Events sequenced and published by this process's relay", NULL);
    metric_t *leader = metrics_gauge("kezek_relay_leader",
        "1 when this process's relay holds the sequencer lock", NULL);
    metric_t *batch_h = metrics_histogram("kezek_relay_batch_size",
        "Events per relay pass", NULL, (const double[]){1, 10, 100, 1000},
        4);
    PGconn *conn = NULL;
    bool is_leader = false;
    while (!*self->stop) {
        if (pg_lost(conn)) {
            if (conn)
                PQfinish(conn);
            is_leader = false;
            metric_set(leader, 0);
            conn = pg_connect_retry(self->conninfo, NULL, self->stop);
            if (!conn)
                break;
        }
        if (!is_leader) {
            /* followers only try the lock now and then: the doorbell is
             * the leader's (every commit rings it) */
            PGresult *r = PQexec(conn,
                "SELECT pg_try_advisory_lock(" RELAY_LOCK ")");
            is_leader = PQresultStatus(r) == PGRES_TUPLES_OK &&
                        PQgetvalue(r, 0, 0)[0] == 't';
            PQclear(r);
            if (is_leader && !pg_exec(conn, "LISTEN kezek_outbox")) {
                PQfinish(conn); /* the lock goes with the session */
                conn = NULL;
                continue;
            }
            if (!is_leader) {
                wait_doorbell(conn, 500);
                continue;
            }
            metric_set(leader, 1);
            log_info("relay.leader", "this process now sequences events");
        }
        int n = relay_pass(conn, self->bus, self->batch);
        if (n > 0) {
            metric_add(moved, (uint64_t)n);
            metric_observe(batch_h, n);
        }
        if (n > 0 && n < self->batch && self->linger_ms > 0) {
            /* events are flowing: let more commit, move them together */
            struct timespec ts = {0, self->linger_ms * 1000000L};
            nanosleep(&ts, NULL);
        } else if (n < self->batch) {
            wait_doorbell(conn, n < 0 ? 200 : 100);
        }
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

relay_t *relay_start(const char *conninfo, const char *pub_endpoint,
                     int batch, int linger_ms, volatile sig_atomic_t *stop,
                     char *err, size_t errlen)
{
    relay_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->bus = bus_pub_new(pub_endpoint, err, errlen);
    if (!self->bus) {
        free(self);
        return NULL;
    }
    self->conninfo = strdup(conninfo);
    self->batch = batch;
    self->linger_ms = linger_ms;
    self->stop = stop;
    if (pthread_create(&self->thread, NULL, relay_main, self) != 0) {
        snprintf(err, errlen, "relay: cannot start thread");
        bus_destroy(&self->bus);
        free(self->conninfo);
        free(self);
        return NULL;
    }
    return self;
}

void relay_destroy(relay_t **self_p)
{
    relay_t *self = *self_p;
    if (!self)
        return;
    pthread_join(self->thread, NULL);
    bus_destroy(&self->bus);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}
