//! The Docker and Podman backend: the Engine API through bollard, and Podman's libpod
//! API for pods.
//!
//! Endpoints: `docker:///var/run/docker.sock`, `docker://tcp://host:2375`,
//! `docker://tcp://host:2376?tls=1&cert_path=DIR` (DOCKER_HOST, DOCKER_TLS_VERIFY and
//! DOCKER_CERT_PATH honoured by `detect()` and here), `podman:///run/podman/podman.sock`.
//! `?image_fs=auto|direct|api` chooses how image filesystems are read (images.rs).

mod address;
mod client;
mod containers;
mod events;
mod exec;
mod images;
mod libpod;
mod pods;
mod shared;
mod status;
mod task;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::container::{Container, Containers, CreateOptions};
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::model::{
    ContainerSummary, Event, ImageSummary, PodSummary, PullOptions, PullProgress, PushOptions, RuntimeKind, VersionInfo,
};
use crate::pod::{Pod, PodOptions, Pods};
use crate::runtime::{Events, ImageStore, Puller, Pusher, Runtime};
use crate::snapshot::Snapshotters;

pub use address::host_endpoint;
pub use client::Client;
pub use shared::ImageFsPath;
use shared::Shared;

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

#[async_trait]
impl Runtime for DockerRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn version(&self) -> Result<VersionInfo> {
        let s = &self.shared;
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
    }

    async fn list_images(&self) -> Result<Vec<ImageSummary>> {
        images::list(&self.shared).await
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        images::open(&self.shared, pattern).await
    }

    fn containers(&self) -> Option<&dyn Containers> {
        Some(self)
    }

    /// Pods are Podman's (its libpod API); Docker has none.
    fn pods(&self) -> Option<&dyn Pods> {
        self.shared.libpod.is_some().then_some(self as &dyn Pods)
    }

    fn image_store(&self) -> Option<&dyn ImageStore> {
        Some(self)
    }

    fn puller(&self) -> Option<&dyn Puller> {
        Some(self)
    }

    fn pusher(&self) -> Option<&dyn Pusher> {
        Some(self)
    }

    fn snapshots(&self) -> Option<&dyn Snapshotters> {
        None
    }

    fn events(&self) -> Option<&dyn Events> {
        Some(self)
    }
}

#[async_trait]
impl Puller for DockerRuntime {
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary> {
        images::pull(&self.shared, reference, options, progress).await
    }
}

#[async_trait]
impl Pusher for DockerRuntime {
    async fn push(
        &self,
        reference: &str,
        options: PushOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()> {
        images::push(&self.shared, reference, options, progress).await
    }
}

#[async_trait]
impl ImageStore for DockerRuntime {
    async fn tag(&self, source: &str, target: &str) -> Result<()> {
        images::tag(&self.shared, source, target).await
    }

    async fn remove(&self, pattern: &str) -> Result<()> {
        images::remove(&self.shared, pattern).await
    }

    async fn import(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        images::load(&self.shared, archive).await
    }

    async fn export(&self, patterns: &[String], archive: &Path) -> Result<()> {
        images::save(&self.shared, patterns, archive).await
    }
}

#[async_trait]
impl Events for DockerRuntime {
    async fn subscribe(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
        events::subscribe(&self.shared, filters).await
    }
}

#[async_trait]
impl Containers for DockerRuntime {
    async fn list(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        containers::list(&self.shared, filters).await
    }

    async fn create(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        Ok(Arc::new(containers::create(&self.shared, options).await?))
    }

    async fn open(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        Ok(Arc::new(containers::open(&self.shared, pattern).await?))
    }
}

#[async_trait]
impl Pods for DockerRuntime {
    async fn list(&self) -> Result<Vec<PodSummary>> {
        pods::list(&self.shared).await
    }

    async fn create(&self, options: PodOptions) -> Result<Arc<dyn Pod>> {
        Ok(Arc::new(pods::create(&self.shared, options).await?))
    }

    async fn open(&self, pattern: &str) -> Result<Arc<dyn Pod>> {
        Ok(Arc::new(pods::open(&self.shared, pattern).await?))
    }
}
