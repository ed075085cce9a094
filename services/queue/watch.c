/* kezek-queue's watcher: list lengths into /metrics, and the Redis view
 * verified against Postgres, repaired when it drifted. */
#include "queue.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool queue_rebuild_view(PGconn *c, kredis_t *r)
{
    struct queue_view_report rep;
    if (!queue_view_rebuild(c, r, NULL, false, &rep))
        return false;
    log_info("queue.view_rebuilt", "%ld lists, %ld entries", rep.lists,
             rep.entries);
    return true;
}

/* Active entries per list, as gauges. */
static void gauge_lengths(PGconn *c)
{
    PGresult *res = pg_run(c, "list_lengths", 0, NULL);
    for (int i = 0; res && i < PQntuples(res); i++) {
        char l[160], a[64], ls[64];
        snprintf(l, sizeof(l), "authority=\"%s\",list=\"%s\"",
                 metrics_label_escape(a, sizeof(a),
                     PQgetvalue(res, i, LIST_LENGTHS_AUTHORITY_ID)),
                 metrics_label_escape(ls, sizeof(ls),
                     PQgetvalue(res, i, LIST_LENGTHS_LIST)));
        metric_set(metrics_gauge("kezek_queue_list_length",
                                 "Active entries per list", l),
                   atof(PQgetvalue(res, i, LIST_LENGTHS_ACTIVE)));
    }
    PQclear(res);
}

/* Rebuilds a view known to be dirty, or verifies it: *drifted counts
 * the verifies in a row that found drift. */
static void check_view(struct queue *q, PGconn *c, kredis_t *r,
                       int *drifted)
{
    struct queue_view_report rep;
    if (q->view_dirty) {
        /* cleared first: a write failing during the rebuild sets it
         * again and the next tick repairs that too */
        q->view_dirty = false;
        if (!queue_rebuild_view(c, r))
            q->view_dirty = true;
        else /* as Postgres has it */
            metric_set(q->m_drift, 0);
    } else if (queue_view_verify_settled(c, r, &rep)) {
        metric_set(q->m_drift, (double)rep.drift);
        *drifted = rep.drift > 0 ? *drifted + 1 : 0;
        if (*drifted >= 2) {
            log_warn("queue.view_repair", "%ld lists still differ: "
                     "rebuilding the view", rep.drift);
            q->view_dirty = true;
            *drifted = 0;
        }
    }
}

/* Every verify_seconds (300: a pass reads every list whole, seconds of
 * CPU at a million entries): list lengths, and the drift a verify finds
 * (repairing a view known to be dirty). A list written just after the
 * verify's snapshot differs from it for a moment (Redis follows each
 * commit; the lists written just before are left to a later pass):
 * drift is acted on when a second look, 10 s later, still finds it — a
 * rebuild sends every look-up to Postgres meanwhile. */
void *queue_watch(void *arg)
{
    struct queue *q = arg;
    long every;
    if (!service_int(&q->svc, "verify_seconds", 300, 1, 86400, &every))
        every = 300;
    kredis_t *r = kredis_new(q->svc.redis_addr);
    PGconn *c = NULL;
    int drifted = 0; /* verifies in a row that found drift */
    unsigned long failovers = kredis_master_changes();
    for (long tick = every * 10 - 20; !service_stop; tick++) {
        usleep(100000);
        if (kredis_master_changes() != failovers) {
            /* Redis failed over (Sentinel): what the old master had
             * acknowledged may not have reached the new one — rebuilt
             * from Postgres before it is trusted again */
            failovers = kredis_master_changes();
            q->view_dirty = true;
        }
        if (tick % (every * 10) != 0 &&
            !(q->view_dirty && tick % 20 == 0) &&
            !(drifted && tick % 100 == 0))
            continue;
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            char err[256];
            c = pg_connect(q->svc.conninfo, queue_stmts, err, sizeof(err));
            if (!c)
                continue;
        }
        gauge_lengths(c);
        check_view(q, c, r, &drifted);
    }
    kredis_destroy(&r);
    if (c)
        PQfinish(c);
    return NULL;
}
