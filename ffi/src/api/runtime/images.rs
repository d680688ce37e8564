//! A runtime's images: list, find, open, tag, remove, import, export.

use std::path::PathBuf;

use berth_core::model::ImageSummary;

use super::{with, Runtime};
use crate::api::args::{self, name};
use crate::api::image::Image;
use crate::api::Pending;
use crate::failure::Failure;
use crate::handle::Handle;

/// The runtime's images.
pub fn list_images(rt: Handle<Runtime>) -> Pending<Vec<ImageSummary>> {
    with(rt, |r| r.call(|rt| async move { rt.list_images().await }))
}

/// The images `pattern` matches by the find rules; no match is an empty list.
pub fn find_images(rt: Handle<Runtime>, pattern: &str) -> Pending<Vec<ImageSummary>> {
    let pattern = pattern.to_string();
    with(rt, |r| r.call(|rt| async move { rt.find_images(&pattern).await }))
}

/// Opens the one image `pattern` matches (NOT_FOUND, AMBIGUOUS otherwise).
pub fn open_image(rt: Handle<Runtime>, pattern: &str) -> Pending<Handle<Image>> {
    let pattern = pattern.to_string();
    with(rt, |r| r.call(|rt| async move { rt.open_image(&pattern).await }).then(Handle::insert))
}

/// Gives the image `source` the extra name `target`.
pub fn tag_image(rt: Handle<Runtime>, source: &str, target: &str) -> Pending<()> {
    Pending::start(|| {
        let (source, target) = (name(source, "source")?.to_string(), name(target, "target")?.to_string());
        Ok(with(rt, |r| {
            r.call(|rt| async move {
                berth_core::need(rt.image_store(), rt.kind(), "tagging images")?.tag(&source, &target).await
            })
        }))
    })
}

/// Removes an image name; given an image ID, the image with all its names.
pub fn remove_image(rt: Handle<Runtime>, pattern: &str) -> Pending<()> {
    Pending::start(|| {
        let pattern = name(pattern, "pattern")?.to_string();
        Ok(with(rt, |r| {
            r.call(|rt| async move {
                berth_core::need(rt.image_store(), rt.kind(), "removing images")?.remove(&pattern).await
            })
        }))
    })
}

/// Imports the images of an oci-archive or docker-archive tar at `path` on this host.
pub fn import_images(rt: Handle<Runtime>, path: &str) -> Pending<Vec<ImageSummary>> {
    Pending::start(|| {
        let path = PathBuf::from(name(path, "path")?);
        Ok(with(rt, |r| {
            r.call(|rt| async move {
                berth_core::need(rt.image_store(), rt.kind(), "importing images")?.import(&path).await
            })
        }))
    })
}

/// Writes the images `patterns` names (at least one) to an oci-archive tar at `path`.
pub fn export_images(rt: Handle<Runtime>, patterns: Vec<String>, path: &str) -> Pending<()> {
    Pending::start(|| {
        if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
            return Err(Failure::invalid("patterns_json: name at least one image, and no empty pattern"));
        }
        let path = PathBuf::from(args::name(path, "path")?);
        Ok(with(rt, |r| {
            r.call(|rt| async move {
                berth_core::need(rt.image_store(), rt.kind(), "exporting images")?.export(&patterns, &path).await
            })
        }))
    })
}
