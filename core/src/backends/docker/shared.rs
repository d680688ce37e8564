//! What every part of the Docker backend needs: the connection and the runtime's
//! settings, and the small conversions the parts share.

use std::path::Path;

use crate::backends::docker::client::Client;
use crate::backends::docker::libpod::Libpod;
use crate::error::{Error, Result};
use crate::model::RuntimeKind;

/// How image filesystems are read (images.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFsPath {
    Auto,
    Direct,
    Api,
}

/// What every part of the backend needs: the connection and the runtime's settings.
pub struct Shared {
    pub client: Client,
    /// Podman's own API, on podman:// endpoints.
    pub libpod: Option<Libpod>,
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

    pub fn libpod(&self, what: &str) -> Result<&Libpod> {
        self.libpod.as_ref().ok_or_else(|| Error::not_supported(self.scheme(), what))
    }
}

/// Docker's IDs are `sha256:HEX` for images; Podman's compatible API sometimes sends
/// the bare hex.
pub fn image_digest(id: &str) -> Result<crate::digest::Digest> {
    let full = if id.contains(':') { id.to_string() } else { format!("sha256:{id}") };
    full.parse().map_err(|_| Error::internal(format!("the daemon sent a malformed image ID {id:?}")))
}

/// The overlay directories a storage driver names (`GraphDriver.Data`), bottom first:
/// `LowerDir` (listed top first), then `UpperDir`. None without an upper directory.
pub fn overlay_dirs(driver: &bollard::models::DriverData) -> Option<Vec<std::path::PathBuf>> {
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
pub fn real_names(names: Vec<String>) -> Vec<String> {
    names.into_iter().filter(|n| n != "<none>:<none>" && n != "<none>@<none>" && !n.is_empty()).collect()
}

/// Copies a byte stream from the daemon into a file, leaving no partial file behind.
pub async fn write_stream_to<S>(client: &Client, what: &str, mut stream: S, dest: &Path) -> Result<()>
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
