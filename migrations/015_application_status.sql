-- The status read model in a row of its own (issue 9). GET
-- /v1/applications/{id} follows decisions and queue numbers; it kept them
-- in the application row, whose two updates per application (decided,
-- numbered) copied the whole row (the body inline, about a kilobyte).
-- Seven applications to a page left no room to keep those updates HOT:
-- measured at saturation, most of them went to a new page at the end of
-- the table (a relation extension each) with a new entry in each of the
-- table's three indexes, and left dead rows for autovacuum — a fifth of
-- the status read model's Postgres time extending the file. Now the
-- application row is written once; the status is a narrow row inserted
-- at the decision and updated (HOT) at the number. An application without
-- one is "accepted". Owner: kezek-intake.
CREATE TABLE application_status (
    application_id text PRIMARY KEY,
    status         text NOT NULL,
    decision       jsonb,
    queue          jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

INSERT INTO application_status (application_id, status, decision, queue,
                                updated_at)
    SELECT id, status, decision, queue, updated_at FROM application
    WHERE status <> 'accepted' OR decision IS NOT NULL OR queue IS NOT NULL;

ALTER TABLE application DROP COLUMN status, DROP COLUMN decision,
    DROP COLUMN queue, DROP COLUMN updated_at;
ALTER TABLE application SET (fillfactor = 100);
