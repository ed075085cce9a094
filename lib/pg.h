/* pg — libpq connections: a small pool, reconnect with backoff, named
 * prepared statements.
 *
 * Each service declares its SQL once as a table of pg_stmt; every new
 * connection prepares the whole table, so callers only PQexecPrepared. */
#ifndef KEZEK_PG_H
#define KEZEK_PG_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct pg_stmt {
    const char *name;
    const char *sql;
};

typedef struct pgpool pgpool_t;

/* stmts may be NULL; the table must outlive the pool. */
pgpool_t *pgpool_new(const char *conninfo, int size,
                     const struct pg_stmt *stmts);
void pgpool_destroy(pgpool_t **self_p);
/* sql (static) runs on every connection the pool opens from now on,
 * e.g. a SET for the session. */
void pgpool_set_setup(pgpool_t *self, const char *sql);

/* A healthy connection, or NULL (and err) when Postgres is unreachable.
 * Blocks while all connections are in use. An idle connection the server
 * has closed (a restart, a failover) is replaced without a round trip. */
PGconn *pgpool_acquire(pgpool_t *self, char *err, size_t errlen);
/* Connections acquired and not yet released (or being opened). */
int pgpool_in_use(pgpool_t *self);
/* Returns conn; a broken or mid-transaction connection is closed. When
 * it was gone (or this thread's last statement found it gone), every
 * idle connection opened before then is closed as well. */
void pgpool_release(pgpool_t *self, PGconn *conn);

/* Names the connections this thread opens from now on in
 * pg_stat_activity ("kezek-<service>/<role>"; role NULL: the service
 * alone), unless the conninfo names them itself. */
void pg_set_role(const char *role);

/* conninfo with user=user added when it names no user itself (each
 * service connects as its own role, kezek_<service>: least privilege,
 * issue 21); malloc'd, NULL when conninfo cannot be parsed (err). */
char *pg_conninfo_user(const char *conninfo, const char *user, char *err,
                       size_t errlen);

/* A table that every connection of this process prepares besides its
 * own (pg_connect, the pools): the spine's statements (outbox.h
 * spine_stmts), registered by the spine's users — service_init, the
 * consumer, the relay, the tests' kit. NULL: none. */
void pg_common_stmts(const struct pg_stmt *stmts);

/* Connects and prepares the common table and stmts; NULL with err on
 * failure. */
PGconn *pg_connect(const char *conninfo, const struct pg_stmt *stmts,
                   char *err, size_t errlen);
/* Connects without preparing anything (migrations, tools). */
PGconn *pg_connect_plain(const char *conninfo, char *err, size_t errlen);
/* Retries pg_connect with exponential backoff (100 ms … 5 s) until it
 * succeeds or *stop becomes non-zero (then NULL). */
PGconn *pg_connect_retry(const char *conninfo, const struct pg_stmt *stmts,
                         volatile sig_atomic_t *stop);

/* Runs sql (no parameters); true when it completed. */
bool pg_exec(PGconn *conn, const char *sql)
    __attribute__((warn_unused_result));
/* Runs a prepared statement; the result when it succeeded (caller
 * PQclears), else NULL after logging the error under event. */
PGresult *pg_run(PGconn *conn, const char *stmt, int n,
                 const char *const *params)
    __attribute__((warn_unused_result));
/* pg_run for a statement put together at run time (a list's filters:
 * each execution planned for the filters it has), never in a pipeline;
 * the values only ever as parameters. */
PGresult *pg_query(PGconn *conn, const char *sql, int n,
                   const char *const *params)
    __attribute__((warn_unused_result));
/* pg_run with parameter lengths/formats (binary parameters) and the
 * result format (0 text, 1 binary); lens and fmts may be NULL. */
PGresult *pg_run_bin(PGconn *conn, const char *stmt, int n,
                     const char *const *params, const int *lens,
                     const int *fmts, int result_fmt)
    __attribute__((warn_unused_result));

/* Pipelining (libpq pipeline mode) for a unit of work of this thread.
 *
 * Between pg_pipe_begin and pg_pipe_end, pg_defer only sends (its
 * result is checked later), while pg_run/pg_exec send, flush and read
 * every result up to their own, so order is kept and a read sees every
 * write before it. Statements the caller does not need an answer from
 * therefore cost no round trip of their own: a unit of work costs one
 * round trip per read, plus one. Outside a pipeline pg_defer executes
 * at once. Results stay small (command tags), so the socket buffers
 * cannot fill up both ways; keep units bounded (a consumer batch). */
bool pg_pipe_begin(PGconn *conn) __attribute__((warn_unused_result));
/* Sends a statement whose result only needs to be OK; false when it
 * could not be sent (or, outside a pipeline, failed). */
bool pg_defer(PGconn *conn, const char *stmt, int n,
              const char *const *params, const int *lens, const int *fmts)
    __attribute__((warn_unused_result));
/* pg_defer whose result is wanted after all (in result_fmt: 0 text,
 * 1 binary): *out receives it once read — at the next pg_run/pg_exec of
 * the pipeline or at pg_pipe_end — if it succeeded, else stays NULL; the
 * caller PQclears it. Outside a pipeline it runs at once. At most
 * PG_PIPE_KEEP per pipeline; out must stay valid until pg_pipe_end. */
#define PG_PIPE_KEEP 4
bool pg_defer_keep(PGconn *conn, const char *stmt, int n,
                   const char *const *params, const int *lens,
                   const int *fmts, int result_fmt, PGresult **out)
    __attribute__((warn_unused_result));
/* pg_defer for a statement without parameters (BEGIN, COMMIT). */
bool pg_defer_exec(PGconn *conn, const char *sql)
    __attribute__((warn_unused_result));
/* Flushes the pipeline and reads every result owed so far (kept ones
 * into their places) without ending it; false when one failed. */
bool pg_pipe_read(PGconn *conn) __attribute__((warn_unused_result));
/* Syncs, reads every outstanding result and leaves pipeline mode; true
 * when every statement since pg_pipe_begin succeeded. Without an open
 * pipeline: true. After false the transaction (if any) is aborted and
 * needs ROLLBACK. */
bool pg_pipe_end(PGconn *conn) __attribute__((warn_unused_result));

/* True when the last failed pg_run/pg_exec/pg_check of this thread
 * failed for a reason worth retrying (connection, deadlock, shutdown). */
bool pg_transient_failure(void);
/* Forgets this thread's last failure (call before a unit of work). */
void pg_clear_state(void);
/* True when, since pg_clear_state, a statement of this thread failed
 * because its connection was gone (class 08, 57P01–57P03): a read may
 * be tried again on a fresh connection. */
bool pg_lost_here(void);
/* "SQLSTATE primary message" of this thread's first failure since
 * pg_clear_state; never DETAIL (no row data, no personal data). */
const char *pg_last_error(void);
/* Records r's failure for pg_transient_failure; true when r is OK. */
bool pg_check(const PGresult *r);
/* True when the connection is gone (reconnect rather than retry). */
bool pg_lost(PGconn *conn);

/* Applies the embedded migrations not yet applied; false with err. */
bool pg_migrate(PGconn *conn, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
