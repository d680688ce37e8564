//! Faults: each daemon restarting under a live runtime handle, and no descriptor leaks.
//! A test binary of its own, one test running the daemons one after the other: a restart
//! would disturb tests running beside it (dockerd runs on the harness' containerd).

use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{CreateOptions, ExecOptions};
use berth_core::model::ContainerStatus;
use berth_core::{need, ErrorKind, Runtime};
use berth_tests::harness::{Backend, Harness};

#[test]
fn survives_daemon_restarts_and_leaks_no_descriptors() {
    let h = Harness::from_env();
    for b in [Backend::Containerd, Backend::Docker, Backend::Podman] {
        survives_a_restart(&h, b);
        leaks_no_descriptors(&h, b);
    }
}

fn sleeper(h: &Harness, rt: &Arc<dyn Runtime>, name: &str) -> Arc<dyn berth_core::container::Container> {
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique(name)),
        args: vec!["/bin/sleep".into(), "60".into()],
        ..Default::default()
    };
    let c = h.block_on(need(rt.containers(), rt.kind(), "creating containers").unwrap().create(options)).unwrap();
    h.block_on(c.start()).unwrap();
    c
}

fn survives_a_restart(h: &Harness, b: Backend) {
    let rt = h.connect(b);
    let c = sleeper(h, &rt, "restart");
    h.restart(b);
    // The same runtime handle works again; the container is still there (running on
    // containerd and Podman, whose containers outlive the daemon; dockerd without
    // live-restore stops its containers when it stops).
    let mut listed = None;
    for _ in 0..100 {
        match h.block_on(need(rt.containers(), rt.kind(), "listing containers").unwrap().list(&[])) {
            Ok(l) => {
                listed = Some(l);
                break;
            }
            Err(e) => {
                assert!(matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal), "{b:?}: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let listed = listed.unwrap_or_else(|| panic!("{b:?} answers again"));
    let found = listed.iter().find(|x| x.id == c.id()).unwrap_or_else(|| panic!("{b:?}: container listed"));
    if b != Backend::Docker {
        assert_eq!(found.state.status, ContainerStatus::Running, "{b:?}");
    }
    h.block_on(c.delete(true)).unwrap();
}

fn leaks_no_descriptors(h: &Harness, b: Backend) {
    let rt = h.connect(b);
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let c = sleeper(h, &rt, "fds");
    let run = |n: usize| {
        for _ in 0..n {
            let out = h
                .block_on(c.exec_output(
                    ExecOptions { args: vec!["/bin/cat".into()], ..Default::default() },
                    Some(b"x".to_vec()),
                    None,
                ))
                .unwrap();
            assert_eq!(out.stdout, b"x", "{b:?}");
            h.block_on(rt.list_images()).unwrap();
        }
    };
    run(5); // warm up connections and thread pools
    let before = fds();
    run(30);
    std::thread::sleep(Duration::from_millis(200));
    let after = fds();
    assert!(after <= before + 2, "{b:?}: descriptors grew from {before} to {after} over 30 execs");
    h.block_on(c.delete(true)).unwrap();
}
