/* auth — bearer tokens mapped to principals (CONTRACT "Authentication").
 *
 * Only the SHA-256 of a token is stored. A token reads
 * "kz_<id>_<secret>"; the id names it for revocation. */
#ifndef KEZEK_AUTH_H
#define KEZEK_AUTH_H

#include "http.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

enum principal_kind { PRINCIPAL_OFFICE, PRINCIPAL_CENTRE, PRINCIPAL_PORTAL,
                      PRINCIPAL_OPS, PRINCIPAL_APPEAL, PRINCIPAL_SUPERVISOR,
                      PRINCIPAL_HEAD };

typedef struct principal {
    enum principal_kind kind;
    char id[64];        /* authority (office, head), centre, appeal
                         * instance (appendix 5) or region id; empty
                         * otherwise */
    char text[80];      /* "office:a-01-02" */
    char employee[128]; /* the employee's full name, or empty */
    long long expires;  /* when the token expires (Unix time), 0 never */
} principal_t;

/* Parses "office:<id>", "centre:<id>", "appeal:<id>" (an appeal
 * instance of appendix 5: its complaints), "head:<authority_id>" (the
 * head of an authority: the complaints about its employees, p.20),
 * "supervisor:<region_id>" (a
 * region's supervisor: reads its lists, work lists and indicators,
 * writes nothing), "portal", "ops". */
bool principal_parse(const char *s, principal_t *out)
    __attribute__((warn_unused_result));

/* The principal kind's name as in the token ("office", …). */
const char *principal_kind_name(enum principal_kind k);

/* Whether who may read what belongs to an authority of region_id
 * (an authority's lists, work list, indicators): its office, the
 * region's supervisor, operators. region_id may be NULL when unknown. */
bool principal_reads_authority(const principal_t *who,
                               const char *authority_id,
                               const char *region_id);

/* The region of an authority (appendix 1) into region (64 bytes): 1
 * found, 0 unknown authority, -1 database error. */
int auth_authority_region(PGconn *conn, const char *authority_id,
                          char *region);

/* Resolves an Authorization header value. 1: *out filled; 0: missing,
 * malformed, unknown, revoked or expired token; -1: database error. */
int auth_resolve(PGconn *conn, const char *authorization,
                 principal_t *out);

/* What auth_check answers. */
enum auth_rc {
    AUTH_LIMITED = -2, /* too many failures from this client address */
    AUTH_DOWN = -1,    /* the database could not be asked */
    AUTH_NONE = 0,     /* missing, malformed, unknown, revoked, expired */
    AUTH_OK = 1,
};

/* Resolves req's bearer token through a process-wide cache of resolved
 * tokens: a connection is taken from pool only on a miss. The cache
 * keeps a token AUTH_CACHE_SECONDS at most, and only while this
 * process LISTENs for revocations (auth_listen_start): a revoked token
 * stops working as soon as the notice arrives, and within
 * AUTH_UNHEARD_SECONDS when none can arrive. Unknown tokens are
 * remembered too (AUTH_NEGATIVE_SECONDS), so that repeating one costs
 * no query; a client address with AUTH_FAIL_LIMIT failures within
 * AUTH_FAIL_WINDOW seconds is refused (AUTH_LIMITED) for the rest of
 * that window without a look-up. */
#define AUTH_CACHE_SECONDS 30
#define AUTH_UNHEARD_SECONDS 1
#define AUTH_NEGATIVE_SECONDS 60
#define AUTH_FAIL_LIMIT 20
#define AUTH_FAIL_WINDOW 60
struct pgpool;
enum auth_rc auth_check(struct pgpool *pool, const http_req_t *req,
                        principal_t *out);
/* Replies for a failed auth_check: 401, 503, or 429 with Retry-After. */
void auth_reply(http_resp_t *resp, enum auth_rc rc);

/* Starts the thread that LISTENs for token changes on its own
 * connection (reconnecting with backoff until *stop); false when the
 * thread cannot be started. */
bool auth_listen_start(const char *conninfo, volatile sig_atomic_t *stop);
void auth_listen_stop(void);
/* True while the revocation notices can arrive (for tests, /readyz). */
bool auth_listening(void);

/* Makes a new token (out, 96 bytes), its id (id, 17 bytes) and the hex
 * hash to store (hash, 65 bytes). */
void auth_new_token(char *out, char *id, char *hash);
void auth_hash(const char *token, char *hash);

#endif
