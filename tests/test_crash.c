/* The crash test: while applications stream in, each service is killed
 * with SIGKILL in turn and restarted. Afterwards every accepted
 * application has exactly one decision, one queue number and one
 * notice; numbers per (authority, list) are 1..N without gap or
 * duplicate (p.5); and Redis, flushed and rebuilt, equals Postgres. */
#include "queue_view.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 400

static tk_env_t env;
static _Atomic int submitted, retries, kills_done;

#define KILLS (2 * TK_NSVC)

/* Office submissions go to a-01-02; portal ones are routed by the
 * settlement s-01-03 to a-01-03 (p.13.3): two lists. */
static void *submitter(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        /* never run more than half a tenth ahead of the pending kill, so
         * that every kill lands mid-stream however slow the build */
        while (kills_done < KILLS && i >= (kills_done + 1) * N / 10 + N / 20)
            usleep(1000);
        char iin[13], key[32], hdr[64], *body;
        tk_iin(100 + i, iin);
        snprintf(key, sizeof(key), "crash-%d", i);
        snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
        bool portal = i % 2;
        if (portal) {
            int n = asprintf(&body,
                "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"T\","
                "\"given_name\":\"T\"},\"settlement_id\":\"s-01-03\","
                "\"fund\":\"communal\",\"category\":\"wwii\","
                "\"need_grounds\":[1],\"applicant_signature\":\"c2ln\","
                "\"documents\":[{\"code\":\"application_form\"}]}", iin);
            if (n < 0)
                return NULL;
        } else {
            body = tk_application(iin);
        }
        for (;;) { /* a client retries with the same key until answered */
            long st;
            json_t *j = tk_http("POST", env.http_port[TK_INTAKE],
                                "/v1/applications",
                                portal ? env.portal : env.office, hdr, body,
                                &st);
            json_decref(j);
            if (st == 202 || st == 200)
                break;
            retries++;
            usleep(20000);
        }
        free(body);
        submitted++;
    }
    return NULL;
}

Test(crash, kill_9_each_service_in_turn, .timeout = 300)
{
    tk_env_init(&env);
    env.batch_size = 20;
    /* p.6: residents of the settlements they apply in */
    for (int i = 0; i < N; i += 2) {
        tk_people(&env, 100 + i, 1, "s-01-02");
        tk_people(&env, 101 + i, 1, "s-01-03");
    }
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    pthread_t t;
    pthread_create(&t, NULL, submitter, NULL);
    /* kill k happens once (k + 1) tenths of the stream are in, so
     * every kill lands while submissions are flowing */
    int at_last_kill = 0;
    for (int k = 0; k < KILLS; k++) {
        while (submitted < (k + 1) * N / 10)
            usleep(2000);
        at_last_kill = submitted;
        tk_signal(&env, k % TK_NSVC, SIGKILL);
        usleep(50000);
        tk_start(&env, k % TK_NSVC);
        kills_done++;
    }
    pthread_join(t, NULL);
    cr_assert_lt(at_last_kill, N, "the last kill came mid-stream");
    cr_assert_eq(submitted, N);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice"
                             " WHERE kind IN ('registration_notice',"
                             " 'refusal')", N, 60000),
              "every application's result reaches the cabinet");
    cr_log_info("%d submissions retried while intake was down", retries);

    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application"), N);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application a"
                              " JOIN decision d ON d.application_id = a.id"),
                 N, "one decision each");
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application a"
                              " JOIN queue_entry q"
                              " ON q.application_id = a.id"),
                 N, "one queue number each");
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application a"
                              " JOIN notice n ON n.application_id = a.id"
                              " WHERE n.kind = 'registration_notice'"),
                 N, "one registration notice each (p.5)");
    /* p.14: portal submissions also get the acceptance report */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice"
                             " WHERE kind = 'acceptance_report'", N / 2,
                             10000));
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM (SELECT authority_id,"
                              " list FROM queue_entry GROUP BY 1, 2 HAVING"
                              " max(number) <> count(*) OR min(number) <> 1"
                              " OR count(DISTINCT number) <> count(*)) x"),
                 0, "numbers are 1..N per list");
    cr_assert_eq(tk_scalar(c, "SELECT count(DISTINCT authority_id)"
                              " FROM queue_entry"), 2);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"), 0);
    cr_assert_eq(tk_scalar(c, "SELECT max(seq) - count(*) FROM event_log"),
                 0, "the event sequence has no gap");
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log",
                             3 * N, 10000),
                 "accepted, decided, numbered: once each (the cabinet's "
                 "delivery is the notice itself, no event)");
    /* p.15: the status shows each result delivered, once registered */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM application a"
                             " JOIN result_delivery d"
                             " ON d.application_id = a.id"
                             " JOIN application_status s"
                             " ON s.application_id = a.id"
                             " WHERE s.status = 'registered'", N, 30000));

    /* Redis is a view: flush it, rebuild, and it equals the truth */
    kredis_t *r = kredis_new(env.redis);
    redisReply *rep = kredis_cmd(r, "FLUSHDB");
    cr_assert(rep);
    freeReplyObject(rep);
    struct queue_view_report vr;
    cr_assert(queue_view_rebuild(c, r, NULL, true, &vr));
    cr_assert_eq(vr.drift, 2, "verify sees both flushed lists");
    cr_assert(queue_view_rebuild(c, r, NULL, false, &vr));
    cr_assert_eq(vr.entries, N);
    cr_assert(queue_view_rebuild(c, r, NULL, true, &vr));
    cr_assert_eq(vr.drift, 0);
    rep = kredis_cmd(r, "ZCARD kezek:q:a-01-02:wwii");
    cr_assert_eq(rep->integer, N / 2);
    freeReplyObject(rep);
    kredis_destroy(&r);
    PQfinish(c);
    tk_env_fini(&env);
}
