//! Streams: long work read one item (a JSON document) at a time: a walk, pull and push
//! progress, events, logs, stats.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_core::fs::Walker;
use berth_core::{Error, ErrorKind};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::api::Pending;
use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};

/// A source of stream items (JSON documents).
pub(crate) trait Source: Send {
    /// The next item, or `None` at the end. `timeout` bounds the wait where the source
    /// waits on something (a daemon); a walk never does, and answers at once. `closed`
    /// turns true when the stream's handle is closed: a source that waits stops
    /// waiting then.
    fn next(&mut self, timeout: Option<Duration>, closed: watch::Receiver<bool>) -> Pending<Option<String>>;

    /// For walks: do not descend into the directory just returned.
    fn skip_dir(&mut self) -> berth_core::Result<()> {
        Err(berth_core::Error::invalid("skip_dir: this stream is not a walk"))
    }
}

/// A stream: what a stream handle names.
pub struct Stream {
    source: Mutex<Box<dyn Source>>,
    /// True once the handle is closed: wakes a `next` waiting in another thread, so
    /// closing cancels at once even then.
    closed: watch::Sender<bool>,
}

impl Castable for Stream {
    const KIND: u8 = 6;
    const NAME: &'static str = "stream";
    type Object = Arc<Stream>;
}

impl Stream {
    /// A new stream handle reading `source`.
    pub(crate) fn insert(source: impl Source + 'static) -> Outcome<Handle<Stream>> {
        Handle::insert(Arc::new(Stream { source: Mutex::new(Box::new(source)), closed: watch::Sender::new(false) }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Source>> {
        self.source.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Items that tasks on the internal runtime send down a channel (pull progress,
/// events). Dropping the source (closing the stream) aborts those tasks, which cancels
/// their work.
pub(crate) struct ChannelSource<T> {
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<berth_core::Result<T>>>>,
    tasks: Vec<AbortHandle>,
    ended: Arc<AtomicBool>,
}

impl<T> ChannelSource<T> {
    pub fn new(rx: mpsc::Receiver<berth_core::Result<T>>, tasks: Vec<AbortHandle>) -> ChannelSource<T> {
        ChannelSource { rx: Arc::new(tokio::sync::Mutex::new(rx)), tasks, ended: Arc::new(AtomicBool::new(false)) }
    }
}

impl<T> Drop for ChannelSource<T> {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl<T: Serialize + Send + 'static> Source for ChannelSource<T> {
    fn next(&mut self, timeout: Option<Duration>, mut closed: watch::Receiver<bool>) -> Pending<Option<String>> {
        if self.ended.load(Ordering::Acquire) {
            return Pending::ready(Ok(None));
        }
        let (rx, ended) = (self.rx.clone(), self.ended.clone());
        let work = async move {
            let closing = async move {
                // An error means the sender is gone: the stream is gone too.
                drop(closed.wait_for(|closed| *closed).await);
            };
            let expiry = async move {
                match timeout {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            // Receiving is cancel-safe: an item is either returned here or left queued.
            let received = async move { rx.lock().await.recv().await };
            let item = tokio::select! {
                biased;
                item = received => item,
                () = closing => {
                    return Err(Error::new(ErrorKind::Cancelled, "the stream was closed while waiting for its next item"))
                }
                () = expiry => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("no item within {} ms (the stream is still open)", timeout.unwrap_or_default().as_millis()),
                    ))
                }
            };
            match item {
                None => {
                    ended.store(true, Ordering::Release);
                    Ok(None)
                }
                Some(Ok(item)) => serde_json::to_string(&item).map(Some).map_err(|e| Error::internal(e.to_string())),
                // The work failed: this call reports it; the channel then closes, so the
                // next call returns the end.
                Some(Err(e)) => Err(e),
            }
        };
        Pending::new(async move { work.await.map_err(Failure::from) }, timeout)
    }
}

/// A walk of a filesystem: each item is `{"path", "type", "mode", "uid", "gid", "size",
/// "link", "mtime", ...}`. Read on the calling thread: a walk reads local data.
pub(crate) struct WalkSource(pub Walker);

impl Source for WalkSource {
    fn next(&mut self, _timeout: Option<Duration>, _closed: watch::Receiver<bool>) -> Pending<Option<String>> {
        Pending::ready(match self.0.next() {
            None => Ok(None),
            Some(Err(e)) => Err(e.into()),
            Some(Ok(entry)) => {
                serde_json::to_string(&entry).map(Some).map_err(|e| berth_core::Error::internal(e.to_string()).into())
            }
        })
    }

    fn skip_dir(&mut self) -> berth_core::Result<()> {
        self.0.skip_dir();
        Ok(())
    }
}

/// The next item of a stream (a JSON document), or `None` when the stream is done.
/// `timeout` (`None`: as long as it takes) bounds the wait: TIMEOUT leaves the stream
/// usable. An error of the stream's work is returned once, then the end. A wait when
/// another thread closes the stream ends with CANCELLED.
pub fn next(s: Handle<Stream>, timeout: Option<Duration>) -> Pending<Option<String>> {
    Pending::start(|| {
        let s = s.get()?;
        let closed = s.closed.subscribe();
        let next = s.lock().next(timeout, closed);
        Ok(next)
    })
}

/// For a walk: do not descend into the directory the last `next` returned.
pub fn skip_dir(s: Handle<Stream>) -> Outcome<()> {
    Ok(s.get()?.lock().skip_dir()?)
}

/// Closes a stream, cancelling its work; a `next` waiting in another thread ends with
/// CANCELLED.
pub fn close(s: Handle<Stream>) -> Outcome<()> {
    s.take()?.closed.send_replace(true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> (mpsc::Sender<berth_core::Result<serde_json::Value>>, ChannelSource<serde_json::Value>) {
        let (tx, rx) = mpsc::channel(4);
        (tx, ChannelSource::new(rx, Vec::new()))
    }

    fn kind(r: Outcome<Option<String>>) -> crate::status::berth_status {
        r.expect_err("a failure").status
    }

    #[test]
    fn a_timeout_leaves_the_stream_usable_and_loses_nothing() {
        use crate::status::berth_status::*;
        let (tx, mut src) = source();
        let (_closed_tx, closed) = watch::channel(false);
        assert_eq!(kind(src.next(Some(Duration::from_millis(20)), closed.clone()).wait()), BERTH_ERR_TIMEOUT);
        assert_eq!(kind(src.next(Some(Duration::ZERO), closed.clone()).wait()), BERTH_ERR_TIMEOUT);
        tx.try_send(Ok(serde_json::json!({"n": 1}))).unwrap();
        let item = src.next(Some(Duration::ZERO), closed.clone()).wait().unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(item.as_deref(), Some(r#"{"n":1}"#));
        // An error is returned once; when the sender is gone, the end, for good.
        tx.try_send(Err(berth_core::Error::not_found("gone"))).unwrap();
        drop(tx);
        assert_eq!(kind(src.next(None, closed.clone()).wait()), BERTH_ERR_NOT_FOUND);
        assert_eq!(src.next(None, closed.clone()).wait().ok(), Some(None));
        assert_eq!(src.next(Some(Duration::ZERO), closed).wait().ok(), Some(None));
    }

    #[test]
    fn closing_wakes_a_waiting_reader() {
        let (_tx, mut src) = source();
        let (closed_tx, closed) = watch::channel(false);
        let t = std::thread::spawn(move || kind(src.next(None, closed).wait()));
        std::thread::sleep(Duration::from_millis(50));
        closed_tx.send_replace(true);
        assert_eq!(t.join().unwrap(), crate::status::berth_status::BERTH_ERR_CANCELLED);
    }

    #[test]
    fn dropping_the_source_aborts_its_tasks() {
        let (tx, rx) = mpsc::channel::<berth_core::Result<serde_json::Value>>(1);
        let task = berth_core::io::runtime().spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(tx);
        });
        let abort = task.abort_handle();
        drop(ChannelSource::new(rx, vec![abort]));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        berth_core::io::runtime().spawn(async move {
            let _ = done_tx.send(task.await.unwrap_err().is_cancelled());
        });
        assert!(done_rx.recv_timeout(Duration::from_secs(10)).unwrap());
    }
}
