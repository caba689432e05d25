//! Changes pushed between processes on one PostgreSQL database: `LISTEN`/`NOTIFY`.
//!
//! Triggers (migration 0006) announce every committed change to a contract, its
//! versions or the global configuration on the channel [`CHANNEL`], inside the writing
//! transaction, so a notification is delivered only when that transaction commits.
//! Its payload is JSON naming the schema the tables live in (registries on different
//! schemas of one database share the channel and ignore each other) and the contract,
//! or `"all": true` for a registry-wide change.
//!
//! Each process that watches ([`Watch`]) holds one extra connection, named
//! `accord listener <pid>` in `pg_stat_activity`, that listens on the channel and tells
//! its sinks what changed. When that connection is lost the sinks are told changes are
//! no longer pushed (they fall back to rereading by age) and it reconnects with
//! backoff (0.1 s doubling to 10 s, back to 0.1 s after a connection that lasted 10 s);
//! once it listens again they are told changes are pushed, and forget
//! everything (changes may have been missed meanwhile).
//!
//! A connection that dies without the socket noticing (a silent network partition) is
//! not detected here; the sinks' own safety bound (30 s for version lists) caps how
//! long a missed change can be served.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::domain::ContractName;
use crate::store::{Change, ChangeSink};

/// The channel the triggers notify.
pub(super) const CHANNEL: &str = "accord_changes";

/// The first wait before reconnecting, doubled after each failed attempt.
const RETRY_FIRST: Duration = Duration::from_millis(100);

/// The longest wait between two attempts to reconnect.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// A connection that listened this long resets the backoff; one lost sooner (a
/// flapping connection) doubles it like a failed attempt.
const STABLE: Duration = Duration::from_secs(10);

/// How long one attempt to connect and listen may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The sinks of one store and the task that feeds them.
#[derive(Default)]
pub(super) struct Watch {
    sinks: Arc<Sinks>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Watch {
    /// Adds `sink`, starting the listener on the first one.
    pub(super) fn add(&self, options: &PgConnectOptions, sink: Arc<dyn ChangeSink>) {
        lock(&self.sinks.0).push(sink);
        let mut task = lock(&self.task);
        if task.is_none() {
            let options = options
                .clone()
                .application_name(&format!("accord listener {}", std::process::id()));
            let sinks = Arc::clone(&self.sinks);
            *task = Some(tokio::spawn(run(options, sinks)));
        }
    }

    /// Stops the listener (its connection is closed).
    pub(super) fn stop(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Who is told.
#[derive(Default)]
struct Sinks(Mutex<Vec<Arc<dyn ChangeSink>>>);

impl Sinks {
    fn changed(&self, change: &Change) {
        for sink in lock(&self.0).iter() {
            sink.changed(change);
        }
    }

    fn pushed(&self, pushed: bool) {
        for sink in lock(&self.0).iter() {
            sink.pushed(pushed);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Listens until aborted: connects, tells the sinks, and reconnects with backoff
/// whenever the connection is lost.
async fn run(options: PgConnectOptions, sinks: Arc<Sinks>) {
    let mut wait = RETRY_FIRST;
    let mut ever_listened = false;
    loop {
        let (lost, listened_for) = listen(&options, &sinks, ever_listened).await;
        sinks.pushed(false);
        if listened_for.is_some_and(|d| d >= STABLE) {
            wait = RETRY_FIRST;
        }
        if listened_for.is_some() {
            ever_listened = true;
            // The cause names the server's answer, never the URL (it may hold a password).
            tracing::warn!(
                error = %lost,
                retry_ms = wait.as_millis() as u64,
                "lost the connection that receives other processes' changes; version lists are reread by age until it is back"
            );
        } else {
            tracing::debug!(error = %lost, retry_ms = wait.as_millis() as u64, "cannot listen for other processes' changes yet");
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Why a listening connection ended.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("connecting took longer than {} s", CONNECT_TIMEOUT.as_secs())]
    Timeout,
    #[error("the connection was closed")]
    Closed,
}

/// One listening connection, from connecting to its loss, telling `sinks`; how long it
/// listened, if it got that far.
async fn listen(
    options: &PgConnectOptions,
    sinks: &Sinks,
    again: bool,
) -> (Lost, Option<Duration>) {
    let connect = async {
        // A pool of one: PgListener needs a pool; this one is the listener's alone.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        // A lost connection is ours to handle: no reconnection behind our back.
        listener.eager_reconnect(false);
        listener.ignore_pool_close_event(true);
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut listener)
            .await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>((pool, listener, schema))
    };
    let (_pool, mut listener, schema) = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(e)) => return (Lost::Database(e), None),
        Err(_) => return (Lost::Timeout, None),
    };
    let since = std::time::Instant::now();
    sinks.pushed(true);
    if again {
        tracing::info!("listening again for other processes' changes");
    }
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Some(change) = parse(notification.payload(), &schema) {
                    sinks.changed(&change);
                }
            }
            Ok(None) => return (Lost::Closed, Some(since.elapsed())),
            Err(e) => return (Lost::Database(e), Some(since.elapsed())),
        }
    }
}

/// The change a payload announces, if it is of this store's `schema`. A payload this
/// binary cannot read (a newer trigger) is taken as a registry-wide change.
fn parse(payload: &str, schema: &str) -> Option<Change> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(payload) else {
        return Some(Change::Everything);
    };
    if value.get("schema").and_then(|s| s.as_str()) != Some(schema) {
        return None;
    }
    match value.get("contract").and_then(|c| c.as_str()) {
        Some(name) => Some(
            ContractName::parse(name)
                .map(Change::Contract)
                .unwrap_or(Change::Everything),
        ),
        None => Some(Change::Everything),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_a_contract_of_this_schema_or_everything() {
        let name = ContractName::parse("orders.placed").unwrap();
        assert_eq!(
            parse(
                r#"{"schema":"public","contract":"orders.placed"}"#,
                "public"
            ),
            Some(Change::Contract(name))
        );
        assert_eq!(
            parse(r#"{"schema":"other","contract":"orders.placed"}"#, "public"),
            None,
            "another registry's schema"
        );
        assert_eq!(
            parse(r#"{"schema":"public","all":true}"#, "public"),
            Some(Change::Everything)
        );
        assert_eq!(parse("not json", "public"), Some(Change::Everything));
    }
}
