//! The `accord` binary: parse the command line, run, exit with the command's code.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    accord::cli::main()
}
