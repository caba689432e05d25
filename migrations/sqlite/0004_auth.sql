-- Access control and the audit log.
--
-- tokens: one row per API token, never deleted (a revocation sets revoked_at, so the
-- audit log's principals keep resolving and a registry that once had a token never
-- becomes open again). Only the SHA-256 of the secret is stored. A name is unique
-- among unrevoked tokens, so a revoked token's name can be given to its successor.
--
-- audit_log: append-only. Rows are written in the same transaction as the change they
-- record; the triggers refuse any UPDATE or DELETE, whoever asks.

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);

CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    principal_id   TEXT,
    principal_name TEXT NOT NULL,
    action         TEXT NOT NULL,
    contract       TEXT,
    version        TEXT,
    outcome        TEXT NOT NULL,
    detail         TEXT,
    request_id     TEXT NOT NULL,
    client_addr    TEXT
);

CREATE INDEX audit_log_by_contract ON audit_log (contract, id);
CREATE INDEX audit_log_by_principal_name ON audit_log (principal_name, id);
CREATE INDEX audit_log_by_principal_id ON audit_log (principal_id, id);
CREATE INDEX audit_log_by_action ON audit_log (action, client_addr, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
