/* The work list of kezek-eligibility (p.7): an authority's parked
 * applications by due date, and an employee's decision on one of them,
 * which goes the same event path as the rules' (OpenAPI tag "review").
 * Every handler's ctx is the struct elig. */
#include "eligibility.h"

#include "auth.h"
#include "calendar.h"
#include "log.h"
#include "reasons.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An employee's decision as the request gives it. */
struct review {
    principal_t who;
    struct elig_decision d;
    const char *note;          /* borrowed from the request's body */
};

/* The office of the authority (or an operator, read-only); NULL after
 * replying. */
static PGconn *review_request(struct elig *e, const http_req_t *req,
                              http_resp_t *resp, principal_t *who)
{
    enum auth_rc auth = auth_check(e->svc.pool, req, who);
    char err[256];
    PGconn *c = auth == AUTH_OK
                    ? pgpool_acquire(e->svc.pool, err, sizeof(err))
                    : NULL;
    if (auth != AUTH_OK)
        auth_reply(resp, auth);
    else if (!c)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (who->kind != PRINCIPAL_OFFICE && who->kind != PRINCIPAL_OPS &&
             who->kind != PRINCIPAL_SUPERVISOR)
        http_reply_error(resp, 403, "forbidden",
                         "the work list belongs to the authority's office",
                         NULL);
    if (resp->status && c) {
        pgpool_release(e->svc.pool, c);
        c = NULL;
    }
    return c;
}

/* The rows of worklist as the items of the reply. */
static json_t *worklist_items(const PGresult *r)
{
    json_t *items = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char at[26];
        almaty_timestamp(atoll(PQgetvalue(r, i, WORKLIST_PARKED_AT)), at);
        long left = atol(PQgetvalue(r, i, WORKLIST_DAYS_LEFT));
        json_array_append_new(items, json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:s}", "application_id",
            PQgetvalue(r, i, WORKLIST_ID), "reason",
            PQgetvalue(r, i, WORKLIST_REASON), "due_date",
            PQgetvalue(r, i, WORKLIST_DUE_DATE), "parked_at", at,
            "days_left", (int)left, "urgency",
            left < 0 ? "overdue" : left <= 3 ? "due_soon" : "on_time"));
    }
    return items;
}

/* The open re-verification flags (worklist_flags) as the reply's
 * "reverification" items. */
static json_t *flag_items(const PGresult *r)
{
    json_t *items = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char at[26];
        almaty_timestamp(atoll(PQgetvalue(r, i, FLAGS_AT)), at);
        json_t *codes = json_loads(PQgetvalue(r, i, FLAGS_REASONS), 0, NULL);
        json_t *reasons = json_array();
        size_t k;
        json_t *v;
        json_array_foreach(codes, k, v)
            json_array_append_new(reasons,
                                  reason_json(json_string_value(v)));
        json_decref(codes);
        json_array_append_new(items, json_pack(
            "{s:s, s:s, s:s, s:o, s:s?, s:s, s:I}", "application_id",
            PQgetvalue(r, i, FLAGS_ID), "list", PQgetvalue(r, i, FLAGS_LIST),
            "outcome", PQgetvalue(r, i, FLAGS_OUTCOME), "reasons", reasons,
            "review_reason", PQgetisnull(r, i, FLAGS_REVIEW_REASON)
                                 ? NULL
                                 : PQgetvalue(r, i, FLAGS_REVIEW_REASON),
            "flagged_at", at, "run_id",
            (json_int_t)atoll(PQgetvalue(r, i, FLAGS_RUN))));
    }
    return items;
}

/* GET /v1/review/{authority_id} — parked applications by due date, and
 * the people in the queue a re-verification flagged (issue 22). */
static void get_worklist(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct elig *e = ctx;
    principal_t who;
    PGconn *c = review_request(e, req, resp, &who);
    if (!c)
        return;
    char region[64] = "";
    int known = who.kind == PRINCIPAL_SUPERVISOR
                    ? auth_authority_region(c, req->params[0], region)
                    : 1;
    if (known < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!principal_reads_authority(&who, req->params[0],
                                          known ? region : NULL)) {
        http_reply_error(resp, 403, "forbidden", "a work list is read by "
                         "its authority's office and its region's "
                         "supervisor", NULL);
    }
    if (resp->status) {
        pgpool_release(e->svc.pool, c);
        return;
    }
    const char *p[1] = {req->params[0]};
    PGresult *r = pg_run(c, "worklist", 1, p);
    PGresult *f = r ? pg_run(c, "worklist_flags", 1, p) : NULL;
    if (!f)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else
        http_reply_json(resp, 200, json_pack("{s:s, s:o, s:o}",
                                             "authority_id", req->params[0],
                                             "items", worklist_items(r),
                                             "reverification",
                                             flag_items(f)));
    PQclear(r);
    PQclear(f);
    pgpool_release(e->svc.pool, c);
}

/* Reads the decision of body into rv: registered without reasons, or
 * refused with the reason codes of p.6/p.16, and a note; false when it
 * is neither or the note is missing or too long. */
static bool review_of(json_t *body, struct review *rv)
{
    const char *outcome = json_string_value(json_object_get(body,
                                                            "outcome"));
    json_t *codes = json_object_get(body, "reasons");
    struct elig_decision *d = &rv->d;
    bool bad = false;
    size_t i;
    json_t *v;
    rv->note = json_string_value(json_object_get(body, "note"));
    if (body && outcome && strcmp(outcome, "refused") == 0) {
        d->outcome = ELIG_REFUSED;
        json_array_foreach(codes, i, v) {
            const struct reason *rs = reason_find(json_string_value(v)
                                                  ? json_string_value(v)
                                                  : "");
            if (!rs || d->nreasons == ELIG_MAX_REASONS)
                bad = true;
            else
                d->reasons[d->nreasons++] = rs->code;
        }
        bad = bad || d->nreasons == 0;
    } else if (body && outcome && strcmp(outcome, "registered") == 0) {
        d->outcome = ELIG_REGISTERED;
        bad = json_array_size(codes) > 0;
    } else {
        bad = true;
    }
    return !bad && rv->note && *rv->note && strlen(rv->note) <= 2000;
}

/* Records rv on app (parked as id) with its DecisionMade and commits;
 * replies. False when it was not committed (then replied 409 when the
 * application was decided meanwhile, else not yet). */
static bool write_decision(struct elig *e, PGconn *c, const char *id,
                           const struct elig_app *app,
                           const struct review *rv, http_resp_t *resp)
{
    const struct elig_decision *d = &rv->d;
    const principal_t *who = &rv->who;
    char *codes_s = elig_codes_json(d);
    char by[220];
    snprintf(by, sizeof(by), "%s%s%s%s", who->text,
             who->employee[0] ? " (" : "", who->employee,
             who->employee[0] ? ")" : "");
    const char *dp[6] = {app->a->application_id,
                         d->outcome == ELIG_REGISTERED ? "t" : "f",
                         elig_outcome_str(d->outcome), codes_s, by,
                         rv->note};
    PGresult *w = pg_run(c, "decision_manual", 6, dp);
    if (w && strcmp(PQcmdTuples(w), "1") != 0) {
        /* decided meanwhile (the sweep or another employee) */
        PQclear(w);
        w = NULL;
        http_reply_error(resp, 409, "already_decided",
                         "this application was decided meanwhile", NULL);
    }
    const char *p[1] = {id};
    PGresult *u = w ? pg_run(c, "unpark", 1, p) : NULL;
    bool ok = u && elig_emit(c, app, d) && pg_exec(c, "COMMIT");
    PQclear(w);
    PQclear(u);
    free(codes_s);
    if (ok) {
        metric_inc(e->decided[d->outcome]);
        log_info("review.decided", "application %s decided by %s",
                 app->a->application_id, who->text);
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:s, s:s}", "application_id", app->a->application_id,
            "outcome", elig_outcome_str(d->outcome), "decided_by",
            who->text));
    } else if (!resp->status) {
        http_reply_error(resp, 503, "unavailable",
                         "the decision was not recorded", NULL);
    }
    return ok;
}

/* In c's open transaction: the parked application id, locked, into
 * app (*found: it is on a work list and readable); the row (caller
 * clears), or NULL when the read failed. */
static PGresult *parked_read(PGconn *c, const char *id,
                             struct elig_app *app, bool *found)
{
    const char *p[1] = {id};
    PGresult *r = PQexecPrepared(c, "parked_one", 1, p, NULL, NULL, 1);
    if (!pg_check(r)) {
        PQclear(r);
        r = NULL;
    }
    *found = r && PQntuples(r) == 1 &&
        elig_app_unpack(app,
            (const uint8_t *)PQgetvalue(r, 0, PARKED_ONE_PAYLOAD),
            (size_t)PQgetlength(r, 0, PARKED_ONE_PAYLOAD),
            strtoull(PQgetvalue(r, 0, PARKED_ONE_SEQ), NULL, 10));
    return r;
}

/* In c's open transaction: the office keeps the person of a
 * re-verification flag in the queue (outcome registered, with its note)
 * — or is told that leaving the queue is a removal with its reason.
 * Replies; false when nothing was recorded. */
static bool record_confirmation(PGconn *c, const char *id,
                                const struct review *rv, const char *owner,
                                http_resp_t *resp)
{
    if (strcmp(owner, rv->who.id) != 0) {
        http_reply_error(resp, 403, "forbidden",
                         "not this office's queue entry", NULL);
        return false;
    }
    if (rv->d.outcome != ELIG_REGISTERED) {
        http_reply_error(resp, 409, "in_queue", "this person is in the "
                         "queue: keep them (outcome registered) or remove "
                         "the entry with its reason (POST /v1/queue/…/"
                         "removal, p.5)", NULL);
        return false;
    }
    const char *p[4] = {id, rv->who.text, rv->note, rv->who.id};
    PGresult *u = pg_run(c, "flag_confirm", 4, p);
    bool ok = u && strcmp(PQcmdTuples(u), "1") == 0 && pg_exec(c, "COMMIT");
    PQclear(u);
    if (ok) {
        log_info("review.kept", "application %s kept in the queue by %s",
                 id, rv->who.text);
        http_reply_json(resp, 200, json_pack("{s:s, s:s, s:s}",
                                             "application_id", id,
                                             "outcome", "kept",
                                             "decided_by", rv->who.text));
    } else {
        http_reply_error(resp, 503, "unavailable",
                         "the decision was not recorded", NULL);
    }
    return ok;
}

/* The authority of id's open re-verification flag into owner (64
 * bytes): 1 found, 0 none, -1 the query failed. */
static int flag_owner(PGconn *c, const char *id, char *owner)
{
    const char *p[1] = {id};
    PGresult *r = pg_run(c, "flag_open", 1, p);
    int n = r ? PQntuples(r) == 1 : -1;
    if (n == 1)
        snprintf(owner, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* In c's open transaction: rv on the parked application id, if it is
 * the office's (or on the flagged queue entry id); replies, and rolls
 * back unless it committed. */
static void record_decision(struct elig *e, PGconn *c, const char *id,
                            const struct review *rv, http_resp_t *resp)
{
    struct elig_app app = {0};
    bool found;
    PGresult *r = parked_read(c, id, &app, &found);
    bool ok = false;
    char owner[64];
    int flagged = r && !found ? flag_owner(c, id, owner) : 0;
    if (!r || flagged < 0)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (flagged)
        ok = record_confirmation(c, id, rv, owner, resp);
    else if (!found || !app.iin)
        http_reply_error(resp, 404, "not_found",
                         "no such application on a work list", NULL);
    else if (strcmp(app.a->authority_id, rv->who.id) != 0)
        http_reply_error(resp, 403, "forbidden",
                         "not this office's application", NULL);
    else
        ok = write_decision(e, c, id, &app, rv, resp);
    if (!ok && !pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_error("review.rollback", "rollback failed");
    elig_app_free(&app);
    PQclear(r);
}

/* POST /v1/review/{application_id}/decision — an employee's decision
 * on a parked application, through the same event path as the rules'
 * and recorded with who took it. */
static void post_decision(void *ctx, const http_req_t *req,
                          http_resp_t *resp)
{
    struct elig *e = ctx;
    struct review rv = {0};
    PGconn *c = review_request(e, req, resp, &rv.who);
    if (!c)
        return;
    json_t *body = http_json_body(req, resp);
    bool valid = review_of(body, &rv);
    if (!body) {
        /* replied */
    } else if (rv.who.kind != PRINCIPAL_OFFICE) {
        http_reply_error(resp, 403, "forbidden",
                         "decisions are taken by the authority's office",
                         NULL);
    } else if (!valid) {
        http_reply_error(resp, 400, "invalid_field",
                         "outcome registered (no reasons) or refused with "
                         "the reason codes of p.6/p.16; note required",
                         NULL);
    } else if (!pg_exec(c, "BEGIN")) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        record_decision(e, c, req->params[0], &rv, resp);
    }
    json_decref(body);
    pgpool_release(e->svc.pool, c);
}

/* Whether who may withdraw app: the office of its authority (the one
 * that accepted it: an office accepts for its own authority only), or
 * the citizen through the portal (X-Citizen-IIN). */
static bool may_withdraw(const principal_t *who, const http_req_t *req,
                         const struct elig_app *app)
{
    const char *citizen = http_header(req, "X-Citizen-IIN");
    if (who->kind == PRINCIPAL_OFFICE)
        return strcmp(who->id, app->a->authority_id) == 0;
    return who->kind == PRINCIPAL_PORTAL && citizen && app->iin &&
           strcmp(citizen, app->iin) == 0;
}

/* Why an application that is not waiting cannot be withdrawn: decided
 * already (409 with its outcome), or on its way to its decision. */
static void not_withdrawable(PGconn *c, const char *id, http_resp_t *resp)
{
    const char *p[1] = {id};
    PGresult *r = pg_run(c, "decision_of", 1, p);
    if (!r)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (PQntuples(r) == 1)
        http_reply_error(resp, 409, "already_decided", "the application is "
                         "decided; a registered person leaves the queue at "
                         "their own request (…/removal, own_request)",
                         json_pack("{s:s}", "outcome", PQgetvalue(r, 0, 0)));
    else
        http_reply_error(resp, 409, "being_decided", "the application is "
                         "being decided this moment, or there is no such "
                         "application; ask again in a few seconds", NULL);
    PQclear(r);
}

/* In c's open transaction: withdraws the parked application id for
 * who; replies, and rolls back unless it committed. */
static void withdraw(struct elig *e, PGconn *c, const http_req_t *req,
                     const principal_t *who, const char *note,
                     http_resp_t *resp)
{
    const char *id = req->params[0];
    struct elig_app app = {0};
    bool found;
    PGresult *r = parked_read(c, id, &app, &found);
    bool ok = false;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!found || !app.iin) {
        not_withdrawable(c, id, resp);
    } else if (!may_withdraw(who, req, &app)) {
        http_reply_error(resp, 403, "forbidden", "an application is "
                         "withdrawn by the citizen (portal) or by the office "
                         "of its authority", NULL);
    } else {
        struct review rv = {.who = *who, .note = note};
        rv.d.outcome = ELIG_WITHDRAWN;
        ok = write_decision(e, c, id, &app, &rv, resp);
    }
    if (!ok && !pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_error("review.rollback", "rollback failed");
    elig_app_free(&app);
    PQclear(r);
}

/* POST /v1/applications/{application_id}/withdrawal — the citizen or
 * the office withdraws an application not yet decided (issue 22): it
 * is decided "withdrawn", through the same event path as any decision,
 * and the citizen is notified. */
static void post_withdrawal(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    struct elig *e = ctx;
    principal_t who;
    enum auth_rc auth = auth_check(e->svc.pool, req, &who);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return;
    }
    if (who.kind != PRINCIPAL_OFFICE && who.kind != PRINCIPAL_PORTAL) {
        http_reply_error(resp, 403, "forbidden", "an application is "
                         "withdrawn by the citizen (portal) or by the office "
                         "of its authority", NULL);
        return;
    }
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    const char *note = json_string_value(json_object_get(body, "note"));
    char err[256];
    PGconn *c = NULL;
    if (json_object_get(body, "note") && (!note || strlen(note) > 2000))
        http_reply_error(resp, 400, "invalid_field",
                         "note: a text of at most 2000 bytes",
                         json_pack("{s:s}", "field", "note"));
    else if (!(c = pgpool_acquire(e->svc.pool, err, sizeof(err))) ||
             !pg_exec(c, "BEGIN"))
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else
        withdraw(e, c, req, &who, note ? note : "", resp);
    if (c)
        pgpool_release(e->svc.pool, c);
    json_decref(body);
}

const struct http_route elig_routes[] = {
    {"GET", "/v1/review/*", get_worklist, NULL},
    {"POST", "/v1/review/*/decision", post_decision, NULL},
    {"POST", "/v1/applications/*/withdrawal", post_withdrawal, NULL},
    {NULL, NULL, NULL, NULL},
};
