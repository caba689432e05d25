//! The rule table: every kind of change the engine reports, with its stable id and
//! which directions it breaks under each policy.
//!
//! Columns: the variant, the kebab-case id, breaks BACKWARD under (strict, lenient),
//! breaks FORWARD under (strict, lenient), annotation only, Confluent's nearest
//! `Difference.Type` ("" when Confluent has none), and a summary for the docs.
//!
//! "Breaks BACKWARD" means some instance valid under the old schema is invalid under
//! the new one. "Breaks FORWARD" means the reverse change would break BACKWARD: some
//! instance valid under the new schema is invalid under the old one. Ids are a public
//! contract: never rename one; add a new rule instead. docs/compatibility.md
//! documents every id (a test checks that).

use crate::domain::{Direction, Policy};

macro_rules! rules {
    ($( $var:ident = $id:literal, [$bs:literal, $bl:literal], [$fs:literal, $fl:literal], $ann:literal, $conf:literal, $sum:literal; )*) => {
        /// A kind of change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $( #[doc = $sum] $var, )* }

        impl Rule {
            /// Every rule, in table order.
            pub const ALL: &'static [Rule] = &[ $( Rule::$var, )* ];

            /// The stable kebab-case id.
            pub fn id(self) -> &'static str {
                match self { $( Rule::$var => $id, )* }
            }

            /// One sentence on what the rule means.
            pub fn summary(self) -> &'static str {
                match self { $( Rule::$var => $sum, )* }
            }

            /// Confluent's nearest difference type, if it has one.
            pub fn confluent(self) -> Option<&'static str> {
                match self { $( Rule::$var => if $conf.is_empty() { None } else { Some($conf) }, )* }
            }

            /// Whether the change only touches annotations.
            pub fn is_annotation(self) -> bool {
                match self { $( Rule::$var => $ann, )* }
            }

            fn table(self) -> [bool; 4] {
                match self { $( Rule::$var => [$bs, $bl, $fs, $fl], )* }
            }
        }
    };
}

impl Rule {
    /// Whether this change breaks `direction` under `policy`.
    pub fn breaks(self, direction: Direction, policy: Policy) -> bool {
        let t = self.table();
        match (direction, policy) {
            (Direction::Backward, Policy::Strict) => t[0],
            (Direction::Backward, Policy::Lenient) => t[1],
            (Direction::Forward, Policy::Strict) => t[2],
            (Direction::Forward, Policy::Lenient) => t[3],
        }
    }

    /// The directions this change breaks under `policy`.
    pub fn broken_directions(self, policy: Policy) -> Vec<Direction> {
        [Direction::Backward, Direction::Forward]
            .into_iter()
            .filter(|d| self.breaks(*d, policy))
            .collect()
    }

    /// Looks a rule up by id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

rules! {
    // Annotations: never break anything.
    IdChanged = "id-changed", [false, false], [false, false], true, "ID_CHANGED", "The `$id` changed.";
    TitleChanged = "title-changed", [false, false], [false, false], true, "TITLE_CHANGED", "The `title` annotation changed.";
    DescriptionChanged = "description-changed", [false, false], [false, false], true, "DESCRIPTION_CHANGED", "The `description` annotation changed.";
    DefaultChanged = "default-changed", [false, false], [false, false], true, "DEFAULT_CHANGED", "The `default` annotation changed.";
    AnnotationChanged = "annotation-changed", [false, false], [false, false], true, "", "Another annotation changed: `examples`, `$comment`, `deprecated`, `readOnly`, `writeOnly`, `contentMediaType`, `contentEncoding` or `contentSchema`.";
    IgnoredKeywordChanged = "ignored-keyword-changed", [false, false], [false, false], true, "", "A keyword changed where validators ignore it: `additionalItems` without an array of `items` before it (or under 2020-12, which replaced it); no instance's validity changes.";

    // Whole schemas and types.
    SchemaAdded = "schema-added", [true, true], [false, false], false, "SCHEMA_ADDED", "A subschema was added where there was none (e.g. `items`, `propertyNames`, `contains`): values it rejects were accepted before.";
    SchemaRemoved = "schema-removed", [false, false], [true, true], false, "SCHEMA_REMOVED", "A subschema was removed: everything it rejected is now accepted.";
    TypeWidened = "type-widened", [false, false], [true, true], false, "TYPE_EXTENDED", "The accepted types grew (e.g. `integer` became `number`, or `null` was added to a `type` array).";
    TypeNarrowed = "type-narrowed", [true, true], [false, false], false, "TYPE_NARROWED", "The accepted types shrank (e.g. `number` became `integer`, a type left a `type` array, or `type` was declared where it was absent).";
    TypeChanged = "type-changed", [true, true], [true, true], false, "TYPE_CHANGED", "The schema accepts a different kind of value (e.g. `string` became `object`).";
    AcceptsNothing = "schema-rejects-everything", [true, true], [false, false], false, "", "The schema became `false` (or `not: {}`): it rejects every value.";
    UnknownKeywordChanged = "unknown-keyword-changed", [true, true], [true, true], false, "", "A keyword Accord does not understand was added, removed or changed; it is assumed to break both directions.";

    // Strings.
    MaxLengthAdded = "max-length-added", [true, true], [false, false], false, "MAX_LENGTH_ADDED", "`maxLength` was added.";
    MaxLengthRemoved = "max-length-removed", [false, false], [true, true], false, "MAX_LENGTH_REMOVED", "`maxLength` was removed.";
    MaxLengthIncreased = "max-length-increased", [false, false], [true, true], false, "MAX_LENGTH_INCREASED", "`maxLength` grew.";
    MaxLengthDecreased = "max-length-decreased", [true, true], [false, false], false, "MAX_LENGTH_DECREASED", "`maxLength` shrank.";
    MinLengthAdded = "min-length-added", [true, true], [false, false], false, "MIN_LENGTH_ADDED", "`minLength` was added.";
    MinLengthRemoved = "min-length-removed", [false, false], [true, true], false, "MIN_LENGTH_REMOVED", "`minLength` was removed.";
    MinLengthIncreased = "min-length-increased", [true, true], [false, false], false, "MIN_LENGTH_INCREASED", "`minLength` grew.";
    MinLengthDecreased = "min-length-decreased", [false, false], [true, true], false, "MIN_LENGTH_DECREASED", "`minLength` shrank.";
    PatternAdded = "pattern-added", [true, true], [false, false], false, "PATTERN_ADDED", "`pattern` was added.";
    PatternRemoved = "pattern-removed", [false, false], [true, true], false, "PATTERN_REMOVED", "`pattern` was removed.";
    PatternChanged = "pattern-changed", [true, true], [true, true], false, "PATTERN_CHANGED", "`pattern` changed: each pattern accepts strings the other rejects, or Accord cannot compare them (look-around, back-references, word boundaries, or too large) and assumes both directions break.";
    PatternNarrowed = "pattern-narrowed", [true, true], [false, false], false, "PATTERN_CHANGED", "`pattern` changed and accepts fewer strings: every string it accepts now was accepted before (compared as regular languages).";
    PatternWidened = "pattern-widened", [false, false], [true, true], false, "PATTERN_CHANGED", "`pattern` changed and accepts more strings: every string accepted before still is (compared as regular languages).";
    PatternEquivalent = "pattern-equivalent", [false, false], [false, false], true, "", "`pattern` was rewritten, added or removed, but accepts exactly the same strings (`a|b` → `b|a`; `.*` is the same as no pattern).";
    FormatAdded = "format-added", [true, true], [false, false], false, "", "`format` was added (Accord asserts formats; Confluent ignores them).";
    FormatRemoved = "format-removed", [false, false], [true, true], false, "", "`format` was removed.";
    FormatChanged = "format-changed", [true, true], [true, true], false, "", "`format` changed.";

    // Numbers.
    MaximumAdded = "maximum-added", [true, true], [false, false], false, "MAXIMUM_ADDED", "An upper bound (`maximum`) was added.";
    MaximumRemoved = "maximum-removed", [false, false], [true, true], false, "MAXIMUM_REMOVED", "The upper bound (`maximum`) was removed.";
    MaximumIncreased = "maximum-increased", [false, false], [true, true], false, "MAXIMUM_INCREASED", "The upper bound (`maximum`) was raised.";
    MaximumDecreased = "maximum-decreased", [true, true], [false, false], false, "MAXIMUM_DECREASED", "The upper bound (`maximum`) was lowered.";
    ExclusiveMaximumAdded = "exclusive-maximum-added", [true, true], [false, false], false, "EXCLUSIVE_MAXIMUM_ADDED", "An exclusive upper bound was added.";
    ExclusiveMaximumRemoved = "exclusive-maximum-removed", [false, false], [true, true], false, "EXCLUSIVE_MAXIMUM_REMOVED", "The exclusive upper bound was removed.";
    ExclusiveMaximumIncreased = "exclusive-maximum-increased", [false, false], [true, true], false, "EXCLUSIVE_MAXIMUM_INCREASED", "The upper bound was raised (the new bound is exclusive).";
    ExclusiveMaximumDecreased = "exclusive-maximum-decreased", [true, true], [false, false], false, "EXCLUSIVE_MAXIMUM_DECREASED", "The upper bound was lowered (the new bound is exclusive).";
    MinimumAdded = "minimum-added", [true, true], [false, false], false, "MINIMUM_ADDED", "A lower bound (`minimum`) was added.";
    MinimumRemoved = "minimum-removed", [false, false], [true, true], false, "MINIMUM_REMOVED", "The lower bound (`minimum`) was removed.";
    MinimumIncreased = "minimum-increased", [true, true], [false, false], false, "MINIMUM_INCREASED", "The lower bound (`minimum`) was raised.";
    MinimumDecreased = "minimum-decreased", [false, false], [true, true], false, "MINIMUM_DECREASED", "The lower bound (`minimum`) was lowered.";
    ExclusiveMinimumAdded = "exclusive-minimum-added", [true, true], [false, false], false, "EXCLUSIVE_MINIMUM_ADDED", "An exclusive lower bound was added.";
    ExclusiveMinimumRemoved = "exclusive-minimum-removed", [false, false], [true, true], false, "EXCLUSIVE_MINIMUM_REMOVED", "The exclusive lower bound was removed.";
    ExclusiveMinimumIncreased = "exclusive-minimum-increased", [true, true], [false, false], false, "EXCLUSIVE_MINIMUM_INCREASED", "The lower bound was raised (the new bound is exclusive).";
    ExclusiveMinimumDecreased = "exclusive-minimum-decreased", [false, false], [true, true], false, "EXCLUSIVE_MINIMUM_DECREASED", "The lower bound was lowered (the new bound is exclusive).";
    MultipleOfAdded = "multiple-of-added", [true, true], [false, false], false, "MULTIPLE_OF_ADDED", "`multipleOf` was added.";
    MultipleOfRemoved = "multiple-of-removed", [false, false], [true, true], false, "MULTIPLE_OF_REMOVED", "`multipleOf` was removed.";
    MultipleOfExpanded = "multiple-of-expanded", [true, true], [false, false], false, "MULTIPLE_OF_EXPANDED", "The new `multipleOf` is a multiple of the old one: fewer numbers qualify.";
    MultipleOfReduced = "multiple-of-reduced", [false, false], [true, true], false, "MULTIPLE_OF_REDUCED", "The old `multipleOf` is a multiple of the new one: more numbers qualify.";
    MultipleOfChanged = "multiple-of-changed", [true, true], [true, true], false, "MULTIPLE_OF_CHANGED", "`multipleOf` changed to a value that is neither a multiple nor a divisor of the old one.";

    // Enumerations.
    EnumValueAdded = "enum-value-added", [false, false], [true, true], false, "ENUM_ARRAY_EXTENDED", "A value was added to `enum` (or `const` became an `enum` holding it).";
    EnumValueRemoved = "enum-value-removed", [true, true], [false, false], false, "ENUM_ARRAY_NARROWED", "A value was removed from `enum`.";
    ConstChanged = "const-changed", [true, true], [true, true], false, "ENUM_ARRAY_CHANGED", "`const` changed.";

    // Objects: required, dependencies, bounds, additional and unevaluated properties.
    RequiredPropertyAdded = "required-property-added", [true, true], [false, false], false, "REQUIRED_ATTRIBUTE_ADDED", "A property became required (the property existed, or was never declared).";
    RequiredPropertyWithDefaultAdded = "required-property-with-default-added", [true, false], [false, false], false, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", "A property with a `default` became required: breaks validation of old data under strict; lenient readers fill in the default.";
    RequiredPropertyRemoved = "required-property-removed", [false, false], [true, true], false, "REQUIRED_ATTRIBUTE_REMOVED", "A property is no longer required.";
    DependencyAdded = "dependent-required-added", [true, true], [false, false], false, "DEPENDENCY_ARRAY_ADDED", "A `dependentRequired` (draft-07 `dependencies` array) entry was added.";
    DependencyRemoved = "dependent-required-removed", [false, false], [true, true], false, "DEPENDENCY_ARRAY_REMOVED", "A `dependentRequired` entry was removed.";
    DependencyExtended = "dependent-required-extended", [true, true], [false, false], false, "DEPENDENCY_ARRAY_EXTENDED", "A `dependentRequired` entry requires more properties.";
    DependencyNarrowed = "dependent-required-narrowed", [false, false], [true, true], false, "DEPENDENCY_ARRAY_NARROWED", "A `dependentRequired` entry requires fewer properties.";
    DependencyChanged = "dependent-required-changed", [true, true], [true, true], false, "DEPENDENCY_ARRAY_CHANGED", "A `dependentRequired` entry requires different properties.";
    DependentSchemaAdded = "dependent-schema-added", [true, true], [false, false], false, "DEPENDENCY_SCHEMA_ADDED", "A `dependentSchemas` (draft-07 `dependencies` schema) entry was added.";
    DependentSchemaRemoved = "dependent-schema-removed", [false, false], [true, true], false, "DEPENDENCY_SCHEMA_REMOVED", "A `dependentSchemas` entry was removed.";
    MaxPropertiesAdded = "max-properties-added", [true, true], [false, false], false, "MAX_PROPERTIES_ADDED", "`maxProperties` was added.";
    MaxPropertiesRemoved = "max-properties-removed", [false, false], [true, true], false, "MAX_PROPERTIES_REMOVED", "`maxProperties` was removed.";
    MaxPropertiesIncreased = "max-properties-increased", [false, false], [true, true], false, "MAX_PROPERTIES_INCREASED", "`maxProperties` grew.";
    MaxPropertiesDecreased = "max-properties-decreased", [true, true], [false, false], false, "MAX_PROPERTIES_DECREASED", "`maxProperties` shrank.";
    MinPropertiesAdded = "min-properties-added", [true, true], [false, false], false, "MIN_PROPERTIES_ADDED", "`minProperties` was added.";
    MinPropertiesRemoved = "min-properties-removed", [false, false], [true, true], false, "MIN_PROPERTIES_REMOVED", "`minProperties` was removed.";
    MinPropertiesIncreased = "min-properties-increased", [true, true], [false, false], false, "MIN_PROPERTIES_INCREASED", "`minProperties` grew.";
    MinPropertiesDecreased = "min-properties-decreased", [false, false], [true, true], false, "MIN_PROPERTIES_DECREASED", "`minProperties` shrank.";
    AdditionalPropertiesAllowed = "additional-properties-allowed", [false, false], [true, true], false, "ADDITIONAL_PROPERTIES_ADDED", "Undeclared properties were forbidden (`additionalProperties: false`) and are now allowed.";
    AdditionalPropertiesForbidden = "additional-properties-forbidden", [true, false], [false, false], false, "ADDITIONAL_PROPERTIES_REMOVED", "Undeclared properties were allowed and are now forbidden (`additionalProperties: false`).";
    AdditionalPropertiesNarrowed = "additional-properties-narrowed", [true, false], [false, false], false, "ADDITIONAL_PROPERTIES_NARROWED", "Undeclared properties were unconstrained and now must match a schema.";
    AdditionalPropertiesWidened = "additional-properties-widened", [false, false], [true, true], false, "ADDITIONAL_PROPERTIES_EXTENDED", "Undeclared properties had to match a schema and are now unconstrained.";
    UnevaluatedPropertiesAllowed = "unevaluated-properties-allowed", [false, false], [true, true], false, "UNEVALUATED_PROPERTIES_ADDED", "Unevaluated properties were forbidden and are now allowed.";
    UnevaluatedPropertiesForbidden = "unevaluated-properties-forbidden", [true, false], [false, false], false, "UNEVALUATED_PROPERTIES_REMOVED", "Unevaluated properties were allowed and are now forbidden.";
    UnevaluatedPropertiesNarrowed = "unevaluated-properties-narrowed", [true, false], [false, false], false, "UNEVALUATED_PROPERTIES_NARROWED", "Unevaluated properties were unconstrained and now must match a schema.";
    UnevaluatedPropertiesWidened = "unevaluated-properties-widened", [false, false], [true, true], false, "UNEVALUATED_PROPERTIES_EXTENDED", "Unevaluated properties had to match a schema and are now unconstrained.";
    PatternPropertyAdded = "pattern-property-added", [true, true], [false, false], false, "", "A `patternProperties` entry was added whose schema rejects values the old schema accepted for matching names (Confluent ignores this).";
    PatternPropertyRemoved = "pattern-property-removed", [false, false], [true, true], false, "", "A `patternProperties` entry was removed.";

    // Objects: properties added and removed, by content model (Confluent's tables).
    PropertyWithEmptySchemaAddedToOpenModel = "property-with-empty-schema-added-to-open-model", [false, false], [false, false], false, "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", "A property that accepts anything was declared in an open object.";
    RequiredPropertyAddedToOpenModel = "required-property-added-to-open-model", [true, true], [false, false], false, "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "A new required property (no default) was added to an open object.";
    RequiredPropertyWithDefaultAddedToOpenModel = "required-property-with-default-added-to-open-model", [true, false], [false, false], false, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL", "A new required property with a default was added to an open object.";
    PropertyAddedToOpenModel = "property-added-to-open-model", [true, false], [false, false], false, "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "A new optional property was added to an open object: old data may already hold that name with any value.";
    RequiredPropertyAddedToClosedModel = "required-property-added-to-closed-model", [true, true], [false, false], false, "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "A new required property (no default) was added to a closed or partially open object.";
    RequiredPropertyWithDefaultAddedToClosedModel = "required-property-with-default-added-to-closed-model", [true, false], [false, false], false, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", "A new required property with a default was added to a closed or partially open object (Confluent accepts this under STRICT; Accord does not, since old data lacks the property).";
    PropertyAddedToClosedModel = "property-added-to-closed-model", [false, false], [true, false], false, "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "A new optional property was added to a closed or partially open object.";
    PropertyWithFalseRemovedFromClosedModel = "property-with-false-removed-from-closed-model", [false, false], [false, false], false, "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "A property declared `false` was removed from a closed object (it stays forbidden).";
    PropertyRemovedFromOpenModel = "property-removed-from-open-model", [false, false], [true, false], false, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", "A property was removed from an open object: any value is now accepted under that name.";
    PropertyRemovedFromClosedModel = "property-removed-from-closed-model", [true, false], [false, false], false, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "A property was removed from a closed object: old data holding it is now rejected.";
    PropertyAddedCoveredByPartialModel = "property-added-covered-by-partial-model", [false, false], [false, false], false, "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A new property's schema accepts everything the old catch-all (`additionalProperties`/`patternProperties`) accepted for that name.";
    PropertyAddedNotCoveredByPartialModel = "property-added-not-covered-by-partial-model", [true, false], [false, false], false, "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A new property's schema rejects values the old catch-all accepted for that name.";
    PropertyRemovedCoveredByPartialModel = "property-removed-covered-by-partial-model", [false, false], [false, false], false, "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A removed property's values are still accepted by the new catch-all.";
    PropertyRemovedNotCoveredByPartialModel = "property-removed-not-covered-by-partial-model", [true, false], [false, false], false, "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A removed property's old values are rejected by the new catch-all.";

    // Arrays.
    MaxItemsAdded = "max-items-added", [true, true], [false, false], false, "MAX_ITEMS_ADDED", "`maxItems` was added.";
    MaxItemsRemoved = "max-items-removed", [false, false], [true, true], false, "MAX_ITEMS_REMOVED", "`maxItems` was removed.";
    MaxItemsIncreased = "max-items-increased", [false, false], [true, true], false, "MAX_ITEMS_INCREASED", "`maxItems` grew.";
    MaxItemsDecreased = "max-items-decreased", [true, true], [false, false], false, "MAX_ITEMS_DECREASED", "`maxItems` shrank.";
    MinItemsAdded = "min-items-added", [true, true], [false, false], false, "MIN_ITEMS_ADDED", "`minItems` was added.";
    MinItemsRemoved = "min-items-removed", [false, false], [true, true], false, "MIN_ITEMS_REMOVED", "`minItems` was removed.";
    MinItemsIncreased = "min-items-increased", [true, true], [false, false], false, "MIN_ITEMS_INCREASED", "`minItems` grew.";
    MinItemsDecreased = "min-items-decreased", [false, false], [true, true], false, "MIN_ITEMS_DECREASED", "`minItems` shrank.";
    MaxContainsAdded = "max-contains-added", [true, true], [false, false], false, "MAX_CONTAINS_ADDED", "`maxContains` was added.";
    MaxContainsRemoved = "max-contains-removed", [false, false], [true, true], false, "MAX_CONTAINS_REMOVED", "`maxContains` was removed.";
    MaxContainsIncreased = "max-contains-increased", [false, false], [true, true], false, "MAX_CONTAINS_INCREASED", "`maxContains` grew.";
    MaxContainsDecreased = "max-contains-decreased", [true, true], [false, false], false, "MAX_CONTAINS_DECREASED", "`maxContains` shrank.";
    MinContainsAdded = "min-contains-added", [true, true], [false, false], false, "MIN_CONTAINS_ADDED", "`minContains` above 1 was added.";
    MinContainsRemoved = "min-contains-removed", [false, false], [true, true], false, "MIN_CONTAINS_REMOVED", "`minContains` was removed (the default is 1).";
    MinContainsIncreased = "min-contains-increased", [true, true], [false, false], false, "MIN_CONTAINS_INCREASED", "`minContains` grew.";
    MinContainsDecreased = "min-contains-decreased", [false, false], [true, true], false, "MIN_CONTAINS_DECREASED", "`minContains` shrank.";
    UniqueItemsAdded = "unique-items-added", [true, true], [false, false], false, "UNIQUE_ITEMS_ADDED", "`uniqueItems: true` was added.";
    UniqueItemsRemoved = "unique-items-removed", [false, false], [true, true], false, "UNIQUE_ITEMS_REMOVED", "`uniqueItems: true` was removed.";
    AdditionalItemsAllowed = "additional-items-allowed", [false, false], [true, true], false, "ADDITIONAL_ITEMS_ADDED", "Items beyond the positional ones were forbidden and are now allowed.";
    AdditionalItemsForbidden = "additional-items-forbidden", [true, true], [false, false], false, "ADDITIONAL_ITEMS_REMOVED", "Items beyond the positional ones were allowed and are now forbidden.";
    AdditionalItemsNarrowed = "additional-items-narrowed", [true, true], [false, false], false, "ADDITIONAL_ITEMS_NARROWED", "Items beyond the positional ones were unconstrained and now must match a schema.";
    AdditionalItemsWidened = "additional-items-widened", [false, false], [true, true], false, "ADDITIONAL_ITEMS_EXTENDED", "Items beyond the positional ones had to match a schema and are now unconstrained.";
    UnevaluatedItemsAllowed = "unevaluated-items-allowed", [false, false], [true, true], false, "UNEVALUATED_ITEMS_ADDED", "Unevaluated items were forbidden and are now allowed.";
    UnevaluatedItemsForbidden = "unevaluated-items-forbidden", [true, true], [false, false], false, "UNEVALUATED_ITEMS_REMOVED", "Unevaluated items were allowed and are now forbidden.";
    UnevaluatedItemsNarrowed = "unevaluated-items-narrowed", [true, true], [false, false], false, "UNEVALUATED_ITEMS_NARROWED", "Unevaluated items were unconstrained and now must match a schema.";
    UnevaluatedItemsWidened = "unevaluated-items-widened", [false, false], [true, true], false, "UNEVALUATED_ITEMS_EXTENDED", "Unevaluated items had to match a schema and are now unconstrained.";
    ItemWithEmptySchemaAddedToOpenModel = "item-with-empty-schema-added-to-open-model", [false, false], [false, false], false, "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", "A positional item that accepts anything was added to an open array.";
    ItemAddedToOpenModel = "item-added-to-open-model", [true, true], [false, false], false, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", "A positional item was added to an open array: old data may hold any value there.";
    ItemAddedToClosedModel = "item-added-to-closed-model", [false, false], [true, true], false, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", "A positional item was added to a closed array (old data never had it).";
    ItemWithFalseRemovedFromClosedModel = "item-with-false-removed-from-closed-model", [false, false], [false, false], false, "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "A positional item declared `false` was removed from a closed array.";
    ItemRemovedFromOpenModel = "item-removed-from-open-model", [false, false], [true, true], false, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", "A positional item was removed from an open array: any value is now accepted there.";
    ItemRemovedFromClosedModel = "item-removed-from-closed-model", [true, true], [false, false], false, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", "A positional item was removed from a closed array: old data holding it is now rejected.";
    ItemAddedCoveredByPartialModel = "item-added-covered-by-partial-model", [false, false], [false, false], false, "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A new positional item accepts everything the old additional-items schema accepted there.";
    ItemAddedNotCoveredByPartialModel = "item-added-not-covered-by-partial-model", [true, true], [false, false], false, "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A new positional item rejects values the old additional-items schema accepted there.";
    ItemRemovedCoveredByPartialModel = "item-removed-covered-by-partial-model", [false, false], [false, false], false, "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A removed positional item's values are still accepted by the new additional-items schema.";
    ItemRemovedNotCoveredByPartialModel = "item-removed-not-covered-by-partial-model", [true, true], [false, false], false, "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "A removed positional item's old values are rejected by the new additional-items schema.";

    // Combinators.
    CombinatorWidened = "combinator-widened", [false, false], [true, true], false, "COMBINED_TYPE_EXTENDED", "The combinator became a looser one (e.g. `oneOf` → `anyOf`, or a single-member combinator changed kind).";
    CombinatorChanged = "combinator-changed", [true, true], [true, true], false, "COMBINED_TYPE_CHANGED", "The combinator changed kind (e.g. `anyOf` → `allOf`).";
    AllOfMemberAdded = "all-of-member-added", [true, true], [false, false], false, "PRODUCT_TYPE_EXTENDED", "A member was added to `allOf` (or a restriction was added beside the existing ones).";
    AllOfMemberRemoved = "all-of-member-removed", [false, false], [true, true], false, "PRODUCT_TYPE_NARROWED", "A member was removed from `allOf` (or one of several restrictions was dropped).";
    AnyOfMemberAdded = "any-of-member-added", [false, false], [true, true], false, "SUM_TYPE_EXTENDED", "A member was added to `anyOf`/`oneOf`, or a schema became one alternative of a union.";
    AnyOfMemberRemoved = "any-of-member-removed", [true, true], [false, false], false, "SUM_TYPE_NARROWED", "A member was removed from `anyOf`/`oneOf`.";
    CombinatorMembersChanged = "combinator-members-changed", [true, true], [true, true], false, "COMBINED_TYPE_SUBSCHEMAS_CHANGED", "The members of a combinator cannot be matched old to new without breaking (compared order-independently).";
    OneOfMembersOverlap = "one-of-members-overlap", [true, true], [false, false], false, "", "Changed `oneOf` members may now overlap, so a value that matched exactly one member may match two and be rejected (Confluent ignores this).";
    NotNarrowed = "not-narrowed", [false, false], [true, true], false, "NOT_TYPE_NARROWED", "The `not` schema excludes fewer values.";
    NotWidened = "not-widened", [true, true], [false, false], false, "NOT_TYPE_EXTENDED", "The `not` schema excludes more values.";
    ConditionalChanged = "conditional-changed", [true, true], [true, true], false, "", "The `if` of an `if`/`then`/`else` changed and, compared quadrant by quadrant, neither direction can be proved safe (Confluent ignores conditionals).";
    ConditionalWidened = "conditional-widened", [false, false], [true, true], false, "", "The `if` of an `if`/`then`/`else` changed and every instance valid before still is: each old instance's branch, wherever the new `if` sends it, accepts it (proved quadrant by quadrant).";
    ConditionalNarrowed = "conditional-narrowed", [true, true], [false, false], false, "", "The `if` of an `if`/`then`/`else` changed and every instance valid now was valid before, but not the reverse (proved quadrant by quadrant).";
    ConditionalEquivalent = "conditional-equivalent", [false, false], [false, false], false, "", "The `if` of an `if`/`then`/`else` changed, yet the conditional accepts exactly the same instances (proved both ways, e.g. both branches accept the same values).";
    ConditionalAdded = "conditional-added", [true, true], [false, false], false, "", "An `if`/`then`/`else` was added beside other keywords, and its branches may reject instances the rest of the schema accepts.";
    ConditionalAddedImplied = "conditional-added-implied", [false, false], [false, false], false, "", "An `if`/`then`/`else` was added whose branches accept every instance the rest of the schema accepts: nothing is rejected.";
    ConditionalRemoved = "conditional-removed", [false, false], [true, true], false, "", "An `if`/`then`/`else` was replaced by a schema that accepts everything each of its branches accepted.";
    RecursiveSchemaChanged = "recursive-schema-changed", [true, true], [true, true], false, "", "A recursive schema changed in a way that breaks on some nesting level.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in Rule::ALL {
            assert!(seen.insert(r.id()), "duplicate id {}", r.id());
            assert!(
                r.id().chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id()
            );
        }
    }

    #[test]
    fn lenient_only_relaxes_object_rules() {
        for r in Rule::ALL {
            if r.breaks(Direction::Backward, Policy::Lenient) {
                assert!(
                    r.breaks(Direction::Backward, Policy::Strict),
                    "{} breaks only under lenient",
                    r.id()
                );
            }
        }
        assert!(!Rule::PropertyAddedToOpenModel.breaks(Direction::Backward, Policy::Lenient));
        assert!(Rule::PropertyAddedToOpenModel.breaks(Direction::Backward, Policy::Strict));
    }

    #[test]
    fn annotations_break_nothing() {
        for r in Rule::ALL.iter().filter(|r| r.is_annotation()) {
            assert!(r.broken_directions(Policy::Strict).is_empty(), "{}", r.id());
        }
    }
}
