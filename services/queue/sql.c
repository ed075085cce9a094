/* All SQL of kezek-queue. The statements read by position name their
 * result columns in queue.h (enum <STATEMENT>_<COLUMN>), in the order
 * of the SELECT lists here. */
#include "queue.h"

#include "tlog.h"

const struct pg_stmt queue_stmts[] = {
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
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
     " $9::text[]) AS v (auth, list, number, app, iin, seq, position,"
     " secret, leaf)),"
     " e AS (INSERT INTO queue_entry (authority_id, list, number,"
     " application_id, applicant_iin, accepted_seq,"
     " position_at_registration, registered_at, tlog_secret, tlog_index)"
     " SELECT auth, list, number::bigint, app, iin, seq::bigint,"
     " position::bigint, clock_timestamp(), decode(secret, 'hex'),"
     " leaf::bigint FROM v)"
     " INSERT INTO queue_change (authority_id, list, kind, accepted_seq,"
     " application_id) SELECT auth, list, 'registered', seq::bigint, app"
     " FROM v"},
    {"entry_history_base",
     "SELECT e.application_id, e.accepted_seq,"
     " e.position_at_registration, c.id, extract(epoch FROM c.at)::bigint,"
     " e.number, e.cause, e.came_from::text FROM queue_entry e"
     " JOIN queue_change c ON c.application_id = e.application_id"
     " AND c.kind = 'registered' AND c.authority_id = e.authority_id"
     " AND c.list = e.list AND c.accepted_seq = e.accepted_seq"
     " WHERE e.authority_id = $1 AND e.list = $2 AND e.applicant_iin = $3"
     " ORDER BY e.registered_at DESC, c.id DESC LIMIT 1"},
    {"entry_history_changes",
     "SELECT kind, reason, extract(epoch FROM at)::bigint,"
     " application_id = $4, cause, related::text FROM queue_change"
     " WHERE authority_id = $1 AND list = $2 AND id > $3"
     " AND (accepted_seq < $5 OR application_id = $4) ORDER BY id"},
    {"list_lengths",
     "SELECT authority_id, list, count(*) FILTER (WHERE status = 'active')"
     " FROM queue_entry GROUP BY 1, 2"},
    {"entry_position",
     "SELECT count(*) FROM queue_entry WHERE authority_id = $1"
     " AND list = $2 AND status = 'active' AND accepted_seq <= $3"},
    {"list_page", /* a list in position order after an entry (lists.c);
                     the first position counts the entries before it */
     "SELECT e.number, e.applicant_iin, e.application_id, e.accepted_seq,"
     " extract(epoch FROM a.accepted_at)::bigint, a.applicant_name,"
     " a.category, row_number() OVER (ORDER BY e.accepted_seq)"
     " + (SELECT count(*) FROM queue_entry b WHERE b.authority_id = $1"
     " AND b.list = $2 AND b.status = 'active' AND b.accepted_seq <= $3)"
     " FROM queue_entry e JOIN application a"
     " ON a.id = e.application_id WHERE e.authority_id = $1"
     " AND e.list = $2 AND e.status = 'active' AND e.accepted_seq > $3"
     " ORDER BY e.accepted_seq LIMIT $4"},
    {"list_total", /* kept by list_set and queue_remove */
     "SELECT coalesce((SELECT active FROM queue_list"
     " WHERE authority_id = $1 AND list = $2), 0)"},
    {"entry_lookup", /* the number, the position, and whether the entry
                        is old enough that the view must have it */
     "SELECT e.number, (SELECT count(*) FROM queue_entry o"
     " WHERE o.authority_id = e.authority_id AND o.list = e.list"
     " AND o.status = 'active' AND o.accepted_seq <= e.accepted_seq),"
     " e.registered_at < now() - make_interval(secs => "
     VIEW_SETTLE_S ")"
     " FROM queue_entry e WHERE e.authority_id = $1 AND e.list = $2"
     " AND e.applicant_iin = $3 AND e.status = 'active'"},
    /* the transparency log (domain/tlog.h): its writer, in the batch,
     * and its reader, the public endpoints (transparency.c) */
    TLOG_STMTS,
    TLOG_READ_STMTS,
    {"tlog_logs", /* every log's newest head */
     "SELECT authority_id, sth_size, encode(sth_root, 'hex'), sth_ms,"
     " sth_key, sth_sig FROM tlog_head WHERE sth_root IS NOT NULL"
     " ORDER BY 1"},
    {"tlog_history",
     "SELECT size, encode(root, 'hex'), signed_ms, key_id, signature"
     " FROM tlog_sth WHERE authority_id = $1 AND size > $2::bigint"
     " ORDER BY size LIMIT $3::int"},
    {"tlog_entries", /* only what the newest signed head holds */
     "SELECT idx, entry FROM tlog_node WHERE authority_id = $1"
     " AND level = 0 AND idx >= $2::bigint AND idx < least($3::bigint,"
     " (SELECT sth_size FROM tlog_head WHERE authority_id = $1))"
     " ORDER BY idx"},
    {NULL, NULL},
};
