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
mod time;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::container::{Container, Containers, CreateOptions};
use crate::endpoint::{ConnectOptions, Endpoint};
use crate::error::{Error, Result};
use crate::find;
use crate::image::Image;
use crate::model::{
    ContainerSummary, Event, ImageSummary, Platform, PullOptions, PullProgress, RuntimeKind, VersionInfo,
};
use crate::pod::Pods;
use crate::runtime::{Events, ImageStore, Puller, Pusher, Runtime};
use crate::snapshot::{Snapshots, Snapshotters};

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
        let c = &self.client;
        let r = c
            .namespaces()
            .list(c.req(containerd_client::services::v1::ListNamespacesRequest { filter: String::new() }))
            .await
            .map_err(|s| c.error("list namespaces", s))?;
        Ok(r.into_inner().namespaces.into_iter().map(|n| n.name).collect())
    }
}

/// The endpoint of `CONTAINERD_ADDRESS` (a socket path), in the namespace
/// `CONTAINERD_NAMESPACE` names.
pub fn address_endpoint(kind: RuntimeKind, address: &str) -> String {
    let mut e = format!("{}://{address}", kind.scheme());
    if let Some(ns) = std::env::var("CONTAINERD_NAMESPACE").ok().filter(|n| !n.is_empty()) {
        e.push_str(&format!("?namespace={ns}"));
    }
    e
}

/// The namespaces of the containerd at `endpoint`, when it answers within a second.
pub fn namespaces_of(endpoint: &str) -> Vec<String> {
    let Ok(e) = Endpoint::parse(endpoint) else { return Vec::new() };
    let Ok(rt) = ContainerdRuntime::open(e, &ConnectOptions::default()) else { return Vec::new() };
    crate::io::block(
        async move {
            Ok(tokio::time::timeout(std::time::Duration::from_secs(1), rt.namespaces())
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or_default())
        },
        None,
    )
    .unwrap_or_default()
}

#[async_trait]
impl Runtime for ContainerdRuntime {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn version(&self) -> Result<VersionInfo> {
        let c = &self.client;
        let v = c.version().version(c.req(())).await.map_err(|s| c.error("version", s))?.into_inner();
        Ok(VersionInfo {
            kind: self.endpoint.kind,
            name: "containerd".into(),
            version: v.version,
            api_version: Some(v.revision),
        })
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

    fn containers(&self) -> Option<&dyn Containers> {
        Some(self)
    }

    fn pods(&self) -> Option<&dyn Pods> {
        None
    }

    fn image_store(&self) -> Option<&dyn ImageStore> {
        Some(self)
    }

    fn puller(&self) -> Option<&dyn Puller> {
        Some(self)
    }

    fn pusher(&self) -> Option<&dyn Pusher> {
        None
    }

    fn snapshots(&self) -> Option<&dyn Snapshotters> {
        Some(self)
    }

    fn events(&self) -> Option<&dyn Events> {
        Some(self)
    }
}

#[async_trait]
impl Puller for ContainerdRuntime {
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary> {
        let name =
            pull::pull(&self.client, &self.settings.snapshotter, &self.platform, reference, options, progress).await?;
        let all = images::list(&self.client, &self.platform).await?;
        all.into_iter()
            .find(|(_, rs)| rs.iter().any(|r| r.name == name))
            .map(|(s, _)| s)
            .ok_or_else(|| Error::internal(format!("pulled image {name} is not listed")))
    }
}

#[async_trait]
impl ImageStore for ContainerdRuntime {
    async fn tag(&self, source: &str, target: &str) -> Result<()> {
        image_ops::tag(&self.client, &self.platform, source, target).await
    }

    async fn remove(&self, pattern: &str) -> Result<()> {
        image_ops::remove(&self.client, &self.platform, pattern).await
    }

    async fn import(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        image_ops::import(&self.client, &self.settings.snapshotter, &self.platform, archive).await
    }

    async fn export(&self, patterns: &[String], archive: &Path) -> Result<()> {
        image_ops::export(&self.client, &self.platform, patterns, archive).await
    }
}

#[async_trait]
impl Events for ContainerdRuntime {
    async fn subscribe(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
        events::subscribe(&self.client, filters).await
    }
}

impl Snapshotters for ContainerdRuntime {
    fn snapshotter(&self, snapshotter: Option<&str>) -> Result<Arc<dyn Snapshots>> {
        Ok(Arc::new(snapshots::ContainerdSnapshots {
            client: self.client.clone(),
            snapshotter: snapshotter.map(str::to_string).unwrap_or_else(|| self.settings.snapshotter.clone()),
        }))
    }
}

#[async_trait]
impl Containers for ContainerdRuntime {
    async fn list(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        containers::list(&self.client, filters.to_vec()).await
    }

    async fn create(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        Ok(containers::create(&self.client, &self.settings, options).await?)
    }

    async fn open(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        let found = self.find(pattern).await?;
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
