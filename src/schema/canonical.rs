//! The canonical JSON text of a schema and its fingerprint.
//!
//! Canonical form: object keys sorted by their UTF-8 bytes (code point order), no
//! whitespace, strings escaped as `serde_json` escapes them, and numbers written by
//! value: an integral value is written as an integer (`1.0`, `1e0` and `1` are all
//! `1`), any other value in its shortest round-trip decimal form. JSON Schema treats
//! `1.0` and `1` as the same number from draft-06 on (`const`, `enum`, `multipleOf`,
//! `type: integer`), so they fingerprint alike. Draft-04 is the exception: there an
//! integer written with a fraction is *not* an `integer`, so draft-04 documents keep a
//! fractional spelling (`1.0`) distinct from `1`. Canonicalisation is idempotent:
//! the canonical text parses back to a value whose canonical text is itself.

use std::io::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Draft;

/// The canonical text of `value` as a schema of `draft`.
pub fn canonical_text(value: &Value, draft: Draft) -> String {
    canonical_text_sized(value, draft, 256)
}

/// [`canonical_text`] with room for `size_hint` bytes from the start (the length of
/// the document's compact text: the canonical text is about as long), so a big
/// document's text is not copied as it grows.
pub(crate) fn canonical_text_sized(value: &Value, draft: Draft, size_hint: usize) -> String {
    let mut out = Vec::with_capacity(size_hint);
    write_value(&mut out, value, draft == Draft::Draft4);
    // Only UTF-8 was written: JSON punctuation, numbers and serde_json's escaping of
    // strings that were UTF-8 already.
    String::from_utf8(out).unwrap_or_default()
}

/// The lowercase hex sha256 of `text`.
pub fn fingerprint(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn write_value(out: &mut Vec<u8>, value: &Value, keep_fraction: bool) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_number(out, n, keep_fraction),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, keep_fraction);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            let mut first = true;
            let mut entry = |out: &mut Vec<u8>, k: &String, v: &Value| {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                write_string(out, k);
                out.push(b':');
                write_value(out, v, keep_fraction);
            };
            // serde_json's map is already in byte order unless a crate in the build
            // turns on its `preserve_order` feature; sort only then.
            if map.keys().is_sorted_by(|a, b| a.as_bytes() <= b.as_bytes()) {
                for (k, v) in map {
                    entry(out, k, v);
                }
            } else {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (k, v) in entries {
                    entry(out, k, v);
                }
            }
            out.push(b'}');
        }
    }
}

fn write_number(out: &mut Vec<u8>, n: &serde_json::Number, keep_fraction: bool) {
    if n.is_i64() || n.is_u64() {
        let _ = write!(out, "{n}");
        return;
    }
    let f = n.as_f64().unwrap_or(0.0);
    // 2^53: beyond it every f64 is integral and i64 formatting would still be exact,
    // but keep the float spelling so huge values stay readable as written.
    if !keep_fraction && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        let _ = write!(out, "{}", f as i64);
    } else {
        let _ = write!(out, "{n}");
    }
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is the canonical one; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Removes insignificant whitespace from a JSON text, keeping key order and the exact
/// spelling of every number and string: how a schema is stored "as submitted".
/// The input must be valid JSON. The text is compacted where it lies: a large schema
/// is not copied (nor its buffer allocated twice).
pub fn compact_text(json: String) -> String {
    let mut bytes = json.into_bytes();
    // Bytes before `kept` are the compact text; `i` reads ahead of it.
    let mut kept = 0;
    let mut i = 0;
    let len = bytes.len();
    while i < len {
        let start = i;
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            // A string, kept whole: up to the quote that no backslash escapes.
            b'"' => {
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[i.min(len)..]) {
                        Some(at) if bytes[i + at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at + 1;
                            break;
                        }
                        None => {
                            i = len;
                            break;
                        }
                    }
                }
                i = i.min(len);
            }
            // A run of anything else (punctuation, a number, a literal), kept whole.
            _ => {
                while i < len && !matches!(bytes[i], b'"' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                {
                    i += 1;
                }
            }
        }
        if start != kept {
            bytes.copy_within(start..i, kept);
        }
        kept += i - start;
    }
    bytes.truncate(kept);
    // Only ASCII bytes outside strings were left out, and strings were kept whole:
    // the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(
            canonical_text(&a, Draft::Draft7),
            canonical_text(&b, Draft::Draft7)
        );
        assert_eq!(
            canonical_text(&a, Draft::Draft7),
            r#"{"a":{"x":null,"y":[1,2]},"b":1}"#
        );
    }

    #[test]
    fn integral_numbers_are_written_as_integers_except_in_draft_04() {
        let v: Value =
            serde_json::from_str(r#"{"multipleOf": 1.0, "maximum": 1e2, "minimum": 0.5}"#).unwrap();
        assert_eq!(
            canonical_text(&v, Draft::Draft7),
            r#"{"maximum":100,"minimum":0.5,"multipleOf":1}"#
        );
        assert_eq!(
            canonical_text(&v, Draft::Draft4),
            r#"{"maximum":100.0,"minimum":0.5,"multipleOf":1.0}"#
        );
    }

    #[test]
    fn canonicalisation_is_idempotent() {
        let v = json!({"z": "\u{e9}\n", "a": [1.5, {"k": true}]});
        let once = canonical_text(&v, Draft::Draft7);
        let again = canonical_text(&serde_json::from_str(&once).unwrap(), Draft::Draft7);
        assert_eq!(once, again);
    }

    #[test]
    fn compacting_keeps_key_order_and_string_contents() {
        let text = "{ \"b\" : 1.50,\n \"a\": \"x y\\\" z\" }";
        assert_eq!(compact_text(text.to_owned()), r#"{"b":1.50,"a":"x y\" z"}"#);
    }

    #[test]
    fn compacting_in_place_keeps_every_token_whole() {
        // Whitespace around and between tokens goes; inside strings (escaped quotes and
        // backslashes, non-ASCII text) it stays, as do numbers spelled as submitted.
        let text =
            "\r\n\t{ \"k y\" :\t[ 1e2 , -0.0,\n\"a\\\\\" , \"é \\\" ü\" ] ,\"n\": null }  \n";
        let compact = compact_text(text.to_owned());
        assert_eq!(compact, r#"{"k y":[1e2,-0.0,"a\\","é \" ü"],"n":null}"#);
        let before: Value = serde_json::from_str(text).unwrap();
        let after: Value = serde_json::from_str(&compact).unwrap();
        assert_eq!(before, after);
        assert_eq!(compact_text("  ".to_owned()), "");
    }
}
