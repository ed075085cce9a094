/* kezek-intake: the public API (CONTRACT "Applications"). */
#ifndef KEZEK_INTAKE_H
#define KEZEK_INTAKE_H

#include "auth.h"
#include "consumer.h"
#include "http.h"
#include "service.h"

#include <pthread.h>

extern const struct pg_stmt intake_stmts[];

/* The result columns of sql.c's statements that are read by position,
 * in the order of their SELECT lists. */
enum { IDEM_SHA, IDEM_APP_ID, IDEM_RECEIPT };
enum { APP_ID, APP_STATUS, APP_AUTHORITY, APP_DECISION, APP_QUEUE,
       APP_RECEIPT, APP_DELIVERED, APP_PRINCIPAL, APP_IIN };
enum { REF_REGION_ID, REF_REGION_DOC, REF_REGION_AUTHORITIES };
enum { REF_DOCS };                          /* the other ref_* */
enum { AUDIT_AT, AUDIT_PRINCIPAL, AUDIT_PURPOSE, AUDIT_RESOURCE };
enum { ROUTED_ID, ROUTED_DOC };             /* complaint_appeal, _centre */
enum { CIDEM_ID, CIDEM_SHA, CIDEM_TICKET, CIDEM_STATE };
enum { CGET_STATE, CGET_AUTHORITY, CGET_IIN, CGET_TICKET, CGET_ANSWER,
       CGET_ANSWERED_AT, CGET_ROUTED_KIND, CGET_ROUTED_ID };
enum { SCOPE_REGION, SCOPE_NAME };          /* session_scope */
enum { PIPE_CONSUMER, PIPE_OFFSET, PIPE_LAG, PIPE_UPDATED, PIPE_DEAD };
enum { PLIST_AUTHORITY, PLIST_LIST, PLIST_ACTIVE, PLIST_LAST };
enum { CSTATE_IIN, CSTATE_AUTHORITY, CSTATE_NUMBER };

/* The checked application, ready to store. */
struct application {
    json_t *body;             /* borrowed */
    const char *iin;
    const char *settlement_id;
    const char *category;
    char authority_id[64];
};

/* main.c: resolves the bearer token and takes a pooled connection;
 * replies 401/429/503 itself and returns NULL when either fails. */
PGconn *intake_begin(service_t *svc, const http_req_t *req,
                     http_resp_t *resp, principal_t *who);

/* accept.c: a request body as it is hashed and stored — compact JSON,
 * keys sorted, so that "the same body" of an Idempotency-Key ignores
 * spacing and key order (malloc'd) — and its SHA-256 in hex; NULL after
 * replying 503 when out of memory. */
char *intake_canonical(json_t *body, char sha[65], http_resp_t *resp);

/* accept.c: POST /v1/applications (ctx: the service) */
void intake_accept_init(void);
void intake_post_application(void *ctx, const http_req_t *req,
                             http_resp_t *resp);

/* reference.c: GET /v1/reference/… (ctx: the service; route data: an
 * intake_reference) */
struct intake_reference {
    const char *stmt;  /* ref_* of sql.c */
    const char *name;  /* the reply's key */
};
void intake_get_reference(void *ctx, const http_req_t *req,
                          http_resp_t *resp);

/* Puts the names of the applicant and the representative in Unicode
 * NFC (text.h) where they are acceptable names, before the body is
 * hashed and stored; the rest is left to intake_validate. */
void intake_normalise_names(json_t *body);

/* Validates body at the boundary (p.6, p.11, CONTRACT); on failure
 * replies with the contract's error and returns false. */
bool intake_validate(PGconn *conn, const principal_t *who, json_t *body,
                     struct application *app, http_resp_t *resp);

/* committer.c: group commit of accepted applications. A row is the
 * STORE_COLS text values of app_store (sql.c) in this order, the
 * event's (outbox_row_texts) from STORE_EVENT on, its payload
 * hex-encoded. */
enum { STORE_ID, STORE_NUMBER, STORE_AUTHORITY, STORE_SETTLEMENT,
       STORE_CHANNEL, STORE_PRINCIPAL, STORE_CATEGORY, STORE_IIN,
       STORE_ACCEPTED_AT, STORE_RESULT_DUE, STORE_INTERNAL_DUE, STORE_BODY,
       STORE_RECEIPT, STORE_KEY, STORE_SHA, STORE_EVENT };
#define STORE_COLS (STORE_EVENT + 7)
struct store_req {
    const char *vals[STORE_COLS]; /* borrowed until committer_store returns */
    int result;                   /* 1 stored, 0 key exists, -1 failed */
    bool done;
    pthread_cond_t wake;          /* signalled when done, or to lead */
    struct store_req *next;
};
/* in_flight: the requests that may join a commit soon (holding a pool
 * connection) */
bool committer_init(int linger_us, int (*in_flight)(void));
void committer_fini(void);
/* Blocks until the row is written with others (perhaps by this thread,
 * on c, with theirs); returns its result. */
int committer_store(PGconn *c, struct store_req *req);

/* status.c: the read-model consumer — decisions and numbers update
 * application_status (migrations/015). Its updates are gathered per
 * batch and written set-based at the end (flush), or forgotten (clear)
 * when the batch rolls back, one statement per kind in this order (a
 * decision before its number). The batch is the consumer's ctx. */
enum { STATUS_DECIDED, STATUS_NUMBERED, STATUS_CHANGED, STATUS_KINDS };
struct rowbuf;
struct intake_status_batch {
    struct rowbuf *updates[STATUS_KINDS];
};
bool intake_status_init(struct intake_status_batch *b);
void intake_status_fini(struct intake_status_batch *b);
enum handle_rc intake_apply(void *ctx, PGconn *conn, const event_t *ev,
                            char *why, size_t whylen);
bool intake_status_flush(void *ctx, PGconn *conn);
void intake_status_clear(void *ctx);

/* lists.c: the console's reads — who is signed in (GET /v1/session),
 * the applications of a scope and the complaints of an inbox, keyset
 * paginated and audited (p.17). */
void lists_session(PGconn *c, const principal_t *who, const http_req_t *req,
                   http_resp_t *resp);
void lists_applications(PGconn *c, const principal_t *who,
                        const http_req_t *req, http_resp_t *resp);
void lists_complaints(PGconn *c, const principal_t *who,
                      const http_req_t *req, http_resp_t *resp);
/* GET /v1/ops/pipeline — each consumer's offset, lag and dead letters
 * (operators), the queue lists' sizes (operators; a supervisor its
 * region's). */
void lists_pipeline(PGconn *c, const principal_t *who,
                    const http_req_t *req, http_resp_t *resp);

/* complaints.c: whether who handles a complaint routed to (kind, id):
 * the appeal instance it went to (appendix 5), the centre whose service
 * it is about (its head, p.20), operators. */
bool complaint_handler(const principal_t *who, const char *kind,
                       const char *id);

/* ops.c: appendix 4 indicators, feedback, the audit query. */
void ops_get_indicators(PGconn *c, const principal_t *who,
                        const http_req_t *req, http_resp_t *resp);
void ops_post_feedback(PGconn *c, const principal_t *who,
                       const http_req_t *req, http_resp_t *resp);
void ops_get_audit(PGconn *c, const principal_t *who, const http_req_t *req,
                   http_resp_t *resp);
void ops_gauges(PGconn *c);

/* complaints.c (p.20–25). */
/* The terms of an answer: calendar days (the appeal instance, a
 * centre), working days (the head of the authority, p.20). */
void complaints_init(long answer_days, long head_answer_days);
void complaints_post(PGconn *c, const principal_t *who,
                     const http_req_t *req, http_resp_t *resp);
void complaints_get(PGconn *c, const principal_t *who,
                    const http_req_t *req, http_resp_t *resp);
void complaints_progress(PGconn *c, const principal_t *who,
                         const http_req_t *req, http_resp_t *resp,
                         bool answer);

#endif
