//! The SQLite store.
//!
//! Durability: the database runs in WAL mode with `synchronous=FULL`, so a commit
//! returns only after the WAL has been fsynced; a version acknowledged to a client
//! survives `kill -9` and power loss. (`NORMAL`, SQLite's usual WAL pairing, may lose
//! the last commits on power loss; the registry acknowledges writes, so it pays the
//! fsync.) WAL also lets readers run while a registration holds the write lock.
//!
//! Writers are serialised twice: an in-process async mutex (so fifty concurrent
//! registrations queue fairly instead of spinning in SQLite's busy handler) and
//! `BEGIN IMMEDIATE` (so a second process on the same file waits on the database's
//! own write lock, within `busy_timeout`). The mutex is taken before a pooled
//! connection, so waiting writers never hold connections the lock holder might need.
//!
//! Nothing is pushed between processes ([`Store::watch`] keeps its default): one
//! process per database file is the documented deployment, so every change is this
//! process's own and invalidates its caches at once. A second process on the same file
//! still sees another's registrations within the version lists' age bound
//! (`registry/cache.rs`).
//!
//! What the store knows of consumers is in `sqlite/consumers.rs`.

mod consumers;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use semver::Version;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::dump;
use super::memo::{ReadersMemo, VersionMemo};
use super::{
    AuditEntry, AuditQuery, AuditRecord, ContractDeleteOutcome, ContractRecord, ContractRow,
    ContractSummary, Counts, DeleteOutcome, GlobalConfig, History, Listing, MetadataPatch,
    NewToken, NewVersion, PoolState, Readiness, Registration, SchemaRecord, SchemaReference, Store,
    StoreError, TokenRecord, VersionRecord, higher, now, parse_audit_action, parse_audit_outcome,
    parse_detail, parse_mode, parse_name, parse_policy, parse_role, parse_scopes, parse_tags,
    parse_token_id, parse_token_name, parse_version, parse_write_mode, scopes_text, tags_text,
};
use crate::domain::{AuditAction, ContractName, Mode, Policy, TokenId, WriteMode};
use crate::limits::Limits;

pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "registry",
        include_str!("../../migrations/sqlite/0001_registry.sql"),
    ),
    (
        2,
        "confluent",
        include_str!("../../migrations/sqlite/0002_confluent.sql"),
    ),
    (
        3,
        "revision",
        include_str!("../../migrations/sqlite/0003_revision.sql"),
    ),
    (
        4,
        "auth",
        include_str!("../../migrations/sqlite/0004_auth.sql"),
    ),
    (
        6,
        "notify",
        include_str!("../../migrations/sqlite/0006_notify.sql"),
    ),
    (
        7,
        "consumers",
        include_str!("../../migrations/sqlite/0007_consumers.sql"),
    ),
    (
        8,
        "consumer_revision",
        include_str!("../../migrations/sqlite/0008_consumer_revision.sql"),
    ),
];

const CONTRACT_COLUMNS: &str =
    "name, owner, description, tags, mode, policy, write_mode, created_at, updated_at";
const VERSION_SELECT: &str = "SELECT v.contract, v.seq, v.version, v.schema_id, s.fingerprint, v.created_at, v.deleted \
     FROM versions v JOIN schemas s ON s.id = v.schema_id";

/// A registry store on one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
    write: Arc<Mutex<()>>,
    memo: Arc<VersionMemo>,
    /// Deployed readers by contract, tagged with the consumer revision.
    readers: ReadersMemo,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str, limits: &Limits) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(*limits.db_acquire_timeout)
            .before_acquire(|conn, _| Box::pin(super::outside_transaction(conn)))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            write: Arc::new(Mutex::new(())),
            memo: Arc::default(),
            readers: ReadersMemo::default(),
        })
    }

    /// Takes the in-process write lock, then opens a `BEGIN IMMEDIATE` transaction.
    async fn write_tx(
        &self,
    ) -> Result<(OwnedMutexGuard<()>, Transaction<'static, Sqlite>), StoreError> {
        let guard = Arc::clone(&self.write).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((guard, tx))
    }
}

fn contract_from_row(row: &SqliteRow) -> Result<ContractRecord, StoreError> {
    Ok(ContractRecord {
        name: parse_name(row.try_get("name")?)?,
        owner: row.try_get("owner")?,
        description: row.try_get("description")?,
        tags: parse_tags(row.try_get("tags")?)?,
        mode: parse_mode(row.try_get("mode")?)?,
        policy: parse_policy(row.try_get("policy")?)?,
        write_mode: parse_write_mode(row.try_get("write_mode")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn version_from_row(row: &SqliteRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        contract: parse_name(row.try_get("contract")?)?,
        seq: row.try_get("seq")?,
        version: parse_version(row.try_get("version")?)?,
        schema_id: row.try_get("schema_id")?,
        fingerprint: row.try_get("fingerprint")?,
        created_at: row.try_get("created_at")?,
        deleted: row.try_get("deleted")?,
    })
}

async fn read_contract(
    conn: &mut SqliteConnection,
    name: &ContractName,
) -> Result<Option<ContractRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CONTRACT_COLUMNS}, highest_version, revision FROM contracts WHERE name = ?"
    ))
    .bind(name.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        let highest: Option<String> = row.try_get("highest_version")?;
        Ok(ContractRow {
            record: contract_from_row(&row)?,
            highest_version: highest.as_deref().map(parse_version).transpose()?,
            revision: row.try_get("revision")?,
        })
    })
    .transpose()
}

async fn read_versions(
    conn: &mut SqliteConnection,
    name: &ContractName,
) -> Result<Vec<VersionRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "{VERSION_SELECT} WHERE v.contract = ? ORDER BY v.seq"
    ))
    .bind(name.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(version_from_row).collect()
}

async fn read_version(
    conn: &mut SqliteConnection,
    name: &ContractName,
    version: &Version,
) -> Result<Option<VersionRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "{VERSION_SELECT} WHERE v.contract = ? AND v.version = ?"
    ))
    .bind(name.as_str())
    .bind(version.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(version_from_row).transpose()
}

pub(super) async fn read_global(conn: &mut SqliteConnection) -> Result<GlobalConfig, StoreError> {
    let row = sqlx::query("SELECT mode, policy, write_mode FROM global_config WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(GlobalConfig {
        mode: parse_mode(row.try_get("mode")?)?.unwrap_or_default(),
        policy: parse_policy(row.try_get("policy")?)?.unwrap_or_default(),
        write_mode: parse_write_mode(row.try_get("write_mode")?)?.unwrap_or_default(),
    })
}

/// A contract's history, with the revision it was read at. The revision is read
/// first: a version list read after it is the list at that revision or a newer one, so a
/// writer comparing revisions under the lock sees any change (at worst one that was
/// already in the list, which costs a needless re-check, never a missed one).
///
/// The version list comes from the memo when it holds the list at the revision just
/// read. Only a caller holding the contract's write lock (`locked`) remembers a list it
/// had to read: without the lock the list may be newer than the revision.
async fn read_history(
    conn: &mut SqliteConnection,
    name: &ContractName,
    memo: &VersionMemo,
    locked: bool,
) -> Result<History, StoreError> {
    let contract = read_contract(conn, name).await?;
    let revision = contract.as_ref().map_or(0, |c| c.revision);
    let versions = if locked {
        memo.get_or_read(name, revision, async || read_versions(conn, name).await)
            .await?
    } else {
        match memo.get(name, revision) {
            Some(versions) => versions,
            None => read_versions(conn, name).await?,
        }
    };
    let global = read_global(conn).await?;
    let (contract, highest_version) = match contract {
        Some(c) => (Some(c.record), c.highest_version),
        None => (None, None),
    };
    Ok(History {
        contract,
        versions,
        highest_version,
        global,
        revision,
    })
}

async fn read_schema(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<SchemaRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, fingerprint, original, \
         EXISTS (SELECT 1 FROM schema_references r WHERE r.schema_id = schemas.id) AS refers \
         FROM schemas WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(SchemaRecord {
            id: row.try_get("id")?,
            fingerprint: row.try_get("fingerprint")?,
            original: row.try_get("original")?,
            refers: row.try_get("refers")?,
        })
    })
    .transpose()
}

async fn read_references(
    conn: &mut SqliteConnection,
    schema_id: i64,
) -> Result<Vec<SchemaReference>, StoreError> {
    let rows = sqlx::query(
        "SELECT name, subject, version FROM schema_references WHERE schema_id = ? ORDER BY position",
    )
    .bind(schema_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SchemaReference {
                name: row.try_get("name")?,
                subject: parse_name(row.try_get("subject")?)?,
                version: row.try_get("version")?,
            })
        })
        .collect()
}

const TOKEN_COLUMNS: &str = "id, name, role, scopes, secret_hash, created_by, created_at, \
     expires_at, revoked_at, last_used_at";
const AUDIT_COLUMNS: &str = "id, at, principal_id, principal_name, action, contract, version, \
     outcome, detail, request_id, client_addr";

fn token_from_row(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: parse_token_id(row.try_get("id")?)?,
        name: parse_token_name(row.try_get("name")?)?,
        role: parse_role(row.try_get("role")?)?,
        scopes: parse_scopes(row.try_get("scopes")?)?,
        secret_hash: row.try_get("secret_hash")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn audit_from_row(row: &SqliteRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        principal_id: row.try_get("principal_id")?,
        principal: row.try_get("principal_name")?,
        action: parse_audit_action(row.try_get("action")?)?,
        contract: row.try_get("contract")?,
        version: row.try_get("version")?,
        outcome: parse_audit_outcome(row.try_get("outcome")?)?,
        detail: parse_detail(row.try_get("detail")?)?,
        request_id: row.try_get("request_id")?,
        client: row.try_get("client_addr")?,
    })
}

/// Appends one audit row on `conn` (inside the caller's transaction, if any).
async fn insert_audit(
    conn: &mut SqliteConnection,
    audit: &AuditEntry,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, principal_id, principal_name, action, contract, version, \
         outcome, detail, request_id, client_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(audit.principal_id())
    .bind(audit.principal_name())
    .bind(audit.action.as_str())
    .bind(audit.contract.as_ref().map(ContractName::as_str))
    .bind(audit.version.as_deref())
    .bind(audit.outcome.as_str())
    .bind(audit.detail_text())
    .bind(&audit.caller.request_id)
    .bind(audit.caller.client.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn read_token(
    conn: &mut SqliteConnection,
    id: &TokenId,
) -> Result<Option<TokenRecord>, StoreError> {
    let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(token_from_row).transpose()
}

/// Stores a new schema (with its references) or finds the stored one; returns its id.
async fn store_schema(
    conn: &mut SqliteConnection,
    new: &NewVersion,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, StoreError> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM schemas WHERE fingerprint = ?")
        .bind(&new.fingerprint)
        .fetch_optional(&mut *conn)
        .await?;
    match (existing, new.schema_id) {
        (Some(existing), Some(requested)) if existing != requested => {
            return Err(StoreError::IdMismatch {
                requested,
                existing,
            });
        }
        (Some(existing), _) => return Ok(existing),
        (None, _) => {}
    }
    if let Some(requested) = new.schema_id {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM schemas WHERE id = ?")
            .bind(requested)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_some() {
            return Err(StoreError::IdTaken(requested));
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO schemas (id, fingerprint, original, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(new.schema_id)
    .bind(&new.fingerprint)
    .bind(&new.original)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (position, r) in new.references.iter().enumerate() {
        sqlx::query(
            "INSERT INTO schema_references (schema_id, position, name, subject, version) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&r.name)
        .bind(r.subject.as_str())
        .bind(r.version)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        super::migrator(MIGRATIONS).await?.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn readiness(&self) -> Result<Readiness, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut *conn)
        .await?;
        if tables == 0 {
            return Ok(Readiness::NoSchema);
        }
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await?;
        Ok(Readiness::of(MIGRATIONS, &applied))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn global_config(&self) -> Result<GlobalConfig, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_global(&mut conn).await
    }

    async fn set_global_config(
        &self,
        config: GlobalConfig,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        sqlx::query("UPDATE global_config SET mode = ?, policy = ?, write_mode = ? WHERE id = 1")
            .bind(config.mode.as_str())
            .bind(config.policy.as_str())
            .bind(config.write_mode.as_str())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn history(&self, name: &ContractName) -> Result<History, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_history(&mut conn, name, &self.memo, false).await
    }

    async fn begin_registration(
        &self,
        name: &ContractName,
    ) -> Result<Box<dyn Registration>, StoreError> {
        let (guard, mut tx) = self.write_tx().await?;
        let history = read_history(&mut tx, name, &self.memo, true).await?;
        Ok(Box::new(SqliteRegistration {
            _guard: guard,
            tx,
            name: name.clone(),
            history,
            memo: Arc::clone(&self.memo),
        }))
    }

    async fn schema(&self, id: i64) -> Result<Option<SchemaRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_schema(&mut conn, id).await
    }

    async fn versions(&self, name: &ContractName) -> Result<Vec<VersionRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_versions(&mut conn, name).await
    }

    async fn contract(&self, name: &ContractName) -> Result<Option<ContractRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(read_contract(&mut conn, name).await?.map(|c| c.record))
    }

    async fn list_contracts(
        &self,
        prefix: &str,
        listing: Listing,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ContractSummary>, StoreError> {
        // The conditions of `Listing` and `History::is_removed`, in SQL.
        let rows = sqlx::query(&format!(
            "SELECT * FROM (SELECT {CONTRACT_COLUMNS}, highest_version, \
             (SELECT COUNT(*) FROM versions v WHERE v.contract = c.name AND v.deleted = 0) AS live, \
             (SELECT COUNT(*) FROM versions v WHERE v.contract = c.name) AS remaining \
             FROM contracts c WHERE substr(c.name, 1, length(?)) = ?) l \
             WHERE l.live > 0 \
             OR (l.remaining = 0 AND (l.highest_version IS NULL OR l.mode IS NOT NULL \
                 OR l.policy IS NOT NULL OR l.write_mode IS NOT NULL)) \
             OR (? AND l.remaining > 0) \
             ORDER BY l.name LIMIT ? OFFSET ?"
        ))
        .bind(prefix)
        .bind(prefix)
        .bind(listing == Listing::WithDeleted)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ContractSummary {
                    contract: contract_from_row(row)?,
                    live_versions: row.try_get("live")?,
                    versions: row.try_get("remaining")?,
                })
            })
            .collect()
    }

    async fn update_contract(
        &self,
        name: &ContractName,
        patch: &MetadataPatch,
        audit: &AuditEntry,
    ) -> Result<Option<ContractRecord>, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE contracts SET owner = COALESCE(?, owner), description = COALESCE(?, description), \
             tags = COALESCE(?, tags), updated_at = ? WHERE name = ?",
        )
        .bind(patch.owner.as_deref())
        .bind(patch.description.as_deref())
        .bind(patch.tags.as_deref().map(tags_text))
        .bind(now())
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let contract = read_contract(&mut tx, name).await?.map(|c| c.record);
        insert_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        Ok(contract)
    }

    async fn put_contract_config(
        &self,
        name: &ContractName,
        mode: Option<Mode>,
        policy: Option<Policy>,
        audit: &AuditEntry,
    ) -> Result<ContractRecord, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO contracts (name, mode, policy, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET mode = excluded.mode, policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .bind(name.as_str())
        .bind(mode.map(Mode::as_str))
        .bind(policy.map(Policy::as_str))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let contract = read_contract(&mut tx, name)
            .await?
            .map(|c| c.record)
            .ok_or(StoreError::NotFound)?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(contract)
    }

    async fn delete_version(
        &self,
        name: &ContractName,
        version: &Version,
        permanent: bool,
        audit: &AuditEntry,
    ) -> Result<DeleteOutcome, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let Some(record) = read_version(&mut tx, name, version).await? else {
            return Ok(DeleteOutcome::NotFound);
        };
        let statement = match (permanent, record.deleted) {
            (true, false) => return Ok(DeleteOutcome::NotSoftDeleted),
            (false, true) => return Ok(DeleteOutcome::AlreadyDeleted),
            (true, true) => {
                sqlx::query("DELETE FROM versions WHERE contract = ?1 AND version = ?2")
            }
            (false, false) => sqlx::query(
                "UPDATE versions SET deleted = 1, deleted_at = ?3 WHERE contract = ?1 AND version = ?2",
            ),
        };
        let statement = statement.bind(name.as_str()).bind(version.to_string());
        let statement = if permanent {
            statement
        } else {
            statement.bind(now())
        };
        statement.execute(&mut *tx).await?;
        sqlx::query("UPDATE contracts SET revision = revision + 1 WHERE name = ?")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        Ok(DeleteOutcome::Deleted(if permanent {
            record
        } else {
            VersionRecord {
                deleted: true,
                ..record
            }
        }))
    }

    async fn delete_contract(
        &self,
        name: &ContractName,
        permanent: bool,
        audit: &AuditEntry,
    ) -> Result<ContractDeleteOutcome, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let versions = read_versions(&mut tx, name).await?;
        if versions.is_empty() {
            return Ok(ContractDeleteOutcome::NotFound);
        }
        let live = versions.iter().any(|v| !v.deleted);
        let now = now();
        let targets: Vec<VersionRecord> = match (permanent, live) {
            (true, true) => return Ok(ContractDeleteOutcome::NotSoftDeleted),
            (false, false) => return Ok(ContractDeleteOutcome::AlreadyDeleted),
            (true, false) => {
                sqlx::query("DELETE FROM versions WHERE contract = ?")
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE contracts SET owner = NULL, description = NULL, tags = '[]', mode = NULL, \
                     policy = NULL, write_mode = NULL, updated_at = ? WHERE name = ?",
                )
                .bind(now)
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
                versions
            }
            (false, true) => {
                sqlx::query(
                    "UPDATE versions SET deleted = 1, deleted_at = ? WHERE contract = ? AND deleted = 0",
                )
                .bind(now)
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
                versions
                    .into_iter()
                    .filter(|v| !v.deleted)
                    .map(|v| VersionRecord { deleted: true, ..v })
                    .collect()
            }
        };
        sqlx::query("UPDATE contracts SET revision = revision + 1 WHERE name = ?")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        let seqs: Vec<i64> = targets.iter().map(|v| v.seq).collect();
        let audit = audit.clone().detail(serde_json::json!({ "seqs": seqs }));
        insert_audit(&mut tx, &audit, now).await?;
        tx.commit().await?;
        Ok(ContractDeleteOutcome::Deleted(targets))
    }

    async fn put_contract_write_mode(
        &self,
        name: &ContractName,
        mode: Option<WriteMode>,
        audit: &AuditEntry,
    ) -> Result<Option<ContractRecord>, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let now = now();
        if let Some(mode) = mode {
            sqlx::query(
                "INSERT INTO contracts (name, write_mode, created_at, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET write_mode = excluded.write_mode, updated_at = excluded.updated_at",
            )
            .bind(name.as_str())
            .bind(mode.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE contracts SET write_mode = NULL, updated_at = ? WHERE name = ?")
                .bind(now)
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let contract = read_contract(&mut tx, name).await?.map(|c| c.record);
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(contract)
    }

    async fn references(&self, schema_id: i64) -> Result<Vec<SchemaReference>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_references(&mut conn, schema_id).await
    }

    async fn versions_with_schema(&self, schema_id: i64) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{VERSION_SELECT} WHERE v.schema_id = ? ORDER BY v.contract, v.seq"
        ))
        .bind(schema_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    async fn referrers(
        &self,
        name: &ContractName,
        seq: i64,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{VERSION_SELECT} WHERE v.schema_id IN \
             (SELECT schema_id FROM schema_references WHERE subject = ? AND version = ?) \
             ORDER BY v.contract, v.seq"
        ))
        .bind(name.as_str())
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    async fn append_audit(&self, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_audit(&mut conn, audit, now()).await
    }

    async fn record_auth_failure(
        &self,
        audit: &AuditEntry,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        // One statement, so two requests cannot both see "no recent row" and both write.
        let done = sqlx::query(
            "INSERT INTO audit_log (at, principal_id, principal_name, action, contract, version, \
             outcome, detail, request_id, client_addr) \
             SELECT ?1, ?2, ?3, ?4, NULL, NULL, ?5, ?6, ?7, ?8 \
             WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE action = ?4 \
             AND client_addr IS ?8 AND at >= ?9)",
        )
        .bind(now())
        .bind(audit.principal_id())
        .bind(audit.principal_name())
        .bind(AuditAction::FailedAuthentication.as_str())
        .bind(audit.outcome.as_str())
        .bind(audit.detail_text())
        .bind(&audit.caller.request_id)
        .bind(audit.caller.client.as_deref())
        .bind(since)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log \
             WHERE (?1 IS NULL OR contract = ?1) \
             AND (?2 IS NULL OR principal_name = ?2 OR principal_id = ?2) \
             AND (?3 IS NULL OR action = ?3) \
             AND (?4 IS NULL OR at >= ?4) \
             AND (?5 IS NULL OR at < ?5) \
             AND (?6 IS NULL OR id < ?6) \
             ORDER BY id DESC LIMIT ?7"
        ))
        .bind(query.contract.as_deref())
        .bind(query.principal.as_deref())
        .bind(query.action.map(AuditAction::as_str))
        .bind(query.since)
        .bind(query.until)
        .bind(query.before)
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn create_token(
        &self,
        token: &NewToken,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO tokens (id, name, role, scopes, secret_hash, created_by, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.id.as_str())
        .bind(token.name.as_str())
        .bind(token.role.as_str())
        .bind(scopes_text(&token.scopes))
        .bind(&token.secret_hash)
        .bind(&token.created_by)
        .bind(now)
        .bind(token.expires_at)
        .execute(&mut *tx)
        .await?;
        let record = read_token(&mut tx, &token.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_token(&mut conn, id).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let (contracts, versions, live_versions): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM contracts), (SELECT COUNT(*) FROM versions), \
             (SELECT COUNT(*) FROM versions WHERE deleted = 0)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            contracts,
            versions,
            live_versions,
        })
    }

    fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn any_token(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tokens)")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        audit: &AuditEntry,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let (_guard, mut tx) = self.write_tx().await?;
        let now = now();
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() > 0 {
            insert_audit(&mut tx, audit, now).await?;
        }
        let record = read_token(&mut tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn touch_token(
        &self,
        id: &TokenId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        // Under the write mutex like every write, so it never makes a registration
        // spin in SQLite's busy handler; callers run it off the request path.
        let (_guard, mut tx) = self.write_tx().await?;
        sqlx::query("UPDATE tokens SET last_used_at = ? WHERE id = ?")
            .bind(at)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    fn export(&self) -> BoxStream<'static, Result<dump::Record, StoreError>> {
        super::sqlite_dump::export(self.pool.clone())
    }

    async fn begin_import(&self, merge: bool) -> Result<Box<dyn dump::Import>, StoreError> {
        let (guard, tx) = self.write_tx().await?;
        let target = super::sqlite_dump::SqliteImport { _guard: guard, tx };
        Ok(Box::new(
            dump::Importer::start(Box::new(target), merge).await?,
        ))
    }

    fn cache_stats(&self) -> Vec<crate::cache::CacheStats> {
        vec![self.memo.stats(), self.readers.stats()]
    }
}

/// A registration holding the in-process write lock and a `BEGIN IMMEDIATE` transaction.
struct SqliteRegistration {
    _guard: OwnedMutexGuard<()>,
    tx: Transaction<'static, Sqlite>,
    name: ContractName,
    history: History,
    memo: Arc<VersionMemo>,
}

#[async_trait]
impl Registration for SqliteRegistration {
    fn history(&self) -> &History {
        &self.history
    }

    async fn schema(&mut self, id: i64) -> Result<Option<SchemaRecord>, StoreError> {
        read_schema(&mut self.tx, id).await
    }

    async fn references(&mut self, schema_id: i64) -> Result<Vec<SchemaReference>, StoreError> {
        read_references(&mut self.tx, schema_id).await
    }

    async fn versions(&mut self, name: &ContractName) -> Result<Vec<VersionRecord>, StoreError> {
        read_versions(&mut self.tx, name).await
    }

    async fn commit(
        self: Box<Self>,
        new: NewVersion,
        audit: &AuditEntry,
    ) -> Result<VersionRecord, StoreError> {
        let SqliteRegistration {
            _guard,
            mut tx,
            name,
            mut history,
            memo,
        } = *self;
        let now = now();
        let schema_id = store_schema(&mut tx, &new, now).await?;
        sqlx::query("INSERT INTO contracts (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(name.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let next_seq: i64 = sqlx::query_scalar("SELECT next_seq FROM contracts WHERE name = ?")
            .bind(name.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let seq = new.seq.unwrap_or(next_seq);
        let highest = higher(history.highest_version.take(), &new.version);
        sqlx::query(
            "UPDATE contracts SET owner = COALESCE(?, owner), description = COALESCE(?, description), \
             tags = COALESCE(?, tags), mode = COALESCE(?, mode), policy = COALESCE(?, policy), \
             next_seq = ?, highest_version = ?, updated_at = ?, revision = revision + 1 WHERE name = ?",
        )
        .bind(new.metadata.owner.as_deref())
        .bind(new.metadata.description.as_deref())
        .bind(new.metadata.tags.as_deref().map(tags_text))
        .bind(new.mode.map(Mode::as_str))
        .bind(new.policy.map(Policy::as_str))
        .bind(next_seq.max(seq + 1))
        .bind(highest.to_string())
        .bind(now)
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO versions (contract, seq, version, schema_id, created_at, deleted) VALUES (?, ?, ?, ?, ?, 0)")
            .bind(name.as_str())
            .bind(seq)
            .bind(new.version.to_string())
            .bind(schema_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        let record = VersionRecord {
            contract: name,
            seq,
            version: new.version,
            schema_id,
            fingerprint: new.fingerprint,
            created_at: now,
            deleted: false,
        };
        memo.registered(history.revision, history.versions, &record);
        Ok(record)
    }
}
