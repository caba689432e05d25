//! Strings: `type: string`, `minLength`/`maxLength`, `pattern` and `format`.

use serde_json::{Value, json};

use super::{Differ, Finding, NodeId, Rule, StringKind};

impl Differ<'_> {
    pub(super) fn compare_string(
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
}

pub(super) fn quoted(v: &Option<String>) -> String {
    v.as_ref()
        .map_or_else(|| "absent".to_owned(), |s| format!("{s:?}"))
}
