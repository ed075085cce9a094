/* event — the envelope every event travels in (proto/events.proto).
 *
 * Decoding is the bus boundary: event_decode rejects oversize,
 * malformed and wrong-version frames with a counted error and never
 * trusts a length it has not checked. */
#ifndef KEZEK_EVENT_H
#define KEZEK_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"

#define KEZEK_SCHEMA_VERSION 1
#define EVENT_MAX_BYTES (256 * 1024) /* also ZMQ_MAXMSGSIZE */
#define EVENT_KEY_MAX 64

enum event_rc {
    EVENT_OK = 0,
    EVENT_OVERSIZE,
    EVENT_MALFORMED,
    EVENT_VERSION,
    EVENT_INVALID,
};

typedef struct event {
    uint64_t seq;
    int type;                      /* Kezek__EventType */
    char event_id[33];
    char key[EVENT_KEY_MAX + 1];
    char producer[32];
    int64_t occurred_at_us;
    uint32_t schema_version;
    uint8_t *payload;              /* owned */
    size_t payload_len;
} event_t;

/* Fills out from an envelope frame; EVENT_OK or the reason (counted in
 * kezek_event_decode_errors_total). On error out owns nothing. */
enum event_rc event_decode(const uint8_t *buf, size_t len, event_t *out)
    __attribute__((warn_unused_result));
/* Packs ev into a new buffer (caller frees); NULL on out of memory. */
uint8_t *event_encode(const event_t *ev, size_t *len);
/* Checks the fields of an event read from any source. */
enum event_rc event_validate(const event_t *ev);
void event_clear(event_t *ev);
const char *event_rc_str(enum event_rc rc);
const char *event_type_name(int type);

/* 32 hex chars: the time in milliseconds (12), then 80 random bits —
 * unique, unguessable, and increasing with time. */
void event_new_id(char out[33]);
/* The wall clock (event times) and the monotonic one (intervals,
 * deadlines, cache ages), in microseconds. */
int64_t now_us(void);
int64_t mono_us(void);

#endif
