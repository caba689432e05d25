//! What a new schema does to one reader that was built against an older one, and
//! which fields a schema has. Pure functions of (old schema, new schema, fields): the
//! engine knows nothing of consumers, deployments or ranges (the registry does).
//!
//! A reader deployed against `old` *breaks* on `new` when data valid under `new` can
//! be invalid under `old`: FORWARD, seen from the reader's side. The findings are the
//! engine's own: the old → new changes that break FORWARD, or, when none of those
//! explains the break, the reverse walk's findings turned around (as `check.rs` does
//! for a FORWARD mode).
//!
//! A reader that declares the fields it uses ([`FieldPath`]s such as `/amount` or
//! `/items/*/sku`) is broken only by findings that touch one of them: a finding whose
//! instance path is an ancestor of a declared field (the object holding it changed
//! kind), the field itself, or something inside it. A change to a field it does not
//! read does not break it. A declared field the old schema has and the new one no
//! longer has is reported as missing, even where the policy lets the removal pass
//! (a lenient removal from an open object): the reader would find nothing there.
//!
//! A schema *has* a field when following its segments from the root reaches a
//! subschema: a named property, a `patternProperties` entry whose pattern matches the
//! name, an `additionalProperties` schema (map values), array items (`*` or an index),
//! through `allOf`/`anyOf`/`oneOf`, `if`/`then`/`else` branches and `$ref`s. A
//! property declared `false` is not had.

use std::collections::{HashMap, HashSet};

use crate::domain::{Direction, FieldPath, Policy};
use crate::schema::Schema;

use super::check::turned_around;
use super::diff::{raw, to_change};
use super::model::{Extra, Kind, Model, NodeId};
use super::walk::{Budget, Finding};
use super::witness;
use super::{Change, CompatError};

/// The most nodes one field lookup visits (combinators can fan out).
const MAX_VISITED: usize = 10_000;

/// The reader's verdict on a new schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderVerdict {
    /// The findings by which data valid under the new schema can be invalid under the
    /// old one, restricted to the declared fields when there are any: the first ones,
    /// when [`ReaderCheck::verdicts`] was asked for fewer.
    pub changes: Vec<Change>,
    /// How many such findings there are.
    pub changes_total: usize,
    /// Declared fields the old schema has and the new one does not.
    pub missing_fields: Vec<FieldPath>,
}

impl ReaderVerdict {
    /// Whether the new schema breaks the reader.
    pub fn breaks(&self) -> bool {
        self.changes_total > 0 || !self.missing_fields.is_empty()
    }
}

/// The comparison of one old schema with one new schema, made once and asked for any
/// number of field lists (many readers deployed against the same old version share
/// one walk).
pub struct ReaderCheck<'s> {
    old_schema: &'s Schema,
    new_schema: &'s Schema,
    old: Fields<'s>,
    new: Fields<'s>,
    policy: Policy,
    /// The old → new walk's findings that break FORWARD. Only those some reader is
    /// shown become changes, with witnesses ([`ReaderCheck::verdicts`]): finding a
    /// witness costs more than the walk when a reader is many versions behind, and
    /// most findings touch no reader that declared its fields.
    forward: Vec<Finding>,
    /// The reverse walk's (new → old) findings that break it, turned around only when
    /// shown.
    reverse: Vec<Finding>,
}

impl<'s> ReaderCheck<'s> {
    /// Walks `old` → `new` and `new` → `old` under `policy`.
    pub fn new(old: &'s Schema, new: &'s Schema, policy: Policy) -> Result<Self, CompatError> {
        let old_fields = Fields::of(old);
        let new_fields = Fields::of(new);
        let (om, nm) = (&old_fields.model, &new_fields.model);
        let mut budget = Budget::default();
        let mut forward = raw(old, om, new, nm, policy, &mut budget)?;
        forward.retain(|f| f.rule.breaks(Direction::Forward, policy));
        let mut reverse =
            raw(new, nm, old, om, policy, &mut budget).map_err(CompatError::turned_around)?;
        reverse.retain(|f| f.rule.breaks(Direction::Backward, policy));
        Ok(Self {
            old_schema: old,
            new_schema: new,
            old: old_fields,
            new: new_fields,
            policy,
            forward,
            reverse,
        })
    }

    /// The verdict for a reader of `fields` (every field when empty).
    pub fn verdict(&self, fields: &[FieldPath]) -> ReaderVerdict {
        self.verdicts(&[fields], usize::MAX)
            .pop()
            .expect("one verdict per field list")
    }

    /// The verdicts for readers of each of `readers`' field lists (every field when a
    /// list is empty), in order, each listing at most `listed` changes (and counting
    /// them all). The witnesses of the changes listed to at least one reader are found
    /// once, for all of them; changes no reader is listed get none, since each witness
    /// costs two validations and a reader of every field may be shown hundreds.
    pub fn verdicts(&self, readers: &[&[FieldPath]], listed: usize) -> Vec<ReaderVerdict> {
        let (forward, reverse) = (ByField::new(&self.forward), ByField::new(&self.reverse));
        // Which forward changes each reader is shown, by index, and how many touch it.
        let shown: Vec<(Vec<usize>, usize)> = readers
            .iter()
            .map(|f| {
                let mut touched = forward.touched(f);
                let total = touched.len();
                touched.truncate(listed);
                (touched, total)
            })
            .collect();
        let mut needed: Vec<usize> = shown.iter().flat_map(|(i, _)| i).copied().collect();
        needed.sort_unstable();
        needed.dedup();
        let mut witnessed: Vec<Change> = needed
            .iter()
            .map(|&i| to_change(self.forward[i].clone(), self.policy))
            .collect();
        witness::attach(self.old_schema, self.new_schema, &mut witnessed);
        // Readers share fields: each is looked up in both schemas once.
        let mut missing: HashMap<&FieldPath, bool> = HashMap::new();
        readers
            .iter()
            .zip(shown)
            .map(|(fields, (indices, total))| {
                let (changes, changes_total): (Vec<Change>, usize) = if total == 0 {
                    let touched = reverse.touched(fields);
                    let total = touched.len();
                    let changes = touched
                        .into_iter()
                        .take(listed)
                        .map(|i| turned_around(self.reverse[i].clone()))
                        .collect();
                    (changes, total)
                } else {
                    let changes = indices
                        .iter()
                        .map(|i| witnessed[needed.binary_search(i).expect("needed")].clone())
                        .collect();
                    (changes, total)
                };
                let missing_fields = fields
                    .iter()
                    .filter(|f| {
                        *missing
                            .entry(f)
                            .or_insert_with(|| self.old.has(f) && !self.new.has(f))
                    })
                    .cloned()
                    .collect();
                ReaderVerdict {
                    changes,
                    changes_total,
                    missing_fields,
                }
            })
            .collect()
    }
}

/// Changes indexed by the first segment of their instance path, so that the changes
/// a reader's fields touch are found per field rather than by trying every change:
/// with a hundred readers of a version many changes behind, the pairs add up.
struct ByField<'c> {
    changes: &'c [Finding],
    /// Changes under a named first segment (`/amount/...`), by that segment.
    named: HashMap<&'c str, Vec<usize>>,
    /// Changes at the whole instance or under `*`: any field may touch them.
    everywhere: Vec<usize>,
}

impl<'c> ByField<'c> {
    fn new(changes: &'c [Finding]) -> Self {
        let mut named: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut everywhere = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            match c
                .instance_path
                .strip_prefix('/')
                .and_then(|p| p.split('/').next())
            {
                Some(first) if first != "*" => named.entry(first).or_default().push(i),
                _ => everywhere.push(i),
            }
        }
        Self {
            changes,
            named,
            everywhere,
        }
    }

    /// The indexes, in order, of the changes that touch one of `fields` (every change
    /// when `fields` is empty: the reader reads everything).
    fn touched(&self, fields: &[FieldPath]) -> Vec<usize> {
        if fields.is_empty() {
            return (0..self.changes.len()).collect();
        }
        let mut out = Vec::new();
        for field in fields {
            let touches = |i: &usize| field.touches(&self.changes[*i].instance_path);
            match field.segments().next() {
                Some("*") | None => out.extend((0..self.changes.len()).filter(touches)),
                Some(first) => out.extend(
                    self.named
                        .get(first)
                        .into_iter()
                        .flatten()
                        .chain(&self.everywhere)
                        .copied()
                        .filter(touches),
                ),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The verdict of a reader deployed against `old`, reading `fields` (every field when
/// empty), on `new`, under `policy`.
pub fn check_reader(
    old: &Schema,
    new: &Schema,
    fields: &[FieldPath],
    policy: Policy,
) -> Result<ReaderVerdict, CompatError> {
    Ok(ReaderCheck::new(old, new, policy)?.verdict(fields))
}

/// Whether `schema` has `field` (see the module documentation).
pub fn has_field(schema: &Schema, field: &FieldPath) -> bool {
    Fields::of(schema).has(field)
}

/// Field lookups in one schema, its model built once.
pub struct Fields<'s> {
    model: Model<'s>,
}

impl<'s> Fields<'s> {
    /// Builds the schema's model.
    pub fn of(schema: &'s Schema) -> Self {
        Self {
            model: Model::build(schema),
        }
    }

    /// Whether the schema has `field`.
    pub fn has(&self, field: &FieldPath) -> bool {
        let mut visited = 0;
        let mut current = self.expand(vec![self.model.root], &mut visited);
        for token in field.tokens() {
            let mut next = Vec::new();
            for id in &current {
                match &self.model.node(*id).kind {
                    Kind::Object(o) => {
                        if token == "*" {
                            next.extend(o.properties.iter().map(|(_, n)| *n));
                            next.extend(o.patterns.iter().map(|(_, n)| *n));
                        } else {
                            next.extend(o.property(&token));
                            next.extend(
                                o.patterns
                                    .iter()
                                    .filter(|(p, _)| {
                                        regex::Regex::new(p).is_ok_and(|r| r.is_match(&token))
                                    })
                                    .map(|(_, n)| *n),
                            );
                        }
                        if let Extra::Schema(n) = o.additional {
                            next.push(n);
                        }
                    }
                    Kind::Array(a) => {
                        let index = token.parse::<usize>().ok();
                        if token != "*" && index.is_none() {
                            continue;
                        }
                        next.extend(a.all_items);
                        match index {
                            Some(i) => next.extend(a.prefix.get(i)),
                            None => next.extend(a.prefix.iter().copied()),
                        }
                        if let Extra::Schema(n) = a.rest {
                            next.push(n);
                        }
                    }
                    _ => {}
                }
            }
            current = self.expand(next, &mut visited);
            if current.is_empty() {
                return false;
            }
        }
        true
    }

    /// `ids` with every node their combinators and conditionals reach, without the
    /// ones that accept nothing; at most [`MAX_VISITED`] nodes over one lookup.
    fn expand(&self, ids: Vec<NodeId>, visited: &mut usize) -> Vec<NodeId> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut pending = ids;
        while let Some(id) = pending.pop() {
            if !seen.insert(id) {
                continue;
            }
            *visited += 1;
            if *visited > MAX_VISITED {
                break;
            }
            match &self.model.node(id).kind {
                Kind::Never => {}
                Kind::Combined { subs, .. } => pending.extend(subs.iter().copied()),
                Kind::Conditional { then, els, .. } => {
                    pending.extend(then.iter().copied());
                    pending.extend(els.iter().copied());
                }
                _ => out.push(id),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::schema::{NoResolver, ParseOptions};

    fn schema(v: Value) -> Schema {
        Schema::from_value(v, &ParseOptions::default(), &NoResolver).unwrap()
    }

    fn fields(list: &[&str]) -> Vec<FieldPath> {
        list.iter().map(|f| FieldPath::parse(f).unwrap()).collect()
    }

    fn order() -> Schema {
        schema(json!({
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number"},
                "items": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}
                }}
            },
            "required": ["order_id", "amount"]
        }))
    }

    fn without_amount() -> Schema {
        schema(json!({
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "items": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}
                }}
            },
            "required": ["order_id"]
        }))
    }

    #[test]
    fn removing_a_field_breaks_its_readers_and_nobody_else() {
        let (old, new) = (order(), without_amount());
        let amount = check_reader(&old, &new, &fields(&["/amount"]), Policy::Strict).unwrap();
        assert!(amount.breaks());
        assert!(amount.changes.iter().all(|c| c.instance_path == "/amount"));
        assert_eq!(amount.missing_fields, fields(&["/amount"]));
        let id = check_reader(&old, &new, &fields(&["/order_id"]), Policy::Strict).unwrap();
        assert!(!id.breaks(), "{id:?}");
        let sku = check_reader(&old, &new, &fields(&["/items/*/sku"]), Policy::Strict).unwrap();
        assert!(!sku.breaks(), "{sku:?}");
    }

    #[test]
    fn readers_asked_together_get_what_each_gets_alone_with_witnesses() {
        let (old, new) = (order(), without_amount());
        let check = ReaderCheck::new(&old, &new, Policy::Strict).unwrap();
        let lists = [fields(&["/amount"]), fields(&["/order_id"]), Vec::new()];
        let together = check.verdicts(
            &lists.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            usize::MAX,
        );
        for (fields, verdict) in lists.iter().zip(&together) {
            assert_eq!(
                verdict,
                &check_reader(&old, &new, fields, Policy::Strict).unwrap()
            );
        }
        // A change a reader is shown carries its verified witness.
        assert!(
            together[0].changes.iter().any(|c| c
                .witnesses
                .as_ref()
                .is_some_and(|w| matches!(w.forward, Some(Some(_))))),
            "{:?}",
            together[0]
        );
    }

    #[test]
    fn a_reader_listed_fewer_changes_still_counts_them_all() {
        let old = schema(json!({"type": "object", "additionalProperties": false}));
        let new = schema(json!({
            "type": "object",
            "properties": {"a": {}, "b": {}, "c": {}},
            "additionalProperties": false
        }));
        let check = ReaderCheck::new(&old, &new, Policy::Strict).unwrap();
        let all = check.verdict(&[]);
        assert_eq!(all.changes_total, 3, "{all:?}");
        assert_eq!(all.changes.len(), 3);
        let listed = check.verdicts(&[&[]], 1).pop().unwrap();
        assert_eq!(listed.changes_total, 3);
        assert_eq!(listed.changes, all.changes[..1]);
        assert!(listed.breaks());
    }

    #[test]
    fn a_reader_without_declared_fields_reads_everything() {
        let v = check_reader(&order(), &without_amount(), &[], Policy::Strict).unwrap();
        assert!(v.breaks());
        assert!(
            v.changes
                .iter()
                .all(|c| c.breaks.contains(&Direction::Forward))
        );
    }

    #[test]
    fn a_change_inside_or_above_a_declared_field_breaks_it() {
        let old = order();
        let mut narrowed = old.value().clone();
        narrowed["properties"]["items"]["items"]["properties"]["sku"] = json!({"type": "integer"});
        let new = schema(narrowed);
        let sku = check_reader(&old, &new, &fields(&["/items/*/sku"]), Policy::Strict).unwrap();
        assert!(sku.breaks());
        assert_eq!(sku.changes[0].instance_path, "/items/*/sku");
        let items = check_reader(&old, &new, &fields(&["/items"]), Policy::Strict).unwrap();
        assert!(items.breaks(), "a reader of /items reads its skus");
        let qty = check_reader(&old, &new, &fields(&["/items/*/qty"]), Policy::Strict).unwrap();
        assert!(!qty.breaks());
        let root = schema(json!({"type": "array"}));
        let all = check_reader(&old, &root, &fields(&["/order_id"]), Policy::Strict).unwrap();
        assert!(all.breaks(), "the whole record changed kind");
    }

    #[test]
    fn a_change_readers_tolerate_is_not_a_break() {
        let old = order();
        let mut added = old.value().clone();
        added["properties"]["note"] = json!({"type": "string"});
        let new = schema(added);
        // A new optional property on an open object: old readers accept it.
        let v = check_reader(&old, &new, &[], Policy::Lenient).unwrap();
        assert!(!v.breaks(), "{v:?}");
        // Widening a type breaks readers of that field only.
        let mut widened = old.value().clone();
        widened["properties"]["amount"] = json!({"type": ["number", "string"]});
        let new = schema(widened);
        assert!(
            check_reader(&old, &new, &fields(&["/amount"]), Policy::Strict)
                .unwrap()
                .breaks()
        );
        assert!(
            !check_reader(&old, &new, &fields(&["/order_id"]), Policy::Strict)
                .unwrap()
                .breaks()
        );
    }

    #[test]
    fn one_walk_answers_many_readers() {
        let (old, new) = (order(), without_amount());
        let check = ReaderCheck::new(&old, &new, Policy::Strict).unwrap();
        assert!(check.verdict(&fields(&["/amount"])).breaks());
        assert!(!check.verdict(&fields(&["/order_id"])).breaks());
        assert!(check.verdict(&[]).breaks());
        assert!(!check.verdict(&fields(&["/nowhere"])).breaks());
    }

    #[test]
    fn fields_are_found_through_items_combinators_refs_and_patterns() {
        let s = schema(json!({
            "$defs": {"money": {"type": "object", "properties": {"currency": {"type": "string"}}}},
            "type": "object",
            "properties": {
                "total": {"$ref": "#/$defs/money"},
                "lines": {"type": "array", "items": {"allOf": [
                    {"type": "object", "properties": {"sku": {"type": "string"}}}
                ]}},
                "pair": {"type": "array", "items": [{"type": "string"}, {"type": "object", "properties": {"x": {}}}]},
                "gone": false
            },
            "patternProperties": {"^x-": {"type": "string"}},
            "anyOf": [{"properties": {"alt": {"type": "integer"}}}]
        }));
        for present in [
            "/total",
            "/total/currency",
            "/lines/*/sku",
            "/lines/0/sku",
            "/pair/1/x",
            "/x-trace",
            "/alt",
            "/*",
        ] {
            assert!(
                has_field(&s, &FieldPath::parse(present).unwrap()),
                "{present}"
            );
        }
        for absent in [
            "/nope",
            "/total/amount",
            "/lines/sku",
            "/pair/0/x",
            "/gone",
            "/alt/deeper",
        ] {
            assert!(
                !has_field(&s, &FieldPath::parse(absent).unwrap()),
                "{absent}"
            );
        }
    }

    #[test]
    fn recursive_schemas_are_looked_up_without_looping() {
        let s = schema(json!({
            "$defs": {"node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                "name": {"type": "string"}
            }}},
            "$ref": "#/$defs/node"
        }));
        let deep = FieldPath::parse("/children/*/children/*/name").unwrap();
        assert!(has_field(&s, &deep));
        assert!(!has_field(
            &s,
            &FieldPath::parse("/children/*/age").unwrap()
        ));
    }
}
