//! Every limit and timeout of `accord serve`, in one type: [`Limits`].
//!
//! Each field has its default (a constant here), its command-line flag and its
//! environment variable (`--max-body-bytes`, `ACCORD_MAX_BODY_BYTES`), and a row in
//! `docs/limits.md` saying what a client sees when it is reached. A test compares that
//! table with the flags, so a field cannot be added without its row.
//!
//! The serve command parses it (flattened into its arguments), the server state
//! carries it, and each layer reads the fields it enforces. This module imports only
//! the defaults of the schema layer's output caps, so any layer may depend on it.
//!
//! To add a limit: a `DEFAULT_…` constant, a field with `#[arg(long, env = "ACCORD_…",
//! default_value_t = …)]` and a doc comment (it is the `--help` text), its line in
//! [`Limits::default`], and its row in `docs/limits.md`. Durations are
//! [`humantime::Duration`]s, written `500ms`, `10s`, `2m` on the command line;
//! `*limits.field` is the [`std::time::Duration`]. Keep the type `Copy`: numbers and
//! durations only.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::schema::{DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_VIOLATIONS, ViolationCaps};

/// The default request-body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The default limit on an NDJSON body sent to the validate endpoint: 256 MiB.
pub const DEFAULT_MAX_VALIDATE_BYTES: usize = 256 * 1024 * 1024;
/// The default limit on one NDJSON line sent to the validate endpoint: 16 MiB.
pub const DEFAULT_MAX_VALIDATE_LINE_BYTES: usize = 16 * 1024 * 1024;
/// The default bound on the rejected lines an NDJSON validation answer lists: 1 MiB
/// of messages.
pub const DEFAULT_MAX_VALIDATE_ANSWER_BYTES: usize = 1024 * 1024;
/// The default limit on a request's line and headers: 64 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// How long a client may take to send a request's headers (and to start the next
/// request on a kept-alive connection): 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to complete the TLS handshake (with `--tls-cert`): 10 s.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause allowed while a request body is being received: 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, from its headers to its answer: 60 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The default bound on open connections: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// How many compatibility checks may wait for a free core: 32.
pub const DEFAULT_MAX_QUEUED_CHECKS: usize = 32;
/// How long a request may wait for a database connection: 2 s.
pub const DEFAULT_DB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one PostgreSQL statement may run, and a transaction sit idle: 30 s.
pub const DEFAULT_DB_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight requests may take to finish after SIGTERM: 20 s (under the
/// 30 s a container orchestrator usually waits before it kills).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// Every limit and timeout of the server, with its default, flag and environment
/// variable (see `docs/limits.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Limits and timeouts (docs/limits.md)")]
pub struct Limits {
    /// Largest accepted request body, in bytes; a larger one is answered 413.
    #[arg(long, env = "ACCORD_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Largest NDJSON body accepted by the validate endpoint, in bytes (it is
    /// streamed, not buffered, so it may be far larger than --max-body-bytes); a larger
    /// one is answered 413.
    #[arg(long, env = "ACCORD_MAX_VALIDATE_BYTES", default_value_t = DEFAULT_MAX_VALIDATE_BYTES)]
    pub max_validate_bytes: usize,
    /// Longest NDJSON line the validate endpoint checks, in bytes; a longer one is
    /// counted as an unparsable record.
    #[arg(long, env = "ACCORD_MAX_VALIDATE_LINE_BYTES", default_value_t = DEFAULT_MAX_VALIDATE_LINE_BYTES)]
    pub max_validate_line_bytes: usize,
    /// Longest value quoted in a validation error message, in bytes of JSON; a longer
    /// one is cut, with an ellipsis and its full length.
    #[arg(long, env = "ACCORD_MAX_ERROR_VALUE_BYTES", default_value_t = DEFAULT_MAX_VALUE_BYTES)]
    pub max_error_value_bytes: usize,
    /// Most validation errors listed per record (the answer gives the total).
    #[arg(long, env = "ACCORD_MAX_ERRORS_PER_RECORD", default_value_t = DEFAULT_MAX_VIOLATIONS)]
    pub max_errors_per_record: usize,
    /// Bytes of messages an NDJSON validation answer lists rejected lines with; the
    /// lines beyond are counted, not listed.
    #[arg(long, env = "ACCORD_MAX_VALIDATE_ANSWER_BYTES", default_value_t = DEFAULT_MAX_VALIDATE_ANSWER_BYTES)]
    pub max_validate_answer_bytes: usize,
    /// Largest request line and headers, in bytes; larger ones are answered 431.
    #[arg(long, env = "ACCORD_MAX_HEADER_BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES)]
    pub max_header_bytes: usize,
    /// How long a client may take to send a request's headers, and to start its next
    /// request on a kept-alive connection; then the connection is closed.
    #[arg(long, env = "ACCORD_HEADER_READ_TIMEOUT", default_value_t = DEFAULT_HEADER_READ_TIMEOUT.into())]
    pub header_read_timeout: humantime::Duration,
    /// How long a client may take to complete the TLS handshake when serving HTTPS
    /// (--tls-cert); then the connection is closed. The header read deadline starts
    /// after it.
    #[arg(long, env = "ACCORD_TLS_HANDSHAKE_TIMEOUT", default_value_t = DEFAULT_TLS_HANDSHAKE_TIMEOUT.into())]
    pub tls_handshake_timeout: humantime::Duration,
    /// The longest pause allowed while a request body arrives; then the request is
    /// answered 408.
    #[arg(long, env = "ACCORD_BODY_READ_TIMEOUT", default_value_t = DEFAULT_BODY_READ_TIMEOUT.into())]
    pub body_read_timeout: humantime::Duration,
    /// How long one request may take, from its headers to its answer (a streamed
    /// validate body included); then it is answered 503 with Retry-After.
    #[arg(long, env = "ACCORD_REQUEST_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT.into())]
    pub request_timeout: humantime::Duration,
    /// Most connections open at once (lowered to fit the open-file limit). When all
    /// are taken, a new connection replaces the one idle the longest, or is answered
    /// 503 when every connection is inside a request.
    #[arg(long, env = "ACCORD_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Compatibility checks (registrations, dry runs, diffs) run at once (default: one
    /// per CPU core); more wait their turn.
    #[arg(long, env = "ACCORD_MAX_CONCURRENT_CHECKS")]
    pub max_concurrent_checks: Option<NonZeroUsize>,
    /// Compatibility checks that may wait for their turn; one more is answered 503
    /// with Retry-After.
    #[arg(long, env = "ACCORD_MAX_QUEUED_CHECKS", default_value_t = DEFAULT_MAX_QUEUED_CHECKS)]
    pub max_queued_checks: usize,
    /// How long in-flight requests may take to finish after SIGTERM or Ctrl-C; then
    /// the server stops anyway, closing the connections still open.
    #[arg(long, env = "ACCORD_SHUTDOWN_TIMEOUT", default_value_t = DEFAULT_SHUTDOWN_TIMEOUT.into())]
    pub shutdown_timeout: humantime::Duration,
    /// How long a request may wait for a database connection (opening one included,
    /// so an unreachable database fails in this time); then it is answered 503 with
    /// Retry-After.
    #[arg(long, env = "ACCORD_DB_ACQUIRE_TIMEOUT", default_value_t = DEFAULT_DB_ACQUIRE_TIMEOUT.into())]
    pub db_acquire_timeout: humantime::Duration,
    /// PostgreSQL only: how long one statement may run, and a transaction may sit idle
    /// (a client gone silent), before the database cancels it; the request is answered
    /// 503 with Retry-After. `0s` turns both off.
    #[arg(long, env = "ACCORD_DB_STATEMENT_TIMEOUT", default_value_t = DEFAULT_DB_STATEMENT_TIMEOUT.into())]
    pub db_statement_timeout: humantime::Duration,
    /// Worker threads of the async runtime (default: one per CPU core). Fewer leaves
    /// cores to other processes on the machine, such as a load generator.
    #[arg(long, env = "ACCORD_WORKERS")]
    pub workers: Option<NonZeroUsize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_validate_bytes: DEFAULT_MAX_VALIDATE_BYTES,
            max_validate_line_bytes: DEFAULT_MAX_VALIDATE_LINE_BYTES,
            max_error_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_errors_per_record: DEFAULT_MAX_VIOLATIONS,
            max_validate_answer_bytes: DEFAULT_MAX_VALIDATE_ANSWER_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT.into(),
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT.into(),
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT.into(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_concurrent_checks: None,
            max_queued_checks: DEFAULT_MAX_QUEUED_CHECKS,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT.into(),
            db_acquire_timeout: DEFAULT_DB_ACQUIRE_TIMEOUT.into(),
            db_statement_timeout: DEFAULT_DB_STATEMENT_TIMEOUT.into(),
            workers: None,
        }
    }
}

impl Limits {
    /// The caps on the violations listed for one record.
    pub fn violation_caps(&self) -> ViolationCaps {
        ViolationCaps {
            max_value_bytes: self.max_error_value_bytes,
            max_violations: self.max_errors_per_record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn parse(args: &[&str]) -> Limits {
        let command = Limits::augment_args(clap::Command::new("serve").no_binary_name(true));
        let matches = command.try_get_matches_from(args).expect("parses");
        Limits::from_arg_matches(&matches).expect("limits")
    }

    #[test]
    fn the_flags_default_to_the_constants() {
        assert_eq!(parse(&[]), Limits::default());
    }

    #[test]
    fn docs_limits_md_lists_every_flag_with_its_environment_variable_and_default() {
        let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/limits.md"));
        let command = Limits::augment_args(clap::Command::new("serve"));
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            let flag = format!("`--{long}`");
            let row = doc
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&flag))
                .unwrap_or_else(|| panic!("docs/limits.md has no row for {flag}"));
            let env = arg
                .get_env()
                .expect("every limit has an environment variable");
            let env = format!("`{}`", env.to_string_lossy());
            assert!(row.contains(&env), "the row of {flag} does not name {env}");
            for default in arg.get_default_values() {
                let default = format!("`{}`", default.to_string_lossy());
                assert!(
                    row.contains(&default),
                    "the row of {flag} does not give its default {default}"
                );
            }
        }
    }

    #[test]
    fn durations_are_written_with_their_unit() {
        let limits = parse(&["--shutdown-timeout", "1500ms"]);
        assert_eq!(*limits.shutdown_timeout, Duration::from_millis(1500));
        let limits = parse(&["--shutdown-timeout", "2m"]);
        assert_eq!(*limits.shutdown_timeout, Duration::from_secs(120));
    }

    #[test]
    fn a_duration_without_a_unit_is_refused() {
        let command = Limits::augment_args(clap::Command::new("serve").no_binary_name(true));
        let err = command
            .try_get_matches_from(["--shutdown-timeout", "20"])
            .unwrap_err();
        assert!(err.to_string().contains("--shutdown-timeout"), "{err}");
    }
}
