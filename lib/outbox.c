#include "outbox.h"

#include "log.h"
#include "rowbuf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct pg_stmt spine_stmts[] = {
    {"outbox_add",
     "INSERT INTO event_outbox (" OUTBOX_COLUMNS ")"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)"},
    {"event_put", /* set-based, logged here: outbox_gather */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY"
     " AS v (" OUTBOX_TEXT_COLUMNS ", n)),"
     " e (" EVENT_LOG_E_COLUMNS ") AS (SELECT v.n, " OUTBOX_FROM_TEXT("v")
     " FROM v)," EVENT_LOG_TAIL("e")},
    {"outbox_fetch",
     "SELECT " EVENT_COLUMNS " FROM event_log WHERE seq > $1"
     " ORDER BY seq LIMIT $2"},
    {"relay_move",
     "WITH moved AS (DELETE FROM event_outbox WHERE id IN"
     " (SELECT id FROM event_outbox ORDER BY id LIMIT $1) RETURNING *),"
     " e (" EVENT_LOG_E_COLUMNS ") AS (SELECT row_number() OVER"
     " (ORDER BY id), event_id, type, key, producer, schema_version,"
     " occurred_at_us, payload FROM moved)," EVENT_LOG_TAIL("e")},
    {"offset_lock",
     "SELECT last_seq FROM consumer_offset WHERE consumer = $1 FOR UPDATE"},
    /* the same, with what event_log holds for the $2 events after the
     * offset — every field of each envelope, the texts and the payload
     * as SHA-256 (consumer.c tied): a batch from the bus is applied only
     * as committed */
    {"offset_lock_tied",
     "SELECT o.last_seq, (SELECT string_agg(l.event_id || ':' || l.type"
     " || ':' || l.schema_version || ':' || l.occurred_at_us"
     " || ':' || encode(sha256(convert_to(l.producer, 'UTF8')), 'hex')"
     " || ':' || encode(sha256(convert_to(l.key, 'UTF8')), 'hex')"
     " || ':' || encode(sha256(l.payload), 'hex'), ',' ORDER BY l.seq)"
     " FROM event_log l WHERE l.seq > o.last_seq"
     " AND l.seq <= o.last_seq + $2::bigint)"
     " FROM consumer_offset o WHERE o.consumer = $1 FOR UPDATE OF o"},
    {"offset_init",
     "INSERT INTO consumer_offset (consumer) VALUES ($1)"
     " ON CONFLICT DO NOTHING"},
    {"offset_set",
     "UPDATE consumer_offset SET last_seq = $2, updated_at = now()"
     " WHERE consumer = $1"},
    {"dead_letter",
     "INSERT INTO dead_letter (consumer, seq, event_id, type, reason,"
     " payload) VALUES ($1, $2, $3, $4, $5, $6)"
     " ON CONFLICT (consumer, seq) DO NOTHING"},
    {"auth_token",
     "SELECT principal, coalesce(employee, ''),"
     " coalesce(extract(epoch FROM expires_at)::bigint, 0) FROM api_token"
     " WHERE token_hash = $1"
     " AND revoked_at IS NULL"
     " AND (expires_at IS NULL OR expires_at > now())"},
    {NULL, NULL},
};

/* Fills o's parameters for payload (kept by the caller). */
static void row_params(struct outbox_row *o, const char *producer, int type,
                       const char *key, const uint8_t *payload, size_t len)
{
    event_new_id(o->id);
    snprintf(o->type_s, sizeof(o->type_s), "%d", type);
    snprintf(o->ver_s, sizeof(o->ver_s), "%d", KEZEK_SCHEMA_VERSION);
    snprintf(o->at_s, sizeof(o->at_s), "%lld", (long long)now_us());
    const char *p[7] = {o->id, o->type_s, key, producer, o->ver_s, o->at_s,
                        payload ? (const char *)payload : ""};
    memcpy(o->params, p, sizeof(p));
    memset(o->lens, 0, sizeof(o->lens));
    memset(o->fmts, 0, sizeof(o->fmts));
    o->lens[6] = (int)len;
    o->fmts[6] = 1;
}

bool outbox_add_row(PGconn *conn, const struct outbox_row *o)
{
    /* in a pipelined unit of work this costs no round trip */
    return pg_defer(conn, "outbox_add", 7, o->params, o->lens, o->fmts);
}

bool outbox_add(PGconn *conn, const char *producer, int type,
                const char *key, const uint8_t *payload, size_t len)
{
    struct outbox_row o = {0};
    row_params(&o, producer, type, key, payload, len);
    return outbox_add_row(conn, &o);
}

bool outbox_row_init(struct outbox_row *o, const char *producer, int type,
                     const char *key, const ProtobufCMessage *msg)
{
    memset(o, 0, sizeof(*o));
    size_t len = protobuf_c_message_get_packed_size(msg);
    o->payload = malloc(len ? len : 1);
    if (!o->payload)
        return false;
    protobuf_c_message_pack(msg, o->payload);
    row_params(o, producer, type, key, o->payload, len);
    return true;
}

bool outbox_row_texts(const struct outbox_row *o, const char **vals,
                      char **hex)
{
    *hex = rowbuf_hex((const uint8_t *)o->params[6], (size_t)o->lens[6]);
    if (!*hex)
        return false;
    memcpy(vals, o->params, 6 * sizeof(char *));
    vals[6] = *hex;
    return true;
}

void outbox_row_free(struct outbox_row *o)
{
    free(o->payload);
    o->payload = NULL;
}

bool outbox_gather(rowbuf_t *rb, PGconn *conn, const char *producer,
                   int type, const char *key, const ProtobufCMessage *msg)
{
    struct outbox_row o;
    const char *vals[OUTBOX_PUT_COLS];
    char *hex = NULL;
    bool ok = outbox_row_init(&o, producer, type, key, msg) &&
              outbox_row_texts(&o, vals, &hex) &&
              rowbuf_add(rb, conn, NULL, vals);
    free(hex);
    outbox_row_free(&o);
    return ok;
}

bool outbox_add_msg(PGconn *conn, const char *producer, int type,
                    const char *key, const ProtobufCMessage *msg)
{
    struct outbox_row o;
    bool ok = outbox_row_init(&o, producer, type, key, msg) &&
              outbox_add_row(conn, &o);
    outbox_row_free(&o);
    return ok;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (uint8_t)p[i];
    return v;
}

static uint32_t be32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static void copy_field(char *dst, size_t cap, const PGresult *r, int row,
                       int col)
{
    int n = PQgetlength(r, row, col);
    if ((size_t)n >= cap)
        n = (int)cap - 1;  /* over-long ids are cut, then fail validation */
    memcpy(dst, PQgetvalue(r, row, col), (size_t)n);
    dst[n] = '\0';
}

bool outbox_row_event(const PGresult *r, int row, event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->seq = be64(PQgetvalue(r, row, EVCOL_SEQ));
    copy_field(ev->event_id, sizeof(ev->event_id), r, row, EVCOL_EVENT_ID);
    ev->type = (int)be32(PQgetvalue(r, row, EVCOL_TYPE));
    copy_field(ev->key, sizeof(ev->key), r, row, EVCOL_KEY);
    copy_field(ev->producer, sizeof(ev->producer), r, row, EVCOL_PRODUCER);
    ev->schema_version = be32(PQgetvalue(r, row, EVCOL_SCHEMA_VERSION));
    ev->occurred_at_us =
        (int64_t)be64(PQgetvalue(r, row, EVCOL_OCCURRED_AT_US));
    int n = PQgetlength(r, row, EVCOL_PAYLOAD);
    ev->payload = malloc(n ? (size_t)n : 1);
    if (!ev->payload)
        return false; /* out of memory: retry, never dead-letter */
    memcpy(ev->payload, PQgetvalue(r, row, EVCOL_PAYLOAD), (size_t)n);
    ev->payload_len = (size_t)n;
    return true;
}

int outbox_fetch(PGconn *conn, uint64_t after, int max, event_t *evs)
{
    char after_s[32], max_s[16];
    snprintf(after_s, sizeof(after_s), "%llu", (unsigned long long)after);
    snprintf(max_s, sizeof(max_s), "%d", max);
    const char *p[2] = {after_s, max_s};
    PGresult *r = PQexecPrepared(conn, "outbox_fetch", 2, p, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error("outbox.fetch", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = outbox_row_event(r, i, &evs[i]) && ok;
    PQclear(r);
    if (!ok) {
        for (int i = 0; i < n; i++)
            event_clear(&evs[i]);
        return -1;
    }
    return n;
}

/* The bus of this process (service.c): its relay and its producers
 * publish on it, from their threads (bus_publish is serialized). */
static bus_t *publisher;

void outbox_set_publisher(bus_t *bus)
{
    publisher = bus;
}

static int by_seq(const void *a, const void *b)
{
    const event_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void outbox_publish(bus_t *bus, const PGresult *r)
{
    if (!bus)
        bus = publisher;
    int n = r ? PQntuples(r) : 0;
    if (!bus || n == 0)
        return;
    /* committed already: a frame we cannot build is only a missed
     * doorbell, and consumers read event_log anyway */
    event_t *evs = calloc((size_t)n, sizeof(event_t));
    if (!evs)
        return;
    for (int i = 0; i < n; i++)
        if (!outbox_row_event(r, i, &evs[i]))
            evs[i].seq = 0;
    qsort(evs, (size_t)n, sizeof(event_t), by_seq);
    for (int i = 0; i < n; i++) {
        if (evs[i].seq)
            bus_publish(bus, &evs[i]);
        event_clear(&evs[i]);
    }
    free(evs);
}

/* The events this thread's open transaction logged (outbox_log_flush),
 * to publish once it commits. */
static _Thread_local struct {
    PGresult *r[PG_PIPE_KEEP];
    int n;
} logged;

bool outbox_log_flush(rowbuf_t *rb, PGconn *conn)
{
    if (rowbuf_rows(rb) == 0)
        return true;
    if (logged.n == PG_PIPE_KEEP) /* never kept: only a doorbell less */
        return rowbuf_flush(rb, conn);
    return rowbuf_flush_keep(rb, conn, &logged.r[logged.n++]);
}

void outbox_log_done(bool committed)
{
    for (int i = 0; i < logged.n; i++) {
        if (committed)
            outbox_publish(NULL, logged.r[i]);
        PQclear(logged.r[i]);
        logged.r[i] = NULL;
    }
    logged.n = 0;
}
