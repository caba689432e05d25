//! Arrays: `items` (one schema for all, or positional), `additionalItems`,
//! `unevaluatedItems`, `contains` with its counts, `minItems`/`maxItems`,
//! `uniqueItems`.

use serde_json::json;

use super::additional::extra_target;
use super::{
    ArrayKind, CompatError, ContentModel, Differ, Extra, Finding, Kind, NodeId, Rule, Target,
    example_of,
};

impl Differ<'_, '_> {
    pub(super) fn compare_array(
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
}

pub(super) fn array_model(a: &ArrayKind) -> ContentModel {
    match (a.rest, a.unevaluated) {
        (Extra::Closed, _) => ContentModel::Closed,
        (Extra::Schema(_), _) => ContentModel::Partial,
        (Extra::Open, Extra::Closed) => ContentModel::Closed,
        (Extra::Open, Extra::Schema(_)) => ContentModel::Partial,
        (Extra::Open, Extra::Open) => ContentModel::Open,
    }
}

pub(super) fn array_fallback(a: &ArrayKind) -> Target {
    match a.rest {
        Extra::Open => extra_target(a.unevaluated),
        other => extra_target(other),
    }
}
