//! `accord diff OLD NEW`: compare two schema files offline.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use clap::Args;

use crate::compat::{self, Report};
use crate::domain::{Direction, Mode, Policy};
use crate::schema::{Draft, MapResolver, ParseOptions, Schema};

use super::{Failure, Format};

/// Compare two JSON Schema files and explain what breaks.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old (registered) schema (`-` for standard input).
    old: PathBuf,
    /// The new (candidate) schema (`-` for standard input).
    new: PathBuf,
    /// Compatibility mode.
    #[arg(long, default_value = "BACKWARD", value_parser = parse_mode)]
    mode: Mode,
    /// `strict` (Confluent STRICT) or `lenient` (Confluent LENIENT).
    #[arg(long, default_value = "strict", value_parser = parse_policy)]
    policy: Policy,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// A document that `$ref`s may point to: `--ref https://example.com/common.json=common.json`.
    /// Nothing else is ever read or fetched.
    #[arg(long = "ref", value_name = "URI=PATH")]
    refs: Vec<String>,
    /// The draft of a document without `$schema`.
    #[arg(long, default_value = "draft-07", value_parser = parse_draft)]
    default_draft: Draft,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse()
        .map_err(|e: crate::domain::UnknownName| e.to_string())
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
        .map_err(|e: crate::domain::UnknownName| e.to_string())
}

fn parse_draft(s: &str) -> Result<Draft, String> {
    s.parse()
}

/// The text of `path`, or of standard input for `-`.
fn read_text(path: &PathBuf) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
}

/// Runs the command.
pub fn run(args: DiffArgs) -> Result<ExitCode, Failure> {
    let mut resolver = MapResolver::new();
    for spec in &args.refs {
        let (uri, path) = spec
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--ref takes URI=PATH, got {spec:?}")))?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::load(format!("cannot read {path}: {e}")))?;
        let doc = serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text))
            .map_err(|e| Failure::load(format!("{path} is not JSON: {e}")))?;
        resolver.insert(uri, doc);
    }
    let options = ParseOptions {
        default_draft: args.default_draft,
    };
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        return Err(Failure::usage(
            "only one of OLD and NEW can be `-` (standard input)",
        ));
    }
    let load = |path: &PathBuf| -> Result<Schema, Failure> {
        let text = read_text(path)
            .map_err(|e| Failure::load(format!("cannot read {}: {e}", path.display())))?;
        Schema::from_string(text, &options, &resolver)
            .map_err(|e| Failure::load(format!("{}: {e}", path.display())))
    };
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let report = compat::compare(&old, &new, args.mode, args.policy)
        .map_err(|e| Failure::load(e.to_string()))?;
    let mut out = anstream::stdout();
    match args.format {
        Format::Json => {
            let mut value =
                serde_json::to_value(&report).map_err(|e| Failure::load(e.to_string()))?;
            if let Some(obj) = value.as_object_mut() {
                obj.remove("checked_versions");
                obj.insert("old".into(), args.old.display().to_string().into());
                obj.insert("new".into(), args.new.display().to_string().into());
            }
            let _ = writeln!(out, "{value}");
        }
        Format::Text => {
            let _ = write_text(&mut out, &report);
        }
    }
    let code = if report.compatible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    // The process ends here: freeing two parsed schemas (their documents, validators
    // and every node) one allocation at a time costs more than the comparison of a
    // small change, and the operating system takes the memory back at exit anyway.
    std::mem::forget((old, new, report));
    Ok(code)
}

fn write_text(out: &mut impl std::io::Write, report: &Report) -> std::io::Result<()> {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let dim = Style::new().dimmed();
    let bold = Style::new().bold();
    let verdict = if report.compatible {
        format!("{green}compatible{green:#}")
    } else {
        format!("{red}incompatible{red:#}")
    };
    writeln!(
        out,
        "{verdict} under {} ({}); required bump: {bold}{}{bold:#}; {} change{}{}",
        report.mode,
        report.policy,
        report.required_bump,
        report.changes_total,
        if report.changes_total == 1 { "" } else { "s" },
        if report.truncated {
            format!(
                " (the first {} listed, breaking ones first)",
                report.changes.len()
            )
        } else {
            String::new()
        }
    )?;
    for c in &report.changes {
        let tag = match (
            c.breaks.contains(&Direction::Backward),
            c.breaks.contains(&Direction::Forward),
        ) {
            (true, true) => format!("{red}breaks backward+forward{red:#}"),
            (true, false) => format!("{red}breaks backward{red:#}"),
            (false, true) => format!("{yellow}breaks forward{yellow:#}"),
            (false, false) if c.annotation => format!("{dim}annotation{dim:#}"),
            (false, false) => format!("{green}compatible{green:#}"),
        };
        let at = if c.instance_path.is_empty() {
            "/"
        } else {
            &c.instance_path
        };
        writeln!(out, "\n  {tag}  {bold}{}{bold:#}  at {at}", c.rule)?;
        writeln!(out, "    {}", c.message)?;
        let ptr = |p: &Option<String>| {
            p.as_deref().map(|p| {
                if p.is_empty() {
                    "#".to_owned()
                } else {
                    format!("#{p}")
                }
            })
        };
        match (ptr(&c.old_pointer), ptr(&c.new_pointer)) {
            (Some(o), Some(n)) if o == n => writeln!(out, "    {dim}schema: {o}{dim:#}")?,
            (o, n) => writeln!(
                out,
                "    {dim}old: {}  new: {}{dim:#}",
                o.unwrap_or_else(|| "-".into()),
                n.unwrap_or_else(|| "-".into())
            )?,
        }
        if c.old.is_some() || c.new.is_some() {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or_else(|| "-".to_owned(), |v| v.to_string())
            };
            writeln!(out, "    {} → {}", show(&c.old), show(&c.new))?;
        }
        if let Some(w) = &c.witness {
            writeln!(out, "    witness (valid before, rejected now): {w}")?;
        }
        if let Some(ws) = &c.witnesses {
            if let Some(w) = ws.get(crate::domain::Direction::Forward) {
                writeln!(
                    out,
                    "    forward witness (valid now, rejected by the old schema): {w}"
                )?;
            }
            if let Some(reason) = &ws.missing {
                writeln!(out, "    {dim}no witness: {reason}{dim:#}")?;
            }
        }
    }
    Ok(())
}
