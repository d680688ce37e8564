//! OCI image layouts (index.json, blobs/ALG/HEX), nested indexes and multi-platform
//! images, read from a directory or an oci-archive alike.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};
use serde_json::Value;

use crate::backends::oci::documents::{config_summary, parse_json};
use crate::backends::oci::files::Files;
use crate::digest::{verify_bytes, Digest};
use crate::error::{Error, ErrorKind, Result};
use crate::image::{Image, Layer};
use crate::model::{ImageSummary, Platform};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's exporter puts the full image name here and only the tag in REF_NAME.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// Indexes nested deeper than this are refused (a cycle, or a hostile layout).
const MAX_DEPTH: usize = 8;

/// An image manifest found in the layout, with the names it was found under.
pub struct FoundManifest {
    pub summary: ImageSummary,
    pub manifest: Descriptor,
}

/// Every image in the layout, choosing `platform` from multi-platform indexes.
pub fn scan(files: &Files, platform: &Platform) -> Result<Vec<FoundManifest>> {
    if !files.exists("index.json") {
        return Err(Error::corrupt(format!("{}: not an OCI layout (no index.json)", files.describe())));
    }
    // Read (not just tested for) so that a layout whose oci-layout is a link or a FIFO is
    // refused like any other file of it; some writers leave it out, so it may be missing.
    if files.exists("oci-layout") {
        let what = format!("{}: oci-layout", files.describe());
        let marker: Value = parse_json(&files.read("oci-layout")?, &what)?;
        if !marker.get("imageLayoutVersion").is_some_and(Value::is_string) {
            return Err(Error::corrupt(format!("{what}: no imageLayoutVersion")));
        }
    }
    let index: ImageIndex = parse_json(&files.read("index.json")?, &format!("{}: index.json", files.describe()))?;
    let mut found: Vec<(Descriptor, Vec<String>)> = Vec::new();
    walk_index(files, index.manifests(), &[], platform, 0, &mut found)?;

    // One manifest listed under several names is one image with several names.
    let mut by_digest: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<FoundManifest> = Vec::new();
    for (desc, names) in found {
        let key = desc.digest().to_string();
        if let Some(&i) = by_digest.get(&key) {
            for n in names {
                if !out[i].summary.repo_tags.contains(&n) {
                    out[i].summary.repo_tags.push(n);
                }
            }
            continue;
        }
        let summary = summarize(files, &desc, names)?;
        by_digest.insert(key, out.len());
        out.push(FoundManifest { summary, manifest: desc });
    }
    Ok(out)
}

fn walk_index(
    files: &Files,
    descriptors: &[Descriptor],
    inherited: &[String],
    platform: &Platform,
    depth: usize,
    out: &mut Vec<(Descriptor, Vec<String>)>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::corrupt(format!("{}: image indexes nested more than {MAX_DEPTH} deep", files.describe())));
    }
    // Platform-specific manifests compete (one is chosen per name); everything else is
    // an image or index of its own.
    let mut by_platform: Vec<(&Descriptor, Platform, Vec<String>)> = Vec::new();
    for d in descriptors {
        let names = names_of(d, inherited);
        if is_index(d.media_type()) {
            let what = format!("{}: index {}", files.describe(), d.digest());
            let nested: ImageIndex = parse_json(&read_verified(files, d, &what)?, &what)?;
            walk_index(files, nested.manifests(), &names, platform, depth + 1, out)?;
        } else if is_manifest(d.media_type()) {
            match d.platform().as_ref().map(to_platform) {
                // Attestation manifests carry unknown/unknown: they are not images.
                Some(p) if p.os == "unknown" => {}
                Some(p) => by_platform.push((d, p, names)),
                None => out.push((d.clone(), names)),
            }
        }
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (_, _, names) in &by_platform {
        if !groups.contains(names) {
            groups.push(names.clone());
        }
    }
    for names in groups {
        let candidates = by_platform.iter().filter(|(_, _, n)| *n == names);
        // The exact variant first, then any variant of the os/architecture.
        let chosen = candidates
            .clone()
            .find(|(_, p, _)| p == platform)
            .or_else(|| candidates.clone().find(|(_, p, _)| platform.matches(p)));
        if let Some((d, _, _)) = chosen {
            out.push(((*d).clone(), names));
        }
    }
    Ok(())
}

fn names_of(d: &Descriptor, inherited: &[String]) -> Vec<String> {
    let ann = d.annotations().as_ref();
    let get = |k: &str| ann.and_then(|a| a.get(k)).filter(|v| !v.is_empty()).cloned();
    // Both names are kept: the layout's own (often a bare tag, as umoci and skopeo
    // write it) and containerd's full one.
    let mut names: Vec<String> = [get(CONTAINERD_NAME), get(REF_NAME)].into_iter().flatten().collect();
    names.dedup();
    if names.is_empty() {
        inherited.to_vec()
    } else {
        names
    }
}

fn is_index(m: &MediaType) -> bool {
    matches!(m, MediaType::ImageIndex) || m.to_string() == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn is_manifest(m: &MediaType) -> bool {
    matches!(m, MediaType::ImageManifest) || m.to_string() == "application/vnd.docker.distribution.manifest.v2+json"
}

fn to_platform(p: &oci_spec::image::Platform) -> Platform {
    Platform { os: p.os().to_string(), architecture: p.architecture().to_string(), variant: p.variant().clone() }
}

/// The path of a blob in a layout.
pub fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}

pub fn descriptor_digest(d: &Descriptor, what: &str) -> Result<Digest> {
    d.digest().to_string().parse::<Digest>().map_err(|e| Error::corrupt(format!("{what}: {}", e.message())))
}

/// Reads a small blob whole and checks its digest and size.
fn read_verified(files: &Files, d: &Descriptor, what: &str) -> Result<Vec<u8>> {
    let digest = descriptor_digest(d, what)?;
    let bytes = files.read(&blob_path(&digest)).map_err(|e| missing(e, what))?;
    if bytes.len() as u64 != d.size() {
        return Err(Error::corrupt(format!(
            "{what}: size mismatch: descriptor says {} bytes, blob has {}",
            d.size(),
            bytes.len()
        )));
    }
    verify_bytes(&digest, &bytes, what)?;
    Ok(bytes)
}

fn missing(e: Error, what: &str) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::not_found(format!("{what}: blob is missing ({})", e.message()))
    } else {
        e
    }
}

fn summarize(files: &Files, desc: &Descriptor, names: Vec<String>) -> Result<ImageSummary> {
    let what = format!("{}: manifest {}", files.describe(), desc.digest());
    let manifest: ImageManifest = parse_json(&read_verified(files, desc, &what)?, &what)?;
    let config_what = format!("{}: config {}", files.describe(), manifest.config().digest());
    let config_bytes = read_verified(files, manifest.config(), &config_what)?;
    let config: ImageConfiguration = parse_json(&config_bytes, &config_what)?;
    let mut summary = config_summary(descriptor_digest(manifest.config(), &config_what)?, &config);
    summary.repo_tags = names;
    summary.manifest_digest = Some(descriptor_digest(desc, &what)?);
    // Sizes come from the image: a sum past 2^64 is a hostile manifest, not a big image.
    summary.size = manifest
        .layers()
        .iter()
        .try_fold(0u64, |sum, l| sum.checked_add(l.size()))
        .ok_or_else(|| Error::corrupt(format!("{what}: the sizes of its layers add up past 2^64 bytes")))?;
    Ok(summary)
}

/// Opens the image of a manifest found by [`scan`].
pub fn open(files: &Files, found: &FoundManifest) -> Result<Image> {
    let name = found.summary.describe();
    let what = format!("{}: manifest of image {name}", files.describe());
    let manifest_bytes = read_verified(files, &found.manifest, &what)?;
    let manifest: ImageManifest = parse_json(&manifest_bytes, &what)?;
    let config_what = format!("{}: config of image {name}", files.describe());
    let config_bytes = read_verified(files, manifest.config(), &config_what)?;
    let config: ImageConfiguration = parse_json(&config_bytes, &config_what)?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::corrupt(format!(
            "{what}: {} layers but the config lists {} diff_ids",
            manifest.layers().len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::new();
    for (i, d) in manifest.layers().iter().enumerate() {
        let digest = descriptor_digest(d, &what)?;
        let what = format!("layer {} ({digest}) of image {name} in {}", i + 1, files.describe());
        let source = files.open(&blob_path(&digest)).map_err(|e| missing(e, &what))?;
        layers.push(Layer::from_descriptor(digest, d.media_type().to_string(), d.size(), &diff_ids[i], source, what)?);
    }
    let manifest_json: Value =
        serde_json::from_slice(&manifest_bytes).map_err(|e| Error::corrupt(format!("{what}: {e}")).with_source(e))?;
    Image::new(found.summary.clone(), manifest_json, config_bytes, layers)
}
