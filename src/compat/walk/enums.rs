//! `enum` and `const`: values compared canonically (`1` and `1.0` are one value).

use rustc_hash::FxHashSet as HashSet;
use serde_json::Value;

use super::{Differ, Finding, NodeId, Rule, short};

impl Differ<'_, '_> {
    #[expect(clippy::too_many_arguments, reason = "both sides of an enumeration")]
    pub(super) fn compare_enum(
        &self,
        o: NodeId,
        n: NodeId,
        ov: &[Value],
        nv: &[Value],
        oc: bool,
        nc: bool,
        out: &mut Vec<Finding>,
    ) {
        let key = |v: &Value| crate::schema::canonical_text(v, crate::schema::Draft::Draft7);
        let oset: HashSet<String> = ov.iter().map(key).collect();
        let nset: HashSet<String> = nv.iter().map(key).collect();
        let (okw, nkw) = (
            if oc { "const" } else { "enum" },
            if nc { "const" } else { "enum" },
        );
        if oc && nc {
            if oset != nset {
                let mut f = self.finding(
                    Rule::ConstChanged,
                    o,
                    n,
                    Some(okw),
                    Some(nkw),
                    format!("`const` changed from {} to {}", ov[0], nv[0]),
                );
                f.old = Some(short(&ov[0]));
                f.new = Some(short(&nv[0]));
                f.local_witness = Some(ov[0].clone());
                out.push(f);
            }
            return;
        }
        for v in ov.iter().filter(|v| !nset.contains(&key(v))) {
            let mut f = self.finding(
                Rule::EnumValueRemoved,
                o,
                n,
                Some(okw),
                Some(nkw),
                format!("the value {} is no longer allowed", short(v)),
            );
            f.old = Some(short(v));
            f.local_witness = Some(v.clone());
            out.push(f);
        }
        for v in nv.iter().filter(|v| !oset.contains(&key(v))) {
            let mut f = self.finding(
                Rule::EnumValueAdded,
                o,
                n,
                Some(okw),
                Some(nkw),
                format!("the value {} is now allowed", short(v)),
            );
            f.new = Some(short(v));
            out.push(f);
        }
    }
}
