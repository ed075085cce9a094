/* The queue's life after registration (issue 22; p.5: the queue and its
 * numbers, p.6: who is registered, p.15: the result to the cabinet):
 * withdrawal before the decision, removal by the office and at the
 * citizen's own request, change of list when the category changes,
 * transfer to another authority, and re-verification — each through
 * the API, the bus (the citizen's notice, the status read model) and
 * the position history. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 10, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

/* Runs sql as the superuser on the test's database (registry changes). */
static void db_exec(const char *sql)
{
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
              PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* Submits person n's application and waits for its number. */
static void registered(int n, char *id)
{
    char iin[13], key[32], sql[256];
    long st;
    tk_iin(n, iin);
    snprintf(key, sizeof(key), "life-%d", n);
    cr_assert(tk_submit(&env, iin, key, id, &st), "submit %d: %ld", n, st);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM queue_entry WHERE"
             " application_id = '%s' AND status = 'active'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000), "person %d numbered", n);
}

static json_t *entry_call(const char *method, const char *authority,
                          const char *list, int n, const char *suffix,
                          const char *token, const char *extra,
                          const char *body, long *st)
{
    char iin[13], path[200];
    tk_iin(n, iin);
    snprintf(path, sizeof(path), "/v1/queue/%s/%s/entries/%s%s", authority,
             list, iin, suffix);
    return tk_http(method, env.http_port[TK_QUEUE], path, token, extra, body,
                   st);
}

static long position(const char *authority, const char *list, int n)
{
    long st;
    json_t *j = entry_call("GET", authority, list, n, "", env.office, NULL,
                           NULL, &st);
    long p = st == 200 ? (long)json_integer_value(json_object_get(j,
                                                    "position")) : -st;
    json_decref(j);
    return p;
}

/* Waits until person n's cabinet holds a notice of kind; returns it. */
static json_t *notice_of(int n, const char *kind)
{
    char iin[13], path[128], hdr[64];
    tk_iin(n, iin);
    snprintf(path, sizeof(path), "/v1/cabinet/%s/messages", iin);
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin);
    for (int i = 0; i < 500; i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_NOTIFY], path,
                            env.portal, hdr, NULL, &st);
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(j, "messages"), k, m) {
            if (strcmp(json_string_value(json_object_get(m, "kind")) ?: "",
                       kind) == 0) {
                json_t *doc = json_incref(json_object_get(m, "document"));
                json_decref(j);
                return doc;
            }
        }
        json_decref(j);
        usleep(20000);
    }
    cr_assert_fail("person %d never got a %s", n, kind);
    return NULL;
}

/* Waits until application id shows status. */
static json_t *status_of(const char *id, const char *status)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/applications/%s", id);
    for (int i = 0; i < 500; i++) {
        long st;
        json_t *j = tk_http("GET", env.http_port[TK_INTAKE], path,
                            env.office, NULL, NULL, &st);
        if (strcmp(json_string_value(json_object_get(j, "status")) ?: "",
                   status) == 0)
            return j;
        json_decref(j);
        usleep(20000);
    }
    cr_assert_fail("application %s never became %s", id, status);
    return NULL;
}

static const char *today(void)
{
    static char d[11];
    time_t t = time(NULL) + 5 * 3600; /* Asia/Almaty, UTC+5 */
    strftime(d, sizeof(d), "%Y-%m-%d", gmtime(&t));
    return d;
}

/* p.5: the office removes an entry with its reason, the citizen their
 * own (own_request, through the portal) — and nothing else; those
 * behind move up, each history says why, each citizen is told in kk and
 * ru, and the application shows "removed". */
Test(queue_life, removal_by_office_and_at_own_request, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char id1[40], id2[40], id3[40], body[160], iin2[13], hdr[64];
    registered(1, id1);
    registered(2, id2);
    registered(3, id3);
    long st;
    snprintf(body, sizeof(body), "{\"reason\":\"housing_provided\","
             "\"date\":\"%s\"}", today());
    json_t *j = entry_call("POST", "a-01-02", "wwii", 1, "/removal",
                           env.office, NULL, body, &st);
    cr_assert_eq(st, 200, "%ld", st);
    cr_assert_eq(json_integer_value(json_object_get(j, "last_position")), 1);
    cr_assert(strncmp(json_string_value(json_object_get(j, "change_id")),
                      "qc-", 3) == 0);
    json_decref(j);
    cr_assert_eq(position("a-01-02", "wwii", 2), 1, "those behind move up");

    /* the citizen is told, signed, in both languages, with the reason */
    json_t *doc = notice_of(1, "removal_notice");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "reason")),
                     "housing_provided");
    cr_assert(strstr(json_string_value(json_object_get(doc, "text_ru")),
                     "предоставлено жилище"));
    cr_assert(strstr(json_string_value(json_object_get(doc, "text_kk")),
                     "тұрғын үй берілді"));
    json_decref(doc);
    json_decref(status_of(id1, "removed"));

    /* the citizen: only their own entry, only own_request */
    tk_iin(2, iin2);
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin2);
    json_decref(entry_call("POST", "a-01-02", "wwii", 2, "/removal",
                           env.portal, hdr, body, &st));
    cr_assert_eq(st, 400, "a citizen gives no office's reason");
    json_decref(entry_call("POST", "a-01-02", "wwii", 3, "/removal",
                           env.portal, hdr, body, &st));
    cr_assert_eq(st, 403, "nor removes someone else");
    snprintf(body, sizeof(body), "{\"reason\":\"own_request\","
             "\"date\":\"%s\"}", today());
    json_decref(entry_call("POST", "a-01-02", "wwii", 2, "/removal",
                           env.portal, hdr, body, &st));
    cr_assert_eq(st, 200);
    json_decref(notice_of(2, "removal_notice"));
    cr_assert_eq(position("a-01-02", "wwii", 3), 1);

    /* person 3's history: two removals ahead, each with its reason */
    j = entry_call("GET", "a-01-02", "wwii", 3, "/history", env.office,
                   NULL, NULL, &st);
    json_t *h = json_object_get(j, "history");
    cr_assert_eq(json_array_size(h), 3);
    cr_assert_str_eq(json_string_value(json_object_get(
        json_array_get(h, 1), "cause")), "removal_ahead");
    cr_assert_str_eq(json_string_value(json_object_get(
        json_array_get(h, 2), "reason")), "own_request");
    json_decref(j);
}

/* Withdrawal before the decision: an application waiting on the work
 * list (its category the registry does not show, p.6) is withdrawn by
 * the citizen; it is final, told to the citizen, and cannot be
 * withdrawn twice; a decided one is not withdrawn but removed. */
Test(queue_life, withdrawal_before_the_decision, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char iin[13], sql[200], id[40], hdr[64], path[128], other[128];
    long st;
    tk_iin(4, iin);
    snprintf(sql, sizeof(sql), "DELETE FROM registry_social_status"
             " WHERE iin = '%s'", iin);
    db_exec(sql);
    cr_assert(tk_submit(&env, iin, "w-4", id, &st));
    json_decref(status_of(id, "review"));

    snprintf(path, sizeof(path), "/v1/applications/%s/withdrawal", id);
    tk_token(&env, "office:a-01-03", other);
    json_decref(tk_http("POST", env.http_port[TK_ELIGIBILITY], path, other,
                        NULL, "{}", &st));
    cr_assert_eq(st, 403, "another authority's office may not");
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin);
    json_t *j = tk_http("POST", env.http_port[TK_ELIGIBILITY], path,
                        env.portal, hdr, "{\"note\":\"moving abroad\"}", &st);
    cr_assert_eq(st, 200, "%ld", st);
    cr_assert_str_eq(json_string_value(json_object_get(j, "outcome")),
                     "withdrawn");
    json_decref(j);
    json_decref(status_of(id, "withdrawn"));
    json_t *doc = notice_of(4, "withdrawal_notice");
    cr_assert(strstr(json_string_value(json_object_get(doc, "text_ru")),
                     "отозвано"));
    json_decref(doc);
    j = tk_http("POST", env.http_port[TK_ELIGIBILITY], path, env.portal, hdr,
                "{}", &st);
    cr_assert_eq(st, 409);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
        "error"), "code")), "already_decided");
    json_decref(j);
    /* never numbered, off the work list */
    PGconn *c = tk_db(&env);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM queue_entry WHERE"
             " application_id = '%s'", id);
    cr_assert_eq(tk_scalar(c, sql), 0);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM parked_application"), 0);
    PQfinish(c);

    /* a registered one: decided already, removal is the way */
    char id5[40];
    registered(5, id5);
    snprintf(path, sizeof(path), "/v1/applications/%s/withdrawal", id5);
    j = tk_http("POST", env.http_port[TK_ELIGIBILITY], path, env.office,
                NULL, "{}", &st);
    cr_assert_eq(st, 409);
    json_decref(j);
}

/* Change of list (p.6 item 2, group 4: a family raising a disabled
 * child, as the social status registry records it): the place in the
 * new list counts from the original acceptance, so a person accepted
 * later in that list moves back one; both histories say so; a claim
 * the registry does not show is not moved. */
Test(queue_life, list_change_keeps_the_acceptance_order, .init = setup,
     .fini = teardown, .timeout = 150)
{
    char id1[40], id2[40], id6[40], iin[13], sql[300], body[400];
    registered(1, id1);
    registered(2, id2);
    /* person 6 in the vulnerable list, accepted after person 2 */
    tk_iin(6, iin);
    snprintf(sql, sizeof(sql), "INSERT INTO registry_social_status (iin,"
             " doc) VALUES ('%s', '{\"iin\":\"%s\",\"status\":"
             "\"disabled_child_family\",\"group\":null,\"since\":"
             "\"2020-01-01\",\"until\":null}')", iin, iin);
    db_exec(sql);
    char *app = tk_application(iin);
    json_t *a = json_loads(app, 0, NULL);
    free(app);
    json_object_set_new(a, "category", json_string("vulnerable"));
    json_object_set_new(a, "vulnerable_group", json_integer(4));
    json_array_append_new(json_object_get(a, "documents"), json_pack(
        "{s:s, s:i}", "code", "vulnerable_status_document", "pages", 1));
    char *as = json_dumps(a, JSON_COMPACT);
    long st;
    json_t *r = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Idempotency-Key: life-6", as, &st);
    cr_assert_eq(st, 202, "%ld", st);
    snprintf(id6, sizeof(id6), "%s", json_string_value(json_object_get(
        r, "application_id")));
    json_decref(r);
    free(as);
    json_decref(a);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry"
                             " WHERE list = 'vulnerable'", 1, 20000));
    cr_assert_eq(position("a-01-02", "vulnerable", 6), 1);

    snprintf(body, sizeof(body), "{\"category\":\"vulnerable\","
             "\"vulnerable_group\":4,\"documents\":[{\"code\":"
             "\"vulnerable_status_document\",\"pages\":1}],\"date\":\"%s\"}",
             today());
    /* the registry does not show person 2's new group yet: not moved */
    json_t *j = entry_call("POST", "a-01-02", "wwii", 2, "/list-change",
                           env.office, NULL, body, &st);
    cr_assert_eq(st, 422, "%ld", st);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
        json_object_get(j, "error"), "details"), "review_reason")), "category_not_in_registry");
    json_decref(j);
    cr_assert_eq(position("a-01-02", "wwii", 2), 2, "still in its list");

    tk_iin(2, iin);
    snprintf(sql, sizeof(sql), "INSERT INTO registry_social_status (iin,"
             " doc) VALUES ('%s', '{\"iin\":\"%s\",\"status\":"
             "\"disabled_child_family\",\"group\":null,\"since\":"
             "\"2026-01-01\",\"until\":null}')", iin, iin);
    db_exec(sql);
    j = entry_call("POST", "a-01-02", "wwii", 2, "/list-change", env.office,
                   NULL, body, &st);
    cr_assert_eq(st, 200, "%ld", st);
    json_t *to = json_object_get(j, "to");
    cr_assert_str_eq(json_string_value(json_object_get(to, "list")),
                     "vulnerable");
    cr_assert_eq(json_integer_value(json_object_get(to, "number")), 2,
                 "the next number of the new list");
    cr_assert_eq(json_integer_value(json_object_get(to, "position")), 1,
                 "ahead of those accepted after it");
    json_decref(j);
    cr_assert_eq(position("a-01-02", "vulnerable", 2), 1);
    cr_assert_eq(position("a-01-02", "vulnerable", 6), 2);
    cr_assert_eq(position("a-01-02", "wwii", 2), -404);

    /* the notice names both lists; the status shows the new place */
    json_t *doc = notice_of(2, "list_change_notice");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc,
        "queue"), "list")), "vulnerable");
    cr_assert(strstr(json_string_value(json_object_get(doc, "text_kk")),
                     "халықтың әлеуметтік осал топтары"));
    json_decref(doc);
    json_t *s = status_of(id2, "registered");
    for (int i = 0; i < 200 && strcmp(json_string_value(json_object_get(
             json_object_get(s, "queue"), "list")) ?: "", "vulnerable");
         i++) {
        json_decref(s);
        usleep(20000);
        s = status_of(id2, "registered");
    }
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(s,
        "queue"), "list")), "vulnerable");
    json_decref(s);

    /* histories: person 6 saw someone move in ahead; person 2's old
     * entry names where it went, its new one where it came from */
    j = entry_call("GET", "a-01-02", "vulnerable", 6, "/history",
                   env.office, NULL, NULL, &st);
    json_t *h = json_object_get(j, "history");
    cr_assert_eq(json_array_size(h), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1),
                                                       "cause")),
                     "moved_in_ahead");
    json_decref(j);
    j = entry_call("GET", "a-01-02", "vulnerable", 2, "/history",
                   env.office, NULL, NULL, &st);
    h = json_object_get(j, "history");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 0),
                                                       "cause")),
                     "list_change");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
        json_array_get(h, 0), "came_from"), "list")), "wwii");
    json_decref(j);
}

/* Transfer (p.6: permanent residence in the settlement): the rules of
 * the new authority decide it — refused while the population register
 * still shows the old settlement, moved once it shows the new one; the
 * new place is at the end of the new list; the old list closes up. */
Test(queue_life, transfer_to_another_authority, .init = setup,
     .fini = teardown, .timeout = 150)
{
    char id1[40], id2[40], iin[13], sql[300], body[200];
    registered(1, id1);
    registered(2, id2);
    snprintf(body, sizeof(body), "{\"settlement_id\":\"s-01-03\","
             "\"date\":\"%s\"}", today());
    long st;
    json_t *j = entry_call("POST", "a-01-02", "wwii", 1, "/transfer",
                           env.office, NULL, body, &st);
    cr_assert_eq(st, 422, "%ld", st);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
        json_object_get(json_object_get(json_object_get(j, "error"),
                                        "details"), "reasons"), 0),
        "code")), "p6.residence");
    json_decref(j);

    tk_iin(1, iin);
    snprintf(sql, sizeof(sql), "UPDATE registry_person SET doc = doc ||"
             " '{\"settlement_id\":\"s-01-03\"}' WHERE iin = '%s'", iin);
    db_exec(sql);
    j = entry_call("POST", "a-01-02", "wwii", 1, "/transfer", env.office,
                   NULL, body, &st);
    cr_assert_eq(st, 200, "%ld", st);
    json_t *to = json_object_get(j, "to");
    cr_assert_str_eq(json_string_value(json_object_get(to, "authority_id")),
                     "a-01-03");
    cr_assert_eq(json_integer_value(json_object_get(to, "number")), 1);
    json_decref(j);
    cr_assert_eq(position("a-01-02", "wwii", 2), 1, "the old list closes up");
    char tok[128];
    tk_token(&env, "office:a-01-03", tok);
    j = entry_call("GET", "a-01-03", "wwii", 1, "", tok, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "position")), 1);
    json_decref(j);

    json_t *doc = notice_of(1, "transfer_notice");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc,
        "queue"), "authority_id")), "a-01-03");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc,
        "left"), "authority_id")), "a-01-02");
    json_decref(doc);
    /* a second transfer to where it is now is refused, nothing changes */
    j = entry_call("POST", "a-01-03", "wwii", 1, "/transfer", tok, NULL,
                   body, &st);
    cr_assert_eq(st, 409);
    json_decref(j);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"), 0);
    PQfinish(c);
}

/* Re-verification: the rules re-run against the registries now; the
 * person who acquired a dwelling (p.6 need, ground 1) goes to the
 * work list with the reason — and stays in the queue until the office
 * acts; the office may keep them; the report counts by reason. */
Test(queue_life, reverify_flags_never_removes, .init = setup,
     .fini = teardown, .timeout = 150)
{
    char id1[40], id2[40], id3[40], iin[13], sql[600], cmd[700], line[256];
    registered(1, id1);
    registered(2, id2);
    registered(3, id3);
    tk_iin(2, iin);
    snprintf(sql, sizeof(sql), "INSERT INTO registry_property (owner_iin,"
             " dwelling_id, doc) VALUES ('%s', 'd-77', '{\"owner_iin\":"
             "\"%s\",\"dwelling_id\":\"d-77\",\"settlement_id\":\"s-01-02\","
             "\"acquired\":\"2026-02-01\",\"alienated\":null,\"alienation\":"
             "null,\"fit\":true,\"emergency\":false,\"damaged_on\":null}')",
             iin, iin);
    db_exec(sql);
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek queue reverify --authority a-01-02"
             " 2>&1", getenv("KEZEK_BIN_DIR"));
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    char out[2048] = "";
    while (fgets(line, sizeof(line), f))
        strncat(out, line, sizeof(out) - strlen(out) - 1);
    int rc = pclose(f);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 3, "exit 3: %s", out);
    cr_assert(strstr(out, "3 entries checked"), "%s", out);
    cr_assert(strstr(out, "1 flagged"), "%s", out);
    cr_assert(strstr(out, "a-01-02\tp6.need.1\t1"), "%s", out);

    /* still in the queue */
    cr_assert_eq(position("a-01-02", "wwii", 2), 2);
    long st;
    json_t *w = tk_http("GET", env.http_port[TK_ELIGIBILITY],
                        "/v1/review/a-01-02", env.office, NULL, NULL, &st);
    json_t *items = json_object_get(w, "reverification");
    cr_assert_eq(json_array_size(items), 1);
    json_t *it = json_array_get(items, 0);
    cr_assert_str_eq(json_string_value(json_object_get(it,
                                                       "application_id")),
                     id2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
        json_object_get(it, "reasons"), 0), "paragraph")), "6");
    json_decref(w);

    /* the report, for the office */
    w = tk_http("GET", env.http_port[TK_QUEUE],
                "/v1/queue/a-01-02/reverification", env.office, NULL, NULL,
                &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_integer_value(json_object_get(w, "open_flags")), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(
        json_array_get(json_object_get(w, "runs"), 0), "flagged_by_reason"),
        "p6.need.1")), 1);
    json_decref(w);

    /* the office keeps the person (say the dwelling is being sold) */
    char path[128];
    snprintf(path, sizeof(path), "/v1/review/%s/decision", id2);
    w = tk_http("POST", env.http_port[TK_ELIGIBILITY], path, env.office,
                NULL, "{\"outcome\":\"refused\",\"reasons\":[\"p6.need.1\"],"
                "\"note\":\"x\"}", &st);
    cr_assert_eq(st, 409, "a person in the queue leaves it by removal");
    json_decref(w);
    w = tk_http("POST", env.http_port[TK_ELIGIBILITY], path, env.office,
                NULL, "{\"outcome\":\"registered\",\"note\":\"sale "
                "contract of d-77 seen\"}", &st);
    cr_assert_eq(st, 200, "%ld", st);
    json_decref(w);
    w = tk_http("GET", env.http_port[TK_ELIGIBILITY], "/v1/review/a-01-02",
                env.office, NULL, NULL, &st);
    cr_assert_eq(json_array_size(json_object_get(w, "reverification")), 0);
    json_decref(w);
    cr_assert_eq(position("a-01-02", "wwii", 2), 2);
}

/* The expected wait (issue 24): a range, never a promise — from how
 * many left the list with housing over the window (3 years), as a
 * Poisson process; shown in the position look-up with its method,
 * basis and the kk/ru note. */
Test(queue_life, expected_wait_in_the_look_up, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char id1[40], id2[40];
    registered(1, id1);
    registered(2, id2);
    /* the list's history: opened 30 months ago, 12 people housed since */
    db_exec("INSERT INTO queue_change (authority_id, list, kind,"
            " accepted_seq, application_id, reason, cause, at)"
            " SELECT 'a-01-02', 'wwii', 'removed', 0, 'old-' || i,"
            " 'housing_provided', 'removal',"
            " now() - make_interval(months => i * 2) FROM"
            " generate_series(1, 12) i");
    db_exec("INSERT INTO queue_change (authority_id, list, kind,"
            " accepted_seq, application_id, cause, at) VALUES ('a-01-02',"
            " 'wwii', 'registered', 0, 'old-0', 'decision',"
            " now() - interval '30 months')");
    long st;
    json_t *j = entry_call("GET", "a-01-02", "wwii", 2, "", env.office, NULL,
                           NULL, &st);
    cr_assert_eq(st, 200);
    json_t *w = json_object_get(j, "expected_wait");
    cr_assert_str_eq(json_string_value(json_object_get(w, "status")),
                     "estimated");
    double from = json_number_value(json_object_get(w, "months_from"));
    double to = json_number_value(json_object_get(w, "months_to"));
    /* position 2 at 0.4 a month: Gamma(2, 2.5) — 10th ≈ 1.3, 90th ≈ 9.7 */
    cr_assert(from > 0.8 && from < 2.0, "from %f", from);
    cr_assert(to > 8.0 && to < 11.5, "to %f", to);
    json_t *b = json_object_get(w, "basis");
    cr_assert_eq(json_integer_value(json_object_get(b, "housing_provided")),
                 12);
    cr_assert_eq(json_integer_value(json_object_get(b, "window_years")), 3);
    cr_assert(strstr(json_string_value(json_object_get(w, "note_ru")),
                     "не обещание"));
    cr_assert(strstr(json_string_value(json_object_get(w, "note_kk")),
                     "уәде емес"));
    json_decref(j);
}
