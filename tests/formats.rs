//! Image stores and layer encodings: OCI layouts, oci-archive, docker-archive (legacy
//! and OCI-inside), several images per archive, multi-platform indexes, gzip / zstd
//! (both media types) / plain layers, and the tar header forms (PAX, GNU long names,
//! base-256, sparse, xattrs, devices), plus random access in large files.

use std::io::{Read, Seek, SeekFrom};

use berth_core::fs::FileType;
use berth_core::model::Compression;
use berth_core::ErrorKind;
use berth_tests::store::{docker_archive, host_arch};
use berth_tests::{block_on, open_err, open_fs, read_all, tree, ImageSpec, Store, TarBuilder};

fn simple_layer(tag: &str) -> Vec<u8> {
    TarBuilder::new().dir("etc").file("etc/id", tag.as_bytes()).finish()
}

fn list(endpoint: &str) -> Vec<berth_core::model::ImageSummary> {
    block_on(async { berth_core::connect(Some(endpoint), Default::default()).await?.list_images().await }).unwrap()
}

#[test]
fn oci_archive_with_several_images() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("example.com/one:1").layer_gzip(simple_layer("one")));
    store.add_image(&ImageSpec::new("example.com/two:2").layer_zstd(simple_layer("two")));
    let path = dir.path().join("x.tar");
    std::fs::write(&path, store.to_tar()).unwrap();
    let ep = format!("oci-archive://{}", path.display());
    let images = list(&ep);
    assert_eq!(images.len(), 2);
    assert_eq!(read_all(&*open_fs(&ep, "one").unwrap(), "/etc/id").unwrap(), b"one");
    assert_eq!(read_all(&*open_fs(&ep, "example.com/two:2").unwrap(), "/etc/id").unwrap(), b"two");
}

#[test]
fn relative_archive_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("rel:1").layer_gzip(simple_layer("rel")));
    std::fs::write(dir.path().join("r.tar"), store.to_tar()).unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    assert_eq!(read_all(&*open_fs("oci-archive://r.tar", "rel").unwrap(), "/etc/id").unwrap(), b"rel");
}

#[test]
fn docker_archive_legacy_with_shared_layer_symlink() {
    let shared = simple_layer("shared");
    let a = ImageSpec::new("a").layer_plain(shared.clone()).layer_plain(TarBuilder::new().file("a", b"A").finish());
    let b = ImageSpec::new("b").layer_plain(shared).layer_plain(TarBuilder::new().file("b", b"B").finish());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("save.tar");
    std::fs::write(&path, docker_archive(&[("alpha:1", &a), ("beta:2", &b)], true)).unwrap();
    let ep = format!("docker-archive://{}", path.display());
    let images = list(&ep);
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].repo_tags, vec!["alpha:1"]);
    let fs = open_fs(&ep, "beta:2").unwrap();
    assert_eq!(tree(fs.clone()), vec!["/b", "/etc", "/etc/id"]);
    assert_eq!(read_all(&*fs, "/etc/id").unwrap(), b"shared");
}

#[test]
fn docker_archive_layers_without_media_type_are_sniffed() {
    // docker-archive records no media type: gzip and zstd layers are found by their magic.
    let spec = ImageSpec::new("c")
        .layer_gzip(TarBuilder::new().file("gz", b"gzip").finish())
        .layer_zstd(TarBuilder::new().file("zs", b"zstd").finish())
        .layer_plain(TarBuilder::new().file("pl", b"plain").finish());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("save.tar");
    std::fs::write(&path, docker_archive(&[("compressed:1", &spec)], true)).unwrap();
    let ep = format!("docker-archive://{}", path.display());
    let fs = open_fs(&ep, "compressed").unwrap();
    assert_eq!(read_all(&*fs, "/gz").unwrap(), b"gzip");
    assert_eq!(read_all(&*fs, "/zs").unwrap(), b"zstd");
    assert_eq!(read_all(&*fs, "/pl").unwrap(), b"plain");
    let image = block_on(async {
        berth_core::connect(Some(&ep), Default::default()).await.unwrap().open_image("compressed").await.unwrap()
    });
    let kinds: Vec<_> = image.layers().iter().map(|l| l.info().compression).collect();
    assert_eq!(kinds, vec![Compression::Gzip, Compression::Zstd, Compression::None]);
}

#[test]
fn docker_archive_oci_inside_variant() {
    let spec = ImageSpec::new("n").layer_plain(simple_layer("new-docker"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("save.tar");
    std::fs::write(&path, docker_archive(&[("newdocker:25", &spec)], false)).unwrap();
    let ep = format!("docker-archive://{}", path.display());
    assert_eq!(read_all(&*open_fs(&ep, "newdocker").unwrap(), "/etc/id").unwrap(), b"new-docker");
}

#[test]
fn multi_platform_index_picks_the_host_then_the_requested_platform() {
    let dir = tempfile::tempdir().unwrap();
    let other = if host_arch() == "amd64" { "arm64" } else { "amd64" };
    let mut store = Store::new();
    store.add_multi_platform(
        "multi:1",
        &[
            ImageSpec::unnamed().platform("linux", other, None).layer_gzip(simple_layer(other)),
            ImageSpec::unnamed().platform("linux", host_arch(), None).layer_gzip(simple_layer("host")),
        ],
    );
    store.write_dir(dir.path());
    let ep = format!("oci://{}", dir.path().display());
    assert_eq!(read_all(&*open_fs(&ep, "multi").unwrap(), "/etc/id").unwrap(), b"host");
    let fs = block_on(async {
        let opts = berth_core::ConnectOptions { platform: Some(format!("linux/{other}")), ..Default::default() };
        let rt = berth_core::connect(Some(&ep), opts).await.unwrap();
        let image = rt.open_image("multi:1").await.unwrap();
        assert_eq!(image.summary().platform.as_ref().unwrap().architecture, other);
        image.filesystem().unwrap()
    });
    assert_eq!(read_all(&*fs, "/etc/id").unwrap(), other.as_bytes());
    // The platform also comes from the endpoint string.
    let ep2 = format!("{ep}?platform=linux/{other}");
    assert_eq!(read_all(&*open_fs(&ep2, "multi").unwrap(), "/etc/id").unwrap(), other.as_bytes());
    // A platform the index lacks: no image.
    let ep3 = format!("{ep}?platform=linux/s390x");
    assert_eq!(open_err(&ep3, "multi").kind(), ErrorKind::NotFound);
}

#[test]
fn every_compression_by_media_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    let spec = ImageSpec::new("c:1")
        .layer_gzip(TarBuilder::new().file("gz", b"gzip layer").finish())
        .layer_zstd(TarBuilder::new().file("zs", b"oci zstd layer").finish())
        .layer_zstd_docker(TarBuilder::new().file("zd", b"docker zstd layer").finish())
        .layer_plain(TarBuilder::new().file("pl", b"plain layer").finish());
    store.add_image(&spec);
    store.write_dir(dir.path());
    let ep = format!("oci://{}", dir.path().display());
    let fs = open_fs(&ep, "c:1").unwrap();
    for (p, want) in
        [("/gz", "gzip layer"), ("/zs", "oci zstd layer"), ("/zd", "docker zstd layer"), ("/pl", "plain layer")]
    {
        assert_eq!(read_all(&*fs, p).unwrap(), want.as_bytes());
    }
    let image = block_on(async {
        berth_core::connect(Some(&ep), Default::default()).await.unwrap().open_image("c").await.unwrap()
    });
    let kinds: Vec<_> = image.layers().iter().map(|l| l.info().compression).collect();
    assert_eq!(kinds, vec![Compression::Gzip, Compression::Zstd, Compression::Zstd, Compression::None]);
}

#[test]
fn tar_header_forms() {
    let long = format!("deep/{}/file.txt", "d".repeat(150));
    let pax_long = format!("pax/{}/x", "p".repeat(200));
    let layer = TarBuilder::new()
        .gnu_long_file(&long, b"gnu long")
        .pax_file(
            &pax_long,
            b"pax long",
            &[("path", pax_long.as_bytes()), ("uid", b"123456789"), ("mtime", b"1700000000.25")],
        )
        .pax_file(
            "xattr-file",
            b"x",
            &[("SCHILY.xattr.user.comment", b"hello"), ("SCHILY.xattr.security.capability", &[1, 0, 0, 2])],
        )
        .base256_file("b256", b"base-256 size")
        .char_device("dev/null", 1, 3)
        .fifo("fifo")
        .finish();
    let (_d, fs) = berth_tests::squash(vec![layer]);
    assert_eq!(read_all(&*fs, &long).unwrap(), b"gnu long");
    assert_eq!(read_all(&*fs, &pax_long).unwrap(), b"pax long");
    let st = fs.stat(&pax_long).unwrap();
    assert_eq!((st.uid, st.mtime, st.mtime_nsec), (123456789, 1700000000, 250_000_000));
    let st = fs.stat("/xattr-file").unwrap();
    assert_eq!(st.xattrs["user.comment"], b"hello");
    assert_eq!(st.xattrs["security.capability"], vec![1, 0, 0, 2]);
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["xattrs"]["security.capability"], "base64:AQAAAg==");
    assert_eq!(read_all(&*fs, "/b256").unwrap(), b"base-256 size");
    let st = fs.stat("/dev/null").unwrap();
    assert_eq!((st.file_type, st.dev_major, st.dev_minor), (FileType::Char, 1, 3));
    assert_eq!(fs.stat("/fifo").unwrap().file_type, FileType::Fifo);
}

#[test]
fn sparse_files_old_gnu_and_pax_1_0() {
    let segs: Vec<(u64, Vec<u8>)> = (0..30).map(|i| (i * 10_000, vec![b'a' + (i % 26) as u8; 100])).collect();
    let seg_refs: Vec<(u64, &[u8])> = segs.iter().map(|(o, d)| (*o, d.as_slice())).collect();
    let real = 300_000u64;
    let nine_gib = 9u64 << 30;
    let layer = TarBuilder::new()
        .gnu_sparse("old-sparse", real, &seg_refs)
        .pax_sparse("pax-sparse", real, &seg_refs)
        .pax_sparse("huge-sparse", nine_gib, &[(nine_gib - 4, b"tail")])
        .finish();
    let (_d, fs) = berth_tests::squash(vec![layer]);
    let mut expect = vec![0u8; real as usize];
    for (o, d) in &segs {
        expect[*o as usize..*o as usize + d.len()].copy_from_slice(d);
    }
    for p in ["/old-sparse", "/pax-sparse"] {
        assert_eq!(fs.stat(p).unwrap().size, real);
        assert!(read_all(&*fs, p).unwrap() == expect, "{p} content differs");
    }
    // A file over 8 GiB, read at its end without reading what comes before.
    let f = fs.open("/huge-sparse").unwrap();
    assert_eq!(f.len(), nine_gib);
    let mut buf = [0u8; 8];
    let n = f.read_at(&mut buf, nine_gib - 8).unwrap();
    assert_eq!(&buf[..n], &[0, 0, 0, 0][..n.min(4)]);
    let mut tail = [0u8; 4];
    f.read_at(&mut tail, nine_gib - 4).unwrap();
    assert_eq!(&tail, b"tail");
}

/// A deterministic pseudo-random stream that compresses a little, like real binaries.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 3 == 0 {
                b'a' + (x % 4) as u8
            } else {
                x as u8
            }
        })
        .collect()
}

#[test]
fn random_access_in_large_files_of_every_compression() {
    let big = noise(24 << 20, 7);
    let tar = TarBuilder::new().file("small", b"s").file("big", &big).file("after", b"after").finish();
    for spec in [
        ImageSpec::new("r:1").layer_gzip(tar.clone()),
        ImageSpec::new("r:1").layer_zstd(tar.clone()),
        ImageSpec::new("r:1").layer_plain(tar.clone()),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::new();
        store.add_image(&spec);
        store.write_dir(dir.path());
        let fs = open_fs(&format!("oci://{}", dir.path().display()), "r").unwrap();
        let mut f = fs.open("/big").unwrap();
        // Backwards, forwards, across the end: each read must match.
        for &off in &[20u64 << 20, 5 << 20, 23 << 20, 1, (24 << 20) - 3, 12 << 20] {
            let mut buf = vec![0u8; 70_000];
            let n = f.read_at(&mut buf, off).unwrap();
            let end = (off as usize + n).min(big.len());
            assert!(n > 0 && buf[..n] == big[off as usize..end], "read_at {off} ({})", spec.layers[0].media_type);
        }
        let mut buf = [0u8; 10];
        assert_eq!(f.read_at(&mut buf, 24 << 20).unwrap(), 0, "read past the end");
        f.seek(SeekFrom::End(-5)).unwrap();
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &big[big.len() - 5..]);
        assert!(f.seek(SeekFrom::Current(-100_000_000)).is_err());
        assert_eq!(read_all(&*fs, "/after").unwrap(), b"after");
    }
}

#[test]
fn find_rules_through_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    let a = store.add_image(&ImageSpec::new("docker.io/library/busybox:1.36").layer_gzip(simple_layer("a")));
    store.add_image(&ImageSpec::new("example.com/tools/busybox:v2").layer_gzip(simple_layer("b")));
    store.write_dir(dir.path());
    let ep = format!("oci://{}", dir.path().display());
    let find =
        |p: &str| block_on(async { berth_core::connect(Some(&ep), Default::default()).await?.find_images(p).await });
    assert_eq!(find(&a.config_digest).unwrap().len(), 1);
    assert_eq!(find(&a.config_digest[7..19]).unwrap().len(), 1);
    assert_eq!(find("busybox").unwrap().len(), 2);
    assert_eq!(find("tools/busybox").unwrap().len(), 1);
    assert_eq!(find("busybox:1.36").unwrap().len(), 1);
    assert_eq!(find(&format!("busybox@{}", a.manifest_digest)).unwrap().len(), 1);
    let err = open_err(&ep, "busybox");
    assert_eq!(err.kind(), ErrorKind::Ambiguous);
    assert_eq!(err.candidates().len(), 2);
}
