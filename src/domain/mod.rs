//! Domain types shared by every layer: contract names, compatibility modes and
//! policies, write modes, semantic-version bumps and rule directions, and who may do
//! what (roles, scopes, principals) with what the audit log records of it, and who
//! reads what (consumers, environments, application versions, field paths).
//!
//! Constructors validate; once a value of these types exists it is trusted. This
//! module imports nothing else from the crate.

mod audit;
mod auth;
mod consumer;
mod field;
mod mode;
mod name;
mod selector;
pub mod suggest;
mod text;
mod write_mode;

pub use audit::{AuditAction, AuditOutcome};
pub use auth::{
    Action, Caller, Denied, Identity, InvalidScope, InvalidToken, InvalidTokenName, IssuedToken,
    Principal, Role, Scope, Scopes, TokenId, TokenName, TokenSecret, authorize, hash_secret,
    verify_secret,
};
pub use consumer::{AppVersion, ConsumerName, EnvironmentName, InvalidConsumerName, Protection};
pub use field::{FieldPath, InvalidFieldPath};
pub use mode::{Bump, Direction, Mode, Policy, UnknownName};
pub use name::{ContractName, InvalidName};
pub use selector::{InvalidSelector, VersionSelector};
pub use suggest::UnknownField;
pub use text::{NUL_MESSAGE, StoredText, stored_text};
pub use write_mode::WriteMode;
