/* The sender threads of kezek-notify, one per channel: claim, send,
 * record — the discipline of delivery.h. The e-mail's thread also
 * refreshes the gauges between deliveries. */
#include "notify.h"

#include "delivery.h"
#include "log.h"
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void channel_init(struct channel *ch, struct notify *n, const char *name,
                  const char *ok_state, int max_attempts, void *ctx,
                  enum send_rc (*send)(struct channel *, struct delivery *,
                                       char *, size_t))
{
    char metric[64], help[64];
    *ch = (struct channel){.name = name, .ok_state = ok_state,
                           .max_attempts = max_attempts, .n = n,
                           .ctx = ctx, .send = send};
    snprintf(metric, sizeof(metric), "kezek_%s_total", name);
    snprintf(help, sizeof(help), "Deliveries attempted (%s)", name);
    ch->sent = metrics_counter(metric, help, "result=\"sent\"");
    ch->retry = metrics_counter(metric, help, "result=\"retry\"");
    ch->failed = metrics_counter(metric, help, "result=\"failed\"");
}

static void rollback(PGconn *c)
{
    if (!pg_exec(c, "ROLLBACK"))
        log_error("delivery.rollback", "rollback failed");
}

/* Records d's state on ch; delay_s schedules the next attempt. */
static bool set_state(PGconn *c, const struct channel *ch,
                      const struct delivery *d, const char *state,
                      const char *err, double delay_s)
{
    char delay[32], segments[16];
    snprintf(delay, sizeof(delay), "%.3f", delay_s);
    snprintf(segments, sizeof(segments), "%d", d->segments);
    const char *p[8] = {d->id, ch->name, state, err,
                        d->ref[0] ? d->ref : NULL, delay,
                        d->segments ? segments : NULL, d->coding};
    PGresult *r = pg_run(c, "delivery_state", 8, p);
    PQclear(r);
    return r != NULL;
}

static void delivery_free(struct delivery *d)
{
    free(d->canonical);
    json_decref(d->doc);
    d->canonical = NULL;
    d->doc = NULL;
}

/* The delivery of delivery_next's row; false when out of memory or the
 * stored document is unreadable (nothing to free). */
static bool delivery_read(struct delivery *d, const PGresult *r)
{
    *d = (struct delivery){0};
#define COPY(field, col) \
    snprintf(d->field, sizeof(d->field), "%s", PQgetvalue(r, 0, col))
    COPY(id, NEXT_NOTICE);
    COPY(app, NEXT_APPLICATION);
    COPY(kind, NEXT_KIND);
    COPY(iin, NEXT_IIN);
    COPY(key_id, NEXT_KEY_ID);
    COPY(signature, NEXT_SIGNATURE);
    COPY(email, NEXT_EMAIL);
    COPY(phone, NEXT_PHONE);
    COPY(lang, NEXT_LANGUAGE);
#undef COPY
    d->attempts = atoi(PQgetvalue(r, 0, NEXT_ATTEMPTS));
    d->canonical = strdup(PQgetvalue(r, 0, NEXT_CANONICAL));
    d->doc = d->canonical ? json_loads(d->canonical, 0, NULL) : NULL;
    if (!d->doc) {
        delivery_free(d);
        return false;
    }
    return true;
}

/* Claims the next pending delivery of ch into d: read and marked
 * "sending" in one committed transaction (the caller then frees d).
 * False when there was none, or that failed. */
static bool claim(PGconn *c, const struct channel *ch, struct delivery *d)
{
    if (!pg_exec(c, "BEGIN"))
        return false;
    const char *p[1] = {ch->name};
    PGresult *r = pg_run(c, "delivery_next", 1, p);
    bool found = r && PQntuples(r) > 0;
    bool read = found && delivery_read(d, r);
    if (found && !read) /* a document no channel can carry: failed */
        log_error("delivery.unreadable", "notice %s: unreadable document",
                  PQgetvalue(r, 0, NEXT_NOTICE));
    PQclear(r);
    if (!read) {
        rollback(c);
        return false;
    }
    if (!set_state(c, ch, d, "sending", NULL, 0) || !pg_exec(c, "COMMIT")) {
        delivery_free(d);
        return false;
    }
    return true;
}

/* Records a delivery that left, with its NoticeDelivered event;
 * retries with a fresh connection until it commits or the service
 * stops (then it is in_doubt at the next start). */
static bool record_sent(struct channel *ch, PGconn **cp,
                        const struct delivery *d)
{
    for (int attempt = 0; !service_stop; attempt++) {
        if (attempt) {
            sleep(1);
            if (pg_lost(*cp) || !pg_exec(*cp, "SELECT 1")) {
                PQfinish(*cp);
                *cp = pg_connect_retry(ch->n->svc.conninfo, notify_stmts,
                                       &service_stop);
                if (!*cp)
                    return false;
            }
        }
        PGconn *c = *cp;
        Kezek__NoticeDelivered n = KEZEK__NOTICE_DELIVERED__INIT;
        n.application_id = (char *)d->app;
        n.notice_id = (char *)d->id;
        n.kind = (char *)d->kind;
        n.channel = (char *)ch->name;
        n.delivered_at_us = now_us();
        if (pg_exec(c, "BEGIN") &&
            set_state(c, ch, d, ch->ok_state, NULL, 0) &&
            outbox_add_msg(c, NOTIFY_PRODUCER,
                           KEZEK__EVENT_TYPE__NOTICE_DELIVERED, d->app,
                           &n.base) &&
            pg_exec(c, "COMMIT")) {
            metric_inc(ch->sent);
            return true;
        }
        if (!pg_lost(c))
            rollback(c);
        log_warn("delivery.record", "%s of notice %s left but is not yet "
                 "recorded; retrying", ch->name, d->id);
    }
    return false;
}

/* Records an attempt that failed: pending again after a back-off while
 * it may pass later, else failed. */
static bool record_failed(struct channel *ch, PGconn *c,
                          const struct delivery *d, enum send_rc rc,
                          const char *err)
{
    bool ok = pg_exec(c, "BEGIN");
    if (rc == SEND_RETRY && d->attempts < ch->max_attempts) {
        /* 2, 4, 8 … s, at most an hour */
        int shift = d->attempts + 1 < 12 ? d->attempts + 1 : 11;
        double delay = 1 << shift;
        ok = ok && set_state(c, ch, d, "pending", err,
                             delay > 3600 ? 3600 : delay);
        metric_inc(ch->retry);
        log_warn("delivery.retry", "%s of notice %s: %s; retry in %.0f s",
                 ch->name, d->id, err, delay);
    } else {
        ok = ok && set_state(c, ch, d, "failed", err, 0);
        metric_inc(ch->failed);
        log_error("delivery.failed", "%s of notice %s: %s", ch->name, d->id,
                  err);
    }
    if (ok)
        ok = pg_exec(c, "COMMIT");
    else if (!pg_lost(c))
        rollback(c);
    return ok;
}

/* One pending delivery: claimed, sent, recorded. False when there was
 * none. */
static bool deliver_one(struct channel *ch, PGconn **cp)
{
    struct delivery d;
    if (!claim(*cp, ch, &d))
        return false;
    char err[256] = "";
    enum send_rc rc = ch->send(ch, &d, err, sizeof(err));
    delivery_free(&d);
    /* it left: record it, retrying until it is recorded */
    if (rc == SEND_OK)
        return record_sent(ch, cp, &d);
    return record_failed(ch, *cp, &d, rc, err);
}

/* A connection for the sender (NULL once the service stops); what the
 * last run left "sending" becomes in_doubt. */
static PGconn *sender_connect(const struct channel *ch)
{
    PGconn *c = pg_connect_retry(ch->n->svc.conninfo, notify_stmts,
                                 &service_stop);
    if (!c)
        return NULL;
    const char *p[1] = {ch->name};
    PGresult *r = pg_run(c, "delivery_in_doubt", 1, p);
    if (r && atoi(PQcmdTuples(r)) > 0)
        log_warn("delivery.in_doubt", "%s %s deliveries were interrupted "
                 "mid-send; not resent (kezek %s resend)", PQcmdTuples(r),
                 ch->name, ch->name);
    PQclear(r);
    return c;
}

/* The results awaiting pickup and the deliveries by channel and
 * state. */
static void gauges(PGconn *c)
{
    PGresult *w = pg_run(c, "awaiting_pickup", 0, NULL);
    if (w)
        metric_set(metrics_gauge("kezek_results_awaiting_pickup",
            "Office and centre results not yet handed over "
            "(p.15)", NULL), atof(PQgetvalue(w, 0, PICKUP_COUNT)));
    PQclear(w);
    PGresult *r = pg_run(c, "delivery_counts", 0, NULL);
    for (int i = 0; r && i < PQntuples(r); i++) {
        char l[64], v[40], name[64], help[64];
        const char *channel = PQgetvalue(r, i, COUNT_CHANNEL);
        snprintf(l, sizeof(l), "state=\"%s\"",
                 metrics_label_escape(v, sizeof(v),
                                      PQgetvalue(r, i, COUNT_STATE)));
        snprintf(name, sizeof(name), "kezek_%s_deliveries", channel);
        snprintf(help, sizeof(help), "Deliveries by state (%s)", channel);
        metric_set(metrics_gauge(name, help, l),
                   atof(PQgetvalue(r, i, COUNT_N)));
    }
    PQclear(r);
}

void *channel_run(void *arg)
{
    struct channel *ch = arg;
    bool gauging = strcmp(ch->name, "email") == 0;
    PGconn *c = NULL;
    long tick = 0;
    while (!service_stop) {
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            c = sender_connect(ch);
            if (!c)
                break;
        }
        if (deliver_one(ch, &c))
            continue;
        if (!c)
            break;
        /* the gauges scan the results and deliveries */
        if (gauging && service_gauge_tick(&ch->n->svc, ++tick))
            gauges(c);
        usleep(100000);
    }
    if (c)
        PQfinish(c);
    return NULL;
}
