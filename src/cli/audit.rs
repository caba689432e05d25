//! `accord audit`: read the audit log, newest first, from the database or through a
//! running registry (admin token), as a table or as NDJSON.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Failure;
use super::token::{Place, Target, on_database, print_table};
use crate::domain::AuditAction;
use crate::store::AuditQuery;

/// Output formats of `accord audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// Aligned columns, for people.
    Table,
    /// One JSON object per line, as the API gives them.
    Ndjson,
}

/// Read the audit log (every change, who made it, from where), newest first.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only this contract.
    #[arg(long)]
    contract: Option<String>,
    /// Only this principal: a token name or id, `anonymous` or `local:<user>`.
    #[arg(long)]
    principal: Option<String>,
    /// Only this action, e.g. `version.register`, `token.create`, `auth.failure`.
    #[arg(long)]
    action: Option<String>,
    /// Only rows at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    since: Option<DateTime<Utc>>,
    /// Only rows before this time (RFC 3339).
    #[arg(long)]
    until: Option<DateTime<Utc>>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[command(flatten)]
    target: Target,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: AuditFormat,
}

/// The largest page asked for at once.
const PAGE: usize = 1000;

/// Prints the rows. Exit 0, 2 for a usage error, 3 when the log cannot be read.
pub fn run(args: AuditArgs) -> Result<ExitCode, Failure> {
    super::init_tracing_at("warn");
    let action = args
        .action
        .as_deref()
        .map(str::parse::<AuditAction>)
        .transpose()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let rows: Vec<Value> = match args.target.place()? {
        Place::Database(url) => on_database(&url, async |registry| {
            let mut rows = Vec::new();
            let mut before = None;
            while rows.len() < args.limit {
                let want = (args.limit - rows.len()).min(PAGE);
                let query = AuditQuery {
                    contract: args.contract.clone(),
                    principal: args.principal.clone(),
                    action,
                    since: args.since,
                    until: args.until,
                    before,
                    limit: want as i64,
                };
                let page = registry
                    .audit_log(&query)
                    .await
                    .map_err(|e| Failure::load(e.to_string()))?;
                let done = page.len() < want;
                before = page.last().map(|r| r.id);
                rows.extend(
                    page.iter()
                        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
                );
                if done {
                    break;
                }
            }
            Ok(rows)
        })?,
        Place::Registry(remote) => {
            let mut rows = Vec::new();
            let mut cursor: Option<String> = None;
            while rows.len() < args.limit {
                let want = (args.limit - rows.len()).min(PAGE);
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("limit", &want.to_string());
                for (key, value) in [
                    ("contract", args.contract.clone()),
                    ("principal", args.principal.clone()),
                    ("action", action.map(|a| a.as_str().to_owned())),
                    ("since", args.since.map(|t| t.to_rfc3339())),
                    ("until", args.until.map(|t| t.to_rfc3339())),
                    ("cursor", cursor.clone()),
                ] {
                    if let Some(value) = value {
                        query.append_pair(key, &value);
                    }
                }
                let answer = remote.call(
                    reqwest::Method::GET,
                    &format!("/api/v1/audit?{}", query.finish()),
                    None,
                )?;
                rows.extend(answer["entries"].as_array().cloned().unwrap_or_default());
                match answer["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
            rows
        }
    };
    match args.format {
        AuditFormat::Ndjson => {
            for row in &rows {
                println!("{row}");
            }
        }
        AuditFormat::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let text = |k: &str| match &r[k] {
                        Value::String(s) => s.clone(),
                        Value::Null => "-".to_owned(),
                        other => other.to_string(),
                    };
                    vec![
                        text("at"),
                        text("principal"),
                        text("action"),
                        text("contract"),
                        text("version"),
                        text("outcome"),
                        text("client"),
                        text("request_id"),
                    ]
                })
                .collect();
            print_table(
                &[
                    "AT",
                    "PRINCIPAL",
                    "ACTION",
                    "CONTRACT",
                    "VERSION",
                    "OUTCOME",
                    "CLIENT",
                    "REQUEST",
                ],
                &table,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
