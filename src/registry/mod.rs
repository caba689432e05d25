//! The registry's use cases over `Arc<dyn Store>`: register a version (check, then
//! insert under the contract's lock if nothing moved meanwhile: `register.rs`), dry-run a registration, resolve selectors, read and configure
//! contracts.
//!
//! Nothing here knows HTTP or SQL. The compatibility engine is CPU work and runs on
//! the blocking pool. Schema documents, parsed schemas, and the validators compiled
//! from them, are cached by global id (they are immutable), each cache bounded by an
//! estimate of its bytes ([`crate::cache`]). Which version is `latest` or matches a
//! range comes from a contract's version list, kept in memory until the contract
//! changes in this process or, pushed by the database or found by age, in another
//! (`cache.rs` says how).
//!
//! Schema references (Confluent's `references`) are resolved here, from registered
//! versions: a schema that refers to others is parsed with a resolver holding every
//! document it reaches, transitively, under the names its `$ref`s use.

mod access;
pub(crate) mod cache;

mod checks;
pub mod consumers;
mod outcomes;
mod plan;
mod register;
mod subject;
mod turns;

use std::collections::HashSet;
use std::sync::Arc;

use semver::Version;
use serde_json::Value;

use crate::compat::{self, CompatError, Previous, Report};
use crate::domain::{
    AuditAction, Bump, Caller, ContractName, Mode, Policy, VersionSelector, WriteMode,
};
use crate::limits::Limits;
use crate::schema::{
    DEFAULT_BASE, MapResolver, ParseOptions, Schema, SchemaError, build_validator,
};
use crate::store::{
    AuditEntry, ChangeSink, ContractRecord, ContractSummary, DeleteOutcome, GlobalConfig, History,
    Listing, MetadataPatch, Registration, SchemaRecord, SchemaReference, Store, StoreError,
    VersionRecord,
};

use crate::cache::{Bounded, CacheStats, FreedOffThread};
use cache::{Recent, VERSION_WEIGHT, VERSIONS_FRESH, VERSIONS_MAX_AGE};
use checks::Checks;
pub use outcomes::Outcomes;
use plan::Step;
use turns::Turns;

pub use access::{CreatedToken, TokenRequest};
pub use consumers::{ConsumerError, ConsumerImpact, ConsumersSection};

/// The bound on schema documents kept by id: 64 MiB of text.
const SCHEMA_BYTES: u64 = 64 << 20;

/// The bound on parsed schemas kept by id, each weighed at [`PARSED_PER_BYTE`] times
/// its text (the tree, the canonical form and the compiled checks it holds): an
/// estimated 256 MiB.
const PARSED_BYTES: u64 = 256 << 20;

/// What a parsed schema is estimated to take per byte of its text.
const PARSED_PER_BYTE: u64 = 8;

/// The bound on compiled validators kept by id (only schemas someone validates
/// against need one), weighed like parsed schemas: an estimated 128 MiB.
const VALIDATOR_BYTES: u64 = 128 << 20;

/// The bound on version lists kept for `latest` and ranges: 64 MiB, a version
/// weighing [`VERSION_WEIGHT`].
const VERSION_LIST_BYTES: u64 = 64 << 20;

/// The bound on the deprecated lines kept per contract (aged, not pushed): 16 MiB,
/// a deprecation weighing [`VERSION_WEIGHT`].
const DEPRECATION_BYTES: u64 = 16 << 20;

/// Shards of the caches by schema id: a document heavier than an eighth of its
/// cache's bound is not kept.
const SHARDS: usize = 8;

/// The weight of a schema document kept in memory: its text and its entry.
fn text_weight(text: &str) -> u64 {
    text.len() as u64 + crate::cache::ENTRY_OVERHEAD
}

/// How often a registration is retried when a unique constraint refuses its insert
/// (possible only if something bypassed the contract lock, e.g. an older process).
const CONFLICT_RETRIES: usize = 3;

/// The most documents one schema may reach through references, transitively.
const MAX_REFERENCED_DOCUMENTS: usize = 1000;

/// Why a use case failed. Incompatibility is not here: it is a [`Refusal`] carrying
/// the engine's [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The submitted schema is not acceptable.
    #[error(transparent)]
    InvalidSchema(#[from] SchemaError),
    /// The engine could not complete the comparison.
    #[error(transparent)]
    TooComplex(#[from] CompatError),
    /// The registration was refused by the versioning rules.
    #[error("{0}")]
    Refused(Refusal),
    /// No such contract.
    #[error("contract {0:?} not found")]
    ContractNotFound(String),
    /// The contract exists but no version matches the selector.
    #[error("contract {name:?} has no version matching {selector:?}")]
    VersionNotFound {
        /// The contract.
        name: String,
        /// The selector as given.
        selector: String,
    },
    /// No schema has this id.
    #[error("schema {0} not found")]
    SchemaNotFound(i64),
    /// A soft delete of a version that is already soft-deleted.
    #[error(
        "version {version} of {name:?} is already soft-deleted; delete it with ?permanent=true to remove it"
    )]
    AlreadyDeleted {
        /// The contract.
        name: String,
        /// The version.
        version: Version,
    },
    /// A permanent delete of a live version.
    #[error("version {version} of {name:?} is live; soft-delete it before deleting it permanently")]
    NotSoftDeleted {
        /// The contract.
        name: String,
        /// The version.
        version: Version,
    },
    /// A schema reference names no registered version (or is otherwise unusable).
    #[error("invalid schema reference: {0}")]
    InvalidReference(String),
    /// The contract (or the registry) is in a read-only write mode.
    #[error("{0} is in read-only mode; writes are refused")]
    ReadOnly(String),
    /// The write mode does not allow this operation (an id outside IMPORT mode, a
    /// registration without id in IMPORT mode, an id that holds another schema…).
    #[error("{0}")]
    NotPermitted(String),
    /// An imported schema is already stored under another id.
    #[error("the schema is already registered with id {existing}, not {requested}")]
    IdMismatch {
        /// The id the import asked for.
        requested: i64,
        /// The id it has.
        existing: i64,
    },
    /// A version other schemas refer to cannot be deleted.
    #[error("version {seq} of {name:?} is referenced by other schemas and cannot be deleted")]
    Referenced {
        /// The contract.
        name: String,
        /// The version's seq.
        seq: i64,
    },
    /// The schema is not registered under this contract.
    #[error("the schema is not registered under {0:?}")]
    SchemaNotRegistered(String),
    /// A soft delete of a contract whose versions are all soft-deleted already.
    #[error(
        "every version of {0:?} is already soft-deleted; delete it with permanent=true to remove it"
    )]
    ContractAlreadyDeleted(String),
    /// A permanent delete of a contract that still has live versions.
    #[error("{0:?} has live versions; soft-delete it before deleting it permanently")]
    ContractNotSoftDeleted(String),
    /// As many compatibility checks run and wait as the server allows
    /// ([`Limits::max_concurrent_checks`], [`Limits::max_queued_checks`]).
    #[error(
        "the server is running {running} compatibility checks and {waiting} more are waiting, as many as it allows; retry shortly"
    )]
    Saturated {
        /// Checks allowed to run at once.
        running: usize,
        /// Checks allowed to wait.
        waiting: usize,
    },
    /// The caller may not do this (a registration that would change a contract's
    /// configuration, by a caller without the right to configure it).
    #[error("{0}")]
    Forbidden(crate::domain::Denied),
    /// A token request that cannot be honoured (an expiry in the past).
    #[error("invalid token request: {0}")]
    InvalidToken(String),
    /// An unrevoked token already has this name.
    #[error("a token named {0:?} already exists; revoke it first or choose another name")]
    TokenNameTaken(String),
    /// No token has this id (or, unrevoked, this name).
    #[error("no token has the id or name {0:?}")]
    TokenNotFound(String),
    /// A consumer use case failed (boxed: its refusals carry the consumers).
    #[error(transparent)]
    Consumers(Box<ConsumerError>),
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking task failed (a bug: the engine panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why the versioning rules refuse a registration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The change breaks the contract's mode and no version was declared (or breaking
    /// changes were not allowed).
    #[error("the schema is incompatible with version {} under {}; register it as a new major version with allow_breaking, or declare the next major version", .report.failed_version.as_deref().unwrap_or("?"), .report.mode)]
    Incompatible {
        /// The engine's report.
        report: Box<Report>,
    },
    /// A declared version not greater than the newest live version, or than a number
    /// already used in its major line (deleted versions included).
    #[error(
        "declared version {declared} is not greater than {highest}, a version already used (numbers of deleted versions are not reused either)"
    )]
    VersionNotGreater {
        /// The declared version.
        declared: Version,
        /// The version it must exceed.
        highest: Version,
    },
    /// A declared version smaller than the change requires.
    #[error(
        "declared version {declared} is a smaller step from {base} than the {required} bump the change requires"
    )]
    VersionTooSmall {
        /// The declared version.
        declared: Version,
        /// The version compared against.
        base: Version,
        /// The bump the change requires.
        required: Bump,
        /// The engine's report.
        report: Box<Report>,
    },
}

impl Refusal {
    /// A stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Incompatible { .. } => "incompatible-change",
            Refusal::VersionNotGreater { .. } => "version-not-greater",
            Refusal::VersionTooSmall { .. } => "version-too-small",
        }
    }

    /// The engine's report, when the refusal comes from one.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Refusal::Incompatible { report } | Refusal::VersionTooSmall { report, .. } => {
                Some(report)
            }
            Refusal::VersionNotGreater { .. } => None,
        }
    }
}

/// A registration request.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The JSON Schema document as submitted (JSON text).
    pub schema: String,
    /// The declared version, if any.
    pub version: Option<Version>,
    /// Whether an undeclared breaking change may take the next major version.
    pub allow_breaking: bool,
    /// Contract metadata to set.
    pub metadata: MetadataPatch,
    /// A mode to check under and, when the version is created, to set as the contract's
    /// override in the same transaction (`None`: the contract's current mode).
    pub mode: Option<Mode>,
    /// A policy to check under and set likewise (`None`: the current policy).
    pub policy: Option<Policy>,
    /// Registered versions the schema refers to, under the names its `$ref`s use;
    /// a `version` of -1 means the latest live version, pinned at registration.
    pub references: Vec<SchemaReference>,
    /// The ids to keep (IMPORT mode only).
    pub import: Option<ImportIds>,
}

/// The schema id (and optionally the seq) an imported version keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportIds {
    /// The schema's global id.
    pub schema_id: i64,
    /// The version's seq, when given.
    pub seq: Option<i64>,
}

/// A parsed submission: the schema, its pinned references and its identity. A large
/// schema is freed on the blocking pool when the candidate goes (registered, refused or
/// only checked), not before the request's answer.
#[derive(Debug, Clone)]
struct Candidate {
    schema: FreedOffThread<Schema>,
    references: Vec<SchemaReference>,
    /// The schema's fingerprint, extended with its references when it has any (the same
    /// text referring to other versions is another schema, as in Confluent).
    fingerprint: String,
}

/// What a successful registration did.
#[derive(Debug, Clone)]
pub enum Registered {
    /// A new version was committed.
    Created {
        /// The new version.
        version: VersionRecord,
        /// The engine's report against the previous versions.
        report: Report,
        /// What it does to the consumers deployed against the contract.
        consumers: ConsumersSection,
    },
    /// The schema is canonically identical to this live version; nothing was written.
    Existing(VersionRecord),
}

/// What a registration would do.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A new version would be created with this number.
    Create(Version),
    /// The schema is identical to this live version.
    Existing(VersionRecord),
    /// The registration would be refused.
    Refused(Refusal),
}

/// The answer of a dry run.
#[derive(Debug, Clone)]
pub struct DryRun {
    /// What a registration would do.
    pub outcome: Outcome,
    /// The engine's report (a trivially compatible one when no comparison was needed).
    pub report: Report,
    /// What the schema does to the consumers deployed against the contract.
    pub consumers: ConsumersSection,
}

/// The effective configuration of a contract and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractConfig {
    /// The mode in force.
    pub mode: Mode,
    /// The policy in force.
    pub policy: Policy,
    /// The contract's own mode, if it overrides the global one.
    pub mode_override: Option<Mode>,
    /// The contract's own policy, if it overrides the global one.
    pub policy_override: Option<Policy>,
}

impl ContractConfig {
    fn of(contract: Option<&ContractRecord>, global: GlobalConfig) -> Self {
        let mode_override = contract.and_then(|c| c.mode);
        let policy_override = contract.and_then(|c| c.policy);
        Self {
            mode: mode_override.unwrap_or(global.mode),
            policy: policy_override.unwrap_or(global.policy),
            mode_override,
            policy_override,
        }
    }

    /// The configuration with a submission's mode and policy, where given.
    fn overridden(self, mode: Option<Mode>, policy: Option<Policy>) -> Self {
        Self {
            mode: mode.unwrap_or(self.mode),
            policy: policy.unwrap_or(self.policy),
            mode_override: mode.or(self.mode_override),
            policy_override: policy.or(self.policy_override),
        }
    }
}

/// A contract with its versions and effective configuration.
#[derive(Debug, Clone)]
pub struct ContractDetail {
    /// Metadata.
    pub contract: ContractRecord,
    /// Every remaining version, in seq order.
    pub versions: Vec<VersionRecord>,
    /// The configuration in force.
    pub config: ContractConfig,
}

/// The engine's report between two registered versions.
#[derive(Debug, Clone)]
pub struct VersionDiff {
    /// The old version.
    pub from: VersionRecord,
    /// The new version.
    pub to: VersionRecord,
    /// The report (old → new) under the contract's configuration.
    pub report: Report,
    /// What `to` does to the consumers deployed against the contract.
    pub consumers: ConsumersSection,
}

/// The registry: use cases over a store.
pub struct Registry {
    store: Arc<dyn Store>,
    parse_options: ParseOptions,
    parsed: Bounded<i64, Schema>,
    texts: Bounded<i64, Arc<SchemaRecord>>,
    /// Validators built with the consumer library's rules, by schema id.
    validators: Bounded<i64, Arc<jsonschema::Validator>>,
    /// Version lists read for `latest` and ranges (`cache.rs`: how other processes'
    /// changes reach them).
    recent: Arc<Recent<Arc<Vec<VersionRecord>>>>,
    /// Registrations to one contract take turns in this process (`register.rs`).
    turns: Turns,
    /// The bound on compatibility checks running and waiting (`checks.rs`).
    checks: Checks,
    /// Deprecated lines by contract, for the headers of fetches (`consumers.rs`).
    deprecated: Recent<Arc<Vec<crate::store::LineDeprecation>>>,
    /// Fetches announced with `Accord-Consumer`, written off the request path.
    fetch_log: consumers::FetchLog,
    /// Registrations by outcome and compatibility check durations (`outcomes.rs`).
    outcomes: Outcomes,
}

/// Where previous schemas are read from: the pool, or the registration's own
/// transaction (a lock holder must not wait for a second pooled connection).
enum Source<'a> {
    Store(&'a dyn Store),
    Tx(&'a mut dyn Registration),
}

impl Source<'_> {
    async fn schema(&mut self, id: i64) -> Result<Option<SchemaRecord>, StoreError> {
        match self {
            Source::Store(s) => s.schema(id).await,
            Source::Tx(t) => t.schema(id).await,
        }
    }

    async fn references(&mut self, id: i64) -> Result<Vec<SchemaReference>, StoreError> {
        match self {
            Source::Store(s) => s.references(id).await,
            Source::Tx(t) => t.references(id).await,
        }
    }

    async fn versions(&mut self, name: &ContractName) -> Result<Vec<VersionRecord>, StoreError> {
        match self {
            Source::Store(s) => s.versions(name).await,
            Source::Tx(t) => t.versions(name).await,
        }
    }
}

/// The write mode in force for a contract.
fn write_mode_of(contract: Option<&ContractRecord>, global: GlobalConfig) -> WriteMode {
    contract
        .and_then(|c| c.write_mode)
        .unwrap_or(global.write_mode)
}

impl Registry {
    /// A registry over `store`, running compatibility checks within `limits`.
    pub fn new(store: Arc<dyn Store>, limits: &Limits) -> Self {
        let fetch_log = consumers::FetchLog::new(Arc::clone(&store));
        Self {
            store,
            parse_options: ParseOptions::default(),
            parsed: Bounded::new("parsed", PARSED_BYTES, PARSED_PER_BYTE << 12, SHARDS),
            texts: Bounded::new("schemas", SCHEMA_BYTES, 4096, SHARDS),
            validators: Bounded::new("validators", VALIDATOR_BYTES, PARSED_PER_BYTE << 12, SHARDS),
            recent: Arc::new(Recent::new(
                "latest",
                VERSION_LIST_BYTES,
                VERSIONS_FRESH,
                VERSIONS_MAX_AGE,
            )),
            turns: Turns::default(),
            checks: Checks::new(limits),
            deprecated: Recent::new(
                "deprecations",
                DEPRECATION_BYTES,
                consumers::DEPRECATIONS_FRESH,
                consumers::DEPRECATIONS_MAX_AGE,
            ),
            fetch_log,
            outcomes: Outcomes::default(),
        }
    }

    /// The store (for health checks and shutdown).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Has the store push other processes' changes to this registry's version lists,
    /// when it can (PostgreSQL's `LISTEN`; a server calls this once at start). Without
    /// it, or while the store's listener is disconnected, a list another process
    /// changed is seen within [`VERSIONS_MAX_AGE`] plus one read.
    pub fn follow_changes(&self) {
        self.store
            .watch(Arc::clone(&self.recent) as Arc<dyn ChangeSink>);
    }

    /// The hit and miss counts, entries and weight of every in-memory cache of the
    /// registry and its store.
    pub fn cache_stats(&self) -> Vec<CacheStats> {
        let mut stats = vec![
            self.texts.stats(),
            self.parsed.stats(),
            self.validators.stats(),
            self.recent.stats(),
            self.deprecated.stats(),
        ];
        stats.extend(self.store.cache_stats());
        stats
    }

    /// The counts of registrations and checks, for `/metrics`.
    pub fn outcomes(&self) -> &Outcomes {
        &self.outcomes
    }

    /// What [`register`](Self::register) would do, without writing.
    pub async fn check(
        &self,
        name: &ContractName,
        submission: Submission,
    ) -> Result<DryRun, RegistryError> {
        let candidate = self.parse_candidate(&submission).await?;
        Self::compiled(Self::compile(&candidate.schema)).await?;
        let history = self.store.history(name).await?;
        let config = ContractConfig::of(history.contract.as_ref(), history.global)
            .overridden(submission.mode, submission.policy);
        let previous = match plan::first_step(
            &history,
            &candidate.fingerprint,
            submission.version.as_ref(),
        ) {
            Step::Existing(v) => {
                return Ok(DryRun {
                    outcome: Outcome::Existing(v),
                    report: trivial_report(config, Bump::None),
                    consumers: ConsumersSection::default(),
                });
            }
            Step::Refuse(r) => {
                return Ok(DryRun {
                    outcome: Outcome::Refused(r),
                    report: trivial_report(config, Bump::Minor),
                    consumers: ConsumersSection::default(),
                });
            }
            Step::Check(previous) => relevant(previous, config.mode),
        };
        let schemas = self
            .load(&mut Source::Store(self.store.as_ref()), &previous)
            .await?;
        let report = self
            .run_check(Schema::clone(&candidate.schema), schemas, config)
            .await?;
        let outcome = match plan::conclude(
            &history,
            &previous,
            &report,
            submission.version.as_ref(),
            submission.allow_breaking,
        ) {
            Ok(v) => Outcome::Create(v),
            Err(r) => Outcome::Refused(r),
        };
        let version = match &outcome {
            Outcome::Create(v) => Some(v),
            _ => None,
        };
        let consumers = self
            .consumers_section(
                name,
                &history.versions,
                &candidate.schema,
                version,
                config.policy,
            )
            .await?;
        Ok(DryRun {
            outcome,
            report,
            consumers,
        })
    }

    /// The version a selector names.
    pub async fn find_version(
        &self,
        name: &ContractName,
        selector: &VersionSelector,
    ) -> Result<VersionRecord, RegistryError> {
        // `latest` and ranges may lag another process by at most VERSIONS_MAX_AGE; a
        // selector the recent list cannot answer (such as an exact version registered
        // elsewhere a moment ago) is answered from the store.
        let ticket = self.recent.ticket();
        if let Some(versions) = self.recent.get(name.as_str()) {
            if let Some(hit) = selector.select(versions.iter().map(|v| (&v.version, !v.deleted, v)))
            {
                return Ok(hit.clone());
            }
        }
        let versions = Arc::new(self.store.versions(name).await?);
        let weight = versions.len() as u64 * VERSION_WEIGHT;
        self.recent
            .insert(name.as_str(), Arc::clone(&versions), weight, ticket);
        if versions.is_empty() {
            self.existing(name).await?;
        }
        selector
            .select(versions.iter().map(|v| (&v.version, !v.deleted, v)))
            .cloned()
            .ok_or_else(|| RegistryError::VersionNotFound {
                name: name.to_string(),
                selector: selector.to_string(),
            })
    }

    /// Every remaining version of a contract; soft-deleted ones only when asked.
    pub async fn list_versions(
        &self,
        name: &ContractName,
        include_deleted: bool,
    ) -> Result<Vec<VersionRecord>, RegistryError> {
        let versions = self.store.versions(name).await?;
        if versions.is_empty() {
            self.existing(name).await?;
        }
        Ok(versions
            .into_iter()
            .filter(|v| include_deleted || !v.deleted)
            .collect())
    }

    /// A schema document by global id (cached: ids are immutable).
    pub async fn schema(&self, id: i64) -> Result<Arc<SchemaRecord>, RegistryError> {
        if let Some(hit) = self.texts.get(&id) {
            return Ok(hit);
        }
        let record = Arc::new(
            self.store
                .schema(id)
                .await?
                .ok_or(RegistryError::SchemaNotFound(id))?,
        );
        let weight = text_weight(&record.original);
        self.texts.insert(id, Arc::clone(&record), weight);
        Ok(record)
    }

    /// The documents a schema's `$ref`s load from other registered contracts, by the
    /// URI they are loaded from (empty for a self-contained schema), so a consumer can
    /// compile the schema without asking for each reference.
    pub async fn referenced_documents(
        &self,
        schema: &SchemaRecord,
    ) -> Result<std::collections::BTreeMap<String, Value>, RegistryError> {
        // Only a schema with references has documents to send; the others are not
        // parsed (a read path should not compile a validator per schema id).
        if !schema.refers {
            return Ok(std::collections::BTreeMap::new());
        }
        let schema = self
            .parsed_schema(&mut Source::Store(self.store.as_ref()), schema.id)
            .await?;
        Ok(schema
            .documents()
            .external()
            .map(|(uri, doc)| (uri.to_owned(), doc.clone()))
            .collect())
    }

    /// The validator of a schema id, built once (ids are immutable) by
    /// [`build_validator`] with formats asserted, exactly as the consumer library
    /// builds it, so the server and the client judge a record alike.
    pub async fn validator(&self, id: i64) -> Result<Arc<jsonschema::Validator>, RegistryError> {
        if let Some(hit) = self.validators.get(&id) {
            return Ok(hit);
        }
        let schema = self
            .parsed_schema(&mut Source::Store(self.store.as_ref()), id)
            .await?;
        let weight = parsed_weight(&schema);
        let validator = tokio::task::spawn_blocking(move || build_validator(&schema, true))
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))??;
        let validator = Arc::new(validator);
        self.validators.insert(id, Arc::clone(&validator), weight);
        Ok(validator)
    }

    /// Contracts whose name starts with `prefix`, one page ([`Listing`] says which).
    pub async fn list_contracts(
        &self,
        prefix: &str,
        listing: Listing,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ContractSummary>, RegistryError> {
        Ok(self
            .store
            .list_contracts(prefix, listing, limit, offset)
            .await?)
    }

    /// The history of a contract that exists: `ContractNotFound` when it was never
    /// written or has been removed for good ([`History::is_removed`]).
    async fn existing(
        &self,
        name: &ContractName,
    ) -> Result<(History, ContractRecord), RegistryError> {
        let mut history = self.store.history(name).await?;
        match history.contract.take() {
            Some(contract) if !history.is_removed() => Ok((history, contract)),
            _ => Err(RegistryError::ContractNotFound(name.to_string())),
        }
    }

    /// A contract with its versions and configuration.
    pub async fn contract(&self, name: &ContractName) -> Result<ContractDetail, RegistryError> {
        let (
            History {
                versions, global, ..
            },
            contract,
        ) = self.existing(name).await?;
        let config = ContractConfig::of(Some(&contract), global);
        Ok(ContractDetail {
            contract,
            versions,
            config,
        })
    }

    /// Changes a contract's metadata.
    pub async fn update_contract(
        &self,
        name: &ContractName,
        patch: &MetadataPatch,
        caller: &Caller,
    ) -> Result<ContractRecord, RegistryError> {
        self.existing(name).await?;
        let audit = AuditEntry::new(caller, AuditAction::UpdateContract)
            .contract(name)
            .detail(serde_json::json!({
                "owner": patch.owner,
                "description": patch.description,
                "tags": patch.tags,
            }));
        self.store
            .update_contract(name, patch, &audit)
            .await?
            .ok_or_else(|| RegistryError::ContractNotFound(name.to_string()))
    }

    /// The engine's report between two versions of a contract.
    pub async fn diff(
        &self,
        name: &ContractName,
        from: &VersionSelector,
        to: &VersionSelector,
    ) -> Result<VersionDiff, RegistryError> {
        let from = self.find_version(name, from).await?;
        let to = self.find_version(name, to).await?;
        let history = self.store.history(name).await?;
        let config = ContractConfig::of(history.contract.as_ref(), history.global);
        let mut source = Source::Store(self.store.as_ref());
        let old = self.parsed_schema(&mut source, from.schema_id).await?;
        let new = self.parsed_schema(&mut source, to.schema_id).await?;
        let consumers = self
            .consumers_section(
                name,
                &history.versions,
                &new,
                Some(&to.version),
                config.policy,
            )
            .await?;
        let report = self
            .checks
            .run(move || compat::compare(&old, &new, config.mode, config.policy))
            .await??;
        Ok(VersionDiff {
            from,
            to,
            report,
            consumers,
        })
    }

    /// The registry-wide defaults.
    pub async fn global_config(&self) -> Result<GlobalConfig, RegistryError> {
        Ok(self.store.global_config().await?)
    }

    /// Changes the registry-wide defaults (`None` keeps a value).
    pub async fn set_global_config(
        &self,
        mode: Option<Mode>,
        policy: Option<Policy>,
        caller: &Caller,
    ) -> Result<GlobalConfig, RegistryError> {
        let current = self.store.global_config().await?;
        if current.write_mode.is_read_only() {
            return Err(RegistryError::ReadOnly("the registry".to_owned()));
        }
        let config = GlobalConfig {
            mode: mode.unwrap_or(current.mode),
            policy: policy.unwrap_or(current.policy),
            write_mode: current.write_mode,
        };
        let audit = AuditEntry::new(caller, AuditAction::ConfigureRegistry).detail(
            serde_json::json!({ "mode": config.mode.as_str(), "policy": config.policy.as_str() }),
        );
        self.store.set_global_config(config, &audit).await?;
        Ok(config)
    }

    /// A contract's effective configuration.
    pub async fn contract_config(
        &self,
        name: &ContractName,
    ) -> Result<ContractConfig, RegistryError> {
        let (history, contract) = self.existing(name).await?;
        Ok(ContractConfig::of(Some(&contract), history.global))
    }

    /// Sets a contract's overrides (`None` keeps the current override); creates the
    /// contract when it does not exist, so it can be configured before its first version.
    pub async fn set_contract_config(
        &self,
        name: &ContractName,
        mode: Option<Mode>,
        policy: Option<Policy>,
        caller: &Caller,
    ) -> Result<ContractConfig, RegistryError> {
        let current = self.store.contract(name).await?;
        let mode = mode.or(current.as_ref().and_then(|c| c.mode));
        let policy = policy.or(current.as_ref().and_then(|c| c.policy));
        self.replace_contract_config(name, mode, policy, caller)
            .await
    }

    /// Removes a contract's overrides; it then follows the global configuration.
    pub async fn delete_contract_config(
        &self,
        name: &ContractName,
        caller: &Caller,
    ) -> Result<ContractConfig, RegistryError> {
        let (_, current) = self.existing(name).await?;
        self.refuse_if_read_only(name, Some(&current)).await?;
        let audit = config_audit(caller, name, None, None);
        let contract = self
            .store
            .put_contract_config(name, None, None, &audit)
            .await?;
        Ok(ContractConfig::of(
            Some(&contract),
            self.store.global_config().await?,
        ))
    }

    /// Soft-deletes a version, or with `permanent` removes a soft-deleted one.
    pub async fn delete_version(
        &self,
        name: &ContractName,
        version: &Version,
        permanent: bool,
        caller: &Caller,
    ) -> Result<VersionRecord, RegistryError> {
        self.delete_version_forced(name, version, permanent, false, caller)
            .await
    }

    /// [`delete_version`](Self::delete_version); a permanent delete of a version that
    /// deployed consumers resolve to is refused unless `force` (recorded in the audit
    /// row with those consumers).
    pub async fn delete_version_forced(
        &self,
        name: &ContractName,
        version: &Version,
        permanent: bool,
        force: bool,
        caller: &Caller,
    ) -> Result<VersionRecord, RegistryError> {
        let contract = self.store.contract(name).await?;
        self.refuse_if_read_only(name, contract.as_ref()).await?;
        let versions = self.store.versions(name).await?;
        if let Some(target) = versions.iter().find(|v| &v.version == version) {
            self.refuse_if_referenced(target, permanent).await?;
        }
        let forced_past = if permanent {
            self.refuse_if_deployed(name, version, force).await?
        } else {
            Vec::new()
        };
        let action = if permanent {
            AuditAction::PurgeVersion
        } else {
            AuditAction::DeleteVersion
        };
        let audit = AuditEntry::new(caller, action)
            .contract(name)
            .version(version);
        let audit = if forced_past.is_empty() {
            audit
        } else {
            audit.detail(serde_json::json!({
                "forced": true,
                "consumers": forced_past.iter().map(|r| r.consumer.as_str()).collect::<Vec<_>>(),
            }))
        };
        let outcome = self
            .store
            .delete_version(name, version, permanent, &audit)
            .await;
        self.recent.invalidate(name.as_str());
        match outcome? {
            DeleteOutcome::Deleted(v) => Ok(v),
            DeleteOutcome::NotFound => {
                if self.store.contract(name).await?.is_none() {
                    Err(RegistryError::ContractNotFound(name.to_string()))
                } else {
                    Err(RegistryError::VersionNotFound {
                        name: name.to_string(),
                        selector: version.to_string(),
                    })
                }
            }
            DeleteOutcome::AlreadyDeleted => Err(RegistryError::AlreadyDeleted {
                name: name.to_string(),
                version: version.clone(),
            }),
            DeleteOutcome::NotSoftDeleted => Err(RegistryError::NotSoftDeleted {
                name: name.to_string(),
                version: version.clone(),
            }),
        }
    }

    /// Parses a submission: pins its references (-1 → the latest live version) and
    /// parses the schema with every document they reach.
    async fn parse_candidate(&self, submission: &Submission) -> Result<Candidate, RegistryError> {
        let mut source = Source::Store(self.store.as_ref());
        let mut references = Vec::with_capacity(submission.references.len());
        for r in &submission.references {
            let versions = source.versions(&r.subject).await?;
            let live = versions.iter().filter(|v| !v.deleted);
            let found = if r.version == -1 {
                live.max_by_key(|v| v.seq)
            } else {
                live.into_iter().find(|v| v.seq == r.version)
            };
            let Some(found) = found else {
                return Err(RegistryError::InvalidReference(format!(
                    "{:?} names version {} of {:?}, which is not a live registered version",
                    r.name, r.version, r.subject
                )));
            };
            references.push(SchemaReference {
                version: found.seq,
                ..r.clone()
            });
        }
        let resolver = self
            .reference_resolver(&mut source, &submission.schema, &references)
            .await?;
        let options = self.parse_options;
        let text = submission.schema.clone();
        let schema =
            tokio::task::spawn_blocking(move || Schema::from_string(text, &options, &resolver))
                .await
                .map_err(|e| RegistryError::Internal(e.to_string()))?
                .map_err(RegistryError::InvalidSchema)?;
        let fingerprint = identity(&schema, &references);
        let weight = parsed_weight(&schema);
        Ok(Candidate {
            schema: FreedOffThread::new(schema, weight),
            references,
            fingerprint,
        })
    }

    /// Compiles the candidate's validator, on the blocking pool: a schema is stored, or
    /// said to be registrable, only once its validator compiles. Registration runs this
    /// beside its compatibility check, which does not need the validator.
    fn compile(schema: &Schema) -> tokio::task::JoinHandle<Result<(), SchemaError>> {
        let schema = schema.clone();
        tokio::task::spawn_blocking(move || schema.compiled().map(drop))
    }

    /// Waits for [`Self::compile`]: the schema's error is the submission's.
    async fn compiled(
        compiling: tokio::task::JoinHandle<Result<(), SchemaError>>,
    ) -> Result<(), RegistryError> {
        compiling
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))?
            .map_err(RegistryError::InvalidSchema)
    }

    /// A resolver holding every document `references` reach, transitively, under the
    /// names the referring documents use (the first of two same-named references wins,
    /// as in Confluent). References of stored versions include soft-deleted targets, so
    /// old schemas stay readable.
    async fn reference_resolver(
        &self,
        source: &mut Source<'_>,
        root: &str,
        references: &[SchemaReference],
    ) -> Result<MapResolver, RegistryError> {
        let mut resolver = MapResolver::new();
        let mut pending: Vec<(SchemaReference, Option<String>)> = references
            .iter()
            .rev()
            .map(|r| (r.clone(), document_id(root)))
            .collect();
        let mut names = HashSet::new();
        let mut visited = 0;
        while let Some((r, base)) = pending.pop() {
            if !names.insert(r.name.clone()) {
                continue;
            }
            visited += 1;
            if visited > MAX_REFERENCED_DOCUMENTS {
                return Err(RegistryError::InvalidReference(format!(
                    "the schema reaches more than {MAX_REFERENCED_DOCUMENTS} documents through references"
                )));
            }
            let versions = source.versions(&r.subject).await?;
            let Some(target) = versions.iter().find(|v| v.seq == r.version) else {
                return Err(RegistryError::InvalidReference(format!(
                    "{:?} names version {} of {:?}, which does not exist",
                    r.name, r.version, r.subject
                )));
            };
            let record = source
                .schema(target.schema_id)
                .await?
                .ok_or(RegistryError::SchemaNotFound(target.schema_id))?;
            let value: Value = serde_json::from_str(&record.original).map_err(|e| {
                StoreError::Corrupt(format!("stored schema {} is not JSON: {e}", record.id))
            })?;
            for uri in reference_uris(&r.name, base.as_deref()) {
                resolver.insert(uri, value.clone());
            }
            let nested = source.references(target.schema_id).await?;
            let nested_base = document_id(&record.original);
            pending.extend(nested.into_iter().rev().map(|n| (n, nested_base.clone())));
        }
        Ok(resolver)
    }

    /// The parsed schemas of `previous`, labelled by version.
    async fn load(
        &self,
        source: &mut Source<'_>,
        previous: &[VersionRecord],
    ) -> Result<Vec<(String, Schema)>, RegistryError> {
        let mut out = Vec::with_capacity(previous.len());
        for v in previous {
            out.push((
                v.version.to_string(),
                self.parsed_schema(source, v.schema_id).await?,
            ));
        }
        Ok(out)
    }

    async fn parsed_schema(
        &self,
        source: &mut Source<'_>,
        id: i64,
    ) -> Result<Schema, RegistryError> {
        if let Some(hit) = self.parsed.get(&id) {
            return Ok(hit);
        }
        let record = source
            .schema(id)
            .await?
            .ok_or(RegistryError::SchemaNotFound(id))?;
        let references = source.references(id).await?;
        let resolver = self
            .reference_resolver(source, &record.original, &references)
            .await?;
        let options = self.parse_options;
        let schema = tokio::task::spawn_blocking(move || {
            Schema::from_text(&record.original, &options, &resolver)
        })
        .await
        .map_err(|e| RegistryError::Internal(e.to_string()))?
        .map_err(|e| StoreError::Corrupt(format!("stored schema {id} no longer parses: {e}")))?;
        self.parsed
            .insert(id, schema.clone(), parsed_weight(&schema));
        Ok(schema)
    }
}

/// The estimated weight of a parsed schema (or of the validator compiled from it).
fn parsed_weight(schema: &Schema) -> u64 {
    schema.original().len() as u64 * PARSED_PER_BYTE + crate::cache::ENTRY_OVERHEAD
}

/// The `$id` of a document's root, when it has one.
fn document_id(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    value.get("$id")?.as_str().map(str::to_owned)
}

/// The URIs a `$ref` to a reference `name` can resolve to: the name itself when it is
/// absolute, and the name against the referring document's base (its `$id`, else the
/// default base every document without `$id` has).
fn reference_uris(name: &str, base: Option<&str>) -> Vec<String> {
    let mut uris = vec![name.to_owned()];
    for base in [base, Some(DEFAULT_BASE)].into_iter().flatten() {
        if let Some(uri) = url::Url::parse(base).ok().and_then(|b| b.join(name).ok()) {
            uris.push(uri.to_string());
        }
    }
    uris
}

/// A schema's identity: its fingerprint, or with references the fingerprint of its
/// canonical form together with the pinned references.
fn identity(schema: &Schema, references: &[SchemaReference]) -> String {
    if references.is_empty() {
        return schema.fingerprint().to_owned();
    }
    let mut text = schema.canonical().to_owned();
    for r in references {
        let pinned = serde_json::json!([r.name, r.subject.as_str(), r.version]);
        text.push('\n');
        text.push_str(&pinned.to_string());
    }
    crate::schema::fingerprint(&text)
}

/// The audit particulars of a refused registration: the refusal's code and the ids of
/// the refusing rules (for an incompatible change, the findings that break the mode;
/// for a declared version too small, the findings that needed the larger bump).
pub(super) fn refusal_audit(refusal: &Refusal) -> Value {
    let rules = refused_rules(refusal);
    serde_json::json!({ "refusal": refusal.code(), "rules": rules })
}

/// The ids of the rules a refusal is for, sorted, each once (none when the refusal is
/// about the declared number alone).
pub(super) fn refused_rules(refusal: &Refusal) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = match refusal {
        Refusal::Incompatible { report } => report
            .changes
            .iter()
            .filter(|c| !compat::is_compatible(std::slice::from_ref(c), report.mode))
            .map(|c| c.rule)
            .collect(),
        Refusal::VersionTooSmall { report, .. } => report
            .changes
            .iter()
            .filter(|c| !c.annotation)
            .map(|c| c.rule)
            .collect(),
        Refusal::VersionNotGreater { .. } => Vec::new(),
    };
    rules.sort_unstable();
    rules.dedup();
    rules
}

/// The audit entry of a change to a contract's mode and policy overrides.
pub(super) fn config_audit(
    caller: &Caller,
    name: &ContractName,
    mode: Option<Mode>,
    policy: Option<Policy>,
) -> AuditEntry {
    AuditEntry::new(caller, AuditAction::ConfigureContract)
        .contract(name)
        .detail(serde_json::json!({
            "mode": mode.map(Mode::as_str),
            "policy": policy.map(Policy::as_str),
        }))
}

/// Non-transitive modes compare with the newest version only: load no more.
fn relevant(mut previous: Vec<VersionRecord>, mode: Mode) -> Vec<VersionRecord> {
    if !mode.is_transitive() {
        previous.truncate(1);
    }
    previous
}

impl Registry {
    /// Checks `candidate` against `previous` within the bound on checks; a first
    /// version (nothing to compare with) needs no turn.
    async fn run_check(
        &self,
        candidate: Schema,
        previous: Vec<(String, Schema)>,
        config: ContractConfig,
    ) -> Result<Report, RegistryError> {
        let first = previous.is_empty();
        let check = move || {
            let previous: Vec<Previous<'_>> = previous
                .iter()
                .map(|(label, schema)| Previous { label, schema })
                .collect();
            compat::check(&candidate, &previous, config.mode, config.policy)
        };
        if first {
            return Ok(check()?);
        }
        let started = std::time::Instant::now();
        let report = self.checks.run(check).await??;
        self.outcomes.checked(started.elapsed());
        Ok(report)
    }
}

fn trivial_report(config: ContractConfig, required_bump: Bump) -> Report {
    Report {
        compatible: true,
        mode: config.mode,
        policy: config.policy,
        required_bump,
        changes: Vec::new(),
        changes_total: 0,
        truncated: false,
        failed_version: None,
        checked_versions: Vec::new(),
    }
}
