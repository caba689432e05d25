//! Use cases the Confluent-compatible API needs beyond the native ones (they work on
//! any contract): look a schema up, check against one given version, delete a whole
//! contract, write modes (READWRITE / READONLY / IMPORT), exact configuration
//! replacement, and reads by schema id and by reference.

use crate::compat;
use crate::domain::{AuditAction, Caller, ContractName, Mode, Policy, WriteMode};
use crate::store::{
    AuditEntry, ContractDeleteOutcome, ContractRecord, Listing, SchemaReference, VersionRecord,
};

use super::{
    ContractConfig, Registry, RegistryError, Report, Source, Submission, config_audit,
    trivial_report,
};

/// How many contracts are read per page when the whole list is needed.
const PAGE: i64 = 1000;

impl Registry {
    /// The live version of `name` holding the submitted schema (soft-deleted ones too
    /// with `include_deleted`), newest first.
    pub async fn lookup(
        &self,
        name: &ContractName,
        submission: &Submission,
        include_deleted: bool,
    ) -> Result<VersionRecord, RegistryError> {
        let versions = self.store.versions(name).await?;
        if !versions.iter().any(|v| include_deleted || !v.deleted) {
            return Err(RegistryError::ContractNotFound(name.to_string()));
        }
        let candidate = self.parse_candidate(submission).await?;
        versions
            .into_iter()
            .rev()
            .find(|v| (include_deleted || !v.deleted) && v.fingerprint == candidate.fingerprint)
            .ok_or_else(|| RegistryError::SchemaNotRegistered(name.to_string()))
    }

    /// Checks a schema against one live version (by seq; `None` = the latest live one)
    /// under the contract's mode, without transitivity. A contract without live versions
    /// makes `latest` trivially compatible; a missing numbered version is an error.
    pub async fn check_against(
        &self,
        name: &ContractName,
        seq: Option<i64>,
        submission: &Submission,
    ) -> Result<Report, RegistryError> {
        let candidate = self.parse_candidate(submission).await?;
        Self::compiled(Self::compile(&candidate.schema)).await?;
        let history = self.store.history(name).await?;
        let config = ContractConfig::of(history.contract.as_ref(), history.global);
        let mut live = history.versions.iter().filter(|v| !v.deleted);
        let target =
            match seq {
                Some(seq) => Some(live.find(|v| v.seq == seq).ok_or_else(|| {
                    RegistryError::VersionNotFound {
                        name: name.to_string(),
                        selector: seq.to_string(),
                    }
                })?),
                None => live.max_by_key(|v| v.seq),
            };
        let Some(target) = target else {
            return Ok(trivial_report(config, crate::domain::Bump::Minor));
        };
        let mut source = Source::Store(self.store.as_ref());
        let old = self.parsed_schema(&mut source, target.schema_id).await?;
        let label = target.seq.to_string();
        self.checks
            .run(move || {
                let previous = [compat::Previous {
                    label: &label,
                    schema: &old,
                }];
                compat::check(&candidate.schema, &previous, config.mode, config.policy)
            })
            .await?
            .map_err(RegistryError::TooComplex)
    }

    /// Soft-deletes every live version of a contract, or with `permanent` removes every
    /// (already soft-deleted) version with the contract's metadata and configuration, in
    /// one store transaction. Returns the versions deleted, in seq order. A version other
    /// schemas refer to blocks the whole delete, before anything is written.
    pub async fn delete_contract(
        &self,
        name: &ContractName,
        permanent: bool,
        caller: &Caller,
    ) -> Result<Vec<VersionRecord>, RegistryError> {
        let contract = self.store.contract(name).await?;
        let versions = self.store.versions(name).await?;
        if versions.is_empty() {
            return Err(RegistryError::ContractNotFound(name.to_string()));
        }
        self.refuse_if_read_only(name, contract.as_ref()).await?;
        for v in versions.iter().filter(|v| permanent || !v.deleted) {
            self.refuse_if_referenced(v, permanent).await?;
        }
        let action = if permanent {
            AuditAction::PurgeContract
        } else {
            AuditAction::DeleteContract
        };
        let audit = AuditEntry::new(caller, action).contract(name);
        let outcome = self.store.delete_contract(name, permanent, &audit).await;
        self.recent.invalidate(name.as_str());
        match outcome? {
            ContractDeleteOutcome::Deleted(versions) => {
                tracing::info!(contract.name = %name, permanent, versions = versions.len(), "contract deleted");
                Ok(versions)
            }
            ContractDeleteOutcome::NotFound => {
                Err(RegistryError::ContractNotFound(name.to_string()))
            }
            ContractDeleteOutcome::AlreadyDeleted => {
                Err(RegistryError::ContractAlreadyDeleted(name.to_string()))
            }
            ContractDeleteOutcome::NotSoftDeleted => {
                Err(RegistryError::ContractNotSoftDeleted(name.to_string()))
            }
        }
    }

    /// The contract's own mode and policy overrides (none when it does not exist).
    pub async fn contract_overrides(
        &self,
        name: &ContractName,
    ) -> Result<(Option<Mode>, Option<Policy>), RegistryError> {
        Ok(self
            .store
            .contract(name)
            .await?
            .map(|c| (c.mode, c.policy))
            .unwrap_or_default())
    }

    /// Replaces a contract's overrides exactly (`None` clears one), creating the
    /// contract when needed.
    pub async fn replace_contract_config(
        &self,
        name: &ContractName,
        mode: Option<Mode>,
        policy: Option<Policy>,
        caller: &Caller,
    ) -> Result<ContractConfig, RegistryError> {
        let current = self.store.contract(name).await?;
        self.refuse_if_read_only(name, current.as_ref()).await?;
        let audit = config_audit(caller, name, mode, policy);
        let contract = self
            .store
            .put_contract_config(name, mode, policy, &audit)
            .await?;
        Ok(ContractConfig::of(
            Some(&contract),
            self.store.global_config().await?,
        ))
    }

    /// The registry-wide write mode.
    pub async fn global_write_mode(&self) -> Result<WriteMode, RegistryError> {
        Ok(self.store.global_config().await?.write_mode)
    }

    /// Sets the registry-wide write mode. IMPORT while contracts have live versions
    /// needs `force` (an import is meant for an empty registry).
    pub async fn set_global_write_mode(
        &self,
        mode: WriteMode,
        force: bool,
        caller: &Caller,
    ) -> Result<WriteMode, RegistryError> {
        if mode == WriteMode::Import && !force && self.any_live_contract().await? {
            return Err(RegistryError::NotPermitted(
                "cannot switch the registry to IMPORT mode while it has live versions; use force=true".to_owned(),
            ));
        }
        let mut config = self.store.global_config().await?;
        let previous = config.write_mode;
        config.write_mode = mode;
        let audit = write_mode_audit(caller, None, Some(mode));
        self.store.set_global_config(config, &audit).await?;
        Ok(previous)
    }

    /// The contract's own write mode, if it overrides the registry's.
    pub async fn contract_write_mode(
        &self,
        name: &ContractName,
    ) -> Result<Option<WriteMode>, RegistryError> {
        Ok(self.store.contract(name).await?.and_then(|c| c.write_mode))
    }

    /// Sets (or with `None` clears) a contract's write mode; returns the previous
    /// override. IMPORT on a contract with live versions needs `force`.
    pub async fn set_contract_write_mode(
        &self,
        name: &ContractName,
        mode: Option<WriteMode>,
        force: bool,
        caller: &Caller,
    ) -> Result<Option<WriteMode>, RegistryError> {
        let previous = self.contract_write_mode(name).await?;
        if mode == Some(WriteMode::Import) && !force {
            let versions = self.store.versions(name).await?;
            if versions.iter().any(|v| !v.deleted) {
                return Err(RegistryError::NotPermitted(format!(
                    "cannot switch {name:?} to IMPORT mode while it has live versions; use force=true"
                )));
            }
        }
        let audit = write_mode_audit(caller, Some(name), mode);
        self.store
            .put_contract_write_mode(name, mode, &audit)
            .await?;
        Ok(previous)
    }

    /// The references a schema was registered with.
    pub async fn references(&self, schema_id: i64) -> Result<Vec<SchemaReference>, RegistryError> {
        Ok(self.store.references(schema_id).await?)
    }

    /// Every remaining version whose schema has this id; `SchemaNotFound` when no
    /// schema has it.
    pub async fn versions_with_schema(
        &self,
        schema_id: i64,
    ) -> Result<Vec<VersionRecord>, RegistryError> {
        self.schema(schema_id).await?;
        Ok(self.store.versions_with_schema(schema_id).await?)
    }

    /// Every remaining version whose schema refers to version `seq` of `name`.
    pub async fn referrers(
        &self,
        name: &ContractName,
        seq: i64,
    ) -> Result<Vec<VersionRecord>, RegistryError> {
        Ok(self.store.referrers(name, seq).await?)
    }

    /// Refuses a write to a contract in a read-only write mode (its own, else the
    /// registry's).
    pub(super) async fn refuse_if_read_only(
        &self,
        name: &ContractName,
        contract: Option<&ContractRecord>,
    ) -> Result<(), RegistryError> {
        let mode = match contract.and_then(|c| c.write_mode) {
            Some(m) => m,
            None => self.store.global_config().await?.write_mode,
        };
        if mode.is_read_only() {
            return Err(RegistryError::ReadOnly(format!("contract {name:?}")));
        }
        Ok(())
    }

    /// Refuses deleting a version other schemas refer to: live referrers block a soft
    /// delete, any remaining referrer blocks a permanent one.
    pub(super) async fn refuse_if_referenced(
        &self,
        version: &VersionRecord,
        permanent: bool,
    ) -> Result<(), RegistryError> {
        let referrers = self.store.referrers(&version.contract, version.seq).await?;
        if referrers.iter().any(|r| permanent || !r.deleted) {
            return Err(RegistryError::Referenced {
                name: version.contract.to_string(),
                seq: version.seq,
            });
        }
        Ok(())
    }

    async fn any_live_contract(&self) -> Result<bool, RegistryError> {
        let mut offset = 0;
        loop {
            let page = self
                .store
                .list_contracts("", Listing::Live, PAGE, offset)
                .await?;
            if page.iter().any(|c| c.live_versions > 0) {
                return Ok(true);
            }
            if (page.len() as i64) < PAGE {
                return Ok(false);
            }
            offset += PAGE;
        }
    }
}

/// The audit entry of a write-mode change, of a contract or (without one) the registry.
fn write_mode_audit(
    caller: &Caller,
    name: Option<&ContractName>,
    mode: Option<WriteMode>,
) -> AuditEntry {
    let detail = serde_json::json!({ "mode": mode.map(WriteMode::as_str) });
    match name {
        Some(name) => AuditEntry::new(caller, AuditAction::SetContractMode)
            .contract(name)
            .detail(detail),
        None => AuditEntry::new(caller, AuditAction::SetRegistryMode).detail(detail),
    }
}
