-- Tokens (issue 21): a revocation reaches every service within a second
-- instead of after its 30 s cache, and a token may expire.
--
-- Every service LISTENs on kezek_token (lib/auth.c) and drops a token
-- from its cache when the payload names its hash; a service that is not
-- listening (connection lost) trusts its cache for a second only.
ALTER TABLE api_token ADD COLUMN expires_at timestamptz;

CREATE FUNCTION api_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kezek_token', OLD.token_hash);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_token_changed
    AFTER UPDATE OF revoked_at, expires_at, principal OR DELETE
    ON api_token FOR EACH ROW EXECUTE FUNCTION api_token_changed();
