//! `accord import`: load a dump written by `accord export` into a database, keeping
//! every id, seq, version and deleted flag; or, with `--from-confluent`, copy a running
//! Confluent-compatible registry ([`confluent`]).
//!
//! A dump is imported in one transaction: a file that is cut short, not a dump, of
//! another format version, or that conflicts with what is stored leaves the database
//! as it was. The file is read line by line, so memory stays constant.

mod confluent;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use serde::Serialize;

use super::{Failure, Format};
use crate::store::dump::{FORMAT_VERSION, Imported, Record};
use crate::store::{self, StoreError};

/// Load a dump (`accord export`) into a database, or copy a Confluent-compatible
/// registry with --from-confluent.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The dump to load (NDJSON written by `accord export`; `-` reads standard input).
    #[arg(
        required_unless_present = "from_confluent",
        conflicts_with = "from_confluent"
    )]
    pub file: Option<PathBuf>,
    /// The database to write (`sqlite://PATH` or `postgres://…`); migrated first.
    #[arg(long, env = "ACCORD_DATABASE_URL")]
    pub database: String,
    /// Import into a database that already holds records: records equal to stored ones
    /// are skipped, and the import stops at the first that differs, writing nothing.
    #[arg(long, conflicts_with = "from_confluent")]
    pub merge: bool,
    #[command(flatten)]
    pub confluent: confluent::ConfluentArgs,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Imports. Exit 0 when done; 1 when the database refused the import (not empty, a
/// conflicting record) or, from Confluent, some subject could not be imported; 2 for
/// a usage error; 3 when the file, the database or the source registry cannot be read.
pub fn run(args: ImportArgs) -> Result<ExitCode, Failure> {
    super::init_tracing_at("warn");
    store::Backend::from_url(&args.database).map_err(|e| Failure::usage(e.to_string()))?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::load(format!("starting the async runtime: {e}")))?;
    if let Some(source) = args.confluent.from_confluent.clone() {
        return runtime.block_on(confluent::run(
            &source,
            &args.confluent,
            &args.database,
            args.format,
        ));
    }
    let file = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let summary = runtime.block_on(import_file(&file, &args.database, args.merge));
    match summary {
        Ok(summary) => {
            report(&summary, args.format);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match e.downcast_ref::<StoreError>() {
            Some(StoreError::NotEmpty) => Err(Failure {
                code: 1,
                message: "the database is not empty: import into an empty database, or pass \
                          --merge to skip records already there"
                    .to_owned(),
            }),
            Some(StoreError::ImportConflict(_)) => Err(Failure {
                code: 1,
                message: format!("{}; nothing was imported", crate::cli::chain(&e)),
            }),
            _ => Err(Failure::load(crate::cli::chain(&e))),
        },
    }
}

/// What an import wrote and skipped, by kind of record.
#[derive(Debug, Default, Serialize)]
struct Summary {
    inserted: Counts,
    skipped: Counts,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    schemas: u64,
    contracts: u64,
    versions: u64,
    global: u64,
}

impl Counts {
    fn count(&mut self, record: &Record) {
        match record {
            Record::Schema(_) => self.schemas += 1,
            Record::Contract(_) => self.contracts += 1,
            Record::Version(_) => self.versions += 1,
            Record::Global(_) => self.global += 1,
            Record::Header(_) | Record::End(_) => {}
        }
    }
}

async fn import_file(file: &PathBuf, database: &str, merge: bool) -> anyhow::Result<Summary> {
    let reader: Box<dyn BufRead + Send> = if file.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
        ))
    };
    let name = file.display().to_string();
    let store =
        crate::cli::serve::open_database(database, &crate::limits::Limits::default()).await?;
    store
        .migrate()
        .await
        .context("running the database migrations")?;
    let result = load(reader, &name, store.as_ref(), merge).await;
    store.close().await;
    result
}

/// Reads the dump and puts every record, then commits; any failure drops the
/// transaction, so nothing is written.
async fn load(
    reader: Box<dyn BufRead + Send>,
    name: &str,
    store: &dyn store::Store,
    merge: bool,
) -> anyhow::Result<Summary> {
    let mut lines = reader.lines();
    let first = lines
        .next()
        .ok_or_else(|| anyhow!("{name} is empty; expected a dump written by `accord export`"))?
        .with_context(|| format!("reading {name}"))?;
    match serde_json::from_str::<Record>(&first) {
        Ok(Record::Header(h)) if h.format == FORMAT_VERSION => {}
        Ok(Record::Header(h)) => bail!(
            "{name} is a dump of format {} (written by {}); this accord reads format {FORMAT_VERSION}",
            h.format,
            h.generator
        ),
        _ => bail!(
            "{name} does not start with a dump header; expected a file written by `accord export`"
        ),
    }
    let mut import = store.begin_import(merge).await?;
    let progress = progress("importing");
    let mut summary = Summary::default();
    let mut records = 0u64;
    let mut ended = false;
    for (n, line) in lines.enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        let at = n + 2;
        if ended {
            bail!("{name} goes on after its end line (line {at})");
        }
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("line {at} of {name} is not a dump record"))?;
        match &record {
            Record::End(end) => {
                if end.records != records {
                    bail!(
                        "{name} says it holds {} records but holds {records}",
                        end.records
                    );
                }
                ended = true;
                continue;
            }
            Record::Header(_) => bail!("line {at} of {name} is a second header"),
            Record::Schema(s) => {
                serde_json::from_str::<serde::de::IgnoredAny>(&s.original)
                    .with_context(|| format!("line {at} of {name}: schema {} is not JSON", s.id))?;
            }
            _ => {}
        }
        records += 1;
        let done = import
            .put(&record)
            .await
            .with_context(|| format!("line {at} of {name}"))?;
        match done {
            Imported::Inserted => summary.inserted.count(&record),
            Imported::Skipped => summary.skipped.count(&record),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if !ended {
        bail!("{name} ends without its end line: the dump was cut short; nothing was imported");
    }
    import.commit().await.context("committing the import")?;
    Ok(summary)
}

fn report(summary: &Summary, format: Format) {
    match format {
        Format::Json => println!("{}", serde_json::to_string(summary).unwrap_or_default()),
        Format::Text => {
            let i = &summary.inserted;
            println!(
                "imported {} contracts, {} versions, {} schemas",
                i.contracts, i.versions, i.schemas
            );
            let s = &summary.skipped;
            if s.contracts + s.versions + s.schemas + s.global > 0 {
                println!(
                    "skipped (already there): {} contracts, {} versions, {} schemas",
                    s.contracts, s.versions, s.schemas
                );
            }
        }
    }
}

/// A record counter on standard error when it is a terminal; hidden otherwise.
pub(super) fn progress(what: &'static str) -> indicatif::ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}: {pos} records ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(what);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    bar
}
