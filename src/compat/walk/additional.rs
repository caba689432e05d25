//! What objects and arrays say about members they do not name: `additionalProperties`,
//! `unevaluatedProperties`, `patternProperties` (and `additionalItems`,
//! `unevaluatedItems` through the same comparison).

use serde_json::{Value, json};

use super::super::language;

use super::{CompatError, Differ, Extra, Finding, NodeId, ObjectKind, Rule, Target, seg};

impl Differ<'_, '_> {
    /// `additionalProperties`, `unevaluatedProperties` and `patternProperties`.
    pub(super) fn compare_object_additional(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: &ObjectKind,
        b: &ObjectKind,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
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
        // Entries are matched by the names they apply to: the same text, or (failing
        // that) patterns that accept the same strings (`compat::language`).
        // A new entry no old one was compared with is an added one.
        let mut compared = vec![false; b.patterns.len()];
        for (pattern, ap) in &a.patterns {
            let same = b
                .patterns
                .iter()
                .position(|(p, _)| p == pattern)
                .or_else(|| {
                    b.patterns
                        .iter()
                        .position(|(p, _)| language::same(p, pattern, &mut self.budget.patterns))
                });
            if let Some(i) = same {
                compared[i] = true;
            }
            match same.map(|i| &b.patterns[i]) {
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
        for ((pattern, bp), compared) in b.patterns.iter().zip(compared) {
            if compared {
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
        Ok(())
    }

    pub(super) fn pattern_matches(&mut self, pattern: &str, name: &str) -> Option<bool> {
        let re = self.regexes.entry(pattern.to_owned()).or_insert_with(|| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .ok()
        });
        re.as_ref().map(|r| r.is_match(name))
    }

    /// The schema an object applies to a property it does not declare by name.
    pub(super) fn fallback(&mut self, obj: &ObjectKind, name: &str) -> Target {
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
    pub(super) fn compare_extra(
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
}

pub(super) fn extra_target(e: Extra) -> Target {
    match e {
        Extra::Open => Target::Any,
        Extra::Closed => Target::Never,
        Extra::Schema(id) => Target::Node(id),
    }
}

pub(super) fn extra_value(e: Extra) -> Value {
    match e {
        Extra::Open => json!(true),
        Extra::Closed => json!(false),
        Extra::Schema(_) => json!("a schema"),
    }
}
