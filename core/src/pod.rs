//! Pods: groups of containers that share namespaces (Podman pods; CRI sandboxes).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::container::NetworkMode;
use crate::error::Result;
use crate::model::PodSummary;

/// How to create a pod. Everything is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PodOptions {
    /// Generated when absent.
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub hostname: Option<String>,
    pub network: NetworkMode,
}

/// Everything about a pod, for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct PodInfo {
    #[serde(flatten)]
    pub summary: PodSummary,
    /// The runtime's own inspect document.
    pub native: serde_json::Value,
}

/// The pods of a runtime (a runtime's `pods()` service).
#[async_trait]
pub trait Pods: Send + Sync {
    async fn list(&self) -> Result<Vec<PodSummary>>;

    async fn create(&self, options: PodOptions) -> Result<Arc<dyn Pod>>;

    /// Opens the one pod `pattern` matches: an exact ID or name, else an ID prefix.
    async fn open(&self, pattern: &str) -> Result<Arc<dyn Pod>>;
}

/// A pod of a daemon backend. Every method may be called from many tasks at once.
#[async_trait]
pub trait Pod: Send + Sync {
    fn id(&self) -> &str;
    async fn inspect(&self) -> Result<PodInfo>;
    /// Starts the pod's containers.
    async fn start(&self) -> Result<()>;
    /// Stops the pod's containers: SIGTERM, then SIGKILL after `grace`.
    async fn stop(&self, grace: Duration) -> Result<()>;
    async fn kill(&self, signal: i32) -> Result<()>;
    async fn pause(&self) -> Result<()>;
    async fn resume(&self) -> Result<()>;
    /// Removes the pod and its containers; running ones need `force`, else Conflict.
    async fn remove(&self, force: bool) -> Result<()>;
}
