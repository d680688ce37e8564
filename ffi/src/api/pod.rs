//! Pods (Podman): groups of containers that share namespaces.

use std::convert::identity;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::api::args::signal;
use crate::api::container::STOP_MARGIN;
use crate::api::{Held, Pending};
use crate::failure::Outcome;
use crate::handle::{Castable, Handle};

/// A pod with the timeout of the runtime it came from: what a pod handle names.
pub struct Pod {
    p: Arc<dyn berth_core::pod::Pod>,
    timeout: Option<Duration>,
}

impl Castable for Pod {
    const KIND: u8 = 9;
    const NAME: &'static str = "pod";
    type Object = Arc<Pod>;
}

impl Pod {
    /// A new pod handle (for the runtime's create and open).
    pub(crate) fn insert(p: Arc<dyn berth_core::pod::Pod>, timeout: Option<Duration>) -> Outcome<Handle<Pod>> {
        Handle::insert(Arc::new(Pod { p, timeout }))
    }
}

/// A core call on the pod of `p`, bounded by `limit(runtime's timeout)`.
fn action<T, F, Fut>(p: Handle<Pod>, limit: impl FnOnce(Option<Duration>) -> Option<Duration>, f: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn berth_core::pod::Pod>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    Pending::start(|| {
        let o = p.get()?;
        Ok(Pending::core(f(o.p.clone()), limit(o.timeout)))
    })
}

/// Closes a pod handle; the pod is left as it is.
pub fn close(p: Handle<Pod>) -> Outcome<()> {
    p.remove()
}

/// The pod's ID. Asks nothing of the daemon.
pub fn id(p: Handle<Pod>) -> Outcome<Held<Arc<Pod>>> {
    Ok(Held::new(p.get()?, |o| o.p.id()))
}

/// The pod's inspect document.
pub fn inspect(p: Handle<Pod>) -> Pending<berth_core::pod::PodInfo> {
    action(p, identity, |p| async move { p.inspect().await })
}

/// Starts the pod's containers.
pub fn start(p: Handle<Pod>) -> Pending<()> {
    action(p, identity, |p| async move { p.start().await })
}

/// Stops the pod's containers: SIGTERM, then SIGKILL once `grace` passed. May take
/// `grace` plus the runtime's timeout.
pub fn stop(p: Handle<Pod>, grace: Duration) -> Pending<()> {
    let limit = move |t: Option<Duration>| t.map(|t| t.saturating_add(grace).saturating_add(STOP_MARGIN));
    action(p, limit, move |p| async move { p.stop(grace).await })
}

/// Sends `signal` (1 to 64) to the init process of every container of the pod.
pub fn kill(p: Handle<Pod>, signal: i32) -> Pending<()> {
    Pending::start(|| {
        let signal = self::signal(signal)?;
        Ok(action(p, identity, move |p| async move { p.kill(signal).await }))
    })
}

/// Freezes every container of the pod.
pub fn pause(p: Handle<Pod>) -> Pending<()> {
    action(p, identity, |p| async move { p.pause().await })
}

/// Thaws a paused pod.
pub fn resume(p: Handle<Pod>) -> Pending<()> {
    action(p, identity, |p| async move { p.resume().await })
}

/// Removes the pod with its containers; a running pod needs `force`.
pub fn remove(p: Handle<Pod>, force: bool) -> Pending<()> {
    action(p, identity, move |p| async move { p.remove(force).await })
}
