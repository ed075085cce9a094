/* Complaints (p.20–25): accepted in writing at an office or on the
 * portal, answered with a ticket (p.25), routed to the appeal instance
 * of the authority's region (appendix 5) or, about a centre's service,
 * to the centre's head; received → in_review → answered. */
#include "intake.h"


#include "audit.h"
#include "calendar.h"
#include "iin.h"
#include "log.h"
#include "outbox.h"
#include "text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER "intake"

static long answer_days = 15;

void complaints_init(long days)
{
    answer_days = days;
}

static bool emit(PGconn *c, int type, const char *id, const char *iin,
                 const char *authority, json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    Kezek__ComplaintEvent e = KEZEK__COMPLAINT_EVENT__INIT;
    e.complaint_id = (char *)id;
    e.complainant_iin = (char *)iin;
    e.authority_id = (char *)authority;
    e.document_json = s;
    bool ok = s && outbox_add_msg(c, PRODUCER, type, id, &e.base);
    free(s);
    return ok;
}

/* Where the complaint goes: the centre's head for a centre's service,
 * else the appeal instance of the region. Fills kind, id and the
 * instance's record; false when the reference data has none. */
static bool route(PGconn *c, const char *authority, const char *centre,
                  char *kind, char *id, json_t **doc)
{
    const char *p[1] = {centre ? centre : authority};
    PGresult *r = pg_run(c, centre ? "complaint_centre"
                                   : "complaint_appeal", 1, p);
    bool ok = r && PQntuples(r) == 1;
    if (ok) {
        strcpy(kind, centre ? "centre" : "appeal_instance");
        snprintf(id, 64, "%s", PQgetvalue(r, 0, 0));
        *doc = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    }
    PQclear(r);
    return ok && *doc;
}

/* A repeat of (principal, Idempotency-Key): 1 replied (200 or 409),
 * 0 new, -1 database error. */
static int complaint_replay(PGconn *c, const principal_t *who,
                            const char *key, const char *sha,
                            http_resp_t *resp)
{
    const char *p[2] = {who->text, key};
    PGresult *r = pg_run(c, "complaint_idem", 2, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1;
    if (rc && strcmp(PQgetvalue(r, 0, 1), sha) != 0)
        http_reply_error(resp, 409, "idempotency_conflict",
                         "this Idempotency-Key was used with another body",
                         NULL);
    else if (rc)
        http_reply_json(resp, 200, json_pack("{s:s, s:s, s:o}",
                        "complaint_id", PQgetvalue(r, 0, 0), "state",
                        PQgetvalue(r, 0, 3), "ticket",
                        json_loads(PQgetvalue(r, 0, 2), 0, NULL)));
    PQclear(r);
    return rc;
}

/* POST /v1/complaints (Idempotency-Key required, as for applications) */
void complaints_post(PGconn *c, const principal_t *who,
                     const http_req_t *req, http_resp_t *resp)
{
    const char *key = http_idempotency_key(req, resp);
    if (!key)
        return;
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    char sha[65];
    {
        unsigned char h[crypto_hash_sha256_BYTES];
        char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
        free(canon);
        sodium_bin2hex(sha, sizeof(sha), h, sizeof(h));
    }
    int seen = complaint_replay(c, who, key, sha, resp);
    if (seen != 0) {
        if (seen < 0)
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        json_decref(body);
        return;
    }
    const char *iin = json_string_value(json_object_get(body,
                                                        "complainant_iin"));
    const char *app = json_string_value(json_object_get(body,
                                                        "application_id"));
    const char *auth = json_string_value(json_object_get(body,
                                                         "authority_id"));
    const char *text = json_string_value(json_object_get(body, "text"));
    const char *emp = json_string_value(json_object_get(body,
                                                        "about_employee"));
    json_t *att = json_object_get(body, "attachments");
    const char *citizen = http_header(req, "X-Citizen-IIN");
    char authority[64] = "", centre[64] = "", kind[32], routed[64];
    json_t *instance = NULL, *docs = json_array();
    size_t i;
    json_t *a;
    bool att_ok = !att || (json_is_array(att) && json_array_size(att) <= 20);
    json_array_foreach(att, i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (!n || !*n || text_problem(n, strlen(n), 200, false))
            att_ok = false;
        else
            json_array_append_new(docs, json_pack("{s:s}", "name", n));
    }
    if (who->kind != PRINCIPAL_OFFICE && who->kind != PRINCIPAL_PORTAL &&
        who->kind != PRINCIPAL_CENTRE) {
        http_reply_error(resp, 403, "forbidden", "complaints are accepted "
                         "at an office, a centre or on the portal", NULL);
        goto out;
    }
    if (!iin || !iin_valid(iin, NULL)) {
        http_reply_error(resp, 400, "invalid_iin",
                         "complainant_iin is not a valid IIN", NULL);
        goto out;
    }
    if (!text || !*text || strlen(text) > 20000 || !att_ok ||
        (emp && text_problem(emp, strlen(emp), 300, false)) ||
        (app && strlen(app) > 64) ||
        (auth && strlen(auth) > 63)) {
        http_reply_error(resp, 400, "invalid_field", "text (free form, up "
                         "to 20000 bytes), attachments [{name}], "
                         "about_employee, application_id", NULL);
        goto out;
    }
    if (who->kind == PRINCIPAL_PORTAL &&
        (!citizen || strcmp(citizen, iin) != 0)) {
        http_reply_error(resp, 403, "forbidden", "the portal files "
                         "complaints for the citizen it asserts", NULL);
        goto out;
    }
    if (app) {
        const char *p[1] = {app};
        PGresult *r = pg_run(c, "app_get", 1, p);
        if (r && PQntuples(r) == 1 &&
            strcmp(PQgetvalue(r, 0, 8), iin) == 0) {
            snprintf(authority, sizeof(authority), "%s",
                     PQgetvalue(r, 0, 2));
            if (strncmp(PQgetvalue(r, 0, 7), "centre:", 7) == 0)
                snprintf(centre, sizeof(centre), "%s",
                         PQgetvalue(r, 0, 7) + 7);
        }
        PQclear(r);
        if (!authority[0]) {
            http_reply_error(resp, 404, "not_found", "no application of "
                             "this complainant with that id", NULL);
            goto out;
        }
    } else if (who->kind == PRINCIPAL_OFFICE) {
        /* another authority named is refused below (403), never
         * silently taken for the office's own */
        snprintf(authority, sizeof(authority), "%s", auth ? auth : who->id);
    } else if (auth) {
        snprintf(authority, sizeof(authority), "%s", auth);
    } else {
        http_reply_error(resp, 400, "invalid_field", "application_id or "
                         "authority_id is required", NULL);
        goto out;
    }
    if (who->kind == PRINCIPAL_OFFICE && strcmp(who->id, authority) != 0) {
        http_reply_error(resp, 403, "forbidden", "an office accepts "
                         "complaints about its own authority", NULL);
        goto out;
    }
    if (!route(c, authority, centre[0] ? centre : NULL, kind, routed,
               &instance)) {
        http_reply_error(resp, 422, "unknown_authority", "no appeal "
                         "instance is known for this authority", NULL);
        goto out;
    }
    int64_t now = now_us();
    kdate_t today = almaty_date(now / 1000000);
    char id[33], number[48], at[26], due[11];
    event_new_id(id);
    almaty_timestamp(now / 1000000, at);
    kdate_format(kdate_add(today, (int)answer_days), due);
    if (!pg_exec(c, "BEGIN"))
        goto fail;
    PGresult *r = pg_run(c, "complaint_next", 0, NULL);
    if (!r)
        goto rollback;
    snprintf(number, sizeof(number), "Ш-%04d-%08lld", today.year,
             atoll(PQgetvalue(r, 0, 0)));
    PQclear(r);
    const char *iname = json_string_value(json_object_get(instance,
                                                          "name"));
    const char *iaddr = json_string_value(json_object_get(instance,
                                                          "address"));
    json_t *ticket = json_pack(
        "{s:s, s:s, s:s, s:i, s:O, s:s, s:s, s:s, s:{s:s?, s:s?, s:s?},"
        " s:{s:s, s:s}, s:s}",
        "number", number, "accepted_at", at, "complaint_id", id,
        "documents_count", (int)json_array_size(docs), "documents", docs,
        "answer_due", due, "answer_place", iname ? iname : routed,
        "accepted_by", who->employee[0] ? who->employee : who->text,
        "contact_official", "name", iname,
        "phone", json_string_value(json_object_get(instance, "phone")
                                   ? json_object_get(instance, "phone")
                                   : json_object_get(instance, "phones")),
        "email", json_string_value(json_object_get(instance, "email")),
        "routed_to", "kind", kind, "id", routed, "paragraph", "25");
    /* who may print the ticket: the principal that accepted it */
    json_object_set_new(ticket, "accepted_via", json_string(who->text));
    if (iaddr)
        json_object_set_new(ticket, "answer_address", json_string(iaddr));
    char *ticket_s = json_dumps(ticket, JSON_COMPACT);
    char *att_s = json_dumps(docs, JSON_COMPACT);
    const char *channel = who->kind == PRINCIPAL_PORTAL ? "portal"
                          : who->kind == PRINCIPAL_CENTRE ? "centre"
                                                          : "office";
    const char *p[17] = {id, number, app, authority, iin, emp, text, att_s,
                         channel, who->text, due, kind, routed, ticket_s,
                         who->text, key, sha};
    r = pg_run(c, "complaint_put", 17, p);
    bool ok = r != NULL;
    bool raced = r && strcmp(PQcmdTuples(r), "0") == 0;
    PQclear(r);
    if (raced) { /* the same key committed meanwhile: answer as a repeat */
        free(ticket_s);
        free(att_s);
        json_decref(ticket);
        if (!pg_exec(c, "ROLLBACK") ||
            complaint_replay(c, who, key, sha, resp) <= 0)
            goto fail;
        goto out;
    }
    ok = ok && emit(c, KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED, id, iin,
                    authority, ticket) && pg_exec(c, "COMMIT");
    free(ticket_s);
    free(att_s);
    if (ok) {
        log_info("complaint.received", "complaint %s routed to %s %s", id,
                 kind, routed);
        http_reply_json(resp, 201, json_pack("{s:s, s:s, s:o}",
                        "complaint_id", id, "state", "received", "ticket",
                        ticket));
        goto out;
    }
    json_decref(ticket);
rollback:
    if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_error("complaint.rollback", "rollback failed");
fail:
    if (!resp->status)
        http_reply_error(resp, 503, "unavailable", "the complaint could not "
                         "be stored; nothing was accepted", NULL);
out:
    json_decref(instance);
    json_decref(docs);
    json_decref(body);
}

/* GET /v1/complaints/{id} — the complainant (portal, X-Citizen-IIN),
 * the authority's office, operators. */
void complaints_get(PGconn *c, const principal_t *who,
                    const http_req_t *req, http_resp_t *resp)
{
    const char *p[1] = {req->params[0]};
    PGresult *r = strlen(req->params[0]) == 32
                      ? pg_run(c, "complaint_get", 1, p) : NULL;
    const char *citizen = http_header(req, "X-Citizen-IIN");
    if (!r && strlen(req->params[0]) == 32) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!r || PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found", "no such complaint", NULL);
    } else if (!(who->kind == PRINCIPAL_OPS ||
                 (who->kind == PRINCIPAL_OFFICE &&
                  strcmp(who->id, PQgetvalue(r, 0, 1)) == 0) ||
                 (who->kind == PRINCIPAL_PORTAL && citizen &&
                  strcmp(citizen, PQgetvalue(r, 0, 2)) == 0))) {
        http_reply_error(resp, 403, "forbidden",
                         "a complainant sees only their own complaints",
                         NULL);
    } else {
        json_t *ticket = json_loads(PQgetvalue(r, 0, 3), 0, NULL);
        json_t *out = json_pack("{s:s, s:s, s:o}", "complaint_id",
                                req->params[0], "state", PQgetvalue(r, 0, 0),
                                "ticket", ticket ? ticket : json_null());
        if (!PQgetisnull(r, 0, 4)) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, 0, 5)), at);
            json_object_set_new(out, "answer", json_pack("{s:s, s:s}",
                                "text", PQgetvalue(r, 0, 4), "answered_at",
                                at));
        }
        http_reply_json(resp, 200, out);
        audit_reply(resp, who->text, http_purpose(req, "complaint"),
                    "complaint", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
}

/* POST /v1/complaints/{id}/review and …/answer — operators record the
 * appeal instance's progress; the answer reaches the cabinet. */
void complaints_progress(PGconn *c, const principal_t *who,
                         const http_req_t *req, http_resp_t *resp,
                         bool answer)
{
    json_t *body = answer ? http_json_body(req, resp) : NULL;
    const char *text = json_string_value(json_object_get(body, "text"));
    if (answer && !body)
        return;
    if (who->kind != PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden", "operators record the "
                         "appeal instance's progress", NULL);
    } else if (answer && (!text || !*text || strlen(text) > 20000)) {
        http_reply_error(resp, 400, "invalid_field", "text of the answer",
                         json_pack("{s:s}", "field", "text"));
    } else if (!pg_exec(c, "BEGIN")) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        const char *p[3] = {req->params[0],
                            answer ? "answered" : "in_review", text};
        PGresult *r = pg_run(c, "complaint_state", 3, p);
        bool ok = r != NULL;
        if (r && PQntuples(r) == 0) {
            http_reply_error(resp, 409, "invalid_state",
                             "no such complaint in a state that allows it",
                             NULL);
            ok = false;
        } else if (r && answer) {
            json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "complaint_id",
                                    req->params[0], "number",
                                    PQgetvalue(r, 0, 2), "answer_text", text,
                                    "paragraph", "20");
            ok = emit(c, KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED,
                      req->params[0], PQgetvalue(r, 0, 0),
                      PQgetvalue(r, 0, 1), doc);
            json_decref(doc);
        }
        if (ok && pg_exec(c, "COMMIT")) {
            http_reply_json(resp, 200, json_pack("{s:s, s:s}",
                            "complaint_id", req->params[0], "state",
                            answer ? "answered" : "in_review"));
        } else {
            if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
                log_error("complaint.rollback", "rollback failed");
            if (!resp->status)
                http_reply_error(resp, 503, "unavailable",
                                 "database unavailable", NULL);
        }
        PQclear(r);
    }
    json_decref(body);
}
