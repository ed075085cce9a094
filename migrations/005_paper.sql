-- The paper channel (p.14, p.15): who may print an application's
-- documents, and the journal of results handed over against the receipt.

CREATE TABLE paper_access (
    application_id text PRIMARY KEY,
    authority_id   text NOT NULL,
    principal      text NOT NULL,     -- who accepted it
    applicant_iin  text NOT NULL,
    channel        text NOT NULL
);

CREATE TABLE issuance (
    application_id    text PRIMARY KEY,
    notice_id         text NOT NULL REFERENCES notice (id),
    authority_id      text NOT NULL,
    received_by       text NOT NULL CHECK (received_by IN ('applicant',
                          'representative')),
    receiver_name     text NOT NULL,
    power_of_attorney text,
    issued_at         timestamptz NOT NULL,
    recorded_by       text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issuance_journal ON issuance (authority_id, issued_at);
