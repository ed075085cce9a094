-- Delivery of notices (p.15): per notice and channel. The cabinet row is
-- written with the notice; the e-mail row moves pending → sending →
-- sent | pending (retry, with back-off) | failed (permanent). A row found
-- in "sending" at start was interrupted between handing the message to
-- the relay and recording it: it becomes "in_doubt" and is not sent
-- again automatically (at most one message per Message-ID); an operator
-- requeues it with `kezek email resend NOTICE_ID` after checking.

CREATE TABLE notify_contact (
    application_id text PRIMARY KEY,
    email          text NOT NULL
);

CREATE TABLE notice_delivery (
    notice_id       text NOT NULL REFERENCES notice (id),
    channel         text NOT NULL CHECK (channel IN ('cabinet', 'email')),
    state           text NOT NULL CHECK (state IN ('pending', 'sending',
                        'sent', 'failed', 'in_doubt')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    message_id      text,
    sent_at         timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, channel)
);
CREATE INDEX notice_delivery_due ON notice_delivery (next_attempt_at)
    WHERE state = 'pending';
