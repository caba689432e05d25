//! `accord lint [PATHS…]`: style and hygiene rules over contract files' schemas, each
//! with an id, a severity and a fix hint (docs/lint.md lists them).
//!
//! A first subset: five rules, text and JSON output, no configuration yet.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::contract_file::{self, ContractFile};
use super::{Failure, Format};

/// Check contract files against style and hygiene rules.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Contract files, or directories searched for `*.contract.yaml` / `*.contract.json`.
    #[arg(default_value = "contracts")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// A lint rule: id, default severity, fix hint.
#[derive(Debug, Clone, Copy)]
pub struct LintRule {
    /// Stable id.
    pub id: &'static str,
    /// `error` fails the run; `warning` is reported.
    pub severity: &'static str,
    /// What to do about a finding.
    pub hint: &'static str,
}

/// Every rule.
pub const RULES: [LintRule; 5] = [
    LintRule {
        id: "required-not-in-properties",
        severity: "error",
        hint: "add the name to `properties`, or remove it from `required`",
    },
    LintRule {
        id: "enum-empty",
        severity: "error",
        hint: "an empty `enum` accepts nothing: list the allowed values, or remove it",
    },
    LintRule {
        id: "type-enum-contradiction",
        severity: "error",
        hint: "no value of `enum` has the declared `type`: fix the type or the values",
    },
    LintRule {
        id: "additional-properties-implicit",
        severity: "warning",
        hint: "say whether other properties are allowed: `additionalProperties: false` (closed) or `true` (open)",
    },
    LintRule {
        id: "description-missing",
        severity: "warning",
        hint: "add a `description` saying what the value means",
    },
];

struct Finding {
    rule: LintRule,
    pointer: String,
    message: String,
}

/// Runs the command: exit 0 when no finding is an error, 1 otherwise, 3 when a file
/// cannot be read.
pub fn run(args: LintArgs) -> Result<ExitCode, Failure> {
    let files =
        contract_file::discover(&args.paths).map_err(|e| Failure::load(super::chain(&e)))?;
    let mut out = anstream::stdout();
    let mut docs = Vec::new();
    let mut errors = 0usize;
    let mut warnings = 0usize;
    for path in files {
        let c = ContractFile::load(&path).map_err(|e| Failure::load(super::chain(&e)))?;
        let schema: Value = serde_json::from_str(&c.schema_text)
            .map_err(|e| Failure::load(format!("{}: {e}", c.schema_path.display())))?;
        let mut findings = Vec::new();
        walk(&schema, "", true, &mut findings);
        for f in &findings {
            let at = c.locate(&f.pointer);
            if f.rule.severity == "error" {
                errors += 1;
            } else {
                warnings += 1;
            }
            match args.format {
                Format::Text => {
                    let _ = writeln!(
                        out,
                        "{}:{}:{}  {:<7} [{}]  {}\n    fix: {}",
                        c.schema_path.display(),
                        at.line,
                        at.column,
                        f.rule.severity,
                        f.rule.id,
                        f.message,
                        f.rule.hint
                    );
                }
                Format::Json => docs.push(json!({
                    "contract": c.name.as_str(),
                    "rule": f.rule.id,
                    "severity": f.rule.severity,
                    "pointer": f.pointer,
                    "file": c.schema_path.display().to_string(),
                    "line": at.line,
                    "column": at.column,
                    "message": f.message,
                    "hint": f.rule.hint,
                })),
            }
        }
    }
    match args.format {
        Format::Text => {
            let _ = writeln!(out, "{errors} errors, {warnings} warnings");
        }
        Format::Json => {
            let _ = writeln!(
                out,
                "{}",
                json!({"findings": docs, "errors": errors, "warnings": warnings})
            );
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn rule(id: &str) -> LintRule {
    RULES
        .iter()
        .copied()
        .find(|r| r.id == id)
        .unwrap_or(RULES[0])
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The findings of the schema `node` at `pointer`; `needs_description` for the root and
/// properties (not for every branch of an `anyOf`).
fn walk(node: &Value, pointer: &str, needs_description: bool, out: &mut Vec<Finding>) {
    let Some(obj) = node.as_object() else {
        return;
    };
    let at = |p: &str| Finding {
        rule: rule(p),
        pointer: pointer.to_owned(),
        message: String::new(),
    };
    let properties = obj.get("properties").and_then(Value::as_object);
    if let Some(required) = obj.get("required").and_then(Value::as_array)
        && let Some(props) = properties
    {
        for name in required.iter().filter_map(Value::as_str) {
            if !props.contains_key(name) {
                out.push(Finding {
                    message: format!("`{name}` is required but not in `properties`"),
                    ..at("required-not-in-properties")
                });
            }
        }
    }
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        if values.is_empty() {
            out.push(Finding {
                message: "`enum` is empty".to_owned(),
                ..at("enum-empty")
            });
        } else if let Some(t) = obj.get("type").and_then(Value::as_str)
            && !values.iter().any(|v| has_type(v, t))
        {
            out.push(Finding {
                message: format!("`type` is \"{t}\" but no `enum` value is"),
                ..at("type-enum-contradiction")
            });
        }
    }
    let is_object =
        obj.get("type").and_then(Value::as_str) == Some("object") || properties.is_some();
    if is_object
        && !obj.contains_key("additionalProperties")
        && !obj.contains_key("unevaluatedProperties")
    {
        out.push(Finding {
            message: "an object without `additionalProperties`".to_owned(),
            ..at("additional-properties-implicit")
        });
    }
    if needs_description && !obj.contains_key("description") && !obj.contains_key("$ref") {
        out.push(Finding {
            message: if pointer.is_empty() {
                "the schema has no `description`".to_owned()
            } else {
                "this property has no `description`".to_owned()
            },
            ..at("description-missing")
        });
    }
    for map in ["properties"] {
        if let Some(m) = obj.get(map).and_then(Value::as_object) {
            for (k, v) in m {
                walk(v, &format!("{pointer}/{map}/{}", escape(k)), true, out);
            }
        }
    }
    for map in ["patternProperties", "$defs", "definitions"] {
        if let Some(m) = obj.get(map).and_then(Value::as_object) {
            for (k, v) in m {
                walk(v, &format!("{pointer}/{map}/{}", escape(k)), false, out);
            }
        }
    }
    for one in [
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
    ] {
        if let Some(v) = obj.get(one) {
            walk(v, &format!("{pointer}/{one}"), false, out);
        }
    }
    for list in ["allOf", "anyOf", "oneOf", "prefixItems", "items"] {
        if let Some(items) = obj.get(list).and_then(Value::as_array) {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{pointer}/{list}/{i}"), false, out);
            }
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}
