/* kezek-intake: the public API (CONTRACT "Applications"). */
#ifndef KEZEK_INTAKE_H
#define KEZEK_INTAKE_H

#include "auth.h"
#include "consumer.h"
#include "http.h"
#include "service.h"

#include <pthread.h>

extern const struct pg_stmt intake_stmts[];

/* The checked application, ready to store. */
struct application {
    json_t *body;             /* borrowed */
    const char *iin;
    const char *settlement_id;
    const char *category;
    char authority_id[64];
};

/* Puts the names of the applicant and the representative in Unicode
 * NFC (text.h) where they are acceptable names, before the body is
 * hashed and stored; the rest is left to intake_validate. */
void intake_normalise_names(json_t *body);

/* Validates body at the boundary (p.6, p.11, CONTRACT); on failure
 * replies with the contract's error and returns false. */
bool intake_validate(PGconn *conn, const principal_t *who, json_t *body,
                     struct application *app, http_resp_t *resp);

/* committer.c: group commit of accepted applications. A row is the
 * STORE_COLS text values of app_store (sql.c), the event's payload
 * hex-encoded. */
#define STORE_COLS 22
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

/* The read-model consumer: decisions, numbers and deliveries update
 * application.status. */
enum handle_rc intake_apply(void *ctx, PGconn *conn, const event_t *ev,
                            char *why, size_t whylen);
/* Its updates are gathered per batch and written set-based at the end
 * (flush), or forgotten (clear) when the batch rolls back. */
bool intake_status_init(void);
void intake_status_fini(void);
bool intake_status_flush(void *ctx, PGconn *conn);
void intake_status_clear(void *ctx);

/* ops.c: appendix 4 indicators, feedback, the audit query. */
void ops_init(const char *indicators_file);
void ops_get_indicators(PGconn *c, const principal_t *who,
                        const http_req_t *req, http_resp_t *resp);
void ops_post_feedback(PGconn *c, const principal_t *who,
                       const http_req_t *req, http_resp_t *resp);
void ops_get_audit(PGconn *c, const principal_t *who, const http_req_t *req,
                   http_resp_t *resp);
void ops_gauges(PGconn *c);

/* complaints.c (p.20–25). */
void complaints_init(long answer_days);
void complaints_post(PGconn *c, const principal_t *who,
                     const http_req_t *req, http_resp_t *resp);
void complaints_get(PGconn *c, const principal_t *who,
                    const http_req_t *req, http_resp_t *resp);
void complaints_progress(PGconn *c, const principal_t *who,
                         const http_req_t *req, http_resp_t *resp,
                         bool answer);

#endif
