//! End-to-end tests of `accord validate`: the real binary, real files, real pipes,
//! and a fake registry for `--registry`.

mod fake_registry;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(name)
}

fn schema() -> String {
    fixture("order.schema.json").display().to_string()
}

/// Runs `accord` with `args`, feeding `stdin` when given.
fn accord(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("accord starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        std::thread::spawn(move || pipe.write_all(&input));
    }
    child.wait_with_output().expect("accord runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("accord exits normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON summary ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn dead_letters(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("dead-letter file exists")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each dead letter is one JSON line"))
        .collect()
}

fn record(id: u64, email: &str) -> String {
    format!(r#"{{"id":{id},"email":"{email}","at":"2024-01-01T00:00:00Z"}}"#)
}

#[test]
fn a_mixed_file_is_counted_and_split_into_valid_and_dead_letter_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (valid, dead) = (
        dir.path().join("valid.ndjson"),
        dir.path().join("dead.ndjson"),
    );
    let input = fixture("mixed.ndjson");
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            input.to_str().unwrap(),
            "--valid-out",
            valid.to_str().unwrap(),
            "--dead-letter",
            dead.to_str().unwrap(),
            "--format",
            "json",
            "--max-invalid",
            "10",
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(
        (s["records"].as_u64(), s["valid"].as_u64()),
        (Some(8), Some(4)),
        "{s}"
    );
    assert_eq!(
        (s["invalid"].as_u64(), s["unparsable"].as_u64()),
        (Some(3), Some(1)),
        "{s}"
    );
    assert_eq!(s["contract"]["name"], "order.schema.json");
    assert_eq!(
        s["contract"]["fingerprint"].as_str().map(str::len),
        Some(64)
    );
    assert!(
        s["seconds"].is_number() && s["records_per_s"].is_number(),
        "{s}"
    );

    // Valid records are the original bytes, in input order, spacing kept.
    let lines: Vec<&str> = include_str!("fixtures/validate/mixed.ndjson")
        .lines()
        .collect();
    let expected: String = [0, 1, 4, 8]
        .iter()
        .map(|&i| format!("{}\n", lines[i]))
        .collect();
    assert_eq!(std::fs::read_to_string(&valid).unwrap(), expected);

    let dead = dead_letters(&dead);
    let line_numbers: Vec<u64> = dead.iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert_eq!(line_numbers, [3, 6, 7, 8]);
    // An invalid record is kept as JSON, with every violation located twice.
    assert_eq!(dead[0]["reason"], "invalid");
    assert_eq!(dead[0]["record"]["id"], 0);
    assert_eq!(dead[0]["errors"][0]["instance_path"], "/id");
    assert_eq!(
        dead[0]["errors"][0]["schema_path"],
        "/properties/id/minimum"
    );
    assert!(
        dead[0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("minimum")
    );
    // An email with display text is not an email.
    assert_eq!(
        dead[1]["errors"][0]["schema_path"],
        "/properties/email/format"
    );
    // A line that is not JSON is kept as raw text.
    assert_eq!(dead[2]["reason"], "unparsable");
    assert_eq!(dead[2]["raw"], lines[6]);
    assert!(
        dead[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("not JSON")
    );
    // Every violation of a record is reported.
    let paths: Vec<&str> = dead[3]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["schema_path"].as_str().unwrap())
        .collect();
    for p in ["/properties/id/type", "/required", "/properties/at/format"] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    // The summary groups errors by schema path.
    let top = s["top_errors"].as_array().unwrap();
    assert!(
        top.iter()
            .any(|g| g["schema_path"] == "/properties/id/minimum" && g["count"] == 1),
        "{top:?}"
    );
}

#[test]
fn any_rejected_record_exits_1_by_default_and_a_clean_file_exits_0() {
    let input = format!(
        "{}\n{}\n",
        record(1, "a@example.com"),
        record(2, "b@example.com")
    );
    let out = accord(
        &["validate", "--schema", &schema(), "-"],
        Some(input.as_bytes()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 records: 2 valid, 0 invalid, 0 unparsable"),
        "{}",
        stderr(&out)
    );

    let out = accord(
        &["validate", "--schema", &schema(), "-"],
        Some(b"{\"id\":1}\n"),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("circuit breaker"), "{}", stderr(&out));
}

#[test]
fn standard_input_is_read_when_no_input_is_named() {
    let input = format!(
        "{}\n{}",
        record(1, "a@example.com"),
        record(0, "b@example.com")
    );
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "--format",
            "json",
            "--max-invalid",
            "1",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let s = summary(&out);
    // The last line has no newline and still counts.
    assert_eq!(
        (s["records"].as_u64(), s["invalid"].as_u64()),
        (Some(2), Some(1)),
        "{s}"
    );
}

#[test]
fn valid_records_can_be_piped_to_standard_output() {
    // The last line has no newline; its copy in the output does.
    let input = format!(
        "{}\n{{\"id\":0}}\n{}",
        record(1, "a@example.com"),
        record(3, "c@example.com")
    );
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "--valid-out",
            "-",
            "--max-invalid",
            "1",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{}\n{}\n",
            record(1, "a@example.com"),
            record(3, "c@example.com")
        )
    );
}

#[test]
fn invalid_utf8_over_long_lines_and_garbage_are_rejected_records_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead.ndjson");
    let mut input = Vec::new();
    input.extend_from_slice(record(1, "a@example.com").as_bytes());
    input.extend_from_slice(
        b"\n{\"id\":2,\"email\":\"b\xff@example.com\",\"at\":\"2024-01-01T00:00:00Z\"}\n",
    );
    let long = format!("{{\"id\":3,\"note\":\"{}\"}}", "x".repeat(500));
    input.extend_from_slice(long.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(b"\x00\x01 binary garbage\n[1,2\n\"just a string\"\n");
    input.extend_from_slice(format!("{}\n", record(9, "i@example.com")).as_bytes());
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "-",
            "--max-line-bytes",
            "200",
            "--dead-letter",
            dead.to_str().unwrap(),
            "--format",
            "json",
            "--max-invalid",
            "100%",
        ],
        Some(&input),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(s["records"], 7, "{s}");
    assert_eq!(
        (
            s["valid"].as_u64(),
            s["invalid"].as_u64(),
            s["unparsable"].as_u64()
        ),
        (Some(2), Some(1), Some(4)),
        "{s}"
    );
    let dead = dead_letters(&dead);
    let reasons: Vec<(u64, &str)> = dead
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "invalid-utf8"),
            (3, "too-long"),
            (4, "unparsable"),
            (5, "unparsable"),
            (6, "invalid")
        ]
    );
    assert_eq!(dead[1]["truncated"], true);
    assert_eq!(dead[1]["bytes"].as_u64(), Some(long.len() as u64));
}

#[test]
fn a_line_longer_than_the_limit_is_skipped_without_being_held_whole() {
    // Far longer than one read batch, without a newline in reach.
    let long = format!("{{\"note\":\"{}\"}}", "y".repeat(10 << 20));
    let input = format!(
        "{}\n{long}\n{}\n",
        record(1, "a@example.com"),
        record(2, "b@example.com")
    );
    let dir = tempfile::tempdir().unwrap();
    let (valid, dead) = (
        dir.path().join("valid.ndjson"),
        dir.path().join("dead.ndjson"),
    );
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "-",
            "--max-line-bytes",
            "1MiB",
            "--valid-out",
            valid.to_str().unwrap(),
            "--dead-letter",
            dead.to_str().unwrap(),
            "--max-invalid",
            "1",
            "--threads",
            "2",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dead = dead_letters(&dead);
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0]["line"].as_u64(), dead[0]["reason"].as_str()),
        (Some(2), Some("too-long"))
    );
    assert_eq!(dead[0]["bytes"].as_u64(), Some(long.len() as u64));
    assert_eq!(std::fs::read_to_string(&valid).unwrap().lines().count(), 2);
}

#[test]
fn output_order_is_input_order_with_many_threads_and_many_batches() {
    // About 9 MiB: several read batches, so workers finish out of order.
    let mut input = String::new();
    let mut expected = String::new();
    for i in 1..=120_000u64 {
        let line = if i % 7 == 0 {
            format!("{{\"id\":{i}}}")
        } else {
            record(i, &format!("user{i}@example.com"))
        };
        if i % 7 != 0 {
            expected.push_str(&line);
            expected.push('\n');
        }
        input.push_str(&line);
        input.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.ndjson");
    std::fs::write(&path, &input).unwrap();
    for threads in ["1", "3"] {
        let (valid, dead) = (
            dir.path().join(format!("valid{threads}")),
            dir.path().join(format!("dead{threads}")),
        );
        let out = accord(
            &[
                "validate",
                "--schema",
                &schema(),
                path.to_str().unwrap(),
                "--threads",
                threads,
                "--valid-out",
                valid.to_str().unwrap(),
                "--dead-letter",
                dead.to_str().unwrap(),
                "--max-invalid",
                "20%",
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(summary(&out)["invalid"], 120_000 / 7);
        assert!(
            std::fs::read_to_string(&valid).unwrap() == expected,
            "valid output out of order with {threads} threads"
        );
        let lines: Vec<u64> = dead_letters(&dead)
            .iter()
            .map(|d| d["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, (1..=120_000 / 7).map(|k| k * 7).collect::<Vec<_>>());
    }
}

#[test]
fn gzip_input_is_recognised_by_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    for i in 1..=100 {
        writeln!(gz, "{}", record(i, "a@example.com")).unwrap();
    }
    gz.finish().unwrap();
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(summary(&out)["valid"], 100);
}

#[test]
fn several_inputs_are_read_in_order_and_numbered_per_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, dead) = (
        dir.path().join("a.ndjson"),
        dir.path().join("b.ndjson"),
        dir.path().join("dead"),
    );
    std::fs::write(&a, format!("{}\n{{}}\n", record(1, "a@example.com"))).unwrap();
    std::fs::write(&b, "{}\n").unwrap();
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--dead-letter",
            dead.to_str().unwrap(),
            "--max-invalid",
            "2",
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dead = dead_letters(&dead);
    let places: Vec<(String, u64)> = dead
        .iter()
        .map(|d| {
            (
                d["input"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [(a.display().to_string(), 2), (b.display().to_string(), 1)]
    );
}

#[test]
fn the_breaker_counts_rejected_records_against_a_count_or_a_share() {
    let mut input = String::new();
    for i in 1..=100u64 {
        input.push_str(&if i % 10 == 0 {
            "{}".to_owned()
        } else {
            record(i, "a@example.com")
        });
        input.push('\n');
    }
    let run = |limit: &str| {
        code(&accord(
            &["validate", "--schema", &schema(), "--max-invalid", limit],
            Some(input.as_bytes()),
        ))
    };
    assert_eq!(run("10"), 0);
    assert_eq!(run("9"), 1);
    assert_eq!(run("10%"), 0);
    assert_eq!(run("9.5%"), 1);
}

#[test]
fn fail_fast_stops_reading_at_the_record_that_trips_the_breaker() {
    let mut input = String::new();
    for i in 1..=1000u64 {
        input.push_str(&if i == 5 || i == 8 || i == 900 {
            "{}".to_owned()
        } else {
            record(i, "a@example.com")
        });
        input.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let (valid, dead) = (dir.path().join("valid"), dir.path().join("dead"));
    for threads in ["1", "2"] {
        let out = accord(
            &[
                "validate",
                "--schema",
                &schema(),
                "-",
                "--max-invalid",
                "1",
                "--fail-fast",
                "--format",
                "json",
                "--threads",
                threads,
                "--valid-out",
                valid.to_str().unwrap(),
                "--dead-letter",
                dead.to_str().unwrap(),
            ],
            Some(input.as_bytes()),
        );
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        let s = summary(&out);
        assert_eq!(
            (
                s["records"].as_u64(),
                s["valid"].as_u64(),
                s["invalid"].as_u64()
            ),
            (Some(8), Some(6), Some(2)),
            "{s}"
        );
        assert_eq!(s["stopped_early"], true);
        assert_eq!(std::fs::read_to_string(&valid).unwrap().lines().count(), 6);
        assert_eq!(dead_letters(&dead).len(), 2);
    }
}

#[test]
fn format_assertion_can_be_turned_off() {
    let input = format!("{}\n", record(1, "not an email"));
    let on = accord(&["validate", "--schema", &schema()], Some(input.as_bytes()));
    let off = accord(
        &["validate", "--schema", &schema(), "--no-formats"],
        Some(input.as_bytes()),
    );
    assert_eq!(
        (code(&on), code(&off)),
        (1, 0),
        "{}\n{}",
        stderr(&on),
        stderr(&off)
    );
}

#[test]
fn masking_keeps_record_values_out_of_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead");
    let input = r#"{"id":"secret-4711","email":"a@example.com","at":"2024-01-01T00:00:00Z"}"#;
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "--mask-values",
            "--dead-letter",
            dead.to_str().unwrap(),
            "--format",
            "json",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(code(&out), 1);
    let dead = dead_letters(&dead);
    let message = dead[0]["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("secret-4711"), "{message}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret-4711"));
}

#[test]
fn a_missing_or_broken_contract_or_input_exits_3() {
    let missing = accord(
        &["validate", "--schema", "/nonexistent/schema.json"],
        Some(b""),
    );
    assert_eq!(code(&missing), 3, "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("/nonexistent/schema.json"),
        "{}",
        stderr(&missing)
    );

    let broken = fixture("invalid.schema.json");
    let out = accord(
        &["validate", "--schema", broken.to_str().unwrap()],
        Some(b""),
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("minLength"), "{}", stderr(&out));

    let out = accord(
        &[
            "validate",
            "--schema",
            &schema(),
            "/nonexistent/input.ndjson",
        ],
        None,
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/nonexistent/input.ndjson"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn contradictory_or_missing_arguments_are_usage_errors() {
    for args in [
        &["validate"][..],
        &[
            "validate",
            "--schema",
            "x.json",
            "--registry",
            "http://127.0.0.1:1",
            "--contract",
            "a",
        ],
        &["validate", "--registry", "http://127.0.0.1:1"],
        &["validate", "--schema", "x.json", "--max-invalid", "lots"],
        &["validate", "--schema", "x.json", "--max-line-bytes", "0"],
        &[
            "validate",
            "--schema",
            "x.json",
            "--format",
            "json",
            "--valid-out",
            "-",
        ],
    ] {
        let out = accord(args, Some(b""));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn piped_runs_print_no_progress_bar() {
    let out = accord(
        &["validate", "--schema", &schema(), "--format", "json"],
        Some(b""),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

fn registry_versions() -> Vec<fake_registry::Version> {
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/validate/order.schema.json")).unwrap();
    vec![fake_registry::Version::new(
        "orders.order_placed",
        "1.0.0",
        42,
        schema,
    )]
}

/// Runs `accord` off the async runtime, so the fake registry keeps serving.
async fn accord_async(args: Vec<String>, stdin: Vec<u8>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        accord(&args, Some(&stdin))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_can_come_from_a_registry_and_then_from_the_cache_when_it_is_down() {
    let registry = fake_registry::FakeRegistry::start(registry_versions(), Some("t0ken")).await;
    let url = registry.url.clone();
    let cache = tempfile::tempdir().unwrap();
    let args = |cache_dir: &Path| -> Vec<String> {
        [
            "validate",
            "--registry",
            &url,
            "--contract",
            "orders.order_placed@^1",
            "--token",
            "t0ken",
            "--cache-dir",
            cache_dir.to_str().unwrap(),
            "--format",
            "json",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let input = format!("{}\n", record(1, "a@example.com")).into_bytes();

    let out = accord_async(args(cache.path()), input.clone()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(s["contract"]["name"], "orders.order_placed");
    assert_eq!(s["contract"]["version"], "1.0.0");
    assert_eq!(s["contract"]["schema_id"], 42);
    assert_eq!(s["valid"], 1);
    registry.stop().await;

    // Offline start: the cached copy, with a warning naming the version.
    let out = accord_async(args(cache.path()), input.clone()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning:") && stderr(&out).contains("orders.order_placed 1.0.0"),
        "{}",
        stderr(&out)
    );
    assert_eq!(summary(&out)["valid"], 1);

    // No cached copy: exit 3 with a message that says why.
    let empty = tempfile::tempdir().unwrap();
    let out = accord_async(args(empty.path()), input).await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach the registry"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_contract_in_the_registry_exits_3() {
    let registry = fake_registry::FakeRegistry::start(registry_versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "validate",
        "--registry",
        &registry.url,
        "--contract",
        "orders.missing",
        "--cache-dir",
        cache.path().to_str().unwrap(),
    ];
    let out = accord_async(args.map(str::to_owned).to_vec(), Vec::new()).await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("contract-not-found"),
        "{}",
        stderr(&out)
    );
    registry.stop().await;
}

#[test]
fn fail_fast_stops_on_a_pipe_that_stays_open() {
    for threads in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args([
                "validate",
                "--schema",
                &schema(),
                "--fail-fast",
                "--threads",
                threads,
                "--format",
                "json",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The producer writes one good and one bad record, then goes quiet without
        // closing the pipe: the bad record must still be seen and stop the run.
        let mut pipe = child.stdin.take().unwrap();
        writeln!(pipe, "{}\n{{}}", record(1, "a@example.com")).unwrap();
        pipe.flush().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        let out = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!("accord --threads {threads} still waits for input after the breaker tripped")
            })
            .unwrap();
        drop(pipe);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_eq!(summary(&out)["records"], 2);
    }
}

/// Issue 10's payload against `accord validate`: 1,000 `allOf` members each failed by
/// a long string. Every message quoted the whole string and every error was kept, and
/// the command died allocating; now the dead-letter line keeps the first 100 errors,
/// each quoting a cut value, and counts them all.
#[test]
fn a_huge_value_failing_many_members_gets_a_bounded_dead_letter_line() {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<Value> = (0..1000)
        .map(|j| serde_json::json!({"maxLength": j}))
        .collect();
    let schema = dir.path().join("schema.json");
    std::fs::write(&schema, serde_json::json!({ "allOf": members }).to_string()).unwrap();
    let dead = dir.path().join("dead.ndjson");
    let record = format!("{}\n", Value::String("w".repeat(300_000)));
    let out = accord(
        &[
            "validate",
            "--schema",
            &schema.display().to_string(),
            "--dead-letter",
            &dead.display().to_string(),
            "--format",
            "json",
        ],
        Some(record.as_bytes()),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let size = std::fs::metadata(&dead).unwrap().len();
    // The record itself (300 KB) is kept for replay; the errors add little to it.
    assert!(size < 500_000, "{size} bytes of dead letter");
    let letters = dead_letters(&dead);
    assert_eq!(letters[0]["errors_total"], 1000);
    assert_eq!(letters[0]["errors"].as_array().unwrap().len(), 100);
    let message = letters[0]["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("… (300002 bytes)"), "{message}");
}
