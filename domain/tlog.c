/* tlog — the queue's transparency log (tlog.h). */
#include "tlog.h"

#include "log.h"
#include "pg.h"
#include "rowbuf.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define B64 sodium_base64_VARIANT_ORIGINAL

void tlog_commit_iin(const uint8_t secret[TLOG_SECRET], const char *iin,
                     uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, TLOG_SECRET);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)iin, strlen(iin));
    crypto_auth_hmacsha256_final(&st, out);
}

bool tlog_field_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
              *s == ':' || *s == '-'))
            return false;
    return true;
}

static bool valid_date(const char *d)
{
    static const char form[] = "dddd-dd-dd";
    if (strlen(d) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (form[i] == 'd' ? !(d[i] >= '0' && d[i] <= '9') : d[i] != '-')
            return false;
    return true;
}

int tlog_entry_format(const struct tlog_leaf *l, char *out, size_t len)
{
    if (!tlog_field_ok(l->authority_id) || !tlog_field_ok(l->list) ||
        !tlog_field_ok(l->cause) ||
        (strcmp(l->event, "registered") != 0 &&
         strcmp(l->event, "removed") != 0) ||
        (l->has_reason && !tlog_field_ok(l->reason)) ||
        !valid_date(l->date))
        return -1;
    char commitment[65], reason[64];
    sodium_bin2hex(commitment, sizeof(commitment), l->commitment, 32);
    if (l->has_reason)
        snprintf(reason, sizeof(reason), "\"%s\"", l->reason);
    else
        snprintf(reason, sizeof(reason), "null");
    int n = snprintf(out, len,
                     "{\"v\":1,\"authority_id\":\"%s\",\"list\":\"%s\","
                     "\"number\":%" PRIu64 ",\"seq\":%" PRIu64 ","
                     "\"event\":\"%s\",\"cause\":\"%s\",\"reason\":%s,"
                     "\"date\":\"%s\",\"commitment\":\"%s\"}",
                     l->authority_id, l->list, l->number, l->seq, l->event,
                     l->cause, reason, l->date, commitment);
    return n > 0 && (size_t)n < len ? n : -1;
}

/* Copies the string member key of o into out; false when it is not a
 * string that fits. */
static bool member(json_t *o, const char *key, char *out, size_t len)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) >= len)
        return false;
    snprintf(out, len, "%s", s);
    return true;
}

static bool integer(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

bool tlog_entry_parse(const char *bytes, size_t len, struct tlog_leaf *out,
                      char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    json_error_t err;
    json_t *o = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &err);
    char commitment[65] = "";
    json_t *reason = json_object_get(o, "reason");
    uint64_t v = 0;
    bool ok = json_is_object(o) && integer(o, "v", &v) && v == 1 &&
              member(o, "authority_id", out->authority_id,
                     sizeof(out->authority_id)) &&
              member(o, "list", out->list, sizeof(out->list)) &&
              integer(o, "number", &out->number) &&
              integer(o, "seq", &out->seq) &&
              member(o, "event", out->event, sizeof(out->event)) &&
              member(o, "cause", out->cause, sizeof(out->cause)) &&
              (json_is_null(reason) ||
               member(o, "reason", out->reason, sizeof(out->reason))) &&
              member(o, "date", out->date, sizeof(out->date)) &&
              member(o, "commitment", commitment, sizeof(commitment)) &&
              strlen(commitment) == 64 &&
              sodium_hex2bin(out->commitment, 32, commitment, 64, NULL,
                             NULL, NULL) == 0;
    out->has_reason = ok && !json_is_null(reason);
    json_decref(o);
    if (!ok) {
        snprintf(why, whylen, "not a leaf of format v1 (a field is "
                 "missing or malformed)");
        return false;
    }
    char again[TLOG_ENTRY_MAX];
    int n = tlog_entry_format(out, again, sizeof(again));
    if (n < 0 || (size_t)n != len || memcmp(again, bytes, len) != 0) {
        snprintf(why, whylen, "the leaf is not in the one form v1 allows "
                 "(field order, spacing or characters)");
        return false;
    }
    return true;
}

/* ---- signed tree heads ------------------------------------------- */

int tlog_sth_message(const struct tlog_sth *s, char *out, size_t len)
{
    char root[2 * MERKLE_HASH + 1];
    sodium_bin2hex(root, sizeof(root), s->root, MERKLE_HASH);
    int n = snprintf(out, len, "kezek-tlog-v1\n%s\n%" PRIu64 "\n%s\n%"
                     PRId64 "\n", s->authority_id, s->size, root, s->ms);
    return n > 0 && (size_t)n < len ? n : -1;
}

void tlog_sth_sign(struct tlog_sth *s, const struct signer *key)
{
    char msg[TLOG_STH_MAX];
    tlog_sth_message(s, msg, sizeof(msg));
    notice_sign(key, msg, s->signature);
    snprintf(s->key_id, sizeof(s->key_id), "%s", key->key_id);
}

bool tlog_sth_verify(const struct tlog_sth *s, const uint8_t *pk)
{
    char msg[TLOG_STH_MAX];
    uint8_t sig[crypto_sign_BYTES];
    size_t n = 0;
    int len = tlog_sth_message(s, msg, sizeof(msg));
    return len > 0 &&
           sodium_base642bin(sig, sizeof(sig), s->signature,
                             strlen(s->signature), NULL, &n, NULL,
                             B64) == 0 &&
           n == sizeof(sig) &&
           crypto_sign_verify_detached(sig, (const uint8_t *)msg,
                                       (size_t)len, pk) == 0;
}

json_t *tlog_sth_json(const struct tlog_sth *s)
{
    char root[2 * MERKLE_HASH + 1];
    sodium_bin2hex(root, sizeof(root), s->root, MERKLE_HASH);
    return json_pack("{s:s, s:I, s:s, s:I, s:s, s:s}", "authority_id",
                     s->authority_id, "tree_size", (json_int_t)s->size,
                     "root_hash", root, "timestamp_ms", (json_int_t)s->ms,
                     "key_id", s->key_id, "signature", s->signature);
}

bool tlog_sth_from_row(const PGresult *r, int row, int col,
                       const char *authority, struct tlog_sth *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->authority_id, sizeof(s->authority_id), "%s", authority);
    s->size = strtoull(PQgetvalue(r, row, col), NULL, 10);
    s->ms = strtoll(PQgetvalue(r, row, col + 2), NULL, 10);
    snprintf(s->key_id, sizeof(s->key_id), "%s",
             PQgetvalue(r, row, col + 3));
    snprintf(s->signature, sizeof(s->signature), "%s",
             PQgetvalue(r, row, col + 4));
    const char *root = PQgetvalue(r, row, col + 1);
    return strlen(root) == 2 * MERKLE_HASH &&
           sodium_hex2bin(s->root, MERKLE_HASH, root, 2 * MERKLE_HASH, NULL,
                          NULL, NULL) == 0;
}

bool tlog_sth_from_json(json_t *j, struct tlog_sth *s, char *why,
                        size_t whylen)
{
    memset(s, 0, sizeof(*s));
    char root[2 * MERKLE_HASH + 1];
    uint64_t ms = 0;
    bool ok = json_is_object(j) &&
              member(j, "authority_id", s->authority_id,
                     sizeof(s->authority_id)) &&
              integer(j, "tree_size", &s->size) &&
              member(j, "root_hash", root, sizeof(root)) &&
              strlen(root) == 2 * MERKLE_HASH &&
              sodium_hex2bin(s->root, MERKLE_HASH, root, 2 * MERKLE_HASH,
                             NULL, NULL, NULL) == 0 &&
              integer(j, "timestamp_ms", &ms) &&
              member(j, "key_id", s->key_id, sizeof(s->key_id)) &&
              member(j, "signature", s->signature, sizeof(s->signature));
    s->ms = (int64_t)ms;
    if (!ok)
        snprintf(why, whylen, "not a signed tree head (a field is missing "
                 "or malformed)");
    return ok;
}

json_t *tlog_proof_json(const merkle_hash_t *proof, int len)
{
    json_t *a = json_array();
    for (int i = 0; a && i < len; i++) {
        char h[2 * MERKLE_HASH + 1];
        sodium_bin2hex(h, sizeof(h), proof[i], MERKLE_HASH);
        json_array_append_new(a, json_string(h));
    }
    return a;
}

int tlog_proof_from_json(json_t *a, merkle_hash_t *proof)
{
    if (!json_is_array(a) || json_array_size(a) > MERKLE_MAX_PROOF)
        return -1;
    size_t i;
    json_t *h;
    json_array_foreach(a, i, h) {
        const char *s = json_string_value(h);
        if (!s || strlen(s) != 2 * MERKLE_HASH ||
            sodium_hex2bin(proof[i], MERKLE_HASH, s, 2 * MERKLE_HASH, NULL,
                           NULL, NULL) != 0)
            return -1;
    }
    return (int)json_array_size(a);
}

/* ---- the writer --------------------------------------------------- */

static const struct pg_stmt writer_stmts[] = {TLOG_STMTS, {NULL, NULL}};

bool tlog_prepare(PGconn *conn)
{
    PGresult *r = pg_query(conn, "SELECT name FROM pg_prepared_statements"
                           " WHERE name LIKE 'tlog\\_%'", 0, NULL);
    if (!r)
        return false;
    bool ok = true;
    for (const struct pg_stmt *st = writer_stmts; ok && st->name; st++) {
        bool have = false;
        for (int i = 0; i < PQntuples(r); i++)
            have = have || strcmp(PQgetvalue(r, i, 0), st->name) == 0;
        if (!have) {
            PGresult *p = PQprepare(conn, st->name, st->sql, 0, NULL);
            ok = PQresultStatus(p) == PGRES_COMMAND_OK;
            if (!ok)
                log_error("tlog.prepare", "%s: %s", st->name,
                          PQresultErrorMessage(p));
            PQclear(p);
        }
    }
    PQclear(r);
    return ok;
}

struct tree {
    char authority_id[64];
    struct merkle_frontier f;
    uint64_t start;                 /* its size when locked */
};

enum { LOCK_COLS = 1, NODE_COLS = 5, HEAD_COLS = 7 };

struct tlog_writer {
    struct tree *trees;
    int ntrees, cap;
    rowbuf_t *lock, *nodes, *heads;
    int added;
    /* the leaf being appended, for emit */
    const struct tree *cur;
    const char *cur_entry;
};

tlog_writer_t *tlog_writer_new(void)
{
    tlog_writer_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->lock = rowbuf_new("tlog_lock", LOCK_COLS);
    w->nodes = rowbuf_new("tlog_nodes", NODE_COLS);
    w->heads = rowbuf_new("tlog_heads", HEAD_COLS);
    if (!w->lock || !w->nodes || !w->heads)
        tlog_writer_destroy(&w);
    return w;
}

void tlog_writer_destroy(tlog_writer_t **self_p)
{
    tlog_writer_t *w = *self_p;
    if (!w)
        return;
    rowbuf_destroy(&w->lock);
    rowbuf_destroy(&w->nodes);
    rowbuf_destroy(&w->heads);
    free(w->trees);
    free(w);
    *self_p = NULL;
}

void tlog_reset(tlog_writer_t *w)
{
    w->ntrees = 0;
    w->added = 0;
    rowbuf_clear(w->lock);
    rowbuf_clear(w->nodes);
    rowbuf_clear(w->heads);
}

int tlog_pending(const tlog_writer_t *w)
{
    return w->added;
}

static struct tree *find(tlog_writer_t *w, const char *authority)
{
    for (int i = 0; i < w->ntrees; i++)
        if (strcmp(w->trees[i].authority_id, authority) == 0)
            return &w->trees[i];
    return NULL;
}

/* The tree's edge from its head row: size and the hex of last[0 …]. */
static bool edge_read(struct tree *t, const char *size, const char *hex)
{
    memset(&t->f, 0, sizeof(t->f));
    t->f.size = strtoull(size, NULL, 10);
    t->start = t->f.size;
    int levels = merkle_frontier_levels(&t->f);
    size_t n = 0;
    return strlen(hex) == (size_t)levels * 2 * MERKLE_HASH &&
           (levels == 0 ||
            sodium_hex2bin((uint8_t *)t->f.last, sizeof(t->f.last), hex,
                           strlen(hex), NULL, &n, NULL) == 0) &&
           n == (size_t)levels * MERKLE_HASH;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many different names ids holds; -1 when out of memory. */
static int count_distinct(const char *const *ids, int n)
{
    const char **v = malloc((size_t)(n ? n : 1) * sizeof(*v));
    if (!v)
        return -1;
    memcpy(v, ids, (size_t)n * sizeof(*v));
    qsort(v, (size_t)n, sizeof(*v), by_name);
    int d = 0;
    for (int i = 0; i < n; i++)
        d += i == 0 || strcmp(v[i - 1], v[i]) != 0;
    free(v);
    return d;
}

bool tlog_lock(tlog_writer_t *w, PGconn *conn,
               const char *const *authorities, int n)
{
    tlog_reset(w);
    if (n == 0)
        return true;
    /* the heads that exist are locked; any missing is created, and the
     * lock taken again (a tree's first leaf only) */
    PGresult *r = NULL;
    bool ok = true;
    for (int pass = 0; ok && pass < 2; pass++) {
        for (int i = 0; ok && i < n; i++) {
            const char *v[LOCK_COLS] = {authorities[i]};
            ok = rowbuf_add(w->lock, NULL, NULL, v);
        }
        PQclear(r);
        r = ok ? rowbuf_run(w->lock, conn) : NULL;
        ok = r != NULL;
        if (!ok || pass == 1)
            break;
        int distinct = count_distinct(authorities, n);
        ok = distinct >= 0;
        if (!ok || PQntuples(r) == distinct)
            break;
        rowbuf_t *add = rowbuf_new("tlog_add", LOCK_COLS);
        for (int i = 0; ok && add && i < n; i++) {
            const char *v[LOCK_COLS] = {authorities[i]};
            ok = rowbuf_add(add, NULL, NULL, v);
        }
        PGresult *a = ok && add ? rowbuf_run(add, conn) : NULL;
        ok = a != NULL;
        PQclear(a);
        rowbuf_destroy(&add);
    }
    int rows = r ? PQntuples(r) : 0;
    if (ok && rows > w->cap) {
        struct tree *t = realloc(w->trees, (size_t)rows * sizeof(*t));
        ok = t != NULL;
        if (ok) {
            w->trees = t;
            w->cap = rows;
        }
    }
    for (int i = 0; ok && i < rows; i++) {
        struct tree *t = &w->trees[w->ntrees++];
        snprintf(t->authority_id, sizeof(t->authority_id), "%s",
                 PQgetvalue(r, i, 0));
        ok = edge_read(t, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        if (!ok)
            log_error("tlog.edge", "the stored edge of a tree does not "
                      "match its size (authority %s)", t->authority_id);
    }
    PQclear(r);
    if (!ok)
        tlog_reset(w);
    return ok;
}

/* merkle_write_fn: a stored subtree becomes a row of tlog_node; a leaf
 * carries its bytes. */
static bool emit(void *ctx, int level, uint64_t index, const uint8_t *hash)
{
    tlog_writer_t *w = ctx;
    char h[2 * MERKLE_HASH + 1], l[8], i[24];
    sodium_bin2hex(h, sizeof(h), hash, MERKLE_HASH);
    snprintf(l, sizeof(l), "%d", level);
    snprintf(i, sizeof(i), "%" PRIu64, index);
    const char *v[NODE_COLS] = {w->cur->authority_id, l, i, h,
                                level == 0 ? w->cur_entry : NULL};
    return rowbuf_add(w->nodes, NULL, NULL, v);
}

bool tlog_add(tlog_writer_t *w, const struct tlog_leaf *l, uint64_t *index)
{
    struct tree *t = find(w, l->authority_id);
    char entry[TLOG_ENTRY_MAX];
    int len = tlog_entry_format(l, entry, sizeof(entry));
    if (!t || len < 0) {
        log_error("tlog.add", t ? "a leaf's field is malformed"
                                : "the tree was not locked");
        return false;
    }
    merkle_hash_t leaf;
    merkle_leaf_hash(entry, (size_t)len, leaf);
    w->cur = t;
    w->cur_entry = entry;
    *index = t->f.size;
    /* a failed append leaves rows behind: the batch is then undone */
    if (!merkle_frontier_append(&t->f, leaf, emit, w))
        return false;
    w->added++;
    return true;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The head row of a grown tree: its edge and its signed head. */
static bool head_row(tlog_writer_t *w, const struct tree *t,
                     struct authority_keys *keys, int64_t ms)
{
    struct tlog_sth s = {.size = t->f.size, .ms = ms};
    snprintf(s.authority_id, sizeof(s.authority_id), "%s", t->authority_id);
    merkle_frontier_root(&t->f, s.root);
    tlog_sth_sign(&s, authority_key(keys, t->authority_id));
    int levels = merkle_frontier_levels(&t->f);
    char edge[64 * 2 * MERKLE_HASH + 1], root[2 * MERKLE_HASH + 1];
    char size[24], at[24];
    sodium_bin2hex(edge, sizeof(edge), (const uint8_t *)t->f.last,
                   (size_t)levels * MERKLE_HASH);
    sodium_bin2hex(root, sizeof(root), s.root, MERKLE_HASH);
    snprintf(size, sizeof(size), "%" PRIu64, s.size);
    snprintf(at, sizeof(at), "%" PRId64, ms);
    const char *v[HEAD_COLS] = {t->authority_id, size, edge, root, at,
                                s.key_id, s.signature};
    return rowbuf_add(w->heads, NULL, NULL, v);
}

bool tlog_write(tlog_writer_t *w, PGconn *conn, struct authority_keys *keys)
{
    if (w->added == 0) {
        tlog_reset(w);
        return true;
    }
    int64_t ms = now_ms();
    bool ok = true;
    for (int i = 0; ok && i < w->ntrees; i++)
        if (w->trees[i].f.size > w->trees[i].start)
            ok = head_row(w, &w->trees[i], keys, ms);
    ok = ok && rowbuf_flush(w->nodes, conn) && rowbuf_flush(w->heads, conn);
    tlog_reset(w);
    return ok;
}

/* ---- the reader --------------------------------------------------- */

int tlog_read_sth(PGconn *conn, const char *authority, struct tlog_sth *s)
{
    const char *p[1] = {authority};
    PGresult *r = pg_run(conn, "tlog_sth_get", 1, p);
    if (!r)
        return -1;
    int found = PQntuples(r) != 1                          ? 0
                : tlog_sth_from_row(r, 0, 0, authority, s) ? 1
                                                           : -1;
    PQclear(r);
    return found;
}

/* The stored subtrees a proof reads: gathered by a first pass that
 * only notes them, read in one statement, then served to the second. */
struct wanted {
    int n;
    struct {
        int level;
        uint64_t index;
        bool have;
        merkle_hash_t hash;
    } at[2 * MERKLE_MAX_PROOF];
};

static bool note(void *ctx, int level, uint64_t index, uint8_t *out)
{
    struct wanted *w = ctx;
    memset(out, 0, MERKLE_HASH);
    for (int i = 0; i < w->n; i++)
        if (w->at[i].level == level && w->at[i].index == index)
            return true;
    if (w->n == (int)(sizeof(w->at) / sizeof(w->at[0])))
        return false;
    w->at[w->n].level = level;
    w->at[w->n].index = index;
    w->at[w->n++].have = false;
    return true;
}

static bool serve(void *ctx, int level, uint64_t index, uint8_t *out)
{
    struct wanted *w = ctx;
    for (int i = 0; i < w->n; i++)
        if (w->at[i].level == level && w->at[i].index == index &&
            w->at[i].have) {
            memcpy(out, w->at[i].hash, MERKLE_HASH);
            return true;
        }
    return false;
}

/* 1 when every wanted subtree was read, 0 when one is not stored, -1 on
 * a database error. */
static int fetch(PGconn *conn, const char *authority, struct wanted *w)
{
    /* "{l,…}" and "{i,…}": integers only */
    char *levels = malloc((size_t)w->n * 8 + 3);
    char *idx = malloc((size_t)w->n * 24 + 3);
    bool ok = levels && idx;
    if (ok) {
        size_t a = 0, b = 0;
        levels[a++] = '{';
        idx[b++] = '{';
        for (int i = 0; i < w->n; i++) {
            a += (size_t)sprintf(levels + a, "%s%d", i ? "," : "",
                                 w->at[i].level);
            b += (size_t)sprintf(idx + b, "%s%" PRIu64, i ? "," : "",
                                 w->at[i].index);
        }
        levels[a++] = '}';
        idx[b++] = '}';
        levels[a] = idx[b] = '\0';
    }
    const char *p[3] = {authority, levels, idx};
    PGresult *r = ok ? pg_run(conn, "tlog_nodes_get", 3, p) : NULL;
    free(levels);
    free(idx);
    ok = r != NULL;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        int level = atoi(PQgetvalue(r, i, 0));
        uint64_t index = strtoull(PQgetvalue(r, i, 1), NULL, 10);
        const char *h = PQgetvalue(r, i, 2);
        for (int k = 0; k < w->n; k++)
            if (w->at[k].level == level && w->at[k].index == index &&
                strlen(h) == 2 * MERKLE_HASH)
                w->at[k].have = sodium_hex2bin(w->at[k].hash, MERKLE_HASH,
                                               h, 2 * MERKLE_HASH, NULL,
                                               NULL, NULL) == 0;
    }
    PQclear(r);
    if (!ok)
        return -1;
    for (int k = 0; k < w->n; k++)
        if (!w->at[k].have)
            return 0;
    return 1;
}

int tlog_read_proof(PGconn *conn, const char *authority, bool consistency,
                    uint64_t index, uint64_t n, merkle_hash_t *proof)
{
    struct wanted *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    int len = consistency
                  ? merkle_consistency_proof(index, n, note, w, proof)
                  : merkle_inclusion_proof(index, n, note, w, proof);
    int got = len > 0 ? fetch(conn, authority, w) : 1;
    if (got < 0 || (len > 0 && got == 0))
        len = got < 0 ? -1 : -2;
    else if (len > 0)
        len = consistency ? merkle_consistency_proof(index, n, serve, w,
                                                     proof)
                          : merkle_inclusion_proof(index, n, serve, w,
                                                   proof);
    free(w);
    return len;
}
