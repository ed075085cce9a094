/* bench-tlog — the transparency log's costs (issue 24; domain/tlog.h).
 *
 *   bench-tlog append CONNINFO KEYFILE LEAVES BATCH TREES
 *       appends LEAVES leaves as the queue's consumer does — a
 *       transaction per BATCH leaves, spread over TREES synthetic
 *       authorities ("bench-tlog-<k>"), each grown tree's head signed —
 *       and prints the wall time per leaf (hashing, signing, Postgres,
 *       the commit's fsync).
 *
 *   bench-tlog fill CONNINFO KEYFILE AUTHORITY N
 *       grows AUTHORITY's log to N leaves (batches of 10,000).
 *
 *   bench-tlog proofs URL AUTHORITY COUNT
 *       COUNT inclusion proofs of random leaves in the newest tree
 *       (each verified against its root) and COUNT consistency proofs
 *       from random sizes to it (each well formed), fetched over HTTP on
 *       one keep-alive connection; prints each kind's latency
 *       percentiles in ms.
 *
 * Each prints one JSON line. The synthetic leaves hold random
 * commitments; the authorities have no reference row, so they never mix
 * with a real queue. */
#include "benchkit.h"
#include "keys.h"
#include "merkle.h"
#include "pg.h"
#include "tlog.h"
#include "webget.h"

#include <curl/curl.h>
#include <sys/resource.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>

static struct authority_keys keys;

static PGconn *connect_or_die(const char *conninfo, const char *keyfile)
{
    char err[512];
    PGconn *c = pg_connect_plain(conninfo, err, sizeof(err));
    if (!c || !tlog_prepare(c) ||
        !authority_keys_init(&keys, keyfile, NULL, err, sizeof(err))) {
        fprintf(stderr, "bench-tlog: %s\n", err);
        exit(1);
    }
    return c;
}

/* The time the last batch spent committing, locking the trees,
 * appending in memory, and writing (signing included). */
static double commit_s, lock_s, add_s, write_s;

/* One transaction of n leaves over the authorities ids[0 … ntrees-1]
 * (leaf i to ids[(first + i) % ntrees]). The commit, which the
 * consumer's batch pays anyway, is timed apart (commit_s). */
static bool batch(PGconn *c, tlog_writer_t *w, const char *const *ids,
                  int ntrees, long first, int n)
{
    struct tlog_leaf l = {0};
    snprintf(l.list, sizeof(l.list), "wwii");
    snprintf(l.event, sizeof(l.event), "registered");
    snprintf(l.cause, sizeof(l.cause), "decision");
    snprintf(l.date, sizeof(l.date), "2026-12-04");
    const char **touched = malloc((size_t)n * sizeof(*touched));
    for (int i = 0; i < n; i++)
        touched[i] = ids[(first + i) % ntrees];
    double t0 = bench_now();
    bool ok = pg_exec(c, "BEGIN") && tlog_lock(w, c, touched, n);
    double t1 = bench_now();
    lock_s += t1 - t0;
    for (int i = 0; ok && i < n; i++) {
        snprintf(l.authority_id, sizeof(l.authority_id), "%s", touched[i]);
        l.number = l.seq = (uint64_t)(first + i + 1);
        randombytes_buf(l.commitment, sizeof(l.commitment));
        uint64_t index;
        ok = tlog_add(w, &l, &index);
    }
    free(touched);
    double t2 = bench_now();
    add_s += t2 - t1;
    ok = ok && tlog_write(w, c, &keys);
    double t3 = bench_now();
    write_s += t3 - t2;
    ok = ok && pg_exec(c, "COMMIT");
    commit_s = bench_now() - t3;
    return ok;
}

/* CPU seconds so far of this process and of c's backend (the bench
 * runs on the database's machine, as the services do). */
static double cpu_s(PGconn *c)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", PQbackendPID(c));
    FILE *f = fopen(path, "r");
    unsigned long ut = 0, st = 0;
    if (f) {
        /* after the command's ")": fields 3 … ; utime 14, stime 15 */
        char line[1024];
        char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                         "%*u %lu %lu", &ut, &st) != 2)
            ut = st = 0;
        fclose(f);
    }
    return s + (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmd_append(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    PGconn *c = connect_or_die(argv[2], argv[3]);
    long leaves = atol(argv[4]);
    int size = atoi(argv[5]), ntrees = atoi(argv[6]);
    if (leaves < 1 || size < 1 || ntrees < 1 || ntrees > 1000)
        return 2;
    char (*names)[32] = calloc((size_t)ntrees, sizeof(*names));
    const char **ids = calloc((size_t)ntrees, sizeof(*ids));
    for (int k = 0; k < ntrees; k++) {
        snprintf(names[k], sizeof(names[k]), "bench-tlog-%d", k);
        ids[k] = names[k];
    }
    tlog_writer_t *w = tlog_writer_new();
    double t0 = bench_now(), commits = 0, cpu0 = cpu_s(c);
    for (long done = 0; done < leaves; done += size) {
        int n = leaves - done < size ? (int)(leaves - done) : size;
        if (!batch(c, w, ids, ntrees, done, n)) {
            fprintf(stderr, "bench-tlog: %s\n", pg_last_error());
            return 1;
        }
        commits += commit_s;
    }
    double s = bench_now() - t0 - commits, cpu = cpu_s(c) - cpu0;
    double per = 1e6 / (double)leaves;
    printf("{\"leaves\": %ld, \"batch\": %d, \"trees\": %d, \"seconds\": "
           "%.3f, \"us_per_leaf\": %.1f, \"of_which_us\": {\"lock\": %.1f, "
           "\"append\": %.1f, \"sign_and_write\": %.1f}, "
           "\"commit_us_per_leaf\": %.1f, \"cpu_us_per_leaf\": %.1f}\n",
           leaves, size, ntrees, s, s * per, lock_s * per, add_s * per,
           write_s * per, commits * per, cpu * per);
    tlog_writer_destroy(&w);
    free(ids);
    free(names);
    PQfinish(c);
    return 0;
}

static int cmd_fill(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    PGconn *c = connect_or_die(argv[2], argv[3]);
    const char *ids[1] = {argv[4]};
    long n = atol(argv[5]);
    tlog_writer_t *w = tlog_writer_new();
    double t0 = bench_now();
    for (long done = 0; done < n; done += 10000) {
        int k = n - done < 10000 ? (int)(n - done) : 10000;
        if (!batch(c, w, ids, 1, done, k)) {
            fprintf(stderr, "bench-tlog: %s\n", pg_last_error());
            return 1;
        }
    }
    printf("{\"authority\": \"%s\", \"leaves\": %ld, \"seconds\": %.1f}\n",
           argv[4], n, bench_now() - t0);
    tlog_writer_destroy(&w);
    PQfinish(c);
    return 0;
}

static json_t *get(CURL *curl, const char *url)
{
    size_t len = 0;
    long status = 0;
    CURLcode rc;
    char *body = webget(curl, url, NULL, 60, &len, &status, &rc);
    json_t *j = body && status == 200 ? json_loadb(body, len, 0, NULL)
                                      : NULL;
    free(body);
    return j;
}

static void percentiles(const char *name, double *ms, int n, bool last)
{
    qsort(ms, (size_t)n, sizeof(*ms), bench_cmp_double);
    printf("\"%s\": {\"count\": %d, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"max_ms\": %.3f}%s", name, n, ms[n / 2], ms[n * 99 / 100],
           ms[n - 1], last ? "" : ", ");
}

static int cmd_proofs(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const char *base = argv[2], *auth = argv[3];
    int count = atoi(argv[4]);
    if (count < 1)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    char url[512];
    snprintf(url, sizeof(url), "%s/v1/transparency/%s/sth", base, auth);
    json_t *sth = get(curl, url);
    struct tlog_sth top;
    char why[128];
    if (!sth || !tlog_sth_from_json(sth, &top, why, sizeof(why))) {
        fprintf(stderr, "bench-tlog: no head at %s\n", url);
        return 1;
    }
    json_decref(sth);
    /* the leaves' hashes are read once, for the inclusion checks */
    double *inc = calloc((size_t)count, sizeof(double));
    double *con = calloc((size_t)count, sizeof(double));
    int bad = 0;
    merkle_hash_t proof[MERKLE_MAX_PROOF];
    for (int i = 0; i < count; i++) {
        uint64_t index = randombytes_uniform((uint32_t)top.size);
        snprintf(url, sizeof(url), "%s/v1/transparency/%s/entries?start=%"
                 PRIu64 "&end=%" PRIu64, base, auth, index, index + 1);
        json_t *e = get(curl, url);
        const char *entry = json_string_value(json_object_get(
            json_array_get(json_object_get(e, "entries"), 0), "entry"));
        merkle_hash_t leaf;
        merkle_leaf_hash(entry ? entry : "", entry ? strlen(entry) : 0,
                         leaf);
        json_decref(e);
        snprintf(url, sizeof(url), "%s/v1/transparency/%s/proof/inclusion"
                 "?leaf_index=%" PRIu64 "&tree_size=%" PRIu64, base, auth,
                 index, top.size);
        double t0 = bench_now();
        json_t *p = get(curl, url);
        inc[i] = (bench_now() - t0) * 1e3;
        int len = p ? tlog_proof_from_json(json_object_get(p, "audit_path"),
                                           proof)
                    : -1;
        bad += !merkle_verify_inclusion(index, top.size, leaf, proof, len,
                                        top.root);
        json_decref(p);
    }
    for (int i = 0; i < count; i++) {
        uint64_t m = 1 + randombytes_uniform((uint32_t)top.size - 1);
        snprintf(url, sizeof(url), "%s/v1/transparency/%s/proof/consistency"
                 "?first=%" PRIu64 "&second=%" PRIu64, base, auth, m,
                 top.size);
        double t0 = bench_now();
        json_t *p = get(curl, url);
        con[i] = (bench_now() - t0) * 1e3;
        bad += p == NULL ||
               tlog_proof_from_json(json_object_get(p, "consistency_path"),
                                    proof) < 0;
        json_decref(p);
    }
    printf("{\"tree_size\": %" PRIu64 ", ", top.size);
    percentiles("inclusion", inc, count, false);
    percentiles("consistency", con, count, false);
    printf("\"failed\": %d}\n", bad);
    free(inc);
    free(con);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    int rc = 2;
    if (argc > 1 && strcmp(argv[1], "append") == 0)
        rc = cmd_append(argc, argv);
    else if (argc > 1 && strcmp(argv[1], "fill") == 0)
        rc = cmd_fill(argc, argv);
    else if (argc > 1 && strcmp(argv[1], "proofs") == 0)
        rc = cmd_proofs(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: bench-tlog append CONNINFO KEYFILE LEAVES "
                        "BATCH TREES | fill CONNINFO KEYFILE AUTHORITY N | "
                        "proofs URL AUTHORITY COUNT\n");
    return rc;
}
