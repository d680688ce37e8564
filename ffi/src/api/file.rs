//! Open files of a filesystem: read, read at an offset, seek, stat.

use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};
use crate::status::berth_status::{BERTH_ERR_INTERNAL, BERTH_ERR_INVALID_ARGUMENT};

/// The kind of a file handle: an open file and its position.
pub enum File {}

impl Castable for File {
    const KIND: u8 = 5;
    const NAME: &'static str = "file";
    type Object = Arc<Mutex<berth_core::fs::File>>;
}

fn lock(f: &Mutex<berth_core::fs::File>) -> std::sync::MutexGuard<'_, berth_core::fs::File> {
    f.lock().unwrap_or_else(|p| p.into_inner())
}

/// The number of bytes a read of `len` may fill at `offset` of a file of `size`: never
/// more than the file holds.
fn clamp(len: usize, offset: u64, size: u64) -> usize {
    (len as u64).min(size.saturating_sub(offset)) as usize
}

/// Closes a file handle.
pub fn close(f: Handle<File>) -> Outcome<()> {
    f.remove()
}

/// Reads at the file's position, advancing it: up to `len` bytes, into the buffer that
/// `buffer(n)` gives for the `n` bytes the file has left (`n <= len`, so a caller's
/// `len` may exceed what the file holds). Returns the number read, 0 at the end.
pub fn read<'b>(f: Handle<File>, len: usize, buffer: impl FnOnce(usize) -> &'b mut [u8]) -> Outcome<usize> {
    let f = f.get()?;
    let mut f = lock(&f);
    let pos = f.stream_position().map_err(|e| berth_core::Error::io("read", e))?;
    let buf = buffer(clamp(len, pos, f.len()));
    Ok(f.read(buf).map_err(|e| berth_core::Error::io(format!("read {}", f.path()), e))?)
}

/// Reads up to `len` bytes at `offset` without moving the position, into `buffer(n)`
/// as for [`read`]; 0 at or past the end.
pub fn read_at<'b>(
    f: Handle<File>,
    len: usize,
    offset: u64,
    buffer: impl FnOnce(usize) -> &'b mut [u8],
) -> Outcome<usize> {
    let f = f.get()?;
    let f = lock(&f);
    let buf = buffer(clamp(len, offset, f.len()));
    Ok(f.read_at(buf, offset)?)
}

/// Where `offset` and `whence` (0: from the start, 1: from the position, 2: from the
/// end; the numbers of lseek(2), BERTH_SEEK_* and Python's os.SEEK_*) point. Before the
/// start is INVALID_ARGUMENT.
pub fn seek_from(offset: i64, whence: i32) -> Outcome<SeekFrom> {
    match whence {
        0 if offset >= 0 => Ok(SeekFrom::Start(offset as u64)),
        0 => Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, "seek: negative offset from the start")),
        1 => Ok(SeekFrom::Current(offset)),
        2 => Ok(SeekFrom::End(offset)),
        other => Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("seek: unknown whence {other}"))),
    }
}

/// Moves the position; returns the new one. Past the end is allowed (reads there
/// return 0).
pub fn seek(f: Handle<File>, to: SeekFrom) -> Outcome<u64> {
    let f = f.get()?;
    let pos = lock(&f).seek(to).map_err(|e| berth_core::Error::io("seek", e))?;
    Ok(pos)
}

/// The open file's metadata, with its `path`.
pub fn stat(f: Handle<File>) -> Outcome<Value> {
    let f = f.get()?;
    let f = lock(&f);
    let mut v: Value = serde_json::to_value(f.stat()).map_err(|e| Failure::new(BERTH_ERR_INTERNAL, e.to_string()))?;
    v["path"] = Value::from(f.path());
    Ok(v)
}
