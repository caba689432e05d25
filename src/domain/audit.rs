//! What the audit log records: the kinds of change ([`AuditAction`]) and how each
//! ended ([`AuditOutcome`]). Their text forms are stored and are the values of the
//! audit API's `action` filter, so they never change once released.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::UnknownName;

/// A kind of change the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    /// A registration: accepted, unchanged (the schema was already registered) or refused.
    #[serde(rename = "version.register")]
    RegisterVersion,
    /// A soft delete of a version.
    #[serde(rename = "version.delete")]
    DeleteVersion,
    /// A permanent delete of a (soft-deleted) version.
    #[serde(rename = "version.delete-permanent")]
    PurgeVersion,
    /// A soft delete of every live version of a contract.
    #[serde(rename = "contract.delete")]
    DeleteContract,
    /// A permanent delete of a contract's (soft-deleted) versions and settings.
    #[serde(rename = "contract.delete-permanent")]
    PurgeContract,
    /// A change of a contract's owner, description or tags.
    #[serde(rename = "contract.update")]
    UpdateContract,
    /// A change of a contract's compatibility mode or policy overrides.
    #[serde(rename = "contract.config")]
    ConfigureContract,
    /// A change of a contract's write mode.
    #[serde(rename = "contract.mode")]
    SetContractMode,
    /// A change of the registry-wide compatibility mode or policy.
    #[serde(rename = "config.update")]
    ConfigureRegistry,
    /// A change of the registry-wide write mode.
    #[serde(rename = "mode.update")]
    SetRegistryMode,
    /// A token was created.
    #[serde(rename = "token.create")]
    CreateToken,
    /// A token was revoked.
    #[serde(rename = "token.revoke")]
    RevokeToken,
    /// A request presented a credential that is not valid (at most one row per
    /// client address per minute).
    #[serde(rename = "auth.failure")]
    FailedAuthentication,
    /// A consumer declared what an application version of it reads.
    #[serde(rename = "consumer.declare")]
    DeclareConsumer,
    /// A consumer's application version was recorded as running in an environment.
    #[serde(rename = "deployment.record")]
    RecordDeployment,
    /// An environment was created, or its protection changed.
    #[serde(rename = "environment.update")]
    UpdateEnvironment,
    /// A contract's consumer protection changed.
    #[serde(rename = "contract.consumer-protection")]
    SetConsumerProtection,
    /// A major line was announced for retirement.
    #[serde(rename = "line.deprecate")]
    DeprecateLine,
    /// A major line's live versions were soft-deleted.
    #[serde(rename = "line.retire")]
    RetireLine,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 19] = [
        AuditAction::RegisterVersion,
        AuditAction::DeleteVersion,
        AuditAction::PurgeVersion,
        AuditAction::DeleteContract,
        AuditAction::PurgeContract,
        AuditAction::UpdateContract,
        AuditAction::ConfigureContract,
        AuditAction::SetContractMode,
        AuditAction::ConfigureRegistry,
        AuditAction::SetRegistryMode,
        AuditAction::CreateToken,
        AuditAction::RevokeToken,
        AuditAction::FailedAuthentication,
        AuditAction::DeclareConsumer,
        AuditAction::RecordDeployment,
        AuditAction::UpdateEnvironment,
        AuditAction::SetConsumerProtection,
        AuditAction::DeprecateLine,
        AuditAction::RetireLine,
    ];

    /// The stored text, e.g. `version.register`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RegisterVersion => "version.register",
            AuditAction::DeleteVersion => "version.delete",
            AuditAction::PurgeVersion => "version.delete-permanent",
            AuditAction::DeleteContract => "contract.delete",
            AuditAction::PurgeContract => "contract.delete-permanent",
            AuditAction::UpdateContract => "contract.update",
            AuditAction::ConfigureContract => "contract.config",
            AuditAction::SetContractMode => "contract.mode",
            AuditAction::ConfigureRegistry => "config.update",
            AuditAction::SetRegistryMode => "mode.update",
            AuditAction::CreateToken => "token.create",
            AuditAction::RevokeToken => "token.revoke",
            AuditAction::FailedAuthentication => "auth.failure",
            AuditAction::DeclareConsumer => "consumer.declare",
            AuditAction::RecordDeployment => "deployment.record",
            AuditAction::UpdateEnvironment => "environment.update",
            AuditAction::SetConsumerProtection => "contract.consumer-protection",
            AuditAction::DeprecateLine => "line.deprecate",
            AuditAction::RetireLine => "line.retire",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| UnknownName {
                what: "audit action",
                given: s.chars().take(100).collect(),
                expected: "version.register, version.delete, version.delete-permanent, contract.delete, contract.delete-permanent, contract.update, contract.config, contract.mode, config.update, mode.update, token.create, token.revoke, auth.failure, consumer.declare, deployment.record, environment.update, contract.consumer-protection, line.deprecate, line.retire",
            })
    }
}

/// How a recorded change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// A registration created a version.
    Accepted,
    /// A registration found the schema already registered and wrote nothing else.
    Unchanged,
    /// A registration was refused by the versioning rules.
    Refused,
    /// Any other change was made.
    Done,
    /// A credential was refused.
    Failed,
}

impl AuditOutcome {
    /// Every outcome.
    pub const ALL: [AuditOutcome; 5] = [
        AuditOutcome::Accepted,
        AuditOutcome::Unchanged,
        AuditOutcome::Refused,
        AuditOutcome::Done,
        AuditOutcome::Failed,
    ];

    /// The stored text, e.g. `accepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Accepted => "accepted",
            AuditOutcome::Unchanged => "unchanged",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Done => "done",
            AuditOutcome::Failed => "failed",
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditOutcome {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditOutcome::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| UnknownName {
                what: "audit outcome",
                given: s.chars().take(100).collect(),
                expected: "accepted, unchanged, refused, done, failed",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_outcome_reads_back_from_its_text_and_serde_agrees() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>().unwrap(), a);
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for o in AuditOutcome::ALL {
            assert_eq!(o.as_str().parse::<AuditOutcome>().unwrap(), o);
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
