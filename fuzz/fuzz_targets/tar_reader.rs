//! The tar reader (core/src/fs/tar.rs): every entry of a fuzzed stream, and its data.
//!
//! The data of every other entry is read (which ones: by the input's length, so one byte
//! more flips them); the rest is skipped by the next `next_entry`, so that both ways
//! through an entry's data are taken.
//!
//! Checks: paths come out normalised (relative, no `.`, `..` or empty components); the
//! data of a plain entry is exactly the bytes at its recorded offset; sparse maps are
//! ordered and inside the file; errors are never a bug's kind.
#![no_main]

use berth_core::fs::tar::{EntryKind, TarReader};
use berth_fuzz::exercise::allowed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut tar = TarReader::new(data);
    let mut buf = vec![0u8; 8192];
    for n in 0usize.. {
        let Some(Some(entry)) = allowed("next_entry", tar.next_entry()) else { break };
        assert!(
            entry.path.is_empty() || entry.path.split('/').all(|c| !c.is_empty() && c != "." && c != ".."),
            "path not normalised: {:?}",
            entry.path
        );
        assert_eq!(tar.position(), entry.data_offset, "data offset of {:?}", entry.path);
        if entry.kind == EntryKind::Hardlink {
            let link = entry.link.as_deref().unwrap_or("");
            assert!(!link.starts_with('/') && !link.split('/').any(|c| c == ".."), "hard link {link:?}");
        }
        if let Some(segments) = &entry.sparse {
            let mut end = 0u64;
            for s in segments {
                assert!(s.offset >= end, "sparse segments out of order in {:?}", entry.path);
                end = s.offset.checked_add(s.len).expect("sparse segment end overflows");
                assert!(end <= entry.size, "sparse segment past the end of {:?}", entry.path);
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
        assert!(start + read.len() <= data.len(), "data of {:?} runs past the input", entry.path);
        assert!(read == data[start..start + read.len()], "data of {:?} is not at its offset", entry.path);
        if entry.sparse.is_none() && entry.kind == EntryKind::File {
            assert_eq!(read.len() as u64, entry.size, "stored bytes of {:?}", entry.path);
        }
    }
});
