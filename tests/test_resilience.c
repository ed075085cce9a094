/* The database going away and coming back (issue 20; p.4: the result
 * within its term, whatever happens to a machine): a restart or a
 * failover ends every connection at once. Reads must not fail once the
 * database is back — the pool drops what the restart closed instead of
 * failing one request per stale connection — writes fail only while it
 * is down (503 with Retry-After, and the same Idempotency-Key succeeds
 * later), /readyz says which it is, and the consumers resume from their
 * offsets.
 *
 * The restart is of this test's database alone (the suite shares one
 * cluster): connections refused, every backend terminated (57P01, as a
 * shutdown sends), then connections allowed again. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
}

static void teardown(void)
{
    tk_env_fini(&env);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define MAX_TRIES 20000

/* A request: when it was sent and answered. One that was in flight when
 * the database went away (sent before, answered after) fell in the down
 * window, whenever it was sent. */
struct attempt {
    int64_t at, end;
    long status;
};

struct load {
    _Atomic bool stop;
    _Atomic bool paused;     /* readers wait: the worst case, every
                              * pooled connection stale when they resume */
    char ids[5][40];
    struct attempt reads[MAX_TRIES], writes[MAX_TRIES], ready[MAX_TRIES];
    _Atomic int nreads, nwrites, nready;
    int written;             /* applications accepted, each once */
};

static struct load load;

static void record(struct attempt *a, _Atomic int *n, int64_t at, long st)
{
    int k = atomic_fetch_add(n, 1);
    if (k < MAX_TRIES)
        a[k] = (struct attempt){at, now_ms(), st};
}

static void *reader(void *arg)
{
    int which = (int)(intptr_t)arg;
    char path[80];
    for (int i = 0; !atomic_load(&load.stop); i++) {
        if (atomic_load(&load.paused)) {
            usleep(1000);
            continue;
        }
        snprintf(path, sizeof(path), "/v1/applications/%s",
                 load.ids[(i + which) % 5]);
        int64_t at = now_ms();
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_INTAKE], path,
                            env.office, NULL, NULL, &st);
        json_decref(j);
        record(load.reads, &load.nreads, at, st);
        usleep(5000);
    }
    return NULL;
}

static void *ready_poller(void *arg)
{
    (void)arg;
    while (!atomic_load(&load.stop)) {
        if (atomic_load(&load.paused)) {
            usleep(1000);
            continue;
        }
        int64_t at = now_ms();
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_INTAKE], "/readyz", NULL,
                            NULL, NULL, &st);
        json_decref(j);
        record(load.ready, &load.nready, at, st);
        usleep(50000);
    }
    return NULL;
}

/* Submits application after application, each retried with its own key
 * until accepted — as an office's client does. */
static void *writer(void *arg)
{
    (void)arg;
    for (int n = 100; !atomic_load(&load.stop); n++) {
        char iin[13], key[32];
        tk_iin(n, iin);
        snprintf(key, sizeof(key), "restart-%d", n);
        for (;;) {
            while (atomic_load(&load.paused))
                usleep(1000);
            int64_t at = now_ms();
            long st;
            char *body = tk_application(iin);
            char hdr[64];
            snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
            char *t = tk_http_text("POST", env.http_port[TK_INTAKE],
                                   "/v1/applications", env.office, hdr, body,
                                   &st);
            free(body);
            free(t);
            record(load.writes, &load.nwrites, at, st);
            if (st == 202 || st == 200) {
                load.written++;
                break;
            }
            usleep(100000);
        }
        usleep(20000);
    }
    return NULL;
}

Test(restart, reads_survive_a_database_restart_and_writes_resume,
     .init = setup, .fini = teardown, .timeout = 120)
{
    tk_start(&env, TK_INTAKE);
    tk_start(&env, TK_ELIGIBILITY);
    for (int i = 0; i < 5; i++) {
        char iin[13], key[16];
        long st;
        tk_iin(10 + i, iin);
        snprintf(key, sizeof(key), "first-%d", i);
        cr_assert(tk_submit(&env, iin, key, load.ids[i], &st));
    }
    PGconn *c = tk_db(&env);
    char db[64];
    snprintf(db, sizeof(db), "%s", PQdb(c));
    PQfinish(c);

    enum { READERS = 8 };
    pthread_t th[READERS + 2];
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, reader, (void *)(intptr_t)i);
    pthread_create(&th[READERS], NULL, writer, NULL);
    pthread_create(&th[READERS + 1], NULL, ready_poller, NULL);
    usleep(1000000);

    /* A: an instant restart (a failover to a standby that is ready):
     * every connection ends while no request is in flight, and the
     * clients resume at once — the worst case for a pool that finds its
     * stale connections one failed request at a time */
    char sql[300];
    atomic_store(&load.paused, true);
    usleep(100000); /* the requests in flight end */
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid, 5000) FROM"
             " pg_stat_activity WHERE datname = '%s'", db);
    tk_admin(sql); /* waits until each backend has exited */
    int64_t instant = now_ms();
    atomic_store(&load.paused, false);
    usleep(2000000);

    /* B: down for two seconds under load, then back */
    int64_t down = now_ms();
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
             db);
    tk_admin(sql);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid, 5000) FROM"
             " pg_stat_activity WHERE datname = '%s'", db);
    tk_admin(sql);
    usleep(2000000);
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
             db);
    tk_admin(sql);
    int64_t up = now_ms();
    usleep(3000000);
    atomic_store(&load.stop, true);
    for (int i = 0; i < READERS + 2; i++)
        pthread_join(th[i], NULL);

    int nr = atomic_load(&load.nreads), nw = atomic_load(&load.nwrites),
        ny = atomic_load(&load.nready);
    int reads_after = 0, failed_after = 0, failed_during = 0;
    for (int i = 0; i < nr && i < MAX_TRIES; i++) {
        int64_t at = load.reads[i].at;
        if (at >= instant && (load.reads[i].end < down || at >= up)) {
            reads_after++;
            if (load.reads[i].status != 200)
                failed_after++;
        } else if (at >= down && load.reads[i].status != 200) {
            failed_during++;
        }
    }
    cr_assert_gt(reads_after, 50, "the readers kept reading");
    cr_assert_eq(failed_after, 0, "%d of %d reads failed after the "
                 "restart (A) or the database's return (B)", failed_after,
                 reads_after);
    int writes_failed_after = 0, writes_failed = 0;
    for (int i = 0; i < nw && i < MAX_TRIES; i++) {
        long st = load.writes[i].status;
        if (st == 202 || st == 200)
            continue;
        writes_failed++;
        cr_assert_eq(st, 503, "a write refused otherwise than 503: %ld", st);
        int64_t at = load.writes[i].at;
        if (at >= instant && (load.writes[i].end < down || at >= up))
            writes_failed_after++;
    }
    cr_assert_eq(writes_failed_after, 0, "%d writes failed outside the "
                 "two seconds down", writes_failed_after);
    bool ready_503 = false, ready_200_after = false;
    for (int i = 0; i < ny && i < MAX_TRIES; i++) {
        if (load.ready[i].at > down + 200 && load.ready[i].at < up - 200 &&
            load.ready[i].status == 503)
            ready_503 = true;
        if (load.ready[i].at > up + 1000 && load.ready[i].status == 200)
            ready_200_after = true;
    }
    cr_assert(ready_503, "/readyz said 503 while the database was down");
    cr_assert(ready_200_after, "/readyz said 200 once it was back");
    cr_log_info("reads: %d after the restart, 0 failed (%d failed while "
                "down); writes: %d attempts, %d refused while down, %d "
                "applications", reads_after, failed_during, nw,
                writes_failed, load.written);
    /* every application accepted is decided once: the eligibility
     * consumer reconnected and resumed from its offset */
    char q[200];
    snprintf(q, sizeof(q), "SELECT count(*) FROM decision");
    cr_assert(tk_wait_scalar(&env, q, 5 + load.written, 20000),
              "every accepted application decided");
    c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application"),
                 5 + load.written, "each application once");
    PQfinish(c);
}
