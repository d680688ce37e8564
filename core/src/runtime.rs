//! The runtime: a connection to one endpoint, and the services it may hand out.
//!
//! Every runtime lists and opens images. What else it can do comes as services, the way
//! containerd's Go client composes them: [`Runtime::containers`], [`Runtime::pods`],
//! [`Runtime::image_store`], [`Runtime::puller`], [`Runtime::pusher`],
//! [`Runtime::snapshots`], [`Runtime::events`] return the service, or `None` where the
//! backend lacks it. [`crate::need`] turns a `None` into the one NotSupported error, and
//! [`crate::model::Capabilities::of`] reads the same answers.

use std::path::Path;

use tokio::sync::mpsc;

use async_trait::async_trait;

use crate::container::Containers;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::find;
use crate::image::Image;
use crate::model::{Event, ImageSummary, PullOptions, PullProgress, PushOptions, RuntimeKind, VersionInfo};
use crate::pod::Pods;
use crate::snapshot::Snapshotters;

/// A connection to one endpoint. Every method may be called from many tasks at once.
#[async_trait]
pub trait Runtime: Send + Sync {
    /// The endpoint this runtime was opened on.
    fn endpoint(&self) -> &Endpoint;

    fn kind(&self) -> RuntimeKind {
        self.endpoint().kind
    }

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

    /// Containers: create, list, open.
    fn containers(&self) -> Option<&dyn Containers>;

    /// Pods (Podman pods; CRI sandboxes).
    fn pods(&self) -> Option<&dyn Pods>;

    /// Names and archives of images: tag, remove, import, export.
    fn image_store(&self) -> Option<&dyn ImageStore>;

    /// Pulls from registries.
    fn puller(&self) -> Option<&dyn Puller>;

    /// Pushes to registries.
    fn pusher(&self) -> Option<&dyn Pusher>;

    /// The snapshots of the runtime's snapshotters (containerd).
    fn snapshots(&self) -> Option<&dyn Snapshotters>;

    /// The runtime's event stream.
    fn events(&self) -> Option<&dyn Events>;
}

/// Names and archives of a runtime's images.
#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Gives the image `source` (find rules) the extra name `target`.
    async fn tag(&self, source: &str, target: &str) -> Result<()>;

    /// Removes a name; given an ID, removes the image with all its names.
    async fn remove(&self, pattern: &str) -> Result<()>;

    /// Imports the images of an oci-archive or docker-archive tar.
    async fn import(&self, archive: &Path) -> Result<Vec<ImageSummary>>;

    /// Writes the images `patterns` name to a tar: an oci-archive from containerd, the
    /// daemon's own `save` format (a docker-archive) from Docker and Podman.
    async fn export(&self, patterns: &[String], archive: &Path) -> Result<()>;
}

/// Pulls images from registries.
#[async_trait]
pub trait Puller: Send + Sync {
    /// Pulls `reference` from its registry; progress goes to `progress` as it happens.
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary>;
}

/// Pushes images to registries.
#[async_trait]
pub trait Pusher: Send + Sync {
    /// Pushes the image named `reference` (`registry/repo:tag`) to its registry; progress
    /// goes to `progress` per blob.
    async fn push(
        &self,
        reference: &str,
        options: PushOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()>;
}

/// A runtime's event stream.
#[async_trait]
pub trait Events: Send + Sync {
    /// The runtime's events from now on (filters in the backend's syntax). The stream
    /// ends when the receiver is dropped.
    async fn subscribe(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>>;
}
