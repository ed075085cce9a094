/* kezek-queue: numbers registrations (p.5), keeps the Redis view of
 * positions and answers position look-ups. */
#ifndef KEZEK_QUEUE_H
#define KEZEK_QUEUE_H

#include "consumer.h"
#include "http.h"
#include "metrics.h"
#include "queue_view.h"
#include "auth.h"
#include "keys.h"
#include "service.h"

#include <stdatomic.h>

#define PRODUCER "queue"
/* seconds after its registration within which an entry the view lacks
 * is taken for one on its way to Redis, not for drift */
#define VIEW_SETTLE_S "2"

/* What the consumer, the HTTP handlers (their ctx) and the watcher (its
 * argument) share: lives as long as main. */
struct queue {
    service_t svc;
    _Atomic bool view_dirty;  /* rebuild before trusting it */
    metric_t *m_numbers, *m_view_fail, *m_fallback, *m_removals,
        *m_drift;
    long wait_years;          /* the expected wait's window (wait.c) */
    /* the authorities' keys: the transparency log's heads (tlog.h) */
    struct authority_keys keys;
    metric_t *m_tlog_leaves, *m_tlog_s;
    long tlog_resign_s;       /* a head is signed again after (50) */
};

/* sql.c: all SQL of kezek-queue. The result columns of the statements
 * read by position, in the order of their SELECT lists, and the columns
 * (text[] parameters, rowbuf.h) of the set-based ones. */
extern const struct pg_stmt queue_stmts[];
enum { LIST_KEY_COLS = 2 };   /* list_add, list_lock: authority, list */
enum { LIST_LOCK_AUTHORITY_ID, LIST_LOCK_LIST, LIST_LOCK_LAST_NUMBER,
       LIST_LOCK_ACTIVE };
enum { LIST_SET_COLS = 4 };
enum { ENTRY_STATE_COLS = 5 };
enum { ENTRY_STATE_NUMBERED, ENTRY_STATE_HELD_NUMBER,
       ENTRY_STATE_HELD_SEQ, ENTRY_STATE_LATER };
enum { ENTRY_PUT_COLS = 9 };
enum { ENTRY_HISTORY_BASE_APPLICATION_ID, ENTRY_HISTORY_BASE_ACCEPTED_SEQ,
       ENTRY_HISTORY_BASE_POSITION, ENTRY_HISTORY_BASE_CHANGE_ID,
       ENTRY_HISTORY_BASE_AT, ENTRY_HISTORY_BASE_NUMBER,
       ENTRY_HISTORY_BASE_CAUSE, ENTRY_HISTORY_BASE_CAME_FROM };
enum { ENTRY_HISTORY_CHANGES_KIND, ENTRY_HISTORY_CHANGES_REASON,
       ENTRY_HISTORY_CHANGES_AT, ENTRY_HISTORY_CHANGES_OWN,
       ENTRY_HISTORY_CHANGES_CAUSE, ENTRY_HISTORY_CHANGES_RELATED };
enum { LIST_LENGTHS_AUTHORITY_ID, LIST_LENGTHS_LIST, LIST_LENGTHS_ACTIVE };
enum { ENTRY_POSITION_POSITION };
enum { ENTRY_LOOKUP_NUMBER, ENTRY_LOOKUP_POSITION, ENTRY_LOOKUP_SETTLED };
enum { LIST_PAGE_NUMBER, LIST_PAGE_IIN, LIST_PAGE_APPLICATION_ID,
       LIST_PAGE_SEQ, LIST_PAGE_ACCEPTED_AT, LIST_PAGE_NAME,
       LIST_PAGE_CATEGORY, LIST_PAGE_POSITION };

/* consumer.c: the batch that numbers registrations. Its state lives in
 * a queue_batch, the consumer's ctx; redis_writer (the consumer
 * thread's) is borrowed and must outlive it. NULL when out of memory. */
struct queue_batch;
struct queue_batch *queue_batch_new(struct queue *q,
                                    kredis_t *redis_writer);
void queue_batch_destroy(struct queue_batch **self_p);
/* consumer_cfg's callbacks; ctx is the queue_batch */
bool queue_batch_prepare(void *ctx, PGconn *conn, const event_t *evs,
                         int n);
enum handle_rc queue_batch_assign(void *ctx, PGconn *conn,
                                  const event_t *ev, char *why,
                                  size_t whylen);
bool queue_batch_flush(void *ctx, PGconn *conn);
void queue_batch_committed(void *ctx);
void queue_batch_rolled_back(void *ctx);

/* api.c: the entry endpoints (their ctx: the struct queue) and the
 * readiness hook (service_t.ready: Redis answers). */
extern const struct http_route queue_routes[];
bool queue_redis_ready(service_t *s, char *detail, size_t len);

/* An entry request past its front (api.c): who asks, and a pooled
 * connection; the entry endpoints that need Postgres are functions of
 * it, named by their route's data. */
struct entry_call {
    struct queue *q;
    PGconn *c;
    principal_t who;
};
struct entry_fn {
    void (*fn)(const struct entry_call *e, const http_req_t *req,
               http_resp_t *resp);
};
/* the '*' segments of an entry's path */
enum { PATH_AUTHORITY, PATH_LIST, PATH_IIN };

/* life.c: the queue's life after registration (domain/queue_life.h) —
 * removal, change of list, transfer, and the re-verification report. */
extern const struct entry_fn queue_removal_fn, queue_list_change_fn,
    queue_transfer_fn;
void queue_get_reverification(void *ctx, const http_req_t *req,
                              http_resp_t *resp);
/* A pooled connection for a request, or NULL after answering 503
 * (api.c). */
PGconn *queue_db(struct queue *q, http_resp_t *resp);
/* The Redis connection of this HTTP worker (api.c). */
kredis_t *queue_worker_redis(const char *addr);

/* wait.c: the expected wait of a position in a list (issue 24) as the
 * look-up shows it; NULL when the figures could not be read. */
json_t *queue_expected_wait(struct queue *q, const char *authority,
                            const char *list, long position);

/* lists.c: a whole list in position order, a page of it and all of it
 * as CSV (ctx: the struct queue). */
void queue_get_entries(void *ctx, const http_req_t *req, http_resp_t *resp);
void queue_get_entries_csv(void *ctx, const http_req_t *req,
                           http_resp_t *resp);

/* transparency.c: the transparency log's public endpoints (ctx: the
 * struct queue). */
void queue_tlog_logs(void *ctx, const http_req_t *req, http_resp_t *resp);
void queue_tlog_sth(void *ctx, const http_req_t *req, http_resp_t *resp);
void queue_tlog_history(void *ctx, const http_req_t *req,
                        http_resp_t *resp);
void queue_tlog_inclusion(void *ctx, const http_req_t *req,
                          http_resp_t *resp);
void queue_tlog_consistency(void *ctx, const http_req_t *req,
                            http_resp_t *resp);
void queue_tlog_entries(void *ctx, const http_req_t *req,
                        http_resp_t *resp);

/* tlog_duty.c: the transparency log's duties in the watcher. Signs
 * again each head older than tlog_resign_s: how many, or -1. Appends up
 * to 2,000 entries from before the log (their lists locked): how many,
 * or -1. */
int queue_tlog_resign(struct queue *q, PGconn *c);
int queue_tlog_backfill(struct queue *q, PGconn *c);

/* watch.c: the watcher thread (arg: the struct queue) — list lengths,
 * the view verified and repaired. */
void *queue_watch(void *arg);
/* Rebuilds the whole view from Postgres; true when done. */
bool queue_rebuild_view(PGconn *c, kredis_t *r);

#endif
