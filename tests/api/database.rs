//! A database that fails (issue 10): terminated backends, a dropped database, a
//! statement past its deadline. Each is answered 503 with `Retry-After` on both APIs,
//! never 500, and the registry recovers without a restart once the database is back.
//!
//! These need a PostgreSQL database of their own (they terminate and drop it), so they
//! run only with `ACCORD_TEST_POSTGRES_URL` and are reported as ignored without it.

use std::time::Duration;

use accord::limits::Limits;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    Answer, TestApp, TestDb, fresh_pg_database, pg_admin, spawn_app_at, spawn_app_at_with,
};
use crate::readiness::assert_not_ready;

/// Asserts a native 503 for an unavailable database, with `Retry-After`.
fn assert_unavailable(a: &Answer) {
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert!(a.headers.contains_key("retry-after"), "{:?}", a.headers);
    assert_eq!(a.code(), "unavailable", "{}", a.text);
}

/// Asserts a Confluent 503 for an unavailable database, with `Retry-After`.
fn assert_confluent_unavailable(a: &Answer) {
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert!(a.headers.contains_key("retry-after"), "{:?}", a.headers);
    assert_eq!(a.json["error_code"], 50001, "{}", a.text);
}

/// Waits until a backend of database `name` waits for a lock (a request of the server
/// is blocked behind the test's `LOCK TABLE`).
async fn until_a_backend_waits_for_a_lock(admin: &sqlx::PgPool, name: &str) {
    for _ in 0..2000 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(name)
        .fetch_one(admin)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no request of the server ever waited for the test's lock");
}

/// Terminates every backend of database `name` but the test's own.
async fn terminate_backends(admin: &sqlx::PgPool, name: &str) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .execute(admin)
    .await
    .expect("pg_terminate_backend");
}

/// A connection to database `name` holding `contracts` locked in a transaction, so a
/// request that reads contracts blocks on it.
async fn lock_contracts(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE contracts IN ACCESS EXCLUSIVE MODE")
        .execute(&mut conn)
        .await
        .expect("lock");
    conn
}

async fn drop_database(admin: &sqlx::PgPool, name: &str) {
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .expect("drop database");
}

fn client_with_deadline() -> reqwest::Client {
    // A request the server never answers fails the test instead of hanging it.
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_request_whose_backend_is_terminated_is_a_503_and_the_next_one_succeeds() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    let url = db.url.clone();
    let mut app = spawn_app_at(db).await;
    app.client = client_with_deadline();
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    let mut lock = lock_contracts(&url).await;
    let blocked = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/api/v1/contracts");
        async move { crate::helpers::answer(client.get(url).send().await.expect("sent")).await }
    });
    until_a_backend_waits_for_a_lock(&admin, &name).await;
    // The test's own connection is terminated too (it holds the lock): that ends it.
    terminate_backends(&admin, &name).await;
    let a = blocked.await.expect("request task");
    assert_unavailable(&a);
    let _ = sqlx::query("ROLLBACK").execute(&mut lock).await;

    // No restart: the pool replaces the dead connections by itself.
    let a = app.get("/api/v1/contracts").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.json["contracts"][0]["name"], "orders.placed",
        "{}",
        a.text
    );
    let a = app
        .register("orders.shipped", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    app.stop().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn backends_terminated_under_load_give_503s_never_500s() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    let mut app = spawn_app_at(db).await;
    app.client = client_with_deadline();
    let app = std::sync::Arc::new(app);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..6 {
        let app = std::sync::Arc::clone(&app);
        let stop = std::sync::Arc::clone(&stop);
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let schema = json!({"type": "object", "description": format!("{c}.{n}")});
                let a = app.register(&format!("load.c{c}"), &schema).await;
                answers.push((a.status, a.headers.contains_key("retry-after"), a.text));
                let a = app.get("/api/v1/contracts").await;
                answers.push((a.status, a.headers.contains_key("retry-after"), a.text));
                n += 1;
            }
            answers
        }));
    }
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        terminate_backends(&admin, &name).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut unavailable = 0;
    for client in clients {
        for (status, retry_after, text) in client.await.expect("client task") {
            match status.as_u16() {
                200 | 201 => {}
                503 => {
                    assert!(retry_after, "a 503 without Retry-After: {text}");
                    unavailable += 1;
                }
                other => panic!("{other}: {text}"),
            }
        }
    }
    eprintln!("503 answers during the terminations: {unavailable}");
    // After the storm, the registry works without a restart.
    let a = app.register("load.after", &json!({"type": "object"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    drop(app);
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_dropped_database_is_a_503_on_both_apis_until_it_is_back() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    let url = db.url.clone();
    let mut app = spawn_app_at(db).await;
    app.client = client_with_deadline();
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    drop_database(&admin, &name).await;
    assert_not_ready(&app.get("/readyz").await, "database-unavailable");
    assert_unavailable(&app.get("/api/v1/contracts").await);
    assert_unavailable(
        &app.register("orders.shipped", &json!({"type": "object"}))
            .await,
    );
    assert_confluent_unavailable(&app.get("/subjects").await);

    // Recreated empty: the tables are missing, which is the database's state too.
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("recreate");
    assert_not_ready(&app.get("/readyz").await, "schema-missing");
    assert_unavailable(&app.get("/api/v1/contracts").await);
    assert_confluent_unavailable(
        &app.post(
            "/subjects/orders.placed/versions",
            &json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"}),
        )
        .await,
    );

    // Migrated again (as `accord migrate` would), the same server serves at once.
    let store = accord::store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.close().await;
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    app.stop().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_statement_past_its_deadline_is_a_503_while_the_lock_is_still_held() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    let url = db.url.clone();
    let limits = Limits {
        db_statement_timeout: Duration::from_millis(300).into(),
        ..Limits::default()
    };
    let mut app: TestApp = spawn_app_at_with(db, limits).await;
    app.client = client_with_deadline();
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    let mut lock = lock_contracts(&url).await;
    // Without a statement deadline this waits for the lock until the client gives up.
    assert_unavailable(&app.get("/api/v1/contracts").await);
    let _ = sqlx::query("ROLLBACK").execute(&mut lock).await;
    let a = app.get("/api/v1/contracts").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    app.stop().await;
    drop(lock);
    drop_database(&admin, &name).await;
}

/// A TCP relay to PostgreSQL that can go silent: while frozen it forwards nothing (the
/// sockets stay open, as with a network that drops packets), and once thawed it
/// delivers what it held, in order.
struct SilentNetwork {
    addr: std::net::SocketAddr,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl SilentNetwork {
    async fn to(upstream: String) -> SilentNetwork {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (frozen, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(&upstream)
                    .await
                    .expect("connect to PostgreSQL");
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(relay(cr, sw, watch.clone()));
                tokio::spawn(relay(sr, cw, watch.clone()));
            }
        });
        SilentNetwork { addr, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_silent_database_is_not_ready_at_once_and_requests_get_503_instead_of_hanging() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    // The same database, reached through the relay.
    let (scheme, rest) = db.url.split_once("://").expect("scheme");
    let (authority, path) = rest.split_once('/').expect("path");
    let (user, upstream) = authority.rsplit_once('@').expect("user@host:port");
    let network = SilentNetwork::to(upstream.to_owned()).await;
    let url = format!("{scheme}://{user}@{}/{path}", network.addr);
    let mut app = spawn_app_at(TestDb::at(url)).await;
    app.client = client_with_deadline();
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    network.freeze(true);
    // The probe's own deadline (under a second) answers, not the pool's (2 s).
    assert_not_ready(&app.get("/readyz").await, "database-timeout");
    assert_unavailable(&app.get("/api/v1/contracts").await);
    assert_unavailable(
        &app.register("orders.shipped", &json!({"type": "object"}))
            .await,
    );

    network.freeze(false);
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    let a = app.get("/api/v1/contracts").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = app
        .register("orders.shipped", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    app.stop().await;
    drop_database(&admin, &name).await;
}

/// A schema of about 60 KB, distinct for each `n`.
fn bulky(n: usize) -> serde_json::Value {
    json!({"type": "object", "description": format!("{n} {}", "x".repeat(60_000))})
}

/// A 3 MB tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = tempfile::tempdir().expect("mount point");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed: {status}");
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A full disk (a 3 MB tmpfs, filled up by registrations) answers every write 507,
/// and once a file beside the database is removed, every write succeeds at once:
/// before, the connections whose transaction had failed went back to the pool still
/// counted as inside it, and half the writes failed with 500 until a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_root),
    ignore = "needs root (to mount a 3 MB tmpfs): run the tests as root"
)]
async fn sqlite_writes_succeed_again_at_once_when_a_full_disk_has_room() {
    let disk = SmallDisk::mount();
    let filler = disk.dir.path().join("filler");
    std::fs::write(&filler, vec![0u8; 1_000_000]).expect("filler");
    let url = format!("sqlite://{}", disk.dir.path().join("accord.db").display());
    let mut app = spawn_app_at(TestDb::at(url)).await;

    let mut n = 0;
    let full = loop {
        let a = app.register("orders.placed", &bulky(n)).await;
        n += 1;
        if a.status != StatusCode::CREATED {
            break a;
        }
        assert!(n < 100, "the disk never filled up");
    };
    assert_eq!(
        full.status,
        StatusCode::INSUFFICIENT_STORAGE,
        "{}",
        full.text
    );
    assert_eq!(full.code(), "storage-full", "{}", full.text);
    // Full stays full, with the same honest answer, on every connection of the pool.
    for _ in 0..10 {
        let a = app.register("orders.placed", &bulky(n)).await;
        n += 1;
        assert_eq!(a.status, StatusCode::INSUFFICIENT_STORAGE, "{}", a.text);
    }
    let a = app.get("/api/v1/contracts/orders.placed/versions").await;
    assert_eq!(a.status, StatusCode::OK, "reads go on: {}", a.text);

    // Room again: every registration succeeds at once, without a restart.
    std::fs::remove_file(&filler).expect("free the room");
    for _ in 0..16 {
        let a = app
            .register(&format!("small.c{n}"), &json!({"type": "object"}))
            .await;
        n += 1;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    app.stop().await;
    drop(app);
    drop(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_request_finding_every_connection_busy_is_a_503_within_the_acquire_deadline() {
    let admin = pg_admin().await;
    let (name, db) = fresh_pg_database(&admin).await;
    let url = db.url.clone();
    let mut app = spawn_app_at(db).await;
    app.client = client_with_deadline();
    let a = app
        .register("orders.placed", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    // Every connection of the pool (16) blocks behind the test's lock.
    let mut lock = lock_contracts(&url).await;
    let mut blocked = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = app.url("/api/v1/contracts");
        blocked.push(tokio::spawn(async move {
            crate::helpers::answer(client.get(url).send().await.expect("sent")).await
        }));
    }
    for _ in 0..2000 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await
        .expect("pg_stat_activity");
        if waiting >= 16 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // One more waits --db-acquire-timeout (2 s), not 30 s, and is told to come back.
    assert_unavailable(&app.get("/api/v1/contracts").await);
    let _ = sqlx::query("ROLLBACK").execute(&mut lock).await;
    for task in blocked {
        let a = task.await.expect("request task");
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }

    app.stop().await;
    drop(lock);
    drop_database(&admin, &name).await;
}
