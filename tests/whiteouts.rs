//! Whiteouts, opaque directories and hard links, per the OCI layer spec, on layers the
//! tests build byte by byte.

use berth_core::ErrorKind;
use berth_tests::{read_all, squash, tree, TarBuilder};

fn base() -> Vec<u8> {
    TarBuilder::new()
        .dir("etc")
        .file("etc/keep", b"keep")
        .file("etc/gone", b"gone")
        .dir("etc/sub")
        .file("etc/sub/deep", b"deep")
        .dir("data")
        .file("data/a", b"a")
        .file("data/b", b"b")
        .finish()
}

#[test]
fn whiteout_hides_a_lower_file_and_never_shows() {
    let upper = TarBuilder::new().dir("etc").whiteout("etc/gone").finish();
    let (_d, fs) = squash(vec![base(), upper]);
    assert_eq!(fs.stat("/etc/gone").unwrap_err().kind(), ErrorKind::NotFound);
    assert!(fs.stat("/etc/keep").is_ok());
    let names: Vec<_> = fs.read_dir("/etc").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["keep", "sub"]);
}

#[test]
fn whiteout_of_a_directory_hides_its_subtree() {
    let upper = TarBuilder::new().whiteout("etc/sub").finish();
    let (_d, fs) = squash(vec![base(), upper]);
    assert_eq!(fs.stat("/etc/sub/deep").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(fs.stat("/etc/sub").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn file_and_its_own_whiteout_in_one_layer_keep_the_file() {
    let upper = TarBuilder::new().dir("etc").file("etc/gone", b"new").whiteout("etc/gone").finish();
    let (_d, fs) = squash(vec![base(), upper]);
    assert_eq!(read_all(&*fs, "/etc/gone").unwrap(), b"new");
}

#[test]
fn opaque_hides_lower_contents_but_keeps_its_own() {
    // The marker comes after the layer's own entry in the tar: it still applies first.
    let upper = TarBuilder::new().dir("data").file("data/c", b"c").opaque("data").finish();
    let (_d, fs) = squash(vec![base(), upper]);
    let names: Vec<_> = fs.read_dir("/data").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["c"]);
}

#[test]
fn opaque_prefix_lookalike_is_a_plain_whiteout() {
    // `.wh..wh..opqX` hides a file named `.wh..opqX`; it must not wipe the directory.
    let upper = TarBuilder::new().dir("data").file("data/.wh..wh..opqX", b"").finish();
    let (_d, fs) = squash(vec![base(), upper]);
    let names: Vec<_> = fs.read_dir("/data").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["a", "b"]);
}

#[test]
fn markers_in_the_base_layer_never_show() {
    let only = TarBuilder::new().dir("x").file("x/f", b"f").whiteout("x/ghost").opaque("x").finish();
    let (_d, fs) = squash(vec![only]);
    assert_eq!(tree(fs.clone()), vec!["/x", "/x/f"]);
}

#[test]
fn opaque_under_a_lower_symlink_does_not_clear_the_link_target() {
    let lower = TarBuilder::new().dir("real").file("real/important", b"keep me").symlink("link", "real").finish();
    let upper = TarBuilder::new().dir("link").file("link/new", b"n").opaque("link").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    assert_eq!(read_all(&*fs, "/real/important").unwrap(), b"keep me");
    assert!(fs.lstat("/link").unwrap().is_dir());
    let names: Vec<_> = fs.read_dir("/link").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["new"]);
}

#[test]
fn whiteout_under_a_lower_symlink_does_not_delete_through_it() {
    let lower = TarBuilder::new().dir("real").file("real/f", b"f").symlink("link", "real").finish();
    let upper = TarBuilder::new().whiteout("link/f").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    assert_eq!(read_all(&*fs, "/real/f").unwrap(), b"f");
}

#[test]
fn layer_view_lists_its_markers() {
    let upper = TarBuilder::new().dir("etc").whiteout("etc/gone").opaque("data").file("data/z", b"z").finish();
    let dir = tempfile::tempdir().unwrap();
    let mut store = berth_tests::Store::new();
    store.add_image(&berth_tests::ImageSpec::new("t:1").layer_gzip(base()).layer_gzip(upper));
    store.write_dir(dir.path());
    berth_tests::block_on(async {
        let rt =
            berth_core::connect(Some(&format!("oci://{}", dir.path().display())), Default::default()).await.unwrap();
        let image = rt.open_image("t:1").await.unwrap();
        let top = &image.layers()[1];
        let changes = top.changes().unwrap();
        assert_eq!(changes.whiteouts, vec!["etc/gone"]);
        assert_eq!(changes.opaques, vec!["data"]);
        let fs = top.filesystem().unwrap();
        assert_eq!(tree(fs), vec!["/data", "/data/z", "/etc"]);
    });
}

#[test]
fn hardlinks_within_and_across_layers() {
    let lower = TarBuilder::new().dir("bin").file("bin/tool", b"TOOL").hardlink("bin/alias", "bin/tool").finish();
    let upper = TarBuilder::new().dir("usr").hardlink("usr/tool2", "bin/tool").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    assert_eq!(read_all(&*fs, "/bin/alias").unwrap(), b"TOOL");
    assert_eq!(read_all(&*fs, "/usr/tool2").unwrap(), b"TOOL");
    let st = fs.stat("/usr/tool2").unwrap();
    assert_eq!(st.file_type, berth_core::fs::FileType::File);
    assert_eq!(st.size, 4);
}

#[test]
fn hardlink_survives_a_later_whiteout_of_its_target() {
    let lower = TarBuilder::new().file("a", b"data").hardlink("b", "a").finish();
    let upper = TarBuilder::new().whiteout("a").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    assert_eq!(read_all(&*fs, "/b").unwrap(), b"data");
    assert_eq!(fs.stat("/a").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn upper_file_replaces_lower_directory_and_back() {
    let lower = TarBuilder::new().dir("x").file("x/inner", b"i").file("y", b"file").finish();
    let upper = TarBuilder::new().file("x", b"now a file").dir("y").file("y/z", b"z").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    assert_eq!(read_all(&*fs, "/x").unwrap(), b"now a file");
    assert_eq!(fs.stat("/x/inner").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(read_all(&*fs, "/y/z").unwrap(), b"z");
}

#[test]
fn directory_over_directory_merges_and_takes_new_metadata() {
    let lower = TarBuilder::new().dir("d").file("d/old", b"o").finish();
    let meta = berth_tests::tar::Meta { mode: 0o700, uid: 7, gid: 8, mtime: 5 };
    let upper = TarBuilder::new().dir_with("d", meta).file("d/new", b"n").finish();
    let (_d, fs) = squash(vec![lower, upper]);
    let st = fs.stat("/d").unwrap();
    assert_eq!((st.mode, st.uid, st.gid), (0o700, 7, 8));
    assert_eq!(tree(fs), vec!["/d", "/d/new", "/d/old"]);
}
