//! The containerd backend: gRPC over containerd's unix socket (containerd-client).
//!
//! Endpoint: `containerd:///run/containerd/containerd.sock?namespace=NS` (default
//! namespace `default`; CONTAINERD_NAMESPACE is honoured when the endpoint names none).

mod client;
mod containers;
mod content;
mod events;
mod fifo;
mod image_ops;
mod images;
mod pull;
mod snapshots;
mod spec;
mod store;

use std::sync::Arc;

use async_trait::async_trait;

use crate::container::{Container, CreateOptions};
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{Capabilities, ContainerSummary, ImageSummary, Platform, VersionInfo};
use crate::runtime::Runtime;

pub use client::Client;

/// A runtime on one containerd socket and namespace.
pub struct ContainerdRuntime {
    endpoint: Endpoint,
    client: Client,
    platform: Platform,
    settings: containers::Settings,
}

impl ContainerdRuntime {
    pub fn open(endpoint: Endpoint, options: &ConnectOptions) -> Result<ContainerdRuntime> {
        let namespace = options
            .namespace
            .clone()
            .or_else(|| endpoint.option("namespace").map(str::to_string))
            .or_else(|| std::env::var("CONTAINERD_NAMESPACE").ok().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        let platform = options.platform_for(&endpoint)?;
        let client = Client::new(endpoint.path(), namespace)?;
        let settings = containers::Settings {
            snapshotter: endpoint
                .option("snapshotter")
                .map(str::to_string)
                .or_else(|| std::env::var("CONTAINERD_SNAPSHOTTER").ok().filter(|s| !s.is_empty()))
                .unwrap_or_else(|| "overlayfs".into()),
            runc_root: endpoint.option("runc_root").map(str::to_string),
            fifo_root: std::env::temp_dir().join("berth-fifo"),
            platform: platform.clone(),
        };
        Ok(ContainerdRuntime { endpoint, client, platform, settings })
    }

    /// The namespace this runtime works in.
    pub fn namespace(&self) -> &str {
        &self.client.namespace
    }

    /// The namespaces containerd has.
    pub async fn namespaces(&self) -> Result<Vec<String>> {
        let c = self.client.clone();
        crate::io::run(async move {
            let r = c
                .namespaces()
                .list(c.req(containerd_client::services::v1::ListNamespacesRequest { filter: String::new() }))
                .await
                .map_err(|s| c.error("list namespaces", s))?;
            Ok(r.into_inner().namespaces.into_iter().map(|n| n.name).collect())
        })
        .await
    }
}

#[async_trait]
impl Runtime for ContainerdRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            images: true,
            image_filesystems: true,
            pull: true,
            push: false,
            containers: true,
            exec: true,
            pods: false,
            snapshots: true,
            events: true,
        }
    }

    async fn version(&self) -> Result<VersionInfo> {
        let c = self.client.clone();
        let kind = self.endpoint.kind;
        crate::io::run(async move {
            let v = c.version().version(c.req(())).await.map_err(|s| c.error("version", s))?.into_inner();
            Ok(VersionInfo { kind, name: "containerd".into(), version: v.version, api_version: Some(v.revision) })
        })
        .await
    }

    async fn list_images(&self) -> Result<Vec<ImageSummary>> {
        Ok(images::list(&self.client, &self.platform).await?.into_iter().map(|(s, _)| s).collect())
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        let all = images::list(&self.client, &self.platform).await?;
        let summaries: Vec<ImageSummary> = all.iter().map(|(s, _)| s.clone()).collect();
        let one =
            find::find_one_image(&summaries, pattern, &format!("{} (namespace {})", self.endpoint, self.namespace()))?;
        let (summary, resolved) = all
            .iter()
            .find(|(s, _)| s.id == one.id)
            .ok_or_else(|| Error::internal("found image vanished from the listing"))?;
        images::open(&self.client, summary.clone(), &resolved[0]).await
    }

    async fn pull_image(
        &self,
        reference: &str,
        options: crate::model::PullOptions,
        progress: Option<tokio::sync::mpsc::UnboundedSender<crate::model::PullProgress>>,
    ) -> Result<ImageSummary> {
        let name =
            pull::pull(&self.client, &self.settings.snapshotter, &self.platform, reference, options, progress).await?;
        let all = images::list(&self.client, &self.platform).await?;
        all.into_iter()
            .find(|(_, rs)| rs.iter().any(|r| r.name == name))
            .map(|(s, _)| s)
            .ok_or_else(|| Error::internal(format!("pulled image {name} is not listed")))
    }

    async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        image_ops::tag(&self.client, &self.platform, source, target).await
    }

    async fn remove_image(&self, pattern: &str) -> Result<()> {
        image_ops::remove(&self.client, &self.platform, pattern).await
    }

    async fn import_images(&self, archive: &std::path::Path) -> Result<Vec<ImageSummary>> {
        image_ops::import(&self.client, &self.settings.snapshotter, &self.platform, archive).await
    }

    async fn export_images(&self, patterns: &[String], archive: &std::path::Path) -> Result<()> {
        image_ops::export(&self.client, &self.platform, patterns, archive).await
    }

    async fn events(&self, filters: &[String]) -> Result<tokio::sync::mpsc::Receiver<Result<crate::model::Event>>> {
        events::subscribe(&self.client, filters).await
    }

    fn snapshots(&self, snapshotter: Option<&str>) -> Result<Arc<dyn crate::snapshot::Snapshots>> {
        Ok(Arc::new(snapshots::ContainerdSnapshots {
            client: self.client.clone(),
            snapshotter: snapshotter.map(str::to_string).unwrap_or_else(|| self.settings.snapshotter.clone()),
        }))
    }

    async fn list_containers(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        containers::list(&self.client, filters.to_vec()).await
    }

    async fn create_container(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        Ok(containers::create(&self.client, &self.settings, options).await?)
    }

    async fn open_container(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        let found = self.find_containers(pattern).await?;
        match found.as_slice() {
            [one] => Ok(Arc::new(containers::ContainerdContainer::new(&self.client, &self.settings, one.id.clone()))),
            [] => Err(Error::not_found(format!(
                "container {pattern:?} in namespace {}: no container matches",
                self.namespace()
            ))),
            many => {
                Err(Error::ambiguous(format!("container {pattern:?}"), many.iter().map(|c| c.id.clone()).collect()))
            }
        }
    }
}

pub(crate) use crate::util::random_suffix;

/// A protobuf timestamp in RFC 3339 (UTC), or `None` for the zero value containerd
/// sends for "not yet" (a running task's exit time).
pub(crate) fn timestamp_opt(ts: &prost_types::Timestamp) -> Option<String> {
    (ts.seconds > 0).then(|| timestamp(ts))
}

/// A protobuf timestamp in RFC 3339 (UTC).
pub(crate) fn timestamp(ts: &prost_types::Timestamp) -> String {
    crate::util::rfc3339(ts.seconds, ts.nanos.max(0) as u32)
}
