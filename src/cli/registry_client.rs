//! The few native-API calls `check` and `publish` make (see `openapi.yaml`), over a
//! blocking HTTP client: the commands are sequential and short, so a runtime of their
//! own would add nothing.

use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde::Deserialize;
use serde_json::Value;

use super::connect::Credentials;
use crate::client::transport;
use crate::domain::{Mode, Policy};

/// A registry at a base URL.
pub struct RegistryClient {
    http: Client,
    base: String,
    credentials: Credentials,
}

/// `GET /contracts/{name}`, the parts the CLI reads.
#[derive(Debug, Deserialize)]
pub struct ContractDetail {
    /// The owner.
    pub owner: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The configuration in force.
    pub config: Config,
    /// Every version, soft-deleted ones included.
    pub versions: Vec<VersionSummary>,
}

/// A contract's configuration.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// The mode in force.
    pub mode: Mode,
    /// The policy in force.
    pub policy: Policy,
    /// The contract's own mode.
    pub mode_override: Option<Mode>,
    /// The contract's own policy.
    pub policy_override: Option<Policy>,
}

/// A version without its schema.
#[derive(Debug, Deserialize)]
pub struct VersionSummary {
    /// The semantic version.
    pub version: String,
    /// The schema's global id.
    pub schema_id: i64,
    /// sha256 of the canonical form.
    pub fingerprint: String,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// An answer the caller inspects itself (a registration or a dry run).
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The JSON body (`Null` when there is none).
    pub body: Value,
}

impl RegistryClient {
    /// A client for the registry at `base` (`http://host:port` or `https://…`) that
    /// sends the token and trusts the CA of `credentials`.
    pub fn new(base: &str, credentials: &Credentials) -> Result<Self> {
        let base = crate::client::registry_base(base).map_err(anyhow::Error::msg)?;
        let http = credentials
            .blocking(
                Client::builder()
                    .timeout(Duration::from_secs(30))
                    .user_agent(concat!("accord-cli/", env!("CARGO_PKG_VERSION"))),
            )
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base,
            credentials: credentials.clone(),
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder, what: &str) -> Result<Response> {
        self.credentials.authorize(request).send().map_err(|e| {
            anyhow!(
                "{what}: cannot talk to the registry at {}: {}",
                self.base,
                transport::describe(&e)
            )
        })
    }

    fn json(response: Response, what: &str) -> Result<Value> {
        let status = response.status();
        let body: Value = response
            .json()
            .with_context(|| format!("{what}: the registry's answer is not JSON"))?;
        if !status.is_success() {
            bail!(
                "{what}: the registry answered {status}: {}",
                error_message(&body)
            );
        }
        Ok(body)
    }

    /// The global default mode and policy.
    pub fn global_config(&self) -> Result<(Mode, Policy)> {
        let what = "reading the registry's configuration";
        let body = Self::json(self.send(self.http.get(self.url("/config")), what)?, what)?;
        let mode =
            serde_json::from_value(body["mode"].clone()).map_err(|e| anyhow!("{what}: {e}"))?;
        let policy =
            serde_json::from_value(body["policy"].clone()).map_err(|e| anyhow!("{what}: {e}"))?;
        Ok((mode, policy))
    }

    /// A contract's metadata, configuration and versions; `None` when it does not exist.
    pub fn contract(&self, name: &str) -> Result<Option<ContractDetail>> {
        let what = format!("reading contract {name}");
        let response = self.send(
            self.http.get(self.url(&format!("/contracts/{name}"))),
            &what,
        )?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = Self::json(response, &what)?;
        serde_json::from_value(body)
            .map(Some)
            .map_err(|e| anyhow!("{what}: unexpected answer: {e}"))
    }

    /// A schema document by global id, as stored.
    pub fn schema(&self, id: i64) -> Result<String> {
        let what = format!("reading schema {id}");
        let response = self.send(self.http.get(self.url(&format!("/schemas/{id}"))), &what)?;
        if !response.status().is_success() {
            let status = response.status();
            bail!("{what}: the registry answered {status}");
        }
        response.text().with_context(|| what.clone())
    }

    /// `POST` a body to a path and hand back whatever the registry answers.
    pub fn post(&self, path: &str, body: &impl serde::Serialize, what: &str) -> Result<Answer> {
        self.answer(self.http.post(self.url(path)).json(body), what)
    }

    /// `GET` a path and hand back whatever the registry answers.
    pub fn get(&self, path: &str, what: &str) -> Result<Answer> {
        self.answer(self.http.get(self.url(path)), what)
    }

    /// `PUT` a body to a path and hand back whatever the registry answers.
    pub fn put_answer(&self, path: &str, body: &Value, what: &str) -> Result<Answer> {
        self.answer(self.http.put(self.url(path)).json(body), what)
    }

    /// `PATCH` a body to a path.
    pub fn patch(&self, path: &str, body: &Value, what: &str) -> Result<Value> {
        Self::json(
            self.send(self.http.patch(self.url(path)).json(body), what)?,
            what,
        )
    }

    /// `PUT` a body to a path.
    pub fn put(&self, path: &str, body: &Value, what: &str) -> Result<Value> {
        Self::json(
            self.send(self.http.put(self.url(path)).json(body), what)?,
            what,
        )
    }

    fn answer(&self, request: reqwest::blocking::RequestBuilder, what: &str) -> Result<Answer> {
        let response = self.send(request, what)?;
        let status = response.status();
        let text = response.text().with_context(|| what.to_owned())?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("{what}: the registry's answer is not JSON"))?
        };
        Ok(Answer { status, body })
    }
}

impl Answer {
    /// The body when the status is a success, else an error with the registry's
    /// message (`what` says what was being done).
    pub fn ok(self, what: &str) -> Result<Value> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            bail!(
                "{what}: the registry answered {}: {}",
                self.status,
                error_message(&self.body)
            )
        }
    }
}

/// The message of the registry's error envelope, or the body itself.
pub fn error_message(body: &Value) -> String {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .map_or_else(|| body.to_string(), str::to_owned)
}
