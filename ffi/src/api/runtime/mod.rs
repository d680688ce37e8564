//! Runtimes: open, close, describe, and what a runtime holds: images, containers, pods,
//! snapshots and events (one file each). The C functions `berth_runtime_*` and
//! `berth_detect` stand on these.

mod containers;
mod events;
mod images;
mod pods;
mod snapshots;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use berth_core::model::{Capabilities, RuntimeKind, VersionInfo};
use berth_core::ConnectOptions;
use serde::Serialize;

use crate::api::Pending;
use crate::failure::Outcome;
use crate::handle::{Castable, Handle};

pub use containers::{create_container, find_containers, list_containers, open_container};
pub use events::{events, pull, push};
pub use images::{export_images, find_images, import_images, list_images, open_image, remove_image, tag_image};
pub use pods::{create_pod, list_pods, open_pod};
pub use snapshots::{
    snapshots_commit, snapshots_list, snapshots_mounts, snapshots_prepare, snapshots_remove, snapshots_stat,
    snapshots_usage, snapshots_view,
};

/// A connection to one endpoint, with the default timeout its options gave: what a
/// runtime handle names.
pub struct Runtime {
    rt: Arc<dyn berth_core::Runtime>,
    timeout: Option<Duration>,
}

impl Castable for Runtime {
    const KIND: u8 = 1;
    const NAME: &'static str = "runtime";
    type Object = Arc<Runtime>;
}

impl Runtime {
    /// The runtime's timeout, which bounds every call that asks its daemon something.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// A core call on this runtime, bounded by its timeout.
    fn call<T, F, Fut>(&self, f: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn berth_core::Runtime>) -> Fut,
        Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
    {
        Pending::core(f(self.rt.clone()), self.timeout)
    }
}

/// Checks `rt` and runs `op` on its runtime; a dead handle is the operation's failure.
fn with<T: Send + 'static>(rt: Handle<Runtime>, op: impl FnOnce(&Runtime) -> Pending<T>) -> Pending<T> {
    Pending::start(|| Ok(op(&*rt.get()?)))
}

/// Opens a runtime: `endpoint` as docs/endpoints.md gives it, or `None` for the first
/// runtime `detect` finds.
pub fn open(endpoint: Option<String>, options: ConnectOptions) -> Pending<Handle<Runtime>> {
    let timeout = options.timeout();
    Pending::core(async move { berth_core::connect(endpoint.as_deref(), options).await }, timeout)
        .then(move |rt| Handle::insert(Arc::new(Runtime { rt, timeout })))
}

/// Closes a runtime handle; what was opened from it stays open.
pub fn close(rt: Handle<Runtime>) -> Outcome<()> {
    rt.remove()
}

/// What `info` tells of a runtime.
#[derive(Debug, Serialize)]
pub struct RuntimeInfo {
    pub endpoint: String,
    pub kind: RuntimeKind,
    pub version: VersionInfo,
    pub capabilities: Capabilities,
}

/// The endpoint, kind, version (asked of the daemon) and capabilities of a runtime.
pub fn info(rt: Handle<Runtime>) -> Pending<RuntimeInfo> {
    with(rt, |r| {
        let (endpoint, kind, capabilities) = (r.rt.endpoint().to_string(), r.rt.kind(), Capabilities::of(&*r.rt));
        r.call(|rt| async move { rt.version().await })
            .then(move |version| Ok(RuntimeInfo { endpoint, kind, version, capabilities }))
    })
}
