//! Images: what an image handle names, and what it gives (read locally, at once).

use std::sync::Arc;

use berth_core::fs::FileSystem;

use crate::api::fs::Fs;
use crate::api::layer::Layer;
use crate::api::Held;
use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};
use crate::status::berth_status::BERTH_ERR_NOT_FOUND;

/// The kind of an image handle, which names a core image.
pub enum Image {}

impl Castable for Image {
    const KIND: u8 = 2;
    const NAME: &'static str = "image";
    type Object = berth_core::Image;
}

/// Closes an image handle; its layers, filesystems and files stay open.
pub fn close(image: Handle<Image>) -> Outcome<()> {
    image.remove()
}

/// The image ID (`sha256:...`).
pub fn id(image: Handle<Image>) -> Outcome<Held<berth_core::Image>> {
    Ok(Held::new(image.get()?, |i| i.id()))
}

/// The inspect document.
pub fn inspect(image: Handle<Image>) -> Outcome<serde_json::Value> {
    Ok(image.get()?.inspect())
}

/// How many layers the image has.
pub fn layer_count(image: Handle<Image>) -> Outcome<usize> {
    Ok(image.get()?.layers().len())
}

/// Opens layer `index` (0 is the base layer); NOT_FOUND past the last one.
pub fn layer(image: Handle<Image>, index: usize) -> Outcome<Handle<Layer>> {
    let img = image.get()?;
    let l = img.layers().get(index).cloned().ok_or_else(|| {
        Failure::new(
            BERTH_ERR_NOT_FOUND,
            format!("layer {index}: the image has {} layers (numbered from 0)", img.layers().len()),
        )
    })?;
    Handle::insert(l)
}

/// The image's squashed root filesystem (the first call reads every layer once).
pub fn filesystem(image: Handle<Image>) -> Outcome<Handle<Fs>> {
    let fs: Arc<dyn FileSystem> = image.get()?.filesystem()?;
    Handle::insert(fs)
}
