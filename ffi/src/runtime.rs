//! Runtimes: open, close, describe; images (list, find, open, pull, push, tag, remove,
//! import, export); containers (list, find, create, open); events. The C shims of
//! `api::runtime`.

use std::ffi::c_char;

use berth_core::container::CreateOptions;
use berth_core::model::{PullOptions, PushOptions};
use berth_core::ConnectOptions;

use crate::api::{self, runtime};
use crate::call::{call, json_out, opt_str_arg, out_arg, str_arg};
use crate::status::berth_status::{self, *};
use crate::types::{berth_container, berth_image, berth_runtime, berth_stream};

/// Opens a runtime.
///
/// `endpoint` is an endpoint string (`oci-archive:///x.tar`, ...; see docs/endpoints.md),
/// or NULL to use the first runtime `berth_detect` finds. `options_json` is NULL or a
/// JSON object with any of `timeout_ms`, `namespace`, `platform`, `username`,
/// `password` (schema: docs/schemas.md). On success `*out` is a new handle that the
/// caller closes with `berth_runtime_close`.
///
/// Errors: INVALID_ARGUMENT (bad endpoint or options), NOT_FOUND (no such archive or
/// layout), CORRUPT, UNAVAILABLE, NOT_SUPPORTED (a backend not built in).
///
/// # Safety
/// Strings are NULL or NUL-terminated; `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_open(
    out: *mut berth_runtime,
    endpoint: *const c_char,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let endpoint = unsafe { opt_str_arg(endpoint, "endpoint") }?.map(str::to_string);
        // SAFETY: forwarded from this function's contract.
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        #[cfg(test)]
        if endpoint.as_deref() == Some("berth-test-panic://") {
            panic!("test-only panic inside berth_runtime_open");
        }
        let options: ConnectOptions = api::json_object(options, "options_json")?;
        *out = runtime::open(endpoint, options).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Closes a runtime handle. Images, layers, filesystems and files opened from it stay
/// valid until they are closed themselves.
///
/// Errors: INVALID_HANDLE (zero, closed, or not a runtime).
#[no_mangle]
pub extern "C" fn berth_runtime_close(rt: berth_runtime) -> berth_status {
    call(|| runtime::close(rt.into()).map(|()| BERTH_OK))
}

/// Describes a runtime as JSON: `{"endpoint", "kind", "version": {...}, "capabilities": {...}}`.
/// The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_info(out: *mut *mut c_char, rt: berth_runtime) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&runtime::info(rt.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Lists the runtime's images as a JSON array of image summaries (`id`, `repo_tags`,
/// `repo_digests`, `manifest_digest`, `size`, `created`, `platform`). The caller frees
/// `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_list_images(out: *mut *mut c_char, rt: berth_runtime) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&runtime::list_images(rt.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Lists the images `pattern` matches by the find rules (an ID, a hex prefix, a name, a
/// repository path, a reference), as a JSON array like `berth_runtime_list_images`. No
/// match is an empty array, not an error.
///
/// # Safety
/// `out` points to writable storage; `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_find_images(
    out: *mut *mut c_char,
    rt: berth_runtime,
    pattern: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        *out = json_out(&runtime::find_images(rt.into(), pattern).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Opens the one image `pattern` matches. On success `*out` is a new handle, closed with
/// `berth_image_close`.
///
/// Errors: NOT_FOUND (no match), AMBIGUOUS (several; the message lists them),
/// CORRUPT, INVALID_ARGUMENT (a malformed pattern).
///
/// # Safety
/// `out` points to writable storage; `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_open_image(
    out: *mut berth_image,
    rt: berth_runtime,
    pattern: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        *out = runtime::open_image(rt.into(), pattern).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Lists the runtimes this host offers, as a JSON array of `{"endpoint", "kind",
/// "source"}`; nothing is connected to. The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_detect(out: *mut *mut c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&api::detect())?;
        Ok(BERTH_OK)
    })
}

/// Lists the runtime's containers as a JSON array of container summaries (`id`,
/// `names`, `image`, `image_id`, `labels`, `state` {`status`, `pid`, `exit_code`,
/// `started_at`, `finished_at`}, `created`, `pod`; schema: docs/schemas.md).
/// `filters_json` is NULL or a JSON array of filter strings in the backend's syntax
/// (containerd: `labels."key"==value`, `image==name`; several are ORed). The caller
/// frees `*out` with `berth_string_free`.
///
/// Errors: INVALID_ARGUMENT (filters not an array of strings, or a filter the backend
/// refuses), NOT_SUPPORTED (a backend without containers), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `filters_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_list_containers(
    out: *mut *mut c_char,
    rt: berth_runtime,
    filters_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let filters = api::json_strings(unsafe { opt_str_arg(filters_json, "filters_json") }?, "filters_json")?;
        *out = json_out(&runtime::list_containers(rt.into(), filters).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Lists the containers `pattern` matches (an exact ID or name, else an ID prefix), as
/// a JSON array like `berth_runtime_list_containers`. No match is an empty array.
///
/// Errors: INVALID_ARGUMENT (an empty pattern), NOT_SUPPORTED, UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_find_containers(
    out: *mut *mut c_char,
    rt: berth_runtime,
    pattern: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        *out = json_out(&runtime::find_containers(rt.into(), pattern).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Creates a container (not started: see `berth_container_start`). `options_json` is a
/// JSON object: `image` (required, by the find rules) and optionally `name`, `args`,
/// `entrypoint`, `env`, `cwd`, `user`, `tty`, `stdin`, `hostname`, `labels`,
/// `annotations`, `mounts`, `resources`, `network` (`"none"` or `"host"`); what is
/// absent comes from the image, as `docker run` does (schema: docs/schemas.md).
/// On success `*out` is a new handle, closed with `berth_container_close`.
///
/// Errors: INVALID_ARGUMENT (not an object, an unknown field, no image), NOT_FOUND (no
/// such image), AMBIGUOUS, ALREADY_EXISTS (the name is taken), NOT_SUPPORTED,
/// UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_create_container(
    out: *mut berth_container,
    rt: berth_runtime,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let text = unsafe { str_arg(options_json, "options_json") }?;
        let options: CreateOptions = api::required_json_object(text, "options_json")?;
        *out = runtime::create_container(rt.into(), options).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Opens the one container `pattern` matches (an exact ID or name, else an ID prefix).
/// On success `*out` is a new handle, closed with `berth_container_close`.
///
/// Errors: NOT_FOUND (no match), AMBIGUOUS (several; the message lists them),
/// INVALID_ARGUMENT (an empty pattern), NOT_SUPPORTED, UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_open_container(
    out: *mut berth_container,
    rt: berth_runtime,
    pattern: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        *out = runtime::open_container(rt.into(), pattern).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Gives the image `source` (by the find rules) the extra name `target` (a reference,
/// `repo:tag`).
///
/// Errors: NOT_FOUND, AMBIGUOUS, INVALID_ARGUMENT (an empty or malformed name),
/// NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `source` and `target` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_tag_image(
    rt: berth_runtime,
    source: *const c_char,
    target: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let source = unsafe { str_arg(source, "source") }?;
        // SAFETY: forwarded from this function's contract.
        let target = unsafe { str_arg(target, "target") }?;
        runtime::tag_image(rt.into(), source, target).wait()?;
        Ok(BERTH_OK)
    })
}

/// Removes an image name; given an image ID, removes the image with all its names.
///
/// Errors: NOT_FOUND, AMBIGUOUS, CONFLICT (a container uses it), INVALID_ARGUMENT (an
/// empty pattern), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_remove_image(rt: berth_runtime, pattern: *const c_char) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        runtime::remove_image(rt.into(), pattern).wait()?;
        Ok(BERTH_OK)
    })
}

/// Imports the images of an oci-archive or docker-archive tar at `path` (on this host)
/// and lists them as a JSON array of image summaries. The caller frees `*out` with
/// `berth_string_free`.
///
/// Errors: NOT_FOUND (no such file), CORRUPT (not an archive), NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_import_images(
    out: *mut *mut c_char,
    rt: berth_runtime,
    path: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = json_out(&runtime::import_images(rt.into(), path).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Writes the images that `patterns_json` (a JSON array of find patterns, at least one)
/// names to an oci-archive tar at `path` (on this host; replaced if it exists).
///
/// Errors: INVALID_ARGUMENT (not a non-empty array of strings), NOT_FOUND, AMBIGUOUS,
/// IO, NOT_SUPPORTED, TIMEOUT.
///
/// # Safety
/// `patterns_json` and `path` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_export_images(
    rt: berth_runtime,
    patterns_json: *const c_char,
    path: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let patterns = api::json_strings(Some(unsafe { str_arg(patterns_json, "patterns_json") }?), "patterns_json")?;
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { str_arg(path, "path") }?;
        runtime::export_images(rt.into(), patterns, path).wait()?;
        Ok(BERTH_OK)
    })
}

/// Pulls `reference` from its registry. Returns at once with a stream (closed with
/// `berth_stream_close`; closing it cancels the pull): each item of `berth_stream_next`
/// is a progress document `{"digest", "status", "offset", "total"}`, the last one
/// `{"status": "complete", "image": {image summary}}`, then BERTH_END. A failed pull
/// is returned by the `berth_stream_next` that meets it. `options_json` is NULL or a
/// JSON object with any of `username`, `password`, `platform`, `plain_http` (schema:
/// docs/schemas.md). The runtime's timeout does not bound the pull: pass a timeout to
/// `berth_stream_next`.
///
/// Errors (of this call): INVALID_ARGUMENT (bad options, an empty reference).
/// Errors (of the stream): NOT_SUPPORTED, NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE,
/// CORRUPT.
///
/// # Safety
/// `out` points to writable storage; `reference` is NUL-terminated; `options_json` is
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_pull(
    out: *mut berth_stream,
    rt: berth_runtime,
    reference: *const c_char,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let reference = unsafe { str_arg(reference, "reference") }?;
        // SAFETY: forwarded from this function's contract.
        let options: PullOptions =
            api::json_object(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        *out = runtime::pull(rt.into(), reference, options)?.into();
        Ok(BERTH_OK)
    })
}

/// Pushes the image named `reference` (`registry/repo:tag`, a name the image has) to
/// its registry. Returns at once with a stream (closed with `berth_stream_close`;
/// closing it cancels the push): each item of `berth_stream_next` is a progress
/// document `{"digest", "status", "offset", "total"}` (`status`: `uploading`, `exists`
/// (the registry has the blob), `pushed`), the last one `{"status": "complete",
/// "reference": "..."}`, then BERTH_END. A failed push is returned by the
/// `berth_stream_next` that meets it. `options_json` is NULL or a JSON object with any
/// of `username`, `password`, `plain_http` (schema: docs/schemas.md; Docker decides
/// plain HTTP itself: it allows it for 127.0.0.0/8 and its insecure registries). The
/// runtime's timeout does not bound the push: pass a timeout to `berth_stream_next`.
///
/// Errors (of this call): INVALID_ARGUMENT (bad options, an empty reference).
/// Errors (of the stream): NOT_SUPPORTED (a runtime that cannot push), NOT_FOUND (no
/// image of that name), PERMISSION_DENIED, UNAVAILABLE.
///
/// # Safety
/// `out` points to writable storage; `reference` is NUL-terminated; `options_json` is
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_push(
    out: *mut berth_stream,
    rt: berth_runtime,
    reference: *const c_char,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let reference = unsafe { str_arg(reference, "reference") }?;
        // SAFETY: forwarded from this function's contract.
        let options: PushOptions =
            api::json_object(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        *out = runtime::push(rt.into(), reference, options)?.into();
        Ok(BERTH_OK)
    })
}

/// Subscribes to the runtime's events from now on. On success `*out` is a stream
/// (closed with `berth_stream_close`, which ends the subscription) whose items are
/// event documents `{"time", "namespace", "topic", "kind", "container_id", "exec_id",
/// "pid", "exit_code", "image"}` (`kind` is berth's name: `task-exit`, `task-start`,
/// `container-create`, `image-delete`, ...; schema: docs/schemas.md). Read them with
/// `berth_stream_next` and a timeout: BERTH_ERR_TIMEOUT means none came in time, and
/// the stream stays usable. `filters_json` is NULL or a JSON array of filter strings
/// in the backend's syntax (containerd: `topic=="/tasks/exit"`, ...; several are ORed).
/// The call returns once the subscription is sent (a daemon that cannot be reached
/// fails it at once); an error later comes from `berth_stream_next`.
///
/// Errors: INVALID_ARGUMENT (filters not an array of strings, or refused by the
/// backend), NOT_SUPPORTED, UNAVAILABLE.
///
/// # Safety
/// `out` points to writable storage; `filters_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_events(
    out: *mut berth_stream,
    rt: berth_runtime,
    filters_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let filters = api::json_strings(unsafe { opt_str_arg(filters_json, "filters_json") }?, "filters_json")?;
        *out = runtime::events(rt.into(), filters).wait()?.into();
        Ok(BERTH_OK)
    })
}
