//! A runtime's snapshots (containerd), by snapshotter (`None` or "" for the runtime's
//! default) and key.

use std::future::Future;
use std::sync::Arc;

use berth_core::model::{MountInfo as Mount, SnapshotInfo, SnapshotUsage as Usage};
use berth_core::snapshot::Snapshots;

use super::{with, Runtime};
use crate::api::args::name;
use crate::api::Pending;
use crate::handle::Handle;

/// Runs `f` on the snapshots of `snapshotter` with the runtime's timeout.
fn on_snapshots<T, F, Fut>(rt: Handle<Runtime>, snapshotter: Option<&str>, f: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Snapshots>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    let snapshotter = snapshotter.filter(|s| !s.is_empty());
    with(rt, |r| {
        Pending::start(|| {
            let snapshots = berth_core::need(r.rt.snapshots(), r.rt.kind(), "snapshots")?.snapshotter(snapshotter)?;
            Ok(Pending::core(f(snapshots), r.timeout()))
        })
    })
}

/// A snapshot key (or name): not empty.
fn key(s: &str, what: &str) -> crate::failure::Outcome<String> {
    Ok(name(s, what)?.to_string())
}

/// The snapshots of `snapshotter`.
pub fn snapshots_list(rt: Handle<Runtime>, snapshotter: Option<&str>) -> Pending<Vec<SnapshotInfo>> {
    on_snapshots(rt, snapshotter, |s| async move { s.list().await })
}

/// The snapshot `key`.
pub fn snapshots_stat(rt: Handle<Runtime>, snapshotter: Option<&str>, key: &str) -> Pending<SnapshotInfo> {
    Pending::start(|| {
        let key = self::key(key, "key")?;
        Ok(on_snapshots(rt, snapshotter, |s| async move { s.stat(&key).await }))
    })
}

/// Creates the active snapshot `key` on the committed snapshot `parent` (`None` or ""
/// for an empty one); its mounts.
pub fn snapshots_prepare(
    rt: Handle<Runtime>,
    snapshotter: Option<&str>,
    key: &str,
    parent: Option<&str>,
) -> Pending<Vec<Mount>> {
    prepare_or_view(rt, snapshotter, key, parent, false)
}

/// Creates the read-only view `key` of `parent`; its mounts.
pub fn snapshots_view(
    rt: Handle<Runtime>,
    snapshotter: Option<&str>,
    key: &str,
    parent: Option<&str>,
) -> Pending<Vec<Mount>> {
    prepare_or_view(rt, snapshotter, key, parent, true)
}

fn prepare_or_view(
    rt: Handle<Runtime>,
    snapshotter: Option<&str>,
    key: &str,
    parent: Option<&str>,
    view: bool,
) -> Pending<Vec<Mount>> {
    Pending::start(|| {
        let key = self::key(key, "key")?;
        let parent = parent.filter(|p| !p.is_empty()).map(str::to_string);
        Ok(on_snapshots(rt, snapshotter, move |s| async move {
            if view {
                s.view(&key, parent.as_deref()).await
            } else {
                s.prepare(&key, parent.as_deref()).await
            }
        }))
    })
}

/// Commits the active snapshot `key` as the committed snapshot `name`.
pub fn snapshots_commit(rt: Handle<Runtime>, snapshotter: Option<&str>, name: &str, key: &str) -> Pending<()> {
    Pending::start(|| {
        let (name, key) = (self::key(name, "name")?, self::key(key, "key")?);
        Ok(on_snapshots(rt, snapshotter, |s| async move { s.commit(&name, &key).await }))
    })
}

/// The mounts of the active or view snapshot `key`.
pub fn snapshots_mounts(rt: Handle<Runtime>, snapshotter: Option<&str>, key: &str) -> Pending<Vec<Mount>> {
    Pending::start(|| {
        let key = self::key(key, "key")?;
        Ok(on_snapshots(rt, snapshotter, |s| async move { s.mounts(&key).await }))
    })
}

/// The disk use of snapshot `key`.
pub fn snapshots_usage(rt: Handle<Runtime>, snapshotter: Option<&str>, key: &str) -> Pending<Usage> {
    Pending::start(|| {
        let key = self::key(key, "key")?;
        Ok(on_snapshots(rt, snapshotter, |s| async move { s.usage(&key).await }))
    })
}

/// Removes snapshot `key`.
pub fn snapshots_remove(rt: Handle<Runtime>, snapshotter: Option<&str>, key: &str) -> Pending<()> {
    Pending::start(|| {
        let key = self::key(key, "key")?;
        Ok(on_snapshots(rt, snapshotter, |s| async move { s.remove(&key).await }))
    })
}
