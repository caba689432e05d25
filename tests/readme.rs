//! The README's quickstart, run as written: its `sh` blocks in order, against a fresh
//! `accord serve`, from a directory holding the repository's `contracts/` and
//! `docs/examples/` (so the README cannot point at files a clone does not have, or
//! show answers the registry no longer gives).

mod common;

use std::path::Path;
use std::process::Command;

use common::Server;

/// The `sh` code blocks of the README's section whose heading starts with `heading`.
fn blocks(readme: &str, heading: &str) -> Vec<String> {
    common::sh_blocks(readme, heading)
}

#[test]
fn the_quickstart_runs_top_to_bottom_on_a_fresh_server() {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(
            found,
            "the quickstart needs {tool}; install it to run this test"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = blocks(&readme, "Quickstart");
    assert!(blocks.len() >= 5, "{blocks:#?}");
    assert!(
        blocks[0].contains("serve"),
        "the first block starts the server"
    );

    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("contracts"), work.path().join("contracts")).unwrap();
    std::fs::create_dir(work.path().join("docs")).unwrap();
    std::os::unix::fs::symlink(
        root.join("docs/examples"),
        work.path().join("docs/examples"),
    )
    .unwrap();
    let script = format!("set -euo pipefail\n{}\n", blocks[1..].join("\n"))
        .replace("http://127.0.0.1:8081", &server.url);
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );

    // What the README's comments say each step answers.
    let lines: Vec<&str> = stdout.lines().collect();
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["version"], "1.0.0", "{stdout}");
    assert_eq!(first["required_bump"], "none", "{stdout}");
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["version"], "1.1.0", "{stdout}");
    assert_eq!(second["required_bump"], "minor", "{stdout}");
    assert!(
        stdout.contains("\"code\": \"incompatible-change\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"version\": \"2.0.0\""), "{stdout}");
    assert!(stdout.contains("\"unparsable\": 1"), "{stdout}");
    assert_eq!(lines.last().copied(), Some("\"1.1.0\""), "{stdout}");
}
