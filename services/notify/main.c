/* kezek-notify: turns decisions and queue numbers into signed notices
 * (p.5, p.15) — and portal acceptances into acceptance reports (p.14) —
 * in the personal cabinet and, when the application gives one, by
 * e-mail; reports each e-mail that left with NoticeDelivered (the
 * cabinet's delivery is the notice itself).
 *
 * A notice is identified by (application, kind); inserting it is
 * idempotent, so a replayed batch never shows a notice twice. E-mail
 * leaves from a sender thread with a deterministic Message-ID (see
 * migrations/004_notify.sql for the delivery states). */
#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "consumer.h"
#include "iin.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "notice.h"
#include "outbox.h"
#include "paper_api.h"
#include "reasons.h"
#include "refname.h"
#include "rowbuf.h"
#include "service.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRODUCER "notify"
#define MAX_KEYS 256

static const struct pg_stmt notify_stmts[] = {
    {"notice_put", /* the batch's notices (rowbuf.h: arrays) and their
                      deliveries — cabinet done, e-mail pending when
                      there is an address: one statement per batch. The
                      notice in the cabinet is the delivery of a result
                      (p.15); intake's status reads it (result_delivery,
                      migrations/013) instead of an event per notice */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
     " AS v (id, application_id, iin, kind, at, canonical, signature,"
     " key_id)),"
     " n AS (INSERT INTO notice (id, application_id, applicant_iin,"
     " kind, issued_at, canonical, signature, key_id)"
     " SELECT id, application_id, iin, kind, to_timestamp(at::float8),"
     " canonical, signature, key_id FROM v"
     " ON CONFLICT (application_id, kind) DO NOTHING"
     " RETURNING id, application_id),"
     " c AS (INSERT INTO notice_delivery (notice_id, channel, state,"
     " sent_at) SELECT id, 'cabinet', 'sent', now() FROM n)"
     " INSERT INTO notice_delivery (notice_id, channel, state)"
     " SELECT n.id, 'email', 'pending' FROM n CROSS JOIN LATERAL"
     " (SELECT 1 FROM notify_contact k WHERE k.application_id ="
     " n.application_id LIMIT 1) k"},
    {"contact_put", /* set-based, before the notices that join it */
     "INSERT INTO notify_contact (application_id, email)"
     " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING"},
    {"authority_name", "SELECT name FROM authority WHERE id = $1"},
    {"cabinet",
     "SELECT application_id, kind, extract(epoch FROM issued_at)::bigint,"
     " canonical, signature, key_id"
     " FROM notice WHERE applicant_iin = $1 AND kind <> 'receipt'"
     " ORDER BY issued_at DESC, id LIMIT $2 OFFSET $3"},
    {"mail_next",
     "SELECT d.notice_id, n.canonical, n.signature, n.key_id, n.kind,"
     " c.email, n.canonical::jsonb ->> 'text_kk',"
     " n.canonical::jsonb ->> 'text_ru',"
     " n.application_id, d.attempts"
     " FROM notice_delivery d JOIN notice n ON n.id = d.notice_id"
     " JOIN notify_contact c ON c.application_id = n.application_id"
     " WHERE d.channel = 'email' AND d.state = 'pending'"
     " AND d.next_attempt_at <= now() ORDER BY d.next_attempt_at LIMIT 1"
     " FOR UPDATE OF d SKIP LOCKED"},
    {"mail_state",
     "UPDATE notice_delivery SET state = $3, attempts = attempts"
     " + CASE WHEN $3 = 'sending' THEN 1 ELSE 0 END, last_error = $4,"
     " message_id = coalesce($5, message_id), next_attempt_at = now()"
     " + make_interval(secs => $6::float8), sent_at = CASE WHEN $3 ="
     " 'sent' THEN now() END, updated_at = now()"
     " WHERE notice_id = $1 AND channel = $2"},
    {"mail_in_doubt",
     "UPDATE notice_delivery SET state = 'in_doubt', updated_at = now()"
     " WHERE channel = 'email' AND state = 'sending'"},
    PAPER_STMTS,
    {"mail_counts", /* every state, 0 included, so gauges fall back */
     "SELECT s.state, count(d.notice_id) FROM (VALUES ('pending'),"
     " ('sending'), ('sent'), ('failed'), ('in_doubt')) s (state)"
     " LEFT JOIN notice_delivery d ON d.state = s.state"
     " AND d.channel = 'email' GROUP BY s.state"},
    {NULL, NULL},
};

static service_t svc;
static struct notice_templates templates;
static struct signer default_key;
static struct {
    char authority[64];
    struct signer key;
    bool present;
} keys[MAX_KEYS];
static int nkeys;
static const char *keys_dir, *smtp_url, *smtp_from;
static metric_t *m_notices, *m_mail_sent, *m_mail_retry, *m_mail_failed;
/* the batch's rows, written at its end (contacts before the notices
 * whose e-mail joins them); the results among the notices are counted
 * when it commits */
static rowbuf_t *contacts, *paper_rows, *notices;
static uint64_t batch_notices;

static bool batch_flush(void *ctx, PGconn *conn)
{
    (void)ctx;
    bool ok = rowbuf_flush(paper_rows, conn);
    return rowbuf_flush(notices, conn) && ok; /* contacts first */
}

static void batch_committed(void *ctx)
{
    (void)ctx;
    metric_add(m_notices, batch_notices);
    batch_notices = 0;
}

static void batch_rolled_back(void *ctx)
{
    (void)ctx;
    rowbuf_clear(contacts);
    rowbuf_clear(paper_rows);
    rowbuf_clear(notices);
    batch_notices = 0;
}

/* The authority's own key when keys_dir holds one, else the default.
 * Entries are added, never moved, under keys_lock: the consumer and the
 * HTTP threads (printing) share them. */
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct signer *key_lookup(const char *authority)
{
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i].authority, authority) == 0)
            return keys[i].present ? &keys[i].key : &default_key;
    if (nkeys == MAX_KEYS || !keys_dir || strlen(authority) >= 64)
        return &default_key;
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/%s.key", keys_dir, authority);
    snprintf(keys[nkeys].authority, sizeof(keys[nkeys].authority), "%s",
             authority);
    keys[nkeys].present = access(path, R_OK) == 0 &&
                          signer_load(&keys[nkeys].key, path, err,
                                      sizeof(err));
    return keys[nkeys++].present ? &keys[nkeys - 1].key : &default_key;
}

static const struct signer *key_for(const char *authority)
{
    pthread_mutex_lock(&keys_lock);
    const struct signer *key = key_lookup(authority);
    pthread_mutex_unlock(&keys_lock);
    return key;
}

void notify_sign(const char *authority, const char *canonical,
                 char sig[128], const char **key_id)
{
    const struct signer *key = key_for(authority);
    notice_sign(key, canonical, sig);
    *key_id = key->key_id;
}

/* The authority's name for a notice (its id when unknown); false on
 * SQL error. */
static bool authority_name(PGconn *conn, const char *id, char *out,
                           size_t len)
{
    int rc = refname_get(conn, "authority_name", id, out, len);
    if (rc == 0)
        snprintf(out, len, "%s", id);
    return rc >= 0;
}

/* Gathers a row for the batch's statement of its kind. */
static enum handle_rc gather(rowbuf_t *rb, PGconn *conn, const char *key,
                             const char *const *p)
{
    return rowbuf_add(rb, conn, key, p) ? HANDLE_OK : HANDLE_ERROR;
}

/* Signs the notice for (application, kind) and gathers it for the
 * batch's notice_put, which stores it once, in the cabinet, and queues
 * its e-mail when there is an address. */
static enum handle_rc issue(PGconn *conn, const char *application_id,
                            const char *iin, const char *authority,
                            const char *kind, json_t *doc)
{
    char sig[128];
    int64_t now = now_us();
    char *canonical = notice_canonical(doc);
    if (!canonical)
        return HANDLE_ERROR;
    const struct signer *key = key_for(authority);
    notice_sign(key, canonical, sig);
    char id[80], at[32];
    snprintf(id, sizeof(id), "%s-%s", application_id, kind);
    snprintf(at, sizeof(at), "%.6f", (double)now / 1e6);
    const char *p[8] = {id, application_id, iin, kind, at, canonical, sig,
                        key->key_id};
    bool ok = rowbuf_add(notices, conn, id, p);
    free(canonical);
    if (!ok)
        return HANDLE_ERROR;
    batch_notices++;
    return HANDLE_OK;
}

static enum handle_rc on_accepted(PGconn *conn, const event_t *ev,
                                  char *why, size_t whylen)
{
    Kezek__ApplicationAccepted *a = kezek__application_accepted__unpack(
        NULL, ev->payload_len, ev->payload);
    json_t *app = a ? json_loads(a->application_json, 0, NULL) : NULL;
    json_t *applicant = json_object_get(app, "applicant");
    const char *iin = json_string_value(json_object_get(applicant, "iin"));
    const char *email = json_string_value(json_object_get(applicant,
                                                          "email"));
    enum handle_rc rc = HANDLE_OK;
    if (!a || !iin || strlen(iin) != 12) {
        snprintf(why, whylen, "undecodable ApplicationAccepted");
        rc = HANDLE_POISON;
        goto out;
    }
    if (email) {
        const char *p[2] = {a->application_id, email};
        rc = gather(contacts, conn, a->application_id, p);
    }
    if (rc == HANDLE_OK) {
        /* who may print it; the receipt itself is signed as a notice when
         * first printed (p.14: printed, not delivered), from the one the
         * applicant was given (application.receipt) */
        const char *p[6] = {a->application_id, a->authority_id,
                            a->principal, iin, a->channel, NULL};
        rc = gather(paper_rows, conn, a->application_id, p);
    }
    if (rc == HANDLE_OK && strcmp(a->channel, "portal") == 0) {
        char name[512];
        if (!authority_name(conn, a->authority_id, name, sizeof(name))) {
            rc = HANDLE_ERROR;
            goto out;
        }
        json_t *doc = notice_acceptance(&templates, a->application_id, iin,
            a->authority_id, name, a->accepted_at_us, a->result_due);
        rc = issue(conn, a->application_id, iin, a->authority_id,
                   "acceptance_report", doc);
        json_decref(doc);
    }
out:
    json_decref(app);
    if (a)
        kezek__application_accepted__free_unpacked(a, NULL);
    return rc;
}

static enum handle_rc deliver(void *ctx, PGconn *conn, const event_t *ev,
                              char *why, size_t whylen)
{
    (void)ctx;
    enum handle_rc rc = HANDLE_OK;
    char name[512];
    if (ev->type == KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED)
        return on_accepted(conn, ev, why, whylen);
    if (ev->type == KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED ||
        ev->type == KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED) {
        Kezek__ComplaintEvent *ce = kezek__complaint_event__unpack(
            NULL, ev->payload_len, ev->payload);
        json_t *fields = ce ? json_loads(ce->document_json, 0, NULL) : NULL;
        if (!ce || !fields || strlen(ce->complainant_iin) != 12) {
            snprintf(why, whylen, "undecodable ComplaintEvent");
            rc = HANDLE_POISON;
        } else {
            bool answer = ev->type == KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED;
            enum notice_kind k = answer ? NOTICE_COMPLAINT_ANSWER
                                        : NOTICE_COMPLAINT_TICKET;
            json_t *doc = notice_complaint(&templates, k,
                ce->complainant_iin, ce->authority_id, fields, now_us());
            /* the notice is keyed by the complaint, like an application;
             * the ticket can be printed by whoever accepted it (p.25) */
            const char *by = json_string_value(json_object_get(fields,
                                                               "accepted_via"));
            const char *pa[6] = {ce->complaint_id, ce->authority_id,
                                 by ? by : "portal", ce->complainant_iin,
                                 !by ? "portal"
                                 : strncmp(by, "office:", 7) == 0 ? "office"
                                 : strncmp(by, "centre:", 7) == 0 ? "centre"
                                 : "portal", NULL};
            rc = answer ? HANDLE_OK
                        : gather(paper_rows, conn, ce->complaint_id, pa);
            if (rc == HANDLE_OK)
                rc = issue(conn, ce->complaint_id, ce->complainant_iin,
                           ce->authority_id, notice_kind_name(k), doc);
            json_decref(doc);
        }
        json_decref(fields);
        if (ce)
            kezek__complaint_event__free_unpacked(ce, NULL);
        return rc;
    }
    if (ev->type == KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED) {
        Kezek__QueueNumberAssigned *q = kezek__queue_number_assigned__unpack(
            NULL, ev->payload_len, ev->payload);
        if (!q || strlen(q->applicant_iin) != 12) {
            snprintf(why, whylen, "undecodable QueueNumberAssigned");
            rc = HANDLE_POISON;
        } else if (!authority_name(conn, q->authority_id, name,
                                   sizeof(name))) {
            rc = HANDLE_ERROR;
        } else {
            json_t *doc = notice_registration(&templates, q->application_id,
                q->applicant_iin, q->authority_id, name, q->list, q->number,
                q->position, q->assigned_at_us);
            rc = issue(conn, q->application_id, q->applicant_iin,
                       q->authority_id, "registration_notice", doc);
            json_decref(doc);
        }
        if (q)
            kezek__queue_number_assigned__free_unpacked(q, NULL);
    } else if (ev->type == KEZEK__EVENT_TYPE__DECISION_MADE) {
        Kezek__DecisionMade *d = kezek__decision_made__unpack(
            NULL, ev->payload_len, ev->payload);
        if (!d || strlen(d->applicant_iin) != 12) {
            snprintf(why, whylen, "undecodable DecisionMade");
            rc = HANDLE_POISON;
        } else if (strcmp(d->outcome, "refused") == 0 ||
                   (!d->outcome[0] && !d->registered)) {
            const char *codes[32];
            size_t n = d->n_reasons < 32 ? d->n_reasons : 32;
            for (size_t i = 0; i < n; i++)
                codes[i] = d->reasons[i]->code;
            if (!authority_name(conn, d->authority_id, name,
                                sizeof(name))) {
                kezek__decision_made__free_unpacked(d, NULL);
                return HANDLE_ERROR;
            }
            json_t *doc = notice_refusal(&templates, d->application_id,
                d->applicant_iin, d->authority_id, name, codes, n,
                d->decided_at_us);
            rc = issue(conn, d->application_id, d->applicant_iin,
                       d->authority_id, "refusal", doc);
            json_decref(doc);
        }
        if (d)
            kezek__decision_made__free_unpacked(d, NULL);
    }
    return rc;
}

/* Records a delivery state; delay_s schedules the next attempt. */
static bool mail_state(PGconn *c, const char *id, const char *state,
                       const char *err, const char *msgid, double delay_s)
{
    char delay[32];
    snprintf(delay, sizeof(delay), "%.3f", delay_s);
    const char *p[6] = {id, "email", state, err, msgid, delay};
    PGresult *r = pg_run(c, "mail_state", 6, p);
    PQclear(r);
    return r != NULL;
}

/* Records a sent e-mail and its NoticeDelivered event; retries with a
 * fresh connection until it commits or the service stops. */
static bool mail_record_sent(PGconn **cp, const char *id, const char *app,
                             const char *kind, const char *msgid)
{
    for (int attempt = 0; !service_stop; attempt++) {
        if (attempt) {
            sleep(1);
            if (pg_lost(*cp) || !pg_exec(*cp, "SELECT 1")) {
                PQfinish(*cp);
                *cp = pg_connect_retry(svc.conninfo, notify_stmts,
                                       &service_stop);
                if (!*cp)
                    return false;
            }
        }
        PGconn *c = *cp;
        Kezek__NoticeDelivered n = KEZEK__NOTICE_DELIVERED__INIT;
        n.application_id = (char *)app;
        n.notice_id = (char *)id;
        n.kind = (char *)kind;
        n.channel = "email";
        n.delivered_at_us = now_us();
        if (pg_exec(c, "BEGIN") && mail_state(c, id, "sent", NULL, msgid, 0) &&
            outbox_add_msg(c, PRODUCER, KEZEK__EVENT_TYPE__NOTICE_DELIVERED,
                           app, &n.base) &&
            pg_exec(c, "COMMIT")) {
            metric_inc(m_mail_sent);
            return true;
        }
        if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
            log_error("mail.rollback", "rollback failed");
        log_warn("mail.record", "notice %s sent but not yet recorded; "
                 "retrying", id);
    }
    return false;
}

/* One pending e-mail: claimed (committed as "sending"), sent, recorded
 * with its NoticeDelivered event. False when there was none. */
static bool mail_one(PGconn **cp)
{
    PGconn *c = *cp;
    if (!pg_exec(c, "BEGIN"))
        return false;
    PGresult *r = pg_run(c, "mail_next", 0, NULL);
    if (!r || PQntuples(r) == 0) {
        PQclear(r);
        if (!pg_exec(c, "ROLLBACK"))
            log_error("mail.rollback", "rollback failed");
        return false;
    }
    char id[80], app[64], kind[40], msgid[128];
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    snprintf(app, sizeof(app), "%s", PQgetvalue(r, 0, 8));
    snprintf(kind, sizeof(kind), "%s", PQgetvalue(r, 0, 4));
    snprintf(msgid, sizeof(msgid), "%s@kezek.kz", id);
    int attempts = atoi(PQgetvalue(r, 0, 9));
    json_t *doc = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    json_t *att = json_pack("{s:o, s:s, s:s}", "document", doc, "signature",
                            PQgetvalue(r, 0, 2), "key_id",
                            PQgetvalue(r, 0, 3));
    char *att_s = json_dumps(att, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(att);
    size_t tl = strlen(PQgetvalue(r, 0, 6)) + strlen(PQgetvalue(r, 0, 7));
    char *text = malloc(tl + 64);
    if (!text || !att_s) {
        free(text);
        free(att_s);
        PQclear(r);
        if (!pg_exec(c, "ROLLBACK"))
            log_error("mail.rollback", "rollback failed");
        return false;
    }
    char subject[256], file[128], to[320];
    snprintf(text, tl + 64, "%s\n\n%s\n", PQgetvalue(r, 0, 6),
             PQgetvalue(r, 0, 7));
    snprintf(subject, sizeof(subject),
             "Тұрғын үй кезегі / Очередь на жильё: %s", kind);
    snprintf(file, sizeof(file), "%s.json", id);
    snprintf(to, sizeof(to), "%s", PQgetvalue(r, 0, 5));
    PQclear(r);
    if (!mail_state(c, id, "sending", NULL, msgid, 0) ||
        !pg_exec(c, "COMMIT")) {
        free(text);
        free(att_s);
        return false;
    }
    struct mail m = {to, smtp_from, msgid, subject, text, att_s, file};
    char err[256] = "";
    enum mail_rc rc = mail_send(smtp_url, &m, err, sizeof(err));
    free(text);
    free(att_s);
    /* the message left: record it, retrying until it is recorded (or
     * we stop — then it becomes in_doubt at the next start) */
    if (rc == MAIL_SENT)
        return mail_record_sent(cp, id, app, kind, msgid);
    bool ok = pg_exec(c, "BEGIN");
    if (rc == MAIL_RETRY && attempts < 12) {
        /* 2, 4, 8 … s, at most an hour */
        double delay = 1 << (attempts + 1 < 12 ? attempts + 1 : 11);
        ok = ok && mail_state(c, id, "pending", err, NULL,
                              delay > 3600 ? 3600 : delay);
        metric_inc(m_mail_retry);
        log_warn("mail.retry", "notice %s: %s; retry in %.0f s", id, err,
                 delay);
    } else {
        ok = ok && mail_state(c, id, "failed", err, NULL, 0);
        metric_inc(m_mail_failed);
        log_error("mail.failed", "notice %s: %s", id, err);
    }
    if (ok)
        ok = pg_exec(c, "COMMIT");
    else if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_error("mail.rollback", "rollback failed");
    return ok;
}

static void *sender(void *arg)
{
    (void)arg;
    PGconn *c = NULL;
    long tick = 0;
    while (!service_stop) {
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            c = pg_connect_retry(svc.conninfo, notify_stmts, &service_stop);
            if (!c)
                break;
            PGresult *r = pg_run(c, "mail_in_doubt", 0, NULL);
            if (r && atoi(PQcmdTuples(r)) > 0)
                log_warn("mail.in_doubt", "%s e-mails were interrupted "
                         "mid-send; not resent (kezek email resend)",
                         PQcmdTuples(r));
            PQclear(r);
        }
        if (mail_one(&c))
            continue;
        if (!c)
            break;
        /* the gauges scan the results and deliveries */
        if (service_gauge_tick(&svc, ++tick)) {
            PGresult *w = pg_run(c, "awaiting_pickup", 0, NULL);
            if (w)
                metric_set(metrics_gauge("kezek_results_awaiting_pickup",
                    "Office and centre results not yet handed over "
                    "(p.15)", NULL), atof(PQgetvalue(w, 0, 0)));
            PQclear(w);
            PGresult *r = pg_run(c, "mail_counts", 0, NULL);
            for (int i = 0; r && i < PQntuples(r); i++) {
                char l[64], v[40];
                snprintf(l, sizeof(l), "state=\"%s\"",
                         metrics_label_escape(v, sizeof(v),
                                              PQgetvalue(r, i, 0)));
                metric_set(metrics_gauge("kezek_email_deliveries",
                    "E-mail deliveries by state", l),
                    atof(PQgetvalue(r, i, 1)));
            }
            PQclear(r);
        }
        usleep(100000);
    }
    if (c)
        PQfinish(c);
    return NULL;
}

/* A decimal query parameter, or def when absent; false if malformed. */
static bool query_long(const http_req_t *req, const char *name, long def,
                       long *out)
{
    const char *v = http_query(req, name);
    *out = def;
    if (!v)
        return true;
    char *end;
    *out = strtol(v, &end, 10);
    return *v && !*end && strlen(v) < 10;
}

/* GET /v1/cabinet/{iin}/messages — the portal, for that citizen only. */
static void get_cabinet(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    char err[256];
    principal_t who;
    enum auth_rc auth = auth_check(svc.pool, req, &who);
    PGconn *c = auth == AUTH_OK ? pgpool_acquire(svc.pool, err, sizeof(err))
                                : NULL;
    if (auth == AUTH_OK && !c)
        auth = AUTH_DOWN;
    const char *iin = req->params[0];
    const char *citizen = http_header(req, "X-Citizen-IIN");
    long page, per;
    bool paging = query_long(req, "page", 1, &page) &&
                  query_long(req, "per_page", 20, &per);
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
    } else if (who.kind != PRINCIPAL_PORTAL) {
        http_reply_error(resp, 403, "forbidden",
                         "the cabinet is served to the portal only", NULL);
    } else if (!citizen || strcmp(citizen, iin) != 0 ||
               !iin_valid(iin, NULL)) {
        http_reply_error(resp, 403, "forbidden",
                         "a citizen sees only their own messages "
                         "(X-Citizen-IIN)", NULL);
    } else if (!paging || page < 1 || page > 100000 || per < 1 ||
               per > 100) {
        http_reply_error(resp, 400, "invalid_field",
                         "page >= 1, per_page 1–100", NULL);
    } else {
        char lim[16], off[24];
        snprintf(lim, sizeof(lim), "%ld", per);
        snprintf(off, sizeof(off), "%ld", (page - 1) * per);
        const char *p[3] = {iin, lim, off};
        PGresult *r = pg_run(c, "cabinet", 3, p);
        if (!r) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        } else {
            json_t *msgs = json_array();
            for (int i = 0; i < PQntuples(r); i++) {
                char at[26];
                almaty_timestamp(atoll(PQgetvalue(r, i, 2)), at);
                json_array_append_new(msgs, json_pack(
                    "{s:s, s:s, s:s, s:o, s:s, s:s}", "application_id",
                    PQgetvalue(r, i, 0), "kind", PQgetvalue(r, i, 1),
                    "issued_at", at, "document",
                    json_loads(PQgetvalue(r, i, 3), 0, NULL), "signature",
                    PQgetvalue(r, i, 4), "key_id", PQgetvalue(r, i, 5)));
            }
            http_reply_json(resp, 200, json_pack("{s:o, s:i}", "messages",
                                                 msgs, "page", (int)page));
            audit_reply(resp, who.text, http_purpose(req, "cabinet"),
                        "cabinet", iin);
            PQclear(r);
        }
    }
    if (c)
        pgpool_release(svc.pool, c);
}

static const struct http_route routes[] = {
    {"GET", "/v1/cabinet/*/messages", get_cabinet, NULL},
    {"GET", "/v1/applications/*/receipt.pdf", paper_get_receipt, NULL},
    {"GET", "/v1/applications/*/notice.pdf", paper_get_notice, NULL},
    {"POST", "/v1/applications/*/issuance", paper_post_issuance, NULL},
    {"GET", "/v1/journal/*/*", paper_get_journal, NULL},
    {"GET", "/v1/complaints/*/ticket.pdf", paper_get_ticket, NULL},
    {NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "notify", argc, argv,
        "Issues signed notices to the personal cabinet and by e-mail and\n"
        "reports NoticeDelivered.\n"
        "  signing_key / KEZEK_SIGNING_KEY   default key file (kezek keys\n"
        "                                    generate)\n"
        "  keys_dir / KEZEK_KEYS_DIR         <authority_id>.key per\n"
        "                                    authority (optional)\n"
        "  templates_dir                     notice templates (templates)\n"
        "  smtp_url / KEZEK_SMTP_URL         relay, smtp://host:port\n"
        "  smtp_from                         sender address\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    const char *key_path = config_str(svc.cfg, "signing_key", NULL);
    char err[512];
    if (!key_path || !signer_load(&default_key, key_path, err,
                                  sizeof(err))) {
        log_error("notify.key", "%s", key_path ? err
                  : "signing_key is not set (kezek keys generate)");
        service_fini(&svc);
        return 1;
    }
    keys_dir = config_str(svc.cfg, "keys_dir", NULL);
    if (!notice_templates_load(&templates, config_str(svc.cfg,
                               "templates_dir", "templates"), err,
                               sizeof(err))) {
        log_error("notify.templates", "%s", err);
        service_fini(&svc);
        return 1;
    }
    smtp_url = config_str(svc.cfg, "smtp_url", "smtp://127.0.0.1:25");
    smtp_from = config_str(svc.cfg, "smtp_from", "noreply@kezek.kz");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m_notices = metrics_counter("kezek_notices_delivered_total",
                                "Notices placed in the personal cabinet",
                                "channel=\"cabinet\"");
    m_mail_sent = metrics_counter("kezek_email_total", "E-mail attempts",
                                  "result=\"sent\"");
    m_mail_retry = metrics_counter("kezek_email_total", "E-mail attempts",
                                   "result=\"retry\"");
    m_mail_failed = metrics_counter("kezek_email_total", "E-mail attempts",
                                    "result=\"failed\"");
    if (service_http(&svc, 8083, 4, notify_stmts, routes, &svc) != 0) {
        service_fini(&svc);
        return 1;
    }
    pthread_t mailer;
    pthread_create(&mailer, NULL, sender, NULL);
    struct consumer_cfg cc = {
        .name = "notify", .conninfo = svc.conninfo, .stmts = notify_stmts,
        .bus_endpoints = svc.bus_endpoints, .batch_size = svc.batch_size,
        .linger_ms = svc.batch_linger_ms,
        .idle_poll_ms = 250, .handle = deliver,
        .flush = batch_flush, .committed = batch_committed,
        .rolled_back = batch_rolled_back,
    };
    contacts = rowbuf_new("contact_put", 2);
    paper_rows = rowbuf_new("paper_access_put", 6);
    notices = rowbuf_new("notice_put", 8);
    if (notices) /* a notice's e-mail joins its contact */
        rowbuf_after(notices, contacts);
    rc = contacts && paper_rows && notices ? consumer_run(&cc, &service_stop)
                                       : -1;
    rowbuf_destroy(&contacts);
    rowbuf_destroy(&paper_rows);
    rowbuf_destroy(&notices);
    service_stop = 1;
    pthread_join(mailer, NULL);
    notice_templates_free(&templates);
    sodium_memzero(&default_key, sizeof(default_key));
    sodium_memzero(keys, sizeof(keys));
    curl_global_cleanup();
    service_fini(&svc);
    return rc == 0 ? 0 : 1;
}
