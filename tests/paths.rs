//! Path resolution inside the root: symlinks, `..`, absolute links, loops and escape
//! attempts all stay inside the image (CVE-2018-15664 and CVE-2019-10152 class bugs).

use berth_core::ErrorKind;
use berth_tests::{read_all, squash, TarBuilder};

fn layer() -> Vec<u8> {
    TarBuilder::new()
        .dir("etc")
        .file("etc/passwd", b"root:x:0:0")
        .dir("usr")
        .dir("usr/lib")
        .file("usr/lib/os-release", b"ID=test")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .symlink("abs", "/etc/passwd")
        .symlink("escape-abs", "/../../../../etc/passwd")
        .symlink("escape-rel", "../../../../../etc/passwd")
        .symlink("lib", "usr/lib")
        .symlink("link-to-link", "etc/os-release")
        .symlink("loop-a", "loop-b")
        .symlink("loop-b", "loop-a")
        .symlink("self", "self")
        .symlink("dotdot-through-link", "lib/../../etc/passwd")
        .symlink("dangling", "/nowhere")
        .symlink("empty-target", "")
        .finish()
}

#[test]
fn relative_and_absolute_links_resolve_inside_the_root() {
    let (_d, fs) = squash(vec![layer()]);
    assert_eq!(read_all(&*fs, "/etc/os-release").unwrap(), b"ID=test");
    assert_eq!(read_all(&*fs, "/abs").unwrap(), b"root:x:0:0");
    assert_eq!(fs.eval_symlink("/etc/os-release").unwrap(), "/usr/lib/os-release");
    assert_eq!(fs.readlink("/etc/os-release").unwrap(), "../usr/lib/os-release");
}

#[test]
fn dotdot_chains_clamp_at_the_root() {
    let (_d, fs) = squash(vec![layer()]);
    assert_eq!(read_all(&*fs, "/escape-rel").unwrap(), b"root:x:0:0");
    assert_eq!(read_all(&*fs, "/escape-abs").unwrap(), b"root:x:0:0");
    assert_eq!(read_all(&*fs, "/../../etc/passwd").unwrap(), b"root:x:0:0");
    assert_eq!(fs.eval_symlink("/../../..").unwrap(), "/");
}

#[test]
fn links_through_symlinked_parents() {
    let (_d, fs) = squash(vec![layer()]);
    // /lib -> usr/lib, so /lib/os-release is /usr/lib/os-release...
    assert_eq!(read_all(&*fs, "/lib/os-release").unwrap(), b"ID=test");
    // ...and `..` after following /lib goes to /usr (the link's target's parent), as on Linux.
    assert_eq!(fs.eval_symlink("/lib/..").unwrap(), "/usr");
    assert_eq!(read_all(&*fs, "/dotdot-through-link").unwrap(), b"root:x:0:0");
}

#[test]
fn links_to_links() {
    let (_d, fs) = squash(vec![layer()]);
    assert_eq!(read_all(&*fs, "/link-to-link").unwrap(), b"ID=test");
    assert_eq!(fs.eval_symlink("/link-to-link").unwrap(), "/usr/lib/os-release");
    // lstat sees the link itself.
    let st = fs.lstat("/link-to-link").unwrap();
    assert_eq!(st.file_type, berth_core::fs::FileType::Symlink);
    assert_eq!(st.link.as_deref(), Some("etc/os-release"));
}

#[test]
fn loops_end_with_an_error() {
    let (_d, fs) = squash(vec![layer()]);
    for p in ["/loop-a", "/self", "/self/x"] {
        let err = fs.stat(p).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{p}: {err}");
        assert!(err.message().contains("too many levels of symbolic links"), "{err}");
    }
    // lstat of a looping link is fine: nothing is followed.
    assert!(fs.lstat("/loop-a").is_ok());
}

#[test]
fn dangling_and_empty_links_and_bad_paths() {
    let (_d, fs) = squash(vec![layer()]);
    assert_eq!(fs.stat("/dangling").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(fs.stat("/empty-target").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(fs.stat("/etc/passwd/x").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(fs.stat("/etc/\0x").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(fs.readlink("/etc/passwd").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(fs.open("/etc").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(fs.read_dir("/etc/passwd").unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn entry_names_with_dotdot_cannot_escape() {
    // A hostile layer names entries outside the root; they land inside it.
    let evil = TarBuilder::new().file("../../outside", b"x").file("./a/../../b", b"y").finish();
    let (_d, fs) = squash(vec![evil]);
    assert_eq!(read_all(&*fs, "/outside").unwrap(), b"x");
    assert_eq!(read_all(&*fs, "/b").unwrap(), b"y");
}
