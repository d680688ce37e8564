//! `docker save` archives: manifest.json naming a config and layer tars per image, in
//! the legacy layout (`<id>/layer.tar`, shared layers as symlinks) or in the OCI layout
//! that Docker 25 and later write beside it (`blobs/sha256/<hex>`).

use std::collections::HashMap;

use oci_spec::image::ImageConfiguration;
use serde::Deserialize;
use serde_json::json;

use crate::backends::oci::documents::{config_summary, parse_json};
use crate::backends::oci::files::Files;
use crate::digest::{verify_bytes, Digest};
use crate::error::{Error, ErrorKind, Result};
use crate::fs::compression;
use crate::fs::layer::{LayerBlob, Verify};
use crate::image::{Image, Layer};
use crate::model::{ImageSummary, LayerInfo};

/// One entry of manifest.json.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
    #[serde(default)]
    pub layer_sources: Option<HashMap<String, SourceDescriptor>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceDescriptor {
    pub media_type: String,
}

pub struct FoundEntry {
    pub summary: ImageSummary,
    pub entry: Entry,
}

pub fn scan(files: &Files) -> Result<Vec<FoundEntry>> {
    let what = format!("{}: manifest.json", files.describe());
    let entries: Vec<Entry> = parse_json(&files.read("manifest.json")?, &what)?;
    let mut out = Vec::new();
    for entry in entries {
        let (id, config, _) = read_config(files, &entry)?;
        let mut summary = config_summary(id, &config);
        summary.repo_tags = entry.repo_tags.clone().unwrap_or_default();
        // Member sizes are bounded by the archive, but one member may be listed any number
        // of times: the sum is checked all the same.
        summary.size = entry
            .layers
            .iter()
            .map(|l| files.open(l).map(|b| b.len()).unwrap_or(0))
            .try_fold(0u64, u64::checked_add)
            .ok_or_else(|| {
                Error::corrupt(format!("{what}: the sizes of image {} add up past 2^64 bytes", summary.describe()))
            })?;
        out.push(FoundEntry { summary, entry });
    }
    Ok(out)
}

/// A `blobs/ALG/HEX` path names its own digest; a legacy path does not.
fn digest_of_path(path: &str) -> Option<Digest> {
    let rest = path.trim_start_matches("./").strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    format!("{alg}:{hex}").parse().ok()
}

fn read_config(files: &Files, entry: &Entry) -> Result<(Digest, ImageConfiguration, Vec<u8>)> {
    let what = format!("{}: config {}", files.describe(), entry.config);
    let bytes = files.read(&entry.config).map_err(|e| e.context("manifest.json names a config"))?;
    // The image ID is the config's digest, whatever the member is called.
    let id = Digest::sha256_of(&bytes);
    if let Some(d) = digest_of_path(&entry.config) {
        verify_bytes(&d, &bytes, &what)?;
    }
    let config: ImageConfiguration = parse_json(&bytes, &what)?;
    Ok((id, config, bytes))
}

pub fn open(files: &Files, found: &FoundEntry) -> Result<Image> {
    let entry = &found.entry;
    let name = found.summary.describe();
    let (id, config, config_bytes) = read_config(files, entry)?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != entry.layers.len() {
        return Err(Error::corrupt(format!(
            "{}: image {name}: manifest.json lists {} layers but the config lists {} diff_ids",
            files.describe(),
            entry.layers.len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    for (i, path) in entry.layers.iter().enumerate() {
        let what = format!("layer {} ({path}) of image {name} in {}", i + 1, files.describe());
        let diff_id: Digest =
            diff_ids[i].parse().map_err(|e: Error| Error::corrupt(format!("{what}: diff_id: {}", e.message())))?;
        let source = files.open(path).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!("{what}: blob is missing"))
            } else {
                e
            }
        })?;
        // A path that is a digest is checked as a blob; a legacy layer.tar only has the
        // diff-id, so its uncompressed tar is checked instead.
        let (digest, verify) = match digest_of_path(path) {
            Some(d) => (d.clone(), Verify::Blob(d)),
            None => (diff_id.clone(), Verify::DiffId(diff_id.clone())),
        };
        let declared = entry.layer_sources.as_ref().and_then(|s| s.get(digest.as_str())).map(|s| s.media_type.clone());
        let (compression, media_type) = match declared {
            Some(mt) => (compression::from_media_type(&mt).map_err(|e| e.context(&what))?, mt),
            None => {
                // docker-archive records no media type: the magic bytes decide.
                let mut head = [0u8; 4];
                let n = source.read_at(&mut head, 0).map_err(|e| Error::io(&what, e))?;
                let c = compression::sniff(&head[..n]);
                (c, compression::media_type_of(c).to_string())
            }
        };
        descriptors.push(json!({ "mediaType": media_type, "digest": digest, "size": source.len() }));
        let info = LayerInfo { digest, diff_id: Some(diff_id), media_type, compression, size: source.len() };
        let size = Some(source.len());
        layers.push(Layer::new(info, LayerBlob { source, compression, verify, size, what }));
    }
    // docker-archive has no manifest; berth describes the image with an OCI one.
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": id,
            "size": config_bytes.len(),
        },
        "layers": descriptors,
    });
    Image::new(found.summary.clone(), manifest, config_bytes, layers)
}
