//! The one internal async runtime that backends run their I/O on.
//!
//! A daemon connection's background tasks live here, never on a caller's runtime, so
//! any thread may wait for berth's I/O, including from a synchronous `read_at` called
//! inside another runtime, without deadlocking that runtime.

use std::future::Future;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use once_cell::sync::Lazy;

use crate::error::{Error, ErrorKind, Result};

static IO: Lazy<tokio::runtime::Runtime> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berth-io")
        .enable_all()
        .build()
        .expect("berth: cannot start the internal async runtime")
});

/// The runtime itself (for `spawn` and `Handle`).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    &IO
}

/// Runs `fut` on the I/O runtime and awaits it from any async context. Dropping the
/// await aborts the work: a caller that gives up (a closed stream, a timeout, a dropped
/// future) stops it, as if it had run in place. (A dropped `JoinHandle` alone would let
/// the task run on: a cancelled pull would still register its image afterwards.)
pub async fn run<T: Send + 'static>(fut: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    spawned(fut).await?
}

/// Runs `fut` as a task of the I/O runtime and awaits its output; dropping the await
/// aborts the task. Fails only when the task could not finish (it panicked, or the
/// runtime is shutting down).
pub async fn spawned<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> Result<T> {
    let mut task = AbortOnDrop(IO.spawn(fut));
    match (&mut task.0).await {
        Ok(output) => Ok(output),
        Err(e) if e.is_cancelled() => Err(Error::new(ErrorKind::Cancelled, "the operation was cancelled")),
        Err(e) => Err(Error::internal(format!("an internal task failed: {e}"))),
    }
}

/// Aborts its task when dropped (a no-op once the task is done).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `fut` on the I/O runtime and blocks the calling thread until it is done: the
/// one bridge from a blocking caller (the C ABI, the Python package, a `read_at` of a
/// daemon's blob) to berth's async code. Safe from any thread, including one that is
/// driving another runtime. `timeout` bounds the wait (`None`: as long as it takes);
/// when it passes first, the work is cancelled (its future is dropped inside the
/// runtime) and the call fails with Timeout.
pub fn block<T: Send + 'static>(
    fut: impl Future<Output = Result<T>> + Send + 'static,
    timeout: Option<Duration>,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = IO.spawn(async move {
        let _ = tx.send(fut.await);
    });
    let received = match timeout {
        Some(d) => rx.recv_timeout(d),
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    received.unwrap_or_else(|e| {
        task.abort();
        Err(match (e, timeout) {
            (RecvTimeoutError::Timeout, Some(d)) => {
                Error::new(ErrorKind::Timeout, format!("the call did not finish within {} ms", d.as_millis()))
            }
            _ => Error::internal("an internal task ended without a result"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// A caller that stops awaiting `run` stops the work: it does not go on in the
    /// background (it did, and a pull closed at once still registered its image).
    #[test]
    fn dropping_the_await_of_run_aborts_the_work() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let caller = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let gave_up = caller.block_on(async {
            let work = run(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                flag.store(true, Ordering::SeqCst);
                Ok(())
            });
            tokio::time::timeout(Duration::from_millis(30), work).await.is_err()
        });
        assert!(gave_up, "the work should outlast the caller's 30 ms");
        std::thread::sleep(Duration::from_millis(600));
        assert!(!finished.load(Ordering::SeqCst), "the work went on after its caller dropped it");
    }

    #[test]
    fn run_returns_the_work_s_result() {
        let caller = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        assert_eq!(caller.block_on(run(async { Ok(7) })).unwrap(), 7);
        let e = caller.block_on(run(async { Err::<(), _>(Error::internal("no")) })).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}
