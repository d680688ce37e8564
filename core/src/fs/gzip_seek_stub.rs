//! TEMPORARY stand-in until the checkpointing gzip seeker lands.
use std::io::{self, Read};
use std::sync::Arc;
use crate::blob::{BlobReader, BlobSource};

pub struct GzipSeeker { blob: Arc<dyn BlobSource> }
impl GzipSeeker {
    pub fn new(blob: Arc<dyn BlobSource>) -> Self { GzipSeeker { blob } }
    pub fn indexing_reader<'a, R: Read + 'a>(&'a self, compressed: R) -> impl Read + 'a {
        flate2::read::MultiGzDecoder::new(compressed)
    }
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut d = flate2::read::MultiGzDecoder::new(BlobReader::new(&*self.blob, 0));
        io::copy(&mut (&mut d).take(offset), &mut io::sink())?;
        let mut filled = 0;
        while filled < buf.len() { let n = d.read(&mut buf[filled..])?; if n == 0 { break } filled += n; }
        Ok(filled)
    }
}
