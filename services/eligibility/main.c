/* kezek-eligibility: consumes ApplicationAccepted, gathers the registry
 * facts through its adapters, runs the pure rules (rules.c) and writes
 * the decision and its DecisionMade event in one transaction.
 *
 * An application the rules cannot decide without a person (no
 * subsistence minimum for its year, p.6) is parked, reported with
 * outcome "review", and re-decided by a sweep as soon as what it waits
 * for exists — never guessed. */
#include "auth.h"
#include "calendar.h"
#include "consumer.h"
#include "elig.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "reasons.h"
#include "registry.h"
#include "rowbuf.h"
#include "service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRODUCER "eligibility"

static const struct pg_stmt elig_stmts[] = {
    REGISTRY_STMTS,
    {"decision_put", /* the batch's decisions (rowbuf.h), off the work */
     /* list, each with its DecisionMade — only for a decision written now
      * (a replay finds it made), logged here (outbox.h): the batch's last
      * write, its events returned for the bus */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
     " $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
     " $14::text[], $15::text[]) WITH ORDINALITY AS v (application_id,"
     " registered, outcome, reasons, facts, rules_version, decision_date,"
     " application, " OUTBOX_TEXT_COLUMNS ", n)),"
     " d AS (INSERT INTO decision (application_id, registered, outcome,"
     " reasons, facts, rules_version, decision_date, application)"
     " SELECT application_id, registered::boolean, outcome, reasons::jsonb,"
     " facts::jsonb, rules_version, decision_date::date,"
     " application::jsonb FROM v ON CONFLICT DO NOTHING"
     " RETURNING application_id),"
     " u AS (DELETE FROM parked_application p"
     " WHERE p.application_id = ANY ($1::text[])),"
     " e (" EVENT_LOG_E_COLUMNS ") AS (SELECT row_number() OVER"
     " (ORDER BY v.n), " OUTBOX_FROM_TEXT("v") " FROM v JOIN d"
     " ON d.application_id = v.application_id)," EVENT_LOG_TAIL("e")},
    {"park",
     "INSERT INTO parked_application (application_id, authority_id, reason,"
     " accepted_seq, payload, due_date) VALUES ($1, $2, $3, $4, $5, $6)"
     " ON CONFLICT DO NOTHING"},
    {"worklist",
     "SELECT application_id, reason, due_date::text,"
     " extract(epoch FROM parked_at)::bigint,"
     " due_date - (now() AT TIME ZONE 'UTC' + interval '5 hours')::date"
     " FROM parked_application WHERE authority_id = $1"
     " ORDER BY due_date, accepted_seq"},
    {"parked_one", /* read in binary: the payload is bytea */
     "SELECT authority_id, accepted_seq::text, payload"
     " FROM parked_application WHERE application_id = $1 FOR UPDATE"},
    {"decision_manual",
     "INSERT INTO decision (application_id, registered, outcome, reasons,"
     " facts, rules_version, decision_date, decided_by, note)"
     " VALUES ($1, $2, $3, $4, '{}', 'manual', (now() AT TIME ZONE 'UTC'"
     " + interval '5 hours')::date, $5, $6) ON CONFLICT DO NOTHING"},
    {"deadline_gauges",
     /* every authority, 0 included, so that a gauge falls back */
     "SELECT a.id, count(p.*) FILTER (WHERE p.due_date >= d AND"
     " p.due_date <= d + 3), count(p.*) FILTER (WHERE p.due_date < d)"
     " FROM authority a CROSS JOIN (SELECT (now() AT TIME ZONE 'UTC'"
     " + interval '5 hours')::date AS d) t LEFT JOIN parked_application p"
     " ON p.authority_id = a.id GROUP BY a.id"},
    {"unpark", "DELETE FROM parked_application WHERE application_id = $1"},
    {"parked_next",
     "SELECT accepted_seq, payload FROM parked_application"
     " WHERE parked_at < now() - interval '1 second'"
     " ORDER BY accepted_seq LIMIT 1 OFFSET $1 FOR UPDATE SKIP LOCKED"},
    {"parked_count", /* known reasons with 0, so gauges fall back */
     "SELECT r.reason, count(p.*) FROM (SELECT DISTINCT reason FROM"
     " (VALUES ('subsistence_minimum_missing'),"
     " ('application_date_invalid')) v (reason) UNION SELECT reason FROM"
     " parked_application) r LEFT JOIN parked_application p"
     " ON p.reason = r.reason GROUP BY r.reason"},
    {NULL, NULL},
};

static service_t svc;
static metric_t *m_registered, *m_refused, *m_review;

/* Decisions written by this thread's open transaction, counted in the
 * metrics once it commits. */
static _Thread_local uint64_t tally[3];

static void tally_flush(bool committed)
{
    if (committed) {
        metric_add(m_registered, tally[ELIG_REGISTERED]);
        metric_add(m_refused, tally[ELIG_REFUSED]);
        metric_add(m_review, tally[ELIG_REVIEW]);
    }
    memset(tally, 0, sizeof(tally));
}

static bool batch_flush(void *ctx, PGconn *conn);

static void batch_committed(void *ctx)
{
    (void)ctx;
    tally_flush(true);
    registry_forget();
}

static void batch_rolled_back(void *ctx);

/* The DecisionMade event of d as an outbox row (false: out of memory). */
static bool decision_event(struct outbox_row *o,
                           Kezek__ApplicationAccepted *a, uint64_t seq,
                           const char *iin, const char *email,
                           const struct elig_decision *d)
{
    Kezek__Reason rs[ELIG_MAX_REASONS], *rp[ELIG_MAX_REASONS];
    for (int i = 0; i < d->nreasons; i++) {
        const struct reason *r = reason_find(d->reasons[i]);
        kezek__reason__init(&rs[i]);
        rs[i].code = (char *)d->reasons[i];
        rs[i].paragraph = (char *)(r ? r->paragraph : "");
        rp[i] = &rs[i];
    }
    Kezek__DecisionMade m = KEZEK__DECISION_MADE__INIT;
    m.application_id = a->application_id;
    m.registered = d->outcome == ELIG_REGISTERED;
    m.outcome = (char *)elig_outcome_str(d->outcome);
    m.review_reason = (char *)(d->review_reason ? d->review_reason : "");
    m.n_reasons = (size_t)d->nreasons;
    m.reasons = rp;
    m.decided_at_us = now_us();
    m.authority_id = a->authority_id;
    m.list = a->category;
    m.accepted_seq = seq;
    m.applicant_iin = (char *)iin;
    m.email = (char *)(email ? email : "");
    return outbox_row_init(o, PRODUCER, KEZEK__EVENT_TYPE__DECISION_MADE,
                           a->application_id, &m.base);
}

/* This thread's decisions of the open transaction, sent set-based just
 * before its commit (decisions_flush): the consumer's and the sweep's. */
static _Thread_local rowbuf_t *decisions;

static bool decisions_flush(PGconn *conn)
{
    return !decisions || outbox_log_flush(decisions, conn);
}

static bool batch_flush(void *ctx, PGconn *conn)
{
    (void)ctx;
    return decisions_flush(conn);
}

static void batch_rolled_back(void *ctx)
{
    (void)ctx;
    tally_flush(false);
    registry_forget();
    if (decisions)
        rowbuf_clear(decisions);
}

/* Gathers the decision with its DecisionMade event. */
static bool put_decision(PGconn *conn, Kezek__ApplicationAccepted *a,
                         uint64_t seq, const char *iin, const char *email,
                         const struct elig_decision *d,
                         const char *facts, const char *date)
{
    struct outbox_row o;
    if (!decision_event(&o, a, seq, iin, email, d)) {
        outbox_row_free(&o);
        return false;
    }
    json_t *codes = json_array();
    for (int i = 0; i < d->nreasons; i++)
        json_array_append_new(codes, json_string(d->reasons[i]));
    /* the facts as the registries gave them, and what the rules used */
    char *used_s = json_dumps(d->used, JSON_COMPACT);
    char *codes_s = json_dumps(codes, JSON_COMPACT);
    char *facts_s = NULL;
    if (!used_s || !codes_s ||
        asprintf(&facts_s, "{\"facts\":%s,\"used\":%s}", facts, used_s) < 0)
        facts_s = NULL;
    free(used_s);
    const char *p[15] = {a->application_id,
                         d->outcome == ELIG_REGISTERED ? "t" : "f",
                         elig_outcome_str(d->outcome), codes_s, facts_s,
                         ELIG_RULES_VERSION, date,
                         /* the application decided is application.body
                          * (kezek decisions replay joins it) */
                         NULL};
    char *hex = NULL;
    if (!decisions)
        decisions = rowbuf_new("decision_put", 15);
    bool ok = decisions && facts_s && outbox_row_texts(&o, p + 8, &hex) &&
              rowbuf_add(decisions, conn, a->application_id, p);
    free(hex);
    outbox_row_free(&o);
    free(codes_s);
    free(facts_s);
    json_decref(codes);
    return ok;
}

static bool emit(PGconn *conn, Kezek__ApplicationAccepted *a, uint64_t seq,
                 const char *iin, const char *email,
                 const struct elig_decision *d)
{
    struct outbox_row o;
    bool ok = decision_event(&o, a, seq, iin, email, d) &&
              outbox_add_row(conn, &o);
    outbox_row_free(&o);
    return ok;
}

/* Decides one ApplicationAccepted payload (accepted as seq) inside the
 * open transaction. */
static enum handle_rc decide_payload(PGconn *conn, const uint8_t *payload,
                                     size_t len, uint64_t seq,
                                     const char *key, bool *parked,
                                     char *why, size_t whylen)
{
    *parked = false;
    Kezek__ApplicationAccepted *a =
        kezek__application_accepted__unpack(NULL, len, payload);
    if (!a) {
        snprintf(why, whylen, "undecodable ApplicationAccepted");
        return HANDLE_POISON;
    }
    enum handle_rc rc = HANDLE_POISON;
    struct elig_decision d = {0};
    json_t *facts = NULL;
    char *facts_text = NULL;
    json_t *app = json_loads(a->application_json, 0, NULL);
    json_t *applicant = json_object_get(app, "applicant");
    const char *iin = json_string_value(json_object_get(applicant, "iin"));
    const char *email = json_string_value(json_object_get(applicant,
                                                          "email"));
    if (!app || !iin || strlen(iin) != 12 ||
        (key && strcmp(a->application_id, key) != 0)) {
        snprintf(why, whylen, "application body or key invalid");
        goto out;
    }
    kdate_t day = almaty_date(a->accepted_at_us / 1000000);
    char date[11];
    kdate_format(day, date);
    rc = HANDLE_ERROR;
    facts = registry_facts(conn, iin, day.year, &facts_text);
    if (!facts) /* a registry is unreachable: wait and retry */
        goto out;
    elig_decide(app, facts, date, &d);
    if (d.outcome == ELIG_REVIEW) {
        *parked = true;
        char seq_s[24];
        snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
        /* p.7: the authority's own term, a day early for a centre */
        kdate_t due = day;
        char due_s[11];
        if (!kdate_parse(a->result_due, &due))
            due = result_due(day);
        if (strcmp(a->channel, "centre") == 0)
            due = kdate_add(due, -1);
        kdate_format(due, due_s);
        const char *p[6] = {a->application_id, a->authority_id,
                            d.review_reason ? d.review_reason : "review",
                            seq_s, (const char *)payload, due_s};
        int lens[6] = {0, 0, 0, 0, (int)len, 0};
        int fmts[6] = {0, 0, 0, 0, 1, 0};
        PGresult *r = pg_run_bin(conn, "park", 6, p, lens, fmts, 0);
        bool ok = r != NULL;
        bool fresh = ok && strcmp(PQcmdTuples(r), "1") == 0;
        PQclear(r);
        if (ok && fresh && !emit(conn, a, seq, iin, email, &d))
            ok = false;
        if (ok && fresh)
            tally[ELIG_REVIEW]++;
        rc = ok ? HANDLE_OK : HANDLE_ERROR;
        goto out;
    }
    if (!put_decision(conn, a, seq, iin, email, &d, facts_text, date))
        goto out;
    tally[d.outcome]++;
    rc = HANDLE_OK;
out:
    json_decref(app);
    json_decref(facts);
    free(facts_text);
    json_decref(d.used);
    kezek__application_accepted__free_unpacked(a, NULL);
    return rc;
}

static enum handle_rc decide(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen)
{
    (void)ctx;
    if (ev->type != KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED)
        return HANDLE_OK;
    bool parked;
    return decide_payload(conn, ev->payload, ev->payload_len, ev->seq,
                          ev->key, &parked, why, whylen);
}

/* The registry facts of the batch's applicants, in one statement (events
 * written before ApplicationAccepted carried the IIN are read singly). */
static bool prefetch(void *ctx, PGconn *conn, const event_t *evs, int n)
{
    (void)ctx;
    const char **iins = calloc((size_t)n, sizeof(char *));
    int *years = calloc((size_t)n, sizeof(int));
    Kezek__ApplicationAccepted **as = calloc((size_t)n, sizeof(*as));
    int k = 0;
    bool ok = iins && years && as;
    for (int i = 0; ok && i < n; i++) {
        if (evs[i].type != KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED)
            continue;
        Kezek__ApplicationAccepted *a = kezek__application_accepted__unpack(
            NULL, evs[i].payload_len, evs[i].payload);
        if (!a) /* the handler dead-letters it */
            continue;
        if (strlen(a->applicant_iin) != 12) {
            kezek__application_accepted__free_unpacked(a, NULL);
            continue;
        }
        as[k] = a;
        iins[k] = a->applicant_iin;
        years[k] = almaty_date(a->accepted_at_us / 1000000).year;
        k++;
    }
    ok = ok && registry_prefetch(conn, iins, years, k);
    for (int i = 0; i < k; i++)
        kezek__application_accepted__free_unpacked(as[i], NULL);
    free(as);
    free(years);
    free(iins);
    return ok;
}

/* The sweep: re-decides parked applications, one transaction each. */
static void *sweep(void *arg)
{
    (void)arg;
    long every;
    if (!service_int(&svc, "review_sweep_seconds", 5, 1, 3600, &every))
        every = 5;
    PGconn *c = NULL;
    while (!service_stop) {
        for (long i = 0; i < every * 10 && !service_stop; i++)
            usleep(100000);
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            c = pg_connect_retry(svc.conninfo, elig_stmts, &service_stop);
            if (!c)
                break;
        }
        PGresult *g = pg_run(c, "deadline_gauges", 0, NULL);
        for (int i = 0; g && i < PQntuples(g); i++) {
            char l[96], v[64];
            snprintf(l, sizeof(l), "authority=\"%s\"",
                     metrics_label_escape(v, sizeof(v), PQgetvalue(g, i, 0)));
            metric_set(metrics_gauge("kezek_review_due_soon",
                "Parked applications within 3 days of their due date (p.7)",
                l), atof(PQgetvalue(g, i, 1)));
            metric_set(metrics_gauge("kezek_review_overdue",
                "Parked applications past their due date (p.7)", l),
                atof(PQgetvalue(g, i, 2)));
        }
        PQclear(g);
        PGresult *r = pg_run(c, "parked_count", 0, NULL);
        long total = 0;
        for (int i = 0; r && i < PQntuples(r); i++) {
            char l[96], v[64];
            snprintf(l, sizeof(l), "reason=\"%s\"",
                     metrics_label_escape(v, sizeof(v), PQgetvalue(r, i, 0)));
            metric_set(metrics_gauge("kezek_parked_applications",
                                     "Applications waiting for a person "
                                     "or for data (p.6)", l),
                       atof(PQgetvalue(r, i, 1)));
            total += atol(PQgetvalue(r, i, 1));
        }
        PQclear(r);
        for (long skip = 0; skip < total && !service_stop;) {
            if (!pg_exec(c, "BEGIN"))
                break;
            char off[24];
            snprintf(off, sizeof(off), "%ld", skip);
            const char *p[1] = {off};
            PGresult *row = PQexecPrepared(c, "parked_next", 1, p, NULL,
                                           NULL, 1);
            if (!pg_check(row) || PQntuples(row) == 0) {
                PQclear(row);
                if (!pg_exec(c, "ROLLBACK"))
                    break;
                break;
            }
            uint64_t seq = 0;
            for (int k = 0; k < 8; k++)
                seq = (seq << 8) | (uint8_t)PQgetvalue(row, 0, 0)[k];
            char why[256];
            bool still;
            enum handle_rc rc = decide_payload(c,
                (const uint8_t *)PQgetvalue(row, 0, 1),
                (size_t)PQgetlength(row, 0, 1), seq, NULL, &still, why,
                sizeof(why));
            PQclear(row);
            bool committed = rc == HANDLE_OK && decisions_flush(c) &&
                             pg_exec(c, "COMMIT");
            outbox_log_done(committed);
            tally_flush(committed);
            if (!committed && decisions)
                rowbuf_clear(decisions);
            if (!committed) {
                if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
                    break;
                skip++;
            } else if (still) {
                skip++;
            }
        }
    }
    rowbuf_destroy(&decisions);
    if (c)
        PQfinish(c);
    return NULL;
}

/* The office of the authority (or an operator, read-only); NULL after
 * replying. */
static PGconn *review_request(const http_req_t *req, http_resp_t *resp,
                              principal_t *who)
{
    enum auth_rc auth = auth_check(svc.pool, req, who);
    char err[256];
    PGconn *c = auth == AUTH_OK ? pgpool_acquire(svc.pool, err, sizeof(err))
                                : NULL;
    if (auth != AUTH_OK)
        auth_reply(resp, auth);
    else if (!c)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (who->kind != PRINCIPAL_OFFICE && who->kind != PRINCIPAL_OPS)
        http_reply_error(resp, 403, "forbidden",
                         "the work list belongs to the authority's office",
                         NULL);
    if (resp->status && c) {
        pgpool_release(svc.pool, c);
        c = NULL;
    }
    return c;
}

/* GET /v1/review/{authority_id} — parked applications by due date. */
static void get_worklist(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    PGconn *c = review_request(req, resp, &who);
    if (!c)
        return;
    if (who.kind == PRINCIPAL_OFFICE && strcmp(who.id, req->params[0])) {
        http_reply_error(resp, 403, "forbidden",
                         "an office sees only its own work list", NULL);
        pgpool_release(svc.pool, c);
        return;
    }
    const char *p[1] = {req->params[0]};
    PGresult *r = pg_run(c, "worklist", 1, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        json_t *items = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, i, 3)), at);
            long left = atol(PQgetvalue(r, i, 4));
            json_array_append_new(items, json_pack(
                "{s:s, s:s, s:s, s:s, s:i, s:s}", "application_id",
                PQgetvalue(r, i, 0), "reason", PQgetvalue(r, i, 1),
                "due_date", PQgetvalue(r, i, 2), "parked_at", at,
                "days_left", (int)left, "urgency",
                left < 0 ? "overdue" : left <= 3 ? "due_soon" : "on_time"));
        }
        http_reply_json(resp, 200, json_pack("{s:s, s:o}", "authority_id",
                                             req->params[0], "items",
                                             items));
    }
    PQclear(r);
    pgpool_release(svc.pool, c);
}

/* POST /v1/review/{application_id}/decision — an employee's decision
 * on a parked application, through the same event path as the rules'
 * and recorded with who took it. */
static void post_decision(void *ctx, const http_req_t *req,
                          http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    PGconn *c = review_request(req, resp, &who);
    if (!c)
        return;
    json_t *body = http_json_body(req, resp);
    const char *outcome = json_string_value(json_object_get(body,
                                                            "outcome"));
    const char *note = json_string_value(json_object_get(body, "note"));
    json_t *codes = json_object_get(body, "reasons");
    struct elig_decision d = {0};
    bool bad = false;
    size_t i;
    json_t *v;
    if (body && outcome && strcmp(outcome, "refused") == 0) {
        d.outcome = ELIG_REFUSED;
        json_array_foreach(codes, i, v) {
            const struct reason *rs = reason_find(json_string_value(v)
                                                  ? json_string_value(v)
                                                  : "");
            if (!rs || d.nreasons == ELIG_MAX_REASONS)
                bad = true;
            else
                d.reasons[d.nreasons++] = rs->code;
        }
        bad = bad || d.nreasons == 0;
    } else if (body && outcome && strcmp(outcome, "registered") == 0) {
        d.outcome = ELIG_REGISTERED;
        bad = json_array_size(codes) > 0;
    } else {
        bad = true;
    }
    if (!body) {
        /* replied */
    } else if (who.kind != PRINCIPAL_OFFICE) {
        http_reply_error(resp, 403, "forbidden",
                         "decisions are taken by the authority's office",
                         NULL);
    } else if (bad || !note || !*note || strlen(note) > 2000) {
        http_reply_error(resp, 400, "invalid_field",
                         "outcome registered (no reasons) or refused with "
                         "the reason codes of p.6/p.16; note required",
                         NULL);
    } else if (!pg_exec(c, "BEGIN")) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        const char *p[1] = {req->params[0]};
        PGresult *r = PQexecPrepared(c, "parked_one", 1, p, NULL, NULL, 1);
        if (!pg_check(r)) {
            PQclear(r);
            r = NULL;
        }
        Kezek__ApplicationAccepted *a = r && PQntuples(r) == 1
            ? kezek__application_accepted__unpack(NULL,
                  (size_t)PQgetlength(r, 0, 2),
                  (const uint8_t *)PQgetvalue(r, 0, 2))
            : NULL;
        json_t *app = a ? json_loads(a->application_json, 0, NULL) : NULL;
        json_t *applicant = json_object_get(app, "applicant");
        const char *iin = json_string_value(json_object_get(applicant,
                                                            "iin"));
        const char *email = json_string_value(json_object_get(applicant,
                                                              "email"));
        bool ok = false;
        if (!r) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        } else if (!a || !iin) {
            http_reply_error(resp, 404, "not_found",
                             "no such application on a work list", NULL);
        } else if (strcmp(a->authority_id, who.id) != 0) {
            http_reply_error(resp, 403, "forbidden",
                             "not this office's application", NULL);
        } else {
            json_t *arr = json_array();
            for (int k = 0; k < d.nreasons; k++)
                json_array_append_new(arr, json_string(d.reasons[k]));
            char *codes_s = json_dumps(arr, JSON_COMPACT);
            json_decref(arr);
            char by[220];
            snprintf(by, sizeof(by), "%s%s%s%s", who.text,
                     who.employee[0] ? " (" : "", who.employee,
                     who.employee[0] ? ")" : "");
            const char *dp[6] = {a->application_id,
                                 d.outcome == ELIG_REGISTERED ? "t" : "f",
                                 elig_outcome_str(d.outcome), codes_s, by,
                                 note};
            PGresult *w = pg_run(c, "decision_manual", 6, dp);
            if (w && strcmp(PQcmdTuples(w), "1") != 0) {
                /* decided meanwhile (the sweep or another employee) */
                PQclear(w);
                w = NULL;
                http_reply_error(resp, 409, "already_decided",
                                 "this application was decided meanwhile",
                                 NULL);
            }
            PGresult *u = w ? pg_run(c, "unpark", 1, p) : NULL;
            ok = u && emit(c, a, strtoull(PQgetvalue(r, 0, 1), NULL, 10),
                           iin, email, &d) && pg_exec(c, "COMMIT");
            PQclear(w);
            PQclear(u);
            free(codes_s);
            if (ok) {
                metric_inc(d.outcome == ELIG_REGISTERED ? m_registered
                                                        : m_refused);
                log_info("review.decided", "application %s decided by %s",
                         a->application_id, who.text);
                http_reply_json(resp, 200, json_pack(
                    "{s:s, s:s, s:s}", "application_id", a->application_id,
                    "outcome", elig_outcome_str(d.outcome), "decided_by",
                    who.text));
            } else if (!resp->status) {
                http_reply_error(resp, 503, "unavailable",
                                 "the decision was not recorded", NULL);
            }
        }
        if (!ok && !pg_lost(c) && !pg_exec(c, "ROLLBACK"))
            log_error("review.rollback", "rollback failed");
        json_decref(app);
        if (a)
            kezek__application_accepted__free_unpacked(a, NULL);
        PQclear(r);
    }
    json_decref(body);
    pgpool_release(svc.pool, c);
}

static const struct http_route routes[] = {
    {"GET", "/v1/review/*", get_worklist, NULL},
    {"POST", "/v1/review/*/decision", post_decision, NULL},
    {NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "eligibility", argc, argv,
        "Decides each accepted application against p.6 and p.16 and\n"
        "emits DecisionMade; parks what needs a person and re-decides it.\n"
        "  review_sweep_seconds            how often parked applications\n"
        "                                  are retried (5)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    m_registered = metrics_counter("kezek_decisions_total",
                                   "Decisions made", "outcome=\"registered\"");
    m_refused = metrics_counter("kezek_decisions_total", "Decisions made",
                                "outcome=\"refused\"");
    m_review = metrics_counter("kezek_decisions_total", "Decisions made",
                               "outcome=\"review\"");
    if (service_http(&svc, 8081, 4, elig_stmts, routes, NULL) != 0) {
        service_fini(&svc);
        return 1;
    }
    pthread_t sweeper;
    pthread_create(&sweeper, NULL, sweep, NULL);
    struct consumer_cfg cc = {
        .name = "eligibility", .conninfo = svc.conninfo,
        .stmts = elig_stmts, .bus_endpoints = svc.bus_endpoints,
        .batch_size = svc.batch_size,
        .linger_ms = svc.batch_linger_ms, .idle_poll_ms = 250,
        .handle = decide, .prepare = prefetch, .flush = batch_flush,
        .committed = batch_committed, .rolled_back = batch_rolled_back,
    };
    rc = consumer_run(&cc, &service_stop);
    rowbuf_destroy(&decisions);
    service_stop = 1;
    pthread_join(sweeper, NULL);
    service_fini(&svc);
    return rc == 0 ? 0 : 1;
}
