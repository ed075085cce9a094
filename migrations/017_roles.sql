-- Least privilege: each service connects as a role of its own and may
-- write only its own tables and the spine's; it reads another service's
-- tables only where its code does. The schema belongs to kezek_owner,
-- which applies the migrations and runs the kezek tool's writing
-- commands; kezek_report reads every table, for the tool's reports.
-- Roles belong to the cluster, not to a database: they are made by
-- whoever sets the cluster up (deploy/up, deploy/test), never here.
-- Later migrations grant on what they create themselves, beside the
-- CREATE (no default privileges: a new table is nobody's until granted).
--
-- What Postgres checks, and so what is granted below: an UPDATE or a
-- DELETE with a WHERE, and a RETURNING, need SELECT as well; SELECT … FOR
-- UPDATE needs UPDATE; INSERT … ON CONFLICT DO UPDATE needs INSERT,
-- UPDATE and SELECT, and ON CONFLICT (columns) DO NOTHING SELECT on
-- those columns (the arbiter is read); an INSERT into a bigserial table
-- takes its id from the table's sequence (USAGE). The function
-- queue_remove (migrations/008) runs with its caller's rights (not
-- SECURITY DEFINER); the view result_delivery (migrations/013) reads
-- notice with its owner's. A trigger function needs no EXECUTE to fire,
-- and api_token's (token revocation) fires on the tool's writes only.
-- LISTEN, NOTIFY and advisory locks (the relay's leader, the migrator)
-- need no privilege; no service uses COPY, TRUNCATE or LOCK TABLE.

DO $$
DECLARE
    missing text[] := ARRAY(
        SELECT r FROM unnest(ARRAY['kezek_report', 'kezek_intake',
            'kezek_eligibility', 'kezek_queue', 'kezek_notify']) AS r
        WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r));
BEGIN
    IF cardinality(missing) > 0 THEN
        -- the message alone: the tool's connections are terse (no HINT)
        RAISE EXCEPTION '% % % not exist: deploy/up and deploy/test '
            'create the roles before they migrate',
            CASE cardinality(missing) WHEN 1 THEN 'role' ELSE 'roles' END,
            array_to_string(missing, ', '),
            CASE cardinality(missing) WHEN 1 THEN 'does' ELSE 'do' END;
    END IF;
END;
$$;

-- Nothing for anyone by default: functions were executable by PUBLIC
-- (tables and sequences were not), and nobody but the owner creates.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO kezek_report, kezek_intake,
    kezek_eligibility, kezek_queue, kezek_notify;

-- The spine, the same for every service (lib/outbox.c spine_stmts).
-- Its relay (lib/relay.c; every service with bus_bind runs one, the
-- holder of the advisory lock moves): relay_move deletes the oldest
-- outbox rows returning them, takes their seqs from event_log_head
-- (EVENT_LOG_TAIL, lib/outbox.h: UPDATE … RETURNING) and inserts them
-- into event_log returning them — as do the producers that log where
-- they produce (intake's app_store, eligibility's decision_put, queue's
-- event_put). Its consumer (lib/consumer.c): outbox_fetch reads
-- event_log; offset_init, offset_lock (FOR UPDATE) and offset_set keep
-- its offset row; dead_letter records poison events (ON CONFLICT
-- (consumer, seq) DO NOTHING: those two columns are read, not the
-- payloads). Its HTTP requests: auth_token (lib/auth.c) reads the token
-- hashes.
GRANT SELECT, DELETE ON event_outbox TO kezek_intake, kezek_eligibility,
    kezek_queue, kezek_notify;
GRANT SELECT, UPDATE ON event_log_head TO kezek_intake, kezek_eligibility,
    kezek_queue, kezek_notify;
GRANT SELECT, INSERT ON event_log TO kezek_intake, kezek_eligibility,
    kezek_queue, kezek_notify;
GRANT SELECT, INSERT, UPDATE ON consumer_offset TO kezek_intake,
    kezek_eligibility, kezek_queue, kezek_notify;
GRANT INSERT, SELECT (consumer, seq) ON dead_letter TO kezek_intake,
    kezek_eligibility, kezek_queue, kezek_notify;
GRANT USAGE ON SEQUENCE dead_letter_id_seq TO kezek_intake,
    kezek_eligibility, kezek_queue, kezek_notify;
GRANT SELECT ON api_token TO kezek_intake, kezek_eligibility, kezek_queue,
    kezek_notify;

-- The relay's VACUUM of event_outbox (lib/relay.c) needs the owner, or,
-- from Postgres 17, MAINTAIN; before 17 Postgres skips it for a service
-- role with a warning (not an error), and autovacuum, set for the
-- outbox in migrations/008, keeps it clean alone.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'GRANT MAINTAIN ON event_outbox TO kezek_intake, '
                'kezek_eligibility, kezek_queue, kezek_notify';
    END IF;
END;
$$;

-- Events through the outbox (outbox_add, lib/outbox.c): intake's
-- complaints (services/intake/complaints.c), eligibility's parked and
-- manual decisions (emit, services/eligibility/main.c), notify's
-- NoticeDelivered (services/notify/main.c). The queue logs its events
-- where it produces them only.
GRANT INSERT ON event_outbox TO kezek_intake, kezek_eligibility,
    kezek_notify;
GRANT USAGE ON SEQUENCE event_outbox_id_seq TO kezek_intake,
    kezek_eligibility, kezek_notify;

-- The audit of personal-data reads (p.17): audit_put (lib/audit.c)
-- writes the reads that intake (status, complaints), queue (positions,
-- history) and notify (cabinet, printing, journal) answer with
-- audit_reply. Eligibility answers none (its work list shows no
-- personal data) and writes no audit row.
GRANT INSERT ON audit_read TO kezek_intake, kezek_queue, kezek_notify;
GRANT USAGE ON SEQUENCE audit_read_id_seq TO kezek_intake, kezek_queue,
    kezek_notify;

-- kezek_intake (services/intake/sql.c, ops.c).
-- Its own: app_store inserts keys and applications (the keys ON CONFLICT
-- DO NOTHING RETURNING), idem_get and app_get read them, receipt_block
-- and complaint_next take numbers; the status read model (app_decided,
-- app_numbered: ON CONFLICT DO UPDATE) upserts application_status, which
-- app_get reads; feedback_put and the indicators (ops.c) write and read
-- feedback; complaint_put, complaint_idem, complaint_get and
-- complaint_state (UPDATE … WHERE … RETURNING) keep complaints.
GRANT SELECT, INSERT ON application, idempotency_key, feedback
    TO kezek_intake;
GRANT SELECT, INSERT, UPDATE ON application_status, complaint
    TO kezek_intake;
GRANT USAGE ON SEQUENCE receipt_number_seq, complaint_number_seq
    TO kezek_intake;
-- Read: the reference data (validation, refname lookups, the ref_*
-- endpoints, complaint routing) and the notice keys (ref_keys); notify's
-- delivery of results through its view (app_get, the indicators); the
-- audit trail for operators (audit_by_iin) and indicator 3.2.
GRANT SELECT ON region, authority, settlement, centre, appeal_instance,
    signing_key, result_delivery, audit_read TO kezek_intake;

-- kezek_eligibility (services/eligibility/main.c, registry.h).
-- Its own: decision_put inserts decisions (ON CONFLICT DO NOTHING
-- RETURNING) and unparks them (DELETE … WHERE), decision_manual inserts
-- an employee's; park, worklist, parked_one and parked_next (FOR UPDATE),
-- unpark, deadline_gauges and parked_count keep the parked applications.
GRANT SELECT, INSERT ON decision TO kezek_eligibility;
GRANT SELECT, INSERT, UPDATE, DELETE ON parked_application
    TO kezek_eligibility;
-- Read: the registries and the subsistence minimum (reg_facts,
-- reg_facts_batch), the authorities (deadline_gauges).
GRANT SELECT ON registry_person, registry_property, registry_tenancy,
    registry_move, subsistence_minimum, authority TO kezek_eligibility;

-- kezek_queue (services/queue/main.c, domain/queue_view.c).
-- Its own: list_add, list_lock (FOR UPDATE) and list_set keep the
-- lists' counters; entry_put inserts entries and their change-log rows;
-- entry_remove calls queue_remove, which locks the list and the entry
-- (FOR UPDATE), updates both and logs the change, with the queue's
-- rights; entry_state, entry_lookup, entry_position, the history,
-- list_lengths and the Redis view's rebuild and check read them.
GRANT SELECT, INSERT, UPDATE ON queue_list, queue_entry TO kezek_queue;
GRANT SELECT, INSERT ON queue_change TO kezek_queue;
GRANT USAGE ON SEQUENCE queue_change_id_seq TO kezek_queue;
GRANT EXECUTE ON FUNCTION queue_remove(text, text, text, text, date, text)
    TO kezek_queue;

-- kezek_notify (services/notify/main.c, paper_api.h).
-- Its own: notice_put inserts the notices (ON CONFLICT DO NOTHING
-- RETURNING) with their deliveries, receipt_put a printed receipt;
-- mail_next (FOR UPDATE), mail_state and mail_in_doubt (UPDATE … WHERE)
-- move the e-mails; contact_put, paper_access_put and issuance_put
-- insert; cabinet, paper_notice, paper_access_get, journal,
-- awaiting_pickup and mail_counts read.
GRANT SELECT, INSERT ON notice, notify_contact, paper_access, issuance
    TO kezek_notify;
GRANT SELECT, INSERT, UPDATE ON notice_delivery TO kezek_notify;
-- Read: the authorities' names (authority_name); intake's receipt as
-- accepted, printed when notify kept no copy of its own
-- (paper_access_get: coalesce(p.receipt, a.receipt)) — those two
-- columns only, not the application's body.
GRANT SELECT ON authority TO kezek_notify;
GRANT SELECT (id, receipt) ON application TO kezek_notify;

-- kezek_report: the kezek tool's reports read anything (views and
-- schema_migration included), write nothing.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO kezek_report;
