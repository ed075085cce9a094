/* The API the console reads (issue 19): who is signed in, an office's
 * and a centre's applications with search and keyset pages (p.13,
 * p.17), a queue list in position order with its CSV (p.5), an appeal
 * instance's inbox and answers (p.20–p.22, appendix 5), a supervisor
 * who reads its region and writes nothing, and the console's own files
 * as intake serves them. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 8, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

static const char *err_code(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"),
                                             "code"));
}

/* Submits serial n's application under surname as principal token
 * (an office of a-01-02 or a centre); the application id into id. */
static void submit(const char *token, int n, const char *surname, char *id)
{
    char iin[13], body[700], key[32];
    long st;
    tk_iin(n, iin);
    snprintf(body, sizeof(body),
             "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"%s\","
             "\"given_name\":\"Test\",\"phone\":\"+77010000000\"},"
             "\"settlement_id\":\"s-01-02\",%s"
             "\"fund\":\"communal\",\"category\":\"wwii\","
             "\"need_grounds\":[1],\"documents\":[{\"code\":"
             "\"application_form\",\"pages\":1}]}", iin, surname,
             strcmp(token, env.office) == 0 ? "\"authority_id\":\"a-01-02\","
                                            : "");
    snprintf(key, sizeof(key), "console-%d", n);
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications", token,
                hdr, body, &st);
    cr_assert_eq(st, 202, "submitted %d: %ld", n, st);
    strcpy(id, json_string_value(json_object_get(j, "application_id")));
    json_decref(j);
}

/* GET path on intake as token; the "items" array's surnames in
 * order, joined by ',' into out; returns the reply. */
static json_t *list(const char *token, const char *path, char *out,
                    size_t len, long *st)
{
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE], path, token, NULL,
                        NULL, st);
    out[0] = '\0';
    json_t *a = json_object_get(j, "items");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_object_get(
            json_object_get(json_array_get(a, i), "applicant"), "surname"));
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
                 s ? s : "?");
    }
    return j;
}

/* p.13, p.17: an office lists its own authority's applications, newest
 * first, in keyset pages; q finds a surname by its beginning whatever
 * the case and whichever of the kk/ru look-alike letters was typed, or
 * an IIN exactly; another office sees none of them; every person listed
 * is an audited read. */
Test(lists, an_offices_applications_paged_and_searched, .init = setup,
     .fini = teardown, .timeout = 90)
{
    static const char *const names[5] = {"Әхметов", "Ахметова", "Ёлкин",
                                         "Елкина", "Петров"};
    char id[5][40], got[400];
    for (int i = 0; i < 5; i++)
        submit(env.office, i + 1, names[i], id[i]);
    long st;
    json_t *j = list(env.office, "/v1/applications?limit=2", got,
                     sizeof(got), &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(got, "Петров,Елкина", "newest first");
    const char *cur = json_string_value(json_object_get(j, "next_cursor"));
    cr_assert(cur, "a next page");
    char path[200];
    snprintf(path, sizeof(path), "/v1/applications?limit=2&cursor=%s", cur);
    json_t *k = list(env.office, path, got, sizeof(got), &st);
    cr_assert_str_eq(got, "Ёлкин,Ахметова");
    snprintf(path, sizeof(path), "/v1/applications?limit=2&cursor=%s",
             json_string_value(json_object_get(k, "next_cursor")));
    json_t *l = list(env.office, path, got, sizeof(got), &st);
    cr_assert_str_eq(got, "Әхметов");
    cr_assert(json_is_null(json_object_get(l, "next_cursor")), "the end");
    json_decref(j);
    json_decref(k);
    json_decref(l);

    /* "ахм" (URL-encoded) finds Әхметов and Ахметова; "ЕЛК" Ёлкин, Елкина */
    j = list(env.office, "/v1/applications?q=%D0%B0%D1%85%D0%BC", got,
             sizeof(got), &st);
    cr_assert_str_eq(got, "Ахметова,Әхметов");
    json_decref(j);
    j = list(env.office, "/v1/applications?q=%D0%95%D0%9B%D0%9A", got,
             sizeof(got), &st);
    cr_assert_str_eq(got, "Елкина,Ёлкин");
    json_decref(j);
    char iin[13];
    tk_iin(5, iin);
    snprintf(path, sizeof(path), "/v1/applications?q=%s", iin);
    j = list(env.office, path, got, sizeof(got), &st);
    cr_assert_str_eq(got, "Петров", "an IIN exactly");
    json_decref(j);
    j = list(env.office, "/v1/applications?q=791028300000", got, sizeof(got),
             &st);
    cr_assert_eq(st, 400);
    cr_assert_str_eq(err_code(j), "invalid_iin");
    json_decref(j);
    j = list(env.office, "/v1/applications?status=lost", got, sizeof(got),
             &st);
    cr_assert_eq(st, 400);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
                         json_object_get(j, "error"), "details"), "field")),
                     "status");
    json_decref(j);

    /* another authority's office: nothing of these, and no peeking */
    char other[128];
    tk_token(&env, "office:a-01-03", other);
    j = list(other, "/v1/applications", got, sizeof(got), &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(got, "");
    json_decref(j);
    j = list(other, "/v1/applications?authority_id=a-01-02", got,
             sizeof(got), &st);
    cr_assert_eq(st, 403);
    json_decref(j);

    /* p.17: each person of the first page was recorded as read */
    char q[300];
    tk_iin(5, iin);
    snprintf(q, sizeof(q), "SELECT count(*) FROM audit_read WHERE"
             " principal = 'office:a-01-02' AND purpose ="
             " 'application_list' AND subject_iin = '%s'", iin);
    cr_assert(tk_wait_scalar(&env, q, 2, 5000),
              "Петров read twice: on the first page and found by IIN");
}

/* p.13: a centre lists what it accepted, not the office's; a
 * supervisor or an appeal instance lists no applications. */
Test(lists, a_centre_lists_its_own_submissions, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char centre[128], id[40], got[200];
    tk_token(&env, "centre:c-01-1-1", centre);
    submit(env.office, 1, "Officeva", id);
    submit(centre, 2, "Centreva", id);
    long st;
    json_t *j = list(centre, "/v1/applications", got, sizeof(got), &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(got, "Centreva");
    json_decref(j);
    j = list(env.office, "/v1/applications", got, sizeof(got), &st);
    cr_assert_str_eq(got, "Centreva,Officeva", "both are a-01-02's");
    json_decref(j);
    static const char *const others[] = {"supervisor:r-01",
                                         "appeal:ap-01-01", "portal",
                                         "head:a-01-02"};
    for (int i = 0; i < 4; i++) {
        char t[128];
        tk_token(&env, others[i], t);
        j = list(t, "/v1/applications", got, sizeof(got), &st);
        cr_assert_eq(st, 403, "%s", others[i]);
        json_decref(j);
    }
}

/* p.5: a list in position order, paged with positions that continue
 * across pages and close up after a removal; the CSV holds the same
 * rows under a byte order mark; the region's supervisor reads it and
 * cannot remove; other regions, appeal instances cannot read it. */
Test(lists, a_queue_list_in_position_order_and_its_csv, .init = setup,
     .fini = teardown, .timeout = 90)
{
    char id[3][40];
    static const char *const names[3] = {"Birinshi", "Ekinshi", "Ushinshi"};
    for (int i = 0; i < 3; i++)
        submit(env.office, i + 1, names[i], id[i]);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry",
                             3, 20000));
    int q = env.http_port[TK_QUEUE];
    long st;
    json_t *j = tk_http("GET", q, "/v1/queue/a-01-02/wwii/entries?limit=2",
                        env.office, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "total")), 3);
    json_t *e = json_object_get(j, "items");
    cr_assert_eq(json_array_size(e), 2);
    for (int i = 0; i < 2; i++) {
        json_t *x = json_array_get(e, i);
        cr_assert_eq(json_integer_value(json_object_get(x, "position")),
                     i + 1);
        cr_assert(strncmp(json_string_value(json_object_get(x, "name")),
                          names[i], strlen(names[i])) == 0);
    }
    char path[200];
    snprintf(path, sizeof(path),
             "/v1/queue/a-01-02/wwii/entries?limit=2&cursor=%s",
             json_string_value(json_object_get(j, "next_cursor")));
    json_t *k = tk_http("GET", q, path, env.office, NULL, NULL, &st);
    cr_assert_eq(json_array_size(json_object_get(k, "items")), 1);
    json_t *third = json_array_get(json_object_get(k, "items"), 0);
    cr_assert_eq(json_integer_value(json_object_get(third, "position")), 3);
    cr_assert_eq(json_integer_value(json_object_get(third, "number")), 3);
    cr_assert(json_is_null(json_object_get(k, "next_cursor")));
    json_decref(j);
    json_decref(k);

    /* the second leaves the list: the third moves up to position 2 */
    char iin[13], rpath[120];
    tk_iin(2, iin);
    snprintf(rpath, sizeof(rpath), "/v1/queue/a-01-02/wwii/entries/%s/removal",
             iin);
    char sup[128];
    tk_token(&env, "supervisor:r-01", sup);
    static const char *const removal =
        "{\"reason\":\"own_request\",\"date\":\"2026-12-01\"}";
    j = tk_http("POST", q, rpath, sup, NULL, removal, &st);
    cr_assert_eq(st, 403, "a supervisor writes nothing");
    json_decref(j);
    j = tk_http("POST", q, rpath, env.office, NULL, removal, &st);
    cr_assert_eq(st, 200, "removed: %ld", st);
    json_decref(j);
    j = tk_http("GET", q, "/v1/queue/a-01-02/wwii/entries", sup, NULL, NULL,
                &st);
    cr_assert_eq(st, 200, "the region's supervisor reads it");
    e = json_object_get(j, "items");
    cr_assert_eq(json_array_size(e), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(e, 1),
                                                    "number")), 3);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(e, 1),
                                                    "position")), 2);
    json_decref(j);

    char *csv = tk_http_text("GET", q,
                             "/v1/queue/a-01-02/wwii/entries.csv?lang=ru",
                             sup, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert(strncmp(csv, "\xEF\xBB\xBF" "Номер в очереди;Позиция;", 3 + 39)
                  == 0, "BOM and the Russian header: %.60s", csv);
    cr_assert(strstr(csv, "\r\n1;1;"), "number 1 at position 1");
    cr_assert(strstr(csv, "\r\n3;2;"), "number 3 at position 2");
    cr_assert(strstr(csv, ";Ushinshi Test;wwii\r\n"));
    cr_assert_null(strstr(csv, "Ekinshi"), "the removed one is not listed");
    free(csv);

    static const char *const refused[] = {"supervisor:r-02",
                                          "appeal:ap-01-01",
                                          "office:a-01-03", "portal",
                                          "head:a-01-02"};
    for (int i = 0; i < 5; i++) {
        char t[128];
        tk_token(&env, refused[i], t);
        j = tk_http("GET", q, "/v1/queue/a-01-02/wwii/entries", t, NULL,
                    NULL, &st);
        cr_assert_eq(st, 403, "%s", refused[i]);
        json_decref(j);
    }
    j = tk_http("GET", q, "/v1/queue/a-01-02/wwii/entries?limit=0",
                env.office, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    json_decref(j);
}

/* p.20–p.22, appendix 5: a complaint about a-01-02 reaches the inbox of
 * the region's appeal instance (ap-01-01) with its answer term; that
 * instance takes it up and answers; another instance neither sees nor
 * answers it. */
Test(lists, an_appeal_instance_answers_its_inbox, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char iin[13], body[400], mine[128], theirs[128], id[40];
    tk_iin(1, iin);
    submit(env.office, 1, "Shagymshy", id);
    snprintf(body, sizeof(body), "{\"complainant_iin\":\"%s\","
             "\"application_id\":\"%s\",\"text\":\"Жауап кешікті.\"}", iin,
             id);
    long st;
    json_t *c = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                        env.office, "Idempotency-Key: inbox-1", body, &st);
    cr_assert_eq(st, 201);
    const char *cid = json_string_value(json_object_get(c, "complaint_id"));
    tk_token(&env, "appeal:ap-01-01", mine);
    tk_token(&env, "appeal:ap-01-02", theirs);
    int in = env.http_port[TK_INTAKE];
    json_t *j = tk_http("GET", in, "/v1/complaints", mine, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_t *row = json_array_get(json_object_get(j, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(row, "complaint_id")),
                     cid);
    cr_assert_str_eq(json_string_value(json_object_get(row, "state")),
                     "received");
    cr_assert(json_is_false(json_object_get(row, "overdue")));
    cr_assert(json_string_value(json_object_get(row, "answer_due")));
    json_decref(j);
    j = tk_http("GET", in, "/v1/complaints", theirs, NULL, NULL, &st);
    cr_assert_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);

    char path[140];
    snprintf(path, sizeof(path), "/v1/complaints/%s/answer", cid);
    static const char *const answer = "{\"text\":\"Қаралды.\"}";
    j = tk_http("POST", in, path, theirs, NULL, answer, &st);
    cr_assert_eq(st, 403, "not routed to ap-01-02");
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/complaints/%s/review", cid);
    j = tk_http("POST", in, path, mine, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/complaints/%s/answer", cid);
    j = tk_http("POST", in, path, mine, NULL, answer, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/complaints/%s", cid);
    j = tk_http("GET", in, path, mine, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")),
                     "answered");
    json_decref(j);
    j = tk_http("GET", in, "/v1/complaints?state=answered", mine, NULL, NULL,
                &st);
    cr_assert_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    char sup[128];
    tk_token(&env, "supervisor:r-01", sup);
    j = tk_http("GET", in, "/v1/complaints", sup, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    json_decref(c);
}

/* p.18, p.19 (appendix 4), p.7: a region's supervisor reads its
 * region's indicators and work lists, not another region's, and takes
 * no decision. */
Test(lists, a_supervisor_reads_its_region_only, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char sup[128];
    tk_token(&env, "supervisor:r-01", sup);
    int in = env.http_port[TK_INTAKE], el = env.http_port[TK_ELIGIBILITY];
    long st;
    json_t *j = tk_http("GET", in, "/v1/ops/indicators?from=2026-01-01&"
                        "to=2026-12-31", sup, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "scope")),
                     "region");
    cr_assert_str_eq(json_string_value(json_object_get(j, "region_id")),
                     "r-01");
    json_decref(j);
    static const struct {
        const char *path;
        long want;
    } cases[] = {
        {"/v1/ops/indicators?from=2026-01-01&to=2026-12-31&region_id=r-02",
         403},
        {"/v1/ops/indicators?from=2026-01-01&to=2026-12-31&authority_id="
         "a-01-02", 200},
        {"/v1/ops/indicators?from=2026-01-01&to=2026-12-31&authority_id="
         "a-02-01", 403},
    };
    for (int i = 0; i < 3; i++) {
        j = tk_http("GET", in, cases[i].path, sup, NULL, NULL, &st);
        cr_assert_eq(st, cases[i].want, "%s: %ld", cases[i].path, st);
        json_decref(j);
    }
    j = tk_http("GET", el, "/v1/review/a-01-02", sup, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    j = tk_http("GET", el, "/v1/review/a-02-01", sup, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    j = tk_http("POST", el, "/v1/review/0123456789abcdef0123456789abcdef/"
                "decision", sup, NULL, "{\"outcome\":\"registered\","
                "\"note\":\"x\"}", &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    /* nor does it submit */
    char *app = tk_application("791028300016");
    j = tk_http("POST", in, "/v1/applications", sup,
                "Idempotency-Key: sup-1", app, &st);
    free(app);
    cr_assert_eq(st, 403);
    json_decref(j);
    j = tk_http("GET", in, "/v1/session", sup, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "kind")),
                     "supervisor");
    cr_assert_str_eq(json_string_value(json_object_get(j, "region_id")),
                     "r-01");
    json_decref(j);
    /* its region's lists' sizes, not the pipeline's internals */
    char id[40];
    submit(env.office, 1, "Sanaly", id);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 1,
                             20000));
    j = tk_http("GET", in, "/v1/ops/pipeline", sup, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert(json_is_null(json_object_get(j, "consumers")));
    json_t *l = json_object_get(j, "lists");
    cr_assert_eq(json_array_size(l), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 0),
                                                       "authority_id")),
                     "a-01-02");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(l, 0),
                                                    "active")), 1);
    json_decref(j);
    char ops[128];
    tk_token(&env, "ops", ops);
    j = tk_http("GET", in, "/v1/ops/pipeline", ops, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_t *cons = json_object_get(j, "consumers");
    cr_assert_geq(json_array_size(cons), 3, "each consumer's offset");
    for (size_t i = 0; i < json_array_size(cons); i++)
        cr_assert(json_is_integer(json_object_get(json_array_get(cons, i),
                                                  "lag")));
    json_decref(j);
    j = tk_http("GET", in, "/v1/ops/pipeline", env.office, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    j = tk_http("GET", in, "/v1/session", "kz_0_wrong", NULL, NULL, &st);
    cr_assert_eq(st, 401);
    json_decref(j);
}

/* The console's files: served from web_dir, nothing outside it (no
 * "..", no hidden file, no symbolic link), no unknown type. */
static void setup_web(void)
{
    tk_env_init(&env);
    char dir[320], f[400];
    snprintf(dir, sizeof(dir), "%s/web", env.dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(f, sizeof(f), "%s/js", dir);
    cr_assert_eq(mkdir(f, 0755), 0);
    static const char *const files[][2] = {
        {"index.html", "<!doctype html><title>Kezek</title>"},
        {"js/main.js", "export const x = 1;"},
        {".secret.js", "hidden"},
        {"notes.exe", "MZ"},
    };
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "%s/%s", dir, files[i][0]);
        FILE *o = fopen(f, "w");
        cr_assert(o);
        fputs(files[i][1], o);
        fclose(o);
    }
    snprintf(f, sizeof(f), "%s/passwd.js", dir);
    cr_assert_eq(symlink("/etc/passwd", f), 0);
    setenv("KEZEK_WEB_DIR", dir, 1);
    tk_start(&env, TK_INTAKE);
    unsetenv("KEZEK_WEB_DIR");
}

Test(console, files_are_served_from_web_dir_only, .init = setup_web,
     .fini = teardown, .timeout = 30)
{
    int in = env.http_port[TK_INTAKE];
    long st;
    char *s = tk_http_text("GET", in, "/console/", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert(strstr(s, "<title>Kezek</title>"));
    free(s);
    s = tk_http_text("GET", in, "/console", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 301);
    free(s);
    s = tk_http_text("GET", in, "/console/js/main.js", NULL, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(s, "export const x = 1;");
    free(s);
    static const struct {
        const char *path;
        long want;
    } bad[] = {
        {"/console/../CMakeLists.txt", 404}, /* not under /console/ */
        {"/console/js/../index.html", 400},
        {"/console/.secret.js", 400},
        {"/console/passwd.js", 404},
        {"/console/notes.exe", 404},
        {"/console/js/", 400},
        {"/console/none.js", 404},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = tk_http_text("GET", in, bad[i].path, NULL, NULL, NULL, &st);
        cr_assert(st == bad[i].want || (bad[i].want == 404 && st == 400),
                  "%s: %ld", bad[i].path, st);
        cr_assert(!s || !strstr(s, "root:"), "%s leaked a file",
                  bad[i].path);
        free(s);
    }
}
