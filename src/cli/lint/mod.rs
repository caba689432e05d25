//! `accord lint [PATHS…]`: style and hygiene rules over contract files' schemas, each
//! with an id, a severity and a fix hint (docs/lint.md lists them). `accord check`
//! runs the same rules on the files it checks, unless `--no-lint`.
//!
//! Lint findings are check findings (category `lint`): one model, so both commands
//! write them through the same five renderers ([`crate::cli::check::render`]), and
//! an acceptance by fingerprint works on them as on any other.

pub mod config;
pub mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::Failure;
use super::check::{
    self, Category, CheckFormat, ContractResult, Finding, Level, Status, render, summarise,
};
use super::contract_file::{self, ContractFile};
use config::Config;
use rules::Severity;

/// Check contract files against style and hygiene rules.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Contract files, or directories searched for `*.contract.yaml` / `*.contract.json`.
    #[arg(default_value = "contracts")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// The lowest level that fails the run.
    #[arg(long, value_enum, default_value_t = Level::Error)]
    fail_on: Level,
    /// The configuration file (default: `accord.yaml` in the current directory or the
    /// nearest one above it, up to the git repository's root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Runs the command: exit 0 when no finding fails, 1 otherwise, 3 when a file cannot
/// be read (the others are still linted), 2 for a bad configuration.
pub fn run(args: LintArgs) -> Result<ExitCode, Failure> {
    let config = config::load_or_default(args.config.as_deref())
        .map_err(|e| Failure::usage(super::chain(&e)))?;
    let files =
        contract_file::discover(&args.paths).map_err(|e| Failure::load(super::chain(&e)))?;
    let results: Vec<ContractResult> = files
        .iter()
        .map(|path| match ContractFile::load(path) {
            Ok(c) => linted(&c, &config),
            Err(e) => check::failed(path, None, super::chain(&e)),
        })
        .collect();
    let outcome = summarise(
        "lint",
        &config,
        results,
        Vec::new(),
        args.fail_on,
        String::new(),
    );
    render::write(&outcome, args.format).map_err(|e| Failure::load(super::chain(&e)))?;
    Ok(outcome.exit_code())
}

fn linted(c: &ContractFile, config: &Config) -> ContractResult {
    ContractResult {
        status: Status::Linted,
        findings: findings(c, config),
        error: None,
        ..check::failed(&c.path, Some(c), String::new())
    }
}

/// The lint findings of a loaded contract file under `config`: rules that are off are
/// not run, severities are the configured ones, and findings an ignore covers are
/// marked ignored (shown, failing nothing).
pub(crate) fn findings(c: &ContractFile, config: &Config) -> Vec<Finding> {
    // The schema text of a loaded contract file is JSON (checked while loading).
    let Ok(schema) = serde_json::from_str::<Value>(&c.schema_text) else {
        return Vec::new();
    };
    let config = config.with(&c.lint);
    let options = rules::Options {
        case: config.case(),
    };
    let files = [c.path.as_path(), c.schema_path.as_path()];
    let mut found = rules::lint(&schema, &options);
    // The walk visits properties in key order; people read a file top to bottom.
    found.sort_by_key(|f| {
        let at = c.locate(&f.pointer);
        (at.line, at.column)
    });
    found
        .into_iter()
        .filter_map(|f| {
            let severity = config.severity(f.rule)?;
            let at = c.locate(&f.pointer);
            Some(Finding {
                rule: f.rule.id.to_owned(),
                level: match severity {
                    Severity::Error => Level::Error,
                    Severity::Warning => Level::Warning,
                },
                breaks: Vec::new(),
                fingerprint: fingerprint(c.name.as_str(), f.rule.id, &f.pointer),
                schema_pointer: Some(f.pointer),
                instance_path: None,
                old: None,
                new: None,
                message: f.message,
                witness: None,
                witnesses: None,
                file: c.schema_path.display().to_string(),
                line: at.line,
                column: at.column,
                accepted: None,
                expired_acceptance: None,
                category: Category::Lint,
                hint: Some(f.rule.hint.to_owned()),
                ignored: config.lint_ignore(f.rule.id, &files).cloned(),
            })
        })
        .collect()
}

/// The fingerprint of a lint finding: contract, rule and schema pointer, so an
/// acceptance of it survives edits elsewhere in the file.
fn fingerprint(contract: &str, rule: &str, pointer: &str) -> String {
    let mut h = Sha256::new();
    for part in ["lint", contract, rule, pointer] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_owned()
}
