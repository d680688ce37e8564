//! The backends, one folder each, and the table that `connect()` and `detect()` walk.
//!
//! Adding a backend takes three things: its folder here (a `Runtime` and the services it
//! has), its row in [`BACKENDS`], and its cargo feature (core/Cargo.toml) that both sit
//! behind. Its schemes are [`RuntimeKind`]s: a scheme berth does not know yet is one more
//! kind in `RuntimeKind::ALL`.
//!
//! The backend folders know nothing of this table: it imports them, never the other way.

#[cfg(feature = "containerd")]
pub mod containerd;
#[cfg(feature = "docker")]
pub mod docker;
pub mod oci;

use std::sync::Arc;

use crate::endpoint::{ConnectOptions, Detected, Endpoint};
use crate::error::Result;
use crate::model::RuntimeKind;
use crate::runtime::Runtime;

/// One backend: what it opens, where `detect()` looks for it, how it opens.
pub struct Backend {
    /// Its name, as docs and messages say it.
    pub name: &'static str,
    /// The endpoint schemes it opens.
    pub kinds: &'static [RuntimeKind],
    /// Environment variables that name one of its endpoints, in the order `detect()`
    /// reads them (every backend's variables come before every backend's sockets).
    pub env: &'static [EnvEndpoint],
    /// Where its daemons listen by default, in the order `detect()` looks.
    pub sockets: &'static [Socket],
    /// Opens a runtime on an endpoint of one of its kinds.
    pub open: fn(Endpoint, &ConnectOptions) -> Result<Arc<dyn Runtime>>,
    /// Adds what it can tell about a runtime `detect()` found (containerd: its
    /// namespaces), asking it with a short timeout.
    pub probe: Option<fn(&mut Detected)>,
    /// True for a backend that talks to a daemon: `connect()` then runs its calls on
    /// berth's I/O runtime (io_adapter.rs). The offline backend reads files and runs
    /// where it is called.
    pub daemon: bool,
}

/// An environment variable that names an endpoint.
pub struct EnvEndpoint {
    pub var: &'static str,
    pub kind: RuntimeKind,
    /// The endpoint string for the variable's value.
    pub endpoint: fn(RuntimeKind, &str) -> String,
}

/// A well-known socket.
pub struct Socket {
    pub kind: RuntimeKind,
    /// An absolute path, or, with `in_runtime_dir`, one under `$XDG_RUNTIME_DIR`
    /// (looked at only when that is set).
    pub path: &'static str,
    pub in_runtime_dir: bool,
}

/// Every backend built into this berth, in the order `detect()` reports what it finds.
pub static BACKENDS: &[Backend] = &[
    #[cfg(feature = "docker")]
    Backend {
        name: "docker",
        kinds: &[RuntimeKind::Docker, RuntimeKind::Podman],
        env: &[
            EnvEndpoint { var: "DOCKER_HOST", kind: RuntimeKind::Docker, endpoint: docker::host_endpoint },
            EnvEndpoint { var: "CONTAINER_HOST", kind: RuntimeKind::Podman, endpoint: docker::host_endpoint },
        ],
        sockets: &[
            Socket { kind: RuntimeKind::Docker, path: "/var/run/docker.sock", in_runtime_dir: false },
            Socket { kind: RuntimeKind::Podman, path: "/run/podman/podman.sock", in_runtime_dir: false },
            Socket { kind: RuntimeKind::Podman, path: "podman/podman.sock", in_runtime_dir: true },
        ],
        open: open_docker,
        probe: None,
        daemon: true,
    },
    #[cfg(feature = "containerd")]
    Backend {
        name: "containerd",
        kinds: &[RuntimeKind::Containerd],
        env: &[EnvEndpoint {
            var: "CONTAINERD_ADDRESS",
            kind: RuntimeKind::Containerd,
            endpoint: containerd::address_endpoint,
        }],
        sockets: &[
            Socket { kind: RuntimeKind::Containerd, path: "/run/containerd/containerd.sock", in_runtime_dir: false },
            Socket {
                kind: RuntimeKind::Containerd,
                path: "/run/k3s/containerd/containerd.sock",
                in_runtime_dir: false,
            },
        ],
        open: open_containerd,
        probe: Some(probe_containerd),
        daemon: true,
    },
    Backend {
        name: "oci",
        kinds: &[RuntimeKind::Oci, RuntimeKind::OciArchive, RuntimeKind::DockerArchive],
        env: &[],
        sockets: &[],
        open: open_offline,
        probe: None,
        daemon: false,
    },
];

/// The backend that opens `kind`, when it is built in.
pub fn for_kind(kind: RuntimeKind) -> Option<&'static Backend> {
    BACKENDS.iter().find(|b| b.kinds.contains(&kind))
}

#[cfg(feature = "docker")]
fn open_docker(endpoint: Endpoint, options: &ConnectOptions) -> Result<Arc<dyn Runtime>> {
    Ok(Arc::new(docker::DockerRuntime::open(endpoint, options)?))
}

#[cfg(feature = "containerd")]
fn open_containerd(endpoint: Endpoint, options: &ConnectOptions) -> Result<Arc<dyn Runtime>> {
    Ok(Arc::new(containerd::ContainerdRuntime::open(endpoint, options)?))
}

#[cfg(feature = "containerd")]
fn probe_containerd(found: &mut Detected) {
    found.namespaces = containerd::namespaces_of(&found.endpoint);
}

fn open_offline(endpoint: Endpoint, options: &ConnectOptions) -> Result<Arc<dyn Runtime>> {
    Ok(Arc::new(oci::OfflineRuntime::open(endpoint, options)?))
}
