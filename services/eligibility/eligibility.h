/* kezek-eligibility: what its files share — the statements (sql.c) and
 * the names of the columns read from them, the service's context (set
 * up by main.c), the decisions and their DecisionMade (decision.c), the
 * consumer's batch (consumer.c), the work list API (api.c) and the
 * sweep (watch.c). */
#ifndef KEZEK_ELIGIBILITY_H
#define KEZEK_ELIGIBILITY_H

#include "consumer.h"
#include "elig.h"
#include "http.h"
#include "metrics.h"
#include "rowbuf.h"
#include "service.h"

#include <stdint.h>

extern const struct pg_stmt elig_stmts[];

/* The result columns of sql.c's statements read by position, in the
 * order of their SELECT lists (registry.h names those of reg_facts*). */
enum worklist_col {
    WORKLIST_ID, WORKLIST_REASON, WORKLIST_DUE_DATE, WORKLIST_PARKED_AT,
    WORKLIST_DAYS_LEFT
};
enum parked_one_col {
    PARKED_ONE_AUTHORITY, PARKED_ONE_SEQ, PARKED_ONE_PAYLOAD
};
enum deadline_gauges_col {
    DEADLINE_AUTHORITY, DEADLINE_DUE_SOON, DEADLINE_OVERDUE
};
enum parked_next_col { PARKED_NEXT_SEQ, PARKED_NEXT_PAYLOAD };
enum parked_count_col { PARKED_COUNT_REASON, PARKED_COUNT_N };
enum worklist_flags_col {
    FLAGS_ID, FLAGS_LIST, FLAGS_OUTCOME, FLAGS_REASONS, FLAGS_REVIEW_REASON,
    FLAGS_AT, FLAGS_RUN
};

#define ELIG_OUTCOMES (ELIG_WITHDRAWN + 1)

/* The service: what its threads share, set before they start. */
struct elig {
    service_t svc;
    /* kezek_decisions_total, by enum elig_outcome */
    metric_t *decided[ELIG_OUTCOMES];
};

/* The decisions of one open transaction: the consumer's batch (its
 * consumer_cfg.ctx), or the sweep's, which has its own so that its
 * decisions never see the consumer's facts. Used by one thread. */
struct elig_batch {
    struct elig *elig;
    /* the decisions with their DecisionMade, sent set-based just before
     * the commit (elig_batch_flush); NULL until the first */
    rowbuf_t *decisions;
    /* the registry facts of the batch's applicants (registry_prefetch),
     * or NULL */
    PGresult *facts;
    /* decisions written, by outcome, counted in the metrics once the
     * transaction commits */
    uint64_t tally[ELIG_OUTCOMES];
};

/* ---- decision.c ---------------------------------------------------- */

/* An ApplicationAccepted to decide: the event, the seq it was accepted
 * as, and the application it carries. */
struct elig_app {
    Kezek__ApplicationAccepted *a;
    uint64_t seq;
    json_t *body;              /* the application, NULL when unreadable */
    const char *iin, *email;   /* the applicant's (borrowed from body), or
                                * NULL */
};

/* Unpacks payload (len bytes) into *app; false when it is no
 * ApplicationAccepted (then app holds nothing). elig_app_free releases
 * it either way. */
bool elig_app_unpack(struct elig_app *app, const uint8_t *payload,
                     size_t len, uint64_t seq);
void elig_app_free(struct elig_app *app);

/* The reason codes of d as a JSON array (caller frees); NULL when out of
 * memory. */
char *elig_codes_json(const struct elig_decision *d);

/* The DecisionMade of d on app as an outbox row (false: out of memory;
 * outbox_row_free releases it either way). */
struct outbox_row;
bool elig_decision_event(struct outbox_row *o, const struct elig_app *app,
                         const struct elig_decision *d);

/* Queues the DecisionMade of d on app alone (outbox_add_row); false
 * when that failed. */
bool elig_emit(PGconn *conn, const struct elig_app *app,
               const struct elig_decision *d);

/* ---- consumer.c ---------------------------------------------------- */

/* Decides one ApplicationAccepted payload (accepted as seq; key: the
 * event's key, NULL when unknown) inside b's open transaction: a
 * decision is gathered in b->decisions, one that needs a person is
 * parked (*parked) with its DecisionMade "review". */
enum handle_rc elig_decide_payload(struct elig_batch *b, PGconn *conn,
                                   const uint8_t *payload, size_t len,
                                   uint64_t seq, const char *key,
                                   bool *parked, char *why, size_t whylen);

/* The consumer's callbacks (consumer.h); ctx is a struct elig_batch. */
enum handle_rc elig_decide_event(void *ctx, PGconn *conn, const event_t *ev,
                                 char *why, size_t whylen);
bool elig_prefetch(void *ctx, PGconn *conn, const event_t *evs, int n);
bool elig_batch_flush(void *ctx, PGconn *conn);
void elig_batch_committed(void *ctx);
void elig_batch_rolled_back(void *ctx);

/* After b's transaction committed or not: counts its decisions (when
 * committed) and forgets what it gathered. */
void elig_batch_done(struct elig_batch *b, bool committed);
/* Frees what b holds. */
void elig_batch_fini(struct elig_batch *b);

/* ---- api.c --------------------------------------------------------- */

/* The work list of parked applications and the manual decisions (p.7;
 * the OpenAPI tag "review"); their ctx is the struct elig. */
extern const struct http_route elig_routes[];

/* ---- watch.c ------------------------------------------------------- */

/* The sweeper thread (arg: the struct elig): refreshes the work list
 * gauges and re-decides parked applications, every
 * review_sweep_seconds, until service_stop. */
void *elig_sweep(void *arg);

#endif
