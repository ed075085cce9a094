/* merkle — the append-only Merkle tree of RFC 9162 (Certificate
 * Transparency 2.0, section 2.1), SHA-256, for the transparency log of
 * the queue (issue 24).
 *
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256()
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
 *                two smaller than n
 *
 * Storage is the caller's: the tree is kept as the hashes of its
 * complete subtrees — level L, index i covers leaves [i·2^L, (i+1)·2^L)
 * — which never change once written (the log is append-only). Appending
 * leaf n writes the stored hashes that leaf completes (at most
 * log2(n) + 1); a root, an inclusion proof or a consistency proof reads
 * O(log n) of them. The same scheme as Go's checksum database
 * (golang.org/x/mod/sumdb/tlog), written from RFC 9162. */
#ifndef KEZEK_MERKLE_H
#define KEZEK_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
/* a proof never has more hashes than this (2^64 leaves) */
#define MERKLE_MAX_PROOF 128

typedef uint8_t merkle_hash_t[MERKLE_HASH];

/* Reads the stored hash of the complete subtree (level, index) into
 * out; false when it cannot (a storage error, or not stored). */
typedef bool (*merkle_read_fn)(void *ctx, int level, uint64_t index,
                               uint8_t *out);
/* Stores the hash of the complete subtree (level, index); false on a
 * storage error. */
typedef bool (*merkle_write_fn)(void *ctx, int level, uint64_t index,
                                const uint8_t *hash);

void merkle_leaf_hash(const void *entry, size_t len, uint8_t *out);
void merkle_node_hash(const uint8_t *left, const uint8_t *right,
                      uint8_t *out);

/* Appends leaf number n (the tree has n leaves before it) whose leaf
 * hash is leaf: writes it at (0, n) and every subtree it completes.
 * false when a read or write failed. */
bool merkle_append(uint64_t n, const uint8_t *leaf, merkle_read_fn read,
                   merkle_write_fn write, void *ctx);

/* The root hash of the first n leaves (n may be 0). */
bool merkle_root(uint64_t n, merkle_read_fn read, void *ctx, uint8_t *out);

/* The inclusion proof of leaf index in the tree of size n (RFC 9162
 * 2.1.3.1) into proof; its length, or -1 (index ≥ n, a read failed). */
int merkle_inclusion_proof(uint64_t index, uint64_t n, merkle_read_fn read,
                           void *ctx, merkle_hash_t *proof);
/* Whether proof shows that leaf (a leaf hash) is leaf index of the tree
 * of size n with root (RFC 9162 2.1.3.2). */
bool merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t *leaf,
                             const merkle_hash_t *proof, int len,
                             const uint8_t *root);

/* The consistency proof between the trees of sizes m ≤ n (RFC 9162
 * 2.1.4.1); its length, or -1. */
int merkle_consistency_proof(uint64_t m, uint64_t n, merkle_read_fn read,
                             void *ctx, merkle_hash_t *proof);
/* Whether proof shows that the tree of size n with root_n extends the
 * tree of size m with root_m (RFC 9162 2.1.4.2). */
bool merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t *root_m,
                               const uint8_t *root_n,
                               const merkle_hash_t *proof, int len);

/* The right edge of a tree kept in memory: the newest complete subtree
 * of each level (last[L] is (L, (size >> L) - 1) when size ≥ 2^L),
 * from which a leaf is appended and the root computed without reading
 * the stored tree — how a writer appends a batch, and how a monitor
 * replays a whole log. */
struct merkle_frontier {
    uint64_t size;
    merkle_hash_t last[64];
};
/* The levels last holds: the bit length of size. */
int merkle_frontier_levels(const struct merkle_frontier *f);
/* Appends the leaf hash leaf; emit (may be NULL) gets every complete
 * subtree it makes, (0, size) first — what merkle_append writes. false
 * when emit fails (f is then unchanged) or the tree is full. */
bool merkle_frontier_append(struct merkle_frontier *f, const uint8_t *leaf,
                            merkle_write_fn emit, void *ctx);
/* The root hash of the tree f is the edge of. */
void merkle_frontier_root(const struct merkle_frontier *f, uint8_t *out);

#endif
