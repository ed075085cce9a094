/* All SQL of kezek-intake. The columns of each statement read by
 * position are named by an enum in intake.h, in SELECT order. */
#include "intake.h"

#include "outbox.h"

const struct pg_stmt intake_stmts[] = {
    {"settlement_authority", /* cached: refname.h */
     "SELECT authority_id FROM settlement WHERE id = $1"},
    {"authority_name", "SELECT name FROM authority WHERE id = $1"},
    {"centre_name", "SELECT doc ->> 'name' FROM centre WHERE id = $1"},
    {"idem_get",
     "SELECT k.body_sha256, a.id, a.receipt FROM idempotency_key k"
     " JOIN application a ON a.id = k.application_id"
     " WHERE k.principal = $1 AND k.key = $2"},
    {"receipt_block", /* RECEIPT_BLOCK numbers in one round trip */
     "SELECT nextval('receipt_number_seq') FROM generate_series(1, 32)"},
    {"app_store", /* a batch of keys, applications and events (the */
     /* committer, rowbuf.h), the events logged here (outbox.h); returns
      * them (key: the application id) — a row whose key exists stores
      * nothing, and the caller replays the key */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
     " $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
     " $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],"
     " $19::text[], $20::text[], $21::text[], $22::text[])"
     " WITH ORDINALITY AS v (id, receipt_number, authority_id,"
     " settlement_id, channel, principal, category, applicant_iin,"
     " accepted_at, result_due, internal_due, body, receipt, key, sha, "
     OUTBOX_TEXT_COLUMNS ", n)),"
     " k AS (INSERT INTO idempotency_key (principal, key, body_sha256,"
     " application_id) SELECT principal, key, sha, id FROM v"
     " ON CONFLICT DO NOTHING RETURNING application_id),"
     " a AS (INSERT INTO application (id, receipt_number, authority_id,"
     " settlement_id, channel, principal, category, applicant_iin,"
     " accepted_at, result_due, internal_due, body, receipt)"
     " SELECT v.id, v.receipt_number, v.authority_id, v.settlement_id,"
     " v.channel, v.principal, v.category, v.applicant_iin,"
     " to_timestamp(v.accepted_at::float8), v.result_due::date,"
     " v.internal_due::date, v.body::jsonb, v.receipt::jsonb"
     " FROM v JOIN k ON k.application_id = v.id RETURNING id),"
     " e (" EVENT_LOG_E_COLUMNS ") AS (SELECT row_number() OVER"
     " (ORDER BY v.n), " OUTBOX_FROM_TEXT("v") " FROM v JOIN a"
     " ON a.id = v.id)," EVENT_LOG_TAIL("e")},
    {"app_get", /* the status: its own row (migrations/015), none while
                   undecided; delivered: the result's notice is in the
                   cabinet (migrations/013) — once the status shows it */
     "SELECT a.id, coalesce(s.status, 'accepted'), a.authority_id,"
     " s.decision, s.queue, a.receipt, coalesce(s.status IN ('registered',"
     " 'refused', 'removed'), false) AND EXISTS (SELECT 1 FROM result_delivery d"
     " WHERE d.application_id = a.id), a.principal, a.applicant_iin"
     " FROM application a LEFT JOIN application_status s"
     " ON s.application_id = a.id WHERE a.id = $1"},
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
    /* the status read model (status.c), set-based: one statement per
     * batch and kind, each column an array (rowbuf.h); upserts by key,
     * so one plan serves every batch; only for an application stored
     * here */
    {"app_decided", /* a final status (registered, refused, withdrawn,
                       removed) stays */
     "INSERT INTO application_status AS s (application_id, status,"
     " decision) SELECT v.id, v.status, v.decision::jsonb"
     " FROM unnest($1::text[], $2::text[], $3::text[]) AS v (id, status,"
     " decision) JOIN LATERAL (SELECT 1 FROM application a"
     " WHERE a.id = v.id LIMIT 1) a ON true"
     " ON CONFLICT (application_id) DO UPDATE SET"
     " status = CASE WHEN s.status IN ('registered', 'refused',"
     " 'withdrawn', 'removed') THEN s.status ELSE excluded.status END,"
     " decision = CASE WHEN s.status IN ('registered', 'refused',"
     " 'withdrawn', 'removed')"
     " THEN s.decision ELSE excluded.decision END, updated_at = now()"},
    {"app_numbered",
     "INSERT INTO application_status AS s (application_id, status, queue)"
     " SELECT v.id, 'registered', v.queue::jsonb"
     " FROM unnest($1::text[], $2::text[]) AS v (id, queue)"
     " JOIN LATERAL (SELECT 1 FROM application a WHERE a.id = v.id"
     " LIMIT 1) a ON true"
     " ON CONFLICT (application_id) DO UPDATE SET status = 'registered',"
     " queue = excluded.queue, updated_at = now()"},
    {"app_queue_changed", /* the queue's life (issue 22): the place now,
                             or "removed" with the place left */
     "INSERT INTO application_status AS s (application_id, status, queue)"
     " SELECT v.id, v.status, v.queue::jsonb FROM unnest($1::text[],"
     " $2::text[], $3::text[]) AS v (id, status, queue)"
     " JOIN LATERAL (SELECT 1 FROM application a WHERE a.id = v.id"
     " LIMIT 1) a ON true ON CONFLICT (application_id) DO UPDATE SET"
     " status = excluded.status, queue = excluded.queue,"
     " updated_at = now()"},
    {"feedback_put",
     "INSERT INTO feedback (application_id, authority_id, r21, r31, r41,"
     " r51) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"},
    {"audit_by_iin",
     "SELECT extract(epoch FROM at)::bigint, principal, purpose, resource"
     " FROM audit_read WHERE subject_iin = $1 ORDER BY at DESC LIMIT 1000"},
    {"complaint_appeal",
     "SELECT ap.id, ap.doc FROM appeal_instance ap JOIN authority a"
     " ON a.region_id = ap.region_id WHERE a.id = $1"
     " ORDER BY ap.id LIMIT 1"},
    {"complaint_centre", "SELECT id, doc FROM centre WHERE id = $1"},
    {"complaint_head", "SELECT id, doc FROM authority WHERE id = $1"},
    {"complaint_next", "SELECT nextval('complaint_number_seq')"},
    {"complaint_put",
     "INSERT INTO complaint (id, number, application_id, authority_id,"
     " complainant_iin, about_employee, text, attachments, channel,"
     " accepted_by, answer_due, routed_kind, routed_id, ticket,"
     " idem_principal, idem_key, body_sha256)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
     " $14, $15, $16, $17) ON CONFLICT (idem_principal, idem_key)"
     " DO NOTHING"},
    {"complaint_idem",
     "SELECT id, body_sha256, ticket, state FROM complaint"
     " WHERE idem_principal = $1 AND idem_key = $2"},
    {"complaint_get",
     "SELECT state, authority_id, complainant_iin, ticket, answer_text,"
     " extract(epoch FROM answered_at)::bigint, routed_kind, routed_id"
     " FROM complaint WHERE id = $1"},
    {"pipeline_consumers", /* GET /v1/ops/pipeline (lists.c) */
     "SELECT o.consumer, o.last_seq, h.seq - o.last_seq,"
     " extract(epoch FROM o.updated_at)::bigint, (SELECT count(*)"
     " FROM dead_letter d WHERE d.consumer = o.consumer)"
     " FROM consumer_offset o, event_log_head h ORDER BY o.consumer"},
    {"pipeline_lists",
     "SELECT l.authority_id, l.list, l.active, l.last_number"
     " FROM queue_list l JOIN authority a ON a.id = l.authority_id"
     " WHERE $1::text IS NULL OR a.region_id = $1"
     " ORDER BY l.authority_id, l.list"},
    {"session_scope", /* the region and name of a principal's scope */
     "SELECT CASE $1 WHEN 'office' THEN (SELECT region_id FROM authority"
     " WHERE id = $2) WHEN 'head' THEN (SELECT region_id FROM authority"
     " WHERE id = $2) WHEN 'centre' THEN (SELECT region_id FROM centre"
     " WHERE id = $2) WHEN 'appeal' THEN (SELECT region_id FROM"
     " appeal_instance WHERE id = $2) WHEN 'supervisor' THEN (SELECT id"
     " FROM region WHERE id = $2) END, CASE $1 WHEN 'office' THEN (SELECT"
     " name FROM authority WHERE id = $2) WHEN 'head' THEN (SELECT"
     " name FROM authority WHERE id = $2) WHEN 'centre' THEN (SELECT doc"
     " ->> 'name' FROM centre WHERE id = $2) WHEN 'appeal' THEN (SELECT"
     " doc ->> 'name' FROM appeal_instance WHERE id = $2) WHEN"
     " 'supervisor' THEN (SELECT doc ->> 'short_name' FROM region"
     " WHERE id = $2) END"},
    {"complaint_state",
     "UPDATE complaint SET state = $2, answer_text = coalesce($3,"
     " answer_text), answered_at = CASE WHEN $2 = 'answered' THEN now()"
     " END WHERE id = $1 AND ((state = 'received' AND $2 = 'in_review')"
     " OR (state IN ('received', 'in_review') AND $2 = 'answered'))"
     " RETURNING complainant_iin, authority_id, number"},
    {NULL, NULL},
};
