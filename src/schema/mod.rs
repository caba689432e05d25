//! JSON Schema documents: draft detection, the meta-schema check, `$ref`
//! resolution, the canonical form and its fingerprint.
//!
//! A [`Schema`] is a parsed, checked document together with every document it
//! refers to. Building one is the only way in, so the rest of the crate can rely on
//! it: the document is a valid schema of a known draft, every reference resolves,
//! every regular expression compiles, and the nesting is bounded.

mod canonical;
mod compile;
mod draft;
pub mod ndjson;
mod resolve;
pub(crate) mod walk;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

pub use canonical::{canonical_text, compact_text, fingerprint};
pub use compile::{
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_VIOLATIONS, Violation, ViolationCaps, Violations,
    build_validator, violations,
};
pub use draft::Draft;
pub use resolve::{DEFAULT_BASE, Documents, Location, MapResolver, NoResolver, Resolver};

/// The deepest nesting of JSON arrays and objects a schema may have. `serde_json`
/// refuses deeper documents while parsing text; [`Schema::from_value`] checks values
/// built in memory against the same bound.
pub const MAX_DEPTH: usize = 128;

/// Why a document is not an acceptable schema. Each variant names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("not valid JSON: {message}")]
    InvalidJson {
        /// What the parser said, with line and column.
        message: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("the schema nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// `$schema` names a draft Accord does not know.
    #[error(
        "unknown JSON Schema draft {uri:?} in $schema; expected draft-04, draft-06, draft-07, 2019-09 or 2020-12"
    )]
    UnknownDraft {
        /// The `$schema` value.
        uri: String,
    },
    /// The document fails its draft's meta-schema.
    #[error(
        "not a valid {draft} schema at {}: {message}",
        display_pointer(pointer)
    )]
    MetaSchema {
        /// The draft whose meta-schema was used.
        draft: Draft,
        /// JSON pointer to the offending value.
        pointer: String,
        /// What is wrong there.
        message: String,
    },
    /// A `$ref` that resolves to nothing known.
    #[error(
        "unresolvable $ref {reference:?} at {}: the target is not in this document and no other document with that URI was given",
        display_pointer(pointer)
    )]
    UnresolvedRef {
        /// JSON pointer to the schema holding the `$ref`.
        pointer: String,
        /// The reference as written.
        reference: String,
    },
    /// The schema cannot be compiled (for example an invalid regular expression).
    #[error("invalid schema at {}: {message}", display_pointer(pointer))]
    Invalid {
        /// JSON pointer to the offending keyword.
        pointer: String,
        /// What is wrong there.
        message: String,
    },
}

impl SchemaError {
    /// The JSON pointer the error is about, when it is about one place.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            SchemaError::MetaSchema { pointer, .. }
            | SchemaError::UnresolvedRef { pointer, .. }
            | SchemaError::Invalid { pointer, .. } => Some(pointer),
            _ => None,
        }
    }

    /// A stable kebab-case code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::InvalidJson { .. } => "invalid-json",
            SchemaError::TooDeep => "schema-too-deep",
            SchemaError::UnknownDraft { .. } => "unknown-draft",
            SchemaError::MetaSchema { .. } => "invalid-schema",
            SchemaError::UnresolvedRef { .. } => "unresolved-ref",
            SchemaError::Invalid { .. } => "invalid-schema",
        }
    }
}

fn display_pointer(p: &str) -> String {
    if p.is_empty() {
        "the document root (/)".to_owned()
    } else {
        p.to_owned()
    }
}

/// How documents are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// The draft of a document without `$schema`. Default: draft-07, as in Confluent.
    pub default_draft: Draft,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            default_draft: Draft::Draft7,
        }
    }
}

/// A checked JSON Schema with the documents it refers to. Cheap to clone.
#[derive(Clone)]
pub struct Schema(Arc<Inner>);

struct Inner {
    /// A validator with formats asserted, compiled on first use (see
    /// [`Schema::validator`]).
    validator: OnceLock<Result<jsonschema::Validator, SchemaError>>,
    original: String,
    docs: Documents,
    draft: Draft,
    /// The canonical text, written on first use (see [`Schema::canonical`]).
    canonical: OnceLock<String>,
    /// The sha256 of the canonical text, on first use.
    fingerprint: OnceLock<String>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("draft", &self.0.draft)
            .field("fingerprint", &self.0.fingerprint.get())
            .finish_non_exhaustive()
    }
}

impl Schema {
    /// Parses JSON text. The stored [`original`](Self::original) keeps the submitted
    /// key order and number spelling, with whitespace removed.
    pub fn from_text(
        text: &str,
        options: &ParseOptions,
        resolver: &dyn Resolver,
    ) -> Result<Self, SchemaError> {
        Self::from_string(text.to_owned(), options, resolver)
    }

    /// [`from_text`](Self::from_text) for a text the caller hands over: its buffer
    /// becomes the stored original, compacted where it lies, so a large schema read
    /// from a file or a request is neither copied nor held twice.
    pub fn from_string(
        mut text: String,
        options: &ParseOptions,
        resolver: &dyn Resolver,
    ) -> Result<Self, SchemaError> {
        // A byte-order mark (Windows editors write one) is not part of the JSON text
        // (RFC 8259 §8.1 lets a parser ignore it).
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            if e.to_string().contains("recursion limit") {
                SchemaError::TooDeep
            } else {
                SchemaError::InvalidJson {
                    message: e.to_string(),
                }
            }
        })?;
        Self::build(compact_text(text), value, options, resolver)
    }

    /// Builds a schema from a JSON value; the original text is its compact serialisation.
    pub fn from_value(
        value: Value,
        options: &ParseOptions,
        resolver: &dyn Resolver,
    ) -> Result<Self, SchemaError> {
        if exceeds_depth(&value, MAX_DEPTH) {
            return Err(SchemaError::TooDeep);
        }
        let original = serde_json::to_string(&value).unwrap_or_default();
        Self::build(original, value, options, resolver)
    }

    fn build(
        original: String,
        value: Value,
        options: &ParseOptions,
        resolver: &dyn Resolver,
    ) -> Result<Self, SchemaError> {
        if !matches!(value, Value::Object(_) | Value::Bool(_)) {
            return Err(SchemaError::MetaSchema {
                draft: options.default_draft,
                pointer: String::new(),
                message: "a schema must be a JSON object or a boolean".to_owned(),
            });
        }
        let draft = match value.get("$schema") {
            None => options.default_draft,
            Some(Value::String(uri)) => Draft::from_uri(uri)
                .ok_or_else(|| SchemaError::UnknownDraft { uri: uri.clone() })?,
            Some(_) => {
                return Err(SchemaError::MetaSchema {
                    draft: options.default_draft,
                    pointer: "/$schema".to_owned(),
                    message: "$schema must be a string".to_owned(),
                });
            }
        };
        meta_check(&value, draft)?;
        let docs = Documents::load(value, draft, resolver)?;
        for doc in docs.docs.iter().skip(1) {
            meta_check(&doc.value, doc.draft)?;
        }
        check_patterns(&docs)?;
        Ok(Schema(Arc::new(Inner {
            validator: OnceLock::new(),
            original,
            docs,
            draft,
            canonical: OnceLock::new(),
            fingerprint: OnceLock::new(),
        })))
    }

    /// Compiles the validator now (see [`Self::validator`]) and fails with the reason
    /// when it cannot be: what the registry runs before it stores a schema, so every
    /// stored schema has a validator.
    pub fn compiled(self) -> Result<Self, SchemaError> {
        self.validator().map_err(Clone::clone)?;
        Ok(self)
    }

    /// The document as submitted (key order and number spelling kept, compact).
    pub fn original(&self) -> &str {
        &self.0.original
    }

    /// The root document.
    pub fn value(&self) -> &Value {
        &self.0.docs.docs[0].value
    }

    /// The draft the root document is read as.
    pub fn draft(&self) -> Draft {
        self.0.draft
    }

    /// The canonical text (see [`canonical_text`]), written on first use.
    pub fn canonical(&self) -> &str {
        self.0.canonical.get_or_init(|| {
            canonical::canonical_text_sized(self.value(), self.0.draft, self.0.original.len())
        })
    }

    /// The lowercase hex sha256 of the canonical text, computed on first use.
    pub fn fingerprint(&self) -> &str {
        self.0
            .fingerprint
            .get_or_init(|| fingerprint(self.canonical()))
    }

    /// The root and every document it refers to.
    pub fn documents(&self) -> &Documents {
        &self.0.docs
    }

    /// The URIs of the other documents this schema refers to.
    pub fn external_uris(&self) -> Vec<String> {
        self.0.docs.external_uris().map(str::to_owned).collect()
    }

    /// The validator of this schema: formats asserted under every draft, the
    /// referenced documents served from memory, the bounded regex engine.
    ///
    /// It is compiled on first use, not while the schema is parsed: a comparison that
    /// verifies no witness never needs it, and compiling a big schema costs more time
    /// and memory than parsing and comparing it (`accord diff` on a 283 KB pair). A
    /// parsed schema has passed its meta-schema, resolved every reference and
    /// compiled every regular expression with the validator's engine, so compiling
    /// is not expected to fail; if it does, the error says why, and
    /// [`Self::compiled`] lets a caller that stores schemas refuse such a one.
    pub fn validator(&self) -> Result<&jsonschema::Validator, &SchemaError> {
        self.0
            .validator
            .get_or_init(|| compile_check(&self.0.docs, self.0.draft))
            .as_ref()
    }

    /// Options for building a `jsonschema` validator of this schema: its draft, the
    /// documents it refers to (served from memory; nothing is retrieved), and a bounded
    /// regular-expression engine.
    pub fn validator_options(&self) -> jsonschema::ValidationOptions<'static> {
        validator_options(&self.0.docs, self.0.draft)
    }
}

/// The bound on backtracking for `pattern` and `patternProperties` regexes.
pub const REGEX_BACKTRACK_LIMIT: usize = 10_000;

fn validator_options(docs: &Documents, draft: Draft) -> jsonschema::ValidationOptions<'static> {
    let external: HashMap<String, Value> = docs
        .docs
        .iter()
        .skip(1)
        .map(|d| (d.uri.clone(), d.value.clone()))
        .collect();
    jsonschema::options()
        .with_draft(draft.to_jsonschema())
        .with_base_uri(DEFAULT_BASE)
        .with_retriever(MemoryRetriever(external))
        .with_email_options(jsonschema::EmailOptions::default().without_display_text())
        .with_pattern_options(
            jsonschema::PatternOptions::fancy_regex().backtrack_limit(REGEX_BACKTRACK_LIMIT),
        )
}

/// Serves referenced documents from memory and refuses everything else.
struct MemoryRetriever(HashMap<String, Value>);

impl jsonschema::Retrieve for MemoryRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let key = uri.as_str().split('#').next().unwrap_or_default();
        self.0.get(key).cloned().ok_or_else(|| {
            format!("{key} is not a known document; Accord never fetches references").into()
        })
    }
}

fn meta_check(value: &Value, draft: Draft) -> Result<(), SchemaError> {
    // The yes/no check first: it builds no error on the way. Nearly every schema
    // passes it; the error (and where it is) is looked for only when one fails.
    let valid = match draft {
        Draft::Draft4 => jsonschema::draft4::meta::is_valid(value),
        Draft::Draft6 => jsonschema::draft6::meta::is_valid(value),
        Draft::Draft7 => jsonschema::draft7::meta::is_valid(value),
        Draft::Draft201909 => jsonschema::draft201909::meta::is_valid(value),
        Draft::Draft202012 => jsonschema::draft202012::meta::is_valid(value),
    };
    if valid {
        return Ok(());
    }
    let result = match draft {
        Draft::Draft4 => jsonschema::draft4::meta::validate(value),
        Draft::Draft6 => jsonschema::draft6::meta::validate(value),
        Draft::Draft7 => jsonschema::draft7::meta::validate(value),
        Draft::Draft201909 => jsonschema::draft201909::meta::validate(value),
        Draft::Draft202012 => jsonschema::draft202012::meta::validate(value),
    };
    result.map_err(|e| {
        let pointer = e.instance_path().to_string();
        let message = explain_meta_error(value, &pointer).unwrap_or_else(|| e.masked().to_string());
        SchemaError::MetaSchema {
            draft,
            pointer,
            message,
        }
    })
}

/// The JSON types a `type` keyword may name.
const SIMPLE_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// A plain explanation of a meta-schema failure at `pointer`, where the meta-schema's
/// own message says little (an unknown `type` name fails an `anyOf`).
fn explain_meta_error(schema: &Value, pointer: &str) -> Option<String> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let in_map = [
        "properties",
        "patternProperties",
        "$defs",
        "definitions",
        "dependentSchemas",
    ]
    .iter()
    .any(|m| parent.ends_with(&format!("/{m}")) || parent == format!("/{m}"));
    if key != "type" || in_map {
        return None;
    }
    let given = schema.pointer(pointer)?;
    let names: Vec<&str> = match given {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let allowed = SIMPLE_TYPES.map(|t| format!("\"{t}\"")).join(", ");
    let unknown = names.iter().find(|n| !SIMPLE_TYPES.contains(n));
    Some(match unknown {
        Some(name) if name.len() <= 64 => {
            let close = SIMPLE_TYPES
                .iter()
                .map(|t| (strsim::jaro_winkler(name, t), t))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let hint = close.map_or(String::new(), |(_, t)| format!("; did you mean \"{t}\"?"));
            format!(
                "`type` names an unknown type \"{name}\"{hint} (allowed: {allowed}, or an array of them)"
            )
        }
        _ => format!("`type` must be one of {allowed}, or an array of them without repeats"),
    })
}

fn compile_check(docs: &Documents, draft: Draft) -> Result<jsonschema::Validator, SchemaError> {
    validator_options(docs, draft)
        .should_validate_formats(true)
        .build(&docs.docs[0].value)
        .map_err(|e| SchemaError::Invalid {
            pointer: e.schema_path().to_string(),
            message: e.to_string(),
        })
}

/// Compiles every distinct `pattern` and `patternProperties` key of every document
/// with the validator's own engine and options (a one-keyword schema each), so a
/// parsed schema never holds a regular expression its validator would refuse,
/// without compiling the whole validator. Generated schemas repeat the same few
/// patterns hundreds of times; each is compiled once, and a failure names the first
/// place the walk met it.
fn check_patterns(docs: &Documents) -> Result<(), SchemaError> {
    let mut seen: HashSet<(&str, bool)> = HashSet::new();
    for doc in &docs.docs {
        let mut failed = None;
        walk::visit_schemas(&doc.value, doc.draft, |obj, pointer, _| {
            if failed.is_some() {
                return;
            }
            let pattern = obj
                .get("pattern")
                .and_then(Value::as_str)
                .map(|p| (p, false));
            let keys = obj
                .get("patternProperties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys().map(|k| (k.as_str(), true)));
            for (regex, is_key) in pattern.into_iter().chain(keys) {
                if seen.insert((regex, is_key)) {
                    if let Err(e) = compile_pattern(docs, doc.draft, regex, is_key, pointer) {
                        failed = Some(e);
                        return;
                    }
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(())
}

/// Compiles one pattern as `{"pattern": regex}` (or as a `patternProperties` key)
/// written in the schema object at `at`.
fn compile_pattern(
    docs: &Documents,
    draft: Draft,
    regex: &str,
    is_key: bool,
    at: &str,
) -> Result<(), SchemaError> {
    let probe = if is_key {
        serde_json::json!({ "patternProperties": { regex: true } })
    } else {
        serde_json::json!({ "pattern": regex })
    };
    let Err(e) = validator_options(docs, draft).build(&probe) else {
        return Ok(());
    };
    let (keyword, pointer) = if is_key {
        (
            "patternProperties",
            walk::join_pointer(at, &["patternProperties", regex]),
        )
    } else {
        ("pattern", walk::join_pointer(at, &["pattern"]))
    };
    Err(SchemaError::Invalid {
        message: format!("`{keyword}` {regex:?} is not a valid regular expression: {e}"),
        pointer,
    })
}

fn exceeds_depth(value: &Value, limit: usize) -> bool {
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Schema, SchemaError> {
        Schema::from_value(v, &ParseOptions::default(), &NoResolver)
    }

    #[test]
    fn no_schema_keyword_means_draft_07() {
        assert_eq!(
            parse(json!({"type": "string"})).unwrap().draft(),
            Draft::Draft7
        );
        let s = parse(json!({"$schema": "https://json-schema.org/draft/2020-12/schema"})).unwrap();
        assert_eq!(s.draft(), Draft::Draft202012);
    }

    #[test]
    fn an_unknown_draft_is_rejected_by_name() {
        let err = parse(json!({"$schema": "https://example.com/meta"})).unwrap_err();
        assert!(matches!(err, SchemaError::UnknownDraft { .. }), "{err}");
    }

    #[test]
    fn a_meta_schema_violation_names_its_pointer() {
        let err = parse(json!({"properties": {"a": {"minLength": -1}}})).unwrap_err();
        assert_eq!(err.pointer(), Some("/properties/a/minLength"), "{err}");
    }

    #[test]
    fn an_invalid_regex_is_rejected() {
        let err = parse(json!({"type": "string", "pattern": "(unclosed"})).unwrap_err();
        assert!(
            err.to_string().contains("pattern")
                || err.pointer().is_some_and(|p| p.contains("pattern")),
            "{err}"
        );
    }

    #[test]
    fn an_invalid_regex_is_named_at_its_first_place_without_compiling_the_validator() {
        // 2020-12's meta-schema leaves `format: regex` an annotation, so the pattern
        // check is what refuses these (draft-07's meta-schema refuses them itself).
        let draft = "https://json-schema.org/draft/2020-12/schema";
        let err = parse(json!({"$schema": draft,
            "properties": {"a": {"type": "string", "pattern": "^ok$"},
            "b": {"items": {"pattern": "a(b"}}}}))
        .unwrap_err();
        assert_eq!(err.pointer(), Some("/properties/b/items/pattern"), "{err}");
        assert!(err.to_string().contains("\"a(b\""), "{err}");
        let err = parse(json!({"$schema": draft, "patternProperties": {"[z-a]": {}}})).unwrap_err();
        assert_eq!(err.pointer(), Some("/patternProperties/[z-a]"), "{err}");
    }

    #[test]
    fn the_validator_is_compiled_on_first_use_and_kept() {
        let s = parse(json!({"properties": {"n": {"type": "integer"}}})).unwrap();
        assert!(
            s.0.validator.get().is_none(),
            "parsing compiled the validator"
        );
        let v = s.validator().unwrap();
        assert!(!v.is_valid(&json!({"n": "x"})));
        assert!(s.validator().unwrap().is_valid(&json!({"n": 1})));
        assert!(s.clone().compiled().is_ok());
    }

    #[test]
    fn key_order_is_kept_in_the_original_and_ignored_by_the_fingerprint() {
        let opts = ParseOptions::default();
        let a =
            Schema::from_text(r#"{ "type": "object", "title": "x" }"#, &opts, &NoResolver).unwrap();
        let b = Schema::from_text(r#"{"title":"x","type":"object"}"#, &opts, &NoResolver).unwrap();
        assert_eq!(a.original(), r#"{"type":"object","title":"x"}"#);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
    }

    #[test]
    fn a_handed_over_text_is_read_like_a_borrowed_one_byte_order_mark_and_all() {
        let opts = ParseOptions::default();
        let text = "\u{feff} {\n  \"type\": \"integer\", \"maximum\": 1.50 }\n";
        let owned = Schema::from_string(text.to_owned(), &opts, &NoResolver).unwrap();
        let borrowed = Schema::from_text(text, &opts, &NoResolver).unwrap();
        assert_eq!(owned.original(), r#"{"type":"integer","maximum":1.50}"#);
        assert_eq!(owned.original(), borrowed.original());
        assert_eq!(owned.fingerprint(), borrowed.fingerprint());
    }

    #[test]
    fn deep_nesting_is_refused_cleanly() {
        let text = format!("{}{}", "{\"items\":".repeat(10_000), "}".repeat(10_000));
        let err = Schema::from_text(&text, &ParseOptions::default(), &NoResolver).unwrap_err();
        assert_eq!(err, SchemaError::TooDeep);
        let mut v = json!({});
        for _ in 0..200 {
            v = json!({ "items": v });
        }
        assert_eq!(parse(v).unwrap_err(), SchemaError::TooDeep);
    }

    #[test]
    fn non_schema_documents_are_rejected() {
        assert!(parse(json!([1, 2])).is_err());
        assert!(parse(json!(true)).is_ok());
    }
}
