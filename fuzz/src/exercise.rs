//! Exercising a filesystem as a scanner would: walk it, and for every path the walk
//! finds (and every path the fuzzer names) stat, lstat, readlink, realpath, list and
//! read, checking that the answers agree with each other. Every name a walk or a
//! listing shows is in the escaped form of `fs::names` and reaches its entry by that
//! very string: lstat agrees, a file opens, a symlink reads.
//!
//! Work is bounded so that a small input cannot make one execution take minutes: a
//! sparse file may claim terabytes, and a tree may be wide.

use std::sync::Arc;

use berth_core::fs::names::{decode, encode};
use berth_core::fs::{FileSystem, FileType, Stat, Walker};
use berth_core::{ErrorKind, Result};

/// Entries of a walk looked at, at most.
const MAX_WALK: usize = 2_000;
/// Bytes read from the start of each file, at most.
const MAX_READ: usize = 64 * 1024;

/// Unwraps a result that may fail, but never with a bug's error kind: hostile input is
/// Corrupt, NotFound, InvalidArgument or Io, never Internal.
pub fn allowed<T>(what: &str, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert_ne!(e.kind(), ErrorKind::Internal, "{what}: internal error: {}", e.message());
            None
        }
    }
}

/// Walks `fs` from `/` and checks every entry, then checks each of `paths`.
pub fn filesystem(fs: &Arc<dyn FileSystem>, paths: &[String]) {
    let walker = Walker::new(fs.clone(), "/");
    let mut seen = 0;
    for step in walker {
        let Some(entry) = allowed("walk", step) else { break };
        seen += 1;
        if seen > MAX_WALK {
            break;
        }
        assert!(entry.path.starts_with('/'), "walk path {:?} is not absolute", entry.path);
        // Every component but the root's (the walk lists `/` itself first).
        for c in entry.path.split('/').skip(1).filter(|_| entry.path != "/") {
            shown_name(c, "walk");
        }
        listed(fs.as_ref(), &entry.path, &entry.stat, "walk");
        path(fs.as_ref(), &entry.path);
    }
    for p in paths {
        path(fs.as_ref(), p);
    }
}

/// A name as a listing shows it: in the escaped form of `fs::names`, the one string
/// that stands for its bytes (decoding and encoding again gives it back).
fn shown_name(name: &str, what: &str) {
    assert!(!name.is_empty(), "{what}: empty name");
    assert_eq!(encode(&decode(name)), name, "{what}: name {name:?} is not in its escaped form");
}

/// A path a walk or a listing gave, with the metadata it gave: reachable by that very
/// string (lstat agrees; a regular file opens, a symlink reads).
fn listed(fs: &dyn FileSystem, p: &str, stat: &Stat, what: &str) {
    match fs.lstat(p) {
        Ok(s) => assert_eq!(&s, stat, "{what} and lstat disagree on {p:?}"),
        Err(e) => panic!("{what} listed {p:?} but lstat fails: {}", e.message()),
    }
    match stat.file_type {
        FileType::Symlink => match fs.readlink(p) {
            Ok(target) => assert_eq!(Some(&target), stat.link.as_ref(), "readlink {p:?} and its stat"),
            Err(e) => panic!("{what} listed the symlink {p:?} but readlink fails: {}", e.message()),
        },
        // lstat says the last component is a file, not a link: open reaches the same node.
        FileType::File => match fs.open(p) {
            Ok(f) => assert_eq!(f.len(), stat.size, "open {p:?}: length differs from the listing"),
            Err(e) => panic!("{what} listed the file {p:?} but open fails: {}", e.message()),
        },
        _ => {}
    }
}

/// Every question about one path, with the answers checked against each other.
pub fn path(fs: &dyn FileSystem, p: &str) {
    let lstat = allowed("lstat", fs.lstat(p));
    let stat = allowed("stat", fs.stat(p));
    if let Some(l) = &lstat {
        let link = allowed("readlink", fs.readlink(p));
        assert_eq!(link.is_some(), l.file_type == FileType::Symlink, "readlink of {p:?} vs its type");
    }
    if let Some(real) = allowed("realpath", fs.eval_symlink(p)) {
        assert!(real.starts_with('/'), "realpath of {p:?} is {real:?}, not absolute");
        // The resolved path names the node itself: no link left to follow.
        if let Some(s) = &stat {
            match fs.lstat(&real) {
                Ok(r) => assert_eq!(&r, s, "stat {p:?} and lstat of its realpath {real:?} disagree"),
                Err(e) => panic!("realpath {p:?} -> {real:?}, which lstat cannot find: {}", e.message()),
            }
        }
    }
    let Some(s) = stat else { return };
    match s.file_type {
        FileType::Dir => directory(fs, p),
        FileType::File => file(fs, p, s.size),
        _ => {
            assert!(fs.open(p).is_err(), "open {p:?} of type {:?} succeeded", s.file_type);
        }
    }
}

fn directory(fs: &dyn FileSystem, p: &str) {
    let Some(entries) = allowed("read_dir", fs.read_dir(p)) else { return };
    // Sorted by the names' bytes, which is not the order of their escaped forms (`\x92`
    // sorts before `d` as text, after it as bytes).
    for pair in entries.windows(2) {
        let (a, b) = (decode(&pair[0].name), decode(&pair[1].name));
        assert!(a < b, "read_dir {p:?}: {:?} before {:?}", pair[0].name, pair[1].name);
    }
    for e in entries.iter().take(64) {
        assert!(!e.name.contains('/'), "read_dir {p:?}: bad name {:?}", e.name);
        shown_name(&e.name, "read_dir");
        let child = if p.ends_with('/') { format!("{p}{}", e.name) } else { format!("{p}/{}", e.name) };
        listed(fs, &child, &e.stat, "read_dir");
    }
}

fn file(fs: &dyn FileSystem, p: &str, size: u64) {
    let Some(f) = allowed("open", fs.open(p)) else { return };
    assert_eq!(f.len(), size, "open {p:?}: length differs from stat");
    let mut buf = vec![0u8; MAX_READ];
    let want = (size as usize).min(MAX_READ);
    let mut got = 0;
    while got < want {
        match allowed("read", f.read_at(&mut buf[got..want], got as u64)) {
            Some(0) => panic!("read {p:?}: 0 bytes at {got} of {size}"),
            Some(n) => got += n,
            None => return,
        }
    }
    // The far end of a large (possibly sparse) file, without reading what lies before.
    for at in [size / 2, size.saturating_sub(1), size, size.saturating_add(7)] {
        let mut one = [0u8; 16];
        if let Some(n) = allowed("read_at", f.read_at(&mut one, at)) {
            let left = size.saturating_sub(at);
            assert!(n as u64 <= left && (n > 0 || left == 0), "read_at {p:?} at {at} of {size} gave {n} bytes");
        }
    }
}
