//! The daemon's event stream, in berth's event kinds.

use std::collections::HashMap;

use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::backends::docker::shared::Shared;
use crate::error::{Error, Result};
use crate::model::Event;

/// Events from now on. Filters are Docker's `key=value` (`type=container`,
/// `container=ID`, `event=start`, `label=k=v`, ...).
///
/// The subscription asks for events `since` the moment of the call: the daemon replays
/// its recent events from then, so an event right after this returns is never lost to
/// the time the request takes to reach the daemon.
pub async fn subscribe(s: &std::sync::Arc<Shared>, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for f in filters {
        let (k, v) =
            f.split_once('=').ok_or_else(|| Error::invalid(format!("event filter {f:?}: expected key=value")))?;
        // Podman filters on its own action names (died, remove) though it reports
        // Docker's (die, destroy) on this API.
        let v = match (s.kind, k, v) {
            (crate::model::RuntimeKind::Podman, "event", "die") => "died",
            (crate::model::RuntimeKind::Podman, "event", "destroy") => "remove",
            _ => v,
        };
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let api = s.client.api().await?.clone();
    // Fail now, not in the stream, when the daemon is not there.
    api.ping().await.map_err(|e| s.client.error("subscribe to events", e))?;
    let options = EventsOptions {
        since: Some(format!("{}.{:09}", now.as_secs(), now.subsec_nanos())),
        until: None,
        filters: (!map.is_empty()).then_some(map),
    };
    let (tx, rx) = mpsc::channel(256);
    let shared = s.clone();
    tokio::spawn(async move {
        let mut stream = api.events(Some(options));
        while let Some(item) = stream.next().await {
            let event = item.map(|m| event_of(&m)).map_err(|e| shared.client.error("events", e));
            let end = event.is_err();
            if tx.send(event).await.is_err() || end {
                break;
            }
        }
    });
    Ok(rx)
}

fn event_of(m: &EventMessage) -> Event {
    let typ = m.typ.map(|t| t.to_string()).unwrap_or_default();
    let action = m.action.clone().unwrap_or_default();
    // "exec_start: sh -c ..." carries the command after the colon.
    let verb = action.split(':').next().unwrap_or("").trim().to_string();
    let attrs = m.actor.as_ref().and_then(|a| a.attributes.clone()).unwrap_or_default();
    let actor = m.actor.as_ref().and_then(|a| a.id.clone());
    let is_container = m.typ == Some(EventMessageTypeEnum::CONTAINER);
    let is_image = m.typ == Some(EventMessageTypeEnum::IMAGE);
    let kind = match (typ.as_str(), verb.as_str()) {
        ("container", "create") => "container-create",
        ("container", "start") => "task-start",
        // Podman says died and remove where Docker says die and destroy.
        ("container", "die") | ("container", "died") => "task-exit",
        ("container", "destroy") | ("container", "remove") => "container-delete",
        ("container", "pause") => "task-paused",
        ("container", "unpause") => "task-resumed",
        ("container", "oom") => "task-oom",
        ("container", "rename") | ("container", "update") => "container-update",
        ("container", "exec_create") => "task-exec-added",
        ("container", "exec_start") => "task-exec-started",
        ("container", "exec_die") => "task-exec-exit",
        ("image", "pull") | ("image", "load") | ("image", "import") => "image-create",
        ("image", "tag") | ("image", "untag") => "image-update",
        ("image", "delete") => "image-delete",
        ("pod", "create") => "pod-create",
        ("pod", "start") => "pod-start",
        ("pod", "stop") => "pod-stop",
        ("pod", "remove") => "pod-delete",
        _ => "other",
    };
    let time = match (m.time_nano, m.time) {
        (Some(n), _) if n > 0 => {
            Some(crate::util::rfc3339(n.div_euclid(1_000_000_000), n.rem_euclid(1_000_000_000) as u32))
        }
        (_, Some(t)) => Some(crate::util::rfc3339(t, 0)),
        _ => None,
    };
    Event {
        time,
        namespace: None,
        topic: format!("{typ}/{action}"),
        kind: kind.to_string(),
        container_id: if is_container { actor.clone() } else { None },
        exec_id: attrs.get("execID").cloned(),
        pid: None,
        exit_code: attrs.get("exitCode").and_then(|c| c.parse().ok()),
        image: if is_image { actor } else { attrs.get("image").cloned() },
    }
}
