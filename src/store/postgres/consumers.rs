//! [`ConsumerStore`] on PostgreSQL. Writes are plain transactions; retiring a line
//! takes the contract's advisory lock first, like every change to its versions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use semver::Version;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

use super::super::consumers::{
    ConsumerRecord, ConsumerStore, Declaration, DeployedReader, DeploymentRecord,
    EnvironmentRecord, FetchRecord, LineDeprecation, NewDeclaration, Read, Resolution, fields_text,
    major_value, parse_app_version, parse_consumer, parse_environment, parse_fields, parse_major,
    parse_protection, parse_range, retire_detail,
};
use super::super::{AuditEntry, StoreError, VersionRecord, now, parse_name, parse_version};
use super::{PostgresStore, insert_audit, read_versions};
use crate::domain::{AppVersion, ConsumerName, ContractName, EnvironmentName, Protection};

const CONSUMER_COLUMNS: &str = "name, owner, description, created_at, updated_at";
const ENVIRONMENT_COLUMNS: &str = "name, protected, created_at, updated_at";
const DEPRECATION_COLUMNS: &str = "contract, major, sunset, reason, successor, deprecated_at";

fn consumer_from_row(row: &PgRow) -> Result<ConsumerRecord, StoreError> {
    Ok(ConsumerRecord {
        name: parse_consumer(row.try_get("name")?)?,
        owner: row.try_get("owner")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn environment_from_row(row: &PgRow) -> Result<EnvironmentRecord, StoreError> {
    Ok(EnvironmentRecord {
        name: parse_environment(row.try_get("name")?)?,
        protected: row.try_get("protected")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn deprecation_from_row(row: &PgRow) -> Result<LineDeprecation, StoreError> {
    Ok(LineDeprecation {
        contract: parse_name(row.try_get("contract")?)?,
        major: parse_major(row.try_get("major")?)?,
        sunset: row.try_get("sunset")?,
        reason: row.try_get("reason")?,
        successor: row
            .try_get::<Option<i64>, _>("successor")?
            .map(parse_major)
            .transpose()?,
        deprecated_at: row.try_get("deprecated_at")?,
    })
}

fn read_from_row(row: &PgRow) -> Result<Read, StoreError> {
    Ok(Read {
        contract: parse_name(row.try_get("contract")?)?,
        range: parse_range(row.try_get("version_range")?)?,
        fields: parse_fields(row.try_get("fields")?)?,
    })
}

fn optional_version(text: Option<String>) -> Result<Option<Version>, StoreError> {
    text.as_deref().map(parse_version).transpose()
}

async fn read_consumer(
    conn: &mut PgConnection,
    name: &ConsumerName,
) -> Result<Option<ConsumerRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CONSUMER_COLUMNS} FROM consumers WHERE name = $1"
    ))
    .bind(name.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(consumer_from_row).transpose()
}

async fn read_reads(
    conn: &mut PgConnection,
    consumer: &ConsumerName,
    app_version: &str,
) -> Result<Vec<Read>, StoreError> {
    let rows = sqlx::query(
        "SELECT contract, version_range, fields FROM consumer_reads \
         WHERE consumer = $1 AND app_version = $2 ORDER BY position",
    )
    .bind(consumer.as_str())
    .bind(app_version)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(read_from_row).collect()
}

async fn read_resolutions(
    conn: &mut PgConnection,
    consumer: &ConsumerName,
    environment: &str,
) -> Result<Vec<Resolution>, StoreError> {
    let rows = sqlx::query(
        "SELECT contract, version FROM deployment_resolutions \
         WHERE consumer = $1 AND environment = $2 ORDER BY position",
    )
    .bind(consumer.as_str())
    .bind(environment)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Resolution {
                contract: parse_name(row.try_get("contract")?)?,
                version: optional_version(row.try_get("version")?)?,
            })
        })
        .collect()
}

#[async_trait]
impl ConsumerStore for PostgresStore {
    async fn declare(
        &self,
        new: &NewDeclaration,
        audit: &AuditEntry,
    ) -> Result<ConsumerRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO consumers (name, owner, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET \
             owner = COALESCE(excluded.owner, consumers.owner), \
             description = COALESCE(excluded.description, consumers.description), \
             updated_at = excluded.updated_at",
        )
        .bind(new.consumer.as_str())
        .bind(new.owner.as_deref())
        .bind(new.description.as_deref())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO consumer_versions (consumer, app_version, declared_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, app_version) DO UPDATE SET declared_at = excluded.declared_at",
        )
        .bind(new.consumer.as_str())
        .bind(new.app_version.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM consumer_reads WHERE consumer = $1 AND app_version = $2")
            .bind(new.consumer.as_str())
            .bind(new.app_version.as_str())
            .execute(&mut *tx)
            .await?;
        for (position, read) in new.reads.iter().enumerate() {
            sqlx::query(
                "INSERT INTO consumer_reads (consumer, app_version, position, contract, \
                 version_range, fields) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new.consumer.as_str())
            .bind(new.app_version.as_str())
            .bind(position as i64)
            .bind(read.contract.as_str())
            .bind(read.range.to_string())
            .bind(fields_text(&read.fields))
            .execute(&mut *tx)
            .await?;
        }
        insert_audit(&mut tx, audit, now).await?;
        let record = read_consumer(&mut tx, &new.consumer)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(record)
    }

    async fn consumer(&self, name: &ConsumerName) -> Result<Option<ConsumerRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_consumer(&mut conn, name).await
    }

    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONSUMER_COLUMNS} FROM consumers ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(consumer_from_row).collect()
    }

    async fn declaration(
        &self,
        consumer: &ConsumerName,
        app_version: &AppVersion,
    ) -> Result<Option<Declaration>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let declared_at: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT declared_at FROM consumer_versions WHERE consumer = $1 AND app_version = $2",
        )
        .bind(consumer.as_str())
        .bind(app_version.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(declared_at) = declared_at else {
            return Ok(None);
        };
        Ok(Some(Declaration {
            consumer: consumer.clone(),
            app_version: app_version.clone(),
            reads: read_reads(&mut conn, consumer, app_version.as_str()).await?,
            declared_at,
        }))
    }

    async fn declarations(&self, consumer: &ConsumerName) -> Result<Vec<Declaration>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT app_version, declared_at FROM consumer_versions WHERE consumer = $1 \
             ORDER BY declared_at DESC, app_version",
        )
        .bind(consumer.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let app_version: String = row.try_get("app_version")?;
            out.push(Declaration {
                consumer: consumer.clone(),
                reads: read_reads(&mut conn, consumer, &app_version).await?,
                app_version: parse_app_version(&app_version)?,
                declared_at: row.try_get("declared_at")?,
            });
        }
        Ok(out)
    }

    async fn put_environment(
        &self,
        name: &EnvironmentName,
        protected: bool,
        audit: &AuditEntry,
    ) -> Result<EnvironmentRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO environments (name, protected, created_at, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET protected = excluded.protected, \
             updated_at = excluded.updated_at",
        )
        .bind(name.as_str())
        .bind(protected)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit, now).await?;
        let row = sqlx::query(&format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE name = $1"
        ))
        .bind(name.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let record = environment_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    async fn environment(
        &self,
        name: &EnvironmentName,
    ) -> Result<Option<EnvironmentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE name = $1"
        ))
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(environment_from_row).transpose()
    }

    async fn environments(&self) -> Result<Vec<EnvironmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM environments ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(environment_from_row).collect()
    }

    async fn record_deployment(
        &self,
        consumer: &ConsumerName,
        environment: &EnvironmentName,
        app_version: &AppVersion,
        resolutions: &[Resolution],
        audit: &AuditEntry,
    ) -> Result<DeploymentRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO deployments (consumer, environment, app_version, deployed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, environment) DO UPDATE SET \
             app_version = excluded.app_version, deployed_at = excluded.deployed_at",
        )
        .bind(consumer.as_str())
        .bind(environment.as_str())
        .bind(app_version.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM deployment_resolutions WHERE consumer = $1 AND environment = $2")
            .bind(consumer.as_str())
            .bind(environment.as_str())
            .execute(&mut *tx)
            .await?;
        for (position, r) in resolutions.iter().enumerate() {
            sqlx::query(
                "INSERT INTO deployment_resolutions (consumer, environment, position, contract, \
                 version) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(consumer.as_str())
            .bind(environment.as_str())
            .bind(position as i64)
            .bind(r.contract.as_str())
            .bind(r.version.as_ref().map(Version::to_string))
            .execute(&mut *tx)
            .await?;
        }
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(DeploymentRecord {
            consumer: consumer.clone(),
            environment: environment.clone(),
            app_version: app_version.clone(),
            deployed_at: now,
            resolutions: resolutions.to_vec(),
        })
    }

    async fn deployments(
        &self,
        consumer: &ConsumerName,
    ) -> Result<Vec<DeploymentRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT environment, app_version, deployed_at FROM deployments WHERE consumer = $1 \
             ORDER BY environment",
        )
        .bind(consumer.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let environment: String = row.try_get("environment")?;
            out.push(DeploymentRecord {
                consumer: consumer.clone(),
                resolutions: read_resolutions(&mut conn, consumer, &environment).await?,
                environment: parse_environment(&environment)?,
                app_version: parse_app_version(row.try_get("app_version")?)?,
                deployed_at: row.try_get("deployed_at")?,
            });
        }
        Ok(out)
    }

    async fn readers(&self, contract: &ContractName) -> Result<Vec<DeployedReader>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.consumer, d.environment, e.protected, d.app_version, d.deployed_at, \
             r.version_range, r.fields, dr.version AS resolved \
             FROM consumer_reads r \
             JOIN deployments d ON d.consumer = r.consumer AND d.app_version = r.app_version \
             JOIN environments e ON e.name = d.environment \
             LEFT JOIN deployment_resolutions dr ON dr.consumer = d.consumer \
               AND dr.environment = d.environment AND dr.position = r.position \
               AND dr.contract = r.contract \
             WHERE r.contract = $1 ORDER BY d.consumer, d.environment, r.position",
        )
        .bind(contract.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeployedReader {
                    consumer: parse_consumer(row.try_get("consumer")?)?,
                    environment: parse_environment(row.try_get("environment")?)?,
                    protected: row.try_get("protected")?,
                    app_version: parse_app_version(row.try_get("app_version")?)?,
                    deployed_at: row.try_get("deployed_at")?,
                    range: parse_range(row.try_get("version_range")?)?,
                    fields: parse_fields(row.try_get("fields")?)?,
                    resolved: optional_version(row.try_get("resolved")?)?,
                })
            })
            .collect()
    }

    async fn deployed(
        &self,
        contract: &ContractName,
    ) -> Result<(Option<Protection>, Vec<DeployedReader>), StoreError> {
        let row = sqlx::query(
            "SELECT r.revision, p.protection FROM consumer_revision r \
             LEFT JOIN consumer_protection p ON p.contract = $1",
        )
        .bind(contract.as_str())
        .fetch_one(&self.pool)
        .await?;
        let revision: i64 = row.try_get("revision")?;
        let protection: Option<String> = row.try_get("protection")?;
        let protection = protection.as_deref().map(parse_protection).transpose()?;
        let readers = self
            .readers
            .get_or_read(contract, revision, async || self.readers(contract).await)
            .await?;
        Ok((protection, readers))
    }

    async fn record_fetch(
        &self,
        consumer: &ConsumerName,
        contract: &ContractName,
        version: &Version,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO consumer_fetches (consumer, contract, version, fetched_at) \
             SELECT name, $1, $2, $3 FROM consumers WHERE name = $4 \
             ON CONFLICT (consumer, contract, version) DO UPDATE SET \
             fetched_at = GREATEST(consumer_fetches.fetched_at, excluded.fetched_at)",
        )
        .bind(contract.as_str())
        .bind(version.to_string())
        .bind(at)
        .bind(consumer.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fetches(&self, contract: &ContractName) -> Result<Vec<FetchRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT consumer, contract, version, fetched_at FROM consumer_fetches \
             WHERE contract = $1 ORDER BY consumer, version",
        )
        .bind(contract.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FetchRecord {
                    consumer: parse_consumer(row.try_get("consumer")?)?,
                    contract: parse_name(row.try_get("contract")?)?,
                    version: parse_version(row.try_get("version")?)?,
                    fetched_at: row.try_get("fetched_at")?,
                })
            })
            .collect()
    }

    async fn deprecate_line(
        &self,
        d: &LineDeprecation,
        audit: &AuditEntry,
    ) -> Result<LineDeprecation, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now();
        sqlx::query(
            "INSERT INTO line_deprecations (contract, major, sunset, reason, successor, \
             deprecated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (contract, major) DO UPDATE \
             SET sunset = excluded.sunset, reason = excluded.reason, \
             successor = excluded.successor, deprecated_at = excluded.deprecated_at",
        )
        .bind(d.contract.as_str())
        .bind(major_value(d.major))
        .bind(d.sunset)
        .bind(&d.reason)
        .bind(d.successor.map(major_value))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(LineDeprecation {
            deprecated_at: now,
            ..d.clone()
        })
    }

    async fn deprecations(
        &self,
        contract: &ContractName,
    ) -> Result<Vec<LineDeprecation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEPRECATION_COLUMNS} FROM line_deprecations WHERE contract = $1 ORDER BY major"
        ))
        .bind(contract.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(deprecation_from_row).collect()
    }

    async fn retire_line(
        &self,
        contract: &ContractName,
        major: u64,
        audit: &AuditEntry,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let mut tx = self.locked_tx(contract).await?;
        let now = now();
        let targets: Vec<VersionRecord> = read_versions(&mut tx, contract)
            .await?
            .into_iter()
            .filter(|v| !v.deleted && v.version.major == major)
            .collect();
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        for v in &targets {
            sqlx::query(
                "UPDATE versions SET deleted = TRUE, deleted_at = $1 WHERE contract = $2 AND seq = $3",
            )
            .bind(now)
            .bind(contract.as_str())
            .bind(v.seq)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE contracts SET revision = revision + 1 WHERE name = $1")
            .bind(contract.as_str())
            .execute(&mut *tx)
            .await?;
        let seqs: Vec<i64> = targets.iter().map(|v| v.seq).collect();
        let audit = audit.clone().detail(retire_detail(audit, &seqs));
        insert_audit(&mut tx, &audit, now).await?;
        tx.commit().await?;
        Ok(targets
            .into_iter()
            .map(|v| VersionRecord { deleted: true, ..v })
            .collect())
    }

    async fn protection(&self, contract: &ContractName) -> Result<Option<Protection>, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT protection FROM consumer_protection WHERE contract = $1")
                .bind(contract.as_str())
                .fetch_optional(&self.pool)
                .await?;
        text.as_deref().map(parse_protection).transpose()
    }

    async fn set_protection(
        &self,
        contract: &ContractName,
        protection: Option<Protection>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        match protection {
            Some(p) => {
                sqlx::query(
                    "INSERT INTO consumer_protection (contract, protection) VALUES ($1, $2) \
                     ON CONFLICT (contract) DO UPDATE SET protection = excluded.protection",
                )
                .bind(contract.as_str())
                .bind(p.as_str())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM consumer_protection WHERE contract = $1")
                    .bind(contract.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        insert_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        Ok(())
    }
}
