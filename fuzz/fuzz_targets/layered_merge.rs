//! The whiteout/opaque merge (core/src/fs/layered.rs) over 1-3 fuzzed layer tars: build
//! the squashed filesystem, walk it and ask every question of every path the walk
//! finds, then resolve the fuzzer's own paths (`..`, links, loops).
//!
//! Input: sections (see `berth_fuzz::sections`): the layer tars, bottom first, then
//! (when there are two sections or more) a last section of paths, one per line.
#![no_main]

use std::sync::Arc;

use berth_core::fs::{FileSystem, LayeredFs};
use berth_core::model::Compression;
use berth_fuzz::exercise::{self, allowed};
use berth_fuzz::{layers, sections};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = sections::split(data);
    let (tars, paths) = match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => (rest, sections::lines(last)),
        _ => (&parts[..], Vec::new()),
    };
    let mut indexes = Vec::new();
    for (i, tar) in tars.iter().take(3).enumerate() {
        match allowed("index layer", layers::index(tar, Compression::None, &format!("layer {i}"))) {
            Some(index) => indexes.push(Arc::new(index)),
            None => return,
        }
    }
    let fs: Arc<dyn FileSystem> = Arc::new(LayeredFs::new("fuzz image", indexes));
    exercise::filesystem(&fs, &paths);
});
