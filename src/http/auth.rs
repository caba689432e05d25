//! Who is calling, and whether they may: authentication ([`identify`], one layer
//! around every request) and authorization ([`Rule`], one per route, checked by
//! [`guard`] through the one access rule, [`crate::domain::authorize`]).
//!
//! Credentials: `Authorization: Bearer <token>` on both APIs; on the Confluent API
//! also HTTP Basic, whose user names the token (its name or id) and whose password is
//! the token, so the Confluent clients' `basic.auth.user.info` works unchanged.
//!
//! A token is found by the id in its text (never by scanning hashes) and its secret
//! compared in constant time. Verified tokens are kept in process for at most
//! [`FRESH`], so a revocation made by any process sharing the database is seen within
//! a second; `last_used_at` is written at most once a minute per token, off the
//! request path. The registry is open while no token exists (checked at most once a
//! second until one does); from then on every request but the probes needs one,
//! unless anonymous reads are allowed.
//!
//! A token's text never leaves this module: not in an answer, a log line, an audit
//! row or an error.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;

use super::AppState;
use super::confluent::{self, ConfluentError};
use super::error::{ApiError, forbidden};
use super::requests::RequestId;
use crate::domain::{
    Action, AuditAction, AuditOutcome, Caller, Denied, Identity, Principal, TokenId, TokenSecret,
    verify_secret,
};
use crate::store::{AuditEntry, Store, TokenRecord};

/// How long a token read from the database is trusted before it is read again: a
/// revocation by another process takes effect within this (plus one query).
const FRESH: Duration = Duration::from_millis(800);

/// How long "no token exists" is trusted before the database is asked again.
const OPEN_RECHECK: Duration = Duration::from_secs(1);

/// `last_used_at` is written at most this often per token.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// At most one failed-authentication audit row per client address this often.
const FAILURE_EVERY: Duration = Duration::from_secs(60);

/// Entries kept in each in-process table (tokens, touches, failures) before stale
/// ones are dropped; a table that is still full stops growing.
const MAX_ENTRIES: usize = 10_000;

/// Authentication settings of a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// Requests without a credential may read and validate (`--anonymous-read`).
    pub anonymous_read: bool,
}

/// Why a request has no principal: answered 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// No `Authorization` header, and the registry needs one.
    Missing,
    /// Not `Bearer <token>` (or, on the Confluent API, Basic), or not a token's form.
    Malformed,
    /// Basic credentials on the native API.
    BasicOnNative,
    /// No token has this id.
    Unknown,
    /// The token has expired.
    Expired,
    /// The token was revoked.
    Revoked,
    /// The Basic user names another token than the password is.
    WrongUser,
    /// The database could not be asked.
    Unavailable,
}

impl Unauthenticated {
    fn message(self) -> &'static str {
        match self {
            Unauthenticated::Missing => {
                "this registry needs an API token: send `Authorization: Bearer <token>` (an admin creates one with `accord token create`)"
            }
            Unauthenticated::Malformed => {
                "the credential is malformed: send `Authorization: Bearer accord_<id>_<secret>` (or, on the Confluent API, HTTP Basic with the token's name and the token)"
            }
            Unauthenticated::BasicOnNative => {
                "the native API takes `Authorization: Bearer <token>`; HTTP Basic is for the Confluent API"
            }
            Unauthenticated::Unknown => "the token is not known to this registry",
            Unauthenticated::Expired => "the token has expired",
            Unauthenticated::Revoked => "the token was revoked",
            Unauthenticated::WrongUser => {
                "the user name does not name the token given as password (use the token's name or id)"
            }
            Unauthenticated::Unavailable => {
                "the credential could not be checked: the database does not answer"
            }
        }
    }

    /// The reason as recorded in the audit log.
    fn reason(self) -> &'static str {
        match self {
            Unauthenticated::Missing => "missing",
            Unauthenticated::Malformed | Unauthenticated::BasicOnNative => "malformed",
            Unauthenticated::Unknown => "unknown",
            Unauthenticated::Expired => "expired",
            Unauthenticated::Revoked => "revoked",
            Unauthenticated::WrongUser => "wrong-user",
            Unauthenticated::Unavailable => "unavailable",
        }
    }
}

/// The outcome of authentication, in every request's extensions.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// The request acts as this principal.
    Principal(Arc<Principal>),
    /// It has no valid credential.
    Refused(Unauthenticated),
}

/// A verified token as cached.
#[derive(Debug)]
struct Known {
    principal: Arc<Principal>,
    secret_hash: String,
    expires_at: Option<chrono::DateTime<Utc>>,
    revoked: bool,
    /// The secret that hashed to `secret_hash` when this entry was first presented
    /// with it: later requests compare with it instead of hashing again (a SHA-256
    /// per request cost a fifth of a fetch's throughput). It lives as long as the
    /// entry, [`FRESH`] after the last read from the database.
    verified: OnceLock<TokenSecret>,
}

impl Known {
    /// Whether `secret` is this token's secret, in constant time.
    fn verifies(&self, secret: &TokenSecret) -> bool {
        if let Some(verified) = self.verified.get() {
            return verified.same_as(secret);
        }
        let ok = verify_secret(secret, &self.secret_hash);
        if ok {
            let _ = self.verified.set(secret.clone());
        }
        ok
    }
}

struct Cached {
    read_at: Instant,
    /// `None`: no token has this id.
    token: Option<Arc<Known>>,
}

/// The server's authentication state: the token cache and the rate limits of what it
/// writes.
pub struct Gate {
    store: Arc<dyn Store>,
    config: AuthConfig,
    /// Once a token exists, the registry is never open again (tokens are never deleted).
    tokens_exist: AtomicBool,
    /// Milliseconds since `epoch` of the last "no token exists" answer.
    open_checked_ms: AtomicU64,
    epoch: Instant,
    tokens: Mutex<HashMap<TokenId, Cached>>,
    touched: Mutex<HashMap<TokenId, Instant>>,
    failures: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Gate {
    /// The gate of a server over `store`.
    pub fn new(store: Arc<dyn Store>, config: AuthConfig) -> Self {
        Self {
            store,
            config,
            tokens_exist: AtomicBool::new(false),
            open_checked_ms: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
            tokens: Mutex::default(),
            touched: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Its settings.
    pub fn config(&self) -> AuthConfig {
        self.config
    }

    /// Notes that a token now exists (one was created through this process).
    pub fn token_created(&self) {
        self.tokens_exist.store(true, Ordering::Release);
    }

    /// Forgets what is cached of a token (it was revoked through this process).
    pub fn forget(&self, id: &TokenId) {
        lock(&self.tokens).remove(id);
    }

    /// Whether any token exists; "no" is trusted for [`OPEN_RECHECK`]. `Err` when the
    /// database cannot be asked (the request is then answered 503, neither open nor
    /// refused as unauthenticated).
    async fn tokens_exist(&self) -> Result<bool, Unauthenticated> {
        if self.tokens_exist.load(Ordering::Acquire) {
            return Ok(true);
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let checked = self.open_checked_ms.load(Ordering::Acquire);
        if checked != u64::MAX && now.saturating_sub(checked) < OPEN_RECHECK.as_millis() as u64 {
            return Ok(false);
        }
        match self.store.any_token().await {
            Ok(true) => {
                self.tokens_exist.store(true, Ordering::Release);
                Ok(true)
            }
            Ok(false) => {
                self.open_checked_ms.store(now, Ordering::Release);
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether any token exists");
                Err(Unauthenticated::Unavailable)
            }
        }
    }

    /// The principal of a request with these headers.
    async fn authenticate(&self, headers: &HeaderMap, confluent: bool) -> Authentication {
        let credential = match credential(headers, confluent) {
            Ok(c) => c,
            Err(why) => return Authentication::Refused(why),
        };
        let Some(credential) = credential else {
            match self.tokens_exist().await {
                Ok(false) => return Authentication::Principal(open_principal()),
                Ok(true) => {}
                Err(why) => return Authentication::Refused(why),
            }
            if self.config.anonymous_read {
                return Authentication::Principal(anonymous_reader());
            }
            return Authentication::Refused(Unauthenticated::Missing);
        };
        let known = match self.lookup(&credential.id).await {
            Ok(Some(known)) => known,
            Ok(None) => return Authentication::Refused(Unauthenticated::Unknown),
            Err(why) => return Authentication::Refused(why),
        };
        if !known.verifies(&credential.secret) {
            return Authentication::Refused(Unauthenticated::Unknown);
        }
        if known.revoked {
            return Authentication::Refused(Unauthenticated::Revoked);
        }
        if known.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Authentication::Refused(Unauthenticated::Expired);
        }
        if let Some(user) = &credential.user
            && let Identity::Token { id, name } = &known.principal.identity
            && user != id.as_str()
            && user != name.as_str()
        {
            return Authentication::Refused(Unauthenticated::WrongUser);
        }
        self.touch(&credential.id);
        Authentication::Principal(Arc::clone(&known.principal))
    }

    /// The token with this id, from the cache while fresh, else from the database.
    async fn lookup(&self, id: &TokenId) -> Result<Option<Arc<Known>>, Unauthenticated> {
        if let Some(cached) = lock(&self.tokens).get(id)
            && cached.read_at.elapsed() < FRESH
        {
            return Ok(cached.token.clone());
        }
        let read_at = Instant::now();
        let record = self.store.token(id).await.map_err(|e| {
            tracing::warn!(error = %e, "cannot read a token");
            Unauthenticated::Unavailable
        })?;
        let token = record.map(|r| Arc::new(known(r)));
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_ENTRIES {
            tokens.retain(|_, c| c.read_at.elapsed() < FRESH);
        }
        if tokens.len() < MAX_ENTRIES {
            tokens.insert(
                id.clone(),
                Cached {
                    read_at,
                    token: token.clone(),
                },
            );
        }
        Ok(token)
    }

    /// Writes `last_used_at` when it was not written by this process in the last
    /// minute, on a task of its own.
    fn touch(&self, id: &TokenId) {
        {
            let mut touched = lock(&self.touched);
            if touched.get(id).is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
                return;
            }
            if touched.len() >= MAX_ENTRIES {
                touched.retain(|_, at| at.elapsed() < TOUCH_EVERY);
                if touched.len() >= MAX_ENTRIES {
                    return;
                }
            }
            touched.insert(id.clone(), Instant::now());
        }
        let store = Arc::clone(&self.store);
        let id = id.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_token(&id, Utc::now()).await {
                tracing::warn!(token.id = %id, error = %e, "cannot note a token's last use");
            }
        });
    }

    /// Records a refused credential in the audit log, at most once per client address
    /// per [`FAILURE_EVERY`], on a task of its own.
    fn record_failure(&self, why: Unauthenticated, request_id: &str, client: Option<String>) {
        let key = client.clone().unwrap_or_default();
        {
            let mut failures = lock(&self.failures);
            if failures
                .get(&key)
                .is_some_and(|at| at.elapsed() < FAILURE_EVERY)
            {
                return;
            }
            if failures.len() >= MAX_ENTRIES {
                failures.retain(|_, at| at.elapsed() < FAILURE_EVERY);
                if failures.len() >= MAX_ENTRIES {
                    return;
                }
            }
            failures.insert(key, Instant::now());
        }
        let caller = Caller {
            principal: anonymous_reader(),
            request_id: request_id.to_owned(),
            client,
        };
        let entry = AuditEntry::new(&caller, AuditAction::FailedAuthentication)
            .outcome(AuditOutcome::Failed)
            .detail(serde_json::json!({ "reason": why.reason() }));
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            let since = Utc::now() - chrono::Duration::from_std(FAILURE_EVERY).unwrap_or_default();
            if let Err(e) = store.record_auth_failure(&entry, since).await {
                tracing::warn!(error = %e, "cannot record a failed authentication");
            }
        });
    }
}

fn open_principal() -> Arc<Principal> {
    static OPEN: std::sync::OnceLock<Arc<Principal>> = std::sync::OnceLock::new();
    Arc::clone(OPEN.get_or_init(|| Arc::new(Principal::open())))
}

fn anonymous_reader() -> Arc<Principal> {
    static ANONYMOUS: std::sync::OnceLock<Arc<Principal>> = std::sync::OnceLock::new();
    Arc::clone(ANONYMOUS.get_or_init(|| Arc::new(Principal::anonymous_reader())))
}

fn known(r: TokenRecord) -> Known {
    Known {
        principal: Arc::new(Principal {
            identity: Identity::Token {
                id: r.id,
                name: r.name,
            },
            role: r.role,
            scopes: r.scopes,
        }),
        secret_hash: r.secret_hash,
        expires_at: r.expires_at,
        revoked: r.revoked_at.is_some(),
        verified: OnceLock::new(),
    }
}

/// A presented credential.
struct Credential {
    id: TokenId,
    secret: TokenSecret,
    /// The Basic user, when Basic was used.
    user: Option<String>,
}

/// The credential of a request, if it has one.
fn credential(headers: &HeaderMap, confluent: bool) -> Result<Option<Credential>, Unauthenticated> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Unauthenticated::Malformed)?
        .trim();
    let (scheme, rest) = value.split_once(' ').ok_or(Unauthenticated::Malformed)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        let (id, secret) = TokenSecret::parse_text(rest).map_err(|_| Unauthenticated::Malformed)?;
        return Ok(Some(Credential {
            id,
            secret,
            user: None,
        }));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if !confluent {
            return Err(Unauthenticated::BasicOnNative);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| Unauthenticated::Malformed)?;
        let decoded = String::from_utf8(decoded).map_err(|_| Unauthenticated::Malformed)?;
        let (user, password) = decoded.split_once(':').ok_or(Unauthenticated::Malformed)?;
        let (id, secret) =
            TokenSecret::parse_text(password).map_err(|_| Unauthenticated::Malformed)?;
        return Ok(Some(Credential {
            id,
            secret,
            user: Some(user.trim().to_owned()),
        }));
    }
    Err(Unauthenticated::Malformed)
}

/// Finds the caller of a request (its principal, or why it has none) and puts it in
/// the request's extensions. Refuses nothing itself: each route's [`guard`] does.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let confluent = confluent::owns_path(request.uri().path());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |id| id.0.to_string());
    let client = client_address(&request);
    let authentication = state.gate.authenticate(request.headers(), confluent).await;
    match &authentication {
        Authentication::Principal(principal) => {
            request.extensions_mut().insert(Caller {
                principal: Arc::clone(principal),
                request_id,
                client,
            });
        }
        Authentication::Refused(why) => {
            if *why != Unauthenticated::Missing && *why != Unauthenticated::Unavailable {
                state.gate.record_failure(*why, &request_id, client);
            }
        }
    }
    request.extensions_mut().insert(authentication.clone());
    let mut response = next.run(request).await;
    // For the request's log line, written by the outer layer ([`super::requests`]).
    response.extensions_mut().insert(authentication);
    response
}

/// What a route's request is about, for the access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The registry as a whole (listings are then filtered to the caller's scopes).
    Registry,
    /// The contract named by this path parameter.
    Contract(&'static str),
    /// The contracts that hold the schema whose id is this path parameter: allowed
    /// when one of them is.
    Schema(&'static str),
}

/// What a route needs: an action on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// What the route does.
    pub action: Action,
    /// On what.
    pub target: Target,
}

impl Rule {
    /// `action` on the registry as a whole.
    pub const fn registry(action: Action) -> Self {
        Self {
            action,
            target: Target::Registry,
        }
    }

    /// `action` on the contract named by path parameter `param`.
    pub const fn contract(action: Action, param: &'static str) -> Self {
        Self {
            action,
            target: Target::Contract(param),
        }
    }

    /// A read of the schema whose id is path parameter `param`.
    pub const fn schema(param: &'static str) -> Self {
        Self {
            action: Action::Read,
            target: Target::Schema(param),
        }
    }

    /// A health probe: open to everyone.
    pub const fn probe() -> Self {
        Self::registry(Action::Probe)
    }
}

/// The route-level state of [`guard`].
#[derive(Clone)]
pub struct Guarded {
    /// The route's rule.
    pub rule: Rule,
    /// The server.
    pub state: AppState,
}

/// Lets a request through when its principal may do its route's [`Rule`]; otherwise
/// 401 (no valid credential, or an anonymous caller asking for more than reading)
/// or 403 naming the role or scope needed, in the error shape of the route's API.
pub async fn guard(
    State(Guarded { rule, state }): State<Guarded>,
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    if rule.action == Action::Probe {
        return next.run(request).await;
    }
    let confluent = confluent::owns_path(request.uri().path());
    let Ok(params) = params else {
        let message = "a path parameter is not valid UTF-8 once percent-decoded";
        return if confluent {
            ConfluentError::new(404, format!("HTTP 404 Not Found: {message}")).into_response()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", message).into_response()
        };
    };
    let principal = match request.extensions().get::<Authentication>() {
        Some(Authentication::Principal(p)) => Arc::clone(p),
        Some(Authentication::Refused(Unauthenticated::Unavailable)) => {
            return unavailable(confluent);
        }
        Some(Authentication::Refused(why)) => return unauthenticated(*why, confluent),
        None => {
            tracing::error!("a route was reached without its caller being identified");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the cause is in the server log",
            )
            .into_response();
        }
    };
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
    let decision = match rule.target {
        Target::Registry => principal.may(rule.action, None),
        Target::Contract(p) => principal.may(rule.action, param(p)),
        Target::Schema(p) => match param(p).and_then(|id| id.trim().parse::<i64>().ok()) {
            // A malformed id is the handler's 400/404.
            None => Ok(()),
            Some(_) if principal.scopes.is_unrestricted() => principal.may(rule.action, None),
            Some(id) => schema_access(&state, &principal, rule.action, id).await,
        },
    };
    match decision {
        Ok(()) => next.run(request).await,
        Err(_) if principal.identity == Identity::Anonymous => {
            unauthenticated(Unauthenticated::Missing, confluent)
        }
        Err(denied) => refuse(&denied, confluent),
    }
}

/// Whether `principal` may do `action` on one of the contracts holding schema `id`
/// (a schema no contract holds is left to the handler's 404).
async fn schema_access(
    state: &AppState,
    principal: &Principal,
    action: Action,
    id: i64,
) -> Result<(), Denied> {
    let Ok(versions) = state.registry.versions_with_schema(id).await else {
        return Ok(());
    };
    let mut first = None;
    for v in &versions {
        match principal.may(action, Some(v.contract.as_str())) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// 503 with `Retry-After` when the database cannot tell who the caller is, in the
/// route's API's shape (as every other request the database cannot serve).
fn unavailable(confluent: bool) -> Response {
    let e = || {
        crate::registry::RegistryError::Store(crate::store::StoreError::Unavailable(
            "checking the request's credential".to_owned(),
        ))
    };
    if confluent {
        ConfluentError::from(e()).into_response()
    } else {
        ApiError::from(e()).into_response()
    }
}

/// 403 in the route's API's shape.
fn refuse(denied: &Denied, confluent: bool) -> Response {
    if confluent {
        ConfluentError::forbidden(denied).into_response()
    } else {
        forbidden(denied).into_response()
    }
}

/// 401 with `WWW-Authenticate`, in the route's API's shape.
fn unauthenticated(why: Unauthenticated, confluent: bool) -> Response {
    let mut response = if confluent {
        ConfluentError::unauthenticated(why.message()).into_response()
    } else {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", why.message()).into_response()
    };
    let headers = response.headers_mut();
    headers.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"accord\""),
    );
    if confluent {
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"accord\""),
        );
    }
    response
}

/// The client's address, when the server was started with connection info.
fn client_address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Every route passes through the layers that set it; a route without them is
        // a bug, answered without serving anyone unauthenticated.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a route was reached without its caller being identified");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the cause is in the server log",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IssuedToken;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_and_basic_credentials_are_read_and_basic_only_on_confluent() {
        let token = IssuedToken::generate().unwrap();
        let bearer = with_authorization(&format!("Bearer {}", token.text()));
        let c = credential(&bearer, false).unwrap().unwrap();
        assert_eq!(c.id, token.id);
        assert!(c.user.is_none());
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("ci-orders:{}", token.text()));
        let basic = with_authorization(&format!("Basic {basic}"));
        let c = credential(&basic, true).unwrap().unwrap();
        assert_eq!(c.id, token.id);
        assert_eq!(c.user.as_deref(), Some("ci-orders"));
        assert_eq!(
            credential(&basic, false).err(),
            Some(Unauthenticated::BasicOnNative)
        );
        assert!(credential(&HeaderMap::new(), false).unwrap().is_none());
        for bad in ["Bearer", "Bearer nope", "Token x", "Basic !!!"] {
            assert_eq!(
                credential(&with_authorization(bad), true).err(),
                Some(Unauthenticated::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_verified_secret_is_compared_without_hashing_and_another_is_still_refused() {
        let token = IssuedToken::generate().unwrap();
        let other = IssuedToken::generate().unwrap();
        let entry = known(TokenRecord {
            id: token.id.clone(),
            name: crate::domain::TokenName::parse("t").unwrap(),
            role: crate::domain::Role::Reader,
            scopes: crate::domain::Scopes::all(),
            secret_hash: token.hash(),
            created_by: "test".to_owned(),
            created_at: Utc::now(),
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        });
        // A wrong secret first: refused, and nothing is remembered.
        assert!(!entry.verifies(&other.secret));
        assert!(entry.verified.get().is_none());
        assert!(entry.verifies(&token.secret));
        assert!(entry.verified.get().is_some());
        // Once remembered: the right one still verifies, a wrong one still does not.
        assert!(entry.verifies(&token.secret));
        assert!(!entry.verifies(&other.secret));
    }
}
