//! API token text: `accord_<id>_<secret>`, where the id (16 hex digits, 64 random
//! bits) names the stored token and the secret (64 hex digits, 256 random bits) proves
//! the bearer holds it.
//!
//! The prefix lets secret scanners recognise a leaked token; the id lets the server
//! find the one stored hash to compare with, so it never scans them all. Only the
//! SHA-256 of the secret is stored. A plain (fast) hash is the right tool here, unlike
//! for passwords: the secret is 256 random bits, so there is nothing for a slow hash
//! to protect against guessing, and a slow one (argon2, bcrypt) would cost
//! milliseconds on every request. Comparison is constant-time (`subtle`).
//!
//! No type here prints a secret: [`TokenSecret`]'s `Debug` is redacted and it has no
//! `Display`; only [`IssuedToken::text`] spells a token out, once, for its creator.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every token.
const PREFIX: &str = "accord_";
/// Random bytes in an id.
const ID_BYTES: usize = 8;
/// Random bytes in a secret (256 bits).
const SECRET_BYTES: usize = 32;

/// Why a presented token (or a token name) is not usable. Never carries the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    /// Not of the form `accord_<16 hex>_<64 hex>`.
    #[error("the token is malformed (expected accord_<id>_<secret>)")]
    Malformed,
    /// The operating system's random source failed.
    #[error("no randomness available to make a token")]
    NoRandomness,
}

/// A token's id: 16 lowercase hex digits. Not secret (it appears in listings, the
/// audit log and the token text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TokenId(String);

impl TokenId {
    /// Parses an id.
    pub fn parse(s: &str) -> Option<Self> {
        is_hex(s, ID_BYTES * 2).then(|| Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token's name, chosen by its creator: 1 to 100 characters of ASCII letters,
/// digits, `.`, `_`, `-` and `@`, not 16 hex digits (that would read as an id: a
/// token is named by its name or its id, so the two must never collide).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TokenName(String);

/// Why a string is not a token name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid token name {given:?}: {reason}")]
pub struct InvalidTokenName {
    /// The rejected input (cut to 100 characters).
    pub given: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl TokenName {
    /// Parses a name.
    pub fn parse(s: &str) -> Result<Self, InvalidTokenName> {
        let fail = |reason| InvalidTokenName {
            given: s.chars().take(100).collect(),
            reason,
        };
        if s.is_empty() || s.len() > 100 {
            return Err(fail("it must be 1 to 100 characters long"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
        {
            return Err(fail(
                "only ASCII letters, digits, '.', '_', '-' and '@' are allowed",
            ));
        }
        if TokenId::parse(s).is_some() {
            return Err(fail("16 hexadecimal digits would read as a token id"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token's secret part. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

impl TokenSecret {
    /// Splits a presented token into its id and secret.
    pub fn parse_text(text: &str) -> Result<(TokenId, TokenSecret), InvalidToken> {
        let rest = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(InvalidToken::Malformed)?;
        let (id, secret) = rest.split_once('_').ok_or(InvalidToken::Malformed)?;
        let id = TokenId::parse(id).ok_or(InvalidToken::Malformed)?;
        if !is_hex(secret, SECRET_BYTES * 2) {
            return Err(InvalidToken::Malformed);
        }
        Ok((id, TokenSecret(secret.to_owned())))
    }

    /// Whether `other` is the same secret, compared in constant time.
    pub fn same_as(&self, other: &TokenSecret) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

/// A freshly made token: shown once, to its creator, then only its hash is kept.
#[derive(Debug)]
pub struct IssuedToken {
    /// Its id.
    pub id: TokenId,
    /// Its secret.
    pub secret: TokenSecret,
}

impl IssuedToken {
    /// A new token from the operating system's random source.
    pub fn generate() -> Result<Self, InvalidToken> {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut id).map_err(|_| InvalidToken::NoRandomness)?;
        getrandom::fill(&mut secret).map_err(|_| InvalidToken::NoRandomness)?;
        Ok(Self {
            id: TokenId(hex::encode(id)),
            secret: TokenSecret(hex::encode(secret)),
        })
    }

    /// The token as the bearer sends it: `accord_<id>_<secret>`.
    pub fn text(&self) -> String {
        format!("{PREFIX}{}_{}", self.id, self.secret.0)
    }

    /// The hash to store.
    pub fn hash(&self) -> String {
        hash_secret(&self.secret)
    }
}

/// The stored form of a secret: its SHA-256, lowercase hex.
pub fn hash_secret(secret: &TokenSecret) -> String {
    hex::encode(Sha256::digest(secret.0.as_bytes()))
}

/// Whether `secret` hashes to `stored`, compared in constant time.
pub fn verify_secret(secret: &TokenSecret, stored: &str) -> bool {
    let presented = hash_secret(secret);
    presented.as_bytes().ct_eq(stored.as_bytes()).into()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_parses_back_to_its_id_and_verifies() {
        let issued = IssuedToken::generate().unwrap();
        let text = issued.text();
        assert!(text.starts_with("accord_"));
        assert_eq!(text.len(), "accord_".len() + 16 + 1 + 64);
        let (id, secret) = TokenSecret::parse_text(&text).unwrap();
        assert_eq!(id, issued.id);
        assert!(verify_secret(&secret, &issued.hash()));
    }

    #[test]
    fn another_secret_does_not_verify() {
        let a = IssuedToken::generate().unwrap();
        let b = IssuedToken::generate().unwrap();
        assert_ne!(a.text(), b.text());
        assert!(!verify_secret(&b.secret, &a.hash()));
    }

    #[test]
    fn malformed_texts_are_refused() {
        let good = IssuedToken::generate().unwrap().text();
        for bad in [
            "",
            "accord_",
            "token",
            &good.replace("accord_", "acord_"),
            &good[..good.len() - 1],
            &format!("{good}0"),
            &good.to_uppercase(),
            "accord_0123456789abcdef",
        ] {
            assert_eq!(
                TokenSecret::parse_text(bad).unwrap_err(),
                InvalidToken::Malformed,
                "{bad}"
            );
        }
    }

    #[test]
    fn names_that_would_read_as_ids_or_hold_odd_characters_are_refused() {
        assert!(TokenName::parse("ci-orders").is_ok());
        assert!(TokenName::parse("alice@example.com").is_ok());
        assert!(TokenName::parse("0123456789abcdef").is_err());
        assert!(TokenName::parse("").is_err());
        assert!(TokenName::parse("a b").is_err());
        assert!(TokenName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let issued = IssuedToken::generate().unwrap();
        let text = issued.text();
        let secret_part = text.rsplit('_').next().unwrap();
        let shown = format!("{issued:?}");
        assert!(!shown.contains(secret_part), "{shown}");
        assert!(shown.contains(issued.id.as_str()));
    }
}
