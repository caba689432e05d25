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
            for r in Rule::ALL {
                let show = |v: Vec<&str>| if v.is_empty() { "-".to_owned() } else { v.join("+") };
                let _ = writeln!(
                    out,
                    "{:<55} strict: {:<17} lenient: {:<17} {}",
                    r.id(),
                    show(breaks(*r, Policy::Strict)),
                    show(breaks(*r, Policy::Lenient)),
                    r.summary()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
