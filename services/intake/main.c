/* kezek-intake: accepts applications (p.13, p.14), answers their status,
 * and keeps the status read model current from the bus. */
#include "intake.h"

#include "audit.h"
#include "calendar.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "refname.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRODUCER "intake"

static service_t svc;
static metric_t *m_accepted, *m_replayed;

static const char *const doc_names[][2] = {
    {"application_form", "Өтініш / Заявление (қосымша 3)"},
    {"identity_documents", "Жеке басын куәландыратын құжаттар"},
    {"civil_status_certificates", "Азаматтық хал актілері туралы куәліктер"},
    {"property_certificate", "Тұрғын үй туралы анықтама"},
    {"no_communal_dwelling_certificate",
     "Коммуналдық тұрғын үйдің жоқтығы туралы анықтама"},
    {"residence_confirmation", "Тұратын жерін растау"},
    {"court_decision_family", "Сот шешімі (отбасы мүшелері)"},
    {"vulnerable_status_document", "Әлеуметтік осал топқа жататынын растау"},
    {"income_certificate", "Табыс туралы анықтама"},
    {"workplace_certificate", "Жұмыс орнынан анықтама"},
    {"emergency_dwelling_certificate", "Авариялық тұрғын үй туралы анықтама"},
    {"competent_body_certificate", "Уәкілетті органның анықтамасы"},
};

/* Resolves the bearer token; replies 401/503 itself when it fails. */
static PGconn *begin_request(const http_req_t *req, http_resp_t *resp,
                             principal_t *who)
{
    enum auth_rc rc = auth_check(svc.pool, req, who);
    if (rc != AUTH_OK) {
        auth_reply(resp, rc);
        return NULL;
    }
    char err[256];
    PGconn *c = pgpool_acquire(svc.pool, err, sizeof(err));
    if (!c)
        http_reply_error(resp, 503, "unavailable",
                         "database unavailable; nothing was accepted", NULL);
    return c;
}

static json_t *build_receipt(const struct application *app,
                             const principal_t *who, const char *number,
                             int64_t now_s, const char *authority_name,
                             const char *centre_name, char *due_s,
                             char *internal_s)
{
    char accepted[26];
    almaty_timestamp(now_s, accepted);
    kdate_t today = almaty_date(now_s);
    kdate_format(result_due(today), due_s);
    kdate_format(who->kind == PRINCIPAL_CENTRE ? centre_internal_due(today)
                                               : result_due(today),
                 internal_s);
    json_t *docs = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(app->body, "documents"), i, d) {
        const char *code = json_string_value(json_object_get(d, "code"));
        for (size_t k = 0; k < sizeof(doc_names) / sizeof(doc_names[0]); k++)
            if (strcmp(code, doc_names[k][0]) == 0)
                json_array_append_new(docs,
                    json_pack("{s:s, s:s}", "code", code, "name",
                              doc_names[k][1]));
    }
    json_t *a = json_object_get(app->body, "applicant");
    json_t *rep = json_object_get(app->body, "representative");
    char name[320], rep_name[320] = "";
    const char *pat = json_string_value(json_object_get(a, "patronymic"));
    snprintf(name, sizeof(name), "%s %s%s%s",
             json_string_value(json_object_get(a, "surname")),
             json_string_value(json_object_get(a, "given_name")),
             pat ? " " : "", pat ? pat : "");
    if (json_is_object(rep))
    {
        const char *rp = json_string_value(json_object_get(rep,
                                                           "patronymic"));
        snprintf(rep_name, sizeof(rep_name), "%s %s%s%s",
                 json_string_value(json_object_get(rep, "surname")),
                 json_string_value(json_object_get(rep, "given_name")),
                 rp ? " " : "", rp ? rp : "");
    }
    json_t *phones = json_array();
    const char *phone = json_string_value(json_object_get(a, "phone"));
    if (phone)
        json_array_append_new(phones, json_string(phone));
    /* p.15: the result is handed where it was asked for */
    const char *place = who->kind == PRINCIPAL_PORTAL
                            ? "Электрондық үкімет порталындағы жеке кабинет"
                              " / Личный кабинет на портале электронного "
                              "правительства"
                        : who->kind == PRINCIPAL_CENTRE && centre_name
                            ? centre_name
                            : authority_name;
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o}", "number",
        number, "accepted_at", accepted, "service",
        "Мемлекеттік тұрғын үй қорынан тұрғын үйге мұқтаж азаматтарды "
        "есепке қою және олардың кезегі / Постановка на учёт и очередность "
        "граждан, нуждающихся в жилище из государственного жилищного "
        "фонда", "documents", docs, "result_due",
        due_s, "result_place", place, "accepted_by",
        who->employee[0] ? who->employee : who->text,
        "applicant_name", name, "representative_name",
        rep_name[0] ? json_string(rep_name) : json_null(), "phones", phones);
}

/* receipt: the receipt's JSON text as stored (printed once per
 * application, not parsed and printed again per reply); id is hex */
static void reply_accepted(http_resp_t *resp, int status, const char *id,
                           const char *receipt)
{
    char *body = NULL;
    if (asprintf(&body, "{\"application_id\":\"%s\",\"status\":"
                        "\"accepted\",\"receipt\":%s}", id, receipt) < 0)
        body = NULL;
    if (body)
        http_reply_text(resp, status, "application/json", body);
    else
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
}

/* 1: replied from the stored key; 0: key unused; -1: database error. */
static int replay_key(PGconn *c, const principal_t *who, const char *key,
                      const char *sha, http_resp_t *resp)
{
    const char *p[2] = {who->text, key};
    PGresult *r = pg_run(c, "idem_get", 2, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1;
    if (rc && strcmp(PQgetvalue(r, 0, 0), sha) != 0) {
        http_reply_error(resp, 409, "idempotency_conflict",
                         "this Idempotency-Key was used with another body",
                         NULL);
    } else if (rc) {
        reply_accepted(resp, 200, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
        metric_inc(m_replayed);
    }
    PQclear(r);
    return rc;
}

/* Receipt numbers come from the sequence in blocks, so that a request
 * does not spend a round trip on one (unique, increasing per block; a
 * block left unused at exit is a gap, as a rollback makes). */
#define RECEIPT_BLOCK 32
static pthread_mutex_t receipt_lock = PTHREAD_MUTEX_INITIALIZER;
static long long receipt_block[RECEIPT_BLOCK];
static int receipt_left;

static bool receipt_number(PGconn *c, long long *out)
{
    pthread_mutex_lock(&receipt_lock);
    if (receipt_left == 0) {
        PGresult *r = pg_run(c, "receipt_block", 0, NULL);
        int n = r ? PQntuples(r) : 0;
        for (int i = 0; i < n && i < RECEIPT_BLOCK; i++)
            receipt_block[RECEIPT_BLOCK - 1 - i] =
                atoll(PQgetvalue(r, n - 1 - i, 0));
        receipt_left = n < RECEIPT_BLOCK ? n : RECEIPT_BLOCK;
        PQclear(r);
    }
    bool ok = receipt_left > 0;
    if (ok)
        *out = receipt_block[RECEIPT_BLOCK - receipt_left--];
    pthread_mutex_unlock(&receipt_lock);
    return ok;
}

/* Stores the key, the application and its event in one statement and
 * one commit, shared with the requests arriving meanwhile (committer.c).
 * 1 when stored (resp set: 202), 0 when the key was there first (nothing
 * written: the caller replays it), -1 when nothing could be stored (resp
 * set: 503). body_s: the body as printed for its hash (sha). */
static int store(PGconn *c, const principal_t *who, const char *key,
                 const char *sha, const char *body_s,
                 struct application *app, http_resp_t *resp)
{
    char authority_name[512], centre_name[512] = "";
    long long seqno;
    if (refname_get(c, "authority_name", app->authority_id, authority_name,
                    sizeof(authority_name)) <= 0 ||
        (who->kind == PRINCIPAL_CENTRE &&
         refname_get(c, "centre_name", who->id, centre_name,
                     sizeof(centre_name)) < 0) ||
        !receipt_number(c, &seqno))
        goto unavailable;
    int64_t now = now_us();
    kdate_t today = almaty_date(now / 1000000);
    char id[33], number[96], due[11], internal[11], at[32];
    event_new_id(id);
    snprintf(number, sizeof(number), "%04d-%s-%08lld", today.year,
             app->authority_id, seqno);
    json_t *receipt = build_receipt(app, who, number, now / 1000000,
                                    authority_name,
                                    centre_name[0] ? centre_name : NULL,
                                    due, internal);
    char *receipt_s = json_dumps(receipt, JSON_COMPACT);
    json_decref(receipt);
    if (!receipt_s)
        goto unavailable;
    const char *channel = who->kind == PRINCIPAL_OFFICE   ? "office"
                          : who->kind == PRINCIPAL_CENTRE ? "centre"
                                                          : "portal";
    snprintf(at, sizeof(at), "%.6f", (double)now / 1e6);
    Kezek__ApplicationAccepted ev = KEZEK__APPLICATION_ACCEPTED__INIT;
    ev.application_id = id;
    ev.authority_id = app->authority_id;
    ev.settlement_id = (char *)app->settlement_id;
    ev.category = (char *)app->category;
    ev.channel = (char *)channel;
    ev.accepted_at_us = now;
    ev.result_due = due;
    ev.application_json = (char *)body_s;
    /* the receipt stays in application.receipt: nobody downstream needs
     * it at once (notify prints it from there when asked, p.14) */
    ev.principal = (char *)who->text;
    ev.applicant_iin = (char *)app->iin;
    struct outbox_row o;
    char *hex = NULL;
    int rc = -1;
    if (outbox_row_init(&o, PRODUCER, KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED,
                        id, &ev.base)) {
        struct store_req req = {.vals = {id, number, app->authority_id,
            app->settlement_id, channel, who->text, app->category, app->iin,
            at, due, internal, body_s, receipt_s, key, sha}};
        if (outbox_row_texts(&o, req.vals + 15, &hex))
            rc = committer_store(c, &req);
    }
    free(hex);
    outbox_row_free(&o);
    if (rc == 1) {
        reply_accepted(resp, 202, id, receipt_s);
        metric_inc(m_accepted);
        log_info("application.accepted", "application %s accepted", id);
    }
    free(receipt_s);
    if (rc >= 0)
        return rc;
unavailable:
    http_reply_error(resp, 503, "unavailable",
                     "the application could not be stored; nothing "
                     "was accepted, retry with the same key", NULL);
    return -1;
}

static void post_application(void *ctx, const http_req_t *req,
                             http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    PGconn *c = begin_request(req, resp, &who);
    if (!c)
        return;
    json_t *body = NULL;
    char *canon = NULL;
    if (who.kind == PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden",
                         "operators do not submit applications", NULL);
        goto out;
    }
    const char *key = http_idempotency_key(req, resp);
    if (!key)
        goto out;
    body = http_json_body(req, resp);
    if (!body)
        goto out;
    /* "the same body": the same JSON, whatever its spacing, key order or
     * the Unicode form of its names */
    intake_normalise_names(body);
    unsigned char h[crypto_hash_sha256_BYTES];
    char sha[65];
    /* printed once: hashed, stored and carried by the event */
    canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (!canon) {
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
        goto out;
    }
    crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
    sodium_bin2hex(sha, sizeof(sha), h, sizeof(h));
    /* the common case first: a new key stores in one round trip; the
     * key found in place (a retry, or a concurrent twin) is replayed */
    struct application app;
    if (!intake_validate(c, &who, body, &app, resp)) {
        /* a retry of an accepted request is answered as one, even if
         * the reference data changed meanwhile */
        http_resp_t replay = {0};
        if (replay_key(c, &who, key, sha, &replay) == 1) {
            free(resp->body);
            *resp = replay;
        } else {
            free(replay.body);
        }
        goto out;
    }
    int rc = store(c, &who, key, sha, canon, &app, resp);
    if (rc == 0 && replay_key(c, &who, key, sha, resp) != 1)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
out:
    free(canon);
    json_decref(body);
    pgpool_release(svc.pool, c);
}

/* Who may read an application (p.17: confidentiality): the office of
 * its authority, the centre that accepted it, the portal for the
 * citizen it asserts (X-Citizen-IIN), operators. */
static bool may_read(const http_req_t *req, const principal_t *who,
                     const char *authority, const char *principal,
                     const char *iin)
{
    const char *citizen;
    switch (who->kind) {
    case PRINCIPAL_OFFICE:
        return strcmp(authority, who->id) == 0;
    case PRINCIPAL_CENTRE:
        return strcmp(principal, who->text) == 0;
    case PRINCIPAL_PORTAL:
        citizen = http_header(req, "X-Citizen-IIN");
        return citizen && strcmp(citizen, iin) == 0;
    default:
        return true;
    }
}

static void get_application(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    PGconn *c = begin_request(req, resp, &who);
    if (!c)
        return;
    const char *p[1] = {req->params[0]};
    PGresult *r = strlen(req->params[0]) == 32 ? pg_run(c, "app_get", 1, p)
                                               : NULL;
    if (!r && strlen(req->params[0]) == 32) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!r || PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found", "no such application",
                         NULL);
    } else if (!may_read(req, &who, PQgetvalue(r, 0, 2),
                         PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 8))) {
        http_reply_error(resp, 403, "forbidden",
                         "this principal may not read this application "
                         "(an office: its authority; a centre: its own "
                         "submissions; the portal: X-Citizen-IIN)", NULL);
    } else {
        json_t *out = json_pack("{s:s, s:s, s:b}", "application_id",
                                PQgetvalue(r, 0, 0), "status",
                                PQgetvalue(r, 0, 1), "delivered",
                                PQgetvalue(r, 0, 6)[0] == 't');
        static const char *const cols[] = {"decision", "queue", "receipt"};
        for (int k = 0; k < 3; k++) {
            json_t *v = PQgetisnull(r, 0, 3 + k)
                            ? json_null()
                            : json_loads(PQgetvalue(r, 0, 3 + k), 0, NULL);
            json_object_set_new(out, cols[k], v ? v : json_null());
        }
        http_reply_json(resp, 200, out);
        char res[80];
        snprintf(res, sizeof(res), "application/%s", req->params[0]);
        audit_reply(resp, who.text, http_purpose(req, "application_status"),
                    res, PQgetvalue(r, 0, 8));
    }
    PQclear(r);
    pgpool_release(svc.pool, c);
}

/* The ops.c and complaints.c endpoints: the common token check, then
 * the function named by the route. */
struct principal_fn {
    void (*fn)(PGconn *c, const principal_t *who, const http_req_t *req,
               http_resp_t *resp);
};

static void with_principal(void *ctx, const http_req_t *req,
                           http_resp_t *resp)
{
    (void)ctx;
    const struct principal_fn *f = req->route_data;
    principal_t who;
    PGconn *c = begin_request(req, resp, &who);
    if (!c)
        return;
    f->fn(c, &who, req, resp);
    pgpool_release(svc.pool, c);
}

static void review_complaint_fn(PGconn *c, const principal_t *who,
                                const http_req_t *req, http_resp_t *resp)
{
    complaints_progress(c, who, req, resp, false);
}

static void answer_complaint_fn(PGconn *c, const principal_t *who,
                                const http_req_t *req, http_resp_t *resp)
{
    complaints_progress(c, who, req, resp, true);
}

static const struct principal_fn feedback_fn = {ops_post_feedback},
    indicators_fn = {ops_get_indicators}, audit_fn = {ops_get_audit},
    complaint_post_fn = {complaints_post}, complaint_get_fn = {complaints_get},
    complaint_review_fn = {review_complaint_fn},
    complaint_answer_fn = {answer_complaint_fn};

/* The indicators of the year into /metrics, a few seconds after the start
 * and then every gauge_seconds: they read the year's applications. */
static void *gauges(void *arg)
{
    (void)arg;
    PGconn *c = NULL;
    for (long tick = 0; !service_stop; tick++) {
        usleep(100000);
        if (!service_gauge_tick(&svc, tick))
            continue;
        if (pg_lost(c)) {
            char err[256];
            if (c)
                PQfinish(c);
            c = pg_connect(svc.conninfo, intake_stmts, err, sizeof(err));
            /* best effort, and never in the way of a shutdown */
            if (c && !pg_exec(c, "SET statement_timeout = '20s'")) {
                PQfinish(c);
                c = NULL;
            }
        }
        if (c)
            ops_gauges(c);
    }
    if (c)
        PQfinish(c);
    return NULL;
}

/* Reference data (appendices 1, 2, 5) and the notice keys: public. */
static void reference(const http_req_t *req, http_resp_t *resp,
                      const char *stmt, const char *name)
{
    (void)req;
    char err[256];
    PGconn *c = pgpool_acquire(svc.pool, err, sizeof(err));
    PGresult *r = c ? pg_run(c, stmt, 0, NULL) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (strcmp(stmt, "ref_authorities") == 0) {
        json_t *regions = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *reg = json_loads(PQgetvalue(r, i, 1), 0, NULL);
            json_object_set_new(reg, "authorities",
                                json_loads(PQgetvalue(r, i, 2), 0, NULL));
            json_array_append_new(regions, reg);
        }
        http_reply_json(resp, 200, json_pack("{s:o}", "regions", regions));
    } else {
        http_reply_json(resp, 200, json_pack("{s:o}", name,
                        json_loads(PQgetvalue(r, 0, 0), 0, NULL)));
    }
    PQclear(r);
    if (c)
        pgpool_release(svc.pool, c);
}

static void get_authorities(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    (void)ctx;
    reference(req, resp, "ref_authorities", "regions");
}

static void get_settlements(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    (void)ctx;
    reference(req, resp, "ref_settlements", "settlements");
}

static void get_centres(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    reference(req, resp, "ref_centres", "centres");
}

static void get_appeal(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    reference(req, resp, "ref_appeal", "appeal_instances");
}

static void get_keys(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    reference(req, resp, "ref_keys", "keys");
}

static const struct http_route routes[] = {
    {"POST", "/v1/applications", post_application, NULL},
    {"GET", "/v1/applications/*", get_application, NULL},
    {"GET", "/v1/reference/authorities", get_authorities, NULL},
    {"GET", "/v1/reference/settlements", get_settlements, NULL},
    {"GET", "/v1/reference/centres", get_centres, NULL},
    {"GET", "/v1/reference/appeal-instances", get_appeal, NULL},
    {"GET", "/v1/reference/keys", get_keys, NULL},
    {"POST", "/v1/applications/*/feedback", with_principal, &feedback_fn},
    {"GET", "/v1/ops/indicators", with_principal, &indicators_fn},
    {"GET", "/v1/ops/audit", with_principal, &audit_fn},
    {"POST", "/v1/complaints", with_principal, &complaint_post_fn},
    {"GET", "/v1/complaints/*", with_principal, &complaint_get_fn},
    {"POST", "/v1/complaints/*/review", with_principal,
     &complaint_review_fn},
    {"POST", "/v1/complaints/*/answer", with_principal,
     &complaint_answer_fn},
    {NULL, NULL, NULL, NULL},
};

/* Requests that may join the group commit soon: those holding one of
 * the pool's connections (the rest wait for one, and would only come
 * after the commit). */
static int in_flight(void)
{
    return svc.pool ? pgpool_in_use(svc.pool) : 0;
}

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "intake", argc, argv,
        "Accepts applications over HTTP (CONTRACT \"Applications\"),\n"
        "stores each with its ApplicationAccepted event in one\n"
        "transaction, and follows decisions to answer status.\n"
        "  commit_linger_us              wait at most this long for the\n"
        "                                requests in flight, to store\n"
        "                                them in one transaction (1000;\n"
        "                                0: never)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    m_accepted = metrics_counter("kezek_applications_accepted_total",
                                 "Applications accepted (202)", NULL);
    m_replayed = metrics_counter("kezek_idempotent_replays_total",
                                 "Repeated submissions answered from the "
                                 "stored Idempotency-Key", NULL);
    long linger_us;
    if (!service_int(&svc, "commit_linger_us", 1000, 0, 100000, &linger_us))
        return 1;
    /* One plan per statement on the request connections: every one of
     * them reaches its rows by key, and left to choose Postgres planned
     * the group commit's statement (22 arrays, four CTEs) anew for each
     * commit — at 1,000/s a sixth of intake's Postgres CPU (issue 9). */
    svc.pool_setup = "SET plan_cache_mode = force_generic_plan";
    /* A request waits in its thread for the group commit: a thread per
     * connection (http_threads 0), so that it holds up no other
     * connection. A pool of workers (16, then 32 for 32 closed-loop
     * clients) let connections that shared a worker wait for each
     * other's commit, as the accepts happened to fall: some runs' submit
     * latency was bimodal (p50 7 ms, p95 115 ms) and their throughput a
     * third lower (issue 9). */
    if (!committer_init((int)linger_us, in_flight) ||
        service_http(&svc, 8080, 0, intake_stmts, routes, NULL) != 0) {
        service_fini(&svc);
        committer_fini();
        return 1;
    }
    ops_init(config_str(svc.cfg, "indicators_file",
                        "data/indicators.json"));
    long days;
    if (!service_int(&svc, "complaint_answer_days", 15, 1, 90, &days))
        return 1;
    complaints_init(days);
    struct consumer_cfg cc = {
        .name = "intake-status", .stmts = intake_stmts,
        .handle = intake_apply, .flush = intake_status_flush,
        .rolled_back = intake_status_clear,
    };
    rc = intake_status_init() ? service_run(&svc, &cc, gauges, NULL) : -1;
    intake_status_fini();
    service_fini(&svc); /* HTTP first: its stores still go through */
    committer_fini();
    return rc == 0 ? 0 : 1;
}
