-- Queue lifecycle (p.5): removals and the change log of every list from
-- which each entry's position history is derived exactly: an entry's
-- position moves by +1 for each later insertion ahead of it (a late
-- decision for an earlier application) and by -1 for each removal ahead
-- of it.

ALTER TABLE queue_entry ADD COLUMN removed_on date;
ALTER TABLE queue_entry ADD COLUMN removal_reason text;
ALTER TABLE queue_entry ADD COLUMN removed_by text;
ALTER TABLE queue_entry ADD COLUMN position_at_registration bigint;
CREATE INDEX queue_entry_iin ON queue_entry (authority_id, list,
                                             applicant_iin);

CREATE TABLE queue_change (
    id             bigserial PRIMARY KEY,
    authority_id   text NOT NULL,
    list           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('registered', 'removed')),
    accepted_seq   bigint NOT NULL,
    application_id text NOT NULL,
    reason         text,
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queue_change_list ON queue_change (authority_id, list, id);

-- Removes the active entry of iin from a list, logs the change, and
-- returns its number and last position (no row: nothing to remove).
-- One function so that the HTTP API and the kezek tool share it.
CREATE FUNCTION queue_remove(p_authority text, p_list text, p_iin text,
                             p_reason text, p_on date, p_by text)
RETURNS TABLE (o_number bigint, o_position bigint, o_application_id text)
LANGUAGE plpgsql AS $$
DECLARE
    e queue_entry%ROWTYPE;
BEGIN
    -- serialize with numbering and other removals of this list
    PERFORM 1 FROM queue_list l WHERE l.authority_id = p_authority
        AND l.list = p_list FOR UPDATE;
    SELECT * INTO e FROM queue_entry q WHERE q.authority_id = p_authority
        AND q.list = p_list AND q.applicant_iin = p_iin
        AND q.status = 'active' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    o_number := e.number;
    o_application_id := e.application_id;
    SELECT count(*) INTO o_position FROM queue_entry o
        WHERE o.authority_id = p_authority AND o.list = p_list
        AND o.status = 'active' AND o.accepted_seq <= e.accepted_seq;
    UPDATE queue_entry SET status = 'removed', removed_on = p_on,
        removal_reason = p_reason, removed_by = p_by
        WHERE queue_entry.application_id = e.application_id;
    INSERT INTO queue_change (authority_id, list, kind, accepted_seq,
                              application_id, reason)
        VALUES (p_authority, p_list, 'removed', e.accepted_seq,
                e.application_id, p_reason);
    RETURN NEXT;
END;
$$;
