#include "queue_view.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

bool queue_list_known(const char *list)
{
    static const char *const lists[] = {"wwii", "vulnerable",
                                        "public_sector",
                                        "emergency_dwelling", NULL};
    return in_set(list, lists);
}

bool queue_removal_reason_known(const char *reason)
{
    static const char *const reasons[] = {"housing_provided", "moved_away",
                                          "false_documents", "died",
                                          "own_request", NULL};
    return in_set(reason, reasons);
}

static bool pipeline_ok(redisContext *c, int n)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep)
            return false;
        if (rep->type == REDIS_REPLY_ERROR)
            ok = false;
        freeReplyObject(rep);
    }
    return ok;
}

bool queue_view_put(kredis_t *r, const struct queue_view_entry *e, int n)
{
    redisContext *c = kredis_ctx(r);
    if (!c)
        return false;
    for (int i = 0; i < n; i++) {
        redisAppendCommand(c, "ZADD kezek:q:%s:%s %llu %s", e[i].authority_id,
                           e[i].list, (unsigned long long)e[i].accepted_seq,
                           e[i].iin);
        redisAppendCommand(c, "HSET kezek:qn:%s:%s %s %llu",
                           e[i].authority_id, e[i].list, e[i].iin,
                           (unsigned long long)e[i].number);
    }
    redisAppendCommand(c, "SET kezek:q:as_of %lld", (long long)time(NULL));
    if (!pipeline_ok(c, 2 * n + 1)) {
        kredis_failed(r);
        return false;
    }
    return true;
}

bool queue_view_remove(kredis_t *r, const struct queue_view_entry *e)
{
    redisContext *c = kredis_ctx(r);
    if (!c)
        return false;
    redisAppendCommand(c, "ZREM kezek:q:%s:%s %s", e->authority_id, e->list,
                       e->iin);
    redisAppendCommand(c, "HDEL kezek:qn:%s:%s %s", e->authority_id,
                       e->list, e->iin);
    redisAppendCommand(c, "SET kezek:q:as_of %lld", (long long)time(NULL));
    if (!pipeline_ok(c, 3)) {
        kredis_failed(r);
        return false;
    }
    return true;
}

static int by_pair_field(const void *a, const void *b, void *h)
{
    redisReply *r = h;
    return strcmp(r->element[*(const int *)a]->str,
                  r->element[*(const int *)b]->str);
}

static int by_row_iin(const void *a, const void *b, void *res)
{
    return strcmp(PQgetvalue(res, *(const int *)a, 0),
                  PQgetvalue(res, *(const int *)b, 0));
}

/* True when the hash IIN -> number (an HGETALL reply of n pairs) holds
 * exactly the n rows of res (applicant_iin, number): both sorted by
 * IIN, then compared in one pass — O(n log n), so a list of a million
 * entries verifies in about a second. */
static bool hash_matches(redisReply *h, PGresult *res, int n)
{
    int *pairs = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *rows = malloc(sizeof(int) * (size_t)(n ? n : 1));
    bool same = pairs && rows;
    for (int i = 0; same && i < n; i++) {
        pairs[i] = 2 * i;
        rows[i] = i;
    }
    if (same) {
        qsort_r(pairs, (size_t)n, sizeof(int), by_pair_field, h);
        qsort_r(rows, (size_t)n, sizeof(int), by_row_iin, res);
    }
    for (int i = 0; same && i < n; i++)
        same = strcmp(h->element[pairs[i]]->str,
                      PQgetvalue(res, rows[i], 0)) == 0 &&
               strcmp(h->element[pairs[i] + 1]->str,
                      PQgetvalue(res, rows[i], 1)) == 0;
    free(pairs);
    free(rows);
    return same;
}

/* One list: the truth from Postgres, then compare or replace. */
static bool one_list(PGconn *pg, kredis_t *r, const char *auth,
                     const char *list, bool verify,
                     struct queue_view_report *rep)
{
    const char *p[2] = {auth, list};
    PGresult *res = PQexecParams(pg,
        "SELECT applicant_iin, number, accepted_seq FROM queue_entry"
        " WHERE authority_id = $1 AND list = $2 AND status = 'active'"
        " ORDER BY accepted_seq", 2, NULL, p, NULL, NULL, 0);
    if (!pg_check(res)) {
        PQclear(res);
        return false;
    }
    int n = PQntuples(res);
    rep->lists++;
    rep->entries += n;
    redisContext *c = kredis_ctx(r);
    bool ok = c != NULL;
    if (ok && verify) {
        redisReply *z = redisCommand(c, "ZRANGE kezek:q:%s:%s 0 -1 WITHSCORES",
                                     auth, list);
        redisReply *h = redisCommand(c, "HGETALL kezek:qn:%s:%s", auth, list);
        ok = z && h && z->type == REDIS_REPLY_ARRAY &&
             h->type == REDIS_REPLY_ARRAY;
        bool same = ok && z->elements == (size_t)n * 2 &&
                    h->elements == (size_t)n * 2;
        for (int i = 0; same && i < n; i++) {
            same = strcmp(z->element[2 * i]->str, PQgetvalue(res, i, 0)) ==
                       0 &&
                   strtoull(z->element[2 * i + 1]->str, NULL, 10) ==
                       strtoull(PQgetvalue(res, i, 2), NULL, 10);
        }
        if (same)
            same = hash_matches(h, res, n);
        if (ok && !same) {
            rep->drift++;
            log_warn("queue_view.drift", "list %s/%s differs from Postgres",
                     auth, list);
        }
        if (z)
            freeReplyObject(z);
        if (h)
            freeReplyObject(h);
    } else if (ok) {
        /* build aside in chunks of multi-member commands, then swap in
         * atomically */
        enum { CHUNK = 1000 };
        static _Thread_local const char *argv[2 + 2 * CHUNK];
        static _Thread_local size_t lens[2 + 2 * CHUNK];
        char zkey[160], hkey[160];
        snprintf(zkey, sizeof(zkey), "kezek:tmpq:%s:%s", auth, list);
        snprintf(hkey, sizeof(hkey), "kezek:tmpqn:%s:%s", auth, list);
        int cmds = 0;
        redisAppendCommand(c, "DEL %s %s", zkey, hkey);
        cmds++;
        for (int at = 0; at < n; at += CHUNK) {
            int k = n - at < CHUNK ? n - at : CHUNK;
            for (int pass = 0; pass < 2; pass++) {
                argv[0] = pass ? "HSET" : "ZADD";
                argv[1] = pass ? hkey : zkey;
                for (int i = 0; i < k; i++) {
                    int row = at + i;
                    /* ZADD score member; HSET field value */
                    argv[2 + 2 * i] = PQgetvalue(res, row, pass ? 0 : 2);
                    argv[3 + 2 * i] = PQgetvalue(res, row, pass ? 1 : 0);
                }
                for (int i = 0; i < 2 + 2 * k; i++)
                    lens[i] = strlen(argv[i]);
                redisAppendCommandArgv(c, 2 + 2 * k, argv, lens);
                cmds++;
            }
        }
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "DEL kezek:q:%s:%s kezek:qn:%s:%s", auth, list,
                           auth, list);
        cmds += 2;
        if (n > 0) {
            redisAppendCommand(c, "RENAME %s kezek:q:%s:%s", zkey, auth,
                               list);
            redisAppendCommand(c, "RENAME %s kezek:qn:%s:%s", hkey, auth,
                               list);
            cmds += 2;
        }
        redisAppendCommand(c, "EXEC");
        cmds++;
        ok = pipeline_ok(c, cmds);
    }
    PQclear(res);
    if (!ok)
        kredis_failed(r);
    return ok;
}

/* Applies the list changes logged after mark (ids > mark) to the view:
 * what committed while a rebuild was reading its snapshot. */
static bool replay_changes(PGconn *pg, kredis_t *r, const char *authority,
                           const char *mark)
{
    const char *p[2] = {mark, authority};
    PGresult *res = PQexecParams(pg,
        "SELECT c.kind, c.authority_id, c.list, e.applicant_iin, e.number,"
        " e.accepted_seq FROM queue_change c JOIN queue_entry e"
        " ON e.application_id = c.application_id WHERE c.id > $1::bigint"
        " AND ($2::text IS NULL OR c.authority_id = $2) ORDER BY c.id",
        2, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(res);
    for (int i = 0; ok && i < PQntuples(res); i++) {
        struct queue_view_entry e = {0};
        snprintf(e.authority_id, sizeof(e.authority_id), "%s",
                 PQgetvalue(res, i, 1));
        snprintf(e.list, sizeof(e.list), "%s", PQgetvalue(res, i, 2));
        snprintf(e.iin, sizeof(e.iin), "%s", PQgetvalue(res, i, 3));
        e.number = strtoull(PQgetvalue(res, i, 4), NULL, 10);
        e.accepted_seq = strtoull(PQgetvalue(res, i, 5), NULL, 10);
        ok = strcmp(PQgetvalue(res, i, 0), "removed") == 0
                 ? queue_view_remove(r, &e)
                 : queue_view_put(r, &e, 1);
    }
    PQclear(res);
    return ok;
}

bool queue_view_rebuild(PGconn *pg, kredis_t *r, const char *authority,
                        bool verify, struct queue_view_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    /* one snapshot for every list; what commits meanwhile is replayed
     * from the change log after the swap, so nothing is undone */
    if (!pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return false;
    PGresult *m = PQexec(pg, "SELECT coalesce(max(id), 0) FROM"
                             " queue_change");
    char mark[32] = "0";
    bool ok = pg_check(m);
    if (ok)
        snprintf(mark, sizeof(mark), "%s", PQgetvalue(m, 0, 0));
    PQclear(m);
    const char *p[1] = {authority};
    PGresult *res = ok ? PQexecParams(pg,
        "SELECT authority_id, list FROM queue_list"
        " WHERE $1::text IS NULL OR authority_id = $1"
        " ORDER BY 1, 2", 1, NULL, p, NULL, NULL, 0) : NULL;
    ok = ok && pg_check(res);
    for (int i = 0; ok && i < PQntuples(res); i++)
        ok = one_list(pg, r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                      verify, rep);
    PQclear(res);
    if (!pg_exec(pg, ok ? "COMMIT" : "ROLLBACK"))
        ok = false;
    if (ok && !verify)
        ok = replay_changes(pg, r, authority, mark);
    if (ok && !verify && !authority) {
        /* stamp the freshly rebuilt view */
        redisReply *k = kredis_cmd(r, "SET kezek:q:as_of %lld",
                                   (long long)time(NULL));
        ok = k != NULL;
        if (k)
            freeReplyObject(k);
    }
    return ok;
}
