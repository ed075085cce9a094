/* lib/http, lib/log, lib/auth, lib/redis, lib/audit: the boundary
 * helpers every service shares (CONTRACT "Errors", "Authentication");
 * p.17 (confidentiality): tokens kept as hashes, JSON logs that escape
 * their content, the audit of reads. */
#include "audit.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "redis.h"
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
    http_server_t *s = http_start("127.0.0.1", port, 2, 100, routes, NULL,
                                  NULL, NULL, err, sizeof(err));
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
 * thousands arrive between two flushes. */
Test(audit, many_reads_are_all_written)
{
    tk_env_t env;
    tk_env_init(&env);
    volatile sig_atomic_t stop = 0;
    audit_start(env.conninfo, &stop);
    for (int i = 0; i < 4500; i++)
        audit_read("office:a-01-02", "test", "application/x",
                   i % 2 ? "791028302728" : NULL);
    stop = 1;
    audit_stop();
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read"), 4500);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM audit_read"
                              " WHERE subject_iin IS NULL"), 2250);
    PQfinish(c);
    tk_env_fini(&env);
}
