//! Annotations (`title`, `description`, `default`, …) and keywords the engine does not
//! understand: changes reported, the first never breaking, the second assumed to break.

use std::collections::BTreeSet;

use super::{Differ, Finding, NodeId, Rule, short};

impl Differ<'_, '_> {
    pub(super) fn compare_annotations(&self, o: NodeId, n: NodeId, out: &mut Vec<Finding>) {
        let (oa, na) = (&self.o.node(o).annotations, &self.n.node(n).annotations);
        let keys: BTreeSet<&String> = oa.keys().chain(na.keys()).collect();
        for key in keys {
            let (ov, nv) = (oa.get(key), na.get(key));
            if ov == nv {
                continue;
            }
            let rule = match key.as_str() {
                "$id" => Rule::IdChanged,
                "title" => Rule::TitleChanged,
                "description" => Rule::DescriptionChanged,
                "default" => Rule::DefaultChanged,
                "additionalItems" => Rule::IgnoredKeywordChanged,
                _ => Rule::AnnotationChanged,
            };
            let message = if rule == Rule::IgnoredKeywordChanged {
                format!("`{key}` changed where validators ignore it; no value's validity changes")
            } else {
                format!("`{key}` changed")
            };
            let mut f = self.finding(rule, o, n, Some(key), Some(key), message);
            f.old_pointer = ov.and(f.old_pointer.take());
            f.new_pointer = nv.and(f.new_pointer.take());
            f.old = ov.map(short);
            f.new = nv.map(short);
            out.push(f);
        }
    }

    pub(super) fn compare_unknown(&self, o: NodeId, n: NodeId, out: &mut Vec<Finding>) {
        let (ou, nu) = (&self.o.node(o).unknown, &self.n.node(n).unknown);
        let keys: BTreeSet<&String> = ou.keys().chain(nu.keys()).collect();
        for key in keys {
            let (ov, nv) = (ou.get(key), nu.get(key));
            if ov == nv {
                continue;
            }
            let mut f = self.finding(
                Rule::UnknownKeywordChanged,
                o,
                n,
                Some(key),
                Some(key),
                format!("the keyword `{key}` is not understood by Accord and changed; assuming it breaks both directions"),
            );
            f.old_pointer = ov.and(f.old_pointer.take());
            f.new_pointer = nv.and(f.new_pointer.take());
            f.old = ov.map(short);
            f.new = nv.map(short);
            out.push(f);
        }
    }
}
