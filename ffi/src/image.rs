//! Images and layers. The C shims of `api::image` and `api::layer`.

use std::ffi::c_char;

use crate::api::{image, layer};
use crate::call::{c_string, call, json_out, out_arg};
use crate::status::berth_status::{self, *};
use crate::types::{berth_fs, berth_image, berth_layer};

/// Closes an image handle. Its layers, filesystems and files stay valid until closed.
#[no_mangle]
pub extern "C" fn berth_image_close(image: berth_image) -> berth_status {
    call(|| image::close(image.into()).map(|()| BERTH_OK))
}

/// The image ID (`sha256:...`, the digest of its config). The caller frees `*out`
/// with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_image_id(out: *mut *mut c_char, image: berth_image) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = c_string(&*image::id(image.into())?);
        Ok(BERTH_OK)
    })
}

/// The inspect document as JSON: `id`, `repo_tags`, `repo_digests`, `manifest_digest`,
/// `platform`, `created`, `size`, `layers`, and `manifest` and `config` as stored
/// (schema: docs/schemas.md). The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_image_inspect(out: *mut *mut c_char, image: berth_image) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&image::inspect(image.into())?)?;
        Ok(BERTH_OK)
    })
}

/// The number of layers of the image.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_image_layer_count(out: *mut usize, image: berth_image) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = image::layer_count(image.into())?;
        Ok(BERTH_OK)
    })
}

/// Opens layer `index` (0 is the base layer). Closed with `berth_layer_close`.
///
/// Errors: NOT_FOUND when `index` is past the last layer.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_image_layer(out: *mut berth_layer, image: berth_image, index: usize) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = image::layer(image.into(), index)?.into();
        Ok(BERTH_OK)
    })
}

/// The image's squashed root filesystem. The first call on an image reads every layer
/// once (checking digests); it may take a while on large images. Closed with
/// `berth_fs_close`.
///
/// Errors: CORRUPT (digest mismatch, bad tar), NOT_FOUND (a missing blob), IO.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_image_filesystem(out: *mut berth_fs, image: berth_image) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = image::filesystem(image.into())?.into();
        Ok(BERTH_OK)
    })
}

/// Closes a layer handle.
#[no_mangle]
pub extern "C" fn berth_layer_close(layer: berth_layer) -> berth_status {
    call(|| layer::close(layer.into()).map(|()| BERTH_OK))
}

/// The layer as JSON: `digest`, `diff_id`, `media_type`, `compression`, `size`. Reads
/// nothing from the blob. The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_layer_inspect(out: *mut *mut c_char, layer: berth_layer) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&layer::inspect(layer.into())?)?;
        Ok(BERTH_OK)
    })
}

/// The layer's whiteouts and opaque directories as JSON `{"whiteouts": [paths],
/// "opaques": [dirs]}` (paths relative to the root). Reads the layer once if it was
/// not read yet. The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_layer_changes(out: *mut *mut c_char, layer: berth_layer) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&layer::changes(layer.into())?)?;
        Ok(BERTH_OK)
    })
}

/// The layer's own files (markers hidden). Closed with `berth_fs_close`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_layer_filesystem(out: *mut berth_fs, layer: berth_layer) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = layer::filesystem(layer.into())?.into();
        Ok(BERTH_OK)
    })
}
