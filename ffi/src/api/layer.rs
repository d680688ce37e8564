//! Layers of an image.

use std::sync::Arc;

use berth_core::fs::FileSystem;
use berth_core::model::{LayerChanges, LayerInfo};

use crate::api::fs::Fs;
use crate::failure::Outcome;
use crate::handle::{Castable, Handle};

/// The kind of a layer handle, which names a core layer.
pub enum Layer {}

impl Castable for Layer {
    const KIND: u8 = 3;
    const NAME: &'static str = "layer";
    type Object = berth_core::Layer;
}

/// Closes a layer handle.
pub fn close(layer: Handle<Layer>) -> Outcome<()> {
    layer.remove()
}

/// The layer's digest, diff ID, media type, compression and size (reads no blob).
pub fn inspect(layer: Handle<Layer>) -> Outcome<LayerInfo> {
    Ok(layer.get()?.info().clone())
}

/// The layer's whiteouts and opaque directories (reads the layer once).
pub fn changes(layer: Handle<Layer>) -> Outcome<LayerChanges> {
    Ok(layer.get()?.changes()?)
}

/// The layer's own files (markers hidden).
pub fn filesystem(layer: Handle<Layer>) -> Outcome<Handle<Fs>> {
    let fs: Arc<dyn FileSystem> = layer.get()?.filesystem()?;
    Handle::insert(fs)
}
