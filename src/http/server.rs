//! The serving loop: accepts TCP connections, bounds how many are open, serves HTTP/1.1
//! on each with hyper, and stops within a deadline.
//!
//! Why not `axum::serve`: it has no bound on open connections and no shutdown
//! deadline, and its HTTP/2 detection reads a new connection's first bytes without a
//! timeout, so a client that connects and sends half a request held its socket (and
//! SIGTERM) for ever. Here every stage of a connection has a deadline:
//!
//! - the TLS handshake, with `--tls-cert`: [`Limits::tls_handshake_timeout`] (a
//!   client speaking plain HTTP to the TLS port is answered 400 in plain HTTP);
//! - request headers: hyper's `header_read_timeout` (also the idle time allowed between
//!   two requests on a kept-alive connection);
//! - request bodies and whole requests: layers of the router ([`super::router`]);
//! - shutdown: after the shutdown signal, in-flight requests get
//!   [`Limits::shutdown_timeout`] to finish, then the remaining connections are closed.
//!
//! Open connections are bounded by [`Limits::max_connections`], lowered to fit the
//! process's open-file limit; a connection counts from its acceptance (its TLS
//! handshake included) until its socket is closed. When
//! the bound is reached, a new connection takes the place of the connection that has
//! waited longest between requests (a client that never finishes its handshake or its
//! headers is such a connection), as nginx reuses idle keep-alive connections when it runs short; when
//! every connection is inside a request, the new one is answered 503 with
//! `Retry-After` and closed. So a crowd of stalled sockets cannot keep `/healthz` or a
//! real client out.
//!
//! Only HTTP/1.1 is spoken (the Confluent clients and every HTTP client speak it).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinSet;
use tower::Service;

use super::tls::Tls;
use crate::limits::Limits;

/// File descriptors kept for everything but client connections: the database pool
/// (a SQLite connection holds up to three files), the listener, logs, the runtime.
const RESERVED_FILES: u64 = 64;

/// At most this many refused connections are being answered 503 at once; more are
/// closed without an answer.
const MAX_REFUSING: usize = 32;

/// How long a refused connection is given to receive its 503.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish for at most [`Limits::shutdown_timeout`], closes what is
/// still open and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, limits, None, shutdown).await
}

/// [`serve`] over HTTPS: every accepted connection completes a TLS handshake with
/// `tls` (within [`Limits::tls_handshake_timeout`]) before its first request.
pub async fn serve_tls(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    tls: Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, limits, Some(tls), shutdown).await
}

async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let table = Arc::new(Table::new(max_connections(limits.max_connections)));
    let refusing = Arc::new(AtomicUsize::new(0));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(*limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes);
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Finished connections leave the set here; their slots are already free.
        while tasks.try_join_next().is_some() {}
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e).await;
                continue;
            }
        };
        // Small answers go out at once instead of waiting for more to send.
        let _ = stream.set_nodelay(true);
        match table.admit().await {
            Some(slot) => {
                let connection = Connection {
                    http: http.clone(),
                    router: router.clone(),
                    remote,
                    slot,
                    stopping: stopping.clone(),
                };
                match &tls {
                    None => tasks.spawn(connection.run(stream)),
                    Some(tls) => tasks.spawn(connection.run_tls(
                        stream,
                        tls.clone(),
                        *limits.tls_handshake_timeout,
                    )),
                };
            }
            None => {
                if refusing.fetch_add(1, Ordering::AcqRel) < MAX_REFUSING {
                    let refusing = Arc::clone(&refusing);
                    tasks.spawn(async move {
                        refuse(stream).await;
                        refusing.fetch_sub(1, Ordering::AcqRel);
                    });
                } else {
                    refusing.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }
    drop(listener);
    tracing::info!(
        connections = tasks.len(),
        "no longer accepting connections; finishing requests in flight"
    );
    let _ = stop.send(true);
    let drained = tokio::time::timeout(*limits.shutdown_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            shutdown_timeout = %limits.shutdown_timeout,
            connections = tasks.len(),
            "connections still open at the shutdown deadline; closing them"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// `configured`, lowered so that connections cannot exhaust the open-file limit.
fn max_connections(configured: usize) -> usize {
    let Some(files) = open_file_limit() else {
        return configured;
    };
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES).max(1)).unwrap_or(usize::MAX);
    if room < configured {
        tracing::warn!(
            max_connections = configured,
            open_file_limit = files,
            "the open-file limit allows only {room} connections; serving at most that many \
             (raise it with `ulimit -n`, or lower --max-connections)"
        );
        room
    } else {
        configured
    }
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Accept errors of one connection (reset before it was accepted) are not the
/// listener's; others (out of file descriptors) are logged and retried shortly.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers 503 to a connection for which there is no room, and closes it.
async fn refuse(stream: TcpStream) {
    let _ = tokio::time::timeout(
        REFUSAL_TIMEOUT,
        answer_and_close(
            stream,
            "503 Service Unavailable\r\nretry-after: 1",
            "too-many-connections",
            "every connection the server allows is busy with a request; retry shortly (--max-connections)",
        ),
    )
    .await;
}

/// Writes a plain HTTP/1.1 answer with the error envelope, and closes the connection
/// once the client has stopped sending (the caller bounds the time).
async fn answer_and_close(
    mut stream: TcpStream,
    status_and_headers: &str,
    code: &str,
    message: &str,
) -> std::io::Result<()> {
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let response = format!(
        "HTTP/1.1 {status_and_headers}\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await?;
    // Read what the client sent, so closing does not reset the connection before
    // the client has read the answer.
    let mut sink = [0u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// The first byte of a TLS handshake record (RFC 8446, 5.1).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// One accepted connection.
struct Connection {
    http: hyper::server::conn::http1::Builder,
    router: Router,
    remote: SocketAddr,
    slot: Slot,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    /// Completes the TLS handshake within `deadline`, then serves as [`Self::run`].
    /// While it lasts the connection holds its slot and counts as idle: a crowd of
    /// stalled handshakes is evicted like a crowd of stalled headers.
    async fn run_tls(mut self, stream: TcpStream, tls: Tls, deadline: Duration) {
        let remote = self.remote;
        let handshake = async {
            let mut first = [0u8; 1];
            if stream.peek(&mut first).await? == 0 {
                return Ok(None);
            }
            if first[0] != TLS_HANDSHAKE_RECORD {
                // Most likely plain HTTP sent to the HTTPS port: say so in plain HTTP.
                answer_and_close(
                    stream,
                    "400 Bad Request",
                    "tls-required",
                    "this port serves HTTPS only; use an https:// URL",
                )
                .await?;
                return Ok(None);
            }
            tls.acceptor.accept(stream).await.map(Some)
        };
        let stream = tokio::select! {
            done = tokio::time::timeout(deadline, handshake) => match done {
                Ok(Ok(Some(stream))) => stream,
                Ok(Ok(None)) => return,
                Ok(Err(e)) => {
                    tracing::debug!(client.address = %remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(client.address = %remote, "TLS handshake not completed in time; closing");
                    return;
                }
            },
            Ok(()) = &mut self.slot.evicted => return,
            Ok(_) = self.stopping.wait_for(|stop| *stop) => return,
        };
        self.run(stream).await;
    }

    async fn run<S>(self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            http,
            router,
            remote,
            mut slot,
            mut stopping,
        } = self;
        let activity = Arc::clone(&slot.activity);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let busy = Busy::enter(&activity);
            request.extensions_mut().insert(ConnectInfo(remote));
            let mut router = router.clone();
            async move {
                let response = router.call(request).await?;
                // The connection stays busy until the answer's body has been sent.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &busy;
                        frame
                    }))
                }))
            }
        });
        let connection = http.serve_connection(
            TokioIo::new(super::malformed::Explained::new(stream)),
            service,
        );
        let mut connection = pin!(connection);
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(client.address = %remote, error = %e, "connection ended with an error");
                }
                return;
            }
            Ok(()) = &mut slot.evicted => {
                if slot.activity.is_idle() {
                    return; // dropping the connection closes it
                }
            }
            Ok(_) = stopping.wait_for(|stop| *stop) => {}
        }
        // Finish the request in flight, if any, then close.
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// Milliseconds since the first call, for idle-since stamps.
fn now_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Whether a connection is inside a request, and since when it is not.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(now_ms()),
        }
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }
}

/// A request in flight on a connection, from its headers to the end of its answer.
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since_ms.store(now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections: every accepted connection until its task has ended (and
/// its socket is closed), so the count is the count of sockets held.
struct Table {
    max: usize,
    open: Mutex<Open>,
    /// Told when a connection has ended.
    freed: Notify,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    by_id: BTreeMap<u64, Entry>,
}

struct Entry {
    activity: Arc<Activity>,
    /// `Some` until the connection has been told to make room.
    evict: Option<oneshot::Sender<()>>,
}

/// A connection's place in the [`Table`], freed when dropped.
struct Slot {
    id: u64,
    table: Arc<Table>,
    activity: Arc<Activity>,
    /// Resolves when the connection is to close to make room for a new one.
    evicted: oneshot::Receiver<()>,
}

/// What [`Table::try_admit`] decided.
enum Admission {
    Admitted(Slot),
    /// Full, and a connection has been told to make room (or already was).
    Evicting,
    /// Full of connections inside a request.
    Full,
}

/// How long a new connection waits for an evicted one to close.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

impl Table {
    fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            open: Mutex::default(),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection, once there is room: when the table is full, the
    /// connection idle the longest is told to close and its end is awaited (at most
    /// [`EVICTION_WAIT`]). `None` when every connection is inside a request.
    async fn admit(self: &Arc<Self>) -> Option<Slot> {
        let deadline = tokio::time::Instant::now() + EVICTION_WAIT;
        loop {
            match self.try_admit() {
                Admission::Admitted(slot) => return Some(slot),
                Admission::Full => return None,
                Admission::Evicting => {
                    let freed = tokio::time::timeout_at(deadline, self.freed.notified());
                    if freed.await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    fn try_admit(self: &Arc<Self>) -> Admission {
        let mut open = self.lock();
        if open.by_id.len() >= self.max {
            if open.by_id.values().any(|e| e.evict.is_none()) {
                return Admission::Evicting;
            }
            let Some(entry) = open
                .by_id
                .values_mut()
                .filter(|e| e.activity.is_idle())
                .min_by_key(|e| e.activity.idle_since_ms.load(Ordering::Acquire))
            else {
                return Admission::Full;
            };
            if let Some(evict) = entry.evict.take() {
                let _ = evict.send(());
            }
            return Admission::Evicting;
        }
        let id = open.next_id;
        open.next_id += 1;
        let activity = Arc::new(Activity::new());
        let (evict, evicted) = oneshot::channel();
        open.by_id.insert(
            id,
            Entry {
                activity: Arc::clone(&activity),
                evict: Some(evict),
            },
        );
        Admission::Admitted(Slot {
            id,
            table: Arc::clone(self),
            activity,
            evicted,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.lock().by_id.remove(&self.id);
        // A stored permit if nobody waits: the next waiter rechecks at once.
        self.table.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(table: &Arc<Table>) -> Slot {
        match table.try_admit() {
            Admission::Admitted(slot) => slot,
            _ => panic!("no room"),
        }
    }

    #[tokio::test]
    async fn a_full_table_admits_a_new_connection_once_the_longest_idle_one_has_closed() {
        let table = Arc::new(Table::new(2));
        let mut first = admitted(&table);
        let second = admitted(&table);
        let _busy = Busy::enter(&second.activity);
        assert!(matches!(table.try_admit(), Admission::Evicting));
        assert!(
            first.evicted.try_recv().is_ok(),
            "the idle one is told to close"
        );
        // Until it has closed, nobody else is told and nobody is admitted.
        assert!(matches!(table.try_admit(), Admission::Evicting));
        drop(first);
        assert!(table.admit().await.is_some());
    }

    #[tokio::test]
    async fn a_full_table_of_busy_connections_admits_nothing() {
        let table = Arc::new(Table::new(1));
        let only = admitted(&table);
        let busy = Busy::enter(&only.activity);
        assert!(table.admit().await.is_none());
        drop(busy);
        assert!(matches!(table.try_admit(), Admission::Evicting));
    }

    #[test]
    fn a_closed_connection_frees_its_slot() {
        let table = Arc::new(Table::new(1));
        drop(admitted(&table));
        assert!(table.lock().by_id.is_empty());
        drop(admitted(&table));
    }
}
