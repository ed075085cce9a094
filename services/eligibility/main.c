/* kezek-eligibility: consumes ApplicationAccepted, gathers registry
 * facts, runs the pure rules and writes the decision and its
 * DecisionMade event in one transaction. */
#include "calendar.h"
#include "consumer.h"
#include "elig.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "reasons.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER "eligibility"

static const struct pg_stmt elig_stmts[] = {
    {"person_get",
     "SELECT doc FROM registry_person WHERE iin = $1"},
    {"decision_put",
     "INSERT INTO decision (application_id, registered, reasons, facts)"
     " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"},
    {NULL, NULL},
};

static service_t svc;
static metric_t *m_registered, *m_refused;

/* The facts the registries hold about the applicant. */
static bool gather_facts(PGconn *conn, const char *iin, json_t *facts)
{
    const char *p[1] = {iin};
    PGresult *r = pg_run(conn, "person_get", 1, p);
    if (!r)
        return false;
    if (PQntuples(r) == 1)
        json_object_set_new(facts, "person",
                            json_loads(PQgetvalue(r, 0, 0), 0, NULL));
    PQclear(r);
    return true;
}

static enum handle_rc decide(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen)
{
    (void)ctx;
    if (ev->type != KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED)
        return HANDLE_OK;
    Kezek__ApplicationAccepted *a = kezek__application_accepted__unpack(
        NULL, ev->payload_len, ev->payload);
    if (!a) {
        snprintf(why, whylen, "undecodable ApplicationAccepted");
        return HANDLE_POISON;
    }
    enum handle_rc rc = HANDLE_POISON;
    struct elig_decision d = {0};
    json_t *facts = json_object();
    json_t *app = json_loads(a->application_json, 0, NULL);
    json_t *applicant = json_object_get(app, "applicant");
    const char *iin = json_string_value(json_object_get(applicant, "iin"));
    const char *email = json_string_value(json_object_get(applicant,
                                                          "email"));
    if (!app || !iin || strcmp(a->application_id, ev->key) != 0) {
        snprintf(why, whylen, "application body or key invalid");
        goto out;
    }
    rc = HANDLE_ERROR;
    if (!gather_facts(conn, iin, facts))
        goto out;
    char date[11];
    kdate_format(almaty_date(a->accepted_at_us / 1000000), date);
    elig_decide(app, facts, date, &d);
    bool registered = d.outcome == ELIG_REGISTERED;

    json_t *codes = json_array();
    Kezek__Reason rs[ELIG_MAX_REASONS], *rp[ELIG_MAX_REASONS];
    for (int i = 0; i < d.nreasons; i++) {
        const struct reason *r = reason_find(d.reasons[i]);
        kezek__reason__init(&rs[i]);
        rs[i].code = (char *)d.reasons[i];
        rs[i].paragraph = (char *)(r ? r->paragraph : "");
        rp[i] = &rs[i];
        json_array_append_new(codes, json_string(d.reasons[i]));
    }
    char *codes_s = json_dumps(codes, JSON_COMPACT);
    char *facts_s = json_dumps(facts, JSON_COMPACT);
    json_decref(codes);
    const char *p[4] = {a->application_id, registered ? "t" : "f",
                        codes_s, facts_s};
    PGresult *r = pg_run(conn, "decision_put", 4, p);
    bool fresh = r && strcmp(PQcmdTuples(r), "1") == 0;
    rc = r ? HANDLE_OK : HANDLE_ERROR;
    PQclear(r);
    free(codes_s);
    free(facts_s);
    if (fresh) { /* a replay after a crash finds the decision made */
        Kezek__DecisionMade m = KEZEK__DECISION_MADE__INIT;
        m.application_id = a->application_id;
        m.registered = registered;
        m.n_reasons = (size_t)d.nreasons;
        m.reasons = rp;
        m.decided_at_us = now_us();
        m.authority_id = a->authority_id;
        m.list = a->category;
        m.accepted_seq = ev->seq;
        m.applicant_iin = (char *)iin;
        m.email = (char *)(email ? email : "");
        if (!outbox_add_msg(conn, PRODUCER, KEZEK__EVENT_TYPE__DECISION_MADE,
                            a->application_id, &m.base))
            rc = HANDLE_ERROR;
        else
            metric_inc(registered ? m_registered : m_refused);
    }
out:
    json_decref(app);
    json_decref(facts);
    json_decref(d.used);
    kezek__application_accepted__free_unpacked(a, NULL);
    return rc;
}

static bool health(void *ctx, char *detail, size_t len)
{
    (void)ctx;
    return service_pg_ok(&svc, detail, len);
}

static const struct http_route routes[] = {{NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "eligibility", argc, argv,
        "Decides each accepted application against p.6 and p.16 and\n"
        "emits DecisionMade.\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    m_registered = metrics_counter("kezek_decisions_total",
                                   "Decisions made", "outcome=\"registered\"");
    m_refused = metrics_counter("kezek_decisions_total", "Decisions made",
                                "outcome=\"refused\"");
    if (service_http(&svc, 8081, routes, health, NULL) != 0) {
        service_fini(&svc);
        return 1;
    }
    struct consumer_cfg cc = {
        .name = "eligibility", .conninfo = svc.conninfo,
        .stmts = elig_stmts, .bus_endpoints = svc.bus_endpoints,
        .batch_size = svc.batch_size, .idle_poll_ms = 250,
        .handle = decide,
    };
    rc = consumer_run(&cc, &service_stop);
    service_fini(&svc);
    return rc == 0 ? 0 : 1;
}
