#include "consumer.h"

#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct consumer {
    const struct consumer_cfg *cfg;
    PGconn *conn;
    bus_t *bus;
    uint64_t offset, head;
    int64_t last_commit_us;    /* when the last batch committed */
    event_t *pending;          /* a contiguous run received on the bus */
    int npending, cap;
    event_t *fetched;
    bool untied;               /* the bus's frames did not match event_log */
    int64_t distrust_until_us; /* then: event_log only, for a second */
    metric_t *m_untied;
    metric_t *m_events, *m_batches, *m_dead, *m_lag, *m_batch_size,
        *m_batch_secs, *m_e2e, *m_from_db, *m_from_bus, *m_retries;
};

/* Moves the group's offset (deferred inside a pipeline). */
static bool set_offset(struct consumer *c, uint64_t seq)
{
    char seq_s[32];
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    const char *p[2] = {c->cfg->name, seq_s};
    return pg_defer(c->conn, "offset_set", 2, p, NULL, NULL);
}

/* Locks the group's offset row for this transaction; false on error. */
static bool lock_offset(struct consumer *c, uint64_t *out)
{
    const char *p[1] = {c->cfg->name};
    PGresult *r = pg_run(c->conn, "offset_lock", 1, p);
    if (!r)
        return false;
    bool ok = PQntuples(r) == 1;
    if (ok)
        *out = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return ok;
}

static bool load_offset(struct consumer *c)
{
    const char *p[1] = {c->cfg->name};
    PGresult *r = pg_run(c->conn, "offset_init", 1, p);
    if (!r)
        return false;
    PQclear(r);
    return lock_offset(c, &c->offset); /* autocommit: lock ends at once */
}

static void rollback(struct consumer *c)
{
    bool drained = pg_pipe_end(c->conn); /* reads what is still owed */
    (void)drained;
    if (!pg_lost(c->conn) && !pg_exec(c->conn, "ROLLBACK"))
        log_error("consumer.rollback", "rollback failed");
    outbox_log_done(false);
    if (c->cfg->rolled_back)
        c->cfg->rolled_back(c->cfg->ctx);
}

/* Records ev as poison and moves past it, in one transaction.
 * 1 on success, 0 when the offset moved meanwhile, -1 on SQL error. */
static int dead_letter(struct consumer *c, const event_t *ev,
                       const char *why)
{
    uint64_t db_off;
    if (!pg_exec(c->conn, "BEGIN"))
        return -1;
    if (!lock_offset(c, &db_off)) {
        rollback(c);
        return -1;
    }
    if (db_off != ev->seq - 1) {
        c->offset = db_off;
        rollback(c);
        return 0;
    }
    char seq_s[32], type_s[16];
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)ev->seq);
    snprintf(type_s, sizeof(type_s), "%d", ev->type);
    const char *p[6] = {c->cfg->name, seq_s, ev->event_id, type_s, why,
                        (const char *)ev->payload};
    int lens[6] = {0, 0, 0, 0, 0, (int)ev->payload_len};
    int fmts[6] = {0, 0, 0, 0, 0, 1};
    if (!ev->payload)
        p[5] = "";
    PGresult *r = PQexecPrepared(c->conn, "dead_letter", 6, p, lens, fmts,
                                 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok || !set_offset(c, ev->seq) ||
        !pg_exec(c->conn, "COMMIT")) {
        rollback(c);
        return -1;
    }
    c->offset = ev->seq;
    metric_inc(c->m_dead);
    log_warn("consumer.dead_letter", "seq %llu (%s) dead-lettered: %s",
             (unsigned long long)ev->seq, event_type_name(ev->type), why);
    return 1;
}

static int process(struct consumer *c, const event_t *evs, int n,
                   bool from_bus);

/* After evs[0..n) failed as one batch (rc, why): a lost connection or a
 * transient failure is retried by the caller; otherwise the culprit is
 * found by replaying one event at a time and sent to dead_letter. */
static int isolate(struct consumer *c, const event_t *evs, int n,
                   bool from_bus, enum handle_rc rc, const char *why)
{
    if (pg_lost(c->conn) || (rc == HANDLE_ERROR && pg_transient_failure()))
        return -1;
    if (n > 1) {
        metric_inc(c->m_retries);
        int done = 0;
        for (int k = 0; k < n; k++) {
            int r = process(c, &evs[k], 1, from_bus);
            if (r <= 0)
                return done ? done : r;
            done += r;
        }
        return done;
    }
    char msg[256];
    if (rc == HANDLE_ERROR)
        snprintf(msg, sizeof(msg), "handler failed: %s",
                 pg_last_error()[0] ? pg_last_error() : "not an SQL error");
    else
        snprintf(msg, sizeof(msg), "%s",
                 why[0] ? why : "rejected by handler");
    return dead_letter(c, &evs[0], msg);
}

/* SHA-256 of len bytes at p, in hex (65 bytes). */
static void sha_hex(const void *p, size_t len, char *hex)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, p, len);
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof(h));
}

/* Whether evs[0..n), frames from the bus, are the events event_log
 * holds after the offset (tied: per event "id:type:schema:occurred:
 * sha256(producer):sha256(key):sha256(payload)", joined by ','): a frame
 * that is not — forged by whoever could bind a bus port, or garbled — is
 * never applied (issue 21). */
static bool tied(const event_t *evs, int n, const char *logged)
{
    const char *at = logged ? logged : "";
    for (int i = 0; i < n; i++) {
        char hp[65], hk[65], hd[65], want[33 + 3 * 65 + 64];
        const event_t *e = &evs[i];
        sha_hex(e->producer, strlen(e->producer), hp);
        sha_hex(e->key, strlen(e->key), hk);
        sha_hex(e->payload, e->payload_len, hd);
        int len = snprintf(want, sizeof(want), "%s:%d:%u:%lld:%s:%s:%s",
                           e->event_id, e->type, e->schema_version,
                           (long long)e->occurred_at_us, hp, hk, hd);
        if (strncmp(at, want, (size_t)len) != 0 ||
            (at[len] != ',' && at[len] != '\0'))
            return false;
        at += len + (at[len] == ',');
    }
    return true;
}

/* Applies evs[0..n) in one transaction, pipelined: the handlers' writes
 * travel with their next read or with the commit, so a batch costs a
 * round trip per read plus two. Frames from the bus are first checked
 * against event_log in the offset's read (tied). Returns how many were
 * applied (offset advanced), 0 when the caller must re-read (offset
 * moved, the run is not contiguous, or not tied: c->untied), -1 on a
 * lost connection. */
/* Opens the batch's transaction in the pipeline: BEGIN, the offset's
 * lock — with, for frames from the bus, what event_log holds after it —
 * and the prepare hook's read travel together (one round trip; the
 * hook's reads are undone with the batch when another instance of the
 * group ran meanwhile). False when that failed. */
static bool open_batch(struct consumer *c, const event_t *evs, int n,
                       bool from_bus, uint64_t *db_off, bool *is_tied,
                       bool *prepared)
{
    PGresult *off = NULL;
    char n_s[16];
    snprintf(n_s, sizeof(n_s), "%d", n);
    const char *p[2] = {c->cfg->name, n_s};
    bool ok = pg_defer_exec(c->conn, "BEGIN") &&
              pg_defer_keep(c->conn,
                            from_bus ? "offset_lock_tied" : "offset_lock",
                            from_bus ? 2 : 1, p, NULL, NULL, 0, &off);
    *prepared = ok && (!c->cfg->prepare ||
                       c->cfg->prepare(c->cfg->ctx, c->conn, evs, n));
    if (ok && !off)
        ok = pg_pipe_read(c->conn) && off;
    *is_tied = true;
    if (ok && PQntuples(off) == 1) {
        *db_off = strtoull(PQgetvalue(off, 0, OFFSET_LAST_SEQ), NULL, 10);
        if (from_bus && *db_off == c->offset)
            *is_tied = tied(evs, n, PQgetisnull(off, 0, OFFSET_LOGGED)
                                        ? NULL
                                        : PQgetvalue(off, 0, OFFSET_LOGGED));
    } else {
        ok = false;
    }
    PQclear(off);
    return ok;
}

/* Runs the handlers of evs[0..n) in the open batch: -2 when all were
 * applied, else what process returns (the batch rolled back). */
static int run_handlers(struct consumer *c, const event_t *evs, int n,
                        bool from_bus)
{
    char why[256];
    for (int i = 0; i < n; i++) {
        const event_t *ev = &evs[i];
        if (ev->seq != c->offset + (uint64_t)i + 1) {
            rollback(c);
            return 0;
        }
        enum event_rc vrc = event_validate(ev);
        enum handle_rc rc;
        why[0] = '\0';
        pg_clear_state();
        if (vrc != EVENT_OK) {
            snprintf(why, sizeof(why), "envelope %s", event_rc_str(vrc));
            rc = HANDLE_POISON;
        } else {
            rc = c->cfg->handle(c->cfg->ctx, c->conn, ev, why, sizeof(why));
        }
        if (rc == HANDLE_OK)
            continue;
        rollback(c);
        return isolate(c, evs, n, from_bus, rc, why);
    }
    return -2;
}

static int process(struct consumer *c, const event_t *evs, int n,
                   bool from_bus)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t db_off = 0;
    bool is_tied, prepared;
    pg_clear_state();
    if (!pg_pipe_begin(c->conn))
        return -1;
    if (!open_batch(c, evs, n, from_bus, &db_off, &is_tied, &prepared)) {
        rollback(c);
        return -1;
    }
    if (!is_tied) {
        metric_inc(c->m_untied);
        log_warn("consumer.untied", "frames after seq %llu are not the "
                 "events event_log holds: discarded, event_log read "
                 "instead", (unsigned long long)c->offset);
        c->untied = true;
        rollback(c);
        return 0;
    }
    if (!prepared && db_off == c->offset) {
        rollback(c);
        return isolate(c, evs, n, from_bus, HANDLE_ERROR, "");
    }
    if (db_off != c->offset) { /* another instance of the group ran */
        c->offset = db_off;
        rollback(c);
        return 0;
    }
    int applied = run_handlers(c, evs, n, from_bus);
    if (applied != -2)
        return applied;
    /* a deferred write that failed shows here, as the handler's error */
    if ((c->cfg->flush && !c->cfg->flush(c->cfg->ctx, c->conn)) ||
        !set_offset(c, c->offset + (uint64_t)n) ||
        !pg_defer_exec(c->conn, "COMMIT") || !pg_pipe_end(c->conn)) {
        rollback(c);
        return isolate(c, evs, n, from_bus, HANDLE_ERROR, "");
    }
    c->offset += (uint64_t)n;
    c->last_commit_us = now_us();
    /* the batch's own after-commit work first (the queue's Redis view),
     * then its events on the bus: a consumer that takes them from the
     * bus finds that work done (one that reads event_log, after a gap
     * or a quiet bus, may still come first) */
    if (c->cfg->committed)
        c->cfg->committed(c->cfg->ctx);
    outbox_log_done(true);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t now = now_us();
    for (int i = 0; i < n; i++)
        metric_observe(c->m_e2e, (double)(now - evs[i].occurred_at_us) / 1e6);
    metric_add(c->m_events, (uint64_t)n);
    metric_inc(c->m_batches);
    metric_observe(c->m_batch_size, n);
    metric_observe(c->m_batch_secs, (double)(t1.tv_sec - t0.tv_sec) +
                                        (double)(t1.tv_nsec - t0.tv_nsec) /
                                            1e9);
    return n;
}

static void drop_pending(struct consumer *c, int k)
{
    for (int i = 0; i < k; i++)
        event_clear(&c->pending[i]);
    memmove(c->pending, c->pending + k,
            (size_t)(c->npending - k) * sizeof(event_t));
    c->npending -= k;
}

/* Moves frames from the bus into pending, kept in seq order: each
 * producer publishes after its own commit and the subscriber takes the
 * publishers' frames in turn, so frames of consecutive transactions
 * may come out of order. */
static void gather(struct consumer *c, int timeout_ms)
{
    event_t ev;
    for (int got = 0; got < c->cap; got++) {
        int rc = bus_recv(c->bus, got == 0 ? timeout_ms : 0, &ev);
        if (rc == 0)
            break;
        if (rc < 0)
            continue;
        if (ev.seq > c->head)
            c->head = ev.seq;
        int at = c->npending;
        while (at > 0 && c->pending[at - 1].seq > ev.seq)
            at--;
        if (ev.seq <= c->offset || c->npending == c->cap ||
            (at > 0 && c->pending[at - 1].seq == ev.seq)) {
            event_clear(&ev); /* duplicate, or event_log will serve it */
            continue;
        }
        memmove(&c->pending[at + 1], &c->pending[at],
                (size_t)(c->npending - at) * sizeof(event_t));
        c->pending[at] = ev;
        c->npending++;
    }
}

/* How many pending events follow the offset without a gap. */
static int contiguous(const struct consumer *c)
{
    int k = 0;
    while (k < c->npending && c->pending[k].seq == c->offset + 1 + k)
        k++;
    return k;
}

static void init_metrics(struct consumer *c)
{
    char l[96];
    snprintf(l, sizeof(l), "consumer=\"%s\"", c->cfg->name);
    c->m_events = metrics_counter("kezek_consumer_events_total",
                                  "Events applied", l);
    c->m_batches = metrics_counter("kezek_consumer_batches_total",
                                   "Batches committed", l);
    c->m_dead = metrics_counter("kezek_dead_letters_total",
                                "Poison events sent to dead_letter", l);
    c->m_lag = metrics_gauge("kezek_consumer_lag_events",
                             "Newest seq seen minus committed offset", l);
    c->m_batch_size = metrics_histogram("kezek_consumer_batch_size",
        "Events per committed batch", l,
        (const double[]){1, 2, 5, 10, 50, 100, 500, 1000}, 8);
    c->m_batch_secs = metrics_histogram("kezek_consumer_batch_seconds",
        "Time to apply and commit a batch", l, NULL, 0);
    c->m_e2e = metrics_histogram("kezek_event_latency_seconds",
        "From the event's occurrence to its effects committed here", l,
        NULL, 0);
    c->m_from_db = metrics_counter("kezek_consumer_catchup_reads_total",
        "Batches read from event_log (start, gap or quiet bus)", l);
    c->m_untied = metrics_counter("kezek_consumer_untied_total",
        "Batches of bus frames not matching event_log (discarded)", l);
    c->m_from_bus = metrics_counter("kezek_consumer_bus_batches_total",
        "Batches taken straight from the bus", l);
    c->m_retries = metrics_counter("kezek_consumer_batch_retries_total",
        "Batches rolled back and replayed one event at a time", l);
}

/* (Re)connects and reads the group's offset; false when stopped or
 * when the offset could not be read (the caller tries again). */
static bool reconnect(struct consumer *c, volatile sig_atomic_t *stop)
{
    if (c->conn)
        PQfinish(c->conn);
    pg_common_stmts(spine_stmts);
    c->conn = pg_connect_retry(c->cfg->conninfo, c->cfg->stmts, stop);
    if (!c->conn)
        return false;
    /* Statements are planned once (a generic plan): the handlers' point
     * reads and writes by key, and the batches' set-based statements,
     * whose joins to large tables go through their keys (rowbuf.h). Left
     * to choose, Postgres re-planned some statements for every event;
     * planning every batch's statements for its arrays cost more than
     * running them (a tenth of all CPU). */
    if (!pg_exec(c->conn, "SET plan_cache_mode = force_generic_plan") ||
        !load_offset(c)) {
        PQfinish(c->conn);
        c->conn = NULL;
        return false;
    }
    log_info("consumer.start", "%s resumes after seq %llu", c->cfg->name,
             (unsigned long long)c->offset);
    return true;
}

/* Takes what the bus has: at once when busy, waiting up to the idle
 * poll when quiet, lingering for a fuller batch under load; then drops
 * what is already applied. Returns how many pending events follow the
 * offset without a gap. */
static int listen_bus(struct consumer *c, int batch, bool quiet)
{
    const struct consumer_cfg *cfg = c->cfg;
    if (c->bus)
        gather(c, c->npending || !quiet ? 0 : cfg->idle_poll_ms);
    if (c->bus && cfg->linger_ms > 0 && c->npending > 0 &&
        c->npending < batch &&
        now_us() - c->last_commit_us < 2000LL * cfg->linger_ms) {
        /* busy: let the batch fill for a moment (one commit, many
         * events) */
        int64_t until = now_us() + 1000LL * cfg->linger_ms;
        int64_t left;
        while (c->npending < batch && (left = until - now_us()) > 0)
            gather(c, (int)((left + 999) / 1000));
    }
    int k = 0;
    while (k < c->npending && c->pending[k].seq <= c->offset)
        k++;
    drop_pending(c, k);
    int run = contiguous(c);
    if (run == 0 && c->npending > 0 && c->bus) {
        /* a gap before what came: its frame may be a moment behind
         * (another producer's), before event_log is asked */
        gather(c, 2);
        run = contiguous(c);
    }
    return run;
}

/* A batch from the bus (run > 0, trusted), else from event_log; sets
 * *quiet when event_log had nothing new. Returns process()'s answer. */
static int one_batch(struct consumer *c, int batch, int run, bool *quiet)
{
    int rc;
    if (run > 0 && now_us() >= c->distrust_until_us) {
        int n = run < batch ? run : batch;
        rc = process(c, c->pending, n, true);
        metric_inc(c->m_from_bus);
        *quiet = false;
        if (c->untied) { /* trust none of what came: event_log next */
            drop_pending(c, c->npending);
            c->untied = false;
            c->distrust_until_us = now_us() + 1000000;
        }
        return rc;
    }
    int n = outbox_fetch(c->conn, c->offset, batch, c->fetched);
    metric_inc(c->m_from_db);
    if (n < 0)
        return -1;
    if (n > 0 && c->fetched[n - 1].seq > c->head)
        c->head = c->fetched[n - 1].seq;
    rc = n > 0 ? process(c, c->fetched, n, false) : 0;
    for (int i = 0; i < n; i++)
        event_clear(&c->fetched[i]);
    *quiet = n == 0;
    if (*quiet && !c->bus) {
        struct timespec ts = {0, c->cfg->idle_poll_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

int consumer_run(const struct consumer_cfg *cfg,
                 volatile sig_atomic_t *stop)
{
    struct consumer c = {.cfg = cfg};
    char err[256];
    int batch = cfg->batch_size > 0 ? cfg->batch_size : 1;
    c.cap = batch * 4;
    c.pending = calloc((size_t)c.cap, sizeof(event_t));
    c.fetched = calloc((size_t)batch, sizeof(event_t));
    if (!c.pending || !c.fetched) {
        free(c.pending);
        free(c.fetched);
        return -1;
    }
    init_metrics(&c);
    pg_set_role(cfg->name);
    if (cfg->bus_endpoints && *cfg->bus_endpoints) {
        c.bus = bus_sub_new(cfg->bus_endpoints, err, sizeof(err));
        if (!c.bus) {
            log_error("consumer.bus", "%s", err);
            free(c.pending);
            free(c.fetched);
            return -1;
        }
    }
    bool quiet = false; /* event_log had nothing new last time */
    while (!*stop) {
        if (pg_lost(c.conn) && !reconnect(&c, stop)) {
            if (*stop)
                break;
            continue;
        }
        int rc = one_batch(&c, batch, listen_bus(&c, batch, quiet), &quiet);
        if (c.head < c.offset)
            c.head = c.offset;
        metric_set(c.m_lag, (double)(c.head - c.offset));
        if (rc < 0 && !pg_lost(c.conn)) {
            /* SQL failed on a live connection: back off, then retry */
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
            if (!pg_exec(c.conn, "SELECT 1")) {
                PQfinish(c.conn);
                c.conn = NULL;
            }
        }
    }
    drop_pending(&c, c.npending);
    free(c.pending);
    free(c.fetched);
    bus_destroy(&c.bus);
    if (c.conn)
        PQfinish(c.conn);
    log_info("consumer.stop", "%s stopped at seq %llu", cfg->name,
             (unsigned long long)c.offset);
    return 0;
}
