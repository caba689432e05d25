//! `accord token create|list|revoke`: manage API tokens, directly on the database (the
//! way to make the first admin token, before anything is served) or through a running
//! registry with an admin token. A created token is printed once, alone on standard
//! output, so `TOKEN=$(accord token create …)` keeps it; nothing else ever prints one.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{Failure, Format};
use crate::domain::{Caller, Principal, Role, Scope, Scopes, TokenName};
use crate::limits::Limits;
use crate::registry::{Registry, TokenRequest};
use crate::store::{self, TokenRecord};

/// Where a management command acts: a database, or a running registry.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Work directly on this database (`sqlite://PATH` or `postgres://…`), as whoever
    /// holds its credentials: how the first admin token is made.
    #[arg(long, env = "ACCORD_DATABASE_URL", conflicts_with = "registry")]
    pub database: Option<String>,
    /// Work through the registry at this URL, with an admin --token.
    #[arg(long)]
    pub registry: Option<String>,
    /// The admin token for --registry, and its private CA.
    #[command(flatten)]
    pub connect: super::connect::Connect,
}

/// Create, list and revoke API tokens.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print it (once).
    Create(CreateArgs),
    /// List every token (never their secrets).
    List(ListArgs),
    /// Revoke a token by its name or id.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Its name (letters, digits, `.`, `_`, `-`, `@`; unique among unrevoked tokens).
    #[arg(long)]
    name: String,
    /// `reader`, `producer` or `admin`.
    #[arg(long)]
    role: String,
    /// A contract name glob it reaches (repeatable; default `*`).
    #[arg(long = "scope", value_name = "GLOB")]
    scopes: Vec<String>,
    /// How long it works (`90d`, `12h`); default: until revoked.
    #[arg(long, value_name = "DURATION")]
    expires: Option<String>,
    #[command(flatten)]
    target: Target,
    /// Output format (json prints the token with its record).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    target: Target,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct RevokeArgs {
    /// The token's name or id.
    token_ref: String,
    #[command(flatten)]
    target: Target,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs a token command. Exit 0 when done, 2 for a usage error (bad name, role,
/// scope or expiry, a name in use, no such token), 3 when the database or registry
/// cannot be reached or refuses.
pub fn run(args: TokenArgs) -> Result<ExitCode, Failure> {
    super::init_tracing_at("warn");
    match args.command {
        TokenCommand::Create(a) => create(a),
        TokenCommand::List(a) => list(a),
        TokenCommand::Revoke(a) => revoke(a),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The resolved target.
pub enum Place {
    /// A database URL.
    Database(String),
    /// A registry: its client, base URL and token.
    Registry(Remote),
}

/// A running registry.
pub struct Remote {
    http: reqwest::blocking::Client,
    base: String,
    credentials: super::connect::Credentials,
}

impl Target {
    /// Which place to work on; a usage error when neither or a bad URL is given.
    pub fn place(&self) -> Result<Place, Failure> {
        if let Some(base) = &self.registry {
            let base = base.trim_end_matches('/').to_owned();
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(Failure::usage(format!(
                    "the registry URL must start with http:// or https://, got {base:?}"
                )));
            }
            let credentials = self.connect.load()?;
            let http = credentials
                .blocking(
                    reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(30))
                        .user_agent(concat!("accord-cli/", env!("CARGO_PKG_VERSION"))),
                )
                .map_err(|e| Failure::load(format!("building the HTTP client: {e}")))?;
            return Ok(Place::Registry(Remote {
                http,
                base,
                credentials,
            }));
        }
        if let Some(url) = &self.database {
            store::Backend::from_url(url).map_err(|e| Failure::usage(e.to_string()))?;
            return Ok(Place::Database(url.clone()));
        }
        Err(Failure::usage(
            "say where: --database URL (directly on the database) or --registry URL --token ADMIN_TOKEN",
        ))
    }
}

impl Remote {
    /// Sends a request and returns the JSON answer; an error answer becomes a failure
    /// carrying the registry's message (exit 2 for what the user can fix in the
    /// request, 3 otherwise).
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let mut request = self.credentials.authorize(
            self.http
                .request(method.clone(), format!("{}{path}", self.base)),
        );
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().map_err(|e| {
            Failure::load(format!(
                "cannot talk to the registry at {}: {}",
                self.base,
                crate::client::transport::describe(&e)
            ))
        })?;
        let status = response.status();
        let text = response.text().unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json);
        }
        let message = json["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(300).collect());
        let message = format!("the registry answered {status} to {method} {path}: {message}");
        Err(match status.as_u16() {
            400 | 404 | 409 | 422 => Failure::usage(message),
            _ => Failure::load(message),
        })
    }
}

/// The operating-system user, for the audit log's `local:<user>` principal.
pub fn local_caller() -> Caller {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Caller::local(Principal::local(user))
}

/// Runs `f` on a registry over the database at `url`.
pub fn on_database<T>(
    url: &str,
    f: impl AsyncFnOnce(&Registry) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::load(format!("starting the async runtime: {e}")))?;
    runtime.block_on(async {
        let store = store::connect(url)
            .await
            .context("opening the database")
            .map_err(|e| Failure::load(format!("{e:#}")))?;
        store
            .migrate()
            .await
            .context("running the database migrations")
            .map_err(|e| Failure::load(format!("{e:#}")))?;
        let registry = Registry::new(Arc::clone(&store), &Limits::default());
        let result = f(&registry).await;
        store.close().await;
        result
    })
}

fn registry_failure(e: crate::registry::RegistryError) -> Failure {
    use crate::registry::RegistryError as E;
    match e {
        E::InvalidToken(_) | E::TokenNameTaken(_) | E::TokenNotFound(_) => {
            Failure::usage(e.to_string())
        }
        other => Failure::load(other.to_string()),
    }
}

fn create(a: CreateArgs) -> Result<(), Failure> {
    let name = TokenName::parse(&a.name).map_err(|e| Failure::usage(e.to_string()))?;
    let role: Role = a
        .role
        .parse()
        .map_err(|e: crate::domain::UnknownName| Failure::usage(e.to_string()))?;
    let scopes = a
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let expires_at = a
        .expires
        .as_deref()
        .map(crate::http::token_expiry)
        .transpose()
        .map_err(Failure::usage)?;
    let (token, view) = match a.target.place()? {
        Place::Database(url) => {
            let request = TokenRequest {
                name,
                role,
                scopes: Scopes::new(scopes),
                expires_at,
            };
            on_database(&url, async |registry| {
                let created = registry
                    .create_token(request, &local_caller())
                    .await
                    .map_err(registry_failure)?;
                Ok((created.text, view_json(&created.record)))
            })?
        }
        Place::Registry(remote) => {
            let mut body = json!({ "name": name, "role": role, "scopes": a.scopes });
            if let Some(at) = expires_at {
                body["expires_at"] = json!(at);
            }
            let mut answer = remote.call(reqwest::Method::POST, "/api/v1/tokens", Some(body))?;
            let token = answer
                .as_object_mut()
                .and_then(|o| o.remove("token"))
                .and_then(|t| t.as_str().map(str::to_owned))
                .ok_or_else(|| Failure::load("the registry's answer holds no token"))?;
            (token, answer)
        }
    };
    match a.format {
        Format::Json => {
            let mut out = view;
            out["token"] = json!(token);
            println!("{out}");
        }
        Format::Text => {
            println!("{token}");
            eprintln!(
                "created token {} (id {}, role {}, scopes {}{}); it is shown only this once: store it now",
                view["name"].as_str().unwrap_or(""),
                view["id"].as_str().unwrap_or(""),
                view["role"].as_str().unwrap_or(""),
                scopes_text(&view["scopes"]),
                view["expires_at"]
                    .as_str()
                    .map(|at| format!(", expires {at}"))
                    .unwrap_or_default(),
            );
        }
    }
    Ok(())
}

/// A token record as the API lists it.
fn view_json(t: &TokenRecord) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "scopes": t.scopes,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "last_used_at": t.last_used_at,
    })
}

fn scopes_text(scopes: &Value) -> String {
    scopes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn list(a: ListArgs) -> Result<(), Failure> {
    let tokens: Vec<Value> = match a.target.place()? {
        Place::Database(url) => on_database(&url, async |registry| {
            let tokens = registry.tokens().await.map_err(registry_failure)?;
            Ok(tokens.iter().map(view_json).collect())
        })?,
        Place::Registry(remote) => {
            let answer = remote.call(reqwest::Method::GET, "/api/v1/tokens", None)?;
            answer["tokens"].as_array().cloned().unwrap_or_default()
        }
    };
    match a.format {
        Format::Json => println!("{}", json!({ "tokens": tokens })),
        Format::Text => {
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    let text = |k: &str| t[k].as_str().unwrap_or("-").to_owned();
                    let state = if t["revoked_at"].is_string() {
                        "revoked".to_owned()
                    } else if t["expires_at"]
                        .as_str()
                        .and_then(|at| at.parse::<chrono::DateTime<chrono::Utc>>().ok())
                        .is_some_and(|at| at <= chrono::Utc::now())
                    {
                        "expired".to_owned()
                    } else {
                        "active".to_owned()
                    };
                    vec![
                        text("id"),
                        text("name"),
                        text("role"),
                        scopes_text(&t["scopes"]),
                        state,
                        text("expires_at"),
                        text("last_used_at"),
                        text("created_by"),
                    ]
                })
                .collect();
            print_table(
                &[
                    "ID",
                    "NAME",
                    "ROLE",
                    "SCOPES",
                    "STATE",
                    "EXPIRES",
                    "LAST USED",
                    "CREATED BY",
                ],
                &rows,
            );
        }
    }
    Ok(())
}

fn revoke(a: RevokeArgs) -> Result<(), Failure> {
    let view = match a.target.place()? {
        Place::Database(url) => on_database(&url, async |registry| {
            let revoked = registry
                .revoke_token(&a.token_ref, &local_caller())
                .await
                .map_err(registry_failure)?;
            Ok(view_json(&revoked))
        })?,
        Place::Registry(remote) => {
            let path = format!(
                "/api/v1/tokens/{}",
                percent_encoding::utf8_percent_encode(
                    a.token_ref.trim(),
                    percent_encoding::NON_ALPHANUMERIC
                )
            );
            remote.call(reqwest::Method::DELETE, &path, None)?
        }
    };
    match a.format {
        Format::Json => println!("{view}"),
        Format::Text => println!(
            "revoked token {} (id {}) at {}",
            view["name"].as_str().unwrap_or(""),
            view["id"].as_str().unwrap_or(""),
            view["revoked_at"].as_str().unwrap_or("")
        ),
    }
    Ok(())
}

/// Prints rows under headers, each column as wide as its widest cell.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
