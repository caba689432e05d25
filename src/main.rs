//! The `accord` binary: parse the command line, run, exit with the command's code.
#![forbid(unsafe_code)]

// Parsing records into `serde_json::Value` is allocation-heavy; mimalloc makes
// the engine and `accord validate`
// measurably faster (docs/benchmarks-engine.md, docs/benchmarks-validate.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    accord::cli::main()
}
