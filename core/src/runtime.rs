//! The runtime: a connection to one endpoint, and `connect()`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::endpoint::{detect, ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{Capabilities, ContainerSummary, ImageSummary, PodSummary, RuntimeKind, VersionInfo};

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

    async fn list_containers(&self) -> Result<Vec<ContainerSummary>> {
        Err(Error::not_supported(self.kind().scheme(), "listing containers"))
    }

    async fn list_pods(&self) -> Result<Vec<PodSummary>> {
        Err(Error::not_supported(self.kind().scheme(), "listing pods"))
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
            let rt = crate::oci::OfflineRuntime::open(endpoint, &options)?;
            Ok(Arc::new(rt))
        }
        other => Err(Error::new(
            crate::ErrorKind::NotSupported,
            format!("{endpoint}: the {} backend is not built into this berth", other.scheme()),
        )),
    }
}
