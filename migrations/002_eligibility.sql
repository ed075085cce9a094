-- Registries (CONTRACT "Registry fixtures") and the subsistence minimum
-- (p.6); parked applications waiting for what a decision needs.

CREATE TABLE registry_property (
    owner_iin   text NOT NULL,
    dwelling_id text NOT NULL,
    doc         jsonb NOT NULL,
    PRIMARY KEY (owner_iin, dwelling_id)
);

CREATE TABLE registry_tenancy (
    id  bigserial PRIMARY KEY,
    iin text NOT NULL,
    doc jsonb NOT NULL,
    UNIQUE (iin, doc)
);
CREATE INDEX registry_tenancy_iin ON registry_tenancy (iin);

CREATE TABLE registry_move (
    id                 bigserial PRIMARY KEY,
    dwelling_owner_iin text NOT NULL,
    person_iin         text NOT NULL,
    doc                jsonb NOT NULL,
    UNIQUE (dwelling_owner_iin, person_iin, doc)
);
CREATE INDEX registry_move_owner ON registry_move (dwelling_owner_iin);
CREATE INDEX registry_move_person ON registry_move (person_iin);

-- p.6: the subsistence minimum set by the republican budget law.
CREATE TABLE subsistence_minimum (
    year       integer PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
    tenge      bigint NOT NULL CHECK (tenge > 0),
    source     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Applications the rules could not decide without a person (owner:
-- kezek-eligibility); re-decided when what they wait for arrives.
CREATE TABLE parked_application (
    application_id text PRIMARY KEY,
    authority_id   text NOT NULL,
    reason         text NOT NULL,
    accepted_seq   bigint NOT NULL,
    payload        bytea NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE decision ADD COLUMN rules_version text NOT NULL DEFAULT '';
ALTER TABLE decision ADD COLUMN decision_date date;
ALTER TABLE decision ADD COLUMN application jsonb;
ALTER TABLE decision ADD COLUMN outcome text NOT NULL DEFAULT 'registered';
