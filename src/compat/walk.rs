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
//! comparison per member pair. Work and depth are bounded.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use bigdecimal::{BigDecimal, Zero};
use serde_json::{Value, json};

use crate::domain::{Direction, Policy};
use crate::schema::walk::escape_token;

use super::CompatError;
use super::model::{
    ArrayKind, Bound, Crit, Extra, Kind, Model, NodeId, NumberKind, ObjectKind, StringKind,
    Synthetic,
};
use super::rules::Rule;

/// The most pair comparisons one diff may make.
pub const STEP_LIMIT: usize = 2_000_000;
/// The deepest nesting of pairs the walk follows.
pub const DEPTH_LIMIT: usize = 200;
const MAX_FIXPOINT_ROUNDS: usize = 32;

/// One difference, before it becomes a public [`super::Change`].
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub rule: Rule,
    pub old_pointer: Option<String>,
    pub new_pointer: Option<String>,
    /// Relative to the pair being compared; prefixed on the way up.
    pub instance_path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub message: String,
    /// A local value (at `instance_path`) the old schema accepts and the new rejects.
    pub local_witness: Option<Value>,
}

type Findings = Rc<Vec<Finding>>;

pub(crate) struct Differ<'m> {
    o: &'m Model<'m>,
    n: &'m Model<'m>,
    policy: Policy,
    memo: HashMap<(NodeId, NodeId), Findings>,
    active: HashSet<(NodeId, NodeId)>,
    assumed: HashSet<(NodeId, NodeId)>,
    known_bad: HashSet<(NodeId, NodeId)>,
    steps: usize,
    depth: usize,
    regexes: HashMap<String, Option<regex::Regex>>,
}

/// Runs the walk from the roots of `old` and `new`.
pub(crate) fn run(old: &Model, new: &Model, policy: Policy) -> Result<Vec<Finding>, CompatError> {
    let mut d = Differ {
        o: old,
        n: new,
        policy,
        memo: HashMap::default(),
        active: HashSet::default(),
        assumed: HashSet::default(),
        known_bad: HashSet::default(),
        steps: 0,
        depth: 0,
        regexes: HashMap::default(),
    };
    for _ in 0..MAX_FIXPOINT_ROUNDS {
        d.memo.clear();
        d.assumed.clear();
        let result = d.compare(old.root, new.root)?;
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
    Err(CompatError::Budget { limit: STEP_LIMIT })
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

impl<'m> Differ<'m> {
    fn ok(&self, findings: &[Finding]) -> bool {
        findings
            .iter()
            .all(|f| !f.rule.breaks(Direction::Backward, self.policy))
    }

    fn compare(&mut self, o: NodeId, n: NodeId) -> Result<Findings, CompatError> {
        self.steps += 1;
        if self.steps > STEP_LIMIT {
            return Err(CompatError::Budget { limit: STEP_LIMIT });
        }
        if let Some(r) = self.memo.get(&(o, n)) {
            return Ok(r.clone());
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
        let result = self.compare_nodes(o, n);
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
        let op = &self.o.node(o).pointer;
        let np = &self.n.node(n).pointer;
        Finding {
            rule,
            old_pointer: Some(okw.map_or_else(|| op.clone(), |k| kw(op, k))),
            new_pointer: Some(nkw.map_or_else(|| np.clone(), |k| kw(np, k))),
            instance_path: String::new(),
            old: None,
            new: None,
            message,
            local_witness: None,
        }
    }

    fn compare_nodes(&mut self, o: NodeId, n: NodeId) -> Result<Vec<Finding>, CompatError> {
        let mut out = Vec::new();
        self.compare_annotations(o, n, &mut out);
        self.compare_unknown(o, n, &mut out);
        // Borrow the kinds from the models ('m), not from `self`, so the arms can call
        // `&mut self` methods without cloning them.
        let (om, nm): (&'m Model<'m>, &'m Model<'m>) = (self.o, self.n);
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
            (Kind::Not(a), Kind::Not(b)) => {
                let (a, b) = (*a, *b);
                // `not` reverses the direction: the new excluded set must lie inside the old one.
                let inner = self.compare_swapped(b, a)?;
                if self.ok(&inner) {
                    out.push(self.finding(
                        Rule::NotNarrowed,
                        o,
                        n,
                        Some("not"),
                        Some("not"),
                        "the `not` schema excludes fewer values".to_owned(),
                    ));
                } else {
                    out.push(self.finding(
                        Rule::NotWidened,
                        o,
                        n,
                        Some("not"),
                        Some("not"),
                        "the `not` schema excludes more values".to_owned(),
                    ));
                }
            }
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
            ) => {
                let (oc, ot, oe, nc, nt, ne) = (*oc, *ot, *oe, *nc, *nt, *ne);
                if self.o.identity(oc) != self.n.identity(nc) {
                    out.push(self.finding(
                        Rule::ConditionalChanged,
                        o,
                        n,
                        Some("if"),
                        Some("if"),
                        "the `if` condition changed".to_owned(),
                    ));
                } else {
                    self.compare_optional(o, n, ot, nt, "then", "", &mut out)?;
                    self.compare_optional(o, n, oe, ne, "else", "", &mut out)?;
                }
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

    /// Compares with the roles of the models swapped (for `not`).
    fn compare_swapped(
        &mut self,
        new_side: NodeId,
        old_side: NodeId,
    ) -> Result<Vec<Finding>, CompatError> {
        let mut swapped = Differ {
            o: self.n,
            n: self.o,
            policy: self.policy,
            memo: HashMap::default(),
            active: HashSet::default(),
            assumed: HashSet::default(),
            known_bad: HashSet::default(),
            steps: self.steps,
            depth: self.depth,
            regexes: HashMap::default(),
        };
        let r = swapped.compare(new_side, old_side)?;
        self.steps = swapped.steps;
        Ok(r.as_ref().clone())
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
        out.extend(r.iter().cloned().map(|mut f| {
            f.instance_path = format!("{path}{}", f.instance_path);
            f
        }));
        Ok(ok)
    }

    fn compare_annotations(&self, o: NodeId, n: NodeId, out: &mut Vec<Finding>) {
        let (oa, na) = (&self.o.node(o).annotations, &self.n.node(n).annotations);
        let keys: BTreeSet<&String> = oa.keys().chain(na.keys()).collect();
        for key in keys {
            let (ov, nv) = (oa.get(key), na.get(key));
            if ov == nv {
                continue;
            }
            let rule = match key.as_str() {
                "$id" => Rule::IdChanged,
                "title" => Rule::TitleChanged,
                "description" => Rule::DescriptionChanged,
                "default" => Rule::DefaultChanged,
                "additionalItems" => Rule::IgnoredKeywordChanged,
                _ => Rule::AnnotationChanged,
            };
            let message = if rule == Rule::IgnoredKeywordChanged {
                format!("`{key}` changed where validators ignore it; no value's validity changes")
            } else {
                format!("`{key}` changed")
            };
            let mut f = self.finding(rule, o, n, Some(key), Some(key), message);
            f.old_pointer = ov.and(f.old_pointer);
            f.new_pointer = nv.and(f.new_pointer);
            f.old = ov.map(short);
            f.new = nv.map(short);
            out.push(f);
        }
    }

    fn compare_unknown(&self, o: NodeId, n: NodeId, out: &mut Vec<Finding>) {
        let (ou, nu) = (&self.o.node(o).unknown, &self.n.node(n).unknown);
        let keys: BTreeSet<&String> = ou.keys().chain(nu.keys()).collect();
        for key in keys {
            let (ov, nv) = (ou.get(key), nu.get(key));
            if ov == nv {
                continue;
            }
            let mut f = self.finding(
                Rule::UnknownKeywordChanged,
                o,
                n,
                Some(key),
                Some(key),
                format!("the keyword `{key}` is not understood by Accord and changed; assuming it breaks both directions"),
            );
            f.old_pointer = ov.and(f.old_pointer);
            f.new_pointer = nv.and(f.new_pointer);
            f.old = ov.map(short);
            f.new = nv.map(short);
            out.push(f);
        }
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
                f.old_pointer = Some(self.o.node(o).pointer.clone());
                f.new_pointer = Some(self.n.node(b).pointer.clone());
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
                f.new_pointer = Some(self.n.node(n).pointer.clone());
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

    // ----- combinators -------------------------------------------------------------

    fn compare_combined(
        &mut self,
        o: NodeId,
        n: NodeId,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let ok = self.o.node(o).kind.clone();
        let nk = self.n.node(n).kind.clone();
        match (ok, nk) {
            (
                Kind::Combined {
                    crit: oc,
                    subs: os,
                    synthetic: osyn,
                },
                Kind::Combined {
                    crit: nc,
                    subs: ns,
                    synthetic: nsyn,
                },
            ) => self.compare_both_combined(o, n, (oc, &os, osyn), (nc, &ns, nsyn), out),
            (
                _,
                Kind::Combined {
                    crit,
                    subs,
                    synthetic,
                },
            ) => {
                // Old is plain, new is a combinator.
                if subs.len() == 1 {
                    let r = self.compare(o, subs[0])?;
                    if self.ok(&r) {
                        out.extend(r.iter().cloned());
                        return Ok(());
                    }
                }
                match crit {
                    Crit::AnyOf | Crit::OneOf => {
                        let mut best: Option<(usize, Findings)> = None;
                        for (i, &m) in subs.iter().enumerate() {
                            let r = self.compare(o, m)?;
                            if self.ok(&r) {
                                best = Some((i, r));
                                break;
                            }
                        }
                        match best {
                            Some((i, r)) => {
                                out.extend(r.iter().cloned());
                                let rule = if synthetic == Synthetic::Types {
                                    Rule::TypeWidened
                                } else {
                                    Rule::AnyOfMemberAdded
                                };
                                let message = if synthetic == Synthetic::Types {
                                    "more types are accepted".to_owned()
                                } else {
                                    format!(
                                        "the schema became one alternative of a `{}`",
                                        crit.keyword()
                                    )
                                };
                                out.push(self.finding(rule, o, n, None, None, message));
                                if crit == Crit::OneOf {
                                    let old_types = type_set(self.o, o, 0);
                                    for (j, &m) in subs.iter().enumerate() {
                                        if j != i && overlaps(self.n, m, self.o, o, old_types) {
                                            out.push(self.overlap_finding(o, n, j));
                                        }
                                    }
                                }
                            }
                            None => self.union_mismatch(o, n, crit, synthetic, &subs, out)?,
                        }
                        Ok(())
                    }
                    Crit::AllOf => {
                        // Old must satisfy every member.
                        let mut all = Vec::new();
                        for &m in &subs {
                            let r = self.compare(o, m)?;
                            if self.ok(&r) {
                                all.extend(r.iter().cloned());
                            } else {
                                if same_kind(&self.o.node(o).kind, &self.n.node(m).kind) {
                                    all.extend(r.iter().cloned());
                                } else {
                                    let mut f = self.finding(
                                        Rule::AllOfMemberAdded,
                                        o,
                                        m,
                                        None,
                                        None,
                                        format!(
                                            "a restriction was added: {}",
                                            describe(&self.n.node(m).kind)
                                        ),
                                    );
                                    f.new = Some(Value::String(describe(&self.n.node(m).kind)));
                                    all.push(f);
                                }
                            }
                        }
                        out.extend(all);
                        Ok(())
                    }
                }
            }
            (
                Kind::Combined {
                    crit,
                    subs,
                    synthetic,
                },
                _,
            ) => {
                // Old is a combinator, new is plain.
                if subs.len() == 1 {
                    let r = self.compare(subs[0], n)?;
                    if self.ok(&r) {
                        out.extend(r.iter().cloned());
                        return Ok(());
                    }
                }
                match crit {
                    Crit::AllOf => {
                        for &m in &subs {
                            let r = self.compare(m, n)?;
                            if self.ok(&r) {
                                out.extend(r.iter().cloned());
                                let message = if synthetic == Synthetic::No {
                                    "`allOf` members were dropped".to_owned()
                                } else {
                                    "a restriction was dropped".to_owned()
                                };
                                out.push(self.finding(
                                    Rule::AllOfMemberRemoved,
                                    o,
                                    n,
                                    None,
                                    None,
                                    message,
                                ));
                                return Ok(());
                            }
                        }
                        let f = self.type_changed(o, n);
                        out.push(f);
                        Ok(())
                    }
                    Crit::AnyOf | Crit::OneOf => {
                        // Every old alternative must fit the new schema.
                        for &m in &subs {
                            let r = self.compare(m, n)?;
                            if self.ok(&r) {
                                out.extend(r.iter().cloned());
                            } else {
                                if synthetic == Synthetic::Types {
                                    let mut f = self.finding(
                                        Rule::TypeNarrowed,
                                        o,
                                        n,
                                        Some("type"),
                                        Some("type"),
                                        format!(
                                            "{} is no longer accepted",
                                            describe(&self.o.node(m).kind)
                                        ),
                                    );
                                    f.old = Some(Value::String(describe(&self.o.node(m).kind)));
                                    f.local_witness = example_of(self.o, m);
                                    out.push(f);
                                } else {
                                    let mut f = self.finding(
                                        Rule::AnyOfMemberRemoved,
                                        m,
                                        n,
                                        None,
                                        None,
                                        format!(
                                            "the `{}` alternative {} is no longer accepted",
                                            crit.keyword(),
                                            describe(&self.o.node(m).kind)
                                        ),
                                    );
                                    f.local_witness = example_of(self.o, m);
                                    out.push(f);
                                }
                            }
                        }
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    fn type_changed(&self, o: NodeId, n: NodeId) -> Finding {
        let (ok, nk) = (&self.o.node(o).kind, &self.n.node(n).kind);
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
        f
    }

    fn union_mismatch(
        &mut self,
        o: NodeId,
        n: NodeId,
        crit: Crit,
        synthetic: Synthetic,
        subs: &[NodeId],
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        // Report the differences against the member of the same kind, if there is one,
        // so the reader sees "maxLength decreased" rather than "type changed".
        let ok = self.o.node(o).kind.clone();
        if let Some(&m) = subs.iter().find(|&&m| same_kind(&ok, &self.n.node(m).kind)) {
            let r = self.compare(o, m)?;
            out.extend(r.iter().cloned());
            return Ok(());
        }
        if synthetic == Synthetic::Types {
            let mut f = self.type_changed(o, n);
            f.rule = Rule::TypeChanged;
            out.push(f);
        } else {
            let mut f = self.finding(
                Rule::CombinatorMembersChanged,
                o,
                n,
                None,
                None,
                format!(
                    "no `{}` alternative accepts everything the old schema accepted",
                    crit.keyword()
                ),
            );
            f.local_witness = example_of(self.o, o);
            out.push(f);
        }
        Ok(())
    }

    fn overlap_finding(&self, o: NodeId, n: NodeId, member: usize) -> Finding {
        let mut f = self.finding(
            Rule::OneOfMembersOverlap,
            o,
            n,
            None,
            None,
            format!("`oneOf` member {member} may also match values of another member, which `oneOf` then rejects"),
        );
        f.new_pointer = Some(format!("{}/oneOf/{member}", self.n.node(n).pointer));
        f
    }

    fn compare_both_combined(
        &mut self,
        o: NodeId,
        n: NodeId,
        (oc, os, osyn): (Crit, &[NodeId], Synthetic),
        (nc, ns, nsyn): (Crit, &[NodeId], Synthetic),
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let os = self.dedupe_old(os);
        // Identical members collapse, except in a new `oneOf`: there a duplicate makes
        // every value it accepts match twice, which the overlap check must see.
        let ns = if nc == Crit::OneOf {
            ns.to_vec()
        } else {
            self.dedupe_new(ns)
        };
        if oc != nc {
            let widened = nc == Crit::AnyOf
                || (os.len() == 1 && ns.len() == 1)
                || (os.len() == 1 && nc == Crit::OneOf)
                || (ns.len() == 1 && oc == Crit::AllOf);
            if widened {
                out.push(self.finding(
                    Rule::CombinatorWidened,
                    o,
                    n,
                    None,
                    None,
                    format!("`{}` became `{}`", oc.keyword(), nc.keyword()),
                ));
            } else {
                let mut f = self.finding(
                    Rule::CombinatorChanged,
                    o,
                    n,
                    None,
                    None,
                    format!("`{}` became `{}`", oc.keyword(), nc.keyword()),
                );
                f.old = Some(Value::String(oc.keyword().to_owned()));
                f.new = Some(Value::String(nc.keyword().to_owned()));
                out.push(f);
                return Ok(());
            }
        }
        let types = osyn == Synthetic::Types && nsyn == Synthetic::Types;
        if ns.len() > os.len() {
            let (rule, message) = match (nc, types) {
                (Crit::AllOf, _) => (
                    Rule::AllOfMemberAdded,
                    "a restriction was added to `allOf`".to_owned(),
                ),
                (_, true) => (Rule::TypeWidened, "more types are accepted".to_owned()),
                _ => (
                    Rule::AnyOfMemberAdded,
                    format!("an alternative was added to `{}`", nc.keyword()),
                ),
            };
            out.push(self.finding(rule, o, n, None, None, message));
        } else if ns.len() < os.len() {
            let (rule, message) = match (oc, types) {
                (Crit::AllOf, _) => (
                    Rule::AllOfMemberRemoved,
                    "a restriction was removed from `allOf`".to_owned(),
                ),
                (_, true) => (Rule::TypeNarrowed, "fewer types are accepted".to_owned()),
                _ => (
                    Rule::AnyOfMemberRemoved,
                    format!("an alternative was removed from `{}`", oc.keyword()),
                ),
            };
            out.push(self.finding(rule, o, n, None, None, message));
        }
        // Every old member against every new member; compatible pairs are edges.
        let mut results: HashMap<(usize, usize), Findings> = HashMap::default();
        let mut edges = vec![Vec::new(); os.len()];
        for (i, &a) in os.iter().enumerate() {
            for (j, &b) in ns.iter().enumerate() {
                let r = self.compare(a, b)?;
                if self.ok(&r) {
                    edges[i].push(j);
                }
                results.insert((i, j), r);
            }
        }
        let matching = max_matching(&edges, ns.len());
        let matched: Vec<(usize, usize)> = matching
            .iter()
            .enumerate()
            .filter_map(|(j, m)| m.map(|i| (i, j)))
            .collect();
        for &(i, j) in &matched {
            out.extend(results[&(i, j)].iter().cloned());
        }
        if matched.len() < os.len().min(ns.len()) {
            // Explain with the unmatched old members' best counterparts of the same kind.
            let matched_old: HashSet<usize> = matched.iter().map(|p| p.0).collect();
            let matched_new: HashSet<usize> = matched.iter().map(|p| p.1).collect();
            let mut explained = false;
            for (i, &a) in os
                .iter()
                .enumerate()
                .filter(|(i, _)| !matched_old.contains(i))
            {
                if let Some((j, _)) = ns.iter().enumerate().find(|(j, b)| {
                    !matched_new.contains(j)
                        && same_kind(&self.o.node(a).kind, &self.n.node(**b).kind)
                }) {
                    out.extend(results[&(i, j)].iter().cloned());
                    explained = true;
                }
            }
            // A synthetic combinator (keywords of several kinds in one schema object) is
            // fully explained by the differences of its same-kind parts.
            let synthetic = osyn != Synthetic::No && nsyn != Synthetic::No;
            if !(explained && synthetic) {
                let mut f = self.finding(
                    Rule::CombinatorMembersChanged,
                    o,
                    n,
                    None,
                    None,
                    format!(
                        "the `{}` members cannot be matched old to new without breaking",
                        nc.keyword()
                    ),
                );
                if !explained {
                    f.local_witness = example_of(self.o, o);
                }
                out.push(f);
            }
        }
        if nc == Crit::OneOf {
            // A new or changed member that may overlap another makes `oneOf` reject values
            // that matched exactly one member before.
            let changed: Vec<usize> = (0..ns.len())
                .filter(|j| match matching[*j] {
                    None => true,
                    // A member changed when its text did, even if no finding says so
                    // (`false` → anything gives none, yet may now overlap).
                    Some(i) => self.o.identity(os[i]) != self.n.identity(ns[*j]),
                })
                .collect();
            for &j in &changed {
                for k in 0..ns.len() {
                    if k != j && overlaps(self.n, ns[j], self.n, ns[k], u8::MAX) {
                        out.push(self.overlap_finding(o, n, j));
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn dedupe_old(&self, subs: &[NodeId]) -> Vec<NodeId> {
        dedupe(self.o, subs)
    }

    fn dedupe_new(&self, subs: &[NodeId]) -> Vec<NodeId> {
        dedupe(self.n, subs)
    }

    // ----- enumerations ------------------------------------------------------------

    #[expect(clippy::too_many_arguments, reason = "both sides of an enumeration")]
    fn compare_enum(
        &self,
        o: NodeId,
        n: NodeId,
        ov: &[Value],
        nv: &[Value],
        oc: bool,
        nc: bool,
        out: &mut Vec<Finding>,
    ) {
        let key = |v: &Value| crate::schema::canonical_text(v, crate::schema::Draft::Draft7);
        let oset: HashSet<String> = ov.iter().map(key).collect();
        let nset: HashSet<String> = nv.iter().map(key).collect();
        let (okw, nkw) = (
            if oc { "const" } else { "enum" },
            if nc { "const" } else { "enum" },
        );
        if oc && nc {
            if oset != nset {
                let mut f = self.finding(
                    Rule::ConstChanged,
                    o,
                    n,
                    Some(okw),
                    Some(nkw),
                    format!("`const` changed from {} to {}", ov[0], nv[0]),
                );
                f.old = Some(short(&ov[0]));
                f.new = Some(short(&nv[0]));
                f.local_witness = Some(ov[0].clone());
                out.push(f);
            }
            return;
        }
        for v in ov.iter().filter(|v| !nset.contains(&key(v))) {
            let mut f = self.finding(
                Rule::EnumValueRemoved,
                o,
                n,
                Some(okw),
                Some(nkw),
                format!("the value {} is no longer allowed", short(v)),
            );
            f.old = Some(short(v));
            f.local_witness = Some(v.clone());
            out.push(f);
        }
        for v in nv.iter().filter(|v| !oset.contains(&key(v))) {
            let mut f = self.finding(
                Rule::EnumValueAdded,
                o,
                n,
                Some(okw),
                Some(nkw),
                format!("the value {} is now allowed", short(v)),
            );
            f.new = Some(short(v));
            out.push(f);
        }
    }

    // ----- objects -----------------------------------------------------------------

    fn compare_object(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: &ObjectKind,
        b: &ObjectKind,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        self.compare_typed(
            o,
            n,
            a.typed,
            b.typed,
            "object",
            json!("not an object"),
            out,
        );
        let policy_default = |model: &Model, id: Option<NodeId>| {
            id.is_some_and(|id| model.node(id).annotations.contains_key("default"))
        };

        // required, for names that are not new properties (those are judged below).
        for name in b.required.difference(&a.required) {
            let is_new_property = b.property(name).is_some() && a.property(name).is_none();
            if is_new_property {
                continue;
            }
            let has_default = policy_default(self.n, b.property(name));
            let rule = if has_default {
                Rule::RequiredPropertyWithDefaultAdded
            } else {
                Rule::RequiredPropertyAdded
            };
            let mut f = self.finding(
                rule,
                o,
                n,
                None,
                Some("required"),
                format!("`{name}` is now required"),
            );
            f.old_pointer = a
                .property(name)
                .map(|p| self.o.node(p).pointer.clone())
                .or(f.old_pointer);
            f.instance_path = seg(name);
            f.new = Some(Value::String(name.clone()));
            f.local_witness = Some(json!("<absent>"));
            out.push(f);
        }
        for name in a.required.difference(&b.required) {
            let mut f = self.finding(
                Rule::RequiredPropertyRemoved,
                o,
                n,
                Some("required"),
                None,
                format!("`{name}` is no longer required"),
            );
            f.new_pointer = Some(self.n.node(n).pointer.clone());
            f.instance_path = seg(name);
            f.old = Some(Value::String(name.clone()));
            out.push(f);
        }

        // properties on both sides, then added and removed ones by content model.
        for (name, ap) in &a.properties {
            if let Some(bp) = b.property(name) {
                self.sub(*ap, bp, &seg(name), out)?;
            }
        }
        let old_model = content_model(a);
        for (name, bp) in &b.properties {
            if a.property(name).is_some() {
                continue;
            }
            let bp = *bp;
            let path = seg(name);
            let required = b.required.contains(name);
            let has_default = self.n.node(bp).annotations.contains_key("default");
            let empty = matches!(self.n.node(bp).kind, Kind::Any);
            let push = |this: &Self, rule: Rule, message: String, out: &mut Vec<Finding>| {
                let mut f = this.finding(rule, o, bp, None, None, message);
                f.old_pointer = None;
                f.instance_path = path.clone();
                f.new = Some(Value::String(name.clone()));
                out.push(f);
            };
            match old_model {
                ContentModel::Open => {
                    let (rule, what) = if required && has_default {
                        (
                            Rule::RequiredPropertyWithDefaultAddedToOpenModel,
                            "a required property with a default",
                        )
                    } else if required {
                        (
                            Rule::RequiredPropertyAddedToOpenModel,
                            "a required property",
                        )
                    } else if empty {
                        (
                            Rule::PropertyWithEmptySchemaAddedToOpenModel,
                            "a property accepting anything",
                        )
                    } else {
                        (Rule::PropertyAddedToOpenModel, "a property")
                    };
                    push(
                        self,
                        rule,
                        format!("`{name}` was added as {what} to an open object"),
                        out,
                    );
                }
                ContentModel::Closed | ContentModel::Partial => {
                    if old_model == ContentModel::Partial {
                        let fallback = self.fallback(a, name);
                        let mut sub = Vec::new();
                        let covered = self.compare_targets(
                            fallback,
                            Target::Node(bp),
                            &path,
                            (o, n),
                            &mut sub,
                        )?;
                        out.extend(sub);
                        if covered {
                            push(
                                self,
                                Rule::PropertyAddedCoveredByPartialModel,
                                format!(
                                    "`{name}` was added; its schema accepts what the old catch-all accepted"
                                ),
                                out,
                            );
                        } else {
                            push(
                                self,
                                Rule::PropertyAddedNotCoveredByPartialModel,
                                format!(
                                    "`{name}` was added; its schema rejects values the old catch-all accepted"
                                ),
                                out,
                            );
                        }
                    }
                    let (rule, what) = if required && has_default {
                        (
                            Rule::RequiredPropertyWithDefaultAddedToClosedModel,
                            "a required property with a default",
                        )
                    } else if required {
                        (
                            Rule::RequiredPropertyAddedToClosedModel,
                            "a required property",
                        )
                    } else {
                        (Rule::PropertyAddedToClosedModel, "an optional property")
                    };
                    push(self, rule, format!("`{name}` was added as {what}"), out);
                }
            }
        }
        let new_model = content_model(b);
        for (name, ap) in &a.properties {
            if b.property(name).is_some() {
                continue;
            }
            let ap = *ap;
            let path = seg(name);
            let push = |this: &Self, rule: Rule, message: String, out: &mut Vec<Finding>| {
                let mut f = this.finding(rule, ap, n, None, None, message);
                f.new_pointer = None;
                f.instance_path = path.clone();
                f.old = Some(Value::String(name.clone()));
                out.push(f);
            };
            match new_model {
                ContentModel::Open => push(
                    self,
                    Rule::PropertyRemovedFromOpenModel,
                    format!("`{name}` was removed; any value is now accepted under that name"),
                    out,
                ),
                ContentModel::Partial => {
                    let fallback = self.fallback(b, name);
                    let mut sub = Vec::new();
                    let covered =
                        self.compare_targets(Target::Node(ap), fallback, &path, (o, n), &mut sub)?;
                    out.extend(sub);
                    if covered {
                        push(
                            self,
                            Rule::PropertyRemovedCoveredByPartialModel,
                            format!(
                                "`{name}` was removed; the new catch-all still accepts its values"
                            ),
                            out,
                        );
                    } else {
                        push(
                            self,
                            Rule::PropertyRemovedNotCoveredByPartialModel,
                            format!(
                                "`{name}` was removed; the new catch-all rejects its old values"
                            ),
                            out,
                        );
                    }
                }
                ContentModel::Closed => {
                    if matches!(self.o.node(ap).kind, Kind::Never) {
                        push(
                            self,
                            Rule::PropertyWithFalseRemovedFromClosedModel,
                            format!("`{name}` (declared false) was removed; it stays forbidden"),
                            out,
                        );
                    } else {
                        let before = out.len();
                        push(
                            self,
                            Rule::PropertyRemovedFromClosedModel,
                            format!(
                                "`{name}` was removed from a closed object; old data holding it is rejected"
                            ),
                            out,
                        );
                        if let Some(f) = out.get_mut(before) {
                            f.local_witness = Some(json!({ "$example": "old" }));
                        }
                    }
                }
            }
        }

        // dependencies
        for (key, aset) in &a.dependent_required {
            match b.dependent_required.get(key) {
                None => {
                    let mut f = self.finding(
                        Rule::DependencyRemoved,
                        o,
                        n,
                        Some("dependentRequired"),
                        None,
                        format!("`{key}` no longer requires {aset:?}"),
                    );
                    f.new_pointer = None;
                    out.push(f);
                }
                Some(bset) if bset == aset => {}
                Some(bset) => {
                    let rule = if bset.is_superset(aset) {
                        Rule::DependencyExtended
                    } else if bset.is_subset(aset) {
                        Rule::DependencyNarrowed
                    } else {
                        Rule::DependencyChanged
                    };
                    let mut f = self.finding(
                        rule,
                        o,
                        n,
                        Some("dependentRequired"),
                        Some("dependentRequired"),
                        format!("`{key}` now requires {bset:?} instead of {aset:?}"),
                    );
                    f.old = Some(json!(aset));
                    f.new = Some(json!(bset));
                    out.push(f);
                }
            }
        }
        for (key, bset) in &b.dependent_required {
            if !a.dependent_required.contains_key(key) {
                let mut f = self.finding(
                    Rule::DependencyAdded,
                    o,
                    n,
                    None,
                    Some("dependentRequired"),
                    format!("`{key}` now requires {bset:?}"),
                );
                f.old_pointer = None;
                f.new = Some(json!(bset));
                out.push(f);
            }
        }
        for (key, asch) in &a.dependent_schemas {
            match b.dependent_schemas.get(key) {
                Some(bsch) => {
                    self.sub(*asch, *bsch, "", out)?;
                }
                None => {
                    let mut f = self.finding(
                        Rule::DependentSchemaRemoved,
                        *asch,
                        n,
                        None,
                        None,
                        format!("the schema that applies when `{key}` is present was removed"),
                    );
                    f.new_pointer = None;
                    out.push(f);
                }
            }
        }
        for (key, bsch) in &b.dependent_schemas {
            if !a.dependent_schemas.contains_key(key) {
                let mut f = self.finding(
                    Rule::DependentSchemaAdded,
                    o,
                    *bsch,
                    None,
                    None,
                    format!("a schema now applies when `{key}` is present"),
                );
                f.old_pointer = None;
                out.push(f);
            }
        }

        // additionalProperties and unevaluatedProperties
        let additional_rules = [
            Rule::AdditionalPropertiesForbidden,
            Rule::AdditionalPropertiesAllowed,
            Rule::AdditionalPropertiesNarrowed,
            Rule::AdditionalPropertiesWidened,
        ];
        self.compare_extra(
            o,
            n,
            a.additional,
            b.additional,
            "additionalProperties",
            additional_rules,
            out,
        )?;
        let unevaluated_rules = [
            Rule::UnevaluatedPropertiesForbidden,
            Rule::UnevaluatedPropertiesAllowed,
            Rule::UnevaluatedPropertiesNarrowed,
            Rule::UnevaluatedPropertiesWidened,
        ];
        self.compare_extra(
            o,
            n,
            a.unevaluated,
            b.unevaluated,
            "unevaluatedProperties",
            unevaluated_rules,
            out,
        )?;

        // patternProperties (Confluent ignores changes to them)
        for (pattern, ap) in &a.patterns {
            match b.patterns.iter().find(|(p, _)| p == pattern) {
                Some((_, bp)) => {
                    self.sub(*ap, *bp, "/*", out)?;
                }
                None => {
                    let mut sub = Vec::new();
                    let fallback = extra_target(b.additional);
                    self.compare_targets(Target::Node(*ap), fallback, "/*", (o, n), &mut sub)?;
                    out.extend(sub);
                    let mut f = self.finding(
                        Rule::PatternPropertyRemoved,
                        *ap,
                        n,
                        None,
                        None,
                        format!("the `patternProperties` entry {pattern:?} was removed"),
                    );
                    f.new_pointer = None;
                    f.instance_path = "/*".to_owned();
                    f.old = Some(Value::String(pattern.clone()));
                    out.push(f);
                }
            }
        }
        for (pattern, bp) in &b.patterns {
            if a.patterns.iter().any(|(p, _)| p == pattern) {
                continue;
            }
            let mut sub = Vec::new();
            let mut covered = self.compare_targets(
                extra_target(a.additional),
                Target::Node(*bp),
                "/*",
                (o, n),
                &mut sub,
            )?;
            // Old declared properties whose names match the new pattern must fit it too.
            for (name, ap) in &a.properties {
                if self.pattern_matches(pattern, name) != Some(false) {
                    covered &= self.sub(*ap, *bp, &seg(name), &mut sub)?;
                }
            }
            if !covered {
                out.extend(sub);
                let mut f = self.finding(Rule::PatternPropertyAdded, o, *bp, None, None, format!("the `patternProperties` entry {pattern:?} rejects values the old schema accepted"));
                f.old_pointer = None;
                f.instance_path = "/*".to_owned();
                f.new = Some(Value::String(pattern.clone()));
                out.push(f);
            }
        }

        self.compare_optional(
            o,
            n,
            a.property_names,
            b.property_names,
            "propertyNames",
            "",
            out,
        )?;
        self.bounds(
            o,
            n,
            a.min,
            b.min,
            "minProperties",
            true,
            [
                Rule::MinPropertiesAdded,
                Rule::MinPropertiesRemoved,
                Rule::MinPropertiesIncreased,
                Rule::MinPropertiesDecreased,
            ],
            out,
        );
        self.bounds(
            o,
            n,
            a.max,
            b.max,
            "maxProperties",
            false,
            [
                Rule::MaxPropertiesAdded,
                Rule::MaxPropertiesRemoved,
                Rule::MaxPropertiesIncreased,
                Rule::MaxPropertiesDecreased,
            ],
            out,
        );
        Ok(())
    }

    fn pattern_matches(&mut self, pattern: &str, name: &str) -> Option<bool> {
        let re = self.regexes.entry(pattern.to_owned()).or_insert_with(|| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .ok()
        });
        re.as_ref().map(|r| r.is_match(name))
    }

    /// The schema an object applies to a property it does not declare by name.
    fn fallback(&mut self, obj: &ObjectKind, name: &str) -> Target {
        for (pattern, id) in &obj.patterns {
            if self.pattern_matches(pattern, name) != Some(false) {
                return Target::Node(*id);
            }
        }
        match obj.additional {
            Extra::Schema(id) => Target::Node(id),
            Extra::Closed => Target::Never,
            Extra::Open => extra_target(obj.unevaluated),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one helper for four keywords")]
    fn compare_extra(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: Extra,
        b: Extra,
        key: &str,
        [forbidden, allowed, narrowed, widened]: [Rule; 4],
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let (rule, message) = match (a, b) {
            (Extra::Open, Extra::Open) | (Extra::Closed, Extra::Closed) => return Ok(()),
            (Extra::Schema(x), Extra::Schema(y)) => {
                self.sub(x, y, "/*", out)?;
                return Ok(());
            }
            (Extra::Open | Extra::Schema(_), Extra::Closed) => {
                (forbidden, format!("`{key}` now forbids what it allowed"))
            }
            (Extra::Closed, Extra::Open | Extra::Schema(_)) => {
                (allowed, format!("`{key}` now allows what it forbade"))
            }
            (Extra::Open, Extra::Schema(_)) => (
                narrowed,
                format!("`{key}` now constrains values it did not"),
            ),
            (Extra::Schema(_), Extra::Open) => {
                (widened, format!("`{key}` no longer constrains values"))
            }
        };
        let mut f = self.finding(rule, o, n, Some(key), Some(key), message);
        f.instance_path = "/*".to_owned();
        f.old = Some(extra_value(a));
        f.new = Some(extra_value(b));
        out.push(f);
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one helper for every count keyword"
    )]
    fn bounds(
        &self,
        o: NodeId,
        n: NodeId,
        a: Option<u64>,
        b: Option<u64>,
        key: &str,
        is_min: bool,
        [added, removed, increased, decreased]: [Rule; 4],
        out: &mut Vec<Finding>,
    ) {
        let rule = match (a, b) {
            (None, None) => return,
            (Some(x), Some(y)) if x == y => return,
            (None, Some(_)) => added,
            (Some(_), None) => removed,
            (Some(x), Some(y)) if y > x => increased,
            _ => decreased,
        };
        let fmt = |v: Option<u64>| v.map_or_else(|| "absent".to_owned(), |v| v.to_string());
        let mut f = self.finding(
            rule,
            o,
            n,
            a.map(|_| key),
            b.map(|_| key),
            format!("`{key}` changed from {} to {}", fmt(a), fmt(b)),
        );
        if a.is_none() {
            f.old_pointer = None;
        }
        if b.is_none() {
            f.new_pointer = None;
        }
        f.old = a.map(|v| json!(v));
        f.new = b.map(|v| json!(v));
        let tightened = f.rule.breaks(Direction::Backward, Policy::Strict);
        if tightened {
            f.local_witness = Some(
                json!({ "$count": if is_min { a.unwrap_or(0) } else { b.unwrap_or(0) + 1 }, "$keyword": key }),
            );
        }
        out.push(f);
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

    // ----- arrays ------------------------------------------------------------------

    fn compare_array(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: &ArrayKind,
        b: &ArrayKind,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        self.compare_typed(o, n, a.typed, b.typed, "array", json!("not an array"), out);
        let (mut a, mut b) = (a.clone(), b.clone());
        // A schema for all items is a rest schema after zero positional items.
        if a.all_items.is_some() && !b.prefix.is_empty() {
            a.rest = a.all_items.take().map_or(Extra::Open, Extra::Schema);
        }
        if b.all_items.is_some() && !a.prefix.is_empty() {
            b.rest = b.all_items.take().map_or(Extra::Open, Extra::Schema);
        }
        self.compare_optional(o, n, a.all_items, b.all_items, "items", "/*", out)?;
        let common = a.prefix.len().min(b.prefix.len());
        for i in 0..common {
            self.sub(a.prefix[i], b.prefix[i], &format!("/{i}"), out)?;
        }
        let old_model = array_model(&a);
        for (i, &bp) in b.prefix.iter().enumerate().skip(common) {
            let path = format!("/{i}");
            let push = |this: &Self, rule: Rule, message: String, out: &mut Vec<Finding>| {
                let mut f = this.finding(rule, o, bp, None, None, message);
                f.old_pointer = None;
                f.instance_path = path.clone();
                out.push(f);
            };
            match old_model {
                ContentModel::Open if matches!(self.n.node(bp).kind, Kind::Any) => push(
                    self,
                    Rule::ItemWithEmptySchemaAddedToOpenModel,
                    format!("positional item {i} (accepting anything) was added"),
                    out,
                ),
                ContentModel::Open => push(
                    self,
                    Rule::ItemAddedToOpenModel,
                    format!("positional item {i} was added; old arrays may hold any value there"),
                    out,
                ),
                ContentModel::Closed => push(
                    self,
                    Rule::ItemAddedToClosedModel,
                    format!("positional item {i} was added to a closed array"),
                    out,
                ),
                ContentModel::Partial => {
                    let mut sub = Vec::new();
                    let covered = self.compare_targets(
                        array_fallback(&a),
                        Target::Node(bp),
                        &path,
                        (o, n),
                        &mut sub,
                    )?;
                    out.extend(sub);
                    if covered {
                        push(
                            self,
                            Rule::ItemAddedCoveredByPartialModel,
                            format!(
                                "positional item {i} was added; it accepts what the old additional-items schema accepted"
                            ),
                            out,
                        );
                    } else {
                        push(
                            self,
                            Rule::ItemAddedNotCoveredByPartialModel,
                            format!(
                                "positional item {i} was added; it rejects values the old additional-items schema accepted"
                            ),
                            out,
                        );
                    }
                }
            }
        }
        let new_model = array_model(&b);
        for (i, &ap) in a.prefix.iter().enumerate().skip(common) {
            let path = format!("/{i}");
            let push = |this: &Self, rule: Rule, message: String, out: &mut Vec<Finding>| {
                let mut f = this.finding(rule, ap, n, None, None, message);
                f.new_pointer = None;
                f.instance_path = path.clone();
                out.push(f);
            };
            match new_model {
                ContentModel::Open => push(
                    self,
                    Rule::ItemRemovedFromOpenModel,
                    format!("positional item {i} was removed; any value is now accepted there"),
                    out,
                ),
                ContentModel::Closed if matches!(self.o.node(ap).kind, Kind::Never) => push(
                    self,
                    Rule::ItemWithFalseRemovedFromClosedModel,
                    format!("positional item {i} (declared false) was removed"),
                    out,
                ),
                ContentModel::Closed => push(
                    self,
                    Rule::ItemRemovedFromClosedModel,
                    format!(
                        "positional item {i} was removed from a closed array; old arrays that long are rejected"
                    ),
                    out,
                ),
                ContentModel::Partial => {
                    let mut sub = Vec::new();
                    let covered = self.compare_targets(
                        Target::Node(ap),
                        array_fallback(&b),
                        &path,
                        (o, n),
                        &mut sub,
                    )?;
                    out.extend(sub);
                    if covered {
                        push(
                            self,
                            Rule::ItemRemovedCoveredByPartialModel,
                            format!(
                                "positional item {i} was removed; the additional-items schema still accepts its values"
                            ),
                            out,
                        );
                    } else {
                        push(
                            self,
                            Rule::ItemRemovedNotCoveredByPartialModel,
                            format!(
                                "positional item {i} was removed; the additional-items schema rejects its old values"
                            ),
                            out,
                        );
                    }
                }
            }
        }
        let rest_rules = [
            Rule::AdditionalItemsForbidden,
            Rule::AdditionalItemsAllowed,
            Rule::AdditionalItemsNarrowed,
            Rule::AdditionalItemsWidened,
        ];
        self.compare_extra(o, n, a.rest, b.rest, "additionalItems", rest_rules, out)?;
        let uneval_rules = [
            Rule::UnevaluatedItemsForbidden,
            Rule::UnevaluatedItemsAllowed,
            Rule::UnevaluatedItemsNarrowed,
            Rule::UnevaluatedItemsWidened,
        ];
        self.compare_extra(
            o,
            n,
            a.unevaluated,
            b.unevaluated,
            "unevaluatedItems",
            uneval_rules,
            out,
        )?;
        self.compare_optional(o, n, a.contains, b.contains, "contains", "/*", out)?;
        let min_contains = |k: &ArrayKind| k.contains.map(|_| k.min_contains.unwrap_or(1));
        self.bounds(
            o,
            n,
            min_contains(&a),
            min_contains(&b),
            "minContains",
            true,
            [
                Rule::MinContainsAdded,
                Rule::MinContainsRemoved,
                Rule::MinContainsIncreased,
                Rule::MinContainsDecreased,
            ],
            out,
        );
        self.bounds(
            o,
            n,
            a.max_contains,
            b.max_contains,
            "maxContains",
            false,
            [
                Rule::MaxContainsAdded,
                Rule::MaxContainsRemoved,
                Rule::MaxContainsIncreased,
                Rule::MaxContainsDecreased,
            ],
            out,
        );
        self.bounds(
            o,
            n,
            a.min.filter(|m| *m > 0),
            b.min.filter(|m| *m > 0),
            "minItems",
            true,
            [
                Rule::MinItemsAdded,
                Rule::MinItemsRemoved,
                Rule::MinItemsIncreased,
                Rule::MinItemsDecreased,
            ],
            out,
        );
        self.bounds(
            o,
            n,
            a.max,
            b.max,
            "maxItems",
            false,
            [
                Rule::MaxItemsAdded,
                Rule::MaxItemsRemoved,
                Rule::MaxItemsIncreased,
                Rule::MaxItemsDecreased,
            ],
            out,
        );
        match (a.unique, b.unique) {
            (false, true) => {
                let mut f = self.finding(
                    Rule::UniqueItemsAdded,
                    o,
                    n,
                    None,
                    Some("uniqueItems"),
                    "items must now be unique".to_owned(),
                );
                f.old_pointer = None;
                f.local_witness = example_of(self.o, o).and(None);
                out.push(f);
            }
            (true, false) => {
                let mut f = self.finding(
                    Rule::UniqueItemsRemoved,
                    o,
                    n,
                    Some("uniqueItems"),
                    None,
                    "items no longer need to be unique".to_owned(),
                );
                f.new_pointer = None;
                out.push(f);
            }
            _ => {}
        }
        Ok(())
    }

    // ----- strings and numbers -----------------------------------------------------

    fn compare_string(
        &self,
        o: NodeId,
        n: NodeId,
        a: &StringKind,
        b: &StringKind,
        out: &mut Vec<Finding>,
    ) {
        self.compare_typed(o, n, a.typed, b.typed, "string", json!(0), out);
        self.bounds(
            o,
            n,
            a.min,
            b.min,
            "minLength",
            true,
            [
                Rule::MinLengthAdded,
                Rule::MinLengthRemoved,
                Rule::MinLengthIncreased,
                Rule::MinLengthDecreased,
            ],
            out,
        );
        self.bounds(
            o,
            n,
            a.max,
            b.max,
            "maxLength",
            false,
            [
                Rule::MaxLengthAdded,
                Rule::MaxLengthRemoved,
                Rule::MaxLengthIncreased,
                Rule::MaxLengthDecreased,
            ],
            out,
        );
        for (key, x, y, [added, removed, changed]) in [
            (
                "pattern",
                &a.pattern,
                &b.pattern,
                [
                    Rule::PatternAdded,
                    Rule::PatternRemoved,
                    Rule::PatternChanged,
                ],
            ),
            (
                "format",
                &a.format,
                &b.format,
                [Rule::FormatAdded, Rule::FormatRemoved, Rule::FormatChanged],
            ),
        ] {
            let rule = match (x, y) {
                (None, None) => continue,
                (Some(x), Some(y)) if x == y => continue,
                (None, Some(_)) => added,
                (Some(_), None) => removed,
                _ => changed,
            };
            let mut f = self.finding(
                rule,
                o,
                n,
                x.as_ref().map(|_| key),
                y.as_ref().map(|_| key),
                format!("`{key}` changed from {} to {}", quoted(x), quoted(y)),
            );
            if x.is_none() {
                f.old_pointer = None;
            }
            if y.is_none() {
                f.new_pointer = None;
            }
            f.old = x.as_ref().map(|s| Value::String(s.clone()));
            f.new = y.as_ref().map(|s| Value::String(s.clone()));
            if key == "pattern" && rule != removed {
                f.local_witness = Some(json!({ "$pattern": y }));
            }
            out.push(f);
        }
    }

    fn compare_number(
        &self,
        o: NodeId,
        n: NodeId,
        a: &NumberKind,
        b: &NumberKind,
        out: &mut Vec<Finding>,
    ) {
        self.compare_typed(
            o,
            n,
            a.typed,
            b.typed,
            if b.integer || a.integer {
                "integer"
            } else {
                "number"
            },
            json!("0"),
            out,
        );
        match (a.integer, b.integer) {
            (false, true) => {
                let mut f = self.finding(
                    Rule::TypeNarrowed,
                    o,
                    n,
                    Some("type"),
                    Some("type"),
                    "`number` became `integer`: fractional numbers are rejected".to_owned(),
                );
                f.old = Some(json!("number"));
                f.new = Some(json!("integer"));
                f.local_witness = Some(json!({ "$fraction": true }));
                out.push(f);
            }
            (true, false) => {
                let mut f = self.finding(
                    Rule::TypeWidened,
                    o,
                    n,
                    Some("type"),
                    Some("type"),
                    "`integer` became `number`: fractional numbers are accepted".to_owned(),
                );
                f.old = Some(json!("integer"));
                f.new = Some(json!("number"));
                out.push(f);
            }
            _ => {}
        }
        self.bound(o, n, a.lower.as_ref(), b.lower.as_ref(), true, out);
        self.bound(o, n, a.upper.as_ref(), b.upper.as_ref(), false, out);
        let rule = match (&a.multiple_of, &b.multiple_of) {
            (None, None) => None,
            (Some(x), Some(y)) if x.0 == y.0 => None,
            (None, Some(_)) => Some(Rule::MultipleOfAdded),
            (Some(_), None) => Some(Rule::MultipleOfRemoved),
            (Some(x), Some(y)) => Some(if is_multiple(&y.0, &x.0) {
                Rule::MultipleOfExpanded
            } else if is_multiple(&x.0, &y.0) {
                Rule::MultipleOfReduced
            } else {
                Rule::MultipleOfChanged
            }),
        };
        if let Some(rule) = rule {
            let mut f = self.finding(
                rule,
                o,
                n,
                a.multiple_of.as_ref().map(|_| "multipleOf"),
                b.multiple_of.as_ref().map(|_| "multipleOf"),
                "`multipleOf` changed".to_owned(),
            );
            if a.multiple_of.is_none() {
                f.old_pointer = None;
            }
            if b.multiple_of.is_none() {
                f.new_pointer = None;
            }
            f.old = a.multiple_of.as_ref().map(|m| m.1.clone());
            f.new = b.multiple_of.as_ref().map(|m| m.1.clone());
            f.message = format!(
                "`multipleOf` changed from {} to {}",
                f.old.as_ref().map_or("absent".to_owned(), Value::to_string),
                f.new.as_ref().map_or("absent".to_owned(), Value::to_string)
            );
            out.push(f);
        }
    }

    fn bound(
        &self,
        o: NodeId,
        n: NodeId,
        a: Option<&Bound>,
        b: Option<&Bound>,
        lower: bool,
        out: &mut Vec<Finding>,
    ) {
        let name = |b: &Bound| match (lower, b.exclusive) {
            (true, false) => "minimum",
            (true, true) => "exclusiveMinimum",
            (false, false) => "maximum",
            (false, true) => "exclusiveMaximum",
        };
        let pick = |excl: bool, [plain, exclusive]: [Rule; 2]| if excl { exclusive } else { plain };
        let (rule, key_old, key_new) = match (a, b) {
            (None, None) => return,
            (Some(x), Some(y)) if x.value == y.value && x.exclusive == y.exclusive => return,
            (None, Some(y)) => (
                pick(
                    y.exclusive,
                    if lower {
                        [Rule::MinimumAdded, Rule::ExclusiveMinimumAdded]
                    } else {
                        [Rule::MaximumAdded, Rule::ExclusiveMaximumAdded]
                    },
                ),
                None,
                Some(name(y)),
            ),
            (Some(x), None) => (
                pick(
                    x.exclusive,
                    if lower {
                        [Rule::MinimumRemoved, Rule::ExclusiveMinimumRemoved]
                    } else {
                        [Rule::MaximumRemoved, Rule::ExclusiveMaximumRemoved]
                    },
                ),
                Some(name(x)),
                None,
            ),
            (Some(x), Some(y)) => {
                let raised = y.value > x.value
                    || (y.value == x.value
                        && if lower {
                            y.exclusive && !x.exclusive
                        } else {
                            x.exclusive && !y.exclusive
                        });
                let rules = match (lower, raised) {
                    (true, true) => [Rule::MinimumIncreased, Rule::ExclusiveMinimumIncreased],
                    (true, false) => [Rule::MinimumDecreased, Rule::ExclusiveMinimumDecreased],
                    (false, true) => [Rule::MaximumIncreased, Rule::ExclusiveMaximumIncreased],
                    (false, false) => [Rule::MaximumDecreased, Rule::ExclusiveMaximumDecreased],
                };
                (pick(y.exclusive, rules), Some(name(x)), Some(name(y)))
            }
        };
        let show = |b: Option<&Bound>| {
            b.map_or_else(|| "absent".to_owned(), |b| format!("{} {}", name(b), b.raw))
        };
        let mut f = self.finding(
            rule,
            o,
            n,
            key_old,
            key_new,
            format!(
                "the {} bound changed from {} to {}",
                if lower { "lower" } else { "upper" },
                show(a),
                show(b)
            ),
        );
        if key_old.is_none() {
            f.old_pointer = None;
        }
        if key_new.is_none() {
            f.new_pointer = None;
        }
        f.old = a.map(|b| b.raw.clone());
        f.new = b.map(|b| b.raw.clone());
        if rule.breaks(Direction::Backward, Policy::Strict) {
            f.local_witness = Some(
                json!({ "$bound": if lower { "below" } else { "above" }, "$value": b.map(|b| b.raw.clone()), "$exclusive": b.is_some_and(|b| b.exclusive) }),
            );
        }
        out.push(f);
    }
}

fn quoted(v: &Option<String>) -> String {
    v.as_ref()
        .map_or_else(|| "absent".to_owned(), |s| format!("{s:?}"))
}

fn is_multiple(x: &BigDecimal, of: &BigDecimal) -> bool {
    if of.is_zero() {
        return false;
    }
    (x % of).is_zero()
}

fn extra_target(e: Extra) -> Target {
    match e {
        Extra::Open => Target::Any,
        Extra::Closed => Target::Never,
        Extra::Schema(id) => Target::Node(id),
    }
}

fn extra_value(e: Extra) -> Value {
    match e {
        Extra::Open => json!(true),
        Extra::Closed => json!(false),
        Extra::Schema(_) => json!("a schema"),
    }
}

fn content_model(o: &ObjectKind) -> ContentModel {
    if !o.patterns.is_empty() {
        return ContentModel::Partial;
    }
    match (o.additional, o.unevaluated) {
        (Extra::Closed, _) => ContentModel::Closed,
        (Extra::Schema(_), _) => ContentModel::Partial,
        (Extra::Open, Extra::Closed) => ContentModel::Closed,
        (Extra::Open, Extra::Schema(_)) => ContentModel::Partial,
        (Extra::Open, Extra::Open) => ContentModel::Open,
    }
}

fn array_model(a: &ArrayKind) -> ContentModel {
    match (a.rest, a.unevaluated) {
        (Extra::Closed, _) => ContentModel::Closed,
        (Extra::Schema(_), _) => ContentModel::Partial,
        (Extra::Open, Extra::Closed) => ContentModel::Closed,
        (Extra::Open, Extra::Schema(_)) => ContentModel::Partial,
        (Extra::Open, Extra::Open) => ContentModel::Open,
    }
}

fn array_fallback(a: &ArrayKind) -> Target {
    match a.rest {
        Extra::Open => extra_target(a.unevaluated),
        other => extra_target(other),
    }
}

fn dedupe(model: &Model, subs: &[NodeId]) -> Vec<NodeId> {
    let mut seen = HashSet::default();
    subs.iter()
        .copied()
        .filter(|id| seen.insert(model.identity(*id)))
        .collect()
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
        Kind::Pending => "a schema".to_owned(),
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

// ----- type sets, for `oneOf` overlap ------------------------------------------------

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const OBJECT: u8 = 4;
const ARRAY: u8 = 8;
const STRING: u8 = 16;
const INTEGER: u8 = 32;
const FRACTION: u8 = 64;
const ALL: u8 = 127;

fn value_type(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::String(_) => STRING,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                INTEGER
            } else {
                FRACTION
            }
        }
    }
}

/// An over-approximation of the JSON types a node accepts.
fn type_set(model: &Model, id: NodeId, depth: usize) -> u8 {
    if depth > 16 {
        return ALL;
    }
    match &model.node(id).kind {
        Kind::Any | Kind::Not(_) | Kind::Conditional { .. } | Kind::Pending => ALL,
        Kind::Never => 0,
        Kind::Object(o) => {
            if o.typed {
                OBJECT
            } else {
                ALL
            }
        }
        Kind::Array(a) => {
            if a.typed {
                ARRAY
            } else {
                ALL
            }
        }
        Kind::String(s) => {
            if s.typed {
                STRING
            } else {
                ALL
            }
        }
        Kind::Number(n) => match (n.typed, n.integer) {
            (false, _) => ALL,
            (true, true) => INTEGER,
            (true, false) => INTEGER | FRACTION,
        },
        Kind::Boolean => BOOLEAN,
        Kind::Null => NULL,
        Kind::Enum { values, .. } => values.iter().fold(0, |acc, v| acc | value_type(v)),
        Kind::Combined {
            crit: Crit::AllOf,
            subs,
            ..
        } => subs
            .iter()
            .fold(ALL, |acc, s| acc & type_set(model, *s, depth + 1)),
        Kind::Combined { subs, .. } => subs
            .iter()
            .fold(0, |acc, s| acc | type_set(model, *s, depth + 1)),
    }
}

fn enum_values<'a>(model: &'a Model<'_>, id: NodeId) -> Option<&'a [Value]> {
    match &model.node(id).kind {
        Kind::Enum { values, .. } => Some(values),
        _ => None,
    }
}

/// Whether node `a` of `ma` may accept a value that node `b` of `mb` accepts too
/// (`limit` further restricts `b` to those types).
fn overlaps(ma: &Model, a: NodeId, mb: &Model, b: NodeId, limit: u8) -> bool {
    if let (Some(x), Some(y)) = (enum_values(ma, a), enum_values(mb, b)) {
        return x.iter().any(|v| y.contains(v));
    }
    type_set(ma, a, 0) & type_set(mb, b, 0) & limit != 0
}

/// Maximum bipartite matching (Kuhn's algorithm): for each right vertex, its left match.
fn max_matching(edges: &[Vec<usize>], right: usize) -> Vec<Option<usize>> {
    fn augment(
        u: usize,
        edges: &[Vec<usize>],
        seen: &mut [bool],
        matched: &mut [Option<usize>],
    ) -> bool {
        for &v in &edges[u] {
            if seen[v] {
                continue;
            }
            seen[v] = true;
            if matched[v].is_none_or(|w| augment(w, edges, seen, matched)) {
                matched[v] = Some(u);
                return true;
            }
        }
        false
    }
    let mut matched = vec![None; right];
    for u in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(u, edges, &mut seen, &mut matched);
    }
    matched
}
