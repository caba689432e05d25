//! JSON Schema drafts and how a document names its own.

use std::fmt;
use std::str::FromStr;

/// A JSON Schema specification version.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Draft {
    /// draft-04
    #[serde(rename = "draft-04")]
    Draft4,
    /// draft-06
    #[serde(rename = "draft-06")]
    Draft6,
    /// draft-07, the default when a document has no `$schema` (as in Confluent).
    #[serde(rename = "draft-07")]
    Draft7,
    /// 2019-09
    #[serde(rename = "2019-09")]
    Draft201909,
    /// 2020-12
    #[serde(rename = "2020-12")]
    Draft202012,
}

impl Draft {
    /// Recognises a `$schema` URI. Both `http` and `https`, with or without the empty
    /// fragment `#`, are accepted for every draft.
    pub fn from_uri(uri: &str) -> Option<Draft> {
        let trimmed = uri.trim_end_matches('#');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))?;
        match rest {
            "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
            "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
            "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
            "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
            "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
            _ => None,
        }
    }

    /// The canonical `$schema` URI of this draft.
    pub fn uri(self) -> &'static str {
        match self {
            Draft::Draft4 => "http://json-schema.org/draft-04/schema#",
            Draft::Draft6 => "http://json-schema.org/draft-06/schema#",
            Draft::Draft7 => "http://json-schema.org/draft-07/schema#",
            Draft::Draft201909 => "https://json-schema.org/draft/2019-09/schema",
            Draft::Draft202012 => "https://json-schema.org/draft/2020-12/schema",
        }
    }

    /// Short name: `draft-04` … `2020-12`.
    pub fn as_str(self) -> &'static str {
        match self {
            Draft::Draft4 => "draft-04",
            Draft::Draft6 => "draft-06",
            Draft::Draft7 => "draft-07",
            Draft::Draft201909 => "2019-09",
            Draft::Draft202012 => "2020-12",
        }
    }

    /// The identifier keyword: `id` in draft-04, `$id` afterwards.
    pub(crate) fn id_keyword(self) -> &'static str {
        if self == Draft::Draft4 { "id" } else { "$id" }
    }

    pub(crate) fn to_jsonschema(self) -> jsonschema::Draft {
        match self {
            Draft::Draft4 => jsonschema::Draft::Draft4,
            Draft::Draft6 => jsonschema::Draft::Draft6,
            Draft::Draft7 => jsonschema::Draft::Draft7,
            Draft::Draft201909 => jsonschema::Draft::Draft201909,
            Draft::Draft202012 => jsonschema::Draft::Draft202012,
        }
    }
}

impl fmt::Display for Draft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Draft {
    type Err = String;
    /// Accepts the short names (`draft-07`, `7`, `2020-12`) and the `$schema` URIs.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft-04" | "draft4" | "4" => Ok(Draft::Draft4),
            "draft-06" | "draft6" | "6" => Ok(Draft::Draft6),
            "draft-07" | "draft7" | "7" => Ok(Draft::Draft7),
            "2019-09" | "draft-2019-09" => Ok(Draft::Draft201909),
            "2020-12" | "draft-2020-12" => Ok(Draft::Draft202012),
            other => Draft::from_uri(other).ok_or_else(|| {
                format!("unknown JSON Schema draft {s:?}; expected draft-04, draft-06, draft-07, 2019-09 or 2020-12")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_uris_are_recognised_with_or_without_fragment_and_tls() {
        assert_eq!(
            Draft::from_uri("http://json-schema.org/draft-07/schema#"),
            Some(Draft::Draft7)
        );
        assert_eq!(
            Draft::from_uri("https://json-schema.org/draft-07/schema"),
            Some(Draft::Draft7)
        );
        assert_eq!(
            Draft::from_uri("https://json-schema.org/draft/2020-12/schema"),
            Some(Draft::Draft202012)
        );
        assert_eq!(Draft::from_uri("https://example.com/my-meta"), None);
    }
}
