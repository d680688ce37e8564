//! Podman pods, through the libpod API.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::backends::docker::libpod::encode;
use crate::backends::docker::shared::Shared;
use crate::container::NetworkMode;
use crate::error::{Error, ErrorKind, Result};
use crate::model::PodSummary;
use crate::pod::{Pod, PodInfo, PodOptions};

/// A Podman pod, by ID.
pub struct PodmanPod {
    shared: Arc<Shared>,
    id: String,
}

pub async fn list(s: &Shared) -> Result<Vec<PodSummary>> {
    let libpod = s.libpod("pods")?;
    let all = libpod.call("list pods", http::Method::GET, "/pods/json", None).await?;
    Ok(all.as_array().into_iter().flatten().map(summary_of).collect())
}

/// A pod from libpod's listing or inspect (they name the same things differently).
fn summary_of(p: &Value) -> PodSummary {
    let text = |keys: &[&str]| keys.iter().find_map(|k| p.get(*k).and_then(Value::as_str)).unwrap_or("").to_string();
    let containers = p
        .get("Containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("Id").or_else(|| c.get("id")).and_then(Value::as_str).map(str::to_string))
        .collect();
    let labels = p
        .get("Labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    PodSummary {
        id: text(&["Id", "ID"]),
        name: text(&["Name"]),
        state: text(&["Status", "State"]),
        containers,
        labels,
        created: p.get("Created").and_then(Value::as_str).map(str::to_string),
    }
}

pub async fn create(s: &Arc<Shared>, options: PodOptions) -> Result<PodmanPod> {
    let what = format!("create pod {}", options.name.as_deref().unwrap_or("(unnamed)"));
    let libpod = s.libpod(&what)?;
    let nsmode = match options.network {
        NetworkMode::None => "none",
        NetworkMode::Host => "host",
    };
    let mut body = json!({
        "labels": options.labels,
        "netns": { "nsmode": nsmode },
    });
    if let Some(n) = &options.name {
        body["name"] = json!(n);
    }
    if let Some(h) = &options.hostname {
        body["hostname"] = json!(h);
    }
    let r = libpod.call(&what, http::Method::POST, "/pods/create", Some(&body)).await?;
    let id =
        r.get("Id").and_then(Value::as_str).ok_or_else(|| Error::internal(format!("{what}: no ID in the answer")))?;
    Ok(PodmanPod { shared: s.clone(), id: id.to_string() })
}

pub async fn open(s: &Arc<Shared>, pattern: &str) -> Result<PodmanPod> {
    if pattern.is_empty() {
        return Err(Error::invalid("open pod: empty name"));
    }
    let all = list(s).await?;
    let exact: Vec<&PodSummary> = all.iter().filter(|p| p.id == pattern || p.name == pattern).collect();
    let found: Vec<&PodSummary> =
        if exact.is_empty() { all.iter().filter(|p| p.id.starts_with(pattern)).collect() } else { exact };
    match found.as_slice() {
        [one] => Ok(PodmanPod { shared: s.clone(), id: one.id.clone() }),
        [] => Err(Error::not_found(format!("pod {pattern:?} on {}: no pod matches", s.client.endpoint))),
        many => Err(Error::ambiguous(format!("pod {pattern:?}"), many.iter().map(|p| p.id.clone()).collect())),
    }
}

impl PodmanPod {
    /// `POST /pods/ID/VERB?QUERY`.
    async fn act(&self, verb: &'static str, query: String) -> Result<()> {
        let (s, id) = (&self.shared, &self.id);
        let what = format!("{verb} pod {}", &id[..id.len().min(12)]);
        let path = format!("/pods/{}/{verb}{query}", encode(&id));
        let r = s.libpod(&what)?.call(&what, http::Method::POST, &path, None).await?;
        // Per-container failures come back in `Errs` with a 200 or 409.
        let errs: Vec<String> = r
            .get("Errs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str().map(str::to_string).or_else(|| Some(e.to_string())))
            .collect();
        if !errs.is_empty() {
            return Err(Error::new(ErrorKind::Conflict, format!("{what}: {}", errs.join("; "))));
        }
        Ok(())
    }
}

#[async_trait]
impl Pod for PodmanPod {
    fn id(&self) -> &str {
        &self.id
    }

    async fn inspect(&self) -> Result<PodInfo> {
        let (s, id) = (&self.shared, &self.id);
        let what = format!("inspect pod {id}");
        let v = s.libpod(&what)?.call(&what, http::Method::GET, &format!("/pods/{}/json", encode(&id)), None).await?;
        Ok(PodInfo { summary: summary_of(&v), native: v })
    }

    async fn start(&self) -> Result<()> {
        self.act("start", String::new()).await
    }

    async fn stop(&self, grace: Duration) -> Result<()> {
        self.act("stop", format!("?t={}", grace.as_millis().div_ceil(1000))).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        self.act("kill", format!("?signal={signal}")).await
    }

    async fn pause(&self) -> Result<()> {
        self.act("pause", String::new()).await
    }

    async fn resume(&self) -> Result<()> {
        self.act("unpause", String::new()).await
    }

    async fn remove(&self, force: bool) -> Result<()> {
        let (s, id) = (&self.shared, &self.id);
        let what = format!("remove pod {}", &id[..id.len().min(12)]);
        if !force {
            let v =
                s.libpod(&what)?.call(&what, http::Method::GET, &format!("/pods/{}/json", encode(&id)), None).await?;
            let state = v.get("State").and_then(Value::as_str).unwrap_or("");
            if matches!(state, "Running" | "Paused" | "Degraded") {
                return Err(Error::new(ErrorKind::Conflict, format!("{what}: it is {state} (stop it, or force)")));
            }
        }
        let path = format!("/pods/{}?force={force}", encode(&id));
        s.libpod(&what)?.call(&what, http::Method::DELETE, &path, None).await?;
        Ok(())
    }
}
