/* The reference data of the validator's one database read
 * (refname_get of "settlement_authority"), without Postgres, for
 * fuzz_validate: linked before libkezek_spine.a, it stands in for
 * lib/refname.c. A settlement "s-X" is served by authority "a-X" (as
 * s-01-02 by a-01-02 in reference/); "s-unavailable" is a database
 * failure; any other id is unknown. */
#include "refname.h"

#include <stdio.h>
#include <string.h>

int refname_get(PGconn *conn, const char *stmt, const char *id, char *out,
                size_t len)
{
    (void)conn;
    if (strcmp(stmt, "settlement_authority") != 0 ||
        strcmp(id, "s-unavailable") == 0)
        return -1;
    if (strncmp(id, "s-", 2) != 0 || id[2] == '\0') {
        snprintf(out, len, "%s", "");
        return 0;
    }
    snprintf(out, len, "a-%s", id + 2);
    return 1;
}
