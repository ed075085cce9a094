/* The boundary against a hostile client (issue 21; p.17, the
 * confidentiality of the citizen's data, and p.4, the service answers
 * within its term whatever a few sockets do): connection limits and the
 * request deadline, strict text at the boundary, metric labels from a
 * fixed set. */
#include "auth.h"
#include "event.h"
#include "http.h"
#include "testkit.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static void echo(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    http_reply_json(resp, 200, json_pack("{s:s, s:o}", "id", req->params[0],
                                         "body", body));
}

static void show(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    const char *q = http_query(req, "q");
    http_reply_json(resp, 200, json_pack("{s:s, s:s}", "id", req->params[0],
                                         "q", q ? q : ""));
}

static void whoami(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx; /* a test route: no service behind it */
    char addr[64];
    http_client_addr(req, addr, sizeof(addr));
    http_reply_json(resp, 200, json_pack("{s:s}", "client", addr));
}

static const struct http_route routes[] = {
    {"POST", "/v1/things/*", echo, NULL},
    {"GET", "/v1/things/*", show, NULL},
    {"GET", "/v1/whoami", whoami, NULL},
    {NULL, NULL, NULL, NULL},
};

/* A TCP connection to 127.0.0.1:port from the loopback address src. */
static int dial(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, src, &a.sin_addr);
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    struct sockaddr_in b = {0};
    b.sin_family = AF_INET;
    b.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
    if (connect(fd, (struct sockaddr *)&b, sizeof(b)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req on a fresh connection from 127.0.0.1 and reads the status
 * line within timeout_ms; the status, or 0 when none came in time. */
static int quick(int port, const char *req, int timeout_ms)
{
    int fd = dial("127.0.0.1", port);
    if (fd < 0)
        return 0;
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(fd);
        return 0;
    }
    char buf[256] = {0};
    size_t got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (got < 12 && poll(&p, 1, timeout_ms) == 1) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    int st = 0;
    if (got >= 12 && sscanf(buf, "HTTP/1.%*d %d", &st) != 1)
        st = 0;
    return st;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 +
           (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static http_server_t *start(int port, int threads, int request_seconds)
{
    char err[256];
    struct http_limits lim = {.threads = threads, .max_inflight = 256,
                              .max_connections = 1000, .per_ip = 64,
                              .request_seconds = request_seconds};
    http_server_t *s = http_start("127.0.0.1", port, &lim, routes, NULL,
                                  NULL, err, sizeof(err));
    cr_assert(s, "%s", err);
    return s;
}

static const char submission[] =
    "POST /v1/things/a-01 HTTP/1.1\r\nHost: x\r\n"
    "Content-Type: application/json\r\nContent-Length: 7\r\n"
    "Connection: close\r\n\r\n{\"a\":1}";

/* 1,000 idle connections and 200 that trickle a byte at a time, from
 * other addresses: /healthz and a submission still answer within a
 * second, and the trickle is cut at the deadline though it never goes
 * quiet. Both server modes (intake's thread per connection, the
 * others' pool of workers). */
static void hold_out(int threads)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    cr_assert(rl.rlim_cur > 1500, "needs 1,500 descriptors");

    int port = tk_free_port();
    http_server_t *s = start(port, threads, 3);
    static int idle[1000], slow[200];
    char src[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(src, sizeof(src), "127.0.1.%d", 1 + i % 8);
        idle[i] = dial(src, port);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(src, sizeof(src), "127.0.2.%d", 1 + i % 4);
        slow[i] = dial(src, port);
        if (slow[i] >= 0 && write(slow[i], "G", 1) != 1) {
            close(slow[i]);
            slow[i] = -1;
        }
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 200; i++) /* a byte each, every 0.5 s */
            if (slow[i] >= 0 && write(slow[i], "E", 1) != 1) {
                close(slow[i]);
                slow[i] = -1;
            }
        struct timespec q;
        clock_gettime(CLOCK_MONOTONIC, &q);
        cr_assert_eq(quick(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n", 1000), 200,
                     "/healthz must answer within a second");
        cr_assert_eq(quick(port, submission, 1000), 200,
                     "a submission must answer within a second");
        cr_assert_lt(ms_since(&q), 2000);
        usleep(500000);
    }
    /* 3 s deadline: by 5 s every trickling connection was cut (the
     * server ended the stream) */
    while (ms_since(&t0) < 5000)
        usleep(100000);
    int open_slow = 0;
    for (int i = 0; i < 200; i++) {
        if (slow[i] < 0)
            continue;
        char b[64];
        struct pollfd p = {slow[i], POLLIN, 0};
        if (poll(&p, 1, 0) == 0 || read(slow[i], b, sizeof(b)) > 0)
            open_slow++;
        close(slow[i]);
    }
    cr_assert_eq(open_slow, 0, "%d trickling connections still open",
                 open_slow);
    for (int i = 0; i < 1000; i++)
        if (idle[i] >= 0)
            close(idle[i]);
    http_stop(&s);
}

Test(http_limits, idle_and_slow_connections_leave_the_service_answering,
     .timeout = 60)
{
    hold_out(0);
}

Test(http_limits, the_same_with_a_pool_of_workers, .timeout = 60)
{
    hold_out(4);
}

Test(http_limits, full_server_answers_503_with_retry_after)
{
    char err[256];
    int port = tk_free_port();
    struct http_limits lim = {.threads = 0, .max_connections = 4,
                              .per_ip = 100, .request_seconds = 5};
    http_server_t *s = http_start("127.0.0.1", port, &lim, routes, NULL,
                                  NULL, err, sizeof(err));
    cr_assert(s, "%s", err);
    int held[6];
    for (int i = 0; i < 6; i++)
        held[i] = dial("127.0.3.1", port);
    usleep(100000);
    char *text = NULL;
    int fd = dial("127.0.0.1", port);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    char buf[512] = {0};
    size_t got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 2000) == 1) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    text = buf;
    cr_assert(strncmp(text, "HTTP/1.1 503", 12) == 0, "got: %.40s", text);
    cr_assert(strstr(text, "Retry-After: 1"), "%s", text);
    close(fd);
    for (int i = 0; i < 6; i++)
        if (held[i] >= 0)
            close(held[i]);
    http_stop(&s);
}

/* Invalid UTF-8, NUL and control characters in the path, a query
 * parameter or a header: 400 with the contract's error, never a 503
 * from the database rejecting the bytes nor a path cut short. */
Test(boundary, bad_bytes_are_400_not_503_nor_a_shorter_path)
{
    int port = tk_free_port();
    http_server_t *s = start(port, 2, 10);
    struct {
        const char *path, *header;
        int want;
    } cases[] = {
        {"/healthz", NULL, 200},
        {"/healthz%00", NULL, 400},
        {"/v1/things/%ff", NULL, 400},
        {"/v1/things/a%00b", NULL, 400},
        {"/v1/things/a%0ab", NULL, 400},
        {"/v1/things/a%C2%85", NULL, 400},        /* C1 control NEL */
        {"/v1/things/%ED%A0%80", NULL, 400},      /* a surrogate */
        {"/v1/things/%C0%AF", NULL, 400},         /* overlong '/' */
        {"/v1/things/a%20b", NULL, 400},          /* not an identifier */
        {"/v1/things/a-01?q=%ff", NULL, 400},
        {"/v1/things/a-01?q=a%00", NULL, 400},
        {"/v1/things/a-01?q=%D0%90%D2%9B", NULL, 200}, /* "Аққ" */
        {"/v1/things/a-01", "Idempotency-Key: k\xff", 400},
        {"/v1/things/a-01", "X-Purpose: \x01", 400},
        {"/v1/things/a-01", "Idempotency-Key: key-1", 200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long st = 0;
        json_t *j = tk_http("GET", port, cases[i].path, NULL,
                            cases[i].header, NULL, &st);
        cr_assert_eq(st, cases[i].want, "%s %s: %ld", cases[i].path,
                     cases[i].header ? cases[i].header : "", st);
        if (cases[i].want == 400) {
            json_t *e = json_object_get(j, "error");
            cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                             "invalid_request", "%s", cases[i].path);
        }
        json_decref(j);
    }
    http_stop(&s);
}

/* An arbitrary method is counted as OTHER: no new series per method,
 * nothing a client sends is written into the exposition. */
Test(boundary, methods_are_a_fixed_set_of_labels)
{
    int port = tk_free_port();
    http_server_t *s = start(port, 2, 10);
    long st;
    json_t *j = tk_http("KZPROBE", port, "/v1/things/x", NULL, NULL, NULL,
                        &st);
    cr_assert_eq(st, 405);
    json_decref(j);
    j = tk_http("KZPROBF", port, "/v1/things/x", NULL, NULL, NULL, &st);
    json_decref(j);
    char *m = tk_http_text("GET", port, "/metrics", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_null(strstr(m, "KZPROBE"));
    cr_assert(strstr(m, "kezek_http_requests_total{method=\"OTHER\","
                        "code=\"405\"} 2"), "%s", m);
    free(m);
    http_stop(&s);
}

Test(boundary, text_checks_and_route_segments)
{
    cr_assert_null(http_text_problem("Әлия", strlen("Әлия"), 64));
    cr_assert_not_null(http_text_problem("a\x7f", 2, 64));
    cr_assert_not_null(http_text_problem("abc", 3, 2));
    cr_assert_not_null(http_text_problem("\xf4\x90\x80\x80", 4, 64));
    const char *params[HTTP_MAX_PARAMS];
    char scratch[256];
    int n;
    cr_assert_eq(http_route_match("/v1/a/*/b", "/v1/a/x-1/b", params, &n,
                                  scratch, sizeof(scratch)), 1);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(params[0], "x-1");
    cr_assert_eq(http_route_match("/v1/a/*/b", "/v1/a/x 1/b", params, &n,
                                  scratch, sizeof(scratch)), -1);
    cr_assert_eq(http_route_match("/v1/a/*/b", "/v1/a/x/c", params, &n,
                                  scratch, sizeof(scratch)), 0);
    cr_assert_eq(http_route_match("/v1/a/*", "/v1/a/", params, &n,
                                  scratch, sizeof(scratch)), 0);
}

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
}

static void teardown(void)
{
    tk_env_fini(&env);
}

/* An application of citizen tk_iin(serial) whose surname is s (a JSON
 * string's content); its status. */
static long submit_named(int serial, const char *surname, const char *key,
                         char *id)
{
    char iin[13], body[800], hdr[80];
    tk_iin(serial, iin);
    snprintf(body, sizeof(body),
             "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"%s\","
             "\"given_name\":\"Test\",\"phone\":\"+77010000000\"},"
             "\"settlement_id\":\"s-01-02\",\"authority_id\":\"a-01-02\","
             "\"fund\":\"communal\",\"category\":\"wwii\","
             "\"need_grounds\":[1],\"documents\":[{\"code\":"
             "\"application_form\",\"pages\":1}]}", iin, surname);
    snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
    long st;
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, hdr, body, &st);
    const char *v = json_string_value(json_object_get(j, "application_id"));
    if (id)
        snprintf(id, 40, "%s", v ? v : "");
    if (st == 400) {
        json_t *e = json_object_get(j, "error");
        cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                         "invalid_field");
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(e, "details"), "field")),
                         "applicant.surname");
    }
    json_decref(j);
    return st;
}

/* p.11 item 1 (the application names the applicant): a name is text a
 * clerk can read back — no controls, no bidi overrides that would show
 * another name, not blank — and one name has one form (NFC). */
Test(boundary, names_are_readable_and_normalised, .init = setup,
     .fini = teardown, .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    /* bytes Postgres would refuse never reach it: 400, not 503 */
    long st;
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE],
                        "/v1/applications/%ff", env.office, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    json_decref(j);
    j = tk_http("GET", env.http_port[TK_INTAKE], "/v1/ops/audit?iin=%ff",
                env.office, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    json_decref(j);
    char *body = tk_application("250509301016");
    j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                env.office, "Idempotency-Key: \xff\xfe", body, &st);
    cr_assert_eq(st, 400);
    json_decref(j);
    free(body);
    cr_assert_eq(submit_named(41, "Ab\\u0001c", "n-1", NULL), 400);
    cr_assert_eq(submit_named(42, "Ab\\u0085c", "n-2", NULL), 400);
    cr_assert_eq(submit_named(43, "\\u202eвотемхА", "n-3", NULL), 400);
    cr_assert_eq(submit_named(44, "Ab\\u2066c\\u2069", "n-4", NULL), 400);
    cr_assert_eq(submit_named(45, "   ", "n-5", NULL), 400);
    cr_assert_eq(submit_named(46, "\\u00a0\\u3000", "n-6", NULL), 400);
    /* "Әлиев" typed with a combining mark: stored as the single letter;
     * "Й" decomposed likewise */
    char id[40];
    cr_assert_eq(submit_named(47, "A\\u0308liev \\u0418\\u0306", "n-7", id),
                 202);
    PGconn *c = tk_db(&env);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT body->'applicant'->>'surname' = 'Äliev Й' FROM "
             "application WHERE id = '%s'", id);
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQntuples(r), 1);
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "t", "stored in NFC");
    PQclear(r);
    PQfinish(c);
    /* the same name in the other form is the same body: a replay */
    cr_assert_eq(submit_named(47, "\\u00c4liev \\u0419", "n-7", NULL), 200,
                 "the NFC form of the same name replays the first reply");
}

/* p.20 (a complaint goes to the authority that served): an office names
 * only its own authority — another one is refused (CONTRACT: 403), not
 * silently re-routed to the office's own. */
Test(boundary, office_complaint_about_another_authority_is_403,
     .init = setup, .fini = teardown, .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    char iin[13], body[400];
    tk_iin(3, iin);
    snprintf(body, sizeof(body),
             "{\"complainant_iin\":\"%s\",\"authority_id\":\"a-01-03\","
             "\"text\":\"Жауап келмеді.\"}", iin);
    long st;
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                        env.office, "Idempotency-Key: cmp-x", body, &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"complainant_iin\":\"%s\",\"authority_id\":\"a-01-02\","
             "\"text\":\"Жауап келмеді.\"}", iin);
    j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                env.office, "Idempotency-Key: cmp-y", body, &st);
    cr_assert_eq(st, 201, "its own authority is accepted");
    json_decref(j);
}

/* The status of GET /v1/applications/none with token, on intake. */
static long probe(const char *token)
{
    long st;
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE],
                        "/v1/applications/none", token, NULL, NULL, &st);
    json_decref(j);
    return st;
}

/* p.17 (only the authorised see a citizen's data): a revoked token is
 * refused by a running service within a second — the revocation is
 * heard (LISTEN/NOTIFY), not waited out in a cache. */
Test(tokens, revocation_takes_effect_within_a_second, .init = setup,
     .fini = teardown, .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM pg_stat_activity"
                             " WHERE application_name = 'kezek-intake/tokens'"
                             " AND state = 'idle' AND query LIKE 'LISTEN%'",
                             1, 10000), "intake listens for token changes");
    cr_assert_eq(probe(env.office), 404, "the token works (and is cached)");
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, "UPDATE api_token SET revoked_at = now()"
                            " WHERE principal = 'office:a-01-02'");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long st;
    while ((st = probe(env.office)) == 404 && ms_since(&t0) < 3000)
        usleep(20000);
    cr_assert_eq(st, 401);
    cr_assert_lt(ms_since(&t0), 1000, "refused after %ld ms",
                 ms_since(&t0));
    cr_assert_geq(tk_metric(&env, TK_INTAKE,
                            "kezek_auth_token_notices_total"), 1);
}

/* A token given an end (kezek tokens add … --expires DATE) stops
 * working then, cached or not. */
Test(tokens, an_expired_token_is_refused, .init = setup, .fini = teardown,
     .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    char old[128], soon[128];
    tk_token(&env, "office:a-01-02", old);
    tk_token(&env, "office:a-01-02", soon);
    PGconn *c = tk_db(&env);
    char sql[300], hash[65];
    auth_hash(old, hash);
    snprintf(sql, sizeof(sql), "UPDATE api_token SET expires_at = now() -"
             " interval '1 minute' WHERE token_hash = '%s'", hash);
    PQclear(PQexec(c, sql));
    auth_hash(soon, hash);
    snprintf(sql, sizeof(sql), "ALTER TABLE api_token DISABLE TRIGGER "
             "api_token_changed; UPDATE api_token SET expires_at = now() +"
             " interval '2 seconds' WHERE token_hash = '%s'", hash);
    PQclear(PQexec(c, sql)); /* no notice: the cache must know the end */
    PQfinish(c);
    cr_assert_eq(probe(old), 401);
    cr_assert_eq(probe(soon), 404, "valid for two more seconds");
    sleep(3);
    cr_assert_eq(probe(soon), 401, "expired while cached");
}

/* Guessing tokens: failures are counted per client address, a repeated
 * unknown token is answered from memory, and past the limit the address
 * gets 429 with Retry-After — other addresses are not affected. */
Test(tokens, failed_authentication_is_limited_per_address, .init = setup,
     .fini = teardown, .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    char bad[64];
    for (int i = 0; i < 20; i++) {
        snprintf(bad, sizeof(bad), "kz_%016d_guess", i % 5);
        cr_assert_eq(probe(bad), 401, "attempt %d", i);
    }
    long st;
    char *t = tk_http_text("GET", env.http_port[TK_INTAKE],
                           "/v1/applications/none", "kz_0000_another_guess",
                           NULL, NULL, &st);
    cr_assert_eq(st, 429);
    cr_assert(strstr(t, "too_many_failures"), "%s", t);
    free(t);
    cr_assert_eq(tk_metric(&env, TK_INTAKE,
                           "kezek_auth_failures_total{reason=\"unknown\"}"),
                 20);
    cr_assert_geq(tk_metric(&env, TK_INTAKE,
                            "kezek_auth_failures_total{reason=\"limited\"}"),
                  1);
    /* another address is served */
    int fd = dial("127.0.0.2", env.http_port[TK_INTAKE]);
    char req[300];
    snprintf(req, sizeof(req), "GET /v1/applications/none HTTP/1.1\r\n"
             "Host: x\r\nAuthorization: Bearer %s\r\nConnection: close"
             "\r\n\r\n", env.office);
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    char buf[64] = {0};
    struct pollfd p = {fd, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, 5000), 1);
    cr_assert_gt(read(fd, buf, sizeof(buf) - 1), 12);
    close(fd);
    cr_assert(strncmp(buf, "HTTP/1.1 404", 12) == 0, "%s", buf);
}

/* The SQLSTATE of sql run as role (connected through the passfile as
 * that role), "" when it succeeded. */
static void as_role(const char *role, const char *sql, char *state)
{
    char ci[700];
    snprintf(ci, sizeof(ci), "%s user=%s", env.svc_conninfo, role);
    PGconn *c = PQconnectdb(ci);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s: %s", role,
                 PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s", st ? st : "");
    PQclear(r);
    PQfinish(c);
}

/* p.17 (the citizen's data kept from those who need not see it): each
 * service connects as a role of its own that can write only its own
 * tables; the tool's reports read and write nothing; no other user of
 * the host reaches Postgres at all. */
Test(postgres, a_service_role_cannot_write_another_services_table,
     .init = setup, .fini = teardown, .timeout = 60)
{
    static const struct {
        const char *role, *sql;
    } denied[] = {
        {"kezek_queue", "INSERT INTO application (id) VALUES ('x')"},
        {"kezek_queue", "UPDATE application_status SET status = 'x'"},
        {"kezek_intake", "UPDATE queue_entry SET number = number + 1"},
        {"kezek_intake", "DELETE FROM decision"},
        {"kezek_eligibility", "INSERT INTO notice (id) VALUES ('x')"},
        {"kezek_eligibility", "UPDATE queue_list SET last_number = 1"},
        {"kezek_notify", "INSERT INTO decision (application_id)"
                         " VALUES ('x')"},
        {"kezek_notify", "SELECT body FROM application"},
        {"kezek_notify", "UPDATE api_token SET revoked_at = NULL"},
        {"kezek_intake", "UPDATE api_token SET principal = 'ops'"},
        {"kezek_report", "INSERT INTO api_token (id) VALUES ('x')"},
        {"kezek_report", "DELETE FROM event_log"},
        {"kezek_queue", "CREATE TABLE mine (a int)"},
    };
    char st[6];
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        as_role(denied[i].role, denied[i].sql, st);
        cr_assert_str_eq(st, "42501", "%s may not: %s (got '%s')",
                         denied[i].role, denied[i].sql, st);
    }
    as_role("kezek_report", "SELECT count(*) FROM application", st);
    cr_assert_str_eq(st, "", "the report role reads");
    as_role("kezek_queue", "SELECT count(*) FROM queue_entry", st);
    cr_assert_str_eq(st, "", "a service reads its own tables");

    /* the services connect as their roles */
    tk_start(&env, TK_INTAKE);
    tk_start(&env, TK_QUEUE);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM pg_stat_activity WHERE"
                           " datname = current_database() AND"
                           " application_name LIKE 'kezek-intake%' AND"
                           " usename <> 'kezek_intake'"), 0);
    cr_assert_geq(tk_scalar(c, "SELECT count(*) FROM pg_stat_activity WHERE"
                            " datname = current_database() AND"
                            " usename = 'kezek_queue'"), 1);
    PQfinish(c);
}

Test(postgres, another_user_of_the_host_cannot_connect, .init = setup,
     .fini = teardown, .timeout = 60)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become another user");
    pid_t pid = tk_fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        PGconn *c = PQconnectdb(env.conninfo); /* the superuser's */
        int ok = PQstatus(c) == CONNECTION_OK;
        PQfinish(c);
        _exit(ok ? 1 : 0);
    }
    int wst;
    cr_assert_eq(waitpid(pid, &wst, 0), pid);
    cr_assert(WIFEXITED(wst));
    cr_assert_eq(WEXITSTATUS(wst), 0, "nobody reached Postgres (%d)",
                 WEXITSTATUS(wst));
}

/* Frames received on a SUB socket (plain, or CURVE with a key pair the
 * deployment does not know) from endpoint within ms. */
static int eavesdrop(const char *endpoint, const char *server_key, int ms)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (server_key) {
        char pub[41], sec[41];
        cr_assert_eq(zmq_curve_keypair(pub, sec), 0);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    cr_assert_eq(zmq_connect(s, endpoint), 0);
    usleep(300000); /* connected (or refused) before the events */
    char id[40];
    long st;
    static int n = 60;
    char iin[13], key[32];
    tk_iin(n++, iin);
    snprintf(key, sizeof(key), "bus-%d", n);
    cr_assert(tk_submit(&env, iin, key, id, &st));
    int got = 0;
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&it, 1, ms) > 0) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0)
            got++;
        zmq_msg_close(&m);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return got;
}

/* p.17 (the citizen's data travels only to who needs it): the bus is
 * CURVE-encrypted and admits only the deployment's services — a passive
 * subscriber without a known key receives nothing; a process that binds
 * a service's bus port cannot feed the consumers anything. */
Test(bus, only_the_deployments_services_hear_or_speak, .init = setup,
     .fini = teardown, .timeout = 60)
{
    tk_start(&env, TK_INTAKE);
    tk_start(&env, TK_ELIGIBILITY);
    char ep[64], server[80];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", env.bus_port[TK_INTAKE]);
    cr_assert_eq(eavesdrop(ep, NULL, 1000), 0, "a plain subscriber heard");
    char path[400];
    snprintf(path, sizeof(path), "%s/intake.pub", env.bus_keys);
    FILE *f = fopen(path, "r");
    cr_assert(f && fgets(server, sizeof(server), f));
    fclose(f);
    server[40] = '\0';
    cr_assert_eq(eavesdrop(ep, server, 1000), 0,
                 "an unknown CURVE key heard");
    cr_assert_geq(tk_metric(&env, TK_INTAKE, "kezek_bus_auth_refused_total"),
                  1);
    /* the services themselves hear each other over the bus */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM decision", 2,
                             10000));
    cr_assert_gt(tk_metric(&env, TK_ELIGIBILITY,
                           "kezek_consumer_bus_batches_total{consumer="
                           "\"eligibility\"}"), 0);

    /* a forger binds the queue's bus port (queue is not running) and
     * publishes the next seq, plain and with a key of its own */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM consumer_offset o"
                             " WHERE consumer = 'eligibility' AND last_seq ="
                             " (SELECT max(seq) FROM event_log) AND NOT"
                             " EXISTS (SELECT 1 FROM event_outbox)", 1,
                             10000), "eligibility caught up");
    PGconn *c = tk_db(&env);
    long head = tk_scalar(c, "SELECT max(seq) FROM event_log");
    long decisions = tk_scalar(c, "SELECT count(*) FROM decision");
    char qep[64];
    snprintf(qep, sizeof(qep), "tcp://127.0.0.1:%d", env.bus_port[TK_QUEUE]);
    for (int curve = 0; curve < 2; curve++) {
        void *ctx = zmq_ctx_new();
        void *s = zmq_socket(ctx, ZMQ_PUB);
        int linger = 0, on = 1;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
        if (curve) {
            char pub[41], sec[41];
            zmq_curve_keypair(pub, sec);
            zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof(on));
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
        }
        cr_assert_eq(zmq_bind(s, qep), 0);
        char iin[13];
        tk_iin(99, iin);
        char *body = tk_application(iin);
        event_t ev = {.seq = (uint64_t)head + 1,
                      .type = KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED,
                      .occurred_at_us = now_us(), .schema_version = 1,
                      .payload = (uint8_t *)body,
                      .payload_len = strlen(body)};
        event_new_id(ev.event_id);
        snprintf(ev.key, sizeof(ev.key), "forged-app");
        snprintf(ev.producer, sizeof(ev.producer), "intake");
        size_t len;
        uint8_t *frame = event_encode(&ev, &len);
        for (int i = 0; i < 20; i++) {
            zmq_send(s, frame, len, ZMQ_DONTWAIT);
            usleep(50000);
        }
        free(frame);
        free(body);
        zmq_close(s);
        zmq_ctx_term(ctx);
    }
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM decision"), decisions,
                 "a forged frame was decided");
    cr_assert_eq(tk_scalar(c, "SELECT last_seq FROM consumer_offset WHERE"
                              " consumer = 'eligibility'"), head);
    PQfinish(c);
}

/* p.17: what deploy/up keeps (keys, passwords, the config, logs, the
 * mail sink's letters) is its owner's alone — the state directory it
 * makes, and what its processes write there, are not world-readable. */
Test(files, the_state_directory_is_private)
{
    char dir[] = "/tmp/kezek-state-XXXXXX", cmd[1200];
    cr_assert(mkdtemp(dir));
    chmod(dir, 0755); /* as an earlier round left it */
    snprintf(cmd, sizeof(cmd),
             "bash -c '. \"%s/deploy/lib.sh\" && kz_state_dirs %s/s &&"
             " echo log > %s/s/log/intake.log && echo mail >"
             " %s/s/mail/new/1 && echo pg = x > %s/s/kezek.conf'",
             getenv("KEZEK_SOURCE_DIR"), dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    static const char *const paths[] = {"s", "s/log", "s/keys", "s/mail",
        "s/mail/new", "s/log/intake.log", "s/mail/new/1", "s/kezek.conf"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char p[300];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, paths[i]);
        cr_assert_eq(stat(p, &st), 0, "%s", p);
        cr_assert_eq(st.st_mode & 0007, 0, "%s is open to others (%o)",
                     paths[i], st.st_mode & 0777);
        cr_assert_eq(st.st_mode & 0060, 0, "%s is readable by its group "
                     "(%o)", paths[i], st.st_mode & 0777);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* The failed-authentication limit is per client: behind the edge every
 * connection comes from the proxy, so the client is the address the
 * proxy appended to X-Forwarded-For — believed from a trusted proxy
 * only (anyone else could write the header). */
Test(boundary, the_client_behind_a_trusted_proxy)
{
    int port = tk_free_port();
    http_server_t *s = start(port, 2, 10);
    const char *xff = "X-Forwarded-For: 10.9.9.9, 203.0.113.7";
    long st;
    json_t *j = tk_http("GET", port, "/v1/whoami", NULL, xff, NULL, &st);
    cr_assert_str_eq(json_string_value(json_object_get(j, "client")),
                     "127.0.0.1", "an untrusted peer's header is ignored");
    json_decref(j);
    http_set_trusted_proxies("127.0.0.2, 127.0.0.1");
    j = tk_http("GET", port, "/v1/whoami", NULL, xff, NULL, &st);
    cr_assert_str_eq(json_string_value(json_object_get(j, "client")),
                     "203.0.113.7", "the address the proxy appended");
    json_decref(j);
    j = tk_http("GET", port, "/v1/whoami", NULL, NULL, NULL, &st);
    cr_assert_str_eq(json_string_value(json_object_get(j, "client")),
                     "127.0.0.1", "no header: the proxy itself");
    json_decref(j);
    http_set_trusted_proxies(NULL);
    http_stop(&s);
}
