//! The offline backend: OCI layout directories, oci-archive and docker-archive tars.
//! It needs no daemon and is always built.
//!
//! [`open_archive`] is its reader for the daemon backends, which import archives and
//! read what a daemon saved: a path, never an endpoint string (a `?` or `#` in a file
//! name is part of the name).

mod docker_archive;
mod documents;
mod files;
mod layout;

use std::path::Path;

use async_trait::async_trait;

use crate::container::Containers;
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{ImageSummary, Platform, RuntimeKind, VersionInfo};
use crate::pod::Pods;
use crate::runtime::{Events, ImageStore, Puller, Pusher, Runtime};
use crate::snapshot::Snapshotters;
use files::Files;

/// Which index of an archive is read when it holds both (Docker 25+ writes an OCI
/// layout beside its own manifest.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    Oci,
    Docker,
}

/// The images of one store on disk: a layout directory or an archive. Listings re-read
/// the store, so a layout directory that changes is seen as it is now.
pub struct OfflineStore {
    /// The store, as messages name it.
    name: String,
    files: Files,
    platform: Platform,
    /// Which format the store holds (an oci-archive may hold a docker save, and the
    /// other way round: the content decides, the preference only breaks a tie).
    docker_format: bool,
}

/// What listings found, with what is needed to open it. Short-lived, a few per store.
#[allow(clippy::large_enum_variant)]
enum Found {
    Oci(layout::FoundManifest),
    Docker(docker_archive::FoundEntry),
}

impl Found {
    fn summary(&self) -> &ImageSummary {
        match self {
            Found::Oci(f) => &f.summary,
            Found::Docker(f) => &f.summary,
        }
    }
}

/// Opens the oci-archive or docker-archive tar at `path`, whichever the content is;
/// `platform` is picked from multi-platform indexes.
pub fn open_archive(path: &Path, prefer: Prefer, platform: Platform) -> Result<OfflineStore> {
    OfflineStore::new(format!("archive {}", path.display()), Files::archive(path)?, prefer, platform)
}

impl OfflineStore {
    fn new(name: String, files: Files, prefer: Prefer, platform: Platform) -> Result<OfflineStore> {
        let has_index = files.exists("index.json");
        let has_manifest = files.exists("manifest.json");
        let docker_format = match prefer {
            Prefer::Docker => has_manifest || !has_index,
            Prefer::Oci => has_manifest && !has_index,
        };
        if !has_index && !has_manifest {
            return Err(Error::corrupt(format!(
                "{name}: neither an OCI layout (index.json) nor a docker save archive (manifest.json)"
            )));
        }
        Ok(OfflineStore { name, files, platform, docker_format })
    }

    fn scan(&self) -> Result<Vec<Found>> {
        let found = if self.docker_format {
            docker_archive::scan(&self.files)?.into_iter().map(Found::Docker).collect()
        } else {
            layout::scan(&self.files, &self.platform)?.into_iter().map(Found::Oci).collect()
        };
        Ok(found)
    }

    /// Every image of the store.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        Ok(self.scan()?.iter().map(|f| f.summary().clone()).collect())
    }

    /// The one image `pattern` matches (NotFound or Ambiguous otherwise).
    pub fn open(&self, pattern: &str) -> Result<Image> {
        let found = self.scan()?;
        let summaries: Vec<ImageSummary> = found.iter().map(|f| f.summary().clone()).collect();
        let one = find::find_one_image(&summaries, pattern, &self.name)?;
        let i = summaries.iter().position(|s| std::ptr::eq(s, one)).unwrap_or(0);
        match &found[i] {
            Found::Oci(f) => layout::open(&self.files, f),
            Found::Docker(f) => docker_archive::open(&self.files, f),
        }
    }
}

/// A runtime over image files on disk: images only.
pub struct OfflineRuntime {
    endpoint: Endpoint,
    store: OfflineStore,
}

impl OfflineRuntime {
    pub fn open(endpoint: Endpoint, options: &ConnectOptions) -> Result<OfflineRuntime> {
        let platform = options.platform_for(&endpoint)?;
        let path = endpoint.path();
        let files = match endpoint.kind {
            RuntimeKind::Oci => Files::dir(&path)?,
            _ => Files::archive(&path)?,
        };
        let prefer = if endpoint.kind == RuntimeKind::DockerArchive { Prefer::Docker } else { Prefer::Oci };
        let store = OfflineStore::new(endpoint.to_string(), files, prefer, platform)?;
        Ok(OfflineRuntime { endpoint, store })
    }
}

#[async_trait]
impl Runtime for OfflineRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn version(&self) -> Result<VersionInfo> {
        Ok(VersionInfo {
            kind: self.endpoint.kind,
            name: "berth offline".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: None,
        })
    }

    async fn list_images(&self) -> Result<Vec<ImageSummary>> {
        self.store.list()
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        self.store.open(pattern)
    }

    fn containers(&self) -> Option<&dyn Containers> {
        None
    }

    fn pods(&self) -> Option<&dyn Pods> {
        None
    }

    fn image_store(&self) -> Option<&dyn ImageStore> {
        None
    }

    fn puller(&self) -> Option<&dyn Puller> {
        None
    }

    fn pusher(&self) -> Option<&dyn Pusher> {
        None
    }

    fn snapshots(&self) -> Option<&dyn Snapshotters> {
        None
    }

    fn events(&self) -> Option<&dyn Events> {
        None
    }
}
