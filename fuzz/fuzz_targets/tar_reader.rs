//! The tar reader (core/src/fs/tar.rs): every entry of a fuzzed stream, and its data.
//!
//! The data of every other entry is read (which ones: by the input's length, so one byte
//! more flips them); the rest is skipped by the next `next_entry`, so that both ways
//! through an entry's data are taken.
//!
//! Checks: paths come out normalised (relative, no `.`, `..` or empty components) and
//! hold no NUL; every name (path components, link targets, xattr names) survives the
//! escaped form of `fs::names` (`decode(encode(b)) == b`), and the shown path decodes to
//! the stored one; the data of a plain entry is exactly the bytes at its recorded offset;
//! sparse maps are ordered and inside the file; errors are never a bug's kind.
#![no_main]

use berth_core::fs::names::{decode, encode};
use berth_core::fs::tar::{EntryKind, TarEntry, TarReader};
use berth_fuzz::exercise::allowed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut tar = TarReader::new(data);
    let mut buf = vec![0u8; 8192];
    for n in 0usize.. {
        let Some(Some(entry)) = allowed("next_entry", tar.next_entry()) else { break };
        names(&entry);
        assert_eq!(tar.position(), entry.data_offset, "data offset of {:?}", entry.display_path());
        if let Some(map) = &entry.sparse {
            let mut end = 0u64;
            for s in map.segments() {
                assert!(s.offset >= end, "sparse segments out of order in {:?}", entry.display_path());
                end = s.offset.checked_add(s.len).expect("sparse segment end overflows");
                assert!(end <= entry.size, "sparse segment past the end of {:?}", entry.display_path());
            }
        }
        if (n + data.len()) % 2 == 1 {
            continue;
        }
        // Read the stored data and compare it with the bytes at the recorded offset.
        let mut read = Vec::new();
        loop {
            match allowed("read_data", tar.read_data(&mut buf)) {
                Some(0) => break,
                Some(n) => read.extend_from_slice(&buf[..n]),
                None => return,
            }
        }
        let start = entry.data_offset as usize;
        assert!(start + read.len() <= data.len(), "data of {:?} runs past the input", entry.display_path());
        assert!(read == data[start..start + read.len()], "data of {:?} is not at its offset", entry.display_path());
        if entry.sparse.is_none() && entry.kind == EntryKind::File {
            assert_eq!(read.len() as u64, entry.size, "stored bytes of {:?}", entry.display_path());
        }
    }
});

/// The names of one entry: normalised where they are paths, and shown in a form that
/// maps back to their bytes.
fn names(entry: &TarEntry) {
    let path = &entry.path[..];
    assert!(!path.contains(&0), "path with a NUL: {path:?}");
    assert!(
        path.is_empty() || path.split(|&b| b == b'/').all(|c| !c.is_empty() && c != b"." && c != b".."),
        "path not normalised: {path:?}"
    );
    for c in path.split(|&b| b == b'/') {
        round_trip(c, "path component");
    }
    // The path as the API shows it names the same bytes.
    let shown = entry.display_path();
    let want: Vec<u8> = if path.is_empty() { Vec::new() } else { [&b"/"[..], path].concat() };
    assert_eq!(&decode(&shown)[..], &want[..], "display path {shown:?} of {path:?}");
    if let Some(link) = &entry.link {
        assert!(!link.contains(&0), "link target with a NUL: {link:?}");
        round_trip(link, "link target");
        if entry.kind == EntryKind::Hardlink {
            assert!(
                !link.starts_with(b"/") && !link.split(|&b| b == b'/').any(|c| c == b".."),
                "hard link {link:?} not normalised"
            );
        }
    }
    if let Some(xattrs) = &entry.xattrs {
        for key in xattrs.keys() {
            round_trip(key, "xattr name");
        }
    }
}

fn round_trip(b: &[u8], what: &str) {
    let shown = encode(b);
    assert_eq!(&decode(&shown)[..], b, "{what} {b:?} shown as {shown:?}");
}
