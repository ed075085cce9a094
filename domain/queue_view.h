/* queue_view — the Redis view of the queue lists, derived from
 * queue_entry (Postgres, the truth) and rebuildable at any time.
 *
 * kezek:q:<authority>:<list>   sorted set, member IIN, score the
 *                              acceptance seq (p.5 order)
 * kezek:qn:<authority>:<list>  hash IIN -> queue number
 * kezek:q:as_of                when the view was last written */
#ifndef KEZEK_QUEUE_VIEW_H
#define KEZEK_QUEUE_VIEW_H

#include "pg.h"
#include "queue_lists.h"
#include "redis.h"

#include <stdint.h>

struct queue_view_entry {
    char authority_id[64];
    char list[32];
    char iin[13];
    uint64_t number;
    uint64_t accepted_seq;
};

/* Writes entries after their commit. False when Redis failed (the view
 * is then stale until rebuilt). */
bool queue_view_put(kredis_t *r, const struct queue_view_entry *e, int n);

/* Takes a removed entry out of the view. False when Redis failed. */
bool queue_view_remove(kredis_t *r, const struct queue_view_entry *e);

struct queue_view_report {
    long lists, entries, drift; /* drift: lists that differ, and keys of
                                 * lists Postgres does not have */
    long busy;                  /* lists left unverified: just written */
};

/* Rebuilds (verify=false) or compares (verify=true) the view of every
 * list, or of one authority's lists. False on a database or Redis
 * failure. */
bool queue_view_rebuild(PGconn *pg, kredis_t *r, const char *authority,
                        bool verify, struct queue_view_report *rep);

/* Compares every list but those changed in the last few seconds before
 * its snapshot (busy; verified on a later pass): Redis follows each
 * commit, so a list being written differs from any snapshot for a
 * moment. The service's periodic verify. */
bool queue_view_verify_settled(PGconn *pg, kredis_t *r,
                               struct queue_view_report *rep);

#endif
