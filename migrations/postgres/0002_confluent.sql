-- What the Confluent-compatible API needs beyond the native registry:
-- * write modes (Confluent's READWRITE / READONLY / IMPORT), registry-wide and per contract;
-- * schema references: a schema registered with `references` keeps them, pinned to a
--   version seq, so it can be parsed again, served with them, and protect its targets
--   from deletion. They belong to the schema id (its identity includes them).

ALTER TABLE global_config ADD COLUMN write_mode TEXT NOT NULL DEFAULT 'READWRITE';

ALTER TABLE contracts ADD COLUMN write_mode TEXT;

CREATE TABLE schema_references (
    schema_id BIGINT  NOT NULL REFERENCES schemas (id),
    position  INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    version   BIGINT  NOT NULL,
    PRIMARY KEY (schema_id, position)
);

CREATE INDEX schema_references_by_target ON schema_references (subject, version);
