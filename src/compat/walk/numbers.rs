//! Numbers: `integer` against `number`, lower and upper bounds (inclusive or exclusive,
//! compared as decimals), and `multipleOf`.

use bigdecimal::{BigDecimal, Zero};
use serde_json::{Value, json};

use crate::domain::{Direction, Policy};

use super::{Bound, Differ, Finding, NodeId, NumberKind, Rule};

impl Differ<'_, '_> {
    pub(super) fn compare_number(
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

    pub(super) fn bound(
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

pub(super) fn is_multiple(x: &BigDecimal, of: &BigDecimal) -> bool {
    if of.is_zero() {
        return false;
    }
    (x % of).is_zero()
}
