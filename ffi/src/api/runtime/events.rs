//! What a runtime streams: pull and push progress, and its events.

use std::future::Future;

use berth_core::model::{PullOptions, PullProgress, PushOptions};
use berth_core::{Error, ErrorKind};
use serde_json::json;
use tokio::sync::mpsc;

use super::{with, Runtime};
use crate::api::args::name;
use crate::api::stream::{ChannelSource, Stream};
use crate::api::Pending;
use crate::failure::Outcome;
use crate::handle::Handle;

/// Runs a registry operation (pull, push) as a task of its own and returns a stream
/// handle: the operation's progress documents are the stream's items, then `last` of
/// its result (or its error), then the end. Closing the stream aborts the task, which
/// cancels the operation. A reader that falls behind never slows the operation: its
/// progress queues up until read.
fn progress_stream<T, F, Fut>(what: &'static str, work: F, last: fn(T) -> serde_json::Value) -> Outcome<Handle<Stream>>
where
    T: Send + 'static,
    F: FnOnce(mpsc::UnboundedSender<PullProgress>) -> Fut,
    Fut: Future<Output = berth_core::Result<T>> + Send + 'static,
{
    let io = berth_core::io::runtime();
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<PullProgress>();
    let mut op = io.spawn(work(progress_tx));
    let op_abort = op.abort_handle();
    let (tx, rx) = mpsc::channel::<berth_core::Result<serde_json::Value>>(64);
    let forward = io.spawn(async move {
        let as_json = |p: PullProgress| serde_json::to_value(p).map_err(|e| Error::internal(e.to_string()));
        let result = loop {
            tokio::select! {
                biased;
                Some(p) = progress_rx.recv() => {
                    if tx.send(as_json(p)).await.is_err() {
                        return;
                    }
                }
                r = &mut op => break r,
            }
        };
        while let Ok(p) = progress_rx.try_recv() {
            if tx.send(as_json(p)).await.is_err() {
                return;
            }
        }
        let item = match result {
            Ok(Ok(v)) => Ok(last(v)),
            Ok(Err(e)) => Err(e),
            Err(e) if e.is_cancelled() => Err(Error::new(ErrorKind::Cancelled, format!("the {what} was cancelled"))),
            Err(e) => Err(Error::internal(format!("the {what} task failed: {e}"))),
        };
        let _ = tx.send(item).await;
    });
    Stream::insert(ChannelSource::new(rx, vec![op_abort, forward.abort_handle()]))
}

/// Pulls `reference` from its registry. Returns at once with a stream of progress
/// documents, the last one `{"status": "complete", "image": {...}}`; a failed pull is
/// the stream's error. Closing the stream cancels the pull.
pub fn pull(rt: Handle<Runtime>, reference: &str, options: PullOptions) -> Outcome<Handle<Stream>> {
    let reference = name(reference, "reference")?.to_string();
    let inner = rt.get()?.rt.clone();
    progress_stream(
        "pull",
        |progress| async move {
            berth_core::need(inner.puller(), inner.kind(), "pulling images")?
                .pull(&reference, options, Some(progress))
                .await
        },
        |image| json!({ "status": "complete", "image": image }),
    )
}

/// Pushes the image named `reference` to its registry. Returns at once with a stream
/// of progress documents, the last one `{"status": "complete", "reference": "..."}`.
pub fn push(rt: Handle<Runtime>, reference: &str, options: PushOptions) -> Outcome<Handle<Stream>> {
    let reference = name(reference, "reference")?.to_string();
    let inner = rt.get()?.rt.clone();
    progress_stream(
        "push",
        move |progress| async move {
            berth_core::need(inner.pusher(), inner.kind(), "pushing images")?
                .push(&reference, options, Some(progress))
                .await?;
            Ok(reference)
        },
        |reference| json!({ "status": "complete", "reference": reference }),
    )
}

/// Subscribes to the runtime's events from now on, as a stream of event documents;
/// `filters` are in the backend's syntax (several are ORed). Closing the stream ends
/// the subscription.
pub fn events(rt: Handle<Runtime>, filters: Vec<String>) -> Pending<Handle<Stream>> {
    with(rt, |r| {
        r.call(|rt| async move { berth_core::need(rt.events(), rt.kind(), "events")?.subscribe(&filters).await })
            .then(|events| Stream::insert(ChannelSource::new(events, Vec::new())))
    })
}
