//! `accord serve`: run the registry.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::Failure;
use crate::http::{self, AppState};
use crate::limits::Limits;
use crate::registry::Registry;
use crate::store::{self, StoreError};

/// Run the registry server.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Database URL: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "ACCORD_DATABASE_URL",
        default_value = "sqlite://accord.db"
    )]
    pub database: String,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the chosen address is
    /// printed on standard output).
    #[arg(long, env = "ACCORD_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first,
    /// then its intermediates); needs --tls-key. See docs/security.md.
    #[arg(
        long,
        env = "ACCORD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "ACCORD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Let requests without a token read and validate (writes still need one).
    #[arg(long, env = "ACCORD_ANONYMOUS_READ")]
    pub anonymous_read: bool,
    /// Serve on a non-loopback address although no API token exists yet, so that
    /// anyone who reaches the port can change the registry until one is created.
    #[arg(long, env = "ACCORD_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Let `GET /metrics` answer without a token (for a scraper on a private network);
    /// otherwise it needs a reader token once tokens exist. See docs/operations.md.
    #[arg(long, env = "ACCORD_METRICS_PUBLIC", conflicts_with = "no_metrics")]
    pub metrics_public: bool,
    /// Record no metrics: `GET /metrics` answers 404. Saves the few percent of a fetch
    /// that counting it costs (docs/benchmarks-registry.md).
    #[arg(long, env = "ACCORD_NO_METRICS")]
    pub no_metrics: bool,
    /// Every limit and timeout (docs/limits.md).
    #[command(flatten)]
    pub limits: Limits,
}

/// Why the server refuses to start: it would listen on the network with no token.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to serve on {listen}, which is not a loopback address, while no API token exists: \
     anyone reaching the port could change the registry. Create the first admin token with \
     `accord token create --database <the same database URL> --name admin --role admin` \
     (it is printed once), or pass --insecure-no-auth to serve without authentication anyway"
)]
pub struct NoTokenOnNetwork {
    listen: SocketAddr,
}

/// Runs the server until SIGTERM or Ctrl-C. Exit 0 after a clean shutdown, 2 for an
/// unusable database URL, 3 when the TLS certificate or key, the database or the
/// address cannot be opened.
pub fn run(args: ServeArgs) -> Result<ExitCode, Failure> {
    super::init_tracing();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = args.limits.workers {
        runtime.worker_threads(workers.get());
    }
    let runtime = runtime
        .build()
        .map_err(|e| Failure::load(format!("starting the async runtime: {e}")))?;
    runtime.block_on(serve(args)).map_err(failure)?;
    Ok(ExitCode::SUCCESS)
}

/// Exit 2 for a database URL that names no backend, 3 for everything else.
pub(super) fn failure(e: anyhow::Error) -> Failure {
    if e.downcast_ref::<StoreError>()
        .is_some_and(|s| matches!(s, StoreError::InvalidUrl(_)))
        || e.downcast_ref::<NoTokenOnNetwork>().is_some()
    {
        Failure::usage(super::chain(&e))
    } else {
        Failure::load(super::chain(&e))
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Before the database: a wrong file is told at once, and nothing is migrated for
    // a server that cannot start.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(http::Tls::load(cert, key)?),
        _ => None,
    };
    let backend = store::Backend::from_url(&args.database)?;
    // The address first: when it is taken, nothing is created on disk.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| listen_error(args.listen, &e))?;
    let store = open_database(&args.database, &args.limits).await?;
    store
        .migrate()
        .await
        .context("running the database migrations")?;
    let open = !store
        .any_token()
        .await
        .context("reading whether any API token exists")?;
    if open {
        if args.listen.ip().is_loopback() {
            tracing::info!(
                "no API token exists: serving without authentication on this loopback address \
                 until one is created (`accord token create --name admin --role admin --database …`)"
            );
        } else if args.insecure_no_auth {
            tracing::warn!(
                listen = %args.listen,
                "--insecure-no-auth: serving without authentication on a network address; \
                 anyone who reaches the port can change the registry until a token is created"
            );
        } else {
            return Err(NoTokenOnNetwork {
                listen: args.listen,
            }
            .into());
        }
    }
    if args.anonymous_read {
        tracing::info!("anonymous reads allowed: requests without a token may read and validate");
    }
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let registry = Arc::new(Registry::new(Arc::clone(&store), &args.limits));
    // On PostgreSQL, other processes' changes are pushed to this one's caches.
    registry.follow_changes();
    let limits = args.limits;
    let auth = http::auth::AuthConfig {
        anonymous_read: args.anonymous_read,
    };
    let mut state = AppState::new(registry, limits).with_auth(auth);
    if args.no_metrics {
        state = state.without_metrics();
    } else if args.metrics_public {
        tracing::info!("GET /metrics answers without a token (--metrics-public)");
        state = state.with_public_metrics();
    }
    let router = http::router(state);
    // The database URL may hold a password: log the backend only.
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(listen = %addr, backend = ?backend, scheme, "accord serving");
    println!("accord listening on {scheme}://{addr}");
    match tls {
        Some(tls) => http::serve_tls(listener, router, &limits, tls, shutdown_signal()).await,
        None => http::serve(listener, router, &limits, shutdown_signal()).await,
    }
    .context("serving HTTP")?;
    tracing::info!("in-flight requests finished; closing the database pool");
    store.close().await;
    Ok(())
}

/// Why `addr` cannot be listened on, with what to do about it.
fn listen_error(addr: SocketAddr, e: &std::io::Error) -> anyhow::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another process is listening there: stop it, or choose another address with --listen"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "; the address is not one of this machine's: use 127.0.0.1 or 0.0.0.0 with --listen"
        }
        std::io::ErrorKind::PermissionDenied => {
            "; ports below 1024 need privileges: choose another port with --listen"
        }
        _ => "",
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
}

/// Opens the database `url` names (no migrations), with an error that says which one
/// could not be opened and why: the SQLite file's path, or the PostgreSQL server (never
/// the URL, which may hold a password). Shared by every command that opens a database.
pub(super) async fn open_database(
    url: &str,
    limits: &Limits,
) -> anyhow::Result<Arc<dyn store::Store>> {
    match store::Backend::from_url(url)? {
        store::Backend::Sqlite => {
            let path = sqlite_path(url);
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
                && !dir.is_dir()
            {
                anyhow::bail!(
                    "cannot open the SQLite database {path}: the directory {} does not exist",
                    dir.display()
                );
            }
            store::connect_with(url, limits)
                .await
                .with_context(|| format!("cannot open the SQLite database {path}"))
        }
        store::Backend::Postgres => store::connect_with(url, limits)
            .await
            .context("cannot open the PostgreSQL database"),
    }
}

/// The file a `sqlite:` URL names (`sqlite://accord.db` → `accord.db`,
/// `sqlite:///tmp/a.db?mode=rwc` → `/tmp/a.db`).
fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split(['?', '#']).next().unwrap_or(rest)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested; no longer accepting connections");
}
