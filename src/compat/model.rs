//! The comparison model: a schema document turned into a graph of typed nodes.
//!
//! Each node is one *kind* of constraint, the way Confluent's checker sees schemas: an
//! object, array, string or number schema, an enumeration, `not`, a combinator, a
//! conditional, or "anything"/"nothing". A schema object that mixes several kinds
//! (`{"type": "string", "enum": […]}`) becomes a synthetic `allOf` of one node per
//! kind, and a `type` array becomes a synthetic `anyOf`. Drafts are unified here:
//! `items`/`prefixItems`/`additionalItems`, `dependencies`/`dependentRequired`/
//! `dependentSchemas`, and draft-04 boolean `exclusiveMinimum`/`exclusiveMaximum` all
//! land in one representation. `$ref` is transparent: a reference becomes the node of
//! its target, so recursive schemas are cyclic graphs.
//!
//! A node is made when something first asks for it ([`Model::node`]): its children
//! get ids then, and are filled only when they are asked for in turn. A walk that
//! skips the parts two schemas share (see [`Model::same_as`]) never builds them, which
//! in a large schema changed in one place is nearly all of it. No node is built by
//! recursion, so nesting depth and reference chains cannot overflow the stack.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::str::FromStr;

use bigdecimal::BigDecimal;
use serde_json::{Map, Value};

use crate::schema::walk::{REFERENCE_KEYWORDS, join_pointer};
use crate::schema::{Documents, Draft, Location, Schema};

pub(crate) type NodeId = usize;

/// The keywords that never constrain instances.
pub(crate) const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
];

/// Keywords that structure documents but do not constrain instances by themselves.
const STRUCTURAL: &[&str] = &[
    "$schema",
    "$id",
    "id",
    "$defs",
    "definitions",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$vocabulary",
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
];

const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
];
const ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "minItems",
    "maxItems",
    "uniqueItems",
];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const OTHER_KEYWORDS: &[&str] = &[
    "type", "enum", "const", "not", "allOf", "anyOf", "oneOf", "if", "then", "else",
];

/// Which of the keyword lists above a keyword is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Annotation,
    Structural,
    Object,
    Array,
    String,
    Number,
    Other,
    Unknown,
}

impl Family {
    /// The family of `keyword`: one hash lookup (each schema object's every key is
    /// classified, and the lists hold 63 keywords).
    fn of(keyword: &str) -> Family {
        static FAMILIES: std::sync::LazyLock<rustc_hash::FxHashMap<&'static str, Family>> =
            std::sync::LazyLock::new(|| {
                [
                    (ANNOTATIONS, Family::Annotation),
                    (STRUCTURAL, Family::Structural),
                    (OBJECT_KEYWORDS, Family::Object),
                    (ARRAY_KEYWORDS, Family::Array),
                    (STRING_KEYWORDS, Family::String),
                    (NUMBER_KEYWORDS, Family::Number),
                    (OTHER_KEYWORDS, Family::Other),
                ]
                .into_iter()
                .flat_map(|(keywords, family)| keywords.iter().map(move |k| (*k, family)))
                .collect()
            });
        FAMILIES.get(keyword).copied().unwrap_or(Family::Unknown)
    }
}

/// Whether a schema object holds a reference (a node of its own only when the
/// reference has constraining siblings, see [`Builder::follow_refs`]).
fn is_reference(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| REFERENCE_KEYWORDS.iter().any(|k| o.contains_key(*k)))
}

/// Keywords with their values.
type Keywords = BTreeMap<String, Value>;

/// A node of the graph.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// JSON pointer of the schema object in its document (see [`Model::pointer`] for
    /// the form reports show). A synthetic part has its parent's.
    pub pointer: String,
    /// The document holding the schema object (0 is the root).
    pub doc: usize,
    /// Annotation keywords with their values.
    pub annotations: BTreeMap<String, Value>,
    pub kind: Kind,
    /// Keywords the engine does not understand, with their values.
    pub unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// Accepts everything (`true`, `{}`, only annotations).
    Any,
    /// Accepts nothing (`false`).
    Never,
    Object(Box<ObjectKind>),
    Array(Box<ArrayKind>),
    String(Box<StringKind>),
    Number(Box<NumberKind>),
    Boolean,
    Null,
    /// `enum`, or `const` (a one-value enumeration).
    Enum {
        values: Vec<Value>,
        is_const: bool,
    },
    Not(NodeId),
    Combined {
        crit: Crit,
        subs: Vec<NodeId>,
        synthetic: Synthetic,
    },
    Conditional {
        cond: NodeId,
        then: Option<NodeId>,
        els: Option<NodeId>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::enum_variant_names,
    reason = "named after the keywords allOf, anyOf, oneOf"
)]
pub(crate) enum Crit {
    AllOf,
    AnyOf,
    OneOf,
}

impl Crit {
    pub fn keyword(self) -> &'static str {
        match self {
            Crit::AllOf => "allOf",
            Crit::AnyOf => "anyOf",
            Crit::OneOf => "oneOf",
        }
    }
}

/// Why a combinator exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Synthetic {
    /// Written in the schema.
    No,
    /// A `type` array.
    Types,
    /// Keywords of several kinds in one schema object.
    Keywords,
}

/// What an object or array says about members it does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    /// Absent or `true`: anything goes.
    Open,
    /// `false`.
    Closed,
    /// A schema.
    Schema(NodeId),
}

#[derive(Debug, Clone)]
pub(crate) struct ObjectKind {
    /// Whether `type: object` was declared (else non-objects pass).
    pub typed: bool,
    pub properties: Vec<(String, NodeId)>,
    /// `properties` by name.
    pub index: rustc_hash::FxHashMap<String, NodeId>,
    pub required: BTreeSet<String>,
    pub additional: Extra,
    pub patterns: Vec<(String, NodeId)>,
    pub unevaluated: Extra,
    pub property_names: Option<NodeId>,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub dependent_required: BTreeMap<String, BTreeSet<String>>,
    pub dependent_schemas: BTreeMap<String, NodeId>,
}

impl ObjectKind {
    pub fn property(&self, name: &str) -> Option<NodeId> {
        self.index.get(name).copied()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ArrayKind {
    pub typed: bool,
    /// A schema for every item (`items` as one schema, or 2020-12 `items` without
    /// `prefixItems`).
    pub all_items: Option<NodeId>,
    /// Positional schemas (`items` as an array, `prefixItems`).
    pub prefix: Vec<NodeId>,
    /// Items after the positional ones (`additionalItems`, 2020-12 `items`).
    pub rest: Extra,
    pub unevaluated: Extra,
    pub contains: Option<NodeId>,
    pub min_contains: Option<u64>,
    pub max_contains: Option<u64>,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub unique: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct StringKind {
    pub typed: bool,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub pattern: Option<String>,
    pub format: Option<String>,
}

/// An inclusive or exclusive bound.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    pub value: BigDecimal,
    pub exclusive: bool,
    pub raw: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct NumberKind {
    pub typed: bool,
    pub integer: bool,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    pub multiple_of: Option<(BigDecimal, Value)>,
}

/// The graph of one schema.
pub(crate) struct Model<'d> {
    /// The nodes by id in chunks of [`CHUNK`], each filled on first use. Items never
    /// move, so a node can be lent out while others are added.
    nodes: elsa::FrozenVec<Box<NodeChunk>>,
    /// What the nodes not filled yet are made from, and the memo of nodes by value.
    builder: std::cell::RefCell<Builder<'d>>,
    pub root: NodeId,
    docs: &'d Documents,
    /// For each node, the node that refers to it when exactly one reference does
    /// (a `$ref` to it from elsewhere, or a cycle through it, makes it shared). Made
    /// on first use: only conditionals ask, and most schemas have none.
    parents: std::cell::OnceCell<Vec<Option<NodeId>>>,
    /// A digest of every schema object of the documents that holds no reference, by
    /// the object's address (see [`Model::same_as`]). Made on first use.
    digests: std::cell::OnceCell<rustc_hash::FxHashMap<usize, u64>>,
}

pub(crate) fn decimal(v: &Value) -> Option<BigDecimal> {
    match v {
        Value::Number(n) => BigDecimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

struct Builder<'d> {
    docs: &'d Documents,
    /// Each node's place and schema value (`None` for a part of a synthetic
    /// combinator), by id; the pointer moves into the node when it is filled.
    places: Chunked<(Place, Option<&'d Value>)>,
    /// The node of each schema object, by the object's address in the documents: a
    /// value has one place, so its address is its location without the pointer text.
    /// (Addresses as numbers, which keep the model `Send`.)
    memo: rustc_hash::FxHashMap<usize, NodeId>,
    /// The parts made while one node is filled (they are made filled), put in the
    /// model's cells once the fill is done.
    parts: Vec<(NodeId, Node)>,
    /// The schema object being filled, and its node: children are found relative to
    /// it.
    current: Option<(&'d Value, NodeId)>,
}

/// The number of nodes (and places) kept together in one allocation. A model lists
/// thousands of nodes in a big schema; in chunks, its lists never copy their items as
/// they grow, nor ask for one large block: a `Vec` doubling through hundreds of KiB
/// is given a fresh region of memory at each size, and with huge pages each one costs
/// 2 MiB of resident memory.
const CHUNK: usize = 64;

/// [`CHUNK`] cells of nodes: a pointer each, as most are never filled.
type NodeChunk = [std::cell::OnceCell<Box<Node>>; CHUNK];

/// A list kept in chunks of [`CHUNK`] items (see there why).
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    fn len(&self) -> usize {
        self.len
    }

    /// Appends `item`, returning its index.
    fn push(&mut self, item: T) -> usize {
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(item);
        }
        self.len += 1;
        self.len - 1
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// Where a node's schema object is, until the node is filled.
struct Place {
    doc: usize,
    /// The node whose schema object holds this one, when `pointer` is relative to it:
    /// most nodes are never filled (see [`Model::same_as`]), and a pointer deep in a
    /// large document is long, so it is written out only for the nodes filled.
    under: Option<NodeId>,
    /// The JSON pointer (the part after `under`'s when there is one).
    pointer: String,
}

impl<'d> Model<'d> {
    /// Builds the graph of `schema`.
    pub fn build(schema: &'d Schema) -> Model<'d> {
        let docs = schema.documents();
        let mut b = Builder {
            docs,
            places: Chunked::default(),
            memo: rustc_hash::FxHashMap::default(),
            parts: Vec::new(),
            current: None,
        };
        let root = b.node_for(Location {
            doc: 0,
            pointer: String::new(),
        });
        let model = Model {
            nodes: elsa::FrozenVec::new(),
            builder: std::cell::RefCell::new(b),
            root,
            docs,
            parents: std::cell::OnceCell::new(),
            digests: std::cell::OnceCell::new(),
        };
        model.adopt();
        model
    }

    /// Gives the nodes the builder made cells in the model (empty for nodes to fill
    /// later, filled for parts).
    fn adopt(&self) {
        let mut builder = self.builder.borrow_mut();
        while self.nodes.len() * CHUNK < builder.places.len() {
            self.nodes.push(Box::new(std::array::from_fn(|_| {
                std::cell::OnceCell::new()
            })));
        }
        for (id, node) in builder.parts.drain(..) {
            let _ = self.cell(id).set(Box::new(node));
        }
    }

    /// The cell of node `id`.
    fn cell(&self, id: NodeId) -> &std::cell::OnceCell<Box<Node>> {
        &self.nodes[id / CHUNK][id % CHUNK]
    }

    /// The number of nodes made so far.
    pub fn len(&self) -> usize {
        self.builder.borrow().places.len()
    }

    /// The number of nodes filled so far.
    #[cfg(test)]
    fn filled(&self) -> usize {
        (0..self.len())
            .filter(|&id| self.cell(id).get().is_some())
            .count()
    }

    /// Fills every node reachable from the root (what a question about the whole
    /// graph needs, such as [`Self::unique_parent`]).
    fn complete(&self) {
        let mut id = 0;
        while id < self.len() {
            self.node(id);
            id += 1;
        }
    }

    /// Whether node `id` of this model and node `other_id` of `other` are schema
    /// objects written alike (equal JSON values, under the same draft) that hold no
    /// reference: then they mean the same wherever they are, and comparing them finds
    /// nothing. The walk skips such pairs without looking inside: in a large schema
    /// that changed in one place, nearly everything is one.
    ///
    /// The digests make the check cheap: values are compared only when their digests
    /// agree, that is when they are (all but surely) equal, and a pair found equal is
    /// not walked, so no part of a document is compared twice this way.
    pub fn same_as(&self, id: NodeId, other: &Model<'_>, other_id: NodeId) -> bool {
        let (Some(a), Some(b)) = (self.value_of(id), other.value_of(other_id)) else {
            return false;
        };
        if self.docs.docs[self.doc_of(id)].draft != other.docs.docs[other.doc_of(other_id)].draft {
            return false;
        }
        match (self.digest(a), other.digest(b)) {
            (Some(x), Some(y)) => x == y && a == b,
            _ => false,
        }
    }

    /// The schema value of node `id`, without filling it (`None` for a part).
    fn value_of(&self, id: NodeId) -> Option<&'d Value> {
        self.builder.borrow().places[id].1
    }

    /// The document of node `id`, without filling it.
    fn doc_of(&self, id: NodeId) -> usize {
        self.builder.borrow().places[id].0.doc
    }

    /// The digest of a schema object of the documents, `None` when it holds a
    /// reference (or is not an object).
    fn digest(&self, value: &Value) -> Option<u64> {
        let digests = self.digests.get_or_init(|| {
            let mut out = rustc_hash::FxHashMap::default();
            for doc in &self.docs.docs {
                digest_into(&doc.value, &mut out);
            }
            out
        });
        digests.get(&std::ptr::from_ref(value).addr()).copied()
    }

    /// The only node that refers to `id`, if exactly one does: then every instance
    /// `id` is applied to is one its parent is applied to as well.
    pub fn unique_parent(&self, id: NodeId) -> Option<NodeId> {
        self.parents
            .get_or_init(|| {
                self.complete();
                unique_parents(self, self.root)
            })
            .get(id)
            .copied()
            .flatten()
    }

    /// Node `id`, filled now if this is the first time it is asked for.
    pub fn node(&self, id: NodeId) -> &Node {
        let cell = self.cell(id);
        if let Some(node) = cell.get() {
            return node;
        }
        // The node that made this one was filled before it: its pointer is written.
        let under = self.builder.borrow().places[id].0.under;
        let prefix = under.map_or("", |p| self.node(p).pointer.as_str());
        let node = self.builder.borrow_mut().fill_node(id, prefix);
        self.adopt();
        cell.get_or_init(|| Box::new(node))
    }

    /// The JSON pointer of a node as reports show it: prefixed with the document's URI
    /// for documents other than the root.
    pub fn pointer(&self, id: NodeId) -> String {
        let node = self.node(id);
        if node.doc == 0 {
            node.pointer.clone()
        } else {
            format!("{}#{}", self.docs.docs[node.doc].uri, node.pointer)
        }
    }

    /// A key that is equal for two nodes exactly when their schema objects are
    /// canonically equal (parts of synthetic combinators are unique).
    pub fn identity(&self, id: NodeId) -> String {
        match self.value_of(id) {
            Some(value) => {
                crate::schema::canonical_text(value, self.docs.docs[self.doc_of(id)].draft)
            }
            None => format!("#part{id}"),
        }
    }
}

impl<'d> Builder<'d> {
    /// The node for the schema at `loc`, following pure `$ref` chains; allocated and
    /// queued when new.
    fn node_for(&mut self, loc: Location) -> NodeId {
        self.node_for_value(loc, None)
    }

    /// [`Self::node_for`] when the caller already holds the value at `loc`.
    fn node_for_value(&mut self, loc: Location, value: Option<&'d Value>) -> NodeId {
        let (loc, value) = match value {
            Some(v) if !is_reference(v) => (loc, Some(v)),
            _ => (self.follow_refs(loc), None),
        };
        let docs: &'d Documents = self.docs;
        let value = value
            .or_else(|| docs.get(&loc))
            .unwrap_or(&Value::Bool(true));
        self.node_of(value, || Place {
            doc: loc.doc,
            under: None,
            pointer: loc.pointer,
        })
    }

    /// The node of the schema object `value`, made (not filled) at `place` when new.
    fn node_of(&mut self, value: &'d Value, place: impl FnOnce() -> Place) -> NodeId {
        let key = std::ptr::from_ref(value).addr();
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        let id = self.places.push((place(), Some(value)));
        self.memo.insert(key, id);
        id
    }

    /// Fills node `id`, whose pointer is `prefix` and its place's: its kind from its
    /// schema value, with ids for its children (made, not filled).
    fn fill_node(&mut self, id: NodeId, prefix: &str) -> Node {
        let (place, value) = &mut self.places[id];
        let loc = Location {
            doc: place.doc,
            pointer: if prefix.is_empty() {
                std::mem::take(&mut place.pointer)
            } else {
                let mut full = String::with_capacity(prefix.len() + place.pointer.len());
                full.push_str(prefix);
                full.push_str(&place.pointer);
                full
            },
        };
        let value = value.unwrap_or(&Value::Bool(true));
        self.current = Some((value, id));
        let (annotations, kind, unknown) = self.fill(&loc, value);
        Node {
            pointer: loc.pointer,
            doc: loc.doc,
            annotations,
            kind,
            unknown,
        }
    }

    /// Follows `$ref`s that stand alone (draft-07 and earlier ignore `$ref` siblings;
    /// later drafts only when the siblings are annotations). A cycle of pure references
    /// ends at its first repeated location.
    fn follow_refs(&self, mut loc: Location) -> Location {
        let mut seen = HashSet::new();
        loop {
            let Some(Value::Object(obj)) = self.docs.get(&loc) else {
                return loc;
            };
            let Some(reference) = REFERENCE_KEYWORDS
                .iter()
                .find_map(|k| obj.get(*k).and_then(Value::as_str))
            else {
                return loc;
            };
            let draft = self.docs.draft(&loc);
            if draft >= Draft::Draft201909
                && obj.keys().any(|k| {
                    !STRUCTURAL.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str())
                })
            {
                return loc;
            }
            if !seen.insert(loc.clone()) {
                return loc;
            }
            match self.docs.resolve(&loc, reference) {
                Some(target) => loc = target,
                None => return loc,
            }
        }
    }

    fn child(&mut self, loc: &Location, path: &[&str]) -> NodeId {
        let (current, parent) = match self.current {
            Some((value, id)) => (Some(value), Some(id)),
            None => (None, None),
        };
        let value = path.iter().try_fold(current, |v, token| match v? {
            Value::Object(o) => Some(o.get(*token)),
            Value::Array(a) => Some(token.parse::<usize>().ok().and_then(|i| a.get(i))),
            _ => None,
        });
        match (value.flatten(), parent) {
            // A schema object in place: its pointer is kept relative to its parent's.
            (Some(value), Some(parent)) if !is_reference(value) => self.node_of(value, || Place {
                doc: loc.doc,
                under: Some(parent),
                pointer: join_pointer("", path),
            }),
            (value, _) => {
                let loc = Location {
                    doc: loc.doc,
                    pointer: join_pointer(&loc.pointer, path),
                };
                self.node_for_value(loc, value)
            }
        }
    }

    fn child_opt(&mut self, loc: &Location, obj: &Map<String, Value>, key: &str) -> Option<NodeId> {
        match obj.get(key) {
            Some(Value::Object(_) | Value::Bool(_)) => Some(self.child(loc, &[key])),
            _ => None,
        }
    }

    fn extra(&mut self, loc: &Location, obj: &Map<String, Value>, key: &str) -> Extra {
        match obj.get(key) {
            None | Some(Value::Bool(true)) => Extra::Open,
            Some(Value::Bool(false)) => Extra::Closed,
            Some(Value::Object(o)) if o.is_empty() => Extra::Open,
            Some(Value::Object(_)) => Extra::Schema(self.child(loc, &[key])),
            Some(_) => Extra::Open,
        }
    }

    /// The annotations, kind and unknown keywords of the schema `value` at `loc`.
    fn fill(&mut self, loc: &Location, value: &'d Value) -> (Keywords, Kind, Keywords) {
        let draft = self.docs.draft(loc);
        let obj = match value {
            Value::Bool(true) => return (BTreeMap::new(), Kind::Any, BTreeMap::new()),
            Value::Object(obj) => obj,
            _ => return (BTreeMap::new(), Kind::Never, BTreeMap::new()),
        };
        let mut annotations = BTreeMap::new();
        let mut unknown = BTreeMap::new();
        // Which kinds' keywords the object has (read when it declares no `type`).
        let mut has = [false; 4];
        for (k, v) in obj {
            let family = Family::of(k);
            if family == Family::Annotation || ignored_keyword(draft, obj, k) {
                annotations.insert(k.clone(), v.clone());
            } else if k == draft.id_keyword() && v.as_str().is_some_and(|s| !s.starts_with('#')) {
                annotations.insert("$id".to_owned(), v.clone());
            } else if family == Family::Unknown {
                unknown.insert(k.clone(), v.clone());
            }
            match family {
                Family::Object => has[0] = true,
                Family::Array => has[1] = true,
                Family::String => has[2] = true,
                Family::Number => has[3] = true,
                _ => {}
            }
        }
        let mut parts: Vec<Kind> = Vec::new();

        // A `$ref` with constraining siblings (2019-09 and later): the target is one part.
        if let Some(reference) = REFERENCE_KEYWORDS
            .iter()
            .find_map(|k| obj.get(*k).and_then(Value::as_str))
        {
            if let Some(target) = self.docs.resolve(loc, reference) {
                let t = self.node_for(target);
                parts.push(Kind::Combined {
                    crit: Crit::AllOf,
                    subs: vec![t],
                    synthetic: Synthetic::Keywords,
                });
            }
        }

        let types: Option<Vec<String>> = match obj.get("type") {
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        };
        match &types {
            Some(types) => {
                let has_number = types.iter().any(|t| t == "number");
                let mut typed = Vec::new();
                for t in types {
                    let kind = match t.as_str() {
                        "object" => self.object(loc, obj, true),
                        "array" => self.array(loc, obj, draft, true),
                        "string" => Kind::String(Box::new(string_kind(obj, true))),
                        "number" => Kind::Number(Box::new(number_kind(obj, draft, true, false))),
                        "integer" if has_number => continue,
                        "integer" => Kind::Number(Box::new(number_kind(obj, draft, true, true))),
                        "boolean" => Kind::Boolean,
                        "null" => Kind::Null,
                        _ => continue,
                    };
                    typed.push(kind);
                }
                match typed.len() {
                    0 => parts.push(Kind::Never),
                    1 => parts.extend(typed),
                    _ => {
                        let subs = typed.into_iter().map(|k| self.part(loc, k)).collect();
                        parts.push(Kind::Combined {
                            crit: Crit::AnyOf,
                            subs,
                            synthetic: Synthetic::Types,
                        });
                    }
                }
            }
            None => {
                let [object, array, string, number] = has;
                if object {
                    parts.push(self.object(loc, obj, false));
                }
                if array {
                    parts.push(self.array(loc, obj, draft, false));
                }
                if string {
                    parts.push(Kind::String(Box::new(string_kind(obj, false))));
                }
                if number {
                    parts.push(Kind::Number(Box::new(number_kind(
                        obj, draft, false, false,
                    ))));
                }
            }
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            parts.push(Kind::Enum {
                values: values.clone(),
                is_const: false,
            });
        }
        if let Some(v) = obj.get("const") {
            parts.push(Kind::Enum {
                values: vec![v.clone()],
                is_const: true,
            });
        }
        if let Some(n) = self.child_opt(loc, obj, "not") {
            parts.push(Kind::Not(n));
        }
        for (key, crit) in [
            ("allOf", Crit::AllOf),
            ("anyOf", Crit::AnyOf),
            ("oneOf", Crit::OneOf),
        ] {
            if let Some(Value::Array(members)) = obj.get(key) {
                let subs = (0..members.len())
                    .map(|i| self.child(loc, &[key, &i.to_string()]))
                    .collect();
                parts.push(Kind::Combined {
                    crit,
                    subs,
                    synthetic: Synthetic::No,
                });
            }
        }
        if let Some(cond) = self.child_opt(loc, obj, "if") {
            let then = self.child_opt(loc, obj, "then");
            let els = self.child_opt(loc, obj, "else");
            parts.push(Kind::Conditional { cond, then, els });
        }

        let kind = match parts.len() {
            0 => Kind::Any,
            1 => parts.pop().unwrap_or(Kind::Any),
            _ => {
                let subs = parts.into_iter().map(|k| self.part(loc, k)).collect();
                Kind::Combined {
                    crit: Crit::AllOf,
                    subs,
                    synthetic: Synthetic::Keywords,
                }
            }
        };
        (annotations, kind, unknown)
    }

    /// A node for one kind of a schema object (a member of a synthetic combinator).
    fn part(&mut self, loc: &Location, kind: Kind) -> NodeId {
        // A one-member synthetic allOf (a `$ref` beside other keywords) is the member.
        if let Kind::Combined {
            subs,
            synthetic: Synthetic::Keywords,
            ..
        } = &kind
        {
            if subs.len() == 1 {
                return subs[0];
            }
        }
        let id = self.places.push((
            Place {
                doc: loc.doc,
                under: None,
                pointer: String::new(),
            },
            None,
        ));
        self.parts.push((
            id,
            Node {
                pointer: loc.pointer.clone(),
                doc: loc.doc,
                annotations: BTreeMap::new(),
                kind,
                unknown: BTreeMap::new(),
            },
        ));
        id
    }

    fn object(&mut self, loc: &Location, obj: &Map<String, Value>, typed: bool) -> Kind {
        let mut properties = Vec::new();
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (name, v) in props {
                if matches!(v, Value::Object(_) | Value::Bool(_)) {
                    properties.push((name.clone(), self.child(loc, &["properties", name])));
                }
            }
        }
        let mut patterns = Vec::new();
        if let Some(Value::Object(props)) = obj.get("patternProperties") {
            for (pattern, v) in props {
                if matches!(v, Value::Object(_) | Value::Bool(_)) {
                    patterns.push((
                        pattern.clone(),
                        self.child(loc, &["patternProperties", pattern]),
                    ));
                }
            }
        }
        let required = match obj.get("required") {
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => BTreeSet::new(),
        };
        let mut dependent_required = BTreeMap::new();
        let mut dependent_schemas = BTreeMap::new();
        for key in ["dependencies", "dependentRequired", "dependentSchemas"] {
            if let Some(Value::Object(deps)) = obj.get(key) {
                for (name, v) in deps {
                    match v {
                        Value::Array(names) if key != "dependentSchemas" => {
                            let set: BTreeSet<String> = names
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect();
                            dependent_required.insert(name.clone(), set);
                        }
                        Value::Object(_) | Value::Bool(_) if key != "dependentRequired" => {
                            let id = self.child(loc, &[key, name]);
                            dependent_schemas.insert(name.clone(), id);
                        }
                        _ => {}
                    }
                }
            }
        }
        let additional = self.extra(loc, obj, "additionalProperties");
        let unevaluated = self.extra(loc, obj, "unevaluatedProperties");
        let property_names = self.child_opt(loc, obj, "propertyNames");
        let index = properties.iter().cloned().collect();
        Kind::Object(Box::new(ObjectKind {
            typed,
            properties,
            index,
            required,
            additional,
            patterns,
            unevaluated,
            property_names,
            min: count(obj.get("minProperties")),
            max: count(obj.get("maxProperties")),
            dependent_required,
            dependent_schemas,
        }))
    }

    fn array(
        &mut self,
        loc: &Location,
        obj: &Map<String, Value>,
        draft: Draft,
        typed: bool,
    ) -> Kind {
        let mut all_items = None;
        let mut prefix = Vec::new();
        let rest;
        if draft >= Draft::Draft202012 {
            if let Some(Value::Array(items)) = obj.get("prefixItems") {
                prefix = (0..items.len())
                    .map(|i| self.child(loc, &["prefixItems", &i.to_string()]))
                    .collect();
            }
            if prefix.is_empty() {
                all_items = self.child_opt(loc, obj, "items");
                rest = Extra::Open;
            } else {
                rest = self.extra(loc, obj, "items");
            }
        } else {
            match obj.get("items") {
                Some(Value::Array(items)) => {
                    prefix = (0..items.len())
                        .map(|i| self.child(loc, &["items", &i.to_string()]))
                        .collect();
                }
                Some(Value::Object(_) | Value::Bool(_)) => {
                    all_items = Some(self.child(loc, &["items"]))
                }
                _ => {}
            }
            rest = if ignored_keyword(draft, obj, "additionalItems") {
                Extra::Open
            } else {
                self.extra(loc, obj, "additionalItems")
            };
        }
        let contains = self.child_opt(loc, obj, "contains");
        let unevaluated = self.extra(loc, obj, "unevaluatedItems");
        Kind::Array(Box::new(ArrayKind {
            typed,
            all_items,
            prefix,
            rest,
            unevaluated,
            contains,
            min_contains: if contains.is_some() {
                count(obj.get("minContains"))
            } else {
                None
            },
            max_contains: if contains.is_some() {
                count(obj.get("maxContains"))
            } else {
                None
            },
            min: count(obj.get("minItems")),
            max: count(obj.get("maxItems")),
            unique: obj.get("uniqueItems") == Some(&Value::Bool(true)),
        }))
    }
}

/// For each node, its parent when exactly one reference leads to it (the root has
/// none: it is where validation starts).
fn unique_parents(model: &Model<'_>, root: NodeId) -> Vec<Option<NodeId>> {
    let mut count = vec![0u32; model.len()];
    let mut parent = vec![None; model.len()];
    count[root] += 1;
    for p in 0..model.len() {
        for c in children(&model.node(p).kind) {
            if let Some(n) = count.get_mut(c) {
                *n += 1;
                parent[c] = Some(p);
            }
        }
    }
    parent
        .into_iter()
        .zip(count)
        .map(|(p, n)| if n == 1 { p } else { None })
        .collect()
}

/// Every node a kind refers to (a node referred to twice is listed twice).
fn children(kind: &Kind) -> Vec<NodeId> {
    let extra = |e: &Extra| match e {
        Extra::Schema(id) => Some(*id),
        Extra::Open | Extra::Closed => None,
    };
    match kind {
        Kind::Any
        | Kind::Never
        | Kind::String(_)
        | Kind::Number(_)
        | Kind::Boolean
        | Kind::Null
        | Kind::Enum { .. } => Vec::new(),
        Kind::Object(o) => o
            .properties
            .iter()
            .map(|(_, id)| *id)
            .chain(o.patterns.iter().map(|(_, id)| *id))
            .chain(extra(&o.additional))
            .chain(extra(&o.unevaluated))
            .chain(o.property_names)
            .chain(o.dependent_schemas.values().copied())
            .collect(),
        Kind::Array(a) => a
            .all_items
            .into_iter()
            .chain(a.prefix.iter().copied())
            .chain(extra(&a.rest))
            .chain(extra(&a.unevaluated))
            .chain(a.contains)
            .collect(),
        Kind::Not(id) => vec![*id],
        Kind::Combined { subs, .. } => subs.clone(),
        Kind::Conditional { cond, then, els } => {
            std::iter::once(*cond).chain(*then).chain(*els).collect()
        }
    }
}

/// Whether validators ignore `key` where it stands: `additionalItems` applies only after
/// an array of positional `items`, and 2020-12 has no `additionalItems` at all. Such a
/// keyword is compared like an annotation: its changes are reported, as changing nothing.
fn ignored_keyword(draft: Draft, obj: &Map<String, Value>, key: &str) -> bool {
    key == "additionalItems"
        && (draft >= Draft::Draft202012 || !matches!(obj.get("items"), Some(Value::Array(_))))
}

fn string_kind(obj: &Map<String, Value>, typed: bool) -> StringKind {
    StringKind {
        typed,
        min: count(obj.get("minLength")).filter(|n| *n > 0),
        max: count(obj.get("maxLength")),
        pattern: obj
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
        format: obj.get("format").and_then(Value::as_str).map(str::to_owned),
    }
}

fn number_kind(obj: &Map<String, Value>, draft: Draft, typed: bool, integer: bool) -> NumberKind {
    let bound = |plain: &str, exclusive: &str, tighter_is_greater: bool| -> Option<Bound> {
        let mut candidates = Vec::new();
        let excl_flag = obj.get(exclusive);
        if let Some(v) = obj.get(plain) {
            if let Some(d) = decimal(v) {
                // draft-04: `exclusiveMinimum: true` makes `minimum` exclusive.
                let excl = draft == Draft::Draft4 && excl_flag == Some(&Value::Bool(true));
                candidates.push(Bound {
                    value: d,
                    exclusive: excl,
                    raw: v.clone(),
                });
            }
        }
        if let Some(v @ Value::Number(_)) = excl_flag {
            if let Some(d) = decimal(v) {
                candidates.push(Bound {
                    value: d,
                    exclusive: true,
                    raw: v.clone(),
                });
            }
        }
        // The effective bound is the tighter one.
        candidates.into_iter().reduce(|a, b| {
            let a_tighter = if a.value == b.value {
                a.exclusive
            } else if tighter_is_greater {
                a.value > b.value
            } else {
                a.value < b.value
            };
            if a_tighter { a } else { b }
        })
    };
    NumberKind {
        typed,
        integer,
        lower: bound("minimum", "exclusiveMinimum", true),
        upper: bound("maximum", "exclusiveMaximum", false),
        multiple_of: obj
            .get("multipleOf")
            .and_then(|v| decimal(v).map(|d| (d, v.clone()))),
    }
}

/// The digest of `value` (a hash of its JSON structure), and of every object inside it
/// into `out`, except those that hold a `$ref`, `$dynamicRef` or `$recursiveRef`
/// anywhere (a key of that name, schema or not: the test only has to be safe). `None`
/// when `value` holds one.
fn digest_into(value: &Value, out: &mut rustc_hash::FxHashMap<usize, u64>) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    match value {
        Value::Null => 0u8.hash(&mut h),
        Value::Bool(b) => (1u8, b).hash(&mut h),
        Value::Number(n) => (2u8, n).hash(&mut h),
        Value::String(s) => (3u8, s).hash(&mut h),
        Value::Array(items) => {
            (4u8, items.len()).hash(&mut h);
            let mut pure = true;
            for item in items {
                match digest_into(item, out) {
                    Some(d) => d.hash(&mut h),
                    None => pure = false,
                }
            }
            if !pure {
                return None;
            }
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(&mut h);
            let mut pure = !REFERENCE_KEYWORDS.iter().any(|k| map.contains_key(*k));
            for (k, v) in map {
                k.hash(&mut h);
                match digest_into(v, out) {
                    Some(d) => d.hash(&mut h),
                    None => pure = false,
                }
            }
            if !pure {
                return None;
            }
            let digest = h.finish();
            out.insert(std::ptr::from_ref(value).addr(), digest);
            return Some(digest);
        }
    }
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{NoResolver, ParseOptions};

    fn schema(v: Value) -> Schema {
        Schema::from_value(v, &ParseOptions::default(), &NoResolver).expect("valid schema")
    }

    /// The conditional nodes of a model.
    fn conditionals(m: &Model) -> Vec<NodeId> {
        m.complete();
        (0..m.len())
            .filter(|id| matches!(m.node(*id).kind, Kind::Conditional { .. }))
            .collect()
    }

    fn is_keywords_all_of(m: &Model, id: NodeId) -> bool {
        matches!(
            m.node(id).kind,
            Kind::Combined {
                crit: Crit::AllOf,
                synthetic: Synthetic::Keywords,
                ..
            }
        )
    }

    #[test]
    fn a_conditional_beside_other_keywords_has_its_schema_object_as_only_parent() {
        let s = schema(json!({"properties": {"a": {}}, "if": {}, "then": {}}));
        let m = Model::build(&s);
        let [c] = conditionals(&m)[..] else {
            panic!("one conditional")
        };
        let parent = m.unique_parent(c).expect("one parent");
        assert!(is_keywords_all_of(&m, parent));
    }

    #[test]
    fn a_conditional_in_a_written_all_of_reaches_the_schema_object_through_it() {
        let s = schema(json!({"properties": {"a": {}}, "allOf": [{"if": {}, "then": {}}]}));
        let m = Model::build(&s);
        let [c] = conditionals(&m)[..] else {
            panic!("one conditional")
        };
        let all_of = m.unique_parent(c).expect("one parent");
        let parent = m.unique_parent(all_of).expect("one parent");
        assert!(is_keywords_all_of(&m, parent));
    }

    /// A schema object with `width` leaf properties and, `levels` times, one nested
    /// like it under `next`.
    fn nested(levels: usize, width: usize, leaf: &Value) -> Value {
        let mut properties = serde_json::Map::new();
        for i in 0..width {
            properties.insert(format!("f{i}"), leaf.clone());
        }
        if levels > 0 {
            properties.insert("next".into(), nested(levels - 1, width, leaf));
        }
        json!({"type": "object", "properties": properties})
    }

    #[test]
    fn the_walk_fills_only_the_nodes_on_the_way_to_a_change() {
        let leaf = json!({"type": "integer", "minimum": 0});
        let old = nested(3, 50, &leaf);
        let mut new = old.clone();
        new["properties"]["next"]["properties"]["next"]["properties"]["f7"] =
            json!({"type": "string"});
        let (old, new) = (schema(old), schema(new));
        let (om, nm) = (Model::build(&old), Model::build(&new));
        let findings = crate::compat::walk::run(
            &om,
            &nm,
            crate::domain::Policy::Strict,
            &mut crate::compat::walk::Budget::default(),
        )
        .expect("walks");
        let rules: Vec<_> = findings.iter().map(|f| f.rule.id()).collect();
        assert_eq!(rules, ["type-changed"], "{findings:?}");
        // The root, two levels of `next`, and the changed leaf; the 50 × 3 leaves
        // written alike are made (ids) but never filled.
        assert_eq!((om.filled(), nm.filled()), (4, 4));
        assert!(om.len() > 150);
    }

    #[test]
    fn schema_objects_written_alike_without_references_are_the_same() {
        let a = schema(json!({"properties": {
            "x": {"type": "string", "maxLength": 3},
            "r": {"$ref": "#/properties/x"},
            "w": {"properties": {"in": {"$ref": "#/properties/x"}}}
        }}));
        let b = schema(json!({"properties": {
            "x": {"type": "string", "maxLength": 3},
            "r": {"$ref": "#/properties/x"},
            "w": {"properties": {"in": {"$ref": "#/properties/x"}}},
            "y": {"maxLength": 3, "type": "string"}
        }}));
        let later = schema(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"x": {"type": "string", "maxLength": 3}}
        }));
        let (ma, mb, ml) = (Model::build(&a), Model::build(&b), Model::build(&later));
        let prop = |m: &Model, name: &str| match &m.node(m.root).kind {
            Kind::Object(o) => o.property(name).expect("a property"),
            k => panic!("an object, not {k:?}"),
        };
        assert!(ma.same_as(prop(&ma, "x"), &mb, prop(&mb, "x")));
        // Key order is not part of a JSON object.
        assert!(ma.same_as(prop(&ma, "x"), &mb, prop(&mb, "y")));
        // A reference resolves in its own document: never taken as the same.
        assert!(!ma.same_as(prop(&ma, "w"), &mb, prop(&mb, "w")));
        // Alike, but read under another draft.
        assert!(!ma.same_as(prop(&ma, "x"), &ml, prop(&ml, "x")));
    }

    #[test]
    fn a_conditional_referenced_from_two_places_has_no_unique_parent() {
        let s = schema(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {"c": {"if": {}, "then": {}}},
            "$ref": "#/$defs/c",
            "properties": {"a": {}, "p": {"$ref": "#/$defs/c"}}
        }));
        let m = Model::build(&s);
        let [c] = conditionals(&m)[..] else {
            panic!("one conditional")
        };
        assert_eq!(m.unique_parent(c), None);
        assert_eq!(m.unique_parent(m.root), None);
    }
}
