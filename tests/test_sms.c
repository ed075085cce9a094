/* SMS (issue 23; p.15: the result reaches the citizen): each result
 * notice goes as a short SMS through a real Kannel (bearerbox, smsbox)
 * to its fake SMSC, in the applicant's language — both when unknown —
 * with the essentials; Kannel's delivery report makes it delivered; a
 * number that is not a Kazakh mobile gets none; kill -9 of notify
 * mid-delivery never sends one notice twice to a phone; the lengths are
 * counted as a phone counts them (3GPP TS 23.038). */
#include "sms.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static tk_env_t env;

static void setup(void)
{
    tk_env_init(&env);
    tk_kannel_start(&env);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 40, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
}

/* Submits person n's application with phone and language (NULL: none);
 * the id to id (40 bytes). */
static void submit(int n, const char *phone, const char *lang, char *id)
{
    char iin[13], key[32];
    tk_iin(n, iin);
    char *body = tk_application(iin);
    json_t *a = json_loads(body, 0, NULL);
    free(body);
    json_t *ap = json_object_get(a, "applicant");
    json_object_set_new(ap, "phone", json_string(phone));
    if (lang)
        json_object_set_new(ap, "language", json_string(lang));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    snprintf(key, sizeof(key), "Idempotency-Key: sms-%d", n);
    long st;
    json_t *r = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, key, s, &st);
    free(s);
    cr_assert_eq(st, 202, "submit %d: %ld", n, st);
    snprintf(id, 40, "%s", json_string_value(json_object_get(
        r, "application_id")));
    json_decref(r);
}

/* The messages received for phone (international, no plus). */
static json_t *to_phone(const char *phone)
{
    json_t *all = tk_sms_received(&env), *mine = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(all, i, m)
        if (strcmp(json_string_value(json_object_get(m, "to")), phone) == 0)
            json_array_append(mine, m);
    json_decref(all);
    return mine;
}

static json_t *wait_sms(const char *phone, size_t n)
{
    for (int i = 0; i < 400; i++) {
        json_t *m = to_phone(phone);
        if (json_array_size(m) >= n)
            return m;
        json_decref(m);
        usleep(50000);
    }
    cr_assert_fail("no SMS to %s", phone);
    return NULL;
}

/* p.5, p.15: a registration's SMS in Russian (the applicant's choice)
 * with the list, the number and the position; Kannel's report makes it
 * delivered. Without a language: Kazakh and Russian in one SMS. */
Test(sms, registration_in_the_chosen_language_then_delivered,
     .init = setup, .fini = teardown, .timeout = 120)
{
    char id[40], id2[40];
    submit(1, "+77011234501", "ru", id);
    json_t *m = wait_sms("77011234501", 1);
    json_t *sms = json_array_get(m, 0);
    const char *text = json_string_value(json_object_get(sms, "text"));
    cr_assert(strstr(text, "вы поставлены в очередь"), "%s", text);
    cr_assert(strstr(text, "№ 1") && strstr(text, "место 1"), "%s", text);
    cr_assert(strstr(text, "список: ВОВ"), "%s", text);
    cr_assert_null(strstr(text, "алындыңыз"), "Russian only: %s", text);
    cr_assert_str_eq(json_string_value(json_object_get(sms, "coding")),
                     "ucs2");
    cr_assert_str_eq(json_string_value(json_object_get(sms, "from")),
                     "Kezek");
    json_decref(m);
    char sql[300];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'sms' AND d.state = 'delivered'"
             " AND d.segments = 2 AND d.coding = 'ucs2'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000),
              "Kannel's delivery report: delivered");

    submit(2, "+77021234502", NULL, id2);
    m = wait_sms("77021234502", 1);
    text = json_string_value(json_object_get(json_array_get(m, 0), "text"));
    cr_assert(strstr(text, "алындыңыз") && strstr(text, "поставлены"),
              "both languages: %s", text);
    cr_assert_gt(json_integer_value(json_object_get(json_array_get(m, 0),
                                                    "segments")), 2);
    json_decref(m);
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM dead_letter"), 0);
    PQfinish(c);
}

/* A phone that is not a Kazakh mobile gets no SMS (the delivery fails
 * with the reason); the cabinet has the notice all the same (p.15). */
Test(sms, landline_gets_none, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char id[40], sql[300];
    submit(3, "+77172123456", "kk", id);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'sms' AND d.state = 'failed'"
             " AND d.last_error LIKE 'not a mobile number%%'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000));
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'cabinet'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 5000));
    json_t *m = tk_sms_received(&env);
    cr_assert_eq(json_array_size(m), 0);
    json_decref(m);
}

/* The delivery report's URL is Kannel's alone: a report with a wrong
 * token is refused and changes nothing; a failure report (16: the SMSC
 * rejected it) ends the delivery failed. */
Test(sms, delivery_reports_are_authenticated, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char id[40], sql[300], path[400];
    submit(4, "+77051234504", "kk", id);
    wait_sms("77051234504", 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'sms' AND d.state = 'delivered'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000));
    PGconn *c = tk_db(&env);
    snprintf(sql, sizeof(sql), "UPDATE notice_delivery SET state = 'sent'"
             " WHERE channel = 'sms' AND notice_id LIKE '%s-%%'", id);
    PQclear(PQexec(c, sql));
    long st;
    snprintf(path, sizeof(path), "/v1/sms/dlr?notice=%s-registration_notice"
             "&token=%064d&status=1", id, 0);
    json_decref(tk_http("GET", env.http_port[TK_NOTIFY], path, NULL, NULL,
                        NULL, &st));
    cr_assert_eq(st, 403);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery"
             " WHERE channel = 'sms' AND notice_id = '%s-registration_notice'"
             " AND state = 'sent'", id);
    cr_assert_eq(tk_scalar(c, sql), 1, "unchanged");
    PQfinish(c);
}

/* kill -9 of notify while Kannel holds its request (smsbox stopped):
 * the delivery is in doubt and is not sent again by itself; each phone
 * gets at most one SMS of its notice; kezek sms resend sends it. */
Test(sms, kill_9_mid_delivery_at_most_one_per_phone, .init = setup,
     .fini = teardown, .timeout = 180)
{
    char id[40], sql[300];
    tk_kannel_signal(&env, "smsbox", SIGSTOP);
    submit(5, "+77071234505", "ru", id);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'sms' AND d.state = 'sending'", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000), "claimed, in flight");
    tk_signal(&env, TK_NOTIFY, SIGKILL);
    tk_kannel_signal(&env, "smsbox", SIGCONT);
    tk_start(&env, TK_NOTIFY);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery d"
             " JOIN notice n ON n.id = d.notice_id WHERE n.application_id ="
             " '%s' AND d.channel = 'sms' AND d.state IN ('in_doubt',"
             " 'sent', 'delivered')", id);
    cr_assert(tk_wait_scalar(&env, sql, 1, 20000));
    sleep(2);
    json_t *m = to_phone("77071234505");
    size_t before = json_array_size(m);
    json_decref(m);
    cr_assert_leq(before, 1, "never twice");

    /* more of them, notify killed between: never two to one phone */
    for (int n = 10; n < 20; n++) {
        char phone[20];
        snprintf(phone, sizeof(phone), "+770112345%02d", n);
        submit(n, phone, "kk", id);
        if (n % 3 == 0) {
            tk_signal(&env, TK_NOTIFY, SIGKILL);
            tk_start(&env, TK_NOTIFY);
        }
    }
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'sms' AND state IN"
                             " ('sent', 'delivered', 'in_doubt')", 11,
                             30000));
    sleep(2);
    PGconn *c = tk_db(&env);
    long left = tk_scalar(c, "SELECT count(*) FROM notice_delivery WHERE"
                             " channel = 'sms' AND state IN ('sent',"
                             " 'delivered')");
    long doubt = tk_scalar(c, "SELECT count(*) FROM notice_delivery WHERE"
                              " channel = 'sms' AND state = 'in_doubt'");
    json_t *all = tk_sms_received(&env);
    long got = (long)json_array_size(all);
    cr_assert(got >= left && got <= left + doubt, "%ld SMS, %ld recorded, "
              "%ld in doubt", got, left, doubt);
    for (size_t i = 0; i < json_array_size(all); i++)
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(json_string_value(json_object_get(
                                  json_array_get(all, i), "to")),
                              json_string_value(json_object_get(
                                  json_array_get(all, k), "to")),
                              "two SMS to one phone");
    json_decref(all);

    /* an operator requeues the first one: it leaves (once more) */
    PGresult *r = PQexec(c, "SELECT d.notice_id FROM notice_delivery d"
                            " WHERE d.channel = 'sms' AND d.state ="
                            " 'in_doubt' ORDER BY 1 LIMIT 1");
    if (PQntuples(r) == 1) {
        char cmd[600];
        setenv("KEZEK_PG", env.svc_conninfo, 1);
        snprintf(cmd, sizeof(cmd), "%s/kezek sms resend %s >/dev/null",
                 getenv("KEZEK_BIN_DIR"), PQgetvalue(r, 0, 0));
        cr_assert_eq(system(cmd), 0);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery"
                 " WHERE notice_id = '%s' AND channel = 'sms' AND state IN"
                 " ('sent', 'delivered')", PQgetvalue(r, 0, 0));
        cr_assert(tk_wait_scalar(&env, sql, 1, 20000));
    }
    PQclear(r);
    PQfinish(c);
}

/* 3GPP TS 23.038: GSM 7-bit up to 160 septets in one SMS, 153 a part;
 * an extension character (€, [, {) counts two; anything else — every
 * Kazakh letter — makes it UCS-2: 70 in one, 67 a part. Kazakh mobile
 * numbers only (+7 7XX), in their usual spellings. */
Test(sms, lengths_and_numbers)
{
    struct sms_length l;
    char s[400], phone[12];
    memset(s, 'a', 160);
    s[160] = '\0';
    cr_assert(sms_measure(s, &l));
    cr_assert(l.coding == SMS_GSM7 && l.units == 160 && l.segments == 1);
    strcat(s, "a");
    cr_assert(sms_measure(s, &l) && l.segments == 2);
    memset(s, 'a', 159);
    strcpy(s + 159, "€");
    cr_assert(sms_measure(s, &l) && l.units == 161 && l.segments == 2);
    s[0] = '\0';
    for (int i = 0; i < 70; i++)
        strcat(s, "қ");
    cr_assert(sms_measure(s, &l));
    cr_assert(l.coding == SMS_UCS2 && l.units == 70 && l.segments == 1);
    strcat(s, "a");
    cr_assert(sms_measure(s, &l) && l.segments == 2);
    cr_assert_not(sms_measure("\xff", &l), "not UTF-8");

    cr_assert(sms_phone_kz("+77011234567", phone));
    cr_assert_str_eq(phone, "77011234567");
    cr_assert(sms_phone_kz("8 (747) 123-45-67", phone));
    cr_assert_str_eq(phone, "77471234567");
    cr_assert_not(sms_phone_kz("+77172123456", phone), "Astana landline");
    cr_assert_not(sms_phone_kz("+79161234567", phone), "Russian mobile");
    cr_assert_not(sms_phone_kz("+7701123456", phone), "too short");
    cr_assert_not(sms_phone_kz("+7701123456a", phone));

    char t[] = "  a\nb\t\tc  ";
    sms_flatten(t);
    cr_assert_str_eq(t, "a b c");
}
