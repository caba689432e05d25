//! The consumer side of `accord check`.
//!
//! - Consumer files are checked against the registry: a contract it does not know
//!   (`consumer-unknown-contract`), a range that no live version matches
//!   (`consumer-range-empty`), a declared field that no version in the range has
//!   (`consumer-field-unknown`). Each is a finding at the file, line and column of the
//!   entry, an error. Against a git revision consumer files are only parsed.
//! - For each contract file, the registry's dry run names the consumers deployed
//!   against the contract and what the new schema does to each ([`Affected`]); one
//!   that would receive it and break is a `consumer-breaks` finding at the changed
//!   node: an error when the registry would refuse the registration for it
//!   (`consumer_protection: block` and a protected environment), else a warning.

use std::collections::HashMap;

use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cli::consumer_file::ConsumerFile;
use crate::cli::contract_file::ContractFile;
use crate::cli::contract_file::tree::Position;
use crate::cli::registry_client::RegistryClient;
use crate::compat::Fields;
use crate::domain::{Mode, Policy};

use super::{Category, ContractResult, Finding, Level, Status, parse_baseline_schema};

/// One consumer deployed against a contract, and what a new schema does to it: a row
/// of the dry run's `consumers` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Affected {
    /// The consumer.
    pub consumer: String,
    /// Where it runs.
    pub environment: String,
    /// Whether the environment is protected.
    #[serde(default)]
    pub protected: bool,
    /// The application version deployed there.
    #[serde(default)]
    pub app_version: Option<String>,
    /// The range it declared.
    pub range: String,
    /// The version it was deployed against.
    #[serde(default)]
    pub deployed_version: Option<String>,
    /// Whether the new version falls in its range.
    pub receives: bool,
    /// Whether the new version breaks it.
    pub breaks: bool,
    /// The fields it declared (none: the whole instance).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The findings that break it, restricted to the fields it declared.
    #[serde(default)]
    pub changes: Vec<Value>,
    /// Declared fields the new schema no longer has.
    #[serde(default)]
    pub missing_fields: Vec<String>,
    /// Why it could not be compared (it then counts as breaking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Affected {
    /// What breaks for it, one line per finding.
    pub fn what_breaks(&self) -> Vec<String> {
        let mut lines = crate::cli::can_i_deploy::changes_of(
            &json!({"changes": self.changes, "missing_fields": self.missing_fields}),
        );
        lines.extend(self.error.clone());
        lines
    }

    /// One line for people: `billing.export in prod (^1, deployed against 1.2.0): breaks`.
    pub fn describe(&self) -> String {
        let verdict = match (self.receives, self.breaks) {
            (false, _) => "outside its range, not affected".to_owned(),
            (true, false) => "receives it, nothing it reads breaks".to_owned(),
            (true, true) => format!("receives it and BREAKS: {}", self.what_breaks().join("; ")),
        };
        format!(
            "{} in {}{} ({}, deployed against {}): {verdict}",
            self.consumer,
            self.environment,
            if self.protected { " (protected)" } else { "" },
            self.range,
            self.deployed_version.as_deref().unwrap_or("nothing")
        )
    }
}

/// The versions and schemas of the contracts consumer files name, fetched once each.
#[derive(Default)]
pub struct Registered {
    /// Contract name → its live versions with their fields (`None`: no such contract).
    contracts: HashMap<String, Option<Vec<(Version, crate::schema::Schema)>>>,
}

fn fingerprint(parts: &[&str]) -> String {
    let joined = parts.join("\0");
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(joined.as_bytes()))[..16].to_owned()
}

fn finding(
    file: &ConsumerFile,
    rule: &str,
    at: Position,
    key: &[&str],
    message: String,
) -> Finding {
    let mut parts = vec![rule, file.name.as_str()];
    parts.extend_from_slice(key);
    Finding {
        rule: rule.to_owned(),
        level: Level::Error,
        breaks: Vec::new(),
        schema_pointer: None,
        instance_path: None,
        old: None,
        new: None,
        message,
        witness: None,
        witnesses: None,
        file: file.path.display().to_string(),
        line: at.line,
        column: at.column,
        fingerprint: fingerprint(&parts),
        accepted: None,
        expired_acceptance: None,
        category: Category::Compatibility,
        hint: None,
        ignored: None,
    }
}

/// The result of a consumer file: parsed, and checked against the registry when there
/// is one.
pub fn check_file(
    file: &ConsumerFile,
    client: Option<&RegistryClient>,
    registered: &mut Registered,
) -> ContractResult {
    let mut result = ContractResult {
        file: file.path.display().to_string(),
        name: file.name.to_string(),
        declared_version: None,
        base: client.map(|c| format!("registry {}", c.base())),
        base_version: None,
        status: Status::Consumer,
        mode: Mode::default(),
        policy: Policy::default(),
        checked_versions: Vec::new(),
        required_bump: None,
        declared_bump: None,
        required_version: None,
        findings: Vec::new(),
        consumers: Vec::new(),
        error: None,
    };
    let Some(client) = client else {
        return result;
    };
    for read in &file.reads {
        let name = read.contract.as_str();
        if !registered.contracts.contains_key(name) {
            match fetch(client, name) {
                Ok(v) => {
                    registered.contracts.insert(name.to_owned(), v);
                }
                Err(e) => {
                    result.status = Status::Failed;
                    result.error = Some(crate::cli::chain(&e));
                    return result;
                }
            }
        }
        let Some(versions) = &registered.contracts[name] else {
            result.findings.push(finding(
                file,
                "consumer-unknown-contract",
                read.contract_at,
                &[name],
                format!("the registry has no contract {name}: check the name, or publish the contract first"),
            ));
            continue;
        };
        let in_range: Vec<&(Version, crate::schema::Schema)> = versions
            .iter()
            .filter(|(v, _)| read.range.matches(v))
            .collect();
        if in_range.is_empty() {
            let live: Vec<String> = versions.iter().map(|(v, _)| v.to_string()).collect();
            result.findings.push(finding(
                file,
                "consumer-range-empty",
                read.range_at,
                &[name, &read.range_text],
                format!(
                    "no live version of {name} matches {}; live versions: {}",
                    read.range_text,
                    if live.is_empty() {
                        "none".to_owned()
                    } else {
                        live.join(", ")
                    }
                ),
            ));
            continue;
        }
        result
            .checked_versions
            .extend(in_range.iter().map(|(v, _)| format!("{name}@{v}")));
        let fields: Vec<Fields<'_>> = in_range.iter().map(|(_, s)| Fields::of(s)).collect();
        for (field, at) in &read.fields {
            if !fields.iter().any(|f| f.has(field)) {
                result.findings.push(finding(
                    file,
                    "consumer-field-unknown",
                    *at,
                    &[name, field.as_str()],
                    format!(
                        "no version of {name} in {} ({}) has {field}",
                        read.range_text,
                        in_range
                            .iter()
                            .map(|(v, _)| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    result
}

/// The live versions of a contract with their schemas; `None` when it does not exist.
fn fetch(
    client: &RegistryClient,
    name: &str,
) -> anyhow::Result<Option<Vec<(Version, crate::schema::Schema)>>> {
    let Some(detail) = client.contract(name)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for v in detail.versions.iter().filter(|v| !v.deleted) {
        let version = super::parse_version(&v.version)?;
        let text = client.schema(v.schema_id)?;
        let schema = parse_baseline_schema(&text, &format!("{name} {version}"))?;
        out.push((version, schema));
    }
    Ok(Some(out))
}

/// Asks the registry's dry run what registering the contract file would do to the
/// consumers deployed against it. `None` when the registry does not say (an older
/// registry, or a dry run it could not answer: the engine's own check already reports
/// why); the bool is whether the registry would refuse the registration because of
/// them.
pub fn affected(
    client: &RegistryClient,
    c: &ContractFile,
    references: Vec<Value>,
) -> Option<(Vec<Affected>, bool)> {
    let schema: Value = serde_json::from_str(&c.schema_text).ok()?;
    let mut body = json!({
        "schema": schema,
        "version": c.version.to_string(),
        "references": references,
    });
    if let Some(m) = c.mode {
        body["mode"] = json!(m.to_string());
    }
    if let Some(p) = c.policy {
        body["policy"] = json!(p.to_string());
    }
    let answer = client
        .post(
            &format!("/contracts/{}/compatibility", c.name),
            &body,
            "asking the registry about consumers",
        )
        .ok()?;
    if !answer.status.is_success() {
        return None;
    }
    let (rows, blocked) = rows_of(&answer.body)?;
    let rows: Vec<Affected> = serde_json::from_value(Value::Array(rows)).ok()?;
    Some((rows, blocked))
}

/// The consumers section of a dry run or registration answer, and whether the
/// registry refused the registration because of them (`consumers-broken`, under
/// `consumer_protection: block`). A refused dry run receives nothing, so its own rows
/// say `receives: false`; the refusal's details list the rows that would break, which
/// replace theirs. `None` when the answer has no consumers section.
pub fn rows_of(body: &Value) -> Option<(Vec<Value>, bool)> {
    let mut rows = body.get("consumers")?.as_array()?.clone();
    let blocked = body["outcome"] == "refused" && body["error"]["code"] == "consumers-broken";
    if blocked {
        if let Some(details) = body
            .pointer("/error/details/consumers")
            .and_then(Value::as_array)
        {
            for d in details {
                let same = |r: &Value| {
                    ["consumer", "environment", "range"]
                        .iter()
                        .all(|k| r[*k] == d[*k])
                };
                match rows.iter_mut().find(|r| same(r)) {
                    Some(r) => *r = d.clone(),
                    None => rows.push(d.clone()),
                }
            }
        }
    }
    Some((rows, blocked))
}

/// The `consumer-breaks` findings of a contract result: one per consumer that would
/// receive the new version and break, at the changed node of its first finding.
pub fn findings(c: &ContractFile, rows: &[Affected], blocked: bool) -> Vec<Finding> {
    rows.iter()
        .filter(|a| a.receives && a.breaks)
        .map(|a| {
            let pointer = a
                .changes
                .first()
                .and_then(|ch| ch["new_pointer"].as_str().or(ch["old_pointer"].as_str()))
                .filter(|p| p.is_empty() || p.starts_with('/'))
                .unwrap_or("");
            let at = c.locate(pointer);
            let instance = a
                .changes
                .first()
                .and_then(|ch| ch["instance_path"].as_str())
                .map(|p| {
                    if p.is_empty() {
                        "/".to_owned()
                    } else {
                        p.to_owned()
                    }
                });
            Finding {
                rule: "consumer-breaks".to_owned(),
                level: if blocked && a.protected {
                    Level::Error
                } else {
                    Level::Warning
                },
                breaks: vec![crate::domain::Direction::Forward],
                schema_pointer: Some(pointer.to_owned()).filter(|p| !p.is_empty()),
                instance_path: instance,
                old: None,
                new: None,
                message: a.describe(),
                witness: None,
                witnesses: None,
                file: c.schema_path.display().to_string(),
                line: at.line,
                column: at.column,
                fingerprint: fingerprint(&[
                    "consumer-breaks",
                    c.name.as_str(),
                    &c.version.to_string(),
                    &a.consumer,
                    &a.environment,
                ]),
                accepted: None,
                expired_acceptance: None,
                category: Category::Compatibility,
                hint: Some(format!(
                    "keep the field for {}'s range, or publish the change as a new major version it does not receive",
                    a.consumer
                )),
                ignored: None,
            }
        })
        .collect()
}
