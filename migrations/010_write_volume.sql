-- Less written per application (issue 9: the hot path).
--
-- event_log: an event id is unique by construction (128 bits: 48 of
-- milliseconds, 80 random) and the relay moves an outbox row exactly once
-- (the DELETE … RETURNING that feeds the INSERT, in one statement);
-- nothing looks an event up by its id. The UNIQUE index cost a b-tree
-- insert per event, four per application. seq stays the primary key.
ALTER TABLE event_log DROP CONSTRAINT event_log_event_id_key;

-- application: the receipt (p.14, about 900 bytes, never changed) is kept
-- out of line, so that the three updates of the status read model
-- (decision, queue number, delivery) copy an 18-byte pointer instead of
-- the receipt each time. The read model's own columns stay in the row.
ALTER TABLE application ALTER receipt SET STORAGE EXTERNAL,
    ALTER decision SET STORAGE MAIN,
    ALTER queue SET STORAGE MAIN;
ALTER TABLE application SET (toast_tuple_target = 1024);
