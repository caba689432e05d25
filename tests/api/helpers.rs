//! Shared test helpers: a fresh database per test, the real server on 127.0.0.1:0
//! with a shutdown handle, an HTTP client, and response-shape checks against the
//! component schemas of `openapi.yaml`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use accord::http::AppState;
use accord::limits::Limits;
use accord::registry::Registry;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use tokio::sync::oneshot;

/// The two storage backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test: a SQLite file in a temporary directory, or a
/// fresh schema in the PostgreSQL database named by `ACCORD_TEST_POSTGRES_URL`.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A fresh database, or `None` when PostgreSQL is asked for and not configured.
pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("accord.db").display());
            Some(TestDb {
                url,
                _dir: Some(dir),
            })
        }
        Backend::Postgres => {
            let base = std::env::var("ACCORD_TEST_POSTGRES_URL").ok()?;
            let schema = format!("accord_test_{}", unique_suffix());
            let pool = sqlx::PgPool::connect(&base)
                .await
                .expect("connect to ACCORD_TEST_POSTGRES_URL");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&pool)
                .await
                .expect("create test schema");
            pool.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            Some(TestDb {
                url: format!("{base}{sep}options[search_path]={schema}"),
                _dir: None,
            })
        }
    }
}

impl TestDb {
    /// An existing database at `url` (not removed afterwards).
    pub fn at(url: String) -> TestDb {
        TestDb { url, _dir: None }
    }
}

/// A connection pool on the database `ACCORD_TEST_POSTGRES_URL` names, for
/// administering the server (creating, dropping, terminating).
pub async fn pg_admin() -> sqlx::PgPool {
    let base = std::env::var("ACCORD_TEST_POSTGRES_URL")
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    sqlx::PgPool::connect(&base)
        .await
        .expect("connect to ACCORD_TEST_POSTGRES_URL")
}

/// `ACCORD_TEST_POSTGRES_URL` with its database name replaced by `name`.
pub fn pg_url_of(name: &str) -> String {
    let base = std::env::var("ACCORD_TEST_POSTGRES_URL")
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let (url, query) = match base.split_once('?') {
        Some((u, q)) => (u.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let (server, _) = url.rsplit_once('/').expect("a database URL has a path");
    format!("{server}/{name}{query}")
}

/// A fresh PostgreSQL database of its own (not a schema: tests that terminate or drop
/// it need the whole database), with its name.
pub async fn fresh_pg_database(admin: &sqlx::PgPool) -> (String, TestDb) {
    let name = format!("accord_test_db_{}", unique_suffix());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin)
        .await
        .expect("create test database");
    let url = pg_url_of(&name);
    (name, TestDb::at(url))
}

fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .try_init();
        }
    });
}

/// The server under test, stopped when dropped.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The server's store, for checking what was written.
    pub store: Arc<dyn accord::store::Store>,
    pub _db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Stops the server and waits until it no longer listens (in-flight requests
    /// finished), keeping the database for inspection.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the real router on a free port over a fresh database.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_limits(backend, Limits::default()).await
}

/// [`spawn_app`] with a body limit.
pub async fn spawn_app_with(backend: Backend, max_body_bytes: usize) -> Option<TestApp> {
    let limits = Limits {
        max_body_bytes,
        ..Limits::default()
    };
    spawn_app_limits(backend, limits).await
}

/// [`spawn_app`] with other limits and timeouts.
pub async fn spawn_app_limits(backend: Backend, limits: Limits) -> Option<TestApp> {
    init_logging();
    let db = fresh_db(backend).await?;
    Some(serve_db(db, limits).await)
}

/// The real router over an existing database (migrated first), with default limits.
pub async fn spawn_app_at(db: TestDb) -> TestApp {
    init_logging();
    serve_db(db, Limits::default()).await
}

/// [`spawn_app_at`] with other limits and timeouts.
pub async fn spawn_app_at_with(db: TestDb, limits: Limits) -> TestApp {
    init_logging();
    serve_db(db, limits).await
}

async fn serve_db(db: TestDb, limits: Limits) -> TestApp {
    let store = accord::store::connect_with(&db.url, &limits)
        .await
        .expect("open store");
    serve_store(db, store, limits).await
}

/// The real router over `store` (migrated first), opened on `db`.
pub async fn serve_store(
    db: TestDb,
    store: Arc<dyn accord::store::Store>,
    limits: Limits,
) -> TestApp {
    serve_configured(db, store, limits, |state| state).await
}

/// [`spawn_app`] with the server's state changed by `configure` (its `serve` flags).
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(AppState) -> AppState,
) -> Option<TestApp> {
    let db = fresh_db(backend).await?;
    let limits = Limits::default();
    let store = accord::store::connect_with(&db.url, &limits)
        .await
        .expect("open store");
    Some(serve_configured(db, store, limits, configure).await)
}

async fn serve_configured(
    db: TestDb,
    store: Arc<dyn accord::store::Store>,
    limits: Limits,
    configure: impl FnOnce(AppState) -> AppState,
) -> TestApp {
    init_logging();
    store.migrate().await.expect("migrate");
    let registry = Arc::new(Registry::new(Arc::clone(&store), &limits));
    registry.follow_changes();
    let router = accord::http::router(configure(AppState::new(registry, limits)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(async move {
        accord::http::serve(listener, router, &limits, async move {
            let _ = rx.await;
        })
        .await
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store,
        _db: db,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// An HTTP answer, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.request(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(Method::DELETE, path, None, &[]).await
    }

    /// Registers `schema` under `name` with extra body fields.
    pub async fn register_with(&self, name: &str, schema: &Value, extra: Value) -> Answer {
        let mut body = serde_json::json!({ "schema": schema });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        self.post(&format!("/api/v1/contracts/{name}/versions"), &body)
            .await
    }

    pub async fn register(&self, name: &str, schema: &Value) -> Answer {
        self.register_with(name, schema, serde_json::json!({}))
            .await
    }
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An example contract's schema file, e.g. `contract("orders.order_placed", "1.0.0")`.
pub fn contract(name: &str, version: &str) -> Value {
    let path = root()
        .join("contracts")
        .join(name)
        .join(format!("{version}.json"));
    read_json(&path)
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `openapi.yaml` as JSON.
pub fn openapi() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("openapi.yaml")).expect("openapi.yaml");
        serde_norway::from_str(&text).expect("openapi.yaml parses")
    })
}

/// Asserts that `body` matches the component schema `name` of `openapi.yaml`.
pub fn assert_shape(body: &Value, name: &str) {
    let components = &openapi()["components"]["schemas"];
    assert!(
        components.get(name).is_some(),
        "openapi.yaml has no component schema {name}"
    );
    let text = serde_json::to_string(components)
        .expect("serialise")
        .replace("#/components/schemas/", "#/$defs/");
    let defs: Value = serde_json::from_str(&text).expect("reparse");
    let schema = serde_json::json!({ "$defs": defs, "$ref": format!("#/$defs/{name}") });
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("component {name} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "body does not match {name}: {errors:#?}\nbody: {body:#}"
    );
}

/// Generates one test per backend for each async `fn(TestApp)` named: `NAME` runs on
/// SQLite; `NAME` in the `postgres` module runs when `ACCORD_TEST_POSTGRES_URL` was set
/// when the tests were built, and is reported as ignored (with how to turn it on)
/// otherwise (`build.rs` sets the `accord_postgres` cfg).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.expect("sqlite app");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(accord_postgres), ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again")]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres)
                        .await
                        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
                    super::$name(app).await;
                }
            )*
        }
    };
}
