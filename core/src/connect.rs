//! `connect()` and `detect()`: both walk the backend table (backends/mod.rs) and name
//! no backend themselves.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backends::{self, BACKENDS};
use crate::endpoint::{ConnectOptions, Detected, Endpoint};
use crate::error::{Error, ErrorKind, Result};
use crate::io_adapter;
use crate::runtime::Runtime;

/// Opens a runtime for `endpoint`, or for the first runtime [`detect`] finds when it is
/// `None`.
pub async fn connect(endpoint: Option<&str>, options: ConnectOptions) -> Result<Arc<dyn Runtime>> {
    let endpoint = match endpoint {
        Some(e) => Endpoint::parse(e)?,
        None => {
            let found = detect();
            let first = found.first().ok_or_else(|| {
                let mut checked = env_vars();
                checked.push("the well-known sockets");
                let (last, rest) = checked.split_last().expect("not empty");
                let checked =
                    if rest.is_empty() { last.to_string() } else { format!("{} and {last}", rest.join(", ")) };
                Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "no container runtime found on this host (checked {checked}); name an endpoint, \
                         e.g. oci-archive:///path/to/image.tar"
                    ),
                )
            })?;
            Endpoint::parse(&first.endpoint)?
        }
    };
    let Some(backend) = backends::for_kind(endpoint.kind) else {
        return Err(Error::new(
            ErrorKind::NotSupported,
            format!("{endpoint}: the {} backend is not built into this berth", endpoint.kind.scheme()),
        ));
    };
    let rt = (backend.open)(endpoint, &options)?;
    Ok(if backend.daemon { io_adapter::on_io(rt) } else { rt })
}

/// The environment variables the built-in backends read.
fn env_vars() -> Vec<&'static str> {
    BACKENDS.iter().flat_map(|b| b.env.iter().map(|e| e.var)).collect()
}

/// Finds the runtimes this host offers: the environment variables of the built-in
/// backends (DOCKER_HOST, CONTAINER_HOST for Podman, CONTAINERD_ADDRESS with
/// CONTAINERD_NAMESPACE), then their well-known sockets (Podman's rootless one under
/// XDG_RUNTIME_DIR). Only sockets that exist are listed; nothing is connected to, but
/// a backend may add what it can tell within a second (containerd: its namespaces).
pub fn detect() -> Vec<Detected> {
    let mut found: Vec<Detected> = Vec::new();
    let mut push = |kind, endpoint: String, source: String| {
        if !found.iter().any(|d| d.endpoint == endpoint) {
            found.push(Detected { endpoint, kind, source, namespaces: Vec::new() });
        }
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    for e in BACKENDS.iter().flat_map(|b| b.env) {
        if let Some(value) = env(e.var) {
            push(e.kind, (e.endpoint)(e.kind, &value), e.var.to_string());
        }
    }
    let runtime_dir = env("XDG_RUNTIME_DIR");
    for s in BACKENDS.iter().flat_map(|b| b.sockets) {
        let path = match (s.in_runtime_dir, &runtime_dir) {
            (false, _) => PathBuf::from(s.path),
            (true, Some(dir)) => Path::new(dir).join(s.path),
            (true, None) => continue,
        };
        if is_socket(&path) {
            let p = path.display().to_string();
            push(s.kind, format!("{}://{p}", s.kind.scheme()), p);
        }
    }
    for d in &mut found {
        if let Some(probe) = backends::for_kind(d.kind).and_then(|b| b.probe) {
            probe(d);
        }
    }
    found
}

fn is_socket(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.file_type().is_socket()).unwrap_or(false)
}
