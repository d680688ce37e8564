//! Execs: a process started in a running container, or the container's init process
//! attached to. Write its stdin, read its output and exit, resize its tty, signal it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::ExecSession;
use tokio::sync::watch;

pub use berth_core::container::{ExecEvent, ExitStatus, OutputStream};

use crate::api::args::signal;
use crate::api::Pending;
use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};
use crate::status::berth_status::{BERTH_ERR_CANCELLED, BERTH_ERR_INVALID_ARGUMENT, BERTH_ERR_TIMEOUT};

/// A running exec: the session, the runtime's timeout for its calls, and whether its
/// exit was already handed out. What an exec handle names.
pub struct Exec {
    session: Arc<dyn ExecSession>,
    timeout: Option<Duration>,
    exited: AtomicBool,
    /// True once the handle is closed: wakes a `next` waiting in another thread.
    closed: watch::Sender<bool>,
}

impl Castable for Exec {
    const KIND: u8 = 11;
    const NAME: &'static str = "exec";
    type Object = Arc<Exec>;
}

impl Exec {
    /// A new exec handle for a session (of a container's exec or attach).
    pub(crate) fn insert(session: Arc<dyn ExecSession>, timeout: Option<Duration>) -> Outcome<Handle<Exec>> {
        let e = Exec { session, timeout, exited: AtomicBool::new(false), closed: watch::Sender::new(false) };
        Handle::insert(Arc::new(e))
    }
}

/// A session call on the exec of `e` with the runtime's timeout.
fn action<F, Fut>(e: Handle<Exec>, f: F) -> Pending<()>
where
    F: FnOnce(Arc<dyn ExecSession>) -> Fut,
    Fut: std::future::Future<Output = berth_core::Result<()>> + Send + 'static,
{
    Pending::start(|| {
        let o = e.get()?;
        Ok(Pending::core(f(o.session.clone()), o.timeout))
    })
}

/// Writes `data` to the process's stdin (waiting while the pipe is full, up to the
/// runtime's timeout).
pub fn write_stdin(e: Handle<Exec>, data: Vec<u8>) -> Pending<()> {
    action(e, |s| async move { s.write_stdin(&data).await })
}

/// Closes the process's stdin: it reads EOF once it has read what was written.
pub fn close_stdin(e: Handle<Exec>) -> Pending<()> {
    action(e, |s| async move { s.close_stdin().await })
}

/// The next event of the process: output, then its exit after all its output, then
/// `None`. When the events end without an exit (the daemon went away), that call fails
/// once with the reason (UNAVAILABLE), and the calls after return `None`. `timeout`
/// (`None`: as long as it takes) bounds the wait: TIMEOUT leaves the exec usable. A
/// wait when another thread closes the handle ends with CANCELLED.
pub fn next(e: Handle<Exec>, timeout: Option<Duration>) -> Pending<Option<ExecEvent>> {
    Pending::start(|| {
        let o = e.get()?;
        if o.exited.load(Ordering::Acquire) {
            return Ok(Pending::ready(Ok(None)));
        }
        let mut closed = o.closed.subscribe();
        let work = async move {
            let closing = async move {
                // An error means the sender is gone: the exec is gone too.
                drop(closed.wait_for(|closed| *closed).await);
            };
            let expiry = async move {
                match timeout {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let session = o.session.clone();
            // `next_event` is cancel-safe (a channel receive): a timeout loses nothing.
            let event = tokio::select! {
                biased;
                event = async move { session.next_event().await } => event,
                () = closing => {
                    return Err(Failure::new(
                        BERTH_ERR_CANCELLED,
                        "exec: the handle was closed while waiting for its next event",
                    ))
                }
                () = expiry => {
                    return Err(Failure::new(
                        BERTH_ERR_TIMEOUT,
                        format!(
                            "exec: no output or exit within {} ms (the exec is still usable)",
                            timeout.unwrap_or_default().as_millis()
                        ),
                    ))
                }
            };
            match event {
                Some(ExecEvent::Exit(status)) => {
                    o.exited.store(true, Ordering::Release);
                    Ok(Some(ExecEvent::Exit(status)))
                }
                Some(output) => Ok(Some(output)),
                None => {
                    o.exited.store(true, Ordering::Release);
                    // Events that end without an exit say why once (the daemon went
                    // away: UNAVAILABLE); the calls after return the end.
                    match o.session.failure() {
                        Some(e) => Err(Failure::from(e)),
                        None => Ok(None),
                    }
                }
            }
        };
        Ok(Pending::new(work, timeout))
    })
}

/// Resizes the process's terminal to `width` columns and `height` rows.
pub fn resize(e: Handle<Exec>, width: u32, height: u32) -> Pending<()> {
    Pending::start(|| {
        if width == 0 || height == 0 {
            return Err(Failure::new(
                BERTH_ERR_INVALID_ARGUMENT,
                format!("resize to {width}x{height}: both must be at least 1"),
            ));
        }
        Ok(action(e, move |s| async move { s.resize(width, height).await }))
    })
}

/// Sends `signal` (1 to 64) to the process.
pub fn kill(e: Handle<Exec>, signal: i32) -> Pending<()> {
    Pending::start(|| {
        let signal = self::signal(signal)?;
        Ok(action(e, move |s| async move { s.kill(signal).await }))
    })
}

/// Closes an exec handle. The process is not killed; a `next` waiting in another
/// thread ends with CANCELLED.
pub fn close(e: Handle<Exec>) -> Outcome<()> {
    e.take()?.closed.send_replace(true);
    Ok(())
}
