//! The Docker and Podman backend: the Engine API through bollard, and Podman's libpod
//! API for pods.
//!
//! Endpoints: `docker:///var/run/docker.sock`, `docker://tcp://host:2375`,
//! `docker://tcp://host:2376?tls=1&cert_path=DIR` (DOCKER_HOST, DOCKER_TLS_VERIFY and
//! DOCKER_CERT_PATH honoured by `detect()` and here), `podman:///run/podman/podman.sock`.
//! `?image_fs=auto|direct|api` chooses how image filesystems are read (images.rs).

mod client;
mod containers;
mod events;
mod exec;
mod images;
mod libpod;
mod pods;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::container::{Container, CreateOptions};
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::model::{
    Capabilities, ContainerSummary, Event, ImageSummary, PodSummary, PullOptions, PullProgress, PushOptions,
    RuntimeKind, VersionInfo,
};
use crate::pod::{Pod, PodOptions};
use crate::runtime::Runtime;

pub use client::Client;
pub use images::ImageFsPath;

/// What every part of the backend needs: the connection and the runtime's settings.
pub(crate) struct Shared {
    pub client: Client,
    /// Podman's own API, on podman:// endpoints.
    pub libpod: Option<libpod::Libpod>,
    pub kind: RuntimeKind,
    pub image_fs: ImageFsPath,
    /// Registry credentials from the connect options, used when a pull or push names none.
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Shared {
    /// The scheme, for NotSupported errors.
    pub fn scheme(&self) -> &'static str {
        self.kind.scheme()
    }

    pub fn libpod(&self, what: &str) -> Result<&libpod::Libpod> {
        self.libpod.as_ref().ok_or_else(|| Error::not_supported(self.scheme(), what))
    }
}

/// A runtime on one Docker or Podman daemon.
pub struct DockerRuntime {
    endpoint: Endpoint,
    shared: Arc<Shared>,
}

impl DockerRuntime {
    pub fn open(endpoint: Endpoint, options: &ConnectOptions) -> Result<DockerRuntime> {
        let client = Client::new(&endpoint, options.timeout())?;
        let image_fs = match endpoint.option("image_fs") {
            None | Some("auto") => ImageFsPath::Auto,
            Some("direct") => ImageFsPath::Direct,
            Some("api") => ImageFsPath::Api,
            Some(other) => {
                return Err(Error::invalid(format!("{endpoint}: image_fs={other:?}: expected auto, direct or api")))
            }
        };
        let libpod = (endpoint.kind == RuntimeKind::Podman)
            .then(|| libpod::Libpod::new(endpoint.to_string(), client.address.clone()));
        let shared = Shared {
            client,
            libpod,
            kind: endpoint.kind,
            image_fs,
            username: options.username.clone(),
            password: options.password.clone(),
        };
        Ok(DockerRuntime { endpoint, shared: Arc::new(shared) })
    }
}

/// Runs `fut` on berth's I/O runtime with the shared state (bollard's connections live
/// there, whichever runtime the caller awaits on).
async fn on_io<T, F, Fut>(shared: &Arc<Shared>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<Shared>) -> Fut,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
{
    crate::io::run(f(shared.clone())).await
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            images: true,
            image_filesystems: true,
            pull: true,
            push: true,
            containers: true,
            exec: true,
            pods: self.endpoint.kind == RuntimeKind::Podman,
            snapshots: false,
            events: true,
        }
    }

    async fn version(&self) -> Result<VersionInfo> {
        on_io(&self.shared, |s| async move {
            let api = s.client.api().await?;
            let v = api.version().await.map_err(|e| s.client.error("version", e))?;
            // Podman names itself in the components; Docker says "Engine".
            let name = v
                .components
                .as_ref()
                .and_then(|c| c.iter().find(|c| c.name.contains("Podman") || c.name == "Engine"))
                .map(|c| if c.name == "Engine" { "Docker Engine".to_string() } else { c.name.clone() })
                .unwrap_or_else(|| "Docker Engine".into());
            Ok(VersionInfo {
                kind: s.kind,
                name,
                version: v.version.unwrap_or_default(),
                api_version: Some(s.client.api_version().await?),
            })
        })
        .await
    }

    async fn list_images(&self) -> Result<Vec<ImageSummary>> {
        on_io(&self.shared, |s| async move { images::list(&s).await }).await
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        let pattern = pattern.to_string();
        on_io(&self.shared, |s| async move { images::open(&s, &pattern).await }).await
    }

    async fn pull_image(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary> {
        let reference = reference.to_string();
        on_io(&self.shared, |s| async move { images::pull(&s, &reference, options, progress).await }).await
    }

    async fn push_image(
        &self,
        reference: &str,
        options: PushOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()> {
        let reference = reference.to_string();
        on_io(&self.shared, |s| async move { images::push(&s, &reference, options, progress).await }).await
    }

    async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        let (source, target) = (source.to_string(), target.to_string());
        on_io(&self.shared, |s| async move { images::tag(&s, &source, &target).await }).await
    }

    async fn remove_image(&self, pattern: &str) -> Result<()> {
        let pattern = pattern.to_string();
        on_io(&self.shared, |s| async move { images::remove(&s, &pattern).await }).await
    }

    async fn import_images(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        let archive = archive.to_path_buf();
        on_io(&self.shared, |s| async move { images::load(&s, &archive).await }).await
    }

    async fn export_images(&self, patterns: &[String], archive: &Path) -> Result<()> {
        let (patterns, archive) = (patterns.to_vec(), archive.to_path_buf());
        on_io(&self.shared, |s| async move { images::save(&s, &patterns, &archive).await }).await
    }

    async fn events(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
        let filters = filters.to_vec();
        on_io(&self.shared, |s| async move { events::subscribe(&s, &filters).await }).await
    }

    async fn list_containers(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        let filters = filters.to_vec();
        on_io(&self.shared, |s| async move { containers::list(&s, &filters).await }).await
    }

    async fn create_container(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        let c = on_io(&self.shared, |s| async move { containers::create(&s, options).await }).await?;
        Ok(Arc::new(c))
    }

    async fn open_container(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        let pattern = pattern.to_string();
        let c = on_io(&self.shared, |s| async move { containers::open(&s, &pattern).await }).await?;
        Ok(Arc::new(c))
    }

    async fn list_pods(&self) -> Result<Vec<PodSummary>> {
        on_io(&self.shared, |s| async move { pods::list(&s).await }).await
    }

    async fn create_pod(&self, options: PodOptions) -> Result<Arc<dyn Pod>> {
        let p = on_io(&self.shared, |s| async move { pods::create(&s, options).await }).await?;
        Ok(Arc::new(p))
    }

    async fn open_pod(&self, pattern: &str) -> Result<Arc<dyn Pod>> {
        let pattern = pattern.to_string();
        let p = on_io(&self.shared, |s| async move { pods::open(&s, &pattern).await }).await?;
        Ok(Arc::new(p))
    }
}

/// Docker's IDs are `sha256:HEX` for images; Podman's compatible API sometimes sends
/// the bare hex.
fn image_digest(id: &str) -> Result<crate::digest::Digest> {
    let full = if id.contains(':') { id.to_string() } else { format!("sha256:{id}") };
    full.parse().map_err(|_| Error::internal(format!("the daemon sent a malformed image ID {id:?}")))
}

/// The overlay directories a storage driver names (`GraphDriver.Data`), bottom first:
/// `LowerDir` (listed top first), then `UpperDir`. None without an upper directory.
fn overlay_dirs(driver: &bollard::models::DriverData) -> Option<Vec<std::path::PathBuf>> {
    let upper = driver.data.get("UpperDir")?;
    let mut dirs: Vec<std::path::PathBuf> = driver
        .data
        .get("LowerDir")
        .map(|l| l.split(':').filter(|p| !p.is_empty()).map(std::path::PathBuf::from).collect())
        .unwrap_or_default();
    dirs.reverse();
    dirs.push(upper.into());
    Some(dirs)
}

/// Names Docker shows for "no name".
fn real_names(names: Vec<String>) -> Vec<String> {
    names.into_iter().filter(|n| n != "<none>:<none>" && n != "<none>@<none>" && !n.is_empty()).collect()
}

/// Copies a byte stream from the daemon into a file, leaving no partial file behind.
async fn write_stream_to<S>(client: &Client, what: &str, mut stream: S, dest: &Path) -> Result<()>
where
    S: futures_util::Stream<Item = std::result::Result<bytes::Bytes, bollard::errors::Error>> + Unpin,
{
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let part = crate::util::part_path(dest);
    // Every message says what was asked and where it was going.
    let io = |step: &str, e| Error::io(format!("{what} to {}: {step} {}", dest.display(), part.display()), e);
    let result = async {
        let mut f = tokio::fs::File::create(&part).await.map_err(|e| io("create", e))?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| client.error(what, e))?;
            f.write_all(&chunk).await.map_err(|e| io("write", e))?;
        }
        f.flush().await.map_err(|e| io("write", e))?;
        f.sync_all().await.map_err(|e| io("sync", e))?;
        tokio::fs::rename(&part, dest).await.map_err(|e| io("rename", e))
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}
