//! Accord's validator for a checked [`Schema`], and the violations it reports: the
//! one construction shared by the consumer library and the server's validate
//! endpoint, so that a record is judged the same way on both sides.
//!
//! Formats are asserted for every draft when asked (the `jsonschema` crate only
//! asserts them for drafts 4, 6 and 7 by default), and `email` rejects the
//! display-name form `Name <user@example.com>`, which the crate accepts by default but
//! which is not an addr-spec (RFC 5321 §4.1.2).

use serde_json::Value;

use super::{Schema, SchemaError};

/// One reason an instance does not satisfy a schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// JSON pointer to the offending value in the instance (`""` is the root).
    pub instance_path: String,
    /// JSON pointer to the keyword that failed, in the schema.
    pub schema_path: String,
    /// What is wrong, in words (values masked when asked).
    pub message: String,
}

/// Builds the validator of `schema` with Accord's format rules (see the module docs;
/// the strict `email` check comes with [`Schema::validator_options`]);
/// `formats: false` leaves `format` an annotation. A failure is
/// [`SchemaError::Invalid`] naming the keyword.
pub fn build_validator(
    schema: &Schema,
    formats: bool,
) -> Result<jsonschema::Validator, SchemaError> {
    schema
        .validator_options()
        .should_validate_formats(formats)
        .build(schema.value())
        .map_err(|e| SchemaError::Invalid {
            pointer: e.schema_path().to_string(),
            message: e.to_string(),
        })
}

/// The default for [`ViolationCaps::max_value_bytes`]: 256 bytes.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 256;
/// The default for [`ViolationCaps::max_violations`]: 100 per record.
pub const DEFAULT_MAX_VIOLATIONS: usize = 100;

/// Bounds on what [`violations`] keeps of one record's violations, so that a large
/// value or a schema with many failing branches cannot make an answer (or a
/// dead-letter line) grow with the payload: a 900 KB string against 1,000 `allOf`
/// members was once a 900 MB list of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViolationCaps {
    /// The longest instance value quoted in a message, as JSON text in bytes; a
    /// longer one is cut, with an ellipsis and its full length. A whole message is
    /// kept under four times this (plus room for its words), whatever else it quotes
    /// (an enum's values, a list of unexpected properties).
    pub max_value_bytes: usize,
    /// The most violations kept per record; the rest are only counted.
    pub max_violations: usize,
}

impl Default for ViolationCaps {
    fn default() -> Self {
        Self {
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_violations: DEFAULT_MAX_VIOLATIONS,
        }
    }
}

impl ViolationCaps {
    fn max_message_bytes(self) -> usize {
        self.max_value_bytes.saturating_mul(4).saturating_add(256)
    }
}

/// One record's violations: the first [`ViolationCaps::max_violations`], and how many
/// there were. Reads as a slice of the listed ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations {
    /// The violations kept, in the validator's order.
    pub listed: Vec<Violation>,
    /// How many violations the record has (at least `listed.len()`).
    pub total: usize,
}

impl std::ops::Deref for Violations {
    type Target = [Violation];

    fn deref(&self) -> &[Violation] {
        &self.listed
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.listed.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

impl Violations {
    /// Adds a violation that the validator did not produce (a reason for a record
    /// that `is_valid` rejects and `iter_errors` does not explain).
    pub fn push(&mut self, violation: Violation) {
        self.listed.push(violation);
        self.total += 1;
    }
}

/// The violations of `instance` (none when it is valid), within `caps`; with `mask`,
/// instance values are replaced by a placeholder in the messages, so that payload
/// data stays out of logs.
pub fn violations(
    validator: &jsonschema::Validator,
    instance: &Value,
    mask: bool,
    caps: ViolationCaps,
) -> Violations {
    let mut out = Violations::default();
    for e in validator.iter_errors(instance) {
        out.total += 1;
        if out.listed.len() >= caps.max_violations {
            continue;
        }
        let message = if let jsonschema::error::ValidationErrorKind::Enum { options } = e.kind() {
            let value = if mask {
                "value".to_owned()
            } else {
                cut_value(e.instance(), caps.max_value_bytes)
                    .unwrap_or_else(|| e.instance().to_string())
            };
            bounded(
                &format_args!("{value} is not one of {}", allowed_values(options, caps)),
                caps.max_message_bytes(),
            )
        } else if mask {
            bounded(&e.masked(), caps.max_message_bytes())
        } else {
            match cut_value(e.instance(), caps.max_value_bytes) {
                None => bounded(&e, caps.max_message_bytes()),
                Some(cut) => bounded(&e.masked_with(cut), caps.max_message_bytes()),
            }
        };
        out.listed.push(Violation {
            instance_path: e.instance_path().to_string(),
            schema_path: e.schema_path().to_string(),
            message,
        });
    }
    out
}

/// The most values of an `enum` listed in a message (the validator's own message
/// lists two and counts the rest, which hides most of a four-value enum).
const MAX_LISTED_VALUES: usize = 20;

/// An `enum`'s values as a list for a message: up to [`MAX_LISTED_VALUES`], each cut
/// like an instance value, then how many more there are.
fn allowed_values(options: &Value, caps: ViolationCaps) -> String {
    let Some(values) = options.as_array() else {
        return options.to_string();
    };
    let mut listed: Vec<String> = values
        .iter()
        .take(MAX_LISTED_VALUES)
        .map(|v| cut_value(v, caps.max_value_bytes).unwrap_or_else(|| v.to_string()))
        .collect();
    if values.len() > MAX_LISTED_VALUES {
        listed.push(format!("{} more", values.len() - MAX_LISTED_VALUES));
    }
    listed.join(", ")
}

/// Keeps the first `max` bytes written and counts them all.
struct Capped {
    kept: Vec<u8>,
    max: usize,
    total: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.max.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&buf[..buf.len().min(room)]);
        self.total += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let _ = std::io::Write::write(self, s.as_bytes());
        Ok(())
    }
}

impl Capped {
    fn new(max: usize) -> Self {
        Self {
            kept: Vec::new(),
            max,
            total: 0,
        }
    }

    /// The kept bytes, up to the last whole character.
    fn text(&self) -> &str {
        match std::str::from_utf8(&self.kept) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&self.kept[..e.valid_up_to()]).unwrap_or_default(),
        }
    }
}

/// `value` as JSON text cut to `max` bytes with an ellipsis and its full length, or
/// `None` when it fits (the message then quotes it whole, as the validator does).
fn cut_value(value: &Value, max: usize) -> Option<String> {
    let mut out = Capped::new(max);
    // Writing into `Capped` cannot fail.
    let _ = serde_json::to_writer(&mut out, value);
    (out.total > max).then(|| format!("{}… ({} bytes)", out.text(), out.total))
}

/// `message` rendered into at most `max` bytes; a longer one is cut with an ellipsis
/// and its full length. Never holds more than `max` bytes of it.
fn bounded(message: &impl std::fmt::Display, max: usize) -> String {
    let mut out = Capped::new(max);
    let _ = std::fmt::write(&mut out, format_args!("{message}"));
    if out.total <= max {
        return out.text().to_owned();
    }
    format!("{}… (a message of {} bytes)", out.text(), out.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{NoResolver, ParseOptions};
    use serde_json::json;

    fn validator(schema: Value) -> jsonschema::Validator {
        let schema = Schema::from_value(schema, &ParseOptions::default(), &NoResolver).unwrap();
        build_validator(&schema, true).unwrap()
    }

    #[test]
    fn a_long_quoted_value_is_cut_with_an_ellipsis_and_its_full_length() {
        let v = validator(json!({"type": "integer"}));
        let long = "x".repeat(10_000);
        let found = violations(&v, &json!(long), false, ViolationCaps::default());
        assert_eq!(found.total, 1);
        let message = &found[0].message;
        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.contains("… (10002 bytes)"), "{message}");
        assert!(
            message.ends_with(r#"is not of type "integer""#),
            "{message}"
        );
        let short = violations(&v, &json!("abc"), false, ViolationCaps::default());
        assert_eq!(short[0].message, r#""abc" is not of type "integer""#);
    }

    #[test]
    fn an_enum_violation_lists_every_allowed_value_up_to_twenty() {
        let v = validator(json!({"enum": ["a", "b", "c", "d"]}));
        let found = violations(&v, &json!("z"), false, ViolationCaps::default());
        assert_eq!(found[0].message, r#""z" is not one of "a", "b", "c", "d""#);
        let masked = violations(&v, &json!("z"), true, ViolationCaps::default());
        assert_eq!(
            masked[0].message,
            r#"value is not one of "a", "b", "c", "d""#
        );
        let many = validator(json!({"enum": (0..25).collect::<Vec<_>>()}));
        let found = violations(&many, &json!(99), false, ViolationCaps::default());
        assert!(
            found[0].message.ends_with(", 18, 19, 5 more"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let v = validator(json!({"type": "integer"}));
        let caps = ViolationCaps {
            max_value_bytes: 4,
            ..ViolationCaps::default()
        };
        let found = violations(&v, &json!("ééééé"), false, caps);
        assert!(
            found[0].message.starts_with("\"é… ("),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn violations_beyond_the_cap_are_counted_not_kept() {
        let members: Vec<Value> = (0..1000)
            .map(|j| json!({"type": "string", "maxLength": j}))
            .collect();
        let v = validator(json!({ "allOf": members }));
        let payload = json!("y".repeat(100_000));
        let found = violations(&v, &payload, false, ViolationCaps::default());
        assert_eq!(found.total, 1000);
        assert_eq!(found.len(), DEFAULT_MAX_VIOLATIONS);
        let bytes: usize = found.iter().map(|f| f.message.len()).sum();
        assert!(bytes < 100 * 1024, "{bytes} bytes of messages");
    }

    #[test]
    fn a_message_quoting_much_else_is_bounded_too() {
        // `not` quotes its whole subschema.
        let options: Vec<Value> = (0..5000).map(|i| json!(format!("value-{i}"))).collect();
        let v = validator(json!({ "not": { "enum": options } }));
        let found = violations(&v, &json!("value-1"), false, ViolationCaps::default());
        let message = &found[0].message;
        assert!(message.len() < 2000, "{} bytes", message.len());
        assert!(message.contains("(a message of "), "{message}");
    }
}
