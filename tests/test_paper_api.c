/* The paper channel over HTTP (p.14, p.15): the receipt and the result
 * as PDF for the office of the authority, the centre that accepted it
 * and the citizen on the portal; the QR payload verifies with kezek
 * verify-document; the issuance journal records one hand-over. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
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
    tk_people(&env, 1, 5, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

/* GET returning raw bytes; *len and the status. */
static size_t on_body(char *d, size_t s, size_t n, void *u)
{
    FILE *f = u;
    return fwrite(d, s, n, f);
}

static long get_file(const char *path, const char *token, const char *hdr,
                     const char *out)
{
    char url[300], auth[200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s",
             env.http_port[TK_NOTIFY], path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    if (hdr)
        h = curl_slist_append(h, hdr);
    FILE *f = fopen(out, "wb");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    fclose(f);
    return st;
}

static bool text_has(const char *pdf, const char *needle)
{
    char cmd[1000];
    snprintf(cmd, sizeof(cmd), "pdftotext -layout %s - | grep -qF '%s'",
             pdf, needle);
    return system(cmd) == 0;
}

Test(paper, receipt_notice_qr_and_journal, .init = setup, .fini = teardown,
     .timeout = 90)
{
    char iin[13], id[40], path[200], pdf[400], other[128];
    long st;
    tk_iin(1, iin);
    cr_assert(tk_submit(&env, iin, "paper-1", id, &st));
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice"
                             " WHERE kind = 'registration_notice'", 1,
                             20000));
    snprintf(pdf, sizeof(pdf), "%s/receipt.pdf", env.dir);
    snprintf(path, sizeof(path), "/v1/applications/%s/receipt.pdf", id);
    /* p.14: the receipt is signed when first printed, not before */
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM notice"
                              " WHERE kind = 'receipt'"), 0);
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    cr_assert(text_has(pdf, "2026-a-01-02-") || text_has(pdf, "a-01-02"),
              "p.14: the request number is printed");
    char sig1[200];
    PGresult *r = PQexec(c, "SELECT signature FROM notice"
                            " WHERE kind = 'receipt'");
    cr_assert_eq(PQntuples(r), 1);
    snprintf(sig1, sizeof(sig1), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* printed again: the same signed receipt, not a second one */
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    r = PQexec(c, "SELECT signature FROM notice WHERE kind = 'receipt'");
    cr_assert_eq(PQntuples(r), 1);
    cr_assert_str_eq(PQgetvalue(r, 0, 0), sig1);
    PQclear(r);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM notice n JOIN"
                              " application a ON a.id = n.application_id"
                              " WHERE n.kind = 'receipt' AND"
                              " n.canonical::jsonb -> 'receipt' = a.receipt"),
                 1, "p.14: the signed receipt is the one given at acceptance");
    char cmd[2400];
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek verify-document %s >/dev/null"
             " 2>&1", getenv("KEZEK_BIN_DIR"), pdf);
    cr_assert_eq(system(cmd), 0, "the printed receipt verifies");
    /* another authority's office may not print it */
    tk_token(&env, "office:a-01-03", other);
    cr_assert_eq(get_file(path, other, NULL, pdf), 403);
    /* the portal only for the citizen it asserts */
    cr_assert_eq(get_file(path, env.portal, "X-Citizen-IIN: 791028302728",
                          pdf), 403);

    snprintf(pdf, sizeof(pdf), "%s/notice.pdf", env.dir);
    snprintf(path, sizeof(path), "/v1/applications/%s/notice.pdf", id);
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    /* issue 24: the receipt of place in the public log is printed */
    cr_assert(text_has(pdf, "a-01-02 · жапырақ / лист 0 · ағаш / дерево 1 ·"),
              "the notice's receipt of place");

    /* the QR payload of the printed notice verifies offline */
    r = PQexec(c, "SELECT id, key_id, signature FROM notice"
                  " WHERE kind = 'registration_notice'");
    char qr[400], file[300];
    snprintf(qr, sizeof(qr), "KEZEK1|%s|%s|%s", PQgetvalue(r, 0, 0),
             PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
    PQclear(r);
    snprintf(file, sizeof(file), "%s/qr.txt", env.dir);
    FILE *f = fopen(file, "w");
    fputs(qr, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s/kezek verify-document %s >/dev/null 2>&1",
             getenv("KEZEK_BIN_DIR"), file);
    cr_assert_eq(system(cmd), 0, "the QR payload verifies");
    /* the decoded QR of the PDF is that payload */
    snprintf(cmd, sizeof(cmd), "pdftoppm -r 150 -png -singlefile %s %s/n"
             " && zbarimg --raw -q %s/n.png > %s/decoded.txt", pdf, env.dir,
             env.dir, env.dir);
    cr_assert_eq(system(cmd), 0, "the QR code decodes");
    snprintf(cmd, sizeof(cmd), "grep -qxF '%s' %s/decoded.txt", qr, env.dir);
    cr_assert_eq(system(cmd), 0, "the printed QR carries the signature");
    /* and kezek verify-document reads the PDF itself */
    snprintf(cmd, sizeof(cmd), "%s/kezek verify-document %s >/dev/null"
             " 2>&1", getenv("KEZEK_BIN_DIR"), pdf);
    cr_assert_eq(system(cmd), 0, "the printed PDF verifies");

    /* p.15: the hand-over, once */
    snprintf(path, sizeof(path), "/v1/applications/%s/issuance", id);
    json_t *j = tk_http("POST", env.http_port[TK_NOTIFY], path, env.office,
                        NULL, "{\"received_by\":\"representative\","
                        "\"name\":\"Testov T.\"}", &st);
    cr_assert_eq(st, 400, "a representative needs a power of attorney");
    json_decref(j);
    const char *ok = "{\"received_by\":\"applicant\",\"name\":\"Testov T.\"}";
    j = tk_http("POST", env.http_port[TK_NOTIFY], path, env.office, NULL, ok,
                &st);
    cr_assert_eq(st, 201);
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_NOTIFY], path, env.office, NULL, ok,
                &st);
    cr_assert_eq(st, 409, "a result is handed over once");
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_NOTIFY], path, other, NULL, ok,
                &st);
    cr_assert_eq(st, 403);
    json_decref(j);
    /* the journal of the day, as CSV */
    char today[16];
    snprintf(today, sizeof(today), "%ld",
             tk_scalar(c, "SELECT to_char(now() AT TIME ZONE 'UTC'"
                          " + interval '5 hours', 'YYYYMMDD')::int"));
    snprintf(path, sizeof(path), "/v1/journal/a-01-02/%.4s-%.2s-%.2s.csv",
             today, today + 4, today + 6);
    snprintf(pdf, sizeof(pdf), "%s/journal.csv", env.dir);
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    snprintf(cmd, sizeof(cmd), "grep -c '\"%s\"' %s | grep -qx 1", id, pdf);
    cr_assert_eq(system(cmd), 0, "one journal line for the hand-over");
    cr_assert_eq(get_file(path, other, NULL, pdf), 403);
    PQfinish(c);
}

/* p.14: the representative's phone on the receipt and its print; the
 * application form of appendix 3 (p.11 item 1), blank for anyone and
 * filled from an application for who may print its receipt, in Kazakh
 * and Russian. */
Test(paper, p14_representative_phone_and_appendix3_form, .init = setup,
     .fini = teardown, .timeout = 90)
{
    char iin[13], rep[13], id[40], path[200], pdf[400];
    long st;
    tk_iin(1, iin);
    tk_iin(2, rep);
    char *body = tk_application(iin);
    json_t *a = json_loads(body, 0, NULL);
    free(body);
    json_object_set_new(a, "representative", json_pack(
        "{s:s, s:s, s:s, s:s, s:s}", "iin", rep, "surname", "Өкілов",
        "given_name", "Берік", "power_of_attorney", "№ 17 от 01.12.2026",
        "phone", "+77059876543"));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    json_t *r = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Idempotency-Key: p14-rep", s, &st);
    free(s);
    cr_assert_eq(st, 202, "%ld", st);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(
        r, "application_id")));
    json_t *receipt = json_object_get(r, "receipt");
    cr_assert_str_eq(json_string_value(json_object_get(receipt,
                         "representative_phone")), "+77059876543");
    json_t *phones = json_object_get(receipt, "phones");
    cr_assert_eq(json_array_size(phones), 2, "the applicant's and the "
                 "representative's");
    cr_assert_str_eq(json_string_value(json_array_get(phones, 1)),
                     "+77059876543");
    json_decref(r);
    /* printable once notify has taken the acceptance */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM paper_access", 1,
                             20000));

    snprintf(pdf, sizeof(pdf), "%s/receipt.pdf", env.dir);
    snprintf(path, sizeof(path), "/v1/applications/%s/receipt.pdf", id);
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    cr_assert(text_has(pdf, "Өкілов Берік, +77059876543"),
              "the representative with the phone on the printed receipt");

    /* appendix 3, filled: the applicant, the request, the documents */
    snprintf(pdf, sizeof(pdf), "%s/form.pdf", env.dir);
    snprintf(path, sizeof(path), "/v1/applications/%s/application-form.pdf",
             id);
    cr_assert_eq(get_file(path, env.office, NULL, pdf), 200);
    cr_assert(text_has(pdf, "Өтініш"));
    cr_assert(text_has(pdf, "Заявление"));
    cr_assert(text_has(pdf, "Testov Test"));
    cr_assert(text_has(pdf, "есепке қоюды сұраймын"));
    cr_assert(text_has(pdf, "Прошу поставить меня на учёт"));
    cr_assert(text_has(pdf, "Приложение 3"));
    cr_assert(text_has(pdf, "Өкілов Берік"));
    char other[128];
    tk_token(&env, "office:a-01-03", other);
    snprintf(pdf, sizeof(pdf), "%s/form-refused.json", env.dir);
    cr_assert_eq(get_file(path, other, NULL, pdf), 403);

    /* blank: no token, lines to write on */
    snprintf(pdf, sizeof(pdf), "%s/blank.pdf", env.dir);
    char url[200], cmd[700];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/forms/"
             "application-form.pdf", env.http_port[TK_NOTIFY]);
    snprintf(cmd, sizeof(cmd), "curl -fs -o %s '%s'", pdf, url);
    cr_assert_eq(system(cmd), 0);
    cr_assert(text_has(pdf, "тегі, аты, әкесінің аты"));
    cr_assert(text_has(pdf, "проживающего по адресу"));
    cr_assert(text_has(pdf, "_______________"));
    cr_assert_not(text_has(pdf, "Testov"));
}
