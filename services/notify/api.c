/* The HTTP API of kezek-notify: the personal cabinet, and the routes of
 * the paper channel (paper_api.c). */
#include "notify.h"

#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "iin.h"
#include "log.h"
#include "paper_api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One page of the citizen's messages, newest first. */
static void cabinet_page(PGconn *c, const principal_t *who,
                         const http_req_t *req, http_resp_t *resp,
                         long page, long per)
{
    const char *iin = req->params[0];
    char lim[16], off[24];
    snprintf(lim, sizeof(lim), "%ld", per);
    snprintf(off, sizeof(off), "%ld", (page - 1) * per);
    const char *p[3] = {iin, lim, off};
    PGresult *r = pg_run(c, "cabinet", 3, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    json_t *msgs = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char at[26];
        almaty_timestamp(atoll(PQgetvalue(r, i, CABINET_ISSUED_AT)), at);
        json_array_append_new(msgs, json_pack(
            "{s:s, s:s, s:s, s:o, s:s, s:s}", "application_id",
            PQgetvalue(r, i, CABINET_APPLICATION), "kind",
            PQgetvalue(r, i, CABINET_KIND), "issued_at", at, "document",
            json_loads(PQgetvalue(r, i, CABINET_CANONICAL), 0, NULL),
            "signature", PQgetvalue(r, i, CABINET_SIGNATURE), "key_id",
            PQgetvalue(r, i, CABINET_KEY_ID)));
    }
    http_reply_json(resp, 200, json_pack("{s:o, s:i}", "messages", msgs,
                                         "page", (int)page));
    audit_reply(resp, who->text, http_purpose(req, "cabinet"), "cabinet",
                iin);
    PQclear(r);
}

/* GET /v1/cabinet/{iin}/messages — the portal, for that citizen only. */
static void get_cabinet(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct notify *n = ctx;
    char err[256];
    principal_t who;
    enum auth_rc auth = auth_check(n->svc.pool, req, &who);
    PGconn *c = auth == AUTH_OK
                    ? pgpool_acquire(n->svc.pool, err, sizeof(err))
                    : NULL;
    if (auth == AUTH_OK && !c)
        auth = AUTH_DOWN;
    const char *iin = req->params[0];
    const char *citizen = http_header(req, "X-Citizen-IIN");
    long page, per;
    bool paging = query_long(req, "page", 1, &page) &&
                  query_long(req, "per_page", 20, &per);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
    } else if (who.kind != PRINCIPAL_PORTAL) {
        http_reply_error(resp, 403, "forbidden",
                         "the cabinet is served to the portal only", NULL);
    } else if (!citizen || strcmp(citizen, iin) != 0 ||
               !iin_valid(iin, NULL)) {
        http_reply_error(resp, 403, "forbidden",
                         "a citizen sees only their own messages "
                         "(X-Citizen-IIN)", NULL);
    } else if (!paging || page < 1 || page > 100000 || per < 1 ||
               per > 100) {
        http_reply_error(resp, 400, "invalid_field",
                         "page >= 1, per_page 1–100", NULL);
    } else {
        cabinet_page(c, &who, req, resp, page, per);
    }
    if (c)
        pgpool_release(n->svc.pool, c);
}

/* GET /v1/sms/dlr?notice=&token=&status= — Kannel's delivery report of
 * an SMS (the dlr-url sms_channel.c gave with it; internal: the edge
 * does not route it). The token is the HMAC of the notice id keyed by
 * the sendsms password, so only who may send may report. Kannel's
 * status: 1 delivered, 2 undelivered, 4 buffered (no change), 8 taken
 * by the SMSC, 16 rejected by it. */
static void get_sms_dlr(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct notify *n = ctx;
    const char *notice = http_query(req, "notice");
    const char *token = http_query(req, "token");
    const char *status = http_query(req, "status");
    char want[65];
    if (!n->sms.url || !notice || strlen(notice) > 120 || !token) {
        http_reply_error(resp, 404, "not_found", "no such report", NULL);
        return;
    }
    notify_sms_dlr_token(&n->sms, notice, want);
    if (strlen(token) != 64 || sodium_memcmp(token, want, 64) != 0) {
        http_reply_error(resp, 403, "forbidden", "bad token", NULL);
        return;
    }
    long st = status ? strtol(status, NULL, 10) : -1;
    const char *state = st == 1 ? "delivered"
                        : st == 2 || st == 16 ? "failed"
                        : st == 8 ? "sent"
                        : NULL;
    if (st == 4) {
        http_reply_text(resp, 200, "text/plain", strdup("buffered\n"));
        return;
    }
    if (!state) {
        http_reply_error(resp, 400, "invalid_field",
                         "status: 1, 2, 4, 8 or 16", NULL);
        return;
    }
    char err[256];
    PGconn *c = pgpool_acquire(n->svc.pool, err, sizeof(err));
    const char *p[3] = {notice, state, st == 2    ? "undelivered (report 2)"
                                       : st == 16 ? "rejected by the SMSC "
                                                    "(report 16)"
                                                  : NULL};
    PGresult *r = c ? pg_run(c, "sms_dlr", 3, p) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        if (atoi(PQcmdTuples(r)) > 0)
            log_info("sms.report", "notice %s: %s", notice, state);
        http_reply_text(resp, 200, "text/plain", strdup("ok\n"));
    }
    PQclear(r);
    if (c)
        pgpool_release(n->svc.pool, c);
}

const struct http_route notify_routes[] = {
    {"GET", "/v1/sms/dlr", get_sms_dlr, NULL},
    {"GET", "/v1/cabinet/*/messages", get_cabinet, NULL},
    {"GET", "/v1/applications/*/receipt.pdf", paper_get_receipt, NULL},
    {"GET", "/v1/applications/*/notice.pdf", paper_get_notice, NULL},
    {"GET", "/v1/applications/*/application-form.pdf", paper_get_filled_form,
     NULL},
    {"GET", "/v1/forms/application-form.pdf", paper_get_blank_form, NULL},
    {"POST", "/v1/applications/*/issuance", paper_post_issuance, NULL},
    {"GET", "/v1/journal/*/*", paper_get_journal, NULL},
    {"GET", "/v1/complaints/*/ticket.pdf", paper_get_ticket, NULL},
    {NULL, NULL, NULL, NULL},
};
