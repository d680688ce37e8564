//! containerd's snapshots, through its API.

use std::collections::HashMap;

use async_trait::async_trait;
use containerd_client::services::v1::snapshots::{
    CommitSnapshotRequest, ListSnapshotsRequest, MountsRequest, PrepareSnapshotRequest, RemoveSnapshotRequest,
    StatSnapshotRequest, UsageRequest, ViewSnapshotRequest,
};
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::timestamp;
use crate::error::Result;
use crate::model::{MountInfo, SnapshotInfo, SnapshotUsage};
use crate::snapshot::Snapshots;

/// The snapshots of one snapshotter.
pub struct ContainerdSnapshots {
    pub client: Client,
    pub snapshotter: String,
}

fn info_of(i: containerd_client::services::v1::snapshots::Info) -> SnapshotInfo {
    SnapshotInfo {
        key: i.name,
        parent: (!i.parent.is_empty()).then_some(i.parent),
        kind: match i.kind {
            1 => "view",
            2 => "active",
            3 => "committed",
            _ => "unknown",
        }
        .into(),
        labels: i.labels.into_iter().collect(),
        created: i.created_at.as_ref().map(timestamp),
    }
}

fn mounts_of(m: Vec<containerd_client::types::Mount>) -> Vec<MountInfo> {
    m.into_iter().map(|m| MountInfo { kind: m.r#type, source: m.source, options: m.options }).collect()
}

impl ContainerdSnapshots {
    fn what(&self, op: &str, key: &str) -> String {
        format!("{op} snapshot {key:?} ({})", self.snapshotter)
    }
}

/// Snapshots made through this API belong to the caller, not to an image or a
/// container: `containerd.io/gc.root` keeps the garbage collector off them (as `ctr`
/// does) until they are removed.
fn root_labels() -> HashMap<String, String> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    HashMap::from([(
        "containerd.io/gc.root".to_string(),
        timestamp(&prost_types::Timestamp { seconds: now, nanos: 0 }),
    )])
}

#[async_trait]
impl Snapshots for ContainerdSnapshots {
    async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let c = self.client.clone();
        let snapshotter = self.snapshotter.clone();
        crate::io::run(async move {
            let mut stream = c
                .snapshots()
                .list(c.req(ListSnapshotsRequest { snapshotter: snapshotter.clone(), filters: vec![] }))
                .await
                .map_err(|s| c.error(format!("list snapshots ({snapshotter})"), s))?
                .into_inner();
            let mut out = Vec::new();
            while let Some(r) = stream.next().await {
                let r = r.map_err(|s| c.error(format!("list snapshots ({snapshotter})"), s))?;
                out.extend(r.info.into_iter().map(info_of));
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    async fn stat(&self, key: &str) -> Result<SnapshotInfo> {
        let (c, snapshotter, key, what) =
            (self.client.clone(), self.snapshotter.clone(), key.to_string(), self.what("stat", key));
        crate::io::run(async move {
            let r = c
                .snapshots()
                .stat(c.req(StatSnapshotRequest { snapshotter, key }))
                .await
                .map_err(|s| c.error(what, s))?;
            Ok(info_of(r.into_inner().info.unwrap_or_default()))
        })
        .await
    }

    async fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let (c, snapshotter, what) = (self.client.clone(), self.snapshotter.clone(), self.what("prepare", key));
        let req = PrepareSnapshotRequest {
            snapshotter,
            key: key.into(),
            parent: parent.unwrap_or("").into(),
            labels: root_labels(),
        };
        crate::io::run(async move {
            let r = c.snapshots().prepare(c.req(req)).await.map_err(|s| c.error(what, s))?;
            Ok(mounts_of(r.into_inner().mounts))
        })
        .await
    }

    async fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let (c, snapshotter, what) = (self.client.clone(), self.snapshotter.clone(), self.what("view", key));
        let req = ViewSnapshotRequest {
            snapshotter,
            key: key.into(),
            parent: parent.unwrap_or("").into(),
            labels: root_labels(),
        };
        crate::io::run(async move {
            let r = c.snapshots().view(c.req(req)).await.map_err(|s| c.error(what, s))?;
            Ok(mounts_of(r.into_inner().mounts))
        })
        .await
    }

    async fn commit(&self, name: &str, key: &str) -> Result<()> {
        let (c, snapshotter, what) = (self.client.clone(), self.snapshotter.clone(), self.what("commit", key));
        let req = CommitSnapshotRequest { snapshotter, name: name.into(), key: key.into(), labels: root_labels() };
        crate::io::run(async move {
            c.snapshots().commit(c.req(req)).await.map_err(|s| c.error(what, s))?;
            Ok(())
        })
        .await
    }

    async fn mounts(&self, key: &str) -> Result<Vec<MountInfo>> {
        let (c, snapshotter, key, what) =
            (self.client.clone(), self.snapshotter.clone(), key.to_string(), self.what("mounts of", key));
        crate::io::run(async move {
            let r =
                c.snapshots().mounts(c.req(MountsRequest { snapshotter, key })).await.map_err(|s| c.error(what, s))?;
            Ok(mounts_of(r.into_inner().mounts))
        })
        .await
    }

    async fn usage(&self, key: &str) -> Result<SnapshotUsage> {
        let (c, snapshotter, key, what) =
            (self.client.clone(), self.snapshotter.clone(), key.to_string(), self.what("usage of", key));
        crate::io::run(async move {
            let r = c
                .snapshots()
                .usage(c.req(UsageRequest { snapshotter, key }))
                .await
                .map_err(|s| c.error(what, s))?
                .into_inner();
            Ok(SnapshotUsage { size: r.size, inodes: r.inodes })
        })
        .await
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let (c, snapshotter, key2, what) =
            (self.client.clone(), self.snapshotter.clone(), key.to_string(), self.what("remove", key));
        crate::io::run(async move {
            c.snapshots()
                .remove(c.req(RemoveSnapshotRequest { snapshotter, key: key2 }))
                .await
                .map_err(|s| c.error(what, s))?;
            Ok(())
        })
        .await
    }
}
