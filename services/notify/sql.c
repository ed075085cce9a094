/* All SQL of kezek-notify. The columns of each statement read by
 * position are named by an enum in notify.h, in SELECT order (named
 * beside the statement here). */
#include "notify.h"

const struct pg_stmt notify_stmts[] = {
    {"notice_put", /* the batch's notices (rowbuf.h: arrays) and their
                      deliveries — cabinet done; e-mail pending when
                      there is an address; SMS pending when a phone and
                      the notice goes by SMS ($9); the portal's callback
                      pending when it is on ($10): one statement per
                      batch. The notice in the cabinet is the delivery
                      of a result (p.15); intake's status reads it
                      (result_delivery, migrations/013) instead of an
                      event per notice */
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
     " $9::text[], $10::text[]) AS v (id, application_id, iin, kind, at,"
     " canonical, signature, key_id, sms, portal)),"
     " n AS (INSERT INTO notice (id, application_id, applicant_iin,"
     " kind, issued_at, canonical, signature, key_id)"
     " SELECT id, application_id, iin, kind, to_timestamp(at::float8),"
     " canonical, signature, key_id FROM v"
     " ON CONFLICT DO NOTHING RETURNING id, application_id),"
     " c AS (INSERT INTO notice_delivery (notice_id, channel, state,"
     " sent_at) SELECT id, 'cabinet', 'sent', now() FROM n),"
     " s AS (INSERT INTO notice_delivery (notice_id, channel, state)"
     " SELECT n.id, 'sms', 'pending' FROM n JOIN v ON v.id = n.id"
     " WHERE v.sms = 't' AND EXISTS (SELECT 1 FROM notify_contact k"
     " WHERE k.application_id = n.application_id AND k.phone IS NOT NULL)),"
     " p AS (INSERT INTO notice_delivery (notice_id, channel, state)"
     " SELECT n.id, 'portal', 'pending' FROM n JOIN v ON v.id = n.id"
     " WHERE v.portal = 't')"
     " INSERT INTO notice_delivery (notice_id, channel, state)"
     " SELECT n.id, 'email', 'pending' FROM n CROSS JOIN LATERAL"
     " (SELECT 1 FROM notify_contact k WHERE k.application_id ="
     " n.application_id AND k.email IS NOT NULL LIMIT 1) k"},
    {"contact_put", /* set-based, before the notices that join it */
     "INSERT INTO notify_contact (application_id, email, phone, language)"
     " SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[]) ON CONFLICT DO NOTHING"},
    {"place_receipts", /* columns: PLACE_*; set-based (rowbuf.h), the
      * batch's registrations: each one's receipt of place in the
      * transparency log (issue 24) — its leaf, the entry's secret and
      * the first signed head that holds the leaf, written in the queue's
      * transaction that numbered it, before the event; each reached by
      * key (LATERAL … LIMIT 1: one generic plan) */
     "SELECT v.app, x.* FROM unnest($1::text[], $2::text[], $3::text[],"
     " $4::text[]) AS v (app, auth, list, number) CROSS JOIN LATERAL"
     " (SELECT e.tlog_index, encode(e.tlog_secret, 'hex'), n.entry, s.size,"
     " encode(s.root, 'hex'), s.signed_ms, s.key_id, s.signature"
     " FROM queue_entry e JOIN tlog_node n ON n.authority_id ="
     " e.authority_id AND n.level = 0 AND n.idx = e.tlog_index"
     " CROSS JOIN LATERAL (SELECT * FROM tlog_sth t WHERE t.authority_id ="
     " e.authority_id AND t.size > e.tlog_index ORDER BY t.size LIMIT 1) s"
     " WHERE e.authority_id = v.auth AND e.list = v.list"
     " AND e.number = v.number::bigint AND e.application_id = v.app"
     " LIMIT 1) x"},
    {"authority_name", /* one column (refname.h) */
     "SELECT name FROM authority WHERE id = $1"},
    {"cabinet", /* columns: CABINET_* */
     "SELECT application_id, kind, extract(epoch FROM issued_at)::bigint,"
     " canonical, signature, key_id"
     " FROM notice WHERE applicant_iin = $1 AND kind <> 'receipt'"
     " ORDER BY issued_at DESC, id LIMIT $2 OFFSET $3"},
    {"delivery_next", /* columns: NEXT_*; a channel's next due */
     "SELECT d.notice_id, n.canonical, n.signature, n.key_id, n.kind,"
     " n.application_id, d.attempts, coalesce(c.email, ''),"
     " coalesce(c.phone, ''), coalesce(c.language, ''), n.applicant_iin"
     " FROM notice_delivery d JOIN notice n ON n.id = d.notice_id"
     " LEFT JOIN notify_contact c ON c.application_id = n.application_id"
     " WHERE d.channel = $1 AND d.state = 'pending'"
     " AND d.next_attempt_at <= now() ORDER BY d.next_attempt_at LIMIT 1"
     " FOR UPDATE OF d SKIP LOCKED"},
    {"delivery_state", /* an SMS's report may come before its sender
                          records Kannel's "accepted": sent never
                          overwrites the final state the report gave */
     "UPDATE notice_delivery SET state = CASE WHEN $3 = 'sent'"
     " AND state IN ('delivered', 'failed') THEN state ELSE $3 END,"
     " attempts = attempts"
     " + CASE WHEN $3 = 'sending' THEN 1 ELSE 0 END,"
     " last_error = CASE WHEN $3 = 'sent' AND state IN ('delivered',"
     " 'failed') THEN last_error ELSE $4 END,"
     " message_id = coalesce($5, message_id), next_attempt_at = now()"
     " + make_interval(secs => $6::float8), sent_at = CASE WHEN $3 IN"
     " ('sent', 'delivered') THEN now() END,"
     " segments = coalesce($7::int, segments),"
     " coding = coalesce($8, coding), updated_at = now()"
     " WHERE notice_id = $1 AND channel = $2"},
    {"delivery_in_doubt",
     "UPDATE notice_delivery SET state = 'in_doubt', updated_at = now()"
     " WHERE channel = $1 AND state = 'sending'"},
    {"sms_dlr", /* a delivery report (api.c): $2 the new state — sent */
     /* (the SMSC took it: only from sending or in_doubt, which it proves
      * left), delivered or failed (final) */
     "UPDATE notice_delivery SET state = $2, last_error = $3,"
     " sent_at = coalesce(sent_at, now()), updated_at = now()"
     " WHERE notice_id = $1 AND channel = 'sms' AND (state IN"
     " ('sending', 'in_doubt') OR (state = 'sent' AND $2 <> 'sent'))"},
    {"paper_access_put", /* set-based (rowbuf.h) */
     "INSERT INTO paper_access (application_id, authority_id, principal,"
     " applicant_iin, channel, receipt) SELECT * FROM unnest($1::text[],"
     " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
     " ON CONFLICT DO NOTHING"},
    {"paper_access_get", /* columns: ACCESS_*; the receipt as given */
     /* (p.14): intake's, or the copy kept here when the event still
      * carried it */
     "SELECT p.authority_id, p.principal, p.applicant_iin, p.channel,"
     " coalesce(p.receipt, a.receipt::text) FROM paper_access p"
     " LEFT JOIN application a ON a.id = p.application_id"
     " WHERE p.application_id = $1"},
    {"receipt_put", /* signed at its first printing (p.14) */
     "INSERT INTO notice (id, application_id, applicant_iin, kind,"
     " canonical, signature, key_id) VALUES ($1, $2, $3, 'receipt', $4,"
     " $5, $6) ON CONFLICT DO NOTHING"},
    {"paper_notice", /* columns: PRINT_* */
     "SELECT id, canonical, signature, key_id, kind FROM notice"
     " WHERE application_id = $1 AND kind = ANY (string_to_array($2,"
     " ',')) ORDER BY issued_at DESC LIMIT 1"},
    {"issuance_put",
     "INSERT INTO issuance (application_id, notice_id, authority_id,"
     " received_by, receiver_name, power_of_attorney, issued_at,"
     " recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8)"
     " ON CONFLICT DO NOTHING"},
    {"journal", /* columns: JOURNAL_* */
     "SELECT i.application_id, i.notice_id, i.received_by,"
     " i.receiver_name, coalesce(i.power_of_attorney, ''),"
     " extract(epoch FROM i.issued_at)::bigint, i.recorded_by"
     " FROM issuance i WHERE i.authority_id = $1"
     " AND (i.issued_at AT TIME ZONE 'UTC' + interval '5 hours')::date"
     " = $2::date"
     " ORDER BY i.issued_at, i.application_id"},
    {"awaiting_pickup", /* one column: PICKUP_COUNT */
     "SELECT count(*) FROM notice n JOIN paper_access a"
     " ON a.application_id = n.application_id"
     " WHERE n.kind IN ('registration_notice', 'refusal')"
     " AND a.channel IN ('office', 'centre') AND NOT EXISTS"
     " (SELECT 1 FROM issuance i WHERE i.application_id ="
     " n.application_id)"},
    {"delivery_counts", /* columns: COUNT_*; every channel's every */
     /* state, 0 included, so gauges fall back */
     "SELECT c.channel, s.state, count(d.notice_id) FROM (VALUES"
     " ('email'), ('sms'), ('portal')) c (channel) CROSS JOIN (VALUES"
     " ('pending'), ('sending'), ('sent'), ('delivered'), ('failed'),"
     " ('in_doubt')) s (state) LEFT JOIN notice_delivery d"
     " ON d.state = s.state AND d.channel = c.channel"
     " GROUP BY c.channel, s.state"},
    {NULL, NULL},
};
