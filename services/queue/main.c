/* kezek-queue: gives each registration the next number of its list
 * (p.5), keeps positions in Redis and answers position look-ups.
 *
 * Numbers are gapless per (authority, list) also with several
 * instances: a batch locks the list's row in queue_list when it first
 * numbers in that list, gives the next numbers from it and writes the
 * row back before it commits; the lock is held until then, so two
 * transactions can never take the same or skip a number. */
#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "consumer.h"
#include "iin.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "queue_view.h"
#include "service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRODUCER "queue"
#define MAX_PENDING 10000
/* seconds after its registration within which an entry the view lacks
 * is taken for one on its way to Redis, not for drift */
#define VIEW_SETTLE_S "2"

static const struct pg_stmt queue_stmts[] = {
    /* A list's counters are read and locked once per batch (list_lock),
     * numbers are given from them in the consumer, and written back once
     * at the end (list_set): one new version of the list row per batch
     * rather than per registration. The row lock, held until commit,
     * keeps numbers gapless and serializes removals. */
    {"list_add", /* set-based: the batch's lists, created if new */
     "INSERT INTO queue_list (authority_id, list) SELECT DISTINCT *"
     " FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING"},
    {"list_lock", /* ... and locked, in one order */
     "SELECT l.authority_id, l.list, l.last_number, l.active"
     " FROM queue_list l JOIN (SELECT DISTINCT * FROM unnest($1::text[],"
     " $2::text[]) AS v (authority_id, list)) v USING (authority_id, list)"
     " ORDER BY 1, 2 FOR UPDATE OF l"},
    {"list_set", /* set-based (rowbuf.h) */
     "UPDATE queue_list l SET last_number = v.last::bigint,"
     " active = v.active::bigint FROM unnest($1::text[], $2::text[],"
     " $3::text[], $4::text[]) AS v (authority_id, list, last, active)"
     " WHERE l.authority_id = v.authority_id AND l.list = v.list"},
    {"entry_state", /* the batch's registrations, in order, read after
      * their lists are locked: numbered already (a replay after a crash:
      * the number stands)? does the person hold a place in the list (a
      * second registration keeps it)? how many active entries were
      * accepted after it (its rank is the active count minus those,
      * usually none; ORDER BY pins the generic plan to the list-order
      * index, which has them at its end) */
     "SELECT x.numbered IS NOT NULL,"
     " h.number, h.accepted_seq, (SELECT count(*) FROM (SELECT 1"
     " FROM queue_entry o WHERE o.authority_id = v.auth AND o.list = v.list"
     " AND o.status = 'active' AND o.accepted_seq > v.seq::bigint"
     " ORDER BY o.accepted_seq) later)"
     " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
     " $5::text[]) WITH ORDINALITY AS v (auth, list, app, iin, seq, n)"
     " LEFT JOIN LATERAL (SELECT true AS numbered FROM queue_entry"
     " WHERE application_id = v.app LIMIT 1) x ON true"
     " LEFT JOIN LATERAL (SELECT number, accepted_seq FROM queue_entry"
     " WHERE authority_id = v.auth AND list = v.list"
     " AND applicant_iin = v.iin AND status = 'active' LIMIT 1) h ON true"
     " ORDER BY v.n"},
    {"entry_put", /* set-based: new entries with their change-log rows;
                     registered_at is when they are written, just before
                     the commit (not the batch's start: the view's settle
                     window, VIEW_SETTLE_S, counts from it) */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[]) AS v (auth, list,"
     " number, app, iin, seq, position)),"
     " e AS (INSERT INTO queue_entry (authority_id, list, number,"
     " application_id, applicant_iin, accepted_seq,"
     " position_at_registration, registered_at) SELECT auth, list,"
     " number::bigint, app, iin, seq::bigint, position::bigint,"
     " clock_timestamp() FROM v)"
     " INSERT INTO queue_change (authority_id, list, kind, accepted_seq,"
     " application_id) SELECT auth, list, 'registered', seq::bigint, app"
     " FROM v"},
    {"entry_remove",
     "SELECT o_number, o_position, o_application_id"
     " FROM queue_remove($1, $2, $3, $4, $5::date, $6)"},
    {"entry_history_base",
     "SELECT e.application_id, e.accepted_seq,"
     " e.position_at_registration, c.id, extract(epoch FROM c.at)::bigint,"
     " e.number FROM queue_entry e JOIN queue_change c"
     " ON c.application_id = e.application_id AND c.kind = 'registered'"
     " WHERE e.authority_id = $1 AND e.list = $2 AND e.applicant_iin = $3"
     " ORDER BY e.registered_at DESC LIMIT 1"},
    {"entry_history_changes",
     "SELECT kind, reason, extract(epoch FROM at)::bigint,"
     " application_id = $4 FROM queue_change"
     " WHERE authority_id = $1 AND list = $2 AND id > $3"
     " AND (accepted_seq < $5 OR application_id = $4) ORDER BY id"},
    {"list_lengths",
     "SELECT authority_id, list, count(*) FILTER (WHERE status = 'active')"
     " FROM queue_entry GROUP BY 1, 2"},
    {"entry_position",
     "SELECT count(*) FROM queue_entry WHERE authority_id = $1"
     " AND list = $2 AND status = 'active' AND accepted_seq <= $3"},
    {"entry_lookup", /* the number, the position, and whether the entry
                        is old enough that the view must have it */
     "SELECT e.number, (SELECT count(*) FROM queue_entry o"
     " WHERE o.authority_id = e.authority_id AND o.list = e.list"
     " AND o.status = 'active' AND o.accepted_seq <= e.accepted_seq),"
     " e.registered_at < now() - make_interval(secs => "
     VIEW_SETTLE_S ")"
     " FROM queue_entry e WHERE e.authority_id = $1 AND e.list = $2"
     " AND e.applicant_iin = $3 AND e.status = 'active'"},
    {NULL, NULL},
};

static service_t svc;
static kredis_t *redis_writer;          /* consumer thread only */
static struct queue_view_entry pending[MAX_PENDING];
static int npending;
/* the batch's QueueNumberAssigned events, sent before its commit */
static rowbuf_t *events;
/* the lists the open batch numbers in: their counters, locked */
#define MAX_LISTS 256
static struct batch_list {
    char authority_id[64], list[32];
    unsigned long long last_number, active;
} lists[MAX_LISTS];
static int nlists;
static rowbuf_t *list_rows;
/* the batch's registrations as read before its handlers (prepare), and
 * what they became; its new entries, written before the commit */
static struct reg {
    uint64_t seq;                   /* of the DecisionMade */
    char authority_id[64], list[32], iin[13], application_id[64];
    uint64_t accepted_seq;
    bool numbered;                  /* the application has its entry */
    bool holds;                     /* the person has a place already */
    uint64_t held_number, held_seq;
    uint64_t later;                 /* active entries accepted after it */
    bool fresh;                     /* numbered by this batch */
    uint64_t number;
} *regs;
static int nregs, regs_cap;
static rowbuf_t *entries;

/* A registration the batch can number: registered, with its list and
 * order (anything else is the handler's to skip or reject). */
static bool registrable(const Kezek__DecisionMade *d)
{
    return d->registered && strlen(d->application_id) < 64 &&
           d->authority_id[0] &&
           strlen(d->authority_id) < 64 && d->list[0] &&
           strlen(d->list) < 32 && d->accepted_seq != 0 &&
           strlen(d->applicant_iin) == 12;
}

/* Locks the lists of the registrations (created if new) and reads their
 * counters: one round trip for the batch. */
static bool lock_lists(PGconn *conn)
{
    rowbuf_t *add = rowbuf_new("list_add", 2), *lock = NULL;
    bool ok = add && (lock = rowbuf_new("list_lock", 2)) != NULL;
    for (int i = 0; ok && i < nregs; i++) {
        const char *p[2] = {regs[i].authority_id, regs[i].list};
        ok = rowbuf_add(add, conn, NULL, p) && rowbuf_add(lock, conn, NULL, p);
    }
    PGresult *r = ok && rowbuf_flush(add, conn) ? rowbuf_run(lock, conn)
                                                : NULL;
    ok = r && PQntuples(r) <= MAX_LISTS;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        struct batch_list *l = &lists[nlists++];
        snprintf(l->authority_id, sizeof(l->authority_id), "%s",
                 PQgetvalue(r, i, 0));
        snprintf(l->list, sizeof(l->list), "%s", PQgetvalue(r, i, 1));
        l->last_number = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        l->active = strtoull(PQgetvalue(r, i, 3), NULL, 10);
    }
    PQclear(r);
    rowbuf_destroy(&add);
    rowbuf_destroy(&lock);
    return ok;
}

/* Reads what each registration finds in its (locked) list. */
static bool read_states(PGconn *conn)
{
    rowbuf_t *rb = rowbuf_new("entry_state", 5);
    bool ok = rb != NULL;
    for (int i = 0; ok && i < nregs; i++) {
        char seq[24];
        snprintf(seq, sizeof(seq), "%llu",
                 (unsigned long long)regs[i].accepted_seq);
        const char *p[5] = {regs[i].authority_id, regs[i].list,
                            regs[i].application_id, regs[i].iin, seq};
        ok = rowbuf_add(rb, conn, NULL, p);
    }
    PGresult *r = ok ? rowbuf_run(rb, conn) : NULL;
    ok = r && PQntuples(r) == nregs;
    for (int i = 0; ok && i < nregs; i++) {
        struct reg *g = &regs[i];
        g->numbered = PQgetvalue(r, i, 0)[0] == 't';
        g->holds = !PQgetisnull(r, i, 1);
        g->held_number = strtoull(PQgetvalue(r, i, 1), NULL, 10);
        g->held_seq = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        g->later = strtoull(PQgetvalue(r, i, 3), NULL, 10);
    }
    PQclear(r);
    rowbuf_destroy(&rb);
    return ok;
}

static _Atomic bool view_dirty = true;  /* rebuild before trusting it */
static metric_t *m_numbers, *m_view_fail, *m_fallback, *m_removals,
    *m_drift;

/* Gathers QueueNumberAssigned for the batch's events. */
static bool number_assigned(PGconn *conn, const Kezek__DecisionMade *d,
                            uint64_t number, uint64_t position,
                            uint64_t accepted_seq)
{
    Kezek__QueueNumberAssigned q = KEZEK__QUEUE_NUMBER_ASSIGNED__INIT;
    q.application_id = d->application_id;
    q.authority_id = d->authority_id;
    q.list = d->list;
    q.number = number;
    q.position = position;
    q.accepted_seq = accepted_seq;
    q.applicant_iin = d->applicant_iin;
    q.assigned_at_us = now_us();
    return outbox_gather(events, conn, PRODUCER,
                         KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED,
                         d->application_id, &q.base);
}

/* Emits QueueNumberAssigned for an existing entry of the person. */
static enum handle_rc announce(PGconn *conn, Kezek__DecisionMade *d,
                               uint64_t number, uint64_t seq)
{
    char seq_s[24];
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    const char *p[3] = {d->authority_id, d->list, seq_s};
    PGresult *r = pg_run(conn, "entry_position", 3, p);
    if (!r)
        return HANDLE_ERROR;
    uint64_t position = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return number_assigned(conn, d, number, position, seq) ? HANDLE_OK
                                                           : HANDLE_ERROR;
}

/* Before the handlers: the batch's registrations, their lists locked
 * and their places read — two round trips for the batch instead of two
 * per registration. */
static bool prepare(void *ctx, PGconn *conn, const event_t *evs, int n)
{
    (void)ctx;
    nregs = 0;
    nlists = 0;
    if (n > regs_cap) {
        struct reg *g = realloc(regs, (size_t)n * sizeof(*regs));
        if (!g)
            return false;
        regs = g;
        regs_cap = n;
    }
    for (int i = 0; i < n; i++) {
        if (evs[i].type != KEZEK__EVENT_TYPE__DECISION_MADE)
            continue;
        Kezek__DecisionMade *d = kezek__decision_made__unpack(
            NULL, evs[i].payload_len, evs[i].payload);
        if (d && registrable(d)) {
            struct reg *g = &regs[nregs++];
            memset(g, 0, sizeof(*g));
            g->seq = evs[i].seq;
            snprintf(g->authority_id, sizeof(g->authority_id), "%s",
                     d->authority_id);
            snprintf(g->list, sizeof(g->list), "%s", d->list);
            snprintf(g->iin, sizeof(g->iin), "%s", d->applicant_iin);
            snprintf(g->application_id, sizeof(g->application_id), "%s",
                     d->application_id);
            g->accepted_seq = d->accepted_seq;
        }
        if (d)
            kezek__decision_made__free_unpacked(d, NULL);
    }
    return nregs == 0 || (lock_lists(conn) && read_states(conn));
}

static struct batch_list *find_list(const struct reg *g)
{
    for (int i = 0; i < nlists; i++)
        if (strcmp(lists[i].authority_id, g->authority_id) == 0 &&
            strcmp(lists[i].list, g->list) == 0)
            return &lists[i];
    return NULL;
}

static enum handle_rc assign(void *ctx, PGconn *conn, const event_t *ev,
                             char *why, size_t whylen)
{
    (void)ctx;
    if (ev->type != KEZEK__EVENT_TYPE__DECISION_MADE)
        return HANDLE_OK;
    Kezek__DecisionMade *d =
        kezek__decision_made__unpack(NULL, ev->payload_len, ev->payload);
    if (!d) {
        snprintf(why, whylen, "undecodable DecisionMade");
        return HANDLE_POISON;
    }
    enum handle_rc rc = HANDLE_OK;
    if (!d->registered)
        goto out;
    if (!registrable(d)) {
        snprintf(why, whylen, "DecisionMade lacks authority/list/order");
        rc = HANDLE_POISON;
        goto out;
    }
    struct reg *g = NULL, *holder = NULL;
    for (int i = 0; i < nregs && !g; i++)
        if (regs[i].seq == ev->seq)
            g = &regs[i];
    struct batch_list *bl = g ? find_list(g) : NULL;
    if (!bl) { /* prepare read it, or failed */
        rc = HANDLE_ERROR;
        goto out;
    }
    if (g->numbered)
        goto out;
    /* numbered earlier in this batch: keeps that place, as below */
    uint64_t later = g->later;
    for (struct reg *o = regs; o < g; o++)
        if (o->fresh && strcmp(o->authority_id, g->authority_id) == 0 &&
            strcmp(o->list, g->list) == 0) {
            if (strcmp(o->iin, g->iin) == 0)
                holder = o;
            else if (o->accepted_seq > g->accepted_seq)
                later++;
        }
    if (holder || g->holds) {
        /* its rank counts the batch's new entries too */
        rc = !rowbuf_flush(entries, conn) ? HANDLE_ERROR
             : holder ? announce(conn, d, holder->number,
                                 holder->accepted_seq)
                      : announce(conn, d, g->held_number, g->held_seq);
        goto out;
    }
    g->fresh = true;
    g->number = ++bl->last_number;
    bl->active++;
    uint64_t position = bl->active - later;
    char number[24], seq[24], pos[24];
    snprintf(number, sizeof(number), "%llu", (unsigned long long)g->number);
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)g->accepted_seq);
    snprintf(pos, sizeof(pos), "%llu", (unsigned long long)position);
    const char *p[7] = {g->authority_id, g->list, number,
                        g->application_id, g->iin, seq, pos};
    if (!rowbuf_add(entries, conn, NULL, p) ||
        !number_assigned(conn, d, g->number, position, g->accepted_seq)) {
        rc = HANDLE_ERROR;
        goto out;
    }
    if (npending < MAX_PENDING) {
        struct queue_view_entry *e = &pending[npending++];
        snprintf(e->authority_id, sizeof(e->authority_id), "%s",
                 d->authority_id);
        snprintf(e->list, sizeof(e->list), "%s", d->list);
        snprintf(e->iin, sizeof(e->iin), "%s", d->applicant_iin);
        e->number = g->number;
        e->accepted_seq = d->accepted_seq;
    } else {
        view_dirty = true;
    }
out:
    kezek__decision_made__free_unpacked(d, NULL);
    return rc;
}

/* After commit: the view follows the truth, or is marked for rebuild. */
static void committed(void *ctx)
{
    (void)ctx;
    metric_add(m_numbers, (uint64_t)npending);
    if (!view_dirty && npending &&
        !queue_view_put(redis_writer, pending, npending)) {
        view_dirty = true;
        metric_inc(m_view_fail);
    }
    npending = 0;
    /* a dirty view is rebuilt by the watcher alone (one rebuilder) */
}

/* Rebuilds the whole view from Postgres; true when done. */
static bool rebuild_view(PGconn *c, kredis_t *r)
{
    struct queue_view_report rep;
    if (!queue_view_rebuild(c, r, NULL, false, &rep))
        return false;
    log_info("queue.view_rebuilt", "%ld lists, %ld entries", rep.lists,
             rep.entries);
    return true;
}

static void rolled_back(void *ctx)
{
    (void)ctx;
    npending = 0;
    nlists = 0;
    nregs = 0;
    rowbuf_clear(entries);
    rowbuf_clear(events);
    rowbuf_clear(list_rows);
}

/* Before the commit: the lists' counters and the batch's
 * QueueNumberAssigned, one statement each. */
static bool flush(void *ctx, PGconn *conn)
{
    (void)ctx;
    bool ok = true;
    for (int i = 0; ok && i < nlists; i++) {
        char last[24], active[24];
        snprintf(last, sizeof(last), "%llu", lists[i].last_number);
        snprintf(active, sizeof(active), "%llu", lists[i].active);
        const char *v[4] = {lists[i].authority_id, lists[i].list, last,
                            active};
        ok = rowbuf_add(list_rows, conn, NULL, v);
    }
    nlists = 0;
    nregs = 0;
    ok = rowbuf_flush(entries, conn) && ok;
    ok = rowbuf_flush(list_rows, conn) && ok;
    /* last: its events take their seqs till the commit (outbox.h) */
    return outbox_log_flush(events, conn) && ok;
}

/* The common front of the entry endpoints: token, path checks and who
 * may see the entry. False after replying with the error. */
static bool entry_request(const http_req_t *req, http_resp_t *resp,
                          principal_t *who)
{
    enum auth_rc auth = auth_check(svc.pool, req, who);
    const char *authority = req->params[0], *list = req->params[1],
               *iin = req->params[2];
    bool list_ok = queue_list_known(list);
    const char *citizen = http_header(req, "X-Citizen-IIN");
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
    } else if (!iin_valid(iin, NULL)) {
        http_reply_error(resp, 400, "invalid_iin", "not a valid IIN", NULL);
    } else if (!list_ok || strlen(authority) > 63) {
        http_reply_error(resp, 400, "invalid_field",
                         "list: wwii, vulnerable, public_sector or "
                         "emergency_dwelling",
                         json_pack("{s:s}", "field", "list"));
    } else if (who->kind == PRINCIPAL_OFFICE &&
               strcmp(who->id, authority) != 0) {
        http_reply_error(resp, 403, "forbidden",
                         "an office sees only its own lists", NULL);
    } else if (who->kind == PRINCIPAL_PORTAL &&
               (!citizen || strcmp(citizen, iin) != 0)) {
        http_reply_error(resp, 403, "forbidden",
                         "a citizen sees only their own position "
                         "(X-Citizen-IIN)", NULL);
    }
    return resp->status == 0;
}

/* A pooled connection, or NULL after replying 503. */
static PGconn *entry_db(http_resp_t *resp)
{
    char err[256];
    PGconn *c = pgpool_acquire(svc.pool, err, sizeof(err));
    if (!c)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    return c;
}

/* Each HTTP worker keeps its own Redis connection, closed when the
 * worker ends. */
static pthread_key_t redis_key;
static pthread_once_t redis_once = PTHREAD_ONCE_INIT;

static void redis_free(void *r)
{
    kredis_t *k = r;
    kredis_destroy(&k);
}

static void redis_key_init(void)
{
    pthread_key_create(&redis_key, redis_free);
}

static kredis_t *worker_redis(void)
{
    pthread_once(&redis_once, redis_key_init);
    kredis_t *r = pthread_getspecific(redis_key);
    if (!r) {
        r = kredis_new(svc.redis_addr);
        pthread_setspecific(redis_key, r);
    }
    return r;
}

/* GET /v1/queue/{authority}/{list}/entries/{iin} */
/* readyz: Redis answers too (look-ups still answer from Postgres when it
 * does not, but the edge should prefer an instance whose view is up) */
static bool redis_ready(service_t *s, char *detail, size_t len)
{
    (void)s;
    redisReply *r = kredis_cmd(worker_redis(), "PING");
    bool ok = r != NULL;
    freeReplyObject(r);
    if (!ok)
        snprintf(detail, len, "redis unreachable");
    return ok;
}

static void get_entry(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    if (!entry_request(req, resp, &who))
        return;
    const char *authority = req->params[0], *list = req->params[1],
               *iin = req->params[2];
    /* Redis first, when the view is known good; the truth otherwise. */
    long long number = -1, position = -1;
    bool redis_answered = false;
    const char *source = "postgres";
    char as_of[26];
    kredis_t *r = view_dirty ? NULL : worker_redis();
    if (r) {
        /* one round trip: rank, number and the view's age */
        redisReply *rank = NULL, *num = NULL, *at = NULL;
        redisContext *rc = kredis_ctx(r);
        if (rc) {
            redisAppendCommand(rc, "ZRANK kezek:q:%s:%s %s", authority, list,
                               iin);
            redisAppendCommand(rc, "HGET kezek:qn:%s:%s %s", authority, list,
                               iin);
            redisAppendCommand(rc, "GET kezek:q:as_of");
            if (redisGetReply(rc, (void **)&rank) != REDIS_OK ||
                redisGetReply(rc, (void **)&num) != REDIS_OK ||
                redisGetReply(rc, (void **)&at) != REDIS_OK)
                kredis_failed(r);
        }
        redis_answered = rank != NULL && at != NULL;
        if (rank && num && at && rank->type == REDIS_REPLY_INTEGER &&
            num->type == REDIS_REPLY_STRING &&
            at->type == REDIS_REPLY_STRING) {
            position = rank->integer + 1;
            number = atoll(num->str);
            source = "redis";
            almaty_timestamp(atoll(at->str), as_of);
        }
        if (rank)
            freeReplyObject(rank);
        if (num)
            freeReplyObject(num);
        if (at)
            freeReplyObject(at);
    }
    PGconn *c = NULL;
    if (number < 0) {
        metric_inc(m_fallback);
        if (!(c = entry_db(resp)))
            return;
        const char *p[3] = {authority, list, iin};
        PGresult *res = pg_run(c, "entry_lookup", 3, p);
        if (!res) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
            pgpool_release(svc.pool, c);
            return;
        }
        if (PQntuples(res) == 1) {
            number = atoll(PQgetvalue(res, 0, 0));
            position = atoll(PQgetvalue(res, 0, 1));
            /* Redis answered without an entry the truth has had for a
             * while: the view drifted (e.g. Redis restarted empty);
             * repair it. A younger entry may only be on its way (the
             * batch writes the view just after its commit): a look-up
             * in that moment must not send every look-up to Postgres
             * for a rebuild; the periodic verify still checks it. */
            if (!view_dirty && redis_answered &&
                strcmp(PQgetvalue(res, 0, 2), "t") == 0)
                view_dirty = true;
        }
        PQclear(res);
        almaty_timestamp(now_us() / 1000000, as_of);
        pgpool_release(svc.pool, c);
    }
    if (number < 0) {
        http_reply_error(resp, 404, "not_found",
                         "no active entry for this person in this list",
                         NULL);
        return;
    }
    http_reply_json(resp, 200,
                    json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "number",
                              (json_int_t)number, "position",
                              (json_int_t)position, "list", list,
                              "authority_id", authority, "as_of", as_of,
                              "source", source));
    audit_reply(resp, who.text, http_purpose(req, "queue_position"),
                "queue_entry", iin);
}

/* POST /v1/queue/{authority}/{list}/entries/{iin}/removal — the office
 * of the authority removes an entry; those behind move up (p.5). */
static void post_removal(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    if (!entry_request(req, resp, &who))
        return;
    PGconn *c = entry_db(resp);
    if (!c)
        return;
    json_t *body = NULL;
    if (who.kind != PRINCIPAL_OFFICE) {
        http_reply_error(resp, 403, "forbidden",
                         "only the office of the authority removes entries",
                         NULL);
        goto out;
    }
    body = http_json_body(req, resp);
    if (!body)
        goto out;
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const char *on = json_string_value(json_object_get(body, "date"));
    kdate_t d;
    if (!queue_removal_reason_known(reason)) {
        http_reply_error(resp, 400, "invalid_field",
                         "reason: housing_provided, moved_away, "
                         "false_documents, died or own_request",
                         json_pack("{s:s}", "field", "reason"));
        goto out;
    }
    if (!kdate_parse(on, &d) ||
        kdate_to_days(d) > kdate_to_days(almaty_date(now_us() / 1000000))) {
        http_reply_error(resp, 400, "invalid_field",
                         "date: YYYY-MM-DD, not in the future",
                         json_pack("{s:s}", "field", "date"));
        goto out;
    }
    const char *p[6] = {req->params[0], req->params[1], req->params[2],
                        reason, on, who.text};
    PGresult *r = pg_run(c, "entry_remove", 6, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        goto out;
    }
    if (PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found",
                         "no active entry for this person in this list",
                         NULL);
    } else {
        metric_inc(m_removals);
        struct queue_view_entry e = {0};
        snprintf(e.authority_id, sizeof(e.authority_id), "%s",
                 req->params[0]);
        snprintf(e.list, sizeof(e.list), "%s", req->params[1]);
        snprintf(e.iin, sizeof(e.iin), "%s", req->params[2]);
        if (!queue_view_remove(worker_redis(), &e))
            view_dirty = true;
        log_info("queue.removed", "application %s left %s/%s: %s",
                 PQgetvalue(r, 0, 2), req->params[0], req->params[1],
                 reason);
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:I, s:I, s:s, s:s}", "application_id",
            PQgetvalue(r, 0, 2), "number",
            (json_int_t)atoll(PQgetvalue(r, 0, 0)), "last_position",
            (json_int_t)atoll(PQgetvalue(r, 0, 1)), "reason", reason,
            "date", on));
    }
    PQclear(r);
out:
    json_decref(body);
    pgpool_release(svc.pool, c);
}

/* GET …/entries/{iin}/history — every change of the entry's position
 * with its cause, derived from the list's change log. */
static void get_history(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    principal_t who;
    if (!entry_request(req, resp, &who))
        return;
    PGconn *c = entry_db(resp);
    if (!c)
        return;
    const char *p[3] = {req->params[0], req->params[1], req->params[2]};
    PGresult *base = pg_run(c, "entry_history_base", 3, p);
    PGresult *ch = NULL;
    if (base && PQntuples(base) == 1) {
        const char *q[5] = {req->params[0], req->params[1],
                            PQgetvalue(base, 0, 3), PQgetvalue(base, 0, 0),
                            PQgetvalue(base, 0, 1)};
        ch = pg_run(c, "entry_history_changes", 5, q);
    }
    if (!base || (PQntuples(base) == 1 && !ch)) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (PQntuples(base) == 0) {
        http_reply_error(resp, 404, "not_found",
                         "this person was never in this list", NULL);
    } else {
        char at[26];
        long long pos = atoll(PQgetvalue(base, 0, 2));
        json_t *h = json_array();
        almaty_timestamp(atoll(PQgetvalue(base, 0, 4)), at);
        json_array_append_new(h, json_pack("{s:s, s:n, s:I, s:s}", "at", at,
                              "from", "to", (json_int_t)pos, "cause",
                              "registered"));
        for (int i = 0; i < PQntuples(ch); i++) {
            bool own = PQgetvalue(ch, i, 3)[0] == 't';
            bool removed = strcmp(PQgetvalue(ch, i, 0), "removed") == 0;
            almaty_timestamp(atoll(PQgetvalue(ch, i, 2)), at);
            json_t *row = json_pack("{s:s, s:I}", "at", at, "from",
                                    (json_int_t)pos);
            if (own) {
                json_object_set_new(row, "to", json_null());
                json_object_set_new(row, "cause", json_string("removed"));
            } else {
                pos += removed ? -1 : 1;
                json_object_set_new(row, "to", json_integer(pos));
                json_object_set_new(row, "cause", json_string(
                    removed ? "removal_ahead" : "late_registration_ahead"));
            }
            if (removed)
                json_object_set_new(row, "reason",
                                    json_string(PQgetvalue(ch, i, 1)));
            json_array_append_new(h, row);
        }
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:s, s:I, s:o}", "authority_id", req->params[0], "list",
            req->params[1], "number",
            (json_int_t)atoll(PQgetvalue(base, 0, 5)), "history", h));
        audit_reply(resp, who.text, http_purpose(req, "queue_history"),
                    "queue_history", req->params[2]);
    }
    PQclear(base);
    PQclear(ch);
    pgpool_release(svc.pool, c);
}

/* Every verify_seconds (300: a pass reads every list whole, seconds of
 * CPU at a million entries): list lengths, and the drift a verify finds
 * (repairing a view known to be dirty). A list written just after the
 * verify's snapshot differs from it for a moment (Redis follows each
 * commit; the lists written just before are left to a later pass):
 * drift is acted on when a second look, 10 s later, still finds it — a
 * rebuild sends every look-up to Postgres meanwhile. */
static void *watch(void *arg)
{
    (void)arg;
    long every;
    if (!service_int(&svc, "verify_seconds", 300, 1, 86400, &every))
        every = 300;
    kredis_t *r = kredis_new(svc.redis_addr);
    PGconn *c = NULL;
    int drifted = 0; /* verifies in a row that found drift */
    for (long tick = every * 10 - 20; !service_stop; tick++) {
        usleep(100000);
        if (tick % (every * 10) != 0 && !(view_dirty && tick % 20 == 0) &&
            !(drifted && tick % 100 == 0))
            continue;
        if (pg_lost(c)) {
            if (c)
                PQfinish(c);
            char err[256];
            c = pg_connect(svc.conninfo, queue_stmts, err, sizeof(err));
            if (!c)
                continue;
        }
        PGresult *res = pg_run(c, "list_lengths", 0, NULL);
        for (int i = 0; res && i < PQntuples(res); i++) {
            char l[160], a[64], ls[64];
            snprintf(l, sizeof(l), "authority=\"%s\",list=\"%s\"",
                     metrics_label_escape(a, sizeof(a), PQgetvalue(res, i, 0)),
                     metrics_label_escape(ls, sizeof(ls),
                                          PQgetvalue(res, i, 1)));
            metric_set(metrics_gauge("kezek_queue_list_length",
                                     "Active entries per list", l),
                       atof(PQgetvalue(res, i, 2)));
        }
        PQclear(res);
        struct queue_view_report rep;
        if (view_dirty) {
            /* cleared first: a write failing during the rebuild sets it
             * again and the next tick repairs that too */
            view_dirty = false;
            if (!rebuild_view(c, r))
                view_dirty = true;
            else /* as Postgres has it */
                metric_set(m_drift, 0);
        } else if (queue_view_verify_settled(c, r, &rep)) {
            metric_set(m_drift, (double)rep.drift);
            drifted = rep.drift > 0 ? drifted + 1 : 0;
            if (drifted >= 2) {
                log_warn("queue.view_repair", "%ld lists still differ: "
                         "rebuilding the view", rep.drift);
                view_dirty = true;
                drifted = 0;
            }
        }
    }
    kredis_destroy(&r);
    if (c)
        PQfinish(c);
    return NULL;
}

static const struct http_route routes[] = {
    {"GET", "/v1/queue/*/*/entries/*", get_entry, NULL},
    {"POST", "/v1/queue/*/*/entries/*/removal", post_removal, NULL},
    {"GET", "/v1/queue/*/*/entries/*/history", get_history, NULL},
    {NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc = service_init(&svc, "queue", argc, argv,
        "Numbers registrations per authority and list, keeps the Redis\n"
        "view of positions and answers position look-ups.\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    m_numbers = metrics_counter("kezek_queue_numbers_assigned_total",
                                "Queue numbers given (p.5)", NULL);
    m_view_fail = metrics_counter("kezek_queue_view_write_failures_total",
        "Redis writes that failed after commit (view rebuilt later)", NULL);
    m_fallback = metrics_counter("kezek_queue_lookup_fallbacks_total",
        "Position look-ups answered from Postgres", NULL);
    m_removals = metrics_counter("kezek_queue_removals_total",
        "Entries removed from their list (p.5 lifecycle)", NULL);
    m_drift = metrics_gauge("kezek_queue_view_drift_lists",
        "Lists whose Redis view differed from Postgres at the last verify",
        NULL);
    redis_writer = kredis_new(svc.redis_addr);
    svc.ready = redis_ready;
    if (service_http(&svc, 8082, 4, queue_stmts, routes, NULL) != 0) {
        service_fini(&svc);
        return 1;
    }
    { /* the view is rebuilt at start, before anything reads it */
        char err[256];
        PGconn *c = pg_connect(svc.conninfo, NULL, err, sizeof(err));
        if (c && kredis_ctx(redis_writer) && rebuild_view(c, redis_writer))
            view_dirty = false;
        if (c)
            PQfinish(c);
    }
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch, NULL);
    struct consumer_cfg cc = {
        .name = "queue", .conninfo = svc.conninfo, .stmts = queue_stmts,
        .bus_endpoints = svc.bus_endpoints, .batch_size = svc.batch_size,
        .linger_ms = svc.batch_linger_ms,
        .idle_poll_ms = 250, .handle = assign, .prepare = prepare,
        .flush = flush,
        .committed = committed, .rolled_back = rolled_back,
    };
    events = rowbuf_new("event_put", OUTBOX_PUT_COLS);
    list_rows = rowbuf_new("list_set", 4);
    entries = rowbuf_new("entry_put", 7);
    rc = events && list_rows && entries ? consumer_run(&cc, &service_stop)
                                        : -1;
    rowbuf_destroy(&events);
    rowbuf_destroy(&list_rows);
    rowbuf_destroy(&entries);
    free(regs);
    service_stop = 1;
    pthread_join(watcher, NULL);
    kredis_destroy(&redis_writer);
    service_fini(&svc);
    return rc == 0 ? 0 : 1;
}
