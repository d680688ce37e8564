//! Images in containerd: listed from its image store, resolved to the manifest for the
//! platform, and read from its content store by the same engine as every backend.

use std::collections::BTreeMap;

use containerd_client::services::v1::{DeleteImageRequest, ListImagesRequest};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use serde_json::Value;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::content::{read_blob, ContentBlob};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::{Image, Layer};
use crate::model::{ImageSummary, Platform};

const INDEX_TYPES: &[&str] =
    &["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/// An image record of containerd, resolved for one platform.
#[derive(Clone)]
pub struct Resolved {
    pub name: String,
    pub target: Digest,
    pub manifest_digest: Digest,
    pub manifest: ImageManifest,
    pub manifest_bytes: Vec<u8>,
    pub config_bytes: Vec<u8>,
    pub config: ImageConfiguration,
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(format!("{what}: bad JSON: {e}")).with_source(e))
}

fn digest_of(d: &Descriptor, what: &str) -> Result<Digest> {
    d.digest().to_string().parse().map_err(|e: Error| Error::corrupt(format!("{what}: {}", e.message())))
}

/// Follows `target` (a manifest, or an index) to the manifest for `platform`.
pub async fn resolve(
    client: &Client,
    name: &str,
    target: Digest,
    media_type: &str,
    platform: &Platform,
) -> Result<Resolved> {
    let mut digest = target.clone();
    let mut media_type = media_type.to_string();
    // Nested indexes are legal; a few levels are plenty.
    for _ in 0..4 {
        let what = format!("image {name}: {digest}");
        let bytes = read_blob(client, &digest, &what).await?;
        let is_index = INDEX_TYPES.contains(&media_type.as_str())
            || serde_json::from_slice::<Value>(&bytes).ok().is_some_and(|v| v.get("manifests").is_some());
        if !is_index {
            let manifest: ImageManifest = parse(&bytes, &what)?;
            let config_digest = digest_of(manifest.config(), &what)?;
            let config_bytes = read_blob(client, &config_digest, &format!("image {name}: config")).await?;
            let config: ImageConfiguration = parse(&config_bytes, &format!("image {name}: config"))?;
            return Ok(Resolved {
                name: name.to_string(),
                target,
                manifest_digest: digest,
                manifest,
                manifest_bytes: bytes,
                config_bytes,
                config,
            });
        }
        let index: ImageIndex = parse(&bytes, &what)?;
        let chosen = choose_platform(index.manifests(), platform).ok_or_else(|| {
            let have: Vec<String> = index
                .manifests()
                .iter()
                .filter_map(|m| m.platform().as_ref().map(|p| format!("{}/{}", p.os(), p.architecture())))
                .collect();
            Error::not_found(format!("image {name}: no manifest for {platform} (the index has {})", have.join(", ")))
        })?;
        digest = digest_of(chosen, &what)?;
        media_type = chosen.media_type().to_string();
    }
    Err(Error::corrupt(format!("image {name}: indexes nested too deep")))
}

/// Resolved records, by containerd socket, platform and target digest. Content is
/// addressed by digest and never changes, so a resolution holds for as long as the
/// process lives; this saves three content reads per image on every listing.
static RESOLVED: once_cell::sync::Lazy<std::sync::Mutex<std::collections::HashMap<String, Resolved>>> =
    once_cell::sync::Lazy::new(Default::default);

/// [`resolve`], remembered.
pub async fn resolve_cached(
    client: &Client,
    name: &str,
    target: Digest,
    media_type: &str,
    platform: &Platform,
) -> Result<Resolved> {
    let key = format!("{}|{platform}|{target}", client.socket.display());
    let hit = RESOLVED.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
    if let Some(mut r) = hit {
        r.name = name.to_string();
        return Ok(r);
    }
    let r = resolve(client, name, target, media_type, platform).await?;
    let mut cache = RESOLVED.lock().unwrap_or_else(|p| p.into_inner());
    // A bound, for processes that see very many images: start over when it is reached.
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(key, r.clone());
    Ok(r)
}

/// The descriptor for `platform` in an index: the exact variant first, then any
/// variant; attestation manifests (`unknown/unknown`) never.
pub fn choose_platform<'a>(manifests: &'a [Descriptor], platform: &Platform) -> Option<&'a Descriptor> {
    let of = |d: &Descriptor| {
        d.platform().as_ref().map(|p| Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    };
    let candidates: Vec<(&Descriptor, Option<Platform>)> =
        manifests.iter().map(|d| (d, of(d))).filter(|(_, p)| p.as_ref().is_none_or(|p| p.os != "unknown")).collect();
    candidates
        .iter()
        .find(|(_, p)| p.as_ref() == Some(platform))
        .or_else(|| candidates.iter().find(|(_, p)| p.as_ref().is_some_and(|p| platform.matches(p))))
        .or_else(|| candidates.iter().find(|(_, p)| p.is_none()))
        .map(|(d, _)| *d)
}

/// Every image of the namespace, one summary per image ID with all its names. Images
/// whose content is incomplete or lacks the platform are left out of listings.
pub async fn list(client: &Client, platform: &Platform) -> Result<Vec<(ImageSummary, Vec<Resolved>)>> {
    let c = client;
    let r =
        c.images().list(c.req(ListImagesRequest { filters: vec![] })).await.map_err(|s| c.error("list images", s))?;
    let images = r.into_inner().images;
    let mut by_id: BTreeMap<String, (ImageSummary, Vec<Resolved>)> = BTreeMap::new();
    for img in images {
        let Some(target) = img.target else { continue };
        let Ok(digest) = target.digest.parse::<Digest>() else { continue };
        let Ok(resolved) = resolve_cached(client, &img.name, digest, &target.media_type, platform).await else {
            continue;
        };
        let id = Digest::sha256_of(&resolved.config_bytes);
        let entry = by_id.entry(id.to_string()).or_insert_with(|| {
            let summary = ImageSummary {
                id: id.clone(),
                repo_tags: Vec::new(),
                repo_digests: Vec::new(),
                manifest_digest: Some(resolved.manifest_digest.clone()),
                // Sizes come from the manifest: saturate rather than wrap (the listing
                // goes on; opening the image checks every blob's size anyway).
                size: resolved.manifest.layers().iter().fold(0u64, |sum, l| sum.saturating_add(l.size())),
                created: resolved.config.created().clone(),
                platform: Some(Platform {
                    os: resolved.config.os().to_string(),
                    architecture: resolved.config.architecture().to_string(),
                    variant: resolved.config.variant().clone(),
                }),
            };
            (summary, Vec::new())
        });
        if img.name.contains('@') {
            entry.0.repo_digests.push(img.name.clone());
        } else {
            entry.0.repo_tags.push(img.name.clone());
            if let Some((repo, _)) = img.name.rsplit_once(':').filter(|(r, _)| !r.ends_with('/') && !r.is_empty()) {
                let canonical = format!("{repo}@{}", resolved.target);
                if !entry.0.repo_digests.contains(&canonical) {
                    entry.0.repo_digests.push(canonical);
                }
            }
        }
        entry.1.push(resolved);
    }
    Ok(by_id.into_values().collect())
}

/// The image of a resolved record, its layers read from the content store.
pub async fn open(client: &Client, summary: ImageSummary, r: &Resolved) -> Result<Image> {
    let diff_ids = r.config.rootfs().diff_ids();
    if diff_ids.len() != r.manifest.layers().len() {
        return Err(Error::corrupt(format!("image {}: manifest and config disagree on the number of layers", r.name)));
    }
    let mut layers = Vec::new();
    for (i, d) in r.manifest.layers().iter().enumerate() {
        let digest = digest_of(d, &r.name)?;
        let what = format!("layer {} ({digest}) of image {} in containerd", i + 1, r.name);
        let source = ContentBlob::open(client, &digest).await.map_err(|e| e.context(&what))?;
        layers.push(Layer::from_descriptor(digest, d.media_type().to_string(), d.size(), &diff_ids[i], source, what)?);
    }
    let manifest: Value = parse(&r.manifest_bytes, &r.name)?;
    Image::new(summary, manifest, r.config_bytes.clone(), layers)
}

/// Removes the image record `name` (content is left to containerd's garbage collector).
pub async fn remove(client: &Client, name: &str) -> Result<()> {
    let c = client;
    c.images()
        .delete(c.req(DeleteImageRequest { name: name.to_string(), sync: true, ..Default::default() }))
        .await
        .map_err(|s| c.error(format!("remove image {name}"), s))?;
    Ok(())
}
