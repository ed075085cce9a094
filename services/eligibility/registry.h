/* registry — the adapters to the state registries (population register,
 * property, communal tenancy, registered moves) and the subsistence
 * minimum table. This implementation reads the Postgres tables that
 * `kezek registry import` fills (CONTRACT "Registry fixtures"). */
#ifndef KEZEK_REGISTRY_H
#define KEZEK_REGISTRY_H

#include <jansson.h>
#include <libpq-fe.h>

#define REGISTRY_STMTS                                                   \
    {"reg_person", "SELECT doc FROM registry_person WHERE iin = $1"},    \
    {"reg_property",                                                     \
     "SELECT doc FROM registry_property WHERE owner_iin = $1"            \
     " ORDER BY dwelling_id"},                                           \
    {"reg_tenancy",                                                      \
     "SELECT doc FROM registry_tenancy WHERE iin = $1 ORDER BY id"},     \
    {"reg_move",                                                         \
     "SELECT doc FROM registry_move WHERE dwelling_owner_iin = $1"       \
     " OR person_iin = $1 ORDER BY id"},                                 \
    {"reg_minimum",                                                      \
     "SELECT tenge FROM subsistence_minimum WHERE year = $1"}

/* The facts of elig.h for the applicant iin and the application's year;
 * NULL when a registry could not be read (the caller retries later —
 * an unreachable registry never refuses anyone). */
json_t *registry_facts(PGconn *conn, const char *iin, int year);

#endif
