//! `accord can-i-deploy`: whether something can go to an environment without breaking
//! a consumer there.
//!
//! - Producer side, `--contract NAME --schema FILE --environment ENV`: the registry's
//!   dry run of registering the schema, its `consumers` section kept to the consumers
//!   deployed in ENV. Yes when none of them would receive a version that breaks it and
//!   the registration itself would be accepted. FILE is a JSON Schema file or a
//!   contract file (whose schema and declared version are used).
//! - Consumer side, `--consumer FILE_OR_NAME --environment ENV`: the registry's
//!   consumer can-i-deploy route: every range resolves to a live, non-retired version
//!   and every declared field exists in the version it resolves to. Given a consumer
//!   file, the reads it declares now are checked (before they are published); given a
//!   name, the declaration of `--app-version` (or the registry's default).
//!
//! Exit codes: 0 yes, 1 no, 2 usage, 3 cannot tell (the registry could not answer).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::domain::{ConsumerName, ContractName, EnvironmentName};

use super::consumer_file::{ConsumerFile, is_consumer_file};
use super::contract_file::{ContractFile, is_contract_file};
use super::registry_client::{RegistryClient, error_message};
use super::{Failure, Format};

/// Whether a contract change or a consumer can be deployed to an environment.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("side").required(true).args(["contract", "consumer"])))]
pub struct CanIDeployArgs {
    /// Producer side: the contract whose new schema is to be deployed.
    #[arg(long, requires = "schema")]
    contract: Option<String>,
    /// Producer side: the new schema (a JSON Schema file, or a contract file).
    #[arg(long, value_name = "FILE", requires = "contract")]
    schema: Option<PathBuf>,
    /// Producer side: the version the schema would be registered as (default: a
    /// contract file's declared version, else the registry's choice).
    #[arg(long = "schema-version", value_name = "VERSION", requires = "contract")]
    schema_version: Option<String>,
    /// Consumer side: a consumer file, or the name of a published consumer.
    #[arg(long, value_name = "FILE_OR_NAME", conflicts_with = "contract")]
    consumer: Option<String>,
    /// Consumer side: the application version whose declaration is checked (with a name).
    #[arg(long, requires = "consumer")]
    app_version: Option<String>,
    /// The environment to deploy to.
    #[arg(long)]
    environment: String,
    /// The registry.
    #[arg(long, env = "ACCORD_REGISTRY")]
    registry: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The registry's token and private CA.
    #[command(flatten)]
    connect: super::connect::Connect,
}

/// The answer for one consumer (producer side) or one read (consumer side).
#[derive(Debug, serde::Serialize)]
struct Verdict {
    /// Who or what was asked about.
    subject: String,
    /// Whether it is fine.
    ok: bool,
    /// Why, in words.
    why: Vec<String>,
}

/// Runs the command.
pub fn run(args: CanIDeployArgs) -> Result<ExitCode, Failure> {
    let environment = EnvironmentName::parse(&args.environment)
        .map_err(|e| Failure::usage(format!("--environment: {e}")))?;
    let credentials = args.connect.load()?;
    let client = RegistryClient::new(&args.registry, &credentials)
        .map_err(|e| Failure::usage(super::chain(&e)))?;
    let (question, verdicts, extra) = match (&args.contract, &args.schema, &args.consumer) {
        (Some(contract), Some(schema), _) => producer(
            &client,
            contract,
            schema,
            args.schema_version.as_deref(),
            &environment,
        )?,
        (_, _, Some(consumer)) => {
            consumer_side(&client, consumer, args.app_version.as_deref(), &environment)?
        }
        _ => {
            return Err(Failure::usage(
                "give --contract NAME --schema FILE (producer side) or --consumer FILE_OR_NAME (consumer side)",
            ));
        }
    };
    let ok = verdicts.iter().all(|v| v.ok) && extra.iter().all(|v| v.ok);
    let all: Vec<&Verdict> = extra.iter().chain(&verdicts).collect();
    let out = if args.format == Format::Json {
        format!(
            "{:#}\n",
            json!({"question": question, "environment": environment.as_str(), "ok": ok, "verdicts": all})
        )
    } else {
        let mut s = format!(
            "{question} to {environment}: {}\n",
            if ok { "yes" } else { "no" }
        );
        for v in &all {
            s.push_str(&format!(
                "  {} {}: {}\n",
                if v.ok { "yes" } else { "no " },
                v.subject,
                v.why.join("; ")
            ));
        }
        if verdicts.is_empty() && args.contract.is_some() {
            s.push_str(&format!(
                "  no consumer of it is deployed in {environment}\n"
            ));
        }
        s
    };
    let _ = std::io::Write::write_all(&mut anstream::stdout(), out.as_bytes());
    Ok(ExitCode::from(u8::from(!ok)))
}

type Answered = (String, Vec<Verdict>, Vec<Verdict>);

fn producer(
    client: &RegistryClient,
    contract: &str,
    schema: &Path,
    version: Option<&str>,
    environment: &EnvironmentName,
) -> Result<Answered, Failure> {
    let name =
        ContractName::parse(contract).map_err(|e| Failure::usage(format!("--contract: {e}")))?;
    let (text, declared) = if is_contract_file(schema) {
        let c = ContractFile::load(schema).map_err(|e| Failure::load(super::chain(&e)))?;
        if c.name != name {
            return Err(Failure::usage(format!(
                "{} declares contract {}, not {name}",
                schema.display(),
                c.name
            )));
        }
        (c.schema_text, Some(c.version.to_string()))
    } else {
        let text = std::fs::read_to_string(schema)
            .map_err(|e| Failure::load(format!("cannot read {}: {e}", schema.display())))?;
        (text, None)
    };
    let schema_value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::load(format!("{}: not valid JSON: {e}", schema.display())))?;
    let mut body = json!({"schema": schema_value});
    if let Some(v) = version.map(str::to_owned).or(declared) {
        body["version"] = json!(v);
    }
    let what = format!("asking the registry what registering {name} would do");
    let answer = client
        .post(&format!("/contracts/{name}/compatibility"), &body, &what)
        .map_err(|e| Failure::load(super::chain(&e)))?;
    if !answer.status.is_success() {
        return Err(Failure::load(format!(
            "{what}: the registry answered {}: {}",
            answer.status,
            error_message(&answer.body)
        )));
    }
    let question = format!(
        "can {name}{} be deployed",
        answer.body["version"]
            .as_str()
            .map_or_else(String::new, |v| format!(" {v}"))
    );
    let mut extra = Vec::new();
    let Some((rows, blocked)) = super::check::consumer_rows(&answer.body) else {
        return Err(Failure::load(format!(
            "{what}: the registry's answer has no consumers section (a registry older than consumers support?); cannot tell"
        )));
    };
    let refused = answer.body["outcome"] == "refused" && !blocked;
    if refused {
        extra.push(Verdict {
            subject: "the registry".to_owned(),
            ok: false,
            why: vec![format!(
                "would refuse the registration: {}",
                answer.body["error"]["message"]
                    .as_str()
                    .unwrap_or("refused")
            )],
        });
    }
    let verdicts = rows
        .iter()
        .filter(|c| c["environment"] == environment.as_str())
        .map(|c| consumer_verdict(c, refused))
        .collect();
    Ok((question, verdicts, extra))
}

/// Yes or no for one row of a dry run's consumers section.
fn consumer_verdict(c: &Value, refused: bool) -> Verdict {
    let s = |k: &str| c[k].as_str().unwrap_or("?").to_owned();
    let subject = format!(
        "{} {} (reads {})",
        s("consumer"),
        s("app_version"),
        s("range")
    );
    let deployed = s("deployed_version");
    if c["receives"] == false {
        return Verdict {
            subject,
            ok: true,
            why: vec![if refused {
                format!("receives nothing while the registration is refused; stays on {deployed}")
            } else {
                format!("outside its range; it stays on {deployed}")
            }],
        };
    }
    if c["breaks"] != true && c["error"].is_null() {
        return Verdict {
            subject,
            ok: true,
            why: vec![format!(
                "receives it; nothing it reads breaks (deployed against {deployed})"
            )],
        };
    }
    let mut why = vec![format!(
        "receives it and breaks (deployed against {deployed})"
    )];
    why.extend(changes_of(c));
    Verdict {
        subject,
        ok: false,
        why,
    }
}

/// The findings of a consumers-section row, one line each.
pub fn changes_of(c: &Value) -> Vec<String> {
    let mut out: Vec<String> = c["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|ch| {
                    format!(
                        "[{}] {}: {}",
                        ch["rule"].as_str().unwrap_or("?"),
                        ch["instance_path"]
                            .as_str()
                            .filter(|p| !p.is_empty())
                            .unwrap_or("/"),
                        ch["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(missing) = c["missing_fields"].as_array() {
        for f in missing {
            out.push(format!(
                "[field-missing] {}: no longer in the schema",
                f.as_str().unwrap_or("?")
            ));
        }
    }
    out
}

fn consumer_side(
    client: &RegistryClient,
    consumer: &str,
    app_version: Option<&str>,
    environment: &EnvironmentName,
) -> Result<Answered, Failure> {
    let path = Path::new(consumer);
    let mut body = json!({"environment": environment.as_str()});
    let name = if is_consumer_file(path) || path.is_file() {
        let file = ConsumerFile::load(path).map_err(|e| Failure::load(super::chain(&e)))?;
        body["reads"] = file.reads_json();
        file.name
    } else {
        ConsumerName::parse(consumer).map_err(|e| {
            Failure::usage(format!(
                "--consumer {consumer:?} is neither a consumer file nor a consumer name: {e}"
            ))
        })?
    };
    if let Some(v) = app_version {
        body["app_version"] = json!(v);
    }
    let what = format!("asking the registry whether {name} can be deployed");
    let answer = client
        .post(&format!("/consumers/{name}/can-i-deploy"), &body, &what)
        .and_then(|a| a.ok(&what))
        .map_err(|e| Failure::load(super::chain(&e)))?;
    let reads = answer["reads"].as_array().cloned().unwrap_or_default();
    let verdicts = reads
        .iter()
        .map(|r| {
            let problems: Vec<String> = r["problems"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .map(|x| {
                            x.as_str().map_or_else(
                                || {
                                    x["message"]
                                        .as_str()
                                        .map_or_else(|| x.to_string(), str::to_owned)
                                },
                                str::to_owned,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let resolved = r["resolved_version"].as_str();
            Verdict {
                subject: format!(
                    "{} {}",
                    r["contract"].as_str().unwrap_or("?"),
                    r["range"].as_str().unwrap_or("")
                ),
                ok: problems.is_empty(),
                why: if problems.is_empty() {
                    vec![format!("resolves to {}", resolved.unwrap_or("?"))]
                } else {
                    problems
                },
            }
        })
        .collect::<Vec<_>>();
    let mut extra = Vec::new();
    if answer["ok"] == false && verdicts.iter().all(|v| v.ok) {
        extra.push(Verdict {
            subject: name.to_string(),
            ok: false,
            why: vec!["the registry says no".to_owned()],
        });
    }
    Ok((format!("can {name} be deployed"), verdicts, extra))
}
