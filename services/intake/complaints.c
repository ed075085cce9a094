/* Complaints (p.20–25): accepted in writing at an office or on the
 * portal, answered with a ticket (p.25), routed (p.20) — about an
 * employee's actions, to the head of the authority (head:<authority>);
 * about a centre's service, to the centre's head; about the head, the
 * result or the service otherwise, to the appeal instance of the
 * authority's region (appendix 5); received → in_review → answered. */
#include "intake.h"


#include "audit.h"
#include "calendar.h"
#include "iin.h"
#include "log.h"
#include "outbox.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER "intake"

static long answer_days = 15, head_answer_days = 5;

void complaints_init(long days, long head_days)
{
    answer_days = days;
    head_answer_days = head_days;
}

/* today plus n working days (Monday–Friday; public holidays are not
 * known here and count as working days). */
static kdate_t add_working_days(kdate_t today, long n)
{
    int64_t d = kdate_to_days(today);
    while (n > 0) {
        d++;
        /* 1970-01-01 was a Thursday: 0 Thursday … 2 Saturday, 3 Sunday */
        int wd = (int)(((d % 7) + 7) % 7);
        if (wd != 2 && wd != 3)
            n--;
    }
    return kdate_from_days(d);
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

/* Where the complaint goes (p.20): the centre's head for a centre's
 * service; the head of the authority for an employee's actions (not
 * the head's own); else the appeal instance of the region. Fills kind,
 * id and the record of whom it goes to; false when the reference data
 * has none. */
static bool route(PGconn *c, const char *authority, const char *centre,
                  bool to_head, char *kind, char *id, json_t **doc)
{
    const char *p[1] = {centre ? centre : authority};
    const char *stmt = centre    ? "complaint_centre"
                       : to_head ? "complaint_head"
                                 : "complaint_appeal";
    PGresult *r = pg_run(c, stmt, 1, p);
    bool ok = r && PQntuples(r) == 1;
    if (ok) {
        strcpy(kind, centre ? "centre" : to_head ? "head"
                                                 : "appeal_instance");
        snprintf(id, 64, "%s", PQgetvalue(r, 0, ROUTED_ID));
        *doc = json_loads(PQgetvalue(r, 0, ROUTED_DOC), 0, NULL);
    }
    PQclear(r);
    if (ok && *doc && to_head && !centre) {
        /* the ticket names the head of the authority, at its address */
        char name[600];
        snprintf(name, sizeof(name), "%s басшысы / руководитель",
                 json_string_value(json_object_get(*doc, "name")) ?: id);
        json_object_set_new(*doc, "name", json_string(name));
    }
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
    if (rc && strcmp(PQgetvalue(r, 0, CIDEM_SHA), sha) != 0)
        http_reply_error(resp, 409, "idempotency_conflict",
                         "this Idempotency-Key was used with another body",
                         NULL);
    else if (rc)
        http_reply_json(resp, 200, json_pack("{s:s, s:s, s:o}",
                        "complaint_id", PQgetvalue(r, 0, CIDEM_ID), "state",
                        PQgetvalue(r, 0, CIDEM_STATE), "ticket",
                        json_loads(PQgetvalue(r, 0, CIDEM_TICKET), 0,
                                   NULL)));
    PQclear(r);
    return rc;
}

/* A complaint as it is taken in: the request's fields (borrowed from
 * body), then where it goes. */
struct complaint_in {
    const char *key;
    char sha[65];
    json_t *body;
    const char *iin, *app, *auth, *text, *emp;
    json_t *about_head;        /* true: about the head (p.20) */
    json_t *docs;              /* [{name}] of the attachments */
    bool docs_ok;
    char authority[64], centre[64], kind[32], routed[64];
    json_t *instance;          /* the appeal instance's or centre's record */
};

static void complaint_in_free(struct complaint_in *in)
{
    json_decref(in->instance);
    json_decref(in->docs);
    json_decref(in->body);
}

/* The key, the body and its hash, the fields; false after replying. */
static bool parse(const http_req_t *req, http_resp_t *resp,
                  struct complaint_in *in)
{
    in->key = http_idempotency_key(req, resp);
    if (!in->key || !(in->body = http_json_body(req, resp)))
        return false;
    char *canon = intake_canonical(in->body, in->sha, resp);
    if (!canon)
        return false;
    free(canon);
    json_t *b = in->body;
    in->iin = json_string_value(json_object_get(b, "complainant_iin"));
    in->app = json_string_value(json_object_get(b, "application_id"));
    in->auth = json_string_value(json_object_get(b, "authority_id"));
    in->text = json_string_value(json_object_get(b, "text"));
    in->emp = json_string_value(json_object_get(b, "about_employee"));
    in->about_head = json_object_get(b, "about_head");
    json_t *att = json_object_get(b, "attachments"), *a;
    size_t i;
    in->docs = json_array();
    in->docs_ok = !att || (json_is_array(att) && json_array_size(att) <= 20);
    json_array_foreach(att, i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (!n || !*n || text_problem(n, strlen(n), 200, false))
            in->docs_ok = false;
        else
            json_array_append_new(in->docs, json_pack("{s:s}", "name", n));
    }
    return true;
}

/* Who may file it and whether its fields are acceptable; false after
 * replying. */
static bool authorise(const principal_t *who, const http_req_t *req,
                      http_resp_t *resp, const struct complaint_in *in)
{
    const char *citizen = http_header(req, "X-Citizen-IIN");
    if (who->kind != PRINCIPAL_OFFICE && who->kind != PRINCIPAL_PORTAL &&
        who->kind != PRINCIPAL_CENTRE) {
        http_reply_error(resp, 403, "forbidden", "complaints are accepted "
                         "at an office, a centre or on the portal", NULL);
    } else if (!in->iin || !iin_valid(in->iin, NULL)) {
        http_reply_error(resp, 400, "invalid_iin",
                         "complainant_iin is not a valid IIN", NULL);
    } else if (!in->text || !*in->text || strlen(in->text) > 20000 ||
               !in->docs_ok ||
               (in->emp && text_problem(in->emp, strlen(in->emp), 300,
                                        false)) ||
               (in->app && strlen(in->app) > 64) ||
               (in->auth && strlen(in->auth) > 63) ||
               (in->about_head && !json_is_boolean(in->about_head))) {
        http_reply_error(resp, 400, "invalid_field", "text (free form, up "
                         "to 20000 bytes), attachments [{name}], "
                         "about_employee, about_head (true or false), "
                         "application_id", NULL);
    } else if (who->kind == PRINCIPAL_PORTAL &&
               (!citizen || strcmp(citizen, in->iin) != 0)) {
        http_reply_error(resp, 403, "forbidden", "the portal files "
                         "complaints for the citizen it asserts", NULL);
    } else {
        return true;
    }
    return false;
}

/* The authority complained about (from the application, else named)
 * and where the complaint goes (p.20, appendix 5); false after
 * replying. */
static bool locate(PGconn *c, const principal_t *who, http_resp_t *resp,
                   struct complaint_in *in)
{
    if (in->app) {
        const char *p[1] = {in->app};
        PGresult *r = pg_run(c, "app_get", 1, p);
        if (r && PQntuples(r) == 1 &&
            strcmp(PQgetvalue(r, 0, APP_IIN), in->iin) == 0) {
            snprintf(in->authority, sizeof(in->authority), "%s",
                     PQgetvalue(r, 0, APP_AUTHORITY));
            if (strncmp(PQgetvalue(r, 0, APP_PRINCIPAL), "centre:", 7) == 0)
                snprintf(in->centre, sizeof(in->centre), "%s",
                         PQgetvalue(r, 0, APP_PRINCIPAL) + 7);
        }
        PQclear(r);
        if (!in->authority[0]) {
            http_reply_error(resp, 404, "not_found", "no application of "
                             "this complainant with that id", NULL);
            return false;
        }
    } else if (who->kind == PRINCIPAL_OFFICE) {
        /* another authority named is refused below (403), never
         * silently taken for the office's own */
        snprintf(in->authority, sizeof(in->authority), "%s",
                 in->auth ? in->auth : who->id);
    } else if (in->auth) {
        snprintf(in->authority, sizeof(in->authority), "%s", in->auth);
    } else {
        http_reply_error(resp, 400, "invalid_field", "application_id or "
                         "authority_id is required", NULL);
        return false;
    }
    if (who->kind == PRINCIPAL_OFFICE &&
        strcmp(who->id, in->authority) != 0) {
        http_reply_error(resp, 403, "forbidden", "an office accepts "
                         "complaints about its own authority", NULL);
        return false;
    }
    bool to_head = in->emp && !json_is_true(in->about_head);
    if (!route(c, in->authority, in->centre[0] ? in->centre : NULL, to_head,
               in->kind, in->routed, &in->instance)) {
        http_reply_error(resp, 422, "unknown_authority", "no appeal "
                         "instance is known for this authority", NULL);
        return false;
    }
    return true;
}

/* The p.25 ticket. */
static json_t *build_ticket(const principal_t *who,
                            const struct complaint_in *in, const char *id,
                            const char *number, const char *at,
                            const char *due)
{
    json_t *inst = in->instance;
    const char *iname = json_string_value(json_object_get(inst, "name"));
    const char *iaddr = json_string_value(json_object_get(inst, "address"));
    json_t *ticket = json_pack(
        "{s:s, s:s, s:s, s:i, s:O, s:s, s:s, s:s, s:{s:s?, s:s?, s:s?},"
        " s:{s:s, s:s}, s:s}",
        "number", number, "accepted_at", at, "complaint_id", id,
        "documents_count", (int)json_array_size(in->docs), "documents",
        in->docs, "answer_due", due,
        "answer_place", iname ? iname : in->routed,
        "accepted_by", who->employee[0] ? who->employee : who->text,
        "contact_official", "name", iname,
        "phone", json_string_value(json_object_get(inst, "phone")
                                   ? json_object_get(inst, "phone")
                                   : json_object_get(inst, "phones")),
        "email", json_string_value(json_object_get(inst, "email")),
        "routed_to", "kind", in->kind, "id", in->routed, "paragraph", "25");
    /* who may print the ticket: the principal that accepted it */
    json_object_set_new(ticket, "accepted_via", json_string(who->text));
    if (iaddr)
        json_object_set_new(ticket, "answer_address", json_string(iaddr));
    return ticket;
}

/* Numbers, stores and announces the complaint in one transaction and
 * replies (201, or as a repeat when the same key won a race); false
 * when nothing was stored (the caller replies 503 unless replied). */
static bool store(PGconn *c, const principal_t *who,
                  const struct complaint_in *in, http_resp_t *resp)
{
    int64_t now = now_us();
    kdate_t today = almaty_date(now / 1000000);
    char id[33], number[48], at[26], due[11];
    event_new_id(id);
    almaty_timestamp(now / 1000000, at);
    kdate_format(strcmp(in->kind, "head") == 0
                     ? add_working_days(today, head_answer_days)
                     : kdate_add(today, (int)answer_days),
                 due);
    if (!pg_exec(c, "BEGIN"))
        return false;
    PGresult *r = pg_run(c, "complaint_next", 0, NULL);
    if (!r)
        goto rollback;
    snprintf(number, sizeof(number), "Ш-%04d-%08lld", today.year,
             atoll(PQgetvalue(r, 0, 0))); /* nextval, the only column */
    PQclear(r);
    json_t *ticket = build_ticket(who, in, id, number, at, due);
    char *ticket_s = json_dumps(ticket, JSON_COMPACT);
    char *att_s = json_dumps(in->docs, JSON_COMPACT);
    const char *channel = who->kind == PRINCIPAL_PORTAL ? "portal"
                          : who->kind == PRINCIPAL_CENTRE ? "centre"
                                                          : "office";
    const char *p[17] = {id, number, in->app, in->authority, in->iin,
                         in->emp, in->text, att_s, channel, who->text, due,
                         in->kind, in->routed, ticket_s, who->text, in->key,
                         in->sha};
    r = pg_run(c, "complaint_put", 17, p);
    bool ok = r != NULL;
    bool raced = r && strcmp(PQcmdTuples(r), "0") == 0;
    PQclear(r);
    free(ticket_s);
    free(att_s);
    if (raced) { /* the same key committed meanwhile: answer as a repeat */
        json_decref(ticket);
        return pg_exec(c, "ROLLBACK") &&
               complaint_replay(c, who, in->key, in->sha, resp) > 0;
    }
    ok = ok && emit(c, KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED, id, in->iin,
                    in->authority, ticket) && pg_exec(c, "COMMIT");
    if (ok) {
        log_info("complaint.received", "complaint %s routed to %s %s", id,
                 in->kind, in->routed);
        http_reply_json(resp, 201, json_pack("{s:s, s:s, s:o}",
                        "complaint_id", id, "state", "received", "ticket",
                        ticket));
        return true;
    }
    json_decref(ticket);
rollback:
    if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_error("complaint.rollback", "rollback failed");
    return false;
}

/* POST /v1/complaints (Idempotency-Key required, as for applications):
 * parse, a repeat answered as such, authorise, route, store. */
void complaints_post(PGconn *c, const principal_t *who,
                     const http_req_t *req, http_resp_t *resp)
{
    struct complaint_in in = {0};
    if (!parse(req, resp, &in)) {
        complaint_in_free(&in);
        return;
    }
    int seen = complaint_replay(c, who, in.key, in.sha, resp);
    if (seen < 0)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    if (seen == 0 && authorise(who, req, resp, &in) &&
        locate(c, who, resp, &in) && !store(c, who, &in, resp) &&
        !resp->status)
        http_reply_error(resp, 503, "unavailable", "the complaint could not "
                         "be stored; nothing was accepted", NULL);
    complaint_in_free(&in);
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
    } else if (!(complaint_handler(who, PQgetvalue(r, 0, CGET_ROUTED_KIND),
                                   PQgetvalue(r, 0, CGET_ROUTED_ID)) ||
                 (who->kind == PRINCIPAL_OFFICE &&
                  strcmp(who->id, PQgetvalue(r, 0, CGET_AUTHORITY)) == 0) ||
                 (who->kind == PRINCIPAL_PORTAL && citizen &&
                  strcmp(citizen, PQgetvalue(r, 0, CGET_IIN)) == 0))) {
        http_reply_error(resp, 403, "forbidden",
                         "a complainant sees only their own complaints",
                         NULL);
    } else {
        json_t *ticket = json_loads(PQgetvalue(r, 0, CGET_TICKET), 0, NULL);
        json_t *out = json_pack("{s:s, s:s, s:o}", "complaint_id",
                                req->params[0], "state",
                                PQgetvalue(r, 0, CGET_STATE),
                                "ticket", ticket ? ticket : json_null());
        if (!PQgetisnull(r, 0, CGET_ANSWER)) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, 0, CGET_ANSWERED_AT)), at);
            json_object_set_new(out, "answer", json_pack("{s:s, s:s}",
                                "text", PQgetvalue(r, 0, CGET_ANSWER),
                                "answered_at",
                                at));
        }
        http_reply_json(resp, 200, out);
        audit_reply(resp, who->text, http_purpose(req, "complaint"),
                    "complaint", PQgetvalue(r, 0, CGET_IIN));
    }
    PQclear(r);
}

bool complaint_handler(const principal_t *who, const char *kind,
                       const char *id)
{
    return who->kind == PRINCIPAL_OPS ||
           (who->kind == PRINCIPAL_APPEAL &&
            strcmp(kind, "appeal_instance") == 0 && strcmp(id, who->id) == 0) ||
           (who->kind == PRINCIPAL_CENTRE && strcmp(kind, "centre") == 0 &&
            strcmp(id, who->id) == 0) ||
           (who->kind == PRINCIPAL_HEAD && strcmp(kind, "head") == 0 &&
            strcmp(id, who->id) == 0);
}

/* Whether who may record the progress of complaint id: operators, the
 * appeal instance it was routed to; -1 when it cannot be told. An
 * unknown complaint is left to the state change (409). */
static int may_progress(PGconn *c, const principal_t *who, const char *id)
{
    if (who->kind == PRINCIPAL_OPS)
        return 1;
    if (who->kind != PRINCIPAL_APPEAL && who->kind != PRINCIPAL_CENTRE &&
        who->kind != PRINCIPAL_HEAD)
        return 0;
    const char *p[1] = {id};
    PGresult *r = strlen(id) == 32 ? pg_run(c, "complaint_get", 1, p) : NULL;
    int rc = !r && strlen(id) == 32 ? -1
             : !r || PQntuples(r) == 0
                 ? 1
                 : complaint_handler(who, PQgetvalue(r, 0, CGET_ROUTED_KIND),
                                     PQgetvalue(r, 0, CGET_ROUTED_ID));
    PQclear(r);
    return rc;
}

/* POST /v1/complaints/{id}/review and …/answer — the appeal instance
 * the complaint went to (appendix 5), or operators on its behalf,
 * record its progress; the answer reaches the cabinet. */
void complaints_progress(PGconn *c, const principal_t *who,
                         const http_req_t *req, http_resp_t *resp,
                         bool answer)
{
    json_t *body = answer ? http_json_body(req, resp) : NULL;
    const char *text = json_string_value(json_object_get(body, "text"));
    if (answer && !body)
        return;
    int may = may_progress(c, who, req->params[0]);
    if (may < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!may) {
        http_reply_error(resp, 403, "forbidden", "the appeal instance the "
                         "complaint went to (or operators) records its "
                         "progress", NULL);
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
                                    PQgetvalue(r, 0, CSTATE_NUMBER),
                                    "answer_text", text,
                                    "paragraph", "20");
            ok = emit(c, KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED,
                      req->params[0], PQgetvalue(r, 0, CSTATE_IIN),
                      PQgetvalue(r, 0, CSTATE_AUTHORITY), doc);
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
