//! Writing images into containerd: blobs into the content store (with the labels that
//! keep containerd's garbage collector from taking them), image records, and the
//! unpacking of layers into the snapshotter. Pull and import both end here.

use std::collections::HashMap;

use containerd_client::services::v1::snapshots::{
    CommitSnapshotRequest, PrepareSnapshotRequest, RemoveSnapshotRequest, StatSnapshotRequest,
};
use containerd_client::services::v1::{
    AbortRequest, AddResourceRequest, ApplyRequest, CreateImageRequest, CreateRequest as CreateLeaseRequest,
    DeleteRequest as DeleteLeaseRequest, GetImageRequest, Image as ImageRecord, InfoRequest, Resource,
    UpdateImageRequest, UpdateRequest as UpdateContentRequest, WriteAction, WriteContentRequest,
};
use containerd_client::types::Descriptor as ProtoDescriptor;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::backends::containerd::time::timestamp;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::PullProgress;

/// Chunks of a blob on their way into the content store.
pub type Chunks = mpsc::Receiver<Result<Vec<u8>>>;

/// A lease that protects what a pull or import writes until the image record holds it.
pub async fn create_lease(client: &Client) -> Result<Client> {
    let id = format!("berth-{}", crate::util::random_suffix());
    let expire = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let secs = expire.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let labels = HashMap::from([(
        "containerd.io/gc.expire".to_string(),
        timestamp(&prost_types::Timestamp { seconds: secs as i64, nanos: 0 }),
    )]);
    let c = client;
    c.leases()
        .create(c.req(CreateLeaseRequest { id: id.clone(), labels }))
        .await
        .map_err(|s| c.error("create lease", s))?;
    Ok(client.with_lease(&id))
}

pub async fn delete_lease(client: &Client) {
    let Some(id) = client.lease.clone() else { return };
    let c = client;
    let _ = c.leases().delete(c.req(DeleteLeaseRequest { id, sync: false })).await;
}

/// Puts a resource (`content` and a digest, or `snapshots/NAME` and a key) under the
/// client's lease, when it holds one. Something already in containerd that a pull
/// reuses instead of writing it is not held by anything yet (a failed pull's blobs lose
/// their lease with it): without this, the garbage collector may take it between the
/// check that it is there and the image record that would hold it.
pub async fn lease_resource(client: &Client, kind: &str, id: &str) -> Result<()> {
    let Some(lease) = client.lease.clone() else { return Ok(()) };
    let c = client;
    let resource = Resource { id: id.to_string(), r#type: kind.to_string() };
    c.leases()
        .add_resource(c.req(AddResourceRequest { id: lease.clone(), resource: Some(resource) }))
        .await
        .map_err(|s| c.error(format!("add to lease {lease}"), s))?;
    Ok(())
}

/// True when the content store has blob `digest`; under a lease, the blob is added to it
/// first, so that one found here stays (see [`lease_resource`]).
pub async fn has_blob(client: &Client, digest: &Digest) -> Result<bool> {
    lease_resource(client, "content", &digest.to_string()).await?;
    let c = client;
    match c.content().info(c.req(InfoRequest { digest: digest.to_string() })).await {
        Ok(_) => Ok(true),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(false),
        Err(s) => Err(c.error(format!("content {digest}"), s)),
    }
}

/// Streams `chunks` into the content store as blob `digest` of `size` bytes; containerd
/// checks the digest at commit. Progress goes to `progress` as bytes arrive.
pub async fn write_blob(
    client: &Client,
    digest: &Digest,
    size: u64,
    labels: HashMap<String, String>,
    mut chunks: Chunks,
    progress: Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<()> {
    let c = client.clone();
    let d = digest.clone();
    let reference = format!("berth-{}-{}", d.hex(), crate::util::random_suffix());
    let (tx, rx) = mpsc::channel::<WriteContentRequest>(4);
    let total = size as i64;
    let feeder_ref = reference.clone();
    let feeder_digest = d.to_string();
    let feeder = tokio::spawn(async move {
        let mut offset: i64 = 0;
        while let Some(chunk) = chunks.recv().await {
            let chunk = chunk?;
            let len = chunk.len() as i64;
            let msg = WriteContentRequest {
                action: WriteAction::Write as i32,
                r#ref: feeder_ref.clone(),
                total,
                offset,
                data: chunk,
                ..Default::default()
            };
            if tx.send(msg).await.is_err() {
                return Ok(offset);
            }
            offset += len;
            if let Some(p) = &progress {
                let _ = p.send(PullProgress {
                    digest: feeder_digest.clone(),
                    status: "downloading".into(),
                    offset: offset as u64,
                    total: total as u64,
                });
            }
        }
        let commit = WriteContentRequest {
            action: WriteAction::Commit as i32,
            r#ref: feeder_ref,
            total,
            offset,
            expected: feeder_digest,
            labels,
            ..Default::default()
        };
        let _ = tx.send(commit).await;
        Ok::<i64, Error>(offset)
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let result = c.content().write(c.req(stream)).await;
    let mut failure = None;
    match result {
        Ok(mut responses) => {
            while let Some(r) = responses.get_mut().next().await {
                if let Err(s) = r {
                    if s.code() != tonic::Code::AlreadyExists {
                        failure = Some(c.error(format!("write content {d}"), s));
                    }
                    break;
                }
            }
        }
        Err(s) if s.code() == tonic::Code::AlreadyExists => {}
        Err(s) => failure = Some(c.error(format!("write content {d}"), s)),
    }
    if failure.is_some() {
        // containerd failed (or went away): the chunks are not wanted any more. The
        // feeder may be waiting for its source (a stalled registry): stopping it
        // drops the chunks' receiver, which ends the source's work too. (A feeder
        // that already ended keeps its result: abort does not undo a finished task.)
        feeder.abort();
    }
    let fed = feeder.await;
    let error = match (fed, failure) {
        // The source's own failure (a download cut short) says what happened first:
        // containerd's complaint about the unfinished write only follows from it.
        (Ok(Err(e)), _) => e,
        (_, Some(e)) => e,
        (Ok(Ok(_)), None) => return Ok(()),
        (Err(e), None) => Error::internal(format!("write content {d}: {e}")),
    };
    // The unfinished write would stay in containerd as an active ingest.
    abort_write(&c, &reference).await;
    Err(error)
}

/// Drops an unfinished write (ingest) of the content store. Best effort: when containerd
/// is gone, there is nobody to tell.
async fn abort_write(c: &Client, reference: &str) {
    let _ = c.content().abort(c.req(AbortRequest { r#ref: reference.to_string() })).await;
}

/// A channel with `data` in 1 MiB chunks (for blobs already in memory or on disk).
pub fn chunks_of_bytes(data: Vec<u8>) -> Chunks {
    let (tx, rx) = mpsc::channel(2);
    crate::io::runtime().spawn(async move {
        for c in data.chunks(1 << 20) {
            if tx.send(Ok(c.to_vec())).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// A channel reading a blob source in 1 MiB chunks on a blocking thread.
pub fn chunks_of_source(source: std::sync::Arc<dyn crate::blob::BlobSource>) -> Chunks {
    let (tx, rx) = mpsc::channel(2);
    crate::io::runtime().spawn_blocking(move || {
        let mut offset = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match source.read_at(&mut buf, offset) {
                Ok(0) => break,
                Ok(n) => {
                    offset += n as u64;
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(Error::io("read blob", e)));
                    break;
                }
            }
        }
    });
    rx
}

/// The garbage-collection labels of a manifest: its config and layers are its children.
pub fn manifest_labels(config: &str, layers: &[String]) -> HashMap<String, String> {
    let mut labels = HashMap::from([("containerd.io/gc.ref.content.config".to_string(), config.to_string())]);
    for (i, l) in layers.iter().enumerate() {
        labels.insert(format!("containerd.io/gc.ref.content.l.{i}"), l.clone());
    }
    labels
}

/// Creates or moves image record `name` to `target`.
pub async fn set_image(client: &Client, name: &str, target: ProtoDescriptor) -> Result<()> {
    let c = client.clone();
    let name = name.to_string();
    let record = ImageRecord { name: name.clone(), target: Some(target), ..Default::default() };
    let exists = c.images().get(c.req(GetImageRequest { name: name.clone() })).await.is_ok();
    if exists {
        c.images()
            .update(c.req(UpdateImageRequest { image: Some(record), update_mask: None, source_date_epoch: None }))
            .await
            .map_err(|s| c.error(format!("update image {name}"), s))?;
    } else {
        c.images()
            .create(c.req(CreateImageRequest { image: Some(record), source_date_epoch: None }))
            .await
            .map_err(|s| c.error(format!("create image {name}"), s))?;
    }
    Ok(())
}

/// The chain ID of a stack of diff IDs (the name of its committed snapshot).
pub fn chain_id(diff_ids: &[String]) -> Option<String> {
    let mut it = diff_ids.iter();
    let mut chain = it.next()?.clone();
    for d in it {
        chain = Digest::sha256_of(format!("{chain} {d}").as_bytes()).to_string();
    }
    Some(chain)
}

/// One layer to unpack: its descriptor and diff ID.
pub struct UnpackLayer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    pub diff_id: String,
}

/// Unpacks layers into `snapshotter` (skipping those already there) and labels the
/// config so the collector keeps the top snapshot while the image exists.
pub async fn unpack(
    client: &Client,
    snapshotter: &str,
    config_digest: &str,
    layers: Vec<UnpackLayer>,
    progress: Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<()> {
    let c = client.clone();
    let snapshotter = snapshotter.to_string();
    let config = config_digest.to_string();
    let mut diff_ids: Vec<String> = Vec::new();
    let mut parent = String::new();
    for layer in layers {
        diff_ids.push(layer.diff_id.clone());
        let chain = chain_id(&diff_ids).unwrap_or_default();
        // Held by the lease before it is looked at, as blobs are (`has_blob`).
        lease_resource(&c, &format!("snapshots/{snapshotter}"), &chain).await?;
        let exists = c
            .snapshots()
            .stat(c.req(StatSnapshotRequest { snapshotter: snapshotter.clone(), key: chain.clone() }))
            .await
            .is_ok();
        if !exists {
            let report = |status: &str| {
                if let Some(p) = &progress {
                    let _ = p.send(PullProgress {
                        digest: layer.digest.clone(),
                        status: status.into(),
                        offset: 0,
                        total: layer.size as u64,
                    });
                }
            };
            report("unpacking");
            let key = format!("extract-{}-{chain}", crate::util::random_suffix());
            let mounts = c
                .snapshots()
                .prepare(c.req(PrepareSnapshotRequest {
                    snapshotter: snapshotter.clone(),
                    key: key.clone(),
                    parent: parent.clone(),
                    labels: HashMap::new(),
                }))
                .await
                .map_err(|s| c.error(format!("prepare snapshot for layer {}", layer.digest), s))?
                .into_inner()
                .mounts;
            let diff = ProtoDescriptor {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                ..Default::default()
            };
            let applied = c
                .diff()
                .apply(c.req(ApplyRequest { diff: Some(diff), mounts, payloads: HashMap::new(), sync_fs: false }))
                .await;
            if let Err(s) = applied {
                let _ =
                    c.snapshots().remove(c.req(RemoveSnapshotRequest { snapshotter: snapshotter.clone(), key })).await;
                return Err(c.error(format!("apply layer {}", layer.digest), s));
            }
            match c
                .snapshots()
                .commit(c.req(CommitSnapshotRequest {
                    snapshotter: snapshotter.clone(),
                    name: chain.clone(),
                    key: key.clone(),
                    labels: HashMap::new(),
                }))
                .await
            {
                Ok(_) => {}
                // Another unpack of the same layer won: theirs is as good as ours.
                Err(s) if s.code() == tonic::Code::AlreadyExists => {
                    let _ = c
                        .snapshots()
                        .remove(c.req(RemoveSnapshotRequest { snapshotter: snapshotter.clone(), key }))
                        .await;
                }
                Err(s) => return Err(c.error(format!("commit snapshot for layer {}", layer.digest), s)),
            }
            report("unpacked");
        }
        parent = chain;
    }
    // The config names the top snapshot: while the image holds the config, the
    // collector keeps the snapshot chain.
    let label = format!("containerd.io/gc.ref.snapshot.{snapshotter}");
    let info = containerd_client::services::v1::Info {
        digest: config.clone(),
        labels: HashMap::from([(label.clone(), parent)]),
        ..Default::default()
    };
    c.content()
        .update(c.req(UpdateContentRequest {
            info: Some(info),
            update_mask: Some(prost_types::FieldMask { paths: vec![format!("labels.{label}")] }),
        }))
        .await
        .map_err(|s| c.error(format!("label config {config}"), s))?;
    Ok(())
}
