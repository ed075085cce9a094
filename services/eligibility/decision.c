/* The decisions of kezek-eligibility as they are written, whoever took
 * them (the rules or an employee): the application decided and the
 * DecisionMade event. */
#include "eligibility.h"

#include "outbox.h"
#include "reasons.h"

#define PRODUCER "eligibility"

bool elig_app_unpack(struct elig_app *app, const uint8_t *payload,
                     size_t len, uint64_t seq)
{
    *app = (struct elig_app){.seq = seq};
    app->a = kezek__application_accepted__unpack(NULL, len, payload);
    if (!app->a)
        return false;
    app->body = json_loads(app->a->application_json, 0, NULL);
    json_t *applicant = json_object_get(app->body, "applicant");
    app->iin = json_string_value(json_object_get(applicant, "iin"));
    app->email = json_string_value(json_object_get(applicant, "email"));
    return true;
}

void elig_app_free(struct elig_app *app)
{
    json_decref(app->body);
    if (app->a)
        kezek__application_accepted__free_unpacked(app->a, NULL);
    *app = (struct elig_app){0};
}

char *elig_codes_json(const struct elig_decision *d)
{
    json_t *codes = json_array();
    for (int i = 0; i < d->nreasons; i++)
        json_array_append_new(codes, json_string(d->reasons[i]));
    char *s = json_dumps(codes, JSON_COMPACT);
    json_decref(codes);
    return s;
}

bool elig_decision_event(struct outbox_row *o, const struct elig_app *app,
                         const struct elig_decision *d)
{
    Kezek__ApplicationAccepted *a = app->a;
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
    m.accepted_seq = app->seq;
    m.applicant_iin = (char *)app->iin;
    m.email = (char *)(app->email ? app->email : "");
    return outbox_row_init(o, PRODUCER, KEZEK__EVENT_TYPE__DECISION_MADE,
                           a->application_id, &m.base);
}

bool elig_emit(PGconn *conn, const struct elig_app *app,
               const struct elig_decision *d)
{
    struct outbox_row o;
    bool ok = elig_decision_event(&o, app, d) && outbox_add_row(conn, &o);
    outbox_row_free(&o);
    return ok;
}
