//! Manifest, index and config JSON (core/src/backends/oci/): an image store written to a temp
//! directory from the fuzzed documents (see `berth_fuzz::store` for the layout and the
//! digest placeholders), opened as `oci://`; then list, open every image by ID and by
//! each of its names, inspect it, index its layers and read its filesystem. A first
//! section that is a JSON array is a docker save `manifest.json`, anything else an OCI
//! `index.json`.
#![no_main]

use std::sync::Arc;

use berth_core::fs::FileSystem;
use berth_fuzz::exercise::{self, allowed};
use berth_fuzz::{sections, store};
use libfuzzer_sys::fuzz_target;

/// Images of one store looked at, at most.
const MAX_IMAGES: usize = 4;

fn temp_root() -> std::path::PathBuf {
    // Memory-backed where there is one: a fresh store per execution.
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fuzz_target!(|data: &[u8]| {
    let files = store::files(&sections::split(data));
    let dir = tempfile::Builder::new().prefix("berth-fuzz-").tempdir_in(temp_root()).expect("temp dir");
    store::write(dir.path(), &files).expect("writing the store");
    let endpoint = format!("oci://{}", dir.path().display());
    let Some(rt) = allowed(
        "connect",
        berth_core::io::block(async move { berth_core::connect(Some(&endpoint), Default::default()).await }, None),
    ) else {
        return;
    };
    let lister = rt.clone();
    let Some(images) = allowed("list", berth_core::io::block(async move { lister.list_images().await }, None)) else {
        return;
    };
    for summary in images.iter().take(MAX_IMAGES) {
        let mut patterns = vec![summary.id.to_string()];
        patterns.extend(summary.repo_tags.iter().take(2).cloned());
        for pattern in patterns {
            let opener = rt.clone();
            let p = pattern.clone();
            let Some(image) = allowed("open", berth_core::io::block(async move { opener.open_image(&p).await }, None)) else {
                continue;
            };
            let doc = image.inspect();
            assert!(doc.is_object(), "inspect of {pattern:?} is not an object");
            serde_json::to_string(&doc).expect("inspect serialises");
            for layer in image.layers() {
                allowed("layer changes", layer.changes());
            }
            if let Some(fs) = allowed("filesystem", image.filesystem()) {
                let fs: Arc<dyn FileSystem> = fs;
                exercise::filesystem(&fs, &[]);
            }
        }
    }
});
