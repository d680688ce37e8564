//! An image cannot drive the terminal through the CLI: names, link targets, xattrs, image
//! names and error messages with control characters are escaped in human output (see
//! docs/cli.md, "Human output"), and stay exact in JSON.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use berth_tests::{ImageSpec, Store, TarBuilder};
use serde_json::Value;

/// Names under /etc, each with a control character a terminal acts on, and what human
/// output shows instead.
const NAMES: [(&str, &str); 8] = [
    ("\x1b]0;owned\x07", r"\x1b]0;owned\x07"), // OSC: set the title, BEL
    ("forged\n-rw-r--r--     0     0          0 evil", r"forged\x0a-rw-r--r--"), // a forged line
    ("cr\rover", r"cr\x0dover"),               // carriage return
    ("c1\u{9b}2J", r"c1\xc2\x9b2J"),           // C1 CSI: clear the screen
    ("del\x7f", r"del\x7f"),                   // DEL
    ("tab\tx", r"tab\x09x"),                   // a tab
    ("bell\x07", r"bell\x07"),                 // BEL
    // No control character, but it would read as one: its backslash is escaped.
    (r"lit\x1b", r"lit\x5cx1b"),
];
const LINK_TARGET: &str = "\x1b[2J\x1b[H/target";
const XATTR: &[u8] = b"\x1b[31mred";
const TAGS: [&str; 2] = ["evil.example/app:1\x1b]0;t\x07", "evil.example/app:2\u{85}x"];

/// An OCI layout of two images over one layer holding the hostile names. Each has two
/// names: a full one with control characters in its tag, listed first (so errors show
/// it), and `app:1` or `app:2`, by which the tests find them.
fn layout(dir: &Path) -> String {
    let mut tar = TarBuilder::new().dir("etc");
    for (name, _) in NAMES {
        tar = tar.file(&format!("etc/{name}"), b"x");
    }
    let layer =
        tar.symlink("etc/link", LINK_TARGET).pax_file("etc/xattr", b"", &[("SCHILY.xattr.user.note", XATTR)]).finish();
    let mut store = Store::new();
    store.add_image(&ImageSpec::new("app:1").layer_gzip(layer.clone()));
    store.add_image(&ImageSpec::new("app:2").layer_plain(layer));
    for (entry, tag) in store.index.iter_mut().zip(TAGS) {
        entry["annotations"]["io.containerd.image.name"] = tag.into();
    }
    store.write_dir(dir);
    format!("oci://{}", dir.display())
}

fn berth(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .env_remove("BERTH_RUNTIME")
        .arg("-r")
        .arg(endpoint)
        .args(args)
        .output()
        .unwrap()
}

fn ok(endpoint: &str, args: &[&str]) -> String {
    let out = berth(endpoint, args);
    assert!(out.status.success(), "berth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    inert(&format!("stdout of {args:?}"), &out.stdout)
}

/// `bytes` as text, which must hold no control character but the newlines ending its
/// lines (C0, DEL and C1 all count).
fn inert(what: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    let bad: Vec<char> =
        text.chars().filter(|&c| c != '\n' && (c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))).collect();
    assert!(bad.is_empty(), "{what} holds control characters {bad:?}:\n{text}");
    text
}

#[test]
fn human_output_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let ep = layout(dir.path());
    let image = "app:1";

    // One line per entry (no forged lines), each name in its escaped form.
    let ls = ok(&ep, &["ls", image, "/etc"]);
    assert_eq!(ls.lines().count(), NAMES.len() + 2, "{ls}");
    for (_, shown) in NAMES {
        assert!(ls.contains(&format!("/etc/{shown}")), "{shown} missing from:\n{ls}");
    }
    assert!(ls.contains(r"/etc/link -> \x1b[2J\x1b[H/target"), "{ls}");
    let tree = ok(&ep, &["ls", "-R", image, "/"]);
    assert_eq!(tree.lines().count(), NAMES.len() + 4, "{tree}");

    for (name, shown) in NAMES {
        let stat = ok(&ep, &["stat", image, &format!("/etc/{name}")]);
        assert!(stat.starts_with(&format!("  File: /etc/{shown}")), "{stat}");
        assert!(stat.contains("\n  Type: file\n"), "{stat}");
    }
    let stat = ok(&ep, &["stat", "--no-follow", image, "/etc/link"]);
    assert!(stat.contains(r"File: /etc/link -> \x1b[2J\x1b[H/target"), "{stat}");
    let stat = ok(&ep, &["stat", image, "/etc/xattr"]);
    assert!(stat.contains(r"Xattr: user.note=\x1b[31mred"), "{stat}");
    assert_eq!(ok(&ep, &["readlink", image, "/etc/link"]), "\\x1b[2J\\x1b[H/target\n");

    let images = ok(&ep, &["images"]);
    assert_eq!(images.lines().count(), 3, "{images}");
    assert!(images.contains(r"evil.example/app:1\x1b]0;t\x07"), "{images}");
    assert!(images.contains(r"evil.example/app:2\xc2\x85x"), "{images}");
    let layers = ok(&ep, &["layers", image]);
    assert_eq!(layers.lines().count(), 2, "{layers}");
    // The inspect document is JSON either way: parsed, it gives the exact names back.
    let doc: Value = serde_json::from_str(&ok(&ep, &["inspect", image])).unwrap();
    assert!(doc.to_string().contains("app:1\\u001b]0;t\\u0007"), "{doc}");
}

#[test]
fn error_messages_escape_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let ep = layout(dir.path());

    // Ambiguous: the message lists the two images' names.
    let out = berth(&ep, &["ls", "app"]);
    assert_eq!(out.status.code(), Some(5));
    let err = inert("stderr of ls app", &out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("berth: ambiguous: "), "{err}");
    assert!(err.contains(r"app:1\x1b]0;t\x07") && err.contains(r"app:2\xc2\x85x"), "{err}");

    // A path through a file: the message names it.
    let out = berth(&ep, &["cat", "app:1", &format!("/etc/{}/x", NAMES[1].0)]);
    assert!(!out.status.success());
    let err = inert("stderr of cat", &out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(r"forged\x0a-rw-r--r--"), "{err}");
}

#[test]
fn json_output_keeps_the_exact_names() {
    let dir = tempfile::tempdir().unwrap();
    let ep = layout(dir.path());
    let image = "app:1";
    let lines = |s: String| -> Vec<Value> { s.lines().map(|l| serde_json::from_str(l).unwrap()).collect() };

    let rows = lines(ok(&ep, &["--json", "ls", image, "/etc"]));
    let paths: BTreeSet<String> = rows.iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    let mut want: BTreeSet<String> = NAMES.iter().map(|(n, _)| format!("/etc/{n}")).collect();
    want.extend(["/etc/link".to_string(), "/etc/xattr".to_string()]);
    assert_eq!(paths, want);
    let link = rows.iter().find(|r| r["path"] == "/etc/link").unwrap();
    assert_eq!(link["link"], LINK_TARGET);

    let target: Value = serde_json::from_str(&ok(&ep, &["--json", "readlink", image, "/etc/link"])).unwrap();
    assert_eq!(target["target"], LINK_TARGET);
    let stat: Value = serde_json::from_str(&ok(&ep, &["--json", "stat", image, "/etc/xattr"])).unwrap();
    assert_eq!(stat["xattrs"]["user.note"].as_str().unwrap().as_bytes(), XATTR);
    for (name, _) in NAMES {
        let stat: Value = serde_json::from_str(&ok(&ep, &["--json", "stat", image, &format!("/etc/{name}")])).unwrap();
        assert_eq!(stat["path"], format!("/etc/{name}"));
    }

    let tags: BTreeSet<String> = lines(ok(&ep, &["--json", "images"]))
        .iter()
        .flat_map(|i| {
            i["repo_tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(tags, [TAGS[0], TAGS[1], "app:1", "app:2"].iter().map(|t| t.to_string()).collect());

    let out = berth(&ep, &["--json", "ls", "app"]);
    let err: Value = serde_json::from_str(&inert("--json stderr", &out.stderr)).unwrap();
    let candidates: BTreeSet<&str> =
        err["error"]["candidates"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(TAGS.iter().all(|t| candidates.iter().any(|c| c.contains(t))), "{err}");
}
