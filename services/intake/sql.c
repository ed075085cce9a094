/* All SQL of kezek-intake. */
#include "intake.h"

const struct pg_stmt intake_stmts[] = {
    {"settlement_authority",
     "SELECT s.authority_id, a.name FROM settlement s"
     " JOIN authority a ON a.id = s.authority_id WHERE s.id = $1"},
    {"authority_name", "SELECT name FROM authority WHERE id = $1"},
    {"idem_get",
     "SELECT k.body_sha256, a.id, a.receipt FROM idempotency_key k"
     " JOIN application a ON a.id = k.application_id"
     " WHERE k.principal = $1 AND k.key = $2"},
    {"idem_put",
     "INSERT INTO idempotency_key (principal, key, body_sha256,"
     " application_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"},
    {"receipt_next", "SELECT nextval('receipt_number_seq')"},
    {"app_insert",
     "INSERT INTO application (id, receipt_number, authority_id,"
     " settlement_id, channel, principal, category, applicant_iin,"
     " accepted_at, result_due, internal_due, body, receipt)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::float8),"
     " $10, $11, $12, $13)"},
    {"app_get",
     "SELECT id, status, authority_id, decision, queue, receipt,"
     " delivered_at IS NOT NULL, principal, applicant_iin"
     " FROM application WHERE id = $1"},
    {"ref_authorities",
     "SELECT r.id, r.doc, coalesce(json_agg(a.doc ORDER BY a.id)"
     " FILTER (WHERE a.id IS NOT NULL), '[]') FROM region r"
     " LEFT JOIN authority a ON a.region_id = r.id"
     " GROUP BY r.id, r.doc ORDER BY r.id"},
    {"ref_settlements",
     "SELECT coalesce(json_agg(doc ORDER BY id), '[]') FROM settlement"},
    {"ref_centres",
     "SELECT coalesce(json_agg(doc ORDER BY id), '[]') FROM centre"},
    {"ref_appeal",
     "SELECT coalesce(json_agg(doc ORDER BY id), '[]')"
     " FROM appeal_instance"},
    {"ref_keys",
     "SELECT coalesce(json_agg(json_build_object('key_id', key_id,"
     " 'authority_id', authority_id, 'alg', 'Ed25519', 'public_key',"
     " public_key) ORDER BY key_id), '[]') FROM signing_key"},
    {"app_decided",
     "UPDATE application SET status = CASE WHEN status IN"
     " ('registered', 'refused') THEN status ELSE $2 END,"
     " decision = CASE WHEN status IN ('registered', 'refused')"
     " THEN decision ELSE $3::jsonb END, updated_at = now()"
     " WHERE id = $1"},
    {"app_numbered",
     "UPDATE application SET status = 'registered', queue = $2,"
     " updated_at = now() WHERE id = $1"},
    {"app_delivered",
     "UPDATE application SET delivered_at = coalesce(delivered_at,"
     " to_timestamp($2::float8)), updated_at = now() WHERE id = $1"},
    {NULL, NULL},
};
