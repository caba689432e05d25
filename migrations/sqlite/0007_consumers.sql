-- Consumers: who reads which contract, where it runs, what it fetched; deprecated
-- major lines; each contract's consumer protection.
--
-- consumers: one row per application that reads contracts.
-- consumer_versions / consumer_reads: what one application version declared it reads
-- (contract, semver range, fields as a JSON array of instance paths). Contract names
-- are not foreign keys: a read outlives a contract deleted for good, and says so.
-- environments: deployment targets; a protected one is what `block` protects.
-- deployments: the application version running in an environment (one per consumer
-- and environment, replaced by the next deployment), with deployment_resolutions:
-- the contract version each range resolved to when the deployment was recorded.
-- consumer_fetches: the last fetch per consumer, contract and version (the
-- `Accord-Consumer` header), written at most about once a minute per row.
-- line_deprecations: a major line announced for retirement (sunset, reason, successor).
-- consumer_protection: a contract's `consumer_protection` when not the default (warn).

CREATE TABLE consumers (
    name        TEXT PRIMARY KEY,
    owner       TEXT,
    description TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE consumer_versions (
    consumer    TEXT NOT NULL REFERENCES consumers (name),
    app_version TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    PRIMARY KEY (consumer, app_version)
);

CREATE TABLE consumer_reads (
    consumer      TEXT    NOT NULL,
    app_version   TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    contract      TEXT    NOT NULL,
    version_range TEXT    NOT NULL,
    fields        TEXT    NOT NULL,
    PRIMARY KEY (consumer, app_version, position),
    FOREIGN KEY (consumer, app_version) REFERENCES consumer_versions (consumer, app_version)
        ON DELETE CASCADE
);

CREATE INDEX consumer_reads_by_contract ON consumer_reads (contract);

CREATE TABLE environments (
    name       TEXT    PRIMARY KEY,
    protected  INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TABLE deployments (
    consumer    TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name),
    app_version TEXT NOT NULL,
    deployed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, environment),
    FOREIGN KEY (consumer, app_version) REFERENCES consumer_versions (consumer, app_version)
);

CREATE TABLE deployment_resolutions (
    consumer    TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    contract    TEXT    NOT NULL,
    version     TEXT,
    PRIMARY KEY (consumer, environment, position),
    FOREIGN KEY (consumer, environment) REFERENCES deployments (consumer, environment)
        ON DELETE CASCADE
);

CREATE INDEX deployment_resolutions_by_contract ON deployment_resolutions (contract);

CREATE TABLE consumer_fetches (
    consumer   TEXT NOT NULL REFERENCES consumers (name),
    contract   TEXT NOT NULL,
    version    TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (consumer, contract, version)
);

CREATE INDEX consumer_fetches_by_contract ON consumer_fetches (contract);

CREATE TABLE line_deprecations (
    contract      TEXT    NOT NULL,
    major         INTEGER NOT NULL,
    sunset        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    successor     INTEGER,
    deprecated_at TEXT    NOT NULL,
    PRIMARY KEY (contract, major)
);

CREATE TABLE consumer_protection (
    contract   TEXT PRIMARY KEY,
    protection TEXT NOT NULL
);
