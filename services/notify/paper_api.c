#include "paper_api.h"

#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "notice.h"
#include "paper.h"
#include "refname.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void paper_qr_payload(const char *notice_id, const char *key_id,
                      const char *sig, char *out, size_t len)
{
    snprintf(out, len, "KEZEK1|%s|%s|%s", notice_id, key_id, sig);
}

/* Who may print or record for an application (p.17): the office of its
 * authority, the centre that accepted it, the portal for the citizen it
 * asserts. Fills access (4 columns: authority, principal, IIN, channel)
 * and, when receipt is not NULL, *receipt with the stored p.14 receipt
 * (caller frees; NULL when none); returns a connection, or NULL after
 * replying. */
static PGconn *paper_request(service_t *svc, const http_req_t *req,
                             http_resp_t *resp, principal_t *who,
                             char access[4][96], bool office_only,
                             char **receipt)
{
    if (receipt)
        *receipt = NULL;
    enum auth_rc auth = auth_check(svc->pool, req, who);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return NULL;
    }
    char err[256];
    PGconn *c = pgpool_acquire(svc->pool, err, sizeof(err));
    const char *p[1] = {req->params[0]};
    PGresult *r = c && strlen(req->params[0]) < 64
                      ? pg_run(c, "paper_access_get", 1, p) : NULL;
    if (!c || (!r && strlen(req->params[0]) < 64)) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!r || PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found", "no such application",
                         NULL);
    } else {
        for (int i = 0; i < 4; i++)
            snprintf(access[i], 96, "%s", PQgetvalue(r, 0, i));
        const char *citizen = http_header(req, "X-Citizen-IIN");
        bool ok = (who->kind == PRINCIPAL_OFFICE &&
                   strcmp(who->id, access[0]) == 0) ||
                  (who->kind == PRINCIPAL_CENTRE &&
                   strcmp(who->text, access[1]) == 0) ||
                  (!office_only && who->kind == PRINCIPAL_PORTAL &&
                   citizen && strcmp(citizen, access[2]) == 0);
        if (!ok)
            http_reply_error(resp, 403, "forbidden",
                             "not this principal's application", NULL);
        else if (receipt && !PQgetisnull(r, 0, 4))
            *receipt = strdup(PQgetvalue(r, 0, 4));
    }
    PQclear(r);
    if (resp->status && c) {
        pgpool_release(svc->pool, c);
        c = NULL;
    }
    return c;
}

/* Signs and stores the receipt notice of an application from the
 * receipt kept at acceptance (p.14), the first time it is printed; two
 * printers at once store one (the other's is discarded). False on SQL
 * error. */
static bool receipt_notice(PGconn *c, const char *application_id,
                           char access[4][96], const char *receipt_json)
{
    json_t *receipt = json_loads(receipt_json, 0, NULL);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind", "receipt",
                            "application_id", application_id,
                            "authority_id", access[0], "paragraph", "14",
                            "receipt", receipt ? receipt : json_object());
    char *canonical = notice_canonical(doc);
    json_decref(doc);
    if (!canonical)
        return false;
    char sig[128], id[96];
    const char *key_id;
    notify_sign(access[0], canonical, sig, &key_id);
    snprintf(id, sizeof(id), "%s-receipt", application_id);
    const char *p[6] = {id, application_id, access[2], canonical, sig,
                        key_id};
    PGresult *r = pg_run(c, "receipt_put", 6, p);
    free(canonical);
    PQclear(r);
    return r != NULL;
}

/* Renders the newest notice of one of kinds as a PDF reply. */
static void render(service_t *svc, const http_req_t *req, http_resp_t *resp,
                   const char *kinds)
{
    principal_t who;
    char access[4][96];
    char *receipt = NULL;
    bool is_receipt = strcmp(kinds, "receipt") == 0;
    PGconn *c = paper_request(svc, req, resp, &who, access, false,
                              is_receipt ? &receipt : NULL);
    if (!c)
        return;
    const char *p[2] = {req->params[0], kinds};
    PGresult *r = pg_run(c, "paper_notice", 2, p);
    if (r && PQntuples(r) == 0 && receipt) {
        PQclear(r);
        r = receipt_notice(c, req->params[0], access, receipt)
                ? pg_run(c, "paper_notice", 2, p)
                : NULL;
    }
    free(receipt);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found",
                         "no such document yet (the result is not ready)",
                         NULL);
    } else {
        json_t *doc = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
        const char *kind = PQgetvalue(r, 0, 4);
        enum paper_kind pk = strcmp(kind, "receipt") == 0
                                 ? PAPER_RECEIPT
                             : strcmp(kind, "refusal") == 0
                                 ? PAPER_REFUSAL
                             : strcmp(kind, "complaint_ticket") == 0
                                 ? PAPER_COMPLAINT_TICKET
                                 : PAPER_REGISTRATION_NOTICE;
        char qr[512], name[512], err[256];
        paper_qr_payload(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 3),
                         PQgetvalue(r, 0, 2), qr, sizeof(qr));
        if (refname_get(c, "authority_name", access[0], name,
                        sizeof(name)) <= 0)
            snprintf(name, sizeof(name), "%s", access[0]);
        /* the receipt document wraps the p.14 receipt object */
        json_t *body = pk == PAPER_RECEIPT ? json_object_get(doc, "receipt")
                                           : doc;
        size_t len = 0;
        unsigned char *pdf = paper_render(pk, body, name, qr, &len, err,
                                          sizeof(err));
        if (!pdf) {
            log_error("paper.render", "%s", err);
            http_reply_error(resp, 500, "internal",
                             "the document could not be rendered", NULL);
        } else {
            http_reply_bytes(resp, 200, "application/pdf", (char *)pdf, len);
            char res[96];
            snprintf(res, sizeof(res), "%s.pdf/%s", kind, req->params[0]);
            audit_reply(resp, who.text, http_purpose(req, "print"), res,
                        access[2]);
        }
        json_decref(doc);
    }
    PQclear(r);
    pgpool_release(svc->pool, c);
}

void paper_get_receipt(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    render(ctx, req, resp, "receipt");
}

void paper_get_notice(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    render(ctx, req, resp, "registration_notice,refusal");
}

/* GET /v1/complaints/{id}/ticket.pdf — p.25 */
void paper_get_ticket(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    render(ctx, req, resp, "complaint_ticket");
}

/* POST /v1/applications/{id}/issuance — p.15: the result handed over
 * against the receipt, once. */
void paper_post_issuance(void *ctx, const http_req_t *req,
                         http_resp_t *resp)
{
    service_t *svc = ctx;
    principal_t who;
    char access[4][96];
    PGconn *c = paper_request(svc, req, resp, &who, access, true, NULL);
    if (!c)
        return;
    json_t *body = http_json_body(req, resp);
    const char *by = json_string_value(json_object_get(body, "received_by"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *poa = json_string_value(json_object_get(body,
                                                        "power_of_attorney"));
    const char *at = json_string_value(json_object_get(body, "at"));
    char now_s[26];
    almaty_timestamp(now_us() / 1000000, now_s);
    bool rep = by && strcmp(by, "representative") == 0;
    if (!body) {
        /* replied */
    } else if (strcmp(access[3], "portal") == 0) {
        http_reply_error(resp, 409, "not_on_paper",
                         "a portal result goes to the personal cabinet",
                         NULL);
    } else if (!by || (!rep && strcmp(by, "applicant") != 0)) {
        http_reply_error(resp, 400, "invalid_field",
                         "received_by: applicant or representative",
                         json_pack("{s:s}", "field", "received_by"));
    } else if (!name || !*name || strlen(name) > 200) {
        http_reply_error(resp, 400, "invalid_field",
                         "name of who received it is required",
                         json_pack("{s:s}", "field", "name"));
    } else if (rep && (!poa || !*poa || strlen(poa) > 200)) {
        http_reply_error(resp, 400, "invalid_field",
                         "a representative needs the power of attorney",
                         json_pack("{s:s}", "field", "power_of_attorney"));
    } else if (at && strlen(at) > 40) {
        http_reply_error(resp, 400, "invalid_field", "at: RFC 3339",
                         json_pack("{s:s}", "field", "at"));
    } else {
        const char *np[2] = {req->params[0], "registration_notice,refusal"};
        PGresult *r = pg_run(c, "paper_notice", 2, np);
        if (!r) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        } else if (PQntuples(r) == 0) {
            http_reply_error(resp, 409, "not_ready",
                             "the result is not ready yet", NULL);
        } else {
            const char *ip[8] = {req->params[0], PQgetvalue(r, 0, 0),
                                 access[0], by, name, rep ? poa : NULL,
                                 at ? at : now_s, who.text};
            PGresult *w = pg_run(c, "issuance_put", 8, ip);
            if (!w)
                http_reply_error(resp, 400, "invalid_field",
                                 "at: not a valid time",
                                 json_pack("{s:s}", "field", "at"));
            else if (strcmp(PQcmdTuples(w), "1") != 0)
                http_reply_error(resp, 409, "already_issued",
                                 "this result was already handed over",
                                 NULL);
            else
                http_reply_json(resp, 201, json_pack(
                    "{s:s, s:s, s:s, s:s}", "application_id",
                    req->params[0], "notice_id", PQgetvalue(r, 0, 0),
                    "received_by", by, "issued_at", at ? at : now_s));
            PQclear(w);
        }
        PQclear(r);
    }
    json_decref(body);
    pgpool_release(svc->pool, c);
}

/* Appends s to a CSV line, quoted (RFC 4180); a cell that a spreadsheet
 * would run as a formula (= + - @) gets a leading '. Truncates, never
 * overflows (cap >= 8). */
static void csv_field(char *line, size_t cap, const char *s, bool last)
{
    size_t n = strlen(line);
    if (n + 5 > cap)
        return;
    line[n++] = '"';
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
        line[n++] = '\'';
    for (; *s && n + 5 < cap; s++) {
        if (*s == '"')
            line[n++] = '"';
        line[n++] = *s;
    }
    line[n++] = '"';
    line[n++] = last ? '\n' : ',';
    line[n] = '\0';
}

/* GET /v1/journal/{authority_id}/{date}[.csv] — the journal of issued
 * results of one day, for that authority's office. */
void paper_get_journal(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    service_t *svc = ctx;
    principal_t who;
    enum auth_rc auth = auth_check(svc->pool, req, &who);
    char date[16];
    snprintf(date, sizeof(date), "%s", req->params[1]);
    bool csv = strlen(date) == 14 && strcmp(date + 10, ".csv") == 0;
    if (csv)
        date[10] = '\0';
    kdate_t d;
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return;
    }
    if (who.kind != PRINCIPAL_OFFICE ||
        strcmp(who.id, req->params[0]) != 0) {
        http_reply_error(resp, 403, "forbidden",
                         "the journal is kept by the authority's office",
                         NULL);
        return;
    }
    if (!kdate_parse(date, &d)) {
        http_reply_error(resp, 400, "invalid_field", "date: YYYY-MM-DD",
                         json_pack("{s:s}", "field", "date"));
        return;
    }
    char err[256];
    PGconn *c = pgpool_acquire(svc->pool, err, sizeof(err));
    const char *p[2] = {req->params[0], date};
    PGresult *r = c ? pg_run(c, "journal", 2, p) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (csv) {
        size_t cap = 256 + (size_t)PQntuples(r) * 1200, n;
        char *out = malloc(cap);
        snprintf(out, cap, "application_id,notice_id,received_by,"
                           "receiver_name,power_of_attorney,issued_at,"
                           "recorded_by\n");
        for (int i = 0; i < PQntuples(r); i++) {
            char line[1200] = "", at[26];
            almaty_timestamp(atoll(PQgetvalue(r, i, 5)), at);
            for (int k = 0; k < 7; k++)
                csv_field(line, sizeof(line),
                          k == 5 ? at : PQgetvalue(r, i, k), k == 6);
            n = strlen(out);
            snprintf(out + n, cap - n, "%s", line);
        }
        http_reply_bytes(resp, 200, "text/csv; charset=utf-8", out,
                         strlen(out));
        audit_reply(resp, who.text, http_purpose(req, "journal"), "journal",
                    NULL);
    } else {
        json_t *rows = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, i, 5)), at);
            json_array_append_new(rows, json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "application_id",
                PQgetvalue(r, i, 0), "notice_id", PQgetvalue(r, i, 1),
                "received_by", PQgetvalue(r, i, 2), "receiver_name",
                PQgetvalue(r, i, 3), "power_of_attorney",
                PQgetvalue(r, i, 4), "issued_at", at, "recorded_by",
                PQgetvalue(r, i, 6)));
        }
        http_reply_json(resp, 200, json_pack("{s:s, s:s, s:o}",
                        "authority_id", req->params[0], "date", date,
                        "issued", rows));
        audit_reply(resp, who.text, http_purpose(req, "journal"), "journal",
                    NULL);
    }
    PQclear(r);
    if (c)
        pgpool_release(svc->pool, c);
}
