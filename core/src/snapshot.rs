//! Snapshots (containerd): the layered filesystems containers run on.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{MountInfo, SnapshotInfo, SnapshotUsage};

/// The snapshots of one snapshotter of a runtime.
#[async_trait]
pub trait Snapshots: Send + Sync {
    async fn list(&self) -> Result<Vec<SnapshotInfo>>;
    async fn stat(&self, key: &str) -> Result<SnapshotInfo>;
    /// A new writable snapshot `key` on `parent` (a committed snapshot, or none).
    async fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>>;
    /// A new read-only view `key` of `parent`.
    async fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>>;
    /// Commits the active snapshot `key` as `name`.
    async fn commit(&self, name: &str, key: &str) -> Result<()>;
    async fn mounts(&self, key: &str) -> Result<Vec<MountInfo>>;
    async fn usage(&self, key: &str) -> Result<SnapshotUsage>;
    async fn remove(&self, key: &str) -> Result<()>;
}

/// The snapshotters of a runtime (a runtime's `snapshots()` service).
pub trait Snapshotters: Send + Sync {
    /// The snapshots of `snapshotter` (the runtime's default when `None`).
    fn snapshotter(&self, snapshotter: Option<&str>) -> Result<Arc<dyn Snapshots>>;
}
