#include "registry.h"

#include "iin.h"
#include "pg.h"
#include "rowbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void registry_forget(PGresult **prefetched)
{
    PQclear(*prefetched);
    *prefetched = NULL;
}

void registry_family(json_t *body, char *out, size_t cap)
{
    json_t *family = json_object_get(body, "family");
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(family) && i < 20; i++) {
        const char *iin = json_string_value(
            json_object_get(json_array_get(family, i), "iin"));
        if (!iin || !iin_valid(iin, NULL) || used + 14 > cap)
            continue;
        used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                 used ? "," : "", iin);
    }
}

bool registry_prefetch(PGconn *conn, const char *const *iins,
                       const int *years, const char *const *families, int n,
                       PGresult **prefetched)
{
    registry_forget(prefetched);
    if (n == 0)
        return true;
    rowbuf_t *rb = rowbuf_new("reg_facts_batch", 3);
    bool ok = rb != NULL;
    for (int i = 0; ok && i < n; i++) {
        char year_s[16];
        snprintf(year_s, sizeof(year_s), "%d", years[i]);
        const char *p[3] = {iins[i], year_s, families[i]};
        ok = rowbuf_add(rb, conn, NULL, p);
    }
    if (ok)
        *prefetched = rowbuf_run(rb, conn);
    rowbuf_destroy(&rb);
    return *prefetched != NULL;
}

/* The facts document of a row's text, and the text kept in *text. */
static json_t *facts_of(const char *s, char **text)
{
    json_t *facts = json_loads(s, 0, NULL);
    *text = facts ? strdup(s) : NULL;
    if (facts && !*text) {
        json_decref(facts);
        facts = NULL;
    }
    return facts;
}

json_t *registry_facts(PGconn *conn, const PGresult *prefetched,
                       const char *iin, int year, const char *family,
                       char **text)
{
    char year_s[16];
    snprintf(year_s, sizeof(year_s), "%d", year);
    *text = NULL;
    for (int i = 0; prefetched && i < PQntuples(prefetched); i++)
        if (strcmp(PQgetvalue(prefetched, i, REG_BATCH_IIN), iin) == 0 &&
            strcmp(PQgetvalue(prefetched, i, REG_BATCH_YEAR), year_s) == 0 &&
            strcmp(PQgetvalue(prefetched, i, REG_BATCH_FAMILY), family) == 0)
            return facts_of(PQgetvalue(prefetched, i, REG_BATCH_FACTS),
                            text);
    const char *p[3] = {iin, year_s, family};
    PGresult *r = pg_run(conn, "reg_facts", 3, p);
    if (!r)
        return NULL;
    json_t *facts = PQntuples(r) == 1
                        ? facts_of(PQgetvalue(r, 0, REG_FACTS), text)
                        : NULL;
    PQclear(r);
    return facts;
}
