#include "auth.h"

#include "pg.h"

#include <pthread.h>
#include <sodium.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }
    int rc = PQntuples(r) == 1 &&
             principal_parse(PQgetvalue(r, 0, 0), out) ? 1 : 0;
    if (rc == 1)
        snprintf(out->employee, sizeof(out->employee), "%s",
                 PQgetvalue(r, 0, 1));
    PQclear(r);
    return rc;
}

#define AUTH_SLOTS 1024

struct auth_slot {
    char hash[65];
    principal_t who;
    time_t until;
};

static struct auth_slot auth_cache[AUTH_SLOTS];
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;

int auth_check(struct pgpool *pool, const char *authorization,
               principal_t *out)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
        return 0;
    size_t n = strlen(authorization + 7);
    if (n < 8 || n > 128)
        return 0;
    char hash[65];
    auth_hash(authorization + 7, hash);
    struct auth_slot *slot = &auth_cache[strtoul(
        (char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5],
                  hash[6], hash[7], 0}, NULL, 16) % AUTH_SLOTS];
    time_t now = time(NULL);
    pthread_mutex_lock(&auth_lock);
    bool hit = slot->until > now && strcmp(slot->hash, hash) == 0;
    if (hit)
        *out = slot->who;
    pthread_mutex_unlock(&auth_lock);
    if (hit)
        return 1;
    char err[256];
    PGconn *c = pgpool_acquire(pool, err, sizeof(err));
    if (!c)
        return -1;
    int rc = auth_resolve(c, authorization, out);
    pgpool_release(pool, c);
    if (rc == 1) {
        pthread_mutex_lock(&auth_lock);
        memcpy(slot->hash, hash, sizeof(slot->hash));
        slot->who = *out;
        slot->until = now + AUTH_CACHE_SECONDS;
        pthread_mutex_unlock(&auth_lock);
    }
    return rc;
}
