//! The plain data of the object model: what listings and inspections return.
//!
//! These types serialise to the JSON documents that cross the C ABI (schemas in
//! docs/); new fields are only ever added, never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// Which kind of runtime an endpoint speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeKind {
    Docker,
    Podman,
    Containerd,
    Cri,
    Oci,
    OciArchive,
    DockerArchive,
    Registry,
}

impl RuntimeKind {
    /// Every kind, in the order messages list their schemes. Endpoint strings name one
    /// of these; the backend table says which are built in.
    pub const ALL: [RuntimeKind; 8] = [
        RuntimeKind::Docker,
        RuntimeKind::Podman,
        RuntimeKind::Containerd,
        RuntimeKind::Cri,
        RuntimeKind::Oci,
        RuntimeKind::OciArchive,
        RuntimeKind::DockerArchive,
        RuntimeKind::Registry,
    ];

    /// The endpoint scheme of this kind ("oci-archive").
    pub fn scheme(self) -> &'static str {
        match self {
            RuntimeKind::Docker => "docker",
            RuntimeKind::Podman => "podman",
            RuntimeKind::Containerd => "containerd",
            RuntimeKind::Cri => "cri",
            RuntimeKind::Oci => "oci",
            RuntimeKind::OciArchive => "oci-archive",
            RuntimeKind::DockerArchive => "docker-archive",
            RuntimeKind::Registry => "registry",
        }
    }

    /// The kind for an endpoint scheme.
    pub fn from_scheme(s: &str) -> Option<RuntimeKind> {
        RuntimeKind::ALL.into_iter().find(|k| k.scheme() == s)
    }

    /// True for the kinds that read files and need no daemon.
    pub fn is_offline(self) -> bool {
        matches!(self, RuntimeKind::Oci | RuntimeKind::OciArchive | RuntimeKind::DockerArchive)
    }
}

/// What a runtime is and which version it runs.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub kind: RuntimeKind,
    /// The product behind the endpoint ("containerd", "Docker Engine", "berth offline").
    pub name: String,
    pub version: String,
    /// The negotiated API version, where the protocol has one.
    pub api_version: Option<String>,
}

/// What a runtime can do; bindings use it to decide before calling.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Capabilities {
    pub images: bool,
    pub image_filesystems: bool,
    pub pull: bool,
    pub push: bool,
    pub containers: bool,
    pub exec: bool,
    pub pods: bool,
    pub snapshots: bool,
    pub events: bool,
}

/// An OS/architecture pair, as in an OCI index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this process runs on, in OCI (GOARCH) names.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        let variant = (architecture == "arm64").then(|| "v8".to_string());
        Platform { os: "linux".into(), architecture: architecture.into(), variant }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Platform> {
        let mut it = s.split('/');
        let os = it.next().filter(|x| !x.is_empty())?;
        let architecture = it.next().filter(|x| !x.is_empty())?;
        let variant = it.next().map(str::to_string);
        if it.next().is_some() {
            return None;
        }
        Some(Platform { os: os.into(), architecture: architecture.into(), variant })
    }

    /// True when an image for `other` runs here: same os and architecture, and the
    /// variant equal when both name one.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One image, as listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSummary {
    /// The image ID: the digest of its config.
    pub id: Digest,
    /// Names (`repo:tag`) as the store records them.
    pub repo_tags: Vec<String>,
    /// Canonical references (`repo@digest`).
    pub repo_digests: Vec<String>,
    /// The digest of the manifest the image was read from, where known.
    pub manifest_digest: Option<Digest>,
    /// Sum of the compressed layer sizes.
    pub size: u64,
    pub created: Option<String>,
    pub platform: Option<Platform>,
}

impl Default for ImageSummary {
    fn default() -> Self {
        ImageSummary {
            id: Digest::sha256_of(b""),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest_digest: None,
            size: 0,
            created: None,
            platform: None,
        }
    }
}

impl ImageSummary {
    /// A one-line description for messages: the first name and the short ID.
    pub fn describe(&self) -> String {
        let short = &self.id.hex()[..12.min(self.id.hex().len())];
        match self.repo_tags.first().or(self.repo_digests.first()) {
            Some(name) => format!("{name} ({short})"),
            None => short.to_string(),
        }
    }
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One layer of an image.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// Digest of the blob as stored (compressed).
    pub digest: Digest,
    /// Digest of the uncompressed tar, from the image config.
    pub diff_id: Option<Digest>,
    pub media_type: String,
    pub compression: Compression,
    /// Size of the blob in bytes.
    pub size: u64,
}

/// A whiteout or opaque marker found in a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerChanges {
    /// Paths that this layer deletes from the layers below (from `.wh.NAME` markers).
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents this layer hides (from `.wh..wh..opq`).
    pub opaques: Vec<String>,
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    Created,
    Running,
    Paused,
    Stopped,
    Unknown,
}

/// A container's state, with its pid while it runs and its exit code once it stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: ContainerStatus,
    pub pid: Option<u32>,
    pub exit_code: Option<i32>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// One container, as listings show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    pub names: Vec<String>,
    /// The image reference the container was created from.
    pub image: String,
    pub image_id: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub state: ContainerState,
    pub created: Option<String>,
    /// The pod the container belongs to, on runtimes that have pods.
    pub pod: Option<String>,
}

/// One process of a container, read from the host's /proc.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// The pid inside the container's pid namespace.
    pub pid: u32,
    pub host_pid: u32,
    pub ppid: u32,
    pub name: String,
    pub cmdline: Vec<String>,
    pub cwd: Option<String>,
    pub environ: Vec<String>,
    pub exe: Option<String>,
    /// Real, effective, saved and filesystem uid.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    /// The state letter of /proc/PID/stat ("R", "S", ...).
    pub status: String,
    /// Start time, seconds since the Unix epoch.
    pub start_time: Option<f64>,
    pub children: Vec<u32>,
}

/// One pod (CRI sandbox or Podman pod).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodSummary {
    pub id: String,
    pub name: String,
    pub state: String,
    pub containers: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<String>,
}

/// How to pull an image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PullOptions {
    pub username: Option<String>,
    pub password: Option<String>,
    /// `os/arch[/variant]`; the runtime's platform by default.
    pub platform: Option<String>,
    /// Speak plain HTTP to the registry (for local test registries).
    pub plain_http: bool,
}

/// How to push an image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushOptions {
    pub username: Option<String>,
    pub password: Option<String>,
    /// Speak plain HTTP to the registry (for local test registries; Docker decides this
    /// itself: it allows plain HTTP for 127.0.0.0/8 and its configured insecure registries).
    pub plain_http: bool,
}

/// Progress of one blob of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullProgress {
    /// The blob (a layer, the config, a manifest).
    pub digest: String,
    /// `resolved`, `downloading`, `exists` (already in the store), `done`, `unpacking`,
    /// `unpacked`; for a push, `uploading`, `exists`, `pushed`.
    pub status: String,
    /// Bytes so far, and the blob's size.
    pub offset: u64,
    pub total: u64,
}

/// An event of a runtime's event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339.
    pub time: Option<String>,
    pub namespace: Option<String>,
    /// The runtime's own topic (`/tasks/exit`, ...).
    pub topic: String,
    /// berth's name for it: `task-create`, `task-start`, `task-exit`, `task-delete`,
    /// `task-oom`, `task-paused`, `task-resumed`, `task-exec-added`, `task-exec-started`,
    /// `container-create`, `container-update`, `container-delete`, `image-create`,
    /// `image-update`, `image-delete`, `snapshot-prepare`, ... or `other`.
    pub kind: String,
    pub container_id: Option<String>,
    pub exec_id: Option<String>,
    pub pid: Option<u32>,
    pub exit_code: Option<i32>,
    pub image: Option<String>,
}

/// A snapshot of a snapshotter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub key: String,
    pub parent: Option<String>,
    /// `view`, `active` or `committed`.
    pub kind: String,
    pub labels: BTreeMap<String, String>,
    pub created: Option<String>,
}

/// A mount that makes a snapshot usable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

/// Disk use of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SnapshotUsage {
    pub size: i64,
    pub inodes: i64,
}
