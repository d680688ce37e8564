//! The runtime: a connection to one endpoint, and `connect()`.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use async_trait::async_trait;

use crate::container::{Container, CreateOptions};
use crate::endpoint::{detect, ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{
    Capabilities, ContainerSummary, Event, ImageSummary, PodSummary, PullOptions, PullProgress, PushOptions,
    RuntimeKind, VersionInfo,
};
use crate::pod::{Pod, PodOptions};
use crate::snapshot::Snapshots;

/// A connection to one endpoint. Every method may be called from many tasks at once.
///
/// Operations a backend lacks return [`crate::ErrorKind::NotSupported`] naming it;
/// [`Runtime::capabilities`] says beforehand which those are.
#[async_trait]
pub trait Runtime: Send + Sync {
    /// The endpoint this runtime was opened on.
    fn endpoint(&self) -> &Endpoint;

    fn kind(&self) -> RuntimeKind {
        self.endpoint().kind
    }

    fn capabilities(&self) -> Capabilities;

    async fn version(&self) -> Result<VersionInfo>;

    /// Every image of the runtime.
    async fn list_images(&self) -> Result<Vec<ImageSummary>>;

    /// The images `pattern` matches, by the find rules (DESIGN.md §2).
    async fn find_images(&self, pattern: &str) -> Result<Vec<ImageSummary>> {
        let all = self.list_images().await?;
        Ok(find::find_images(&all, pattern)?.into_iter().cloned().collect())
    }

    /// Opens the one image `pattern` matches (NotFound or Ambiguous otherwise).
    async fn open_image(&self, pattern: &str) -> Result<Image>;

    /// The containers, optionally filtered (backend filter syntax; containerd:
    /// `labels."key"==value`, `image==name`; several filters are ORed).
    async fn list_containers(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        let _ = filters;
        Err(Error::not_supported(self.kind().scheme(), "listing containers"))
    }

    /// The containers `pattern` matches: an exact ID or name, else an ID prefix.
    async fn find_containers(&self, pattern: &str) -> Result<Vec<ContainerSummary>> {
        let all = self.list_containers(&[]).await?;
        let exact: Vec<_> =
            all.iter().filter(|c| c.id == pattern || c.names.iter().any(|n| n == pattern)).cloned().collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        Ok(all.into_iter().filter(|c| c.id.starts_with(pattern)).collect())
    }

    /// Pulls `reference` from its registry; progress goes to `progress` as it happens.
    async fn pull_image(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary> {
        let _ = (reference, options, progress);
        Err(Error::not_supported(self.kind().scheme(), "pulling images"))
    }

    /// Pushes the image named `reference` (`registry/repo:tag`) to its registry; progress
    /// goes to `progress` per blob.
    async fn push_image(
        &self,
        reference: &str,
        options: PushOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()> {
        let _ = (reference, options, progress);
        Err(Error::not_supported(self.kind().scheme(), "pushing images"))
    }

    /// Gives the image `source` (find rules) the extra name `target`.
    async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        let _ = (source, target);
        Err(Error::not_supported(self.kind().scheme(), "tagging images"))
    }

    /// Removes a name; given an ID, removes the image with all its names.
    async fn remove_image(&self, pattern: &str) -> Result<()> {
        let _ = pattern;
        Err(Error::not_supported(self.kind().scheme(), "removing images"))
    }

    /// Imports the images of an oci-archive or docker-archive tar.
    async fn import_images(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        let _ = archive;
        Err(Error::not_supported(self.kind().scheme(), "importing images"))
    }

    /// Writes the images `patterns` name to a tar: an oci-archive from containerd, the
    /// daemon's own `save` format (a docker-archive) from Docker and Podman.
    async fn export_images(&self, patterns: &[String], archive: &Path) -> Result<()> {
        let _ = (patterns, archive);
        Err(Error::not_supported(self.kind().scheme(), "exporting images"))
    }

    /// The runtime's events from now on (filters in the backend's syntax). The stream
    /// ends when the receiver is dropped.
    async fn events(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
        let _ = filters;
        Err(Error::not_supported(self.kind().scheme(), "events"))
    }

    /// The snapshots of `snapshotter` (the runtime's default when `None`).
    fn snapshots(&self, snapshotter: Option<&str>) -> Result<Arc<dyn Snapshots>> {
        let _ = snapshotter;
        Err(Error::not_supported(self.kind().scheme(), "snapshots"))
    }

    /// Creates a container (not started).
    async fn create_container(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        let _ = options;
        Err(Error::not_supported(self.kind().scheme(), "creating containers"))
    }

    /// Opens the one container `pattern` matches (NotFound or Ambiguous otherwise).
    async fn open_container(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        let _ = pattern;
        Err(Error::not_supported(self.kind().scheme(), "opening containers"))
    }

    async fn list_pods(&self) -> Result<Vec<PodSummary>> {
        Err(Error::not_supported(self.kind().scheme(), "listing pods"))
    }

    async fn create_pod(&self, options: PodOptions) -> Result<Arc<dyn Pod>> {
        let _ = options;
        Err(Error::not_supported(self.kind().scheme(), "creating pods"))
    }

    /// Opens the one pod `pattern` matches: an exact ID or name, else an ID prefix.
    async fn open_pod(&self, pattern: &str) -> Result<Arc<dyn Pod>> {
        let _ = pattern;
        Err(Error::not_supported(self.kind().scheme(), "opening pods"))
    }
}

/// Opens a runtime for `endpoint`, or for the first runtime [`detect`] finds when it is
/// `None`.
pub async fn connect(endpoint: Option<&str>, options: ConnectOptions) -> Result<Arc<dyn Runtime>> {
    let endpoint = match endpoint {
        Some(e) => Endpoint::parse(e)?,
        None => {
            let found = detect();
            let first = found.first().ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Unavailable,
                    "no container runtime found on this host (checked DOCKER_HOST, CONTAINER_HOST, \
                     CONTAINERD_ADDRESS and the well-known sockets); name an endpoint, e.g. \
                     oci-archive:///path/to/image.tar",
                )
            })?;
            Endpoint::parse(&first.endpoint)?
        }
    };
    match endpoint.kind {
        RuntimeKind::Oci | RuntimeKind::OciArchive | RuntimeKind::DockerArchive => {
            let rt = crate::backends::oci::OfflineRuntime::open(endpoint, &options)?;
            Ok(Arc::new(rt))
        }
        #[cfg(feature = "containerd")]
        RuntimeKind::Containerd => Ok(Arc::new(crate::backends::containerd::ContainerdRuntime::open(endpoint, &options)?)),
        #[cfg(feature = "docker")]
        RuntimeKind::Docker | RuntimeKind::Podman => {
            Ok(Arc::new(crate::backends::docker::DockerRuntime::open(endpoint, &options)?))
        }
        other => Err(Error::new(
            crate::ErrorKind::NotSupported,
            format!("{endpoint}: the {} backend is not built into this berth", other.scheme()),
        )),
    }
}
