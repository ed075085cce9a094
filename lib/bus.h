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

/* Authentication (issue 21: the bus carries IINs and e-mail addresses).
 *
 * After bus_auth_set(keys_dir, name), every publisher of this process
 * is a CURVE server with the key pair keys_dir/<name>.key and admits
 * (through a ZAP handler in its ZeroMQ context) only subscribers whose
 * public key is one of keys_dir/ *.pub — the deployment's services;
 * every subscriber is a CURVE client with that key pair and connects
 * only to endpoints written "service@tcp://…", authenticating the
 * publisher by keys_dir/service.pub. Frames are encrypted both ways.
 * Without it (the spine's own tests) the bus is plain TCP. Call before
 * the first bus_*_new; the known keys are read then (a new service's
 * key needs a restart of the others). */
bool bus_auth_set(const char *keys_dir, const char *name, char *err,
                  size_t errlen);
/* Writes keys_dir/<name>.key (0600: "public=…" and "secret=…" lines,
 * Z85) and keys_dir/<name>.pub (the public key) unless the key exists.
 * keys_dir is created (0700) if missing. */
bool bus_keys_generate(const char *keys_dir, const char *name, char *err,
                       size_t errlen);

/* A publisher bound to endpoint ("tcp://127.0.0.1:5571"). */
bus_t *bus_pub_new(const char *endpoint, char *err, size_t errlen);
/* A subscriber connected to each endpoint of a comma-separated list
 * ("name@" before an endpoint names its publisher: required with
 * authentication, ignored without). */
bus_t *bus_sub_new(const char *endpoints, char *err, size_t errlen);
void bus_destroy(bus_t **self_p);

/* Publishes ev (does not block; dropped past the high-water mark).
 * Threads may share a publisher. */
bool bus_publish(bus_t *self, const event_t *ev);

/* Waits up to timeout_ms for a frame. 1: ev filled; 0: nothing;
 * -1: a frame was rejected (counted, see event_decode). */
int bus_recv(bus_t *self, int timeout_ms, event_t *ev);

#endif
