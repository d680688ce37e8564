//! containerd's event stream, decoded into berth's [`Event`]s.

use containerd_client::events as ev;
use containerd_client::services::v1::SubscribeRequest;
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::time::timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Event;

/// Subscribes to the events of the client's namespace matching `filters` (containerd
/// syntax; the namespace is added to each). Events flow until the receiver is dropped.
pub async fn subscribe(client: &Client, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
    let ns = format!("namespace=={}", client.namespace);
    let filters: Vec<String> =
        if filters.is_empty() { vec![ns] } else { filters.iter().map(|f| format!("{ns},{f}")).collect() };
    let (tx, rx) = mpsc::channel(256);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<()>>();
    let c = client.clone();
    crate::io::runtime().spawn(async move {
        // containerd answers a subscription only with its first event: the call itself
        // waits for one, so it runs here, in the background.
        let stream = c.events().subscribe(c.req(SubscribeRequest { filters })).await;
        let mut stream = match stream {
            Ok(r) => {
                let _ = ready_tx.send(Ok(()));
                r.into_inner()
            }
            Err(s) => {
                // After the grace below the caller holds the stream, not the readiness
                // signal: the failure (containerd died before its first event) goes there.
                if let Err(Err(e)) = ready_tx.send(Err(c.error("subscribe to events", s))) {
                    let _ = tx.send(Err(e)).await;
                }
                return;
            }
        };
        loop {
            tokio::select! {
                _ = tx.closed() => break,
                item = stream.next() => match item {
                    // containerd never ends a subscription itself: its end means the
                    // connection went (containerd stopped or crashed). Said as an error,
                    // or a reader would take it for the end of a finite stream.
                    None => {
                        let gone = Error::new(
                            ErrorKind::Unavailable,
                            format!(
                                "event stream (containerd {}, namespace {}): the connection to containerd closed \
                                 (is containerd running?)",
                                c.socket.display(),
                                c.namespace
                            ),
                        );
                        let _ = tx.send(Err(gone)).await;
                        break;
                    }
                    Some(Ok(envelope)) => {
                        if tx.send(Ok(decode(envelope))).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(s)) => {
                        let _ = tx.send(Err(c.error("event stream", s))).await;
                        break;
                    }
                },
            }
        }
    });
    // A failure to connect shows at once; a quiet daemon shows nothing, so after a short
    // grace (the request has reached a local daemon by then) the stream is handed over.
    match tokio::time::timeout(std::time::Duration::from_millis(250), ready_rx).await {
        Ok(Ok(Err(e))) => Err(e),
        _ => Ok(rx),
    }
}

fn decode(e: containerd_client::types::Envelope) -> Event {
    let mut out = Event {
        time: e.timestamp.as_ref().map(timestamp),
        namespace: Some(e.namespace),
        topic: e.topic,
        kind: "other".into(),
        container_id: None,
        exec_id: None,
        pid: None,
        exit_code: None,
        image: None,
    };
    let Some(any) = e.event else { return out };
    // The message's own name, the last part of its type: "containerd.events.TaskExit",
    // and for images "containerd.services.images.v1.ImageCreate".
    let name = any.type_url.rsplit(['/', '.']).next().unwrap_or(&any.type_url).to_string();
    let v = any.value.as_slice();
    let mut set = |kind: &str, container: Option<String>, exec: Option<String>, pid: Option<u32>, code: Option<i32>| {
        out.kind = kind.into();
        out.container_id = container.filter(|s| !s.is_empty());
        out.exec_id = exec.filter(|s| !s.is_empty());
        out.pid = pid.filter(|&p| p != 0);
        out.exit_code = code;
    };
    match name.as_str() {
        "TaskCreate" => {
            if let Ok(m) = ev::TaskCreate::decode(v) {
                set("task-create", Some(m.container_id), None, Some(m.pid), None)
            }
        }
        "TaskStart" => {
            if let Ok(m) = ev::TaskStart::decode(v) {
                set("task-start", Some(m.container_id), None, Some(m.pid), None)
            }
        }
        "TaskExit" => {
            if let Ok(m) = ev::TaskExit::decode(v) {
                // The init process's exit carries the container ID as its ID.
                let exec = (m.id != m.container_id).then_some(m.id);
                set("task-exit", Some(m.container_id), exec, Some(m.pid), Some(m.exit_status as i32))
            }
        }
        "TaskDelete" => {
            if let Ok(m) = ev::TaskDelete::decode(v) {
                set("task-delete", Some(m.container_id), Some(m.id), Some(m.pid), Some(m.exit_status as i32))
            }
        }
        "TaskOOM" => {
            if let Ok(m) = ev::TaskOom::decode(v) {
                set("task-oom", Some(m.container_id), None, None, None)
            }
        }
        "TaskPaused" => {
            if let Ok(m) = ev::TaskPaused::decode(v) {
                set("task-paused", Some(m.container_id), None, None, None)
            }
        }
        "TaskResumed" => {
            if let Ok(m) = ev::TaskResumed::decode(v) {
                set("task-resumed", Some(m.container_id), None, None, None)
            }
        }
        "TaskExecAdded" => {
            if let Ok(m) = ev::TaskExecAdded::decode(v) {
                set("task-exec-added", Some(m.container_id), Some(m.exec_id), None, None)
            }
        }
        "TaskExecStarted" => {
            if let Ok(m) = ev::TaskExecStarted::decode(v) {
                set("task-exec-started", Some(m.container_id), Some(m.exec_id), Some(m.pid), None)
            }
        }
        "ContainerCreate" => {
            if let Ok(m) = ev::ContainerCreate::decode(v) {
                set("container-create", Some(m.id), None, None, None);
                out.image = Some(m.image)
            }
        }
        "ContainerUpdate" => {
            if let Ok(m) = ev::ContainerUpdate::decode(v) {
                set("container-update", Some(m.id), None, None, None);
                out.image = Some(m.image)
            }
        }
        "ContainerDelete" => {
            if let Ok(m) = ev::ContainerDelete::decode(v) {
                set("container-delete", Some(m.id), None, None, None)
            }
        }
        "ImageCreate" => {
            if let Ok(m) = containerd_client::services::v1::ImageCreate::decode(v) {
                out.kind = "image-create".into();
                out.image = Some(m.name)
            }
        }
        "ImageUpdate" => {
            if let Ok(m) = containerd_client::services::v1::ImageUpdate::decode(v) {
                out.kind = "image-update".into();
                out.image = Some(m.name)
            }
        }
        "ImageDelete" => {
            if let Ok(m) = containerd_client::services::v1::ImageDelete::decode(v) {
                out.kind = "image-delete".into();
                out.image = Some(m.name)
            }
        }
        "SnapshotPrepare" => out.kind = "snapshot-prepare".into(),
        "SnapshotCommit" => out.kind = "snapshot-commit".into(),
        "SnapshotRemove" => out.kind = "snapshot-remove".into(),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(type_url: &str, value: Vec<u8>) -> containerd_client::types::Envelope {
        containerd_client::types::Envelope {
            timestamp: None,
            namespace: "default".into(),
            topic: "/x".into(),
            event: Some(prost_types::Any { type_url: type_url.into(), value }),
        }
    }

    #[test]
    fn decodes_task_and_image_events() {
        // Image events are types of the images service, not of containerd.events.
        let create =
            containerd_client::services::v1::ImageCreate { name: "example.com/x:1".into(), labels: Default::default() };
        let e = decode(envelope("containerd.services.images.v1.ImageCreate", create.encode_to_vec()));
        assert_eq!((e.kind.as_str(), e.image.as_deref()), ("image-create", Some("example.com/x:1")));
        let exit = ev::TaskExit { container_id: "c".into(), id: "c".into(), pid: 7, exit_status: 3, exited_at: None };
        let e = decode(envelope("containerd.events.TaskExit", exit.encode_to_vec()));
        assert_eq!((e.kind.as_str(), e.exit_code, e.exec_id), ("task-exit", Some(3), None));
    }
}
