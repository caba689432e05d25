//! The lint rules: the table (id, default severity, fix hint) and the one walk over a
//! schema that finds what each rule looks for.
//!
//! The walk reads the schema as plain JSON, not as a checked [`crate::schema::Schema`]:
//! a document the registry would refuse (an unknown `$schema`, a `$ref` to nothing) is
//! exactly what some rules are for, and it must still be linted.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::schema::Draft;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Reported; does not fail the run.
    Warning,
    /// Fails the run.
    Error,
}

/// A lint rule: id, default severity, what it finds, fix hint.
#[derive(Debug, Clone, Copy)]
pub struct LintRule {
    /// Stable id.
    pub id: &'static str,
    /// The severity unless configured otherwise.
    pub severity: Severity,
    /// What to do about a finding.
    pub hint: &'static str,
}

/// Every rule, in the order docs/lint.md lists them.
pub const RULES: &[LintRule] = &[
    LintRule {
        id: "required-not-in-properties",
        severity: Severity::Error,
        hint: "add the name to `properties`, or remove it from `required`",
    },
    LintRule {
        id: "enum-empty",
        severity: Severity::Error,
        hint: "an empty `enum` accepts nothing: list the allowed values, or remove it",
    },
    LintRule {
        id: "type-enum-contradiction",
        severity: Severity::Error,
        hint: "no value of `enum` has the declared `type`: fix the type or the values",
    },
    LintRule {
        id: "ref-target-missing",
        severity: Severity::Error,
        hint: "point `$ref` at a definition that exists (under `$defs` or `definitions`), or add it",
    },
    LintRule {
        id: "schema-draft-unsupported",
        severity: Severity::Error,
        hint: "name a supported draft in `$schema` (draft-04, -06, -07, 2019-09 or 2020-12, e.g. https://json-schema.org/draft/2020-12/schema), or remove it for draft-07",
    },
    LintRule {
        id: "format-unknown",
        severity: Severity::Warning,
        hint: "use a format the validators check under this draft, or a `pattern`; an unknown format is an annotation that nothing enforces",
    },
    LintRule {
        id: "additional-properties-implicit",
        severity: Severity::Warning,
        hint: "say whether other properties are allowed: `additionalProperties: false` (closed) or `true` (open)",
    },
    LintRule {
        id: "description-missing",
        severity: Severity::Warning,
        hint: "add a `description` saying what the value means",
    },
    LintRule {
        id: "property-name-case",
        severity: Severity::Warning,
        hint: "name every property in the file's convention (set it with `case:` in accord.yaml's `lint:` section)",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static LintRule> {
    RULES.iter().find(|r| r.id == id)
}

/// The ids of every rule.
pub fn ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id).collect()
}

/// A property-name convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `order_id`
    Snake,
    /// `orderId`
    Camel,
    /// `order-id`
    Kebab,
    /// `OrderId`
    Pascal,
}

impl Case {
    /// Every convention, in the order a tie is broken.
    pub const ALL: [Case; 4] = [Case::Snake, Case::Camel, Case::Kebab, Case::Pascal];

    /// The name written in the configuration and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Case::Snake => "snake_case",
            Case::Camel => "camelCase",
            Case::Kebab => "kebab-case",
            Case::Pascal => "PascalCase",
        }
    }

    /// The convention with this name.
    pub fn parse(s: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether `name` is written in this convention. A one-word lower-case name
    /// (`id`) is snake, camel and kebab case at once.
    pub fn fits(self, name: &str) -> bool {
        let mut chars = name.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        let lower_words = |sep: char| {
            first.is_ascii_lowercase()
                && !name.ends_with(sep)
                && !name.contains(&format!("{sep}{sep}"))
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == sep)
        };
        match self {
            Case::Snake => lower_words('_'),
            Case::Kebab => lower_words('-'),
            Case::Camel => first.is_ascii_lowercase() && chars.all(|c| c.is_ascii_alphanumeric()),
            Case::Pascal => first.is_ascii_uppercase() && chars.all(|c| c.is_ascii_alphanumeric()),
        }
    }
}

/// What the walk needs besides the schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The property-name convention; `None` takes the file's dominant one.
    pub case: Option<Case>,
}

/// One finding of a rule at a node.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static LintRule,
    /// The JSON pointer of the node in the schema.
    pub pointer: String,
    /// One line for people.
    pub message: String,
}

/// Lints one schema document.
pub fn lint(schema: &Value, options: &Options) -> Vec<Finding> {
    let draft = match schema.get("$schema") {
        Some(Value::String(uri)) => Draft::from_uri(uri),
        _ => None,
    }
    .unwrap_or(Draft::Draft7);
    let mut w = Walk {
        root: schema,
        draft,
        out: Vec::new(),
        names: Vec::new(),
        formats: HashMap::new(),
    };
    w.node(schema, "", Role::Root, schema);
    w.case_findings(options.case);
    w.out
}

/// Why a node is a schema: the description rule asks it of the root, properties and
/// objects, not of every branch of an `anyOf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    Property,
    Other,
}

struct Walk<'a> {
    root: &'a Value,
    draft: Draft,
    out: Vec<Finding>,
    /// Every property name with the pointer of its schema.
    names: Vec<(String, String)>,
    /// Whether the validators know a format under `draft`, asked once per name.
    formats: HashMap<String, bool>,
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn finding(id: &str, pointer: &str, message: String) -> Finding {
    Finding {
        rule: rule(id).unwrap_or(&RULES[0]),
        pointer: pointer.to_owned(),
        message,
    }
}

/// The names in `type`, a string or a list.
fn types(obj: &serde_json::Map<String, Value>) -> Vec<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl<'a> Walk<'a> {
    /// Checks the schema `node` at `pointer`; `resource` is the nearest enclosing
    /// schema with its own `$id` (or the root), which a `#/…` reference is read against.
    fn node(&mut self, node: &'a Value, pointer: &str, role: Role, resource: &'a Value) {
        let Some(obj) = node.as_object() else {
            return;
        };
        let resource = match obj.get("$id").and_then(Value::as_str) {
            Some(id) if !id.starts_with('#') => node,
            _ => resource,
        };
        let properties = obj.get("properties").and_then(Value::as_object);
        let types = types(obj);

        if let Some(required) = obj.get("required").and_then(Value::as_array)
            && let Some(props) = properties
        {
            for name in required.iter().filter_map(Value::as_str) {
                if !props.contains_key(name) {
                    self.out.push(finding(
                        "required-not-in-properties",
                        pointer,
                        format!("`{name}` is required but not in `properties`"),
                    ));
                }
            }
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            if values.is_empty() {
                self.out
                    .push(finding("enum-empty", pointer, "`enum` is empty".to_owned()));
            } else if !types.is_empty()
                && !values.iter().any(|v| types.iter().any(|t| has_type(v, t)))
            {
                self.out.push(finding(
                    "type-enum-contradiction",
                    pointer,
                    format!(
                        "`type` is {} but no `enum` value is",
                        types
                            .iter()
                            .map(|t| format!("\"{t}\""))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                ));
            }
        }
        let is_object = types.contains(&"object") || properties.is_some();
        if is_object
            && !obj.contains_key("additionalProperties")
            && !obj.contains_key("unevaluatedProperties")
        {
            self.out.push(finding(
                "additional-properties-implicit",
                pointer,
                "an object without `additionalProperties`".to_owned(),
            ));
        }
        let wants_description = role != Role::Other || is_object;
        if wants_description && !obj.contains_key("description") && !obj.contains_key("$ref") {
            let what = match role {
                Role::Root => "the schema",
                Role::Property => "this property",
                Role::Other => "this object",
            };
            self.out.push(finding(
                "description-missing",
                pointer,
                format!("{what} has no `description`"),
            ));
        }
        if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
            self.reference(target, &format!("{pointer}/$ref"), resource);
        }
        if let Some(s) = obj.get("$schema") {
            let known = s.as_str().and_then(Draft::from_uri).is_some();
            if !known {
                self.out.push(finding(
                    "schema-draft-unsupported",
                    &format!("{pointer}/$schema"),
                    format!("`$schema` is {s}, not a draft Accord supports"),
                ));
            }
        }
        if let Some(name) = obj.get("format").and_then(Value::as_str) {
            self.format(name, &format!("{pointer}/format"));
        }

        if let Some(props) = properties {
            for (k, v) in props {
                let at = format!("{pointer}/properties/{}", escape(k));
                self.names.push((k.clone(), at.clone()));
                self.node(v, &at, Role::Property, resource);
            }
        }
        for map in [
            "patternProperties",
            "$defs",
            "definitions",
            "dependentSchemas",
            "dependencies",
        ] {
            if let Some(m) = obj.get(map).and_then(Value::as_object) {
                for (k, v) in m {
                    let at = format!("{pointer}/{map}/{}", escape(k));
                    self.node(v, &at, Role::Other, resource);
                }
            }
        }
        for one in [
            "items",
            "additionalItems",
            "unevaluatedItems",
            "additionalProperties",
            "unevaluatedProperties",
            "propertyNames",
            "contains",
            "not",
            "if",
            "then",
            "else",
            "contentSchema",
        ] {
            if let Some(v) = obj.get(one) {
                self.node(v, &format!("{pointer}/{one}"), Role::Other, resource);
            }
        }
        for list in ["allOf", "anyOf", "oneOf", "prefixItems", "items"] {
            if let Some(items) = obj.get(list).and_then(Value::as_array) {
                for (i, v) in items.iter().enumerate() {
                    self.node(v, &format!("{pointer}/{list}/{i}"), Role::Other, resource);
                }
            }
        }
    }

    /// A local reference (`#`, `#/json/pointer`, `#anchor`) must name a node; one to
    /// another document is `accord check`'s to resolve.
    fn reference(&mut self, target: &str, pointer: &str, resource: &Value) {
        let Some(fragment) = target.strip_prefix('#') else {
            return;
        };
        let found = if fragment.is_empty() {
            true
        } else if fragment.starts_with('/') {
            let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
            resource.pointer(&decoded).is_some()
        } else {
            has_anchor(self.root, fragment)
        };
        if found {
            return;
        }
        let mut message = format!("`$ref` \"{target}\" points at nothing in this document");
        let defined: Vec<String> = ["$defs", "definitions"]
            .iter()
            .filter_map(|m| Some((m, resource.get(m)?.as_object()?)))
            .flat_map(|(m, defs)| defs.keys().map(move |k| format!("#/{m}/{}", escape(k))))
            .collect();
        let names: Vec<&str> = defined.iter().map(String::as_str).collect();
        if let Some(s) = crate::domain::suggest::closest(target, &names) {
            message.push_str(&format!("; did you mean \"{s}\"?"));
        }
        self.out
            .push(finding("ref-target-missing", pointer, message));
    }

    /// A format the validators do not know under the document's draft. The validators
    /// themselves answer (a validator built with unknown formats refused), so the rule
    /// follows the `jsonschema` crate and its features rather than a copied list.
    fn format(&mut self, name: &str, pointer: &str) {
        let draft = self.draft;
        let known = *self
            .formats
            .entry(name.to_owned())
            .or_insert_with(|| format_known(draft, name));
        if known {
            return;
        }
        let elsewhere: Vec<&str> = [
            Draft::Draft4,
            Draft::Draft6,
            Draft::Draft7,
            Draft::Draft201909,
            Draft::Draft202012,
        ]
        .into_iter()
        .filter(|d| *d != draft && format_known(*d, name))
        .map(Draft::as_str)
        .collect();
        let message = if elsewhere.is_empty() {
            format!("format \"{name}\" is not one the validators know; nothing checks it")
        } else {
            format!(
                "format \"{name}\" is not checked under {} (it is under {}); nothing checks it here",
                draft.as_str(),
                elsewhere.join(", ")
            )
        };
        self.out.push(finding("format-unknown", pointer, message));
    }

    /// Names that do not follow the configured convention, or the file's dominant one.
    fn case_findings(&mut self, configured: Option<Case>) {
        let case = configured.or_else(|| {
            let count = |c: Case| self.names.iter().filter(|(n, _)| c.fits(n)).count();
            // max_by_key keeps the last of equal counts: walk the ties from the back
            // so the first convention of `ALL` wins them.
            Case::ALL
                .into_iter()
                .rev()
                .max_by_key(|c| count(*c))
                .filter(|c| count(*c) > 0)
        });
        let Some(case) = case else {
            return;
        };
        let how = if configured.is_some() {
            "the configured convention"
        } else {
            "this file's convention"
        };
        for (name, pointer) in &self.names {
            if !case.fits(name) {
                self.out.push(finding(
                    "property-name-case",
                    pointer,
                    format!("`{name}` is not {} ({how})", case.as_str()),
                ));
            }
        }
    }
}

/// Whether the `jsonschema` validators know format `name` under `draft`, with the
/// crate features Accord builds (no `idna`, so no `idn-*`).
fn format_known(draft: Draft, name: &str) -> bool {
    jsonschema::options()
        .with_draft(draft.to_jsonschema())
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&json!({ "format": name }))
        .is_ok()
}

/// Whether a schema in `node` declares the anchor `name` (`$anchor`, `$dynamicAnchor`,
/// or a draft-06/07 `$id: "#name"`).
fn has_anchor(node: &Value, name: &str) -> bool {
    match node {
        Value::Object(obj) => {
            let declares = |k: &str| obj.get(k).and_then(Value::as_str);
            declares("$anchor") == Some(name)
                || declares("$dynamicAnchor") == Some(name)
                || declares("$id").and_then(|id| id.strip_prefix('#')) == Some(name)
                || obj.values().any(|v| has_anchor(v, name))
        }
        Value::Array(items) => items.iter().any(|v| has_anchor(v, name)),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(schema: Value, options: &Options) -> Vec<(&'static str, String)> {
        lint(&schema, options)
            .into_iter()
            .map(|f| (f.rule.id, f.pointer))
            .collect()
    }

    fn has(found: &[(&str, String)], rule: &str, pointer: &str) -> bool {
        found.iter().any(|(r, p)| *r == rule && p == pointer)
    }

    #[test]
    fn a_name_outside_the_dominant_convention_is_flagged() {
        let f = found(
            json!({"properties": {"order_id": {}, "placed_at": {}, "customerId": {}, "id": {}}}),
            &Options::default(),
        );
        assert!(
            has(&f, "property-name-case", "/properties/customerId"),
            "{f:?}"
        );
        assert!(!has(&f, "property-name-case", "/properties/id"), "{f:?}");
        assert!(
            !has(&f, "property-name-case", "/properties/order_id"),
            "{f:?}"
        );
    }

    #[test]
    fn a_configured_convention_wins_over_the_dominant_one() {
        let f = found(
            json!({"properties": {"order_id": {}, "placed_at": {}, "customerId": {}}}),
            &Options {
                case: Some(Case::Camel),
            },
        );
        assert!(
            has(&f, "property-name-case", "/properties/order_id"),
            "{f:?}"
        );
        assert!(
            !has(&f, "property-name-case", "/properties/customerId"),
            "{f:?}"
        );
    }

    #[test]
    fn conventions_tell_their_names_apart() {
        assert!(Case::Snake.fits("order_id") && !Case::Snake.fits("orderId"));
        assert!(Case::Camel.fits("orderId") && !Case::Camel.fits("OrderId"));
        assert!(Case::Kebab.fits("order-id") && !Case::Kebab.fits("order_id"));
        assert!(Case::Pascal.fits("OrderId") && !Case::Pascal.fits("orderId"));
        assert!(Case::Snake.fits("id") && Case::Camel.fits("id") && Case::Kebab.fits("id"));
        assert!(!Case::Snake.fits("order__id") && !Case::Snake.fits("order_"));
    }

    #[test]
    fn a_local_ref_to_nothing_is_flagged_with_the_closest_definition() {
        let schema = json!({
            "$defs": {"address": {"type": "string"}},
            "definitions": {"money": {"type": "number"}},
            "properties": {
                "a": {"$ref": "#/$defs/adress"},
                "b": {"$ref": "#/$defs/address"},
                "c": {"$ref": "#/definitions/money"},
                "d": {"$ref": "#"},
                "e": {"$ref": "other.json#/x"},
                "f": {"$ref": "#/properties/a"},
                "g": {"$ref": "#nowhere"}
            }
        });
        let all = lint(&schema, &Options::default());
        let refs: Vec<&Finding> = all
            .iter()
            .filter(|f| f.rule.id == "ref-target-missing")
            .collect();
        let pointers: Vec<&str> = refs.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/properties/a/$ref", "/properties/g/$ref"],
            "{refs:?}"
        );
        assert!(
            refs[0].message.contains("did you mean \"#/$defs/address\""),
            "{}",
            refs[0].message
        );
    }

    #[test]
    fn an_anchor_and_a_ref_inside_an_embedded_resource_resolve() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {
                "a": {"$anchor": "here", "type": "string"},
                "inner": {"$id": "https://example.com/inner", "$defs": {"x": {}}, "$ref": "#/$defs/x"}
            },
            "properties": {"p": {"$ref": "#here"}}
        });
        let f = found(schema, &Options::default());
        assert!(!f.iter().any(|(r, _)| *r == "ref-target-missing"), "{f:?}");
    }

    #[test]
    fn formats_follow_what_the_validators_know_under_the_draft() {
        let f = found(
            json!({"properties": {
                "a": {"format": "date-time"},
                "b": {"format": "made-up"},
                "c": {"format": "uuid"},
                "d": {"format": "idn-email"}
            }}),
            &Options::default(),
        );
        assert!(!has(&f, "format-unknown", "/properties/a/format"), "{f:?}");
        assert!(has(&f, "format-unknown", "/properties/b/format"), "{f:?}");
        // uuid is a 2019-09 format; the document is draft-07 (no `$schema`).
        assert!(has(&f, "format-unknown", "/properties/c/format"), "{f:?}");
        // Accord builds the validators without `idna`.
        assert!(has(&f, "format-unknown", "/properties/d/format"), "{f:?}");
        let f = found(
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "format": "uuid"}),
            &Options::default(),
        );
        assert!(!has(&f, "format-unknown", "/format"), "{f:?}");
    }

    #[test]
    fn an_unknown_or_malformed_schema_uri_is_flagged() {
        for s in [
            json!("https://json-schema.org/draft/2021-01/schema"),
            json!("http://example.com/my-meta"),
            json!(7),
        ] {
            let f = found(json!({"$schema": s}), &Options::default());
            assert!(has(&f, "schema-draft-unsupported", "/$schema"), "{f:?}");
        }
        let f = found(
            json!({"$schema": "http://json-schema.org/draft-04/schema#"}),
            &Options::default(),
        );
        assert!(!has(&f, "schema-draft-unsupported", "/$schema"), "{f:?}");
    }

    #[test]
    fn every_object_and_property_needs_a_description_but_not_every_branch() {
        let f = found(
            json!({
                "description": "root",
                "properties": {
                    "list": {"description": "x", "type": "array", "items": {"type": "object"}},
                    "either": {"description": "y", "anyOf": [{"type": "string"}]},
                    "bare": {"type": "string"},
                    "linked": {"$ref": "#/$defs/t"}
                },
                "$defs": {"t": {"type": "object"}, "s": {"type": "string"}}
            }),
            &Options::default(),
        );
        assert!(
            has(&f, "description-missing", "/properties/list/items"),
            "{f:?}"
        );
        assert!(has(&f, "description-missing", "/properties/bare"), "{f:?}");
        assert!(has(&f, "description-missing", "/$defs/t"), "{f:?}");
        assert!(
            !has(&f, "description-missing", "/properties/either/anyOf/0"),
            "{f:?}"
        );
        assert!(
            !has(&f, "description-missing", "/properties/linked"),
            "{f:?}"
        );
        assert!(!has(&f, "description-missing", "/$defs/s"), "{f:?}");
        assert!(!has(&f, "description-missing", ""), "{f:?}");
    }

    #[test]
    fn a_type_list_contradicts_an_enum_only_when_no_value_has_any_of_its_types() {
        let f = found(
            json!({"properties": {
                "a": {"type": ["string", "null"], "enum": [null]},
                "b": {"type": ["string", "null"], "enum": [1]}
            }}),
            &Options::default(),
        );
        assert!(
            !has(&f, "type-enum-contradiction", "/properties/a"),
            "{f:?}"
        );
        assert!(has(&f, "type-enum-contradiction", "/properties/b"), "{f:?}");
    }
}
