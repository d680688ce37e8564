//! The gzip checkpoint index and seeking (core/src/fs/gzip_seek.rs), differentially:
//! index a gzip stream, then read at fuzzer-chosen offsets (indexed, and lazily with no
//! indexing pass) and compare with a plain decode of the same stream by flate2.
//!
//! Input: 32 control bytes, then the body. Control byte 0 picks the mode: even, the body
//! is a gzip stream as it is (hostile framing and deflate data); odd, the body is
//! uncompressed data that is compressed here (many members, a flush every few bytes so
//! there are many block boundaries, any level), so that valid streams of every shape
//! reach the checkpoint code.
#![no_main]

use std::io::{self, Read, Write};
use std::sync::Arc;

use berth_core::fs::gzip_seek::GzipSeeker;
use berth_fuzz::control::{reads, Control};
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut control, body) = Control::split(data, 32);
    let mode = control.byte();
    let span = 1u64 << (control.byte() % 21);
    let gz = if mode & 1 == 0 { body.to_vec() } else { compress(body, &mut control) };
    check(&gz, span, &mut control);
});

/// Compresses `body` into 1-4 members at a chosen level, flushing every few bytes.
fn compress(body: &[u8], control: &mut Control<'_>) -> Vec<u8> {
    let level = u32::from(control.byte() % 10);
    // At least 64 bytes per block: enough blocks to pass the 256-checkpoint cap on a
    // 20 KB body, without a 32 KiB window copied for every few bytes of output.
    let flush_every = usize::from(control.byte()) * 64 + 64;
    let members = usize::from(control.byte() % 4) + 1;
    let mut out = Vec::new();
    let per = body.len().div_ceil(members).max(1);
    for part in body.chunks(per).chain(std::iter::once(&[][..]).take(usize::from(body.is_empty()))) {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        for chunk in part.chunks(flush_every) {
            e.write_all(chunk).unwrap();
            e.flush().unwrap();
        }
        out.extend(e.finish().unwrap());
    }
    out
}

fn reference(gz: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

/// Errors from a hostile stream are data errors or truncation; anything else (an
/// "internal error", a zlib failure) is a bug.
fn expected_error(e: &io::Error, what: &str) {
    assert!(
        matches!(e.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof),
        "{what}: unexpected error kind {:?}: {e}",
        e.kind()
    );
}

fn read_at(seeker: &GzipSeeker, offset: u64, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; want];
    let n = seeker.read_at(&mut buf, offset)?;
    buf.truncate(n);
    Ok(buf)
}

fn check(gz: &[u8], span: u64, control: &mut Control<'_>) {
    let truth = reference(gz);
    let indexed = GzipSeeker::with_span(Arc::new(gz.to_vec()), span);
    let mut pass = Vec::new();
    let pass = indexed.indexing_reader(gz).read_to_end(&mut pass).map(|_| pass);
    match (&pass, &truth) {
        (Ok(ours), Ok(theirs)) => assert!(ours == theirs, "indexing pass and flate2 decode differ"),
        (Ok(_), Err(e)) => panic!("indexing pass accepted a stream flate2 refuses: {e}"),
        (Err(e), Ok(theirs)) => {
            expected_error(e, "indexing pass");
            // An empty input is no gzip stream (flate2 reads it as nothing).
            assert!(gz.is_empty() && theirs.is_empty(), "indexing pass refused a stream flate2 accepts: {e}");
        }
        (Err(e), Err(_)) => expected_error(e, "indexing pass"),
    }
    let lazy = GzipSeeker::with_span(Arc::new(gz.to_vec()), span);
    let len = pass.as_ref().map_or(gz.len() as u64 * 4, |p| p.len() as u64);
    for (offset, want) in reads(control, 6, len) {
        for (name, seeker) in [("indexed", &indexed), ("lazy", &lazy)] {
            match (read_at(seeker, offset, want), &pass) {
                (Ok(got), Ok(all)) => {
                    let start = (offset as usize).min(all.len());
                    let end = (start + want).min(all.len());
                    assert!(got == all[start..end], "{name} read of {want} at {offset} differs");
                }
                (Err(e), Ok(_)) => panic!("{name} read of {want} at {offset} failed on a good stream: {e}"),
                (Ok(_), Err(_)) => {}
                (Err(e), Err(_)) => expected_error(&e, name),
            }
        }
    }
    if let Ok(all) = &pass {
        assert_eq!(indexed.uncompressed_len(), Some(all.len() as u64), "length after the indexing pass");
    }
}
