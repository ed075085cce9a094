/* kezek-notify: turns decisions and queue numbers into signed notices
 * (p.5, p.15) in the personal cabinet, and reports their delivery.
 *
 * A notice is identified by (application, kind); inserting it is
 * idempotent, so a replayed batch never shows a notice twice. */
#include "auth.h"
#include "calendar.h"
#include "consumer.h"
#include "log.h"
#include "metrics.h"
#include "notice.h"
#include "outbox.h"
#include "reasons.h"
#include "service.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER "notify"

static const struct pg_stmt notify_stmts[] = {
    {"notice_put",
     "INSERT INTO notice (id, application_id, applicant_iin, kind,"
     " issued_at, document, canonical, signature, key_id)"
     " VALUES ($1, $2, $3, $4, to_timestamp($5::float8), $6, $7, $8, $9)"
     " ON CONFLICT (application_id, kind) DO NOTHING"},
    {"cabinet",
     "SELECT application_id, kind, extract(epoch FROM issued_at)::bigint,"
     " canonical, signature, key_id"
     " FROM notice WHERE applicant_iin = $1"
     " ORDER BY issued_at DESC, id LIMIT $2 OFFSET $3"},
    {NULL, NULL},
};

static service_t svc;
static struct signer signer;
static metric_t *m_notices;

/* Stores the notice for (application, kind) once and reports it. */
static enum handle_rc issue(PGconn *conn, const char *application_id,
                            const char *iin, const char *kind,
                            json_t *doc)
{
    char canonical_sig[128];
    int64_t now = now_us();
    char *canonical = notice_canonical(doc);
    if (!canonical)
        return HANDLE_ERROR;
    notice_sign(&signer, canonical, canonical_sig);
    char id[80], at[32];
    snprintf(id, sizeof(id), "%s-%s", application_id, kind);
    snprintf(at, sizeof(at), "%.6f", (double)now / 1e6);
    const char *p[9] = {id, application_id, iin, kind, at, canonical,
                        canonical, canonical_sig, signer.key_id};
    PGresult *r = pg_run(conn, "notice_put", 9, p);
    free(canonical);
    if (!r)
        return HANDLE_ERROR;
    bool fresh = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (!fresh)
        return HANDLE_OK;
    Kezek__NoticeDelivered n = KEZEK__NOTICE_DELIVERED__INIT;
    n.application_id = (char *)application_id;
    n.notice_id = id;
    n.kind = (char *)kind;
    n.channel = "cabinet";
    n.delivered_at_us = now;
    if (!outbox_add_msg(conn, PRODUCER, KEZEK__EVENT_TYPE__NOTICE_DELIVERED,
                        application_id, &n.base))
        return HANDLE_ERROR;
    metric_inc(m_notices);
    return HANDLE_OK;
}

static enum handle_rc deliver(void *ctx, PGconn *conn, const event_t *ev,
                              char *why, size_t whylen)
{
    (void)ctx;
    enum handle_rc rc = HANDLE_OK;
    if (ev->type == KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED) {
        Kezek__ApplicationAccepted *a = kezek__application_accepted__unpack(
            NULL, ev->payload_len, ev->payload);
        json_t *app = a ? json_loads(a->application_json, 0, NULL) : NULL;
        const char *iin = json_string_value(json_object_get(
            json_object_get(app, "applicant"), "iin"));
        if (!a || !iin || strlen(iin) != 12) {
            snprintf(why, whylen, "undecodable ApplicationAccepted");
            rc = HANDLE_POISON;
        } else if (strcmp(a->channel, "portal") == 0) {
            json_t *doc = notice_acceptance(a->application_id, iin,
                a->authority_id, a->accepted_at_us, a->result_due);
            rc = issue(conn, a->application_id, iin, "acceptance_report",
                       doc);
            json_decref(doc);
        }
        json_decref(app);
        if (a)
            kezek__application_accepted__free_unpacked(a, NULL);
    } else if (ev->type == KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED) {
        Kezek__QueueNumberAssigned *q = kezek__queue_number_assigned__unpack(
            NULL, ev->payload_len, ev->payload);
        if (!q || strlen(q->applicant_iin) != 12) {
            snprintf(why, whylen, "undecodable QueueNumberAssigned");
            rc = HANDLE_POISON;
        } else {
            json_t *doc = notice_registration(q->application_id,
                q->applicant_iin, q->authority_id, q->list, q->number,
                q->position, q->assigned_at_us);
            rc = issue(conn, q->application_id, q->applicant_iin,
                       "registration_notice", doc);
            json_decref(doc);
        }
        if (q)
            kezek__queue_number_assigned__free_unpacked(q, NULL);
    } else if (ev->type == KEZEK__EVENT_TYPE__DECISION_MADE) {
        Kezek__DecisionMade *d = kezek__decision_made__unpack(
            NULL, ev->payload_len, ev->payload);
        if (!d || strlen(d->applicant_iin) != 12) {
            snprintf(why, whylen, "undecodable DecisionMade");
            rc = HANDLE_POISON;
        } else if (strcmp(d->outcome, "refused") == 0 ||
                   (!d->outcome[0] && !d->registered)) {
            const char *codes[32];
            size_t n = d->n_reasons < 32 ? d->n_reasons : 32;
            for (size_t i = 0; i < n; i++)
                codes[i] = d->reasons[i]->code;
            json_t *doc = notice_refusal(d->application_id,
                d->applicant_iin, d->authority_id, codes, n,
                d->decided_at_us);
            rc = issue(conn, d->application_id, d->applicant_iin, "refusal",
                       doc);
            json_decref(doc);
        }
        if (d)
            kezek__decision_made__free_unpacked(d, NULL);
    }
    return rc;
}

/* A decimal query parameter, or def when absent; false if malformed. */
static bool query_long(const http_req_t *req, const char *name, long def,
                       long *out)
{
    const char *v = http_query(req, name);
    *out = def;
    if (!v)
        return true;
    char *end;
    *out = strtol(v, &end, 10);
    return *v && !*end && strlen(v) < 10;
}

/* GET /v1/cabinet/{iin}/messages — the portal, for that citizen only. */
static void get_cabinet(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    char err[256];
    principal_t who;
    int auth = auth_check(svc.pool, http_header(req, "Authorization"), &who);
    PGconn *c = auth > 0 ? pgpool_acquire(svc.pool, err, sizeof(err)) : NULL;
    if (auth > 0 && !c)
        auth = -1;
    const char *iin = req->params[0];
    const char *citizen = http_header(req, "X-Citizen-IIN");
    long page, per;
    bool paging = query_long(req, "page", 1, &page) &&
                  query_long(req, "per_page", 20, &per);
    if (auth < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (auth == 0) {
        http_reply_error(resp, 401, "unauthorized",
                         "a valid bearer token is required", NULL);
    } else if (who.kind != PRINCIPAL_PORTAL) {
        http_reply_error(resp, 403, "forbidden",
                         "the cabinet is served to the portal only", NULL);
    } else if (!citizen || strcmp(citizen, iin) != 0) {
        http_reply_error(resp, 403, "forbidden",
                         "a citizen sees only their own messages "
                         "(X-Citizen-IIN)", NULL);
    } else if (!paging || page < 1 || page > 100000 || per < 1 ||
               per > 100) {
        http_reply_error(resp, 400, "invalid_field",
                         "page >= 1, per_page 1–100", NULL);
    } else {
        char lim[16], off[24];
        snprintf(lim, sizeof(lim), "%ld", per);
        snprintf(off, sizeof(off), "%ld", (page - 1) * per);
        const char *p[3] = {iin, lim, off};
        PGresult *r = pg_run(c, "cabinet", 3, p);
        if (!r) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        } else {
            json_t *msgs = json_array();
            for (int i = 0; i < PQntuples(r); i++) {
                char at[26];
                almaty_timestamp(atoll(PQgetvalue(r, i, 2)), at);
                json_array_append_new(msgs, json_pack(
                    "{s:s, s:s, s:s, s:o, s:s, s:s}", "application_id",
                    PQgetvalue(r, i, 0), "kind", PQgetvalue(r, i, 1),
                    "issued_at", at, "document",
                    json_loads(PQgetvalue(r, i, 3), 0, NULL), "signature",
                    PQgetvalue(r, i, 4), "key_id", PQgetvalue(r, i, 5)));
            }
            http_reply_json(resp, 200, json_pack("{s:o, s:i}", "messages",
                                                 msgs, "page", (int)page));
            PQclear(r);
        }
    }
    if (c)
        pgpool_release(svc.pool, c);
}

static bool health(void *ctx, char *detail, size_t len)
{
    (void)ctx;
    return service_pg_ok(&svc, detail, len);
}

static const struct http_route routes[] = {
    {"GET", "/v1/cabinet/*/messages", get_cabinet},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "notify", argc, argv,
        "Issues signed registration notices and refusals to the personal\n"
        "cabinet and reports NoticeDelivered.\n"
        "  signing_key / KEZEK_SIGNING_KEY  the key file written by\n"
        "                                   kezek keys generate\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    const char *key_path = config_str(svc.cfg, "signing_key", NULL);
    char err[256];
    if (!key_path || !signer_load(&signer, key_path, err, sizeof(err))) {
        log_error("notify.key", "%s", key_path ? err
                  : "signing_key is not set (kezek keys generate)");
        service_fini(&svc);
        return 1;
    }
    m_notices = metrics_counter("kezek_notices_delivered_total",
                                "Notices placed in the personal cabinet",
                                "channel=\"cabinet\"");
    long threads;
    if (!service_int(&svc, "http_threads", 4, 1, 256, &threads))
        return 1;
    svc.pool = pgpool_new(svc.conninfo, (int)threads + 1, notify_stmts);
    if (service_http(&svc, 8083, routes, health, NULL) != 0) {
        service_fini(&svc);
        return 1;
    }
    struct consumer_cfg cc = {
        .name = "notify", .conninfo = svc.conninfo, .stmts = notify_stmts,
        .bus_endpoints = svc.bus_endpoints, .batch_size = svc.batch_size,
        .idle_poll_ms = 250, .handle = deliver,
    };
    rc = consumer_run(&cc, &service_stop);
    sodium_memzero(&signer, sizeof(signer));
    service_fini(&svc);
    return rc == 0 ? 0 : 1;
}
