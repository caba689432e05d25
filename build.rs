//! Sets the `accord_postgres` cfg when `ACCORD_TEST_POSTGRES_URL` is set at build
//! time, so the PostgreSQL tests are compiled as ignored (and listed as ignored, with
//! the reason, by `cargo test`) rather than passing without running when it is not;
//! the `accord_root` cfg when built as root, for the test that mounts a tmpfs; and,
//! for release builds on Linux, hands the linker `link/hot-text.ld`, which gathers the
//! functions the common commands run at the front of the code (see
//! `link/hot-text.py`): `accord diff` on a 280 KB pair then keeps about 7 MiB fewer
//! pages of the binary resident. `ACCORD_HOT_TEXT=0` at build time links without it
//! (for a linker that takes no scripts, such as mold).

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
    hot_text();
    if std::env::var_os("ACCORD_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=accord_postgres");
    }
}

fn hot_text() {
    println!("cargo::rerun-if-changed=link/hot-text.ld");
    println!("cargo::rerun-if-env-changed=ACCORD_HOT_TEXT");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("PROFILE") != "release"
        || var("ACCORD_HOT_TEXT") == "0"
    {
        return;
    }
    let script = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("link/hot-text.ld");
    // Two arguments, so that no character of the path is taken for a separator.
    println!("cargo::rustc-link-arg-bin=accord=-Xlinker");
    println!(
        "cargo::rustc-link-arg-bin=accord=--script={}",
        script.display()
    );
}
