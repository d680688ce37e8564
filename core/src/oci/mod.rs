//! The offline backend: OCI layout directories, oci-archive and docker-archive tars.
//! It needs no daemon and is always built.

mod docker_archive;
mod files;
mod layout;

use async_trait::async_trait;
use oci_spec::image::ImageConfiguration;

use crate::digest::Digest;
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{Capabilities, ImageSummary, Platform, RuntimeKind, VersionInfo};
use crate::runtime::Runtime;
use files::Files;

/// A runtime over image files on disk. Listings re-read the store, so a layout
/// directory that changes is seen as it is now.
pub struct OfflineRuntime {
    endpoint: Endpoint,
    files: Files,
    platform: Platform,
    /// Which format the store holds (an oci-archive may hold a docker save, and the
    /// other way round: the content decides, the scheme only picks the default).
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

impl OfflineRuntime {
    pub fn open(endpoint: Endpoint, options: &ConnectOptions) -> Result<OfflineRuntime> {
        let platform = options.platform_for(&endpoint)?;
        let path = endpoint.path();
        let files = match endpoint.kind {
            RuntimeKind::Oci => Files::dir(&path)?,
            _ => Files::archive(&path)?,
        };
        let has_index = files.exists("index.json");
        let has_manifest = files.exists("manifest.json");
        let docker_format = match endpoint.kind {
            RuntimeKind::DockerArchive => has_manifest || !has_index,
            _ => has_manifest && !has_index,
        };
        if !has_index && !has_manifest {
            return Err(Error::corrupt(format!(
                "{endpoint}: neither an OCI layout (index.json) nor a docker save archive (manifest.json)"
            )));
        }
        Ok(OfflineRuntime { endpoint, files, platform, docker_format })
    }

    fn scan(&self) -> Result<Vec<Found>> {
        let found = if self.docker_format {
            docker_archive::scan(&self.files)?.into_iter().map(Found::Docker).collect()
        } else {
            layout::scan(&self.files, &self.platform)?.into_iter().map(Found::Oci).collect()
        };
        Ok(found)
    }
}

#[async_trait]
impl Runtime for OfflineRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { images: true, image_filesystems: true, ..Capabilities::default() }
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
        Ok(self.scan()?.iter().map(|f| f.summary().clone()).collect())
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        let found = self.scan()?;
        let summaries: Vec<ImageSummary> = found.iter().map(|f| f.summary().clone()).collect();
        let one = find::find_one_image(&summaries, pattern, &self.endpoint.to_string())?;
        let i = summaries.iter().position(|s| std::ptr::eq(s, one)).unwrap_or(0);
        match &found[i] {
            Found::Oci(f) => layout::open(&self.files, f),
            Found::Docker(f) => docker_archive::open(&self.files, f),
        }
    }
}

/// Parses a JSON document, turning any failure into Corrupt naming `what`.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(format!("{what}: bad JSON: {e}")).with_source(e))
}

/// The parts of a summary that come from the config.
fn config_summary(id: Digest, config: &ImageConfiguration) -> ImageSummary {
    ImageSummary {
        id,
        created: config.created().clone(),
        platform: Some(Platform {
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
        }),
        ..ImageSummary::default()
    }
}
