//! `accord check [PATHS…] (--registry URL | --against GIT_REF)`: the CI gate.
//!
//! Each contract file is compared with its baseline (the registry's live versions of
//! the declared major line, or the same file at a git revision) by the engine, under
//! the contract's mode and policy; the declared version is checked against the bump
//! the changes require. Findings carry a level, a fingerprint and the line and column
//! of the changed node, and are rendered by [`render`].
//!
//! Against a registry the CLI fetches the versions and runs the engine locally rather
//! than asking the dry-run endpoint: the dry run checks under the registry's stored
//! mode, while a contract file may declare another one (which `publish` then sets),
//! and it skips the comparison when a new major is declared, where the check still
//! shows what the major breaks.
//!
//! Consumer files among the paths are checked too, and each contract's result carries
//! the consumers deployed against it with what the change does to them (from the
//! registry's dry run): see [`consumers`].

mod accept;
mod baseline;
mod consumers;
pub(crate) mod render;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use semver::Version;
use serde::Serialize;
use serde_json::Value;

use crate::compat::{self, Change, Previous};
use crate::domain::{Bump, Direction, Mode, Policy};
use crate::schema::{MapResolver, ParseOptions, Schema};

use super::Failure;
use super::consumer_file::{self, ConsumerFile};
use super::contract_file::{self, ContractFile, tree::Position};
use super::lint::{
    self,
    config::{self, Config, Ignore},
};

pub use accept::Entry as Acceptance;
use baseline::{Baseline, Prev};
pub(crate) use consumers::rows_of as consumer_rows;

/// Check contract files against a registry or a git revision.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Contract and consumer files, or directories searched for `*.contract.yaml` /
    /// `*.contract.json` and `*.consumer.yaml` / `*.consumer.json`.
    #[arg(default_value = "contracts")]
    paths: Vec<PathBuf>,
    /// Compare with the registry at this URL.
    #[arg(long, env = "ACCORD_REGISTRY", conflicts_with = "against")]
    registry: Option<String>,
    /// Compare with the same files at this git revision (e.g. `origin/main`), offline.
    #[arg(long, value_name = "GIT_REF")]
    against: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// The lowest level that fails the check.
    #[arg(long, value_enum, default_value_t = Level::Error)]
    fail_on: Level,
    /// The acceptance file (default: `accord-accept.yaml` in the current directory or the
    /// nearest one above it, up to the git repository's root).
    #[arg(long, value_name = "FILE")]
    accept: Option<PathBuf>,
    /// The configuration file (default: `accord.yaml` in the current directory or the
    /// nearest one above it, up to the git repository's root): lint rules, and ignores
    /// by rule and path for breaking changes.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not lint the contract files (docs/lint.md).
    #[arg(long)]
    no_lint: bool,
    /// The registry's token and private CA (with --registry).
    #[command(flatten)]
    connect: super::connect::Connect,
}

/// How the check's result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For people (colour on a terminal).
    Text,
    /// One JSON document.
    Json,
    /// GitHub workflow annotations, plus a summary in `$GITHUB_STEP_SUMMARY`.
    Github,
    /// JUnit XML, one test case per contract.
    Junit,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Compatible; shown for review.
    Info,
    /// Breaks a direction the mode does not enforce, or needs attention.
    Warning,
    /// Breaks the mode, or a versioning rule.
    Error,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One finding, ready for every renderer.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule id (an engine rule, or `version-*` / `contract-removed`).
    pub rule: String,
    /// How serious it is.
    pub level: Level,
    /// Which directions it breaks.
    pub breaks: Vec<Direction>,
    /// The schema pointer (new side; old side for removals).
    pub schema_pointer: Option<String>,
    /// The instance path, `*` for any item or property.
    pub instance_path: Option<String>,
    /// The old value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The new value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// One line for people.
    pub message: String,
    /// An instance that was valid and no longer is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Value>,
    /// The witnesses of a breaking change, per direction it breaks, with the reason
    /// when one has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<compat::Witnesses>,
    /// The file holding the node.
    pub file: String,
    /// Its line, from 1.
    pub line: usize,
    /// Its column, from 1.
    pub column: usize,
    /// The stable fingerprint an acceptance names.
    pub fingerprint: String,
    /// The acceptance that covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
    /// An acceptance that covered it and has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_acceptance: Option<Acceptance>,
    /// A compatibility finding (the engine's, or about the version) or a lint one.
    pub category: Category,
    /// What to do about it (lint findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The `accord.yaml` ignore (rule and path) that covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Ignore>,
}

/// Where a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A change against the baseline, or a versioning rule.
    Compatibility,
    /// A lint rule (docs/lint.md).
    Lint,
}

impl Finding {
    /// Whether the finding fails the check at `threshold`.
    pub fn fails(&self, threshold: Level) -> bool {
        self.accepted.is_none() && self.ignored.is_none() && self.level >= threshold
    }

    /// `accepted`, `ignored`, or the level.
    pub fn label(&self) -> &'static str {
        if self.accepted.is_some() {
            "accepted"
        } else if self.ignored.is_some() {
            "ignored"
        } else {
            self.level.as_str()
        }
    }
}

/// What happened to one contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No baseline: a first version.
    Initial,
    /// Identical to the baseline.
    Unchanged,
    /// Compared within its major line.
    Changed,
    /// A new major line: compared with the previous line for information.
    NewMajor,
    /// A consumer file, checked against the registry's contracts.
    Consumer,
    /// The contract file is gone.
    Removed,
    /// Could not be checked.
    Failed,
    /// Linted only (`accord lint`).
    Linted,
}

/// The result for one contract file.
#[derive(Debug, Clone, Serialize)]
pub struct ContractResult {
    /// The contract file.
    pub file: String,
    /// The contract (the file name when it could not be read).
    pub name: String,
    /// The declared version.
    pub declared_version: Option<String>,
    /// What it was compared with, e.g. `origin/main:contracts/x.contract.yaml` or
    /// `registry://http://…/orders@1.2.0`.
    pub base: Option<String>,
    /// The version compared with.
    pub base_version: Option<String>,
    /// The outcome.
    pub status: Status,
    /// The mode checked.
    pub mode: Mode,
    /// The policy applied.
    pub policy: Policy,
    /// The versions checked, newest first.
    pub checked_versions: Vec<String>,
    /// The bump the changes require.
    pub required_bump: Option<Bump>,
    /// The bump the declared version represents.
    pub declared_bump: Option<Bump>,
    /// The smallest version the changes allow.
    pub required_version: Option<String>,
    /// The findings.
    pub findings: Vec<Finding>,
    /// The consumers deployed against the contract and what this change does to each
    /// (against a registry that reports them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<consumers::Affected>,
    /// Why it could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole check (or lint run).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `check` or `lint`: which command the renderers speak for.
    #[serde(skip)]
    pub command: &'static str,
    /// The configuration file in force, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `clean`, `breaking` or `incomplete` (something could not be loaded).
    pub verdict: &'static str,
    /// The threshold.
    pub fail_on: Level,
    /// What the contracts were compared with.
    pub against: String,
    /// Counts.
    pub summary: Summary,
    /// One entry per contract file.
    pub contracts: Vec<ContractResult>,
    /// Acceptances that matched nothing.
    pub stale_acceptances: Vec<Acceptance>,
}

/// Counts of findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Contracts checked.
    pub contracts: usize,
    /// Errors not accepted.
    pub errors: usize,
    /// Warnings not accepted.
    pub warnings: usize,
    /// Infos.
    pub infos: usize,
    /// Accepted findings.
    pub accepted: usize,
    /// Findings an `accord.yaml` ignore covers.
    pub ignored: usize,
    /// Findings at or above the threshold, not accepted.
    pub failing: usize,
    /// Contracts that could not be checked.
    pub failed_to_load: usize,
}

/// Runs the command.
pub fn run(args: CheckArgs) -> Result<ExitCode, Failure> {
    let entries = load_acceptances(args.accept.as_deref())?;
    let config = config::load_or_default(args.config.as_deref())
        .map_err(|e| Failure::usage(crate::cli::chain(&e)))?;
    let files =
        contract_file::discover(&args.paths).map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    let (mut baseline, against) = match (&args.registry, &args.against) {
        (Some(url), _) => (
            Baseline::registry(url, &args.connect.load()?)
                .map_err(|e| Failure::load(crate::cli::chain(&e)))?,
            url.clone(),
        ),
        (None, Some(rev)) => (
            Baseline::git(rev).map_err(|e| Failure::load(crate::cli::chain(&e)))?,
            format!("git {rev}"),
        ),
        (None, None) => {
            return Err(Failure::usage(
                "accord check needs something to compare with: --registry URL (or ACCORD_REGISTRY) \
                 for a registry, or --against GIT_REF (for example origin/main) for a git revision",
            ));
        }
    };

    let mut results = Vec::new();
    let mut loaded = Vec::new();
    for path in &files {
        match ContractFile::load(path) {
            Ok(c) => loaded.push(c),
            Err(e) => results.push(failed(path, None, crate::cli::chain(&e))),
        }
    }
    let resolver = resolver_of(&loaded);
    let mut seen = HashSet::new();
    for c in &loaded {
        if !seen.insert(c.name.to_string()) {
            results.push(failed(
                &c.path,
                Some(c),
                format!("another contract file also declares {}", c.name),
            ));
            continue;
        }
        let mut result = check_one(c, &resolver, &mut baseline);
        if let (Baseline::Registry(r), true) = (&baseline, result.status != Status::Failed) {
            let i = loaded
                .iter()
                .position(|x| std::ptr::eq(x, c))
                .unwrap_or_default();
            let references = super::publish::references_of(&loaded, i);
            if let Some((rows, blocked)) = consumers::affected(r.client(), c, references) {
                result
                    .findings
                    .extend(consumers::findings(c, &rows, blocked));
                result.consumers = rows;
            }
        }
        ignore_breaking(&mut result, c, &config);
        if !args.no_lint {
            result.findings.extend(lint::findings(c, &config));
        }
        results.push(result);
    }
    let consumer_client = match &baseline {
        Baseline::Registry(r) => Some(r.client()),
        Baseline::Git(_) => None,
    };
    let mut registered = consumers::Registered::default();
    let consumer_files =
        consumer_file::discover(&args.paths).map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    for path in &consumer_files {
        match ConsumerFile::load(path) {
            Ok(file) => results.push(consumers::check_file(
                &file,
                consumer_client,
                &mut registered,
            )),
            Err(e) => results.push(failed(path, None, crate::cli::chain(&e))),
        }
    }
    if let Baseline::Git(g) = &baseline {
        match g.removed_files(&args.paths, &files) {
            Ok(removed) => {
                for (path, old) in removed {
                    results.push(removed_result(&path, old, &g.rev));
                }
            }
            Err(e) => results.push(ContractResult {
                error: Some(crate::cli::chain(&e)),
                ..failed(Path::new("."), None, String::new())
            }),
        }
    }
    results.sort_by(|a, b| a.file.cmp(&b.file));

    let stale = apply_acceptances(&mut results, &entries, chrono::Local::now().date_naive());
    let outcome = summarise("check", &config, results, stale, args.fail_on, against);
    render::write(&outcome, args.format).map_err(|e| Failure::load(crate::cli::chain(&e)))?;
    Ok(outcome.exit_code())
}

impl Outcome {
    /// 3 when something could not be loaded, 1 when a finding fails, 0 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.verdict {
            "incomplete" => 3,
            "breaking" => 1,
            _ => 0,
        })
    }
}

/// Marks the compatibility findings an `accord.yaml` `breaking.ignore` entry covers
/// (by rule, and the contract file's or the schema file's path).
fn ignore_breaking(result: &mut ContractResult, c: &ContractFile, config: &Config) {
    for f in &mut result.findings {
        let files = [c.path.as_path(), Path::new(&f.file)];
        if let Some(i) = config.breaking_ignore(&f.rule, &files) {
            f.ignored = Some(i.clone());
        }
    }
}

fn load_acceptances(explicit: Option<&Path>) -> Result<Vec<Acceptance>, Failure> {
    let path = match explicit {
        Some(p) if !p.exists() => {
            return Err(Failure::usage(format!(
                "the acceptance file {} does not exist",
                p.display()
            )));
        }
        Some(p) => p.to_owned(),
        // The nearest one up to the git root, so `accord check` finds the repository's
        // file wherever inside it it runs.
        None => match config::find_up(accept::DEFAULT_FILE) {
            Some(p) => p,
            None => return Ok(Vec::new()),
        },
    };
    accept::load(&path).map_err(|e| Failure::usage(crate::cli::chain(&e)))
}

/// Documents that `$ref`s between contract files resolve to, by their `$id`.
pub(crate) fn resolver_of(contracts: &[ContractFile]) -> MapResolver {
    let mut resolver = MapResolver::new();
    for c in contracts {
        let value = c.schema_tree.to_value();
        if let Some(id) = value.get("$id").and_then(Value::as_str) {
            resolver.insert(id.to_owned(), value.clone());
        }
    }
    resolver
}

/// The result for a contract file that could not be checked (also the base of
/// `accord lint`'s results).
pub(crate) fn failed(path: &Path, c: Option<&ContractFile>, error: String) -> ContractResult {
    ContractResult {
        file: path.display().to_string(),
        name: c.map_or_else(|| path.display().to_string(), |c| c.name.to_string()),
        declared_version: c.map(|c| c.version.to_string()),
        base: None,
        base_version: None,
        status: Status::Failed,
        mode: c.and_then(|c| c.mode).unwrap_or_default(),
        policy: c.and_then(|c| c.policy).unwrap_or_default(),
        checked_versions: Vec::new(),
        required_bump: None,
        declared_bump: None,
        required_version: None,
        findings: Vec::new(),
        consumers: Vec::new(),
        error: Some(error),
    }
}

fn check_one(c: &ContractFile, resolver: &MapResolver, baseline: &mut Baseline) -> ContractResult {
    let options = ParseOptions::default();
    // Compiled as the registry compiles it: what passes here registers there.
    let candidate =
        match Schema::from_text(&c.schema_text, &options, resolver).and_then(Schema::compiled) {
            Ok(s) => s,
            Err(e) => {
                return failed(
                    &c.path,
                    Some(c),
                    format!("{}: {e}", c.schema_path.display()),
                );
            }
        };
    let base = match baseline.for_contract(c, candidate.fingerprint()) {
        Ok(b) => b,
        Err(e) => return failed(&c.path, Some(c), crate::cli::chain(&e)),
    };
    let mode = c.mode.or(base.mode).unwrap_or_default();
    let policy = c.policy.or(base.policy).unwrap_or_default();
    let mut result = ContractResult {
        file: c.path.display().to_string(),
        name: c.name.to_string(),
        declared_version: Some(c.version.to_string()),
        base: None,
        base_version: None,
        status: Status::Initial,
        mode,
        policy,
        checked_versions: Vec::new(),
        required_bump: None,
        declared_bump: None,
        required_version: None,
        findings: Vec::new(),
        consumers: Vec::new(),
        error: None,
    };
    let version_finding = |rule: &str, level: Level, message: String| Finding {
        rule: rule.to_owned(),
        level,
        breaks: Vec::new(),
        schema_pointer: None,
        instance_path: None,
        old: None,
        new: None,
        fingerprint: accept::fingerprint(
            c.name.as_str(),
            &Change {
                rule: "",
                breaks: Vec::new(),
                annotation: false,
                old_pointer: None,
                new_pointer: Some(format!("{rule}@{}", c.version)),
                instance_path: String::new(),
                old: None,
                new: None,
                message: String::new(),
                witness: None,
                witnesses: None,
                forward_hint: None,
            },
        ),
        message,
        witness: None,
        witnesses: None,
        file: c.path.display().to_string(),
        line: c.version_at.line,
        column: c.version_at.column,
        accepted: None,
        expired_acceptance: None,
        category: Category::Compatibility,
        hint: None,
        ignored: None,
    };

    if let Some(v) = &base.identical {
        result.base = Some(base.describe(v));
        result.base_version = Some(v.to_string());
        result.status = Status::Unchanged;
        result.required_bump = Some(Bump::None);
        if *v != c.version {
            result.findings.push(version_finding(
                "version-without-change",
                Level::Warning,
                format!(
                    "declared {} but the schema is identical to {v}: publishing registers nothing",
                    c.version
                ),
            ));
        }
        return result;
    }
    if let Some(h) = &base.highest {
        if c.version <= *h {
            result.findings.push(version_finding(
                "version-not-greater",
                Level::Error,
                format!(
                    "declared {} is not greater than {h}, the highest existing version; the schema changed, so the version must grow",
                    c.version
                ),
            ));
        }
    }
    let line: Vec<&Prev> = base
        .versions
        .iter()
        .filter(|p| p.version.major == c.version.major)
        .collect();
    let (compared, new_major): (Vec<&Prev>, bool) = if !line.is_empty() {
        (line, false)
    } else if let Some(newest) = base.versions.first() {
        (vec![newest], true)
    } else {
        return result;
    };
    let targets: &[&Prev] = if mode.is_transitive() && !new_major {
        &compared
    } else {
        &compared[..1]
    };
    let labels: Vec<String> = targets.iter().map(|p| p.version.to_string()).collect();
    let previous: Vec<Previous<'_>> = targets
        .iter()
        .zip(&labels)
        .map(|(p, label)| Previous {
            label,
            schema: &p.schema,
        })
        .collect();
    let report = match compat::check(&candidate, &previous, mode, policy) {
        Ok(r) => r,
        Err(e) => return failed(&c.path, Some(c), e.to_string()),
    };
    let newest = targets[0];
    result.base = Some(base.describe(&newest.version));
    result.base_version = Some(newest.version.to_string());
    result.checked_versions = report.checked_versions.clone();
    let compared_with = report
        .failed_version
        .as_deref()
        .and_then(|l| targets.iter().find(|p| p.version.to_string() == l))
        .copied()
        .unwrap_or(newest);
    for change in &report.changes {
        let mut f = finding_of(c, change, compared_with, mode);
        if new_major && f.level > Level::Info {
            f.level = Level::Info;
            f.message = format!("{} (allowed: new major version {})", f.message, c.version);
        }
        result.findings.push(f);
    }
    if report.truncated {
        // The unlisted changes cannot be accepted one by one: while the check is
        // incompatible, this finding fails it, so accepting every listed change does
        // not pass a check whose unlisted changes still break.
        let level = if report.compatible || new_major {
            Level::Info
        } else {
            Level::Error
        };
        let note = version_finding(
            "changes-not-listed",
            level,
            format!(
                "{} of {} changes are listed; the rest are counted, not shown",
                report.changes.len(),
                report.changes_total
            ),
        );
        result.findings.push(note);
    }
    if new_major {
        result.status = Status::NewMajor;
        result.required_bump = Some(Bump::Major);
        result.declared_bump = Some(Bump::Major);
        return result;
    }
    result.status = Status::Changed;
    let required = if report.compatible {
        report.required_bump.max(Bump::Patch)
    } else {
        Bump::Major
    };
    let declared = Bump::between(&newest.version, &c.version);
    result.required_bump = Some(required);
    result.declared_bump = declared;
    result.required_version = Some(required.apply(&newest.version).to_string());
    if let Some(d) = declared {
        if d < required {
            result.findings.push(version_finding(
                "version-bump-too-small",
                Level::Error,
                format!(
                    "declared {} ({d}) but the changes require {} ({required})",
                    c.version,
                    required.apply(&newest.version)
                ),
            ));
        }
    }
    result
}

fn finding_of(c: &ContractFile, change: &Change, old: &Prev, mode: Mode) -> Finding {
    let enforced = change.breaks.iter().any(|d| match d {
        Direction::Backward => mode.checks_backward(),
        Direction::Forward => mode.checks_forward(),
    });
    let level = if enforced {
        Level::Error
    } else if !change.breaks.is_empty() {
        Level::Warning
    } else {
        Level::Info
    };
    let (file, at, pointer) = locate(c, change, old);
    Finding {
        rule: change.rule.to_owned(),
        level,
        breaks: change.breaks.clone(),
        schema_pointer: pointer,
        instance_path: Some(if change.instance_path.is_empty() {
            "/".to_owned()
        } else {
            change.instance_path.clone()
        }),
        old: change.old.clone(),
        new: change.new.clone(),
        message: change.message.clone(),
        witness: change.witness.clone(),
        witnesses: change.witnesses.clone(),
        file,
        line: at.line,
        column: at.column,
        fingerprint: accept::fingerprint(c.name.as_str(), change),
        accepted: None,
        expired_acceptance: None,
        category: Category::Compatibility,
        hint: None,
        ignored: None,
    }
}

/// The file and position of a change: the node in the new schema, or for a removal
/// the node in the old file when there is one (a git baseline); otherwise the nearest
/// node of the new schema that still exists.
fn locate(c: &ContractFile, change: &Change, old: &Prev) -> (String, Position, Option<String>) {
    let in_root = |p: &str| p.is_empty() || p.starts_with('/');
    let here = |p: &str| (c.schema_path.display().to_string(), c.locate(p));
    match (&change.new_pointer, &change.old_pointer) {
        (Some(n), _) if in_root(n) && c.schema_tree.contains(n) => {
            let (f, at) = here(n);
            (f, at, Some(n.clone()))
        }
        (_, Some(o)) if in_root(o) => {
            if let Some(file) = old.file.as_ref().filter(|f| f.schema_tree.contains(o)) {
                (
                    file.schema_path.display().to_string(),
                    file.locate(o),
                    Some(o.clone()),
                )
            } else {
                let (f, at) = here(o);
                (f, at, Some(o.clone()))
            }
        }
        (n, o) => {
            let p = n.clone().or(o.clone());
            let (f, at) = here(p.as_deref().filter(|p| in_root(p)).unwrap_or(""));
            (f, at, p)
        }
    }
}

fn removed_result(path: &Path, old: Option<ContractFile>, rev: &str) -> ContractResult {
    let name = old
        .as_ref()
        .map_or_else(|| path.display().to_string(), |c| c.name.to_string());
    let message = format!(
        "the contract file {} was removed: every consumer of {name} loses its contract",
        path.display()
    );
    let fingerprint = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        format!("contract-removed\0{name}").as_bytes(),
    ))[..16]
        .to_owned();
    ContractResult {
        file: path.display().to_string(),
        name,
        declared_version: None,
        base: Some(format!("{rev}:{}", path.display())),
        base_version: old.as_ref().map(|c| c.version.to_string()),
        status: Status::Removed,
        mode: old.as_ref().and_then(|c| c.mode).unwrap_or_default(),
        policy: old.as_ref().and_then(|c| c.policy).unwrap_or_default(),
        checked_versions: Vec::new(),
        required_bump: Some(Bump::Major),
        declared_bump: None,
        required_version: None,
        findings: vec![Finding {
            rule: "contract-removed".to_owned(),
            level: Level::Error,
            breaks: vec![Direction::Backward, Direction::Forward],
            schema_pointer: None,
            instance_path: None,
            old: old.as_ref().map(|c| Value::String(c.version.to_string())),
            new: None,
            message,
            witness: None,
            witnesses: None,
            file: path.display().to_string(),
            line: 1,
            column: 1,
            fingerprint,
            accepted: None,
            expired_acceptance: None,
            category: Category::Compatibility,
            hint: None,
            ignored: None,
        }],
        consumers: Vec::new(),
        error: None,
    }
}

/// Marks accepted and expired findings; returns the entries that matched nothing.
fn apply_acceptances(
    results: &mut [ContractResult],
    entries: &[Acceptance],
    today: chrono::NaiveDate,
) -> Vec<Acceptance> {
    let mut used = vec![false; entries.len()];
    for f in results.iter_mut().flat_map(|r| r.findings.iter_mut()) {
        if let Some(i) = entries.iter().position(|e| e.fingerprint == f.fingerprint) {
            used[i] = true;
            if accept::expired(&entries[i], today) {
                f.expired_acceptance = Some(entries[i].clone());
            } else {
                f.accepted = Some(entries[i].clone());
            }
        }
    }
    entries
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| e.clone())
        .collect()
}

pub(crate) fn summarise(
    command: &'static str,
    config: &Config,
    contracts: Vec<ContractResult>,
    stale_acceptances: Vec<Acceptance>,
    fail_on: Level,
    against: String,
) -> Outcome {
    let mut s = Summary {
        contracts: contracts.len(),
        ..Summary::default()
    };
    for r in &contracts {
        if r.status == Status::Failed {
            s.failed_to_load += 1;
        }
        for f in &r.findings {
            if f.accepted.is_some() {
                s.accepted += 1;
                continue;
            }
            if f.ignored.is_some() {
                s.ignored += 1;
                continue;
            }
            match f.level {
                Level::Error => s.errors += 1,
                Level::Warning => s.warnings += 1,
                Level::Info => s.infos += 1,
            }
            if f.fails(fail_on) {
                s.failing += 1;
            }
        }
    }
    let verdict = if s.failed_to_load > 0 {
        "incomplete"
    } else if s.failing > 0 {
        "breaking"
    } else {
        "clean"
    };
    Outcome {
        command,
        config: config.file.as_ref().map(|p| p.display().to_string()),
        verdict,
        fail_on,
        against,
        summary: s,
        contracts,
        stale_acceptances,
    }
}

/// Parses a fetched or older schema, which refers to nothing outside itself.
fn parse_baseline_schema(text: &str, what: &str) -> anyhow::Result<Schema> {
    Schema::from_text(text, &ParseOptions::default(), &crate::schema::NoResolver)
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

impl Baseline {
    fn for_contract(
        &mut self,
        c: &ContractFile,
        fingerprint: &str,
    ) -> anyhow::Result<baseline::ForContract> {
        match self {
            Baseline::Git(g) => g.for_contract(c, fingerprint),
            Baseline::Registry(r) => r.for_contract(c, fingerprint),
        }
    }
}

/// The declared version and a version, as semver, for the baselines.
fn parse_version(s: &str) -> anyhow::Result<Version> {
    Version::parse(s).map_err(|e| anyhow::anyhow!("version {s:?}: {e}"))
}
