//! A process's stdio over a hijacked Engine API connection: exec sessions and attach.
//!
//! The daemon multiplexes stdout and stderr on one connection (raw output with a tty);
//! stdin is the connection's write side, and closing stdin is a half-close of it
//! (shutdown of the write direction only, so the output still arrives: moby #38457).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::{AttachContainerOptions, ResizeContainerTTYOptions, ResizeExecOptions};
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Mutex};

use crate::backends::docker::shared::Shared;
use crate::backends::docker::task;
use crate::container::{ExecEvent, ExecOptions, ExecSession, ExitStatus, FailureSlot, OutputStream};
use crate::error::{Error, ErrorKind, Result};

type Output = Pin<Box<dyn Stream<Item = std::result::Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// What the session is attached to.
#[derive(Clone)]
enum Target {
    Exec { exec_id: String, container_id: String },
    Attach { container_id: String },
}

/// An exec or attach session (both are [`ExecSession`]s).
pub struct DockerSession {
    inner: Arc<Inner>,
    events: Mutex<mpsc::Receiver<ExecEvent>>,
    failure: FailureSlot,
}

struct Inner {
    shared: Arc<Shared>,
    target: Target,
    tty: bool,
    /// None once closed, or when the process has no stdin.
    stdin: Mutex<Option<Input>>,
}

/// Starts `options.args` in container `id`.
pub async fn start_exec(shared: &Arc<Shared>, id: &str, options: ExecOptions) -> Result<DockerSession> {
    if options.args.is_empty() {
        return Err(Error::invalid(format!("exec in container {id}: no command")));
    }
    let client = &shared.client;
    let api = client.api().await?;
    let create = CreateExecOptions {
        attach_stdin: Some(options.stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(options.tty),
        env: (!options.env.is_empty()).then(|| options.env.clone()),
        cmd: Some(options.args.clone()),
        user: options.user.clone(),
        working_dir: options.cwd.clone(),
        ..Default::default()
    };
    let what = format!("exec {:?} in container {id}", options.args[0]);
    let created = api.create_exec(id, create).await.map_err(|e| client.error(&what, e))?;
    let start = StartExecOptions { detach: false, tty: options.tty, output_capacity: None };
    let (output, input) = match api.start_exec(&created.id, Some(start)).await.map_err(|e| client.error(&what, e))? {
        StartExecResults::Attached { output, input } => (output, input),
        StartExecResults::Detached => return Err(Error::internal(format!("{what}: the daemon detached the exec"))),
    };
    let target = Target::Exec { exec_id: created.id, container_id: id.to_string() };
    Ok(DockerSession::new(shared, target, options.tty, output, options.stdin.then_some(input)))
}

/// Attaches to the init process of container `id`.
pub async fn attach(shared: &Arc<Shared>, id: &str, stdin: bool, tty: bool) -> Result<DockerSession> {
    let client = &shared.client;
    let api = client.api().await?;
    let options =
        AttachContainerOptions { stream: true, stdin, stdout: true, stderr: true, logs: false, detach_keys: None };
    let r = api
        .attach_container(id, Some(options))
        .await
        .map_err(|e| client.error(format!("attach to container {id}"), e))?;
    let target = Target::Attach { container_id: id.to_string() };
    Ok(DockerSession::new(shared, target, tty, r.output, stdin.then_some(r.input)))
}

impl DockerSession {
    fn new(shared: &Arc<Shared>, target: Target, tty: bool, output: Output, stdin: Option<Input>) -> DockerSession {
        let (tx, rx) = mpsc::channel(64);
        let failure = FailureSlot::default();
        crate::io::runtime().spawn(pump(shared.clone(), target.clone(), output, tx, failure.clone()));
        let inner = Inner { shared: shared.clone(), target, tty, stdin: Mutex::new(stdin) };
        DockerSession { inner: Arc::new(inner), events: Mutex::new(rx), failure }
    }
}

/// Forwards output chunks, then the exit status, then ends. When the exit status cannot
/// be had (the daemon went away with the connection), the reason goes to `failure`
/// instead: no exit code is made up.
async fn pump(
    shared: Arc<Shared>,
    target: Target,
    mut output: Output,
    tx: mpsc::Sender<ExecEvent>,
    failure: FailureSlot,
) {
    while let Some(item) = output.next().await {
        let event = match item {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                ExecEvent::Output(OutputStream::Stdout, message.to_vec())
            }
            Ok(LogOutput::StdErr { message }) => ExecEvent::Output(OutputStream::Stderr, message.to_vec()),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(_) => break, // the connection ended: the exit status says how
        };
        if tx.send(event).await.is_err() {
            return; // nobody reads any more
        }
    }
    match exit_status(&shared, &target).await {
        Ok(status) => {
            let _ = tx.send(ExecEvent::Exit(status)).await;
        }
        Err(e) => crate::container::set_failure(&failure, e),
    }
}

/// How the process ended. The output can end a moment before the daemon records the
/// exit, so an exec still "running" is asked again for a while.
async fn exit_status(shared: &Shared, target: &Target) -> Result<ExitStatus> {
    let client = &shared.client;
    let api = client.api().await?;
    match target {
        Target::Exec { exec_id, container_id } => {
            let what = format!("exec in container {container_id}: its exit status could not be read: inspect exec");
            for _ in 0..1000 {
                let i = api.inspect_exec(exec_id).await.map_err(|e| client.error(&what, e))?;
                if i.running != Some(true) {
                    return Ok(ExitStatus { exit_code: i.exit_code.unwrap_or(-1) as i32, exited_at: None });
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // The connection ended under a process that runs on: the daemon broke it.
            Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "exec in container {container_id}: {} ended the connection while the process ran",
                    client.endpoint
                ),
            ))
        }
        Target::Attach { container_id } => task::wait_exit(shared, container_id)
            .await
            .map_err(|e| e.context(format!("attach to container {container_id}: its exit status could not be read"))),
    }
}

#[async_trait]
impl ExecSession for DockerSession {
    async fn write_stdin(&self, data: &[u8]) -> Result<()> {
        let mut guard = self.inner.stdin.lock().await;
        let w = guard.as_mut().ok_or_else(|| Error::invalid("write to stdin: the process has no open stdin"))?;
        w.write_all(data).await.map_err(|e| Error::io("write to the process's stdin", e))?;
        w.flush().await.map_err(|e| Error::io("write to the process's stdin", e))
    }

    async fn close_stdin(&self) -> Result<()> {
        let mut guard = self.inner.stdin.lock().await;
        if let Some(mut w) = guard.take() {
            // shutdown() half-closes the connection: the daemon closes the process's stdin.
            w.shutdown().await.map_err(|e| Error::io("close the process's stdin", e))?;
        }
        Ok(())
    }

    async fn next_event(&self) -> Option<ExecEvent> {
        self.events.lock().await.recv().await
    }

    fn failure(&self) -> Option<Error> {
        crate::container::read_failure(&self.failure)
    }

    async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.inner.resize(width, height).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        self.inner.kill(signal).await
    }
}

impl Inner {
    async fn resize(&self, width: u32, height: u32) -> Result<()> {
        if !self.tty {
            return Err(Error::invalid("resize: the process has no tty"));
        }
        let client = &self.shared.client;
        let api = client.api().await?;
        let (w, h) = (width.min(i32::MAX as u32) as i32, height.min(i32::MAX as u32) as i32);
        match &self.target {
            Target::Exec { exec_id, .. } => api
                .resize_exec(exec_id, ResizeExecOptions { w, h })
                .await
                .map_err(|e| client.error("resize exec tty", e)),
            Target::Attach { container_id } => api
                .resize_container_tty(container_id, ResizeContainerTTYOptions { w, h })
                .await
                .map_err(|e| client.error("resize container tty", e)),
        }
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        match &self.target {
            Target::Attach { container_id } => task::kill(&self.shared, container_id, signal).await,
            Target::Exec { exec_id, container_id } => {
                // The Engine API cannot signal an exec: on this host, signal its pid.
                if !self.shared.client.address.is_local() {
                    return Err(Error::not_supported(self.shared.scheme(), "signalling an exec of a remote daemon"));
                }
                let api = self.shared.client.api().await?;
                let i = api.inspect_exec(exec_id).await.map_err(|e| self.shared.client.error("inspect exec", e))?;
                let pid = i.pid.filter(|&p| p > 0).ok_or_else(|| {
                    Error::new(ErrorKind::Conflict, format!("exec in container {container_id} is not running"))
                })?;
                // SAFETY: kill(2) with a pid and a signal number has no memory effects.
                if unsafe { libc::kill(pid as i32, signal) } != 0 {
                    return Err(Error::io(format!("signal exec pid {pid}"), std::io::Error::last_os_error()));
                }
                Ok(())
            }
        }
    }
}
