#include "redis.h"

#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kredis {
    char *addr;
    redisContext *ctx;
    struct timespec next_try;
    char master[300]; /* through the Sentinels: the last master found */
};

static _Atomic unsigned long master_changes;
static char password[256]; /* set once, before any connection */

bool kredis_password_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot be read", path);
        return false;
    }
    char line[sizeof(password)];
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[ok ? strcspn(line, "\r\n") : 0] = '\0';
    if (!ok || !line[0]) {
        snprintf(err, errlen, "%s: no password on its first line", path);
        return false;
    }
    memcpy(password, line, sizeof(password));
    return true;
}

/* AUTH on a fresh connection when a password is set; false when it is
 * refused (the context is left to the caller to free). */
static bool authenticate(redisContext *c)
{
    if (!password[0])
        return true;
    redisReply *r = redisCommand(c, "AUTH %s", password);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
        freeReplyObject(r);
    return ok;
}

unsigned long kredis_master_changes(void)
{
    return atomic_load(&master_changes);
}

/* "host:port" into host (cap bytes) and *port; false when malformed. */
static bool split_hostport(const char *s, size_t n, char *host, size_t cap,
                           int *port)
{
    const char *colon = memrchr(s, ':', n);
    if (!colon || colon == s || (size_t)(colon - s) >= cap)
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536;
}

/* Asks each Sentinel of spec ("MASTER@h:p,h:p,…") in turn for the
 * master's address and connects to it, keeping it only if it says it is
 * the master (a Sentinel may not have seen a failover yet); NULL when
 * none gives a master. */
static redisContext *connect_sentinel(kredis_t *self, const char *spec,
                                      struct timeval tv)
{
    const char *at = strchr(spec, '@');
    char name[128];
    if (!at || at == spec || (size_t)(at - spec) >= sizeof(name))
        return NULL;
    memcpy(name, spec, (size_t)(at - spec));
    name[at - spec] = '\0';
    for (const char *p = at + 1; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char host[256];
        int port;
        redisContext *sc = split_hostport(p, n, host, sizeof(host), &port)
                               ? redisConnectWithTimeout(host, port, tv)
                               : NULL;
        p += n + (end ? 1 : 0);
        redisReply *r = sc && !sc->err && authenticate(sc)
                            ? redisCommand(sc, "SENTINEL "
                                           "get-master-addr-by-name %s",
                                           name)
                            : NULL;
        redisContext *c = NULL;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            r->element[1]->type == REDIS_REPLY_STRING) {
            c = redisConnectWithTimeout(r->element[0]->str,
                                        atoi(r->element[1]->str), tv);
            redisReply *role = c && !c->err && authenticate(c)
                                   ? redisCommand(c, "ROLE")
                                   : NULL;
            bool master = role && role->type == REDIS_REPLY_ARRAY &&
                          role->elements > 0 &&
                          role->element[0]->type == REDIS_REPLY_STRING &&
                          strcmp(role->element[0]->str, "master") == 0;
            if (role)
                freeReplyObject(role);
            if (master) {
                char now[300];
                snprintf(now, sizeof(now), "%s:%s", r->element[0]->str,
                         r->element[1]->str);
                if (self->master[0] && strcmp(now, self->master) != 0) {
                    atomic_fetch_add(&master_changes, 1);
                    log_info("redis.failover", "the master is now %s",
                             now);
                }
                snprintf(self->master, sizeof(self->master), "%s", now);
            } else if (c) {
                redisFree(c);
                c = NULL;
            }
        }
        if (r)
            freeReplyObject(r);
        if (sc)
            redisFree(sc);
        if (c)
            return c;
    }
    return NULL;
}

kredis_t *kredis_new(const char *addr)
{
    kredis_t *self = calloc(1, sizeof(*self));
    if (self)
        self->addr = strdup(addr);
    return self;
}

void kredis_destroy(kredis_t **self_p)
{
    kredis_t *self = *self_p;
    if (!self)
        return;
    if (self->ctx)
        redisFree(self->ctx);
    free(self->addr);
    free(self);
    *self_p = NULL;
}

void kredis_failed(kredis_t *self)
{
    if (self->ctx) {
        redisFree(self->ctx);
        self->ctx = NULL;
    }
}

redisContext *kredis_ctx(kredis_t *self)
{
    if (self->ctx)
        return self->ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < self->next_try.tv_sec ||
        (now.tv_sec == self->next_try.tv_sec &&
         now.tv_nsec < self->next_try.tv_nsec))
        return NULL;
    struct timeval tv = {1, 0};
    redisContext *c;
    char addr[512];
    snprintf(addr, sizeof(addr), "%s", self->addr);
    int db = 0;
    char *slash = strrchr(addr, '/');
    if (slash && slash > addr && slash[-1] == '#' && slash[1] &&
        strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
        db = atoi(slash + 1);   /* "...#/N" selects database N */
        slash[-1] = '\0';
    }
    if (strncmp(addr, "unix:", 5) == 0) {
        c = redisConnectUnixWithTimeout(addr + 5, tv);
    } else if (strncmp(addr, "sentinel:", 9) == 0) {
        c = connect_sentinel(self, addr + 9, tv);
    } else {
        char *colon = strrchr(addr, ':');
        int port = colon ? atoi(colon + 1) : 6379;
        if (colon)
            *colon = '\0';
        c = redisConnectWithTimeout(addr, port, tv);
        if (c && !c->err && !authenticate(c)) {
            redisFree(c);
            c = NULL;
        }
    }
    if (c && !c->err && db > 0) {
        redisReply *sel = redisCommand(c, "SELECT %d", db);
        if (!sel || sel->type == REDIS_REPLY_ERROR) {
            if (sel)
                freeReplyObject(sel);
            redisFree(c);
            c = NULL;
        } else {
            freeReplyObject(sel);
        }
    }
    if (!c || c->err) {
        log_warn("redis.connect", "redis unreachable: %s",
                 c ? c->errstr
                   : strncmp(addr, "sentinel:", 9) == 0
                         ? "no Sentinel named a master that answers"
                         : "out of memory");
        if (c)
            redisFree(c);
        self->next_try = now;
        self->next_try.tv_nsec += 500000000L;
        if (self->next_try.tv_nsec >= 1000000000L) {
            self->next_try.tv_sec++;
            self->next_try.tv_nsec -= 1000000000L;
        }
        return NULL;
    }
    redisSetTimeout(c, tv);
    self->ctx = c;
    return c;
}

redisReply *kredis_cmd(kredis_t *self, const char *fmt, ...)
{
    redisContext *c = kredis_ctx(self);
    if (!c)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        kredis_failed(self);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis.error", "%s", r->str);
        if (strncmp(r->str, "READONLY", 8) == 0)
            kredis_failed(self); /* a replica now: find the master anew */
        freeReplyObject(r);
        return NULL;
    }
    return r;
}
