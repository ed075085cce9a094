-- The spine: the transactional outbox, the sequenced event log, consumer
-- offsets and dead letters. Every producer writes event_outbox in the
-- transaction of its state change; the relay moves committed rows into
-- event_log with a gapless seq and publishes them.

CREATE TABLE event_outbox (
    id             bigserial PRIMARY KEY,
    event_id       text NOT NULL,
    type           integer NOT NULL,
    key            text NOT NULL,
    producer       text NOT NULL,
    schema_version integer NOT NULL,
    occurred_at_us bigint NOT NULL,
    payload        bytea NOT NULL
);

CREATE TABLE event_log (
    seq            bigint PRIMARY KEY CHECK (seq > 0),
    event_id       text NOT NULL UNIQUE,
    type           integer NOT NULL,
    key            text NOT NULL,
    producer       text NOT NULL,
    schema_version integer NOT NULL,
    occurred_at_us bigint NOT NULL,
    logged_at      timestamptz NOT NULL DEFAULT now(),
    payload        bytea NOT NULL
);

CREATE TABLE consumer_offset (
    consumer   text PRIMARY KEY,
    last_seq   bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letter (
    id         bigserial PRIMARY KEY,
    consumer   text NOT NULL,
    seq        bigint NOT NULL,
    event_id   text,
    type       integer,
    reason     text NOT NULL,
    payload    bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, seq)
);

-- Principals (CONTRACT "Authentication"): only hashes of tokens.
CREATE TABLE api_token (
    id         text PRIMARY KEY,
    principal  text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Reference data (appendices 1, 2, 5), loaded by kezek import-reference.
CREATE TABLE region (
    id   text PRIMARY KEY,
    name text NOT NULL,
    doc  jsonb NOT NULL
);
CREATE TABLE authority (
    id        text PRIMARY KEY,
    region_id text NOT NULL REFERENCES region (id),
    name      text NOT NULL,
    doc       jsonb NOT NULL
);
CREATE TABLE settlement (
    id           text PRIMARY KEY,
    authority_id text NOT NULL REFERENCES authority (id),
    name         text NOT NULL,
    doc          jsonb NOT NULL
);
CREATE TABLE centre (
    id        text PRIMARY KEY,
    region_id text REFERENCES region (id),
    doc       jsonb NOT NULL
);
CREATE TABLE appeal_instance (
    id        text PRIMARY KEY,
    region_id text REFERENCES region (id),
    doc       jsonb NOT NULL
);

-- intake: applications (owner: kezek-intake)
CREATE SEQUENCE receipt_number_seq;
CREATE TABLE application (
    id             text PRIMARY KEY,
    receipt_number text NOT NULL UNIQUE,
    authority_id   text NOT NULL REFERENCES authority (id),
    settlement_id  text NOT NULL REFERENCES settlement (id),
    channel        text NOT NULL,
    principal      text NOT NULL,
    category       text NOT NULL,
    applicant_iin  text NOT NULL,
    accepted_at    timestamptz NOT NULL,
    result_due     date NOT NULL,
    internal_due   date NOT NULL,
    body           jsonb NOT NULL,
    receipt        jsonb NOT NULL,
    status         text NOT NULL DEFAULT 'accepted',
    decision       jsonb,
    queue          jsonb,
    delivered_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_iin ON application (applicant_iin);

CREATE TABLE idempotency_key (
    principal      text NOT NULL,
    key            text NOT NULL,
    body_sha256    text NOT NULL,
    application_id text NOT NULL REFERENCES application (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- eligibility: decisions (owner: kezek-eligibility)
CREATE TABLE decision (
    application_id text PRIMARY KEY,
    registered     boolean NOT NULL,
    reasons        jsonb NOT NULL,
    facts          jsonb NOT NULL,
    decided_at     timestamptz NOT NULL DEFAULT now()
);

-- queue: lists and entries (owner: kezek-queue)
CREATE TABLE queue_list (
    authority_id text NOT NULL,
    list         text NOT NULL,
    last_number  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (authority_id, list)
);
CREATE TABLE queue_entry (
    authority_id   text NOT NULL,
    list           text NOT NULL,
    number         bigint NOT NULL,
    application_id text NOT NULL UNIQUE,
    applicant_iin  text NOT NULL,
    accepted_seq   bigint NOT NULL,
    status         text NOT NULL DEFAULT 'active',
    registered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, list, number)
);
CREATE INDEX queue_entry_order
    ON queue_entry (authority_id, list, accepted_seq)
    WHERE status = 'active';

-- notify: notices and their delivery (owner: kezek-notify)
CREATE TABLE notice (
    id             text PRIMARY KEY,
    application_id text NOT NULL,
    applicant_iin  text NOT NULL,
    kind           text NOT NULL,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    document       jsonb NOT NULL,
    canonical      text NOT NULL,
    signature      text NOT NULL,
    key_id         text NOT NULL,
    UNIQUE (application_id, kind)
);
CREATE INDEX notice_iin ON notice (applicant_iin, issued_at DESC);

CREATE TABLE signing_key (
    key_id       text PRIMARY KEY,
    authority_id text,
    public_key   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Registries (CONTRACT "Registry fixtures"), filled by kezek registry
-- import; read by kezek-eligibility through its adapters.
CREATE TABLE registry_person (
    iin text PRIMARY KEY,
    doc jsonb NOT NULL
);
