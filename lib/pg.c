#include "pg.h"

#include "event.h"
#include "log.h"
#include "metrics.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A connection of the pool and when it was opened. */
struct pool_conn {
    PGconn *conn;
    int64_t born_us;
};

struct pgpool {
    char *conninfo;
    const struct pg_stmt *stmts;
    const char *setup;
    int size, idle_n, open_n;
    struct pool_conn *idle;    /* LIFO */
    struct pool_conn *busy;    /* acquired ones, by pointer */
    int busy_n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};


static _Thread_local char conn_role[32];
static const struct pg_stmt *_Atomic common_stmts;

void pg_common_stmts(const struct pg_stmt *stmts)
{
    common_stmts = stmts;
}

void pg_set_role(const char *role)
{
    snprintf(conn_role, sizeof(conn_role), "%s", role ? role : "");
}

/* A server's NOTICE or WARNING as a JSON line (not libpq's raw line on
 * stderr). */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    char m[240];
    snprintf(m, sizeof(m), "%s", message);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    log_debug("pg.notice", "%s", m);
}

static PGconn *connect_prepared(const char *conninfo, bool common,
                                const struct pg_stmt *stmts, char *err,
                                size_t errlen)
{
    char app[64];
    const char *svc = log_service_name();
    snprintf(app, sizeof(app), "%s%s%s%s", strcmp(svc, "kezek") ? "kezek-"
             : "", svc, conn_role[0] ? "/" : "", conn_role);
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *vals[] = {conninfo, app, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    /* no DETAIL ("Failing row contains …") in messages: they would carry
     * personal data into logs and dead letters */
    PQsetErrorVerbosity(c, PQERRORS_TERSE);
    PQsetNoticeProcessor(c, on_notice, NULL);
    const struct pg_stmt *tables[2] = {common ? common_stmts : NULL, stmts};
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

/* Appends key='value' (quoted for a conninfo string) to *out. */
static bool conninfo_add(char **out, size_t *len, const char *key,
                         const char *val)
{
    size_t need = *len + strlen(key) + 2 * strlen(val) + 5;
    char *n = realloc(*out, need);
    if (!n)
        return false;
    *out = n;
    char *w = n + *len;
    w += sprintf(w, "%s%s='", *len ? " " : "", key);
    for (const char *v = val; *v; v++) {
        if (*v == '\\' || *v == '\'')
            *w++ = '\\';
        *w++ = *v;
    }
    *w++ = '\'';
    *w = '\0';
    *len = (size_t)(w - n);
    return true;
}

char *pg_conninfo_user(const char *conninfo, const char *user, char *err,
                       size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        snprintf(err, errlen, "pg: bad conninfo: %s",
                 perr ? perr : "out of memory");
        PQfreemem(perr);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    bool has_user = false, ok = true;
    for (PQconninfoOption *o = opts; o->keyword && ok; o++) {
        if (!o->val || !*o->val)
            continue;
        if (strcmp(o->keyword, "user") == 0)
            has_user = true;
        ok = conninfo_add(&out, &len, o->keyword, o->val);
    }
    if (ok && !has_user && user)
        ok = conninfo_add(&out, &len, "user", user);
    PQconninfoFree(opts);
    if (ok && !out)
        out = strdup(""); /* nothing set, no user asked for */
    if (!ok || !out) {
        free(out);
        snprintf(err, errlen, "pg: out of memory");
        return NULL;
    }
    return out;
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
static _Thread_local bool lost_here;

/* The connection is gone, not the statement wrong: class 08, or the
 * server shutting down or restarting (57P01–57P03). */
static bool sqlstate_lost(const char *st)
{
    return strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 ||
           strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0;
}

/* Keeps the first failure of a transaction: a later 25P02 ("current
 * transaction is aborted") says nothing about the cause. */
static void remember_state(const PGresult *r)
{
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (st && strcmp(st, "25P02") == 0 && last_sqlstate[0])
        return;
    snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", st ? st : "08000");
    if (sqlstate_lost(last_sqlstate))
        lost_here = true;
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(last_message, sizeof(last_message), "%s %s", last_sqlstate,
             m ? m : "no connection");
}

void pg_clear_state(void)
{
    last_sqlstate[0] = '\0';
    last_message[0] = '\0';
    lost_here = false;
}

bool pg_lost_here(void)
{
    return lost_here;
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

/* The open pipeline of this thread: its connection, how many results
 * it still owes, and whether one of them failed already. */
static _Thread_local struct {
    PGconn *conn;
    int pending;
    bool failed;
    int sent, read;            /* statements sent, results read */
    struct {
        int at;                /* the statement's place in the pipeline */
        PGresult **out;
    } keep[PG_PIPE_KEEP];
    int nkeep;
} pipe_;

static bool in_pipe(PGconn *conn)
{
    return conn && pipe_.conn == conn;
}

/* Reads one statement's result in a pipeline (and the NULL after it).
 * Returns it when it succeeded and keep, else clears it; *ok false on
 * failure (the first failure is remembered and logged). */
static PGresult *pipe_result(PGconn *conn, const char *what, bool keep,
                             bool *ok)
{
    PGresult *r = PQgetResult(conn);
    if (!r) { /* out of step with the server: give up the connection */
        pipe_.failed = true;
        *ok = false;
        snprintf(last_sqlstate, sizeof(last_sqlstate), "08000");
        snprintf(last_message, sizeof(last_message),
                 "08000 pipeline out of step");
        lost_here = true;
        return NULL;
    }
    ExecStatusType st = PQresultStatus(r);
    bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!good) {
        *ok = false;
        if (st != PGRES_PIPELINE_ABORTED) {
            remember_state(r);
            log_error("pg.pipe", "%s: %s", what, PQresultErrorMessage(r));
        }
        pipe_.failed = true;
    }
    PGresult *end;
    while ((end = PQgetResult(conn)) != NULL) /* NULL ends each result */
        PQclear(end);
    if (good && keep)
        return r;
    PQclear(r);
    return NULL;
}

/* Reads the result of the next deferred statement: into the place
 * pg_defer_keep gave for it, or cleared. */
static void pipe_deferred(PGconn *conn, bool *ok)
{
    PGresult **out = NULL;
    for (int i = 0; i < pipe_.nkeep; i++)
        if (pipe_.keep[i].at == pipe_.read)
            out = pipe_.keep[i].out;
    pipe_.pending--;
    pipe_.read++;
    PGresult *r = pipe_result(conn, "deferred statement", out != NULL, ok);
    if (out)
        *out = r;
}

/* Flushes the pipeline and reads the results owed before the last
 * statement sent; false when one of them failed. */
static bool pipe_catch_up(PGconn *conn, int before_last)
{
    bool ok = !pipe_.failed;
    if (PQsendFlushRequest(conn) != 1 || PQflush(conn) != 0)
        ok = false;
    while (pipe_.pending > before_last)
        pipe_deferred(conn, &ok);
    return ok;
}

bool pg_pipe_begin(PGconn *conn)
{
    if (PQenterPipelineMode(conn) != 1)
        return false;
    pipe_.conn = conn;
    pipe_.pending = 0;
    pipe_.failed = false;
    pipe_.sent = pipe_.read = pipe_.nkeep = 0;
    return true;
}

/* Sends one statement into the pipeline — prepared stmt, or sql when
 * stmt is NULL — and counts it as owed; false (the pipeline failed)
 * when it could not be sent. */
static bool pipe_send(PGconn *conn, const char *stmt, const char *sql,
                      int n, const char *const *params, const int *lens,
                      const int *fmts, int result_fmt)
{
    int sent = stmt ? PQsendQueryPrepared(conn, stmt, n, params, lens, fmts,
                                          result_fmt)
                    : PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL,
                                        NULL, result_fmt);
    if (sent != 1) {
        pipe_.failed = true;
        log_error("pg.pipe", "%.60s: %s", stmt ? stmt : sql,
                  PQerrorMessage(conn));
        return false;
    }
    pipe_.pending++;
    pipe_.sent++;
    return true;
}

bool pg_defer(PGconn *conn, const char *stmt, int n,
              const char *const *params, const int *lens, const int *fmts)
{
    if (!in_pipe(conn)) {
        PGresult *r = pg_run_bin(conn, stmt, n, params, lens, fmts, 0);
        PQclear(r);
        return r != NULL;
    }
    return pipe_send(conn, stmt, NULL, n, params, lens, fmts, 0);
}

bool pg_defer_exec(PGconn *conn, const char *sql)
{
    if (!in_pipe(conn))
        return pg_exec(conn, sql);
    return pipe_send(conn, NULL, sql, 0, NULL, NULL, NULL, 0);
}

bool pg_defer_keep(PGconn *conn, const char *stmt, int n,
                   const char *const *params, const int *lens,
                   const int *fmts, int result_fmt, PGresult **out)
{
    *out = NULL;
    if (!in_pipe(conn)) {
        *out = pg_run_bin(conn, stmt, n, params, lens, fmts, result_fmt);
        return *out != NULL;
    }
    if (pipe_.nkeep == PG_PIPE_KEEP) {
        pipe_.failed = true;
        log_error("pg.pipe", "%s: more than %d results kept", stmt,
                  PG_PIPE_KEEP);
        return false;
    }
    int at = pipe_.sent;
    if (!pipe_send(conn, stmt, NULL, n, params, lens, fmts, result_fmt))
        return false;
    pipe_.keep[pipe_.nkeep].at = at;
    pipe_.keep[pipe_.nkeep++].out = out;
    return true;
}

/* Sends one more statement in the pipeline and returns its result. */
static PGresult *pipe_run(PGconn *conn, const char *stmt, const char *sql,
                          int n, const char *const *params, const int *lens,
                          const int *fmts, int result_fmt)
{
    if (!pipe_send(conn, stmt, sql, n, params, lens, fmts, result_fmt))
        return NULL;
    bool ok = pipe_catch_up(conn, 1);
    pipe_.pending--;
    pipe_.read++;
    PGresult *r = pipe_result(conn, stmt ? stmt : sql, true, &ok);
    if (!ok) {
        PQclear(r);
        return NULL;
    }
    return r;
}

bool pg_pipe_read(PGconn *conn)
{
    if (!in_pipe(conn))
        return true;
    return pipe_catch_up(conn, 0);
}

bool pg_pipe_end(PGconn *conn)
{
    if (!in_pipe(conn))
        return true;
    bool ok = !pipe_.failed;
    if (PQpipelineSync(conn) != 1)
        ok = false;
    while (pipe_.pending > 0)
        pipe_deferred(conn, &ok);
    PGresult *r = PQgetResult(conn);
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        ok = false;
    PQclear(r);
    pipe_.conn = NULL;
    if (PQexitPipelineMode(conn) != 1) {
        log_error("pg.pipe", "cannot leave pipeline mode: %s",
                  PQerrorMessage(conn));
        ok = false;
    }
    return ok;
}

bool pg_exec(PGconn *conn, const char *sql)
{
    if (in_pipe(conn)) {
        PGresult *r = pipe_run(conn, NULL, sql, 0, NULL, NULL, NULL, 0);
        PQclear(r);
        return r != NULL;
    }
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

PGresult *pg_run_bin(PGconn *conn, const char *stmt, int n,
                     const char *const *params, const int *lens,
                     const int *fmts, int result_fmt)
{
    if (in_pipe(conn))
        return pipe_run(conn, stmt, NULL, n, params, lens, fmts,
                        result_fmt);
    PGresult *r = PQexecPrepared(conn, stmt, n, params, lens, fmts,
                                 result_fmt);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    remember_state(r);
    log_error("pg.run", "%s: %s", stmt, PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}

PGresult *pg_run(PGconn *conn, const char *stmt, int n,
                 const char *const *params)
{
    return pg_run_bin(conn, stmt, n, params, NULL, NULL, 0);
}

PGresult *pg_query(PGconn *conn, const char *sql, int n,
                   const char *const *params)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    remember_state(r);
    log_error("pg.query", "%s", PQresultErrorMessage(r));
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
    self->idle = calloc((size_t)size, sizeof(*self->idle));
    self->busy = calloc((size_t)size, sizeof(*self->busy));
    if (!self->conninfo || !self->idle || !self->busy) {
        free(self->conninfo);
        free(self->idle);
        free(self->busy);
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    return self;
}

int pgpool_in_use(pgpool_t *self)
{
    pthread_mutex_lock(&self->lock);
    int n = self->open_n - self->idle_n;
    pthread_mutex_unlock(&self->lock);
    return n;
}

void pgpool_set_setup(pgpool_t *self, const char *sql)
{
    self->setup = sql;
}

void pgpool_destroy(pgpool_t **self_p)
{
    pgpool_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->idle_n; i++)
        PQfinish(self->idle[i].conn);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->cond);
    free(self->idle);
    free(self->busy);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

/* Whether an idle connection is still there, without a round trip: a
 * pooled connection, idle, has nothing to read unless the server said
 * goodbye (a shutdown, a restart, a terminated backend) or the socket
 * closed — so anything to read condemns it. (Reading it to find out is
 * not enough: the FATAL can be read while libpq has not yet seen the
 * end of the stream, and the connection still says OK.) */
static bool idle_alive(PGconn *c)
{
    if (PQstatus(c) != CONNECTION_OK)
        return false;
    struct pollfd p = {PQsocket(c), POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

static void busy_add(pgpool_t *self, PGconn *c, int64_t born)
{
    self->busy[self->busy_n].conn = c;
    self->busy[self->busy_n++].born_us = born;
}

/* Removes c from the busy list (the lock held); its birth time. */
static int64_t busy_take(pgpool_t *self, PGconn *c)
{
    for (int i = 0; i < self->busy_n; i++)
        if (self->busy[i].conn == c) {
            int64_t born = self->busy[i].born_us;
            self->busy[i] = self->busy[--self->busy_n];
            return born;
        }
    return 0;
}

PGconn *pgpool_acquire(pgpool_t *self, char *err, size_t errlen)
{
    metric_t *dropped = metrics_counter("kezek_pg_stale_connections_total",
        "Pooled Postgres connections found gone and replaced", NULL);
    pthread_mutex_lock(&self->lock);
    while (self->idle_n == 0 && self->open_n >= self->size)
        pthread_cond_wait(&self->cond, &self->lock);
    struct pool_conn pc = {NULL, 0};
    if (self->idle_n > 0)
        pc = self->idle[--self->idle_n];
    else
        self->open_n++;
    pthread_mutex_unlock(&self->lock);

    if (pc.conn && !idle_alive(pc.conn)) {
        metric_inc(dropped);
        PQfinish(pc.conn);
        pc.conn = NULL;
    }
    if (!pc.conn) {
        pc.born_us = mono_us();
        pc.conn = pg_connect(self->conninfo, self->stmts, err, errlen);
        if (pc.conn && self->setup && !pg_exec(pc.conn, self->setup)) {
            snprintf(err, errlen, "connection setup failed");
            PQfinish(pc.conn);
            pc.conn = NULL;
        }
    }
    pthread_mutex_lock(&self->lock);
    if (pc.conn)
        busy_add(self, pc.conn, pc.born_us);
    else
        self->open_n--;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
    return pc.conn;
}

void pgpool_release(pgpool_t *self, PGconn *conn)
{
    if (!conn)
        return;
    /* gone (the connection, or this thread's last statement said so):
     * every idle connection opened before this one failed is as stale,
     * from the same restart or failover — closed now, not one failed
     * request each */
    bool lost = PQstatus(conn) != CONNECTION_OK || lost_here;
    bool keep = !lost && PQtransactionStatus(conn) == PQTRANS_IDLE;
    PGconn *stale[64];
    int nstale = 0;
    pthread_mutex_lock(&self->lock);
    int64_t born = busy_take(self, conn);
    if (lost) {
        int64_t lost_us = mono_us();
        int k = 0;
        for (int i = 0; i < self->idle_n; i++) {
            if (self->idle[i].born_us < lost_us && nstale < 64)
                stale[nstale++] = self->idle[i].conn;
            else
                self->idle[k++] = self->idle[i];
        }
        self->open_n -= self->idle_n - k;
        self->idle_n = k;
    }
    if (keep) {
        self->idle[self->idle_n].conn = conn;
        self->idle[self->idle_n++].born_us = born;
    } else {
        self->open_n--;
    }
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->lock);
    if (!keep)
        PQfinish(conn);
    for (int i = 0; i < nstale; i++)
        PQfinish(stale[i]);
    if (lost)
        log_warn("pg.pool", "a connection was gone: %d idle ones opened "
                 "before it closed too", nstale);
}
