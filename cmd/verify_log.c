/* kezek verify-log — an independent monitor of the queue's transparency
 * logs (issue 24; docs/transparency.md). It trusts nothing but the
 * authorities' public keys and HTTP answers it checks itself:
 *
 *  - every signed tree head of the history and the newest one carry a
 *    valid Ed25519 signature of their authority's key (GET
 *    /v1/reference/keys), sizes only grow, timestamps never go back;
 *  - every leaf is in the one form v1 allows, of its authority, and
 *    the tree recomputed from all leaves has, at every signed size, the
 *    signed root (which proves every head consistent with every other);
 *    with --state, the newest head is also proved consistent (RFC 9162
 *    consistency proof) with the one verified last time;
 *  - replaying the leaves gives each list: numbers never given twice,
 *    a removal only of an entry that is there (same number,
 *    order and commitment); with --token, the positions recomputed from
 *    the order of acceptance must equal the queue's list API;
 *  - --notice FILE: the citizen's registration notice (its receipt of
 *    place) — its head's signature, the leaf's commitment to the IIN
 *    under the notice's secret, the leaf's inclusion in the newest tree
 *    and that tree's consistency with the notice's, and whether a later
 *    leaf took the entry off its list.
 *
 * Exit status: 0 verified, 1 a check failed (the log or the notice is
 * not what it must be), 2 usage, 3 the service could not be read. */
#include "verify_log.h"

#include "merkle.h"
#include "tlog.h"
#include "webget.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define B64 sodium_base64_VARIANT_ORIGINAL
#define MAX_KEYS 512

struct key {
    char key_id[64], authority_id[64];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

struct monitor {
    const char *url, *keys_url, *keys_file, *token, *state_path;
    CURL *curl;
    struct key keys[MAX_KEYS];
    int nkeys;
    int failures;
    int unread;                     /* answers that could not be read */
    bool quiet;
    json_t *state;                  /* {authority: {tree_size, root_hash}} */
};

/* ---- HTTP -------------------------------------------------------- */

/* GET base + path as JSON; NULL (said, and counted in m->unread) when
 * it cannot be read. An
 * answer 429 (the edge's rate limit) or 503 is asked again after a
 * pause (1, 2, 4, 8, 10 s). */
static json_t *get(struct monitor *m, const char *base, const char *path,
                   bool with_token)
{
    char url[2048], auth[300];
    snprintf(url, sizeof(url), "%s%s", base, path);
    struct curl_slist *h = NULL;
    if (with_token && m->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", m->token);
        h = curl_slist_append(h, auth);
    }
    json_t *j = NULL;
    CURLcode rc = CURLE_OK;
    long status = 0;
    for (int attempt = 0; attempt < 6; attempt++) {
        size_t len = 0;
        char *body = webget(m->curl, url, h, 60, &len, &status, &rc);
        j = body && status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
        free(body);
        if (j || (status != 429 && status != 503))
            break;
        sleep(attempt < 3 ? 1u << attempt : 10u);
    }
    curl_slist_free_all(h);
    if (!j) {
        m->unread++;
        fprintf(stderr, "verify-log: GET %s: %s (%ld)\n", url,
                rc != CURLE_OK ? curl_easy_strerror(rc)
                : status != 200 ? "not 200" : "not JSON", status);
    }
    return j;
}

/* The leaves [start, end) of authority's log (GET …/entries), or NULL
 * (counted) when they cannot be read. */
static json_t *leaves(struct monitor *m, const char *authority,
                      uint64_t start, uint64_t end)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/transparency/%s/entries?start=%"
             PRIu64 "&end=%" PRIu64, authority, start, end);
    return get(m, m->url, path, false);
}

/* ---- reporting ---------------------------------------------------- */

static void fail(struct monitor *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    m->failures++;
}

static void ok(struct monitor *m, const char *fmt, ...)
{
    if (m->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("ok   ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* ---- keys and heads ----------------------------------------------- */

static bool load_keys(struct monitor *m)
{
    json_t *a = m->keys_file ? json_load_file(m->keys_file, 0, NULL)
                             : get(m, m->keys_url, "/v1/reference/keys",
                                   false);
    if (!a && m->keys_file)
        fprintf(stderr, "verify-log: cannot read %s\n", m->keys_file);
    if (!a)
        return false;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(a, "keys"), i, k) {
        const char *id = json_string_value(json_object_get(k, "key_id"));
        const char *auth = json_string_value(json_object_get(k,
                                                             "authority_id"));
        const char *pk = json_string_value(json_object_get(k, "public_key"));
        size_t n = 0;
        if (!id || !pk || m->nkeys == MAX_KEYS || strlen(id) >= 64)
            continue;
        struct key *key = &m->keys[m->nkeys];
        if (sodium_base642bin(key->pk, sizeof(key->pk), pk, strlen(pk), NULL,
                              &n, NULL, B64) != 0 || n != sizeof(key->pk))
            continue;
        snprintf(key->key_id, sizeof(key->key_id), "%s", id);
        snprintf(key->authority_id, sizeof(key->authority_id), "%s",
                 auth ? auth : "");
        m->nkeys++;
    }
    json_decref(a);
    return true;
}

/* Whether s is signed by a key that may sign for its authority: the
 * authority's own, or the deployment's default (no authority). */
static bool head_valid(struct monitor *m, const struct tlog_sth *s)
{
    for (int i = 0; i < m->nkeys; i++)
        if (strcmp(m->keys[i].key_id, s->key_id) == 0)
            return (!m->keys[i].authority_id[0] ||
                    strcmp(m->keys[i].authority_id, s->authority_id) == 0) &&
                   tlog_sth_verify(s, m->keys[i].pk);
    return false;
}

static bool hex32(const char *s, uint8_t *out)
{
    return s && strlen(s) == 64 &&
           sodium_hex2bin(out, 32, s, 64, NULL, NULL, NULL) == 0;
}

/* The newest head of authority, its signature checked; false (said)
 * otherwise. */
static bool newest(struct monitor *m, const char *authority,
                   struct tlog_sth *s)
{
    char path[256], why[128];
    snprintf(path, sizeof(path), "/v1/transparency/%s/sth", authority);
    json_t *j = get(m, m->url, path, false);
    if (!j)
        return false;
    bool good = tlog_sth_from_json(j, s, why, sizeof(why)) &&
                strcmp(s->authority_id, authority) == 0;
    json_decref(j);
    if (!good) {
        fail(m, "%s: the newest head is malformed", authority);
        return false;
    }
    if (!head_valid(m, s)) {
        fail(m, "%s: the newest head's signature does not verify (key %s)",
             authority, s->key_id);
        return false;
    }
    return true;
}

static bool consistent(struct monitor *m, const char *authority,
                       uint64_t m_size, const uint8_t *m_root,
                       const struct tlog_sth *n)
{
    if (m_size == 0 || m_size == n->size)
        return m_size == 0 || sodium_memcmp(m_root, n->root, 32) == 0;
    char path[256];
    snprintf(path, sizeof(path), "/v1/transparency/%s/proof/consistency"
             "?first=%" PRIu64 "&second=%" PRIu64, authority, m_size,
             n->size);
    json_t *j = get(m, m->url, path, false);
    if (!j)
        return false;
    merkle_hash_t proof[MERKLE_MAX_PROOF];
    int len = tlog_proof_from_json(json_object_get(j, "consistency_path"),
                                   proof);
    json_decref(j);
    return len >= 0 && merkle_verify_consistency(m_size, n->size, m_root,
                                                 n->root, proof, len);
}

/* ---- the replay of a log ------------------------------------------ */

struct entry {
    uint64_t number, seq;
    uint8_t commitment[32];
    bool active;
};

/* A list's entries by number (numbers are small and dense). */
struct list {
    char name[32];
    struct entry *by_number;
    uint64_t cap;
};

struct replay {
    struct list lists[16];
    int nlists;
};

static struct list *list_of(struct replay *r, const char *name)
{
    for (int i = 0; i < r->nlists; i++)
        if (strcmp(r->lists[i].name, name) == 0)
            return &r->lists[i];
    if (r->nlists == 16)
        return NULL;
    struct list *l = &r->lists[r->nlists++];
    memset(l, 0, sizeof(*l));
    snprintf(l->name, sizeof(l->name), "%s", name);
    return l;
}

static struct entry *slot(struct list *l, uint64_t number)
{
    if (number >= l->cap) {
        uint64_t cap = l->cap ? l->cap : 1024;
        while (cap <= number)
            cap *= 2;
        struct entry *e = realloc(l->by_number, cap * sizeof(*e));
        if (!e)
            return NULL;
        memset(e + l->cap, 0, (cap - l->cap) * sizeof(*e));
        l->by_number = e;
        l->cap = cap;
    }
    return &l->by_number[number];
}

/* Applies leaf index (parsed as p) to the lists; false (said) when the
 * history it tells is impossible. */
static bool apply(struct monitor *m, struct replay *r, uint64_t index,
                  const struct tlog_leaf *p)
{
    struct list *l = list_of(r, p->list);
    struct entry *e = l && p->number > 0 ? slot(l, p->number) : NULL;
    if (!e) {
        fail(m, "%s leaf %" PRIu64 ": list %s number %" PRIu64
             " cannot be placed", p->authority_id, index, p->list,
             p->number);
        return false;
    }
    if (strcmp(p->event, "registered") == 0) {
        if (e->number) { /* numbers are never given twice (p.5) */
            fail(m, "%s leaf %" PRIu64 ": number %" PRIu64 " of %s given "
                 "again", p->authority_id, index, p->number, p->list);
            return false;
        }
        e->number = p->number;
        e->seq = p->seq;
        e->active = true;
        memcpy(e->commitment, p->commitment, 32);
        return true;
    }
    if (!e->active || e->seq != p->seq ||
        sodium_memcmp(e->commitment, p->commitment, 32) != 0) {
        fail(m, "%s leaf %" PRIu64 ": removes number %" PRIu64 " of %s, "
             "which is not there as the log placed it", p->authority_id,
             index, p->number, p->list);
        return false;
    }
    e->active = false;
    return true;
}

static int by_seq(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a;
    const struct entry *y = *(const struct entry *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The positions the log gives list l (its active entries in their
 * order of acceptance) compared with the queue's list API. */
static void compare_positions(struct monitor *m, const char *authority,
                              struct list *l)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < l->cap; i++)
        n += l->by_number[i].active;
    struct entry **order = malloc((n ? n : 1) * sizeof(*order));
    if (!order)
        return;
    n = 0;
    for (uint64_t i = 0; i < l->cap; i++)
        if (l->by_number[i].active)
            order[n++] = &l->by_number[i];
    qsort(order, n, sizeof(*order), by_seq);
    uint64_t seen = 0, wrong = 0;
    char cursor[64] = "";
    for (;;) {
        char path[512];
        snprintf(path, sizeof(path), "/v1/queue/%s/%s/entries?limit=500%s%s",
                 authority, l->name, cursor[0] ? "&cursor=" : "", cursor);
        json_t *j = get(m, m->url, path, true);
        if (!j) {
            break;
        }
        json_t *items = json_object_get(j, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            uint64_t number = (uint64_t)json_integer_value(
                json_object_get(it, "number"));
            uint64_t pos = (uint64_t)json_integer_value(
                json_object_get(it, "position"));
            if (pos == 0 || pos > n || order[pos - 1]->number != number)
                wrong++;
            seen++;
        }
        const char *next = json_string_value(json_object_get(j,
                                                             "next_cursor"));
        bool more = next && *next && json_array_size(items) > 0;
        if (more)
            snprintf(cursor, sizeof(cursor), "%s", next);
        json_decref(j);
        if (!more)
            break;
    }
    if (wrong || seen != n)
        fail(m, "%s/%s: the queue shows %" PRIu64 " entries, the log %"
             PRIu64 "; %" PRIu64 " positions differ", authority, l->name,
             seen, n, wrong);
    else
        ok(m, "%s/%s: %" PRIu64 " positions as the log orders them",
           authority, l->name, n);
    free(order);
}

/* Verifies authority's whole log. */
static void verify_authority(struct monitor *m, const char *authority)
{
    struct tlog_sth top;
    if (!newest(m, authority, &top))
        return;
    /* the history, page by page, each signature checked */
    size_t nh = 0, caph = 1024;
    struct tlog_sth *heads = malloc(caph * sizeof(*heads));
    uint64_t after = 0;
    int64_t last_ms = 0;
    bool good = heads != NULL;
    while (good) {
        char path[256], why[128];
        snprintf(path, sizeof(path), "/v1/transparency/%s/sth/history"
                 "?after=%" PRIu64 "&limit=1000", authority, after);
        json_t *j = get(m, m->url, path, false);
        if (!j) {
            good = false;
            break;
        }
        json_t *a = json_object_get(j, "heads");
        size_t i;
        json_t *h;
        json_array_foreach(a, i, h) {
            if (nh == caph) {
                struct tlog_sth *more = realloc(heads, 2 * caph *
                                                sizeof(*heads));
                if (!more) {
                    good = false;
                    break;
                }
                heads = more;
                caph *= 2;
            }
            struct tlog_sth *s = &heads[nh];
            if (!tlog_sth_from_json(h, s, why, sizeof(why)) ||
                strcmp(s->authority_id, authority) != 0 ||
                s->size <= after || !head_valid(m, s) || s->ms < last_ms) {
                fail(m, "%s: the head of size %" PRIu64 " in the history "
                     "is malformed, unsigned, or out of order", authority,
                     s->size);
                good = false;
                break;
            }
            after = s->size;
            last_ms = s->ms;
            nh++;
        }
        size_t got = json_array_size(a);
        json_decref(j);
        if (got < 1000)
            break;
    }
    if (good && (nh == 0 || heads[nh - 1].size != top.size)) {
        fail(m, "%s: the newest head (size %" PRIu64 ") is not the last "
             "of the history", authority, top.size);
        good = false;
    }
    if (!good) {
        free(heads);
        return;
    }
    ok(m, "%s: %zu signed heads, sizes growing, signatures valid",
       authority, nh);

    /* every leaf, the tree recomputed, each signed root compared */
    struct merkle_frontier *f = calloc(1, sizeof(*f));
    struct replay *r = calloc(1, sizeof(*r));
    size_t hi = 0;
    good = f && r;
    for (uint64_t start = 0; good && start < top.size;) {
        uint64_t end = start + TLOG_PAGE_MAX < top.size
                           ? start + TLOG_PAGE_MAX : top.size;
        json_t *j = leaves(m, authority, start, end);
        if (!j) {
            good = false;
            break;
        }
        json_t *a = json_object_get(j, "entries");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) {
            uint64_t index = (uint64_t)json_integer_value(
                json_object_get(e, "leaf_index"));
            const char *bytes = json_string_value(json_object_get(e,
                                                                  "entry"));
            struct tlog_leaf p;
            char why[160];
            if (index != f->size || !bytes) {
                fail(m, "%s: leaf %" PRIu64 " missing", authority, f->size);
                good = false;
                break;
            }
            if (!tlog_entry_parse(bytes, strlen(bytes), &p, why,
                                  sizeof(why)) ||
                strcmp(p.authority_id, authority) != 0) {
                fail(m, "%s leaf %" PRIu64 ": %s", authority, index,
                     strcmp(p.authority_id, authority) ? "of another log"
                                                        : why);
                good = false;
                break;
            }
            merkle_hash_t leaf;
            merkle_leaf_hash(bytes, strlen(bytes), leaf);
            merkle_frontier_append(f, leaf, NULL, NULL);
            if (!apply(m, r, index, &p))
                good = false;
            while (good && hi < nh && heads[hi].size == f->size) {
                merkle_hash_t root;
                merkle_frontier_root(f, root);
                if (sodium_memcmp(root, heads[hi].root, 32) != 0) {
                    fail(m, "%s: the leaves do not give the signed root of "
                         "size %" PRIu64 " (rewritten or reordered)",
                         authority, heads[hi].size);
                    good = false;
                }
                hi++;
            }
            if (!good)
                break;
        }
        json_decref(j);
        if (good && f->size != end) {
            fail(m, "%s: leaves %" PRIu64 "–%" PRIu64 " missing", authority,
                 f->size, end - 1);
            good = false;
        }
        start = end;
    }
    if (good)
        ok(m, "%s: %" PRIu64 " leaves in the one form, every signed root "
           "recomputed", authority, top.size);
    /* consistent with what this monitor verified last time */
    json_t *was = json_object_get(m->state, authority);
    uint8_t was_root[32];
    if (good && was &&
        hex32(json_string_value(json_object_get(was, "root_hash")),
              was_root)) {
        uint64_t was_size = (uint64_t)json_integer_value(
            json_object_get(was, "tree_size"));
        if (!consistent(m, authority, was_size, was_root, &top)) {
            fail(m, "%s: the log of size %" PRIu64 " is not consistent "
                 "with the one verified before (size %" PRIu64 ")",
                 authority, top.size, was_size);
            good = false;
        } else {
            ok(m, "%s: consistent with the head verified before (size %"
               PRIu64 ")", authority, was_size);
        }
    }
    if (good && m->state) {
        char root[65];
        sodium_bin2hex(root, sizeof(root), top.root, 32);
        json_object_set_new(m->state, authority, json_pack(
            "{s:I, s:s}", "tree_size", (json_int_t)top.size, "root_hash",
            root));
    }
    if (good && m->token)
        for (int i = 0; i < r->nlists; i++)
            compare_positions(m, authority, &r->lists[i]);
    for (int i = 0; r && i < r->nlists; i++)
        free(r->lists[i].by_number);
    free(r);
    free(f);
    free(heads);
}

/* ---- a citizen's notice ------------------------------------------- */

static void verify_notice(struct monitor *m, const char *file)
{
    json_error_t err;
    json_t *doc = json_load_file(file, 0, &err);
    /* a cabinet message holds its document */
    json_t *d = json_object_get(doc, "document") ? json_object_get(doc,
                                                                  "document")
                                                 : doc;
    json_t *t = json_object_get(d, "transparency");
    const char *iin = json_string_value(json_object_get(d, "applicant_iin"));
    const char *authority = json_string_value(json_object_get(d,
                                                              "authority_id"));
    const char *entry = json_string_value(json_object_get(t, "entry"));
    uint8_t secret[TLOG_SECRET], commitment[32];
    struct tlog_sth at, top;
    struct tlog_leaf p;
    char why[160];
    json_t *queue = json_object_get(d, "queue");
    uint64_t index = (uint64_t)json_integer_value(json_object_get(t,
                                                              "leaf_index"));
    if (!t || !iin || !authority || !entry ||
        !hex32(json_string_value(json_object_get(t, "secret")), secret) ||
        !tlog_sth_from_json(json_object_get(t, "sth"), &at, why,
                            sizeof(why)) ||
        !tlog_entry_parse(entry, strlen(entry), &p, why, sizeof(why))) {
        fail(m, "%s: not a registration notice with a receipt of place",
             file);
        json_decref(doc);
        return;
    }
    tlog_commit_iin(secret, iin, commitment);
    if (sodium_memcmp(commitment, p.commitment, 32) != 0 ||
        strcmp(p.authority_id, authority) != 0 ||
        strcmp(p.event, "registered") != 0 ||
        strcmp(p.list, json_string_value(json_object_get(queue, "list"))
                           ?: "") != 0 ||
        p.number != (uint64_t)json_integer_value(json_object_get(queue,
                                                                 "number")))
        fail(m, "notice: its leaf does not commit to this person's place "
             "(IIN, list, number)");
    else
        ok(m, "notice: the leaf commits to this person's place: %s list %s "
           "number %" PRIu64, authority, p.list, p.number);
    if (!head_valid(m, &at) || strcmp(at.authority_id, authority) != 0 ||
        index >= at.size)
        fail(m, "notice: its signed head does not verify");
    else
        ok(m, "notice: its signed head (size %" PRIu64 ") verifies", at.size);
    if (!newest(m, authority, &top)) {
        json_decref(doc);
        return;
    }
    char path[256];
    snprintf(path, sizeof(path), "/v1/transparency/%s/proof/inclusion"
             "?leaf_index=%" PRIu64 "&tree_size=%" PRIu64, authority, index,
             top.size);
    json_t *j = get(m, m->url, path, false);
    merkle_hash_t proof[MERKLE_MAX_PROOF], leaf;
    merkle_leaf_hash(entry, strlen(entry), leaf);
    int len = j ? tlog_proof_from_json(json_object_get(j, "audit_path"),
                                       proof)
                : -1;
    if (j && !merkle_verify_inclusion(index, top.size, leaf, proof, len,
                                      top.root))
        fail(m, "notice: the leaf is NOT in the log of size %" PRIu64
             " as signed now", top.size);
    else if (j)
        ok(m, "notice: the leaf %" PRIu64 " is in the log as signed now "
           "(size %" PRIu64 "), unchanged", index, top.size);
    json_decref(j);
    /* the leaf the log serves there is the notice's, byte for byte */
    json_t *served = leaves(m, authority, index, index + 1);
    const char *now = json_string_value(json_object_get(
        json_array_get(json_object_get(served, "entries"), 0), "entry"));
    if (served && (!now || strcmp(now, entry) != 0))
        fail(m, "notice: the log shows another leaf at %" PRIu64
             " than the notice's", index);
    json_decref(served);
    if (!consistent(m, authority, at.size, at.root, &top))
        fail(m, "notice: the log now is not an extension of the log the "
             "notice was given with (history rewritten)");
    else
        ok(m, "notice: the log now extends the one of the notice (size %"
           PRIu64 " → %" PRIu64 ")", at.size, top.size);
    /* taken off the list since? a later leaf that removes this entry */
    bool removed = false;
    for (uint64_t start = index + 1; start < top.size && !removed;) {
        uint64_t end = start + TLOG_PAGE_MAX < top.size
                           ? start + TLOG_PAGE_MAX : top.size;
        json_t *page = leaves(m, authority, start, end);
        if (!page)
            break;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(page, "entries"), i, e) {
            const char *b = json_string_value(json_object_get(e, "entry"));
            struct tlog_leaf q;
            if (b && tlog_entry_parse(b, strlen(b), &q, why, sizeof(why)) &&
                strcmp(q.event, "removed") == 0 &&
                strcmp(q.list, p.list) == 0 && q.number == p.number &&
                sodium_memcmp(q.commitment, p.commitment, 32) == 0) {
                removed = true;
                printf("note the entry left its list at leaf %" PRIu64
                       " (%s, %s, %s)\n", (uint64_t)json_integer_value(
                           json_object_get(e, "leaf_index")), q.cause,
                       q.has_reason ? q.reason : "-", q.date);
            }
        }
        json_decref(page);
        start = end;
    }
    if (!removed)
        ok(m, "notice: no later leaf took the entry off its list");
    sodium_memzero(secret, sizeof(secret));
    json_decref(doc);
}

static void usage(void)
{
    fputs("usage: kezek verify-log --url BASE [--keys-url BASE | --keys FILE]\n"
          "         [--authority ID]... [--notice FILE] [--token TOKEN]\n"
          "         [--state FILE] [--quiet]\n"
          "  BASE: the edge (https://…), or the queue service; the keys\n"
          "  come from BASE/v1/reference/keys unless --keys-url is given,\n"
          "  or from FILE (the same JSON, pinned by the monitor).\n"
          "  Without --authority and --notice: every log.\n",
          stderr);
}

int cmd_verify_log(int argc, char **argv)
{
    struct monitor m = {0};
    const char *authorities[256], *notice = NULL;
    int na = 0;
    for (int i = 0; i < argc; i++) {
        bool has = i + 1 < argc;
        if (strcmp(argv[i], "--quiet") == 0)
            m.quiet = true;
        else if (has && strcmp(argv[i], "--url") == 0)
            m.url = argv[++i];
        else if (has && strcmp(argv[i], "--keys-url") == 0)
            m.keys_url = argv[++i];
        else if (has && strcmp(argv[i], "--keys") == 0)
            m.keys_file = argv[++i];
        else if (has && strcmp(argv[i], "--token") == 0)
            m.token = argv[++i];
        else if (has && strcmp(argv[i], "--state") == 0)
            m.state_path = argv[++i];
        else if (has && strcmp(argv[i], "--notice") == 0)
            notice = argv[++i];
        else if (has && strcmp(argv[i], "--authority") == 0 && na < 256)
            authorities[na++] = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    if (!m.url) {
        usage();
        return 2;
    }
    if (!m.keys_url)
        m.keys_url = m.url;
    if (m.state_path) {
        m.state = json_load_file(m.state_path, 0, NULL);
        if (!json_is_object(m.state)) {
            json_decref(m.state);
            m.state = json_object();
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m.curl = curl_easy_init();
    if (!m.curl || !load_keys(&m)) {
        m.unread++;
    } else if (notice) {
        verify_notice(&m, notice);
        for (int i = 0; i < na; i++)
            verify_authority(&m, authorities[i]);
    } else if (na) {
        for (int i = 0; i < na; i++)
            verify_authority(&m, authorities[i]);
    } else {
        json_t *logs = get(&m, m.url, "/v1/transparency", false);
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(logs, "logs"), i, l) {
            const char *a = json_string_value(json_object_get(l,
                                                              "authority_id"));
            if (a)
                verify_authority(&m, a);
        }
        json_decref(logs);
    }
    if (m.state && m.failures == 0 && m.unread == 0 &&
        json_dump_file(m.state, m.state_path, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "verify-log: cannot write %s\n", m.state_path);
        m.unread++;
    }
    json_decref(m.state);
    if (m.curl)
        curl_easy_cleanup(m.curl);
    curl_global_cleanup();
    printf("%s: %d check(s) failed%s\n", m.failures ? "NOT VERIFIED"
                                                    : "verified",
           m.failures, m.unread ? ", some answers could not be read" : "");
    return m.failures ? 1 : m.unread ? 3 : 0;
}
