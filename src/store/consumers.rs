//! Storage of who reads what: [`ConsumerStore`], a part of [`super::Store`], and the
//! records it speaks. Consumers, what each application version declared it reads,
//! environments, deployments (with the contract version each range resolved to), the
//! last fetches of each consumer, deprecated major lines and each contract's consumer
//! protection.
//!
//! Every change is written in one transaction with its audit row. Retiring a line
//! soft-deletes its live versions under the contract's write lock and bumps the
//! contract's revision, like any other change to its versions.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use semver::{Version, VersionReq};

use crate::domain::{
    AppVersion, ConsumerName, ContractName, EnvironmentName, FieldPath, Protection,
};

use super::{AuditEntry, StoreError, VersionRecord};

/// A consumer: an application that reads contracts.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    /// Its name.
    pub name: ConsumerName,
    /// Who owns it.
    pub owner: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// When it was first declared.
    pub created_at: DateTime<Utc>,
    /// When it last declared something.
    pub updated_at: DateTime<Utc>,
}

/// One contract a consumer reads: a semver range and, optionally, the fields it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The contract.
    pub contract: ContractName,
    /// The versions it accepts.
    pub range: VersionReq,
    /// The instance paths it uses; empty: the whole instance.
    pub fields: Vec<FieldPath>,
}

/// What one application version of a consumer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// The consumer.
    pub consumer: ConsumerName,
    /// The application version.
    pub app_version: AppVersion,
    /// What it reads, in the order declared.
    pub reads: Vec<Read>,
    /// When it was (last) declared.
    pub declared_at: DateTime<Utc>,
}

/// A declaration to store: the consumer's metadata and the reads of one application
/// version (replacing what that version declared before).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeclaration {
    /// The consumer (created when new).
    pub consumer: ConsumerName,
    /// Its owner.
    pub owner: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The application version.
    pub app_version: AppVersion,
    /// What it reads.
    pub reads: Vec<Read>,
}

/// A deployment target.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentRecord {
    /// Its name.
    pub name: EnvironmentName,
    /// Whether `consumer_protection: block` protects the consumers deployed there.
    pub protected: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The contract version one read resolved to when a deployment was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The contract.
    pub contract: ContractName,
    /// The version, or `None` when no live version matched the range then.
    pub version: Option<Version>,
}

/// The application version running in an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    /// The consumer.
    pub consumer: ConsumerName,
    /// The environment.
    pub environment: EnvironmentName,
    /// The application version.
    pub app_version: AppVersion,
    /// When it was recorded.
    pub deployed_at: DateTime<Utc>,
    /// What each read of its declaration resolved to, in the declaration's order.
    pub resolutions: Vec<Resolution>,
}

/// A consumer deployed somewhere that reads a given contract: one row of the
/// consumers matrix, and the input of "what does this change do to it".
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedReader {
    /// The consumer.
    pub consumer: ConsumerName,
    /// Where it runs.
    pub environment: EnvironmentName,
    /// Whether that environment is protected.
    pub protected: bool,
    /// Which application version runs there.
    pub app_version: AppVersion,
    /// When it was deployed.
    pub deployed_at: DateTime<Utc>,
    /// The range it reads the contract with.
    pub range: VersionReq,
    /// The fields it uses (empty: all).
    pub fields: Vec<FieldPath>,
    /// The version the range resolved to at deployment.
    pub resolved: Option<Version>,
}

/// The last fetch of one version of a contract by one consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRecord {
    /// The consumer.
    pub consumer: ConsumerName,
    /// The contract.
    pub contract: ContractName,
    /// The version served.
    pub version: Version,
    /// When (to within about a minute).
    pub fetched_at: DateTime<Utc>,
}

/// A major line announced for retirement.
#[derive(Debug, Clone, PartialEq)]
pub struct LineDeprecation {
    /// The contract.
    pub contract: ContractName,
    /// The major version of the line.
    pub major: u64,
    /// The day after which the line may be retired.
    pub sunset: NaiveDate,
    /// Why, for people.
    pub reason: String,
    /// The line readers should move to.
    pub successor: Option<u64>,
    /// When it was announced.
    pub deprecated_at: DateTime<Utc>,
}

/// What the registry stores about consumers; every backend implements it as part of
/// [`super::Store`].
#[async_trait]
pub trait ConsumerStore: Send + Sync {
    /// Creates or updates the consumer and replaces what `new.app_version` reads,
    /// recording `audit` with it.
    async fn declare(
        &self,
        new: &NewDeclaration,
        audit: &AuditEntry,
    ) -> Result<ConsumerRecord, StoreError>;

    /// A consumer.
    async fn consumer(&self, name: &ConsumerName) -> Result<Option<ConsumerRecord>, StoreError>;

    /// Every consumer, by name.
    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError>;

    /// What one application version of a consumer declared.
    async fn declaration(
        &self,
        consumer: &ConsumerName,
        app_version: &AppVersion,
    ) -> Result<Option<Declaration>, StoreError>;

    /// Every declaration of a consumer, newest first.
    async fn declarations(&self, consumer: &ConsumerName) -> Result<Vec<Declaration>, StoreError>;

    /// Creates or changes an environment, recording `audit`.
    async fn put_environment(
        &self,
        name: &EnvironmentName,
        protected: bool,
        audit: &AuditEntry,
    ) -> Result<EnvironmentRecord, StoreError>;

    /// An environment.
    async fn environment(
        &self,
        name: &EnvironmentName,
    ) -> Result<Option<EnvironmentRecord>, StoreError>;

    /// Every environment, by name.
    async fn environments(&self) -> Result<Vec<EnvironmentRecord>, StoreError>;

    /// Records that `app_version` of `consumer` (already declared) runs in
    /// `environment` (which exists), replacing what ran there, with what each of its
    /// reads resolved to; records `audit`.
    async fn record_deployment(
        &self,
        consumer: &ConsumerName,
        environment: &EnvironmentName,
        app_version: &AppVersion,
        resolutions: &[Resolution],
        audit: &AuditEntry,
    ) -> Result<DeploymentRecord, StoreError>;

    /// Where a consumer runs, by environment.
    async fn deployments(
        &self,
        consumer: &ConsumerName,
    ) -> Result<Vec<DeploymentRecord>, StoreError>;

    /// Every deployed consumer that reads `contract`, one row per (consumer,
    /// environment, read), by consumer and environment.
    async fn readers(&self, contract: &ContractName) -> Result<Vec<DeployedReader>, StoreError>;

    /// What a registration needs to judge what it does to consumers: `contract`'s
    /// protection, when set, and its deployed readers (as [`ConsumerStore::readers`]).
    /// One small query while the readers are remembered at the current consumer
    /// revision (src/store/memo.rs), else two.
    async fn deployed(
        &self,
        contract: &ContractName,
    ) -> Result<(Option<Protection>, Vec<DeployedReader>), StoreError>;

    /// Notes a fetch, when `consumer` is a declared consumer (else nothing is written).
    async fn record_fetch(
        &self,
        consumer: &ConsumerName,
        contract: &ContractName,
        version: &Version,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The last fetches of a contract's versions, by consumer and version.
    async fn fetches(&self, contract: &ContractName) -> Result<Vec<FetchRecord>, StoreError>;

    /// Announces (or re-announces) a major line's retirement, recording `audit`.
    async fn deprecate_line(
        &self,
        deprecation: &LineDeprecation,
        audit: &AuditEntry,
    ) -> Result<LineDeprecation, StoreError>;

    /// A contract's deprecated lines, by major.
    async fn deprecations(
        &self,
        contract: &ContractName,
    ) -> Result<Vec<LineDeprecation>, StoreError>;

    /// Soft-deletes every live version of a major line under the contract's write lock,
    /// bumping its revision; records `audit` (with the seqs) when something was
    /// deleted. The versions deleted, in seq order.
    async fn retire_line(
        &self,
        contract: &ContractName,
        major: u64,
        audit: &AuditEntry,
    ) -> Result<Vec<VersionRecord>, StoreError>;

    /// A contract's consumer protection, when set.
    async fn protection(&self, contract: &ContractName) -> Result<Option<Protection>, StoreError>;

    /// Sets (or with `None` clears) a contract's consumer protection, recording `audit`.
    async fn set_protection(
        &self,
        contract: &ContractName,
        protection: Option<Protection>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
}

/// Reads a stored semver range.
pub(super) fn parse_range(text: &str) -> Result<VersionReq, StoreError> {
    VersionReq::parse(text).map_err(|e| StoreError::Corrupt(format!("stored range {text:?}: {e}")))
}

/// Reads stored fields (a JSON array of instance paths).
pub(super) fn parse_fields(text: &str) -> Result<Vec<FieldPath>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("stored fields {text:?}: {e}")))
}

/// Writes fields as a JSON array.
pub(super) fn fields_text(fields: &[FieldPath]) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads a stored consumer name.
pub(super) fn parse_consumer(text: &str) -> Result<ConsumerName, StoreError> {
    ConsumerName::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored environment name.
pub(super) fn parse_environment(text: &str) -> Result<EnvironmentName, StoreError> {
    EnvironmentName::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored application version.
pub(super) fn parse_app_version(text: &str) -> Result<AppVersion, StoreError> {
    AppVersion::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored protection.
pub(super) fn parse_protection(text: &str) -> Result<Protection, StoreError> {
    text.parse()
        .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))
}

/// Reads a stored major (a non-negative integer).
pub(super) fn parse_major(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("stored major {n}")))
}

/// A major as stored (majors beyond `i64::MAX` are refused before they get here).
pub(super) fn major_value(major: u64) -> i64 {
    i64::try_from(major).unwrap_or(i64::MAX)
}

/// The audit particulars of a retirement: the caller's, with the seqs retired.
pub(super) fn retire_detail(audit: &AuditEntry, seqs: &[i64]) -> serde_json::Value {
    let mut detail = match &audit.detail {
        Some(serde_json::Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    detail.insert("seqs".to_owned(), serde_json::json!(seqs));
    serde_json::Value::Object(detail)
}
