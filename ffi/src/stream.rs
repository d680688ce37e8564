//! Streams: long work read one item at a time with `berth_stream_next`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_core::fs::Walker;

use crate::call::{c_string, call, out_arg, Failure, Outcome};
use crate::handle::{self, Kind, Object};
use crate::status::berth_status::{self, *};
use crate::types::berth_stream;

/// A source of stream items (JSON documents).
pub trait Source: Send {
    /// The next item, or `None` at the end. `timeout` bounds the wait where the source
    /// waits on something (a daemon); a walk never does.
    fn next(&mut self, timeout: Option<Duration>) -> berth_core::Result<Option<String>>;

    /// For walks: do not descend into the directory just returned.
    fn skip_dir(&mut self) -> berth_core::Result<()> {
        Err(berth_core::Error::invalid("skip_dir: this stream is not a walk"))
    }
}

pub struct Stream {
    source: Mutex<Box<dyn Source>>,
}

impl Stream {
    pub fn new(source: Box<dyn Source>) -> Arc<Stream> {
        Arc::new(Stream { source: Mutex::new(source) })
    }
}

/// A walk of a filesystem: each item is `{"path", "type", "mode", "uid", "gid", "size",
/// "link", "mtime", ...}`.
pub struct WalkSource(pub Walker);

impl Source for WalkSource {
    fn next(&mut self, _timeout: Option<Duration>) -> berth_core::Result<Option<String>> {
        match self.0.next() {
            None => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(entry)) => serde_json::to_string(&entry).map(Some).map_err(|e| berth_core::Error::internal(e.to_string())),
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
/// on BERTH_ERR_TIMEOUT the stream is still usable.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_stream_next(out: *mut *mut std::ffi::c_char, s: berth_stream, timeout_ms: i64) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let s = stream(s)?;
        let timeout = (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64));
        let item = lock(&s).next(timeout).map_err(Failure::from)?;
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

/// Closes a stream, cancelling its work.
#[no_mangle]
pub extern "C" fn berth_stream_close(s: berth_stream) -> berth_status {
    call(|| handle::remove(s.id, Kind::Stream).map(|()| BERTH_OK))
}
