//! `$ref` resolution over a closed set of documents.
//!
//! A schema is parsed together with every document it refers to, transitively, so that
//! the compatibility engine and the validators work from memory alone. Documents other
//! than the root come from a [`Resolver`] supplied by the caller (the registry's stored
//! versions, or the files named with `accord diff --ref URI=PATH`). Nothing is ever
//! fetched over the network or read from a path the caller did not name.
//!
//! Supported: JSON-pointer fragments, `definitions`/`$defs`, `$anchor` (and the
//! draft-04..07 `$id: "#name"` anchors), `$id`-relative references, and references to
//! other documents. `$dynamicRef`/`$recursiveRef` resolve statically, like `$ref`.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;
use url::Url;

use super::walk::{REFERENCE_KEYWORDS, visit_schemas};
use super::{Draft, SchemaError};

/// Supplies documents that a schema refers to by URI.
pub trait Resolver: Send + Sync {
    /// The document at `uri` (no fragment), or `None` when it is unknown.
    fn resolve(&self, uri: &str) -> Option<Value>;
}

/// A resolver that knows no documents: any reference to another document fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoResolver;

impl Resolver for NoResolver {
    fn resolve(&self, _uri: &str) -> Option<Value> {
        None
    }
}

/// A resolver over an in-memory map from URI to document.
#[derive(Debug, Default, Clone)]
pub struct MapResolver {
    docs: HashMap<String, Value>,
}

impl MapResolver {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the document for `uri`. The fragment, if any, is ignored.
    pub fn insert(&mut self, uri: impl Into<String>, doc: Value) {
        let uri: String = uri.into();
        let key = uri.split('#').next().unwrap_or_default().to_owned();
        self.docs.insert(key, doc);
    }
}

impl Resolver for MapResolver {
    fn resolve(&self, uri: &str) -> Option<Value> {
        self.docs.get(uri).cloned()
    }
}

/// The base URI of a document that has no `$id`.
pub const DEFAULT_BASE: &str = "https://accord.invalid/schema.json";

/// A place in the document set: document index and JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// Index of the document (0 is the root).
    pub doc: usize,
    /// JSON pointer inside it (`""` is the document root).
    pub pointer: String,
}

#[derive(Debug)]
pub(crate) struct Document {
    pub uri: String,
    pub value: Value,
    pub draft: Draft,
}

/// The root document and everything it refers to, with an index of identifiers.
#[derive(Debug)]
pub struct Documents {
    pub(crate) docs: Vec<Document>,
    /// Absolute URI (no fragment) → the resource it identifies.
    resources: HashMap<String, Location>,
    /// Absolute URI with anchor fragment → location.
    anchors: HashMap<String, Location>,
    /// Base URI in effect at each schema position visited by the index.
    bases: HashMap<Location, Url>,
    /// Every `$ref` (and `$dynamicRef`/`$recursiveRef`) of each document, with the
    /// location of the schema object that holds it, found by the index's walk and
    /// taken by [`Documents::load`] to resolve.
    references: Vec<Vec<(Location, String)>>,
}

impl Documents {
    /// Indexes `root` and loads, through `resolver`, every document it refers to.
    pub(crate) fn load(
        root: Value,
        draft: Draft,
        resolver: &dyn Resolver,
    ) -> Result<Self, SchemaError> {
        let mut this = Documents {
            docs: Vec::new(),
            resources: HashMap::new(),
            anchors: HashMap::new(),
            bases: HashMap::new(),
            references: Vec::new(),
        };
        let base = Url::parse(DEFAULT_BASE).expect("the default base is a valid URL");
        this.add_document(base, root, draft);
        // Resolve every reference once: this loads external documents (which may add
        // more references) and rejects the unresolvable ones with their pointer.
        let mut checked = 0;
        while checked < this.docs.len() {
            let refs = std::mem::take(&mut this.references[checked]);
            for (loc, reference) in refs {
                if this.resolve_loading(&loc, &reference, resolver)?.is_none() {
                    return Err(SchemaError::UnresolvedRef {
                        pointer: loc.pointer.clone(),
                        reference,
                    });
                }
            }
            checked += 1;
        }
        Ok(this)
    }

    /// The value at a location.
    pub fn get(&self, loc: &Location) -> Option<&Value> {
        let doc = self.docs.get(loc.doc)?;
        if loc.pointer.is_empty() {
            Some(&doc.value)
        } else {
            doc.value.pointer(&loc.pointer)
        }
    }

    /// The draft of the document holding `loc`.
    pub fn draft(&self, loc: &Location) -> Draft {
        self.docs[loc.doc].draft
    }

    /// The URIs of the documents other than the root.
    pub fn external_uris(&self) -> impl Iterator<Item = &str> {
        self.docs.iter().skip(1).map(|d| d.uri.as_str())
    }

    /// The documents other than the root, by the URI they were loaded from: what a
    /// [`MapResolver`] needs to load the same root again.
    pub fn external(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.docs.iter().skip(1).map(|d| (d.uri.as_str(), &d.value))
    }

    /// Resolves a `$ref` written at `at` (the location of the schema object holding it).
    pub fn resolve(&self, at: &Location, reference: &str) -> Option<Location> {
        let base = self.base_at(at);
        let target = base.join(reference).ok()?;
        self.lookup(&target)
    }

    fn resolve_loading(
        &mut self,
        at: &Location,
        reference: &str,
        resolver: &dyn Resolver,
    ) -> Result<Option<Location>, SchemaError> {
        let base = self.base_at(at);
        let Ok(target) = base.join(reference) else {
            return Ok(None);
        };
        if let Some(loc) = self.lookup(&target) {
            return Ok(Some(loc));
        }
        let mut doc_uri = target.clone();
        doc_uri.set_fragment(None);
        if self.resources.contains_key(doc_uri.as_str()) {
            return Ok(None); // the document is known; the fragment is not in it
        }
        let Some(doc) = resolver.resolve(doc_uri.as_str()) else {
            return Ok(None);
        };
        let draft = match doc.get("$schema").and_then(Value::as_str) {
            Some(uri) => Draft::from_uri(uri).ok_or_else(|| SchemaError::UnknownDraft {
                uri: uri.to_owned(),
            })?,
            None => self.docs[at.doc].draft,
        };
        self.add_document(doc_uri, doc, draft);
        Ok(self.lookup(&target))
    }

    fn base_at(&self, at: &Location) -> Url {
        if let Some(b) = self.bases.get(at) {
            return b.clone();
        }
        Url::parse(&self.docs[at.doc].uri)
            .unwrap_or_else(|_| Url::parse(DEFAULT_BASE).expect("valid default base"))
    }

    fn lookup(&self, target: &Url) -> Option<Location> {
        let mut without = target.clone();
        without.set_fragment(None);
        let fragment = target.fragment().unwrap_or("");
        if fragment.is_empty() || fragment.starts_with('/') {
            let res = self.resources.get(without.as_str())?;
            let decoded = percent_decode(fragment);
            let pointer = format!("{}{}", res.pointer, decoded);
            let loc = Location {
                doc: res.doc,
                pointer,
            };
            self.get(&loc)?;
            Some(loc)
        } else {
            self.anchors.get(target.as_str()).cloned()
        }
    }

    fn add_document(&mut self, uri: Url, value: Value, draft: Draft) {
        let doc = self.docs.len();
        self.docs.push(Document {
            uri: uri.to_string(),
            value,
            draft,
        });
        self.resources.insert(
            uri.to_string(),
            Location {
                doc,
                pointer: String::new(),
            },
        );
        // The index reads the document's values in place (never by pointer from the
        // root, never copied): the fields are borrowed apart so the maps can grow
        // while the document is read.
        let Documents {
            docs,
            resources,
            anchors,
            bases,
            references,
        } = self;
        let mut refs = Vec::new();
        let document_base = Rc::new(uri);
        // The base in effect below each schema object of the current path.
        let mut path_bases: Vec<Rc<Url>> = Vec::new();
        visit_schemas(&docs[doc].value, draft, |obj, pointer, depth| {
            path_bases.truncate(depth);
            let loc = || Location {
                doc,
                pointer: pointer.to_owned(),
            };
            let mut base = path_bases
                .last()
                .map_or_else(|| Rc::clone(&document_base), Rc::clone);
            // Every keyword read here starts with `$` but draft-04's `id`: most schema
            // objects have none, which one look at their keys tells (where looking
            // each keyword up would search the object seven times).
            let indexed = obj
                .keys()
                .any(|k| k.starts_with('$') || draft == Draft::Draft4 && k == "id");
            if indexed {
                if let Some(id) = obj.get(draft.id_keyword()).and_then(Value::as_str) {
                    if let Some(anchor) = id.strip_prefix('#') {
                        // draft-04..07 location-independent identifier
                        let mut a = (*base).clone();
                        a.set_fragment(Some(anchor));
                        anchors.insert(a.to_string(), loc());
                    } else if let Ok(mut joined) = base.join(id) {
                        if let Some(anchor) = joined
                            .fragment()
                            .filter(|f| !f.is_empty())
                            .map(str::to_owned)
                        {
                            let mut a = joined.clone();
                            a.set_fragment(Some(&anchor));
                            anchors.insert(a.to_string(), loc());
                        }
                        joined.set_fragment(None);
                        resources.entry(joined.to_string()).or_insert_with(loc);
                        base = Rc::new(joined);
                    }
                }
                for key in ["$anchor", "$dynamicAnchor", "$recursiveAnchor"] {
                    if let Some(anchor) = obj.get(key).and_then(Value::as_str) {
                        let mut a = (*base).clone();
                        a.set_fragment(Some(anchor));
                        anchors.entry(a.to_string()).or_insert_with(loc);
                    }
                }
                for key in REFERENCE_KEYWORDS {
                    if let Some(r) = obj.get(key).and_then(Value::as_str) {
                        refs.push((loc(), r.to_owned()));
                    }
                }
            }
            // Only the positions an `$id` moved are kept: everywhere else the base is
            // the document's URI, which `base_at` falls back to.
            // (The same `Rc` is the same base: no URL comparison at every position.)
            if !Rc::ptr_eq(&base, &document_base) && base != document_base {
                bases.insert(loc(), (*base).clone());
            }
            path_bases.push(base);
        });
        references.push(refs);
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(v: Value) -> Result<Documents, SchemaError> {
        Documents::load(v, Draft::Draft202012, &NoResolver)
    }

    #[test]
    fn pointer_refs_and_defs_resolve() {
        let docs = load(
            json!({"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}),
        )
        .unwrap();
        let at = Location {
            doc: 0,
            pointer: "/properties/x".into(),
        };
        let loc = docs.resolve(&at, "#/$defs/a").unwrap();
        assert_eq!(loc.pointer, "/$defs/a");
    }

    #[test]
    fn anchors_and_relative_ids_resolve() {
        let docs = load(json!({
            "$id": "https://example.com/root.json",
            "$defs": {
                "a": {"$anchor": "thing", "type": "string"},
                "b": {"$id": "other.json", "type": "number"}
            }
        }))
        .unwrap();
        let root = Location {
            doc: 0,
            pointer: String::new(),
        };
        assert_eq!(docs.resolve(&root, "#thing").unwrap().pointer, "/$defs/a");
        assert_eq!(
            docs.resolve(&root, "other.json").unwrap().pointer,
            "/$defs/b"
        );
        assert_eq!(
            docs.resolve(&root, "https://example.com/other.json")
                .unwrap()
                .pointer,
            "/$defs/b"
        );
    }

    #[test]
    fn an_unresolvable_ref_names_its_pointer() {
        let err = load(json!({"properties": {"x": {"$ref": "#/$defs/missing"}}})).unwrap_err();
        match err {
            SchemaError::UnresolvedRef { pointer, reference } => {
                assert_eq!(pointer, "/properties/x");
                assert_eq!(reference, "#/$defs/missing");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn other_documents_come_only_from_the_resolver() {
        let schema = json!({"$ref": "https://example.com/common.json#/$defs/id"});
        assert!(load(schema.clone()).is_err());
        let mut resolver = MapResolver::new();
        resolver.insert(
            "https://example.com/common.json",
            json!({"$defs": {"id": {"type": "integer"}}}),
        );
        let docs = Documents::load(schema, Draft::Draft202012, &resolver).unwrap();
        assert_eq!(
            docs.external_uris().collect::<Vec<_>>(),
            vec!["https://example.com/common.json"]
        );
    }

    #[test]
    fn self_reference_resolves_to_the_root() {
        let docs = load(json!({"items": {"$ref": "#"}})).unwrap();
        let at = Location {
            doc: 0,
            pointer: "/items".into(),
        };
        assert_eq!(docs.resolve(&at, "#").unwrap().pointer, "");
    }
}
