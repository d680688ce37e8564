//! Containers: what creating one takes, and what a container can do.
//!
//! The daemon backends implement [`Container`]; options and results are plain data
//! that serialise to the JSON documents of the C ABI (docs/schemas.md).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use tokio::sync::mpsc;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::FileSystem;
use crate::model::{ContainerSummary, ProcessInfo, RuntimeKind};

/// A bind mount into a container.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MountSpec {
    /// Host path (or a filesystem source such as `tmpfs`).
    pub source: String,
    /// Path inside the container.
    pub destination: String,
    /// `bind` (default) or a filesystem type such as `tmpfs`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub read_only: bool,
    /// Extra mount options (`nosuid`, `size=64m`, ...).
    pub options: Vec<String>,
}

/// Resource limits (cgroup settings); absent fields are left as the runtime has them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Resources {
    pub memory_bytes: Option<i64>,
    pub cpu_shares: Option<u64>,
    /// CFS quota and period, in microseconds.
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub pids_limit: Option<i64>,
}

/// The network a container joins.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// A private network namespace with only loopback.
    #[default]
    None,
    /// The host's network namespace.
    Host,
}

/// How to create a container. Only `image` is required; the rest defaults the way
/// `ctr run` and `docker run` do (the image's entrypoint, cmd, env, cwd and user).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CreateOptions {
    /// The image, by the find rules.
    pub image: String,
    /// The container's name (its ID on containerd); generated when absent.
    pub name: Option<String>,
    /// Replaces the image's entrypoint and cmd when non-empty.
    pub args: Vec<String>,
    /// Replaces the image's entrypoint; then the image's cmd is not used, and `args`
    /// follow the entrypoint (Docker's `--entrypoint`). `Some([])` clears it.
    pub entrypoint: Option<Vec<String>>,
    /// Added to (and overriding) the image's environment, as `KEY=VALUE`.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    /// `uid[:gid]` (numeric).
    pub user: Option<String>,
    pub tty: bool,
    /// Keep stdin open for `attach`/streaming.
    pub stdin: bool,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub mounts: Vec<MountSpec>,
    pub resources: Resources,
    pub network: NetworkMode,
    /// The pod to join (Podman), by name or ID.
    pub pod: Option<String>,
}

/// How to run a process in a running container.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExecOptions {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    /// Open a stdin pipe (close it to deliver EOF).
    pub stdin: bool,
}

/// How a process ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExitStatus {
    pub exit_code: i32,
    /// RFC 3339.
    pub exited_at: Option<String>,
}

/// The collected result of a one-shot exec.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecOutput {
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Which stream a chunk of output came from (`Stdout` for a tty).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Where an exec's pump leaves the reason its events ended without an exit; the
/// session's [`ExecSession::failure`] reads it. Set before the events' channel closes,
/// so a reader that saw the end sees the reason. (For the daemon backends.)
#[cfg(any(feature = "containerd", feature = "docker"))]
pub(crate) type FailureSlot = Arc<std::sync::Mutex<Option<Error>>>;

#[cfg(any(feature = "containerd", feature = "docker"))]
pub(crate) fn read_failure(slot: &FailureSlot) -> Option<Error> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[cfg(any(feature = "containerd", feature = "docker"))]
pub(crate) fn set_failure(slot: &FailureSlot, e: Error) {
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
}

/// What a running exec sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    Output(OutputStream, Vec<u8>),
    Exit(ExitStatus),
}

/// A running exec: write stdin, read output and the exit, resize its tty.
#[async_trait]
pub trait ExecSession: Send + Sync {
    /// Writes to the process's stdin (InvalidArgument when it was created without one).
    async fn write_stdin(&self, data: &[u8]) -> Result<()>;
    /// Closes stdin: the process reads EOF.
    async fn close_stdin(&self) -> Result<()>;
    /// The next output chunk, then the exit, then `None`. When the events end without
    /// an exit (the daemon went away), [`ExecSession::failure`] says why.
    async fn next_event(&self) -> Option<ExecEvent>;
    /// Once `next_event` has returned `None` without an [`ExecEvent::Exit`] before it:
    /// why the process's exit status could not be had (Unavailable when the daemon went
    /// away). `None` while events still come, and after an exit.
    fn failure(&self) -> Option<Error> {
        None
    }
    /// Resizes the tty (InvalidArgument without one).
    async fn resize(&self, width: u32, height: u32) -> Result<()>;
    /// Kills the process with `signal`.
    async fn kill(&self, signal: i32) -> Result<()>;
}

/// A change a container made to its image's filesystem.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// Everything about a container, for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerInfo {
    #[serde(flatten)]
    pub summary: ContainerSummary,
    /// The OCI runtime spec, as the runtime stores it (containerd; null where the
    /// runtime does not show it).
    pub spec: serde_json::Value,
    pub snapshotter: Option<String>,
    pub snapshot_key: Option<String>,
    pub runtime: Option<String>,
    /// The runtime's own inspect document (Docker's and Podman's `inspect`), when it
    /// has one.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub native: serde_json::Value,
}

/// Which log lines to read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogOptions {
    /// Keep the stream open and deliver new lines as they come.
    pub follow: bool,
    /// Only lines written at or after this time (seconds since the Unix epoch).
    pub since: Option<i64>,
    /// Only lines written before this time (seconds since the Unix epoch).
    pub until: Option<i64>,
    /// Only the last N lines.
    pub tail: Option<u64>,
    /// Prefix each line with its RFC 3339 time, as the runtime records it.
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            follow: false,
            since: None,
            until: None,
            tail: None,
            timestamps: false,
            stdout: true,
            stderr: true,
        }
    }
}

/// A chunk of a container's log (whole lines, as the runtime sends them).
#[derive(Debug, Clone, PartialEq)]
pub struct LogChunk {
    pub stream: OutputStream,
    pub data: Vec<u8>,
}

/// One sample of a container's resource use.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ContainerStats {
    /// When the sample was taken (RFC 3339).
    pub read: Option<String>,
    /// CPU time used by the container, in nanoseconds, in total.
    pub cpu_total_ns: u64,
    /// CPU time of the whole host, in nanoseconds (for the percentage).
    pub system_cpu_ns: u64,
    pub online_cpus: u32,
    /// CPU use since the previous sample, in percent of one CPU (Docker's way: up to
    /// 100 × online_cpus); None when there is no previous sample.
    pub cpu_percent: Option<f64>,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub pids: u64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
}

/// How to turn a container into an image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CommitOptions {
    /// `repo[:tag]` for the new image; untagged when absent.
    pub reference: Option<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the config (`CMD ["x"]`, `ENV A=b`, ...).
    pub changes: Vec<String>,
    /// Pause the container while committing (Docker's default is true).
    pub pause: Option<bool>,
}

/// The containers of a runtime (a runtime's `containers()` service).
#[async_trait]
pub trait Containers: Send + Sync {
    /// The containers, optionally filtered (backend filter syntax; containerd:
    /// `labels."key"==value`, `image==name`; several filters are ORed).
    async fn list(&self, filters: &[String]) -> Result<Vec<ContainerSummary>>;

    /// The containers `pattern` matches: an exact ID or name, else an ID prefix.
    async fn find(&self, pattern: &str) -> Result<Vec<ContainerSummary>> {
        let all = self.list(&[]).await?;
        let exact: Vec<_> =
            all.iter().filter(|c| c.id == pattern || c.names.iter().any(|n| n == pattern)).cloned().collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        Ok(all.into_iter().filter(|c| c.id.starts_with(pattern)).collect())
    }

    /// Creates a container (not started).
    async fn create(&self, options: CreateOptions) -> Result<Arc<dyn Container>>;

    /// Opens the one container `pattern` matches (NotFound or Ambiguous otherwise).
    async fn open(&self, pattern: &str) -> Result<Arc<dyn Container>>;
}

/// A container. Every method may be called from many tasks at once. Abilities not
/// every runtime has are services ([`Container::logs`] and after), as on a runtime.
#[async_trait]
pub trait Container: Send + Sync {
    fn id(&self) -> &str;
    /// The kind of runtime the container lives in.
    fn kind(&self) -> RuntimeKind;
    async fn inspect(&self) -> Result<ContainerInfo>;
    /// Starts the init process; its exit is watched from before the start, so a fast
    /// exit is never missed.
    async fn start(&self) -> Result<()>;
    /// SIGTERM, then SIGKILL after `grace`; Timeout if even that does not end it.
    async fn stop(&self, grace: Duration) -> Result<ExitStatus>;
    async fn kill(&self, signal: i32) -> Result<()>;
    async fn pause(&self) -> Result<()>;
    async fn resume(&self) -> Result<()>;
    /// Deletes the container (its task, and its snapshot). A running container needs
    /// `force` (it is killed first), else Conflict.
    async fn delete(&self, force: bool) -> Result<()>;
    /// Waits for the init process to exit.
    async fn wait(&self) -> Result<ExitStatus>;
    /// Starts a process in the running container.
    async fn exec(&self, options: ExecOptions) -> Result<Arc<dyn ExecSession>>;
    async fn update_resources(&self, resources: Resources) -> Result<()>;
    /// The container's processes, from the host's /proc.
    async fn processes(&self) -> Result<Vec<ProcessInfo>>;
    /// The container's root filesystem: the image plus what the container changed.
    async fn filesystem(&self) -> Result<Arc<dyn FileSystem>>;
    /// What the container changed, relative to its image.
    async fn changes(&self) -> Result<Vec<Change>>;

    /// The container's log (None where the runtime keeps none).
    fn logs(&self) -> Option<&dyn Logs>;

    /// Resource use samples.
    fn stats(&self) -> Option<&dyn Stats>;

    /// Attaching to the init process.
    fn attacher(&self) -> Option<&dyn Attacher>;

    fn renamer(&self) -> Option<&dyn Renamer>;

    /// Tars of the container's filesystem.
    fn archiver(&self) -> Option<&dyn Archiver>;

    /// Images made of the container.
    fn committer(&self) -> Option<&dyn Committer>;

    /// Runs a process to its end and collects its output; `stdin` is written, then closed.
    async fn exec_output(
        &self,
        options: ExecOptions,
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<ExecOutput> {
        let mut options = options;
        options.stdin = stdin.is_some();
        let session = self.exec(options).await?;
        let run = async {
            if let Some(data) = stdin {
                session.write_stdin(&data).await?;
                session.close_stdin().await?;
            }
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            while let Some(ev) = session.next_event().await {
                match ev {
                    ExecEvent::Output(OutputStream::Stdout, d) => stdout.extend(d),
                    ExecEvent::Output(OutputStream::Stderr, d) => stderr.extend(d),
                    ExecEvent::Exit(s) => return Ok(ExecOutput { exit_code: s.exit_code, stdout, stderr }),
                }
            }
            Err(session.failure().unwrap_or_else(|| Error::internal("exec ended without an exit status")))
        };
        match timeout {
            None => run.await,
            Some(d) => match tokio::time::timeout(d, run).await {
                Ok(r) => r,
                Err(_) => {
                    let _ = session.kill(libc::SIGKILL).await;
                    Err(Error::new(ErrorKind::Timeout, format!("exec did not finish within {} ms", d.as_millis())))
                }
            },
        }
    }
}

/// A container's log.
#[async_trait]
pub trait Logs: Send + Sync {
    /// The log, stdout and stderr kept apart. The stream ends at the end of the log, or,
    /// with `follow`, when the container stops or the receiver is dropped.
    async fn read(&self, options: LogOptions) -> Result<mpsc::Receiver<Result<LogChunk>>>;
}

/// A container's resource use.
#[async_trait]
pub trait Stats: Send + Sync {
    /// One sample (`stream` false), or a sample about every second until the receiver is
    /// dropped.
    async fn read(&self, stream: bool) -> Result<mpsc::Receiver<Result<ContainerStats>>>;
}

/// Attaching to a container's init process.
#[async_trait]
pub trait Attacher: Send + Sync {
    /// Its output from now on, its stdin (when the container was created with `stdin`),
    /// its tty size. The session's exit event comes when the container stops.
    async fn attach(&self) -> Result<Arc<dyn ExecSession>>;
}

#[async_trait]
pub trait Renamer: Send + Sync {
    async fn rename(&self, name: &str) -> Result<()>;
}

/// Tars of a container's filesystem.
#[async_trait]
pub trait Archiver: Send + Sync {
    /// Writes the container's whole filesystem as a tar to `dest`.
    async fn export(&self, dest: &Path) -> Result<()>;

    /// Writes `path` of the container (a file, or a directory with everything under it)
    /// as a tar to `dest`, as `docker cp` reads it.
    async fn archive(&self, path: &str, dest: &Path) -> Result<()>;
}

/// Images made of a container.
#[async_trait]
pub trait Committer: Send + Sync {
    /// Makes an image of the container's filesystem; returns the image ID.
    async fn commit(&self, options: CommitOptions) -> Result<String>;
}
