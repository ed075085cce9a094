-- The audit of personal-data reads (p.17) is append-only and written in
-- time order (each row carries the time of its read, lib/audit.c), so
-- its time index can be a BRIN summary of block ranges instead of a
-- b-tree entry per row: a look-up writes one audit row, and at tens of
-- thousands of look-ups per second the b-tree was a third of the
-- audit's cost (issue 9). Range reads by time (indicator 3.2's "looked
-- up on the portal since") use it as before.
DROP INDEX audit_read_at;
CREATE INDEX audit_read_at ON audit_read USING brin (at);
