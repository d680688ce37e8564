//! Conformance: an image built by real tools (umoci, from busybox-static and files of
//! every kind), unpacked by `umoci unpack`, must look exactly like berth's squashed
//! view: paths, types, modes, owners, sizes, link targets, mtimes and content hashes.
//!
//! Needs root, umoci and busybox-static; tests/run-all.sh installs them.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use berth_core::fs::{FileType, Walker};
use berth_tests::{block_on, sha256_hex};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (is it installed? tests/run-all.sh installs it)"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn sh(script: &str, dir: &Path) {
    run(Command::new("sh").arg("-ec").arg(script).current_dir(dir));
}

/// What both sides must agree on, per path.
type Tree = BTreeMap<String, String>;

// One line per path: every attribute both sides must agree on.
#[allow(clippy::too_many_arguments)]
fn describe(
    t: FileType,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    link: Option<&str>,
    mtime: i64,
    hash: Option<String>,
) -> String {
    let mut s = format!("{t:?} {mode:04o} {uid}:{gid}");
    if t == FileType::File {
        s += &format!(" size={size} mtime={mtime} sha256={}", hash.unwrap_or_default());
    }
    if let Some(l) = link {
        s += &format!(" -> {l}");
    }
    s
}

fn host_tree(root: &Path) -> Tree {
    let mut out = Tree::new();
    fn visit(root: &Path, dir: &Path, out: &mut Tree) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let t = if ft.is_dir() {
                FileType::Dir
            } else if ft.is_symlink() {
                FileType::Symlink
            } else if ft.is_file() {
                FileType::File
            } else {
                use std::os::unix::fs::FileTypeExt;
                if ft.is_fifo() {
                    FileType::Fifo
                } else if ft.is_char_device() {
                    FileType::Char
                } else {
                    FileType::Block
                }
            };
            let link = ft.is_symlink().then(|| std::fs::read_link(&p).unwrap().to_string_lossy().into_owned());
            let hash = (t == FileType::File).then(|| sha256_hex(&std::fs::read(&p).unwrap()));
            // Symlink permission bits are meaningless on Linux (always 0777).
            let mode = if t == FileType::Symlink { 0o777 } else { m.permissions().mode() & 0o7777 };
            let rel = format!("/{}", p.strip_prefix(root).unwrap().display());
            out.insert(
                rel,
                describe(t, mode, m.uid() as u64, m.gid() as u64, m.len(), link.as_deref(), m.mtime(), hash),
            );
            if ft.is_dir() {
                visit(root, &p, out);
            }
        }
    }
    visit(root, root, &mut out);
    out
}

fn berth_tree(endpoint: &str, image: &str) -> Tree {
    let fs = block_on(async {
        let rt = berth_core::connect(Some(endpoint), Default::default()).await.unwrap();
        rt.open_image(image).await.unwrap().filesystem().unwrap()
    });
    let mut out = Tree::new();
    for e in Walker::new(fs.clone(), "/").skip(1) {
        let e = e.unwrap();
        let s = &e.stat;
        let hash = (s.file_type == FileType::File).then(|| sha256_hex(&berth_tests::read_all(&*fs, &e.path).unwrap()));
        let mode = if s.file_type == FileType::Symlink { 0o777 } else { s.mode };
        out.insert(e.path.clone(), describe(s.file_type, mode, s.uid, s.gid, s.size, s.link.as_deref(), s.mtime, hash));
    }
    out
}

fn assert_same(berth: &Tree, umoci: &Tree) {
    let mut diffs = Vec::new();
    for (p, v) in umoci {
        match berth.get(p) {
            Some(b) if b == v => {}
            Some(b) => diffs.push(format!("{p}: umoci {v} / berth {b}")),
            None => diffs.push(format!("{p}: only in umoci's unpack ({v})")),
        }
    }
    for (p, v) in berth {
        if !umoci.contains_key(p) {
            diffs.push(format!("{p}: only in berth ({v})"));
        }
    }
    assert!(diffs.is_empty(), "{} differences:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn squashed_tree_matches_umoci_unpack() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is required");
    run(Command::new("umoci").args(["init", "--layout", "L"]).current_dir(d));
    run(Command::new("umoci").args(["new", "--image", "L:c"]).current_dir(d));
    run(Command::new("umoci").args(["unpack", "--image", "L:c", "B"]).current_dir(d));
    // Layer 1: busybox with its applets, and files of every kind, mode and owner.
    sh(
        &format!(
            r#"R=B/rootfs
        mkdir -p $R/bin $R/etc/conf.d $R/usr/share/doc/pkg $R/var/empty $R/home/user
        cp {busybox} $R/bin/busybox
        for a in sh ls cat echo sed awk; do ln -s busybox $R/bin/$a; done
        echo 'ID=conformance' > $R/etc/os-release.real
        ln -s os-release.real $R/etc/os-release
        ln -s /etc/os-release.real $R/etc/absolute-link
        printf 'a=1\n' > $R/etc/conf.d/a.conf
        printf 'b=2\n' > $R/etc/conf.d/b.conf
        echo secret > $R/etc/shadow; chmod 0600 $R/etc/shadow
        echo suid > $R/bin/suid-tool; chmod 4755 $R/bin/suid-tool
        chmod 1777 $R/var/empty
        echo mine > $R/home/user/file; chown -R 1000:1000 $R/home/user; chmod 0700 $R/home/user
        echo doc > $R/usr/share/doc/pkg/README
        echo linked > $R/etc/hl-a; ln $R/etc/hl-a $R/etc/hl-b
        : > $R/etc/empty
        head -c 3000000 /dev/urandom > $R/usr/big.bin
        mkfifo $R/var/fifo
        echo unicode > "$R/etc/naïve café.txt"
        echo remove > $R/etc/remove-me
        touch -d '2020-02-02 02:02:02' $R/etc/conf.d/a.conf"#
        ),
        d,
    );
    run(Command::new("umoci").args(["repack", "--image", "L:c", "B"]).current_dir(d));
    // Layer 2: deletions (whiteouts).
    sh("rm B/rootfs/etc/remove-me; rm -r B/rootfs/usr/share/doc; rm B/rootfs/bin/awk", d);
    run(Command::new("umoci").args(["repack", "--image", "L:c", "B"]).current_dir(d));
    // Layer 3: a directory replaced, a file changed, a link retargeted.
    sh(
        "rm -r B/rootfs/etc/conf.d && mkdir B/rootfs/etc/conf.d && echo c=3 > B/rootfs/etc/conf.d/c.conf && \
         echo changed > B/rootfs/etc/hl-a && rm B/rootfs/etc/os-release && ln -s /etc/conf.d/c.conf B/rootfs/etc/os-release",
        d,
    );
    run(Command::new("umoci").args(["repack", "--image", "L:c", "B"]).current_dir(d));
    run(Command::new("umoci").args(["unpack", "--image", "L:c", "OUT"]).current_dir(d));

    let want = host_tree(&d.join("OUT/rootfs"));
    assert!(want.contains_key("/etc/conf.d/c.conf") && !want.contains_key("/etc/conf.d/a.conf"));
    assert!(!want.contains_key("/etc/remove-me") && want.len() > 20);

    eprintln!(
        "umoci unpack: {} paths, e.g. {:?}",
        want.len(),
        want.iter().filter(|(p, _)| p.starts_with("/etc/")).take(4).collect::<Vec<_>>()
    );
    let layout = berth_tree(&format!("oci://{}", d.join("L").display()), "c");
    assert_same(&layout, &want);

    // The same image as an oci-archive.
    run(Command::new("tar").args(["-C", "L", "-cf", "img.tar", "."]).current_dir(d));
    let archive = berth_tree(&format!("oci-archive://{}", d.join("img.tar").display()), "c");
    assert_same(&archive, &want);
}
