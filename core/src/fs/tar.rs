//! A streaming tar reader that records where each entry's data lies.
//!
//! The `tar` crate extracts; berth needs an index: for every entry its metadata and the
//! offset of its bytes in the uncompressed stream, including the segment map of sparse
//! files, so that a file can later be read at any offset without a second pass. It
//! reads ustar, GNU (long names `L`/`K`, old sparse `S`, base-256 numbers) and PAX
//! (`x` and global `g` records, sparse formats 0.0, 0.1 and 1.0, `SCHILY.xattr.*`).

use std::collections::BTreeMap;
use std::io::{self, Read};

use crate::error::{Error, Result};

const BLOCK: usize = 512;
/// The largest metadata record (long name, PAX header) we accept; real ones are tiny,
/// and a bound keeps a corrupt size field from asking for gigabytes.
const MAX_META: u64 = 16 << 20;

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

/// One segment of a sparse file: `len` bytes of data at logical `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseSegment {
    pub offset: u64,
    pub len: u64,
}

/// One entry of a tar stream, with where its data is.
#[derive(Debug, Clone)]
pub struct TarEntry {
    /// The path, normalised: relative, no `.` or empty components, `..` clamped at the
    /// root; `""` is the root directory itself.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// The logical size of the file (for sparse files, the size with holes).
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Symlink target as written, or the normalised path a hard link points to.
    pub link: Option<String>,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub xattrs: BTreeMap<String, Vec<u8>>,
    /// Offset of the first data byte in the uncompressed stream.
    pub data_offset: u64,
    /// For sparse files, the data segments, stored one after another from `data_offset`.
    pub sparse: Option<Vec<SparseSegment>>,
}

/// Normalises a tar path: strips `./` and `/` prefixes, drops empty and `.` components,
/// and clamps `..` at the root, so no entry can name a place outside the tree.
pub fn normalize_path(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Reads tar headers from a stream, skipping data unless the caller reads it.
pub struct TarReader<R> {
    inner: R,
    /// Bytes consumed from `inner` so far.
    pos: u64,
    /// Data bytes of the current entry not yet consumed, then its padding.
    remaining: u64,
    padding: u64,
    globals: BTreeMap<String, Vec<u8>>,
    scratch: Vec<u8>,
    done: bool,
}

/// Extended attributes gathered from GNU and PAX records for the next entry.
#[derive(Default)]
struct Pending {
    long_name: Option<String>,
    long_link: Option<String>,
    pax: BTreeMap<String, Vec<u8>>,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            globals: BTreeMap::new(),
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
            let size = parse_number(&h[124..136], "size", header_at)?;
            match typeflag {
                b'L' | b'K' => {
                    let name = self.read_meta(size, header_at)?;
                    let s = c_string(&name);
                    if typeflag == b'L' {
                        pending.long_name = Some(s);
                    } else {
                        pending.long_link = Some(s);
                    }
                }
                b'x' | b'g' => {
                    let data = self.read_meta(size, header_at)?;
                    let records = parse_pax(&data, header_at)?;
                    if typeflag == b'g' {
                        self.globals.extend(records);
                    } else {
                        pending.pax.extend(records);
                    }
                }
                b'V' => self.skip_data(size)?,
                _ => return self.entry_from_header(&h, typeflag, size, header_at, pending).map(Some),
            }
        }
    }

    /// Reads data of the current entry (stored bytes, sparse segments back to back).
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.remaining as usize);
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
        let pax = |k: &str| pending.pax.get(k).or_else(|| self.globals.get(k));
        let pax_str = |k: &str| pax(k).map(|v| String::from_utf8_lossy(v).into_owned());
        let pax_num = |k: &str| -> Result<Option<u64>> {
            match pax_str(k) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| Error::corrupt(format!("tar header at offset {header_at}: bad PAX {k}={v:?}"))),
            }
        };

        let ustar = &h[257..263] == b"ustar\0";
        let mut name = c_string(&h[0..100]);
        if ustar && h[345] != 0 {
            name = format!("{}/{}", c_string(&h[345..500]), name);
        }
        let name = pax_str("GNU.sparse.name").or_else(|| pax_str("path")).or(pending.long_name).unwrap_or(name);
        let link = pax_str("linkpath").or(pending.long_link).unwrap_or_else(|| c_string(&h[157..257]));

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
        if kind == EntryKind::File && name.ends_with('/') {
            kind = EntryKind::Dir;
        }
        let mode = parse_number(&h[100..108], "mode", header_at)? as u32 & 0o7777;
        let uid = pax_num("uid")?.map_or_else(|| parse_number(&h[108..116], "uid", header_at), Ok)?;
        let gid = pax_num("gid")?.map_or_else(|| parse_number(&h[116..124], "gid", header_at), Ok)?;
        let (mtime, mtime_nsec) = match pax_str("mtime") {
            Some(v) => parse_pax_time(&v)
                .ok_or_else(|| Error::corrupt(format!("tar header at offset {header_at}: bad PAX mtime {v:?}")))?,
            None => (parse_number(&h[136..148], "mtime", header_at)? as i64, 0),
        };
        let stored_size = pax_num("size")?.unwrap_or(stored_size);
        let (dev_major, dev_minor) = if ustar || &h[257..265] == b"ustar  \0" {
            (
                parse_number(&h[329..337], "devmajor", header_at)? as u32,
                parse_number(&h[337..345], "devminor", header_at)? as u32,
            )
        } else {
            (0, 0)
        };
        let mut xattrs = BTreeMap::new();
        for (k, v) in self.globals.iter().chain(pending.pax.iter()) {
            if let Some(attr) = k.strip_prefix("SCHILY.xattr.") {
                xattrs.insert(attr.to_string(), v.clone());
            }
        }

        // Hard links, symlinks, devices and directories carry no data, whatever size says
        // (some writers put the target's size on hard links).
        let has_data = kind == EntryKind::File;
        let stored = if has_data { stored_size } else { 0 };
        self.remaining = stored;
        self.padding = padding_of(stored_size) + (stored_size - stored);
        let data_offset = self.pos;

        let mut entry = TarEntry {
            path: normalize_path(&name),
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
            EntryKind::Symlink => entry.link = Some(link),
            EntryKind::Hardlink => entry.link = Some(normalize_path(&link)),
            _ => {}
        }
        if typeflag == b'S' {
            self.read_gnu_sparse(h, &mut entry, header_at)?;
        } else if let Some(map) = self.pax_sparse(&pending.pax, &mut entry, header_at)? {
            entry.sparse = Some(map);
        }
        Ok(entry)
    }

    /// Old GNU sparse (`S`): four segments in the header, more in extension blocks.
    fn read_gnu_sparse(&mut self, h: &[u8; BLOCK], entry: &mut TarEntry, at: u64) -> Result<()> {
        let mut segs = Vec::new();
        push_sparse_slots(&h[386..482], &mut segs, at)?;
        let mut extended = h[482] != 0;
        entry.size = parse_number(&h[483..495], "realsize", at)?;
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
        check_sparse(&segs, entry.size, self.remaining, at)?;
        entry.sparse = Some(segs);
        Ok(())
    }

    /// PAX sparse formats: 0.0 (repeated offset/numbytes), 0.1 (a map string) and 1.0
    /// (the map at the start of the data, in decimal lines padded to a block).
    fn pax_sparse(
        &mut self,
        pax: &BTreeMap<String, Vec<u8>>,
        entry: &mut TarEntry,
        at: u64,
    ) -> Result<Option<Vec<SparseSegment>>> {
        let get = |k: &str| pax.get(k).map(|v| String::from_utf8_lossy(v).into_owned());
        let real = get("GNU.sparse.realsize").or_else(|| get("GNU.sparse.size"));
        let major = get("GNU.sparse.major");
        if real.is_none() && major.is_none() && get("GNU.sparse.map").is_none() {
            return Ok(None);
        }
        let bad = |what: &str| Error::corrupt(format!("tar header at offset {at}: bad sparse {what}"));
        let nums = |s: &str| -> Result<Vec<u64>> {
            s.split(',').filter(|x| !x.is_empty()).map(|x| x.trim().parse().map_err(|_| bad("map"))).collect()
        };
        let segs: Vec<u64> = if major.as_deref() == Some("1") {
            self.read_sparse_1_0_map(at)?
        } else if let Some(map) = get("GNU.sparse.map") {
            nums(&map)?
        } else {
            // 0.0: offset/numbytes pairs, in record order (BTreeMap loses it; the raw
            // parse kept them as numbered keys, see parse_pax).
            let mut v = Vec::new();
            let mut i = 0;
            while let (Some(o), Some(n)) =
                (get(&format!("GNU.sparse.offset#{i}")), get(&format!("GNU.sparse.numbytes#{i}")))
            {
                v.push(o.parse().map_err(|_| bad("offset"))?);
                v.push(n.parse().map_err(|_| bad("numbytes"))?);
                i += 1;
            }
            v
        };
        if segs.len() % 2 != 0 {
            return Err(bad("map (odd number of values)"));
        }
        let segs: Vec<SparseSegment> = segs.chunks(2).map(|p| SparseSegment { offset: p[0], len: p[1] }).collect();
        entry.size = match real {
            Some(r) => r.trim().parse().map_err(|_| bad("realsize"))?,
            None => segs.last().map_or(0, |s| s.offset + s.len),
        };
        entry.data_offset = self.pos;
        check_sparse(&segs, entry.size, self.remaining, at)?;
        Ok(Some(segs))
    }

    fn read_sparse_1_0_map(&mut self, at: u64) -> Result<Vec<u64>> {
        let bad = || Error::corrupt(format!("tar entry at offset {at}: bad sparse 1.0 map"));
        let mut text = Vec::new();
        let mut values: Vec<u64> = Vec::new();
        let mut count: Option<usize> = None;
        // Read whole blocks until every number of the map has been seen.
        loop {
            if count.is_some_and(|c| values.len() == 1 + 2 * c) {
                break;
            }
            if self.remaining < BLOCK as u64 || text.len() as u64 > MAX_META {
                return Err(bad());
            }
            let mut b = [0u8; BLOCK];
            if !self.read_block(&mut b)? {
                return Err(truncated(self.pos));
            }
            self.remaining -= BLOCK as u64;
            text.extend_from_slice(&b);
            values.clear();
            let complete = text.iter().rposition(|&c| c == b'\n').map_or(&text[..0], |i| &text[..i]);
            for line in complete.split(|&c| c == b'\n') {
                let s = std::str::from_utf8(line).map_err(|_| bad())?;
                values.push(s.parse().map_err(|_| bad())?);
            }
            count = values.first().map(|&n| n as usize);
            if count.is_some_and(|c| c > 1 << 20) {
                return Err(bad());
            }
        }
        Ok(values[1..].to_vec())
    }

    fn read_meta(&mut self, size: u64, at: u64) -> Result<Vec<u8>> {
        if size > MAX_META {
            return Err(Error::corrupt(format!(
                "tar header at offset {at}: metadata record of {size} bytes is too large"
            )));
        }
        let mut data = vec![0u8; size as usize];
        self.read_exact_or_truncated(&mut data)?;
        self.skip(padding_of(size))?;
        Ok(data)
    }

    fn skip_data(&mut self, size: u64) -> Result<()> {
        self.skip(size + padding_of(size))
    }

    fn skip_rest(&mut self) -> Result<()> {
        let n = self.remaining + self.padding;
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

fn truncated(pos: u64) -> Error {
    Error::corrupt(format!("truncated tar stream: it ends inside an entry at offset {pos}"))
}

fn padding_of(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn verify_checksum(h: &[u8; BLOCK], at: u64) -> Result<()> {
    let want = parse_number(&h[148..156], "checksum", at)?;
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
/// high bit of the first byte is set (sizes of 8 GiB and more, large uids).
fn parse_number(field: &[u8], what: &str, at: u64) -> Result<u64> {
    if field[0] & 0x80 != 0 {
        if field[0] == 0xff {
            // Negative base-256 (pre-1970 mtimes): clamp to 0 rather than fail.
            return Ok(0);
        }
        let mut v: u64 = (field[0] & 0x7f) as u64;
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(b as u64))
                .ok_or_else(|| Error::corrupt(format!("tar header at offset {at}: {what} overflows")))?;
        }
        return Ok(v);
    }
    let text = field.iter().copied().skip_while(|&b| b == b' ' || b == 0);
    let mut v: u64 = 0;
    let mut any = false;
    for b in text {
        match b {
            b'0'..=b'7' => {
                any = true;
                v = v
                    .checked_mul(8)
                    .map(|v| v + (b - b'0') as u64)
                    .ok_or_else(|| Error::corrupt(format!("tar header at offset {at}: {what} overflows")))?;
            }
            b' ' | 0 => break,
            _ => return Err(Error::corrupt(format!("tar header at offset {at}: {what} field is not an octal number"))),
        }
    }
    let _ = any; // an all-blank field is 0, as GNU tar reads it
    Ok(v)
}

fn push_sparse_slots(area: &[u8], segs: &mut Vec<SparseSegment>, at: u64) -> Result<()> {
    for slot in area.chunks_exact(24) {
        if slot[0] == 0 {
            break;
        }
        let offset = parse_number(&slot[..12], "sparse offset", at)?;
        let len = parse_number(&slot[12..], "sparse length", at)?;
        segs.push(SparseSegment { offset, len });
    }
    Ok(())
}

/// Segments must be in order, inside the file, and fit in the stored data.
fn check_sparse(segs: &[SparseSegment], size: u64, stored: u64, at: u64) -> Result<()> {
    let mut end = 0u64;
    let mut total = 0u64;
    for s in segs {
        let seg_end = s.offset.checked_add(s.len);
        if s.offset < end || seg_end.is_none_or(|e| e > size) {
            return Err(Error::corrupt(format!("tar entry at offset {at}: sparse map out of order or out of bounds")));
        }
        end = s.offset + s.len;
        total += s.len;
    }
    if total > stored {
        return Err(Error::corrupt(format!(
            "tar entry at offset {at}: sparse map needs {total} bytes but the entry stores {stored}"
        )));
    }
    Ok(())
}

/// PAX records: `LEN key=value\n`, LEN counting the whole record. Repeated sparse 0.0
/// keys are numbered (`GNU.sparse.offset#0`, ...) so that their order survives.
fn parse_pax(data: &[u8], at: u64) -> Result<BTreeMap<String, Vec<u8>>> {
    let bad = || Error::corrupt(format!("tar PAX header at offset {at}: malformed record"));
    let mut out = BTreeMap::new();
    let mut rest = data;
    let (mut n_off, mut n_len) = (0, 0);
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&rest[..sp]).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = &rest[sp + 1..len - 1];
        let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        let key = String::from_utf8_lossy(&record[..eq]).into_owned();
        let value = record[eq + 1..].to_vec();
        let key = match key.as_str() {
            "GNU.sparse.offset" => {
                n_off += 1;
                format!("{key}#{}", n_off - 1)
            }
            "GNU.sparse.numbytes" => {
                n_len += 1;
                format!("{key}#{}", n_len - 1)
            }
            _ => key,
        };
        out.insert(key, value);
        rest = &rest[len..];
    }
    Ok(out)
}

/// PAX times: decimal seconds with an optional fraction, possibly negative.
fn parse_pax_time(v: &str) -> Option<(i64, u32)> {
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
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"0000644\0", "m", 0).unwrap(), 0o644);
        assert_eq!(parse_number(b"     17 ", "m", 0).unwrap(), 0o17);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[7] = 0x02; // 2 << 32 = 8 GiB
        assert_eq!(parse_number(&big, "size", 0).unwrap(), 2 << 32);
        assert!(parse_number(b"12x4\0\0\0\0", "m", 0).is_err());
    }

    #[test]
    fn pax_records() {
        let m = parse_pax(b"16 path=abc/def\n", 0).unwrap();
        assert_eq!(m["path"], b"abc/def");
        assert!(parse_pax(b"99 path=x\n", 0).is_err());
        assert_eq!(parse_pax_time("1700000000.5").unwrap(), (1700000000, 500_000_000));
    }
}
