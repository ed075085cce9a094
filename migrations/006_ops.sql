-- Operations (p.17, p.18–19, appendix 4): the audit of personal-data
-- reads and the due date of parked applications.

CREATE TABLE audit_read (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    principal  text NOT NULL,
    purpose    text NOT NULL,
    resource   text NOT NULL,
    subject_iin text
);
CREATE INDEX audit_read_subject ON audit_read (subject_iin, at);
CREATE INDEX audit_read_at ON audit_read (at);

ALTER TABLE parked_application ADD COLUMN due_date date;

-- A decision taken by an employee on the work list is recorded with who
-- took it and why (audited), beside the automatic ones.
ALTER TABLE decision ADD COLUMN decided_by text NOT NULL DEFAULT 'rules';
ALTER TABLE decision ADD COLUMN note text;

-- Appendix 4: citizens' answers, once per application (owner: intake).
CREATE TABLE feedback (
    application_id text PRIMARY KEY REFERENCES application (id),
    authority_id   text NOT NULL,
    r21            smallint NOT NULL CHECK (r21 BETWEEN 1 AND 5),
    r31            smallint NOT NULL CHECK (r31 BETWEEN 1 AND 5),
    r41            smallint CHECK (r41 BETWEEN 1 AND 5),
    r51            smallint NOT NULL CHECK (r51 BETWEEN 1 AND 5),
    at             timestamptz NOT NULL DEFAULT now()
);

-- Complaints (p.20–25), owner: intake. Routed to the appeal instance of
-- the authority's region (appendix 5), or to the head of the centre
-- whose service it is about.
CREATE SEQUENCE complaint_number_seq;
CREATE TABLE complaint (
    id              text PRIMARY KEY,
    number          text NOT NULL UNIQUE,
    application_id  text REFERENCES application (id),
    authority_id    text NOT NULL REFERENCES authority (id),
    complainant_iin text NOT NULL,
    about_employee  text,
    text            text NOT NULL,
    attachments     jsonb NOT NULL,
    channel         text NOT NULL,
    accepted_by     text NOT NULL,
    accepted_at     timestamptz NOT NULL DEFAULT now(),
    answer_due      date NOT NULL,
    routed_kind     text NOT NULL CHECK (routed_kind IN ('appeal_instance',
                        'centre')),
    routed_id       text NOT NULL,
    ticket          jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'received' CHECK (state IN
                        ('received', 'in_review', 'answered')),
    answer_text     text,
    answered_at     timestamptz
);
CREATE INDEX complaint_iin ON complaint (complainant_iin);
