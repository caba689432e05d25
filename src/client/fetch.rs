//! [`Client`]: fetches contracts from a registry's native API and keeps them.
//!
//! The order of preference for `client.contract(name, req)`:
//! 1. a fresh answer in memory or on disk (immutable versions are never asked again);
//! 2. a stale answer revalidated with `If-None-Match` (a `304` costs no compile);
//! 3. a new answer, compiled once per schema id and stored in memory and on disk;
//! 4. when the registry cannot be reached (network error or 5xx), the stale copy,
//!    with a warning naming the version; without a copy, [`ClientError::Unreachable`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, IF_NONE_MATCH};

use crate::domain::ContractName;
use crate::schema::{MapResolver, ParseOptions, Schema};

use super::ClientError;
use super::cache::{CachedAnswer, DiskCache, Freshness, VersionBody};
use super::contract::{Compiled, Contract, ContractInfo, ValidateOptions};
use super::transport::{self, Secret};

/// Which version of a contract to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// The newest live version.
    Latest,
    /// One exact version (immutable once fetched).
    Exact(semver::Version),
    /// The highest live version matching a requirement (`^1`, `~1.4`, `>=1.2, <2`).
    Range(semver::VersionReq),
}

impl Selector {
    /// Parses `latest`, an exact version (`1.4.2`) or a requirement (`^1`, `1`).
    pub fn parse(s: &str) -> Result<Self, ClientError> {
        let s = s.trim();
        if s.is_empty() || s == "latest" {
            return Ok(Selector::Latest);
        }
        if let Ok(v) = semver::Version::parse(s) {
            return Ok(Selector::Exact(v));
        }
        semver::VersionReq::parse(s)
            .map(Selector::Range)
            .map_err(|e| ClientError::InvalidReference {
                reference: s.to_owned(),
                reason: format!("not `latest`, a version or a version requirement: {e}"),
            })
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Latest => f.write_str("latest"),
            Selector::Exact(v) => write!(f, "{v}"),
            Selector::Range(r) => write!(f, "{r}"),
        }
    }
}

/// Parses `NAME` or `NAME@REQ` (`orders.order_placed@^1`); no `@` means `latest`.
pub fn parse_contract_ref(s: &str) -> Result<(ContractName, Selector), ClientError> {
    let (name, req) = s.split_once('@').unwrap_or((s, "latest"));
    let name = ContractName::parse(name).map_err(|e| ClientError::InvalidReference {
        reference: s.to_owned(),
        reason: e.to_string(),
    })?;
    Ok((name, Selector::parse(req)?))
}

/// Where [`Client::fetch`] got a contract from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A new answer from the registry.
    Registry,
    /// The registry confirmed the cached copy (`304 Not Modified`).
    Revalidated,
    /// A cached copy that was still fresh: no request was made.
    Cache,
    /// The registry could not be reached; a stale cached copy is used.
    Offline {
        /// Why the registry could not be reached.
        reason: String,
    },
}

/// A fetched contract, where it came from, and anything the consumer should be told.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The compiled contract.
    pub contract: Arc<Contract>,
    /// Where it came from.
    pub origin: Origin,
    /// Warnings for the consumer (offline start, deleted version, a deprecated major
    /// line), in words. A deprecated line is reported once per process and contract.
    pub warnings: Vec<String>,
}

/// The header naming the consumer that fetches, so the registry knows who reads what.
pub const CONSUMER_HEADER: &str = "accord-consumer";

/// Contracts (registry base, name) whose deprecation this process has already
/// reported: the warning is for the people running the consumer, once is enough.
static DEPRECATION_REPORTED: std::sync::LazyLock<
    Mutex<std::collections::HashSet<(String, String)>>,
> = std::sync::LazyLock::new(Mutex::default);

/// The warning for a fetch answered with `Deprecation` (and maybe `Sunset` and a
/// `Link` to the successor): `None` when the version's line is not deprecated.
fn deprecation_of(name: &str, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let text = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect::<String>())
    };
    text("deprecation")?;
    let mut line = format!("{name}: the registry deprecates the major line of the version fetched");
    if let Some(sunset) = text("sunset") {
        line.push_str(&format!("; sunset {sunset}"));
    }
    let successor = headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|l| l.contains("rel=\"successor-version\"") || l.contains("rel=successor-version"))
        .and_then(|l| {
            let l = l.trim();
            Some(
                l[l.find('<')? + 1..l.find('>')?]
                    .chars()
                    .take(300)
                    .collect::<String>(),
            )
        });
    if let Some(s) = successor {
        line.push_str(&format!("; successor: {s}"));
    }
    line.push_str("; move to the successor line before the sunset");
    Some(line)
}

/// A registry client. Cheap to clone; clones share their caches.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: String,
    token: Option<Secret>,
    consumer: Option<reqwest::header::HeaderValue>,
    http: reqwest::Client,
    disk: Option<DiskCache>,
    options: ValidateOptions,
    /// Fetched answers by (name, selector).
    answers: Mutex<HashMap<(String, String), Entry>>,
    /// Compiled validators by (schema id, fingerprint).
    compiled: Mutex<HashMap<(i64, String), Arc<Compiled>>>,
}

#[derive(Debug, Clone)]
struct Entry {
    freshness: Freshness,
    contract: Arc<Contract>,
    /// The deprecation warning the last answer carried (memory only).
    deprecation: Option<String>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with non-default settings.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base: String,
    token: Option<Secret>,
    consumer: Option<String>,
    /// Private CA certificates (PEM) and where each came from.
    ca_certs: Vec<(String, CaSource)>,
    cache_dir: Option<PathBuf>,
    disk_cache: bool,
    options: ValidateOptions,
    timeout: Duration,
}

/// A private CA certificate given to the builder.
#[derive(Debug, Clone)]
enum CaSource {
    File(PathBuf),
    Pem(Vec<u8>),
}

impl ClientBuilder {
    /// Sends `Authorization: Bearer <token>` with every request. The token never
    /// appears in `Debug` output or in errors.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends `Accord-Consumer: NAME` with every fetch, so the registry records which
    /// consumer reads which contract version (see docs/consumers.md). The default is
    /// the `ACCORD_CONSUMER` environment variable, when set; the name is checked by
    /// [`ClientBuilder::build`].
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = Some(name.into());
        self
    }

    /// Also trusts the CA certificate(s) in this PEM file, for a registry whose
    /// certificate a private CA signed. The system's trust store and Mozilla's roots
    /// are trusted too. The file is read by [`ClientBuilder::build`].
    pub fn ca_cert(mut self, pem_file: impl Into<PathBuf>) -> Self {
        let path = pem_file.into();
        self.ca_certs
            .push((path.display().to_string(), CaSource::File(path)));
        self
    }

    /// [`ClientBuilder::ca_cert`] with the PEM text itself.
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certs
            .push(("(given as PEM)".to_owned(), CaSource::Pem(pem.into())));
        self
    }

    /// Keeps the on-disk cache under `dir` instead of the user's cache directory.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self.disk_cache = true;
        self
    }

    /// Keeps contracts in memory only.
    pub fn without_disk_cache(mut self) -> Self {
        self.disk_cache = false;
        self
    }

    /// How validators are built (formats, masking).
    pub fn validate_options(mut self, options: ValidateOptions) -> Self {
        self.options = options;
        self
    }

    /// The limit on one request, connection included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, ClientError> {
        let base = super::registry_base(&self.base).map_err(|reason| ClientError::InvalidUrl {
            url: self.base.clone(),
            reason,
        })?;
        let parsed = url::Url::parse(&base).map_err(|e| ClientError::InvalidUrl {
            url: base.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl {
                url: base,
                reason: "the registry URL must start with http:// or https://".to_owned(),
            });
        }
        if let Some(token) = &self.token {
            token
                .check()
                .map_err(|reason| ClientError::InvalidToken { reason })?;
        }
        let consumer = match &self.consumer {
            None => None,
            Some(name) => {
                let name = crate::domain::ConsumerName::parse(name.trim()).map_err(|e| {
                    ClientError::InvalidConsumer {
                        reason: e.to_string(),
                    }
                })?;
                reqwest::header::HeaderValue::from_str(name.as_str()).ok()
            }
        };
        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("accord/", env!("CARGO_PKG_VERSION")));
        for (origin, source) in &self.ca_certs {
            let pem = match source {
                CaSource::Pem(pem) => pem.clone(),
                CaSource::File(path) => {
                    std::fs::read(path).map_err(|e| ClientError::InvalidCaCert {
                        message: format!("cannot read the CA certificate file {origin}: {e}"),
                    })?
                }
            };
            for cert in transport::ca_certificates(&pem, origin)
                .map_err(|message| ClientError::InvalidCaCert { message })?
            {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http.build().map_err(|e| ClientError::InvalidUrl {
            url: base.clone(),
            reason: format!("cannot set up HTTP: {e}"),
        })?;
        let root = if self.disk_cache {
            self.cache_dir.or_else(DiskCache::default_dir)
        } else {
            None
        };
        Ok(Client {
            inner: Arc::new(Inner {
                disk: root.map(|r| DiskCache::new(&r, &base)),
                base,
                token: self.token,
                consumer,
                http,
                options: self.options,
                answers: Mutex::default(),
                compiled: Mutex::default(),
            }),
        })
    }
}

/// What a request to the registry came back with.
enum Answer {
    Fresh(Box<VersionBody>, Freshness, Option<String>),
    NotModified(reqwest::header::HeaderMap),
}

impl Client {
    /// A client for the registry at `base_url` (for example `http://127.0.0.1:8081`),
    /// with the on-disk cache in the user's cache directory and default options.
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::builder(base_url).build()
    }

    /// A builder for a client with a token, another cache directory or other options.
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder {
            base: base_url.to_owned(),
            token: None,
            consumer: std::env::var("ACCORD_CONSUMER")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            ca_certs: Vec::new(),
            cache_dir: None,
            disk_cache: true,
            options: ValidateOptions::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The registry's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Where this registry's on-disk cache lives, if there is one.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.inner.disk.as_ref().map(DiskCache::dir)
    }

    /// How many distinct validators this client has compiled.
    pub fn compiled_validators(&self) -> usize {
        lock(&self.inner.compiled).len()
    }

    /// The compiled contract `name` at `requirement` (`latest`, `1.4.2`, `^1`).
    /// Warnings (offline start, deleted version) are logged with `tracing`.
    pub async fn contract(
        &self,
        name: &str,
        requirement: &str,
    ) -> Result<Arc<Contract>, ClientError> {
        let fetched = self.fetch(name, requirement).await?;
        for w in &fetched.warnings {
            tracing::warn!(contract.name = name, "{w}");
        }
        Ok(fetched.contract)
    }

    /// Like [`Client::contract`], and says where the contract came from.
    pub async fn fetch(&self, name: &str, requirement: &str) -> Result<Fetched, ClientError> {
        let name = ContractName::parse(name).map_err(|e| ClientError::InvalidReference {
            reference: name.to_owned(),
            reason: e.to_string(),
        })?;
        let selector = Selector::parse(requirement)?;
        self.fetch_selected(&name, &selector).await
    }

    /// [`Client::fetch`] with a parsed name and selector.
    pub async fn fetch_selected(
        &self,
        name: &ContractName,
        selector: &Selector,
    ) -> Result<Fetched, ClientError> {
        let key = (name.to_string(), selector.to_string());
        let now = SystemTime::now();

        let mut cached = lock(&self.inner.answers).get(&key).cloned();
        if cached.is_none() {
            cached = self.load_from_disk(&key).await;
        }
        if let Some(entry) = &cached {
            if entry.freshness.is_fresh(now) {
                return Ok(self.fetched(entry, Origin::Cache, Vec::new()));
            }
        }

        let etag = cached.as_ref().and_then(|e| e.freshness.etag.clone());
        match self.request(&key, etag.as_deref()).await {
            Ok(Answer::NotModified(headers)) => {
                let Some(entry) = cached else {
                    return Err(ClientError::Registry {
                        status: StatusCode::NOT_MODIFIED.as_u16(),
                        message: "the registry answered 304 to a request without If-None-Match"
                            .to_owned(),
                    });
                };
                let entry = Entry {
                    freshness: entry.freshness.revalidated(&headers, SystemTime::now()),
                    contract: entry.contract,
                    deprecation: deprecation_of(name.as_str(), &headers),
                };
                self.remember(&key, &entry, None).await;
                Ok(self.fetched(&entry, Origin::Revalidated, Vec::new()))
            }
            Ok(Answer::Fresh(body, freshness, deprecation)) => {
                let contract = self.compile(&body)?;
                let entry = Entry {
                    freshness,
                    contract,
                    deprecation,
                };
                self.remember(&key, &entry, Some(*body)).await;
                Ok(self.fetched(&entry, Origin::Registry, Vec::new()))
            }
            Err(err) => match (err, cached) {
                (ClientError::Unreachable { reason, .. }, Some(entry)) => {
                    let c = &entry.contract;
                    let warning = format!(
                        "the registry at {} is unreachable ({reason}); using the cached {} {}{} fetched {} ago",
                        self.inner.base,
                        c.name(),
                        c.version().map(ToString::to_string).unwrap_or_default(),
                        c.schema_id()
                            .map(|id| format!(" (schema id {id})"))
                            .unwrap_or_default(),
                        entry.freshness.age(SystemTime::now()),
                    );
                    Ok(self.fetched(&entry, Origin::Offline { reason }, vec![warning]))
                }
                (err, _) => Err(err),
            },
        }
    }

    fn fetched(&self, entry: &Entry, origin: Origin, mut warnings: Vec<String>) -> Fetched {
        if let Some(d) = &entry.deprecation {
            let key = (self.inner.base.clone(), entry.contract.name().to_owned());
            if lock(&DEPRECATION_REPORTED).insert(key) {
                warnings.push(d.clone());
            }
        }
        if entry.contract.info().deleted {
            warnings.push(format!(
                "{} {} is deleted in the registry; producers should no longer use it",
                entry.contract.name(),
                entry
                    .contract
                    .version()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ));
        }
        Fetched {
            contract: Arc::clone(&entry.contract),
            origin,
            warnings,
        }
    }

    async fn load_from_disk(&self, key: &(String, String)) -> Option<Entry> {
        let disk = self.inner.disk.as_ref()?;
        let answer = disk.load(&key.0, &key.1).await?;
        match self.compile(&answer.body) {
            Ok(contract) => {
                let entry = Entry {
                    freshness: answer.freshness,
                    contract,
                    deprecation: None,
                };
                lock(&self.inner.answers).insert(key.clone(), entry.clone());
                Some(entry)
            }
            Err(e) => {
                tracing::warn!(contract.name = %key.0, error = %e, "ignoring a cached contract that no longer compiles");
                None
            }
        }
    }

    /// Keeps an entry in memory and, with `body` (or the cached body on a 304), on disk.
    async fn remember(&self, key: &(String, String), entry: &Entry, body: Option<VersionBody>) {
        lock(&self.inner.answers).insert(key.clone(), entry.clone());
        let Some(disk) = &self.inner.disk else { return };
        if entry.freshness.no_store {
            return;
        }
        let body = match body {
            Some(b) => b,
            None => match disk.load(&key.0, &key.1).await {
                Some(previous) => previous.body,
                None => return,
            },
        };
        let answer = CachedAnswer {
            freshness: entry.freshness.clone(),
            body,
        };
        if let Err(e) = disk.store(&key.0, &key.1, &answer).await {
            tracing::warn!(cache.dir = %disk.dir().display(), error = %e, "cannot write the contract cache");
        }
    }

    fn compile(&self, body: &VersionBody) -> Result<Arc<Contract>, ClientError> {
        let id = (body.schema_id, body.fingerprint.clone());
        let existing = lock(&self.inner.compiled).get(&id).cloned();
        let compiled = match existing {
            Some(c) => c,
            None => {
                // References are answered from the documents the registry sent along;
                // nothing else is ever fetched.
                let mut resolver = MapResolver::new();
                for (uri, doc) in &body.documents {
                    resolver.insert(uri.clone(), doc.clone());
                }
                let schema =
                    Schema::from_value(body.schema.clone(), &ParseOptions::default(), &resolver)?;
                let compiled = Arc::new(Compiled::new(schema, self.inner.options)?);
                lock(&self.inner.compiled)
                    .entry(id)
                    .or_insert(compiled)
                    .clone()
            }
        };
        let info = ContractInfo {
            name: body.name.clone(),
            version: Some(body.version.clone()),
            schema_id: Some(body.schema_id),
            fingerprint: String::new(),
            deleted: body.deleted,
        };
        Ok(Arc::new(Contract::from_compiled(info, compiled)))
    }

    async fn request(
        &self,
        key: &(String, String),
        etag: Option<&str>,
    ) -> Result<Answer, ClientError> {
        let selector = percent_encoding::utf8_percent_encode(&key.1, SELECTOR).to_string();
        let url = format!(
            "{}/api/v1/contracts/{}/versions/{selector}",
            self.inner.base, key.0
        );
        let mut req = self.inner.http.get(&url).header(ACCEPT, "application/json");
        if let Some(token) = &self.inner.token {
            req = req.bearer_auth(token.expose());
        }
        if let Some(consumer) = &self.inner.consumer {
            req = req.header(CONSUMER_HEADER, consumer.clone());
        }
        if let Some(etag) = etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        let unreachable = |reason: String| ClientError::Unreachable {
            url: url.clone(),
            reason,
            cache_dir: self.cache_dir().map(|p| p.display().to_string()),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| unreachable(transport::describe(&e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer::NotModified(headers));
        }
        if status.is_success() {
            let body: VersionBody = resp.json().await.map_err(|e| ClientError::Registry {
                status: status.as_u16(),
                message: format!(
                    "the answer is not a contract version: {}",
                    transport::describe(&e)
                ),
            })?;
            return Ok(Answer::Fresh(
                Box::new(body),
                Freshness::from_headers(&headers, SystemTime::now()),
                deprecation_of(&key.0, &headers),
            ));
        }
        let text = resp.text().await.unwrap_or_default();
        let (code, message) = error_body(&text);
        match status {
            StatusCode::NOT_FOUND => Err(ClientError::NotFound {
                reference: format!("{}@{}", key.0, key.1),
                code: code.unwrap_or_else(|| "not-found".to_owned()),
                message,
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ClientError::Unauthorized {
                status: status.as_u16(),
                message,
            }),
            s if s.is_server_error() => Err(unreachable(format!("HTTP {s}: {message}"))),
            s => Err(ClientError::Registry {
                status: s.as_u16(),
                message,
            }),
        }
    }
}

/// Characters kept as they are in the selector path segment; everything else
/// (`^`, `~`, `>`, `=`, `,`, space, `+`) is percent-encoded.
const SELECTOR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// `{"error":{"code","message"}}` from an error body, or the text itself.
fn error_body(text: &str) -> (Option<String>, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let field = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let message = field("message").unwrap_or_else(|| text.chars().take(500).collect());
    (field("code"), message)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent under a panic elsewhere: every update is one insert.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_latest_exact_or_a_range() {
        assert_eq!(Selector::parse("latest").unwrap(), Selector::Latest);
        assert_eq!(
            Selector::parse("1.4.2").unwrap(),
            Selector::Exact(semver::Version::new(1, 4, 2))
        );
        assert!(matches!(Selector::parse("^1").unwrap(), Selector::Range(_)));
        assert!(matches!(Selector::parse("1").unwrap(), Selector::Range(_)));
        assert!(Selector::parse("one").is_err());
    }

    #[test]
    fn a_contract_reference_without_a_requirement_means_latest() {
        let (name, sel) = parse_contract_ref("orders.order_placed").unwrap();
        assert_eq!(
            (name.as_str(), sel),
            ("orders.order_placed", Selector::Latest)
        );
        let (_, sel) = parse_contract_ref("orders.order_placed@~1.4").unwrap();
        assert_eq!(sel.to_string(), "~1.4");
        assert!(parse_contract_ref("Orders@1").is_err());
    }

    #[test]
    fn requirements_are_percent_encoded_in_the_path() {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, SELECTOR).to_string();
        assert_eq!(enc("^1"), "%5E1");
        assert_eq!(enc("1.4.2"), "1.4.2");
        assert_eq!(enc(">=1.2, <2"), "%3E%3D1.2%2C%20%3C2");
    }
}
