//! The `accord` command line: one file per subcommand.
//!
//! Exit codes everywhere: 0 ok, 1 breaking change or invalid data found, 2 usage
//! error, 3 something could not be loaded (file, reference, registry).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod validate;

/// Accord: a schema contract registry.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate NDJSON records against a contract (`--schema FILE` or `--registry URL --contract NAME[@REQ]`).
    Validate(validate::ValidateArgs),
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
    match cli.command {
        Command::Validate(args) => validate::run(args),
    }
}
