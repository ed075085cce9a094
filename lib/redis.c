#include "redis.h"

#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kredis {
    char *addr;
    redisContext *ctx;
    struct timespec next_try;
};

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
    } else {
        char *colon = strrchr(addr, ':');
        int port = colon ? atoi(colon + 1) : 6379;
        if (colon)
            *colon = '\0';
        c = redisConnectWithTimeout(addr, port, tv);
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
                 c ? c->errstr : "out of memory");
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
        freeReplyObject(r);
        return NULL;
    }
    return r;
}
