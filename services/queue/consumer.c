/* kezek-queue's consumer: gives each registration of a batch the next
 * number of its list (p.5); after the commit the view follows.
 *
 * Numbers are gapless per (authority, list) also with several
 * instances: a batch locks the list's row in queue_list when it first
 * numbers in that list, gives the next numbers from it and writes the
 * row back before it commits; the lock is held until then, so two
 * transactions can never take the same or skip a number.
 *
 * Each new entry is also a leaf of its authority's transparency log
 * (domain/tlog.h), whose trees the batch locks after its lists; the
 * leaves, the subtrees they complete and each grown tree's signed head
 * are written with the entries, before the events. */
#include "queue.h"

#include "calendar.h"
#include "outbox.h"
#include "tlog.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING 10000
#define MAX_LISTS 256

/* a list the open batch numbers in: its counters, locked */
struct batch_list {
    char authority_id[64], list[32];
    unsigned long long last_number, active;
};

/* a registration of the batch as read before its handlers (prepare),
 * and what it became */
struct reg {
    uint64_t seq;                   /* of the DecisionMade */
    char authority_id[64], list[32], iin[13], application_id[64];
    uint64_t accepted_seq;
    bool numbered;                  /* the application has its entry */
    bool holds;                     /* the person has a place already */
    uint64_t held_number, held_seq;
    uint64_t later;                 /* active entries accepted after it */
    bool fresh;                     /* numbered by this batch */
    uint64_t number;
};

struct queue_batch {
    struct queue *q;
    kredis_t *redis_writer;         /* borrowed; consumer thread only */
    /* the batch's new entries, for the view once it committed */
    struct queue_view_entry pending[MAX_PENDING];
    int npending;
    /* the batch's QueueNumberAssigned events, sent before its commit */
    rowbuf_t *events;
    /* the lists the open batch numbers in: their counters, locked */
    struct batch_list lists[MAX_LISTS];
    int nlists;
    rowbuf_t *list_rows;
    /* the batch's registrations as read before its handlers (prepare),
     * and what they became; its new entries, written before the commit */
    struct reg *regs;
    int nregs, regs_cap;
    rowbuf_t *entries;
    /* the transparency log's trees of the batch's authorities, locked */
    tlog_writer_t *tlog;
    char today[11];                 /* the leaves' date (Asia/Almaty) */
    int64_t tlog_us;                /* time spent on the log (metric) */
    int tlog_leaves;                /* leaves written by the batch */
};

struct queue_batch *queue_batch_new(struct queue *q,
                                    kredis_t *redis_writer)
{
    struct queue_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->q = q;
    b->redis_writer = redis_writer;
    b->events = rowbuf_new("event_put", OUTBOX_PUT_COLS);
    b->list_rows = rowbuf_new("list_set", LIST_SET_COLS);
    b->entries = rowbuf_new("entry_put", ENTRY_PUT_COLS);
    b->tlog = tlog_writer_new();
    if (!b->events || !b->list_rows || !b->entries || !b->tlog)
        queue_batch_destroy(&b);
    return b;
}

void queue_batch_destroy(struct queue_batch **self_p)
{
    struct queue_batch *b = *self_p;
    if (!b)
        return;
    rowbuf_destroy(&b->events);
    rowbuf_destroy(&b->list_rows);
    rowbuf_destroy(&b->entries);
    tlog_writer_destroy(&b->tlog);
    free(b->regs);
    free(b);
    *self_p = NULL;
}

/* A registration the batch can number: registered, with its list and
 * order, its authority and list fit for a leaf of the log (anything
 * else is the handler's to skip or reject). */
static bool registrable(const Kezek__DecisionMade *d)
{
    return d->registered && strlen(d->application_id) < 64 &&
           tlog_field_ok(d->authority_id) &&
           strlen(d->authority_id) < 64 && tlog_field_ok(d->list) &&
           strlen(d->list) < 32 && d->accepted_seq != 0 &&
           strlen(d->applicant_iin) == 12;
}

/* Locks the lists of the registrations (created if new) and reads their
 * counters: one round trip for the batch. */
static bool lock_lists(struct queue_batch *b, PGconn *conn)
{
    rowbuf_t *add = rowbuf_new("list_add", LIST_KEY_COLS), *lock = NULL;
    bool ok = add && (lock = rowbuf_new("list_lock", LIST_KEY_COLS)) != NULL;
    for (int i = 0; ok && i < b->nregs; i++) {
        const char *p[LIST_KEY_COLS] = {b->regs[i].authority_id,
                                        b->regs[i].list};
        ok = rowbuf_add(add, conn, NULL, p) && rowbuf_add(lock, conn, NULL, p);
    }
    PGresult *r = ok && rowbuf_flush(add, conn) ? rowbuf_run(lock, conn)
                                                : NULL;
    ok = r && PQntuples(r) <= MAX_LISTS;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        struct batch_list *l = &b->lists[b->nlists++];
        snprintf(l->authority_id, sizeof(l->authority_id), "%s",
                 PQgetvalue(r, i, LIST_LOCK_AUTHORITY_ID));
        snprintf(l->list, sizeof(l->list), "%s",
                 PQgetvalue(r, i, LIST_LOCK_LIST));
        l->last_number = strtoull(PQgetvalue(r, i, LIST_LOCK_LAST_NUMBER),
                                  NULL, 10);
        l->active = strtoull(PQgetvalue(r, i, LIST_LOCK_ACTIVE), NULL, 10);
    }
    PQclear(r);
    rowbuf_destroy(&add);
    rowbuf_destroy(&lock);
    return ok;
}

/* Reads what each registration finds in its (locked) list. */
static bool read_states(struct queue_batch *b, PGconn *conn)
{
    rowbuf_t *rb = rowbuf_new("entry_state", ENTRY_STATE_COLS);
    bool ok = rb != NULL;
    for (int i = 0; ok && i < b->nregs; i++) {
        const struct reg *g = &b->regs[i];
        char seq[24];
        snprintf(seq, sizeof(seq), "%llu",
                 (unsigned long long)g->accepted_seq);
        const char *p[ENTRY_STATE_COLS] = {g->authority_id, g->list,
                                           g->application_id, g->iin, seq};
        ok = rowbuf_add(rb, conn, NULL, p);
    }
    PGresult *r = ok ? rowbuf_run(rb, conn) : NULL;
    ok = r && PQntuples(r) == b->nregs;
    for (int i = 0; ok && i < b->nregs; i++) {
        struct reg *g = &b->regs[i];
        g->numbered = PQgetvalue(r, i, ENTRY_STATE_NUMBERED)[0] == 't';
        g->holds = !PQgetisnull(r, i, ENTRY_STATE_HELD_NUMBER);
        g->held_number = strtoull(PQgetvalue(r, i, ENTRY_STATE_HELD_NUMBER),
                                  NULL, 10);
        g->held_seq = strtoull(PQgetvalue(r, i, ENTRY_STATE_HELD_SEQ), NULL,
                               10);
        g->later = strtoull(PQgetvalue(r, i, ENTRY_STATE_LATER), NULL, 10);
    }
    PQclear(r);
    rowbuf_destroy(&rb);
    return ok;
}

/* Locks the transparency log's trees of the registrations' authorities
 * (after their lists: tlog.h's lock order). */
static bool lock_trees(struct queue_batch *b, PGconn *conn)
{
    int64_t t0 = now_us();
    const char **a = malloc((size_t)b->nregs * sizeof(*a));
    if (!a)
        return false;
    for (int i = 0; i < b->nregs; i++)
        a[i] = b->regs[i].authority_id;
    bool ok = tlog_lock(b->tlog, conn, a, b->nregs);
    free(a);
    kdate_format(almaty_date(now_us() / 1000000), b->today);
    b->tlog_us += now_us() - t0;
    return ok;
}

/* Gathers QueueNumberAssigned for the batch's events. */
static bool number_assigned(struct queue_batch *b, PGconn *conn,
                            const Kezek__DecisionMade *d, uint64_t number,
                            uint64_t position, uint64_t accepted_seq)
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
    return outbox_gather(b->events, conn, PRODUCER,
                         KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED,
                         d->application_id, &q.base);
}

/* Emits QueueNumberAssigned for an existing entry of the person. */
static enum handle_rc announce(struct queue_batch *b, PGconn *conn,
                               const Kezek__DecisionMade *d,
                               uint64_t number, uint64_t seq)
{
    char seq_s[24];
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    const char *p[3] = {d->authority_id, d->list, seq_s};
    PGresult *r = pg_run(conn, "entry_position", 3, p);
    if (!r)
        return HANDLE_ERROR;
    uint64_t position = strtoull(PQgetvalue(r, 0, ENTRY_POSITION_POSITION),
                                 NULL, 10);
    PQclear(r);
    return number_assigned(b, conn, d, number, position, seq) ? HANDLE_OK
                                                              : HANDLE_ERROR;
}

/* Before the handlers: the batch's registrations, their lists locked
 * and their places read — two round trips for the batch instead of two
 * per registration. */
bool queue_batch_prepare(void *ctx, PGconn *conn, const event_t *evs, int n)
{
    struct queue_batch *b = ctx;
    b->nregs = 0;
    b->nlists = 0;
    if (n > b->regs_cap) {
        struct reg *g = realloc(b->regs, (size_t)n * sizeof(*b->regs));
        if (!g)
            return false;
        b->regs = g;
        b->regs_cap = n;
    }
    for (int i = 0; i < n; i++) {
        if (evs[i].type != KEZEK__EVENT_TYPE__DECISION_MADE)
            continue;
        Kezek__DecisionMade *d = kezek__decision_made__unpack(
            NULL, evs[i].payload_len, evs[i].payload);
        if (d && registrable(d)) {
            struct reg *g = &b->regs[b->nregs++];
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
    return b->nregs == 0 || (lock_lists(b, conn) && read_states(b, conn) &&
                             lock_trees(b, conn));
}

static struct batch_list *find_list(struct queue_batch *b,
                                    const struct reg *g)
{
    for (int i = 0; i < b->nlists; i++)
        if (strcmp(b->lists[i].authority_id, g->authority_id) == 0 &&
            strcmp(b->lists[i].list, g->list) == 0)
            return &b->lists[i];
    return NULL;
}

/* The leaf of g's registration in its authority's log: *index its
 * index, secret (hex, 65) the key of its commitment. */
static bool registration_leaf(struct queue_batch *b, const struct reg *g,
                              uint64_t *index, char *secret_hex)
{
    int64_t t0 = now_us();
    uint8_t secret[TLOG_SECRET];
    randombytes_buf(secret, sizeof(secret));
    struct tlog_leaf l = {.number = g->number, .seq = g->accepted_seq};
    snprintf(l.authority_id, sizeof(l.authority_id), "%s", g->authority_id);
    snprintf(l.list, sizeof(l.list), "%s", g->list);
    snprintf(l.event, sizeof(l.event), "registered");
    snprintf(l.cause, sizeof(l.cause), "decision");
    snprintf(l.date, sizeof(l.date), "%s", b->today);
    tlog_commit_iin(secret, g->iin, l.commitment);
    sodium_bin2hex(secret_hex, 2 * TLOG_SECRET + 1, secret, sizeof(secret));
    sodium_memzero(secret, sizeof(secret));
    bool ok = tlog_add(b->tlog, &l, index);
    b->tlog_us += now_us() - t0;
    return ok;
}

/* Gives g the next number of its list bl, later of the list's active
 * entries accepted after it: its entry, its leaf and its event join the
 * batch's, its place in the view waits for the commit. */
static enum handle_rc number_new(struct queue_batch *b, PGconn *conn,
                                 const Kezek__DecisionMade *d, struct reg *g,
                                 struct batch_list *bl, uint64_t later)
{
    g->fresh = true;
    g->number = ++bl->last_number;
    bl->active++;
    uint64_t position = bl->active - later;
    char number[24], seq[24], pos[24], leaf[24];
    char secret[2 * TLOG_SECRET + 1];
    uint64_t index;
    if (!registration_leaf(b, g, &index, secret))
        return HANDLE_ERROR;
    snprintf(number, sizeof(number), "%llu", (unsigned long long)g->number);
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)g->accepted_seq);
    snprintf(pos, sizeof(pos), "%llu", (unsigned long long)position);
    snprintf(leaf, sizeof(leaf), "%llu", (unsigned long long)index);
    const char *p[ENTRY_PUT_COLS] = {g->authority_id, g->list, number,
                                     g->application_id, g->iin, seq, pos,
                                     secret, leaf};
    bool added = rowbuf_add(b->entries, conn, NULL, p);
    sodium_memzero(secret, sizeof(secret));
    if (!added ||
        !number_assigned(b, conn, d, g->number, position, g->accepted_seq))
        return HANDLE_ERROR;
    if (b->npending < MAX_PENDING) {
        struct queue_view_entry *e = &b->pending[b->npending++];
        snprintf(e->authority_id, sizeof(e->authority_id), "%s",
                 d->authority_id);
        snprintf(e->list, sizeof(e->list), "%s", d->list);
        snprintf(e->iin, sizeof(e->iin), "%s", d->applicant_iin);
        e->number = g->number;
        e->accepted_seq = d->accepted_seq;
    } else {
        b->q->view_dirty = true;
    }
    return HANDLE_OK;
}

/* The registration d of the batch's event seq: a number of its own, or
 * the place the person holds already. */
static enum handle_rc place(struct queue_batch *b, PGconn *conn,
                            uint64_t seq, const Kezek__DecisionMade *d)
{
    struct reg *g = NULL, *holder = NULL;
    for (int i = 0; i < b->nregs && !g; i++)
        if (b->regs[i].seq == seq)
            g = &b->regs[i];
    struct batch_list *bl = g ? find_list(b, g) : NULL;
    if (!bl) /* prepare read it, or failed */
        return HANDLE_ERROR;
    if (g->numbered)
        return HANDLE_OK;
    /* numbered earlier in this batch: keeps that place, as below */
    uint64_t later = g->later;
    for (struct reg *o = b->regs; o < g; o++)
        if (o->fresh && strcmp(o->authority_id, g->authority_id) == 0 &&
            strcmp(o->list, g->list) == 0) {
            if (strcmp(o->iin, g->iin) == 0)
                holder = o;
            else if (o->accepted_seq > g->accepted_seq)
                later++;
        }
    if (holder || g->holds) {
        /* its rank counts the batch's new entries too */
        return !rowbuf_flush(b->entries, conn) ? HANDLE_ERROR
               : holder ? announce(b, conn, d, holder->number,
                                   holder->accepted_seq)
                        : announce(b, conn, d, g->held_number, g->held_seq);
    }
    return number_new(b, conn, d, g, bl, later);
}

enum handle_rc queue_batch_assign(void *ctx, PGconn *conn,
                                  const event_t *ev, char *why,
                                  size_t whylen)
{
    if (ev->type != KEZEK__EVENT_TYPE__DECISION_MADE)
        return HANDLE_OK;
    Kezek__DecisionMade *d =
        kezek__decision_made__unpack(NULL, ev->payload_len, ev->payload);
    if (!d) {
        snprintf(why, whylen, "undecodable DecisionMade");
        return HANDLE_POISON;
    }
    enum handle_rc rc = HANDLE_OK; /* a refusal: nothing to number */
    if (d->registered && !registrable(d)) {
        snprintf(why, whylen, "DecisionMade lacks authority/list/order");
        rc = HANDLE_POISON;
    } else if (d->registered) {
        rc = place(ctx, conn, ev->seq, d);
    }
    kezek__decision_made__free_unpacked(d, NULL);
    return rc;
}

/* After commit: the view follows the truth, or is marked for rebuild. */
void queue_batch_committed(void *ctx)
{
    struct queue_batch *b = ctx;
    metric_add(b->q->m_numbers, (uint64_t)b->npending);
    if (b->tlog_leaves)
        metric_observe(b->q->m_tlog_s, (double)b->tlog_us / 1e6);
    metric_add(b->q->m_tlog_leaves, (uint64_t)b->tlog_leaves);
    b->tlog_us = 0;
    b->tlog_leaves = 0;
    if (!b->q->view_dirty && b->npending &&
        !queue_view_put(b->redis_writer, b->pending, b->npending)) {
        b->q->view_dirty = true;
        metric_inc(b->q->m_view_fail);
    }
    b->npending = 0;
    /* a dirty view is rebuilt by the watcher alone (one rebuilder) */
}

void queue_batch_rolled_back(void *ctx)
{
    struct queue_batch *b = ctx;
    b->npending = 0;
    b->nlists = 0;
    b->nregs = 0;
    b->tlog_us = 0;
    b->tlog_leaves = 0;
    tlog_reset(b->tlog);
    rowbuf_clear(b->entries);
    rowbuf_clear(b->events);
    rowbuf_clear(b->list_rows);
}

/* Before the commit: the lists' counters, the log's leaves and heads,
 * and the batch's QueueNumberAssigned, one statement each. */
bool queue_batch_flush(void *ctx, PGconn *conn)
{
    struct queue_batch *b = ctx;
    bool ok = true;
    for (int i = 0; ok && i < b->nlists; i++) {
        const struct batch_list *l = &b->lists[i];
        char last[24], active[24];
        snprintf(last, sizeof(last), "%llu", l->last_number);
        snprintf(active, sizeof(active), "%llu", l->active);
        const char *v[LIST_SET_COLS] = {l->authority_id, l->list, last,
                                        active};
        ok = rowbuf_add(b->list_rows, conn, NULL, v);
    }
    b->nlists = 0;
    b->nregs = 0;
    ok = rowbuf_flush(b->entries, conn) && ok;
    ok = rowbuf_flush(b->list_rows, conn) && ok;
    int64_t t0 = now_us();
    int leaves = tlog_pending(b->tlog);
    ok = tlog_write(b->tlog, conn, &b->q->keys) && ok;
    b->tlog_leaves = leaves;
    b->tlog_us += now_us() - t0;
    /* last: its events take their seqs till the commit (outbox.h) */
    return outbox_log_flush(b->events, conn) && ok;
}
