/* registry — the adapters to the state registries (population register,
 * property, communal tenancy, registered moves) and the subsistence
 * minimum table. This implementation reads the Postgres tables that
 * `kezek registry import` fills (CONTRACT "Registry fixtures"). */
#ifndef KEZEK_REGISTRY_H
#define KEZEK_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <libpq-fe.h>

/* The facts document of elig.h for an IIN, a year and the IINs of the
 * family members listed in the application (SQL expressions; FAMILY a
 * text[]): every registry record of the person, the social statuses a
 * state system records of them (issue 22), the dwellings and communal
 * tenancies of the family members (p.6 need, p.11 item 4: the applicant
 * and the family members living with them) and the subsistence
 * minimum. */
#define REGISTRY_FACTS(IIN, YEAR, FAMILY)                                \
    "json_build_object("                                                 \
    " 'person', (SELECT doc FROM registry_person WHERE iin = " IIN "),"   \
    " 'properties', coalesce((SELECT json_agg(doc ORDER BY dwelling_id)"  \
    " FROM registry_property WHERE owner_iin = " IIN "), '[]'),"         \
    " 'tenancies', coalesce((SELECT json_agg(doc ORDER BY id)"           \
    " FROM registry_tenancy WHERE iin = " IIN "), '[]'),"                \
    " 'moves', coalesce((SELECT json_agg(doc ORDER BY id)"               \
    " FROM registry_move WHERE dwelling_owner_iin = " IIN                \
    " OR person_iin = " IIN "), '[]'),"                                  \
    " 'statuses', coalesce((SELECT json_agg(doc ORDER BY id)"            \
    " FROM registry_social_status WHERE iin = " IIN "), '[]'),"          \
    " 'family_properties', coalesce((SELECT json_agg(doc ORDER BY"       \
    " owner_iin, dwelling_id) FROM registry_property WHERE owner_iin"    \
    " = ANY (" FAMILY ") AND owner_iin <> " IIN "), '[]'),"              \
    " 'family_tenancies', coalesce((SELECT json_agg(doc ORDER BY id)"    \
    " FROM registry_tenancy WHERE iin = ANY (" FAMILY ")"                \
    " AND iin <> " IIN "), '[]'),"                                       \
    " 'subsistence_minimum', (SELECT tenge FROM subsistence_minimum"     \
    " WHERE year = " YEAR "))"

/* One applicant's facts, or a whole batch's in one statement. */
#define REGISTRY_STMTS                                                   \
    {"reg_facts", "SELECT " REGISTRY_FACTS("$1", "$2::int",              \
                                           "string_to_array($3, ',')")}, \
    {"reg_facts_batch",                                                  \
     "SELECT v.iin, v.year, v.family, "                                  \
     REGISTRY_FACTS("v.iin", "v.year::int",     \
                                             "string_to_array(v.family,"  \
                                             " ',')")                    \
     " FROM unnest($1::text[], $2::text[], $3::text[])"                  \
     " AS v (iin, year, family)"}
/* Their result columns. */
enum reg_facts_col { REG_FACTS };
enum reg_facts_batch_col { REG_BATCH_IIN, REG_BATCH_YEAR, REG_BATCH_FAMILY,
                           REG_BATCH_FACTS };

/* The IINs of the family members an application lists ("family":
 * [{"iin"}]), valid ones only, comma-separated into out (cap bytes; at
 * most 20 members: intake's bound); "" when none. */
void registry_family(json_t *body, char *out, size_t cap);

/* The facts of elig.h for the applicant iin, the application's year and
 * its family (registry_family);
 * NULL when a registry could not be read (the caller retries later —
 * an unreachable registry never refuses anyone). Served from prefetched
 * (registry_prefetch; may be NULL) when it holds them. *text: the
 * document as read (caller frees), to store without printing it again. */
json_t *registry_facts(PGconn *conn, const PGresult *prefetched,
                       const char *iin, int year, const char *family,
                       char **text);

/* Reads the facts of n applicants (iins[i], years[i], families[i]) in one
 * statement
 * into *prefetched for registry_facts, replacing what it held; false
 * when the statement failed. registry_forget drops them (at the end of
 * the batch). */
bool registry_prefetch(PGconn *conn, const char *const *iins,
                       const int *years, const char *const *families, int n,
                       PGresult **prefetched);
void registry_forget(PGresult **prefetched);

#endif
