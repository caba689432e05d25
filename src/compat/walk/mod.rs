//! The pairwise structural diff: walks the old and the new model side by side and
//! records a [`Finding`] per difference, always in the BACKWARD sense ("does every
//! instance the old schema accepts stay accepted?"). FORWARD is the same walk with the
//! roles swapped (see `check.rs`).
//!
//! The walk follows Confluent's algorithm where Confluent is sound (content models,
//! combinator matching, `not` reversal) and is stricter where Confluent ignores a
//! keyword (`format`, `patternProperties`, `propertyNames`, `contains`,
//! `if`/`then`/`else`, undeclared `type`, `oneOf` overlap, newly required undeclared
//! properties). See docs/compatibility.md for every rule.
//!
//! Recursion through `$ref` cycles is handled like Confluent: a pair met again while it
//! is still being compared is assumed compatible, and the whole walk is repeated with the
//! pairs that turned out incompatible marked as such, until nothing changes (a greatest
//! fixed point). Pair results are memoised, so `oneOf` against `oneOf` costs one
//! comparison per member pair. Work, memory and depth are bounded: a [`Budget`] counts
//! the pairs compared across every walk of one check ([`STEP_LIMIT`]), each walk counts
//! the bytes its memo of findings holds ([`MEMORY_LIMIT`]), and either running out
//! ends the check with [`CompatError::Budget`], which says which budget ran out, where
//! the walk was, and the first differences found so far.
//!
//! Findings are shared, not copied: a [`Finding`]'s content sits behind an `Rc`, so
//! handing a pair's findings up to its parent (which happens at every level, and for
//! every member pair of a combinator) copies a pointer and the instance path only.
//!
//! This file holds the walk itself (memo, cycles, budgets, dispatch by kind) and the
//! helpers every keyword family shares; each family compares in its own file:
//!
//! | file | compares |
//! | --- | --- |
//! | `annotations.rs` | annotations and keywords Accord does not understand |
//! | `objects.rs` | `type: object`, `required`, `properties`, `propertyNames`, property counts |
//! | `additional.rs` | `additionalProperties`, `unevaluatedProperties`, `patternProperties` (and the same for items) |
//! | `dependencies.rs` | `dependentRequired`, `dependentSchemas`, `dependencies` |
//! | `arrays.rs` | `items`, `prefixItems`, `contains`, item counts, `uniqueItems` |
//! | `strings.rs` | `minLength`, `maxLength`, `pattern`, `format` |
//! | `numbers.rs` | `integer`/`number`, bounds, `multipleOf` |
//! | `counts.rs` | the count keywords shared by strings, arrays and objects |
//! | `enums.rs` | `enum` and `const` |
//! | `combinators.rs` | `allOf`, `anyOf`, `oneOf`, `type` arrays |
//! | `one_of_overlap.rs` | whether `oneOf` members may match one value together |
//! | `logic.rs` | `not`, `if`/`then`/`else` |

mod additional;
mod annotations;
mod arrays;
mod combinators;
mod counts;
mod dependencies;
mod enums;
mod logic;
mod numbers;
mod objects;
mod one_of_overlap;
mod strings;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use serde_json::{Value, json};

use crate::domain::{Direction, Policy};
use crate::schema::walk::escape_token;

use super::language::PatternWork;
use super::model::{
    ArrayKind, Bound, Crit, Extra, Kind, Model, NodeId, NumberKind, ObjectKind, StringKind,
    Synthetic,
};
use super::report::{Change, CompatError, Exhausted, Place};
use super::rules::Rule;

/// The most pair comparisons one check may make, over all its walks (both directions,
/// every version compared, every fixed-point round).
pub const STEP_LIMIT: usize = 2_000_000;
/// The most bytes (estimated) of findings one walk may hold in its memo of compared
/// pairs.
pub const MEMORY_LIMIT: usize = 64 * 1024 * 1024;
/// How many of the differences found before a budget ran out the error lists.
const FOUND_LISTED: usize = 20;
/// What a memo entry costs besides its findings: the key, the map's slot, the `Rc`.
const ENTRY_BYTES: usize = 64;
/// The deepest nesting of pairs the walk follows.
pub const DEPTH_LIMIT: usize = 200;
const MAX_FIXPOINT_ROUNDS: usize = 32;

/// One difference, before it becomes a public [`super::Change`]: where it is in the
/// instance, and what it is (shared between every copy; written through `DerefMut`,
/// which copies it only if it is shared).
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// Relative to the pair being compared; prefixed on the way up.
    pub instance_path: String,
    body: Rc<Body>,
}

/// What a [`Finding`] says.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub rule: Rule,
    pub old_pointer: Option<String>,
    pub new_pointer: Option<String>,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub message: String,
    /// A local value (at `instance_path`) the old schema accepts and the new rejects.
    pub local_witness: Option<Value>,
}

impl Deref for Finding {
    type Target = Body;
    fn deref(&self) -> &Body {
        &self.body
    }
}

impl DerefMut for Finding {
    fn deref_mut(&mut self) -> &mut Body {
        Rc::make_mut(&mut self.body)
    }
}

impl Finding {
    /// The instance path and the content, copied only if still shared.
    pub(crate) fn into_parts(self) -> (String, Body) {
        (self.instance_path, Rc::unwrap_or_clone(self.body))
    }

    /// The bytes this copy adds: its own instance path, and its content when no other
    /// copy holds it yet.
    fn bytes(&self) -> usize {
        let own = std::mem::size_of::<Self>() + self.instance_path.capacity();
        if Rc::strong_count(&self.body) > 1 {
            return own;
        }
        let b = &*self.body;
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        let value = |v: &Option<Value>| v.as_ref().map_or(0, value_bytes);
        own + 16
            + std::mem::size_of::<Body>()
            + text(&b.old_pointer)
            + text(&b.new_pointer)
            + b.message.capacity()
            + value(&b.old)
            + value(&b.new)
            + value(&b.local_witness)
    }
}

/// The heap bytes a JSON value holds (an estimate).
fn value_bytes(v: &Value) -> usize {
    const SLOT: usize = std::mem::size_of::<Value>();
    match v {
        Value::String(s) => s.capacity(),
        Value::Array(items) => items.iter().map(|i| SLOT + value_bytes(i)).sum(),
        Value::Object(map) => map
            .iter()
            .map(|(k, i)| 2 * SLOT + k.capacity() + value_bytes(i))
            .sum(),
        _ => 0,
    }
}

type Findings = Rc<Vec<Finding>>;

/// The work one check may still do, counted across all its walks: pair comparisons,
/// and the work spent comparing patterns as languages.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Budget {
    steps: usize,
    patterns: PatternWork,
}

pub(crate) struct Differ<'m, 'd> {
    o: &'m Model<'d>,
    n: &'m Model<'d>,
    policy: Policy,
    memo: HashMap<(NodeId, NodeId), Findings>,
    /// The empty list of findings, shared by every pair that has none to report
    /// without being looked into (one allocation, not one per pair).
    nothing: Findings,
    active: HashSet<(NodeId, NodeId)>,
    assumed: HashSet<(NodeId, NodeId)>,
    known_bad: HashSet<(NodeId, NodeId)>,
    budget: Budget,
    depth: usize,
    regexes: HashMap<String, Option<regex::Regex>>,
    /// The pairs being compared, outermost first.
    stack: Vec<(NodeId, NodeId)>,
    /// Estimated bytes held by `memo` (and by the memos of the walks this one is
    /// nested in).
    held: usize,
    /// The first breaking differences found, for the error when a budget runs out.
    found: Vec<Finding>,
    /// The old schema object's object keywords beside a conditional, while its
    /// branches are compared in their light (see `logic.rs`): they hold for every old
    /// instance, so a new branch constraint they imply rejects none.
    context: Option<NodeId>,
    /// Whether this walk is the reverse of another (a `not`, or the other direction
    /// of a conditional): it does not label conditionals with the reverse verdict.
    reversing: bool,
}

/// Runs the walk from the roots of `old` and `new`, spending from `budget`.
pub(crate) fn run<'d>(
    old: &Model<'d>,
    new: &Model<'d>,
    policy: Policy,
    budget: &mut Budget,
) -> Result<Vec<Finding>, CompatError> {
    let mut d = Differ::new(old, new, policy, *budget, 0);
    let outcome = d.fixpoint();
    *budget = d.budget;
    outcome
}

impl<'m, 'd> Differ<'m, 'd> {
    fn new(
        o: &'m Model<'d>,
        n: &'m Model<'d>,
        policy: Policy,
        budget: Budget,
        held: usize,
    ) -> Self {
        Differ {
            o,
            n,
            policy,
            memo: HashMap::default(),
            nothing: Rc::new(Vec::new()),
            active: HashSet::default(),
            assumed: HashSet::default(),
            known_bad: HashSet::default(),
            budget,
            depth: 0,
            regexes: HashMap::default(),
            stack: Vec::new(),
            held,
            found: Vec::new(),
            context: None,
            reversing: false,
        }
    }

    fn fixpoint(&mut self) -> Result<Vec<Finding>, CompatError> {
        let (old, new) = (self.o, self.n);
        self.fixpoint_at(old.root, new.root)
    }

    /// [`Self::fixpoint`] from the pair `(o, n)`: a walk nested in another (the reverse
    /// of a `not` or of a conditional, a branch read in context) must correct its own
    /// cycle assumptions too, since the outer walk's rounds do not see them.
    fn fixpoint_at(&mut self, o: NodeId, n: NodeId) -> Result<Vec<Finding>, CompatError> {
        let d = self;
        let held = d.held;
        for _ in 0..MAX_FIXPOINT_ROUNDS {
            d.memo.clear();
            d.assumed.clear();
            d.held = held;
            let result = d.compare(o, n)?;
            let newly_bad: Vec<_> = d
                .assumed
                .iter()
                .filter(|p| !d.known_bad.contains(p) && d.memo.get(p).is_some_and(|r| !d.ok(r)))
                .copied()
                .collect();
            if newly_bad.is_empty() {
                return Ok(result.as_ref().clone());
            }
            d.known_bad.extend(newly_bad);
        }
        Err(d.exhausted(format!("{MAX_FIXPOINT_ROUNDS} rounds of recursion checks")))
    }

    /// The error for a budget that ran out: which, where the walk was, what it found.
    fn exhausted(&self, budget: String) -> CompatError {
        // The outermost pair of combinators with the most member pairs is where the
        // work went; otherwise the pair being compared.
        let members = |m: &Model, id: NodeId| match &m.node(id).kind {
            Kind::Combined { subs, .. } => subs.len(),
            _ => 1,
        };
        let at = self
            .stack
            .iter()
            .rev()
            .max_by_key(|(o, n)| members(self.o, *o) * members(self.n, *n))
            .map(|&(o, n)| Place {
                old_pointer: self.o.pointer(o),
                new_pointer: self.n.pointer(n),
                old: describe(&self.o.node(o).kind),
                new: describe(&self.n.node(n).kind),
            });
        let found = self
            .found
            .iter()
            .cloned()
            .map(|f| {
                let policy = self.policy;
                let (instance_path, b) = f.into_parts();
                Change {
                    rule: b.rule.id(),
                    breaks: b.rule.broken_directions(policy),
                    annotation: b.rule.is_annotation(),
                    old_pointer: b.old_pointer,
                    new_pointer: b.new_pointer,
                    instance_path,
                    old: b.old,
                    new: b.new,
                    message: b.message,
                    witness: None,
                    witnesses: None,
                    forward_hint: None,
                }
            })
            .collect();
        CompatError::Budget(Box::new(Exhausted {
            budget,
            pairs_compared: self.budget.steps,
            at,
            found,
        }))
    }

    /// Counts what a pair's result holds against the memory budget, and keeps its
    /// first breaking findings for the error.
    fn charge(&mut self, findings: &[Finding]) -> Result<(), CompatError> {
        self.held += ENTRY_BYTES + findings.iter().map(Finding::bytes).sum::<usize>();
        if self.found.len() < FOUND_LISTED {
            let room = FOUND_LISTED - self.found.len();
            let fresh = findings.iter().filter(|f| {
                Rc::strong_count(&f.body) == 1 && f.rule.breaks(Direction::Backward, self.policy)
            });
            self.found.extend(fresh.take(room).cloned());
        }
        if self.held > MEMORY_LIMIT {
            return Err(self.exhausted(format!("{} MiB of findings", MEMORY_LIMIT >> 20)));
        }
        Ok(())
    }
}

/// A value for people: large values are replaced by a short description.
pub(crate) fn short(v: &Value) -> Value {
    let text = v.to_string();
    if text.len() <= 200 {
        v.clone()
    } else {
        let head: String = text.chars().take(120).collect();
        Value::String(format!("{head}… ({} bytes)", text.len()))
    }
}

fn seg(name: &str) -> String {
    format!("/{}", escape_token(name))
}

fn kw(pointer: &str, keyword: &str) -> String {
    format!("{pointer}/{}", escape_token(keyword))
}

/// What stands in for a member an object or array does not name.
#[derive(Debug, Clone, Copy)]
enum Target {
    Any,
    Never,
    Node(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentModel {
    Open,
    Closed,
    Partial,
}

impl<'m, 'd> Differ<'m, 'd> {
    fn ok(&self, findings: &[Finding]) -> bool {
        findings
            .iter()
            .all(|f| !f.rule.breaks(Direction::Backward, self.policy))
    }

    fn compare(&mut self, o: NodeId, n: NodeId) -> Result<Findings, CompatError> {
        self.budget.steps += 1;
        if self.budget.steps > STEP_LIMIT {
            return Err(self.exhausted(format!("{STEP_LIMIT} steps")));
        }
        if let Some(r) = self.memo.get(&(o, n)) {
            return Ok(r.clone());
        }
        if self.o.same_as(o, self.n, n) {
            self.memo.insert((o, n), Rc::clone(&self.nothing));
            return Ok(Rc::clone(&self.nothing));
        }
        if self.active.contains(&(o, n)) {
            if self.known_bad.contains(&(o, n)) {
                let f = self.finding(
                    Rule::RecursiveSchemaChanged,
                    o,
                    n,
                    None,
                    None,
                    "a recursive schema changed incompatibly at a deeper nesting level".to_owned(),
                );
                return Ok(Rc::new(vec![f]));
            }
            self.assumed.insert((o, n));
            return Ok(Rc::new(Vec::new()));
        }
        if self.depth >= DEPTH_LIMIT {
            return Err(CompatError::TooDeep { limit: DEPTH_LIMIT });
        }
        self.depth += 1;
        self.active.insert((o, n));
        self.stack.push((o, n));
        let result = self.compare_nodes(o, n).and_then(|r| {
            self.charge(&r)?;
            Ok(r)
        });
        self.stack.pop();
        self.active.remove(&(o, n));
        self.depth -= 1;
        let result = Rc::new(result?);
        self.memo.insert((o, n), result.clone());
        Ok(result)
    }

    fn finding(
        &self,
        rule: Rule,
        o: NodeId,
        n: NodeId,
        okw: Option<&str>,
        nkw: Option<&str>,
        message: String,
    ) -> Finding {
        let at = |pointer: String, keyword: Option<&str>| match keyword {
            Some(k) => kw(&pointer, k),
            None => pointer,
        };
        Finding {
            instance_path: String::new(),
            body: Rc::new(Body {
                rule,
                old_pointer: Some(at(self.o.pointer(o), okw)),
                new_pointer: Some(at(self.n.pointer(n), nkw)),
                old: None,
                new: None,
                message,
                local_witness: None,
            }),
        }
    }

    fn compare_nodes(&mut self, o: NodeId, n: NodeId) -> Result<Vec<Finding>, CompatError> {
        let mut out = Vec::new();
        self.compare_annotations(o, n, &mut out);
        self.compare_unknown(o, n, &mut out);
        // Borrow the kinds from the models ('m), not from `self`, so the arms can call
        // `&mut self` methods without cloning them.
        let (om, nm): (&'m Model<'d>, &'m Model<'d>) = (self.o, self.n);
        let (ok, nk) = (&om.node(o).kind, &nm.node(n).kind);
        match (ok, nk) {
            (Kind::Never, _) => {}
            (Kind::Any, Kind::Any) => {}
            (_, Kind::Never) => out.push(self.finding(
                Rule::AcceptsNothing,
                o,
                n,
                None,
                None,
                "the schema now rejects every value".to_owned(),
            )),
            (_, Kind::Any) => out.push(self.finding(
                Rule::SchemaRemoved,
                o,
                n,
                None,
                None,
                "every constraint was removed: any value is accepted".to_owned(),
            )),
            (Kind::Any, _) => {
                let mut f = self.finding(
                    Rule::SchemaAdded,
                    o,
                    n,
                    None,
                    None,
                    "constraints were added where any value was accepted".to_owned(),
                );
                f.local_witness = example_of(self.o, o);
                out.push(f);
            }
            (Kind::Combined { .. }, _) | (_, Kind::Combined { .. }) => {
                self.compare_combined(o, n, &mut out)?
            }
            (Kind::Not(a), Kind::Not(b)) => self.compare_not(o, n, *a, *b, &mut out)?,
            (
                Kind::Conditional {
                    cond: oc,
                    then: ot,
                    els: oe,
                },
                Kind::Conditional {
                    cond: nc,
                    then: nt,
                    els: ne,
                },
            ) => self.compare_conditional(o, n, (*oc, *ot, *oe), (*nc, *nt, *ne), &mut out)?,
            (_, Kind::Conditional { then, els, .. }) => {
                self.compare_conditional_added(o, n, *then, *els, &mut out)?
            }
            (Kind::Conditional { then, els, .. }, _) => {
                self.compare_conditional_removed(o, n, *then, *els, &mut out)?
            }
            (
                Kind::Enum {
                    values: ov,
                    is_const: oc,
                },
                Kind::Enum {
                    values: nv,
                    is_const: nc,
                },
            ) => {
                self.compare_enum(o, n, ov, nv, *oc, *nc, &mut out);
            }
            (Kind::Object(a), Kind::Object(b)) => {
                self.compare_object(o, n, a, b, &mut out)?;
            }
            (Kind::Array(a), Kind::Array(b)) => {
                self.compare_array(o, n, a, b, &mut out)?;
            }
            (Kind::String(a), Kind::String(b)) => {
                self.compare_string(o, n, a, b, &mut out);
            }
            (Kind::Number(a), Kind::Number(b)) => {
                self.compare_number(o, n, a, b, &mut out);
            }
            (Kind::Boolean, Kind::Boolean) | (Kind::Null, Kind::Null) => {}
            _ => {
                let mut f = self.finding(
                    Rule::TypeChanged,
                    o,
                    n,
                    None,
                    None,
                    format!(
                        "the schema changed from {} to {}",
                        describe(ok),
                        describe(nk)
                    ),
                );
                f.old = Some(Value::String(describe(ok)));
                f.new = Some(Value::String(describe(nk)));
                f.local_witness = example_of(self.o, o);
                out.push(f);
            }
        }
        Ok(out)
    }

    fn compare_swapped(
        &mut self,
        new_side: NodeId,
        old_side: NodeId,
    ) -> Result<Vec<Finding>, CompatError> {
        let mut swapped = Differ::new(self.n, self.o, self.policy, self.budget, self.held);
        swapped.depth = self.depth;
        swapped.reversing = true;
        let r = swapped.fixpoint_at(new_side, old_side);
        self.budget = swapped.budget;
        // The swapped walk names the new schema "old": turn its error around.
        r.map_err(CompatError::turned_around)
    }

    fn sub(
        &mut self,
        o: NodeId,
        n: NodeId,
        path: &str,
        out: &mut Vec<Finding>,
    ) -> Result<bool, CompatError> {
        let r = self.compare(o, n)?;
        let ok = self.ok(&r);
        out.extend(r.iter().map(|f| Finding {
            instance_path: format!("{path}{}", f.instance_path),
            body: Rc::clone(&f.body),
        }));
        Ok(ok)
    }

    /// `then`/`else`-like optional subschemas: absent means "anything".
    #[expect(
        clippy::too_many_arguments,
        reason = "both nodes, both subschemas, keyword, path, output"
    )]
    fn compare_optional(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: Option<NodeId>,
        b: Option<NodeId>,
        key: &str,
        path: &str,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        match (a, b) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                self.sub(a, b, path, out)?;
            }
            (None, Some(b)) => {
                if !matches!(self.n.node(b).kind, Kind::Any) {
                    let mut f = self.finding(
                        Rule::SchemaAdded,
                        o,
                        n,
                        None,
                        Some(key),
                        format!("`{key}` was added"),
                    );
                    f.instance_path = path.to_owned();
                    f.old_pointer = None;
                    out.push(f);
                }
            }
            (Some(a), None) => {
                if !matches!(self.o.node(a).kind, Kind::Any) {
                    let mut f = self.finding(
                        Rule::SchemaRemoved,
                        o,
                        n,
                        Some(key),
                        None,
                        format!("`{key}` was removed"),
                    );
                    f.instance_path = path.to_owned();
                    f.new_pointer = None;
                    out.push(f);
                }
            }
        }
        Ok(())
    }

    fn compare_targets(
        &mut self,
        a: Target,
        b: Target,
        path: &str,
        anchor: (NodeId, NodeId),
        out: &mut Vec<Finding>,
    ) -> Result<bool, CompatError> {
        let (o, n) = anchor;
        match (a, b) {
            (Target::Never, _) | (_, Target::Any) => Ok(true),
            (Target::Node(a), Target::Node(b)) => self.sub(a, b, path, out),
            (Target::Any, Target::Node(b)) => {
                if matches!(self.n.node(b).kind, Kind::Any) {
                    return Ok(true);
                }
                let mut f = self.finding(
                    Rule::SchemaAdded,
                    o,
                    b,
                    None,
                    None,
                    "values were unconstrained here and now must match a schema".to_owned(),
                );
                f.old_pointer = Some(self.o.pointer(o));
                f.new_pointer = Some(self.n.pointer(b));
                f.instance_path = path.to_owned();
                out.push(f);
                Ok(false)
            }
            (Target::Node(a), Target::Never) => {
                if matches!(self.o.node(a).kind, Kind::Never) {
                    return Ok(true);
                }
                let mut f = self.finding(
                    Rule::AcceptsNothing,
                    a,
                    n,
                    None,
                    None,
                    "values accepted here before are now forbidden".to_owned(),
                );
                f.instance_path = path.to_owned();
                f.new_pointer = Some(self.n.pointer(n));
                out.push(f);
                Ok(false)
            }
            (Target::Any, Target::Never) => {
                let mut f = self.finding(
                    Rule::AcceptsNothing,
                    o,
                    n,
                    None,
                    None,
                    "values accepted here before are now forbidden".to_owned(),
                );
                f.instance_path = path.to_owned();
                out.push(f);
                Ok(false)
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "both nodes, both flags, type name, witness, output"
    )]
    fn compare_typed(
        &self,
        o: NodeId,
        n: NodeId,
        a: bool,
        b: bool,
        ty: &str,
        witness: Value,
        out: &mut Vec<Finding>,
    ) {
        match (a, b) {
            (false, true) => {
                let mut f = self.finding(
                    Rule::TypeNarrowed,
                    o,
                    n,
                    None,
                    Some("type"),
                    format!("`type: {ty}` was declared: other kinds of values are now rejected"),
                );
                f.old_pointer = None;
                f.new = Some(Value::String(ty.to_owned()));
                f.local_witness = Some(witness);
                out.push(f);
            }
            (true, false) => {
                let mut f = self.finding(
                    Rule::TypeWidened,
                    o,
                    n,
                    Some("type"),
                    None,
                    format!("`type: {ty}` was dropped: other kinds of values are now accepted"),
                );
                f.new_pointer = None;
                f.old = Some(Value::String(ty.to_owned()));
                out.push(f);
            }
            _ => {}
        }
    }
}

fn same_kind(a: &Kind, b: &Kind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// A short phrase for a kind: "a string", "an object", "one of 3 schemas".
pub(crate) fn describe(k: &Kind) -> String {
    match k {
        Kind::Any => "any value".to_owned(),
        Kind::Never => "no value".to_owned(),
        Kind::Object(_) => "an object".to_owned(),
        Kind::Array(_) => "an array".to_owned(),
        Kind::String(_) => "a string".to_owned(),
        Kind::Number(n) if n.integer => "an integer".to_owned(),
        Kind::Number(_) => "a number".to_owned(),
        Kind::Boolean => "a boolean".to_owned(),
        Kind::Null => "null".to_owned(),
        Kind::Enum { is_const: true, .. } => "a constant".to_owned(),
        Kind::Enum { values, .. } => format!("one of {} listed values", values.len()),
        Kind::Not(_) => "a `not` schema".to_owned(),
        Kind::Combined {
            subs,
            synthetic: Synthetic::Types,
            ..
        } => {
            format!("one of {} types", subs.len())
        }
        Kind::Combined { crit, subs, .. } => {
            format!("`{}` of {} schemas", crit.keyword(), subs.len())
        }
        Kind::Conditional { .. } => "a conditional schema".to_owned(),
    }
}

/// A marker telling the witness builder to construct a value of the old node's kind.
fn example_of(model: &Model, id: NodeId) -> Option<Value> {
    match &model.node(id).kind {
        Kind::Null => Some(Value::Null),
        Kind::Boolean => Some(json!(true)),
        Kind::Enum { values, .. } => values.first().cloned(),
        Kind::String(_) | Kind::Number(_) | Kind::Object(_) | Kind::Array(_) => {
            Some(json!({ "$example": "old" }))
        }
        _ => None,
    }
}
