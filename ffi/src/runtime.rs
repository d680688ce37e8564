//! Runtimes: open, close, describe, list and find images.

use std::ffi::c_char;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use berth_core::{ConnectOptions, Error, ErrorKind, Runtime};
use once_cell::sync::Lazy;
use serde_json::json;

use crate::call::{call, json_out, opt_str_arg, out_arg, str_arg, Failure, Outcome};
use crate::handle::{self, Kind, Object};
use crate::status::berth_status::{self, *};
use crate::types::{berth_image, berth_runtime};

/// A runtime with the default timeout its options gave.
pub struct RuntimeObject {
    pub rt: Arc<dyn Runtime>,
    pub timeout: Option<Duration>,
}

/// The one internal async runtime every blocking call runs on.
static TOKIO: Lazy<tokio::runtime::Runtime> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berth-rt")
        .enable_all()
        .build()
        .expect("berth: cannot start the internal async runtime")
});

/// Runs `fut` on the internal runtime and waits for it from the calling thread (which
/// may be any thread, even one inside another async runtime). On timeout the work is
/// cancelled.
pub fn block_on<T: Send + 'static>(
    fut: impl Future<Output = berth_core::Result<T>> + Send + 'static,
    timeout: Option<Duration>,
) -> Outcome<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = TOKIO.spawn(async move {
        let _ = tx.send(fut.await);
    });
    let received = match timeout {
        Some(d) => rx.recv_timeout(d).map_err(|_| ()),
        None => rx.recv().map_err(|_| ()),
    };
    match received {
        Ok(result) => result.map_err(Failure::from),
        Err(()) => {
            task.abort();
            match timeout {
                Some(d) => Err(Error::new(ErrorKind::Timeout, format!("the call did not finish within {} ms", d.as_millis())).into()),
                None => Err(Failure::new(BERTH_ERR_INTERNAL, "the call's task ended without a result")),
            }
        }
    }
}

/// The options document: NULL or "" for none, else a JSON object (an array or a
/// scalar is refused, not read by position).
fn parse_options(text: Option<&str>) -> Outcome<ConnectOptions> {
    let bad = |why: String| Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("options_json: {why}"));
    match text {
        None | Some("") => Ok(ConnectOptions::default()),
        Some(s) => {
            let v: serde_json::Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
            if !v.is_object() {
                return Err(bad("expected a JSON object".into()));
            }
            serde_json::from_value(v).map_err(|e| bad(e.to_string()))
        }
    }
}

pub fn runtime(h: berth_runtime) -> Outcome<Arc<RuntimeObject>> {
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
pub unsafe extern "C" fn berth_runtime_open(out: *mut berth_runtime, endpoint: *const c_char, options_json: *const c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let endpoint = unsafe { opt_str_arg(endpoint, "endpoint") }?.map(str::to_string);
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        #[cfg(test)]
        if endpoint.as_deref() == Some("berth-test-panic://") {
            panic!("test-only panic inside berth_runtime_open");
        }
        let options = parse_options(options)?;
        let timeout = options.timeout();
        let rt = block_on(async move { berth_core::connect(endpoint.as_deref(), options).await }, timeout)?;
        out.id = handle::insert(Object::Runtime(Arc::new(RuntimeObject { rt, timeout })));
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
            "capabilities": r.rt.capabilities(),
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
pub unsafe extern "C" fn berth_runtime_find_images(out: *mut *mut c_char, rt: berth_runtime, pattern: *const c_char) -> berth_status {
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
pub unsafe extern "C" fn berth_runtime_open_image(out: *mut berth_image, rt: berth_runtime, pattern: *const c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?.to_string();
        let r = runtime(rt)?;
        let inner = r.rt.clone();
        let image = block_on(async move { inner.open_image(&pattern).await }, r.timeout)?;
        out.id = handle::insert(Object::Image(image));
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
