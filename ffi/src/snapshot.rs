//! Snapshots (containerd): the layered filesystems containers run on, by snapshotter
//! and key. Every function names the snapshotter (NULL or "" for the runtime's default).
//! The C shims of `api::runtime::snapshots_*`.

use std::ffi::c_char;

use crate::api::runtime;
use crate::call::{call, json_out, opt_str_arg, out_arg, str_arg};
use crate::status::berth_status::{self, *};
use crate::types::berth_runtime;

/// Lists the snapshots of `snapshotter` as a JSON array of `{"key", "parent", "kind",
/// "labels", "created"}` (`kind`: `view`, `active` or `committed`; schema:
/// docs/schemas.md). The caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_SUPPORTED (a runtime without snapshots), NOT_FOUND (no such
/// snapshotter), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `snapshotter` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_list(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let snapshotter = unsafe { opt_str_arg(snapshotter, "snapshotter") }?;
        *out = json_out(&runtime::snapshots_list(rt.into(), snapshotter).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// The snapshot `key` as JSON, like one item of `berth_runtime_snapshots_list`. The
/// caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (an empty key), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `key` is NUL-terminated; `snapshotter` is NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_stat(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let (key, snapshotter) = unsafe { (str_arg(key, "key")?, opt_str_arg(snapshotter, "snapshotter")?) };
        *out = json_out(&runtime::snapshots_stat(rt.into(), snapshotter, key).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Shared body of prepare and view.
///
/// # Safety
/// As `berth_runtime_snapshots_prepare`.
unsafe fn prepare_or_view(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
    parent: *const c_char,
    view: bool,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from the caller's contract.
        let (key, parent, snapshotter) =
            unsafe { (str_arg(key, "key")?, opt_str_arg(parent, "parent")?, opt_str_arg(snapshotter, "snapshotter")?) };
        let rt = rt.into();
        let mounts = if view {
            runtime::snapshots_view(rt, snapshotter, key, parent)
        } else {
            runtime::snapshots_prepare(rt, snapshotter, key, parent)
        };
        *out = json_out(&mounts.wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Creates the active (writable) snapshot `key` on the committed snapshot `parent`
/// (NULL or "" for an empty one) and returns the mounts that make it usable, as a JSON
/// array of `{"type", "source", "options"}`. Remove it with
/// `berth_runtime_snapshots_remove`, or commit it. The caller frees `*out` with
/// `berth_string_free`.
///
/// Errors: ALREADY_EXISTS (the key is taken), NOT_FOUND (no such parent),
/// INVALID_ARGUMENT (an empty key), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `key` is NUL-terminated; `snapshotter` and
/// `parent` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_prepare(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
    parent: *const c_char,
) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { prepare_or_view(out, rt, snapshotter, key, parent, false) }
}

/// Like `berth_runtime_snapshots_prepare`, but a read-only view of `parent`.
///
/// # Safety
/// As `berth_runtime_snapshots_prepare`.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_view(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
    parent: *const c_char,
) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { prepare_or_view(out, rt, snapshotter, key, parent, true) }
}

/// Commits the active snapshot `key` as the committed snapshot `name` (the active one
/// is gone afterwards).
///
/// Errors: NOT_FOUND, ALREADY_EXISTS (`name` is taken), CONFLICT (`key` is not
/// active), INVALID_ARGUMENT (an empty name or key), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `name` and `key` are NUL-terminated; `snapshotter` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_commit(
    rt: berth_runtime,
    snapshotter: *const c_char,
    name: *const c_char,
    key: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let (name, key, snapshotter) =
            unsafe { (str_arg(name, "name")?, str_arg(key, "key")?, opt_str_arg(snapshotter, "snapshotter")?) };
        runtime::snapshots_commit(rt.into(), snapshotter, name, key).wait()?;
        Ok(BERTH_OK)
    })
}

/// The mounts of the active or view snapshot `key`, as JSON like
/// `berth_runtime_snapshots_prepare` returns. The caller frees `*out` with
/// `berth_string_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (an empty key, a committed snapshot),
/// NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `key` is NUL-terminated; `snapshotter` is NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_mounts(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let (key, snapshotter) = unsafe { (str_arg(key, "key")?, opt_str_arg(snapshotter, "snapshotter")?) };
        *out = json_out(&runtime::snapshots_mounts(rt.into(), snapshotter, key).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// The disk use of snapshot `key` as JSON `{"size", "inodes"}` (bytes and inodes of
/// the snapshot's own layer). The caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (an empty key), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `key` is NUL-terminated; `snapshotter` is NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_usage(
    out: *mut *mut c_char,
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let (key, snapshotter) = unsafe { (str_arg(key, "key")?, opt_str_arg(snapshotter, "snapshotter")?) };
        *out = json_out(&runtime::snapshots_usage(rt.into(), snapshotter, key).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Removes snapshot `key`.
///
/// Errors: NOT_FOUND, CONFLICT (it has children, or a container uses it),
/// INVALID_ARGUMENT (an empty key), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `key` is NUL-terminated; `snapshotter` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_snapshots_remove(
    rt: berth_runtime,
    snapshotter: *const c_char,
    key: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let (key, snapshotter) = unsafe { (str_arg(key, "key")?, opt_str_arg(snapshotter, "snapshotter")?) };
        runtime::snapshots_remove(rt.into(), snapshotter, key).wait()?;
        Ok(BERTH_OK)
    })
}
