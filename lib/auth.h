/* auth — bearer tokens mapped to principals (CONTRACT "Authentication").
 *
 * Only the SHA-256 of a token is stored. A token reads
 * "kz_<id>_<secret>"; the id names it for revocation. */
#ifndef KEZEK_AUTH_H
#define KEZEK_AUTH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

enum principal_kind { PRINCIPAL_OFFICE, PRINCIPAL_CENTRE, PRINCIPAL_PORTAL,
                      PRINCIPAL_OPS };

typedef struct principal {
    enum principal_kind kind;
    char id[64];        /* authority or centre id; empty otherwise */
    char text[80];      /* "office:a-01-02" */
    char employee[128]; /* the employee's full name, or empty */
} principal_t;

/* Parses "office:<id>", "centre:<id>", "portal", "ops". */
bool principal_parse(const char *s, principal_t *out)
    __attribute__((warn_unused_result));

/* Resolves an Authorization header value. 1: *out filled; 0: missing,
 * malformed, unknown or revoked token; -1: database error. */
int auth_resolve(PGconn *conn, const char *authorization,
                 principal_t *out);

/* As auth_resolve, through a process-wide cache of resolved tokens
 * (AUTH_CACHE_SECONDS): a connection is taken from pool only on a miss.
 * A revoked token therefore stops working within that time. */
#define AUTH_CACHE_SECONDS 30
struct pgpool;
int auth_check(struct pgpool *pool, const char *authorization,
               principal_t *out);

/* Makes a new token (out, 96 bytes), its id (id, 17 bytes) and the hex
 * hash to store (hash, 65 bytes). */
void auth_new_token(char *out, char *id, char *hash);
void auth_hash(const char *token, char *hash);

#endif
