//! How many incompatible verdicts carry a verified witness for the direction asked.
//!
//! Ignored by default: it walks the repository's compatibility fixtures and, when
//! `ACCORD_WITNESS_CASES` names a folder of Confluent-style case files (JSON lists of
//! `{original_schema, update_schema, …}`), those too. Every pair is asked as BACKWARD and
//! as FORWARD under both policies; an incompatible verdict counts as witnessed when one
//! of its changes that breaks the asked direction carries a witness for it. Every
//! witness shown is checked again here with fresh validators: accepted by the schema
//! the direction reads with, rejected by the other. Run it with
//!
//! ```text
//! ACCORD_WITNESS_CASES=/path/to/confluent-jsonschema \
//!   cargo test --release --test witness_coverage -- --ignored --nocapture
//! ```

use std::path::Path;

use accord::compat;
use accord::domain::{Direction, Mode, Policy};
use accord::schema::{NoResolver, ParseOptions, Schema};
use serde_json::Value;

fn parse(v: &Value) -> Option<Schema> {
    Schema::from_value(v.clone(), &ParseOptions::default(), &NoResolver).ok()
}

/// Case files may carry a trailing comma before a closing bracket (one upstream file
/// does); drop those before parsing.
fn tolerant_json(text: &str) -> Value {
    let re = regex::Regex::new(r",(\s*[\]}])").expect("valid regex");
    serde_json::from_str(&re.replace_all(text, "$1")).expect("case file is JSON")
}

/// The `.json` files of `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is not a readable folder: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn pairs() -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat");
    for p in json_files(&dir) {
        let case = tolerant_json(&std::fs::read_to_string(&p).expect("readable"));
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        out.push((
            format!("fixture {name}"),
            case["old"].clone(),
            case["new"].clone(),
        ));
    }
    if let Ok(folder) = std::env::var("ACCORD_WITNESS_CASES") {
        for p in json_files(Path::new(&folder)) {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let Value::Array(cases) =
                tolerant_json(&std::fs::read_to_string(&p).expect("readable"))
            else {
                continue;
            };
            for (i, case) in cases.iter().enumerate() {
                if let (Some(o), Some(n)) = (case.get("original_schema"), case.get("update_schema"))
                {
                    out.push((format!("{name}#{i}"), o.clone(), n.clone()));
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct Count {
    incompatible: usize,
    witnessed: usize,
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture (see the file's header)"]
fn incompatible_verdicts_carry_verified_witnesses_for_the_asked_direction() {
    let pairs = pairs();
    let mut counts = [
        [Count::default(), Count::default()],
        [Count::default(), Count::default()],
    ];
    let mut missing: Vec<String> = Vec::new();
    let mut wrong: Vec<String> = Vec::new();
    let mut compared = 0;
    for (name, old, new) in &pairs {
        let (Some(o), Some(n)) = (parse(old), parse(new)) else {
            continue;
        };
        compared += 1;
        for (pi, policy) in [Policy::Strict, Policy::Lenient].into_iter().enumerate() {
            for (di, (mode, dir)) in [
                (Mode::Backward, Direction::Backward),
                (Mode::Forward, Direction::Forward),
            ]
            .into_iter()
            .enumerate()
            {
                let Ok(report) = compat::compare(&o, &n, mode, policy) else {
                    continue;
                };
                for c in &report.changes {
                    for (d, w) in witnesses_of(c) {
                        let (accepts, rejects) = match d {
                            Direction::Backward => (&o, &n),
                            Direction::Forward => (&n, &o),
                        };
                        if !accepts.validator().unwrap().is_valid(&w)
                            || rejects.validator().unwrap().is_valid(&w)
                        {
                            wrong.push(format!("{name} {}: {d:?} witness {w}", c.rule));
                        }
                    }
                }
                if report.compatible {
                    continue;
                }
                let count = &mut counts[pi][di];
                count.incompatible += 1;
                let has = report
                    .changes
                    .iter()
                    .filter(|c| c.breaks.contains(&dir))
                    .any(|c| witnesses_of(c).iter().any(|(d, _)| *d == dir));
                if has {
                    count.witnessed += 1;
                } else {
                    let rules: Vec<&str> = report
                        .changes
                        .iter()
                        .filter(|c| c.breaks.contains(&dir))
                        .map(|c| c.rule)
                        .collect();
                    missing.push(format!("{name} {policy} {mode}: {rules:?}"));
                }
            }
        }
    }
    println!("pairs compared: {compared} of {}", pairs.len());
    let mut all = Count::default();
    for (pi, policy) in ["strict", "lenient"].iter().enumerate() {
        for (di, mode) in ["BACKWARD", "FORWARD"].iter().enumerate() {
            let c = &counts[pi][di];
            all.incompatible += c.incompatible;
            all.witnessed += c.witnessed;
            println!(
                "{policy:8} {mode:9} incompatible {:4}  witnessed {:4}  ({:.1} %)",
                c.incompatible,
                c.witnessed,
                100.0 * c.witnessed as f64 / c.incompatible.max(1) as f64
            );
        }
    }
    println!(
        "all                incompatible {:4}  witnessed {:4}  ({:.1} %)",
        all.incompatible,
        all.witnessed,
        100.0 * all.witnessed as f64 / all.incompatible.max(1) as f64
    );
    if std::env::var("WITNESS_SHOW_MISSING").is_ok() {
        for m in &missing {
            println!("no witness: {m}");
        }
    }
    assert!(wrong.is_empty(), "witnesses that do not hold: {wrong:#?}");
}

/// The witnesses a change shows, with their directions.
fn witnesses_of(c: &compat::Change) -> Vec<(Direction, Value)> {
    let mut out = Vec::new();
    if let Some(ws) = &c.witnesses {
        for d in [Direction::Backward, Direction::Forward] {
            if let Some(w) = ws.get(d) {
                out.push((d, w.clone()));
            }
        }
        assert_eq!(
            c.witness.as_ref(),
            ws.get(Direction::Backward),
            "`witness` is the backward one"
        );
    }
    out
}
