//! Consumers: the use cases behind `/api/v1/consumers`, `/api/v1/environments`, the
//! consumers matrix of a contract, the consumers section of a registration, dry run
//! and diff, line deprecation and retirement, and consumer-side can-i-deploy.
//!
//! What a change does to a consumer is the engine's FORWARD verdict seen from the
//! consumer's side ([`ReaderCheck`]): data valid under the new schema can be invalid
//! under the version the consumer was deployed against, restricted to the fields it
//! declared. Consumers deployed against the same version share one walk, so a
//! registration with a hundred consumers deployed against the newest version costs
//! one comparison more, not a hundred.
//!
//! `breaks` is computed for every deployed reader, whether or not the new version
//! falls in its range (`receives`): a reader pinned to `^1` is not affected by 2.0.0
//! today, but is told what would break when it moves. `block` refuses only what a
//! reader in a protected environment would receive and break on.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use semver::{Version, VersionReq};
use serde::Serialize;

use crate::compat::{Change, ReaderCheck, ReaderVerdict};
use crate::domain::{
    AppVersion, AuditAction, Caller, ConsumerName, ContractName, EnvironmentName, FieldPath,
    Policy, Protection,
};
use crate::schema::Schema;
use crate::store::{
    AuditEntry, ConsumerRecord, Declaration, DeployedReader, DeploymentRecord, EnvironmentRecord,
    FetchRecord, LineDeprecation, NewDeclaration, Read, Resolution, VersionRecord,
};

use super::{Registry, RegistryError, Source};

/// The most rows a consumers section lists (the total is always given).
pub const MAX_SECTION_ROWS: usize = 100;
/// The most findings listed per consumer row (the total is always given).
pub const MAX_ROW_CHANGES: usize = 10;
/// The most reads one declaration may hold.
pub const MAX_READS: usize = 200;
/// The most fields one read may declare.
pub const MAX_FIELDS: usize = 200;

/// Why a consumer use case failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConsumerError {
    /// No consumer has this name.
    #[error("consumer {0:?} not found; declare it first (PUT /api/v1/consumers/{0})")]
    ConsumerNotFound(String),
    /// The consumer never declared this application version.
    #[error(
        "consumer {consumer:?} never declared application version {app_version:?}; declare it first (PUT /api/v1/consumers/{consumer})"
    )]
    NotDeclared {
        /// The consumer.
        consumer: String,
        /// The application version.
        app_version: String,
    },
    /// No environment has this name.
    #[error("environment {0:?} not found; an admin creates it (PUT /api/v1/environments/{0})")]
    EnvironmentNotFound(String),
    /// A request that cannot be honoured.
    #[error("{0}")]
    Invalid(String),
    /// A registration that breaks consumers deployed in protected environments under
    /// `consumer_protection: block`.
    #[error(
        "the change breaks {} consumer(s) deployed in protected environments and {contract:?} has consumer_protection: block",
        .consumers.len()
    )]
    Blocked {
        /// The contract.
        contract: String,
        /// The consumers it breaks there.
        consumers: Vec<ConsumerImpact>,
    },
    /// A retirement or permanent delete of versions deployed consumers still resolve to.
    #[error(
        "{what}: {} deployed consumer(s) still resolve to it; an admin may pass force=true",
        .consumers.len()
    )]
    StillRead {
        /// What was refused.
        what: String,
        /// The consumers in the way.
        consumers: Vec<MatrixRow>,
    },
}

impl From<ConsumerError> for RegistryError {
    fn from(e: ConsumerError) -> Self {
        RegistryError::Consumers(Box::new(e))
    }
}

/// What a change does to one deployed consumer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerImpact {
    /// The consumer.
    pub consumer: ConsumerName,
    /// Where it runs.
    pub environment: EnvironmentName,
    /// Whether that environment is protected.
    pub protected: bool,
    /// The application version running there.
    pub app_version: AppVersion,
    /// The range it reads the contract with.
    pub range: String,
    /// The fields it declared (empty: all of them).
    pub fields: Vec<FieldPath>,
    /// The version its range resolved to when it was deployed.
    pub deployed_version: Option<String>,
    /// Whether the new version falls in its range.
    pub receives: bool,
    /// Whether data valid under the new version can be invalid under the deployed one,
    /// in the fields it reads.
    pub breaks: bool,
    /// The engine's findings restricted to its fields (at most [`MAX_ROW_CHANGES`]).
    pub changes: Vec<Change>,
    /// How many findings there are.
    pub changes_total: usize,
    /// Declared fields the deployed version has and the new one does not.
    pub missing_fields: Vec<FieldPath>,
    /// Why no verdict could be reached (the comparison exceeded its budget, or the
    /// deployed version is gone); such a reader counts as broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ConsumerImpact {
    /// Whether `block` refuses a registration for this reader.
    pub fn blocks(&self) -> bool {
        self.protected && self.receives && self.breaks
    }
}

/// The consumers section of a registration, dry run or diff.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ConsumersSection {
    /// The contract's `consumer_protection`.
    #[serde(rename = "consumer_protection")]
    pub protection: Protection,
    /// The deployed readers, those broken first (at most [`MAX_SECTION_ROWS`]).
    pub consumers: Vec<ConsumerImpact>,
    /// How many deployed readers there are.
    pub consumers_total: usize,
    /// How many of them the change breaks.
    #[serde(rename = "consumers_breaking")]
    pub breaking_total: usize,
    /// Whether rows were left out.
    #[serde(rename = "consumers_truncated")]
    pub truncated: bool,
}

/// The verdicts of every deployed reader on a new schema, before the version it will
/// get is known: a registration computes them alongside its own compatibility check.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    protection: Protection,
    rows: Vec<ConsumerImpact>,
    /// Each row's range.
    ranges: Vec<VersionReq>,
}

impl Verdicts {
    /// The section for the new schema registered as `version` (none: nobody receives it).
    pub fn section(self, version: Option<&Version>) -> ConsumersSection {
        let mut rows = self.rows;
        for (row, range) in rows.iter_mut().zip(&self.ranges) {
            row.receives = version.is_some_and(|v| range.matches(v));
        }
        ConsumersSection::of(self.protection, rows)
    }
}

impl ConsumersSection {
    fn of(protection: Protection, mut rows: Vec<ConsumerImpact>) -> Self {
        rows.sort_by(|a, b| {
            (b.blocks(), b.breaks, &a.consumer, &a.environment).cmp(&(
                a.blocks(),
                a.breaks,
                &b.consumer,
                &b.environment,
            ))
        });
        let consumers_total = rows.len();
        let breaking_total = rows.iter().filter(|r| r.breaks).count();
        let truncated = rows.len() > MAX_SECTION_ROWS;
        rows.truncate(MAX_SECTION_ROWS);
        Self {
            protection,
            consumers: rows,
            consumers_total,
            breaking_total,
            truncated,
        }
    }

    /// The rows `block` refuses a registration for, when the protection is `block`.
    pub fn blocking(&self) -> Vec<ConsumerImpact> {
        if self.protection != Protection::Block {
            return Vec::new();
        }
        self.consumers
            .iter()
            .filter(|r| r.blocks())
            .cloned()
            .collect()
    }
}

/// A declaration as stored, with what looked wrong in it.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The consumer.
    pub consumer: ConsumerRecord,
    /// Whether the consumer was new.
    pub created: bool,
    /// Findings that did not refuse the declaration (an unknown contract, a range no
    /// version matches, a field no version in the range has).
    pub warnings: Vec<String>,
}

/// A consumer with its declarations, deployments and last fetches.
#[derive(Debug, Clone)]
pub struct ConsumerDetail {
    /// The consumer.
    pub consumer: ConsumerRecord,
    /// What each application version declared, newest first.
    pub declarations: Vec<Declaration>,
    /// Where it runs.
    pub deployments: Vec<DeploymentRecord>,
    /// Its last fetches of the contracts it declared.
    pub fetches: Vec<FetchRecord>,
}

/// One row of a contract's consumers matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixRow {
    /// The consumer.
    pub consumer: ConsumerName,
    /// Where it runs (absent for a consumer only seen fetching).
    pub environment: Option<EnvironmentName>,
    /// Whether that environment is protected.
    pub protected: bool,
    /// The application version running there.
    pub app_version: Option<AppVersion>,
    /// Its range.
    pub range: Option<String>,
    /// What the range resolved to at deployment.
    pub resolved_version: Option<String>,
    /// When it last fetched a version of the contract (any version), to about a minute.
    pub last_fetch: Option<chrono::DateTime<Utc>>,
    /// The version it last fetched.
    pub last_fetched_version: Option<String>,
    /// The deprecated major line its resolved version belongs to, when deprecated.
    pub deprecated_line: Option<u64>,
}

/// A contract's consumers matrix and deprecated lines.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The rows, by consumer and environment.
    pub rows: Vec<MatrixRow>,
    /// The deprecated lines.
    pub deprecations: Vec<LineDeprecation>,
    /// The contract's protection.
    pub protection: Protection,
}

/// One read checked by can-i-deploy.
#[derive(Debug, Clone, Serialize)]
pub struct ReadCheck {
    /// The contract.
    pub contract: ContractName,
    /// The range.
    pub range: String,
    /// The newest live version it resolves to now.
    pub resolved_version: Option<String>,
    /// What is wrong (empty: nothing).
    pub problems: Vec<String>,
}

/// The answer of consumer-side can-i-deploy.
#[derive(Debug, Clone, Serialize)]
pub struct CanIDeploy {
    /// Whether every read resolves to a live version having every declared field.
    pub ok: bool,
    /// The consumer.
    pub consumer: ConsumerName,
    /// The environment.
    pub environment: EnvironmentName,
    /// Each read.
    pub reads: Vec<ReadCheck>,
}

/// The newest live version of `versions` in `range`.
fn resolve<'v>(versions: &'v [VersionRecord], range: &VersionReq) -> Option<&'v VersionRecord> {
    versions
        .iter()
        .filter(|v| !v.deleted && range.matches(&v.version))
        .max_by(|a, b| a.version.cmp(&b.version))
}

impl Registry {
    /// Stores what one application version of a consumer reads (replacing what it
    /// declared before), creating the consumer when new.
    pub async fn declare_consumer(
        &self,
        new: NewDeclaration,
        caller: &Caller,
    ) -> Result<Declared, RegistryError> {
        if new.reads.len() > MAX_READS {
            return Err(ConsumerError::Invalid(format!(
                "a declaration holds at most {MAX_READS} reads, not {}",
                new.reads.len()
            ))
            .into());
        }
        for r in &new.reads {
            if r.fields.len() > MAX_FIELDS {
                return Err(ConsumerError::Invalid(format!(
                    "a read declares at most {MAX_FIELDS} fields; the read of {:?} declares {}",
                    r.contract.as_str(),
                    r.fields.len()
                ))
                .into());
            }
        }
        let mut warnings = Vec::new();
        let mut source = Source::Store(self.store.as_ref());
        for r in &new.reads {
            let versions = self.store.versions(&r.contract).await?;
            let Some(found) = resolve(&versions, &r.range) else {
                if versions.iter().all(|v| v.deleted) {
                    warnings.push(format!(
                        "contract {:?} has no live version (yet)",
                        r.contract.as_str()
                    ));
                } else {
                    warnings.push(format!(
                        "no live version of {:?} matches {}",
                        r.contract.as_str(),
                        r.range
                    ));
                }
                continue;
            };
            if r.fields.is_empty() {
                continue;
            }
            let schema = self.parsed_schema(&mut source, found.schema_id).await?;
            for f in missing(&schema, &r.fields) {
                warnings.push(format!(
                    "{} of {:?} (which {} resolves to) has no field {}",
                    found.version,
                    r.contract.as_str(),
                    r.range,
                    f
                ));
            }
        }
        let created = self.store.consumer(&new.consumer).await?.is_none();
        let audit =
            AuditEntry::new(caller, AuditAction::DeclareConsumer).detail(serde_json::json!({
                "consumer": new.consumer,
                "app_version": new.app_version,
                "reads": new.reads.iter().map(|r| serde_json::json!({
                    "contract": r.contract.as_str(),
                    "range": r.range.to_string(),
                    "fields": r.fields.len(),
                })).collect::<Vec<_>>(),
            }));
        let consumer = self.store.declare(&new, &audit).await?;
        tracing::info!(consumer.name = %consumer.name, app_version = %new.app_version, "consumer declared");
        Ok(Declared {
            consumer,
            created,
            warnings,
        })
    }

    /// Every consumer, by name.
    pub async fn consumers(&self) -> Result<Vec<ConsumerRecord>, RegistryError> {
        Ok(self.store.consumers().await?)
    }

    /// A consumer with its declarations, deployments and last fetches.
    pub async fn consumer_detail(
        &self,
        name: &ConsumerName,
    ) -> Result<ConsumerDetail, RegistryError> {
        let consumer = self
            .store
            .consumer(name)
            .await?
            .ok_or_else(|| ConsumerError::ConsumerNotFound(name.to_string()))?;
        let declarations = self.store.declarations(name).await?;
        let deployments = self.store.deployments(name).await?;
        let mut contracts: Vec<&ContractName> = declarations
            .iter()
            .flat_map(|d| d.reads.iter().map(|r| &r.contract))
            .collect();
        contracts.sort();
        contracts.dedup();
        let mut fetches = Vec::new();
        for c in contracts {
            fetches.extend(
                self.store
                    .fetches(c)
                    .await?
                    .into_iter()
                    .filter(|f| &f.consumer == name),
            );
        }
        Ok(ConsumerDetail {
            consumer,
            declarations,
            deployments,
            fetches,
        })
    }

    /// Creates an environment or changes its protection; whether it was new.
    pub async fn put_environment(
        &self,
        name: &EnvironmentName,
        protected: bool,
        caller: &Caller,
    ) -> Result<(EnvironmentRecord, bool), RegistryError> {
        let created = self.store.environment(name).await?.is_none();
        let audit = AuditEntry::new(caller, AuditAction::UpdateEnvironment)
            .detail(serde_json::json!({ "environment": name, "protected": protected }));
        let record = self.store.put_environment(name, protected, &audit).await?;
        Ok((record, created))
    }

    /// Every environment, by name.
    pub async fn environments(&self) -> Result<Vec<EnvironmentRecord>, RegistryError> {
        Ok(self.store.environments().await?)
    }

    /// Records that `app_version` of `consumer` runs in `environment`, resolving each
    /// of its reads to the newest live version in range now.
    pub async fn record_deployment(
        &self,
        consumer: &ConsumerName,
        environment: &EnvironmentName,
        app_version: &AppVersion,
        caller: &Caller,
    ) -> Result<DeploymentRecord, RegistryError> {
        if self.store.consumer(consumer).await?.is_none() {
            return Err(ConsumerError::ConsumerNotFound(consumer.to_string()).into());
        }
        let declaration = self
            .store
            .declaration(consumer, app_version)
            .await?
            .ok_or_else(|| ConsumerError::NotDeclared {
                consumer: consumer.to_string(),
                app_version: app_version.to_string(),
            })?;
        if self.store.environment(environment).await?.is_none() {
            return Err(ConsumerError::EnvironmentNotFound(environment.to_string()).into());
        }
        let mut resolutions = Vec::with_capacity(declaration.reads.len());
        for r in &declaration.reads {
            let versions = self.store.versions(&r.contract).await?;
            resolutions.push(Resolution {
                contract: r.contract.clone(),
                version: resolve(&versions, &r.range).map(|v| v.version.clone()),
            });
        }
        let audit =
            AuditEntry::new(caller, AuditAction::RecordDeployment).detail(serde_json::json!({
                "consumer": consumer,
                "environment": environment,
                "app_version": app_version,
                "resolutions": resolutions.iter().map(|r| serde_json::json!({
                    "contract": r.contract.as_str(),
                    "version": r.version.as_ref().map(Version::to_string),
                })).collect::<Vec<_>>(),
            }));
        let record = self
            .store
            .record_deployment(consumer, environment, app_version, &resolutions, &audit)
            .await?;
        tracing::info!(consumer.name = %consumer, environment = %environment, app_version = %app_version, "deployment recorded");
        Ok(record)
    }

    /// A contract's consumers matrix: every deployed reader, with its last fetch and
    /// the deprecated line it sits on; consumers only seen fetching get a row too.
    pub async fn consumers_matrix(&self, contract: &ContractName) -> Result<Matrix, RegistryError> {
        let readers = self.store.readers(contract).await?;
        let fetches = self.store.fetches(contract).await?;
        let deprecations = self.store.deprecations(contract).await?;
        let protection = self.store.protection(contract).await?.unwrap_or_default();
        let mut last: BTreeMap<&ConsumerName, &FetchRecord> = BTreeMap::new();
        for f in &fetches {
            let newer = last
                .get(&f.consumer)
                .is_none_or(|l| l.fetched_at < f.fetched_at);
            if newer {
                last.insert(&f.consumer, f);
            }
        }
        let deprecated = |v: &Option<Version>| {
            v.as_ref().and_then(|v| {
                deprecations
                    .iter()
                    .find(|d| d.major == v.major)
                    .map(|d| d.major)
            })
        };
        let mut rows: Vec<MatrixRow> = readers
            .iter()
            .map(|r| {
                let fetch = last.get(&r.consumer);
                MatrixRow {
                    consumer: r.consumer.clone(),
                    environment: Some(r.environment.clone()),
                    protected: r.protected,
                    app_version: Some(r.app_version.clone()),
                    range: Some(r.range.to_string()),
                    resolved_version: r.resolved.as_ref().map(Version::to_string),
                    last_fetch: fetch.map(|f| f.fetched_at),
                    last_fetched_version: fetch.map(|f| f.version.to_string()),
                    deprecated_line: deprecated(&r.resolved),
                }
            })
            .collect();
        for (consumer, f) in &last {
            if !readers.iter().any(|r| &r.consumer == *consumer) {
                rows.push(MatrixRow {
                    consumer: (*consumer).clone(),
                    environment: None,
                    protected: false,
                    app_version: None,
                    range: None,
                    resolved_version: None,
                    last_fetch: Some(f.fetched_at),
                    last_fetched_version: Some(f.version.to_string()),
                    deprecated_line: deprecated(&Some(f.version.clone())),
                });
            }
        }
        Ok(Matrix {
            rows,
            deprecations,
            protection,
        })
    }

    /// What `new` (to be version `new_version`, when known) does to every consumer
    /// deployed against `contract`, whose stored versions are `versions` (the
    /// contract's history, already read by every caller). Empty under
    /// `consumer_protection: off`.
    pub async fn consumers_section(
        &self,
        contract: &ContractName,
        versions: &[VersionRecord],
        new: &Schema,
        new_version: Option<&Version>,
        policy: Policy,
    ) -> Result<ConsumersSection, RegistryError> {
        Ok(self
            .consumers_verdicts(contract, versions, new, policy)
            .await?
            .section(new_version))
    }

    /// What `new` does to every consumer deployed against `contract` (stored versions
    /// `versions`), whatever version it gets. None under `consumer_protection: off`.
    ///
    /// On a registration's path: the deployed readers and the protection come in one
    /// small query while the readers are remembered ([`crate::store::ConsumerStore::deployed`]),
    /// and the deployed versions' schemas from `versions` and the parsed schema cache,
    /// so the section costs one round trip to the database and one walk per deployed
    /// version.
    pub async fn consumers_verdicts(
        &self,
        contract: &ContractName,
        versions: &[VersionRecord],
        new: &Schema,
        policy: Policy,
    ) -> Result<Verdicts, RegistryError> {
        let deployed = self.store.deployed(contract).await?;
        self.verdicts_of(deployed, versions, new, policy).await
    }

    /// [`Self::consumers_verdicts`] of readers already read
    /// ([`crate::store::ConsumerStore::deployed`]): a registration reads them while
    /// it parses the schema, so the round trip is off its path.
    pub(super) async fn verdicts_of(
        &self,
        (protection, readers): (Option<Protection>, Vec<DeployedReader>),
        versions: &[VersionRecord],
        new: &Schema,
        policy: Policy,
    ) -> Result<Verdicts, RegistryError> {
        let protection = protection.unwrap_or_default();
        if readers.is_empty() || protection == Protection::Off {
            return Ok(Verdicts {
                protection,
                ..Verdicts::default()
            });
        }
        let mut source = Source::Store(self.store.as_ref());
        // The deployed versions, each parsed once.
        let mut olds: HashMap<Version, Option<Schema>> = HashMap::new();
        for r in &readers {
            if let Some(v) = &r.resolved
                && !olds.contains_key(v)
            {
                let schema = match versions.iter().find(|x| &x.version == v) {
                    Some(record) => Some(self.parsed_schema(&mut source, record.schema_id).await?),
                    None => None,
                };
                olds.insert(v.clone(), schema);
            }
        }
        let new = new.clone();
        let ranges = readers.iter().map(|r| r.range.clone()).collect();
        let rows = self
            .checks
            .run(move || impacts(&readers, &olds, &new, policy))
            .await?;
        Ok(Verdicts {
            protection,
            rows,
            ranges,
        })
    }

    /// A contract's consumer protection (`warn` when never set).
    pub async fn consumer_protection(
        &self,
        contract: &ContractName,
    ) -> Result<Protection, RegistryError> {
        Ok(self.store.protection(contract).await?.unwrap_or_default())
    }

    /// Sets a contract's consumer protection.
    pub async fn set_consumer_protection(
        &self,
        contract: &ContractName,
        protection: Protection,
        caller: &Caller,
    ) -> Result<(), RegistryError> {
        let audit = AuditEntry::new(caller, AuditAction::SetConsumerProtection)
            .contract(contract)
            .detail(serde_json::json!({ "consumer_protection": protection }));
        Ok(self
            .store
            .set_protection(contract, Some(protection), &audit)
            .await?)
    }

    /// A contract's deprecated lines.
    pub async fn deprecations(
        &self,
        contract: &ContractName,
    ) -> Result<Vec<LineDeprecation>, RegistryError> {
        Ok(self.store.deprecations(contract).await?)
    }

    /// Announces a major line's retirement. The contract must have a version in the
    /// line, and the successor (when given) must be another line it has.
    pub async fn deprecate_line(
        &self,
        contract: &ContractName,
        major: u64,
        sunset: NaiveDate,
        reason: String,
        successor: Option<u64>,
        caller: &Caller,
    ) -> Result<LineDeprecation, RegistryError> {
        let (history, _) = self.existing(contract).await?;
        if !history.versions.iter().any(|v| v.version.major == major) {
            return Err(RegistryError::VersionNotFound {
                name: contract.to_string(),
                selector: format!("^{major}"),
            });
        }
        if let Some(s) = successor {
            if s == major {
                return Err(
                    ConsumerError::Invalid(format!("line {major} cannot succeed itself")).into(),
                );
            }
            if !history
                .versions
                .iter()
                .any(|v| !v.deleted && v.version.major == s)
            {
                return Err(ConsumerError::Invalid(format!(
                    "successor line {s} has no live version of {:?}",
                    contract.as_str()
                ))
                .into());
            }
        }
        let deprecation = LineDeprecation {
            contract: contract.clone(),
            major,
            sunset,
            reason,
            successor,
            deprecated_at: Utc::now(),
        };
        let audit = AuditEntry::new(caller, AuditAction::DeprecateLine)
            .contract(contract)
            .detail(serde_json::json!({
                "major": major,
                "sunset": sunset,
                "successor": successor,
            }));
        let stored = self.store.deprecate_line(&deprecation, &audit).await;
        self.deprecated.invalidate(contract.as_str());
        Ok(stored?)
    }

    /// The deployed readers of `contract` whose resolved version `hit` selects.
    async fn readers_on(
        &self,
        contract: &ContractName,
        hit: impl Fn(&Version) -> bool,
    ) -> Result<Vec<MatrixRow>, RegistryError> {
        Ok(self
            .consumers_matrix(contract)
            .await?
            .rows
            .into_iter()
            .filter(|r| r.environment.is_some())
            .filter(|r| {
                r.resolved_version
                    .as_deref()
                    .and_then(|v| Version::parse(v).ok())
                    .is_some_and(|v| hit(&v))
            })
            .collect())
    }

    /// Soft-deletes every live version of a major line. Refused while a deployed
    /// consumer resolves to a version of it, unless `force` (the audit row says so).
    pub async fn retire_line(
        &self,
        contract: &ContractName,
        major: u64,
        force: bool,
        caller: &Caller,
    ) -> Result<Vec<VersionRecord>, RegistryError> {
        let (history, record) = self.existing(contract).await?;
        self.refuse_if_read_only(contract, Some(&record)).await?;
        if !history
            .versions
            .iter()
            .any(|v| !v.deleted && v.version.major == major)
        {
            return Err(RegistryError::VersionNotFound {
                name: contract.to_string(),
                selector: format!("^{major}"),
            });
        }
        let readers = self.readers_on(contract, |v| v.major == major).await?;
        if !readers.is_empty() && !force {
            return Err(ConsumerError::StillRead {
                what: format!("line {major} of {:?} cannot be retired", contract.as_str()),
                consumers: readers,
            }
            .into());
        }
        let audit = AuditEntry::new(caller, AuditAction::RetireLine)
            .contract(contract)
            .detail(serde_json::json!({
                "major": major,
                "forced": force && !readers.is_empty(),
                "consumers": readers.iter().map(|r| r.consumer.as_str()).collect::<Vec<_>>(),
            }));
        let retired = self.store.retire_line(contract, major, &audit).await;
        self.recent.invalidate(contract.as_str());
        Ok(retired?)
    }

    /// Refuses a permanent delete of `version` while a deployed consumer resolves to
    /// it, unless `force`; the consumers it forces past, for the audit log.
    pub(super) async fn refuse_if_deployed(
        &self,
        contract: &ContractName,
        version: &Version,
        force: bool,
    ) -> Result<Vec<MatrixRow>, RegistryError> {
        let readers = self.readers_on(contract, |v| v == version).await?;
        if !readers.is_empty() && !force {
            return Err(ConsumerError::StillRead {
                what: format!(
                    "version {version} of {:?} cannot be deleted permanently",
                    contract.as_str()
                ),
                consumers: readers,
            }
            .into());
        }
        Ok(readers)
    }

    /// Consumer-side can-i-deploy: every read (of `app_version`'s declaration, or
    /// `reads` when given) resolves to a live version now, and that version has every
    /// declared field.
    pub async fn can_i_deploy(
        &self,
        consumer: &ConsumerName,
        environment: &EnvironmentName,
        app_version: Option<&AppVersion>,
        reads: Option<Vec<Read>>,
    ) -> Result<CanIDeploy, RegistryError> {
        let reads = match (reads, app_version) {
            (Some(reads), _) => reads,
            (None, Some(v)) => {
                self.store
                    .declaration(consumer, v)
                    .await?
                    .ok_or_else(|| ConsumerError::NotDeclared {
                        consumer: consumer.to_string(),
                        app_version: v.to_string(),
                    })?
                    .reads
            }
            (None, None) => {
                return Err(ConsumerError::Invalid(
                    "give app_version (a declared application version) or reads".to_owned(),
                )
                .into());
            }
        };
        if reads.len() > MAX_READS {
            return Err(ConsumerError::Invalid(format!(
                "at most {MAX_READS} reads, not {}",
                reads.len()
            ))
            .into());
        }
        if self.store.environment(environment).await?.is_none() {
            return Err(ConsumerError::EnvironmentNotFound(environment.to_string()).into());
        }
        let mut source = Source::Store(self.store.as_ref());
        let mut checks = Vec::with_capacity(reads.len());
        for r in reads {
            let versions = self.store.versions(&r.contract).await?;
            let mut problems = Vec::new();
            let found = resolve(&versions, &r.range);
            match found {
                None if versions.is_empty() => problems.push(format!(
                    "contract {:?} is not registered",
                    r.contract.as_str()
                )),
                None => problems.push(format!(
                    "no live version of {:?} matches {} (retired or never registered)",
                    r.contract.as_str(),
                    r.range
                )),
                Some(v) => {
                    if !r.fields.is_empty() {
                        let schema = self.parsed_schema(&mut source, v.schema_id).await?;
                        for f in missing(&schema, &r.fields) {
                            problems.push(format!("{} has no field {f}", v.version));
                        }
                    }
                }
            }
            checks.push(ReadCheck {
                contract: r.contract,
                range: r.range.to_string(),
                resolved_version: found.map(|v| v.version.to_string()),
                problems,
            });
        }
        Ok(CanIDeploy {
            ok: checks.iter().all(|c| c.problems.is_empty()),
            consumer: consumer.clone(),
            environment: environment.clone(),
            reads: checks,
        })
    }
}

/// The declared fields `schema` does not have.
fn missing<'f>(schema: &Schema, fields: &'f [FieldPath]) -> Vec<&'f FieldPath> {
    let lookup = crate::compat::Fields::of(schema);
    fields.iter().filter(|f| !lookup.has(f)).collect()
}

/// The verdict of each reader, one engine walk per deployed version.
fn impacts(
    readers: &[DeployedReader],
    olds: &HashMap<Version, Option<Schema>>,
    new: &Schema,
    policy: Policy,
) -> Vec<ConsumerImpact> {
    let mut walks: HashMap<&Version, Result<ReaderCheck<'_>, String>> = HashMap::new();
    for (v, old) in olds {
        let walk = match old {
            Some(old) => ReaderCheck::new(old, new, policy).map_err(|e| e.to_string()),
            None => Err(format!("deployed version {v} is no longer stored")),
        };
        walks.insert(v, walk);
    }
    // Each walk's verdicts for all of its readers at once, so the witnesses of the
    // changes shown are found once.
    let mut verdicts: HashMap<&Version, std::vec::IntoIter<ReaderVerdict>> = HashMap::new();
    for (v, walk) in &walks {
        if let Ok(walk) = walk {
            let fields: Vec<&[FieldPath]> = readers
                .iter()
                .filter(|r| r.resolved.as_ref() == Some(*v))
                .map(|r| r.fields.as_slice())
                .collect();
            verdicts.insert(*v, walk.verdicts(&fields, MAX_ROW_CHANGES).into_iter());
        }
    }
    readers
        .iter()
        .map(|r| {
            let mut row = ConsumerImpact {
                consumer: r.consumer.clone(),
                environment: r.environment.clone(),
                protected: r.protected,
                app_version: r.app_version.clone(),
                range: r.range.to_string(),
                fields: r.fields.clone(),
                deployed_version: r.resolved.as_ref().map(Version::to_string),
                receives: false,
                breaks: false,
                changes: Vec::new(),
                changes_total: 0,
                missing_fields: Vec::new(),
                error: None,
            };
            match r
                .resolved
                .as_ref()
                .and_then(|v| walks.get(v).map(|w| (v, w)))
            {
                None => {}
                Some((_, Err(e))) => {
                    row.breaks = true;
                    row.error = Some(e.clone());
                }
                Some((v, Ok(_))) => {
                    let verdict = verdicts
                        .get_mut(v)
                        .and_then(Iterator::next)
                        .expect("a verdict for each reader of the walk, in order");
                    row.breaks = verdict.breaks();
                    row.changes_total = verdict.changes_total;
                    row.changes = verdict.changes;
                    row.missing_fields = verdict.missing_fields;
                }
            }
            row
        })
        .collect()
}

/// How long a contract's deprecated lines are served from memory without a reread.
pub(crate) const DEPRECATIONS_FRESH: std::time::Duration = std::time::Duration::from_secs(2);
/// The oldest they may be when served (a deprecation shows on fetches within this).
pub(crate) const DEPRECATIONS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(5);
/// How often one (consumer, contract, version) fetch is written at most.
const FETCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// The most fetches waiting to be written; more are dropped (and counted in the log).
const FETCH_QUEUE: usize = 1024;
/// The most (consumer, contract, version) keys remembered for [`FETCH_INTERVAL`].
const FETCH_KEYS: usize = 10_000;

type FetchKey = (ConsumerName, ContractName, Version);

/// Fetches announced with the `Accord-Consumer` header, written by a background task
/// so a fetch never waits for the database: each key at most once per
/// [`FETCH_INTERVAL`] in this process, through a bounded queue (a full queue drops the
/// note, never the fetch). Names that are not declared consumers are not written
/// (the store ignores them), so the table stays as bounded as the consumers are.
pub(crate) struct FetchLog {
    store: std::sync::Arc<dyn crate::store::Store>,
    seen: std::sync::Mutex<HashMap<FetchKey, std::time::Instant>>,
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<(FetchKey, chrono::DateTime<Utc>)>>,
}

impl FetchLog {
    pub(crate) fn new(store: std::sync::Arc<dyn crate::store::Store>) -> Self {
        Self {
            store,
            seen: std::sync::Mutex::default(),
            queue: std::sync::OnceLock::new(),
        }
    }

    /// Notes a fetch (from within the runtime); returns at once.
    fn note(&self, key: FetchKey) {
        let now = std::time::Instant::now();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen
                .get(&key)
                .is_some_and(|at| now.duration_since(*at) < FETCH_INTERVAL)
            {
                return;
            }
            if seen.len() >= FETCH_KEYS {
                seen.retain(|_, at| now.duration_since(*at) < FETCH_INTERVAL);
                if seen.len() >= FETCH_KEYS {
                    // Names a client made up by the thousand: start over rather than grow.
                    seen.clear();
                }
            }
            seen.insert(key.clone(), now);
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(FETCH_QUEUE);
            tokio::spawn(write_fetches(std::sync::Arc::clone(&self.store), rx));
            tx
        });
        if queue.try_send((key, Utc::now())).is_err() {
            tracing::debug!("fetch notes queue full; a fetch was not recorded");
        }
    }
}

/// Writes queued fetch notes until the registry is dropped.
async fn write_fetches(
    store: std::sync::Arc<dyn crate::store::Store>,
    mut rx: tokio::sync::mpsc::Receiver<(FetchKey, chrono::DateTime<Utc>)>,
) {
    while let Some(((consumer, contract, version), at)) = rx.recv().await {
        if let Err(e) = store.record_fetch(&consumer, &contract, &version, at).await {
            tracing::warn!(error = %e, consumer.name = %consumer, "recording a fetch failed");
        }
    }
}

impl Registry {
    /// Notes that `consumer` fetched `version` of `contract` (written in the
    /// background, at most once a minute per key).
    pub fn note_fetch(&self, consumer: ConsumerName, contract: ContractName, version: Version) {
        self.fetch_log.note((consumer, contract, version));
    }

    /// The deprecation of the line `version` of `contract` belongs to, if any (read at
    /// most a few seconds ago).
    pub async fn line_deprecation(
        &self,
        contract: &ContractName,
        version: &Version,
    ) -> Result<Option<LineDeprecation>, RegistryError> {
        let ticket = self.deprecated.ticket();
        let lines = match self.deprecated.get(contract.as_str()) {
            Some(lines) => lines,
            None => {
                let lines = std::sync::Arc::new(self.store.deprecations(contract).await?);
                let weight = (lines.len() as u64 + 1) * super::cache::VERSION_WEIGHT;
                self.deprecated.insert(
                    contract.as_str(),
                    std::sync::Arc::clone(&lines),
                    weight,
                    ticket,
                );
                lines
            }
        };
        Ok(lines.iter().find(|d| d.major == version.major).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn impact(consumer: &str, protected: bool, receives: bool, breaks: bool) -> ConsumerImpact {
        ConsumerImpact {
            consumer: ConsumerName::parse(consumer).unwrap(),
            environment: EnvironmentName::parse("prod").unwrap(),
            protected,
            app_version: AppVersion::parse("sha").unwrap(),
            range: "^1".to_owned(),
            fields: Vec::new(),
            deployed_version: Some("1.0.0".to_owned()),
            receives,
            breaks,
            changes: Vec::new(),
            changes_total: 0,
            missing_fields: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_section_lists_blocking_rows_first_and_at_most_a_hundred_with_the_totals() {
        let mut rows: Vec<ConsumerImpact> = (0..150)
            .map(|i| impact(&format!("c{i:03}"), false, true, false))
            .collect();
        rows.push(impact("z.broken", false, true, true));
        rows.push(impact("z.blocked", true, true, true));
        rows.push(impact("z.pinned", true, false, true));
        let section = ConsumersSection::of(Protection::Block, rows);
        assert_eq!(section.consumers.len(), MAX_SECTION_ROWS);
        assert_eq!(
            (
                section.consumers_total,
                section.breaking_total,
                section.truncated
            ),
            (153, 3, true)
        );
        let first: Vec<&str> = section.consumers[..3]
            .iter()
            .map(|r| r.consumer.as_str())
            .collect();
        assert_eq!(first, ["z.blocked", "z.broken", "z.pinned"]);
        // A protected reader that would not receive the version does not block it.
        let blocking: Vec<String> = section
            .blocking()
            .iter()
            .map(|r| r.consumer.to_string())
            .collect();
        assert_eq!(blocking, ["z.blocked"]);
        let warned = ConsumersSection::of(Protection::Warn, section.consumers.clone());
        assert!(warned.blocking().is_empty());
    }

    #[test]
    fn a_range_resolves_to_its_newest_live_version() {
        let record = |v: &str, deleted: bool| VersionRecord {
            contract: ContractName::parse("orders.placed").unwrap(),
            version: Version::parse(v).unwrap(),
            seq: 1,
            schema_id: 1,
            fingerprint: String::new(),
            created_at: Utc::now(),
            deleted,
        };
        let versions = [
            record("1.0.0", false),
            record("1.2.0", true),
            record("1.1.0", false),
            record("2.0.0", false),
        ];
        let hit = |r: &str| {
            resolve(&versions, &VersionReq::parse(r).unwrap()).map(|v| v.version.to_string())
        };
        assert_eq!(hit("^1").as_deref(), Some("1.1.0"));
        assert_eq!(hit(">=1").as_deref(), Some("2.0.0"));
        assert_eq!(hit("^3"), None);
    }
}
