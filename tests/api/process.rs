//! Real `accord serve` processes: start-up errors, graceful shutdown, persistence
//! across `kill -9`, and two processes on one PostgreSQL database.

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, answer, fresh_db};

/// A running `accord serve` child and its base URL.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

/// Starts `accord serve` on a free port and waits for the line that names its address.
async fn start(database: &str) -> Server {
    start_with(database, &[]).await
}

/// [`start`] with more command-line arguments.
pub(crate) async fn start_with(database: &str, more: &[&str]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_accord"));
    command
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(more);
    start_command(command).await
}

/// Runs `command` (an `accord serve`, possibly behind a wrapper) and waits for the
/// line that names its address.
pub(crate) async fn start_command(mut command: Command) -> Server {
    let mut child = command
        .env("ACCORD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.expect("read stdout") {
        if let Some(base) = line.strip_prefix("accord listening on ") {
            // Keep draining stdout so the child never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Server {
                child,
                base: base.to_owned(),
            };
        }
    }
    panic!("accord serve exited before listening");
}

impl Server {
    async fn register(&self, name: &str, schema: serde_json::Value) -> crate::helpers::Answer {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/contracts/{name}/versions", self.base))
            .json(&json!({ "schema": schema }))
            .send()
            .await
            .expect("request");
        answer(resp).await
    }

    pub(crate) async fn get(&self, path: &str) -> crate::helpers::Answer {
        answer(
            reqwest::get(format!("{}{path}", self.base))
                .await
                .expect("request"),
        )
        .await
    }
}

fn revision(n: usize) -> serde_json::Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}}, "description": format!("revision {n}")})
}

async fn acknowledged_versions_survive_kill_9(backend: Backend) {
    let db = fresh_db(backend)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let mut server = start(&db.url).await;
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let a = server.register("orders.order_placed", revision(n)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        acknowledged.push(a.json["version"].as_str().unwrap().to_owned());
    }
    server.child.start_kill().expect("SIGKILL");
    server.child.wait().await.expect("reaped");

    let server = start(&db.url).await;
    for v in &acknowledged {
        let a = server
            .get(&format!(
                "/api/v1/contracts/orders.order_placed/versions/{v}"
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "version {v} lost after kill -9");
    }
    let latest = server
        .get("/api/v1/contracts/orders.order_placed/versions/latest")
        .await;
    assert_eq!(latest.json["seq"], 20);
}

#[tokio::test]
async fn acknowledged_versions_survive_kill_9_on_sqlite() {
    acknowledged_versions_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn acknowledged_versions_survive_kill_9_on_postgres() {
    acknowledged_versions_survive_kill_9(Backend::Postgres).await;
}

#[tokio::test]
async fn sigterm_shuts_the_server_down_cleanly() {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let mut server = start(&db.url).await;
    assert_eq!(server.get("/healthz").await.status, StatusCode::OK);
    let pid = server.child.id().expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.child.wait().await.expect("wait");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn the_worker_count_is_honoured_and_zero_is_refused() {
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let server = start_with(&db.url, &["--workers", "1"]).await;
    let a = server.register("orders.order_placed", revision(0)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let latest = server
        .get("/api/v1/contracts/orders.order_placed/versions/latest/schema")
        .await;
    assert_eq!(latest.json, revision(0));

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--database", &db.url, "--listen", "127.0.0.1:0"])
        .args(["--workers", "0"])
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--workers"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_database_scheme_is_a_start_up_error_naming_both_backends() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "serve",
            "--database",
            "mysql://localhost/db",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sqlite://") && stderr.contains("postgres://"),
        "{stderr}"
    );
}

/// `accord serve ARGS` run to its end: exit code and standard error.
async fn serve_fails(args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("serve")
        .args(args)
        .output()
        .await
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn start_up_errors_say_what_to_do_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.db");
    let file = file.to_str().unwrap();

    // A bare path: the URL to write instead.
    let (code, stderr) = serve_fails(&["--database", file, "--listen", "127.0.0.1:0"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("sqlite://{file}")), "{stderr}");

    // A SQLite file that cannot be opened: its path and the cause, said once.
    let missing = dir.path().join("no/such/dir/a.db");
    let missing = missing.to_str().unwrap();
    let url = format!("sqlite://{missing}");
    let (code, stderr) = serve_fails(&["--database", &url, "--listen", "127.0.0.1:0"]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains(missing), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A directory: sqlx's error repeats its cause three times; it is printed once.
    let url = format!("sqlite://{}", dir.path().display());
    let (code, stderr) = serve_fails(&["--database", &url, "--listen", "127.0.0.1:0"]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(
        stderr.matches("unable to open database file").count(),
        1,
        "{stderr}"
    );

    // The address is taken: an error naming it, and nothing created on disk.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let url = format!("sqlite://{file}");
    let (code, stderr) = serve_fails(&["--database", &url, "--listen", &addr]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&addr) && stderr.contains("--listen"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files created: {left:?}");
}

#[tokio::test]
async fn a_request_hyper_cannot_parse_gets_a_json_error_saying_to_url_encode() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    let server = start(&db.url).await;
    let addr = server.base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/contracts/a/versions/>=1.0 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    assert!(head.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(head.contains("content-type: application/json"), "{answer}");
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("URL-encoded") && message.contains("%3E"),
        "{message}"
    );

    // The server is fine afterwards, and an encoded range is understood.
    let ok = server.get("/api/v1/contracts/a/versions/%3E%3D1.0").await;
    assert_eq!(ok.status, StatusCode::NOT_FOUND, "{}", ok.text);
    assert_eq!(
        ok.json["error"]["code"], "contract-not-found",
        "{}",
        ok.text
    );
}

#[tokio::test]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn two_processes_on_one_postgres_database_behave_as_one_registry() {
    let db = fresh_db(Backend::Postgres)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let a = std::sync::Arc::new(start(&db.url).await);
    let b = std::sync::Arc::new(start(&db.url).await);

    let first = a.register("orders.order_placed", revision(0)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let seen = b
        .get("/api/v1/contracts/orders.order_placed/versions/latest")
        .await;
    assert_eq!(seen.json["version"], "1.0.0", "B serves what A registered");

    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=30 {
        let server = std::sync::Arc::clone(if n % 2 == 0 { &a } else { &b });
        tasks.spawn(async move { server.register("orders.order_placed", revision(n)).await });
    }
    let mut seqs = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let r = done.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        seqs.push(r.json["seq"].as_i64().unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (2..=31).collect::<Vec<_>>());
    // The same schema sent to both at once is one version.
    let (x, y) = tokio::join!(
        a.register("customers.x", revision(0)),
        b.register("customers.x", revision(0))
    );
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    let latest_a = a
        .get("/api/v1/contracts/orders.order_placed/versions/latest")
        .await;
    let latest_b = b
        .get("/api/v1/contracts/orders.order_placed/versions/latest")
        .await;
    assert_eq!(latest_a.json["seq"], 31);
    assert_eq!(latest_a.json["version"], latest_b.json["version"]);

    // B has `latest` in memory now; a registration through A shows there within the
    // one second the registry promises (B rereads a list at most 800 ms old).
    let next = a.register("orders.order_placed", revision(31)).await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
    let registered_at = std::time::Instant::now();
    loop {
        let seen = b
            .get("/api/v1/contracts/orders.order_placed/versions/latest")
            .await;
        if seen.json["seq"] == 32 {
            break;
        }
        assert!(
            registered_at.elapsed() < std::time::Duration::from_secs(1),
            "B still serves seq {} as latest a second after A acknowledged seq 32",
            seen.json["seq"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // A remembers the version list between its own registrations (it just wrote seq
    // 32); what B writes next is still seen: B's schema is an existing version to A.
    let by_b = b.register("orders.order_placed", revision(40)).await;
    assert_eq!(by_b.status, StatusCode::CREATED, "{}", by_b.text);
    let by_a = a.register("orders.order_placed", revision(40)).await;
    assert_eq!(by_a.status, StatusCode::OK, "{}", by_a.text);
    assert_eq!(by_a.json["seq"], 33);
}

/// The name `accord serve` gives its listening connection in `pg_stat_activity`.
fn listener_name(server: &Server) -> String {
    format!("accord listener {}", server.child.id().expect("running"))
}

/// Waits until `server`'s listening connection has run `LISTEN` (so changes are
/// pushed to it), for at most `limit`.
async fn until_listening(admin: &sqlx::PgPool, server: &Server, limit: std::time::Duration) {
    let name = listener_name(server);
    let started = std::time::Instant::now();
    loop {
        let listening: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%')",
        )
        .bind(&name)
        .fetch_one(admin)
        .await
        .expect("read pg_stat_activity");
        if listening {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{name} does not listen after {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Terminates `server`'s listening connection whenever there is one, until `until`;
/// how many it terminated.
async fn kill_listener_until(admin: &sqlx::PgPool, name: &str, until: std::time::Instant) -> i64 {
    let mut killed = 0;
    while std::time::Instant::now() < until {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
        )
        .bind(name)
        .fetch_one(admin)
        .await
        .expect("terminate the listener");
        killed += n;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    killed
}

/// The seq `server` answers as `latest` of `name`.
async fn latest_seq(client: &reqwest::Client, server: &Server, name: &str) -> i64 {
    let a = answer(
        client
            .get(format!(
                "{}/api/v1/contracts/{name}/versions/latest",
                server.base
            ))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json["seq"].as_i64().expect("a seq")
}

/// How long after now `server` first answers `seq` as `latest` of `name`, asking
/// every millisecond; panics after `limit`.
async fn until_latest(
    client: &reqwest::Client,
    server: &Server,
    name: &str,
    seq: i64,
    limit: std::time::Duration,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let seen = latest_seq(client, server, name).await;
        let elapsed = started.elapsed();
        if seen == seq {
            return elapsed;
        }
        assert!(
            elapsed < limit,
            "{name}: still seq {seen} as latest {elapsed:?} after seq {seq} was acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// The `p`-th percentile of `samples` (nearest rank).
fn percentile(samples: &[std::time::Duration], p: usize) -> std::time::Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Registers `schema` through `server` and returns its seq and version.
async fn register_version(
    client: &reqwest::Client,
    server: &Server,
    name: &str,
    schema: serde_json::Value,
) -> (i64, String) {
    let a = answer(
        client
            .post(format!("{}/api/v1/contracts/{name}/versions", server.base))
            .json(&json!({ "schema": schema }))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let seq = a.json["seq"].as_i64().expect("a seq");
    (
        seq,
        a.json["version"].as_str().expect("a version").to_owned(),
    )
}

/// Registers `schema` through `server` and returns its seq.
async fn register_seq(
    client: &reqwest::Client,
    server: &Server,
    name: &str,
    schema: serde_json::Value,
) -> i64 {
    register_version(client, server, name, schema).await.0
}

#[tokio::test]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_change_through_one_process_is_seen_by_the_other_within_milliseconds() {
    let db = fresh_db(Backend::Postgres)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let admin = crate::helpers::pg_admin().await;
    let a = start(&db.url).await;
    let b = start(&db.url).await;
    until_listening(&admin, &b, std::time::Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    let name = "orders.pushed";

    // 200 changes through A: registrations, and every tenth a soft delete of the
    // latest version (so `latest` moves back). B has `latest` in memory before each
    // one (it answered the previous one); without a push it would serve it for up to
    // 800 ms, half of that on average.
    let mut live = vec![register_version(&client, &a, name, revision(0)).await];
    until_latest(
        &client,
        &b,
        name,
        live[0].0,
        std::time::Duration::from_secs(2),
    )
    .await;
    let mut delays = Vec::new();
    for n in 1..=200 {
        if n % 10 == 0 {
            let (_, version) = live.pop().expect("a live version");
            let deleted = client
                .delete(format!(
                    "{}/api/v1/contracts/{name}/versions/{version}",
                    a.base
                ))
                .send()
                .await
                .expect("request");
            assert_eq!(deleted.status(), StatusCode::OK);
        } else {
            live.push(register_version(&client, &a, name, revision(n)).await);
        }
        let expected = live.last().expect("a live version").0;
        delays.push(
            until_latest(
                &client,
                &b,
                name,
                expected,
                std::time::Duration::from_secs(2),
            )
            .await,
        );
    }
    let (p50, p99) = (percentile(&delays, 50), percentile(&delays, 99));
    let max = *delays.iter().max().expect("delays");
    eprintln!("B saw A's 200 changes: median {p50:?}, p99 {p99:?}, max {max:?}");
    assert!(
        p99 < std::time::Duration::from_millis(250),
        "p99 {p99:?} (median {p50:?}, max {max:?})"
    );

    // A configuration change is seen by B's next read.
    let put = client
        .put(format!("{}/api/v1/contracts/{name}/config", a.base))
        .json(&json!({ "mode": "FULL" }))
        .send()
        .await
        .expect("request");
    assert_eq!(put.status(), StatusCode::OK);
    let config = b.get(&format!("/api/v1/contracts/{name}/config")).await;
    assert_eq!(config.json["mode"], "FULL", "{}", config.text);
}

#[tokio::test]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_process_whose_listener_is_killed_rereads_by_age_and_listens_again() {
    use std::time::{Duration, Instant};
    let db = fresh_db(Backend::Postgres)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let admin = crate::helpers::pg_admin().await;
    let a = start(&db.url).await;
    let b = start(&db.url).await;
    until_listening(&admin, &b, Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    let name = "orders.fallback";
    let first = register_seq(&client, &a, name, revision(0)).await;
    until_latest(&client, &b, name, first, Duration::from_secs(2)).await;

    // B's listening connection is terminated as soon as it appears, for three
    // seconds: changes through A still reach B within a second, by age (800 ms and one
    // read at most) while B waits to reconnect (its wait doubles after each loss), or
    // because a reconnection forgets every list.
    let killing = {
        let admin = admin.clone();
        let name = listener_name(&b);
        let until = Instant::now() + Duration::from_secs(3);
        tokio::spawn(async move { kill_listener_until(&admin, &name, until).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut delays = Vec::new();
    for n in 1..=5 {
        let seq = register_seq(&client, &a, name, revision(n)).await;
        delays.push(until_latest(&client, &b, name, seq, Duration::from_secs(1)).await);
    }
    eprintln!("with B's listener killed, B saw changes after {delays:?}");
    let killed = killing.await.expect("the killing task");
    assert!(killed >= 1, "B's listener was never found to terminate");

    // It reconnects by itself, and changes are pushed again: 20 changes all seen
    // within 250 ms (by age, each would take up to 400 ms, 200 on average).
    until_listening(&admin, &b, Duration::from_secs(15)).await;
    let mut delays = Vec::new();
    for n in 10..30 {
        let seq = register_seq(&client, &a, name, revision(n)).await;
        delays.push(until_latest(&client, &b, name, seq, Duration::from_secs(2)).await);
    }
    let max = *delays.iter().max().expect("delays");
    eprintln!(
        "after B's listener reconnected ({killed} connections terminated): median {:?}, max {max:?}",
        percentile(&delays, 50)
    );
    assert!(max < Duration::from_millis(250), "{delays:?}");
}
