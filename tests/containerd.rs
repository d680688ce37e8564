//! The containerd backend against a real containerd (started by tests/harness; run
//! through `tests/harness/with-daemons.sh cargo test ...`, as tests/run-all.sh does).

use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{ChangeKind, Container, CreateOptions, ExecEvent, ExecOptions, OutputStream};
use berth_core::fs::FileSystem;
use berth_core::model::ContainerStatus;
use berth_core::{ErrorKind, Runtime};
use berth_tests::harness::Harness;

fn setup() -> (Harness, Arc<dyn Runtime>) {
    let h = Harness::from_env();
    let rt = h.block_on(berth_core::connect(Some(&h.containerd_endpoint()), Default::default())).unwrap();
    (h, rt)
}

fn create(h: &Harness, rt: &Arc<dyn Runtime>, args: &[&str]) -> Arc<dyn Container> {
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique("t")),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    h.block_on(rt.create_container(options)).unwrap()
}

#[test]
fn run_a_container_that_writes_a_file_and_exits_3() {
    let (h, rt) = setup();
    let c = create(&h, &rt, &["/bin/sh", "-c", "echo written-inside > /result.txt; rm /bin/echo; exit 3"]);
    h.block_on(async {
        c.start().await.unwrap();
        let exit = c.wait().await.unwrap();
        assert_eq!(exit.exit_code, 3);
        let info = c.inspect().await.unwrap();
        assert_eq!(info.summary.state.status, ContainerStatus::Stopped);
        assert_eq!(info.summary.state.exit_code, Some(3));
        let fs = c.filesystem().await.unwrap();
        assert_eq!(berth_tests::read_all(&*fs, "/result.txt").unwrap(), b"written-inside\n");
        assert_eq!(fs.lstat("/bin/echo").unwrap_err().kind(), ErrorKind::NotFound, "the deletion shows");
        assert!(fs.lstat("/bin/busybox").is_ok(), "the image's files show");
        let changes = c.changes().await.unwrap();
        assert!(changes.iter().any(|ch| ch.path == "/result.txt" && ch.kind == ChangeKind::Added), "{changes:?}");
        assert!(changes.iter().any(|ch| ch.path == "/bin/echo" && ch.kind == ChangeKind::Deleted), "{changes:?}");
        c.delete(false).await.unwrap();
    });
    h.assert_container_gone(&rt, c.id());
}

#[test]
fn exec_cat_with_stdin_and_streamed_output() {
    let (h, rt) = setup();
    let c = create(&h, &rt, &["/bin/sleep", "60"]);
    h.block_on(async {
        c.start().await.unwrap();
        let out = c
            .exec_output(
                ExecOptions { args: vec!["/bin/cat".into()], ..Default::default() },
                Some(b"from stdin\n".to_vec()),
                Some(Duration::from_secs(20)),
            )
            .await
            .unwrap();
        assert_eq!((out.exit_code, out.stdout.as_slice()), (0, &b"from stdin\n"[..]));
        // Streaming: stdout and stderr kept apart, then the exit.
        let s = c
            .exec(ExecOptions {
                args: vec!["/bin/sh".into(), "-c".into(), "echo out; echo err >&2; exit 7".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let (mut stdout, mut stderr, mut exit) = (Vec::new(), Vec::new(), None);
        while let Some(ev) = s.next_event().await {
            match ev {
                ExecEvent::Output(OutputStream::Stdout, d) => stdout.extend(d),
                ExecEvent::Output(OutputStream::Stderr, d) => stderr.extend(d),
                ExecEvent::Exit(e) => exit = Some(e.exit_code),
            }
        }
        assert_eq!((stdout.as_slice(), stderr.as_slice(), exit), (&b"out\n"[..], &b"err\n"[..], Some(7)));
        // Empty stdin still reaches EOF.
        let out = c
            .exec_output(
                ExecOptions { args: vec!["/bin/cat".into()], ..Default::default() },
                Some(Vec::new()),
                Some(Duration::from_secs(20)),
            )
            .await
            .unwrap();
        assert_eq!(out.exit_code, 0);
        let procs = c.processes().await.unwrap();
        assert!(procs.iter().any(|p| p.cmdline.first().map(String::as_str) == Some("/bin/sleep")), "{procs:?}");
        c.delete(true).await.unwrap();
    });
}

#[test]
fn pause_resume_stop_and_kill() {
    let (h, rt) = setup();
    let c = create(&h, &rt, &["/bin/sh", "-c", "trap '' TERM; while true; do sleep 1; done"]);
    h.block_on(async {
        c.start().await.unwrap();
        c.pause().await.unwrap();
        assert_eq!(c.inspect().await.unwrap().summary.state.status, ContainerStatus::Paused);
        c.resume().await.unwrap();
        assert_eq!(c.inspect().await.unwrap().summary.state.status, ContainerStatus::Running);
        // SIGTERM is ignored: the grace period passes, then SIGKILL.
        let exit = c.stop(Duration::from_millis(500)).await.unwrap();
        assert_eq!(exit.exit_code, 128 + 9);
        assert_eq!(c.stop(Duration::from_secs(1)).await.unwrap_err().kind(), ErrorKind::Conflict);
        c.delete(false).await.unwrap();
    });
    let k = create(&h, &rt, &["/bin/sleep", "60"]);
    h.block_on(async {
        k.start().await.unwrap();
        assert_eq!(k.delete(false).await.unwrap_err().kind(), ErrorKind::Conflict);
        k.kill(libc::SIGKILL).await.unwrap();
        assert_eq!(k.wait().await.unwrap().exit_code, 137);
        k.delete(false).await.unwrap();
    });
}

#[test]
fn delete_leaves_nothing_behind() {
    let (h, rt) = setup();
    let leases_before = h.leases();
    let c = create(&h, &rt, &["/bin/sleep", "60"]);
    h.block_on(async {
        c.start().await.unwrap();
        let _ = c
            .exec_output(ExecOptions { args: vec!["/bin/true".into()], ..Default::default() }, None, None)
            .await
            .unwrap();
        c.delete(true).await.unwrap();
    });
    h.assert_container_gone(&rt, c.id());
    assert_eq!(h.leases(), leases_before, "no lease is left");
    assert_eq!(h.block_on(c.inspect()).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn twenty_containers_created_and_removed_concurrently() {
    let (h, rt) = setup();
    let names: Vec<String> = (0..20).map(|_| h.unique("many")).collect();
    h.block_on(async {
        let jobs = names.iter().map(|n| {
            let rt = rt.clone();
            let image = h.image.clone();
            let name = n.clone();
            tokio::spawn(async move {
                let c = rt
                    .create_container(CreateOptions {
                        image,
                        name: Some(name),
                        args: vec!["/bin/true".into()],
                        ..Default::default()
                    })
                    .await?;
                c.start().await?;
                let exit = c.wait().await?;
                c.delete(false).await?;
                Ok::<i32, berth_core::Error>(exit.exit_code)
            })
        });
        for j in jobs.collect::<Vec<_>>() {
            assert_eq!(j.await.unwrap().unwrap(), 0);
        }
    });
    for n in &names {
        h.assert_container_gone(&rt, n);
    }
}

#[test]
fn update_resources_and_tty_exec() {
    let (h, rt) = setup();
    let c = create(&h, &rt, &["/bin/sleep", "60"]);
    h.block_on(async {
        c.start().await.unwrap();
        let r = berth_core::container::Resources {
            memory_bytes: Some(64 << 20),
            pids_limit: Some(100),
            ..Default::default()
        };
        c.update_resources(r).await.unwrap();
        let s = c
            .exec(ExecOptions {
                args: vec!["/bin/sh".into(), "-c".into(), "sleep 0.3; stty size".into()],
                tty: true,
                ..Default::default()
            })
            .await
            .unwrap();
        s.resize(100, 33).await.unwrap();
        let mut out = Vec::new();
        let mut code = None;
        while let Some(ev) = s.next_event().await {
            match ev {
                ExecEvent::Output(_, d) => out.extend(d),
                ExecEvent::Exit(e) => code = Some(e.exit_code),
            }
        }
        assert_eq!(code, Some(0));
        assert!(String::from_utf8_lossy(&out).contains("33 100"), "{}", String::from_utf8_lossy(&out));
        let no_tty = c.exec(ExecOptions { args: vec!["/bin/true".into()], ..Default::default() }).await.unwrap();
        assert_eq!(no_tty.resize(10, 10).await.unwrap_err().kind(), ErrorKind::InvalidArgument);
        while no_tty.next_event().await.is_some() {}
        c.delete(true).await.unwrap();
    });
}

#[test]
fn events_stream_task_lifecycle() {
    let (h, rt) = setup();
    let mut events = h.block_on(rt.events(&[])).unwrap();
    let c = create(&h, &rt, &["/bin/sh", "-c", "exit 5"]);
    h.block_on(async {
        c.start().await.unwrap();
        c.wait().await.unwrap();
        c.delete(false).await.unwrap();
        let mut kinds = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !kinds.contains(&"container-delete".to_string()) {
            let ev = tokio::time::timeout_at(deadline, events.recv()).await.expect("events in time").unwrap().unwrap();
            if ev.container_id.as_deref() != Some(c.id()) {
                continue;
            }
            if ev.kind == "task-exit" {
                assert_eq!(ev.exit_code, Some(5));
            }
            kinds.push(ev.kind);
        }
        for k in ["container-create", "task-create", "task-start", "task-exit", "task-delete", "container-delete"] {
            assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
        }
    });
}

#[test]
fn snapshots_prepare_mounts_usage_commit_remove() {
    let (h, rt) = setup();
    let s = rt.snapshots(None).unwrap();
    let key = h.unique("snap");
    h.block_on(async {
        let mounts = s.prepare(&key, None).await.unwrap();
        assert!(!mounts.is_empty());
        assert_eq!(s.mounts(&key).await.unwrap(), mounts);
        assert_eq!(s.stat(&key).await.unwrap().kind, "active");
        assert!(s.usage(&key).await.unwrap().inodes >= 0);
        let committed = format!("{key}-c");
        s.commit(&committed, &key).await.unwrap();
        assert_eq!(s.stat(&committed).await.unwrap().kind, "committed");
        let view = format!("{key}-v");
        s.view(&view, Some(&committed)).await.unwrap();
        assert!(s
            .list()
            .await
            .unwrap()
            .iter()
            .any(|i| i.key == view && i.parent.as_deref() == Some(committed.as_str())));
        s.remove(&view).await.unwrap();
        s.remove(&committed).await.unwrap();
        assert_eq!(s.stat(&committed).await.unwrap_err().kind(), ErrorKind::NotFound);
    });
}

#[test]
fn pull_from_the_local_registry_with_progress() {
    let (h, rt) = setup();
    let reference = h.registry_image.clone().expect("BERTH_TEST_REGISTRY_IMAGE");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let options = berth_core::model::PullOptions { plain_http: true, ..Default::default() };
    let summary = h.block_on(rt.pull_image(&reference, options, Some(tx))).unwrap();
    let mut events = Vec::new();
    while let Ok(p) = rx.try_recv() {
        events.push(p);
    }
    assert!(events.iter().any(|p| p.status == "done" || p.status == "exists"), "{events:?}");
    assert!(events.iter().any(|p| p.status == "unpacked") || events.iter().all(|p| p.status != "unpacking"));
    assert!(events.iter().filter(|p| p.status == "downloading").all(|p| p.offset <= p.total));
    assert!(summary.repo_tags.iter().any(|t| t.ends_with("/berth/busybox:v1")), "{:?}", summary.repo_tags);
    // The pulled image runs.
    let c = h
        .block_on(rt.create_container(CreateOptions {
            image: reference.clone(),
            name: Some(h.unique("pulled")),
            args: vec!["/bin/true".into()],
            ..Default::default()
        }))
        .unwrap();
    h.block_on(async {
        c.start().await.unwrap();
        assert_eq!(c.wait().await.unwrap().exit_code, 0);
        c.delete(false).await.unwrap();
    });
    // With credentials, from the registry that requires them.
    if let (Some(auth), Some(user), Some(password)) = (&h.registry_auth, &h.registry_user, &h.registry_password) {
        let reference = format!("{auth}/berth/busybox:v1");
        let anonymous = h.block_on(rt.pull_image(
            &reference,
            berth_core::model::PullOptions { plain_http: true, ..Default::default() },
            None,
        ));
        assert_eq!(anonymous.unwrap_err().kind(), ErrorKind::PermissionDenied);
        let options = berth_core::model::PullOptions {
            plain_http: true,
            username: Some(user.clone()),
            password: Some(password.clone()),
            ..Default::default()
        };
        h.block_on(rt.pull_image(&reference, options, None)).unwrap();
    }
    let err = h.block_on(rt.pull_image(
        &format!("{}/berth/nothing:here", h.registry.clone().unwrap()),
        berth_core::model::PullOptions { plain_http: true, ..Default::default() },
        None,
    ));
    assert_eq!(err.unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn tag_remove_export_import() {
    let (h, rt) = setup();
    let tag = format!("example.com/berth/{}:copy", h.unique("tag"));
    h.block_on(async {
        rt.tag_image(&h.image, &tag).await.unwrap();
        let found = rt.find_images(&tag).await.unwrap();
        assert_eq!(found.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("out.tar");
        rt.export_images(std::slice::from_ref(&tag), &archive).await.unwrap();
        // The export is an oci-archive the offline backend reads, with the same files.
        let offline = berth_core::connect(Some(&format!("oci-archive://{}", archive.display())), Default::default())
            .await
            .unwrap();
        let img = offline.open_image(&tag).await.unwrap();
        assert_eq!(img.id(), found[0].id.as_str());
        assert!(img.filesystem().unwrap().stat("/bin/busybox").is_ok());
        rt.remove_image(&tag).await.unwrap();
        assert!(rt.find_images(&tag).await.unwrap().is_empty());
        let imported = rt.import_images(&archive).await.unwrap();
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].id, found[0].id, "the image keeps its ID");
        assert_eq!(rt.find_images(&tag).await.unwrap().len(), 1);
        rt.remove_image(&tag).await.unwrap();
        assert_eq!(rt.remove_image(&tag).await.unwrap_err().kind(), ErrorKind::NotFound);
    });
}

#[test]
fn a_stopped_daemon_is_unavailable() {
    let rt =
        berth_tests::block_on(berth_core::connect(Some("containerd:///tmp/berth-no-such.sock"), Default::default()))
            .unwrap();
    let err = berth_tests::block_on(rt.list_images()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.message().contains("is containerd running"), "{err}");
}

#[test]
fn list_and_find_with_labels_and_filters() {
    let (h, rt) = setup();
    let tag = h.unique("label");
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique("labelled")),
        args: vec!["/bin/true".into()],
        labels: [("berth.test".to_string(), tag.clone())].into_iter().collect(),
        ..Default::default()
    };
    let c = h.block_on(rt.create_container(options)).unwrap();
    h.block_on(async {
        let by_label = rt.list_containers(&[format!("labels.\"berth.test\"=={tag}")]).await.unwrap();
        assert_eq!(by_label.len(), 1);
        assert_eq!(by_label[0].id, c.id());
        assert_eq!(by_label[0].labels["berth.test"], tag);
        assert_eq!(by_label[0].state.status, ContainerStatus::Created);
        assert!(rt.list_containers(&["labels.\"berth.test\"==nothing".to_string()]).await.unwrap().is_empty());
        assert_eq!(rt.find_containers(c.id()).await.unwrap().len(), 1);
        let opened = rt.open_container(&c.id()[..c.id().len() - 1]).await;
        assert!(opened.is_ok() || opened.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::Ambiguous));
        assert_eq!(rt.open_container("no-such-container").await.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
        c.delete(false).await.unwrap();
    });
}

#[test]
fn detect_lists_containerd_namespaces() {
    let h = Harness::from_env();
    std::env::set_var("CONTAINERD_ADDRESS", &h.containerd);
    let found = berth_core::detect();
    let d = found.iter().find(|d| d.source == "CONTAINERD_ADDRESS").expect("detected");
    assert!(d.namespaces.contains(&h.namespace), "{:?}", d.namespaces);
}
