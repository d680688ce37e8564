//! Layer indexes built from fuzzed blobs, with a digest that matches (the fuzzer cannot
//! compute sha256, and a mismatch would stop every input at the digest check).

use std::sync::Arc;

use berth_core::digest::Digest;
use berth_core::fs::layer::{LayerBlob, LayerIndex, Verify};
use berth_core::model::Compression;

/// Indexes `blob` as a layer compressed with `compression`, its digest and size taken
/// from the blob itself.
pub fn index(blob: &[u8], compression: Compression, what: &str) -> berth_core::Result<LayerIndex> {
    let layer = LayerBlob {
        source: Arc::new(blob.to_vec()),
        compression,
        verify: Verify::Blob(Digest::sha256_of(blob)),
        size: Some(blob.len() as u64),
        what: what.to_string(),
    };
    LayerIndex::build(&layer)
}
