//! `allOf`, `anyOf` and `oneOf` (written, or synthetic: a `type` array, several kinds
//! of keywords in one schema object): member against member, matched old to new as a
//! maximum bipartite matching of compatible pairs.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;

use super::one_of_overlap::{overlaps, type_set};
use super::{
    CompatError, Crit, Differ, Finding, Findings, Kind, Model, NodeId, Rule, Synthetic, describe,
    example_of, same_kind,
};

impl Differ<'_, '_> {
    pub(super) fn compare_combined(
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
                            // A conditional member explains itself (`conditional-added`).
                            let conditional =
                                matches!(self.n.node(m).kind, Kind::Conditional { .. });
                            if self.ok(&r) || conditional {
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

    pub(super) fn type_changed(&self, o: NodeId, n: NodeId) -> Finding {
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

    pub(super) fn union_mismatch(
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

    pub(super) fn compare_both_combined(
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
        // A conditional added to an `allOf` is judged by its branches once the members
        // are matched (`conditional-added`, or nothing rejected).
        let judge_added = ns.len() > os.len()
            && oc == Crit::AllOf
            && nc == Crit::AllOf
            && ns.iter().any(|m| is_conditional(self.n, *m));
        if ns.len() > os.len() && !judge_added {
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
        // Every old member against every new member; compatible pairs are edges. A
        // conditional is matched with a conditional only: one paired with another kind
        // would take the place of its same-kind counterpart and leave the real
        // difference unexplained (added conditionals are judged below).
        let mut results: HashMap<(usize, usize), Findings> = HashMap::default();
        let mut edges = vec![Vec::new(); os.len()];
        for (i, &a) in os.iter().enumerate() {
            for (j, &b) in ns.iter().enumerate() {
                if is_conditional(self.o, a) != is_conditional(self.n, b) {
                    continue;
                }
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
        let mut explained_new: HashSet<usize> = HashSet::default();
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
                // A conditional's counterpart is the unused one with the same `if`, if
                // any: it changed, and the others may be new.
                let candidates = || {
                    ns.iter().enumerate().filter(|(j, b)| {
                        !matched_new.contains(j)
                            && same_kind(&self.o.node(a).kind, &self.n.node(**b).kind)
                            && !(is_conditional(self.n, **b) && explained_new.contains(j))
                    })
                };
                let same_if = candidates().find(|(_, b)| self.same_if(a, **b));
                if let Some((j, _)) = same_if.or_else(|| candidates().next()) {
                    out.extend(results[&(i, j)].iter().cloned());
                    explained = true;
                    explained_new.insert(j);
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
        if judge_added {
            let matched_new: HashSet<usize> = matched.iter().map(|p| p.1).collect();
            let extra: Vec<NodeId> = (0..ns.len())
                .filter(|j| !matched_new.contains(j) && !explained_new.contains(j))
                .map(|j| ns[j])
                .collect();
            if extra.iter().all(|m| is_conditional(self.n, *m)) {
                for m in extra {
                    if let Kind::Conditional { then, els, .. } = self.n.node(m).kind {
                        self.compare_conditional_added(o, m, then, els, out)?;
                    }
                }
            } else {
                out.push(self.finding(
                    Rule::AllOfMemberAdded,
                    o,
                    n,
                    None,
                    None,
                    "a restriction was added to `allOf`".to_owned(),
                ));
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

    pub(super) fn dedupe_old(&self, subs: &[NodeId]) -> Vec<NodeId> {
        dedupe(self.o, subs)
    }

    pub(super) fn dedupe_new(&self, subs: &[NodeId]) -> Vec<NodeId> {
        dedupe(self.n, subs)
    }
}

impl Differ<'_, '_> {
    /// Whether two conditionals (old, new) have the same `if`.
    fn same_if(&self, a: NodeId, b: NodeId) -> bool {
        match (&self.o.node(a).kind, &self.n.node(b).kind) {
            (Kind::Conditional { cond: x, .. }, Kind::Conditional { cond: y, .. }) => {
                self.o.identity(*x) == self.n.identity(*y)
            }
            _ => false,
        }
    }
}

fn is_conditional(model: &Model, id: NodeId) -> bool {
    matches!(model.node(id).kind, Kind::Conditional { .. })
}

pub(super) fn dedupe(model: &Model, subs: &[NodeId]) -> Vec<NodeId> {
    let mut seen = HashSet::default();
    subs.iter()
        .copied()
        .filter(|id| seen.insert(model.identity(*id)))
        .collect()
}

/// Maximum bipartite matching (Kuhn's algorithm): for each right vertex, its left match.
pub(super) fn max_matching(edges: &[Vec<usize>], right: usize) -> Vec<Option<usize>> {
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
