/* bus — ZeroMQ PUB/SUB carrying event envelopes.
 *
 * The bus is a doorbell and a fast path, never the record: PUB drops
 * messages for slow or late subscribers, so consumers check seq and
 * catch up from event_log (consumer.c). Frames over EVENT_MAX_BYTES
 * are refused by ZeroMQ itself (ZMQ_MAXMSGSIZE). */
#ifndef KEZEK_BUS_H
#define KEZEK_BUS_H

#include "event.h"

typedef struct bus bus_t;

/* A publisher bound to endpoint ("tcp://127.0.0.1:5571"). */
bus_t *bus_pub_new(const char *endpoint, char *err, size_t errlen);
/* A subscriber connected to each endpoint of a comma-separated list. */
bus_t *bus_sub_new(const char *endpoints, char *err, size_t errlen);
void bus_destroy(bus_t **self_p);

/* Publishes ev (does not block; dropped past the high-water mark).
 * Threads may share a publisher. */
bool bus_publish(bus_t *self, const event_t *ev);

/* Waits up to timeout_ms for a frame. 1: ev filled; 0: nothing;
 * -1: a frame was rejected (counted, see event_decode). */
int bus_recv(bus_t *self, int timeout_ms, event_t *ev);

#endif
