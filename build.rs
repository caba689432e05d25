//! Sets the `accord_postgres` cfg when `ACCORD_TEST_POSTGRES_URL` is set at build
//! time, so the PostgreSQL tests are compiled as ignored (and listed as ignored, with
//! the reason, by `cargo test`) rather than passing without running when it is not;
//! and the `accord_root` cfg when built as root, for the test that mounts a tmpfs.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(accord_postgres)");
    println!("cargo::rerun-if-env-changed=ACCORD_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(accord_root)");
    println!("cargo::rerun-if-changed=build.rs");
    // The disk-full test mounts a small tmpfs, which needs root.
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    });
    if root {
        println!("cargo::rustc-cfg=accord_root");
    }
    if std::env::var_os("ACCORD_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=accord_postgres");
    }
}
