//! Pulling from a registry into containerd (containerd 1.6 has no transfer service, so
//! the client does the work, as `ctr pull` does): resolve the reference, choose the
//! platform's manifest, stream every blob into the content store under a lease with
//! per-blob progress, record the image, and unpack its layers.

use std::collections::HashMap;

use containerd_client::types::Descriptor as ProtoDescriptor;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::content::read_blob;
use crate::backends::containerd::images::choose_platform;
use crate::backends::containerd::store::{self, UnpackLayer};
use crate::digest::{verify_bytes, Digest};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Platform, PullOptions, PullProgress};

const ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

fn registry_error(what: &str, e: oci_client::errors::OciDistributionError) -> Error {
    use oci_client::errors::OciDistributionError as E;
    let kind = match &e {
        E::AuthenticationFailure(_) | E::UnauthorizedError { .. } => ErrorKind::PermissionDenied,
        E::ImageManifestNotFoundError(_) => ErrorKind::NotFound,
        E::RequestError(r) if r.is_connect() || r.is_timeout() => ErrorKind::Unavailable,
        E::RegistryError { envelope, .. } if envelope.errors.iter().any(|x| names_the_unknown(&x.code)) => {
            ErrorKind::NotFound
        }
        _ => ErrorKind::Io,
    };
    Error::new(kind, format!("{what}: {e}")).with_source(e)
}

/// The registry's codes for a repository, manifest or blob it does not have.
fn names_the_unknown(code: &oci_client::errors::OciErrorCode) -> bool {
    use oci_client::errors::OciErrorCode as C;
    matches!(code, C::BlobUnknown | C::BlobUploadUnknown | C::ManifestBlobUnknown | C::ManifestUnknown | C::NameUnknown)
}

/// A blob download that broke off: the registry's connection ended (or failed) after
/// `received` of `size` bytes. Unavailable: the registry went away mid-transfer, and a
/// later pull may well work (it starts the blob again; nothing of this one is kept).
fn cut_short(registry: &str, digest: &str, received: u64, size: u64, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!("download blob {digest} from {registry}: the connection broke after {received} of {size} bytes: {e}"),
    )
}

struct Session {
    client: oci_client::Client,
    reference: oci_client::Reference,
    auth: RegistryAuth,
}

impl Session {
    async fn manifest(&self, reference: &oci_client::Reference) -> Result<(Vec<u8>, String)> {
        let (bytes, digest) = self
            .client
            .pull_manifest_raw(reference, &self.auth, ACCEPT)
            .await
            .map_err(|e| registry_error(&format!("pull manifest {}", reference.whole()), e))?;
        Ok((bytes.to_vec(), digest))
    }

    /// Streams one blob from the registry into containerd (skipped when present).
    async fn blob(
        &self,
        containerd: &Client,
        digest: &str,
        size: u64,
        labels: HashMap<String, String>,
        progress: &Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()> {
        let d: Digest = digest.parse()?;
        let report = |status: &str, offset: u64| {
            if let Some(p) = progress {
                let _ = p.send(PullProgress { digest: digest.to_string(), status: status.into(), offset, total: size });
            }
        };
        if store::has_blob(containerd, &d).await? && labels.is_empty() {
            report("exists", size);
            return Ok(());
        }
        report("resolved", 0);
        let mut sized = self
            .client
            .pull_blob_stream(&self.reference, digest)
            .await
            .map_err(|e| registry_error(&format!("pull blob {digest}"), e))?;
        let (tx, rx) = mpsc::channel(4);
        let registry = self.reference.resolve_registry().to_string();
        let feed = async move {
            let mut received = 0u64;
            loop {
                // The writer may stop wanting chunks (containerd failed) while the
                // registry is silent: that ends the download too.
                let chunk = tokio::select! {
                    _ = tx.closed() => break,
                    chunk = sized.stream.next() => chunk,
                };
                let Some(chunk) = chunk else { break };
                let item = match chunk {
                    Ok(b) => {
                        received += b.len() as u64;
                        Ok(b.to_vec())
                    }
                    Err(e) => Err(cut_short(&registry, digest, received, size, &e)),
                };
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        };
        let (_, written) = tokio::join!(feed, store::write_blob(containerd, &d, size, labels, rx, progress.clone()));
        written?;
        report("done", size);
        Ok(())
    }
}

/// Pulls `reference` into the client's namespace and unpacks it into `snapshotter`;
/// returns the image name recorded.
pub async fn pull(
    client: &Client,
    snapshotter: &str,
    default_platform: &Platform,
    reference: &str,
    options: PullOptions,
    progress: Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<String> {
    let parsed = crate::reference::Reference::parse(reference)?;
    let full = format!("{}/{}:{}", parsed.domain, parsed.path, parsed.tag_or_latest());
    let name = match &parsed.digest {
        Some(d) if parsed.tag.is_none() => format!("{}/{}@{d}", parsed.domain, parsed.path),
        _ => full.clone(),
    };
    let oci_ref: oci_client::Reference =
        name.parse().map_err(|e| Error::invalid(format!("image reference {reference:?}: {e}")))?;
    let platform = match &options.platform {
        Some(p) => {
            Platform::parse(p).ok_or_else(|| Error::invalid(format!("platform {p:?}: expected os/arch[/variant]")))?
        }
        None => default_platform.clone(),
    };
    let auth = match (&options.username, &options.password) {
        (Some(u), Some(p)) => RegistryAuth::Basic(u.clone(), p.clone()),
        _ => RegistryAuth::Anonymous,
    };
    let config = ClientConfig {
        protocol: if options.plain_http { ClientProtocol::Http } else { ClientProtocol::Https },
        ..Default::default()
    };
    let session = Session { client: oci_client::Client::new(config), reference: oci_ref.clone(), auth };
    let leased = store::create_lease(client).await?;
    let result = pull_leased(&leased, &session, snapshotter, &platform, &name, &progress).await;
    store::delete_lease(&leased).await;
    result.map(|()| name).map_err(|e| e.context(format!("pull {reference}")))
}

async fn pull_leased(
    c: &Client,
    session: &Session,
    snapshotter: &str,
    platform: &Platform,
    name: &str,
    progress: &Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<()> {
    let (top_bytes, top_digest) = session.manifest(&session.reference).await?;
    let top: Digest = top_digest.parse()?;
    verify_bytes(&top, &top_bytes, &format!("manifest of {name}"))?;
    let top_json: serde_json::Value = serde_json::from_slice(&top_bytes)
        .map_err(|e| Error::corrupt(format!("manifest of {name}: {e}")).with_source(e))?;
    let top_type = top_json.get("mediaType").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let is_index = top_json.get("manifests").is_some();

    // The platform's manifest, whether the reference names an index or a manifest.
    let (manifest_bytes, manifest_digest, manifest_type) = if is_index {
        let index: ImageIndex = serde_json::from_slice(&top_bytes)
            .map_err(|e| Error::corrupt(format!("index of {name}: {e}")).with_source(e))?;
        let chosen = choose_platform(index.manifests(), platform)
            .ok_or_else(|| Error::not_found(format!("image {name}: the index has no manifest for {platform}")))?;
        let d = chosen.digest().to_string();
        let (bytes, _) = session.manifest(&session.reference.clone_with_digest(d.clone())).await?;
        verify_bytes(&d.parse()?, &bytes, &format!("manifest {d} of {name}"))?;
        (bytes, d, chosen.media_type().to_string())
    } else {
        (top_bytes.clone(), top_digest.clone(), top_type.clone())
    };
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| Error::corrupt(format!("manifest of {name}: {e}")).with_source(e))?;
    let config_digest = manifest.config().digest().to_string();
    session.blob(c, &config_digest, manifest.config().size(), HashMap::new(), progress).await?;
    let config_bytes = read_blob(c, &config_digest.parse()?, &format!("config of {name}")).await?;
    let image_config: ImageConfiguration = serde_json::from_slice(&config_bytes)
        .map_err(|e| Error::corrupt(format!("config of {name}: {e}")).with_source(e))?;

    // Layers, in parallel: each is its own stream with its own progress.
    let layer_digests: Vec<String> = manifest.layers().iter().map(|l| l.digest().to_string()).collect();
    let jobs = manifest
        .layers()
        .iter()
        .zip(&layer_digests)
        .map(|(l, d)| session.blob(c, d, l.size(), HashMap::new(), progress));
    futures_util::future::try_join_all(jobs).await?;

    // Parents after children, each naming its children for the collector.
    let labels = store::manifest_labels(&config_digest, &layer_digests);
    let md: Digest = manifest_digest.parse()?;
    store::write_blob(
        c,
        &md,
        manifest_bytes.len() as u64,
        labels,
        store::chunks_of_bytes(manifest_bytes.clone()),
        None,
    )
    .await?;
    if is_index {
        let labels = HashMap::from([("containerd.io/gc.ref.content.m.0".to_string(), manifest_digest.clone())]);
        store::write_blob(c, &top, top_bytes.len() as u64, labels, store::chunks_of_bytes(top_bytes.clone()), None)
            .await?;
    }
    // OCI documents may leave mediaType out; the structure then says which it is.
    let media_type = match (top_type.is_empty(), is_index) {
        (false, _) => top_type,
        (true, true) => ACCEPT[0].to_string(),
        (true, false) if !manifest_type.is_empty() => manifest_type,
        (true, false) => ACCEPT[1].to_string(),
    };
    let target =
        ProtoDescriptor { media_type, digest: top.to_string(), size: top_bytes.len() as i64, ..Default::default() };
    store::set_image(c, name, target).await?;
    let diff_ids = image_config.rootfs().diff_ids();
    let layers = manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .map(|(l, diff_id)| UnpackLayer {
            media_type: l.media_type().to_string(),
            digest: l.digest().to_string(),
            size: l.size() as i64,
            diff_id: diff_id.clone(),
        })
        .collect();
    store::unpack(c, snapshotter, &config_digest, layers, progress.clone()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(codes: &str) -> Error {
        let doc = format!(r#"{{"errors": [{{"code": {codes}, "message": "as the registry put it"}}]}}"#);
        let envelope = serde_json::from_str(&doc).unwrap();
        registry_error("pull x", oci_client::errors::OciDistributionError::RegistryError { envelope, url: "u".into() })
    }

    #[test]
    fn a_registry_that_does_not_know_the_name_answers_not_found_by_its_code() {
        for code in ["MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN"] {
            assert_eq!(answered(&format!("{code:?}")).kind(), ErrorKind::NotFound, "{code}");
        }
        // Other codes, and codes the client does not know, are not NotFound.
        assert_eq!(answered(r#""DENIED""#).kind(), ErrorKind::Io);
        assert_eq!(answered(r#""SOMETHING_UNKNOWN""#).kind(), ErrorKind::Io);
        // The registry's error is kept as the source.
        let e = answered(r#""NAME_UNKNOWN""#);
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<oci_client::errors::OciDistributionError>()));
    }
}
