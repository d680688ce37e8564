//! Random access into a stream that cannot seek (zstd), by decoding forward.
//!
//! A small pool of live decoders remembers where each stopped, so reading files in the
//! order the layer stores them costs one pass; a read behind every cursor restarts from
//! the beginning of the blob. Memory: at most [`POOL`] decoders (each a zstd window, up
//! to 8 MiB for ordinary levels, plus a 128 KiB buffer).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use crate::blob::{BlobReader, BlobSource};

const POOL: usize = 2;

type Opener = dyn Fn(Arc<dyn BlobSource>) -> io::Result<Box<dyn Read + Send>> + Send + Sync;

/// A decoder positioned at an uncompressed offset.
struct Cursor {
    reader: Box<dyn Read + Send>,
    pos: u64,
}

pub struct StreamSeeker {
    blob: Arc<dyn BlobSource>,
    open: Box<Opener>,
    pool: Mutex<Vec<Cursor>>,
}

impl StreamSeeker {
    /// A seeker over the zstd stream in `blob`.
    pub fn zstd(blob: Arc<dyn BlobSource>) -> Self {
        StreamSeeker {
            blob,
            open: Box::new(|b: Arc<dyn BlobSource>| {
                let r = OwnedBlobReader { blob: b, offset: 0 };
                Ok(Box::new(zstd::stream::read::Decoder::new(r)?) as Box<dyn Read + Send>)
            }),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Reads up to `buf.len()` uncompressed bytes at `offset`; 0 at the end.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut cursor = self.take_cursor(offset)?;
        let result = skip_to(&mut cursor, offset).and_then(|()| read_full(&mut cursor.reader, buf));
        if let Ok(n) = result {
            cursor.pos += n as u64;
            self.give_back(cursor);
        }
        result
    }

    /// The cursor nearest before `offset`, or a new one at the start.
    fn take_cursor(&self, offset: u64) -> io::Result<Cursor> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let best = pool.iter().enumerate().filter(|(_, c)| c.pos <= offset).max_by_key(|(_, c)| c.pos).map(|(i, _)| i);
        match best {
            Some(i) => Ok(pool.swap_remove(i)),
            None => {
                drop(pool);
                Ok(Cursor { reader: (self.open)(self.blob.clone())?, pos: 0 })
            }
        }
    }

    fn give_back(&self, cursor: Cursor) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() >= POOL {
            // Drop the one furthest behind: forward readers keep their place.
            if let Some(i) = pool.iter().enumerate().min_by_key(|(_, c)| c.pos).map(|(i, _)| i) {
                pool.swap_remove(i);
            }
        }
        pool.push(cursor);
    }
}

fn skip_to(cursor: &mut Cursor, offset: u64) -> io::Result<()> {
    let n = io::copy(&mut (&mut cursor.reader).take(offset - cursor.pos), &mut io::sink())?;
    // Short of `offset` means the stream ended: the read that follows returns 0.
    cursor.pos += n;
    Ok(())
}

/// Fills `buf` unless the stream ends first.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A `BlobReader` that owns its blob, for decoders that must be `'static`.
struct OwnedBlobReader {
    blob: Arc<dyn BlobSource>,
    offset: u64,
}

impl Read for OwnedBlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = BlobReader::new(&*self.blob, self.offset).read(buf)?;
        self.offset += n as u64;
        Ok(n)
    }
}
