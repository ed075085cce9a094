#include "paper_api.h"

#include "notify.h"

#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "log.h"
#include "paper.h"

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
 * asserts. Fills access (its ACCESS_COLS columns: authority, principal,
 * IIN, channel) and, when receipt is not NULL, *receipt with the stored
 * p.14 receipt (caller frees; NULL when none); returns a connection, or
 * NULL after replying. */
static PGconn *paper_request(struct notify *n, const http_req_t *req,
                             http_resp_t *resp, principal_t *who,
                             char access[ACCESS_COLS][96], bool office_only,
                             char **receipt)
{
    if (receipt)
        *receipt = NULL;
    enum auth_rc auth = auth_check(n->svc.pool, req, who);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return NULL;
    }
    char err[256];
    PGconn *c = pgpool_acquire(n->svc.pool, err, sizeof(err));
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
        for (int i = ACCESS_AUTHORITY; i < ACCESS_COLS; i++)
            snprintf(access[i], 96, "%s", PQgetvalue(r, 0, i));
        const char *citizen = http_header(req, "X-Citizen-IIN");
        bool ok = (who->kind == PRINCIPAL_OFFICE &&
                   strcmp(who->id, access[ACCESS_AUTHORITY]) == 0) ||
                  (who->kind == PRINCIPAL_CENTRE &&
                   strcmp(who->text, access[ACCESS_PRINCIPAL]) == 0) ||
                  (!office_only && who->kind == PRINCIPAL_PORTAL &&
                   citizen && strcmp(citizen, access[ACCESS_IIN]) == 0);
        if (!ok)
            http_reply_error(resp, 403, "forbidden",
                             "not this principal's application", NULL);
        else if (receipt && !PQgetisnull(r, 0, ACCESS_RECEIPT))
            *receipt = strdup(PQgetvalue(r, 0, ACCESS_RECEIPT));
    }
    PQclear(r);
    if (resp->status && c) {
        pgpool_release(n->svc.pool, c);
        c = NULL;
    }
    return c;
}

/* Signs and stores the receipt notice of an application from the
 * receipt kept at acceptance (p.14), the first time it is printed; two
 * printers at once store one (the other's is discarded). False on SQL
 * error. */
static bool receipt_notice(struct notify *n, PGconn *c,
                           const char *application_id,
                           char access[ACCESS_COLS][96],
                           const char *receipt_json)
{
    json_t *receipt = json_loads(receipt_json, 0, NULL);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind", "receipt",
                            "application_id", application_id,
                            "authority_id", access[ACCESS_AUTHORITY],
                            "paragraph", "14",
                            "receipt", receipt ? receipt : json_object());
    char *canonical = notice_canonical(doc);
    json_decref(doc);
    if (!canonical)
        return false;
    char sig[128], id[96];
    const char *key_id;
    notify_sign(n, access[ACCESS_AUTHORITY], canonical, sig, &key_id);
    snprintf(id, sizeof(id), "%s-receipt", application_id);
    const char *p[6] = {id, application_id, access[ACCESS_IIN], canonical,
                        sig, key_id};
    PGresult *r = pg_run(c, "receipt_put", 6, p);
    free(canonical);
    PQclear(r);
    return r != NULL;
}

/* The paper kind of a notice's kind. */
static enum paper_kind paper_kind_of(const char *kind)
{
    return strcmp(kind, "receipt") == 0 ? PAPER_RECEIPT
           : strcmp(kind, "refusal") == 0 ? PAPER_REFUSAL
           : strcmp(kind, "complaint_ticket") == 0 ? PAPER_COMPLAINT_TICKET
           : PAPER_REGISTRATION_NOTICE;
}

/* paper_render's PDF of doc as the reply (500 when it cannot be
 * rendered); true when it was. */
static bool reply_render(enum paper_kind kind, json_t *doc,
                         const char *authority, const char *qr,
                         http_resp_t *resp)
{
    char err[256];
    size_t len = 0;
    unsigned char *pdf = paper_render(kind, doc, authority, qr, &len, err,
                                      sizeof(err));
    if (!pdf) {
        log_error("paper.render", "%s", err);
        http_reply_error(resp, 500, "internal",
                         "the document could not be rendered", NULL);
        return false;
    }
    http_reply_bytes(resp, 200, "application/pdf", (char *)pdf, len);
    return true;
}

/* Replies with the notice of paper_notice's row as a PDF. */
static void reply_pdf(PGconn *c, const principal_t *who,
                      const http_req_t *req, http_resp_t *resp,
                      char access[ACCESS_COLS][96], const PGresult *r)
{
    json_t *doc = json_loads(PQgetvalue(r, 0, PRINT_CANONICAL), 0, NULL);
    const char *kind = PQgetvalue(r, 0, PRINT_KIND);
    enum paper_kind pk = paper_kind_of(kind);
    char qr[512], name[512];
    paper_qr_payload(PQgetvalue(r, 0, PRINT_NOTICE),
                     PQgetvalue(r, 0, PRINT_KEY_ID),
                     PQgetvalue(r, 0, PRINT_SIGNATURE), qr, sizeof(qr));
    /* printed all the same under the authority's id when the read
     * failed */
    notify_authority_name(c, access[ACCESS_AUTHORITY], name, sizeof(name));
    /* the receipt document wraps the p.14 receipt object */
    json_t *body = pk == PAPER_RECEIPT ? json_object_get(doc, "receipt")
                                       : doc;
    if (reply_render(pk, body, name, qr, resp)) {
        char res[96];
        snprintf(res, sizeof(res), "%s.pdf/%s", kind, req->params[0]);
        audit_reply(resp, who->text, http_purpose(req, "print"), res,
                    access[ACCESS_IIN]);
    }
    json_decref(doc);
}

/* Renders the newest notice of one of kinds as a PDF reply. */
static void render(struct notify *n, const http_req_t *req,
                   http_resp_t *resp, const char *kinds)
{
    principal_t who;
    char access[ACCESS_COLS][96];
    char *receipt = NULL;
    bool is_receipt = strcmp(kinds, "receipt") == 0;
    PGconn *c = paper_request(n, req, resp, &who, access, false,
                              is_receipt ? &receipt : NULL);
    if (!c)
        return;
    const char *p[2] = {req->params[0], kinds};
    PGresult *r = pg_run(c, "paper_notice", 2, p);
    if (r && PQntuples(r) == 0 && receipt) {
        PQclear(r);
        r = receipt_notice(n, c, req->params[0], access, receipt)
                ? pg_run(c, "paper_notice", 2, p)
                : NULL;
    }
    free(receipt);
    if (!r)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (PQntuples(r) == 0)
        http_reply_error(resp, 404, "not_found",
                         "no such document yet (the result is not ready)",
                         NULL);
    else
        reply_pdf(c, &who, req, resp, access, r);
    PQclear(r);
    pgpool_release(n->svc.pool, c);
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

/* GET /v1/forms/application-form.pdf — the blank form of appendix 3
 * (p.11 item 1, p.12: at the stand and on the internet resource): for
 * anyone, no token. */
void paper_get_blank_form(void *ctx, const http_req_t *req,
                          http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    json_t *doc = json_object();
    /* the application form of appendix 3 with lines to write on; its QR
     * code names the form */
    reply_render(PAPER_APPLICATION_FORM, doc, "Тұрғын үй басқармасы "
                 "(бөлімі) / Жилищное управление (отдел)",
                 "KEZEK-FORM|appendix-3", resp);
    json_decref(doc);
}

/* GET /v1/applications/{id}/application-form.pdf — the form filled from
 * the application as accepted (its p.14 receipt): who may print its
 * receipt may print it. */
void paper_get_filled_form(void *ctx, const http_req_t *req,
                           http_resp_t *resp)
{
    struct notify *n = ctx;
    principal_t who;
    char access[ACCESS_COLS][96], name[512], qr[128];
    char *receipt = NULL;
    PGconn *c = paper_request(n, req, resp, &who, access, false, &receipt);
    if (!c)
        return;
    json_t *doc = receipt ? json_loads(receipt, 0, NULL) : NULL;
    free(receipt);
    if (!json_is_object(doc)) {
        http_reply_error(resp, 404, "not_found", "no receipt of this "
                         "application to fill the form from", NULL);
    } else {
        notify_authority_name(c, access[ACCESS_AUTHORITY], name,
                              sizeof(name));
        json_object_set_new(doc, "authority_name", json_string(name));
        snprintf(qr, sizeof(qr), "KEZEK-FORM|appendix-3|%s",
                 req->params[0]);
        if (reply_render(PAPER_APPLICATION_FORM, doc, name, qr, resp)) {
            char res[96];
            snprintf(res, sizeof(res), "application-form.pdf/%s",
                     req->params[0]);
            audit_reply(resp, who.text, http_purpose(req, "print"), res,
                        access[ACCESS_IIN]);
        }
    }
    json_decref(doc);
    pgpool_release(n->svc.pool, c);
}

/* A hand-over as the office records it (POST …/issuance). */
struct issuance {
    const char *by, *name, *poa, *at;   /* borrowed from the body */
    bool rep;
    char now[26];                       /* at, when the body gives none */
};

/* Replies with the contract's error when the hand-over cannot be
 * recorded as given; true when it replied. */
static bool issuance_refused(const struct issuance *is,
                             char access[ACCESS_COLS][96], http_resp_t *resp)
{
    if (strcmp(access[ACCESS_CHANNEL], "portal") == 0) {
        http_reply_error(resp, 409, "not_on_paper",
                         "a portal result goes to the personal cabinet",
                         NULL);
    } else if (!is->by || (!is->rep && strcmp(is->by, "applicant") != 0)) {
        http_reply_error(resp, 400, "invalid_field",
                         "received_by: applicant or representative",
                         json_pack("{s:s}", "field", "received_by"));
    } else if (!is->name || !*is->name || strlen(is->name) > 200) {
        http_reply_error(resp, 400, "invalid_field",
                         "name of who received it is required",
                         json_pack("{s:s}", "field", "name"));
    } else if (is->rep && (!is->poa || !*is->poa || strlen(is->poa) > 200)) {
        http_reply_error(resp, 400, "invalid_field",
                         "a representative needs the power of attorney",
                         json_pack("{s:s}", "field", "power_of_attorney"));
    } else if (is->at && strlen(is->at) > 40) {
        http_reply_error(resp, 400, "invalid_field", "at: RFC 3339",
                         json_pack("{s:s}", "field", "at"));
    } else {
        return false;
    }
    return true;
}

/* Stores the hand-over of the application's result, once, and replies. */
static void issuance_store(PGconn *c, const principal_t *who,
                           const http_req_t *req, http_resp_t *resp,
                           char access[ACCESS_COLS][96],
                           const struct issuance *is)
{
    const char *at = is->at ? is->at : is->now;
    const char *np[2] = {req->params[0], "registration_notice,refusal"};
    PGresult *r = pg_run(c, "paper_notice", 2, np);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (PQntuples(r) == 0) {
        http_reply_error(resp, 409, "not_ready",
                         "the result is not ready yet", NULL);
    } else {
        const char *notice = PQgetvalue(r, 0, PRINT_NOTICE);
        const char *ip[8] = {req->params[0], notice,
                             access[ACCESS_AUTHORITY], is->by, is->name,
                             is->rep ? is->poa : NULL, at, who->text};
        PGresult *w = pg_run(c, "issuance_put", 8, ip);
        if (!w)
            http_reply_error(resp, 400, "invalid_field",
                             "at: not a valid time",
                             json_pack("{s:s}", "field", "at"));
        else if (strcmp(PQcmdTuples(w), "1") != 0)
            http_reply_error(resp, 409, "already_issued",
                             "this result was already handed over", NULL);
        else
            http_reply_json(resp, 201, json_pack(
                "{s:s, s:s, s:s, s:s}", "application_id", req->params[0],
                "notice_id", notice, "received_by", is->by, "issued_at",
                at));
        PQclear(w);
    }
    PQclear(r);
}

/* POST /v1/applications/{id}/issuance — p.15: the result handed over
 * against the receipt, once. */
void paper_post_issuance(void *ctx, const http_req_t *req,
                         http_resp_t *resp)
{
    struct notify *n = ctx;
    principal_t who;
    char access[ACCESS_COLS][96];
    PGconn *c = paper_request(n, req, resp, &who, access, true, NULL);
    if (!c)
        return;
    json_t *body = http_json_body(req, resp);
    struct issuance is = {
        .by = json_string_value(json_object_get(body, "received_by")),
        .name = json_string_value(json_object_get(body, "name")),
        .poa = json_string_value(json_object_get(body,
                                                 "power_of_attorney")),
        .at = json_string_value(json_object_get(body, "at")),
    };
    almaty_timestamp(now_us() / 1000000, is.now);
    is.rep = is.by && strcmp(is.by, "representative") == 0;
    /* without a body, http_json_body replied */
    if (body && !issuance_refused(&is, access, resp))
        issuance_store(c, &who, req, resp, access, &is);
    json_decref(body);
    pgpool_release(n->svc.pool, c);
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

/* The journal's columns (JOURNAL_*) as its CSV header and its JSON name
 * them. */
static const char *const journal_names[JOURNAL_COLS] = {
    "application_id", "notice_id", "received_by", "receiver_name",
    "power_of_attorney", "issued_at", "recorded_by",
};

/* Row i's value in column k; issued_at as an Almaty time, in at. */
static const char *journal_value(const PGresult *r, int i, int k,
                                 char at[26])
{
    if (k != JOURNAL_ISSUED_AT)
        return PQgetvalue(r, i, k);
    almaty_timestamp(atoll(PQgetvalue(r, i, k)), at);
    return at;
}

static void journal_csv(const PGresult *r, http_resp_t *resp)
{
    size_t cap = 256 + (size_t)PQntuples(r) * 1200, n;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int k = 0; k < JOURNAL_COLS; k++) {
        n = strlen(out);
        snprintf(out + n, cap - n, "%s%c", journal_names[k],
                 k == JOURNAL_COLS - 1 ? '\n' : ',');
    }
    for (int i = 0; i < PQntuples(r); i++) {
        char line[1200] = "", at[26];
        for (int k = 0; k < JOURNAL_COLS; k++)
            csv_field(line, sizeof(line), journal_value(r, i, k, at),
                      k == JOURNAL_COLS - 1);
        n = strlen(out);
        snprintf(out + n, cap - n, "%s", line);
    }
    http_reply_bytes(resp, 200, "text/csv; charset=utf-8", out,
                     strlen(out));
}

/* The rows as JSON objects; a row with a value JSON cannot hold is left
 * out. */
static json_t *journal_json(const PGresult *r)
{
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *row = json_object();
        for (int k = 0; k < JOURNAL_COLS && row; k++) {
            char at[26];
            json_t *v = json_string(journal_value(r, i, k, at));
            if (!v) {
                json_decref(row);
                row = NULL;
            } else {
                json_object_set_new(row, journal_names[k], v);
            }
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

/* GET /v1/journal/{authority_id}/{date}[.csv] — the journal of issued
 * results of one day, for that authority's office. */
void paper_get_journal(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct notify *n = ctx;
    principal_t who;
    enum auth_rc auth = auth_check(n->svc.pool, req, &who);
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
    PGconn *c = pgpool_acquire(n->svc.pool, err, sizeof(err));
    const char *p[2] = {req->params[0], date};
    PGresult *r = c ? pg_run(c, "journal", 2, p) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        if (csv)
            journal_csv(r, resp);
        else
            http_reply_json(resp, 200, json_pack("{s:s, s:s, s:o}",
                            "authority_id", req->params[0], "date", date,
                            "issued", journal_json(r)));
        audit_reply(resp, who.text, http_purpose(req, "journal"), "journal",
                    NULL);
    }
    PQclear(r);
    if (c)
        pgpool_release(n->svc.pool, c);
}
