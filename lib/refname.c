#include "refname.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SLOTS 1024 /* 190 authorities + 284 centres, with room */

static struct slot {
    const char *stmt; /* the prepared statement's name */
    char id[64];
    char name[512];
    time_t at;
} slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *slot_for(const char *stmt, const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a over the statement name and id */
    for (const char *s = stmt; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    for (const char *s = id; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return &slots[h % SLOTS];
}

int refname_get(PGconn *conn, const char *stmt, const char *id, char *out,
                size_t len)
{
    time_t now = time(NULL);
    bool cacheable = strlen(id) < sizeof(slots[0].id);
    struct slot *s = slot_for(stmt, id);
    if (cacheable) {
        pthread_mutex_lock(&lock);
        bool hit = s->stmt && strcmp(s->stmt, stmt) == 0 &&
                   strcmp(s->id, id) == 0 && now - s->at < REFNAME_TTL_S;
        if (hit)
            snprintf(out, len, "%s", s->name);
        pthread_mutex_unlock(&lock);
        if (hit)
            return 1;
    }
    const char *p[1] = {id};
    PGresult *r = pg_run(conn, stmt, 1, p);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    snprintf(out, len, "%s", found ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    if (found && cacheable && strlen(out) < sizeof(s->name)) {
        pthread_mutex_lock(&lock);
        s->stmt = stmt;
        snprintf(s->id, sizeof(s->id), "%s", id);
        snprintf(s->name, sizeof(s->name), "%s", out);
        s->at = now;
        pthread_mutex_unlock(&lock);
    }
    return found;
}
