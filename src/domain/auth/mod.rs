//! Who may do what: roles, contract scopes, actions, principals, and [`authorize`],
//! the one rule that decides whether a role with some scopes may do an action on a
//! contract. The HTTP APIs and the CLI all ask it; nothing else decides access.
//!
//! - `reader`: reads and validation, on contracts in scope.
//! - `producer`: a reader that may also register versions (and dry-run them),
//!   change contract metadata and deprecate major lines, in scope; and, for a
//!   consumer whose name is in scope, declare what it reads and record its
//!   deployments (consumers are named like contracts, and scopes match either).
//! - `admin`: everything: configuration, deletes, tokens, the audit log.
//!
//! Scopes are globs over contract names (`orders.*`; `*` is every contract). An action
//! on one contract needs a scope that matches its name. An action on the registry as
//! a whole (the global configuration, tokens, the audit log) needs the role and the
//! unrestricted scope `*`, so a scoped admin cannot widen its own reach by minting a
//! token. Registry-wide reads (the global configuration, listings) need only the role;
//! listings are then filtered to the contracts in scope.

mod token;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use token::{
    InvalidToken, InvalidTokenName, IssuedToken, TokenId, TokenName, TokenSecret, hash_secret,
    verify_secret,
};

use super::UnknownName;

/// A token's role. Ordered: each role may do everything the one before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and validation.
    Reader,
    /// Reader, plus registrations, dry runs and metadata changes.
    Producer,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Producer, Role::Admin];

    /// The lowercase name, e.g. `producer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Producer => "producer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    /// Case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                what: "role",
                given: s.chars().take(100).collect(),
                expected: "reader, producer, admin",
            })
    }
}

/// What a request does, as far as access is concerned. Every route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Health and readiness probes: anyone, always.
    Probe,
    /// Read contracts, versions, schemas, configuration.
    Read,
    /// Validate payloads against a contract.
    Validate,
    /// Register a version, or dry-run a registration (compatibility checks).
    Register,
    /// Change a contract's owner, description or tags.
    UpdateMetadata,
    /// Change the compatibility configuration or write mode (global or per contract).
    Configure,
    /// Delete versions or contracts, softly or permanently.
    Delete,
    /// Create, list and revoke tokens.
    ManageTokens,
    /// Read the audit log.
    ReadAudit,
    /// Declare what a consumer reads (its name is the one scopes match).
    DeclareConsumer,
    /// Record where a consumer's application version runs (scoped by consumer name).
    RecordDeployment,
    /// Announce a contract's major line for retirement: admin, as retiring it is
    /// (readers of the line are told to move, which is the contract owner's call).
    DeprecateLine,
    /// Read every contract at once (the export): a read that needs the scope `*`.
    Export,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 13] = [
        Action::Probe,
        Action::Read,
        Action::Validate,
        Action::Register,
        Action::UpdateMetadata,
        Action::Configure,
        Action::Delete,
        Action::ManageTokens,
        Action::ReadAudit,
        Action::DeclareConsumer,
        Action::RecordDeployment,
        Action::DeprecateLine,
        Action::Export,
    ];

    /// The weakest role that may do it; `None` for probes, which need no principal.
    pub fn required_role(self) -> Option<Role> {
        match self {
            Action::Probe => None,
            Action::Read | Action::Validate | Action::Export => Some(Role::Reader),
            Action::Register
            | Action::UpdateMetadata
            | Action::DeclareConsumer
            | Action::RecordDeployment => Some(Role::Producer),
            Action::Configure
            | Action::Delete
            | Action::ManageTokens
            | Action::ReadAudit
            | Action::DeprecateLine => Some(Role::Admin),
        }
    }

    /// Whether it only reads (so anonymous reads may do it, and a registry-wide one
    /// needs no unrestricted scope).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Action::Probe | Action::Read | Action::Validate | Action::Export
        )
    }

    /// Whether, done on the registry as a whole, it reaches every contract (so needs
    /// the unrestricted scope `*`): every change, and the export.
    fn needs_every_contract(self) -> bool {
        !self.is_read() || self == Action::Export
    }
}

/// A glob over contract names: `*` matches any run of characters (dots included), `?`
/// any one character; everything else matches itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

/// Why a string is not a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope {given:?}: {reason}")]
pub struct InvalidScope {
    /// The rejected input (cut to 100 characters).
    pub given: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Scope {
    /// The scope of every contract.
    pub fn all() -> Self {
        Self("*".to_owned())
    }

    /// Parses a glob: non-empty, at most 256 bytes, no whitespace or control characters.
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        let fail = |reason| InvalidScope {
            given: s.chars().take(100).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.len() > 256 {
            return Err(fail("it is longer than 256 bytes"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains whitespace or a control character"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it matches every contract.
    pub fn is_all(&self) -> bool {
        self.0.bytes().all(|b| b == b'*')
    }

    /// Whether `name` matches. Linear in practice: the classic two-cursor glob match,
    /// which backtracks only to the last `*`, so no pattern can make it explode.
    pub fn matches(&self, name: &str) -> bool {
        let pattern: Vec<char> = self.0.chars().collect();
        let text: Vec<char> = name.chars().collect();
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some('?') => {
                    p += 1;
                    t += 1;
                }
                Some(c) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Scope {
    type Error = InvalidScope;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> Self {
        s.0
    }
}

/// A token's scopes: it reaches a contract when any of them matches. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// `*`: every contract.
    pub fn all() -> Self {
        Self(vec![Scope::all()])
    }

    /// The given scopes, or `*` when none are given; duplicates dropped.
    pub fn new(scopes: Vec<Scope>) -> Self {
        let mut unique: Vec<Scope> = Vec::with_capacity(scopes.len());
        for s in scopes {
            if !unique.contains(&s) {
                unique.push(s);
            }
        }
        if unique.is_empty() {
            return Self::all();
        }
        Self(unique)
    }

    /// Whether one of them matches every contract.
    pub fn is_unrestricted(&self) -> bool {
        self.0.iter().any(Scope::is_all)
    }

    /// Whether `contract` is in scope.
    pub fn covers(&self, contract: &str) -> bool {
        self.0.iter().any(|s| s.matches(contract))
    }

    /// The globs.
    pub fn as_slice(&self) -> &[Scope] {
        &self.0
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

/// Why [`authorize`] said no: the role or the scope that was needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The action needs a stronger role.
    #[error("this needs the {needed} role; the caller has {held}")]
    Role {
        /// The weakest role that may do it.
        needed: Role,
        /// The caller's role.
        held: Role,
    },
    /// The contract is outside the caller's scopes.
    #[error("contract {contract:?} is outside the caller's scopes ({scopes})")]
    Scope {
        /// The contract.
        contract: String,
        /// The caller's scopes, as written.
        scopes: String,
    },
    /// A registry-wide change needs the unrestricted scope `*`.
    #[error(
        "this reaches the whole registry and needs the scope \"*\"; the caller's scopes are {scopes}"
    )]
    Unscoped {
        /// The caller's scopes, as written.
        scopes: String,
    },
}

/// Whether a principal with `role` and `scopes` may do `action` on `contract` (`None`:
/// on the registry as a whole). The one access rule; see the module documentation.
pub fn authorize(
    role: Role,
    scopes: &Scopes,
    action: Action,
    contract: Option<&str>,
) -> Result<(), Denied> {
    let Some(needed) = action.required_role() else {
        return Ok(());
    };
    if role < needed {
        return Err(Denied::Role { needed, held: role });
    }
    match contract {
        Some(name) if !scopes.covers(name) => Err(Denied::Scope {
            contract: name.chars().take(200).collect(),
            scopes: scopes.to_string(),
        }),
        Some(_) => Ok(()),
        None if !action.needs_every_contract() || scopes.is_unrestricted() => Ok(()),
        None => Err(Denied::Unscoped {
            scopes: scopes.to_string(),
        }),
    }
}

/// Who a principal is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// No credential: the registry is open (no token exists yet) or allows anonymous
    /// reads.
    Anonymous,
    /// An API token.
    Token {
        /// Its id (not secret).
        id: TokenId,
        /// Its name.
        name: TokenName,
    },
    /// The command line working directly on the database (`accord token … --database`):
    /// whoever holds the database credentials.
    Local {
        /// The operating-system user, when known.
        user: String,
    },
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Anonymous => f.write_str("anonymous"),
            Identity::Token { name, .. } => f.write_str(name.as_str()),
            Identity::Local { user } => write!(f, "local:{user}"),
        }
    }
}

/// Whoever makes a request: an identity with a role and scopes. Found once per request
/// and passed down; [`Principal::may`] asks [`authorize`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// Who.
    pub identity: Identity,
    /// What it may do.
    pub role: Role,
    /// Where.
    pub scopes: Scopes,
}

impl Principal {
    /// The anonymous caller of a registry that has no token yet: may do everything.
    pub fn open() -> Self {
        Self {
            identity: Identity::Anonymous,
            role: Role::Admin,
            scopes: Scopes::all(),
        }
    }

    /// The anonymous caller of a registry that allows anonymous reads.
    pub fn anonymous_reader() -> Self {
        Self {
            identity: Identity::Anonymous,
            role: Role::Reader,
            scopes: Scopes::all(),
        }
    }

    /// The command line on the database itself, as `user`.
    pub fn local(user: impl Into<String>) -> Self {
        Self {
            identity: Identity::Local { user: user.into() },
            role: Role::Admin,
            scopes: Scopes::all(),
        }
    }

    /// Whether it may do `action` on `contract`.
    pub fn may(&self, action: Action, contract: Option<&str>) -> Result<(), Denied> {
        authorize(self.role, &self.scopes, action, contract)
    }
}

/// The principal of a request with what the audit log records about it: the request
/// id and the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub principal: Arc<Principal>,
    /// The request id (generated when the request brought none).
    pub request_id: String,
    /// The client's address, when known.
    pub client: Option<String>,
}

impl Caller {
    /// A caller without request or address: the command line, or a test.
    pub fn local(principal: Principal) -> Self {
        Self {
            principal: Arc::new(principal),
            request_id: String::new(),
            client: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(globs: &[&str]) -> Scopes {
        Scopes::new(globs.iter().map(|g| Scope::parse(g).unwrap()).collect())
    }

    #[test]
    fn the_access_rule_as_a_table() {
        use Action::*;
        use Role::*;
        let all = scopes(&["*"]);
        let orders = scopes(&["orders.*"]);
        // (role, scopes, action, contract, allowed)
        let table: &[(Role, &Scopes, Action, Option<&str>, bool)] = &[
            (Reader, &all, Probe, None, true),
            (Reader, &all, Read, Some("orders.placed"), true),
            (Reader, &all, Validate, Some("orders.placed"), true),
            (Reader, &all, Read, None, true),
            (Reader, &all, Register, Some("orders.placed"), false),
            (Reader, &all, UpdateMetadata, Some("orders.placed"), false),
            (Reader, &all, Configure, None, false),
            (Reader, &all, Delete, Some("orders.placed"), false),
            (Reader, &all, ManageTokens, None, false),
            (Reader, &all, ReadAudit, None, false),
            (Reader, &orders, Read, Some("orders.placed"), true),
            (Reader, &orders, Read, Some("billing.invoice"), false),
            (Reader, &orders, Read, None, true),
            (Producer, &all, Read, Some("x"), true),
            (Producer, &all, Register, Some("x"), true),
            (Producer, &all, UpdateMetadata, Some("x"), true),
            (Producer, &all, Configure, Some("x"), false),
            (Producer, &all, Configure, None, false),
            (Producer, &all, Delete, Some("x"), false),
            (Producer, &all, ManageTokens, None, false),
            (Producer, &orders, Register, Some("orders.placed"), true),
            (Producer, &orders, Register, Some("billing.invoice"), false),
            (Producer, &orders, Validate, Some("billing.invoice"), false),
            (Reader, &all, DeclareConsumer, Some("billing.export"), false),
            (
                Reader,
                &all,
                RecordDeployment,
                Some("billing.export"),
                false,
            ),
            (Reader, &all, DeprecateLine, Some("orders.placed"), false),
            (
                Producer,
                &all,
                DeclareConsumer,
                Some("billing.export"),
                true,
            ),
            (
                Producer,
                &orders,
                DeclareConsumer,
                Some("billing.export"),
                false,
            ),
            (
                Producer,
                &orders,
                RecordDeployment,
                Some("orders.replay"),
                true,
            ),
            (
                Producer,
                &orders,
                DeprecateLine,
                Some("orders.placed"),
                false,
            ),
            (Admin, &orders, DeprecateLine, Some("orders.placed"), true),
            (
                Admin,
                &orders,
                DeprecateLine,
                Some("billing.invoice"),
                false,
            ),
            (Admin, &all, Configure, None, true),
            (Admin, &all, Configure, Some("x"), true),
            (Admin, &all, Delete, Some("x"), true),
            (Admin, &all, ManageTokens, None, true),
            (Admin, &all, ReadAudit, None, true),
            (Admin, &orders, Delete, Some("orders.placed"), true),
            (Admin, &orders, Delete, Some("billing.invoice"), false),
            (Admin, &orders, Configure, None, false),
            (Admin, &orders, ManageTokens, None, false),
            (Admin, &orders, ReadAudit, None, false),
            (Admin, &orders, Read, None, true),
            (Reader, &all, Export, None, true),
            (Reader, &orders, Export, None, false),
            (Admin, &orders, Export, None, false),
        ];
        for (role, scopes, action, contract, allowed) in table {
            let got = authorize(*role, scopes, *action, *contract);
            assert_eq!(
                got.is_ok(),
                *allowed,
                "{role} with [{scopes}] doing {action:?} on {contract:?}: {got:?}"
            );
        }
    }

    #[test]
    fn a_refusal_names_the_role_or_scope_needed() {
        let e = authorize(
            Role::Reader,
            &Scopes::all(),
            Action::Register,
            Some("orders.placed"),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "this needs the producer role; the caller has reader"
        );
        let e = authorize(
            Role::Producer,
            &scopes(&["orders.*"]),
            Action::Register,
            Some("billing.x"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("orders.*"), "{e}");
        assert!(e.to_string().contains("billing.x"), "{e}");
    }

    #[test]
    fn every_action_has_a_required_role_except_probes() {
        for a in Action::ALL {
            assert_eq!(a.required_role().is_none(), a == Action::Probe, "{a:?}");
        }
    }

    #[test]
    fn globs_match_whole_names() {
        let cases = [
            ("*", "anything.at.all", true),
            ("orders.*", "orders.placed", true),
            ("orders.*", "orders.a.b", true),
            ("orders.*", "orders", false),
            ("orders.*", "billing.orders.x", false),
            ("orders.placed", "orders.placed", true),
            ("orders.placed", "orders.placed2", false),
            ("*.placed", "orders.placed", true),
            ("*.placed", "orders.placed.v2", false),
            ("o?ders.*", "orders.x", true),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b*", "xxbxxaxx", false),
            ("**", "", true),
        ];
        for (glob, name, want) in cases {
            assert_eq!(
                Scope::parse(glob).unwrap().matches(name),
                want,
                "{glob} {name}"
            );
        }
    }

    #[test]
    fn a_pathological_glob_still_answers_quickly() {
        let glob = Scope::parse(&"*a".repeat(100)).unwrap();
        let name = "a".repeat(200) + "b";
        assert!(!glob.matches(&name));
    }

    #[test]
    fn scopes_default_to_everything_and_drop_duplicates() {
        assert_eq!(Scopes::new(vec![]), Scopes::all());
        assert_eq!(scopes(&["a.*", "a.*"]).as_slice().len(), 1);
        assert!(!scopes(&["a.*"]).is_unrestricted());
        assert!(scopes(&["a.*", "*"]).is_unrestricted());
    }

    #[test]
    fn scopes_refuse_empty_and_blank_globs() {
        assert!(Scope::parse("").is_err());
        assert!(Scope::parse("orders *").is_err());
        assert!(Scope::parse(&"a".repeat(257)).is_err());
    }

    #[test]
    fn roles_parse_in_any_case_and_are_ordered() {
        assert_eq!("Producer".parse::<Role>().unwrap(), Role::Producer);
        assert!("owner".parse::<Role>().is_err());
        assert!(Role::Reader < Role::Producer && Role::Producer < Role::Admin);
    }
}
