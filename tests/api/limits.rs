//! Slow, stalled and oversized clients: the header, body and request deadlines, the
//! header size, the bound on open connections, and the shutdown deadline
//! (docs/limits.md). Each test is a client that
//! held the server (or one of its connections) for ever before these limits existed.

use std::time::Duration;

use accord::limits::Limits;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::helpers::{Backend, TestApp, fresh_db, spawn_app_limits};
use crate::process::{start_command, start_with};

/// The host and port of a base URL (`http://127.0.0.1:1234` → `127.0.0.1:1234`).
fn host(base: &str) -> &str {
    base.trim_start_matches("http://")
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(host(base)).await.expect("connect")
}

/// Opens a connection and sends the start of a request, never its end.
async fn half_a_header(base: &str) -> TcpStream {
    let mut socket = connect(base).await;
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: accord\r\n")
        .await
        .expect("write");
    socket
}

/// Sends the headers of a JSON POST announcing `length` bytes of body.
async fn post_headers(base: &str, path: &str, length: usize) -> TcpStream {
    let mut socket = connect(base).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: accord\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("write");
    socket
}

/// An answer read off a raw socket.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    head: String,
    json: Value,
}

/// Reads one HTTP/1.1 answer with a `Content-Length` body.
async fn read_answer(socket: &mut (impl AsyncRead + Unpin)) -> RawAnswer {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.expect("read");
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("status");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("length"));
    while data.len() < end + length {
        let n = socket.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed inside the body");
        data.extend_from_slice(&chunk[..n]);
    }
    let json = serde_json::from_slice(&data[end..end + length]).unwrap_or(Value::Null);
    RawAnswer { status, head, json }
}

/// Waits until the server closes `socket` (end of file or reset).
async fn closed(socket: &mut TcpStream) {
    let mut chunk = [0u8; 1024];
    loop {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Bounds a wait that never ended before the limit existed.
async fn within<T>(seconds: u64, what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within {seconds} s"))
}

async fn app(limits: Limits) -> TestApp {
    spawn_app_limits(Backend::Sqlite, limits)
        .await
        .expect("app")
}

fn sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_stops_the_server_at_the_shutdown_deadline_despite_a_half_sent_header() {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let mut server = start_with(&db.url, &["--shutdown-timeout", "1s"]).await;
    let _stalled = half_a_header(&server.base).await;
    // The server has taken the connection in before it is told to stop.
    assert_eq!(server.get("/healthz").await.status, 200);
    sigterm(server.child.id().expect("pid"));
    // Before the deadline existed the server waited for that header for ever.
    let exit = within(
        15,
        "the exit after SIGTERM (deadline 1 s)",
        server.child.wait(),
    )
    .await
    .expect("wait");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_header_is_closed_at_the_header_deadline() {
    let app = app(Limits {
        header_read_timeout: Duration::from_millis(500).into(),
        ..Limits::default()
    })
    .await;
    let mut stalled = half_a_header(&app.base).await;
    within(10, "closing the stalled connection", closed(&mut stalled)).await;
    // A connection that sends nothing at all is closed too.
    let mut silent = connect(&app.base).await;
    within(10, "closing the silent connection", closed(&mut silent)).await;
}

async fn a_stalled_body_is_answered_408_in_the_shape_of_its_api(path: &str) -> RawAnswer {
    let app = app(Limits {
        body_read_timeout: Duration::from_millis(500).into(),
        ..Limits::default()
    })
    .await;
    let mut socket = post_headers(&app.base, path, 100).await;
    socket.write_all(b"{\"schema\": ").await.expect("write");
    within(10, "the 408", read_answer(&mut socket)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_on_the_native_api() {
    let a = a_stalled_body_is_answered_408_in_the_shape_of_its_api(
        "/api/v1/contracts/orders.x/versions",
    )
    .await;
    assert_eq!(a.status, 408, "{a:?}");
    assert_eq!(a.json["error"]["code"], "request-body-timeout", "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_on_the_confluent_api() {
    let a =
        a_stalled_body_is_answered_408_in_the_shape_of_its_api("/subjects/orders.x/versions").await;
    assert_eq!(a.status, 408, "{a:?}");
    assert_eq!(a.json["error_code"], 408, "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_stopped_at_the_request_deadline() {
    let app = app(Limits {
        request_timeout: Duration::from_secs(1).into(),
        ..Limits::default()
    })
    .await;
    let socket = post_headers(&app.base, "/api/v1/contracts/orders.x/versions", 1000).await;
    let (mut reader, mut writer) = socket.into_split();
    let answer = within(10, "the request deadline's answer", async {
        // Each byte arrives well inside the body read timeout; only the deadline of
        // the whole request stops this client.
        let trickle = async {
            loop {
                if writer.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            () = trickle => panic!("the server closed without an answer"),
            a = read_answer(&mut reader) => a,
        }
    })
    .await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(
        answer.json["error"]["code"], "request-timeout",
        "{answer:?}"
    );
    assert!(answer.head.contains("retry-after: 1"), "{answer:?}");
}

/// Sends the headers of a POST that waits for `100 Continue`, reads it (the handler
/// has started, so the connection is inside a request), and keeps the body back.
async fn busy_connection(base: &str) -> TcpStream {
    let mut socket = connect(base).await;
    socket
        .write_all(
            b"POST /api/v1/contracts/orders.x/versions HTTP/1.1\r\nHost: accord\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .expect("write");
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(socket.read(&mut byte).await.expect("read"), 1, "closed");
        got.push(byte[0]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_bound_a_new_client_replaces_a_stalled_one() {
    let app = app(Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(3600).into(),
        ..Limits::default()
    })
    .await;
    let mut oldest = half_a_header(&app.base).await;
    let _newer = half_a_header(&app.base).await;
    // Without the bound both would be held for an hour; with it, a real client still
    // gets in, and the connection that has waited longest is closed for it.
    let health = within(5, "/healthz", app.get("/healthz")).await;
    assert_eq!(health.status, 200);
    within(
        5,
        "closing the oldest stalled connection",
        closed(&mut oldest),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_bound_with_every_connection_busy_a_new_one_gets_503() {
    let app = app(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let _one = busy_connection(&app.base).await;
    let _two = busy_connection(&app.base).await;
    let mut third = connect(&app.base).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: accord\r\n\r\n")
        .await
        .expect("write");
    let a = within(5, "the 503", read_answer(&mut third)).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.json["error"]["code"], "too-many-connections", "{a:?}");
    assert!(a.head.contains("retry-after: 1"), "{a:?}");
}

/// 300 clients that never finish their headers, against a server allowed 256 open
/// files: before the bound, the server ran out of file descriptors and `/healthz`
/// went unanswered for as long as the sockets stayed open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_300_stalled_sockets_are_open_under_a_256_file_limit() {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "ulimit -n 256 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_accord"),
        "serve",
        "--database",
        &db.url,
        "--listen",
        "127.0.0.1:0",
        "--header-read-timeout",
        "1h",
    ]);
    let server = start_command(command).await;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        stalled.push(half_a_header(&server.base).await);
    }
    let health = within(5, "/healthz", async {
        // A fresh connection each time: the point is getting one accepted.
        reqwest::Client::new()
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .expect("/healthz answered")
    })
    .await;
    assert_eq!(health.status(), 200);
    // The registry still reaches its database (files for it were kept in reserve).
    let listed = within(5, "a read", server.get("/api/v1/contracts")).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_over_their_limit_are_431() {
    let app = app(Limits {
        max_header_bytes: 16 * 1024,
        ..Limits::default()
    })
    .await;
    let mut socket = connect(&app.base).await;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: accord\r\nX-Pad: {}\r\n\r\n",
        "x".repeat(32 * 1024)
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let a = within(5, "the 431", read_answer(&mut socket)).await;
    assert_eq!(a.status, 431, "{a:?}");
}

/// The peak resident memory of a process, in bytes (Linux).
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Issue 10's storm: 20 hostile dry runs at once (a 1,500-member `allOf` of `oneOf`s
/// against the same with every `minimum` raised, in reverse order). Only as many run
/// as there are cores, a few wait, the rest are refused with 503; each that runs ends
/// within the engine's budgets (a verdict, or 422 `comparison-too-complex`), so the
/// server stays up and under 1 GiB, and a registration to another contract succeeds.
async fn a_storm_of_hostile_dry_runs(members: usize) {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let server = start_with(&db.url, &["--max-queued-checks", "4"]).await;
    let client = reqwest::Client::new();
    let (old, new) = crate::reliability::slow_pair(members);
    let first = client
        .post(format!(
            "{}/api/v1/contracts/hostile.pair/versions",
            server.base
        ))
        .json(&serde_json::json!({ "schema": old }))
        .send()
        .await
        .expect("register");
    assert_eq!(first.status(), 201);

    let (refused_tx, mut refused_rx) = tokio::sync::mpsc::channel(32);
    let mut storm = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (client, refused_tx) = (client.clone(), refused_tx.clone());
        let url = format!(
            "{}/api/v1/contracts/hostile.pair/compatibility",
            server.base
        );
        let body = serde_json::json!({ "schema": new });
        storm.spawn(async move {
            let a = crate::helpers::answer(
                client.post(url).json(&body).send().await.expect("answered"),
            )
            .await;
            if a.status == 503 {
                let _ = refused_tx.send(()).await;
            }
            a
        });
    }
    // The first refusal shows the line is full: the storm is on.
    within(60, "the first refusal", refused_rx.recv()).await;
    let started = std::time::Instant::now();
    let small = client
        .post(format!(
            "{}/api/v1/contracts/calm.contract/versions",
            server.base
        ))
        .json(&serde_json::json!({ "schema": {"type": "object"} }))
        .send()
        .await
        .expect("register during the storm");
    let took = started.elapsed();
    assert_eq!(small.status(), 201);
    // How long it took is measured, not asserted (timing belongs in benchmarks):
    // `cargo test --test api storm -- --nocapture` prints it.
    eprintln!("a small registration during the storm of {members}-member pairs took {took:?}");

    let mut refused = 0;
    while let Some(done) = storm.join_next().await {
        let a = done.expect("storm request");
        match a.status.as_u16() {
            // A verdict (compatible or breaking) ...
            200 => {}
            // ... or the engine's budget ran out, which is an answer too.
            422 => assert_eq!(a.code(), "comparison-too-complex", "{}", a.text),
            // Refused at once, or (a debug build's slower engine) still waiting at
            // the request deadline.
            503 => {
                assert!(
                    ["too-many-checks", "request-timeout"].contains(&a.code()),
                    "{}",
                    a.text
                );
                assert_eq!(a.headers["retry-after"], "1");
                refused += usize::from(a.code() == "too-many-checks");
            }
            other => panic!("{other}: {}", a.text),
        }
    }
    assert!(refused > 0, "none refused");
    assert_eq!(server.get("/healthz").await.status, 200, "the server is up");
    let peak = peak_rss_bytes(server.child.id().expect("pid"));
    assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_hostile_dry_runs_at_once_leave_the_server_up_and_small() {
    a_storm_of_hostile_dry_runs(1500).await;
}

/// The storm's mechanics on a pair small enough to run today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_smaller_hostile_dry_runs_is_bounded_by_the_waiting_line() {
    a_storm_of_hostile_dry_runs(50).await;
}

/// Issue 10: a dry run whose diff has 80,000 removed and 80,000 added enum values (a
/// request under 1 MB) made a 66 MB answer. The report lists 100 changes, each value
/// quoted short, and counts them all.
#[tokio::test]
async fn a_report_of_160000_enum_changes_lists_100_and_counts_them_all() {
    let app = app(Limits::default()).await;
    let values =
        |prefix: &str| -> Vec<String> { (0..80_000).map(|i| format!("{prefix}{i:06}")).collect() };
    let old = serde_json::json!({"type": "string", "enum": values("v")});
    let new = serde_json::json!({"type": "string", "enum": values("w")});
    assert!(new.to_string().len() < 1024 * 1024);
    let first = app.register("big.enum", &old).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let a = app
        .post(
            "/api/v1/contracts/big.enum/compatibility",
            &serde_json::json!({ "schema": new }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", &a.text[..a.text.len().min(500)]);
    let report = &a.json["report"];
    assert_eq!(a.json["compatible"], false);
    assert_eq!(report["changes_total"], 160_000);
    assert_eq!(report["truncated"], true);
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 100);
    // The breaking ones (removed values) come first.
    assert!(changes.iter().all(|c| c["rule"] == "enum-value-removed"));
    assert!(a.text.len() < 256 * 1024, "a {} byte answer", a.text.len());
}
