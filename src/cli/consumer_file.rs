//! Consumer files (`*.consumer.yaml`, `*.consumer.json`): what an application that
//! reads contracts declares about itself, kept in its own repository. `accord publish`
//! sends them, `accord check` checks them against the registry, `accord can-i-deploy
//! --consumer FILE` asks whether they can be deployed. The format is documented in
//! `docs/consumers.md`, with a JSON Schema for editors in
//! `docs/consumer-file.schema.json`.
//!
//! Parsing goes through the contract files' positioned tree and error wording
//! ([`super::contract_file::deserialize_at`]), so a problem is pointed at by
//! `FILE:LINE:COLUMN` in the same words.
//!
//! A declaration is stored for an application version. It comes from `--app-version`
//! when given, else from `git rev-parse HEAD` in the directory holding the file (the
//! commit the consumer's pipeline builds): [`app_version`].

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use semver::VersionReq;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::{AppVersion, ConsumerName, ContractName, FieldPath};

use super::contract_file::tree::{self, Node, Position};
use super::contract_file::{deserialize_at, files_under, normalize};

/// The most `reads` entries one consumer file may hold.
pub const MAX_READS: usize = 200;
/// The most fields one `reads` entry may declare.
pub const MAX_FIELDS: usize = 200;

/// A loaded consumer file.
#[derive(Debug, Clone)]
pub struct ConsumerFile {
    /// The file, as found.
    pub path: PathBuf,
    /// The consumer.
    pub name: ConsumerName,
    /// Who owns it.
    pub owner: String,
    /// What it is.
    pub description: Option<String>,
    /// What it reads, in the order written.
    pub reads: Vec<ReadEntry>,
}

/// One `reads` entry: a contract, the versions accepted, the fields used.
#[derive(Debug, Clone)]
pub struct ReadEntry {
    /// The contract.
    pub contract: ContractName,
    /// The range as written (`^1`, `~1.4`).
    pub range_text: String,
    /// The range.
    pub range: VersionReq,
    /// The instance paths used, each with where it is written; empty: the whole
    /// instance.
    pub fields: Vec<(FieldPath, Position)>,
    /// Where the `contract` value is.
    pub contract_at: Position,
    /// Where the `range` value is.
    pub range_at: Position,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    owner: String,
    description: Option<String>,
    reads: Vec<RawRead>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRead {
    contract: String,
    range: String,
    #[serde(default)]
    fields: Vec<String>,
}

/// Whether a file name is a consumer file's.
pub fn is_consumer_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.ends_with(".consumer.yaml")
            || n.ends_with(".consumer.yml")
            || n.ends_with(".consumer.json")
    })
}

impl ConsumerFile {
    /// Parses the consumer file at `path` whose text is `text`.
    pub fn parse(path: &Path, text: &str) -> Result<ConsumerFile> {
        let file = path.display();
        let root = tree::from_yaml(text).map_err(|e| anyhow!("{file}: {e}"))?;
        let header: Header =
            deserialize_at(&root, "range: \"^1\"").map_err(|e| anyhow!("{file}:{e}"))?;
        // `FILE:LINE:COLUMN: `what`` of the node a pointer names.
        let value_at = |pointer: &str| -> Position {
            let mut node: &Node = &root;
            for token in pointer.split('/').skip(1) {
                let next = match &node.kind {
                    tree::Kind::Map(_) => node.get(token),
                    tree::Kind::Seq(items) => {
                        token.parse::<usize>().ok().and_then(|i| items.get(i))
                    }
                    tree::Kind::Scalar(_) => None,
                };
                match next {
                    Some(n) => node = n,
                    None => return root.locate(pointer),
                }
            }
            node.at
        };
        let at = |pointer: &str, what: &str| {
            let p = value_at(pointer);
            format!("{file}:{}:{}: `{what}`", p.line, p.column)
        };
        let name = ConsumerName::parse(&header.name)
            .map_err(|e| anyhow!("{}: {e}", at("/name", "name")))?;
        if header.owner.trim().is_empty() {
            bail!(
                "{}: the owner is empty; name the team or person who owns the consumer",
                at("/owner", "owner")
            );
        }
        if header.reads.is_empty() {
            bail!(
                "{}: no entries; list each contract the consumer reads, e.g. `- {{contract: orders.order_placed, range: \"^1\"}}`",
                at("/reads", "reads")
            );
        }
        if header.reads.len() > MAX_READS {
            bail!(
                "{}: {} entries, more than the {MAX_READS} allowed",
                at("/reads", "reads"),
                header.reads.len()
            );
        }
        let mut reads: Vec<ReadEntry> = Vec::with_capacity(header.reads.len());
        for (i, raw) in header.reads.into_iter().enumerate() {
            let base = format!("/reads/{i}");
            let contract = ContractName::parse(&raw.contract)
                .map_err(|e| anyhow!("{}: {e}", at(&format!("{base}/contract"), "contract")))?;
            if let Some(first) = reads.iter().find(|r| r.contract == contract) {
                bail!(
                    "{}: {contract} is already read at line {}; one entry per contract (a consumer reads one range of it)",
                    at(&format!("{base}/contract"), "contract"),
                    first.contract_at.line
                );
            }
            let range = parse_range(&raw.range)
                .map_err(|e| anyhow!("{}: {e}", at(&format!("{base}/range"), "range")))?;
            if raw.fields.len() > MAX_FIELDS {
                bail!(
                    "{}: {} fields, more than the {MAX_FIELDS} allowed",
                    at(&format!("{base}/fields"), "fields"),
                    raw.fields.len()
                );
            }
            let mut fields = Vec::with_capacity(raw.fields.len());
            for (j, f) in raw.fields.iter().enumerate() {
                let pointer = format!("{base}/fields/{j}");
                let field =
                    FieldPath::parse(f).map_err(|e| anyhow!("{}: {e}", at(&pointer, "fields")))?;
                fields.push((field, value_at(&pointer)));
            }
            reads.push(ReadEntry {
                contract,
                range_text: raw.range.trim().to_owned(),
                range,
                fields,
                contract_at: value_at(&format!("{base}/contract")),
                range_at: value_at(&format!("{base}/range")),
            });
        }
        Ok(ConsumerFile {
            path: path.to_owned(),
            name,
            owner: header.owner,
            description: header.description,
            reads,
        })
    }

    /// Reads and parses a consumer file from the file system.
    pub fn load(path: &Path) -> Result<ConsumerFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        ConsumerFile::parse(path, &text)
    }

    /// The `reads` of a declaration, as the API takes them.
    pub fn reads_json(&self) -> Value {
        Value::Array(
            self.reads
                .iter()
                .map(|r| {
                    let mut read = json!({"contract": r.contract.as_str(), "range": r.range_text});
                    if !r.fields.is_empty() {
                        read["fields"] =
                            json!(r.fields.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>());
                    }
                    read
                })
                .collect(),
        )
    }

    /// The body of `PUT /api/v1/consumers/{name}` declaring what `app_version` reads.
    pub fn declaration(&self, app_version: &AppVersion) -> Value {
        let mut body = json!({
            "owner": self.owner,
            "app_version": app_version.as_str(),
            "reads": self.reads_json(),
        });
        if let Some(d) = &self.description {
            body["description"] = json!(d);
        }
        body
    }
}

/// A range as a consumer writes it: a semver requirement (`^1`, `~1.4`, `>=1.2, <2`);
/// a bare `1` means `^1`, as in Cargo. Empty text, `latest` or an exact version with an
/// operator missing are refused with what to write.
pub fn parse_range(text: &str) -> Result<VersionReq> {
    let t = text.trim();
    if t.is_empty() {
        bail!("the range is empty; write a semver range such as \"^1\" or \"~1.4\"");
    }
    if t.eq_ignore_ascii_case("latest") {
        bail!(
            "`latest` is not a range: a consumer states the major line it was built for, e.g. \"^1\""
        );
    }
    VersionReq::parse(t).map_err(|e| {
        anyhow!("{t:?} is not a semver range ({e}); write one such as \"^1\" or \"~1.4\"")
    })
}

/// The application version a declaration is for: `explicit` when given, else the
/// commit `git rev-parse HEAD` names in the directory holding `file`.
pub fn app_version(explicit: Option<&str>, file: &Path) -> Result<AppVersion> {
    if let Some(v) = explicit {
        return AppVersion::parse(v).map_err(|e| anyhow!("--app-version: {e}"));
    }
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .with_context(|| "running git rev-parse HEAD for the application version")?;
    if !out.status.success() {
        bail!(
            "{}: no --app-version given and `git rev-parse HEAD` failed in {} ({}); pass --app-version VERSION",
            file.display(),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    AppVersion::parse(&sha).map_err(|e| anyhow!("git rev-parse HEAD: {e}"))
}

/// Finds the consumer files under `paths`: files named `*.consumer.{yaml,yml,json}`
/// given on the command line, and such files in the directories given (searched
/// recursively), sorted and without duplicates.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            files_under(p, is_consumer_file, &mut out)?;
        } else if is_consumer_file(p) {
            if !p.exists() {
                bail!("{} does not exist", p.display());
            }
            out.push(normalize(p));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BILLING: &str = "name: billing.export\nowner: team-billing\ndescription: Exports paid orders.\nreads:\n  - contract: orders.order_placed\n    range: \"^1\"\n    fields: [/order_id, /items/*/sku]\n  - contract: payments.captured\n    range: ~1.4\n";

    #[test]
    fn a_consumer_file_loads_with_its_reads_and_positions() {
        let c = ConsumerFile::parse(Path::new("billing.consumer.yaml"), BILLING).unwrap();
        assert_eq!(c.name.as_str(), "billing.export");
        assert_eq!(c.reads.len(), 2);
        assert_eq!(c.reads[0].range_text, "^1");
        assert!(c.reads[0].range.matches(&semver::Version::new(1, 9, 0)));
        assert_eq!(c.reads[0].fields[1].0.as_str(), "/items/*/sku");
        assert_eq!(
            c.reads[0].fields[1].1,
            Position {
                line: 7,
                column: 25
            }
        );
        assert_eq!(
            c.reads[1].range_at,
            Position {
                line: 9,
                column: 12
            }
        );
        assert!(c.reads[1].fields.is_empty());
        let body = c.declaration(&AppVersion::parse("3f2a9c1").unwrap());
        assert_eq!(body["app_version"], "3f2a9c1");
        assert_eq!(body["reads"][0]["fields"][0], "/order_id");
        assert!(body["reads"][1].get("fields").is_none());
    }

    #[test]
    fn an_unknown_field_in_a_read_names_its_line_column_and_the_right_name() {
        let text =
            "name: b\nowner: o\nreads:\n  - contract: a\n    range: \"^1\"\n    feilds: [/x]\n";
        let e = ConsumerFile::parse(Path::new("b.consumer.yaml"), text).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("b.consumer.yaml:6:5: unknown field `feilds`; did you mean `fields`?"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_range_field_or_name_is_pointed_at_with_what_to_write() {
        let cases = [
            (
                "name: b\nowner: o\nreads:\n  - {contract: a, range: \"\"}\n",
                "b.consumer.yaml:4:26: `range`: the range is empty",
            ),
            (
                "name: b\nowner: o\nreads:\n  - {contract: a, range: \"one\"}\n",
                "b.consumer.yaml:4:26: `range`: \"one\" is not a semver range",
            ),
            (
                "name: b\nowner: o\nreads:\n  - {contract: a, range: \"^1\", fields: [amount]}\n",
                "b.consumer.yaml:4:41: `fields`: invalid field path \"amount\": it must start with '/'",
            ),
            (
                "name: B\nowner: o\nreads:\n  - {contract: a, range: \"^1\"}\n",
                "b.consumer.yaml:1:7: `name`: invalid consumer name",
            ),
            (
                "name: b\nowner: o\nreads: []\n",
                "b.consumer.yaml:3:8: `reads`: no entries",
            ),
            (
                "name: b\nowner: o\nreads:\n  - {contract: a, range: \"^1\"}\n  - {contract: a, range: \"^2\"}\n",
                "b.consumer.yaml:5:16: `contract`: a is already read at line 4",
            ),
            (
                "name: b\nreads:\n  - {contract: a, range: \"^1\"}\n",
                "b.consumer.yaml:1:1: missing field `owner`",
            ),
            (
                "name: b\nowner: o\nreads:\n  - {contract: a, range: 1}\n",
                "b.consumer.yaml:4:26: `reads[0].range`: invalid type",
            ),
        ];
        for (text, expected) in cases {
            let e = ConsumerFile::parse(Path::new("b.consumer.yaml"), text).unwrap_err();
            assert!(e.to_string().starts_with(expected), "{text}\n{e}");
        }
    }

    #[test]
    fn the_application_version_is_the_flag_or_else_git_head() {
        let v = app_version(Some("v1.2.3"), Path::new("x.consumer.yaml")).unwrap();
        assert_eq!(v.as_str(), "v1.2.3");
        assert!(app_version(Some("two words"), Path::new("x")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.consumer.yaml");
        let e = app_version(None, &file).unwrap_err();
        assert!(e.to_string().contains("pass --app-version"), "{e}");
    }

    /// The published JSON Schema and the parser agree: the shipped examples pass both,
    /// and each mistake below is refused by both.
    #[test]
    fn the_editor_schema_and_the_parser_agree_on_examples() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("docs/consumer-file.schema.json")).unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut seen = 0;
        for entry in std::fs::read_dir(root.join("docs/examples/consumers")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Value = serde_norway::from_str(&text).unwrap();
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            ConsumerFile::parse(&path, &text).unwrap();
            seen += 1;
        }
        assert_eq!(seen, 2);
        let good = "name: b\nowner: o\nreads:\n  - {contract: a, range: \"^1\"}\n";
        let bad = [
            good.replace("name: b", "name: B"),
            good.replace("owner: o\n", ""),
            good.replace("owner: o", "owner: \" \""),
            good.replace("range: \"^1\"", "range: \"\""),
            good.replace("range: \"^1\"", "range: latest"),
            good.replace("range: \"^1\"", "range: \"^1\", fields: [amount]"),
            good.replace("range: \"^1\"", "range: \"^1\", fields: [\"/a//b\"]"),
            good.replace("range: \"^1\"", "range: \"^1\", fields: [\"/a~2\"]"),
            good.replace("range: \"^1\"", "range: \"^1\", feilds: [/a]"),
            good.replace("contract: a", "contract: A"),
            "name: b\nowner: o\nreads: []\n".to_owned(),
            format!("{good}mode: x\n"),
        ];
        let doc: Value = serde_norway::from_str(good).unwrap();
        assert!(validator.is_valid(&doc));
        assert!(ConsumerFile::parse(Path::new("b.consumer.yaml"), good).is_ok());
        for text in &bad {
            let doc: Value = serde_norway::from_str(text).unwrap();
            assert!(!validator.is_valid(&doc), "the schema takes {text}");
            assert!(
                ConsumerFile::parse(Path::new("b.consumer.yaml"), text).is_err(),
                "the parser takes {text}"
            );
        }
    }
}
