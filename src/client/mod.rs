//! The consumer library: compile contracts into validators and check payloads
//! against them.
//!
//! [`Contract`] is a schema compiled with Accord's format rules (formats asserted for
//! every draft, strict `email`); [`Contract::validate`] lists every violation with its
//! instance path, schema path and message.

mod contract;

pub use contract::{Contract, ContractInfo, ValidateOptions, Violation};

use crate::schema::SchemaError;

/// Why a contract could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The schema document is not acceptable.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The schema passed its checks but the validator could not be built.
    #[error("cannot compile the schema at {pointer:?}: {message}")]
    Compile {
        /// JSON pointer to the offending keyword.
        pointer: String,
        /// What the compiler said.
        message: String,
    },
}
