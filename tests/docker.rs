//! What Docker and Podman have beyond the shared behaviour (behaviour.rs): logs, stats,
//! attach, rename, export, commit, archives, the two image filesystem paths, Podman's
//! pods and names; each against the real dockerd and Podman service of tests/harness.

use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{CommitOptions, Container, CreateOptions, ExecEvent, LogOptions, OutputStream};
use berth_core::fs::FileSystem;
use berth_core::model::ContainerStatus;
use berth_core::pod::PodOptions;
use berth_core::{need, ErrorKind, Runtime};
use berth_tests::harness::{Backend, Harness};

macro_rules! on_docker_and_podman {
    ($($name:ident),* $(,)?) => {
        mod docker { $( #[test] fn $name() { super::$name(super::Backend::Docker) } )* }
        mod podman { $( #[test] fn $name() { super::$name(super::Backend::Podman) } )* }
    };
}

on_docker_and_podman!(
    version_is_negotiated,
    logs_follow_tail_and_timestamps,
    stats_one_sample_and_a_stream,
    attach_to_stdin_and_output,
    rename_export_archive_and_commit,
    image_filesystem_direct_and_api_paths_agree,
    saved_image_opens_offline_with_identical_files,
    push_then_pull_with_progress,
);

fn setup(b: Backend) -> (Harness, Arc<dyn Runtime>) {
    let h = Harness::from_env();
    let rt = h.connect(b);
    (h, rt)
}

fn create_with(h: &Harness, rt: &Arc<dyn Runtime>, options: CreateOptions) -> Arc<dyn Container> {
    let options = CreateOptions { image: h.image.clone(), name: Some(h.unique("d")), ..options };
    h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap()
}

fn create(h: &Harness, rt: &Arc<dyn Runtime>, args: &[&str]) -> Arc<dyn Container> {
    create_with(h, rt, CreateOptions { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() })
}

/// Every path of a filesystem with its type, mode, owner and content (SHA-256 of a
/// regular file, a symlink's target).
fn digest_tree(fs: Arc<dyn FileSystem>) -> Vec<(String, String)> {
    let paths = berth_tests::tree(fs.clone());
    paths
        .into_iter()
        .map(|p| {
            let st = fs.lstat(&p).unwrap();
            let content = match st.file_type {
                berth_core::fs::FileType::File => berth_tests::sha256_hex(&berth_tests::read_all(&*fs, &p).unwrap()),
                berth_core::fs::FileType::Symlink => fs.readlink(&p).unwrap(),
                _ => String::new(),
            };
            let sum = format!("{:?} {:o} {}:{} {content}", st.file_type, st.mode, st.uid, st.gid);
            (p, sum)
        })
        .collect()
}

fn version_is_negotiated(b: Backend) {
    let (h, rt) = setup(b);
    let v = h.block_on(rt.version()).unwrap();
    let api = v.api_version.unwrap();
    let (major, minor) = api.split_once('.').unwrap();
    assert_eq!(major, "1");
    assert!(minor.parse::<u32>().unwrap() >= 41, "{api}");
    assert!(!v.version.is_empty());
}

fn logs_follow_tail_and_timestamps(b: Backend) {
    let (h, rt) = setup(b);
    let c = create(&h, &rt, &["/bin/sh", "-c", "for i in 1 2 3; do echo line$i; echo e$i >&2; sleep 0.2; done"]);
    h.block_on(async {
        c.start().await.unwrap();
        // Followed from the start: every line arrives, and the stream ends with the container.
        let mut rx = need(c.logs(), c.kind(), "container logs")
            .unwrap()
            .read(LogOptions { follow: true, ..Default::default() })
            .await
            .unwrap();
        let (mut out, mut err) = (String::new(), String::new());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Some(chunk) = tokio::time::timeout_at(deadline, rx.recv()).await.expect("log stream ends") {
            let chunk = chunk.unwrap();
            let text = String::from_utf8(chunk.data).unwrap();
            match chunk.stream {
                OutputStream::Stdout => out.push_str(&text),
                OutputStream::Stderr => err.push_str(&text),
            }
        }
        assert_eq!(out, "line1\nline2\nline3\n");
        assert_eq!(err, "e1\ne2\ne3\n");
        assert_eq!(c.wait().await.unwrap().exit_code, 0);
        // The last line, with its time. (Docker counts the last lines of both streams
        // together, Podman per stream: one line of the last round either way.)
        let mut rx = need(c.logs(), c.kind(), "container logs")
            .unwrap()
            .read(LogOptions { tail: Some(1), timestamps: true, ..Default::default() })
            .await
            .unwrap();
        let mut tail = Vec::new();
        while let Some(chunk) = rx.recv().await {
            tail.extend(String::from_utf8(chunk.unwrap().data).unwrap().lines().map(str::to_string));
        }
        assert!(!tail.is_empty() && tail.len() <= 2, "{tail:?}");
        assert!(tail.iter().all(|l| l.starts_with("20") && (l.ends_with(" line3") || l.ends_with(" e3"))), "{tail:?}");
        // Nothing after the future.
        let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
        let mut rx = need(c.logs(), c.kind(), "container logs")
            .unwrap()
            .read(LogOptions { since: Some(later as i64), ..Default::default() })
            .await
            .unwrap();
        assert!(rx.recv().await.is_none());
        c.delete(false).await.unwrap();
        let gone = need(c.logs(), c.kind(), "container logs").unwrap().read(LogOptions::default()).await;
        assert_eq!(gone.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
    });
}

fn stats_one_sample_and_a_stream(b: Backend) {
    let (h, rt) = setup(b);
    let c = create(&h, &rt, &["/bin/sh", "-c", "while true; do :; done"]);
    h.block_on(async {
        c.start().await.unwrap();
        let mut one = need(c.stats(), c.kind(), "container stats").unwrap().read(false).await.unwrap();
        let s = one.recv().await.unwrap().unwrap();
        assert!(s.memory_usage > 0, "{s:?}");
        assert!(s.pids >= 1, "{s:?}");
        assert!(s.cpu_total_ns > 0, "{s:?}");
        assert!(one.recv().await.is_none(), "one sample only");
        let mut stream = need(c.stats(), c.kind(), "container stats").unwrap().read(true).await.unwrap();
        let mut samples = Vec::new();
        while samples.len() < 2 {
            samples.push(stream.recv().await.unwrap().unwrap());
        }
        assert!(samples[1].cpu_total_ns >= samples[0].cpu_total_ns);
        assert!(samples[1].cpu_percent.is_some(), "{:?}", samples[1]);
        drop(stream);
        c.delete(true).await.unwrap();
    });
}

fn attach_to_stdin_and_output(b: Backend) {
    let (h, rt) = setup(b);
    let c = create_with(&h, &rt, CreateOptions { args: vec!["/bin/cat".into()], stdin: true, ..Default::default() });
    h.block_on(async {
        let session = need(c.attacher(), c.kind(), "attaching to a container").unwrap().attach().await.unwrap();
        c.start().await.unwrap();
        session.write_stdin(b"through attach\n").await.unwrap();
        session.close_stdin().await.unwrap();
        let (mut out, mut exit) = (Vec::new(), None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Some(ev) = tokio::time::timeout_at(deadline, session.next_event()).await.expect("attach ends") {
            match ev {
                ExecEvent::Output(_, d) => out.extend(d),
                ExecEvent::Exit(e) => exit = Some(e.exit_code),
            }
        }
        assert_eq!((out.as_slice(), exit), (&b"through attach\n"[..], Some(0)));
        c.delete(false).await.unwrap();
    });
}

fn rename_export_archive_and_commit(b: Backend) {
    let (h, rt) = setup(b);
    let c = create(&h, &rt, &["/bin/sh", "-c", "echo made-inside > /made.txt"]);
    let dir = tempfile::tempdir().unwrap();
    let renamed = h.unique("renamed");
    let reference = format!("example.com/berth/{}:committed", h.unique("commit"));
    h.block_on(async {
        c.start().await.unwrap();
        assert_eq!(c.wait().await.unwrap().exit_code, 0);
        need(c.renamer(), c.kind(), "renaming containers").unwrap().rename(&renamed).await.unwrap();
        let again = need(rt.containers(), rt.kind(), "opening containers").unwrap().open(&renamed).await.unwrap();
        assert_eq!(again.id(), c.id());
        assert_eq!(again.inspect().await.unwrap().summary.names, vec![renamed.clone()]);

        // export: the whole filesystem as a tar.
        let export = dir.path().join("export.tar");
        need(c.archiver(), c.kind(), "exporting containers").unwrap().export(&export).await.unwrap();
        let made = std::process::Command::new("tar").arg("-xOf").arg(&export).arg("made.txt").output().unwrap();
        assert_eq!(made.stdout, b"made-inside\n", "{}", String::from_utf8_lossy(&made.stderr));

        // archive: one path, as `docker cp` reads it.
        let archive = dir.path().join("passwd.tar");
        need(c.archiver(), c.kind(), "archives of container paths")
            .unwrap()
            .archive("/etc/passwd", &archive)
            .await
            .unwrap();
        let listed = std::process::Command::new("tar").arg("-tf").arg(&archive).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "passwd");
        let missing = need(c.archiver(), c.kind(), "archives of container paths")
            .unwrap()
            .archive("/no/such/path", &dir.path().join("x.tar"))
            .await;
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
        assert!(!dir.path().join("x.tar").exists(), "no partial file is left");

        // commit: an image with the container's change, that runs.
        let id = need(c.committer(), c.kind(), "committing containers")
            .unwrap()
            .commit(CommitOptions {
                reference: Some(reference.clone()),
                message: Some("berth test".into()),
                changes: vec!["ENV COMMITTED=yes".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let image = rt.open_image(&reference).await.unwrap();
        assert_eq!(image.id(), id);
        let fs = image.filesystem().unwrap();
        assert_eq!(berth_tests::read_all(&*fs, "/made.txt").unwrap(), b"made-inside\n");
        let env = image.config()["config"]["Env"].to_string();
        assert!(env.contains("COMMITTED=yes"), "{env}");
        let run = need(rt.containers(), rt.kind(), "creating containers")
            .unwrap()
            .create(CreateOptions {
                image: reference.clone(),
                name: Some(h.unique("fromcommit")),
                args: vec!["/bin/cat".into(), "/made.txt".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let mut logs_from_run = Vec::new();
        run.start().await.unwrap();
        assert_eq!(run.wait().await.unwrap().exit_code, 0);
        let mut rx = need(run.logs(), run.kind(), "container logs").unwrap().read(LogOptions::default()).await.unwrap();
        while let Some(chunk) = rx.recv().await {
            logs_from_run.extend(chunk.unwrap().data);
        }
        assert_eq!(logs_from_run, b"made-inside\n");
        run.delete(false).await.unwrap();
        c.delete(false).await.unwrap();
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&reference).await.unwrap();
    });
}

fn image_filesystem_direct_and_api_paths_agree(b: Backend) {
    let h = Harness::from_env();
    let base = h.endpoint(b);
    let open = |mode: &str| {
        let rt = h.block_on(berth_core::connect(Some(&format!("{base}?image_fs={mode}")), Default::default())).unwrap();
        let image = h.block_on(rt.open_image(&h.image)).unwrap();
        (image.id().to_string(), digest_tree(image.filesystem().unwrap() as Arc<dyn FileSystem>))
    };
    let (direct_id, direct) = open("direct");
    let (api_id, api) = open("api");
    assert_eq!(direct_id, api_id);
    assert!(direct.iter().any(|(p, _)| p == "/bin/busybox"), "{direct:?}");
    assert_eq!(direct, api, "the two paths read the same files");
    let bad = h.block_on(berth_core::connect(Some(&format!("{base}?image_fs=fast")), Default::default()));
    assert_eq!(bad.err().map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
}

/// The cross-runtime test: an image saved from the daemon opens in the offline backend
/// with identical files.
fn saved_image_opens_offline_with_identical_files(b: Backend) {
    let (h, rt) = setup(b);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    h.block_on(
        need(rt.image_store(), rt.kind(), "exporting images").unwrap().export(std::slice::from_ref(&h.image), &archive),
    )
    .unwrap();
    let live = h.block_on(rt.open_image(&h.image)).unwrap();
    let offline = berth_tests::open_fs(&format!("docker-archive://{}", archive.display()), &h.image).unwrap();
    assert_eq!(digest_tree(live.filesystem().unwrap()), digest_tree(offline));
}

#[test]
fn podman_pods_with_a_joined_container() {
    let (h, rt) = setup(Backend::Podman);
    let name = h.unique("pod");
    h.block_on(async {
        let pod = need(rt.pods(), rt.kind(), "creating pods")
            .unwrap()
            .create(PodOptions { name: Some(name.clone()), ..Default::default() })
            .await
            .unwrap();
        assert!(need(rt.pods(), rt.kind(), "listing pods")
            .unwrap()
            .list()
            .await
            .unwrap()
            .iter()
            .any(|p| p.id == pod.id() && p.name == name));
        let c = need(rt.containers(), rt.kind(), "creating containers")
            .unwrap()
            .create(CreateOptions {
                image: h.image.clone(),
                name: Some(h.unique("inpod")),
                args: vec!["/bin/sleep".into(), "60".into()],
                pod: Some(name.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        pod.start().await.unwrap();
        let info = c.inspect().await.unwrap();
        assert_eq!(info.summary.state.status, ContainerStatus::Running);
        assert_eq!(info.summary.pod.as_deref(), Some(pod.id()));
        let listed = need(rt.containers(), rt.kind(), "listing containers").unwrap().list(&[]).await.unwrap();
        assert_eq!(listed.iter().find(|x| x.id == c.id()).and_then(|x| x.pod.clone()).as_deref(), Some(pod.id()));
        let inspected = pod.inspect().await.unwrap();
        assert!(inspected.summary.containers.iter().any(|id| id == c.id()), "{:?}", inspected.summary);
        assert_eq!(inspected.summary.state, "Running");
        pod.pause().await.unwrap();
        assert_eq!(c.inspect().await.unwrap().summary.state.status, ContainerStatus::Paused);
        pod.resume().await.unwrap();
        assert_eq!(pod.remove(false).await.unwrap_err().kind(), ErrorKind::Conflict, "a running pod needs force");
        pod.stop(Duration::from_secs(1)).await.unwrap();
        assert_eq!(c.inspect().await.unwrap().summary.state.status, ContainerStatus::Stopped);
        pod.remove(false).await.unwrap();
        assert_eq!(
            need(rt.pods(), rt.kind(), "opening pods").unwrap().open(&name).await.err().map(|e| e.kind()),
            Some(ErrorKind::NotFound)
        );
        assert_eq!(c.inspect().await.unwrap_err().kind(), ErrorKind::NotFound, "the pod's containers went with it");
        // Joining a pod that does not exist fails clearly.
        let err = need(rt.containers(), rt.kind(), "creating containers")
            .unwrap()
            .create(CreateOptions { image: h.image.clone(), pod: Some(name.clone()), ..Default::default() })
            .await;
        assert_eq!(err.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
    });
}

#[test]
fn docker_has_no_pods() {
    let (h, rt) = setup(Backend::Docker);
    assert_eq!(
        h.block_on(async { need(rt.pods(), rt.kind(), "listing pods")?.list().await }).unwrap_err().kind(),
        ErrorKind::NotSupported
    );
    let err = h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(CreateOptions {
        image: h.image.clone(),
        pod: Some("p".into()),
        ..Default::default()
    }));
    assert_eq!(err.err().map(|e| e.kind()), Some(ErrorKind::NotSupported));
}

/// Podman names images without a registry `localhost/NAME`; the find rules still find
/// them by the short name, and containers run from them.
#[test]
fn podman_localhost_names() {
    let (h, rt) = setup(Backend::Podman);
    let short = h.unique("local");
    h.block_on(async {
        need(rt.image_store(), rt.kind(), "tagging images").unwrap().tag(&h.image, &short).await.unwrap();
        let found = rt.find_images(&short).await.unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].repo_tags.iter().any(|t| t == &format!("localhost/{short}:latest")),
            "{:?}",
            found[0].repo_tags
        );
        let c = need(rt.containers(), rt.kind(), "creating containers")
            .unwrap()
            .create(CreateOptions {
                image: short.clone(),
                name: Some(h.unique("fromlocal")),
                args: vec!["/bin/true".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        c.start().await.unwrap();
        assert_eq!(c.wait().await.unwrap().exit_code, 0);
        c.delete(false).await.unwrap();
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&short).await.unwrap();
        assert!(rt.find_images(&short).await.unwrap().is_empty());
    });
}

#[test]
fn unreachable_daemons_are_unavailable() {
    for e in [
        "docker:///tmp/berth-no-such-docker.sock",
        "podman:///tmp/berth-no-such-podman.sock",
        "docker://tcp://127.0.0.1:1",
    ] {
        let rt = berth_tests::block_on(berth_core::connect(Some(e), Default::default())).unwrap();
        let err = berth_tests::block_on(rt.list_images()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{e}: {err}");
        assert!(err.message().contains("daemon running"), "{err}");
    }
}

/// An image made here (a commit, so it has a layer the registry lacks) is pushed with
/// progress, removed, and pulled back with progress, with credentials where the
/// registry wants them.
fn push_then_pull_with_progress(b: Backend) {
    let (h, rt) = setup(b);
    let registry = h.registry.clone().expect("BERTH_TEST_REGISTRY");
    let reference = format!("{registry}/berth/{}:pushed", h.unique("push"));
    let c = create(&h, &rt, &["/bin/sh", "-c", "head -c 100000 /dev/urandom > /random.bin"]);
    h.block_on(async {
        c.start().await.unwrap();
        assert_eq!(c.wait().await.unwrap().exit_code, 0);
        let id = need(c.committer(), c.kind(), "committing containers")
            .unwrap()
            .commit(CommitOptions { reference: Some(reference.clone()), ..Default::default() })
            .await
            .unwrap();
        c.delete(false).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let options = berth_core::model::PushOptions { plain_http: true, ..Default::default() };
        need(rt.pusher(), rt.kind(), "pushing images").unwrap().push(&reference, options, Some(tx)).await.unwrap();
        let mut pushed = Vec::new();
        while let Ok(p) = rx.try_recv() {
            pushed.push(p);
        }
        if b == Backend::Docker {
            assert!(pushed.iter().any(|p| p.status == "pushed"), "{pushed:?}");
        }
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&id).await.unwrap();
        assert!(rt.find_images(&reference).await.unwrap().is_empty());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let options = berth_core::model::PullOptions { plain_http: true, ..Default::default() };
        let pulled =
            need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(&reference, options, Some(tx)).await.unwrap();
        let mut events = Vec::new();
        while let Ok(p) = rx.try_recv() {
            events.push(p);
        }
        assert!(events.iter().any(|p| p.status == "done"), "the new layer is fetched: {events:?}");
        assert!(events.iter().filter(|p| p.status == "downloading").all(|p| p.offset <= p.total), "{events:?}");
        assert!(pulled.repo_tags.contains(&reference), "{:?}", pulled.repo_tags);
        let fs = rt.open_image(&reference).await.unwrap().filesystem().unwrap();
        assert_eq!(fs.stat("/random.bin").unwrap().size, 100_000);
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&reference).await.unwrap();
        // Credentials: the auth registry refuses an anonymous push.
        if let (Some(auth), Some(user), Some(password)) = (&h.registry_auth, &h.registry_user, &h.registry_password) {
            let target = format!("{auth}/berth/{}:pushed", h.unique("authpush"));
            need(rt.image_store(), rt.kind(), "tagging images").unwrap().tag(&h.image, &target).await.unwrap();
            let anonymous = need(rt.pusher(), rt.kind(), "pushing images")
                .unwrap()
                .push(&target, berth_core::model::PushOptions { plain_http: true, ..Default::default() }, None)
                .await;
            assert_eq!(anonymous.unwrap_err().kind(), ErrorKind::PermissionDenied);
            let options = berth_core::model::PushOptions {
                plain_http: true,
                username: Some(user.clone()),
                password: Some(password.clone()),
            };
            need(rt.pusher(), rt.kind(), "pushing images").unwrap().push(&target, options, None).await.unwrap();
            need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&target).await.unwrap();
        }
    });
}
