//! Broken input gets its own clear error, never a panic: truncated tars, digest
//! mismatches, missing blobs, bad JSON, wrong media types.

use berth_core::ErrorKind;
use berth_tests::store::PLAIN;
use berth_tests::{gzip, open_err, ImageSpec, Store, TarBuilder};

fn layer() -> Vec<u8> {
    TarBuilder::new().dir("etc").file("etc/a", &vec![b'a'; 5000]).file("etc/b", b"b").finish()
}

/// Opens the single image of `store` (written as a directory) and builds its filesystem.
fn open(store: &Store) -> berth_core::Error {
    let dir = tempfile::tempdir().unwrap();
    store.write_dir(dir.path());
    open_err(&format!("oci://{}", dir.path().display()), "bad")
}

#[test]
fn truncated_layer_tar() {
    let mut tar = layer();
    tar.truncate(700); // inside etc/a's data
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("bad").layer_raw(tar.clone(), PLAIN, tar));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("truncated"), "{err}");
}

#[test]
fn truncated_gzip_stream() {
    let mut blob = gzip(&layer());
    blob.truncate(blob.len() / 2);
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("bad").layer_raw(blob, "application/vnd.oci.image.layer.v1.tar+gzip", layer()));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn layer_digest_mismatch() {
    let mut store = Store::new();
    let added = store.add_image(&ImageSpec::new("bad").layer_plain(layer()));
    // Flip a byte of file data: still a valid tar, but not the blob the manifest names.
    let blob = store.files.get_mut(&Store::blob_path(&added.layer_digests[0])).unwrap();
    blob[1024] ^= 1;
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("digest mismatch"), "{err}");
}

#[test]
fn config_digest_mismatch() {
    let mut store = Store::new();
    let added = store.add_image(&ImageSpec::new("bad").layer_plain(layer()));
    let config = store.files.get_mut(&Store::blob_path(&added.config_digest)).unwrap();
    let last = config.len() - 2;
    config[last] = b' ';
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn missing_blob() {
    let mut store = Store::new();
    let added = store.add_image(&ImageSpec::new("bad").layer_gzip(layer()));
    store.files.remove(&Store::blob_path(&added.layer_digests[0]));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("missing"), "{err}");
}

#[test]
fn bad_json() {
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("bad").layer_gzip(layer()));
    store.files.insert("index.json".into(), b"{\"manifests\": [".to_vec());
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("bad JSON"), "{err}");
}

#[test]
fn layer_with_a_non_layer_media_type() {
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("bad").layer_raw(
        gzip(&layer()),
        "application/vnd.oci.image.config.v1+json",
        layer(),
    ));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("not a layer media type"), "{err}");
}

#[test]
fn layer_whose_content_contradicts_its_media_type() {
    let mut store = Store::new();
    // Declared zstd, stored gzip.
    store.add_image(&ImageSpec::new("bad").layer_raw(
        gzip(&layer()),
        "application/vnd.oci.image.layer.v1.tar+zstd",
        layer(),
    ));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("media type says"), "{err}");
}

#[test]
fn garbage_instead_of_a_tar() {
    let junk = vec![0x42u8; 2048];
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("bad").layer_raw(junk.clone(), PLAIN, junk));
    let err = open(&store);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("checksum"), "{err}");
}

#[test]
fn archive_that_is_not_a_tar_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.tar");
    std::fs::write(&p, vec![7u8; 4096]).unwrap();
    let err = open_err(&format!("oci-archive://{}", p.display()), "x");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let err = open_err("oci-archive:///nonexistent/x.tar", "x");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = open_err(&format!("oci://{}", dir.path().display()), "x");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let err = open_err("nonsense", "x");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}
