/* outbox — the transactional outbox and the sequenced event log.
 *
 * A producer calls outbox_add inside the transaction of its state
 * change; nothing reaches the bus unless that transaction commits. The
 * relay (relay.c) later moves committed rows into event_log with a
 * gapless seq; consumers read event_log with outbox_fetch. */
#ifndef KEZEK_OUTBOX_H
#define KEZEK_OUTBOX_H

#include "event.h"
#include "pg.h"
#include "rowbuf.h"

/* Statements every spine connection prepares (pg_connect adds them). */
extern const struct pg_stmt spine_stmts[];

/* Queues an event of type for key with payload. False on SQL error —
 * inside a pipeline (pg_pipe_begin) the error shows at pg_pipe_end
 * instead. */
bool outbox_add(PGconn *conn, const char *producer, int type,
                const char *key, const uint8_t *payload, size_t len)
    __attribute__((warn_unused_result));

/* An outbox row as seven statement parameters: queued alone
 * (outbox_add_row), or as text (outbox_row_texts) inside a set-based
 * statement that queues each event only when its own write happened (an
 * INSERT … ON CONFLICT DO NOTHING RETURNING joined to OUTBOX_FROM_TEXT),
 * so that it needs no answer and can be deferred (pg_defer). */
struct outbox_row {
    char id[33], type_s[16], ver_s[16], at_s[32];
    uint8_t *payload;
    const char *params[7];
    int lens[7], fmts[7];
};
#define OUTBOX_COLUMNS \
    "event_id, type, key, producer, schema_version, occurred_at_us, payload"
/* The same row gathered in a rowbuf (rowbuf.h): its seven values as
 * text into vals[0..7), the payload hex-encoded into *hex (caller frees);
 * the set-based statement names them OUTBOX_TEXT_COLUMNS in its unnest
 * alias and inserts OUTBOX_FROM_TEXT(alias). False when out of memory. */
bool outbox_row_texts(const struct outbox_row *o, const char **vals,
                      char **hex) __attribute__((warn_unused_result));
#define OUTBOX_TEXT_COLUMNS \
    "ev_id, ev_type, ev_key, ev_producer, ev_version, ev_at, ev_payload"
#define OUTBOX_FROM_TEXT(v) \
    v ".ev_id, " v ".ev_type::int, " v ".ev_key, " v ".ev_producer, " v \
    ".ev_version::int, " v ".ev_at::bigint, decode(" v ".ev_payload, 'hex')"
/* false when out of memory; outbox_row_free releases it either way */
bool outbox_row_init(struct outbox_row *o, const char *producer, int type,
                     const char *key, const ProtobufCMessage *msg)
    __attribute__((warn_unused_result));
void outbox_row_free(struct outbox_row *o);
/* Queues the row (deferred inside a pipeline, like outbox_add). */
bool outbox_add_row(PGconn *conn, const struct outbox_row *o)
    __attribute__((warn_unused_result));

/* Packs a protobuf-c message and gathers it in rb — a rowbuf of the
 * spine statement "outbox_put" (OUTBOX_PUT_COLS columns) that the
 * consumer sends set-based before its commit (consumer_cfg.flush). */
#define OUTBOX_PUT_COLS 7
bool outbox_gather(rowbuf_t *rb, PGconn *conn, const char *producer,
                   int type, const char *key, const ProtobufCMessage *msg)
    __attribute__((warn_unused_result));

/* Packs a protobuf-c message and queues it. */
bool outbox_add_msg(PGconn *conn, const char *producer, int type,
                    const char *key, const ProtobufCMessage *msg)
    __attribute__((warn_unused_result));

/* Reads up to max events with seq > after, in seq order, into evs
 * (which the caller clears). Returns the count, or -1 on SQL error.
 * An invalid stored row is returned with its fields as stored so that
 * the consumer can dead-letter it (event_validate tells). */
int outbox_fetch(PGconn *conn, uint64_t after, int max, event_t *evs);

/* Converts one binary-format row (seq, event_id, type, key, producer,
 * schema_version, occurred_at_us, payload) into ev; false when out of
 * memory. */
bool outbox_row_event(const PGresult *r, int row, event_t *ev)
    __attribute__((warn_unused_result));

#endif
