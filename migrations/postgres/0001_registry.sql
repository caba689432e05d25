-- The registry's tables (PostgreSQL). Versions are immutable rows; a soft delete only
-- flips `deleted`. `next_seq` and `highest_version` live on the contract row so that
-- neither a seq number nor a version is ever reused, even after a permanent delete.

CREATE TABLE schemas (
    id          BIGSERIAL   PRIMARY KEY,
    fingerprint TEXT        NOT NULL UNIQUE,
    original    TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE contracts (
    name            TEXT        PRIMARY KEY,
    owner           TEXT,
    description     TEXT,
    tags            TEXT        NOT NULL DEFAULT '[]',
    mode            TEXT,
    policy          TEXT,
    next_seq        BIGINT      NOT NULL DEFAULT 1,
    highest_version TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE versions (
    contract   TEXT        NOT NULL REFERENCES contracts (name),
    seq        BIGINT      NOT NULL,
    version    TEXT        NOT NULL,
    schema_id  BIGINT      NOT NULL REFERENCES schemas (id),
    created_at TIMESTAMPTZ NOT NULL,
    deleted    BOOLEAN     NOT NULL DEFAULT FALSE,
    deleted_at TIMESTAMPTZ,
    PRIMARY KEY (contract, seq),
    UNIQUE (contract, version)
);

CREATE INDEX versions_by_schema ON versions (schema_id);

CREATE TABLE global_config (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    mode   TEXT NOT NULL,
    policy TEXT NOT NULL
);

INSERT INTO global_config (id, mode, policy) VALUES (1, 'BACKWARD', 'strict');
