//! `dependentRequired` and `dependentSchemas` (draft-07 `dependencies` in both forms).

use serde_json::json;

use super::{CompatError, Differ, Finding, NodeId, ObjectKind, Rule};

impl Differ<'_, '_> {
    pub(super) fn compare_dependencies(
        &mut self,
        o: NodeId,
        n: NodeId,
        a: &ObjectKind,
        b: &ObjectKind,
        out: &mut Vec<Finding>,
    ) -> Result<(), CompatError> {
        for (key, aset) in &a.dependent_required {
            match b.dependent_required.get(key) {
                None => {
                    let mut f = self.finding(
                        Rule::DependencyRemoved,
                        o,
                        n,
                        Some("dependentRequired"),
                        None,
                        format!("`{key}` no longer requires {aset:?}"),
                    );
                    f.new_pointer = None;
                    out.push(f);
                }
                Some(bset) if bset == aset => {}
                Some(bset) => {
                    let rule = if bset.is_superset(aset) {
                        Rule::DependencyExtended
                    } else if bset.is_subset(aset) {
                        Rule::DependencyNarrowed
                    } else {
                        Rule::DependencyChanged
                    };
                    let mut f = self.finding(
                        rule,
                        o,
                        n,
                        Some("dependentRequired"),
                        Some("dependentRequired"),
                        format!("`{key}` now requires {bset:?} instead of {aset:?}"),
                    );
                    f.old = Some(json!(aset));
                    f.new = Some(json!(bset));
                    out.push(f);
                }
            }
        }
        for (key, bset) in &b.dependent_required {
            if !a.dependent_required.contains_key(key) {
                let mut f = self.finding(
                    Rule::DependencyAdded,
                    o,
                    n,
                    None,
                    Some("dependentRequired"),
                    format!("`{key}` now requires {bset:?}"),
                );
                f.old_pointer = None;
                f.new = Some(json!(bset));
                out.push(f);
            }
        }
        for (key, asch) in &a.dependent_schemas {
            match b.dependent_schemas.get(key) {
                Some(bsch) => {
                    self.sub(*asch, *bsch, "", out)?;
                }
                None => {
                    let mut f = self.finding(
                        Rule::DependentSchemaRemoved,
                        *asch,
                        n,
                        None,
                        None,
                        format!("the schema that applies when `{key}` is present was removed"),
                    );
                    f.new_pointer = None;
                    out.push(f);
                }
            }
        }
        for (key, bsch) in &b.dependent_schemas {
            if !a.dependent_schemas.contains_key(key) {
                let mut f = self.finding(
                    Rule::DependentSchemaAdded,
                    o,
                    *bsch,
                    None,
                    None,
                    format!("a schema now applies when `{key}` is present"),
                );
                f.old_pointer = None;
                out.push(f);
            }
        }
        Ok(())
    }
}
