/* The spine against a real Postgres: the outbox and relay give a
 * gapless seq in commit order; a consumer applies each event exactly
 * once in batches, survives a crash mid-batch, dead-letters poison and
 * follows the bus. (The promise behind p.5: an accepted application is
 * never lost and never handled twice.) */
#include "bus.h"
#include "consumer.h"
#include "metrics.h"
#include "outbox.h"
#include "relay.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
    PGconn *c = tk_db(&env);
    PQclear(PQexec(c, "CREATE TABLE effect (seq bigint PRIMARY KEY,"
                      " key text NOT NULL)"));
    PQfinish(c);
}

static void teardown(void)
{
    tk_env_fini(&env);
}

static PGconn *spine_conn(void)
{
    char err[256];
    PGconn *c = pg_connect(env.conninfo, NULL, err, sizeof(err));
    cr_assert(c, "%s", err);
    return c;
}

/* Queues n events, committing all but those where i % skip == 0. */
static int produce(PGconn *c, int n, int skip, const char *payload)
{
    int committed = 0;
    for (int i = 1; i <= n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert(pg_exec(c, "BEGIN"));
        cr_assert(outbox_add(c, "test", KEZEK__EVENT_TYPE__DECISION_MADE, key,
                             (const uint8_t *)payload, strlen(payload)));
        bool keep = skip == 0 || i % skip != 0;
        cr_assert(pg_exec(c, keep ? "COMMIT" : "ROLLBACK"));
        committed += keep;
    }
    return committed;
}

static void relay_all(PGconn *c, bus_t *bus)
{
    while (relay_pass(c, bus, 7) > 0)
        ;
}

Test(spine, relay_sequence_is_gapless_and_skips_rollbacks,
     .init = setup, .fini = teardown)
{
    PGconn *c = spine_conn();
    int committed = produce(c, 60, 4, "x");
    relay_all(c, NULL);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_log"), committed);
    cr_assert_eq(tk_scalar(c, "SELECT max(seq) FROM event_log"), committed);
    cr_assert_eq(tk_scalar(c, "SELECT count(DISTINCT seq) FROM event_log"),
                 committed);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_outbox"), 0);
    /* commit order is key order here: seq follows it */
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_log a JOIN"
                              " event_log b ON a.seq < b.seq AND"
                              " substr(a.key,2)::int > substr(b.key,2)::int"),
                 0);
    /* a second batch continues the sequence */
    produce(c, 5, 0, "y");
    relay_all(c, NULL);
    cr_assert_eq(tk_scalar(c, "SELECT max(seq) FROM event_log"),
                 committed + 5);
    PQfinish(c);
}

/* handler: one row per event; the PRIMARY KEY turns a double apply
 * into an error, so "exactly once" is checked by Postgres itself. */
static _Atomic int crash_at;

static enum handle_rc record(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen)
{
    (void)ctx;
    if (ev->payload_len == 6 && memcmp(ev->payload, "poison", 6) == 0) {
        snprintf(why, whylen, "test poison");
        return HANDLE_POISON;
    }
    char seq[24];
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->seq);
    const char *p[2] = {seq, ev->key};
    /* deferred: a failure shows at the batch's commit, and the consumer
     * must still find the culprit */
    bool ok = pg_defer(conn, "effect_put", 2, p, NULL, NULL);
    if (crash_at && (int)ev->seq == crash_at)
        _exit(9); /* die with the batch open: as kill -9 would */
    return ok ? HANDLE_OK : HANDLE_ERROR;
}

static const struct pg_stmt test_stmts[] = {
    {"effect_put", "INSERT INTO effect VALUES ($1, $2)"},
    {NULL, NULL},
};

struct runner {
    struct consumer_cfg cfg;
    volatile sig_atomic_t stop;
    pthread_t t;
};

static void *run(void *arg)
{
    struct runner *r = arg;
    consumer_run(&r->cfg, &r->stop);
    return NULL;
}

static void start_consumer(struct runner *r, const char *bus, int batch)
{
    memset(r, 0, sizeof(*r));
    r->cfg.name = "test";
    r->cfg.conninfo = env.conninfo;
    r->cfg.bus_endpoints = bus;
    r->cfg.batch_size = batch;
    r->cfg.idle_poll_ms = 20;
    r->cfg.handle = record;
    r->cfg.stmts = test_stmts;
    pthread_create(&r->t, NULL, run, r);
}

static void stop_consumer(struct runner *r)
{
    r->stop = 1;
    pthread_join(r->t, NULL);
}

Test(spine, consumer_applies_each_event_once_in_batches, .init = setup,
     .fini = teardown)
{
    PGconn *c = spine_conn();
    produce(c, 35, 0, "ok");
    relay_all(c, NULL);
    struct runner r;
    start_consumer(&r, NULL, 10);
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 35, 10000));
    stop_consumer(&r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 35);
    char l[] = "consumer=\"test\"";
    cr_assert_geq(metric_value(metrics_counter(
                      "kezek_consumer_batches_total", "Batches committed", l)),
                  4, "35 events in batches of 10");
    PQfinish(c);
}

Test(spine, crash_mid_batch_replays_only_the_open_batch, .init = setup,
     .fini = teardown)
{
    PGconn *c = spine_conn();
    produce(c, 35, 0, "ok");
    relay_all(c, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct runner r;
        crash_at = 17;
        start_consumer(&r, NULL, 10);
        pthread_join(r.t, NULL);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9, "child crashed");
    /* batches 1–10 committed; 11–20 died open */
    cr_assert_eq(tk_scalar(c, "SELECT last_seq FROM consumer_offset"
                              " WHERE consumer = 'test'"), 10);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 10);
    struct runner r;
    start_consumer(&r, NULL, 10);
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 35, 10000));
    stop_consumer(&r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 35);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"), 0);
    PQfinish(c);
}

Test(spine, poison_goes_to_dead_letter_and_the_rest_flows, .init = setup,
     .fini = teardown)
{
    PGconn *c = spine_conn();
    produce(c, 5, 0, "ok");
    produce(c, 1, 0, "poison");
    produce(c, 5, 0, "ok");
    /* an event whose envelope violates the invariants (bad version) */
    cr_assert(pg_exec(c, "INSERT INTO event_outbox (event_id, type, key,"
                         " producer, schema_version, occurred_at_us, payload)"
                         " VALUES (md5('x'), 2, 'kv', 'test', 99, 1, 'v')"));
    relay_all(c, NULL);
    struct runner r;
    start_consumer(&r, NULL, 4);
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 12, 10000));
    stop_consumer(&r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 10);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"
                              " WHERE consumer = 'test' AND seq = 6"
                              " AND reason = 'test poison'"), 1);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"
                              " WHERE seq = 12 AND reason LIKE '%version%'"),
                 1);
    char l[] = "consumer=\"test\"";
    cr_assert_eq(metric_value(metrics_counter("kezek_dead_letters_total",
                     "Poison events sent to dead_letter", l)), 2);
    PQfinish(c);
}

Test(spine, consumer_follows_the_bus_and_catches_up_after_a_gap,
     .init = setup, .fini = teardown)
{
    char err[256], ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", env.bus_port[0]);
    bus_t *pub = bus_pub_new(ep, err, sizeof(err));
    cr_assert(pub, "%s", err);
    PGconn *c = spine_conn();
    /* before the consumer exists: only event_log has these */
    produce(c, 20, 0, "ok");
    relay_all(c, pub);
    struct runner r;
    start_consumer(&r, ep, 50);
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 20, 10000));
    usleep(200000); /* let the subscription settle */
    for (int round = 0; round < 20; round++) {
        produce(c, 1, 0, "ok");
        relay_all(c, pub);
        usleep(5000);
    }
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 40, 10000));
    stop_consumer(&r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 40);
    char l[] = "consumer=\"test\"";
    cr_assert_gt(metric_value(metrics_counter(
                     "kezek_consumer_bus_batches_total",
                     "Batches taken straight from the bus", l)), 0,
                 "live events came over the bus");
    bus_destroy(&pub);
    PQfinish(c);
}

struct producer {
    int n;
};

static void *produce_thread(void *arg)
{
    struct producer *p = arg;
    char err[256];
    PGconn *c = pg_connect(env.conninfo, NULL, err, sizeof(err));
    for (int i = 0; c && i < p->n; i++) {
        if (!pg_exec(c, "BEGIN") ||
            !outbox_add(c, "test", KEZEK__EVENT_TYPE__DECISION_MADE, "k",
                        (const uint8_t *)"p", 1) ||
            !pg_exec(c, "COMMIT"))
            break;
    }
    if (c)
        PQfinish(c);
    return NULL;
}

Test(spine, two_relays_one_sequence, .init = setup, .fini = teardown)
{
    char err[256], ep1[64], ep2[64];
    snprintf(ep1, sizeof(ep1), "tcp://127.0.0.1:%d", env.bus_port[0]);
    snprintf(ep2, sizeof(ep2), "tcp://127.0.0.1:%d", env.bus_port[1]);
    volatile sig_atomic_t stop1 = 0, stop2 = 0;
    relay_t *a = relay_start(env.conninfo, ep1, 5, 2, &stop1, err,
                             sizeof(err));
    relay_t *b = relay_start(env.conninfo, ep2, 5, 2, &stop2, err,
                             sizeof(err));
    cr_assert(a && b, "%s", err);
    struct producer p = {150};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, produce_thread, &p);
    pthread_create(&t2, NULL, produce_thread, &p);
    pthread_join(t1, NULL);
    /* the leader dies halfway: the other relay takes over */
    stop1 = 1;
    relay_destroy(&a);
    pthread_join(t2, NULL);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log", 300,
                             10000));
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT max(seq) FROM event_log"), 300);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_outbox"), 0);
    PQfinish(c);
    stop2 = 1;
    relay_destroy(&b);
}

/* Events logged where they are produced (outbox.h: EVENT_LOG_TAIL) and
 * through the outbox at once: writers hold their seqs from the logging
 * statement to the commit (some wait a moment there, some roll back),
 * while a reader follows event_log as a consumer does — seq > last. A
 * seq given in another order than the commits' would show the reader a
 * gap that fills later. */
struct log_writer {
    int n, rolled_back, committed, failed;
    bool slow;
};

static void *log_writer_thread(void *arg)
{
    struct log_writer *w = arg;
    char err[256];
    PGconn *c = pg_connect(env.conninfo, NULL, err, sizeof(err));
    rowbuf_t *rb = rowbuf_new("event_put", OUTBOX_PUT_COLS);
    Kezek__QueueNumberAssigned m = KEZEK__QUEUE_NUMBER_ASSIGNED__INIT;
    m.application_id = "a";
    for (int i = 0; c && rb && i < w->n; i++) {
        int k = 1 + i % 3; /* events per transaction */
        bool ok = pg_exec(c, "BEGIN");
        for (int j = 0; ok && j < k; j++)
            ok = outbox_gather(rb, c, "test",
                               KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED, "k",
                               &m.base);
        ok = ok && outbox_log_flush(rb, c);
        if (w->slow)
            usleep(2000); /* holding the head row: others wait */
        bool keep = i % 5 != 4;
        bool done = ok && pg_exec(c, keep ? "COMMIT" : "ROLLBACK");
        outbox_log_done(done && keep);
        if (!done) {
            w->failed++;
            rowbuf_clear(rb);
            if (!pg_exec(c, "ROLLBACK"))
                break;
        } else if (keep) {
            w->committed += k;
        } else {
            w->rolled_back += k;
        }
    }
    rowbuf_destroy(&rb);
    if (c)
        PQfinish(c);
    return NULL;
}

struct log_reader {
    _Atomic int stop;
    int seen, gaps;
};

static void *log_reader_thread(void *arg)
{
    struct log_reader *r = arg;
    char err[256];
    PGconn *c = pg_connect(env.conninfo, NULL, err, sizeof(err));
    event_t evs[100];
    uint64_t last = 0;
    for (bool final = false; c;) {
        if (r->stop)
            final = true; /* one more read after the writers are done */
        int n = outbox_fetch(c, last, 100, evs);
        for (int i = 0; i < n; i++) {
            if (evs[i].seq != last + 1)
                r->gaps++;
            last = evs[i].seq;
            r->seen++;
            event_clear(&evs[i]);
        }
        if (n < 0 || (final && n == 0))
            break;
    }
    if (c)
        PQfinish(c);
    return NULL;
}

Test(spine, events_logged_where_produced_keep_one_gapless_commit_order,
     .init = setup, .fini = teardown)
{
    char err[256], ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", env.bus_port[0]);
    volatile sig_atomic_t stop = 0;
    relay_t *relay = relay_start(env.conninfo, ep, 5, 1, &stop, err,
                                 sizeof(err));
    cr_assert(relay, "%s", err);
    outbox_set_publisher(relay_bus(relay));
    bus_t *sub = bus_sub_new(ep, err, sizeof(err));
    cr_assert(sub, "%s", err);
    usleep(200000); /* let the subscription settle */

    struct log_writer w[3] = {{.n = 60}, {.n = 60, .slow = true},
                              {.n = 60}};
    struct producer p = {60}; /* through the outbox and the relay */
    struct log_reader r = {0};
    pthread_t tw[3], tp, tr;
    pthread_create(&tr, NULL, log_reader_thread, &r);
    for (int i = 0; i < 3; i++)
        pthread_create(&tw[i], NULL, log_writer_thread, &w[i]);
    pthread_create(&tp, NULL, produce_thread, &p);
    int logged = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(tw[i], NULL);
        cr_assert_eq(w[i].failed, 0);
        cr_assert_gt(w[i].rolled_back, 0);
        logged += w[i].committed;
    }
    pthread_join(tp, NULL);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log",
                             logged + 60, 10000));
    r.stop = 1;
    pthread_join(tr, NULL);

    PGconn *c = tk_db(&env);
    cr_assert_eq(r.gaps, 0, "the reader saw a seq before a lower one");
    cr_assert_eq(r.seen, logged + 60);
    cr_assert_eq(tk_scalar(c, "SELECT max(seq) FROM event_log"),
                 logged + 60);
    cr_assert_eq(tk_scalar(c, "SELECT seq FROM event_log_head"),
                 logged + 60);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_log"
                              " WHERE producer = 'test' AND type = 3"),
                 logged);
    /* the committed ones were published after their commit, the rolled
     * back ones never */
    int frames = 0;
    event_t ev;
    while (bus_recv(sub, 500, &ev) == 1) {
        cr_assert_leq(ev.seq, (uint64_t)(logged + 60));
        frames++;
        event_clear(&ev);
    }
    cr_assert_eq(frames, logged + 60);
    PQfinish(c);
    bus_destroy(&sub);
    stop = 1;
    relay_destroy(&relay);
}

/* Issue 21 (p.17: nothing but what was committed reaches a citizen's
 * record): a frame on the bus with the next seq but not the committed
 * event — forged by a process that bound a bus port, or garbled — is
 * never applied; the consumer reads event_log instead and applies what
 * was committed there. */
Test(spine, a_frame_that_is_not_the_logged_event_is_never_applied,
     .init = setup, .fini = teardown)
{
    char err[256], ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", env.bus_port[0]);
    bus_t *pub = bus_pub_new(ep, err, sizeof(err));
    cr_assert(pub, "%s", err);
    struct runner r;
    start_consumer(&r, ep, 50);
    usleep(300000); /* let the subscription settle */
    event_t forged = {.seq = 1, .type = KEZEK__EVENT_TYPE__DECISION_MADE,
                      .occurred_at_us = now_us(), .schema_version = 1,
                      .payload = (uint8_t *)"evil", .payload_len = 4};
    event_new_id(forged.event_id);
    snprintf(forged.key, sizeof(forged.key), "forged");
    snprintf(forged.producer, sizeof(forged.producer), "test");
    for (int i = 0; i < 5; i++) {
        cr_assert(bus_publish(pub, &forged));
        usleep(50000);
    }
    usleep(300000);
    PGconn *c = spine_conn();
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect"), 0,
                 "a frame nobody committed was applied");
    char l[] = "consumer=\"test\"";
    cr_assert_geq(metric_value(metrics_counter(
                      "kezek_consumer_untied_total",
                      "Batches of bus frames not matching event_log "
                      "(discarded)", l)), 1);
    /* the committed event with the same seq: applied from event_log */
    produce(c, 1, 0, "ok");
    relay_all(c, NULL);
    cr_assert(tk_wait_scalar(&env, "SELECT last_seq FROM consumer_offset"
                             " WHERE consumer = 'test'", 1, 10000));
    stop_consumer(&r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect WHERE key = "
                              "'k1'"), 1);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM effect WHERE key = "
                              "'forged'"), 0);
    bus_destroy(&pub);
    PQfinish(c);
}
