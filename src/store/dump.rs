//! The dump: every record of a registry as a sequence of [`Record`]s, read from one
//! consistent snapshot ([`Store::export`](super::Store::export)) and written back,
//! keeping every id, seq and deleted flag ([`Store::begin_import`](super::Store::begin_import)).
//!
//! The records are the registry's own rows, not its API views: schema documents byte
//! for byte with their global ids and fingerprints, contracts with their configuration
//! overrides and the counters that keep seqs and versions from being reused
//! (`next_seq`, `highest_version`), versions with their seq and soft-deleted state.
//! Tokens and audit rows are not part of a dump (they are credentials and history of
//! one deployment, not of the registry's content).
//!
//! Dump order is the order an import needs: the global configuration, then schemas by
//! id (a version points at its schema), contracts by name (in byte order on both
//! backends, so two dumps of equal registries are equal line by line), versions by
//! contract and seq.
//!
//! The import logic lives here once, over the few reads and writes each backend
//! provides ([`ImportTarget`]): an import refuses a non-empty database unless it
//! merges, and a merge skips records equal to the stored ones and stops at the first
//! that differs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use semver::Version;
use serde::{Deserialize, Serialize};

use super::{GlobalConfig, StoreError};
use crate::domain::{Mode, Policy, WriteMode};

/// The version of the dump format a header line carries. Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;

/// One line of a dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The first line: what wrote the dump, in which format.
    Header(Header),
    /// The registry-wide defaults.
    Global(GlobalDump),
    /// One schema document.
    Schema(SchemaDump),
    /// One contract's metadata and configuration.
    Contract(ContractDump),
    /// One version (soft-deleted ones included).
    Version(VersionDump),
    /// The last line: how many records came before it (header excluded), so a cut
    /// file is told from a complete one.
    End(End),
}

/// The first line of a dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// The program that wrote it, e.g. `accord 0.1.0`.
    pub generator: String,
    /// When the snapshot was read.
    pub exported_at: DateTime<Utc>,
}

/// The last line of a dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    /// How many records lie between the header and this line.
    pub records: u64,
}

/// The registry-wide defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalDump {
    /// The default compatibility mode.
    pub mode: Mode,
    /// The default policy.
    pub policy: Policy,
    /// The registry-wide write mode.
    pub write_mode: WriteMode,
}

impl From<GlobalConfig> for GlobalDump {
    fn from(g: GlobalConfig) -> Self {
        Self {
            mode: g.mode,
            policy: g.policy,
            write_mode: g.write_mode,
        }
    }
}

impl From<GlobalDump> for GlobalConfig {
    fn from(g: GlobalDump) -> Self {
        Self {
            mode: g.mode,
            policy: g.policy,
            write_mode: g.write_mode,
        }
    }
}

/// A schema document with its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDump {
    /// The global id.
    pub id: i64,
    /// sha256 of the canonical form (with references, of the form and the references).
    pub fingerprint: String,
    /// The document as first submitted, byte for byte.
    pub original: String,
    /// The versions its `$ref`s name, in submitted order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ReferenceDump>,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
}

/// A schema's reference to a registered version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceDump {
    /// The name the referring schema's `$ref` uses.
    pub name: String,
    /// The contract referred to.
    pub subject: String,
    /// The seq of the version referred to.
    pub version: i64,
}

/// A contract's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractDump {
    /// The name.
    pub name: String,
    /// Who owns it.
    pub owner: Option<String>,
    /// What it carries.
    pub description: Option<String>,
    /// Labels.
    pub tags: Vec<String>,
    /// Mode override.
    pub mode: Option<Mode>,
    /// Policy override.
    pub policy: Option<Policy>,
    /// Write-mode override.
    pub write_mode: Option<WriteMode>,
    /// The seq the next version gets (never reused, even after a permanent delete).
    pub next_seq: i64,
    /// The highest version ever registered (never reused either).
    pub highest_version: Option<Version>,
    /// When it was first written.
    pub created_at: DateTime<Utc>,
    /// When its metadata or configuration last changed.
    pub updated_at: DateTime<Utc>,
}

impl ContractDump {
    /// Whether two rows say the same about the contract (the counters and the
    /// timestamps are not compared: a merge raises the counters, and the times only
    /// tell when each side wrote).
    fn same_as(&self, other: &ContractDump) -> bool {
        (
            &self.owner,
            &self.description,
            &self.tags,
            self.mode,
            self.policy,
            self.write_mode,
        ) == (
            &other.owner,
            &other.description,
            &other.tags,
            other.mode,
            other.policy,
            other.write_mode,
        )
    }
}

/// A version's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionDump {
    /// The contract.
    pub contract: String,
    /// Registration order within the contract.
    pub seq: i64,
    /// The semantic version.
    pub version: Version,
    /// The schema's global id.
    pub schema_id: i64,
    /// The schema's fingerprint (checked against the schema on import).
    pub fingerprint: String,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Whether it is soft-deleted.
    pub deleted: bool,
    /// When it was soft-deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What an import did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// The record was written.
    Inserted,
    /// An equal record was already stored (merge only).
    Skipped,
}

/// An import in progress: one transaction holding the registry's write locks.
/// Dropping it without [`commit`](Import::commit) writes nothing.
#[async_trait]
pub trait Import: Send {
    /// Writes one record (not a header or end line), or skips it when merging and an
    /// equal one is stored; a record that differs from the stored one is
    /// [`StoreError::ImportConflict`].
    async fn put(&mut self, record: &Record) -> Result<Imported, StoreError>;

    /// Commits everything put so far; returns when it is durable.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// The reads and writes an import needs from a backend, inside its transaction.
#[async_trait]
pub(super) trait ImportTarget: Send {
    /// Whether the database holds no schema and no contract.
    async fn is_empty(&mut self) -> Result<bool, StoreError>;
    async fn global(&mut self) -> Result<GlobalConfig, StoreError>;
    async fn set_global(&mut self, global: GlobalConfig) -> Result<(), StoreError>;
    async fn schema(&mut self, id: i64) -> Result<Option<SchemaDump>, StoreError>;
    async fn schema_id_of(&mut self, fingerprint: &str) -> Result<Option<i64>, StoreError>;
    async fn insert_schema(&mut self, schema: &SchemaDump) -> Result<(), StoreError>;
    async fn contract(&mut self, name: &str) -> Result<Option<ContractDump>, StoreError>;
    async fn insert_contract(&mut self, contract: &ContractDump) -> Result<(), StoreError>;
    /// Raises a contract's `next_seq` and `highest_version` to at least these, and
    /// bumps its revision (its version list changed).
    async fn raise_contract(
        &mut self,
        name: &str,
        next_seq: i64,
        highest: Option<&Version>,
    ) -> Result<(), StoreError>;
    async fn version(
        &mut self,
        contract: &str,
        seq: i64,
    ) -> Result<Option<VersionDump>, StoreError>;
    async fn seq_of(
        &mut self,
        contract: &str,
        version: &Version,
    ) -> Result<Option<i64>, StoreError>;
    async fn insert_version(&mut self, version: &VersionDump) -> Result<(), StoreError>;
    /// Moves id sequences past the imported ids and commits.
    async fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// The one import logic over a backend's [`ImportTarget`].
pub(super) struct Importer {
    target: Box<dyn ImportTarget>,
    merge: bool,
}

impl Importer {
    /// Starts an import on `target`; without `merge`, only into an empty database.
    pub(super) async fn start(
        mut target: Box<dyn ImportTarget>,
        merge: bool,
    ) -> Result<Self, StoreError> {
        if !merge && !target.is_empty().await? {
            return Err(StoreError::NotEmpty);
        }
        Ok(Self { target, merge })
    }
}

fn conflict(what: String) -> StoreError {
    StoreError::ImportConflict(what)
}

#[async_trait]
impl Import for Importer {
    async fn put(&mut self, record: &Record) -> Result<Imported, StoreError> {
        let t = &mut self.target;
        match record {
            Record::Header(_) | Record::End(_) => Err(StoreError::Corrupt(
                "a header or end line in the middle of a dump".to_owned(),
            )),
            Record::Global(g) => {
                let wanted = GlobalConfig::from(*g);
                if self.merge {
                    let stored = t.global().await?;
                    if stored == wanted {
                        return Ok(Imported::Skipped);
                    }
                    return Err(conflict(format!(
                        "the global configuration differs: stored mode {}, policy {}, write mode {}; \
                         the dump has mode {}, policy {}, write mode {}",
                        stored.mode,
                        stored.policy,
                        stored.write_mode,
                        wanted.mode,
                        wanted.policy,
                        wanted.write_mode
                    )));
                }
                t.set_global(wanted).await?;
                Ok(Imported::Inserted)
            }
            Record::Schema(s) => {
                if let Some(stored) = t.schema(s.id).await? {
                    if (&stored.fingerprint, &stored.original, &stored.references)
                        == (&s.fingerprint, &s.original, &s.references)
                    {
                        return Ok(Imported::Skipped);
                    }
                    return Err(conflict(format!(
                        "schema id {} already holds a different schema (fingerprint {}, the dump's is {})",
                        s.id, stored.fingerprint, s.fingerprint
                    )));
                }
                if let Some(other) = t.schema_id_of(&s.fingerprint).await? {
                    return Err(conflict(format!(
                        "schema {} of the dump is already stored with id {other}",
                        s.id
                    )));
                }
                t.insert_schema(s).await?;
                Ok(Imported::Inserted)
            }
            Record::Contract(c) => {
                super::parse_name(&c.name)?;
                if let Some(stored) = t.contract(&c.name).await? {
                    if stored.same_as(c) {
                        t.raise_contract(&c.name, c.next_seq, c.highest_version.as_ref())
                            .await?;
                        return Ok(Imported::Skipped);
                    }
                    return Err(conflict(format!(
                        "contract {:?} is stored with other metadata or configuration",
                        c.name
                    )));
                }
                t.insert_contract(c).await?;
                Ok(Imported::Inserted)
            }
            Record::Version(v) => {
                if let Some(stored) = t.version(&v.contract, v.seq).await? {
                    if (&stored.version, stored.schema_id, stored.deleted)
                        == (&v.version, v.schema_id, v.deleted)
                    {
                        return Ok(Imported::Skipped);
                    }
                    return Err(conflict(format!(
                        "version seq {} of {:?} is stored as {} (schema {}{}); the dump has {} (schema {}{})",
                        v.seq,
                        v.contract,
                        stored.version,
                        stored.schema_id,
                        if stored.deleted { ", deleted" } else { "" },
                        v.version,
                        v.schema_id,
                        if v.deleted { ", deleted" } else { "" },
                    )));
                }
                if let Some(seq) = t.seq_of(&v.contract, &v.version).await? {
                    return Err(conflict(format!(
                        "version {} of {:?} is stored with seq {seq}; the dump has seq {}",
                        v.version, v.contract, v.seq
                    )));
                }
                if t.contract(&v.contract).await?.is_none() {
                    return Err(StoreError::Corrupt(format!(
                        "version seq {} of {:?} comes before its contract",
                        v.seq, v.contract
                    )));
                }
                match t.schema(v.schema_id).await? {
                    Some(s) if s.fingerprint == v.fingerprint => {}
                    Some(s) => {
                        return Err(StoreError::Corrupt(format!(
                            "version seq {} of {:?} names schema {} with fingerprint {}, but that schema's is {}",
                            v.seq, v.contract, v.schema_id, v.fingerprint, s.fingerprint
                        )));
                    }
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "version seq {} of {:?} names schema {}, which the dump does not hold before it",
                            v.seq, v.contract, v.schema_id
                        )));
                    }
                }
                t.insert_version(v).await?;
                t.raise_contract(&v.contract, v.seq + 1, Some(&v.version))
                    .await?;
                Ok(Imported::Inserted)
            }
        }
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.target.finish().await
    }
}

/// The higher of a stored highest version and a new one.
pub(super) fn highest(stored: Option<Version>, new: Option<&Version>) -> Option<Version> {
    match (stored, new) {
        (Some(s), Some(n)) if *n > s => Some(n.clone()),
        (Some(s), _) => Some(s),
        (None, n) => n.cloned(),
    }
}

/// Where a backend's export task sends its records; `send` fails once the reader has
/// gone, which ends the export (and rolls back its read transaction).
pub(super) struct Out(tokio::sync::mpsc::Sender<Result<Record, StoreError>>);

impl Out {
    /// Sends one record; `Err` when nobody reads any more.
    pub(super) async fn send(&self, record: Record) -> Result<(), Gone> {
        self.0.send(Ok(record)).await.map_err(|_| Gone)
    }
}

/// The reader of an export went away.
pub(super) struct Gone;

/// Why a backend's export stopped early: the reader left, or the database failed.
pub(super) enum Stop {
    Gone,
    Store(StoreError),
}

impl From<Gone> for Stop {
    fn from(_: Gone) -> Self {
        Stop::Gone
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        Stop::Store(e.into())
    }
}

/// Runs a backend's export task and streams what it sends. Records travel through a
/// small bounded channel, so a slow reader slows the database reads instead of
/// growing a buffer: memory stays constant whatever the registry's size.
pub(super) fn stream<F>(
    task: impl FnOnce(Out) -> F,
) -> BoxStream<'static, Result<Record, StoreError>>
where
    F: Future<Output = Result<(), StoreError>> + Send + 'static,
{
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let errors = tx.clone();
    let work = task(Out(tx));
    tokio::spawn(async move {
        if let Err(e) = work.await {
            let _ = errors.send(Err(e)).await;
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) })
        .boxed()
}

/// A whole dump: a header line, the store's records, and an end line counting them.
/// The end line is left out when the store fails, so a reader sees a cut dump.
pub fn document(
    records: BoxStream<'static, Result<Record, StoreError>>,
) -> BoxStream<'static, Result<Record, StoreError>> {
    use futures_util::StreamExt;
    let header = Record::Header(Header {
        format: FORMAT_VERSION,
        generator: concat!("accord ", env!("CARGO_PKG_VERSION")).to_owned(),
        exported_at: Utc::now(),
    });
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (count, fail) = (counted.clone(), failed.clone());
    let body = records.inspect(move |r| match r {
        Ok(_) => {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Err(_) => fail.store(true, std::sync::atomic::Ordering::Relaxed),
    });
    let end = futures_util::stream::once(async move {
        (!failed.load(std::sync::atomic::Ordering::Relaxed)).then(|| {
            Ok(Record::End(End {
                records: counted.load(std::sync::atomic::Ordering::Relaxed),
            }))
        })
    })
    .filter_map(std::future::ready);
    futures_util::stream::once(std::future::ready(Ok(header)))
        .chain(body)
        .chain(end)
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_one_json_object_each_tagged_by_kind_and_read_back_equal() {
        let record = Record::Version(VersionDump {
            contract: "orders.order_placed".into(),
            seq: 3,
            version: Version::new(1, 2, 0),
            schema_id: 7,
            fingerprint: "ab".into(),
            created_at: "2026-01-02T03:04:05.123456Z".parse().unwrap(),
            deleted: true,
            deleted_at: Some("2026-01-03T00:00:00Z".parse().unwrap()),
        });
        let line = serde_json::to_string(&record).unwrap();
        assert!(line.starts_with(r#"{"kind":"version","#), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
    }

    #[test]
    fn an_unknown_field_in_a_record_is_refused() {
        let line = r#"{"kind":"end","records":3,"extra":1}"#;
        assert!(serde_json::from_str::<Record>(line).is_err());
    }

    #[test]
    fn the_highest_version_only_rises() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            highest(Some(v("1.2.0")), Some(&v("1.1.0"))),
            Some(v("1.2.0"))
        );
        assert_eq!(
            highest(Some(v("1.2.0")), Some(&v("2.0.0"))),
            Some(v("2.0.0"))
        );
        assert_eq!(highest(None, Some(&v("0.1.0"))), Some(v("0.1.0")));
        assert_eq!(highest(None, None), None);
    }
}
