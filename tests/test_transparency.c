/* The queue's transparency log (issue 24; p.5: the queue, its numbers
 * and the registration notice; p.15: the result in the cabinet): every
 * registration and removal is a leaf of its authority's RFC 9162 tree,
 * each head signed; a registration's notice carries its receipt of
 * place, which verifies against a later head with `kezek verify-log
 * --notice` and with the standard-library Python verifier; and any
 * tampering — a stored leaf changed, two leaves reordered, the history
 * rewritten and re-signed with the authority's own key — is detected. */
#include "testkit.h"

#include "keys.h"
#include "merkle.h"
#include "pg.h"
#include "tlog.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    tk_env_init(&env);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 10, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

static void db_exec(const char *sql)
{
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
              PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

static long scalar(const char *sql)
{
    PGconn *c = tk_db(&env);
    long v = tk_scalar(c, sql);
    PQfinish(c);
    return v;
}

/* Submits person n's application and waits for its number. */
static void registered(int n)
{
    char iin[13], key[32], sql[256], id[64];
    long st;
    tk_iin(n, iin);
    snprintf(key, sizeof(key), "tlog-%d", n);
    cr_assert(tk_submit(&env, iin, key, id, &st), "submit %d: %ld", n, st);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM queue_entry WHERE"
             " application_id = '%s' AND tlog_index IS NOT NULL", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000), "person %d numbered", n);
}

/* Person n's registration notice (the cabinet's document), saved to a
 * file of the test's directory; its path in path. */
static json_t *notice_saved(int n, char *path, size_t len)
{
    char iin[13], url[128], hdr[64];
    tk_iin(n, iin);
    snprintf(url, sizeof(url), "/v1/cabinet/%s/messages", iin);
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin);
    for (int i = 0; i < 500; i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_NOTIFY], url,
                            env.portal, hdr, NULL, &st);
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(j, "messages"), k, m) {
            if (strcmp(json_string_value(json_object_get(m, "kind")) ?: "",
                       "registration_notice") == 0) {
                json_t *doc = json_incref(json_object_get(m, "document"));
                json_decref(j);
                snprintf(path, len, "%s/notice-%d.json", env.dir, n);
                cr_assert_eq(json_dump_file(doc, path, 0), 0);
                return doc;
            }
        }
        json_decref(j);
        usleep(20000);
    }
    cr_assert_fail("person %d never got a registration notice", n);
    return NULL;
}

/* Runs a command; its exit status, its output into out. */
static int run(const char *cmd, char *out, size_t len)
{
    FILE *f = popen(cmd, "r");
    cr_assert(f, "%s", cmd);
    char line[512];
    out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        strncat(out, line, len - strlen(out) - 1);
    int rc = pclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* kezek verify-log against the test's services, args appended. */
static int verify_c(const char *args, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s/kezek verify-log --url "
             "http://127.0.0.1:%d --keys-url http://127.0.0.1:%d %s 2>&1",
             getenv("KEZEK_BIN_DIR"), env.http_port[TK_QUEUE],
             env.http_port[TK_INTAKE], args);
    return run(cmd, out, len);
}

/* tools/verify_log.py, the same way. */
static int verify_py(const char *args, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "python3 %s/tools/verify_log.py --url "
             "http://127.0.0.1:%d --keys-url http://127.0.0.1:%d %s 2>&1",
             getenv("KEZEK_SOURCE_DIR"), env.http_port[TK_QUEUE],
             env.http_port[TK_INTAKE], args);
    return run(cmd, out, len);
}

static const char *today(void)
{
    static char d[11];
    time_t t = time(NULL) + 5 * 3600; /* Asia/Almaty, UTC+5 */
    strftime(d, sizeof(d), "%Y-%m-%d", gmtime(&t));
    return d;
}

/* Removes person n's entry (the office, p.5) through the API. */
static void removed(int n, const char *reason)
{
    char iin[13], path[160], body[128];
    long st;
    tk_iin(n, iin);
    snprintf(path, sizeof(path), "/v1/queue/a-01-02/wwii/entries/%s/removal",
             iin);
    snprintf(body, sizeof(body), "{\"reason\":\"%s\",\"date\":\"%s\"}",
             reason, today());
    json_t *j = tk_http("POST", env.http_port[TK_QUEUE], path, env.office,
                        NULL, body, &st);
    cr_assert_eq(st, 200, "removal: %ld", st);
    json_decref(j);
}

/* p.5: the registration notice's receipt of place verifies against a
 * later head — by the kezek tool and by the Python verifier — and the
 * whole log replays to the queue's own positions. */
Test(transparency, a_notice_verifies_against_a_later_head, .init = setup,
     .fini = teardown, .timeout = 120)
{
    registered(1);
    char path[300], out[8192], args[400];
    json_t *doc = notice_saved(1, path, sizeof(path));
    json_t *t = json_object_get(doc, "transparency");
    cr_assert(t, "the registration notice carries a receipt of place");
    cr_assert_eq(json_integer_value(json_object_get(t, "leaf_index")), 0);
    cr_assert_eq(strlen(json_string_value(json_object_get(t, "secret"))),
                 64);
    const char *entry = json_string_value(json_object_get(t, "entry"));
    cr_assert(strstr(entry, "\"event\":\"registered\""), "%s", entry);
    char iin[13];
    tk_iin(1, iin);
    cr_assert(!strstr(entry, iin), "no IIN in a leaf");
    json_decref(doc);

    /* the log grows: more registrations, a removal (the last leaf) */
    for (int n = 2; n <= 5; n++)
        registered(n);
    removed(3, "housing_provided");
    cr_assert(tk_wait_scalar(&env, "SELECT size FROM tlog_head WHERE"
                             " authority_id = 'a-01-02'", 6, 10000));

    snprintf(args, sizeof(args), "--notice %s", path);
    int rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "is in the log as signed now (size 6), "
                          "unchanged"), "%s", out);
    cr_assert(strstr(out, "extends the one of the notice (size 1 → 6)"),
              "%s", out);
    cr_assert(strstr(out, "no later leaf took the entry off"), "%s", out);

    rc = verify_py(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "leaf 0 of a-01-02 is in the log of size 6, "
                          "unchanged"), "%s", out);

    /* the whole log: heads, leaves, roots, and positions as the queue
     * shows them (the office's token reads its lists) */
    snprintf(args, sizeof(args), "--authority a-01-02 --token %s",
             env.office);
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "6 leaves in the one form"), "%s", out);
    cr_assert(strstr(out, "a-01-02/wwii: 4 positions as the log orders "
                          "them"), "%s", out);
    rc = verify_py("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "6 leaves, every root recomputed"), "%s", out);

    /* the endpoints serve only what a signed head holds */
    static const struct {
        const char *path;
        long status;
    } asks[] = {
        {"/v1/transparency/a-01-02/proof/consistency?first=0&second=100",
         400},
        {"/v1/transparency/a-01-02/proof/consistency?first=6&second=6",
         200},
        {"/v1/transparency/a-01-02/proof/inclusion?leaf_index=0&"
         "tree_size=100", 400},
        {"/v1/transparency/a-01-02/proof/inclusion?leaf_index=6&"
         "tree_size=6", 400},
        {"/v1/transparency/a-01-02/entries?start=6&end=10", 400},
        {"/v1/transparency/a-01-02/entries?start=0&end=1001", 400},
        {"/v1/transparency/a-01-02/entries?start=x&end=1", 400},
        {"/v1/transparency/a-99-99/sth", 404},
        {"/v1/transparency/a-99-99/proof/consistency?first=0&second=1",
         404},
    };
    for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_QUEUE], asks[i].path,
                            NULL, NULL, NULL, &st);
        cr_assert_eq(st, asks[i].status, "%s: %ld", asks[i].path, st);
        json_decref(j);
    }

    /* person 3's notice now says the entry left its list */
    notice_saved(3, path, sizeof(path));
    snprintf(args, sizeof(args), "--notice %s", path);
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "left its list at leaf 5 (removal, "
                          "housing_provided"), "%s", out);
}

/* What the log refuses and what it detects: no role may change it; a
 * superuser who does — a leaf's bytes, two leaves swapped — is caught by
 * both verifiers. */
Test(transparency, tampering_with_stored_leaves_is_detected, .init = setup,
     .fini = teardown, .timeout = 120)
{
    for (int n = 1; n <= 4; n++)
        registered(n);
    char path[300], out[8192], args[400];
    notice_saved(2, path, sizeof(path));
    int rc = verify_c("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);

    /* append-only: the queue's role may not change a leaf, and the
     * tables' owner (migrations, the kezek tool) is stopped by the
     * trigger */
    const char *roles[2][2] = {{"kezek_queue", "permission denied"},
                               {"kezek_owner", "append-only"}};
    for (int i = 0; i < 2; i++) {
        char sql[200];
        PGconn *c = tk_db(&env);
        snprintf(sql, sizeof(sql), "SET ROLE %s; UPDATE tlog_node SET"
                 " entry = entry WHERE level = 0", roles[i][0]);
        PGresult *r = PQexec(c, sql);
        cr_assert_neq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", sql);
        cr_assert(strstr(PQresultErrorMessage(r), roles[i][1]), "%s: %s",
                  roles[i][0], PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
    }

    /* a superuser moves person 2 (leaf 1) back: its leaf's order */
    db_exec("SET session_replication_role = replica;"
            " UPDATE tlog_node SET entry = replace(entry, '\"seq\":', "
            "'\"seq\":1') WHERE authority_id = 'a-01-02' AND level = 0"
            " AND idx = 1");
    rc = verify_c("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "do not give the signed root"), "%s", out);
    rc = verify_py("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "do not give the signed root"), "%s", out);
    /* the citizen sees it from their notice alone */
    snprintf(args, sizeof(args), "--notice %s", path);
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "shows another leaf at 1"), "%s", out);
    rc = verify_py(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);

    /* put back, it verifies again (the failures were the tampering) */
    db_exec("SET session_replication_role = replica;"
            " UPDATE tlog_node SET entry = replace(entry, '\"seq\":1', "
            "'\"seq\":') WHERE authority_id = 'a-01-02' AND level = 0"
            " AND idx = 1");
    rc = verify_c("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);

    /* two leaves swapped, bytes and hashes: the roots differ */
    db_exec("SET session_replication_role = replica;"
            " UPDATE tlog_node t SET entry = o.entry, hash = o.hash"
            " FROM tlog_node o WHERE t.authority_id = 'a-01-02'"
            " AND o.authority_id = 'a-01-02' AND t.level = 0"
            " AND o.level = 0 AND t.idx IN (2, 3) AND o.idx = 5 - t.idx");
    rc = verify_c("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "do not give the signed root"), "%s", out);
    rc = verify_py("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
}

/* The operator holds the authority's key: it can rewrite the history
 * and sign the new heads. That is caught by whoever kept an earlier
 * head — a monitor's state, a citizen's notice. */
Test(transparency, a_rewritten_and_re_signed_history_is_detected,
     .init = setup, .fini = teardown, .timeout = 120)
{
    for (int n = 1; n <= 3; n++)
        registered(n);
    char path[300], out[8192], args[600], state[300];
    notice_saved(1, path, sizeof(path));
    snprintf(state, sizeof(state), "%s/monitor.json", env.dir);
    snprintf(args, sizeof(args), "--authority a-01-02 --state %s", state);
    int rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(access(state, R_OK), 0, "the monitor kept the head");

    /* the rewrite: the tree dropped and rebuilt with person 1's leaf
     * moved behind person 2's (the services stopped meanwhile) */
    tk_signal(&env, TK_QUEUE, SIGTERM);
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, "SELECT entry FROM tlog_node WHERE authority_id"
                         " = 'a-01-02' AND level = 0 ORDER BY idx");
    cr_assert_eq(PQntuples(r), 3);
    struct tlog_leaf leaves[3];
    char why[160];
    for (int i = 0; i < 3; i++)
        cr_assert(tlog_entry_parse(PQgetvalue(r, i, 0),
                                   strlen(PQgetvalue(r, i, 0)), &leaves[i],
                                   why, sizeof(why)), "%s", why);
    PQclear(r);
    r = PQexec(c, "SET session_replication_role = replica;"
               " DELETE FROM tlog_node WHERE authority_id = 'a-01-02';"
               " DELETE FROM tlog_sth WHERE authority_id = 'a-01-02';"
               " DELETE FROM tlog_head WHERE authority_id = 'a-01-02'");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s",
                 PQresultErrorMessage(r));
    PQclear(r);
    uint64_t seq0 = leaves[0].seq;
    leaves[0].seq = leaves[1].seq;
    leaves[1].seq = seq0;
    static struct authority_keys keys;
    cr_assert(authority_keys_init(&keys, env.keyfile, NULL, why,
                                  sizeof(why)), "%s", why);
    tlog_writer_t *w = tlog_writer_new();
    const char *a[1] = {"a-01-02"};
    cr_assert(tlog_prepare(c));
    cr_assert(pg_exec(c, "BEGIN"));
    cr_assert(tlog_lock(w, c, a, 1));
    uint64_t index;
    for (int i = 0; i < 3; i++)
        cr_assert(tlog_add(w, &leaves[i], &index));
    cr_assert(tlog_write(w, c, &keys));
    cr_assert(pg_exec(c, "COMMIT"));
    tlog_writer_destroy(&w);
    authority_keys_fini(&keys);
    PQfinish(c);
    tk_start(&env, TK_QUEUE);

    /* on its own the rewritten log is well formed and signed … */
    rc = verify_c("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    rc = verify_py("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    /* … but not an extension of what the monitor saw, nor of what the
     * citizen holds */
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "not consistent with the one verified before"),
              "%s", out);
    snprintf(args, sizeof(args), "--notice %s", path);
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "is NOT in the log"), "%s", out);
    rc = verify_py(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
}

/* The leaf's one form: what tlog_entry_format writes parses back, and
 * nothing else does (another order, spacing, an escape). */
Test(transparency, a_leaf_has_one_form)
{
    struct tlog_leaf l = {.number = 7, .seq = 42};
    snprintf(l.authority_id, sizeof(l.authority_id), "a-01-02");
    snprintf(l.list, sizeof(l.list), "wwii");
    snprintf(l.event, sizeof(l.event), "removed");
    snprintf(l.cause, sizeof(l.cause), "removal");
    snprintf(l.reason, sizeof(l.reason), "housing_provided");
    l.has_reason = true;
    snprintf(l.date, sizeof(l.date), "2026-12-04");
    memset(l.commitment, 0xab, 32);
    char e[TLOG_ENTRY_MAX], why[160];
    int n = tlog_entry_format(&l, e, sizeof(e));
    cr_assert_gt(n, 0);
    struct tlog_leaf back;
    cr_assert(tlog_entry_parse(e, (size_t)n, &back, why, sizeof(why)), "%s",
              why);
    cr_assert_eq(back.number, 7);
    cr_assert_eq(back.seq, 42);
    cr_assert_str_eq(back.reason, "housing_provided");
    const char *other[] = {
        "{\"v\":1, \"authority_id\":\"a-01-02\"}",
        "{\"authority_id\":\"a-01-02\",\"v\":1,\"list\":\"wwii\","
        "\"number\":7,\"seq\":42,\"event\":\"removed\",\"cause\":"
        "\"removal\",\"reason\":\"housing_provided\",\"date\":"
        "\"2026-12-04\",\"commitment\":\"abababababababababababababababab"
        "abababababababababababababababab\"}",
        "{\"v\":1,\"authority_id\":\"a\\u002d01-02\",\"list\":\"wwii\","
        "\"number\":7,\"seq\":42,\"event\":\"removed\",\"cause\":"
        "\"removal\",\"reason\":\"housing_provided\",\"date\":"
        "\"2026-12-04\",\"commitment\":\"abababababababababababababababab"
        "abababababababababababababababab\"}",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        cr_assert(!tlog_entry_parse(other[i], strlen(other[i]), &back, why,
                                    sizeof(why)), "%s", other[i]);
    snprintf(l.list, sizeof(l.list), "wwii\"");
    cr_assert_lt(tlog_entry_format(&l, e, sizeof(e)), 0, "nothing escaped");
}

/* Entries from before the log (a deployment of an earlier round) are
 * appended once, in their lists' order, and the queue's positions then
 * replay from the log; each head is signed again while nothing changes
 * (p.5: the queue as it stands is what the log shows). */
Test(transparency, entries_before_the_log_are_appended_and_heads_resigned,
     .init = setup, .fini = teardown, .timeout = 120)
{
    for (int n = 1; n <= 3; n++)
        registered(n);
    removed(2, "moved_away");
    /* as an earlier round left them: no log, no secrets */
    tk_signal(&env, TK_QUEUE, SIGTERM);
    db_exec("SET session_replication_role = replica;"
            " DELETE FROM tlog_node; DELETE FROM tlog_sth;"
            " DELETE FROM tlog_head;"
            " UPDATE queue_entry SET tlog_secret = NULL, tlog_index = NULL");
    setenv("KEZEK_TLOG_RESIGN_SECONDS", "1", 1);
    tk_start(&env, TK_QUEUE);
    unsetenv("KEZEK_TLOG_RESIGN_SECONDS");
    cr_assert(tk_wait_scalar(&env, "SELECT size FROM tlog_head WHERE"
                             " authority_id = 'a-01-02'", 2, 20000),
              "the two active entries appended");
    cr_assert_eq(scalar("SELECT count(*) FROM queue_entry"
                           " WHERE tlog_index IS NULL"), 1,
                 "the removed one stays out");
    char out[8192], args[300];
    snprintf(args, sizeof(args), "--authority a-01-02 --token %s",
             env.office);
    int rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "a-01-02/wwii: 2 positions as the log orders "
                          "them"), "%s", out);
    /* a new registration follows them */
    registered(4);
    rc = verify_c(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "a-01-02/wwii: 3 positions"), "%s", out);
    /* signed again: a later timestamp, the same tree */
    long ms = scalar("SELECT sth_ms FROM tlog_head WHERE"
                        " authority_id = 'a-01-02'");
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT (sth_ms > %ld AND sth_size = 3)::int"
             " FROM tlog_head WHERE authority_id = 'a-01-02'", ms);
    cr_assert(tk_wait_scalar(&env, sql, 1, 15000), "signed again");
    rc = verify_py("--authority a-01-02", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
}
