//! `accord consumers NAME`: who reads a contract. One row per consumer and
//! environment it is deployed in (and one per consumer that only fetched it): the
//! application version, the range it declared, the version that range resolved to at
//! deployment, and its last fetch. Rows resolving to a deprecated major line are
//! marked: this is the "can 1.x go?" report.

use std::process::ExitCode;

use clap::Args;
use serde_json::Value;

use crate::domain::ContractName;

use super::registry_client::RegistryClient;
use super::{Failure, Format};

/// Show the consumers of a contract.
#[derive(Debug, Args)]
pub struct ConsumersArgs {
    /// The contract.
    contract: String,
    /// The registry.
    #[arg(long, env = "ACCORD_REGISTRY")]
    registry: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The registry's token and private CA.
    #[command(flatten)]
    connect: super::connect::Connect,
}

/// The columns of the table, with the row's field each shows.
const COLUMNS: [(&str, &str); 6] = [
    ("CONSUMER", "consumer"),
    ("ENVIRONMENT", "environment"),
    ("APP VERSION", "app_version"),
    ("RANGE", "range"),
    ("RESOLVED", "resolved_version"),
    ("LAST FETCH", "last_fetch"),
];

/// Runs the command.
pub fn run(args: ConsumersArgs) -> Result<ExitCode, Failure> {
    let name = ContractName::parse(&args.contract).map_err(|e| Failure::usage(e.to_string()))?;
    let credentials = args.connect.load()?;
    let client = RegistryClient::new(&args.registry, &credentials)
        .map_err(|e| Failure::usage(super::chain(&e)))?;
    let what = format!("reading the consumers of {name}");
    let body = client
        .get(&format!("/contracts/{name}/consumers"), &what)
        .and_then(|a| a.ok(&what))
        .map_err(|e| Failure::load(super::chain(&e)))?;
    let out = if args.format == Format::Json {
        format!("{body:#}\n")
    } else {
        table(&name, rows(&body))
    };
    let _ = std::io::Write::write_all(&mut anstream::stdout(), out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The rows of the matrix answer (a bare array, or under `consumers` / `rows`).
pub fn rows(body: &Value) -> &[Value] {
    body.as_array()
        .or_else(|| {
            ["consumers", "rows"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_array))
        })
        .map_or(&[], Vec::as_slice)
}

fn cell(row: &Value, field: &str) -> String {
    match row.get(field) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn table(name: &ContractName, rows: &[Value]) -> String {
    if rows.is_empty() {
        return format!(
            "{name}: no consumer is deployed against it or has fetched it (consumers declare themselves with a consumer file and `accord record-deployment`)\n"
        );
    }
    let mut grid: Vec<Vec<String>> = vec![COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect()];
    let mut deprecated = 0;
    for row in rows {
        let mut cells: Vec<String> = COLUMNS.iter().map(|(_, f)| cell(row, f)).collect();
        if let Some(line) = row.get("deprecated_line").filter(|v| !v.is_null()) {
            deprecated += 1;
            let major = line
                .get("major")
                .map_or_else(|| line.to_string(), ToString::to_string);
            cells[4].push_str(&format!(" (line {major} deprecated)"));
        }
        grid.push(cells);
    }
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &grid {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("{} row(s)", rows.len()));
    if deprecated > 0 {
        out.push_str(&format!(
            ", {deprecated} on a deprecated line: that line cannot be retired while they are deployed"
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_is_a_table_with_a_header_and_deprecated_lines_marked() {
        let body = serde_json::json!([
            {"consumer": "billing.export", "environment": "prod", "app_version": "abc", "range": "^1", "resolved_version": "1.2.0", "last_fetch": null, "deprecated_line": {"major": 1, "sunset": "2027-01-01"}},
            {"consumer": "shipping", "environment": "staging", "app_version": "def", "range": "^2", "resolved_version": "2.0.0", "last_fetch": "2026-12-05T07:00:00Z"}
        ]);
        let name = ContractName::parse("orders").unwrap();
        let t = table(&name, rows(&body));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("CONSUMER"), "{t}");
        assert!(lines[1].contains("1.2.0 (line 1 deprecated)"), "{t}");
        assert!(lines[2].contains("2026-12-05T07:00:00Z"), "{t}");
        assert!(lines[3].contains("1 on a deprecated line"), "{t}");
        assert!(table(&name, rows(&serde_json::json!({"consumers": []}))).contains("no consumer"));
    }
}
