//! `accord validate`: check NDJSON records against a contract, at the consumer's door.
//!
//! The pipeline, and why it is shaped so:
//!
//! - A reader thread reads the inputs in large chunks (about [`BATCH_BYTES`]) and cuts
//!   each chunk at its last newline, so a batch holds only whole lines. A line longer
//!   than `--max-line-bytes` is never buffered whole: the reader keeps a short prefix
//!   for the dead-letter file and skips the rest.
//! - Workers split their batch into lines, parse each with `serde_json::from_slice`,
//!   check it with the validator's `is_valid` (the fast path), and only for rejected
//!   records collect every violation. Valid records are copied as their original bytes.
//! - The main thread puts the batches back in input order and writes the outputs.
//!   Batch buffers come from a fixed pool that the writer refills, so at most
//!   [`POOL_SLACK`] + threads batches are in memory, whatever the input size.
//!
//! With `--threads 1` the same steps run one after the other on the main thread.
//!
//! Exit codes: 0 done (breaker not tripped), 1 breaker tripped, 2 usage, 3 the contract
//! or an input could not be loaded (or an output could not be written).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::num::NonZeroUsize;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::client::{
    Client, Contract, ContractInfo, Selector, ValidateOptions, Violation, parse_contract_ref,
};
use crate::domain::ContractName;
use crate::schema::ndjson::{Line, Lines};
use crate::schema::{NoResolver, ParseOptions, Schema};

/// Target size of one batch of input lines.
const BATCH_BYTES: usize = 4 << 20;
/// Batch buffers in flight beyond one per worker (one being read, one being written).
const POOL_SLACK: usize = 2;
/// What one read of a full pipe returns on Linux (the default pipe capacity).
const PIPE_CHUNK: usize = 64 << 10;
/// How much of an over-long or unparsable line the dead-letter file keeps.
const RAW_PREFIX_BYTES: usize = 4096;
/// A percentage breaker with `--fail-fast` waits for this many records before it
/// may trip, so that one early bad record does not count as 100 %.
const PERCENT_MIN_RECORDS: u64 = 1000;
/// How many error groups the summary lists.
const TOP_ERRORS: usize = 10;

/// Arguments of `accord validate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["schema", "contract"])))]
pub struct ValidateArgs {
    /// Validate against this JSON Schema file (offline; no registry involved).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["registry", "contract"])]
    schema: Option<PathBuf>,

    /// The registry to fetch the contract from (with --contract).
    #[arg(long, value_name = "URL", requires = "contract")]
    registry: Option<String>,

    /// The contract to fetch: NAME, NAME@1.4.2, NAME@^1, NAME@latest (default latest).
    #[arg(long, value_name = "NAME[@REQ]", requires = "registry")]
    contract: Option<String>,

    /// The registry's token and private CA (with --registry).
    #[command(flatten)]
    connect: super::connect::Connect,

    /// Name the consumer that fetches, sent as `Accord-Consumer` (with --registry), so
    /// the registry records who reads which version.
    #[arg(long, value_name = "NAME", env = "ACCORD_CONSUMER")]
    consumer: Option<String>,

    /// Directory of the on-disk contract cache [default: the user's cache directory].
    #[arg(long, value_name = "DIR", env = "ACCORD_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// NDJSON inputs, one JSON document per line; `-` is standard input (the default);
    /// files ending in `.gz` are decompressed.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Write the valid records here, byte for byte, in input order (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    valid_out: Option<PathBuf>,

    /// Write one JSON line per rejected record here (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,

    /// Longer lines are rejected without being parsed (suffixes K, KiB, M, MiB, G, GiB).
    #[arg(long, value_name = "BYTES", default_value = "16MiB", value_parser = parse_size)]
    max_line_bytes: usize,

    /// Circuit breaker: exit 1 when more records than this are rejected, as a count
    /// (`100`) or a share of the records (`1%`). Default 0: any rejected record trips it.
    #[arg(long, value_name = "N|P%", value_parser = parse_threshold)]
    max_invalid: Option<Threshold>,

    /// Stop reading as soon as the circuit breaker trips.
    #[arg(long)]
    fail_fast: bool,

    /// Worker threads [default: every core].
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,

    /// Treat `format` as an annotation (by default it is asserted under every draft).
    #[arg(long)]
    no_formats: bool,

    /// Keep instance values out of error messages (PII); records themselves are still
    /// written to the dead-letter file.
    #[arg(long)]
    mask_values: bool,

    /// Summary format: human text on stderr, or one JSON object on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

/// How the summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The circuit breaker's limit on rejected records.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Threshold {
    Count(u64),
    Percent(f64),
}

impl Threshold {
    /// Whether `rejected` of `records` exceeds the limit; `at_end` is true once the
    /// whole input has been read.
    fn exceeded(self, rejected: u64, records: u64, at_end: bool) -> bool {
        match self {
            Threshold::Count(n) => rejected > n,
            Threshold::Percent(p) => {
                (at_end || records >= PERCENT_MIN_RECORDS)
                    && records > 0
                    && rejected as f64 * 100.0 > p * records as f64
            }
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "{n}"),
            Threshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

fn parse_threshold(s: &str) -> Result<Threshold, String> {
    let s = s.trim();
    if let Some(p) = s.strip_suffix('%') {
        let p: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a percentage like 1% or 0.5%"))?;
        if !(0.0..=100.0).contains(&p) {
            return Err(format!("{s:?}: a percentage must be between 0% and 100%"));
        }
        Ok(Threshold::Percent(p))
    } else {
        s.parse()
            .map(Threshold::Count)
            .map_err(|_| format!("{s:?} is neither a count (100) nor a percentage (1%)"))
    }
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 16MiB or 1000000"))?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use K, KiB, M, MiB, G or GiB"
            ));
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err("the size must be at least 1 byte".to_owned()),
        Some(v) => Ok(v),
        None => Err(format!("{s:?} is too large")),
    }
}

/// Why the command stopped before producing a summary.
enum Failure {
    /// Exit 2: the arguments do not make sense together.
    Usage(anyhow::Error),
    /// Exit 3: the contract, an input or an output could not be loaded or written.
    Load(anyhow::Error),
}

/// Runs `accord validate` and returns its exit code.
pub fn run(args: ValidateArgs) -> ExitCode {
    match execute(args) {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {}", super::chain(&e));
            ExitCode::from(2)
        }
        Err(Failure::Load(e)) => {
            eprintln!("error: {}", super::chain(&e));
            ExitCode::from(3)
        }
    }
}

fn execute(args: ValidateArgs) -> Result<ExitCode, Failure> {
    let to_stdout = |p: &Option<PathBuf>| p.as_deref() == Some(Path::new("-"));
    let stdout_users = [
        to_stdout(&args.valid_out),
        to_stdout(&args.dead_letter),
        args.format == Format::Json,
    ];
    if stdout_users.iter().filter(|b| **b).count() > 1 {
        return Err(Failure::Usage(anyhow!(
            "only one of --valid-out -, --dead-letter - and --format json may use standard output"
        )));
    }
    let stdin_inputs = args.inputs.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_inputs > 1 {
        return Err(Failure::Usage(anyhow!(
            "standard input (-) can be read only once"
        )));
    }

    let options = ValidateOptions {
        formats: !args.no_formats,
        mask_values: args.mask_values,
        ..ValidateOptions::default()
    };
    let credentials = args.connect.load().map_err(|f| {
        let e = anyhow!(f.message().to_owned());
        if f.is_usage() {
            Failure::Usage(e)
        } else {
            Failure::Load(e)
        }
    })?;
    let source = source(&args, options, &credentials).map_err(Failure::Usage)?;
    let contract = load_contract(source, options).map_err(Failure::Load)?;
    let inputs = open_inputs(&args.inputs).map_err(Failure::Load)?;
    let valid_out = open_output(args.valid_out.as_deref()).map_err(Failure::Load)?;
    let dead_letter = open_output(args.dead_letter.as_deref()).map_err(Failure::Load)?;

    let threads = args
        .threads
        .map(NonZeroUsize::get)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    let total_bytes = inputs.iter().map(|i| i.size).sum::<Option<u64>>();
    let show_progress = !args.no_progress && io::stderr().is_terminal();
    let job = Arc::new(Job {
        contract: Arc::clone(&contract),
        max_line: args.max_line_bytes,
        keep_valid: valid_out.is_some(),
        keep_dead: dead_letter.is_some(),
        names: inputs.iter().map(|i| i.name.clone()).collect(),
    });
    let mut sink = Sink {
        valid_out,
        dead_letter,
        breaker: args.max_invalid.unwrap_or(Threshold::Count(0)),
        fail_fast: args.fail_fast,
        tally: Tally::default(),
        tripped: false,
        progress: show_progress.then(|| progress_bar(total_bytes)),
        started: Instant::now(),
    };

    let started = Instant::now();
    let read = if threads == 1 {
        run_serial(inputs, &job, &mut sink)
    } else {
        run_parallel(inputs, job, threads, &mut sink)
    };
    let finished = sink.finish();
    let seconds = started.elapsed().as_secs_f64();
    read.and(finished).map_err(Failure::Load)?;

    let tally = &sink.tally;
    if !sink.tripped && sink.breaker.exceeded(tally.rejected(), tally.records, true) {
        sink.tripped = true;
    }
    let summary = Summary {
        info: contract.info(),
        tally,
        seconds,
        threads,
        breaker: sink.breaker,
        tripped: sink.tripped,
        stopped_early: sink.tripped && sink.fail_fast,
    };
    match args.format {
        Format::Json => println!("{}", summary.to_json()),
        Format::Text => eprint!("{}", summary.to_text()),
    }
    if sink.tripped {
        eprintln!(
            "error: circuit breaker tripped: {} of {} records rejected, more than --max-invalid {}{}",
            tally.rejected(),
            tally.records,
            sink.breaker,
            if summary.stopped_early {
                " (stopped reading: --fail-fast)"
            } else {
                ""
            }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the contract comes from, checked before anything is loaded.
enum Source<'a> {
    File(&'a Path),
    Registry {
        client: Client,
        name: ContractName,
        selector: Selector,
    },
}

fn source<'a>(
    args: &'a ValidateArgs,
    options: ValidateOptions,
    credentials: &super::connect::Credentials,
) -> Result<Source<'a>> {
    if let Some(path) = &args.schema {
        return Ok(Source::File(path));
    }
    let (Some(registry), Some(reference)) = (&args.registry, &args.contract) else {
        return Err(anyhow!(
            "give --schema FILE, or --registry URL with --contract NAME[@REQ]"
        ));
    };
    let (name, selector) = parse_contract_ref(reference)?;
    let mut builder = credentials.library(Client::builder(registry).validate_options(options));
    if let Some(dir) = &args.cache_dir {
        builder = builder.cache_dir(dir);
    }
    if let Some(consumer) = &args.consumer {
        builder = builder.consumer(consumer);
    }
    Ok(Source::Registry {
        client: builder.build()?,
        name,
        selector,
    })
}

fn load_contract(source: Source, options: ValidateOptions) -> Result<Arc<Contract>> {
    let (client, name, selector) = match source {
        Source::File(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the schema file {}", path.display()))?;
            let schema = Schema::from_string(text, &ParseOptions::default(), &NoResolver)
                .with_context(|| format!("{} is not a usable schema", path.display()))?;
            let info = ContractInfo {
                name: path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                ..ContractInfo::default()
            };
            let contract = Contract::compile(info, schema, options)
                .with_context(|| format!("cannot compile {}", path.display()))?;
            return Ok(Arc::new(contract));
        }
        Source::Registry {
            client,
            name,
            selector,
        } => (client, name, selector),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP runtime")?;
    let fetched = runtime
        .block_on(client.fetch_selected(&name, &selector))
        .with_context(|| format!("cannot load the contract {name}@{selector}"))?;
    for warning in &fetched.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(fetched.contract)
}

/// One input stream.
struct Input {
    name: String,
    size: Option<u64>,
    /// Standard input: batches end at short reads, so a trickling pipe is checked live.
    eager: bool,
    reader: Box<dyn Read + Send>,
}

fn open_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    if paths.is_empty() {
        return Ok(vec![stdin_input()]);
    }
    paths
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Ok(stdin_input());
            }
            let file = File::open(path)
                .with_context(|| format!("cannot open the input {}", path.display()))?;
            let gzip = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
            let size = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            let reader: Box<dyn Read + Send> = if gzip {
                Box::new(flate2::read::MultiGzDecoder::new(file))
            } else {
                Box::new(file)
            };
            Ok(Input {
                name: path.display().to_string(),
                size: if gzip { None } else { size },
                eager: false,
                reader,
            })
        })
        .collect()
}

fn stdin_input() -> Input {
    Input {
        name: "-".to_owned(),
        size: None,
        eager: true,
        reader: Box::new(io::stdin()),
    }
}

fn open_output(path: Option<&Path>) -> Result<Option<Box<dyn Write>>> {
    let Some(path) = path else { return Ok(None) };
    if path.as_os_str() == "-" {
        return Ok(Some(Box::new(BufWriter::with_capacity(
            1 << 20,
            io::stdout(),
        ))));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Some(Box::new(BufWriter::with_capacity(1 << 20, file))))
}

/// What every worker needs to know.
struct Job {
    contract: Arc<Contract>,
    max_line: usize,
    keep_valid: bool,
    keep_dead: bool,
    names: Vec<String>,
}

/// Whole lines of one input, or the prefix of one over-long line.
struct Batch {
    seq: u64,
    source: usize,
    first_line: u64,
    data: Vec<u8>,
    /// `Some(length)` when `data` is only the start of a line of that many bytes.
    too_long: Option<u64>,
}

/// What a worker made of one batch.
#[derive(Default)]
struct Outcome {
    seq: u64,
    bytes: u64,
    records: u64,
    valid: u64,
    /// Byte ranges of `buffer` holding valid records, each with its newline; runs of
    /// consecutive valid lines are one range. Valid output is written straight from
    /// the input buffer: no copy, no second buffer per batch.
    valid_out: Vec<std::ops::Range<usize>>,
    dead: Vec<u8>,
    rejects: Vec<Reject>,
    /// The batch's buffer, handed back for reuse.
    buffer: Vec<u8>,
}

/// One rejected record, with where it ends in the batch's outputs, so that the
/// outputs can be cut right after the record that trips the breaker.
struct Reject {
    /// Records of the batch up to and including this one.
    records: u64,
    valid_end: usize,
    dead_end: usize,
    unparsable: bool,
    /// (schema path, message) of each violation; empty when unparsable.
    violations: Vec<(String, String)>,
}

/// Why a line is not a JSON document.
enum Unparsable<'a> {
    NotJson(&'a serde_json::Error),
    InvalidUtf8(std::str::Utf8Error),
    TooLong(u64),
}

fn process(batch: Batch, job: &Job) -> Outcome {
    let mut out = Outcome {
        seq: batch.seq,
        bytes: batch.data.len() as u64,
        ..Outcome::default()
    };
    let name = &job.names[batch.source];
    if let Some(len) = batch.too_long {
        out.records = 1;
        reject_unparsable(
            &mut out,
            job,
            name,
            batch.first_line,
            &batch.data,
            Unparsable::TooLong(len),
        );
        out.buffer = batch.data;
        return out;
    }
    let data = &batch.data[..];
    // One UTF-8 check for the whole batch lets the parser skip its check of every
    // string (a measurable share of parsing); a batch with a bad byte anywhere falls
    // back to checking line by line.
    let text = std::str::from_utf8(data).ok();
    for Line {
        number: this_line,
        start,
        end,
    } in Lines::new(data, batch.first_line)
    {
        let line = &data[start..end];
        out.records += 1;
        if line.len() > job.max_line {
            reject_unparsable(
                &mut out,
                job,
                name,
                this_line,
                line,
                Unparsable::TooLong(line.len() as u64),
            );
            continue;
        }
        let parsed = match text {
            // `start` and `end` sit next to b'\n' bytes, which are char boundaries.
            Some(text) => serde_json::from_str(&text[start..end]),
            None => serde_json::from_slice(line),
        };
        let value: Value = match parsed {
            Ok(v) => v,
            Err(e) => {
                let why = match std::str::from_utf8(line) {
                    Err(u) => Unparsable::InvalidUtf8(u),
                    Ok(_) => Unparsable::NotJson(&e),
                };
                reject_unparsable(&mut out, job, name, this_line, line, why);
                continue;
            }
        };
        if job.contract.is_valid(&value) {
            out.valid += 1;
            if job.keep_valid {
                let with_newline = (end + 1).min(data.len());
                match out.valid_out.last_mut() {
                    Some(run) if run.end == start => run.end = with_newline,
                    _ => out.valid_out.push(start..with_newline),
                }
            }
            continue;
        }
        let mut violations = job.contract.validate(&value);
        if violations.is_empty() {
            violations.push(Violation {
                instance_path: String::new(),
                schema_path: String::new(),
                message: "the record does not satisfy the schema".to_owned(),
            });
        }
        if job.keep_dead {
            write_dead_letter(
                &mut out.dead,
                name,
                this_line,
                "invalid",
                Record::Json(line.trim_ascii()),
                &violations,
                violations.total,
            );
        }
        out.rejects.push(Reject {
            records: out.records,
            valid_end: out.valid_out.len(),
            dead_end: out.dead.len(),
            unparsable: false,
            violations: violations
                .into_iter()
                .map(|v| (v.schema_path, v.message))
                .collect(),
        });
    }
    out.buffer = batch.data;
    out
}

fn reject_unparsable(
    out: &mut Outcome,
    job: &Job,
    name: &str,
    line_no: u64,
    line: &[u8],
    why: Unparsable,
) {
    if job.keep_dead {
        let (reason, message) = match &why {
            Unparsable::NotJson(e) => ("unparsable", format!("not JSON: {e}")),
            Unparsable::InvalidUtf8(e) => ("invalid-utf8", format!("not UTF-8: {e}")),
            Unparsable::TooLong(len) => (
                "too-long",
                format!(
                    "the line is {len} bytes long, more than --max-line-bytes {}",
                    job.max_line
                ),
            ),
        };
        let kept = &line[..line.len().min(RAW_PREFIX_BYTES)];
        let record = Record::Raw {
            text: String::from_utf8_lossy(kept),
            bytes: match why {
                Unparsable::TooLong(len) => len,
                _ => line.len() as u64,
            },
            truncated: kept.len() < line.len() || matches!(why, Unparsable::TooLong(_)),
        };
        let violation = Violation {
            instance_path: String::new(),
            schema_path: String::new(),
            message,
        };
        write_dead_letter(
            &mut out.dead,
            name,
            line_no,
            reason,
            record,
            std::slice::from_ref(&violation),
            1,
        );
    }
    out.rejects.push(Reject {
        records: out.records,
        valid_end: out.valid_out.len(),
        dead_end: out.dead.len(),
        unparsable: true,
        violations: Vec::new(),
    });
}

/// The record as the dead-letter file shows it.
enum Record<'a> {
    /// A line that parsed: embedded as the original JSON text.
    Json(&'a [u8]),
    /// A line that did not: as (lossy) text, possibly cut short.
    Raw {
        text: std::borrow::Cow<'a, str>,
        bytes: u64,
        truncated: bool,
    },
}

/// Appends one dead-letter line:
/// `{"input":…,"line":…,"reason":…,"record":…|"raw":…,"errors":[{"instance_path","schema_path","message"}],"errors_total":…}`.
fn write_dead_letter(
    out: &mut Vec<u8>,
    input: &str,
    line: u64,
    reason: &str,
    record: Record,
    errors: &[Violation],
    errors_total: usize,
) {
    let string = |out: &mut Vec<u8>, s: &str| {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    };
    out.extend_from_slice(b"{\"input\":");
    string(out, input);
    out.extend_from_slice(format!(",\"line\":{line},\"reason\":").as_bytes());
    string(out, reason);
    match record {
        Record::Json(bytes) => {
            out.extend_from_slice(b",\"record\":");
            out.extend_from_slice(bytes);
        }
        Record::Raw {
            text,
            bytes,
            truncated,
        } => {
            out.extend_from_slice(b",\"raw\":");
            string(out, &text);
            if truncated {
                out.extend_from_slice(format!(",\"truncated\":true,\"bytes\":{bytes}").as_bytes());
            }
        }
    }
    out.extend_from_slice(b",\"errors\":");
    let _ = serde_json::to_writer(&mut *out, errors);
    out.extend_from_slice(format!(",\"errors_total\":{errors_total}}}\n").as_bytes());
}

/// Reads every input in order and hands out batches of whole lines. `emit` returns
/// the buffer to fill next, or `Break` to stop reading. Returns how many batches
/// were handed out.
fn read_batches(
    inputs: Vec<Input>,
    max_line: usize,
    mut emit: impl FnMut(Batch) -> ControlFlow<(), Vec<u8>>,
) -> Result<u64> {
    let mut seq = 0;
    let mut buf = Vec::with_capacity(BATCH_BYTES);
    let mut carry: Vec<u8> = Vec::new();
    for (source, input) in inputs.into_iter().enumerate() {
        let Input {
            name,
            mut reader,
            eager,
            ..
        } = input;
        let mut lines_done = 0u64;
        let mut eof = false;
        carry.clear();
        while !eof {
            buf.clear();
            buf.extend_from_slice(&carry);
            carry.clear();
            // Top the buffer up to one batch, so pooled buffers keep their size; a
            // long partial line instead doubles it (a few copies, not one per read).
            let want = if buf.len() < BATCH_BYTES / 2 {
                BATCH_BYTES - buf.len()
            } else {
                buf.len()
            };
            eof = fill(&mut reader, &mut buf, want, eager)
                .with_context(|| format!("cannot read the input {name}"))?;
            let mut too_long = None;
            // At the end of the input everything left is whole lines (the last one may
            // lack its newline); before it, the batch ends at the last newline.
            let whole = if eof {
                Some(buf.len())
            } else {
                memchr::memrchr(b'\n', &buf).map(|p| p + 1)
            };
            let end = match whole {
                Some(end) => end,
                None if buf.len() > max_line => {
                    let (len, rest, hit_eof) = skip_line(&mut reader, buf.len())
                        .with_context(|| format!("cannot read the input {name}"))?;
                    buf.truncate(RAW_PREFIX_BYTES);
                    carry = rest;
                    eof = hit_eof;
                    too_long = Some(len);
                    buf.len()
                }
                None => {
                    std::mem::swap(&mut carry, &mut buf);
                    continue;
                }
            };
            if end == 0 {
                continue;
            }
            if too_long.is_none() {
                carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
            }
            let lines = if too_long.is_some() {
                1
            } else {
                memchr::memchr_iter(b'\n', &buf).count() as u64
                    + u64::from(buf.last() != Some(&b'\n'))
            };
            let batch = Batch {
                seq,
                source,
                first_line: lines_done + 1,
                data: std::mem::take(&mut buf),
                too_long,
            };
            seq += 1;
            lines_done += lines;
            match emit(batch) {
                ControlFlow::Continue(next) => buf = next,
                ControlFlow::Break(()) => return Ok(seq),
            }
        }
    }
    Ok(seq)
}

/// Reads until `buf` has grown by `want` bytes or the input ends; returns whether it
/// ended. When `eager`, it also returns once it holds a whole line and a read came
/// back with less than a pipe's worth ([`PIPE_CHUNK`]): the producer is slower than
/// us, so its records are checked as they come rather than per 4 MiB. A fast producer
/// fills the pipe and every read returns a full chunk, so batches stay large.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize, eager: bool) -> io::Result<bool> {
    let mut len = buf.len();
    let target = len + want;
    buf.resize(target, 0);
    while len < target {
        match reader.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                return Ok(true);
            }
            Ok(n) => {
                len += n;
                if eager && n < PIPE_CHUNK && memchr::memchr(b'\n', &buf[len - n..len]).is_some() {
                    buf.truncate(len);
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// Skips the rest of an over-long line of which `seen` bytes were read. Returns the
/// line's length, the bytes read after its newline, and whether the input ended.
fn skip_line(reader: &mut dyn Read, seen: usize) -> io::Result<(u64, Vec<u8>, bool)> {
    let mut len = seen as u64;
    let mut scratch = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut scratch) {
            Ok(0) => return Ok((len, Vec::new(), true)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(i) = memchr::memchr(b'\n', &scratch[..n]) {
            return Ok((len + i as u64, scratch[i + 1..n].to_vec(), false));
        }
        len += n as u64;
    }
}

fn run_serial(inputs: Vec<Input>, job: &Job, sink: &mut Sink) -> Result<()> {
    let mut failure = None;
    read_batches(inputs, job.max_line, |batch| {
        match sink.absorb(process(batch, job)) {
            Ok((buffer, false)) => ControlFlow::Continue(buffer),
            Ok((_, true)) => ControlFlow::Break(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    failure.map_or(Ok(()), Err)
}

/// Runs the pipeline on `threads` workers. The threads are not scoped: when the
/// run stops early (`--fail-fast`, a failed write) the reader may be blocked on a
/// read that never returns (a quiet pipe), and the run must not wait for it.
fn run_parallel(inputs: Vec<Input>, job: Arc<Job>, threads: usize, sink: &mut Sink) -> Result<()> {
    let pool_size = threads + POOL_SLACK;
    let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(pool_size);
    let (done_tx, done_rx) = mpsc::channel::<Outcome>();
    let (pool_tx, pool_rx) = mpsc::sync_channel::<Vec<u8>>(pool_size);
    for _ in 0..pool_size {
        let _ = pool_tx.try_send(Vec::with_capacity(BATCH_BYTES));
    }
    let work_rx = Arc::new(Mutex::new(work_rx));
    let max_line = job.max_line;

    let reader = std::thread::Builder::new()
        .name("accord-read".to_owned())
        .spawn(move || {
            read_batches(inputs, max_line, |batch| {
                if work_tx.send(batch).is_err() {
                    return ControlFlow::Break(());
                }
                pool_rx
                    .recv()
                    .map_or(ControlFlow::Break(()), ControlFlow::Continue)
            })
        })
        .context("cannot start the reader thread")?;
    for i in 0..threads {
        let rx = Arc::clone(&work_rx);
        let tx = done_tx.clone();
        let job = Arc::clone(&job);
        std::thread::Builder::new()
            .name(format!("accord-validate-{i}"))
            .stack_size(8 << 20)
            .spawn(move || {
                loop {
                    // The lock is held only while waiting; processing runs unlocked.
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => break,
                    };
                    let Ok(batch) = next else { break };
                    if tx.send(process(batch, &job)).is_err() {
                        break;
                    }
                }
            })
            .context("cannot start a worker thread")?;
    }
    drop(work_rx);
    drop(done_tx);

    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut stopped = Ok(false);
    'collect: for outcome in &done_rx {
        pending.insert(outcome.seq, outcome);
        while let Some(outcome) = pending.remove(&next) {
            next += 1;
            match sink.absorb(outcome) {
                Ok((buffer, false)) => {
                    let _ = pool_tx.try_send(buffer);
                }
                Ok((_, true)) => {
                    stopped = Ok(true);
                    break 'collect;
                }
                Err(e) => {
                    stopped = Err(e);
                    break 'collect;
                }
            }
        }
    }
    // Closing both ends makes the reader and the workers stop at their next step.
    drop(done_rx);
    drop(pool_tx);
    if stopped? {
        return Ok(());
    }
    // Every worker has ended, so the reader has too (or is about to).
    let sent = reader
        .join()
        .map_err(|_| anyhow!("the reader thread panicked"))??;
    if next != sent {
        return Err(anyhow!(
            "a worker thread failed: {next} of {sent} batches were checked"
        ));
    }
    Ok(())
}

/// Counts over the whole run.
#[derive(Default)]
struct Tally {
    bytes: u64,
    records: u64,
    valid: u64,
    invalid: u64,
    unparsable: u64,
    /// Violations grouped by schema path: (count, first message seen).
    groups: HashMap<String, (u64, String)>,
}

impl Tally {
    fn rejected(&self) -> u64 {
        self.invalid + self.unparsable
    }
}

/// The ordered end of the pipeline: writes outputs, counts, trips the breaker.
struct Sink {
    valid_out: Option<Box<dyn Write>>,
    dead_letter: Option<Box<dyn Write>>,
    breaker: Threshold,
    fail_fast: bool,
    tally: Tally,
    tripped: bool,
    progress: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Sink {
    /// Takes the next batch's outcome, in input order. Returns the batch buffer for
    /// reuse and whether to stop reading.
    fn absorb(&mut self, mut o: Outcome) -> Result<(Vec<u8>, bool)> {
        let t = &mut self.tally;
        let mut take = o.rejects.len();
        if self.fail_fast {
            let before = t.rejected();
            if let Some(i) = (0..o.rejects.len()).find(|&i| {
                self.breaker.exceeded(
                    before + i as u64 + 1,
                    t.records + o.rejects[i].records,
                    false,
                )
            }) {
                take = i + 1;
                let cut = &o.rejects[i];
                o.records = cut.records;
                o.valid = cut.records - take as u64;
                o.valid_out.truncate(cut.valid_end);
                o.dead.truncate(cut.dead_end);
                self.tripped = true;
            }
        }
        if let Some(w) = &mut self.valid_out {
            for run in &o.valid_out {
                let bytes = &o.buffer[run.clone()];
                w.write_all(bytes)
                    .context("cannot write the valid records")?;
                if bytes.last() != Some(&b'\n') {
                    // The input's last line had no newline; the output's does.
                    w.write_all(b"\n")
                        .context("cannot write the valid records")?;
                }
            }
        }
        if let Some(w) = &mut self.dead_letter {
            w.write_all(&o.dead)
                .context("cannot write the dead-letter file")?;
        }
        t.bytes += o.bytes;
        t.records += o.records;
        t.valid += o.valid;
        for r in o.rejects.drain(..take) {
            if r.unparsable {
                t.unparsable += 1;
            } else {
                t.invalid += 1;
            }
            for (path, message) in r.violations {
                t.groups.entry(path).or_insert_with(|| (0, message)).0 += 1;
            }
        }
        if let Some(bar) = &self.progress {
            bar.set_position(t.bytes);
            let rate = t.records as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{} records, {} rejected, {:.0} records/s",
                t.records,
                t.rejected(),
                rate
            ));
        }
        Ok((o.buffer, self.tripped))
    }

    /// Flushes the outputs and clears the progress bar.
    fn finish(&mut self) -> Result<()> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        if let Some(w) = &mut self.valid_out {
            w.flush().context("cannot write the valid records")?;
        }
        if let Some(w) = &mut self.dead_letter {
            w.flush().context("cannot write the dead-letter file")?;
        }
        Ok(())
    }
}

fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {bytes} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        ),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// The end-of-run report.
struct Summary<'a> {
    info: &'a ContractInfo,
    tally: &'a Tally,
    seconds: f64,
    threads: usize,
    breaker: Threshold,
    tripped: bool,
    stopped_early: bool,
}

impl Summary<'_> {
    fn records_per_s(&self) -> f64 {
        self.tally.records as f64 / self.seconds.max(1e-9)
    }

    /// The most frequent violations: (schema path, count, example message).
    fn top_errors(&self) -> Vec<(&str, u64, &str)> {
        let mut groups: Vec<_> = self
            .tally
            .groups
            .iter()
            .map(|(p, (n, m))| (p.as_str(), *n, m.as_str()))
            .collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        groups.truncate(TOP_ERRORS);
        groups
    }

    fn to_json(&self) -> Value {
        let t = self.tally;
        json!({
            "contract": {
                "name": self.info.name,
                "version": self.info.version.as_ref().map(ToString::to_string),
                "schema_id": self.info.schema_id,
                "fingerprint": self.info.fingerprint,
            },
            "records": t.records,
            "valid": t.valid,
            "invalid": t.invalid,
            "unparsable": t.unparsable,
            "seconds": (self.seconds * 1e4).round() / 1e4,
            "records_per_s": self.records_per_s().round() as u64,
            "mb_per_s": ((t.bytes as f64 / 1e6 / self.seconds.max(1e-9)) * 100.0).round() / 100.0,
            "threads": self.threads,
            "max_invalid": self.breaker.to_string(),
            "breaker_tripped": self.tripped,
            "stopped_early": self.stopped_early,
            "top_errors": self.top_errors().into_iter().map(|(path, count, example)| json!({
                "schema_path": path, "count": count, "example": example,
            })).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let t = self.tally;
        let i = self.info;
        let mut s = format!(
            "contract {}{}{} (fingerprint {})\n",
            i.name,
            i.version
                .as_ref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            i.schema_id
                .map(|id| format!(", schema id {id}"))
                .unwrap_or_default(),
            &i.fingerprint[..i.fingerprint.len().min(12)],
        );
        s += &format!(
            "{} records: {} valid, {} invalid, {} unparsable in {:.2} s ({:.0} records/s, {} threads)\n",
            t.records,
            t.valid,
            t.invalid,
            t.unparsable,
            self.seconds,
            self.records_per_s(),
            self.threads
        );
        let top = self.top_errors();
        if !top.is_empty() {
            s += "most frequent errors:\n";
            for (path, count, example) in top {
                s += &format!("  {count:>9}  {path}  e.g. {example}\n");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_binary_suffixes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn a_threshold_is_a_count_or_a_percentage() {
        assert_eq!(parse_threshold("10"), Ok(Threshold::Count(10)));
        assert_eq!(parse_threshold("1.5%"), Ok(Threshold::Percent(1.5)));
        assert!(parse_threshold("120%").is_err());
        assert!(parse_threshold("-3").is_err());
    }

    #[test]
    fn the_breaker_trips_only_above_its_limit() {
        assert!(!Threshold::Count(2).exceeded(2, 10, false));
        assert!(Threshold::Count(2).exceeded(3, 10, false));
        assert!(Threshold::Percent(1.0).exceeded(2, 100, true));
        assert!(!Threshold::Percent(1.0).exceeded(1, 100, true));
        // A percentage waits for a sample before tripping mid-stream.
        assert!(!Threshold::Percent(1.0).exceeded(1, 1, false));
    }

    fn lines_of(data: &[u8], max_line: usize) -> Vec<(u64, Vec<u8>, Option<u64>)> {
        let input = Input {
            name: "t".into(),
            size: None,
            eager: false,
            reader: Box::new(io::Cursor::new(data.to_vec())),
        };
        let mut seen = Vec::new();
        read_batches(vec![input], max_line, |b| {
            seen.push((b.first_line, b.data.clone(), b.too_long));
            ControlFlow::Continue(Vec::new())
        })
        .unwrap();
        seen
    }

    #[test]
    fn batches_hold_whole_lines_and_keep_a_final_line_without_newline() {
        let seen = lines_of(b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}", 1 << 20);
        assert_eq!(
            seen,
            vec![(1, b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}".to_vec(), None)]
        );
    }

    #[test]
    fn an_over_long_line_without_newline_in_reach_is_cut_and_skipped() {
        let mut data = b"1\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 2 * BATCH_BYTES + 10));
        data.extend_from_slice(b"\n2\n");
        let seen = lines_of(&data, 1000);
        assert_eq!(
            seen.len(),
            3,
            "{:?}",
            seen.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>()
        );
        assert_eq!((seen[0].0, &seen[0].1[..]), (1, &b"1\n"[..]));
        assert_eq!(
            (seen[1].0, seen[1].1.len(), seen[1].2),
            (2, RAW_PREFIX_BYTES, Some(2 * BATCH_BYTES as u64 + 10))
        );
        assert_eq!((seen[2].0, &seen[2].1[..]), (3, &b"2\n"[..]));
    }
}
