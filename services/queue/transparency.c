/* The transparency log's public endpoints (issue 24; docs/
 * transparency.md; domain/tlog.h): no token, nothing personal, and what
 * cannot change — a proof or the leaves of a signed tree, an old head —
 * may be cached for good.
 *
 *   GET /v1/transparency                          every log's newest head
 *   GET /v1/transparency/{a}/sth                  the newest signed head
 *   GET /v1/transparency/{a}/sth/history?after=&limit=
 *   GET /v1/transparency/{a}/proof/inclusion?leaf_index=&tree_size=
 *   GET /v1/transparency/{a}/proof/consistency?first=&second=
 *   GET /v1/transparency/{a}/entries?start=&end=
 */
#include "queue.h"

#include "tlog.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOREVER "public, max-age=31536000, immutable"
#define FRESH "public, max-age=5"

/* A size or index in the query: an integer 0 … 2^62; false (answered
 * 400) otherwise. */
static bool query_u64(const http_req_t *req, http_resp_t *resp,
                      const char *name, bool required, uint64_t *out)
{
    const char *s = http_query(req, name);
    if (!s && !required)
        return true;
    char *end = NULL;
    errno = 0;
    unsigned long long v = s && *s >= '0' && *s <= '9'
                               ? strtoull(s, &end, 10) : 0;
    if (!s || !end || *end || errno || v > (UINT64_C(1) << 62)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s: a whole number is required", name);
        http_reply_error(resp, 400, "invalid_field", msg,
                         json_pack("{s:s}", "field", name));
        return false;
    }
    *out = v;
    return true;
}

/* The newest signed head of the path's authority into s; false when
 * there is none (answered 404) or the read failed (503). */
static bool newest(PGconn *c, const char *authority, struct tlog_sth *s,
                   http_resp_t *resp)
{
    int rc = strlen(authority) < sizeof(s->authority_id)
                 ? tlog_read_sth(c, authority, s) : 0;
    if (rc < 0)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (rc == 0)
        http_reply_error(resp, 404, "not_found", "this authority's log has "
                         "no signed head yet (no entry was ever appended)",
                         NULL);
    return rc > 0;
}

/* The heads of r's rows (tlog_sth_from_row's columns from col), of
 * authority — or, when NULL, of the authority in each row's column 0. */
static json_t *heads_json(const PGresult *r, int col, const char *authority)
{
    json_t *a = json_array();
    for (int i = 0; a && i < PQntuples(r); i++) {
        struct tlog_sth s;
        if (tlog_sth_from_row(r, i, col, authority ? authority
                                                   : PQgetvalue(r, i, 0),
                              &s))
            json_array_append_new(a, tlog_sth_json(&s));
    }
    return a;
}

void queue_tlog_logs(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    (void)req;
    PGconn *c = queue_db(ctx, resp);
    if (!c)
        return;
    PGresult *r = pg_run(c, "tlog_logs", 0, NULL);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        json_t *logs = heads_json(r, 1, NULL);
        http_reply_json(resp, 200, json_pack("{s:s, s:o}", "format",
                                             "kezek-tlog-v1", "logs", logs));
        resp->cache = FRESH;
    }
    PQclear(r);
    pgpool_release(((struct queue *)ctx)->svc.pool, c);
}

void queue_tlog_sth(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct queue *q = ctx;
    PGconn *c = queue_db(q, resp);
    struct tlog_sth s;
    if (c && newest(c, req->params[0], &s, resp)) {
        http_reply_json(resp, 200, tlog_sth_json(&s));
        resp->cache = FRESH;
    }
    if (c)
        pgpool_release(q->svc.pool, c);
}

void queue_tlog_history(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct queue *q = ctx;
    uint64_t after = 0;
    int limit = http_limit(req, resp, 100, TLOG_PAGE_MAX);
    if (limit <= 0 || !query_u64(req, resp, "after", false, &after))
        return;
    PGconn *c = queue_db(q, resp);
    if (!c)
        return;
    char after_s[24], limit_s[16];
    snprintf(after_s, sizeof(after_s), "%" PRIu64, after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[3] = {req->params[0], after_s, limit_s};
    PGresult *r = pg_run(c, "tlog_history", 3, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        json_t *heads = heads_json(r, 0, req->params[0]);
        /* a full page never changes; the last one grows */
        bool full = PQntuples(r) == limit;
        http_reply_json(resp, 200, json_pack("{s:o}", "heads", heads));
        resp->cache = full ? FOREVER : FRESH;
    }
    PQclear(r);
    pgpool_release(q->svc.pool, c);
}

/* Answers a request for a size beyond the log (400, saying the newest
 * signed size) or of a log that has none (404). */
static void beyond(PGconn *c, const http_req_t *req, http_resp_t *resp)
{
    struct tlog_sth s;
    if (newest(c, req->params[0], &s, resp)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "beyond the log: its newest signed size "
                 "is %" PRIu64, s.size);
        http_reply_error(resp, 400, "invalid_field", msg, NULL);
    }
}

/* A proof of the path's log (consistency, or inclusion of a leaf)
 * between a and n: one read of the subtrees it needs (a size beyond
 * the log lacks some). */
static void proof(struct queue *q, const http_req_t *req, http_resp_t *resp,
                  bool consistency, uint64_t a, uint64_t n)
{
    if (consistency ? a > n : a >= n) {
        http_reply_error(resp, 400, "invalid_field", consistency
                         ? "first ≤ second is required"
                         : "leaf_index < tree_size is required", NULL);
        return;
    }
    PGconn *c = queue_db(q, resp);
    if (!c)
        return;
    merkle_hash_t path[MERKLE_MAX_PROOF];
    int len = strlen(req->params[0]) < 64
                  ? tlog_read_proof(c, req->params[0], consistency, a, n,
                                    path)
                  : -2;
    /* an empty proof read nothing: the size is checked against the
     * newest head instead */
    struct tlog_sth s;
    if (len == 0 && n > 0 && (!newest(c, req->params[0], &s, resp) ||
                              n > s.size)) {
        if (!resp->status)
            beyond(c, req, resp);
        len = -2;
    } else if (len == -2) {
        beyond(c, req, resp);
    }
    pgpool_release(q->svc.pool, c);
    if (len == -2)
        return;
    if (len < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    http_reply_json(resp, 200, consistency
        ? json_pack("{s:I, s:I, s:o}", "first", (json_int_t)a, "second",
                    (json_int_t)n, "consistency_path",
                    tlog_proof_json(path, len))
        : json_pack("{s:I, s:I, s:o}", "leaf_index", (json_int_t)a,
                    "tree_size", (json_int_t)n, "audit_path",
                    tlog_proof_json(path, len)));
    resp->cache = FOREVER;
}

void queue_tlog_inclusion(void *ctx, const http_req_t *req,
                          http_resp_t *resp)
{
    uint64_t index, n;
    if (query_u64(req, resp, "leaf_index", true, &index) &&
        query_u64(req, resp, "tree_size", true, &n))
        proof(ctx, req, resp, false, index, n);
}

void queue_tlog_consistency(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    uint64_t m, n;
    if (query_u64(req, resp, "first", true, &m) &&
        query_u64(req, resp, "second", true, &n))
        proof(ctx, req, resp, true, m, n);
}

void queue_tlog_entries(void *ctx, const http_req_t *req,
                        http_resp_t *resp)
{
    struct queue *q = ctx;
    uint64_t start, end;
    if (!query_u64(req, resp, "start", true, &start) ||
        !query_u64(req, resp, "end", true, &end))
        return;
    if (end <= start || end - start > TLOG_PAGE_MAX) {
        http_reply_error(resp, 400, "invalid_field", "start < end ≤ start "
                         "+ 1000 (end is not included)", NULL);
        return;
    }
    PGconn *c = queue_db(q, resp);
    if (!c)
        return;
    char a[24], b[24];
    snprintf(a, sizeof(a), "%" PRIu64, start);
    snprintf(b, sizeof(b), "%" PRIu64, end);
    const char *p[3] = {req->params[0], a, b};
    /* only leaves the newest signed head holds: a page past it is cut
     * there, one wholly past it is refused */
    PGresult *r = pg_run(c, "tlog_entries", 3, p);
    if (r && PQntuples(r) == 0)
        beyond(c, req, resp);
    pgpool_release(q->svc.pool, c);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    if (PQntuples(r) > 0) {
        json_t *entries = json_array();
        for (int i = 0; i < PQntuples(r); i++)
            json_array_append_new(entries, json_pack(
                "{s:I, s:s}", "leaf_index",
                (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10), "entry",
                PQgetvalue(r, i, 1)));
        http_reply_json(resp, 200, json_pack("{s:o}", "entries", entries));
        /* a full page never changes; one cut at the head grows */
        resp->cache = (uint64_t)PQntuples(r) == end - start ? FOREVER
                                                             : FRESH;
    }
    PQclear(r);
}
