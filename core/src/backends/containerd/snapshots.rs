//! containerd's snapshots, through its API.

use std::collections::HashMap;

use async_trait::async_trait;
use containerd_client::services::v1::snapshots::{
    CommitSnapshotRequest, ListSnapshotsRequest, MountsRequest, PrepareSnapshotRequest, RemoveSnapshotRequest,
    StatSnapshotRequest, UsageRequest, ViewSnapshotRequest,
};
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::time::timestamp;
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
        let (c, snapshotter) = (&self.client, &self.snapshotter);
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
    }

    async fn stat(&self, key: &str) -> Result<SnapshotInfo> {
        let c = &self.client;
        let req = StatSnapshotRequest { snapshotter: self.snapshotter.clone(), key: key.to_string() };
        let r = c.snapshots().stat(c.req(req)).await.map_err(|s| c.error(self.what("stat", key), s))?;
        Ok(info_of(r.into_inner().info.unwrap_or_default()))
    }

    async fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let c = &self.client;
        let req = PrepareSnapshotRequest {
            snapshotter: self.snapshotter.clone(),
            key: key.into(),
            parent: parent.unwrap_or("").into(),
            labels: root_labels(),
        };
        let r = c.snapshots().prepare(c.req(req)).await.map_err(|s| c.error(self.what("prepare", key), s))?;
        Ok(mounts_of(r.into_inner().mounts))
    }

    async fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let c = &self.client;
        let req = ViewSnapshotRequest {
            snapshotter: self.snapshotter.clone(),
            key: key.into(),
            parent: parent.unwrap_or("").into(),
            labels: root_labels(),
        };
        let r = c.snapshots().view(c.req(req)).await.map_err(|s| c.error(self.what("view", key), s))?;
        Ok(mounts_of(r.into_inner().mounts))
    }

    async fn commit(&self, name: &str, key: &str) -> Result<()> {
        let c = &self.client;
        let req = CommitSnapshotRequest {
            snapshotter: self.snapshotter.clone(),
            name: name.into(),
            key: key.into(),
            labels: root_labels(),
        };
        c.snapshots().commit(c.req(req)).await.map_err(|s| c.error(self.what("commit", key), s))?;
        Ok(())
    }

    async fn mounts(&self, key: &str) -> Result<Vec<MountInfo>> {
        let c = &self.client;
        let req = MountsRequest { snapshotter: self.snapshotter.clone(), key: key.to_string() };
        let r = c.snapshots().mounts(c.req(req)).await.map_err(|s| c.error(self.what("mounts of", key), s))?;
        Ok(mounts_of(r.into_inner().mounts))
    }

    async fn usage(&self, key: &str) -> Result<SnapshotUsage> {
        let c = &self.client;
        let req = UsageRequest { snapshotter: self.snapshotter.clone(), key: key.to_string() };
        let r = c.snapshots().usage(c.req(req)).await.map_err(|s| c.error(self.what("usage of", key), s))?.into_inner();
        Ok(SnapshotUsage { size: r.size, inodes: r.inodes })
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let c = &self.client;
        let req = RemoveSnapshotRequest { snapshotter: self.snapshotter.clone(), key: key.to_string() };
        c.snapshots().remove(c.req(req)).await.map_err(|s| c.error(self.what("remove", key), s))?;
        Ok(())
    }
}
