//! On-disk stores that try to lead berth out of themselves: OCI layout directories,
//! docker-save directories and archive endpoints holding symlinks, FIFOs, sockets and
//! devices where files should be. None of them may reveal anything about a host file
//! (its content, digest, size or existence), and none may hang.
//!
//! Every call runs under a hang guard: a FIFO opened for reading blocks until a writer
//! comes, so a regression would otherwise stop the suite forever.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use berth_core::model::ImageSummary;
use berth_core::{Error, ErrorKind};
use berth_tests::{block_on, open_fs, sha256_hex, ImageSpec, Store, TarBuilder};
use serde_json::{json, Value};

/// How long one call may take before the test fails instead of hanging CI (a hang
/// guard, not a timing assertion: the calls take milliseconds).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and fails the test if it has not returned within
/// [`HANG_GUARD`]. A thread stuck in `open` is left behind; the test process ends anyway.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hung for {HANG_GUARD:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn list(endpoint: &str) -> berth_core::Result<Vec<ImageSummary>> {
    let ep = endpoint.to_string();
    guarded(&format!("list {endpoint}"), move || {
        block_on(async { berth_core::connect(Some(&ep), Default::default()).await?.list_images().await })
    })
}

/// The image's inspect document (manifest and config included).
fn inspect(endpoint: &str, pattern: &str) -> berth_core::Result<Value> {
    let (ep, pattern) = (endpoint.to_string(), pattern.to_string());
    guarded(&format!("inspect {pattern} in {endpoint}"), move || {
        block_on(async {
            let rt = berth_core::connect(Some(&ep), Default::default()).await?;
            Ok(rt.open_image(&pattern).await?.inspect())
        })
    })
}

/// Opens the image and indexes its layers (which reads every layer blob).
fn filesystem(endpoint: &str, pattern: &str) -> berth_core::Result<()> {
    let (ep, pattern) = (endpoint.to_string(), pattern.to_string());
    guarded(&format!("filesystem of {pattern} in {endpoint}"), move || open_fs(&ep, &pattern).map(|_| ()))
}

fn expect_err<T: std::fmt::Debug>(r: berth_core::Result<T>, what: &str) -> Error {
    match r {
        Ok(v) => panic!("{what} unexpectedly worked: {v:?}"),
        Err(e) => e,
    }
}

/// Asserts `e` is Corrupt and names `rel` as `kind` (the file's own type, never its target).
fn assert_refused(e: &Error, rel: &str, kind: &str) {
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.message().contains(rel), "the error names the file: {e}");
    assert!(e.message().contains(&format!("not a regular file ({kind})")), "{e}");
}

/// Asserts `text` holds none of `secrets`.
fn assert_hides(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{s:?} leaked into: {text}");
    }
}

/// A temp dir with `layout/` (the store) and `host/` (files outside it, standing for the
/// host's own files).
struct Fixture {
    _dir: tempfile::TempDir,
    layout: PathBuf,
    host: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        let host = dir.path().join("host");
        std::fs::create_dir_all(&layout).unwrap();
        std::fs::create_dir_all(&host).unwrap();
        Fixture { _dir: dir, layout, host }
    }

    fn with_store(store: &Store) -> Fixture {
        let f = Fixture::new();
        store.write_dir(&f.layout);
        f
    }

    fn endpoint(&self) -> String {
        format!("oci://{}", self.layout.display())
    }

    /// Writes `data` as a host file named `name` and returns its path.
    fn host_file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.host.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// Replaces `rel` in the layout by a symlink to `target`.
    fn link(&self, rel: &str, target: &Path) {
        let p = self.layout.join(rel);
        remove(&p);
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// Moves `rel` out of the layout into the host dir and links it back: the layout
    /// reads exactly as before, but through a link.
    fn move_out_and_link(&self, rel: &str) -> PathBuf {
        let outside = self.host.join(rel.replace('/', "_"));
        std::fs::rename(self.layout.join(rel), &outside).unwrap();
        std::os::unix::fs::symlink(&outside, self.layout.join(rel)).unwrap();
        outside
    }
}

fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).unwrap(),
        Ok(_) => std::fs::remove_file(p).unwrap(),
        Err(_) => {}
    }
}

fn layer() -> Vec<u8> {
    TarBuilder::new().dir("etc").file("etc/hostname", b"hostile\n").finish()
}

fn one_image() -> (Store, berth_tests::store::Added) {
    let mut store = Store::new();
    let added = store.add_image(&ImageSpec::new("hostile:1").layer_gzip(layer()));
    (store, added)
}

/// A config (valid for an image of one `layer()`) carrying `secret`, standing for a host
/// JSON file an attacker knows well enough to name by digest.
fn secret_config(secret: &str) -> Vec<u8> {
    let spec = ImageSpec::new("hostile:1").layer_gzip(layer());
    let mut c: Value = serde_json::from_slice(&spec.config()).unwrap();
    c["author"] = json!(secret);
    serde_json::to_vec(&c).unwrap()
}

/// Distinctive bytes for a host file: their digest and size must never show.
fn host_bytes() -> Vec<u8> {
    (0..77_777u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

/// Puts a special file of `kind` at `path` (the caller keeps the listener of a socket).
fn make_special(path: &Path, kind: &str) -> Option<std::os::unix::net::UnixListener> {
    remove(path);
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    match kind {
        "a FIFO" => {
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
            None
        }
        "a socket" => Some(std::os::unix::net::UnixListener::bind(path).unwrap()),
        "a character device" => {
            // /dev/null's numbers: harmless if anything ever opened it.
            // SAFETY: a valid NUL-terminated path; mknod needs root, which these tests have.
            let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3)) };
            assert_eq!(r, 0, "mknod {} (these tests run as root): {}", path.display(), std::io::Error::last_os_error());
            None
        }
        other => panic!("unknown special file {other}"),
    }
}

// ---- OCI layouts: links ------------------------------------------------------------

#[test]
fn index_json_that_is_a_symlink_is_refused() {
    let (store, _) = one_image();
    let f = Fixture::with_store(&store);
    let outside = f.move_out_and_link("index.json");
    let e = expect_err(list(&f.endpoint()), "listing through a linked index.json");
    assert_refused(&e, "index.json", "a symlink");
    assert_hides(&e.to_string(), &[&outside.display().to_string()]);
}

#[test]
fn index_json_link_reveals_nothing_about_its_target() {
    // A link to a file that exists and one to a file that does not give the same error.
    let (store, _) = one_image();
    let f = Fixture::with_store(&store);
    let outside = f.move_out_and_link("index.json");
    let existing = expect_err(list(&f.endpoint()), "linked index.json").to_string();
    f.link("index.json", &f.host.join("no-such-file"));
    let dangling = expect_err(list(&f.endpoint()), "dangling index.json").to_string();
    assert_eq!(existing, dangling, "the error must not tell whether {} exists", outside.display());
}

#[test]
fn oci_layout_file_that_is_a_symlink_is_refused() {
    let (store, _) = one_image();
    let f = Fixture::with_store(&store);
    f.move_out_and_link("oci-layout");
    let e = expect_err(list(&f.endpoint()), "listing with a linked oci-layout");
    assert_refused(&e, "oci-layout", "a symlink");
}

#[test]
fn manifest_blob_that_is_a_symlink_is_refused() {
    let (store, added) = one_image();
    let f = Fixture::with_store(&store);
    let rel = Store::blob_path(&added.manifest_digest);
    f.move_out_and_link(&rel);
    let e = expect_err(list(&f.endpoint()), "listing with a linked manifest");
    assert_refused(&e, &rel, "a symlink");
}

#[test]
fn config_blob_linked_to_a_host_json_file_is_never_printed() {
    // The attacker names the host file by its digest, so digest checks alone pass.
    let secret = "host-secret-6b1f0c";
    let config = secret_config(secret);
    let mut store = Store::new();
    let cfg_digest = store.blob(&config);
    let layer_blob = berth_tests::gzip(&layer());
    let layer_digest = store.blob(&layer_blob);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": config.len() },
        "layers": [{ "mediaType": berth_tests::store::GZIP, "digest": layer_digest, "size": layer_blob.len() }],
    }))
    .unwrap();
    let manifest_digest = store.blob(&manifest);
    store.index.push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": manifest.len(),
        "annotations": { "org.opencontainers.image.ref.name": "hostile:1" },
    }));
    let f = Fixture::with_store(&store);
    let host = f.host_file("host.json", &config);
    let rel = Store::blob_path(&cfg_digest);
    f.link(&rel, &host);
    let listed = list(&f.endpoint());
    assert_hides(&format!("{listed:?}"), &[secret]);
    let e = expect_err(inspect(&f.endpoint(), "hostile:1"), "inspect with a linked config");
    assert_refused(&e, &rel, "a symlink");
    assert_hides(&format!("{e:?}"), &[secret, &host.display().to_string()]);
}

#[test]
fn config_blob_link_reveals_neither_digest_nor_size() {
    let (store, added) = one_image();
    let f = Fixture::with_store(&store);
    let data = host_bytes();
    let host = f.host_file("secret.bin", &data);
    let rel = Store::blob_path(&added.config_digest);
    f.link(&rel, &host);
    let e = expect_err(list(&f.endpoint()), "listing with a linked config");
    assert_refused(&e, &rel, "a symlink");
    assert_hides(&e.to_string(), &[&sha256_hex(&data), &data.len().to_string()]);
}

#[test]
fn layer_blob_link_reveals_neither_digest_nor_size_nor_existence() {
    let (store, added) = one_image();
    let f = Fixture::with_store(&store);
    let data = host_bytes();
    let host = f.host_file("secret.bin", &data);
    let rel = Store::blob_path(&added.layer_digests[0]);
    f.link(&rel, &host);
    let e = expect_err(filesystem(&f.endpoint(), "hostile:1"), "reading a linked layer");
    assert_refused(&e, &rel, "a symlink");
    let existing = e.to_string();
    assert_hides(&existing, &[&sha256_hex(&data), &data.len().to_string(), &host.display().to_string()]);
    f.link(&rel, &f.host.join("missing.bin"));
    let dangling = expect_err(filesystem(&f.endpoint(), "hostile:1"), "reading a dangling layer link").to_string();
    assert_eq!(existing, dangling, "the error must not tell whether the target exists");
}

#[test]
fn blobs_directory_that_is_a_symlink_is_refused() {
    let (store, added) = one_image();
    let f = Fixture::with_store(&store);
    f.move_out_and_link("blobs/sha256");
    let e = expect_err(list(&f.endpoint()), "listing through a linked blobs/sha256");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.message().contains(&Store::blob_path(&added.manifest_digest)), "{e}");
    assert!(e.message().contains("blobs/sha256 is not a directory (a symlink)"), "{e}");
}

// ---- OCI layouts: FIFOs, sockets and devices ----------------------------------------

/// `kind` in place of index.json: listing fails promptly, naming the file's type.
fn special_index(kind: &str) {
    let (store, _) = one_image();
    let f = Fixture::with_store(&store);
    let _keep = make_special(&f.layout.join("index.json"), kind);
    let e = expect_err(list(&f.endpoint()), &format!("listing with {kind} as index.json"));
    assert_refused(&e, "index.json", kind);
}

/// `kind` in place of the layer blob: opening the filesystem fails promptly.
fn special_layer(kind: &str) {
    let (store, added) = one_image();
    let f = Fixture::with_store(&store);
    let rel = Store::blob_path(&added.layer_digests[0]);
    let _keep = make_special(&f.layout.join(&rel), kind);
    let e = expect_err(filesystem(&f.endpoint(), "hostile:1"), &format!("reading {kind} as a layer"));
    assert_refused(&e, &rel, kind);
}

#[test]
fn fifo_as_index_json_fails_without_hanging() {
    special_index("a FIFO");
}

#[test]
fn fifo_as_layer_blob_fails_without_hanging() {
    special_layer("a FIFO");
}

#[test]
fn socket_as_index_json_is_refused() {
    special_index("a socket");
}

#[test]
fn socket_as_layer_blob_is_refused() {
    special_layer("a socket");
}

#[test]
fn character_device_as_index_json_is_refused() {
    special_index("a character device");
}

#[test]
fn character_device_as_layer_blob_is_refused() {
    special_layer("a character device");
}

// ---- docker-save directories --------------------------------------------------------

/// A legacy `docker save` directory of one image: `<hex>.json`, `<hex>/layer.tar`,
/// manifest.json. Returns (config path, layer path) relative to the directory.
fn docker_dir(dir: &Path, config: &[u8]) -> (String, String) {
    let tar = layer();
    let config_rel = format!("{}.json", sha256_hex(config));
    let layer_rel = format!("{}/layer.tar", sha256_hex(&tar));
    std::fs::write(dir.join(&config_rel), config).unwrap();
    std::fs::create_dir_all(dir.join(&layer_rel).parent().unwrap()).unwrap();
    std::fs::write(dir.join(&layer_rel), &tar).unwrap();
    let manifest = json!([{ "Config": config_rel, "RepoTags": ["dock:1"], "Layers": [layer_rel] }]);
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    (config_rel, layer_rel)
}

fn docker_config() -> Vec<u8> {
    ImageSpec::new("dock:1").layer_plain(layer()).config()
}

#[test]
fn docker_dir_manifest_json_that_is_a_symlink_is_refused() {
    let f = Fixture::new();
    docker_dir(&f.layout, &docker_config());
    f.move_out_and_link("manifest.json");
    let e = expect_err(list(&f.endpoint()), "listing with a linked manifest.json");
    assert_refused(&e, "manifest.json", "a symlink");
}

#[test]
fn docker_dir_layer_tar_link_reveals_neither_size_nor_content() {
    let f = Fixture::new();
    let (_, layer_rel) = docker_dir(&f.layout, &docker_config());
    let data = host_bytes();
    let host = f.host_file("secret.bin", &data);
    f.link(&layer_rel, &host);
    // Listing sums layer sizes: the host file's size must not be among them.
    let listed = list(&f.endpoint());
    assert_hides(&format!("{listed:?}"), &[&data.len().to_string()]);
    let e = expect_err(filesystem(&f.endpoint(), "dock:1"), "reading a linked layer.tar");
    assert_refused(&e, &layer_rel, "a symlink");
    assert_hides(&e.to_string(), &[&sha256_hex(&data), &data.len().to_string(), &host.display().to_string()]);
}

#[test]
fn docker_dir_config_linked_to_a_host_json_file_is_never_printed() {
    // A legacy config path (`<hex>.json`) is not a digest path, so nothing checks it.
    let secret = "host-secret-docker-91d2";
    let f = Fixture::new();
    let (config_rel, _) = docker_dir(&f.layout, &docker_config());
    let host = f.host_file("daemon.json", &secret_config(secret));
    f.link(&config_rel, &host);
    let listed = list(&f.endpoint());
    assert_hides(&format!("{listed:?}"), &[secret]);
    let e = expect_err(inspect(&f.endpoint(), "dock:1"), "inspect with a linked config");
    assert_refused(&e, &config_rel, "a symlink");
    assert_hides(&format!("{e:?}"), &[secret, &host.display().to_string()]);
}

// ---- archive endpoints --------------------------------------------------------------

/// An archive endpoint naming `kind` is refused as the caller's mistake, promptly.
fn special_archive(kind: &str) {
    let f = Fixture::new();
    let path = f.host.join("image.tar");
    let _keep = make_special(&path, kind);
    for scheme in ["oci-archive", "docker-archive"] {
        let ep = format!("{scheme}://{}", path.display());
        let e = expect_err(list(&ep), &format!("{scheme} on {kind}"));
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains(&format!("not a regular file ({kind})")), "{e}");
    }
}

#[test]
fn archive_endpoint_that_is_a_fifo_fails_without_hanging() {
    special_archive("a FIFO");
}

#[test]
fn archive_endpoint_that_is_a_socket_is_refused() {
    special_archive("a socket");
}

#[test]
fn archive_endpoint_that_is_a_character_device_is_refused() {
    special_archive("a character device");
}

// ---- both resolvers -----------------------------------------------------------------

/// What a probe of openat2 says, done here without berth.
fn kernel_has_openat2() -> bool {
    // SAFETY: open_how is plain data; zeroed asks for nothing.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: a NUL-terminated path and an open_how of the size passed.
    let fd = unsafe {
        libc::syscall(libc::SYS_openat2, libc::AT_FDCWD, c"/".as_ptr(), &how, std::mem::size_of::<libc::open_how>())
    };
    if fd >= 0 {
        // SAFETY: the descriptor was just opened here.
        unsafe { libc::close(fd as i32) };
    }
    fd >= 0
}

#[test]
fn the_resolver_switch_is_honoured() {
    use berth_core::host_dir::{uses_openat2, NO_OPENAT2_ENV};
    let forced = std::env::var_os(NO_OPENAT2_ENV).is_some_and(|v| v == "1");
    assert_eq!(uses_openat2(), !forced && kernel_has_openat2(), "{NO_OPENAT2_ENV} set: {forced}");
}

#[test]
fn every_case_again_with_the_per_component_fallback() {
    // This binary again, with openat2 turned off: every test above must hold for the walk
    // that old kernels, seccomp filters and valgrind get.
    let name = "every_case_again_with_the_per_component_fallback";
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(berth_core::host_dir::NO_OPENAT2_ENV, "1")
        .args(["--skip", name, "--test-threads", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = guarded("the fallback run", move || child.wait_with_output().unwrap());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("test the_resolver_switch_is_honoured ... ok"), "{stdout}");
    assert!(stdout.contains("test fifo_as_layer_blob_fails_without_hanging ... ok"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
