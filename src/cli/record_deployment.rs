//! `accord record-deployment --consumer NAME --version SHA --environment ENV`: run
//! from a consumer's deploy pipeline, marks that application version as the one
//! running in the environment (replacing the previous one there). The registry
//! resolves each range the version declared to the newest live contract version at
//! that moment and stores it; the command prints those resolutions.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::domain::{AppVersion, ConsumerName, EnvironmentName};

use super::registry_client::RegistryClient;
use super::{Failure, Format};

/// Record that a consumer's application version runs in an environment.
#[derive(Debug, Args)]
pub struct RecordDeploymentArgs {
    /// The consumer, as named in its consumer file.
    #[arg(long)]
    consumer: String,
    /// The application version deployed (the one its declaration was published for,
    /// by default the git commit).
    #[arg(long = "version", value_name = "APP_VERSION")]
    app_version: String,
    /// The environment it now runs in (`dev`, `staging`, `prod`).
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

/// Runs the command.
pub fn run(args: RecordDeploymentArgs) -> Result<ExitCode, Failure> {
    let consumer = ConsumerName::parse(&args.consumer)
        .map_err(|e| Failure::usage(format!("--consumer: {e}")))?;
    let version = AppVersion::parse(&args.app_version)
        .map_err(|e| Failure::usage(format!("--version: {e}")))?;
    let environment = EnvironmentName::parse(&args.environment)
        .map_err(|e| Failure::usage(format!("--environment: {e}")))?;
    let credentials = args.connect.load()?;
    let client = RegistryClient::new(&args.registry, &credentials)
        .map_err(|e| Failure::usage(super::chain(&e)))?;
    let what = format!("recording the deployment of {consumer} {version} in {environment}");
    let body = client
        .post(
            &format!("/consumers/{consumer}/deployments"),
            &json!({"app_version": version.as_str(), "environment": environment.as_str()}),
            &what,
        )
        .and_then(|a| a.ok(&what))
        .map_err(|e| Failure::load(super::chain(&e)))?;
    let mut out = String::new();
    if args.format == Format::Json {
        out = format!("{body:#}\n");
    } else {
        out.push_str(&format!(
            "{consumer} {version} is now deployed in {environment}\n"
        ));
        for r in resolutions(&body) {
            let contract = r["contract"].as_str().unwrap_or("?");
            let read = match r["range"].as_str() {
                Some(range) => format!("{contract} {range}"),
                None => contract.to_owned(),
            };
            match version_of(r) {
                Some(v) => out.push_str(&format!("  {read} -> {v}\n")),
                None => out.push_str(&format!(
                    "  {read} -> no live version matches: it reads nothing from the registry\n"
                )),
            }
        }
    }
    let _ = std::io::Write::write_all(&mut anstream::stdout(), out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The resolutions of a deployment answer (`resolutions`, or `reads`).
fn resolutions(body: &Value) -> Vec<&Value> {
    ["resolutions", "reads"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_array))
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The version a resolution names (`resolved_version` or `version`).
fn version_of(r: &Value) -> Option<&str> {
    r.get("resolved_version")
        .or_else(|| r.get("version"))
        .and_then(Value::as_str)
}
