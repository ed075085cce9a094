#include "auth.h"

#include "event.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool principal_parse(const char *s, principal_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *id = NULL;
    if (strcmp(s, "portal") == 0) {
        out->kind = PRINCIPAL_PORTAL;
    } else if (strcmp(s, "ops") == 0) {
        out->kind = PRINCIPAL_OPS;
    } else if (strncmp(s, "office:", 7) == 0) {
        out->kind = PRINCIPAL_OFFICE;
        id = s + 7;
    } else if (strncmp(s, "centre:", 7) == 0) {
        out->kind = PRINCIPAL_CENTRE;
        id = s + 7;
    } else if (strncmp(s, "appeal:", 7) == 0) {
        out->kind = PRINCIPAL_APPEAL;
        id = s + 7;
    } else if (strncmp(s, "head:", 5) == 0) {
        out->kind = PRINCIPAL_HEAD;
        id = s + 5;
    } else if (strncmp(s, "supervisor:", 11) == 0) {
        out->kind = PRINCIPAL_SUPERVISOR;
        id = s + 11;
    } else {
        return false;
    }
    if (id) {
        size_t n = strlen(id);
        if (n == 0 || n >= sizeof(out->id))
            return false;
        for (const char *p = id; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '-'))
                return false;
        memcpy(out->id, id, n + 1);
    }
    snprintf(out->text, sizeof(out->text), "%s", s);
    return true;
}

const char *principal_kind_name(enum principal_kind k)
{
    static const char *const names[] = {
        [PRINCIPAL_OFFICE] = "office", [PRINCIPAL_CENTRE] = "centre",
        [PRINCIPAL_PORTAL] = "portal", [PRINCIPAL_OPS] = "ops",
        [PRINCIPAL_APPEAL] = "appeal", [PRINCIPAL_SUPERVISOR] = "supervisor",
        [PRINCIPAL_HEAD] = "head",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

bool principal_reads_authority(const principal_t *who,
                               const char *authority_id,
                               const char *region_id)
{
    switch (who->kind) {
    case PRINCIPAL_OPS:
        return true;
    case PRINCIPAL_OFFICE:
        return strcmp(who->id, authority_id) == 0;
    case PRINCIPAL_SUPERVISOR:
        return region_id && strcmp(who->id, region_id) == 0;
    default:
        return false;
    }
}

int auth_authority_region(PGconn *conn, const char *authority_id,
                          char *region)
{
    const char *p[1] = {authority_id};
    PGresult *r = PQexecParams(conn, "SELECT region_id FROM authority "
                               "WHERE id = $1", 1, NULL, p, NULL, NULL, 0);
    int rc = PQresultStatus(r) != PGRES_TUPLES_OK ? -1
             : PQntuples(r) == 1                 ? 1
                                                 : 0;
    if (rc == 1)
        snprintf(region, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

void auth_hash(const char *token, char *hash)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hash, 65, h, sizeof(h));
}

void auth_new_token(char *out, char *id, char *hash)
{
    unsigned char rid[8], secret[24];
    char secret_hex[49];
    randombytes_buf(rid, sizeof(rid));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(id, 17, rid, sizeof(rid));
    sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));
    snprintf(out, 96, "kz_%s_%s", id, secret_hex);
    auth_hash(out, hash);
}

int auth_resolve(PGconn *conn, const char *authorization, principal_t *out)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
        return 0;
    const char *token = authorization + 7;
    size_t n = strlen(token);
    if (n < 8 || n > 128)
        return 0;
    char hash[65];
    auth_hash(token, hash);
    const char *p[1] = {hash};
    PGresult *r = PQexecPrepared(conn, "auth_token", 1, p, NULL, NULL, 0);
    if (!pg_check(r)) { /* remembered: a connection gone is retried */
        PQclear(r);
        return -1;
    }
    int rc = PQntuples(r) == 1 &&
             principal_parse(PQgetvalue(r, 0, 0), out) ? 1 : 0;
    if (rc == 1) {
        snprintf(out->employee, sizeof(out->employee), "%s",
                 PQgetvalue(r, 0, 1));
        out->expires = atoll(PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

/* The caches: resolved tokens, unknown tokens, failures per client
 * address; each a table of slots chosen by hash, under one lock. */
#define AUTH_SLOTS 1024
#define FAIL_SLOTS 256

struct auth_slot {
    char hash[65];
    principal_t who;
    long cached_ms, until_ms;   /* monotonic */
};

struct neg_slot {
    char hash[65];
    long until_ms;
};

struct fail_slot {
    char addr[48];
    long window_ms;             /* the window's start */
    int failures;
};

static struct auth_slot auth_cache[AUTH_SLOTS];
static struct neg_slot neg_cache[AUTH_SLOTS];
static struct fail_slot fail_cache[FAIL_SLOTS];
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
/* bumped by every forgetting: a look-up that began before one does not
 * cache what it read (the token may have been revoked meanwhile) */
static unsigned long forget_gen;

static struct {
    pthread_t thread;
    bool started;
    char *conninfo;
    volatile sig_atomic_t *stop;
    _Atomic bool listening;
} lsn;

static unsigned hash_slot(const char *s, unsigned n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % n;
}

static metric_t *failure_metric(const char *reason)
{
    char labels[48];
    snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
    return metrics_counter("kezek_auth_failures_total",
                           "Requests refused at authentication, by reason",
                           labels);
}

/* Forgets hash (NULL: every token) in both caches. */
static void cache_forget(const char *hash)
{
    pthread_mutex_lock(&auth_lock);
    forget_gen++;
    for (int i = 0; i < AUTH_SLOTS; i++) {
        if (!hash || strcmp(auth_cache[i].hash, hash) == 0)
            auth_cache[i].until_ms = 0;
        if (!hash || strcmp(neg_cache[i].hash, hash) == 0)
            neg_cache[i].until_ms = 0;
    }
    pthread_mutex_unlock(&auth_lock);
}

/* The failure slot of addr, begun anew when it held another address or
 * its window has passed (the lock held). */
static struct fail_slot *fail_slot_of(const char *addr, long now)
{
    struct fail_slot *f = &fail_cache[hash_slot(addr, FAIL_SLOTS)];
    if (strcmp(f->addr, addr) != 0 ||
        now - f->window_ms > AUTH_FAIL_WINDOW * 1000L) {
        snprintf(f->addr, sizeof(f->addr), "%s", addr);
        f->window_ms = now;
        f->failures = 0;
    }
    return f;
}

static void count_failure(const char *addr, const char *hash, long now,
                          unsigned long gen)
{
    pthread_mutex_lock(&auth_lock);
    fail_slot_of(addr, now)->failures++;
    if (hash && gen == forget_gen) {
        struct neg_slot *n = &neg_cache[hash_slot(hash, AUTH_SLOTS)];
        memcpy(n->hash, hash, sizeof(n->hash));
        n->until_ms = now + AUTH_NEGATIVE_SECONDS * 1000L;
    }
    pthread_mutex_unlock(&auth_lock);
}

enum auth_rc auth_check(struct pgpool *pool, const http_req_t *req,
                        principal_t *out)
{
    const char *authorization = http_header(req, "Authorization");
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0 ||
        strlen(authorization + 7) < 8 || strlen(authorization + 7) > 128) {
        metric_inc(failure_metric("malformed"));
        return AUTH_NONE;
    }
    char addr[48], hash[65];
    http_client_addr(req, addr, sizeof(addr));
    auth_hash(authorization + 7, hash);
    long now = (long)(mono_us() / 1000);
    time_t wall = time(NULL);
    bool listening = atomic_load(&lsn.listening);
    struct auth_slot *slot = &auth_cache[hash_slot(hash, AUTH_SLOTS)];
    struct neg_slot *neg = &neg_cache[hash_slot(hash, AUTH_SLOTS)];
    enum auth_rc rc = AUTH_DOWN;
    pthread_mutex_lock(&auth_lock);
    unsigned long gen = forget_gen;
    if (slot->until_ms > now && strcmp(slot->hash, hash) == 0 &&
        (listening || now - slot->cached_ms < AUTH_UNHEARD_SECONDS * 1000L) &&
        (!slot->who.expires || slot->who.expires > wall)) {
        *out = slot->who;
        rc = AUTH_OK;
    } else if (fail_slot_of(addr, now)->failures >= AUTH_FAIL_LIMIT) {
        rc = AUTH_LIMITED;
    } else if (neg->until_ms > now && strcmp(neg->hash, hash) == 0) {
        rc = AUTH_NONE;
    }
    pthread_mutex_unlock(&auth_lock);
    if (rc == AUTH_OK)
        return rc;
    if (rc == AUTH_LIMITED) {
        metric_inc(failure_metric("limited"));
        return rc;
    }
    if (rc == AUTH_NONE) { /* known to be unknown: no query */
        metric_inc(failure_metric("unknown"));
        count_failure(addr, NULL, now, 0);
        return rc;
    }
    char err[256];
    PGconn *c = pgpool_acquire(pool, err, sizeof(err));
    if (!c)
        return AUTH_DOWN;
    int r = auth_resolve(c, authorization, out);
    pgpool_release(pool, c);
    if (r < 0)
        return AUTH_DOWN;
    if (r == 0) {
        metric_inc(failure_metric("unknown"));
        count_failure(addr, hash, now, gen);
        return AUTH_NONE;
    }
    pthread_mutex_lock(&auth_lock);
    if (gen == forget_gen) {
        memcpy(slot->hash, hash, sizeof(slot->hash));
        slot->who = *out;
        slot->cached_ms = now;
        slot->until_ms = now + AUTH_CACHE_SECONDS * 1000L;
    }
    pthread_mutex_unlock(&auth_lock);
    return AUTH_OK;
}

void auth_reply(http_resp_t *resp, enum auth_rc rc)
{
    if (rc == AUTH_LIMITED) {
        http_reply_error(resp, 429, "too_many_failures",
                         "too many failed authentications from this "
                         "address; retry later", NULL);
        snprintf(resp->header_name, sizeof(resp->header_name),
                 "Retry-After");
        snprintf(resp->header_value, sizeof(resp->header_value), "%d",
                 AUTH_FAIL_WINDOW);
    } else if (rc == AUTH_DOWN) {
        http_reply_error(resp, 503, "unavailable",
                         "database unavailable; nothing was done", NULL);
    } else {
        http_reply_error(resp, 401, "unauthorized",
                         "a valid bearer token is required", NULL);
    }
}

bool auth_listening(void)
{
    return atomic_load(&lsn.listening);
}

/* Waits for notices on c until it fails or *stop. */
static void listen_on(PGconn *c)
{
    metric_t *heard = metrics_counter("kezek_auth_token_notices_total",
        "Token changes heard (revocations, expiries)", NULL);
    while (!*lsn.stop) {
        struct pollfd p = {PQsocket(c), POLLIN, 0};
        int n = poll(&p, 1, 200);
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && !PQconsumeInput(c))
            return;
        PGnotify *note;
        while ((note = PQnotifies(c)) != NULL) {
            cache_forget(note->extra);
            metric_inc(heard);
            PQfreemem(note);
        }
        if (PQstatus(c) != CONNECTION_OK)
            return;
    }
}

static void *listen_loop(void *arg)
{
    (void)arg;
    pg_set_role("tokens");
    long delay_ms = 100;
    while (!*lsn.stop) {
        char err[256];
        PGconn *c = pg_connect_plain(lsn.conninfo, err, sizeof(err));
        if (c && pg_exec(c, "LISTEN kezek_token")) {
            cache_forget(NULL); /* what changed while nobody listened */
            atomic_store(&lsn.listening, true);
            log_info("auth.listen", "listening for token changes");
            delay_ms = 100;
            listen_on(c);
            atomic_store(&lsn.listening, false);
            if (!*lsn.stop)
                log_warn("auth.listen", "token notices lost; cache trusted "
                         "%d s until they are back", AUTH_UNHEARD_SECONDS);
        } else if (!c) {
            log_warn("auth.listen", "%s", err);
        }
        if (c)
            PQfinish(c);
        for (long t = 0; t < delay_ms && !*lsn.stop; t += 50) {
            struct timespec ts = {0, 50 * 1000000};
            nanosleep(&ts, NULL);
        }
        delay_ms = delay_ms * 2 > 2000 ? 2000 : delay_ms * 2;
    }
    return NULL;
}

bool auth_listen_start(const char *conninfo, volatile sig_atomic_t *stop)
{
    if (lsn.started)
        return true;
    lsn.conninfo = strdup(conninfo);
    lsn.stop = stop;
    if (!lsn.conninfo ||
        pthread_create(&lsn.thread, NULL, listen_loop, NULL) != 0) {
        free(lsn.conninfo);
        lsn.conninfo = NULL;
        log_error("auth.listen", "cannot start the token listener");
        return false;
    }
    lsn.started = true;
    return true;
}

void auth_listen_stop(void)
{
    if (!lsn.started)
        return;
    pthread_join(lsn.thread, NULL);
    free(lsn.conninfo);
    lsn.conninfo = NULL;
    lsn.started = false;
}
