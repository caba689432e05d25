//! Native TLS for `accord serve --tls-cert FILE --tls-key FILE`: the certificate
//! chain and private key, loaded once at start-up into a rustls acceptor that the
//! serving loop ([`super::server`]) runs on each accepted socket, under its own
//! deadline ([`crate::limits::Limits::tls_handshake_timeout`]).
//!
//! Loading refuses, with a message naming the file, a file that cannot be read, PEM
//! without a certificate or without a private key, and a key that does not belong to
//! the certificate: a registry must not start half-configured and serve plain errors.
//!
//! Only TLS 1.2 and 1.3 with rustls' safe defaults (ring provider), no client
//! certificates, and ALPN `http/1.1`, the one protocol the loop speaks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate chain and its key, ready to accept TLS connections.
#[derive(Clone)]
pub struct Tls {
    pub(super) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// Why the certificate or key cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file that cannot be read.
    #[error("cannot read the TLS {what} file {}: {reason}", path.display())]
    Read {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why (in the message, not a `source`, so it is said once).
        reason: std::io::Error,
    },
    /// A file that is not PEM, or holds no block of the kind needed.
    #[error("the TLS {what} file {} {problem}", path.display())]
    Pem {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        problem: String,
    },
    /// A private key that is not the certificate's.
    #[error(
        "the private key in {} does not belong to the certificate in {} (the first certificate of the file must be the server's own)",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refuses the pair for another reason (an unsupported key type, a
    /// certificate that is not X.509).
    #[error("cannot serve TLS with the certificate {} and the key {}: {reason}", cert.display(), key.display())]
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls' reason.
        reason: rustls::Error,
    },
}

const CERT: &str = "certificate";
const KEY: &str = "private key";

impl Tls {
    /// Loads a PEM certificate chain (the server's certificate first, then any
    /// intermediates) and its PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = read(CERT, cert)?;
        let chain = CertificateDer::pem_slice_iter(&chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(CERT, cert, &e))?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                what: CERT,
                path: cert.to_owned(),
                problem: "holds no certificate (expected a `-----BEGIN CERTIFICATE-----` block)"
                    .to_owned(),
            });
        }
        let key_pem = read(KEY, key)?;
        let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
            pem::Error::NoItemsFound => TlsError::Pem {
                what: KEY,
                path: key.to_owned(),
                problem: "holds no private key (expected a `-----BEGIN PRIVATE KEY-----`, \
                          `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----` block)"
                    .to_owned(),
            },
            e => pem_error(KEY, key, &e),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let unusable = |reason| TlsError::Unusable {
            cert: cert.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                    TlsError::KeyMismatch {
                        cert: cert.to_owned(),
                        key: key.to_owned(),
                    }
                }
                e => unusable(e),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|reason| TlsError::Read {
        what,
        path: path.to_owned(),
        reason,
    })
}

/// A PEM parsing error, in words. Never quotes the file's content (a key).
fn pem_error(what: &'static str, path: &Path, e: &pem::Error) -> TlsError {
    let problem = match e {
        pem::Error::NoItemsFound => "holds no PEM block of the kind needed".to_owned(),
        pem::Error::MissingSectionEnd { .. } => {
            "is not valid PEM: a block has no END line".to_owned()
        }
        pem::Error::IllegalSectionStart { .. } => {
            "is not valid PEM: a BEGIN line is malformed".to_owned()
        }
        pem::Error::Base64Decode(_) => "is not valid PEM: a block is not valid base64".to_owned(),
        pem::Error::SectionTooLarge => "is not valid PEM: a block is too large".to_owned(),
        other => format!("is not valid PEM: {other}"),
    };
    TlsError::Pem {
        what,
        path: path.to_owned(),
        problem,
    }
}
