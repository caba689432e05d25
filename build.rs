//! Sets the `accord_postgres` cfg when `ACCORD_TEST_POSTGRES_URL` is set at build
//! time, so the PostgreSQL tests are compiled as ignored (and listed as ignored, with
//! the reason, by `cargo test`) rather than passing without running when it is not.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(accord_postgres)");
    println!("cargo::rerun-if-env-changed=ACCORD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("ACCORD_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=accord_postgres");
    }
}
