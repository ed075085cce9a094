-- The hot path at scale (issue 9).
--
-- p.5: a person holds one place per list. The unique partial index both
-- enforces it and gives the "does this person already hold a place"
-- check of every registration an index of its own (a generic plan used
-- to walk the list order index and filter by IIN: linear in the list).
CREATE UNIQUE INDEX queue_entry_active_iin
    ON queue_entry (authority_id, list, applicant_iin)
    WHERE status = 'active';

-- Active entries per list, kept under the list row's lock by numbering
-- (+1) and removal (-1), so that the position at registration is
-- active - (active entries accepted later): it costs the few entries
-- behind a late decision instead of a count of the whole list.
ALTER TABLE queue_list ADD COLUMN active bigint NOT NULL DEFAULT 0;
UPDATE queue_list l SET active = (SELECT count(*) FROM queue_entry e
    WHERE e.authority_id = l.authority_id AND e.list = l.list
    AND e.status = 'active');

CREATE OR REPLACE FUNCTION queue_remove(p_authority text, p_list text,
                                        p_iin text, p_reason text,
                                        p_on date, p_by text)
RETURNS TABLE (o_number bigint, o_position bigint, o_application_id text)
LANGUAGE plpgsql AS $$
DECLARE
    e queue_entry%ROWTYPE;
    n_active bigint;
BEGIN
    -- serialize with numbering and other removals of this list
    SELECT l.active INTO n_active FROM queue_list l
        WHERE l.authority_id = p_authority AND l.list = p_list FOR UPDATE;
    SELECT * INTO e FROM queue_entry q WHERE q.authority_id = p_authority
        AND q.list = p_list AND q.applicant_iin = p_iin
        AND q.status = 'active' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    o_number := e.number;
    o_application_id := e.application_id;
    -- ORDER BY: the list-order index has the later entries at its end
    SELECT n_active - count(*) INTO o_position FROM (SELECT 1
        FROM queue_entry o WHERE o.authority_id = p_authority
        AND o.list = p_list AND o.status = 'active'
        AND o.accepted_seq > e.accepted_seq ORDER BY o.accepted_seq) later;
    UPDATE queue_entry SET status = 'removed', removed_on = p_on,
        removal_reason = p_reason, removed_by = p_by
        WHERE queue_entry.application_id = e.application_id;
    UPDATE queue_list SET active = active - 1
        WHERE authority_id = p_authority AND list = p_list;
    INSERT INTO queue_change (authority_id, list, kind, accepted_seq,
                              application_id, reason)
        VALUES (p_authority, p_list, 'removed', e.accepted_seq,
                e.application_id, p_reason);
    RETURN NEXT;
END;
$$;

-- The outbox is a queue: every row is deleted moments after its insert.
-- Vacuum it (and the per-batch offset rows) continuously so that the
-- relay's index scan for the oldest rows does not wade through dead
-- entries.
-- (The relay vacuums it too, each second under load; never truncating,
-- which would wait for a lock the inserts keep taking.)
ALTER TABLE event_outbox SET (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0,
    vacuum_truncate = false);
ALTER TABLE consumer_offset SET (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000, fillfactor = 50);
ALTER TABLE queue_list SET (fillfactor = 50);

-- Notices and decisions are a few kilobytes of JSON each, written once:
-- stored as they are (compression is tried only above a full page, and
-- then with lz4), since compressing each on the way in with pglz cost
-- more CPU than the bytes it saved. Applications are updated thrice by
-- the status read model, and every update copies the row: their JSON
-- stays compressed, with lz4 (cheap), so the copies stay small.
ALTER TABLE notice SET (toast_tuple_target = 8160);
ALTER TABLE notice ALTER canonical SET COMPRESSION lz4;
-- A notice kept its document twice: as jsonb and as the canonical text
-- that is signed. The text is the record (what the signature covers);
-- the few readers that need a field parse it.
ALTER TABLE notice DROP COLUMN document;
ALTER TABLE application ALTER body SET COMPRESSION lz4,
    ALTER receipt SET COMPRESSION lz4;
ALTER TABLE decision SET (toast_tuple_target = 8160);
ALTER TABLE decision ALTER facts SET COMPRESSION lz4,
    ALTER application SET COMPRESSION lz4;
ALTER TABLE event_log ALTER payload SET COMPRESSION lz4;
ALTER TABLE event_outbox ALTER payload SET COMPRESSION lz4;

-- The status read model updates each application three times (decided,
-- numbered, delivered): room on its page keeps those updates HOT.
ALTER TABLE application SET (fillfactor = 70);
