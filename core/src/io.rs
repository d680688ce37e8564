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

/// Runs `fut` on the I/O runtime and awaits it from any async context.
pub async fn run<T: Send + 'static>(fut: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    match IO.spawn(fut).await {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => Err(Error::new(ErrorKind::Cancelled, "the operation was cancelled")),
        Err(e) => Err(Error::internal(format!("an internal task failed: {e}"))),
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
