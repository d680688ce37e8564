//! A runtime's pods (Podman): list, create, open.

use berth_core::model::PodSummary;
use berth_core::pod::PodOptions;

use super::{with, Runtime};
use crate::api::args::name;
use crate::api::pod::Pod;
use crate::api::Pending;
use crate::handle::Handle;

/// The runtime's pods.
pub fn list_pods(rt: Handle<Runtime>) -> Pending<Vec<PodSummary>> {
    with(rt, |r| r.call(|rt| async move { berth_core::need(rt.pods(), rt.kind(), "listing pods")?.list().await }))
}

/// Creates a pod (no container in it yet).
pub fn create_pod(rt: Handle<Runtime>, options: PodOptions) -> Pending<Handle<Pod>> {
    with(rt, |r| {
        let timeout = r.timeout();
        r.call(|rt| async move { berth_core::need(rt.pods(), rt.kind(), "creating pods")?.create(options).await })
            .then(move |p| Pod::insert(p, timeout))
    })
}

/// Opens the one pod `pattern` matches (an exact ID or name, else an ID prefix).
pub fn open_pod(rt: Handle<Runtime>, pattern: &str) -> Pending<Handle<Pod>> {
    Pending::start(|| {
        let pattern = name(pattern, "pattern")?.to_string();
        Ok(with(rt, |r| {
            let timeout = r.timeout();
            r.call(|rt| async move { berth_core::need(rt.pods(), rt.kind(), "opening pods")?.open(&pattern).await })
                .then(move |p| Pod::insert(p, timeout))
        }))
    })
}
