#include "registry.h"

#include "pg.h"

#include <stdio.h>
#include <stdlib.h>

json_t *registry_facts(PGconn *conn, const char *iin, int year)
{
    char year_s[16];
    snprintf(year_s, sizeof(year_s), "%d", year);
    const char *p[2] = {iin, year_s};
    PGresult *r = pg_run(conn, "reg_facts", 2, p);
    if (!r)
        return NULL;
    json_t *facts = PQntuples(r) == 1
                        ? json_loads(PQgetvalue(r, 0, 0), 0, NULL)
                        : NULL;
    PQclear(r);
    return facts;
}
