-- The queue's transparency log (issue 24; docs/transparency.md,
-- domain/tlog.h): every change of a queue entry — a registration, a
-- move into or out of a list, a removal — is a leaf of its authority's
-- append-only Merkle tree (RFC 9162, SHA-256), written with the change
-- in its transaction, and each grown tree's head is signed (Ed25519, the
-- authority's key) in the same transaction.

-- The tree of each authority: its size and its right edge (the newest
-- complete subtree of each level, 32 bytes each, level 0 first), from
-- which a leaf is appended and the root computed without reading the
-- tree; and its newest signed head (re-signed at least every minute).
-- Locked by the writers after the lists and before the event log.
CREATE TABLE tlog_head (
    authority_id text PRIMARY KEY,
    size         bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    frontier     bytea NOT NULL DEFAULT '\x',
    sth_size     bigint,
    sth_root     bytea,
    sth_ms       bigint,
    sth_key      text,
    sth_sig      text
) WITH (fillfactor = 50);

-- Every complete subtree: (level L, index i) covers the leaves
-- [i·2^L, (i+1)·2^L); a leaf (level 0) carries its bytes. Never
-- changed once written.
CREATE TABLE tlog_node (
    authority_id text NOT NULL,
    level        smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx          bigint NOT NULL CHECK (idx >= 0),
    hash         bytea NOT NULL CHECK (length(hash) = 32),
    entry        text CHECK ((level = 0) = (entry IS NOT NULL)),
    PRIMARY KEY (authority_id, level, idx)
);

-- Every head signed when its tree grew (the history a monitor checks
-- for consistency); the newest one's later signatures are in tlog_head.
CREATE TABLE tlog_sth (
    authority_id text NOT NULL,
    size         bigint NOT NULL,
    root         bytea NOT NULL,
    signed_ms    bigint NOT NULL,
    key_id       text NOT NULL,
    signature    text NOT NULL,
    PRIMARY KEY (authority_id, size)
);

-- Append-only: no role may change or delete what is written (a
-- superuser still can — and a monitor then sees it: the threat model
-- of docs/transparency.md).
CREATE FUNCTION tlog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the transparency log is append-only (%)', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER tlog_node_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON tlog_node FOR EACH STATEMENT EXECUTE FUNCTION tlog_append_only();
CREATE TRIGGER tlog_sth_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON tlog_sth FOR EACH STATEMENT EXECUTE FUNCTION tlog_append_only();

-- An entry's secret (32 random bytes, the key of its IIN commitment,
-- given to the citizen in the registration notice; a move keeps it) and
-- the index of the leaf that put it in its list. Entries from before
-- the log have neither until the queue appends them (in their order).
ALTER TABLE queue_entry ADD COLUMN tlog_secret bytea
    CHECK (length(tlog_secret) = 32);
ALTER TABLE queue_entry ADD COLUMN tlog_index bigint;
CREATE INDEX queue_entry_tlog_missing ON queue_entry (authority_id,
    accepted_seq) WHERE tlog_index IS NULL AND status = 'active';

GRANT SELECT, INSERT, UPDATE ON tlog_head TO kezek_queue;
GRANT SELECT, INSERT ON tlog_node, tlog_sth TO kezek_queue;
-- notify: a registration's receipt of place (its leaf, its secret, the
-- head that first held it)
GRANT SELECT ON tlog_node, tlog_sth TO kezek_notify;
GRANT SELECT (application_id, authority_id, list, number, status,
              tlog_secret, tlog_index) ON queue_entry TO kezek_notify;
GRANT SELECT ON tlog_head, tlog_node, tlog_sth TO kezek_report;
REVOKE ALL ON FUNCTION tlog_append_only() FROM PUBLIC;
-- functions are executable by PUBLIC when created (migrations/017
-- revoked only those that existed then): the queue's moves of 021 too
REVOKE ALL ON FUNCTION queue_leave(text, text, text, text, date, text,
    text, jsonb), queue_enter(text, text, text, text, bigint, text, jsonb)
    FROM PUBLIC;
