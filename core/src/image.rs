//! Images and layers: what every backend hands back, read by the one engine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;
use serde_json::{json, Value};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::layer::{LayerBlob, LayerIndex};
use crate::fs::LayeredFs;
use crate::model::{ImageSummary, LayerChanges, LayerInfo};

/// One layer of an image. Cloning is cheap; clones share the index.
#[derive(Clone)]
pub struct Layer {
    info: LayerInfo,
    origin: Origin,
    index: Arc<OnceCell<Arc<LayerIndex>>>,
    fs: Arc<OnceCell<Arc<LayeredFs>>>,
}

/// Where a layer's files come from.
#[derive(Clone)]
enum Origin {
    /// A blob (tar, maybe compressed), read through its [`crate::blob::BlobSource`].
    Blob(LayerBlob),
    /// A directory on this host holding the layer unpacked, overlay-style (a daemon's
    /// overlay2 layer directory, read in place).
    Dir(std::path::PathBuf),
}

impl Layer {
    pub fn new(info: LayerInfo, blob: LayerBlob) -> Layer {
        Layer { info, origin: Origin::Blob(blob), index: Arc::default(), fs: Arc::default() }
    }

    /// A layer unpacked in a host directory with overlay whiteouts (0:0 character
    /// devices, `trusted.overlay.opaque`), read in place.
    pub fn from_dir(info: LayerInfo, dir: std::path::PathBuf) -> Layer {
        Layer { info, origin: Origin::Dir(dir), index: Arc::default(), fs: Arc::default() }
    }

    /// The layer a manifest describes: its compression from its media type (Corrupt for
    /// a type that is not a layer's), its blob checked against `digest`.
    pub fn from_descriptor(
        digest: Digest,
        media_type: String,
        size: u64,
        diff_id: &str,
        source: Arc<dyn crate::blob::BlobSource>,
        what: String,
    ) -> Result<Layer> {
        let compression = crate::fs::compression::from_media_type(&media_type).map_err(|e| e.context(&what))?;
        let info = LayerInfo { digest: digest.clone(), diff_id: diff_id.parse().ok(), media_type, compression, size };
        let blob =
            LayerBlob { source, compression, verify: crate::fs::layer::Verify::Blob(digest), size: Some(size), what };
        Ok(Layer::new(info, blob))
    }

    pub fn info(&self) -> &LayerInfo {
        &self.info
    }

    /// The blob as stored (compressed), for copying it elsewhere; None for a layer read
    /// from a directory.
    pub fn source(&self) -> Option<Arc<dyn crate::blob::BlobSource>> {
        match &self.origin {
            Origin::Blob(b) => Some(b.source.clone()),
            Origin::Dir(_) => None,
        }
    }

    /// The layer's index, built on first use by one pass over the blob (which checks
    /// the digest) or over the directory.
    pub fn index(&self) -> Result<Arc<LayerIndex>> {
        self.index
            .get_or_try_init(|| match &self.origin {
                Origin::Blob(b) => LayerIndex::build(b).map(Arc::new),
                Origin::Dir(d) => LayerIndex::from_dir(d, true).map(Arc::new),
            })
            .cloned()
    }

    /// The whiteouts and opaque markers of this layer.
    pub fn changes(&self) -> Result<LayerChanges> {
        Ok(self.index()?.changes.clone())
    }

    /// The layer's own files, markers hidden (they are in [`Layer::changes`]).
    pub fn filesystem(&self) -> Result<Arc<LayeredFs>> {
        self.fs
            .get_or_try_init(|| {
                let name = format!("layer {}", self.info.digest);
                Ok(Arc::new(LayeredFs::new(name, vec![self.index()?])))
            })
            .cloned()
    }
}

struct ImageInner {
    summary: ImageSummary,
    /// The manifest and config as stored (for docker-archive, a manifest berth wrote).
    manifest: Value,
    config: Value,
    /// The config exactly as stored: its digest is the image ID.
    config_bytes: Vec<u8>,
    layers: Vec<Layer>,
    fs: OnceCell<Arc<LayeredFs>>,
}

/// An image: identity, manifest, config, layers and the squashed filesystem.
/// Cloning is cheap; clones share everything, including the built filesystem.
#[derive(Clone)]
pub struct Image {
    inner: Arc<ImageInner>,
}

impl Image {
    /// An image from its parts; `config_bytes` is the config as stored, and must parse.
    pub fn new(summary: ImageSummary, manifest: Value, config_bytes: Vec<u8>, layers: Vec<Layer>) -> Result<Image> {
        let config: Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::corrupt(format!("config of image {}: bad JSON: {e}", summary.describe())))?;
        Ok(Image {
            inner: Arc::new(ImageInner { summary, manifest, config, config_bytes, layers, fs: OnceCell::new() }),
        })
    }

    pub fn summary(&self) -> &ImageSummary {
        &self.inner.summary
    }

    /// The image ID (config digest) as a string.
    pub fn id(&self) -> &str {
        self.inner.summary.id.as_str()
    }

    pub fn manifest(&self) -> &Value {
        &self.inner.manifest
    }

    pub fn config(&self) -> &Value {
        &self.inner.config
    }

    /// The config exactly as stored.
    pub fn config_bytes(&self) -> &[u8] {
        &self.inner.config_bytes
    }

    pub fn layers(&self) -> &[Layer] {
        &self.inner.layers
    }

    /// The inspect document (schema: docs/schemas/image-inspect.md).
    pub fn inspect(&self) -> Value {
        let s = &self.inner.summary;
        json!({
            "id": s.id,
            "repo_tags": s.repo_tags,
            "repo_digests": s.repo_digests,
            "manifest_digest": s.manifest_digest,
            "platform": s.platform,
            "created": s.created,
            "size": s.size,
            "layers": self.inner.layers.iter().map(|l| &l.info).collect::<Vec<_>>(),
            "manifest": self.inner.manifest,
            "config": self.inner.config,
        })
    }

    /// The squashed root filesystem. The first call indexes every layer (in parallel,
    /// largest first); later calls return the same filesystem.
    pub fn filesystem(&self) -> Result<Arc<LayeredFs>> {
        self.inner
            .fs
            .get_or_try_init(|| {
                let indexes = index_all(&self.inner.layers)?;
                let name = format!("image {}", self.inner.summary.describe());
                Ok(Arc::new(LayeredFs::new(name, indexes)))
            })
            .cloned()
    }
}

/// Indexes layers on up to `available_parallelism` threads, biggest blob first so the
/// longest job starts at once. The first error wins.
fn index_all(layers: &[Layer]) -> Result<Vec<Arc<LayerIndex>>> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].info.size));
    let slots: Vec<Mutex<Option<Result<Arc<LayerIndex>>>>> = layers.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(layers.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let result = layers[i].index();
                let failed = result.is_err();
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                if failed {
                    // Stop handing out work; the error is reported below.
                    next.store(order.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(layers.len());
    let mut first_error = None;
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(ix)) => out.push(ix),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None if out.len() == layers.len() => Ok(out),
        None => Err(Error::internal("layer indexing stopped without an error")),
    }
}
