//! Objects: `type: object`, `required`, `properties` (compared pairwise, added and removed
//! ones judged by the content model: open, closed or partial), `propertyNames`, and
//! `minProperties`/`maxProperties`.

use serde_json::{Value, json};

use super::super::language::{self, PatternWork};

use super::{
    CompatError, ContentModel, Differ, Extra, Finding, Kind, Model, NodeId, ObjectKind, Rule,
    Target, seg,
};

impl Differ<'_, '_> {
    pub(super) fn compare_object(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: &ObjectKind,
        b: &ObjectKind,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        // Under a sibling context that declares `type: object`, so did the old branch.
        self.compare_typed(
            o,
            n,
            a.typed || (b.typed && self.typed_by_context()),
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
                .map(|p| self.o.pointer(p))
                .or(f.old_pointer.take());
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
            f.new_pointer = Some(self.n.pointer(n));
            f.instance_path = seg(name);
            f.old = Some(Value::String(name.clone()));
            out.push(f);
        }

        // properties on both sides, then added and removed ones by content model.
        for (name, ap) in &a.properties {
            if let Some(bp) = b.property(name) {
                let before = out.len();
                if !self.sub(*ap, bp, &seg(name), out)? && self.implied_by_context(name, bp)? {
                    out.truncate(before);
                }
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
            if (!required || a.required.contains(name)) && self.implied_by_context(name, bp)? {
                continue;
            }
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

        self.compare_dependencies(o, n, a, b, out)?;
        self.compare_object_additional(o, n, a, b, out)?;
        // A `propertyNames` that every name passes is no constraint: against an absent
        // one it is compared as absent (names are always strings).
        let (old_names, new_names) = match (a.property_names, b.property_names) {
            (Some(x), None) if names_unconstrained(self.o, x, &mut self.budget.patterns) => {
                (None, None)
            }
            (None, Some(y)) if names_unconstrained(self.n, y, &mut self.budget.patterns) => {
                (None, None)
            }
            pair => pair,
        };
        self.compare_optional(o, n, old_names, new_names, "propertyNames", "", out)?;
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
}

/// Whether a `propertyNames` schema accepts every name: `true`, `{}`, or string
/// keywords alone whose only constraint is a pattern every string matches (`.*`).
fn names_unconstrained(model: &Model, id: NodeId, work: &mut PatternWork) -> bool {
    let node = model.node(id);
    if !node.unknown.is_empty() {
        return false;
    }
    match &node.kind {
        Kind::Any => true,
        Kind::String(s) => {
            s.min.is_none()
                && s.max.is_none()
                && s.format.is_none()
                && s.pattern
                    .as_deref()
                    .is_none_or(|p| language::matches_everything(p, work))
        }
        _ => false,
    }
}

pub(super) fn content_model(o: &ObjectKind) -> ContentModel {
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
