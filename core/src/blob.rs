//! Blobs: content-addressed byte ranges that the image engine reads.
//!
//! Every backend ends in the same place: a manifest, a config and layer blobs. A backend
//! hands the engine a [`BlobSource`] per blob (a range of a file on disk, a range inside
//! an archive, a content-store reader), and the engine never needs to know which.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Positional, thread-safe access to the bytes of one blob.
///
/// `read_at` takes `&self` so that many readers can share one source without a lock;
/// it may return fewer bytes than asked (0 only at the end).
pub trait BlobSource: Send + Sync {
    /// The blob's length in bytes.
    fn len(&self) -> u64;

    /// Reads up to `buf.len()` bytes starting at `offset`; 0 means `offset >= len()`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// True when the blob has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A byte range of a file: a blob in an OCI layout, or a member of an uncompressed archive.
pub struct FileRange {
    file: Arc<File>,
    start: u64,
    len: u64,
}

impl FileRange {
    /// The range `[start, start + len)` of `file`.
    pub fn new(file: Arc<File>, start: u64, len: u64) -> Self {
        FileRange { file, start, len }
    }
}

impl BlobSource for FileRange {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = buf.len().min((self.len - offset) as usize);
        self.file.read_at(&mut buf[..want], self.start + offset)
    }
}

/// A blob held in memory (small documents, and test fixtures).
impl BlobSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let data = self.as_slice();
        if offset >= data.len() as u64 {
            return Ok(0);
        }
        let rest = &data[offset as usize..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// A sequential [`io::Read`] over a blob, from `offset` to its end.
pub struct BlobReader<'a> {
    source: &'a dyn BlobSource,
    offset: u64,
}

impl<'a> BlobReader<'a> {
    /// Reads `source` from `offset` on.
    pub fn new(source: &'a dyn BlobSource, offset: u64) -> Self {
        BlobReader { source, offset }
    }
}

impl io::Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}
