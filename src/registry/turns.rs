//! Registrations to one contract take turns within this process.
//!
//! A registration checks compatibility before it takes the store's write lock, then
//! confirms under the lock that the contract has not moved (see `register.rs`). Two
//! registrations to one contract running their checks side by side would only make
//! one of them check again, so they queue here instead, one contract at a time;
//! registrations to different contracts never wait for each other. (Across processes
//! the revision check under the store's lock keeps them apart.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::domain::ContractName;

/// One queue per contract that has a registration running or waiting; a contract's
/// entry goes away with its last registration, so the map holds no more entries than
/// there are registrations in flight.
#[derive(Default)]
pub(crate) struct Turns {
    queues: Mutex<HashMap<ContractName, Arc<AsyncMutex<()>>>>,
}

/// A registration's turn on its contract, held until dropped.
pub(crate) struct Turn<'a> {
    turns: &'a Turns,
    name: ContractName,
    queue: Option<Arc<AsyncMutex<()>>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits for `name`'s turn. Cancelling the wait (dropping the future) leaves the
    /// queue as if it had never been joined.
    pub(crate) async fn take(&self, name: &ContractName) -> Turn<'_> {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(queues.entry(name.clone()).or_default())
        };
        // The turn exists before the wait, so its `Drop` cleans up a cancelled wait too.
        let mut turn = Turn {
            turns: self,
            name: name.clone(),
            queue: Some(Arc::clone(&queue)),
            guard: None,
        };
        turn.guard = Some(queue.lock_owned().await);
        turn
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.queues.lock().map(|q| q.len()).unwrap_or(0)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.guard = None;
        self.queue = None;
        let mut queues = self.turns.queues.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map holds the queue: nobody holds or waits for this contract's turn
        // (waiters clone the queue under this same map lock).
        if queues
            .get(&self.name)
            .is_some_and(|q| Arc::strong_count(q) == 1)
        {
            queues.remove(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn name(n: &str) -> ContractName {
        ContractName::parse(n).unwrap()
    }

    #[tokio::test]
    async fn one_contract_takes_turns_and_others_do_not_wait() {
        let turns = Turns::default();
        let first = turns.take(&name("a.one")).await;
        // Another contract's turn is free at once.
        let other = tokio::time::timeout(Duration::from_secs(5), turns.take(&name("a.two")))
            .await
            .expect("another contract does not wait");
        drop(other);
        // The same contract's turn is not free while the first is held.
        let one = name("a.one");
        let mut second = Box::pin(turns.take(&one));
        assert!(futures_poll_once(second.as_mut()).await.is_none());
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second registration gets its turn");
    }

    #[tokio::test]
    async fn the_map_forgets_a_contract_once_nobody_holds_or_waits_for_it() {
        let turns = Turns::default();
        let one = name("a.one");
        let held = turns.take(&one).await;
        let mut waiting = Box::pin(turns.take(&one));
        assert!(futures_poll_once(waiting.as_mut()).await.is_none());
        // A cancelled wait and then the holder's release leave nothing behind.
        drop(waiting);
        drop(held);
        assert_eq!(turns.len(), 0);
    }

    /// Polls a future once: `Some` with its output when it is ready.
    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(out) => Some(out),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
