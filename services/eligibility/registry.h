/* registry — the adapters to the state registries (population register,
 * property, communal tenancy, registered moves) and the subsistence
 * minimum table. This implementation reads the Postgres tables that
 * `kezek registry import` fills (CONTRACT "Registry fixtures"). */
#ifndef KEZEK_REGISTRY_H
#define KEZEK_REGISTRY_H

#include <jansson.h>
#include <libpq-fe.h>

/* One round trip: every registry record of the applicant and the
 * subsistence minimum of the year, as the facts document of elig.h. */
#define REGISTRY_STMTS                                                   \
    {"reg_facts",                                                        \
     "SELECT json_build_object("                                         \
     " 'person', (SELECT doc FROM registry_person WHERE iin = $1),"      \
     " 'properties', coalesce((SELECT json_agg(doc ORDER BY dwelling_id)" \
     " FROM registry_property WHERE owner_iin = $1), '[]'),"             \
     " 'tenancies', coalesce((SELECT json_agg(doc ORDER BY id)"          \
     " FROM registry_tenancy WHERE iin = $1), '[]'),"                    \
     " 'moves', coalesce((SELECT json_agg(doc ORDER BY id)"              \
     " FROM registry_move WHERE dwelling_owner_iin = $1"                 \
     " OR person_iin = $1), '[]'),"                                      \
     " 'subsistence_minimum', (SELECT tenge FROM subsistence_minimum"    \
     " WHERE year = $2::int))"}

/* The facts of elig.h for the applicant iin and the application's year;
 * NULL when a registry could not be read (the caller retries later —
 * an unreachable registry never refuses anyone). */
json_t *registry_facts(PGconn *conn, const char *iin, int year);

#endif
