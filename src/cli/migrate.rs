//! `accord migrate`: apply the database migrations and exit.

use std::process::ExitCode;

use anyhow::Context;

use super::Failure;

/// Apply the database migrations (`accord serve` also applies them at start).
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Database URL: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "ACCORD_DATABASE_URL",
        default_value = "sqlite://accord.db"
    )]
    pub database: String,
}

/// Applies the migrations. Exit 0 when done, 2 for an unusable URL, 3 on failure.
pub fn run(args: MigrateArgs) -> Result<ExitCode, Failure> {
    super::init_tracing();
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::load(format!("starting the async runtime: {e}")))?;
    runtime
        .block_on(migrate(&args.database))
        .map_err(super::serve::failure)?;
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}

async fn migrate(url: &str) -> anyhow::Result<()> {
    let store = super::serve::open_database(url, &crate::limits::Limits::default()).await?;
    store
        .migrate()
        .await
        .context("running the database migrations")?;
    store.close().await;
    Ok(())
}
