#include "audit.h"

#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "rowbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Reads are gathered in one of two buffers while the writer writes the
 * other: the swap is the only work under the lock, so a burst of reads
 * never waits behind a write (the old single queue was shifted down by
 * memmove under the lock after each write). A buffer holds AUDIT_CAP
 * rows (≈ 5 MB, touched only as far as it fills); the writer takes a
 * full buffer's worth in one pass and comes back at once while reads
 * keep up with it, else every 100 ms. Beyond AUDIT_CAP unwritten rows
 * (Postgres unreachable for a while) reads are refused (audit_reply
 * answers 503): a read is served only with its audit row. */
#define AUDIT_CAP 16384
#define AUDIT_CHUNK 2000 /* rows per statement */

struct row {
    int64_t at_us; /* when the read was answered */
    char principal[80], purpose[64], resource[160], iin[13];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct row *bufs[2];
static int cur, fill; /* reads go to bufs[cur][0..fill) */
static char *conninfo;
static volatile sig_atomic_t *stopping;
static pthread_t writer;
static bool running;
static metric_t *m_rows, *m_dropped, *m_refused;

static const struct pg_stmt stmts[] = {
    {"audit_put",
     "INSERT INTO audit_read (at, principal, purpose, resource,"
     " subject_iin) SELECT to_timestamp(v.at::float8 / 1e6), v.principal,"
     " v.purpose, v.resource, nullif(v.iin, '') FROM unnest($1::text[],"
     " $2::text[], $3::text[], $4::text[], $5::text[]) AS v (at,"
     " principal, purpose, resource, iin)"},
    {NULL, NULL},
};

bool audit_read(const char *principal, const char *purpose,
                const char *resource, const char *subject_iin)
{
    if (!running)
        return true;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&lock);
    bool ok = fill < AUDIT_CAP;
    if (ok) {
        struct row *r = &bufs[cur][fill++];
        r->at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        snprintf(r->principal, sizeof(r->principal), "%s", principal);
        snprintf(r->purpose, sizeof(r->purpose), "%s", purpose);
        snprintf(r->resource, sizeof(r->resource), "%s", resource);
        snprintf(r->iin, sizeof(r->iin), "%s", subject_iin ? subject_iin
                                                            : "");
    }
    pthread_mutex_unlock(&lock);
    if (!ok)
        metric_inc(m_refused);
    return ok;
}

void audit_reply(http_resp_t *resp, const char *principal,
                 const char *purpose, const char *resource,
                 const char *subject_iin)
{
    if (audit_read(principal, purpose, resource, subject_iin))
        return;
    http_reply_error(resp, 503, "unavailable",
                     "the read cannot be recorded in the audit of "
                     "personal-data reads (p.17) now; try again later",
                     NULL);
    snprintf(resp->header_name, sizeof(resp->header_name), "Retry-After");
    snprintf(resp->header_value, sizeof(resp->header_value), "1");
}

/* Writes rows[0..n) in one statement; false when Postgres failed. */
static bool flush(PGconn *c, rowbuf_t *rb, const struct row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        char at[24];
        snprintf(at, sizeof(at), "%lld", (long long)rows[i].at_us);
        const char *v[5] = {at, rows[i].principal, rows[i].purpose,
                            rows[i].resource, rows[i].iin};
        if (!rowbuf_add(rb, c, NULL, v)) {
            rowbuf_clear(rb);
            return false;
        }
    }
    PGresult *r = rowbuf_run(rb, c);
    PQclear(r);
    return r != NULL;
}

/* Writes rows[*done..n), reconnecting when needed, advancing *done
 * past each statement that succeeded; false while Postgres cannot take
 * them (the caller retries from *done: no row twice, none skipped). */
static bool write_rows(PGconn **c, rowbuf_t *rb, const struct row *rows,
                       int n, int *done)
{
    if (pg_lost(*c)) {
        char err[256];
        if (*c)
            PQfinish(*c);
        *c = pg_connect(conninfo, stmts, err, sizeof(err));
    }
    if (!*c)
        return false;
    while (*done < n) {
        int k = n - *done < AUDIT_CHUNK ? n - *done : AUDIT_CHUNK;
        if (!flush(*c, rb, rows + *done, k)) {
            if (pg_lost(*c) || pg_transient_failure())
                return false;
            /* one row the server refuses must not stop the trail: write
             * row by row and drop (count) only the bad ones */
            for (int i = *done; i < *done + k; i++)
                if (!flush(*c, rb, &rows[i], 1))
                    metric_inc(m_dropped);
        }
        *done += k;
    }
    return true;
}

static void *write_loop(void *arg)
{
    (void)arg;
    PGconn *c = NULL;
    rowbuf_t *rb = rowbuf_new("audit_put", 5);
    for (;;) {
        bool last = *stopping;
        pthread_mutex_lock(&lock);
        struct row *rows = bufs[cur];
        int n = fill;
        cur ^= 1;
        fill = 0;
        pthread_mutex_unlock(&lock);
        int done = 0;
        bool ok = n == 0 || (rb && write_rows(&c, rb, rows, n, &done));
        while (!ok && !*stopping) { /* Postgres away: retry, reads queue
                                       in the other buffer meanwhile */
            usleep(100000);
            ok = rb && write_rows(&c, rb, rows, n, &done);
        }
        if (!ok) {
            pthread_mutex_lock(&lock);
            log_error("audit.lost", "%d audit rows could not be written",
                      n - done + fill);
            pthread_mutex_unlock(&lock);
            break;
        }
        metric_add(m_rows, (uint64_t)n);
        if (last && n == 0) {
            pthread_mutex_lock(&lock);
            int left = fill;
            pthread_mutex_unlock(&lock);
            if (left == 0)
                break;
        } else if (!last && n < AUDIT_CHUNK) {
            usleep(100000);
        }
    }
    rowbuf_destroy(&rb);
    if (c)
        PQfinish(c);
    return NULL;
}

void audit_start(const char *ci, volatile sig_atomic_t *stop)
{
    bufs[0] = calloc(AUDIT_CAP, sizeof(struct row));
    bufs[1] = calloc(AUDIT_CAP, sizeof(struct row));
    conninfo = strdup(ci);
    stopping = stop;
    m_rows = metrics_counter("kezek_audit_rows_total",
                             "Personal-data reads recorded (p.17)", NULL);
    m_dropped = metrics_counter("kezek_audit_dropped_total",
                                "Audit rows Postgres refused", NULL);
    m_refused = metrics_counter("kezek_audit_refused_total",
                                "Reads refused (503): the audit queue was"
                                " full", NULL);
    running = pthread_create(&writer, NULL, write_loop, NULL) == 0;
}

void audit_stop(void)
{
    if (!running)
        return;
    pthread_join(writer, NULL);
    running = false;
    free(bufs[0]);
    free(bufs[1]);
    free(conninfo);
}
