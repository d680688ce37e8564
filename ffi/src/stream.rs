//! Streams: long work read one item at a time with `berth_stream_next`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_core::fs::Walker;
use berth_core::{Error, ErrorKind};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::call::{c_string, call, out_arg, Failure, Outcome};
use crate::handle::{self, Kind, Object};
use crate::runtime::{timeout_arg, wait, Waited};
use crate::status::berth_status::{self, *};
use crate::types::berth_stream;

/// A source of stream items (JSON documents).
pub(crate) trait Source: Send {
    /// The next item, or `None` at the end. `timeout` bounds the wait where the source
    /// waits on something (a daemon); a walk never does. `closed` turns true when the
    /// stream's handle is closed: a source that waits stops waiting then.
    fn next(&mut self, timeout: Option<Duration>, closed: &watch::Receiver<bool>)
        -> berth_core::Result<Option<String>>;

    /// For walks: do not descend into the directory just returned.
    fn skip_dir(&mut self) -> berth_core::Result<()> {
        Err(berth_core::Error::invalid("skip_dir: this stream is not a walk"))
    }
}

pub(crate) struct Stream {
    source: Mutex<Box<dyn Source>>,
    /// True once the handle is closed: wakes a `berth_stream_next` waiting in another
    /// thread, so closing cancels at once even then.
    closed: watch::Sender<bool>,
}

impl Stream {
    pub fn new(source: Box<dyn Source>) -> Arc<Stream> {
        Arc::new(Stream { source: Mutex::new(source), closed: watch::Sender::new(false) })
    }
}

/// Items that tasks on the internal runtime send down a channel (pull progress,
/// events). Dropping the source (closing the stream) aborts those tasks, which cancels
/// their work.
pub(crate) struct ChannelSource<T> {
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<berth_core::Result<T>>>>,
    tasks: Vec<AbortHandle>,
    ended: bool,
}

impl<T> ChannelSource<T> {
    pub fn new(rx: mpsc::Receiver<berth_core::Result<T>>, tasks: Vec<AbortHandle>) -> ChannelSource<T> {
        ChannelSource { rx: Arc::new(tokio::sync::Mutex::new(rx)), tasks, ended: false }
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
    fn next(
        &mut self,
        timeout: Option<Duration>,
        closed: &watch::Receiver<bool>,
    ) -> berth_core::Result<Option<String>> {
        if self.ended {
            return Ok(None);
        }
        let rx = self.rx.clone();
        // Receiving is cancel-safe: an item is either returned here or left queued.
        match wait(async move { rx.lock().await.recv().await }, timeout, Some(closed.clone())) {
            Waited::Done(None) => {
                self.ended = true;
                Ok(None)
            }
            Waited::Done(Some(Ok(item))) => {
                serde_json::to_string(&item).map(Some).map_err(|e| Error::internal(e.to_string()))
            }
            // The work failed: this call reports it; the channel then closes, so the
            // next call returns the end.
            Waited::Done(Some(Err(e))) => Err(e),
            Waited::TimedOut => Err(Error::new(
                ErrorKind::Timeout,
                format!("no item within {} ms (the stream is still open)", timeout.unwrap_or_default().as_millis()),
            )),
            Waited::Closed => {
                Err(Error::new(ErrorKind::Cancelled, "the stream was closed while waiting for its next item"))
            }
        }
    }
}

/// A walk of a filesystem: each item is `{"path", "type", "mode", "uid", "gid", "size",
/// "link", "mtime", ...}`.
pub(crate) struct WalkSource(pub Walker);

impl Source for WalkSource {
    fn next(
        &mut self,
        _timeout: Option<Duration>,
        _closed: &watch::Receiver<bool>,
    ) -> berth_core::Result<Option<String>> {
        match self.0.next() {
            None => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(entry)) => {
                serde_json::to_string(&entry).map(Some).map_err(|e| berth_core::Error::internal(e.to_string()))
            }
        }
    }

    fn skip_dir(&mut self) -> berth_core::Result<()> {
        self.0.skip_dir();
        Ok(())
    }
}

fn stream(h: berth_stream) -> Outcome<Arc<Stream>> {
    match handle::get(h.id, Kind::Stream)? {
        Object::Stream(s) => Ok(s),
        _ => unreachable!("the table checks kinds"),
    }
}

fn lock(s: &Stream) -> std::sync::MutexGuard<'_, Box<dyn Source>> {
    s.source.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads the next item of a stream as a JSON document into `*out` (freed with
/// `berth_string_free`). Returns BERTH_OK with an item, BERTH_END (and `*out` NULL)
/// when the stream is done, or an error. `timeout_ms` < 0 waits as long as it takes;
/// on BERTH_ERR_TIMEOUT nothing came in time and the stream is still usable. An error
/// of the stream's work (a failed pull) is returned once, by the call that meets it;
/// the calls after it return BERTH_END. A call waiting while another thread closes
/// the stream returns BERTH_ERR_CANCELLED.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_stream_next(
    out: *mut *mut std::ffi::c_char,
    s: berth_stream,
    timeout_ms: i64,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let s = stream(s)?;
        let closed = s.closed.subscribe();
        let item = lock(&s).next(timeout_arg(timeout_ms), &closed).map_err(Failure::from)?;
        match item {
            Some(json) => {
                *out = c_string(json);
                Ok(BERTH_OK)
            }
            None => Ok(BERTH_END),
        }
    })
}

/// For a walk stream: do not descend into the directory the last `berth_stream_next`
/// returned. Errors: INVALID_ARGUMENT for a stream that is not a walk.
#[no_mangle]
pub extern "C" fn berth_stream_skip_dir(s: berth_stream) -> berth_status {
    call(|| {
        let s = stream(s)?;
        lock(&s).skip_dir()?;
        Ok(BERTH_OK)
    })
}

/// Closes a stream, cancelling its work (a pull stops; an event subscription ends). A
/// `berth_stream_next` waiting in another thread returns BERTH_ERR_CANCELLED.
#[no_mangle]
pub extern "C" fn berth_stream_close(s: berth_stream) -> berth_status {
    call(|| {
        if let Object::Stream(s) = handle::take(s.id, Kind::Stream)? {
            s.closed.send_replace(true);
        }
        Ok(BERTH_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> (mpsc::Sender<berth_core::Result<serde_json::Value>>, ChannelSource<serde_json::Value>) {
        let (tx, rx) = mpsc::channel(4);
        (tx, ChannelSource::new(rx, Vec::new()))
    }

    #[test]
    fn a_timeout_leaves_the_stream_usable_and_loses_nothing() {
        let (tx, mut src) = source();
        let (_closed_tx, closed) = watch::channel(false);
        let e = src.next(Some(Duration::from_millis(20)), &closed).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(src.next(Some(Duration::ZERO), &closed).unwrap_err().kind(), ErrorKind::Timeout);
        tx.try_send(Ok(serde_json::json!({"n": 1}))).unwrap();
        assert_eq!(src.next(Some(Duration::ZERO), &closed).unwrap().as_deref(), Some(r#"{"n":1}"#));
        // An error is returned once; when the sender is gone, the end, for good.
        tx.try_send(Err(berth_core::Error::not_found("gone"))).unwrap();
        drop(tx);
        assert_eq!(src.next(None, &closed).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(src.next(None, &closed).unwrap(), None);
        assert_eq!(src.next(Some(Duration::ZERO), &closed).unwrap(), None);
    }

    #[test]
    fn closing_wakes_a_waiting_reader() {
        let (_tx, mut src) = source();
        let (closed_tx, closed) = watch::channel(false);
        let t = std::thread::spawn(move || src.next(None, &closed).unwrap_err().kind());
        std::thread::sleep(Duration::from_millis(50));
        closed_tx.send_replace(true);
        assert_eq!(t.join().unwrap(), ErrorKind::Cancelled);
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
