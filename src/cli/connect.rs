//! The flags every command that talks to a registry shares: `--token` and
//! `--ca-cert`, checked and loaded once ([`Connect::load`]) and applied to the
//! command's HTTP client ([`Credentials`]).

use std::path::PathBuf;

use crate::client::Secret;
use crate::client::transport;

use super::Failure;

/// How to authenticate to the registry and which private CA to trust.
#[derive(Debug, Clone, clap::Args)]
pub struct Connect {
    /// API token for the registry, sent as `Authorization: Bearer`; never printed.
    #[arg(
        long,
        env = "ACCORD_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<Secret>,
    /// PEM file of a private CA that signed the registry's certificate (trusted besides
    /// the system's trust store).
    #[arg(long, env = "ACCORD_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// A checked token and the loaded CA certificates.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The bearer token.
    pub token: Option<Secret>,
    /// The CA file's PEM and its name, already checked to hold certificates.
    ca: Option<(PathBuf, Vec<u8>)>,
}

impl Connect {
    /// Checks the token (exit 2: empty or not sendable) and reads the CA file (exit
    /// 3: unreadable or without a certificate).
    pub fn load(&self) -> Result<Credentials, Failure> {
        load(self.token.as_ref(), self.ca_cert.as_deref())
    }
}

/// [`Connect::load`] for commands whose flags are named otherwise.
pub fn load(
    token: Option<&Secret>,
    ca_cert: Option<&std::path::Path>,
) -> Result<Credentials, Failure> {
    if let Some(token) = token {
        token
            .check()
            .map_err(|reason| Failure::usage(format!("the token given with --token {reason}")))?;
    }
    let ca = match ca_cert {
        None => None,
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                Failure::load(format!(
                    "cannot read the CA certificate file {}: {e}",
                    path.display()
                ))
            })?;
            transport::ca_certificates(&pem, &path.display().to_string()).map_err(Failure::load)?;
            Some((path.to_owned(), pem))
        }
    };
    Ok(Credentials {
        token: token.cloned(),
        ca,
    })
}

impl Credentials {
    fn certificates(&self) -> Vec<reqwest::Certificate> {
        self.ca
            .as_ref()
            .and_then(|(path, pem)| {
                transport::ca_certificates(pem, &path.display().to_string()).ok()
            })
            .unwrap_or_default()
    }

    /// A blocking HTTP client that trusts the CA.
    pub fn blocking(
        &self,
        mut builder: reqwest::blocking::ClientBuilder,
    ) -> reqwest::Result<reqwest::blocking::Client> {
        for cert in self.certificates() {
            builder = builder.add_root_certificate(cert);
        }
        builder.build()
    }

    /// An async HTTP client that trusts the CA.
    pub fn client(&self, mut builder: reqwest::ClientBuilder) -> reqwest::Result<reqwest::Client> {
        for cert in self.certificates() {
            builder = builder.add_root_certificate(cert);
        }
        builder.build()
    }

    /// The library's client builder with the token and the CA.
    pub fn library(
        &self,
        mut builder: crate::client::ClientBuilder,
    ) -> crate::client::ClientBuilder {
        if let Some(token) = &self.token {
            builder = builder.token(token.clone());
        }
        if let Some((_, pem)) = &self.ca {
            builder = builder.ca_cert_pem(pem.clone());
        }
        builder
    }

    /// Adds the bearer token, if any, to a request.
    pub fn authorize(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }
}
