//! `accord import --from-confluent URL`: copy every JSON Schema subject of a running
//! Confluent-compatible registry (Confluent, Karapace, Redpanda, Apicurio's ccompat
//! API, or another Accord) through its REST API.
//!
//! What is kept: each subject becomes a contract of the same name; each version keeps
//! its Confluent schema id and its version number (Accord's seq), registered in order
//! through the registry's own IMPORT path, so the compatibility engine is replayed on
//! the history and assigns the semantic versions (a breaking step takes the next
//! major); each subject's own compatibility level becomes the contract's mode override
//! (and a subject that follows the source's global level gets that level as its
//! override when this registry's global level differs). Soft-deleted versions are
//! imported and soft-deleted at once, in their place, so later versions are compared
//! with what was live when they were registered. References are kept; a referenced
//! subject is imported before the subjects that refer to it.
//!
//! What is not: AVRO and PROTOBUF subjects are listed as skipped, never silently;
//! subject write modes, metadata and rule sets are not copied.
//!
//! Re-running is safe: versions already imported with the same id are skipped, so an
//! interrupted import is finished by running it again. A version whose schema Accord
//! already stores under another id (Confluent keeps textually different copies of
//! one schema apart, Accord identifies schemas by canonical form) cannot keep its id
//! and fails its subject, by name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::cli::connect::{self, Credentials};
use crate::cli::{Failure, Format};
use crate::client::{Secret, transport};
use crate::domain::{Caller, ContractName, Mode, Policy, Principal, WriteMode};
use crate::limits::Limits;
use crate::registry::{ImportIds, Registered, Registry, RegistryError, Submission};
use crate::store::SchemaReference;

/// Flags of an import from a Confluent-compatible registry.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfluentArgs {
    /// Copy the Confluent-compatible registry at this URL (Confluent, Karapace,
    /// Redpanda, Apicurio's ccompat API, Accord) instead of loading a dump.
    #[arg(long, value_name = "URL")]
    pub from_confluent: Option<String>,
    /// Only subjects whose name matches this glob (`*`, `?`, `[abc]`), e.g. `orders.*`.
    #[arg(long, value_name = "GLOB", requires = "from_confluent")]
    pub subjects: Option<String>,
    /// Bearer token for the source registry.
    #[arg(
        long,
        env = "ACCORD_SOURCE_TOKEN",
        hide_env_values = true,
        requires = "from_confluent",
        conflicts_with = "basic_auth",
        value_name = "TOKEN"
    )]
    pub token: Option<Secret>,
    /// `USER:PASSWORD` for the source registry's HTTP basic auth (Confluent's
    /// `basic.auth.user.info`).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "ACCORD_SOURCE_BASIC_AUTH",
        hide_env_values = true,
        requires = "from_confluent"
    )]
    pub basic_auth: Option<Secret>,
    /// PEM file of a private CA that signed the source registry's certificate
    /// (trusted besides the system's trust store).
    #[arg(
        long,
        env = "ACCORD_CA_CERT",
        value_name = "FILE",
        requires = "from_confluent"
    )]
    pub ca_cert: Option<std::path::PathBuf>,
}

/// Path segments are encoded like Confluent clients do: everything but unreserved
/// characters (a subject may hold `/`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The source registry's REST API.
struct Source {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    basic: Option<(String, Secret)>,
}

impl Source {
    fn new(base: &str, args: &ConfluentArgs, credentials: &Credentials) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("the source registry URL must start with http:// or https://, got {base:?}");
        }
        let basic = match &args.basic_auth {
            Some(info) => {
                let (user, password) = info
                    .expose()
                    .split_once(':')
                    .ok_or_else(|| anyhow!("--basic-auth must be USER:PASSWORD"))?;
                Some((user.to_owned(), Secret::new(password)))
            }
            None => None,
        };
        let http = credentials
            .client(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .user_agent(concat!("accord-import/", env!("CARGO_PKG_VERSION"))),
            )
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base,
            credentials: credentials.clone(),
            basic,
        })
    }

    /// GETs `path`; `None` for a 404.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<Option<T>> {
        let mut request = self.http.get(format!("{}{path}", self.base)).header(
            reqwest::header::ACCEPT,
            "application/vnd.schemaregistry.v1+json, application/json",
        );
        if let Some(token) = &self.credentials.token {
            request = request.bearer_auth(token.expose());
        }
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let response = request.send().await.map_err(|e| {
            anyhow!(
                "cannot talk to the source registry at {}: {}",
                self.base,
                transport::describe(&e)
            )
        })?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = response
            .bytes()
            .await
            .with_context(|| format!("reading GET {path}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            bail!(
                "the source registry answered {status} to GET {path}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        serde_json::from_slice(&body).map(Some).with_context(|| {
            format!("the answer to GET {path} is not what a Confluent registry sends")
        })
    }

    async fn must<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.get(path)
            .await?
            .ok_or_else(|| anyhow!("the source registry answered 404 to GET {path}"))
    }
}

fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A version as `GET /subjects/{s}/versions/{n}` answers it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceVersion {
    version: i64,
    id: i64,
    /// Absent means AVRO, as Confluent clients read it.
    schema_type: Option<String>,
    schema: String,
    #[serde(default)]
    references: Vec<SourceReference>,
}

#[derive(Debug, Clone, Deserialize)]
struct SourceReference {
    name: String,
    subject: String,
    version: i64,
}

/// `GET /config` and `GET /config/{s}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceConfig {
    compatibility_level: Option<String>,
    compatibility_policy: Option<String>,
}

/// One subject read from the source.
struct Subject {
    name: String,
    versions: Vec<SourceVersion>,
    /// Version numbers that are soft-deleted in the source.
    deleted: HashSet<i64>,
    /// The subject's own level, if it has one.
    mode: Option<Mode>,
    policy: Option<Policy>,
}

/// One row of the summary table.
#[derive(Debug, Clone, Serialize)]
struct Row {
    subject: String,
    /// `JSON`, `AVRO`, `PROTOBUF`…
    schema_type: String,
    /// Versions written by this run.
    imported: usize,
    /// Versions found already imported.
    present: usize,
    /// Versions of the source (soft-deleted included).
    versions: usize,
    /// The mode the contract follows (empty when skipped).
    mode: String,
    /// `imported`, `skipped` or `failed`.
    outcome: &'static str,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    note: String,
}

/// Runs the import; see the module documentation.
pub async fn run(
    url: &str,
    args: &ConfluentArgs,
    database: &str,
    format: Format,
) -> Result<ExitCode, Failure> {
    let credentials = connect::load(args.token.as_ref(), args.ca_cert.as_deref())?;
    let source =
        Source::new(url, args, &credentials).map_err(|e| Failure::usage(crate::cli::chain(&e)))?;
    let glob = match &args.subjects {
        Some(g) => Some(
            globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map_err(|e| Failure::usage(format!("--subjects {g:?}: {e}")))?
                .compile_matcher(),
        ),
        None => None,
    };
    let (subjects, mut rows, global) = read_source(&source, glob.as_ref())
        .await
        .map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    let store = crate::cli::serve::open_database(database, &crate::limits::Limits::default())
        .await
        .map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    store
        .migrate()
        .await
        .context("running the database migrations")
        .map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    let registry = Arc::new(Registry::new(Arc::clone(&store), &Limits::default()));
    // Written as the command line on the database: the audit log names the OS user.
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let caller = Caller::local(Principal::local(user));
    let result = write(&registry, &caller, subjects, global).await;
    store.close().await;
    let written = result.map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    rows.extend(written);
    rows.sort_by(|a, b| a.subject.cmp(&b.subject));
    print_summary(&rows, format);
    if rows.iter().any(|r| r.outcome == "failed") {
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// Reads every subject the glob selects: JSON ones in full, the others only far
/// enough to name their type. Returns the JSON subjects, rows for the skipped ones,
/// and the source's global level.
async fn read_source(
    source: &Source,
    glob: Option<&globset::GlobMatcher>,
) -> anyhow::Result<(Vec<Subject>, Vec<Row>, (Mode, Option<Policy>))> {
    let global: SourceConfig = source.must("/config").await?;
    let global_mode =
        parse_level(global.compatibility_level.as_deref(), "the global level")?.unwrap_or_default();
    let global_policy = parse_policy(global.compatibility_policy.as_deref())?;
    let mut names: Vec<String> = source.must("/subjects?deleted=true").await?;
    names.retain(|n| glob.is_none_or(|g| g.is_match(n)));
    names.sort();
    let progress = super::progress("reading the source registry");
    progress.set_length(names.len() as u64);
    let mut subjects = Vec::new();
    let mut skipped = Vec::new();
    for name in names {
        progress.inc(1);
        let path = format!("/subjects/{}/versions", segment(&name));
        let all: Vec<i64> = source
            .get(&format!("{path}?deleted=true"))
            .await?
            .unwrap_or_default();
        let live: HashSet<i64> = source
            .get::<Vec<i64>>(&path)
            .await?
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut versions = Vec::with_capacity(all.len());
        for n in &all {
            let v: SourceVersion = source.must(&format!("{path}/{n}?deleted=true")).await?;
            versions.push(v);
        }
        versions.sort_by_key(|v| v.version);
        let other_type = versions
            .iter()
            .map(|v| v.schema_type.as_deref().unwrap_or("AVRO"))
            .find(|t| !t.eq_ignore_ascii_case("JSON"));
        if let Some(kind) = other_type {
            skipped.push(Row {
                subject: name.clone(),
                schema_type: kind.to_ascii_uppercase(),
                imported: 0,
                present: 0,
                versions: versions.len(),
                mode: String::new(),
                outcome: "skipped",
                note: "only JSON Schema subjects are imported".to_owned(),
            });
            continue;
        }
        let own: Option<SourceConfig> = source.get(&format!("/config/{}", segment(&name))).await?;
        let (mode, policy) = match own {
            Some(c) => (
                parse_level(c.compatibility_level.as_deref(), &name)?,
                parse_policy(c.compatibility_policy.as_deref())?,
            ),
            None => (None, None),
        };
        let deleted = all.iter().copied().filter(|n| !live.contains(n)).collect();
        subjects.push(Subject {
            name,
            versions,
            deleted,
            mode,
            policy,
        });
    }
    progress.finish_and_clear();
    Ok((subjects, skipped, (global_mode, global_policy)))
}

fn parse_level(level: Option<&str>, whose: &str) -> anyhow::Result<Option<Mode>> {
    level
        .map(|l| l.parse::<Mode>().map_err(|e| anyhow!("{whose}: {e}")))
        .transpose()
}

fn parse_policy(policy: Option<&str>) -> anyhow::Result<Option<Policy>> {
    // Confluent's LOGICAL policy has no Accord counterpart; such subjects keep the
    // default (strict) policy.
    match policy {
        Some(p) if p.eq_ignore_ascii_case("LOGICAL") => Ok(None),
        Some(p) => p.parse::<Policy>().map(Some).map_err(|e| anyhow!("{e}")),
        None => Ok(None),
    }
}

/// Writes the subjects, referenced ones first. A subject that fails is reported and
/// the others go on; only a database failure stops everything.
async fn write(
    registry: &Registry,
    caller: &Caller,
    subjects: Vec<Subject>,
    global: (Mode, Option<Policy>),
) -> anyhow::Result<Vec<Row>> {
    let target_global = registry.global_config().await?;
    let order = dependency_order(&subjects);
    let by_name: HashMap<&str, &Subject> = subjects.iter().map(|s| (s.name.as_str(), s)).collect();
    let total: usize = subjects.iter().map(|s| s.versions.len()).sum();
    let progress = super::progress("importing versions");
    progress.set_length(total as u64);
    let mut rows = Vec::new();
    let mut failed: HashSet<&str> = HashSet::new();
    for name in order {
        let subject = by_name[name];
        // A subject referring to one that failed would fail too, with a less clear
        // message.
        let blocked = subject
            .versions
            .iter()
            .flat_map(|v| &v.references)
            .find(|r| failed.contains(r.subject.as_str()));
        let row = match blocked {
            Some(r) => Row {
                note: format!("refers to {:?}, which failed", r.subject),
                ..row_of(subject, "failed", String::new())
            },
            None => {
                import_subject(
                    registry,
                    caller,
                    subject,
                    global,
                    target_global.mode,
                    &progress,
                )
                .await?
            }
        };
        if row.outcome == "failed" {
            failed.insert(name);
        }
        rows.push(row);
    }
    progress.finish_and_clear();
    Ok(rows)
}

fn row_of(subject: &Subject, outcome: &'static str, mode: String) -> Row {
    Row {
        subject: subject.name.clone(),
        schema_type: "JSON".to_owned(),
        imported: 0,
        present: 0,
        versions: subject.versions.len(),
        mode,
        outcome,
        note: String::new(),
    }
}

/// Subject names, each after every subject its versions refer to (when that one is
/// imported too), otherwise by name.
fn dependency_order(subjects: &[Subject]) -> Vec<&str> {
    let known: BTreeMap<&str, &Subject> = subjects.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut order = Vec::with_capacity(subjects.len());
    let mut placed = HashSet::new();
    let mut visiting = HashSet::new();
    fn visit<'a>(
        name: &'a str,
        known: &BTreeMap<&'a str, &'a Subject>,
        placed: &mut HashSet<&'a str>,
        visiting: &mut HashSet<&'a str>,
        order: &mut Vec<&'a str>,
    ) {
        if placed.contains(name) || !visiting.insert(name) {
            return;
        }
        if let Some(subject) = known.get(name) {
            for r in subject.versions.iter().flat_map(|v| &v.references) {
                if let Some((dep, _)) = known.get_key_value(r.subject.as_str()) {
                    visit(dep, known, placed, visiting, order);
                }
            }
        }
        visiting.remove(name);
        placed.insert(name);
        order.push(name);
    }
    for name in known.keys() {
        visit(name, &known, &mut placed, &mut visiting, &mut order);
    }
    order
}

async fn import_subject(
    registry: &Registry,
    caller: &Caller,
    subject: &Subject,
    (global_mode, global_policy): (Mode, Option<Policy>),
    target_mode: Mode,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Row> {
    let name = match ContractName::confluent(&subject.name) {
        Ok(n) => n,
        Err(e) => {
            progress.inc(subject.versions.len() as u64);
            return Ok(Row {
                note: e.to_string(),
                ..row_of(subject, "failed", String::new())
            });
        }
    };
    // The subject's own level; else the source's global one when ours differs.
    let mode = subject
        .mode
        .or((global_mode != target_mode).then_some(global_mode));
    let policy = subject.policy.or(global_policy);
    let shown = mode.unwrap_or(target_mode).to_string();
    let mut row = row_of(subject, "imported", shown);
    let fail = |mut row: Row, why: String| {
        row.outcome = "failed";
        row.note = why;
        row
    };
    if mode.is_some() || policy.is_some() {
        let (own_mode, own_policy) = registry.contract_overrides(&name).await?;
        registry
            .replace_contract_config(&name, mode.or(own_mode), policy.or(own_policy), caller)
            .await
            .with_context(|| format!("configuring {:?}", subject.name))?;
    }
    let existing = registry.store().versions(&name).await?;
    let previous = registry
        .set_contract_write_mode(&name, Some(WriteMode::Import), true, caller)
        .await
        .with_context(|| format!("switching {:?} to IMPORT mode", subject.name))?;
    let mut outcome = Ok(());
    for v in &subject.versions {
        progress.inc(1);
        if let Some(stored) = existing.iter().find(|e| e.seq == v.version) {
            if stored.schema_id == v.id {
                row.present += 1;
                continue;
            }
            outcome = Err(format!(
                "version {} is already stored here with schema id {}, not {}",
                v.version, stored.schema_id, v.id
            ));
            break;
        }
        match import_version(
            registry,
            caller,
            &name,
            v,
            subject.deleted.contains(&v.version),
        )
        .await
        {
            Ok(()) => row.imported += 1,
            Err(why) => {
                outcome = Err(format!("version {} (schema id {}): {why}", v.version, v.id));
                break;
            }
        }
    }
    // Back to the write mode the contract had (none: it follows the registry's).
    registry
        .set_contract_write_mode(&name, previous, true, caller)
        .await
        .with_context(|| format!("restoring the write mode of {:?}", subject.name))?;
    Ok(match outcome {
        Ok(()) => row,
        Err(why) => fail(row, why),
    })
}

/// Registers one version keeping its id and number, then soft-deletes it when the
/// source has it soft-deleted. The error is the message for the summary.
async fn import_version(
    registry: &Registry,
    caller: &Caller,
    name: &ContractName,
    v: &SourceVersion,
    deleted: bool,
) -> Result<(), String> {
    let mut references = Vec::with_capacity(v.references.len());
    for r in &v.references {
        let subject = ContractName::confluent(&r.subject).map_err(|e| e.to_string())?;
        references.push(SchemaReference {
            name: r.name.clone(),
            subject,
            version: r.version,
        });
    }
    let submission = Submission {
        schema: v.schema.clone(),
        references,
        import: Some(ImportIds {
            schema_id: v.id,
            seq: Some(v.version),
        }),
        ..Submission::default()
    };
    let version = match registry.register(name, submission, caller).await {
        Ok(Registered::Created { version, .. }) => version,
        Ok(Registered::Existing(same)) => {
            return Err(format!(
                "it is the same schema as live version {} ({}), which Accord keeps once",
                same.seq, same.version
            ));
        }
        Err(e) => return Err(describe(&e)),
    };
    if deleted {
        registry
            .delete_version(name, &version.version, false, caller)
            .await
            .map_err(|e| format!("soft-deleting it: {}", describe(&e)))?;
    }
    Ok(())
}

fn describe(e: &RegistryError) -> String {
    match e {
        RegistryError::IdMismatch {
            requested,
            existing,
        } => format!(
            "Accord already stores this schema (in canonical form) with id {existing}, so it cannot also have id {requested}"
        ),
        other => other.to_string(),
    }
}

fn print_summary(rows: &[Row], format: Format) {
    if format == Format::Json {
        println!("{}", serde_json::json!({ "subjects": rows }));
        return;
    }
    let width = rows
        .iter()
        .map(|r| r.subject.chars().count())
        .max()
        .unwrap_or(0)
        .max("SUBJECT".len());
    println!(
        "{:<width$}  {:<8}  {:>8}  {:>7}  {:>8}  {:<19}  {:<8}  NOTE",
        "SUBJECT", "TYPE", "IMPORTED", "PRESENT", "VERSIONS", "MODE", "OUTCOME"
    );
    for r in rows {
        println!(
            "{:<width$}  {:<8}  {:>8}  {:>7}  {:>8}  {:<19}  {:<8}  {}",
            r.subject, r.schema_type, r.imported, r.present, r.versions, r.mode, r.outcome, r.note
        );
    }
    let count = |o: &str| rows.iter().filter(|r| r.outcome == o).count();
    let versions: usize = rows.iter().map(|r| r.imported).sum();
    println!(
        "{} subjects imported ({versions} versions written), {} skipped, {} failed",
        count("imported"),
        count("skipped"),
        count("failed")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(name: &str, refers_to: &[&str]) -> Subject {
        Subject {
            name: name.to_owned(),
            versions: vec![SourceVersion {
                version: 1,
                id: 1,
                schema_type: Some("JSON".into()),
                schema: "{}".into(),
                references: refers_to
                    .iter()
                    .map(|s| SourceReference {
                        name: format!("{s}.json"),
                        subject: (*s).to_owned(),
                        version: 1,
                    })
                    .collect(),
            }],
            deleted: HashSet::new(),
            mode: None,
            policy: None,
        }
    }

    #[test]
    fn referenced_subjects_come_before_the_subjects_that_refer_to_them() {
        let subjects = vec![
            subject("a", &["c"]),
            subject("b", &[]),
            subject("c", &["b", "missing"]),
        ];
        assert_eq!(dependency_order(&subjects), vec!["b", "c", "a"]);
    }

    #[test]
    fn a_reference_cycle_does_not_loop() {
        let subjects = vec![subject("a", &["b"]), subject("b", &["a"])];
        let order = dependency_order(&subjects);
        assert_eq!(order.len(), 2);
    }

    #[test]
    fn subjects_are_encoded_as_one_path_segment() {
        assert_eq!(segment("orders/v1 x"), "orders%2Fv1%20x");
        assert_eq!(segment("a.b-c_d~"), "a.b-c_d~");
    }
}
