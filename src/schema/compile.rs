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

/// Every violation of `instance` (empty when it is valid); with `mask`, instance
/// values are replaced by a placeholder in the messages, so that payload data stays
/// out of logs.
pub fn violations(
    validator: &jsonschema::Validator,
    instance: &Value,
    mask: bool,
) -> Vec<Violation> {
    validator
        .iter_errors(instance)
        .map(|e| Violation {
            instance_path: e.instance_path().to_string(),
            schema_path: e.schema_path().to_string(),
            message: if mask {
                e.masked().to_string()
            } else {
                e.to_string()
            },
        })
        .collect()
}
