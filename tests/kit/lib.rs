//! berth's test kit: builds layer tars, images and image stores in memory, byte by byte,
//! so that every test states exactly the archive it reads.
//!
//! Nothing here is used by the library; it only feeds the tests.

pub mod harness;
pub mod proxy;
pub mod store;
pub mod tar;

pub use store::{ImageSpec, Store};
pub use tar::TarBuilder;

use std::io::Write;
use std::sync::Arc;

use berth_core::fs::FileSystem;

/// A current-thread tokio runtime for calling the async API from a plain test.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(f)
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Opens `endpoint` and the one image `pattern` names, and returns its filesystem.
pub fn open_fs(endpoint: &str, pattern: &str) -> berth_core::Result<Arc<dyn FileSystem>> {
    block_on(async {
        let rt = berth_core::connect(Some(endpoint), Default::default()).await?;
        let image = rt.open_image(pattern).await?;
        let fs: Arc<dyn FileSystem> = image.filesystem()?;
        Ok(fs)
    })
}

/// The squashed filesystem of an image made of `layers` (gzip, bottom first), stored in
/// an OCI layout under a fresh temp dir (kept alive by the returned guard).
pub fn squash(layers: Vec<Vec<u8>>) -> (tempfile::TempDir, Arc<dyn FileSystem>) {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = ImageSpec::new("test:latest");
    for l in layers {
        spec = spec.layer_gzip(l);
    }
    let mut store = Store::new();
    store.add_image(&spec);
    store.write_dir(dir.path());
    let fs = open_fs(&format!("oci://{}", dir.path().display()), "test:latest").unwrap();
    (dir, fs)
}

/// Reads a whole file of `fs`.
pub fn read_all(fs: &dyn FileSystem, path: &str) -> berth_core::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = fs.open(path)?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).map_err(|e| berth_core::Error::io(path, e))?;
    Ok(out)
}

/// The sorted paths below `root` (root excluded), as a walk returns them.
pub fn tree(fs: Arc<dyn FileSystem>) -> Vec<String> {
    berth_core::fs::Walker::new(fs, "/").skip(1).map(|e| e.unwrap().path).collect()
}

/// The error that opening `pattern` in `endpoint` and building its filesystem gives.
pub fn open_err(endpoint: &str, pattern: &str) -> berth_core::Error {
    match open_fs(endpoint, pattern) {
        Ok(_) => panic!("opening {pattern:?} in {endpoint} unexpectedly worked"),
        Err(e) => e,
    }
}
