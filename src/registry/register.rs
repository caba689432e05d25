//! Registering a version: check first, then write under the contract's lock.
//!
//! The compatibility check is the slow part of a registration (seconds for a hostile
//! schema pair), and the store's write lock can be wide (SQLite's `BEGIN IMMEDIATE`
//! locks the whole database). So a registration decides what it would write from the
//! contract's history read without the lock, and only then takes the lock
//! ([`Store::begin_registration`]) and confirms that the contract has not moved since:
//! the same revision (bumped with every change to its versions, by any process) and the
//! same configuration in force. If it moved (another process registered, a version was
//! deleted, the mode changed), the decision is made again from what the lock read, after
//! the lock is released. After [`OPTIMISTIC_CHECKS`] decisions overtaken that way, the
//! next one is made under the lock, so a registration always ends.
//!
//! Within one process, registrations to one contract take turns ([`super::turns`]):
//! side by side, their checks would only overtake each other.
//!
//! The guarantees are those of a check under the lock: the version is written only if
//! the history it was checked against is the one the lock holder sees, so no version is
//! assigned twice and none skips the rules; the unique constraints stay as the last line
//! of defence.

use crate::compat::Report;
use crate::domain::{Action, AuditAction, AuditOutcome, Caller, ContractName, WriteMode};
use crate::schema::Schema;
use crate::store::{AuditEntry, History, NewVersion, StoreError, VersionRecord};

use super::consumers::{ConsumerError, Verdicts};
use super::plan::{self, Step};
use super::{
    CONFLICT_RETRIES, Candidate, ContractConfig, Registered, Registry, RegistryError, Source,
    Submission, refusal_audit, relevant, write_mode_of,
};

/// How many times a decision made without the lock may be overtaken by another writer
/// before the next one is made under the lock.
const OPTIMISTIC_CHECKS: usize = 3;

/// What a registration would write, decided from one reading of the contract's history.
enum Decision {
    /// The schema is canonically identical to this live version: write nothing.
    Existing(VersionRecord),
    /// Insert this version.
    Insert { new: NewVersion, report: Report },
}

impl Registry {
    /// Registers a version: decides (checking compatibility) without the contract's
    /// write lock, then writes under it if the contract has not moved meanwhile.
    ///
    /// The audit log records the outcome: an accepted registration in the transaction
    /// that writes the version, an unchanged or refused one (which write nothing else)
    /// as a row of its own.
    pub async fn register(
        &self,
        name: &ContractName,
        submission: Submission,
        caller: &Caller,
    ) -> Result<Registered, RegistryError> {
        let declared = submission.version.clone();
        let result = self.register_checked(name, submission, caller).await;
        let entry = AuditEntry::new(caller, AuditAction::RegisterVersion).contract(name);
        let entry = match &result {
            Ok(Registered::Existing(v)) => Some(
                entry
                    .version(&v.version)
                    .outcome(AuditOutcome::Unchanged)
                    .detail(serde_json::json!({ "seq": v.seq, "schema_id": v.schema_id })),
            ),
            Err(RegistryError::Refused(r)) => {
                let entry = entry
                    .outcome(AuditOutcome::Refused)
                    .detail(refusal_audit(r));
                Some(match &declared {
                    Some(v) => entry.version(v),
                    None => entry,
                })
            }
            Err(RegistryError::Consumers(e)) => match e.as_ref() {
                ConsumerError::Blocked { consumers, .. } => {
                    let entry = entry
                        .outcome(AuditOutcome::Refused)
                        .detail(serde_json::json!({
                            "refusal": "consumers-broken",
                            "consumers": consumers.iter().map(|c| serde_json::json!({
                                "consumer": c.consumer,
                                "environment": c.environment,
                            })).collect::<Vec<_>>(),
                        }));
                    Some(match &declared {
                        Some(v) => entry.version(v),
                        None => entry,
                    })
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(entry) = entry {
            self.store.append_audit(&entry).await?;
        }
        self.outcomes.registered(&result);
        result
    }

    async fn register_checked(
        &self,
        name: &ContractName,
        submission: Submission,
        caller: &Caller,
    ) -> Result<Registered, RegistryError> {
        // The deployed readers are read while the schema is parsed: they only matter
        // once there is a check to run, and then they are already here.
        let (candidate, deployed) =
            tokio::join!(self.parse_candidate(&submission), self.store.deployed(name));
        let candidate = candidate?;
        let mut compiling = Some(Self::compile(&candidate.schema));
        let mut deployed = Some(deployed?);
        let _turn = self.turns.take(name).await;
        let mut history = self.store.history(name).await?;
        let mut overtaken = 0;
        let mut conflicts = 0;
        // What the schema does to deployed consumers, computed alongside the first
        // compatibility check (both walks run on the blocking pool side by side), and
        // only when there is a check to run. Read without the lock, like the decision:
        // the deployments are not the contract's, and a lock holder must not wait for
        // a pooled connection. A decision remade later keeps these verdicts.
        let mut verdicts: Option<Verdicts> = None;
        loop {
            let mut source = Source::Store(self.store.as_ref());
            let decided = self.decide(caller, name, &submission, &candidate, &history, &mut source);
            let checks = matches!(
                plan::first_step(
                    &history,
                    &candidate.fingerprint,
                    submission.version.as_ref()
                ),
                Step::Check(_)
            );
            let decided = if let Some(deployed) = deployed.take_if(|_| checks) {
                let policy = ContractConfig::of(history.contract.as_ref(), history.global)
                    .overridden(submission.mode, submission.policy)
                    .policy;
                let (decided, found) = tokio::join!(
                    decided,
                    self.verdicts_of(deployed, &history.versions, &candidate.schema, policy)
                );
                let decided = decided?;
                verdicts = Some(found?);
                decided
            } else {
                decided.await?
            };
            let (new, report) = match decided {
                Decision::Existing(v) => return Ok(Registered::Existing(v)),
                Decision::Insert { new, report } => (new, report),
            };
            let consumers = verdicts
                .clone()
                .unwrap_or_default()
                .section(Some(&new.version));
            let blocking = consumers.blocking();
            if !blocking.is_empty() {
                return Err(ConsumerError::Blocked {
                    contract: name.to_string(),
                    consumers: blocking,
                }
                .into());
            }
            if let Some(compiling) = compiling.take() {
                Self::compiled(compiling).await?;
            }
            let mut tx = self.store.begin_registration(name).await?;
            let (new, report) = if unchanged(&history, tx.history()) {
                (new, report)
            } else if overtaken < OPTIMISTIC_CHECKS {
                overtaken += 1;
                tracing::debug!(contract.name = %name, "contract changed during the check; checking again");
                history = tx.history().clone();
                drop(tx);
                continue;
            } else {
                let locked = tx.history().clone();
                match self
                    .decide(
                        caller,
                        name,
                        &submission,
                        &candidate,
                        &locked,
                        &mut Source::Tx(&mut *tx),
                    )
                    .await?
                {
                    Decision::Existing(v) => return Ok(Registered::Existing(v)),
                    Decision::Insert { new, report } => (new, report),
                }
            };
            let audit = AuditEntry::new(caller, AuditAction::RegisterVersion)
                .contract(name)
                .version(&new.version)
                .outcome(AuditOutcome::Accepted)
                .detail(serde_json::json!({
                    "required_bump": report.required_bump,
                    "fingerprint": new.fingerprint,
                }));
            let committed = tx.commit(new, &audit).await;
            self.recent.invalidate(name.as_str());
            match committed {
                Ok(version) => {
                    let weight = super::parsed_weight(&candidate.schema);
                    self.parsed
                        .insert(version.schema_id, Schema::clone(&candidate.schema), weight);
                    tracing::info!(contract.name = %name, version.seq = version.seq, version.number = %version.version, "registered");
                    return Ok(Registered::Created {
                        version,
                        report,
                        consumers,
                    });
                }
                Err(StoreError::Conflict(why)) if conflicts < CONFLICT_RETRIES => {
                    conflicts += 1;
                    tracing::warn!(contract.name = %name, %why, "registration conflicted; retrying");
                    history = self.store.history(name).await?;
                }
                Err(StoreError::IdTaken(id)) => {
                    return Err(RegistryError::NotPermitted(format!(
                        "schema id {id} already holds a different schema"
                    )));
                }
                Err(StoreError::IdMismatch {
                    requested,
                    existing,
                }) => {
                    return Err(RegistryError::IdMismatch {
                        requested,
                        existing,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// What registering `candidate` onto `history` writes, or why it is refused; runs
    /// the compatibility check, reading previous schemas from `source`.
    async fn decide(
        &self,
        caller: &Caller,
        name: &ContractName,
        submission: &Submission,
        candidate: &Candidate,
        history: &History,
        source: &mut Source<'_>,
    ) -> Result<Decision, RegistryError> {
        permit_config_change(caller, name, submission, history)?;
        let write_mode = write_mode_of(history.contract.as_ref(), history.global);
        if write_mode.is_read_only() {
            return Err(RegistryError::ReadOnly(format!("contract {name:?}")));
        }
        match (write_mode == WriteMode::Import, submission.import) {
            (true, None) => {
                return Err(RegistryError::NotPermitted(format!(
                    "contract {name:?} is in IMPORT mode: a registration must give the schema id"
                )));
            }
            (false, Some(_)) => {
                return Err(RegistryError::NotPermitted(format!(
                    "contract {name:?} is not in IMPORT mode: a schema id cannot be given"
                )));
            }
            _ => {}
        }
        let previous =
            match plan::first_step(history, &candidate.fingerprint, submission.version.as_ref()) {
                Step::Existing(v) => return Ok(Decision::Existing(v)),
                Step::Refuse(r) => return Err(RegistryError::Refused(r)),
                Step::Check(previous) => previous,
            };
        let import_seq = submission.import.and_then(|i| i.seq);
        if let Some(seq) = import_seq
            && (seq < 1 || history.versions.iter().any(|v| v.seq == seq))
        {
            return Err(RegistryError::NotPermitted(format!(
                "version {seq} of {name:?} already exists or is not a valid version number"
            )));
        }
        let config = ContractConfig::of(history.contract.as_ref(), history.global)
            .overridden(submission.mode, submission.policy);
        let previous = relevant(previous, config.mode);
        let schemas = self.load(source, &previous).await?;
        let report = self
            .run_check(Schema::clone(&candidate.schema), schemas, config)
            .await?;
        // An import is never refused: a breaking one takes the next major.
        let version = plan::conclude(
            history,
            &previous,
            &report,
            submission.version.as_ref(),
            submission.allow_breaking || submission.import.is_some(),
        )
        .map_err(RegistryError::Refused)?;
        let new = NewVersion {
            version,
            fingerprint: candidate.fingerprint.clone(),
            original: candidate.schema.original().to_owned(),
            metadata: submission.metadata.clone(),
            mode: submission.mode,
            policy: submission.policy,
            references: candidate.references.clone(),
            schema_id: submission.import.map(|i| i.schema_id),
            seq: import_seq,
        };
        Ok(Decision::Insert { new, report })
    }
}

/// A registration that would change an existing contract's mode or policy override
/// changes its configuration, which needs the right to configure it; on a contract
/// without versions, the first registration sets its rules with the right to register.
fn permit_config_change(
    caller: &Caller,
    name: &ContractName,
    submission: &Submission,
    history: &History,
) -> Result<(), RegistryError> {
    if history.versions.is_empty() {
        return Ok(());
    }
    let current = history.contract.as_ref().map(|c| (c.mode, c.policy));
    let (mode, policy) = current.unwrap_or((None, None));
    let changes = submission.mode.is_some_and(|m| Some(m) != mode)
        || submission.policy.is_some_and(|p| Some(p) != policy);
    if changes {
        caller
            .principal
            .may(Action::Configure, Some(name.as_str()))
            .map_err(RegistryError::Forbidden)?;
    }
    Ok(())
}

/// Whether the history read under the lock is the one a decision was made from: the
/// same versions (revision and highest version ever registered) and the same
/// configuration in force (the contract's overrides and the global defaults).
fn unchanged(checked: &History, locked: &History) -> bool {
    let overrides = |h: &History| {
        h.contract
            .as_ref()
            .map(|c| (c.mode, c.policy, c.write_mode))
    };
    checked.revision == locked.revision
        && checked.highest_version == locked.highest_version
        && overrides(checked) == overrides(locked)
        && checked.global == locked.global
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Mode;
    use crate::store::GlobalConfig;

    fn history(revision: i64) -> History {
        History {
            revision,
            ..History::default()
        }
    }

    #[test]
    fn a_moved_revision_or_configuration_overtakes_a_decision() {
        assert!(unchanged(&history(3), &history(3)));
        assert!(!unchanged(&history(3), &history(4)));
        let mut global = history(3);
        global.global = GlobalConfig {
            mode: Mode::Full,
            ..GlobalConfig::default()
        };
        assert!(!unchanged(&history(3), &global));
    }
}
