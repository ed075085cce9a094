/* The transparency log's duties in the watcher (issue 24; domain/
 * tlog.h): each log's newest head signed again at least every minute
 * (its timestamp shows a monitor the log is alive and not withheld), and
 * the entries from before the log appended once, in their lists' order.
 */
#include "queue.h"

#include "log.h"
#include "tlog.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* entries from before the log appended per transaction */
#define BACKFILL_CHUNK "2000"

int queue_tlog_resign(struct queue *q, PGconn *c)
{
    char age[24];
    snprintf(age, sizeof(age), "%ld", q->tlog_resign_s * 1000);
    const char *p[1] = {age};
    PGresult *r = pg_query(c, "SELECT authority_id, sth_size,"
                           " encode(sth_root, 'hex'), sth_ms, sth_key,"
                           " sth_sig FROM tlog_head"
                           " WHERE sth_root IS NOT NULL AND sth_ms <"
                           " (extract(epoch FROM clock_timestamp()) * 1000)"
                           "::bigint - $1::bigint", 1, p);
    if (!r)
        return -1;
    int done = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        struct tlog_sth s;
        if (!tlog_sth_from_row(r, i, 1, PQgetvalue(r, i, 0), &s))
            continue;
        s.ms = now_us() / 1000;
        tlog_sth_sign(&s, authority_key(&q->keys, s.authority_id));
        char size[24], ms[24];
        snprintf(size, sizeof(size), "%" PRIu64, s.size);
        snprintf(ms, sizeof(ms), "%" PRId64, s.ms);
        /* only if the tree did not grow meanwhile (its writer signed) */
        const char *u[5] = {s.authority_id, size, ms, s.key_id, s.signature};
        PGresult *w = pg_query(c, "UPDATE tlog_head SET sth_ms = $3::bigint,"
                               " sth_key = $4, sth_sig = $5 WHERE"
                               " authority_id = $1 AND sth_size = $2::bigint"
                               " AND sth_ms < $3::bigint", 5, u);
        done += w != NULL;
        PQclear(w);
    }
    PQclear(r);
    return done;
}

/* The entries from before the log, of the lists locked: appended in
 * number order with fresh secrets (their citizens got no receipt). */
static bool backfill_locked(struct queue *q, PGconn *c, tlog_writer_t *w,
                            PGresult *e, json_t *marks)
{
    const char **a = malloc((size_t)PQntuples(e) * sizeof(*a));
    if (!a)
        return false;
    for (int i = 0; i < PQntuples(e); i++)
        a[i] = PQgetvalue(e, i, 0);
    bool ok = tlog_lock(w, c, a, PQntuples(e));
    free(a);
    for (int i = 0; ok && i < PQntuples(e); i++) {
        struct tlog_leaf l = {
            .number = strtoull(PQgetvalue(e, i, 2), NULL, 10),
            .seq = strtoull(PQgetvalue(e, i, 3), NULL, 10)};
        snprintf(l.authority_id, sizeof(l.authority_id), "%s",
                 PQgetvalue(e, i, 0));
        snprintf(l.list, sizeof(l.list), "%s", PQgetvalue(e, i, 1));
        snprintf(l.event, sizeof(l.event), "registered");
        snprintf(l.cause, sizeof(l.cause), "%s", PQgetvalue(e, i, 5));
        snprintf(l.date, sizeof(l.date), "%s", PQgetvalue(e, i, 6));
        uint8_t secret[TLOG_SECRET];
        char hex[2 * TLOG_SECRET + 1];
        randombytes_buf(secret, sizeof(secret));
        tlog_commit_iin(secret, PQgetvalue(e, i, 4), l.commitment);
        sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
        sodium_memzero(secret, sizeof(secret));
        uint64_t index;
        ok = tlog_add(w, &l, &index) &&
             json_array_append_new(marks, json_pack(
                 "{s:s, s:s, s:I, s:s, s:I}", "a", l.authority_id, "l",
                 l.list, "n", (json_int_t)l.number, "s", hex, "i",
                 (json_int_t)index)) == 0;
        sodium_memzero(hex, sizeof(hex));
    }
    char *m = ok ? json_dumps(marks, JSON_COMPACT) : NULL;
    const char *p[1] = {m};
    PGresult *r = m ? pg_query(c, "UPDATE queue_entry e SET tlog_secret ="
                               " decode(v.s, 'hex'), tlog_index = v.i FROM"
                               " json_to_recordset($1::json) AS v (a text,"
                               " l text, n bigint, s text, i bigint) WHERE"
                               " e.authority_id = v.a AND e.list = v.l"
                               " AND e.number = v.n AND e.status = 'active'",
                               1, p)
                    : NULL;
    ok = r && atol(PQcmdTuples(r)) == PQntuples(e);
    PQclear(r);
    if (m)
        sodium_memzero(m, strlen(m));
    free(m);
    return ok && tlog_write(w, c, &q->keys);
}

int queue_tlog_backfill(struct queue *q, PGconn *c)
{
    /* the lists first (the lock order of tlog.h), then their entries
     * still outside the log: a removal waits, or went first */
    if (!pg_exec(c, "BEGIN"))
        return -1;
    const char *p[1] = {BACKFILL_CHUNK};
    PGresult *l = pg_query(c, "SELECT l.authority_id, l.list FROM queue_list"
                           " l WHERE (l.authority_id, l.list) IN (SELECT"
                           " authority_id, list FROM queue_entry WHERE"
                           " tlog_index IS NULL AND status = 'active'"
                           " ORDER BY authority_id, accepted_seq"
                           " LIMIT $1::int) ORDER BY 1, 2 FOR UPDATE", 1, p);
    int n = -1;
    if (l && PQntuples(l) == 0) {
        n = 0;
    } else if (l) {
        /* the locked lists as JSON: their entries, in number order */
        json_t *lists = json_array();
        for (int i = 0; i < PQntuples(l); i++)
            json_array_append_new(lists, json_pack(
                "{s:s, s:s}", "a", PQgetvalue(l, i, 0), "l",
                PQgetvalue(l, i, 1)));
        char *js = json_dumps(lists, JSON_COMPACT);
        json_decref(lists);
        const char *p2[2] = {js, BACKFILL_CHUNK};
        PGresult *e = js ? pg_query(c,
            "SELECT authority_id, list, number, accepted_seq,"
            " applicant_iin, cause, to_char(registered_at AT"
            " TIME ZONE 'Asia/Almaty', 'YYYY-MM-DD')"
            " FROM queue_entry WHERE tlog_index IS NULL"
            " AND status = 'active' AND (authority_id, list)"
            " IN (SELECT a, l FROM json_to_recordset($1::json)"
            " AS v (a text, l text)) ORDER BY authority_id,"
            " list, number LIMIT $2::int", 2, p2) : NULL;
        free(js);
        tlog_writer_t *w = e ? tlog_writer_new() : NULL;
        json_t *marks = json_array();
        if (w && marks && backfill_locked(q, c, w, e, marks))
            n = PQntuples(e);
        json_decref(marks);
        tlog_writer_destroy(&w);
        PQclear(e);
    }
    PQclear(l);
    if (n < 0 || !pg_exec(c, "COMMIT")) {
        if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
            log_warn("queue.tlog_backfill", "rollback failed");
        return -1;
    }
    if (n > 0)
        log_info("queue.tlog_backfill", "%d entries from before the log "
                 "appended to it", n);
    return n;
}
