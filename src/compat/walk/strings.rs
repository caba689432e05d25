//! Strings: `type: string`, `minLength`/`maxLength`, `pattern` and `format`.

use serde_json::{Value, json};

use super::super::language;
use super::{Differ, Finding, NodeId, Rule, StringKind};

impl Differ<'_, '_> {
    pub(super) fn compare_string(
        &mut self,
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
        self.compare_pattern(o, n, &a.pattern, &b.pattern, out);
        let (x, y) = (&a.format, &b.format);
        let rule = match (x, y) {
            (None, None) => return,
            (Some(x), Some(y)) if x == y => return,
            (None, Some(_)) => Rule::FormatAdded,
            (Some(_), None) => Rule::FormatRemoved,
            _ => Rule::FormatChanged,
        };
        out.push(self.keyword_finding(rule, o, n, "format", x, y, String::new()));
    }

    /// `pattern`, compared as a regular language (`compat::language`): a rewriting that
    /// accepts the same strings breaks nothing, a wider one breaks FORWARD, a narrower
    /// one BACKWARD, and the walk's hint is the shortest string that shows it. Patterns
    /// the language comparison cannot read keep the fail-safe answer by text: any
    /// change breaks both directions (adding one only BACKWARD, removing one only
    /// FORWARD, which is exact whatever the pattern).
    fn compare_pattern(
        &mut self,
        o: NodeId,
        n: NodeId,
        x: &Option<String>,
        y: &Option<String>,
        out: &mut Vec<Finding>,
    ) {
        if x == y {
            return;
        }
        let by_text = match (x, y) {
            (None, _) => Rule::PatternAdded,
            (_, None) => Rule::PatternRemoved,
            _ => Rule::PatternChanged,
        };
        let diff = language::compare(x.as_deref(), y.as_deref(), &mut self.budget.patterns);
        let (rule, note) = match &diff {
            None => (by_text, String::new()),
            Some(d) if d.same() => (
                Rule::PatternEquivalent,
                ": both accept exactly the same strings".to_owned(),
            ),
            Some(d) if !d.complete => (
                by_text,
                ": the patterns are too large to compare to the end".to_owned(),
            ),
            Some(d) => match (&d.backward, &d.forward) {
                (Some(w), None) => (
                    if x.is_none() {
                        by_text
                    } else {
                        Rule::PatternNarrowed
                    },
                    format!(": it accepts fewer strings ({w:?} no longer matches)"),
                ),
                (None, Some(w)) => (
                    if y.is_none() {
                        by_text
                    } else {
                        Rule::PatternWidened
                    },
                    format!(": it accepts more strings ({w:?} now matches)"),
                ),
                (Some(w), Some(v)) => (
                    Rule::PatternChanged,
                    format!(": {w:?} no longer matches and {v:?} now does"),
                ),
                (None, None) => (Rule::PatternEquivalent, String::new()),
            },
        };
        let mut f = self.keyword_finding(rule, o, n, "pattern", x, y, note);
        f.local_witness = match diff {
            // The shortest string the old pattern accepts and the new one rejects.
            Some(d) => d.backward.map(Value::String),
            None if y.is_some() => Some(json!({ "$pattern": y })),
            None => None,
        };
        out.push(f);
    }

    /// A finding for a string keyword that was added, removed or changed.
    #[expect(
        clippy::too_many_arguments,
        reason = "both nodes, rule, keyword, both values, message tail"
    )]
    fn keyword_finding(
        &self,
        rule: Rule,
        o: NodeId,
        n: NodeId,
        key: &str,
        x: &Option<String>,
        y: &Option<String>,
        note: String,
    ) -> Finding {
        let mut f = self.finding(
            rule,
            o,
            n,
            x.as_ref().map(|_| key),
            y.as_ref().map(|_| key),
            format!("`{key}` changed from {} to {}{note}", quoted(x), quoted(y)),
        );
        if x.is_none() {
            f.old_pointer = None;
        }
        if y.is_none() {
            f.new_pointer = None;
        }
        f.old = x.as_ref().map(|s| Value::String(s.clone()));
        f.new = y.as_ref().map(|s| Value::String(s.clone()));
        f
    }
}

pub(super) fn quoted(v: &Option<String>) -> String {
    v.as_ref()
        .map_or_else(|| "absent".to_owned(), |s| format!("{s:?}"))
}
