//! [`Pending`]: an operation that runs on berth's I/O runtime, awaited by an async
//! binding or waited for by a blocking one.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use berth_core::{Error, ErrorKind};

use crate::failure::{Failure, Outcome};

/// How long a blocked caller waits beyond an operation's own timeout before it gives up
/// on the I/O runtime itself (a backstop: the operation's timeout fires first).
const BACKSTOP: Duration = Duration::from_secs(5);

type Work<T> = Pin<Box<dyn Future<Output = Outcome<T>> + Send + 'static>>;

/// An operation that was checked and started. `.await` it (it is a `Send` future; its
/// work runs on berth's I/O runtime whatever runtime awaits it, and dropping the
/// await cancels it), or block on it with [`Pending::wait`].
#[must_use = "an operation does nothing until it is awaited or waited for"]
pub struct Pending<T> {
    state: State<T>,
}

enum State<T> {
    /// Decided when the call was made: a refused argument or handle, or a result that
    /// needed no waiting (the next item of a walk).
    Ready(Outcome<T>),
    /// Work for the I/O runtime, bounded by `timeout` (`None`: none).
    Running { work: Work<T>, timeout: Option<Duration> },
}

impl<T: Send + 'static> Pending<T> {
    /// An operation already decided.
    pub fn ready(result: Outcome<T>) -> Pending<T> {
        Pending { state: State::Ready(result) }
    }

    /// Work that bounds itself by `timeout` (with the message its operation gives).
    pub(crate) fn new(
        work: impl Future<Output = Outcome<T>> + Send + 'static,
        timeout: Option<Duration>,
    ) -> Pending<T> {
        Pending { state: State::Running { work: Box::pin(work), timeout } }
    }

    /// A core call bounded by `timeout`: past it the call fails with TIMEOUT (and its
    /// future is dropped, which cancels it).
    pub(crate) fn core(
        work: impl Future<Output = berth_core::Result<T>> + Send + 'static,
        timeout: Option<Duration>,
    ) -> Pending<T> {
        Pending::new(timed(work, timeout), timeout)
    }

    /// Runs `start` (the checks and lookups of an operation) and the operation it
    /// returns; a failure of `start` is the operation's result.
    pub(crate) fn start(start: impl FnOnce() -> Outcome<Pending<T>>) -> Pending<T> {
        start().unwrap_or_else(|f| Pending::ready(Err(f)))
    }

    /// Another result from the same operation: `then` runs on the result, on the I/O
    /// runtime (or at once when the operation is already decided).
    pub(crate) fn then<U: Send + 'static>(self, then: impl FnOnce(T) -> Outcome<U> + Send + 'static) -> Pending<U> {
        match self.state {
            State::Ready(r) => Pending::ready(r.and_then(then)),
            State::Running { work, timeout } => Pending::new(async move { then(work.await?) }, timeout),
        }
    }

    /// Blocks the calling thread until the operation is done: the one blocking bridge
    /// (`berth_core::io::block`), which any thread may cross, even one driving another
    /// async runtime. Waits at most the operation's timeout and a backstop beyond it.
    pub fn wait(self) -> Outcome<T> {
        match self.state {
            State::Ready(r) => r,
            State::Running { work, timeout } => {
                let limit = timeout.map(|d| d.saturating_add(BACKSTOP));
                berth_core::io::block(async move { Ok(work.await) }, limit).map_err(Failure::from)?
            }
        }
    }
}

impl<T: Send + 'static> IntoFuture for Pending<T> {
    type Output = Outcome<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Outcome<T>> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        match self.state {
            State::Ready(r) => Box::pin(std::future::ready(r)),
            State::Running { work, .. } => Box::pin(async move {
                // On berth's I/O runtime, where the daemon clients live, whichever
                // runtime awaits; dropping the await aborts it.
                berth_core::io::spawned(work).await.map_err(Failure::from)?
            }),
        }
    }
}

/// `work` bounded by `timeout`: past it, TIMEOUT ("the call did not finish within N ms")
/// and the work is dropped.
pub(crate) async fn timed<T>(
    work: impl Future<Output = berth_core::Result<T>>,
    timeout: Option<Duration>,
) -> Outcome<T> {
    let result = match timeout {
        Some(d) => tokio::time::timeout(d, work).await.unwrap_or_else(|_| {
            Err(Error::new(ErrorKind::Timeout, format!("the call did not finish within {} ms", d.as_millis())))
        }),
        None => work.await,
    };
    result.map_err(Failure::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::stream::{self, ChannelSource, Stream};

    fn send<T: Send + 'static>(t: T) -> T {
        t
    }

    #[test]
    fn another_runtime_awaits_an_operation_as_a_send_future() {
        let (tx, rx) = tokio::sync::mpsc::channel::<berth_core::Result<serde_json::Value>>(1);
        let s = Stream::insert(ChannelSource::new(rx, Vec::new())).unwrap_or_else(|f| panic!("{}", f.message));
        // A binding's own runtime (Node's, say): the future is Send, and its work runs on
        // berth's I/O runtime, so a runtime without I/O or timers of its own can await it.
        let theirs = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let next = send(stream::next(s, Some(Duration::from_secs(10))).into_future());
        tx.try_send(Ok(serde_json::json!({"n": 1}))).expect("queued");
        let item = theirs.block_on(next).unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(item.as_deref(), Some(r#"{"n":1}"#));
        drop(tx);
        assert_eq!(theirs.block_on(stream::next(s, None).into_future()).ok(), Some(None));
        assert!(stream::close(s).is_ok());
    }

    #[test]
    fn a_dead_handle_is_the_operations_failure() {
        let f = crate::api::runtime::list_images(crate::api::Handle::from_id(0)).wait().expect_err("a zero handle");
        assert_eq!(f.status, crate::status::berth_status::BERTH_ERR_INVALID_HANDLE);
    }
}
