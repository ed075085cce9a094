/* merkle — RFC 9162 Merkle trees over stored complete subtrees
 * (merkle.h). */
#include "merkle.h"

#include <sodium.h>
#include <string.h>

void merkle_leaf_hash(const void *entry, size_t len, uint8_t *out)
{
    crypto_hash_sha256_state st;
    static const uint8_t zero = 0x00;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &zero, 1);
    crypto_hash_sha256_update(&st, entry, len);
    crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const uint8_t *left, const uint8_t *right,
                      uint8_t *out)
{
    crypto_hash_sha256_state st;
    static const uint8_t one = 0x01;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &one, 1);
    crypto_hash_sha256_update(&st, left, MERKLE_HASH);
    crypto_hash_sha256_update(&st, right, MERKLE_HASH);
    crypto_hash_sha256_final(&st, out);
}

/* The largest power of two smaller than n (n ≥ 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH(D[lo:hi]) for a range the tree's shape produces: a complete
 * aligned subtree is read; any other is split as RFC 9162 splits. */
static bool range_hash(uint64_t lo, uint64_t hi, merkle_read_fn read,
                       void *ctx, uint8_t *out)
{
    uint64_t size = hi - lo;
    if ((size & (size - 1)) == 0 && lo % size == 0) {
        int level = 0;
        while ((UINT64_C(1) << level) < size)
            level++;
        return read(ctx, level, lo >> level, out);
    }
    uint64_t k = split(size);
    merkle_hash_t l, r;
    if (!range_hash(lo, lo + k, read, ctx, l) ||
        !range_hash(lo + k, hi, read, ctx, r))
        return false;
    merkle_node_hash(l, r, out);
    return true;
}

bool merkle_append(uint64_t n, const uint8_t *leaf, merkle_read_fn read,
                   merkle_write_fn write, void *ctx)
{
    merkle_hash_t h, left;
    memcpy(h, leaf, MERKLE_HASH);
    if (!write(ctx, 0, n, h))
        return false;
    /* each level where the new node is a right child completes its
     * parent */
    for (int level = 0; (n >> level) & 1; level++) {
        if (!read(ctx, level, (n >> level) - 1, left))
            return false;
        merkle_node_hash(left, h, h);
        if (!write(ctx, level + 1, n >> (level + 1), h))
            return false;
    }
    return true;
}

bool merkle_root(uint64_t n, merkle_read_fn read, void *ctx, uint8_t *out)
{
    if (n == 0) {
        crypto_hash_sha256(out, (const uint8_t *)"", 0);
        return true;
    }
    return range_hash(0, n, read, ctx, out);
}

/* PATH(m, D[lo:hi]) appended to proof (the deepest first). */
static bool path(uint64_t m, uint64_t lo, uint64_t hi, merkle_read_fn read,
                 void *ctx, merkle_hash_t *proof, int *len)
{
    if (hi - lo == 1)
        return true;
    uint64_t k = split(hi - lo);
    bool left = m - lo < k;
    if (!(left ? path(m, lo, lo + k, read, ctx, proof, len)
               : path(m, lo + k, hi, read, ctx, proof, len)))
        return false;
    if (*len >= MERKLE_MAX_PROOF)
        return false;
    return left ? range_hash(lo + k, hi, read, ctx, proof[(*len)++])
                : range_hash(lo, lo + k, read, ctx, proof[(*len)++]);
}

int merkle_inclusion_proof(uint64_t index, uint64_t n, merkle_read_fn read,
                           void *ctx, merkle_hash_t *proof)
{
    int len = 0;
    if (index >= n || !path(index, 0, n, read, ctx, proof, &len))
        return -1;
    return len;
}

bool merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t *leaf,
                             const merkle_hash_t *proof, int len,
                             const uint8_t *root)
{
    if (index >= n || len < 0)
        return false;
    uint64_t fn = index, sn = n - 1;
    merkle_hash_t r;
    memcpy(r, leaf, MERKLE_HASH);
    for (int i = 0; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, MERKLE_HASH) == 0;
}

/* SUBPROOF(m, D[lo:hi], b) appended to proof. */
static bool subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b,
                     merkle_read_fn read, void *ctx, merkle_hash_t *proof,
                     int *len)
{
    if (*len >= MERKLE_MAX_PROOF)
        return false;
    if (m == hi - lo)
        return b || range_hash(lo, hi, read, ctx, proof[(*len)++]);
    uint64_t k = split(hi - lo);
    if (m <= k) {
        if (!subproof(m, lo, lo + k, b, read, ctx, proof, len) ||
            *len >= MERKLE_MAX_PROOF)
            return false;
        return range_hash(lo + k, hi, read, ctx, proof[(*len)++]);
    }
    if (!subproof(m - k, lo + k, hi, false, read, ctx, proof, len) ||
        *len >= MERKLE_MAX_PROOF)
        return false;
    return range_hash(lo, lo + k, read, ctx, proof[(*len)++]);
}

int merkle_consistency_proof(uint64_t m, uint64_t n, merkle_read_fn read,
                             void *ctx, merkle_hash_t *proof)
{
    int len = 0;
    if (m > n)
        return -1;
    if (m == 0 || m == n)
        return 0;
    return subproof(m, 0, n, true, read, ctx, proof, &len) ? len : -1;
}

bool merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t *root_m,
                               const uint8_t *root_n,
                               const merkle_hash_t *proof, int len)
{
    if (m > n || len < 0)
        return false;
    if (m == n)
        return len == 0 && sodium_memcmp(root_m, root_n, MERKLE_HASH) == 0;
    if (m == 0) /* every tree extends the empty one */
        return len == 0;
    if (len == 0)
        return false;
    /* a first tree of a power-of-two size is itself the first node */
    const uint8_t *first = proof[0];
    int i = 1;
    if ((m & (m - 1)) == 0) {
        first = root_m;
        i = 0;
    }
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    merkle_hash_t fr, sr;
    memcpy(fr, first, MERKLE_HASH);
    memcpy(sr, first, MERKLE_HASH);
    for (; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], fr, fr);
            merkle_node_hash(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, root_m, MERKLE_HASH) == 0 &&
           sodium_memcmp(sr, root_n, MERKLE_HASH) == 0;
}

int merkle_frontier_levels(const struct merkle_frontier *f)
{
    int n = 0;
    while (n < 64 && (f->size >> n) != 0)
        n++;
    return n;
}

bool merkle_frontier_append(struct merkle_frontier *f, const uint8_t *leaf,
                            merkle_write_fn emit, void *ctx)
{
    if (f->size == UINT64_MAX)
        return false;
    struct merkle_frontier next = *f;
    merkle_hash_t h;
    memcpy(h, leaf, MERKLE_HASH);
    for (int level = 0; level < 64; level++) {
        uint64_t index = f->size >> level;
        if (emit && !emit(ctx, level, index, h))
            return false;
        memcpy(next.last[level], h, MERKLE_HASH);
        if (!(index & 1)) /* a left child: its parent is not complete */
            break;
        merkle_node_hash(f->last[level], h, h);
    }
    next.size++;
    *f = next;
    return true;
}

void merkle_frontier_root(const struct merkle_frontier *f, uint8_t *out)
{
    merkle_hash_t r;
    bool any = false;
    /* the complete subtrees of the right edge, folded from the right */
    for (int level = 0; level < 64; level++) {
        if (!((f->size >> level) & 1))
            continue;
        if (any)
            merkle_node_hash(f->last[level], r, r);
        else
            memcpy(r, f->last[level], MERKLE_HASH);
        any = true;
    }
    if (any)
        memcpy(out, r, MERKLE_HASH);
    else
        crypto_hash_sha256(out, (const uint8_t *)"", 0);
}
