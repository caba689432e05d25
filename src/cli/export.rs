//! `accord export`: write every record of a registry as NDJSON (the dump format of
//! `store::dump`), from its database or from a running registry's export endpoint.
//!
//! The dump streams: records are written as they are read, so memory stays constant
//! whatever the registry's size. With `--out FILE` the dump is written beside the file
//! and renamed over it only once complete, so a failed export never leaves a file that
//! looks like a dump.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use futures_util::StreamExt;
use serde::Serialize;

use super::connect::Credentials;
use super::{Failure, Format};
use crate::client::transport;
use crate::store::{self, dump::Record};

/// Write every contract, version (soft-deleted ones included), schema, id and
/// configuration of a registry as NDJSON.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The database to read (`sqlite://PATH` or `postgres://…`), from one consistent
    /// snapshot while the registry keeps serving.
    #[arg(long, env = "ACCORD_DATABASE_URL")]
    pub database: Option<String>,
    /// A running registry to read instead, through its export endpoint
    /// (`GET /api/v1/export`). Takes precedence over --database.
    #[arg(long)]
    pub registry: Option<String>,
    /// The registry's token and private CA (with --registry).
    #[command(flatten)]
    pub connect: super::connect::Connect,
    /// Where to write the dump (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Format of the summary (on standard output with --out, else on standard error).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// What an export wrote.
#[derive(Debug, Default, Serialize)]
struct Summary {
    schemas: u64,
    contracts: u64,
    versions: u64,
    deleted_versions: u64,
}

impl Summary {
    fn count(&mut self, record: &Record) {
        match record {
            Record::Schema(_) => self.schemas += 1,
            Record::Contract(_) => self.contracts += 1,
            Record::Version(v) => {
                self.versions += 1;
                if v.deleted {
                    self.deleted_versions += 1;
                }
            }
            Record::Header(_) | Record::Global(_) | Record::End(_) => {}
        }
    }
}

/// Exports. Exit 0 when the dump is complete, 2 for a usage error, 3 when the source
/// cannot be read or the output cannot be written.
pub fn run(args: ExportArgs) -> Result<ExitCode, Failure> {
    super::init_tracing_at("warn");
    let Some(source) = args
        .registry
        .clone()
        .map(Source::Registry)
        .or(args.database.clone().map(Source::Database))
    else {
        return Err(Failure::usage(
            "give the registry to export: --database URL or --registry URL",
        ));
    };
    if let Source::Database(url) = &source {
        store::Backend::from_url(url).map_err(|e| Failure::usage(e.to_string()))?;
    }
    let mut sink = Sink::open(args.out.as_deref()).map_err(|e| Failure::load(super::chain(&e)))?;
    let progress = super::import::progress("exporting");
    let mut summary = Summary::default();
    let written = match source {
        Source::Database(url) => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure::load(format!("starting the async runtime: {e}")))?;
            runtime.block_on(from_database(&url, &mut sink, &mut summary, &progress))
        }
        Source::Registry(url) => from_registry(
            &url,
            &args.connect.load()?,
            &mut sink,
            &mut summary,
            &progress,
        ),
    };
    progress.finish_and_clear();
    written
        .and_then(|()| sink.finish())
        .map_err(|e| Failure::load(super::chain(&e)))?;
    report(&summary, args.format, args.out.is_some());
    Ok(ExitCode::SUCCESS)
}

enum Source {
    Database(String),
    Registry(String),
}

async fn from_database(
    url: &str,
    sink: &mut Sink,
    summary: &mut Summary,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let store = super::serve::open_database(url, &crate::limits::Limits::default()).await?;
    let mut records = store::dump::document(store.export());
    while let Some(record) = records.next().await {
        let record = record.context("reading the database")?;
        summary.count(&record);
        progress.inc(1);
        sink.line(&serde_json::to_string(&record)?)?;
    }
    drop(records);
    store.close().await;
    Ok(())
}

/// Copies the registry's dump line by line, checking each line is a record and that
/// the dump ends with its end line (a registry that fails mid-way cuts it short).
fn from_registry(
    base: &str,
    credentials: &Credentials,
    sink: &mut Sink,
    summary: &mut Summary,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let base = crate::client::registry_base(base).map_err(anyhow::Error::msg)?;
    let base = base.as_str();
    let client = credentials
        .blocking(
            reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                // A large registry takes long to stream; only the connection is bounded.
                .timeout(None)
                .user_agent(concat!("accord-cli/", env!("CARGO_PKG_VERSION"))),
        )
        .context("building the HTTP client")?;
    let request = credentials.authorize(client.get(format!("{base}/api/v1/export")));
    let response = request.send().map_err(|e| {
        anyhow!(
            "cannot talk to the registry at {base}: {}",
            transport::describe(&e)
        )
    })?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().unwrap_or_default();
        bail!(
            "the registry answered {status} to GET /api/v1/export: {}",
            body.chars().take(500).collect::<String>()
        );
    }
    let mut ended = false;
    for (n, line) in BufReader::new(response).lines().enumerate() {
        let line = line.context("reading the registry's answer")?;
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("line {} of the registry's dump is not a record", n + 1))?;
        if ended {
            bail!("the registry's dump goes on after its end line");
        }
        ended = matches!(record, Record::End(_));
        summary.count(&record);
        progress.inc(1);
        sink.line(&line)?;
    }
    if !ended {
        return Err(anyhow!(
            "the registry's dump was cut short (no end line); the registry's log says why"
        ));
    }
    Ok(())
}

/// Standard output, or `FILE.partial` renamed over the target once complete.
struct Sink {
    out: BufWriter<Box<dyn Write>>,
    /// The partial file and the target, when writing to a file.
    file: Option<(PathBuf, PathBuf)>,
}

impl Sink {
    fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self {
                out: BufWriter::new(Box::new(std::io::stdout().lock())),
                file: None,
            });
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        Ok(Self {
            out: BufWriter::new(Box::new(file)),
            file: Some((partial, path.to_owned())),
        })
    }

    fn line(&mut self, text: &str) -> anyhow::Result<()> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .context("writing the dump")
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out.flush().context("writing the dump")?;
        if let Some((partial, path)) = self.file.take() {
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .context("syncing the dump")?;
            std::fs::rename(&partial, &path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

impl Drop for Sink {
    /// An unfinished dump is removed, so no cut file is left behind.
    fn drop(&mut self) {
        if let Some((partial, _)) = self.file.take() {
            let _ = std::fs::remove_file(partial);
        }
    }
}

fn report(summary: &Summary, format: Format, to_stdout: bool) {
    let text = match format {
        Format::Json => serde_json::to_string(summary).unwrap_or_default(),
        Format::Text => format!(
            "exported {} contracts, {} versions ({} soft-deleted), {} schemas",
            summary.contracts, summary.versions, summary.deleted_versions, summary.schemas
        ),
    };
    if to_stdout {
        println!("{text}");
    } else {
        eprintln!("{text}");
    }
}
