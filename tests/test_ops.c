/* Operations: the p.7 work list and manual decisions, the appendix 4
 * indicators on a crafted dataset, feedback once, complaints and their
 * tickets (p.20–25), the audit of personal reads (p.17), and the
 * Prometheus configuration and every service's live /metrics checked
 * by promtool. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tk_env_t env;
static char ops[128];

static void setup(void)
{
    tk_env_init(&env);
    setenv("KEZEK_REVIEW_SWEEP_SECONDS", "1", 1);
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_token(&env, "ops", ops);
    tk_people(&env, 1, 10, "s-01-02");
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

/* Appendix 4 on a crafted dataset: 4 applications of a-01-02 in 2026,
 * 3 delivered within the term, 1 late (their results' notices); 1 portal
 * and 1 office one whose status the citizen looked up on the portal
 * (3.2: 2 of 4); feedback 5, 4, 2. */
Test(ops, indicators_on_a_crafted_dataset, .init = setup, .fini = teardown,
     .timeout = 60)
{
    PGconn *c = tk_db(&env);
    static const char *const rows[4][4] = {
        /* id, channel, delivered, internal_due */
        {"i1", "office", "2026-03-02 10:00+05", "2026-03-31"},
        {"i2", "office", "2026-03-05 10:00+05", "2026-03-31"},
        {"i3", "portal", "2026-03-06 10:00+05", "2026-03-31"},
        {"i4", "office", "2026-04-05 10:00+05", "2026-03-31"},
    };
    for (int i = 0; i < 4; i++) {
        char sql[1400], iin[13];
        tk_iin(i + 1, iin);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO application (id, receipt_number, authority_id,"
                 " settlement_id, channel, principal, category,"
                 " applicant_iin, accepted_at, result_due, internal_due,"
                 " body, receipt) VALUES ('%s', 'R%s',"
                 " 'a-01-02', 's-01-02', '%s', 'x', 'wwii', '%s',"
                 " '2026-03-01 10:00+05', '%s', '%s', '{}', '{}');"
                 " INSERT INTO application_status (application_id, status)"
                 " VALUES ('%s', 'registered'); INSERT INTO notice (id,"
                 " application_id, applicant_iin, kind, issued_at,"
                 " canonical, signature,"
                 " key_id) VALUES ('%s-registration_notice', '%s', '%s',"
                 " 'registration_notice', '%s', '{}', 'x', 'k')",
                 rows[i][0], rows[i][0], rows[i][1], iin, rows[i][3],
                 rows[i][3], rows[i][0], rows[i][0], rows[i][0], iin,
                 rows[i][2]);
        cr_assert_eq(PQresultStatus(PQexec(c, sql)), PGRES_COMMAND_OK, "%s",
                     PQerrorMessage(c));
    }
    /* delivered is the result's notice (p.15): i4's acceptance report,
     * in the term, does not make it served in the term */
    cr_assert_eq(PQresultStatus(PQexec(c,
        "INSERT INTO notice (id, application_id, applicant_iin, kind,"
        " issued_at, canonical, signature, key_id) VALUES"
        " ('i4-acceptance_report', 'i4', 'x', 'acceptance_report',"
        " '2026-03-01 10:00+05', '{}', 'x', 'k')")), PGRES_COMMAND_OK, "%s",
        PQerrorMessage(c));
    cr_assert_eq(PQresultStatus(PQexec(c,
        "INSERT INTO feedback (application_id, authority_id, r21, r31, r41,"
        " r51) VALUES ('i1', 'a-01-02', 5, 5, NULL, 5),"
        " ('i2', 'a-01-02', 4, 2, 5, 4), ('i3', 'a-01-02', 2, 2, 1, 5)")),
        PGRES_COMMAND_OK);
    /* i2 looked up online; an office read of i4 is not "online", and a
     * portal read of another resource not a status look-up */
    cr_assert_eq(PQresultStatus(PQexec(c,
        "INSERT INTO audit_read (at, principal, purpose, resource,"
        " subject_iin) VALUES ('2026-03-03 10:00+05', 'portal', 'x',"
        " 'application/i2', NULL), ('2026-03-03 10:00+05',"
        " 'office:a-01-02', 'x', 'application/i4', NULL),"
        " ('2026-03-03 10:00+05', 'portal', 'x', 'cabinet/i4', NULL)")),
        PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    long st;
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE],
                        "/v1/ops/indicators?from=2026-01-01&to=2026-12-31"
                        "&authority_id=a-01-02", ops, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_t *ind = json_object_get(j, "indicators");
    static const struct {
        const char *name;
        double want;
    } want[] = {{"1.1", 75.0}, {"3.2", 50.0}, {"2.1", 200.0 / 3},
                {"3.1", 100.0 / 3}, {"4.1", 50.0}, {"5.1", 100.0}};
    for (int i = 0; i < 6; i++) {
        double v = json_real_value(json_object_get(json_object_get(ind,
                                   want[i].name), "value"));
        cr_assert_float_eq(v, want[i].want, 0.01, "indicator %s = %f",
                           want[i].name, v);
    }
    cr_assert_float_eq(json_number_value(json_object_get(json_object_get(ind,
                       "1.1"), "normative")), 100.0, 0.001,
                       "the operator's normative value (kezek indicators)");
    json_decref(j);
    j = tk_http("GET", env.http_port[TK_INTAKE], "/v1/ops/indicators?"
                "from=2026-01-01&to=2026-12-31", env.office, NULL, NULL,
                &st);
    cr_assert_eq(st, 403, "indicators are for operators");
    json_decref(j);
    PQfinish(c);
}

Test(ops, feedback_once_and_audit_of_reads, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char iin[13], id[40], path[160];
    long st;
    tk_iin(1, iin);
    cr_assert(tk_submit(&env, iin, "fb-1", id, &st));
    snprintf(path, sizeof(path), "/v1/applications/%s/feedback", id);
    const char *body = "{\"ratings\":{\"2.1\":5,\"3.1\":4,\"5.1\":5}}";
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], path, env.office,
                        NULL, body, &st);
    cr_assert_eq(st, 201);
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_INTAKE], path, env.office, NULL,
                body, &st);
    cr_assert_eq(st, 409, "once per application");
    json_decref(j);
    j = tk_http("POST", env.http_port[TK_INTAKE], path, env.office, NULL,
                "{\"ratings\":{\"2.1\":6,\"3.1\":4,\"5.1\":5}}", &st);
    cr_assert_eq(st, 400);
    json_decref(j);
    /* p.17: the read is recorded with principal and purpose */
    snprintf(path, sizeof(path), "/v1/applications/%s", id);
    j = tk_http("GET", env.http_port[TK_INTAKE], path, env.office,
                "X-Purpose: consultation", NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    char q[300];
    snprintf(q, sizeof(q), "SELECT count(*) FROM audit_read WHERE"
             " subject_iin = '%s' AND principal = 'office:a-01-02' AND"
             " purpose = 'consultation' AND resource = 'application/%s'",
             iin, id);
    cr_assert(tk_wait_scalar(&env, q, 1, 5000));
    /* the cabinet and the queue position are personal reads too */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM queue_entry", 1,
                             10000));
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s", iin);
    snprintf(path, sizeof(path), "/v1/cabinet/%s/messages", iin);
    j = tk_http("GET", env.http_port[TK_NOTIFY], path, env.portal, hdr,
                NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/queue/a-01-02/wwii/entries/%s", iin);
    j = tk_http("GET", env.http_port[TK_QUEUE], path, env.office, NULL,
                NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(j);
    snprintf(q, sizeof(q), "SELECT count(DISTINCT resource) FROM audit_read"
             " WHERE subject_iin = '%s' AND resource IN ('cabinet',"
             " 'queue_entry')", iin);
    cr_assert(tk_wait_scalar(&env, q, 2, 5000), "cabinet and queue reads");
    snprintf(path, sizeof(path), "/v1/ops/audit?iin=%s", iin);
    j = tk_http("GET", env.http_port[TK_INTAKE], path, ops, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_geq(json_array_size(json_object_get(j, "reads")), 1);
    json_decref(j);
}

/* p.25: every field of the ticket; routing by region (appendix 5). */
Test(ops, complaints_ticket_routing_and_answer, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char iin[13], id[40], body[600], other[128];
    long st;
    tk_iin(2, iin);
    cr_assert(tk_submit(&env, iin, "c-1", id, &st));
    snprintf(body, sizeof(body),
             "{\"complainant_iin\":\"%s\",\"application_id\":\"%s\","
             "\"text\":\"Қызметкер сыпайы болмады.\","
             "\"about_employee\":\"Operator 3\","
             "\"attachments\":[{\"name\":\"скриншот.png\"}]}", iin, id);
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                        env.office, "Idempotency-Key: cmp-1", body, &st);
    cr_assert_eq(st, 201);
    /* a client retry is the same complaint, not a second one */
    json_t *again = tk_http("POST", env.http_port[TK_INTAKE],
                            "/v1/complaints", env.office,
                            "Idempotency-Key: cmp-1", body, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(json_string_value(json_object_get(again,
                                                       "complaint_id")),
                     json_string_value(json_object_get(j, "complaint_id")));
    json_decref(again);
    json_t *t = json_object_get(j, "ticket");
    static const char *const fields[] = {"number", "accepted_at",
        "documents", "documents_count", "answer_due", "answer_place",
        "accepted_by", "contact_official"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        cr_assert(json_object_get(t, fields[i]), "ticket field %s",
                  fields[i]);
    cr_assert_eq(json_integer_value(json_object_get(t, "documents_count")),
                 1);
    /* p.20: about an employee's actions, to the head of the authority */
    const char *routed = json_string_value(json_object_get(
        json_object_get(t, "routed_to"), "id"));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(t,
                         "routed_to"), "kind")), "head");
    cr_assert_str_eq(routed, "a-01-02");
    cr_assert(strstr(json_string_value(json_object_get(t, "answer_place")),
                     "басшысы / руководитель"));
    PGconn *c = tk_db(&env);
    char q[300];
    const char *cid = json_string_value(json_object_get(j, "complaint_id"));
    /* within 5 working days: never more than 7 calendar days ahead */
    snprintf(q, sizeof(q), "SELECT count(*) FROM complaint WHERE id = '%s'"
             " AND answer_due BETWEEN (now() AT TIME ZONE 'Asia/Almaty')"
             "::date + 5 AND (now() AT TIME ZONE 'Asia/Almaty')::date + 7",
             cid);
    cr_assert_eq(tk_scalar(c, q), 1, "the head's term");
    /* the head's inbox has it; the appeal instance's does not */
    char head[128], appeal[128];
    tk_token(&env, "head:a-01-02", head);
    tk_token(&env, "appeal:ap-01-01", appeal);
    json_t *in = tk_http("GET", env.http_port[TK_INTAKE], "/v1/complaints",
                         head, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    cr_assert_eq(json_array_size(json_object_get(in, "items")), 1);
    json_decref(in);
    in = tk_http("GET", env.http_port[TK_INTAKE], "/v1/complaints", appeal,
                 NULL, NULL, &st);
    cr_assert_eq(json_array_size(json_object_get(in, "items")), 0);
    json_decref(in);
    /* about the head: to the region's appeal instance */
    snprintf(body, sizeof(body),
             "{\"complainant_iin\":\"%s\",\"application_id\":\"%s\","
             "\"text\":\"Басшы жауап бермеді.\",\"about_employee\":"
             "\"the head\",\"about_head\":true}", iin, id);
    json_t *h = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                        env.office, "Idempotency-Key: cmp-head", body, &st);
    cr_assert_eq(st, 201);
    snprintf(q, sizeof(q), "SELECT count(*) FROM appeal_instance WHERE"
             " id = '%s' AND region_id = (SELECT region_id FROM authority"
             " WHERE id = 'a-01-02')", json_string_value(json_object_get(
                 json_object_get(json_object_get(h, "ticket"), "routed_to"),
                 "id")));
    cr_assert_eq(tk_scalar(c, q), 1, "routed to the region's instance");
    json_decref(h);
    /* the head takes its complaint into review; another head may not */
    char rpath[140], other_head[128];
    snprintf(rpath, sizeof(rpath), "/v1/complaints/%s/review", cid);
    tk_token(&env, "head:a-01-03", other_head);
    json_decref(tk_http("POST", env.http_port[TK_INTAKE], rpath, other_head,
                        NULL, NULL, &st));
    cr_assert_eq(st, 403);
    json_decref(tk_http("POST", env.http_port[TK_INTAKE], rpath, head, NULL,
                        NULL, &st));
    cr_assert_eq(st, 200);
    char cpath[120], apath[140];
    snprintf(cpath, sizeof(cpath), "/v1/complaints/%s", cid);
    snprintf(apath, sizeof(apath), "/v1/complaints/%s/answer", cid);
    /* another office may not read it; the complainant may */
    tk_token(&env, "office:a-05-01", other);
    json_t *g = tk_http("GET", env.http_port[TK_INTAKE], cpath, other, NULL,
                        NULL, &st);
    cr_assert_eq(st, 403);
    json_decref(g);
    g = tk_http("POST", env.http_port[TK_INTAKE], apath, ops, NULL,
                "{\"text\":\"Тексерілді, қызметкерге ескерту жасалды.\"}",
                &st);
    cr_assert_eq(st, 200);
    json_decref(g);
    g = tk_http("POST", env.http_port[TK_INTAKE], apath, ops, NULL,
                "{\"text\":\"again\"}", &st);
    cr_assert_eq(st, 409, "%s", err_code(g));
    json_decref(g);
    /* the ticket and the answer reach the complainant's cabinet */
    snprintf(q, sizeof(q), "SELECT count(*) FROM notice WHERE"
             " application_id = '%s' AND kind IN ('complaint_ticket',"
             " 'complaint_answer')", cid);
    cr_assert(tk_wait_scalar(&env, q, 2, 10000));
    /* the ticket prints (p.25), for the office that accepted it */
    char tpath[160];
    snprintf(tpath, sizeof(tpath), "/v1/complaints/%s/ticket.pdf", cid);
    json_t *pdf = tk_http("GET", env.http_port[TK_NOTIFY], tpath,
                          env.office, NULL, NULL, &st);
    cr_assert_eq(st, 200);
    json_decref(pdf);
    json_decref(j);
    /* appendix 5: each region's complaints go to that region's instance */
    static const char *const auths[] = {"a-03-01", "a-10-02", "a-15-01"};
    for (int k = 0; k < 3; k++) {
        snprintf(body, sizeof(body),
                 "{\"complainant_iin\":\"%s\",\"authority_id\":\"%s\","
                 "\"text\":\"Жауап берілмеді.\"}", iin, auths[k]);
        char hdr[96];
        snprintf(hdr, sizeof(hdr), "X-Citizen-IIN: %s\nIdempotency-Key: r%d",
                 iin, k);
        j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/complaints",
                    env.portal, hdr, body, &st);
        cr_assert_eq(st, 201, "%s", auths[k]);
        routed = json_string_value(json_object_get(json_object_get(
            json_object_get(j, "ticket"), "routed_to"), "id"));
        snprintf(q, sizeof(q), "SELECT count(*) FROM appeal_instance WHERE"
                 " id = '%s' AND region_id = (SELECT region_id FROM"
                 " authority WHERE id = '%s')", routed, auths[k]);
        cr_assert_eq(tk_scalar(c, q), 1, "%s routed to %s", auths[k],
                     routed);
        json_decref(j);
    }
    PQfinish(c);
}

/* p.7: parked applications form the office's work list by due date;
 * an employee's decision takes the same path as the rules'. */
Test(ops, work_list_and_manual_decision, .init = setup, .fini = teardown,
     .timeout = 60)
{
    char iin[13], id[40], body[900], path[160];
    long st;
    tk_iin(3, iin);
    /* group 6 needs the income test; no minimum for this year: parked */
    PGconn *c = tk_db(&env);
    PQclear(PQexec(c, "DELETE FROM subsistence_minimum WHERE year >="
                      " extract(year FROM now())::int"));
    snprintf(body, sizeof(body),
        "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"T\","
        "\"given_name\":\"T\"},\"settlement_id\":\"s-01-02\","
        "\"authority_id\":\"a-01-02\",\"fund\":\"communal\","
        "\"category\":\"vulnerable\",\"vulnerable_group\":6,"
        "\"need_grounds\":[1],\"income\":{\"monthly_family_totals_tenge\":"
        "[1,1,1,1,1,1,1,1,1,1,1,1],\"members\":1},\"documents\":["
        "{\"code\":\"application_form\"},{\"code\":"
        "\"vulnerable_status_document\"},{\"code\":\"income_certificate\"}"
        "]}", iin);
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, "Idempotency-Key: wl-1", body, &st);
    cr_assert_eq(st, 202);
    strcpy(id, json_string_value(json_object_get(j, "application_id")));
    json_decref(j);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM"
                             " parked_application", 1, 10000));
    /* a second one, due yesterday: overdue */
    PQclear(PQexec(c, "INSERT INTO parked_application (application_id,"
                      " authority_id, reason, accepted_seq, payload,"
                      " due_date) VALUES ('late', 'a-01-02', 'x', 1, 'x',"
                      " current_date - 1)"));
    j = tk_http("GET", env.http_port[TK_ELIGIBILITY], "/v1/review/a-01-02",
                env.office, NULL, NULL, &st);
    cr_assert_eq(st, 200, "work list: %ld %s", st, err_code(j));
    json_t *items = json_object_get(j, "items");
    cr_assert_eq(json_array_size(items), 2);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(items, 0), "urgency")), "overdue",
                     "ordered by due date");
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/review/%s/decision", id);
    j = tk_http("POST", env.http_port[TK_ELIGIBILITY], path, env.office,
                NULL, "{\"outcome\":\"refused\",\"reasons\":[\"p6.income\"],"
                "\"note\":\"income certificate checked by hand\"}", &st);
    cr_assert_eq(st, 200, "decision: %ld %s", st, err_code(j));
    json_decref(j);
    char q[200];
    snprintf(q, sizeof(q), "SELECT count(*) FROM application_status"
             " WHERE application_id = '%s' AND status = 'refused'", id);
    cr_assert(tk_wait_scalar(&env, q, 1, 10000), "the same event path");
    snprintf(q, sizeof(q), "SELECT count(*) FROM decision WHERE"
             " application_id = '%s' AND decided_by = 'office:a-01-02'",
             id);
    cr_assert_eq(tk_scalar(c, q), 1, "the decision names who took it");
    PQfinish(c);
}

Test(ops, prometheus_config_rules_and_live_metrics, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char cmd[800];
    const char *src = getenv("KEZEK_SOURCE_DIR");
    snprintf(cmd, sizeof(cmd), "promtool check config %s/deploy/prometheus/"
             "prometheus.yml >/dev/null", src);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "promtool check rules %s/deploy/prometheus/"
             "rules.yml %s/deploy/prometheus/alerts.yml >/dev/null", src,
             src);
    cr_assert_eq(system(cmd), 0);
    for (int i = 0; i < TK_NSVC; i++) {
        snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/metrics |"
                 " promtool check metrics", env.http_port[i]);
        cr_assert_eq(system(cmd), 0, "%s /metrics", tk_svc_names[i]);
    }
}

/* Appendix 4, p.19: the normative and target values are the operator's
 * settings of the year (kezek indicators set), not the appendix's
 * (empty); the gauges cover the country, each of the 16 regions and
 * each of the 190 authorities — a bounded set, each present from the
 * start. */
Test(ops, indicator_settings_and_gauges_per_scope, .init = setup,
     .fini = teardown, .timeout = 90)
{
    char year[8], cmd[700];
    time_t now = time(NULL) + 5 * 3600;
    strftime(year, sizeof(year), "%Y", gmtime(&now));
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek indicators set %s 1.1 --normative"
             " 95.5 --target 98 --source 'order No. 12 of the chairman'"
             " >/dev/null", getenv("KEZEK_BIN_DIR"), year);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/kezek indicators set %s 9.9 --target 1"
             " --source x 2>/dev/null", getenv("KEZEK_BIN_DIR"), year);
    cr_assert_neq(system(cmd), 0, "an indicator appendix 4 does not have");
    snprintf(cmd, sizeof(cmd), "%s/kezek indicators set %s 2.1 --target 101"
             " --source x 2>/dev/null", getenv("KEZEK_BIN_DIR"), year);
    cr_assert_neq(system(cmd), 0, "a share above 100");
    char path[160];
    snprintf(path, sizeof(path), "/v1/ops/indicators?from=%s-01-01&to=%s-12-31",
             year, year);
    long st;
    json_t *j = tk_http("GET", env.http_port[TK_INTAKE], path, ops, NULL,
                        NULL, &st);
    cr_assert_eq(st, 200);
    json_t *i11 = json_object_get(json_object_get(j, "indicators"), "1.1");
    cr_assert_float_eq(json_number_value(json_object_get(i11, "normative")),
                       95.5, 0.001);
    cr_assert_float_eq(json_number_value(json_object_get(i11, "target")),
                       98.0, 0.001);
    json_decref(j);

    /* the gauges, a few seconds after the start */
    char *m = NULL;
    for (int i = 0; i < 150; i++) {
        free(m);
        m = tk_http_text("GET", env.http_port[TK_INTAKE], "/metrics", NULL,
                         NULL, NULL, &st);
        if (m && strstr(m, "kezek_quality_indicator_target_percent"))
            break;
        usleep(100000);
    }
    cr_assert(m && strstr(m, "kezek_quality_indicator_target_percent"
                             "{indicator=\"1.1\"} 98"), "the target");
    cr_assert(strstr(m, "kezek_quality_indicator_percent{indicator=\"1.1\","
                        "scope=\"authority\",region=\"r-01\","
                        "authority=\"a-01-02\"}"), "an authority's series");
    cr_assert(strstr(m, "kezek_quality_indicator_percent{indicator=\"5.1\","
                        "scope=\"region\",region=\"r-16\"}"), "a region's");
    cr_assert(strstr(m, "scope=\"national\""));
    int series = 0;
    for (const char *p = strstr(m, "\nkezek_quality_indicator_percent{");
         p; p = strstr(p + 1, "\nkezek_quality_indicator_percent{"))
        series++;
    PGconn *c = tk_db(&env);
    long scopes = tk_scalar(c, "SELECT (SELECT count(*) FROM authority)"
                               " + (SELECT count(*) FROM region) + 1");
    PQfinish(c);
    cr_assert_eq(series, 6 * scopes, "6 indicators × (%ld scopes): %d",
                 scopes, series);
    free(m);
}
