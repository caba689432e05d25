//! Count keywords: `minLength`/`maxLength`, `minItems`/`maxItems`,
//! `minProperties`/`maxProperties`, `minContains`/`maxContains`: added, removed, raised
//! or lowered.

use serde_json::json;

use crate::domain::{Direction, Policy};

use super::{Differ, Finding, NodeId, Rule};

impl Differ<'_, '_> {
    #[expect(
        clippy::too_many_arguments,
        reason = "one helper for every count keyword"
    )]
    pub(super) fn bounds(
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
}
