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
 * memmove under the lock after each write). A buffer is AUDIT_BYTES of
 * packed rows (the read's time, then principal, purpose, resource and
 * IIN, each NUL-terminated: ≈ 52 bytes a look-up, so ≈ 80,000 reads),
 * touched only as far as it fills; the writer takes a full buffer in
 * one pass and comes back at once while reads keep up with it, else
 * every 100 ms. When a buffer is full (Postgres not taking rows for a
 * while) reads are refused (audit_reply answers 503): a read is served
 * only with its audit row. */
#define AUDIT_BYTES (4 << 20)
#define AUDIT_CHUNK 2000 /* rows per statement */

/* the longest kept of each field (longer ones are cut, as before) */
enum { PRINCIPAL_MAX = 79, PURPOSE_MAX = 63, RESOURCE_MAX = 159,
       IIN_MAX = 12 };

struct buf {
    char *data;
    size_t used;
    int rows;
};

/* A row as the writer reads it back. */
struct row {
    int64_t at_us; /* when the read was answered */
    const char *principal, *purpose, *resource, *iin;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf bufs[2];
static int cur; /* reads go to bufs[cur] */
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

static char *put(char *p, const char *v, size_t len)
{
    memcpy(p, v, len);
    p[len] = '\0';
    return p + len + 1;
}

bool audit_read(const char *principal, const char *purpose,
                const char *resource, const char *subject_iin)
{
    if (!running)
        return true;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t at = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    const char *iin = subject_iin ? subject_iin : "";
    size_t lp = strnlen(principal, PRINCIPAL_MAX),
           lu = strnlen(purpose, PURPOSE_MAX),
           lr = strnlen(resource, RESOURCE_MAX), li = strnlen(iin, IIN_MAX);
    size_t need = sizeof(at) + lp + lu + lr + li + 4;
    pthread_mutex_lock(&lock);
    struct buf *b = &bufs[cur];
    bool ok = b->used + need <= AUDIT_BYTES;
    if (ok) {
        char *p = b->data + b->used;
        memcpy(p, &at, sizeof(at));
        p = put(p + sizeof(at), principal, lp);
        p = put(p, purpose, lu);
        p = put(p, resource, lr);
        put(p, iin, li);
        b->used += need;
        b->rows++;
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

void audit_reply_rows(http_resp_t *resp, const char *principal,
                      const char *purpose, const char *resource,
                      const PGresult *r, int n, int col)
{
    for (int i = 0; i < n && resp->status != 503; i++)
        audit_reply(resp, principal, purpose, resource,
                    PQgetvalue(r, i, col));
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

/* Reads the row at data + *off back, advancing *off past it. */
static void row_at(const char *data, size_t *off, struct row *r)
{
    const char *p = data + *off;
    memcpy(&r->at_us, p, sizeof(r->at_us));
    p += sizeof(r->at_us);
    r->principal = p;
    p += strlen(p) + 1;
    r->purpose = p;
    p += strlen(p) + 1;
    r->resource = p;
    p += strlen(p) + 1;
    r->iin = p;
    p += strlen(p) + 1;
    *off = (size_t)(p - data);
}

/* Writes the rows of b from byte *done on, reconnecting when needed,
 * advancing *done past each statement that succeeded; false while
 * Postgres cannot take them (the caller retries from *done: no row
 * twice, none skipped). */
static bool write_rows(PGconn **c, rowbuf_t *rb, const struct buf *b,
                       size_t *done)
{
    if (pg_lost(*c)) {
        char err[256];
        if (*c)
            PQfinish(*c);
        *c = pg_connect(conninfo, stmts, err, sizeof(err));
    }
    if (!*c)
        return false;
    static struct row rows[AUDIT_CHUNK]; /* the writer's alone */
    while (*done < b->used) {
        size_t next = *done;
        int k = 0;
        while (k < AUDIT_CHUNK && next < b->used)
            row_at(b->data, &next, &rows[k++]);
        if (!flush(*c, rb, rows, k)) {
            if (pg_lost(*c) || pg_transient_failure())
                return false;
            /* one row the server refuses must not stop the trail: write
             * row by row and drop (count) only the bad ones */
            for (int i = 0; i < k; i++)
                if (!flush(*c, rb, &rows[i], 1))
                    metric_inc(m_dropped);
        }
        *done = next;
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
        struct buf *b = &bufs[cur];
        cur ^= 1;
        pthread_mutex_unlock(&lock);
        size_t done = 0;
        bool ok = b->used == 0 || (rb && write_rows(&c, rb, b, &done));
        while (!ok && !*stopping) { /* Postgres away: retry, reads queue
                                       in the other buffer meanwhile */
            usleep(100000);
            ok = rb && write_rows(&c, rb, b, &done);
        }
        if (!ok) {
            pthread_mutex_lock(&lock);
            log_error("audit.lost", "%zu bytes of audit rows (of %d rows"
                      " and %d more queued) could not be written",
                      b->used - done, b->rows, bufs[cur].rows);
            pthread_mutex_unlock(&lock);
            break;
        }
        metric_add(m_rows, (uint64_t)b->rows);
        int n = b->rows;
        b->used = 0; /* the writer's until the next swap gives it back */
        b->rows = 0;
        if (last && n == 0) {
            pthread_mutex_lock(&lock);
            int left = bufs[cur].rows;
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

bool audit_start(const char *ci, volatile sig_atomic_t *stop)
{
    bufs[0].data = malloc(AUDIT_BYTES);
    bufs[1].data = malloc(AUDIT_BYTES);
    conninfo = strdup(ci);
    stopping = stop;
    if (!bufs[0].data || !bufs[1].data || !conninfo) {
        log_error("audit.start", "out of memory");
        return false;
    }
    m_rows = metrics_counter("kezek_audit_rows_total",
                             "Personal-data reads recorded (p.17)", NULL);
    m_dropped = metrics_counter("kezek_audit_dropped_total",
                                "Audit rows Postgres refused", NULL);
    m_refused = metrics_counter("kezek_audit_refused_total",
                                "Reads refused (503): the audit queue was"
                                " full", NULL);
    running = pthread_create(&writer, NULL, write_loop, NULL) == 0;
    if (!running)
        log_error("audit.start", "cannot start the audit writer");
    return running;
}

void audit_stop(void)
{
    if (!running)
        return;
    pthread_join(writer, NULL);
    running = false;
    free(bufs[0].data);
    free(bufs[1].data);
    bufs[0] = bufs[1] = (struct buf){0};
    free(conninfo);
}
