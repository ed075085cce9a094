#include "queue_view.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The columns of a page of queue_view_page (one_list's cursor) and of
 * replay_changes' statement. */
enum { PAGE_IIN, PAGE_NUMBER, PAGE_SEQ };
enum { CH_KIND, CH_AUTHORITY, CH_LIST, CH_IIN, CH_NUMBER, CH_SEQ };

static bool pipeline_ok(redisContext *c, int n)
{
    bool ok = n >= 0; /* -1: the commands could not be built */
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

/* Lists are read in pages, so that verifying or rebuilding a list of a
 * million entries holds one page in memory, not the list. */
enum { PAGE = 10000, CHUNK = 1000 };

/* 1 when the view of a list holds, from rank at on, exactly the rows of
 * page (applicant_iin, number, accepted_seq; in accepted_seq order): the
 * same members at the same ranks with the same scores, and the same
 * numbers for them; 0 when it differs; -1 when Redis failed. */
static int page_matches(redisContext *c, const char *auth, const char *list,
                        PGresult *page, long at)
{
    int k = PQntuples(page);
    /* on the heap: as thread-local arrays they took 190 KB of every
     * thread of every service (the TLS of each thread is zeroed) */
    const char **argv = malloc((size_t)(2 + k) * sizeof(*argv));
    size_t *lens = malloc((size_t)(2 + k) * sizeof(*lens));
    if (!argv || !lens) {
        free(argv);
        free(lens);
        return -1;
    }
    redisReply *z = redisCommand(c, "ZRANGE kezek:q:%s:%s %ld %ld WITHSCORES",
                                 auth, list, at, at + k - 1);
    char hkey[160];
    snprintf(hkey, sizeof(hkey), "kezek:qn:%s:%s", auth, list);
    argv[0] = "HMGET";
    argv[1] = hkey;
    for (int i = 0; i < k; i++)
        argv[2 + i] = PQgetvalue(page, i, PAGE_IIN);
    for (int i = 0; i < 2 + k; i++)
        lens[i] = strlen(argv[i]);
    redisReply *h = redisCommandArgv(c, 2 + k, argv, lens);
    free(argv);
    free(lens);
    int rc = z && h && z->type == REDIS_REPLY_ARRAY &&
             h->type == REDIS_REPLY_ARRAY ? 1 : -1;
    bool same = rc == 1 && z->elements == (size_t)k * 2 &&
                h->elements == (size_t)k;
    for (int i = 0; same && i < k; i++)
        same = z->element[2 * i]->type == REDIS_REPLY_STRING &&
               strcmp(z->element[2 * i]->str,
                      PQgetvalue(page, i, PAGE_IIN)) == 0 &&
               strtoull(z->element[2 * i + 1]->str, NULL, 10) ==
                   strtoull(PQgetvalue(page, i, PAGE_SEQ), NULL, 10) &&
               h->element[i]->type == REDIS_REPLY_STRING &&
               strcmp(h->element[i]->str,
                      PQgetvalue(page, i, PAGE_NUMBER)) == 0;
    if (z)
        freeReplyObject(z);
    if (h)
        freeReplyObject(h);
    return rc < 0 ? -1 : same;
}

/* Appends a page to the aside keys zkey/hkey in multi-member commands;
 * returns how many commands were appended, -1 when out of memory. */
static int page_append(redisContext *c, const char *zkey, const char *hkey,
                       PGresult *page)
{
    const char **argv = malloc((2 + 2 * CHUNK) * sizeof(*argv));
    size_t *lens = malloc((2 + 2 * CHUNK) * sizeof(*lens));
    int n = PQntuples(page), cmds = 0;
    if (!argv || !lens) {
        free(argv);
        free(lens);
        return -1;
    }
    for (int at = 0; at < n; at += CHUNK) {
        int k = n - at < CHUNK ? n - at : CHUNK;
        for (int pass = 0; pass < 2; pass++) {
            argv[0] = pass ? "HSET" : "ZADD";
            argv[1] = pass ? hkey : zkey;
            for (int i = 0; i < k; i++) {
                int row = at + i;
                /* ZADD score member; HSET field value */
                argv[2 + 2 * i] =
                    PQgetvalue(page, row, pass ? PAGE_IIN : PAGE_SEQ);
                argv[3 + 2 * i] =
                    PQgetvalue(page, row, pass ? PAGE_NUMBER : PAGE_IIN);
            }
            for (int i = 0; i < 2 + 2 * k; i++)
                lens[i] = strlen(argv[i]);
            redisAppendCommandArgv(c, 2 + 2 * k, argv, lens);
            cmds++;
        }
    }
    free(argv);
    free(lens);
    return cmds;
}

/* True when the view of the list has exactly n members and n numbers. */
static bool sizes_match(redisContext *c, const char *auth, const char *list,
                        long n)
{
    redisAppendCommand(c, "ZCARD kezek:q:%s:%s", auth, list);
    redisAppendCommand(c, "HLEN kezek:qn:%s:%s", auth, list);
    redisReply *z = NULL, *h = NULL;
    if (redisGetReply(c, (void **)&z) != REDIS_OK)
        z = NULL;
    if (z && redisGetReply(c, (void **)&h) != REDIS_OK)
        h = NULL;
    bool same = z && h && z->type == REDIS_REPLY_INTEGER &&
                h->type == REDIS_REPLY_INTEGER && z->integer == n &&
                h->integer == n;
    if (z)
        freeReplyObject(z);
    if (h)
        freeReplyObject(h);
    return same;
}

/* One list: the truth from Postgres, page by page (a cursor in the
 * caller's snapshot), then compared or built aside and swapped in. */
/* Whether the list changed in the last seconds (a verify leaves it to
 * a later pass); -1 on a database error. */
static int just_written(PGconn *pg, const char *const p[2])
{
    PGresult *w = PQexecParams(pg,
        "SELECT at > now() - interval '5 seconds' FROM queue_change"
        " WHERE authority_id = $1 AND list = $2 ORDER BY id DESC"
        " LIMIT 1", 2, NULL, p, NULL, NULL, 0);
    bool failed = !pg_check(w);
    bool fresh = !failed && PQntuples(w) == 1 &&
                 PQgetvalue(w, 0, 0)[0] == 't';
    PQclear(w);
    return failed ? -1 : fresh;
}

/* Puts the rebuilt list, written aside, in place of the view's. */
static bool swap_in(redisContext *c, const char *auth, const char *list,
                    const char *zkey, const char *hkey, long n)
{
    int cmds = 0;
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "DEL kezek:q:%s:%s kezek:qn:%s:%s", auth, list,
                       auth, list);
    cmds += 2;
    if (n > 0) {
        redisAppendCommand(c, "RENAME %s kezek:q:%s:%s", zkey, auth, list);
        redisAppendCommand(c, "RENAME %s kezek:qn:%s:%s", hkey, auth, list);
        cmds += 2;
    }
    redisAppendCommand(c, "EXEC");
    cmds++;
    return pipeline_ok(c, cmds);
}

static bool one_list(PGconn *pg, kredis_t *r, const char *auth,
                     const char *list, bool verify, bool settled,
                     struct queue_view_report *rep)
{
    const char *p[2] = {auth, list};
    if (verify && settled) { /* just written: left to a later pass */
        int fresh = just_written(pg, p);
        if (fresh < 0)
            return false;
        if (fresh) {
            rep->lists++;
            rep->busy++;
            return true;
        }
    }
    PGresult *res = PQexecParams(pg,
        "DECLARE queue_view_page NO SCROLL CURSOR FOR" /* PAGE_* */
        " SELECT applicant_iin, number, accepted_seq FROM queue_entry"
        " WHERE authority_id = $1 AND list = $2 AND status = 'active'"
        " ORDER BY accepted_seq", 2, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(res);
    PQclear(res);
    redisContext *c = kredis_ctx(r);
    if (!ok || !c)
        return false;
    char zkey[160], hkey[160];
    snprintf(zkey, sizeof(zkey), "kezek:tmpq:%s:%s", auth, list);
    snprintf(hkey, sizeof(hkey), "kezek:tmpqn:%s:%s", auth, list);
    if (!verify) {
        redisAppendCommand(c, "DEL %s %s", zkey, hkey);
        ok = pipeline_ok(c, 1);
    }
    long n = 0;
    bool same = true;
    char fetch[64];
    snprintf(fetch, sizeof(fetch), "FETCH %d FROM queue_view_page", PAGE);
    while (ok && same) {
        res = PQexec(pg, fetch);
        ok = pg_check(res);
        int k = ok ? PQntuples(res) : 0;
        if (k > 0 && verify) {
            int m = page_matches(c, auth, list, res, n);
            ok = m >= 0;
            same = m == 1;
        } else if (k > 0) {
            ok = pipeline_ok(c, page_append(c, zkey, hkey, res));
        }
        PQclear(res);
        n += k;
        if (k == 0)
            break;
    }
    if (ok && !pg_exec(pg, "CLOSE queue_view_page"))
        ok = false;
    rep->lists++;
    rep->entries += n;
    if (ok && verify) {
        same = same && sizes_match(c, auth, list, n);
        if (!same) {
            rep->drift++;
            log_warn("queue_view.drift", "list %s/%s differs from Postgres",
                     auth, list);
        }
    } else if (ok) { /* the aside keys swapped in atomically */
        ok = swap_in(c, auth, list, zkey, hkey, n);
    }
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
                 PQgetvalue(res, i, CH_AUTHORITY));
        snprintf(e.list, sizeof(e.list), "%s", PQgetvalue(res, i, CH_LIST));
        snprintf(e.iin, sizeof(e.iin), "%s", PQgetvalue(res, i, CH_IIN));
        e.number = strtoull(PQgetvalue(res, i, CH_NUMBER), NULL, 10);
        e.accepted_seq = strtoull(PQgetvalue(res, i, CH_SEQ), NULL, 10);
        ok = strcmp(PQgetvalue(res, i, CH_KIND), "removed") == 0
                 ? queue_view_remove(r, &e)
                 : queue_view_put(r, &e, 1);
    }
    PQclear(res);
    return ok;
}

/* Whether "auth:list" is one of Postgres' lists (sorted, as read). */
static bool listed(PGresult *lists, const char *auth, const char *list)
{
    for (int i = 0; i < PQntuples(lists); i++)
        if (strcmp(PQgetvalue(lists, i, 0), auth) == 0 &&
            strcmp(PQgetvalue(lists, i, 1), list) == 0)
            return true;
    return false;
}

/* The view's keys of lists Postgres does not have (a list emptied by a
 * restore, an authority gone, what an earlier deployment left): the
 * view answers exactly what Postgres holds, so a rebuild deletes them
 * and a verify counts each as drift. False when Redis failed. */
static bool strays(kredis_t *r, PGresult *lists, bool verify,
                   struct queue_view_report *rep)
{
    char cursor[32] = "0";
    do {
        redisReply *s = kredis_cmd(r, "SCAN %s MATCH kezek:q*:*:* COUNT 1000",
                                   cursor);
        if (!s || s->type != REDIS_REPLY_ARRAY || s->elements != 2) {
            if (s)
                freeReplyObject(s);
            kredis_failed(r);
            return false;
        }
        snprintf(cursor, sizeof(cursor), "%s", s->element[0]->str);
        for (size_t i = 0; i < s->element[1]->elements; i++) {
            const char *key = s->element[1]->element[i]->str;
            char auth[96], list[64];
            /* kezek:q:<authority>:<list> and kezek:qn:<authority>:<list> */
            if (sscanf(key, "kezek:q%*[n]:%95[^:]:%63s", auth, list) != 2 &&
                sscanf(key, "kezek:q:%95[^:]:%63s", auth, list) != 2)
                continue;
            if (listed(lists, auth, list))
                continue;
            rep->drift++;
            log_warn("queue_view.stray", "a view of list %s/%s that "
                     "Postgres does not have%s", auth, list,
                     verify ? "" : ": deleted");
            if (!verify) {
                redisReply *d = kredis_cmd(r, "DEL %s", key);
                if (!d) {
                    freeReplyObject(s);
                    return false;
                }
                freeReplyObject(d);
            }
        }
        freeReplyObject(s);
    } while (strcmp(cursor, "0") != 0);
    return true;
}

static bool run(PGconn *pg, kredis_t *r, const char *authority,
                bool verify, bool settled, struct queue_view_report *rep)
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
                      verify, settled, rep);
    if (ok && !authority)
        ok = strays(r, res, verify, rep);
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

bool queue_view_rebuild(PGconn *pg, kredis_t *r, const char *authority,
                        bool verify, struct queue_view_report *rep)
{
    return run(pg, r, authority, verify, false, rep);
}

bool queue_view_verify_settled(PGconn *pg, kredis_t *r,
                               struct queue_view_report *rep)
{
    return run(pg, r, NULL, true, true, rep);
}
