//! docs/compatibility.md documents every rule id the engine can report.

use accord::compat::Rule;

#[test]
fn every_rule_id_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/compatibility.md")).expect("docs/compatibility.md exists");
    let missing: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).filter(|id| !doc.contains(&format!("`{id}`"))).collect();
    assert!(missing.is_empty(), "rule ids missing from docs/compatibility.md: {missing:?} (run scripts/gen_compat_doc.py)");
}
