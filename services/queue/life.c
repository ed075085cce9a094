/* The queue's life after registration over HTTP (domain/queue_life.h,
 * docs/queue-life.md): removal by the office or at the citizen's own
 * request, change of list, transfer to another authority, and the
 * re-verification report of an authority. */
#include "queue.h"

#include "calendar.h"
#include "log.h"
#include "queue_life.h"
#include "reasons.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The date a change takes effect: YYYY-MM-DD, not in the future; false
 * after replying 400. */
static bool date_valid(const char *on, http_resp_t *resp)
{
    kdate_t d;
    if (kdate_parse(on, &d) &&
        kdate_to_days(d) <= kdate_to_days(almaty_date(now_us() / 1000000)))
        return true;
    http_reply_error(resp, 400, "invalid_field",
                     "date: YYYY-MM-DD, not in the future",
                     json_pack("{s:s}", "field", "date"));
    return false;
}

/* The Redis view after a committed change: the entry out of its old
 * list, into its new one; a failure leaves the view to be rebuilt. */
static void view_follow(struct queue *q, const char *iin,
                        const struct life_result *r)
{
    kredis_t *redis = queue_worker_redis(q->svc.redis_addr);
    struct queue_view_entry v = {0};
    snprintf(v.authority_id, sizeof(v.authority_id), "%s",
             r->from.authority_id);
    snprintf(v.list, sizeof(v.list), "%s", r->from.list);
    snprintf(v.iin, sizeof(v.iin), "%s", iin);
    bool ok = queue_view_remove(redis, &v);
    if (r->to.list[0]) {
        snprintf(v.authority_id, sizeof(v.authority_id), "%s",
                 r->to.authority_id);
        snprintf(v.list, sizeof(v.list), "%s", r->to.list);
        v.number = (uint64_t)r->to.number;
        v.accepted_seq = r->to.seq;
        ok = queue_view_put(redis, &v, 1) && ok;
    }
    if (!ok)
        q->view_dirty = true;
}

/* The reasons of a decision as the API shows them. */
static json_t *reasons_json(const struct elig_decision *d)
{
    json_t *a = json_array();
    for (int i = 0; i < d->nreasons; i++)
        json_array_append_new(a, reason_json(d->reasons[i]));
    return a;
}

/* A place as the API shows it. */
static json_t *place_json(const struct life_place *p, const char *pos_key)
{
    return json_pack("{s:s, s:s, s:I, s:I}", "authority_id", p->authority_id,
                     "list", p->list, "number", (json_int_t)p->number,
                     pos_key, (json_int_t)p->position);
}

/* Answers a change's outcome. */
static void reply(const struct entry_call *e, const struct life_change *ch,
                  enum life_rc rc, const struct life_result *r,
                  http_resp_t *resp)
{
    switch (rc) {
    case LIFE_OK: {
        view_follow(e->q, ch->iin, r);
        metric_inc(e->q->m_removals);
        log_info("queue.changed", "%s: application %s left %s/%s%s%s",
                 r->change_id, r->application_id, r->from.authority_id,
                 r->from.list, r->to.list[0] ? " for " : "",
                 r->to.list[0] ? r->to.list : "");
        json_t *j = json_pack("{s:s, s:s, s:o, s:s}", "application_id",
                              r->application_id, "change_id", r->change_id,
                              "from", place_json(&r->from, "last_position"),
                              "date", ch->on);
        if (r->to.list[0])
            json_object_set_new(j, "to", place_json(&r->to, "position"));
        else /* the removal's reply as before: number, last position */
            json_object_update_new(j, json_pack("{s:I, s:I, s:s}", "number",
                (json_int_t)r->from.number, "last_position",
                (json_int_t)r->from.position, "reason", ch->reason));
        http_reply_json(resp, 200, j);
        break;
    }
    case LIFE_NOT_FOUND:
        http_reply_error(resp, 404, "not_found",
                         "no active entry for this person in this list",
                         NULL);
        break;
    case LIFE_CONFLICT:
        http_reply_error(resp, 409, "conflict", r->why, NULL);
        break;
    case LIFE_NOT_QUALIFIED:
        http_reply_error(resp, 422, "not_qualified",
                         r->d.outcome == ELIG_REVIEW
                             ? "the rules cannot confirm the new place "
                               "without a person's decision (p.6): see "
                               "review_reason"
                             : "the rules refuse the new place (p.6, "
                               "p.16): see reasons",
                         json_pack("{s:s, s:o, s:s?}", "outcome",
                                   elig_outcome_str(r->d.outcome),
                                   "reasons", reasons_json(&r->d),
                                   "review_reason",
                                   r->d.outcome == ELIG_REVIEW
                                       ? r->d.review_reason
                                       : NULL));
        break;
    case LIFE_DB:
        log_warn("queue.change_failed", "%s", r->why);
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        break;
    }
}

/* The change of the path asked by e's principal, dated by the body. */
static struct life_change change_of(const struct entry_call *e,
                                    const http_req_t *req, json_t *body)
{
    return (struct life_change){
        .authority_id = req->params[PATH_AUTHORITY],
        .list = req->params[PATH_LIST], .iin = req->params[PATH_IIN],
        .on = json_string_value(json_object_get(body, "date")),
        .by = e->who.text, .producer = PRODUCER, .keys = &e->q->keys};
}

/* POST …/entries/{iin}/removal — the office of the authority takes an
 * entry off its list for one of the reasons (p.5); the citizen, through
 * the portal, asks for their own (own_request). Those behind move up. */
static void post_removal(const struct entry_call *e, const http_req_t *req,
                         http_resp_t *resp)
{
    bool citizen = e->who.kind == PRINCIPAL_PORTAL;
    if (e->who.kind != PRINCIPAL_OFFICE && !citizen) {
        http_reply_error(resp, 403, "forbidden", "an entry is removed by "
                         "the office of the authority, or by the citizen "
                         "through the portal (own_request)", NULL);
        return;
    }
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    struct life_change ch = change_of(e, req, body);
    ch.reason = json_string_value(json_object_get(body, "reason"));
    if (!queue_removal_reason_known(ch.reason) ||
        (citizen && strcmp(ch.reason, "own_request") != 0)) {
        http_reply_error(resp, 400, "invalid_field", citizen
                         ? "reason: own_request (a citizen removes only "
                           "their own entry, at their own request)"
                         : "reason: housing_provided, moved_away, "
                           "false_documents, died or own_request",
                         json_pack("{s:s}", "field", "reason"));
    } else if (date_valid(ch.on, resp)) {
        struct life_result r;
        reply(e, &ch, life_remove(e->c, &ch, &r), &r, resp);
    }
    json_decref(body);
}

/* POST …/entries/{iin}/list-change — the person's category changed
 * (e.g. a disability group granted later): the office asks for the
 * list of the new category; the rules decide it on the application
 * with the new category's fields against the registries now. */
static void post_list_change(const struct entry_call *e,
                             const http_req_t *req, http_resp_t *resp)
{
    if (e->who.kind != PRINCIPAL_OFFICE) {
        http_reply_error(resp, 403, "forbidden", "a list is changed by the "
                         "office of the authority", NULL);
        return;
    }
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    char why[200];
    struct life_change ch = change_of(e, req, body);
    ch.category = body;
    if (!life_category_valid(body, why, sizeof(why))) {
        http_reply_error(resp, 400, "invalid_field", why, NULL);
    } else if (date_valid(ch.on, resp)) {
        struct life_result r;
        reply(e, &ch, life_change_list(e->c, &ch, &r), &r, resp);
    }
    json_decref(body);
}

/* POST …/entries/{iin}/transfer — the person moved to a settlement of
 * another authority: the office of either authority moves the entry,
 * registered there by the same rules. */
static void post_transfer(const struct entry_call *e, const http_req_t *req,
                          http_resp_t *resp)
{
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    struct life_change ch = change_of(e, req, body);
    ch.to_settlement_id = json_string_value(json_object_get(body,
                                                            "settlement_id"));
    const char *p[1] = {ch.to_settlement_id};
    PGresult *s = ch.to_settlement_id && strlen(ch.to_settlement_id) < 64
        ? pg_query(e->c, "SELECT authority_id FROM settlement WHERE id = $1",
                   1, p)
        : NULL;
    const char *to = s && PQntuples(s) == 1 ? PQgetvalue(s, 0, 0) : NULL;
    if (!ch.to_settlement_id || (s && !to)) {
        http_reply_error(resp, 400, "invalid_field",
                         "settlement_id: a settlement of the reference data",
                         json_pack("{s:s}", "field", "settlement_id"));
    } else if (!s) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (e->who.kind != PRINCIPAL_OFFICE ||
               (strcmp(e->who.id, ch.authority_id) != 0 &&
                strcmp(e->who.id, to) != 0)) {
        http_reply_error(resp, 403, "forbidden", "an entry is transferred "
                         "by the office of the authority it leaves or of "
                         "the one it goes to", NULL);
    } else if (date_valid(ch.on, resp)) {
        struct life_result r;
        reply(e, &ch, life_transfer(e->c, &ch, &r), &r, resp);
    }
    PQclear(s);
    json_decref(body);
}

const struct entry_fn queue_removal_fn = {post_removal},
    queue_list_change_fn = {post_list_change},
    queue_transfer_fn = {post_transfer};

/* The runs that covered authority (newest first, at most 10) with its
 * counts, and its open flags. */
static const char report_sql[] =
    "SELECT r.id, r.as_of::text, extract(epoch FROM r.started_at)::bigint,"
    " extract(epoch FROM r.finished_at)::bigint, coalesce((SELECT"
    " json_object_agg(c.reason, c.n) FROM queue_reverify_count c"
    " WHERE c.run_id = r.id AND c.authority_id = $1), '{}')::text,"
    " (SELECT count(*) FROM queue_reverify_flag f WHERE f.authority_id = $1"
    " AND f.resolved_at IS NULL) FROM queue_reverify_run r"
    " WHERE r.authority_id IS NULL OR r.authority_id = $1"
    " ORDER BY r.id DESC LIMIT 10";
enum { REPORT_ID, REPORT_AS_OF, REPORT_STARTED, REPORT_FINISHED,
       REPORT_COUNTS, REPORT_OPEN };

static json_t *report_runs(const PGresult *r)
{
    json_t *runs = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char started[26], finished[26] = "";
        almaty_timestamp(atoll(PQgetvalue(r, i, REPORT_STARTED)), started);
        if (!PQgetisnull(r, i, REPORT_FINISHED))
            almaty_timestamp(atoll(PQgetvalue(r, i, REPORT_FINISHED)),
                             finished);
        json_array_append_new(runs, json_pack(
            "{s:I, s:s, s:s, s:s?, s:o}", "run_id",
            (json_int_t)atoll(PQgetvalue(r, i, REPORT_ID)), "as_of",
            PQgetvalue(r, i, REPORT_AS_OF), "started_at", started,
            "finished_at", finished[0] ? finished : NULL, "flagged_by_reason",
            json_loads(PQgetvalue(r, i, REPORT_COUNTS), 0, NULL)));
    }
    return runs;
}

/* GET /v1/queue/{authority}/reverification — the re-verification
 * report of an authority: its office, its region's supervisor, ops. */
void queue_get_reverification(void *ctx, const http_req_t *req,
                              http_resp_t *resp)
{
    struct queue *q = ctx;
    principal_t who;
    enum auth_rc auth = auth_check(q->svc.pool, req, &who);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return;
    }
    char err[256], region[64] = "";
    PGconn *c = pgpool_acquire(q->svc.pool, err, sizeof(err));
    int known = !c ? -1
                : who.kind == PRINCIPAL_SUPERVISOR
                    ? auth_authority_region(c, req->params[0], region)
                    : 1;
    const char *p[1] = {req->params[0]};
    PGresult *r = NULL;
    if (known < 0)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (!principal_reads_authority(&who, req->params[0],
                                        known ? region : NULL))
        http_reply_error(resp, 403, "forbidden", "the report is read by the "
                         "authority's office, its region's supervisor and "
                         "operators", NULL);
    else if (!(r = pg_query(c, report_sql, 1, p)))
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:I, s:o}", "authority_id", req->params[0], "open_flags",
            (json_int_t)(PQntuples(r)
                             ? atoll(PQgetvalue(r, 0, REPORT_OPEN))
                             : 0),
            "runs", report_runs(r)));
    PQclear(r);
    if (c)
        pgpool_release(q->svc.pool, c);
}
