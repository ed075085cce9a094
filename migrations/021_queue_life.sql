-- The queue's life after registration (issue 22 part 4): an entry
-- leaves its list (removal, the citizen's own request), moves to another
-- list of its authority when the category changes, or to another
-- authority's list when the person moves; and the people in the queue
-- are re-verified against the current registries, those who no longer
-- qualify going to the authority's work list (never removed by the
-- machine).
--
-- An application keeps one entry per place it held: the entry it left
-- is kept (status 'removed', with the cause) and the new one is linked
-- to it, so an application may now have several entries, at most one
-- of them active.
ALTER TABLE queue_entry DROP CONSTRAINT queue_entry_application_id_key;
CREATE UNIQUE INDEX queue_entry_active_application
    ON queue_entry (application_id) WHERE status = 'active';
CREATE INDEX queue_entry_application ON queue_entry (application_id);
-- how the entry came to be: a decision (registration), or a move from
-- {"authority_id", "list", "number"} (cause list_change | transfer)
ALTER TABLE queue_entry ADD COLUMN cause text NOT NULL DEFAULT 'decision';
ALTER TABLE queue_entry ADD COLUMN came_from jsonb;

-- A change's cause beside its kind (registered: decision | list_change |
-- transfer; removed: removal | list_change | transfer), and the other
-- end of a move ({"authority_id", "list", "number"}).
ALTER TABLE queue_change ADD COLUMN cause text NOT NULL DEFAULT 'decision';
UPDATE queue_change SET cause = 'removal' WHERE kind = 'removed';
ALTER TABLE queue_change ADD COLUMN related jsonb;

-- Takes the active entry of p_iin off a list: the list's lock, the
-- entry's last position, the change logged with its cause; an open
-- re-verification flag of the entry is closed by it. No row: nothing
-- to take off.
CREATE FUNCTION queue_leave(p_authority text, p_list text, p_iin text,
                            p_reason text, p_on date, p_by text,
                            p_cause text, p_related jsonb)
RETURNS TABLE (o_number bigint, o_position bigint, o_application_id text,
               o_accepted_seq bigint, o_change_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    e queue_entry%ROWTYPE;
    n_active bigint;
BEGIN
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
    o_accepted_seq := e.accepted_seq;
    SELECT n_active - count(*) INTO o_position FROM (SELECT 1
        FROM queue_entry o WHERE o.authority_id = p_authority
        AND o.list = p_list AND o.status = 'active'
        AND o.accepted_seq > e.accepted_seq ORDER BY o.accepted_seq) later;
    UPDATE queue_entry SET status = 'removed', removed_on = p_on,
        removal_reason = p_reason, removed_by = p_by
        WHERE queue_entry.authority_id = e.authority_id
        AND queue_entry.list = e.list AND queue_entry.number = e.number;
    UPDATE queue_list SET active = active - 1
        WHERE authority_id = p_authority AND list = p_list;
    INSERT INTO queue_change (authority_id, list, kind, accepted_seq,
                              application_id, reason, cause, related)
        VALUES (p_authority, p_list, 'removed', e.accepted_seq,
                e.application_id, p_reason, p_cause, p_related)
        RETURNING id INTO o_change_id;
    UPDATE queue_reverify_flag SET resolved_at = now(), resolved_by = p_by,
        resolution = 'left_queue'
        WHERE application_id = e.application_id AND resolved_at IS NULL;
    RETURN NEXT;
END;
$$;

-- Puts an application into a list as a move (p_cause list_change |
-- transfer) ordered by p_seq: the next number of the list, the position
-- its order gives, the change logged. The list is created when new and
-- locked; a person already active in it is refused by the unique index
-- (queue_entry_active_iin).
CREATE FUNCTION queue_enter(p_authority text, p_list text, p_app text,
                            p_iin text, p_seq bigint, p_cause text,
                            p_came_from jsonb)
RETURNS TABLE (o_number bigint, o_position bigint, o_change_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    l queue_list%ROWTYPE;
    later bigint;
BEGIN
    INSERT INTO queue_list (authority_id, list) VALUES (p_authority, p_list)
        ON CONFLICT DO NOTHING;
    SELECT * INTO l FROM queue_list q WHERE q.authority_id = p_authority
        AND q.list = p_list FOR UPDATE;
    SELECT count(*) INTO later FROM (SELECT 1 FROM queue_entry o
        WHERE o.authority_id = p_authority AND o.list = p_list
        AND o.status = 'active' AND o.accepted_seq > p_seq
        ORDER BY o.accepted_seq) x;
    o_number := l.last_number + 1;
    o_position := l.active + 1 - later;
    INSERT INTO queue_entry (authority_id, list, number, application_id,
                             applicant_iin, accepted_seq,
                             position_at_registration, registered_at, cause,
                             came_from)
        VALUES (p_authority, p_list, o_number, p_app, p_iin, p_seq,
                o_position, clock_timestamp(), p_cause, p_came_from);
    UPDATE queue_list SET last_number = o_number, active = active + 1
        WHERE authority_id = p_authority AND list = p_list;
    INSERT INTO queue_change (authority_id, list, kind, accepted_seq,
                              application_id, cause, related)
        VALUES (p_authority, p_list, 'registered', p_seq, p_app, p_cause,
                p_came_from)
        RETURNING id INTO o_change_id;
    RETURN NEXT;
END;
$$;

-- Re-verification (issue 22): each run, what it found per authority and
-- reason, and the entries it flagged for the authority's work list.
CREATE TABLE queue_reverify_run (
    id           bigserial PRIMARY KEY,
    authority_id text,            -- NULL: every authority
    list         text,            -- NULL: every list
    as_of        date NOT NULL,   -- the date the rules were applied on
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    checked      bigint NOT NULL DEFAULT 0,
    flagged      bigint NOT NULL DEFAULT 0,
    by           text NOT NULL
);
CREATE TABLE queue_reverify_count (
    run_id       bigint NOT NULL REFERENCES queue_reverify_run (id),
    authority_id text NOT NULL,
    reason       text NOT NULL,   -- a reason code, or review:<why>
    n            bigint NOT NULL,
    PRIMARY KEY (run_id, authority_id, reason)
);
-- One row per entry flagged and not yet resolved (resolved_at NULL) or
-- resolved: kept by the office (confirmed), or the entry left its list.
CREATE TABLE queue_reverify_flag (
    application_id text PRIMARY KEY,
    authority_id   text NOT NULL,
    list           text NOT NULL,
    run_id         bigint NOT NULL REFERENCES queue_reverify_run (id),
    outcome        text NOT NULL,   -- refused | review
    reasons        jsonb NOT NULL,  -- reason codes (p6.*, p16.*)
    review_reason  text,
    flagged_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    resolved_by    text,
    resolution     text,            -- confirmed | left_queue
    note           text
);
CREATE INDEX queue_reverify_open ON queue_reverify_flag (authority_id,
    flagged_at) WHERE resolved_at IS NULL;
-- When a scheduled job last started (queue/watch.c: the yearly
-- re-verification, due reverify_every_days after it; the first start of
-- kezek-queue starts the count).
CREATE TABLE queue_schedule (
    name    text PRIMARY KEY,
    last_at timestamptz NOT NULL
);

-- The old entry point keeps its signature (the kezek tool of an older
-- build, psql runbooks): a removal by the office.
CREATE OR REPLACE FUNCTION queue_remove(p_authority text, p_list text,
                                        p_iin text, p_reason text,
                                        p_on date, p_by text)
RETURNS TABLE (o_number bigint, o_position bigint, o_application_id text)
LANGUAGE sql AS $$
    SELECT o_number, o_position, o_application_id FROM queue_leave(
        p_authority, p_list, p_iin, p_reason, p_on, p_by, 'removal', NULL);
$$;

-- A notice is once per application and kind (notify's notice_put is
-- idempotent by it) — except the notices of the queue's changes, one
-- per change (their id names the change): the same application may be
-- moved twice.
ALTER TABLE notice DROP CONSTRAINT notice_application_id_kind_key;
CREATE UNIQUE INDEX notice_once ON notice (application_id, kind)
    WHERE kind NOT IN ('removal_notice', 'list_change_notice',
                       'transfer_notice');
CREATE INDEX notice_application_kind ON notice (application_id, kind);

-- kezek_queue: the moves and the runs (domain/queue_life.c); the rules
-- re-run on an application need its body and the registries, as
-- eligibility reads them (services/eligibility/registry.h).
GRANT EXECUTE ON FUNCTION queue_leave(text, text, text, text, date, text,
    text, jsonb), queue_enter(text, text, text, text, bigint, text, jsonb)
    TO kezek_queue;
GRANT SELECT, INSERT, UPDATE ON queue_reverify_run, queue_reverify_count,
    queue_reverify_flag, queue_schedule TO kezek_queue;
GRANT USAGE ON SEQUENCE queue_reverify_run_id_seq TO kezek_queue;
GRANT SELECT (body, settlement_id, authority_id, applicant_iin)
    ON application TO kezek_queue;
GRANT SELECT ON registry_person, registry_property, registry_tenancy,
    registry_move, registry_social_status, subsistence_minimum, settlement
    TO kezek_queue;
-- kezek_eligibility: the flags on its work list, and an office keeping
-- a flagged person (api.c)
GRANT SELECT, UPDATE ON queue_reverify_flag TO kezek_eligibility;
GRANT SELECT ON queue_reverify_run, queue_reverify_count, queue_reverify_flag,
    queue_schedule TO kezek_report;
