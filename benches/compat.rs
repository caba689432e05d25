//! Engine benchmarks: `cargo bench --bench compat`.
//!
//! - a 250 KB schema diffed against a modified copy;
//! - the order schema of `../shared/bench/gen_events.py` checked FULL_TRANSITIVE against
//!   100 previous versions (set `ACCORD_ORDER_SCHEMA` to a schema file, or have python3
//!   and the shared folder beside the repository);
//! - `oneOf` with 64 members on each side;
//! - a registration's consumers section as `benches/consumers.sh` makes it: 100
//!   readers of two fields each, deployed against the first version of a closed object
//!   of 20 strings, and a new version with 100 more properties; beside it, the
//!   registration's own BACKWARD check of that version against the one before.

use std::hint::black_box;

use accord::compat::{self, Previous};
use accord::domain::{FieldPath, Mode, Policy};
use accord::schema::{NoResolver, ParseOptions, Schema};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

// The same allocator as the `accord` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parse(v: &Value) -> Schema {
    Schema::from_value(v.clone(), &ParseOptions::default(), &NoResolver).expect("valid schema")
}

fn wide_schema(fields: usize, max_length: u64) -> Value {
    let props: serde_json::Map<String, Value> = (0..fields)
        .map(|i| {
            let field = json!({
                "type": "object",
                "description": "one nested record of the wide schema",
                "properties": {
                    "id": {"type": "string", "maxLength": max_length},
                    "kind": {"enum": ["a", "b", "c", "d"]},
                    "amount": {"type": "number", "minimum": 0, "multipleOf": 0.01},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10}
                },
                "required": ["id", "kind"],
                "additionalProperties": false
            });
            (format!("field_{i:04}"), field)
        })
        .collect();
    json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": props})
}

fn order_schema() -> Value {
    if let Ok(path) = std::env::var("ACCORD_ORDER_SCHEMA") {
        return serde_json::from_str(
            &std::fs::read_to_string(path).expect("ACCORD_ORDER_SCHEMA is readable"),
        )
        .expect("JSON");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = dir.path().join("order.schema.json");
    let generator = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/gen_events.py");
    let status = std::process::Command::new("python3")
        .args([
            generator,
            "--schema",
            schema.to_str().unwrap(),
            "--out",
            dir.path().join("e.ndjson").to_str().unwrap(),
            "--records",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the generator (or set ACCORD_ORDER_SCHEMA)");
    assert!(status.success(), "gen_events.py failed");
    serde_json::from_str(&std::fs::read_to_string(schema).expect("schema written")).expect("JSON")
}

fn benches(c: &mut Criterion) {
    let old = wide_schema(560, 64);
    let mut new = old.clone();
    new["properties"]["field_0100"]["properties"]["id"]["maxLength"] = json!(32);
    new["properties"]["field_0200"]["properties"]["kind"]["enum"] = json!(["a", "b", "c"]);
    new["properties"]["field_0300"]["required"] = json!(["id", "kind", "amount"]);
    eprintln!("wide schema: {} bytes", old.to_string().len());
    let (old, new) = (parse(&old), parse(&new));
    c.bench_function("diff 250 KB schema against a modified copy", |b| {
        b.iter(|| black_box(compat::diff(&old, &new, Policy::Strict).unwrap()))
    });

    let order = order_schema();
    let mut versions = Vec::new();
    for i in 0..100 {
        let mut v = order.clone();
        v["description"] = json!(format!("order placed, revision {i}"));
        versions.push(parse(&v));
    }
    let labels: Vec<String> = (0..100).map(|i| format!("1.{}.0", 99 - i)).collect();
    let previous: Vec<Previous<'_>> = versions
        .iter()
        .rev()
        .zip(&labels)
        .map(|(schema, label)| Previous { label, schema })
        .collect();
    let mut candidate = order.clone();
    candidate["description"] = json!("order placed, candidate");
    let candidate = parse(&candidate);
    c.bench_function("order schema FULL_TRANSITIVE against 100 versions", |b| {
        b.iter(|| {
            let r =
                compat::check(&candidate, &previous, Mode::FullTransitive, Policy::Strict).unwrap();
            assert_eq!(r.checked_versions.len(), 100);
            black_box(r)
        })
    });

    let members = |shift: u64| -> Vec<Value> {
        (0..64u64)
            .map(|i| json!({"type": "object", "properties": {"kind": {"const": format!("k{i}")}, "n": {"type": "integer", "maximum": 100 + i + shift}}, "required": ["kind"]}))
            .collect()
    };
    let a = parse(&json!({ "oneOf": members(0) }));
    let mut rev = members(1);
    rev.reverse();
    let b64 = parse(&json!({ "oneOf": rev }));
    c.bench_function("oneOf 64 x 64", |b| {
        b.iter(|| black_box(compat::compare(&a, &b64, Mode::Backward, Policy::Strict).unwrap()))
    });

    let closed = |extra: usize| {
        let mut props = serde_json::Map::new();
        for i in 0..20 {
            props.insert(format!("f{i}"), json!({"type": "string"}));
        }
        for i in 0..extra {
            props.insert(format!("x{i}"), json!({"type": "integer"}));
        }
        parse(
            &json!({"type": "object", "properties": props, "required": ["f0"], "additionalProperties": false}),
        )
    };
    let (deployed, before, after) = (closed(0), closed(99), closed(100));
    let readers: Vec<Vec<FieldPath>> = (0..100)
        .map(|n| {
            [n % 20, (n * 7 + 3) % 20]
                .iter()
                .map(|f| FieldPath::parse(&format!("/f{f}")).unwrap())
                .collect()
        })
        .collect();
    let fields: Vec<&[FieldPath]> = readers.iter().map(Vec::as_slice).collect();
    c.bench_function(
        "consumers section: 100 readers, 100 properties added",
        |b| {
            b.iter(|| {
                let walk = compat::ReaderCheck::new(&deployed, &after, Policy::Strict).unwrap();
                black_box(walk.verdicts(&fields, 10))
            })
        },
    );
    c.bench_function("the registration's own check of that version", |b| {
        b.iter(|| {
            black_box(compat::compare(&before, &after, Mode::Backward, Policy::Strict).unwrap())
        })
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(engine);
