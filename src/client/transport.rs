//! How clients reach a registry safely, shared by the library and the command line:
//! [`Secret`], a credential that is sent and never shown; the private CA certificates
//! a client trusts besides the system's; and network errors in words, with what to
//! do when the registry's certificate is refused.

use std::fmt;

/// A credential sent to a registry: an API token, or a password for HTTP basic auth.
///
/// Its text never appears in output: `Debug` prints `Secret(<redacted>)`, there is no
/// `Display`, and the errors about it ([`Secret::check`]) do not quote it. Only the
/// HTTP layer reads it ([`Secret::expose`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// Wraps a credential.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text, for the header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it can travel in an HTTP header: not empty, visible ASCII only (no
    /// spaces, no line breaks). The error says what is wrong without quoting it.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.0.is_empty() {
            return Err("is empty");
        }
        if !self.0.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "holds characters an HTTP header cannot carry (spaces, line breaks or non-ASCII)",
            );
        }
        Ok(())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

/// Parses from the command line. Never fails: clap quotes the value of a failed
/// parse in its error, so the check runs later ([`Secret::check`]).
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The certificates of a PEM file (a private CA, or a bundle of them), for
/// `add_root_certificate`. `origin` names the file in errors.
pub(crate) fn ca_certificates(
    pem: &[u8],
    origin: &str,
) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("the CA certificate file {origin} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "the CA certificate file {origin} holds no certificate (expected a `-----BEGIN CERTIFICATE-----` block)"
        ));
    }
    Ok(certs)
}

/// A reqwest error with its causes, on one line; when the registry's certificate
/// was refused, followed by what to do about it.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut hint = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        hint = hint.or_else(|| certificate_hint(s));
        source = s.source();
    }
    // Some connectors wrap the TLS error in types of their own; rustls' words for a
    // refused certificate are then all that is left.
    let hint = hint.or_else(|| {
        let (_, refused) = text.split_once("invalid peer certificate: ")?;
        Some(hint_for(refused))
    });
    if let Some(hint) = hint {
        text.push_str("; ");
        text.push_str(hint);
    }
    text
}

/// What to do about a refused certificate, when `e` (or the I/O error it is) says so.
fn certificate_hint(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })?;
    let rustls::Error::InvalidCertificate(problem) = tls else {
        return None;
    };
    Some(hint_for(&format!("{problem:?}")))
}

/// The hint for a refused certificate, by rustls' name for the problem (its `Debug`).
fn hint_for(problem: &str) -> &'static str {
    let starts = |p: &str| problem.starts_with(p);
    match () {
        () if starts("UnknownIssuer") => {
            "the registry's certificate is not signed by a CA this client trusts: for a private CA, \
             give its certificate with --ca-cert FILE (ACCORD_CA_CERT; ClientBuilder::ca_cert in \
             the library) or install it in the system's trust store"
        }
        () if starts("NotValidForName") => {
            "the registry's certificate is not issued for this host name: use a URL with a name \
             (or address) the certificate lists"
        }
        () if problem.contains("CaUsedAsEndEntity") => {
            "the registry serves a CA certificate as its own: serve a certificate signed by the \
             CA (and give the CA's certificate to the clients)"
        }
        () if starts("Expired") || starts("NotValidYet") => {
            "the registry's certificate is outside its validity period (or this machine's clock is wrong)"
        }
        () => "the registry's certificate was refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_text() {
        let s = Secret::new("accord_0123456789abcdef_topsecret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(s)).contains("topsecret"));
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_refused_without_being_quoted() {
        assert!(Secret::new("abc.DEF-123_~+/=").check().is_ok());
        assert!(Secret::new("").check().is_err());
        let err = Secret::new("s3cr\net").check().unwrap_err();
        assert!(!err.contains("s3cr"));
        assert!(Secret::new("with space").check().is_err());
    }

    #[test]
    fn a_refused_certificate_comes_with_what_to_do() {
        assert!(hint_for("UnknownIssuer").contains("--ca-cert"));
        assert!(hint_for("NotValidForNameContext { expected: .. }").contains("host name"));
        assert!(hint_for("Other(OtherError(CaUsedAsEndEntity))").contains("signed by the CA"));
        assert!(hint_for("ExpiredContext { time: .. }").contains("validity"));
        assert!(hint_for("BadSignature").contains("refused"));
    }
}
