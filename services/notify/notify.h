/* kezek-notify: signed notices in the personal cabinet, by e-mail and on
 * paper (p.5, p.14, p.15). */
#ifndef KEZEK_NOTIFY_H
#define KEZEK_NOTIFY_H

#include "consumer.h"
#include "delivery.h"
#include "http.h"
#include "keys.h"
#include "metrics.h"
#include "notice.h"
#include "rowbuf.h"
#include "service.h"

#include <pthread.h>
#include <stdint.h>

#define NOTIFY_PRODUCER "notify"

extern const struct pg_stmt notify_stmts[];

/* The result columns of sql.c's statements that are read by position,
 * in the order of their SELECT lists. */
enum { CABINET_APPLICATION, CABINET_KIND, CABINET_ISSUED_AT,
       CABINET_CANONICAL, CABINET_SIGNATURE, CABINET_KEY_ID };
enum { NEXT_NOTICE, NEXT_CANONICAL, NEXT_SIGNATURE, NEXT_KEY_ID, NEXT_KIND,
       NEXT_APPLICATION, NEXT_ATTEMPTS, NEXT_EMAIL, NEXT_PHONE,
       NEXT_LANGUAGE, NEXT_IIN };               /* delivery_next */
enum { COUNT_CHANNEL, COUNT_STATE, COUNT_N };   /* delivery_counts */
enum { ACCESS_AUTHORITY, ACCESS_PRINCIPAL, ACCESS_IIN, ACCESS_CHANNEL,
       ACCESS_RECEIPT };                        /* paper_access_get */
#define ACCESS_COLS ACCESS_RECEIPT              /* kept by paper_api.c */
enum { PRINT_NOTICE, PRINT_CANONICAL, PRINT_SIGNATURE, PRINT_KEY_ID,
       PRINT_KIND };                            /* paper_notice */
enum { JOURNAL_APPLICATION, JOURNAL_NOTICE, JOURNAL_RECEIVED_BY,
       JOURNAL_RECEIVER, JOURNAL_POWER_OF_ATTORNEY, JOURNAL_ISSUED_AT,
       JOURNAL_RECORDED_BY, JOURNAL_COLS };
enum { PICKUP_COUNT };                          /* awaiting_pickup */
/* place_receipts: its parameters (application, authority, list,
 * number), and its columns — from PLACE_SIZE on, a head as
 * tlog_sth_from_row reads it (size, root, ms, key id, signature) */
#define PLACE_KEY_COLS 4
enum { PLACE_APPLICATION, PLACE_INDEX, PLACE_SECRET, PLACE_ENTRY,
       PLACE_SIZE };

/* mailer.c: the e-mail channel. */
struct notify_mailer {
    struct channel channel;
    const char *smtp_url, *smtp_from;
};

/* sms_channel.c: the SMS channel (url NULL: off). */
struct notify_sms {
    struct channel channel;
    const char *url, *user, *from, *dlr_base;
    char dlr_default[64];
    char password[128];
    unsigned char dlr_key[32];   /* of the delivery reports' tokens */
    int max_segments;
    struct notice_templates templates;   /* templates/sms */
};

/* portal.c: the portal's callback (url NULL: off). */
struct notify_portal {
    struct channel channel;
    const char *url;
    char secret[256];            /* the HMAC key */
    long timeout_ms;
};

/* What the threads of the service share: the HTTP handlers' ctx, and
 * reached from the consumer's and the senders'. Set before they start;
 * afterwards only the keys change (under their lock). */
struct notify {
    service_t svc;
    struct notice_templates templates;
    struct authority_keys keys;
    struct notify_mailer mailer;
    struct notify_sms sms;
    struct notify_portal portal;
};

/* authority.c: what a notice says of its authority. */
/* Signs canonical with the authority's key (thread-safe): sig gets the
 * signature, *key_id the key's id. */
void notify_sign(struct notify *n, const char *authority,
                 const char *canonical, char sig[128], const char **key_id);
/* The authority's name for a document (thread-safe, cached: refname.h)
 * into out — its id when it is unknown or the read failed; false when
 * the read failed. */
bool notify_authority_name(PGconn *conn, const char *id, char *out,
                           size_t len);

/* consumer.c: the consumer's batch (its ctx). Its rows are written at
 * its end (contacts before the notices whose e-mail joins them); the
 * notices among them are counted when it commits. */
struct notify_batch {
    struct notify *n;
    rowbuf_t *contacts, *paper_rows, *notices;
    uint64_t issued;
    metric_t *delivered;
    /* the batch's registrations' receipts of place, read before its
     * handlers (notify_batch_prepare) */
    rowbuf_t *receipt_keys;
    PGresult *receipts;
};
bool notify_batch_init(struct notify_batch *b, struct notify *n);
void notify_batch_fini(struct notify_batch *b);
enum handle_rc notify_deliver(void *ctx, PGconn *conn, const event_t *ev,
                              char *why, size_t whylen);
bool notify_batch_prepare(void *ctx, PGconn *conn, const event_t *evs,
                          int n);
bool notify_batch_flush(void *ctx, PGconn *conn);
void notify_batch_committed(void *ctx);
void notify_batch_rolled_back(void *ctx);

/* mailer.c, sms_channel.c, portal.c: the channels' settings from the
 * config; the SMS and the portal are off without their URL. False with
 * err when a setting is wrong. */
void notify_mailer_init(struct notify_mailer *m, struct notify *n);
bool notify_sms_init(struct notify_sms *s, struct notify *n, char *err,
                     size_t errlen);
void notify_sms_fini(struct notify_sms *s);
bool notify_portal_init(struct notify_portal *p, struct notify *n,
                        char *err, size_t errlen);
/* Whether a notice of kind goes by SMS (on, and a text for it). */
bool notify_sms_has(const struct notify_sms *s, const char *kind);
/* The token of a delivery report's URL for notice (hex, 64 + 1). */
void notify_sms_dlr_token(const struct notify_sms *s, const char *notice,
                          char out[65]);
/* X-Kezek-Signature of a callback: "sha256=" and 64 hex digits. */
void notify_portal_sign(const char *secret, const char *date,
                        const char *body, char out[72]);

/* api.c: the routes (ctx: the struct notify). */
extern const struct http_route notify_routes[];

#endif
