//! The `accord` command line: one file per subcommand.
//!
//! Exit codes everywhere: 0 ok, 1 breaking change or invalid data found, 2 usage
//! error, 3 something could not be loaded (file, reference, registry).

mod audit;
mod can_i_deploy;
mod check;
mod connect;
mod consumer_file;
mod consumers;
mod contract_file;
mod diff;
mod export;
mod import;
mod lint;
mod migrate;
mod publish;
mod record_deployment;
mod registry_client;
mod rules;
mod serve;
mod token;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Accord: a schema contract registry.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the registry server.
    Serve(serve::ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(migrate::MigrateArgs),
    /// Compare two schema files offline and explain what breaks.
    Diff(diff::DiffArgs),
    /// List every compatibility rule and the directions it breaks.
    Rules(rules::RulesArgs),
    /// Check contract files against a registry or a git revision (the CI gate).
    Check(check::CheckArgs),
    /// Check contract files against style and hygiene rules (docs/lint.md).
    Lint(lint::LintArgs),
    /// Register contract files with a registry, idempotently.
    Publish(publish::PublishArgs),
    /// Write every record of a registry as NDJSON (a backup, or a move to another database).
    Export(export::ExportArgs),
    /// Load a dump written by `accord export`, or copy a Confluent-compatible registry.
    Import(import::ImportArgs),
    /// Create, list and revoke API tokens (on the database, or through a registry).
    Token(token::TokenArgs),
    /// Read the audit log: every change, who made it and from where, newest first.
    Audit(audit::AuditArgs),
    /// Mark an application version of a consumer as the one running in an environment.
    RecordDeployment(record_deployment::RecordDeploymentArgs),
    /// Whether a contract change (producer side) or a consumer (consumer side) can be deployed to an environment.
    CanIDeploy(can_i_deploy::CanIDeployArgs),
    /// Who reads a contract: consumers × environments × range × resolved version × last fetch.
    Consumers(consumers::ConsumersArgs),
    /// Validate NDJSON records against a contract (`--schema FILE` or `--registry URL --contract NAME[@REQ]`).
    Validate(validate::ValidateArgs),
}

/// Output formats shared by the commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people (colour on a terminal; `NO_COLOR` turns it off).
    Text,
    /// For machines: one JSON document on stdout.
    Json,
}

/// A command that could not do its job: exit code 2 (usage) or 3 (could not load).
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// Whether this is a usage error (exit code 2).
    pub fn is_usage(&self) -> bool {
        self.code == 2
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Something could not be read, parsed, resolved or reached (exit code 3).
    pub fn load(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            message: message.into(),
        }
    }
}

/// An error and its causes on one line, `outer: cause: root cause`, each text once: a
/// cause whose text the line already holds is left out, since many errors (sqlx's,
/// the store's) repeat their source in their own message.
pub(crate) fn chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };

    let result = match cli.command {
        Command::Diff(args) => diff::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Check(args) => check::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Export(args) => export::run(args),
        Command::Import(args) => import::run(args),
        Command::Token(args) => token::run(args),
        Command::Audit(args) => audit::run(args),
        Command::RecordDeployment(args) => record_deployment::run(args),
        Command::CanIDeploy(args) => can_i_deploy::run(args),
        Command::Consumers(args) => consumers::run(args),
        Command::Validate(args) => return validate::run(args),
    };
    result.unwrap_or_else(|f| {
        eprintln!("accord: {}", f.message);
        ExitCode::from(f.code)
    })
}

/// Logs to standard error, filtered by `ACCORD_LOG` (default `info`).
fn init_tracing() {
    init_tracing_at("info");
}

/// Logs to standard error, filtered by `ACCORD_LOG` (default `default`): commands that
/// print their own progress and summary pass `warn`. `ACCORD_LOG_FORMAT=json` prints
/// one JSON object a line (with the fields of the request's span, `request.id`), for a
/// log collector; anything else, or nothing, prints text for people.
fn init_tracing_at(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACCORD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match std::env::var("ACCORD_LOG_FORMAT").as_deref() {
        Ok("json") => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
        _ => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}
