//! A container's init process: waiting for its exit, and signals.

use bollard::query_parameters::{KillContainerOptions, WaitContainerOptions};
use futures_util::StreamExt;

use crate::backends::docker::shared::Shared;
use crate::container::ExitStatus;
use crate::error::{Error, Result};

/// Waits for container `id` to stop; its exit status.
pub async fn wait_exit(s: &Shared, id: &str) -> Result<ExitStatus> {
    let api = s.client.api().await?;
    let mut stream = api.wait_container(id, Some(WaitContainerOptions { condition: "not-running".into() }));
    let code = match stream.next().await {
        Some(Ok(r)) => r.status_code,
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        Some(Err(e)) => return Err(s.client.error(format!("wait for container {id}"), e)),
        None => return Err(Error::internal(format!("wait for container {id}: no answer"))),
    };
    let finished =
        api.inspect_container(id, None).await.ok().and_then(|i| i.state).and_then(|st| real_time(st.finished_at));
    Ok(ExitStatus { exit_code: code as i32, exited_at: finished })
}

pub async fn kill(s: &Shared, id: &str, signal: i32) -> Result<()> {
    let api = s.client.api().await?;
    api.kill_container(id, Some(KillContainerOptions { signal: signal.to_string() }))
        .await
        .map_err(|e| s.client.error(format!("kill container {id}"), e))
}

/// Docker's "never" is the zero time.
pub fn real_time(t: Option<String>) -> Option<String> {
    t.filter(|t| !t.is_empty() && !t.starts_with("0001-01-01"))
}
