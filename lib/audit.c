#include "audit.h"

#include "log.h"
#include "metrics.h"
#include "pg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUDIT_MAX 100000

struct row {
    char principal[80], purpose[64], resource[160], iin[13];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct row *queue;
static int nqueued;
static char *conninfo;
static volatile sig_atomic_t *stopping;
static pthread_t writer;
static bool running;
static metric_t *m_rows, *m_dropped;

void audit_read(const char *principal, const char *purpose,
                const char *resource, const char *subject_iin)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    if (nqueued < AUDIT_MAX) {
        struct row *r = &queue[nqueued++];
        snprintf(r->principal, sizeof(r->principal), "%s", principal);
        snprintf(r->purpose, sizeof(r->purpose), "%s", purpose);
        snprintf(r->resource, sizeof(r->resource), "%s", resource);
        snprintf(r->iin, sizeof(r->iin), "%s", subject_iin ? subject_iin
                                                            : "");
    } else {
        metric_inc(m_dropped);
    }
    pthread_mutex_unlock(&lock);
}

/* Writes rows[0..n) in one statement; false when Postgres failed. */
static bool flush(PGconn *c, struct row *rows, int n)
{
    const char **p = malloc(sizeof(char *) * (size_t)n * 4);
    size_t cap = 200 + (size_t)n * 64, len = 0; /* ≤ 48 a row */
    char *sql = malloc(cap);
    len += (size_t)snprintf(sql, cap, "INSERT INTO audit_read (principal,"
                            " purpose, resource, subject_iin) VALUES ");
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(sql + len, cap - len,
                                "%s($%d, $%d, $%d, nullif($%d, ''))",
                                i ? ", " : "", 4 * i + 1, 4 * i + 2,
                                4 * i + 3, 4 * i + 4);
        p[4 * i] = rows[i].principal;
        p[4 * i + 1] = rows[i].purpose;
        p[4 * i + 2] = rows[i].resource;
        p[4 * i + 3] = rows[i].iin;
    }
    PGresult *r = PQexecParams(c, sql, 4 * n, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(r);
    PQclear(r);
    free(sql);
    free(p);
    return ok;
}

static void *write_loop(void *arg)
{
    (void)arg;
    PGconn *c = NULL;
    struct row *batch = calloc(2000, sizeof(*batch));
    for (;;) {
        bool last = *stopping;
        if (!last)
            usleep(100000);
        pthread_mutex_lock(&lock);
        int n = nqueued < 2000 ? nqueued : 2000;
        memcpy(batch, queue, sizeof(*batch) * (size_t)n);
        pthread_mutex_unlock(&lock);
        if (n > 0) {
            if (pg_lost(c)) {
                char err[256];
                if (c)
                    PQfinish(c);
                c = pg_connect_plain(conninfo, err, sizeof(err));
            }
            bool ok = c && flush(c, batch, n);
            if (!ok && c && !pg_lost(c) && !pg_transient_failure()) {
                /* one row the server refuses must not stop the trail:
                 * write row by row and drop (count) only the bad ones */
                ok = true;
                for (int i = 0; i < n; i++)
                    if (!flush(c, &batch[i], 1))
                        metric_inc(m_dropped);
            }
            if (ok) {
                pthread_mutex_lock(&lock);
                memmove(queue, queue + n,
                        sizeof(*queue) * (size_t)(nqueued - n));
                nqueued -= n;
                pthread_mutex_unlock(&lock);
                metric_add(m_rows, (uint64_t)n);
                continue;
            }
        }
        if (last)
            break;
    }
    pthread_mutex_lock(&lock);
    if (nqueued)
        log_error("audit.lost", "%d audit rows could not be written",
                  nqueued);
    pthread_mutex_unlock(&lock);
    free(batch);
    if (c)
        PQfinish(c);
    return NULL;
}

void audit_start(const char *ci, volatile sig_atomic_t *stop)
{
    queue = calloc(AUDIT_MAX, sizeof(*queue));
    conninfo = strdup(ci);
    stopping = stop;
    m_rows = metrics_counter("kezek_audit_rows_total",
                             "Personal-data reads recorded (p.17)", NULL);
    m_dropped = metrics_counter("kezek_audit_dropped_total",
                                "Audit rows dropped: queue full", NULL);
    running = pthread_create(&writer, NULL, write_loop, NULL) == 0;
}

void audit_stop(void)
{
    if (!running)
        return;
    pthread_join(writer, NULL);
    running = false;
    free(queue);
    free(conninfo);
}
