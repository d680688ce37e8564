//! Random access into a gzip-compressed blob by uncompressed offset.
//!
//! An image layer is usually a `tar.gz` of up to several GiB; reading one file out of it
//! would normally mean inflating everything before that file. [`GzipSeeker`] avoids this
//! with the "zran" technique: it remembers *checkpoints*, places where a deflate block
//! begins, each with the exact compressed bit position and the (up to) 32 KiB of output
//! that precede it, which is as far back as a deflate match can reach. Resuming there is a
//! raw inflate primed with the leftover bits of the partial byte (`inflatePrime`) and given
//! the window as its dictionary (`inflateSetDictionary`).
//!
//! Checkpoints come from the one sequential pass that reads the layer anyway (to check its
//! digest): [`GzipSeeker::indexing_reader`]. [`GzipSeeker::read_at`] also records them as it
//! decodes, so random access works before, during and after that pass.
//!
//! # Format
//!
//! gzip headers and trailers (RFC 1952) are parsed here and only the deflate data goes
//! through zlib, as raw inflate: checkpoints need raw inflate, and doing the framing
//! ourselves makes concatenated members (which `pigz`, and appended layers, produce) no
//! special case. Every member's CRC-32 and ISIZE are checked on every path, including
//! decodes resumed from a checkpoint (the checkpoint carries the member's running CRC).
//! Anything after a member other than another member is an error, as in Go's
//! `compress/gzip`.
//!
//! # Memory
//!
//! - Checkpoints are at least `SPAN` = 1 MiB of output apart and each holds at most a
//!   32 KiB window plus about 100 bytes of bookkeeping. There are at most 256 of them: when a
//!   257th is added, every other one is dropped and the span doubles (2 MiB, 4 MiB, ...).
//!   So the index of one seeker stays under 256 × 32.1 KiB ≈ 8.1 MiB whatever the layer's
//!   size (a 10 GiB layer ends up with 160 checkpoints 64 MiB apart; any read then decodes
//!   at most one span, ~0.1 s at ~600 MB/s, to reach its offset).
//! - A decoder cursor is about 0.6 MiB (256 KiB input buffer, 288 KiB output ring holding
//!   the sliding window, ~45 KiB of zlib state). At most 2 idle cursors are pooled
//!   (≤ 1.2 MiB), and each `read_at` in progress holds one (freed on return if the pool is
//!   full).
//!
//! In total about 9.3 MiB per seeker at rest, plus 0.6 MiB per concurrent reader.

use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::blob::BlobSource;

/// Minimum output distance between checkpoints (before any thinning).
const DEFAULT_SPAN: u64 = 1 << 20;
/// Checkpoints kept per seeker; one more halves their number and doubles the span.
const DEFAULT_MAX_CHECKPOINTS: usize = 256;
/// Idle decoders kept for later reads (sequential readers, concurrent files in a layer).
const MAX_IDLE_CURSORS: usize = 2;
/// The deflate window: how far back a match may reach.
const WINDOW: usize = 32 * 1024;
/// Compressed bytes read from the source at a time.
const IN_CHUNK: usize = 256 * 1024;
/// Uncompressed bytes produced per inflate call at most.
const OUT_CHUNK: usize = 256 * 1024;
/// Already-consumed input bytes kept when the input buffer is refilled. zlib may have pulled
/// up to 7 whole bytes past the end of a member's deflate data into its bit buffer; they
/// belong to the trailer, so they must still be in the buffer to be read again.
const INPUT_KEEP: usize = 8;
/// Inflate calls in a row without a byte in or out before giving up (zlib holds < 64 bits,
/// and each block header is 3).
const MAX_STALLS: u32 = 32;

// gzip header flags (RFC 1952, section 2.3.1).
const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const FRESERVED: u8 = 0xe0;

/// Random access, by uncompressed offset, into a gzip blob. See the module documentation.
pub struct GzipSeeker {
    blob: Arc<dyn BlobSource>,
    index: Mutex<Index>,
    pool: Mutex<Pool>,
}

impl GzipSeeker {
    /// A seeker over `blob`, a gzip stream (one or more concatenated members, as RFC 1952 allows).
    pub fn new(blob: Arc<dyn BlobSource>) -> Self {
        Self::with_limits(blob, DEFAULT_SPAN, DEFAULT_MAX_CHECKPOINTS)
    }

    /// Like [`GzipSeeker::new`], with checkpoints at least `span` output bytes apart
    /// (public so that the fuzz targets reach the checkpoint code on small streams).
    pub fn with_span(blob: Arc<dyn BlobSource>, span: u64) -> Self {
        Self::with_limits(blob, span, DEFAULT_MAX_CHECKPOINTS)
    }

    fn with_limits(blob: Arc<dyn BlobSource>, span: u64, max_checkpoints: usize) -> Self {
        GzipSeeker {
            blob,
            index: Mutex::new(Index {
                span: span.max(1),
                max_points: max_checkpoints.max(1),
                points: Vec::new(),
                total_len: None,
            }),
            pool: Mutex::new(Pool { idle: Vec::new(), clock: 0 }),
        }
    }

    /// Sequential decode of the whole stream, from `compressed` (the same bytes as the blob, typically
    /// a digest-checking reader over it, so the caller sees every compressed byte once), recording
    /// checkpoints into `self` as it goes. This is the fast path used to index a layer once.
    ///
    /// `compressed` is read to its end (until it returns 0) before this reader returns 0.
    pub fn indexing_reader<'a, R: Read + 'a>(&'a self, compressed: R) -> impl Read + 'a {
        IndexingReader { seeker: self, input: StreamInput(compressed), cursor: None, pos: 0, failed: None }
    }

    /// Reads up to buf.len() uncompressed bytes at uncompressed `offset`; returns 0 at the end.
    /// Starts from the best of: a live cursor positioned at or before `offset` (so sequential reads are
    /// cheap), the nearest checkpoint at or before `offset`, or the start of the stream; records new
    /// checkpoints on the way.
    ///
    /// The buffer is filled completely unless the stream ends first.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if buf.is_empty() || matches!(self.uncompressed_len(), Some(len) if offset >= len) {
            return Ok(0);
        }
        let mut cursor = self.checkout(offset)?;
        // On error the cursor is dropped: its state is no longer trustworthy.
        let n = cursor.read_into(buf, offset, &mut BlobInput(&*self.blob), &self.index)?;
        self.checkin(cursor);
        Ok(n)
    }

    /// Total uncompressed length, once known (after a full pass), else None.
    pub fn uncompressed_len(&self) -> Option<u64> {
        lock(&self.index).total_len
    }

    /// A cursor ready to produce output at `offset`: a pooled one that already is at or
    /// before it (when that beats the nearest checkpoint), else one resumed from the
    /// checkpoint or the start. Reuses a pooled cursor's buffers when it can.
    fn checkout(&self, offset: u64) -> io::Result<Cursor> {
        let (checkpoint, span) = {
            let index = lock(&self.index);
            (index.nearest_at_or_before(offset), index.span)
        };
        let resume_at = checkpoint.as_ref().map_or(0, |c| c.out);
        let spare = {
            let mut pool = lock(&self.pool);
            if let Some(live) = pool.take_positioned(offset, resume_at) {
                return Ok(live);
            }
            pool.take_oldest()
        };
        let mut cursor = match spare {
            Some(cursor) => cursor,
            None => Cursor::new()?,
        };
        match checkpoint {
            Some(cp) => cursor.resume(&cp, span, &mut BlobInput(&*self.blob))?,
            None => cursor.rewind(span),
        }
        Ok(cursor)
    }

    fn checkin(&self, cursor: Cursor) {
        lock(&self.pool).put(cursor);
    }
}

/// Locks `mutex`, ignoring poisoning: every critical section here leaves its data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------
// The checkpoint index
// ---------------------------------------------------------------------------------------

/// A place to resume decoding: the start of a deflate block.
struct Checkpoint {
    /// Uncompressed offset (from the start of the whole stream) of the block's first byte.
    out: u64,
    /// Compressed position of the block's first bit, in bits from the start of the blob.
    in_bit: u64,
    /// Uncompressed offset where the enclosing gzip member's output begins.
    member_out: u64,
    /// CRC-32 of the member's output before `out`, so its trailer can still be checked.
    crc: u32,
    /// The output preceding `out` within the member, at most 32 KiB.
    window: Box<[u8]>,
}

struct Index {
    /// Minimum distance between neighbouring checkpoints (and from offset 0).
    span: u64,
    max_points: usize,
    /// Sorted by `out`, at least `span` apart.
    points: Vec<Arc<Checkpoint>>,
    /// Known once some cursor reached the end of the stream.
    total_len: Option<u64>,
}

impl Index {
    fn nearest_at_or_before(&self, offset: u64) -> Option<Arc<Checkpoint>> {
        let after = self.points.partition_point(|p| p.out <= offset);
        after.checked_sub(1).map(|i| Arc::clone(&self.points[i]))
    }

    /// Where a checkpoint at `out` would go, or — when it would be closer than `span` to an
    /// existing one (or to the start) — `Err` with the offset of that neighbour.
    fn admit(&self, out: u64) -> Result<usize, u64> {
        let slot = self.points.partition_point(|p| p.out <= out);
        let prev = slot.checked_sub(1).map_or(0, |i| self.points[i].out);
        if out - prev < self.span {
            return Err(prev);
        }
        match self.points.get(slot) {
            Some(next) if next.out - out < self.span => Err(next.out),
            _ => Ok(slot),
        }
    }

    fn insert(&mut self, slot: usize, checkpoint: Checkpoint) {
        self.points.insert(slot, Arc::new(checkpoint));
        if self.points.len() > self.max_points {
            self.thin();
        }
    }

    /// Drops every other checkpoint and doubles the span. Neighbours were `span` apart, so
    /// the survivors are at least twice that apart.
    fn thin(&mut self) {
        let mut keep = false;
        self.points.retain(|_| {
            keep = !keep;
            keep
        });
        self.span = self.span.saturating_mul(2);
    }
}

// ---------------------------------------------------------------------------------------
// The cursor pool
// ---------------------------------------------------------------------------------------

struct Pool {
    idle: Vec<Cursor>,
    /// Ticks on every check-in, to find the least recently used cursor.
    clock: u64,
}

impl Pool {
    /// Takes the idle cursor that serves `offset` most cheaply, if that is cheaper than
    /// resuming from the checkpoint at `resume_at`: one whose ring still holds `offset`, or
    /// one that stopped before `offset` but no earlier than `resume_at`.
    fn take_positioned(&mut self, offset: u64, resume_at: u64) -> Option<Cursor> {
        let usable = |c: &Cursor| c.ring_start() <= offset && (offset < c.out || c.out >= resume_at);
        // Data already in a ring beats any decoding; otherwise the closest cursor wins.
        let score = |c: &Cursor| if offset < c.out { u64::MAX } else { c.out };
        let (best, _) = self.idle.iter().enumerate().filter(|(_, c)| usable(c)).max_by_key(|(_, c)| score(c))?;
        Some(self.idle.swap_remove(best))
    }

    fn take_oldest(&mut self) -> Option<Cursor> {
        let (oldest, _) = self.idle.iter().enumerate().min_by_key(|(_, c)| c.last_used)?;
        Some(self.idle.swap_remove(oldest))
    }

    fn put(&mut self, mut cursor: Cursor) {
        self.clock += 1;
        cursor.last_used = self.clock;
        self.idle.push(cursor);
        if self.idle.len() > MAX_IDLE_CURSORS {
            drop(self.take_oldest());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Compressed input
// ---------------------------------------------------------------------------------------

/// Where a cursor's compressed bytes come from.
trait Input {
    /// Reads compressed bytes at `offset`; 0 at the end. Sequential sources ignore `offset`:
    /// a cursor always asks for the byte after the last one it got.
    fn read(&mut self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

struct BlobInput<'a>(&'a dyn BlobSource);

impl Input for BlobInput<'_> {
    fn read(&mut self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        loop {
            match self.0.read_at(buf, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

struct StreamInput<R>(R);

impl<R: Read> Input for StreamInput<R> {
    fn read(&mut self, buf: &mut [u8], _offset: u64) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The indexing pass
// ---------------------------------------------------------------------------------------

struct IndexingReader<'a, R> {
    seeker: &'a GzipSeeker,
    input: StreamInput<R>,
    /// Created on the first read, so that `indexing_reader` itself cannot fail.
    cursor: Option<Cursor>,
    /// Uncompressed offset of the next byte to hand out.
    pos: u64,
    /// The error that ended the pass, repeated to later calls.
    failed: Option<(io::ErrorKind, String)>,
}

impl<R: Read> IndexingReader<'_, R> {
    fn read_more(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cursor = match &mut self.cursor {
            Some(cursor) => cursor,
            None => {
                let mut cursor = Cursor::new()?;
                cursor.rewind(lock(&self.seeker.index).span);
                self.cursor.insert(cursor)
            }
        };
        let n = cursor.read_into(buf, self.pos, &mut self.input, &self.seeker.index)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Read for IndexingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let result = self.read_more(buf);
        if let Err(e) = &result {
            self.failed = Some((e.kind(), e.to_string()));
            self.cursor = None;
        }
        result
    }
}

// ---------------------------------------------------------------------------------------
// The decoder cursor
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Expecting a member header, or the end of the stream.
    Header,
    Deflate,
    Trailer,
    End,
}

/// A decoder positioned somewhere in the stream, with its recent output.
struct Cursor {
    z: ffi::RawInflate,
    /// `input[in_pos..in_end]` is unread; `input[..in_pos]` ends with the latest consumed bytes.
    input: Box<[u8]>,
    in_pos: usize,
    in_end: usize,
    /// Compressed offset of the byte after `input[in_end - 1]`: the next to read.
    in_next: u64,
    in_eof: bool,
    /// `ring[..ring_pos]` is the latest output, ending at uncompressed offset `out`; it
    /// always holds at least the deflate window (or the member's output, when shorter).
    ring: Box<[u8]>,
    ring_pos: usize,
    out: u64,
    phase: Phase,
    /// Where the current member's output begins, and the CRC-32 of its output so far.
    member_out: u64,
    crc: u32,
    /// The last checkpoint this cursor made, started from or ran into; and the span to
    /// keep from it (a copy of the index's, refreshed whenever the index is locked).
    last_checkpoint: u64,
    span: u64,
    /// Pool clock at the last check-in.
    last_used: u64,
    /// Inflate calls in a row that neither consumed nor produced a byte.
    stalls: u32,
}

impl Cursor {
    fn new() -> io::Result<Self> {
        Ok(Cursor {
            z: ffi::RawInflate::new()?,
            input: vec![0; INPUT_KEEP + IN_CHUNK].into_boxed_slice(),
            in_pos: 0,
            in_end: 0,
            in_next: 0,
            in_eof: false,
            ring: vec![0; WINDOW + OUT_CHUNK].into_boxed_slice(),
            ring_pos: 0,
            out: 0,
            phase: Phase::Header,
            member_out: 0,
            crc: 0,
            last_checkpoint: 0,
            span: DEFAULT_SPAN,
            last_used: 0,
            stalls: 0,
        })
    }

    /// Uncompressed offset of the oldest output still in the ring.
    fn ring_start(&self) -> u64 {
        self.out - self.ring_pos as u64
    }

    /// Compressed offset of the next unread byte.
    fn consumed(&self) -> u64 {
        self.in_next - (self.in_end - self.in_pos) as u64
    }

    /// Positions the cursor at the start of the stream.
    fn rewind(&mut self, span: u64) {
        self.set_input_at(0);
        self.ring_pos = 0;
        self.out = 0;
        self.phase = Phase::Header;
        self.member_out = 0;
        self.crc = 0;
        self.last_checkpoint = 0;
        self.span = span;
    }

    /// Positions the cursor at `cp`: raw inflate primed with the bits left in the partial
    /// byte and the window as dictionary; the window also goes into the ring, since later
    /// checkpoints need the 32 KiB before them.
    fn resume(&mut self, cp: &Checkpoint, span: u64, src: &mut impl Input) -> io::Result<()> {
        self.z.reset()?;
        self.set_input_at(cp.in_bit / 8);
        let used_bits = (cp.in_bit % 8) as u32;
        if used_bits != 0 {
            if !self.fill(src)? {
                return Err(truncated("deflate data", self.consumed()));
            }
            let byte = self.input[self.in_pos];
            self.in_pos += 1;
            self.z.prime(8 - used_bits, u32::from(byte) >> used_bits)?;
        }
        self.z.set_dictionary(&cp.window)?;
        self.ring[..cp.window.len()].copy_from_slice(&cp.window);
        self.ring_pos = cp.window.len();
        self.out = cp.out;
        self.phase = Phase::Deflate;
        self.member_out = cp.member_out;
        self.crc = cp.crc;
        self.last_checkpoint = cp.out;
        self.span = span;
        Ok(())
    }

    fn set_input_at(&mut self, offset: u64) {
        self.stalls = 0;
        self.in_pos = 0;
        self.in_end = 0;
        self.in_next = offset;
        self.in_eof = false;
    }

    /// Copies output at `offset..` into `buf`, decoding as needed, until `buf` is full or
    /// the stream ends. `offset` must not be before `ring_start()`.
    fn read_into(
        &mut self,
        buf: &mut [u8],
        offset: u64,
        src: &mut impl Input,
        index: &Mutex<Index>,
    ) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let pos =
                offset.checked_add(filled as u64).ok_or_else(|| io::Error::other("gzip: read offset past 2^64"))?;
            if pos < self.out {
                let back = self.out - pos;
                if back > self.ring_pos as u64 {
                    return Err(io::Error::other("gzip: internal error: cursor is past the requested offset"));
                }
                let from = self.ring_pos - back as usize;
                let n = (back as usize).min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&self.ring[from..from + n]);
                filled += n;
            } else if self.phase == Phase::End {
                break;
            } else {
                self.advance(src, index)?;
            }
        }
        Ok(filled)
    }

    /// Decodes until there is new output or the stream has ended.
    fn advance(&mut self, src: &mut impl Input, index: &Mutex<Index>) -> io::Result<()> {
        let start = self.out;
        while self.out == start {
            match self.phase {
                Phase::Header => self.read_header(src, index)?,
                Phase::Deflate => self.inflate_some(src, index)?,
                Phase::Trailer => self.read_trailer(src)?,
                Phase::End => break,
            }
        }
        Ok(())
    }

    /// One inflate call into the ring; records a checkpoint if it stopped at a suitable
    /// block boundary.
    fn inflate_some(&mut self, src: &mut impl Input, index: &Mutex<Index>) -> io::Result<()> {
        if self.ring_pos == self.ring.len() {
            // Keep the window, drop the rest.
            self.ring.copy_within(self.ring_pos - WINDOW..self.ring_pos, 0);
            self.ring_pos = WINDOW;
        }
        let have_input = self.fill(src)?;
        // Stopping at every block boundary costs a little, so only ask for that once a
        // checkpoint is due; until then, stop where it becomes due, so that checkpoints are
        // not spaced further apart than the span plus one block.
        let mut room = self.ring.len() - self.ring_pos;
        let due_in = self.last_checkpoint.saturating_add(self.span).saturating_sub(self.out);
        let flush = if due_in == 0 {
            ffi::Flush::Block
        } else {
            room = room.min(usize::try_from(due_in).unwrap_or(usize::MAX));
            ffi::Flush::None
        };
        let output = &mut self.ring[self.ring_pos..self.ring_pos + room];
        let step = self.z.inflate(&self.input[self.in_pos..self.in_end], output, flush);
        self.in_pos += step.consumed;
        let fresh = &self.ring[self.ring_pos..self.ring_pos + step.produced];
        self.crc = ffi::crc32(self.crc, fresh);
        self.ring_pos += step.produced;
        self.out += step.produced as u64;

        if step.consumed > 0 || step.produced > 0 {
            self.stalls = 0;
        }
        match step.status {
            ffi::Status::Ok => {
                if step.at_block_boundary() {
                    self.maybe_checkpoint(step.unused_bits(), index);
                }
                Ok(())
            }
            ffi::Status::StreamEnd => {
                // Whole bytes zlib pulled in past the end of the deflate data belong to the trailer.
                let unread = (step.unused_bits() / 8) as usize;
                if unread > self.in_pos {
                    return Err(io::Error::other("gzip: internal error: lost input at end of member"));
                }
                self.in_pos -= unread;
                self.phase = Phase::Trailer;
                Ok(())
            }
            // Z_BUF_ERROR is not fatal: zlib may have decoded blocks already in its bit
            // buffer (empty ones: no bytes in or out) before needing input. Each such call
            // uses at least 3 buffered bits, so a few in a row mean it really is stuck.
            ffi::Status::NoProgress => {
                self.stalls += 1;
                if self.stalls <= MAX_STALLS {
                    if step.at_block_boundary() {
                        self.maybe_checkpoint(step.unused_bits(), index);
                    }
                    Ok(())
                } else if !have_input {
                    Err(truncated("deflate data", self.consumed()))
                } else {
                    Err(io::Error::other("gzip: internal error: inflate makes no progress"))
                }
            }
            ffi::Status::Corrupt(why) => Err(corrupt(format_args!("invalid deflate data ({why})"), self.consumed())),
            ffi::Status::Failed(code) => Err(io::Error::other(format!(
                "gzip: inflate failed (zlib error {code}) at compressed offset {}",
                self.consumed()
            ))),
        }
    }

    /// At a block boundary `unused_bits` after the consumed input: records a checkpoint if
    /// the span since the last one is covered and the index has no neighbour too close.
    fn maybe_checkpoint(&mut self, unused_bits: u32, index: &Mutex<Index>) {
        if self.out < self.last_checkpoint.saturating_add(self.span) {
            return;
        }
        let Some(in_bit) = (self.consumed() * 8).checked_sub(u64::from(unused_bits)) else {
            return;
        };
        let window_len = (self.out - self.member_out).min(WINDOW as u64) as usize;
        if window_len > self.ring_pos {
            return; // cannot happen (the ring always holds the window); never record a bad one
        }
        let mut index = lock(index);
        self.span = index.span;
        match index.admit(self.out) {
            Err(neighbour) => self.last_checkpoint = neighbour,
            Ok(slot) => {
                let window = self.ring[self.ring_pos - window_len..self.ring_pos].into();
                let checkpoint =
                    Checkpoint { out: self.out, in_bit, member_out: self.member_out, crc: self.crc, window };
                index.insert(slot, checkpoint);
                self.span = index.span;
                self.last_checkpoint = self.out;
            }
        }
    }

    /// Parses a member header (RFC 1952 2.3), or notes the end of the stream.
    fn read_header(&mut self, src: &mut impl Input, index: &Mutex<Index>) -> io::Result<()> {
        let start = self.consumed();
        if !self.fill(src)? {
            if start == 0 {
                return Err(truncated("gzip stream (it is empty)", 0));
            }
            self.phase = Phase::End;
            lock(index).total_len = Some(self.out);
            return Ok(());
        }
        let mut hcrc = 0;
        let mut fixed = [0u8; 10];
        // The magic first, so that trailing junk shorter than a header is reported as such.
        self.read_framing(src, &mut fixed[..2], &mut hcrc, "gzip header")?;
        if fixed[..2] != [0x1f, 0x8b] {
            let what =
                if start == 0 { "not gzip data (bad magic)" } else { "trailing data after gzip member (bad magic)" };
            return Err(corrupt(what, start));
        }
        self.read_framing(src, &mut fixed[2..], &mut hcrc, "gzip header")?;
        if fixed[2] != 8 {
            return Err(corrupt(format_args!("unknown compression method {} in gzip header", fixed[2]), start));
        }
        let flags = fixed[3];
        if flags & FRESERVED != 0 {
            return Err(corrupt(format_args!("reserved flags {flags:#04x} set in gzip header"), start));
        }
        if flags & FEXTRA != 0 {
            let mut xlen = [0u8; 2];
            self.read_framing(src, &mut xlen, &mut hcrc, "gzip header")?;
            self.skip_framing(src, usize::from(u16::from_le_bytes(xlen)), &mut hcrc)?;
        }
        if flags & FNAME != 0 {
            self.skip_cstring(src, &mut hcrc)?;
        }
        if flags & FCOMMENT != 0 {
            self.skip_cstring(src, &mut hcrc)?;
        }
        if flags & FHCRC != 0 {
            let expected = hcrc as u16;
            let mut stored = [0u8; 2];
            self.read_framing(src, &mut stored, &mut 0, "gzip header")?;
            if u16::from_le_bytes(stored) != expected {
                return Err(corrupt("gzip header CRC mismatch", start));
            }
        }
        self.z.reset()?;
        self.member_out = self.out;
        self.crc = 0;
        self.phase = Phase::Deflate;
        Ok(())
    }

    /// Checks a member trailer (CRC-32 and ISIZE, RFC 1952 2.3.1).
    fn read_trailer(&mut self, src: &mut impl Input) -> io::Result<()> {
        let start = self.consumed();
        let mut trailer = [0u8; 8];
        self.read_framing(src, &mut trailer, &mut 0, "gzip trailer")?;
        let [c0, c1, c2, c3, s0, s1, s2, s3] = trailer;
        if u32::from_le_bytes([c0, c1, c2, c3]) != self.crc {
            return Err(corrupt("CRC-32 mismatch in gzip member trailer", start));
        }
        // ISIZE is the member's length modulo 2^32.
        if u32::from_le_bytes([s0, s1, s2, s3]) != (self.out - self.member_out) as u32 {
            return Err(corrupt("length mismatch (ISIZE) in gzip member trailer", start));
        }
        self.phase = Phase::Header;
        Ok(())
    }

    /// Reads exactly `dst.len()` bytes of gzip framing, adding them to the header CRC.
    fn read_framing(&mut self, src: &mut impl Input, dst: &mut [u8], hcrc: &mut u32, what: &str) -> io::Result<()> {
        let mut got = 0;
        while got < dst.len() {
            if !self.fill(src)? {
                return Err(truncated(what, self.consumed()));
            }
            let n = (self.in_end - self.in_pos).min(dst.len() - got);
            dst[got..got + n].copy_from_slice(&self.input[self.in_pos..self.in_pos + n]);
            self.take_framing(n, hcrc);
            got += n;
        }
        Ok(())
    }

    /// Skips `len` bytes of the header's extra field.
    fn skip_framing(&mut self, src: &mut impl Input, mut len: usize, hcrc: &mut u32) -> io::Result<()> {
        while len > 0 {
            if !self.fill(src)? {
                return Err(truncated("gzip header", self.consumed()));
            }
            let n = (self.in_end - self.in_pos).min(len);
            self.take_framing(n, hcrc);
            len -= n;
        }
        Ok(())
    }

    /// Skips a zero-terminated header field (file name or comment).
    fn skip_cstring(&mut self, src: &mut impl Input, hcrc: &mut u32) -> io::Result<()> {
        loop {
            if !self.fill(src)? {
                return Err(truncated("gzip header", self.consumed()));
            }
            let unread = &self.input[self.in_pos..self.in_end];
            match unread.iter().position(|&b| b == 0) {
                Some(nul) => {
                    self.take_framing(nul + 1, hcrc);
                    return Ok(());
                }
                None => self.take_framing(unread.len(), hcrc),
            }
        }
    }

    /// Consumes `n` unread bytes of framing, adding them to the header CRC.
    fn take_framing(&mut self, n: usize, hcrc: &mut u32) {
        *hcrc = ffi::crc32(*hcrc, &self.input[self.in_pos..self.in_pos + n]);
        self.in_pos += n;
    }

    /// Makes sure some input is unread; false at the end of the source.
    fn fill(&mut self, src: &mut impl Input) -> io::Result<bool> {
        if self.in_pos < self.in_end {
            return Ok(true);
        }
        if self.in_eof {
            return Ok(false);
        }
        let keep = self.in_end.min(INPUT_KEEP);
        self.input.copy_within(self.in_end - keep..self.in_end, 0);
        self.in_pos = keep;
        self.in_end = keep;
        let n = src.read(&mut self.input[keep..], self.in_next)?;
        if n == 0 {
            self.in_eof = true;
            return Ok(false);
        }
        self.in_end += n;
        self.in_next += n as u64;
        Ok(true)
    }
}

fn corrupt(what: impl fmt::Display, offset: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("gzip: {what} at compressed offset {offset}"))
}

fn truncated(what: &str, offset: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("gzip: truncated {what}: input ends at compressed offset {offset}"),
    )
}

// ---------------------------------------------------------------------------------------
// zlib: all unsafe code of this module is here
// ---------------------------------------------------------------------------------------

mod ffi {
    use std::ffi::{c_int, c_uint, c_ulong, CStr};
    use std::io;
    use std::ptr;

    use libz_rs_sys as z;

    /// Raw (headerless) deflate window size: 2^15, negated for raw inflate.
    const RAW_WINDOW_BITS: c_int = -15;

    pub(super) enum Flush {
        None,
        /// Return at the next deflate block boundary (`Z_BLOCK`).
        Block,
    }

    pub(super) enum Status {
        Ok,
        StreamEnd,
        /// Nothing consumed or produced: more input is needed (`Z_BUF_ERROR`).
        NoProgress,
        /// `Z_DATA_ERROR`, with zlib's reason.
        Corrupt(String),
        Failed(c_int),
    }

    pub(super) struct Step {
        pub consumed: usize,
        pub produced: usize,
        pub status: Status,
        data_type: c_int,
    }

    impl Step {
        /// zlib stopped at the start of a block that is not past the final one (`data_type` bit 7 set, bit 6 clear).
        pub fn at_block_boundary(&self) -> bool {
            self.data_type & 128 != 0 && self.data_type & 64 == 0
        }

        /// Bits taken from the input but not yet used (`data_type` bits 0-5; zlib-rs can
        /// hold whole bytes too, not just the rest of a partial byte).
        pub fn unused_bits(&self) -> u32 {
            (self.data_type & 63) as u32
        }
    }

    /// An initialised raw inflate stream.
    pub(super) struct RawInflate {
        // Boxed: zlib's state refers back to the z_stream, which therefore must not move.
        strm: Box<z::z_stream>,
    }

    // SAFETY: the stream and its state are owned exclusively by this value and reached only
    // through `&mut self`; zlib-rs keeps no thread-local or shared state, and allocates with
    // the global Rust allocator, so using and freeing it on another thread is fine.
    unsafe impl Send for RawInflate {}

    impl RawInflate {
        pub fn new() -> io::Result<Self> {
            let mut strm = Box::new(z::z_stream::default());
            let size = std::mem::size_of::<z::z_stream>() as c_int;
            // SAFETY: `strm` is a valid z_stream with null buffers and the default allocator;
            // the version string and struct size are this library's own.
            let rc = unsafe { z::inflateInit2_(&mut *strm, RAW_WINDOW_BITS, z::zlibVersion(), size) };
            if rc != z::Z_OK {
                return Err(io::Error::other(format!("gzip: inflateInit2 failed (zlib error {rc})")));
            }
            Ok(RawInflate { strm })
        }

        /// Back to the start of a raw deflate stream, with an empty window.
        pub fn reset(&mut self) -> io::Result<()> {
            // SAFETY: the stream was initialised in `new` and is exclusively borrowed.
            let rc = unsafe { z::inflateReset2(&mut *self.strm, RAW_WINDOW_BITS) };
            check(rc, "inflateReset2")
        }

        /// Feeds `bits` (< 8) bits of `value` before the next input byte.
        pub fn prime(&mut self, bits: u32, value: u32) -> io::Result<()> {
            // SAFETY: as in `reset`; the arguments are plain integers (bits <= 16 is checked by zlib).
            let rc = unsafe { z::inflatePrime(&mut *self.strm, bits as c_int, value as c_int) };
            check(rc, "inflatePrime")
        }

        pub fn set_dictionary(&mut self, dictionary: &[u8]) -> io::Result<()> {
            // SAFETY: as in `reset`; the pointer and length describe a live slice, only read
            // during the call (at most 32 KiB, so the length fits).
            let rc =
                unsafe { z::inflateSetDictionary(&mut *self.strm, dictionary.as_ptr(), dictionary.len() as c_uint) };
            check(rc, "inflateSetDictionary")
        }

        pub fn inflate(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Step {
            let avail_in = input.len().min(c_uint::MAX as usize);
            let avail_out = output.len().min(c_uint::MAX as usize);
            let flush = match flush {
                Flush::None => z::Z_NO_FLUSH,
                Flush::Block => z::Z_BLOCK,
            };
            let strm = &mut *self.strm;
            strm.next_in = input.as_ptr();
            strm.avail_in = avail_in as c_uint;
            strm.next_out = output.as_mut_ptr();
            strm.avail_out = avail_out as c_uint;
            // SAFETY: the stream was initialised in `new` and is exclusively borrowed; next_in
            // and next_out describe live slices borrowed (output mutably) for this call only.
            // zlib copies what it needs into its own window, and the pointers are cleared below.
            let rc = unsafe { z::inflate(strm, flush) };
            let consumed = avail_in - strm.avail_in as usize;
            let produced = avail_out - strm.avail_out as usize;
            strm.next_in = ptr::null();
            strm.avail_in = 0;
            strm.next_out = ptr::null_mut();
            strm.avail_out = 0;
            let status = match rc {
                z::Z_OK => Status::Ok,
                z::Z_STREAM_END => Status::StreamEnd,
                z::Z_BUF_ERROR => Status::NoProgress,
                z::Z_DATA_ERROR | z::Z_NEED_DICT => Status::Corrupt(self.message()),
                other => Status::Failed(other),
            };
            Step { consumed, produced, status, data_type: self.strm.data_type }
        }

        /// zlib's description of the last error.
        fn message(&self) -> String {
            if self.strm.msg.is_null() {
                return "no details".to_owned();
            }
            // SAFETY: zlib sets `msg` to null or to a static NUL-terminated string.
            let msg = unsafe { CStr::from_ptr(self.strm.msg) };
            msg.to_string_lossy().into_owned()
        }
    }

    impl Drop for RawInflate {
        fn drop(&mut self) {
            // SAFETY: the stream was initialised in `new` and is not used again.
            unsafe { z::inflateEnd(&mut *self.strm) };
        }
    }

    fn check(rc: c_int, call: &str) -> io::Result<()> {
        if rc == z::Z_OK {
            Ok(())
        } else {
            Err(io::Error::other(format!("gzip: {call} failed (zlib error {rc})")))
        }
    }

    /// Continues the CRC-32 `crc` over `data`.
    pub(super) fn crc32(crc: u32, data: &[u8]) -> u32 {
        // SAFETY: the pointer and length describe a live slice, only read during the call.
        unsafe { z::crc32_z(c_ulong::from(crc), data.as_ptr(), data.len()) as u32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder};
    use flate2::Compression;
    use std::io::Write;

    /// xorshift64*: deterministic test randomness without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// Compressible pseudo-text: skewed choices from a random vocabulary, so deflate blocks
    /// end at arbitrary bit positions.
    fn pseudo_text(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed | 1);
        let vocabulary: Vec<Vec<u8>> =
            (0..2000).map(|_| (0..2 + rng.below(9)).map(|_| b'a' + rng.below(26) as u8).collect()).collect();
        let mut text = Vec::with_capacity(len + 16);
        while text.len() < len {
            let skewed = rng.below(2000) * rng.below(2000) / 2000;
            text.extend_from_slice(&vocabulary[skewed as usize]);
            text.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
        }
        text.truncate(len);
        text
    }

    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed | 1);
        (0..len).map(|_| rng.next() as u8).collect()
    }

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// A member with every optional header field, including the header CRC.
    fn gzip_with_all_header_fields(data: &[u8]) -> Vec<u8> {
        let mut member = vec![0x1f, 0x8b, 8, 0x1f, 1, 2, 3, 4, 0, 3];
        member.extend_from_slice(&[5, 0, b'A', b'P', 1, 0, 7]);
        member.extend_from_slice(b"layer.tar\0a comment\0");
        let hcrc = ffi::crc32(0, &member) as u16;
        member.extend_from_slice(&hcrc.to_le_bytes());
        let mut encoder = DeflateEncoder::new(member, Compression::new(6));
        encoder.write_all(data).unwrap();
        let mut member = encoder.finish().unwrap();
        member.extend_from_slice(&ffi::crc32(0, data).to_le_bytes());
        member.extend_from_slice(&(data.len() as u32).to_le_bytes());
        member
    }

    fn flate2_decode(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(gz).read_to_end(&mut out).unwrap();
        out
    }

    fn seeker(gz: Vec<u8>, span: u64) -> GzipSeeker {
        GzipSeeker::with_span(Arc::new(gz), span)
    }

    fn index_fully(seeker: &GzipSeeker, gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seeker.indexing_reader(gz).read_to_end(&mut out).unwrap();
        out
    }

    fn read_exact_at(seeker: &GzipSeeker, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len];
        let n = seeker.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Reads random ranges (some running past the end) and compares them with `expected`.
    fn check_random_reads(seeker: &GzipSeeker, expected: &[u8], reads: usize, seed: u64) {
        let mut rng = Rng(seed);
        let len = expected.len() as u64;
        for _ in 0..reads {
            let offset = rng.below(len + 1000);
            let max_len = if rng.below(4) == 0 { 300_000 } else { 5000 };
            let want = 1 + rng.below(max_len) as usize;
            let got = read_exact_at(seeker, offset, want).unwrap();
            let start = offset.min(len) as usize;
            let end = (start + want).min(expected.len());
            assert!(got == expected[start..end], "mismatch reading {want} bytes at {offset}");
        }
    }

    impl GzipSeeker {
        fn checkpoints(&self) -> Vec<(u64, u64, usize)> {
            let index = lock(&self.index);
            index.points.iter().map(|p| (p.out, p.in_bit, p.window.len())).collect()
        }

        fn span(&self) -> u64 {
            lock(&self.index).span
        }
    }

    fn assert_spaced(points: &[(u64, u64, usize)], span: u64) {
        for pair in points.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= span, "checkpoints {pair:?} closer than {span}");
        }
    }

    #[test]
    fn seeker_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<GzipSeeker>();
    }

    #[test]
    fn random_reads_after_indexing_match_flate2() {
        let data = pseudo_text(6 << 20, 1);
        let gz = gzip(&data, 6);
        let seeker = seeker(gz.clone(), 64 << 10);
        assert_eq!(seeker.uncompressed_len(), None);
        assert!(index_fully(&seeker, &gz) == data);
        assert_eq!(seeker.uncompressed_len(), Some(data.len() as u64));

        let points = seeker.checkpoints();
        assert!(points.len() > 40, "only {} checkpoints", points.len());
        assert!(points.iter().any(|p| p.1 % 8 != 0), "no checkpoint inside a byte");
        assert!(points.iter().all(|p| p.2 == WINDOW));
        assert_spaced(&points, 64 << 10);

        assert!(flate2_decode(&gz) == data);
        check_random_reads(&seeker, &data, 300, 7);
        assert_eq!(seeker.checkpoints().len(), points.len(), "reads added checkpoints between indexed ones");
    }

    #[test]
    fn lazy_reads_without_indexing_pass() {
        let data = pseudo_text(4 << 20, 2);
        let gz = gzip(&data, 9);
        let seeker = seeker(gz, 64 << 10);
        // Start in the middle, then jump around: checkpoints are built on the way.
        let middle = read_exact_at(&seeker, 2 << 20, 1000).unwrap();
        assert!(middle == data[2 << 20..(2 << 20) + 1000]);
        assert!(!seeker.checkpoints().is_empty());
        assert_eq!(seeker.uncompressed_len(), None);
        check_random_reads(&seeker, &data, 200, 8);
        assert_spaced(&seeker.checkpoints(), seeker.span());
        // Reading to the end learns the length.
        let tail = read_exact_at(&seeker, data.len() as u64 - 10, 100).unwrap();
        assert!(tail == data[data.len() - 10..]);
        assert_eq!(seeker.uncompressed_len(), Some(data.len() as u64));
    }

    #[test]
    fn sequential_small_reads_reuse_a_cursor() {
        let data = pseudo_text(3 << 20, 3);
        let seeker = seeker(gzip(&data, 6), 256 << 10);
        let mut out = Vec::new();
        let mut buf = vec![0; 4096];
        loop {
            let n = seeker.read_at(&mut buf, out.len() as u64).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert!(out == data);
        assert_eq!(lock(&seeker.pool).idle.len(), 1, "sequential reads should share one cursor");
    }

    #[test]
    fn multi_member_reads_cross_boundaries() {
        let parts = [
            pseudo_text(700_000, 4),
            Vec::new(),
            random_bytes(300_000, 5),
            pseudo_text(1 << 20, 6),
            pseudo_text(123, 7),
            pseudo_text(500_000, 8),
        ];
        let mut gz = gzip(&parts[0], 6);
        gz.extend(gzip(&parts[1], 6));
        gz.extend(gzip(&parts[2], 6));
        gz.extend(gzip_with_all_header_fields(&parts[3]));
        gz.extend(gzip(&parts[4], 1));
        gz.extend(gzip(&parts[5], 0)); // stored blocks only
        let data = parts.concat();
        assert!(flate2_decode(&gz) == data);

        let lazy = seeker(gz.clone(), 32 << 10);
        let mut boundary = 0;
        for part in &parts {
            boundary += part.len();
            let start = boundary.saturating_sub(1000);
            let got = read_exact_at(&lazy, start as u64, 2000).unwrap();
            assert!(got == data[start..(start + 2000).min(data.len())], "across boundary at {boundary}");
        }
        check_random_reads(&lazy, &data, 200, 9);

        let indexed = seeker(gz.clone(), 32 << 10);
        assert!(index_fully(&indexed, &gz) == data);
        let points = indexed.checkpoints();
        assert!(points.len() > 25, "{} checkpoints", points.len());
        // Checkpoints early in a member must not carry the previous member's output.
        assert!(points.iter().any(|p| p.2 < WINDOW));
        check_random_reads(&indexed, &data, 200, 10);
    }

    #[test]
    fn reads_at_and_past_the_end() {
        let data = pseudo_text(200_000, 11);
        let seeker = seeker(gzip(&data, 6), 16 << 10);
        let len = data.len() as u64;
        let mut buf = [0u8; 100];
        assert_eq!(seeker.read_at(&mut buf, len + 5).unwrap(), 0); // before the length is known
        assert_eq!(seeker.uncompressed_len(), Some(len));
        assert_eq!(seeker.read_at(&mut buf, len).unwrap(), 0);
        assert_eq!(seeker.read_at(&mut buf, u64::MAX).unwrap(), 0);
        assert_eq!(seeker.read_at(&mut buf, len - 30).unwrap(), 30);
        assert!(buf[..30] == data[data.len() - 30..]);
        assert_eq!(seeker.read_at(&mut [], 0).unwrap(), 0);
    }

    #[test]
    fn concurrent_reads_from_eight_threads() {
        let data = Arc::new(pseudo_text(4 << 20, 12));
        let gz = gzip(&data, 6);
        let seeker = Arc::new(seeker(gz.clone(), 64 << 10));
        let mut threads = Vec::new();
        for t in 0..8u64 {
            let (seeker, data) = (Arc::clone(&seeker), Arc::clone(&data));
            threads.push(std::thread::spawn(move || check_random_reads(&seeker, &data, 60, 100 + t)));
        }
        // An indexing pass at the same time.
        assert!(index_fully(&seeker, &gz) == *data);
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(lock(&seeker.pool).idle.len() <= MAX_IDLE_CURSORS);
        assert_spaced(&seeker.checkpoints(), seeker.span());
        check_random_reads(&seeker, &data, 50, 200);
    }

    #[test]
    fn truncated_input_is_unexpected_eof() {
        let data = pseudo_text(300_000, 13);
        let mut gz = gzip(&data, 6);
        gz.extend(gzip(&data[..1000], 6));
        let cuts = [0, 1, 5, 10, 11, 2000, gz.len() / 2, gz.len() - 30, gz.len() - 4, gz.len() - 1];
        for cut in cuts {
            let short = gz[..cut].to_vec();
            let mut out = Vec::new();
            let err = seeker(short.clone(), 16 << 10).indexing_reader(&short[..]).read_to_end(&mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}: {err}");
            assert!(err.to_string().contains("compressed offset"), "{err}");

            let lazy = seeker(short, 16 << 10);
            let err = read_exact_at(&lazy, 0, data.len() + 2000).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}: {err}");
        }
    }

    #[test]
    fn truncated_input_after_checkpoint() {
        // The error must also come from a cursor resumed at a checkpoint.
        let data = pseudo_text(2 << 20, 14);
        let gz = gzip(&data, 6);
        let full = seeker(gz.clone(), 64 << 10);
        index_fully(&full, &gz);
        let last = *full.checkpoints().last().unwrap();
        let cut = (last.1 / 8 + 100) as usize;
        let lazy = seeker(gz[..cut].to_vec(), 64 << 10);
        lock(&lazy.index).points = lock(&full.index).points.clone();
        let err = read_exact_at(&lazy, last.0 + 1, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    }

    fn index_error(gz: Vec<u8>) -> io::Error {
        let seeker = seeker(gz.clone(), 16 << 10);
        let mut out = Vec::new();
        let err = seeker.indexing_reader(&gz[..]).read_to_end(&mut out).unwrap_err();
        err
    }

    #[test]
    fn corrupt_input_is_invalid_data() {
        let data = pseudo_text(300_000, 15);
        let good = gzip(&data, 6);
        let n = good.len();
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut bad = good.clone();
        bad[0] = 0x1e;
        cases.push(("bad magic", bad));
        let mut bad = good.clone();
        bad[2] = 7;
        cases.push(("compression method", bad));
        let mut bad = good.clone();
        bad[3] = 0x80;
        cases.push(("reserved flags", bad));
        let mut bad = good.clone();
        bad[10] = 0x07; // final block of the reserved type 3
        cases.push(("invalid deflate data", bad));
        let mut bad = good.clone();
        bad[n - 8] ^= 1;
        cases.push(("CRC-32 mismatch", bad));
        let mut bad = good.clone();
        bad[n - 3] ^= 1;
        cases.push(("length mismatch", bad));
        let mut bad = good.clone();
        bad.extend_from_slice(b"garbage!");
        cases.push(("trailing data", bad));
        let mut bad = gzip_with_all_header_fields(b"hello");
        bad[30] ^= 1;
        cases.push(("header CRC", bad));

        for (what, gz) in cases {
            let err = index_error(gz.clone());
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{what}: {err}");
            assert!(err.to_string().contains(what), "{what}: {err}");
            assert!(err.to_string().contains("compressed offset"), "{what}: {err}");
            let err = read_exact_at(&seeker(gz, 16 << 10), 0, data.len() + 100).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{what}: {err}");
        }
    }

    #[test]
    fn flipped_bytes_never_pass_or_panic() {
        let data = pseudo_text(200_000, 16);
        let good = gzip(&data, 6);
        let mut rng = Rng(17);
        for _ in 0..100 {
            let mut bad = good.clone();
            let at = 10 + rng.below(bad.len() as u64 - 18) as usize;
            bad[at] ^= 1 << rng.below(8);
            let err = index_error(bad);
            assert!(
                matches!(err.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof),
                "flip at {at}: {err}"
            );
        }
    }

    #[test]
    fn corruption_found_when_resuming_from_checkpoint() {
        // The trailer CRC is checked even when decoding started at a checkpoint.
        let data = pseudo_text(1 << 20, 18);
        let gz = gzip(&data, 6);
        let good = seeker(gz.clone(), 64 << 10);
        index_fully(&good, &gz);
        let mut bad_gz = gz.clone();
        let n = bad_gz.len();
        bad_gz[n - 6] ^= 0x40;
        let bad = seeker(bad_gz, 64 << 10);
        lock(&bad.index).points = lock(&good.index).points.clone();
        let last = *good.checkpoints().last().unwrap();
        assert!(read_exact_at(&bad, last.0, 10).is_ok(), "the trailer is not needed yet");
        let err = read_exact_at(&bad, last.0, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }

    /// Writes deflate bits least significant first.
    struct BitWriter {
        bytes: Vec<u8>,
        bits: u32,
    }

    impl BitWriter {
        fn put(&mut self, value: u32, count: u32) {
            for i in 0..count {
                if self.bits & 7 == 0 {
                    self.bytes.push(0);
                }
                let last = self.bytes.len() - 1;
                self.bytes[last] |= (((value >> i) & 1) as u8) << (self.bits % 8);
                self.bits += 1;
            }
        }

        /// An empty block with fixed codes: header, then end-of-block (code 256, 7 zero bits).
        fn empty_fixed_block(&mut self) {
            self.put(0b010, 3);
            self.put(0, 7);
        }

        fn stored_block(&mut self, data: &[u8], last: bool) {
            self.put(u32::from(last), 3);
            self.bits = self.bytes.len() as u32 * 8;
            self.bytes.extend_from_slice(&(data.len() as u16).to_le_bytes());
            self.bytes.extend_from_slice(&(!(data.len() as u16)).to_le_bytes());
            self.bytes.extend_from_slice(data);
            self.bits = self.bytes.len() as u32 * 8;
        }
    }

    /// Runs of empty blocks need no input bytes to decode once zlib has buffered their bits,
    /// so inflate returns Z_BUF_ERROR (no bytes in or out) although it made progress.
    #[test]
    fn runs_of_empty_blocks() {
        let data = pseudo_text(200_000, 21);
        let mut deflate = BitWriter { bytes: Vec::new(), bits: 0 };
        for chunk in data.chunks(20_000) {
            for _ in 0..30 {
                deflate.empty_fixed_block();
            }
            deflate.stored_block(chunk, false);
        }
        for _ in 0..30 {
            deflate.empty_fixed_block();
        }
        deflate.stored_block(&[], true);
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(&deflate.bytes);
        gz.extend_from_slice(&ffi::crc32(0, &data).to_le_bytes());
        gz.extend_from_slice(&(data.len() as u32).to_le_bytes());
        assert!(flate2_decode(&gz) == data);
        for span in [1, 5000, 1 << 20] {
            let seeker = seeker(gz.clone(), span);
            assert!(index_fully(&seeker, &gz) == data, "span {span}");
            check_random_reads(&seeker, &data, 50, 22);
            let lazy = GzipSeeker::with_span(Arc::new(gz.clone()), span);
            check_random_reads(&lazy, &data, 50, 23);
            for chunk in [1, 2, 3, 5, 8, 13] {
                let seeker = GzipSeeker::with_span(Arc::new(Dribble(gz.clone(), chunk)), span);
                let mut out = Vec::new();
                seeker.indexing_reader(Dribble(&gz[..], chunk)).read_to_end(&mut out).unwrap();
                assert!(out == data, "chunk {chunk}");
            }
        }
    }

    /// A source that returns a few bytes per call.
    struct Dribble<T>(T, usize);

    impl<R: Read> Read for Dribble<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    impl BlobSource for Dribble<Vec<u8>> {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }

        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read_at(&mut buf[..n], offset)
        }
    }

    #[test]
    fn short_reads_from_the_source() {
        let data = pseudo_text(300_000, 24);
        let mut gz = gzip_with_all_header_fields(&data[..100_000]);
        gz.extend(gzip(&data[100_000..], 6));
        for chunk in [1, 3, 7, 9, 1000] {
            let seeker = GzipSeeker::with_span(Arc::new(Dribble(gz.clone(), chunk)), 16 << 10);
            let mut out = Vec::new();
            seeker.indexing_reader(Dribble(&gz[..], chunk)).read_to_end(&mut out).unwrap();
            assert!(out == data, "chunk {chunk}");
            check_random_reads(&seeker, &data, 20, 25);
            let lazy = GzipSeeker::with_span(Arc::new(Dribble(gz.clone(), chunk)), 16 << 10);
            check_random_reads(&lazy, &data, 20, 26);
        }
    }

    #[test]
    fn index_admit_and_thin() {
        let point = |out| Checkpoint { out, in_bit: 0, member_out: 0, crc: 0, window: Box::new([]) };
        let mut index = Index { span: 10, max_points: 4, points: Vec::new(), total_len: None };
        assert_eq!(index.admit(5), Err(0), "too close to the start");
        assert_eq!(index.admit(10), Ok(0));
        index.insert(0, point(10));
        assert_eq!(index.admit(10), Err(10));
        assert_eq!(index.admit(25), Ok(1));
        index.insert(1, point(25));
        assert_eq!(index.admit(17), Err(10), "too close to the previous one");
        assert_eq!(index.admit(20), Err(25), "too close to the next one");
        for out in [40, 50] {
            let slot = index.admit(out).unwrap();
            index.insert(slot, point(out));
        }
        assert_eq!(index.points.len(), 4);
        assert_eq!(index.span, 10);
        index.insert(4, point(60));
        let kept: Vec<u64> = index.points.iter().map(|p| p.out).collect();
        assert_eq!(kept, [10, 40, 60]);
        assert_eq!(index.span, 20);
        assert_eq!(index.nearest_at_or_before(39).map(|p| p.out), Some(10));
        assert_eq!(index.nearest_at_or_before(9).map(|p| p.out), None);
    }

    #[test]
    fn checkpoint_cap_thins_and_doubles_span() {
        let data = pseudo_text(6 << 20, 19);
        let gz = gzip(&data, 6);
        let seeker = GzipSeeker::with_limits(Arc::new(gz.clone()), 32 << 10, 8);
        assert!(index_fully(&seeker, &gz) == data);
        let points = seeker.checkpoints();
        assert!(points.len() <= 8 && points.len() >= 3, "{} checkpoints", points.len());
        assert!(seeker.span() >= 256 << 10, "span {}", seeker.span());
        assert_spaced(&points, seeker.span());
        check_random_reads(&seeker, &data, 100, 20);
        assert!(seeker.checkpoints().len() <= 8);
    }
}
