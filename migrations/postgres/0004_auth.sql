-- Access control and the audit log.
--
-- tokens: one row per API token, never deleted (a revocation sets revoked_at, so the
-- audit log's principals keep resolving and a registry that once had a token never
-- becomes open again). Only the SHA-256 of the secret is stored. A name is unique
-- among unrevoked tokens, so a revoked token's name can be given to its successor.
--
-- audit_log: append-only. Rows are written in the same transaction as the change they
-- record; the trigger refuses any UPDATE or DELETE, whoever asks.

CREATE TABLE tokens (
    id           TEXT        PRIMARY KEY,
    name         TEXT        NOT NULL,
    role         TEXT        NOT NULL,
    scopes       TEXT        NOT NULL,
    secret_hash  TEXT        NOT NULL,
    created_by   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id             BIGSERIAL   PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    principal_id   TEXT,
    principal_name TEXT        NOT NULL,
    action         TEXT        NOT NULL,
    contract       TEXT,
    version        TEXT,
    outcome        TEXT        NOT NULL,
    detail         TEXT,
    request_id     TEXT        NOT NULL,
    client_addr    TEXT
);

CREATE INDEX audit_log_by_contract ON audit_log (contract, id);
CREATE INDEX audit_log_by_principal_name ON audit_log (principal_name, id);
CREATE INDEX audit_log_by_principal_id ON audit_log (principal_id, id);
CREATE INDEX audit_log_by_action ON audit_log (action, client_addr, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
