//! zstd reads by offset (core/src/fs/stream_seek.rs), differentially: read a zstd stream
//! at fuzzer-chosen offsets through the seeker's decoder pool and compare with a plain
//! decode of the whole stream.
//!
//! Input: 32 control bytes, then the body. Control byte 0: even, the body is a zstd
//! stream as it is; odd, the body is data compressed here into 1-4 frames (a level, a
//! checksum or not, a skippable frame between frames or not).
#![no_main]

use std::io::{self, Read};
use std::sync::Arc;

use berth_core::fs::stream_seek::StreamSeeker;
use berth_fuzz::control::{reads, Control};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut control, body) = Control::split(data, 32);
    let mode = control.byte();
    let blob = if mode & 1 == 0 { body.to_vec() } else { compress(body, &mut control) };
    check(&blob, &mut control);
});

fn compress(body: &[u8], control: &mut Control<'_>) -> Vec<u8> {
    let level = i32::from(control.byte() % 8) + 1;
    let checksum = control.byte() & 1 == 1;
    let skippable = control.byte() & 1 == 1;
    let frames = usize::from(control.byte() % 4) + 1;
    let per = body.len().div_ceil(frames).max(1);
    let mut out = Vec::new();
    for part in body.chunks(per) {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), level).unwrap();
        e.include_checksum(checksum).unwrap();
        io::Write::write_all(&mut e, part).unwrap();
        out.extend(e.finish().unwrap());
        if skippable {
            // A skippable frame (magic 0x184D2A50, 4-byte length, payload).
            out.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        }
    }
    if out.is_empty() {
        out = zstd::stream::encode_all(&[][..], level).unwrap();
    }
    out
}

fn reference(blob: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(blob)?.read_to_end(&mut out)?;
    Ok(out)
}

fn check(blob: &[u8], control: &mut Control<'_>) {
    let truth = reference(blob);
    let seeker = StreamSeeker::zstd(Arc::new(blob.to_vec()));
    let len = truth.as_ref().map_or(blob.len() as u64 * 8, |t| t.len() as u64);
    for (offset, want) in reads(control, 8, len) {
        let mut buf = vec![0u8; want];
        match (seeker.read_at(&mut buf, offset), &truth) {
            (Ok(n), Ok(all)) => {
                let start = (offset as usize).min(all.len());
                let end = (start + want).min(all.len());
                assert!(buf[..n] == all[start..end], "read of {want} at {offset} differs from the decode");
            }
            (Err(e), Ok(_)) => panic!("read of {want} at {offset} failed on a good stream: {e}"),
            (Ok(_), Err(_)) | (Err(_), Err(_)) => {}
        }
    }
}
