/* relay — moves committed outbox rows into event_log (seqs from
 * event_log_head, outbox.h) and publishes them, in seq order.
 *
 * Every service runs a relay thread, which owns the process's PUB
 * socket (the producers of the process publish on it too); a Postgres
 * advisory lock elects one leader to move the outbox. When the leader
 * dies its session ends, the lock is freed and another takes over. */
#ifndef KEZEK_RELAY_H
#define KEZEK_RELAY_H

#include "bus.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

typedef struct relay relay_t;

/* Starts the relay thread publishing on pub_endpoint. While events keep
 * coming it waits linger_ms between passes so that one transaction
 * moves many (after a quiet spell it moves the first at once). NULL and
 * err when the endpoint cannot be bound. */
relay_t *relay_start(const char *conninfo, const char *pub_endpoint,
                     int batch, int linger_ms, volatile sig_atomic_t *stop,
                     char *err, size_t errlen);
/* The relay's PUB socket, for the process's producers (outbox.h). */
bus_t *relay_bus(relay_t *self);
/* Joins the thread (after *stop was set) and frees. */
void relay_destroy(relay_t **self_p);

/* One pass for tests and tools: moves and publishes up to batch
 * events; returns how many, or -1 on error. */
int relay_pass(PGconn *conn, void *bus, int batch);

#endif
