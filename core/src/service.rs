//! What callers make of the services a runtime or a container hands out: the one
//! NotSupported error for a service that is not there, and the capabilities.

use crate::error::{Error, Result};
use crate::model::{Capabilities, RuntimeKind};
use crate::runtime::Runtime;

/// The service a runtime or container handed out for `operation`, or, where it has none,
/// NotSupported naming the backend (`kind`) and the operation. Every NotSupported of a
/// missing service comes from here:
///
/// ```no_run
/// # async fn demo(rt: &dyn berth_core::Runtime) -> berth_core::Result<()> {
/// let pods = berth_core::need(rt.pods(), rt.kind(), "listing pods")?.list().await?;
/// # Ok(()) }
/// ```
pub fn need<'a, S: ?Sized>(service: Option<&'a S>, kind: RuntimeKind, operation: &str) -> Result<&'a S> {
    service.ok_or_else(|| Error::not_supported(kind.scheme(), operation))
}

impl Capabilities {
    /// What `rt` can do: read from the services it hands out, so that a capability is
    /// true exactly when its calls are not NotSupported.
    pub fn of(rt: &dyn Runtime) -> Capabilities {
        let containers = rt.containers().is_some();
        Capabilities {
            // Every runtime lists and opens images, and reads their files.
            images: true,
            image_filesystems: true,
            pull: rt.puller().is_some(),
            push: rt.pusher().is_some(),
            containers,
            // exec is a method of every container.
            exec: containers,
            pods: rt.pods().is_some(),
            snapshots: rt.snapshots().is_some(),
            events: rt.events().is_some(),
        }
    }
}
