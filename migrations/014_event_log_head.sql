-- Events logged where they are produced (issue 9). Every event went
-- through event_outbox: written by its producer, then moved by the relay
-- — a delete, an insert and a transaction of its own per pass, and a hop
-- of up to a relay pass and a linger on each of the stages an
-- application goes through. Now the hot producers (intake's
-- applications, the consumers' batches) write event_log themselves, in
-- their transaction's last writing statement, and take their seqs from
-- this row: the update locks it until their commit, so seqs stay gapless
-- and in commit order (a consumer reading seq > n never skips an event
-- committed later with a lower seq). The relay takes its seqs here too,
-- for the producers that still write the outbox (lib/outbox.h).
CREATE TABLE event_log_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint NOT NULL CHECK (seq >= 0)
) WITH (fillfactor = 10, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 1000);

-- the relay moved under the lock: nothing else writes event_log now
LOCK TABLE event_log IN EXCLUSIVE MODE;
INSERT INTO event_log_head (seq) SELECT coalesce(max(seq), 0) FROM event_log;
