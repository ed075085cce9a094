/* The sender thread of kezek-notify: e-mails each notice that has an
 * address and reports it with NoticeDelivered (the cabinet's delivery
 * is the notice itself); between e-mails it refreshes the gauges.
 *
 * An e-mail is claimed (committed as "sending") before it leaves, with
 * a deterministic Message-ID: one interrupted mid-send is found at the
 * next start and marked in_doubt, never sent twice on its own (see
 * migrations/004_notify.sql for the delivery states). */
#include "notify.h"

#include "log.h"
#include "mail.h"
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void notify_mailer_init(struct notify_mailer *m, struct notify *n)
{
    m->n = n;
    m->smtp_url = config_str(n->svc.cfg, "smtp_url", "smtp://127.0.0.1:25");
    m->smtp_from = config_str(n->svc.cfg, "smtp_from", "noreply@kezek.kz");
    m->sent = metrics_counter("kezek_email_total", "E-mail attempts",
                              "result=\"sent\"");
    m->retry = metrics_counter("kezek_email_total", "E-mail attempts",
                               "result=\"retry\"");
    m->failed = metrics_counter("kezek_email_total", "E-mail attempts",
                                "result=\"failed\"");
}

static void rollback(PGconn *c)
{
    if (!pg_exec(c, "ROLLBACK"))
        log_error("mail.rollback", "rollback failed");
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

/* An e-mail claimed for sending. */
struct outgoing {
    char id[80], app[64], kind[40], msgid[128];
    char subject[256], file[128], to[320];
    int attempts;
    char *text, *attachment;   /* owned */
};

static void outgoing_free(struct outgoing *o)
{
    free(o->text);
    free(o->attachment);
    o->text = o->attachment = NULL;
}

/* The e-mail of mail_next's row: both languages' texts, the signed
 * notice attached. False when out of memory (nothing to free). */
static bool outgoing_build(struct outgoing *o, const PGresult *r)
{
    snprintf(o->id, sizeof(o->id), "%s", PQgetvalue(r, 0, NEXT_NOTICE));
    snprintf(o->app, sizeof(o->app), "%s",
             PQgetvalue(r, 0, NEXT_APPLICATION));
    snprintf(o->kind, sizeof(o->kind), "%s", PQgetvalue(r, 0, NEXT_KIND));
    snprintf(o->msgid, sizeof(o->msgid), "%s@kezek.kz", o->id);
    o->attempts = atoi(PQgetvalue(r, 0, NEXT_ATTEMPTS));
    json_t *doc = json_loads(PQgetvalue(r, 0, NEXT_CANONICAL), 0, NULL);
    json_t *att = json_pack("{s:o, s:s, s:s}", "document", doc, "signature",
                            PQgetvalue(r, 0, NEXT_SIGNATURE), "key_id",
                            PQgetvalue(r, 0, NEXT_KEY_ID));
    o->attachment = json_dumps(att, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(att);
    const char *kk = PQgetvalue(r, 0, NEXT_TEXT_KK);
    const char *ru = PQgetvalue(r, 0, NEXT_TEXT_RU);
    size_t tl = strlen(kk) + strlen(ru);
    o->text = malloc(tl + 64);
    if (!o->text || !o->attachment) {
        outgoing_free(o);
        return false;
    }
    snprintf(o->text, tl + 64, "%s\n\n%s\n", kk, ru);
    snprintf(o->subject, sizeof(o->subject),
             "Тұрғын үй кезегі / Очередь на жильё: %s", o->kind);
    snprintf(o->file, sizeof(o->file), "%s.json", o->id);
    snprintf(o->to, sizeof(o->to), "%s", PQgetvalue(r, 0, NEXT_EMAIL));
    return true;
}

/* Claims the next pending e-mail into o: read and marked "sending" in
 * one committed transaction (the caller then frees o). False when there
 * was none, or that failed. */
static bool mail_claim(PGconn *c, struct outgoing *o)
{
    if (!pg_exec(c, "BEGIN"))
        return false;
    PGresult *r = pg_run(c, "mail_next", 0, NULL);
    bool found = r && PQntuples(r) > 0;
    bool built = found && outgoing_build(o, r);
    PQclear(r);
    if (!built) {
        rollback(c);
        return false;
    }
    if (!mail_state(c, o->id, "sending", NULL, o->msgid, 0) ||
        !pg_exec(c, "COMMIT")) {
        outgoing_free(o);
        return false;
    }
    return true;
}

/* Records a sent e-mail and its NoticeDelivered event; retries with a
 * fresh connection until it commits or the service stops. */
static bool mail_record_sent(struct notify_mailer *m, PGconn **cp,
                             const struct outgoing *o)
{
    for (int attempt = 0; !service_stop; attempt++) {
        if (attempt) {
            sleep(1);
            if (pg_lost(*cp) || !pg_exec(*cp, "SELECT 1")) {
                PQfinish(*cp);
                *cp = pg_connect_retry(m->n->svc.conninfo, notify_stmts,
                                       &service_stop);
                if (!*cp)
                    return false;
            }
        }
        PGconn *c = *cp;
        Kezek__NoticeDelivered n = KEZEK__NOTICE_DELIVERED__INIT;
        n.application_id = (char *)o->app;
        n.notice_id = (char *)o->id;
        n.kind = (char *)o->kind;
        n.channel = "email";
        n.delivered_at_us = now_us();
        if (pg_exec(c, "BEGIN") &&
            mail_state(c, o->id, "sent", NULL, o->msgid, 0) &&
            outbox_add_msg(c, NOTIFY_PRODUCER,
                           KEZEK__EVENT_TYPE__NOTICE_DELIVERED, o->app,
                           &n.base) &&
            pg_exec(c, "COMMIT")) {
            metric_inc(m->sent);
            return true;
        }
        if (!pg_lost(c))
            rollback(c);
        log_warn("mail.record", "notice %s sent but not yet recorded; "
                 "retrying", o->id);
    }
    return false;
}

/* Records an attempt that failed: pending again after a back-off while
 * it may pass later, else failed. */
static bool mail_record_failed(struct notify_mailer *m, PGconn *c,
                               const struct outgoing *o, enum mail_rc rc,
                               const char *err)
{
    bool ok = pg_exec(c, "BEGIN");
    if (rc == MAIL_RETRY && o->attempts < 12) {
        /* 2, 4, 8 … s, at most an hour */
        double delay = 1 << (o->attempts + 1 < 12 ? o->attempts + 1 : 11);
        ok = ok && mail_state(c, o->id, "pending", err, NULL,
                              delay > 3600 ? 3600 : delay);
        metric_inc(m->retry);
        log_warn("mail.retry", "notice %s: %s; retry in %.0f s", o->id, err,
                 delay);
    } else {
        ok = ok && mail_state(c, o->id, "failed", err, NULL, 0);
        metric_inc(m->failed);
        log_error("mail.failed", "notice %s: %s", o->id, err);
    }
    if (ok)
        ok = pg_exec(c, "COMMIT");
    else if (!pg_lost(c))
        rollback(c);
    return ok;
}

/* One pending e-mail: claimed, sent, recorded with its NoticeDelivered
 * event. False when there was none. */
static bool mail_one(struct notify_mailer *m, PGconn **cp)
{
    struct outgoing o;
    if (!mail_claim(*cp, &o))
        return false;
    struct mail msg = {o.to, m->smtp_from, o.msgid, o.subject, o.text,
                       o.attachment, o.file};
    char err[256] = "";
    enum mail_rc rc = mail_send(m->smtp_url, &msg, err, sizeof(err));
    outgoing_free(&o);
    /* the message left: record it, retrying until it is recorded (or
     * we stop — then it becomes in_doubt at the next start) */
    if (rc == MAIL_SENT)
        return mail_record_sent(m, cp, &o);
    return mail_record_failed(m, *cp, &o, rc, err);
}

/* A connection for the sender (NULL once the service stops); what was
 * left "sending" by the last run becomes in_doubt. */
static PGconn *mail_connect(const service_t *svc)
{
    PGconn *c = pg_connect_retry(svc->conninfo, notify_stmts, &service_stop);
    if (!c)
        return NULL;
    PGresult *r = pg_run(c, "mail_in_doubt", 0, NULL);
    if (r && atoi(PQcmdTuples(r)) > 0)
        log_warn("mail.in_doubt", "%s e-mails were interrupted "
                 "mid-send; not resent (kezek email resend)",
                 PQcmdTuples(r));
    PQclear(r);
    return c;
}

/* The results awaiting pickup and the e-mail deliveries by state. */
static void gauges(PGconn *c)
{
    PGresult *w = pg_run(c, "awaiting_pickup", 0, NULL);
    if (w)
        metric_set(metrics_gauge("kezek_results_awaiting_pickup",
            "Office and centre results not yet handed over "
            "(p.15)", NULL), atof(PQgetvalue(w, 0, PICKUP_COUNT)));
    PQclear(w);
    PGresult *r = pg_run(c, "mail_counts", 0, NULL);
    for (int i = 0; r && i < PQntuples(r); i++) {
        char l[64], v[40];
        snprintf(l, sizeof(l), "state=\"%s\"",
                 metrics_label_escape(v, sizeof(v),
                                      PQgetvalue(r, i, COUNT_STATE)));
        metric_set(metrics_gauge("kezek_email_deliveries",
            "E-mail deliveries by state", l),
            atof(PQgetvalue(r, i, COUNT_N)));
    }
    PQclear(r);
}

void *notify_sender(void *arg)
{
    struct notify_mailer *m = arg;
    PGconn *c = NULL;
    long tick = 0;
    while (!service_stop) {
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            c = mail_connect(&m->n->svc);
            if (!c)
                break;
        }
        if (mail_one(m, &c))
            continue;
        if (!c)
            break;
        /* the gauges scan the results and deliveries */
        if (service_gauge_tick(&m->n->svc, ++tick))
            gauges(c);
        usleep(100000);
    }
    if (c)
        PQfinish(c);
    return NULL;
}
