//! The one I/O rule, held by construction: `connect()` puts this adapter around every
//! runtime of a daemon backend, so its calls, and those of the containers, pods, exec
//! sessions and snapshots it hands out, run on berth's I/O runtime ([`crate::io`]).
//!
//! A daemon connection (bollard's pooled connections, tonic's channel, a hijacked exec
//! stream) belongs to the runtime it was opened on. Opened here, it belongs to berth's
//! own runtime, which lives as long as the process: a caller may await berth from any
//! runtime, drop that runtime, and go on from another, and a synchronous read that waits
//! for I/O (a layer blob read through `io::block`) never waits on the runtime it blocks.
//! The backends therefore write plain async code; they never name the I/O runtime for a
//! call.
//!
//! What is not moved: reading the next event of an exec session (a channel, and a read
//! that is given up must not take an event with it), and calls that do no I/O.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::container::{
    Archiver, Attacher, Change, CommitOptions, Committer, Container, ContainerInfo, ContainerStats, Containers,
    CreateOptions, ExecEvent, ExecOptions, ExecSession, ExitStatus, LogChunk, LogOptions, Logs, Renamer, Resources,
    Stats,
};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::image::Image;
use crate::io;
use crate::model::{
    ContainerSummary, Event, ImageSummary, MountInfo, PodSummary, ProcessInfo, PullOptions, PullProgress, PushOptions,
    RuntimeKind, SnapshotInfo, SnapshotUsage, VersionInfo,
};
use crate::pod::{Pod, PodInfo, PodOptions, Pods};
use crate::runtime::{Events, ImageStore, Puller, Pusher, Runtime};
use crate::snapshot::{Snapshots, Snapshotters};

/// `rt`, with every call run on the I/O runtime.
pub fn on_io(rt: Arc<dyn Runtime>) -> Arc<dyn Runtime> {
    Arc::new(IoRuntime { inner: rt })
}

/// The wrapped object's service again, inside a call the adapter moved. The adapter
/// hands out a service only where the backend has it, so this fails only if a backend
/// changed its answer.
fn again<S: ?Sized>(service: Option<&S>) -> Result<&S> {
    service.ok_or_else(|| Error::internal("a backend withdrew a service it had offered"))
}

/// Runs `f(inner)` on the I/O runtime.
async fn run<I, T, F, Fut>(inner: &Arc<I>, f: F) -> Result<T>
where
    I: ?Sized,
    T: Send + 'static,
    F: FnOnce(Arc<I>) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    io::run(f(inner.clone())).await
}

struct IoRuntime {
    inner: Arc<dyn Runtime>,
}

#[async_trait]
impl Runtime for IoRuntime {
    fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    fn kind(&self) -> RuntimeKind {
        self.inner.kind()
    }

    async fn version(&self) -> Result<VersionInfo> {
        run(&self.inner, |rt| async move { rt.version().await }).await
    }

    async fn list_images(&self) -> Result<Vec<ImageSummary>> {
        run(&self.inner, |rt| async move { rt.list_images().await }).await
    }

    async fn find_images(&self, pattern: &str) -> Result<Vec<ImageSummary>> {
        let pattern = pattern.to_string();
        run(&self.inner, |rt| async move { rt.find_images(&pattern).await }).await
    }

    async fn open_image(&self, pattern: &str) -> Result<Image> {
        let pattern = pattern.to_string();
        run(&self.inner, |rt| async move { rt.open_image(&pattern).await }).await
    }

    fn containers(&self) -> Option<&dyn Containers> {
        self.inner.containers().map(|_| self as &dyn Containers)
    }

    fn pods(&self) -> Option<&dyn Pods> {
        self.inner.pods().map(|_| self as &dyn Pods)
    }

    fn image_store(&self) -> Option<&dyn ImageStore> {
        self.inner.image_store().map(|_| self as &dyn ImageStore)
    }

    fn puller(&self) -> Option<&dyn Puller> {
        self.inner.puller().map(|_| self as &dyn Puller)
    }

    fn pusher(&self) -> Option<&dyn Pusher> {
        self.inner.pusher().map(|_| self as &dyn Pusher)
    }

    fn snapshots(&self) -> Option<&dyn Snapshotters> {
        self.inner.snapshots().map(|_| self as &dyn Snapshotters)
    }

    fn events(&self) -> Option<&dyn Events> {
        self.inner.events().map(|_| self as &dyn Events)
    }
}

#[async_trait]
impl Containers for IoRuntime {
    async fn list(&self, filters: &[String]) -> Result<Vec<ContainerSummary>> {
        let filters = filters.to_vec();
        run(&self.inner, |rt| async move { again(rt.containers())?.list(&filters).await }).await
    }

    async fn find(&self, pattern: &str) -> Result<Vec<ContainerSummary>> {
        let pattern = pattern.to_string();
        run(&self.inner, |rt| async move { again(rt.containers())?.find(&pattern).await }).await
    }

    async fn create(&self, options: CreateOptions) -> Result<Arc<dyn Container>> {
        let c = run(&self.inner, |rt| async move { again(rt.containers())?.create(options).await }).await?;
        Ok(Arc::new(IoContainer { inner: c }))
    }

    async fn open(&self, pattern: &str) -> Result<Arc<dyn Container>> {
        let pattern = pattern.to_string();
        let c = run(&self.inner, |rt| async move { again(rt.containers())?.open(&pattern).await }).await?;
        Ok(Arc::new(IoContainer { inner: c }))
    }
}

#[async_trait]
impl Pods for IoRuntime {
    async fn list(&self) -> Result<Vec<PodSummary>> {
        run(&self.inner, |rt| async move { again(rt.pods())?.list().await }).await
    }

    async fn create(&self, options: PodOptions) -> Result<Arc<dyn Pod>> {
        let p = run(&self.inner, |rt| async move { again(rt.pods())?.create(options).await }).await?;
        Ok(Arc::new(IoPod { inner: p }))
    }

    async fn open(&self, pattern: &str) -> Result<Arc<dyn Pod>> {
        let pattern = pattern.to_string();
        let p = run(&self.inner, |rt| async move { again(rt.pods())?.open(&pattern).await }).await?;
        Ok(Arc::new(IoPod { inner: p }))
    }
}

#[async_trait]
impl ImageStore for IoRuntime {
    async fn tag(&self, source: &str, target: &str) -> Result<()> {
        let (source, target) = (source.to_string(), target.to_string());
        run(&self.inner, |rt| async move { again(rt.image_store())?.tag(&source, &target).await }).await
    }

    async fn remove(&self, pattern: &str) -> Result<()> {
        let pattern = pattern.to_string();
        run(&self.inner, |rt| async move { again(rt.image_store())?.remove(&pattern).await }).await
    }

    async fn import(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        let archive = archive.to_path_buf();
        run(&self.inner, |rt| async move { again(rt.image_store())?.import(&archive).await }).await
    }

    async fn export(&self, patterns: &[String], archive: &Path) -> Result<()> {
        let (patterns, archive) = (patterns.to_vec(), archive.to_path_buf());
        run(&self.inner, |rt| async move { again(rt.image_store())?.export(&patterns, &archive).await }).await
    }
}

#[async_trait]
impl Puller for IoRuntime {
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<ImageSummary> {
        let reference = reference.to_string();
        run(&self.inner, |rt| async move { again(rt.puller())?.pull(&reference, options, progress).await }).await
    }
}

#[async_trait]
impl Pusher for IoRuntime {
    async fn push(
        &self,
        reference: &str,
        options: PushOptions,
        progress: Option<mpsc::UnboundedSender<PullProgress>>,
    ) -> Result<()> {
        let reference = reference.to_string();
        run(&self.inner, |rt| async move { again(rt.pusher())?.push(&reference, options, progress).await }).await
    }
}

#[async_trait]
impl Events for IoRuntime {
    async fn subscribe(&self, filters: &[String]) -> Result<mpsc::Receiver<Result<Event>>> {
        let filters = filters.to_vec();
        run(&self.inner, |rt| async move { again(rt.events())?.subscribe(&filters).await }).await
    }
}

impl Snapshotters for IoRuntime {
    fn snapshotter(&self, snapshotter: Option<&str>) -> Result<Arc<dyn Snapshots>> {
        let inner = again(self.inner.snapshots())?.snapshotter(snapshotter)?;
        Ok(Arc::new(IoSnapshots { inner }))
    }
}

struct IoContainer {
    inner: Arc<dyn Container>,
}

#[async_trait]
impl Container for IoContainer {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn kind(&self) -> RuntimeKind {
        self.inner.kind()
    }

    async fn inspect(&self) -> Result<ContainerInfo> {
        run(&self.inner, |c| async move { c.inspect().await }).await
    }

    async fn start(&self) -> Result<()> {
        run(&self.inner, |c| async move { c.start().await }).await
    }

    async fn stop(&self, grace: Duration) -> Result<ExitStatus> {
        run(&self.inner, |c| async move { c.stop(grace).await }).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        run(&self.inner, |c| async move { c.kill(signal).await }).await
    }

    async fn pause(&self) -> Result<()> {
        run(&self.inner, |c| async move { c.pause().await }).await
    }

    async fn resume(&self) -> Result<()> {
        run(&self.inner, |c| async move { c.resume().await }).await
    }

    async fn delete(&self, force: bool) -> Result<()> {
        run(&self.inner, |c| async move { c.delete(force).await }).await
    }

    async fn wait(&self) -> Result<ExitStatus> {
        run(&self.inner, |c| async move { c.wait().await }).await
    }

    async fn exec(&self, options: ExecOptions) -> Result<Arc<dyn ExecSession>> {
        let session = run(&self.inner, |c| async move { c.exec(options).await }).await?;
        Ok(Arc::new(IoSession { inner: session }))
    }

    async fn update_resources(&self, resources: Resources) -> Result<()> {
        run(&self.inner, |c| async move { c.update_resources(resources).await }).await
    }

    async fn processes(&self) -> Result<Vec<ProcessInfo>> {
        run(&self.inner, |c| async move { c.processes().await }).await
    }

    async fn filesystem(&self) -> Result<Arc<dyn FileSystem>> {
        run(&self.inner, |c| async move { c.filesystem().await }).await
    }

    async fn changes(&self) -> Result<Vec<Change>> {
        run(&self.inner, |c| async move { c.changes().await }).await
    }

    fn logs(&self) -> Option<&dyn Logs> {
        self.inner.logs().map(|_| self as &dyn Logs)
    }

    fn stats(&self) -> Option<&dyn Stats> {
        self.inner.stats().map(|_| self as &dyn Stats)
    }

    fn attacher(&self) -> Option<&dyn Attacher> {
        self.inner.attacher().map(|_| self as &dyn Attacher)
    }

    fn renamer(&self) -> Option<&dyn Renamer> {
        self.inner.renamer().map(|_| self as &dyn Renamer)
    }

    fn archiver(&self) -> Option<&dyn Archiver> {
        self.inner.archiver().map(|_| self as &dyn Archiver)
    }

    fn committer(&self) -> Option<&dyn Committer> {
        self.inner.committer().map(|_| self as &dyn Committer)
    }
}

#[async_trait]
impl Logs for IoContainer {
    async fn read(&self, options: LogOptions) -> Result<mpsc::Receiver<Result<LogChunk>>> {
        run(&self.inner, |c| async move { again(c.logs())?.read(options).await }).await
    }
}

#[async_trait]
impl Stats for IoContainer {
    async fn read(&self, stream: bool) -> Result<mpsc::Receiver<Result<ContainerStats>>> {
        run(&self.inner, |c| async move { again(c.stats())?.read(stream).await }).await
    }
}

#[async_trait]
impl Attacher for IoContainer {
    async fn attach(&self) -> Result<Arc<dyn ExecSession>> {
        let session = run(&self.inner, |c| async move { again(c.attacher())?.attach().await }).await?;
        Ok(Arc::new(IoSession { inner: session }))
    }
}

#[async_trait]
impl Renamer for IoContainer {
    async fn rename(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        run(&self.inner, |c| async move { again(c.renamer())?.rename(&name).await }).await
    }
}

#[async_trait]
impl Archiver for IoContainer {
    async fn export(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_path_buf();
        run(&self.inner, |c| async move { again(c.archiver())?.export(&dest).await }).await
    }

    async fn archive(&self, path: &str, dest: &Path) -> Result<()> {
        let (path, dest) = (path.to_string(), dest.to_path_buf());
        run(&self.inner, |c| async move { again(c.archiver())?.archive(&path, &dest).await }).await
    }
}

#[async_trait]
impl Committer for IoContainer {
    async fn commit(&self, options: CommitOptions) -> Result<String> {
        run(&self.inner, |c| async move { again(c.committer())?.commit(options).await }).await
    }
}

struct IoSession {
    inner: Arc<dyn ExecSession>,
}

#[async_trait]
impl ExecSession for IoSession {
    async fn write_stdin(&self, data: &[u8]) -> Result<()> {
        let data = data.to_vec();
        run(&self.inner, |s| async move { s.write_stdin(&data).await }).await
    }

    async fn close_stdin(&self) -> Result<()> {
        run(&self.inner, |s| async move { s.close_stdin().await }).await
    }

    /// Not moved: the events come through a channel, and a read given up (a timeout)
    /// must leave the event it was waiting for to the next read.
    async fn next_event(&self) -> Option<ExecEvent> {
        self.inner.next_event().await
    }

    fn failure(&self) -> Option<Error> {
        self.inner.failure()
    }

    async fn resize(&self, width: u32, height: u32) -> Result<()> {
        run(&self.inner, |s| async move { s.resize(width, height).await }).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        run(&self.inner, |s| async move { s.kill(signal).await }).await
    }
}

struct IoPod {
    inner: Arc<dyn Pod>,
}

#[async_trait]
impl Pod for IoPod {
    fn id(&self) -> &str {
        self.inner.id()
    }

    async fn inspect(&self) -> Result<PodInfo> {
        run(&self.inner, |p| async move { p.inspect().await }).await
    }

    async fn start(&self) -> Result<()> {
        run(&self.inner, |p| async move { p.start().await }).await
    }

    async fn stop(&self, grace: Duration) -> Result<()> {
        run(&self.inner, |p| async move { p.stop(grace).await }).await
    }

    async fn kill(&self, signal: i32) -> Result<()> {
        run(&self.inner, |p| async move { p.kill(signal).await }).await
    }

    async fn pause(&self) -> Result<()> {
        run(&self.inner, |p| async move { p.pause().await }).await
    }

    async fn resume(&self) -> Result<()> {
        run(&self.inner, |p| async move { p.resume().await }).await
    }

    async fn remove(&self, force: bool) -> Result<()> {
        run(&self.inner, |p| async move { p.remove(force).await }).await
    }
}

struct IoSnapshots {
    inner: Arc<dyn Snapshots>,
}

#[async_trait]
impl Snapshots for IoSnapshots {
    async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        run(&self.inner, |s| async move { s.list().await }).await
    }

    async fn stat(&self, key: &str) -> Result<SnapshotInfo> {
        let key = key.to_string();
        run(&self.inner, |s| async move { s.stat(&key).await }).await
    }

    async fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let (key, parent) = (key.to_string(), parent.map(str::to_string));
        run(&self.inner, |s| async move { s.prepare(&key, parent.as_deref()).await }).await
    }

    async fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<MountInfo>> {
        let (key, parent) = (key.to_string(), parent.map(str::to_string));
        run(&self.inner, |s| async move { s.view(&key, parent.as_deref()).await }).await
    }

    async fn commit(&self, name: &str, key: &str) -> Result<()> {
        let (name, key) = (name.to_string(), key.to_string());
        run(&self.inner, |s| async move { s.commit(&name, &key).await }).await
    }

    async fn mounts(&self, key: &str) -> Result<Vec<MountInfo>> {
        let key = key.to_string();
        run(&self.inner, |s| async move { s.mounts(&key).await }).await
    }

    async fn usage(&self, key: &str) -> Result<SnapshotUsage> {
        let key = key.to_string();
        run(&self.inner, |s| async move { s.usage(&key).await }).await
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let key = key.to_string();
        run(&self.inner, |s| async move { s.remove(&key).await }).await
    }
}
