//! Containers and tasks on containerd: create (spec, snapshot, record), the task's
//! life (start, wait, stop, kill, pause, resume, delete), exec with stdio over fifos,
//! resources, processes, and the container's filesystem read from its snapshot.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use containerd_client::services::v1::container::Runtime as RuntimeRecord;
use containerd_client::services::v1::snapshots::{
    MountsRequest, PrepareSnapshotRequest, RemoveSnapshotRequest, StatSnapshotRequest,
};
use containerd_client::services::v1::{
    CloseIoRequest, Container as Record, CreateContainerRequest, CreateTaskRequest, DeleteContainerRequest,
    DeleteProcessRequest, DeleteTaskRequest, ExecProcessRequest, GetContainerRequest, GetRequest, KillRequest,
    ListContainersRequest, ListPidsRequest, PauseTaskRequest, ResizePtyRequest, ResumeTaskRequest, StartRequest,
    UpdateTaskRequest, WaitRequest,
};
use prost_types::Any;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, Mutex};

use crate::backends::containerd::client::Client;
use crate::backends::containerd::fifo::{opened, FifoSet};
use crate::backends::containerd::store::{chain_id, create_lease, delete_lease};
use crate::backends::containerd::time::{timestamp, timestamp_opt};
use crate::backends::containerd::{image_ops, images, spec};
use crate::container::{
    Archiver, Attacher, Change, ChangeKind, Committer, Container, ContainerInfo, CreateOptions, ExecEvent, ExecOptions,
    ExecSession, ExitStatus, FailureSlot, Logs, OutputStream, Renamer, Resources, Stats,
};
use crate::error::{Error, ErrorKind, Result};
use crate::fs::layer::LayerIndex;
use crate::fs::{FileSystem, LayeredFs};
use crate::model::{ContainerState, ContainerStatus, ContainerSummary, Platform, ProcessInfo};

const SPEC_TYPE: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
const PROCESS_TYPE: &str = "types.containerd.io/opencontainers/runtime-spec/1/Process";
const RESOURCES_TYPE: &str = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
const RUNC_OPTIONS_TYPE: &str = "containerd.runc.v1.Options";
const RUNTIME: &str = "io.containerd.runc.v2";
/// How long a stop waits after SIGKILL before it reports Timeout.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Settings shared by every container of a runtime.
#[derive(Clone)]
pub struct Settings {
    pub snapshotter: String,
    /// runc's state directory, when the endpoint names one (`?runc_root=`).
    pub runc_root: Option<String>,
    /// Where stdio fifos are made.
    pub fifo_root: PathBuf,
    pub platform: Platform,
}

fn json_any(type_url: &str, v: &Value) -> Any {
    Any { type_url: type_url.to_string(), value: serde_json::to_vec(v).unwrap_or_default() }
}

/// runc's options message (containerd.runc.v1.Options) with only `root` (field 7) set,
/// encoded by hand: it is one length-delimited string.
fn runc_options(root: &str) -> Any {
    let mut value = vec![(7 << 3) | 2];
    let mut len = root.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            value.push(byte);
            break;
        }
        value.push(byte | 0x80);
    }
    value.extend_from_slice(root.as_bytes());
    Any { type_url: RUNC_OPTIONS_TYPE.to_string(), value }
}

/// Creates a container from `options`: its spec from the image, its snapshot prepared
/// on the image's unpacked layers, its record in containerd.
pub async fn create(client: &Client, settings: &Settings, options: CreateOptions) -> Result<Arc<ContainerdContainer>> {
    if options.pod.is_some() {
        return Err(Error::not_supported("containerd", "pods (use a cri:// or podman:// endpoint)"));
    }
    let all = images::list(client, &settings.platform).await?;
    let summaries: Vec<_> = all.iter().map(|(s, _)| s.clone()).collect();
    let one =
        crate::find::find_one_image(&summaries, &options.image, &format!("containerd namespace {}", client.namespace))?;
    let (_, resolved) = all.iter().find(|(s, _)| s.id == one.id).ok_or_else(|| Error::internal("image vanished"))?;
    // Record the name the caller used when it is one of the image's names.
    let wanted = image_ops::normalize(&options.image).ok();
    let image =
        resolved.iter().find(|r| r.name == options.image || Some(&r.name) == wanted.as_ref()).unwrap_or(&resolved[0]);
    let id = options.name.clone().unwrap_or_else(|| format!("berth-{}", crate::util::random_suffix()));
    if id.is_empty() || id.len() > 76 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(Error::invalid(format!("container name {id:?}: use 1-76 letters, digits, '.', '_' or '-'")));
    }
    let config: Value =
        serde_json::from_slice(&image.config_bytes).map_err(|e| Error::corrupt(e.to_string()).with_source(e))?;
    let spec = spec::runtime_spec(&id, &client.namespace, &options, &config)?;
    let parent = chain_id(image.config.rootfs().diff_ids())
        .ok_or_else(|| Error::invalid(format!("image {}: has no layers", image.name)))?;

    // A lease holds the new snapshot until the container record references it: without
    // it, a garbage collection in between (another client deleting something) takes it.
    let c = create_lease(client).await?;
    let lease = c.clone();
    let s = settings.clone();
    let name = image.name.clone();
    let container_id = id.clone();
    let created = async move {
        // The image must be unpacked for this snapshotter.
        c.snapshots()
            .stat(c.req(StatSnapshotRequest { snapshotter: s.snapshotter.clone(), key: parent.clone() }))
            .await
            .map_err(|st| {
                let e = c.error(format!("image {name} is not unpacked for snapshotter {}", s.snapshotter), st);
                if e.kind() == ErrorKind::NotFound {
                    Error::new(ErrorKind::Conflict, e.message())
                } else {
                    e
                }
            })?;
        c.snapshots()
            .prepare(c.req(PrepareSnapshotRequest {
                snapshotter: s.snapshotter.clone(),
                key: container_id.clone(),
                parent,
                labels: HashMap::new(),
            }))
            .await
            .map_err(|st| c.error(format!("prepare snapshot for container {container_id}"), st))?;
        let record = Record {
            id: container_id.clone(),
            labels: options.labels.clone().into_iter().collect(),
            image: name,
            runtime: Some(RuntimeRecord { name: RUNTIME.into(), options: s.runc_root.as_deref().map(runc_options) }),
            spec: Some(json_any(SPEC_TYPE, &spec)),
            snapshotter: s.snapshotter.clone(),
            snapshot_key: container_id.clone(),
            ..Default::default()
        };
        if let Err(st) = c.containers().create(c.req(CreateContainerRequest { container: Some(record) })).await {
            // Leave nothing behind: the snapshot was only for this container.
            let _ = c
                .snapshots()
                .remove(c.req(RemoveSnapshotRequest { snapshotter: s.snapshotter.clone(), key: container_id.clone() }))
                .await;
            return Err(c.error(format!("create container {container_id}"), st));
        }
        Ok(())
    }
    .await;
    delete_lease(&lease).await;
    created?;
    Ok(Arc::new(ContainerdContainer::new(client, settings, id)))
}

fn status_of(code: i32) -> ContainerStatus {
    match code {
        1 => ContainerStatus::Created,
        2 => ContainerStatus::Running,
        3 => ContainerStatus::Stopped,
        4 | 5 => ContainerStatus::Paused,
        _ => ContainerStatus::Unknown,
    }
}

/// The task state of container `id`; a container with no task is Created.
async fn task_state(c: &Client, id: &str) -> Result<ContainerState> {
    match c.tasks().get(c.req(GetRequest { container_id: id.to_string(), exec_id: String::new() })).await {
        Ok(r) => {
            let p = r.into_inner().process.unwrap_or_default();
            let status = status_of(p.status);
            Ok(ContainerState {
                status,
                pid: (p.pid != 0).then_some(p.pid),
                exit_code: (status == ContainerStatus::Stopped).then_some(p.exit_status as i32),
                started_at: None,
                finished_at: p.exited_at.as_ref().and_then(timestamp_opt),
            })
        }
        Err(st) if st.code() == tonic::Code::NotFound => Ok(ContainerState {
            status: ContainerStatus::Created,
            pid: None,
            exit_code: None,
            started_at: None,
            finished_at: None,
        }),
        Err(st) => Err(c.error(format!("task of container {id}"), st)),
    }
}

fn summary_of(r: &Record, state: ContainerState) -> ContainerSummary {
    ContainerSummary {
        id: r.id.clone(),
        names: vec![r.id.clone()],
        image: r.image.clone(),
        image_id: None,
        labels: r.labels.clone().into_iter().collect(),
        state,
        created: r.created_at.as_ref().map(timestamp),
        pod: None,
    }
}

/// Every container of the namespace matching containerd `filters`
/// (`labels."key"==value`, `image==name`, `id==x`; several are ORed).
pub async fn list(client: &Client, filters: Vec<String>) -> Result<Vec<ContainerSummary>> {
    let c = client.clone();
    let records = c
        .containers()
        .list(c.req(ListContainersRequest { filters }))
        .await
        .map_err(|st| c.error("list containers", st))?
        .into_inner()
        .containers;
    let mut out = Vec::new();
    for r in records {
        let state = task_state(&c, &r.id).await?;
        out.push(summary_of(&r, state));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// A container of containerd. Cheap: it holds the client and the ID.
pub struct ContainerdContainer {
    client: Client,
    settings: Settings,
    id: String,
    /// The init task's stdio fifos, kept until the task is deleted.
    fifos: Mutex<Option<FifoSet>>,
}

impl ContainerdContainer {
    pub fn new(client: &Client, settings: &Settings, id: String) -> ContainerdContainer {
        ContainerdContainer { client: client.clone(), settings: settings.clone(), id, fifos: Mutex::new(None) }
    }

    async fn record(&self) -> Result<Record> {
        let c = self.client.clone();
        let id = self.id.clone();
        let r = c
            .containers()
            .get(c.req(GetContainerRequest { id: id.clone() }))
            .await
            .map_err(|st| c.error(format!("container {id}"), st))?;
        r.into_inner().container.ok_or_else(|| Error::not_found(format!("container {id}")))
    }

    async fn state(&self) -> Result<ContainerState> {
        task_state(&self.client, &self.id).await
    }

    /// Waits for process `exec_id` ("" for init) of this container to exit.
    fn wait_task(&self, exec_id: &str) -> tokio::task::JoinHandle<Result<ExitStatus>> {
        let c = self.client.clone();
        let id = self.id.clone();
        let exec_id = exec_id.to_string();
        crate::io::runtime().spawn(async move {
            let r = c
                .tasks()
                .wait(c.req(WaitRequest { container_id: id.clone(), exec_id }))
                .await
                .map_err(|st| c.error(format!("wait for container {id}"), st))?
                .into_inner();
            Ok(ExitStatus { exit_code: r.exit_status as i32, exited_at: r.exited_at.as_ref().map(timestamp) })
        })
    }

    async fn signal(&self, signal: i32, all: bool) -> Result<()> {
        let c = self.client.clone();
        let id = self.id.clone();
        c.tasks()
            .kill(c.req(KillRequest { container_id: id.clone(), exec_id: String::new(), signal: signal as u32, all }))
            .await
            .map_err(|st| c.error(format!("signal {signal} to container {id}"), st))?;
        Ok(())
    }

    /// Waits for init with a deadline; `None` when it is still running then.
    async fn wait_for(&self, limit: Duration) -> Result<Option<ExitStatus>> {
        match tokio::time::timeout(limit, self.wait_task("")).await {
            Ok(Ok(r)) => r.map(Some),
            Ok(Err(e)) => Err(Error::internal(format!("wait task: {e}"))),
            Err(_) => Ok(None),
        }
    }

    async fn snapshot_mounts(&self, record: &Record) -> Result<Vec<containerd_client::types::Mount>> {
        let c = self.client.clone();
        let (snapshotter, key) = (record.snapshotter.clone(), record.snapshot_key.clone());
        let r = c
            .snapshots()
            .mounts(c.req(MountsRequest { snapshotter, key: key.clone() }))
            .await
            .map_err(|st| c.error(format!("mounts of snapshot {key}"), st))?;
        Ok(r.into_inner().mounts)
    }

    /// The directory holding what the container changed (the overlay upper directory),
    /// or the whole rootfs for snapshotters that copy (`bind` mounts).
    async fn changes_dir(&self) -> Result<(PathBuf, bool)> {
        let record = self.record().await?;
        let mounts = self.snapshot_mounts(&record).await?;
        for m in &mounts {
            if m.r#type == "overlay" {
                if let Some(upper) = m.options.iter().find_map(|o| o.strip_prefix("upperdir=")) {
                    return Ok((PathBuf::from(upper), true));
                }
            }
            if m.r#type == "bind" || m.options.iter().any(|o| o == "rbind" || o == "bind") {
                return Ok((PathBuf::from(&m.source), false));
            }
        }
        Err(Error::not_supported(
            "containerd",
            &format!(
                "reading a container's rootfs from mounts {:?}",
                mounts.iter().map(|m| &m.r#type).collect::<Vec<_>>()
            ),
        ))
    }

    async fn image_layers(&self, image_name: &str) -> Result<Vec<Arc<LayerIndex>>> {
        let all = images::list(&self.client, &self.settings.platform).await?;
        let (summary, resolved) = all
            .into_iter()
            .find(|(_, rs)| rs.iter().any(|r| r.name == image_name))
            .ok_or_else(|| Error::not_found(format!("image {image_name} of container {}", self.id)))?;
        let r = resolved.iter().find(|r| r.name == image_name).unwrap_or(&resolved[0]);
        let image = images::open(&self.client, summary, r).await?;
        let layers =
            tokio::task::spawn_blocking(move || image.layers().iter().map(|l| l.index()).collect::<Result<Vec<_>>>())
                .await
                .map_err(|e| Error::internal(e.to_string()))??;
        Ok(layers)
    }
}

#[async_trait]
impl Container for ContainerdContainer {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> crate::model::RuntimeKind {
        crate::model::RuntimeKind::Containerd
    }

    async fn inspect(&self) -> Result<ContainerInfo> {
        let r = self.record().await?;
        let state = self.state().await?;
        let spec = r.spec.as_ref().and_then(|a| serde_json::from_slice(&a.value).ok()).unwrap_or(Value::Null);
        Ok(ContainerInfo {
            summary: summary_of(&r, state),
            spec,
            snapshotter: Some(r.snapshotter.clone()),
            snapshot_key: Some(r.snapshot_key.clone()),
            runtime: r.runtime.as_ref().map(|rt| rt.name.clone()),
            native: Value::Null,
        })
    }

    async fn start(&self) -> Result<()> {
        let record = self.record().await?;
        let mounts = self.snapshot_mounts(&record).await?;
        let c = self.client.clone();
        let id = self.id.clone();
        let terminal = record
            .spec
            .as_ref()
            .and_then(|a| serde_json::from_slice::<Value>(&a.value).ok())
            .and_then(|s| s.pointer("/process/terminal").and_then(Value::as_bool))
            .unwrap_or(false);
        // A tty needs a console to talk to: its output goes to a fifo we drain.
        let fifos =
            if terminal { Some(FifoSet::create(&self.settings.fifo_root, &self.id, false, true)?) } else { None };
        let (stdout, drain) = match &fifos {
            Some(f) => (FifoSet::path_str(&f.stdout), Some(f.open_ends())),
            None => (String::new(), None),
        };
        let created = c
            .tasks()
            .create(c.req(CreateTaskRequest {
                container_id: id.clone(),
                rootfs: mounts,
                stdout,
                terminal,
                ..Default::default()
            }))
            .await
            .map_err(|st| c.error(format!("create task of container {id}"), st));
        if let Err(e) = created {
            if let Some(f) = &fifos {
                f.release();
                f.remove();
            }
            return Err(e);
        }
        if let Some(ends) = drain {
            crate::io::runtime().spawn(async move {
                if let Ok(Some(mut r)) = opened(ends.stdout).await {
                    let mut sink = tokio::io::sink();
                    let _ = tokio::io::copy(&mut r, &mut sink).await;
                }
            });
        }
        *self.fifos.lock().await = fifos;
        // The exit is watched before the start, so even an instant exit is seen.
        let _watch = self.wait_task("");
        c.tasks()
            .start(c.req(StartRequest { container_id: id.clone(), exec_id: String::new() }))
            .await
            .map_err(|st| c.error(format!("start container {id}"), st))?;
        Ok(())
    }

    async fn stop(&self, grace: Duration) -> Result<ExitStatus> {
        let state = self.state().await?;
        if !matches!(state.status, ContainerStatus::Running | ContainerStatus::Paused) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("stop container {}: it is not running ({:?})", self.id, state.status),
            ));
        }
        if state.status == ContainerStatus::Paused {
            self.resume().await?;
        }
        self.signal(libc::SIGTERM, false).await?;
        if let Some(exit) = self.wait_for(grace).await? {
            return Ok(exit);
        }
        self.signal(libc::SIGKILL, true).await?;
        match self.wait_for(KILL_WAIT).await? {
            Some(exit) => Ok(exit),
            None => Err(Error::new(
                ErrorKind::Timeout,
                format!("stop container {}: still running {} s after SIGKILL", self.id, KILL_WAIT.as_secs()),
            )),
        }
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        self.signal(signal, false).await
    }

    async fn pause(&self) -> Result<()> {
        let c = self.client.clone();
        let id = self.id.clone();
        c.tasks()
            .pause(c.req(PauseTaskRequest { container_id: id.clone() }))
            .await
            .map_err(|st| c.error(format!("pause container {id}"), st))?;
        Ok(())
    }

    async fn resume(&self) -> Result<()> {
        let c = self.client.clone();
        let id = self.id.clone();
        c.tasks()
            .resume(c.req(ResumeTaskRequest { container_id: id.clone() }))
            .await
            .map_err(|st| c.error(format!("resume container {id}"), st))?;
        Ok(())
    }

    async fn delete(&self, force: bool) -> Result<()> {
        let record = self.record().await?;
        let state = self.state().await?;
        if matches!(state.status, ContainerStatus::Running | ContainerStatus::Paused) {
            if !force {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("delete container {}: it is running (stop it, or force)", self.id),
                ));
            }
            if state.status == ContainerStatus::Paused {
                self.resume().await?;
            }
            self.signal(libc::SIGKILL, true).await?;
            if self.wait_for(KILL_WAIT).await?.is_none() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("delete container {}: still running after SIGKILL", self.id),
                ));
            }
        }
        let (c, id) = (&self.client, &self.id);
        match c.tasks().delete(c.req(DeleteTaskRequest { container_id: id.clone() })).await {
            Ok(_) => {}
            Err(st) if st.code() == tonic::Code::NotFound => {}
            Err(st) => return Err(c.error(format!("delete task of container {id}"), st)),
        }
        c.containers()
            .delete(c.req(DeleteContainerRequest { id: id.clone() }))
            .await
            .map_err(|st| c.error(format!("delete container {id}"), st))?;
        let snapshot =
            RemoveSnapshotRequest { snapshotter: record.snapshotter.clone(), key: record.snapshot_key.clone() };
        match c.snapshots().remove(c.req(snapshot)).await {
            Ok(_) => {}
            Err(st) if st.code() == tonic::Code::NotFound => {}
            Err(st) => return Err(c.error(format!("remove snapshot of container {id}"), st)),
        }
        if let Some(f) = self.fifos.lock().await.take() {
            f.remove();
        }
        Ok(())
    }

    async fn wait(&self) -> Result<ExitStatus> {
        self.wait_task("").await.map_err(|e| Error::internal(format!("wait task: {e}")))?
    }

    async fn exec(&self, options: ExecOptions) -> Result<Arc<dyn ExecSession>> {
        let record = self.record().await?;
        let container_spec: Value =
            record.spec.as_ref().and_then(|a| serde_json::from_slice(&a.value).ok()).unwrap_or(Value::Null);
        let process = spec::exec_process_spec(&container_spec, &options)?;
        let exec_id = format!("exec-{}", crate::util::random_suffix());
        let fifos = FifoSet::create(&self.settings.fifo_root, &exec_id, options.stdin, options.tty)?;
        let ends = fifos.open_ends();
        let c = self.client.clone();
        let id = self.id.clone();
        let request = ExecProcessRequest {
            container_id: id.clone(),
            stdin: FifoSet::path_str(&fifos.stdin),
            stdout: FifoSet::path_str(&fifos.stdout),
            stderr: FifoSet::path_str(&fifos.stderr),
            terminal: options.tty,
            spec: Some(json_any(PROCESS_TYPE, &process)),
            exec_id: exec_id.clone(),
        };
        let created = c.tasks().exec(c.req(request)).await.map_err(|st| c.error(format!("exec in container {id}"), st));
        if let Err(e) = created {
            fifos.release();
            fifos.remove();
            return Err(e);
        }
        // Registered before the start: a process that exits at once is still seen.
        let waiter = self.wait_task(&exec_id);
        let started = c
            .tasks()
            .start(c.req(StartRequest { container_id: id.clone(), exec_id: exec_id.clone() }))
            .await
            .map_err(|st| c.error(format!("start exec in container {id}"), st));
        if let Err(e) = started {
            fifos.release();
            fifos.remove();
            waiter.abort();
            return Err(e);
        }
        let stdin = opened(ends.stdin).await?;
        let stdout = opened(ends.stdout).await?;
        let stderr = opened(ends.stderr).await?;
        let (tx, rx) = mpsc::channel(64);
        let failure = FailureSlot::default();
        pump(c.clone(), id.clone(), exec_id.clone(), stdout, stderr, waiter, tx, fifos, failure.clone());
        Ok(Arc::new(ContainerdExec {
            client: c,
            container_id: id,
            exec_id,
            tty: options.tty,
            stdin: Mutex::new(stdin),
            events: Mutex::new(rx),
            failure,
        }))
    }

    async fn update_resources(&self, resources: Resources) -> Result<()> {
        let c = self.client.clone();
        let id = self.id.clone();
        let value = spec::linux_resources(&resources);
        c.tasks()
            .update(c.req(UpdateTaskRequest {
                container_id: id.clone(),
                resources: Some(json_any(RESOURCES_TYPE, &value)),
                annotations: HashMap::new(),
            }))
            .await
            .map_err(|st| c.error(format!("update resources of container {id}"), st))?;
        Ok(())
    }

    async fn processes(&self) -> Result<Vec<ProcessInfo>> {
        let c = self.client.clone();
        let id = self.id.clone();
        let r = c
            .tasks()
            .list_pids(c.req(ListPidsRequest { container_id: id.clone() }))
            .await
            .map_err(|st| c.error(format!("processes of container {id}"), st))?;
        let pids: Vec<u32> = r.into_inner().processes.into_iter().map(|p| p.pid).collect();
        // A process may exit between the listing and the read: it is left out.
        Ok(pids.into_iter().filter_map(|pid| crate::process::process_info(pid).ok()).collect())
    }

    async fn filesystem(&self) -> Result<Arc<dyn FileSystem>> {
        let record = self.record().await?;
        let (dir, overlay) = self.changes_dir().await?;
        let upper = tokio::task::spawn_blocking(move || LayerIndex::from_dir(&dir, overlay))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        let mut layers = if overlay { self.image_layers(&record.image).await? } else { Vec::new() };
        layers.push(Arc::new(upper));
        Ok(Arc::new(LayeredFs::new(format!("container {}", self.id), layers)))
    }

    async fn changes(&self) -> Result<Vec<Change>> {
        let record = self.record().await?;
        let (dir, overlay) = self.changes_dir().await?;
        if !overlay {
            return Err(Error::not_supported("containerd", "changes of a container on a copying snapshotter"));
        }
        let upper = tokio::task::spawn_blocking(move || LayerIndex::from_dir(&dir, true))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        let image_fs = LayeredFs::new("image", self.image_layers(&record.image).await?);
        let mut out: Vec<Change> = upper
            .changes
            .whiteouts
            .iter()
            .map(|p| Change { path: format!("/{p}"), kind: ChangeKind::Deleted })
            .collect();
        for e in &upper.entries {
            let path = e.display_path();
            let kind = if image_fs.lstat(&path).is_ok() { ChangeKind::Modified } else { ChangeKind::Added };
            out.push(Change { path, kind });
        }
        out.sort();
        Ok(out)
    }

    // containerd keeps no log, and has no attach, stats, rename, commit or archives of
    // its own.
    fn logs(&self) -> Option<&dyn Logs> {
        None
    }

    fn stats(&self) -> Option<&dyn Stats> {
        None
    }

    fn attacher(&self) -> Option<&dyn Attacher> {
        None
    }

    fn renamer(&self) -> Option<&dyn Renamer> {
        None
    }

    fn archiver(&self) -> Option<&dyn Archiver> {
        None
    }

    fn committer(&self) -> Option<&dyn Committer> {
        None
    }
}

/// Moves an exec's output and exit into its event channel: all output first, then the
/// exit, then the process is deleted from containerd and its fifos removed.
#[allow(clippy::too_many_arguments)]
fn pump(
    c: Client,
    id: String,
    exec_id: String,
    stdout: Option<pipe::Receiver>,
    stderr: Option<pipe::Receiver>,
    waiter: tokio::task::JoinHandle<Result<ExitStatus>>,
    tx: mpsc::Sender<ExecEvent>,
    fifos: FifoSet,
    failure: FailureSlot,
) {
    let copy = |r: Option<pipe::Receiver>, which: OutputStream, tx: mpsc::Sender<ExecEvent>| async move {
        let Some(mut r) = r else { return };
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(ExecEvent::Output(which, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    crate::io::runtime().spawn(async move {
        let out = tokio::spawn(copy(stdout, OutputStream::Stdout, tx.clone()));
        let err = tokio::spawn(copy(stderr, OutputStream::Stderr, tx.clone()));
        let exit = waiter.await;
        let _ = tokio::join!(out, err);
        let status = match exit {
            Ok(Ok(s)) => Ok(s),
            // The wait failed: containerd went away while the process ran (the shim, and
            // so the process and its output, live on). The shim keeps the exit status
            // until the process is deleted: asked once more now that the output has
            // ended, in case containerd is back.
            _ => wait_process(&c, &id, &exec_id).await,
        };
        match status {
            Ok(s) => {
                let _ = tx.send(ExecEvent::Exit(s)).await;
                let _ = c.tasks().delete_process(c.req(DeleteProcessRequest { container_id: id, exec_id })).await;
            }
            // No exit code is made up: the reader gets the end, and `failure` says why.
            Err(e) => crate::container::set_failure(
                &failure,
                e.context(format!("exec in container {id}: its exit status could not be read")),
            ),
        }
        fifos.remove();
    });
}

/// The exit status of exec `exec_id` of container `id` (at once for one that ended).
async fn wait_process(c: &Client, id: &str, exec_id: &str) -> Result<ExitStatus> {
    let r = c
        .tasks()
        .wait(c.req(WaitRequest { container_id: id.to_string(), exec_id: exec_id.to_string() }))
        .await
        .map_err(|st| c.error(format!("wait for exec {exec_id}"), st))?
        .into_inner();
    Ok(ExitStatus { exit_code: r.exit_status as i32, exited_at: r.exited_at.as_ref().map(timestamp) })
}

/// A running exec on containerd.
struct ContainerdExec {
    client: Client,
    container_id: String,
    exec_id: String,
    tty: bool,
    stdin: Mutex<Option<pipe::Sender>>,
    events: Mutex<mpsc::Receiver<ExecEvent>>,
    failure: FailureSlot,
}

#[async_trait]
impl ExecSession for ContainerdExec {
    async fn write_stdin(&self, data: &[u8]) -> Result<()> {
        let mut guard = self.stdin.lock().await;
        let w =
            guard.as_mut().ok_or_else(|| Error::invalid("write stdin: the exec has no stdin (or it was closed)"))?;
        w.write_all(data).await.map_err(|e| Error::io("write stdin", e))
    }

    async fn close_stdin(&self) -> Result<()> {
        // Our end closes first, then the shim is told, so the process reads EOF even
        // where the shim holds the fifo open itself.
        drop(self.stdin.lock().await.take());
        let c = self.client.clone();
        let (id, exec_id) = (self.container_id.clone(), self.exec_id.clone());
        c.tasks()
            .close_io(c.req(CloseIoRequest { container_id: id.clone(), exec_id, stdin: true }))
            .await
            .map_err(|st| c.error(format!("close stdin of exec in container {id}"), st))?;
        Ok(())
    }

    async fn next_event(&self) -> Option<ExecEvent> {
        self.events.lock().await.recv().await
    }

    fn failure(&self) -> Option<Error> {
        crate::container::read_failure(&self.failure)
    }

    async fn resize(&self, width: u32, height: u32) -> Result<()> {
        if !self.tty {
            return Err(Error::invalid("resize: the exec has no tty"));
        }
        let c = self.client.clone();
        let (id, exec_id) = (self.container_id.clone(), self.exec_id.clone());
        c.tasks()
            .resize_pty(c.req(ResizePtyRequest { container_id: id.clone(), exec_id, width, height }))
            .await
            .map_err(|st| c.error(format!("resize tty of exec in container {id}"), st))?;
        Ok(())
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        let c = self.client.clone();
        let (id, exec_id) = (self.container_id.clone(), self.exec_id.clone());
        c.tasks()
            .kill(c.req(KillRequest { container_id: id.clone(), exec_id, signal: signal as u32, all: false }))
            .await
            .map_err(|st| c.error(format!("signal exec in container {id}"), st))?;
        Ok(())
    }
}
