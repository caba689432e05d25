//! `accord rules`: the rule table, for people and for tools.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::compat::Rule;
use crate::domain::{Direction, Policy};

use super::{Failure, Format};

/// List every rule id with the directions it breaks under each policy.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `rows` as aligned columns; with a `width` (a terminal's), each line is cut to it
/// with an ellipsis, so nothing wraps; without one (a pipe, a file), lines are whole.
fn table(rows: &[[String; 4]], width: Option<usize>) -> Vec<String> {
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            match width {
                Some(w) if line.chars().count() > w && w > 1 => {
                    let mut cut: String = line.chars().take(w - 1).collect();
                    cut.push('…');
                    cut
                }
                _ => line,
            }
        })
        .collect()
}

/// The width of the terminal standard output is, or `None` when it is not one.
fn terminal_width() -> Option<usize> {
    #[cfg(unix)]
    {
        let stdout = std::io::stdout();
        if !std::io::IsTerminal::is_terminal(&stdout) {
            return None;
        }
        let size = rustix::termios::tcgetwinsize(&stdout).ok()?;
        (size.ws_col > 0).then_some(usize::from(size.ws_col))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Runs the command.
pub fn run(args: RulesArgs) -> Result<ExitCode, Failure> {
    let breaks = |r: Rule, p: Policy| -> Vec<&'static str> {
        r.broken_directions(p)
            .into_iter()
            .map(|d| match d {
                Direction::Backward => "backward",
                Direction::Forward => "forward",
            })
            .collect()
    };
    let mut out = anstream::stdout();
    match args.format {
        Format::Json => {
            let rules: Vec<_> = Rule::ALL
                .iter()
                .map(|r| {
                    json!({
                        "rule": r.id(),
                        "summary": r.summary(),
                        "annotation": r.is_annotation(),
                        "breaks_strict": breaks(*r, Policy::Strict),
                        "breaks_lenient": breaks(*r, Policy::Lenient),
                        "confluent": r.confluent(),
                    })
                })
                .collect();
            let _ = writeln!(out, "{}", json!(rules));
        }
        Format::Text => {
            let show = |v: Vec<&str>| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.join("+")
                }
            };
            let mut rows = vec![[
                "RULE".to_owned(),
                "BREAKS (STRICT)".to_owned(),
                "BREAKS (LENIENT)".to_owned(),
                "WHAT CHANGED".to_owned(),
            ]];
            rows.extend(Rule::ALL.iter().map(|r| {
                [
                    r.id().to_owned(),
                    show(breaks(*r, Policy::Strict)),
                    show(breaks(*r, Policy::Lenient)),
                    r.summary().to_owned(),
                ]
            }));
            for line in table(&rows, terminal_width()) {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<[String; 4]> {
        vec![
            [
                "RULE",
                "BREAKS (STRICT)",
                "BREAKS (LENIENT)",
                "WHAT CHANGED",
            ]
            .map(str::to_owned),
            [
                "enum-value-removed",
                "backward",
                "backward",
                "A value of `enum` was removed.",
            ]
            .map(str::to_owned),
        ]
    }

    #[test]
    fn a_header_row_and_aligned_columns() {
        let lines = table(&rows(), None);
        assert!(lines[0].starts_with("RULE  "), "{lines:#?}");
        let at = |l: &str| l.find("backward").or_else(|| l.find("BREAKS"));
        assert_eq!(at(&lines[0]), at(&lines[1]), "{lines:#?}");
        assert!(lines[1].ends_with("was removed."), "whole lines when piped");
    }

    #[test]
    fn a_terminal_cuts_lines_to_its_width() {
        let lines = table(&rows(), Some(40));
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:#?}");
        assert!(lines[1].ends_with('…'), "{lines:#?}");
    }
}
