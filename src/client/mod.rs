//! The consumer library: fetch contracts from a registry, cache them, compile them
//! into validators and check payloads against them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), accord::client::ClientError> {
//! let client = accord::client::Client::builder("http://127.0.0.1:8081").token("s3cret").build()?;
//! let contract = client.contract("orders.order_placed", "^1").await?;
//! let record = serde_json::json!({"order_id": "ORD-1"});
//! for v in contract.validate(&record) {
//!     eprintln!("{} ({}): {}", v.instance_path, v.schema_path, v.message);
//! }
//! # Ok(()) }
//! ```
//!
//! - [`Contract`]: a schema compiled with Accord's format rules (formats asserted for
//!   every draft, strict `email`); [`Contract::validate`] lists every violation.
//! - [`Client`]: HTTPS (or HTTP) fetches, with the certificate verified against the
//!   system's trust store, Mozilla's roots and any private CA given to
//!   [`ClientBuilder::ca_cert`]; a token ([`ClientBuilder::token`]) that is never
//!   shown, not even by `Debug`; fetches that honour `ETag` and `Cache-Control`, one compiled
//!   validator per schema id, and an on-disk cache for starting while the registry
//!   is unreachable.
//! - Consumers: [`ClientBuilder::consumer`] (or `ACCORD_CONSUMER`) names the
//!   application in an `Accord-Consumer` header, so the registry knows who reads which
//!   version; a fetch of a version whose major line is deprecated (`Deprecation`,
//!   `Sunset`, `Link: rel="successor-version"`) is reported once per process and
//!   contract, as a warning.

mod cache;
mod contract;
mod fetch;
pub(crate) mod transport;

pub use crate::schema::Violation;

/// The base URL of an Accord registry as a user may write it: a trailing `/` or
/// `/api/v1` (the native API's prefix, which every client adds itself) is dropped; a
/// URL without `http://` or `https://` is refused with the URL to write instead. One
/// rule for the library and every command that talks to a registry.
pub fn registry_base(url: &str) -> Result<String, String> {
    let mut base = url.trim().trim_end_matches('/');
    if let Some(root) = base.strip_suffix("/api/v1") {
        base = root.trim_end_matches('/');
    }
    if base.starts_with("http://") || base.starts_with("https://") {
        return Ok(base.to_owned());
    }
    if base.contains("://") {
        return Err(format!(
            "the registry URL must start with http:// or https://, got `{base}`"
        ));
    }
    Err(format!(
        "the registry URL must start with http:// or https://: write `http://{base}` (or `https://{base}`)"
    ))
}
pub use contract::{Contract, ContractInfo, ValidateOptions};
pub use fetch::{
    CONSUMER_HEADER, Client, ClientBuilder, Fetched, Origin, Selector, parse_contract_ref,
};
pub use transport::Secret;

use crate::schema::SchemaError;

/// Why a contract could not be loaded, fetched or compiled.
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
    /// A contract name or version requirement that cannot be parsed.
    #[error("invalid contract reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A registry URL that cannot be used.
    #[error("invalid registry URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A token that cannot be sent (empty, or not visible ASCII). Never quotes it.
    #[error("the registry token {reason}")]
    InvalidToken {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A consumer name (`ClientBuilder::consumer`, `ACCORD_CONSUMER`) that is not one.
    #[error("the consumer name to send as Accord-Consumer is not usable: {reason}")]
    InvalidConsumer {
        /// What is wrong with it.
        reason: String,
    },
    /// A CA certificate file that cannot be read or holds no certificate.
    #[error("{message}")]
    InvalidCaCert {
        /// What is wrong, naming the file.
        message: String,
    },
    /// The registry has no such contract or no version matching the requirement.
    #[error("{reference} not found in the registry ({code}): {message}")]
    NotFound {
        /// `name@selector` as asked.
        reference: String,
        /// The registry's error code (`contract-not-found`, `version-not-found`).
        code: String,
        /// The registry's message.
        message: String,
    },
    /// The registry refused the token (or asked for one).
    #[error("the registry refused the request (HTTP {status}): {message}; check the token")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The registry's message.
        message: String,
    },
    /// The registry could not be reached and no cached copy exists.
    #[error(
        "cannot reach the registry at {url}: {reason}; and there is no cached copy to start from{}",
        cache_dir.as_ref().map(|d| format!(" (looked in {d})")).unwrap_or_else(|| " (the disk cache is off)".to_owned())
    )]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The network error or server status.
        reason: String,
        /// The cache directory that had no copy.
        cache_dir: Option<String>,
    },
    /// The registry answered something unexpected.
    #[error("unexpected answer from the registry (HTTP {status}): {message}")]
    Registry {
        /// The HTTP status.
        status: u16,
        /// What was wrong with the answer.
        message: String,
    },
}
