/* lib/http, lib/log, lib/auth, lib/redis, lib/audit, lib/rowbuf, the
 * pipelining of lib/pg: the boundary helpers every service shares
 * (CONTRACT "Errors", "Authentication"); p.17 (confidentiality): tokens
 * kept as hashes, JSON logs that escape their content, the audit of
 * reads; p.4 (a result within the term, whatever the load): the
 * set-based writes of the hot path lose and garble nothing. */
#include "audit.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "queue_lists.h"
#include "redis.h"
#include "rowbuf.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

static void echo(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    http_reply_json(resp, 200, json_pack("{s:s, s:o}", "id", req->params[0],
                                         "body", body));
}

static const struct http_route routes[] = {
    {"POST", "/v1/things/*", echo, NULL},
    {NULL, NULL, NULL, NULL},
};

Test(http, routes_errors_and_limits)
{
    char err[256];
    int port = tk_free_port();
    struct http_limits lim = {.threads = 2, .max_inflight = 100};
    http_server_t *s = http_start("127.0.0.1", port, &lim, routes, NULL,
                                  NULL, err, sizeof(err));
    cr_assert(s, "%s", err);
    long st;
    json_t *j = tk_http("POST", port, "/v1/things/abc", NULL, NULL,
                        "{\"a\":1}", &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "id")), "abc");
    json_decref(j);
    j = tk_http("GET", port, "/v1/things/abc", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 405);
    json_decref(j);
    j = tk_http("GET", port, "/v1/nothing", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 404);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(j, "error"), "code")), "not_found");
    json_decref(j);
    j = tk_http("POST", port, "/v1/things/abc", NULL, NULL, "[1]", &st);
    cr_assert_eq(st, 400, "a JSON body must be an object");
    json_decref(j);
    j = tk_http("POST", port, "/v1/things/abc", NULL,
                "Content-Type: text/plain", "{}", &st);
    cr_assert_eq(st, 415);
    json_decref(j);
    j = tk_http("GET", port, "/healthz", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    http_stop(&s);
    cr_assert_null(s);
}

Test(auth, principals_parse_strictly)
{
    principal_t p;
    cr_assert(principal_parse("office:a-01-02", &p));
    cr_assert_eq(p.kind, PRINCIPAL_OFFICE);
    cr_assert_str_eq(p.id, "a-01-02");
    cr_assert(principal_parse("portal", &p));
    cr_assert_eq(p.kind, PRINCIPAL_PORTAL);
    cr_assert_not(principal_parse("office:", &p));
    cr_assert_not(principal_parse("office:A B", &p));
    cr_assert_not(principal_parse("root", &p));
}

/* Accept-Language (RFC 9110 12.5.4) picks kk, ru or en by q; a region
 * counts as its language; anything else is English (issue 23). */
Test(http, accept_language)
{
    cr_assert_str_eq(http_accept_language("kk"), "kk");
    cr_assert_str_eq(http_accept_language("ru-RU,ru;q=0.9,en;q=0.8"), "ru");
    cr_assert_str_eq(http_accept_language("en;q=0.9, kk;q=0.95"), "kk");
    cr_assert_str_eq(http_accept_language("de-DE, fr;q=0.8"), "en");
    cr_assert_str_eq(http_accept_language("ru;q=0, kk;q=0"), "en");
    cr_assert_str_eq(http_accept_language(NULL), "en");
    cr_assert_str_eq(http_accept_language(""), "en");
    cr_assert_str_eq(http_accept_language("KK-kz;q=0.7"), "kk");
}

/* Issue 24: the expected wait is a range from the departures with
 * housing (a Poisson process; Gamma percentiles), or unknown on a short
 * history. */
Test(queue, expected_wait_range)
{
    double from, to, f2, t2;
    cr_assert_not(queue_wait_range(4, 36, 1, &from, &to), "4 departures");
    cr_assert_not(queue_wait_range(12, 11.9, 1, &from, &to), "11.9 months");
    cr_assert(queue_wait_range(12, 30, 1, &from, &to));
    /* Exp(0.4): 10th −ln 0.9 / 0.4 ≈ 0.263, 90th ln 10 / 0.4 ≈ 5.76 */
    cr_assert_float_eq(from, 0.263, 0.03);
    cr_assert_float_eq(to, 5.76, 0.15);
    cr_assert(queue_wait_range(12, 30, 100, &f2, &t2));
    cr_assert(f2 < 250 && t2 > 250, "around 100 / 0.4 = 250: %f–%f", f2, t2);
    cr_assert(f2 > from && t2 > to);
}

/* p.20: the head of an authority is a principal of its own. */
Test(auth, head_of_an_authority)
{
    principal_t p;
    cr_assert(principal_parse("head:a-01-02", &p));
    cr_assert_eq(p.kind, PRINCIPAL_HEAD);
    cr_assert_str_eq(p.id, "a-01-02");
    cr_assert_str_eq(principal_kind_name(p.kind), "head");
    cr_assert_not(principal_parse("head:", &p));
    cr_assert_not(principal_reads_authority(&p, "a-01-02", "r-01"),
                  "the head reads complaints, not the queue's lists");
}

Test(auth, tokens_are_stored_as_hashes)
{
    char token[96], id[17], hash[65], again[65];
    auth_new_token(token, id, hash);
    cr_assert(strncmp(token, "kz_", 3) == 0);
    cr_assert(strstr(token, id));
    cr_assert_null(strstr(hash, token));
    auth_hash(token, again);
    cr_assert_str_eq(hash, again);
    cr_assert_eq(strlen(hash), 64);
}

Test(log, json_lines_escape_their_content)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/kezek-log-%d", (int)getpid());
    cr_assert(freopen(path, "w", stderr));
    log_init("test", LOG_INFO);
    log_debug("hidden", "below the level");
    log_info("x.y", "quote \" backslash \\ newline \n end");
    fflush(stderr);
    FILE *f = fopen(path, "r");
    char line[1024];
    cr_assert(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(path);
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    cr_assert(j, "not JSON: %s", line);
    cr_assert_str_eq(json_string_value(json_object_get(j, "event")), "x.y");
    cr_assert_str_eq(json_string_value(json_object_get(j, "msg")),
                     "quote \" backslash \\ newline \n end");
    cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
    json_decref(j);
}

Test(redis, selects_database_and_survives_bad_address)
{
    char addr[300];
    snprintf(addr, sizeof(addr), "%s#/200", getenv("KEZEK_TEST_REDIS"));
    kredis_t *r = kredis_new(addr);
    redisReply *rep = kredis_cmd(r, "SET kezek:test %d", 7);
    cr_assert(rep);
    freeReplyObject(rep);
    kredis_t *other = kredis_new(getenv("KEZEK_TEST_REDIS"));
    rep = kredis_cmd(other, "EXISTS kezek:test");
    cr_assert(rep);
    cr_assert_eq(rep->integer, 0, "database 0 is another keyspace");
    freeReplyObject(rep);
    kredis_destroy(&other);
    rep = kredis_cmd(r, "DEL kezek:test");
    freeReplyObject(rep);
    kredis_destroy(&r);
    kredis_t *bad = kredis_new("unix:/nonexistent/redis.sock");
    cr_assert_null(kredis_cmd(bad, "PING"));
    cr_assert_null(kredis_ctx(bad), "retries are throttled");
    kredis_destroy(&bad);
}

/* lib/audit (p.17): every recorded read reaches audit_read, also when
 * thousands arrive between two flushes (more than one statement's
 * worth), each row with the time of its read; a row Postgres refuses
 * (here a purpose that is not UTF-8) is dropped alone. */
Test(audit, many_reads_are_all_written)
{
    tk_env_t env;
    tk_env_init(&env);
    PGconn *c = tk_db(&env);
    cr_assert(pg_exec(c, "CREATE TABLE t0 AS SELECT clock_timestamp() t"));
    volatile sig_atomic_t stop = 0;
    cr_assert(audit_start(env.conninfo, &stop));
    for (int i = 0; i < 4500; i++)
        cr_assert(audit_read("office:a-01-02", i == 3000 ? "bad \xff"
                                                         : "test",
                             "application/x",
                             i % 2 ? "791028302728" : NULL));
    usleep(300000); /* the rows' times are their reads', not the write's */
    cr_assert(pg_exec(c, "CREATE TABLE t1 AS SELECT clock_timestamp() t"));
    stop = 1;
    audit_stop();
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read"), 4499);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read"
                              " WHERE subject_iin IS NULL"), 2249);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read WHERE"
                              " at < (SELECT t FROM t0) OR"
                              " at > (SELECT t FROM t1) - interval"
                              " '250 ms'"), 0);
    PQfinish(c);
    tk_env_fini(&env);
}

/* lib/audit (p.17): while Postgres takes no rows, reads queue up to a
 * bound (4 MB of packed rows) and are then refused — audit_reply
 * answers 503 in place of the data — and every read admitted is written
 * once Postgres is back. */
Test(audit, a_read_that_cannot_be_recorded_is_refused)
{
    tk_env_t env;
    tk_env_init(&env);
    PGconn *c = tk_db(&env), *blocker = tk_db(&env);
    cr_assert(pg_exec(blocker, "BEGIN"));
    cr_assert(pg_exec(blocker, "LOCK TABLE audit_read IN ACCESS EXCLUSIVE"
                               " MODE"));
    volatile sig_atomic_t stop = 0;
    cr_assert(audit_start(env.conninfo, &stop));
    int admitted = 0, refused = 0;
    for (int i = 0; i < 300000; i++) {
        if (audit_read("ops", "test", "queue_entry", "791028302728"))
            admitted++;
        else
            refused++;
        if (i == 100)
            usleep(300000); /* the writer takes the first rows and waits */
    }
    cr_assert(refused > 0, "a full queue refuses reads");
    /* 42 bytes a row here: two buffers' worth at most, one at least */
    cr_assert(admitted >= (4 << 20) / 42 - 1 && admitted <= 2 * (4 << 20) / 42,
              "admitted %d", admitted);
    http_resp_t resp = {0};
    http_reply_json(&resp, 200, json_pack("{s:s}", "iin", "791028302728"));
    audit_reply(&resp, "ops", "test", "queue_entry", "791028302728");
    cr_assert_eq(resp.status, 503);
    cr_assert_str_eq(resp.header_name, "Retry-After");
    cr_assert_null(strstr(resp.body, "791028302728"), "no data in %s",
                   resp.body);
    free(resp.body);
    cr_assert(pg_exec(blocker, "COMMIT"));
    stop = 1;
    audit_stop();
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read"), admitted,
                 "every admitted read is written");
    PQfinish(blocker);
    PQfinish(c);
    tk_env_fini(&env);
}

static const struct pg_stmt rowbuf_stmts[] = {
    {"rb_put", "INSERT INTO rb (k, v, b) SELECT k::int, v, decode(b, 'hex')"
               " FROM unnest($1::text[], $2::text[], $3::text[])"
               " AS x (k, v, b)"},
    {"rb_bump", "UPDATE rb SET n = rb.n + 1 FROM unnest($1::text[])"
                " AS x (k) WHERE rb.k = x.k::int"},
    {"rb_count", "SELECT count(*) FROM rb"},
    {NULL, NULL},
};

/* Values with quotes, backslashes, braces, commas, Kazakh text and NULL
 * come back exactly; binary goes as hex; a repeated key sends the rows
 * before it first, so both updates of one row count. */
Test(rowbuf, set_based_rows_round_trip_in_a_pipeline)
{
    tk_env_t env;
    tk_env_init(&env);
    PGconn *c = tk_db(&env);
    cr_assert_eq(PQresultStatus(PQexec(c, "CREATE TABLE rb (k int PRIMARY"
        " KEY, v text, b bytea, n int NOT NULL DEFAULT 0)")),
        PGRES_COMMAND_OK);
    char err[256];
    PGconn *w = pg_connect(env.conninfo, rowbuf_stmts, err, sizeof(err));
    cr_assert(w, "%s", err);
    const char *vals[] = {"plain", "quote \" inside", "back\\slash",
                          "{braces, commas}", "Қазақ тілі", "", NULL,
                          "NULL"};
    const uint8_t bin[] = {0, 1, 0xfe, 0xff, '"', '\\'};
    rowbuf_t *put = rowbuf_new("rb_put", 3);
    rowbuf_t *bump = rowbuf_new("rb_bump", 1);
    cr_assert(pg_pipe_begin(w));
    cr_assert(pg_defer_exec(w, "BEGIN"));
    for (int i = 0; i < 8; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        char *hex = rowbuf_hex(bin, sizeof(bin));
        const char *row[3] = {k, vals[i], hex};
        cr_assert(rowbuf_add(put, w, k, row));
        free(hex);
    }
    cr_assert_eq(rowbuf_rows(put), 8);
    cr_assert(rowbuf_flush(put, w));
    cr_assert_eq(rowbuf_rows(put), 0);
    /* a read in the pipeline sees the deferred writes before it */
    PGresult *r = pg_run(w, "rb_count", 0, NULL);
    cr_assert(r);
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "8");
    PQclear(r);
    const char *k3[1] = {"3"};
    cr_assert(rowbuf_add(bump, w, "3", k3));
    cr_assert(rowbuf_add(bump, w, "3", k3)); /* sends the first one */
    cr_assert_eq(rowbuf_rows(bump), 1);
    cr_assert(rowbuf_flush(bump, w));
    cr_assert(pg_defer_exec(w, "COMMIT"));
    cr_assert(pg_pipe_end(w));
    for (int i = 0; i < 8; i++) {
        char q[96];
        snprintf(q, sizeof(q), "SELECT v, encode(b, 'hex') FROM rb"
                               " WHERE k = %d", i);
        r = PQexec(c, q);
        cr_assert_eq(PQntuples(r), 1);
        if (vals[i])
            cr_assert_str_eq(PQgetvalue(r, 0, 0), vals[i]);
        else
            cr_assert(PQgetisnull(r, 0, 0));
        cr_assert_str_eq(PQgetvalue(r, 0, 1), "0001feff225c");
        PQclear(r);
    }
    cr_assert_eq(tk_scalar(c, "SELECT n FROM rb WHERE k = 3"), 2);

    /* a deferred write that fails fails the unit at its end, and the
     * transaction rolls back whole */
    cr_assert(pg_pipe_begin(w));
    cr_assert(pg_defer_exec(w, "BEGIN"));
    const char *dup[3] = {"{100,0}", "{x,y}", "{00,00}"};
    cr_assert(pg_defer(w, "rb_put", 3, dup, NULL, NULL));
    cr_assert(pg_defer_exec(w, "COMMIT"));
    cr_assert_not(pg_pipe_end(w));
    cr_assert(pg_exec(w, "ROLLBACK"));
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM rb"), 8);
    rowbuf_destroy(&put);
    rowbuf_destroy(&bump);
    PQfinish(w);
    PQfinish(c);
    tk_env_fini(&env);
}
