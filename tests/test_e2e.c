/* End to end through the four services and the bus: an application
 * accepted over HTTP (p.13, p.14) is decided (p.6), numbered in its
 * queue (p.5) and delivered, signed, to the personal cabinet (p.15). */
#include "notice.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 20, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

static json_t *get_app(const char *id, long *st)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/applications/%s", id);
    return tk_http("GET", env.http_port[TK_INTAKE], path, env.office, NULL,
                   NULL, st);
}

static json_t *wait_status(const char *id, const char *status, bool delivered)
{
    for (int i = 0; i < 500; i++) {
        long st;
        json_t *j = get_app(id, &st);
        const char *s = json_string_value(json_object_get(j, "status"));
        if (s && strcmp(s, status) == 0 &&
            (!delivered || json_is_true(json_object_get(j, "delivered"))))
            return j;
        json_decref(j);
        usleep(20000);
    }
    cr_assert_fail("application %s never reached %s", id, status);
    return NULL;
}

static json_t *cabinet(const char *iin, long *st)
{
    char path[128], hdr[64];
    snprintf(path, sizeof(path), "/v1/cabinet/%s/messages", iin);
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin);
    return tk_http("GET", env.http_port[TK_NOTIFY], path, env.portal, hdr,
                   NULL, st);
}

Test(e2e, accepted_decided_numbered_delivered, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char iin[13], id[40];
    long st;
    tk_iin(1, iin);
    cr_assert(tk_submit(&env, iin, "k-1", id, &st));
    cr_assert_eq(st, 202);
    json_t *app = wait_status(id, "registered", true);
    json_t *q = json_object_get(app, "queue");
    cr_assert_eq(json_integer_value(json_object_get(q, "number")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(q, "list")), "wwii");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(app, "decision"), "outcome")),
                     "registered");
    /* p.7: the receipt names the due date, 30 days after acceptance */
    json_t *receipt = json_object_get(app, "receipt");
    cr_assert(json_string_value(json_object_get(receipt, "result_due")));
    json_decref(app);

    /* p.15: the signed notice is in the cabinet, and verifies */
    json_t *cab = cabinet(iin, &st);
    cr_assert_eq(st, 200);
    json_t *msgs = json_object_get(cab, "messages");
    cr_assert_eq(json_array_size(msgs), 1);
    json_t *m = json_array_get(msgs, 0);
    cr_assert_str_eq(json_string_value(json_object_get(m, "kind")),
                     "registration_notice");
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, "SELECT public_key FROM signing_key"
                            " WHERE key_id = 'k-test'");
    const char *sig = json_string_value(json_object_get(m, "signature"));
    json_t *doc = json_object_get(m, "document");
    cr_assert(notice_verify(doc, sig, PQgetvalue(r, 0, 0)));
    /* kezek verify-document checks a saved message offline; one byte
     * changed and it names the fault */
    char saved[300], cmd[1200];
    snprintf(saved, sizeof(saved), "%s/saved.json", env.dir);
    cr_assert_eq(json_dump_file(m, saved, JSON_COMPACT), 0);
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek verify-document %s >/dev/null 2>&1",
             getenv("KEZEK_BIN_DIR"), saved);
    cr_assert_eq(system(cmd), 0, "the saved document verifies");
    snprintf(cmd, sizeof(cmd), "sed -i 's/\"number\":1/\"number\":7/' %s"
             " && %s/kezek verify-document %s >/dev/null 2>&1", saved,
             getenv("KEZEK_BIN_DIR"), saved);
    int vst = system(cmd);
    cr_assert(WIFEXITED(vst) && WEXITSTATUS(vst) == 1,
              "one changed byte fails verification");
    /* a tampered document fails */
    json_object_set_new(json_object_get(doc, "queue"), "number",
                        json_integer(2));
    cr_assert_not(notice_verify(doc, sig, PQgetvalue(r, 0, 0)));
    PQclear(r);
    json_decref(cab);

    /* p.5: the live position, from Redis */
    char path[128];
    snprintf(path, sizeof(path), "/v1/queue/a-01-02/wwii/entries/%s", iin);
    json_t *pos = tk_http("GET", env.http_port[TK_QUEUE], path, env.office,
                          NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_integer_value(json_object_get(pos, "position")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(pos, "source")),
                     "redis");
    json_decref(pos);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"), 0);
    PQfinish(c);
}

Test(e2e, idempotency_key_replays_and_conflicts, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char iin[13], id1[40], id2[40];
    long st;
    tk_iin(2, iin);
    cr_assert(tk_submit(&env, iin, "same", id1, &st));
    cr_assert_eq(st, 202);
    cr_assert(tk_submit(&env, iin, "same", id2, &st));
    cr_assert_eq(st, 200, "a repeat is answered, not accepted again");
    cr_assert_str_eq(id1, id2);
    char other[13];
    tk_iin(3, other);
    cr_assert_not(tk_submit(&env, other, "same", NULL, &st));
    cr_assert_eq(st, 409);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application"), 1);
    PQfinish(c);
    /* p.14: the repeat answers with the receipt given the first time */
    char *body = tk_application(other);
    json_t *a = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Idempotency-Key: receipt-twice", body,
                        &st);
    cr_assert_eq(st, 202);
    json_t *b = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Idempotency-Key: receipt-twice", body,
                        &st);
    cr_assert_eq(st, 200);
    cr_assert(json_is_object(json_object_get(a, "receipt")));
    cr_assert(json_equal(json_object_get(a, "receipt"),
                         json_object_get(b, "receipt")));
    cr_assert_str_eq(json_string_value(json_object_get(a, "status")),
                     "accepted");
    json_decref(a);
    json_decref(b);
    free(body);
}

/* Submissions at once share transactions (group commit) and each gets
 * its own answer: 24 threads, each sending its own application twice and
 * one key shared by all — 24 + 1 applications, every repeat a replay of
 * the same id (p.13, p.14; CONTRACT "Idempotency"). */
struct burst {
    int n;
    char id[2][40], shared[40];
    long st[2], shared_st;
};

static void *burst_one(void *arg)
{
    struct burst *b = arg;
    char iin[13], key[32];
    tk_iin(b->n % 20 + 1, iin);
    snprintf(key, sizeof(key), "burst-%d", b->n);
    for (int k = 0; k < 2; k++)
        if (!tk_submit(&env, iin, key, b->id[k], &b->st[k]))
            b->st[k] = 0;
    tk_iin(1, iin);
    if (!tk_submit(&env, iin, "burst-shared", b->shared, &b->shared_st))
        b->shared_st = 0;
    return NULL;
}

Test(e2e, concurrent_submissions_commit_together, .init = setup,
     .fini = teardown, .timeout = 60)
{
    enum { N = 24 };
    struct burst b[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        memset(&b[i], 0, sizeof(b[i]));
        b[i].n = i;
        pthread_create(&t[i], NULL, burst_one, &b[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    int shared_new = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(b[i].st[0], 202, "thread %d: %ld", i, b[i].st[0]);
        cr_assert_eq(b[i].st[1], 200, "the repeat is a replay");
        cr_assert_str_eq(b[i].id[0], b[i].id[1]);
        cr_assert(b[i].shared_st == 202 || b[i].shared_st == 200);
        shared_new += b[i].shared_st == 202;
        cr_assert_str_eq(b[i].shared, b[0].shared,
                         "one application for the shared key");
    }
    cr_assert_eq(shared_new, 1);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application"), N + 1);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM event_outbox o"
                              " FULL JOIN event_log l USING (event_id)"
                              " WHERE coalesce(o.type, l.type) = 1"), N + 1,
                 "one ApplicationAccepted per application");
    PQfinish(c);
}

Test(e2e, boundary_errors, .init = setup, .fini = teardown, .timeout = 60)
{
    long st;
    int port = env.http_port[TK_INTAKE];
    json_t *j = tk_http("POST", port, "/v1/applications", NULL,
                        "Idempotency-Key: a", "{}", &st);
    cr_assert_eq(st, 401);
    json_decref(j);
    j = tk_http("POST", port, "/v1/applications", env.office,
                "Idempotency-Key: a", "{not json", &st);
    cr_assert_eq(st, 400);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(j, "error"), "code")),
                     "malformed_json");
    json_decref(j);
    char *body = tk_application("791028302727"); /* bad check digit */
    j = tk_http("POST", port, "/v1/applications", env.office,
                "Idempotency-Key: b", body, &st);
    free(body);
    cr_assert_eq(st, 400);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(j, "error"), "code")),
                     "invalid_iin");
    json_decref(j);
    /* 413 over 64 KiB */
    char *big = malloc(70000);
    memset(big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = '\0';
    j = tk_http("POST", port, "/v1/applications", env.office,
                "Idempotency-Key: c", big, &st);
    free(big);
    cr_assert_eq(st, 413);
    json_decref(j);
    /* p.11: the application form is always required */
    char iin[13];
    tk_iin(4, iin);
    body = tk_application(iin);
    char *docs = strstr(body, "\"documents\"");
    strcpy(docs, "\"documents\":[]}");
    j = tk_http("POST", port, "/v1/applications", env.office,
                "Idempotency-Key: d", body, &st);
    free(body);
    cr_assert_eq(st, 422);
    json_t *missing = json_object_get(json_object_get(json_object_get(j,
                          "error"), "details"), "missing");
    cr_assert_str_eq(json_string_value(json_array_get(missing, 0)),
                     "application_form");
    json_decref(j);
    /* an office acts only for its own authority */
    char other[128];
    tk_token(&env, "office:a-01-03", other);
    tk_iin(5, iin);
    body = tk_application(iin);
    j = tk_http("POST", port, "/v1/applications", other,
                "Idempotency-Key: e", body, &st);
    free(body);
    cr_assert_eq(st, 403);
    json_decref(j);
    /* another citizen's cabinet */
    char path[128];
    snprintf(path, sizeof(path), "/v1/cabinet/%s/messages", iin);
    j = tk_http("GET", env.http_port[TK_NOTIFY], path, env.portal,
                "X-Citizen-IIN: 791028302728", NULL, &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM application"), 0);
    PQfinish(c);
}

Test(e2e, health_and_metrics_on_every_service, .init = setup,
     .fini = teardown, .timeout = 60)
{
    for (int i = 0; i < TK_NSVC; i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[i], "/healthz", NULL, NULL,
                            NULL, &st);
        cr_assert_eq(st, 200, "%s healthz", tk_svc_names[i]);
        json_decref(j);
        j = tk_http("GET", env.http_port[i], "/metrics", NULL, NULL, NULL,
                    &st);
        cr_assert_eq(st, 200, "%s metrics", tk_svc_names[i]);
        cr_assert_null(j, "metrics are text, not JSON");
    }
}

Test(e2e, stopped_consumer_catches_up, .init = setup, .fini = teardown,
     .timeout = 120)
{
    /* graceful SIGTERM: finish the batch, commit, exit 0 */
    int st = tk_signal(&env, TK_NOTIFY, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "notify exit %d", st);
    char ids[5][40];
    for (int i = 0; i < 5; i++) {
        char iin[13], key[16];
        long code;
        tk_iin(10 + i, iin);
        snprintf(key, sizeof(key), "c-%d", i);
        cr_assert(tk_submit(&env, iin, key, ids[i], &code));
    }
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 5,
                             20000));
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM notice"
                              " WHERE kind <> 'receipt'"), 0);
    tk_start(&env, TK_NOTIFY);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice"
                             " WHERE kind = 'registration_notice'", 5,
                             20000));
    for (int i = 0; i < 5; i++)
        json_decref(wait_status(ids[i], "registered", true));
    PQfinish(c);
}

/* p.6: a backlog is decided in batches whose registry facts are read in
 * one statement; each applicant is decided on his own records. */
Test(e2e, backlog_decided_on_each_applicants_records, .init = setup,
     .fini = teardown, .timeout = 120)
{
    int st = tk_signal(&env, TK_ELIGIBILITY, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "eligibility exit %d",
              st);
    /* 1, 2, 3 are in the population register (setup), 101, 102, 103 not:
     * interleaved, so a mix-up of facts would show */
    static const int who[6] = {1, 101, 2, 102, 3, 103};
    for (int i = 0; i < 6; i++) {
        char iin[13], key[16], id[40];
        long code;
        tk_iin(who[i], iin);
        snprintf(key, sizeof(key), "b-%d", i);
        cr_assert(tk_submit(&env, iin, key, id, &code));
    }
    tk_start(&env, TK_ELIGIBILITY);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM decision", 6,
                             20000));
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM decision d JOIN"
                              " application a ON a.id = d.application_id"
                              " WHERE d.outcome = 'registered' AND"
                              " d.facts -> 'facts' -> 'person' ->> 'iin'"
                              " = a.applicant_iin"), 3,
                 "the registered are the three in the register, each "
                 "decided on his own record");
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM decision d"
                              " WHERE d.outcome = 'refused' AND"
                              " jsonb_typeof(d.facts -> 'facts' -> 'person')"
                              " = 'null'"), 3,
                 "the three not in the register are refused");
    /* the stored decisions replay to the same outcomes, from the
     * applications' bodies and the facts as read (p.6) */
    char cmd[1200], out[256] = "";
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek decisions replay 2>&1",
             getenv("KEZEK_BIN_DIR"));
    FILE *f = popen(cmd, "r");
    cr_assert(f && fgets(out, sizeof(out), f));
    cr_assert_eq(pclose(f), 0, "%s", out);
    cr_assert_str_eq(out, "replayed 6 decisions: 6 same, 0 differ\n");
    /* a stored outcome the rules would not give is reported */
    cr_assert_eq(tk_scalar(c, "WITH u AS (UPDATE decision SET outcome ="
                              " 'refused' WHERE outcome = 'registered' AND"
                              " application_id = (SELECT min(application_id)"
                              " FROM decision WHERE outcome = 'registered')"
                              " RETURNING 1) SELECT count(*) FROM u"), 1);
    f = popen(cmd, "r");
    cr_assert(f);
    char line[512];
    bool reported = false;
    while (fgets(line, sizeof(line), f))
        reported |= strcmp(line, "replayed 6 decisions: 5 same, 1 differ\n")
                    == 0;
    cr_assert_eq(WEXITSTATUS(pclose(f)), 3);
    cr_assert(reported);
    PQfinish(c);
}

Test(e2e, idempotency_holds_across_a_restart, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char iin[13], id1[40], id2[40];
    long st;
    tk_iin(6, iin);
    cr_assert(tk_submit(&env, iin, "restart", id1, &st));
    cr_assert_eq(st, 202);
    int status = tk_signal(&env, TK_INTAKE, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tk_start(&env, TK_INTAKE);
    cr_assert(tk_submit(&env, iin, "restart", id2, &st));
    cr_assert_eq(st, 200);
    cr_assert_str_eq(id1, id2);
}

/* p.13.3: a portal or centre submission is routed to the authority
 * that serves the settlement; p.7: for a centre the authority's own
 * term is one day earlier. */
Test(e2e, portal_and_centre_submissions_are_routed, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char centre[128], iin[13], body[800], path[128];
    long st;
    tk_token(&env, "centre:c-01-1-1", centre);
    const char *tokens[2] = {env.portal, centre};
    for (int k = 0; k < 2; k++) {
        tk_iin(30 + k, iin);
        snprintf(body, sizeof(body),
            "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"T\","
            "\"given_name\":\"T\"},\"settlement_id\":\"s-01-03\","
            "\"fund\":\"communal\",\"category\":\"wwii\","
            "\"need_grounds\":[1],%s"
            "\"documents\":[{\"code\":\"application_form\"}]}", iin,
            k == 0 ? "\"applicant_signature\":\"c2lnbmVk\"," : "");
        json_t *j = tk_http("POST", env.http_port[TK_INTAKE],
                            "/v1/applications", tokens[k],
                            k ? "Idempotency-Key: c" : "Idempotency-Key: p",
                            body, &st);
        cr_assert_eq(st, 202, "channel %d", k);
        const char *id = json_string_value(json_object_get(j,
                                                           "application_id"));
        char q[200];
        snprintf(q, sizeof(q), "SELECT count(*) FROM application WHERE"
                 " id = '%s' AND authority_id = 'a-01-03' AND channel = '%s'"
                 " AND internal_due = result_due - %d", id,
                 k ? "centre" : "portal", k ? 1 : 0);
        PGconn *c = tk_db(&env);
        cr_assert_eq(tk_scalar(c, q), 1, "routed to a-01-03, due dates");
        PQfinish(c);
        /* the portal reads only for the citizen it asserts */
        snprintf(path, sizeof(path), "/v1/applications/%s", id);
        json_t *g = tk_http("GET", env.http_port[TK_INTAKE], path,
                            env.portal, "X-Citizen-IIN: 791028302728", NULL,
                            &st);
        cr_assert_eq(st, 403);
        json_decref(g);
        json_decref(j);
    }
    /* the portal request must carry the applicant's signature */
    tk_iin(32, iin);
    snprintf(body, sizeof(body),
        "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"T\","
        "\"given_name\":\"T\"},\"settlement_id\":\"s-01-03\","
        "\"fund\":\"communal\",\"category\":\"wwii\","
        "\"need_grounds\":[1],"
        "\"documents\":[{\"code\":\"application_form\"}]}", iin);
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.portal, "Idempotency-Key: nosig", body, &st);
    cr_assert_eq(st, 400);
    json_decref(j);
}

/* Appendix 1: every authority under its region; CONTRACT "Reference". */
Test(e2e, reference_data_is_served, .init = setup, .fini = teardown,
     .timeout = 60)
{
    long st;
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE],
                        "/v1/reference/authorities", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_t *regions = json_object_get(j, "regions");
    PGconn *c = tk_db(&env);
    cr_assert_eq((long)json_array_size(regions),
                 tk_scalar(c, "SELECT count(*) FROM region"));
    size_t i, total = 0;
    json_t *r;
    json_array_foreach(regions, i, r)
        total += json_array_size(json_object_get(r, "authorities"));
    cr_assert_eq((long)total, tk_scalar(c, "SELECT count(*) FROM authority"));
    cr_assert_gt(total, 0);
    json_decref(j);
    static const char *const paths[][2] = {
        {"/v1/reference/settlements", "settlements"},
        {"/v1/reference/centres", "centres"},
        {"/v1/reference/appeal-instances", "appeal_instances"},
        {"/v1/reference/keys", "keys"}};
    for (int k = 0; k < 4; k++) {
        j = tk_http("GET", env.http_port[TK_INTAKE], paths[k][0], NULL, NULL,
                    NULL, &st);
        cr_assert_eq(st, 200, "%s", paths[k][0]);
        cr_assert_gt(json_array_size(json_object_get(j, paths[k][1])), 0);
        json_decref(j);
    }
    PQfinish(c);
}

/* Errors in the user's language (issue 23): Accept-Language kk | ru
 * picks the message of an error body (templates/errors.json), the code
 * unchanged and the English kept in message_en; a message without its
 * own text gets its code's; en, none, or another language: English. */
Test(e2e, errors_in_the_users_language, .init = setup, .fini = teardown,
     .timeout = 60)
{
    static const struct {
        const char *header, *want;
    } cases[] = {
        {"Accept-Language: kk", "Мұндай өтініш жоқ"},
        {"Accept-Language: ru-RU,ru;q=0.9", "Такого заявления нет"},
        {"Accept-Language: ru;q=0.5, kk;q=0.8", "Мұндай өтініш жоқ"},
        {"Accept-Language: en", "no such application"},
        {"Accept-Language: de", "no such application"},
        {NULL, "no such application"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_INTAKE],
                            "/v1/applications/0123456789abcdef0123456789abcdef",
                            env.office, cases[i].header, NULL, &st);
        json_t *e = json_object_get(j, "error");
        cr_assert_eq(st, 404);
        cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                         "not_found");
        cr_assert_str_eq(json_string_value(json_object_get(e, "message")),
                         cases[i].want, "%s", cases[i].header ?: "none");
        if (strcmp(cases[i].want, "no such application") != 0)
            cr_assert_str_eq(json_string_value(json_object_get(
                                 e, "message_en")), "no such application");
        json_decref(j);
    }
    /* a message built at run time: its code's text */
    long st;
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Accept-Language: ru\nIdempotency-Key: "
                        "lang-1", "{\"applicant\":{\"iin\":\"1\"}}", &st);
    json_t *e = json_object_get(j, "error");
    cr_assert_eq(st, 400);
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                     "invalid_iin");
    cr_assert_str_eq(json_string_value(json_object_get(e, "message")),
                     "Недействительный ИИН");
    cr_assert(json_string_value(json_object_get(e, "message_en")));
    json_decref(j);
}
