//! Faults: containerd restarting under a live runtime handle, and no descriptor leaks.
//! A test binary of its own, one test: a restart would disturb tests running beside it.

use std::time::Duration;

use berth_core::container::CreateOptions;
use berth_core::model::ContainerStatus;
use berth_core::ErrorKind;
use berth_tests::harness::Harness;

#[test]
fn survives_a_containerd_restart_and_leaks_no_descriptors() {
    let h = Harness::from_env();
    let rt = h.block_on(berth_core::connect(Some(&h.containerd_endpoint()), Default::default())).unwrap();
    let options = CreateOptions {
        image: h.image.clone(),
        name: Some(h.unique("restart")),
        args: vec!["/bin/sleep".into(), "60".into()],
        ..Default::default()
    };
    let c = h.block_on(rt.create_container(options)).unwrap();
    h.block_on(c.start()).unwrap();
    h.restart_containerd();
    // The same runtime handle works again, and the running container is still there.
    let mut listed = None;
    for _ in 0..50 {
        match h.block_on(rt.list_containers(&[])) {
            Ok(l) => {
                listed = Some(l);
                break;
            }
            Err(e) => {
                assert!(matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal), "{e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let listed = listed.expect("containerd answers again");
    assert!(listed.iter().any(|x| x.id == c.id() && x.state.status == ContainerStatus::Running));
    h.block_on(c.delete(true)).unwrap();

    // Descriptors: many calls, execs and containers later, no more are open than before.
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let c = h
        .block_on(rt.create_container(CreateOptions {
            image: h.image.clone(),
            name: Some(h.unique("fds")),
            args: vec!["/bin/sleep".into(), "60".into()],
            ..Default::default()
        }))
        .unwrap();
    h.block_on(c.start()).unwrap();
    let run = |n: usize| {
        for _ in 0..n {
            let out = h
                .block_on(c.exec_output(
                    berth_core::container::ExecOptions { args: vec!["/bin/cat".into()], ..Default::default() },
                    Some(b"x".to_vec()),
                    None,
                ))
                .unwrap();
            assert_eq!(out.stdout, b"x");
            h.block_on(rt.list_images()).unwrap();
        }
    };
    run(5); // warm up connections and thread pools
    let before = fds();
    run(30);
    std::thread::sleep(Duration::from_millis(200));
    let after = fds();
    assert!(after <= before + 2, "descriptors grew from {before} to {after} over 30 execs");
    h.block_on(c.delete(true)).unwrap();
}
