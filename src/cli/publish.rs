//! `accord publish [PATHS…] --registry URL`: register contract files, idempotently.
//!
//! Contracts are published in dependency order (a schema whose `$ref` names another
//! contract's `$id` comes after it). For each one, the version is registered unless a
//! live version already holds the same schema; the registration carries the declared
//! mode, policy, owner, description and tags, so the registry checks it under that
//! mode and writes everything in one transaction, or nothing when it refuses. When no
//! version is registered, changed configuration and metadata are set on their own.
//! The first refusal stops the run with its report; the output lists exactly what was
//! written. `--dry-run` asks the registry's dry-run endpoint (with the same mode and
//! policy) what a registration would do and changes nothing.
//!
//! Consumer files (`*.consumer.yaml`) among the paths are declared after the contracts
//! (`PUT /consumers/{name}`), for the application version `--app-version` names, else
//! the commit `git rev-parse HEAD` names in the file's repository.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use clap::Args;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::schema::{MapResolver, ParseOptions, Schema};

use super::check::resolver_of;
use super::consumer_file::{self, ConsumerFile};
use super::contract_file::{self, ContractFile};
use super::registry_client::{RegistryClient, error_message};
use super::{Failure, Format};

/// Register contract files with a registry.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Contract and consumer files, or directories searched for `*.contract.yaml` /
    /// `*.contract.json` and `*.consumer.yaml` / `*.consumer.json`.
    #[arg(default_value = "contracts")]
    paths: Vec<PathBuf>,
    /// The application version consumer files are declared for (default: `git
    /// rev-parse HEAD` in the repository holding each consumer file).
    #[arg(long, value_name = "VERSION")]
    app_version: Option<String>,
    /// The registry.
    #[arg(long, env = "ACCORD_REGISTRY")]
    registry: String,
    /// Show what would happen; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The registry's token and private CA.
    #[command(flatten)]
    connect: super::connect::Connect,
}

/// What publishing one contract did (or would do).
#[derive(Debug, Serialize)]
struct Step {
    name: String,
    file: String,
    version: String,
    /// `registered`, `unchanged`, `identical-to-existing`, `would-register`, `refused`.
    outcome: String,
    /// Every change made or planned, in words.
    actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Value>,
}

#[derive(Serialize)]
struct Registration<'a> {
    schema: &'a RawValue,
    version: String,
    owner: &'a str,
    description: &'a str,
    tags: &'a [String],
    /// The declared mode, checked under and written with the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    /// The declared policy, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    /// The other contracts this schema's `$ref`s name by `$id`, at their declared versions.
    references: Vec<Value>,
}

/// The registry `references` for contract `i`: one per other contract whose `$id` one of
/// its `$ref`s uses, pinned to that contract's declared version (published before it).
pub(crate) fn references_of(contracts: &[ContractFile], i: usize) -> Vec<Value> {
    let mut refs = Vec::new();
    collect_refs(&contracts[i].schema_tree.to_value(), &mut refs);
    let mut bases: Vec<&str> = refs
        .iter()
        .map(|r| r.split('#').next().unwrap_or_default())
        .filter(|b| !b.is_empty())
        .collect();
    bases.sort_unstable();
    bases.dedup();
    bases
        .into_iter()
        .filter_map(|base| {
            contracts.iter().enumerate().find(|(j, c)| {
                *j != i && c.schema_tree.to_value().get("$id").and_then(Value::as_str).map(|id| id.split('#').next().unwrap_or_default()) == Some(base)
            })
        })
        .map(|(_, c)| {
            let id = c.schema_tree.to_value().get("$id").and_then(Value::as_str).unwrap_or_default().split('#').next().unwrap_or_default().to_owned();
            serde_json::json!({"name": id, "contract": c.name.as_str(), "version": c.version.to_string()})
        })
        .collect()
}

/// Runs the command.
pub fn run(args: PublishArgs) -> Result<ExitCode, Failure> {
    let files =
        contract_file::discover(&args.paths).map_err(|e| Failure::load(super::chain(&e)))?;
    let contracts = files
        .iter()
        .map(|p| ContractFile::load(p))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| Failure::load(super::chain(&e)))?;
    let consumer_files =
        consumer_file::discover(&args.paths).map_err(|e| Failure::load(super::chain(&e)))?;
    let consumers = consumer_files
        .iter()
        .map(|p| {
            let file = ConsumerFile::load(p)?;
            let version = consumer_file::app_version(args.app_version.as_deref(), p)?;
            Ok((file, version))
        })
        .collect::<Result<Vec<_>>>()
        .map_err(|e| Failure::load(super::chain(&e)))?;
    let order = dependency_order(&contracts).map_err(|e| Failure::usage(super::chain(&e)))?;
    let resolver = resolver_of(&contracts);
    for c in &contracts {
        Schema::from_text(&c.schema_text, &ParseOptions::default(), &resolver)
            .and_then(Schema::compiled)
            .map_err(|e| Failure::load(format!("{}: {e}", c.schema_path.display())))?;
    }
    let credentials = args.connect.load()?;
    let client = RegistryClient::new(&args.registry, &credentials)
        .map_err(|e| Failure::usage(super::chain(&e)))?;
    let mut steps = Vec::new();
    let mut refused = false;
    for i in order {
        let step = publish_one(
            &client,
            &contracts[i],
            references_of(&contracts, i),
            &resolver,
            args.dry_run,
        )
        .map_err(|e| Failure::load(super::chain(&e)))?;
        refused = step.outcome == "refused";
        steps.push(step);
        if refused {
            break;
        }
    }
    let mut declared = Vec::new();
    if !refused {
        for (file, version) in &consumers {
            declared.push(
                declare(&client, file, version, args.dry_run)
                    .map_err(|e| Failure::load(super::chain(&e)))?,
            );
        }
    }
    report(&steps, &declared, args.format, args.dry_run);
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Indices of `contracts` so that a contract comes after those its schema refers to
/// (by their `$id`); ties keep file order.
fn dependency_order(contracts: &[ContractFile]) -> Result<Vec<usize>> {
    let ids: HashMap<String, usize> = contracts
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.schema_tree
                .to_value()
                .get("$id")
                .and_then(Value::as_str)
                .map(|id| (id.split('#').next().unwrap_or_default().to_owned(), i))
        })
        .collect();
    let deps: Vec<Vec<usize>> = contracts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut refs = Vec::new();
            collect_refs(&c.schema_tree.to_value(), &mut refs);
            let mut d: Vec<usize> = refs
                .iter()
                .filter_map(|r| ids.get(r.split('#').next().unwrap_or_default()))
                .copied()
                .filter(|&j| j != i)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    // Depth-first, visiting dependencies first; a node met again while on the stack
    // closes a cycle.
    let mut state = vec![0u8; contracts.len()]; // 0 new, 1 on stack, 2 done
    let mut order = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        contracts: &[ContractFile],
    ) -> Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                return Err(anyhow!(
                    "contracts refer to each other in a cycle through {}; publish cannot order them",
                    contracts[i].name
                ));
            }
            _ => {}
        }
        state[i] = 1;
        for &j in &deps[i] {
            visit(j, deps, state, order, contracts)?;
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..contracts.len() {
        visit(i, &deps, &mut state, &mut order, contracts)?;
    }
    Ok(order)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn publish_one(
    client: &RegistryClient,
    c: &ContractFile,
    references: Vec<Value>,
    resolver: &MapResolver,
    dry_run: bool,
) -> Result<Step> {
    let name = c.name.as_str();
    let mut step = Step {
        name: name.to_owned(),
        file: c.path.display().to_string(),
        version: c.version.to_string(),
        outcome: String::new(),
        actions: Vec::new(),
        refusal: None,
    };
    let would = if dry_run { "would " } else { "" };
    let detail = client.contract(name)?;
    let schema = Schema::from_text(&c.schema_text, &ParseOptions::default(), resolver)
        .ok()
        .map(|s| s.fingerprint().to_owned());

    // The declared mode and policy travel with the registration: the registry checks
    // the schema under them and writes them in the same transaction as the version, so
    // a refusal leaves nothing behind. Only when no version is registered (the schema
    // is already there) are they set on their own.
    let (mode_now, policy_now) = detail.as_ref().map_or((None, None), |d| {
        (d.config.mode_override, d.config.policy_override)
    });
    let mut config = BTreeMap::new();
    if let Some(m) = c.mode.filter(|m| Some(*m) != mode_now) {
        config.insert("mode", m.to_string());
    }
    if let Some(p) = c.policy.filter(|p| Some(*p) != policy_now) {
        config.insert("policy", p.to_string());
    }
    let config_words = config
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");

    let existing = detail.as_ref().and_then(|d| {
        d.versions
            .iter()
            .filter(|v| !v.deleted && Some(&v.fingerprint) == schema.as_ref())
            .max_by_key(|v| semver::Version::parse(&v.version).ok())
    });
    let raw = RawValue::from_string(c.schema_text.clone())
        .with_context(|| format!("{}: not JSON", c.schema_path.display()))?;
    match existing {
        Some(v) => {
            step.outcome = if v.version == step.version {
                "unchanged"
            } else {
                step.actions.push(format!(
                    "nothing registered: the schema is identical to {}, which the registry answers for it",
                    v.version
                ));
                "identical-to-existing"
            }
            .to_owned();
            if !config.is_empty() {
                if !dry_run {
                    client.put(
                        &format!("/contracts/{name}/config"),
                        &json!(config),
                        &format!("configuring {name}"),
                    )?;
                }
                step.actions.push(format!("{would}set {config_words}"));
            }
        }
        None => {
            let body = Registration {
                schema: &raw,
                version: step.version.clone(),
                owner: &c.owner,
                description: &c.description,
                tags: &c.tags,
                mode: c.mode.map(|m| m.to_string()),
                policy: c.policy.map(|p| p.to_string()),
                references,
            };
            let path = if dry_run {
                format!("/contracts/{name}/compatibility")
            } else {
                format!("/contracts/{name}/versions")
            };
            let answer = client.post(&path, &body, &format!("registering {name}"))?;
            let outcome = answer.body.get("outcome").and_then(Value::as_str);
            if !(answer.status.is_success() && outcome != Some("refused")) {
                step.outcome = "refused".to_owned();
                step.refusal = Some(if dry_run {
                    answer.body.get("error").cloned().unwrap_or(answer.body)
                } else {
                    answer.body.get("error").cloned().unwrap_or(Value::Null)
                });
                return Ok(step);
            }
            step.outcome = if dry_run {
                "would-register"
            } else {
                "registered"
            }
            .to_owned();
            step.actions
                .push(format!("{would}register {}", step.version));
            if !config.is_empty() {
                step.actions.push(format!("{would}set {config_words}"));
            }
            match &detail {
                None => step.actions.push(format!(
                    "{would}create the contract with its owner, description and tags"
                )),
                Some(d) => {
                    let changed: Vec<&str> = [
                        ("owner", d.owner.as_deref() != Some(c.owner.as_str())),
                        (
                            "description",
                            d.description.as_deref() != Some(c.description.as_str()),
                        ),
                        ("tags", d.tags != c.tags),
                    ]
                    .into_iter()
                    .filter_map(|(k, changed)| changed.then_some(k))
                    .collect();
                    if !changed.is_empty() {
                        step.actions
                            .push(format!("{would}update {}", changed.join(", ")));
                    }
                }
            }
            // The registration carried the metadata: nothing left to patch.
            return Ok(step);
        }
    }

    if let Some(d) = &detail {
        let mut patch = serde_json::Map::new();
        if d.owner.as_deref() != Some(c.owner.as_str()) {
            patch.insert("owner".into(), c.owner.clone().into());
        }
        if d.description.as_deref() != Some(c.description.as_str()) {
            patch.insert("description".into(), c.description.clone().into());
        }
        if d.tags != c.tags {
            patch.insert("tags".into(), json!(c.tags));
        }
        if !patch.is_empty() {
            if !dry_run {
                client.patch(
                    &format!("/contracts/{name}"),
                    &Value::Object(patch.clone()),
                    &format!("updating {name}"),
                )?;
            }
            step.actions.push(format!(
                "{would}update {}",
                patch.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(step)
}

/// What publishing one consumer file did (or would do).
#[derive(Debug, Serialize)]
struct Declared {
    name: String,
    file: String,
    app_version: String,
    /// `declared` or `would-declare`.
    outcome: String,
    /// `contract range`, one per read.
    reads: Vec<String>,
    /// What the registry warned about (an unknown contract).
    warnings: Vec<String>,
}

fn declare(
    client: &RegistryClient,
    file: &ConsumerFile,
    version: &crate::domain::AppVersion,
    dry_run: bool,
) -> Result<Declared> {
    let mut warnings = Vec::new();
    if !dry_run {
        let what = format!("declaring consumer {}", file.name);
        let body = client
            .put_answer(
                &format!("/consumers/{}", file.name),
                &file.declaration(version),
                &what,
            )?
            .ok(&what)?;
        if let Some(ws) = body.get("warnings").and_then(Value::as_array) {
            warnings = ws
                .iter()
                .map(|w| {
                    w.as_str().map_or_else(
                        || {
                            w["message"]
                                .as_str()
                                .map_or_else(|| w.to_string(), str::to_owned)
                        },
                        str::to_owned,
                    )
                })
                .collect();
        }
    }
    Ok(Declared {
        name: file.name.to_string(),
        file: file.path.display().to_string(),
        app_version: version.to_string(),
        outcome: if dry_run { "would-declare" } else { "declared" }.to_owned(),
        reads: file
            .reads
            .iter()
            .map(|r| format!("{} {}", r.contract, r.range_text))
            .collect(),
        warnings,
    })
}

fn report(steps: &[Step], declared: &[Declared], format: Format, dry_run: bool) {
    let mut out = anstream::stdout();
    let changed = steps
        .iter()
        .filter(|s| !s.actions.is_empty() && s.outcome != "refused")
        .count();
    if format == Format::Json {
        let doc = json!({
            "dry_run": dry_run,
            "changed": changed,
            "contracts": steps,
            "consumers": declared,
        });
        let _ = std::io::Write::write_all(&mut out, format!("{doc:#}\n").as_bytes());
        return;
    }
    let mut s = String::new();
    for step in steps {
        if step.outcome == "refused" {
            s.push_str(&format!(
                "{} {}: refused: {}\n",
                step.name,
                step.version,
                step.refusal
                    .as_ref()
                    .map_or_else(String::new, error_message_of)
            ));
            if let Some(changes) = step
                .refusal
                .as_ref()
                .and_then(|r| r.pointer("/details/report/changes"))
                .and_then(Value::as_array)
            {
                for ch in changes {
                    s.push_str(&format!(
                        "  [{}] {} at {}: {}\n",
                        ch["rule"].as_str().unwrap_or("?"),
                        ch["new_pointer"]
                            .as_str()
                            .or(ch["old_pointer"].as_str())
                            .unwrap_or(""),
                        ch["instance_path"].as_str().unwrap_or(""),
                        ch["message"].as_str().unwrap_or("")
                    ));
                }
            }
        } else if step.actions.is_empty() {
            s.push_str(&format!("{} {}: up to date\n", step.name, step.version));
        } else {
            s.push_str(&format!(
                "{} {}: {}\n",
                step.name,
                step.version,
                step.actions.join("; ")
            ));
        }
    }
    for d in declared {
        s.push_str(&format!(
            "consumer {} at {}: {} what it reads: {}\n",
            d.name,
            d.app_version,
            if dry_run { "would declare" } else { "declared" },
            d.reads.join(", ")
        ));
        for w in &d.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
    }
    if steps.last().is_some_and(|s| s.outcome == "refused") {
        s.push_str(
            "stopped at the first refusal; later contracts and consumer files were not published\n",
        );
    } else if steps.is_empty() && !declared.is_empty() {
        s.push_str(&format!(
            "{} {} consumer file(s); no contract files\n",
            if dry_run {
                "dry run: would declare"
            } else {
                "declared"
            },
            declared.len()
        ));
    } else if changed == 0 {
        s.push_str(&format!(
            "nothing to do: all {} contracts are up to date\n",
            steps.len()
        ));
    } else if dry_run {
        s.push_str(&format!(
            "dry run: {changed} of {} contracts would change; nothing was written\n",
            steps.len()
        ));
    } else {
        s.push_str(&format!(
            "published: {changed} of {} contracts changed\n",
            steps.len()
        ));
    }
    let _ = std::io::Write::write_all(&mut out, s.as_bytes());
}

fn error_message_of(v: &Value) -> String {
    v.get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error_message(v), str::to_owned)
}
