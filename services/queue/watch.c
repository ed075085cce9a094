/* kezek-queue's watcher: list lengths into /metrics, the Redis view
 * verified against Postgres, repaired when it drifted, the yearly
 * re-verification of the people in the queue, and the transparency
 * log's duties (tlog_duty.c). */
#include "queue.h"

#include "calendar.h"
#include "log.h"
#include "queue_life.h"

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

/* The scheduled re-verification (issue 22): when reverify_every_days
 * (0: never) have passed since the last run, this instance claims the
 * run (the schedule row's update: one instance wins) and runs it — the
 * watcher's other work waits meanwhile (a minute or two at a million
 * entries, once a year). */
static void reverify_when_due(PGconn *c, long days)
{
    char d[16];
    snprintf(d, sizeof(d), "%ld", days);
    const char *p[1] = {d};
    PGresult *r = pg_query(c,
        "WITH i AS (INSERT INTO queue_schedule (name, last_at)"
        " VALUES ('reverify', now()) ON CONFLICT DO NOTHING RETURNING 1)"
        " UPDATE queue_schedule SET last_at = now() WHERE name = 'reverify'"
        " AND last_at + make_interval(days => $1::int) <= now()"
        " AND NOT EXISTS (SELECT FROM i) RETURNING 1", 1, p);
    bool due = r && PQntuples(r) == 1;
    PQclear(r);
    if (!due)
        return;
    char today[11], err[256];
    kdate_format(almaty_date(now_us() / 1000000), today);
    struct reverify_report rep;
    if (life_reverify(c, NULL, NULL, today, "schedule", 1000, &rep, err,
                      sizeof(err)))
        log_info("queue.reverified", "run %lld: %lld entries checked, "
                 "%lld flagged for the work lists, %lld cleared",
                 rep.run_id, rep.checked, rep.flagged, rep.cleared);
    else
        log_error("queue.reverify_failed", "run %lld stopped after %lld "
                  "entries: %s", rep.run_id, rep.checked, err);
    json_decref(rep.by_authority);
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
    long every, reverify_days;
    if (!service_int(&q->svc, "verify_seconds", 300, 1, 86400, &every))
        every = 300;
    if (!service_int(&q->svc, "reverify_every_days", 365, 0, 3650,
                     &reverify_days))
        reverify_days = 365;
    kredis_t *r = kredis_new(q->svc.redis_addr);
    PGconn *c = NULL;
    int drifted = 0; /* verifies in a row that found drift */
    bool backfilling = true; /* entries from before the log (at start) */
    long tlog_every = q->tlog_resign_s * 10 < 100 ? q->tlog_resign_s * 10
                                                  : 100;
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
        bool minute = tick % 600 == 0 && reverify_days > 0;
        bool view = tick % (every * 10) == 0 ||
                    (q->view_dirty && tick % 20 == 0) ||
                    (drifted && tick % 100 == 0);
        /* the transparency log: every 10 s (or tlog_resign_seconds if
         * shorter), every half second while entries from before it are
         * being appended */
        bool tlog = tick % tlog_every == 0 || (backfilling && tick % 5 == 0);
        if (!view && !minute && !tlog)
            continue;
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            char err[256];
            c = pg_connect(q->svc.conninfo, queue_stmts, err, sizeof(err));
            if (!c)
                continue;
        }
        if (tlog) {
            backfilling = queue_tlog_backfill(q, c) > 0;
            if (queue_tlog_resign(q, c) < 0)
                log_warn("queue.tlog_resign", "the heads could not be "
                         "signed again this time");
        }
        if (minute)
            reverify_when_due(c, reverify_days);
        if (view) {
            gauge_lengths(c);
            check_view(q, c, r, &drifted);
        }
    }
    kredis_destroy(&r);
    if (c)
        PQfinish(c);
    return NULL;
}
