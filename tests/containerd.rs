//! What only the containerd backend has, against a real containerd (started by
//! tests/harness). The behaviour all daemon backends share is in behaviour.rs.

use std::sync::Arc;

use berth_core::{need, ErrorKind, Runtime};
use berth_tests::harness::{Backend, Harness};

fn setup() -> (Harness, Arc<dyn Runtime>) {
    let h = Harness::from_env();
    let rt = h.connect(Backend::Containerd);
    (h, rt)
}

#[test]
fn snapshots_prepare_mounts_usage_commit_remove() {
    let (h, rt) = setup();
    let s = need(rt.snapshots(), rt.kind(), "snapshots").unwrap().snapshotter(None).unwrap();
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
fn a_stopped_daemon_is_unavailable() {
    let rt =
        berth_tests::block_on(berth_core::connect(Some("containerd:///tmp/berth-no-such.sock"), Default::default()))
            .unwrap();
    let err = berth_tests::block_on(rt.list_images()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.message().contains("is containerd running"), "{err}");
}

#[test]
fn detect_lists_containerd_namespaces() {
    let h = Harness::from_env();
    std::env::set_var("CONTAINERD_ADDRESS", &h.containerd);
    let found = berth_core::detect();
    let d = found.iter().find(|d| d.source == "CONTAINERD_ADDRESS").expect("detected");
    assert!(d.namespaces.contains(&h.namespace), "{:?}", d.namespaces);
}
