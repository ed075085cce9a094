/* The sweeper of kezek-eligibility: the gauges of the work lists, and
 * the parked applications re-decided as soon as what they wait for
 * exists (a subsistence minimum imported, p.6) — one transaction each,
 * on a connection of its own. */
#include "eligibility.h"

#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The labels name="value" of a gauge in l (len bytes), value escaped:
 * it comes from data. */
static void label(char *l, size_t len, const char *name,
                  const char *value)
{
    char v[64];
    snprintf(l, len, "%s=\"%s\"", name,
             metrics_label_escape(v, sizeof(v), value));
}

/* kezek_review_due_soon and kezek_review_overdue of every authority. */
static void deadline_gauges(PGconn *c)
{
    PGresult *g = pg_run(c, "deadline_gauges", 0, NULL);
    for (int i = 0; g && i < PQntuples(g); i++) {
        char l[96];
        label(l, sizeof(l), "authority",
              PQgetvalue(g, i, DEADLINE_AUTHORITY));
        metric_set(metrics_gauge("kezek_review_due_soon",
            "Parked applications within 3 days of their due date (p.7)",
            l), atof(PQgetvalue(g, i, DEADLINE_DUE_SOON)));
        metric_set(metrics_gauge("kezek_review_overdue",
            "Parked applications past their due date (p.7)", l),
            atof(PQgetvalue(g, i, DEADLINE_OVERDUE)));
    }
    PQclear(g);
}

/* kezek_parked_applications by reason; returns how many there are in
 * all (0 when they could not be counted). */
static long parked_gauges(PGconn *c)
{
    PGresult *r = pg_run(c, "parked_count", 0, NULL);
    long total = 0;
    for (int i = 0; r && i < PQntuples(r); i++) {
        char l[96];
        label(l, sizeof(l), "reason", PQgetvalue(r, i, PARKED_COUNT_REASON));
        metric_set(metrics_gauge("kezek_parked_applications",
                                 "Applications waiting for a person "
                                 "or for data (p.6)", l),
                   atof(PQgetvalue(r, i, PARKED_COUNT_N)));
        total += atol(PQgetvalue(r, i, PARKED_COUNT_N));
    }
    PQclear(r);
    return total;
}

/* Re-decides the parked application *skip places along (the ones
 * before stay parked or failed) in a transaction of its own, and moves
 * *skip past it unless it left the list. False when there is none (or
 * c failed): the round ends. */
static bool redecide_next(struct elig_batch *b, PGconn *c, long *skip)
{
    if (!pg_exec(c, "BEGIN"))
        return false;
    char off[24];
    snprintf(off, sizeof(off), "%ld", *skip);
    const char *p[1] = {off};
    PGresult *row = PQexecPrepared(c, "parked_next", 1, p, NULL, NULL, 1);
    if (!pg_check(row) || PQntuples(row) == 0) {
        PQclear(row);
        if (!pg_exec(c, "ROLLBACK"))
            return false;
        return false;
    }
    uint64_t seq = 0;
    for (int k = 0; k < 8; k++)
        seq = (seq << 8) |
              (uint8_t)PQgetvalue(row, 0, PARKED_NEXT_SEQ)[k];
    char why[256];
    bool still;
    enum handle_rc rc = elig_decide_payload(b, c,
        (const uint8_t *)PQgetvalue(row, 0, PARKED_NEXT_PAYLOAD),
        (size_t)PQgetlength(row, 0, PARKED_NEXT_PAYLOAD), seq, NULL,
        &still, why, sizeof(why));
    PQclear(row);
    bool committed = rc == HANDLE_OK && elig_batch_flush(b, c) &&
                     pg_exec(c, "COMMIT");
    outbox_log_done(committed);
    elig_batch_done(b, committed);
    if (!committed) {
        if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
            return false;
        ++*skip;
    } else if (still) {
        ++*skip;
    }
    return true;
}

void *elig_sweep(void *arg)
{
    struct elig *e = arg;
    struct elig_batch b = {.elig = e};
    long every;
    if (!service_int(&e->svc, "review_sweep_seconds", 5, 1, 3600, &every))
        every = 5;
    PGconn *c = NULL;
    while (!service_stop) {
        for (long i = 0; i < every * 10 && !service_stop; i++)
            usleep(100000);
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            c = pg_connect_retry(e->svc.conninfo, elig_stmts, &service_stop);
            if (!c)
                break;
        }
        deadline_gauges(c);
        long total = parked_gauges(c);
        for (long skip = 0; skip < total && !service_stop;)
            if (!redecide_next(&b, c, &skip))
                break;
    }
    elig_batch_fini(&b);
    if (c)
        PQfinish(c);
    return NULL;
}
