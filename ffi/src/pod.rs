//! Pods (Podman): groups of containers that share namespaces. A container joins one
//! when it is created (`"pod"` in the create options). The C shims of `api::pod` and
//! `api::runtime`'s pod functions.

use std::ffi::c_char;
use std::time::Duration;

use berth_core::pod::PodOptions;

use crate::api::{self, pod, runtime};
use crate::call::{c_string, call, json_out, opt_str_arg, out_arg, str_arg};
use crate::status::berth_status::{self, *};
use crate::types::{berth_pod, berth_runtime};

/// Lists the runtime's pods as a JSON array of pod summaries (`id`, `name`, `state`,
/// `containers` (their IDs), `labels`, `created`; schema: docs/schemas.md). The caller
/// frees `*out` with `berth_string_free`.
///
/// Errors: NOT_SUPPORTED (a runtime without pods: all but Podman), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_list_pods(out: *mut *mut c_char, rt: berth_runtime) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&runtime::list_pods(rt.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Creates a pod (Podman; no container in it yet: create them with `"pod"` in
/// `berth_runtime_create_container`'s options, then start the pod or each container).
/// `options_json` is NULL or a JSON object with any of `name` (generated when absent),
/// `labels`, `hostname`, `network` (`"none"`, the default, or `"host"`) (schema:
/// docs/schemas.md). On success `*out` is a new handle, closed with `berth_pod_close`.
///
/// Errors: INVALID_ARGUMENT (not an object, an unknown field), ALREADY_EXISTS (the name
/// is taken), NOT_SUPPORTED (a runtime without pods), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_create_pod(
    out: *mut berth_pod,
    rt: berth_runtime,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let options: PodOptions =
            api::json_object(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        *out = runtime::create_pod(rt.into(), options).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Opens the one pod `pattern` matches (an exact ID or name, else an ID prefix). On
/// success `*out` is a new handle, closed with `berth_pod_close`.
///
/// Errors: NOT_FOUND (no match), AMBIGUOUS (several; the message lists them),
/// INVALID_ARGUMENT (an empty pattern), NOT_SUPPORTED, UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `pattern` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_runtime_open_pod(
    out: *mut berth_pod,
    rt: berth_runtime,
    pattern: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        *out = runtime::open_pod(rt.into(), pattern).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Closes a pod handle. The pod itself is left as it is (running, stopped): stop and
/// remove it first if it should go.
#[no_mangle]
pub extern "C" fn berth_pod_close(p: berth_pod) -> berth_status {
    call(|| pod::close(p.into()).map(|()| BERTH_OK))
}

/// The pod's ID. Asks nothing of the daemon. The caller frees `*out` with
/// `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_pod_id(out: *mut *mut c_char, p: berth_pod) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = c_string(&*pod::id(p.into())?);
        Ok(BERTH_OK)
    })
}

/// The pod's inspect document as JSON: the summary's fields (`id`, `name`, `state`,
/// `containers`, `labels`, `created`) plus `native` (the runtime's own inspect document)
/// (schema: docs/schemas.md). The caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND (the pod was removed), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_pod_inspect(out: *mut *mut c_char, p: berth_pod) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&pod::inspect(p.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Starts the pod's containers (and its infra container).
///
/// Errors: NOT_FOUND, CONFLICT (a container could not start; the message says which),
/// UNAVAILABLE, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_start(p: berth_pod) -> berth_status {
    call(|| pod::start(p.into()).wait().map(|()| BERTH_OK))
}

/// Stops the pod's containers: SIGTERM, then SIGKILL once `grace_ms` passed (the daemon
/// counts whole seconds, rounded up). The call may take `grace_ms` plus the runtime's
/// timeout.
///
/// Errors: NOT_FOUND, CONFLICT, UNAVAILABLE, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_stop(p: berth_pod, grace_ms: u32) -> berth_status {
    call(|| pod::stop(p.into(), Duration::from_millis(grace_ms.into())).wait().map(|()| BERTH_OK))
}

/// Sends `signal` (1 to 64) to the init process of every container of the pod.
///
/// Errors: INVALID_ARGUMENT (not a signal number), CONFLICT (not running), NOT_FOUND,
/// TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_kill(p: berth_pod, signal: i32) -> berth_status {
    call(|| pod::kill(p.into(), signal).wait().map(|()| BERTH_OK))
}

/// Freezes every container of the pod.
///
/// Errors: CONFLICT (not running), NOT_FOUND, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_pause(p: berth_pod) -> berth_status {
    call(|| pod::pause(p.into()).wait().map(|()| BERTH_OK))
}

/// Thaws a paused pod.
///
/// Errors: CONFLICT (not paused), NOT_FOUND, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_resume(p: berth_pod) -> berth_status {
    call(|| pod::resume(p.into()).wait().map(|()| BERTH_OK))
}

/// Removes the pod with its containers. A running (or paused) pod needs `force` (its
/// containers are killed first); without it the call fails with CONFLICT and nothing
/// changes. The handle stays open (later calls get NOT_FOUND); close it. Container
/// handles of its containers get NOT_FOUND too.
///
/// Errors: CONFLICT, NOT_FOUND, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_pod_remove(p: berth_pod, force: bool) -> berth_status {
    call(|| pod::remove(p.into(), force).wait().map(|()| BERTH_OK))
}
