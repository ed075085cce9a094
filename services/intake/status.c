/* The status read model: GET /v1/applications/{id} follows decisions
 * and queue numbers in application_status (migrations/015; the delivery
 * of the result it reads from notify's result_delivery, migrations/013).
 * Every update is idempotent. */
#include "intake.h"

#include "calendar.h"
#include "reasons.h"
#include "rowbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool intake_status_init(struct intake_status_batch *b)
{
    b->updates[STATUS_DECIDED] = rowbuf_new("app_decided", 3);
    b->updates[STATUS_NUMBERED] = rowbuf_new("app_numbered", 2);
    b->updates[STATUS_CHANGED] = rowbuf_new("app_queue_changed", 3);
    for (int k = 0; k < STATUS_KINDS; k++)
        if (!b->updates[k])
            return false;
    return true;
}

void intake_status_fini(struct intake_status_batch *b)
{
    for (int k = 0; k < STATUS_KINDS; k++)
        rowbuf_destroy(&b->updates[k]);
}

bool intake_status_flush(void *ctx, PGconn *conn)
{
    struct intake_status_batch *b = ctx;
    bool ok = true;
    for (int k = 0; k < STATUS_KINDS; k++)
        ok = rowbuf_flush(b->updates[k], conn) && ok;
    return ok;
}

void intake_status_clear(void *ctx)
{
    struct intake_status_batch *b = ctx;
    for (int k = 0; k < STATUS_KINDS; k++)
        rowbuf_clear(b->updates[k]);
}

/* Gathers one update for the end of the batch (keyed by application: a
 * second update of one application sends the first one at once). */
static enum handle_rc run(struct intake_status_batch *b, PGconn *conn,
                          int kind, const char *const *p)
{
    return rowbuf_add(b->updates[kind], conn, p[0], p) ? HANDLE_OK
                                                       : HANDLE_ERROR;
}

static enum handle_rc on_decision(struct intake_status_batch *b,
                                  PGconn *conn, const event_t *ev,
                                  char *why, size_t whylen)
{
    Kezek__DecisionMade *d =
        kezek__decision_made__unpack(NULL, ev->payload_len, ev->payload);
    if (!d) {
        snprintf(why, whylen, "undecodable DecisionMade");
        return HANDLE_POISON;
    }
    char at[26];
    almaty_timestamp(d->decided_at_us / 1000000, at);
    json_t *reasons = json_array();
    for (size_t i = 0; i < d->n_reasons; i++) {
        const struct reason *rs = reason_find(d->reasons[i]->code);
        json_array_append_new(reasons, json_pack("{s:s, s:s, s:s?, s:s?}",
            "code", d->reasons[i]->code, "paragraph",
            d->reasons[i]->paragraph, "text_kk", rs ? rs->text_kk : NULL,
            "text_ru", rs ? rs->text_ru : NULL));
    }
    /* events before schema field 10 carry only the boolean */
    const char *outcome = d->outcome[0] ? d->outcome
                          : d->registered ? "registered" : "refused";
    json_t *j = json_pack("{s:s, s:s, s:o}", "outcome", outcome,
                          "decided_at", at, "reasons", reasons);
    if (strcmp(outcome, "review") == 0)
        json_object_set_new(j, "review_reason",
                            json_string(d->review_reason));
    char *js = json_dumps(j, JSON_COMPACT);
    const char *p[3] = {d->application_id,
                        strcmp(outcome, "registered") == 0 ? "accepted"
                                                           : outcome, js};
    enum handle_rc rc = run(b, conn, STATUS_DECIDED, p);
    free(js);
    json_decref(j);
    kezek__decision_made__free_unpacked(d, NULL);
    return rc;
}

static enum handle_rc on_number(struct intake_status_batch *b,
                                PGconn *conn, const event_t *ev, char *why,
                                size_t whylen)
{
    Kezek__QueueNumberAssigned *q = kezek__queue_number_assigned__unpack(
        NULL, ev->payload_len, ev->payload);
    if (!q) {
        snprintf(why, whylen, "undecodable QueueNumberAssigned");
        return HANDLE_POISON;
    }
    json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "authority_id",
                          q->authority_id, "list", q->list, "number",
                          (json_int_t)q->number, "position",
                          (json_int_t)q->position);
    char *js = json_dumps(j, JSON_COMPACT);
    const char *p[2] = {q->application_id, js};
    enum handle_rc rc = run(b, conn, STATUS_NUMBERED, p);
    free(js);
    json_decref(j);
    kezek__queue_number_assigned__free_unpacked(q, NULL);
    return rc;
}

/* The queue's life (issue 22): the place the application holds now, or
 * "removed" with the place it left. */
static enum handle_rc on_changed(struct intake_status_batch *b,
                                 PGconn *conn, const event_t *ev, char *why,
                                 size_t whylen)
{
    Kezek__QueueChanged *q = kezek__queue_changed__unpack(
        NULL, ev->payload_len, ev->payload);
    if (!q) {
        snprintf(why, whylen, "undecodable QueueChanged");
        return HANDLE_POISON;
    }
    bool removed = strcmp(q->change, "removed") == 0;
    json_t *left = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}",
                             "authority_id", q->authority_id, "list",
                             q->list, "number", (json_int_t)q->number,
                             "reason", q->reason, "date", q->on, "change",
                             q->change);
    json_t *j = removed
        ? json_pack("{s:s, s:s, s:I, s:I, s:o}", "authority_id",
                    q->authority_id, "list", q->list, "number",
                    (json_int_t)q->number, "position",
                    (json_int_t)q->last_position, "removed", left)
        : json_pack("{s:s, s:s, s:I, s:I, s:o}", "authority_id",
                    q->to_authority_id, "list", q->to_list, "number",
                    (json_int_t)q->to_number, "position",
                    (json_int_t)q->to_position, "came_from", left);
    char *js = json_dumps(j, JSON_COMPACT);
    const char *p[3] = {q->application_id,
                        removed ? "removed" : "registered", js};
    enum handle_rc rc = js ? run(b, conn, STATUS_CHANGED, p) : HANDLE_ERROR;
    free(js);
    json_decref(j);
    kezek__queue_changed__free_unpacked(q, NULL);
    return rc;
}

enum handle_rc intake_apply(void *ctx, PGconn *conn, const event_t *ev,
                            char *why, size_t whylen)
{
    struct intake_status_batch *b = ctx;
    switch (ev->type) {
    case KEZEK__EVENT_TYPE__DECISION_MADE:
        return on_decision(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED:
        return on_number(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__QUEUE_CHANGED:
        return on_changed(b, conn, ev, why, whylen);
    default:
        return HANDLE_OK;
    }
}
