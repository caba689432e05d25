//! Storage: the [`Store`] trait, the records it speaks, and its two implementations,
//! [`SqliteStore`] and [`PostgresStore`].
//!
//! The trait is shaped like the registry's use cases, not like tables. The one method
//! that matters for correctness is [`Store::begin_registration`]: it takes the
//! contract's write lock (SQLite `BEGIN IMMEDIATE` behind an in-process mutex;
//! PostgreSQL `pg_advisory_xact_lock` on the contract name) and reads the contract's
//! history under it, with its revision. The registry checks compatibility before
//! taking the lock, and writes only when the revision read under the lock is the one
//! it checked against (`registry/register.rs`), so the lock is held for the write
//! alone.
//!
//! SQL lives only in `sqlite.rs` and `postgres.rs`; duplication between the two is
//! accepted (STYLE.md). Queries are checked at run time (no `query!`).

mod consumers;
pub mod dump;
mod memo;
mod postgres;
mod postgres_dump;
mod sqlite;
mod sqlite_dump;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use semver::Version;

use crate::limits::Limits;

use crate::domain::{
    AuditAction, AuditOutcome, Caller, ContractName, Identity, Mode, Policy, Role, Scope, Scopes,
    TokenId, TokenName, WriteMode,
};

pub use consumers::{
    ConsumerRecord, ConsumerStore, Declaration, DeployedReader, DeploymentRecord,
    EnvironmentRecord, FetchRecord, LineDeprecation, NewDeclaration, Read, Resolution,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Why a storage operation failed. Built from `sqlx::Error` by one `From` impl per
/// backend module; nothing above this layer looks at sqlx errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the operation needed does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (a concurrent writer got there first).
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// The database cannot serve the operation now and may later: no connection in
    /// time, a broken connection, a terminated backend, a dropped database or missing
    /// tables, a statement past its deadline.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database has no space left for the write (a full disk, or SQLite's page
    /// limit).
    #[error("database full: {0}")]
    Full(String),
    /// A stored value could not be read back (for example a version that is not semver).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database URL is not usable.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// An imported schema id already holds a different schema.
    #[error("schema id {0} already holds a different schema")]
    IdTaken(i64),
    /// An imported schema is already stored under another id.
    #[error("the schema is already stored with id {existing}, not {requested}")]
    IdMismatch {
        /// The id the import asked for.
        requested: i64,
        /// The id the schema has.
        existing: i64,
    },
    /// An import into a database that already holds contracts or schemas, without merge.
    #[error("the database is not empty; import into an empty database, or merge")]
    NotEmpty,
    /// A merged record differs from the one stored under the same key.
    #[error("conflicting record: {0}")]
    ImportConflict(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which backend a database URL selects, by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` URLs (`sqlite://accord.db`, `sqlite:///abs/path.db`).
    Sqlite,
    /// `postgres://` and `postgresql://` URLs.
    Postgres,
}

impl Backend {
    /// The backend for `url`, or an error naming the scheme found and the ones supported.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            // A bare file path: say how to write it as a URL.
            "" if !url.is_empty() && !url.contains(':') => Err(StoreError::InvalidUrl(format!(
                "`{url}` is not a database URL; for a SQLite file write `sqlite://{url}`, for PostgreSQL `postgres://USER@HOST:PORT/DATABASE`"
            ))),
            _ => Err(StoreError::InvalidUrl(format!(
                "unsupported database URL scheme {scheme:?}; expected sqlite:// (SQLite) or postgres:// (PostgreSQL)"
            ))),
        }
    }
}

/// Opens the store a database URL names (creating a SQLite file if missing), with the
/// default database deadlines. Does not run migrations; call [`Store::migrate`].
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, &Limits::default()).await
}

/// [`connect`] with the database deadlines of `limits` (`db_acquire_timeout`,
/// `db_statement_timeout`).
pub async fn connect_with(url: &str, limits: &Limits) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => Arc::new(SqliteStore::connect(url, limits).await?),
        Backend::Postgres => Arc::new(PostgresStore::connect(url, limits).await?),
    })
}

/// The registry-wide default compatibility configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GlobalConfig {
    /// The default mode (BACKWARD unless changed).
    pub mode: Mode,
    /// The default policy (strict unless changed).
    pub policy: Policy,
    /// The registry-wide write mode (READWRITE unless changed).
    pub write_mode: WriteMode,
}

/// A contract's metadata and configuration overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRecord {
    /// The contract's name.
    pub name: ContractName,
    /// Who owns it (free text, e.g. a team).
    pub owner: Option<String>,
    /// What it carries.
    pub description: Option<String>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// The contract's mode override, if any.
    pub mode: Option<Mode>,
    /// The contract's policy override, if any.
    pub policy: Option<Policy>,
    /// The contract's write-mode override, if any.
    pub write_mode: Option<WriteMode>,
    /// When the contract was first written.
    pub created_at: DateTime<Utc>,
    /// When its metadata or configuration last changed.
    pub updated_at: DateTime<Utc>,
}

/// A contract in a listing, with its counts of versions.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractSummary {
    /// The contract.
    pub contract: ContractRecord,
    /// How many versions are not soft-deleted.
    pub live_versions: i64,
    /// How many versions remain, soft-deleted ones included.
    pub versions: i64,
}

/// Which contracts a listing holds. A contract is *listed* when it has a live version,
/// or no version at all and is not [removed](History::is_removed) (configured ahead of
/// its first version); it is *soft-deleted* when every remaining version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Listed contracts only.
    Live,
    /// Listed and soft-deleted contracts.
    WithDeleted,
}

/// One registered version (its schema is fetched by `schema_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// The contract it belongs to.
    pub contract: ContractName,
    /// Registration order within the contract: 1, 2, 3… never reused.
    pub seq: i64,
    /// Its semantic version, unique within the contract and never reused.
    pub version: Version,
    /// The global id of its schema.
    pub schema_id: i64,
    /// The schema's fingerprint (sha256 of the canonical form).
    pub fingerprint: String,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// A stored schema document.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRecord {
    /// The global id.
    pub id: i64,
    /// sha256 of the canonical form, lowercase hex.
    pub fingerprint: String,
    /// The document as first submitted (compact, key order kept).
    pub original: String,
    /// Whether it refers to other registered versions (has references).
    pub refers: bool,
}

/// A reference from one schema to a registered version, under the name its `$ref` uses
/// (Confluent's `{"name", "subject", "version"}`), pinned to a version seq.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaReference {
    /// The name the referring schema's `$ref` uses.
    pub name: String,
    /// The contract referred to.
    pub subject: ContractName,
    /// The seq of the version referred to.
    pub version: i64,
}

/// Everything the registry needs to decide on a registration, read in one go.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// The contract, or `None` when it has never been written.
    pub contract: Option<ContractRecord>,
    /// Every remaining version (soft-deleted ones included), in seq order.
    pub versions: Vec<VersionRecord>,
    /// The highest version ever registered, permanently deleted ones included.
    pub highest_version: Option<Version>,
    /// The registry-wide defaults.
    pub global: GlobalConfig,
    /// The contract's revision (0 before its first version): bumped in the same
    /// transaction as every change to its versions, so two histories of one contract
    /// with the same revision hold the same versions.
    pub revision: i64,
}

impl History {
    /// Whether the contract is gone: it had versions, none remains (every one was
    /// permanently deleted) and it carries no configuration of its own. Its row stays
    /// only so that its numbers are never given again; to every read it does not exist.
    pub fn is_removed(&self) -> bool {
        self.versions.is_empty()
            && self.highest_version.is_some()
            && self
                .contract
                .as_ref()
                .is_none_or(|c| c.mode.is_none() && c.policy.is_none() && c.write_mode.is_none())
    }
}

/// A contract's row as the backends read it: the record, the highest version ever
/// registered, and the revision (bumped with every change to its versions).
struct ContractRow {
    record: ContractRecord,
    highest_version: Option<Version>,
    revision: i64,
}

/// Metadata changes: `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetadataPatch {
    /// New owner.
    pub owner: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New tags (replacing the old ones).
    pub tags: Option<Vec<String>>,
}

/// A version to insert at the end of a registration.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The version to assign (the registry checked it is greater than every other).
    pub version: Version,
    /// The schema's fingerprint; an existing schema with it is reused.
    pub fingerprint: String,
    /// The schema as submitted, stored when the fingerprint is new.
    pub original: String,
    /// Metadata to apply to the contract (created if new).
    pub metadata: MetadataPatch,
    /// A mode override to set with the version (`None` keeps the current one), so a
    /// registration and the configuration it was checked under are written together.
    pub mode: Option<Mode>,
    /// A policy override to set with the version (`None` keeps the current one).
    pub policy: Option<Policy>,
    /// The schema's references, stored with it when the fingerprint is new.
    pub references: Vec<SchemaReference>,
    /// The schema id to use (IMPORT mode) instead of the next free one; the store fails
    /// with [`StoreError::IdTaken`] when it holds another schema, or
    /// [`StoreError::IdMismatch`] when the schema already has another id.
    pub schema_id: Option<i64>,
    /// The seq to use (IMPORT mode) instead of the next one.
    pub seq: Option<i64>,
}

/// What a delete request did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    /// The version was soft-deleted (or, when permanent, removed); its record before removal.
    Deleted(VersionRecord),
    /// No such version.
    NotFound,
    /// A soft delete of a version already soft-deleted.
    AlreadyDeleted,
    /// A permanent delete of a version that was not soft-deleted first.
    NotSoftDeleted,
}

/// What a contract delete did.
#[derive(Debug, Clone, PartialEq)]
pub enum ContractDeleteOutcome {
    /// These versions were soft-deleted (or, when permanent, removed with the contract's
    /// metadata and configuration), in seq order.
    Deleted(Vec<VersionRecord>),
    /// The contract has no remaining version.
    NotFound,
    /// A soft delete of a contract whose versions are all soft-deleted already.
    AlreadyDeleted,
    /// A permanent delete of a contract that still has live versions.
    NotSoftDeleted,
}

/// A stored API token (its secret is not here: only its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Its id.
    pub id: TokenId,
    /// Its name.
    pub name: TokenName,
    /// What it may do.
    pub role: Role,
    /// Where.
    pub scopes: Scopes,
    /// SHA-256 of its secret, lowercase hex.
    pub secret_hash: String,
    /// Who created it (a token name, `anonymous`, or `local:<user>`).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (written at most about once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    /// Its id.
    pub id: TokenId,
    /// Its name (unique among unrevoked tokens: a clash is [`StoreError::Conflict`]).
    pub name: TokenName,
    /// What it may do.
    pub role: Role,
    /// Where.
    pub scopes: Scopes,
    /// SHA-256 of its secret.
    pub secret_hash: String,
    /// Who creates it.
    pub created_by: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One change to record in the audit log, written by the store in the same
/// transaction as the change itself (its time is the store's clock).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Who asked, with the request id and client address.
    pub caller: Caller,
    /// What kind of change.
    pub action: AuditAction,
    /// The contract changed, when there is one.
    pub contract: Option<ContractName>,
    /// The version concerned, when there is one.
    pub version: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Particulars: the refusing rule ids, the new configuration, the token changed…
    pub detail: Option<serde_json::Value>,
}

impl AuditEntry {
    /// An entry with outcome `done` and nothing else set.
    pub fn new(caller: &Caller, action: AuditAction) -> Self {
        Self {
            caller: caller.clone(),
            action,
            contract: None,
            version: None,
            outcome: AuditOutcome::Done,
            detail: None,
        }
    }

    /// Names the contract.
    pub fn contract(mut self, name: &ContractName) -> Self {
        self.contract = Some(name.clone());
        self
    }

    /// Names the version.
    pub fn version(mut self, version: impl ToString) -> Self {
        self.version = Some(version.to_string());
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Adds particulars.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The principal's token id, for the `principal_id` column.
    fn principal_id(&self) -> Option<&str> {
        match &self.caller.principal.identity {
            Identity::Token { id, .. } => Some(id.as_str()),
            _ => None,
        }
    }

    /// The principal's name, for the `principal_name` column.
    fn principal_name(&self) -> String {
        self.caller.principal.identity.to_string()
    }

    /// The particulars as stored text.
    fn detail_text(&self) -> Option<String> {
        self.detail.as_ref().map(serde_json::Value::to_string)
    }
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    /// Its position in the log (increasing; the pagination cursor).
    pub id: i64,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The token that made it, if a token did.
    pub principal_id: Option<String>,
    /// The token's name, `anonymous`, or `local:<user>`.
    pub principal: String,
    /// What kind of change.
    pub action: AuditAction,
    /// The contract, when there is one.
    pub contract: Option<String>,
    /// The version, when there is one.
    pub version: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Particulars.
    pub detail: Option<serde_json::Value>,
    /// The request that made it (empty for the command line on the database).
    pub request_id: String,
    /// The client's address, when known.
    pub client: Option<String>,
}

/// Which audit rows to read: newest first, all filters together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditQuery {
    /// Only this contract.
    pub contract: Option<String>,
    /// Only this principal (token name or id, `anonymous`, `local:<user>`).
    pub principal: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only rows at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only rows before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only rows older than this one (the cursor of the previous page).
    pub before: Option<i64>,
    /// At most this many rows.
    pub limit: i64,
}

/// A change committed to the database by another process, as the database
/// announces it ([`Store::watch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A contract changed: its versions (a registration, a delete), its configuration
    /// or its metadata.
    Contract(ContractName),
    /// Something registry-wide changed (the global configuration, an import): forget
    /// everything.
    Everything,
}

/// Told of the changes other processes commit, by a store that can push them.
pub trait ChangeSink: Send + Sync {
    /// `change` was committed.
    fn changed(&self, change: &Change);

    /// Changes are pushed from now on (`true`), or no longer (`false`: the connection
    /// that receives them was lost; what is kept must be judged by age until it is
    /// back). Becoming pushed again means changes may have been missed meanwhile.
    fn pushed(&self, pushed: bool);
}

/// What the database holds, counted (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Contracts (with or without live versions).
    pub contracts: i64,
    /// Versions, soft-deleted ones included.
    pub versions: i64,
    /// Versions not soft-deleted.
    pub live_versions: i64,
}

/// A connection pool's state (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections, in use or idle.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
}

/// The storage the registry runs on (with what it knows of consumers:
/// [`ConsumerStore`]).
#[async_trait]
pub trait Store: ConsumerStore + Send + Sync {
    /// Applies the backend's migrations (idempotent; safe from two processes at once).
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether the database holds the tables this binary expects: its applied
    /// migrations compared with the ones compiled in.
    async fn readiness(&self) -> Result<Readiness, StoreError>;

    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self);

    /// How many contracts, versions and live versions the database holds (`/metrics`;
    /// three counts over the primary keys, no row is read).
    async fn counts(&self) -> Result<Counts, StoreError>;

    /// The connection pool right now: open connections and idle ones.
    fn pool_state(&self) -> PoolState;

    /// The registry-wide defaults.
    async fn global_config(&self) -> Result<GlobalConfig, StoreError>;

    /// Replaces the registry-wide defaults, recording `audit` with the change.
    async fn set_global_config(
        &self,
        config: GlobalConfig,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;

    /// A contract's history, read without taking the write lock (for dry runs, reads,
    /// and the check a registration makes before it takes the lock). Its revision is
    /// read before its versions, so the versions are those of that revision or newer.
    async fn history(&self, name: &ContractName) -> Result<History, StoreError>;

    /// Takes the contract's write lock, opens a transaction and reads the history (and
    /// its revision) under it. Dropping the returned registration without committing
    /// rolls back and releases the lock.
    async fn begin_registration(
        &self,
        name: &ContractName,
    ) -> Result<Box<dyn Registration>, StoreError>;

    /// A schema by global id.
    async fn schema(&self, id: i64) -> Result<Option<SchemaRecord>, StoreError>;

    /// Every remaining version of a contract (soft-deleted included), in seq order.
    /// Empty when the contract does not exist or has no versions.
    async fn versions(&self, name: &ContractName) -> Result<Vec<VersionRecord>, StoreError>;

    /// One contract's metadata.
    async fn contract(&self, name: &ContractName) -> Result<Option<ContractRecord>, StoreError>;

    /// Contracts whose name starts with `prefix`, by name, one page.
    async fn list_contracts(
        &self,
        prefix: &str,
        listing: Listing,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ContractSummary>, StoreError>;

    /// Applies a metadata patch to an existing contract, recording `audit` with it;
    /// `None` (and nothing recorded) when it does not exist.
    async fn update_contract(
        &self,
        name: &ContractName,
        patch: &MetadataPatch,
        audit: &AuditEntry,
    ) -> Result<Option<ContractRecord>, StoreError>;

    /// Sets a contract's mode and policy overrides (`None` clears one), creating the
    /// contract when it does not exist yet; records `audit` with the change.
    async fn put_contract_config(
        &self,
        name: &ContractName,
        mode: Option<Mode>,
        policy: Option<Policy>,
        audit: &AuditEntry,
    ) -> Result<ContractRecord, StoreError>;

    /// Soft-deletes a version, or with `permanent` removes a soft-deleted one; records
    /// `audit` when something was deleted.
    async fn delete_version(
        &self,
        name: &ContractName,
        version: &Version,
        permanent: bool,
        audit: &AuditEntry,
    ) -> Result<DeleteOutcome, StoreError>;

    /// Soft-deletes every live version of a contract; or with `permanent`, when every
    /// version is soft-deleted, removes them all and clears the contract's metadata and
    /// configuration (its row stays, so numbers are never reused). One transaction
    /// under the contract's write lock.
    /// Records `audit` (with the deleted seqs added to its particulars) when something
    /// was deleted.
    async fn delete_contract(
        &self,
        name: &ContractName,
        permanent: bool,
        audit: &AuditEntry,
    ) -> Result<ContractDeleteOutcome, StoreError>;

    /// Sets (or with `None` clears) a contract's write-mode override, creating the
    /// contract when it does not exist yet and a mode is set; records `audit` with it.
    async fn put_contract_write_mode(
        &self,
        name: &ContractName,
        mode: Option<WriteMode>,
        audit: &AuditEntry,
    ) -> Result<Option<ContractRecord>, StoreError>;

    /// The references a schema was registered with, in their submitted order.
    async fn references(&self, schema_id: i64) -> Result<Vec<SchemaReference>, StoreError>;

    /// Every remaining version (soft-deleted included) whose schema has this id, by
    /// contract and seq.
    async fn versions_with_schema(&self, schema_id: i64) -> Result<Vec<VersionRecord>, StoreError>;

    /// Every remaining version (soft-deleted included) whose schema refers to version
    /// `seq` of `name`.
    async fn referrers(
        &self,
        name: &ContractName,
        seq: i64,
    ) -> Result<Vec<VersionRecord>, StoreError>;

    /// Appends one audit row on its own: for what writes nothing else (a refused or
    /// unchanged registration).
    async fn append_audit(&self, audit: &AuditEntry) -> Result<(), StoreError>;

    /// Appends a failed-authentication row unless one from the same client address
    /// was written at or after `since`; whether it was written.
    async fn record_auth_failure(
        &self,
        audit: &AuditEntry,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Audit rows matching `query`, newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// Stores a new token, recording `audit` with it.
    async fn create_token(
        &self,
        token: &NewToken,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError>;

    /// A token by id, revoked or not.
    async fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, revoked ones included, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Whether any token was ever created.
    async fn any_token(&self) -> Result<bool, StoreError>;

    /// Revokes a token at the store's clock, recording `audit`; `None` when there is no
    /// such token. A token already revoked is returned unchanged and nothing is recorded.
    async fn revoke_token(
        &self,
        id: &TokenId,
        audit: &AuditEntry,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Notes that a token was used at `at`.
    async fn touch_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every record of the registry in dump order ([`dump`]), read from one consistent
    /// snapshot and streamed: memory stays constant whatever the registry's size. The
    /// stream has no header or end line; the writer adds them.
    fn export(&self) -> BoxStream<'static, Result<dump::Record, StoreError>>;

    /// Starts an import that keeps every id, seq and deleted flag, in one transaction
    /// that holds off every other writer. Without `merge` it fails with
    /// [`StoreError::NotEmpty`] unless the database holds no contract and no schema.
    async fn begin_import(&self, merge: bool) -> Result<Box<dyn dump::Import>, StoreError>;

    /// Tells `sink` of every change other processes commit from now on, when the
    /// backend can push them (PostgreSQL: `LISTEN`/`NOTIFY`). The default pushes
    /// nothing and never calls `sink`: the SQLite store, whose deployment is one
    /// process per database file, so every change is this process's own.
    fn watch(&self, sink: Arc<dyn ChangeSink>) {
        let _ = sink;
    }

    /// The hit and miss counts of the store's in-memory caches.
    fn cache_stats(&self) -> Vec<crate::cache::CacheStats> {
        Vec::new()
    }
}

/// A registration in progress: the contract's write lock and an open transaction.
#[async_trait]
pub trait Registration: Send {
    /// The history read under the lock.
    fn history(&self) -> &History;

    /// A schema by id, read on this transaction's connection (so a writer never needs a
    /// second pooled connection while it holds the lock).
    async fn schema(&mut self, id: i64) -> Result<Option<SchemaRecord>, StoreError>;

    /// A schema's references, read on this transaction's connection.
    async fn references(&mut self, schema_id: i64) -> Result<Vec<SchemaReference>, StoreError>;

    /// A contract's remaining versions, read on this transaction's connection.
    async fn versions(&mut self, name: &ContractName) -> Result<Vec<VersionRecord>, StoreError>;

    /// Inserts the version (and its schema when new), updates the contract, records
    /// `audit` and commits. Returns only after the commit is durable.
    async fn commit(
        self: Box<Self>,
        new: NewVersion,
        audit: &AuditEntry,
    ) -> Result<VersionRecord, StoreError>;
}

/// The current time at the precision both backends store (microseconds), so a record
/// returned from a write equals the same record read back.
fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Reads a stored version string.
fn parse_version(text: &str) -> Result<Version, StoreError> {
    Version::parse(text).map_err(|e| StoreError::Corrupt(format!("stored version {text:?}: {e}")))
}

/// Reads a stored contract name.
fn parse_name(text: &str) -> Result<ContractName, StoreError> {
    // Names come from the native API or the Confluent API; the second is the wider one.
    ContractName::confluent(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads stored tags (a JSON array of strings).
fn parse_tags(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("stored tags {text:?}: {e}")))
}

/// Writes tags as a JSON array.
fn tags_text(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads an optional stored mode.
fn parse_mode(text: Option<String>) -> Result<Option<Mode>, StoreError> {
    text.map(|t| {
        t.parse()
            .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

/// Reads a stored role.
fn parse_role(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
}

/// Reads stored scopes (a JSON array of globs).
fn parse_scopes(text: &str) -> Result<Scopes, StoreError> {
    let scopes: Vec<Scope> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("stored scopes {text:?}: {e}")))?;
    Ok(Scopes::new(scopes))
}

/// Writes scopes as a JSON array.
fn scopes_text(scopes: &Scopes) -> String {
    serde_json::to_string(scopes).unwrap_or_else(|_| "[\"*\"]".to_owned())
}

/// Reads a stored token id.
fn parse_token_id(text: &str) -> Result<TokenId, StoreError> {
    TokenId::parse(text).ok_or_else(|| StoreError::Corrupt(format!("stored token id {text:?}")))
}

/// Reads a stored token name.
fn parse_token_name(text: &str) -> Result<TokenName, StoreError> {
    TokenName::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored audit action.
fn parse_audit_action(text: &str) -> Result<AuditAction, StoreError> {
    text.parse()
        .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored audit outcome.
fn parse_audit_outcome(text: &str) -> Result<AuditOutcome, StoreError> {
    text.parse()
        .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
}

/// Reads stored audit particulars.
fn parse_detail(text: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("stored audit detail: {e}")))
    })
    .transpose()
}

/// Reads an optional stored write mode.
fn parse_write_mode(text: Option<String>) -> Result<Option<WriteMode>, StoreError> {
    text.map(|t| {
        t.parse()
            .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

/// Reads an optional stored policy.
fn parse_policy(text: Option<String>) -> Result<Option<Policy>, StoreError> {
    text.map(|t| {
        t.parse()
            .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

/// The highest of the versions in `current` and `new`.
fn higher(current: Option<Version>, new: &Version) -> Version {
    match current {
        Some(c) if c > *new => c,
        _ => new.clone(),
    }
}

/// Maps sqlx errors onto [`StoreError`]; the one place that looks at them.
///
/// Whatever says "the database cannot serve this now, and may later" becomes
/// [`StoreError::Unavailable`] (answered 503 with `Retry-After` by both APIs): no
/// connection in time, a connection that broke, a backend terminated, a database that
/// is gone or lacks its tables, a statement cancelled by its deadline. A full disk is
/// [`StoreError::Full`].
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Configuration(_) => StoreError::InvalidUrl(e.to_string()),
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(ref db) => match database_failure(db.as_ref()) {
                Some(Failure::Unavailable) => StoreError::Unavailable(e.to_string()),
                Some(Failure::Full) => StoreError::Full(e.to_string()),
                None => StoreError::Database(Box::new(e)),
            },
            other => StoreError::Database(Box::new(other)),
        }
    }
}

/// A database error that is the database's state, not the request's fault.
enum Failure {
    Unavailable,
    Full,
}

/// Classifies a database error by its code: PostgreSQL's SQLSTATE, SQLite's result
/// code.
fn database_failure(db: &dyn sqlx::error::DatabaseError) -> Option<Failure> {
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = pg.code();
        return match code {
            // disk_full
            "53100" => Some(Failure::Full),
            // connection_exception (class 08); admin_shutdown, crash_shutdown,
            // cannot_connect_now; query_canceled (statement_timeout); idle-in-transaction
            // timeout; too_many_connections, out_of_memory; the database or its
            // tables missing (dropped, or recreated empty).
            _ if code.starts_with("08") => Some(Failure::Unavailable),
            "57P01" | "57P02" | "57P03" | "57P05" | "57014" | "25P03" | "53000" | "53200"
            | "53300" | "3D000" | "3F000" | "42P01" => Some(Failure::Unavailable),
            _ => None,
        };
    }
    // SQLite: the primary result code is the low byte of the extended one.
    let code = db.code()?.parse::<i32>().ok()? & 0xff;
    match code {
        // SQLITE_FULL
        13 => Some(Failure::Full),
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_IOERR, SQLITE_CANTOPEN
        5 | 6 | 7 | 10 | 14 => Some(Failure::Unavailable),
        _ => None,
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// Whether a pooled connection may serve a new request: only when it is outside any
/// transaction. Both pools run this before handing out an idle connection, and close
/// the connection when it says no.
///
/// A transaction dropped without commit (an error on the way, a cancelled request)
/// queues a `ROLLBACK`, which the pool runs when the connection comes back. When that
/// rollback fails, sqlx still counts the connection as inside the transaction. It
/// fails on SQLite after a full disk (`SQLITE_FULL`, `SQLITE_IOERR`): SQLite has
/// already rolled the transaction back itself, so "no transaction is active". Such a
/// connection, handed out again, refuses every `BEGIN` ("attempted to call begin_with
/// at non-zero transaction depth") until the process restarts. Closing it instead lets
/// the pool open a fresh one, so writes succeed again as soon as there is room.
async fn outside_transaction<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    Ok(!conn.is_in_transaction())
}

/// What the database's schema is, compared with the one this binary expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Every migration compiled in is applied, and no other.
    Ready,
    /// The database has no migrations table: it is empty (created, or dropped and
    /// recreated, without `accord migrate`).
    NoSchema,
    /// The applied migrations are not the expected ones.
    Migrations {
        /// Expected migrations not applied (the database is older than the binary).
        missing: Vec<i64>,
        /// Applied migrations the binary does not know (the database is newer).
        unknown: Vec<i64>,
        /// Migrations recorded as failed.
        failed: Vec<i64>,
    },
}

impl Readiness {
    /// Compares the applied migrations (version, success) with the embedded ones.
    fn of(expected: &[(i64, &str, &str)], applied: &[(i64, bool)]) -> Readiness {
        let missing: Vec<i64> = expected
            .iter()
            .map(|(v, _, _)| *v)
            .filter(|v| !applied.iter().any(|(a, _)| a == v))
            .collect();
        let unknown: Vec<i64> = applied
            .iter()
            .map(|(v, _)| *v)
            .filter(|v| !expected.iter().any(|(e, _, _)| e == v))
            .collect();
        let failed: Vec<i64> = applied
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(v, _)| *v)
            .collect();
        if missing.is_empty() && unknown.is_empty() && failed.is_empty() {
            Readiness::Ready
        } else {
            Readiness::Migrations {
                missing,
                unknown,
                failed,
            }
        }
    }
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[i64]| {
            v.iter()
                .map(|n| format!("{n:04}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Readiness::Ready => write!(f, "ready"),
            Readiness::NoSchema => write!(
                f,
                "the database has no Accord tables (empty, or recreated); run accord migrate"
            ),
            Readiness::Migrations {
                missing,
                unknown,
                failed,
            } => {
                let mut parts = Vec::new();
                if !failed.is_empty() {
                    parts.push(format!("migrations {} failed", list(failed)));
                }
                if !missing.is_empty() {
                    parts.push(format!(
                        "the database is older than this binary: migrations {} are not applied (run accord migrate)",
                        list(missing)
                    ));
                }
                if !unknown.is_empty() {
                    parts.push(format!(
                        "the database is newer than this binary: it has migrations {} this binary does not know (run a newer accord)",
                        list(unknown)
                    ));
                }
                write!(f, "{}", parts.join("; "))
            }
        }
    }
}

/// Migrations compiled into the binary, so `accord serve` needs no files beside it.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl sqlx::migrate::MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<
            dyn Future<Output = Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>>
                + Send,
        >,
    > {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    sqlx::migrate::Migration::new(
                        *version,
                        (*description).into(),
                        sqlx::migrate::MigrationType::Simple,
                        (*sql).into(),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Builds the migrator for one backend's embedded migrations.
async fn migrator(
    migrations: &'static [(i64, &'static str, &'static str)],
) -> Result<sqlx::migrate::Migrator, StoreError> {
    Ok(sqlx::migrate::Migrator::new(Embedded(migrations)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        for (dir, embedded) in [
            ("sqlite", sqlite::MIGRATIONS),
            ("postgres", postgres::MIGRATIONS),
        ] {
            let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .expect("migrations directory")
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let names: Vec<String> = embedded
                .iter()
                .map(|(version, description, _)| format!("{version:04}_{description}.sql"))
                .collect();
            assert_eq!(names, files, "migrations/{dir}");
        }
    }

    const EXPECTED: &[(i64, &str, &str)] = &[(1, "a", ""), (2, "b", ""), (7, "c", "")];

    #[test]
    fn the_embedded_migrations_all_applied_are_ready() {
        let applied = [(1, true), (2, true), (7, true)];
        assert_eq!(Readiness::of(EXPECTED, &applied), Readiness::Ready);
    }

    #[test]
    fn an_older_database_names_the_migrations_it_lacks() {
        let r = Readiness::of(EXPECTED, &[(1, true), (2, true)]);
        assert_eq!(
            r,
            Readiness::Migrations {
                missing: vec![7],
                unknown: vec![],
                failed: vec![]
            }
        );
        assert!(r.to_string().contains("older") && r.to_string().contains("0007"));
    }

    #[test]
    fn a_newer_database_names_the_migrations_the_binary_does_not_know() {
        let r = Readiness::of(EXPECTED, &[(1, true), (2, true), (7, true), (9, true)]);
        assert!(matches!(&r, Readiness::Migrations { unknown, .. } if unknown == &[9]));
        assert!(r.to_string().contains("newer") && r.to_string().contains("0009"));
    }

    #[test]
    fn a_failed_migration_is_not_ready() {
        let r = Readiness::of(EXPECTED, &[(1, true), (2, true), (7, false)]);
        assert!(matches!(&r, Readiness::Migrations { failed, .. } if failed == &[7]));
    }

    #[test]
    fn the_url_scheme_selects_the_backend() {
        assert_eq!(
            Backend::from_url("sqlite://accord.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_both_backends() {
        let e = Backend::from_url("mysql://h/db").unwrap_err().to_string();
        assert!(
            e.contains("\"mysql\"") && e.contains("sqlite://") && e.contains("postgres://"),
            "{e}"
        );
    }
}
