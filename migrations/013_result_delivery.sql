-- The delivery of a result (p.15) is read where it is recorded (issue 9).
-- A result notice placed in the personal cabinet is its delivery; notify
-- used to report each one with a NoticeDelivered event that intake's
-- status read model copied into application.delivered_at — per
-- application an outbox row, a relay move, a bus frame to every consumer
-- and an UPDATE, for a fact notify's own tables already hold. notify now
-- publishes it through this view (owner: kezek-notify), which intake's
-- status (GET /v1/applications/{id}: "delivered") and indicator 1.1 read
-- by application (the notice's unique (application_id, kind) index).
-- NoticeDelivered still reports e-mails that left (notify's sender).
CREATE VIEW result_delivery AS
    SELECT application_id, min(issued_at) AS delivered_at
    FROM notice WHERE kind IN ('registration_notice', 'refusal')
    GROUP BY application_id;

ALTER TABLE application DROP COLUMN delivered_at;
