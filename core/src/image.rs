//! Images and layers: what every backend hands back, read by the one engine.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;
use serde_json::{json, Value};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::layer::{LayerBlob, LayerIndex, Verify};
use crate::fs::limits::MAX_LAYERS_PER_IMAGE;
use crate::fs::LayeredFs;
use crate::model::{ImageSummary, LayerChanges, LayerInfo};

/// One layer of an image. Cloning is cheap; clones share the index, and so do the
/// layers of one image that list the same blob (see [`Image::new`]).
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

    /// What makes two layers the same blob read the same way: a manifest may list one
    /// blob many times, and each listing must not cost another pass.
    fn blob_key(&self) -> String {
        match &self.origin {
            Origin::Blob(b) => {
                let checked = match &b.verify {
                    Verify::Blob(d) => format!("blob {d}"),
                    Verify::DiffId(d) => format!("diff-id {d}"),
                };
                format!("{checked} {:?} {:?}", b.compression, b.size)
            }
            Origin::Dir(d) => format!("dir {}", d.display()),
        }
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
    /// Layers that list the same blob (same digest, compression and size) share one index,
    /// so the blob is read once however many times the manifest names it.
    pub fn new(summary: ImageSummary, manifest: Value, config_bytes: Vec<u8>, mut layers: Vec<Layer>) -> Result<Image> {
        let config: Value = serde_json::from_slice(&config_bytes).map_err(|e| {
            Error::corrupt(format!("config of image {}: bad JSON: {e}", summary.describe())).with_source(e)
        })?;
        let mut first: HashMap<String, usize> = HashMap::new();
        for i in 0..layers.len() {
            let j = *first.entry(layers[i].blob_key()).or_insert(i);
            if j != i {
                layers[i].index = layers[j].index.clone();
                layers[i].fs = layers[j].fs.clone();
            }
        }
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

    /// The squashed root filesystem. The first call indexes every distinct layer blob
    /// (in parallel, largest first); later calls return the same filesystem. An image of
    /// more than [`MAX_LAYERS_PER_IMAGE`] layers is `Corrupt`.
    pub fn filesystem(&self) -> Result<Arc<LayeredFs>> {
        self.inner
            .fs
            .get_or_try_init(|| {
                let layers = &self.inner.layers;
                if layers.len() > MAX_LAYERS_PER_IMAGE {
                    return Err(Error::corrupt(format!(
                        "filesystem of image {}: it stacks {} layers; berth reads at most {MAX_LAYERS_PER_IMAGE} layers \
                         (the kernel's overlayfs mounts no more, so no runtime on overlayfs runs it)",
                        self.inner.summary.describe(),
                        layers.len()
                    )));
                }
                let indexes = index_all(layers)?;
                let name = format!("image {}", self.inner.summary.describe());
                Ok(Arc::new(LayeredFs::new(name, indexes)))
            })
            .cloned()
    }
}

/// Indexes each distinct layer (layers listing one blob share an index cell) on up to
/// `available_parallelism` threads, biggest blob first so the longest job starts at once.
/// The first error wins.
fn index_all(layers: &[Layer]) -> Result<Vec<Arc<LayerIndex>>> {
    let mut seen = HashSet::new();
    let mut unique: Vec<&Layer> = layers.iter().filter(|l| seen.insert(Arc::as_ptr(&l.index))).collect();
    unique.sort_by_key(|l| std::cmp::Reverse(l.info.size));
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(unique.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(layer) = unique.get(k) else { break };
                if let Err(e) = layer.index() {
                    first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                    // Stop handing out work; the error is reported below.
                    next.store(unique.len(), Ordering::Relaxed);
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    // Every cell is filled now: this only collects them.
    layers.iter().map(Layer::index).collect()
}
