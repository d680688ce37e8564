//! The image filesystem engine against hostile layers (issue 11): memory an image can
//! multiply, quadratic work, layers written through symlinked parents, tar sizes that
//! wrap, and names that are not UTF-8.
//!
//! Memory is proven deterministically: this test binary counts the bytes each thread
//! allocates (a counting global allocator), and the tests that need it run the engine on
//! their own thread — indexing a plain tar and squashing layers both do — and bound the
//! bytes allocated, or the peak of live bytes, against the size of the input.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use berth_core::digest::Digest;
use berth_core::fs::layer::{LayerBlob, LayerIndex, Verify};
use berth_core::fs::{FileSystem, FileType, LayeredFs, Walker};
use berth_core::model::Compression;
use berth_core::ErrorKind;
use berth_tests::{block_on, read_all, squash, tree, ImageSpec, Store, TarBuilder};

// ---------------------------------------------------------------------------------------
// Counting what this thread allocates.

struct Counting;

thread_local! {
    static TOTAL: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn note(grow: i64) {
    // try_with: never fails for these const, destructor-free cells, but an allocator must not panic.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + grow;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    if grow > 0 {
        let _ = TOTAL.try_with(|t| t.set(t.get() + grow as u64));
    }
}

// SAFETY: every call is passed through to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size() as i64);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(l.size() as i64);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as i64));
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        note(new as i64 - l.size() as i64);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What `f` allocated on this thread: all bytes, and the peak of live bytes above the
/// level at the start.
struct Usage {
    total: u64,
    peak: i64,
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let total0 = TOTAL.with(Cell::get);
    let live0 = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live0));
    let out = f();
    let usage = Usage { total: TOTAL.with(Cell::get) - total0, peak: PEAK.with(Cell::get) - live0 };
    (out, usage)
}

const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------
// Helpers: a plain tar indexed on this thread, and filesystems made of such layers.

fn index(tar: Vec<u8>) -> berth_core::Result<Arc<LayerIndex>> {
    let blob = LayerBlob {
        verify: Verify::Blob(Digest::sha256_of(&tar)),
        size: Some(tar.len() as u64),
        source: Arc::new(tar),
        compression: Compression::None,
        what: "test layer".into(),
    };
    LayerIndex::build(&blob).map(Arc::new)
}

fn layered(layers: Vec<Vec<u8>>) -> LayeredFs {
    LayeredFs::new("test", layers.into_iter().map(|t| index(t).unwrap()).collect())
}

fn names(fs: &dyn FileSystem, dir: &str) -> Vec<String> {
    fs.read_dir(dir).unwrap().into_iter().map(|e| e.name).collect()
}

fn image_dir(spec: &ImageSpec) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.add_image(spec);
    store.write_dir(dir.path());
    dir
}

fn open_image(dir: &tempfile::TempDir, name: &str) -> berth_core::Image {
    block_on(async {
        let rt = berth_core::connect(Some(&format!("oci://{}", dir.path().display())), Default::default()).await?;
        rt.open_image(name).await
    })
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. Memory an image can multiply.

#[test]
fn a_global_xattr_is_shared_by_the_entries_not_copied_into_each() {
    let value = vec![b'v'; 256 << 10];
    let mut t = TarBuilder::new().global_pax(&[(b"SCHILY.xattr.user.big", &value)]);
    for i in 0..100 {
        t = t.file(&format!("f{i:03}"), b"x");
    }
    let tar = t.finish();
    let input = tar.len() as u64;
    let (fs, usage) = measure(|| {
        let fs = layered(vec![tar]);
        let listed = fs.read_dir("/").unwrap();
        for e in &listed {
            assert!(e.stat.xattrs["user.big"][..] == value[..], "{} lacks the global xattr", e.name);
            let st = fs.stat(&format!("/{}", e.name)).unwrap();
            assert_eq!(st.xattrs["user.big"].len(), value.len());
        }
        assert_eq!(listed.len(), 100);
        fs
    });
    drop(fs);
    eprintln!("global xattr: {} bytes allocated for a {input}-byte layer", usage.total);
    // 100 entries × 256 KiB would be 25 MiB per copy: indexing, listing and 100 stats
    // stay within a few times the 0.3 MiB input.
    assert!(usage.total < 8 * MIB, "allocated {} bytes for a {input}-byte layer", usage.total);
}

#[test]
fn xattrs_past_the_per_layer_limit_are_corrupt() {
    let value = vec![b'v'; 1 << 20];
    let mut t = TarBuilder::new().global_pax(&[(b"SCHILY.xattr.user.big", &value)]);
    for i in 0..100 {
        t = t.file(&format!("f{i:03}"), b"x");
    }
    let err = index(t.finish()).err().expect("a layer whose entries carry 100 MiB of xattrs is refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("extended attributes"), "{err}");
}

#[test]
fn a_self_expanding_symlink_fails_at_the_path_length_limit() {
    // x -> x/x/x/...: every hop would push 64 KiB more.
    let target = vec!["x"; 32 << 10].join("/");
    let fs = layered(vec![TarBuilder::new().pax_symlink("x", target.as_bytes()).finish()]);
    let (err, usage) = measure(|| fs.stat("/x").unwrap_err());
    eprintln!("self-expanding link: {} bytes allocated", usage.total);
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.message().contains("file name too long"), "{err}");
    assert!(usage.total < MIB, "resolving allocated {} bytes", usage.total);
    // lstat does not follow it, and readlink shows it whole.
    assert_eq!(fs.lstat("/x").unwrap().file_type, FileType::Symlink);
    assert_eq!(fs.readlink("/x").unwrap().len(), target.len());
}

#[test]
fn a_deep_tree_is_walked_in_memory_proportional_to_its_depth() {
    let depth = 5000;
    let deep = format!("{}f", "d/".repeat(depth));
    let fs: Arc<dyn FileSystem> =
        Arc::new(layered(vec![TarBuilder::new().pax_file(&deep, b"bottom", &[("path", deep.as_bytes())]).finish()]));
    let ((count, last), usage) = measure(|| {
        let mut count = 0;
        let mut last = String::new();
        for e in Walker::new(fs.clone(), "/") {
            let e = e.unwrap();
            count += 1;
            last = e.path;
        }
        (count, last)
    });
    eprintln!("deep walk: peak {} live bytes for a {}-byte path", usage.peak, deep.len());
    assert_eq!(count, depth + 2, "the root, {depth} directories and the file");
    assert_eq!(last, format!("/{deep}"));
    // Keeping every ancestor's full path would hold depth²/... = 25 MB at once.
    assert!(usage.peak < MIB as i64, "the walk held {} bytes at its peak for a {}-byte path", usage.peak, deep.len());
    // The deepest names resolve, list and open by the path the walk gave.
    assert_eq!(read_all(&*fs, &last).unwrap(), b"bottom");
    assert_eq!(names(&*fs, &format!("/{}", "d/".repeat(depth))), vec!["f"]);
}

#[test]
fn a_blob_listed_many_times_is_indexed_once() {
    let mut spec = ImageSpec::new("dup:1");
    for _ in 0..50 {
        spec = spec.layer_gzip(TarBuilder::new().dir("etc").file("etc/id", b"same").finish());
    }
    let dir = image_dir(&spec);
    let image = open_image(&dir, "dup:1");
    let fs = image.filesystem().unwrap();
    assert_eq!(read_all(&*fs, "/etc/id").unwrap(), b"same");
    let layers = image.layers();
    let first = layers[0].index().unwrap();
    for l in &layers[1..] {
        assert!(Arc::ptr_eq(&first, &l.index().unwrap()), "each listing of one blob shares one index");
    }
}

#[test]
fn an_image_with_more_layers_than_overlayfs_mounts_is_refused() {
    let mut spec = ImageSpec::new("tall:1");
    for i in 0..501 {
        spec = spec.layer_plain(TarBuilder::new().file(&format!("f{i}"), b"x").finish());
    }
    let dir = image_dir(&spec);
    let image = open_image(&dir, "tall:1");
    let err = image.filesystem().err().expect("501 layers are refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("500 layers"), "{err}");
}

fn thousand_files(dir: &str) -> Vec<u8> {
    let mut t = TarBuilder::new().dir(dir);
    for i in 0..1000 {
        t = t.file(&format!("{dir}/file-{i:04}"), b"x");
    }
    t.finish()
}

#[test]
fn a_layer_repeated_back_to_back_costs_no_more_than_twice() {
    let ix = index(thousand_files("d")).unwrap();
    let (fs, usage) = measure(|| LayeredFs::new("repeated", vec![ix.clone(); 300]));
    eprintln!("repeated layer: {} bytes allocated", usage.total);
    assert_eq!(names(&fs, "/d").len(), 1000);
    // 300 applications of 1000 entries would allocate 300 times a tree.
    assert!(usage.total < 4 * MIB, "squashing allocated {} bytes", usage.total);
}

#[test]
fn alternating_layers_recycle_what_they_remove() {
    let a = index(thousand_files("d")).unwrap();
    let b = index(TarBuilder::new().whiteout("d").finish()).unwrap();
    let mut layers = Vec::new();
    for _ in 0..100 {
        layers.push(a.clone());
        layers.push(b.clone());
    }
    layers.push(a.clone());
    let (fs, usage) = measure(|| LayeredFs::new("alternating", layers));
    eprintln!("alternating layers: peak {} live bytes", usage.peak);
    assert_eq!(names(&fs, "/d").len(), 1000);
    // Nodes a whiteout removes are reused: the tree never holds more than one copy.
    assert!(usage.peak < 2 * MIB as i64, "squashing held {} bytes at its peak", usage.peak);
}

// ---------------------------------------------------------------------------------------
// 2. Quadratic work. These assert the result only; the report gives the times
// (the unfixed engine needed minutes for each).

#[test]
fn a_pax_1_0_sparse_map_with_many_pairs_is_parsed_once() {
    let n = 400_000u64;
    let segs: Vec<(u64, Vec<u8>)> = (0..n).map(|i| (i * 2, vec![b'a' + (i % 26) as u8])).collect();
    let refs: Vec<(u64, &[u8])> = segs.iter().map(|(o, d)| (*o, &d[..])).collect();
    let fs = layered(vec![TarBuilder::new().pax_sparse("sparse", 2 * n, &refs).finish()]);
    let f = fs.open("/sparse").unwrap();
    assert_eq!(f.len(), 2 * n);
    for i in [0, 1, n / 2, n - 1] {
        let mut b = [9u8; 2];
        assert_eq!(f.read_at(&mut b[..1], 2 * i).unwrap(), 1);
        assert_eq!(f.read_at(&mut b[1..], 2 * i + 1).unwrap(), 1);
        assert_eq!(b, [b'a' + (i % 26) as u8, 0], "segment {i}");
    }
}

#[test]
fn a_file_of_many_sparse_segments_is_read_without_rescanning_them() {
    let n = 200_000u64;
    let segs: Vec<(u64, Vec<u8>)> = (0..n).map(|i| (i * 3 + 1, vec![b'a' + (i % 26) as u8])).collect();
    let refs: Vec<(u64, &[u8])> = segs.iter().map(|(o, d)| (*o, &d[..])).collect();
    let fs = layered(vec![TarBuilder::new().gnu_sparse("sparse", 3 * n, &refs).finish()]);
    let got = read_all(&fs, "/sparse").unwrap();
    let mut want = vec![0u8; 3 * n as usize];
    for (o, d) in &segs {
        want[*o as usize] = d[0];
    }
    assert!(got == want, "content differs");
}

// ---------------------------------------------------------------------------------------
// 3. A layer that writes through a symlinked parent.

fn base_with_etc() -> TarBuilder {
    TarBuilder::new().dir("etc").file("etc/passwd", b"old passwd").file("etc/hosts", b"old hosts")
}

#[test]
fn an_entry_under_a_lower_symlink_lands_in_the_link_target() {
    for target in ["/etc", "../etc", "etc", "/../../etc/", "./etc/."] {
        let lower = base_with_etc().symlink("x", target).finish();
        let upper = TarBuilder::new().file("x/passwd", b"new passwd").finish();
        let (_d, fs) = squash(vec![lower, upper]);
        assert_eq!(read_all(&*fs, "/etc/passwd").unwrap(), b"new passwd", "x -> {target}");
        assert_eq!(read_all(&*fs, "/etc/hosts").unwrap(), b"old hosts", "x -> {target}");
        assert_eq!(fs.lstat("/x").unwrap().file_type, FileType::Symlink, "x -> {target} stays a link");
        assert_eq!(tree(fs.clone()), vec!["/etc", "/etc/hosts", "/etc/passwd", "/x"], "x -> {target}");
    }
}

#[test]
fn a_link_inside_the_same_layer_is_followed_too() {
    let layer = base_with_etc().symlink("x", "/etc").file("x/shadow", b"in etc").finish();
    let fs = layered(vec![layer]);
    assert_eq!(read_all(&fs, "/etc/shadow").unwrap(), b"in etc");
    assert_eq!(fs.lstat("/x").unwrap().file_type, FileType::Symlink);
}

#[test]
fn an_entry_replacing_the_link_itself_replaces_it() {
    // The last component is never followed: `x/` replaces the link, `x/passwd` lands in it.
    let lower = base_with_etc().symlink("x", "/etc").finish();
    let upper = TarBuilder::new().dir("x").file("x/passwd", b"in x").finish();
    let fs = layered(vec![lower, upper]);
    assert!(fs.lstat("/x").unwrap().is_dir());
    assert_eq!(read_all(&fs, "/x/passwd").unwrap(), b"in x");
    assert_eq!(read_all(&fs, "/etc/passwd").unwrap(), b"old passwd");
}

#[test]
fn missing_directories_behind_a_link_are_created() {
    let lower = TarBuilder::new().symlink("y", "/made/here").symlink("z", "nothere/../etc").dir("etc").finish();
    let upper = TarBuilder::new().file("y/f", b"f").file("z/g", b"g").finish();
    let fs = layered(vec![lower, upper]);
    assert_eq!(read_all(&fs, "/made/here/f").unwrap(), b"f");
    assert!(fs.lstat("/made").unwrap().is_dir());
    assert_eq!(read_all(&fs, "/etc/g").unwrap(), b"g");
    assert_eq!(fs.lstat("/nothere").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(fs.lstat("/y").unwrap().file_type, FileType::Symlink);
}

#[test]
fn a_parent_that_does_not_resolve_to_a_directory_is_taken_lexically() {
    // A loop, a link to a file, a link that grows too long: the runtimes refuse the layer;
    // berth places the entry where its path says, so it still shows.
    let long = vec!["g"; 3000].join("/");
    let lower = TarBuilder::new()
        .symlink("loop1", "loop2")
        .symlink("loop2", "loop1")
        .file("file", b"a file")
        .symlink("tofile", "/file")
        .pax_symlink("g", long.as_bytes())
        .finish();
    let upper = TarBuilder::new().file("loop1/a", b"a").file("tofile/b", b"b").file("g/c", b"c").finish();
    let fs = layered(vec![lower, upper]);
    assert_eq!(read_all(&fs, "/loop1/a").unwrap(), b"a");
    assert_eq!(read_all(&fs, "/tofile/b").unwrap(), b"b");
    assert_eq!(read_all(&fs, "/g/c").unwrap(), b"c");
    assert_eq!(read_all(&fs, "/file").unwrap(), b"a file");
    assert_eq!(fs.lstat("/loop2").unwrap().file_type, FileType::Symlink);
}

#[test]
fn whiteouts_under_a_link_that_stays_a_link_do_not_go_through_it() {
    let lower = base_with_etc().symlink("x", "/etc").finish();
    let upper = TarBuilder::new().whiteout("x/passwd").opaque("x").finish();
    let fs = layered(vec![lower, upper]);
    assert_eq!(read_all(&fs, "/etc/passwd").unwrap(), b"old passwd");
    assert_eq!(names(&fs, "/etc"), vec!["hosts", "passwd"]);
    assert_eq!(fs.lstat("/x").unwrap().file_type, FileType::Symlink);
}

#[test]
fn hard_links_resolve_their_target_through_symlinked_parents() {
    let lower = base_with_etc().symlink("x", "/etc").symlink("l", "etc/hosts").finish();
    let upper = TarBuilder::new().hardlink("copy", "x/passwd").hardlink("samelink", "l").finish();
    let fs = layered(vec![lower, upper]);
    assert_eq!(read_all(&fs, "/copy").unwrap(), b"old passwd");
    // A hard link to a symlink is a second symlink (link(2) does not follow it).
    let st = fs.lstat("/samelink").unwrap();
    assert_eq!((st.file_type, st.link.as_deref()), (FileType::Symlink, Some("etc/hosts")));
}

// ---------------------------------------------------------------------------------------
// 4. Tar sizes.

/// A header whose size field is `field`, then a header that only a reader misled by the
/// size would take for an entry.
fn smuggling_layer(field: [u8; 12]) -> Vec<u8> {
    let smuggled = TarBuilder::new().file("smuggled", b"hidden").finish();
    TarBuilder::new().file_with_size_field("carrier", field, &smuggled[..1024]).finish()
}

#[test]
fn a_base256_size_of_2_64_minus_1_is_corrupt() {
    let mut field = [0u8; 12];
    field[0] = 0x80;
    field[4..].fill(0xff);
    let err = index(smuggling_layer(field)).err().expect("a size of 2^64 - 1 is refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn a_negative_base256_size_is_corrupt() {
    let err = index(smuggling_layer([0xff; 12])).err().expect("a negative size is refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("negative"), "{err}");
}

#[test]
fn negative_base256_mtimes_are_before_1970() {
    let fs = layered(vec![TarBuilder::new().file_base256_mtime("old", b"x", -86_400).finish()]);
    assert_eq!(fs.stat("/old").unwrap().mtime, -86_400);
}

#[test]
fn layer_sizes_that_add_up_past_2_64_are_corrupt() {
    let mut store = Store::new();
    let spec = ImageSpec::new("huge:1").layer_plain(TarBuilder::new().file("f", b"x").finish());
    let config = store.blob(&spec.config());
    let layer = serde_json::json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar",
        "digest": format!("sha256:{}", "0".repeat(64)),
        "size": 1u64 << 62,
    });
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config,
                    "size": spec.config().len() },
        "layers": [layer, layer, layer, layer],
    }))
    .unwrap();
    let digest = store.blob(&manifest);
    store.index.push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": manifest.len(),
        "annotations": { "org.opencontainers.image.ref.name": "huge:1" },
    }));
    let dir = tempfile::tempdir().unwrap();
    store.write_dir(dir.path());
    let listed = block_on(async {
        berth_core::connect(Some(&format!("oci://{}", dir.path().display())), Default::default())
            .await
            .unwrap()
            .list_images()
            .await
    });
    let err = listed.expect_err("4 × 2^62 bytes of layers cannot be summed");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

// ---------------------------------------------------------------------------------------
// 5. Names that are not UTF-8.

#[test]
fn names_that_are_not_utf8_stay_distinct_and_open() {
    let layer = TarBuilder::new()
        .file_named(b"bad\xff", b"first")
        .file_named(b"bad\xfe", b"second")
        .file_named(b"lit\\xff", b"literal backslash-x-f-f")
        .file("dev-foo\\x2dbar.swap", b"systemd")
        .symlink_named(b"link\xff", b"bad\xfe")
        .finish();
    let fs: Arc<dyn FileSystem> = Arc::new(layered(vec![layer]));
    let listed = names(&*fs, "/");
    assert_eq!(listed, vec!["bad\\xfe", "bad\\xff", "dev-foo\\x2dbar.swap", "link\\xff", "lit\\\\xff"]);
    assert_eq!(read_all(&*fs, "/bad\\xff").unwrap(), b"first");
    assert_eq!(read_all(&*fs, "/bad\\xfe").unwrap(), b"second");
    assert_eq!(read_all(&*fs, "/lit\\\\xff").unwrap(), b"literal backslash-x-f-f");
    assert_eq!(read_all(&*fs, "/dev-foo\\x2dbar.swap").unwrap(), b"systemd");
    assert_eq!(fs.readlink("/link\\xff").unwrap(), "bad\\xfe");
    assert_eq!(read_all(&*fs, "/link\\xff").unwrap(), b"second");
    // Whatever a walk lists opens or stats by that string.
    for path in tree(fs.clone()) {
        assert!(fs.lstat(&path).is_ok(), "{path}");
    }
}

#[test]
fn whiteouts_and_xattr_names_keep_their_bytes() {
    let lower = TarBuilder::new().file_named(b"bad\xff", b"first").file_named(b"bad\xfe", b"second").finish();
    let upper = TarBuilder::new()
        .file_named(b".wh.bad\xff", b"")
        .pax_file_raw("attrs", b"a", &[(b"SCHILY.xattr.user.\xff", b"v")])
        .finish();
    let fs = layered(vec![lower, upper]);
    assert_eq!(names(&fs, "/"), vec!["attrs", "bad\\xfe"]);
    let st = fs.stat("/attrs").unwrap();
    assert_eq!(st.xattrs.keys().collect::<Vec<_>>(), vec!["user.\\xff"]);
}
