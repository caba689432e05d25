//! Export and import of a PostgreSQL registry ([`super::dump`]): the queries behind
//! [`Store::export`](super::Store::export) and the [`ImportTarget`] of an import.
//!
//! The export reads inside one `REPEATABLE READ, READ ONLY` transaction: every read
//! sees the snapshot of its first, while writers go on. The import locks the
//! registry's tables against every other writer (`SHARE ROW EXCLUSIVE`: reads go on,
//! registrations of any process wait) until it commits or is dropped, and finally
//! moves the schema id sequence past the imported ids.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use semver::Version;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::dump::{
    self, ContractDump, GlobalDump, ImportTarget, Out, Record, ReferenceDump, SchemaDump, Stop,
    VersionDump,
};
use super::{
    GlobalConfig, StoreError, parse_mode, parse_policy, parse_tags, parse_version,
    parse_write_mode, tags_text,
};

/// Streams every record of the database at `pool`.
pub(super) fn export(pool: PgPool) -> BoxStream<'static, Result<Record, StoreError>> {
    dump::stream(|out| async move {
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        match export_all(&mut tx, &out).await {
            Ok(()) => Ok(tx.commit().await?),
            // The reader went away; the read transaction is rolled back on drop.
            Err(Stop::Gone) => Ok(()),
            Err(Stop::Store(e)) => Err(e),
        }
    })
}

async fn export_all(tx: &mut Transaction<'static, Postgres>, out: &Out) -> Result<(), Stop> {
    let global = super::postgres::read_global(tx).await?;
    out.send(Record::Global(GlobalDump::from(global))).await?;

    // Schemas with their references, one row per reference (or one without): rows of
    // one schema are consecutive, so a schema is complete when the id changes.
    let mut pending: Option<SchemaDump> = None;
    {
        let mut rows = sqlx::query(
            "SELECT s.id, s.fingerprint, s.original, s.created_at, r.name AS ref_name, \
             r.subject AS ref_subject, r.version AS ref_version \
             FROM schemas s LEFT JOIN schema_references r ON r.schema_id = s.id \
             ORDER BY s.id, r.position",
        )
        .fetch(&mut **tx);
        while let Some(row) = rows.try_next().await? {
            let id: i64 = row.try_get("id")?;
            if pending.as_ref().is_some_and(|p| p.id != id) {
                if let Some(done) = pending.take() {
                    out.send(Record::Schema(done)).await?;
                }
            }
            let schema = match pending.as_mut() {
                Some(s) => s,
                None => pending.insert(SchemaDump {
                    id,
                    fingerprint: row.try_get("fingerprint")?,
                    original: row.try_get("original")?,
                    references: Vec::new(),
                    created_at: row.try_get("created_at")?,
                }),
            };
            if let Some(name) = row.try_get::<Option<String>, _>("ref_name")? {
                schema.references.push(ReferenceDump {
                    name,
                    subject: row.try_get("ref_subject")?,
                    version: row.try_get("ref_version")?,
                });
            }
        }
    }
    if let Some(done) = pending.take() {
        out.send(Record::Schema(done)).await?;
    }

    {
        let mut rows = sqlx::query(
            "SELECT name, owner, description, tags, mode, policy, write_mode, next_seq, \
             highest_version, created_at, updated_at FROM contracts ORDER BY name COLLATE \"C\"",
        )
        .fetch(&mut **tx);
        while let Some(row) = rows.try_next().await? {
            out.send(Record::Contract(contract_from_row(&row)?)).await?;
        }
    }

    let mut rows = sqlx::query(
        "SELECT v.contract, v.seq, v.version, v.schema_id, s.fingerprint, v.created_at, \
         v.deleted, v.deleted_at FROM versions v JOIN schemas s ON s.id = v.schema_id \
         ORDER BY v.contract COLLATE \"C\", v.seq",
    )
    .fetch(&mut **tx);
    while let Some(row) = rows.try_next().await? {
        out.send(Record::Version(version_from_row(&row)?)).await?;
    }
    Ok(())
}

fn contract_from_row(row: &PgRow) -> Result<ContractDump, StoreError> {
    let highest: Option<String> = row.try_get("highest_version")?;
    Ok(ContractDump {
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        description: row.try_get("description")?,
        tags: parse_tags(row.try_get("tags")?)?,
        mode: parse_mode(row.try_get("mode")?)?,
        policy: parse_policy(row.try_get("policy")?)?,
        write_mode: parse_write_mode(row.try_get("write_mode")?)?,
        next_seq: row.try_get("next_seq")?,
        highest_version: highest.as_deref().map(parse_version).transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn version_from_row(row: &PgRow) -> Result<VersionDump, StoreError> {
    Ok(VersionDump {
        contract: row.try_get("contract")?,
        seq: row.try_get("seq")?,
        version: parse_version(row.try_get("version")?)?,
        schema_id: row.try_get("schema_id")?,
        fingerprint: row.try_get("fingerprint")?,
        created_at: row.try_get("created_at")?,
        deleted: row.try_get("deleted")?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

/// An import inside one transaction holding the registry's tables.
pub(super) struct PostgresImport {
    tx: Transaction<'static, Postgres>,
}

impl PostgresImport {
    /// Opens the transaction and locks out every other writer.
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "LOCK TABLE global_config, schemas, schema_references, contracts, versions \
             IN SHARE ROW EXCLUSIVE MODE",
        )
        .execute(&mut *tx)
        .await?;
        Ok(Self { tx })
    }
}

#[async_trait]
impl ImportTarget for PostgresImport {
    async fn is_empty(&mut self) -> Result<bool, StoreError> {
        let any: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM contracts) OR EXISTS (SELECT 1 FROM schemas)",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(!any)
    }

    async fn global(&mut self) -> Result<GlobalConfig, StoreError> {
        super::postgres::read_global(&mut self.tx).await
    }

    async fn set_global(&mut self, global: GlobalConfig) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE global_config SET mode = $1, policy = $2, write_mode = $3 WHERE id = 1",
        )
        .bind(global.mode.as_str())
        .bind(global.policy.as_str())
        .bind(global.write_mode.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn schema(&mut self, id: i64) -> Result<Option<SchemaDump>, StoreError> {
        let Some(row) =
            sqlx::query("SELECT id, fingerprint, original, created_at FROM schemas WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?
        else {
            return Ok(None);
        };
        let references = sqlx::query(
            "SELECT name, subject, version FROM schema_references WHERE schema_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(|r| {
            Ok(ReferenceDump {
                name: r.try_get("name")?,
                subject: r.try_get("subject")?,
                version: r.try_get("version")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(Some(SchemaDump {
            id: row.try_get("id")?,
            fingerprint: row.try_get("fingerprint")?,
            original: row.try_get("original")?,
            references,
            created_at: row.try_get("created_at")?,
        }))
    }

    async fn schema_id_of(&mut self, fingerprint: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM schemas WHERE fingerprint = $1")
                .bind(fingerprint)
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    async fn insert_schema(&mut self, s: &SchemaDump) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schemas (id, fingerprint, original, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(s.id)
        .bind(&s.fingerprint)
        .bind(&s.original)
        .bind(s.created_at)
        .execute(&mut *self.tx)
        .await?;
        for (position, r) in s.references.iter().enumerate() {
            sqlx::query(
                "INSERT INTO schema_references (schema_id, position, name, subject, version) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(s.id)
            .bind(position as i32)
            .bind(&r.name)
            .bind(&r.subject)
            .bind(r.version)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn contract(&mut self, name: &str) -> Result<Option<ContractDump>, StoreError> {
        sqlx::query(
            "SELECT name, owner, description, tags, mode, policy, write_mode, next_seq, \
             highest_version, created_at, updated_at FROM contracts WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *self.tx)
        .await?
        .as_ref()
        .map(contract_from_row)
        .transpose()
    }

    async fn insert_contract(&mut self, c: &ContractDump) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contracts (name, owner, description, tags, mode, policy, write_mode, \
             next_seq, highest_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&c.name)
        .bind(&c.owner)
        .bind(&c.description)
        .bind(tags_text(&c.tags))
        .bind(c.mode.map(|m| m.as_str()))
        .bind(c.policy.map(|p| p.as_str()))
        .bind(c.write_mode.map(|w| w.as_str()))
        .bind(c.next_seq)
        .bind(c.highest_version.as_ref().map(Version::to_string))
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn raise_contract(
        &mut self,
        name: &str,
        next_seq: i64,
        highest: Option<&Version>,
    ) -> Result<(), StoreError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT highest_version FROM contracts WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *self.tx)
                .await?;
        let stored = stored.as_deref().map(parse_version).transpose()?;
        let highest = dump::highest(stored, highest);
        sqlx::query(
            "UPDATE contracts SET next_seq = GREATEST(next_seq, $1), highest_version = $2, \
             revision = revision + 1 WHERE name = $3",
        )
        .bind(next_seq)
        .bind(highest.as_ref().map(Version::to_string))
        .bind(name)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn version(
        &mut self,
        contract: &str,
        seq: i64,
    ) -> Result<Option<VersionDump>, StoreError> {
        sqlx::query(
            "SELECT v.contract, v.seq, v.version, v.schema_id, s.fingerprint, v.created_at, \
             v.deleted, v.deleted_at FROM versions v JOIN schemas s ON s.id = v.schema_id \
             WHERE v.contract = $1 AND v.seq = $2",
        )
        .bind(contract)
        .bind(seq)
        .fetch_optional(&mut *self.tx)
        .await?
        .as_ref()
        .map(version_from_row)
        .transpose()
    }

    async fn seq_of(
        &mut self,
        contract: &str,
        version: &Version,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM versions WHERE contract = $1 AND version = $2")
                .bind(contract)
                .bind(version.to_string())
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    async fn insert_version(&mut self, v: &VersionDump) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO versions (contract, seq, version, schema_id, created_at, deleted, deleted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&v.contract)
        .bind(v.seq)
        .bind(v.version.to_string())
        .bind(v.schema_id)
        .bind(v.created_at)
        .bind(v.deleted)
        .bind(v.deleted_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        // Later registrations must never pick an imported id.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('schemas', 'id'), \
             GREATEST((SELECT MAX(id) FROM schemas), 1), (SELECT MAX(id) FROM schemas) IS NOT NULL)",
        )
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
