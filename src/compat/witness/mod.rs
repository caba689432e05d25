//! Witnesses: instances that show a breaking change, in each direction it breaks.
//!
//! For BACKWARD, an instance the old schema accepts and the new one rejects; for
//! FORWARD, one the new schema accepts and the old one rejects. Each is built, not
//! searched for at random: a valid instance of the accepting schema (required
//! properties filled with minimal values, `example`), with a local value placed at the
//! change's instance path. The local values come from the change itself (the walk's
//! hint: the removed enum value, the bound to cross) and from the two local subschemas
//! (`candidates`). Every candidate is checked with the real validators of both schemas
//! and dropped unless it holds, so a witness is never wrong, only sometimes missing;
//! the rejecting schema must also refuse it along the change's instance path (at it,
//! above or below), so that a witness shows its own change and not another change of
//! the same pair. A change that breaks a direction and has no witness for it says why.
//!
//! The search is bounded: at most [`MAX_TRIES_PER_DIRECTION`] candidates per change and
//! direction ([`CONDITIONAL_TRIES_PER_DIRECTION`] with conditionals on the way), [`MAX_TRIES`] and [`TIME_LIMIT`] per report, and no candidate larger than
//! [`super::MAX_WITNESS_BYTES`] is validated.

mod candidates;
mod conditions;
mod example;
mod pattern;

use std::time::{Duration, Instant};

use rustc_hash::FxHashSet;
use serde_json::{Value, json};

use crate::domain::Direction;
use crate::schema::Schema;

use super::report::MAX_WITNESS_BYTES;
use super::{Change, Witnesses};
use candidates::{Local, Side};

/// The most candidates validated for one change and direction.
pub const MAX_TRIES_PER_DIRECTION: usize = 256;
/// The most candidates validated for one change and direction when conditionals lie on
/// the way to it (each local value is placed on several variants of the example).
pub const CONDITIONAL_TRIES_PER_DIRECTION: usize = 1024;
/// The most candidates validated for one report.
pub const MAX_TRIES: usize = 8192;
/// The longest the search runs for one report (a safety net: the counts above bound it
/// first on every schema seen so far).
pub const TIME_LIMIT: Duration = Duration::from_millis(500);

/// The schema that accepts every value, for a path no subschema describes.
static ANYTHING: Value = Value::Bool(true);

/// The reason a direction has no witness because the search did not run to its end.
const OUT_OF_BUDGET: &str = "not searched to the end: the report's witness budget ran out";

/// Replaces the walk's hints in `changes` by verified witnesses for every direction
/// each change breaks (or by `null` and a reason).
pub fn attach(old: &Schema, new: &Schema, changes: &mut [Change]) {
    if changes.iter().all(|c| c.breaks.is_empty()) {
        for c in changes.iter_mut() {
            c.witness = None;
            c.forward_hint = None;
        }
        return;
    }
    let mut search = Search {
        tries: 0,
        started: Instant::now(),
        roots: [None, None],
    };
    for c in changes.iter_mut() {
        let backward_hint = c.witness.take();
        let forward_hint = c.forward_hint.take();
        if c.breaks.is_empty() {
            continue;
        }
        let mut w = Witnesses::default();
        let mut reasons = Vec::new();
        for dir in c.breaks.clone() {
            let (accepts, rejects, hint, label) = match dir {
                Direction::Backward => (old, new, backward_hint.as_ref(), "backward"),
                Direction::Forward => (new, old, forward_hint.as_ref(), "forward"),
            };
            // The value on the accepting side first: the enum value added, the old const.
            let quoted: Vec<&Value> = match dir {
                Direction::Backward => [&c.old, &c.new],
                Direction::Forward => [&c.new, &c.old],
            }
            .into_iter()
            .flatten()
            .collect();
            let found = search.find(dir, accepts, rejects, &c.instance_path, hint, &quoted);
            let slot = match dir {
                Direction::Backward => &mut w.backward,
                Direction::Forward => &mut w.forward,
            };
            match found {
                Ok(v) => *slot = Some(Some(v)),
                Err(reason) => {
                    *slot = Some(None);
                    reasons.push(format!("{label}: {reason}"));
                }
            }
        }
        c.witness = w.backward.clone().flatten();
        if !reasons.is_empty() {
            w.missing = Some(reasons.join("; "));
        }
        c.witnesses = Some(w);
    }
}

struct Search {
    tries: usize,
    started: Instant,
    /// An example of the old and of the new schema (the base every local value is
    /// placed on), and more examples of each, built on first use.
    roots: [Option<(Option<Value>, Vec<Value>)>; 2],
}

impl Search {
    /// An instance `accepts` accepts and `rejects` rejects, built around
    /// `instance_path`, or why there is none.
    fn find<'s>(
        &mut self,
        dir: Direction,
        accepts: &'s Schema,
        rejects: &'s Schema,
        instance_path: &str,
        hint: Option<&Value>,
        quoted: &[&Value],
    ) -> Result<Value, &'static str> {
        // Building the candidates costs too (on a large schema, more than trying
        // them): none are built once the report's budget is spent.
        if self.tries >= MAX_TRIES || self.started.elapsed() > TIME_LIMIT {
            return Err(OUT_OF_BUDGET);
        }
        let slot = usize::from(dir == Direction::Forward);
        let (first, more) = &*self.roots[slot]
            .get_or_insert_with(|| example::example_and_more(accepts.value(), accepts.value()));
        let base = first.clone().unwrap_or(json!({}));
        let mut path: Vec<String> = instance_path.split('/').skip(1).map(unescape).collect();
        name_pattern_properties(accepts.value(), &mut path);
        let side = |s: &'s Schema, path: &[String]| Side {
            local: schema_at(s.value(), path).unwrap_or(&ANYTHING),
            root: s.value(),
        };
        let locals =
            candidates::local_values(hint, quoted, side(accepts, &path), side(rejects, &path));
        // The parent's candidates too: for `/*` ("any item or property"), an array with
        // one more item or an object with one more property shows what index 0 or
        // `x_extra` does not.
        let parent = &path[..path.len().saturating_sub(1)];
        // When what a candidate leaves of the base is alone over the size cap, every
        // candidate placed there is too large: it is only checked to be placeable,
        // never built. And when the path's candidates already are, the parent's
        // (the costly ones: one per property of the enclosing object) can change
        // nothing and are not made at all.
        let oversized = |p: &[String]| size_floor(&base, p) > MAX_WITNESS_BYTES;
        let (locals_oversized, parent_oversized) = (oversized(&path), oversized(parent));
        let path_too_large = locals_oversized
            && locals
                .iter()
                .any(|l| placeable(&base, &path, l, accepts.value()));
        let (parent_locals, parent_left_out) =
            if path.is_empty() || parent_oversized && path_too_large {
                (Vec::new(), false)
            } else {
                let room = MAX_WITNESS_BYTES.saturating_sub(size_floor(&base, parent));
                candidates::local_values_within(
                    None,
                    &[],
                    side(accepts, parent),
                    side(rejects, parent),
                    room,
                )
            };
        let mut seen = FxHashSet::default();
        let mut tried = 0;
        let mut too_large = parent_left_out;
        let at_root = path.is_empty();
        let at = |p: &[String], skip: bool, l: Local| -> Option<Candidate> {
            // A value the accepting schema refuses where it goes, by that place's own
            // `type` or `required`, is no witness: not tried (trying it would compile
            // both validators for nothing).
            let refused = match &l {
                Local::Value(v) => {
                    schema_at(accepts.value(), p).is_some_and(|s| surely_refused(s, v))
                }
                // Leaving out a property its parent requires.
                Local::Absent => p.split_last().is_some_and(|(name, up)| {
                    schema_at(accepts.value(), up)
                        .and_then(|s| s.get("required"))
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(name.as_str())))
                }),
                Local::Merge(_) => false,
            };
            if refused {
                return None;
            }
            if skip {
                placeable(&base, p, &l, accepts.value()).then_some(Candidate::TooLarge)
            } else {
                place(&base, p, l, accepts.value()).map(Candidate::Value)
            }
        };
        // Every local value placed at the path, then the parent's at the parent, then
        // (for a nested path) the whole accepting example and the palette at the root,
        // where a change of a parent (a type that changed above the path) shows.
        // With conditionals on the way, each local value is placed on the variants of
        // the base that satisfy or fail each `if` first (a witness that shows which
        // branch it takes), after the variants alone (where a changed `if` shows).
        let variants = conditions::variants(&base, accepts.value(), rejects.value(), &path);
        let on_variants = |l: &Local| -> Vec<Candidate> {
            if locals_oversized {
                return Vec::new();
            }
            variants
                .iter()
                .filter_map(|v| place(v, &path, l.clone(), accepts.value()))
                .map(Candidate::Value)
                .collect()
        };
        let placed = variants
            .iter()
            .cloned()
            .map(Candidate::Value)
            .chain(
                conditions::branch_locals(accepts.value(), rejects.value(), &path)
                    .into_iter()
                    .chain(locals)
                    .flat_map(|l| {
                        on_variants(&l)
                            .into_iter()
                            .chain(at(&path, locals_oversized, l))
                    }),
            )
            .chain(
                parent_locals
                    .into_iter()
                    .filter_map(|l| at(parent, parent_oversized, l)),
            )
            .chain(
                (!at_root)
                    .then(|| {
                        first
                            .iter()
                            .chain(more)
                            .cloned()
                            .chain(candidates::palette())
                    })
                    .into_iter()
                    .flatten()
                    .filter(|v| !surely_refused(accepts.value(), v))
                    .map(Candidate::Value),
            );
        // Each local value is tried on every variant: allow as many more tries as
        // there are kinds of variants (satisfying, failing, with a branch's example).
        let limit = if variants.is_empty() {
            MAX_TRIES_PER_DIRECTION
        } else {
            CONDITIONAL_TRIES_PER_DIRECTION
        };
        for candidate in placed {
            if tried >= limit {
                break;
            }
            if self.tries >= MAX_TRIES || self.started.elapsed() > TIME_LIMIT {
                return Err(OUT_OF_BUDGET);
            }
            let Candidate::Value(candidate) = candidate else {
                too_large = true;
                continue;
            };
            let Some(text) = text_within(&candidate, MAX_WITNESS_BYTES) else {
                too_large = true;
                continue;
            };
            if !seen.insert(text) {
                continue;
            }
            tried += 1;
            self.tries += 1;
            // The validators are compiled here, for the first candidate that needs
            // them, not before: most comparisons never get this far.
            let (Ok(accepting), Ok(rejecting)) = (accepts.validator(), rejects.validator()) else {
                return Err("the validator of one of the two schemas cannot be built");
            };
            if accepting.is_valid(&candidate)
                && !rejecting.is_valid(&candidate)
                && rejected_along(rejecting, &candidate, instance_path)
            {
                return Ok(candidate);
            }
        }
        Err(if too_large {
            "the instances built from the change are larger than 4 KiB"
        } else {
            "none of the instances built from the change holds: the change may be stricter than needed (see docs/compatibility.md)"
        })
    }
}

/// Whether `schema` refuses `value` by its own `type` and `required` alone, so trying
/// it would only cost the validators' compilation: a small value tried where an
/// object with required properties goes. Exact, never a guess: `type` and `required`
/// are checked whatever else the schema says (its `$ref`, combinators and other
/// keywords can only refuse more), and the schema is one that applies to the place
/// (the root, or what [`schema_at`] finds for a path).
fn surely_refused(schema: &Value, value: &Value) -> bool {
    let Value::Object(root) = schema else {
        return false;
    };
    let type_of = |t: &str| match (t, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_))
        | ("number", Value::Number(_)) => true,
        // Integer-valued numbers count as integers (1.0 from draft-06 on): any number
        // might, so only non-numbers are surely not integers.
        ("integer", Value::Number(_)) => true,
        _ => false,
    };
    let refused_by_type = match root.get("type") {
        Some(Value::String(t)) => !type_of(t),
        Some(Value::Array(ts)) => !ts.iter().filter_map(Value::as_str).any(type_of),
        _ => false,
    };
    let refused_by_required = match (root.get("required"), value) {
        (Some(Value::Array(names)), Value::Object(obj)) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|n| !obj.contains_key(n)),
        _ => false,
    };
    refused_by_type || refused_by_required
}

/// Whether `rejects` refuses `candidate` at the change's instance path, below it or
/// above it (an ancestor's `required` or `additionalProperties`), not only elsewhere: a
/// witness shows its own change, not another change of the same pair.
fn rejected_along(rejects: &jsonschema::Validator, candidate: &Value, instance_path: &str) -> bool {
    let want: Vec<&str> = instance_path.split('/').skip(1).collect();
    rejects.iter_errors(candidate).any(|e| {
        e.instance_path()
            .as_str()
            .split('/')
            .skip(1)
            .zip(&want)
            .all(|(got, want)| *want == "*" || got == *want)
    })
}

/// `base` with `local` placed at `path` (`*` means "the first item" or "an extra
/// property"); a missing parent on the way is filled with an example of its subschema
/// in `root`.
fn place(base: &Value, path: &[String], local: Local, root: &Value) -> Option<Value> {
    let mut doc = base.clone();
    let Some((last, parents)) = path.split_last() else {
        return match local {
            Local::Value(v) => Some(v),
            Local::Absent => None,
            Local::Merge(m) => {
                let mut obj = doc.as_object().cloned().unwrap_or_default();
                obj.extend(m);
                Some(Value::Object(obj))
            }
        };
    };
    let mut cur = &mut doc;
    for (depth, seg) in parents.iter().enumerate() {
        let filler = || {
            schema_at(root, &path[..=depth])
                .and_then(|s| example::example(s, root))
                .filter(|v| v.is_object() || v.is_array())
                .unwrap_or(json!({}))
        };
        cur = match cur {
            Value::Object(o) => o.entry(property_name(seg)).or_insert_with(filler),
            Value::Array(a) => {
                let i = index(seg)?;
                while a.len() <= i {
                    a.push(filler());
                }
                &mut a[i]
            }
            _ => return None,
        };
    }
    match (cur, local) {
        (Value::Object(o), Local::Absent) => {
            o.remove(last)?;
        }
        (Value::Object(o), Local::Value(v)) => {
            o.insert(property_name(last), v);
        }
        (Value::Object(o), Local::Merge(m)) => {
            if let Value::Object(t) = o.entry(last.clone()).or_insert(json!({})) {
                t.extend(m);
            }
        }
        (Value::Array(a), Local::Value(v)) => {
            let i = index(last)?;
            while a.len() <= i {
                a.push(v.clone());
            }
            a[i] = v;
        }
        _ => return None,
    }
    Some(doc)
}

/// A candidate of the search: built, or known to be over the size cap.
enum Candidate {
    Value(Value),
    TooLarge,
}

/// The JSON text of `v` (as `Value`'s `Display` writes it), or `None` when it is longer
/// than `limit` bytes: the writing stops there.
fn text_within(v: &Value, limit: usize) -> Option<String> {
    struct Capped(Vec<u8>, usize);
    impl std::io::Write for Capped {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + bytes.len() > self.1 {
                return Err(std::io::ErrorKind::FileTooLarge.into());
            }
            self.0.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new(), limit);
    serde_json::to_writer(&mut out, v).ok()?;
    String::from_utf8(out.0).ok()
}

/// The length of `v`'s JSON text.
fn text_len(v: &Value) -> usize {
    usize::MAX - text_room(v, usize::MAX).unwrap_or(0)
}

/// Whether `v`'s compact JSON text is at most `room` bytes (counted up to `room + 1`
/// only).
pub(super) fn fits(v: &Value, room: usize) -> bool {
    text_room(v, room).is_some()
}

/// The room left of `room` bytes once `v`'s JSON text is written, or `None` when it
/// does not fit (the writing stops there).
fn text_room(v: &Value, room: usize) -> Option<usize> {
    struct Room(usize);
    impl std::io::Write for Room {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .checked_sub(bytes.len())
                .ok_or(std::io::ErrorKind::FileTooLarge)?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut left = Room(room);
    serde_json::to_writer(&mut left, v).ok()?;
    Some(left.0)
}

/// A lower bound on the text length of every candidate [`place`] builds from `base`
/// with a value at `path`: [`place`] changes only the value its parent segments lead
/// to, so the text of the base outside that value stays. Descends through objects
/// only, as far as the base goes (a missing member is inserted, which only adds text).
/// Zero for an empty path (the candidate is the local value itself).
fn size_floor(base: &Value, path: &[String]) -> usize {
    let Some((_, parents)) = path.split_last() else {
        return 0;
    };
    let mut changed = base;
    for seg in parents {
        match changed {
            Value::Object(o) => match o.get(&property_name(seg)) {
                Some(v) => changed = v,
                None => break,
            },
            _ => break,
        }
    }
    text_len(base) - text_len(changed)
}

/// Whether [`place`] would build a candidate (it gives up on a path through a scalar,
/// an index over 64, or a local value that does not fit where it goes), without
/// building it.
fn placeable(base: &Value, path: &[String], local: &Local, root: &Value) -> bool {
    fn walk(cur: &Value, depth: usize, path: &[String], local: &Local, root: &Value) -> bool {
        let seg = &path[depth];
        if depth + 1 == path.len() {
            return match (cur, local) {
                (Value::Object(o), Local::Absent) => o.contains_key(seg),
                (Value::Object(_), Local::Value(_) | Local::Merge(_)) => true,
                (Value::Array(_), Local::Value(_)) => index(seg).is_some(),
                _ => false,
            };
        }
        let filler = || {
            schema_at(root, &path[..=depth])
                .and_then(|s| example::example(s, root))
                .filter(|v| v.is_object() || v.is_array())
                .unwrap_or(json!({}))
        };
        let next = match cur {
            Value::Object(o) => o.get(&property_name(seg)),
            Value::Array(a) => match index(seg) {
                Some(i) => a.get(i),
                None => return false,
            },
            _ => return false,
        };
        match next {
            Some(v) => walk(v, depth + 1, path, local, root),
            None => walk(&filler(), depth + 1, path, local, root),
        }
    }
    if path.is_empty() {
        return !matches!(local, Local::Absent);
    }
    walk(base, 0, path, local, root)
}

/// Replaces each `*` of `path` that stands for a property matching a
/// `patternProperties` entry of the accepting schema by a name drawn from its pattern,
/// so that the witness reaches the subschema that changed.
fn name_pattern_properties(root: &Value, path: &mut [String]) {
    for i in 0..path.len() {
        if path[i] != "*" {
            continue;
        }
        let Some(patterns) = schema_at(root, &path[..i])
            .and_then(|s| s.get("patternProperties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        if let Some(name) = patterns.keys().find_map(|p| pattern::samples(p, 1).pop()) {
            path[i] = name;
        }
    }
}

/// The property a path segment names (`*`: some property no schema declares).
fn property_name(seg: &str) -> String {
    if seg == "*" {
        "x_extra".to_owned()
    } else {
        seg.to_owned()
    }
}

/// The item a path segment names (`*`: the first); at most 64.
fn index(seg: &str) -> Option<usize> {
    let i = if seg == "*" { 0 } else { seg.parse().ok()? };
    (i < 64).then_some(i)
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// The subschema of `root` that applies at an instance path, following `properties`,
/// `items`/`prefixItems`, `additionalProperties` and local `$ref`s (best effort).
fn schema_at<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    schema_below(root, root, path)
}

/// [`schema_at`] from the subschema `start` of `root` (whose `$ref`s `root` resolves).
fn schema_below<'v>(start: &'v Value, root: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut cur = example::deref(start, root, 0)?;
    for seg in path {
        let index = seg.parse::<usize>().ok();
        let next = cur
            .get("properties")
            .and_then(|p| p.get(seg))
            .or_else(|| {
                cur.get("prefixItems")
                    .and_then(|p| index.and_then(|i| p.get(i)))
            })
            .or_else(|| {
                cur.get("items").and_then(|p| {
                    if p.is_array() {
                        index.and_then(|i| p.get(i))
                    } else {
                        Some(p)
                    }
                })
            })
            .or_else(|| pattern_property(cur, seg))
            .or_else(|| cur.get("additionalProperties").filter(|v| v.is_object()))?;
        cur = example::deref(next, root, 0)?;
    }
    Some(cur)
}

/// The first `patternProperties` subschema of `schema` whose pattern matches `name`.
fn pattern_property<'v>(schema: &'v Value, name: &str) -> Option<&'v Value> {
    schema
        .get("patternProperties")?
        .as_object()?
        .iter()
        .find(|(p, _)| regex::Regex::new(p).is_ok_and(|re| re.is_match(name)))
        .map(|(_, s)| s)
}

/// `f` as a JSON integer when it is one, else as a float.
fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

/// The `i`th of a run of distinct values like `item`.
fn distinct(item: &Value, i: usize) -> Value {
    match item {
        Value::Null => json!(i),
        Value::String(s) => json!(format!("{s}{i}")),
        Value::Number(_) => json!(i),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_the_roots_type_or_required_refuse_are_surely_refused() {
        let closed = json!({"type": "object", "required": ["a"], "properties": {"a": {}}});
        assert!(surely_refused(&closed, &json!({})));
        assert!(surely_refused(&closed, &json!(0)));
        assert!(!surely_refused(&closed, &json!({"a": 1})));
        let either = json!({"type": ["integer", "null"]});
        assert!(surely_refused(&either, &json!("x")));
        assert!(!surely_refused(&either, &json!(0.5)));
        assert!(!surely_refused(&either, &Value::Null));
        // Whatever a combinator or a reference says is left to the validators.
        assert!(!surely_refused(
            &json!({"anyOf": [{"type": "string"}]}),
            &json!(0)
        ));
        assert!(!surely_refused(&json!(true), &json!(0)));
    }
}
