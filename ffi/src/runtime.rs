//! Runtimes: open, close, describe; images (list, find, open, pull, push, tag, remove,
//! import, export); containers (list, find, create, open); events. The blocking
//! helpers every other module uses live here too.

use std::ffi::c_char;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::CreateOptions;
use berth_core::model::{PullOptions, PullProgress, PushOptions};
use berth_core::{ConnectOptions, Error, ErrorKind, Runtime};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::call::{
    call, json_object_arg, json_out, json_strings_arg, name_arg, opt_str_arg, out_arg, required_json_object, str_arg,
    Failure, Outcome,
};
use crate::container::insert_container;
use crate::handle::{self, Kind, Object};
use crate::status::berth_status::{self, *};
use crate::stream::{ChannelSource, Stream};
use crate::types::{berth_container, berth_image, berth_runtime, berth_stream};

/// A runtime with the default timeout its options gave.
pub(crate) struct RuntimeObject {
    pub rt: Arc<dyn Runtime>,
    pub timeout: Option<Duration>,
}

/// How long a blocked caller waits beyond a call's own timeout before it gives up on
/// the internal runtime itself (a backstop: the timeout inside the task fires first).
const BACKSTOP: Duration = Duration::from_secs(5);

/// Runs `fut` on berth's one internal async runtime (`berth_core::io`, where the daemon
/// backends run all their I/O) and waits for it from the calling thread (which may be
/// any thread, even one inside another async runtime). On timeout the work is
/// cancelled (its future is dropped inside the runtime) and the call fails with
/// BERTH_ERR_TIMEOUT.
pub(crate) fn block_on<T: Send + 'static>(
    fut: impl Future<Output = berth_core::Result<T>> + Send + 'static,
    timeout: Option<Duration>,
) -> Outcome<T> {
    let timed_out =
        |d: Duration| Error::new(ErrorKind::Timeout, format!("the call did not finish within {} ms", d.as_millis()));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = berth_core::io::runtime().spawn(async move {
        let result = match timeout {
            Some(d) => tokio::time::timeout(d, fut).await.unwrap_or_else(|_| Err(timed_out(d))),
            None => fut.await,
        };
        let _ = tx.send(result);
    });
    let received = match timeout {
        Some(d) => rx.recv_timeout(d.saturating_add(BACKSTOP)).ok(),
        None => rx.recv().ok(),
    };
    match received {
        Some(result) => result.map_err(Failure::from),
        None => {
            task.abort();
            match timeout {
                Some(d) => Err(timed_out(d).into()),
                None => Err(Failure::new(BERTH_ERR_INTERNAL, "the call's task ended without a result")),
            }
        }
    }
}

/// What [`wait`] saw first.
pub(crate) enum Waited<T> {
    Done(T),
    TimedOut,
    /// The object's handle was closed (by another thread) while this call waited.
    Closed,
}

/// Waits on the internal runtime for `fut`, for at most `timeout` (`None`: as long as
/// it takes), and no longer than until `closed` turns true. `fut` must be cancel-safe:
/// on a timeout or a close it is dropped where it waits, and nothing it received is
/// lost (a receiver's `recv` is).
pub(crate) fn wait<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
    timeout: Option<Duration>,
    closed: Option<watch::Receiver<bool>>,
) -> Waited<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = berth_core::io::runtime().spawn(async move {
        let closing = async move {
            match closed {
                // An error means the sender is gone: the object is gone too.
                Some(mut c) => drop(c.wait_for(|closed| *closed).await),
                None => std::future::pending().await,
            }
        };
        let expiry = async move {
            match timeout {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            biased;
            v = fut => Waited::Done(v),
            () = closing => Waited::Closed,
            () = expiry => Waited::TimedOut,
        };
        let _ = tx.send(outcome);
    });
    let received = match timeout {
        Some(d) => rx.recv_timeout(d.saturating_add(BACKSTOP)).ok(),
        None => rx.recv().ok(),
    };
    received.unwrap_or_else(|| {
        task.abort();
        Waited::TimedOut
    })
}

/// A timeout in milliseconds from C: negative means none (wait as long as it takes).
pub(crate) fn timeout_arg(ms: i64) -> Option<Duration> {
    (ms >= 0).then(|| Duration::from_millis(ms as u64))
}

pub(crate) fn runtime(h: berth_runtime) -> Outcome<Arc<RuntimeObject>> {
    match handle::get(h.id, Kind::Runtime)? {
        Object::Runtime(r) => Ok(r),
        _ => unreachable!("the table checks kinds"),
    }
}

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
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        #[cfg(test)]
        if endpoint.as_deref() == Some("berth-test-panic://") {
            panic!("test-only panic inside berth_runtime_open");
        }
        let options: ConnectOptions = json_object_arg(options, "options_json")?;
        let timeout = options.timeout();
        let rt = block_on(async move { berth_core::connect(endpoint.as_deref(), options).await }, timeout)?;
        out.id = handle::insert(Object::Runtime(Arc::new(RuntimeObject { rt, timeout })))?;
        Ok(BERTH_OK)
    })
}

/// Closes a runtime handle. Images, layers, filesystems and files opened from it stay
/// valid until they are closed themselves.
///
/// Errors: INVALID_HANDLE (zero, closed, or not a runtime).
#[no_mangle]
pub extern "C" fn berth_runtime_close(rt: berth_runtime) -> berth_status {
    call(|| handle::remove(rt.id, Kind::Runtime).map(|()| BERTH_OK))
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
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let version = block_on(async move { inner.version().await }, r.timeout)?;
        *out = json_out(&json!({
            "endpoint": r.rt.endpoint().to_string(),
            "kind": r.rt.kind(),
            "version": version,
            "capabilities": berth_core::model::Capabilities::of(&*r.rt),
        }))?;
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
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let images = block_on(async move { inner.list_images().await }, r.timeout)?;
        *out = json_out(&images)?;
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
        let pattern = unsafe { str_arg(pattern, "pattern") }?.to_string();
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let images = block_on(async move { inner.find_images(&pattern).await }, r.timeout)?;
        *out = json_out(&images)?;
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
        let pattern = unsafe { str_arg(pattern, "pattern") }?.to_string();
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let image = block_on(async move { inner.open_image(&pattern).await }, r.timeout)?;
        out.id = handle::insert(Object::Image(image))?;
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
        *out = json_out(&berth_core::detect())?;
        Ok(BERTH_OK)
    })
}

/// Runs a runtime method on the internal runtime with the runtime's timeout.
fn with_runtime<T, F, Fut>(rt: berth_runtime, f: F) -> Outcome<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Runtime>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    let r = runtime(rt)?;
    block_on(f(r.rt.clone()), r.timeout)
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
        let filters = json_strings_arg(unsafe { opt_str_arg(filters_json, "filters_json") }?, "filters_json")?;
        let containers = with_runtime(rt, |r| async move {
            berth_core::need(r.containers(), r.kind(), "listing containers")?.list(&filters).await
        })?;
        *out = json_out(&containers)?;
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
        let pattern = name_arg(unsafe { str_arg(pattern, "pattern") }?, "pattern")?.to_string();
        let containers = with_runtime(rt, |r| async move {
            berth_core::need(r.containers(), r.kind(), "listing containers")?.find(&pattern).await
        })?;
        *out = json_out(&containers)?;
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
        let options: CreateOptions = required_json_object(text, "options_json")?;
        if options.image.trim().is_empty() {
            return Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, "options_json: `image` is required"));
        }
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let c = block_on(
            async move { berth_core::need(inner.containers(), inner.kind(), "creating containers")?.create(options).await },
            r.timeout,
        )?;
        out.id = insert_container(c, r.timeout)?;
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
        let pattern = name_arg(unsafe { str_arg(pattern, "pattern") }?, "pattern")?.to_string();
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let c = block_on(
            async move { berth_core::need(inner.containers(), inner.kind(), "opening containers")?.open(&pattern).await },
            r.timeout,
        )?;
        out.id = insert_container(c, r.timeout)?;
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
        let source = name_arg(unsafe { str_arg(source, "source") }?, "source")?.to_string();
        // SAFETY: forwarded from this function's contract.
        let target = name_arg(unsafe { str_arg(target, "target") }?, "target")?.to_string();
        with_runtime(rt, |r| async move {
            berth_core::need(r.image_store(), r.kind(), "tagging images")?.tag(&source, &target).await
        })?;
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
        let pattern = name_arg(unsafe { str_arg(pattern, "pattern") }?, "pattern")?.to_string();
        with_runtime(rt, |r| async move {
            berth_core::need(r.image_store(), r.kind(), "removing images")?.remove(&pattern).await
        })?;
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
        let path = PathBuf::from(name_arg(unsafe { str_arg(path, "path") }?, "path")?);
        let images = with_runtime(rt, |r| async move {
            berth_core::need(r.image_store(), r.kind(), "importing images")?.import(&path).await
        })?;
        *out = json_out(&images)?;
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
        let patterns = json_strings_arg(Some(unsafe { str_arg(patterns_json, "patterns_json") }?), "patterns_json")?;
        if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
            return Err(Failure::new(
                BERTH_ERR_INVALID_ARGUMENT,
                "patterns_json: name at least one image, and no empty pattern",
            ));
        }
        // SAFETY: forwarded from this function's contract.
        let path = PathBuf::from(name_arg(unsafe { str_arg(path, "path") }?, "path")?);
        with_runtime(rt, |r| async move {
            berth_core::need(r.image_store(), r.kind(), "exporting images")?.export(&patterns, &path).await
        })?;
        Ok(BERTH_OK)
    })
}

/// Runs a registry operation (pull, push) as a task of its own and returns a stream
/// handle: the operation's progress documents are the stream's items, then `last` of
/// its result (or its error), then the end. Closing the stream aborts the task, which
/// cancels the operation. A reader that falls behind never slows the operation: its
/// progress queues up until read.
fn progress_stream<T, F, Fut>(what: &'static str, work: F, last: fn(T) -> serde_json::Value) -> Outcome<u64>
where
    T: Send + 'static,
    F: FnOnce(mpsc::UnboundedSender<PullProgress>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    let io = berth_core::io::runtime();
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<PullProgress>();
    let mut op = io.spawn(work(progress_tx));
    let op_abort = op.abort_handle();
    let (tx, rx) = mpsc::channel::<berth_core::Result<serde_json::Value>>(64);
    let forward = io.spawn(async move {
        let as_json = |p: PullProgress| serde_json::to_value(p).map_err(|e| Error::internal(e.to_string()));
        let result = loop {
            tokio::select! {
                biased;
                Some(p) = progress_rx.recv() => {
                    if tx.send(as_json(p)).await.is_err() {
                        return;
                    }
                }
                r = &mut op => break r,
            }
        };
        while let Ok(p) = progress_rx.try_recv() {
            if tx.send(as_json(p)).await.is_err() {
                return;
            }
        }
        let item = match result {
            Ok(Ok(v)) => Ok(last(v)),
            Ok(Err(e)) => Err(e),
            Err(e) if e.is_cancelled() => Err(Error::new(ErrorKind::Cancelled, format!("the {what} was cancelled"))),
            Err(e) => Err(Error::internal(format!("the {what} task failed: {e}"))),
        };
        let _ = tx.send(item).await;
    });
    let source = ChannelSource::new(rx, vec![op_abort, forward.abort_handle()]);
    handle::insert(Object::Stream(Stream::new(Box::new(source))))
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
        let reference = name_arg(unsafe { str_arg(reference, "reference") }?, "reference")?.to_string();
        // SAFETY: forwarded from this function's contract.
        let options: PullOptions =
            json_object_arg(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        let inner = runtime(rt)?.rt.clone();
        out.id = progress_stream(
            "pull",
            |progress| async move {
                berth_core::need(inner.puller(), inner.kind(), "pulling images")?
                    .pull(&reference, options, Some(progress))
                    .await
            },
            |image| json!({ "status": "complete", "image": image }),
        )?;
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
        let reference = name_arg(unsafe { str_arg(reference, "reference") }?, "reference")?.to_string();
        // SAFETY: forwarded from this function's contract.
        let options: PushOptions =
            json_object_arg(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        let inner = runtime(rt)?.rt.clone();
        out.id = progress_stream(
            "push",
            move |progress| async move {
                berth_core::need(inner.pusher(), inner.kind(), "pushing images")?
                    .push(&reference, options, Some(progress))
                    .await?;
                Ok(reference)
            },
            |reference| json!({ "status": "complete", "reference": reference }),
        )?;
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
        let filters = json_strings_arg(unsafe { opt_str_arg(filters_json, "filters_json") }?, "filters_json")?;
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        // Closing the stream drops the receiver, which ends the subscription.
        let events = block_on(
            async move { berth_core::need(inner.events(), inner.kind(), "events")?.subscribe(&filters).await },
            r.timeout,
        )?;
        let source = ChannelSource::new(events, Vec::new());
        out.id = handle::insert(Object::Stream(Stream::new(Box::new(source))))?;
        Ok(BERTH_OK)
    })
}
