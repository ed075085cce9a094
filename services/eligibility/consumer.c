/* The consumer of kezek-eligibility: each ApplicationAccepted decided by
 * the rules (elig.h) against the registry facts, the decisions of a
 * batch written set-based with their DecisionMade events, or the
 * application parked for a person. Its state is the struct elig_batch
 * it is handed as ctx. */
#include "eligibility.h"

#include "calendar.h"
#include "outbox.h"
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Gathers the decision with its DecisionMade event. */
static bool put_decision(struct elig_batch *b, PGconn *conn,
                         const struct elig_app *app,
                         const struct elig_decision *d,
                         const char *facts, const char *date)
{
    struct outbox_row o;
    if (!elig_decision_event(&o, app, d)) {
        outbox_row_free(&o);
        return false;
    }
    /* the facts as the registries gave them, and what the rules used */
    char *used_s = json_dumps(d->used, JSON_COMPACT);
    char *codes_s = elig_codes_json(d);
    char *facts_s = NULL;
    if (!used_s || !codes_s ||
        asprintf(&facts_s, "{\"facts\":%s,\"used\":%s}", facts, used_s) < 0)
        facts_s = NULL;
    free(used_s);
    const char *p[15] = {app->a->application_id,
                         d->outcome == ELIG_REGISTERED ? "t" : "f",
                         elig_outcome_str(d->outcome), codes_s, facts_s,
                         ELIG_RULES_VERSION, date,
                         /* the application decided is application.body
                          * (kezek decisions replay joins it) */
                         NULL};
    char *hex = NULL;
    if (!b->decisions)
        b->decisions = rowbuf_new("decision_put", 15);
    bool ok = b->decisions && facts_s && outbox_row_texts(&o, p + 8, &hex) &&
              rowbuf_add(b->decisions, conn, app->a->application_id, p);
    free(hex);
    outbox_row_free(&o);
    free(codes_s);
    free(facts_s);
    return ok;
}

/* Parks app (payload: the event as received, len bytes; day: the date
 * it was accepted) for a person and, the first time, emits its
 * DecisionMade "review"; false when that failed. */
static bool park(struct elig_batch *b, PGconn *conn,
                 const struct elig_app *app, const uint8_t *payload,
                 size_t len, kdate_t day, const struct elig_decision *d)
{
    Kezek__ApplicationAccepted *a = app->a;
    char seq_s[24];
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)app->seq);
    /* p.7: the authority's own term, a day early for a centre */
    kdate_t due = day;
    char due_s[11];
    if (!kdate_parse(a->result_due, &due))
        due = result_due(day);
    if (strcmp(a->channel, "centre") == 0)
        due = kdate_add(due, -1);
    kdate_format(due, due_s);
    const char *p[6] = {a->application_id, a->authority_id,
                        d->review_reason ? d->review_reason : "review",
                        seq_s, (const char *)payload, due_s};
    int lens[6] = {0, 0, 0, 0, (int)len, 0};
    int fmts[6] = {0, 0, 0, 0, 1, 0};
    PGresult *r = pg_run_bin(conn, "park", 6, p, lens, fmts, 0);
    bool ok = r != NULL;
    bool fresh = ok && strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (ok && fresh && !elig_emit(conn, app, d))
        ok = false;
    if (ok && fresh)
        b->tally[ELIG_REVIEW]++;
    return ok;
}

enum handle_rc elig_decide_payload(struct elig_batch *b, PGconn *conn,
                                   const uint8_t *payload, size_t len,
                                   uint64_t seq, const char *key,
                                   bool *parked, char *why, size_t whylen)
{
    *parked = false;
    struct elig_app app;
    if (!elig_app_unpack(&app, payload, len, seq)) {
        snprintf(why, whylen, "undecodable ApplicationAccepted");
        return HANDLE_POISON;
    }
    enum handle_rc rc = HANDLE_POISON;
    struct elig_decision d = {0};
    json_t *facts = NULL;
    char *facts_text = NULL;
    if (!app.body || !app.iin || strlen(app.iin) != 12 ||
        (key && strcmp(app.a->application_id, key) != 0)) {
        snprintf(why, whylen, "application body or key invalid");
        goto out;
    }
    kdate_t day = almaty_date(app.a->accepted_at_us / 1000000);
    char date[11];
    kdate_format(day, date);
    rc = HANDLE_ERROR;
    char family[20 * 13 + 1];
    registry_family(app.body, family, sizeof(family));
    facts = registry_facts(conn, b->facts, app.iin, day.year, family,
                           &facts_text);
    if (!facts) /* a registry is unreachable: wait and retry */
        goto out;
    elig_decide(app.body, facts, date, &d);
    if (d.outcome == ELIG_REVIEW) {
        *parked = true;
        if (park(b, conn, &app, payload, len, day, &d))
            rc = HANDLE_OK;
        goto out;
    }
    if (!put_decision(b, conn, &app, &d, facts_text, date))
        goto out;
    b->tally[d.outcome]++;
    rc = HANDLE_OK;
out:
    json_decref(facts);
    free(facts_text);
    json_decref(d.used);
    elig_app_free(&app);
    return rc;
}

enum handle_rc elig_decide_event(void *ctx, PGconn *conn, const event_t *ev,
                                 char *why, size_t whylen)
{
    if (ev->type != KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED)
        return HANDLE_OK;
    bool parked;
    return elig_decide_payload(ctx, conn, ev->payload, ev->payload_len,
                               ev->seq, ev->key, &parked, why, whylen);
}

/* The registry facts of the batch's applicants, in one statement (events
 * written before ApplicationAccepted carried the IIN are read singly). */
bool elig_prefetch(void *ctx, PGconn *conn, const event_t *evs, int n)
{
    struct elig_batch *b = ctx;
    const char **iins = calloc((size_t)n, sizeof(char *));
    int *years = calloc((size_t)n, sizeof(int));
    Kezek__ApplicationAccepted **as = calloc((size_t)n, sizeof(*as));
    char (*families)[20 * 13 + 1] = calloc((size_t)n, sizeof(*families));
    const char **fams = calloc((size_t)n, sizeof(char *));
    int k = 0;
    bool ok = iins && years && as && families && fams;
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
        json_t *body = json_loads(a->application_json, 0, NULL);
        registry_family(body, families[k], sizeof(families[k]));
        json_decref(body);
        fams[k] = families[k];
        k++;
    }
    ok = ok && registry_prefetch(conn, iins, years, fams, k, &b->facts);
    for (int i = 0; i < k; i++)
        kezek__application_accepted__free_unpacked(as[i], NULL);
    free(as);
    free(years);
    free(iins);
    free(families);
    free(fams);
    return ok;
}

bool elig_batch_flush(void *ctx, PGconn *conn)
{
    struct elig_batch *b = ctx;
    return !b->decisions || outbox_log_flush(b->decisions, conn);
}

void elig_batch_done(struct elig_batch *b, bool committed)
{
    if (committed)
        for (int o = 0; o < ELIG_OUTCOMES; o++)
            metric_add(b->elig->decided[o], b->tally[o]);
    memset(b->tally, 0, sizeof(b->tally));
    registry_forget(&b->facts);
    if (!committed && b->decisions)
        rowbuf_clear(b->decisions);
}

void elig_batch_committed(void *ctx)
{
    elig_batch_done(ctx, true);
}

void elig_batch_rolled_back(void *ctx)
{
    elig_batch_done(ctx, false);
}

void elig_batch_fini(struct elig_batch *b)
{
    rowbuf_destroy(&b->decisions);
    registry_forget(&b->facts);
}
