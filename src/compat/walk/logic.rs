//! `not` and `if`/`then`/`else`: the keywords that reason about other schemas'
//! verdicts rather than about values directly.

use super::{CompatError, Differ, Finding, NodeId, Rule};

impl Differ<'_> {
    /// `not` reverses the direction: the new excluded set must lie inside the old one.
    pub(super) fn compare_not(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: NodeId,
        b: NodeId,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
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
        Ok(())
    }

    /// Conditionals with the same `if` compare branch by branch; a changed `if` is
    /// assumed to break both directions.
    pub(super) fn compare_conditional(
        &mut self,
        o: NodeId,
        n: NodeId,
        (oc, ot, oe): (NodeId, Option<NodeId>, Option<NodeId>),
        (nc, nt, ne): (NodeId, Option<NodeId>, Option<NodeId>),
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
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
            self.compare_optional(o, n, ot, nt, "then", "", out)?;
            self.compare_optional(o, n, oe, ne, "else", "", out)?;
        }
        Ok(())
    }
}
