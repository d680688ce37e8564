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
use crate::fs::limits::{
    MAX_ENTRIES_PER_LAYER, MAX_NAME_BYTES_PER_LAYER, MAX_SPARSE_SEGMENTS_PER_LAYER, MAX_XATTR_BYTES_PER_LAYER,
    XATTR_OVERHEAD,
};
use crate::fs::names;
use crate::fs::sparse::Piece;
use crate::fs::stream_seek::StreamSeeker;
use crate::fs::tar::{EntryKind, TarEntry, TarReader};
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

/// The markers of a layer, as stored (bytes), for applying them.
#[derive(Debug, Default)]
pub(crate) struct Markers {
    pub whiteouts: Vec<Box<[u8]>>,
    pub opaques: Vec<Box<[u8]>>,
}

/// The index of one layer.
pub struct LayerIndex {
    /// Visible entries (markers removed), in the order the tar stores them.
    pub entries: Vec<TarEntry>,
    /// The markers as the API shows them (names escaped, see `fs::names`).
    pub changes: LayerChanges,
    pub(crate) markers: Markers,
    /// Whether any entry is a hard link (their targets depend on the tree they land in).
    pub(crate) has_hardlinks: bool,
    content: Content,
    what: String,
}

impl LayerIndex {
    /// A layer whose files are a directory on the host (an overlay upper directory, or a
    /// snapshot), read in place.
    pub fn from_dir(root: &std::path::Path, overlay_markers: bool) -> Result<LayerIndex> {
        let (entries, changes, dir) = crate::fs::dir_layer::scan(root, overlay_markers)?;
        let markers = Markers {
            whiteouts: changes.whiteouts.iter().map(|w| w.as_bytes().into()).collect(),
            opaques: changes.opaques.iter().map(|o| o.as_bytes().into()).collect(),
        };
        let what = format!("directory {}", root.display());
        let mut index =
            LayerIndex { entries, changes, markers, has_hardlinks: false, content: Content::Dir(dir), what };
        // Host names are bytes too: show them escaped like a tar's.
        index.changes = index.markers.to_changes();
        Ok(index)
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
        let (content, scanned) = match blob.compression {
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
        let Scanned { entries, markers, has_hardlinks } = scanned;
        let changes = markers.to_changes();
        Ok(LayerIndex { entries, changes, markers, has_hardlinks, content, what: blob.what.clone() })
    }

    /// Reads up to `buf.len()` bytes of `entry`'s file content at `offset`.
    pub fn read_entry_at(&self, entry: &TarEntry, buf: &mut [u8], offset: u64) -> Result<usize> {
        if offset >= entry.size || buf.is_empty() {
            return Ok(0);
        }
        if let Content::Dir(root) = &self.content {
            let rel = std::str::from_utf8(&entry.path).map_err(|_| {
                Error::invalid(format!(
                    "read {} in {}: a host file whose name is not UTF-8 cannot be opened",
                    entry.display_path(),
                    self.what
                ))
            })?;
            return root.read_at(rel, buf, offset);
        }
        let want = clamp(buf.len(), entry.size - offset);
        let buf = &mut buf[..want];
        let Some(map) = &entry.sparse else {
            return self.read_stream(buf, self.stream_offset(entry, offset)?);
        };
        // Sparse: the piece at `offset` (found by binary search); holes read as zeros.
        match map.locate(offset) {
            Piece::Hole { len } => {
                let n = clamp(buf.len(), len);
                buf[..n].fill(0);
                Ok(n)
            }
            Piece::Data { stored, len } => {
                let n = clamp(buf.len(), len);
                self.read_stream(&mut buf[..n], self.stream_offset(entry, stored)?)
            }
        }
    }

    /// Where byte `at` of `entry`'s stored data lies in the uncompressed stream.
    fn stream_offset(&self, entry: &TarEntry, at: u64) -> Result<u64> {
        entry
            .data_offset
            .checked_add(at)
            .ok_or_else(|| Error::corrupt(format!("{}: {}: data offset out of range", self.what, entry.display_path())))
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

impl Markers {
    fn to_changes(&self) -> LayerChanges {
        let show = |v: &[Box<[u8]>]| v.iter().map(|p| display(p)).collect();
        LayerChanges { whiteouts: show(&self.whiteouts), opaques: show(&self.opaques) }
    }
}

/// A relative path as the API shows it (components escaped), without the leading `/`.
fn display(path: &[u8]) -> String {
    let mut s = String::new();
    names::push_path(&mut s, path.split(|&b| b == b'/').filter(|c| !c.is_empty()));
    s.split_off(1.min(s.len()))
}

/// `want` bytes, at most `limit`.
fn clamp(want: usize, limit: u64) -> usize {
    usize::try_from(limit).map_or(want, |l| want.min(l))
}

fn verify_tar<'a, R: Read + 'a>(r: R, digest: Option<Digest>, what: &str) -> Box<dyn Read + 'a> {
    match digest {
        Some(d) => Box::new(VerifyingReader::new(r, d, None, format!("{what} (uncompressed)"))),
        None => Box::new(r),
    }
}

struct Scanned {
    entries: Vec<TarEntry>,
    markers: Markers,
    has_hardlinks: bool,
}

/// What one layer has used of the limits in `fs::limits`.
#[derive(Default)]
struct Usage {
    entries: usize,
    name_bytes: u64,
    xattr_bytes: u64,
    sparse_segments: usize,
}

impl Usage {
    fn add(&mut self, e: &TarEntry, what: &str) -> Result<()> {
        let over = |limit: String| {
            Error::corrupt(format!(
                "{what}: {limit} in one layer, more than berth reads (see Limits in docs/engine.md)"
            ))
        };
        self.entries += 1;
        if self.entries > MAX_ENTRIES_PER_LAYER {
            return Err(over(format!("more than {MAX_ENTRIES_PER_LAYER} entries")));
        }
        let names = e.path.len() as u64 + e.link.as_ref().map_or(0, |l| l.len() as u64);
        self.name_bytes = self.name_bytes.saturating_add(names);
        if self.name_bytes > MAX_NAME_BYTES_PER_LAYER {
            return Err(over(format!("more than {MAX_NAME_BYTES_PER_LAYER} bytes of paths and link targets")));
        }
        self.xattr_bytes = self.xattr_bytes.saturating_add(e.xattr_cost(XATTR_OVERHEAD));
        if self.xattr_bytes > MAX_XATTR_BYTES_PER_LAYER {
            return Err(over(format!(
                "more than {MAX_XATTR_BYTES_PER_LAYER} bytes of extended attributes (counted per entry; \
                 a PAX global header's attributes count for every entry after it)"
            )));
        }
        self.sparse_segments += e.sparse.as_ref().map_or(0, |m| m.segments().len());
        if self.sparse_segments > MAX_SPARSE_SEGMENTS_PER_LAYER {
            return Err(over(format!("more than {MAX_SPARSE_SEGMENTS_PER_LAYER} sparse segments")));
        }
        Ok(())
    }
}

/// One pass: collect entries, turn markers into whiteouts and opaques, then read to the
/// very end so that the digest check sees every byte.
fn scan(stream: Box<dyn Read + '_>, what: &str) -> Result<Scanned> {
    let mut tar = TarReader::new(stream);
    let mut out = Scanned { entries: Vec::new(), markers: Markers::default(), has_hardlinks: false };
    let mut usage = Usage::default();
    while let Some(entry) = tar.next_entry().map_err(|e| e.context(what))? {
        usage.add(&entry, what)?;
        let path = &entry.path[..];
        let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&path[..0], path),
        };
        if name == OPAQUE_MARKER.as_bytes() {
            out.markers.opaques.push(parent.into());
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            // `.wh..wh.*` names other than the opaque marker are aufs metadata
            // (`.wh..wh.plnk`, ...): never shown, and they delete nothing.
            if !hidden.starts_with(WHITEOUT_PREFIX.as_bytes()) && !hidden.is_empty() {
                let mut p = parent.to_vec();
                if !p.is_empty() {
                    p.push(b'/');
                }
                p.extend_from_slice(hidden);
                out.markers.whiteouts.push(p.into());
            }
        } else {
            out.has_hardlinks |= entry.kind == EntryKind::Hardlink;
            out.entries.push(entry);
        }
    }
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| Error::io(what, e))?;
    Ok(out)
}
