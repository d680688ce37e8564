//! Containers of a Docker or Podman daemon.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::models::{ContainerCreateBody, ContainerUpdateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    CommitContainerOptions, CreateContainerOptions, DownloadFromContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, RenameContainerOptions, StatsOptions, StopContainerOptions, TopOptions,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::backends::docker::exec::{attach, start_exec};
use crate::backends::docker::images::{self, split_tag};
use crate::backends::docker::libpod::encode;
use crate::backends::docker::shared::{self, write_stream_to, Shared};
use crate::backends::docker::task::{kill, real_time, wait_exit};
use crate::container::{
    Archiver, Attacher, Change, ChangeKind, CommitOptions, Committer, Container, ContainerInfo, ContainerStats,
    CreateOptions, ExecOptions, ExecSession, ExitStatus, LogChunk, LogOptions, Logs, MountSpec, NetworkMode,
    OutputStream, Renamer, Resources, Stats,
};
use crate::error::{Error, ErrorKind, Result};
use crate::find;
use crate::fs::layer::LayerIndex;
use crate::fs::{FileSystem, LayeredFs};
use crate::model::{ContainerState, ContainerStatus, ContainerSummary, ProcessInfo, RuntimeKind};

/// A container of a Docker or Podman daemon, by ID.
pub struct DockerContainer {
    shared: Arc<Shared>,
    id: String,
}

pub async fn create(s: &Arc<Shared>, options: CreateOptions) -> Result<DockerContainer> {
    let images = images::list(s).await?;
    let image = find::find_one_image(&images, &options.image, &s.client.endpoint)?;
    // The name the caller used, when it is one of the image's names (what `ps` then
    // shows); else the ID, so that the find rules, not the daemon's, chose the image.
    let image_ref = image
        .repo_tags
        .iter()
        .find(|t| **t == options.image || **t == format!("{}:latest", options.image))
        .cloned()
        .unwrap_or_else(|| image.id.to_string());
    if let Some(pod) = &options.pod {
        return create_in_pod(s, &options, &image_ref, pod).await;
    }
    let api = s.client.api().await?;
    if !options.annotations.is_empty() && api_below(&s.client.api_version().await?, 43) {
        return Err(Error::not_supported(s.scheme(), "annotations (the daemon's API is older than 1.43)"));
    }
    let (entrypoint, cmd) = command_of(&options);
    let host_config = HostConfig {
        network_mode: Some(network_name(options.network).into()),
        mounts: Some(options.mounts.iter().filter(|m| mount_kind(m) == "bind").map(bind_mount).collect()),
        tmpfs: tmpfs_mounts(&options.mounts)?,
        annotations: (!options.annotations.is_empty())
            .then(|| options.annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        memory: options.resources.memory_bytes,
        cpu_shares: options.resources.cpu_shares.map(|v| v as i64),
        cpu_quota: options.resources.cpu_quota,
        cpu_period: options.resources.cpu_period.map(|v| v as i64),
        pids_limit: options.resources.pids_limit,
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(image_ref),
        entrypoint,
        cmd,
        env: (!options.env.is_empty()).then(|| options.env.clone()),
        working_dir: options.cwd.clone(),
        user: options.user.clone(),
        tty: Some(options.tty),
        open_stdin: Some(options.stdin),
        // Closing an attached stdin then closes the process's stdin (EOF), as with
        // `docker run -i`.
        stdin_once: Some(options.stdin),
        attach_stdin: Some(options.stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        hostname: options.hostname.clone(),
        labels: Some(options.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        host_config: Some(host_config),
        ..Default::default()
    };
    let what = format!("create a container of {}", image.describe());
    let created = api
        .create_container(Some(CreateContainerOptions { name: options.name.clone(), platform: String::new() }), body)
        .await
        .map_err(|e| s.client.error(&what, e))?;
    Ok(DockerContainer { shared: s.clone(), id: created.id })
}

/// berth's command rules in Docker's terms: `args` alone replace the entrypoint and the
/// cmd (an empty, non-null Entrypoint clears the image's); `entrypoint` replaces the
/// entrypoint, and then the image's cmd is not used.
fn command_of(options: &CreateOptions) -> (Option<Vec<String>>, Option<Vec<String>>) {
    match (&options.entrypoint, options.args.is_empty()) {
        (Some(e), _) => (Some(e.clone()), Some(options.args.clone())),
        (None, false) => (Some(Vec::new()), Some(options.args.clone())),
        (None, true) => (None, None),
    }
}

fn network_name(n: NetworkMode) -> &'static str {
    match n {
        NetworkMode::None => "none",
        NetworkMode::Host => "host",
    }
}

fn mount_kind(m: &MountSpec) -> &str {
    m.kind.as_deref().unwrap_or("bind")
}

fn bind_mount(m: &MountSpec) -> Mount {
    Mount {
        target: Some(m.destination.clone()),
        source: Some(m.source.clone()),
        typ: Some(MountType::BIND),
        read_only: Some(m.read_only || m.options.iter().any(|o| o == "ro")),
        ..Default::default()
    }
}

/// tmpfs mounts as Docker's `Tmpfs` map (destination → options); other kinds are refused.
fn tmpfs_mounts(mounts: &[MountSpec]) -> Result<Option<HashMap<String, String>>> {
    let mut out = HashMap::new();
    for m in mounts {
        match mount_kind(m) {
            "bind" => {}
            "tmpfs" => {
                let mut opts = m.options.clone();
                if m.read_only {
                    opts.push("ro".into());
                }
                out.insert(m.destination.clone(), opts.join(","));
            }
            other => {
                return Err(Error::invalid(format!(
                    "mount on {}: type {other:?} (bind and tmpfs are supported)",
                    m.destination
                )))
            }
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

fn api_below(version: &str, minor: u32) -> bool {
    version.split_once('.').and_then(|(_, m)| m.parse::<u32>().ok()).is_some_and(|m| m < minor)
}

/// A container joined to a pod: Podman's own create (the compatible API has no pods).
async fn create_in_pod(s: &Arc<Shared>, options: &CreateOptions, image: &str, pod: &str) -> Result<DockerContainer> {
    let what = format!("create a container in pod {pod}");
    let libpod = s.libpod(&what)?;
    let (entrypoint, cmd) = command_of(options);
    let env: BTreeMap<String, String> = options
        .env
        .iter()
        .map(|kv| kv.split_once('=').map_or((kv.clone(), String::new()), |(k, v)| (k.into(), v.into())))
        .collect();
    let mut spec = json!({
        "image": image,
        "pod": pod,
        "terminal": options.tty,
        "stdin": options.stdin,
        "env": env,
        "labels": options.labels,
        "annotations": options.annotations,
        "mounts": options.mounts.iter().map(|m| json!({
            "destination": m.destination,
            "source": m.source,
            "type": mount_kind(m),
            "options": m.options.iter().cloned().chain(m.read_only.then(|| "ro".to_string())).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "resource_limits": linux_resources(&options.resources),
    });
    let obj = spec.as_object_mut().expect("an object");
    if let Some(n) = &options.name {
        obj.insert("name".into(), json!(n));
    }
    if let Some(e) = entrypoint {
        obj.insert("entrypoint".into(), json!(e));
    }
    if let Some(c) = cmd {
        obj.insert("command".into(), json!(c));
    }
    if let Some(w) = &options.cwd {
        obj.insert("work_dir".into(), json!(w));
    }
    if let Some(u) = &options.user {
        obj.insert("user".into(), json!(u));
    }
    if options.hostname.is_some() {
        return Err(Error::invalid(format!("{what}: a container in a pod has the pod's hostname")));
    }
    let r = libpod.call(&what, http::Method::POST, "/containers/create", Some(&spec)).await?;
    let id =
        r.get("Id").and_then(Value::as_str).ok_or_else(|| Error::internal(format!("{what}: no ID in the answer")))?;
    Ok(DockerContainer { shared: s.clone(), id: id.to_string() })
}

/// Resource limits as an OCI `LinuxResources` document (Podman's spec generator).
fn linux_resources(r: &Resources) -> Value {
    let mut v = json!({});
    if r.memory_bytes.is_some() {
        v["memory"] = json!({ "limit": r.memory_bytes });
    }
    if r.cpu_shares.is_some() || r.cpu_quota.is_some() || r.cpu_period.is_some() {
        v["cpu"] = json!({ "shares": r.cpu_shares, "quota": r.cpu_quota, "period": r.cpu_period });
    }
    if let Some(p) = r.pids_limit {
        v["pids"] = json!({ "limit": p });
    }
    v
}

/// Filters in Docker's form (`label=k=v`, `name=x`, `status=running`, `ancestor=img`,
/// ...); containerd's `labels."k"==v` is accepted too, so one filter works everywhere.
fn filters_of(filters: &[String]) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for f in filters {
        if let Some(rest) = f.strip_prefix("labels.") {
            let (k, v) = rest
                .split_once("==")
                .map(|(k, v)| (k.trim_matches('"'), Some(v)))
                .unwrap_or((rest.trim_matches('"'), None));
            let label = match v {
                Some(v) => format!("{k}={v}"),
                None => k.to_string(),
            };
            out.entry("label".into()).or_default().push(label);
        } else if let Some(img) = f.strip_prefix("image==") {
            out.entry("ancestor".into()).or_default().push(img.to_string());
        } else {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| Error::invalid(format!("container filter {f:?}: expected key=value")))?;
            out.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    Ok(out)
}

pub async fn list(s: &Shared, filters: &[String]) -> Result<Vec<ContainerSummary>> {
    let filters = filters_of(filters)?;
    if let Some(libpod) = &s.libpod {
        // Podman's compatible listing says states Docker's schema lacks ("stopped"):
        // its own listing is read instead, as JSON, and says more (pod, pid, exit code).
        let mut path = "/containers/json?all=true".to_string();
        if !filters.is_empty() {
            path.push_str(&format!("&filters={}", encode(&serde_json::to_string(&filters).unwrap_or_default())));
        }
        let all = libpod.call("list containers", http::Method::GET, &path, None).await?;
        return Ok(all.as_array().into_iter().flatten().map(summary_of_libpod).collect());
    }
    let api = s.client.api().await?;
    let options =
        ListContainersOptions { all: true, filters: (!filters.is_empty()).then_some(filters), ..Default::default() };
    let list = api.list_containers(Some(options)).await.map_err(|e| s.client.error("list containers", e))?;
    Ok(list
        .into_iter()
        .map(|c| {
            let id = c.id.unwrap_or_default();
            let status = c.state.map(|st| status_of(st.as_ref())).unwrap_or(ContainerStatus::Unknown);
            ContainerSummary {
                pod: None,
                names: c.names.unwrap_or_default().into_iter().map(|n| n.trim_start_matches('/').to_string()).collect(),
                image: c.image.unwrap_or_default(),
                image_id: c.image_id.filter(|i| !i.is_empty()),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
                state: ContainerState {
                    status,
                    pid: None,
                    exit_code: exit_code_of_status(c.status.as_deref().unwrap_or("")),
                    started_at: None,
                    finished_at: None,
                },
                created: c.created.map(|t| crate::util::rfc3339(t, 0)),
                id,
            }
        })
        .collect())
}

/// A container of libpod's listing.
fn summary_of_libpod(c: &Value) -> ContainerSummary {
    let text = |k: &str| c.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
    let secs = |k: &str| c.get(k).and_then(Value::as_i64).filter(|&t| t > 0).map(|t| crate::util::rfc3339(t, 0));
    let status = status_of(c.get("State").and_then(Value::as_str).unwrap_or(""));
    let stopped = status == ContainerStatus::Stopped;
    ContainerSummary {
        id: text("Id").unwrap_or_default(),
        names: c
            .get("Names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        image: text("Image").unwrap_or_default(),
        image_id: text("ImageID"),
        labels: c
            .get("Labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default(),
        state: ContainerState {
            status,
            pid: c.get("Pid").and_then(Value::as_u64).filter(|&p| p > 0).map(|p| p as u32),
            exit_code: if stopped { c.get("ExitCode").and_then(Value::as_i64).map(|x| x as i32) } else { None },
            started_at: secs("StartedAt"),
            finished_at: if stopped { secs("ExitedAt") } else { None },
        },
        created: text("Created"),
        pod: text("Pod"),
    }
}

/// `Exited (3) 2 seconds ago` → 3.
fn exit_code_of_status(status: &str) -> Option<i32> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split(')').next()?.parse().ok()
}

fn status_of(state: &str) -> ContainerStatus {
    match state {
        "created" | "configured" | "initialized" => ContainerStatus::Created,
        "running" | "restarting" => ContainerStatus::Running,
        "paused" => ContainerStatus::Paused,
        "exited" | "dead" | "removing" | "stopped" => ContainerStatus::Stopped,
        _ => ContainerStatus::Unknown,
    }
}

/// The daemon resolves a container reference by the same rules berth uses (an exact ID,
/// an exact name, else a unique ID prefix): one inspect, no listing.
pub async fn open(s: &Arc<Shared>, pattern: &str) -> Result<DockerContainer> {
    if pattern.is_empty() || pattern.contains('/') || pattern.contains('?') {
        return Err(Error::invalid(format!("open container {pattern:?}: not an ID or a name")));
    }
    let api = s.client.api().await?;
    match api.inspect_container(pattern, None).await {
        Ok(i) => Ok(DockerContainer { shared: s.clone(), id: i.id.unwrap_or_else(|| pattern.to_string()) }),
        Err(e) => {
            let e = s.client.error(format!("container {pattern:?} on {}", s.client.endpoint), e);
            // A prefix of several IDs is refused with a status that does not say so
            // (Docker: 500, or 400 in later versions; Podman: 404), only words do: the
            // listing decides instead.
            let may_be_ambiguous =
                matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidArgument | ErrorKind::Internal)
                    && pattern.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if may_be_ambiguous {
                if let Ok(all) = list(s, &[]).await {
                    let ids: Vec<String> =
                        all.into_iter().filter(|c| c.id.starts_with(pattern)).map(|c| c.id).collect();
                    if ids.len() > 1 {
                        return Err(Error::ambiguous(format!("container {pattern:?}"), ids));
                    }
                }
            }
            Err(e)
        }
    }
}

impl DockerContainer {
    fn what(&self, verb: &str) -> String {
        format!("{verb} container {}", short(&self.id))
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

async fn inspect_raw(s: &Shared, id: &str) -> Result<bollard::models::ContainerInspectResponse> {
    let api = s.client.api().await?;
    api.inspect_container(id, None).await.map_err(|e| s.client.error(format!("inspect container {}", short(id)), e))
}

async fn info_of(s: &Shared, id: &str) -> Result<ContainerInfo> {
    let i = inspect_raw(s, id).await?;
    let native = serde_json::to_value(&i).unwrap_or(Value::Null);
    let st = i.state.clone().unwrap_or_default();
    let status = if st.paused == Some(true) {
        ContainerStatus::Paused
    } else {
        st.status.map(|x| status_of(x.as_ref())).unwrap_or(ContainerStatus::Unknown)
    };
    let stopped = status == ContainerStatus::Stopped;
    let config = i.config.clone().unwrap_or_default();
    let pod = match &s.libpod {
        Some(l) => l
            .call("inspect container", http::Method::GET, &format!("/containers/{}/json", encode(id)), None)
            .await
            .ok()
            .and_then(|v| v.get("Pod").and_then(Value::as_str).map(str::to_string))
            .filter(|p| !p.is_empty()),
        None => None,
    };
    let summary = ContainerSummary {
        id: i.id.clone().unwrap_or_else(|| id.to_string()),
        names: i.name.iter().map(|n| n.trim_start_matches('/').to_string()).collect(),
        image: config.image.clone().unwrap_or_default(),
        image_id: i.image.clone(),
        labels: config.labels.clone().unwrap_or_default().into_iter().collect(),
        state: ContainerState {
            status,
            pid: st.pid.filter(|&p| p > 0).map(|p| p as u32),
            exit_code: if stopped { st.exit_code.map(|c| c as i32) } else { None },
            started_at: real_time(st.started_at.clone()),
            finished_at: if stopped { real_time(st.finished_at.clone()) } else { None },
        },
        created: i.created.as_ref().map(|c| c.to_string()),
        pod,
    };
    Ok(ContainerInfo {
        summary,
        spec: Value::Null,
        snapshotter: i.driver.clone(),
        snapshot_key: None,
        runtime: i.host_config.as_ref().and_then(|h| h.runtime.clone()),
        native,
    })
}

/// The overlay directories of a container, bottom first (image layers, Docker's init
/// layer, then the container's upper directory), when they can be read on this host.
fn overlay_dirs(s: &Shared, i: &bollard::models::ContainerInspectResponse) -> Option<Vec<std::path::PathBuf>> {
    if !s.client.address.is_local() {
        return None;
    }
    let driver = i.graph_driver.as_ref()?;
    if driver.name != "overlay2" && driver.name != "overlay" {
        return None;
    }
    let dirs = shared::overlay_dirs(driver)?;
    // Each must open as a directory we may list (the daemon's path may pass a link; below
    // it nothing is followed: fs/dir_layer.rs).
    dirs.iter().all(|d| crate::host_dir::HostDir::open(d).is_ok()).then_some(dirs)
}

/// Host pids of the container's processes (init and execs), from the daemon's `top`.
async fn host_pids(s: &Shared, id: &str) -> Result<Vec<u32>> {
    let api = s.client.api().await?;
    // Docker runs ps on the host (`-o pid`: host pids); Podman formats with its own
    // descriptors, where `hpid` is the host pid.
    let args = if s.kind == RuntimeKind::Podman { "hpid" } else { "-o pid" };
    let top = api
        .top_processes(id, Some(TopOptions { ps_args: args.into() }))
        .await
        .map_err(|e| s.client.error(format!("processes of container {}", short(id)), e))?;
    Ok(top.processes.unwrap_or_default().iter().filter_map(|row| row.first()?.trim().parse().ok()).collect())
}

fn stats_of(r: &bollard::models::ContainerStatsResponse) -> ContainerStats {
    let cpu = r.cpu_stats.clone().unwrap_or_default();
    let pre = r.precpu_stats.clone().unwrap_or_default();
    let total = cpu.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0);
    let pre_total = pre.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0);
    let system = cpu.system_cpu_usage.unwrap_or(0);
    let pre_system = pre.system_cpu_usage.unwrap_or(0);
    let online = cpu
        .online_cpus
        .filter(|&n| n > 0)
        .or_else(|| cpu.cpu_usage.as_ref().and_then(|u| u.percpu_usage.as_ref()).map(|v| v.len() as u32))
        .unwrap_or(1);
    let cpu_percent = (pre_system > 0 && system > pre_system && total >= pre_total)
        .then(|| (total - pre_total) as f64 / (system - pre_system) as f64 * online as f64 * 100.0);
    let mem = r.memory_stats.clone().unwrap_or_default();
    let (mut rx, mut tx) = (0, 0);
    for n in r.networks.iter().flat_map(|m| m.values()) {
        rx += n.rx_bytes.unwrap_or(0);
        tx += n.tx_bytes.unwrap_or(0);
    }
    let (mut read, mut write) = (0, 0);
    for e in r.blkio_stats.iter().flat_map(|b| b.io_service_bytes_recursive.iter().flatten()) {
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => read += e.value.unwrap_or(0),
            Some("write") => write += e.value.unwrap_or(0),
            _ => {}
        }
    }
    ContainerStats {
        read: r.read.as_ref().map(|t| t.to_string()),
        cpu_total_ns: total,
        system_cpu_ns: system,
        online_cpus: online,
        cpu_percent,
        memory_usage: mem.usage.unwrap_or(0),
        memory_limit: mem.limit.unwrap_or(0),
        pids: r.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
        network_rx_bytes: rx,
        network_tx_bytes: tx,
        block_read_bytes: read,
        block_write_bytes: write,
    }
}

#[async_trait]
impl Container for DockerContainer {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> RuntimeKind {
        self.shared.kind
    }

    async fn inspect(&self) -> Result<ContainerInfo> {
        info_of(&self.shared, &self.id).await
    }

    async fn start(&self) -> Result<()> {
        let what = self.what("start");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        api.start_container(&id, None).await.map_err(|e| s.client.error(&what, e))
    }

    async fn stop(&self, grace: Duration) -> Result<ExitStatus> {
        let what = self.what("stop");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        // Docker's grace period is whole seconds; round up, never to less than asked.
        let t = grace.as_millis().div_ceil(1000).min(i32::MAX as u128) as i32;
        // The state alone (info_of would also ask libpod for the pod).
        let state = inspect_raw(&s, &id).await?.state.unwrap_or_default();
        if state.running != Some(true) {
            return Err(Error::new(ErrorKind::Conflict, format!("{what}: it is not running")));
        }
        api.stop_container(&id, Some(StopContainerOptions { t: Some(t), signal: None }))
            .await
            .map_err(|e| s.client.error(&what, e))?;
        wait_exit(&s, &id).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        kill(&self.shared, &self.id, signal).await
    }

    async fn pause(&self) -> Result<()> {
        let what = self.what("pause");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        api.pause_container(&id).await.map_err(|e| s.client.error(&what, e))
    }

    async fn resume(&self) -> Result<()> {
        let what = self.what("resume");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        api.unpause_container(&id).await.map_err(|e| s.client.error(&what, e))
    }

    async fn delete(&self, force: bool) -> Result<()> {
        let what = self.what("delete");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        // Without force the daemon refuses a running container itself (409).
        api.remove_container(&id, Some(RemoveContainerOptions { force, v: true, link: false }))
            .await
            .map_err(|e| s.client.error(&what, e))
    }

    async fn wait(&self) -> Result<ExitStatus> {
        wait_exit(&self.shared, &self.id).await
    }

    async fn exec(&self, options: ExecOptions) -> Result<Arc<dyn ExecSession>> {
        Ok(Arc::new(start_exec(&self.shared, &self.id, options).await?))
    }

    async fn update_resources(&self, resources: Resources) -> Result<()> {
        let what = self.what("update resources of");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        let body = ContainerUpdateBody {
            memory: resources.memory_bytes,
            // Docker refuses a memory limit above the swap limit it set before;
            // give swap what `docker run --memory` gives it: twice the memory.
            memory_swap: resources.memory_bytes.map(|m| m.saturating_mul(2)),
            cpu_shares: resources.cpu_shares.map(|v| v as i64),
            cpu_quota: resources.cpu_quota,
            cpu_period: resources.cpu_period.map(|v| v as i64),
            pids_limit: resources.pids_limit,
            ..Default::default()
        };
        if let Some(libpod) = &s.libpod {
            // Podman 4's compatible API has no update; its own takes OCI resources.
            let path = format!("/containers/{}/update", encode(&id));
            libpod.call(&what, http::Method::POST, &path, Some(&linux_resources(&resources))).await?;
            return Ok(());
        }
        api.update_container(&id, body).await.map_err(|e| s.client.error(&what, e))?;
        Ok(())
    }

    async fn processes(&self) -> Result<Vec<ProcessInfo>> {
        if !self.shared.client.address.is_local() {
            return Err(Error::not_supported(self.shared.scheme(), "processes of a daemon on another host"));
        }
        let pids = host_pids(&self.shared, &self.id).await?;
        // A process may exit between the listing and the read: it is left out.
        Ok(pids.into_iter().filter_map(|pid| crate::process::process_info(pid).ok()).collect())
    }

    async fn filesystem(&self) -> Result<Arc<dyn FileSystem>> {
        let name = format!("container {}", short(&self.id));
        let (s, id) = (&self.shared, &self.id);
        let i = inspect_raw(&s, &id).await?;
        let layers = match overlay_dirs(&s, &i) {
            Some(dirs) => tokio::task::spawn_blocking(move || {
                dirs.iter().map(|d| LayerIndex::from_dir(d, true).map(Arc::new)).collect::<Result<Vec<_>>>()
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))??,
            None => vec![Arc::new(exported_layer(&s, &id).await?)],
        };
        Ok(Arc::new(LayeredFs::new(name, layers)) as Arc<dyn FileSystem>)
    }

    async fn changes(&self) -> Result<Vec<Change>> {
        let what = self.what("changes of");
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        let list = api.container_changes(&id).await.map_err(|e| s.client.error(&what, e))?;
        let mut out: Vec<Change> = list
            .unwrap_or_default()
            .into_iter()
            .map(|c| Change {
                path: c.path,
                kind: match c.kind as i32 {
                    1 => ChangeKind::Added,
                    2 => ChangeKind::Deleted,
                    _ => ChangeKind::Modified,
                },
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn logs(&self) -> Option<&dyn Logs> {
        Some(self)
    }

    fn stats(&self) -> Option<&dyn Stats> {
        Some(self)
    }

    fn attacher(&self) -> Option<&dyn Attacher> {
        Some(self)
    }

    fn renamer(&self) -> Option<&dyn Renamer> {
        Some(self)
    }

    fn archiver(&self) -> Option<&dyn Archiver> {
        Some(self)
    }

    fn committer(&self) -> Option<&dyn Committer> {
        Some(self)
    }
}

#[async_trait]
impl Logs for DockerContainer {
    async fn read(&self, options: LogOptions) -> Result<mpsc::Receiver<Result<LogChunk>>> {
        let what = self.what("logs of");
        let (s, id) = (self.shared.clone(), &self.id);
        let api = s.client.api().await?;
        let o = LogsOptions {
            follow: options.follow,
            stdout: options.stdout,
            stderr: options.stderr,
            since: options.since.unwrap_or(0).clamp(0, i32::MAX as i64) as i32,
            until: options.until.unwrap_or(0).clamp(0, i32::MAX as i64) as i32,
            timestamps: options.timestamps,
            tail: options.tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
        };
        // Fail now, not in the stream, for a container that is not there.
        inspect_raw(&s, &id).await?;
        let mut stream = api.logs(&id, Some(o));
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                let chunk = match item {
                    Ok(bollard::container::LogOutput::StdErr { message }) => {
                        Ok(LogChunk { stream: OutputStream::Stderr, data: message.to_vec() })
                    }
                    Ok(bollard::container::LogOutput::StdOut { message })
                    | Ok(bollard::container::LogOutput::Console { message }) => {
                        Ok(LogChunk { stream: OutputStream::Stdout, data: message.to_vec() })
                    }
                    Ok(bollard::container::LogOutput::StdIn { .. }) => continue,
                    Err(e) => Err(s.client.error(&what, e)),
                };
                let end = chunk.is_err();
                if tx.send(chunk).await.is_err() || end {
                    break;
                }
            }
        });
        Ok(rx)
    }
}

#[async_trait]
impl Stats for DockerContainer {
    async fn read(&self, stream: bool) -> Result<mpsc::Receiver<Result<ContainerStats>>> {
        let what = self.what("stats of");
        let (s, id) = (self.shared.clone(), &self.id);
        inspect_raw(&s, &id).await?;
        let api = s.client.api().await?;
        let mut samples = api.stats(&id, Some(StatsOptions { stream, one_shot: false }));
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            while let Some(item) = samples.next().await {
                let sample = item.map(|r| stats_of(&r)).map_err(|e| s.client.error(&what, e));
                let end = sample.is_err();
                if tx.send(sample).await.is_err() || end {
                    break;
                }
            }
        });
        Ok(rx)
    }
}

#[async_trait]
impl Attacher for DockerContainer {
    async fn attach(&self) -> Result<Arc<dyn ExecSession>> {
        let (s, id) = (&self.shared, &self.id);
        let info = info_of(s, id).await?;
        if !matches!(info.summary.state.status, ContainerStatus::Created | ContainerStatus::Running) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("attach to container {}: it is not running", short(id)),
            ));
        }
        let config = info.native.get("Config").cloned().unwrap_or_default();
        let flag = |k: &str| config.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(Arc::new(attach(s, id, flag("OpenStdin"), flag("Tty")).await?))
    }
}

#[async_trait]
impl Renamer for DockerContainer {
    async fn rename(&self, name: &str) -> Result<()> {
        let (name, what) = (name.to_string(), self.what("rename"));
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        api.rename_container(&id, RenameContainerOptions { name }).await.map_err(|e| s.client.error(&what, e))
    }
}

#[async_trait]
impl Archiver for DockerContainer {
    async fn export(&self, dest: &Path) -> Result<()> {
        let (dest, what) = (dest.to_path_buf(), self.what("export"));
        let (s, id) = (&self.shared, &self.id);
        inspect_raw(&s, &id).await?;
        let api = s.client.api().await?;
        write_stream_to(&s.client, &what, Box::pin(api.export_container(&id)), &dest).await
    }

    async fn archive(&self, path: &str, dest: &Path) -> Result<()> {
        let (path, dest) = (path.to_string(), dest.to_path_buf());
        let what = format!("{} path {path}", self.what("archive of"));
        let (s, id) = (&self.shared, &self.id);
        let api = s.client.api().await?;
        let stream = api.download_from_container(&id, Some(DownloadFromContainerOptions { path }));
        write_stream_to(&s.client, &what, Box::pin(stream), &dest).await
    }
}

#[async_trait]
impl Committer for DockerContainer {
    async fn commit(&self, options: CommitOptions) -> Result<String> {
        let what = self.what("commit");
        let (s, id) = (&self.shared, &self.id);
        let (repo, tag) = match &options.reference {
            Some(r) => {
                crate::reference::Reference::parse(r).map_err(|e| e.context(&what))?;
                let (repo, tag) = split_tag(r);
                (Some(repo), Some(tag))
            }
            None => (None, None),
        };
        let api = s.client.api().await?;
        let o = CommitContainerOptions {
            container: Some(id.clone()),
            repo,
            tag,
            comment: options.message.clone(),
            author: options.author.clone(),
            pause: options.pause.unwrap_or(true),
            changes: (!options.changes.is_empty()).then(|| options.changes.join("\n")),
        };
        let r = api
            .commit_container(o, bollard::models::ContainerConfig::default())
            .await
            .map_err(|e| s.client.error(&what, e))?;
        let id = r.id;
        Ok(if id.contains(':') { id } else { format!("sha256:{id}") })
    }
}

/// The container's filesystem when its directories cannot be read here: `export`
/// spooled to an unlinked temporary file, read as one plain tar layer (its digest is
/// computed on the way in, and checked again by the index pass).
async fn exported_layer(s: &Shared, id: &str) -> Result<LayerIndex> {
    use sha2::Digest as _;
    use tokio::io::AsyncWriteExt;
    let what = format!("export container {}", short(id));
    let api = s.client.api().await?;
    let tmp = tempfile::tempfile().map_err(|e| Error::io("create a temporary file", e))?;
    let mut file = tokio::fs::File::from_std(tmp.try_clone().map_err(|e| Error::io("dup a temporary file", e))?);
    let mut hasher = sha2::Sha256::new();
    let mut size = 0u64;
    let mut stream = api.export_container(id);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| s.client.error(&what, e))?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk).await.map_err(|e| Error::io(&what, e))?;
    }
    file.flush().await.map_err(|e| Error::io(&what, e))?;
    let digest: crate::digest::Digest = format!("sha256:{}", hex::encode(hasher.finalize())).parse()?;
    let blob = crate::fs::layer::LayerBlob {
        source: Arc::new(crate::blob::FileRange::new(Arc::new(tmp), 0, size)),
        compression: crate::model::Compression::None,
        verify: crate::fs::layer::Verify::Blob(digest),
        size: Some(size),
        what: what.clone(),
    };
    tokio::task::spawn_blocking(move || LayerIndex::build(&blob)).await.map_err(|e| Error::internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_berth_rules() {
        let o = |args: &[&str], ep: Option<&[&str]>| CreateOptions {
            args: args.iter().map(|s| s.to_string()).collect(),
            entrypoint: ep.map(|e| e.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        assert_eq!(command_of(&o(&[], None)), (None, None));
        assert_eq!(command_of(&o(&["ls"], None)), (Some(vec![]), Some(vec!["ls".into()])));
        assert_eq!(
            command_of(&o(&["x"], Some(&["sh", "-c"]))),
            (Some(vec!["sh".into(), "-c".into()]), Some(vec!["x".into()]))
        );
    }

    #[test]
    fn filters_and_statuses() {
        let f = filters_of(&["labels.\"a\"==b".into(), "name=x".into(), "image==busybox".into()]).unwrap();
        assert_eq!(f["label"], vec!["a=b"]);
        assert_eq!(f["name"], vec!["x"]);
        assert_eq!(f["ancestor"], vec!["busybox"]);
        assert!(filters_of(&["nonsense".into()]).is_err());
        assert_eq!(exit_code_of_status("Exited (3) 2 seconds ago"), Some(3));
        assert_eq!(status_of("exited"), ContainerStatus::Stopped);
        assert!(api_below("1.41", 43));
        assert!(!api_below("1.47", 43));
    }
}
