/* rowbuf — rows gathered during a consumer batch and written by one
 * statement (set-based: each column is an array parameter the statement
 * unnests), instead of one statement per row.
 *
 * A statement costs Postgres its bind, its locks on the table and every
 * index, executor start and end; for small rows that is most of the
 * work, so n rows in one statement cost little more than one. The
 * statement takes each column as a text[] parameter ($1 … $ncols; sent
 * in binary, so values are copied, never quoted and parsed) and casts:
 * "… FROM unnest($1::text[], $2::text[]) AS v (id, doc) …",
 * "v.doc::jsonb". Binary values are added hex-encoded (rowbuf_hex) and
 * decoded in SQL with decode(v.x, 'hex').
 *
 * Consumers plan a statement once (a generic plan, consumer.c), for
 * arrays of unknown length and the tables as they were then. That is
 * right for inserts and for reads that reach each table by key per row
 * (correlated subqueries; EXISTS or a join to one row written as
 * LATERAL … LIMIT 1, which a plan cannot turn into hashing the whole
 * table). A statement that would join its rows to a large table
 * (UPDATE … FROM) is written to reach them by key instead (an upsert,
 * INSERT … ON CONFLICT): such a join's generic plan, made while the
 * table was small, went on scanning it whole as it grew (27 ms a batch
 * at 40,000 applications).
 *
 * A row may carry a key: adding a row whose key is already buffered
 * flushes the buffer first, so that two effects on one row apply in
 * order rather than in one UPDATE … FROM (which would apply only one).
 * Not thread-safe: one per consumer. */
#ifndef KEZEK_ROWBUF_H
#define KEZEK_ROWBUF_H

#include "pg.h"

#include <stdint.h>

typedef struct rowbuf rowbuf_t;

/* stmt: a prepared statement taking ncols text[] parameters. */
rowbuf_t *rowbuf_new(const char *stmt, int ncols);
void rowbuf_destroy(rowbuf_t **self_p);

/* Adds a row of ncols values (NULL: SQL NULL), copied. key (may be
 * NULL) identifies the row's target; see above. False when out of
 * memory or when the early flush failed to be sent. */
bool rowbuf_add(rowbuf_t *self, PGconn *conn, const char *key,
                const char *const *vals) __attribute__((warn_unused_result));
/* Hex text of len bytes, for a bytea column (caller frees). */
char *rowbuf_hex(const uint8_t *bytes, size_t len);

/* Whenever self is sent (at the end or early), first sends before: the
 * rows of self may depend on those (e.g. join them). */
void rowbuf_after(rowbuf_t *self, rowbuf_t *before);

int rowbuf_rows(const rowbuf_t *self);
/* Sends the statement for the buffered rows (deferred: pg_defer) and
 * empties the buffer; true when there was nothing to send. */
bool rowbuf_flush(rowbuf_t *self, PGconn *conn)
    __attribute__((warn_unused_result));
/* rowbuf_flush whose result is wanted, in binary format: pg_defer_keep
 * (pg.h) puts it in *keep (NULL when there were no rows or it failed). */
bool rowbuf_flush_keep(rowbuf_t *self, PGconn *conn, PGresult **keep)
    __attribute__((warn_unused_result));
/* Runs the statement for the buffered rows (at least one) now and
 * returns its result (NULL on failure, logged), emptying the buffer. */
PGresult *rowbuf_run(rowbuf_t *self, PGconn *conn)
    __attribute__((warn_unused_result));
/* rowbuf_run with the result in result_fmt (0 text, 1 binary). */
PGresult *rowbuf_run_fmt(rowbuf_t *self, PGconn *conn, int result_fmt)
    __attribute__((warn_unused_result));
/* Forgets the buffered rows (the batch rolled back). */
void rowbuf_clear(rowbuf_t *self);

#endif
