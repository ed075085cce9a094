/* redis — a hiredis connection that reconnects on demand.
 *
 * Redis only holds views rebuilt from Postgres; every caller treats a
 * failure as "view unavailable", never as lost data. addr is
 * "unix:/path/to/sock", "host:port", or
 * "sentinel:MASTER@host:port,host:port,…" — the master named MASTER,
 * found through those Redis Sentinels (SENTINEL get-master-addr-by-name,
 * then ROLE checked on the master itself) and found anew whenever the
 * connection fails or a write meets a replica (READONLY: it was failed
 * over) — optionally followed by "#/N" to select database N. Not
 * thread-safe: one per thread. */
#ifndef KEZEK_REDIS_H
#define KEZEK_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

typedef struct kredis kredis_t;

kredis_t *kredis_new(const char *addr);
void kredis_destroy(kredis_t **self_p);

/* A connected context, or NULL when Redis is unreachable (retried at
 * most every 500 ms, so a down Redis costs little). */
redisContext *kredis_ctx(kredis_t *self);
/* Tells the wrapper the context failed; the next kredis_ctx reconnects. */
void kredis_failed(kredis_t *self);

/* One command; the reply (freeReplyObject) or NULL on any failure,
 * including an error reply. */
redisReply *kredis_cmd(kredis_t *self, const char *fmt, ...);

/* Reads the password every connection of this process authenticates
 * with (AUTH, to the data nodes and to the Sentinels) from the first
 * line of path; false with err when it cannot. Without it, none. */
bool kredis_password_file(const char *path, char *err, size_t errlen);

/* How many times, in this process, a connection through the Sentinels
 * found a master other than the one before (a failover): a view kept in
 * Redis is verified again after one (writes acknowledged by the old
 * master may not have reached the new one). */
unsigned long kredis_master_changes(void);

#endif
