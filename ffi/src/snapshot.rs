//! Snapshots (containerd): the layered filesystems containers run on, by snapshotter
//! and key. Every function names the snapshotter (NULL or "" for the runtime's default).

use std::ffi::c_char;
use std::future::Future;
use std::sync::Arc;

use berth_core::snapshot::Snapshots;

use crate::call::{call, json_out, name_arg, opt_str_arg, out_arg, str_arg, Outcome};
use crate::runtime::{block_on, runtime};
use crate::status::berth_status::{self, *};
use crate::types::berth_runtime;

/// Runs `f` on the snapshots of `snapshotter` with the runtime's timeout.
///
/// # Safety
/// `snapshotter` is NULL or NUL-terminated.
unsafe fn with_snapshots<T, F, Fut>(rt: berth_runtime, snapshotter: *const c_char, f: F) -> Outcome<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Snapshots>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    // SAFETY: forwarded from this function's contract.
    let snapshotter = unsafe { opt_str_arg(snapshotter, "snapshotter") }?.filter(|s| !s.is_empty());
    let r = runtime(rt)?;
    let snapshots = berth_core::need(r.rt.snapshots(), r.rt.kind(), "snapshots")?.snapshotter(snapshotter)?;
    block_on(f(snapshots), r.timeout)
}

/// A snapshot key (or name): UTF-8, not empty.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn key_arg(p: *const c_char, name: &str) -> Outcome<String> {
    // SAFETY: forwarded from this function's contract.
    Ok(name_arg(unsafe { str_arg(p, name) }?, name)?.to_string())
}

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
        let list = unsafe { with_snapshots(rt, snapshotter, |s| async move { s.list().await }) }?;
        *out = json_out(&list)?;
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
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from this function's contract.
        let info = unsafe { with_snapshots(rt, snapshotter, |s| async move { s.stat(&key).await }) }?;
        *out = json_out(&info)?;
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
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from the caller's contract.
        let parent = unsafe { opt_str_arg(parent, "parent") }?.filter(|p| !p.is_empty()).map(str::to_string);
        // SAFETY: forwarded from the caller's contract.
        let mounts = unsafe {
            with_snapshots(rt, snapshotter, move |s| async move {
                if view {
                    s.view(&key, parent.as_deref()).await
                } else {
                    s.prepare(&key, parent.as_deref()).await
                }
            })
        }?;
        *out = json_out(&mounts)?;
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
        let name = unsafe { key_arg(name, "name") }?;
        // SAFETY: forwarded from this function's contract.
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { with_snapshots(rt, snapshotter, |s| async move { s.commit(&name, &key).await }) }?;
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
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from this function's contract.
        let mounts = unsafe { with_snapshots(rt, snapshotter, |s| async move { s.mounts(&key).await }) }?;
        *out = json_out(&mounts)?;
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
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from this function's contract.
        let usage = unsafe { with_snapshots(rt, snapshotter, |s| async move { s.usage(&key).await }) }?;
        *out = json_out(&usage)?;
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
        let key = unsafe { key_arg(key, "key") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { with_snapshots(rt, snapshotter, |s| async move { s.remove(&key).await }) }?;
        Ok(BERTH_OK)
    })
}
