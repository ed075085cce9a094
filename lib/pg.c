#include "pg.h"

#include "log.h"
#include "outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pgpool {
    char *conninfo;
    const struct pg_stmt *stmts;
    int size, idle_n, open_n;
    PGconn **idle;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static PGconn *connect_prepared(const char *conninfo, bool spine,
                                const struct pg_stmt *stmts, char *err,
                                size_t errlen)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    /* no DETAIL ("Failing row contains …") in messages: they would carry
     * personal data into logs and dead letters */
    PQsetErrorVerbosity(c, PQERRORS_TERSE);
    const struct pg_stmt *tables[2] = {spine ? spine_stmts : NULL, stmts};
    for (int t = 0; t < 2; t++)
    for (const struct pg_stmt *s = tables[t]; s && s->name; s++) {
        PGresult *r = PQprepare(c, s->name, s->sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "prepare %s: %s", s->name,
                     PQresultErrorMessage(r));
            PQclear(r);
            PQfinish(c);
            return NULL;
        }
        PQclear(r);
    }
    return c;
}

PGconn *pg_connect(const char *conninfo, const struct pg_stmt *stmts,
                   char *err, size_t errlen)
{
    return connect_prepared(conninfo, true, stmts, err, errlen);
}

PGconn *pg_connect_plain(const char *conninfo, char *err, size_t errlen)
{
    return connect_prepared(conninfo, false, NULL, err, errlen);
}

PGconn *pg_connect_retry(const char *conninfo, const struct pg_stmt *stmts,
                         volatile sig_atomic_t *stop)
{
    long delay_ms = 100;
    char err[512];
    while (!*stop) {
        PGconn *c = pg_connect(conninfo, stmts, err, sizeof(err));
        if (c)
            return c;
        log_warn("pg.reconnect", "%s; retrying in %ld ms", err, delay_ms);
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        delay_ms = delay_ms * 2 > 5000 ? 5000 : delay_ms * 2;
    }
    return NULL;
}

static _Thread_local char last_sqlstate[6];
static _Thread_local char last_message[200];

/* Keeps the first failure of a transaction: a later 25P02 ("current
 * transaction is aborted") says nothing about the cause. */
static void remember_state(const PGresult *r)
{
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (st && strcmp(st, "25P02") == 0 && last_sqlstate[0])
        return;
    snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", st ? st : "08000");
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(last_message, sizeof(last_message), "%s %s", last_sqlstate,
             m ? m : "no connection");
}

void pg_clear_state(void)
{
    last_sqlstate[0] = '\0';
    last_message[0] = '\0';
}

const char *pg_last_error(void)
{
    return last_message;
}

bool pg_check(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return true;
    remember_state(r);
    return false;
}

bool pg_transient_failure(void)
{
    if (!last_sqlstate[0])
        return false;
    /* 08 connection, 40 rollback (deadlock, serialization), 53
     * resources, 57 operator intervention (shutdown) */
    return strncmp(last_sqlstate, "08", 2) == 0 ||
           strncmp(last_sqlstate, "40", 2) == 0 ||
           strncmp(last_sqlstate, "53", 2) == 0 ||
           strncmp(last_sqlstate, "57", 2) == 0;
}

bool pg_exec(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        remember_state(r);
    if (!ok)
        log_error("pg.exec", "%.60s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

PGresult *pg_run(PGconn *conn, const char *stmt, int n,
                 const char *const *params)
{
    PGresult *r = PQexecPrepared(conn, stmt, n, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    remember_state(r);
    log_error("pg.run", "%s: %s", stmt, PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}

bool pg_lost(PGconn *conn)
{
    return !conn || PQstatus(conn) != CONNECTION_OK;
}

pgpool_t *pgpool_new(const char *conninfo, int size,
                     const struct pg_stmt *stmts)
{
    pgpool_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->conninfo = strdup(conninfo);
    self->stmts = stmts;
    self->size = size;
    self->idle = calloc((size_t)size, sizeof(PGconn *));
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    return self;
}

void pgpool_destroy(pgpool_t **self_p)
{
    pgpool_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->idle_n; i++)
        PQfinish(self->idle[i]);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->cond);
    free(self->idle);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

PGconn *pgpool_acquire(pgpool_t *self, char *err, size_t errlen)
{
    pthread_mutex_lock(&self->lock);
    while (self->idle_n == 0 && self->open_n >= self->size)
        pthread_cond_wait(&self->cond, &self->lock);
    PGconn *c = NULL;
    if (self->idle_n > 0)
        c = self->idle[--self->idle_n];
    else
        self->open_n++;
    pthread_mutex_unlock(&self->lock);

    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    if (!c)
        c = pg_connect(self->conninfo, self->stmts, err, errlen);
    if (!c) {
        pthread_mutex_lock(&self->lock);
        self->open_n--;
        pthread_cond_signal(&self->cond);
        pthread_mutex_unlock(&self->lock);
    }
    return c;
}

void pgpool_release(pgpool_t *self, PGconn *conn)
{
    if (conn && (PQstatus(conn) != CONNECTION_OK ||
                 PQtransactionStatus(conn) != PQTRANS_IDLE)) {
        PQfinish(conn);
        conn = NULL;
    }
    pthread_mutex_lock(&self->lock);
    if (conn)
        self->idle[self->idle_n++] = conn;
    else
        self->open_n--;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
}
