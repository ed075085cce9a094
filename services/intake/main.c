/* kezek-intake: accepts applications (p.13, p.14), answers their status,
 * and keeps the status read model current from the bus. */
#include "intake.h"

#include "audit.h"
#include "log.h"
#include "static.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static service_t svc;

PGconn *intake_begin(service_t *s, const http_req_t *req,
                     http_resp_t *resp, principal_t *who)
{
    enum auth_rc rc = auth_check(s->pool, req, who);
    if (rc != AUTH_OK) {
        auth_reply(resp, rc);
        return NULL;
    }
    char err[256];
    PGconn *c = pgpool_acquire(s->pool, err, sizeof(err));
    if (!c)
        http_reply_error(resp, 503, "unavailable",
                         "database unavailable; nothing was accepted", NULL);
    return c;
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
    case PRINCIPAL_OPS:
        return true;
    default: /* an appeal instance, a supervisor: not an application */
        return false;
    }
}

static void get_application(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    service_t *s = ctx;
    principal_t who;
    PGconn *c = intake_begin(s, req, resp, &who);
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
    } else if (!may_read(req, &who, PQgetvalue(r, 0, APP_AUTHORITY),
                         PQgetvalue(r, 0, APP_PRINCIPAL),
                         PQgetvalue(r, 0, APP_IIN))) {
        http_reply_error(resp, 403, "forbidden",
                         "this principal may not read this application "
                         "(an office: its authority; a centre: its own "
                         "submissions; the portal: X-Citizen-IIN)", NULL);
    } else {
        json_t *out = json_pack("{s:s, s:s, s:b}", "application_id",
                                PQgetvalue(r, 0, APP_ID), "status",
                                PQgetvalue(r, 0, APP_STATUS), "delivered",
                                PQgetvalue(r, 0, APP_DELIVERED)[0] == 't');
        static const struct {
            const char *name;
            int col;
        } cols[] = {{"decision", APP_DECISION}, {"queue", APP_QUEUE},
                    {"receipt", APP_RECEIPT}};
        for (int k = 0; k < 3; k++) {
            json_t *v = PQgetisnull(r, 0, cols[k].col)
                            ? json_null()
                            : json_loads(PQgetvalue(r, 0, cols[k].col), 0,
                                         NULL);
            json_object_set_new(out, cols[k].name, v ? v : json_null());
        }
        /* whose it is: the console reads the position's history by it */
        json_object_set_new(out, "applicant", json_pack("{s:s}", "iin",
                            PQgetvalue(r, 0, APP_IIN)));
        http_reply_json(resp, 200, out);
        char res[80];
        snprintf(res, sizeof(res), "application/%s", req->params[0]);
        audit_reply(resp, who.text, http_purpose(req, "application_status"),
                    res, PQgetvalue(r, 0, APP_IIN));
    }
    PQclear(r);
    pgpool_release(s->pool, c);
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
    service_t *s = ctx;
    const struct principal_fn *f = req->route_data;
    principal_t who;
    PGconn *c = intake_begin(s, req, resp, &who);
    if (!c)
        return;
    f->fn(c, &who, req, resp);
    pgpool_release(s->pool, c);
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

/* The console (web/, issue 19): its files, public like any page; what
 * it shows comes from the API with the employee's token. */
static const char *web_dir;

static void console_file(void *ctx, const http_req_t *req,
                         http_resp_t *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/console") == 0) {
        http_reply_text(resp, 301, "text/plain; charset=utf-8",
                        strdup("/console/\n"));
        snprintf(resp->header_name, sizeof(resp->header_name), "Location");
        snprintf(resp->header_value, sizeof(resp->header_value),
                 "/console/");
        return;
    }
    if (!web_dir) {
        http_reply_error(resp, 404, "not_found", "the console is not "
                         "installed here (web_dir)", NULL);
        return;
    }
    static_reply(web_dir, strcmp(req->path, "/console/") == 0
                              ? NULL : req->params[0], req, resp);
}

static const struct principal_fn session_fn = {lists_session},
    app_list_fn = {lists_applications},
    complaint_list_fn = {lists_complaints},
    pipeline_fn = {lists_pipeline},
    feedback_fn = {ops_post_feedback},
    indicators_fn = {ops_get_indicators}, audit_fn = {ops_get_audit},
    complaint_post_fn = {complaints_post}, complaint_get_fn = {complaints_get},
    complaint_review_fn = {review_complaint_fn},
    complaint_answer_fn = {answer_complaint_fn};

/* The indicators of the year into /metrics, a few seconds after the start
 * and then every gauge_seconds: they read the year's applications. */
static void *gauges(void *arg)
{
    service_t *s = arg;
    PGconn *c = NULL;
    for (long tick = 0; !service_stop; tick++) {
        usleep(100000);
        if (!service_gauge_tick(s, tick))
            continue;
        if (pg_lost(c)) {
            char err[256];
            if (c)
                PQfinish(c);
            c = pg_connect(s->conninfo, intake_stmts, err, sizeof(err));
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
static const struct intake_reference ref_auth = {"ref_authorities",
                                                 "regions"},
    ref_sett = {"ref_settlements", "settlements"},
    ref_centres = {"ref_centres", "centres"},
    ref_appeal = {"ref_appeal", "appeal_instances"},
    ref_keys = {"ref_keys", "keys"};

static const struct http_route routes[] = {
    {"POST", "/v1/applications", intake_post_application, NULL},
    {"GET", "/v1/applications", with_principal, &app_list_fn},
    {"GET", "/v1/session", with_principal, &session_fn},
    {"GET", "/v1/complaints", with_principal, &complaint_list_fn},
    {"GET", "/console", console_file, NULL},
    {"GET", "/console/", console_file, NULL},
    {"GET", "/console/**", console_file, NULL},
    {"GET", "/v1/applications/*", get_application, NULL},
    {"GET", "/v1/reference/authorities", intake_get_reference, &ref_auth},
    {"GET", "/v1/reference/settlements", intake_get_reference, &ref_sett},
    {"GET", "/v1/reference/centres", intake_get_reference, &ref_centres},
    {"GET", "/v1/reference/appeal-instances", intake_get_reference,
     &ref_appeal},
    {"GET", "/v1/reference/keys", intake_get_reference, &ref_keys},
    {"POST", "/v1/applications/*/feedback", with_principal, &feedback_fn},
    {"GET", "/v1/ops/indicators", with_principal, &indicators_fn},
    {"GET", "/v1/ops/audit", with_principal, &audit_fn},
    {"GET", "/v1/ops/pipeline", with_principal, &pipeline_fn},
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
        "                                0: never)\n"
        "  web_dir                       the console's files, served at\n"
        "                                /console/ (unset: none)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    intake_accept_init();
    web_dir = config_str(svc.cfg, "web_dir", NULL);
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
        service_http(&svc, 8080, 0, intake_stmts, routes, &svc) != 0) {
        service_fini(&svc);
        committer_fini();
        return 1;
    }
    long days, head_days;
    if (!service_int(&svc, "complaint_answer_days", 15, 1, 90, &days) ||
        !service_int(&svc, "complaint_head_answer_days", 5, 1, 30,
                     &head_days))
        return 1;
    complaints_init(days, head_days);
    struct intake_status_batch status = {0};
    struct consumer_cfg cc = {
        .name = "intake-status", .stmts = intake_stmts,
        .handle = intake_apply, .flush = intake_status_flush,
        .rolled_back = intake_status_clear, .ctx = &status,
    };
    rc = intake_status_init(&status) ? service_run(&svc, &cc, gauges, &svc)
                                     : -1;
    intake_status_fini(&status);
    service_fini(&svc); /* HTTP first: its stores still go through */
    committer_fini();
    return rc == 0 ? 0 : 1;
}
