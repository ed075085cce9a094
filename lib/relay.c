#include "relay.h"

#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAY_LOCK "7405002"
#define RELAY_IDLE_MS 32 /* the longest poll interval when quiet */

struct relay {
    char *conninfo;
    bus_t *bus;
    int batch, linger_ms;
    volatile sig_atomic_t *stop;
    pthread_t thread;
};

int relay_pass(PGconn *conn, void *bus, int batch)
{
    char batch_s[16];
    snprintf(batch_s, sizeof(batch_s), "%d", batch);
    const char *p[1] = {batch_s};
    /* one statement, its own transaction: the lock on event_log_head
     * (outbox.h) is held from its move to its commit, no longer */
    PGresult *r = PQexecPrepared(conn, "relay_move", 1, p, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error("relay.move", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (bus)
        outbox_publish(bus, r);
    PQclear(r);
    return n;
}

/* Sleeps ms, or less when told to stop. */
static void nap(volatile sig_atomic_t *stop, int ms)
{
    for (; ms > 0 && !*stop; ms -= 10) {
        struct timespec ts = {0, (ms < 10 ? ms : 10) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Tries for the sequencer's lock; true when this process now holds it,
 * *may_vacuum then whether it may vacuum the outbox: only the table's
 * owner may, and a service's own role (least privilege) leaves that to
 * autovacuum, tuned for the outbox (migrations/008). */
static bool take_lead(PGconn *conn, bool *may_vacuum)
{
    PGresult *r = PQexec(conn, "SELECT pg_try_advisory_lock(" RELAY_LOCK ")");
    bool won = PQresultStatus(r) == PGRES_TUPLES_OK &&
               PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!won)
        return false;
    r = PQexec(conn, "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class"
                     " WHERE oid = 'event_outbox'::regclass");
    *may_vacuum = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return true;
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
    pg_set_role("relay");
    PGconn *conn = NULL;
    bool is_leader = false;
    int idle_ms = 1;
    long since_vacuum = 0;
    int64_t vacuumed_us = 0;
    bool may_vacuum = false;
    while (!*self->stop) {
        if (pg_lost(conn)) {
            if (conn)
                PQfinish(conn);
            is_leader = false;
            metric_set(leader, 0);
            pg_common_stmts(spine_stmts);
            conn = pg_connect_retry(self->conninfo, NULL, self->stop);
            if (!conn)
                break;
        }
        if (!is_leader) {
            is_leader = take_lead(conn, &may_vacuum);
            if (!is_leader) {
                nap(self->stop, 500);
                continue;
            }
            metric_set(leader, 1);
            log_info("relay.leader", "this process now sequences events");
        }
        int n = relay_pass(conn, self->bus, self->batch);
        if (n > 0) {
            metric_add(moved, (uint64_t)n);
            metric_observe(batch_h, n);
            idle_ms = 1;
            since_vacuum += n;
            /* every row of the outbox dies at once: clear them out each
             * second under load rather than once per autovacuum naptime,
             * so that a pass does not wade through them */
            if (may_vacuum && since_vacuum >= 1000 &&
                now_us() - vacuumed_us > 1000000) {
                if (!pg_exec(conn, "VACUUM (TRUNCATE false) event_outbox"))
                    log_warn("relay.vacuum", "outbox vacuum failed");
                since_vacuum = 0;
                vacuumed_us = now_us();
            }
            /* events are flowing: let more commit, move them together */
            if (n < self->batch)
                nap(self->stop, self->linger_ms);
        } else {
            /* Polled, not rung: a NOTIFY from producers would serialize
             * their commits on Postgres' notify lock (no group commit).
             * Quiet, the poll backs off to RELAY_IDLE_MS. */
            nap(self->stop, n < 0 ? 200 : idle_ms);
            if (idle_ms < RELAY_IDLE_MS)
                idle_ms *= 2;
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

bus_t *relay_bus(relay_t *self)
{
    return self ? self->bus : NULL;
}

void relay_destroy(relay_t **self_p)
{
    relay_t *self = *self_p;
    if (!self)
        return;
    pthread_join(self->thread, NULL);
    outbox_set_publisher(NULL);
    bus_destroy(&self->bus);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}
