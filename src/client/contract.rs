//! A compiled contract: the schema, where it came from, and the validator built
//! from it with Accord's format rules.
//!
//! The validator is built by [`crate::schema::build_validator`], which the server's
//! validate endpoint uses too: formats are asserted for every draft unless
//! [`ValidateOptions::formats`] is off, and `email` rejects the display-name form.

use std::sync::Arc;

use serde_json::Value;

use crate::schema::{Schema, SchemaError, ViolationCaps, Violations, build_validator, violations};

use super::ClientError;

/// How a contract's validator is built and how it reports violations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidateOptions {
    /// Assert `format` (`email`, `date-time`, …) for every draft. Default: on.
    pub formats: bool,
    /// Replace instance values in violation messages with a placeholder, so that
    /// payload data (PII) stays out of logs and dead-letter files. Default: off.
    pub mask_values: bool,
    /// How much of a record's violations is kept: quoted values cut to 256 bytes, the
    /// first 100 violations listed (the same caps as the server's validate endpoint).
    pub caps: ViolationCaps,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            formats: true,
            mask_values: false,
            caps: ViolationCaps::default(),
        }
    }
}

/// Where a contract came from: its registry identity, when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ContractInfo {
    /// The contract name (`orders.order_placed`), or the file name for a local schema.
    pub name: String,
    /// The semantic version served by the registry; `None` for a local schema.
    pub version: Option<semver::Version>,
    /// The registry's global schema id; `None` for a local schema.
    pub schema_id: Option<i64>,
    /// The sha256 fingerprint of the schema's canonical form.
    pub fingerprint: String,
    /// Whether the registry marks this version deleted (still served, not for new data).
    #[serde(default)]
    pub deleted: bool,
}

/// A schema compiled into a validator, ready to check many instances. `Send + Sync`:
/// share it behind an `Arc` between threads.
pub struct Contract {
    info: ContractInfo,
    compiled: Arc<Compiled>,
}

/// The part of a contract that is expensive to build, shared by every contract
/// (name, version) that points at the same schema.
pub(crate) struct Compiled {
    schema: Schema,
    options: ValidateOptions,
    validator: jsonschema::Validator,
}

impl Compiled {
    /// Builds the validator with Accord's format rules (see the module docs).
    pub(crate) fn new(schema: Schema, options: ValidateOptions) -> Result<Self, ClientError> {
        let validator = build_validator(&schema, options.formats).map_err(|e| match e {
            SchemaError::Invalid { pointer, message } => ClientError::Compile { pointer, message },
            other => ClientError::Schema(other),
        })?;
        Ok(Self {
            schema,
            options,
            validator,
        })
    }
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract")
            .field("info", &self.info)
            .field("options", &self.compiled.options)
            .finish_non_exhaustive()
    }
}

impl Contract {
    /// Compiles `schema` with `options`. `info.fingerprint` is taken from the schema.
    pub fn compile(
        info: ContractInfo,
        schema: Schema,
        options: ValidateOptions,
    ) -> Result<Self, ClientError> {
        Ok(Self::from_compiled(
            info,
            Arc::new(Compiled::new(schema, options)?),
        ))
    }

    pub(crate) fn from_compiled(mut info: ContractInfo, compiled: Arc<Compiled>) -> Self {
        compiled
            .schema
            .fingerprint()
            .clone_into(&mut info.fingerprint);
        Self { info, compiled }
    }

    /// The contract's identity.
    pub fn info(&self) -> &ContractInfo {
        &self.info
    }

    /// The contract name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The version served by the registry, if any.
    pub fn version(&self) -> Option<&semver::Version> {
        self.info.version.as_ref()
    }

    /// The registry's schema id, if any.
    pub fn schema_id(&self) -> Option<i64> {
        self.info.schema_id
    }

    /// The checked schema document.
    pub fn schema(&self) -> &Schema {
        &self.compiled.schema
    }

    /// The options the validator was built with.
    pub fn options(&self) -> ValidateOptions {
        self.compiled.options
    }

    /// Whether two contracts share one compiled validator (same schema, same options).
    pub fn shares_validator_with(&self, other: &Contract) -> bool {
        Arc::ptr_eq(&self.compiled, &other.compiled)
    }

    /// Whether `instance` satisfies the contract. The fast path: it stops at the
    /// first failure and builds no messages.
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.compiled.validator.is_valid(instance)
    }

    /// Checks `instance` and returns its violations (none when it is valid): the
    /// first [`ViolationCaps::max_violations`], with quoted values cut, and their total.
    pub fn validate(&self, instance: &Value) -> Violations {
        let options = self.compiled.options;
        violations(
            &self.compiled.validator,
            instance,
            options.mask_values,
            options.caps,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{NoResolver, ParseOptions};
    use serde_json::json;

    fn contract(schema: Value, options: ValidateOptions) -> Contract {
        let schema = Schema::from_value(schema, &ParseOptions::default(), &NoResolver).unwrap();
        Contract::compile(ContractInfo::default(), schema, options).unwrap()
    }

    const DRAFTS: [&str; 5] = [
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    ];

    #[test]
    fn formats_are_asserted_under_every_draft_by_default() {
        for draft in DRAFTS {
            let c = contract(
                json!({"$schema": draft, "format": "email"}),
                ValidateOptions::default(),
            );
            assert!(!c.is_valid(&json!("not-an-email")), "{draft}");
            assert!(c.is_valid(&json!("a@example.com")), "{draft}");
        }
        let c = contract(json!({"format": "date-time"}), ValidateOptions::default());
        assert!(!c.is_valid(&json!("2024-01-01")));
    }

    #[test]
    fn formats_are_annotations_when_assertion_is_off() {
        let off = ValidateOptions {
            formats: false,
            ..ValidateOptions::default()
        };
        for draft in DRAFTS {
            let c = contract(json!({"$schema": draft, "format": "email"}), off);
            assert!(c.is_valid(&json!("not-an-email")), "{draft}");
        }
    }

    #[test]
    fn an_email_with_display_text_is_invalid() {
        let c = contract(json!({"format": "email"}), ValidateOptions::default());
        assert!(!c.is_valid(&json!("Jane Doe <jane@example.com>")));
        assert!(!c.is_valid(&json!("<jane@example.com>")));
        assert!(c.is_valid(&json!("jane.doe+tag@example.com")));
    }

    #[test]
    fn validate_reports_every_violation_with_both_paths() {
        let c = contract(
            json!({"type": "object", "required": ["id"], "properties": {"n": {"type": "integer"}}}),
            ValidateOptions::default(),
        );
        let mut v = c.validate(&json!({"n": "seven"})).listed;
        v.sort_by(|a, b| a.schema_path.cmp(&b.schema_path));
        assert_eq!(v.len(), 2, "{v:?}");
        assert_eq!(v[0].instance_path, "/n");
        assert_eq!(v[0].schema_path, "/properties/n/type");
        assert!(v[0].message.contains("seven"), "{}", v[0].message);
        assert_eq!(v[1].instance_path, "");
        assert_eq!(v[1].schema_path, "/required");
        assert!(c.validate(&json!({"id": 1})).is_empty());
    }

    #[test]
    fn validate_keeps_the_first_violations_with_cut_values_and_counts_them_all() {
        let members: Vec<Value> = (0..300).map(|j| json!({"maxLength": j})).collect();
        let capped = ValidateOptions {
            caps: ViolationCaps {
                max_value_bytes: 16,
                max_violations: 10,
            },
            ..ValidateOptions::default()
        };
        let c = contract(json!({ "allOf": members }), capped);
        let v = c.validate(&json!("q".repeat(1000)));
        assert_eq!((v.len(), v.total), (10, 300));
        assert!(v[0].message.contains("… (1002 bytes)"), "{}", v[0].message);
        assert!(v[0].message.len() < 100, "{}", v[0].message);
    }

    #[test]
    fn masking_keeps_instance_values_out_of_messages() {
        let masked = ValidateOptions {
            mask_values: true,
            ..ValidateOptions::default()
        };
        let c = contract(json!({"properties": {"ssn": {"type": "integer"}}}), masked);
        let v = c.validate(&json!({"ssn": "123-45-6789"}));
        assert_eq!(v.len(), 1);
        assert!(!v[0].message.contains("123-45-6789"), "{}", v[0].message);
    }
}
