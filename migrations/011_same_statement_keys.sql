-- Foreign keys that a statement checks against the row it has just
-- written itself (issue 9: the hot path). An idempotency key is stored in
-- the statement that stores its application (intake's app_store), a
-- notice's deliveries in the statement that stores the notice (notify's
-- notice_put), each from the other's RETURNING; applications and notices
-- are never deleted. The check was a query and a row lock per row, four
-- per application. The keys to the reference data (authority,
-- settlement) stay.
ALTER TABLE idempotency_key DROP CONSTRAINT idempotency_key_application_id_fkey;
ALTER TABLE notice_delivery DROP CONSTRAINT notice_delivery_notice_id_fkey;
