//! A layer's index: one pass over its blob records every entry, the whiteouts and
//! opaque markers, and where each file's bytes lie; afterwards any file is read by
//! offset without another pass.

use std::io::{self, Read};
use std::sync::Arc;

use crate::blob::{BlobReader, BlobSource};
use crate::digest::{Digest, VerifyingReader};
use crate::error::{Error, Result};
use crate::fs::compression;
use crate::fs::gzip_seek::GzipSeeker;
use crate::fs::stream_seek::StreamSeeker;
use crate::fs::tar::{TarEntry, TarReader};
use crate::model::{Compression, LayerChanges};

/// The whiteout prefix of the OCI layer spec: `.wh.NAME` deletes NAME below.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The opaque marker: hides the lower contents of its directory. Exact name only.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What the digest check covers: the blob as stored, or (docker-archive layers that
/// carry only a diff-id) the uncompressed tar.
#[derive(Debug, Clone)]
pub enum Verify {
    Blob(Digest),
    DiffId(Digest),
}

/// Everything needed to index and read one layer blob.
#[derive(Clone)]
pub struct LayerBlob {
    pub source: Arc<dyn BlobSource>,
    pub compression: Compression,
    pub verify: Verify,
    /// The declared blob size, checked along with the digest.
    pub size: Option<u64>,
    /// A name for messages: "layer sha256:ab12… of image x".
    pub what: String,
}

/// Random access to a layer's uncompressed bytes (or, for a directory layer, to the
/// files of a directory on the host).
enum Content {
    Plain(Arc<dyn BlobSource>),
    Gzip(GzipSeeker),
    Zstd(StreamSeeker),
    Dir(crate::fs::dir_layer::DirRoot),
}

impl Content {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Content::Plain(b) => b.read_at(buf, offset),
            Content::Gzip(g) => g.read_at(buf, offset),
            Content::Zstd(z) => z.read_at(buf, offset),
            Content::Dir(_) => Err(std::io::Error::other("a directory layer has no stream")),
        }
    }
}

/// The index of one layer.
pub struct LayerIndex {
    /// Visible entries (markers removed), in the order the tar stores them.
    pub entries: Vec<TarEntry>,
    pub changes: LayerChanges,
    content: Content,
    what: String,
}

impl LayerIndex {
    /// A layer whose files are a directory on the host (an overlay upper directory, or a
    /// snapshot), read in place.
    pub fn from_dir(root: &std::path::Path, overlay_markers: bool) -> Result<LayerIndex> {
        let (entries, changes, dir) = crate::fs::dir_layer::scan(root, overlay_markers)?;
        Ok(LayerIndex { entries, changes, content: Content::Dir(dir), what: format!("directory {}", root.display()) })
    }

    /// Reads the whole layer once, checking its digest, and indexes it.
    pub fn build(blob: &LayerBlob) -> Result<LayerIndex> {
        let mut head = [0u8; 4];
        let n = blob.source.read_at(&mut head, 0).map_err(|e| Error::io(&blob.what, e))?;
        compression::check_magic(blob.compression, &head[..n], &blob.what)?;

        // Big sequential reads: a blob source may be a remote call per read (containerd's
        // content API), and the tar reader asks for 512-byte headers.
        let raw = std::io::BufReader::with_capacity(256 * 1024, BlobReader::new(&*blob.source, 0));
        let (blob_digest, tar_digest) = match &blob.verify {
            Verify::Blob(d) => (Some(d.clone()), None),
            Verify::DiffId(d) => (None, Some(d.clone())),
        };
        let compressed: Box<dyn Read + '_> = match blob_digest {
            Some(d) => Box::new(VerifyingReader::new(raw, d, blob.size, blob.what.clone())),
            None => Box::new(raw),
        };
        let (content, index) = match blob.compression {
            Compression::None => {
                let index = scan(verify_tar(compressed, tar_digest, &blob.what), &blob.what)?;
                (Content::Plain(blob.source.clone()), index)
            }
            Compression::Gzip => {
                let seeker = GzipSeeker::new(blob.source.clone());
                let index = scan(verify_tar(seeker.indexing_reader(compressed), tar_digest, &blob.what), &blob.what)?;
                (Content::Gzip(seeker), index)
            }
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::new(compressed)
                    .map_err(|e| Error::io(format!("{}: zstd", blob.what), e))?;
                let index = scan(verify_tar(decoder, tar_digest, &blob.what), &blob.what)?;
                (Content::Zstd(StreamSeeker::zstd(blob.source.clone())), index)
            }
        };
        let (entries, changes) = index;
        Ok(LayerIndex { entries, changes, content, what: blob.what.clone() })
    }

    /// Reads up to `buf.len()` bytes of `entry`'s file content at `offset`.
    pub fn read_entry_at(&self, entry: &TarEntry, buf: &mut [u8], offset: u64) -> Result<usize> {
        if offset >= entry.size || buf.is_empty() {
            return Ok(0);
        }
        if let Content::Dir(root) = &self.content {
            return root.read_at(&entry.path, buf, offset);
        }
        let want = buf.len().min((entry.size - offset) as usize);
        let buf = &mut buf[..want];
        let Some(segments) = &entry.sparse else {
            return self.read_stream(buf, entry.data_offset + offset);
        };
        // Sparse: find the segment at or after `offset`; holes read as zeros.
        let mut stored = 0u64;
        for seg in segments {
            if offset < seg.offset {
                let hole = ((seg.offset - offset) as usize).min(buf.len());
                buf[..hole].fill(0);
                return Ok(hole);
            }
            if offset < seg.offset + seg.len {
                let within = offset - seg.offset;
                let n = buf.len().min((seg.len - within) as usize);
                return self.read_stream(&mut buf[..n], entry.data_offset + stored + within);
            }
            stored += seg.len;
        }
        // After the last segment: a trailing hole up to the file size.
        buf.fill(0);
        Ok(buf.len())
    }

    fn read_stream(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let n = self
            .content
            .read_at(buf, offset)
            .map_err(|e| Error::io(format!("{}: reading at offset {offset}", self.what), e))?;
        if n == 0 {
            return Err(Error::corrupt(format!("{}: data ends early at offset {offset}", self.what)));
        }
        Ok(n)
    }
}

fn verify_tar<'a, R: Read + 'a>(r: R, digest: Option<Digest>, what: &str) -> Box<dyn Read + 'a> {
    match digest {
        Some(d) => Box::new(VerifyingReader::new(r, d, None, format!("{what} (uncompressed)"))),
        None => Box::new(r),
    }
}

/// One pass: collect entries, turn markers into whiteouts and opaques, then read to the
/// very end so that the digest check sees every byte.
fn scan(stream: Box<dyn Read + '_>, what: &str) -> Result<(Vec<TarEntry>, LayerChanges)> {
    let mut tar = TarReader::new(stream);
    let mut entries = Vec::new();
    let mut changes = LayerChanges { whiteouts: Vec::new(), opaques: Vec::new() };
    while let Some(entry) = tar.next_entry().map_err(|e| e.context(what))? {
        let (parent, name) = match entry.path.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", entry.path.as_str()),
        };
        if name == OPAQUE_MARKER {
            changes.opaques.push(parent.to_string());
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            // `.wh..wh.*` names other than the opaque marker are aufs metadata
            // (`.wh..wh.plnk`, ...): never shown, and they delete nothing.
            if !hidden.starts_with(WHITEOUT_PREFIX) && !hidden.is_empty() {
                let path = if parent.is_empty() { hidden.to_string() } else { format!("{parent}/{hidden}") };
                changes.whiteouts.push(path);
            }
        } else {
            entries.push(entry);
        }
    }
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| Error::io(what, e))?;
    Ok((entries, changes))
}
