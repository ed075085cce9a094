/* kezek-queue's HTTP API: a person's place in a list, its removal and
 * its history (/v1/queue/{authority}/{list}/entries/{iin}…). */
#include "queue.h"

#include "audit.h"
#include "auth.h"
#include "calendar.h"
#include "iin.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The common front of the entry endpoints: token, path checks and who
 * may see the entry. False after replying with the error. */
static bool entry_request(struct queue *q, const http_req_t *req,
                          http_resp_t *resp, principal_t *who)
{
    enum auth_rc auth = auth_check(q->svc.pool, req, who);
    const char *authority = req->params[PATH_AUTHORITY],
               *list = req->params[PATH_LIST], *iin = req->params[PATH_IIN];
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
    } else if (who->kind != PRINCIPAL_OFFICE &&
               who->kind != PRINCIPAL_CENTRE &&
               who->kind != PRINCIPAL_PORTAL && who->kind != PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden", "a person's entry is read "
                         "by the office, the centre, the portal for the "
                         "citizen and operators; a supervisor reads whole "
                         "lists (…/entries)", NULL);
    } else if (who->kind == PRINCIPAL_PORTAL &&
               (!citizen || strcmp(citizen, iin) != 0)) {
        http_reply_error(resp, 403, "forbidden",
                         "a citizen sees only their own position "
                         "(X-Citizen-IIN)", NULL);
    }
    return resp->status == 0;
}

/* A pooled connection, or NULL after replying 503. */
PGconn *queue_db(struct queue *q, http_resp_t *resp)
{
    char err[256];
    PGconn *c = pgpool_acquire(q->svc.pool, err, sizeof(err));
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

kredis_t *queue_worker_redis(const char *addr)
{
    pthread_once(&redis_once, redis_key_init);
    kredis_t *r = pthread_getspecific(redis_key);
    if (!r) {
        r = kredis_new(addr);
        pthread_setspecific(redis_key, r);
    }
    return r;
}

/* readyz: Redis answers too (look-ups still answer from Postgres when it
 * does not, but the edge should prefer an instance whose view is up) */
bool queue_redis_ready(service_t *s, char *detail, size_t len)
{
    redisReply *r = kredis_cmd(queue_worker_redis(s->redis_addr), "PING");
    bool ok = r != NULL;
    freeReplyObject(r);
    if (!ok)
        snprintf(detail, len, "redis unreachable");
    return ok;
}

/* What a position look-up found. */
struct lookup {
    long long number, position;     /* -1: no entry (yet) */
    bool redis_answered;            /* the view answered, entry or not */
    const char *source;
    char as_of[26];
};

/* The view's answer, in one round trip: rank, number and the view's
 * age. */
static void lookup_redis(kredis_t *r, const char *authority,
                         const char *list, const char *iin,
                         struct lookup *l)
{
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
    l->redis_answered = rank != NULL && at != NULL;
    if (rank && num && at && rank->type == REDIS_REPLY_INTEGER &&
        num->type == REDIS_REPLY_STRING && at->type == REDIS_REPLY_STRING) {
        l->position = rank->integer + 1;
        l->number = atoll(num->str);
        l->source = "redis";
        almaty_timestamp(atoll(at->str), l->as_of);
    }
    freeReplyObject(rank); /* NULL: nothing */
    freeReplyObject(num);
    freeReplyObject(at);
}

/* The truth's answer; false after replying 503. */
static bool lookup_postgres(struct queue *q, const char *authority,
                            const char *list, const char *iin,
                            struct lookup *l, http_resp_t *resp)
{
    metric_inc(q->m_fallback);
    PGconn *c = queue_db(q, resp);
    if (!c)
        return false;
    const char *p[3] = {authority, list, iin};
    PGresult *res = pg_run(c, "entry_lookup", 3, p);
    if (!res) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        pgpool_release(q->svc.pool, c);
        return false;
    }
    if (PQntuples(res) == 1) {
        l->number = atoll(PQgetvalue(res, 0, ENTRY_LOOKUP_NUMBER));
        l->position = atoll(PQgetvalue(res, 0, ENTRY_LOOKUP_POSITION));
        /* Redis answered without an entry the truth has had for a
         * while: the view drifted (e.g. Redis restarted empty);
         * repair it. A younger entry may only be on its way (the
         * batch writes the view just after its commit): a look-up
         * in that moment must not send every look-up to Postgres
         * for a rebuild; the periodic verify still checks it. */
        if (!q->view_dirty && l->redis_answered &&
            strcmp(PQgetvalue(res, 0, ENTRY_LOOKUP_SETTLED), "t") == 0)
            q->view_dirty = true;
    }
    PQclear(res);
    almaty_timestamp(now_us() / 1000000, l->as_of);
    pgpool_release(q->svc.pool, c);
    return true;
}

/* GET /v1/queue/{authority}/{list}/entries/{iin} */
static void get_entry(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct queue *q = ctx;
    principal_t who;
    if (!entry_request(q, req, resp, &who))
        return;
    const char *authority = req->params[PATH_AUTHORITY],
               *list = req->params[PATH_LIST], *iin = req->params[PATH_IIN];
    /* Redis first, when the view is known good; the truth otherwise. */
    struct lookup l = {.number = -1, .position = -1, .source = "postgres"};
    kredis_t *r = q->view_dirty ? NULL
                                : queue_worker_redis(q->svc.redis_addr);
    if (r)
        lookup_redis(r, authority, list, iin, &l);
    if (l.number < 0 && !lookup_postgres(q, authority, list, iin, &l, resp))
        return;
    if (l.number < 0) {
        http_reply_error(resp, 404, "not_found",
                         "no active entry for this person in this list",
                         NULL);
        return;
    }
    json_t *out = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "number",
                            (json_int_t)l.number, "position",
                            (json_int_t)l.position, "list", list,
                            "authority_id", authority, "as_of", l.as_of,
                            "source", l.source);
    json_t *wait = queue_expected_wait(q, authority, list, l.position);
    if (wait) /* never a promise: the method and its basis with it */
        json_object_set_new(out, "expected_wait", wait);
    http_reply_json(resp, 200, out);
    audit_reply(resp, who.text, http_purpose(req, "queue_position"),
                "queue_entry", iin);
}

/* The cause of a change of the list as the history names it: the
 * entry's own (from the entry's point of view) or one ahead of it. */
static const char *cause_name(bool own, bool removed, const char *cause)
{
    bool moved = strcmp(cause, "list_change") == 0 ||
                 strcmp(cause, "transfer") == 0;
    if (own)
        return moved ? cause : "removed";
    if (removed)
        return moved ? "moved_away_ahead" : "removal_ahead";
    return moved ? "moved_in_ahead" : "late_registration_ahead";
}

/* A JSON text of the database, or null when there is none. */
static json_t *json_of(const PGresult *r, int row, int col)
{
    json_t *j = PQgetisnull(r, row, col)
                    ? NULL
                    : json_loads(PQgetvalue(r, row, col), 0, NULL);
    return j ? j : json_null();
}

/* The entry's position from its registration (base: entry_history_base)
 * through the list's changes since (ch: entry_history_changes), each
 * with its cause; a move names the place at its other end. */
static json_t *history(const PGresult *base, const PGresult *ch)
{
    char at[26];
    long long pos = atoll(PQgetvalue(base, 0, ENTRY_HISTORY_BASE_POSITION));
    json_t *h = json_array();
    const char *came = PQgetvalue(base, 0, ENTRY_HISTORY_BASE_CAUSE);
    almaty_timestamp(atoll(PQgetvalue(base, 0, ENTRY_HISTORY_BASE_AT)), at);
    json_t *first = json_pack("{s:s, s:n, s:I, s:s}", "at", at, "from", "to",
                              (json_int_t)pos, "cause",
                              strcmp(came, "decision") == 0 ? "registered"
                                                            : came);
    if (strcmp(came, "decision") != 0)
        json_object_set_new(first, "came_from",
                            json_of(base, 0, ENTRY_HISTORY_BASE_CAME_FROM));
    json_array_append_new(h, first);
    for (int i = 0; i < PQntuples(ch); i++) {
        bool own = PQgetvalue(ch, i, ENTRY_HISTORY_CHANGES_OWN)[0] == 't';
        bool removed = strcmp(PQgetvalue(ch, i, ENTRY_HISTORY_CHANGES_KIND),
                              "removed") == 0;
        const char *cause = PQgetvalue(ch, i, ENTRY_HISTORY_CHANGES_CAUSE);
        almaty_timestamp(atoll(PQgetvalue(ch, i, ENTRY_HISTORY_CHANGES_AT)),
                         at);
        json_t *row = json_pack("{s:s, s:I, s:s}", "at", at, "from",
                                (json_int_t)pos, "cause",
                                cause_name(own, removed, cause));
        if (own) {
            json_object_set_new(row, "to", json_null());
            if (strcmp(cause, "removal") != 0)
                json_object_set_new(row, "went_to", json_of(ch, i,
                    ENTRY_HISTORY_CHANGES_RELATED));
        } else {
            pos += removed ? -1 : 1;
            json_object_set_new(row, "to", json_integer(pos));
        }
        if (removed)
            json_object_set_new(row, "reason", json_string(
                PQgetvalue(ch, i, ENTRY_HISTORY_CHANGES_REASON)));
        json_array_append_new(h, row);
    }
    return h;
}

/* GET …/entries/{iin}/history — every change of the entry's position
 * with its cause, derived from the list's change log. */
static void get_history(const struct entry_call *e, const http_req_t *req,
                        http_resp_t *resp)
{
    const char *authority = req->params[PATH_AUTHORITY],
               *list = req->params[PATH_LIST], *iin = req->params[PATH_IIN];
    const char *p[3] = {authority, list, iin};
    PGresult *base = pg_run(e->c, "entry_history_base", 3, p);
    PGresult *ch = NULL;
    if (base && PQntuples(base) == 1) {
        const char *cp[5] = {
            authority, list,
            PQgetvalue(base, 0, ENTRY_HISTORY_BASE_CHANGE_ID),
            PQgetvalue(base, 0, ENTRY_HISTORY_BASE_APPLICATION_ID),
            PQgetvalue(base, 0, ENTRY_HISTORY_BASE_ACCEPTED_SEQ)};
        ch = pg_run(e->c, "entry_history_changes", 5, cp);
    }
    if (!base || (PQntuples(base) == 1 && !ch)) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (PQntuples(base) == 0) {
        http_reply_error(resp, 404, "not_found",
                         "this person was never in this list", NULL);
    } else {
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:s, s:I, s:o}", "authority_id", authority, "list", list,
            "number",
            (json_int_t)atoll(PQgetvalue(base, 0,
                                         ENTRY_HISTORY_BASE_NUMBER)),
            "history", history(base, ch)));
        audit_reply(resp, e->who.text, http_purpose(req, "queue_history"),
                    "queue_history", iin);
    }
    PQclear(base);
    PQclear(ch);
}

static void with_entry(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    const struct entry_fn *f = req->route_data;
    struct entry_call e = {.q = ctx};
    if (!entry_request(e.q, req, resp, &e.who))
        return;
    e.c = queue_db(e.q, resp);
    if (!e.c)
        return;
    f->fn(&e, req, resp);
    pgpool_release(e.q->svc.pool, e.c);
}

static const struct entry_fn history_fn = {get_history};

const struct http_route queue_routes[] = {
    {"GET", "/v1/queue/*/*/entries", queue_get_entries, NULL},
    {"GET", "/v1/queue/*/*/entries.csv", queue_get_entries_csv, NULL},
    {"GET", "/v1/queue/*/*/entries/*", get_entry, NULL},
    {"POST", "/v1/queue/*/*/entries/*/removal", with_entry,
     &queue_removal_fn},
    {"POST", "/v1/queue/*/*/entries/*/list-change", with_entry,
     &queue_list_change_fn},
    {"POST", "/v1/queue/*/*/entries/*/transfer", with_entry,
     &queue_transfer_fn},
    {"GET", "/v1/queue/*/reverification", queue_get_reverification, NULL},
    {"GET", "/v1/queue/*/*/entries/*/history", with_entry, &history_fn},
    /* public: the transparency log (transparency.c) */
    {"GET", "/v1/transparency", queue_tlog_logs, NULL},
    {"GET", "/v1/transparency/*/sth", queue_tlog_sth, NULL},
    {"GET", "/v1/transparency/*/sth/history", queue_tlog_history, NULL},
    {"GET", "/v1/transparency/*/proof/inclusion", queue_tlog_inclusion,
     NULL},
    {"GET", "/v1/transparency/*/proof/consistency", queue_tlog_consistency,
     NULL},
    {"GET", "/v1/transparency/*/entries", queue_tlog_entries, NULL},
    {NULL, NULL, NULL, NULL},
};
