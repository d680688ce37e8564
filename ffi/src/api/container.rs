//! Containers of a daemon runtime: their lifecycle, what they hold, and what they give
//! (a log, resource use, their filesystem, an image of them). Execs are in `exec`.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{
    Change, CommitOptions, ContainerInfo, ExecOptions, ExecOutput, LogChunk, LogOptions, OutputStream, Resources,
};
use berth_core::fs::FileSystem;
use berth_core::model::ProcessInfo;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::api::args::{name, signal};
use crate::api::exec::Exec;
use crate::api::fs::Fs;
use crate::api::stream::{ChannelSource, Stream};
use crate::api::{Held, Pending};
use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};

/// How long stop may take beyond its grace period: the SIGKILL and the wait for it.
pub(crate) const STOP_MARGIN: Duration = Duration::from_secs(15);

/// A container with the timeout of the runtime it came from: what a container handle
/// names.
pub struct Container {
    c: Arc<dyn berth_core::container::Container>,
    timeout: Option<Duration>,
}

impl Castable for Container {
    const KIND: u8 = 7;
    const NAME: &'static str = "container";
    type Object = Arc<Container>;
}

impl Container {
    /// A new container handle (for the runtime's create and open).
    pub(crate) fn insert(
        c: Arc<dyn berth_core::container::Container>,
        timeout: Option<Duration>,
    ) -> Outcome<Handle<Container>> {
        Handle::insert(Arc::new(Container { c, timeout }))
    }

    /// A core call on this container, bounded by `timeout`.
    fn call<T, F, Fut>(&self, timeout: Option<Duration>, f: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn berth_core::container::Container>) -> Fut,
        Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
    {
        Pending::core(f(self.c.clone()), timeout)
    }
}

/// Checks `c` and runs `op` on its container; a dead handle is the operation's failure.
fn with<T: Send + 'static>(c: Handle<Container>, op: impl FnOnce(&Container) -> Pending<T>) -> Pending<T> {
    Pending::start(|| Ok(op(&*c.get()?)))
}

/// A core call on the container of `c` with the runtime's timeout.
fn action<T, F, Fut>(c: Handle<Container>, f: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn berth_core::container::Container>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    with(c, |o| o.call(o.timeout, f))
}

/// Closes a container handle; the container is left as it is.
pub fn close(c: Handle<Container>) -> Outcome<()> {
    c.remove()
}

/// The container's ID (on containerd, its name). Asks nothing of the daemon.
pub fn id(c: Handle<Container>) -> Outcome<Held<Arc<Container>>> {
    Ok(Held::new(c.get()?, |o| o.c.id()))
}

/// The container's inspect document.
pub fn inspect(c: Handle<Container>) -> Pending<ContainerInfo> {
    action(c, |c| async move { c.inspect().await })
}

/// Starts the container's init process.
pub fn start(c: Handle<Container>) -> Pending<()> {
    action(c, |c| async move { c.start().await })
}

/// Stops the container: SIGTERM, then SIGKILL once `grace` passed; the exit code. May
/// take `grace` plus the runtime's timeout.
pub fn stop(c: Handle<Container>, grace: Duration) -> Pending<i32> {
    with(c, |o| {
        let limit = o.timeout.map(|t| t.saturating_add(grace).saturating_add(STOP_MARGIN));
        o.call(limit, |c| async move { Ok(c.stop(grace).await?.exit_code) })
    })
}

/// Sends `signal` (1 to 64) to the container's init process.
pub fn kill(c: Handle<Container>, signal: i32) -> Pending<()> {
    Pending::start(|| {
        let signal = self::signal(signal)?;
        Ok(action(c, |c| async move { c.kill(signal).await }))
    })
}

/// Freezes every process of the container.
pub fn pause(c: Handle<Container>) -> Pending<()> {
    action(c, |c| async move { c.pause().await })
}

/// Thaws a paused container.
pub fn resume(c: Handle<Container>) -> Pending<()> {
    action(c, |c| async move { c.resume().await })
}

/// Deletes the container; a running one needs `force`.
pub fn delete(c: Handle<Container>, force: bool) -> Pending<()> {
    action(c, move |c| async move { c.delete(force).await })
}

/// Waits for the init process to exit; its exit code. `timeout` (`None`: as long as it
/// takes) replaces the runtime's: when it passes first, TIMEOUT, and the container runs
/// on.
pub fn wait(c: Handle<Container>, timeout: Option<Duration>) -> Pending<i32> {
    with(c, |o| o.call(timeout, |c| async move { Ok(c.wait().await?.exit_code) }))
}

/// Changes the resource limits of the running container.
pub fn update_resources(c: Handle<Container>, resources: Resources) -> Pending<()> {
    action(c, |c| async move { c.update_resources(resources).await })
}

/// The container's processes, read from the host's /proc.
pub fn processes(c: Handle<Container>) -> Pending<Vec<ProcessInfo>> {
    action(c, |c| async move { c.processes().await })
}

/// The container's root filesystem, read-only, as it is now.
pub fn filesystem(c: Handle<Container>) -> Pending<Handle<Fs>> {
    action(c, |c| async move { c.filesystem().await }).then(|fs: Arc<dyn FileSystem>| Handle::insert(fs))
}

/// What the container changed relative to its image, sorted by path.
pub fn changes(c: Handle<Container>) -> Pending<Vec<Change>> {
    action(c, |c| async move { c.changes().await })
}

/// Checks exec options: a program must be named.
pub(crate) fn exec_options(options: &ExecOptions) -> Outcome<()> {
    if options.args.is_empty() {
        return Err(Failure::invalid("options_json: `args` is empty (name the program to run)"));
    }
    Ok(())
}

/// Runs a process in the running container to its end and collects its output.
/// `stdin` is written to its stdin, which is then closed (`None`: no stdin at all;
/// an empty one reads EOF at once). `timeout` (`None`: as long as it takes) kills the
/// process when it passes first, and the call fails with TIMEOUT. A non-zero exit code
/// is not an error.
pub fn exec_output(
    c: Handle<Container>,
    options: ExecOptions,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
) -> Pending<ExecOutput> {
    Pending::start(|| {
        exec_options(&options)?;
        Ok(with(c, |o| {
            // The exec's own timeout kills the process; the call's limit is later, as a
            // backstop for a daemon that does not answer.
            let backstop = timeout.map(|d| d.saturating_add(o.timeout.unwrap_or(Duration::from_secs(30))));
            o.call(backstop, move |c| async move { c.exec_output(options, stdin, timeout).await })
        }))
    })
}

/// Starts a process in the running container and returns at once with its exec handle.
pub fn exec(c: Handle<Container>, options: ExecOptions) -> Pending<Handle<Exec>> {
    Pending::start(|| {
        exec_options(&options)?;
        Ok(with(c, |o| {
            let timeout = o.timeout;
            o.call(timeout, |c| async move { c.exec(options).await }).then(move |s| Exec::insert(s, timeout))
        }))
    })
}

/// Attaches to the container's init process: its output from now on and its exit, as
/// an exec handle (closing it detaches).
pub fn attach(c: Handle<Container>) -> Pending<Handle<Exec>> {
    with(c, |o| {
        let timeout = o.timeout;
        o.call(timeout, |c| async move {
            berth_core::need(c.attacher(), c.kind(), "attaching to a container")?.attach().await
        })
        .then(move |s| Exec::insert(s, timeout))
    })
}

/// One item of a log stream: the stream the bytes came from (`stdout` or `stderr`, as
/// the exec events say it), and the bytes, which need not be UTF-8, in base64.
#[derive(Serialize)]
struct LogItem {
    stream: OutputStream,
    data_base64: String,
}

impl From<LogChunk> for LogItem {
    fn from(c: LogChunk) -> LogItem {
        LogItem { stream: c.stream, data_base64: base64(&c.data) }
    }
}

/// Standard base64 with padding (RFC 4648).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..=3 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// A stream handle whose items are `rx`'s, each turned into `U` on the way: a task
/// forwards them, and closing the stream aborts it, which drops `rx` and so ends the
/// work behind it.
fn mapped_stream<T, U>(mut rx: mpsc::Receiver<berth_core::Result<T>>) -> Outcome<Handle<Stream>>
where
    T: Send + 'static,
    U: From<T> + Serialize + Send + 'static,
{
    let (tx, items) = mpsc::channel::<berth_core::Result<U>>(64);
    let forward = berth_core::io::runtime().spawn(async move {
        while let Some(item) = rx.recv().await {
            if tx.send(item.map(U::from)).await.is_err() {
                return;
            }
        }
    });
    Stream::insert(ChannelSource::new(items, vec![forward.abort_handle()]))
}

/// The container's log, as a stream of `{"stream", "data_base64"}` items.
pub fn logs(c: Handle<Container>, options: LogOptions) -> Pending<Handle<Stream>> {
    action(c, |c| async move { berth_core::need(c.logs(), c.kind(), "container logs")?.read(options).await })
        .then(mapped_stream::<LogChunk, LogItem>)
}

/// The container's resource use, as a stream of stats documents: one sample, or with
/// `stream` one about every second until the stream is closed.
pub fn stats(c: Handle<Container>, stream: bool) -> Pending<Handle<Stream>> {
    action(c, move |c| async move { berth_core::need(c.stats(), c.kind(), "container stats")?.read(stream).await })
        .then(|samples| Stream::insert(ChannelSource::new(samples, Vec::new())))
}

/// Renames the container.
pub fn rename(c: Handle<Container>, new_name: &str) -> Pending<()> {
    Pending::start(|| {
        let new_name = name(new_name, "name")?.to_string();
        Ok(action(c, |c| async move {
            berth_core::need(c.renamer(), c.kind(), "renaming containers")?.rename(&new_name).await
        }))
    })
}

/// Writes the container's whole filesystem as a tar to `path` on this host.
pub fn export(c: Handle<Container>, path: &str) -> Pending<()> {
    Pending::start(|| {
        let path = PathBuf::from(name(path, "path")?);
        Ok(action(c, |c| async move {
            berth_core::need(c.archiver(), c.kind(), "exporting containers")?.export(&path).await
        }))
    })
}

/// Makes an image of the container; the new image's ID.
pub fn commit(c: Handle<Container>, options: CommitOptions) -> Pending<String> {
    action(
        c,
        |c| async move { berth_core::need(c.committer(), c.kind(), "committing containers")?.commit(options).await },
    )
}

/// Writes `path` of the container (a file or a tree) as a tar to `dest` on this host.
pub fn archive(c: Handle<Container>, path: &str, dest: &str) -> Pending<()> {
    Pending::start(|| {
        let path = name(path, "path")?.to_string();
        let dest = PathBuf::from(name(dest, "dest")?);
        Ok(action(c, |c| async move {
            berth_core::need(c.archiver(), c.kind(), "archives of container paths")?.archive(&path, &dest).await
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        for (data, want) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (b"\xff\xfe\x00", "//4A"),
        ] {
            assert_eq!(base64(data), want);
        }
    }

    #[test]
    fn log_items_keep_the_stream_and_every_byte() {
        let item = LogItem::from(LogChunk { stream: OutputStream::Stderr, data: b"err\n\xff".to_vec() });
        assert_eq!(serde_json::to_string(&item).unwrap(), r#"{"stream":"stderr","data_base64":"ZXJyCv8="}"#);
    }
}
