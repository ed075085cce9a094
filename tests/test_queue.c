/* The queue (p.5): gapless numbers per authority and list, positions by
 * acceptance order whatever the order of decisions, removals that move
 * the entries behind up, the position history, and the Redis view with
 * its Postgres fallback and repair. */
#include "outbox.h"
#include "queue_view.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static tk_env_t env;

/* A decision as eligibility would emit it for application id of the
 * person tk_iin(n), accepted at seq. */
static void decide_app(PGconn *c, int n, const char *id,
                       uint64_t accepted_seq, const char *list)
{
    char iin[13];
    tk_iin(n, iin);
    Kezek__DecisionMade m = KEZEK__DECISION_MADE__INIT;
    m.application_id = (char *)id;
    m.registered = true;
    m.outcome = "registered";
    m.decided_at_us = now_us();
    m.authority_id = "a-01-02";
    m.list = (char *)list;
    m.accepted_seq = accepted_seq;
    m.applicant_iin = iin;
    cr_assert(pg_exec(c, "BEGIN"));
    cr_assert(outbox_add_msg(c, "test", KEZEK__EVENT_TYPE__DECISION_MADE, id,
                             &m.base));
    cr_assert(pg_exec(c, "COMMIT"));
}

static void decide(PGconn *c, int n, uint64_t accepted_seq,
                   const char *list)
{
    char id[40];
    snprintf(id, sizeof(id), "app-%d", n);
    decide_app(c, n, id, accepted_seq, list);
}

static json_t *entry(int n, const char *suffix, long *st)
{
    char iin[13], path[160];
    tk_iin(n, iin);
    snprintf(path, sizeof(path), "/v1/queue/a-01-02/wwii/entries/%s%s", iin,
             suffix);
    return tk_http("GET", env.http_port[TK_QUEUE], path, env.office, NULL,
                   NULL, st);
}

static long position_of(int n, const char **source)
{
    long st;
    json_t *j = entry(n, "", &st);
    long pos = st == 200 ? (long)json_integer_value(json_object_get(j,
                                                      "position")) : -st;
    static char src[16];
    snprintf(src, sizeof(src), "%s",
             json_string_value(json_object_get(j, "source")) ?: "");
    if (source)
        *source = src;
    json_decref(j);
    return pos;
}

/* Polls person n's look-up for up to 10 s until it answers from source
 * (the view follows each commit a moment later); returns the last
 * position. */
static long position_from(int n, const char *source)
{
    const char *src = "";
    long pos = -1;
    for (int i = 0; i < 100; i++) {
        if (i)
            usleep(100000);
        pos = position_of(n, &src);
        if (strcmp(src, source) == 0)
            break;
    }
    cr_assert_str_eq(src, source, "person %d answered from %s", n, src);
    return pos;
}

static PGconn *spine(void)
{
    char err[256];
    PGconn *c = pg_connect(env.conninfo, NULL, err, sizeof(err));
    cr_assert(c, "%s", err);
    return c;
}

Test(queue, late_decisions_land_at_acceptance_rank_and_removal_moves_up,
     .timeout = 60)
{
    tk_env_init(&env);
    tk_start(&env, TK_QUEUE);
    PGconn *c = spine();
    /* decisions arrive C, A, B; acceptance order is A, B, C */
    decide(c, 3, 300, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 1,
                             5000));
    decide(c, 1, 100, "wwii");
    decide(c, 2, 200, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 3,
                             5000));
    PGconn *q = tk_db(&env);
    /* numbers follow the decisions (gapless), positions the acceptance */
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'app-3'"), 1);
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'app-2'"), 3);
    cr_assert_eq(position_of(1, NULL), 1);
    cr_assert_eq(position_of(2, NULL), 2);
    cr_assert_eq(position_of(3, NULL), 3);

    /* the office removes A: those behind move up */
    char iin[13], path[160];
    tk_iin(1, iin);
    snprintf(path, sizeof(path),
             "/v1/queue/a-01-02/wwii/entries/%s/removal", iin);
    long st;
    json_t *j = tk_http("POST", env.http_port[TK_QUEUE], path, env.office,
                        NULL, "{\"reason\":\"housing_provided\","
                        "\"date\":\"2026-11-20\"}", &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "last_position")), 1);
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_QUEUE], path, env.office, NULL,
                "{\"reason\":\"housing_provided\",\"date\":\"2026-11-20\"}",
                &st);
    cr_assert_eq(st, 404, "removed once only");
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_QUEUE], path, env.office, NULL,
                "{\"reason\":\"bored\",\"date\":\"2026-11-20\"}", &st);
    cr_assert_eq(st, 400);
    json_decref(j);
    cr_assert_eq(position_of(1, NULL), -404);
    cr_assert_eq(position_of(2, NULL), 1);
    cr_assert_eq(position_of(3, NULL), 2);

    /* C's history: registered at 1, two late registrations ahead, one
     * removal ahead */
    j = entry(3, "/history", &st);
    cr_assert_eq(st, 200);
    json_t *h = json_object_get(j, "history");
    cr_assert_eq(json_array_size(h), 4);
    static const char *const causes[] = {"registered",
        "late_registration_ahead", "late_registration_ahead",
        "removal_ahead"};
    static const int to[] = {1, 2, 3, 2};
    for (int i = 0; i < 4; i++) {
        json_t *row = json_array_get(h, (size_t)i);
        cr_assert_str_eq(json_string_value(json_object_get(row, "cause")),
                         causes[i]);
        cr_assert_eq(json_integer_value(json_object_get(row, "to")), to[i]);
    }
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(h, 3), "reason")),
                     "housing_provided");
    json_decref(j);
    /* A's own history ends with its removal */
    j = entry(1, "/history", &st);
    h = json_object_get(j, "history");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(h, json_array_size(h) - 1),
                         "cause")), "removed");
    json_decref(j);
    /* the list row's counters agree with its entries (numbers given in
     * batches, removals one by one) */
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM queue_list l WHERE"
        " active <> (SELECT count(*) FROM queue_entry e WHERE"
        " e.authority_id = l.authority_id AND e.list = l.list"
        " AND e.status = 'active') OR last_number <> (SELECT max(number)"
        " FROM queue_entry e WHERE e.authority_id = l.authority_id"
        " AND e.list = l.list)"), 0);
    /* the view agrees with the truth */
    kredis_t *r = kredis_new(env.redis);
    struct queue_view_report rep;
    cr_assert(queue_view_rebuild(q, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 0);
    kredis_destroy(&r);
    PQfinish(q);
    PQfinish(c);
    tk_env_fini(&env);
}

Test(queue, two_instances_keep_numbers_gapless, .timeout = 120)
{
    tk_env_init(&env);
    tk_start(&env, TK_QUEUE);
    pid_t first = env.pid[TK_QUEUE];
    int first_port = env.http_port[TK_QUEUE];
    /* a second instance of the same service on other ports */
    env.http_port[TK_QUEUE] = env.http_port[TK_NOTIFY];
    env.bus_port[TK_QUEUE] = env.bus_port[TK_NOTIFY];
    tk_start(&env, TK_QUEUE);
    PGconn *c = spine();
    static const char *const lists[] = {"wwii", "vulnerable"};
    for (int i = 1; i <= 200; i++)
        decide(c, i, (uint64_t)i, lists[i % 2]);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 200,
                             30000));
    PGconn *q = tk_db(&env);
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM (SELECT list FROM"
                              " queue_entry GROUP BY list HAVING"
                              " max(number) <> 100 OR count(*) <> 100 OR"
                              " count(DISTINCT number) <> 100) x"), 0);
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM queue_list"
                              " WHERE last_number <> 100 OR active <> 100"),
                 0, "the list rows count what was given");
    PQfinish(q);
    PQfinish(c);
    kill(first, SIGTERM);
    int st;
    waitpid(first, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    (void)first_port;
    tk_env_fini(&env);
}

/* A Redis of the test's own on sock, to stop and start: a child that
 * dies with the test, whatever assertion ends it (a daemon outlived a
 * failed test). */
static pid_t own_redis(const char *dir, const char *sock)
{
    pid_t pid = tk_fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
        execlp("redis-server", "redis-server", "--port", "0",
               "--unixsocket", sock, "--dir", dir, "--save", "",
               "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && access(sock, F_OK) != 0; i++)
        usleep(20000);
    cr_assert_eq(access(sock, F_OK), 0, "redis-server did not start");
    return pid;
}

static void stop_redis(pid_t pid, const char *sock)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(sock);
}

Test(queue, redis_down_answers_from_postgres_and_is_repaired,
     .timeout = 60)
{
    tk_env_init(&env);
    char dir[280], sock[300];
    snprintf(dir, sizeof(dir), "%s/redis", env.dir);
    snprintf(sock, sizeof(sock), "%s/r.sock", dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    pid_t redis = own_redis(dir, sock);
    snprintf(env.redis, sizeof(env.redis), "unix:%s", sock);
    tk_start(&env, TK_QUEUE);
    PGconn *c = spine();
    decide(c, 1, 10, "wwii");
    decide(c, 2, 20, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 2,
                             5000));
    const char *src;
    cr_assert_eq(position_from(2, "redis"), 2);
    stop_redis(redis, sock);
    usleep(300000);
    cr_assert_eq(position_of(2, &src), 2, "the truth, when Redis is down");
    cr_assert_str_eq(src, "postgres");
    decide(c, 3, 30, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 3,
                             5000));
    cr_assert_eq(position_of(3, &src), 3);
    cr_assert_str_eq(src, "postgres");
    /* Redis comes back empty: the view is repaired from Postgres */
    redis = own_redis(dir, sock);
    bool repaired = false;
    for (int i = 0; i < 100 && !repaired; i++) {
        usleep(100000);
        repaired = position_of(3, &src) == 3 && strcmp(src, "redis") == 0;
    }
    cr_assert(repaired, "the view is rebuilt after Redis returns");
    cr_assert_eq(position_of(1, &src), 1);
    PQfinish(c);
    tk_env_fini(&env);
    stop_redis(redis, sock);
}

/* Person n's wwii entry (number n, accepted at seq 10 n) written to
 * Postgres alone, registered at now() shifted by shift. */
static void entry_in_postgres_only(PGconn *c, int n, const char *shift)
{
    char iin[13], sql[400];
    tk_iin(n, iin);
    snprintf(sql, sizeof(sql), "INSERT INTO queue_entry (authority_id,"
             " list, number, application_id, applicant_iin, accepted_seq,"
             " registered_at) VALUES ('a-01-02', 'wwii', %d, 'app-%d', '%s',"
             " %d, now() %s)", n, n, iin, 10 * n, shift);
    cr_assert(pg_exec(c, sql));
}

/* An entry committed a moment ago that the view does not have yet (the
 * batch writes Redis just after its commit) is answered from Postgres
 * without taking the view for drifted; one the view should have had for
 * a while is drift, and the view is rebuilt (p.5: the position shown is
 * the truth's). */
Test(queue, an_entry_on_its_way_to_the_view_is_not_drift, .timeout = 60)
{
    tk_env_init(&env);
    tk_start(&env, TK_QUEUE);
    PGconn *c = spine();
    decide(c, 1, 10, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 1,
                             5000));
    cr_assert_eq(position_from(1, "redis"), 1);
    /* person 2 in Postgres only, registered just now: as a look-up sees
     * it between the batch's commit and its Redis write (its time a
     * minute ahead keeps it young however slowly the test runs) */
    entry_in_postgres_only(c, 2, "+ interval '1 minute'");
    const char *src;
    cr_assert_eq(position_of(2, &src), 2, "the truth answers");
    cr_assert_str_eq(src, "postgres");
    cr_assert_eq(position_of(1, &src), 1);
    cr_assert_str_eq(src, "redis", "the view is still trusted");
    /* person 3, registered a minute ago and still missing: drift */
    entry_in_postgres_only(c, 3, "- interval '1 minute'");
    cr_assert_eq(position_of(3, &src), 3);
    cr_assert_str_eq(src, "postgres");
    /* the rebuild brings both into the view */
    cr_assert_eq(position_from(3, "redis"), 3,
                 "the view is rebuilt from Postgres");
    cr_assert_eq(position_from(2, "redis"), 2);
    PQfinish(c);
    tk_env_fini(&env);
}

/* p.5: a citizen holds one place per list; a second registration of the
 * same person keeps their number. */
Test(queue, one_place_per_person_and_list, .timeout = 60)
{
    tk_env_init(&env);
    tk_start(&env, TK_QUEUE);
    PGconn *c = spine();
    decide_app(c, 7, "first", 10, "wwii");
    decide_app(c, 8, "other", 20, "wwii");
    decide_app(c, 7, "second", 30, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log"
                             " WHERE type = 3", 3, 5000));
    PGconn *q = tk_db(&env);
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM queue_entry"), 2);
    cr_assert_eq(tk_scalar(q, "SELECT max(last_number) FROM queue_list"), 2,
                 "no number is spent on the repeat");
    cr_assert_eq(position_of(7, NULL), 1);
    PQfinish(q);
    PQfinish(c);
    tk_env_fini(&env);
}

/* p.5: a backlog numbered in one batch comes out as one at a time would:
 * numbers in the order of the decisions, gapless per list; a repeat keeps
 * the place taken earlier in the same batch; ranks by acceptance, also
 * against entries numbered earlier in the batch. */
Test(queue, backlog_in_one_batch_numbers_as_one_at_a_time, .timeout = 60)
{
    tk_env_init(&env);
    PGconn *c = spine();
    /* in the log before the queue runs: it reads them in one batch */
    decide_app(c, 7, "first", 30, "wwii");
    decide_app(c, 8, "other", 10, "wwii");
    decide_app(c, 7, "second", 40, "wwii");
    decide_app(c, 10, "elsewhere", 15, "vulnerable");
    decide_app(c, 9, "third", 20, "wwii");
    PGresult *r = pg_run(c, "relay_move", 1, (const char *[]){"1000"});
    cr_assert(r && PQntuples(r) == 5, "the five decisions in the log");
    PQclear(r);
    tk_start(&env, TK_QUEUE);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log"
                             " WHERE type = 3", 5, 10000));
    PGconn *q = tk_db(&env);
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM queue_entry"), 4);
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'first'"), 1);
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'other'"), 2);
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'third'"), 3);
    cr_assert_eq(tk_scalar(q, "SELECT number FROM queue_entry"
                              " WHERE application_id = 'elsewhere'"), 1);
    cr_assert_eq(tk_scalar(q, "SELECT last_number * 10 + active FROM"
                              " queue_list WHERE list = 'wwii'"), 33,
                 "three numbers, three active, none spent on the repeat");
    /* ranks at registration: 'other' was accepted before 'first' */
    cr_assert_eq(tk_scalar(q, "SELECT position_at_registration FROM"
                              " queue_entry WHERE application_id = 'other'"),
                 1);
    cr_assert_eq(tk_scalar(q, "SELECT position_at_registration FROM"
                              " queue_entry WHERE application_id = 'third'"),
                 2);
    cr_assert_eq(tk_scalar(q, "SELECT count(*) FROM queue_change"), 4);
    cr_assert_eq(position_of(8, NULL), 1);
    cr_assert_eq(position_of(9, NULL), 2);
    cr_assert_eq(position_of(7, NULL), 3);
    cr_assert_eq(tk_metric(&env, TK_QUEUE, "kezek_consumer_batch_retries_"
                           "total{consumer=\"queue\"}"), 0,
                 "numbered as a batch, not replayed one at a time");
    PQfinish(q);
    PQfinish(c);
    tk_env_fini(&env);
}

/* p.5: a Redis view that stays wrong is found by the periodic verify
 * and rebuilt from Postgres (a difference seen once, while a list is
 * being written, is looked at again first). */
Test(queue, verify_repairs_a_view_that_stays_wrong, .timeout = 60)
{
    tk_env_init(&env);
    setenv("KEZEK_VERIFY_SECONDS", "1", 1);
    tk_start(&env, TK_QUEUE);
    unsetenv("KEZEK_VERIFY_SECONDS");
    PGconn *c = spine();
    decide(c, 1, 10, "wwii");
    decide(c, 2, 20, "wwii");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 2,
                             5000));
    long st;
    json_t *j = NULL;
    for (int i = 0; i < 50; i++) { /* the view follows the commit */
        json_decref(j);
        j = entry(2, "", &st);
        if (st == 200 && strcmp(json_string_value(json_object_get(j,
                                    "source")), "redis") == 0)
            break;
        usleep(100000);
    }
    cr_assert_eq(json_integer_value(json_object_get(j, "number")), 2);
    json_decref(j);
    char iin[13];
    tk_iin(2, iin);
    kredis_t *r = kredis_new(env.redis);
    freeReplyObject(kredis_cmd(r, "HSET kezek:qn:a-01-02:wwii %s 77", iin));
    /* just written: the periodic verify leaves the list to a later pass,
     * a full verify sees the difference */
    PGconn *q = tk_db(&env);
    struct queue_view_report rep;
    cr_assert(queue_view_verify_settled(q, r, &rep));
    cr_assert_eq(rep.busy, 1);
    cr_assert_eq(rep.drift, 0);
    cr_assert(queue_view_rebuild(q, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 1);
    PQfinish(q);
    kredis_destroy(&r);
    bool repaired = false;
    for (int i = 0; i < 150 && !repaired; i++) {
        usleep(100000);
        j = entry(2, "", &st);
        repaired = st == 200 &&
                   json_integer_value(json_object_get(j, "number")) == 2 &&
                   strcmp(json_string_value(json_object_get(j, "source")),
                          "redis") == 0;
        json_decref(j);
    }
    cr_assert(repaired, "the number in the view is the truth again");
    /* the gauge is set once the rebuild returns, a moment after the swap
     * the look-up already sees */
    double drift = -1;
    for (int i = 0; i < 50 && drift != 0; i++) {
        drift = tk_metric(&env, TK_QUEUE, "kezek_queue_view_drift_lists");
        if (drift != 0)
            usleep(100000);
    }
    cr_assert_eq(drift, 0);
    PQfinish(c);
    tk_env_fini(&env);
}

/* The view of a large list rebuilds and verifies in n log n: 100,000
 * entries (a quadratic check would not finish). */
Test(queue, large_list_rebuilds_and_verifies, .timeout = 120)
{
    tk_env_init(&env);
    PGconn *c = tk_db(&env);
    cr_assert_eq(PQresultStatus(PQexec(c,
        "INSERT INTO queue_list VALUES ('a-01-02', 'wwii', 100000, 100000);"
        "INSERT INTO queue_entry (authority_id, list, number,"
        " application_id, applicant_iin, accepted_seq)"
        " SELECT 'a-01-02', 'wwii', i, 'big-' || i, lpad(i::text, 12, '0'),"
        " 100001 - i FROM generate_series(1, 100000) i")),
        PGRES_COMMAND_OK);
    kredis_t *r = kredis_new(env.redis);
    struct queue_view_report rep;
    cr_assert(queue_view_rebuild(c, r, NULL, false, &rep));
    cr_assert_eq(rep.entries, 100000);
    cr_assert(queue_view_rebuild(c, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 0);
    /* one changed number is drift */
    redisReply *x = kredis_cmd(r, "HSET kezek:qn:a-01-02:wwii %s 7",
                               "000000050000");
    freeReplyObject(x);
    cr_assert(queue_view_rebuild(c, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 1);
    kredis_destroy(&r);
    PQfinish(c);
    tk_env_fini(&env);
}

/* p.5 (the citizen's place as the queue holds it): the view answers
 * exactly what Postgres holds — a list the view has and Postgres does
 * not (left by an earlier deployment, a restore, an authority gone) is
 * drift to a verify and deleted by a rebuild, never answered from. */
Test(queue, a_list_postgres_does_not_have_is_not_kept_in_the_view,
     .timeout = 60)
{
    tk_env_init(&env);
    PGconn *c = tk_db(&env);
    cr_assert_eq(PQresultStatus(PQexec(c,
        "INSERT INTO queue_list VALUES ('a-01-02', 'wwii', 1, 1);"
        "INSERT INTO queue_entry (authority_id, list, number,"
        " application_id, applicant_iin, accepted_seq)"
        " VALUES ('a-01-02', 'wwii', 1, 'one', '000000000001', 1)")),
        PGRES_COMMAND_OK);
    kredis_t *r = kredis_new(env.redis);
    struct queue_view_report rep;
    cr_assert(queue_view_rebuild(c, r, NULL, false, &rep));
    redisReply *x = kredis_cmd(r, "ZADD kezek:q:a-01-03:vulnerable 5 %s",
                               "000000000002");
    freeReplyObject(x);
    x = kredis_cmd(r, "HSET kezek:qn:a-01-03:vulnerable %s 9",
                   "000000000002");
    freeReplyObject(x);
    cr_assert(queue_view_rebuild(c, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 2, "both keys of the stray list are drift");
    cr_assert(queue_view_rebuild(c, r, NULL, false, &rep));
    x = kredis_cmd(r, "EXISTS kezek:q:a-01-03:vulnerable"
                      " kezek:qn:a-01-03:vulnerable");
    cr_assert(x && x->type == REDIS_REPLY_INTEGER);
    cr_assert_eq(x->integer, 0, "the stray list was deleted");
    freeReplyObject(x);
    x = kredis_cmd(r, "ZCARD kezek:q:a-01-02:wwii");
    cr_assert(x && x->integer == 1, "Postgres' own list stays");
    freeReplyObject(x);
    cr_assert(queue_view_rebuild(c, r, NULL, true, &rep));
    cr_assert_eq(rep.drift, 0);
    kredis_destroy(&r);
    PQfinish(c);
    tk_env_fini(&env);
}
