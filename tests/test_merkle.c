/* The Merkle tree of the transparency log (issue 24; RFC 9162 section
 * 2.1): roots against the definition computed directly and against the
 * Certificate Transparency test vectors, every inclusion and
 * consistency proof of every small tree verified, and tampering —
 * another leaf, another index, a changed proof hash, a rewritten
 * history — rejected. */
#include "merkle.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 70
#define LEVELS 8

/* The stored complete subtrees, in memory: (level, index) → hash. */
struct store {
    merkle_hash_t h[LEVELS][MAXN];
    bool set[LEVELS][MAXN];
    int reads;
};

static bool st_read(void *ctx, int level, uint64_t index, uint8_t *out)
{
    struct store *s = ctx;
    s->reads++;
    if (level >= LEVELS || index >= MAXN || !s->set[level][index])
        return false;
    memcpy(out, s->h[level][index], MERKLE_HASH);
    return true;
}

static bool st_write(void *ctx, int level, uint64_t index,
                     const uint8_t *hash)
{
    struct store *s = ctx;
    cr_assert(level < LEVELS && index < MAXN);
    cr_assert(!s->set[level][index], "a stored hash is never rewritten");
    memcpy(s->h[level][index], hash, MERKLE_HASH);
    s->set[level][index] = true;
    return true;
}

/* MTH(D[lo:hi]) straight from the definition, over leaf hashes. */
static void mth(merkle_hash_t *leaves, uint64_t lo, uint64_t hi,
                uint8_t *out)
{
    if (hi - lo == 1) {
        memcpy(out, leaves[lo], MERKLE_HASH);
        return;
    }
    uint64_t k = 1;
    while (k << 1 < hi - lo)
        k <<= 1;
    merkle_hash_t l, r;
    mth(leaves, lo, lo + k, l);
    mth(leaves, lo + k, hi, r);
    merkle_node_hash(l, r, out);
}

static struct store store;
static merkle_hash_t leaves[MAXN];

/* n leaves "entry <i>", appended one by one. */
static void build(int n)
{
    memset(&store, 0, sizeof(store));
    for (int i = 0; i < n; i++) {
        char e[32];
        int len = snprintf(e, sizeof(e), "entry %d", i);
        merkle_leaf_hash(e, (size_t)len, leaves[i]);
        cr_assert(merkle_append((uint64_t)i, leaves[i], st_read, st_write,
                                &store));
    }
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

Test(merkle, roots_follow_the_definition, .init = setup)
{
    build(MAXN);
    merkle_hash_t root, want;
    cr_assert(merkle_root(0, st_read, &store, root));
    crypto_hash_sha256(want, (const uint8_t *)"", 0);
    cr_assert_eq(memcmp(root, want, MERKLE_HASH), 0, "MTH({}) = SHA-256()");
    for (uint64_t n = 1; n <= MAXN; n++) {
        store.reads = 0;
        cr_assert(merkle_root(n, st_read, &store, root));
        mth(leaves, 0, n, want);
        cr_assert_eq(memcmp(root, want, MERKLE_HASH), 0, "root of %lu",
                     (unsigned long)n);
        cr_assert_leq(store.reads, 8, "O(log n) reads for n = %lu",
                      (unsigned long)n);
    }
}

static void hex(const char *s, uint8_t *out, size_t *len)
{
    *len = strlen(s) / 2;
    for (size_t i = 0; i < *len; i++)
        sscanf(s + 2 * i, "%2hhx", &out[i]);
}

/* The test vectors of RFC 6962's reference implementation (the same
 * hashing as RFC 9162): 8 leaves and the root after each. */
Test(merkle, certificate_transparency_vectors, .init = setup)
{
    static const char *const data[8] = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"};
    static const char *const roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
    memset(&store, 0, sizeof(store));
    for (int i = 0; i < 8; i++) {
        uint8_t d[32], want[32];
        size_t len, wl;
        hex(data[i], d, &len);
        merkle_hash_t leaf, root;
        merkle_leaf_hash(d, len, leaf);
        cr_assert(merkle_append((uint64_t)i, leaf, st_read, st_write,
                                &store));
        cr_assert(merkle_root((uint64_t)i + 1, st_read, &store, root));
        hex(roots[i], want, &wl);
        cr_assert_eq(memcmp(root, want, MERKLE_HASH), 0, "root of %d", i + 1);
    }
}

Test(merkle, every_inclusion_proof_verifies_and_tampering_fails,
     .init = setup)
{
    build(MAXN);
    merkle_hash_t proof[MERKLE_MAX_PROOF], root, bad;
    for (uint64_t n = 1; n <= MAXN; n++) {
        cr_assert(merkle_root(n, st_read, &store, root));
        for (uint64_t i = 0; i < n; i++) {
            int len = merkle_inclusion_proof(i, n, st_read, &store, proof);
            cr_assert_geq(len, 0);
            cr_assert(merkle_verify_inclusion(i, n, leaves[i], proof, len,
                                              root), "leaf %lu of %lu",
                      (unsigned long)i, (unsigned long)n);
            /* another entry in its place, or the entry at another index */
            cr_assert_not(merkle_verify_inclusion(i, n, leaves[(i + 1) % MAXN],
                                                  proof, len, root));
            if (n > 1)
                cr_assert_not(merkle_verify_inclusion((i + 1) % n, n,
                                                      leaves[i], proof, len,
                                                      root));
            for (int k = 0; k < len; k++) {
                memcpy(bad, proof[k], MERKLE_HASH);
                proof[k][0] ^= 1;
                cr_assert_not(merkle_verify_inclusion(i, n, leaves[i], proof,
                                                      len, root));
                memcpy(proof[k], bad, MERKLE_HASH);
            }
        }
        cr_assert_eq(merkle_inclusion_proof(n, n, st_read, &store, proof),
                     -1, "no leaf past the end");
    }
}

Test(merkle, every_consistency_proof_verifies_and_rewriting_fails,
     .init = setup)
{
    build(MAXN);
    merkle_hash_t proof[MERKLE_MAX_PROOF], rm, rn;
    for (uint64_t n = 1; n <= MAXN; n++) {
        cr_assert(merkle_root(n, st_read, &store, rn));
        for (uint64_t m = 0; m <= n; m++) {
            cr_assert(merkle_root(m, st_read, &store, rm));
            int len = merkle_consistency_proof(m, n, st_read, &store, proof);
            cr_assert_geq(len, 0);
            cr_assert(merkle_verify_consistency(m, n, rm, rn, proof, len),
                      "%lu → %lu", (unsigned long)m, (unsigned long)n);
            if (m == 0 || m == n)
                continue;
            /* a rewritten history: the old head does not match */
            merkle_hash_t other;
            memcpy(other, rm, MERKLE_HASH);
            other[31] ^= 0x80;
            cr_assert_not(merkle_verify_consistency(m, n, other, rn, proof,
                                                    len));
            for (int k = 0; k < len; k++) {
                proof[k][5] ^= 1;
                cr_assert_not(merkle_verify_consistency(m, n, rm, rn, proof,
                                                        len));
                proof[k][5] ^= 1;
            }
        }
    }
}

/* Two entries swapped: every root from the first swapped index on
 * differs, so a head signed before the swap no longer matches. */
Test(merkle, reordering_two_entries_changes_the_root, .init = setup)
{
    build(10);
    merkle_hash_t before, after;
    cr_assert(merkle_root(10, st_read, &store, before));
    merkle_hash_t t;
    memcpy(t, leaves[3], MERKLE_HASH);
    memcpy(leaves[3], leaves[4], MERKLE_HASH);
    memcpy(leaves[4], t, MERKLE_HASH);
    mth(leaves, 0, 10, after);
    cr_assert_neq(memcmp(before, after, MERKLE_HASH), 0);
}

/* The in-memory right edge (how the queue appends a batch and a monitor
 * replays a log) writes exactly the subtrees merkle_append writes, and
 * its root after every leaf is the definition's. */
static bool em_write(void *ctx, int level, uint64_t index,
                     const uint8_t *hash)
{
    return st_write(ctx, level, index, hash);
}

Test(merkle, the_frontier_appends_as_the_stored_tree_does, .init = setup)
{
    build(MAXN);
    static struct store mine;
    memset(&mine, 0, sizeof(mine));
    struct merkle_frontier f;
    memset(&f, 0, sizeof(f));
    merkle_hash_t root, want;
    merkle_frontier_root(&f, root);
    crypto_hash_sha256(want, (const uint8_t *)"", 0);
    cr_assert_eq(memcmp(root, want, MERKLE_HASH), 0);
    for (int n = 1; n <= MAXN; n++) {
        cr_assert(merkle_frontier_append(&f, leaves[n - 1], em_write,
                                         &mine));
        cr_assert_eq(f.size, (uint64_t)n);
        merkle_frontier_root(&f, root);
        mth(leaves, 0, (uint64_t)n, want);
        cr_assert_eq(memcmp(root, want, MERKLE_HASH), 0, "root of %d", n);
    }
    cr_assert_eq(memcmp(&mine.set, &store.set, sizeof(store.set)), 0,
                 "the same subtrees");
    cr_assert_eq(memcmp(&mine.h, &store.h, sizeof(store.h)), 0);
    cr_assert_eq(merkle_frontier_levels(&f), 7, "70 leaves: 7 levels");
}
