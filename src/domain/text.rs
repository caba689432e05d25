//! Free text the registry stores as given (a contract's owner, description and tags,
//! a reference's name): any Unicode except U+0000. PostgreSQL's `text` cannot hold
//! the NUL character and SQLite would store it, so one backend failed and the other
//! kept what the first refused; refusing it here, as the request is read, makes both
//! answer alike (422 naming the field).
//!
//! Request types mark each such field `#[serde(default, deserialize_with =
//! "stored_text")]`; the field's path is in the error the body parser reports.

use serde::{Deserialize, Deserializer, de::Error};

/// What a client is told when stored text holds U+0000.
pub const NUL_MESSAGE: &str = "text may not contain the NUL character (U+0000)";

/// Text, or a collection of texts, that may be checked for U+0000.
pub trait StoredText {
    /// Whether any of its text holds U+0000.
    fn has_nul(&self) -> bool;
}

impl StoredText for String {
    fn has_nul(&self) -> bool {
        self.contains('\0')
    }
}

impl<T: StoredText> StoredText for Option<T> {
    fn has_nul(&self) -> bool {
        self.as_ref().is_some_and(StoredText::has_nul)
    }
}

impl<T: StoredText> StoredText for Vec<T> {
    fn has_nul(&self) -> bool {
        self.iter().any(StoredText::has_nul)
    }
}

/// Deserializes stored text, refusing U+0000 with [`NUL_MESSAGE`].
pub fn stored_text<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + StoredText,
{
    let value = T::deserialize(d)?;
    if value.has_nul() {
        return Err(D::Error::custom(NUL_MESSAGE));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "stored_text")]
        owner: Option<String>,
        #[serde(default, deserialize_with = "stored_text")]
        tags: Option<Vec<String>>,
    }

    #[test]
    fn text_without_nul_is_kept_as_sent() {
        let b: Body = serde_json::from_str(r#"{"owner": "tëam \u0001", "tags": ["a"]}"#).unwrap();
        assert_eq!(b.owner.as_deref(), Some("tëam \u{1}"));
        assert_eq!(b.tags, Some(vec!["a".to_owned()]));
    }

    #[test]
    fn absent_fields_stay_absent() {
        let b: Body = serde_json::from_str("{}").unwrap();
        assert!(b.owner.is_none() && b.tags.is_none());
    }

    #[test]
    fn a_nul_in_text_or_in_a_list_of_texts_is_refused() {
        let e = serde_json::from_str::<Body>(r#"{"owner": "a\u0000b"}"#).unwrap_err();
        assert!(e.to_string().contains("U+0000"), "{e}");
        let e = serde_json::from_str::<Body>(r#"{"tags": ["ok", "\u0000"]}"#).unwrap_err();
        assert!(e.to_string().contains("U+0000"), "{e}");
    }
}
