//! Faults (issue 11): a daemon killed (SIGKILL) in the middle of a pull, a `logs -f`, an
//! event stream and a streaming exec; a registry connection cut in the middle of a blob; a
//! full disk under an export or a save; a daemon socket the caller may not open.
//!
//! Each must give a clear error of the right kind, lose nothing (no partial output file,
//! no partial image, no partial content that spoils a later pull), leak no descriptor or
//! thread, and leave the same runtime usable once the daemon is back.
//!
//! Run through `tests/harness/with-daemons.sh cargo test --release -p berth-tests --test
//! faults`. The tests kill and relaunch the harness's daemons, so they run one at a time
//! (a lock), and they count this process's descriptors and threads, which a test running
//! beside them would disturb.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use berth_core::container::{Container, CreateOptions, ExecEvent, ExecOptions, ExecSession, LogOptions, OutputStream};
use berth_core::model::PullOptions;
use berth_core::{need, Error, ErrorKind, Runtime};
use berth_tests::harness::{Backend, Harness};
use berth_tests::proxy::{Fault, Proxy};
use berth_tests::{ImageSpec, Store, TarBuilder};

/// containerd last: dockerd runs on it, and a test that kills containerd restarts
/// dockerd after it (see `relaunch`).
const ALL: [Backend; 3] = [Backend::Docker, Backend::Podman, Backend::Containerd];

/// How long a call may take to come back after its daemon died before it counts as a
/// hang. Generous on purpose: a bound against "never", not a speed expectation.
const HANG: Duration = Duration::from_secs(120);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

// --- descriptors and threads ----------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Counts {
    fds: usize,
    threads: usize,
}

fn counts() -> Counts {
    let n = |d: &str| std::fs::read_dir(d).unwrap().count();
    Counts { fds: n("/proc/self/fd"), threads: n("/proc/self/task") }
}

/// The process's descriptors and threads come back to `before` (idle blocking-pool
/// threads end after 10 s of idleness, so this polls, with a bound).
fn assert_nothing_leaked(before: Counts, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let now = counts();
        if now.fds <= before.fds && now.threads <= before.threads {
            eprintln!("{what}: fds {} -> {}, threads {} -> {}", before.fds, now.fds, before.threads, now.threads);
            return;
        }
        if Instant::now() > deadline {
            let fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|p| p.display().to_string())
                .collect();
            panic!(
                "{what}: leaked: fds {} -> {}, threads {} -> {}; open: {fds:?}",
                before.fds, now.fds, before.threads, now.threads
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The counts once berth's internal runtime and the harness's are warm: a runtime of
/// each backend opened, used and dropped.
fn warm_counts(h: &Harness, backends: &[Backend]) -> Counts {
    for &b in backends {
        let rt = h.connect(b);
        h.block_on(rt.list_images()).unwrap();
        h.block_on(need(rt.containers(), rt.kind(), "listing containers").unwrap().list(&[])).unwrap();
    }
    // Let the connections of the dropped runtimes close.
    std::thread::sleep(Duration::from_millis(500));
    counts()
}

// --- helpers --------------------------------------------------------------------------

/// Starts a killed daemon again. dockerd runs on the harness's containerd and redials it
/// with a growing backoff after containerd died: it is restarted too, so the next test
/// finds a dockerd that can run containers.
fn relaunch(h: &Harness, b: Backend) -> Result<(), String> {
    h.try_relaunch(b)?;
    if b == Backend::Containerd && h.docker.is_some() {
        h.restart(Backend::Docker);
    }
    Ok(())
}

/// Runs `body` for each backend and fails afterwards with every backend's failure, so
/// one run shows them all; a daemon a failed body left killed is relaunched.
fn on_each(h: &Harness, backends: &[Backend], mut body: impl FnMut(Backend)) {
    let mut failures = Vec::new();
    for &b in backends {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(b)));
        if !h.is_running(b) {
            if let Err(e) = relaunch(h, b) {
                failures.push(format!("{b:?}: relaunching the daemon: {e}"));
            }
        }
        if let Err(p) = r {
            let text = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{b:?}: {text}"));
        }
    }
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

/// Waits for a daemon that was just relaunched to answer this (old) runtime handle:
/// the connection is dialled again on demand.
fn answers_again(h: &Harness, rt: &Arc<dyn Runtime>, b: Backend) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match h.block_on(rt.list_images()) {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{b:?}: while the daemon comes back: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{b:?}: the runtime handle does not work again after the daemon came back: {e}"),
        }
    }
}

/// The error of a call made while the daemon was down, checked for kind and wording.
fn assert_unavailable(b: Backend, what: &str, e: &Error, endpoint_part: &str) {
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{b:?}: {what}: want unavailable, got {:?}: {e}", e.kind());
    assert!(
        e.message().contains(endpoint_part),
        "{b:?}: {what}: the message does not name the daemon ({endpoint_part}): {e}"
    );
}

/// The part of a backend's endpoint its messages name (the socket's path).
fn socket_of(h: &Harness, b: Backend) -> String {
    match b {
        Backend::Containerd => h.containerd.clone(),
        Backend::Docker => h.docker.clone().expect("BERTH_TEST_DOCKER"),
        Backend::Podman => h.podman.clone().expect("BERTH_TEST_PODMAN"),
    }
}

/// A small xorshift stream: bytes that gzip cannot shrink, so a layer is as big on the
/// wire as on disk.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    berth_tests::sha256_hex(data)
}

/// An image pushed to the harness's registry whose layer no daemon has yet (a pull of it
/// must download the layer, so a fault can meet the download).
struct Fresh {
    /// `berth/faults-N:v1`, to be put after a registry's `host:port/`.
    path: String,
    /// The sha256 of `/data/noise`, its one file (2 MiB).
    file_sha: String,
    layer_size: usize,
}

fn push_fresh_image(h: &Harness) -> Fresh {
    let registry = h.registry.clone().expect("BERTH_TEST_REGISTRY");
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let data = noise(2 << 20, seed ^ std::process::id() as u64);
    let tar = TarBuilder::new().dir("data").file("data/noise", &data).finish();
    let spec = ImageSpec::new("latest").layer_gzip(tar);
    let layer_size = spec.layers[0].blob.len();
    let mut store = Store::new();
    store.add_image(&spec);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("fresh.oci.tar");
    std::fs::write(&archive, store.to_tar()).unwrap();
    let path = format!("berth/{}:v1", h.unique("faults"));
    h.push_image(&archive, &format!("{registry}/{path}"));
    Fresh { path, file_sha: sha256_hex(&data), layer_size }
}

fn pull_options(b: Backend) -> PullOptions {
    // Docker takes 127.0.0.0/8 as plain HTTP itself; containerd (berth pulls) and Podman
    // (whose registries.conf does not list a proxy's port) are told.
    PullOptions { plain_http: b != Backend::Docker, ..Default::default() }
}

/// A pull on a thread of its own (it blocks until the fault lets it end).
fn pull_in_background(
    rt: &Arc<dyn Runtime>,
    b: Backend,
    reference: &str,
) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Receiver<berth_core::Result<()>>) {
    let (rt, reference) = (rt.clone(), reference.to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let r = berth_tests::block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(
            &reference,
            pull_options(b),
            None,
        ))
        .map(|_| ());
        let _ = tx.send(r);
    });
    (t, rx)
}

/// No image of the runtime is named `reference`.
fn assert_not_registered(h: &Harness, rt: &Arc<dyn Runtime>, b: Backend, reference: &str) {
    let images = h.block_on(rt.list_images()).unwrap();
    let named: Vec<_> = images.iter().filter(|i| i.repo_tags.iter().any(|t| t == reference)).collect();
    assert!(named.is_empty(), "{b:?}: a failed pull left an image named {reference}: {named:?}");
}

/// containerd's unfinished writes (ingests), by ref: a failed download must not leave
/// one behind.
fn containerd_ingests(h: &Harness) -> Vec<String> {
    let out = std::process::Command::new("ctr")
        .args(["--address", &h.containerd, "-n", &h.namespace, "content", "active"])
        .output()
        .expect("ctr");
    // REF SIZE AGE: the refs only (the age changes between two listings).
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Pulls `fresh` from the real registry (no proxy), and reads its file: the content a
/// failed pull left must not spoil this. Removes the image after.
fn pull_complete_and_read(h: &Harness, rt: &Arc<dyn Runtime>, b: Backend, fresh: &Fresh) {
    let reference = format!("{}/{}", h.registry.as_deref().unwrap(), fresh.path);
    h.block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(&reference, pull_options(b), None))
        .unwrap_or_else(|e| panic!("{b:?}: the complete pull of {reference} after the fault: {e}"));
    let image = h.block_on(rt.open_image(&reference)).unwrap();
    let fs = image.filesystem().unwrap_or_else(|e| panic!("{b:?}: filesystem of {reference}: {e}"));
    let data = berth_tests::read_all(&*fs, "/data/noise").unwrap_or_else(|e| panic!("{b:?}: read /data/noise: {e}"));
    assert_eq!(sha256_hex(&data), fresh.file_sha, "{b:?}: /data/noise of the pulled image");
    drop(fs);
    drop(image);
    h.block_on(need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&reference)).unwrap();
}

fn create_running(h: &Harness, rt: &Arc<dyn Runtime>, name: &str, script: &str) -> Arc<dyn Container> {
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique(name)),
        args: vec!["/bin/sh".into(), "-c".into(), script.into()],
        ..Default::default()
    };
    let c = h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap();
    h.block_on(c.start()).unwrap();
    c
}

// --- a registry connection cut in the middle of a blob --------------------------------

#[test]
fn registry_cut_in_the_middle_of_a_blob() {
    let _serial = serial();
    let h = Harness::from_env();
    let before = warm_counts(&h, &ALL);
    on_each(&h, &ALL, |b| {
        let rt = h.connect(b);
        let fresh = push_fresh_image(&h);
        let proxy = Proxy::start(h.registry.as_deref().unwrap(), Fault::Cut { after: 64 * 1024 });
        let reference = format!("{}/{}", proxy.address(), fresh.path);
        let ingests = containerd_ingests(&h);
        let err = h
            .block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(&reference, pull_options(b), None))
            .map(|_| ())
            .unwrap_err();
        eprintln!("{b:?}: cut pull: {:?}: {err}", err.kind());
        assert!(
            proxy.faulted() >= 1,
            "{b:?}: the layer download never met the cut (layer of {} bytes)",
            fresh.layer_size
        );
        assert_not_registered(&h, &rt, b, &reference);
        if b == Backend::Containerd {
            assert_eq!(containerd_ingests(&h), ingests, "containerd: the cut download left an unfinished write");
        }
        drop(proxy);
        pull_complete_and_read(&h, &rt, b, &fresh);
        // The error, last (so that a wrong kind does not hide what else went wrong).
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{b:?}: a connection cut mid-blob: {err}");
        assert!(err.message().contains(&fresh.path), "{b:?}: the message does not say what was pulled: {err}");
    });
    assert_nothing_leaked(before, "registry cut");
}

// --- a daemon killed in the middle of a pull ----------------------------------------

#[test]
fn daemon_killed_in_the_middle_of_a_pull() {
    let _serial = serial();
    let h = Harness::from_env();
    let before = warm_counts(&h, &ALL);
    on_each(&h, &ALL, |b| {
        let rt = h.connect(b);
        let fresh = push_fresh_image(&h);
        let proxy = Proxy::start(h.registry.as_deref().unwrap(), Fault::Hold { after: 256 * 1024 });
        let reference = format!("{}/{}", proxy.address(), fresh.path);
        let (puller, result) = pull_in_background(&rt, b, &reference);
        let deadline = Instant::now() + HANG;
        while !proxy.wait_for_hold(Duration::from_millis(200)) {
            if let Ok(r) = result.try_recv() {
                panic!("{b:?}: the pull ended before the layer download was held: {:?}", r.err());
            }
            assert!(Instant::now() < deadline, "{b:?}: the pull never reached the layer download");
        }
        h.kill(b);
        // The proxy still holds the registry side: the pull must not wait for it.
        let err = match result.recv_timeout(HANG) {
            Ok(r) => r.unwrap_err(),
            Err(_) => panic!("{b:?}: the pull still waits {} s after its daemon died", HANG.as_secs()),
        };
        puller.join().unwrap();
        eprintln!("{b:?}: pull with the daemon killed: {:?}: {err}", err.kind());
        assert_unavailable(b, "pull", &err, &socket_of(&h, b));
        proxy.release();
        drop(proxy);
        relaunch(&h, b).unwrap();
        answers_again(&h, &rt, b);
        assert_not_registered(&h, &rt, b, &reference);
        pull_complete_and_read(&h, &rt, b, &fresh);
    });
    assert_nothing_leaked(before, "daemon killed mid-pull");
}

// --- a daemon killed under an event stream -------------------------------------------

#[test]
fn daemon_killed_under_an_event_stream() {
    let _serial = serial();
    let h = Harness::from_env();
    let before = warm_counts(&h, &ALL);
    on_each(&h, &ALL, |b| {
        let rt = h.connect(b);
        let mut events = h.block_on(need(rt.events(), rt.kind(), "events").unwrap().subscribe(&[])).unwrap();
        h.kill(b);
        let first = h.block_on(async { tokio::time::timeout(HANG, events.recv()).await });
        let first = first.unwrap_or_else(|_| panic!("{b:?}: the event stream still waits after its daemon died"));
        match first {
            Some(Err(e)) => {
                eprintln!("{b:?}: events with the daemon killed: {:?}: {e}", e.kind());
                assert_unavailable(b, "events", &e, &socket_of(&h, b));
            }
            Some(Ok(ev)) => panic!("{b:?}: an event after the daemon died, not an error: {ev:?}"),
            None => panic!("{b:?}: the event stream ended as if done when its daemon died: no error says why"),
        }
        assert!(h.block_on(events.recv()).is_none(), "{b:?}: the stream ends after its error");
        relaunch(&h, b).unwrap();
        answers_again(&h, &rt, b);
        // A new subscription on the same runtime sees new events. containerd confirms a
        // subscription only with its first event, so berth hands the stream over after
        // a short grace: on a loaded machine a first tag can come before the
        // subscription reaches containerd. So: a tag every 2 s until one is seen.
        let mut events = h.block_on(need(rt.events(), rt.kind(), "events").unwrap().subscribe(&[])).unwrap();
        let mut tags = Vec::new();
        let seen = h.block_on(async {
            tokio::time::timeout(HANG, async {
                loop {
                    let target = format!("example.com/{}:v1", h.unique("faults-event"));
                    need(rt.image_store(), rt.kind(), "tagging images").unwrap().tag(&h.image, &target).await.unwrap();
                    tags.push(target);
                    match tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
                        Ok(Some(ev)) if ev.as_ref().unwrap().kind.starts_with("image-") => return true,
                        Ok(Some(_)) | Err(_) => continue,
                        Ok(None) => return false,
                    }
                }
            })
            .await
        });
        assert_eq!(seen, Ok(true), "{b:?}: a new subscription after the restart sees a tag");
        drop(events);
        for t in tags {
            h.block_on(need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&t)).unwrap();
        }
    });
    assert_nothing_leaked(before, "daemon killed under events");
}

// --- a daemon killed under `logs -f` (Docker, Podman) ----------------------------------

#[test]
fn daemon_killed_under_logs_follow() {
    let _serial = serial();
    let h = Harness::from_env();
    let backends = [Backend::Docker, Backend::Podman];
    let before = warm_counts(&h, &backends);
    on_each(&h, &backends, |b| {
        let rt = h.connect(b);
        let c = create_running(&h, &rt, "faults-logs", "echo first; exec sleep 600");
        let options = LogOptions { follow: true, ..Default::default() };
        let mut logs = h.block_on(need(c.logs(), c.kind(), "container logs").unwrap().read(options)).unwrap();
        let first = h.block_on(async { tokio::time::timeout(HANG, logs.recv()).await }).unwrap();
        let first = first.expect("a first chunk").unwrap();
        assert_eq!(first.data, b"first\n", "{b:?}");
        h.kill(b);
        let next = h.block_on(async { tokio::time::timeout(HANG, logs.recv()).await });
        let next = next.unwrap_or_else(|_| panic!("{b:?}: logs -f still waits after its daemon died"));
        match next {
            Some(Err(e)) => {
                eprintln!("{b:?}: logs -f with the daemon killed: {:?}: {e}", e.kind());
                assert_unavailable(b, "logs -f", &e, &socket_of(&h, b));
            }
            Some(Ok(chunk)) => panic!("{b:?}: log output after the daemon died, not an error: {chunk:?}"),
            None => panic!("{b:?}: logs -f ended as if the container had stopped when its daemon died"),
        }
        assert!(h.block_on(logs.recv()).is_none(), "{b:?}: the log stream ends after its error");
        relaunch(&h, b).unwrap();
        answers_again(&h, &rt, b);
        // The same container handle works again: its log is read to the end.
        let mut logs =
            h.block_on(need(c.logs(), c.kind(), "container logs").unwrap().read(LogOptions::default())).unwrap();
        let all = h.block_on(logs.recv()).expect("the log again").unwrap();
        assert_eq!(all.data, b"first\n", "{b:?}");
        h.block_on(c.delete(true)).unwrap();
    });
    assert_nothing_leaked(before, "daemon killed under logs -f");
}

// --- a daemon killed under a streaming exec -------------------------------------------

/// Reads events until `want` was printed on stdout.
fn read_until(h: &Harness, s: &Arc<dyn ExecSession>, b: Backend, want: &[u8]) {
    let mut out = Vec::new();
    while !out.windows(want.len()).any(|w| w == want) {
        let ev = h.block_on(async { tokio::time::timeout(HANG, s.next_event()).await });
        match ev.unwrap_or_else(|_| panic!("{b:?}: no output {want:?} from the exec")) {
            Some(ExecEvent::Output(OutputStream::Stdout, d)) => out.extend(d),
            other => panic!("{b:?}: waiting for {:?}, got {other:?}", String::from_utf8_lossy(want)),
        }
    }
}

#[test]
fn daemon_killed_under_a_streaming_exec() {
    let _serial = serial();
    let h = Harness::from_env();
    let before = warm_counts(&h, &ALL);
    on_each(&h, &ALL, |b| {
        let rt = h.connect(b);
        let c = create_running(&h, &rt, "faults-exec", "exec sleep 600");
        let options = ExecOptions {
            args: vec!["/bin/sh".into(), "-c".into(), "echo started; read line; echo got $line; exit 7".into()],
            stdin: true,
            ..Default::default()
        };
        let s = h.block_on(c.exec(options)).unwrap();
        read_until(&h, &s, b, b"started\n");
        h.kill(b);
        if b == Backend::Containerd {
            // The process and its stdio belong to the shim, which lives on: the exec goes
            // on without containerd. Only its exit status needs containerd, and while
            // containerd is down that is an Unavailable error, not a made-up exit code.
            h.block_on(s.write_stdin(b"line\n")).unwrap();
            read_until(&h, &s, b, b"got line\n");
            let ev = h.block_on(async { tokio::time::timeout(HANG, s.next_event()).await });
            let ev = ev.unwrap_or_else(|_| panic!("{b:?}: the exec's end still waits after containerd died"));
            assert!(ev.is_none(), "{b:?}: an exit status while containerd is down: {ev:?}");
        } else {
            // The exec's stdio went through the daemon: the stream ends with an error.
            let ev = h.block_on(async { tokio::time::timeout(HANG, s.next_event()).await });
            let ev = ev.unwrap_or_else(|_| panic!("{b:?}: the exec still waits after its daemon died"));
            assert!(ev.is_none(), "{b:?}: an event after the daemon died: {ev:?}");
        }
        let why = s.failure().unwrap_or_else(|| panic!("{b:?}: the exec ended with no exit and no error saying why"));
        eprintln!("{b:?}: exec with the daemon killed: {:?}: {why}", why.kind());
        assert_unavailable(b, "exec", &why, &socket_of(&h, b));
        drop(s);
        relaunch(&h, b).unwrap();
        answers_again(&h, &rt, b);
        // A new exec on the same container handle works (Docker stops its containers
        // when it restarts: start it again there).
        if b == Backend::Docker {
            h.block_on(c.start()).unwrap();
        }
        let out = h
            .block_on(c.exec_output(
                ExecOptions { args: vec!["/bin/cat".into()], ..Default::default() },
                Some(b"x".to_vec()),
                None,
            ))
            .unwrap();
        assert_eq!((out.exit_code, out.stdout.as_slice()), (0, &b"x"[..]), "{b:?}");
        h.block_on(c.delete(true)).unwrap();
    });
    assert_nothing_leaked(before, "daemon killed under an exec");
}

// --- a full disk under an export or a save --------------------------------------------

/// The entries of `dir` (a tmpfs that was empty before the export).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// What is wrong with the outcome of `what` writing into a full tmpfs `dir` (empty
/// before): it must fail with Io naming ENOSPC and leave nothing in `dir`.
fn disk_full_problems(b: Backend, what: &str, r: berth_core::Result<()>, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let left = entries(dir);
    if !left.is_empty() {
        problems.push(format!("{b:?}: {what} left files in its destination's directory: {left:?}"));
        for name in left {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    match r {
        Ok(()) => problems.push(format!("{b:?}: {what} into a 512 KiB tmpfs worked")),
        Err(e) => {
            eprintln!("{b:?}: {what} on a full disk: {:?}: {e}", e.kind());
            if e.kind() != ErrorKind::Io {
                problems.push(format!("{b:?}: {what}: want io, got {:?}: {e}", e.kind()));
            }
            if !e.message().contains("ENOSPC") {
                problems.push(format!("{b:?}: {what}: the message does not say ENOSPC: {e}"));
            }
        }
    }
    problems
}

/// A tmpfs of the harness, unmounted when dropped (a failing test too).
struct Tmpfs<'a>(&'a Harness, PathBuf);

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        self.0.untmpfs(&self.1);
    }
}

#[test]
fn full_disk_under_export_and_save() {
    let _serial = serial();
    let h = Harness::from_env();
    let before = warm_counts(&h, &ALL);
    // 512 KiB: the smallest export here (containerd's oci-archive of the busybox image) is
    // about 1.05 MiB, too close to a 1 MiB tmpfs to be sure to meet the limit.
    let tmpfs = Tmpfs(&h, h.tmpfs("512k"));
    let dir = tmpfs.1.clone();
    let dest: PathBuf = dir.join("out.tar");
    let mut problems = Vec::new();
    for b in ALL {
        let rt = h.connect(b);
        let r = h.block_on(
            need(rt.image_store(), rt.kind(), "exporting images")
                .unwrap()
                .export(std::slice::from_ref(&h.image), &dest),
        );
        problems.extend(disk_full_problems(b, "image export", r, &dir));
        if b != Backend::Containerd {
            let c = create_running(&h, &rt, "faults-disk", "exec sleep 600");
            problems.extend(disk_full_problems(
                b,
                "container export",
                h.block_on(need(c.archiver(), c.kind(), "exporting containers").unwrap().export(&dest)),
                &dir,
            ));
            problems.extend(disk_full_problems(
                b,
                "container archive",
                h.block_on(need(c.archiver(), c.kind(), "archives of container paths").unwrap().archive("/bin", &dest)),
                &dir,
            ));
            h.block_on(c.delete(true)).unwrap();
        }
    }
    drop(tmpfs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_nothing_leaked(before, "full disk");
}

// --- a socket the caller may not open --------------------------------------------------

/// Set in the environment of the copy of this binary that runs as nobody.
const AS_NOBODY: &str = "BERTH_FAULTS_AS_NOBODY";

/// What this user gets from each daemon: root (whom socket permissions do not stop)
/// lists the images; anyone else, whom the harness's sockets (mode 0660 or 0600, owned
/// by root) exclude, gets PermissionDenied naming the endpoint. The root run is the
/// plain test; `unprivileged_caller_is_denied_permission` runs this same test again as
/// nobody.
#[test]
fn socket_access_matches_this_users_permissions() {
    let _serial = serial();
    let h = Harness::from_env();
    // SAFETY: getuid(2) has no preconditions.
    let uid = unsafe { libc::getuid() };
    assert_eq!(uid != 0, std::env::var_os(AS_NOBODY).is_some(), "run as root, or as nobody by the test below");
    for b in ALL {
        let endpoint = h.endpoint(b);
        let listed = berth_tests::block_on(async {
            let rt = berth_core::connect(Some(&endpoint), Default::default()).await?;
            rt.list_images().await
        });
        match (uid, listed) {
            (0, r) => assert!(r.is_ok(), "{b:?}: root lists the images: {:?}", r.err()),
            (_, Ok(_)) => panic!("{b:?}: uid {uid} listed images through a socket it may not open"),
            (_, Err(e)) => {
                eprintln!("{b:?}: as uid {uid}: {:?}: {e}", e.kind());
                assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{b:?}: uid {uid}: {e}");
                assert!(e.message().contains(&socket_of(&h, b)), "{b:?}: the message does not name the socket: {e}");
            }
        }
    }
}

#[test]
fn unprivileged_caller_is_denied_permission() {
    let h = Harness::from_env();
    // A copy nobody can run wherever the checkout lives (a home directory is often
    // closed to other users).
    let copy = tempfile::Builder::new().prefix("berth-faults-").tempdir().unwrap();
    let me = copy.path().join("faults");
    std::fs::copy(std::env::current_exe().unwrap(), &me).unwrap();
    for (path, mode) in [(copy.path(), 0o755), (me.as_path(), 0o755)] {
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let out = h
        .unprivileged(&me)
        .args(["--exact", "socket_access_matches_this_users_permissions", "--nocapture", "--test-threads=1"])
        .env(AS_NOBODY, "1")
        .current_dir("/")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "as nobody:\n{text}");
    assert!(text.contains("1 passed"), "as nobody, the test did not run:\n{text}");
}
