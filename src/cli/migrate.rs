//! `accord migrate`: apply the database migrations and exit.

use std::process::ExitCode;

use anyhow::Context;

use crate::store::{self, StoreError};

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
pub fn run(args: MigrateArgs) -> ExitCode {
    super::init_tracing();
    let result = tokio::runtime::Runtime::new()
        .context("starting the async runtime")
        .and_then(|rt| rt.block_on(migrate(&args.database)));
    match result {
        Ok(()) => {
            println!("migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            let usage = e
                .downcast_ref::<StoreError>()
                .is_some_and(|s| matches!(s, StoreError::InvalidUrl(_)));
            ExitCode::from(if usage { 2 } else { 3 })
        }
    }
}

async fn migrate(url: &str) -> anyhow::Result<()> {
    store::Backend::from_url(url)?;
    let store = store::connect(url).await.context("opening the database")?;
    store
        .migrate()
        .await
        .context("running the database migrations")?;
    store.close().await;
    Ok(())
}
