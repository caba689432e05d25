//! Contract files (`*.contract.yaml`, `*.contract.json`): what `accord check` and
//! `accord publish` read. The format is documented in `docs/contract-files.md`, with a
//! JSON Schema for editors in `docs/contract-file.schema.json`.
//!
//! Loading is independent of where the bytes come from (the working tree, or a git
//! revision), so both sides of `check --against` go through the same code.

pub mod tree;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use semver::Version;
use serde::Deserialize;

use crate::domain::{ContractName, Mode, Policy};

use super::lint::config::{self, Overrides};
use tree::{Node, Position};

/// A loaded contract file.
#[derive(Debug, Clone)]
pub struct ContractFile {
    /// The contract file, as found (relative to the current directory when it was).
    pub path: PathBuf,
    /// The contract.
    pub name: ContractName,
    /// The declared version.
    pub version: Version,
    /// Who owns it.
    pub owner: String,
    /// What it is.
    pub description: String,
    /// The compatibility mode it declares, if any (else the registry's).
    pub mode: Option<Mode>,
    /// The policy it declares, if any (else the registry's).
    pub policy: Option<Policy>,
    /// Tags.
    pub tags: Vec<String>,
    /// The file that holds the schema: the contract file itself for an inline schema.
    pub schema_path: PathBuf,
    /// The schema as JSON text (the file's own text for a `.json` schema file).
    pub schema_text: String,
    /// The schema with node positions (in `schema_path`).
    pub schema_tree: Node,
    /// Where the `version` key is in the contract file (findings about the version
    /// point there).
    pub version_at: Position,
    /// The file's own lint settings (`lint:`), which win over accord.yaml's.
    pub lint: Overrides,
}

/// The header of a contract file, before the schema is looked at.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    version: String,
    owner: String,
    description: String,
    compatibility: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[expect(dead_code, reason = "read from the tree, which keeps positions")]
    schema: serde_json::Value,
    #[expect(dead_code, reason = "read from the tree, which keeps positions")]
    lint: Option<serde_json::Value>,
}

/// Reads the header, or says what is wrong as `LINE:COLUMN: field: problem`.
fn header_of(root: &Node) -> std::result::Result<Header, String> {
    deserialize_at(root, "version: \"1.0.0\"")
}

/// Deserialises a positioned tree into `T` (a `deny_unknown_fields` type), or says what
/// is wrong as `LINE:COLUMN: problem`: an unknown field with the closest allowed one
/// (the same words as the API's 422, from [`crate::domain::suggest`]) pointed at by its
/// key, a value of the wrong type pointed at by the value. `version_example` is what to
/// write for a `version` given as a number (YAML reads `1.0` as one). Consumer files
/// use it too, so both kinds of file report problems in the same words.
pub(crate) fn deserialize_at<T: serde::de::DeserializeOwned>(
    root: &Node,
    version_example: &str,
) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(root.to_value()).map_err(|e| {
        let path = e.path().to_string();
        let pointer: String = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => {
                    Some(format!("/{}", key.replace('~', "~0").replace('/', "~1")))
                }
                _ => None,
            })
            .collect();
        let inner = e.into_inner().to_string();
        let unknown = crate::domain::UnknownField::from_serde(&inner, "");
        // An unknown field is pointed at by its key, a wrong value by the value.
        let value_at = |pointer: &str| {
            let mut node = Some(root);
            for raw in pointer.split('/').skip(1) {
                let token = raw.replace("~1", "/").replace("~0", "~");
                node = node.and_then(|n| match &n.kind {
                    tree::Kind::Map(_) => n.get(&token),
                    tree::Kind::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                    tree::Kind::Scalar(_) => None,
                });
            }
            node.map(|n| n.at)
        };
        let at = match (&unknown, value_at(&pointer)) {
            (None, Some(at)) if !pointer.is_empty() => at,
            _ => root.locate(&pointer),
        };
        let problem = match unknown {
            Some(unknown) => unknown.to_string(),
            None if path == "version" => format!(
                "`version`: {inner}; write the version as a quoted string with three parts, e.g. {version_example}"
            ),
            None if path == "." => inner,
            None => format!("`{path}`: {inner}"),
        };
        format!("{}:{}: {problem}", at.line, at.column)
    })
}

/// Whether a file name is a contract file's.
pub fn is_contract_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.ends_with(".contract.yaml")
            || n.ends_with(".contract.yml")
            || n.ends_with(".contract.json")
    })
}

/// Removes `.` and resolves `..` lexically (paths may name files in a git revision,
/// which the file system cannot canonicalise).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl ContractFile {
    /// Parses the contract file at `path` whose text is `text`; `read` supplies the
    /// text of a schema file the contract names (relative to the contract file).
    pub fn parse(
        path: &Path,
        text: &str,
        read: &dyn Fn(&Path) -> Result<String>,
    ) -> Result<ContractFile> {
        let root = tree::from_yaml(text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let header = header_of(&root).map_err(|e| anyhow!("{}:{e}", path.display()))?;
        // `FILE:LINE:COLUMN: `field`` of a field's value, for a value that is not allowed.
        let at = |field: &str| {
            let p = root
                .get(field)
                .map_or_else(|| root.locate(&format!("/{field}")), |n| n.at);
            format!("{}:{}:{}: `{field}`", path.display(), p.line, p.column)
        };
        let name = ContractName::parse(&header.name).map_err(|e| anyhow!("{}: {e}", at("name")))?;
        let version = Version::parse(header.version.trim()).map_err(|e| {
            anyhow!(
                "{}: {:?} is not a semantic version: {e}",
                at("version"),
                header.version
            )
        })?;
        let mode = header
            .compatibility
            .as_deref()
            .map(str::parse::<Mode>)
            .transpose()
            .map_err(|e| anyhow!("{}: {e}", at("compatibility")))?;
        let policy = header
            .policy
            .as_deref()
            .map(str::parse::<Policy>)
            .transpose()
            .map_err(|e| anyhow!("{}: {e}", at("policy")))?;
        let lint = match root.get("lint") {
            Some(node) => config::overrides(path, node)?,
            None => Overrides::default(),
        };
        let schema_node = root
            .get("schema")
            .ok_or_else(|| anyhow!("{}: no schema", path.display()))?;
        let (schema_path, schema_text, schema_tree) = match &schema_node.kind {
            tree::Kind::Scalar(serde_json::Value::String(rel)) => {
                let base = path.parent().unwrap_or(Path::new(""));
                let schema_path = normalize(&base.join(rel));
                let text = read(&schema_path).with_context(|| {
                    format!(
                        "{}: reading the schema file {}",
                        path.display(),
                        schema_path.display()
                    )
                })?;
                // serde_json decides validity (and says where it is broken); the
                // scanner only records positions.
                serde_json::from_str::<serde::de::IgnoredAny>(&text)
                    .map_err(|e| anyhow!("{}: not valid JSON: {e}", schema_path.display()))?;
                let tree = tree::from_json(&text)
                    .map_err(|e| anyhow!("{}: {e}", schema_path.display()))?;
                (schema_path, text, tree)
            }
            tree::Kind::Map(_) | tree::Kind::Scalar(serde_json::Value::Bool(_)) => (
                path.to_owned(),
                schema_node.to_json_text(),
                schema_node.clone(),
            ),
            _ => bail!(
                "{}: schema must be a mapping (an inline schema) or a path to a .json file",
                path.display()
            ),
        };
        Ok(ContractFile {
            path: path.to_owned(),
            name,
            version,
            owner: header.owner,
            description: header.description,
            mode,
            policy,
            tags: header.tags,
            schema_path,
            schema_text,
            schema_tree,
            version_at: root.locate("/version"),
            lint,
        })
    }

    /// Reads and parses a contract file from the file system.
    pub fn load(path: &Path) -> Result<ContractFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        ContractFile::parse(path, &text, &|p| {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
        })
    }

    /// Where the schema node a JSON pointer names is, in [`schema_path`](Self::schema_path).
    pub fn locate(&self, pointer: &str) -> Position {
        self.schema_tree.locate(pointer)
    }
}

/// Finds the contract files under `paths` (files are taken as given; directories are
/// searched recursively), sorted and without duplicates.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            files_under(p, is_contract_file, &mut out)?;
        } else if p.exists() {
            // A consumer file named on the command line is read by its own loader.
            if !crate::cli::consumer_file::is_consumer_file(p) {
                out.push(normalize(p));
            }
        } else {
            bail!("{} does not exist", p.display());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Appends the files under `dir` (searched recursively) that `keep` selects, normalized:
/// how contract files and consumer files are discovered in the directories given.
pub fn files_under(dir: &Path, keep: fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        if path.is_dir() {
            files_under(&path, keep, out)?;
        } else if keep(&path) {
            out.push(normalize(&path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(p: &Path) -> Result<String> {
        bail!("no file {}", p.display())
    }

    #[test]
    fn an_inline_contract_file_loads_with_its_header_and_positions() {
        let text = "name: orders.order_placed\nversion: 1.2.0\nowner: team-orders\ndescription: An order was placed.\ncompatibility: backward_transitive\ntags: [orders]\nschema:\n  type: object\n  properties:\n    id: {type: string}\n";
        let c = ContractFile::parse(Path::new("c/o.contract.yaml"), text, &no_files).unwrap();
        assert_eq!(c.name.as_str(), "orders.order_placed");
        assert_eq!(c.version, Version::new(1, 2, 0));
        assert_eq!(c.mode, Some(Mode::BackwardTransitive));
        assert_eq!(c.schema_path, Path::new("c/o.contract.yaml"));
        assert_eq!(
            c.locate("/properties/id"),
            Position {
                line: 10,
                column: 5
            }
        );
    }

    #[test]
    fn a_schema_path_is_read_relative_to_the_contract_file() {
        let text = "name: a\nversion: 1.0.0\nowner: o\ndescription: d\nschema: a/../a/1.0.0.json\n";
        let read = |p: &Path| -> Result<String> {
            assert_eq!(p, Path::new("contracts/a/1.0.0.json"));
            Ok("{\n  \"type\": \"string\"\n}".to_owned())
        };
        let c = ContractFile::parse(Path::new("contracts/a.contract.yaml"), text, &read).unwrap();
        assert_eq!(c.schema_path, Path::new("contracts/a/1.0.0.json"));
        assert_eq!(c.locate("/type"), Position { line: 2, column: 3 });
    }

    #[test]
    fn an_unknown_field_or_a_bad_version_is_refused_with_the_file_name() {
        let bad = "name: a\nversion: one\nowner: o\ndescription: d\nschema: {}\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), bad, &no_files).unwrap_err();
        assert!(e.to_string().contains("x.contract.yaml"), "{e}");
        let unknown = "name: a\nversion: 1.0.0\nowner: o\ndescription: d\nschema: {}\nmode: FULL\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), unknown, &no_files).unwrap_err();
        assert!(e.to_string().contains("mode"), "{e}");
    }

    #[test]
    fn an_unknown_field_names_its_line_and_column_and_the_right_name() {
        let unknown = "name: a\nversion: 1.0.0\nowner: o\ndescription: d\nschema: {}\nmode: FULL\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), unknown, &no_files).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "x.contract.yaml:6:1: unknown field `mode`; did you mean `compatibility`?"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_value_that_is_not_allowed_names_its_line_column_and_the_allowed_values() {
        let text =
            "name: a\nversion: 1.0.0\nowner: o\ndescription: d\ncompatibility: FULLY\nschema: {}\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), text, &no_files).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("x.contract.yaml:5:16: `compatibility`: "),
            "{e}"
        );
        assert!(e.contains("FULL_TRANSITIVE"), "{e}");
        let text = "name: a\nversion: 1.0.x\nowner: o\ndescription: d\nschema: {}\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), text, &no_files).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.contract.yaml:2:10: `version`: "),
            "{e}"
        );
    }

    #[test]
    fn a_version_of_the_wrong_type_names_its_line_and_column_and_the_fix() {
        let text = "name: a\nversion: 1.0\nowner: o\ndescription: d\nschema: {}\n";
        let e = ContractFile::parse(Path::new("x.contract.yaml"), text, &no_files).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("x.contract.yaml:2:10: `version`: invalid type"),
            "{e}"
        );
        assert!(e.contains("version: \"1.0.0\""), "{e}");
    }
}
