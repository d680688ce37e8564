//! A streaming tar reader that records where each entry's data lies.
//!
//! The `tar` crate extracts; berth needs an index: for every entry its metadata and the
//! offset of its bytes in the uncompressed stream, including the segment map of sparse
//! files, so that a file can later be read at any offset without a second pass. It
//! reads ustar, GNU (long names `L`/`K`, old sparse `S`, base-256 numbers) and PAX
//! (`x` and global `g` records, sparse formats 0.0, 0.1 and 1.0, `SCHILY.xattr.*`).
//!
//! Everything in a header comes from an untrusted image: names stay bytes (see
//! `fs::names` for how they are shown), sizes are refused when negative or past
//! 2^63 − 1 (as Go's `archive/tar` does), and every offset is computed with checked
//! arithmetic, so no size can wrap the reader onto bytes that are not a header.

use std::io::{self, Read};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fs::limits::{MAX_META_RECORD, MAX_SPARSE_SEGMENTS_PER_FILE};
use crate::fs::names;
use crate::fs::sparse::SparseMap;
pub use crate::fs::sparse::SparseSegment;
use crate::fs::xattr::{XattrMap, XattrValue};

const BLOCK: usize = 512;
const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

/// The type of a tar entry, after GNU and PAX extensions are folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

/// One entry of a tar stream, with where its data is.
#[derive(Debug, Clone)]
pub struct TarEntry {
    /// The path as stored, normalised: relative, no `.` or empty components, `..`
    /// clamped at the root; empty for the root directory itself.
    pub path: Box<[u8]>,
    pub kind: EntryKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// The logical size of the file (for sparse files, the size with holes).
    pub size: u64,
    /// Seconds since the epoch; negative before 1970.
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Symlink target as written, or the normalised path a hard link points to.
    pub link: Option<Box<[u8]>>,
    pub dev_major: u32,
    pub dev_minor: u32,
    /// Extended attributes by raw name; entries with the same set share one map.
    pub xattrs: Option<Arc<XattrMap>>,
    /// Offset of the first data byte in the uncompressed stream.
    pub data_offset: u64,
    /// For sparse files, the data segments, stored one after another from `data_offset`.
    pub sparse: Option<Box<SparseMap>>,
}

impl TarEntry {
    /// The path as the API shows it: `/`-separated, each component in the escaped form
    /// of `fs::names`.
    pub fn display_path(&self) -> String {
        let mut s = String::with_capacity(self.path.len() + 1);
        names::push_path(&mut s, self.path.split(|&b| b == b'/').filter(|c| !c.is_empty()));
        s
    }

    /// The bytes that the attributes of this entry count against the per-layer limit
    /// (see `fs::limits::MAX_XATTR_BYTES_PER_LAYER`).
    pub fn xattr_cost(&self, overhead: u64) -> u64 {
        self.xattrs.as_ref().map_or(0, |m| {
            m.iter().fold(0u64, |sum, (k, v)| sum.saturating_add(k.len() as u64 + v.len() as u64 + overhead))
        })
    }
}

/// Normalises a tar path: strips `./` and `/` prefixes, drops empty and `.` components,
/// and clamps `..` at the root, so no entry can name a place outside the tree.
pub fn normalize(raw: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join(&b'/')
}

/// [`normalize`] for a path that is text (archive member names, manifest paths).
pub fn normalize_path(raw: &str) -> String {
    // Splitting valid UTF-8 at `/` and joining the pieces keeps it valid.
    String::from_utf8(normalize(raw.as_bytes())).unwrap_or_default()
}

/// Reads tar headers from a stream, skipping data unless the caller reads it.
pub struct TarReader<R> {
    inner: R,
    /// Bytes consumed from `inner` so far.
    pos: u64,
    /// Data bytes of the current entry not yet consumed, then its padding.
    remaining: u64,
    padding: u64,
    /// Records of the PAX global headers so far (the sparse keys are never global).
    globals: Pax,
    /// The global attributes as one shared map, given to every entry without its own.
    global_xattrs: Option<Arc<XattrMap>>,
    scratch: Vec<u8>,
    done: bool,
}

/// The PAX records berth reads, from one `x` header or all `g` headers so far.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<Vec<u8>>,
    uid: Option<Vec<u8>>,
    gid: Option<Vec<u8>>,
    mtime: Option<Vec<u8>>,
    xattrs: XattrMap,
    sparse: SparseRecords,
}

/// The GNU sparse records of a PAX header (formats 0.0, 0.1 and 1.0).
#[derive(Default)]
struct SparseRecords {
    name: Option<Vec<u8>>,
    realsize: Option<Vec<u8>>,
    size: Option<Vec<u8>>,
    major: Option<Vec<u8>>,
    map: Option<Vec<u8>>,
    /// 0.0: `GNU.sparse.offset` and `GNU.sparse.numbytes` records, in order.
    offsets: Vec<Vec<u8>>,
    numbytes: Vec<Vec<u8>>,
}

impl SparseRecords {
    fn any(&self) -> bool {
        self.realsize.is_some() || self.size.is_some() || self.major.is_some() || self.map.is_some()
    }
}

/// Extended attributes gathered from GNU and PAX records for the next entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Pax,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            globals: Pax::default(),
            global_xattrs: None,
            scratch: vec![0; 64 * 1024],
            done: false,
        }
    }

    /// Bytes consumed from the stream so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The underlying reader (to drain it after the end-of-archive marker).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next entry, or `None` at the end of the archive. Unread data of the previous
    /// entry is skipped.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        if self.done {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut pending = Pending::default();
        loop {
            let header_at = self.pos;
            let mut h = [0u8; BLOCK];
            if !self.read_block(&mut h)? {
                // EOF without the zero blocks: many writers stop here; accept it.
                self.done = true;
                return Ok(None);
            }
            if h.iter().all(|&b| b == 0) {
                self.done = true;
                return Ok(None);
            }
            verify_checksum(&h, header_at)?;
            let typeflag = h[156];
            let size = parse_size(&h[124..136], "size", header_at)?;
            match typeflag {
                b'L' | b'K' => {
                    let name = c_bytes(&self.read_meta(size, header_at)?).to_vec();
                    if typeflag == b'L' {
                        pending.long_name = Some(name);
                    } else {
                        pending.long_link = Some(name);
                    }
                }
                b'x' => {
                    let data = self.read_meta(size, header_at)?;
                    parse_pax(&data, header_at, &mut pending.pax)?;
                }
                b'g' => {
                    let data = self.read_meta(size, header_at)?;
                    parse_pax(&data, header_at, &mut self.globals)?;
                    // Sparse records describe one file; they never apply globally.
                    self.globals.sparse = SparseRecords::default();
                    self.global_xattrs =
                        (!self.globals.xattrs.is_empty()).then(|| Arc::new(self.globals.xattrs.clone()));
                }
                b'V' => self.skip_data(size, header_at)?,
                _ => return self.entry_from_header(&h, typeflag, size, header_at, pending).map(Some),
            }
        }
    }

    /// Reads data of the current entry (stored bytes, sparse segments back to back).
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.read_some(&mut buf[..want])?;
        if n == 0 {
            return Err(truncated(self.pos));
        }
        self.remaining -= n as u64;
        Ok(n)
    }

    fn entry_from_header(
        &mut self,
        h: &[u8; BLOCK],
        typeflag: u8,
        stored_size: u64,
        header_at: u64,
        pending: Pending,
    ) -> Result<TarEntry> {
        let local = &pending.pax;
        let globals = &self.globals;
        let pax = |pick: fn(&Pax) -> &Option<Vec<u8>>| pick(local).as_ref().or(pick(globals).as_ref());
        let bad_pax = |k: &str, v: &[u8]| {
            Error::corrupt(format!(
                "tar header at offset {header_at}: bad PAX {k}={:?}",
                String::from_utf8_lossy(&v[..v.len().min(64)])
            ))
        };
        let pax_num = |k: &str, pick: fn(&Pax) -> &Option<Vec<u8>>| -> Result<Option<u64>> {
            match pax(pick) {
                None => Ok(None),
                Some(v) => decimal(v).map(Some).ok_or_else(|| bad_pax(k, v)),
            }
        };

        let ustar = &h[257..263] == b"ustar\0";
        let mut name = c_bytes(&h[0..100]).to_vec();
        if ustar && h[345] != 0 {
            let mut full = c_bytes(&h[345..500]).to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
        let name = match local.sparse.name.as_ref().or(pax(|p| &p.path)) {
            Some(n) => n.clone(),
            None => pending.long_name.clone().unwrap_or(name),
        };
        let link = match pax(|p| &p.linkpath) {
            Some(l) => l.clone(),
            None => pending.long_link.clone().unwrap_or_else(|| c_bytes(&h[157..257]).to_vec()),
        };

        let mut kind = match typeflag {
            b'0' | 0 | b'7' | b'S' => EntryKind::File,
            b'1' => EntryKind::Hardlink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::Char,
            b'4' => EntryKind::Block,
            b'5' | b'D' => EntryKind::Dir,
            b'6' => EntryKind::Fifo,
            other => {
                return Err(Error::corrupt(format!(
                    "tar header at offset {header_at}: unsupported entry type {:?}",
                    other as char
                )))
            }
        };
        // Old writers mark directories only by a trailing slash on a regular entry.
        if kind == EntryKind::File && name.ends_with(b"/") {
            kind = EntryKind::Dir;
        }
        let mode = parse_unsigned(&h[100..108], "mode", header_at)? as u32 & 0o7777;
        let uid = match pax_num("uid", |p| &p.uid)? {
            Some(v) => v,
            None => parse_unsigned(&h[108..116], "uid", header_at)?,
        };
        let gid = match pax_num("gid", |p| &p.gid)? {
            Some(v) => v,
            None => parse_unsigned(&h[116..124], "gid", header_at)?,
        };
        let (mtime, mtime_nsec) = match pax(|p| &p.mtime) {
            Some(v) => parse_pax_time(v).ok_or_else(|| bad_pax("mtime", v))?,
            None => (parse_signed(&h[136..148], "mtime", header_at)?, 0),
        };
        let stored_size = match pax_num("size", |p| &p.size)? {
            Some(v) if v > i64::MAX as u64 => {
                return Err(bad_pax("size", &pax(|p| &p.size).cloned().unwrap_or_default()))
            }
            Some(v) => v,
            None => stored_size,
        };
        let (dev_major, dev_minor) = if ustar || &h[257..265] == b"ustar  \0" {
            (
                parse_unsigned(&h[329..337], "devmajor", header_at)? as u32,
                parse_unsigned(&h[337..345], "devminor", header_at)? as u32,
            )
        } else {
            (0, 0)
        };
        let xattrs = if local.xattrs.is_empty() {
            self.global_xattrs.clone()
        } else {
            // Own attributes over the global ones; the values stay shared.
            let mut m = self.globals.xattrs.clone();
            m.extend(local.xattrs.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(Arc::new(m))
        };

        // Hard links, symlinks, devices and directories carry no data, whatever size says
        // (some writers put the target's size on hard links).
        let has_data = kind == EntryKind::File;
        let stored = if has_data { stored_size } else { 0 };
        self.remaining = stored;
        // Sizes are at most 2^63 - 1, so this cannot wrap; checked all the same.
        self.padding = padding_of(stored_size)
            .checked_add(stored_size - stored)
            .ok_or_else(|| Error::corrupt(format!("tar header at offset {header_at}: size out of range")))?;
        let data_offset = self.pos;

        let mut entry = TarEntry {
            path: normalize(&name).into(),
            kind,
            mode,
            uid,
            gid,
            size: stored,
            mtime,
            mtime_nsec,
            link: None,
            dev_major,
            dev_minor,
            xattrs,
            data_offset,
            sparse: None,
        };
        match kind {
            EntryKind::Symlink => entry.link = Some(link.into()),
            EntryKind::Hardlink => entry.link = Some(normalize(&link).into()),
            _ => {}
        }
        if typeflag == b'S' {
            self.read_gnu_sparse(h, &mut entry, header_at)?;
        } else if pending.pax.sparse.any() {
            self.read_pax_sparse(&pending.pax.sparse, &mut entry, header_at)?;
        }
        Ok(entry)
    }

    /// Old GNU sparse (`S`): four segments in the header, more in extension blocks.
    fn read_gnu_sparse(&mut self, h: &[u8; BLOCK], entry: &mut TarEntry, at: u64) -> Result<()> {
        let mut segs = Vec::new();
        push_sparse_slots(&h[386..482], &mut segs, at)?;
        let mut extended = h[482] != 0;
        entry.size = parse_size(&h[483..495], "realsize", at)?;
        // The extension blocks sit between the header and the data.
        while extended {
            let mut ext = [0u8; BLOCK];
            if !self.read_block(&mut ext)? {
                return Err(truncated(self.pos));
            }
            push_sparse_slots(&ext[..504], &mut segs, at)?;
            extended = ext[504] != 0;
        }
        entry.data_offset = self.pos;
        entry.sparse = Some(sparse_map(segs, entry.size, self.remaining, at)?);
        Ok(())
    }

    /// PAX sparse formats: 0.0 (repeated offset/numbytes), 0.1 (a map string) and 1.0
    /// (the map at the start of the data, in decimal lines padded to a block).
    fn read_pax_sparse(&mut self, s: &SparseRecords, entry: &mut TarEntry, at: u64) -> Result<()> {
        let bad = |what: &str| Error::corrupt(format!("tar header at offset {at}: bad sparse {what}"));
        let segs: Vec<SparseSegment> = if s.major.as_deref() == Some(&b"1"[..]) {
            self.read_sparse_1_0_map(at)?
        } else {
            let values: Vec<u64> = match &s.map {
                Some(map) => map
                    .split(|&b| b == b',')
                    .filter(|x| !x.is_empty())
                    .map(|x| decimal(x.trim_ascii()).ok_or_else(|| bad("map")))
                    .collect::<Result<_>>()?,
                None => {
                    let mut v = Vec::with_capacity(2 * s.offsets.len().min(s.numbytes.len()));
                    for (o, n) in s.offsets.iter().zip(&s.numbytes) {
                        v.push(decimal(o).ok_or_else(|| bad("offset"))?);
                        v.push(decimal(n).ok_or_else(|| bad("numbytes"))?);
                    }
                    v
                }
            };
            if values.len() % 2 != 0 {
                return Err(bad("map (odd number of values)"));
            }
            if values.len() / 2 > MAX_SPARSE_SEGMENTS_PER_FILE {
                return Err(bad(&format!("map (more than {MAX_SPARSE_SEGMENTS_PER_FILE} segments)")));
            }
            values.chunks(2).map(|p| SparseSegment { offset: p[0], len: p[1] }).collect()
        };
        entry.size = match s.realsize.as_ref().or(s.size.as_ref()) {
            Some(r) => decimal(r.trim_ascii()).filter(|&v| v <= i64::MAX as u64).ok_or_else(|| bad("realsize"))?,
            None => match segs.last() {
                Some(l) => l.offset.checked_add(l.len).ok_or_else(|| bad("map (a segment ends past 2^64)"))?,
                None => 0,
            },
        };
        entry.data_offset = self.pos;
        entry.sparse = Some(sparse_map(segs, entry.size, self.remaining, at)?);
        Ok(())
    }

    /// The PAX 1.0 map: decimal lines (the count, then offset and length per segment) at
    /// the start of the data, padded to a block. Parsed as it streams by, once.
    fn read_sparse_1_0_map(&mut self, at: u64) -> Result<Vec<SparseSegment>> {
        let bad = |why: &str| Error::corrupt(format!("tar entry at offset {at}: bad sparse 1.0 map ({why})"));
        let mut map = MapParser::default();
        let mut read = 0u64;
        loop {
            if self.remaining < BLOCK as u64 {
                return Err(bad("it runs past the entry's data"));
            }
            if read >= MAX_META_RECORD {
                return Err(bad(&format!("longer than {MAX_META_RECORD} bytes")));
            }
            let mut b = [0u8; BLOCK];
            if !self.read_block(&mut b)? {
                return Err(truncated(self.pos));
            }
            self.remaining -= BLOCK as u64;
            read += BLOCK as u64;
            for &c in &b {
                if map.feed(c).map_err(bad)? {
                    return Ok(map.segments);
                }
            }
        }
    }

    fn read_meta(&mut self, size: u64, at: u64) -> Result<Vec<u8>> {
        if size > MAX_META_RECORD {
            return Err(Error::corrupt(format!(
                "tar header at offset {at}: metadata record of {size} bytes is too large (limit {MAX_META_RECORD})"
            )));
        }
        let mut data = vec![0u8; size as usize];
        self.read_exact_or_truncated(&mut data)?;
        self.skip(padding_of(size))?;
        Ok(data)
    }

    fn skip_data(&mut self, size: u64, at: u64) -> Result<()> {
        let n = size
            .checked_add(padding_of(size))
            .ok_or_else(|| Error::corrupt(format!("tar header at offset {at}: size out of range")))?;
        self.skip(n)
    }

    fn skip_rest(&mut self) -> Result<()> {
        let n = self
            .remaining
            .checked_add(self.padding)
            .ok_or_else(|| Error::corrupt(format!("tar stream at offset {}: entry size out of range", self.pos)))?;
        self.remaining = 0;
        self.padding = 0;
        self.skip(n)
    }

    fn skip(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let want = n.min(self.scratch.len() as u64) as usize;
            let mut scratch = std::mem::take(&mut self.scratch);
            let got = self.read_some(&mut scratch[..want]);
            self.scratch = scratch;
            let got = got?;
            if got == 0 {
                return Err(truncated(self.pos));
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// Reads one block; false on a clean EOF before its first byte.
    fn read_block(&mut self, b: &mut [u8; BLOCK]) -> Result<bool> {
        let mut filled = 0;
        while filled < BLOCK {
            let n = self.read_some(&mut b[filled..])?;
            if n == 0 {
                return if filled == 0 { Ok(false) } else { Err(truncated(self.pos)) };
            }
            filled += n;
        }
        Ok(true)
    }

    fn read_exact_or_truncated(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            let n = self.read_some(&mut buf[filled..])?;
            if n == 0 {
                return Err(truncated(self.pos));
            }
            filled += n;
        }
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("reading tar stream at offset {}", self.pos), e)),
            }
        }
    }
}

/// The PAX sparse 1.0 map, fed one byte at a time: no text is kept, only the number
/// being read and the segments so far.
#[derive(Default)]
struct MapParser {
    count: Option<usize>,
    number: Option<u64>,
    offset: Option<u64>,
    segments: Vec<SparseSegment>,
}

impl MapParser {
    /// Takes the next byte; true once every segment the count announced is read.
    fn feed(&mut self, c: u8) -> std::result::Result<bool, &'static str> {
        match c {
            b'0'..=b'9' => {
                let n = self.number.unwrap_or(0);
                self.number = Some(
                    n.checked_mul(10).and_then(|n| n.checked_add(u64::from(c - b'0'))).ok_or("a number overflows")?,
                );
                Ok(false)
            }
            b'\n' => {
                let v = self.number.take().ok_or("an empty line")?;
                match (self.count, self.offset.take()) {
                    (None, _) => {
                        let n = usize::try_from(v).ok().filter(|&n| n <= MAX_SPARSE_SEGMENTS_PER_FILE);
                        let n = n.ok_or("more segments than berth reads in one file")?;
                        // Reserve a little: the count is a claim, the lines are the proof.
                        self.segments.reserve(n.min(4096));
                        self.count = Some(n);
                    }
                    (Some(_), None) => self.offset = Some(v),
                    (Some(_), Some(offset)) => self.segments.push(SparseSegment { offset, len: v }),
                }
                Ok(self.count == Some(self.segments.len()) && self.offset.is_none())
            }
            _ => Err("a byte that is not a digit or a newline"),
        }
    }
}

fn sparse_map(segs: Vec<SparseSegment>, size: u64, stored: u64, at: u64) -> Result<Box<SparseMap>> {
    if segs.len() > MAX_SPARSE_SEGMENTS_PER_FILE {
        return Err(Error::corrupt(format!(
            "tar entry at offset {at}: more than {MAX_SPARSE_SEGMENTS_PER_FILE} sparse segments in one file"
        )));
    }
    SparseMap::new(segs, size, stored)
        .map(Box::new)
        .map_err(|why| Error::corrupt(format!("tar entry at offset {at}: bad sparse map: {why}")))
}

fn truncated(pos: u64) -> Error {
    Error::corrupt(format!("truncated tar stream: it ends inside an entry at offset {pos}"))
}

fn padding_of(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// A NUL-terminated header field.
fn c_bytes(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

/// A decimal number (PAX values), digits only.
fn decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |n, &c| match c {
        b'0'..=b'9' => n.checked_mul(10)?.checked_add(u64::from(c - b'0')),
        _ => None,
    })
}

fn verify_checksum(h: &[u8; BLOCK], at: u64) -> Result<()> {
    let want = parse_unsigned(&h[148..156], "checksum", at)?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in h.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += b as u64;
        signed += b as i8 as i64;
    }
    // Some old writers summed signed bytes; accept either, as GNU tar does.
    if want == unsigned || want as i64 == signed {
        Ok(())
    } else {
        Err(Error::corrupt(format!("tar header at offset {at}: checksum mismatch (not a tar stream, or corrupt)")))
    }
}

/// A numeric header field: octal text (NUL or space padded), or GNU base-256 when the
/// high bit of the first byte is set — two's complement, so negative when the next bit
/// is set too (pre-1970 mtimes), as GNU tar writes and Go's `archive/tar` reads it.
fn parse_signed(field: &[u8], what: &str, at: u64) -> Result<i64> {
    let overflow = || Error::corrupt(format!("tar header at offset {at}: {what} is out of range"));
    if field[0] & 0x80 != 0 {
        let inv = if field[0] & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &b) in field.iter().enumerate() {
            let b = if i == 0 { (b ^ inv) & 0x7f } else { b ^ inv };
            if x >> 56 != 0 {
                return Err(overflow());
            }
            x = x << 8 | u64::from(b);
        }
        if x >> 63 != 0 {
            return Err(overflow());
        }
        let x = x as i64;
        return Ok(if inv == 0xff { !x } else { x });
    }
    let text = field.iter().copied().skip_while(|&b| b == b' ' || b == 0);
    let mut v: i64 = 0;
    for b in text {
        match b {
            b'0'..=b'7' => {
                v = v.checked_mul(8).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or_else(overflow)?;
            }
            b' ' | 0 => break,
            _ => return Err(Error::corrupt(format!("tar header at offset {at}: {what} field is not an octal number"))),
        }
    }
    // An all-blank field is 0, as GNU tar reads it.
    Ok(v)
}

/// A field that cannot be negative (mode, ids, device numbers, sparse offsets).
fn parse_unsigned(field: &[u8], what: &str, at: u64) -> Result<u64> {
    let v = parse_signed(field, what, at)?;
    u64::try_from(v).map_err(|_| Error::corrupt(format!("tar header at offset {at}: negative {what} ({v})")))
}

/// A size: not negative (Go's `archive/tar` refuses those too), at most 2^63 - 1.
fn parse_size(field: &[u8], what: &str, at: u64) -> Result<u64> {
    parse_unsigned(field, what, at)
}

fn push_sparse_slots(area: &[u8], segs: &mut Vec<SparseSegment>, at: u64) -> Result<()> {
    for slot in area.chunks_exact(24) {
        if slot[0] == 0 {
            break;
        }
        if segs.len() >= MAX_SPARSE_SEGMENTS_PER_FILE {
            return Err(Error::corrupt(format!(
                "tar entry at offset {at}: more than {MAX_SPARSE_SEGMENTS_PER_FILE} sparse segments in one file"
            )));
        }
        let offset = parse_unsigned(&slot[..12], "sparse offset", at)?;
        let len = parse_unsigned(&slot[12..], "sparse length", at)?;
        segs.push(SparseSegment { offset, len });
    }
    Ok(())
}

/// PAX records: `LEN key=value\n`, LEN counting the whole record, folded into `into`
/// (a later record of the same key wins; sparse 0.0 pairs accumulate in order).
fn parse_pax(data: &[u8], at: u64, into: &mut Pax) -> Result<()> {
    let bad = || Error::corrupt(format!("tar PAX header at offset {at}: malformed record"));
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let len = usize::try_from(decimal(&rest[..sp]).ok_or_else(bad)?).map_err(|_| bad())?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = &rest[sp + 1..len - 1];
        let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        // A name cannot hold a NUL: a path with one could be listed but never opened (and
        // C tools would cut it short). Go's archive/tar, which containerd and Docker use,
        // refuses such records too, so the runtimes never apply the layer.
        let names_a_path = matches!(key, b"path" | b"linkpath" | b"GNU.sparse.name");
        if names_a_path && value.contains(&0) {
            return Err(Error::corrupt(format!(
                "tar PAX header at offset {at}: {} contains a NUL byte",
                String::from_utf8_lossy(key)
            )));
        }
        let v = || Some(value.to_vec());
        match key {
            b"path" => into.path = v(),
            b"linkpath" => into.linkpath = v(),
            b"size" => into.size = v(),
            b"uid" => into.uid = v(),
            b"gid" => into.gid = v(),
            b"mtime" => into.mtime = v(),
            b"GNU.sparse.name" => into.sparse.name = v(),
            b"GNU.sparse.realsize" => into.sparse.realsize = v(),
            b"GNU.sparse.size" => into.sparse.size = v(),
            b"GNU.sparse.major" => into.sparse.major = v(),
            b"GNU.sparse.map" => into.sparse.map = v(),
            b"GNU.sparse.offset" => into.sparse.offsets.push(value.to_vec()),
            b"GNU.sparse.numbytes" => into.sparse.numbytes.push(value.to_vec()),
            _ => {
                if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
                    into.xattrs.insert(name.into(), XattrValue::new(value));
                }
            }
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// PAX times: decimal seconds with an optional fraction, possibly negative.
fn parse_pax_time(v: &[u8]) -> Option<(i64, u32)> {
    let v = std::str::from_utf8(v).ok()?;
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut digits: String = frac.chars().take(9).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while digits.len() < 9 {
        digits.push('0');
    }
    Some((secs, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        assert_eq!(normalize_path("./etc/passwd"), "etc/passwd");
        assert_eq!(normalize_path("/etc//x/"), "etc/x");
        assert_eq!(normalize_path("../../etc/./x"), "etc/x");
        assert_eq!(normalize_path("a/../../b"), "b");
        assert_eq!(normalize_path("./"), "");
        assert_eq!(normalize(b"./bad\xff/../bad\xfe"), b"bad\xfe");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_unsigned(b"0000644\0", "m", 0).unwrap(), 0o644);
        assert_eq!(parse_unsigned(b"     17 ", "m", 0).unwrap(), 0o17);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[7] = 0x02; // 2 << 32 = 8 GiB
        assert_eq!(parse_size(&big, "size", 0).unwrap(), 2 << 32);
        assert!(parse_unsigned(b"12x4\0\0\0\0", "m", 0).is_err());
    }

    #[test]
    fn base256_extremes() {
        // 2^64 - 1: past what a size can be.
        let mut max = [0u8; 12];
        max[0] = 0x80;
        max[4..].fill(0xff);
        assert!(parse_size(&max, "size", 0).unwrap_err().message().contains("out of range"));
        // 2^63 - 1 is the largest size there is.
        max[4] = 0x7f;
        assert_eq!(parse_size(&max, "size", 0).unwrap(), i64::MAX as u64);
        // Negative: -1, and -86400 (a day before the epoch).
        assert!(parse_size(&[0xff; 12], "size", 0).unwrap_err().message().contains("negative"));
        assert_eq!(parse_signed(&[0xff; 12], "mtime", 0).unwrap(), -1);
        let mut day = [0xffu8; 12];
        day[4..].copy_from_slice(&(-86400i64).to_be_bytes());
        assert_eq!(parse_signed(&day, "mtime", 0).unwrap(), -86400);
        // Octal numbers that do not fit are refused, not wrapped.
        assert!(parse_signed(b"77777777777777777777777", "size", 0).is_err());
    }

    #[test]
    fn an_entry_costs_about_120_bytes_of_index() {
        // docs/engine.md's memory bound and MAX_ENTRIES_PER_LAYER rely on it.
        assert!(std::mem::size_of::<TarEntry>() <= 128, "{}", std::mem::size_of::<TarEntry>());
    }

    #[test]
    fn pax_records() {
        let mut p = Pax::default();
        parse_pax(b"16 path=abc/def\n", 0, &mut p).unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"abc/def"[..]));
        assert!(parse_pax(b"99 path=x\n", 0, &mut p).is_err());
        assert!(parse_pax(b"99999999999999999999999 path=x\n", 0, &mut p).is_err());
        assert_eq!(parse_pax_time(b"1700000000.5").unwrap(), (1700000000, 500_000_000));
        assert_eq!(parse_pax_time(b"-86400").unwrap(), (-86400, 0));
    }

    #[test]
    fn a_pax_name_with_a_nul_is_corrupt() {
        // Found by the layered_merge fuzz target: the entry was listed but could never be
        // opened.
        for key in ["path", "linkpath"] {
            let body = format!("{key}=a\0b/cde\n");
            let record = format!("{} {body}", body.len() + 3);
            assert_eq!(record.len(), body.len() + 3, "a two-digit length");
            let e = parse_pax(record.as_bytes(), 0, &mut Pax::default()).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{key}: {e}");
        }
        // An xattr value may hold NULs (it is bytes, not a name).
        let body = "SCHILY.xattr.user.x=a\0b\n";
        let record = format!("{} {body}", body.len() + 3);
        parse_pax(record.as_bytes(), 0, &mut Pax::default()).unwrap();
    }

    #[test]
    fn sparse_1_0_map_across_blocks() {
        let mut m = MapParser::default();
        let text = b"3\n0\n10\n20\n5\n100\n1\nrest is padding";
        let done = text.iter().position(|&c| m.feed(c).unwrap()).unwrap();
        assert_eq!(&text[done + 1..], b"rest is padding");
        assert_eq!(m.segments.len(), 3);
        assert_eq!(m.segments[2], SparseSegment { offset: 100, len: 1 });
        assert!(MapParser::default().feed(b'x').is_err());
        let mut m = MapParser::default();
        assert!(b"99999999999999999999999".iter().try_for_each(|&c| m.feed(c).map(drop)).is_err());
    }
}
