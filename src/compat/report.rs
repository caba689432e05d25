use serde::Serialize;
use serde_json::Value;

use crate::domain::{Bump, Direction, Mode, Policy};

/// The most changes a report lists; the others are counted in `changes_total`.
pub const MAX_CHANGES_LISTED: usize = 100;
/// The longest old or new value a listed change quotes, in bytes of JSON; a longer one
/// is replaced by its beginning, an ellipsis and its full length.
pub const MAX_CHANGE_VALUE_BYTES: usize = 256;
/// The longest message of a listed change, in bytes.
pub const MAX_CHANGE_MESSAGE_BYTES: usize = 1024;
/// The largest witness a listed change carries, in bytes of JSON; a larger one is
/// left out.
pub const MAX_WITNESS_BYTES: usize = 4096;

/// One finding of the diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Stable kebab-case rule id, e.g. `enum-value-removed` (see docs/compatibility.md).
    pub rule: &'static str,
    /// Which directions this change breaks under the report's policy (empty: none).
    pub breaks: Vec<Direction>,
    /// Whether the change only touches annotations (`title`, `description`, …).
    pub annotation: bool,
    /// JSON pointer of the changed node in the old schema, when it exists there.
    pub old_pointer: Option<String>,
    /// JSON pointer of the changed node in the new schema, when it exists there.
    pub new_pointer: Option<String>,
    /// The instance locations affected, as a JSON pointer with `*` for "any item or
    /// property": `/items/*/sku`.
    pub instance_path: String,
    /// The old value (shortened when large).
    pub old: Option<Value>,
    /// The new value (shortened when large).
    pub new: Option<Value>,
    /// One line for people.
    pub message: String,
    /// The BACKWARD witness (the same as `witnesses.backward`): an instance the old
    /// schema accepts and the new one rejects. Serialized as `null` when the change
    /// breaks BACKWARD and none was found, left out when it does not break BACKWARD.
    pub witness: Option<Value>,
    /// The witnesses of a breaking change, one per direction it breaks (`None` for a
    /// change that breaks nothing, or one not listed in a report).
    pub witnesses: Option<Witnesses>,
    /// The reverse walk's local hint for a FORWARD witness, until the witness search
    /// replaces it; never serialized.
    pub(crate) forward_hint: Option<Value>,
}

/// Instances that show a breaking change: for each direction it breaks, one that the
/// reading schema rejects, or `null` with the reason in `missing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Witnesses {
    /// Present when the change breaks BACKWARD: an instance the old schema accepts and
    /// the new one rejects (`Some(None)`: none was found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backward: Option<Option<Value>>,
    /// Present when the change breaks FORWARD: an instance the new schema accepts and
    /// the old one rejects (`Some(None)`: none was found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward: Option<Option<Value>>,
    /// Why a direction has no witness, when one has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

impl Witnesses {
    /// The witness for `direction`, when the change breaks it and one was found.
    pub fn get(&self, direction: Direction) -> Option<&Value> {
        match direction {
            Direction::Backward => self.backward.as_ref()?.as_ref(),
            Direction::Forward => self.forward.as_ref()?.as_ref(),
        }
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Change", 12)?;
        st.serialize_field("rule", self.rule)?;
        st.serialize_field("breaks", &self.breaks)?;
        st.serialize_field("annotation", &self.annotation)?;
        st.serialize_field("old_pointer", &self.old_pointer)?;
        st.serialize_field("new_pointer", &self.new_pointer)?;
        st.serialize_field("instance_path", &self.instance_path)?;
        if let Some(old) = &self.old {
            st.serialize_field("old", old)?;
        }
        if let Some(new) = &self.new {
            st.serialize_field("new", new)?;
        }
        st.serialize_field("message", &self.message)?;
        let backward_asked = self
            .witnesses
            .as_ref()
            .is_some_and(|w| w.backward.is_some());
        if self.witness.is_some() || backward_asked {
            st.serialize_field("witness", &self.witness)?;
        }
        if let Some(w) = &self.witnesses {
            st.serialize_field("witnesses", w)?;
        }
        st.end()
    }
}

/// A previous version to check against.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    /// How the report names it, e.g. `1.4.0`.
    pub label: &'a str,
    /// Its schema.
    pub schema: &'a crate::schema::Schema,
}

/// The answer to "may this schema follow those versions?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Whether the candidate is compatible under `mode` and `policy`.
    pub compatible: bool,
    /// The mode checked.
    pub mode: Mode,
    /// The policy applied.
    pub policy: Policy,
    /// The bump the changes against the newest previous version require.
    pub required_bump: Bump,
    /// The changes against the newest previous version, or against the version that
    /// failed when a transitive check failed on an older one: at most
    /// [`MAX_CHANGES_LISTED`], the breaking ones first, each value quoted in at most
    /// [`MAX_CHANGE_VALUE_BYTES`].
    pub changes: Vec<Change>,
    /// How many changes there are, listed or not.
    pub changes_total: usize,
    /// Whether some changes are not listed (`changes_total` is larger than the list).
    pub truncated: bool,
    /// The label of the first version (newest first) the candidate is incompatible with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_version: Option<String>,
    /// The labels of the versions checked, newest first.
    pub checked_versions: Vec<String>,
}

/// The comparison could not be completed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompatError {
    /// The schemas are too large or too entangled to compare within the engine's
    /// budgets (pair comparisons per check, memory per walk).
    #[error("{0}")]
    Budget(Box<Exhausted>),
    /// The schemas nest deeper than the engine follows.
    #[error("the schemas nest deeper than {limit} levels (through $ref or directly)")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
}

/// What the engine knew when a budget ran out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exhausted {
    /// The budget that ran out, e.g. `2000000 steps` or `64 MiB of findings`.
    pub budget: String,
    /// How many pairs of subschemas were compared.
    pub pairs_compared: usize,
    /// The pair of subschemas where the work went (the one with the most member
    /// pairs among those being compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Place>,
    /// The first breaking differences found between the subschemas compared (at most
    /// 20). Each names its subschemas by their pointers; its instance path is relative
    /// to them. They were found, but the check did not finish, so they are not a
    /// verdict.
    pub found: Vec<Change>,
}

/// A pair of subschemas, old and new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// JSON pointer in the old schema (empty: the root).
    pub old_pointer: String,
    /// JSON pointer in the new schema.
    pub new_pointer: String,
    /// What the old subschema is: "`allOf` of 1500 schemas".
    pub old: String,
    /// What the new subschema is.
    pub new: String,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the comparison needs more than {}; the schemas are too large or too entangled to compare ({} pairs of subschemas compared",
            self.budget, self.pairs_compared
        )?;
        if let Some(at) = &self.at {
            write!(
                f,
                "; most of the work was old #{} ({}) against new #{} ({})",
                at.old_pointer, at.old, at.new_pointer, at.new
            )?;
        }
        if !self.found.is_empty() {
            write!(
                f,
                "; {} breaking difference{} found so far, such as {}: {}",
                self.found.len(),
                if self.found.len() == 1 { "" } else { "s" },
                self.found[0].rule,
                self.found[0].message
            )?;
        }
        f.write_str(")")
    }
}

impl CompatError {
    /// The same error seen from the other side: for a walk run new → old (a FORWARD
    /// check), whose "old" is the new schema.
    pub(crate) fn turned_around(self) -> Self {
        match self {
            CompatError::Budget(mut e) => {
                if let Some(at) = &mut e.at {
                    std::mem::swap(&mut at.old_pointer, &mut at.new_pointer);
                    std::mem::swap(&mut at.old, &mut at.new);
                }
                for c in &mut e.found {
                    std::mem::swap(&mut c.old_pointer, &mut c.new_pointer);
                    std::mem::swap(&mut c.old, &mut c.new);
                    c.breaks = vec![Direction::Forward];
                }
                CompatError::Budget(e)
            }
            other => other,
        }
    }
}

/// The changes a report lists, and how many there are: all of them when there are at
/// most [`MAX_CHANGES_LISTED`]; otherwise the breaking ones first, then the others, in
/// their order, up to the cap. Each listed change is cut to the caps on quoted values
/// and messages.
pub(crate) fn listed(changes: Vec<Change>) -> (Vec<Change>, usize) {
    let total = changes.len();
    let keep: Vec<bool> = if total <= MAX_CHANGES_LISTED {
        vec![true; total]
    } else {
        let breaking = changes.iter().filter(|c| !c.breaks.is_empty()).count();
        let mut room_breaking = breaking.min(MAX_CHANGES_LISTED);
        let mut room_other = MAX_CHANGES_LISTED - room_breaking;
        changes
            .iter()
            .map(|c| {
                let room = if c.breaks.is_empty() {
                    &mut room_other
                } else {
                    &mut room_breaking
                };
                let kept = *room > 0;
                *room = room.saturating_sub(1);
                kept
            })
            .collect()
    };
    let listed = changes
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(c, _)| cut(c))
        .collect();
    (listed, total)
}

/// A change with its quoted values and message cut to the caps.
fn cut(mut c: Change) -> Change {
    c.old = c.old.map(|v| cut_value(v, MAX_CHANGE_VALUE_BYTES));
    c.new = c.new.map(|v| cut_value(v, MAX_CHANGE_VALUE_BYTES));
    if c.message.len() > MAX_CHANGE_MESSAGE_BYTES {
        c.message = cut_text(&c.message, MAX_CHANGE_MESSAGE_BYTES);
    }
    c
}

/// `v`, or when its JSON is longer than `max` bytes, a string of its beginning, an
/// ellipsis and its full length.
fn cut_value(v: Value, max: usize) -> Value {
    let text = v.to_string();
    if text.len() <= max {
        v
    } else {
        Value::String(cut_text(&text, max))
    }
}

/// The first `max` bytes of `text` (at a character boundary), an ellipsis and the full
/// length.
fn cut_text(text: &str, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(rule: &'static str, breaking: bool, old: Value) -> Change {
        Change {
            rule,
            breaks: if breaking {
                vec![Direction::Backward]
            } else {
                Vec::new()
            },
            annotation: false,
            old_pointer: None,
            new_pointer: None,
            instance_path: String::new(),
            old: Some(old),
            new: None,
            message: "m".repeat(5000),
            witness: None,
            witnesses: None,
            forward_hint: None,
        }
    }

    #[test]
    fn a_long_list_keeps_the_breaking_changes_first_in_order_and_counts_all() {
        let mut changes: Vec<Change> = (0..150)
            .map(|i| change("enum-value-added", false, Value::from(i)))
            .collect();
        changes.extend((0..50).map(|i| change("enum-value-removed", true, Value::from(i))));
        let (listed, total) = listed(changes);
        assert_eq!(total, 200);
        assert_eq!(listed.len(), MAX_CHANGES_LISTED);
        // All 50 breaking ones are kept, with the first 50 others, in their order.
        assert_eq!(listed.iter().filter(|c| !c.breaks.is_empty()).count(), 50);
        assert_eq!(listed[0].old, Some(Value::from(0)));
        assert_eq!(listed[49].old, Some(Value::from(49)));
        assert_eq!(listed[50].rule, "enum-value-removed");
    }

    #[test]
    fn quoted_values_and_messages_are_cut_with_their_full_length() {
        let big = Value::String("x".repeat(10_000));
        let (listed, _) = listed(vec![change("const-changed", true, big)]);
        let old = listed[0].old.as_ref().unwrap().as_str().unwrap();
        assert!(old.len() < MAX_CHANGE_VALUE_BYTES + 32, "{old}");
        assert!(old.ends_with("… (10002 bytes)"), "{old}");
        assert!(listed[0].message.ends_with("… (5000 bytes)"));
    }
}
