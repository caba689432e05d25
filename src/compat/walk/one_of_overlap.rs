//! `oneOf` overlap: a value that matches two members is rejected by `oneOf`, so a member
//! that may overlap another breaks readers. Judged on an over-approximation of the JSON
//! types each member accepts (and on enumerated values).

use serde_json::Value;

use super::{Crit, Differ, Finding, Kind, Model, NodeId, Rule};

impl Differ<'_, '_> {
    pub(super) fn overlap_finding(&self, o: NodeId, n: NodeId, member: usize) -> Finding {
        let mut f = self.finding(
            Rule::OneOfMembersOverlap,
            o,
            n,
            None,
            None,
            format!("`oneOf` member {member} may also match values of another member, which `oneOf` then rejects"),
        );
        f.new_pointer = Some(format!("{}/oneOf/{member}", self.n.pointer(n)));
        f
    }
}

// ----- type sets, for `oneOf` overlap ------------------------------------------------

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const OBJECT: u8 = 4;
const ARRAY: u8 = 8;
const STRING: u8 = 16;
const INTEGER: u8 = 32;
const FRACTION: u8 = 64;
const ALL: u8 = 127;

pub(super) fn value_type(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::String(_) => STRING,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                INTEGER
            } else {
                FRACTION
            }
        }
    }
}

/// An over-approximation of the JSON types a node accepts.
pub(super) fn type_set(model: &Model, id: NodeId, depth: usize) -> u8 {
    if depth > 16 {
        return ALL;
    }
    match &model.node(id).kind {
        Kind::Any | Kind::Not(_) | Kind::Conditional { .. } => ALL,
        Kind::Never => 0,
        Kind::Object(o) => {
            if o.typed {
                OBJECT
            } else {
                ALL
            }
        }
        Kind::Array(a) => {
            if a.typed {
                ARRAY
            } else {
                ALL
            }
        }
        Kind::String(s) => {
            if s.typed {
                STRING
            } else {
                ALL
            }
        }
        Kind::Number(n) => match (n.typed, n.integer) {
            (false, _) => ALL,
            (true, true) => INTEGER,
            (true, false) => INTEGER | FRACTION,
        },
        Kind::Boolean => BOOLEAN,
        Kind::Null => NULL,
        Kind::Enum { values, .. } => values.iter().fold(0, |acc, v| acc | value_type(v)),
        Kind::Combined {
            crit: Crit::AllOf,
            subs,
            ..
        } => subs
            .iter()
            .fold(ALL, |acc, s| acc & type_set(model, *s, depth + 1)),
        Kind::Combined { subs, .. } => subs
            .iter()
            .fold(0, |acc, s| acc | type_set(model, *s, depth + 1)),
    }
}

pub(super) fn enum_values<'a>(model: &'a Model<'_>, id: NodeId) -> Option<&'a [Value]> {
    match &model.node(id).kind {
        Kind::Enum { values, .. } => Some(values),
        _ => None,
    }
}

/// Whether node `a` of `ma` may accept a value that node `b` of `mb` accepts too
/// (`limit` further restricts `b` to those types).
pub(super) fn overlaps(ma: &Model, a: NodeId, mb: &Model, b: NodeId, limit: u8) -> bool {
    if let (Some(x), Some(y)) = (enum_values(ma, a), enum_values(mb, b)) {
        return x.iter().any(|v| y.contains(v));
    }
    type_set(ma, a, 0) & type_set(mb, b, 0) & limit != 0
}
