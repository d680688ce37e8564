//! Endpoint strings (`scheme://address?key=value&...`) and `detect()`.
//!
//! For the file-based schemes (`oci`, `oci-archive`, `docker-archive`) the address is a
//! path: `oci-archive:///abs/x.tar` is absolute, `oci-archive://rel/x.tar` is relative
//! to the working directory. Daemon schemes take a socket path or `host:port`.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Platform, RuntimeKind};

/// A parsed endpoint string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub kind: RuntimeKind,
    /// Everything between `://` and `?`: a path, a socket, or `host:port`.
    pub address: String,
    /// The `key=value` pairs after `?`.
    pub options: BTreeMap<String, String>,
}

impl Endpoint {
    /// Parses `scheme://address[?k=v&...]`.
    pub fn parse(s: &str) -> Result<Endpoint> {
        let bad = |why: String| Error::invalid(format!("endpoint {s:?}: {why}"));
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("expected scheme://address".into()))?;
        let kind = RuntimeKind::from_scheme(scheme).ok_or_else(|| {
            bad(format!(
                "unknown scheme {scheme:?} (expected docker, podman, containerd, cri, oci, \
                 oci-archive, docker-archive or registry)"
            ))
        })?;
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        if address.is_empty() {
            return Err(bad("empty address".into()));
        }
        let mut options = BTreeMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            options.insert(k.to_string(), v.to_string());
        }
        Ok(Endpoint { kind, address: address.to_string(), options })
    }

    /// The address as a filesystem path (for file-based schemes and unix sockets).
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.address)
    }

    /// An option from the query string.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind.scheme(), self.address)?;
        let mut sep = '?';
        for (k, v) in &self.options {
            write!(f, "{sep}{k}={v}")?;
            sep = '&';
        }
        Ok(())
    }
}

/// Options for opening a runtime; crosses the C ABI as JSON, every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectOptions {
    /// Default timeout of each call, in milliseconds (0 or absent: none).
    pub timeout_ms: Option<u64>,
    /// containerd namespace (overrides `?namespace=`).
    pub namespace: Option<String>,
    /// Platform to pick from multi-platform images (`os/arch[/variant]`); the host's by default.
    pub platform: Option<String>,
    /// Registry credentials.
    pub username: Option<String>,
    pub password: Option<String>,
}

impl ConnectOptions {
    /// The per-call timeout; absent or 0 means none.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout_ms.filter(|&ms| ms > 0).map(Duration::from_millis)
    }

    /// The platform to select, from the options, then the endpoint, then the host.
    pub fn platform_for(&self, endpoint: &Endpoint) -> Result<Platform> {
        match self.platform.as_deref().or(endpoint.option("platform")) {
            None => Ok(Platform::host()),
            Some(p) => {
                Platform::parse(p).ok_or_else(|| Error::invalid(format!("platform {p:?}: expected os/arch[/variant]")))
            }
        }
    }
}

/// A runtime found on this host by [`detect`].
#[derive(Debug, Clone, Serialize)]
pub struct Detected {
    /// The endpoint string to open it with.
    pub endpoint: String,
    pub kind: RuntimeKind,
    /// Why it was found: the environment variable or the well-known socket path.
    pub source: String,
    /// For containerd: its namespaces (Docker's objects are in `moby`, Kubernetes' in
    /// `k8s.io`), when it answered within a second.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// The well-known sockets, in the order detect() reports them.
const WELL_KNOWN: &[(RuntimeKind, &str)] = &[
    (RuntimeKind::Docker, "/var/run/docker.sock"),
    (RuntimeKind::Podman, "/run/podman/podman.sock"),
    (RuntimeKind::Containerd, "/run/containerd/containerd.sock"),
    (RuntimeKind::Containerd, "/run/k3s/containerd/containerd.sock"),
    (RuntimeKind::Cri, "/run/crio/crio.sock"),
];

/// Finds the runtimes this host offers: DOCKER_HOST, CONTAINER_HOST (Podman),
/// CONTAINERD_ADDRESS (with CONTAINERD_NAMESPACE), then the well-known sockets
/// (including Podman's rootless socket under XDG_RUNTIME_DIR). Only sockets that exist
/// are listed; nothing is connected to.
pub fn detect() -> Vec<Detected> {
    let mut found: Vec<Detected> = Vec::new();
    let mut push = |kind: RuntimeKind, endpoint: String, source: String| {
        if !found.iter().any(|d| d.endpoint == endpoint) {
            found.push(Detected { endpoint, kind, source, namespaces: Vec::new() });
        }
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(h) = env("DOCKER_HOST") {
        push(RuntimeKind::Docker, docker_style(RuntimeKind::Docker, &h), "DOCKER_HOST".into());
    }
    if let Some(h) = env("CONTAINER_HOST") {
        push(RuntimeKind::Podman, docker_style(RuntimeKind::Podman, &h), "CONTAINER_HOST".into());
    }
    if let Some(a) = env("CONTAINERD_ADDRESS") {
        let mut e = format!("containerd://{a}");
        if let Some(ns) = env("CONTAINERD_NAMESPACE") {
            e.push_str(&format!("?namespace={ns}"));
        }
        push(RuntimeKind::Containerd, e, "CONTAINERD_ADDRESS".into());
    }
    let mut sockets: Vec<(RuntimeKind, PathBuf)> = WELL_KNOWN.iter().map(|(k, p)| (*k, PathBuf::from(p))).collect();
    if let Some(xdg) = env("XDG_RUNTIME_DIR") {
        sockets.insert(2, (RuntimeKind::Podman, Path::new(&xdg).join("podman/podman.sock")));
    }
    for (kind, path) in sockets {
        if is_socket(&path) {
            let p = path.display().to_string();
            push(kind, format!("{}://{p}", kind.scheme()), p);
        }
    }
    #[cfg(feature = "containerd")]
    for d in found.iter_mut().filter(|d| d.kind == RuntimeKind::Containerd) {
        d.namespaces = containerd_namespaces(&d.endpoint);
    }
    found
}

/// Asks a containerd for its namespaces, giving up after a second.
#[cfg(feature = "containerd")]
fn containerd_namespaces(endpoint: &str) -> Vec<String> {
    let Ok(e) = Endpoint::parse(endpoint) else { return Vec::new() };
    let Ok(rt) = crate::containerd::ContainerdRuntime::open(e, &ConnectOptions::default()) else { return Vec::new() };
    crate::io::block(
        async move {
            Ok(tokio::time::timeout(Duration::from_secs(1), rt.namespaces())
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or_default())
        },
        None,
    )
    .unwrap_or_default()
}

/// `unix:///x.sock` and `tcp://h:p` as Docker writes them, in berth's endpoint form.
fn docker_style(kind: RuntimeKind, host: &str) -> String {
    match host.strip_prefix("unix://") {
        Some(path) => format!("{}://{path}", kind.scheme()),
        None => format!("{}://{host}", kind.scheme()),
    }
}

fn is_socket(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.file_type().is_socket()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("containerd:///run/c.sock?namespace=k8s.io").unwrap();
        assert_eq!(e.kind, RuntimeKind::Containerd);
        assert_eq!(e.address, "/run/c.sock");
        assert_eq!(e.option("namespace"), Some("k8s.io"));
        assert_eq!(e.to_string(), "containerd:///run/c.sock?namespace=k8s.io");
        let e = Endpoint::parse("oci-archive://rel/x.tar").unwrap();
        assert_eq!(e.path(), PathBuf::from("rel/x.tar"));
        assert!(Endpoint::parse("nope:///x").is_err());
        assert!(Endpoint::parse("oci://").is_err());
        assert!(Endpoint::parse("/just/a/path").is_err());
    }

    #[test]
    fn docker_host_forms() {
        assert_eq!(docker_style(RuntimeKind::Docker, "unix:///a.sock"), "docker:///a.sock");
        assert_eq!(docker_style(RuntimeKind::Docker, "tcp://1.2.3.4:2375"), "docker://tcp://1.2.3.4:2375");
    }
}
