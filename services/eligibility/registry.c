#include "registry.h"

#include "pg.h"

#include <stdio.h>
#include <stdlib.h>

/* Appends the doc column of every row of stmt(iin) to arr. */
static bool docs(PGconn *conn, const char *stmt, const char *iin,
                 json_t *arr)
{
    const char *p[1] = {iin};
    PGresult *r = pg_run(conn, stmt, 1, p);
    if (!r)
        return false;
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *d = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        if (d)
            json_array_append_new(arr, d);
    }
    PQclear(r);
    return true;
}

json_t *registry_facts(PGconn *conn, const char *iin, int year)
{
    json_t *person = json_array(), *props = json_array(),
           *tenancies = json_array(), *moves = json_array();
    char year_s[16];
    snprintf(year_s, sizeof(year_s), "%d", year);
    const char *p[1] = {year_s};
    PGresult *r = NULL;
    bool ok = docs(conn, "reg_person", iin, person) &&
              docs(conn, "reg_property", iin, props) &&
              docs(conn, "reg_tenancy", iin, tenancies) &&
              docs(conn, "reg_move", iin, moves) &&
              (r = pg_run(conn, "reg_minimum", 1, p)) != NULL;
    json_t *facts = NULL;
    if (ok) {
        json_t *min = PQntuples(r) ? json_integer(atoll(PQgetvalue(r, 0, 0)))
                                   : json_null();
        json_t *who = json_array_get(person, 0);
        facts = json_pack("{s:O, s:O, s:O, s:O, s:o}", "person",
                          who ? who : json_null(), "properties", props,
                          "tenancies", tenancies, "moves", moves,
                          "subsistence_minimum", min);
    }
    PQclear(r);
    json_decref(person);
    json_decref(props);
    json_decref(tenancies);
    json_decref(moves);
    return facts;
}
