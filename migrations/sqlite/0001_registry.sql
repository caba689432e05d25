-- The registry's tables (SQLite). Versions are immutable rows; a soft delete only
-- flips `deleted`. `next_seq` and `highest_version` live on the contract row so that
-- neither a seq number nor a version is ever reused, even after a permanent delete.

CREATE TABLE schemas (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT    NOT NULL UNIQUE,
    original    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

CREATE TABLE contracts (
    name            TEXT    PRIMARY KEY,
    owner           TEXT,
    description     TEXT,
    tags            TEXT    NOT NULL DEFAULT '[]',
    mode            TEXT,
    policy          TEXT,
    next_seq        INTEGER NOT NULL DEFAULT 1,
    highest_version TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

CREATE TABLE versions (
    contract   TEXT    NOT NULL REFERENCES contracts (name),
    seq        INTEGER NOT NULL,
    version    TEXT    NOT NULL,
    schema_id  INTEGER NOT NULL REFERENCES schemas (id),
    created_at TEXT    NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT,
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
