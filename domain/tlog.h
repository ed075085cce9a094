/* tlog — the queue's transparency log (issue 24; docs/transparency.md):
 * every change of a queue entry is a leaf of its authority's
 * append-only Merkle tree (RFC 9162, lib/merkle), appended in the
 * transaction of the change, and each tree's head is signed by the
 * authority's key (keys.h) in the same transaction.
 *
 * A leaf is a short JSON text with its fields in a fixed order and
 * nothing escaped (tlog_entry_format is the only form a leaf has):
 *
 *   {"v":1,"authority_id":"…","list":"…","number":N,"seq":S,
 *    "event":"registered"|"removed","cause":"…","reason":null|"…",
 *    "date":"YYYY-MM-DD","commitment":"<64 hex>"}
 *
 * It holds no personal data: the commitment is HMAC-SHA256 of the IIN
 * keyed by a secret of the entry (32 random bytes) that only the
 * citizen receives, in the registration notice.
 *
 * A signed tree head (STH) signs, with Ed25519, the bytes
 *   "kezek-tlog-v1\n<authority_id>\n<size>\n<root hex>\n<ms>\n".
 *
 * Lock order, the same everywhere (no deadlock between the queue's
 * consumer and the life changes): the lists (queue_list), then the
 * trees' heads (tlog_head, by authority id), then the event log's head.
 */
#ifndef KEZEK_TLOG_H
#define KEZEK_TLOG_H

#include "keys.h"
#include "merkle.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define TLOG_SECRET 32
#define TLOG_ENTRY_MAX 512
#define TLOG_STH_MAX 256
/* the most leaves GET …/entries returns at once */
#define TLOG_PAGE_MAX 1000

/* A leaf's fields. Text fields are [A-Za-z0-9_.:-] only. */
struct tlog_leaf {
    char authority_id[64], list[32], event[16], cause[32], reason[48];
    char date[11];                  /* YYYY-MM-DD, Asia/Almaty */
    bool has_reason;
    uint64_t number, seq;
    uint8_t commitment[32];
};

/* Whether s may be a leaf's text field: non-empty, [A-Za-z0-9_.:-]. */
bool tlog_field_ok(const char *s);
/* HMAC-SHA256(secret, iin): the leaf's commitment to the person. */
void tlog_commit_iin(const uint8_t secret[TLOG_SECRET], const char *iin,
                     uint8_t out[32]);
/* The leaf's bytes into out; their length, or -1 when a field is not
 * of the form above or out is too small. */
int tlog_entry_format(const struct tlog_leaf *l, char *out, size_t len);
/* Reads a leaf's bytes back; false (why says what) unless they are
 * exactly tlog_entry_format's form. */
bool tlog_entry_parse(const char *bytes, size_t len, struct tlog_leaf *out,
                      char *why, size_t whylen);

/* A signed tree head. */
struct tlog_sth {
    char authority_id[64];
    uint64_t size;
    uint8_t root[MERKLE_HASH];
    int64_t ms;                     /* when it was signed, Unix ms */
    char key_id[64];
    char signature[100];            /* base64 */
};
/* The bytes an STH signs into out (TLOG_STH_MAX); their length. */
int tlog_sth_message(const struct tlog_sth *s, char *out, size_t len);
void tlog_sth_sign(struct tlog_sth *s, const struct signer *key);
/* Whether s carries pk's signature (pk: 32 raw bytes). */
bool tlog_sth_verify(const struct tlog_sth *s, const uint8_t *pk);
/* {"authority_id","tree_size","root_hash","timestamp_ms","key_id",
 *  "signature"} */
json_t *tlog_sth_json(const struct tlog_sth *s);
/* A head from a row as Postgres gives it (text): its size, root (hex),
 * timestamp, key id and signature in columns col … col + 4; false when
 * the root is not 64 hex digits. */
bool tlog_sth_from_row(const PGresult *r, int row, int col,
                       const char *authority, struct tlog_sth *s);
/* The other way; false (why) when a field is missing or malformed. */
bool tlog_sth_from_json(json_t *j, struct tlog_sth *s, char *why,
                        size_t whylen);

/* A proof's hashes as the endpoints give them: an array of 64-hex
 * strings, the deepest first. */
json_t *tlog_proof_json(const merkle_hash_t *proof, int len);
/* The other way into proof; its length, -1 when malformed. */
int tlog_proof_from_json(json_t *a, merkle_hash_t *proof);

/* ---- the writer: appends in the caller's open transaction --------- */

/* The writer's statements (set-based, rowbuf.h): a service puts
 * TLOG_STMTS in its pg_stmt table; any other connection gets them with
 * tlog_prepare. */
#define TLOG_STMTS                                                        \
    {"tlog_add", TLOG_ADD_SQL}, {"tlog_lock", TLOG_LOCK_SQL},             \
    {"tlog_nodes", TLOG_NODES_SQL}, {"tlog_heads", TLOG_HEADS_SQL}
/* the trees' heads, created when new (then locked by tlog_lock) … */
#define TLOG_ADD_SQL                                                      \
    "INSERT INTO tlog_head (authority_id) SELECT DISTINCT a"              \
    " FROM unnest($1::text[]) a ON CONFLICT DO NOTHING"
/* … and locked in one order (a lock, not a new version of the row) */
#define TLOG_LOCK_SQL                                                     \
    "SELECT authority_id, size, encode(frontier, 'hex') FROM tlog_head"   \
    " WHERE authority_id = ANY ($1::text[]) ORDER BY 1 FOR UPDATE"
#define TLOG_NODES_SQL                                                    \
    "INSERT INTO tlog_node (authority_id, level, idx, hash, entry)"       \
    " SELECT a, l::smallint, i::bigint, decode(h, 'hex'), e"              \
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"        \
    " $5::text[]) AS v (a, l, i, h, e)"
#define TLOG_HEADS_SQL                                                    \
    "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"  \
    " $4::text[], $5::text[], $6::text[], $7::text[]) AS v (a, n, f, r,"  \
    " ms, k, s)), h AS (UPDATE tlog_head t SET size = v.n::bigint,"       \
    " frontier = decode(v.f, 'hex'), sth_size = v.n::bigint,"             \
    " sth_root = decode(v.r, 'hex'), sth_ms = v.ms::bigint,"              \
    " sth_key = v.k, sth_sig = v.s FROM v WHERE t.authority_id = v.a)"    \
    " INSERT INTO tlog_sth (authority_id, size, root, signed_ms, key_id,"  \
    " signature) SELECT a, n::bigint, decode(r, 'hex'), ms::bigint, k, s" \
    " FROM v"

/* Prepares on conn (idle: outside a transaction) the writer's
 * statements it lacks; false (logged) when it cannot. */
bool tlog_prepare(PGconn *conn) __attribute__((warn_unused_result));

typedef struct tlog_writer tlog_writer_t;

/* The writer runs the TLOG_STMTS by name, in the caller's pipeline if
 * it has one (its writes deferred). NULL when out of memory. */
tlog_writer_t *tlog_writer_new(void);
void tlog_writer_destroy(tlog_writer_t **self_p);
/* Forgets everything added (the transaction rolled back). */
void tlog_reset(tlog_writer_t *w);
/* Locks the trees of n authorities (created when new; repeats allowed)
 * in the caller's open transaction and reads their edges; once per
 * transaction, before tlog_add. */
bool tlog_lock(tlog_writer_t *w, PGconn *conn,
               const char *const *authorities, int n)
    __attribute__((warn_unused_result));
/* Appends l to its authority's tree (locked): *index gets its index. */
bool tlog_add(tlog_writer_t *w, const struct tlog_leaf *l, uint64_t *index)
    __attribute__((warn_unused_result));
/* Writes what was added — the leaves and the subtrees they complete,
 * each grown tree's new head signed by its authority's key — and
 * empties w. */
bool tlog_write(tlog_writer_t *w, PGconn *conn, struct authority_keys *keys)
    __attribute__((warn_unused_result));
/* Leaves added since the last tlog_write / tlog_reset. */
int tlog_pending(const tlog_writer_t *w);

/* ---- the reader (the public endpoints) ---------------------------- */

/* The reader's statements: the connection must have them prepared (put
 * TLOG_READ_STMTS in the service's pg_stmt table). */
#define TLOG_READ_STMTS                                                   \
    {"tlog_sth_get",                                                      \
     "SELECT sth_size, encode(sth_root, 'hex'), sth_ms, sth_key, sth_sig" \
     " FROM tlog_head WHERE authority_id = $1 AND sth_root IS NOT NULL"}, \
    {"tlog_nodes_get", /* the stored subtrees a proof reads */           \
     "SELECT level, idx, encode(hash, 'hex') FROM tlog_node"             \
     " WHERE authority_id = $1 AND (level, idx) IN (SELECT * FROM"       \
     " unnest($2::smallint[], $3::bigint[]))"}

/* The newest signed head of authority: 1, 0 when it has none, -1 on a
 * database error. */
int tlog_read_sth(PGconn *conn, const char *authority, struct tlog_sth *s);
/* The inclusion proof of leaf index in the tree of size n, or the
 * consistency proof between sizes index ≤ n (consistency); its length,
 * -1 on a database error, -2 when a subtree it needs is not stored (n
 * is beyond the log). Every size the log reached was signed, in the
 * transaction that reached it or within the same batch. */
int tlog_read_proof(PGconn *conn, const char *authority, bool consistency,
                    uint64_t index, uint64_t n, merkle_hash_t *proof);

#endif
