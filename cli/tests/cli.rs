//! The CLI's contract with scripts: output shapes, exit codes and stderr messages.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use berth_tests::{sha256_hex, ImageSpec, Store, TarBuilder};
use serde_json::Value;

fn sample() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample/sample.oci.tar");
    format!("oci-archive://{}", p.display())
}

fn berth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth")).env_remove("BERTH_RUNTIME").args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = berth(args);
    assert!(out.status.success(), "berth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn ls_json_has_the_documented_fields() {
    let s = sample();
    let rows = json_lines(&ok(&["--runtime", &s, "ls", "-R", "--json", "sample", "/"]));
    assert!(rows.len() > 10);
    for r in &rows {
        for k in ["path", "type", "mode", "uid", "gid", "size", "link"] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
    }
    let link = rows.iter().find(|r| r["path"] == "/etc/os-release").unwrap();
    assert_eq!(link["type"], "symlink");
    assert_eq!(link["link"], "../usr/lib/os-release");
    // The whiteout and the opaque directory of layer 2 took effect; no marker shows.
    let paths: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert!(!paths.contains(&"/var/log/old.log"));
    assert!(!paths.contains(&"/usr/share/doc/sample/README"));
    assert!(paths.contains(&"/usr/share/doc/sample/CHANGES"));
    assert!(!paths.iter().any(|p| p.contains(".wh.")));
}

#[test]
fn hash_adds_sha256_of_regular_files() {
    let s = sample();
    let rows = json_lines(&ok(&["--runtime", &s, "--json", "ls", "-R", "--hash", "sample", "/etc"]));
    let motd = rows.iter().find(|r| r["path"] == "/etc/motd").unwrap();
    let content = ok(&["--runtime", &s, "cat", "sample", "/etc/motd"]);
    assert_eq!(motd["sha256"], sha256_hex(content.as_bytes()));
    assert!(rows.iter().filter(|r| r["type"] != "file").all(|r| r.get("sha256").is_none()));
}

#[test]
fn cat_readlink_realpath_stat() {
    let s = sample();
    assert!(ok(&["-r", &s, "cat", "sample", "/etc/os-release"]).contains("ID=berth-sample"));
    assert_eq!(ok(&["-r", &s, "readlink", "sample", "/etc/os-release"]), "../usr/lib/os-release\n");
    assert_eq!(ok(&["-r", &s, "realpath", "sample", "/etc/os-release"]), "/usr/lib/os-release\n");
    let st: Value = serde_json::from_str(&ok(&["-r", &s, "--json", "stat", "sample", "/bin/hello"])).unwrap();
    assert_eq!((st["type"].as_str(), st["mode"].as_u64()), (Some("file"), Some(0o755)));
    let st: Value =
        serde_json::from_str(&ok(&["-r", &s, "--json", "stat", "--no-follow", "sample", "/etc/os-release"])).unwrap();
    assert_eq!(st["type"], "symlink");
    assert!(ok(&["-r", &s, "stat", "sample", "/bin/hello"]).contains("-rwxr-xr-x"));
}

#[test]
fn images_inspect_layers() {
    let s = sample();
    let images = json_lines(&ok(&["-r", &s, "--json", "images"]));
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["repo_tags"][0], "sample:latest");
    let id = images[0]["id"].as_str().unwrap().to_string();
    let doc: Value = serde_json::from_str(&ok(&["-r", &s, "--json", "inspect", &id[7..19]])).unwrap();
    assert_eq!(doc["id"], id.as_str());
    assert_eq!(doc["config"]["config"]["Cmd"][0], "/bin/hello");
    let layers = json_lines(&ok(&["-r", &s, "--json", "layers", "sample"]));
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1]["whiteouts"][0], "var/log/old.log");
    assert_eq!(layers[1]["opaques"][0], "usr/share/doc/sample");
}

#[test]
fn per_layer_view() {
    let s = sample();
    let base = ok(&["-r", &s, "ls", "-R", "--layer", "1", "sample", "/var"]);
    assert!(base.contains("/var/log/old.log"));
    let err = berth(&["-r", &s, "ls", "--layer", "9", "sample", "/"]);
    assert_eq!(err.status.code(), Some(3));
}

#[test]
fn exit_codes_and_messages() {
    let s = sample();
    let out = berth(&["-r", &s, "cat", "sample", "/no/such/file"]);
    assert_eq!(out.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.starts_with("berth: not_found: open \"/no/such/file\""), "{msg}");

    let out = berth(&["-r", &s, "cat", "nosuchimage", "/etc/motd"]);
    assert_eq!(out.status.code(), Some(3));

    let out = berth(&["-r", &s, "cat", "sample", "/etc"]);
    assert_eq!(out.status.code(), Some(4));

    let out = berth(&["-r", "bogus://x", "images"]);
    assert_eq!(out.status.code(), Some(4));

    let out = berth(&["-r", "oci-archive:///nonexistent.tar", "images"]);
    assert_eq!(out.status.code(), Some(3));

    let out = berth(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));

    // --json errors are JSON on stderr.
    let out = berth(&["-r", &s, "--json", "stat", "sample", "/nope"]);
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "not_found");
}

#[test]
fn the_help_gives_the_exit_code_of_every_error_kind() {
    let help = ok(&["--help"]);
    assert!(help.contains("EXIT CODES: 0 ok, 1 internal, 2 usage, 3 not_found, 4 invalid_argument,"), "{help}");
    for k in berth_core::error::KINDS {
        assert!(help.contains(&format!(" {} {}", k.exit_code, k.name)), "{k:?} missing in {help}");
    }
}

#[test]
fn ambiguous_and_corrupt_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let layer = TarBuilder::new().file("f", b"x").finish();
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("a.example/app:1").layer_gzip(layer.clone()));
    store.add_image(&ImageSpec::new("b.example/app:1").layer_plain(layer));
    store.write_dir(dir.path());
    let ep = format!("oci://{}", dir.path().display());
    let out = berth(&["-r", &ep, "ls", "app"]);
    assert_eq!(out.status.code(), Some(5));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("a.example/app:1") && msg.contains("b.example/app:1"), "{msg}");

    // Corrupt the plain layer's bytes: digest mismatch, exit 10.
    let blob = std::fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::metadata(p).unwrap().len() == 2048)
        .unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[600] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let out = berth(&["-r", &ep, "ls", "b.example/app:1"]);
    assert_eq!(out.status.code(), Some(10), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_closed_stdout_is_no_error_but_a_full_one_is() {
    // 1 MiB: more than a pipe holds, so berth is still writing when its reader is gone.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("big:1").layer_plain(TarBuilder::new().file("big", &[b'x'; 1 << 20]).finish()));
    store.write_dir(dir.path());
    let ep = format!("oci://{}", dir.path().display());
    let cat = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
        c.env_remove("BERTH_RUNTIME").args(["-r", &ep, "cat", "big:1", "/big"]).stderr(Stdio::piped());
        c
    };
    // `berth cat ... | head -c 0`: the reader closes at once; berth meets EPIPE.
    let mut child = cat().stdout(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // Any other failure to write is an error: a full disk (ENOSPC) exits 13, io.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = cat().stdout(full).output().unwrap();
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(13), "{msg}");
    assert!(msg.starts_with("berth: io: ") && msg.contains("ENOSPC"), "{msg}");
}

#[test]
fn inspect_prints_no_byte_of_a_host_file_a_config_links_to() {
    // A layout whose config blob is a symlink to a host JSON file the attacker knows well
    // enough to name by digest: the digest check passes, so only refusing the link keeps
    // the file's content out of the output.
    let dir = tempfile::tempdir().unwrap();
    let (layout, host) = (dir.path().join("layout"), dir.path().join("host.json"));
    let secret = "host-only-5e3a9c";
    let tar = TarBuilder::new().file("f", b"x").finish();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": berth_tests::store::host_arch(), "os": "linux", "author": secret,
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&tar))] },
    }))
    .unwrap();
    let mut store = Store::new();
    let config_digest = store.blob(&config);
    let layer_digest = store.blob(&tar);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": berth_tests::store::PLAIN, "digest": layer_digest, "size": tar.len() }],
    }))
    .unwrap();
    let manifest_digest = store.blob(&manifest);
    store.index.push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(),
        "annotations": { "org.opencontainers.image.ref.name": "linked:1" },
    }));
    store.write_dir(&layout);
    let blob = layout.join(Store::blob_path(&config_digest));
    std::fs::rename(&blob, &host).unwrap();
    std::os::unix::fs::symlink(&host, &blob).unwrap();
    let ep = format!("oci://{}", layout.display());
    for args in [vec!["inspect", "linked:1"], vec!["images"], vec!["--json", "inspect", "linked:1"]] {
        let out = berth(&[&["--runtime", ep.as_str()][..], &args[..]].concat());
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(!text.contains(secret), "berth {args:?} printed the host file: {text}");
        assert!(!text.contains(&host.display().to_string()), "berth {args:?} named the link's target: {text}");
        assert_eq!(out.status.code(), Some(10), "berth {args:?}: a linked config is corrupt: {text}");
    }
}
