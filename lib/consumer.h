/* consumer — at-least-once delivery, exactly-once effects.
 *
 * A consumer group (name) keeps its offset in consumer_offset and
 * advances it in the same transaction as the effects of a batch. It
 * follows the bus when the frames it receives are contiguous with its
 * offset and reads event_log otherwise (start, gap, quiet bus): the
 * "Clone" pattern. After a crash it replays at most its uncommitted
 * batch. Poison events go to dead_letter with the reason. */
#ifndef KEZEK_CONSUMER_H
#define KEZEK_CONSUMER_H

#include "event.h"
#include "pg.h"

#include <signal.h>

enum handle_rc {
    HANDLE_OK = 0,   /* effects written (or the event was not for us) */
    HANDLE_POISON,   /* undecodable or violates an invariant: skip it */
    HANDLE_ERROR,    /* SQL failed: the batch is rolled back and retried */
};

struct consumer_cfg {
    const char *name;          /* consumer group */
    const char *conninfo;
    const struct pg_stmt *stmts;
    const char *bus_endpoints; /* comma-separated; NULL: poll only */
    int batch_size;
    /* while busy (the last batch committed moments ago), wait up to this
     * long for a fuller batch: one commit for many events under load,
     * no wait for the first event after a quiet spell; 0: never */
    int linger_ms;
    int idle_poll_ms;          /* read event_log when the bus is quiet */
    /* Writes the effects of ev inside the open transaction. conn is in
     * pipeline mode (pg.h): use pg_run/pg_run_bin for reads, pg_defer
     * for writes whose answer is not needed (their failure shows at the
     * commit and is traced to its event like any other), never the
     * synchronous PQexec*. On HANDLE_POISON, why says what is wrong (no
     * personal data). */
    enum handle_rc (*handle)(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen);
    /* Before the handlers, in the transaction: reads what the batch's
     * handlers will need in one statement instead of one each (e.g.
     * registry facts); false when that failed (the batch is rolled back
     * and replayed like a handler's error). May be NULL. */
    bool (*prepare)(void *ctx, PGconn *conn, const event_t *evs, int n);
    /* Before the commit: sends what the handlers gathered for the whole
     * batch (rowbuf_flush); false when that failed. May be NULL. The
     * batch's events go last (outbox_log_flush, outbox.h): they hold
     * the event_log_head row from there to the commit, after which the
     * consumer publishes them. */
    bool (*flush)(void *ctx, PGconn *conn);
    /* After a batch committed (Redis writes etc.: before its events go
     * on the bus, so that whoever takes them from there finds those
     * done), or rolled back. */
    void (*committed)(void *ctx);
    void (*rolled_back)(void *ctx);
    void *ctx;
};

/* Runs until *stop; finishes the batch in hand, commits and returns 0.
 * Returns -1 on a configuration error (logged). */
int consumer_run(const struct consumer_cfg *cfg,
                 volatile sig_atomic_t *stop);

#endif
