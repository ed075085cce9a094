/* delivery — the channels that push a notice out of the cabinet: e-mail
 * (mail.c), SMS through Kannel (sms_channel.c), the portal's callback
 * (portal.c). One sender thread per channel runs the same discipline
 * (delivery.c; migrations/004, 022):
 *
 *   claim      the next pending delivery is read and marked "sending"
 *              in one committed transaction, before anything leaves;
 *   send       the channel hands it over (SMTP relay, Kannel, portal);
 *   record     its outcome is committed (with a NoticeDelivered event
 *              when it left), retried until recorded;
 *   restart    a delivery found "sending" at start was interrupted
 *              between the hand-over and the record: it becomes
 *              "in_doubt" and is never sent again by itself — at most
 *              one message per notice and channel — until an operator
 *              requeues it (kezek email|sms|portal resend).
 *
 * A failure that may pass later is retried after 2, 4, 8 … s (at most an
 * hour); one that cannot, or attempts exhausted, ends "failed". */
#ifndef KEZEK_DELIVERY_H
#define KEZEK_DELIVERY_H

#include "metrics.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct notify;

/* A delivery claimed for sending: the notice and where it goes. */
struct delivery {
    char id[128];              /* the notice id */
    char app[64], kind[40], iin[16], key_id[64], signature[128];
    char email[320], phone[24], lang[4];
    int attempts;              /* before this one */
    char *canonical;           /* the signed document's text (owned) */
    json_t *doc;               /* parsed (owned) */
    /* set by the channel's send: what was handed over */
    char ref[160];             /* message id / delivery id */
    int segments;              /* SMS: parts; 0 otherwise */
    const char *coding;        /* SMS: gsm7 | ucs2; NULL otherwise */
};

enum send_rc { SEND_OK, SEND_RETRY, SEND_FAILED };

struct channel {
    const char *name;          /* email | sms | portal */
    const char *ok_state;      /* the state SEND_OK records */
    int max_attempts;          /* SEND_RETRY after as many: failed */
    struct notify *n;
    void *ctx;                 /* the channel's settings */
    enum send_rc (*send)(struct channel *ch, struct delivery *d,
                         char *err, size_t errlen);
    metric_t *sent, *retry, *failed;
};

/* Sets up the counters kezek_<name>_total{result}. */
void channel_init(struct channel *ch, struct notify *n, const char *name,
                  const char *ok_state, int max_attempts, void *ctx,
                  enum send_rc (*send)(struct channel *, struct delivery *,
                                       char *, size_t));

/* The sender thread of a channel (arg: the struct channel) until
 * service_stop; the e-mail's also refreshes the gauges. */
void *channel_run(void *arg);

#endif
