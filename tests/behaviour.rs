//! The behaviour every daemon backend shares, run against each real daemon the harness
//! starts (containerd, dockerd, Podman's service): the same test, three times. Run
//! through `tests/harness/with-daemons.sh cargo test ...`, as tests/run-all.sh does.

use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{ChangeKind, Container, CreateOptions, ExecEvent, ExecOptions, LogOptions, OutputStream};
use berth_core::fs::FileSystem;
use berth_core::model::ContainerStatus;
use berth_core::{need, ErrorKind, Runtime};
use berth_tests::harness::{Backend, Harness};

fn setup(b: Backend) -> (Harness, Arc<dyn Runtime>) {
    let h = Harness::from_env();
    let rt = h.connect(b);
    (h, rt)
}

fn create(h: &Harness, rt: &Arc<dyn Runtime>, args: &[&str]) -> Arc<dyn Container> {
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique("t")),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap()
}

/// One `#[test]` per backend for each behaviour: `containerd::name`, `docker::name`,
/// `podman::name`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod containerd { $( #[test] fn $name() { super::$name(super::Backend::Containerd) } )* }
        mod docker { $( #[test] fn $name() { super::$name(super::Backend::Docker) } )* }
        mod podman { $( #[test] fn $name() { super::$name(super::Backend::Podman) } )* }
    };
}

on_every_backend!(
    run_a_container_that_writes_a_file_and_exits_3,
    exec_cat_with_stdin_and_streamed_output,
    pause_resume_stop_and_kill,
    delete_leaves_nothing_behind,
    twenty_containers_created_and_removed_concurrently,
    update_resources_and_tty_exec,
    events_stream_task_lifecycle,
    pull_from_the_local_registry_with_progress,
    tag_remove_export_import,
    import_an_archive_whose_path_holds_query_characters,
    a_caller_runtime_that_ends_takes_no_connection_with_it,
    list_and_find_with_labels_and_filters,
    docker_only_calls_answer_not_supported_elsewhere,
    an_id_prefix_of_two_containers_is_ambiguous,
);

fn run_a_container_that_writes_a_file_and_exits_3(b: Backend) {
    let (h, rt) = setup(b);
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

fn exec_cat_with_stdin_and_streamed_output(b: Backend) {
    let (h, rt) = setup(b);
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

fn pause_resume_stop_and_kill(b: Backend) {
    let (h, rt) = setup(b);
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

fn delete_leaves_nothing_behind(b: Backend) {
    let (h, rt) = setup(b);
    let leases_before = if b == Backend::Containerd { h.leases() } else { Vec::new() };
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
    if b == Backend::Containerd {
        // Leases are namespace-wide: a pull or import of a test running beside this one
        // may hold one for a moment. Ours are gone; theirs end soon.
        let mut left = h.leases();
        for _ in 0..100 {
            if left.iter().all(|l| leases_before.contains(l)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            left = h.leases();
        }
        assert!(left.iter().all(|l| leases_before.contains(l)), "no lease is left: {left:?}");
    }
    assert_eq!(h.block_on(c.inspect()).unwrap_err().kind(), ErrorKind::NotFound);
}

fn twenty_containers_created_and_removed_concurrently(b: Backend) {
    let (h, rt) = setup(b);
    let names: Vec<String> = (0..20).map(|_| h.unique("many")).collect();
    h.block_on(async {
        let jobs = names.iter().map(|n| {
            let rt = rt.clone();
            let image = h.image.clone();
            let name = n.clone();
            tokio::spawn(async move {
                let c = need(rt.containers(), rt.kind(), "creating containers")
                    .unwrap()
                    .create(CreateOptions {
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

fn update_resources_and_tty_exec(b: Backend) {
    let (h, rt) = setup(b);
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

fn events_stream_task_lifecycle(b: Backend) {
    let (h, rt) = setup(b);
    let mut events = h.block_on(need(rt.events(), rt.kind(), "events").unwrap().subscribe(&[])).unwrap();
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
        // Docker and Podman have no tasks of their own: no task-create/task-delete.
        let expected: &[&str] = match b {
            Backend::Containerd => {
                &["container-create", "task-create", "task-start", "task-exit", "task-delete", "container-delete"]
            }
            _ => &["container-create", "task-start", "task-exit", "container-delete"],
        };
        for k in expected {
            assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
        }
    });
}

fn pull_from_the_local_registry_with_progress(b: Backend) {
    let (h, rt) = setup(b);
    let reference = h.registry_image.clone().expect("BERTH_TEST_REGISTRY_IMAGE");
    // A pull of an image the store has already reports no blobs: start without it.
    let _ = h.block_on(need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&reference));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let options = berth_core::model::PullOptions { plain_http: true, ..Default::default() };
    let summary = h
        .block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(&reference, options, Some(tx)))
        .unwrap();
    let mut events = Vec::new();
    while let Ok(p) = rx.try_recv() {
        events.push(p);
    }
    // Docker and Podman still hold the image under its other name (the harness loaded
    // the same image): they only add the name, and report no blob. push_then_pull in
    // docker.rs pulls new content from them.
    if b == Backend::Containerd {
        assert!(events.iter().any(|p| p.status == "done" || p.status == "exists"), "{events:?}");
    }
    assert!(events.iter().any(|p| p.status == "unpacked") || events.iter().all(|p| p.status != "unpacking"));
    assert!(events.iter().filter(|p| p.status == "downloading").all(|p| p.offset <= p.total));
    assert!(summary.repo_tags.iter().any(|t| t.ends_with("/berth/busybox:v1")), "{:?}", summary.repo_tags);
    // The pulled image runs.
    let c = h
        .block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(CreateOptions {
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
        let anonymous = h.block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(
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
        h.block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(&reference, options, None)).unwrap();
    }
    let err = h.block_on(need(rt.puller(), rt.kind(), "pulling images").unwrap().pull(
        &format!("{}/berth/nothing:here", h.registry.clone().unwrap()),
        berth_core::model::PullOptions { plain_http: true, ..Default::default() },
        None,
    ));
    assert_eq!(err.unwrap_err().kind(), ErrorKind::NotFound);
}

fn tag_remove_export_import(b: Backend) {
    let (h, rt) = setup(b);
    let tag = format!("example.com/berth/{}:copy", h.unique("tag"));
    h.block_on(async {
        need(rt.image_store(), rt.kind(), "tagging images").unwrap().tag(&h.image, &tag).await.unwrap();
        let found = rt.find_images(&tag).await.unwrap();
        assert_eq!(found.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("out.tar");
        need(rt.image_store(), rt.kind(), "exporting images")
            .unwrap()
            .export(std::slice::from_ref(&tag), &archive)
            .await
            .unwrap();
        // The export is an archive the offline backend reads, with the same files: an
        // oci-archive from containerd, the daemon's docker-archive from Docker and Podman.
        let scheme = if b == Backend::Containerd { "oci-archive" } else { "docker-archive" };
        let offline =
            berth_core::connect(Some(&format!("{scheme}://{}", archive.display())), Default::default()).await.unwrap();
        let img = offline.open_image(&tag).await.unwrap();
        assert_eq!(img.id(), found[0].id.as_str());
        assert!(img.filesystem().unwrap().stat("/bin/busybox").is_ok());
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&tag).await.unwrap();
        assert!(rt.find_images(&tag).await.unwrap().is_empty());
        let imported = need(rt.image_store(), rt.kind(), "importing images").unwrap().import(&archive).await.unwrap();
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].id, found[0].id, "the image keeps its ID");
        assert_eq!(rt.find_images(&tag).await.unwrap().len(), 1);
        need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&tag).await.unwrap();
        assert_eq!(
            need(rt.image_store(), rt.kind(), "removing images").unwrap().remove(&tag).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    });
}

/// An archive is read by its path: a `?` or `#` in the file name is part of the name (an
/// endpoint string would end the path at the `?`).
fn import_an_archive_whose_path_holds_query_characters(b: Backend) {
    let (h, rt) = setup(b);
    let tag = format!("example.com/berth/{}:odd", h.unique("odd"));
    let store = need(rt.image_store(), rt.kind(), "importing images").unwrap();
    h.block_on(async {
        store.tag(&h.image, &tag).await.unwrap();
        let id = rt.find_images(&tag).await.unwrap()[0].id.clone();
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("an?odd=name#1.tar");
        store.export(std::slice::from_ref(&tag), &archive).await.unwrap();
        assert!(archive.is_file());
        store.remove(&tag).await.unwrap();
        assert!(rt.find_images(&tag).await.unwrap().is_empty());
        let imported = store.import(&archive).await.unwrap();
        assert_eq!(imported.iter().map(|i| i.id.clone()).collect::<Vec<_>>(), vec![id]);
        assert_eq!(rt.find_images(&tag).await.unwrap().len(), 1);
        store.remove(&tag).await.unwrap();
    });
}

/// berth's daemon I/O runs on its own runtime: a caller may use a runtime handle, a
/// container and an exec session from its own runtime, end that runtime, and go on with
/// all three from another. (Connections opened on the caller's runtime would have died
/// with it: the exec session's stream first.)
fn a_caller_runtime_that_ends_takes_no_connection_with_it(b: Backend) {
    let h = Harness::from_env();
    let caller = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let first = caller();
    let (rt, c, session) = first.block_on(async {
        let rt = berth_core::connect(Some(&h.endpoint(b)), Default::default()).await.unwrap();
        assert!(!rt.list_images().await.unwrap().is_empty());
        let options = CreateOptions {
            image: h.image.clone(),
            name: Some(h.unique("ended")),
            args: vec!["/bin/sleep".into(), "60".into()],
            ..Default::default()
        };
        let c = need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options).await.unwrap();
        c.start().await.unwrap();
        let session =
            c.exec(ExecOptions { args: vec!["/bin/cat".into()], stdin: true, ..Default::default() }).await.unwrap();
        session.write_stdin(b"before\n").await.unwrap();
        (rt, c, session)
    });
    drop(first);
    caller().block_on(async {
        assert!(!rt.list_images().await.unwrap().is_empty());
        assert_eq!(c.inspect().await.unwrap().summary.state.status, ContainerStatus::Running);
        session.write_stdin(b"after\n").await.unwrap();
        session.close_stdin().await.unwrap();
        let (mut stdout, mut exit) = (Vec::new(), None);
        while let Some(ev) = session.next_event().await {
            match ev {
                ExecEvent::Output(_, d) => stdout.extend(d),
                ExecEvent::Exit(e) => exit = Some(e.exit_code),
            }
        }
        assert_eq!((stdout.as_slice(), exit), (&b"before\nafter\n"[..], Some(0)), "{:?}", session.failure());
        c.delete(true).await.unwrap();
    });
}

fn list_and_find_with_labels_and_filters(b: Backend) {
    let (h, rt) = setup(b);
    let tag = h.unique("label");
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique("labelled")),
        args: vec!["/bin/true".into()],
        labels: [("berth.test".to_string(), tag.clone())].into_iter().collect(),
        ..Default::default()
    };
    let c = h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap();
    h.block_on(async {
        let by_label = need(rt.containers(), rt.kind(), "listing containers")
            .unwrap()
            .list(&[format!("labels.\"berth.test\"=={tag}")])
            .await
            .unwrap();
        assert_eq!(by_label.len(), 1);
        assert_eq!(by_label[0].id, c.id());
        assert_eq!(by_label[0].labels["berth.test"], tag);
        assert_eq!(by_label[0].state.status, ContainerStatus::Created);
        assert!(need(rt.containers(), rt.kind(), "listing containers")
            .unwrap()
            .list(&["labels.\"berth.test\"==nothing".to_string()])
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            need(rt.containers(), rt.kind(), "listing containers").unwrap().find(c.id()).await.unwrap().len(),
            1
        );
        let opened =
            need(rt.containers(), rt.kind(), "opening containers").unwrap().open(&c.id()[..c.id().len() - 1]).await;
        assert!(opened.is_ok() || opened.as_ref().err().map(|e| e.kind()) == Some(ErrorKind::Ambiguous));
        assert_eq!(
            need(rt.containers(), rt.kind(), "opening containers")
                .unwrap()
                .open("no-such-container")
                .await
                .err()
                .map(|e| e.kind()),
            Some(ErrorKind::NotFound)
        );
        c.delete(false).await.unwrap();
    });
}

/// What only Docker and Podman have is NotSupported on containerd, and works on both.
fn docker_only_calls_answer_not_supported_elsewhere(b: Backend) {
    let (h, rt) = setup(b);
    let c = create(&h, &rt, &["/bin/sh", "-c", "echo out; echo err >&2"]);
    h.block_on(async {
        c.start().await.unwrap();
        c.wait().await.unwrap();
        let logs = async { need(c.logs(), c.kind(), "container logs")?.read(LogOptions::default()).await }.await;
        if b == Backend::Containerd {
            assert_eq!(logs.err().map(|e| e.kind()), Some(ErrorKind::NotSupported));
            assert_eq!(
                async { need(c.renamer(), c.kind(), "renaming containers")?.rename("x").await }
                    .await
                    .unwrap_err()
                    .kind(),
                ErrorKind::NotSupported
            );
            assert_eq!(
                async { need(c.stats(), c.kind(), "container stats")?.read(false).await }.await.err().map(|e| e.kind()),
                Some(ErrorKind::NotSupported)
            );
            assert_eq!(
                async { need(rt.pods(), rt.kind(), "listing pods")?.list().await }.await.unwrap_err().kind(),
                ErrorKind::NotSupported
            );
        } else {
            let mut rx = logs.unwrap();
            let (mut out, mut err) = (Vec::new(), Vec::new());
            while let Some(chunk) = rx.recv().await {
                let chunk = chunk.unwrap();
                match chunk.stream {
                    OutputStream::Stdout => out.extend(chunk.data),
                    OutputStream::Stderr => err.extend(chunk.data),
                }
            }
            assert_eq!((out.as_slice(), err.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
        }
        c.delete(false).await.unwrap();
    });
}

/// Opening by a prefix that two containers' IDs share is Ambiguous and lists both, on
/// every backend (the daemons refuse such a prefix with a status that does not say why).
fn an_id_prefix_of_two_containers_is_ambiguous(b: Backend) {
    let (h, rt) = setup(b);
    // IDs are random on Docker and Podman: 17 containers surely hold two whose IDs
    // share a first hex digit; on containerd, whose IDs are the names, any two do (and
    // these names end differently, so neither is a prefix of the other).
    let base = h.unique("ambiguous");
    let mut made: Vec<Arc<dyn Container>> = Vec::new();
    let pair = loop {
        let options = CreateOptions {
            image: h.image.clone(),
            name: Some(format!("{base}-{}", made.len())),
            args: vec!["/bin/true".into()],
            ..Default::default()
        };
        let c = h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap();
        let first = c.id().chars().next();
        let twin = made.iter().position(|m| m.id().chars().next() == first);
        made.push(c);
        if let Some(i) = twin {
            break (made[i].id().to_string(), made[made.len() - 1].id().to_string());
        }
        assert!(made.len() <= 17, "17 IDs with 17 first characters");
    };
    let shared = pair.0.chars().zip(pair.1.chars()).take_while(|(x, y)| x == y).count();
    let prefix = &pair.0[..shared];
    h.block_on(async {
        let e = need(rt.containers(), rt.kind(), "opening containers")
            .unwrap()
            .open(prefix)
            .await
            .err()
            .expect("a prefix of two IDs opens nothing");
        assert_eq!(e.kind(), ErrorKind::Ambiguous, "{prefix}: {e}");
        assert!(e.candidates().contains(&pair.0) && e.candidates().contains(&pair.1), "{:?}", e.candidates());
        for c in &made {
            c.delete(false).await.unwrap();
        }
    });
}
