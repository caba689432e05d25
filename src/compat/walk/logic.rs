//! `not` and `if`/`then`/`else`: the keywords that reason about other schemas'
//! verdicts rather than about values directly.

use crate::domain::{Direction, Policy};

use super::{CompatError, Crit, Differ, Finding, Kind, NodeId, Rule, Synthetic};

impl Differ<'_, '_> {
    /// `not` reverses the direction: the new excluded set must lie inside the old one.
    /// An excluded set that did not change (the walk finds no difference either way)
    /// is no finding, whatever changed elsewhere.
    pub(super) fn compare_not(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: NodeId,
        b: NodeId,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let inner = self.compare_swapped(b, a)?;
        if inner.is_empty() && self.compare(a, b)?.is_empty() {
            return Ok(());
        }
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
        Ok(())
    }

    /// `if`/`then`/`else` against `if`/`then`/`else`, quadrant by quadrant.
    ///
    /// Old = (C_o ∧ T_o) ∨ (¬C_o ∧ E_o) and new = (C_n ∧ T_n) ∨ (¬C_n ∧ E_n), an absent
    /// branch being `true`. An old instance in `then` stays there when C_o ⊆ C_n, so
    /// T_o ⊆ T_n is enough; otherwise it may land in the new `else` too (T_o ⊆ E_n). An
    /// old instance in `else` stays there when C_n ⊆ C_o (E_o ⊆ E_n); otherwise it may
    /// land in the new `then` (E_o ⊆ T_n). The conditions are compared by the walk
    /// itself, under strict reading: a lenient "compatible" `if` would send instances to
    /// the wrong branch. Whatever cannot be proved is reported as breaking.
    pub(super) fn compare_conditional(
        &mut self,
        o: NodeId,
        n: NodeId,
        (oc, ot, oe): Parts,
        (nc, nt, ne): Parts,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let context = self.sibling_object(o);
        let same_if = self.o.identity(oc) == self.n.identity(nc);
        let (wider, narrower) = if same_if {
            (true, true)
        } else {
            let w = self.compare(oc, nc)?;
            let r = self.compare_swapped(nc, oc)?;
            (strictly_ok(&w), strictly_ok(&r))
        };
        // Then against then, else against else: needed in every case.
        let mut aligned = Vec::new();
        let mut ok = self.branch(o, n, (ot, nt), "then", context, &mut aligned)?;
        ok &= self.branch(o, n, (oe, ne), "else", context, &mut aligned)?;
        out.extend(aligned);
        if wider && narrower {
            if !same_if {
                out.push(self.finding(
                    Rule::ConditionalEquivalent,
                    o,
                    n,
                    Some("if"),
                    Some("if"),
                    "the `if` condition was rewritten; it accepts the same instances".to_owned(),
                ));
            }
            return Ok(());
        }
        // Instances that took `then` may now take `else`, and the reverse.
        if ok && !wider {
            ok = self.branch(o, n, (ot, ne), "then", context, &mut Vec::new())?;
        }
        if ok && !narrower {
            ok = self.branch(o, n, (oe, nt), "else", context, &mut Vec::new())?;
        }
        let forward = !self.reversing && strictly_ok(&self.compare_swapped(n, o)?);
        let condition = match (wider, narrower) {
            (true, _) => "the new `if` accepts more instances",
            (_, true) => "the new `if` accepts fewer instances",
            _ => "the new `if` accepts other instances",
        };
        let (rule, verdict) = match (ok, forward) {
            (true, true) => (
                Rule::ConditionalEquivalent,
                "the conditional accepts the same instances",
            ),
            (true, false) => (
                Rule::ConditionalWidened,
                "every instance valid before still is, in whichever branch it now takes",
            ),
            (false, true) => (
                Rule::ConditionalNarrowed,
                "instances valid before may now take a branch that rejects them",
            ),
            (false, false) => (
                Rule::ConditionalChanged,
                "instances may now take a branch that rejects them, in both directions",
            ),
        };
        out.push(self.finding(
            rule,
            o,
            n,
            Some("if"),
            Some("if"),
            format!("the `if` condition changed: {condition}; {verdict}"),
        ));
        Ok(())
    }

    /// A conditional where the old schema had another kind of constraint: the old
    /// instances must pass both branches, whichever the new `if` picks.
    pub(super) fn compare_conditional_added(
        &mut self,
        o: NodeId,
        n: NodeId,
        then: Option<NodeId>,
        els: Option<NodeId>,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let mut ok = true;
        for b in [then, els].into_iter().flatten() {
            let r = self.compare(o, b)?;
            ok &= self.ok(&r);
        }
        let rule = if ok {
            Rule::ConditionalAddedImplied
        } else {
            Rule::ConditionalAdded
        };
        let message = if ok {
            "an `if`/`then`/`else` was added; its branches accept every instance the rest accepts"
        } else {
            "an `if`/`then`/`else` was added; its branches may reject instances accepted before"
        };
        let mut f = self.finding(rule, o, n, None, None, message.to_owned());
        f.old_pointer = None;
        out.push(f);
        Ok(())
    }

    /// Another kind of constraint where the old schema had a conditional: everything
    /// either old branch accepted must pass. An absent branch accepted everything.
    pub(super) fn compare_conditional_removed(
        &mut self,
        o: NodeId,
        n: NodeId,
        then: Option<NodeId>,
        els: Option<NodeId>,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        let mut ok = then.is_some() && els.is_some();
        for a in [then, els].into_iter().flatten() {
            if ok {
                let r = self.compare(a, n)?;
                ok &= self.ok(&r);
            }
        }
        if ok {
            let mut f = self.finding(
                Rule::ConditionalRemoved,
                o,
                n,
                None,
                None,
                "an `if`/`then`/`else` was replaced by a schema accepting what both branches accepted"
                    .to_owned(),
            );
            f.new_pointer = Some(self.n.pointer(n));
            out.push(f);
        } else {
            out.push(self.type_changed(o, n));
        }
        Ok(())
    }

    /// One branch against another (absent = `true`). When the plain comparison fails,
    /// the old schema object's own object keywords (`context`) may already impose what
    /// the new branch adds: then no old instance is affected, and only the findings
    /// that break nothing are kept.
    fn branch(
        &mut self,
        o: NodeId,
        n: NodeId,
        (a, b): (Option<NodeId>, Option<NodeId>),
        key: &str,
        context: Option<NodeId>,
        out: &mut Vec<Finding>,
    ) -> Result<bool, CompatError> {
        let before = out.len();
        self.compare_optional(o, n, a, b, key, "", out)?;
        if self.ok(&out[before..]) {
            return Ok(true);
        }
        let (Some(ctx), Some(b)) = (context, b) else {
            return Ok(false);
        };
        if !self.implied_in_context(ctx, a, b)? {
            return Ok(false);
        }
        let policy = self.policy;
        let kept: Vec<Finding> = out
            .drain(before..)
            .filter(|f| !f.rule.breaks(Direction::Backward, policy))
            .collect();
        out.extend(kept);
        Ok(true)
    }

    /// Whether every old instance, which satisfies the sibling object keywords `ctx`
    /// and the old branch `a` (absent = `true`), satisfies the new branch `b`: either
    /// `ctx` alone implies `b`, or, both branches being objects, property by property
    /// the old branch or the sibling's property schema implies the new branch's.
    fn implied_in_context(
        &mut self,
        ctx: NodeId,
        a: Option<NodeId>,
        b: NodeId,
    ) -> Result<bool, CompatError> {
        let r = self.compare(ctx, b)?;
        if self.ok(&r) {
            return Ok(true);
        }
        let Some(a) = a else { return Ok(false) };
        let objects = matches!(self.o.node(a).kind, Kind::Object(_))
            && matches!(self.n.node(b).kind, Kind::Object(_));
        if !objects {
            return Ok(false);
        }
        let mut d = Differ::new(self.o, self.n, self.policy, self.budget, self.held);
        d.depth = self.depth;
        d.reversing = self.reversing;
        d.context = Some(ctx);
        let r = d.fixpoint_at(a, b);
        self.budget = d.budget;
        let r = r?;
        Ok(d.ok(&r))
    }

    /// The object part of the schema object the conditional `o` belongs to, if there is
    /// one: the synthetic `allOf` of that schema object's keywords holds `o`, directly
    /// or through a written `allOf` (`allOf: [{if…, then…}, …]` beside `properties`).
    /// Every old instance `o` applies to satisfies it, provided each step up is the
    /// node's only parent: a conditional (or `allOf`) reached through a `$ref` as well
    /// may apply elsewhere, and its memoised result must not depend on one place.
    fn sibling_object(&self, o: NodeId) -> Option<NodeId> {
        let mut child = o;
        for _ in 0..MAX_CONTEXT_STEPS {
            let parent = self.o.unique_parent(child)?;
            match &self.o.node(parent).kind {
                Kind::Combined {
                    crit: Crit::AllOf,
                    subs,
                    synthetic: Synthetic::Keywords,
                } => {
                    return subs
                        .iter()
                        .copied()
                        .find(|s| matches!(self.o.node(*s).kind, Kind::Object(_)));
                }
                Kind::Combined {
                    crit: Crit::AllOf,
                    synthetic: Synthetic::No,
                    ..
                } => child = parent,
                _ => return None,
            }
        }
        None
    }

    /// Under a sibling context (see [`Self::implied_in_context`]), whether the new
    /// property schema `bp` of `name` already holds for every old value: the old
    /// schema object's own `properties` entry implies it. Only for the pair the context
    /// was given for (the outermost one).
    pub(super) fn implied_by_context(
        &mut self,
        name: &str,
        bp: NodeId,
    ) -> Result<bool, CompatError> {
        if self.stack.len() != 1 {
            return Ok(false);
        }
        let Some(ctx) = self.context else {
            return Ok(false);
        };
        let Kind::Object(c) = &self.o.node(ctx).kind else {
            return Ok(false);
        };
        let Some(cp) = c.property(name) else {
            return Ok(false);
        };
        let r = self.compare(cp, bp)?;
        Ok(self.ok(&r))
    }

    /// Under a sibling context, whether the old schema object already declares
    /// `type: object` (so a branch declaring it rejects no old instance).
    pub(super) fn typed_by_context(&self) -> bool {
        self.stack.len() == 1
            && self
                .context
                .is_some_and(|ctx| matches!(&self.o.node(ctx).kind, Kind::Object(c) if c.typed))
    }
}

/// How many written `allOf` levels a conditional may sit under and still be read
/// beside its schema object's object keywords.
const MAX_CONTEXT_STEPS: usize = 4;

/// A conditional's parts: `if`, `then`, `else` (absent branches are `None`).
pub(super) type Parts = (NodeId, Option<NodeId>, Option<NodeId>);

/// Whether findings prove inclusion under the strict reading, whatever the policy.
fn strictly_ok(findings: &[Finding]) -> bool {
    findings
        .iter()
        .all(|f| !f.rule.breaks(Direction::Backward, Policy::Strict))
}
