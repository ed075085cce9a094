/* The consumer of kezek-notify: turns decisions and queue numbers into
 * signed notices (p.5, p.15) — and portal acceptances into acceptance
 * reports (p.14) — and keeps who may print what (paper_access) and
 * where an e-mail goes (notify_contact).
 *
 * A notice is identified by (application, kind); inserting it is
 * idempotent, so a replayed batch never shows a notice twice. */
#include "notify.h"

#include "tlog.h"

#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool notify_batch_init(struct notify_batch *b, struct notify *n)
{
    b->n = n;
    b->issued = 0;
    b->delivered = metrics_counter("kezek_notices_delivered_total",
                                   "Notices placed in the personal cabinet",
                                   "channel=\"cabinet\"");
    b->contacts = rowbuf_new("contact_put", 4);
    b->paper_rows = rowbuf_new("paper_access_put", 6);
    b->notices = rowbuf_new("notice_put", 10);
    b->receipt_keys = rowbuf_new("place_receipts", PLACE_KEY_COLS);
    b->receipts = NULL;
    if (b->notices) /* a notice's e-mail joins its contact */
        rowbuf_after(b->notices, b->contacts);
    return b->contacts && b->paper_rows && b->notices && b->receipt_keys;
}

void notify_batch_fini(struct notify_batch *b)
{
    rowbuf_destroy(&b->contacts);
    rowbuf_destroy(&b->paper_rows);
    rowbuf_destroy(&b->notices);
    rowbuf_destroy(&b->receipt_keys);
    PQclear(b->receipts);
    b->receipts = NULL;
}

/* Before the handlers: the receipts of place of the batch's
 * registrations, one statement for the batch. */
bool notify_batch_prepare(void *ctx, PGconn *conn, const event_t *evs,
                          int n)
{
    struct notify_batch *b = ctx;
    PQclear(b->receipts);
    b->receipts = NULL;
    rowbuf_clear(b->receipt_keys);
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        if (evs[i].type != KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED)
            continue;
        Kezek__QueueNumberAssigned *q = kezek__queue_number_assigned__unpack(
            NULL, evs[i].payload_len, evs[i].payload);
        if (q) {
            char number[24];
            snprintf(number, sizeof(number), "%llu",
                     (unsigned long long)q->number);
            const char *v[PLACE_KEY_COLS] = {q->application_id,
                                             q->authority_id, q->list,
                                             number};
            ok = rowbuf_add(b->receipt_keys, NULL, NULL, v);
            kezek__queue_number_assigned__free_unpacked(q, NULL);
        }
    }
    if (ok && rowbuf_rows(b->receipt_keys) > 0) {
        b->receipts = rowbuf_run(b->receipt_keys, conn);
        ok = b->receipts != NULL;
    }
    return ok;
}

bool notify_batch_flush(void *ctx, PGconn *conn)
{
    struct notify_batch *b = ctx;
    bool ok = rowbuf_flush(b->paper_rows, conn);
    return rowbuf_flush(b->notices, conn) && ok; /* contacts first */
}

void notify_batch_committed(void *ctx)
{
    struct notify_batch *b = ctx;
    metric_add(b->delivered, b->issued);
    b->issued = 0;
}

void notify_batch_rolled_back(void *ctx)
{
    struct notify_batch *b = ctx;
    rowbuf_clear(b->contacts);
    rowbuf_clear(b->paper_rows);
    rowbuf_clear(b->notices);
    b->issued = 0;
}

/* Gathers a row for the batch's statement of its kind. */
static enum handle_rc gather(rowbuf_t *rb, PGconn *conn, const char *key,
                             const char *const *p)
{
    return rowbuf_add(rb, conn, key, p) ? HANDLE_OK : HANDLE_ERROR;
}

/* Signs the notice for (application, kind) — and once (suffix: NULL)
 * or once per change (suffix: its change id) — and gathers it for the
 * batch's notice_put, which stores it once, in the cabinet, and queues
 * its e-mail when there is an address. */
static enum handle_rc issue_once(struct notify_batch *b, PGconn *conn,
                                 const char *application_id,
                                 const char *iin, const char *authority,
                                 const char *kind, const char *suffix,
                                 json_t *doc)
{
    char sig[128];
    const char *key_id;
    int64_t now = now_us();
    char *canonical = notice_canonical(doc);
    if (!canonical)
        return HANDLE_ERROR;
    notify_sign(b->n, authority, canonical, sig, &key_id);
    char id[128], at[32];
    snprintf(id, sizeof(id), "%s-%s%s%s", application_id, kind,
             suffix ? "-" : "", suffix ? suffix : "");
    snprintf(at, sizeof(at), "%.6f", (double)now / 1e6);
    /* the pushed channels: an SMS of a result, the portal every
     * document of the cabinet */
    const char *sms = notify_sms_has(&b->n->sms, kind) ? "t" : "f";
    const char *portal = b->n->portal.url ? "t" : "f";
    const char *p[10] = {id, application_id, iin, kind, at, canonical, sig,
                         key_id, sms, portal};
    bool ok = rowbuf_add(b->notices, conn, id, p);
    free(canonical);
    if (!ok)
        return HANDLE_ERROR;
    b->issued++;
    return HANDLE_OK;
}

static enum handle_rc issue(struct notify_batch *b, PGconn *conn,
                            const char *application_id, const char *iin,
                            const char *authority, const char *kind,
                            json_t *doc)
{
    return issue_once(b, conn, application_id, iin, authority, kind, NULL,
                      doc);
}

/* A notice that names its authority: built from the event (msg) once
 * the name is read. */
struct named_notice {
    const char *application_id, *iin, *authority_id, *kind;
    json_t *(*build)(const struct notice_templates *t,
                     const struct named_notice *nn, const char *name);
    const void *msg;
    json_t *transparency;   /* the receipt of place, when there is one */
};

static enum handle_rc issue_named(struct notify_batch *b, PGconn *conn,
                                  const struct named_notice *nn)
{
    char name[512];
    if (!notify_authority_name(conn, nn->authority_id, name, sizeof(name)))
        return HANDLE_ERROR;
    json_t *doc = nn->build(&b->n->templates, nn, name);
    if (doc && nn->transparency)
        json_object_set(doc, "transparency", nn->transparency);
    enum handle_rc rc = issue(b, conn, nn->application_id, nn->iin,
                              nn->authority_id, nn->kind, doc);
    json_decref(doc);
    return rc;
}

static json_t *acceptance_doc(const struct notice_templates *t,
                              const struct named_notice *nn,
                              const char *name)
{
    const Kezek__ApplicationAccepted *a = nn->msg;
    return notice_acceptance(t, a->application_id, nn->iin, a->authority_id,
                             name, a->accepted_at_us, a->result_due);
}

static json_t *registration_doc(const struct notice_templates *t,
                                const struct named_notice *nn,
                                const char *name)
{
    const Kezek__QueueNumberAssigned *q = nn->msg;
    return notice_registration(t, q->application_id, q->applicant_iin,
                               q->authority_id, name, q->list, q->number,
                               q->position, q->assigned_at_us);
}

static json_t *refusal_doc(const struct notice_templates *t,
                           const struct named_notice *nn, const char *name)
{
    const Kezek__DecisionMade *d = nn->msg;
    const char *codes[32];
    size_t n = d->n_reasons < 32 ? d->n_reasons : 32;
    for (size_t i = 0; i < n; i++)
        codes[i] = d->reasons[i]->code;
    return notice_refusal(t, d->application_id, d->applicant_iin,
                          d->authority_id, name, codes, n, d->decided_at_us);
}

/* Whether an event decoded (msg) with a citizen's IIN of 12 digits;
 * otherwise why says which type was undecodable. */
static bool decoded(const void *msg, const char *iin, const char *type,
                    char *why, size_t whylen)
{
    if (msg && iin && strlen(iin) == 12)
        return true;
    snprintf(why, whylen, "undecodable %s", type);
    return false;
}

static enum handle_rc on_accepted(struct notify_batch *b, PGconn *conn,
                                  const event_t *ev, char *why,
                                  size_t whylen)
{
    Kezek__ApplicationAccepted *a = kezek__application_accepted__unpack(
        NULL, ev->payload_len, ev->payload);
    json_t *app = a ? json_loads(a->application_json, 0, NULL) : NULL;
    json_t *applicant = json_object_get(app, "applicant");
    const char *iin = json_string_value(json_object_get(applicant, "iin"));
    const char *email = json_string_value(json_object_get(applicant,
                                                          "email"));
    const char *phone = json_string_value(json_object_get(applicant,
                                                          "phone"));
    const char *lang = json_string_value(json_object_get(applicant,
                                                         "language"));
    enum handle_rc rc = HANDLE_OK;
    if (!decoded(a, iin, "ApplicationAccepted", why, whylen)) {
        rc = HANDLE_POISON;
        goto out;
    }
    if (lang && strcmp(lang, "kk") != 0 && strcmp(lang, "ru") != 0)
        lang = NULL; /* intake allows only these */
    if (email || phone) {
        const char *p[4] = {a->application_id, email, phone, lang};
        rc = gather(b->contacts, conn, a->application_id, p);
    }
    if (rc == HANDLE_OK) {
        /* who may print it; the receipt itself is signed as a notice when
         * first printed (p.14: printed, not delivered), from the one the
         * applicant was given (application.receipt) */
        const char *p[6] = {a->application_id, a->authority_id,
                            a->principal, iin, a->channel, NULL};
        rc = gather(b->paper_rows, conn, a->application_id, p);
    }
    if (rc == HANDLE_OK && strcmp(a->channel, "portal") == 0) {
        struct named_notice nn = {a->application_id, iin, a->authority_id,
                                  "acceptance_report", acceptance_doc, a,
                                  NULL};
        rc = issue_named(b, conn, &nn);
    }
out:
    json_decref(app);
    if (a)
        kezek__application_accepted__free_unpacked(a, NULL);
    return rc;
}

/* The channel of whoever accepted a complaint (accepted_via: a
 * principal's text; none: the portal). */
static const char *complaint_channel(const char *by)
{
    return !by ? "portal"
           : strncmp(by, "office:", 7) == 0 ? "office"
           : strncmp(by, "centre:", 7) == 0 ? "centre"
           : "portal";
}

static enum handle_rc on_complaint(struct notify_batch *b, PGconn *conn,
                                   const event_t *ev, char *why,
                                   size_t whylen)
{
    enum handle_rc rc = HANDLE_OK;
    Kezek__ComplaintEvent *ce = kezek__complaint_event__unpack(
        NULL, ev->payload_len, ev->payload);
    json_t *fields = ce ? json_loads(ce->document_json, 0, NULL) : NULL;
    if (!decoded(fields, ce ? ce->complainant_iin : NULL, "ComplaintEvent",
                 why, whylen)) {
        rc = HANDLE_POISON;
    } else {
        bool answer = ev->type == KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED;
        enum notice_kind k = answer ? NOTICE_COMPLAINT_ANSWER
                                    : NOTICE_COMPLAINT_TICKET;
        json_t *doc = notice_complaint(&b->n->templates, k,
            ce->complainant_iin, ce->authority_id, fields, now_us());
        /* the notice is keyed by the complaint, like an application;
         * the ticket can be printed by whoever accepted it (p.25) */
        const char *by = json_string_value(json_object_get(fields,
                                                           "accepted_via"));
        const char *pa[6] = {ce->complaint_id, ce->authority_id,
                             by ? by : "portal", ce->complainant_iin,
                             complaint_channel(by), NULL};
        rc = answer ? HANDLE_OK
                    : gather(b->paper_rows, conn, ce->complaint_id, pa);
        if (rc == HANDLE_OK)
            rc = issue(b, conn, ce->complaint_id, ce->complainant_iin,
                       ce->authority_id, notice_kind_name(k), doc);
        json_decref(doc);
    }
    json_decref(fields);
    if (ce)
        kezek__complaint_event__free_unpacked(ce, NULL);
    return rc;
}

/* The receipt of place of q's entry (issue 24; docs/transparency.md):
 * the leaf that put it in its list, the secret of its commitment and
 * the signed head that first held it — with which the citizen, or
 * anyone they show it to, checks later that the entry is still in the
 * log, unchanged — as read by notify_batch_prepare; NULL for an entry
 * from before the log. */
static json_t *place_receipt(const struct notify_batch *b,
                             const Kezek__QueueNumberAssigned *q)
{
    const PGresult *r = b->receipts;
    for (int i = 0; r && i < PQntuples(r); i++) {
        struct tlog_sth s;
        if (strcmp(PQgetvalue(r, i, PLACE_APPLICATION),
                   q->application_id) == 0 &&
            tlog_sth_from_row(r, i, PLACE_SIZE, q->authority_id, &s))
            return json_pack(
                "{s:s, s:I, s:s, s:s, s:o}", "format", "kezek-tlog-v1",
                "leaf_index",
                (json_int_t)strtoll(PQgetvalue(r, i, PLACE_INDEX), NULL, 10),
                "secret", PQgetvalue(r, i, PLACE_SECRET), "entry",
                PQgetvalue(r, i, PLACE_ENTRY), "sth", tlog_sth_json(&s));
    }
    return NULL;
}

static enum handle_rc on_number(struct notify_batch *b, PGconn *conn,
                                const event_t *ev, char *why, size_t whylen)
{
    enum handle_rc rc = HANDLE_POISON;
    Kezek__QueueNumberAssigned *q = kezek__queue_number_assigned__unpack(
        NULL, ev->payload_len, ev->payload);
    if (decoded(q, q ? q->applicant_iin : NULL, "QueueNumberAssigned", why,
                whylen)) {
        struct named_notice nn = {q->application_id, q->applicant_iin,
                                  q->authority_id, "registration_notice",
                                  registration_doc, q, NULL};
        nn.transparency = place_receipt(b, q);
        rc = issue_named(b, conn, &nn);
        json_decref(nn.transparency);
    }
    if (q)
        kezek__queue_number_assigned__free_unpacked(q, NULL);
    return rc;
}

static json_t *withdrawal_doc(const struct notice_templates *t,
                              const struct named_notice *nn,
                              const char *name)
{
    const Kezek__DecisionMade *d = nn->msg;
    return notice_withdrawal(t, d->application_id, d->applicant_iin,
                             d->authority_id, name, d->decided_at_us);
}

/* A change of the citizen's place (issue 22): its notice, signed by
 * the authority that holds the place now (the one left, for a
 * removal), once per change. */
static enum handle_rc on_queue_changed(struct notify_batch *b,
                                       PGconn *conn, const event_t *ev,
                                       char *why, size_t whylen)
{
    enum handle_rc rc = HANDLE_POISON;
    Kezek__QueueChanged *q = kezek__queue_changed__unpack(
        NULL, ev->payload_len, ev->payload);
    char name[512], to_name[512] = "";
    if (!decoded(q, q ? q->applicant_iin : NULL, "QueueChanged", why,
                 whylen)) {
        /* poison */
    } else if (notice_queue_change_kind(q->change) == NOTICE_KINDS ||
               !q->change_id[0]) {
        snprintf(why, whylen, "QueueChanged of an unknown change");
    } else if (!notify_authority_name(conn, q->authority_id, name,
                                      sizeof(name)) ||
               (q->to_authority_id[0] &&
                !notify_authority_name(conn, q->to_authority_id, to_name,
                                       sizeof(to_name)))) {
        rc = HANDLE_ERROR;
    } else {
        struct notice_queue_change c = {
            q->change_id, q->application_id, q->applicant_iin, q->change,
            q->reason, q->on, q->authority_id, name, q->list, q->number,
            q->last_position, q->to_authority_id, to_name, q->to_list,
            q->to_number, q->to_position, q->changed_at_us};
        json_t *doc = notice_queue_change(&b->n->templates, &c);
        rc = doc ? issue_once(b, conn, q->application_id, q->applicant_iin,
                              q->to_authority_id[0] ? q->to_authority_id
                                                    : q->authority_id,
                              notice_kind_name(notice_queue_change_kind(
                                  q->change)), q->change_id, doc)
                 : HANDLE_ERROR;
        json_decref(doc);
    }
    if (q)
        kezek__queue_changed__free_unpacked(q, NULL);
    return rc;
}

/* A refusal and a withdrawal are notices of their own: a
 * registration's notice comes with its queue number (on_number). */
static enum handle_rc on_decision(struct notify_batch *b, PGconn *conn,
                                  const event_t *ev, char *why,
                                  size_t whylen)
{
    enum handle_rc rc = HANDLE_POISON;
    Kezek__DecisionMade *d = kezek__decision_made__unpack(
        NULL, ev->payload_len, ev->payload);
    if (decoded(d, d ? d->applicant_iin : NULL, "DecisionMade", why,
                whylen)) {
        rc = HANDLE_OK;
        if (strcmp(d->outcome, "refused") == 0 ||
            (!d->outcome[0] && !d->registered)) {
            struct named_notice nn = {d->application_id, d->applicant_iin,
                                      d->authority_id, "refusal",
                                      refusal_doc, d, NULL};
            rc = issue_named(b, conn, &nn);
        } else if (strcmp(d->outcome, "withdrawn") == 0) {
            struct named_notice nn = {d->application_id, d->applicant_iin,
                                      d->authority_id, "withdrawal_notice",
                                      withdrawal_doc, d, NULL};
            rc = issue_named(b, conn, &nn);
        }
    }
    if (d)
        kezek__decision_made__free_unpacked(d, NULL);
    return rc;
}

enum handle_rc notify_deliver(void *ctx, PGconn *conn, const event_t *ev,
                              char *why, size_t whylen)
{
    struct notify_batch *b = ctx;
    switch (ev->type) {
    case KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED:
        return on_accepted(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED:
    case KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED:
        return on_complaint(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED:
        return on_number(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__DECISION_MADE:
        return on_decision(b, conn, ev, why, whylen);
    case KEZEK__EVENT_TYPE__QUEUE_CHANGED:
        return on_queue_changed(b, conn, ev, why, whylen);
    default:
        return HANDLE_OK;
    }
}
