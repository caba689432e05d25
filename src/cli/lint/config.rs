//! `accord.yaml`: the repository's lint configuration, and the rule-and-path ignores
//! of breaking-change findings.
//!
//! ```yaml
//! lint:
//!   case: snake_case            # property-name-case: the convention (default: each file's dominant one)
//!   enable: [enum-empty, …]     # only these rules run (default: every rule)
//!   disable: [description-missing]
//!   severity:
//!     additional-properties-implicit: error   # error, warning or off
//!   ignore:
//!     - rule: property-name-case
//!       paths: [contracts/legacy/**]          # globs, relative to this file's directory
//!       reason: "names fixed by the Kafka topic"
//! breaking:
//!   ignore:
//!     - rule: enum-value-added
//!       paths: [contracts/internal/**]
//!       reason: "internal topics: every reader deploys with the writer"
//! ```
//!
//! It is found like `accord-accept.yaml`: in the current directory or the nearest one
//! above it, up to the git repository's root. It is read as strictly as a contract
//! file: an unknown key, rule id, severity, convention or a glob that does not parse
//! is an error pointing at its line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::cli::contract_file::{normalize, tree};

use super::rules::{self, Case, Severity};

/// The default file name.
pub const DEFAULT_FILE: &str = "accord.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    #[serde(default)]
    lint: LintText,
    #[serde(default)]
    breaking: BreakingText,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintText {
    case: Option<String>,
    enable: Option<Vec<String>>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    ignore: Vec<IgnoreText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakingText {
    #[serde(default)]
    ignore: Vec<IgnoreText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreText {
    rule: String,
    paths: Vec<String>,
    reason: Option<String>,
}

/// An ignore entry: findings of `rule` in files matching `paths` are reported as
/// ignored and fail nothing.
#[derive(Debug, Clone, Serialize)]
pub struct Ignore {
    /// The rule id.
    pub rule: String,
    /// The globs, as written.
    pub paths: Vec<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    matcher: GlobSet,
}

/// The configuration in force.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from (none: the defaults).
    pub file: Option<PathBuf>,
    /// The directory globs are relative to.
    dir: PathBuf,
    case: Option<Case>,
    enable: Option<Vec<String>>,
    /// Severities set by name (`off`, and every disabled rule, is `None`).
    severity: BTreeMap<String, Option<Severity>>,
    lint_ignores: Vec<Ignore>,
    breaking_ignores: Vec<Ignore>,
}

impl Config {
    /// The property-name convention configured, if any.
    pub fn case(&self) -> Option<Case> {
        self.case
    }

    /// The severity of a lint rule, `None` when it does not run: a severity set by name
    /// (or `disable`), else off when `enable` leaves the rule out, else its default.
    pub fn severity(&self, rule: &rules::LintRule) -> Option<Severity> {
        match self.severity.get(rule.id) {
            Some(s) => *s,
            None if self
                .enable
                .as_ref()
                .is_some_and(|e| !e.iter().any(|d| d == rule.id)) =>
            {
                None
            }
            None => Some(rule.severity),
        }
    }

    /// The lint ignore covering `rule` in any of `files`.
    pub fn lint_ignore(&self, rule: &str, files: &[&Path]) -> Option<&Ignore> {
        self.find(&self.lint_ignores, rule, files)
    }

    /// The breaking-change ignore covering `rule` in any of `files`.
    pub fn breaking_ignore(&self, rule: &str, files: &[&Path]) -> Option<&Ignore> {
        self.find(&self.breaking_ignores, rule, files)
    }

    fn find<'a>(&self, list: &'a [Ignore], rule: &str, files: &[&Path]) -> Option<&'a Ignore> {
        let relative: Vec<PathBuf> = files.iter().map(|f| self.relative(f)).collect();
        list.iter().find(|i| {
            i.rule == rule
                && relative
                    .iter()
                    .any(|p| p.ancestors().any(|a| i.matcher.is_match(a)))
        })
    }

    /// `path` relative to the configuration's directory (as given when outside it).
    fn relative(&self, path: &Path) -> PathBuf {
        let path = absolute(path);
        match path.strip_prefix(&self.dir) {
            Ok(rest) => rest.to_owned(),
            Err(_) => path,
        }
    }
}

/// `p` made absolute against the current directory, `.` and `..` resolved lexically.
fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.into()))
}

/// `name` in the current directory or the nearest one above it, up to the root of the
/// git repository (the directory holding `.git`).
pub fn find_up(name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// The configuration: `explicit` (which must exist), else the nearest `accord.yaml`,
/// else the defaults.
pub fn load_or_default(explicit: Option<&Path>) -> Result<Config> {
    let path = match explicit {
        Some(p) if !p.is_file() => bail!("the configuration file {} does not exist", p.display()),
        Some(p) => p.to_owned(),
        None => match find_up(DEFAULT_FILE) {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse(&path, &text)
}

/// Parses the text of a configuration file at `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let root = tree::from_yaml(text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let at = |pointer: &str| {
        let p = root.locate(pointer);
        format!("{}:{}:{}", path.display(), p.line, p.column)
    };
    let empty = matches!(&root.kind, tree::Kind::Scalar(serde_json::Value::Null));
    let file: FileText = if empty {
        FileText::default()
    } else {
        strict(&root, &at)?
    };
    let l = &file.lint;
    let Overrides { case, severity } = settings(&l.case, &l.disable, &l.severity, "/lint", &at)?;
    for (i, id) in l.enable.iter().flatten().enumerate() {
        known_lint(id, &format!("/lint/enable/{i}"), &at)?;
    }
    let mut lint_ignores = Vec::new();
    for (i, entry) in l.ignore.iter().enumerate() {
        known_lint(&entry.rule, &format!("/lint/ignore/{i}/rule"), &at)?;
        lint_ignores.push(ignore(entry, &format!("/lint/ignore/{i}"), &at)?);
    }
    let mut breaking_ignores = Vec::new();
    for (i, entry) in file.breaking.ignore.iter().enumerate() {
        let pointer = format!("/breaking/ignore/{i}");
        if !is_breaking_rule(&entry.rule) {
            let ids = breaking_ids();
            bail!(
                "{}: unknown rule `{}`{} (`accord rules` lists the engine's; also {})",
                at(&format!("{pointer}/rule")),
                entry.rule,
                did_you_mean(&entry.rule, &ids),
                CHECK_RULES.join(", ")
            );
        }
        breaking_ignores.push(ignore(entry, &pointer, &at)?);
    }
    Ok(Config {
        file: Some(path.to_owned()),
        dir: absolute(match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }),
        case,
        enable: l.enable.clone(),
        severity,
        lint_ignores,
        breaking_ignores,
    })
}

/// Deserializes `node` into `T`, refusing unknown fields; an error names the line
/// and column (through `at`, which turns a pointer under `node` into `FILE:LINE:COL`).
fn strict<T: serde::de::DeserializeOwned>(
    node: &tree::Node,
    at: &dyn Fn(&str) -> String,
) -> Result<T> {
    serde_path_to_error::deserialize(node.to_value()).map_err(|e| {
        let mut pointer = String::new();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"));
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                _ => {}
            }
        }
        let inner = e.into_inner().to_string();
        match crate::domain::UnknownField::from_serde(&inner, "") {
            Some(u) => anyhow!("{}: {u}", at(&format!("{pointer}/{}", u.field))),
            None => anyhow!("{}: `{}`: {inner}", at(&pointer), pointer_path(&pointer)),
        }
    })
}

fn known_lint(id: &str, pointer: &str, at: &dyn Fn(&str) -> String) -> Result<()> {
    let ids = rules::ids();
    if ids.contains(&id) {
        return Ok(());
    }
    Err(anyhow!(
        "{}: unknown lint rule `{id}`{} (rules: {})",
        at(pointer),
        did_you_mean(id, &ids),
        ids.join(", ")
    ))
}

/// The settings `accord.yaml` and a contract file share, checked: the convention, the
/// disabled rules and the severities (under `prefix`, for positions).
fn settings(
    case: &Option<String>,
    disable: &[String],
    severity: &BTreeMap<String, String>,
    prefix: &str,
    at: &dyn Fn(&str) -> String,
) -> Result<Overrides> {
    let case = match case {
        None => None,
        Some(c) => Some(Case::parse(c).ok_or_else(|| {
            anyhow!(
                "{}: unknown case `{c}` (one of: {})",
                at(&format!("{prefix}/case")),
                Case::ALL.map(Case::as_str).join(", ")
            )
        })?),
    };
    for (i, id) in disable.iter().enumerate() {
        known_lint(id, &format!("{prefix}/disable/{i}"), at)?;
    }
    let mut levels = BTreeMap::new();
    for (id, level) in severity {
        let pointer = format!("{prefix}/severity/{id}");
        known_lint(id, &pointer, at)?;
        let level = match level.as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "off" => None,
            other => bail!(
                "{}: unknown severity `{other}` for {id} (one of: error, warning, off)",
                at(&pointer)
            ),
        };
        levels.insert(id.clone(), level);
    }
    for id in disable {
        levels.insert(id.clone(), None);
    }
    Ok(Overrides {
        case,
        severity: levels,
    })
}

/// A contract file's own `lint:` settings, which win over `accord.yaml`'s for that file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    case: Option<Case>,
    severity: BTreeMap<String, Option<Severity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesText {
    case: Option<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

/// Reads the `lint:` mapping of a contract file at `path` (`node` is its value).
pub fn overrides(path: &Path, node: &tree::Node) -> Result<Overrides> {
    let at = |pointer: &str| {
        let p = node.locate(pointer);
        format!("{}:{}:{}", path.display(), p.line, p.column)
    };
    let text: OverridesText = strict(node, &at)?;
    settings(&text.case, &text.disable, &text.severity, "", &at)
}

impl Config {
    /// This configuration with a contract file's own settings applied.
    pub fn with(&self, overrides: &Overrides) -> Config {
        let mut c = self.clone();
        if overrides.case.is_some() {
            c.case = overrides.case;
        }
        // A severity named in the contract file wins, even over accord.yaml's
        // `enable` or `disable`.
        c.severity.extend(overrides.severity.clone());
        c
    }
}

/// The findings of `accord check` that are not engine rules.
const CHECK_RULES: &[&str] = &[
    "version-not-greater",
    "version-bump-too-small",
    "version-without-change",
    "changes-not-listed",
    "contract-removed",
];

fn breaking_ids() -> Vec<&'static str> {
    crate::compat::Rule::ALL
        .iter()
        .map(|r| r.id())
        .chain(CHECK_RULES.iter().copied())
        .collect()
}

fn is_breaking_rule(id: &str) -> bool {
    crate::compat::Rule::from_id(id).is_some() || CHECK_RULES.contains(&id)
}

fn did_you_mean(given: &str, ids: &[&str]) -> String {
    crate::domain::suggest::closest(given, ids)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// `/lint/ignore/0/rule` as people write it: `lint.ignore[0].rule`.
fn pointer_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

fn ignore(entry: &IgnoreText, pointer: &str, at: &dyn Fn(&str) -> String) -> Result<Ignore> {
    if entry.paths.is_empty() {
        bail!(
            "{}: `paths` is empty: name the files or directories (globs) the ignore covers, or disable the rule",
            at(&format!("{pointer}/paths"))
        );
    }
    let mut set = GlobSetBuilder::new();
    for (i, p) in entry.paths.iter().enumerate() {
        let glob = GlobBuilder::new(p.trim_start_matches("./").trim_end_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| anyhow!("{}: {e}", at(&format!("{pointer}/paths/{i}"))))?;
        set.add(glob);
    }
    Ok(Ignore {
        rule: entry.rule.clone(),
        paths: entry.paths.clone(),
        reason: entry.reason.clone(),
        matcher: set
            .build()
            .map_err(|e| anyhow!("{}: {e}", at(&format!("{pointer}/paths"))))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config> {
        parse(Path::new("/repo/accord.yaml"), text)
    }

    #[test]
    fn severities_enable_and_disable_decide_which_rules_run_and_how() {
        let c = parse_text(
            "lint:\n  disable: [enum-empty]\n  severity:\n    description-missing: error\n    format-unknown: off\n",
        )
        .unwrap();
        let sev = |id| c.severity(rules::rule(id).unwrap());
        assert_eq!(sev("enum-empty"), None);
        assert_eq!(sev("format-unknown"), None);
        assert_eq!(sev("description-missing"), Some(Severity::Error));
        assert_eq!(sev("ref-target-missing"), Some(Severity::Error));
        let c = parse_text("lint:\n  enable: [enum-empty]\n").unwrap();
        assert_eq!(
            c.severity(rules::rule("enum-empty").unwrap()),
            Some(Severity::Error)
        );
        assert_eq!(
            c.severity(rules::rule("description-missing").unwrap()),
            None
        );
    }

    #[test]
    fn an_unknown_key_or_rule_is_pointed_at_with_the_right_name() {
        let e = parse_text("lint:\n  disable: [enum-empty]\n  ignores: []\n").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("/repo/accord.yaml:3:3: unknown field `ignores`"),
            "{e}"
        );
        assert!(e.contains("did you mean `ignore`"), "{e}");
        let e = parse_text("lint:\n  severity:\n    enum-emtpy: off\n").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("/repo/accord.yaml:3:5: unknown lint rule `enum-emtpy`"),
            "{e}"
        );
        assert!(e.contains("did you mean `enum-empty`"), "{e}");
        let e = parse_text("lint:\n  severity:\n    enum-empty: fatal\n").unwrap_err();
        assert!(e.to_string().contains("unknown severity `fatal`"), "{e}");
        let e = parse_text("breaking:\n  ignore:\n    - rule: enum-value-add\n      paths: [a]\n")
            .unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("/repo/accord.yaml:3:7: unknown rule `enum-value-add`"),
            "{e}"
        );
        let e = parse_text("lint:\n  case: snake\n").unwrap_err();
        assert!(e.to_string().contains("snake_case"), "{e}");
        let e = parse_text("lint:\n  ignore:\n    - rule: enum-empty\n      paths: ['a/[']\n")
            .unwrap_err();
        assert!(e.to_string().starts_with("/repo/accord.yaml:4:15:"), "{e}");
    }

    #[test]
    fn an_ignore_matches_a_file_or_any_directory_above_it() {
        let c = parse_text(
            "lint:\n  ignore:\n    - rule: enum-empty\n      paths: [contracts/legacy, 'contracts/*/old.json']\n",
        )
        .unwrap();
        let hit = |p: &str| c.lint_ignore("enum-empty", &[Path::new(p)]).is_some();
        assert!(hit("/repo/contracts/legacy/a.contract.yaml"));
        assert!(hit("/repo/contracts/legacy/deep/b.contract.yaml"));
        assert!(hit("/repo/contracts/x/old.json"));
        assert!(!hit("/repo/contracts/x/y/old.json"));
        assert!(!hit("/repo/contracts/new/a.contract.yaml"));
        assert!(
            c.lint_ignore(
                "description-missing",
                &[Path::new("/repo/contracts/legacy/a")]
            )
            .is_none()
        );
    }
}
