//! The bound on compatibility checks: at most [`Limits::max_concurrent_checks`] run at
//! once (one per core by default), at most [`Limits::max_queued_checks`] more wait for
//! their turn in arrival order, and a check beyond that is refused at once with
//! [`RegistryError::Saturated`] (the HTTP layer answers 503 with `Retry-After`).
//!
//! The engine is CPU work on the blocking pool, and a hostile pair of schemas can keep a
//! core busy up to the engine's budget; without this bound twenty such dry runs at once
//! ran twenty engines side by side and exhausted the memory. Every use case that runs
//! the engine (registration, dry run, diff, the Confluent checks) goes through
//! [`Checks::run`]. The permit travels with the blocking task: a request abandoned at
//! its deadline keeps its engine counted until the engine has actually stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use super::RegistryError;
use crate::limits::Limits;

/// Runs compatibility checks under the bound.
#[derive(Debug)]
pub(crate) struct Checks {
    running: Arc<Semaphore>,
    max_running: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Leaves the waiting line when dropped (also when the waiting request is abandoned).
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Checks {
    /// The bound `limits` sets (one running check per core when not given).
    pub(crate) fn new(limits: &Limits) -> Self {
        let max_running = limits.max_concurrent_checks.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n.get(),
        );
        Self {
            running: Arc::new(Semaphore::new(max_running)),
            max_running,
            waiting: AtomicUsize::new(0),
            max_waiting: limits.max_queued_checks,
        }
    }

    /// Runs `check` on the blocking pool once it is its turn, or refuses it when the
    /// waiting line is full.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RegistryError> {
        // `try_acquire` never overtakes a waiting check: a released permit goes to the
        // first in line.
        let permit = match Arc::clone(&self.running).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
                let _in_line = InLine(&self.waiting);
                if ahead >= self.max_waiting {
                    return Err(RegistryError::Saturated {
                        running: self.max_running,
                        waiting: self.max_waiting,
                    });
                }
                Arc::clone(&self.running)
                    .acquire_owned()
                    .await
                    .map_err(|e| RegistryError::Internal(e.to_string()))?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            check()
        })
        .await
        .map_err(|e| RegistryError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;
    use std::sync::mpsc;

    use super::*;

    fn checks(running: usize, waiting: usize) -> Arc<Checks> {
        Arc::new(Checks::new(&Limits {
            max_concurrent_checks: NonZeroUsize::new(running),
            max_queued_checks: waiting,
            ..Limits::default()
        }))
    }

    /// Starts a check that blocks until told to finish; returns once it runs.
    async fn blocking(
        checks: &Arc<Checks>,
    ) -> (
        tokio::task::JoinHandle<Result<(), RegistryError>>,
        mpsc::Sender<()>,
    ) {
        let (finish, finished) = mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let c = Arc::clone(checks);
        let task = tokio::spawn(async move {
            c.run(move || {
                let _ = started.send(());
                let _ = finished.recv();
            })
            .await
        });
        running.await.expect("the check started");
        (task, finish)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_running_checks_and_the_waiting_line_a_check_is_refused() {
        let checks = checks(1, 1);
        let (first, finish) = blocking(&checks).await;
        let c = Arc::clone(&checks);
        let waiting = tokio::spawn(async move { c.run(|| 42).await });
        while checks.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        let refused = checks.run(|| 0).await;
        assert!(
            matches!(
                refused,
                Err(RegistryError::Saturated {
                    running: 1,
                    waiting: 1
                })
            ),
            "{refused:?}"
        );
        finish.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 42);
        assert_eq!(checks.run(|| 7).await.unwrap(), 7, "room again");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_waiting_check_leaves_the_line() {
        let checks = checks(1, 1);
        let (first, finish) = blocking(&checks).await;
        let c = Arc::clone(&checks);
        let waiting = tokio::spawn(async move { c.run(|| ()).await });
        while checks.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(checks.waiting.load(Ordering::Acquire), 0);
        finish.send(()).unwrap();
        first.await.unwrap().unwrap();
    }
}
