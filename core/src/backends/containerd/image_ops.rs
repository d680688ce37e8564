//! Image names and archives in containerd: tag, remove, import, export.

use std::collections::BTreeMap;
use std::path::Path;

use containerd_client::services::v1::GetImageRequest;
use containerd_client::types::Descriptor as ProtoDescriptor;
use serde_json::json;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::content::ContentBlob;
use crate::backends::containerd::images;
use crate::backends::containerd::store::{self, UnpackLayer};
use crate::backends::oci;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::{ImageSummary, Platform};
use crate::reference::Reference;

/// The name containerd records for a reference a user typed: fully qualified, with a
/// tag (`busybox` is `docker.io/library/busybox:latest`).
pub fn normalize(name: &str) -> Result<String> {
    let r = Reference::parse(name)?;
    Ok(match (&r.tag, &r.digest) {
        (None, Some(d)) => format!("{}@{d}", r.repository()),
        _ => format!("{}:{}", r.repository(), r.tag_or_latest()),
    })
}

async fn record_target(client: &Client, name: &str) -> Result<ProtoDescriptor> {
    let c = client;
    let r = c
        .images()
        .get(c.req(GetImageRequest { name: name.to_string() }))
        .await
        .map_err(|s| c.error(format!("image {name}"), s))?;
    r.into_inner().image.and_then(|i| i.target).ok_or_else(|| Error::corrupt(format!("image {name} has no target")))
}

/// Gives the image `source` matches the name `target`.
pub async fn tag(client: &Client, platform: &Platform, source: &str, target: &str) -> Result<()> {
    let all = images::list(client, platform).await?;
    let summaries: Vec<ImageSummary> = all.iter().map(|(s, _)| s.clone()).collect();
    let one = crate::find::find_one_image(&summaries, source, &format!("containerd namespace {}", client.namespace))?;
    let (_, resolved) = all.iter().find(|(s, _)| s.id == one.id).ok_or_else(|| Error::internal("image vanished"))?;
    let descriptor = record_target(client, &resolved[0].name).await?;
    store::set_image(client, &normalize(target)?, descriptor).await
}

/// Removes the name `pattern` (exactly as recorded, or normalised); an ID or a pattern
/// that matches one image by the find rules removes every name of that image.
pub async fn remove(client: &Client, platform: &Platform, pattern: &str) -> Result<()> {
    let all = images::list(client, platform).await?;
    let names: Vec<String> = all.iter().flat_map(|(_, rs)| rs.iter().map(|r| r.name.clone())).collect();
    let normalized = normalize(pattern).ok();
    if let Some(exact) = names.iter().find(|n| *n == pattern || Some(*n) == normalized.as_ref()) {
        return images::remove(client, exact).await;
    }
    let summaries: Vec<ImageSummary> = all.iter().map(|(s, _)| s.clone()).collect();
    let one = crate::find::find_one_image(&summaries, pattern, &format!("containerd namespace {}", client.namespace))?;
    let (_, resolved) = all.iter().find(|(s, _)| s.id == one.id).ok_or_else(|| Error::internal("image vanished"))?;
    for r in resolved {
        images::remove(client, &r.name).await?;
    }
    Ok(())
}

/// The name an imported image gets from its archive name: references as they are
/// (normalised); a bare tag, as OCI layouts often carry, becomes `localhost/import:TAG`.
fn import_name(name: &str) -> Result<String> {
    if !name.contains('/') && !name.contains(':') && !name.contains('@') {
        return normalize(&format!("localhost/import:{name}"));
    }
    normalize(name)
}

/// Imports every image of an oci-archive or docker-archive tar and unpacks it.
pub async fn import(
    client: &Client,
    snapshotter: &str,
    platform: &Platform,
    archive: &Path,
) -> Result<Vec<ImageSummary>> {
    std::fs::metadata(archive).map_err(|e| Error::io(format!("import {}", archive.display()), e))?;
    // The offline backend reads the archive, whichever format it is. Indexing a big tar
    // takes a while: not on a worker of the I/O runtime.
    let (path, platform_of_index) = (archive.to_path_buf(), platform.clone());
    let (offline, listed) = tokio::task::spawn_blocking(move || {
        let offline = oci::open_archive(&path, oci::Prefer::Oci, platform_of_index)?;
        let listed = offline.list()?;
        Ok::<_, Error>((offline, listed))
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))??;
    let leased = store::create_lease(client).await?;
    let mut out = Vec::new();
    let result: Result<()> = async {
        for summary in listed {
            let image = offline.open(summary.id.as_str())?;
            let mut layer_digests = Vec::new();
            let mut unpack_layers = Vec::new();
            let mut descriptors = Vec::new();
            for layer in image.layers() {
                let info = layer.info().clone();
                let source = layer_source(&image, &info.digest)?;
                store::write_blob(&leased, &info.digest, info.size, Default::default(), store::chunks_of_source(source), None).await?;
                layer_digests.push(info.digest.to_string());
                descriptors.push(json!({ "mediaType": info.media_type, "digest": info.digest, "size": info.size }));
                unpack_layers.push(UnpackLayer {
                    media_type: info.media_type.clone(),
                    digest: info.digest.to_string(),
                    size: info.size as i64,
                    diff_id: info.diff_id.map(|d| d.to_string()).unwrap_or_default(),
                });
            }
            // The config keeps its bytes, so the image keeps its ID.
            let config_bytes = image.config_bytes().to_vec();
            let config_digest = Digest::sha256_of(&config_bytes);
            store::write_blob(&leased, &config_digest, config_bytes.len() as u64, Default::default(), store::chunks_of_bytes(config_bytes.clone()), None).await?;
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len() },
                "layers": descriptors,
            });
            let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| Error::internal(e.to_string()))?;
            let manifest_digest = Digest::sha256_of(&manifest_bytes);
            let labels = store::manifest_labels(config_digest.as_str(), &layer_digests);
            store::write_blob(&leased, &manifest_digest, manifest_bytes.len() as u64, labels, store::chunks_of_bytes(manifest_bytes.clone()), None).await?;
            let target = ProtoDescriptor {
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                digest: manifest_digest.to_string(),
                size: manifest_bytes.len() as i64,
                ..Default::default()
            };
            let mut names: Vec<String> = summary.repo_tags.iter().filter_map(|n| import_name(n).ok()).collect();
            if names.is_empty() {
                names.push(format!("localhost/import:{}", &config_digest.hex()[..12]));
            }
            for n in &names {
                store::set_image(&leased, n, target.clone()).await?;
            }
            store::unpack(&leased, snapshotter, config_digest.as_str(), unpack_layers, None).await?;
            out.push(ImageSummary { repo_tags: names, manifest_digest: Some(manifest_digest), id: config_digest, ..summary });
        }
        Ok(())
    }
    .await;
    store::delete_lease(&leased).await;
    result.map(|()| out)
}

fn layer_source(image: &crate::image::Image, digest: &Digest) -> Result<std::sync::Arc<dyn crate::blob::BlobSource>> {
    image
        .layers()
        .iter()
        .find(|l| &l.info().digest == digest)
        .and_then(|l| l.source())
        .ok_or_else(|| Error::internal(format!("layer {digest} vanished")))
}

/// Writes the images `patterns` name to an oci-archive at `path`, named as in
/// containerd (`org.opencontainers.image.ref.name` and `io.containerd.image.name`).
pub async fn export(client: &Client, platform: &Platform, patterns: &[String], path: &Path) -> Result<()> {
    let all = images::list(client, platform).await?;
    let summaries: Vec<ImageSummary> = all.iter().map(|(s, _)| s.clone()).collect();
    let mut blobs: BTreeMap<String, Digest> = BTreeMap::new();
    let mut index_entries = Vec::new();
    let mut small: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for p in patterns {
        let one = crate::find::find_one_image(&summaries, p, &format!("containerd namespace {}", client.namespace))?;
        let (_, resolved) =
            all.iter().find(|(s, _)| s.id == one.id).ok_or_else(|| Error::internal("image vanished"))?;
        let r = &resolved[0];
        small.insert(r.manifest_digest.to_string(), r.manifest_bytes.clone());
        small.insert(Digest::sha256_of(&r.config_bytes).to_string(), r.config_bytes.clone());
        for l in r.manifest.layers() {
            let d: Digest = l.digest().to_string().parse()?;
            blobs.insert(d.to_string(), d);
        }
        for name in resolved.iter().map(|r| r.name.clone()) {
            index_entries.push(json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": r.manifest_digest,
                "size": r.manifest_bytes.len(),
                "annotations": { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name },
            }));
        }
    }
    let index = serde_json::to_vec(&json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index_entries }))
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut sources = Vec::new();
    for d in blobs.values() {
        sources.push((d.clone(), ContentBlob::open(client, d).await?));
    }
    let path = path.to_path_buf();
    let what = format!("export {} to {}", patterns.join(" "), path.display());
    tokio::task::spawn_blocking(move || {
        // Written beside the destination and renamed: a failure (a full disk) leaves
        // neither a partial archive nor the part file behind.
        let tmp = crate::util::part_path(&path);
        let written = write_archive(&tmp, &what, &index, &small, sources)
            .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| Error::io(format!("{what}: rename"), e)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?
}

fn write_archive(
    tmp: &Path,
    what: &str,
    index: &[u8],
    small: &BTreeMap<String, Vec<u8>>,
    blobs: Vec<(Digest, std::sync::Arc<ContentBlob>)>,
) -> Result<()> {
    let what = format!("{what}: write {}", tmp.display());
    let file = std::fs::File::create(tmp).map_err(|e| Error::io(&what, e))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mut add = |name: &str, size: u64, data: &mut dyn std::io::Read| -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data).map_err(|e| Error::io(&what, e))
    };
    add("oci-layout", 30, &mut &br#"{"imageLayoutVersion":"1.0.0"}"#[..])?;
    add("index.json", index.len() as u64, &mut &index[..])?;
    for (d, bytes) in small {
        let d: Digest = d.parse()?;
        add(&format!("blobs/{}/{}", d.algorithm(), d.hex()), bytes.len() as u64, &mut &bytes[..])?;
    }
    for (d, source) in blobs {
        use crate::blob::BlobSource;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, crate::blob::BlobReader::new(&*source, 0));
        add(&format!("blobs/{}/{}", d.algorithm(), d.hex()), source.len(), &mut reader)?;
    }
    let file =
        tar.into_inner().and_then(|w| w.into_inner().map_err(|e| e.into_error())).map_err(|e| Error::io(&what, e))?;
    file.sync_all().map_err(|e| Error::io(&what, e))
}
