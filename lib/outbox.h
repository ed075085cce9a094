/* outbox — the sequenced event log, and the transactional outbox.
 *
 * An event is written in the transaction of the state change it
 * reports; nothing reaches the bus unless that transaction commits.
 * event_log numbers events with a gapless seq in the order their
 * transactions commit, so that a consumer reading seq > n (outbox_fetch)
 * never skips an event committed later with a lower seq. The last seq
 * given is the one row of event_log_head; a transaction takes its seqs
 * by updating that row, whose lock it holds until its commit: the next
 * producer gets its seqs only once the previous one's are visible.
 *
 * Two ways in:
 * - logged where produced (the hot path: intake's applications, the
 *   consumers' batches): the transaction's last writing statement ends
 *   with EVENT_LOG_TAIL and writes its events into event_log itself, so
 *   the row lock is held only from that statement to the commit, and
 *   the statement returns the events, which the producer publishes
 *   after its commit (outbox_publish, outbox_log_flush/outbox_log_done);
 * - through the outbox (everything else: complaints, manual decisions,
 *   e-mails sent, tools): outbox_add writes event_outbox anywhere in the
 *   transaction, and the relay (relay.c) moves committed rows into
 *   event_log and publishes them. */
#ifndef KEZEK_OUTBOX_H
#define KEZEK_OUTBOX_H

#include "bus.h"
#include "event.h"
#include "pg.h"
#include "rowbuf.h"

/* An event_log row as outbox_row_event reads it (binary format), and
 * its columns by name. */
#define EVENT_COLUMNS \
    "seq, event_id, type, key, producer, schema_version, occurred_at_us, " \
    "payload"
/* offset_lock(_tied)'s columns: the committed offset and (tied) what
 * event_log holds after it */
enum { OFFSET_LAST_SEQ, OFFSET_LOGGED };
enum { EVCOL_SEQ, EVCOL_EVENT_ID, EVCOL_TYPE, EVCOL_KEY, EVCOL_PRODUCER,
       EVCOL_SCHEMA_VERSION, EVCOL_OCCURRED_AT_US, EVCOL_PAYLOAD };
/* The end of a statement that logs the events of its CTE e — columns
 * (ord, event_id, type, key, producer, schema_version, occurred_at_us,
 * payload), ord numbering them 1, 2, … in their order: it takes their
 * seqs from event_log_head (when there are any), inserts them into
 * event_log and returns them (EVENT_COLUMNS). */
#define EVENT_LOG_TAIL(e) \
    " s AS (UPDATE event_log_head SET seq = seq + (SELECT count(*) FROM " \
    e ") WHERE EXISTS (SELECT FROM " e ")" \
    " RETURNING seq - (SELECT count(*) FROM " e ") AS base)" \
    " INSERT INTO event_log (" EVENT_COLUMNS ") SELECT s.base + " e \
    ".ord, " e ".event_id, " e ".type, " e ".key, " e ".producer, " e \
    ".schema_version, " e ".occurred_at_us, " e ".payload FROM " e ", s" \
    " RETURNING " EVENT_COLUMNS
#define EVENT_LOG_E_COLUMNS \
    "ord, event_id, type, key, producer, schema_version, occurred_at_us, " \
    "payload"

/* The bus this process publishes on (service.c); NULL: none. */
void outbox_set_publisher(bus_t *bus);
/* Publishes the events of r (EVENT_COLUMNS, binary), in seq order, on
 * bus (NULL: this process's publisher, if any). Call it only once they
 * are committed. */
void outbox_publish(bus_t *bus, const PGresult *r);
/* Flushes rb — a statement ending with EVENT_LOG_TAIL — keeping its
 * events for outbox_log_done; its last writing statement (see above). */
bool outbox_log_flush(rowbuf_t *rb, PGconn *conn)
    __attribute__((warn_unused_result));
/* After the transaction of outbox_log_flush: publishes its events when
 * it committed, forgets them either way. */
void outbox_log_done(bool committed);

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
 * spine statement "event_put" (OUTBOX_PUT_COLS columns), which logs a
 * batch's events set-based; the consumer sends it last before its
 * commit with outbox_log_flush (consumer_cfg.flush). */
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
