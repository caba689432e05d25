//! The `accord` command line: one file per subcommand.
//!
//! Exit codes everywhere: 0 ok, 1 breaking change or invalid data found, 2 usage
//! error, 3 something could not be loaded (file, reference, registry).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod migrate;
mod serve;

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
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Migrate(args) => migrate::run(args),
    }
}

/// Logs to standard error, filtered by `ACCORD_LOG` (default `info`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACCORD_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
