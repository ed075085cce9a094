/* The committer: group commit for accepted applications.
 *
 * HTTP threads hand their ready rows (key, application, event) to one
 * committer thread and wait. It writes every row waiting at that moment
 * with one statement and one commit (app_store), so that concurrent
 * submissions share a transaction and its WAL flush — Postgres' group
 * commit, one level up. Nothing waits for a batch to fill: an idle
 * system writes each row at once, and under load the rows gather while
 * the previous batch commits. A failed batch is retried row by row, so
 * that one bad row fails alone. */
#include "intake.h"

#include "log.h"
#include "metrics.h"
#include "rowbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 256

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct store_req *head, **tail;
    volatile sig_atomic_t stop;
    bool running;
    char *conninfo;
    pthread_t thread;
    rowbuf_t *rows;
    metric_t *m_batch;
} cm = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
};

/* Writes reqs[0..n) in one statement; marks each 1 (stored) or 0 (its
 * key was there). false when the statement failed. */
static bool write_batch(PGconn *c, struct store_req **reqs, int n)
{
    for (int i = 0; i < n; i++)
        if (!rowbuf_add(cm.rows, c, NULL, reqs[i]->vals)) {
            rowbuf_clear(cm.rows);
            return false;
        }
    PGresult *r = rowbuf_run(cm.rows, c);
    if (!r)
        return false;
    for (int i = 0; i < n; i++) {
        reqs[i]->result = 0;
        for (int k = 0; k < PQntuples(r); k++)
            if (strcmp(PQgetvalue(r, k, 0), reqs[i]->vals[0]) == 0) {
                reqs[i]->result = 1;
                break;
            }
    }
    PQclear(r);
    return true;
}

static void *committer_main(void *arg)
{
    (void)arg;
    pg_set_role("committer");
    PGconn *c = NULL;
    struct store_req *reqs[MAX_BATCH];
    pthread_mutex_lock(&cm.lock);
    for (;;) {
        while (!cm.head && !cm.stop)
            pthread_cond_wait(&cm.work, &cm.lock);
        if (!cm.head) /* stopping, and nobody waits */
            break;
        int n = 0;
        while (cm.head && n < MAX_BATCH) {
            reqs[n++] = cm.head;
            cm.head = cm.head->next;
        }
        if (!cm.head)
            cm.tail = &cm.head;
        pthread_mutex_unlock(&cm.lock);

        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            char err[256];
            c = pg_connect(cm.conninfo, intake_stmts, err, sizeof(err));
            if (!c)
                log_error("intake.committer", "%s", err);
        }
        if (!c || !write_batch(c, reqs, n)) {
            /* one bad row must not fail the others: one at a time */
            for (int i = 0; i < n; i++)
                if (!c || n == 1 || !write_batch(c, &reqs[i], 1))
                    reqs[i]->result = -1;
        } else {
            metric_observe(cm.m_batch, n);
        }

        pthread_mutex_lock(&cm.lock);
        for (int i = 0; i < n; i++) { /* wake exactly the writers done */
            reqs[i]->done = true;
            pthread_cond_signal(&reqs[i]->wake);
        }
    }
    pthread_mutex_unlock(&cm.lock);
    if (c)
        PQfinish(c);
    return NULL;
}

bool committer_start(const char *conninfo)
{
    cm.tail = &cm.head;
    cm.conninfo = strdup(conninfo);
    cm.rows = rowbuf_new("app_store", STORE_COLS);
    cm.m_batch = metrics_histogram("kezek_intake_commit_batch_size",
        "Applications stored per transaction (group commit)", NULL,
        (const double[]){1, 2, 5, 10, 20, 50, 100, 256}, 8);
    if (!cm.conninfo || !cm.rows ||
        pthread_create(&cm.thread, NULL, committer_main, NULL) != 0) {
        free(cm.conninfo);
        rowbuf_destroy(&cm.rows);
        return false;
    }
    cm.running = true;
    return true;
}

int committer_store(struct store_req *req)
{
    req->done = false;
    req->result = -1;
    req->next = NULL;
    pthread_cond_init(&req->wake, NULL);
    pthread_mutex_lock(&cm.lock);
    if (cm.running && !cm.stop) {
        *cm.tail = req;
        cm.tail = &req->next;
        pthread_cond_signal(&cm.work);
        while (!req->done)
            pthread_cond_wait(&req->wake, &cm.lock);
    }
    pthread_mutex_unlock(&cm.lock);
    pthread_cond_destroy(&req->wake);
    return req->result;
}

void committer_stop(void)
{
    if (!cm.running)
        return;
    pthread_mutex_lock(&cm.lock);
    cm.stop = 1; /* the rows already handed over are still written */
    pthread_cond_signal(&cm.work);
    pthread_mutex_unlock(&cm.lock);
    pthread_join(cm.thread, NULL);
    cm.running = false;
    rowbuf_destroy(&cm.rows);
    free(cm.conninfo);
}
