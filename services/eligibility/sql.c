/* All SQL of kezek-eligibility (and the registry's, registry.h). The
 * columns of each statement read by position are named by the enum its
 * entry names (eligibility.h), in SELECT order. */
#include "eligibility.h"

#include "outbox.h"
#include "registry.h"

const struct pg_stmt elig_stmts[] = {
    REGISTRY_STMTS,
    {"decision_put", /* the batch's decisions (rowbuf.h), off the work */
     /* list, each with its DecisionMade — only for a decision written now
      * (a replay finds it made), logged here (outbox.h): the batch's last
      * write, its events returned for the bus */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
     " $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
     " $14::text[], $15::text[]) WITH ORDINALITY AS v (application_id,"
     " registered, outcome, reasons, facts, rules_version, decision_date,"
     " application, " OUTBOX_TEXT_COLUMNS ", n)),"
     " d AS (INSERT INTO decision (application_id, registered, outcome,"
     " reasons, facts, rules_version, decision_date, application)"
     " SELECT application_id, registered::boolean, outcome, reasons::jsonb,"
     " facts::jsonb, rules_version, decision_date::date,"
     " application::jsonb FROM v ON CONFLICT DO NOTHING"
     " RETURNING application_id),"
     " u AS (DELETE FROM parked_application p"
     " WHERE p.application_id = ANY ($1::text[])),"
     " e (" EVENT_LOG_E_COLUMNS ") AS (SELECT row_number() OVER"
     " (ORDER BY v.n), " OUTBOX_FROM_TEXT("v") " FROM v JOIN d"
     " ON d.application_id = v.application_id)," EVENT_LOG_TAIL("e")},
    {"park",
     "INSERT INTO parked_application (application_id, authority_id, reason,"
     " accepted_seq, payload, due_date) VALUES ($1, $2, $3, $4, $5, $6)"
     " ON CONFLICT DO NOTHING"},
    {"worklist", /* columns: enum worklist_col */
     "SELECT application_id, reason, due_date::text,"
     " extract(epoch FROM parked_at)::bigint,"
     " due_date - (now() AT TIME ZONE 'UTC' + interval '5 hours')::date"
     " FROM parked_application WHERE authority_id = $1"
     " ORDER BY due_date, accepted_seq"},
    {"parked_one", /* read in binary: the payload is bytea; columns: */
     /* enum parked_one_col */
     "SELECT authority_id, accepted_seq::text, payload"
     " FROM parked_application WHERE application_id = $1 FOR UPDATE"},
    {"decision_manual",
     "INSERT INTO decision (application_id, registered, outcome, reasons,"
     " facts, rules_version, decision_date, decided_by, note)"
     " VALUES ($1, $2, $3, $4, '{}', 'manual', (now() AT TIME ZONE 'UTC'"
     " + interval '5 hours')::date, $5, $6) ON CONFLICT DO NOTHING"},
    {"deadline_gauges", /* columns: enum deadline_gauges_col */
     /* every authority, 0 included, so that a gauge falls back */
     "SELECT a.id, count(p.*) FILTER (WHERE p.due_date >= d AND"
     " p.due_date <= d + 3), count(p.*) FILTER (WHERE p.due_date < d)"
     " FROM authority a CROSS JOIN (SELECT (now() AT TIME ZONE 'UTC'"
     " + interval '5 hours')::date AS d) t LEFT JOIN parked_application p"
     " ON p.authority_id = a.id GROUP BY a.id"},
    {"unpark", "DELETE FROM parked_application WHERE application_id = $1"},
    {"parked_next", /* binary; columns: enum parked_next_col */
     "SELECT accepted_seq, payload FROM parked_application"
     " WHERE parked_at < now() - interval '1 second'"
     " ORDER BY accepted_seq LIMIT 1 OFFSET $1 FOR UPDATE SKIP LOCKED"},
    {"parked_count", /* known reasons with 0, so gauges fall back; */
     /* columns: enum parked_count_col */
     "SELECT r.reason, count(p.*) FROM (SELECT DISTINCT reason FROM"
     " (VALUES ('subsistence_minimum_missing'), ('category_not_in_registry'),"
     " ('application_date_invalid')) v (reason) UNION SELECT reason FROM"
     " parked_application) r LEFT JOIN parked_application p"
     " ON p.reason = r.reason GROUP BY r.reason"},
    {"worklist_flags", /* re-verification (issue 22, domain/ */
     /* queue_life.h): the authority's people in the queue the rules no
      * longer register; columns: enum worklist_flags_col */
     "SELECT application_id, list, outcome, reasons::text, review_reason,"
     " extract(epoch FROM flagged_at)::bigint, run_id"
     " FROM queue_reverify_flag WHERE authority_id = $1"
     " AND resolved_at IS NULL ORDER BY flagged_at, application_id"},
    {"flag_confirm", /* the office keeps a flagged person in the queue */
     "UPDATE queue_reverify_flag SET resolved_at = now(), resolved_by = $2,"
     " resolution = 'confirmed', note = $3 WHERE application_id = $1"
     " AND authority_id = $4 AND resolved_at IS NULL"},
    {"flag_open", /* the authority of an open flag */
     "SELECT authority_id FROM queue_reverify_flag WHERE application_id = $1"
     " AND resolved_at IS NULL"},
    {"decision_of", "SELECT outcome FROM decision WHERE application_id = $1"},
    {NULL, NULL},
};
